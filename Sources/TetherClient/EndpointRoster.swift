import TetherProtocol

/// Where a client connects next, among the cluster's nodes (API.md "Several nodes on one PostgreSQL"). Pure:
/// the client reports what happened, the roster says where to go.
///
/// Rules (docs/BEHAVIOUR.md "Swift SDK"): the first node is CreateSession's `connect`; a `welcome` makes the
/// list the welcoming node followed by its `alternates`, in order; a `moved` kick puts the named node first;
/// when the node in use cannot be reached (the connection could not be opened, no welcome came in time, or it
/// went silent), the next attempt goes to the next node of the list, wrapping around. A connection lost in
/// another way is retried on the same node first.
public struct EndpointRoster: Sendable, Hashable {
    /// The nodes to try, the one in use first after each welcome or move.
    public private(set) var endpoints: [TetherEndpoint]
    private var index = 0

    /// A roster that starts with `first`.
    public init(_ first: TetherEndpoint) { endpoints = [first] }

    /// The node to connect to now.
    public var current: TetherEndpoint { endpoints[index] }

    /// A welcome from ``current``: the list becomes it and then `alternates` (those of the client's transport
    /// that parse, without repeats).
    public mutating func welcomed(alternates: [ServerMessage.Connect]) {
        let home = current
        endpoints = [home]
        for connect in alternates {
            if let endpoint = home.sameTransport(in: connect), !endpoints.contains(endpoint) {
                endpoints.append(endpoint)
            }
        }
        index = 0
    }

    /// A `moved` kick: the node it names goes first. False when it names no node of the client's transport
    /// (the kick is then a plain loss).
    @discardableResult
    public mutating func moved(to connect: ServerMessage.Connect) -> Bool {
        guard let target = current.sameTransport(in: connect) else { return false }
        endpoints = [target] + endpoints.filter { $0 != target }
        index = 0
        return true
    }

    /// ``current`` could not be reached: the next node (the same one when there is no other).
    public mutating func unreachable() { index = (index + 1) % endpoints.count }
}

extension TetherEndpoint {
    /// This endpoint's transport in another node's `connect` block, when it has one that parses.
    func sameTransport(in connect: ServerMessage.Connect) -> TetherEndpoint? {
        switch self {
        case .websocket: TetherEndpoint(url: connect.websocket)
        case .tcp: connect.tcp.flatMap { TetherEndpoint(url: $0) }
        }
    }
}
