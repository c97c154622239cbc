import Foundation
import HubCore
import Testing

@Suite("InboundMessage validation")
struct InboundMessageTests {
    private static let receivedAt = Date(timeIntervalSince1970: 1_767_225_600)

    private func message(
        channel: Channel = .email, from: String = "alice@example.com", name: String? = nil, text: String = "Hello",
        html: String? = nil, attachments: [HubCore.Attachment] = [], externalId: String? = nil
    ) -> InboundMessage {
        InboundMessage(channel: channel, from: from, name: name, text: text, html: html, attachments: attachments,
                       externalId: externalId, receivedAt: Self.receivedAt)
    }

    /// The field a validation failure names; records an issue when validation passes.
    private func field(_ message: InboundMessage, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        failingField(sourceLocation: sourceLocation) { _ = try message.validated() }
    }

    @Test("validation normalizes the sender and keeps everything else")
    func normalizesSender() throws {
        let raw = message(channel: .sms, from: "+1 (415) 555-2671", name: "Al", text: "Hi there", externalId: "SM123")
        let valid = try raw.validated()
        #expect(valid.from == "+14155552671")
        var expected = raw
        expected.from = "+14155552671"
        #expect(valid == expected)

        #expect(try message(from: " Alice@Example.COM ").validated().from == "Alice@example.com")
    }

    @Test("a bad sender address is reported on 'from'")
    func badSender() {
        #expect(field(message(from: "not an address")) == "from")
        #expect(field(message(channel: .sms, from: "0800 123 456")) == "from")
    }

    @Test("a message with neither text, html nor attachments is rejected")
    func emptyMessage() throws {
        #expect(field(message(text: "")) == "text")
        #expect(field(message(text: "  \n\t ")) == "text")
        #expect(field(message(text: "", html: "")) == "text")
        // Any one of the three is enough.
        _ = try message(text: "", html: "<p>Hi</p>").validated()
        _ = try message(text: " ", attachments: [HubCore.Attachment(filename: "photo.jpg", contentType: "image/jpeg")]).validated()
    }

    @Test("text is limited in bytes, not characters")
    func oversizedText() throws {
        _ = try message(text: String(repeating: "a", count: InboundMessage.maxTextBytes)).validated()
        #expect(field(message(text: String(repeating: "a", count: InboundMessage.maxTextBytes + 1))) == "text")
        // Fewer characters than the limit, but two bytes each.
        let accented = String(repeating: "é", count: InboundMessage.maxTextBytes / 2 + 1)
        #expect(accented.count < InboundMessage.maxTextBytes)
        #expect(field(message(text: accented)) == "text")
    }

    @Test("html is limited to four times the text limit")
    func oversizedHTML() throws {
        _ = try message(html: String(repeating: "a", count: 4 * InboundMessage.maxTextBytes)).validated()
        #expect(field(message(html: String(repeating: "a", count: 4 * InboundMessage.maxTextBytes + 1))) == "html")
    }

    @Test("attachments: at most twenty, each with a filename and a content type")
    func attachmentLimits() throws {
        let one = HubCore.Attachment(filename: "a.pdf", contentType: "application/pdf", size: 10)
        _ = try message(attachments: Array(repeating: one, count: InboundMessage.maxAttachments)).validated()
        #expect(field(message(attachments: Array(repeating: one, count: InboundMessage.maxAttachments + 1))) == "attachments")
        #expect(field(message(attachments: [HubCore.Attachment(filename: "", contentType: "text/plain")])) == "attachments")
        #expect(field(message(attachments: [HubCore.Attachment(filename: "a.txt", contentType: "")])) == "attachments")
        let longName = String(repeating: "n", count: 256)
        #expect(field(message(attachments: [HubCore.Attachment(filename: longName, contentType: "text/plain")])) == "attachments")
    }

    @Test("externalId is 1 to 255 characters when present")
    func externalIdBounds() throws {
        #expect(field(message(externalId: "")) == "externalId")
        #expect(field(message(externalId: String(repeating: "x", count: 256))) == "externalId")
        #expect(try message(externalId: "x").validated().externalId == "x")
        let longest = String(repeating: "x", count: 255)
        #expect(try message(externalId: longest).validated().externalId == longest)
        #expect(try message(externalId: nil).validated().externalId == nil)
    }

    @Test("the sender's name is at most 200 characters")
    func nameLimit() throws {
        _ = try message(name: String(repeating: "n", count: 200)).validated()
        #expect(field(message(name: String(repeating: "n", count: 201))) == "name")
    }
}

@Suite("ReplyDraft and ConversationPatch validation")
struct ReplyDraftTests {
    @Test("a reply needs text within the inbound limits")
    func replyLimits() throws {
        _ = try ReplyDraft(text: "Thanks, on its way.").validated()
        let field1 = failingField { _ = try ReplyDraft(text: " \n").validated() }
        #expect(field1 == "text")
        let tooLong = String(repeating: "a", count: InboundMessage.maxTextBytes + 1)
        let field2 = failingField { _ = try ReplyDraft(text: tooLong).validated() }
        #expect(field2 == "text")
        let many = Array(repeating: HubCore.Attachment(filename: "a", contentType: "b"), count: InboundMessage.maxAttachments + 1)
        let field3 = failingField { _ = try ReplyDraft(text: "x", attachments: many).validated() }
        #expect(field3 == "attachments")
    }

    @Test("a conversation patch keeps priority, subject and tags in bounds")
    func conversationPatchLimits() throws {
        _ = try ConversationPatch(tags: ["vip", "billing"], priority: 100, subject: "Refund").validated()
        let field4 = failingField { _ = try ConversationPatch(priority: 101).validated() }
        #expect(field4 == "priority")
        let field5 = failingField { _ = try ConversationPatch(priority: -1).validated() }
        #expect(field5 == "priority")
        let field6 = failingField { _ = try ConversationPatch(tags: ["a\nb"]).validated() }
        #expect(field6 == "tags")
        let subject = String(repeating: "s", count: 501)
        let field7 = failingField { _ = try ConversationPatch(subject: subject).validated() }
        #expect(field7 == "subject")
    }
}
