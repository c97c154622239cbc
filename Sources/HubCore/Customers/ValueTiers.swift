import Foundation

/// Value tiers from what the center knows of its customers' purchases: the classic customer pyramid
/// (ABC by percentile of revenue: top 1 % platinum, next 4 % gold, next 15 % iron, the other 80 % lead)
/// decides the routing tier, and RFM scores (recency, frequency, monetary, 1–5 each by quintile) describe
/// each customer for segments.
public enum ValueTiers {
    /// What one customer bought.
    public struct Purchases: Sendable, Equatable {
        public var customerId: String
        public var lastOrderAt: Date?
        public var orders: Double
        public var revenue: Double

        public init(customerId: String, lastOrderAt: Date?, orders: Double, revenue: Double) {
            self.customerId = customerId
            self.lastOrderAt = lastOrderAt
            self.orders = orders
            self.revenue = revenue
        }

        /// Read from a customer's value attributes (`lastOrderAt`, `orders`, `revenue`); nil without any.
        public init?(_ customer: Customer) {
            let attributes = customer.attributes
            guard attributes["revenue"] != nil || attributes["orders"] != nil || attributes["lastOrderAt"] != nil else { return nil }
            self.init(customerId: customer.id, lastOrderAt: attributes["lastOrderAt"].flatMap(ValueTiers.date),
                      orders: attributes["orders"].flatMap(Double.init) ?? 0, revenue: attributes["revenue"].flatMap(Double.init) ?? 0)
        }
    }

    /// A customer's place: the pyramid segment, the tier it gives, and the RFM scores.
    public struct Assessment: Sendable, Equatable {
        public var segment: String
        public var tier: CustomerTier
        /// Three digits, recency then frequency then monetary, 5 best: "545".
        public var rfm: String
    }

    /// The pyramid: cumulative share of customers (by revenue, best first), segment, tier.
    public static let pyramid: [(share: Double, segment: String, tier: CustomerTier)] = [
        (0.01, "platinum", .vip), (0.05, "gold", .vip), (0.20, "iron", .normal), (1.0, "lead", .low),
    ]

    /// Assesses every customer against the others.
    public static func assess(_ customers: [Purchases], now: Date) -> [String: Assessment] {
        guard !customers.isEmpty else { return [:] }
        let byRevenue = customers.sorted { ($0.revenue, $1.customerId) > ($1.revenue, $0.customerId) }
        let count = Double(customers.count)
        let recency = scores(customers) { -(now.timeIntervalSince($0.lastOrderAt ?? .distantPast)) }
        let frequency = scores(customers) { $0.orders }
        let monetary = scores(customers) { $0.revenue }
        var result: [String: Assessment] = [:]
        for (rank, customer) in byRevenue.enumerated() {
            // Rank 0 is the best; a customer belongs to the first band whose share covers their position.
            let position = Double(rank + 1) / count
            let band = pyramid.first { position <= $0.share + 1e-9 } ?? pyramid[pyramid.count - 1]
            result[customer.customerId] = Assessment(
                segment: band.segment, tier: band.tier,
                rfm: "\(recency[customer.customerId] ?? 1)\(frequency[customer.customerId] ?? 1)\(monetary[customer.customerId] ?? 1)"
            )
        }
        return result
    }

    /// Quintile scores 1–5 of `value` (higher is better); equal values share a score.
    private static func scores(_ customers: [Purchases], _ value: (Purchases) -> Double) -> [String: Int] {
        let sorted = customers.map { ($0.customerId, value($0)) }.sorted { $0.1 < $1.1 }
        var result: [String: Int] = [:]
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1].1 == sorted[index].1 { end += 1 }
            // The score of a run of equal values is that of its last position.
            let score = min(5, 1 + (end * 5) / sorted.count)
            for position in index...end { result[sorted[position].0] = score }
            index = end + 1
        }
        return result
    }

    /// Whether the customer's tier is the value tiers' to change: none yet, or the one its computed segment gave.
    /// A tier set by hand or by an import (and every `blocklisted`) is kept.
    public static func isComputed(_ customer: Customer) -> Bool {
        guard let tier = customer.tier else { return true }
        guard let segment = customer.attributes["valueSegment"] else { return false }
        return pyramid.first { $0.segment == segment }?.tier.rawValue == tier
    }

    /// An ISO 8601 date or date-time (`2026-03-01`, `2026-03-01T10:00:00Z`).
    public static func date(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text + "T00:00:00Z", strategy: .iso8601)
    }
}
