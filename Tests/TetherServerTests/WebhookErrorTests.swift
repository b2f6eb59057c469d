import Foundation
import HTTPTypes
import Synchronization
import Testing
import TetherTestKit

@testable import TetherServer

/// A failed webhook attempt is one short line in `lastError` and in the log line `webhook delivery failed`:
/// `connect refused`, `status 500`, `timeout after … ms`, `TLS: …`, `DNS: …`.
@Suite struct WebhookErrorTests {
    @Test func eachKindOfFailureIsOneLineInTheStateAndTheLogs() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        let silent = try await WebhookReceiver()
        defer { Task { await silent.close() } }
        receiver.respond { _, _ in 500 }
        silent.respond { _, _ in WebhookReceiver.hold }
        let refused = RefusingPort()  // bound, never listening: held for the whole test
        let hooks: [(project: String, url: String)] = [
            ("refused", "http://127.0.0.1:\(refused.port)/hook"),
            ("status", receiver.url),
            ("timeout", silent.url),
            ("tls", "https://127.0.0.1:\(receiver.port)/hook"),  // a plain HTTP server: the handshake fails
            ("dns", "http://tether-webhook-test.invalid/hook"),  // `.invalid` never resolves (RFC 2606)
        ]
        let logs = LoggingTests.Box()
        // A 5 s POST timeout: with 1 s, a loaded full run saw the receiver that answers 500 time out first.
        try await WebhookTests.run(retry: WebhookDispatcher.Retry(baseMs: 20, timeoutMs: 5_000), logs: logs) { api in
            for hook in hooks {
                let created = try await api.post(
                    "/v1/projects",
                    #"{"id":"\#(hook.project)","capacity":2,"webhook":{"url":"\#(hook.url)","secret":"s3cret"}}"#)
                #expect(created.status == .created)
                _ = try await api.post("/v1/projects/\(hook.project)/concurrency/apply", #"{"userId":"alice"}"#)
            }
            var errors: [String: String] = [:]
            let failed = try await eventually(within: .seconds(30)) {
                for hook in hooks where errors[hook.project] == nil {
                    errors[hook.project] = try await api.get("/v1/projects/\(hook.project)/webhook")["lastError"].string
                }
                return errors.count == hooks.count
            }
            #expect(failed, "\(errors)")
            #expect(errors["refused"] == "connect refused")
            #expect(errors["status"] == "status 500")
            #expect(errors["timeout"] == "timeout after 5000 ms")
            #expect(errors["tls"]?.hasPrefix("TLS: ") == true, "\(errors["tls"] ?? "-")")
            #expect(errors["dns"]?.hasPrefix("DNS: tether-webhook-test.invalid: ") == true, "\(errors["dns"] ?? "-")")
            for (project, error) in errors {
                #expect(!error.contains("\n") && error.count <= WebhookFailure.maxLength, "\(project): \(error)")
                #expect(!error.contains("NSURLErrorDomain") && !error.contains("Error Domain"), "\(project): \(error)")
            }
            // The log line of each failure carries the same line (logged just after the state is set).
            let logged = await eventually(within: .seconds(10)) {
                let records = logs.records.withLock { $0.filter { $0.message == "webhook delivery failed" } }
                return errors.allSatisfy { project, error in
                    records.contains { $0.metadata["projectId"] == project && $0.metadata["error"] == error }
                }
            }
            #expect(logged)
            withExtendedLifetime(refused) {}
        }
    }

    @Test func unexpectedErrorsAreFoldedIntoOneBoundedLine() {
        struct Verbose: Error, CustomStringConvertible {
            var description: String { "first line\n  second line\t" + String(repeating: "x", count: 500) }
        }
        let line = WebhookFailure.describe(Verbose(), timeoutMs: 10_000)
        #expect(!line.contains("\n") && !line.contains("\t"))
        #expect(line.hasPrefix("first line second line x"))
        #expect(line.count == WebhookFailure.maxLength)
    }
}
