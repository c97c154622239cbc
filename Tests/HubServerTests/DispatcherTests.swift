import APIAdapter
import CurlTransport
import Foundation
import HTTPTypes
import HubCore
import HubServer
import HubStore
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The outbox dispatcher delivering `api` replies to a real callback server on loopback.
@Suite struct DispatcherTests {
    /// A callback receiver that answers with the queued statuses in turn and records what it got.
    final class Receiver: Sendable {
        let statuses: Mutex<[Int]>
        struct Call: Sendable {
            let signatureValid: Bool
            let idempotencyKey: String
            let text: String?
            let to: String?
        }
        let received = Mutex<[Call]>([])
        let secret = "s3cret"

        init(statuses: [Int]) {
            self.statuses = Mutex(statuses)
        }

        func app() -> some ApplicationProtocol {
            let router = Router()
            router.post("callback") { request, _ -> Response in
                let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
                let valid = CallbackSignature.verify(
                    request.headers[HTTPField.Name("X-Switchboard-Signature")!] ?? "", secret: self.secret,
                    timestamp: request.headers[HTTPField.Name("X-Switchboard-Timestamp")!] ?? "", body: body
                )
                let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
                let call = Call(signatureValid: valid, idempotencyKey: request.headers[HTTPField.Name("Idempotency-Key")!] ?? "",
                                text: object["text"] as? String, to: object["to"] as? String)
                self.received.withLock { $0.append(call) }
                let status = self.statuses.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
                return Response(status: .init(code: status), headers: [HTTPField.Name("X-Message-Id")!: "cb-1"])
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    func withDispatcher(statuses: [Int], _ body: @Sendable (SQLiteHubStorage, OutboxDispatcher, Receiver) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dispatch-\(UUID().uuidString).sqlite").path
        let storage = try SQLiteHubStorage(path: path)
        let transport = CurlTransport()
        let receiver = Receiver(statuses: statuses)
        try await receiver.app().test(.live) { client in
            let sender = APICallbackSender(url: "http://127.0.0.1:\(client.port!)/callback", secret: receiver.secret, transport: transport)
            let dispatcher = OutboxDispatcher(storage: storage, senders: [sender], retry: RetryPolicy(baseDelay: .seconds(1), maxAttempts: 3),
                                              logger: Logger(label: "test"))
            try await body(storage, dispatcher, receiver)
        }
        await transport.shutdown()
        await storage.close()
    }

    @Test func deliversSignedCallbackAndMarksSent() async throws {
        try await withDispatcher(statuses: [200]) { storage, dispatcher, receiver in
            let landed = try await storage.receive(InboundMessage(channel: .api, from: "crm-1", text: "hi", receivedAt: Date()))
            let reply = try await storage.reply(conversationId: landed.conversationId, ReplyDraft(text: "hello back"), authorId: nil, idempotencyKey: nil)
            #expect(try await dispatcher.dispatchDue() == 1)
            let calls = receiver.received.withLock { $0 }
            #expect(calls.count == 1)
            #expect(calls.first?.signatureValid == true)
            #expect(calls.first?.idempotencyKey == reply.id)
            #expect(calls.first?.text == "hello back")
            #expect(calls.first?.to == "crm-1")
            let sent = try await storage.message(id: reply.id)
            #expect(sent.deliveryState == .sent)
            #expect(sent.providerMessageId == "cb-1")
        }
    }

    @Test func retriesServerErrorsThenSucceedsWithTheSameKey() async throws {
        try await withDispatcher(statuses: [503]) { storage, dispatcher, receiver in
            let landed = try await storage.receive(InboundMessage(channel: .api, from: "crm-2", text: "hi", receivedAt: Date()))
            let reply = try await storage.reply(conversationId: landed.conversationId, ReplyDraft(text: "retry me"), authorId: nil, idempotencyKey: nil)
            try await dispatcher.dispatchDue()
            let afterFirst = try await storage.message(id: reply.id)
            #expect(afterFirst.deliveryState == .queued)
            #expect(afterFirst.error?.contains("503") == true)
            #expect(try await dispatcher.dispatchDue() == 0)
            try await dispatcher.dispatchDue(now: Date().addingTimeInterval(5))
            #expect(try await storage.message(id: reply.id).deliveryState == .sent)
            let keys = receiver.received.withLock { $0.map(\.idempotencyKey) }
            #expect(keys == [reply.id, reply.id])
        }
    }

    @Test func clientErrorsFailAtOnceWithTheReason() async throws {
        try await withDispatcher(statuses: [400]) { storage, dispatcher, _ in
            let landed = try await storage.receive(InboundMessage(channel: .api, from: "crm-3", text: "hi", receivedAt: Date()))
            let reply = try await storage.reply(conversationId: landed.conversationId, ReplyDraft(text: "nope"), authorId: nil, idempotencyKey: nil)
            try await dispatcher.dispatchDue()
            let failed = try await storage.message(id: reply.id)
            #expect(failed.deliveryState == .failed)
            #expect(failed.error?.contains("400") == true)
            #expect(try await dispatcher.dispatchDue(now: Date().addingTimeInterval(3600)) == 0)
        }
    }

    @Test func deadLettersAfterMaxAttempts() async throws {
        try await withDispatcher(statuses: [500, 500, 500]) { storage, dispatcher, receiver in
            let landed = try await storage.receive(InboundMessage(channel: .api, from: "crm-4", text: "hi", receivedAt: Date()))
            let reply = try await storage.reply(conversationId: landed.conversationId, ReplyDraft(text: "doomed"), authorId: nil, idempotencyKey: nil)
            for hour in 0..<5 { try await dispatcher.dispatchDue(now: Date().addingTimeInterval(Double(hour) * 3600)) }
            #expect(receiver.received.withLock { $0.count } == 3)
            #expect(try await storage.message(id: reply.id).deliveryState == .failed)
        }
    }
}
