import Foundation
import HubCore
import Testing
@testable import SMSAdapter

/// Signatures, segments, keywords, receipts and numbers: the SMS channel's pure rules.
/// Expected signatures were computed outside Swift, with Python's `hmac`/`hashlib`, from the documented algorithms.
@Suite struct SMSRulesTests {
    static let twilioParameters = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
                                   ("From", "+12349013030"), ("To", "+18005551212")]

    @Test func twilioSignsTheURLAndTheSortedParameters() {
        let url = "https://example.com/myapp.php?foo=1&bar=2"
        #expect(TwilioSignature.sign(authToken: "12345", url: url, parameters: Self.twilioParameters) == "vNe7KK2kJwCsxc9K3OLkkKB3qqI=")
        #expect(TwilioSignature.verify("vNe7KK2kJwCsxc9K3OLkkKB3qqI=", authToken: "12345", url: url, parameters: Self.twilioParameters.reversed()))
        #expect(!TwilioSignature.verify("vNe7KK2kJwCsxc9K3OLkkKB3qqI=", authToken: "12346", url: url, parameters: Self.twilioParameters))
        var tampered = Self.twilioParameters
        tampered[2].1 = "1235"
        #expect(!TwilioSignature.verify("vNe7KK2kJwCsxc9K3OLkkKB3qqI=", authToken: "12345", url: url, parameters: tampered))
    }

    @Test func twilioSignaturesSurviveAProxyAddingOrDroppingTheDefaultPort() {
        // Signed by the provider with ":443"; the hub knows its URL without it, and the other way round.
        let withPort = "rRyApp2BmeNbfvDRorL/FjZz1XY="
        #expect(TwilioSignature.verify(withPort, authToken: "12345", url: "https://example.com/myapp.php?foo=1&bar=2", parameters: Self.twilioParameters))
        #expect(TwilioSignature.verify("vNe7KK2kJwCsxc9K3OLkkKB3qqI=", authToken: "12345", url: "https://example.com:443/myapp.php?foo=1&bar=2",
                                       parameters: Self.twilioParameters))
        #expect(!TwilioSignature.verify(withPort, authToken: "12345", url: "https://example.com:8443/myapp.php?foo=1&bar=2", parameters: Self.twilioParameters))
    }

    @Test func twilioJSONCallbacksAreSignedThroughBodySHA256() {
        let body = Array(#"{"property": "value", "boolean": true, "number": 42}"#.utf8)
        let url = "https://example.com/myapp?bodySHA256=3d2f5d4b40d6724bf322c4851714f183c02d6133975a5ab52afb65d45a3f3510"
        #expect(TwilioSignature.verify("NkRLv/FnYxdI9g1ew3lJuqZ7XSQ=", authToken: "12345", url: url, parameters: [], rawBody: body))
        #expect(!TwilioSignature.verify("NkRLv/FnYxdI9g1ew3lJuqZ7XSQ=", authToken: "12345", url: url, parameters: [], rawBody: body + [0x20]))
    }

    @Test func vonageSignsSortedEscapedParameters() {
        let parameters = ["msisdn": "447700900001", "to": "447700900000", "messageId": "0A0000000123ABCD1", "text": "Hello=world&more",
                          "type": "text", "keyword": "HELLO", "message-timestamp": "2026-11-23 10:00:00", "timestamp": "1795000000", "nonce": "abc-123"]
        #expect(VonageSignature.sign(parameters, secret: "s3cr3t", method: .md5hash) == "daf54039b6951f6f616fea9c05f901d1")
        #expect(VonageSignature.sign(parameters, secret: "s3cr3t", method: .sha256) == "e1f5e20afcb9325e580fcd67dfca1f4fb6e592c872280cd2a327091be5accc89")
        #expect(VonageSignature.sign(parameters, secret: "s3cr3t", method: .md5) == "8e8c922a72f53fe18e3585a24bd6ffac")
        var signed = parameters
        signed["sig"] = "DAF54039B6951F6F616FEA9C05F901D1"
        #expect(VonageSignature.verify(signed, secret: "s3cr3t", method: .md5hash), "compared case-insensitively")
        signed["text"] = "Hello"
        #expect(!VonageSignature.verify(signed, secret: "s3cr3t", method: .md5hash))
    }

    @Test(arguments: [
        ("", SMSSegments.Encoding.gsm7, 0, 1),
        (String(repeating: "a", count: 160), .gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        (String(repeating: "€", count: 80), .gsm7, 160, 1),
        (String(repeating: "{", count: 81), .gsm7, 162, 2),
        (String(repeating: "你", count: 70), .ucs2, 70, 1),
        (String(repeating: "你", count: 71), .ucs2, 71, 2),
        ("Hi 👋", .ucs2, 5, 1),
        // An escape and its character stay in one segment: 152 + € + 152 needs three.
        (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152), .gsm7, 306, 3),
        (String(repeating: "a", count: 66) + "👋" + String(repeating: "a", count: 66), .ucs2, 134, 3),
    ])
    func segmentsFollowGSM7AndUCS2(text: String, encoding: SMSSegments.Encoding, characters: Int, segments: Int) {
        let counted = SMSSegments(text)
        #expect(counted.encoding == encoding)
        #expect(counted.characters == characters)
        #expect(counted.segments == segments)
    }

    @Test func keywordsAreWholeMessagesInAnyCase() {
        #expect(SMSKeyword.classify(" stop ") == .optOut)
        #expect(SMSKeyword.classify("Unsubscribe") == .optOut)
        #expect(SMSKeyword.classify("START") == .optIn)
        #expect(SMSKeyword.classify("info") == .help)
        #expect(SMSKeyword.classify("please stop") == nil)
        #expect(SMSKeyword.classify("stopping") == nil)
    }

    @Test func receiptsOnlyMoveAMessageForward() {
        #expect(DeliveryState.sent.advanced(to: .delivered) == .delivered)
        #expect(DeliveryState.delivered.advanced(to: .sent) == .delivered)
        #expect(DeliveryState.queued.advanced(to: .undelivered) == .undelivered)
        #expect(DeliveryState.failed.advanced(to: .delivered) == .failed)
        #expect(ProviderStatus.twilio("read", errorCode: nil)?.0 == .delivered)
        #expect(ProviderStatus.twilio("undelivered", errorCode: "30003")?.1 == "30003: provider error")
        #expect(ProviderStatus.vonage("expired", errorCode: "5")?.0 == .undelivered)
    }

    @Test(arguments: 0..<20)
    func anyOrderOfReceiptsEndsInTheFurthestState(seed: Int) {
        // Property: however callbacks are reordered or repeated, the result is the first final report, else the furthest.
        var generator = SystemRandomNumberGenerator()
        let reports: [DeliveryState] = [.queued, .sending, .sent, .delivered, .sent, .queued].shuffled(using: &generator)
        let final = reports.reduce(DeliveryState.queued) { $0.advanced(to: $1) }
        #expect(final == .delivered, "\(reports)")
    }

    @Test func numbersBecomeE164() throws {
        #expect(try Address.phone("(415) 555-0100", defaultRegion: "US") == "+14155550100")
        #expect(try Address.phone("1 415 555 0100", defaultRegion: "us") == "+14155550100")
        #expect(try Address.phone("07700 900123", defaultRegion: "GB") == "+447700900123")
        #expect(try Address.phone("0044 7700 900123", defaultRegion: nil) == "+447700900123")
        #expect(try Address.phone("+86 138 0013 8000", defaultRegion: "US") == "+8613800138000")
        #expect(throws: ValidationError.self) { try Address.phone("555-0100", defaultRegion: nil) }
    }

    @Test func marketingNeedsConsentAndAStopStopsWhatItCovers() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func entry(_ purpose: ConsentPurpose, _ state: ConsentState) -> ConsentRecord {
            ConsentRecord(customerId: "c", channel: .sms, address: "+1", purpose: purpose, state: state, source: .keyword, evidence: nil, createdAt: now)
        }
        #expect(ConsentRecord.refusal(for: .marketing, latest: []) != nil)
        #expect(ConsentRecord.refusal(for: .reply, latest: []) == nil)
        #expect(ConsentRecord.refusal(for: .marketing, latest: [entry(.marketing, .optedIn)]) == nil)
        let stopped = [entry(.marketing, .optedOut), entry(.transactional, .optedOut)]
        #expect(ConsentRecord.refusal(for: .marketing, latest: stopped)?.contains("opted out") == true)
        #expect(ConsentRecord.refusal(for: .transactional, latest: stopped) != nil)
        #expect(ConsentRecord.refusal(for: .system, latest: stopped) == nil, "the opt-out confirmation itself goes")
        #expect(ConsentRecord.refusal(for: .reply, latest: [entry(.marketing, .optedOut)]) == nil)
    }
}
