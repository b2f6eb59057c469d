import ArgumentParser
import Foundation
import TetherClient
import TetherProtocol

/// `tether events [--follow]`: the ordered lifecycle feed.
///
/// `--follow` reads the Server-Sent Events stream (`GET /v1/events`, `Accept: text/event-stream`) and prints
/// each event as it comes; after a dropped connection or a server restart it reconnects with `Last-Event-ID`
/// set to the last cursor printed (backoff 0.25 s doubling up to 5 s, with jitter), so nothing is lost or
/// printed twice; an `https://` URL is read over TLS (`--ca-file`, or the system's roots). `--poll` polls
/// `GET /v1/events?after=<cursor>` every `--interval-ms` instead.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List lifecycle events after a cursor; --follow keeps printing new ones (Ctrl-C stops).")
    @OptionGroup var options: BackendOptions
    @Option(help: "Only this project's events.") var project: String?
    @Option(help: "Start after this cursor (default 0: from the first event).") var after: UInt64?
    @Option(help: "Events per request, 1...1000 (default 100).") var limit: Int?
    @Flag(help: "Keep printing new events.") var follow = false
    @Flag(help: "--follow: poll GET /v1/events instead of reading the SSE stream.") var poll = false
    @Option(name: .customLong("interval-ms"), help: "--follow --poll: how often to poll (default 500).")
    var intervalMs: Int = 500

    func validate() throws {
        if let limit, !(1...1_000).contains(limit) { throw ValidationError("--limit must be between 1 and 1000") }
        if intervalMs < 10 { throw ValidationError("--interval-ms must be at least 10") }
    }

    func run() async throws {
        try await runBackendCommand {
            let backend = try options.backend()
            guard follow else {
                let request = BackendRequest.events(after: after, project: project, limit: limit)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let page = try await backend.send(request)
                EventView.table(page.events).print()
                return
            }
            if !options.json { Output.line(EventView.header) }
            if poll {
                try await pollEvents(backend)
            } else {
                try await streamEvents(backend)
            }
        }
    }

    /// Reads the SSE stream from `after`: JSON mode prints each event's JSON as the server sent it, one per
    /// line (NDJSON); table mode one row per event. Reconnects are noted on stderr.
    private func streamEvents(_ backend: TetherBackend) async throws {
        var feed = TetherEventStream(url: backend.url, apiKey: backend.apiKey, project: project)
        feed.alternates = Array(backend.urls.dropFirst())
        feed.tls = backend.tls ?? .system
        let decoder = JSONDecoder()
        let events = feed.follow(after: after ?? 0) { error, delay in
            Output.error("events: \(error); reconnecting in \(Output.duration(delay.wholeMilliseconds))")
        }
        for try await message in events {
            if options.json {
                Output.line(message.data)
            } else if let event = try? decoder.decode(TetherBackend.Event.self, from: Data(message.data.utf8)) {
                Output.line(EventView.row(event))
            }
        }
    }

    /// Polls from `after`: JSON mode prints one event per line (NDJSON), table mode one row per event.
    private func pollEvents(_ backend: TetherBackend) async throws {
        var cursor = after ?? 0
        let pageSize = limit ?? 1_000
        while !Task.isCancelled {
            let request = BackendRequest.events(after: cursor, project: project, limit: pageSize)
            let data: Data
            do {
                data = try await backend.data(for: request)
            } catch is TetherTransportError {
                try await Task.sleep(for: .seconds(1))
                continue
            }
            let page = try JSONDecoder().decode(TetherBackend.EventPage.self, from: data)
            if options.json {
                for line in JSONText.events(of: data) { Output.line(line) }
            } else {
                for event in page.events { Output.line(EventView.row(event)) }
            }
            cursor = max(cursor, page.nextCursor)
            if page.events.count < pageSize { try await Task.sleep(for: .milliseconds(intervalMs)) }
        }
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}

/// How events print.
enum EventView {
    static let columns = ["CURSOR", "AT", "TYPE", "PROJECT", "SESSION", "USER", "CONCURRENCY", "EPOCH", "DETAIL"]
    /// Fixed widths for `--follow`, where rows print as they come.
    static let widths = [8, 24, 22, 12, 36, 12, 16, 5]

    static func cells(_ e: TetherBackend.Event) -> [String] {
        var detail: [String] = []
        if let v = e.data.cause { detail.append("cause=\(v)") }
        if let v = e.data.reason { detail.append("reason=\(v)") }
        if let v = e.data.transport { detail.append("transport=\(v)") }
        if let v = e.data.suspendReason { detail.append("suspend=\(v)") }
        if let v = e.data.reused { detail.append("reused=\(v)") }
        if let v = e.data.retired, v { detail.append("retired") }
        return [
            String(e.cursor), Output.time(e.at), e.type, e.projectId, e.sessionId ?? "-", e.userId, e.concurrencyId,
            e.epoch.map(String.init) ?? "-", detail.isEmpty ? "-" : detail.joined(separator: " "),
        ]
    }

    static func table(_ events: [TetherBackend.Event]) -> Table {
        Table(headers: columns, rows: events.map(cells))
    }

    static var header: String { fixed(columns) }

    static func row(_ e: TetherBackend.Event) -> String { fixed(cells(e)) }

    private static func fixed(_ cells: [String]) -> String {
        var out = ""
        for (i, cell) in cells.enumerated() {
            if i < widths.count {
                out += cell.padding(toLength: max(widths[i], cell.count) + 2, withPad: " ", startingAt: 0)
            } else {
                out += cell
            }
        }
        return out
    }
}

/// JSON helpers of the CLI.
enum JSONText {
    /// Whether `text` is one JSON value.
    static func isValid(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil
    }

    /// Each event of a `{events: [...]}` page as one line of JSON.
    static func events(of page: Data) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: page) as? [String: Any],
            let events = object["events"] as? [Any]
        else { return [] }
        return events.compactMap {
            guard
                let data = try? JSONSerialization.data(
                    withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes])
            else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
