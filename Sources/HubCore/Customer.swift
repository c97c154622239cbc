import Foundation

/// A person the center serves, known through one or more identities.
public struct Customer: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var attributes: [String: String]
    public var tags: [String]
    public var tier: String?
    public var timeZone: String?
    public var locale: String?
    /// The agent who looks after this customer: the router gives them the customer's conversations first.
    public var accountManagerId: String?
    /// The id an import gave (a CRM's): importing it again updates this customer.
    public var externalId: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, name: String? = nil, attributes: [String: String] = [:], tags: [String] = [],
        tier: String? = nil, timeZone: String? = nil, locale: String? = nil, accountManagerId: String? = nil, externalId: String? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.attributes = attributes
        self.tags = tags
        self.tier = tier
        self.timeZone = timeZone
        self.locale = locale
        self.accountManagerId = accountManagerId
        self.externalId = externalId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A partial update of a customer's profile; nil fields stay as they are.
public struct CustomerPatch: Codable, Sendable {
    public var name: String?
    public var attributes: [String: String]?
    public var tags: [String]?
    public var timeZone: String?
    public var locale: String?
    /// The value class; decides queue order and service level.
    public var tier: CustomerTier?
    /// The agent who looks after the customer; "" clears it.
    public var accountManagerId: String?

    public init(
        name: String? = nil, attributes: [String: String]? = nil, tags: [String]? = nil, timeZone: String? = nil, locale: String? = nil,
        tier: CustomerTier? = nil, accountManagerId: String? = nil
    ) {
        self.name = name
        self.attributes = attributes
        self.tags = tags
        self.timeZone = timeZone
        self.locale = locale
        self.tier = tier
        self.accountManagerId = accountManagerId
    }

    /// Checks the patch: bounded sizes, a time zone the system knows.
    public func validated() throws(ValidationError) -> CustomerPatch {
        if let name, name.count > 200 { throw ValidationError("name", "must be at most 200 characters") }
        try requireNoNUL(name, "name")
        try requireNoNUL(locale, "locale")
        if let attributes {
            if attributes.count > 100 { throw ValidationError("attributes", "at most 100 attributes") }
            for (key, value) in attributes where key.isEmpty || key.count > 64 || value.count > 1000 {
                throw ValidationError("attributes", "keys are 1–64 characters and values at most 1000")
            }
        }
        if let tags { try Tags.validate(tags) }
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw ValidationError("timeZone", "'\(timeZone)' is not an IANA time zone")
        }
        if let locale, locale.isEmpty || locale.count > 35 { throw ValidationError("locale", "must be a BCP 47 tag") }
        return self
    }
}

/// One way of reaching a customer: a channel and a normalized address on it.
public struct Identity: Codable, Sendable, Equatable {
    public var channel: Channel
    public var address: String
    public var customerId: String
    public var verified: Bool
    public var createdAt: Date

    public init(channel: Channel, address: String, customerId: String, verified: Bool, createdAt: Date) {
        self.channel = channel
        self.address = address
        self.customerId = customerId
        self.verified = verified
        self.createdAt = createdAt
    }
}

/// What an import did, per batch or in total.
public struct CustomerImportReport: Codable, Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    /// Lines the store refused (an address that belongs to another customer), with why.
    public var rejected: [ImportProblem] = []

    public init() {}

    public mutating func add(_ other: CustomerImportReport) {
        created += other.created
        updated += other.updated
        unchanged += other.unchanged
        rejected += other.rejected
    }
}

/// A customer with everything an export writes of them.
public struct CustomerExport: Sendable {
    public var customer: Customer
    public var identities: [Identity]
    /// The newest entry per address and purpose.
    public var consents: [ConsentRecord]

    public init(customer: Customer, identities: [Identity], consents: [ConsentRecord]) {
        self.customer = customer
        self.identities = identities
        self.consents = consents
    }
}

extension Customer {
    /// The profile of one customer after `other` was merged into it: this profile's values win where it has
    /// them and `other` fills the gaps; tags and attributes are joined (this profile's attribute values win);
    /// the better tier is kept, except that a blocklisted one stays blocklisted.
    public func merging(_ other: Customer) -> Customer {
        var merged = self
        merged.name = name ?? other.name
        merged.timeZone = timeZone ?? other.timeZone
        merged.locale = locale ?? other.locale
        merged.accountManagerId = accountManagerId ?? other.accountManagerId
        merged.externalId = externalId ?? other.externalId
        merged.tags = tags + other.tags.filter { !tags.contains($0) }
        merged.attributes = other.attributes.merging(attributes) { _, mine in mine }
        let tiers = [tier, other.tier].compactMap { $0.flatMap(CustomerTier.init(rawValue:)) }
        if tiers.contains(.blocklisted) {
            merged.tier = CustomerTier.blocklisted.rawValue
        } else if let best = tiers.min(by: { $0.rank < $1.rank }) {
            merged.tier = best.rawValue
        }
        return merged
    }
}

/// What a merge did: the customer that remains, the one that was merged into it, and why.
public struct CustomerMerge: Codable, Sendable, Equatable {
    public var customer: Customer
    public var mergedId: String
    public var reason: MergeReason
    /// The verified identity that proved the two are one person (`channel:address`), for automatic merges.
    public var evidence: String?

    public init(customer: Customer, mergedId: String, reason: MergeReason = .manual, evidence: String? = nil) {
        self.customer = customer
        self.mergedId = mergedId
        self.reason = reason
        self.evidence = evidence
    }
}

/// Why two customers became one. The hub merges on its own only on proof: a host site vouching for
/// a web chat visitor, or a reply from the very address the hub wrote to.
public enum MergeReason: String, Codable, Sendable, CaseIterable {
    /// Someone with the `mergeCustomers` permission asked for it.
    case manual
    /// An anonymous web chat visitor signed in as someone the hub already knows (a signed identifier).
    case verifiedIdentity = "verified_identity"
    /// The hub emailed the address an anonymous visitor left, and the reply came from that address,
    /// which belongs to a customer the hub already knows.
    case verifiedReply = "verified_reply"
}
