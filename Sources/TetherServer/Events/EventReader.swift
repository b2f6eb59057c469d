import TetherCore
import TetherStore

/// Reads the durable event log from a cursor: from the feed's memory when it reaches back that far, else
/// from the store. Shared by the SSE stream and the webhook dispatchers.
struct EventReader: Sendable {
    let feed: EventFeed
    let store: any Store

    /// Up to `limit` events after `cursor` (of one project, or all), in cursor order, and the cursor the
    /// reader has seen through (past skipped events of other projects).
    func read(after cursor: UInt64, projectId: ProjectID?, limit: Int) async throws -> (
        events: [Event], through: UInt64
    ) {
        if let recent = feed.recent(after: cursor, projectId: projectId, limit: limit) { return recent }
        // Everything up to `durable` was committed before this read starts, so the read sees all of it.
        let durable = feed.durableCursor
        let events = try await store.events(after: cursor, projectId: projectId, limit: limit)
        let last = events.last?.cursor ?? cursor
        return (events, events.count < limit ? max(last, durable, cursor) : last)
    }
}
