import Crypto
import Foundation
import HubCore
import Testing
@testable import WebChatAdapter

/// The web chat's pure rules: rate limits, origins, signed identities and what a visitor may see.
@Suite struct WebChatRulesTests {
    @Test func aBucketAllowsItsBurstThenRefillsEvenly() {
        var limiter = RateLimiter(perMinute: 6)
        for _ in 0..<6 { #expect(limiter.take("v", now: 0) == .allowed) }
        #expect(limiter.take("v", now: 0) == .limited(retryAfter: 10))
        #expect(limiter.take("other", now: 0) == .allowed, "keys have their own buckets")
        #expect(limiter.take("v", now: 9) == .limited(retryAfter: 1))
        #expect(limiter.take("v", now: 10.5) == .allowed, "one token every 10 s")
        #expect(limiter.take("v", now: 10.6) == .limited(retryAfter: 10))
    }

    @Test(arguments: 0..<50)
    func noWindowOfAMinuteEverExceedsTheLimitPlusItsRefill(seed: Int) {
        // Property: whatever the arrival pattern, at most perMinute + perMinute (refill) pass in any 60 s.
        var limiter = RateLimiter(perMinute: 10)
        var now = 0.0
        var allowedAt: [Double] = []
        for step in 0..<2000 {
            // Gaps of 0–499 ms in a scrambled but replayable order, a different one per seed.
            now += Double((step &* 7919 &+ seed &* 104_729) % 500) / 1000
            if limiter.take("k", now: now) == .allowed { allowedAt.append(now) }
        }
        for (index, start) in allowedAt.enumerated() {
            let inWindow = allowedAt[index...].prefix { $0 < start + 60 }.count
            #expect(inWindow <= 20)
        }
        #expect(allowedAt.count >= Int(now / 60) * 10, "and the limit is not stricter than promised")
    }

    @Test func forgottenKeysAreOnlyFullOnes() {
        var limiter = RateLimiter(perMinute: 60, maxKeys: 10)
        for index in 0..<10 { _ = limiter.take("old-\(index)", now: 0) }
        _ = limiter.take("busy", now: 100)
        _ = limiter.take("new", now: 100)
        #expect(limiter.count <= 2)
    }

    @Test func originsAreTheConfiguredOnesOrTheHubsOwn() {
        let site = WebChatSite(key: "shop", allowedOrigins: ["https://Shop.example/"])
        #expect(site.allows(origin: "https://shop.example", host: "hub.example:8080"))
        #expect(!site.allows(origin: "https://evil.example", host: "hub.example:8080"))
        #expect(site.allows(origin: "http://hub.example:8080", host: "hub.example:8080"), "the demo page on the hub itself")
        #expect(site.allows(origin: nil, host: "hub.example"), "no Origin: not a browser, the token decides")
        #expect(!site.allows(origin: "null", host: "hub.example"))
    }

    @Test func identitiesAreVerifiedByTheirHMACOnly() {
        let site = WebChatSite(key: "default", identitySecret: "s3cret")
        let mac = HMAC<SHA256>.authenticationCode(for: Data("user-42".utf8), using: SymmetricKey(data: Data("s3cret".utf8)))
        let signature = mac.map { String(format: "%02x", $0) }.joined()
        #expect(site.verifies(identifier: "user-42", signature: signature))
        #expect(site.verifies(identifier: "user-42", signature: signature.uppercased()))
        #expect(!site.verifies(identifier: "user-43", signature: signature))
        #expect(!site.verifies(identifier: "user-42", signature: String(signature.dropLast())))
        #expect(!WebChatSite(key: "default").verifies(identifier: "user-42", signature: signature), "no secret, no verified identity")
    }

    @Test func visitorsSeeMessagesButNeverNotes() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let inbound = Message(id: "msg_1", conversationId: "conv_1", direction: .inbound, authorKind: .customer, channel: .webchat,
                              text: "<img src=x onerror=alert(1)>", deliveryState: .received, externalId: "vis_1:c-1", createdAt: now, updatedAt: now)
        let seen = VisitorMessage(inbound)
        #expect(seen != nil)
        #expect(seen?.from == .visitor)
        #expect(seen?.text == "<img src=x onerror=alert(1)>", "text stays text")
        #expect(seen?.clientId == "c-1")
        var reply = inbound
        reply.direction = .outbound
        reply.authorKind = .agent
        #expect(VisitorMessage(reply)?.from == .agent)
        #expect(VisitorMessage(reply)?.clientId == nil)
        var note = reply
        note.kind = .note
        #expect(VisitorMessage(note) == nil)
        var email = inbound
        email.channel = .email
        #expect(VisitorMessage(email) == nil)
    }

    @Test func clientIdsAreShortAndPlain() {
        #expect(ClientID.isValid("c-1_A"))
        #expect(!ClientID.isValid(""))
        #expect(!ClientID.isValid(String(repeating: "a", count: 65)))
        #expect(!ClientID.isValid("a:b"))
        #expect(!ClientID.isValid("é"))
        #expect(ClientID.parse(ClientID.externalId(visitorId: "vis_1", clientId: "c-1")) == "c-1")
    }
}
