import Foundation
import Testing
@testable import EmailAdapter

/// The .eml corpus in Fixtures/, written by Fixtures/make_corpus.py. Read from beside this file:
/// the test target declares no resources, so there is no `Bundle.module`.
enum Corpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Every fixture; `fixturesOnDiskAreTheListedOnes` keeps this list and the directory in step.
    static let names = [
        "outlook.eml", "gmail.eml", "apple_mail.eml", "gbk.eml", "gb2312.eml", "iso2022jp.eml", "shift_jis.eml", "big5.eml",
        "koi8r.eml", "latin1.eml", "html_only.eml", "dsn_bounce.eml", "dsn_delayed.eml", "auto_reply.eml", "bulk.eml",
        "folded_headers.eml", "nested.eml", "original_message.eml", "sent_block.eml",
    ]

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func parse(_ name: String) throws -> ParsedEmail {
        try MIMEParser.parse(bytes(name))
    }
}

/// Runs of whitespace (folds, tabs, CRLF) as one space, ends trimmed: for values whose exact
/// spacing after unfolding is not what a test is about.
func collapsingWhitespace(_ text: String) -> String {
    text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
}

/// The non-empty lines of a text, trimmed, with no-break spaces read as spaces.
func trimmedLines(_ text: String) -> [String] {
    text.replacingOccurrences(of: "\u{00A0}", with: " ")
        .split(whereSeparator: { $0.isNewline })
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
}

/// True when a string holds a CR or LF anywhere ("\r\n" is one Character, so `contains("\n")` would miss it).
func hasLineBreak(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
}

/// A Content-ID compared without its angle brackets, however the parser chose to keep it.
func bareContentId(_ id: String?) -> String? {
    id?.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
}

/// Every sample of the corpus, parsed: decoded headers and names in their own scripts, ids without
/// brackets, the body text in the right charset, the new reply apart from the quoted history,
/// attachments with their exact bytes, automated mail recognised, delivery reports read.
@Suite("MIME corpus")
struct MIMECorpusTests {
    // MARK: - The corpus itself

    @Test func fixturesOnDiskAreTheListedOnes() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Corpus.directory.path).filter { $0.hasSuffix(".eml") }
        #expect(Set(onDisk) == Set(Corpus.names))
    }

    /// Guards against a checkout that rewrote line ends (the wire format is CRLF throughout).
    @Test(arguments: Corpus.names)
    func fixturesUseCRLFLineEnds(name: String) throws {
        let bytes = try Corpus.bytes(name)
        var bare = 0
        for index in bytes.indices where bytes[index] == 0x0A && (index == 0 || bytes[index - 1] != 0x0D) {
            bare += 1
        }
        #expect(bare == 0, "\(name) has \(bare) bare LF; regenerate it with make_corpus.py")
    }

    @Test(arguments: Corpus.names)
    func everySampleDecodesCleanly(name: String) throws {
        let mail = try Corpus.parse(name)
        let subject = try #require(mail.subject)
        #expect(!subject.contains("=?"), "encoded word left in the subject: \(subject)")
        #expect(!hasLineBreak(subject))
        #expect(!subject.contains("\u{FFFD}"))
        #expect(!mail.text.contains("\u{FFFD}"), "replacement character in the text of \(name)")
        #expect(!mail.text.isEmpty)
        #expect(!mail.visibleText.isEmpty)
        #expect(mail.visibleText == mail.visibleText.trimmingCharacters(in: .whitespacesAndNewlines))
        if let displayName = mail.from?.name { #expect(!displayName.contains("=?")) }
        #expect(mail.from?.address.contains("@") == true)
        #expect(mail.messageId.map { !$0.hasPrefix("<") && !$0.hasSuffix(">") } ?? false)
        for id in mail.inReplyTo + mail.references {
            #expect(!id.contains("<") && !id.contains(">") && !id.contains(" "))
        }
        #expect(!mail.text.unicodeScalars.contains("\u{1B}"), "ISO-2022 escape left undecoded in \(name)")
    }

    @Test(arguments: [
        ("outlook.eml", false), ("gmail.eml", false), ("apple_mail.eml", false), ("gbk.eml", false), ("gb2312.eml", false),
        ("iso2022jp.eml", false), ("shift_jis.eml", false), ("big5.eml", false), ("koi8r.eml", false), ("latin1.eml", false),
        ("html_only.eml", false), ("dsn_bounce.eml", true), ("dsn_delayed.eml", true), ("auto_reply.eml", true), ("bulk.eml", true),
        ("folded_headers.eml", false), ("nested.eml", false), ("original_message.eml", false), ("sent_block.eml", false),
    ])
    func automatedMailIsRecognised(name: String, automated: Bool) throws {
        let mail = try Corpus.parse(name)
        #expect(mail.isAutomated == automated, "\(name)")
        if !name.hasPrefix("dsn_") {
            #expect(mail.deliveryReport == nil, "\(name)")
        }
    }

    // MARK: - Western clients

    @Test func outlookDesktopReply() throws {
        let mail = try Corpus.parse("outlook.eml")
        #expect(mail.subject == "RE: Invoice 10442 – café order")
        #expect(mail.from == MailAddress(address: "chloe.martin@contoso.example", name: "Chloé Martin"))
        #expect(mail.to == [MailAddress(address: "support@example.test", name: "Support")])
        #expect(mail.cc.isEmpty)
        #expect(mail.messageId == "AM0PR01MB5678A1B2C3D4E5F6A7B8C9D0E1F2@AM0PR01MB5678.eurprd01.prod.exchangelabs.com")
        #expect(mail.inReplyTo == ["msg_01JD0000000000000000000001@example.test"])
        #expect(mail.references == ["msg_01JD0000000000000000000001@example.test"])
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_629_930))
        #expect(mail.header("x-mailer") == "Microsoft Outlook 16.0")
        #expect(mail.header("THREAD-INDEX") == "AQHbLx2a7y3k1mY4QkK0c6h2sJd0nbKpQ3xA")
        #expect(mail.header("Thread-Topic") == "Invoice 10442 – café order")
        #expect(mail.header("Content-Language") == "fr-FR")
        #expect(mail.header("X-No-Such-Header") == nil)

        // windows-1252 quoted-printable, the sentence rejoined across two soft line breaks.
        let reply = "The naïve total on the café invoice should be 42,50 € and not 45 €; could you send a corrected copy before Friday so our accounts team can close the month?"
        #expect(mail.text.contains(reply))
        #expect(mail.text.contains("Contoso Café – Accounts"))
        #expect(mail.text.contains("your invoice 10442 is attached"))
        #expect(!mail.text.contains("=80") && !mail.text.contains("caf=E9"))
        let html = try #require(mail.html)
        #expect(html.contains("<p class=\"MsoNormal\">"))
        #expect(html.contains(reply))

        #expect(mail.visibleText.hasPrefix("Hello,"))
        #expect(mail.visibleText.contains(reply))
        #expect(mail.visibleText.hasSuffix("Contoso Café – Accounts"))
        #expect(!mail.visibleText.contains("________________________________"))
        #expect(!mail.visibleText.contains("Sent: Monday"))
        #expect(!mail.visibleText.contains("your invoice 10442 is attached"))
        #expect(mail.attachments.isEmpty)
    }

    @Test func gmailReply() throws {
        let mail = try Corpus.parse("gmail.eml")
        #expect(mail.subject == "Re: Your parcel 📦 is late")
        #expect(mail.from == MailAddress(address: "jose.garcia@example.com", name: "José García"))
        #expect(mail.to == [MailAddress(address: "support@example.test", name: "Support")])
        #expect(mail.messageId == "CAH7r9xQ+5fV2kz0E3oUuYwq1nT8Zb3mL4cRk7sJp0aD1w6XyQg@mail.gmail.com")
        #expect(mail.inReplyTo == ["msg_01JD0000000000000000000002@example.test"])
        #expect(mail.references == ["msg_01JD0000000000000000000002@example.test"])
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_614_542))
        let dkim = try #require(mail.header("dkim-signature"))
        #expect(dkim.hasPrefix("v=1; a=rsa-sha256; c=relaxed/relaxed;"))
        #expect(!hasLineBreak(dkim))

        // UTF-8 quoted-printable; a soft line break falls between the bytes of the 🙏.
        let reply = "I'm still waiting for the parcel — the tracking page hasn't moved since Friday. Could you check with the courier, please, and let me know? 🙏"
        #expect(mail.text.contains(reply))
        #expect(mail.text.contains("Your parcel left our warehouse on Friday"))
        let html = try #require(mail.html)
        #expect(html.contains("class=\"gmail_quote"))
        #expect(html.contains("please, and let me know? 🙏"))

        #expect(mail.visibleText.hasPrefix("Hi,"))
        #expect(mail.visibleText.contains(reply))
        #expect(mail.visibleText.hasSuffix("José"))
        #expect(!mail.visibleText.contains("wrote:"))
        #expect(!mail.visibleText.contains("Your parcel left our warehouse"))
        #expect(!mail.visibleText.contains(">"))
        #expect(mail.attachments.isEmpty)
    }

    @Test func appleMailWithAttachmentAndInlineImage() throws {
        let mail = try Corpus.parse("apple_mail.eml")
        #expect(mail.subject == "Reçu pour ma commande")
        #expect(mail.from == MailAddress(address: "lea.dubois@icloud.example", name: "Léa Dubois"))
        #expect(mail.to == [MailAddress(address: "support@example.test", name: nil)])
        #expect(mail.messageId == "8F2C1A3B-4D5E-4F60-9A7B-C8D9E0F1A2B3@icloud.example")  // spelled "Message-Id"
        #expect(mail.inReplyTo.isEmpty)
        #expect(mail.references.isEmpty)
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_693_564))
        #expect(mail.header("X-Mailer") == "Apple Mail (2.3826.200.121)")

        #expect(mail.text.contains("Please find attached the receipt for order 10442. The logo below is ours."))
        #expect(mail.text.contains("Merci beaucoup !"))
        #expect(mail.text.contains("Léa"))
        #expect(mail.html?.contains("src=\"cid:A1B2C3D4-E5F6-4789-ABCD-0123456789AB\"") == true)
        #expect(mail.visibleText.contains("Please find attached the receipt for order 10442."))

        #expect(mail.attachments.count == 2)
        // RFC 2231 filename*=utf-8''Re%C3%A7u.pdf (and an encoded-word name= beside it).
        let pdf = try #require(mail.attachments.first { $0.contentType == "application/pdf" })
        #expect(pdf.filename == "Reçu.pdf")
        #expect(pdf.bytes.count == 353)
        #expect(pdf.bytes.starts(with: Array("%PDF-1.4\n".utf8)))
        #expect(pdf.bytes[9..<14] == [0x25, 0xE2, 0xE3, 0xCF, 0xD3])  // the binary comment line
        #expect(pdf.bytes.suffix(6) == ArraySlice("%%EOF\n".utf8))
        #expect(!pdf.inline)
        #expect(pdf.contentId == nil)

        let logo = try #require(mail.attachments.first { $0.contentType == "image/png" })
        #expect(logo.filename == "logo.png")
        #expect(logo.inline)
        #expect(bareContentId(logo.contentId) == "A1B2C3D4-E5F6-4789-ABCD-0123456789AB")
        #expect(logo.bytes.count == 82)
        #expect(logo.bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(logo.bytes.suffix(8) == [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])  // IEND and its CRC
    }

    @Test func thunderbirdLatin1EightBit() throws {
        let mail = try Corpus.parse("latin1.eml")
        #expect(mail.subject == "Commande non reçue")
        #expect(mail.from == MailAddress(address: "helene.lefevre@orange.example", name: "Hélène Lefèvre"))
        #expect(mail.messageId == "c0ffee42-1d2e-4f5a-8b9c-0d1e2f3a4b5c@orange.example")
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_779_533))
        #expect(mail.header("content-language") == "fr")
        #expect(mail.text.contains("Je n'ai toujours pas reçu ma commande passée le 28 octobre."))
        #expect(mail.text.contains("Où en est la livraison\u{00A0}? Le colis était censé arriver hier."))
        #expect(mail.text.contains("Hélène Lefèvre"))
        #expect(mail.visibleText.contains("Je n'ai toujours pas reçu ma commande"))
        #expect(mail.html == nil)
        #expect(mail.attachments.isEmpty)
    }

    @Test func htmlOnlyMailIsRenderedAsText() throws {
        let mail = try Corpus.parse("html_only.eml")
        #expect(mail.subject == "Damaged delivery")
        #expect(mail.from == MailAddress(address: "no-reply@shop.example", name: "Example Shop Contact Form"))
        #expect(mail.header("Reply-To") == "Tom Baker <tom.baker@example.com>")
        #expect(mail.messageId == "Xq3b9Zt1mK8pL2vR6sN4wY0cE5fH7jD@shop.example")
        let html = try #require(mail.html)
        #expect(html.contains("<style type=\"text/css\">"))
        #expect(html.contains("Tom &amp; Jerry&#39;s order<br>arrived broken."))

        let lines = trimmedLines(mail.text)
        #expect(lines.contains("Hello team,"))              // &nbsp; as a (no-break) space
        #expect(lines.contains("Tom & Jerry's order"))      // &amp; &#39;, and <br> ends the line
        #expect(lines.contains("arrived broken."))
        #expect(lines.contains("Café au lait — €4 <refund>"))  // &#233; &mdash; &euro; &lt; &gt;
        #expect(lines.contains { $0.hasSuffix("first item") })
        #expect(lines.contains { $0.hasSuffix("second item") })
        #expect(!lines.contains { $0.contains("first item") && $0.contains("second item") })
        #expect(lines.contains("Order #10442, sent from the web form."))
        for leftover in ["<p>", "<br>", "<div>", "<li>", "&amp;", "&nbsp;", "&#", "DOCTYPE", "font-family", "display: none", "window.alert"] {
            #expect(!mail.text.contains(leftover), "\(leftover) left in the rendered text")
        }
        #expect(mail.visibleText.contains("arrived broken."))
        #expect(mail.attachments.isEmpty)
    }

    @Test func outlookOriginalMessageSeparator() throws {
        let mail = try Corpus.parse("original_message.eml")
        #expect(mail.subject == "RE: Replacement for order 10442")
        #expect(mail.from == MailAddress(address: "raj.patel@northwind.example", name: "Raj Patel"))
        #expect(mail.to.map(\.address) == ["support@example.test"])
        #expect(mail.messageId == "002a01db2d7f$4c3b2a10$e4b17e30$@northwind.example")
        #expect(mail.inReplyTo == ["msg_01JD0000000000000000000004@example.test"])
        #expect(mail.text.contains("we can send a replacement unit this week"))
        #expect(mail.visibleText.contains("Please go ahead with the replacement and ship it to the Leeds office."))
        #expect(mail.visibleText.hasSuffix("Raj"))
        #expect(!mail.visibleText.contains("-----Original Message-----"))
        #expect(!mail.visibleText.contains("we can send a replacement unit"))
    }

    @Test func outlookFromSentBlockWithoutSeparatorLine() throws {
        let mail = try Corpus.parse("sent_block.eml")
        #expect(mail.subject == "Re: Technician visit for ticket #10448")
        #expect(mail.from == MailAddress(address: "emma.wilson@example.co.uk", name: "Emma Wilson"))
        #expect(mail.references == ["msg_01JD0000000000000000000005@example.test"])
        #expect(mail.text.contains("Hello Emma, could the technician visit on Thursday afternoon?"))  // base64 UTF-8
        #expect(mail.visibleText.hasPrefix("Yes, Thursday afternoon is fine for the technician visit."))
        #expect(!mail.visibleText.contains("From: Support"))
        #expect(!mail.visibleText.contains("Sent: Tuesday"))
        #expect(!mail.visibleText.contains("could the technician visit on Thursday afternoon"))
    }

    // MARK: - CJK and Cyrillic

    @Test func chineseGBKBase64() throws {
        let mail = try Corpus.parse("gbk.eml")
        #expect(mail.subject == "关于订单10442的发票问题")
        #expect(mail.from == MailAddress(address: "wangzhe@163.example", name: "王喆"))  // 喆 exists in GBK, not in GB2312
        #expect(mail.messageId == "3c5a1b2d.4e6f.19a3b2c1d0e.Coremail.wangzhe@163.example")
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_758_897))  // "+0800 (CST)"
        #expect(mail.header("X-Mailer") == "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15) Copyright (c) 2002-2026 www.mailtech.cn 163com")
        #expect(mail.text.contains("我在上周购买的商品还没有收到，请帮我查询一下物流信息。"))
        #expect(mail.text.contains("发票抬头请写“深圳市喆越科技有限公司”。"))
        #expect(mail.visibleText.contains("请帮我查询一下物流信息"))
        #expect(mail.visibleText.hasSuffix("王喆"))
    }

    @Test func chineseGB2312FoxmailQuotedPrintable() throws {
        let mail = try Corpus.parse("gb2312.eml")
        #expect(mail.subject == "退款申请（订单10442）")  // a gb2312 Q word
        #expect(mail.from == MailAddress(address: "lina@foxmail.example", name: "李娜"))
        #expect(mail.to == [MailAddress(address: "support@example.test", name: "support")])
        #expect(mail.messageId == "202611050845099271823@foxmail.example")
        #expect(mail.header("X-Mailer") == "Foxmail 7.2.25.254[cn]")
        #expect(mail.text.contains("请问退款什么时候能到账？订单号是10442。"))  // a soft break splits a character's two bytes
        #expect(mail.html?.contains("请问退款什么时候能到账？订单号是10442。") == true)
        #expect(mail.visibleText.contains("请问退款什么时候能到账？"))
        #expect(!mail.text.contains("This is a multi-part message"))  // the preamble is not body
    }

    @Test func japaneseISO2022JP() throws {
        let mail = try Corpus.parse("iso2022jp.eml")
        #expect(mail.subject == "注文のキャンセルについて")
        #expect(mail.from == MailAddress(address: "tanaka@example.jp", name: "田中太郎"))
        #expect(mail.messageId == "20261103182000.A1B2.TANAKA@example.jp")
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_697_600))
        #expect(mail.text.contains("お世話になっております。田中です。"))
        #expect(mail.text.contains("先日注文した商品をキャンセルしたいです。"))
        #expect(mail.text.contains("注文番号は10442です。"))
        #expect(mail.visibleText.contains("先日注文した商品をキャンセルしたいです。"))
    }

    @Test func japaneseShiftJISEightBit() throws {
        let mail = try Corpus.parse("shift_jis.eml")
        #expect(mail.subject == "ソフトウェアの請求書について")
        #expect(mail.from == MailAddress(address: "hanako.sato@example.jp", name: "佐藤花子"))
        #expect(mail.messageId == "20261106130527.7F3E.HANAKO@example.jp")
        // ソ and 表 end in the byte 0x5C.
        #expect(mail.text.contains("ソフトウェア利用料の請求書の表記に誤りがあります。"))
        #expect(mail.text.contains("宛名を「株式会社ソラ表参道」に修正して再発行していただけますか。"))
        #expect(!mail.text.contains("\\"))
    }

    @Test func traditionalChineseBig5() throws {
        let mail = try Corpus.parse("big5.eml")
        #expect(mail.subject == "查詢訂單出貨進度")
        #expect(mail.from == MailAddress(address: "meiling.hsu@example.tw", name: "許美玲"))
        #expect(mail.to == [MailAddress(address: "support@example.test", name: nil)])
        #expect(mail.messageId == "000f01db2c3a$5f6e7d80$0201a8c0@MEILINGPC")
        #expect(mail.header("X-MimeOLE") == "Produced By Microsoft MimeOLE V6.00.2900.2180")
        #expect(mail.text.contains("我想查詢訂單10442的出貨進度，包裝上的許可標籤功能是否正常？"))
        #expect(mail.text.contains("許美玲 敬上"))
        #expect(mail.html?.contains("許美玲 敬上") == true)
        #expect(!mail.text.contains("\\"))
    }

    @Test func russianKOI8R() throws {
        let mail = try Corpus.parse("koi8r.eml")
        #expect(mail.subject == "Возврат денег за заказ 10442")
        #expect(mail.from == MailAddress(address: "ivan.petrov@example.ru", name: "Иван Петров"))
        #expect(mail.header("reply-to") == "Иван Петров <ivan.petrov@example.ru>")
        #expect(mail.header("X-Mailer") == "The Bat! (v10.4.2) Professional")
        #expect(mail.messageId == "1234567890.20261107123456@example.ru")
        #expect(mail.text.contains("Прошу вернуть деньги за заказ 10442, товар пришёл повреждённым."))
        #expect(mail.visibleText.contains("Фотографии могу прислать по запросу."))
    }

    // MARK: - Automated mail

    @Test func postfixBounce() throws {
        let mail = try Corpus.parse("dsn_bounce.eml")
        #expect(mail.subject == "Undelivered Mail Returned to Sender")  // not the returned message's subject
        #expect(mail.from?.address == "MAILER-DAEMON@mail.example.test")  // "(Mail Delivery System)" is a comment
        #expect(mail.messageId == "20261102100005.4Xk2Pq0b1Zz9sWd@mail.example.test")
        #expect(mail.date == Date(timeIntervalSince1970: 1_793_613_605))  // "Mon,  2 Nov 2026 10:00:05 +0000 (UTC)"
        #expect(mail.isAutomated)
        #expect(mail.text.contains("I'm sorry to have to inform you that your message could not"))
        #expect(!mail.text.contains("This is a MIME-encapsulated message."))

        let report = try #require(mail.deliveryReport)
        #expect(report.originalMessageId == "msg_01JD0000000000000000000000@example.test")
        try #require(report.recipients.count == 2)
        let nobody = report.recipients[0]
        #expect(nobody.address == "nobody@example.org")
        #expect(nobody.action == "failed")
        #expect(nobody.status == "5.1.1")
        #expect(nobody.diagnostic == "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown")
        #expect(nobody.isPermanentFailure)
        let gone = report.recipients[1]
        #expect(gone.address == "gone@example.org")
        #expect(gone.action == "failed")
        #expect(gone.status == "5.2.1")
        #expect(gone.diagnostic == "550 5.2.1 <gone@example.org>: Mailbox disabled")
        #expect(gone.isPermanentFailure)
    }

    @Test func postfixDelayWarningIsNotPermanent() throws {
        let mail = try Corpus.parse("dsn_delayed.eml")
        #expect(mail.subject == "Delayed Mail (still being retried)")
        #expect(mail.messageId == "20261103100001.5Ym3Qr1c2Aa0tXe@mail.example.test")
        #expect(mail.isAutomated)
        #expect(mail.text.contains("THIS IS A WARNING ONLY."))
        #expect(!mail.text.contains("your appointment is confirmed"))  // the returned message's body is not the text

        let report = try #require(mail.deliveryReport)
        #expect(report.originalMessageId == "msg_01JD0000000000000000000099@example.test")  // from message/rfc822
        let recipient = try #require(report.recipients.first)
        #expect(report.recipients.count == 1)
        #expect(recipient.address == "slow@example.net")
        #expect(recipient.action == "delayed")
        #expect(recipient.status == "4.4.1")
        #expect(!recipient.isPermanentFailure)
        // "X-Postfix;" type, folded over two lines.
        let diagnostic = collapsingWhitespace(try #require(recipient.diagnostic))
        #expect(diagnostic.hasSuffix("connect to mx.example.net[198.51.100.7]:25: Connection timed out"))
    }

    @Test func exchangeOutOfOffice() throws {
        let mail = try Corpus.parse("auto_reply.eml")
        #expect(mail.subject == "Automatic reply: Your ticket #10442")
        #expect(mail.from == MailAddress(address: "peter.jansen@fabrikam.example", name: "Peter Jansen"))
        #expect(mail.inReplyTo == ["msg_01JD0000000000000000000003@example.test"])
        #expect(mail.header("auto-submitted") == "auto-replied")
        #expect(mail.header("X-AUTO-RESPONSE-SUPPRESS") == "All")
        #expect(mail.isAutomated)
        #expect(mail.deliveryReport == nil)
        #expect(mail.text.contains("I am out of the office until 16 November with limited access to email."))
    }

    @Test func newsletterWithPrecedenceBulk() throws {
        let mail = try Corpus.parse("bulk.eml")
        #expect(mail.subject == "This week’s deals")
        #expect(mail.from == MailAddress(address: "news@deals.example", name: "Example Deals"))  // quotes removed
        #expect(mail.to == [MailAddress(address: "customer@example.com", name: "Valued Customer")])
        #expect(mail.header("Precedence") == "bulk")
        #expect(mail.header("List-Unsubscribe") == "<https://deals.example/u/abc123>, <mailto:unsubscribe@deals.example?subject=unsubscribe>")
        #expect(mail.isAutomated)
        #expect(mail.text.contains("Up to 40% off on kitchen appliances, this week only. Our best-selling blender is back in stock at €59."))
        #expect(mail.text.contains("https://deals.example/c/kitchen?utm_source=newsletter&utm_medium=email"))
        #expect(mail.html?.contains("class=\"mcnTextContent\"") == true)
    }

    // MARK: - Structure

    @Test func foldedAndEncodedHeaders() throws {
        let mail = try Corpus.parse("folded_headers.eml")
        // A Q word and a B word on two lines: the fold between them disappears, the space inside the Q word stays.
        #expect(mail.subject == "Question about the résumé I sent — and the 求职信 (cover letter)")
        #expect(mail.from == MailAddress(address: "mary.obrien@example.ie", name: "Dr. Mary O'Brien, PhD"))
        #expect(mail.to == [
            MailAddress(address: "support@example.test", name: "Support, Team"),
            MailAddress(address: "bob@example.com", name: nil),
            MailAddress(address: "zhang.san@example.cn", name: "张三"),
        ])
        // A group: its members are the addresses.
        #expect(mail.cc == [MailAddress(address: "alice@example.com", name: nil), MailAddress(address: "bob.b@example.com", name: "Bob B.")])
        #expect(mail.messageId == "msg_01JD0000000000000000000012@example.ie")  // the value is on the continuation line
        #expect(mail.inReplyTo == ["CAH7r9xQ-ABC123@mail.gmail.com"])
        #expect(mail.references == [
            "msg_01JD0000000000000000000010@example.test", "msg_01JD0000000000000000000011@example.test", "CAH7r9xQ-ABC123@mail.gmail.com",
        ])
        #expect(mail.date == Date(timeIntervalSince1970: 1_794_486_600))  // -0500
        let note = try #require(mail.header("x-long-note"))
        #expect(!hasLineBreak(note))
        #expect(collapsingWhitespace(note) == "this header value is long enough that the sending client folded it across three lines, once with a tab and once with a space")
        #expect(mail.text.contains("Could you confirm you received my résumé and the cover letter?"))
    }

    @Test func forwardedMessageStaysAnAttachment() throws {
        let mail = try Corpus.parse("nested.eml")
        #expect(mail.subject == "Fwd: Broken blender")
        #expect(mail.from == MailAddress(address: "nina.keller@example.test", name: "Nina Keller"))
        #expect(mail.messageId == "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d@example.test")
        #expect(mail.header("Content-Language") == "en-US")

        #expect(mail.text.contains("Please see the forwarded complaint below; the customer wants a refund."))
        #expect(!mail.text.contains("stopped working after two days"))
        #expect(mail.html?.contains("class=\"moz-signature\"") == true)
        #expect(mail.html?.contains("stopped working after two days") == false)
        #expect(mail.visibleText.contains("the customer wants a refund."))
        #expect(!mail.visibleText.contains("stopped working after two days"))

        #expect(mail.attachments.count == 4)
        let signature = try #require(mail.attachments.first { $0.filename == "signature.jpg" })
        #expect(signature.contentType == "image/jpeg")
        #expect(signature.inline)
        #expect(bareContentId(signature.contentId) == "part1.Ab3dEf9h.Xy7kLm2N@example.test")
        #expect(signature.bytes.count == 327)
        #expect(signature.bytes.starts(with: [0xFF, 0xD8, 0xFF, 0xE0]))
        #expect(signature.bytes.suffix(2) == [0xFF, 0xD9])

        // No filename anywhere: it is an attachment because of its Content-ID.
        let spacer = try #require(mail.attachments.first { $0.contentType == "image/gif" })
        #expect(bareContentId(spacer.contentId) == "spacer@example.test")
        #expect(spacer.bytes.count == 43)
        #expect(spacer.bytes.starts(with: Array("GIF89a".utf8)))

        let forwarded = try #require(mail.attachments.first { $0.contentType == "message/rfc822" })
        #expect(forwarded.filename == "Broken blender.eml")
        #expect(!forwarded.inline)
        let inner = String(decoding: forwarded.bytes, as: UTF8.self)
        #expect(inner.contains("Subject: Broken blender"))
        #expect(inner.contains("The blender I bought stopped working after two days."))

        // RFC 2231 continuations (filename*0*, filename*1*), percent-encoded UTF-8.
        let sheet = try #require(mail.attachments.first { $0.contentType == "text/csv" })
        #expect(sheet.filename == "Заказы октябрь 2026.csv")
        #expect(!sheet.inline)
        #expect(sheet.bytes == Array("order;item;amount\r\n10442;Blender BX-200;59,00\r\n10443;Kettle K-10;24,50\r\n".utf8))
    }

    // MARK: - Small messages built here

    /// A message from lines written with "\n", sent with CRLF.
    static func wire(_ text: String) -> [UInt8] {
        Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test func plainMessageWithoutMIMEHeaders() throws {
        let mail = try MIMEParser.parse(Self.wire("From: ann@example.com\nTo: support@example.test\nSubject: Hello\nMessage-ID: <abc@example.com>\n\nJust a line.\n"))
        #expect(mail.subject == "Hello")
        #expect(mail.from == MailAddress(address: "ann@example.com", name: nil))
        #expect(mail.messageId == "abc@example.com")
        #expect(mail.text.contains("Just a line."))
        #expect(mail.visibleText == "Just a line.")
        #expect(mail.html == nil)
        #expect(mail.attachments.isEmpty)
        #expect(!mail.isAutomated)
        #expect(mail.deliveryReport == nil)
        #expect(mail.inReplyTo.isEmpty && mail.references.isEmpty && mail.cc.isEmpty)
    }

    /// Stored mail (mbox, some inbound webhooks) often has bare LF line ends.
    @Test func bareLineFeedsAreAccepted() throws {
        let raw = "From: Ann <ann@example.com>\nSubject: =?UTF-8?Q?caf=C3=A9?=\nContent-Type: text/plain; charset=utf-8\n\nBonjour\n\n> quoted\n"
        let mail = try MIMEParser.parse(Array(raw.utf8))
        #expect(mail.subject == "café")
        #expect(mail.from == MailAddress(address: "ann@example.com", name: "Ann"))
        #expect(mail.text.contains("Bonjour"))
        #expect(mail.visibleText == "Bonjour")
    }

    /// Foxmail and old Outlook put the encoded word inside the quotes; every major client decodes it.
    @Test func encodedWordInsideQuotedDisplayName() throws {
        let word = "=?UTF-8?B?" + Data("张伟".utf8).base64EncodedString() + "?="
        let mail = try MIMEParser.parse(Self.wire("From: \"\(word)\" <zhangwei@example.cn>\nSubject: hi\n\nbody\n"))
        #expect(mail.from == MailAddress(address: "zhangwei@example.cn", name: "张伟"))
    }

    @Test func autoSubmittedNoIsNotAutomated() throws {
        let human = try MIMEParser.parse(Self.wire("From: a@example.com\nSubject: x\nAuto-Submitted: no\n\nbody\n"))
        #expect(!human.isAutomated)
        for header in ["Auto-Submitted: auto-generated", "Precedence: junk", "Precedence: list", "Precedence: Bulk", "X-Autoreply: yes", "X-Autorespond: Out of office"] {
            let mail = try MIMEParser.parse(Self.wire("From: a@example.com\nSubject: x\n\(header)\n\nbody\n"))
            #expect(mail.isAutomated, "\(header)")
        }
        let firstClass = try MIMEParser.parse(Self.wire("From: a@example.com\nSubject: x\nPrecedence: first-class\n\nbody\n"))
        #expect(!firstClass.isAutomated)
    }

    @Test func notAMessageThrows() {
        #expect(throws: MailError.self) { try MIMEParser.parse([]) }
    }
}
