/// The store could not commit a command's effects: the command was applied in memory but is not durable.
/// The backend API answers it 503 `InternalError.Store` (``APIErrorMiddleware``).
public struct StoreUnavailable: Error, Sendable, Hashable {
    /// Creates the error.
    public init() {}
}
