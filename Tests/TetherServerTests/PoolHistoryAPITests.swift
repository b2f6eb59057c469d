import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TetherCore
import TetherProtocol
import TetherTestKit

@testable import TetherServer

/// `GET /v1/projects/{id}/history` (issue 18, item 5): the pool samples the dashboard plots, on an injected clock:
/// the pool now as the last sample, a round of samples per period with the queue's length, an hour kept, a
/// project key's scope, and a deleted project's history gone.
@Suite struct PoolHistoryAPITests {
    @Test func theHistoryHoldsARoundPerPeriodAndThePoolNow() async throws {
        let time = ManualTime(1_800_000_000_000)
        var configuration = TestServer().configuration()
        configuration.poolHistoryPeriodMs = 100  // the recorder also wakes every 100 ms of real time
        let app = try await TetherServer(configuration: configuration, time: time).makeApplication()
        try await app.test(.live) { client in
            let api = API(client: client)
            #expect(
                try await api.post("/v1/projects", #"{"id":"p","capacity":1,"queue":{"enabled":true}}"#).status
                    == .created)
            // No round since the project was made: the pool now only.
            let first = try await api.get("/v1/projects/p/history")
            #expect(first.status == .ok, "\(first.text)")
            #expect(first["projectId"].string == "p" && first["periodMs"].int == 100)
            #expect(first["windowMs"].int == 3_600_000)
            #expect(first["samples"].array.count == 1)
            #expect(first["samples"][0]["at"].int == Int(time.now()))
            #expect(first["samples"][0]["total"].int == 1 && first["samples"][0]["idle"].int == 1)

            // One user holds the concurrency, another waits in the queue.
            #expect(try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"a"}"#).status == .ok)
            #expect(try await api.post("/v1/projects/p/sessions", #"{"userId":"a"}"#).status == .created)
            let queued = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"b","queue":true}"#)
            #expect(queued.status == .accepted, "\(queued.text)")
            let roundAt = time.now() + 100
            time.advance(by: 100)
            // The recorder takes the round when it next wakes; the clock moves a millisecond per look so that the
            // pool now (always the last sample) comes after it.
            var samples: [JSONValue] = []
            #expect(
                try await eventually(within: .seconds(30), every: .milliseconds(20)) {
                    time.advance(by: 1)
                    samples = try await api.get("/v1/projects/p/history")["samples"].array
                    return samples.count == 2
                })
            let round = samples[0]
            #expect(round["at"].int.map { $0 >= roundAt } == true && round["at"].int! < samples[1]["at"].int!)
            #expect(round["idle"].int == 0 && round["created"].int == 1 && round["queued"].int == 1)
            #expect(round["connected"].int == 0 && round["grace"].int == 0 && round["suspended"].int == 0)
            #expect(samples[1]["at"].int == Int(time.now()) && samples[1]["queued"].int == 1)

            // An hour later the round has left the window.
            time.advance(by: 3_600_000)
            let later = try await api.get("/v1/projects/p/history")["samples"].array
            #expect(later.allSatisfy { $0["at"].int! > Int(time.now()) - 3_600_000 })
            #expect(later.last?["at"].int == Int(time.now()))

            // A project key sees its own project's history only; an unknown project is a 404.
            #expect(try await api.post("/v1/projects", #"{"id":"other","capacity":1}"#).status == .created)
            let key = try #require(
                try await api.post("/v1/keys", #"{"name":"o","projects":["other"]}"#)["key"].string)
            let hidden = try await api.call(.get, "/v1/projects/p/history", key: key)
            #expect(hidden.status == .notFound && hidden.code == "ResourceNotFound.Project", "\(hidden.text)")
            #expect(try await api.call(.get, "/v1/projects/other/history", key: key).status == .ok)
            let unknown = try await api.get("/v1/projects/nope/history")
            #expect(unknown.status == .notFound && unknown.code == "ResourceNotFound.Project")
            #expect(try await api.delete("/v1/projects/p").status == .ok)
            #expect(try await api.get("/v1/projects/p/history").status == .notFound)
        }
    }
}
