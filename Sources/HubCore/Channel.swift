/// A way customers reach the center. Adapters add a case together with their adapter, never a string.
public enum Channel: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
    /// The generic API channel: any system injects messages with `POST /v1/inbound`.
    case api
    case email
    case sms
    case webchat
}
