import Foundation
import Synchronization
import TetherClient
import TetherCore
import TetherProtocol

extension BenchScenarios {
    /// `queue` (issue 15, item 5): what the waiting queue costs and how fast an offer is told.
    ///
    /// * In process, on the core's `Broker` (no server, no store): a queued apply, a cancel and a position read
    ///   with 1 000 and with `queueTickets` tickets waiting, in µs per operation. O(log n) shows as figures that
    ///   barely move from 1 k to 10 k; a scan would be ten times slower.
    /// * Position pushes to `queuePushClients` live queued clients, and heartbeat lateness with and without them
    ///   (``queuePushes(_:_:_:)``).
    /// * Against a server: a full pool of `queueOffers` concurrencies held by sessions, as many users waiting
    ///   live (``TetherQueueWaiter``) and an SSE reader; then each holder's session is destroyed in turn, and
    ///   the time from the DestroySession call to the head ticket's `queue.offered` at the reader and to its
    ///   client's `offered` message is taken.
    static func queue(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            var result = makeResult(
                "queue", ["tickets": Double(options.queueTickets), "offers": Double(options.queueOffers)])
            for (size, label) in [(1_000, "1k"), (options.queueTickets, "\(options.queueTickets / 1_000)k")] {
                let costs = queueCosts(size: size, operations: 2_000)
                result.figures["applyUs\(label)"] = costs.apply
                result.figures["cancelUs\(label)"] = costs.cancel
                result.figures["positionUs\(label)"] = costs.position
            }
            let big = "\(options.queueTickets / 1_000)k"
            result.figures["applyGrowth"] =
                result.figures["applyUs\(big)", default: 0] / max(result.figures["applyUs1k", default: 1], 0.001)
            result.figures["positionGrowth"] =
                result.figures["positionUs\(big)", default: 0] / max(result.figures["positionUs1k", default: 1], 0.001)

            let server = tracker.track(try await context.startServer())
            let backend = TetherBackend(url: URL(string: "http://127.0.0.1:\(server.apiPort)")!, apiKey: server.apiKey)
            let offers = try await offerLatencies(
                backend: backend, key: server.apiKey, count: options.queueOffers, notes: &result.notes)
            result.figures["offeredAtReaderP50Ms"] = percentile(offers.reader, 0.5)
            result.figures["offeredAtReaderP99Ms"] = percentile(offers.reader, 0.99)
            result.figures["offeredAtClientP50Ms"] = percentile(offers.client, 0.5)
            result.figures["offeredAtClientP99Ms"] = percentile(offers.client, 0.99)
            result.figures["offersTimed"] = Double(min(offers.reader.count, offers.client.count))
            result.notes.append(
                "costs: one Broker in this process (the rules only: no lock, no store); growth: the largest size's µs over 1 k's"
            )
            if options.queuePushClients > 0 {
                let pushes = try await queuePushes(context, tracker, options)
                result.figures.merge(pushes.figures) { $1 }
                result.notes += pushes.notes
                result.goal("pushMinGapMs", ">=", 900)
                result.goal("queuedKicked", "<=", 0)
                result.goal("lateness1P99Ms", "<=", 10)
            }
            result.goal("offeredAtReaderP99Ms", "<=", 15)
            result.goal("offeredAtClientP99Ms", "<=", 15)
            result.goal("applyGrowth", "<=", 3)
            result.goal("positionGrowth", "<=", 3)
            return result
        }
    }

    /// µs per queued apply, cancel and position read with `size` tickets waiting.
    static func queueCosts(size: Int, operations: Int) -> (apply: Double, cancel: Double, position: Double) {
        var broker = Broker(now: 1_000)
        let policy = Policy(capacity: 0, queue: QueuePolicy(enabled: true, maxLength: size + operations + 10))
        _ = try? broker.handle(.createProject(id: "q", name: "q", policy: policy))
        for i in 0..<size {
            _ = try? broker.handle(
                .applyQueued("q", userId: "w\(i)", userIp: nil, priority: i % 10, ticketId: "t\(i)"))
        }
        _ = broker.takeEffects()
        let clock = ContinuousClock()
        // A new ticket and its cancel (the size stays), timed apart.
        var applyTime = Duration.zero
        var cancelTime = Duration.zero
        for i in 0..<operations {
            let user = "n\(i)"
            let t0 = clock.now
            _ = try? broker.handle(.applyQueued("q", userId: user, userIp: nil, priority: i % 10, ticketId: "tn\(i)"))
            let t1 = clock.now
            _ = try? broker.handle(.cancelTicket("q", user))
            applyTime += t1 - t0
            cancelTime += clock.now - t1
        }
        var positions = 0
        let p0 = clock.now
        for i in 0..<operations {
            positions &+= (try? broker.queuePlace("q", userId: "w\((i * 7_919) % size)"))?.position ?? 0
        }
        let positionTime = clock.now - p0
        let us = { (d: Duration) in
            Double(d.components.attoseconds) / 1e12 / Double(operations) + Double(d.components.seconds) * 1e6
                / Double(operations)
        }
        return (us(applyTime), us(cancelTime), positions >= 0 ? us(positionTime) : 0)
    }

    /// From each DestroySession of a holder to the head ticket's `queue.offered` at an SSE reader and to its
    /// client's `offered` message (ms).
    static func offerLatencies(backend: TetherBackend, key: String, count: Int, notes: inout [String]) async throws -> (
        reader: [Double], client: [Double]
    ) {
        _ = try await backend.createProject(
            id: "queue", policy: .init(capacity: count, queue: .init(enabled: true, maxLength: count + 10)))
        var holders: [String] = []
        for i in 0..<count {
            _ = try await backend.apply(project: "queue", userId: "h\(i)")
            holders.append(try await backend.createSession(project: "queue", userId: "h\(i)").sessionId)
        }
        let marks = OfferMarks()
        var waiters: [Task<Void, Never>] = []
        for i in 0..<count {
            guard case .queued(let queued) = try await backend.applyQueued(project: "queue", userId: "w\(i)"),
                let endpoint = queued.connect.flatMap({ TetherEndpoint(url: $0.websocket) })
            else { throw BenchError("w\(i) was not queued") }
            let waiter = TetherQueueWaiter(queueToken: queued.queueToken, endpoint: endpoint)
            let user = "w\(i)"
            waiters.append(
                Task {
                    do {
                        for try await update in waiter.updates() {
                            if case .place = update { marks.connected(user) }
                            if case .offered = update {
                                marks.client(user)
                                return
                            }
                        }
                    } catch {}  // the offer was timed, or the run ended: nothing more to note
                })
        }
        defer { for waiter in waiters { waiter.cancel() } }
        var feed = TetherEventStream(url: backend.url, apiKey: key, project: "queue")
        feed.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(500))
        let reader = Task {
            struct Event: Decodable {
                var type: String
                var userId: String
            }
            for try await message in feed.follow(after: 0) {
                guard let event = try? JSONDecoder().decode(Event.self, from: Data(message.data.utf8)) else { continue }
                if event.type == "queue.offered" { marks.reader(event.userId) }
            }
        }
        defer { reader.cancel() }
        // Every waiter connected (told its place), and the reader caught up: then time the offers one by one.
        let ready = ContinuousClock.now + .seconds(30)
        while marks.connectedCount < count && ContinuousClock.now < ready {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        for (i, holder) in holders.enumerated() {
            marks.start("w\(i)")
            _ = try await backend.destroySession(holder)
            let deadline = ContinuousClock.now + .seconds(5)
            while !marks.done("w\(i)") && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        }
        let times = marks.times
        if times.reader.count < count || times.client.count < count {
            notes.append(
                "offers timed: \(times.reader.count) at the reader, \(times.client.count) at the clients, of \(count)")
        }
        return times
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// When each timed offer started and reached the reader and the client.
final class OfferMarks: Sendable {
    private struct State {
        var connected: Set<String> = []
        var started: [String: ContinuousClock.Instant] = [:]
        var reader: [String: Double] = [:]
        var client: [String: Double] = [:]
    }
    private let state = Mutex(State())

    func connected(_ user: String) { _ = state.withLock { $0.connected.insert(user) } }
    var connectedCount: Int { state.withLock { $0.connected.count } }
    func start(_ user: String) { state.withLock { $0.started[user] = .now } }

    func reader(_ user: String) {
        state.withLock { s in
            if let t0 = s.started[user], s.reader[user] == nil { s.reader[user] = Self.ms(.now - t0) }
        }
    }

    func client(_ user: String) {
        state.withLock { s in
            if let t0 = s.started[user], s.client[user] == nil { s.client[user] = Self.ms(.now - t0) }
        }
    }

    func done(_ user: String) -> Bool { state.withLock { $0.reader[user] != nil && $0.client[user] != nil } }
    var times: (reader: [Double], client: [Double]) {
        state.withLock { (Array($0.reader.values), Array($0.client.values)) }
    }

    private static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
    }
}
