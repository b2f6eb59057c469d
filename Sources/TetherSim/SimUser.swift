import Foundation
import NIOCore
@_spi(Simulation) import TetherClient
import TetherProtocol

/// What every simulated client of a process shares.
struct SimContext: Sendable {
    var backend: TetherBackend
    var project: String
    var ledger: SimLedger
    /// The SDK clients' configuration (event loops, backoff); each client sets its own source address.
    var client: TetherClientConfiguration
    /// Source addresses to spread connections over (none: the system picks).
    var sources: [SocketAddress]
    /// The run's start and end.
    var start: ContinuousClock.Instant
    var end: ContinuousClock.Instant
    /// How long after the end a client still out (reconnecting, or its last heartbeat failed) keeps trying to
    /// come back, within the worker's drain.
    var settle: Duration = .seconds(10)
    var intervalMs: Int64
    var timeoutMs: Int64

    /// The source address of client `index`.
    func source(_ index: Int) -> SocketAddress? { sources.isEmpty ? nil : sources[index % sources.count] }

    /// ApplyConcurrent and CreateSession for `user`.
    func create(_ user: String) async throws -> TetherBackend.CreatedSession {
        _ = try await backend.apply(project: project, userId: user)
        return try await backend.createSession(project: project, userId: user)
    }

    /// How long a silent HTTP client stays quiet: well past the timeout, then it heartbeats again.
    var silence: Duration { .milliseconds(timeoutMs + max(2_000, 2 * intervalMs)) }
}

/// One simulated end user, from its first connection to its `bye` (a churning user hands over to a new one).
struct SimUser: Sendable {
    /// The `retryAfterMs` of an API error body, if it has one.
    static func retryAfterMs(_ body: String) -> Int64? {
        struct Answer: Decodable {
            struct Error: Decodable { var retryAfterMs: Int64? }
            var error: Error
        }
        return (try? JSONDecoder().decode(Answer.self, from: Data(body.utf8)))?.error.retryAfterMs
    }

    /// The `connect.http` of a 421 `FailedOperation.Moved` answer (a cluster node that does not serve clients).
    static func movedURL(_ body: String) -> String? {
        struct Answer: Decodable {
            struct Connect: Decodable { var http: String }
            var connect: Connect
        }
        return (try? JSONDecoder().decode(Answer.self, from: Data(body.utf8)))?.connect.http
    }

    var id: String
    var index: Int
    var transport: SimTransport
    var behaviour: SimBehaviour
    var context: SimContext
    /// Behaves as a throttled background tab (`--throttled`): a heartbeat a minute, pings still answered.
    var throttled = false

    /// Runs the user's script with a session already created.
    func run(_ session: TetherBackend.CreatedSession) async {
        context.ledger.register(session.sessionId, user: id)
        switch transport {
        case .websocket, .tcp: await runSocket(session)
        case .http: await runHTTP(session)
        }
    }

    /// A new user in place of one that left: creates its session, then runs steadily to the end.
    private func join() async {
        let user = SimUser(
            id: id + "r", index: index, transport: transport, behaviour: .steady, context: context)
        do {
            let session = try await context.create(user.id)
            context.ledger.count { $0.churnJoined += 1 }
            await user.run(session)
        } catch {
            context.ledger.count { $0.connectFailures += 1 }
            context.ledger.error("join \(user.id): \(error)")
        }
    }

    private func sleep(until offset: Duration) async {
        try? await Task.sleep(until: context.start + offset, clock: .continuous)
    }

    // MARK: - WebSocket and TCP (the SDK)

    private func runSocket(_ session: TetherBackend.CreatedSession) async {
        var configuration = context.client
        configuration.localAddress = context.source(index)
        if throttled {
            context.ledger.count { $0.throttled += 1 }
            var disturbance = configuration.disturbance ?? HeartbeatDisturbance()
            disturbance.pingEvery = .seconds(60)
            configuration.disturbance = disturbance
        }
        let client: TetherClient
        do {
            client = try TetherClient(
                session: session, transport: transport == .tcp ? .tcp : .websocket, configuration: configuration)
        } catch {
            context.ledger.error("\(id): \(error)")
            return
        }
        let ledger = context.ledger
        let grace = Duration.milliseconds(session.reconnectGraceMs) + .seconds(5)
        let watch = SimWatch(ledger: ledger, user: id)
        let reader = Task { await watch.follow(client) }
        defer { reader.cancel() }
        do {
            try await client.connect()
            ledger.count { $0.connected += 1 }
        } catch {
            ledger.count { $0.connectFailures += 1 }
            ledger.error("\(id) did not connect: \(error)")
            ledger.abandon(session.sessionId)
            await client.close()
            return
        }
        switch behaviour {
        case .steady:
            break
        case .churn(let at):
            await sleep(until: at)
            ledger.abandon(session.sessionId)
            watch.expect()
            await client.close()
            ledger.count { $0.churnLeft += 1 }
            await reader.value
            return await join()
        case .kill(let at):
            await sleep(until: at)
            let before = watch.seen
            guard let epoch = before.session?.epoch, before.ended == nil else { break }
            ledger.disturb(session.sessionId, epoch: epoch)
            watch.expect()
            ledger.count { $0.kills += 1 }
            await client.dropConnection()
            let after = await watch.wait(timeout: grace) { $0.welcomes > before.welcomes || $0.ended != nil }
            if let back = after.session, after.welcomes > before.welcomes {
                let same = back.concurrencyId == before.session?.concurrencyId
                ledger.count {
                    if same { $0.killsSameConcurrency += 1 } else { $0.killsOtherConcurrency += 1 }
                }
            } else {
                ledger.count { $0.killsNotBack += 1 }
                ledger.error("\(id) not back after a kill: \(after.ended.map { "\($0)" } ?? "-")")
            }
        case .silent(let at):
            await sleep(until: at)
            let before = watch.seen
            guard let epoch = before.session?.epoch else { break }
            watch.expect()
            guard let last = await client.goSilent() else { break }
            ledger.silenced(session.sessionId, epoch: epoch, lastSentMs: last, timeoutMs: context.timeoutMs)
            // The server kicks the connection once it noticed; the SDK then resumes by itself.
            _ = await watch.wait(timeout: .milliseconds(context.timeoutMs) + .seconds(5)) {
                $0.losses > before.losses || $0.ended != nil
            }
        case .suspend(let at, let length):
            await sleep(until: at)
            do {
                try await client.suspend(expected: length + .milliseconds(context.timeoutMs), reason: .background)
                ledger.count { $0.suspensions += 1 }
                try await Task.sleep(for: length)
                try await client.endSuspension()
                ledger.count { $0.suspensionsResumed += 1 }
            } catch {
                ledger.error("\(id) suspension: \(error)")
            }
        }
        try? await Task.sleep(until: context.end, clock: .continuous)
        // A kill or a silence may still be resuming: give it until its welcome.
        let seen = watch.seen
        if seen.ended == nil, case .reconnecting = await client.state {
            _ = await watch.wait(timeout: min(grace, context.settle)) {
                $0.welcomes > seen.welcomes || $0.ended != nil
            }
        }
        // Held at the end: once a resume that was under way has landed (sampling at the end instant
        // instead raced detections and resumes that straddle it).
        switch await client.state {
        case .connected, .suspended: ledger.count { $0.heldAtEnd += 1 }
        default: break
        }
        watch.finish()
        ledger.abandon(session.sessionId)
        watch.expect()
        await client.close()
        await reader.value
    }

    // MARK: - HTTP heartbeats

    private func runHTTP(_ session: TetherBackend.CreatedSession) async {
        let ledger = context.ledger
        let requestTimeout = Duration.milliseconds(max(2_000, context.timeoutMs))
        guard
            var link = SimHTTPLink(
                url: session.connect.http, token: session.clientToken, localAddress: context.source(index),
                group: context.client.eventLoopGroup, requestTimeout: requestTimeout, tls: context.client.tls)
        else {
            ledger.error("\(id): no usable http URL \(session.connect.http)")
            return
        }
        var seq: UInt64 = 0
        var lastSent = 0.0
        var gauge: SimLedger.Gauge?
        func move(_ new: SimLedger.Gauge) {
            if gauge != new { ledger.move(from: gauge, to: new) }
            gauge = new
        }
        /// An outage the sim did not cause: since the first heartbeat that failed, until one succeeds.
        var outageSince: Double?
        /// When a `busy` answer said to come back.
        var notBefore: ContinuousClock.Instant?
        /// The last failure was the server's or the network's (no answer, a 5xx), not a refusal of the session.
        var transientFailure = false
        func send(_ message: ClientMessage) async -> Bool {
            do {
                var answer = try await link.post(message.json)
                // A cluster node that does not serve clients names the one that does: go there at once (as the
                // SDKs follow `moved`), at most a few times in a row.
                var moves = 0
                while answer.status == 421, moves < 3, let url = SimUser.movedURL(answer.body),
                    let moved = SimHTTPLink(
                        url: url, token: session.clientToken, localAddress: context.source(index),
                        group: context.client.eventLoopGroup, requestTimeout: requestTimeout, tls: context.client.tls)
                {
                    moves += 1
                    await link.close()
                    link = moved
                    answer = try await link.post(message.json)
                }
                if lastSent > 0 && answer.sentMs - lastSent > Double(context.timeoutMs) {
                    // The sim itself (starved of CPU) let the heartbeat timeout pass: not the server's fault.
                    ledger.count { $0.lateHeartbeats += 1 }
                }
                lastSent = answer.sentMs
                if answer.status == 200 {
                    if let since = outageSince { ledger.outage(since: since, back: SimLedger.nowMs()) }
                    outageSince = nil
                    return true
                }
                transientFailure = answer.status >= 500
                if answer.status == 503, let retry = SimUser.retryAfterMs(answer.body) {
                    // Over the server's hello rate, or shutting down: come back when it says.
                    notBefore = ContinuousClock.now + .milliseconds(retry)
                }
                ledger.error("\(id): heartbeat answered \(answer.status) \(answer.body.prefix(120))")
            } catch {
                transientFailure = true
                ledger.error("\(id): heartbeat failed: \(error)")
            }
            if outageSince == nil { outageSince = SimLedger.nowMs() }
            return false
        }
        func ping() async -> Bool {
            seq += 1
            return await send(.ping(seq: seq, t: Int64(SimLedger.nowMs())))
        }
        /// Heartbeats every interval until `deadline`.
        func beat(until deadline: ContinuousClock.Instant) async {
            var failures = 0
            while ContinuousClock.now < deadline {
                var next = ContinuousClock.now + .milliseconds(context.intervalMs)
                if await ping() {
                    failures = 0
                } else {
                    ledger.clientLoss("\(id): a heartbeat failed")
                    // The reconnect rules: after no answer or a 5xx, the next try after the SDK's backoff, not
                    // a whole interval later.
                    failures = transientFailure ? failures + 1 : 0
                    if failures > 0 {
                        let delay = context.client.backoff.delay(attempt: failures, unit: Double.random(in: 0..<1))
                        next = min(next, ContinuousClock.now + delay)
                    }
                }
                if let wait = notBefore {
                    next = max(next, wait)
                    notBefore = nil
                }
                try? await Task.sleep(until: min(next, deadline), clock: .continuous)
            }
        }
        /// The silence of a silent client is on purpose: it resets the gap.
        func forgetLastSent() { lastSent = 0 }
        // The first heartbeat connects the session. One that got no answer (or a 5xx) may still have reached
        // the server, which then holds the session as connected: try again with the SDK's backoff, as a socket
        // client retries its hello, until the run ends, instead of walking away from a session the server
        // holds (under a loaded machine 9, then with five tries 99, of 2 000 clients did, and their sessions
        // never came back after the crash, CrashStormTests in fresh-clone CI runs).
        var connectAttempts = 1
        var first = await ping()
        while !first, transientFailure, ContinuousClock.now < context.end {
            var next =
                ContinuousClock.now
                + context.client.backoff.delay(attempt: min(connectAttempts, 4), unit: Double.random(in: 0..<1))
            if let wait = notBefore {
                next = max(next, wait)
                notBefore = nil
            }
            try? await Task.sleep(until: next, clock: .continuous)
            outageSince = nil  // not yet connected: no outage of a session it never held
            connectAttempts += 1
            first = await ping()
        }
        guard first else {
            ledger.count { $0.connectFailures += 1 }
            ledger.abandon(session.sessionId)
            await link.close()
            return
        }
        ledger.count { $0.connected += 1 }
        move(.connected)
        var end = context.end
        switch behaviour {
        case .steady, .kill:
            break
        case .churn(let at):
            await beat(until: context.start + at)
            ledger.abandon(session.sessionId)
            _ = await send(.bye)
            ledger.count { $0.churnLeft += 1 }
            move(.ended)
            await link.close()
            return await join()
        case .silent(let at):
            await beat(until: context.start + at)
            // A virtual connection: the epoch stays the token's.
            ledger.silenced(
                session.sessionId, epoch: session.epoch, lastSentMs: lastSent, timeoutMs: context.timeoutMs)
            try? await Task.sleep(for: context.silence)
            forgetLastSent()
            end = max(end, ContinuousClock.now)
        case .suspend(let at, let length):
            await beat(until: context.start + at)
            if await send(
                .suspend(
                    expectedMs: (length + .milliseconds(context.timeoutMs)).wholeMilliseconds, reason: "background"))
            {
                ledger.count { $0.suspensions += 1 }
                move(.suspended)
                try? await Task.sleep(for: length)
                forgetLastSent()
                if await ping() {
                    ledger.count { $0.suspensionsResumed += 1 }
                    move(.connected)
                }
            }
        }
        await beat(until: end)
        // Out at the end (a heartbeat that failed late): keep trying a little, as a socket client keeps
        // resuming, before calling the outage not over.
        let settleEnd = end + context.settle
        while outageSince != nil && ContinuousClock.now < settleEnd {
            let delay = context.client.backoff.delay(attempt: 1, unit: Double.random(in: 0..<1))
            try? await Task.sleep(for: max(delay, .milliseconds(100)))
            _ = await ping()
        }
        if let since = outageSince { ledger.outage(since: since, back: nil) }
        if gauge == .connected || gauge == .suspended { ledger.count { $0.heldAtEnd += 1 } }
        ledger.abandon(session.sessionId)
        _ = await send(.bye)
        move(.ended)
        await link.close()
    }
}
