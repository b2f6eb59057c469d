import Testing
import TetherProtocol

@testable import TetherClient

/// Where the client connects among a cluster's nodes: CreateSession's node, then a welcome's `alternates` in
/// order when a node cannot be reached, and the node a `moved` kick names first.
@Suite struct EndpointRosterTests {
    static func connect(_ host: String, tcp: Bool = true) -> ServerMessage.Connect {
        .init(
            websocket: "ws://\(host):8081/v1/connect", tcp: tcp ? "tcp://\(host):7070" : nil,
            http: "http://\(host):8081/v1/heartbeat")
    }
    static func ws(_ host: String) -> TetherEndpoint { .websocket(host: host, port: 8081, path: "/v1/connect") }
    static func tcp(_ host: String) -> TetherEndpoint { .tcp(host: host, port: 7070) }

    @Test func aLoneNodeIsRetriedWhenUnreachable() {
        var roster = EndpointRoster(Self.ws("a"))
        roster.unreachable()
        #expect(roster.current == Self.ws("a"))
        roster.welcomed(alternates: [])
        roster.unreachable()
        #expect(roster.current == Self.ws("a"))
    }

    @Test func anUnreachableNodeGivesWayToTheAlternatesInOrderThenWrapsAround() {
        var roster = EndpointRoster(Self.ws("a"))
        // The welcoming node first, a repeat of it and of another dropped, the transport's URLs kept.
        roster.welcomed(alternates: [Self.connect("b"), Self.connect("a"), Self.connect("c"), Self.connect("b")])
        #expect(roster.endpoints == [Self.ws("a"), Self.ws("b"), Self.ws("c")])
        #expect(roster.current == Self.ws("a"))
        roster.unreachable()
        #expect(roster.current == Self.ws("b"))
        roster.unreachable()
        #expect(roster.current == Self.ws("c"))
        roster.unreachable()
        #expect(roster.current == Self.ws("a"))
    }

    @Test func aWelcomeOnAnAlternateMakesItTheFirst() {
        var roster = EndpointRoster(Self.ws("a"))
        roster.welcomed(alternates: [Self.connect("b"), Self.connect("c")])
        roster.unreachable()
        roster.welcomed(alternates: [Self.connect("c")])  // b welcomed; a is gone from the cluster
        #expect(roster.endpoints == [Self.ws("b"), Self.ws("c")])
        #expect(roster.current == Self.ws("b"))
    }

    @Test func aTCPClientKeepsToTCPAndSkipsNodesWithoutIt() {
        var roster = EndpointRoster(Self.tcp("a"))
        roster.welcomed(alternates: [Self.connect("b", tcp: false), Self.connect("c")])
        #expect(roster.endpoints == [Self.tcp("a"), Self.tcp("c")])
        let followed = roster.moved(to: Self.connect("b", tcp: false))
        #expect(!followed)
        #expect(roster.current == Self.tcp("a"))
    }

    @Test func movedPutsTheNamedNodeFirstAndKeepsTheOthers() {
        var roster = EndpointRoster(Self.ws("a"))
        roster.welcomed(alternates: [Self.connect("b"), Self.connect("c")])
        roster.unreachable()  // on b now
        let toC = roster.moved(to: Self.connect("c"))
        #expect(toC)
        #expect(roster.endpoints == [Self.ws("c"), Self.ws("a"), Self.ws("b")])
        #expect(roster.current == Self.ws("c"))
        let toD = roster.moved(to: Self.connect("d"))
        #expect(toD)
        #expect(roster.endpoints == [Self.ws("d"), Self.ws("c"), Self.ws("a"), Self.ws("b")])
    }

    @Test func alternatesThatDoNotParseAreSkipped() {
        var roster = EndpointRoster(Self.ws("a"))
        roster.welcomed(alternates: [
            .init(websocket: "ftp://b:1/v1/connect", tcp: nil, http: "x"),
            .init(websocket: "nonsense", tcp: nil, http: ""),
            Self.connect("c"),
        ])
        #expect(roster.endpoints == [Self.ws("a"), Self.ws("c")])
    }
}
