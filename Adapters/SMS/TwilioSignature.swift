import Crypto
import Foundation
import HubCore

/// `X-Twilio-Signature`: base64 HMAC-SHA1 under the auth token of the URL Twilio called followed by
/// every POST parameter, sorted by name (and by value within a name), as name then value.
public enum TwilioSignature {
    /// The signature of a request to `url` with form `parameters`.
    public static func sign(authToken: String, url: String, parameters: [(String, String)]) -> String {
        var message = url
        // Each name once, with its distinct values sorted, as Twilio's own libraries build it.
        let values = Dictionary(grouping: parameters, by: \.0).mapValues { Set($0.map(\.1)).sorted() }
        for name in values.keys.sorted() {
            for value in values[name]! { message += name + value }
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Whether `signature` signs this request. The URL is tried as given and with the default port
    /// added or removed, because proxies rewrite it; a JSON body is checked against `bodySHA256`.
    public static func verify(_ signature: String, authToken: String, url: String, parameters: [(String, String)], rawBody: [UInt8]? = nil) -> Bool {
        var parameters = parameters
        if let rawBody, let components = URLComponents(string: url),
           let expected = components.queryItems?.first(where: { $0.name == "bodySHA256" })?.value {
            guard constantTimeEqual(SHA256.hash(data: rawBody).map { String(format: "%02x", $0) }.joined(), expected.lowercased()) else { return false }
            parameters = []
        }
        return urlVariants(url).contains { constantTimeEqual(sign(authToken: authToken, url: $0, parameters: parameters), signature) }
    }

    /// The URL as called, with the scheme's default port, and without it.
    static func urlVariants(_ url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else { return [url] }
        let defaultPort = scheme == "https" ? 443 : 80
        var variants = [url]
        if components.port == defaultPort {
            components.port = nil
            if let bare = components.string { variants.append(bare) }
        } else if components.port == nil {
            components.port = defaultPort
            if let withPort = components.string { variants.append(withPort) }
        }
        return variants
    }
}
