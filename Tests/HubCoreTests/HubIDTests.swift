import Foundation
import HubCore
import TestSupport
import Testing

@Suite("HubID")
struct HubIDTests {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// The 26-character body after `prefix_`, or nil when the id does not have that shape.
    private static func body(of id: String, prefix: String) -> Substring? {
        guard id.hasPrefix(prefix + "_") else { return nil }
        return id.dropFirst(prefix.count + 1)
    }

    /// The milliseconds since 1970 encoded in the first ten characters of a body.
    private static func millis(of body: Substring) -> UInt64? {
        var value: UInt64 = 0
        for character in body.prefix(10) {
            guard let digit = alphabet.firstIndex(of: character) else { return nil }
            value = value << 5 | UInt64(digit)
        }
        return value
    }

    @Test("an id is the prefix, an underscore and 26 Crockford base-32 characters")
    func shape() throws {
        for prefix in ["conv", "msg", "cus", "tok"] {
            let id = HubID.make(prefix)
            let body = try #require(Self.body(of: id, prefix: prefix))
            #expect(body.count == 26)
            #expect(body.allSatisfy { Self.alphabet.contains($0) }, "\(id)")
        }
    }

    @Test("the first ten characters encode the creation time (not earlier than `now`)")
    func timestampPrefix() throws {
        let now = Date()
        let id = HubID.make("msg", now: now)
        let body = try #require(Self.body(of: id, prefix: "msg"))
        let encoded = try #require(Self.millis(of: body))
        // Never earlier than `now`; later only if another id in this process was made later.
        #expect(encoded >= UInt64(now.timeIntervalSince1970 * 1000))
    }

    @Test("ids made in sequence with the same `now` sort in creation order")
    func sameMillisecondSortsInOrder() {
        // A fixed instant in the past: every id below falls in one millisecond (or, when another
        // test made an id later, in that one), which is the case the counter exists for.
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        let ids = (0..<2_000).map { _ in HubID.make("msg", now: now) }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("an id sorts after every id this process made before, whatever `now` says")
    func laterIdsSortAfter() {
        // Instants in the past, so the process-wide "last id" is not pushed into the future.
        let early = HubID.make("conv", now: Date(timeIntervalSince1970: 1_100_000_000))
        let later = HubID.make("conv", now: Date(timeIntervalSince1970: 1_100_000_001))
        let clockWentBack = HubID.make("conv", now: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(early < later)
        #expect(later < clockWentBack)
    }

    @Test("ids made concurrently are unique and each task's ids ascend")
    func concurrentIdsAreUnique() async {
        let batches = await withTaskGroup(of: [String].self, returning: [[String]].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in HubID.make("msg") } }
            }
            var collected: [[String]] = []
            for await batch in group { collected.append(batch) }
            return collected
        }
        let all = batches.flatMap { $0 }
        #expect(all.count == 4_000)
        #expect(Set(all).count == all.count)
        for batch in batches {
            #expect(batch == batch.sorted())
        }
    }

    // MARK: Seeded variant

    @Test("SplitMix64 matches its reference output")
    func splitMixReference() {
        var rng = SplitMix64(seed: 0)
        let first = rng.next()
        #expect(first == 0xE220_A839_7B1D_CDAF)
    }

    @Test("the seeded variant is deterministic")
    func seededIsDeterministic() {
        let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let a = (0..<50).map { _ in HubID.make("conv", now: now, using: &first) }
        let b = (0..<50).map { _ in HubID.make("conv", now: now, using: &second) }
        #expect(a == b)
        #expect(Set(a).count == a.count)

        var other = SplitMix64(seed: 43)
        let fromOtherSeed = HubID.make("conv", now: now, using: &other)
        #expect(fromOtherSeed != a[0])
    }

    @Test("the seeded variant encodes `now` exactly, as ULID does")
    func seededEncoding() throws {
        var rng = SplitMix64(seed: 42)
        let id = HubID.make("conv", now: Date(timeIntervalSince1970: 1_767_225_600), using: &rng)
        // Time part computed independently; the random part from SplitMix64(42)'s first two outputs.
        #expect(id == "conv_01KDVDNA00QQBK49HFXDQ9BW83")

        // The ULID specification's example timestamp.
        let ulidExample = HubID.make("x", now: Date(timeIntervalSince1970: 1_469_918_176.385), using: &rng)
        let body = try #require(Self.body(of: ulidExample, prefix: "x"))
        #expect(body.prefix(10) == "01ARYZ6S41")
        #expect(Self.millis(of: body) == 1_469_918_176_385)
    }

    @Test("seeded ids of later instants sort after earlier ones")
    func seededSortsByTime() {
        var rng = SplitMix64(seed: 7)
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        // Whole seconds apart, so no two instants round to the same millisecond.
        let ids = (0..<200).map { step in HubID.make("msg", now: start.addingTimeInterval(Double(step)), using: &rng) }
        #expect(ids == ids.sorted())
    }
}
