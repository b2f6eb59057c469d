/// Which webhook URLs a project may have: an absolute `http` or `https` URL whose host is a DNS name or an
/// IPv4 address (labels of 1 to 63 letters, digits and inner hyphens, dot-separated), with an optional port
/// from 1 to 65535, an optional path and query of RFC 3986 characters (`%` only as `%HH`), and no fragment,
/// user info or IPv6 literal. It is exactly the `pattern` of `WebhookInput.url` in the OpenAPI document:
///
/// ```
/// ^https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*
/// (?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?
/// (?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$
/// ```
///
/// so that a client that checks its input against the document and the server agree on every URL.
public enum WebhookURL {
    /// Whether `text` is a webhook URL Tether accepts.
    public static func isValid(_ text: String) -> Bool {
        var scanner = Scanner(Array(text.utf8))
        return scanner.url()
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { i == bytes.count }
        var next: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func eat(_ literal: String) -> Bool {
            let literal = Array(literal.utf8)
            guard bytes.count - i >= literal.count, Array(bytes[i..<i + literal.count]) == literal else { return false }
            i += literal.count
            return true
        }

        mutating func url() -> Bool {
            guard eat("http") else { return false }
            _ = eat("s")
            guard eat("://"), host() else { return false }
            if eat(":") { guard port() else { return false } }
            if next == UInt8(ascii: "/") { guard characters(allowing: Self.pathCharacters) else { return false } }
            if next == UInt8(ascii: "?") { guard characters(allowing: Self.queryCharacters) else { return false } }
            return atEnd
        }

        /// Dot-separated labels of 1 to 63 letters, digits and hyphens, neither first nor last a hyphen.
        mutating func host() -> Bool {
            repeat {
                let start = i
                while let c = next, Self.isAlphanumeric(c) || c == UInt8(ascii: "-") { i += 1 }
                guard (1...63).contains(i - start), Self.isAlphanumeric(bytes[start]), Self.isAlphanumeric(bytes[i - 1])
                else { return false }
            } while eat(".")
            return true
        }

        /// 1 to 65535, without a leading zero.
        mutating func port() -> Bool {
            let start = i
            var value = 0
            while let c = next, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), i - start < 5 {
                value = value * 10 + Int(c - UInt8(ascii: "0"))
                i += 1
            }
            guard i > start, bytes[start] != UInt8(ascii: "0"), (1...65535).contains(value) else { return false }
            if let c = next, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { return false }
            return true
        }

        /// The introducing `/` or `?` and the characters after it: `allowed` ones and `%HH`.
        mutating func characters(allowing allowed: Set<UInt8>) -> Bool {
            i += 1
            while let c = next {
                if allowed.contains(c) {
                    i += 1
                } else if c == UInt8(ascii: "%") {
                    guard bytes.count - i >= 3, Self.isHex(bytes[i + 1]), Self.isHex(bytes[i + 2]) else { return false }
                    i += 3
                } else {
                    break
                }
            }
            return true
        }

        static let pathCharacters: Set<UInt8> = Set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~!$&'()*+,;=:@/-".utf8)
        static let queryCharacters: Set<UInt8> = pathCharacters.union([UInt8(ascii: "?")])

        static func isAlphanumeric(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }

        static func isHex(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
    }
}
