import Testing

@testable import TetherServer

/// `webhook-signature` after the Standard Webhooks scheme, and the receiver's check the README documents.
@Suite struct StandardWebhookSignatureTests {
    static let body = Array(#"{"test": 2432232314}"#.utf8)

    /// The scheme's published example (standard-webhooks' and Svix's libraries test the same one).
    @Test func signsAsTheSchemesPublishedExample() {
        let signature = StandardWebhookSignature.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Self.body,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func aSecretWithoutThePrefixIsKeyedByItsUTF8Bytes() {
        // HMAC-SHA256 of "evt_7.1700000000.{}" keyed with the bytes of "s3cret" (computed with Python's hmac).
        let signature = StandardWebhookSignature.signature(
            id: "evt_7", timestamp: 1_700_000_000, body: Array("{}".utf8), secret: "s3cret")
        #expect(signature == "v1,AQoQ+q/Spa/kC4fgZhB4ucm9OzwYjoGEh5AcbMEX6+8=")
        // A `whsec_` secret whose rest is no base64 is also taken as its bytes.
        let odd = StandardWebhookSignature.signature(
            id: "evt_7", timestamp: 1_700_000_000, body: Array("{}".utf8), secret: "whsec_not base64!")
        #expect(odd.hasPrefix("v1,") && odd != signature)
    }

    @Test func aHeaderCarriesOneSignaturePerSecretEachCheckableAlone() {
        let header = StandardWebhookSignature.header(
            id: "evt_1", timestamp: 1_000, body: Self.body, secrets: ["new", "old"])
        let parts = header.split(separator: " ")
        #expect(parts.count == 2 && parts.allSatisfy { $0.hasPrefix("v1,") })
        for secret in ["new", "old"] {
            #expect(
                StandardWebhookSignature.verify(
                    id: "evt_1", timestamp: "1000", signatures: header, body: Self.body, secret: secret, now: 1_000))
        }
        #expect(
            !StandardWebhookSignature.verify(
                id: "evt_1", timestamp: "1000", signatures: header, body: Self.body, secret: "other", now: 1_000))
    }

    @Test func theCheckRefusesReplaysTamperingAndMalformedHeaders() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let at: Int64 = 1_614_265_330
        let header = StandardWebhookSignature.header(id: "evt_9", timestamp: at, body: Self.body, secrets: [secret])
        func check(
            id: String = "evt_9", timestamp: String = "1614265330", signatures: String? = nil,
            body: [UInt8] = Self.body, now: Int64 = at
        ) -> Bool {
            StandardWebhookSignature.verify(
                id: id, timestamp: timestamp, signatures: signatures ?? header, body: body, secret: secret, now: now)
        }
        #expect(check())
        #expect(check(now: at + 300) && check(now: at - 300), "5 minutes either way")
        #expect(!check(now: at + 301), "a captured delivery replayed 5 minutes later")
        #expect(!check(now: at - 301), "a timestamp from the future")
        #expect(!check(body: Self.body + [0x20]), "a changed body")
        #expect(!check(id: "evt_10"), "another id")
        #expect(!check(timestamp: "1614265331", now: at + 1), "a changed timestamp")
        for timestamp in ["+1614265330", " 1614265330", "1614265330.0", "01614265330", "", "x"] {
            #expect(!check(timestamp: timestamp), "timestamp \(timestamp)")
        }
        for signatures in ["", "v1,", "v2," + header.dropFirst(3), String(header.dropFirst(3)), "v1,AAAA", "v1,%%%"] {
            #expect(!check(signatures: signatures), "signatures \(signatures)")
        }
        #expect(check(signatures: "v1,AAAA " + header), "an unknown signature beside a good one")
    }
}
