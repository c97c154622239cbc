import Foundation
import HubCore
import Testing

/// Profile completeness against the configured required fields, per customer and overall.
@Suite struct ProfileCompletenessTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func aProfileScoresTheShareOfRequiredFieldsItHas() {
        let completeness = ProfileCompleteness(requiredFields: ["name", "email", "phone", "timeZone", "company"])
        let customer = Customer(id: "cus_1", name: "Ana", attributes: ["company": "Acme"], createdAt: now, updatedAt: now)
        let identities = [Identity(channel: .email, address: "ana@example.com", customerId: "cus_1", verified: false, createdAt: now)]
        let score = completeness.score(customer, identities: identities)
        #expect(score.percent == 60 && score.missing == ["phone", "timeZone"])

        var tally = ProfileCompleteness.Tally(fields: completeness.requiredFields)
        tally.add(score)
        tally.add(completeness.score(Customer(id: "cus_2", createdAt: now, updatedAt: now), identities: []))
        let report = tally.report
        #expect(report.customers == 2 && report.averagePercent == 30 && report.complete == 0)
        #expect(report.filled == ["name": 0.5, "email": 0.5, "phone": 0, "timeZone": 0, "company": 0.5])
        #expect(ProfileCompleteness.Tally(fields: ["name"]).report.averagePercent == 100, "no customers: nothing is missing")
    }
}
