import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import TetherCore

/// Per-project leases (issue 14): the rows of `tether_lease` whose scope is a project id (`*`, the cluster-wide
/// lease, is not a valid project id), one owner each, a fence raised at every takeover. The same rules as the
/// cluster-wide lease (``acquireLease(nodeId:incarnation:ttlMs:)``): judged on the database's clock, taken only
/// once expired or released. Each call handles many projects in one statement, so a node renews all of its
/// projects with one round trip.
extension PostgresStore {
    /// Takes the leases of `projects` that are free (expired, released, or never taken: a project's row is made
    /// on first use) for `ttlMs`, raising each one's fence; returns the fences taken, by project. A lease
    /// another node holds is left alone.
    public func acquireProjectLeases(
        _ projects: [ProjectID], nodeId: String, incarnation: String, ttlMs: Int64
    ) async throws -> [ProjectID: Int64] {
        guard !projects.isEmpty else { return [:] }
        return try await withConnection { connection, logger in
            _ = try await connection.query(
                """
                INSERT INTO tether_lease (scope, owner, incarnation, fence, expires_at)
                SELECT p, NULL, NULL, 0, 0 FROM UNNEST(\(projects)::text[]) AS p
                ON CONFLICT (scope) DO NOTHING
                """, logger: logger)
            var taken: [ProjectID: Int64] = [:]
            for try await (scope, fence) in try await connection.query(
                """
                UPDATE tether_lease SET owner = \(nodeId), incarnation = \(incarnation), fence = fence + 1,
                    expires_at = \(unescaped: Self.databaseNow) + \(ttlMs)
                WHERE scope = ANY(\(projects)::text[]) AND scope <> '*'
                    AND expires_at < \(unescaped: Self.databaseNow)
                RETURNING scope, fence
                """, logger: logger
            ).decode((String, Int64).self) {
                taken[scope] = fence
            }
            return taken
        }
    }

    /// Extends by `ttlMs` from now the leases held under the given fences; returns the projects renewed (a lease
    /// missing from the answer was taken over: its project must be given up at once).
    public func renewProjectLeases(_ held: [ProjectID: Int64], ttlMs: Int64) async throws -> Set<ProjectID> {
        guard !held.isEmpty else { return [] }
        let (projects, fences) = (held.map(\.key), held.map(\.value))
        return try await withConnection { connection, logger in
            var renewed: Set<ProjectID> = []
            for try await scope in try await connection.query(
                """
                UPDATE tether_lease AS l SET expires_at = \(unescaped: Self.databaseNow) + \(ttlMs)
                FROM UNNEST(\(projects)::text[], \(fences)::bigint[]) AS h (scope, fence)
                WHERE l.scope = h.scope AND l.fence = h.fence AND l.scope <> '*'
                RETURNING l.scope
                """, logger: logger
            ).decode(String.self) {
                renewed.insert(scope)
            }
            return renewed
        }
    }

    /// Gives the leases held under the given fences up at once (a graceful hand-over: another node may take
    /// them without waiting for them to expire).
    public func releaseProjectLeases(_ held: [ProjectID: Int64]) async throws {
        guard !held.isEmpty else { return }
        let (projects, fences) = (held.map(\.key), held.map(\.value))
        try await withConnection { connection, logger in
            _ = try await connection.query(
                """
                UPDATE tether_lease AS l SET expires_at = 0
                FROM UNNEST(\(projects)::text[], \(fences)::bigint[]) AS h (scope, fence)
                WHERE l.scope = h.scope AND l.fence = h.fence AND l.scope <> '*'
                """, logger: logger)
        }
    }

    /// Every project's lease as it stands, by project.
    public func projectLeases() async throws -> [ProjectID: ClusterLease] {
        try await withConnection { connection, logger in
            var leases: [ProjectID: ClusterLease] = [:]
            for try await (scope, owner, incarnation, fence, remaining) in try await connection.query(
                """
                SELECT scope, owner, incarnation, fence, expires_at - \(unescaped: Self.databaseNow)
                FROM tether_lease WHERE scope <> '*'
                """, logger: logger
            ).decode((String, String?, String?, Int64, Int64).self) {
                leases[scope] = ClusterLease(
                    owner: owner, incarnation: incarnation, fence: fence, remainingMs: remaining)
            }
            return leases
        }
    }

    /// From now on, every write transaction that changes a project's rows checks that this node still holds
    /// that project's lease under the fence given here (a project not in `fences`: its write is refused);
    /// `nil`: writes are not fenced per project.
    public func fence(projects fences: [ProjectID: Int64]?) {
        projectFences.withLockedValue { $0 = fences }
    }

    /// Reads the leases of `projects` `FOR SHARE` in the write transaction and throws ``StoreError/fenced(_:)``
    /// unless each still carries the fence this node holds it under (a takeover, which updates the row, waits
    /// for the transaction, so the new owner loads what it wrote).
    static func checkProjectFences(
        _ projects: Set<ProjectID>, held: [ProjectID: Int64], _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard !projects.isEmpty else { return }
        let touched = projects.sorted()
        var current: [ProjectID: Int64] = [:]
        for try await (scope, fence) in try await connection.query(
            "SELECT scope, fence FROM tether_lease WHERE scope = ANY(\(touched)::text[]) FOR SHARE", logger: logger
        ).decode((String, Int64).self) {
            current[scope] = fence
        }
        for project in touched {
            guard let mine = held[project] else {
                throw StoreError.fenced("this node does not hold project \(project)'s lease")
            }
            guard current[project] == mine else {
                throw StoreError.fenced(
                    "project \(project)'s lease (fence \(mine)) was taken over (fence \(current[project] ?? 0))")
            }
        }
    }

    /// The rows of `projects` alone, as ``load()`` reads every project's: what a node loads to take those
    /// projects over. The cursor is the cluster's last event cursor.
    public func load(projects: Set<ProjectID>) async throws -> BrokerSnapshot {
        guard !isClosed else { throw StoreError.closed }
        do {
            return try await readSnapshot(projects: projects.sorted())
        } catch {
            throw storeError(error) ?? error
        }
    }
}
