// CreateApplicationProject, ModifyApplicationProject, DeleteApplicationProjects.
extension Broker {
    mutating func createProject(id: ProjectID, name: String, policy: Policy) throws(BrokerError) -> Project {
        try Validation.projectID(id)
        try Validation.name(name)
        try Validation.policy(policy)
        guard projects[id] == nil else { throw .projectExists(id) }
        let project = Project(id: id, name: name, policy: policy, createdAt: clock, updatedAt: clock)
        projects[id] = ProjectState(project: project, pool: SlotPool(projectId: id, capacity: policy.capacity))
        effects.append(.saveProject(project))
        return project
    }

    mutating func updateProject(_ id: ProjectID, _ patch: ProjectPatch) throws(BrokerError) -> Project {
        guard let old = projects[id]?.project else { throw .projectNotFound(id) }
        var project = patch.applied(to: old, at: clock)
        if let name = patch.name { try Validation.name(name) }
        try Validation.policy(project.policy)
        project.updatedAt = clock
        projects[id]?.project = project
        if project.policy.capacity != old.policy.capacity {
            projects[id]?.pool.setCapacity(project.policy.capacity)
            queueDirty.insert(id)
        }
        effects.append(.saveProject(project))
        return project
    }

    mutating func deleteProject(_ id: ProjectID) throws(BrokerError) -> Project {
        guard let ps = projects[id] else { throw .projectNotFound(id) }
        for ticket in ps.queue.ordered { leaveQueue(ticket, .projectDeleted) }
        for userId in ps.reservations.keys.sorted() { dropReservation(id, userId, at: clock) }
        for sessionId in ps.liveSessionByUser.values.sorted() {
            guard var s = sessions[sessionId] else { continue }
            end(&s, .projectDeleted, at: clock)
        }
        projects.removeValue(forKey: id)
        queueDirty.remove(id)
        effects.append(.deleteProject(id))
        return ps.project
    }
}
