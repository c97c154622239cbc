import Foundation

/// Finds where a reply's own words end and the quoted history it carries begins.
enum QuotedHistory {
    /// `text` with the quoted history removed; the whole text when nothing else would remain.
    static func strip(_ text: String) -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let cut = historyStart(lines) ?? lines.count
        let visible = lines[..<cut].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return visible.isEmpty ? text.trimmingCharacters(in: .whitespacesAndNewlines) : visible
    }

    private static let attributionEndings = ["wrote:", "writes:", "schrieb:", "a écrit :", "a écrit:", "escribió:", "ha scritto:",
                                             "escreveu:", "schreef:", "написал:", "napisał:", "写道：", "写道:", "寫道：", "のメッセージ:"]
    private static let separators = ["-----original message-----", "----- original message -----", "-----ursprüngliche nachricht-----",
                                     "-----message d'origine-----", "-------- original message --------", "-------- forwarded message --------",
                                     "begin forwarded message:"]

    /// The first line of the history, nil when the text quotes nothing.
    static func historyStart(_ lines: [String]) -> Int? {
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let lower = line.lowercased()
            if separators.contains(where: { lower.hasPrefix($0) }) { return index }
            // Outlook: a rule of underscores, then the original's From/Sent block.
            if line.count >= 20, line.allSatisfy({ $0 == "_" }),
               lines[(index + 1)...].prefix(3).contains(where: isOutlookHeader) { return index }
            // Outlook without the rule: "From: …" followed by "Sent:"/"Date:" lines.
            if index > 0, isOutlookHeader(line), lower.hasPrefix("from:") || lower.hasPrefix("de :") || lower.hasPrefix("von:"),
               lines[(index + 1)...].prefix(4).contains(where: { let l = $0.lowercased(); return l.hasPrefix("sent:") || l.hasPrefix("date:") || l.hasPrefix("gesendet:") || l.hasPrefix("envoyé :") }) {
                return index
            }
            // "On …, Name <address> wrote:", possibly wrapped onto a second line.
            if attributionEndings.contains(where: { lower.hasSuffix($0) }), index > 0 || lines.count > 1 {
                if index > 0, !lines[index - 1].trimmingCharacters(in: .whitespaces).isEmpty,
                   lines[index - 1].lowercased().hasPrefix("on ") || lines[index - 1].lowercased().hasPrefix("am ") || lines[index - 1].lowercased().hasPrefix("le ") {
                    return index - 1
                }
                return index
            }
            // A block of "> " lines that runs to the end (blank lines aside).
            if line.hasPrefix(">"), lines[index...].allSatisfy({ let l = $0.trimmingCharacters(in: .whitespaces); return l.isEmpty || l.hasPrefix(">") }) {
                return index
            }
        }
        return nil
    }

    private static func isOutlookHeader(_ line: String) -> Bool {
        let lower = line.trimmingCharacters(in: .whitespaces).lowercased()
        return ["from:", "de :", "de:", "von:", "sent:", "gesendet:", "envoyé :", "date:"].contains { lower.hasPrefix($0) }
    }
}
