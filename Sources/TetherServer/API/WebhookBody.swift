import Foundation
import TetherCore
import TetherProtocol

/// A project's `webhook` as a request gives it: `url` must be an absolute `http` or `https` URL with a host
/// (and a port from 1 to 65535 when one is given) that Foundation's URL parser, which the webhook client
/// uses too, accepts; anything else is refused with the field named (`webhook.url`). The core then checks
/// lengths and characters (``Validation/policy(_:)``).
struct WebhookBody: Decodable, Sendable {
    var webhook: Webhook

    private enum Keys: String, CodingKey {
        case url, secret
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let url = try c.decode(String.self, forKey: .url)
        let secret = try c.decode(String.self, forKey: .secret)
        guard Self.isAbsoluteHTTPURL(url) else {
            throw StrictJSONError(
                .value, path: StrictJSONError.path(c.codingPath + [Keys.url]),
                "must be an absolute http:// or https:// URL with a host")
        }
        webhook = Webhook(url: url, secret: secret)
    }

    /// Whether `text` is an absolute http(s) URL with a host and a valid port.
    static func isAbsoluteHTTPURL(_ text: String) -> Bool {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parts.host, !host.isEmpty,
            URL(string: text) != nil
        else { return false }
        if let port = parts.port, !(1...65535).contains(port) { return false }
        // Percent escapes must be two hex digits (RFC 3986 §2.1); Foundation lets `%zz` through.
        let bytes = Array(text.utf8)
        for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "%") {
            guard i + 2 < bytes.count, bytes[i + 1].isHexDigit, bytes[i + 2].isHexDigit else { return false }
        }
        return true
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
