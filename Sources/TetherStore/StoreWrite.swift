import TetherCore

/// What a store's group-commit writer carries: a command's durable effects or a setting.
public enum StoreWrite: Sendable {
    /// The durable effects of one command, in the broker's order.
    case effects([Effect])
    /// A server setting.
    case setting(key: String, value: String)
}

extension StoreWrite {
    /// How many events the write appends.
    var eventCount: Int {
        guard case .effects(let effects) = self else { return 0 }
        var count = 0
        for effect in effects { if case .event = effect { count += 1 } }
        return count
    }

    /// The cursor the broker numbered the write's first event with (a store with one writer commits events
    /// with the broker's own cursors).
    var firstEventCursor: UInt64? {
        guard case .effects(let effects) = self else { return nil }
        for effect in effects { if case .event(let event) = effect { return event.cursor } }
        return nil
    }
}

extension StoreWrite {
    /// The projects whose rows the write changes (a per-project owner's write must hold each one's lease).
    var projects: Set<ProjectID> {
        guard case .effects(let effects) = self else { return [] }
        var out: Set<ProjectID> = []
        for effect in effects {
            switch effect {
            case .saveProject(let p): out.insert(p.id)
            case .deleteProject(let id): out.insert(id)
            case .saveReservation(let r): out.insert(r.projectId)
            case .deleteReservation(let projectId, _), .deleteTicket(let projectId, _): out.insert(projectId)
            case .saveSession(let s): out.insert(s.projectId)
            case .saveTicket(let t): out.insert(t.projectId)
            case .event(let e): out.insert(e.projectId)
            case .audit, .kick, .queueNotice, .deadlineExpired, .deadlinesShifted, .sessionEnded: break
            }
        }
        return out
    }
}
