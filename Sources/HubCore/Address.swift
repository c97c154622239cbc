import Foundation

/// Normalizes channel addresses so that one person is one identity.
public enum Address {
    /// Returns the canonical form of `raw` on `channel`, or throws when it is not an address there.
    /// `field` names the input in the error.
    public static func normalize(_ raw: String, on channel: Channel, field: String = "from") throws(ValidationError) -> String {
        let trimmed = raw.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw ValidationError(field, "must not be empty") }
        guard trimmed.utf8.count <= 320 else { throw ValidationError(field, "must be at most 320 bytes") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError(field, "must not contain control characters")
        }
        switch channel {
        case .api, .webchat:
            return trimmed
        case .email:
            return try email(trimmed, field: field)
        case .sms:
            return try phone(trimmed, field: field)
        }
    }

    /// An email address with its domain lowercased (RFC 5321: the local part is the mailbox's own).
    static func email(_ value: String, field: String) throws(ValidationError) -> String {
        guard let at = value.lastIndex(of: "@"), at != value.startIndex, value.index(after: at) != value.endIndex else {
            throw ValidationError(field, "'\(value)' is not an email address")
        }
        let local = value[..<at]
        // An '@' in the local part is legal only quoted (RFC 5321); real mail never needs it here.
        guard !local.contains("@") else { throw ValidationError(field, "'\(value)' is not an email address") }
        let domain = value[value.index(after: at)...]
        guard !local.contains(where: \.isWhitespace), !domain.contains(where: { $0.isWhitespace || $0 == "@" }) else {
            throw ValidationError(field, "'\(value)' is not an email address")
        }
        return local + "@" + domain.lowercased()
    }

    /// A phone number in E.164: `+` and 8 to 15 digits, separators removed.
    static func phone(_ value: String, field: String) throws(ValidationError) -> String {
        var digits = ""
        for (index, character) in value.enumerated() {
            if character == "+" && index == 0 { continue }
            if character.isASCII && character.isNumber { digits.append(character); continue }
            if " -().".contains(character) { continue }
            throw ValidationError(field, "'\(value)' is not a phone number")
        }
        guard value.hasPrefix("+"), (8...15).contains(digits.count), digits.first != "0" else {
            throw ValidationError(field, "'\(value)' is not an E.164 phone number")
        }
        return "+" + digits
    }

    /// A phone number in E.164, reading a number without `+` (or `00`) as a national number of `defaultRegion`.
    public static func phone(_ raw: String, defaultRegion: String?, field: String = "from") throws(ValidationError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("+") { return try phone(trimmed, field: field) }
        if trimmed.hasPrefix("00") { return try phone("+" + trimmed.dropFirst(2), field: field) }
        guard let region = defaultRegion.flatMap({ regions[$0.uppercased()] }) else {
            throw ValidationError(field, "'\(raw)' has no country code and no default region is configured")
        }
        var digits = String(trimmed.filter { !" -().".contains($0) })
        if region.code == "1" && digits.count == 11 && digits.hasPrefix("1") {
            digits.removeFirst()  // NANP numbers are often written with their country code but no +.
        } else if region.trunkZero && digits.hasPrefix("0") {
            digits.removeFirst()
        }
        return try phone("+" + region.code + digits, field: field)
    }

    /// Country calling codes of the regions a default region may name, and whether national numbers
    /// carry a trunk `0` that the international form drops.
    static let regions: [String: (code: String, trunkZero: Bool)] = [
        "US": ("1", false), "CA": ("1", false), "GB": ("44", true), "IE": ("353", true), "DE": ("49", true),
        "FR": ("33", true), "NL": ("31", true), "BE": ("32", true), "CH": ("41", true), "AT": ("43", true),
        "ES": ("34", false), "IT": ("39", false), "PT": ("351", false), "SE": ("46", true), "PL": ("48", false),
        "CN": ("86", true), "HK": ("852", false), "TW": ("886", true), "JP": ("81", true), "KR": ("82", true),
        "SG": ("65", false), "IN": ("91", true), "AU": ("61", true), "NZ": ("64", true), "BR": ("55", true),
        "MX": ("52", false), "ZA": ("27", true),
    ]
}
