import Foundation
import Synchronization

/// Opaque identifiers sortable by creation: a prefix and a ULID (`conv_01J…`).
public enum HubID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// The last value handed out, so identifiers made in one millisecond still sort in order made.
    private static let last = Mutex<(millis: UInt64, random: UInt128)>((0, 0))

    /// Makes an identifier for `prefix` that sorts after every one this process made before.
    public static func make(_ prefix: String, now: Date = Date()) -> String {
        let (millis, random) = last.withLock { last in
            let millis = max(UInt64(max(0, now.timeIntervalSince1970 * 1000)), last.millis)
            var random = UInt128(UInt64.random(in: .min ... .max)) << 16 | UInt128(UInt16.random(in: .min ... .max))
            if millis == last.millis { random = last.random &+ 1 }
            last = (millis, random)
            return (millis, random)
        }
        return encode(prefix, millis: millis, random: random)
    }

    /// Makes an identifier with the given random source (tests pass a seeded one).
    public static func make(_ prefix: String, now: Date, using generator: inout some RandomNumberGenerator) -> String {
        let random = UInt128(generator.next()) << 16 | UInt128(generator.next() & 0xffff)
        return encode(prefix, millis: UInt64(max(0, now.timeIntervalSince1970 * 1000)), random: random)
    }

    private static func encode(_ prefix: String, millis: UInt64, random: UInt128) -> String {
        var chars = [Character]()
        chars.reserveCapacity(26)
        // 48-bit timestamp as 10 base-32 digits.
        for shift in stride(from: 45, through: 0, by: -5) {
            chars.append(alphabet[Int((millis >> UInt64(shift)) & 31)])
        }
        // 80 random bits as 16 base-32 digits.
        for shift in stride(from: 75, through: 0, by: -5) {
            chars.append(alphabet[Int((random >> UInt128(shift)) & 31)])
        }
        return prefix + "_" + String(chars)
    }
}
