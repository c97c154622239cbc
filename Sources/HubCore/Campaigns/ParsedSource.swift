import Mustache

/// One template source, read by the tag scanner and parsed by swift-mustache; the template is nil when
/// either found a problem.
struct ParsedSource: Sendable {
    /// Switches escaping off. Put before the source without a line break, so swift-mustache's line numbers
    /// stay those of the source; a partial starts over as HTML, so each text file gets its own. (A source
    /// that starts with a line break loses it: the pragma then stands alone on its line.)
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

    var tags: [TemplateTag]
    var template: MustacheTemplate?
    var problems: [TemplateProblem]

    init(_ source: String, file: String, isText: Bool) {
        guard source.utf8.count <= MessageTemplate.maxSourceBytes else {
            tags = []
            template = nil
            problems = [TemplateProblem(file: file, line: 0, message: "is longer than \(MessageTemplate.maxSourceBytes / 1024) KiB")]
            return
        }
        let scan = TemplateTagScanner.scan(source)
        tags = scan.tags
        problems = scan.problems.map { TemplateProblem(file: file, line: $0.line, message: $0.message) }
        template = nil
        do {
            let parsed = try MustacheTemplate(string: isText ? Self.textPragma + source : source)
            if problems.isEmpty { template = parsed }
        } catch let error as MustacheTemplate.ParserError {
            // The scanner's own account is the clearer one (an unclosed section is reported where it opens,
            // where swift-mustache stops at the end of the file), so this is only the fallback.
            if problems.isEmpty {
                let line = min(max(1, error.context.lineNumber), Self.lineCount(source))
                problems.append(TemplateProblem(file: file, line: line, message: Self.describe(error.error)))
            }
        } catch {
            if problems.isEmpty {
                problems.append(TemplateProblem(file: file, line: 0, message: "cannot be parsed: \(error)"))
            }
        }
    }

    /// Lines in the source, a last line without a line break included; at least 1.
    static func lineCount(_ source: String) -> Int {
        var count = 0
        for character in source where character.isNewline { count += 1 }
        if let last = source.last, !last.isNewline { count += 1 }
        return max(count, 1)
    }

    /// A sentence for swift-mustache's parse error.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "a tag is not closed or not well formed" }
        if case .sectionCloseNameIncorrect = error { return "this closing tag does not match the open section" }
        if case .unfinishedName = error { return "a tag's name is not well formed or the tag is not closed" }
        if case .expectedSectionEnd = error { return "a section is never closed" }
        if case .invalidSetDelimiter = error { return "set-delimiter tags ({{=…=}}) are not supported" }
        if case .transformAppliedToInheritanceSection = error { return "a {{$block}} cannot have transforms" }
        if case .illegalTokenInsideInheritSection = error { return "only {{$block}} sections may appear inside {{<parent}}" }
        if case .textInsideInheritSection = error { return "text is not allowed inside {{<parent}}" }
        if case .invalidConfigVariableSyntax = error { return "pragmas ({{%…}}) are not supported" }
        if case .unrecognisedConfigVariable = error { return "pragmas ({{%…}}) are not supported" }
        return "the template is not well formed"
    }
}
