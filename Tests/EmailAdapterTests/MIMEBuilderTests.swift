import Foundation
import TestSupport
import Testing
@testable import EmailAdapter

/// The mail the hub writes: every header the threading and one-click unsubscribe rules ask for,
/// lines within the RFC 5322 limits, and a round trip through the parser that gives back what went in.
@Suite struct MIMEBuilderTests {
    static let sent = Date(timeIntervalSince1970: 1_795_451_533)

    func reply(subject: String = "Re: Order 17", text: String = "Hello", html: String? = nil, attachments: [MailAttachment] = []) -> OutgoingEmail {
        OutgoingEmail(
            from: MailAddress(address: "support@example.test", name: "Acme Support"), to: [MailAddress(address: "ann@example.org", name: "Ann Lee")],
            replyTo: MailAddress(address: "support+conv_1.abc@example.test"), subject: subject, messageId: "msg_01@example.test",
            inReplyTo: "a2@example.org", references: ["a1@example.org", "a2@example.org"], date: Self.sent, text: text, html: html,
            attachments: attachments
        )
    }

    func headerBlock(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text[..<text.range(of: "\r\n\r\n")!.lowerBound])
    }

    @Test func aReplyCarriesTheThreadingHeaders() throws {
        let bytes = MIMEBuilder.build(reply(), boundarySeed: "seed")
        let headers = headerBlock(bytes)
        #expect(headers.contains("Message-ID: <msg_01@example.test>\r\n"))
        #expect(headers.contains("In-Reply-To: <a2@example.org>\r\n"))
        #expect(headers.contains("References: <a1@example.org>\r\n <a2@example.org>"))
        #expect(headers.contains("From: \"Acme Support\" <support@example.test>\r\n"))
        #expect(headers.contains("Reply-To: <support+conv_1.abc@example.test>\r\n"))
        #expect(headers.contains("Date: Mon, 23 Nov 2026 16:32:13 +0000\r\n"))
        #expect(headers.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(!headers.contains("List-Unsubscribe"), "only campaign mail offers an unsubscribe")
    }

    @Test func campaignMailOffersOneClickUnsubscribe() {
        var email = reply()
        email.listUnsubscribe = ("https://hub.example.test/u/TOKEN", "unsubscribe@example.test")
        let headers = headerBlock(MIMEBuilder.build(email))
        #expect(headers.contains("List-Unsubscribe: <https://hub.example.test/u/TOKEN>,\r\n <mailto:unsubscribe@example.test>\r\n"))
        #expect(headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
    }

    @Test func textAndHTMLAreAlternativesAndAttachmentsAreMixedIn() throws {
        let pdf = MailAttachment(filename: "Reçu.pdf", contentType: "application/pdf", bytes: Array(0...255))
        let bytes = MIMEBuilder.build(reply(text: "Plain", html: "<p>Rich</p>", attachments: [pdf]), boundarySeed: "s")
        let parsed = try MIMEParser.parse(bytes)
        #expect(headerBlock(bytes).contains("multipart/mixed"))
        #expect(String(decoding: bytes, as: UTF8.self).contains("multipart/alternative"))
        #expect(parsed.text == "Plain")
        #expect(parsed.html == "<p>Rich</p>")
        #expect(parsed.attachments == [MailAttachment(filename: "Reçu.pdf", contentType: "application/pdf", bytes: Array(0...255))])
    }

    @Test func headerInjectionIsImpossible() throws {
        let bytes = MIMEBuilder.build(reply(subject: "Hi\r\nBcc: victim@example.org"))
        let parsed = try MIMEParser.parse(bytes)
        #expect(parsed.header("Bcc") == nil)
        #expect(parsed.subject == "Hi Bcc: victim@example.org")
    }

    /// Random subjects, names and bodies (CJK, emoji, long lines, trailing spaces, '=' signs) survive
    /// writing and reading, and no line exceeds 78 characters.
    @Test func everythingWrittenReadsBack() throws {
        var random = SplitMix64(seed: 5322)
        let pieces = ["order", "注文", "订单", "заказ", "😀", "=", "=?", "?=", " ", "  ", "\t", "café", "a-very-long-word-without-any-break-at-all",
                      "line\n", "trailing \n", "\n\n", ".", "From ", "ü", "中文字符"]
        for _ in 0..<300 {
            func phrase(_ count: Int) -> String { (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined() }
            let subject = phrase(Int(random.next() % 12) + 1).replacingOccurrences(of: "\n", with: " ")
            let name = phrase(Int(random.next() % 4) + 1).replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
            let text = phrase(Int(random.next() % 80) + 1)
            var email = reply(subject: subject, text: text)
            email.to = [MailAddress(address: "ann@example.org", name: name.isEmpty ? nil : name)]
            let bytes = MIMEBuilder.build(email)
            for line in String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n") {
                #expect(line.utf8.count <= 78, "line too long: \(line)")
            }
            let parsed = try MIMEParser.parse(bytes)
            #expect(parsed.subject == subject.trimmingCharacters(in: .whitespaces) || parsed.subject == subject)
            #expect(parsed.to.first?.name == (name.isEmpty ? nil : name))
            // The body's last line break belongs to the message's end.
            #expect(parsed.text.trimmingCharacters(in: .whitespacesAndNewlines) == text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
