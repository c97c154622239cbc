import HubCore
import Hummingbird
import Logging

/// Turns every error into the API's one JSON error shape; unexpected ones are logged and answered 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let apiError = APIError.from(error) {
                return try apiError.response(from: request, context: context)
            }
            context.logger.error("unhandled error", metadata: ["sb.error": "\(String(reflecting: error))"])
            return try APIError(.internalServerError, code: "internal_error", message: "Something went wrong on our side.")
                .response(from: request, context: context)
        }
    }
}
