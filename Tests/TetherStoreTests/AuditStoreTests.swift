import Testing
import TetherCore
import TetherStore

/// The audit trail in both stores: records written in one transaction (many per group commit, as a busy API
/// destroys sessions; PostgreSQL writes them in multi-row statements) come back in the order written, with
/// ids that grow, every field intact, and the next transaction's after them.
@Suite struct AuditStoreTests {
    static func record(_ i: Int) -> AuditRecord {
        AuditRecord(
            at: 1_700_000_000_000 + Int64(i), keyId: "ak-\(i % 3)", action: AuditRecord.Action.allCases[i % 8],
            target: "target \(i) \u{e9}\u{1F389}", requestId: "req-\(i)", sourceIp: "10.0.0.\(i % 256)")
    }

    @Test(arguments: StoreKind.allCases) func recordsWrittenTogetherComeBackInOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            // 5 200 in one batch: more than one multi-row statement (5 000 rows) on PostgreSQL.
            let first = (0..<5_200).map(Self.record)
            try await store.enqueue(first.map { .audit($0) }).durable()
            let second = (5_200..<5_210).map(Self.record)
            let tickets = second.map { store.enqueue([.audit($0)]) }
            for ticket in tickets { try await ticket.durable() }
            var read: [AuditRecord] = []
            while true {
                let page = try await store.audit(after: read.last?.id ?? 0, limit: 1_000)
                if page.isEmpty { break }
                read += page
            }
            #expect(read.count == 5_210)
            #expect(zip(read, read.dropFirst()).allSatisfy { $0.id < $1.id })
            let written = first + second
            for (got, wrote) in zip(read, written) {
                var expected = wrote
                expected.id = got.id
                #expect(got == expected)
            }
        }
    }
}
