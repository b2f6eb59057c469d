import Testing
import TetherClient

@Suite struct TetherEndpointTests {
    @Test func parsesTheConnectBlocksURLs() {
        #expect(
            TetherEndpoint(url: "ws://127.0.0.1:8081/v1/connect")
                == .websocket(host: "127.0.0.1", port: 8081, path: "/v1/connect"))
        #expect(TetherEndpoint(url: "tcp://example.com:7070") == .tcp(host: "example.com", port: 7070))
        #expect(TetherEndpoint(url: "ws://[::1]:9/x") == .websocket(host: "::1", port: 9, path: "/x"))
        #expect(TetherEndpoint(url: "ws://host/v1/connect") == .websocket(host: "host", port: 80, path: "/v1/connect"))
        #expect(TetherEndpoint(url: "ws://host/v1/connect")?.secure == false)
    }

    /// The TLS schemes of a server started with `--tls-cert`: `wss://` (443 when no port is given) and `tls://`.
    @Test func parsesTheTLSSchemes() {
        #expect(
            TetherEndpoint(url: "wss://example.com:8081/v1/connect")
                == .websocket(host: "example.com", port: 8081, path: "/v1/connect", secure: true))
        #expect(
            TetherEndpoint(url: "wss://example.com/v1/connect")
                == .websocket(host: "example.com", port: 443, path: "/v1/connect", secure: true))
        #expect(TetherEndpoint(url: "tls://127.0.0.1:7070") == .tcp(host: "127.0.0.1", port: 7070, secure: true))
        #expect(TetherEndpoint(url: "tls://[::1]:7070")?.secure == true)
        #expect(TetherEndpoint(url: "wss://h:1/x") != TetherEndpoint(url: "ws://h:1/x"))
        #expect(TetherEndpoint(url: "tls://h:1")?.transportName == "tcp")
        #expect(TetherEndpoint(url: "wss://h:1/x")?.transportName == "websocket")
    }

    @Test(arguments: [
        "https://h:1", "tls://h", "tls://:7", "wss://h:0/x", "WSS://h:1/x", "wss:/h:1/x", "http://h:1", "tcp://h",
        "tcp://:7", "ws://h:0/x", "ws://h:70000/x", "",
    ])
    func refusesWhatItCannotSpeak(url: String) {
        #expect(TetherEndpoint(url: url) == nil)
    }
}
