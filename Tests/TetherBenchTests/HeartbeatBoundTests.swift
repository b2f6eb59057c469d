import Testing

@testable import TetherBench

/// The heartbeats scenario's note on what bounds its rate (issue 13, item 5): both processes' CPU per
/// heartbeat, and whether together they filled the machine.
struct HeartbeatBoundTests {
    @Test func aFullMachineNamesTheCostlierSide() throws {
        let bound = try #require(
            HeartbeatBound(
                figures: [
                    "serverCpuUsPerHeartbeat": 19.04, "loadCpuUsPerHeartbeat": 23.0, "serverCpuCores": 0.9,
                    "loadCpuCores": 1.05,
                ], cores: 2))
        #expect(bound.machineFull && bound.costlier == "load")
        #expect(
            bound.description
                == "per heartbeat: server 19 µs, load 23 µs; server 0.9 + load 1.1 of 2 cores: the machine is full, "
                + "so the rate is bounded by the CPU both share, the load taking the larger part")
    }

    @Test func aMachineWithRoomBoundsNeither() {
        let bound = HeartbeatBound(serverUs: 30, loadUs: 12.5, serverCores: 0.6, loadCores: 0.3, cores: 2)
        #expect(!bound.machineFull && bound.costlier == "server")
        #expect(bound.description.hasSuffix("the machine is not full, so neither process's CPU bounds the rate"))
        #expect(bound.description.hasPrefix("per heartbeat: server 30 µs, load 12.5 µs"))
    }

    @Test func missingFiguresGiveNoNote() {
        #expect(HeartbeatBound(figures: ["serverCpuUsPerHeartbeat": 1], cores: 2) == nil)
        #expect(
            HeartbeatBound(
                figures: [
                    "serverCpuUsPerHeartbeat": 1, "loadCpuUsPerHeartbeat": 1, "serverCpuCores": 1, "loadCpuCores": 1,
                ], cores: 0) == nil)
    }
}
