import Foundation

/// A header block: its fields in order, each value unfolded but not yet decoded.
struct MailHeaders: Sendable {
    var fields: [(name: String, value: String)] = []

    /// The first raw value of a field, its name matched case-insensitively.
    func raw(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every raw value of a field, in order.
    func all(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// A field's first value with its encoded words decoded.
    func decoded(_ name: String) -> String? {
        raw(name).map { EncodedWord.decode($0).trimmingCharacters(in: .whitespaces) }
    }

    /// At most this many fields are kept: real mail has a few dozen, a hostile one may have millions.
    static let maxFields = 500

    /// Reads the header lines of `bytes`; a line that is neither a field nor a continuation ends the block
    /// where the parser would otherwise guess. 8-bit values are read as UTF-8, else Latin-1.
    static func parse(_ bytes: ArraySlice<UInt8>) -> MailHeaders {
        var headers = MailHeaders()
        var name: String?
        var value: [UInt8] = []

        func finish() {
            if let name, headers.fields.count < maxFields {
                headers.fields.append((name, Charset.decode(value, charset: nil).trimmingCharacters(in: .whitespaces)))
            }
            name = nil
            value = []
        }

        for line in lines(bytes) {
            if let first = line.first, first == 0x20 || first == 0x09 {
                // A folded continuation: the line break goes, the whitespace stays.
                if name != nil, value.count < 64 * 1024 { value += line }
                continue
            }
            finish()
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy({ $0 > 32 && $0 < 127 }) else { continue }
            name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            value = Array(line[(colon + 1)...].prefix(64 * 1024))
        }
        finish()
        return headers
    }

    /// Lines without their CR LF or LF.
    static func lines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                var end = index
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                result.append(bytes[start..<end])
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex { result.append(bytes[start..<bytes.endIndex]) }
        return result
    }

    /// Splits an entity at its first empty line into header and body; nil when no line of it is a header field.
    static func split(_ bytes: ArraySlice<UInt8>) -> (headers: ArraySlice<UInt8>, body: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        var lineStart = true
        while index < bytes.endIndex {
            if lineStart {
                if bytes[index] == 0x0A { return (bytes[bytes.startIndex..<index], bytes[(index + 1)...]) }
                if bytes[index] == 0x0D, index + 1 < bytes.endIndex, bytes[index + 1] == 0x0A {
                    return (bytes[bytes.startIndex..<index], bytes[(index + 2)...])
                }
            }
            lineStart = bytes[index] == 0x0A
            index += 1
        }
        return (bytes, bytes[bytes.endIndex...])
    }
}

/// A `Content-Type` or `Content-Disposition` value: the token and its parameters (RFC 2045, RFC 2231).
struct HeaderValue: Sendable {
    /// Lowercased: `text/plain`, `attachment`.
    var token: String
    /// Lowercased names; values unquoted, RFC 2231 continuations joined and charsets decoded.
    var parameters: [String: String]

    init(_ raw: String?) {
        let raw = raw ?? ""
        let pieces = Self.splitOutsideQuotes(raw, on: ";")
        token = (pieces.first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        var plain: [String: String] = [:]
        var extended: [String: [(index: Int, value: String, encoded: Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            }
            guard !name.isEmpty else { continue }
            if name.contains("*") {
                let encoded = name.hasSuffix("*")
                if encoded { name.removeLast() }
                let parts = name.split(separator: "*", maxSplits: 1)
                let base = String(parts.first ?? "")
                let index = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                extended[base, default: []].append((index, value, encoded))
            } else if plain[name] == nil {
                plain[name] = value
            }
        }
        for (name, pieces) in extended {
            // name*0*=charset'lang'%XX… then name*1*=%XX…, name*2=plain…
            var bytes: [UInt8] = []
            var charset: String?
            for (position, piece) in pieces.sorted(by: { $0.index < $1.index }).enumerated() {
                var value = Substring(piece.value)
                if piece.encoded && position == 0 {
                    let quoteParts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if quoteParts.count == 3 {
                        charset = String(quoteParts[0])
                        value = quoteParts[2]
                    }
                }
                bytes += piece.encoded ? Self.percentDecoded(value) : Array(value.utf8)
            }
            plain[name] = Charset.decode(bytes, charset: charset ?? "utf-8")
        }
        // Old mailers put encoded words in parameters (name="=?utf-8?B?…?="), which RFC 2047 forbids but clients read.
        parameters = plain.mapValues { EncodedWord.decode($0) }
    }

    private static func percentDecoded(_ value: Substring) -> [UInt8] {
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let byte = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                output.append(byte)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// Splits on `separator` where it is not inside double quotes.
    static func splitOutsideQuotes(_ text: String, on separator: Character) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" && quoted { escaped = true; current.append(character); continue }
            if character == "\"" { quoted.toggle() }
            if character == separator && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces
    }
}

extension MailAddress {
    /// The mailboxes of an address-list header (`To`, `From`, `Cc`): display names decoded, groups
    /// flattened, pieces without an `@` skipped.
    static func list(_ raw: String?) -> [MailAddress] {
        guard let raw, !raw.isEmpty else { return [] }
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var angle = 0
        var comment = 0
        for character in raw {
            switch character {
            case "\"" where comment == 0: quoted.toggle()
            case "<" where !quoted && comment == 0: angle += 1
            case ">" where !quoted && comment == 0: angle = max(0, angle - 1)
            case "(" where !quoted: comment += 1
            case ")" where !quoted: comment = max(0, comment - 1)
            default: break
            }
            if (character == "," || character == ";") && !quoted && angle == 0 && comment == 0 {
                pieces.append(current)
                current = ""
            } else if character == ":" && !quoted && angle == 0 && comment == 0 && !current.contains("@") {
                current = ""  // a group's name
            } else {
                current.append(character)
            }
            if pieces.count > 1_000 { break }
        }
        pieces.append(current)
        return pieces.compactMap(Self.mailbox)
    }

    private static func mailbox(_ piece: String) -> MailAddress? {
        let piece = piece.trimmingCharacters(in: .whitespacesAndNewlines)
        if let open = piece.lastIndex(of: "<"), let close = piece[open...].firstIndex(of: ">") {
            let address = piece[piece.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            guard address.contains("@") else { return nil }
            return MailAddress(address: address, name: displayName(String(piece[..<open])))
        }
        // `addr (Name)`, the old form.
        var address = piece
        var name: String?
        if let open = piece.firstIndex(of: "("), let close = piece.lastIndex(of: ")"), open < close {
            name = displayName(String(piece[piece.index(after: open)..<close]))
            address = String(piece[..<open]) + String(piece[piece.index(after: close)...])
        }
        address = address.trimmingCharacters(in: .whitespaces)
        guard address.contains("@"), !address.contains(where: \.isWhitespace) else { return nil }
        return MailAddress(address: address, name: name)
    }

    private static func displayName(_ raw: String) -> String? {
        var name = raw.trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
            name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
        }
        name = EncodedWord.decode(name).trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }
}

enum MessageIDs {
    /// The ids in a `Message-ID`, `In-Reply-To` or `References` value, without their angle brackets.
    static func parse(_ raw: String?) -> [String] {
        guard let raw else { return [] }
        var ids: [String] = []
        var rest = Substring(raw)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let id = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !id.isEmpty, id.count <= 998 { ids.append(id) }
            rest = rest[rest.index(after: close)...]
            if ids.count >= 100 { break }
        }
        if ids.isEmpty {
            ids = raw.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.contains("@") && $0.count <= 998 }
        }
        return ids
    }
}

enum MailDate {
    private static let formats = ["EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z", "EEE, d MMM yy HH:mm:ss Z"]

    /// An RFC 5322 date, tolerating a missing weekday and a trailing `(UTC)` comment.
    static func parse(_ raw: String?) -> Date? {
        guard var text = raw?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let comment = text.firstIndex(of: "(") { text = text[..<comment].trimmingCharacters(in: .whitespaces) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in formats {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A date as RFC 5322 writes it, in UTC (`Mon, 23 Nov 2026 16:29:55 +0000`); written by hand, since a
    /// `DateFormatter` costs more to make than the rest of a mail.
    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
