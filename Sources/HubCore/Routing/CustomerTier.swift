/// The value class of a customer: decides queue order and service level. Blocklisted customers are served last.
public enum CustomerTier: String, Codable, Sendable, CaseIterable {
    case vip, normal, low, blocklisted

    /// The place of the class in the queue: 0 is served first.
    public var rank: Int {
        switch self {
        case .vip: 0
        case .normal: 1
        case .low: 2
        case .blocklisted: 3
        }
    }

    /// The tier a stored value names; unknown or missing values count as normal.
    public init(stored: String?) {
        self = stored.flatMap(CustomerTier.init(rawValue:)) ?? .normal
    }
}
