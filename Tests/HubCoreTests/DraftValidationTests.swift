import HubCore
import Testing

@Suite("CustomerPatch validation")
struct CustomerPatchTests {
    @Test("IANA time zones are accepted", arguments: ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"])
    func knownTimeZone(identifier: String) throws {
        let patch = try CustomerPatch(timeZone: identifier).validated()
        #expect(patch.timeZone == identifier)
    }

    @Test("unknown time zones are rejected", arguments: ["Mars/Olympus_Mons", "Asia/Atlantis", "not a zone"])
    func unknownTimeZone(identifier: String) {
        let field = failingField { _ = try CustomerPatch(timeZone: identifier).validated() }
        #expect(field == "timeZone")
    }

    @Test("sizes are bounded: name, attributes, tags and locale")
    func bounds() throws {
        _ = try CustomerPatch(name: String(repeating: "n", count: 200), attributes: ["plan": "gold"], tags: ["vip"], locale: "zh-Hans-CN")
            .validated()

        let name = failingField { _ = try CustomerPatch(name: String(repeating: "n", count: 201)).validated() }
        #expect(name == "name")

        let emptyKey = failingField { _ = try CustomerPatch(attributes: ["": "x"]).validated() }
        #expect(emptyKey == "attributes")
        let longValue = failingField { _ = try CustomerPatch(attributes: ["k": String(repeating: "v", count: 1001)]).validated() }
        #expect(longValue == "attributes")
        let manyAttributes = Dictionary(uniqueKeysWithValues: (0...100).map { ("key\($0)", "value") })
        let tooMany = failingField { _ = try CustomerPatch(attributes: manyAttributes).validated() }
        #expect(tooMany == "attributes")

        let emptyTag = failingField { _ = try CustomerPatch(tags: [""]).validated() }
        #expect(emptyTag == "tags")
        let manyTags = failingField { _ = try CustomerPatch(tags: (0...50).map { "tag\($0)" }).validated() }
        #expect(manyTags == "tags")

        let emptyLocale = failingField { _ = try CustomerPatch(locale: "").validated() }
        #expect(emptyLocale == "locale")
    }
}

@Suite("AgentDraft validation")
struct AgentDraftTests {
    @Test("creating requires a non-blank name; updating does not")
    func nameRequiredOnCreate() throws {
        let missing = failingField { _ = try AgentDraft().validated(creating: true) }
        #expect(missing == "name")
        let blank = failingField { _ = try AgentDraft(name: "   ").validated(creating: true) }
        #expect(blank == "name")
        let blankUpdate = failingField { _ = try AgentDraft(name: " ").validated(creating: false) }
        #expect(blankUpdate == "name")
        let tooLong = failingField { _ = try AgentDraft(name: String(repeating: "n", count: 201)).validated(creating: false) }
        #expect(tooLong == "name")

        // An empty update changes nothing and is valid.
        _ = try AgentDraft().validated(creating: false)
        let created = try AgentDraft(name: "Ann", email: "ann@example.com", role: .supervisor, teamIds: ["team_a"]).validated(creating: true)
        #expect(created.name == "Ann")
        #expect(created.role == .supervisor)
    }

    @Test("an agent cannot hold the integration role")
    func integrationRoleRefused() throws {
        let field = failingField { _ = try AgentDraft(name: "Bot", role: .integration).validated(creating: true) }
        #expect(field == "role")
        for role in Role.allCases where role != .integration {
            _ = try AgentDraft(name: "Ann", role: role).validated(creating: true)
        }
    }

    @Test("skills have a 1–64 character name and a level from 1 to 10")
    func skills() throws {
        _ = try AgentDraft(skills: [Skill(name: "billing", level: 1), Skill(name: "german", level: 10)]).validated(creating: false)
        for skill in [Skill(name: "billing", level: 0), Skill(name: "billing", level: 11), Skill(name: "", level: 5),
                      Skill(name: String(repeating: "s", count: 65), level: 5)] {
            let field = failingField { _ = try AgentDraft(skills: [skill]).validated(creating: false) }
            #expect(field == "skills", "\(skill)")
        }
    }

    @Test("capacity per channel is between 0 and 1000; at most 50 teams")
    func capacityAndTeams() throws {
        _ = try AgentDraft(capacity: [.email: 0, .webchat: 1000]).validated(creating: false)
        let negative = failingField { _ = try AgentDraft(capacity: [.sms: -1]).validated(creating: false) }
        #expect(negative == "capacity")
        let huge = failingField { _ = try AgentDraft(capacity: [.sms: 1001]).validated(creating: false) }
        #expect(huge == "capacity")
        let teams = failingField { _ = try AgentDraft(teamIds: (0...50).map { "team_\($0)" }).validated(creating: false) }
        #expect(teams == "teamIds")
    }

    @Test("a malformed email is rejected, under the field 'email'")
    func badEmail() {
        let field = failingField { _ = try AgentDraft(name: "Bo", email: "not-an-email").validated(creating: true) }
        #expect(field != nil)
        #expect(field == "email")
    }
}
