/// How an SMS text is encoded and into how many segments it splits (what providers bill).
public struct SMSSegments: Codable, Sendable, Equatable {
    public enum Encoding: String, Codable, Sendable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public var encoding: Encoding
    /// Septets for GSM-7 (extension characters count two), UTF-16 code units for UCS-2.
    public var characters: Int
    public var segments: Int
    /// Characters per segment at this length: 160/153 (GSM-7) or 70/67 (UCS-2).
    public var perSegment: Int

    /// Counts `text` as the GSM 03.38 basic and extension tables and UCS-2 define it. Split texts are
    /// packed as phones reassemble them: an escape and its character, or the two halves of a
    /// surrogate pair, never straddle two segments.
    public init(_ text: String) {
        var costs: [Int] = []
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar) {
                costs.append(1)
            } else if Self.extensionTable.contains(scalar) {
                costs.append(2)
            } else {
                costs = []
                break
            }
        }
        let single: Int, split: Int
        if costs.count == text.unicodeScalars.count {
            encoding = .gsm7
            (single, split) = (160, 153)
        } else {
            encoding = .ucs2
            costs = text.unicodeScalars.map { $0.utf16.count }
            (single, split) = (70, 67)
        }
        characters = costs.reduce(0, +)
        guard characters > single else {
            perSegment = single
            segments = 1
            return
        }
        perSegment = split
        var count = 1, used = 0
        for cost in costs {
            if used + cost > split {
                count += 1
                used = 0
            }
            used += cost
        }
        segments = count
    }

    /// The GSM 03.38 basic character set.
    static let basic: Set<Unicode.Scalar> = Set((
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    ).unicodeScalars)

    /// Characters sent as an escape and a second septet.
    static let extensionTable: Set<Unicode.Scalar> = Set("^{}[]~\\|€\u{0C}".unicodeScalars)
}
