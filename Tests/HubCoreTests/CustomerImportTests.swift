import Foundation
import HubCore
import Testing

/// The customer CSV's rules, without I/O: a line becomes a checked row or every problem it has, with its
/// line number; the value tiers follow the customer pyramid and RFM quintiles.
@Suite struct CustomerImportTests {
    static let header = ["externalId", "name", "email", "phone", "timeZone", "tags", "tier", "emailMarketing", "smsMarketing",
                         "lastOrderAt", "orders", "revenue", "loyaltyCard"]

    func parse(_ fields: [String], line: Int = 2) -> Result<CustomerImportRow, ImportRejection> {
        CustomerCSV.row(fields, header: Self.header, line: line, defaultRegion: "US")
    }

    @Test func aGoodLineIsNormalized() throws {
        let row = try parse(["C1", "Ana Lima", " ana@Example.COM ", "(555) 123-0001", "America/Sao_Paulo", "gold; early",
                             "", "opted_in", "OPTED_OUT", "2026-10-01", "12", "5400.5", "LC-1"]).get()
        #expect(row.externalId == "C1" && row.name == "Ana Lima" && row.email == "ana@example.com" && row.phone == "+15551230001")
        #expect(row.timeZone == "America/Sao_Paulo" && row.tags == ["gold", "early"] && row.tier == nil)
        #expect(row.consents == [ImportedConsent(channel: .email, purpose: .marketing, state: .optedIn),
                                 ImportedConsent(channel: .sms, purpose: .marketing, state: .optedOut)])
        #expect(row.attributes == ["lastOrderAt": "2026-10-01", "orders": "12", "revenue": "5400.5", "loyaltyCard": "LC-1"])
    }

    @Test func aBadLineReportsEveryProblemWithItsLineNumber() {
        guard case .failure(let rejection) = parse(["", "x", "not-an-address", "12", "Mars/Base", "", "gold", "maybe", "opted_in",
                                                    "yesterday", "-1", "NaN", ""], line: 7) else {
            Issue.record("a bad line was accepted")
            return
        }
        #expect(rejection.problems.allSatisfy { $0.line == 7 })
        #expect(Set(rejection.problems.map(\.field)) == ["externalId", "email", "phone", "timeZone", "tier", "emailMarketing",
                                                         "lastOrderAt", "orders", "revenue"])
        guard case .failure(let noPhone) = parse(["C1", "", "", "", "", "", "", "", "opted_in", "", "", "", ""]) else {
            Issue.record("an SMS consent without a number was accepted")
            return
        }
        #expect(noPhone.problems.map(\.field) == ["smsMarketing"])
        guard case .failure(let short) = parse(["C1", "only two"], line: 9) else { Issue.record("a short line was accepted"); return }
        #expect(short.problems == [ImportProblem(line: 9, field: "line", message: "has 2 fields, the header 13")])
    }

    @Test func theHeaderMustNameExternalIdOnce() {
        #expect(throws: ValidationError.self) { try CustomerCSV.checkHeader(["name", "email"]) }
        #expect(throws: ValidationError.self) { try CustomerCSV.checkHeader(["externalId", "name", "name"]) }
        #expect(throws: ValidationError.self) { try CustomerCSV.checkHeader(["externalId", ""]) }
        #expect(throws: Never.self) { try CustomerCSV.checkHeader(Self.header) }
    }

    @Test func thePyramidIsOneFourFifteenEighty() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        var customers: [ValueTiers.Purchases] = []
        for index in 0..<1_000 {
            let hoursAgo = Double(index) * 3_600
            let orders = Double(1_000 - index)
            customers.append(ValueTiers.Purchases(customerId: "c\(index)", lastOrderAt: now.addingTimeInterval(-hoursAgo), orders: orders, revenue: orders * 10))
        }
        let assessed = ValueTiers.assess(customers, now: now)
        var segments: [String: Int] = [:]
        for assessment in assessed.values { segments[assessment.segment, default: 0] += 1 }
        #expect(segments == ["platinum": 10, "gold": 40, "iron": 150, "lead": 800])
        #expect(assessed["c0"]?.tier == .vip && assessed["c49"]?.tier == .vip && assessed["c50"]?.tier == .normal && assessed["c999"]?.tier == .low)
        // The best customer on every count scores 5-5-5, the worst 1-1-1.
        #expect(assessed["c0"]?.rfm == "555" && assessed["c999"]?.rfm == "111")
    }

    @Test func onlyComputedTiersAreTheComputationsToChange() {
        let now = Date()
        func customer(tier: String?, segment: String?) -> Customer {
            Customer(id: "cus_1", attributes: segment.map { ["valueSegment": $0] } ?? [:], tier: tier, createdAt: now, updatedAt: now)
        }
        #expect(ValueTiers.isComputed(customer(tier: nil, segment: nil)))
        #expect(ValueTiers.isComputed(customer(tier: "vip", segment: "gold")))
        #expect(!ValueTiers.isComputed(customer(tier: "vip", segment: "lead")), "a supervisor raised this customer by hand")
        #expect(!ValueTiers.isComputed(customer(tier: "blocklisted", segment: "platinum")))
        #expect(!ValueTiers.isComputed(customer(tier: "normal", segment: nil)))
    }
}

/// Signed ids in links and addresses: only the hub makes them, any case reads back, another purpose does not verify.
@Suite struct SignedIDTests {
    @Test func aSignedIDVerifiesOnlyForItsPurposeAndSecret() {
        let token = SignedID.sign("cus_01JD8Z5X6Y", purpose: "preferences", secret: "s3cret")
        #expect(SignedID.verify(token, purpose: "preferences", secret: "s3cret") == "cus_01JD8Z5X6Y")
        #expect(SignedID.verify(token.uppercased(), purpose: "preferences", secret: "s3cret") == "cus_01JD8Z5X6Y")
        #expect(SignedID.verify(token, purpose: "reply", secret: "s3cret") == nil)
        #expect(SignedID.verify(token, purpose: "preferences", secret: "other") == nil)
        #expect(SignedID.verify("cus_01JD8Z5X6Z" + token.drop { $0 != "." }, purpose: "preferences", secret: "s3cret") == nil)
        #expect(SignedID.verify("garbage", purpose: "preferences", secret: "s3cret") == nil)
        let link = PreferencesLink(baseURL: "https://hub.example.com/", secret: "s3cret")
        let url = link.url(customerId: "cus_01JD8Z5X6Y")
        #expect(url == "https://hub.example.com/p/\(token)")
        #expect(link.customerId(token: String(url.split(separator: "/").last!)) == "cus_01JD8Z5X6Y")
    }
}
