// Outbound SMTP throughput: messages written by the email adapter (MIME, threading headers) and handed
// to an SMTP server through CurlTransport, `--connections` at a time over reused connections.
//
//   EmailBenchmark --url smtp://127.0.0.1:PORT [--messages 20000] [--connections 20] [--size 1000]
//
// Benchmarks/email.sh runs it against postfix's smtp-sink beside smtp-source, the ceiling.
import CurlTransport
import EmailAdapter
import Foundation
import HubCore
import HubStore
import Logging

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let name = arguments.popFirst() {
    guard name.hasPrefix("--"), let value = arguments.popFirst() else { fatalError("usage: EmailBenchmark --url smtp://HOST:PORT [--messages N] [--connections N] [--size BYTES]") }
    options[String(name.dropFirst(2))] = value
}
guard let url = options["url"] else { fatalError("--url smtp://HOST:PORT is required") }
let total = Int(options["messages"] ?? "") ?? 20_000
let connections = Int(options["connections"] ?? "") ?? 20
let size = Int(options["size"] ?? "") ?? 1_000

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("email-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let storage = try SQLiteHubStorage(path: directory.appendingPathComponent("bench.sqlite").path, logger: Logger(label: "bench"))
let transport = CurlTransport(maxConnectionsPerHost: connections)
let configuration = EmailConfiguration(address: "support@example.test", fromName: "Acme Support", replySecret: "bench",
                                       smtp: SMTPRelay(url: url, tls: .none))
let sender = EmailSender(configuration: configuration, transport: transport, storage: storage)
let body = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: max(1, size / 45))

func delivery(_ index: Int) -> OutboundDelivery {
    OutboundDelivery(
        messageId: HubID.make("msg"), conversationId: HubID.make("conv"), customerId: "cus_bench", channel: .email,
        to: "customer\(index)@example.org", text: body, html: nil, attachments: [], idempotencyKey: "k\(index)",
        subject: "Your order #\(index)", thread: ["order-\(index)@example.org"], createdAt: Date()
    )
}

// Warm up: connections opened before the clock starts, as smtp-source's are counted from its first message.
for index in 0..<connections { _ = try await sender.send(delivery(-index - 1)) }

let started = DispatchTime.now().uptimeNanoseconds
var failures = 0
try await withThrowingTaskGroup(of: Bool.self) { group in
    var next = 0
    // Twice the connections in flight keeps every connection busy while replies come back.
    while next < min(total, connections * 2) {
        let index = next
        group.addTask { (try? await sender.send(delivery(index))) != nil }
        next += 1
    }
    while let ok = try await group.next() {
        if !ok { failures += 1 }
        if next < total {
            let index = next
            group.addTask { (try? await sender.send(delivery(index))) != nil }
            next += 1
        }
    }
}
let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
await transport.shutdown()
if failures > 0 { print("email: \(failures) of \(total) sends failed") }
print(String(format: "email: %d messages in %.2f s = %.0f msg/s (%d connections, ~%d-byte bodies)", total - failures, seconds,
             Double(total - failures) / seconds, connections, size))
