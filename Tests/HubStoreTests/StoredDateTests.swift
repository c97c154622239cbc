import Foundation
@testable import HubStore
import Testing
import TestSupport

/// The store writes dates itself on the ingestion path; GRDB writes them everywhere else and reads
/// them all back. Both must give the same text for the same instant, or comparisons drift by a millisecond.
@Suite struct StoredDateTests {
    @Test func storedDateIsGRDBsFormToTheMillisecond() {
        var rng = SplitMix64(seed: 2026)
        var instants: [Double] = [0, 0.0004, 0.0005, 0.0006, 0.9996, 59.9995, 86_399.9999, 951_782_400, 4_102_444_799.9996]
        for _ in 0..<20_000 {
            // Whole milliseconds, instants just around them (where rounding decides), and any instant at all.
            let millisecond = Double(Int64.random(in: 0...4_102_444_800_000, using: &rng)) / 1000
            instants.append(millisecond + Double.random(in: -0.000_6...0.000_6, using: &rng))
            instants.append(Double.random(in: 0...4_102_444_800, using: &rng))
        }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            #expect(storedDate(date) == date.databaseValue, "\(instant)")
        }
    }
}
