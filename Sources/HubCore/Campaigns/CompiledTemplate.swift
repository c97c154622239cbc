import Foundation
import Mustache
import Synchronization

/// A template checked and parsed, ready to render each customer's copy.
public struct CompiledTemplate: Sendable {
    /// The template as written.
    public let template: MessageTemplate
    /// Channels with a variant in the default locale (email needs a subject and a text; HTML is optional).
    public let channels: Set<Channel>

    /// One locale's parsed parts and the shared files they include.
    private struct Variant: Sendable {
        var parts: [TemplatePart: MustacheTemplate]
        var library: MustacheLibrary
        /// No transforms and no unescaped HTML anywhere in it: its output is a shape (fixed by which values are
        /// present) with each value in its place, so a shape can be rendered once and filled for each customer.
        var hasShapes: Bool
    }

    private let variants: [String: Variant]
    /// Locale keys by their lowercased, `-`-separated form.
    private let localeIndex: [String: String]
    private let unguarded: [TemplatePart: [TemplateVariableUse]]
    /// The declared attributes: the only ones a template reads.
    private let attributeNames: Set<String>
    private let shapes = TemplateShapes()

    /// Checks every locale and part, and every shared file they include, and throws all problems found.
    public init(_ template: MessageTemplate, shared: SharedTemplates) throws(TemplateProblems) {
        var problems = Self.fieldProblems(template)
        let declared = Set(template.variables)
        let defaultContent = template.locales[template.defaultLocale]
        var parsedShared: [String: ParsedSource] = [:]
        var variants: [String: Variant] = [:]
        var unguarded: [TemplatePart: [TemplateVariableUse]] = [:]

        for (locale, content) in template.locales.sorted(by: { $0.key < $1.key }) {
            var checker = TemplateChecker(declared: declared, shared: shared, locale: locale, parsed: parsedShared)
            var parts: [TemplatePart: MustacheTemplate] = [:]
            var parsedParts: [(tags: [TemplateTag], isHTML: Bool)] = []
            for part in TemplatePart.allCases {
                let file = "\(locale)/\(part.rawValue)"
                let isDefault = locale == template.defaultLocale
                guard let source = content[part] else {
                    if !isDefault, defaultContent?[part] != nil {
                        problems.append(TemplateProblem(
                            file: file, line: 0, message: "is missing: \(template.defaultLocale), the default locale, has it"
                        ))
                    }
                    continue
                }
                if !isDefault, let defaultContent, defaultContent[part] == nil {
                    problems.append(TemplateProblem(
                        file: file, line: 0,
                        message: "\(template.defaultLocale), the default locale, has no \(part.rawValue): add it there or remove this one"
                    ))
                }
                if source.allSatisfy(\.isWhitespace) {
                    problems.append(TemplateProblem(file: file, line: 0, message: "is empty: write the message or remove the file"))
                    continue
                }
                let parsed = ParsedSource(source, file: file, isText: !part.isHTML)
                problems += parsed.problems
                unguarded[part, default: []] += checker.check(parsed.tags, file: file, isText: !part.isHTML)
                parts[part] = parsed.template
                parsedParts.append((parsed.tags, part.isHTML))
            }
            problems += checker.problems
            parsedShared = checker.parsed
            var library = MustacheLibrary()
            for (name, file) in checker.included {
                if let partial = parsedShared[file]?.template { library.register(partial, named: name) }
            }
            var tags = parsedParts.flatMap(\.tags)
            var htmlTags = parsedParts.filter(\.isHTML).flatMap(\.tags)
            for file in checker.included.values {
                tags += parsedShared[file]?.tags ?? []
                if !file.hasSuffix(".text") { htmlTags += parsedShared[file]?.tags ?? [] }
            }
            func all(_ tags: [TemplateTag]) -> [TemplateTag] { tags.flatMap { [$0] + all($0.children) } }
            let hasShapes = !all(tags).contains(where: \.hasTransforms) && !all(htmlTags).contains { $0.kind == .unescapedVariable }
            variants[locale] = Variant(parts: parts, library: library, hasShapes: hasShapes)
        }
        if let defaultContent {
            let hasSubject = defaultContent.emailSubject != nil, hasText = defaultContent.emailText != nil
            if hasSubject || hasText || defaultContent.emailHtml != nil {
                for (part, present) in [(TemplatePart.emailSubject, hasSubject), (TemplatePart.emailText, hasText)] where !present {
                    problems.append(TemplateProblem(
                        file: "\(template.defaultLocale)/\(part.rawValue)", line: 0,
                        message: "is missing: an email needs a subject and a text (HTML is optional)"
                    ))
                }
            }
        }
        if !problems.isEmpty { throw TemplateProblems(Self.unique(problems)) }

        var channels: Set<Channel> = []
        if let defaultContent {
            if defaultContent.emailSubject != nil, defaultContent.emailText != nil { channels.insert(.email) }
            if defaultContent.sms != nil { channels.insert(.sms) }
            if defaultContent.webchat != nil { channels.insert(.webchat) }
        }
        self.template = template
        self.channels = channels
        self.variants = variants
        self.localeIndex = Dictionary(
            template.locales.keys.map { (LocaleTag.normalized($0), $0) }, uniquingKeysWith: { first, _ in first }
        )
        self.unguarded = unguarded.mapValues { Self.unique($0) }
        self.attributeNames = Set(template.variables.filter { $0.hasPrefix("attributes.") }.map { String($0.dropFirst("attributes.".count)) })
    }

    /// The locale a customer gets: their own (`pt-BR`), else its language (`zh-CN`, `zh_Hans` → `zh`),
    /// else the default.
    public func locale(for customerLocale: String?) -> String {
        guard let customerLocale else { return template.defaultLocale }
        var key = LocaleTag.normalized(customerLocale)
        while !key.isEmpty {
            if let locale = localeIndex[key] { return locale }
            guard let dash = key.lastIndex(of: "-") else { break }
            key = String(key[..<dash])
        }
        return template.defaultLocale
    }

    /// The customer's copy on `channel`, in their locale; nil when the template has no variant for it.
    public func render(_ channel: Channel, values: TemplateValues) -> RenderedMessage? {
        render(channel, values: values, shapes: true)
    }

    /// `shapes` false renders every part the plain way (the tests compare both ways).
    func render(_ channel: Channel, values: TemplateValues, shapes useShapes: Bool) -> RenderedMessage? {
        let locale = locale(for: values.customer.locale)
        guard channels.contains(channel), let variant = variants[locale] else { return nil }
        let slots = values.slots(attributes: attributeNames)
        // A value holding the shape markers (private-use characters) is rendered the plain way.
        let fillable = useShapes && variant.hasShapes && !slots.contains { $0.value.unicodeScalars.contains { $0 == Self.open || $0 == Self.close } }
        let context = fillable ? nil : TemplateValues.context(slots) { slots[$0].value }
        func renderPart(_ part: TemplatePart) -> String? {
            guard let mustache = variant.parts[part] else { return nil }
            guard fillable else { return mustache.render(context!, library: variant.library) }
            let key = locale + "|" + part.rawValue + "|" + slots.map(\.name).joined(separator: ",")
            let shape = shapes.shape(key) {
                mustache.render(TemplateValues.context(slots) { "\(Self.open)\($0)\(Self.close)" }, library: variant.library)
            }
            return Self.fill(shape, with: slots, escaped: part.isHTML)
        }
        if channel == .email {
            guard let subject = renderPart(.emailSubject), let text = renderPart(.emailText) else { return nil }
            return RenderedMessage(
                subject: Self.oneLine(subject), text: text.trimmingWhitespace(), html: renderPart(.emailHtml).map { $0.trimmingWhitespace() },
                unsubscribeURL: values.links.unsubscribe
            )
        }
        guard let part = TemplatePart.allCases.first(where: { $0.channel == channel }), let text = renderPart(part) else {
            return nil
        }
        return RenderedMessage(text: text.trimmingWhitespace(), unsubscribeURL: values.links.unsubscribe)
    }

    /// The marks around a value's number in a shape.
    private static let open: Unicode.Scalar = "\u{F0000}", close: Unicode.Scalar = "\u{F0001}"

    /// A shape with each `open N close` mark replaced by the N-th value, HTML-escaped as Mustache escapes in HTML.
    /// Works on UTF-8: the marks are 4-byte sequences (F3 B0 80 80, F3 B0 80 81) no other text contains.
    private static func fill(_ shape: String, with slots: [(name: String, value: String)], escaped: Bool) -> String {
        var shape = shape
        return shape.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + 256)
            var index = 0, copied = 0
            while index + 3 < bytes.count {
                guard bytes[index] == 0xF3, bytes[index + 1] == 0xB0, bytes[index + 2] == 0x80, bytes[index + 3] == 0x80 else {
                    index += 1
                    continue
                }
                output.append(contentsOf: bytes[copied..<index])
                index += 4
                var number = 0
                while index < bytes.count, bytes[index] != 0xF3 {
                    number = number * 10 + Int(bytes[index]) - 48
                    index += 1
                }
                index += 4  // the closing mark
                copied = index
                let value = slots[number].value
                output.append(contentsOf: (escaped ? htmlEscaped(value) : value).utf8)
            }
            output.append(contentsOf: bytes[copied..<bytes.count])
            return String(decoding: output, as: UTF8.self)
        }
    }

    /// What swift-mustache's HTML content type makes of a value.
    private static func htmlEscaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var escaped = ""
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Every variable use outside a section guarding that same variable: name, file, line. For the launch
    /// check "a variable the audience lacks". All channels when `channel` is nil.
    public func unguardedUses(of channel: Channel?) -> [TemplateVariableUse] {
        var seen: Set<TemplateVariableUse> = []
        var uses: [TemplateVariableUse] = []
        for part in TemplatePart.allCases where channel == nil || part.channel == channel {
            for use in unguarded[part] ?? [] where seen.insert(use).inserted {
                uses.append(use)
            }
        }
        return uses
    }

    /// Problems with the template's own fields, reported against `template.json`.
    static func fieldProblems(_ template: MessageTemplate) -> [TemplateProblem] {
        var messages: [String] = []
        let nameCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        if !(1...100).contains(template.name.count) || !template.name.allSatisfy({ nameCharacters.contains($0) }) {
            messages.append("the name '\(template.name)' must be 1–100 characters of a-z, 0-9 and '-'")
        }
        if let description = template.description, description.count > 500 {
            messages.append("the description must be at most 500 characters")
        }
        if template.variables.count > MessageTemplate.maxVariables {
            messages.append("at most \(MessageTemplate.maxVariables) variables")
        }
        var seen: Set<String> = []
        for variable in template.variables {
            if !seen.insert(variable).inserted {
                messages.append("'\(variable)' is declared twice")
            } else if !Self.isDeclarable(variable) {
                messages.append(
                    "'\(variable)' cannot be declared: declare attributes.NAME or data.NAME (NAME of letters, digits, '_' and '-'); "
                        + "customer.*, links.* and center.name are built in"
                )
            }
        }
        if template.locales.isEmpty {
            messages.append("there is no locale: add one, such as en")
        } else if template.locales.count > MessageTemplate.maxLocales {
            messages.append("at most \(MessageTemplate.maxLocales) locales")
        }
        var normalized: [String: String] = [:]
        for locale in template.locales.keys.sorted() {
            if !LocaleTag.isValid(locale) {
                messages.append("'\(locale)' is not a locale tag such as en or pt-BR")
            } else if let other = normalized.updateValue(locale, forKey: LocaleTag.normalized(locale)) {
                messages.append("'\(other)' and '\(locale)' are the same locale")
            }
        }
        if !template.locales.isEmpty, template.locales[template.defaultLocale] == nil {
            messages.append("the default locale '\(template.defaultLocale)' has no content")
        }
        return messages.map { TemplateProblem(file: "template.json", line: 0, message: $0) }
    }

    private static func isDeclarable(_ variable: String) -> Bool {
        if TemplateChecker.builtIns.contains(variable) { return true }
        let parts = variable.split(separator: ".", omittingEmptySubsequences: false)
        let fieldCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        return parts.count == 2 && TemplateChecker.declaredGroups.contains(String(parts[0]))
            && (1...64).contains(parts[1].count) && parts[1].allSatisfy { fieldCharacters.contains($0) }
    }

    private static func unique<T: Hashable>(_ items: [T]) -> [T] {
        var seen: Set<T> = []
        return items.filter { seen.insert($0).inserted }
    }

    /// A subject on one line: line breaks and the spaces around them become one space.
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// BCP 47-like locale keys: a 2–3 letter language, then subtags of 1–8 letters or digits.
enum LocaleTag {
    static func isValid(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 4, let language = parts.first, (2...3).contains(language.count),
              language.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.dropFirst().allSatisfy { subtag in
            (1...8).contains(subtag.count) && subtag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }

    /// Lowercased, with `_` read as `-`: how customers' locales are matched.
    static func normalized(_ tag: String) -> String {
        String(tag.map { $0 == "_" ? "-" : $0 }).lowercased()
    }
}

/// Rendered shapes by locale, part and the names of the values present; shared by every copy of a compiled template.
final class TemplateShapes: Sendable {
    private let shapes = Mutex<[String: String]>([:])
    /// Enough for every combination of present values a template realistically meets; past it, shapes are not kept.
    private static let limit = 4_096

    func shape(_ key: String, render: () -> String) -> String {
        if let shape = shapes.withLock({ $0[key] }) { return shape }
        let shape = render()
        shapes.withLock { if $0.count < Self.limit { $0[key] = shape } }
        return shape
    }
}
