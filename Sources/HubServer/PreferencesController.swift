import Foundation
import HubCore
import Hummingbird

/// `/p/{token}`: the page a customer reaches from the link in every mail, without an account. It shows their
/// addresses; they choose which may carry news and offers, and the channel for replies and updates. A POST of
/// `List-Unsubscribe=One-Click` (RFC 8058, what mail clients send) opts them out of all marketing at once;
/// a GET never changes anything.
struct PreferencesController: Sendable {
    let storage: any HubStorage
    /// Nil when no `customers.preferencesSecret` is set: every link is then not valid.
    let link: PreferencesLink?

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("p/:token") { _, context -> Response in
            guard let customerId = link?.customerId(token: try context.parameters.require("token")) else { return Self.notFound }
            return try await page(customerId, notice: nil)
        }
        router.post("p/:token") { request, context -> Response in
            guard let customerId = link?.customerId(token: try context.parameters.require("token")) else { return Self.notFound }
            guard (try? await storage.customer(id: customerId)) != nil else { return Self.notFound }
            let form = Self.form(String(decoding: (try await request.body.collect(upTo: 64 * 1024)).readableBytesView, as: UTF8.self))
            let addresses = try await reachable(customerId)
            if form.contains(where: { $0.0 == "List-Unsubscribe" && $0.1 == "One-Click" }) {
                for (channel, address) in addresses { try await record(.optedOut, customerId, channel, address) }
                return try await page(customerId, notice: "You will receive no more news or offers from us.")
            }
            let chosen = Set(form.filter { $0.0 == "marketing" }.map(\.1))
            for (channel, address) in addresses {
                try await record(chosen.contains("\(channel.rawValue):\(address)") ? .optedIn : .optedOut, customerId, channel, address)
            }
            if let service = form.first(where: { $0.0 == "service" })?.1 {
                // The standing choice for replies and updates is replaced; a choice for a while (travel) stays.
                var preferences = try await storage.preferences(customerId: customerId).filter { $0.scope != .service || $0.validFrom != nil || $0.validUntil != nil }
                if let first = Channel(rawValue: service), addresses.contains(where: { $0.0 == first }) {
                    let others = addresses.map(\.0).filter { $0 != first }
                    var seen = Set<Channel>()
                    preferences.append(ChannelPreference(scope: .service, channels: ([first] + others).filter { seen.insert($0).inserted }))
                }
                _ = try await storage.setPreferences(customerId: customerId, preferences)
            }
            return try await page(customerId, notice: "Saved. Thank you.")
        }
    }

    /// The customer's email addresses and numbers, newest first.
    private func reachable(_ customerId: String) async throws -> [(Channel, String)] {
        try await storage.identities(customerId: customerId).reversed().filter { $0.channel == .email || $0.channel == .sms }.map { ($0.channel, $0.address) }
    }

    /// A marketing consent from the page, recorded only when it changes the ledger.
    private func record(_ state: ConsentState, _ customerId: String, _ channel: Channel, _ address: String) async throws {
        let latest = try await storage.latestConsents(channel: channel, address: address).first { $0.purpose == .marketing }
        guard latest?.state != state else { return }
        try await storage.recordConsent(ConsentRecord(customerId: customerId, channel: channel, address: address, purpose: .marketing,
                                                      state: state, source: .preferences, evidence: "preferences page", createdAt: Date()))
    }

    private func page(_ customerId: String, notice: String?) async throws -> Response {
        // A customer merged into another since the link was sent: the link is no longer valid.
        guard let customer = try? await storage.customer(id: customerId) else { return Self.notFound }
        let addresses = try await reachable(customerId)
        var optedIn = Set<String>()
        for (channel, address) in addresses where try await storage.latestConsents(channel: channel, address: address)
            .contains(where: { $0.purpose == .marketing && $0.state == .optedIn }) {
            optedIn.insert("\(channel.rawValue):\(address)")
        }
        let standing = try await storage.preferences(customerId: customerId)
            .first { $0.scope == .service && $0.validFrom == nil && $0.validUntil == nil }?.channels.first
        func label(_ channel: Channel, _ address: String) -> String { channel == .email ? "by email to \(HTMLPage.escaped(address))" : "by text message to \(HTMLPage.escaped(address))" }
        let marketing = addresses.map { channel, address in
            let value = "\(channel.rawValue):\(address)"
            return "<label><input type=\"checkbox\" name=\"marketing\" value=\"\(HTMLPage.escaped(value))\"\(optedIn.contains(value) ? " checked" : "")> News and offers \(label(channel, address))</label>"
        }.joined(separator: "\n")
        var seen = Set<Channel>()
        let service = addresses.filter { seen.insert($0.0).inserted }.map { channel, address in
            "<label><input type=\"radio\" name=\"service\" value=\"\(channel.rawValue)\"\(standing == channel ? " checked" : "")> \(label(channel, address))</label>"
        }.joined(separator: "\n")
        let body = """
            \(notice.map { "<p class=\"notice\" role=\"status\">\(HTMLPage.escaped($0))</p>" } ?? "")
            <p>Hello\(customer.name.map { " " + HTMLPage.escaped($0) } ?? ""). Choose what we may send you, and where.</p>
            <form method="post">
            <fieldset><legend>News and offers</legend>
            \(marketing.isEmpty ? "<p>We have no address of yours to send news to.</p>" : marketing)
            </fieldset>
            <fieldset><legend>Replies and updates: reach me first</legend>
            \(service)
            <label><input type="radio" name="service" value="any"\(standing == nil ? " checked" : "")> wherever I last wrote to you</label>
            </fieldset>
            <button type="submit">Save</button>
            </form>
            <form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
            <p><button type="submit">Unsubscribe from all news and offers</button></p></form>
            """
        return HTMLPage.response(title: "How we reach you", body: body)
    }

    private static let notFound = HTMLPage.notValid("Please use the link in our latest email.")

    /// An `application/x-www-form-urlencoded` body as its pairs, in order.
    static func form(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }
}
