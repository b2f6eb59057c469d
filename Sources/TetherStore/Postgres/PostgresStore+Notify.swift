import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import TetherCore

/// Tells the other nodes that events were committed: `NOTIFY tether_events, '<cursor>'`, sent after the
/// transaction that wrote them, never inside it. A transaction that issues `NOTIFY` takes a database-wide lock
/// at its commit (DESIGN.md, "Several nodes"), so the group commit's transactions stay free of it; the notice
/// goes on its own, one at a time, and the cursors committed while one is on its way are told by the next one
/// (at most one in flight and one every 20 ms, the rest told by the next: a listener reads everything after its own cursor, so a skipped number
/// loses nothing). A notice that fails is dropped: listeners also look every second.
final class EventNotifier: Sendable {
    /// The channel the notices go to.
    static let channel = "tether_events"
    /// The least time between two notices (the cursors committed meanwhile go in the next).
    static let spacing = Duration.milliseconds(20)

    private struct State {
        var latest: Int64 = 0
        var sent: Int64 = 0
        var sending = false
    }

    private let state = NIOLockedValueBox(State())
    private let client: PostgresClient
    private let logger: Logger

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Events up to `cursor` are committed.
    func committed(through cursor: Int64) {
        let start = state.withLockedValue { s -> Bool in
            s.latest = max(s.latest, cursor)
            guard !s.sending, s.latest > s.sent else { return false }
            s.sending = true
            return true
        }
        guard start else { return }
        let client = client
        let logger = logger
        Task.detached { [state] in
            while let cursor = state.withLockedValue({ s -> Int64? in
                guard s.latest > s.sent else {
                    s.sending = false
                    return nil
                }
                s.sent = s.latest
                return s.latest
            }) {
                do {
                    _ = try await client.query(
                        "SELECT pg_notify(\(Self.channel), \(String(cursor)))", logger: logger)
                } catch {
                    logger.debug("an event notice was not sent", metadata: ["error": "\(error)"])
                }
                // At most one notice every `spacing`: under a write load every group commit would otherwise
                // cost a notice and a read on every node (tether bench cluster: 64 API clients over three
                // nodes went from 3.8 k to 2.2 k operations a second, p99 42 to 66 ms).
                try? await Task.sleep(for: Self.spacing)
            }
        }
    }
}

extension PostgresStore {
    /// The cursor of the last committed event (0 with none): where a reader that starts now begins.
    public func lastEventCursor() async throws -> UInt64 {
        guard !isClosed else { throw StoreError.closed }
        let logger = logger
        let key = Self.cursorSettingKey
        return try await client.withConnection { connection in
            var cursor: Int64 = 0
            for try await value in try await connection.query(
                "SELECT GREATEST((SELECT MAX(cursor) FROM events), (SELECT value::bigint FROM settings WHERE key = \(key)))",
                logger: logger
            ).decode(Int64?.self) {
                cursor = value ?? 0
            }
            return UInt64(max(0, cursor))
        }
    }

    /// Calls `wake` with the cursor each notice names (``EventNotifier``), until the connection fails or the task
    /// is cancelled; throws then. Holds one pooled connection meanwhile.
    public func listenForEvents(_ wake: @escaping @Sendable (UInt64) -> Void) async throws {
        guard !isClosed else { throw StoreError.closed }
        try await client.withConnection { connection in
            try await connection.listen(on: EventNotifier.channel) { notifications in
                for try await notification in notifications {
                    wake(UInt64(notification.payload) ?? 0)
                }
            }
        }
    }
}
