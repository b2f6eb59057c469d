/// What an API key may see and change: every project and the keys themselves (an admin key), or only a set of
/// projects (a project key). A project outside a project key's set does not exist for it (404), and what only
/// an admin may do (create or delete projects, manage keys) is refused to it (403).
public enum KeyScope: Sendable, Hashable {
    /// Every project, and the keys.
    case admin
    /// Only these projects: their policy, pools, sessions, queue, webhook status and events.
    case projects(Set<ProjectID>)

    /// The scope of a key created with `projects` (none: an admin key).
    public init(projects: [ProjectID]?) {
        if let projects { self = .projects(Set(projects)) } else { self = .admin }
    }

    /// Whether the key may manage keys and create or delete projects.
    public var isAdmin: Bool {
        if case .admin = self { return true }
        return false
    }

    /// Whether the key sees `project`.
    public func sees(_ project: ProjectID) -> Bool {
        switch self {
        case .admin: true
        case .projects(let set): set.contains(project)
        }
    }
}
