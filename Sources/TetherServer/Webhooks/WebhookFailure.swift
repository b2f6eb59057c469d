import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a failed webhook attempt got, in one short line for `lastError` and the logs: `status 500`,
/// `connect refused`, `timeout after 10000 ms`, `connect timeout after 10000 ms`, `TLS: …`, `DNS: …`,
/// `connection closed without an answer`, `invalid URL: …`.
enum WebhookFailure {
    /// The longest line kept.
    static let maxLength = 200

    /// A receiver's answer other than a 2xx.
    static func status(_ code: UInt) -> String { "status \(code)" }

    /// The line for an error thrown by the HTTP client; `timeoutMs` is the attempt's limit (total and connect).
    static func describe(_ error: any Error, timeoutMs: Int64) -> String {
        oneLine(text(error, timeoutMs: timeoutMs))
    }

    private static func text(_ error: any Error, timeoutMs: Int64) -> String {
        if let error = error as? HTTPClientError { return text(error, timeoutMs: timeoutMs) }
        if let error = error as? NIOConnectionError { return text(error, timeoutMs: timeoutMs) }
        if let error = error as? IOError { return connectFailure(errno: error.errnoCode) }
        if let error = error as? ChannelError, isConnectTimeout(error) {
            return "connect timeout after \(timeoutMs) ms"
        }
        if let error = error as? SocketAddressError.UnknownHost { return dnsFailure(error, host: error.host) }
        // NIOSSL is not imported (it comes with AsyncHTTPClient); its errors are recognised by their type.
        if String(reflecting: type(of: error)).contains("NIOSSL") { return "TLS: " + tls(error) }
        if error is CancellationError { return "cancelled" }
        return String(describing: error)
    }

    private static func text(_ error: HTTPClientError, timeoutMs: Int64) -> String {
        // `HTTPClientError` is a struct of static values (some with arguments), compared with `==`.
        if [.readTimeout, .writeTimeout, .deadlineExceeded].contains(error) { return "timeout after \(timeoutMs) ms" }
        if error == .connectTimeout { return "connect timeout after \(timeoutMs) ms" }
        if error == .tlsHandshakeTimeout { return "TLS: handshake timeout" }
        if error == .remoteConnectionClosed { return "connection closed without an answer" }
        if [.invalidURL, .emptyHost, .emptyScheme].contains(error) { return "invalid URL: \(error.shortDescription)" }
        if error == .cancelled { return "cancelled" }
        return error.shortDescription
    }

    private static func text(_ error: NIOConnectionError, timeoutMs: Int64) -> String {
        if let dns = error.dnsAError ?? error.dnsAAAAError { return dnsFailure(dns, host: error.host) }
        guard let first = error.connectionErrors.first?.error else { return "connect failed" }
        return text(first, timeoutMs: timeoutMs)
    }

    /// `DNS: <host>: <resolver's message>`.
    private static func dnsFailure(_ error: any Error, host: String) -> String {
        let message = (error as? SocketAddressError.UnknownHost)?.errorDescription ?? String(describing: error)
        return "DNS: \(host): \(message)"
    }

    private static func isConnectTimeout(_ error: ChannelError) -> Bool {
        if case .connectTimeout = error { return true }
        return false
    }

    /// A failed `connect(2)` by its errno.
    private static func connectFailure(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connect refused"
        case ENETUNREACH: "connect failed: network unreachable"
        case EHOSTUNREACH: "connect failed: host unreachable"
        case ETIMEDOUT: "connect failed: timed out"
        case ECONNRESET: "connection reset"
        default: "connect failed: " + String(cString: strerror(code))
        }
    }

    /// A TLS error without its type's wrapping: BoringSSL's reason (`WRONG_VERSION_NUMBER`,
    /// `CERTIFICATE_VERIFY_FAILED`) when there is one.
    private static func tls(_ error: any Error) -> String {
        let text = String(describing: error)
        // BoringSSL messages read `error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at …`.
        var reasons: [String] = []
        for part in text.split(separator: "error:").dropFirst() {
            let fields = part.split(separator: ":")
            guard fields.count >= 4 else { continue }
            let reason = fields[3].split(separator: " ").first.map(String.init) ?? ""
            if !reason.isEmpty && !reasons.contains(reason) { reasons.append(reason) }
        }
        let kind = text.hasPrefix("handshakeFailed") ? "handshake failed" : text.prefix { $0 != "(" }.description
        return reasons.isEmpty ? kind : "\(kind): \(reasons.joined(separator: ", "))"
    }

    /// Newlines and runs of spaces folded, at most ``maxLength`` characters.
    static func oneLine(_ text: String) -> String {
        let folded = text.split(whereSeparator: { $0.isNewline || $0 == " " || $0 == "\t" }).joined(separator: " ")
        return folded.count <= maxLength ? folded : String(folded.prefix(maxLength - 1)) + "…"
    }
}
