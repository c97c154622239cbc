import Mustache

/// What a customer's copy is rendered from.
///
/// Templates read them as `customer.id`, `customer.name`, `customer.firstName`, `customer.tier`,
/// `customer.locale`, `attributes.X`, `data.X`, `links.unsubscribe`, `links.preferences` and `center.name`.
/// An empty value counts as missing, so `{{#attributes.city}}…{{/attributes.city}}` skips it.
public struct TemplateValues: Sendable {
    /// The customer's own fields.
    public struct Recipient: Sendable, Equatable {
        public var id: String
        public var name: String?
        public var tier: String?
        public var locale: String?

        public init(id: String, name: String? = nil, tier: String? = nil, locale: String? = nil) {
            self.id = id
            self.name = name
            self.tier = tier
            self.locale = locale
        }

        /// The first word of the name.
        public var firstName: String? {
            name?.split(whereSeparator: { $0.isWhitespace }).first.map(String.init)
        }
    }

    /// Links made for this customer's message.
    public struct Links: Sendable, Equatable {
        public var unsubscribe: String?
        public var preferences: String?

        public init(unsubscribe: String? = nil, preferences: String? = nil) {
            self.unsubscribe = unsubscribe
            self.preferences = preferences
        }
    }

    public var customer: Recipient
    /// The customer's profile attributes.
    public var attributes: [String: String]
    /// Campaign-wide values, such as an offer code.
    public var data: [String: String]
    public var links: Links
    /// The contact center's name, as customers know it.
    public var centerName: String

    public init(
        customer: Recipient, attributes: [String: String] = [:], data: [String: String] = [:], links: Links = Links(),
        centerName: String
    ) {
        self.customer = customer
        self.attributes = attributes
        self.data = data
        self.links = links
        self.centerName = centerName
    }

    /// The values of a stored customer, with the links made for this message.
    public init(
        customer: Customer, data: [String: String] = [:], unsubscribe: String? = nil, preferences: String? = nil,
        centerName: String
    ) {
        self.init(
            customer: Recipient(id: customer.id, name: customer.name, tier: customer.tier, locale: customer.locale),
            attributes: customer.attributes, data: data, links: Links(unsubscribe: unsubscribe, preferences: preferences),
            centerName: centerName
        )
    }

    /// The values a template can read, by their dotted names, in a fixed order; empty values are left out
    /// (they count as missing) and so are attributes not in `attributes` (a template reads only declared ones).
    func slots(attributes names: Set<String>) -> [(name: String, value: String)] {
        var slots: [(name: String, value: String)] = []
        func add(_ name: String, _ value: String?) {
            if let value, !value.isEmpty { slots.append((name, value)) }
        }
        add("customer.id", customer.id)
        add("customer.name", customer.name)
        add("customer.firstName", customer.firstName)
        add("customer.tier", customer.tier)
        add("customer.locale", customer.locale)
        for key in attributes.keys.sorted() where names.contains(key) { add("attributes." + key, attributes[key]) }
        for key in data.keys.sorted() { add("data." + key, data[key]) }
        add("links.unsubscribe", links.unsubscribe)
        add("links.preferences", links.preferences)
        add("center.name", centerName)
        return slots
    }

    /// Nested scopes, through which Mustache resolves dotted names, holding `text(i)` for the i-th slot.
    static func context(_ slots: [(name: String, value: String)], text: (Int) -> String) -> MustacheScope {
        var groups: [String: [String: any Sendable]] = [:]
        for (index, slot) in slots.enumerated() {
            guard let dot = slot.name.firstIndex(of: ".") else { continue }
            groups[String(slot.name[..<dot]), default: [:]][String(slot.name[slot.name.index(after: dot)...])] = MustacheText(text(index))
        }
        return MustacheScope(groups.mapValues { MustacheScope($0) })
    }
}

/// One level of names for Mustache. A final class: Mustache asks every value it meets whether it is a parent, and
/// that question costs far less for a class than for a `[String: Any]` (a conditional conformance).
final class MustacheScope: MustacheParent, Sendable {
    private let values: [String: any Sendable]

    init(_ values: [String: any Sendable]) {
        self.values = values
    }

    func child(named name: String) -> Any? {
        values[name]
    }
}

/// A value for Mustache: rendered as its text (escaped in HTML), a parent of nothing. Mustache looks names up
/// through every value of its section stack; for a `String` that means reflection, for this class a nil.
final class MustacheText: MustacheParent, MustacheCustomRenderable, Sendable {
    let renderText: String
    let isNull = false

    init(_ text: String) {
        renderText = text
    }

    func child(named name: String) -> Any? {
        nil
    }
}
