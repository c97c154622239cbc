import Foundation
import HubCore
import HubStore
import Testing

/// Audience filters against a real store: each predicate selects exactly the customers it should, blocklisted
/// customers never, and filter values that look like SQL are only ever values.
@Suite("Audiences")
struct AudienceStoreTests {
    /// Five customers and the clock: Ana (email, VIP, Shenzhen), Bo (SMS, low, Recife, marketing opt-in by SMS),
    /// Cy (email, no tier, Shenzhen), Di (email, blocklisted, Shenzhen) and Ed (imported, never wrote in).
    struct Fixture {
        let store: SQLiteHubStorage
        let clock: TestClock
        let ana: IngestResult
        let bo: IngestResult
        let cy: IngestResult
        let di: IngestResult
        let edId: String

        /// Customer id → first name, for readable expectations.
        var names: [String: String] {
            [ana.customerId: "Ana", bo.customerId: "Bo", cy.customerId: "Cy", di.customerId: "Di", edId: "Ed"]
        }

        /// The first names of the customers `source` selects; the count must agree with the sample.
        func select(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
            let filter = try AudienceFilter.parse(source)
            let sample = try await store.audienceSample(filter, limit: 100)
            let count = try await store.audienceCount(filter)
            #expect(count == sample.count, "\(source)", sourceLocation: sourceLocation)
            #expect(sample.map(\.id) == sample.map(\.id).sorted(), "a sample is in id order", sourceLocation: sourceLocation)
            return sample.map { names[$0.id] ?? $0.id }.sorted()
        }
    }

    static func fixture() async throws -> Fixture {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let ana = try await store.receive(inbound(from: "ana@example.com", name: "Ana"))
        let bo = try await store.receive(inbound(from: "+15551230001", text: "hi", channel: .sms, name: "Bo", externalId: "s1"))
        let cy = try await store.receive(inbound(from: "cy@example.com", name: "Cy"))
        let di = try await store.receive(inbound(from: "di@example.com", name: "Di"))
        _ = try await store.updateCustomer(id: ana.customerId, CustomerPatch(
            attributes: ["city": "Shenzhen", "orders": "12", "plan": "gold", "tier": "attr-tier"], tags: ["new-parent", "vip"],
            timeZone: "Asia/Shanghai", locale: "zh-CN", tier: .vip
        ))
        _ = try await store.updateCustomer(id: bo.customerId, CustomerPatch(
            attributes: ["city": "Recife", "orders": "3.5"], tags: ["new-parent"], locale: "pt-BR", tier: .low
        ))
        _ = try await store.updateCustomer(id: cy.customerId, CustomerPatch(attributes: ["city": "Shenzhen", "orders": "twelve"]))
        _ = try await store.updateCustomer(id: di.customerId, CustomerPatch(
            attributes: ["city": "Shenzhen"], tags: ["new-parent"], tier: .blocklisted
        ))
        try await store.recordConsent(ConsentRecord(customerId: bo.customerId, channel: .sms, address: "+15551230001", purpose: .marketing,
                                                    state: .optedIn, source: .api, evidence: nil, createdAt: clock.now()))
        _ = try await store.importCustomers([
            CustomerImportRow(line: 2, externalId: "CRM-7", name: "Ed", email: "ed@example.com", attributes: ["city": "Lisbon"],
                              consents: [ImportedConsent(channel: .email, purpose: .marketing, state: .optedIn)]),
        ], dryRun: false)
        let ed = try #require(try await store.customers(query: "ed@example.com", PageRequest(limit: 10)).items.first)
        return Fixture(store: store, clock: clock, ana: ana, bo: bo, cy: cy, di: di, edId: ed.id)
    }

    @Test("profile fields and attributes: text, numbers, lists, case rules, missing values")
    func fields() async throws {
        let f = try await Self.fixture()
        #expect(try await f.select("") == ["Ana", "Bo", "Cy", "Ed"])
        #expect(try await f.select(#"city = "Shenzhen""#) == ["Ana", "Cy"])
        #expect(try await f.select(#"city = "shenzhen""#) == [], "attributes compare case and all")
        #expect(try await f.select(#"city in ("Recife", "Lisbon")"#) == ["Bo", "Ed"])
        #expect(try await f.select(#"city not in ("Recife", "Lisbon")"#) == ["Ana", "Cy"])
        #expect(try await f.select(#"name = "Ana""#) == ["Ana"])
        #expect(try await f.select(#"name = "ana""#) == [])
        #expect(try await f.select(#"name > "B""#) == ["Bo", "Cy", "Ed"])
        // Tier and locale ignore case; a tier never set reads as normal.
        #expect(try await f.select(#"tier = "VIP""#) == ["Ana"])
        #expect(try await f.select(#"tier = "normal""#) == ["Cy", "Ed"])
        #expect(try await f.select(#"tier != "vip""#) == ["Bo", "Cy", "Ed"])
        #expect(try await f.select(#"tier = "blocklisted""#) == [], "blocklisted customers are in no audience")
        #expect(try await f.select(#"locale = "ZH-cn""#) == ["Ana"])
        #expect(try await f.select(#"locale in ("pt-br", "en")"#) == ["Bo"])
        #expect(try await f.select(#"time_zone = "Asia/Shanghai""#) == ["Ana"])
        #expect(try await f.select(#"external_id = "CRM-7""#) == ["Ed"])
        // Numbers compare numerically, and only with values written as numbers ("twelve" is not one).
        #expect(try await f.select("orders > 10") == ["Ana"])
        #expect(try await f.select("orders >= 3.5") == ["Ana", "Bo"])
        #expect(try await f.select("orders < 100") == ["Ana", "Bo"])
        #expect(try await f.select("orders != 12") == ["Bo"])
        #expect(try await f.select("orders = 12.0") == ["Ana"])
        #expect(try await f.select(#"orders = "12""#) == ["Ana"])
        #expect(try await f.select(#"orders in (12, "twelve")"#) == ["Ana", "Cy"])
        // A missing attribute matches no comparison, `!=` included; `not` selects it.
        #expect(try await f.select(#"plan != "gold""#) == [])
        #expect(try await f.select(#"not plan = "gold""#) == ["Bo", "Cy", "Ed"])
        #expect(try await f.select(#"not name = "Ana""#) == ["Bo", "Cy", "Ed"])
        // An attribute named like a field is reached through `attributes.`.
        #expect(try await f.select(#"attributes.tier = "attr-tier""#) == ["Ana"])
        #expect(try await f.select(#"tier = "attr-tier""#) == [])
        await f.store.close()
    }

    @Test("tags, identities, consents, and the issue's example")
    func tagsIdentitiesAndConsents() async throws {
        let f = try await Self.fixture()
        #expect(try await f.select(#"tags has "new-parent""#) == ["Ana", "Bo"])
        #expect(try await f.select(#"tags has "New-Parent""#) == [])
        #expect(try await f.select(#"not tags has "new-parent""#) == ["Cy", "Ed"])
        #expect(try await f.select("identities has email") == ["Ana", "Cy", "Ed"])
        #expect(try await f.select("identities has sms") == ["Bo"])
        #expect(try await f.select("identities has webchat") == [])
        #expect(try await f.select("consent has sms") == ["Bo"])
        #expect(try await f.select("consent has email") == ["Ed"])
        // The newest entry decides.
        try await f.store.recordConsent(ConsentRecord(customerId: f.bo.customerId, channel: .sms, address: "+15551230001",
                                                      purpose: .marketing, state: .optedOut, source: .keyword, evidence: "STOP",
                                                      createdAt: f.clock.now()))
        #expect(try await f.select("consent has sms") == [])
        #expect(try await f.select("not consent has sms") == ["Ana", "Bo", "Cy", "Ed"])
        // Transactional consent is not marketing consent.
        try await f.store.recordConsent(ConsentRecord(customerId: f.cy.customerId, channel: .email, address: "cy@example.com",
                                                      purpose: .transactional, state: .optedIn, source: .api, evidence: nil,
                                                      createdAt: f.clock.now()))
        #expect(try await f.select("consent has email") == ["Ed"])

        // The issue's example: its tiers are not this hub's, so it selects no one; with real tiers, Ana.
        #expect(try await f.select(#"tier in ("gold", "platinum") and tags has "new-parent" and city = "Shenzhen""#) == [])
        #expect(try await f.select(#"tier in ("vip", "platinum") and tags has "new-parent" and city = "Shenzhen""#) == ["Ana"])
        #expect(try await f.select(#"(city = "Recife" or tier = "vip") and not identities has email"#) == ["Bo"])
        // `and` binds tighter than `or`.
        #expect(try await f.select(#"identities has email or city = "Recife" and tier = "vip""#) == ["Ana", "Cy", "Ed"])
        #expect(try await f.select(#"(identities has email or city = "Recife") and tier = "vip""#) == ["Ana"])
        await f.store.close()
    }

    @Test("blocklisted customers are in no audience, whatever the filter")
    func blocklisted() async throws {
        let f = try await Self.fixture()
        #expect(try await f.select(#"city = "Shenzhen" and tags has "new-parent""#) == ["Ana"])
        #expect(try await f.select(#"name = "Di" or identities has email"#) == ["Ana", "Cy", "Ed"])
        _ = try await f.store.updateCustomer(id: f.di.customerId, CustomerPatch(tier: .normal))
        #expect(try await f.select(#"city = "Shenzhen" and tags has "new-parent""#) == ["Ana", "Di"])
        #expect(try await f.store.audienceCount(.everyone) == 5)
        await f.store.close()
    }

    @Test("last_contact is the age of the newest inbound message; never heard from is infinitely old")
    func lastContact() async throws {
        let f = try await Self.fixture()
        #expect(try await f.select("last_contact < 1d") == ["Ana", "Bo", "Cy"])
        #expect(try await f.select("last_contact > 1d") == ["Ed"])
        #expect(try await f.select("last_contact >= 0s") == ["Ana", "Bo", "Cy", "Ed"])

        f.clock.advance(by: 2 * 86_400)
        _ = try await f.store.receive(inbound(from: "+15551230001", text: "again", channel: .sms, externalId: "s2", at: f.clock.now()))
        // An answer to Ana is outbound: it is not contact from her.
        _ = try await f.store.reply(conversationId: f.ana.conversationId, ReplyDraft(text: "Hello Ana"), authorId: nil, idempotencyKey: nil)
        #expect(try await f.select("last_contact < 1d") == ["Bo"])
        #expect(try await f.select("last_contact > 1d") == ["Ana", "Cy", "Ed"])
        #expect(try await f.select("last_contact <= 2d") == ["Ana", "Bo", "Cy"])
        #expect(try await f.select("last_contact < 2d") == ["Bo"])
        #expect(try await f.select("last_contact = 48h") == ["Ana", "Cy"])
        #expect(try await f.select("last_contact != 2d") == ["Bo", "Ed"])
        #expect(try await f.select("not last_contact < 1d") == ["Ana", "Cy", "Ed"])
        #expect(try await f.select("last_contact >= 2d and identities has email") == ["Ana", "Cy", "Ed"])
        await f.store.close()
    }

    @Test("values and attribute names that look like SQL or JSON paths are only ever values")
    func injection() async throws {
        let f = try await Self.fixture()
        let before = try await f.store.audienceCount(.everyone)
        let drop = "Robert'); DROP TABLE customer; --"
        _ = try await f.store.updateCustomer(id: f.cy.customerId, CustomerPatch(name: drop, attributes: [
            "city": "Shenzhen", "we\"ird": "1", "a]b": "2", "$.x": "3", "..": "4", "x') OR 1=1 --": "5", "back\\slash": "6",
        ]))
        let attempts = [
            #"name = "x' OR 1=1 --""#,
            #"name = "\"); DROP TABLE customer; --""#,
            #"name = 'x\' OR \'1\'=\'1'"#,
            #"tags has "x') OR 1=1 --""#,
            #"city = "Shenzhen' OR '1'='1""#,
            #"attributes["city\" OR 1=1 --"] = "x""#,
            #"attributes["$.city"] = "Shenzhen""#,
            #"attributes["$"] = "3""#,
            #"attributes["city')) OR 1=1 --"] != "x""#,
            #"attributes["]"] = "2""#,
            #"locale in ("') OR 1=1; DELETE FROM customer; --")"#,
            #"orders = "0 OR 1=1""#,
        ]
        for source in attempts {
            #expect(try await f.select(source) == [], "\(source)")
            let filter = try AudienceFilter.parse(source)
            let sql = AudienceSQL(filter, now: f.clock.now())
            for fragment in ["1=1", "DROP", "DELETE", "$.city"] {
                #expect(!sql.condition.contains(fragment), "\(source)")
            }
        }
        // The same text as a literal matches exactly the customer who has it.
        #expect(try await f.select(#"name = "Robert'); DROP TABLE customer; --""#) == ["Cy"])
        #expect(try await f.select(#"attributes["we\"ird"] = "1""#) == ["Cy"])
        #expect(try await f.select(#"attributes["a]b"] = 2"#) == ["Cy"])
        #expect(try await f.select(#"attributes["$.x"] = "3""#) == ["Cy"])
        #expect(try await f.select(#"attributes[".."] = "4""#) == ["Cy"])
        #expect(try await f.select(#"attributes["x') OR 1=1 --"] = "5""#) == ["Cy"])
        #expect(try await f.select(#"attributes["back\\slash"] = "6""#) == ["Cy"])
        #expect(try await f.select(#"attributes.. = "4""#) == [], "an attribute named '.' is not the one named '..'")

        #expect(try await f.store.audienceCount(.everyone) == before, "the customer table is intact")
        #expect(try await f.store.customer(id: f.ana.customerId).name == "Ana")
        await f.store.close()
    }

    @Test("a sample is at most `limit` customers, in id order")
    func sample() async throws {
        let f = try await Self.fixture()
        let all = try await f.store.audienceSample(.everyone, limit: 100)
        #expect(all.count == 4)
        #expect(try await f.store.audienceSample(.everyone, limit: 2).map(\.id) == Array(all.map(\.id).prefix(2)))
        #expect(try await f.store.audienceSample(.everyone, limit: 0).isEmpty)
        #expect(try await f.store.audienceSample(.everyone, limit: -1).isEmpty)
        let vip = try await f.store.audienceSample(AudienceFilter.parse(#"tier = "vip""#), limit: 10)
        #expect(vip.map(\.name) == ["Ana"] && vip.first?.tags == ["new-parent", "vip"])
        await f.store.close()
    }
}
