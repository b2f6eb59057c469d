import TetherCore

extension Effect {
    /// Whether a store must write the effect: events and upserts or deletions of projects, reservations and
    /// sessions. Kicks and metrics are carried out by the shell only.
    var isDurable: Bool {
        switch self {
        case .event, .saveProject, .deleteProject, .saveReservation, .deleteReservation, .saveSession, .saveTicket,
            .deleteTicket, .audit:
            true
        case .kick, .queueNotice, .deadlineExpired, .deadlinesShifted, .sessionEnded: false
        }
    }
}
