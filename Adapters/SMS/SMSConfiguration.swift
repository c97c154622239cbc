import HubCore

/// Which provider's API a profile speaks.
public enum SMSProvider: String, Sendable {
    /// Twilio and the providers that copy its API.
    case twilio
    case vonage
}

/// One configured number or sender: its provider, credentials and where the provider's API is.
public struct SMSProfile: Sendable {
    public var name: String
    public var provider: SMSProvider
    /// The number (E.164) or alphanumeric sender messages are sent from.
    public var from: String?
    /// Twilio: a Messaging Service to send through instead of `from`.
    public var messagingServiceSid: String?
    /// Twilio credentials; the auth token also signs Twilio's webhooks.
    public var accountSid: String?
    public var authToken: String?
    /// Vonage credentials, and the secret and method of its signed webhooks.
    public var apiKey: String?
    public var apiSecret: String?
    public var signatureSecret: String?
    public var signatureMethod: VonageSignature.Method
    /// The provider's API base (tests point it at a double on loopback).
    public var baseURL: String
    /// The most messages a second this profile sends (its number's or account's limit at the provider); nil: no limit.
    public var perSecond: Double?

    public init(name: String, provider: SMSProvider, from: String? = nil, messagingServiceSid: String? = nil,
                accountSid: String? = nil, authToken: String? = nil, apiKey: String? = nil, apiSecret: String? = nil,
                signatureSecret: String? = nil, signatureMethod: VonageSignature.Method = .md5hash, baseURL: String? = nil,
                perSecond: Double? = nil) {
        self.name = name
        self.provider = provider
        // Kept in E.164 when it is a number, so a conversation's number finds its profile.
        self.from = from.map { (try? Address.phone($0, defaultRegion: nil)) ?? $0 }
        self.messagingServiceSid = messagingServiceSid
        self.accountSid = accountSid
        self.authToken = authToken
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.signatureSecret = signatureSecret
        self.signatureMethod = signatureMethod
        self.baseURL = baseURL ?? (provider == .twilio ? "https://api.twilio.com" : "https://rest.nexmo.com")
        self.perSecond = perSecond
    }
}

/// The SMS channel's settings.
public struct SMSConfiguration: Sendable {
    public var profiles: [String: SMSProfile]
    /// The profile replies and notices are sent from.
    public var defaultProfile: String?
    /// The hub's URL as providers call it: signatures are checked and status callbacks built against it.
    public var publicBaseURL: String
    /// The region a number without a country code is read in (`US`, `GB`, …).
    public var defaultRegion: String?
    /// Whether a STOP also stops replies and notices (as carriers enforce), or marketing only.
    public var stopBlocksAll: Bool
    public var stopReply: String
    public var startReply: String
    public var helpReply: String

    public init(profiles: [SMSProfile] = [], defaultProfile: String? = nil, publicBaseURL: String = "http://127.0.0.1:8080",
                defaultRegion: String? = nil, stopBlocksAll: Bool = true,
                stopReply: String = "You are unsubscribed and will receive no more messages. Reply START to resubscribe.",
                startReply: String = "You are resubscribed. Reply STOP to unsubscribe.",
                helpReply: String = "Reply to this number to reach our support team. Reply STOP to unsubscribe.") {
        self.profiles = Dictionary(profiles.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.defaultProfile = defaultProfile ?? profiles.first?.name
        var base = publicBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicBaseURL = base
        self.defaultRegion = defaultRegion
        self.stopBlocksAll = stopBlocksAll
        self.stopReply = stopReply
        self.startReply = startReply
        self.helpReply = helpReply
    }

    /// The ledger purposes a STOP or START speaks for under this policy.
    var keywordPurposes: [ConsentPurpose] {
        stopBlocksAll ? [.transactional, .marketing] : [.marketing]
    }

    /// The profile whose number is `from`, else the default profile.
    public func profile(sendingFrom from: String?) -> SMSProfile? {
        if let from, let match = profiles.values.first(where: { $0.from == from }) { return match }
        return defaultProfile.flatMap { profiles[$0] }
    }

    /// Where a provider reports on a message sent through `profile`.
    func statusCallbackURL(profile: String, messageId: String) -> String {
        "\(publicBaseURL)/webhooks/sms/\(profile)/status?message=\(messageId)"
    }
}
