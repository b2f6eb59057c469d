import ArgumentParser
import TetherClient
import TetherProtocol

/// `tether queue`: a project's waiting queue.
struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a project's waiting queue, show one user's ticket, or take a user out of it.",
        subcommands: [List.self, Get.self, Cancel.self])

    /// `tether queue list <project>`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The tickets in queue order: offered ones first, then the waiting ones by position.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var project: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.queue(project: project)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                QueueView.table(try await backend.send(request).tickets).print()
            }
        }
    }

    /// `tether queue get <project> <user>`.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One user's place in the queue, or its offer.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var project: String
        @Argument(help: "The user's id.") var user: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.queueTicket(project: project, userId: user)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                QueueView.table([try await backend.send(request)]).print()
            }
        }
    }

    /// `tether queue cancel <project> <user>`.
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a user out of the queue (an offered concurrency goes to the next ticket).")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The project's id.") var project: String
        @Argument(help: "The user's id.") var user: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.cancelQueueTicket(project: project, userId: user)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                QueueView.table([try await backend.send(request)]).print()
            }
        }
    }
}

/// How tickets print.
enum QueueView {
    static func table(_ tickets: [TetherBackend.QueueTicket]) -> Table {
        Table(
            headers: ["POSITION", "USER", "TICKET", "PRIORITY", "STATE", "ETA", "OFFERED", "UNTIL"],
            rows: tickets.map { t in
                [
                    String(t.position), t.userId, t.ticketId, String(t.priority), t.state, Output.duration(t.etaMs),
                    t.concurrencyId ?? "-", t.reservedUntil.map(Output.time) ?? "-",
                ]
            })
    }
}
