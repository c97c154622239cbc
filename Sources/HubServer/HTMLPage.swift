import Hummingbird

/// The hub's few pages for customers (preferences, unsubscribe): one plain, readable shell, never cached.
enum HTMLPage {
    static func response(lang: String = "en", title: String, body: String, status: HTTPResponse.Status = .ok) -> Response {
        let html = """
            <!doctype html>
            <html lang="\(lang)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escaped(title))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
            label{display:block;margin:.4rem 0}fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}
            .notice{background:#e8f5e9;padding:.6rem 1rem;border-radius:6px}button{padding:.5rem 1rem}</style></head>
            <body><h1>\(escaped(title))</h1>
            \(body)
            </body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A link the hub did not sign, or one that no longer leads anywhere.
    static func notValid(_ advice: String) -> Response {
        response(title: "Link not valid", body: "<p>This link is not valid. \(escaped(advice))</p>", status: .notFound)
    }

    /// Text safe inside HTML and attribute values.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
