import Foundation
import Testing

@testable import TetherCore

/// `Session`, `Event` and `EventData` store optional times, epochs and connections with sentinels and their
/// rare fields out of line, to be small in the broker's table and the event feed's window: each field still
/// reads back what was written (nil included), equal values are equal, and JSON keeps its keys.
struct CompactRecordTests {
    @Test func theyAreSmall() {
        #expect(MemoryLayout<Session>.size <= 168)
        #expect(MemoryLayout<Event>.size <= 120)
        #expect(MemoryLayout<EventData>.size <= 23)
    }

    @Test func aCompactOptionalHoldsEveryValueButItsEndAndNil() {
        #expect(MemoryLayout<CompactOptional<Int64>>.size == 8)
        #expect(MemoryLayout<CompactOptional<UInt64>>.size == 8)
        for value: Int64? in [nil, 0, -1, 1, .min + 1, .max] { #expect(CompactOptional(value).value == value) }
        for value: UInt64? in [nil, 0, 1, .max - 1] { #expect(CompactOptional(value).value == value) }
        var held = CompactOptional<Int64>(5)
        held.value = nil
        #expect(held == CompactOptional())
    }

    static func session() -> Session {
        Session(
            id: "s_1", projectId: "p", userId: "u", concurrencyId: "c-1", epoch: 3, state: .connected,
            createdAt: 1_000)
    }

    @Test func everySessionFieldReadsBackWhatWasWrittenAndNil() {
        var s = Self.session()
        #expect(s.deadlineAt == nil && s.lastHeartbeatAt == nil && s.connection == nil)
        #expect(s.endReason == nil && s.endedAt == nil)
        #expect(s.previousResumeTokenHash == nil && s.previousResumeTokenUntil == nil)
        s.deadlineAt = 0
        s.lastHeartbeatAt = -5
        s.connection = 0
        s.endReason = .destroyed
        s.endedAt = 7
        s.previousResumeTokenHash = "ab"
        s.previousResumeTokenUntil = 9
        #expect(s.deadlineAt == 0 && s.lastHeartbeatAt == -5 && s.connection == 0)
        #expect(s.endReason == .destroyed && s.endedAt == 7)
        #expect(s.previousResumeTokenHash == "ab" && s.previousResumeTokenUntil == 9)
        #expect(s != Self.session())
        s.deadlineAt = nil
        s.lastHeartbeatAt = nil
        s.connection = nil
        s.endReason = nil
        s.endedAt = nil
        s.previousResumeTokenHash = nil
        s.previousResumeTokenUntil = nil
        #expect(s == Self.session())
        #expect(s.hashValue == Self.session().hashValue)
    }

    @Test func aSessionsJSONHasItsFieldsAsKeysAndRoundTrips() throws {
        var s = Self.session()
        s.deadlineAt = 5_000
        s.connection = 12
        s.endedAt = 6_000
        s.endReason = .graceExpired
        s.transport = .tcp
        s.resumeTokenHash = "ff"
        s.history = [HistoryEntry(at: 1_000, type: .sessionCreated, state: .created, epoch: 3)]
        let data = try JSONEncoder().encode(s)
        let keys = Set((try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]).keys)
        #expect(
            keys == [
                "id", "projectId", "userId", "concurrencyId", "epoch", "state", "endReason", "deadlineAt",
                "createdAt", "updatedAt", "endedAt", "connection", "transport", "everConnected", "resumeTokenHash",
                "seq", "metadata", "history",
            ])
        #expect(try JSONDecoder().decode(Session.self, from: data) == s)
        #expect(try JSONDecoder().decode(Session.self, from: JSONEncoder().encode(Self.session())) == Self.session())
    }

    @Test func everyEventFieldReadsBackWhatWasWrittenAndNil() throws {
        var data = EventData(deadlineAt: 0, ticketId: "qt-1", position: 2, queueReason: .taken)
        #expect(data.deadlineAt == 0 && data.ticketId == "qt-1" && data.position == 2 && data.queueReason == .taken)
        data.ticketId = nil
        data.position = nil
        data.queueReason = nil
        data.deadlineAt = nil
        #expect(data == EventData())
        var event = Event(
            cursor: 1, at: 2, type: .queueLeft, projectId: "p", sessionId: nil, userId: "u", concurrencyId: "",
            epoch: nil, sessionSeq: nil, data: EventData(queueReason: .left))
        #expect(event.epoch == nil && event.sessionSeq == nil)
        event.epoch = 0
        event.sessionSeq = 0
        #expect(event.epoch == 0 && event.sessionSeq == 0)
        event.epoch = 4
        event.sessionSeq = 9
        #expect(event.epoch == 4 && event.sessionSeq == 9)
        let json = try JSONEncoder().encode(event)
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
        #expect(
            Set(object.keys) == [
                "cursor", "at", "type", "projectId", "userId", "concurrencyId", "epoch", "sessionSeq", "data",
            ])
        #expect(Set((object["data"] as? [String: Any] ?? [:]).keys) == ["queueReason"])
        #expect(try JSONDecoder().decode(Event.self, from: json) == event)
    }
}
