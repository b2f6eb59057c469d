import ArgumentParser
import Foundation
import TetherClient
import TetherProtocol

/// `tether sessions`: CreateSession, DestroySession, and reading sessions.
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, show and destroy sessions.",
        subcommands: [Create.self, List.self, Get.self, Destroy.self])

    /// `tether sessions create <project> <user>`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a session for a user with a live reservation (CreateSession); prints its client token.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var project: String
        @Argument(help: "The user's id.") var user: String
        @Option(name: .customLong("user-ip"), help: "The user's IP address.") var userIp: String?
        @Option(name: .customLong("client-session"), help: "CAR's ClientSession, stored as given.")
        var clientSession: String?
        @Option(name: .customLong("run-mode"), help: "CAR's RunMode, stored as given.") var runMode: String?
        @Option(help: "Any JSON value, stored as given.") var parameters: String?

        func validate() throws {
            if let parameters, !JSONText.isValid(parameters) {
                throw ValidationError("--parameters must be JSON")
            }
        }

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.createSession(
                    project: project, userId: user, userIp: userIp, clientSession: clientSession, runMode: runMode,
                    parametersJSON: parameters)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let s = try await backend.send(request)
                Output.line(
                    Table.fields([
                        ("sessionId", s.sessionId), ("userId", s.userId), ("concurrencyId", s.concurrencyId),
                        ("epoch", String(s.epoch)), ("state", s.state), ("clientToken", s.clientToken),
                        ("connect.websocket", s.connect.websocket), ("connect.tcp", s.connect.tcp ?? "-"),
                        ("connect.http", s.connect.http),
                        ("heartbeat", "\(s.heartbeat.intervalMs)ms every, \(s.heartbeat.timeoutMs)ms timeout"),
                        ("reconnectGraceMs", String(s.reconnectGraceMs)),
                    ]))
            }
        }
    }

    /// `tether sessions list <project>`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a project's live sessions (or --state ended for the ended ones).")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var project: String
        @Option(help: "created, connected, suspended, grace or ended.") var state: String?

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.sessions(project: project, state: state)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                SessionView.table(try await backend.send(request).sessions).print()
            }
        }
    }

    /// `tether sessions get <sessionId>`.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a session with its history and stats.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The session's id.") var sessionId: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.session(sessionId)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let s = try await backend.send(request)
                Output.line(SessionView.fields(s))
                Output.line("")
                Table(
                    headers: ["AT", "EVENT", "STATE", "EPOCH", "CAUSE"],
                    rows: s.history.map {
                        [Output.time($0.at), $0.type, $0.state, String($0.epoch), $0.reason ?? $0.cause ?? "-"]
                    }
                ).print()
            }
        }
    }

    /// `tether sessions destroy <sessionId>` or `--project P --user U`.
    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy a session (DestroySession): by id, or by --project and --user.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The session's id.") var sessionId: String?
        @Option(help: "The project (with --user).") var project: String?
        @Option(help: "The user (with --project).") var user: String?

        func validate() throws {
            switch (sessionId, project, user) {
            case (.some, nil, nil), (nil, .some, .some): break
            default: throw ValidationError("give a session id, or both --project and --user")
            }
        }

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request: BackendRequest<TetherBackend.Session> =
                    if let sessionId { .destroySession(sessionId) } else {
                        .destroySession(project: project ?? "", userId: user ?? "")
                    }
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let s = try await backend.send(request)
                Output.line("destroyed session \(s.sessionId) (\(s.userId), \(s.concurrencyId))")
            }
        }
    }
}

/// How sessions print.
enum SessionView {
    static func table(_ sessions: [TetherBackend.Session]) -> Table {
        Table(
            headers: ["SESSION", "USER", "CONCURRENCY", "EPOCH", "STATE", "TRANSPORT", "CAUSE", "DEADLINE"],
            rows: sessions.map { s in
                [
                    s.sessionId, s.userId, s.concurrencyId, String(s.epoch), s.state, s.transport ?? "-",
                    s.endReason ?? s.lastCause ?? "-", Output.time(s.deadlineAt),
                ]
            })
    }

    static func fields(_ s: TetherBackend.Session) -> String {
        func ms(_ v: Double?) -> String { v.map { String(format: "%.2fms", $0) } ?? "-" }
        var pairs: [(String, String)] = [
            ("sessionId", s.sessionId), ("projectId", s.projectId), ("userId", s.userId),
            ("concurrencyId", s.concurrencyId), ("epoch", String(s.epoch)), ("state", s.state),
        ]
        if let r = s.endReason { pairs.append(("endReason", r)) }
        if let c = s.lastCause { pairs.append(("lastCause", c)) }
        pairs += [
            ("transport", s.transport ?? "-"), ("deadlineAt", Output.time(s.deadlineAt)),
            ("createdAt", Output.time(s.createdAt)), ("updatedAt", Output.time(s.updatedAt)),
        ]
        if let e = s.endedAt { pairs.append(("endedAt", Output.time(e))) }
        if let h = s.lastHeartbeatAt { pairs.append(("lastHeartbeatAt", Output.time(h))) }
        if let stats = s.stats {
            pairs += [
                ("rtt p50/p99", "\(ms(stats.rttMs.p50)) / \(ms(stats.rttMs.p99))"), ("jitter", ms(stats.jitterMs)),
                ("lossRate", stats.lossRate.map { String(format: "%.4f", $0) } ?? "-"),
                ("heartbeats", String(stats.heartbeats)),
            ]
        }
        return Table.fields(pairs)
    }
}
