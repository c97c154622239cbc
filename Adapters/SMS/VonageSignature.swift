import Crypto
import Foundation
import HubCore

/// Vonage's signed webhooks: every parameter but `sig`, sorted by name, `&` and `=` in values
/// replaced by `_`, joined as `&name=value…`; then MD5 of that and the secret, or an HMAC under the secret.
public enum VonageSignature {
    public enum Method: String, Sendable, CaseIterable {
        case md5hash, md5, sha1, sha256, sha512
    }

    /// The lowercase hex signature of `parameters` (any `sig` among them is left out).
    public static func sign(_ parameters: [String: String], secret: String, method: Method) -> String {
        var base = ""
        for (name, value) in parameters.filter({ $0.key != "sig" }).sorted(by: { $0.key < $1.key }) {
            base += "&" + name + "=" + value.replacingOccurrences(of: "&", with: "_").replacingOccurrences(of: "=", with: "_")
        }
        let key = SymmetricKey(data: Data(secret.utf8))
        let message = Data(base.utf8)
        let digest: [UInt8] = switch method {
        case .md5hash: Array(Insecure.MD5.hash(data: Data((base + secret).utf8)))
        case .md5: Array(HMAC<Insecure.MD5>.authenticationCode(for: message, using: key))
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether the parameters carry a valid `sig` (compared case-insensitively, in constant time).
    public static func verify(_ parameters: [String: String], secret: String, method: Method) -> Bool {
        guard let signature = parameters["sig"] else { return false }
        return constantTimeEqual(sign(parameters, secret: secret, method: method), signature.lowercased())
    }
}
