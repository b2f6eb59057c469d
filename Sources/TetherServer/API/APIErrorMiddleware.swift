import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TetherCore

/// Gives every response an `X-Request-Id` and turns every error into the contract's error shape.
///
/// Bodies over the limit are refused before they are read when `Content-Length` says so, and while they
/// are read otherwise.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = TetherRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        // A call forwarded by another node of the cluster keeps the id that node gave it.
        if request.headers[ForwardingMiddleware.forwardedBy] != nil, let id = request.headers[.requestId],
            (1...64).contains(id.utf8.count), id.allSatisfy(\.isHexDigit)
        {
            context.requestId = id
        }
        var response: Response
        do {
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > APILimits.maxBodyBytes {
                throw Self.tooLarge
            }
            response = try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status.code >= 500 {
                context.logger.error(
                    "request failed", metadata: ["error": "\(error)", "requestId": "\(context.requestId)"])
            }
            response = apiError.response(requestId: context.requestId)
        }
        response.headers[.requestId] = context.requestId
        return response
    }

    static let tooLarge = APIError(
        .contentTooLarge, code: "InvalidParameter.BodyTooLarge",
        message: "body: larger than \(APILimits.maxBodyBytes) bytes")

    /// Maps any error to the contract's codes.
    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as BrokerError: return APIError(e)
        case let e as KeyError: return APIError(e)
        case is StoreUnavailable:
            return APIError(.serviceUnavailable, code: "InternalError.Store", message: "the store could not commit")
        case is NIOTooManyBytesError: return tooLarge
        case let e as HTTPError:
            switch e.status {
            case .notFound: return APIError(.notFound, code: "ResourceNotFound", message: "no such route")
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, code: "UnsupportedOperation", message: "method not allowed here")
            case .contentTooLarge: return tooLarge
            default:
                if e.status.code < 500 {
                    return APIError(e.status, code: "InvalidParameter", message: e.body ?? e.status.reasonPhrase)
                }
                return APIError(.internalServerError, code: "InternalError", message: e.body ?? "internal error")
            }
        default:
            return APIError(.internalServerError, code: "InternalError", message: "internal error")
        }
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    static let requestId = HTTPField.Name("X-Request-Id")!
}
