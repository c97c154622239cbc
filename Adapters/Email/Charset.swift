import Foundation
import Glibc

/// MIME charsets decoded with glibc's iconv: Foundation on Linux reads only a few of them.
public enum Charset {
    /// Decodes `bytes` labelled `charset` (any case or common alias); unknown or missing labels are read
    /// as UTF-8, and bytes that are not UTF-8 as Latin-1, so no text is ever lost.
    public static func decode(_ bytes: some Collection<UInt8>, charset: String?) -> String {
        let bytes = Array(bytes)
        let name = iconvName(charset)
        if name == "UTF-8" || name == nil {
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            return name == nil ? latin1(bytes) : String(decoding: bytes, as: UTF8.self)
        }
        return convert(bytes, from: name!) ?? latin1(bytes)
    }

    /// The iconv name for a MIME label: supersets where senders mislabel (GB2312 mail carries GBK,
    /// Shift_JIS mail carries Windows-932), nil for unknown labels.
    static func iconvName(_ label: String?) -> String? {
        guard var label = label?.trimmingCharacters(in: .whitespaces).lowercased(), !label.isEmpty else { return nil }
        label = label.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        if label.hasPrefix("x-") { label.removeFirst(2) }
        switch label {
        case "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "unicode-1-1-utf-8": return "UTF-8"
        case "gb2312", "gbk", "gb18030", "euc-cn", "cp936", "gb_2312-80", "csgb2312", "chinese": return "GB18030"
        case "big5", "big5-hkscs", "cp950": return "BIG5-HKSCS"
        case "shift_jis", "shift-jis", "sjis", "ms_kanji", "cp932", "windows-31j", "csshiftjis": return "CP932"
        case "iso-2022-jp", "csiso2022jp", "iso-2022-jp-2": return "ISO-2022-JP-2"
        case "euc-jp": return "EUC-JP"
        case "euc-kr", "ks_c_5601-1987", "cp949", "ks_c_5601": return "CP949"
        case "iso-2022-kr": return "ISO-2022-KR"
        case "koi8-r": return "KOI8-R"
        case "koi8-u": return "KOI8-U"
        case "iso-8859-8-i": return "ISO-8859-8"
        case "tis-620", "windows-874", "cp874": return "CP874"
        case "utf-16", "utf-16le", "utf-16be", "utf-7": return label.uppercased()
        default: break
        }
        if label.hasPrefix("windows-125"), let digit = label.last, ("0"..."8").contains(digit) { return "CP125\(digit)" }
        if label.hasPrefix("cp125"), let digit = label.last, ("0"..."8").contains(digit) { return "CP125\(digit)" }
        if label.hasPrefix("iso-8859-") || label.hasPrefix("iso8859-") || label.hasPrefix("iso_8859-") {
            let number = label.split(separator: "-").last.map(String.init) ?? ""
            // Mail labelled Latin-1 carries Windows-1252 quotes and euro signs (as browsers assume too).
            if let value = Int(number), (1...16).contains(value) { return value == 1 ? "CP1252" : "ISO-8859-\(value)" }
        }
        if label == "latin1" || label == "l1" { return "CP1252" }
        return nil
    }

    /// Converts with iconv; an invalid byte becomes U+FFFD and decoding goes on after it.
    private static func convert(_ bytes: [UInt8], from name: String) -> String? {
        let descriptor = iconv_open("UTF-8", name)
        guard descriptor != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(descriptor) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        var chunk = [CChar](repeating: 0, count: 4096)
        var input = bytes.map { CChar(bitPattern: $0) }
        let total = input.count
        return input.withUnsafeMutableBufferPointer { source -> String in
            var offset = 0
            while true {
                let finished = offset >= total
                var inPointer: UnsafeMutablePointer<CChar>? = source.baseAddress.map { $0 + offset }
                var inLeft = total - offset
                let (result, errorNumber, produced) = chunk.withUnsafeMutableBufferPointer { target -> (Int, Int32, Int) in
                    var outPointer: UnsafeMutablePointer<CChar>? = target.baseAddress
                    var outLeft = target.count
                    // With all input read, flush the shift state (ISO-2022-JP returning to ASCII).
                    let result = finished ? iconv(descriptor, nil, nil, &outPointer, &outLeft)
                                          : iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                    return (result, errno, target.count - outLeft)
                }
                output.append(contentsOf: chunk[0..<produced].map { UInt8(bitPattern: $0) })
                if finished { break }
                offset = total - inLeft
                if result == -1 && errorNumber != E2BIG {
                    // EILSEQ, or EINVAL (a sequence cut off at the end): mark it and go on after the byte.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    offset += 1
                }
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    static func latin1(_ bytes: [UInt8]) -> String {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}
