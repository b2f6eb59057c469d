import Foundation
import NIOCore
import NIOPosix
import Testing
import TetherProtocol
import TetherTestKit

/// SIGTERM: clients are kicked with `shutdown` and a `retryAfterMs`, their sessions wait in grace, and after
/// the restart they resume with their resume token.
@Suite(.serialized) struct ShutdownResumeTests {
    static let key = "shutdown-test-key-7"

    /// A TCP client of the real binary.
    struct FrameClient {
        let channel: NIOAsyncChannel<TCPFrame, TCPFrame>

        static func connect(port: Int) async throws -> FrameClient {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                        return try NIOAsyncChannel<TCPFrame, TCPFrame>(wrappingChannelSynchronously: channel)
                    }
                }
            return FrameClient(channel: channel)
        }
    }

    /// Sends `hello` and returns the welcome and the messages after it, read until the server closes or
    /// `afterWelcome` says to stop.
    static func session(
        port: Int, hello: ClientMessage, afterWelcome: @escaping @Sendable () async throws -> Bool
    ) async throws -> (welcome: ServerMessage.Welcome?, later: [ServerMessage]) {
        let client = try await FrameClient.connect(port: port)
        return try await client.channel.executeThenClose { inbound, outbound in
            try await outbound.write(TCPFrame(type: hello.frameType.rawValue, payload: ByteBuffer(bytes: hello.json)))
            var welcome: ServerMessage.Welcome?
            var later: [ServerMessage] = []
            for try await frame in inbound {
                let message = try JSONDecoder().decode(ServerMessage.self, from: Data(frame.payload.readableBytesView))
                if case .welcome(let w) = message, welcome == nil {
                    welcome = w
                    if try await !afterWelcome() { break }
                } else {
                    later.append(message)
                }
            }
            return (welcome, later)
        }
    }

    @Test func clientsAreToldShutdownAndResumeAfterTheRestart() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("tether-sd-\(UUID()).sqlite").path
        let k = Self.key
        let first = try await ServeProcess.start(dataPath: data, apiKey: k, tcpPort: ServeProcess.freePort())
        #expect(first.tcpPort > 0)
        #expect(
            try await first.call("POST", "/v1/projects", #"{"id":"p","capacity":2,"reconnectGraceMs":0}"#, key: k).0
                == 201)
        #expect(try await first.call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"u"}"#, key: k).0 == 200)
        let (_, created) = try await first.call("POST", "/v1/projects/p/sessions", #"{"userId":"u"}"#, key: k)
        let object = try #require(created as? [String: Any])
        let token = try #require(object["clientToken"] as? String)
        let sessionId = try #require(object["sessionId"] as? String)

        // Connected over TCP; then SIGTERM while the client is still there.
        let exit = ExitBox()
        let (welcome, later) = try await Self.session(port: first.tcpPort, hello: .hello(.token(token))) {
            Task.detached { await exit.set(await first.terminate()) }
            return true  // read on until the server closes
        }
        let w = try #require(welcome)
        #expect(w.sessionId == sessionId && w.epoch == 1 && !w.resumeToken.isEmpty)
        // Server pings may come first (a loaded machine can take longer than half an interval to stop).
        let kick = later.first { if case .kick = $0 { true } else { false } }
        guard case .kick(let reason, let retryAfterMs, _) = kick else {
            Issue.record("no kick: \(later)")
            return
        }
        #expect(
            later.allSatisfy { if case .ping = $0 { true } else if case .kick = $0 { true } else { false } },
            "only server pings and the kick after the welcome: \(later)")
        #expect(reason == "shutdown" && (retryAfterMs ?? 0) > 0)
        for _ in 0..<100 where await exit.value == nil { try await Task.sleep(for: .milliseconds(50)) }
        #expect(await exit.value == 0)

        // After the restart the session waits in grace (even with grace 0 in the project) and resumes.
        let second = try await ServeProcess.start(dataPath: data, apiKey: k, tcpPort: ServeProcess.freePort())
        let (_, detail) = try await second.call("GET", "/v1/sessions/\(sessionId)", key: k)
        let before = try #require(detail as? [String: Any])
        #expect(before["state"] as? String == "grace" && before["lastCause"] as? String == "shutdown")
        let (resumed, _) = try await Self.session(port: second.tcpPort, hello: .hello(.resumeToken(w.resumeToken))) {
            false
        }
        let r = try #require(resumed)
        #expect(r.sessionId == sessionId && r.epoch == 2 && r.concurrencyId == w.concurrencyId)
        #expect(await second.terminate() == 0)
    }
}

actor ExitBox {
    var value: Int32?
    func set(_ v: Int32) { value = v }
}
