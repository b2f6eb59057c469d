/// Where a project's events are POSTed, and the secret that signs them.
public struct Webhook: Sendable, Hashable, Codable {
    /// An `http://` or `https://` URL.
    public var url: String
    /// The HMAC-SHA256 key of `X-Tether-Signature`.
    public var secret: String

    /// Creates a webhook target.
    public init(url: String, secret: String) {
        self.url = url
        self.secret = secret
    }
}
