import HubCore

/// Launching a campaign: what blocks it, then the launch. Shared by `POST /v1/campaigns/{id}/launch` and
/// `switchboard campaign launch`.
public struct CampaignLaunch: Sendable {
    let storage: any HubStorage
    let catalog: TemplateCatalog

    public init(storage: any HubStorage, catalog: TemplateCatalog) {
        self.storage = storage
        self.catalog = catalog
    }

    /// Checks a draft and launches it: `campaign_not_draft` (409), or `launch_blocked` (422) naming every problem.
    public func launch(id: String) async throws -> Campaign {
        let campaign = try await storage.campaign(id: id)
        guard campaign.state == .draft else {
            throw HubError.conflict("campaign_not_draft", "Only a draft can be launched; this campaign is \(campaign.state.rawValue).")
        }
        return try await launch(campaign, checked: try await check(campaign))
    }

    /// Launches a campaign `check` found nothing wrong with (else `launch_blocked`).
    public func launch(_ campaign: Campaign, checked: (audienceSize: Int, problems: [String])) async throws -> Campaign {
        guard checked.problems.isEmpty else {
            throw HubError.unprocessable("launch_blocked", "Cannot launch: " + checked.problems.joined(separator: "; "))
        }
        return try await storage.launchCampaign(id: campaign.id, audienceSize: checked.audienceSize)
    }

    /// What keeps a campaign from launching, each problem precise (file and line, how many recipients), and the
    /// audience's size: template problems, an empty audience, no variant for the campaign's channels, and a
    /// variable used outside a guarding section that recipients lack (an attribute, the name) or the campaign does (data).
    public func check(_ campaign: Campaign) async throws -> (audienceSize: Int, problems: [String]) {
        let (template, source) = try await catalog.template(named: campaign.template)
        var problems = await catalog.problems(of: template, source: source).map(\.description)
        let audience = try AudienceFilter.parse(campaign.audience)
        let size = try await storage.audienceCount(audience)
        if size == 0 { problems.append("the audience is empty") }
        guard problems.isEmpty else { return (size, problems) }
        let compiled = try await catalog.compiled(named: campaign.template)
        if let channels = campaign.channels, compiled.channels.isDisjoint(with: channels) {
            problems.append("the template has no variant for \(channels.map(\.rawValue).joined(separator: ", "))")
        }
        var checked = Set<String>()
        for use in compiled.unguardedUses(of: nil) where checked.insert(use.name).inserted {
            let parts = use.name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let field: AudienceField
            switch parts[0] {
            case "attributes": field = .attribute(parts[1])
            case "customer" where parts[1] == "name" || parts[1] == "firstName": field = .name
            case "data":
                if (campaign.data[parts[1]] ?? "").isEmpty { problems.append("\(use.name) (\(use.file):\(use.line)) has no value in the campaign's data") }
                continue
            default: continue
            }
            let lacking = try await storage.audienceCount(.and([audience, .not(.compare(field, .notEqual, .string("")))]))
            if lacking > 0 {
                problems.append("\(use.name) (\(use.file):\(use.line)) is missing for \(lacking) of \(size) recipients; "
                                + "guard it with {{#\(use.name)}}…{{/\(use.name)}} or narrow the audience")
            }
        }
        return (size, problems)
    }
}
