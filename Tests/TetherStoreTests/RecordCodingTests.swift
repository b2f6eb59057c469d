import Foundation
import Testing
import TetherCore
import TetherProtocol

@testable import TetherStore

/// The hand-written record codec (`JSONWriter`, `JSONReader`) against Foundation's: what one writes the other
/// reads back equal, and anything the fast reader does not expect falls back to `StrictJSONDecoder`.
@Suite struct RecordCodingTests {
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
            RecordCodingTests.awkward[Int(next() % UInt64(RecordCodingTests.awkward.count))]
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
            epoch: r.next(), state: r.pick(SessionState.self), createdAt: r.int64(),
            metadata: SessionMetadata(
                userIp: r.maybe { $0.string() }, clientSession: r.maybe { $0.string() },
                runMode: r.maybe { $0.string() }, parameters: r.maybe { $0.string() }))
        s.updatedAt = r.int64()
        s.endReason = r.maybe { $0.pick(EndReason.self) }
        s.lastCause = r.maybe { $0.pick(DisconnectCause.self) }
        s.deadlineAt = r.maybe { $0.int64() }
        s.endedAt = r.maybe { $0.int64() }
        s.lastHeartbeatAt = r.maybe { $0.int64() }
        s.connection = r.maybe { $0.next() }
        s.transport = r.maybe { $0.pick(Transport.self) }
        s.everConnected = r.chance()
        s.resumeTokenHash = r.maybe { $0.string() }
        s.seq = r.next() >> (r.next() % 64)
        s.history = (0..<Int(r.next() % 4)).map { _ in
            HistoryEntry(
                at: r.int64(), type: r.pick(EventType.self), state: r.pick(SessionState.self), epoch: r.next(),
                cause: r.maybe { $0.pick(DisconnectCause.self) }, reason: r.maybe { $0.pick(EndReason.self) })
        }
        return s
    }

    static func event(_ r: inout Random) -> Event {
        Event(
            cursor: r.next(), at: r.int64(), type: r.pick(EventType.self), projectId: r.string(),
            sessionId: r.maybe { $0.string() }, userId: r.string(), concurrencyId: r.string(),
            epoch: r.maybe { $0.next() }, sessionSeq: r.maybe { $0.next() },
            data: EventData(
                cause: r.maybe { $0.pick(DisconnectCause.self) }, reason: r.maybe { $0.pick(EndReason.self) },
                deadlineAt: r.maybe { $0.int64() }, reused: r.maybe { $0.chance() },
                transport: r.maybe { $0.pick(Transport.self) }, suspendReason: r.maybe { $0.pick(SuspendReason.self) },
                retired: r.maybe { $0.chance() }, from: r.maybe { $0.pick(SessionState.self) }))
    }

    @Test func sessionsRoundTripBothWays() throws {
        var r = Random(state: 42)
        for _ in 0..<500 {
            let s = Self.session(&r)
            let fast = RecordCoding.encode(s)
            #expect(try JSONDecoder().decode(Session.self, from: Data(fast.utf8)) == s)
            #expect(try RecordCoding.decodeSession(from: fast) == s)
            let foundation = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
            // The fast reader itself (not the fallback) reads Foundation's text.
            var text = foundation
            let read = text.withUTF8 { bytes -> Session? in
                var reader = JSONReader(bytes)
                return Session.read(&reader)
            }
            #expect(read == s)
        }
    }

    @Test func eventsAndReservationsRoundTrip() throws {
        var r = Random(state: 7)
        for _ in 0..<500 {
            let e = Self.event(&r)
            #expect(try JSONDecoder().decode(Event.self, from: Data(RecordCoding.encode(e).utf8)) == e)
            let reservation = Reservation(
                projectId: r.string(), userId: r.string(), concurrencyId: r.string(), reservedUntil: r.int64(),
                userIp: r.maybe { $0.string() })
            #expect(
                try JSONDecoder().decode(Reservation.self, from: Data(RecordCoding.encode(reservation).utf8))
                    == reservation)
        }
    }

    /// Events come back from the store by the fast reader, equal to what was written and to what the
    /// strict decoder reads; anything unusual falls back to the strict decoder and its errors.
    @Test func eventsReadFastEqualTheStrictDecoder() throws {
        var r = Random(state: 13)
        for _ in 0..<500 {
            let e = Self.event(&r)
            var text = RecordCoding.encode(e)
            let fast = text.withUTF8 { bytes -> Event? in
                var reader = JSONReader(bytes)
                return Event.read(&reader)
            }
            #expect(fast == e)
            #expect(try RecordCoding.decodeEvent(from: text) == e)
            #expect(try RecordCoding.decode(Event.self, from: text) == e)
        }
        let e = Self.event(&r)
        let text = RecordCoding.encode(e)
        #expect(throws: StrictJSONError.self) { try RecordCoding.decodeEvent(from: text + "x") }
        #expect(throws: StrictJSONError.self) { try RecordCoding.decodeEvent(from: String(text.dropLast()) + ",}") }
        let repeated = text.replacingOccurrences(of: "{\"cursor\"", with: "{\"at\":1,\"cursor\"")
        #expect(throws: StrictJSONError(.syntax, path: "at", "appears twice in the same object")) {
            try RecordCoding.decodeEvent(from: repeated)
        }
        let badType = text.replacingOccurrences(of: "\"type\":\"\(e.type.rawValue)\"", with: "\"type\":\"nope\"")
        #expect(throws: StrictJSONError.self) { try RecordCoding.decodeEvent(from: badType) }
    }

    @Test func manySessionsDecodeInOrder() async throws {
        var r = Random(state: 11)
        let sessions = (0..<2_500).map { _ in Self.session(&r) }
        #expect(try await SQLiteStore.decodeSessions(sessions.map { RecordCoding.encode($0) }) == sessions)
        #expect(
            try await SQLiteStore.decodeSessions(sessions.prefix(3).map { RecordCoding.encode($0) })
                == Array(sessions.prefix(3)))
    }

    @Test func unusualSessionTextFallsBackToTheStrictDecoder() throws {
        var r = Random(state: 3)
        var s = Self.session(&r)
        s.endedAt = nil
        let text = RecordCoding.encode(s)
        // Whitespace, nulls for optionals and unknown members are read by the fast reader.
        var spaced = text.replacingOccurrences(of: ",\"seq\"", with: " ,\n \"extra\" : {\"a\":[1,true,null]}, \"seq\"")
        spaced = spaced.replacingOccurrences(of: "{\"id\"", with: "{ \"endedAt\": null, \"id\"")
        var fast = spaced
        let read = fast.withUTF8 { bytes -> Session? in
            var reader = JSONReader(bytes)
            return Session.read(&reader)
        }
        #expect(read == s)
        // A member missing: the strict decoder's error, naming it.
        let missing = text.replacingOccurrences(of: "\"everConnected\"", with: "\"everConnectedX\"")
        #expect(throws: StrictJSONError(.missing, path: "everConnected", "is required")) {
            try RecordCoding.decodeSession(from: missing)
        }
        // An unknown state: the strict decoder's error.
        let badState = text.replacingOccurrences(of: "\"state\":\"\(s.state.rawValue)\"", with: "\"state\":\"nope\"")
        #expect(throws: StrictJSONError.self) { try RecordCoding.decodeSession(from: badState) }
        // Not RFC 8259 JSON: trailing garbage, a trailing comma, a repeated member (issue 12, item 1).
        #expect(throws: StrictJSONError.self) { try RecordCoding.decodeSession(from: text + "x") }
        #expect(throws: StrictJSONError.self) { try RecordCoding.decodeSession(from: String(text.dropLast()) + ",}") }
        let repeated = text.replacingOccurrences(of: "{\"id\"", with: "{\"epoch\":1,\"id\"")
        #expect(throws: StrictJSONError(.syntax, path: "epoch", "appears twice in the same object")) {
            try RecordCoding.decodeSession(from: repeated)
        }
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
