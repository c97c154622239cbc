import Foundation
import HubCore
import Hummingbird

/// `/v1/customers`: profiles and the identities they are known by.
struct CustomersController {
    let storage: any HubStorage

    /// The channel preferences of a customer, replaced as a whole.
    struct Preferences: ResponseEncodable, Decodable {
        var items: [ChannelPreference]
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
        group.get("customers/:id/identities") { _, context in
            _ = try context.require(.readCustomers)
            return Items(items: try await storage.identities(customerId: try context.parameters.require("id")))
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
    }
}
