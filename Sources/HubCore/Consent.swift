import Foundation

/// Why a message leaves the hub: the consent it needs depends on it.
public enum Purpose: String, Codable, Sendable, CaseIterable {
    /// An agent's answer in a conversation the customer started.
    case reply
    /// A message the customer expects (an order update, a reminder).
    case transactional
    case marketing
    /// The hub's own notices that the law requires, such as confirming an opt-out: never refused.
    case system

    /// The ledger purpose that governs this one: replies and notices follow transactional consent.
    public var consentPurpose: ConsentPurpose? {
        switch self {
        case .reply, .transactional: .transactional
        case .marketing: .marketing
        case .system: nil
        }
    }
}

/// What a consent entry is about.
public enum ConsentPurpose: String, Codable, Sendable, CaseIterable {
    case transactional, marketing
}

/// What the customer said.
public enum ConsentState: String, Codable, Sendable {
    case optedIn = "opted_in"
    case optedOut = "opted_out"
}

/// Where a consent entry came from.
public enum ConsentSource: String, Codable, Sendable {
    /// A keyword the customer sent (STOP, START).
    case keyword
    /// The provider reported it (an SMS carrier's opt-out error).
    case provider
    case agent, api, unsubscribe, `import`
    /// A permanent delivery failure (a hard email bounce): the address is suppressed.
    case bounce
    /// The customer's own preferences page (the link in every mail), one-click unsubscribe included.
    case preferences
}

/// One entry of the consent ledger: append-only, the newest per (channel, address, purpose) counts.
public struct ConsentRecord: Codable, Sendable, Equatable {
    public var customerId: String
    public var channel: Channel
    public var address: String
    public var purpose: ConsentPurpose
    public var state: ConsentState
    public var source: ConsentSource
    /// What proves it: the message that said STOP, the provider's error.
    public var evidence: String?
    public var createdAt: Date

    public init(customerId: String, channel: Channel, address: String, purpose: ConsentPurpose, state: ConsentState,
                source: ConsentSource, evidence: String?, createdAt: Date) {
        self.customerId = customerId
        self.channel = channel
        self.address = address
        self.purpose = purpose
        self.state = state
        self.source = source
        self.evidence = evidence
        self.createdAt = createdAt
    }

    /// Why `purpose` may not be sent to an address whose newest entries are `latest`, or nil when it may.
    ///
    /// Marketing needs an explicit opt-in; replies and transactional messages go unless opted out.
    public static func refusal(for purpose: Purpose, latest: [ConsentRecord]) -> String? {
        guard let governing = purpose.consentPurpose else { return nil }
        let entry = latest.filter { $0.purpose == governing }.max { $0.createdAt < $1.createdAt }
        if let entry, entry.state == .optedOut {
            return "opted out of \(governing.rawValue) messages on \(entry.channel.rawValue) (\(entry.source.rawValue), \(entry.createdAt.formatted(.iso8601)))"
        }
        return governing == .marketing && entry == nil ? "no marketing consent on this channel" : nil
    }
}

/// The SMS keywords carriers and regulators expect to be honoured (whole message, any case).
public enum SMSKeyword: Sendable, Equatable {
    case optOut, optIn, help

    /// The keyword `text` is, or nil when it is an ordinary message.
    public static func classify(_ text: String) -> SMSKeyword? {
        switch text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased() {
        case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT": .optOut
        case "START", "YES", "UNSTOP": .optIn
        case "HELP", "INFO": .help
        default: nil
        }
    }
}
