/// A plain-text rendering of an HTML body: tags removed, block elements on lines of their own,
/// quotes (`<blockquote>`) marked with `> `, entities decoded, scripts and styles dropped.
enum HTMLText {
    private static let blocks: Set<String> = ["p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                                              "pre", "hr", "section", "article", "header", "footer", "dd", "dt", "address"]
    private static let hidden: Set<String> = ["script", "style", "head", "title", "template", "noscript"]

    static func render(_ html: String) -> String {
        var lines: [String] = []
        var line = ""
        var quoteDepth = 0
        var hiddenUntil: String?
        var pendingSpace = false
        let scalars = Array(html.unicodeScalars)
        var index = 0

        func breakLine() {
            lines.append(String(repeating: "> ", count: quoteDepth) + line.trimmingCharacters(in: .whitespaces))
            line = ""
            pendingSpace = false
        }

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" {
                guard let close = scalars[index...].firstIndex(of: ">") else { break }
                let tag = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                index = close + 1
                if tag.hasPrefix("!--") {
                    // A comment may hold '>': skip to its end.
                    if !tag.hasSuffix("--"), let end = findCommentEnd(scalars, from: index) { index = end }
                    continue
                }
                let closing = tag.hasPrefix("/")
                let name = String(tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
                if let hiddenName = hiddenUntil {
                    if closing && name == hiddenName { hiddenUntil = nil }
                    continue
                }
                if hidden.contains(name) && !closing && !tag.hasSuffix("/") {
                    hiddenUntil = name
                    continue
                }
                if name == "br" {
                    breakLine()
                } else if name == "blockquote" {
                    if !line.trimmingCharacters(in: .whitespaces).isEmpty { breakLine() }
                    quoteDepth = max(0, quoteDepth + (closing ? -1 : 1))
                } else if blocks.contains(name) {
                    if !line.trimmingCharacters(in: .whitespaces).isEmpty { breakLine() }
                    if name == "li" && !closing { line = "- " }
                } else if name == "td" || name == "th", !closing, !line.isEmpty {
                    pendingSpace = true
                }
                continue
            }
            if hiddenUntil != nil { index += 1; continue }
            if scalar == "&", let (decoded, end) = entity(scalars, at: index) {
                if pendingSpace && !line.isEmpty { line += " " }
                pendingSpace = false
                line += decoded
                index = end
                continue
            }
            if scalar.properties.isWhitespace {
                pendingSpace = true
            } else {
                if pendingSpace && !line.isEmpty && !line.hasSuffix(" ") { line += " " }
                pendingSpace = false
                line.unicodeScalars.append(scalar)
            }
            index += 1
        }
        if !line.isEmpty { breakLine() }
        // Runs of empty lines become one.
        var result: [String] = []
        for text in lines {
            let isEmpty = text.allSatisfy { $0 == ">" || $0 == " " }
            if isEmpty && (result.last.map { $0.allSatisfy { $0 == ">" || $0 == " " } } ?? true) { continue }
            result.append(text)
        }
        while let last = result.last, last.allSatisfy({ $0 == ">" || $0 == " " }) { result.removeLast() }
        return result.joined(separator: "\n")
    }

    private static func findCommentEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        while index + 2 < scalars.count {
            if scalars[index] == "-", scalars[index + 1] == "-", scalars[index + 2] == ">" { return index + 3 }
            index += 1
        }
        return nil
    }

    private static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®", "trade": "™",
        "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "euro": "€",
        "pound": "£", "yen": "¥", "middot": "·", "bull": "•", "laquo": "«", "raquo": "»", "deg": "°", "shy": "",
        "eacute": "é", "egrave": "è", "ecirc": "ê", "aacute": "á", "agrave": "à", "acirc": "â", "auml": "ä", "ouml": "ö",
        "uuml": "ü", "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "szlig": "ß", "ccedil": "ç", "ntilde": "ñ", "oacute": "ó",
        "iacute": "í", "uacute": "ú", "zwnj": "", "zwj": "",
    ]

    /// An entity at `start` (`&amp;`, `&#233;`, `&#xE9;`): its text and where the text after it starts.
    private static func entity(_ scalars: [Unicode.Scalar], at start: Int) -> (String, Int)? {
        var end = start + 1
        var name = ""
        while end < scalars.count, end - start <= 10, scalars[end] != ";" {
            name.unicodeScalars.append(scalars[end])
            end += 1
        }
        guard end < scalars.count, scalars[end] == ";", !name.isEmpty else { return nil }
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, let scalar = Unicode.Scalar(value), value != 0 else { return nil }
            return (String(scalar), end + 1)
        }
        guard let text = named[name] else { return nil }
        return (text, end + 1)
    }
}
