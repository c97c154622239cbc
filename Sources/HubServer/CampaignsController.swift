import EmailAdapter
import Foundation
import HubCore
import Hummingbird

/// Templates (`/v1/templates`), audiences (`/v1/audiences/preview`) and campaigns (`/v1/campaigns`): what marketing
/// sends, to whom, and how it goes. Everything here needs the `manageCampaigns` permission.
public struct CampaignsController: Sendable {
    let storage: any HubStorage
    let catalog: TemplateCatalog
    let runner: CampaignRunner
    /// What one SMS segment costs, for the estimate in a preview.
    let smsSegmentPrice: Double
    let currency: String

    struct TemplateSummary: ResponseEncodable {
        var name: String
        var description: String?
        var source: TemplateSource
        var locales: [String]
        var channels: [Channel]
        var variables: [String]
        /// What keeps it from launching, by file and line; empty when it can.
        var problems: [String]
    }

    struct TemplateDetail: ResponseEncodable {
        var template: MessageTemplate
        var source: TemplateSource
        var problems: [String]
    }

    /// A template as `PUT /v1/templates/{name}` takes it: the name is the path's.
    struct TemplateBody: Decodable {
        var description: String?
        var variables: [String]?
        var defaultLocale: String?
        var locales: [String: TemplateContent]
    }

    struct PreviewRequest: Decodable {
        var customerId: String
        var data: [String: String]?
    }

    struct ChannelPreview: Encodable, Sendable {
        var subject: String?
        var text: String
        var html: String?
        /// Email: the whole message's size as sent (headers and MIME parts).
        var bytes: Int?
        /// SMS: encoding, characters and segments.
        var segments: SMSSegments?
        var estimatedCost: Double?
        var currency: String?
    }

    struct TemplatePreview: ResponseEncodable {
        var template: String
        var customerId: String
        var locale: String
        var channels: [String: ChannelPreview]
    }

    struct AudienceRequest: Decodable {
        var audience: String
    }

    struct AudiencePreview: ResponseEncodable {
        /// The filter as the hub reads it.
        var audience: String
        var count: Int
        var sample: [Customer]
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("templates") { _, context -> Items<TemplateSummary> in
            _ = try context.require(.manageCampaigns)
            var items: [TemplateSummary] = []
            for (template, source) in try await catalog.all() {
                let locale = template.locales[template.defaultLocale]
                items.append(TemplateSummary(
                    name: template.name, description: template.description, source: source, locales: template.locales.keys.sorted(),
                    channels: Channel.allCases.filter { channel in TemplatePart.allCases.contains { $0.channel == channel && locale?[$0] != nil } },
                    variables: template.variables,
                    problems: await catalog.problems(of: template, source: source).map(\.description)
                ))
            }
            return Items(items: items)
        }
        group.get("templates/:name") { _, context -> TemplateDetail in
            _ = try context.require(.manageCampaigns)
            let (template, source) = try await catalog.template(named: try context.parameters.require("name"))
            return TemplateDetail(template: template, source: source, problems: await catalog.problems(of: template, source: source).map(\.description))
        }
        group.put("templates/:name") { request, context -> TemplateDetail in
            _ = try context.require(.manageCampaigns)
            let body = try await context.requestDecoder.decode(TemplateBody.self, from: request, context: context)
            let template = MessageTemplate(name: try context.parameters.require("name"), description: body.description,
                                           variables: body.variables ?? [], defaultLocale: body.defaultLocale ?? "en", locales: body.locales)
            try await catalog.store(template)
            return TemplateDetail(template: template, source: .api, problems: [])
        }
        group.delete("templates/:name") { _, context -> HTTPResponse.Status in
            _ = try context.require(.manageCampaigns)
            try await catalog.delete(named: try context.parameters.require("name"))
            return .noContent
        }
        group.post("templates/:name/preview") { request, context -> TemplatePreview in
            _ = try context.require(.manageCampaigns)
            let body = try await context.requestDecoder.decode(PreviewRequest.self, from: request, context: context)
            let name = try context.parameters.require("name")
            let template = try await catalog.compiled(named: name)
            let customer = try await storage.customer(id: body.customerId)
            let campaign = Campaign(id: "cmp_preview", draft: CampaignDraft(name: "preview", template: name, data: body.data), createdAt: Date())
            let values = runner.values(customer, campaign: campaign, messageId: "msg_preview")
            var channels: [String: ChannelPreview] = [:]
            for channel in template.channels.sorted(by: { $0.rawValue < $1.rawValue }) {
                guard let rendered = template.render(channel, values: values) else { continue }
                channels[channel.rawValue] = preview(rendered, channel: channel)
            }
            return TemplatePreview(template: name, customerId: customer.id, locale: template.locale(for: customer.locale), channels: channels)
        }
        group.post("audiences/preview") { request, context -> AudiencePreview in
            _ = try context.require(.manageCampaigns)
            let body = try await context.requestDecoder.decode(AudienceRequest.self, from: request, context: context)
            let filter = try AudienceFilter.parse(body.audience)
            return AudiencePreview(audience: filter.description, count: try await storage.audienceCount(filter),
                                   sample: try await storage.audienceSample(filter, limit: 10))
        }
        group.post("campaigns") { request, context -> WithStatus<Campaign> in
            _ = try context.require(.manageCampaigns)
            let draft = try await context.requestDecoder.decode(CampaignDraft.self, from: request, context: context)
            _ = try await catalog.template(named: draft.template)
            return .created(try await storage.createCampaign(draft))
        }
        group.get("campaigns") { request, context -> Page<Campaign> in
            _ = try context.require(.manageCampaigns)
            return try await storage.campaigns(try request.pageRequest())
        }
        group.get("campaigns/:id") { _, context -> Campaign in
            _ = try context.require(.manageCampaigns)
            return try await storage.campaign(id: try context.parameters.require("id"))
        }
        group.post("campaigns/:id/launch") { _, context -> WithStatus<Campaign> in
            _ = try context.require(.manageCampaigns)
            return .accepted(try await CampaignLaunch(storage: storage, catalog: catalog).launch(id: try context.parameters.require("id")))
        }
        for command in CampaignCommand.allCases {
            group.post("campaigns/:id/\(command.rawValue)") { _, context -> Campaign in
                _ = try context.require(.manageCampaigns)
                return try await storage.controlCampaign(id: try context.parameters.require("id"), command, defaultTimeZone: runner.defaultTimeZone)
            }
        }
        group.get("campaigns/:id/stats") { _, context -> CampaignStats in
            _ = try context.require(.manageCampaigns)
            return try await storage.campaignStats(id: try context.parameters.require("id"))
        }
        group.get("campaigns/:id/recipients") { request, context -> Page<CampaignRecipient> in
            _ = try context.require(.manageCampaigns)
            return try await storage.campaignRecipients(id: try context.parameters.require("id"),
                                                        outcome: try request.query("outcome", as: RecipientOutcome.self), try request.pageRequest())
        }
    }

    private func preview(_ rendered: RenderedMessage, channel: Channel) -> ChannelPreview {
        var preview = ChannelPreview(subject: rendered.subject, text: rendered.text, html: rendered.html)
        switch channel {
        case .email:
            let email = OutgoingEmail(from: MailAddress(address: "preview@localhost"), to: [MailAddress(address: "customer@localhost")],
                                      subject: rendered.subject ?? "", messageId: "preview@localhost", date: Date(),
                                      text: rendered.text, html: rendered.html, listUnsubscribe: ("https://localhost/u/preview", nil))
            preview.bytes = MIMEBuilder.build(email).count
        case .sms:
            let segments = SMSSegments(rendered.text)
            preview.segments = segments
            preview.estimatedCost = (Double(segments.segments) * smsSegmentPrice * 10_000).rounded() / 10_000
            preview.currency = currency
        default:
            break
        }
        return preview
    }
}

extension Campaign: ResponseEncodable {}
extension CampaignStats: ResponseEncodable {}
