/// A message template: per-channel variants in one or more locales, rendered with Mustache.
public struct MessageTemplate: Codable, Sendable, Equatable {
    /// 1–100 characters of `a-z`, `0-9` and `-`.
    public var name: String
    public var description: String?
    /// The variables the template may use beyond the built-in ones: `attributes.X` and `data.X`.
    public var variables: [String]
    /// The locale customers without a matching one get, such as `en`.
    public var defaultLocale: String
    /// The content by locale (`en`, `zh`, `pt-BR`), at most 20.
    public var locales: [String: TemplateContent]

    public init(
        name: String, description: String? = nil, variables: [String] = [], defaultLocale: String,
        locales: [String: TemplateContent]
    ) {
        self.name = name
        self.description = description
        self.variables = variables
        self.defaultLocale = defaultLocale
        self.locales = locales
    }

    /// At most this many locales.
    public static let maxLocales = 20
    /// At most this many declared variables.
    public static let maxVariables = 100
    /// The longest source of one part, in UTF-8 bytes.
    public static let maxSourceBytes = 64 * 1024
}

/// One locale's variants of a template; a channel has a variant when its parts are there.
public struct TemplateContent: Codable, Sendable, Equatable {
    /// Plain text, made one line when rendered.
    public var emailSubject: String?
    /// HTML: values are escaped.
    public var emailHtml: String?
    /// Plain text.
    public var emailText: String?
    /// Plain text.
    public var sms: String?
    /// Plain text.
    public var webchat: String?

    public init(
        emailSubject: String? = nil, emailHtml: String? = nil, emailText: String? = nil, sms: String? = nil,
        webchat: String? = nil
    ) {
        self.emailSubject = emailSubject
        self.emailHtml = emailHtml
        self.emailText = emailText
        self.sms = sms
        self.webchat = webchat
    }

    /// The source of one part, nil when the locale lacks it.
    public subscript(part: TemplatePart) -> String? {
        get {
            switch part {
            case .emailSubject: emailSubject
            case .emailHtml: emailHtml
            case .emailText: emailText
            case .sms: sms
            case .webchat: webchat
            }
        }
        set {
            switch part {
            case .emailSubject: emailSubject = newValue
            case .emailHtml: emailHtml = newValue
            case .emailText: emailText = newValue
            case .sms: sms = newValue
            case .webchat: webchat = newValue
            }
        }
    }
}

/// One source file of a template's locale; the raw value is the file's name without `.mustache`.
public enum TemplatePart: String, Codable, Sendable, CaseIterable {
    case emailSubject = "email.subject"
    case emailHtml = "email.html"
    case emailText = "email.text"
    case sms
    case webchat

    /// The channel the part belongs to.
    public var channel: Channel {
        switch self {
        case .emailSubject, .emailHtml, .emailText: .email
        case .sms: .sms
        case .webchat: .webchat
        }
    }

    /// Whether the part is HTML, where values are escaped; every other part is plain text.
    public var isHTML: Bool { self == .emailHtml }
}
