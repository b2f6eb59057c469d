/// An error answer of the backend API: `{"error":{"code","message","requestId","retryAfterMs"?}}`.
public struct TetherAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// The contract's code (CAR's where CAR has one), e.g. `ResourceNotFound.NoIdle`; `HTTP<status>` when
    /// the body was not the contract's shape.
    public var code: String
    /// A message for people.
    public var message: String
    /// The request id the server logged.
    public var requestId: String?
    /// `ResourceNotFound.NoIdle`: when to try again.
    public var retryAfterMs: Int64?

    /// Creates an error.
    public init(status: Int, code: String, message: String, requestId: String? = nil, retryAfterMs: Int64? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
        self.retryAfterMs = retryAfterMs
    }

    /// `<code>: <message>`.
    public var description: String { "\(code): \(message)" }

    /// The wire shape.
    struct Body: Decodable {
        struct Inner: Decodable {
            var code: String
            var message: String?
            var requestId: String?
            var retryAfterMs: Int64?
        }
        var error: Inner
    }
}

/// The backend could not be reached, or answered something that is not the API's JSON.
public struct TetherTransportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}
