import Testing

@testable import TetherCore

/// A webhook secret change keeps the replaced secret signing for the overlap, then only the new one signs.
@Suite struct WebhookSecretTests {
    static let overlap = Limits.webhookSecretOverlapMs

    @Test func aNewSecretKeepsTheOldOneSigningUntilTheOverlapEnds() {
        let old = Webhook(url: "https://example.test/a", secret: "old")
        #expect(old.signingSecrets(at: 0) == ["old"])
        let new = old.replaced(by: Webhook(url: "https://example.test/b", secret: "new"), at: 1_000)
        #expect(new.url == "https://example.test/b" && new.secret == "new")
        #expect(new.previousSecret == "old" && new.previousSecretUntil == 1_000 + Self.overlap)
        #expect(new.signingSecrets(at: 1_000) == ["new", "old"])
        #expect(new.signingSecrets(at: 1_000 + Self.overlap - 1) == ["new", "old"])
        #expect(new.signingSecrets(at: 1_000 + Self.overlap) == ["new"])
    }

    @Test func anUnchangedSecretKeepsThePreviousOneAsItWas() {
        let rotated = Webhook(url: "https://example.test/a", secret: "old")
            .replaced(by: Webhook(url: "https://example.test/a", secret: "new"), at: 0)
        // Only the URL changes: the overlap goes on, its end unchanged.
        let moved = rotated.replaced(by: Webhook(url: "https://example.test/moved", secret: "new"), at: 5_000)
        #expect(moved.previousSecret == "old" && moved.previousSecretUntil == Self.overlap)
        // After the overlap, an unchanged secret drops the previous one for good.
        let later = rotated.replaced(by: Webhook(url: "https://example.test/a", secret: "new"), at: Self.overlap)
        #expect(later.previousSecret == nil && later.previousSecretUntil == nil)
        #expect(later.signingSecrets(at: Self.overlap) == ["new"])
    }

    @Test func aSecondChangeWithinTheOverlapDropsTheOldest() {
        let once = Webhook(url: "https://example.test/a", secret: "one")
            .replaced(by: Webhook(url: "https://example.test/a", secret: "two"), at: 0)
        let twice = once.replaced(by: Webhook(url: "https://example.test/a", secret: "three"), at: 10)
        #expect(twice.signingSecrets(at: 10) == ["three", "two"])
        #expect(twice.previousSecretUntil == 10 + Self.overlap)
    }

    @Test func aPatchThroughTheBrokerKeepsTheReplacedSecretAndARemovalForgetsIt() throws {
        var h = Harness()
        _ = try h.project(capacity: 1)
        let url = "https://example.test/h"
        _ = try h.run(.updateProject("p", ProjectPatch(webhook: .set(Webhook(url: url, secret: "first")))))
        #expect(try h.broker.project("p").policy.webhook == Webhook(url: url, secret: "first"))
        h.pass(1_000)
        _ = try h.run(.updateProject("p", ProjectPatch(webhook: .set(Webhook(url: url, secret: "second")))))
        let hook = try #require(try h.broker.project("p").policy.webhook)
        #expect(hook.signingSecrets(at: h.now) == ["second", "first"])
        #expect(hook.previousSecretUntil == h.now + Self.overlap)
        _ = try h.run(.updateProject("p", ProjectPatch(webhook: .remove)))
        _ = try h.run(.updateProject("p", ProjectPatch(webhook: .set(Webhook(url: url, secret: "third")))))
        #expect(try h.broker.project("p").policy.webhook == Webhook(url: url, secret: "third"))
    }
}
