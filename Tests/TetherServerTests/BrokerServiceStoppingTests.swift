import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import Testing
import TetherCore
import TetherStore
import TetherTestKit

@testable import TetherServer

/// Commands that reach the broker after its graceful shutdown are refused as `stopping`, with the shutdown's
/// `retryAfterMs`: not "session not found", which the client plane told HTTP-heartbeat clients as 410
/// `expired` (the end of their session) while the server was only restarting.
struct BrokerServiceStoppingTests {
    @Test func afterTheShutdownEveryCommandIsRefusedAsStopping() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stopping-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        let service = try await BrokerService(
            store: store, time: ManualTime(1_700_000_000_000), shutdownRetryAfterMs: 1_500,
            logger: Logger(label: "test"))
        _ = try await service.execute(.createProject(id: "p", name: "p", policy: Policy(capacity: 1)))
        _ = try await service.execute(.apply("p", userId: "u", userIp: nil))
        _ = try await service.execute(.createSession("p", userId: "u", sessionId: "s1", metadata: SessionMetadata()))
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(throws: BrokerError.stopping(retryAfterMs: 1_500)) {
            _ = try service.submit(.hello("s1", epoch: 1, connection: 7, transport: .http, resumeTokenHash: "h"))
        }
        // The session was not ended by the refusal.
        #expect(service.read { $0.session("s1")?.state } == .created)
    }

    /// The shutdown command stops the service in the same step: the heartbeat of a connection whose `shutdown`
    /// kick has not reached it yet is refused as `stopping`, not `fenced` (the shutdown had moved its session
    /// to grace), which the client plane told an HTTP client as 410 `expired`.
    @Test func aHeartbeatRightAfterTheShutdownIsRefusedAsStopping() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stopping-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        let service = try await BrokerService(
            store: store, time: ManualTime(1_700_000_000_000), logger: Logger(label: "test"))
        _ = try await service.execute(.createProject(id: "p", name: "p", policy: Policy(capacity: 1)))
        _ = try await service.execute(.apply("p", userId: "u", userIp: nil))
        _ = try await service.execute(.createSession("p", userId: "u", sessionId: "s1", metadata: SessionMetadata()))
        _ = try await service.execute(.hello("s1", epoch: 1, connection: 7, transport: .http, resumeTokenHash: "h"))
        _ = try service.submit(.shutdown(retryAfterMs: 800))
        #expect(throws: BrokerError.stopping(retryAfterMs: 1_000)) {
            _ = try service.submit(.heartbeat("s1", connection: 7))
        }
        #expect(service.read { $0.session("s1")?.state } == .grace)
        try await store.close()
    }

    @Test func theBackendAPIAnswersStoppingWith503AndWhenToComeBack() {
        let error = APIError(BrokerError.stopping(retryAfterMs: 1_500))
        #expect(error.status == .serviceUnavailable)
        #expect(error.code == "InternalError.ShuttingDown")
        #expect(error.retryAfterMs == 1_500)
        // CAR has no such code: its callers see `InternalError`, as for a store failure.
        #expect(CARError(BrokerError.stopping(retryAfterMs: 1_500)).code == "InternalError")
    }
}
