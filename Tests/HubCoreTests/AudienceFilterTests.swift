import Foundation
import HubCore
import TestSupport
import Testing

/// The audience filter language: what each construct parses to, precedence, canonical text, precise errors,
/// limits, and that no input crashes the parser.
@Suite("Audience filters")
struct AudienceFilterTests {
    /// The reason of the error parsing `source` throws, or nil when it parses.
    private func reason(_ source: String) -> String? {
        do {
            _ = try AudienceFilter.parse(source)
            return nil
        } catch {
            return error.field == "audience" ? error.reason : "wrong field \(error.field): \(error.reason)"
        }
    }

    @Test("each construct parses to its value")
    func constructs() throws {
        let cases: [(String, AudienceFilter)] = [
            ("", .everyone),
            (" \n\t ", .everyone),
            ("tier = \"vip\"", .compare(.tier, .equal, .string("vip"))),
            ("name != 'Ana'", .compare(.name, .notEqual, .string("Ana"))),
            ("orders >= 3", .compare(.attribute("orders"), .greaterOrEqual, .number(3))),
            ("score < -12", .compare(.attribute("score"), .less, .number(-12))),
            ("score <= 3.5", .compare(.attribute("score"), .lessOrEqual, .number(3.5))),
            ("score > 1e3", .compare(.attribute("score"), .greater, .number(1000))),
            ("locale = \"pt-BR\"", .compare(.locale, .equal, .string("pt-BR"))),
            ("time_zone = \"Europe/Lisbon\"", .compare(.timeZone, .equal, .string("Europe/Lisbon"))),
            ("timeZone = \"Europe/Lisbon\"", .compare(.timeZone, .equal, .string("Europe/Lisbon"))),
            ("external_id = \"CRM-1\"", .compare(.externalId, .equal, .string("CRM-1"))),
            ("externalId = \"CRM-1\"", .compare(.externalId, .equal, .string("CRM-1"))),
            ("plan.level-2 = \"x\"", .compare(.attribute("plan.level-2"), .equal, .string("x"))),
            ("attributes.tier = \"gold\"", .compare(.attribute("tier"), .equal, .string("gold"))),
            ("attributes[\"plan name\"] = \"gold\"", .compare(.attribute("plan name"), .equal, .string("gold"))),
            ("attributes['a\"b'] = 1", .compare(.attribute("a\"b"), .equal, .number(1))),
            ("tier in (\"gold\", \"platinum\")", .isIn(.tier, [.string("gold"), .string("platinum")])),
            ("city not in ('Recife', 2)", .not(.isIn(.attribute("city"), [.string("Recife"), .number(2)]))),
            ("tags has \"new-parent\"", .hasTag("new-parent")),
            ("identities has email", .hasIdentity(.email)),
            ("identities has \"SMS\"", .hasIdentity(.sms)),
            ("consent has webchat", .hasConsent(.webchat)),
            ("last_contact < 30d", .lastContact(.less, seconds: 30 * 86_400)),
            ("last_contact >= 12h", .lastContact(.greaterOrEqual, seconds: 12 * 3_600)),
            ("last_contact != 90m", .lastContact(.notEqual, seconds: 90 * 60)),
            ("last_contact = 45s", .lastContact(.equal, seconds: 45)),
            ("name = \"say \\\"hi\\\" \\\\o/\"", .compare(.name, .equal, .string("say \"hi\" \\o/"))),
            ("name = 'it\\'s'", .compare(.name, .equal, .string("it's"))),
            ("name = \"\"", .compare(.name, .equal, .string(""))),
        ]
        for (source, expected) in cases {
            #expect(try AudienceFilter.parse(source) == expected, "\(source)")
        }
    }

    @Test("the issue's example")
    func issueExample() throws {
        let filter = try AudienceFilter.parse(#"tier in ("gold", "platinum") and tags has "new-parent" and city = "Shenzhen""#)
        #expect(filter == .and([
            .isIn(.tier, [.string("gold"), .string("platinum")]),
            .hasTag("new-parent"),
            .compare(.attribute("city"), .equal, .string("Shenzhen")),
        ]))
        #expect(filter.description == #"tier in ("gold", "platinum") and tags has "new-parent" and city = "Shenzhen""#)
    }

    @Test("and binds tighter than or, not tighter than both, parentheses group")
    func precedence() throws {
        let a = AudienceFilter.compare(.attribute("a"), .equal, .number(1))
        let b = AudienceFilter.compare(.attribute("b"), .equal, .number(2))
        let c = AudienceFilter.compare(.attribute("c"), .equal, .number(3))
        #expect(try AudienceFilter.parse("a = 1 or b = 2 and c = 3") == .or([a, .and([b, c])]))
        #expect(try AudienceFilter.parse("a = 1 and b = 2 or c = 3") == .or([.and([a, b]), c]))
        #expect(try AudienceFilter.parse("(a = 1 or b = 2) and c = 3") == .and([.or([a, b]), c]))
        #expect(try AudienceFilter.parse("not a = 1 and b = 2") == .and([.not(a), b]))
        #expect(try AudienceFilter.parse("not (a = 1 and b = 2)") == .not(.and([a, b])))
        #expect(try AudienceFilter.parse("not not a = 1") == .not(.not(a)))
        #expect(try AudienceFilter.parse("((a = 1))") == a)
        #expect(try AudienceFilter.parse("a = 1 or b = 2 or c = 3") == .or([a, b, c]))
        #expect(try AudienceFilter.parse("(a = 1 and b = 2) and c = 3") == .and([.and([a, b]), c]))
        // `not x in (...)` and `x not in (...)` are the same condition.
        #expect(try AudienceFilter.parse("not c in (3)") == AudienceFilter.parse("c not in (3)"))
    }

    @Test("keywords and field names ignore case; attribute names do not")
    func caseInsensitiveKeywords() throws {
        let lower = try AudienceFilter.parse(#"tier in ("a") and not tags has "x" or consent has sms and identities has email"#)
        let mixed = try AudienceFilter.parse(#"TIER IN ("a") AnD NOT Tags HAS "x" Or CONSENT has SMS aNd Identities HAS Email"#)
        #expect(lower == mixed)
        #expect(try AudienceFilter.parse("City = 'x'") == .compare(.attribute("City"), .equal, .string("x")))
        #expect(try AudienceFilter.parse("LAST_CONTACT < 2D") == .lastContact(.less, seconds: 2 * 86_400))
        #expect(try AudienceFilter.parse("Attributes.Name = 'x'") == .compare(.attribute("Name"), .equal, .string("x")))
    }

    @Test("whitespace is free: none, tabs, newlines")
    func whitespace() throws {
        #expect(try AudienceFilter.parse(#"tier in('a','b')and(city="x"or name!="y")"#)
            == AudienceFilter.parse(#"tier in ("a", "b") and (city = "x" or name != "y")"#))
        #expect(try AudienceFilter.parse("\n  tier = 'a'\n\tand\ncity = 'b'  \n") == .and([
            .compare(.tier, .equal, .string("a")), .compare(.attribute("city"), .equal, .string("b")),
        ]))
    }

    @Test("description is canonical source text")
    func canonicalText() throws {
        let cases: [(String, String)] = [
            (#"TIER  IN('gold','platinum')AND tags HAS "new-parent""#, #"tier in ("gold", "platinum") and tags has "new-parent""#),
            ("a = 1 or b = 2 and c = 3", "a = 1 or b = 2 and c = 3"),
            ("(a = 1 or b = 2) and c = 3", "(a = 1 or b = 2) and c = 3"),
            ("not (a = 1 or b = 2)", "not (a = 1 or b = 2)"),
            ("not c in (1)", "c not in (1)"),
            ("last_contact < 720h", "last_contact < 30d"),
            ("last_contact < 90m", "last_contact < 90m"),
            ("last_contact < 120s", "last_contact < 2m"),
            ("attributes.tier = 'x'", #"attributes.tier = "x""#),
            ("attributes.city = 1", "city = 1"),
            (#"attributes["plan name"] = 'x'"#, #"attributes["plan name"] = "x""#),
            ("attributes['and'] = 'x'", #"attributes.and = "x""#),
            ("score >= -0012.50", "score >= -12.5"),
            ("n = 1e20", "n = 1e+20"),
            ("n = 100000", "n = 100000"),
            ("identities has \"EMAIL\"", "identities has email"),
            (#"name = 'say "hi" \\ bye'"#, #"name = "say \"hi\" \\ bye""#),
            ("timeZone = 'UTC'", #"time_zone = "UTC""#),
            ("", ""),
        ]
        for (source, canonical) in cases {
            let filter = try AudienceFilter.parse(source)
            #expect(filter.description == canonical, "\(source)")
            #expect(try AudienceFilter.parse(filter.description) == filter, "\(source)")
        }
    }

    @Test("random filters survive description and parse", arguments: 0..<8)
    func roundTripProperty(seed: UInt64) throws {
        var generator = FilterGenerator(seed: 0xA0D1_E4CE + seed)
        for _ in 0..<250 {
            let filter = generator.filter()
            let text = filter.description
            // A rare big one is past the size limit, which the limits test covers.
            guard text.utf8.count <= AudienceFilter.maxSourceBytes else { continue }
            let parsed = try AudienceFilter.parse(text)
            #expect(parsed == filter, "\(text)")
            #expect(parsed.description == text)
        }
    }

    @Test("errors say where, what was expected and what was found")
    func errorMessages() {
        let cases: [(String, String)] = [
            ("tier =", "column 7: expected a value after '=', found end of input"),
            ("identities has fax", "column 16: unknown channel 'fax' (email, sms, webchat, api)"),
            ("consent has 12", "column 13: expected a channel (email, sms, webchat, api) after 'has', found '12'"),
            ("name = \"Ana", "column 8: unterminated string"),
            ("city = Shenzhen", "column 8: expected a value after '=', found 'Shenzhen' (strings go in quotes)"),
            ("tier = \"a\" and", "column 15: expected a condition after 'and', found end of input"),
            ("(tier = \"a\"", "column 12: expected ')' to close the '(' at column 1, found end of input"),
            ("tier = \"a\")", "column 11: expected 'and', 'or' or end of input, found ')'"),
            ("last_contact < 30w", "column 16: unknown duration unit 'w' (d, h, m or s)"),
            ("last_contact < 30", "column 16: a duration needs a unit: d, h, m or s (as in 30d)"),
            ("last_contact < 1.5d", "column 16: a duration is a whole number of days, hours, minutes or seconds, as in 30d"),
            ("last_contact in (1d)", "column 14: expected a comparison (=, !=, <, <=, >, >=) after 'last_contact', found 'in'"),
            ("tags has vip", "column 10: expected a tag in quotes after 'has', found 'vip'"),
            ("tags = \"vip\"", "column 6: expected 'has' after 'tags', found '='"),
            ("tier ~ \"a\"", "column 6: unexpected character '~'"),
            ("tier ! \"a\"", "column 6: expected '=' after '!'"),
            ("name = \"a\\n\"", "column 10: unknown escape '\\' before 'n': only \\\", \\' and \\\\ are escapes"),
            ("tier has \"x\"", "column 6: expected a comparison (=, !=, <, <=, >, >=), 'in' or 'not in' after 'tier', found 'has'"),
            ("and = 1", "column 1: expected a condition, found 'and'"),
            ("tier in \"a\"", "column 9: expected '(' after 'in', found \"a\""),
            ("tier in (\"a\" \"b\")", "column 14: expected ',' or ')' after \"a\", found \"b\""),
            ("tier not (\"a\")", "column 10: expected 'in' after 'not', found '('"),
            ("age = 12abc", "column 7: '12abc' is not a number (durations such as 30d are for last_contact)"),
            ("attributes = 1", "column 12: expected '[' or '.' and an attribute name after 'attributes', found '='"),
            ("attributes[\"\"] = 1", "column 12: an attribute name cannot be empty"),
            ("attributes. = 1", "column 12: expected an attribute name after 'attributes.'"),
            ("name = “Ana”", "column 8: unexpected character '“' (U+201C); strings use straight quotes"),
            ("name = \"a\u{0}\"", "column 10: NUL characters are not allowed"),
            ("()", "column 2: expected a condition after '(', found ')'"),
            ("tier = \"a\"\nand = 2", "line 2, column 5: expected a condition after 'and', found '='"),
        ]
        for (source, expected) in cases {
            #expect(reason(source) == expected, "\(source)")
        }
    }

    @Test("limits: source size, nesting, conditions, list values, strings, durations, numbers")
    func limits() throws {
        // 4,000 bytes is fine; one more is not.
        let longName = String(repeating: "x", count: 3_996)
        #expect(try AudienceFilter.parse(longName + " = 1") == .compare(.attribute(longName), .equal, .number(1)))
        #expect(reason(longName + " = 12") == "column 4001: the filter is longer than 4000 bytes")
        #expect(reason(String(repeating: "é", count: 2_001)) == "column 2001: the filter is longer than 4000 bytes")

        // 32 levels of parentheses or `not`, not 33.
        #expect(reason(String(repeating: "(", count: 32) + "a = 1" + String(repeating: ")", count: 32)) == nil)
        #expect(reason(String(repeating: "(", count: 33) + "a = 1" + String(repeating: ")", count: 33))
            == "column 33: nesting is deeper than 32 levels")
        #expect(reason(String(repeating: "not ", count: 32) + "a = 1") == nil)
        #expect(reason(String(repeating: "not ", count: 33) + "a = 1") == "column 129: nesting is deeper than 32 levels")

        // 200 conditions, not 201.
        let conditions = { (count: Int) in Array(repeating: "a = 1", count: count).joined(separator: " or ") }
        #expect(reason(conditions(200)) == nil)
        #expect(reason(conditions(201)) == "column 1801: more than 200 conditions")

        // 500 values in a list, not 501.
        let list = { (count: Int) in "a in (" + Array(repeating: "1", count: count).joined(separator: ", ") + ")" }
        if case .isIn(_, let values) = try AudienceFilter.parse(list(500)) {
            #expect(values.count == 500)
        } else {
            Issue.record("a list of 500 values parses to .isIn")
        }
        #expect(reason(list(501)) == "column 1507: a list holds at most 500 values")

        // Strings of 500 bytes, counted in UTF-8.
        #expect(reason("name = \"" + String(repeating: "x", count: 500) + "\"") == nil)
        #expect(reason("name = \"" + String(repeating: "x", count: 501) + "\"") == "column 8: a string is at most 500 bytes")
        #expect(reason("name = \"" + String(repeating: "é", count: 250) + "\"") == nil)
        #expect(reason("name = \"" + String(repeating: "é", count: 251) + "\"") == "column 8: a string is at most 500 bytes")

        // Durations up to 100 years; numbers that are finite.
        #expect(try AudienceFilter.parse("last_contact > 36500d") == .lastContact(.greater, seconds: AudienceFilter.maxDurationSeconds))
        #expect(reason("last_contact > 36501d") == "column 16: a duration is at most 36500d")
        #expect(reason("last_contact > 99999999999999999999999d") == "column 16: a duration is at most 36500d")
        #expect(reason("a = " + String(repeating: "9", count: 400)) == "column 5: the number '999999999999999999999999…' is out of range")
        #expect(reason("a = 1e999") == "column 5: the number '1e999' is out of range")
    }

    @Test("3,000 random and mutated inputs: each parses (and round-trips) or fails with an audience error")
    func fuzz() throws {
        var rng = SplitMix64(seed: 0xF11_7E25)
        let seeds = [
            #"tier in ("gold", "platinum") and tags has "new-parent" and city = "Shenzhen""#,
            "not (last_contact < 30d or consent has sms) and identities has email",
            #"attributes["plan name"] not in ('a', 2, -3.5) or attributes.tier >= 1e3"#,
            #"name = "say \"hi\"" and time_zone != 'UTC' and externalId <= "z""#,
        ]
        let fragments = [
            "tier", "name", "city", "=", "!=", "<", "<=", ">", ">=", "in", "not", "and", "or", "has", "tags", "identities",
            "consent", "last_contact", "attributes", "attributes.", ".", "[", "]", "(", ")", ",", "\"vip\"", "'x'", "\"", "'",
            "\\", "12", "-3.5", "30d", "1e5", "1e", "email", "sms", "fax", " ", "\n", "é", "👍", "\u{0}", "“", "-", "!", "~",
            "attributes.tier", "x", "\u{301}", "\u{FEFF}", "((((((((", "))))", "not not not", "9999999999999999999999",
        ]
        var parsed = 0
        for round in 0..<3_000 {
            var scalars: [Unicode.Scalar]
            if round % 2 == 0 {
                // Token soup.
                scalars = []
                for _ in 0..<Int.random(in: 0..<30, using: &rng) {
                    scalars += fragments.randomElement(using: &rng)!.unicodeScalars
                    if Bool.random(using: &rng) { scalars.append(" ") }
                }
            } else {
                // A valid filter, mutated a few times.
                scalars = Array(seeds.randomElement(using: &rng)!.unicodeScalars)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    mutate(&scalars, fragments: fragments, using: &rng)
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let source = String(view)
            let filter: AudienceFilter
            do {
                filter = try AudienceFilter.parse(source)
            } catch {
                #expect(error.field == "audience", "\(source.debugDescription)")
                #expect(error.reason.hasPrefix("column ") || error.reason.hasPrefix("line "), "\(error.reason)")
                continue
            }
            parsed += 1
            // Canonical text can be longer than the source (spaces, escapes); within the limit it parses back.
            if filter.description.utf8.count <= AudienceFilter.maxSourceBytes {
                #expect(try AudienceFilter.parse(filter.description) == filter, "\(source.debugDescription)")
            }
        }
        #expect(parsed > 0, "some inputs are valid filters")
    }

    /// Deletes, inserts, duplicates or replaces a part of `scalars`.
    private func mutate(_ scalars: inout [Unicode.Scalar], fragments: [String], using rng: inout SplitMix64) {
        let position = scalars.isEmpty ? 0 : Int.random(in: 0...scalars.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0 where !scalars.isEmpty:
            let start = min(position, scalars.count - 1)
            let end = min(scalars.count, start + Int.random(in: 1...6, using: &rng))
            scalars.removeSubrange(start..<end)
        case 1:
            scalars.insert(contentsOf: fragments.randomElement(using: &rng)!.unicodeScalars, at: position)
        case 2 where !scalars.isEmpty:
            let start = min(position, scalars.count - 1)
            let end = min(scalars.count, start + Int.random(in: 1...12, using: &rng))
            let copy = Array(scalars[start..<end])
            scalars.insert(contentsOf: copy, at: start)
        case 3:
            let value = UInt32.random(in: 0...0x10FFFF, using: &rng)
            scalars.insert(Unicode.Scalar(value) ?? "?", at: position)
        default:
            if !scalars.isEmpty {
                let index = min(position, scalars.count - 1)
                scalars[index] = Unicode.Scalar(UInt32.random(in: 0...0x7F, using: &rng)) ?? " "
            }
        }
    }
}

/// Random filters the language can write: and/or of two or more, bounded depth, finite numbers,
/// strings and names of all sorts of characters.
private struct FilterGenerator {
    private var rng: SplitMix64

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
    }

    mutating func filter() -> AudienceFilter {
        Int.random(in: 0..<40, using: &rng) == 0 ? .everyone : node(depth: 3)
    }

    private mutating func node(depth: Int) -> AudienceFilter {
        if depth == 0 || Int.random(in: 0..<3, using: &rng) == 0 { return predicate() }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .and(children(depth: depth - 1))
        case 1: return .or(children(depth: depth - 1))
        default: return .not(node(depth: depth - 1))
        }
    }

    private mutating func children(depth: Int) -> [AudienceFilter] {
        var children: [AudienceFilter] = []
        for _ in 0..<Int.random(in: 2...3, using: &rng) {
            children.append(node(depth: depth))
        }
        return children
    }

    private mutating func predicate() -> AudienceFilter {
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: return .compare(field(), AudienceComparison.allCases.randomElement(using: &rng)!, value())
        case 1:
            let subject = field()
            var values: [AudienceValue] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                values.append(value())
            }
            return .isIn(subject, values)
        case 2: return .not(.isIn(field(), [value()]))
        case 3: return .hasTag(string())
        case 4: return .hasIdentity(Channel.allCases.randomElement(using: &rng)!)
        case 5: return .hasConsent(Channel.allCases.randomElement(using: &rng)!)
        default:
            let seconds = [30 * 86_400, 12 * 3_600, 90 * 60, 45, 0, AudienceFilter.maxDurationSeconds,
                           Int.random(in: 0...AudienceFilter.maxDurationSeconds, using: &rng)].randomElement(using: &rng)!
            return .lastContact(AudienceComparison.allCases.randomElement(using: &rng)!, seconds: seconds)
        }
    }

    private mutating func field() -> AudienceField {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return .name
        case 1: return .tier
        case 2: return .locale
        case 3: return .timeZone
        case 4: return .externalId
        case 5:
            let names = ["city", "tier", "and", "Name", "TAGS", "attributes", "attributes.x", "9lives", "a.b-c", "_", "last_contact",
                         "plan name", "a\"b", "a\\b", "$..x", "x]", "x'y", "é"]
            return .attribute(names.randomElement(using: &rng)!)
        default:
            var name = string()
            if name.isEmpty { name = "k" }
            return .attribute(name)
        }
    }

    private mutating func value() -> AudienceValue {
        if Bool.random(using: &rng) { return .string(string()) }
        let numbers: [Double] = [0, -12, 3.5, 1e20, -1.5e-7, 123_456_789_012_345, 1e15, 0.1, -0.0, .greatestFiniteMagnitude,
                                 Double(Int.random(in: -100_000...100_000, using: &rng)) / 8,
                                 Double.random(in: -1e6...1e6, using: &rng)]
        return .number(numbers.randomElement(using: &rng)!)
    }

    private mutating func string() -> String {
        let alphabet: [Unicode.Scalar] = ["a", "B", "z", "0", " ", "\"", "'", "\\", "(", ")", ",", "=", "é", "👍", "\n", "\t",
                                          "\u{301}", "[", "]", "$", ".", "-"]
        var view = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            view.append(alphabet.randomElement(using: &rng)!)
        }
        return String(view)
    }
}
