import Foundation

/// A web chat visitor: one browser's session on one web chat channel, behind a hashed token.
///
/// The visitor's id is also its identity address on the `webchat` channel, so its messages
/// land with the customer behind that identity like any other channel's.
public struct Visitor: Codable, Sendable, Equatable {
    public var id: String
    /// The web chat channel (site) the session belongs to; its allowed origins apply.
    public var site: String
    public var customerId: String
    public var name: String?
    /// Where to reply when the visitor has left (given on the pre-chat form or the offline notice).
    public var email: String?
    /// True when the host site vouched for the visitor's identity with its HMAC.
    public var verified: Bool
    public var createdAt: Date
    public var leftAt: Date?

    public init(id: String, site: String, customerId: String, name: String? = nil, email: String? = nil,
                verified: Bool = false, createdAt: Date, leftAt: Date? = nil) {
        self.id = id
        self.site = site
        self.customerId = customerId
        self.name = name
        self.email = email
        self.verified = verified
        self.createdAt = createdAt
        self.leftAt = leftAt
    }
}

/// What a new visitor session starts with.
public struct VisitorDraft: Sendable, Equatable {
    public var site: String
    public var name: String?
    public var email: String?
    /// The host site's identifier of its signed-in user, already checked against its signature.
    public var verifiedIdentifier: String?

    public init(site: String, name: String? = nil, email: String? = nil, verifiedIdentifier: String? = nil) {
        self.site = site
        self.name = name
        self.email = email
        self.verifiedIdentifier = verifiedIdentifier
    }

    /// Checks the draft and returns it with its email address normalized.
    public func validated() throws(ValidationError) -> VisitorDraft {
        var copy = self
        try requireNoNUL(name, "name")
        if let name, name.count > 200 { throw ValidationError("name", "must be at most 200 characters") }
        copy.name = name.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        if let email, !email.trimmingCharacters(in: .whitespaces).isEmpty {
            copy.email = try Address.normalize(email, on: .email, field: "email")
        } else {
            copy.email = nil
        }
        if let identifier = verifiedIdentifier {
            try requireNoNUL(identifier, "identifier")
            if identifier.isEmpty || identifier.count > 255 { throw ValidationError("identifier", "must be 1–255 characters") }
        }
        return copy
    }
}
