import Foundation

/// How complete customer profiles are against the fields the center requires: per customer, and overall.
public struct ProfileCompleteness: Sendable {
    /// The required fields: `name`, `email`, `phone`, `timeZone`, `locale`, `tags`, `accountManager`, or any attribute by name.
    public var requiredFields: [String]

    public static let defaultFields = ["name", "email", "phone", "timeZone", "locale"]

    public init(requiredFields: [String] = ProfileCompleteness.defaultFields) {
        self.requiredFields = requiredFields
    }

    /// One customer's profile: the share of required fields filled, and which are missing.
    public struct Score: Codable, Sendable, Equatable {
        public var customerId: String
        /// 0–100, rounded down.
        public var percent: Int
        public var missing: [String]
    }

    /// Every profile together.
    public struct Report: Codable, Sendable, Equatable {
        public var customers: Int
        /// The mean of the customers' percentages, 0–100 (100 when there are none).
        public var averagePercent: Double
        /// How many profiles have every required field.
        public var complete: Int
        /// Per required field, the share of customers who have it, 0–1.
        public var filled: [String: Double]
        public var requiredFields: [String]
    }

    public func score(_ customer: Customer, identities: [Identity]) -> Score {
        let missing = requiredFields.filter { !has($0, customer, identities) }
        let percent = requiredFields.isEmpty ? 100 : (requiredFields.count - missing.count) * 100 / requiredFields.count
        return Score(customerId: customer.id, percent: percent, missing: missing)
    }

    /// Adds up scores as they come (a page at a time): nothing but counts is kept.
    public struct Tally: Sendable {
        private var customers = 0
        private var percents = 0
        private var complete = 0
        private var filled: [String: Int] = [:]
        let fields: [String]

        public init(fields: [String]) {
            self.fields = fields
        }

        public mutating func add(_ score: Score) {
            customers += 1
            percents += score.percent
            if score.missing.isEmpty { complete += 1 }
            for field in fields where !score.missing.contains(field) { filled[field, default: 0] += 1 }
        }

        public var report: Report {
            let count = Double(max(customers, 1))
            return Report(customers: customers, averagePercent: customers == 0 ? 100 : Double(percents) / count, complete: complete,
                          filled: Dictionary(uniqueKeysWithValues: fields.map { ($0, Double(filled[$0] ?? 0) / count) }), requiredFields: fields)
        }
    }

    private func has(_ field: String, _ customer: Customer, _ identities: [Identity]) -> Bool {
        func present(_ value: String?) -> Bool { !(value ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
        switch field {
        case "name": return present(customer.name)
        case "email": return identities.contains { $0.channel == .email }
        case "phone": return identities.contains { $0.channel == .sms }
        case "timeZone": return present(customer.timeZone)
        case "locale": return present(customer.locale)
        case "tags": return !customer.tags.isEmpty
        case "accountManager": return present(customer.accountManagerId)
        default: return present(customer.attributes[field])
        }
    }
}
