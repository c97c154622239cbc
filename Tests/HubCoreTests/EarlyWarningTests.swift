import Foundation
import HubCore
import Testing

@Suite("EarlyWarning")
struct EarlyWarningTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    @Test("a valuable customer silent for the threshold, or writing far less than before, is reported; the longest silent first")
    func report() {
        let activity = [
            CustomerActivity(customerId: "c-steady", name: "Steady", tier: .vip, lastContactAt: Self.daysAgo(2), recentContacts: 9, previousContacts: 10),
            CustomerActivity(customerId: "c-silent", name: "Silent", tier: .vip, lastContactAt: Self.daysAgo(45), recentContacts: 0, previousContacts: 4),
            CustomerActivity(customerId: "c-fading", name: "Fading", tier: .vip, lastContactAt: Self.daysAgo(5), recentContacts: 2, previousContacts: 12),
            CustomerActivity(customerId: "c-never", name: nil, tier: .vip, lastContactAt: nil, recentContacts: 0, previousContacts: 0),
            CustomerActivity(customerId: "c-few", name: "Few", tier: .vip, lastContactAt: Self.daysAgo(3), recentContacts: 0, previousContacts: 2),
            CustomerActivity(customerId: "c-edge", name: "Edge", tier: .vip, lastContactAt: Self.daysAgo(29.9), recentContacts: 1, previousContacts: 1),
        ]
        let warnings = EarlyWarning.report(activity, now: Self.now, quietDays: 30)
        #expect(warnings.map(\.customerId) == ["c-never", "c-silent", "c-fading"])
        #expect(warnings.map(\.reason) == [.noContact, .noContact, .contactDropped])
        #expect(warnings[1].daysSinceContact == 45)
        #expect(warnings[0].daysSinceContact == nil)
    }
}
