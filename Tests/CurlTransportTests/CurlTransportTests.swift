import CurlTransport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The transport against a real HTTP server on loopback.
@Suite struct CurlTransportTests {
    static func peer() -> some ApplicationProtocol {
        let router = Router()
        router.post("echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers[HTTPField.Name("X-Seen-Token")!] = request.headers[HTTPField.Name("X-Token")!] ?? ""
            headers[HTTPField.Name("X-Seen-Method")!] = request.method.rawValue
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        router.patch("echo") { request, _ -> Response in
            Response(status: .ok, headers: [HTTPField.Name("X-Seen-Method")!: request.method.rawValue], body: .init(byteBuffer: try await request.body.collect(upTo: 1 << 20)))
        }
        router.get("status/:code") { _, context -> Response in
            Response(status: .init(code: Int(context.parameters.get("code")!)!))
        }
        router.get("slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(3))
            return "late"
        }
        router.get("big") { _, _ -> Response in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x61, count: 256 * 1024)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func postsBodyAndHeadersAndReadsTheAnswer() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let body = Array("héllo, 世界".utf8)
            let response = try await transport.perform(TransportRequest(
                method: "POST", url: "http://127.0.0.1:\(client.port!)/echo", headers: [("X-Token", "abc")], body: body
            ))
            #expect(response.status == 200)
            #expect(response.body == body)
            #expect(response.header("x-seen-token") == "abc")
            #expect(response.header("X-Seen-Method") == "POST")
        }
        await transport.shutdown()
    }

    @Test func customMethodsCarryTheirBody() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let response = try await transport.perform(TransportRequest(method: "PATCH", url: "http://127.0.0.1:\(client.port!)/echo", body: Array("x=1".utf8)))
            #expect(response.header("X-Seen-Method") == "PATCH")
            #expect(String(decoding: response.body, as: UTF8.self) == "x=1")
        }
        await transport.shutdown()
    }

    @Test func errorStatusesAreAnswersNotFailures() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let response = try await transport.perform(TransportRequest(url: "http://127.0.0.1:\(client.port!)/status/503"))
            #expect(response.status == 503)
        }
        await transport.shutdown()
    }

    @Test func manyConcurrentRequestsAllComplete() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let port = client.port!
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let response = try await transport.perform(TransportRequest(method: "POST", url: "http://127.0.0.1:\(port)/echo", body: Array("\(index)".utf8)))
                        return String(decoding: response.body, as: UTF8.self)
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(bodies == Set((0..<100).map(String.init)))
        }
        await transport.shutdown()
    }

    @Test func timeoutFailsWithCurlsReason() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let error = await #expect(throws: CurlError.self) {
                _ = try await transport.perform(TransportRequest(url: "http://127.0.0.1:\(client.port!)/slow", timeout: .milliseconds(300)))
            }
            #expect(error?.code == 28)
            #expect(error?.isTransient == true)
        }
        await transport.shutdown()
    }

    @Test func oversizedResponseIsRefused() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let error = await #expect(throws: CurlError.self) {
                _ = try await transport.perform(TransportRequest(url: "http://127.0.0.1:\(client.port!)/big", maxResponseBytes: 1024))
            }
            #expect(error?.message.contains("larger than 1024") == true)
        }
        await transport.shutdown()
    }

    @Test func refusedConnectionIsATransientFailure() async throws {
        let transport = CurlTransport()
        let error = await #expect(throws: CurlError.self) {
            _ = try await transport.perform(TransportRequest(url: "http://127.0.0.1:1/", timeout: .seconds(5)))
        }
        #expect(error?.code == 7)
        #expect(error?.isTransient == true)
        await transport.shutdown()
    }

    @Test func cancellingTheCallerEndsTheTransfer() async throws {
        let transport = CurlTransport()
        try await Self.peer().test(.live) { client in
            let port = client.port!
            let started = ContinuousClock.now
            let task = Task { try await transport.perform(TransportRequest(url: "http://127.0.0.1:\(port)/slow")) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
        await transport.shutdown()
    }

    @Test func afterShutdownRequestsFail() async throws {
        let transport = CurlTransport()
        await transport.shutdown()
        await #expect(throws: CurlError.self) { _ = try await transport.perform(TransportRequest(url: "http://127.0.0.1:1/")) }
    }
}
