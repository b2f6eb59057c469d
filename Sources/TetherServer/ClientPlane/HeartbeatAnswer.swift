import Foundation
import NIOHTTP1
import TetherCore
import TetherProtocol

/// What `POST /v1/heartbeat` answers: a `pong` (200), or an error in the backend API's shape,
/// `{"error": {"code", "message", "requestId", "kick"?}}`. When the answer ends the client's use of its
/// token, `kick` is the reason a WebSocket or TCP client would get in its `kick` message (`badToken`,
/// `replaced`, `destroyed`, `left`, `expired`), so every transport tells the same story.
struct HeartbeatAnswer {
    /// The HTTP status.
    var status: HTTPResponseStatus
    /// The JSON body.
    var body: Data
    /// When the client should try again (also the `Retry-After` header, in whole seconds).
    var retryAfterMs: Millis? = nil

    /// A `pong` (or any 200 message).
    static func ok(_ message: ServerMessage) -> HeartbeatAnswer {
        HeartbeatAnswer(status: .ok, body: message.json)
    }

    /// An error in the API's shape.
    static func error(
        _ status: HTTPResponseStatus, _ code: String, _ message: String, requestId: String, kick: KickReason? = nil
    ) -> HeartbeatAnswer {
        let body = APIError.Body(
            error: .init(code: code, message: message, requestId: requestId, retryAfterMs: nil, kick: kick?.rawValue))
        return HeartbeatAnswer(status: status, body: (try? JSONEncoder().encode(body)) ?? Data())
    }

    /// Hellos are over the server's rate: this heartbeat did not attach the session; try again after
    /// `retryAfterMs`.
    static func busy(retryAfterMs: Millis, requestId: String) -> HeartbeatAnswer {
        let body = APIError.Body(
            error: .init(
                code: "RequestLimitExceeded", message: "the server is admitting reconnections at its pace; try again",
                requestId: requestId, retryAfterMs: retryAfterMs, kick: KickReason.busy.rawValue))
        return HeartbeatAnswer(
            status: .serviceUnavailable, body: (try? JSONEncoder().encode(body)) ?? Data(), retryAfterMs: retryAfterMs)
    }

    /// The answer that tells the client its token is done with, and why.
    static func kick(_ reason: KickReason, requestId: String) -> HeartbeatAnswer {
        switch reason {
        case .badToken:
            .error(
                .unauthorized, "AuthFailure", "the client token is forged, expired, or of an older epoch",
                requestId: requestId, kick: reason)
        case .shutdown:
            .error(
                .serviceUnavailable, "InternalError.ShuttingDown", "the server is stopping; heartbeat again shortly",
                requestId: requestId, kick: reason)
        case .originNotAllowed:
            .error(
                .forbidden, "UnauthorizedOperation.Origin", "this page's Origin may not connect to the project",
                requestId: requestId, kick: reason)
        case .replaced:
            .error(
                .conflict, "FailedOperation.SessionReplaced", "a newer epoch of the session took it over",
                requestId: requestId, kick: reason)
        default:
            .error(
                .gone, "FailedOperation.SessionEnded", "the session is over (\(reason.rawValue))", requestId: requestId,
                kick: reason)
        }
    }
}
