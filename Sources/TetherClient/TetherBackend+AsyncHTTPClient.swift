import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TetherProtocol

extension TetherBackend {
    /// One call through AsyncHTTPClient, with ``tls``'s trust (URLSession on Linux cannot be given a CA).
    func exchange<R>(
        _ request: BackendRequest<R>, target: URL, base: URL, with tls: TetherTLS
    ) async throws -> (Int, Data) {
        var http = HTTPClientRequest(url: target.absoluteString)
        http.method = HTTPMethod(rawValue: request.method)
        if let apiKey { http.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        http.headers.add(name: "Accept", value: "application/json")
        if let body = request.body {
            http.body = .bytes(ByteBuffer(bytes: body))
            http.headers.add(name: "Content-Type", value: "application/json")
        }
        let client = tls.httpClient()
        let call = http
        let timeout = TimeAmount(self.timeout)
        let label = "\(request.method) \(target.absoluteString)"
        do {
            return try await withDeadline(self.timeout, label) {
                let response = try await client.execute(call, timeout: timeout)
                let body = try await response.body.collect(upTo: 64 << 20)
                return (Int(response.status.code), Data(body.readableBytesView))
            }
        } catch let error as TetherTransportError {
            throw Unreached(error: error, neverSent: false)
        } catch {
            throw Unreached(
                error: TetherTransportError("cannot reach \(base.absoluteString): \(error)"),
                neverSent: Self.neverSent(error))
        }
    }

    /// Whether a call certainly never reached the node: its connection could not be made.
    static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if error is NIOConnectionError { return true }
        if let error = error as? HTTPClientError { return error == .connectTimeout }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        return false
    }
}
