import Foundation
import HTTPTypes
import HubCore
import Hummingbird
import NIOCore

/// Every error the API answers, in one JSON shape: `{"error": {"code": "…", "message": "…"}}`.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Extra response headers, such as `Retry-After`.
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static let unauthorized = APIError(.unauthorized, code: "unauthorized", message: "A valid bearer token is required.")
    static func forbidden(_ permission: Permission) -> APIError {
        APIError(.forbidden, code: "forbidden", message: "This token's role may not \(permission.rawValue).")
    }
    static func invalid(_ field: String, _ reason: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_\(field.snakeCased)", message: "\(field) \(reason).")
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(Body(error: .init(code: code, message: message)))
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(data.count)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The API's answer for any error thrown while handling a request.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as ValidationError:
            return .invalid(error.field, error.reason)
        case let error as HubError:
            switch error.category {
            case .notFound: return APIError(.notFound, code: error.code, message: error.message)
            case .conflict: return APIError(.conflict, code: error.code, message: error.message)
            case .unprocessable: return APIError(.unprocessableContent, code: error.code, message: error.message)
            case .unauthenticated: return APIError(.unauthorized, code: error.code, message: error.message)
            case .forbidden: return APIError(.forbidden, code: error.code, message: error.message)
            case .rateLimited(let seconds):
                return APIError(.tooManyRequests, code: error.code, message: error.message, headers: [.retryAfter: String(seconds)])
            }
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, code: "body_too_large", message: "The request body is larger than this endpoint accepts.")
        // Bodies are decoded with `context.requestDecoder` directly: `Request.decode(as:)` would turn
        // this error into a 400 naming Swift types, which a client cannot act on.
        case let error as DecodingError:
            return APIError(.badRequest, code: "invalid_body", message: error.readableDescription)
        case let error as HTTPError:
            let code: String
            switch error.status.code {
            case 400: code = "bad_request"
            case 404: code = "not_found"
            case 405: code = "method_not_allowed"
            case 413: code = "body_too_large"
            default: code = error.status.reasonPhrase.lowercased().snakeCased
            }
            return APIError(error.status, code: code, message: error.body ?? "\(error.status.reasonPhrase).", headers: error.headers)
        default:
            return nil
        }
    }
}

extension DecodingError {
    /// Which field was wrong and how, without Swift type names where a client would not know them.
    var readableDescription: String {
        func path(_ context: Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the body" : path
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : path(context) + "."
            return "Missing field \(parent)\(key.stringValue)."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "Field \(path(context)) has the wrong type."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON." : "Field \(path(context)) has an invalid value."
        @unknown default:
            return "The body could not be decoded."
        }
    }
}

extension String {
    var snakeCased: String {
        var out = ""
        for character in self {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(Character(character.lowercased()))
            } else if character == " " || character == "-" {
                out.append("_")
            } else {
                out.append(character)
            }
        }
        return out
    }
}
