import Testing
import TetherStore

@Suite struct GroupCommitWriterTests {
    struct Boom: Error {}

    /// The first transaction is held open by a gate while more batches arrive: they all go into the second
    /// transaction together, in enqueue order, and its failure fails every one of their tickets only.
    @Test func batchesQueuedDuringATransactionShareTheNextOne() async throws {
        let (entered, enteredSink) = AsyncStream<[Int]>.makeStream()
        let gate = CommitTicket()
        let writer = GroupCommitWriter<Int> { batches in
            enteredSink.yield(batches)
            if batches == [1] { try await gate.durable() }
            if batches.contains(-1) { throw Boom() }
            return batches.map { $0 > 0 ? UInt64($0) * 10 : nil }
        }
        var transactions = entered.makeAsyncIterator()

        let first = writer.enqueue(1)
        #expect(await transactions.next() == [1])
        let others = [2, -1, 3, 4].map { writer.enqueue($0) }
        gate.complete(nil)

        try await first.durable()
        #expect(first.firstCursor == 10)
        #expect(await transactions.next() == [2, -1, 3, 4])
        for ticket in others {
            await #expect(throws: Boom.self) { try await ticket.durable() }
            #expect(ticket.firstCursor == nil)  // a failed batch was given no cursor
        }
        #expect(writer.stats == GroupCommitStats(transactions: 2, batches: 5, failedTransactions: 1))

        // The writer goes on after a failure.
        let fifth = writer.enqueue(5)
        try await fifth.durable()
        #expect(fifth.firstCursor == 50)
        #expect(await transactions.next() == [5])
        #expect(writer.stats == GroupCommitStats(transactions: 3, batches: 6, failedTransactions: 1))
    }

    @Test func closeWaitsForPendingBatchesThenRefusesNewOnes() async throws {
        let gate = CommitTicket()
        let writer = GroupCommitWriter<Int> { batches in
            try await gate.durable()
            return batches.map { _ in nil }
        }
        let tickets = (0..<10).map { writer.enqueue($0) }
        let closing = Task { await writer.close() }
        gate.complete(nil)
        await closing.value
        // The counters are updated before the tickets complete and before the writer goes idle.
        #expect(writer.stats.batches == 10)
        for ticket in tickets { try await ticket.durable() }
        #expect(writer.isClosed)
        await #expect(throws: StoreError.closed) { try await writer.enqueue(99).durable() }
        #expect(writer.stats.batches == 10)
    }

    @Test func flushReturnsAtOnceWhenIdle() async {
        let writer = GroupCommitWriter<Int> { batches in batches.map { _ in nil } }
        await writer.flush()
        #expect(writer.stats == GroupCommitStats())
    }
}
