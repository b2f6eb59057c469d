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
    }

    @Test(arguments: ["wss://h:1/x", "http://h:1", "tcp://h", "tcp://:7", "ws://h:0/x", "ws://h:70000/x", ""])
    func refusesWhatItCannotSpeak(url: String) {
        #expect(TetherEndpoint(url: url) == nil)
    }
}
