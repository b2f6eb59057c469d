import Crypto

/// `X-Tether-Signature: sha256=<hex HMAC-SHA256 of the body with the project's webhook secret>`.
public enum WebhookSignature {
    /// The header's value for `body`.
    public static func header(body: some Sequence<UInt8>, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body), using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256="
            + mac.map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
    }

    /// Whether `header` is the signature of `body` (what a receiver checks), in constant time.
    public static func verify(header: String, body: some Sequence<UInt8>, secret: String) -> Bool {
        guard header.hasPrefix("sha256="), let mac = TetherServer.bytes(hex: String(header.dropFirst(7))),
            mac.count == 32
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Array(body), using: SymmetricKey(data: Array(secret.utf8)))
    }
}
