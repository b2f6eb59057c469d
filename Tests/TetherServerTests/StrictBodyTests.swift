import Foundation
import HTTPTypes
import Testing
import TetherServer
import TetherTestKit

/// Request bodies are RFC 8259 JSON read strictly: every refusal is a 400 that names the field, and
/// changes nothing (issue 12, items 1 and 2).
@Suite struct StrictBodyTests {
    @Test(arguments: [
        (#"{"id":"x",}"#, "InvalidParameter", "body: is not valid JSON"),
        (#"{"id":"x","capacity":[1,2,]}"#, "InvalidParameter", "capacity[2]: is not valid JSON"),
        (#"{"id":"x","id":"y"}"#, "InvalidParameter", "id: appears twice"),
        (
            #"{"id":"x","heartbeat":{"intervalMs":1000,"intervalMs":2000}}"#, "InvalidParameter",
            "heartbeat.intervalMs: appears twice"
        ),
        ("\u{FEFF}{\"id\":\"x\"}", "InvalidParameter", "body: starts with a byte-order mark"),
        (#"{"id":"x","capacity":1.0}"#, "InvalidParameterValue", "capacity: must be an integer"),
        (#"{"id":"x","capacity":1e0}"#, "InvalidParameterValue", "capacity: must be an integer"),
        (#"{"id":"x","capacity":2.5}"#, "InvalidParameterValue", "capacity: must be an integer"),
        (#"{"id":"x","capacity":1e30}"#, "InvalidParameterValue", "capacity: must be an integer"),
        (#"{"id":"x","capacity":9223372036854775808}"#, "InvalidParameterValue", "capacity: must be an integer from"),
        (
            #"{"id":"x","reconnectGraceMs":-9223372036854775809}"#, "InvalidParameterValue",
            "reconnectGraceMs: must be an integer from"
        ),
        (#"{"id":"x","webhook":null}"#, "InvalidParameterValue", "webhook: must not be null"),
        (#"{"id":"x","maxSuspendMs":null}"#, "InvalidParameterValue", "maxSuspendMs: must not be null"),
        (#"{"id":"x","name":null}"#, "InvalidParameterValue", "name: must not be null"),
        (
            #"{"id":"x","webhook":{"url":"http://[x","secret":"s"}}"#, "InvalidParameterValue",
            "webhook.url: must be an absolute"
        ),
        (
            #"{"id":"x","webhook":{"url":"http://","secret":"s"}}"#, "InvalidParameterValue",
            "webhook.url: must be an absolute"
        ),
        (
            #"{"id":"x","webhook":{"url":"https://h:70000/","secret":"s"}}"#, "InvalidParameterValue",
            "webhook.url: must be an absolute"
        ),
        (
            #"{"id":"x","webhook":{"url":"https://h/%zz","secret":"s"}}"#, "InvalidParameterValue",
            "webhook.url: must be an absolute"
        ),
    ])
    func createProjectRefusesLenientJSON(body: String, code: String, message: String) async throws {
        try await TestServer().run { api in
            let r = try await api.post("/v1/projects", body)
            #expect(r.status == .badRequest, "\(body): \(r.text)")
            #expect(r.code == code, "\(body): \(r.text)")
            #expect(r.message?.hasPrefix(message) == true, "\(body): \(r.text)")
            #expect(r["error"]["requestId"].string?.isEmpty == false)
            #expect(try await api.get("/v1/projects")["projects"].array.isEmpty, "\(body) created a project")
        }
    }

    @Test func deepNestingNamesTheFieldInsteadOfInvalidJSON() async throws {
        try await TestServer().run { api in
            _ = try await api.post("/v1/projects", #"{"id":"p","capacity":1}"#)
            _ = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"u"}"#)
            let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
            let r = try await api.post("/v1/projects/p/sessions", #"{"userId":"u","parameters":"# + deep + "}")
            #expect(r.status == .badRequest && r.code == "InvalidParameter", "\(r.text)")
            #expect(r.message?.hasPrefix("parameters: is nested deeper than 64 levels") == true, "\(r.text)")
            #expect(try await api.get("/v1/projects/p/concurrency")["created"].int == 0)
        }
    }

    @Test func nullsAndRepeatsInTheBusiestBodiesAreRefused() async throws {
        try await TestServer().run { api in
            _ = try await api.post("/v1/projects", #"{"id":"p","capacity":1}"#)
            let cases: [(String, String, String)] = [
                ("/v1/projects/p/concurrency/apply", #"{"userId":"u","userIp":null}"#, "userIp: must not be null"),
                ("/v1/projects/p/concurrency/apply", #"{"userId":"u","userId":"v"}"#, "userId: appears twice"),
                ("/v1/projects/p/concurrency/apply", #"{"userId":"u","x":1,"x":2}"#, "x: appears twice"),
                ("/v1/projects/p/concurrency/apply", #"{"userId":"u",}"#, "body: is not valid JSON"),
                ("/v1/projects/p/sessions", #"{"userId":"u","runMode":null}"#, "runMode: must not be null"),
                ("/v1/projects/p/sessions", #"{"userId":"u","clientSession":null}"#, "clientSession: must not be null"),
                (
                    "/v1/projects/p/sessions", #"{"userId":"u","parameters":{"a":1,"a":2}}"#,
                    "parameters.a: appears twice"
                ),
            ]
            for (uri, body, message) in cases {
                let r = try await api.post(uri, body)
                #expect(r.status == .badRequest, "\(body): \(r.text)")
                #expect(r.message?.hasPrefix(message) == true, "\(body): \(r.text)")
            }
            let count = try await api.get("/v1/projects/p/concurrency")
            #expect(count["reserved"].int == 0 && count["created"].int == 0, "\(count.text)")
        }
    }

    @Test func patchTakesNullOnlyForTheWebhook() async throws {
        try await TestServer().run { api in
            _ = try await api.post(
                "/v1/projects", #"{"id":"p","capacity":2,"webhook":{"url":"https://example.test/h","secret":"s"}}"#)
            for body in [#"{"maxSuspendMs":null}"#, #"{"capacity":null}"#, #"{"heartbeat":{"intervalMs":null}}"#] {
                let r = try await api.call(.patch, "/v1/projects/p", json: body)
                #expect(
                    r.status == .badRequest && r.message?.contains("must not be null") == true, "\(body): \(r.text)")
            }
            let bad = try await api.call(
                .patch, "/v1/projects/p", json: #"{"webhook":{"url":"http://[x","secret":"s"}}"#)
            #expect(bad.status == .badRequest && bad.message?.hasPrefix("webhook.url") == true, "\(bad.text)")
            let unchanged = try await api.get("/v1/projects/p")
            #expect(unchanged["webhook"]["url"].string == "https://example.test/h" && unchanged["capacity"].int == 2)
            let removed = try await api.call(.patch, "/v1/projects/p", json: #"{"webhook":null}"#)
            #expect(removed.status == .ok && removed["webhook"].isNull, "\(removed.text)")
        }
    }
}
