import Foundation

/// RFC 2047 encoded words: `=?charset?B?…?=` and `=?charset?Q?…?=` in header text.
public enum EncodedWord {
    /// Decodes every encoded word in `header`; whitespace between adjacent words is dropped, and
    /// adjacent words of one charset are decoded together (senders split multi-byte characters).
    /// A malformed word is left as it is.
    public static func decode(_ header: String) -> String {
        guard header.contains("=?") else { return header }
        let scalars = Array(header.unicodeScalars)
        var result = ""
        var pending: (charset: String, bytes: [UInt8])?
        var gap = ""  // whitespace seen since the last word, kept only if text follows
        var index = 0

        func flush() {
            if let word = pending { result += Charset.decode(word.bytes, charset: word.charset) }
            pending = nil
        }

        while index < scalars.count {
            if scalars[index] == "=", index + 1 < scalars.count, scalars[index + 1] == "?",
               let (charset, bytes, end) = parseWord(scalars, at: index) {
                if let word = pending {
                    // Between two words the whitespace is not text.
                    if word.charset.lowercased() == charset.lowercased() {
                        pending!.bytes += bytes
                    } else {
                        flush()
                        pending = (charset, bytes)
                    }
                } else {
                    result += gap
                    pending = (charset, bytes)
                }
                gap = ""
                index = end
                continue
            }
            let scalar = scalars[index]
            if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
                // Folding whitespace reads as one space.
                if scalar == " " || scalar == "\t" { gap.unicodeScalars.append(" ") }
                index += 1
                continue
            }
            flush()
            result += gap
            gap = ""
            result.unicodeScalars.append(scalar)
            index += 1
        }
        flush()
        return result + gap
    }

    /// One encoded word at `start`: its charset (language tag removed), decoded bytes and end index.
    private static func parseWord(_ scalars: [Unicode.Scalar], at start: Int) -> (String, [UInt8], Int)? {
        var parts: [String] = []
        var current = ""
        var index = start + 2
        while index < scalars.count, index - start < 1_000 {
            let scalar = scalars[index]
            if scalar == "?" {
                parts.append(current)
                current = ""
                if parts.count == 3 {
                    guard index + 1 < scalars.count, scalars[index + 1] == "=" else { return nil }
                    break
                }
            } else if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
                return nil
            } else {
                current.unicodeScalars.append(scalar)
            }
            index += 1
        }
        guard parts.count == 3, index < scalars.count else { return nil }
        let charset = String(parts[0].split(separator: "*", maxSplits: 1).first ?? "")
        guard !charset.isEmpty else { return nil }
        let bytes: [UInt8]
        switch parts[1].uppercased() {
        case "B": guard let decoded = Base64.decode(Array(parts[2].utf8)) else { return nil }; bytes = decoded
        case "Q": bytes = QuotedPrintable.decode(Array(parts[2].utf8), header: true)
        default: return nil
        }
        return (charset, bytes, index + 2)
    }

    /// `text` as a header value: unchanged when it is short printable ASCII, else UTF-8 encoded words
    /// of at most 75 characters, never splitting a character, folded onto continuation lines. ASCII
    /// that looks like an encoded word, or too long for one line, is encoded too.
    public static func encode(_ text: String) -> String {
        if text.count <= 60, !text.contains("=?"), text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        // 39 bytes make 52 base64 characters, a word of 64: after "Subject: " the line stays within 76.
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    private static func word(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }
}
