import GRDB
import TetherCore
import TetherProtocol

/// A session as a row of `sessions`: one column per field. Two columns hold JSON: `history`, the session's
/// bounded list of recent transitions (an array, read back by ``HistoryEntry/readArray(_:)``), and
/// `parameters`, the customer's JSON as given at CreateSession. A PostgreSQL store keeps the same columns
/// (`jsonb` for those two).
struct SessionRecord: ColumnRecord {
    static let databaseTableName = "sessions"

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = [
        "id", "project_id", "user_id", "concurrency_id", "epoch", "state", "end_reason", "last_cause",
        "deadline_at", "created_at", "updated_at", "ended_at", "last_heartbeat_at", "connection", "transport",
        "ever_connected", "resume_token_hash", "previous_resume_token_hash", "previous_resume_token_until", "seq",
        "user_ip", "client_session", "run_mode", "parameters", "history",
    ]

    static let primaryKey = ["id"]

    /// The session.
    var session: Session

    init(_ session: Session) {
        self.session = session
    }

    init(row: Row) throws {
        var s = Session(
            id: try row.decode(atIndex: 0), projectId: try row.decode(atIndex: 1), userId: try row.decode(atIndex: 2),
            concurrencyId: try row.decode(atIndex: 3), epoch: try row.decodeUnsigned(atIndex: 4),
            state: try row.decodeRaw(SessionState.self, atIndex: 5), createdAt: try row.decode(atIndex: 9))
        s.endReason = try row.decodeRawIfPresent(EndReason.self, atIndex: 6)
        s.lastCause = try row.decodeRawIfPresent(DisconnectCause.self, atIndex: 7)
        s.deadlineAt = try row.decode(atIndex: 8)
        s.updatedAt = try row.decode(atIndex: 10)
        s.endedAt = try row.decode(atIndex: 11)
        s.lastHeartbeatAt = try row.decode(atIndex: 12)
        s.connection = try row.decodeUnsignedIfPresent(atIndex: 13)
        s.transport = try row.decodeRawIfPresent(Transport.self, atIndex: 14)
        s.everConnected = try row.decode(atIndex: 15)
        s.resumeTokenHash = try row.decode(atIndex: 16)
        s.previousResumeTokenHash = try row.decode(atIndex: 17)
        s.previousResumeTokenUntil = try row.decode(atIndex: 18)
        s.seq = try row.decodeUnsigned(atIndex: 19)
        s.metadata = SessionMetadata(
            userIp: try row.decode(atIndex: 20), clientSession: try row.decode(atIndex: 21),
            runMode: try row.decode(atIndex: 22), parameters: try row.decode(atIndex: 23))
        s.history = try Self.history(from: try row.decode(atIndex: 24))
        session = s
    }

    func databaseValues() throws -> [DatabaseValue] {
        let s = session
        return [
            s.id.databaseValue,  // id
            s.projectId.databaseValue,  // project_id
            s.userId.databaseValue,  // user_id
            s.concurrencyId.databaseValue,  // concurrency_id
            try signedColumn(s.epoch, "epoch").databaseValue,  // epoch
            s.state.rawValue.databaseValue,  // state
            (s.endReason?.rawValue).databaseValueOrNull,  // end_reason
            (s.lastCause?.rawValue).databaseValueOrNull,  // last_cause
            s.deadlineAt.databaseValueOrNull,  // deadline_at
            s.createdAt.databaseValue,  // created_at
            s.updatedAt.databaseValue,  // updated_at
            s.endedAt.databaseValueOrNull,  // ended_at
            s.lastHeartbeatAt.databaseValueOrNull,  // last_heartbeat_at
            try optionalSignedColumn(s.connection, "connection").databaseValueOrNull,  // connection
            (s.transport?.rawValue).databaseValueOrNull,  // transport
            s.everConnected.databaseValue,  // ever_connected
            s.resumeTokenHash.databaseValueOrNull,  // resume_token_hash
            s.previousResumeTokenHash.databaseValueOrNull,  // previous_resume_token_hash
            s.previousResumeTokenUntil.databaseValueOrNull,  // previous_resume_token_until
            try signedColumn(s.seq, "seq").databaseValue,  // seq
            s.metadata.userIp.databaseValueOrNull,  // user_ip
            s.metadata.clientSession.databaseValueOrNull,  // client_session
            s.metadata.runMode.databaseValueOrNull,  // run_mode
            s.metadata.parameters.databaseValueOrNull,  // parameters
            Self.historyJSON(s.history).databaseValue,  // history
        ]
    }

    /// The `history` column: a JSON array of `{at, type, state, epoch, cause?, reason?}`.
    static func historyJSON(_ history: [HistoryEntry]) -> String {
        var w = JSONWriter(capacity: 64 + history.count * 96)
        w.beginArray()
        for entry in history { entry.writeJSON(into: &w) }
        w.endArray()
        return w.text
    }

    /// The history from its column; anything the fast reader does not expect goes to the strict decoder.
    static func history(from json: String) throws -> [HistoryEntry] {
        var json = json
        if let entries = json.withUTF8({ bytes -> [HistoryEntry]? in
            var reader = JSONReader(bytes)
            guard let entries = HistoryEntry.readArray(&reader), reader.atEnd() else { return nil }
            return entries
        }) {
            return entries
        }
        do {
            return try RecordCoding.decode([HistoryEntry].self, from: json)
        } catch {
            throw StoreError.corruptRecord("history: \(error)")
        }
    }
}
