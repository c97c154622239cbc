import Foundation
import TestSupport
import Testing
@testable import EmailAdapter

/// RFC 2047 encoded words: B and Q words in any charset decode, adjacent words join across
/// folding whitespace, text that only looks like a word is left alone; encoding leaves ASCII as it
/// is, keeps every word within 75 characters without splitting a UTF-8 sequence, and round-trips.
/// Charset-specific vectors were produced with Python's codecs.
@Suite("RFC 2047 encoded words")
struct EncodedWordTests {
    static func bWord(_ text: String) -> String {
        "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }

    // MARK: - Decoding

    @Test func decodesBase64Words() {
        #expect(EncodedWord.decode("=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=") == "Grüße aus Köln")
        #expect(EncodedWord.decode(Self.bWord("Re: 你好 📦")) == "Re: 你好 📦")
        #expect(EncodedWord.decode("=?GBK?B?xOO6ww==?=") == "你好")
        #expect(EncodedWord.decode("=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=") == "こんにちは")
        #expect(EncodedWord.decode("=?ISO-8859-1?B?QW5kcuk=?=") == "André")
        #expect(EncodedWord.decode("=?koi8-r?B?8NLJ18XU?=") == "Привет")
    }

    @Test func decodesQWords() {
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?caf=E9?=") == "café")
        #expect(EncodedWord.decode("=?UTF-8?Q?caf=C3=A9?=") == "café")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=") == "Keld Jørn Simonsen")
        #expect(EncodedWord.decode("=?windows-1252?Q?=93quoted=94_=96_text?=") == "“quoted” – text")
    }

    @Test func underscoresAreSpacesInQWords() {
        #expect(EncodedWord.decode("=?UTF-8?Q?hello_world?=") == "hello world")
        #expect(EncodedWord.decode("=?UTF-8?Q?snake=5Fcase?=") == "snake_case")
        #expect(EncodedWord.decode("=?UTF-8?Q?__two__?=") == "  two  ")
        // Outside an encoded word an underscore is just an underscore.
        #expect(EncodedWord.decode("snake_case =?UTF-8?Q?a_b?=") == "snake_case a b")
    }

    @Test func charsetAndEncodingLettersAreCaseInsensitive() {
        #expect(EncodedWord.decode("=?utf-8?q?caf=C3=A9?=") == "café")
        #expect(EncodedWord.decode("=?Utf-8?b?w6k=?=") == "é")
        #expect(EncodedWord.decode("=?iso-8859-1?q?Andr=E9?=") == "André")
    }

    @Test func adjacentWordsJoinAcrossWhitespace() {
        #expect(EncodedWord.decode("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") == "ab")
        #expect(EncodedWord.decode("=?UTF-8?Q?a?=  \t =?UTF-8?Q?b?=") == "ab")
        #expect(EncodedWord.decode("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=") == "ab")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)") == "(ab)")
        // Different charsets and encodings side by side.
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= =?UTF-8?B?w6k=?=") == "Andréé")
        #expect(EncodedWord.decode(Self.bWord("你好，") + " " + Self.bWord("世界")) == "你好，世界")
    }

    @Test func whitespaceNextToPlainTextIsKept() {
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= Pirard") == "André Pirard")
        #expect(EncodedWord.decode("Re: =?UTF-8?Q?caf=C3=A9?=") == "Re: café")
        #expect(EncodedWord.decode("a =?UTF-8?Q?b?= c") == "a b c")
        #expect(EncodedWord.decode("RE: Invoice 10442 =?Windows-1252?Q?=96_caf=E9_order?=") == "RE: Invoice 10442 – café order")
    }

    @Test func plainTextIsUnchanged() {
        for text in ["", "Hello, world", "2 + 2 = 4?", "a=?b", "=?", "?=", "why =? not ?= this", "100% =3D", "caf_e", "naïve already decoded"] {
            #expect(EncodedWord.decode(text) == text)
        }
    }

    @Test(arguments: [
        "=?UTF-8?X?abc?=",      // no such encoding
        "=?UTF-8?B?YWJj",        // never closed
        "=?UTF-8?Q?",            // nothing after the encoding
        "=??B?YWJj?=",           // no charset
        "=?UTF-8??YWJj?=",       // no encoding
        "=?UTF-8?B?*@!$?=",      // not base64
        "=?UTF-8?BB?YWJj?=",     // a two-letter encoding
    ])
    func malformedWordsAreLeftAsTheyAre(word: String) {
        #expect(EncodedWord.decode(word) == word)
        #expect(EncodedWord.decode("before " + word + " after") == "before " + word + " after")
    }

    // MARK: - Encoding

    /// The words of an encoded header, checked one by one: the form, the length, and that each
    /// carries whole UTF-8 characters. Returns the bytes of all words, joined.
    static func checkWords(of encoded: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        #expect(encoded.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII in \(encoded)", sourceLocation: sourceLocation)
        var joined: [UInt8] = []
        for word in encoded.components(separatedBy: "\r\n ") {
            #expect(word.count <= 75, "\(word.count) characters: \(word)", sourceLocation: sourceLocation)
            #expect(!hasLineBreak(word) && !word.contains(" "), "stray whitespace in \(word)", sourceLocation: sourceLocation)
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="), word.count >= 12 else {
                Issue.record("not a UTF-8 B word: \(word)", sourceLocation: sourceLocation)
                continue
            }
            let payload = String(word.dropFirst(10).dropLast(2))
            guard let data = Data(base64Encoded: payload) else {
                Issue.record("bad base64 in \(word)", sourceLocation: sourceLocation)
                continue
            }
            let bytes = [UInt8](data)
            #expect(String(validating: bytes, as: UTF8.self) != nil, "a word splits a UTF-8 sequence: \(word)", sourceLocation: sourceLocation)
            joined += bytes
        }
        return joined
    }

    @Test func asciiIsLeftAlone() {
        for text in ["", "Hello", "Re: Your ticket #10442", "a=b?c", "Fwd: [EXTERNAL] Quarterly report (draft) -- v2"] {
            #expect(EncodedWord.encode(text) == text)
        }
    }

    @Test(arguments: [
        "café",
        "你好，世界",
        "Re: 关于订单10442的发票问题",
        "Your parcel 📦 is late 🙏",
        "👍🏽 🇫🇷 👨‍👩‍👧 done",
        "e\u{301}te\u{301} with combining accents",
        "שלום עולם and مرحبا",
        "Возврат денег за заказ 10442, товар пришёл повреждённым",
        String(repeating: "中文测试", count: 40),
        String(repeating: "😀", count: 50),
        String(repeating: "Question about the résumé I sent — ", count: 6),
        String(repeating: "a", count: 200) + "é",
    ])
    func roundTripsAndKeepsWordsWhole(text: String) {
        let encoded = EncodedWord.encode(text)
        #expect(encoded != text)
        let bytes = Self.checkWords(of: encoded)
        #expect(bytes == Array(text.utf8))
        #expect(EncodedWord.decode(encoded) == text)
    }

    @Test func longTextIsFoldedIntoSeveralWords() {
        let text = String(repeating: "中文测试", count: 40)  // 480 bytes of UTF-8
        let words = EncodedWord.encode(text).components(separatedBy: "\r\n ")
        #expect(words.count >= 11)  // at most 45 bytes fit in a 75-character word
    }

    @Test func randomTextRoundTrips() {
        let pool: [String] = ["a", "Z", "0", " ", " ", "-", "?", "=", "_", ":", "é", "ß", "€", "中", "文", "喆", "Я", "ש", "ソ",
                              "😀", "🇫🇷", "👨‍👩‍👧", "e\u{301}", "\u{00A0}", "\t"]
        var rng = SplitMix64(seed: 2047)
        for round in 0..<300 {
            var text = ""
            for _ in 0..<Int.random(in: 1...90, using: &rng) {
                text += pool.randomElement(using: &rng)!
            }
            if text.unicodeScalars.allSatisfy(\.isASCII) { text += "é" }
            let encoded = EncodedWord.encode(text)
            #expect(Self.checkWords(of: encoded) == Array(text.utf8), "round \(round)")
            #expect(EncodedWord.decode(encoded) == text, "round \(round): \(text.debugDescription)")
        }
    }
}
