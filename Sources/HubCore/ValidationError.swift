/// Input that breaks a rule of the domain: which field, and why.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field at fault, as the API names it.
    public var field: String
    /// A human sentence saying what is wrong.
    public var reason: String

    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// Rules shared by every list of tags.
public enum Tags {
    /// Tags are 1–64 characters, at most 50 of them.
    public static func validate(_ tags: [String]) throws(ValidationError) {
        if tags.count > 50 { throw ValidationError("tags", "at most 50 tags") }
        for tag in tags where tag.isEmpty || tag.count > 64 || tag.contains(where: \.isNewline) || tag.utf8.contains(0) {
            throw ValidationError("tags", "each tag is 1–64 characters on one line")
        }
    }
}

/// Text the store keeps must not hold NUL: SQLite's text functions stop at the first one, so a
/// NUL would silently cut the stored value (and could make two external ids look the same).
public func requireNoNUL(_ value: String?, _ field: String) throws(ValidationError) {
    if let value, value.utf8.contains(0) { throw ValidationError(field, "must not contain NUL characters") }
}
