import Foundation
import GRDB
import Testing
import TetherCore
import TetherProtocol

@testable import TetherStore

/// Records as columns: every field of every record type comes back from its table equal to what was written
/// (awkward strings, every enum case, the extremes of each integer); a row no record can be read from is
/// `StoreError.corruptRecord`; a database written by the JSON schema (v2) is migrated with nothing lost. The
/// hand-written JSON of the history column (`JSONWriter`, `JSONReader`) agrees with Foundation's.
@Suite struct RecordColumnsTests {
    /// Strings that need escaping or are not ASCII.
    static let awkward = [
        "", "plain", "quote \" and backslash \\", "slash / and \\/", "line\nbreak\ttab\r\u{8}\u{c}",
        "control \u{1}\u{1f}", "émoji 🎉 and 中文", "{\"json\":[1,2.5,null]}",
    ]

    /// A deterministic generator (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func chance() -> Bool { next() % 2 == 0 }
        mutating func int64() -> Int64 {
            switch next() % 4 {
            case 0: Int64.min
            case 1: Int64.max
            default: Int64(bitPattern: next()) >> (next() % 60)
            }
        }
        mutating func string() -> String {
            RecordColumnsTests.awkward[Int(next() % UInt64(RecordColumnsTests.awkward.count))]
        }
        /// An unsigned counter a column holds (0 ... Int64.max, the extremes included).
        mutating func counter() -> UInt64 {
            switch next() % 4 {
            case 0: 0
            case 1: UInt64(Int64.max)
            default: next() >> (1 + next() % 63)
            }
        }
        mutating func pick<T: CaseIterable>(_: T.Type) -> T {
            let all = Array(T.allCases)
            return all[Int(next() % UInt64(all.count))]
        }
        mutating func maybe<T>(_ make: (inout Random) -> T) -> T? { chance() ? make(&self) : nil }
    }

    static func session(_ r: inout Random) -> Session {
        var s = Session(
            id: "s-" + r.string(), projectId: r.string(), userId: r.string(), concurrencyId: r.string(),
            epoch: r.counter(), state: r.pick(SessionState.self), createdAt: r.int64(),
            metadata: SessionMetadata(
                userIp: r.maybe { $0.string() }, clientSession: r.maybe { $0.string() },
                runMode: r.maybe { $0.string() }, parameters: r.maybe { $0.string() }))
        s.updatedAt = r.int64()
        s.endReason = r.maybe { $0.pick(EndReason.self) }
        s.lastCause = r.maybe { $0.pick(DisconnectCause.self) }
        s.deadlineAt = r.maybe { $0.int64() }
        s.endedAt = r.maybe { $0.int64() }
        s.lastHeartbeatAt = r.maybe { $0.int64() }
        s.connection = r.maybe { $0.counter() }
        s.transport = r.maybe { $0.pick(Transport.self) }
        s.everConnected = r.chance()
        s.resumeTokenHash = r.maybe { $0.string() }
        s.previousResumeTokenHash = r.maybe { $0.string() }
        s.previousResumeTokenUntil = r.maybe { $0.int64() }
        s.seq = r.counter()
        s.history = (0..<Int(r.next() % 4)).map { _ in
            HistoryEntry(
                at: r.int64(), type: r.pick(EventType.self), state: r.pick(SessionState.self), epoch: r.counter(),
                cause: r.maybe { $0.pick(DisconnectCause.self) }, reason: r.maybe { $0.pick(EndReason.self) })
        }
        return s
    }

    /// A random event; `queue.left` carries a ticket's leave reason where other events carry a session's end
    /// reason (one column holds either).
    static func event(_ r: inout Random) -> Event {
        let type = r.pick(EventType.self)
        let queueLeft = type == .queueLeft
        return Event(
            cursor: r.counter(), at: r.int64(), type: type, projectId: r.string(),
            sessionId: r.maybe { $0.string() }, userId: r.string(), concurrencyId: r.string(),
            epoch: r.maybe { $0.counter() }, sessionSeq: r.maybe { $0.counter() },
            data: EventData(
                cause: r.maybe { $0.pick(DisconnectCause.self) },
                reason: queueLeft ? nil : r.maybe { $0.pick(EndReason.self) },
                deadlineAt: r.maybe { $0.int64() }, reused: r.maybe { $0.chance() },
                transport: r.maybe { $0.pick(Transport.self) }, suspendReason: r.maybe { $0.pick(SuspendReason.self) },
                retired: r.maybe { $0.chance() }, from: r.maybe { $0.pick(SessionState.self) },
                ticketId: r.maybe { $0.string() }, position: r.maybe { Int($0.counter() % 100_000) },
                queueReason: queueLeft ? r.maybe { $0.pick(QueueLeaveReason.self) } : nil))
    }

    static func project(_ r: inout Random, id: String) -> Project {
        Project(
            id: id, name: r.string(),
            policy: Policy(
                capacity: Int(r.int64()), heartbeat: .init(intervalMs: r.int64(), timeoutMs: r.int64()),
                reconnectGraceMs: r.int64(), reservationTtlMs: r.int64(), connectTimeoutMs: r.int64(),
                maxSuspendMs: r.int64(),
                webhook: r.maybe {
                    Webhook(
                        url: $0.string(), secret: $0.string(), previousSecret: $0.maybe { $0.string() },
                        previousSecretUntil: $0.maybe { $0.int64() })
                },
                queue: QueuePolicy(
                    enabled: r.chance(), offerTtlMs: r.int64(), maxLength: Int(r.int64()), clientTimeoutMs: r.int64()),
                allowedOrigins: r.maybe { r in
                    let count = Int(r.counter() % 4)
                    return (0..<count).map { "https://o\($0).example:\(8000 + $0)" }
                }),
            createdAt: r.int64(), updatedAt: r.int64())
    }

    /// Writes effects through the store's group-commit writer and waits until they are durable.
    static func write(_ effects: [Effect], to store: any Store) async throws {
        try await store.enqueue(effects).durable()
    }

    @Test(arguments: StoreKind.allCases) func sessionsRoundTripThroughTheirColumns(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var r = Random(state: 42)
            var sessions = (0..<500).map { _ in Self.session(&r) }
            for i in sessions.indices { sessions[i].id = "s\(i)-" + sessions[i].id }
            try await Self.write(sessions.map { .saveSession($0) }, to: store)
            for s in sessions { #expect(try await store.session(s.id) == s) }
            // An upsert replaces every column.
            var changed = sessions[0]
            changed.state = .ended
            changed.metadata.parameters = nil
            changed.history = []
            try await Self.write([.saveSession(changed)], to: store)
            #expect(try await store.session(changed.id) == changed)
            // Live ones are what a restart loads, in id order.
            let live = sessions.dropFirst().filter { $0.state != .ended }.sorted { $0.id < $1.id }
            #expect(try await store.load().sessions == live)
        }
    }

    @Test(arguments: StoreKind.allCases) func eventsProjectsAndReservationsRoundTripThroughTheirColumns(kind: StoreKind)
        async throws
    {
        try await withStore(kind) { store, _ in
            var r = Random(state: 7)
            var events = (0..<500).map { _ in Self.event(&r) }
            for i in events.indices { events[i].cursor = UInt64(i + 1) }
            events[499].cursor = UInt64(Int64.max)
            let projects = (0..<50).map { Self.project(&r, id: "p\($0)") }
            let reservations = (0..<50).map { i in
                Reservation(
                    projectId: "p\(i % 7)", userId: "u\(i)-" + r.string(), concurrencyId: r.string(),
                    reservedUntil: r.int64(), userIp: r.maybe { $0.string() })
            }
            let tickets = (0..<50).map { i in
                QueueTicket(
                    ticketId: "qt-\(i)-" + r.string(), projectId: "p\(i % 5)", userId: "u\(i)-" + r.string(),
                    priority: Int(r.counter() % 10), seq: UInt64(i + 1), enqueuedAt: r.int64(),
                    userIp: r.maybe { $0.string() }, offeredConcurrency: r.maybe { $0.string() })
            }
            try await Self.write(
                events.map { .event($0) } + projects.map { .saveProject($0) }
                    + reservations.map { .saveReservation($0) } + tickets.map { .saveTicket($0) }, to: store)
            // PostgreSQL gives cursors at commit (1, 2, … in order, whatever the broker numbered them with).
            if kind == .postgres { for i in events.indices { events[i].cursor = UInt64(i + 1) } }
            #expect(try await store.events(after: 0, projectId: nil, limit: 1_000) == events)
            let one = events[3].projectId
            #expect(
                try await store.events(after: 0, projectId: one, limit: 1_000) == events.filter { $0.projectId == one })
            let snapshot = try await store.load()
            #expect(snapshot.projects == projects.sorted { $0.id < $1.id })
            #expect(
                snapshot.reservations == reservations.sorted { ($0.projectId, $0.userId) < ($1.projectId, $1.userId) })
            #expect(snapshot.cursor == (kind == .sqlite ? UInt64(Int64.max) : 500))
            #expect(snapshot.tickets == tickets.sorted { ($0.projectId, $0.seq) < ($1.projectId, $1.seq) })
            // A ticket deleted, and a project deleted with its tickets.
            try await Self.write(
                [.deleteTicket(tickets[0].projectId, tickets[0].userId), .deleteProject("p1")], to: store)
            let after = try await store.load().tickets
            #expect(after == snapshot.tickets.filter { $0 != tickets[0] && $0.projectId != "p1" })
        }
    }

    /// GRDB's own persistence of a record (`upsert`, `insert`, from the same `databaseValues()`) and the
    /// writer's cached statements (`upsertSQL`, `insertSQL`) write the same rows.
    @Test func grdbPersistenceAndTheWritersStatementsAgree() throws {
        var r = Random(state: 17)
        let queue = try DatabaseQueue()
        try SQLiteStore.migrator.migrate(queue)
        try queue.write { db in
            for i in 0..<100 {
                var a = Self.session(&r)
                a.id = "a\(i)"
                var b = a
                b.id = "b\(i)"
                try SessionRecord(a).upsert(db)
                try SessionRecord(a).upsert(db)
                try db.execute(sql: SessionRecord.upsertSQL, arguments: try SessionRecord(b).arguments())
                try db.execute(sql: SessionRecord.upsertSQL, arguments: try SessionRecord(b).arguments())
                let read = try SessionRecord.fetchAll(
                    db, sql: "SELECT \(SessionRecord.selection) FROM sessions WHERE id IN (?, ?) ORDER BY id",
                    arguments: [a.id, b.id]
                ).map(\.session)
                #expect(read == [a, b])
                var e = Self.event(&r)
                e.cursor = UInt64(2 * i + 1)
                var f = e
                f.cursor += 1
                try EventRecord(e).insert(db)
                try db.execute(sql: EventRecord.insertSQL, arguments: try EventRecord(f).arguments())
                let events = try EventRecord.fetchAll(
                    db, sql: "SELECT \(EventRecord.selection) FROM events WHERE cursor >= ? ORDER BY cursor",
                    arguments: [Int64(e.cursor)]
                ).map(\.event)
                #expect(events == [e, f])
            }
        }
    }

    /// A counter above `Int64.max` does not fit its column: the commit fails with `outOfRange` and writes
    /// nothing of its transaction.
    @Test(arguments: StoreKind.allCases) func aCounterAboveInt64MaxFailsItsCommitAndWritesNothing(kind: StoreKind)
        async throws
    {
        try await withStore(kind) { store, _ in
            var r = Random(state: 5)
            var fine = Self.session(&r)
            fine.id = "fine"
            var huge = Self.session(&r)
            huge.id = "huge"
            huge.epoch = UInt64(Int64.max) + 1
            await #expect(throws: StoreError.outOfRange("epoch \(UInt64(Int64.max) + 1)")) {
                try await Self.write([.saveSession(fine), .saveSession(huge)], to: store)
            }
            let written = (try await store.session("fine"), try await store.session("huge"))
            #expect(written.0 == nil)
            #expect(written.1 == nil)
        }
    }

    /// What no record can be read from is `StoreError.corruptRecord`, not a crash or a made-up value.
    @Test func aRowNoRecordCanBeReadFromIsCorrupt() async throws {
        try await withStore { store, db in
            var r = Random(state: 9)
            var s = Self.session(&r)
            s.id = "s"
            try await Self.write([.saveSession(s)], to: store)
            let raw = try DatabaseQueue(path: db.path)
            let cases: [(String, String)] = [
                ("UPDATE sessions SET state = 'nope'", "SessionState: unknown value nope"),
                ("UPDATE sessions SET epoch = -1", "negative counter -1"),
            ]
            for (sql, message) in cases {
                try await raw.write { db in
                    try db.execute(sql: "UPDATE sessions SET state = 'created', epoch = 1, history = '[]'")
                    try db.execute(sql: sql)
                }
                await #expect(throws: StoreError.corruptRecord(message)) { try await store.session("s") }
            }
            try await raw.write { db in try db.execute(sql: "UPDATE sessions SET state = 'created', history = '[1,'") }
            await #expect(throws: StoreError.self) { try await store.session("s") }
            try raw.close()
        }
    }

    /// The `history` column is read by the fast reader; text it does not expect (whitespace and unknown
    /// members are fine) goes to the strict decoder, whose errors are kept.
    @Test func historyColumnFastAndStrict() throws {
        var r = Random(state: 3)
        for _ in 0..<200 {
            let history = Self.session(&r).history
            let text = SessionRecord.historyJSON(history)
            #expect(try JSONDecoder().decode([HistoryEntry].self, from: Data(text.utf8)) == history)
            #expect(try SessionRecord.history(from: text) == history)
            let foundation = String(decoding: try JSONEncoder().encode(history), as: UTF8.self)
            var copy = foundation
            let fast = copy.withUTF8 { bytes -> [HistoryEntry]? in
                var reader = JSONReader(bytes)
                return HistoryEntry.readArray(&reader)
            }
            #expect(fast == history)
        }
        let entry = HistoryEntry(at: 5, type: .sessionEnded, state: .ended, epoch: 2, reason: .destroyed)
        let spaced =
            " [ {\"extra\": {\"a\": [1, true, null]}, \"at\": 5, \"type\": \"session.ended\", "
            + "\"state\": \"ended\", \"epoch\": 2, \"cause\": null, \"reason\": \"destroyed\"} ] "
        #expect(try SessionRecord.history(from: spaced) == [entry])
        let text = SessionRecord.historyJSON([entry])
        #expect(throws: StoreError.self) { try SessionRecord.history(from: text + "x") }
        #expect(throws: StoreError.self) {
            try SessionRecord.history(from: text.replacingOccurrences(of: "{\"at\"", with: "{\"epoch\":1,\"at\""))
        }
        #expect(throws: StoreError.self) {
            try SessionRecord.history(from: text.replacingOccurrences(of: "\"ended\"", with: "\"nope\""))
        }
    }

    /// A database written by the JSON schema (v1 + v2, records as JSON text, as `JSONEncoder` writes them) is
    /// migrated to columns when opened: the same snapshot, sessions (ended ones too) and events.
    @Test func aJSONDatabaseIsMigratedToColumnsWithNothingLost() async throws {
        let db = TempDatabase()
        defer { db.remove() }
        var r = Random(state: 21)
        // What the JSON schema could hold: no queue settings, no queue events (v4 adds them with defaults).
        let projects = (0..<5).map {
            var p = Self.project(&r, id: "p\($0)")
            p.policy.queue = QueuePolicy()
            // Nor a replaced webhook secret (v5 adds it), nor allowed origins (v6).
            p.policy.allowedOrigins = nil
            p.policy.webhook?.previousSecret = nil
            p.policy.webhook?.previousSecretUntil = nil
            return p
        }
        var sessions = (0..<300).map { _ in Self.session(&r) }
        for i in sessions.indices {
            sessions[i].id = "s\(i)-" + sessions[i].id
            sessions[i].projectId = "p\(i % 5)"
        }
        var events = (0..<300).map { _ in Self.event(&r) }
        for i in events.indices {
            events[i].cursor = UInt64(i + 1)
            if events[i].type.rawValue.hasPrefix("queue.") { events[i].type = .sessionCreated }
            (events[i].data.ticketId, events[i].data.position, events[i].data.queueReason) = (nil, nil, nil)
        }
        let reservations = (0..<20).map { i in
            Reservation(
                projectId: "p\(i % 5)", userId: "u\(i)", concurrencyId: r.string(), reservedUntil: r.int64(),
                userIp: r.maybe { $0.string() })
        }
        let json = { @Sendable (value: any Encodable) throws -> String in
            String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        }
        let (written, logged) = (sessions, events)
        let legacy = try DatabasePool(path: db.path)
        try SQLiteStore.migrator.migrate(legacy, upTo: "v2-events-by-project")
        try await legacy.write { db in
            for p in projects {
                try db.execute(sql: "INSERT INTO projects (id, json) VALUES (?, ?)", arguments: [p.id, try json(p)])
            }
            for s in written {
                try db.execute(
                    sql: """
                        INSERT INTO sessions (id, project_id, user_id, state, created_at, updated_at, json)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [s.id, s.projectId, s.userId, s.state.rawValue, s.createdAt, s.updatedAt, try json(s)])
            }
            for e in logged {
                try db.execute(
                    sql: "INSERT INTO events (cursor, project_id, session_id, at, json) VALUES (?, ?, ?, ?, ?)",
                    arguments: [Int64(e.cursor), e.projectId, e.sessionId, e.at, try json(e)])
            }
            for v in reservations {
                try db.execute(
                    sql: "INSERT INTO reservations (project_id, user_id, json) VALUES (?, ?, ?)",
                    arguments: [v.projectId, v.userId, try json(v)])
            }
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES ('cursor', '900')")
        }
        try legacy.close()

        let store = try SQLiteStore(path: db.path)
        let snapshot = try await store.load()
        #expect(snapshot.projects == projects)
        #expect(snapshot.sessions == sessions.filter { $0.state != .ended }.sorted { $0.id < $1.id })
        #expect(snapshot.reservations == reservations.sorted { ($0.projectId, $0.userId) < ($1.projectId, $1.userId) })
        #expect(snapshot.cursor == 900)
        for s in sessions { #expect(try await store.session(s.id) == s) }
        #expect(try await store.events(after: 0, projectId: nil, limit: 1_000) == events)
        let columns = try await store.pool.read { db in try db.columns(in: "sessions").map(\.name) }
        #expect(columns == SessionRecord.columns)
        try await store.close()
    }

    @Test func writerEscapesAndNumbers() throws {
        for string in Self.awkward {
            var w = JSONWriter()
            w.beginArray()
            w.value(string)
            w.value(Int64.min)
            w.value(UInt64.max)
            w.value(0)
            w.value(true)
            w.null()
            w.endArray()
            let decoded = try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [Any]
            #expect(decoded?.first as? String == string)
            #expect(w.text.hasSuffix(",-9223372036854775808,18446744073709551615,0,true,null]"))
        }
    }
}
