/// Which browser origins may connect a project's clients (`allowedOrigins`, issue 16 item 5).
///
/// A browser sends `Origin` with every WebSocket upgrade and cross-origin `fetch`; a page on another site
/// that got hold of a token cannot drop it. A request without `Origin` (the Swift SDK, TCP, curl) is not a
/// browser's and is let through: the token is its credential, and a non-browser can send any `Origin` anyway.
/// Origins compare as the browser serializes them (`scheme://host[:port]`), ASCII case ignored.
public enum OriginRule {
    /// Whether a request with `origin` (its `Origin` header, `nil` when absent) may connect to a project that
    /// allows `allowed` (`nil`: any origin).
    public static func allows(_ origin: String?, _ allowed: [String]?) -> Bool {
        guard let allowed, let origin else { return true }
        let presented = origin.lowercased()
        return allowed.contains { $0.lowercased() == presented }
    }

    /// Whether `origin` is written as a browser serializes one: `http://` or `https://`, a host of letters,
    /// digits, `-` and `.` (or an IPv6 literal in brackets), an optional port 1–65535, nothing after.
    public static func isValid(_ origin: String) -> Bool {
        let lower = origin.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = lower.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = lower.dropFirst(7)
        } else {
            return false
        }
        var host = rest
        var port: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return false }
            let inside = rest[rest.index(after: rest.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            host = rest[...close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
        } else {
            if let colon = rest.firstIndex(of: ":") {
                host = rest[..<colon]
                port = rest[rest.index(after: colon)...]
            }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            guard !host.isEmpty,
                labels.allSatisfy({ label in
                    !label.isEmpty && label.utf8.allSatisfy { Self.isHostByte($0) } && !label.hasPrefix("-")
                        && !label.hasSuffix("-")
                })
            else { return false }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let number = Int(port), (1...65_535).contains(number), !port.hasPrefix("0")
            else { return false }
        }
        return true
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "-")
    }
}
