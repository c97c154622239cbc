import Foundation

/// Who a marketing campaign reaches: a condition on the customer's profile, tags, identities, consents and
/// last contact, written in a small filter language such as
/// `tier in ("gold", "platinum") and tags has "new-parent" and city = "Shenzhen"`.
///
/// The store turns a filter into SQL whose every value is a bound argument, so nothing a filter says ever
/// becomes SQL text.
public indirect enum AudienceFilter: Sendable, Equatable, CustomStringConvertible {
    /// Every customer: the empty filter.
    case everyone
    /// Customers every condition selects.
    case and([AudienceFilter])
    /// Customers at least one condition selects.
    case or([AudienceFilter])
    /// Customers the condition does not select.
    case not(AudienceFilter)
    /// `field op value`. A customer without the field (or, against a number, with a value that is not a number)
    /// matches no comparison, not even `!=`; `not city = "x"` selects them.
    case compare(AudienceField, AudienceComparison, AudienceValue)
    /// `field in (v1, v2, ...)`; `field not in (...)` is `.not(.isIn(...))`.
    case isIn(AudienceField, [AudienceValue])
    /// `tags has "vip"`: the customer carries the tag (exactly, case included).
    case hasTag(String)
    /// `identities has email`: the customer has an address on the channel.
    case hasIdentity(Channel)
    /// `consent has sms`: on an address of the channel, the customer's latest marketing consent is an opt-in.
    case hasConsent(Channel)
    /// `last_contact < 30d`: the age of the customer's latest inbound message against a duration in seconds.
    /// A customer never heard from is infinitely old: `>`, `>=` and `!=` select them, `<`, `<=` and `=` never do.
    case lastContact(AudienceComparison, seconds: Int)

    /// The longest source accepted, in UTF-8 bytes.
    public static let maxSourceBytes = 4_000
    /// How deeply parentheses and `not` may nest.
    public static let maxDepth = 32
    /// The most conditions (predicates) one filter may hold.
    public static let maxPredicates = 200
    /// The most values of one `in` list.
    public static let maxListValues = 500
    /// The longest string, in UTF-8 bytes.
    public static let maxStringBytes = 500
    /// The longest duration `last_contact` compares with: 100 years.
    public static let maxDurationSeconds = 36_500 * 86_400

    /// Parses filter source text; an empty or all-whitespace source is `.everyone`.
    ///
    /// Errors name the place as `column N` (`line L, column N` when the source has several lines), counting
    /// Unicode scalars from 1, and say what was expected and what was found.
    public static func parse(_ source: String) throws(ValidationError) -> AudienceFilter {
        if source.utf8.count > maxSourceBytes {
            var bytes = 0
            var offset = 0
            for scalar in source.unicodeScalars {
                bytes += UTF8.width(scalar)
                if bytes > maxSourceBytes { break }
                offset += 1
            }
            let text = AudienceSource(Array(source.unicodeScalars.prefix(offset + 1)))
            throw text.error(at: offset, "the filter is longer than \(maxSourceBytes) bytes")
        }
        let text = AudienceSource(Array(source.unicodeScalars))
        if let nul = text.scalars.firstIndex(of: "\0") {
            throw text.error(at: nul, "NUL characters are not allowed")
        }
        let tokens = try AudienceLexer.tokenize(text)
        var parser = AudienceParser(text: text, tokens: tokens)
        return try parser.parseSource()
    }

    /// The filter as canonical source text, which parses back to an equal value.
    ///
    /// That holds for every filter `parse` returns. Hand-built values outside the language (an `and` or `or`
    /// of fewer than two conditions, `.everyone` inside another filter, a number that is not finite, a negative
    /// or over-long duration, over-long strings) have no source text of their own.
    public var description: String {
        switch self {
        case .everyone:
            return ""
        case .and(let conditions):
            return conditions.map { $0.operandSource(insideOr: false) }.joined(separator: " and ")
        case .or(let conditions):
            return conditions.map { $0.operandSource(insideOr: true) }.joined(separator: " or ")
        case .not(.isIn(let field, let values)):
            return "\(field.source) not in \(AudienceValue.listSource(values))"
        case .not(let condition):
            return "not " + condition.operandSource(insideOr: false)
        case .compare(let field, let comparison, let value):
            return "\(field.source) \(comparison.rawValue) \(value.source)"
        case .isIn(let field, let values):
            return "\(field.source) in \(AudienceValue.listSource(values))"
        case .hasTag(let tag):
            return "tags has \(AudienceSource.quoted(tag))"
        case .hasIdentity(let channel):
            return "identities has \(channel.rawValue)"
        case .hasConsent(let channel):
            return "consent has \(channel.rawValue)"
        case .lastContact(let comparison, let seconds):
            return "last_contact \(comparison.rawValue) \(Self.durationSource(seconds))"
        }
    }

    /// The source of the filter as a part of `and`, `or` or `not`: lists of conditions in parentheses, except
    /// an `and` inside an `or`, which binds tighter anyway. No parentheses the parse did not need, so the
    /// text never nests deeper than the source it came from.
    private func operandSource(insideOr: Bool) -> String {
        switch self {
        case .and: insideOr ? description : "(\(description))"
        case .or: "(\(description))"
        default: description
        }
    }

    /// A number of seconds in the largest unit that writes it whole.
    private static func durationSource(_ seconds: Int) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

/// What a comparison in an audience filter looks at: a profile field or a customer attribute.
public enum AudienceField: Sendable, Equatable {
    case name, tier, locale, timeZone, externalId
    /// A value of the customer's `attributes`, by its exact (case-sensitive) name.
    case attribute(String)

    /// The field as the filter language writes it. An attribute whose name is a word of the language, or
    /// is not a plain identifier, is written `attributes.name` or `attributes["name"]`.
    var source: String {
        switch self {
        case .name: return "name"
        case .tier: return "tier"
        case .locale: return "locale"
        case .timeZone: return "time_zone"
        case .externalId: return "external_id"
        case .attribute(let name):
            let scalars = name.unicodeScalars
            guard let first = scalars.first, scalars.allSatisfy(\.isWordContinuation) else {
                return "attributes[\(AudienceSource.quoted(name))]"
            }
            let lower = name.lowercased()
            if first.isWordStart, !AudienceParser.reservedWords.contains(lower), !lower.hasPrefix("attributes.") {
                return name
            }
            return "attributes.\(name)"
        }
    }
}

/// How a filter compares a field, or the age of the last contact, with a value.
public enum AudienceComparison: String, Sendable, Equatable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// A value a filter compares with: text, or a number (which compares numerically with fields that hold one).
public enum AudienceValue: Sendable, Equatable {
    case string(String)
    case number(Double)

    /// The value as the filter language writes it.
    var source: String {
        switch self {
        case .string(let string):
            return AudienceSource.quoted(string)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
            // Swift's shortest form that reads back exactly; it may have an exponent, which the language accepts.
            return "\(number)"
        }
    }

    /// A list of values in parentheses, for `in`.
    static func listSource(_ values: [AudienceValue]) -> String {
        "(" + values.map(\.source).joined(separator: ", ") + ")"
    }
}

// MARK: - Source text

/// The source of a filter as Unicode scalars, which places errors by line and column.
struct AudienceSource {
    let scalars: [Unicode.Scalar]
    private let multiline: Bool

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        self.multiline = scalars.contains("\n")
    }

    /// "column N", or "line L, column N" for a source of several lines; `offset` indexes `scalars`.
    func place(_ offset: Int) -> String {
        var line = 1
        var column = 1
        for scalar in scalars.prefix(offset) {
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return multiline ? "line \(line), column \(column)" : "column \(column)"
    }

    /// The error for the source at `offset`.
    func error(at offset: Int, _ message: String) -> ValidationError {
        ValidationError("audience", "\(place(offset)): \(message)")
    }

    /// The text of `range` of the source.
    func text(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range])
        return String(view)
    }

    /// `string` in double quotes, with `"` and `\` escaped.
    static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { result.unicodeScalars.append("\\") }
            result.unicodeScalars.append(scalar)
        }
        result.unicodeScalars.append("\"")
        return result
    }

    /// At most 24 characters of `string`, for a message.
    static func shortened(_ string: String) -> String {
        string.count > 24 ? String(string.prefix(24)) + "…" : string
    }

    /// A character for a message: itself in quotes when printable, with its code point when not ASCII.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        let code = "U+" + String(repeating: "0", count: max(0, 4 - String(scalar.value, radix: 16).count))
            + String(scalar.value, radix: 16, uppercase: true)
        if scalar.value >= 0x21 && scalar.value <= 0x7E { return "'\(Character(scalar))'" }
        if scalar.value >= 0xA0 && !scalar.properties.isWhitespace && scalar.properties.generalCategory != .format
            && scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .unassigned {
            return "'\(Character(scalar))' (\(code))"
        }
        return code
    }
}

fileprivate extension Unicode.Scalar {
    var isDecimalDigit: Bool { value >= 0x30 && value <= 0x39 }
    var isLatinLetter: Bool { (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A) }
    /// `[A-Za-z_]`: what starts a word of the filter language.
    var isWordStart: Bool { isLatinLetter || value == 0x5F }
    /// `[A-Za-z0-9_.-]`: what continues one.
    var isWordContinuation: Bool { isWordStart || isDecimalDigit || value == 0x2E || value == 0x2D }
}

// MARK: - Tokens

/// One token of filter source, and where it starts (an index into the source's scalars).
struct AudienceToken {
    enum Kind: Equatable {
        /// A keyword, field name, attribute name or channel: `[A-Za-z_][A-Za-z0-9_.-]*`.
        case word(String)
        /// A quoted string, unescaped.
        case string(String)
        /// A number as written, with the letters right after it (`30d`); the unit is empty for a plain number.
        case number(String, unit: String)
        case comparison(AudienceComparison)
        case openParenthesis, closeParenthesis, comma, openBracket, closeBracket
        case end
    }

    var kind: Kind
    var offset: Int
}

/// Splits filter source into tokens.
enum AudienceLexer {
    static func tokenize(_ text: AudienceSource) throws(ValidationError) -> [AudienceToken] {
        let scalars = text.scalars
        var tokens: [AudienceToken] = []
        var index = 0

        func next(_ offset: Int) -> Unicode.Scalar? { offset < scalars.count ? scalars[offset] : nil }

        while index < scalars.count {
            let scalar = scalars[index]
            let start = index
            if scalar.properties.isWhitespace {
                index += 1
                continue
            }
            switch scalar {
            case "(":
                tokens.append(AudienceToken(kind: .openParenthesis, offset: start))
                index += 1
            case ")":
                tokens.append(AudienceToken(kind: .closeParenthesis, offset: start))
                index += 1
            case ",":
                tokens.append(AudienceToken(kind: .comma, offset: start))
                index += 1
            case "[":
                tokens.append(AudienceToken(kind: .openBracket, offset: start))
                index += 1
            case "]":
                tokens.append(AudienceToken(kind: .closeBracket, offset: start))
                index += 1
            case "=":
                tokens.append(AudienceToken(kind: .comparison(.equal), offset: start))
                index += 1
            case "!":
                guard next(index + 1) == "=" else { throw text.error(at: start, "expected '=' after '!'") }
                tokens.append(AudienceToken(kind: .comparison(.notEqual), offset: start))
                index += 2
            case "<":
                if next(index + 1) == "=" {
                    tokens.append(AudienceToken(kind: .comparison(.lessOrEqual), offset: start))
                    index += 2
                } else {
                    tokens.append(AudienceToken(kind: .comparison(.less), offset: start))
                    index += 1
                }
            case ">":
                if next(index + 1) == "=" {
                    tokens.append(AudienceToken(kind: .comparison(.greaterOrEqual), offset: start))
                    index += 2
                } else {
                    tokens.append(AudienceToken(kind: .comparison(.greater), offset: start))
                    index += 1
                }
            case "\"", "'":
                let (string, end) = try lexString(text, from: start)
                tokens.append(AudienceToken(kind: .string(string), offset: start))
                index = end
            default:
                if scalar.isDecimalDigit || (scalar == "-" && next(index + 1)?.isDecimalDigit == true) {
                    let (number, unit, end) = lexNumber(text, from: start)
                    tokens.append(AudienceToken(kind: .number(number, unit: unit), offset: start))
                    index = end
                } else if scalar.isWordStart {
                    var end = index + 1
                    while end < scalars.count, scalars[end].isWordContinuation { end += 1 }
                    tokens.append(AudienceToken(kind: .word(text.text(start..<end)), offset: start))
                    index = end
                } else {
                    var message = "unexpected character \(AudienceSource.describe(scalar))"
                    if [0x201C, 0x201D, 0x2018, 0x2019].contains(scalar.value) { message += "; strings use straight quotes" }
                    throw text.error(at: start, message)
                }
            }
        }
        tokens.append(AudienceToken(kind: .end, offset: scalars.count))
        return tokens
    }

    /// A string in `"` or `'` starting at `start`: its value and the index after the closing quote.
    private static func lexString(_ text: AudienceSource, from start: Int) throws(ValidationError) -> (String, Int) {
        let scalars = text.scalars
        let quote = scalars[start]
        var value = String.UnicodeScalarView()
        var index = start + 1
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == quote {
                let string = String(value)
                if string.utf8.count > AudienceFilter.maxStringBytes {
                    throw text.error(at: start, "a string is at most \(AudienceFilter.maxStringBytes) bytes")
                }
                return (string, index + 1)
            }
            if scalar == "\\" {
                guard index + 1 < scalars.count else { break }
                let escaped = scalars[index + 1]
                guard escaped == "\\" || escaped == "\"" || escaped == "'" else {
                    throw text.error(at: index, "unknown escape '\\' before \(AudienceSource.describe(escaped)): only \\\", \\' and \\\\ are escapes")
                }
                value.append(escaped)
                index += 2
                continue
            }
            value.append(scalar)
            index += 1
        }
        throw text.error(at: start, "unterminated string")
    }

    /// A number starting at `start` (`-12`, `3.5`, `1e+20`) with the letters, digits and `_` right after it:
    /// its text, the unit, and the index after both.
    private static func lexNumber(_ text: AudienceSource, from start: Int) -> (String, String, Int) {
        let scalars = text.scalars
        func isDigit(_ offset: Int) -> Bool { offset < scalars.count && scalars[offset].isDecimalDigit }
        var index = start
        if scalars[index] == "-" { index += 1 }
        while isDigit(index) { index += 1 }
        if index < scalars.count, scalars[index] == ".", isDigit(index + 1) {
            index += 1
            while isDigit(index) { index += 1 }
        }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            var exponent = index + 1
            if exponent < scalars.count, scalars[exponent] == "+" || scalars[exponent] == "-" { exponent += 1 }
            if isDigit(exponent) {
                index = exponent
                while isDigit(index) { index += 1 }
            }
        }
        let numberEnd = index
        if index < scalars.count, scalars[index].isWordStart {
            while index < scalars.count, scalars[index].isWordStart || scalars[index].isDecimalDigit { index += 1 }
        }
        return (text.text(start..<numberEnd), text.text(numberEnd..<index), index)
    }
}

// MARK: - Parser

/// A recursive-descent parser over the tokens of one filter:
///
///     expr  := and ("or" and)*
///     and   := unary ("and" unary)*
///     unary := "not" unary | "(" expr ")" | predicate
struct AudienceParser {
    /// The keywords, which can never name an attribute.
    static let keywords: Set<String> = ["and", "or", "not", "in", "has"]
    /// Every word with a meaning of its own (lowercased): an attribute of such a name is `attributes.name`.
    static let reservedWords: Set<String> = keywords.union([
        "name", "tier", "locale", "time_zone", "timezone", "external_id", "externalid",
        "tags", "identities", "consent", "last_contact", "lastcontact", "attributes",
    ])
    /// The channels in the order messages list them: the customer-facing ones first, then the generic API.
    static let channelList = (Channel.allCases.filter { $0 != .api } + [.api]).map(\.rawValue).joined(separator: ", ")
    static let durationUnits: [String: Int] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
    static let comparisons = "=, !=, <, <=, >, >="

    let text: AudienceSource
    let tokens: [AudienceToken]
    private var position = 0
    private var depth = 0
    private var predicates = 0

    init(text: AudienceSource, tokens: [AudienceToken]) {
        self.text = text
        self.tokens = tokens
    }

    private var current: AudienceToken { tokens[position] }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private func isKeyword(_ keyword: String) -> Bool {
        if case .word(let word) = current.kind { return word.lowercased() == keyword }
        return false
    }

    /// A token for a message: `'and'`, `"a string"`, `end of input`.
    private func describe(_ token: AudienceToken) -> String {
        switch token.kind {
        case .word(let word): "'\(AudienceSource.shortened(word))'"
        case .string(let string): AudienceSource.quoted(AudienceSource.shortened(string))
        case .number(let number, let unit): "'\(AudienceSource.shortened(number + unit))'"
        case .comparison(let comparison): "'\(comparison.rawValue)'"
        case .openParenthesis: "'('"
        case .closeParenthesis: "')'"
        case .comma: "','"
        case .openBracket: "'['"
        case .closeBracket: "']'"
        case .end: "end of input"
        }
    }

    /// "expected X after Y, found Z", at the current token.
    private func expected(_ what: String, hint: String = "") -> ValidationError {
        let found = describe(current)
        if position > 0 {
            return text.error(at: current.offset, "expected \(what) after \(describe(tokens[position - 1])), found \(found)\(hint)")
        }
        return text.error(at: current.offset, "expected \(what), found \(found)\(hint)")
    }

    /// One level deeper into parentheses or `not`.
    private mutating func enter() throws(ValidationError) {
        depth += 1
        if depth > AudienceFilter.maxDepth {
            throw text.error(at: current.offset, "nesting is deeper than \(AudienceFilter.maxDepth) levels")
        }
    }

    mutating func parseSource() throws(ValidationError) -> AudienceFilter {
        if case .end = current.kind { return .everyone }
        let filter = try parseOr()
        guard case .end = current.kind else {
            throw text.error(at: current.offset, "expected 'and', 'or' or end of input, found \(describe(current))")
        }
        return filter
    }

    private mutating func parseOr() throws(ValidationError) -> AudienceFilter {
        let conditions = try parseJoined(by: "or") { parser throws(ValidationError) in try parser.parseAnd() }
        return conditions.count == 1 ? conditions[0] : .or(conditions)
    }

    private mutating func parseAnd() throws(ValidationError) -> AudienceFilter {
        let conditions = try parseJoined(by: "and") { parser throws(ValidationError) in try parser.parseUnary() }
        return conditions.count == 1 ? conditions[0] : .and(conditions)
    }

    /// One or more operands separated by `keyword`.
    private mutating func parseJoined(
        by keyword: String, _ operand: (inout Self) throws(ValidationError) -> AudienceFilter
    ) throws(ValidationError) -> [AudienceFilter] {
        var conditions = [try operand(&self)]
        while isKeyword(keyword) {
            advance()
            conditions.append(try operand(&self))
        }
        return conditions
    }

    private mutating func parseUnary() throws(ValidationError) -> AudienceFilter {
        if isKeyword("not") {
            try enter()
            advance()
            let condition = try parseUnary()
            depth -= 1
            return .not(condition)
        }
        if case .openParenthesis = current.kind {
            let open = current.offset
            try enter()
            advance()
            let condition = try parseOr()
            guard case .closeParenthesis = current.kind else {
                throw text.error(at: current.offset, "expected ')' to close the '(' at \(text.place(open)), found \(describe(current))")
            }
            advance()
            depth -= 1
            return condition
        }
        return try parsePredicate()
    }

    private mutating func parsePredicate() throws(ValidationError) -> AudienceFilter {
        let start = current
        guard case .word(let word) = start.kind, !Self.keywords.contains(word.lowercased()) else {
            throw expected("a condition")
        }
        predicates += 1
        if predicates > AudienceFilter.maxPredicates {
            throw text.error(at: start.offset, "more than \(AudienceFilter.maxPredicates) conditions")
        }
        let lower = word.lowercased()
        switch lower {
        case "tags":
            advance()
            try expectKeyword("has")
            guard case .string(let tag) = current.kind else { throw expected("a tag in quotes") }
            advance()
            return .hasTag(tag)
        case "identities":
            advance()
            try expectKeyword("has")
            let channel = try parseChannel()
            return .hasIdentity(channel)
        case "consent":
            advance()
            try expectKeyword("has")
            let channel = try parseChannel()
            return .hasConsent(channel)
        case "last_contact", "lastcontact":
            advance()
            guard case .comparison(let comparison) = current.kind else { throw expected("a comparison (\(Self.comparisons))") }
            advance()
            let seconds = try parseDuration()
            return .lastContact(comparison, seconds: seconds)
        case "attributes":
            advance()
            guard case .openBracket = current.kind else { throw expected("'[' or '.' and an attribute name") }
            advance()
            guard case .string(let name) = current.kind else { throw expected("an attribute name in quotes") }
            if name.isEmpty { throw text.error(at: current.offset, "an attribute name cannot be empty") }
            advance()
            guard case .closeBracket = current.kind else { throw expected("']'") }
            advance()
            return try parseFieldCondition(.attribute(name))
        case "name":
            advance()
            return try parseFieldCondition(.name)
        case "tier":
            advance()
            return try parseFieldCondition(.tier)
        case "locale":
            advance()
            return try parseFieldCondition(.locale)
        case "time_zone", "timezone":
            advance()
            return try parseFieldCondition(.timeZone)
        case "external_id", "externalid":
            advance()
            return try parseFieldCondition(.externalId)
        default:
            var name = word
            if lower.hasPrefix("attributes.") {
                name = String(word.dropFirst("attributes.".count))
                if name.isEmpty { throw text.error(at: start.offset + word.unicodeScalars.count, "expected an attribute name after 'attributes.'") }
            }
            advance()
            return try parseFieldCondition(.attribute(name))
        }
    }

    private mutating func expectKeyword(_ keyword: String) throws(ValidationError) {
        guard isKeyword(keyword) else { throw expected("'\(keyword)'") }
        advance()
    }

    /// What follows a field: a comparison and a value, `in (...)` or `not in (...)`.
    private mutating func parseFieldCondition(_ field: AudienceField) throws(ValidationError) -> AudienceFilter {
        if isKeyword("in") {
            advance()
            let values = try parseList()
            return .isIn(field, values)
        }
        if isKeyword("not") {
            advance()
            try expectKeyword("in")
            let values = try parseList()
            return .not(.isIn(field, values))
        }
        guard case .comparison(let comparison) = current.kind else {
            throw expected("a comparison (\(Self.comparisons)), 'in' or 'not in'")
        }
        advance()
        let value = try parseValue()
        return .compare(field, comparison, value)
    }

    private mutating func parseList() throws(ValidationError) -> [AudienceValue] {
        guard case .openParenthesis = current.kind else { throw expected("'('") }
        advance()
        var values: [AudienceValue] = []
        while true {
            if values.count == AudienceFilter.maxListValues {
                throw text.error(at: current.offset, "a list holds at most \(AudienceFilter.maxListValues) values")
            }
            let value = try parseValue()
            values.append(value)
            switch current.kind {
            case .comma:
                advance()
            case .closeParenthesis:
                advance()
                return values
            default:
                throw expected("',' or ')'")
            }
        }
    }

    private mutating func parseValue() throws(ValidationError) -> AudienceValue {
        switch current.kind {
        case .string(let string):
            advance()
            return .string(string)
        case .number(let number, let unit):
            guard unit.isEmpty else {
                throw text.error(at: current.offset,
                                 "'\(AudienceSource.shortened(number + unit))' is not a number (durations such as 30d are for last_contact)")
            }
            guard let value = Double(number), value.isFinite else {
                throw text.error(at: current.offset, "the number '\(AudienceSource.shortened(number))' is out of range")
            }
            advance()
            return .number(value)
        case .word:
            throw expected("a value", hint: " (strings go in quotes)")
        default:
            throw expected("a value")
        }
    }

    private mutating func parseChannel() throws(ValidationError) -> Channel {
        let name: String
        switch current.kind {
        case .word(let word): name = word
        case .string(let string): name = string
        default: throw expected("a channel (\(Self.channelList))")
        }
        guard let channel = Channel(rawValue: name.lowercased()) else {
            throw text.error(at: current.offset, "unknown channel '\(AudienceSource.shortened(name))' (\(Self.channelList))")
        }
        advance()
        return channel
    }

    /// A whole number with a unit (`30d`, `12h`, `90m`, `45s`), in seconds.
    private mutating func parseDuration() throws(ValidationError) -> Int {
        guard case .number(let number, let unit) = current.kind else { throw expected("a duration such as 30d") }
        let at = current.offset
        guard !unit.isEmpty else { throw text.error(at: at, "a duration needs a unit: d, h, m or s (as in 30d)") }
        guard let unitSeconds = Self.durationUnits[unit.lowercased()] else {
            throw text.error(at: at, "unknown duration unit '\(AudienceSource.shortened(unit))' (d, h, m or s)")
        }
        guard number.unicodeScalars.allSatisfy(\.isDecimalDigit) else {
            throw text.error(at: at, "a duration is a whole number of days, hours, minutes or seconds, as in 30d")
        }
        guard let count = Int(number), count <= AudienceFilter.maxDurationSeconds / unitSeconds else {
            throw text.error(at: at, "a duration is at most \(AudienceFilter.maxDurationSeconds / 86_400)d")
        }
        advance()
        return count * unitSeconds
    }
}
