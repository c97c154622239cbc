import Foundation
import HubCore
import HubStore
import Testing
@testable import EmailAdapter

/// The way in, against a real store: reply tokens and Message-IDs thread a mail onto the sender's own
/// conversation only, auto-replies reopen nothing, reports bounce the message they name and suppress
/// the address, and what cannot be read is quarantined with its bytes.
@Suite struct EmailIntakeTests {
    static let configuration = EmailConfiguration(address: "support@example.test", fromName: "Acme", replySecret: "s3cret", webhookSecret: "hook")

    func withIntake(_ body: (EmailIntake, SQLiteHubStorage) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("email-intake-\(UUID().uuidString).sqlite").path
        let store = try SQLiteHubStorage(path: path)
        try await body(EmailIntake(storage: store, configuration: Self.configuration), store)
        await store.close()
    }

    func mail(from: String = "ann@example.org", to: String = "support@example.test", id: String, extra: String = "", body: String = "Hello") -> [UInt8] {
        Array("From: Ann <\(from)>\r\nTo: \(to)\r\nSubject: Order 17\r\nMessage-ID: <\(id)>\r\n\(extra)\r\n\(body)\r\n".utf8)
    }

    @Test func replyTokensRoundTripAndRefuseForgery() {
        let token = ReplyToken.make(conversationId: "conv_01JD8Z5X6Y", secret: "s3cret")
        #expect(ReplyToken.conversationId(in: token, secret: "s3cret") == "conv_01JD8Z5X6Y")
        #expect(ReplyToken.conversationId(in: token.uppercased(), secret: "s3cret") == "conv_01JD8Z5X6Y", "addresses may change case")
        #expect(ReplyToken.conversationId(in: token, secret: "other") == nil)
        #expect(ReplyToken.conversationId(in: "conv_01JD8Z5X6Z" + token.drop { $0 != "." }, secret: "s3cret") == nil)
        let address = try! #require(ReplyToken.address(conversationId: "conv_01JD8Z5X6Y", configuration: Self.configuration))
        #expect(address == "support+\(token)@example.test")
        #expect(ReplyToken.token(inRecipient: address, configuration: Self.configuration) == token)
        #expect(ReplyToken.token(inRecipient: "other+\(token)@example.test", configuration: Self.configuration) == nil)
    }

    @Test func aTokenOrAMessageIdThreadsOnlyTheSameSender() async throws {
        try await withIntake { intake, store in
            let first = try await intake.take(mail(id: "a1@example.org"))
            #expect(first.outcome == .stored)
            let conversationId = try #require(first.conversationId)
            let reply = try await store.reply(conversationId: conversationId, ReplyDraft(text: "On it"), authorId: nil, idempotencyKey: nil)
            let replyTo = try #require(ReplyToken.address(conversationId: conversationId, configuration: Self.configuration))

            #expect(try await intake.take(mail(to: replyTo, id: "a2@example.org")).conversationId == conversationId)
            let byHeader = try await intake.take(mail(id: "a3@example.org", extra: "In-Reply-To: <\(reply.id)@example.test>\r\n"))
            #expect(byHeader.conversationId == conversationId)
            let stranger = try await intake.take(mail(from: "eve@example.net", to: replyTo, id: "e1@example.net",
                                                      extra: "References: <\(reply.id)@example.test>\r\n"))
            #expect(stranger.outcome == .stored && stranger.conversationId != conversationId)
            #expect(try await intake.take(mail(id: "a1@example.org")).outcome == .duplicate)
        }
    }

    @Test func anAutoReplyReopensNothingAndAloneIsQuarantined() async throws {
        try await withIntake { intake, store in
            let first = try await intake.take(mail(id: "a1@example.org"))
            let conversationId = try #require(first.conversationId)
            _ = try await store.setStatus(conversationId: conversationId, .resolved, snoozedUntil: nil)
            let replyTo = try #require(ReplyToken.address(conversationId: conversationId, configuration: Self.configuration))
            let away = try await intake.take(mail(to: replyTo, id: "ooo1@example.org", extra: "Auto-Submitted: auto-replied\r\n", body: "I am away"))
            #expect(away.outcome == .stored && away.conversationId == conversationId)
            #expect(try await store.conversation(id: conversationId).status == .resolved)
            let alone = try await intake.take(mail(id: "ooo2@example.org", extra: "Precedence: bulk\r\n"))
            #expect(alone.outcome == .quarantined)
        }
    }

    @Test func aPermanentBounceMarksTheMessageAndSuppressesTheAddress() async throws {
        try await withIntake { intake, store in
            let first = try await intake.take(mail(id: "a1@example.org"))
            let reply = try await store.reply(conversationId: try #require(first.conversationId), ReplyDraft(text: "On it"), authorId: nil, idempotencyKey: nil)
            let report = """
                From: MAILER-DAEMON@mx.example.org\r
                To: support@example.test\r
                Subject: Undelivered Mail\r
                Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r
                \r
                --b\r
                Content-Type: text/plain\r
                \r
                Could not deliver.\r
                --b\r
                Content-Type: message/delivery-status\r
                \r
                Reporting-MTA: dns; mx.example.org\r
                \r
                Final-Recipient: rfc822; ann@example.org\r
                Action: failed\r
                Status: 5.1.1\r
                Diagnostic-Code: smtp; 550 5.1.1 user unknown\r
                --b\r
                Content-Type: text/rfc822-headers\r
                \r
                Message-ID: <\(reply.id)@example.test>\r
                --b--\r

                """
            let result = try await intake.take(Array(report.utf8))
            #expect(result.outcome == .bounce && result.messageId == reply.id)
            let bounced = try await store.message(id: reply.id)
            #expect(bounced.deliveryState == .bounced && bounced.error == "5.1.1 550 5.1.1 user unknown")
            let ledger = try await store.latestConsents(channel: .email, address: "ann@example.org")
            #expect(Set(ledger.map(\.purpose)) == [.transactional, .marketing] && ledger.allSatisfy { $0.state == .optedOut && $0.source == .bounce })
            _ = try await intake.take(Array(report.utf8))
            #expect(try await store.consents(customerId: try #require(first.customerId)).count == 2, "a repeated report records nothing new")
        }
    }

    @Test func whatCannotBeReadIsQuarantinedWithItsBytes() async throws {
        try await withIntake { intake, store in
            for raw in [Array("no headers here".utf8), [0xFF, 0xFE, 0x00, 0x01], mail(from: "not-an-address", id: "x@y")] {
                let result = try await intake.take(raw)
                #expect(result.outcome == .quarantined)
                #expect(try await store.quarantinedRaw(id: try #require(result.quarantineId)) == raw)
            }
            let loop = try await intake.take(mail(from: "support@example.test", id: "loop@example.test"))
            #expect(loop.outcome == .quarantined && loop.reason?.contains("loop") == true)
        }
    }
}
