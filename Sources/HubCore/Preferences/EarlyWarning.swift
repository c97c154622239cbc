import Foundation

/// How much a customer has been in touch: the newest message they wrote, and how many in two equal windows.
public struct CustomerActivity: Sendable, Equatable {
    public var customerId: String
    public var name: String?
    public var tier: CustomerTier
    /// When the customer last wrote; nil when never.
    public var lastContactAt: Date?
    /// Messages the customer wrote in the last window.
    public var recentContacts: Int
    /// Messages the customer wrote in the window before it.
    public var previousContacts: Int

    public init(customerId: String, name: String?, tier: CustomerTier, lastContactAt: Date?, recentContacts: Int, previousContacts: Int) {
        self.customerId = customerId
        self.name = name
        self.tier = tier
        self.lastContactAt = lastContactAt
        self.recentContacts = recentContacts
        self.previousContacts = previousContacts
    }
}

/// A valuable customer who has gone quiet: why, and the figures behind it.
public struct EarlyWarning: Codable, Sendable, Equatable {
    public enum Reason: String, Codable, Sendable {
        /// No message from the customer for the configured number of days.
        case noContact = "no_contact"
        /// Fewer messages in the last window than `dropRatio` of the window before.
        case contactDropped = "contact_dropped"
    }

    public var customerId: String
    public var name: String?
    public var tier: CustomerTier
    public var reason: Reason
    public var lastContactAt: Date?
    /// Whole days since the last contact; nil when never.
    public var daysSinceContact: Int?
    public var recentContacts: Int
    public var previousContacts: Int

    /// The customers to warn about, the longest silent first: no contact for `quietDays`, or contacts in the
    /// last window below `dropRatio` of the window before (with at least `minimumPrevious` before).
    public static func report(
        _ activity: [CustomerActivity], now: Date, quietDays: Int, dropRatio: Double = 0.5, minimumPrevious: Int = 3
    ) -> [EarlyWarning] {
        activity.compactMap { customer -> EarlyWarning? in
            let days = customer.lastContactAt.map { Int(now.timeIntervalSince($0) / 86_400) }
            let reason: Reason
            if days.map({ $0 >= quietDays }) ?? true {
                reason = .noContact
            } else if customer.previousContacts >= minimumPrevious && Double(customer.recentContacts) < dropRatio * Double(customer.previousContacts) {
                reason = .contactDropped
            } else {
                return nil
            }
            return EarlyWarning(
                customerId: customer.customerId, name: customer.name, tier: customer.tier, reason: reason, lastContactAt: customer.lastContactAt,
                daysSinceContact: days, recentContacts: customer.recentContacts, previousContacts: customer.previousContacts
            )
        }
        .sorted { ($0.lastContactAt ?? .distantPast, $0.customerId) < ($1.lastContactAt ?? .distantPast, $1.customerId) }
    }
}
