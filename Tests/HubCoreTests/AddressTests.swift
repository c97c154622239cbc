import HubCore
import TestSupport
import Testing

@Suite("Address normalization")
struct AddressTests {
    // MARK: Email

    @Test("email: the domain is lowercased, the local part kept as written", arguments: [
        ("Alice.Smith@Example.COM", "Alice.Smith@example.com"),
        ("  bob@EXAMPLE.org \n", "bob@example.org"),
        ("Carol+Orders@Mail.Example.NET", "Carol+Orders@mail.example.net"),
        ("Zoë@Bücher.DE", "Zoë@bücher.de"),
    ])
    func emailDomainIsLowercased(raw: String, expected: String) throws {
        #expect(try Address.normalize(raw, on: .email) == expected)
    }

    @Test("email: malformed addresses are rejected", arguments: [
        "",
        "   ",
        "alice",
        "@example.com",
        "alice@",
        "al ice@example.com",
        "alice@exa mple.com",
        "alice@example.com\u{7}",
    ])
    func malformedEmailIsRejected(raw: String) {
        let error = #expect(throws: ValidationError.self) { try Address.normalize(raw, on: .email) }
        #expect(error?.field == "from")
    }

    @Test("email: an unquoted '@' in the local part is not an address")
    func emailWithTwoAtSigns() {
        // RFC 5321 allows '@' in a local part only inside quotes; "alice@evil.example@example.com"
        // is accepted today with the local part "alice@evil.example".
        #expect(throws: ValidationError.self) { try Address.normalize("alice@evil.example@example.com", on: .email) }
    }

    // MARK: Phone

    @Test("sms: separators are removed and the result is E.164", arguments: [
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("+49.30.901820", "+4930901820"),
        ("  +12345678  ", "+12345678"),
        ("+123456789012345", "+123456789012345"),
    ])
    func phoneIsNormalized(raw: String, expected: String) throws {
        #expect(try Address.normalize(raw, on: .sms) == expected)
    }

    @Test("sms: numbers that are not E.164 are rejected", arguments: [
        "+1234567",  // 7 digits: too short
        "+1234567890123456",  // 16 digits: too long
        "+0123456789",  // a country code never starts with 0
        "14155552671",  // no leading plus
        "1+4155552671",  // plus not first
        "++14155552671",
        "+1 415 CALL NOW",
        "+１４１５５５５２６７１",  // full-width digits
        "+",
        "",
    ])
    func badPhoneIsRejected(raw: String) {
        let error = #expect(throws: ValidationError.self) { try Address.normalize(raw, on: .sms) }
        #expect(error?.field == "from")
    }

    // MARK: API and web chat

    @Test("api and webchat: surrounding whitespace is trimmed, the rest kept", arguments: [Channel.api, Channel.webchat])
    func opaqueAddressesAreTrimmed(channel: Channel) throws {
        #expect(try Address.normalize("  visitor-7F3a  ", on: channel) == "visitor-7F3a")
        #expect(try Address.normalize("\tExt User 42\n", on: channel) == "Ext User 42")
    }

    @Test("every channel: blank addresses are rejected", arguments: Channel.allCases)
    func blankIsRejected(channel: Channel) {
        for raw in ["", " ", "\n\t "] {
            let error = #expect(throws: ValidationError.self) { try Address.normalize(raw, on: channel) }
            #expect(error?.field == "from")
        }
    }

    @Test("api: at most 320 bytes")
    func lengthLimit() throws {
        let longest = String(repeating: "a", count: 320)
        #expect(try Address.normalize(longest, on: .api) == longest)
        #expect(throws: ValidationError.self) { try Address.normalize(longest + "a", on: .api) }
        // Bytes, not characters: 161 two-byte characters are 322 bytes.
        #expect(throws: ValidationError.self) { try Address.normalize(String(repeating: "é", count: 161), on: .api) }
    }

    @Test("every channel: control characters inside an address are rejected", arguments: Channel.allCases)
    func controlCharactersAreRejected(channel: Channel) {
        let valid: String = switch channel {
        case .email: "ab@example.com"
        case .sms: "+14155552671"
        case .api, .webchat: "visitor-1"
        }
        for value: UInt32 in [0x00, 0x07, 0x0A, 0x0D, 0x1B, 0x7F, 0x85] {
            let control = Character(Unicode.Scalar(value)!)
            let raw = String(valid.prefix(2)) + String(control) + String(valid.dropFirst(2))
            let error = #expect(throws: ValidationError.self, "U+\(String(value, radix: 16))") {
                try Address.normalize(raw, on: channel)
            }
            #expect(error?.field == "from")
            #expect(error?.reason.contains("control") == true)
        }
    }
}

/// Properties checked over many generated inputs from a seeded generator.
@Suite("Address properties")
struct AddressPropertyTests {
    private static let separators = ["", "", "", " ", "-", ".", "(", ")"]

    /// A random valid E.164 number as digits, and a way a person might have typed it.
    private static func randomPhone(using rng: inout SplitMix64) -> (digits: String, typed: String) {
        let count = Int.random(in: 8...15, using: &rng)
        var digits = String(Int.random(in: 1...9, using: &rng))
        while digits.count < count { digits += String(Int.random(in: 0...9, using: &rng)) }
        var typed = "+"
        for digit in digits {
            typed += separators.randomElement(using: &rng)!
            typed.append(digit)
        }
        if Bool.random(using: &rng) { typed = "  " + typed + " " }
        return (digits, typed)
    }

    @Test("sms: normalization is idempotent and keeps exactly the digits")
    func phoneNormalizationIsIdempotent() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        for _ in 0..<2_000 {
            let (digits, typed) = Self.randomPhone(using: &rng)
            let once = try Address.normalize(typed, on: .sms)
            #expect(once == "+" + digits, "typed: \(typed)")
            let twice = try Address.normalize(once, on: .sms)
            #expect(twice == once, "typed: \(typed)")
        }
    }

    @Test("sms: too few or too many digits are always rejected")
    func phoneLengthBounds() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        for _ in 0..<500 {
            let count = Bool.random(using: &rng) ? Int.random(in: 1...7, using: &rng) : Int.random(in: 16...24, using: &rng)
            var digits = String(Int.random(in: 1...9, using: &rng))
            while digits.count < count { digits += String(Int.random(in: 0...9, using: &rng)) }
            #expect(throws: ValidationError.self, "digits: \(digits)") { try Address.normalize("+" + digits, on: .sms) }
        }
    }

    @Test("email: normalization is idempotent and only the domain changes")
    func emailNormalizationIsIdempotent() throws {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rng = SplitMix64(seed: 0x5EED_0003)
        func word(_ length: ClosedRange<Int>) -> String {
            String((0..<Int.random(in: length, using: &rng)).map { _ in letters.randomElement(using: &rng)! })
        }
        for _ in 0..<1_000 {
            let local = word(1...20) + (Bool.random(using: &rng) ? "." + word(1...8) : "")
            let domain = word(1...15) + "." + word(2...6)
            let once = try Address.normalize(local + "@" + domain, on: .email)
            #expect(once == local + "@" + domain.lowercased())
            #expect(try Address.normalize(once, on: .email) == once)
        }
    }
}
