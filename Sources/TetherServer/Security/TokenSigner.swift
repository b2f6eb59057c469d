import Crypto
import Foundation
import TetherCore
import TetherProtocol
import TetherStore

/// Signs and verifies client tokens, `v2.<kid>.<base64url payload>.<base64url HMAC-SHA256 of "kid." + payload>`,
/// and queue tokens, `q2.<kid>.<payload>.<HMAC of "q2.kid." + payload>`, where the payload binds a session and
/// an epoch (a project and a ticket) and an expiry, and `kid` names the key of the ``TokenKeyring`` that signed
/// it: the newest key signs, and a token verifies while its key has not retired (``SigningKeys``). Tokens of
/// before the keyring (`v1.`, `q1.`, no key id) verify with the key the old single secret became, until that
/// one retires.
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

    /// The signing keys.
    public let keyring: TokenKeyring

    /// A signer on `keyring`.
    public init(keyring: TokenKeyring) { self.keyring = keyring }

    /// A signer with one key, `secret` (at least 32 bytes), signing from time 0.
    public init(secret: [UInt8]) {
        self.init(keyring: TokenKeyring(secret: secret))
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
        return Self.sign("v2", json.bytes, keyring.signing)
    }

    /// A queue token for a ticket of a project, expiring at `expiresAt`: what a queued user's client sends in
    /// `hello {queueToken}`.
    public func queueToken(project: ProjectID, ticket: TicketID, expiresAt: Millis) -> String {
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.field("p", project)
        json.field("t", ticket)
        json.field("x", expiresAt)
        json.endObject()
        return Self.sign("q2", json.bytes, keyring.signing)
    }

    /// The claims of a genuine, unexpired queue token whose key has not retired; `nil` for anything else (a
    /// client token included).
    public func verifyQueueToken(_ token: String, now: Millis) -> QueueClaims? {
        guard let payload = verified(token, version: "q2", legacy: "q1", now: now),
            let claims = try? StrictJSONDecoder().decode(QueueClaims.self, from: payload), claims.x > now
        else { return nil }
        return claims
    }

    /// The claims of a genuine, unexpired client token whose key has not retired; `nil` for anything else.
    public func verify(_ token: String, now: Millis) -> Claims? {
        guard let payload = verified(token, version: "v2", legacy: "v1", now: now),
            let claims = try? StrictJSONDecoder().decode(Claims.self, from: payload), claims.x > now
        else { return nil }
        return claims
    }

    /// `version.kid.payload.mac`, the MAC over `kid.payload` (a queue token's also over its version first).
    private static func sign(_ version: String, _ payload: [UInt8], _ key: TokenKeyring.Key) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: signed(version, key.kid, payload), using: key.symmetric)
        return version + "." + key.kid + "." + Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    /// What a MAC covers: `kid.payload` for a client token (`v2`), `q2.kid.payload` for a queue token; the
    /// payload alone for a legacy client token, `q1.` + payload for a legacy queue token (no key id).
    private static func signed(_ version: String, _ kid: String?, _ payload: [UInt8]) -> [UInt8] {
        let domain: [UInt8]
        switch (version, kid) {
        case ("q1", _): domain = Array("q1.".utf8)
        case ("q2", let kid?): domain = Array("q2.\(kid).".utf8)
        case (_, let kid?): domain = Array("\(kid).".utf8)
        default: domain = []
        }
        return domain + payload
    }

    /// The payload of a token of `version` (or of its `legacy` form) whose MAC is genuine and whose key still
    /// verifies at `now`.
    private func verified(_ token: String, version: String, legacy: String, now: Millis) -> Data? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let kid: String?
        let payloadPart: Substring
        let macPart: Substring
        if parts.count == 4, parts[0] == version {
            kid = String(parts[1])
            (payloadPart, macPart) = (parts[2], parts[3])
        } else if parts.count == 3, parts[0] == legacy {
            kid = nil
            (payloadPart, macPart) = (parts[1], parts[2])
        } else {
            return nil
        }
        guard let key = kid.map({ keyring.verifying($0, at: now) }) ?? keyring.verifyingLegacy(at: now),
            let payload = Base64URL.decode(payloadPart), let mac = Base64URL.decode(macPart),
            HMAC<SHA256>.isValidAuthenticationCode(
                mac, authenticating: Self.signed(String(parts[0]), kid, Array(payload)), using: key.symmetric)
        else { return nil }
        return payload
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

    /// The bytes of `text`, or nil unless it is canonical base64url without padding (RFC 4648 §5): only the
    /// URL alphabet (no `+`, `/` or `=`), not one character over a multiple of four, and no bit set past the
    /// last byte (so one token has one spelling). By hand over the UTF-8 bytes: Foundation's
    /// `Data(base64Encoded:)` after swapping the alphabet in an `NSString` was ~45 % of a token check, and
    /// the token check ~3.5 % of the machine in `tether bench storm` (docs/PERFORMANCE.md).
    static func decode(_ text: Substring) -> Data? {
        let utf8 = text.utf8
        let count = utf8.count
        guard count < 4096, count % 4 != 1 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(count * 3 / 4)
        var pending: UInt32 = 0
        var bits: UInt32 = 0
        for character in utf8 {
            let value = values[Int(character)]
            guard value < 64 else { return nil }
            pending = pending << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: pending >> bits))
                pending &= (1 << bits) - 1
            }
        }
        guard pending == 0 else { return nil }
        return Data(out)
    }

    /// Each byte's 6-bit value in the URL alphabet, 255 for a byte outside it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()
}
