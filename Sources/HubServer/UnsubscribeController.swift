import Foundation
import HubCore
import Hummingbird

/// `/u/{token}`: a campaign message's unsubscribe link. GET shows what will happen and asks to confirm; POST
/// unsubscribes at once, without a redirect (RFC 8058: mail clients POST `List-Unsubscribe=One-Click`). The
/// address the message went to is opted out of marketing in the consent ledger, counted for the campaign.
struct UnsubscribeController: Sendable {
    let storage: any HubStorage
    let links: CampaignLinks

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("u/:token") { _, context -> Response in
            guard let messageId = links.messageId(token: try context.parameters.require("token")),
                  let recipient = try await storage.campaignRecipient(messageId: messageId), let address = recipient.address else { return Self.notFound }
            let text = try await strings(for: recipient.customerId)
            let body = recipient.unsubscribedAt == nil
                ? "<p>\(text.confirm(HTMLPage.escaped(address)))</p><form method=\"post\"><button type=\"submit\">\(text.button)</button></form>"
                : "<p class=\"notice\" role=\"status\">\(text.done(HTMLPage.escaped(address)))</p>"
            return Self.page(text, body)
        }
        router.post("u/:token") { _, context -> Response in
            guard let messageId = links.messageId(token: try context.parameters.require("token")),
                  try await storage.campaignRecipient(messageId: messageId) != nil else { return Self.notFound }
            let recipient = try await storage.unsubscribe(messageId: messageId)
            let text = try await strings(for: recipient.customerId)
            return Self.page(text, "<p class=\"notice\" role=\"status\">\(text.done(HTMLPage.escaped(recipient.address ?? "")))</p>")
        }
    }

    /// The page's words in the customer's language (Chinese or English).
    private func strings(for customerId: String) async throws -> Strings {
        let locale = (try? await storage.customer(id: customerId))?.locale?.lowercased() ?? ""
        return locale.hasPrefix("zh") ? .chinese : .english
    }

    struct Strings: Sendable {
        var lang: String
        var title: String
        var confirm: @Sendable (String) -> String
        var button: String
        var done: @Sendable (String) -> String

        static let english = Strings(
            lang: "en", title: "Unsubscribe",
            confirm: { "Stop sending news and offers to <strong>\($0)</strong>? Replies to your questions still reach you." },
            button: "Unsubscribe",
            done: { "Done: <strong>\($0)</strong> will receive no more news or offers from us." }
        )
        static let chinese = Strings(
            lang: "zh", title: "退订",
            confirm: { "不再向 <strong>\($0)</strong> 发送资讯和优惠？我们对您问题的回复不受影响。" },
            button: "退订",
            done: { "已退订：<strong>\($0)</strong> 将不再收到我们的资讯和优惠。" }
        )
    }

    private static func page(_ text: Strings, _ body: String) -> Response {
        HTMLPage.response(lang: text.lang, title: text.title, body: body)
    }

    private static let notFound = HTMLPage.notValid("Please use the link in our latest message.")
}
