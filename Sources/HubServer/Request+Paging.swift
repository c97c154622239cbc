import Foundation
import HTTPTypes
import HubCore
import Hummingbird

extension Request {
    /// `?limit=` and `?cursor=` of a list request.
    func pageRequest() throws -> PageRequest {
        try PageRequest.parse(limit: uri.queryParameters.get("limit"), cursor: uri.queryParameters.get("cursor"))
    }

    /// A whole number from the query string, within `range`; `default` when absent.
    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = uri.queryParameters.get(name) else { return value }
        guard let number = Int(raw), range.contains(number) else {
            throw ValidationError(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// An RFC 3339 timestamp from the query string.
    func date(_ name: String) throws -> Date? {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        guard let date = try? Date(raw.uppercased(), strategy: .iso8601) else { throw ValidationError(name, "'\(raw)' is not an RFC 3339 timestamp") }
        return date
    }

    /// A query parameter that must be one of an enum's raw values, when present.
    func query<T: RawRepresentable>(_ name: String, as type: T.Type) throws -> T? where T.RawValue == String {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        guard let value = T(rawValue: raw) else { throw ValidationError(name, "'\(raw)' is not a valid value") }
        return value
    }
}

/// A JSON answer with a status other than 200: 201 for what was created, 202 for accepted work.
struct WithStatus<Value: ResponseEncodable>: ResponseGenerator {
    let status: HTTPResponse.Status
    let value: Value

    static func created(_ value: Value) -> WithStatus { WithStatus(status: .created, value: value) }
    static func accepted(_ value: Value) -> WithStatus { WithStatus(status: .accepted, value: value) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try value.response(from: request, context: context)
        response.status = status
        return response
    }
}

extension Customer: ResponseEncodable {}
extension Identity: ResponseEncodable {}
extension Conversation: ResponseEncodable {}
extension Message: ResponseEncodable {}
extension Agent: ResponseEncodable {}
extension Team: ResponseEncodable {}
extension SMSSegments: ResponseEncodable {}
extension Page: ResponseEncodable {}
extension RoutingConfiguration: ResponseEncodable {}

/// A list without paging (teams, identities).
struct Items<Item: Encodable & Sendable>: ResponseEncodable {
    let items: [Item]
}
