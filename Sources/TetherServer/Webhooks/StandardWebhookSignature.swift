import Crypto
import Foundation

/// The Standard Webhooks scheme (standardwebhooks.com, as Svix signs): `webhook-id`, `webhook-timestamp` (Unix
/// seconds of the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one `v1,`
/// signature per signing secret, separated by spaces.
///
/// The HMAC key of a secret written `whsec_<base64>` is the bytes the base64 decodes to (what the Standard
/// Webhooks libraries do with such a secret); of any other secret, its UTF-8 bytes (pass them as bytes to
/// those libraries).
public enum StandardWebhookSignature {
    /// How far from the receiver's clock a `webhook-timestamp` may be before ``verify(id:timestamp:signatures:body:secret:now:toleranceSeconds:)``
    /// refuses the delivery: 5 minutes, as the scheme advises.
    public static let toleranceSeconds: Int64 = 300

    /// The HMAC key of `secret`.
    public static func key(_ secret: String) -> SymmetricKey {
        if secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))), !bytes.isEmpty {
            return SymmetricKey(data: bytes)
        }
        return SymmetricKey(data: Array(secret.utf8))
    }

    /// One `v1,<base64>` signature of a delivery with `secret`.
    public static func signature(id: String, timestamp: Int64, body: some Sequence<UInt8>, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: signedContent(id: id, timestamp: timestamp, body: body), using: key(secret))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `webhook-signature` header: one signature per secret, in order, separated by spaces.
    public static func header(id: String, timestamp: Int64, body: some Sequence<UInt8>, secrets: [String]) -> String {
        let body = Array(body)
        return secrets.map { signature(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }

    /// The receiver's check: the timestamp is within ``toleranceSeconds`` of `now` (Unix seconds) and one of
    /// the `v1,` signatures is the delivery's with `secret`, compared in constant time. A captured delivery
    /// replayed later than that fails, and so does one whose id, timestamp or body was changed.
    public static func verify(
        id: String, timestamp: String, signatures: String, body: some Sequence<UInt8>, secret: String, now: Int64,
        toleranceSeconds: Int64 = toleranceSeconds
    ) -> Bool {
        guard let seconds = Int64(timestamp), String(seconds) == timestamp, abs(now - seconds) <= toleranceSeconds
        else { return false }
        let content = signedContent(id: id, timestamp: seconds, body: body)
        let key = key(secret)
        var found = false
        for candidate in signatures.split(separator: " ") where candidate.hasPrefix("v1,") {
            guard let mac = Data(base64Encoded: String(candidate.dropFirst(3))), mac.count == 32 else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: content, using: key) { found = true }
        }
        return found
    }

    /// `id.timestamp.body`, the bytes the signature covers.
    static func signedContent(id: String, timestamp: Int64, body: some Sequence<UInt8>) -> [UInt8] {
        Array(id.utf8) + [UInt8(ascii: ".")] + Array(String(timestamp).utf8) + [UInt8(ascii: ".")] + Array(body)
    }
}
