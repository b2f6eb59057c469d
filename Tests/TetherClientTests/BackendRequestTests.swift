import Foundation
import Testing
import TetherProtocol

@testable import TetherClient

@Suite struct BackendRequestTests {
    func object(_ data: Data?) throws -> [String: Any] {
        let bytes = try #require(data)
        let parsed = try JSONSerialization.jsonObject(with: bytes)
        return try #require(parsed as? [String: Any])
    }

    @Test func createProjectSendsOnlyTheGivenPolicyFields() throws {
        let request = BackendRequest.createProject(
            id: "demo",
            policy: .init(capacity: 3, heartbeatIntervalMs: 1_000, webhook: .init(url: "http://h", secret: "s")))
        #expect(request.method == "POST")
        #expect(request.path == "/v1/projects")
        let body = try object(request.body)
        #expect(body["id"] as? String == "demo")
        #expect(body["capacity"] as? Int == 3)
        #expect((body["heartbeat"] as? [String: Any])?["intervalMs"] as? Int == 1_000)
        #expect((body["heartbeat"] as? [String: Any])?["timeoutMs"] == nil)
        #expect((body["webhook"] as? [String: Any])?["secret"] as? String == "s")
        #expect(body["reconnectGraceMs"] == nil)
    }

    @Test func updateCanRemoveTheWebhook() throws {
        let request = BackendRequest.updateProject("a b", .init(reconnectGraceMs: 0, removeWebhook: true))
        #expect(request.method == "PATCH")
        #expect(request.path == "/v1/projects/a%20b")
        let body = try object(request.body)
        #expect(body["webhook"] is NSNull)
        #expect(body["reconnectGraceMs"] as? Int == 0)
    }

    @Test func pathsAndQueriesOfTheOtherCalls() {
        #expect(BackendRequest.destroySession(project: "p", userId: "u/1").path == "/v1/projects/p/users/u%2F1/session")
        #expect(BackendRequest.destroySession("s-1").method == "DELETE")
        #expect(BackendRequest.sessions(project: "p", state: "grace").query == [.init(name: "state", value: "grace")])
        #expect(
            BackendRequest.events(after: 7, project: "p", limit: 5).query.map(\.name) == [
                "after", "projectId", "limit",
            ])
        #expect(BackendRequest.count(project: "p").path == "/v1/projects/p/concurrency")
    }

    @Test func createSessionPassesParametersThrough() throws {
        let request = BackendRequest.createSession(
            project: "p", userId: "u", runMode: "x", parametersJSON: #"{"a":[1]}"#)
        let body = try object(request.body)
        #expect(body["runMode"] as? String == "x")
        #expect(((body["parameters"] as? [String: Any])?["a"] as? [Int]) == [1])
    }

    @Test func errorBodiesBecomeTypedErrorsWithTheirCode() {
        let body = Data(
            #"{"error":{"code":"ResourceNotFound.NoIdle","message":"no idle","requestId":"r1","retryAfterMs":2500}}"#
                .utf8)
        let error = TetherBackend.apiError(status: 429, body: body)
        #expect(
            error
                == TetherAPIError(
                    status: 429, code: "ResourceNotFound.NoIdle", message: "no idle", requestId: "r1",
                    retryAfterMs: 2_500))
        #expect(error.description == "ResourceNotFound.NoIdle: no idle")
        let other = TetherBackend.apiError(status: 502, body: Data("bad gateway".utf8))
        #expect(other.code == "HTTP502")
        #expect(other.message == "bad gateway")
    }
}
