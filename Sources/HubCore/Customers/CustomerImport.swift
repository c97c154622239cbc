import Foundation

/// One customer as an import file gives it, checked: identities normalized, consents and tier parsed.
public struct CustomerImportRow: Sendable, Equatable {
    /// Where it was in the file (the header is line 1), for the report.
    public var line: Int
    /// The importing system's id: importing the same id again updates the same customer.
    public var externalId: String
    public var name: String?
    public var email: String?
    public var phone: String?
    public var timeZone: String?
    public var locale: String?
    public var tags: [String]
    /// An explicit tier (e.g. `blocklisted`); nil lets the value tiers decide.
    public var tier: CustomerTier?
    /// Every other column, and the value columns (`lastOrderAt`, `orders`, `revenue`) the tiers are computed from.
    public var attributes: [String: String]
    public var consents: [ImportedConsent]

    public init(line: Int, externalId: String, name: String? = nil, email: String? = nil, phone: String? = nil, timeZone: String? = nil,
                locale: String? = nil, tags: [String] = [], tier: CustomerTier? = nil, attributes: [String: String] = [:],
                consents: [ImportedConsent] = []) {
        self.line = line
        self.externalId = externalId
        self.name = name
        self.email = email
        self.phone = phone
        self.timeZone = timeZone
        self.locale = locale
        self.tags = tags
        self.tier = tier
        self.attributes = attributes
        self.consents = consents
    }
}

/// A consent an import states for the row's email address or phone number.
public struct ImportedConsent: Sendable, Equatable {
    public var channel: Channel
    public var purpose: ConsentPurpose
    public var state: ConsentState

    public init(channel: Channel, purpose: ConsentPurpose, state: ConsentState) {
        self.channel = channel
        self.purpose = purpose
        self.state = state
    }
}

/// What is wrong with one line of an import.
public struct ImportProblem: Codable, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var field: String
    public var message: String

    public init(line: Int, field: String, message: String) {
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String { "line \(line): \(field): \(message)" }
}

/// Why a line was not imported: every problem it has.
public struct ImportRejection: Error, Sendable, Equatable {
    public var problems: [ImportProblem]

    public init(problems: [ImportProblem]) {
        self.problems = problems
    }
}

/// The columns of the customer CSV: `externalId` (required), `name`, `email`, `phone`, `timeZone`, `locale`,
/// `tags` (separated by `;`), `tier`, consent columns `emailMarketing`, `emailTransactional`, `smsMarketing`,
/// `smsTransactional` (`opted_in`, `opted_out` or empty), value columns `lastOrderAt` (ISO 8601), `orders`,
/// `revenue`; any other column becomes an attribute of that name.
public enum CustomerCSV {
    public static let columns = ["externalId", "name", "email", "phone", "timeZone", "locale", "tags", "tier",
                                 "emailMarketing", "emailTransactional", "smsMarketing", "smsTransactional"]
    /// Value columns, kept as attributes: the tiers are computed from them.
    public static let valueColumns = ["lastOrderAt", "orders", "revenue"]
    private static let consentColumns: [String: (Channel, ConsentPurpose)] = [
        "emailMarketing": (.email, .marketing), "emailTransactional": (.email, .transactional),
        "smsMarketing": (.sms, .marketing), "smsTransactional": (.sms, .transactional),
    ]

    /// Checks a header row: `externalId` present, no column twice, no empty name.
    public static func checkHeader(_ header: [String]) throws(ValidationError) {
        guard header.contains("externalId") else { throw ValidationError("header", "the first line must name the columns, externalId among them") }
        if let empty = header.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("header", "column \(empty + 1) has no name")
        }
        if Set(header).count != header.count { throw ValidationError("header", "a column is named twice") }
    }

    /// One data line as a row, or every problem it has. `defaultRegion` reads numbers without a country code.
    public static func row(_ fields: [String], header: [String], line: Int, defaultRegion: String?) -> Result<CustomerImportRow, ImportRejection> {
        var problems: [ImportProblem] = []
        func problem(_ field: String, _ message: String) { problems.append(ImportProblem(line: line, field: field, message: message)) }
        guard fields.count == header.count else {
            return .failure(ImportRejection(problems: [ImportProblem(line: line, field: "line", message: "has \(fields.count) fields, the header \(header.count)")]))
        }
        var values: [String: String] = [:]
        for (name, value) in zip(header, fields) {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { values[name] = trimmed }
            if value.contains("\0") { problem(name, "contains a NUL character") }
        }
        let externalId = values["externalId"] ?? ""
        if externalId.isEmpty || externalId.count > 255 { problem("externalId", "must be 1–255 characters") }
        var row = CustomerImportRow(line: line, externalId: externalId, name: values["name"], locale: values["locale"])
        if let name = row.name, name.count > 200 { problem("name", "must be at most 200 characters") }
        if let email = values["email"] {
            do { row.email = try Address.normalize(email, on: .email, field: "email") } catch { problem("email", error.reason) }
        }
        if let phone = values["phone"] {
            do { row.phone = try Address.phone(phone, defaultRegion: defaultRegion, field: "phone") } catch { problem("phone", error.reason) }
        }
        if let zone = values["timeZone"] {
            if TimeZone(identifier: zone) == nil { problem("timeZone", "'\(zone)' is not a time zone (e.g. Europe/Berlin)") } else { row.timeZone = zone }
        }
        if let tags = values["tags"] {
            row.tags = tags.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            do { try Tags.validate(row.tags) } catch { problem("tags", error.reason) }
        }
        if let tier = values["tier"] {
            if let parsed = CustomerTier(rawValue: tier.lowercased()) { row.tier = parsed } else { problem("tier", "must be vip, normal, low or blocklisted") }
        }
        for (column, (channel, purpose)) in consentColumns.sorted(by: { $0.key < $1.key }) {
            guard let value = values[column] else { continue }
            guard let state = ConsentState(rawValue: value.lowercased()) else { problem(column, "must be opted_in, opted_out or empty"); continue }
            if (channel == .email ? values["email"] : values["phone"]) == nil { problem(column, "needs the \(channel == .email ? "email" : "phone") column") }
            row.consents.append(ImportedConsent(channel: channel, purpose: purpose, state: state))
        }
        if let date = values["lastOrderAt"], ValueTiers.date(date) == nil { problem("lastOrderAt", "'\(date)' is not an ISO 8601 date") }
        for column in ["orders", "revenue"] {
            if let value = values[column], Double(value).map({ $0.isFinite && $0 >= 0 }) != true { problem(column, "must be a number ≥ 0") }
        }
        for (name, value) in values where !columns.contains(name) {
            if name.count > 64 || value.count > 1_000 { problem(name, "attribute names are at most 64 characters, values 1000") }
            row.attributes[name] = value
        }
        return problems.isEmpty ? .success(row) : .failure(ImportRejection(problems: problems))
    }

    /// A customer as an export line, in `columns + valueColumns` order, then `attributeColumns`; the import reads it back.
    public static func line(_ customer: Customer, externalId: String?, identities: [Identity], consents: [ConsentRecord],
                            attributeColumns: [String]) -> [String] {
        let email = identities.first { $0.channel == .email }?.address
        let phone = identities.first { $0.channel == .sms }?.address
        func consent(_ channel: Channel, _ purpose: ConsentPurpose) -> String {
            let address = channel == .email ? email : phone
            return consents.first { $0.channel == channel && $0.address == address && $0.purpose == purpose }?.state.rawValue ?? ""
        }
        let fixed = [externalId ?? customer.id, customer.name ?? "", email ?? "", phone ?? "", customer.timeZone ?? "", customer.locale ?? "",
                     // A computed tier is left out: importing the file again must not make it a tier someone set.
                     customer.tags.joined(separator: ";"), ValueTiers.isComputed(customer) ? "" : customer.tier ?? "",
                     consent(.email, .marketing), consent(.email, .transactional), consent(.sms, .marketing), consent(.sms, .transactional)]
        return fixed + (valueColumns + attributeColumns).map { customer.attributes[$0] ?? "" }
    }
}
