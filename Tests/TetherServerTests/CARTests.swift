import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// The CAR-compatible endpoint (`POST /`) against the real binary, called by Tencent Cloud's own Python SDK
/// (`tencentcloud-sdk-python-car`'s `CarClient`, endpoint overridden) and by requests signed by hand
/// (scripts/car-client.py): the whole life of a user, and each refusal with its code, changing nothing.
@Suite struct CARTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/car-client.py").path

    /// A server, an admin CAR key pair and the SDK client's view of it.
    struct Fixture {
        let server: SDKServer
        let secretId: String
        let secretKey: String
        var endpoint: String { "127.0.0.1:\(server.apiPort)" }

        init(projects: [String]? = nil) async throws {
            server = try await SDKServer.start()
            if let projects {
                for id in projects { _ = try await server.backend.createProject(id: id, policy: .init(capacity: 1)) }
            }
            let key = try await server.backend.send(.createKey(name: "car", projects: projects, car: true))
            secretId = try #require(key.secretId)
            secretKey = try #require(key.secretKey)
        }

        /// Runs scripts/car-client.py; its one line of JSON. The Python process (~0.5 s to start) is waited for
        /// on a thread of its own (`offPool`), not on the cooperative pool every test shares.
        func call(
            _ mode: String, _ action: String, _ params: String, _ extra: [String] = [], secretId: String? = nil,
            secretKey: String? = nil
        ) async throws -> [String: Any] {
            let arguments =
                [
                    "python3", CARTests.script, mode, endpoint, secretId ?? self.secretId, secretKey ?? self.secretKey,
                    action, params,
                ] + extra
            let run = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), arguments)
            let line = run.output.split(separator: "\n").last.map(String.init) ?? ""
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object, "car-client.py printed: \(run.output)")
        }

        /// An SDK call that must succeed: its `Response`.
        func sdk(_ action: String, _ params: String) async throws -> [String: Any] {
            let out = try await call("sdk", action, params)
            #expect(out["sdkError"] == nil, "\(action): \(out)")
            return out["response"] as? [String: Any] ?? [:]
        }

        /// An SDK call that must fail: the exception's code.
        func sdkError(_ action: String, _ params: String) async throws -> String? {
            (try await call("sdk", action, params)["sdkError"] as? [String: Any])?["code"] as? String
        }

        /// A hand-signed call: HTTP status, content type, and the error code if any.
        func raw(
            _ action: String, _ params: String, _ extra: [String] = [], secretId: String? = nil,
            secretKey: String? = nil
        )
            async throws -> (status: Int, contentType: String?, code: String?, response: [String: Any])
        {
            let out = try await call("raw", action, params, extra, secretId: secretId, secretKey: secretKey)
            let response = out["response"] as? [String: Any] ?? [:]
            #expect(response["RequestId"] is String, "\(out)")
            return (
                out["status"] as? Int ?? 0, out["contentType"] as? String,
                (response["Error"] as? [String: Any])?["Code"] as? String, response
            )
        }
    }

    @Test func aCARBackendsWholeFlowThroughTencentsSDK() async throws {
        let f = try await Fixture()
        defer { f.server.stop() }
        let created = try await f.sdk(
            "CreateApplicationProject",
            #"{"Name": "Game", "ProjectId": "cap-game", "Capacity": 1, "ReconnectTimeout": 30}"#)
        #expect(created["ProjectId"] as? String == "cap-game")
        let project = try await f.server.backend.project("cap-game")
        #expect(project.name == "Game" && project.capacity == 1 && project.reconnectGraceMs == 30_000)

        #expect(
            try await f.sdk("ApplyConcurrent", #"{"UserId": "u1", "UserIp": "10.0.0.1", "ProjectId": "cap-game"}"#).keys
                .sorted() == ["RequestId"])
        let session = try await f.sdk(
            "CreateSession", #"{"UserId": "u1", "UserIp": "10.0.0.1", "ClientSession": "cs-1"}"#)
        let serverSession = try #require(session["ServerSession"] as? String)
        let decoded = try JSONDecoder().decode(
            TetherBackend.CreatedSession.self, from: try #require(Data(base64Encoded: serverSession)))
        #expect(decoded.userId == "u1" && decoded.epoch == 1)

        // A client connects with the token inside ServerSession (TCP frames, by hand).
        let socket = try BlockingFrameSocket(port: f.server.tcpPort)
        let token = decoded.clientToken
        #expect(try await offPool { socket.hello(.token(token)) } != nil)
        #expect(try await f.server.backend.session(decoded.sessionId).state == "connected")
        #expect(try await f.server.backend.session(decoded.sessionId).clientSession == "cs-1")

        let count = try await f.sdk("DescribeConcurrentCount", #"{"ProjectId": "cap-game"}"#)
        #expect(count["Total"] as? Int == 1 && count["Running"] as? Int == 1, "\(count)")
        #expect(
            try await f.sdkError("ApplyConcurrent", #"{"UserId": "u2", "UserIp": "10.0.0.2", "ProjectId": "cap-game"}"#)
                == "ResourceNotFound.NoIdle")

        // The user's network drops; the same user comes back through CAR's calls: the same concurrency, and the
        // Swift SDK connects with the new ServerSession's token.
        socket.close()
        #expect(
            await eventually(within: .seconds(10)) {
                (try? await f.server.backend.session(decoded.sessionId).state) == "grace"
            })
        _ = try await f.sdk("ApplyConcurrent", #"{"UserId": "u1", "UserIp": "10.0.0.1", "ProjectId": "cap-game"}"#)
        let again = try await f.sdk("CreateSession", #"{"UserId": "u1", "UserIp": "10.0.0.1"}"#)
        let againText = try #require(again["ServerSession"] as? String)
        let resumed = try JSONDecoder().decode(
            TetherBackend.CreatedSession.self, from: try #require(Data(base64Encoded: againText)))
        #expect(resumed.concurrencyId == decoded.concurrencyId && resumed.sessionId == decoded.sessionId)
        #expect(resumed.epoch == decoded.epoch + 1)
        let client = try TetherClient(session: resumed, transport: .websocket, configuration: .fast)
        let info = try await client.connect()
        #expect(info.concurrencyId == decoded.concurrencyId && info.epoch == resumed.epoch)

        let log = StateLog(client)
        _ = try await f.sdk("DestroySession", #"{"UserId": "u1"}"#)
        #expect(try await f.server.backend.session(decoded.sessionId).endReason == "destroyed")
        #expect(await log.ended() == .destroyed)
        let after = try await f.sdk("DescribeConcurrentCount", #"{"ProjectId": "cap-game"}"#)
        #expect(after["Running"] as? Int == 0, "\(after)")
        #expect(try await f.sdkError("DestroySession", #"{"UserId": "u1"}"#) == "ResourceNotFound.SessionNotFound")

        let listed = try await f.sdk("DescribeApplicationProjects", "{}")
        #expect(listed["Total"] as? Int == 1)
        #expect((listed["Projects"] as? [[String: Any]])?.first?["ReconnectTimeout"] as? Int == 30)
        _ = try await f.sdk("ModifyApplicationProject", #"{"ProjectId": "cap-game", "Capacity": 3}"#)
        #expect(try await f.server.backend.project("cap-game").capacity == 3)
        _ = try await f.sdk("DeleteApplicationProjects", #"{"ProjectIds": ["cap-game"]}"#)
        #expect(try await f.server.backend.projects().isEmpty)
        await client.close()
    }

    /// Every refusal, from requests signed by hand: its code, a 200 with `Content-Type: application/json`
    /// exactly, and nothing changed.
    @Test func eachRefusalHasItsCodeAndChangesNothing() async throws {
        let f = try await Fixture(projects: ["cap-a"])
        defer { f.server.stop() }
        let apply = #"{"UserId": "u1", "ProjectId": "cap-a"}"#
        let ok = try await f.raw("DescribeConcurrentCount", #"{"ProjectId": "cap-a"}"#)
        #expect(ok.status == 200 && ok.contentType == "application/json" && ok.code == nil, "\(ok.response)")
        let cases: [(String, String, [String], String?, String?, String)] = [
            ("ApplyConcurrent", apply, [], nil, "wrongSecretKey00000000000000000", "AuthFailure.SignatureFailure"),
            ("ApplyConcurrent", apply, [], "AKIDnotAKeyOfThisServer000000000000", nil, "AuthFailure.SecretIdNotFound"),
            ("ApplyConcurrent", apply, ["--timestamp-offset", "-301"], nil, nil, "AuthFailure.SignatureExpire"),
            ("ApplyConcurrent", apply, ["--timestamp-offset", "400"], nil, nil, "AuthFailure.SignatureExpire"),
            ("ApplyConcurrent", apply, ["--tamper-body"], nil, nil, "AuthFailure.SignatureFailure"),
            ("ApplyConcurrent", apply, ["--omit", "Authorization"], nil, nil, "AuthFailure.InvalidAuthorization"),
            ("ApplyConcurrent", apply, ["--authorization", "Bearer x"], nil, nil, "AuthFailure.InvalidAuthorization"),
            ("ApplyConcurrent", apply, ["--omit", "X-TC-Action"], nil, nil, "MissingParameter"),
            ("ApplyConcurrent", apply, ["--omit", "X-TC-Timestamp"], nil, nil, "MissingParameter"),
            ("ApplyConcurrent", apply, ["--omit", "X-TC-Version"], nil, nil, "MissingParameter"),
            ("ApplyConcurrent", apply, ["--version", "2020-01-01"], nil, nil, "NoSuchVersion"),
            ("NoSuchAction", "{}", [], nil, nil, "InvalidAction"),
            ("StartPublishStream", #"{"UserId": "u1"}"#, [], nil, nil, "UnsupportedOperation"),
            ("ApplyConcurrent", #"{"ProjectId": "cap-a"}"#, [], nil, nil, "MissingParameter"),
            ("ApplyConcurrent", #"{"UserId": 7, "ProjectId": "cap-a"}"#, [], nil, nil, "InvalidParameterValue"),
            (
                "ApplyConcurrent", #"{"UserId": "u1", "ProjectId": "cap-a", "Nope": 1}"#, [], nil, nil,
                "UnknownParameter"
            ),
            (
                "ApplyConcurrent", #"{"UserId": "u1", "ProjectId": "cap-nope"}"#, [], nil, nil,
                "ResourceNotFound.Project"
            ),
            ("CreateSession", #"{"UserId": "u1"}"#, [], nil, nil, "FailedOperation.LockTimeout"),
            ("CreateSession", #"{"UserId": "u1", "HostUserId": "h"}"#, [], nil, nil, "UnsupportedOperation"),
            ("ApplyConcurrent", apply, ["--content-type", "text/plain"], nil, nil, "InvalidParameter"),
        ]
        for (action, params, extra, secretId, secretKey, code) in cases {
            let r = try await f.raw(action, params, extra, secretId: secretId, secretKey: secretKey)
            #expect(r.status == 200 && r.contentType == "application/json", "\(action) \(extra): \(r.status)")
            #expect(r.code == code, "\(action) \(params) \(extra): \(r.response)")
        }
        // Nothing changed: no reservation, no session, no project but cap-a.
        let count = try await f.server.backend.count(project: "cap-a")
        #expect(count.reserved == 0 && count.running == 0, "\(count)")
        #expect(try await f.server.backend.projects().map(\.id) == ["cap-a"])
        // And the same request, signed right, goes through.
        #expect(try await f.raw("ApplyConcurrent", apply).code == nil)
        #expect(try await f.server.backend.count(project: "cap-a").reserved == 1)
    }

    /// A project key pair sees only its projects; creating or deleting projects is for admin keys.
    @Test func aProjectKeyPairKeepsItsScope() async throws {
        let f = try await Fixture(projects: ["cap-a"])
        defer { f.server.stop() }
        _ = try await f.server.backend.createProject(id: "cap-b", policy: .init(capacity: 1))
        #expect(
            try await f.raw("DescribeConcurrentCount", #"{"ProjectId": "cap-b"}"#).code == "ResourceNotFound.Project")
        #expect(
            try await f.raw("CreateApplicationProject", #"{"Name": "x"}"#).code == "AuthFailure.UnauthorizedOperation")
        #expect(
            try await f.raw("DeleteApplicationProjects", #"{"ProjectIds": ["cap-a"]}"#).code
                == "AuthFailure.UnauthorizedOperation")
        let listed = try await f.raw("DescribeApplicationProjects", "{}").response
        #expect((listed["Projects"] as? [[String: Any]])?.map { $0["ProjectId"] as? String } == ["cap-a"])
        // A revoked key pair is refused at once.
        let keyId = try #require(try await f.server.backend.send(.keys).keys.first { $0.secretId == f.secretId }?.keyId)
        _ = try await f.server.backend.send(.revokeKey(keyId))
        #expect(try await f.raw("DescribeApplicationProjects", "{}").code == "AuthFailure.SecretIdNotFound")
    }
}
