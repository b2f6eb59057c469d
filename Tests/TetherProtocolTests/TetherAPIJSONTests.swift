import Foundation
import Testing
import TetherProtocol

/// The shared API bodies: what `JSONWriter` writes for them (the server's fast path) is what their `Codable`
/// conformance reads back equal (the SDK's side), with the awkward strings and the integer extremes.
@Suite struct TetherAPIJSONTests {
    static let awkward = ["", "plain", "quote \" and \\", "line\nbreak\t\u{1}", "émoji 🎉 中文", "{\"json\":1}"]

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
        mutating func string() -> String { TetherAPIJSONTests.awkward[Int(next() % 6)] }
        mutating func int64() -> Int64 { Int64(bitPattern: next()) >> (next() % 64) }
        mutating func maybe<T>(_ make: (inout Random) -> T) -> T? { next() % 2 == 0 ? make(&self) : nil }
    }

    static func event(_ r: inout Random) -> TetherAPI.Event {
        TetherAPI.Event(
            cursor: r.next(), at: r.int64(), type: r.string(), projectId: r.string(),
            sessionId: r.maybe { $0.string() }, userId: r.string(), concurrencyId: r.string(),
            epoch: r.maybe { $0.next() }, sessionSeq: r.maybe { $0.next() },
            data: TetherAPI.EventData(
                cause: r.maybe { $0.string() }, reason: r.maybe { $0.string() }, deadlineAt: r.maybe { $0.int64() },
                reused: r.maybe { $0.next() % 2 == 0 }, transport: r.maybe { $0.string() },
                suspendReason: r.maybe { $0.string() }, retired: r.maybe { $0.next() % 2 == 0 },
                from: r.maybe { $0.string() }))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ w: JSONWriter) throws -> T {
        try JSONDecoder().decode(type, from: Data(w.bytes))
    }

    @Test func eventsAndPagesRoundTrip() throws {
        var r = Random(state: 1)
        for _ in 0..<300 {
            let e = Self.event(&r)
            var w = JSONWriter()
            e.writeJSON(into: &w)
            #expect(try Self.decode(TetherAPI.Event.self, w) == e)
            #expect(try StrictJSONDecoder(nullMeansAbsent: true).decode(TetherAPI.Event.self, from: w.bytes) == e)
        }
        let page = TetherAPI.EventPage(events: (0..<20).map { _ in Self.event(&r) }, nextCursor: .max)
        var w = JSONWriter()
        page.writeJSON(into: &w)
        #expect(try Self.decode(TetherAPI.EventPage.self, w) == page)
        let empty = TetherAPI.EventPage(events: [], nextCursor: 0)
        w.reset()
        empty.writeJSON(into: &w)
        #expect(w.text == #"{"events":[],"nextCursor":0}"#)
    }

    @Test func appliedCreatedAndSessionsRoundTrip() throws {
        var r = Random(state: 2)
        for _ in 0..<200 {
            let applied = TetherAPI.Applied(
                concurrencyId: r.string(), reused: r.next() % 2 == 0, reservedUntil: r.int64())
            var w = JSONWriter()
            applied.writeJSON(into: &w)
            #expect(try Self.decode(TetherAPI.Applied.self, w) == applied)

            let created = TetherAPI.CreatedSession(
                sessionId: r.string(), userId: r.string(), concurrencyId: r.string(), epoch: r.next(),
                state: r.string(), clientToken: r.string(),
                connect: .init(websocket: r.string(), tcp: r.maybe { $0.string() }, http: r.string()),
                heartbeat: .init(intervalMs: r.int64(), timeoutMs: r.int64()), reconnectGraceMs: r.int64())
            w.reset()
            created.writeJSON(into: &w)
            #expect(try Self.decode(TetherAPI.CreatedSession.self, w) == created)

            var session = TetherAPI.Session(
                sessionId: r.string(), projectId: r.string(), userId: r.string(), concurrencyId: r.string(),
                epoch: r.next(), state: r.string(), createdAt: r.int64(), updatedAt: r.int64())
            session.endReason = r.maybe { $0.string() }
            session.lastCause = r.maybe { $0.string() }
            session.deadlineAt = r.maybe { $0.int64() }
            session.lastHeartbeatAt = r.maybe { $0.int64() }
            session.transport = r.maybe { $0.string() }
            session.userIp = r.maybe { $0.string() }
            session.history = (0..<Int(r.next() % 3)).map { _ in
                TetherAPI.HistoryEntry(
                    at: r.int64(), type: r.string(), state: r.string(), epoch: r.next(),
                    cause: r.maybe { $0.string() }, reason: r.maybe { $0.string() })
            }
            session.stats = r.maybe {
                TetherAPI.SessionStats(
                    rttMs: .init(p50: nil, p99: nil), jitterMs: nil, lossRate: nil, heartbeats: $0.next())
            }
            w.reset()
            #expect(session.writeJSON(into: &w))
            #expect(try Self.decode(TetherAPI.Session.self, w) == session)
        }
    }

    /// What the writer cannot format (doubles, any JSON value) is refused, and nothing is written.
    @Test func sessionsWithParametersOrMeasuredStatsAreLeftToJSONEncoder() throws {
        var session = TetherAPI.Session(
            sessionId: "s", projectId: "p", userId: "u", concurrencyId: "c", epoch: 1, state: "connected",
            createdAt: 1, updatedAt: 2)
        session.parameters = .object(["level": .number(2.5)])
        var w = JSONWriter()
        #expect(!session.writeJSON(into: &w))
        #expect(w.bytes.isEmpty)
        session.parameters = nil
        session.stats = TetherAPI.SessionStats(
            rttMs: .init(p50: 1.5, p99: nil), jitterMs: nil, lossRate: nil, heartbeats: 3)
        #expect(!session.writeJSON(into: &w))
        #expect(w.bytes.isEmpty)
        let encoded = try JSONEncoder().encode(session)
        #expect(try JSONDecoder().decode(TetherAPI.Session.self, from: encoded) == session)
    }
}

/// The project bodies the SDK encodes are the ones the server decodes: absent fields stay absent, a removal of
/// the webhook is `"webhook": null`, a setting is an object.
@Suite struct TetherAPIProjectRequestTests {
    @Test func updateBodiesRoundTripWithTheirThreeWebhookCases() throws {
        let changes: [TetherAPI.UpdateProjectRequest] = [
            .init(),
            .init(name: "n", capacity: 3, heartbeat: .init(intervalMs: 1_000), webhook: .remove),
            .init(reconnectGraceMs: 0, webhook: .set(.init(url: "http://h/x", secret: "s"))),
        ]
        for change in changes {
            let json = try JSONEncoder().encode(change)
            #expect(try StrictJSONDecoder().decode(TetherAPI.UpdateProjectRequest.self, from: Array(json)) == change)
        }
        let removal = String(decoding: try JSONEncoder().encode(changes[1]), as: UTF8.self)
        #expect(removal.contains(#""webhook":null"#))
        #expect(!String(decoding: try JSONEncoder().encode(changes[0]), as: UTF8.self).contains("webhook"))
        let create = TetherAPI.CreateProjectRequest(
            id: "p", capacity: 2, webhook: .init(url: "http://h", secret: "s"))
        let encoded = try JSONEncoder().encode(create)
        #expect(try StrictJSONDecoder().decode(TetherAPI.CreateProjectRequest.self, from: Array(encoded)) == create)
    }
}
