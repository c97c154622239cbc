import Foundation
import GRDB
import HubCore

/// An audience filter as SQL: a boolean expression over the `customer` table, and the values it binds.
///
/// Every value of the filter, attribute names included, is a `?` argument: no text of the filter ever becomes
/// SQL. Every part of the expression is 0 or 1, never NULL, so `not` is exact. Blocklisted customers are
/// never in an audience: the condition leaves them out itself.
public struct AudienceSQL: Sendable {
    /// The expression, in parentheses, for the `WHERE` clause of a query over `customer`.
    public let condition: String
    /// The values of the expression's `?` placeholders, in order.
    public let arguments: StatementArguments

    /// Compiles `filter`; `now` is the instant `last_contact` measures ages from.
    public init(_ filter: AudienceFilter, now: Date) {
        var builder = AudienceSQLBuilder(now: now)
        builder.append("((")
        builder.compile(filter)
        builder.append(") AND (customer.tier IS NULL OR customer.tier <> 'blocklisted'))")
        condition = builder.sql
        arguments = StatementArguments(builder.values)
    }
}

extension SQLiteHubStorage {
    /// The SQL of an audience filter, with `now` for `last_contact`.
    public static func audienceCondition(_ filter: AudienceFilter, now: Date) -> AudienceSQL {
        AudienceSQL(filter, now: now)
    }

    /// How many customers the filter selects (blocklisted-tier customers are never in an audience).
    public func audienceCount(_ filter: AudienceFilter) async throws -> Int {
        let audience = AudienceSQL(filter, now: self.now())
        return try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customer WHERE \(audience.condition)", arguments: audience.arguments) ?? 0
        }
    }

    /// Up to `limit` customers the filter selects, by id.
    public func audienceSample(_ filter: AudienceFilter, limit: Int) async throws -> [Customer] {
        let audience = AudienceSQL(filter, now: self.now())
        // SQLite reads a negative LIMIT as no limit at all.
        let limit = max(0, limit)
        return try await read { db in
            try Customer.fetchAll(db, sql: "SELECT * FROM customer WHERE \(audience.condition) ORDER BY customer.id LIMIT ?",
                                  arguments: audience.arguments + [limit])
        }
    }
}

/// Writes the SQL of a filter and collects its arguments, in the same order.
private struct AudienceSQLBuilder {
    /// SQL that holds a value a test looks at: a column, or the value of an attribute inside its `EXISTS`.
    private typealias Subject = String

    let now: Date
    private(set) var sql = ""
    private(set) var values: [DatabaseValue] = []

    init(now: Date) {
        self.now = now
    }

    mutating func append(_ text: String) {
        sql += text
    }

    /// A `?` for `value`.
    private mutating func bind(_ value: some DatabaseValueConvertible) {
        sql += "?"
        values.append(value.databaseValue)
    }

    mutating func compile(_ filter: AudienceFilter) {
        switch filter {
        case .everyone:
            append("1")
        case .and(let conditions):
            join(conditions, with: " AND ", empty: "1")
        case .or(let conditions):
            join(conditions, with: " OR ", empty: "0")
        case .not(let condition):
            append("NOT (")
            compile(condition)
            append(")")
        case .compare(let field, let comparison, let value):
            test(field, .compare(comparison, value))
        case .isIn(let field, let values):
            test(field, .isIn(values))
        case .hasTag(let tag):
            append("EXISTS (SELECT 1 FROM json_each(customer.tags) WHERE json_each.value = ")
            bind(tag)
            append(")")
        case .hasIdentity(let channel):
            append("EXISTS (SELECT 1 FROM identity WHERE identity.customer_id = customer.id AND identity.channel = ")
            bind(channel.rawValue)
            append(")")
        case .hasConsent(let channel):
            // The newest marketing entry of each of the customer's addresses on the channel decides.
            append("EXISTS (SELECT 1 FROM identity WHERE identity.customer_id = customer.id AND identity.channel = ")
            bind(channel.rawValue)
            append("""
                 AND (SELECT consent.state FROM consent WHERE consent.channel = identity.channel \
                AND consent.address = identity.address AND consent.purpose = 'marketing' \
                ORDER BY consent.id DESC LIMIT 1) = 'opted_in')
                """)
        case .lastContact(let comparison, let seconds):
            lastContact(comparison, seconds: seconds)
        }
    }

    private mutating func join(_ conditions: [AudienceFilter], with separator: String, empty: String) {
        guard !conditions.isEmpty else {
            append(empty)
            return
        }
        append("(")
        for (index, condition) in conditions.enumerated() {
            if index > 0 { append(separator) }
            append("(")
            compile(condition)
            append(")")
        }
        append(")")
    }

    /// What a field is tested for.
    private enum FieldTest {
        case compare(AudienceComparison, AudienceValue)
        case isIn([AudienceValue])
    }

    /// A test of a field. A customer without the field (a NULL column, an attribute they do not have) fails
    /// every test, `!=` included. A tier that was never set reads as `normal`, as routing reads it.
    private mutating func test(_ field: AudienceField, _ test: FieldTest) {
        let column: Subject
        switch field {
        case .name: column = "customer.name"
        case .tier: column = "COALESCE(customer.tier, 'normal')"
        case .locale: column = "customer.locale"
        case .timeZone: column = "customer.time_zone"
        case .externalId: column = "customer.external_id"
        case .attribute(let name):
            // The name is compared as a plain value with each key: no JSON path is ever built from it.
            append("EXISTS (SELECT 1 FROM json_each(customer.attributes) WHERE json_each.key = ")
            bind(name)
            append(" AND json_each.value IS NOT NULL AND ")
            condition(on: "json_each.value", test, ignoringCase: false)
            append(")")
            return
        }
        append("(\(column) IS NOT NULL AND ")
        condition(on: column, test, ignoringCase: field == .tier || field == .locale)
        append(")")
    }

    /// The test of a non-NULL `subject`: text compares as text (tier and locale ignoring ASCII case), a number
    /// compares numerically and only with a subject that is a number (`-12`, `3.5`).
    private mutating func condition(on subject: Subject, _ test: FieldTest, ignoringCase: Bool) {
        switch test {
        case .compare(let comparison, .string(let string)):
            if ignoringCase {
                append("lower(\(subject)) \(comparison.sql) lower(")
                bind(string)
                append(")")
            } else {
                append("\(subject) \(comparison.sql) ")
                bind(string)
            }
        case .compare(let comparison, .number(let number)):
            append("\(Self.isNumber(subject)) AND CAST(\(subject) AS REAL) \(comparison.sql) ")
            bind(number)
        case .isIn(let values):
            let strings = values.compactMap(\.stringValue)
            let numbers = values.compactMap(\.numberValue)
            var alternatives = 0
            append("(")
            if !strings.isEmpty {
                append(ignoringCase ? "lower(\(subject)) IN (" : "\(subject) IN (")
                for (index, string) in strings.enumerated() {
                    if index > 0 { append(", ") }
                    if ignoringCase {
                        append("lower(")
                        bind(string)
                        append(")")
                    } else {
                        bind(string)
                    }
                }
                append(")")
                alternatives += 1
            }
            if !numbers.isEmpty {
                if alternatives > 0 { append(" OR ") }
                append("(\(Self.isNumber(subject)) AND CAST(\(subject) AS REAL) IN (")
                for (index, number) in numbers.enumerated() {
                    if index > 0 { append(", ") }
                    bind(number)
                }
                append("))")
                alternatives += 1
            }
            if alternatives == 0 { append("0") }
            append(")")
        }
    }

    /// Whether `subject` is written as a number: `-?[0-9]+(\.[0-9]+)?`, nothing around it.
    private static func isNumber(_ subject: Subject) -> String {
        """
        ((\(subject) GLOB '[0-9]*' OR \(subject) GLOB '-[0-9]*') AND substr(\(subject), 2) NOT GLOB '*[^0-9.]*' \
        AND \(subject) NOT GLOB '*.*.*' AND \(subject) NOT GLOB '*.')
        """
    }

    /// The age of the customer's newest inbound message against `seconds`. A customer never heard from is
    /// infinitely old: older than any duration, and equal to none.
    private mutating func lastContact(_ comparison: AudienceComparison, seconds: Int) {
        let latest = """
            (SELECT MAX(message.created_at) FROM message JOIN conversation ON conversation.id = message.conversation_id \
            WHERE conversation.customer_id = customer.id AND message.direction = 'inbound')
            """
        // age op N  ⇔  latest (op reversed) now − N; dates are stored as sortable text, like the bound Date.
        let reversed = Self.reversedOperator(comparison)
        // NULL (never heard from): true for "older than", false for "younger than" and "exactly".
        let never = comparison == .greater || comparison == .greaterOrEqual || comparison == .notEqual ? "1" : "0"
        append("COALESCE(\(latest) \(reversed) ")
        bind(now.addingTimeInterval(-TimeInterval(seconds)))
        append(", \(never))")
    }

    /// The operator that compares the latest contact's date with now − N, for `comparison` of the age with N.
    private static func reversedOperator(_ comparison: AudienceComparison) -> String {
        switch comparison {
        case .less: ">"
        case .lessOrEqual: ">="
        case .equal: "="
        case .greater: "<"
        case .greaterOrEqual: "<="
        case .notEqual: "<>"
        }
    }
}

private extension AudienceComparison {
    /// The SQL operator.
    var sql: String { self == .notEqual ? "<>" : rawValue }
}

private extension AudienceValue {
    var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }
}
