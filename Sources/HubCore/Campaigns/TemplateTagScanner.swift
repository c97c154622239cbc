import Foundation

/// One Mustache tag as Switchboard's checks see it, with the tags it encloses.
///
/// swift-mustache keeps its token tree to itself, so the checks read the source with this small scanner.
struct TemplateTag: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case variable, unescapedVariable, section, invertedSection, partial, parent, block
    }

    var kind: Kind
    /// As written, trimmed: a dotted name, maybe inside transforms (`uppercased(customer.name)`), or a partial's name.
    var name: String
    var line: Int
    /// False when the name broke the syntax (a problem says so): the checks skip the tag but keep its children.
    var isWellFormed = true
    var children: [TemplateTag] = []

    /// The name a variable or section reads: the one inside any transforms.
    var variable: String {
        guard let openParen = name.lastIndex(of: "("), let closeParen = name[openParen...].firstIndex(of: ")") else {
            return name
        }
        return String(name[name.index(after: openParen)..<closeParen])
    }

    var hasTransforms: Bool { name.contains("(") }

    /// The transforms around the name, outermost first: `uppercased(customer.name)` has `uppercased`.
    var transforms: [String] {
        guard hasTransforms else { return [] }
        return name.split(separator: "(", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The tag as it would be written, for messages.
    var written: String {
        let sigil =
            switch kind {
            case .variable: ""
            case .unescapedVariable: "&"
            case .section: "#"
            case .invertedSection: "^"
            case .partial: ">"
            case .parent: "<"
            case .block: "$"
            }
        return "{{\(sigil)\(name)}}"
    }
}

/// A problem the scanner found, by 1-based line.
struct LineProblem: Sendable, Equatable {
    var line: Int
    var message: String
}

/// Reads the tags of a Mustache source with the default `{{ }}` delimiters: `{{name}}`, `{{{name}}}`,
/// `{{&name}}`, sections (`#`, `^`, `/`), partials (`>`), parents (`<`), blocks (`$`), comments (`!`, which may
/// span lines) and pragmas (`%`). Set-delimiter tags are refused, and the scan stops there.
enum TemplateTagScanner {
    static func scan(_ source: String) -> (tags: [TemplateTag], problems: [LineProblem]) {
        let scalars = Array(source.unicodeScalars)
        var problems: [LineProblem] = []
        // The open sections, the document itself first.
        var openTags = [TemplateTag(kind: .section, name: "", line: 0)]
        var line = 1
        var index = 0
        var stoppedEarly = false

        func fold() {
            let done = openTags.removeLast()
            openTags[openTags.count - 1].children.append(done)
        }
        func checkPlacement(_ kind: TemplateTag.Kind, line: Int) {
            let parent = openTags[openTags.count - 1]
            if parent.kind == .parent, kind != .block {
                problems.append(LineProblem(line: line, message: "only {{$block}} sections may appear inside \(parent.written)"))
            }
        }
        func add(_ kind: TemplateTag.Kind, _ name: String, line: Int, push: Bool) {
            checkPlacement(kind, line: line)
            var tag = TemplateTag(kind: kind, name: name, line: line)
            let isPartial = kind == .partial || kind == .parent
            if name.isEmpty {
                problems.append(LineProblem(line: line, message: "\(tag.written) has no name"))
                tag.isWellFormed = false
            } else if isPartial, name.hasPrefix("*") {
                problems.append(LineProblem(line: line, message: "dynamic partials (\(tag.written)) are not supported"))
                tag.isWellFormed = false
            } else if !name.allSatisfy({ (isPartial ? Self.partialCharacters : Self.nameCharacters).contains($0) }) {
                problems.append(LineProblem(line: line, message: "'\(name)' is not a valid name in \(tag.written)"))
                tag.isWellFormed = false
            }
            if push {
                openTags.append(tag)
            } else {
                openTags[openTags.count - 1].children.append(tag)
            }
        }
        func closeSection(_ name: String, line: Int) {
            guard let target = openTags.lastIndex(where: { $0.name == name }), target > 0 else {
                problems.append(LineProblem(line: line, message: "{{/\(name)}} closes no open section"))
                return
            }
            if target < openTags.count - 1 {
                let inner = openTags[openTags.count - 1]
                problems.append(LineProblem(
                    line: line,
                    message: "{{/\(name)}} closes \(openTags[target].written) while \(inner.written) from line \(inner.line) is still open"
                ))
            }
            while openTags.count > target { fold() }
        }

        scanning: while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\n" || (scalar == "\r" && (index + 1 == scalars.count || scalars[index + 1] != "\n")) {
                line += 1
                index += 1
                continue
            }
            guard scalar == "{", index + 1 < scalars.count, scalars[index + 1] == "{" else {
                index += 1
                continue
            }
            let tagLine = line
            let triple = index + 2 < scalars.count && scalars[index + 2] == "{"
            let contentStart = index + (triple ? 3 : 2)
            guard let closing = Self.find(scalars, from: contentStart) else {
                problems.append(LineProblem(line: tagLine, message: "this tag is never closed with }}"))
                break
            }
            var end = closing + 2
            if triple {
                if end < scalars.count, scalars[end] == "}" {
                    end += 1
                } else {
                    problems.append(LineProblem(line: tagLine, message: "a tag opened with {{{ must close with }}}"))
                }
            }
            var content = ""
            content.unicodeScalars.append(contentsOf: scalars[contentStart..<closing])
            line += Self.newlines(in: scalars[index..<end])
            index = end

            if triple {
                add(.unescapedVariable, content.trimmingWhitespace(), line: tagLine, push: false)
                continue
            }
            guard let sigil = content.first else {
                problems.append(LineProblem(line: tagLine, message: "an empty tag {{}} is not allowed"))
                continue
            }
            let rest = content.dropFirst().trimmingWhitespace()
            switch sigil {
            case "!":
                continue
            case "=":
                problems.append(LineProblem(line: tagLine, message: "set-delimiter tags ({{=…=}}) are not supported: keep {{ and }}"))
                stoppedEarly = true
                break scanning
            case "%":
                problems.append(LineProblem(
                    line: tagLine,
                    message: "pragmas ({{%…}}) are not supported: Switchboard sets the content type from the file name"
                ))
            case "&": add(.unescapedVariable, rest, line: tagLine, push: false)
            case "#": add(.section, rest, line: tagLine, push: true)
            case "^": add(.invertedSection, rest, line: tagLine, push: true)
            case "$": add(.block, rest, line: tagLine, push: true)
            case "<": add(.parent, rest, line: tagLine, push: true)
            case ">": add(.partial, rest, line: tagLine, push: false)
            case "/": closeSection(rest, line: tagLine)
            default: add(.variable, content.trimmingWhitespace(), line: tagLine, push: false)
            }
        }
        while openTags.count > 1 {
            if !stoppedEarly {
                let tag = openTags[openTags.count - 1]
                problems.append(LineProblem(line: tag.line, message: "\(tag.written) is never closed"))
            }
            fold()
        }
        return (openTags[0].children, problems)
    }

    /// Where the next `}}` starts, from `start` on.
    private static func find(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        while index + 1 < scalars.count {
            if scalars[index] == "}", scalars[index + 1] == "}" { return index }
            index += 1
        }
        return nil
    }

    private static func newlines(in scalars: ArraySlice<Unicode.Scalar>) -> Int {
        var count = 0
        var previous: Unicode.Scalar?
        for scalar in scalars {
            if scalar == "\n" || scalar == "\r" {
                // CR LF is one line break.
                if !(scalar == "\n" && previous == "\r") { count += 1 }
            }
            previous = scalar
        }
        return count
    }

    /// What swift-mustache accepts in a variable or section name (transforms included).
    private static let nameCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?*()")
    /// What Switchboard accepts in a partial's name: a shared file's name.
    private static let partialCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_")
}
