import Foundation
import HubCore
import Hummingbird

/// `/v1/customers`: profiles and the identities they are known by.
struct CustomersController {
    let storage: any HubStorage
    let completeness: ProfileCompleteness
    /// The customers' own preferences page, when configured.
    let preferencesLink: PreferencesLink?

    /// The channel preferences of a customer, replaced as a whole.
    struct Preferences: ResponseEncodable, Decodable {
        var items: [ChannelPreference]
    }

    /// A consent the customer gave or withdrew, as an agent or another system records it.
    struct NewConsent: Decodable {
        var channel: Channel
        var address: String
        var purpose: ConsentPurpose
        var state: ConsentState
        var evidence: String?
    }

    /// Where a customer manages how the center reaches them.
    struct PreferencesURL: ResponseEncodable {
        var url: String
    }

    /// The customer to merge into the one the path names.
    struct MergeRequest: Decodable {
        var customerId: String
    }

    /// An address the customer is known by, as an agent adds it.
    struct NewIdentity: Decodable {
        var channel: Channel
        var address: String
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("customers") { request, context in
            _ = try context.require(.readCustomers)
            let query = request.uri.queryParameters.get("q")
            if let query, query.count > 200 { throw ValidationError("q", "must be at most 200 characters") }
            return try await storage.customers(query: query, try request.pageRequest())
        }
        group.get("customers/:id") { _, context in
            _ = try context.require(.readCustomers)
            return try await storage.customer(id: try context.parameters.require("id"))
        }
        group.patch("customers/:id") { request, context in
            _ = try context.require(.writeCustomers)
            let patch = try await context.requestDecoder.decode(CustomerPatch.self, from: request, context: context)
            return try await storage.updateCustomer(id: try context.parameters.require("id"), patch)
        }
        // The link to the customer's preferences page, for an agent to send on any channel.
        group.get("customers/:id/preferences-link") { _, context -> PreferencesURL in
            _ = try context.require(.readCustomers)
            let customer = try await storage.customer(id: try context.parameters.require("id"))
            guard let preferencesLink else {
                throw HubError.unprocessable("preferences_page_off", "Set customers.preferencesSecret to give customers a preferences page.")
            }
            return PreferencesURL(url: preferencesLink.url(customerId: customer.id))
        }
        group.get("customers/:id/completeness") { _, context -> ProfileCompleteness.Score in
            _ = try context.require(.readCustomers)
            let customer = try await storage.customer(id: try context.parameters.require("id"))
            return completeness.score(customer, identities: try await storage.identities(customerId: customer.id))
        }
        // Every profile against the required fields, a page of customers at a time.
        group.get("reports/completeness") { _, context -> ProfileCompleteness.Report in
            _ = try context.require(.readCustomers)
            var tally = ProfileCompleteness.Tally(fields: completeness.requiredFields)
            var cursor: String?
            while case let page = try await storage.exportCustomers(after: cursor, limit: 1_000), let last = page.last {
                for entry in page { tally.add(completeness.score(entry.customer, identities: entry.identities)) }
                cursor = last.customer.id
            }
            return tally.report
        }
        group.get("customers/:id/identities") { _, context in
            _ = try context.require(.readCustomers)
            return Items(items: try await storage.identities(customerId: try context.parameters.require("id")))
        }
        // Two profiles of one person: the one named in the path remains.
        group.post("customers/:id/merge") { request, context -> CustomerMerge in
            _ = try context.require(.mergeCustomers)
            let body = try await context.requestDecoder.decode(MergeRequest.self, from: request, context: context)
            return try await storage.mergeCustomers(survivorId: try context.parameters.require("id"), mergedId: body.customerId)
        }
        group.post("customers/:id/identities") { request, context -> Response in
            _ = try context.require(.writeCustomers)
            let body = try await context.requestDecoder.decode(NewIdentity.self, from: request, context: context)
            let identity = try await storage.addIdentity(customerId: try context.parameters.require("id"), channel: body.channel, address: body.address)
            var response = try context.responseEncoder.encode(identity, from: request, context: context)
            response.status = .created
            return response
        }
        // Valuable customers gone quiet: no message for `days` (30), or far fewer lately than before.
        group.get("reports/early-warning") { request, context in
            _ = try context.require(.readCustomers)
            let days = try request.integer("days", default: 30, in: 1...3650)
            let window = try request.integer("window", default: 90, in: 1...3650)
            let tiers = try (request.uri.queryParameters.get("tiers") ?? "vip").split(separator: ",").map { raw in
                guard let tier = CustomerTier(rawValue: String(raw)) else { throw ValidationError("tiers", "'\(raw)' is not a tier") }
                return tier
            }
            let now = Date()
            let activity = try await storage.customerActivity(tiers: tiers, windowDays: window, now: now)
            return Items(items: EarlyWarning.report(activity, now: now, quietDays: days))
        }
        group.get("customers/:id/preferences") { _, context in
            _ = try context.require(.readCustomers)
            return Preferences(items: try await storage.preferences(customerId: try context.parameters.require("id")))
        }
        group.put("customers/:id/preferences") { request, context in
            _ = try context.require(.writeCustomers)
            let body = try await context.requestDecoder.decode(Preferences.self, from: request, context: context)
            return Preferences(items: try await storage.setPreferences(customerId: try context.parameters.require("id"), body.items))
        }
        group.get("customers/:id/consents") { _, context in
            _ = try context.require(.readCustomers)
            let customer = try await storage.customer(id: try context.parameters.require("id"))
            return Items(items: try await storage.consents(customerId: customer.id))
        }
        // What the customer told an agent or another system: appended to the ledger, the newest entry counts.
        group.post("customers/:id/consents") { request, context -> Response in
            let principal = try context.require(.writeCustomers)
            let body = try await context.requestDecoder.decode(NewConsent.self, from: request, context: context)
            if let evidence = body.evidence, evidence.count > 1_000 { throw ValidationError("evidence", "must be at most 1000 characters") }
            let customer = try await storage.customer(id: try context.parameters.require("id"))
            let address = try Address.normalize(body.address, on: body.channel, field: "address")
            guard try await storage.identities(customerId: customer.id).contains(where: { $0.channel == body.channel && $0.address == address }) else {
                throw HubError.unprocessable("unknown_address", "The customer has no \(body.channel.rawValue) address \(address).")
            }
            let record = ConsentRecord(customerId: customer.id, channel: body.channel, address: address, purpose: body.purpose, state: body.state,
                                       source: principal.agentId == nil ? .api : .agent, evidence: body.evidence, createdAt: Date())
            try await storage.recordConsent(record)
            var response = try context.responseEncoder.encode(record, from: request, context: context)
            response.status = .created
            return response
        }
    }
}

extension ProfileCompleteness.Score: ResponseEncodable {}
extension ProfileCompleteness.Report: ResponseEncodable {}
extension CustomerMerge: ResponseEncodable {}
