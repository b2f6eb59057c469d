import GRDB
import TetherCore
import TetherProtocol

/// A session as a row of `sessions`: one column per field. Two columns hold JSON: `history`, the session's
/// bounded list of recent transitions (an array, read back by ``HistoryEntry/readArray(_:)``), and
/// `parameters`, the customer's JSON as given at CreateSession. A PostgreSQL store keeps the same columns
/// (`text` for those two: they come back byte for byte).
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

    init(columns row: some ColumnRow) throws {
        var s = Session(
            id: try row.requiredText(at: 0), projectId: try row.requiredText(at: 1),
            userId: try row.requiredText(at: 2), concurrencyId: try row.requiredText(at: 3),
            epoch: try row.unsigned(at: 4), state: try row.raw(SessionState.self, at: 5),
            createdAt: try row.requiredInteger(at: 9))
        s.endReason = try row.rawIfPresent(EndReason.self, at: 6)
        s.lastCause = try row.rawIfPresent(DisconnectCause.self, at: 7)
        s.deadlineAt = try row.integer(at: 8)
        s.updatedAt = try row.requiredInteger(at: 10)
        s.endedAt = try row.integer(at: 11)
        s.lastHeartbeatAt = try row.integer(at: 12)
        s.connection = try row.unsignedIfPresent(at: 13)
        s.transport = try row.rawIfPresent(Transport.self, at: 14)
        s.everConnected = try row.requiredBoolean(at: 15)
        s.resumeTokenHash = try row.text(at: 16)
        s.previousResumeTokenHash = try row.text(at: 17)
        s.previousResumeTokenUntil = try row.integer(at: 18)
        s.seq = try row.unsigned(at: 19)
        s.metadata = SessionMetadata(
            userIp: try row.text(at: 20), clientSession: try row.text(at: 21), runMode: try row.text(at: 22),
            parameters: try row.text(at: 23))
        s.history = try Self.history(from: try row.requiredText(at: 24))
        session = s
    }

    func columnValues() throws -> [ColumnValue] {
        let s = session
        return [
            .text(s.id),  // id
            .text(s.projectId),  // project_id
            .text(s.userId),  // user_id
            .text(s.concurrencyId),  // concurrency_id
            .integer(try signedColumn(s.epoch, "epoch")),  // epoch
            .text(s.state.rawValue),  // state
            ColumnValue(raw: s.endReason),  // end_reason
            ColumnValue(raw: s.lastCause),  // last_cause
            ColumnValue(s.deadlineAt),  // deadline_at
            .integer(s.createdAt),  // created_at
            .integer(s.updatedAt),  // updated_at
            ColumnValue(s.endedAt),  // ended_at
            ColumnValue(s.lastHeartbeatAt),  // last_heartbeat_at
            ColumnValue(try optionalSignedColumn(s.connection, "connection")),  // connection
            ColumnValue(raw: s.transport),  // transport
            .boolean(s.everConnected),  // ever_connected
            ColumnValue(s.resumeTokenHash),  // resume_token_hash
            ColumnValue(s.previousResumeTokenHash),  // previous_resume_token_hash
            ColumnValue(s.previousResumeTokenUntil),  // previous_resume_token_until
            .integer(try signedColumn(s.seq, "seq")),  // seq
            ColumnValue(s.metadata.userIp),  // user_ip
            ColumnValue(s.metadata.clientSession),  // client_session
            ColumnValue(s.metadata.runMode),  // run_mode
            ColumnValue(s.metadata.parameters),  // parameters
            .text(Self.historyJSON(s.history)),  // history
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
