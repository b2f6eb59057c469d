extension Broker {
    /// The project a CAR `CreateSession` is for: CAR's names no project, so it is the project of the user's
    /// latest hold among the projects `visible` to the caller's key. A live reservation first, the one that
    /// lapses last (each ApplyConcurrent renews it, so the latest apply's); else the user's live session, in
    /// grace first, then the newest (its CreateSession answers as the native one would: a session in grace
    /// resumes, another needs a reservation); nil when the user holds nothing.
    public func projectOfLatestHold(
        of userId: UserID, at now: Millis, among visible: (ProjectID) -> Bool
    ) -> ProjectID? {
        let reservations = projects.compactMap { id, state -> Reservation? in
            guard visible(id), let r = state.reservations[userId], r.reservedUntil > now else { return nil }
            return r
        }
        // Ties (one apply time in two projects) go to the smaller project id, so the answer never depends on
        // the dictionary's order.
        let best = reservations.max { ($0.reservedUntil, $1.projectId) < ($1.reservedUntil, $0.projectId) }
        if let best { return best.projectId }
        let held = projects.keys.filter(visible).compactMap { session(of: userId, in: $0) }
        return held.max { a, b in
            (a.state == .grace ? 1 : 0, a.createdAt, b.projectId) < (
                b.state == .grace ? 1 : 0, b.createdAt, a.projectId
            )
        }?.projectId
    }
}
