import ArgumentParser
import TetherClient
import TetherProtocol

/// `tether projects`: CreateApplicationProject, DescribeApplicationProjects, ModifyApplicationProject,
/// DeleteApplicationProjects.
struct Projects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, show, change and delete projects (pools of concurrency and their policy).",
        subcommands: [Create.self, List.self, Get.self, Update.self, Delete.self])

    /// `tether projects create <id>`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project; absent policy flags take the server's defaults.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var id: String
        @OptionGroup var policy: PolicyOptions

        func validate() throws { try policy.validate(update: false) }

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.createProject(id: id, policy: policy.policy)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                Output.line(ProjectView.fields(try await backend.send(request)))
            }
        }
    }

    /// `tether projects list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")
        @OptionGroup var options: BackendOptions

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                if options.json { return Output.raw(try await backend.data(for: .projects)) }
                ProjectView.table(try await backend.send(.projects).projects).print()
            }
        }
    }

    /// `tether projects get <id>`.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var id: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                if options.json { return Output.raw(try await backend.data(for: .project(id))) }
                Output.line(ProjectView.fields(try await backend.send(.project(id))))
            }
        }
    }

    /// `tether projects update <id>`.
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a project's name or policy; only the flags given change.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var id: String
        @OptionGroup var policy: PolicyOptions
        @Flag(name: .customLong("remove-webhook"), help: "Remove the project's webhook.") var removeWebhook = false
        @Flag(name: .customLong("any-origin"), help: "Let pages of any origin connect clients again.")
        var anyOrigin = false

        func validate() throws {
            try policy.validate(update: true)
            if removeWebhook && policy.webhookURL != nil {
                throw ValidationError("--remove-webhook and --webhook-url cannot be used together")
            }
            if anyOrigin && !policy.allowedOrigins.isEmpty {
                throw ValidationError("--any-origin and --allowed-origin cannot be used together")
            }
            if !removeWebhook && !anyOrigin && policy.isEmpty {
                throw ValidationError("nothing to change: give at least one policy flag")
            }
        }

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                var change = policy.policy
                change.removeWebhook = removeWebhook
                change.anyOrigin = anyOrigin
                let request = BackendRequest.updateProject(id, change)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                Output.line(ProjectView.fields(try await backend.send(request)))
            }
        }
    }

    /// `tether projects delete <id>`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a project; its sessions end with reason projectDeleted.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var id: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.deleteProject(id)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let project = try await backend.send(request)
                Output.line("deleted project \(project.id)")
            }
        }
    }
}

/// The policy flags of `projects create` and `projects update`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "Display name.") var name: String?
    @Option(help: "Concurrency slots (default 10).") var capacity: Int?
    @Option(name: .customLong("heartbeat-interval-ms"), help: "How often clients ping (default 5000).")
    var heartbeatIntervalMs: Int64?
    @Option(name: .customLong("heartbeat-timeout-ms"), help: "Silence that loses a connection (default 15000).")
    var heartbeatTimeoutMs: Int64?
    @Option(name: .customLong("grace-ms"), help: "reconnectGraceMs: how long a lost session is held (default 90000).")
    var graceMs: Int64?
    @Option(name: .customLong("reservation-ttl-ms"), help: "Apply → create window (default 30000).")
    var reservationTtlMs: Int64?
    @Option(name: .customLong("connect-timeout-ms"), help: "Create → first connection window (default 60000).")
    var connectTimeoutMs: Int64?
    @Option(name: .customLong("max-suspend-ms"), help: "Longest suspension honoured (default 300000).")
    var maxSuspendMs: Int64?
    @Option(name: .customLong("webhook-url"), help: "Where lifecycle events are POSTed.") var webhookURL: String?
    @Option(
        name: .customLong("webhook-secret"),
        help: "HMAC-SHA256 secret of webhook-signature (Standard Webhooks; whsec_<base64> or any text).")
    var webhookSecret: String?
    @Option(name: .customLong("queue"), help: "on or off: queue users who apply with --queue when the pool is full.")
    var queue: QueueSwitch?
    @Option(
        name: .customLong("queue-offer-ttl-ms"),
        help: "How long a freed concurrency is held for the head ticket (default 30000).")
    var queueOfferTtlMs: Int64?
    @Option(name: .customLong("queue-max-length"), help: "The most tickets the queue holds (default 10000).")
    var queueMaxLength: Int?
    @Option(
        name: .customLong("queue-client-timeout-ms"),
        help: "Silence that ends a connected queued client's ticket (default 30000).")
    var queueClientTimeoutMs: Int64?
    @Option(
        name: .customLong("allowed-origin"),
        help: "A browser origin (https://host[:port]) whose pages may connect clients; repeat for several.")
    var allowedOrigins: [String] = []

    /// `--queue on|off`.
    enum QueueSwitch: String, ExpressibleByArgument { case on, off }

    /// Checks what the server cannot see: a secret needs a URL, and a URL a secret.
    func validate(update: Bool) throws {
        if webhookSecret != nil && webhookURL == nil {
            throw ValidationError("--webhook-secret needs --webhook-url")
        }
        if webhookURL != nil && webhookSecret == nil {
            throw ValidationError("--webhook-url needs --webhook-secret")
        }
    }

    /// No flag given.
    var isEmpty: Bool {
        name == nil && capacity == nil && heartbeatIntervalMs == nil && heartbeatTimeoutMs == nil && graceMs == nil
            && reservationTtlMs == nil && connectTimeoutMs == nil && maxSuspendMs == nil && webhookURL == nil
            && queueSetting == nil && allowedOrigins.isEmpty
    }

    /// The queue flags given, if any.
    var queueSetting: TetherBackend.QueueSetting? {
        guard queue != nil || queueOfferTtlMs != nil || queueMaxLength != nil || queueClientTimeoutMs != nil else {
            return nil
        }
        return TetherBackend.QueueSetting(
            enabled: queue.map { $0 == .on }, offerTtlMs: queueOfferTtlMs, maxLength: queueMaxLength,
            clientTimeoutMs: queueClientTimeoutMs)
    }

    /// The policy change.
    var policy: TetherBackend.Policy {
        TetherBackend.Policy(
            name: name, capacity: capacity, heartbeatIntervalMs: heartbeatIntervalMs,
            heartbeatTimeoutMs: heartbeatTimeoutMs, reconnectGraceMs: graceMs, reservationTtlMs: reservationTtlMs,
            connectTimeoutMs: connectTimeoutMs, maxSuspendMs: maxSuspendMs,
            webhook: webhookURL.flatMap { url in webhookSecret.map { TetherBackend.Webhook(url: url, secret: $0) } },
            queue: queueSetting, allowedOrigins: allowedOrigins.isEmpty ? nil : allowedOrigins)
    }
}

/// How projects print.
enum ProjectView {
    static func table(_ projects: [TetherBackend.Project]) -> Table {
        Table(
            headers: [
                "ID", "NAME", "CAPACITY", "INTERVAL", "TIMEOUT", "GRACE", "RESERVATION", "CONNECT", "SUSPEND",
                "WEBHOOK",
            ],
            rows: projects.map { p in
                [
                    p.id, p.name, String(p.capacity), Output.duration(p.heartbeat.intervalMs),
                    Output.duration(p.heartbeat.timeoutMs), Output.duration(p.reconnectGraceMs),
                    Output.duration(p.reservationTtlMs), Output.duration(p.connectTimeoutMs),
                    Output.duration(p.maxSuspendMs), p.webhook?.url ?? "-",
                ]
            })
    }

    static func fields(_ p: TetherBackend.Project) -> String {
        Table.fields([
            ("id", p.id), ("name", p.name), ("capacity", String(p.capacity)),
            ("heartbeat.intervalMs", String(p.heartbeat.intervalMs)),
            ("heartbeat.timeoutMs", String(p.heartbeat.timeoutMs)), ("reconnectGraceMs", String(p.reconnectGraceMs)),
            ("reservationTtlMs", String(p.reservationTtlMs)), ("connectTimeoutMs", String(p.connectTimeoutMs)),
            ("maxSuspendMs", String(p.maxSuspendMs)), ("webhook", p.webhook?.url ?? "-"),
            ("allowedOrigins", p.allowedOrigins.map { $0.isEmpty ? "none" : $0.joined(separator: " ") } ?? "any"),
            ("createdAt", Output.time(p.createdAt)), ("updatedAt", Output.time(p.updatedAt)),
        ])
    }
}
