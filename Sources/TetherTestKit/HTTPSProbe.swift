import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import TetherClient

/// One HTTPS request with AsyncHTTPClient, trusting what a ``TetherTLS`` trusts (an HTTP heartbeat over TLS).
public enum HTTPSProbe {
    /// `POST url` with `Authorization: Bearer token` and a JSON body; the status and the body as text.
    public static func post(_ url: String, token: String, body: String, trust: TetherTLS) async throws -> (
        status: Int, body: String
    ) {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: trust.configuration))
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await client.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return (Int(response.status.code), String(buffer: bytes))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
