import Foundation
import HubCore
import HubStore
import Testing

/// Importing customers: idempotent on external id, a dry run keeps nothing, an address another customer owns
/// refuses only its line, consents are recorded once, value tiers keep what someone set; the export reads it back.
@Suite struct ImportStoreTests {
    func row(_ line: Int, _ id: String, email: String? = nil, phone: String? = nil, name: String? = nil, tier: CustomerTier? = nil,
             revenue: Int? = nil, consents: [ImportedConsent] = []) -> CustomerImportRow {
        CustomerImportRow(line: line, externalId: id, name: name, email: email, phone: phone, tier: tier,
                          attributes: revenue.map { ["revenue": String($0), "orders": "1", "lastOrderAt": "2026-01-01"] } ?? [:], consents: consents)
    }

    @Test func importsAreIdempotentAndADryRunKeepsNothing() async throws {
        let store = try makeStore()
        let rows = [row(2, "C1", email: "ana@example.com", name: "Ana", consents: [ImportedConsent(channel: .email, purpose: .marketing, state: .optedIn)]),
                    row(3, "C2", phone: "+15551230002", name: "Bo")]
        let dry = try await store.importCustomers(rows, dryRun: true)
        #expect(dry.created == 2)
        #expect(try await store.customers(query: nil, PageRequest()).items.isEmpty, "a dry run keeps nothing")

        let first = try await store.importCustomers(rows, dryRun: false)
        #expect(first.created == 2 && first.updated == 0 && first.rejected.isEmpty)
        let again = try await store.importCustomers(rows, dryRun: false)
        #expect(again.created == 0 && again.unchanged == 2)
        let renamed = try await store.importCustomers([row(2, "C1", email: "ana@example.com", name: "Ana Lima")], dryRun: false)
        #expect(renamed.updated == 1)

        let exported = try await store.exportCustomers(after: nil, limit: 10)
        let ana = try #require(exported.first { $0.customer.externalId == "C1" })
        #expect(ana.customer.name == "Ana Lima" && ana.identities.map(\.address) == ["ana@example.com"])
        #expect(ana.consents.map(\.state) == [.optedIn] && ana.consents.first?.source == .import)
        #expect(try await store.consents(customerId: ana.customer.id).count == 1, "re-importing records no new consent")
        await store.close()
    }

    @Test func anAddressOfAnotherCustomerRefusesOnlyItsLine() async throws {
        let store = try makeStore()
        _ = try await store.receive(inbound(from: "ana@example.com"))
        let report = try await store.importCustomers([row(2, "C1", email: "ana@example.com"), row(3, "C2", email: "bo@example.com")], dryRun: false)
        #expect(report.created == 1)
        #expect(report.rejected.map(\.line) == [2] && report.rejected.first?.field == "email")
        await store.close()
    }

    @Test func valueTiersKeepWhatSomeoneSet() async throws {
        let store = try makeStore()
        var rows = (0..<100).map { row($0 + 2, "C\($0)", revenue: 10_000 - $0 * 100) }
        rows[99].tier = .vip  // the smallest spender, raised by hand
        rows[0].tier = .blocklisted  // the biggest, blocked
        _ = try await store.importCustomers(rows, dryRun: false)
        #expect(try await store.recomputeValueTiers(now: TestClock.start) == 98)
        let tiers = Dictionary(uniqueKeysWithValues: try await store.exportCustomers(after: nil, limit: 200).map { ($0.customer.externalId ?? "", $0.customer.tier) })
        #expect(tiers["C0"] == "blocklisted" && tiers["C99"] == "vip")
        #expect(tiers["C1"] == "vip" && tiers["C4"] == "vip" && tiers["C5"] == "normal" && tiers["C20"] == "low")
        #expect(try await store.recomputeValueTiers(now: TestClock.start) == 0, "nothing changed, nothing written")
        await store.close()
    }
}
