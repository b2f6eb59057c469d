/// Counters of a ``GroupCommitWriter``, for metrics: how many transactions carried how many batches.
public struct GroupCommitStats: Sendable, Hashable {
    /// Transactions attempted (committed or failed).
    public var transactions: Int
    /// Batches those transactions carried; `batches / transactions` is the group-commit factor.
    public var batches: Int
    /// Transactions that failed (each failed every ticket it carried).
    public var failedTransactions: Int

    /// Creates counters.
    public init(transactions: Int = 0, batches: Int = 0, failedTransactions: Int = 0) {
        self.transactions = transactions
        self.batches = batches
        self.failedTransactions = failedTransactions
    }
}

/// One transaction of a ``GroupCommitWriter``: how many batches it carried and how long it took.
public struct GroupCommitReport: Sendable, Hashable {
    /// The batches (commands) committed together.
    public var batches: Int
    /// From the start of the transaction to its commit (or failure), fsync included.
    public var duration: Duration
    /// Whether the transaction failed.
    public var failed: Bool

    /// Creates a report.
    public init(batches: Int, duration: Duration, failed: Bool) {
        self.batches = batches
        self.duration = duration
        self.failed = failed
    }
}
