/// Something wrong in a template's source: where, and what.
///
/// Files are named `<locale>/<part>` (`zh/sms`, `en/email.html`), `shared/<locale>/<name>` and
/// `shared/<name>` for shared files, `template.json` for the template's own fields; a loader maps them to paths.
public struct TemplateProblem: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The file, named as above.
    public var file: String
    /// 1-based; 0 when the problem is about the whole file (a missing one, say).
    public var line: Int
    /// What is wrong, as a sentence for the template's author.
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, or `file: message` for a whole file.
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Every problem found in a template; it cannot be used until they are fixed.
public struct TemplateProblems: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [TemplateProblem]

    public init(_ problems: [TemplateProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Where a template uses a variable: its dotted name, file and 1-based line.
public struct TemplateVariableUse: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The full dotted name, such as `attributes.city`.
    public var name: String
    public var file: String
    public var line: Int

    public init(name: String, file: String, line: Int) {
        self.name = name
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line): \(name)" }
}
