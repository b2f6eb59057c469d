import NIOCore

/// The state of an `api` worker.
struct APIState {
    var inWindow = false
    var running = false
    var connections: [BenchHTTPConnection] = []
    var latencies: [String: [Double]] = [:]
}

// `api`: `count` keep-alive connections, each looping apply → create session → destroy session for its own
// user, one request at a time. Every request is a durable operation (the server answers after its commit).
extension LoadWorker {
    func startAPI(at startMs: Double) {
        let windowStart = startMs + Double(config.warmupMs)
        let windowEnd = windowStart + Double(config.windowMs)
        var connecting: [EventLoopFuture<BenchHTTPConnection>] = []
        for _ in 0..<config.count {
            connecting.append(
                BenchHTTPConnection.connect(
                    on: loop, port: config.apiPort, apiKey: config.apiKey, sourceIP: config.sourceIP, tls: tls))
        }
        EventLoopFuture.whenAllSucceed(connecting, on: loop).whenComplete { [self] outcome in
            guard case .success(let conns) = outcome else {
                result.errors["connect", default: 0] += 1
                finish()
                return
            }
            api.connections = conns
            at(startMs) { [self] in
                api.running = true
                for (k, conn) in conns.enumerated() {
                    cycle(conn, user: "\(config.userPrefix)\(config.firstIndex + k)")
                }
            }
        }
        at(windowStart) { [self] in
            windowStartCPU = BenchProc.selfCPU()
            api.inWindow = true
        }
        at(windowEnd) { [self] in
            api.inWindow = false
            api.running = false
            for (kind, samples) in api.latencies {
                if let summary = LatencySummary(samples) { result.latencyByKindMs[kind] = summary }
            }
            latencies = api.latencies.values.flatMap { $0 }
            for conn in api.connections { conn.close() }
            finish()
        }
    }

    /// One apply → create → destroy cycle, then the next.
    private func cycle(_ conn: BenchHTTPConnection, user: String) {
        guard api.running else { return }
        let body = #"{"userId":"\#(user)"}"#
        let project = config.projectId
        timed(conn, "apply", "POST", "/v1/projects/\(project)/concurrency/apply", body) { [self] _ in
            timed(conn, "create", "POST", "/v1/projects/\(project)/sessions", body) { [self] created in
                guard let id = JSONScan.string("sessionId", in: created.body) else {
                    cycle(conn, user: user)
                    return
                }
                timed(conn, "destroy", "DELETE", "/v1/sessions/\(id)", nil) { [self] _ in cycle(conn, user: user) }
            }
        }
    }

    private func timed(
        _ conn: BenchHTTPConnection, _ kind: String, _ method: String, _ path: String, _ body: String?,
        then next: @escaping (HTTPReply) -> Void
    ) {
        guard api.running else { return }
        let sent = BenchProc.monotonicNs()
        let bound = NIOLoopBound(next, eventLoop: loop)
        conn.request(method, path, body: body).whenComplete { [self] outcome in
            switch outcome {
            case .success(let reply):
                if api.inWindow {
                    api.latencies[kind, default: []].append(Double(BenchProc.monotonicNs() - sent) / 1_000_000)
                    if (200..<300).contains(reply.status) {
                        result.windowCount += 1
                    } else {
                        result.errors["\(kind) \(reply.status)", default: 0] += 1
                    }
                }
                bound.value(reply)
            case .failure:
                // Requests cut off when the connections close at the end of the window do not count.
                if api.inWindow { result.errors["\(kind) failed", default: 0] += 1 }
            }
        }
    }
}
