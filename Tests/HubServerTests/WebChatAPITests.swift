import Foundation
import HTTPTypes
import HubCore
import HubServer
import Hummingbird
import HummingbirdTesting
import Testing
import WebChatAdapter

/// The visitor API as the widget uses it, and what agents see of it through the inbox.
@Suite struct WebChatAPITests {
    @Test func outsideOpeningHoursTheWidgetLearnsWhenTheCenterOpens() async throws {
        // Open around the clock except today and tomorrow (UTC): closed now, open the day after tomorrow at 00:00.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let today = utc.startOfDay(for: Date())
        let day = { (offset: Int) in utc.date(byAdding: .day, value: offset, to: today)! }
        let stamp = { (date: Date) in String(date.formatted(.iso8601.year().month().day()).prefix(10)) }
        let hours = BusinessCalendar(
            id: "office", timeZone: "UTC", hours: [OpeningHours(days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open: "00:00", close: "24:00")],
            holidays: [stamp(day(0)), stamp(day(1))]
        )
        var routing = RoutingConfiguration.standard
        routing.calendars = [hours]
        routing.queues[0].calendarId = "office"
        let json = String(decoding: try JSONEncoder().encode(routing), as: UTF8.self)
        let opensAt = day(2).formatted(.iso8601)
        let hub = try await TestHub(routing: .standard)
        try await hub.app.test(.router) { client in
            let open = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: "{}")
            #expect(open.object["closed"] as? Bool == false)
            // A supervisor stores opening hours: widgets learn of them without a restart.
            #expect(try await client.send(.put, "/v1/routing/configuration", token: hub.adminToken, json: json).status == .ok)
            var closed = false
            for _ in 0..<200 where !closed {
                let session = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: "{}")
                closed = session.object["closed"] as? Bool == true
                if closed { #expect(session.object["opensAt"] as? String == opensAt) }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(closed)
        }
        await hub.close()
    }

    @Test func aVisitorsMessageReachesTheInboxAsLiteralText() async throws {
        let hub = try await TestHub()
        try await hub.app.test(.router) { client in
            let session = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: #"{"name":"Ana"}"#)
            #expect(session.status == .created)
            let token = try #require(session.object["token"] as? String)
            #expect(token.hasPrefix("vt_"))
            #expect(session.object["agentsOnline"] as? Bool == false)

            let injection = "<img src=x onerror=alert(1)>"
            let body = String(decoding: try JSONEncoder().encode(["text": injection, "clientId": "c-1"]), as: UTF8.self)
            let posted = try await client.send(.post, "/webchat/v1/messages", token: token, json: body)
            #expect(posted.status == .created)
            let again = try await client.send(.post, "/webchat/v1/messages", token: token, json: body)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again.object["id"] as? String == posted.object["id"] as? String)

            let conversationId = try #require(posted.object["conversationId"] as? String)
            let inbox = try await client.send(.get, "/v1/conversations/\(conversationId)/messages", token: hub.adminToken)
            let items = try #require(inbox.object["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["text"] as? String == injection)
            #expect(items.first?["channel"] as? String == "webchat")

            _ = try await client.send(.post, "/v1/conversations/\(conversationId)/messages", token: hub.adminToken, json: #"{"text":"note","private":true}"#)
            _ = try await client.send(.post, "/v1/conversations/\(conversationId)/messages", token: hub.adminToken, json: #"{"text":"Hi Ana!"}"#)
            let transcript = try await client.send(.get, "/webchat/v1/messages", token: token)
            let seen = try #require(transcript.object["items"] as? [[String: Any]])
            #expect(seen.map { $0["text"] as? String } == [injection, "Hi Ana!"])
            #expect(seen.map { $0["from"] as? String } == ["visitor", "agent"])
        }
        await hub.close()
    }

    @Test func badVisitorInputIsRefusedInTheOneErrorShapeAndStoresNothing() async throws {
        let hub = try await TestHub(webChat: WebChatConfiguration(
            sites: [WebChatSite(key: "default", allowedOrigins: ["https://shop.example"], identitySecret: "s3cret")],
            visitorMessagesPerMinute: 3
        ))
        try await hub.app.test(.router) { client in
            let unknown = try await client.send(.get, "/webchat/v1/session", token: "vt_nope")
            #expect(unknown.status == .unauthorized)
            #expect(unknown.errorCode == "unauthorized")
            let evil = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: "{}", headers: [.origin: "https://evil.example"])
            #expect(evil.status == .forbidden)
            #expect(evil.errorCode == "origin_not_allowed")
            let forged = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: #"{"identifier":"u1","signature":"00"}"#)
            #expect(forged.errorCode == "invalid_signature")
            let noSite = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: #"{"site":"nowhere"}"#)
            #expect(noSite.status == .notFound)

            let allowed = try await client.send(.post, "/webchat/v1/sessions", token: nil, json: "{}", headers: [.origin: "https://shop.example"])
            #expect(allowed.status == .created)
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://shop.example")
            let token = try #require(allowed.object["token"] as? String)
            let preflight = try await client.send(.options, "/webchat/v1/messages", token: nil, headers: [.origin: "https://shop.example"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowHeaders] == "Authorization, Content-Type")

            let tooLarge = try await client.send(.post, "/webchat/v1/messages", token: token, json: #"{"text":"\#(String(repeating: "a", count: 20_000))"}"#)
            #expect(tooLarge.status == .contentTooLarge)
            let tooLong = try await client.send(.post, "/webchat/v1/messages", token: token, json: #"{"text":"\#(String(repeating: "a", count: 4001))"}"#)
            #expect(tooLong.errorCode == "invalid_text")
            let badClientId = try await client.send(.post, "/webchat/v1/messages", token: token, json: #"{"text":"hi","clientId":"a:b"}"#)
            #expect(badClientId.errorCode == "invalid_client_id")
            let notJSON = try await client.send(.post, "/webchat/v1/messages", token: token, json: "{")
            #expect(notJSON.status == .badRequest)
            for index in 1...3 {
                let sent = try await client.send(.post, "/webchat/v1/messages", token: token, json: #"{"text":"hi \#(index)"}"#)
                #expect(sent.status == .created)
            }
            let limited = try await client.send(.post, "/webchat/v1/messages", token: token, json: #"{"text":"one too many"}"#)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            #expect(limited.headers[.retryAfter] != nil)
            let transcript = try await client.send(.get, "/webchat/v1/messages", token: token)
            #expect((transcript.object["items"] as? [Any])?.count == 3, "only the three accepted messages are stored")
        }
        await hub.close()
    }
}
