/// Where a project's events are POSTed, and the secrets that sign them.
///
/// When a PATCH gives a new secret, the one it replaces keeps signing beside it for
/// ``Limits/webhookSecretOverlapMs`` (`webhook-signature` then carries two `v1,` signatures), so a receiver
/// can move to the new secret without refusing a delivery. Only one previous secret is kept: a second change
/// within the window drops the oldest.
public struct Webhook: Sendable, Hashable, Codable {
    /// An `http://` or `https://` URL.
    public var url: String
    /// The HMAC-SHA256 key of `webhook-signature` (and of the deprecated `X-Tether-Signature`).
    public var secret: String
    /// The secret this one replaced, still signing until ``previousSecretUntil``.
    public var previousSecret: String?
    /// When ``previousSecret`` stops signing (Unix ms).
    public var previousSecretUntil: Millis?

    /// Creates a webhook target.
    public init(url: String, secret: String, previousSecret: String? = nil, previousSecretUntil: Millis? = nil) {
        self.url = url
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretUntil = previousSecretUntil
    }

    /// The secrets that sign a delivery made at `now`: the current one first, then the previous one while
    /// its overlap lasts.
    public func signingSecrets(at now: Millis) -> [String] {
        guard let previousSecret, let until = previousSecretUntil, now < until, previousSecret != secret else {
            return [secret]
        }
        return [secret, previousSecret]
    }

    /// This webhook replaced by `new` at `now`: a changed secret keeps the old one signing for the overlap;
    /// an unchanged secret keeps the previous one (and its end) as it was.
    public func replaced(by new: Webhook, at now: Millis) -> Webhook {
        var next = Webhook(url: new.url, secret: new.secret)
        if new.secret != secret {
            next.previousSecret = secret
            next.previousSecretUntil = now + Limits.webhookSecretOverlapMs
        } else if let until = previousSecretUntil, now < until {
            next.previousSecret = previousSecret
            next.previousSecretUntil = until
        }
        return next
    }
}
