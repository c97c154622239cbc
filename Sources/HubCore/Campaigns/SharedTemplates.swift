/// Partials and layouts shared by templates: by locale ("" for any locale) then name.
///
/// A name ends in `.text` (plain text, included by text parts) or `.html` (escaped, included by HTML
/// parts); templates include them as `{{> footer.text}}` or inherit them as `{{< layout.html}}`.
/// A locale's own file wins over the locale-neutral one of the same name.
public struct SharedTemplates: Sendable, Equatable {
    public var files: [String: [String: String]]

    public init(files: [String: [String: String]] = [:]) {
        self.files = files
    }

    /// The file a template in `locale` gets for `name`: the locale's own, else the locale-neutral one.
    public func source(named name: String, locale: String) -> (locale: String, source: String)? {
        if let source = files[locale]?[name] { return (locale, source) }
        if let source = files[""]?[name] { return ("", source) }
        return nil
    }

    /// How problems name a shared file: `shared/<locale>/<name>`, or `shared/<name>` for a locale-neutral one.
    public static func fileName(locale: String, name: String) -> String {
        locale.isEmpty ? "shared/\(name)" : "shared/\(locale)/\(name)"
    }

    /// Whether a shared file is plain text (its name ends in `.text`).
    static func isText(_ name: String) -> Bool { name.hasSuffix(".text") }

    /// Problems each file has on its own: its name, its syntax. What it includes and which variables it
    /// uses are checked with each template that includes it.
    public func problems() -> [TemplateProblem] {
        var problems: [TemplateProblem] = []
        for locale in files.keys.sorted() {
            for (name, source) in (files[locale] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let file = Self.fileName(locale: locale, name: name)
                if !locale.isEmpty, !LocaleTag.isValid(locale) {
                    problems.append(TemplateProblem(file: file, line: 0, message: "'\(locale)' is not a locale tag such as en or pt-BR"))
                }
                if let problem = Self.nameProblem(name) {
                    problems.append(TemplateProblem(file: file, line: 0, message: problem))
                    continue
                }
                problems += ParsedSource(source, file: file, isText: Self.isText(name)).problems
            }
        }
        return problems
    }

    /// Why a shared file's name will not do, nil when it will.
    static func nameProblem(_ name: String) -> String? {
        guard name.count <= 100, name.allSatisfy({ Self.nameCharacters.contains($0) }),
              name.hasSuffix(".text") || name.hasSuffix(".html"), name.count > 5
        else {
            return "a shared file's name is up to 100 characters of a-z, 0-9, '.', '_' and '-' ending in .text or .html"
        }
        return nil
    }

    private static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
}
