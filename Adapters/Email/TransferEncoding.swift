import Foundation

/// Base64 as mail uses it: line breaks and stray characters between the groups are skipped.
enum Base64 {
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(index)
        }
        return table
    }()

    /// Decodes what it can; nil only when nothing at all is base64.
    static func decode(_ input: some Collection<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var seen = false
        for byte in input {
            if byte == UInt8(ascii: "=") { break }
            let value = values[Int(byte)]
            if value == 0xFF { continue }
            seen = true
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return seen || input.isEmpty ? output : nil
    }

    /// Encodes in lines of 76 characters ending in CRLF, as MIME bodies are written.
    static func encodeLines(_ bytes: [UInt8]) -> String {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        var result = ""
        result.reserveCapacity(encoded.count + encoded.count / 38 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            result += String(decoding: encoded[start..<end], as: UTF8.self) + "\r\n"
            start = end
        }
        return result
    }
}

/// Quoted-printable (RFC 2045), and the Q encoding of header words (RFC 2047).
enum QuotedPrintable {
    /// Decodes `=XX` escapes and soft line breaks; in a header word `_` is a space. A broken escape stays as it is.
    static func decode(_ input: [UInt8], header: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "=") {
                // A soft line break: "=" then optional whitespace, then CRLF or LF.
                var next = index + 1
                while next < input.count, input[next] == 0x20 || input[next] == 0x09 { next += 1 }
                if next < input.count, input[next] == 0x0D || input[next] == 0x0A {
                    if input[next] == 0x0D, next + 1 < input.count, input[next + 1] == 0x0A { next += 1 }
                    index = next + 1
                    continue
                }
                if next >= input.count { break }
                if index + 2 < input.count, let high = hex(input[index + 1]), let low = hex(input[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                output.append(byte)
            } else if header && byte == UInt8(ascii: "_") {
                output.append(0x20)
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Encodes text for a body: CRLF line breaks, lines of at most 76 characters with soft breaks,
    /// `=`, control and 8-bit bytes escaped, trailing whitespace escaped.
    static func encode(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 8)
        var lineLength = 0
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x0A || (byte == 0x0D && index + 1 < input.count && input[index + 1] == 0x0A) {
                output += [0x0D, 0x0A]
                lineLength = 0
                index += byte == 0x0D ? 2 : 1
                continue
            }
            let next = index + 1 < input.count ? input[index + 1] : 0x0A
            let atLineEnd = next == 0x0A || next == 0x0D
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 0x20 || byte == 0x09) && !atLineEnd)
            let width = literal ? 1 : 3
            // Keep room for the "=" of a soft break.
            if lineLength + width > 75 {
                output += [UInt8(ascii: "="), 0x0D, 0x0A]
                lineLength = 0
            }
            if literal {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "="), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
            lineLength += width
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
