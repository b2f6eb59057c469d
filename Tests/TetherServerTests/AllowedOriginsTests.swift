import Foundation
import HTTPTypes
import NIOCore
import Testing
import TetherProtocol
import TetherTestKit

/// `allowedOrigins` end to end: a page on another site cannot connect a project's clients over WebSocket or
/// HTTP heartbeats (kick `originNotAllowed`, close 4030, 403), a native client without `Origin` can, the
/// session is untouched by a refusal, and the list is shown, changed and cleared through the API.
@Suite struct AllowedOriginsTests {
    static let app = "https://app.example.com"
    static let evil = "https://evil.example"
    static let ping = String(decoding: ClientMessage.ping(seq: 1, t: 1).json, as: UTF8.self)

    @Test func aPageOnAnotherSiteCannotConnectOverWebSocket() async throws {
        try await PlaneHarness.run { h in
            try await h.project(extra: #","allowedOrigins":["\#(Self.app)"]"#)
            let shown = try await h.api.get("/v1/projects/p")
            #expect(shown["allowedOrigins"].array.compactMap(\.string) == [Self.app], "\(shown.text)")
            let c = try await h.session("alice")

            let evil = try await WebSocketTestClient.connect(port: h.clientPort, answerPings: false, origin: Self.evil)
            try await evil.send(.hello(.token(c.token)))
            await expectKick(evil, reason: "originNotAllowed", code: 4030)
            #expect(try await h.get(c.sessionId)["state"].string == "created", "a refusal changes nothing")

            // Origins compare ignoring case; a native client sends none and gets in.
            let page = try await WebSocketTestClient.connect(
                port: h.clientPort, answerPings: false, origin: "HTTPS://App.Example.com")
            let welcome = try #require(try await page.hello(token: c.token))
            try await h.wait(c.sessionId, state: "connected")
            let native = try await WebSocketTestClient.connect(port: h.clientPort, answerPings: false)
            #expect(try await native.resume(try #require(welcome["resumeToken"].string)) != nil)
            await expectKick(page, reason: "replaced", code: 4002)

            // A resume from another site is refused before the token is spent, and the holder keeps the session.
            let resumeToken = try #require(native.inbox.messages("welcome").last?.json["resumeToken"].string)
            let thief = try await WebSocketTestClient.connect(port: h.clientPort, answerPings: false, origin: Self.evil)
            try await thief.send(.hello(.resumeToken(resumeToken)))
            await expectKick(thief, reason: "originNotAllowed", code: 4030)
            #expect(try await native.ping(seq: 1) != nil, "the native client still holds the session")
            let session = try await h.get(c.sessionId)
            #expect(session["state"].string == "connected" && session["epoch"].int == 2, "\(session)")
            for client in [evil, page, native, thief] { try? await client.channel.close() }
        }
    }

    @Test func aPageOnAnotherSiteCannotHeartbeatOverHTTP() async throws {
        try await PlaneHarness.run { h in
            try await h.project(extra: #","allowedOrigins":["\#(Self.app)"]"#)
            let c = try await h.session("bob")
            let refused = try await HeartbeatHTTP.call(
                port: h.clientPort, token: c.token, body: Self.ping, origin: Self.evil)
            #expect(refused.status == 403, "\(refused.text)")
            #expect(refused["error"]["code"].string == "UnauthorizedOperation.Origin", "\(refused.text)")
            #expect(refused["error"]["kick"].string == "originNotAllowed", "\(refused.text)")
            #expect(try await h.get(c.sessionId)["state"].string == "created")

            let ok = try await HeartbeatHTTP.call(port: h.clientPort, token: c.token, body: Self.ping, origin: Self.app)
            #expect(ok.status == 200, "\(ok.text)")
            try await h.wait(c.sessionId, state: "connected")
            // Once attached, every heartbeat must come from the page that attached it.
            for origin in [Self.evil, nil] {
                let other = try await HeartbeatHTTP.call(
                    port: h.clientPort, token: c.token, body: Self.ping, origin: origin)
                #expect(other.status == 403 && other["error"]["kick"].string == "originNotAllowed", "\(other.text)")
            }
            let again = try await HeartbeatHTTP.call(
                port: h.clientPort, token: c.token, body: Self.ping, origin: Self.app)
            #expect(again.status == 200, "\(again.text)")
        }
    }

    @Test func theListIsValidatedChangedAndCleared() async throws {
        try await PlaneHarness.run { h in
            for bad in ["https://app.example.com/", "*", "null", "ftp://x.example", "https://a.example:0"] {
                let reply = try await h.api.post(
                    "/v1/projects", #"{"id":"bad","capacity":1,"allowedOrigins":["\#(Self.app)","\#(bad)"]"# + "}")
                #expect(reply.status == .badRequest, "\(bad): \(reply.text)")
                #expect(reply.text.contains("allowedOrigins[1]"), "\(bad): \(reply.text)")
            }
            #expect(try await h.api.get("/v1/projects/bad").status == .notFound)

            try await h.project(extra: #","allowedOrigins":[]"#)
            let none = try await h.session("carol")
            let page = try await WebSocketTestClient.connect(port: h.clientPort, answerPings: false, origin: Self.app)
            try await page.send(.hello(.token(none.token)))
            await expectKick(page, reason: "originNotAllowed", code: 4030)

            let patched = try await h.api.call(.patch, "/v1/projects/p", json: #"{"allowedOrigins":null}"#)
            #expect(patched.status == .ok && patched["allowedOrigins"].isNull, "\(patched.text)")
            let any = try await WebSocketTestClient.connect(port: h.clientPort, answerPings: false, origin: Self.evil)
            #expect(try await any.hello(token: none.token) != nil, "null allows any origin again")
            for client in [page, any] { try? await client.channel.close() }
        }
    }
}
