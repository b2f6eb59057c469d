import Foundation
import NIOCore
import NIOSSL
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// `--tls-cert`/`--tls-key` on the real binary (API.md "Keys and TLS"): HTTPS, WSS and TLS on the three ports,
/// `connect` with the TLS schemes, the SDK and the backend client over them with a CA file, TLS 1.2 as the
/// floor, and plain-text or garbage clients that leave healthy ones alone.
@Suite struct TLSTests {
    /// A server on `certificate`, its backend client trusting it, and a project with fast heartbeats and a long
    /// timeout: these tests are about TLS, and a 2 s timeout once fired in a loaded fresh-clone CI run (a healthy
    /// client reconnected while the abuse test ran), so no test here waits on or races an expiry.
    struct Fixture {
        let process: ServeProcess
        let backend: TetherBackend
        let trust: TetherTLS

        /// `idleTimeout`: the backend client's, below the server's `--http-idle-timeout-ms` when a test lowers it.
        init(_ certificate: TestCertificate, extra: [String] = [], idleTimeout: Duration = .seconds(30)) async throws {
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("tether-tls-\(UUID()).sqlite")
            process = try await ServeProcess.start(
                dataPath: data.path, apiKey: SDKServer.key, tcpPort: ServeProcess.freePort(),
                extraArguments: certificate.serveArguments + extra)
            trust = try TetherTLS.trusting(caFile: certificate.certificatePath, idleTimeout: idleTimeout)
            backend = TetherBackend(
                url: URL(string: "https://127.0.0.1:\(process.port)")!, apiKey: SDKServer.key, tls: trust)
            _ = try await backend.createProject(
                id: "p",
                policy: .init(
                    capacity: 8, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 30_000, reconnectGraceMs: 10_000))
        }

        func session(_ user: String) async throws -> TetherBackend.CreatedSession {
            _ = try await backend.apply(project: "p", userId: user)
            return try await backend.createSession(project: "p", userId: user)
        }

        func client(
            _ created: TetherBackend.CreatedSession, _ transport: TetherClient.Transport, losses: LossRecorder? = nil
        ) throws -> TetherClient {
            var configuration = TetherClientConfiguration.fast
            configuration.tls = trust
            if let losses { configuration.logger = losses.logger }
            return try TetherClient(session: created, transport: transport, configuration: configuration)
        }

        func stop() { process.stop() }
    }

    @Test func theThreeListenersSpeakTLSAndConnectSaysSo() async throws {
        let certificate = try await TestCertificate.make()
        let server = try await Fixture(certificate)
        defer { server.stop() }
        #expect(server.process.lines.contains { $0.contains("backend API listening on https://127.0.0.1:") })
        #expect(server.process.lines.contains { $0.contains("client plane listening on wss://127.0.0.1:") })
        #expect(server.process.lines.contains { $0.contains(" and tls://127.0.0.1:") })
        let created = try await server.session("u-ws")
        #expect(created.connect.websocket.hasPrefix("wss://127.0.0.1:"))
        #expect(created.connect.tcp?.hasPrefix("tls://127.0.0.1:") == true)
        #expect(created.connect.http.hasPrefix("https://127.0.0.1:"))
        for (user, transport) in [("u-ws", TetherClient.Transport.websocket), ("u-tcp", .tcp)] {
            let session = user == "u-ws" ? created : try await server.session(user)
            let client = try server.client(session, transport)
            let info = try await client.connect()
            #expect(info.sessionId == session.sessionId)
            #expect(await eventually(within: .seconds(10)) { await client.stats.pongsReceived >= 3 })
            #expect(try await server.backend.session(session.sessionId).state == "connected")
            await client.close()
        }
    }

    @Test func anHTTPHeartbeatGoesOverHTTPS() async throws {
        let certificate = try await TestCertificate.make()
        let server = try await Fixture(certificate)
        defer { server.stop() }
        let created = try await server.session("u-http")
        let answer = try await HTTPSProbe.post(
            created.connect.http, token: created.clientToken, body: #"{"type":"ping","seq":1,"t":5}"#,
            trust: server.trust)
        #expect(answer.status == 200, "\(answer.body)")
        #expect(answer.body.contains("\"pong\""), "\(answer.body)")
        // Connected by that heartbeat, over HTTP.
        let session = try await server.backend.session(created.sessionId)
        #expect(session.state == "connected", "\(session.history)")
        #expect(session.transport == "http", "\(session)")
    }

    /// A client that trusts the system's roots (or a different CA) does not take a self-signed certificate,
    /// and a client capped at TLS 1.1 finds no protocol in common.
    @Test func untrustedCertificatesAndOldTLSVersionsAreRefused() async throws {
        let certificate = try await TestCertificate.make()
        let server = try await Fixture(certificate)
        defer { server.stop() }
        let url = URL(string: "https://127.0.0.1:\(server.process.port)")!
        let other = try await TestCertificate.make(commonName: "another")
        for tls in [TetherTLS.system, try other.trust()] {
            let stranger = TetherBackend(url: url, apiKey: SDKServer.key, timeout: .seconds(10), tls: tls)
            await #expect(throws: TetherTransportError.self) { _ = try await stranger.projects() }
        }
        var old = TLSConfiguration.makeClientConfiguration()
        old.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate.certificatePath))
        old.maximumTLSVersion = .tlsv11
        let legacy = TetherBackend(
            url: url, apiKey: SDKServer.key, timeout: .seconds(10), tls: TetherTLS(configuration: old))
        await #expect(throws: TetherTransportError.self) { _ = try await legacy.projects() }
        var tls12 = old
        tls12.maximumTLSVersion = .tlsv12
        let current = TetherBackend(
            url: url, apiKey: SDKServer.key, timeout: .seconds(10), tls: TetherTLS(configuration: tls12))
        #expect(try await current.projects().map(\.id) == ["p"])
    }

    /// Plain HTTP, TLS-looking garbage and a client that sends a few bytes and waits, on each of the three
    /// ports: each is closed (the last by the idle timeout) while TLS clients keep heartbeating, never kicked.
    @Test func plainTextAndGarbageOnTLSPortsLeaveHealthyClientsAlone() async throws {
        let certificate = try await TestCertificate.make()
        // The server closes idle HTTP connections after 5 s here (the stalled handshakes below must be closed
        // within the test), so the backend client keeps its own 250 ms (a fresh-clone CI run once sent a call on a
        // connection the server had just closed as idle), and the sessions are made before any client connects.
        // It was 1 s: on a loaded machine a fresh connection's TLS handshake and first request (a backend call,
        // a WebSocket upgrade) took longer, and the server closed it as idle (`remoteConnectionClosed`).
        let server = try await Fixture(
            certificate, extra: ["--http-idle-timeout-ms", "5000"], idleTimeout: .milliseconds(250))
        defer { server.stop() }
        let sessions = [try await server.session("h-ws"), try await server.session("h-tcp")]
        var healthy: [(TetherClient, StateLog, LossRecorder)] = []
        for (created, transport) in zip(sessions, [TetherClient.Transport.websocket, .tcp]) {
            let losses = LossRecorder()
            let client = try server.client(created, transport, losses: losses)
            let log = StateLog(client)
            _ = try await client.connect()
            healthy.append((client, log, losses))
        }
        guard
            case .websocket(_, let clientPort, _, true)? = TetherEndpoint(
                url: sessions[0].connect.websocket)
        else {
            Issue.record("no wss:// endpoint")
            return
        }
        let ports = [server.process.port, clientPort, server.process.tcpPort]
        let abuse: [[UInt8]] = [
            Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            Array("POST /v1/heartbeat HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".utf8),
            [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05, 0xFF, 0xFF, 0xFF],
            [0x00, 0x00, 0x00, 0x10] + Array(repeating: 0x41, count: 16),
        ]
        for port in ports {
            for bytes in abuse {
                let socket = try RawSocket(port: port)
                _ = socket.send(bytes)
                #expect(await socket.waitClosed(within: .seconds(10)), "port \(port) kept \(bytes.prefix(4)) open")
                #expect(RawHTTPResponse(socket.received) == nil, "a plain-text answer on a TLS port")
                socket.close()
            }
        }
        // Two bytes of a record header, then nothing: the HTTP ports' idle timeout and the TCP port's hello
        // deadline close it; NIOSSL has no handshake timeout of its own.
        for port in ports {
            let socket = try RawSocket(port: port)
            _ = socket.send([0x16, 0x03])
            #expect(
                await socket.waitClosed(within: .seconds(30)), "port \(port) held a stalled handshake (ports \(ports))")
            socket.close()
        }
        for (client, log, losses) in healthy {
            let before = await client.stats.pongsReceived
            #expect(await eventually(within: .seconds(10)) { await client.stats.pongsReceived >= before + 3 })
            #expect(log.reconnects.isEmpty, "lost: \(losses.losses); server: \(server.process.lines.suffix(20))")
            #expect(!log.all.contains { if case .ended = $0 { true } else { false } })
            await client.close()
        }
    }

    @Test func serveRefusesHalfATLSSettingAndFilesItCannotUse() async throws {
        let certificate = try await TestCertificate.make()
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("tether-tls-\(UUID()).sqlite").path
        let onlyCert = try await ChildProcess.run(
            ServeProcess.binary, ["serve", "--data", data, "--port", "0", "--tls-cert", certificate.certificatePath])
        #expect(onlyCert.status == 64)
        #expect(onlyCert.output.contains("--tls-cert and --tls-key go together"))
        let other = try await TestCertificate.make(commonName: "other")
        let mismatched = try await ChildProcess.run(
            ServeProcess.binary,
            [
                "serve", "--data", data, "--port", "0", "--client-port", "0", "--tcp-port", "0", "--tls-cert",
                certificate.certificatePath, "--tls-key", other.keyPath,
            ])
        #expect(mismatched.status != 0)
        #expect(mismatched.output.contains("does the key match the certificate?"), "\(mismatched.output)")
        #expect(!mismatched.output.contains("listening"))
        let missing = try await ChildProcess.run(
            ServeProcess.binary,
            [
                "serve", "--data", data, "--port", "0", "--client-port", "0", "--tcp-port", "0", "--tls-cert",
                "/nonexistent/cert.pem", "--tls-key", certificate.keyPath,
            ])
        #expect(missing.status != 0)
        #expect(missing.output.contains("cannot read the certificate /nonexistent/cert.pem"), "\(missing.output)")
    }

    /// SIGHUP reads the files again: connections made before keep going on the old certificate, new ones get
    /// the new one; files that cannot be used leave the current certificate in place.
    @Test func sighupReloadsTheCertificateWithoutDroppingConnections() async throws {
        let first = try await TestCertificate.make(commonName: "first")
        let second = try await TestCertificate.make(commonName: "second")
        let server = try await Fixture(first)
        defer { server.stop() }
        let url = URL(string: "https://127.0.0.1:\(server.process.port)")!
        var connected: [(TetherClient, StateLog)] = []
        for (user, transport) in [("r-ws", TetherClient.Transport.websocket), ("r-tcp", .tcp)] {
            let client = try server.client(try await server.session(user), transport)
            let log = StateLog(client)
            _ = try await client.connect()
            connected.append((client, log))
        }
        let trustsSecond = TetherBackend(
            url: url, apiKey: SDKServer.key, timeout: .seconds(10), tls: try second.trust())
        await #expect(throws: TetherTransportError.self) { _ = try await trustsSecond.projects() }

        let firstTrust = try first.trust()  // read now, before the files change
        try second.copy(over: first)
        kill(server.process.process.processIdentifier, SIGHUP)
        #expect(await server.process.waitForLine(containing: "TLS certificate reloaded") != nil)
        #expect(try await trustsSecond.projects().map(\.id) == ["p"])
        let trustsFirst = TetherBackend(
            url: url, apiKey: SDKServer.key, timeout: .seconds(10), tls: firstTrust)
        await #expect(throws: TetherTransportError.self) { _ = try await trustsFirst.projects() }
        for (client, log) in connected {
            let before = await client.stats.pongsReceived
            #expect(await eventually(within: .seconds(10)) { await client.stats.pongsReceived >= before + 3 })
            #expect(log.reconnects.isEmpty, "a connection dropped at the reload")
        }

        try Data("not a key".utf8).write(to: URL(fileURLWithPath: first.keyPath))
        kill(server.process.process.processIdentifier, SIGHUP)
        #expect(await server.process.waitForLine(containing: "TLS reload failed, the current certificate stays") != nil)
        #expect(server.process.process.isRunning)
        #expect(try await trustsSecond.projects().map(\.id) == ["p"])
        for (client, _) in connected { await client.close() }
    }

    /// The CLI's `--ca-file` (and TETHER_CA_FILE): without it a self-signed server is unreachable (exit 2).
    @Test func theCLITrustsACAFile() async throws {
        let certificate = try await TestCertificate.make()
        let server = try await Fixture(certificate)
        defer { server.stop() }
        let cli = CLI(url: "https://127.0.0.1:\(server.process.port)", apiKey: SDKServer.key)
        let listed = try await cli.run("projects", "list", "--json", "--ca-file", certificate.certificatePath)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("\"p\""), "\(listed.stdout)")
        let untrusted = try await cli.run("projects", "list")
        #expect(untrusted.status == 2, "\(untrusted.stdout) \(untrusted.stderr)")
        #expect(untrusted.stderr.contains("Unreachable"), "\(untrusted.stderr)")
        let badFile = try await cli.run("projects", "list", "--ca-file", "/nonexistent.pem")
        #expect(badFile.status == 64, "\(badFile.stderr)")

        // The SSE stream over TLS: `events --follow` reads it live (not by polling).
        let follow = try cli.start([
            "events", "--follow", "--json", "--project", "p", "--ca-file", certificate.certificatePath,
        ])
        defer { follow.cancel() }
        #expect(try await cli.run("apply", "p", "alice", "--ca-file", certificate.certificatePath).status == 0)
        let seen = await eventually(within: .seconds(10)) { follow.stdout.contains("concurrency.reserved") }
        #expect(seen, "follow printed: \(follow.stdout) \(follow.stderr)")
        #expect(!follow.stderr.contains("reconnecting"), "\(follow.stderr)")
    }
}
