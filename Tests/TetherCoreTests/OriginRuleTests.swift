import Testing

@testable import TetherCore

/// `allowedOrigins`: which origins are valid, which connections they let in, and that a refused hello, resume
/// or queue hello changes nothing.
@Suite struct OriginRuleTests {
    static let app = "https://app.example.com"

    @Test func anAbsentListOrAnAbsentOriginIsAllowedAndOriginsCompareIgnoringCase() {
        #expect(OriginRule.allows("https://evil.example", nil))
        #expect(OriginRule.allows(nil, [Self.app]), "a native client sends no Origin")
        #expect(OriginRule.allows("HTTPS://App.Example.COM", [Self.app]))
        #expect(!OriginRule.allows("https://evil.example", [Self.app]))
        #expect(!OriginRule.allows("http://app.example.com", [Self.app]), "another scheme")
        #expect(!OriginRule.allows("https://app.example.com:8443", [Self.app]), "another port")
        #expect(!OriginRule.allows("https://app.example.com.evil.example", [Self.app]))
        #expect(!OriginRule.allows("null", [Self.app]), "a sandboxed frame's opaque origin")
        #expect(!OriginRule.allows(Self.app, []), "an empty list lets no page in")
    }

    @Test(arguments: [
        "http://a", "https://app.example.com", "https://APP.example.com:8443", "http://127.0.0.1:8080",
        "http://[::1]:3000", "https://xn--bcher-kva.example", "http://localhost:65535",
    ])
    func validOrigins(_ origin: String) {
        #expect(OriginRule.isValid(origin))
    }

    @Test(arguments: [
        "", "*", "null", "app.example.com", "ftp://app.example.com", "https://", "https://app.example.com/",
        "https://app.example.com/path", "https://app.example.com?q", "https://app.example.com#f",
        "https://user@app.example.com", "https://app.example.com:", "https://app.example.com:0",
        "https://app.example.com:65536", "https://app.example.com:080", "https://-app.example.com",
        "https://app-.example.com", "https://app..example.com", "https://app.example.com.", "https://bü.example",
        "https://app example.com", "https://[::1", "https://[]", "https://[::1]x", "https://*.example.com",
        " https://app.example.com", "https://app.example.com\n",
    ])
    func invalidOrigins(_ origin: String) {
        #expect(!OriginRule.isValid(origin))
    }

    @Test func aPolicyWithABadOriginIsRefusedNamingIt() throws {
        var h = Harness()
        let bad = Policy(allowedOrigins: [Self.app, "https://app.example.com/"])
        #expect(throws: BrokerError.invalidParameter(field: "allowedOrigins[1]", message: Self.message)) {
            try h.run(.createProject(id: "p", name: "p", policy: bad))
        }
        let many = Policy(allowedOrigins: (0..<101).map { "https://o\($0).example" })
        #expect(throws: BrokerError.self) { try h.run(.createProject(id: "p", name: "p", policy: many)) }
        #expect(h.broker.allProjects.isEmpty)
    }

    static let message = "must be an origin as browsers send it: http(s)://host[:port], nothing after (8 to 256 bytes)"

    @Test func aHelloOrResumeFromAnotherOriginIsRefusedAndChangesNothing() throws {
        var h = Harness()
        _ = try h.project(capacity: 2)
        _ = try h.run(.updateProject("p", ProjectPatch(allowedOrigins: .some([Self.app]))))
        _ = try h.apply("u")
        let s = try h.create("u")
        #expect(throws: BrokerError.originNotAllowed("https://evil.example")) {
            try h.run(
                .hello(
                    s.id, epoch: s.epoch, connection: 1, transport: .websocket, resumeTokenHash: "rt1",
                    origin: "https://evil.example"))
        }
        #expect(h.broker.session(s.id)?.state == .created)
        #expect(h.broker.session(s.id)?.connection == nil)
        // The allowed origin (any case) and a native client (no Origin) get in.
        try h.run(
            .hello(
                s.id, epoch: s.epoch, connection: 2, transport: .websocket, resumeTokenHash: "rt2",
                origin: "https://APP.example.com"))
        #expect(h.broker.session(s.id)?.state == .connected)
        // A resume from another origin: refused before the token is spent; the connection stays the session's.
        let before = h.broker.session(s.id)
        #expect(throws: BrokerError.originNotAllowed("https://evil.example")) {
            try h.run(
                .resume(
                    resumeTokenHash: "rt2", connection: 3, transport: .websocket, newResumeTokenHash: "rt3",
                    origin: "https://evil.example"))
        }
        #expect(h.broker.session(s.id) == before)
        try h.run(.resume(resumeTokenHash: "rt2", connection: 4, transport: .websocket, newResumeTokenHash: "rt4"))
        #expect(h.broker.session(s.id)?.connection == 4)
        // `null` in a PATCH allows any origin again.
        _ = try h.run(.updateProject("p", ProjectPatch(allowedOrigins: .some(nil))))
        try h.run(
            .resume(
                resumeTokenHash: "rt4", connection: 5, transport: .websocket, newResumeTokenHash: "rt5",
                origin: "https://evil.example"))
        #expect(h.broker.session(s.id)?.connection == 5)
    }

    @Test func aQueueHelloFromAnotherOriginIsRefusedAndChangesNothing() throws {
        var (h, _) = try QueueTests.full(capacity: 1)
        _ = try QueueTests.queue(&h, "a")
        _ = try h.run(.updateProject("p", ProjectPatch(allowedOrigins: .some([Self.app]))))
        #expect(throws: BrokerError.originNotAllowed("https://evil.example")) {
            try h.run(.queueHello("p", "qt-a", connection: 7, origin: "https://evil.example"))
        }
        #expect(!h.broker.queueClientConnected("p", "a"))
        _ = try h.run(.queueHello("p", "qt-a", connection: 8, origin: Self.app))
        #expect(h.broker.queueClientConnected("p", "a"))
    }
}
