import Foundation
import TestSupport
import Testing
@testable import EmailAdapter

/// The parser against hostile and broken input: random bytes, thousands of mutations of every
/// corpus file (bit flips, insertions, deletions, truncations, duplicated and missing boundaries,
/// bare LFs), huge header lines and bodies, 200 and 1000 levels of nesting, thousands of parts.
/// Every input must come back as a message or a `MailError`: no crash, no hang, no output larger
/// than the input. The corpus also parses the same way twice, and header names are case-insensitive.
///
/// A crash cannot be reported as a failed expectation, so when EMAIL_FUZZ_LAST names a directory,
/// each input is written there before it is parsed: after a crash, the newest file is the culprit.
@Suite("MIME parser under fuzzing", .timeLimit(.minutes(1)))
struct MIMEFuzzTests {
    // MARK: - Harness

    /// Parses, then reads every property (some may be computed lazily) and checks the invariants
    /// that hold for any input. Returns whether the input was accepted as a message.
    static let dumpDirectory = ProcessInfo.processInfo.environment["EMAIL_FUZZ_LAST"]

    @discardableResult
    static func survive(_ bytes: [UInt8], _ label: @autoclosure () -> String) -> Bool {
        if let directory = dumpDirectory {
            let safe = label().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            try? Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(String(safe) + ".eml"))
        }
        let mail: ParsedEmail
        do {
            mail = try MIMEParser.parse(bytes)
        } catch {
            #expect(!String(describing: error).isEmpty, "\(label())")
            return false
        }
        _ = (mail.subject, mail.from, mail.to, mail.cc, mail.date, mail.html, mail.isAutomated, mail.deliveryReport)
        _ = (mail.header("Subject"), mail.header("content-type"), mail.header("X-Nothing"))
        let inputSize = bytes.count
        #expect(mail.visibleText.unicodeScalars.count <= mail.text.unicodeScalars.count, "\(label())")
        for attachment in mail.attachments {
            #expect(attachment.bytes.count <= inputSize, "\(label()): \(attachment.filename) decodes larger than the input")
        }
        for id in [mail.messageId].compactMap({ $0 }) + mail.inReplyTo + mail.references {
            #expect(id.utf8.count <= inputSize, "\(label())")
        }
        return true
    }

    static func randomBytes(count: Int, using rng: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Pieces that steer random input into the parser's interesting states.
    static let tokens: [String] = [
        "\r\n", "\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ":", ";", "=", "\"", "<", ">", "(", ")", "\\", "--", "--b", "--b--",
        "From: ", "To: ", "Cc: ", "Subject: ", "Message-ID: ", "In-Reply-To: ", "References: ", "Date: ", "MIME-Version: 1.0",
        "Content-Type: ", "multipart/mixed", "multipart/alternative", "multipart/related", "multipart/report",
        "message/rfc822", "message/delivery-status", "text/rfc822-headers", "text/plain", "text/html", "image/png",
        "; boundary=", "boundary=\"b\"", "; charset=", "utf-8", "gbk", "iso-2022-jp", "x-unknown", "; name=", "; filename*=utf-8''%E2%82",
        "filename*0*=", "filename*1*=", "Content-Transfer-Encoding: ", "base64", "quoted-printable", "8bit", "7bit", "binary",
        "Content-Disposition: attachment", "inline", "Content-ID: <x@y>", "report-type=delivery-status",
        "Final-Recipient: rfc822; a@b", "Action: failed", "Status: 5.1.1", "Diagnostic-Code: smtp; 550",
        "=?", "?=", "=?UTF-8?B?", "=?UTF-8?Q?", "=?gbk?B?", "=C3", "=A9", "=\r\n", "=XY", "==", "=3D", "QUJD", "////",
        "<p>", "</p>", "<br>", "<script>", "</script>", "<style>", "&amp;", "&#", "&#x1F600;", "&#99999999999;", "&", ";",
        "On Mon, 2 Nov 2026 at 10:00, A <a@b> wrote:", "> ", "-----Original Message-----", "________________________________",
        "Auto-Submitted: auto-replied", "Precedence: bulk", "\u{0}", "\u{FEFF}", "é", "你", "😀",
    ]

    static func tokenSoup(using rng: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...300, using: &rng) {
            if Int.random(in: 0..<10, using: &rng) == 0 {
                bytes += randomBytes(count: Int.random(in: 1...8, using: &rng), using: &rng)
            } else {
                bytes += Array(tokens.randomElement(using: &rng)!.utf8)
            }
        }
        return bytes
    }

    /// The delimiter lines of a message (lines starting with "--"), without their CRLF.
    static func delimiterLines(in bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: true)
            .map { Array($0.last == 0x0D ? $0.dropLast() : $0) }
            .filter { $0.count > 2 && $0[0] == 0x2D && $0[1] == 0x2D }
    }

    static let interestingBytes: [UInt8] = Array("\r\n\t =?-:;\"<>\\_%*'".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF, 0x1B]

    static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let delimiters = delimiterLines(in: input)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<11, using: &rng) {
            case 0 where !bytes.isEmpty:  // flip a bit
                bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty:  // overwrite with a byte the parser cares about
                bytes[position] = interestingBytes.randomElement(using: &rng)!
            case 2:  // insert random bytes
                bytes.insert(contentsOf: randomBytes(count: Int.random(in: 1...16, using: &rng), using: &rng), at: position)
            case 3 where !bytes.isEmpty:  // delete a run
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...64, using: &rng)))
            case 4:  // truncate
                bytes.removeSubrange(position..<bytes.count)
            case 5 where !bytes.isEmpty:  // duplicate a slice somewhere else
                let slice = Array(bytes[position..<min(bytes.count, position + Int.random(in: 1...512, using: &rng))])
                bytes.insert(contentsOf: slice, at: Int.random(in: 0...bytes.count, using: &rng))
            case 6 where !delimiters.isEmpty:  // a stray delimiter line, possibly a closing one
                var line = [0x0D, 0x0A] + delimiters.randomElement(using: &rng)!
                if Bool.random(using: &rng) { line += Array("--".utf8) }
                bytes.insert(contentsOf: line + [0x0D, 0x0A], at: position)
            case 7:  // a token from the soup
                bytes.insert(contentsOf: Array(tokens.randomElement(using: &rng)!.utf8), at: position)
            case 8:  // bare LF line ends
                bytes = bytes.filter { $0 != 0x0D }
            case 9:  // a long line
                bytes.insert(contentsOf: [UInt8](repeating: 0x41, count: Int.random(in: 1000...20000, using: &rng)), at: position)
            default:  // swap two halves
                bytes = Array(bytes[position...] + bytes[..<position])
            }
        }
        return bytes
    }

    /// Replaces every occurrence of `pattern` in `bytes` (byte-wise, left to right).
    static func replacing(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + pattern.count <= bytes.count, bytes[index..<index + pattern.count].elementsEqual(pattern) {
                out += replacement
                index += pattern.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    // MARK: - Random input

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        for round in 0..<400 {
            let bytes = Self.randomBytes(count: Int.random(in: 0...2048, using: &rng), using: &rng)
            Self.survive(bytes, "random-\(round)")
        }
    }

    @Test func tokenSoupNeverCrashes() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        for round in 0..<400 {
            var bytes = Self.tokenSoup(using: &rng)
            if round % 2 == 0 {  // half of them start like a message, so the body code runs too
                bytes = Array("From: a@example.test\r\nSubject: soup\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n".utf8) + bytes
            }
            Self.survive(bytes, "soup-\(round)")
        }
    }

    // MARK: - Mutations of the corpus

    @Test(arguments: Corpus.names)
    func mutationsNeverCrash(name: String) throws {
        let original = try Corpus.bytes(name)
        var rng = SplitMix64(seed: UInt64(Corpus.names.firstIndex(of: name)!) &+ 0xC0FFEE)
        for round in 0..<80 {
            Self.survive(Self.mutate(original, using: &rng), "\(name)-mutation-\(round)")
        }
    }

    @Test(arguments: Corpus.names)
    func truncationsNeverCrash(name: String) throws {
        let original = try Corpus.bytes(name)
        let step = max(1, original.count / 16)
        for end in stride(from: 0, through: original.count, by: step) {
            Self.survive(Array(original[..<end]), "\(name)-truncated-\(end)")
        }
        // Every cut inside the first header lines, where the state machine starts.
        for end in 0..<min(original.count, 60) {
            Self.survive(Array(original[..<end]), "\(name)-head-\(end)")
        }
    }

    @Test(arguments: Corpus.names)
    func brokenStructureNeverCrashes(name: String) throws {
        let original = try Corpus.bytes(name)
        let crlf: [UInt8] = [0x0D, 0x0A]
        var variants: [(String, [UInt8])] = [
            ("lf-only", original.filter { $0 != 0x0D }),
            ("cr-only", Self.replacing(crlf, with: [0x0D], in: original)),
            ("no-blank-line", Self.replacing(crlf + crlf, with: crlf, in: original)),
            ("nul-bytes", Self.replacing(Array(": ".utf8), with: [0x3A, 0x00, 0x20], in: original)),
            ("doubled", original + original),
        ]
        var seen = Set<[UInt8]>()
        for delimiter in Self.delimiterLines(in: original) where seen.insert(delimiter).inserted {
            let isClosing = delimiter.count > 4 && delimiter.suffix(2) == [0x2D, 0x2D]
            if isClosing {
                variants.append(("no-closing", Self.replacing(delimiter + crlf, with: [], in: original)))
                variants.append(("closing-first", Self.replacing(Array(delimiter.dropLast(2)) + crlf, with: delimiter + crlf, in: original)))
            } else {
                variants.append(("doubled-delimiter", Self.replacing(delimiter + crlf, with: delimiter + crlf + delimiter + crlf, in: original)))
                variants.append(("padded-delimiter", Self.replacing(delimiter + crlf, with: delimiter + Array("   \t".utf8) + crlf, in: original)))
                variants.append(("no-delimiter", Self.replacing(delimiter + crlf, with: [], in: original)))
            }
        }
        for (index, variant) in variants.enumerated() {
            Self.survive(variant.1, "\(name)-\(variant.0)-\(index)")
        }
    }

    // MARK: - Size and depth

    static func message(headers: String, body: [UInt8] = Array("body\r\n".utf8)) -> [UInt8] {
        Array((headers.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n\r\n").utf8) + body
    }

    @Test func hugeHeadersNeverCrashOrHang() {
        let megabyte = 1 << 20
        let cases: [(String, [UInt8])] = [
            ("subject-512KiB", Self.message(headers: "From: a@example.test\nSubject: " + String(repeating: "a", count: megabyte / 2))),
            ("subject-words", Self.message(headers: "Subject: " + String(repeating: "=?UTF-8?B?w6k=?= ", count: 30_000))),
            ("subject-unclosed-words", Self.message(headers: "Subject: " + String(repeating: "=?UTF-8?Q?", count: 30_000))),
            ("many-headers", Self.message(headers: String(repeating: "X-H: v\n", count: 30_000) + "Subject: last")),
            ("many-folds", Self.message(headers: "Subject: start" + String(repeating: "\n more", count: 30_000))),
            ("many-references", Self.message(headers: "References: " + String(repeating: "<a@b> ", count: 30_000))),
            ("many-addresses", Self.message(headers: "To: " + String(repeating: "\"A, B\" <a@b>, ", count: 20_000))),
            ("nested-comments", Self.message(headers: "From: " + String(repeating: "(", count: 100_000) + "a@b")),
            ("open-quote", Self.message(headers: "From: \"" + String(repeating: "\\\"", count: 50_000))),
            ("open-angle", Self.message(headers: "From: " + String(repeating: "<", count: 50_000))),
            ("huge-boundary", Self.message(headers: "Content-Type: multipart/mixed; boundary=\"" + String(repeating: "b", count: megabyte / 4) + "\"")),
            ("many-parameters", Self.message(headers: "Content-Type: text/plain" + String(repeating: "; p=v", count: 30_000))),
            ("many-2231-sections", Self.message(headers: "Content-Type: application/pdf"
                + (0..<10_000).map { "; name*\($0)*=%41" }.joined())),
            ("header-without-body", Array(("Subject: x\r\n" + String(repeating: "X-H: v\r\n", count: 5_000)).utf8)),
            ("base64-1MiB-one-line", Self.message(headers: "Content-Type: image/png; name=a.png\nContent-Transfer-Encoding: base64",
                                               body: [UInt8](repeating: 0x41, count: megabyte))),
            ("huge-qp-soft-breaks", Self.message(headers: "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable",
                                                  body: Array(String(repeating: "=\r\n", count: 100_000).utf8))),
            ("huge-html", Self.message(headers: "Content-Type: text/html", body: Array(String(repeating: "<div><p>&amp;", count: 40_000).utf8))),
            ("open-tag", Self.message(headers: "Content-Type: text/html", body: Array(("<" + String(repeating: "a ", count: 100_000)).utf8))),
            ("quote-lines", Self.message(headers: "Subject: q", body: Array(String(repeating: "> quoted\r\n", count: 40_000).utf8))),
        ]
        for (label, bytes) in cases {
            Self.survive(bytes, label)
        }
    }

    static func nestedMultipart(depth: Int, closed: Bool) -> [UInt8] {
        var text = "From: a@example.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"level0\"\r\n\r\n"
        for level in 0..<depth {
            text += "--level\(level)\r\nContent-Type: multipart/mixed; boundary=\"level\(level + 1)\"\r\n\r\n"
        }
        text += "--level\(depth)\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n"
        if closed {
            for level in stride(from: depth, through: 0, by: -1) {
                text += "--level\(level)--\r\n"
            }
        }
        return Array(text.utf8)
    }

    @Test(arguments: [200, 1000])
    func deepMultipartNestingNeverCrashes(depth: Int) {
        Self.survive(Self.nestedMultipart(depth: depth, closed: true), "multipart-depth-\(depth)")
        Self.survive(Self.nestedMultipart(depth: depth, closed: false), "multipart-depth-\(depth)-unclosed")
    }

    @Test(arguments: [200, 1000])
    func deepMessageNestingNeverCrashes(depth: Int) {
        var text = ""
        for level in 0..<depth {
            text += "From: level\(level)@example.test\r\nSubject: level \(level)\r\nContent-Type: message/rfc822\r\n\r\n"
        }
        text += "From: bottom@example.test\r\nSubject: bottom\r\n\r\nthe innermost body\r\n"
        Self.survive(Array(text.utf8), "rfc822-depth-\(depth)")
    }

    @Test func manySiblingPartsNeverCrash() {
        var text = "From: a@example.test\r\nSubject: wide\r\nContent-Type: multipart/mixed; boundary=\"w\"\r\n\r\n"
        for index in 0..<5000 {
            text += "--w\r\nContent-Type: application/octet-stream; name=\"f\(index).bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
        }
        text += "--w--\r\n"
        Self.survive(Array(text.utf8), "wide")
    }

    @Test func emptyAndOversizedInputIsRejected() {
        #expect(MIMEParser.maxBytes == 25 * 1024 * 1024)
        #expect(throws: MailError.self) { try MIMEParser.parse([]) }
        let oversized = Self.message(headers: "From: a@example.test\nSubject: big",
                                     body: [UInt8](repeating: 0x61, count: MIMEParser.maxBytes))
        #expect(oversized.count > MIMEParser.maxBytes)
        #expect(throws: MailError.self) { try MIMEParser.parse(oversized) }
    }

    // MARK: - Charset and encoded-word decoders alone

    @Test func charsetDecoderSurvivesGarbage() {
        let labels: [String?] = [nil, "", "utf-8", "UTF-8", "gbk", "gb2312", "x-gbk", "gb18030", "big5", "shift_jis", "iso-2022-jp",
                                 "euc-jp", "euc-kr", "koi8-r", "windows-1251", "cp1252", "iso-8859-15", "utf-16", "utf-7",
                                 "x-unknown", "utf-8\u{0}", "../../etc/passwd", String(repeating: "x", count: 5000)]
        var rng = SplitMix64(seed: 0x5EED_0003)
        for round in 0..<300 {
            let bytes = Self.randomBytes(count: Int.random(in: 0...512, using: &rng), using: &rng)
            let label = labels.randomElement(using: &rng)!
            _ = Charset.decode(bytes, charset: label)
            if label == nil, let valid = String(validating: bytes, as: UTF8.self) {
                #expect(Charset.decode(bytes, charset: nil) == valid, "round \(round)")
            }
        }
    }

    @Test func encodedWordDecoderSurvivesGarbage() {
        let pieces = ["=?", "?=", "?", "=", "UTF-8", "gbk", "iso-2022-jp", "x-nope", "B", "Q", "b", "q", "w6k=", "====", "=C3", "=A9", "=Z",
                      "_", " ", "\t", "\r\n ", "a", "é", "😀", "\u{0}", "*en", "''"]
        var rng = SplitMix64(seed: 0x5EED_0004)
        for _ in 0..<1000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                text += pieces.randomElement(using: &rng)!
            }
            _ = EncodedWord.decode(text)
            _ = EncodedWord.encode(text)
        }
    }

    // MARK: - Stability

    @Test(arguments: Corpus.names)
    func parsingIsDeterministic(name: String) throws {
        let bytes = try Corpus.bytes(name)
        let first = try MIMEParser.parse(bytes)
        let second = try MIMEParser.parse(bytes)
        #expect(first.subject == second.subject)
        #expect(first.text == second.text)
        #expect(first.visibleText == second.visibleText)
        #expect(first.html == second.html)
        #expect(first.from == second.from)
        #expect(first.to == second.to)
        #expect(first.messageId == second.messageId)
        #expect(first.references == second.references)
        #expect(first.date == second.date)
        #expect(first.attachments == second.attachments)
        #expect(first.deliveryReport == second.deliveryReport)
        #expect(first.isAutomated == second.isAutomated)
    }

    /// Header names in any case: the top-level header block lower-cased, then upper-cased, reads the same.
    @Test(arguments: Corpus.names)
    func headerNamesAreCaseInsensitive(name: String) throws {
        let bytes = try Corpus.bytes(name)
        let original = try MIMEParser.parse(bytes)
        let headerEnd = try #require(bytes.indices.first { index in
            index + 3 < bytes.count && bytes[index..<index + 4].elementsEqual([0x0D, 0x0A, 0x0D, 0x0A])
        })
        let lower: (UInt8) -> UInt8 = { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        let upper: (UInt8) -> UInt8 = { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }
        for transform in [lower, upper] {
            // Only the names change: each line's text up to its first colon, continuation lines untouched.
            var changed = bytes
            var lineStart = 0
            while lineStart < headerEnd {
                var index = lineStart
                let continuation = bytes[lineStart] == 0x20 || bytes[lineStart] == 0x09
                while index < headerEnd, bytes[index] != 0x3A, bytes[index] != 0x0D {
                    if !continuation { changed[index] = transform(bytes[index]) }
                    index += 1
                }
                while index < headerEnd, bytes[index] != 0x0A { index += 1 }
                lineStart = index + 1
            }
            let mail = try MIMEParser.parse(changed)
            #expect(mail.subject == original.subject, "\(name)")
            #expect(mail.from == original.from, "\(name)")
            #expect(mail.messageId == original.messageId, "\(name)")
            #expect(mail.references == original.references, "\(name)")
            #expect(mail.text == original.text, "\(name)")
            #expect(mail.isAutomated == original.isAutomated, "\(name)")
        }
    }
}
