import Foundation
import TetherCore
import TetherProtocol

/// The body of ApplyConcurrent.
struct ApplyBody: Decodable, Sendable {
    var userId: String
    var userIp: String?
}

/// The body of CreateSession. `parameters` is any JSON value, kept as given.
struct CreateSessionBody: Decodable, Sendable {
    var userId: String
    var userIp: String?
    var clientSession: String?
    var runMode: String?
    var parameters: JSONValue?
}

/// CreateSession's answer: what the backend hands to its client.
struct CreatedSessionDTO: Encodable, Sendable {
    struct Connect: Encodable, Sendable {
        var websocket: String
        var tcp: String?
        var http: String
    }
    var sessionId: String
    var userId: String
    var concurrencyId: String
    var epoch: UInt64
    var state: SessionState
    var clientToken: String
    var connect: Connect
    var heartbeat: ProjectDTO.Heartbeat
    var reconnectGraceMs: Millis
}

/// Connection quality measured from a session's heartbeats (filled by the client plane).
struct SessionStatsDTO: Codable, Sendable {
    struct Percentiles: Codable, Sendable {
        var p50: Double?
        var p99: Double?
    }
    var rttMs: Percentiles
    var jitterMs: Double?
    var lossRate: Double?
    var heartbeats: UInt64

    static let empty = SessionStatsDTO(rttMs: .init(p50: nil, p99: nil), jitterMs: nil, lossRate: nil, heartbeats: 0)
}

/// A session as the API shows it (never its resume token).
struct SessionDTO: Encodable, Sendable {
    var sessionId: String
    var projectId: String
    var userId: String
    var concurrencyId: String
    var epoch: UInt64
    var state: SessionState
    var endReason: EndReason?
    var lastCause: DisconnectCause?
    var deadlineAt: Millis?
    var createdAt: Millis
    var updatedAt: Millis
    var endedAt: Millis?
    var lastHeartbeatAt: Millis?
    var transport: Transport?
    var userIp: String?
    var clientSession: String?
    var runMode: String?
    var parameters: JSONValue?
    var history: [HistoryEntry]
    var stats: SessionStatsDTO

    init(_ s: Session, stats: SessionStatsDTO = .empty) {
        sessionId = s.id
        projectId = s.projectId
        userId = s.userId
        concurrencyId = s.concurrencyId
        epoch = s.epoch
        state = s.state
        endReason = s.endReason
        lastCause = s.lastCause
        deadlineAt = s.deadlineAt
        createdAt = s.createdAt
        updatedAt = s.updatedAt
        endedAt = s.endedAt
        lastHeartbeatAt = s.lastHeartbeatAt
        transport = s.transport
        userIp = s.metadata.userIp
        clientSession = s.metadata.clientSession
        runMode = s.metadata.runMode
        parameters = s.metadata.parameters.flatMap { try? StrictJSONDecoder().decode(JSONValue.self, from: $0.utf8) }
        history = s.history
        self.stats = stats
    }
}

/// `GET /v1/projects/{projectId}/sessions`.
struct SessionListDTO: Encodable, Sendable {
    var sessions: [SessionDTO]
}

/// `GET /v1/events`.
struct EventListDTO: Encodable, Sendable {
    var events: [Event]
    /// The cursor to pass as `after` next time.
    var nextCursor: UInt64
}
