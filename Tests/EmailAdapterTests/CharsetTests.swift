import Foundation
import Testing
@testable import EmailAdapter

/// MIME charset names, in any case and under their common aliases, decode to the right text; a
/// charset nobody knows falls back instead of failing. The byte vectors were produced with
/// Python's codecs (`"…".encode(codec)`), not typed by hand.
@Suite("MIME charsets")
struct CharsetTests {
    /// One charset label, bytes in that charset, and the text they stand for.
    struct Vector: Sendable, CustomTestStringConvertible {
        var charset: String
        var bytes: [UInt8]
        var expected: String
        var testDescription: String { "\(charset): \(expected)" }
    }

    static let vectors: [Vector] = [
        Vector(charset: "gb2312", bytes: [0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7], expected: "你好，世界"),
        Vector(charset: "GB2312", bytes: [0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7], expected: "你好，世界"),
        Vector(charset: "gbk", bytes: [0xCD, 0xF5, 0x86, 0xB4], expected: "王喆"),
        Vector(charset: "x-gbk", bytes: [0xCD, 0xF5, 0x86, 0xB4], expected: "王喆"),
        Vector(charset: "cp1252", bytes: [0x6E, 0x61, 0xEF, 0x76, 0x65, 0x20, 0x63, 0x61, 0x66, 0xE9, 0x20, 0x34, 0x32, 0x2C, 0x35, 0x30, 0x20, 0x80], expected: "naïve café 42,50 €"),
        Vector(charset: "Windows-1252", bytes: [0x93, 0x71, 0x75, 0x6F, 0x74, 0x65, 0x64, 0x94, 0x20, 0x96, 0x20, 0x74, 0x65, 0x78, 0x74], expected: "“quoted” – text"),
        Vector(charset: "iso-2022-jp", bytes: [0x1B, 0x24, 0x42, 0x24, 0x2A, 0x4C, 0x64, 0x24, 0x24, 0x39, 0x67, 0x24, 0x6F, 0x24, 0x3B, 0x1B, 0x28, 0x42], expected: "お問い合わせ"),
        Vector(charset: "ISO-2022-JP", bytes: [0x1B, 0x24, 0x42, 0x24, 0x2A, 0x4C, 0x64, 0x24, 0x24, 0x39, 0x67, 0x24, 0x6F, 0x24, 0x3B, 0x1B, 0x28, 0x42], expected: "お問い合わせ"),
        Vector(charset: "shift_jis", bytes: [0x83, 0x5C, 0x83, 0x74, 0x83, 0x67, 0x95, 0x5C], expected: "ソフト表"),
        Vector(charset: "Shift_JIS", bytes: [0x83, 0x5C, 0x83, 0x74, 0x83, 0x67, 0x95, 0x5C], expected: "ソフト表"),
        Vector(charset: "koi8-r", bytes: [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x2C, 0x20, 0xCD, 0xC9, 0xD2], expected: "Привет, мир"),
        Vector(charset: "KOI8-R", bytes: [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x2C, 0x20, 0xCD, 0xC9, 0xD2], expected: "Привет, мир"),
        Vector(charset: "big5", bytes: [0xB3, 0x5C, 0xA5, 0x5C, 0xBB, 0x5C], expected: "許功蓋"),
        Vector(charset: "iso-8859-15", bytes: [0xA4, 0x20, 0xBD, 0x20, 0xBE], expected: "€ œ Ÿ"),
        Vector(charset: "ISO-8859-1", bytes: [0x48, 0xE9, 0x6C, 0xE8, 0x6E, 0x65], expected: "Hélène"),
        Vector(charset: "utf-8", bytes: [0x63, 0x61, 0x66, 0xC3, 0xA9], expected: "café"),
        Vector(charset: "UTF8", bytes: [0x63, 0x61, 0x66, 0xC3, 0xA9], expected: "café"),
        Vector(charset: "us-ascii", bytes: Array("plain text".utf8), expected: "plain text"),
    ]

    @Test(arguments: vectors)
    func decodesNamedCharsets(vector: Vector) {
        #expect(Charset.decode(vector.bytes, charset: vector.charset) == vector.expected)
    }

    @Test func noCharsetMeansUTF8() {
        #expect(Charset.decode(Array("Grüße 你好 📦".utf8), charset: nil) == "Grüße 你好 📦")
        #expect(Charset.decode([], charset: nil) == "")
        #expect(Charset.decode([], charset: "gbk") == "")
    }

    @Test func unknownCharsetFallsBack() {
        #expect(Charset.decode(Array("héllo 你好".utf8), charset: "x-no-such-charset") == "héllo 你好")
        // Not UTF-8: Latin-1 (or, at worst, replacement characters), never nothing.
        let latin = Charset.decode([0x63, 0x61, 0x66, 0xE9], charset: "x-no-such-charset")
        #expect(latin == "café" || latin == "caf\u{FFFD}")
        #expect(Charset.decode(Array("abc".utf8), charset: "") == "abc")
    }

    /// What mail in the wild is labelled with: GBK text marked gb2312, windows-1252 text marked
    /// iso-8859-1 (the WHATWG encoding standard reads both labels as the wider charset).
    @Test func widerCharsetsBehindNarrowLabels() {
        #expect(Charset.decode([0xCD, 0xF5, 0x86, 0xB4], charset: "gb2312") == "王喆")
        #expect(Charset.decode([0x93, 0x48, 0x69, 0x94, 0x20, 0x96, 0x20, 0x80, 0x35], charset: "iso-8859-1") == "“Hi” – €5")
    }

    @Test func invalidBytesNeverStopDecoding() {
        // A GBK lead byte at the end, a broken ISO-2022-JP escape, a lone UTF-8 continuation byte.
        let gbk = Charset.decode([0xC4, 0xE3, 0xBA], charset: "gbk")
        #expect(gbk.hasPrefix("你"))
        let jis = Charset.decode([0x41, 0x1B, 0x24, 0x42, 0x24], charset: "iso-2022-jp")
        #expect(jis.hasPrefix("A"))
        let utf8 = Charset.decode([0x61, 0x80, 0x62], charset: "utf-8")
        #expect(utf8.hasPrefix("a") && utf8.hasSuffix("b"))
    }
}
