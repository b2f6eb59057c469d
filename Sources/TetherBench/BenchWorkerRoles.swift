import NIOCore

// The roles of a load process once `start` arrives. All on the worker's event loop.
extension LoadWorker {
    /// Starts the role at wall time `startMs`.
    func start(at startMs: Double) {
        guard !started, !stopped else { return }
        started = true
        windowStartCPU = BenchProc.selfCPU()
        switch config.role {
        case .expire: startExpire(at: startMs)
        case .hammer: startHammer(at: startMs)
        case .release: startRelease(at: startMs)
        case .api: startAPI(at: startMs)
        case .heartbeat, .idle, .storm: break  // until `stop`
        case .queued:
            for client in clients {  // pushes are counted from now until `stop`
                client.pushes = 0
                client.minPushGapMs = .infinity
            }
        }
    }

    // MARK: - expire

    /// Client `i` (global index `firstIndex + i`) sends its last ping at start + index / rate, then stays
    /// silent: no pings, no answers to server pings. Ends when every client is closed (or 10 s after the last
    /// deadline).
    private func startExpire(at startMs: Double) {
        let rate = config.expireRate
        var last = startMs
        for client in clients where client.phase == .live {
            let offset = rate > 0 ? Double(config.firstIndex + client.index) * 1_000 / rate : 0
            last = max(last, startMs + offset)
            client.timer = at(startMs + offset) { [client] in
                client.repeated?.cancel()
                client.answersPings = false
                client.readsPongFields = true
                client.mark = client.seq + 1
                client.sendPing()
            }
        }
        at(last + Double(config.timeoutMs) + 10_000) { [self] in finish() }
        if clients.allSatisfy({ $0.phase == .closed }) { finish() }
    }

    // MARK: - hammer

    /// Closed-loop pings: each client sends its next ping when the pong of the last one arrives, but never
    /// sooner than 1/`perConnectionRate` s after it (the server's limit is 50/s per connection); clients that
    /// must wait are parked and sent from a 2 ms timer. Pongs are counted in the window after the warm-up.
    private func startHammer(at startMs: Double) {
        hammer.minGapNs = UInt64(1_000_000_000 / max(1, config.perConnectionRate))
        let windowStart = startMs + Double(config.warmupMs)
        let windowEnd = windowStart + Double(config.windowMs)
        at(startMs) { [self] in
            hammer.running = true
            for client in clients where client.phase == .live {
                client.repeated?.cancel()
                client.sendPing()
            }
            hammer.drain = loop.scheduleRepeatedTask(initialDelay: .milliseconds(2), delay: .milliseconds(2)) {
                [self] _ in drainParked()
            }
        }
        at(windowStart) { [self] in
            windowStartCPU = BenchProc.selfCPU()
            hammer.inWindow = true
        }
        at(windowEnd) { [self] in
            hammer.inWindow = false
            hammer.running = false
            hammer.drain?.cancel()
            finish()
        }
    }

    func hammerPong(_ client: LoadClient) {
        let now = BenchProc.monotonicNs()
        if hammer.inWindow {
            result.windowCount += 1
            if latencies.count < 1_000_000 { latencies.append(Double(now &- client.lastPingNs) / 1_000_000) }
        }
        guard hammer.running else { return }
        if now &- client.lastPingNs >= hammer.minGapNs {
            client.sendPing()
        } else {
            hammer.parked.append(client)
        }
    }

    private func drainParked() {
        guard hammer.running, !hammer.parked.isEmpty else { return }
        let now = BenchProc.monotonicNs()
        var waiting: [LoadClient] = []
        for client in hammer.parked {
            if now &- client.lastPingNs >= hammer.minGapNs {
                client.sendPing()
            } else {
                waiting.append(client)
            }
        }
        hammer.parked = waiting
    }
}

/// The closed-loop state of a `hammer` worker.
struct HammerState {
    var minGapNs: UInt64 = 25_000_000
    var running = false
    var inWindow = false
    var parked: [LoadClient] = []
    var drain: RepeatedTask?
}
