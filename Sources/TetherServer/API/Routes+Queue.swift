import Hummingbird
import TetherCore
import TetherProtocol

// The waiting queue (API.md "Waiting queue"): a queued apply's 202, the queue, one user's ticket, leaving.
extension BackendAPI {
    /// How long a queue token is good for: a ticket may wait long, and a cancelled ticket's token finds no
    /// ticket whatever its expiry.
    static let queueTokenLifetimeMs: Millis = 7 * 24 * 3_600_000

    static func newTicketID() -> TicketID { "qt-" + Secrets.hex(Secrets.randomBytes(16)) }

    /// ApplyConcurrent with `queue: true`: the reservation (200) when a concurrency is idle or the user holds
    /// one, else the user's place in the queue (202, with a queue token).
    func applyQueued(_ projectId: ProjectID, _ body: TetherAPI.ApplyRequest) async throws -> any ResponseGenerator {
        let command = Command.applyQueued(
            projectId, userId: body.userId, userIp: body.userIp, priority: body.priority ?? 0,
            ticketId: Self.newTicketID())
        switch try await service.execute(command) {
        case .applied(let applied):
            return TetherAPI.Applied(applied)
        case .queued(let place):
            let token = signer.queueToken(
                project: projectId, ticket: place.ticket.ticketId, expiresAt: time.now() + Self.queueTokenLifetimeMs)
            return EditedResponse(
                status: .accepted,
                response: TetherAPI.Queued(
                    ticketId: place.ticket.ticketId, position: place.position, etaMs: place.etaMs, queueToken: token,
                    connect: connect))
        default:
            throw APIError.unexpected
        }
    }

    func addQueueRoutes(to router: RouterGroup<TetherRequestContext>) {
        router.get("/projects/:projectId/queue") { _, context in
            let id = try context.project()
            let tickets = try service.read { broker throws(BrokerError) in
                try broker.queue(id).map {
                    TetherAPI.QueueTicket($0, connected: broker.queueClientConnected(id, $0.ticket.userId))
                }
            }
            return TetherAPI.QueueList(length: tickets.count, tickets: tickets)
        }
        router.get("/projects/:projectId/queue/:userId") { _, context in
            let id = try context.project()
            let userId = try context.path("userId")
            return try service.read { broker throws(BrokerError) in
                TetherAPI.QueueTicket(
                    try broker.queuePlace(id, userId: userId), connected: broker.queueClientConnected(id, userId))
            }
        }
        router.delete("/projects/:projectId/queue/:userId") { _, context in
            let id = try context.project()
            let userId = try context.path("userId")
            guard
                case .ticket(let ticket) = try await service.execute(
                    .cancelTicket(id, userId), audit: context.audit(.queueCancel, "\(id)/\(userId)", at: time.now()))
            else {
                throw APIError.unexpected
            }
            return TetherAPI.QueueTicket(
                QueuePlace(ticket: ticket, position: 0, etaMs: 0), connected: false, state: "left")
        }
    }
}

extension TetherAPI.QueueTicket {
    /// A ticket's place as the API shows it.
    init(_ place: QueuePlace, connected: Bool, state: String? = nil) {
        let t = place.ticket
        self.init(
            ticketId: t.ticketId, userId: t.userId, position: place.position, priority: t.priority,
            enqueuedAt: t.enqueuedAt, etaMs: place.etaMs, state: state ?? (t.isOffered ? "offered" : "waiting"),
            clientConnected: connected, concurrencyId: t.offeredConcurrency, reservedUntil: place.reservedUntil)
    }
}
