import Foundation
@testable import HubCore
import HubServer
import Testing
import TestSupport

/// A template renders each shape of values once and fills it for every customer; the result must be exactly
/// what rendering each copy the plain way gives, whatever the values hold.
@Suite("Template shapes")
struct TemplateShapeTests {
    /// Values meant to trip a filler: HTML specials, braces, digits, line breaks, Chinese, emoji, spaces only.
    static let tricky = ["Ann", "<b>Ann</b> & \"Bo\" 'Cy'", "{{customer.name}}", "12", "line one\nline two", "王芳", "🙂 ok", " ", "", "a\u{F0000}1\u{F0001}b"]

    static let probe = MessageTemplate(
        name: "probe", variables: ["attributes.city", "attributes.plan", "data.code"], defaultLocale: "en",
        locales: ["en": TemplateContent(
            emailSubject: "{{customer.firstName}} {{#attributes.city}}in {{.}}{{/attributes.city}}",
            emailHtml: "<p>{{customer.name}}</p>{{#attributes.plan}}<b>{{attributes.plan}}</b>{{/attributes.plan}}{{^attributes.plan}}none{{/attributes.plan}}\n{{> footer.html}}",
            emailText: "Hi {{customer.name}},\n  {{#attributes.city}}\n  City: {{attributes.city}}\n  {{/attributes.city}}\nCode {{data.code}} {{links.unsubscribe}}\n{{> footer.text}}",
            sms: "{{center.name}}: {{data.code}}{{#customer.name}} for {{customer.name}}{{/customer.name}}",
            webchat: "{{#customer.name}}{{customer.name}}, {{/customer.name}}{{data.code}}"
        )]
    )

    static let shared = SharedTemplates(files: ["en": [
        "footer.text": "  -- \n  {{center.name}} {{links.preferences}}\n",
        "footer.html": "<footer>{{center.name}} <a href=\"{{links.unsubscribe}}\">x</a></footer>",
    ]])

    static func values(_ random: inout SplitMix64, locale: String) -> TemplateValues {
        func pick() -> String? { Int.random(in: 0..<5, using: &random) == 0 ? nil : tricky.randomElement(using: &random) }
        var attributes: [String: String] = [:]
        for key in ["city", "plan", "other"] { if let value = pick() { attributes[key] = value } }
        return TemplateValues(
            customer: TemplateValues.Recipient(id: "cus_\(Int.random(in: 0..<1000, using: &random))", name: pick(), tier: pick(), locale: locale),
            attributes: attributes, data: ["code": pick() ?? "X1"],
            links: TemplateValues.Links(unsubscribe: pick(), preferences: pick()), centerName: pick() ?? "Acme"
        )
    }

    @Test("property: filled shapes equal plain rendering, for the shipped templates and a probe")
    func shapesMatchPlainRendering() throws {
        let loaded = try TemplateDirectory.load(ShippedTemplateTests.folder)
        var compiled = try loaded.templates.map { try CompiledTemplate($0, shared: loaded.shared) }
        compiled.append(try CompiledTemplate(Self.probe, shared: Self.shared))
        var random = SplitMix64(seed: 42)
        for template in compiled {
            for _ in 0..<300 {
                let values = Self.values(&random, locale: template.template.locales.keys.sorted().randomElement(using: &random)!)
                for channel in [Channel.email, .sms, .webchat] {
                    let filled = template.render(channel, values: values)
                    let plain = template.render(channel, values: values, shapes: false)
                    #expect(filled == plain, "\(template.template.name) \(channel) \(values)")
                }
            }
        }
    }
}
