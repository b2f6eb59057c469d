import Logging
import Synchronization
import TetherCore
import TetherStore

/// A node's own copy of the cluster's event feed, so that `GET /v1/events` and its SSE stream are served by
/// whichever node a reader calls, not forwarded to the owner. While an SSE stream follows it, it listens for the
/// owner's notices (`LISTEN tether_events`, ``PostgresStore/listenForEvents(_:)``) and on each one reads the
/// events committed after its cursor and publishes them to its ``EventFeed``; it also looks every second, for a
/// notice lost while its connection was down. With no stream it reads nothing (a busy cluster's notices would
/// otherwise cost every node a read up to 50 times a second), and each `GET /v1/events` brings it up to date
/// first (``refresh()``), so a page is never staler than the call. One writer commits events in cursor order,
/// so reading "after my cursor" never skips one that commits late. A reader's stream on a follower outlives the
/// owner: after a takeover the new owner's events come the same way.
final class EventMirror: Sendable {
    /// The feed the follower's event routes read.
    let feed: EventFeed
    /// The store it reads from (its own pool).
    let store: PostgresStore
    private let logger: Logger
    /// How often it looks without a notice.
    let pollMs: Int64
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// How far behind a refresh reads the events it missed; further, it skips to the last committed cursor
    /// (readers that far behind read the store).
    static let catchUpLimit: UInt64 = 1_000

    /// Opens its own store on `url` and starts at the last committed event.
    static func open(_ url: PostgresURL, logger: Logger, pollMs: Int64 = 1_000) async throws -> EventMirror {
        let store = try await PostgresStore.open(url, logger: logger)
        do {
            return EventMirror(store: store, cursor: try await store.lastEventCursor(), logger: logger, pollMs: pollMs)
        } catch {
            try? await store.close()
            throw error
        }
    }

    init(store: PostgresStore, cursor: UInt64, logger: Logger, pollMs: Int64) {
        self.store = store
        self.feed = EventFeed(cursor: cursor)
        self.logger = logger
        self.pollMs = pollMs
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Follows the log until cancelled; then closes the feed (its streams end) and the store.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen() }
            group.addTask { await self.tick() }
            group.addTask { await self.follow() }
            await group.next()
            group.cancelAll()
        }
        feed.close()
        store.abandon()
        try? await store.close()
    }

    /// Holds a listening connection, again after each failure.
    private func listen() async {
        while !Task.isCancelled {
            do {
                let feed = feed
                let wake = wake
                wake.yield()  // a notice may have gone while no connection listened
                try await store.listenForEvents { cursor in
                    if cursor > feed.durableCursor { wake.yield() }
                }
            } catch {
                logger.debug("the event mirror's listening connection failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    private func tick() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(pollMs))
            wake.yield()
        }
    }

    /// Reads what was committed after the feed's cursor on each wake.
    private func follow() async {
        for await _ in wakes {
            if Task.isCancelled { return }
            // Only for streams (a page refreshes itself); a stream that began while this node was a follower
            // goes on reading it after a takeover.
            guard feed.hasSubscribers else { continue }
            do {
                try await refresh()
            } catch {
                logger.debug("the event mirror could not read the log", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Brings the feed up to the last committed event: reads what it missed, or, when that is more than
    /// ``catchUpLimit`` events (it was idle), skips to the last cursor.
    func refresh() async throws {
        let last = try await store.lastEventCursor()
        let durable = feed.durableCursor
        if last > durable + Self.catchUpLimit {
            feed.skip(to: last)
        } else if last > durable {
            try await catchUp()
        }
    }

    /// Reads and publishes every event after the feed's cursor.
    func catchUp() async throws {
        while true {
            let cursor = feed.durableCursor
            let events = try await store.events(after: cursor, projectId: nil, limit: 1_000)
            feed.publish(events)
            if events.count < 1_000 { return }
        }
    }
}
