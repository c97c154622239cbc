/// One page of a list and the cursor of the next, absent on the last page.
public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Where a list starts and how long it is.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maxLimit = 200

    /// Items after this opaque cursor (the id of the last item seen).
    public var cursor: String?
    public var limit: Int

    public init(cursor: String? = nil, limit: Int = PageRequest.defaultLimit) {
        self.cursor = cursor
        self.limit = limit
    }

    /// Checks a client's `limit` and `cursor`.
    public static func parse(limit: String?, cursor: String?) throws(ValidationError) -> PageRequest {
        var page = PageRequest(cursor: cursor)
        if let limit {
            guard let value = Int(limit), (1...maxLimit).contains(value) else {
                throw ValidationError("limit", "must be a whole number from 1 to \(maxLimit)")
            }
            page.limit = value
        }
        if let cursor, cursor.isEmpty || cursor.count > 100 {
            throw ValidationError("cursor", "is not a cursor this API returned")
        }
        return page
    }
}
