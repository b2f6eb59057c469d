import Crypto
import Foundation
import TetherCore
import TetherProtocol
import TetherStore

/// Signs and verifies client tokens: `v1.<base64url payload>.<base64url HMAC-SHA256>`, where the payload
/// binds a session, an epoch and an expiry. The key is a server secret kept in the store.
public struct TokenSigner: Sendable {
    /// What a verified token says.
    public struct Claims: Codable, Sendable, Equatable {
        /// The session.
        public var s: SessionID
        /// The epoch.
        public var e: UInt64
        /// Expiry (Unix ms).
        public var x: Millis
    }

    /// What a verified queue token says.
    public struct QueueClaims: Codable, Sendable, Equatable {
        /// The project.
        public var p: ProjectID
        /// The ticket.
        public var t: TicketID
        /// Expiry (Unix ms).
        public var x: Millis
    }

    private let key: SymmetricKey
    /// What a queue token's MAC covers before its payload: a client token can never pass for one, nor the
    /// reverse.
    private static let queueDomain = Array("q1.".utf8)

    /// Creates a signer with a secret of at least 32 bytes.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 32, "token secret too short")
        key = SymmetricKey(data: secret)
    }

    /// A token for (session, epoch) that expires at `expiresAt`.
    public func token(session: SessionID, epoch: UInt64, expiresAt: Millis) -> String {
        // The JSON of `Claims`, as `JSONEncoder` writes it: {"s":…,"e":…,"x":…}.
        var json = JSONWriter(capacity: 96)
        json.beginObject()
        json.field("s", session)
        json.field("e", epoch)
        json.field("x", expiresAt)
        json.endObject()
        let payload = json.bytes
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return "v1." + Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    /// A queue token (`q1.<payload>.<mac>`) for a ticket of a project, expiring at `expiresAt`: what a queued
    /// user's client sends in `hello {queueToken}`.
    public func queueToken(project: ProjectID, ticket: TicketID, expiresAt: Millis) -> String {
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.field("p", project)
        json.field("t", ticket)
        json.field("x", expiresAt)
        json.endObject()
        let payload = json.bytes
        let mac = HMAC<SHA256>.authenticationCode(for: Self.queueDomain + payload, using: key)
        return "q1." + Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    /// The claims of a genuine, unexpired queue token; `nil` for anything else (a client token included).
    public func verifyQueueToken(_ token: String, now: Millis) -> QueueClaims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "q1", let payload = Base64URL.decode(parts[1]),
            let mac = Base64URL.decode(parts[2]),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.queueDomain + Array(payload), using: key),
            let claims = try? StrictJSONDecoder().decode(QueueClaims.self, from: payload), claims.x > now
        else { return nil }
        return claims
    }

    /// The claims of a genuine, unexpired token; `nil` for anything else.
    public func verify(_ token: String, now: Millis) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let payload = Base64URL.decode(parts[1]),
            let mac = Base64URL.decode(parts[2]),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key),
            let claims = try? StrictJSONDecoder().decode(Claims.self, from: payload), claims.x > now
        else { return nil }
        return claims
    }
}

/// Base64 with the URL alphabet and no padding.
enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ data: some Sequence<UInt8>) -> String {
        let bytes = Array(data)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        switch bytes.count - i {
        case 1:
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
        case 2:
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
        default: break
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> Data? {
        guard text.count < 4096 else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
