import Foundation
import HTTPTypes
import Hummingbird
import TetherCore

/// An error answered with the contract's shape: `{"error": {"code", "message", "requestId"}}`.
///
/// Every error that leaves a route becomes one of these (see ``APIErrorMiddleware``), so no error is ever
/// an empty 500.
public struct APIError: Error, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The contract's code (CAR's where CAR has one).
    public var code: String
    /// A message for people; for validation errors it starts with the field's name.
    public var message: String
    /// For `ResourceNotFound.NoIdle` and `InternalError.ShuttingDown`: when to try again.
    public var retryAfterMs: Millis?
    /// For 405: the methods the path serves (the `Allow` header).
    var allow: String?

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, message: String, retryAfterMs: Millis? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterMs = retryAfterMs
    }

    /// A missing or malformed field (`InvalidParameter`).
    public static func invalidParameter(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "InvalidParameter", message: "\(field): \(message)")
    }

    /// A field whose value is out of range or of the wrong kind (`InvalidParameterValue`).
    public static func invalidValue(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "InvalidParameterValue", message: "\(field): \(message)")
    }

    /// A missing or wrong API key.
    public static let authFailure = APIError(
        .unauthorized, code: "AuthFailure", message: "missing or wrong API key (Authorization: Bearer <key>)")

    /// The broker's refusal, with the contract's status and code.
    public init(_ error: BrokerError) {
        let status: HTTPResponse.Status =
            switch error {
            case .invalidParameter: .badRequest
            case .projectNotFound, .sessionNotFound, .ticketNotFound: .notFound
            case .projectExists, .lockTimeout, .fenced: .conflict
            case .noIdle, .queueFull: .tooManyRequests
            case .badToken: .unauthorized
            case .originNotAllowed: .forbidden
            case .stopping: .serviceUnavailable
            }
        var retry: Millis? = nil
        if case .noIdle(let ms) = error { retry = ms }
        if case .stopping(let ms) = error { retry = ms }
        self.init(status, code: error.code, message: error.message, retryAfterMs: retry)
    }

    /// A key operation's refusal, with the contract's status and code.
    public init(_ error: KeyError) {
        let status: HTTPResponse.Status =
            switch error {
            case .invalidParameter: .badRequest
            case .projectNotFound, .keyNotFound: .notFound
            case .lastAdminKey: .conflict
            case .adminOnly: .forbidden
            }
        self.init(status, code: error.code, message: error.message)
    }

    /// The JSON body.
    struct Body: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
            var requestId: String
            var retryAfterMs: Millis?
            /// Client plane only: the kick reason of an HTTP heartbeat's refusal (``HeartbeatAnswer``).
            var kick: String? = nil
        }
        var error: Inner
    }

    /// Renders the error for a request.
    func response(requestId: String) -> Response {
        let body = Body(error: .init(code: code, message: message, requestId: requestId, retryAfterMs: retryAfterMs))
        let data = (try? JSONEncoder().encode(body)) ?? Data(#"{"error":{"code":"InternalError"}}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfterMs {
            headers[.retryAfter] = String(max(1, (retryAfterMs + 999) / 1000))
        }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
