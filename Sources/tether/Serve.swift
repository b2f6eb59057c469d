import ArgumentParser
import Foundation
import Logging
import TetherServer
import TetherStore

/// `tether serve`: every flag can also come from `TETHER_<NAME>` in the environment.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Tether: the backend API and the broker, on the embedded SQLite store or on PostgreSQL.")

    @Option(help: "Interface to bind (env TETHER_HOST).") var host: String?
    @Option(help: "Backend API port, 0 = any free port (env TETHER_PORT).") var port: Int?
    @Option(name: .customLong("client-port"), help: "Client WebSocket / HTTP heartbeat port (env TETHER_CLIENT_PORT).")
    var clientPort: Int?
    @Option(name: .customLong("tcp-port"), help: "Client TCP frame port, 0 = off (env TETHER_TCP_PORT).") var tcpPort:
        Int?
    @Option(name: .customLong("public-url"), help: "Host told to clients in `connect` (env TETHER_PUBLIC_URL).")
    var publicURL: String?
    @Option(
        name: .customLong("node-id"),
        help: "This node's id in a cluster on PostgreSQL, default HOST:PORT (env TETHER_NODE_ID).")
    var nodeId: String?
    @Option(
        name: .customLong("node-timeout-ms"),
        help:
            "A cluster node that has not renewed its membership for this long is dead, default 5000 (env TETHER_NODE_TIMEOUT_MS)."
    )
    var nodeTimeoutMs: Int?
    @Option(help: "SQLite file, shorthand of --store sqlite:PATH (env TETHER_DATA).") var data: String?
    @Option(
        name: .customLong("tls-cert"),
        help:
            "Serve TLS on all three ports with this certificate chain, PEM, leaf first; SIGHUP reloads it (env TETHER_TLS_CERT)."
    )
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The certificate's private key, PEM (env TETHER_TLS_KEY).")
    var tlsKey: String?
    @Option(
        name: .customLong("ca-file"),
        help:
            "With TLS: more CA certificates (PEM) trusted when calling another node of the cluster (env TETHER_CA_FILE)."
    )
    var caFile: String?
    @Option(
        help:
            "Store: sqlite:PATH (the default, ./tether.sqlite) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…] shared by several nodes (env TETHER_STORE)."
    )
    var store: String?
    @Option(
        name: .customLong("api-key"),
        help: "Backend API key; generated and printed once when absent (env TETHER_API_KEY).")
    var apiKey: String?
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error, critical (env TETHER_LOG_LEVEL).")
    var logLevel: String?
    @Flag(
        help:
            "Demo mode: a 'demo' project, the page /demo and an unauthenticated session endpoint; never on the internet (env TETHER_DEMO=1)."
    )
    var demo = false
    @Flag(
        name: .customLong("loop-liveness"), inversion: .prefixedNo,
        help:
            "Record WebSocket/TCP heartbeats on their connections, off the broker's lock (default); --no-loop-liveness sends each one to the broker (env TETHER_LOOP_LIVENESS=0)."
    )
    var loopLiveness: Bool?

    @Option(
        name: .customLong("events-keep"), help: "Keep at most this many of the newest events (env TETHER_EVENTS_KEEP).")
    var eventsKeep: Int?
    @Option(
        name: .customLong("events-max-age-hours"),
        help: "Delete events older than this many hours, default 168 (env TETHER_EVENTS_MAX_AGE_HOURS).")
    var eventsMaxAgeHours: Int?

    @Option(
        name: .customLong("events-keepalive-ms"),
        help:
            "How often an idle event stream sends a keep-alive comment, default 15000 (env TETHER_EVENTS_KEEPALIVE_MS)."
    )
    var eventsKeepAliveMs: Int?

    @Option(name: .customLong("log-format"), help: "text or json (env TETHER_LOG_FORMAT).") var logFormat: String?

    @Option(
        name: .customLong("http-idle-timeout-ms"),
        help:
            "Close an HTTP connection (backend API, client port before a WebSocket upgrade) that waits this long for a request, default 60000 (env TETHER_HTTP_IDLE_TIMEOUT_MS)."
    )
    var httpIdleTimeoutMs: Int?
    @Option(
        name: .customLong("http-read-timeout-ms"),
        help:
            "Close an HTTP connection whose request (head and body) has not arrived this long after its first byte, default 15000 (env TETHER_HTTP_READ_TIMEOUT_MS)."
    )
    var httpReadTimeoutMs: Int?
    @Option(
        name: [.customLong("max-connections-per-ip"), .customLong("max-connections-per-address")],
        help:
            "Open connections one source IP address may hold on each listener; over it a connection is answered 429 (HTTP) or kick tooManyConnections (TCP) and closed; 0 = no cap, default 4096 (env TETHER_MAX_CONNECTIONS_PER_IP or TETHER_MAX_CONNECTIONS_PER_ADDRESS)."
    )
    var maxConnectionsPerAddress: Int?
    @Option(
        name: .customLong("hello-rate"),
        help:
            "Client hellos admitted per second over the server, after a burst of as many; over it a client is told busy with a retryAfterMs, 0 = no limit, default 5000 (env TETHER_HELLO_RATE)."
    )
    var helloRate: Int?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        func value(_ flag: String?, _ name: String) -> String? { flag ?? env["TETHER_\(name)"] }
        func number(_ flag: Int?, _ name: String) throws -> Int? {
            if let flag { return flag }
            guard let raw = env["TETHER_\(name)"] else { return nil }
            guard let n = Int(raw), (0...65_535).contains(n) else {
                throw ValidationError("TETHER_\(name) must be a port number, got '\(raw)'")
            }
            return n
        }
        func count(_ flag: Int?, _ name: String, minimum: Int = 1) throws -> Int? {
            guard
                let n = try flag
                    ?? env["TETHER_\(name)"].map({ raw in
                        guard let n = Int(raw) else {
                            throw ValidationError("TETHER_\(name) must be a number, got '\(raw)'")
                        }
                        return n
                    })
            else { return nil }
            guard n >= minimum else {
                throw ValidationError(
                    "--\(name.lowercased().replacingOccurrences(of: "_", with: "-")) must be at least \(minimum)")
            }
            return n
        }
        var c = TetherConfiguration()
        c.host = value(host, "HOST") ?? c.host
        c.port = try number(port, "PORT") ?? c.port
        c.clientPort = try number(clientPort, "CLIENT_PORT") ?? c.clientPort
        c.tcpPort = try number(tcpPort, "TCP_PORT") ?? c.tcpPort
        c.publicURL = value(publicURL, "PUBLIC_URL")
        c.dataPath = value(data, "DATA") ?? c.dataPath
        if let text = value(store, "STORE") {
            guard value(data, "DATA") == nil else {
                throw ValidationError("--data is the shorthand of --store sqlite:PATH: give one of them")
            }
            do {
                c.store = try StoreLocation(text)
            } catch {
                throw ValidationError("--store: \(error)")
            }
        }
        c.apiKey = value(apiKey, "API_KEY")
        switch (
            value(tlsCert, "TLS_CERT").flatMap { $0.isEmpty ? nil : $0 },
            value(tlsKey, "TLS_KEY").flatMap { $0.isEmpty ? nil : $0 }
        ) {
        case (let cert?, let key?): c.tls = TLSFiles(certificatePath: cert, keyPath: key)
        case (nil, nil): break
        default: throw ValidationError("--tls-cert and --tls-key go together: give both or neither")
        }
        c.peerCAFile = value(caFile, "CA_FILE").flatMap { $0.isEmpty ? nil : $0 }
        if c.peerCAFile != nil && c.tls == nil {
            throw ValidationError("--ca-file is for TLS between nodes: give --tls-cert and --tls-key too")
        }
        if let id = value(nodeId, "NODE_ID") {
            guard !id.isEmpty, id.utf8.count <= 128, !id.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw ValidationError("--node-id must be 1 to 128 characters without control characters")
            }
            c.nodeId = id
        }
        if let ms = try count(nodeTimeoutMs, "NODE_TIMEOUT_MS", minimum: 200) { c.nodeTimeoutMs = Int64(ms) }
        if let level = value(logLevel, "LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ValidationError("unknown log level '\(level)'")
            }
            c.logLevel = parsed
        }
        if demo {
            c.demo = true
        } else if let raw = env["TETHER_DEMO"] {
            switch raw.lowercased() {
            case "1", "true", "yes", "on": c.demo = true
            case "0", "false", "no", "off", "": c.demo = false
            default: throw ValidationError("TETHER_DEMO must be 1 or 0, got '\(raw)'")
            }
        }
        if let loopLiveness {
            c.loopLiveness = loopLiveness
        } else if let raw = env["TETHER_LOOP_LIVENESS"] {
            switch raw.lowercased() {
            case "1", "true", "yes", "on": c.loopLiveness = true
            case "0", "false", "no", "off": c.loopLiveness = false
            default: throw ValidationError("TETHER_LOOP_LIVENESS must be 1 or 0, got '\(raw)'")
            }
        }
        if let keep = try count(eventsKeep, "EVENTS_KEEP") { c.eventsKeep = keep }
        if let hours = try count(eventsMaxAgeHours, "EVENTS_MAX_AGE_HOURS") {
            c.eventsMaxAgeMs = Int64(hours) * 3_600_000
        }
        if let ms = try count(eventsKeepAliveMs, "EVENTS_KEEPALIVE_MS") { c.eventStreamKeepAliveMs = Int64(ms) }
        if let ms = try count(httpIdleTimeoutMs, "HTTP_IDLE_TIMEOUT_MS") { c.httpIdleTimeoutMs = Int64(ms) }
        if let ms = try count(httpReadTimeoutMs, "HTTP_READ_TIMEOUT_MS") { c.httpReadTimeoutMs = Int64(ms) }
        if let cap = try count(maxConnectionsPerAddress, "MAX_CONNECTIONS_PER_IP", minimum: 0)
            ?? count(nil, "MAX_CONNECTIONS_PER_ADDRESS", minimum: 0)
        {
            c.maxConnectionsPerAddress = cap
        }
        if let rate = try count(helloRate, "HELLO_RATE", minimum: 0) { c.helloRatePerSecond = Double(rate) }
        for (name, p) in [("port", c.port), ("client-port", c.clientPort), ("tcp-port", c.tcpPort)]
        where !(0...65_535).contains(p) {
            throw ValidationError("--\(name) must be between 0 and 65535")
        }
        let formatName = value(logFormat, "LOG_FORMAT") ?? "text"
        guard let format = LogFormat(rawValue: formatName) else {
            throw ValidationError("unknown log format '\(formatName)' (text or json)")
        }
        format.bootstrap(level: c.logLevel)
        try await TetherServer(configuration: c).run()
    }
}
