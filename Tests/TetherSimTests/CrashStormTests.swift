import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// A crash under load (issue 19): `tether sim` clients on all three transports heartbeat against a real
/// `tether serve`, which is killed with SIGKILL and restarted at once on the same data file and ports.
@Suite struct CrashStormTests {
    func int(_ summary: [String: Any], _ key: String) -> Int { summary[key] as? Int ?? -1 }

    /// Every session the crash disconnected comes back (the restarted server's feed has its
    /// `session.reconnected`), and the simulator ends by itself with its report, no client left running. (On a loaded machine the simulator may fail to
    /// create or connect a few of its clients before the crash; the sessions connected at the crash are the
    /// ones that must come back.)
    @Test func everySessionIsBackAfterAKill9UnderTwoThousandClients() async throws {
        let n = 2_000
        let server = try await SDKServer.start()
        defer { server.stop() }
        let cli = CLI(url: "http://127.0.0.1:\(server.apiPort)", apiKey: SDKServer.key)
        let sim = try cli.start([
            "sim", "--json", "--clients", "\(n)", "--duration", "60", "--transport", "mix", "--processes", "2",
            "--heartbeat-interval-ms", "2000", "--heartbeat-timeout-ms", "6000", "--grace-ms", "60000",
            "--drain", "60",
        ])
        let backend = server.backend
        // Connected: all of them, or as many as a loaded machine let the simulator connect (its own failures,
        // a create that timed out, are its report's business): the count no longer moves for 15 s.
        let plateau = Plateau()
        let settled = await eventually(within: .seconds(300), every: .milliseconds(500)) {
            plateau.add((try? await backend.count(project: "sim"))?.connected ?? 0, enough: n)
        }
        let before = plateau.last
        guard settled, before >= n / 2 else {
            // Seen once in a fresh-clone CI run with the whole suite (0 connected after 300 s, nothing on the
            // sim's standard error): say all there is to say.
            let running = sim.process.isRunning
            let count = try? await backend.count(project: "sim")
            let result = await sim.stop()
            Issue.record(
                "only \(before) of \(n) clients connected; the sim was \(running ? "running" : "gone (exit \(result.status))"); the server counts \(count.map { "\($0)" } ?? "nothing (unreachable)"); sim stdout: \(result.stdout.suffix(1_000)); stderr: \(result.stderr.suffix(2_000))"
            )
            return
        }
        let crashMs = Int64(Date().timeIntervalSince1970 * 1_000)
        await server.process.kill9()
        try await server.restart()
        let restartedMs = Int64(Date().timeIntervalSince1970 * 1_000) - crashMs

        // The simulator ends by itself: 60 s of run from its start (the crash comes once everyone is connected,
        // so a loaded machine still leaves the clients tens of seconds to come back), then at most its drain. A
        // client still reconnecting at the end keeps trying for half the drain (30 s): reconnecting is bound by
        // CPU here (about 500 resumes a second unloaded in a debug build, the last 5–7 s after the crash, and
        // slower beside the rest of the suite), and a crash late in the run left 17 of 2 000
        // clients short of time with a 10 s window.
        let ended = await eventually(within: .seconds(240), every: .milliseconds(250)) { !sim.process.isRunning }
        #expect(ended, "the simulator was still running")
        let result = await sim.stop()
        #expect(result.status == 0, "\(result.stderr.suffix(2_000))")
        let s = try result.json()
        #expect(int(s, "connected") >= before, "\(s["notes"] ?? "")")
        #expect(int(s, "unfinished") == 0, "\(s["notes"] ?? "")")
        // The report's own account of the clients' outages is printed, not judged: on a machine loaded by the
        // whole test suite a few clients may still count their crash outage open at the end (an answer that
        // came after its timeout) although the server reconnected their session, which is what is judged below.
        print("crash at \(crashMs); outages not over since \((s["outagesNotOverSinceMs"] as? [Double]) ?? [])")

        // The server's account: each session the crash disconnected was reconnected.
        var disconnected = Set<String>()
        var reconnected = Set<String>()
        var after: UInt64 = 0
        var backs: [Int64] = []
        while true {
            let page = try await backend.events(after: after, project: "sim", limit: 1_000)
            if page.events.isEmpty { break }
            after = page.nextCursor
            for event in page.events where event.at >= crashMs {
                guard let id = event.sessionId else { continue }
                if event.type == "session.disconnected" && event.data.cause == "shutdown" { disconnected.insert(id) }
                if event.type == "session.reconnected" && disconnected.contains(id) {
                    reconnected.insert(id)
                    backs.append(event.at - crashMs)
                }
            }
        }
        backs.sort()
        let median = backs.isEmpty ? 0 : backs[backs.count / 2]
        print(
            "restarted \(restartedMs) ms after the crash; \(reconnected.count) of \(disconnected.count) back, the median"
                + " \(median) ms and the last \(backs.last ?? 0) ms after it")
        #expect(disconnected.count == before)
        #expect(reconnected == disconnected, "\(disconnected.subtracting(reconnected).count) sessions not back")
    }
}

/// The last values of a count polled until it reaches `enough` or stops moving for thirty polls.
final class Plateau: @unchecked Sendable {
    private var values: [Int] = []
    var last: Int { values.last ?? 0 }

    /// Adds a value; whether the count has settled.
    func add(_ value: Int, enough: Int) -> Bool {
        values.append(value)
        if value >= enough { return true }
        let recent = values.suffix(30)
        return value > 0 && recent.count == 30 && recent.allSatisfy { $0 == value }
    }
}
