/// What bounds `tether bench heartbeats`' rate: the server's CPU per heartbeat beside the load's, and whether
/// the two processes together filled the machine (issue 13, item 5: report both). Pure: figures in, a
/// sentence out.
struct HeartbeatBound: CustomStringConvertible {
    /// Server CPU per acknowledged heartbeat (µs).
    var serverUs: Double
    /// Load CPU per acknowledged heartbeat (µs).
    var loadUs: Double
    /// Cores the server and the load used in the window.
    var serverCores: Double
    var loadCores: Double
    /// Cores of the machine.
    var cores: Int

    /// Whether server and load together used at least 90 % of the machine.
    var machineFull: Bool { serverCores + loadCores >= 0.9 * Double(cores) }

    /// Which side costs more per heartbeat.
    var costlier: String { serverUs >= loadUs ? "server" : "load" }

    var description: String {
        let per = "per heartbeat: server \(Self.f(serverUs)) µs, load \(Self.f(loadUs)) µs"
        let use = "server \(Self.f(serverCores)) + load \(Self.f(loadCores)) of \(cores) cores"
        if machineFull {
            return "\(per); \(use): the machine is full, so the rate is bounded by the CPU both share, the \(costlier) "
                + "taking the larger part"
        }
        return "\(per); \(use): the machine is not full, so neither process's CPU bounds the rate"
    }

    private static func f(_ v: Double) -> String {
        let rounded = (v * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

extension HeartbeatBound {
    /// From the scenario's figures; `nil` when a figure is missing (no heartbeat answered).
    init?(figures: [String: Double], cores: Int) {
        guard let serverUs = figures["serverCpuUsPerHeartbeat"], let loadUs = figures["loadCpuUsPerHeartbeat"],
            let serverCores = figures["serverCpuCores"], let loadCores = figures["loadCpuCores"], cores > 0
        else { return nil }
        self.init(serverUs: serverUs, loadUs: loadUs, serverCores: serverCores, loadCores: loadCores, cores: cores)
    }
}
