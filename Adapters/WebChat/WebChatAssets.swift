import Foundation
import Hummingbird
import NIOCore

/// The files the hub serves for web chat: the widget script and the demo page.
public enum WebChatAssets {
    /// `GET /webchat/widget.js`.
    public static let widget = load("widget", "js", contentType: "text/javascript; charset=utf-8")
    /// `GET /`: a demo site with the widget and how to answer as an agent.
    public static let demoPage = load("demo", "html", contentType: "text/html; charset=utf-8")

    /// A static file kept in memory, answered with its type and a short cache lifetime.
    public struct File: Sendable, ResponseGenerator {
        let bytes: ByteBuffer
        let contentType: String

        public func response(from request: Request, context: some RequestContext) throws -> Response {
            Response(
                status: .ok,
                headers: [.contentType: contentType, .cacheControl: "public, max-age=300", .contentLength: String(bytes.readableBytes)],
                body: .init(byteBuffer: bytes)
            )
        }
    }

    private static func load(_ name: String, _ ext: String, contentType: String) -> File {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Assets"),
              let data = try? Data(contentsOf: url) else {
            preconditionFailure("the WebChatAdapter bundle lacks Assets/\(name).\(ext)")
        }
        return File(bytes: ByteBuffer(bytes: data), contentType: contentType)
    }
}
