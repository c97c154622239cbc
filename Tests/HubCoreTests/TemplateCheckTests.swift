import HubCore
import Testing

/// The problems `CompiledTemplate` finds, none when it compiles.
private func problems(_ template: MessageTemplate, shared: SharedTemplates = SharedTemplates()) -> [TemplateProblem] {
    do {
        _ = try CompiledTemplate(template, shared: shared)
        return []
    } catch {
        return error.problems
    }
}

/// A template with one SMS variant in `en`.
private func sms(_ source: String, variables: [String] = []) -> MessageTemplate {
    MessageTemplate(name: "check", variables: variables, defaultLocale: "en", locales: ["en": TemplateContent(sms: source)])
}

@Suite("Template checks")
struct TemplateCheckTests {
    @Test("an undeclared variable is reported at its file and line")
    func undeclaredVariable() {
        let found = problems(sms("Hi {{customer.firstName}}\n\nYour code: {{data.code}}"))
        #expect(found.map(\.description) == ["en/sms:3: 'data.code' is not declared: add it to the template's variables"])
        #expect(problems(sms("Hi {{customer.firstName}}\n\nYour code: {{data.code}}", variables: ["data.code"])).isEmpty)
    }

    @Test("built-ins need no declaration; names templates do not have are refused")
    func knownNames() {
        let builtIns = "{{customer.id}} {{customer.name}} {{customer.tier}} {{customer.locale}} {{links.unsubscribe}} {{links.preferences}} {{center.name}}"
        #expect(problems(sms(builtIns)).isEmpty)
        let found = problems(sms("Hi {{firstName}}\n{{customer.age}}\n{{customer}}"))
        #expect(found.map(\.file) == ["en/sms", "en/sms", "en/sms"])
        #expect(found.map(\.line) == [1, 2, 3])
    }

    @Test("line numbers count lines inside multi-line comments and tags")
    func linesAfterComments() {
        let found = problems(sms("{{! a note\nthat spans\nlines }}\n{{data.code}}"))
        #expect(found.map(\.line) == [4])
    }

    @Test("a partial or layout that exists neither for the locale nor for every locale")
    func missingPartial() {
        let template = MessageTemplate(name: "check", defaultLocale: "en", locales: [
            "en": TemplateContent(
                emailSubject: "Hi",
                emailHtml: "{{<layout.html}}{{$body}}<p>Hi</p>{{/body}}{{/layout.html}}",
                emailText: "Hello\n\n{{> signature.text}}\n{{> footer.text}}"
            ),
        ])
        let shared = SharedTemplates(files: ["": ["signature.text": "The team"], "zh": ["footer.text": "退订"]])
        let found = problems(template, shared: shared)
        #expect(found.map(\.file) == ["en/email.html", "en/email.text"])
        #expect(found.map(\.line) == [1, 4])
        #expect(found.first?.message.contains("layout.html") == true)
        #expect(found.last?.message.contains("footer.text") == true)
    }

    @Test("an unclosed section is reported on the line that opens it")
    func unclosedSection() {
        let found = problems(sms("Hello\nthere\n{{#data.code}}Code {{data.code}}\nbye\n", variables: ["data.code"]))
        #expect(found == [TemplateProblem(file: "en/sms", line: 3, message: "{{#data.code}} is never closed")])
    }

    @Test("a closing tag without its section")
    func strayClose() {
        let found = problems(sms("{{#data.code}}\n{{/data.cod}}", variables: ["data.code"]))
        #expect(found.contains(TemplateProblem(file: "en/sms", line: 2, message: "{{/data.cod}} closes no open section")))
        #expect(found.contains(TemplateProblem(file: "en/sms", line: 1, message: "{{#data.code}} is never closed")))
    }

    @Test("a syntax error only swift-mustache sees is reported at its line")
    func mustacheSyntaxError() {
        let found = problems(sms("a\n{{uppercased(data.code}}\nb", variables: ["data.code"]))
        #expect(found.contains(TemplateProblem(
            file: "en/sms", line: 2, message: "a tag's name is not well formed or the tag is not closed"
        )))
    }

    @Test("set-delimiter tags and pragmas are refused")
    func setDelimiterAndPragma() {
        let delimiter = problems(sms("Hi\n{{=<% %>=}}\n<% customer.name %>"))
        #expect(delimiter.count == 1)
        #expect(delimiter.first?.line == 2)
        #expect(delimiter.first?.message.contains("set-delimiter") == true)
        let pragma = problems(sms("{{% CONTENT_TYPE: HTML}}Hi {{customer.name}}"))
        #expect(pragma.map(\.line) == [1])
        #expect(pragma.first?.message.contains("pragma") == true)
    }

    @Test("a locale missing a part the default locale has, or having one it lacks")
    func localesMatch() {
        let template = MessageTemplate(name: "check", defaultLocale: "en", locales: [
            "en": TemplateContent(emailSubject: "Hi", emailText: "Hello", sms: "Hi"),
            "zh": TemplateContent(emailSubject: "您好", emailText: "您好"),
        ])
        #expect(problems(template) == [TemplateProblem(file: "zh/sms", line: 0, message: "is missing: en, the default locale, has it")])
        var extra = template
        extra.locales["zh"]?.sms = "您好"
        extra.locales["zh"]?.webchat = "您好"
        #expect(problems(extra).map(\.file) == ["zh/webchat"])
    }

    @Test("an email needs a subject and a text; HTML alone will not do")
    func emailParts() {
        let template = MessageTemplate(name: "check", defaultLocale: "en", locales: ["en": TemplateContent(emailHtml: "<p>Hi</p>")])
        #expect(problems(template).map(\.file) == ["en/email.subject", "en/email.text"])
    }

    @Test("the template's own fields: name, declarations, locales")
    func fields() {
        let template = MessageTemplate(
            name: "Spring Sale", variables: ["data.code", "data.code", "customer.age"], defaultLocale: "fr",
            locales: ["en": TemplateContent(sms: "{{data.code}}"), "zh_CN": TemplateContent(sms: "{{data.code}}")]
        )
        let found = problems(template).filter { $0.file == "template.json" }
        #expect(found.count == 5)
        #expect(found.allSatisfy { $0.line == 0 })
    }

    @Test("uses inside a section of the same variable are guarded, others are not, through partials too")
    func guardedUses() throws {
        let template = MessageTemplate(name: "check", variables: ["attributes.city", "data.code"], defaultLocale: "en", locales: [
            "en": TemplateContent(
                emailSubject: "Hello {{customer.firstName}}",
                emailText: "{{#data.code}}{{> code.text}}{{/data.code}}\n{{> city.text}}",
                sms: "{{#attributes.city}}in {{attributes.city}}{{/attributes.city}}\n{{^attributes.city}}{{attributes.city}}{{/attributes.city}}\n{{data.code}}"
            ),
        ])
        let shared = SharedTemplates(files: ["en": ["code.text": "Code: {{data.code}}"], "": ["city.text": "City:\n{{attributes.city}}"]])
        let compiled = try CompiledTemplate(template, shared: shared)
        #expect(compiled.unguardedUses(of: .sms) == [
            TemplateVariableUse(name: "attributes.city", file: "en/sms", line: 2),
            TemplateVariableUse(name: "data.code", file: "en/sms", line: 3),
        ])
        #expect(compiled.unguardedUses(of: .email) == [
            TemplateVariableUse(name: "customer.firstName", file: "en/email.subject", line: 1),
            TemplateVariableUse(name: "attributes.city", file: "shared/city.text", line: 2),
        ])
        #expect(compiled.unguardedUses(of: .webchat).isEmpty)
        #expect(compiled.unguardedUses(of: nil).count == 4)

        let values = TemplateValues(customer: TemplateValues.Recipient(id: "c"), attributes: ["city": "Hangzhou"], data: ["code": "X1"], centerName: "X")
        #expect(compiled.render(.sms, values: values)?.text == "in Hangzhou\n\nX1")
        #expect(compiled.render(.email, values: values)?.text == "Code: X1\nCity:\nHangzhou")
        // An empty value counts as missing, so the guard holds.
        var empty = values
        empty.attributes["city"] = ""
        #expect(compiled.render(.sms, values: empty)?.text == "X1")
    }

    @Test("names inside a group's section read the group's fields")
    func groupSections() throws {
        let template = sms("{{#customer}}{{firstName}} {{.tier}}{{/customer}} {{#data}}{{code}}{{/data}}", variables: ["data.code"])
        let compiled = try CompiledTemplate(template, shared: SharedTemplates())
        let values = TemplateValues(customer: TemplateValues.Recipient(id: "c", name: "Ann Lee", tier: "gold"), data: ["code": "X1"], centerName: "X")
        #expect(compiled.render(.sms, values: values)?.text == "Ann gold X1")
        #expect(problems(sms("{{#data}}{{discount}}{{/data}}", variables: ["data.code"])).map(\.line) == [1])
        #expect(problems(sms("Hi {{.}}")).map(\.line) == [1])
    }

    @Test("a customer's locale picks the template's: exact, then its language, then the default")
    func localeSelection() throws {
        let template = MessageTemplate(name: "check", defaultLocale: "en", locales: [
            "en": TemplateContent(sms: "Hi"), "zh": TemplateContent(sms: "您好"), "pt-BR": TemplateContent(sms: "Olá"),
        ])
        let compiled = try CompiledTemplate(template, shared: SharedTemplates())
        #expect(compiled.locale(for: "zh-CN") == "zh")
        #expect(compiled.locale(for: "zh_TW") == "zh")
        #expect(compiled.locale(for: "zh_Hans") == "zh")
        #expect(compiled.locale(for: "pt_br") == "pt-BR")
        #expect(compiled.locale(for: "pt-PT") == "en")
        #expect(compiled.locale(for: "fr") == "en")
        #expect(compiled.locale(for: nil) == "en")
        let chinese = TemplateValues(customer: TemplateValues.Recipient(id: "c", locale: "zh-CN"), centerName: "X")
        #expect(compiled.render(.sms, values: chinese)?.text == "您好")
    }

    @Test("HTML escapes values except in triple mustaches; text parts escape nothing; subjects are one line")
    func escaping() throws {
        let template = MessageTemplate(name: "check", variables: ["data.snippet"], defaultLocale: "en", locales: [
            "en": TemplateContent(
                emailSubject: "{{data.snippet}}\n  & more\n",
                emailHtml: "<p>{{{data.snippet}}}</p><p>{{data.snippet}}</p><p>{{& data.snippet}}</p>",
                emailText: "{{data.snippet}}\n",
                sms: "{{data.snippet}} & {{center.name}}"
            ),
        ])
        let compiled = try CompiledTemplate(template, shared: SharedTemplates())
        #expect(compiled.channels == [.email, .sms])
        let values = TemplateValues(customer: TemplateValues.Recipient(id: "c"), data: ["snippet": "<i>x</i>"], centerName: "A & B")
        let email = try #require(compiled.render(.email, values: values))
        #expect(email.html == "<p><i>x</i></p><p>&lt;i&gt;x&lt;/i&gt;</p><p><i>x</i></p>")
        #expect(email.text == "<i>x</i>")
        #expect(email.subject == "<i>x</i> & more")
        #expect(compiled.render(.sms, values: values) == RenderedMessage(text: "<i>x</i> & A & B"))
        #expect(compiled.render(.webchat, values: values) == nil)
        #expect(compiled.render(.api, values: values) == nil)
    }

    @Test("an HTML email inherits a shared layout, fills its blocks and keeps values escaped")
    func layout() throws {
        let shared = SharedTemplates(files: [
            "": ["layout.html": "<html lang=\"{{$lang}}en{{/lang}}\">{{$body}}{{/body}}{{> footer.html}}</html>"],
            "en": ["footer.html": "<p>Unsubscribe</p>"],
            "zh": ["footer.html": "<p>退订</p>"],
        ])
        let chineseHTML = "{{<layout.html}}\n{{$lang}}zh{{/lang}}\n{{$body}}\n<p>{{customer.name}}</p>\n{{/body}}\n{{/layout.html}}\n"
        let template = MessageTemplate(name: "check", defaultLocale: "en", locales: [
            "en": TemplateContent(
                emailSubject: "Hi", emailHtml: "{{<layout.html}}{{$body}}<p>{{customer.name}}</p>{{/body}}{{/layout.html}}",
                emailText: "Hi"
            ),
            "zh": TemplateContent(emailSubject: "您好", emailHtml: chineseHTML, emailText: "您好"),
        ])
        let compiled = try CompiledTemplate(template, shared: shared)
        let english = TemplateValues(customer: TemplateValues.Recipient(id: "c", name: "A & B"), centerName: "X")
        #expect(compiled.render(.email, values: english)?.html == "<html lang=\"en\"><p>A &amp; B</p><p>Unsubscribe</p></html>")
        let chinese = TemplateValues(customer: TemplateValues.Recipient(id: "c", name: "A & B", locale: "zh"), centerName: "X")
        #expect(compiled.render(.email, values: chinese)?.html == "<html lang=\"zh\"><p>A &amp; B</p>\n<p>退订</p></html>")
    }

    @Test("text parts include .text partials only, HTML parts .html ones")
    func partialKinds() {
        let template = MessageTemplate(name: "check", defaultLocale: "en", locales: [
            "en": TemplateContent(emailSubject: "Hi", emailHtml: "<p>Hi</p>\n{{> footer.text}}", emailText: "{{> footer.html}}"),
        ])
        let shared = SharedTemplates(files: ["": ["footer.text": "bye", "footer.html": "<p>bye</p>"]])
        let found = problems(template, shared: shared)
        #expect(found.map(\.file) == ["en/email.html", "en/email.text"])
        #expect(found.map(\.line) == [2, 1])
    }

    @Test("partials that include themselves are refused")
    func cycles() {
        let shared = SharedTemplates(files: ["": ["a.text": "A {{> b.text}}", "b.text": "B\n{{> a.text}}"]])
        let found = problems(sms("{{> a.text}}"), shared: shared)
        #expect(found.count == 1)
        #expect(found.first?.file == "shared/b.text")
        #expect(found.first?.line == 2)
        #expect(found.first?.message.contains("includes itself") == true)
    }

    @Test("shared files need a .text or .html name and good syntax")
    func sharedProblems() {
        let shared = SharedTemplates(files: ["": ["footer": "bye", "ok.text": "fine {{customer.name}}"], "zh": ["bad.html": "{{#x}}"]])
        #expect(shared.problems() == [
            TemplateProblem(file: "shared/footer", line: 0, message: "a shared file's name is up to 100 characters of a-z, 0-9, '.', '_' and '-' ending in .text or .html"),
            TemplateProblem(file: "shared/zh/bad.html", line: 1, message: "{{#x}} is never closed"),
        ])
    }
}
