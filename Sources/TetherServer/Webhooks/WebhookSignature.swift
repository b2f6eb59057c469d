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
        guard header.hasPrefix("sha256="), let mac = bytes(hex: header.dropFirst(7)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Array(body), using: SymmetricKey(data: Array(secret.utf8)))
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count == 64 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let b = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            i += 2
        }
        return out
    }
}
