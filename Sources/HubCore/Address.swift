import Foundation

/// Normalizes channel addresses so that one person is one identity.
public enum Address {
    /// Returns the canonical form of `raw` on `channel`, or throws when it is not an address there.
    /// `field` names the input in the error.
    public static func normalize(_ raw: String, on channel: Channel, field: String = "from") throws(ValidationError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
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
}
