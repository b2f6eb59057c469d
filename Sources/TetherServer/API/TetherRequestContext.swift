import Foundation
import Hummingbird
import Logging
import NIOCore
import TetherCore

/// The request context of the backend API: a request id and the body limit.
public struct TetherRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The id echoed in `X-Request-Id` and in every error body.
    public var requestId: String
    /// What the request's API key may see and change (set by ``APIKeyMiddleware``; nothing before it).
    public var scope: KeyScope = .projects([])
    /// The id of the request's API key, once authenticated.
    public var keyId: String?
    /// The request's connection (for its peer's address, read only when a change is audited).
    private let channel: (any Channel)?

    /// Creates the context of a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.requestId = Self.makeRequestID()
        // The request's debug lines (Hummingbird's, LogRequestsMiddleware's) carry the id the client sees in
        // `X-Request-Id`. Setting metadata re-renders the handler's metadata text (swift-log's
        // StreamLogHandler), ~3 % of a request's CPU, so only when debug lines are written; the one line logged
        // above debug (APIErrorMiddleware's, for a 5xx) names the id itself.
        if logger.logLevel <= .debug { self.logger[metadataKey: "requestId"] = .string(requestId) }
    }

    /// Request bodies are RFC 8259 JSON read strictly (``StrictRequestDecoder``).
    public var requestDecoder: some RequestDecoder { StrictRequestDecoder() }

    /// Response bodies are written by `JSONWriter` where they can be (``TetherResponseEncoder``).
    public var responseEncoder: some ResponseEncoder { TetherResponseEncoder() }

    /// Bodies over 64 KiB are refused with `InvalidParameter.BodyTooLarge`.
    public var maxUploadSize: Int { APILimits.maxBodyBytes }

    static func makeRequestID() -> String {
        var rng = SystemRandomNumberGenerator()
        var words = (rng.next() as UInt64, rng.next() as UInt64)
        return withUnsafeBytes(of: &words) { Secrets.hex($0) }
    }
}

/// Limits of the backend API.
public enum APILimits {
    /// The largest request body accepted.
    public static let maxBodyBytes = 64 * 1024
}

extension TetherRequestContext {
    /// A path parameter, percent-decoded (the router leaves them encoded).
    func path(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        return raw.removingPercentEncoding ?? raw
    }

    /// The path's `projectId`, if this request's key sees that project; a project it does not see is a 404, as
    /// if it did not exist.
    func project() throws -> ProjectID {
        let id = try path("projectId")
        guard scope.sees(id) else { throw BrokerError.projectNotFound(id) }
        return id
    }

    /// The address of the request's peer (`unknown` when the connection has none, as in some tests).
    var sourceIp: String { channel?.remoteAddress?.ipAddress ?? "unknown" }

    /// The audit record of a change this request makes at `at` (``AuditRecord``).
    func audit(_ action: AuditRecord.Action, _ target: String, at: Millis) -> AuditRecord {
        AuditRecord(
            at: at, keyId: keyId ?? "", action: action, target: target, requestId: requestId, sourceIp: sourceIp)
    }

    /// Refuses a request whose key is not an admin key (403 `UnauthorizedOperation`).
    func requireAdmin(_ what: String) throws {
        guard scope.isAdmin else { throw KeyError.adminOnly(what) }
    }
}
