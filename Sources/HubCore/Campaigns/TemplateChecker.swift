/// Walks one locale's tags, following partials: every variable must be one templates have, every
/// `attributes.*` and `data.*` declared, every partial there and of the including file's kind (text or HTML).
/// Records the variable uses no section of the same variable guards.
struct TemplateChecker {
    /// Fields every template may use without declaring them.
    static let builtIns: Set<String> = [
        "customer.id", "customer.name", "customer.firstName", "customer.tier", "customer.locale",
        "links.unsubscribe", "links.preferences", "center.name",
    ]
    /// Names that hold values rather than being one.
    static let groups: Set<String> = ["customer", "attributes", "data", "links", "center"]
    /// The groups whose fields a template declares.
    static let declaredGroups: Set<String> = ["attributes", "data"]
    /// Partials a template may include, counted over every path through them: enough for any real
    /// template, and a bound on what a hostile one can make a render do.
    static let maxInclusions = 1000

    let declared: Set<String>
    let shared: SharedTemplates
    let locale: String
    /// Shared files read so far, by their file name; kept from one locale to the next.
    var parsed: [String: ParsedSource]
    /// The shared files the locale includes: name, then file name.
    var included: [String: String] = [:]
    var problems: [TemplateProblem] = []
    private var inclusions = 0

    init(declared: Set<String>, shared: SharedTemplates, locale: String, parsed: [String: ParsedSource]) {
        self.declared = declared
        self.shared = shared
        self.locale = locale
        self.parsed = parsed
    }

    /// Where a walk is: the variables sections guard, the values sections pushed (a group's name, or nil
    /// for a single value), the partials on the way here.
    struct Scope {
        var guards: Set<String> = []
        var stack: [String?] = []
        var chain: [String] = []
    }

    /// Checks a part's tags; returns the uses no section guards.
    mutating func check(_ tags: [TemplateTag], file: String, isText: Bool) -> [TemplateVariableUse] {
        var uses: [TemplateVariableUse] = []
        walk(tags, file: file, isText: isText, scope: Scope(), uses: &uses)
        return uses
    }

    private mutating func walk(
        _ tags: [TemplateTag], file: String, isText: Bool, scope: Scope, uses: inout [TemplateVariableUse]
    ) {
        for tag in tags {
            switch tag.kind {
            case .variable, .unescapedVariable:
                guard tag.isWellFormed else { continue }
                if tag.variable == "." {
                    if scope.stack.isEmpty {
                        problem(file, tag.line, "\(tag.written) means the current section's value, and is outside any section")
                    }
                    continue
                }
                guard let path = resolve(tag, file: file, scope: scope) else { continue }
                if Self.groups.contains(path) {
                    problem(file, tag.line, "'\(path)' is a group of values: name one of them, such as \(path).\(Self.example(path))")
                } else if !scope.guards.contains(path) {
                    uses.append(TemplateVariableUse(name: path, file: file, line: tag.line))
                }

            case .section, .invertedSection:
                var inner = scope
                if tag.isWellFormed, tag.variable != ".", let path = resolve(tag, file: file, scope: scope) {
                    let isGroup = Self.groups.contains(path)
                    if tag.kind == .section {
                        inner.stack.append(isGroup ? path : nil)
                        if !isGroup, !tag.hasTransforms { inner.guards.insert(path) }
                    }
                } else if tag.kind == .section {
                    inner.stack.append(nil)
                }
                walk(tag.children, file: file, isText: isText, scope: inner, uses: &uses)

            case .block:
                walk(tag.children, file: file, isText: isText, scope: scope, uses: &uses)

            case .parent:
                // The blocks belong to this file; the parent's own text renders around them.
                walk(tag.children, file: file, isText: isText, scope: scope, uses: &uses)
                if tag.isWellFormed { include(tag, from: file, isText: isText, scope: scope, uses: &uses) }

            case .partial:
                if tag.isWellFormed { include(tag, from: file, isText: isText, scope: scope, uses: &uses) }
            }
        }
    }

    private mutating func include(
        _ tag: TemplateTag, from file: String, isText: Bool, scope: Scope, uses: inout [TemplateVariableUse]
    ) {
        let name = tag.name
        guard let found = shared.source(named: name, locale: locale) else {
            let places = locale.isEmpty ? "shared/" : "shared/\(locale)/ or shared/"
            problem(file, tag.line, "\(tag.written): there is no shared file '\(name)' in \(places)")
            return
        }
        let partialFile = SharedTemplates.fileName(locale: found.locale, name: name)
        let partialIsText = SharedTemplates.isText(name)
        if partialIsText != isText {
            problem(
                file, tag.line,
                isText
                    ? "\(tag.written): a text file includes .text files only (an HTML one would escape values)"
                    : "\(tag.written): an HTML file includes .html files only (a text one would not escape values)"
            )
            return
        }
        if scope.chain.contains(partialFile) {
            let path = (scope.chain + [partialFile]).joined(separator: " → ")
            problem(file, tag.line, "\(tag.written) includes itself (\(path)) and would never finish rendering")
            return
        }
        inclusions += 1
        guard inclusions <= Self.maxInclusions else {
            if inclusions == Self.maxInclusions + 1 {
                problem(file, tag.line, "includes partials more than \(Self.maxInclusions) times in all")
            }
            return
        }
        if let nameProblem = SharedTemplates.nameProblem(name) {
            problem(partialFile, 0, nameProblem)
        }
        let source: ParsedSource
        if let cached = parsed[partialFile] {
            source = cached
        } else {
            source = ParsedSource(found.source, file: partialFile, isText: partialIsText)
            parsed[partialFile] = source
        }
        problems += source.problems
        included[name] = partialFile
        var inner = scope
        inner.chain.append(partialFile)
        walk(source.tags, file: partialFile, isText: partialIsText, scope: inner, uses: &uses)
    }

    /// The full dotted name a tag reads, nil (with a problem) when templates have no such variable.
    ///
    /// Inside `{{#customer}}…{{/customer}}`, `{{firstName}}` and `{{.firstName}}` read `customer.firstName`,
    /// as swift-mustache looks names up in the sections' values first.
    private mutating func resolve(_ tag: TemplateTag, file: String, scope: Scope) -> String? {
        let name = tag.variable
        for transform in tag.transforms where !Self.transforms.contains(transform) {
            problem(file, tag.line, "'\(transform)' in \(tag.written) is not a transform: use \(Self.transforms.sorted().joined(separator: ", "))")
            return nil
        }
        let path: String?
        if name.hasPrefix(".") {
            path = scope.stack.last.flatMap { $0 }.map { $0 + name }
        } else if let first = name.split(separator: ".", omittingEmptySubsequences: false).first,
                  Self.groups.contains(String(first)) {
            path = name
        } else {
            let candidates = scope.stack.reversed().compactMap { $0 }.map { "\($0).\(name)" }
            let declaredNames = self.declared
            path = candidates.first(where: { Self.builtIns.contains($0) || declaredNames.contains($0) }) ?? candidates.first
        }
        guard let path else {
            problem(file, tag.line, "'\(name)' in \(tag.written) is not a template variable: \(Self.known)")
            return nil
        }
        if Self.groups.contains(path) || Self.builtIns.contains(path) { return path }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.declaredGroups.contains(String(parts[0])), !parts[1].isEmpty else {
            problem(file, tag.line, "'\(path)' in \(tag.written) is not a template variable: \(Self.known)")
            return nil
        }
        guard declared.contains(path) else {
            problem(file, tag.line, "'\(path)' is not declared: add it to the template's variables")
            return nil
        }
        return path
    }

    private mutating func problem(_ file: String, _ line: Int, _ message: String) {
        problems.append(TemplateProblem(file: file, line: line, message: message))
    }

    /// What swift-mustache can do to a text value.
    static let transforms: Set<String> = ["capitalized", "lowercased", "uppercased", "reversed", "empty"]

    private static let known =
        "use customer.id, customer.name, customer.firstName, customer.tier, customer.locale, attributes.NAME, "
        + "data.NAME, links.unsubscribe, links.preferences or center.name"

    private static func example(_ group: String) -> String {
        switch group {
        case "customer": "firstName"
        case "links": "unsubscribe"
        case "center": "name"
        default: "NAME"
        }
    }
}
