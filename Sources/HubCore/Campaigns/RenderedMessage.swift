/// One customer's copy of a template on one channel: the subject and HTML are email's alone.
public struct RenderedMessage: Sendable, Equatable {
    public var subject: String?
    public var text: String
    public var html: String?
    /// The one-click unsubscribe link the copy was rendered with, for its `List-Unsubscribe` header.
    public var unsubscribeURL: String?

    public init(subject: String? = nil, text: String, html: String? = nil, unsubscribeURL: String? = nil) {
        self.subject = subject
        self.text = text
        self.html = html
        self.unsubscribeURL = unsubscribeURL
    }
}
