import Foundation
import HTTPTypes
import Testing
import TetherServer
import TetherTestKit

/// The browser SDK file and demo mode (`--demo`): what is served, to whom, and only when.
@Suite struct WebTests {
    @Test func theSDKIsServedToAnyoneAsJavaScript() async throws {
        try await TestServer().run { api in
            let sdk = try await api.call(.get, "/sdk/tether.js", key: nil)
            #expect(sdk.status == .ok)
            #expect(sdk.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(sdk.headers[.cacheControl] == "no-cache")
            #expect(sdk.text.contains("export class TetherClient"))
            let css = try await api.call(.get, "/web/style.css", key: nil)
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
        }
    }

    /// The dashboard holds no data: its page and scripts load without a key, whatever the mode.
    @Test func theDashboardLoadsWithoutAKey() async throws {
        try await TestServer().run { api in
            let page = try await api.call(.get, "/dashboard", key: nil)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.cacheControl] == "no-cache" && page.headers[.contentSecurityPolicy] != nil)
            #expect(page.text.contains("/dashboard/dashboard.js") && page.text.contains(#"type="password""#))
            for script in ["/dashboard/dashboard.js", "/dashboard/feed.js", "/dashboard/charts.js"] {
                let r = try await api.call(.get, script, key: nil)
                #expect(r.status == .ok && r.headers[.contentType] == "text/javascript; charset=utf-8", "\(script)")
            }
            let feed = try await api.call(.get, "/dashboard/feed.js", key: nil)
            #expect(feed.text.contains("text/event-stream") && feed.text.contains("Authorization"))
        }
    }

    @Test func withoutDemoModeTheDemoRoutesDoNotExist() async throws {
        try await TestServer().run { api in
            for (method, path) in [
                (HTTPRequest.Method.get, "/demo"), (.get, "/demo/demo.js"), (.post, "/demo/session"),
            ] {
                let r = try await api.call(method, path, json: method == .post ? #"{"userId":"alice"}"# : nil, key: nil)
                #expect(r.status == .notFound && r.code == "ResourceNotFound", "\(method) \(path): \(r.status)")
            }
            // Not even with the API key, and no demo project was made.
            let withKey = try await api.post("/demo/session", #"{"userId":"alice"}"#)
            #expect(withKey.status == .notFound)
            #expect(try await api.get("/v1/projects/demo").status == .notFound)
        }
    }

    @Test func demoModeServesThePageAndMakesTheDemoProject() async throws {
        var server = TestServer()
        server.demo = true
        try await server.run { api in
            let page = try await api.call(.get, "/demo", key: nil)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains("/demo/demo.js") && page.headers[.contentSecurityPolicy] != nil)
            let script = try await api.call(.get, "/demo/demo.js", key: nil)
            #expect(script.status == .ok && script.text.contains("/sdk/tether.js"))
            let project = try await api.get("/v1/projects/demo")
            #expect(project.status == .ok && project["capacity"].int == 3)
            #expect(project["heartbeat"]["intervalMs"].int == 2_000 && project["heartbeat"]["timeoutMs"].int == 6_000)
            #expect(project["reconnectGraceMs"].int == 30_000)
        }
    }

    /// The demo endpoint is ApplyConcurrent + CreateSession without a key; a user whose session is in grace
    /// gets the same concurrency again (a new epoch of the same session).
    @Test func theDemoEndpointHandsOutSessionsAndReusesAUsersConcurrencyInGrace() async throws {
        var server = TestServer()
        server.demo = true
        try await server.run { api in
            let first = try await api.call(.post, "/demo/session", json: #"{"userId":"alice"}"#, key: nil)
            #expect(first.status == .created, "\(first.text)")
            #expect(first["reused"].bool == false && first["epoch"].int == 1 && first["state"].string == "created")
            let token = try #require(first["clientToken"].string)
            let concurrency = try #require(first["concurrencyId"].string)
            let sessionId = try #require(first["sessionId"].string)
            #expect(first["heartbeat"]["intervalMs"].int == 2_000 && first["reconnectGraceMs"].int == 30_000)
            let websocket = try #require(first["connect"]["websocket"].string)
            let port = try #require(
                websocket.split(separator: ":").last?.split(separator: "/").first.flatMap { Int($0) })

            // Connect, then drop the connection: the session goes to grace.
            let client = try await WebSocketTestClient.connect(port: port)
            _ = try #require(try await client.hello(token: token))
            await client.abort()
            let inGrace = try await eventually(within: .seconds(10), every: .milliseconds(50)) {
                try await api.get("/v1/sessions/\(sessionId)")["state"].string == "grace"
            }
            #expect(inGrace)

            let second = try await api.call(.post, "/demo/session", json: #"{"userId":"alice"}"#, key: nil)
            #expect(second.status == .created, "\(second.text)")
            #expect(second["reused"].bool == true && second["concurrencyId"].string == concurrency)
            #expect(second["sessionId"].string == sessionId && second["epoch"].int == 2)

            let other = try await api.call(.post, "/demo/session", json: #"{"userId":"bob"}"#, key: nil)
            #expect(other.status == .created && other["concurrencyId"].string != concurrency)
        }
    }

    @Test func aBadDemoBodyIsA400WithTheContractsErrorShape() async throws {
        var server = TestServer()
        server.demo = true
        try await server.run { api in
            let cases: [(String, String, String)] = [
                ("{}", "InvalidParameter", "userId"),
                ("not json", "InvalidParameter", "body"),
                (#"{"userId":42}"#, "InvalidParameterValue", "userId"),
                (#"{"userId":""}"#, "InvalidParameterValue", "userId"),
            ]
            for (body, code, field) in cases {
                let r = try await api.call(.post, "/demo/session", json: body, key: nil)
                #expect(r.status == .badRequest && r.code == code, "\(body): \(r.text)")
                #expect(r.message?.hasPrefix(field) == true, "\(body): \(r.text)")
                #expect(r["error"]["requestId"].string?.count == 32, "\(body): \(r.text)")
            }
        }
    }

    /// The real binary: `--demo` (and `TETHER_DEMO=1`) prints the demo's address and serves it from the
    /// installed resource bundle.
    @Test(arguments: [true, false]) func theBinaryPrintsTheDemoAddress(viaEnvironment: Bool) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("tether-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: data) }
        let serve = try await ServeProcess.start(
            dataPath: data.path, apiKey: "web-test-key", extraArguments: viaEnvironment ? [] : ["--demo"],
            environment: viaEnvironment ? ["TETHER_DEMO": "1"] : [:])
        defer { serve.stop() }
        let url = "http://127.0.0.1:\(serve.port)/demo"
        let line = await serve.waitForLine(containing: "tether: demo at ")
        #expect(line?.contains(url) == true, "\(serve.lines)")
        let (status, _) = try await serve.call("GET", "/demo", key: "")
        #expect(status == 200)
        let (sdkStatus, _) = try await serve.call("GET", "/sdk/tether.js", key: "")
        #expect(sdkStatus == 200)
    }
}
