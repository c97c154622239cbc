import Foundation
import HubCore
import HubServer
import Testing

/// The templates in the repository's `Templates/` folder, through the loader the hub uses.
@Suite("Shipped templates")
struct ShippedTemplateTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TemplateTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the repository
        .appendingPathComponent("Templates").path

    static let unsubscribe = "https://hub.example/u/msg_1?t=abc123"
    static let preferences = "https://hub.example/p/msg_1?t=abc123"
    static let entities = ["&lt;", "&gt;", "&amp;", "&quot;", "&#39;"]

    /// A customer whose name and center name need escaping in HTML, with every optional value or none.
    static func values(locale: String, withOptionals: Bool) -> TemplateValues {
        TemplateValues(
            customer: TemplateValues.Recipient(id: "cus_1", name: "<b>Ann</b> Lee", tier: "gold", locale: locale),
            attributes: withOptionals ? ["city": "Hangzhou", "accountManager": "Mia Chen"] : [:],
            data: ["code": "SPRING15", "endsOn": "2025-04-30"].merging(withOptionals ? ["giftCode": "BDAY-7Q2"] : [:]) { $1 },
            links: TemplateValues.Links(unsubscribe: unsubscribe, preferences: preferences),
            centerName: "Bloom & Co."
        )
    }

    @Test("the folder loads without problems and holds the campaign templates")
    func loadsCleanly() throws {
        let loaded = try TemplateDirectory.load(Self.folder)
        #expect(loaded.problems.isEmpty, "\(loaded.problems.map(\.description).joined(separator: "\n"))")
        #expect(Set(loaded.templates.map(\.name)).isSuperset(of: ["spring-sale", "birthday-care"]))
        for template in loaded.templates {
            #expect(Set(template.locales.keys).isSuperset(of: ["en", "zh"]), "\(template.name)")
        }
    }

    @Test("every template renders in every locale and channel, with and without optional values")
    func rendersEverywhere() throws {
        let loaded = try TemplateDirectory.load(Self.folder)
        for template in loaded.templates {
            let compiled = try CompiledTemplate(template, shared: loaded.shared)
            #expect(compiled.channels == [.email, .sms, .webchat], "\(template.name)")
            for locale in template.locales.keys.sorted() {
                #expect(compiled.locale(for: locale) == locale)
                for withOptionals in [true, false] {
                    let values = Self.values(locale: locale, withOptionals: withOptionals)
                    for channel in [Channel.email, .sms, .webchat] {
                        let label = "\(template.name) \(locale) \(channel) optionals: \(withOptionals)"
                        let message = try #require(compiled.render(channel, values: values), "\(label)")
                        check(message, channel: channel, locale: locale, withOptionals: withOptionals, label: label)
                    }
                }
            }
        }
    }

    private func check(_ message: RenderedMessage, channel: Channel, locale: String, withOptionals: Bool, label: String) {
        #expect(!message.text.isEmpty, "\(label)")
        #expect(!message.text.contains("{{") && !message.text.contains("}}"), "\(label)")
        // Plain text escapes nothing.
        for text in [message.text, message.subject].compactMap({ $0 }) {
            #expect(!Self.entities.contains { text.contains($0) }, "\(label): \(text)")
        }
        if !withOptionals {
            #expect(!message.text.contains("Hangzhou") && !message.text.contains("Mia Chen") && !message.text.contains("BDAY-7Q2"), "\(label)")
        }
        switch channel {
        case .email:
            let subject = message.subject ?? ""
            #expect(!subject.isEmpty && !subject.contains("\n"), "\(label)")
            #expect(subject.contains("<b>Ann"), "\(label): \(subject)")
            #expect(message.text.contains("<b>Ann"), "\(label)")
            #expect(message.text.contains(Self.unsubscribe), "\(label)")
            #expect(message.text.contains(Self.preferences), "\(label)")
            let html = message.html ?? ""
            #expect(html.hasPrefix("<!DOCTYPE html>"), "\(label)")
            #expect(html.contains("<html lang=\"\(locale)"), "\(label)")
            #expect(html.contains("&lt;b&gt;Ann"), "\(label)")
            #expect(!html.contains("<b>Ann"), "\(label)")
            #expect(html.contains("Bloom &amp; Co."), "\(label)")
            #expect(html.contains("href=\"\(Self.unsubscribe)\""), "\(label)")
            #expect(html.hasSuffix("</html>"), "\(label)")
        case .sms:
            #expect(message.text.hasSuffix(locale == "zh" ? "回复TD退订" : "Reply STOP to opt out"), "\(label)")
            #expect(!message.text.contains("\n"), "\(label)")
            #expect(SMSSegments(message.text).segments <= 3, "\(label): \(message.text)")
            #expect(message.subject == nil && message.html == nil, "\(label)")
        default:
            #expect(message.subject == nil && message.html == nil, "\(label)")
        }
    }

    @Test("optional values appear when the customer has them")
    func optionalValuesAppear() throws {
        let loaded = try TemplateDirectory.load(Self.folder)
        let spring = try #require(loaded.templates.first { $0.name == "spring-sale" })
        let compiled = try CompiledTemplate(spring, shared: loaded.shared)
        for locale in ["en", "zh"] {
            let values = Self.values(locale: locale, withOptionals: true)
            for channel in [Channel.email, .sms, .webchat] {
                let message = try #require(compiled.render(channel, values: values))
                #expect(message.text.contains("Hangzhou"), "\(locale) \(channel)")
                #expect(message.text.contains("SPRING15"), "\(locale) \(channel)")
                #expect(message.text.contains("2025-04-30"), "\(locale) \(channel)")
            }
        }
    }

    @Test("every attribute a shipped template uses is guarded, so customers without it read well")
    func attributesGuarded() throws {
        let loaded = try TemplateDirectory.load(Self.folder)
        for template in loaded.templates {
            let compiled = try CompiledTemplate(template, shared: loaded.shared)
            let unguarded = compiled.unguardedUses(of: nil).filter { $0.name.hasPrefix("attributes.") || $0.name.hasPrefix("customer.") }
            #expect(unguarded.isEmpty, "\(template.name): \(unguarded)")
        }
    }

    @Test("a customer without a name is greeted without one")
    func nameless() throws {
        let loaded = try TemplateDirectory.load(Self.folder)
        for template in loaded.templates {
            let compiled = try CompiledTemplate(template, shared: loaded.shared)
            var values = Self.values(locale: "en", withOptionals: false)
            values.customer.name = nil
            let message = try #require(compiled.render(.email, values: values))
            #expect(!message.text.hasPrefix(","), "\(template.name)")
            #expect(!(message.subject ?? "").contains(", ,"), "\(template.name)")
            #expect(!message.text.contains("Hi ,") && !message.text.contains("Dear ,"), "\(template.name)")
        }
    }

    @Test("problems name files relative to the folder")
    func problemPaths() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("campaigns/offer/zh")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("campaigns/offer/en"), withIntermediateDirectories: true)
        try #"{"variables": [], "defaultLocale": "en"}"#.write(
            to: root.appendingPathComponent("campaigns/offer/template.json"), atomically: true, encoding: .utf8
        )
        try "Hi\n{{data.code}}\n".write(to: root.appendingPathComponent("campaigns/offer/en/sms.mustache"), atomically: true, encoding: .utf8)
        try "您好\n\n{{#customer.name}}\n".write(to: folder.appendingPathComponent("sms.mustache"), atomically: true, encoding: .utf8)
        let loaded = try TemplateDirectory.load(root.path)
        #expect(loaded.problems.map(\.description) == [
            "campaigns/offer/en/sms.mustache:2: 'data.code' is not declared: add it to the template's variables",
            "campaigns/offer/zh/sms.mustache:3: {{#customer.name}} is never closed",
        ])
        #expect(loaded.templates.map(\.name) == ["offer"])
        #expect(throws: TemplateDirectory.LoadError.self) { try TemplateDirectory.load(root.appendingPathComponent("missing").path) }
    }
}
