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

    /// Counts `text` as the GSM 03.38 basic and extension tables and UCS-2 define it.
    public init(_ text: String) {
        var septets = 0
        var isGSM = true
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar) {
                septets += 1
            } else if Self.extensionTable.contains(scalar) {
                septets += 2
            } else {
                isGSM = false
                break
            }
        }
        if isGSM {
            encoding = .gsm7
            characters = septets
            perSegment = septets <= 160 ? 160 : 153
        } else {
            encoding = .ucs2
            characters = text.utf16.count
            perSegment = characters <= 70 ? 70 : 67
        }
        segments = characters == 0 ? 1 : (characters + perSegment - 1) / perSegment
    }

    /// The GSM 03.38 basic character set.
    static let basic: Set<Unicode.Scalar> = Set((
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    ).unicodeScalars)

    /// Characters sent as an escape and a second septet.
    static let extensionTable: Set<Unicode.Scalar> = Set("^{}[]~\\|€\u{0C}".unicodeScalars)
}
