import Foundation
import HTTPTypes
import Testing
import TetherServer
import TetherTestKit

/// The waiting queue through the backend API (issue 15, item 2): 202 with a ticket and a queue token, the same
/// ticket on a second apply, the queue and one user's ticket, an offer when a concurrency frees, the offer taken
/// by CreateSession, leaving, and the events on the feed.
@Suite struct QueueAPITests {
    static let project = #"{"id":"p","capacity":1,"queue":{"enabled":true,"offerTtlMs":60000,"maxLength":3}}"#

    @Test func aFullPoolQueuesOffersAndLetsTheOfferBeTaken() async throws {
        try await TestServer().run { api in
            let created = try await api.post("/v1/projects", Self.project)
            #expect(created.status == .created)
            #expect(created["queue"]["enabled"].bool == true && created["queue"]["clientTimeoutMs"].int == 30_000)
            _ = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"holder"}"#)
            let holder = try await api.post("/v1/projects/p/sessions", #"{"userId":"holder"}"#)
            #expect(holder.status == .created)

            let a = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"a","queue":true}"#)
            #expect(a.status == .accepted)
            #expect(a["queued"].bool == true && a["position"].int == 1 && a["etaMs"].int != nil)
            #expect(a["ticketId"].string?.hasPrefix("qt-") == true)
            #expect(a["queueToken"].string?.hasPrefix("q2.") == true)
            let b = try await api.post(
                "/v1/projects/p/concurrency/apply", #"{"userId":"b","queue":true,"priority":5}"#)
            #expect(b.status == .accepted && b["position"].int == 1)
            let again = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"a","queue":true}"#)
            #expect(again.status == .accepted)
            #expect(again["ticketId"].string == a["ticketId"].string && again["position"].int == 2)
            // A plain apply on the full pool is still refused.
            let plain = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"walk-in"}"#)
            #expect(plain.status == .tooManyRequests && plain.code == "ResourceNotFound.NoIdle")

            let queue = try await api.get("/v1/projects/p/queue")
            #expect(queue["length"].int == 2)
            #expect(queue["tickets"].array.map { $0["userId"].string ?? "" } == ["b", "a"])
            #expect(queue["tickets"].array.map { $0["state"].string ?? "" } == ["waiting", "waiting"])
            #expect(queue["tickets"].array.first?["priority"].int == 5)
            #expect(try await api.get("/v1/projects/p/queue/a")["position"].int == 2)
            let nobody = try await api.get("/v1/projects/p/queue/nobody")
            #expect(nobody.status == .notFound && nobody.code == "ResourceNotFound.Ticket")

            // The holder's session ends: b, at the head, is offered its concurrency.
            let destroyed = try await api.delete("/v1/sessions/\(holder["sessionId"].string ?? "")")
            #expect(destroyed.status == .ok)
            let offered = try await api.get("/v1/projects/p/queue/b")
            #expect(offered["state"].string == "offered" && offered["position"].int == 0)
            #expect(offered["concurrencyId"].string == holder["concurrencyId"].string)
            #expect((offered["reservedUntil"].int ?? 0) > Int(Date().timeIntervalSince1970 * 1_000) + 50_000)
            #expect(try await api.get("/v1/projects/p/queue/a")["position"].int == 1)
            // b applying again gets the offer as a reservation; CreateSession takes it.
            let reserved = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"b","queue":true}"#)
            #expect(reserved.status == .ok && reserved["concurrencyId"].string == holder["concurrencyId"].string)
            let session = try await api.post("/v1/projects/p/sessions", #"{"userId":"b"}"#)
            #expect(session.status == .created && session["concurrencyId"].string == holder["concurrencyId"].string)
            #expect(try await api.get("/v1/projects/p/queue")["length"].int == 1)

            // a leaves.
            let left = try await api.delete("/v1/projects/p/queue/a")
            #expect(
                left.status == .ok && left["state"].string == "left" && left["ticketId"].string == a["ticketId"].string)
            #expect(try await api.get("/v1/projects/p/queue")["length"].int == 0)
            #expect(try await api.delete("/v1/projects/p/queue/a").status == .notFound)

            let events = try await api.get("/v1/events?projectId=p&limit=1000")["events"].array
            let queueEvents = events.filter { ($0["type"].string ?? "").hasPrefix("queue.") }
            #expect(
                queueEvents.map { "\($0["type"].string ?? "") \($0["userId"].string ?? "")" } == [
                    "queue.joined a", "queue.joined b", "queue.offered b", "queue.left b", "queue.left a",
                ])
            let offer = try #require(queueEvents.first { $0["type"].string == "queue.offered" })
            #expect(offer["data"]["ticketId"].string == b["ticketId"].string)
            #expect(offer["data"]["concurrencyId"].string == holder["concurrencyId"].string)
            #expect(offer["data"]["reservedUntil"].int == offered["reservedUntil"].int)
            #expect(
                queueEvents.filter { $0["type"].string == "queue.left" }.map { $0["data"]["reason"].string } == [
                    "taken", "cancelled",
                ])
        }
    }

    @Test func badQueueInputIsATypedErrorThatNamesTheFieldAndChangesNothing() async throws {
        try await TestServer().run { api in
            for (body, field) in [
                (#"{"id":"x","queue":{"maxLength":0}}"#, "queue.maxLength"),
                (#"{"id":"x","queue":{"offerTtlMs":5}}"#, "queue.offerTtlMs"),
                (#"{"id":"x","queue":{"clientTimeoutMs":-1}}"#, "queue.clientTimeoutMs"),
                (#"{"id":"x","queue":{"enabled":"yes"}}"#, "queue.enabled"),
            ] {
                let r = try await api.post("/v1/projects", body)
                #expect(r.status == .badRequest && r.code == "InvalidParameterValue", "\(body)")
                #expect(r["error"]["message"].string?.contains(field) == true, "\(body): \(r["error"]["message"])")
            }
            #expect(try await api.get("/v1/projects")["projects"].array.isEmpty)
            #expect(
                try await api.post("/v1/projects", #"{"id":"p","capacity":0,"queue":{"enabled":true,"maxLength":1}}"#)
                    .status == .created)
            for (body, field) in [
                (#"{"userId":"u","queue":true,"priority":10}"#, "priority"),
                (#"{"userId":"u","queue":true,"priority":-1}"#, "priority"),
                (#"{"userId":"u","queue":"yes"}"#, "queue"),
            ] {
                let r = try await api.post("/v1/projects/p/concurrency/apply", body)
                #expect(r.status == .badRequest && r.code == "InvalidParameterValue", "\(body)")
                #expect(r["error"]["message"].string?.contains(field) == true, "\(body): \(r["error"]["message"])")
            }
            #expect(try await api.get("/v1/projects/p/queue")["length"].int == 0)
            // The queue holds one: the second is refused with LimitExceeded.Queue.
            #expect(
                try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"u","queue":true}"#).status
                    == .accepted)
            let full = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"v","queue":true}"#)
            #expect(full.status == .tooManyRequests && full.code == "LimitExceeded.Queue")
            #expect(try await api.get("/v1/projects/p/queue")["length"].int == 1)
            // Deleting the project ends its tickets.
            #expect(try await api.delete("/v1/projects/p").status == .ok)
            let events = try await api.get("/v1/events?projectId=p&limit=1000")["events"].array
            #expect(
                events.last?["type"].string == "queue.left" && events.last?["data"]["reason"].string == "projectDeleted"
            )
        }
    }
}
