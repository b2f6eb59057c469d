import Crypto
import Foundation

/// Random secrets and their hashes: API keys and resume tokens are 256-bit random values, kept only as
/// SHA-256 hashes and compared in constant time.
public enum Secrets {
    /// 32 random bytes from the system's generator.
    public static func randomBytes(_ count: Int = 32) -> [UInt8] {
        // Eight bytes per call of the generator (one getrandom system call each), not one.
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            let word = rng.next()
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// A new random token, base64url (43 characters).
    public static func randomToken() -> String { Base64URL.encode(Data(randomBytes())) }

    /// SHA-256 of a secret, as lowercase hex.
    public static func hash(_ secret: String) -> String {
        hex(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Lowercase hex of bytes (without `String(format:)`, which costs microseconds a byte).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
