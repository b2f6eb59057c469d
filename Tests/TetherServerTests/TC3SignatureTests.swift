import Testing

@testable import TetherServer

/// `TC3-HMAC-SHA256` against the vector computed with Tencent's Python SDK itself
/// (`../shared/reference/swift-libraries.md` §9.3), and the `Authorization` header's parsing.
@Suite struct TC3SignatureTests {
    static let request = TC3Signature(
        method: "POST", path: "/", query: "",
        headers: ["content-type": "application/json", "host": "127.0.0.1:8080"],
        signedHeaders: ["content-type", "host"],
        body: Array(#"{"UserId": "user-1", "UserIp": "10.0.0.1", "ProjectId": "cap-12345"}"#.utf8),
        timestamp: 1_700_000_000, service: "car")

    @Test func theSDKsVector() {
        let r = Self.request
        #expect(
            r.canonicalRequest
                == "POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\n\ncontent-type;host\n"
                + "5e55ce5c6566197f7d90449dc4743ec8d6a6c32032251b01d3a8229e10fe64c2")
        #expect(TC3Signature.date(of: r.timestamp) == "2023-11-14")
        let signature = r.signature(secretKey: "tetherTestSecretKey0000000000000000")
        #expect(signature == "6af1452a6883356c2f815038759ca534eb3a9c7f3355048d8fcaac94eb33ff90")
        #expect(r.verifies(signature, secretKey: "tetherTestSecretKey0000000000000000"))
        #expect(!r.verifies(signature, secretKey: "tetherTestSecretKey0000000000000001"))
        var other = r
        other.body.append(UInt8(ascii: " "))
        #expect(!other.verifies(signature, secretKey: "tetherTestSecretKey0000000000000000"))
    }

    @Test func datesAcrossYearsAndLeapDays() {
        #expect(TC3Signature.date(of: 0) == "1970-01-01")
        #expect(TC3Signature.date(of: 951_782_400) == "2000-02-29")
        #expect(TC3Signature.date(of: 1_709_251_199) == "2024-02-29")
        #expect(TC3Signature.date(of: 1_709_251_200) == "2024-03-01")
        #expect(TC3Signature.date(of: 1_798_761_599) == "2026-12-31")
    }

    @Test func authorizationHeaders() throws {
        let good =
            "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/car/tc3_request, SignedHeaders=content-type;host, "
            + "Signature=6af1452a6883356c2f815038759ca534eb3a9c7f3355048d8fcaac94eb33ff90"
        let parsed = try #require(TC3Signature.Authorization(good))
        #expect(parsed.secretId == "AKIDx" && parsed.date == "2023-11-14" && parsed.service == "car")
        #expect(parsed.signedHeaders == ["content-type", "host"])
        let sig = "6af1452a6883356c2f815038759ca534eb3a9c7f3355048d8fcaac94eb33ff90"
        for bad in [
            "", "Bearer tk_x", "TC3-HMAC-SHA256",
            "HMAC-SHA1 Credential=a/b/car/tc3_request, SignedHeaders=host, Signature=\(sig)",
            "TC3-HMAC-SHA256 Credential=a/b/car, SignedHeaders=host, Signature=\(sig)",
            "TC3-HMAC-SHA256 Credential=a/b/car/tc3_request, SignedHeaders=host, Signature=XYZ",
            "TC3-HMAC-SHA256 Credential=a/b/car/tc3_request, SignedHeaders=host, Signature=\(sig.uppercased())",
            "TC3-HMAC-SHA256 Credential=a/b/car/tc3_request, SignedHeaders=Host, Signature=\(sig)",
            "TC3-HMAC-SHA256 Credential=a/b/car/tc3_request, SignedHeaders=;host, Signature=\(sig)",
            "TC3-HMAC-SHA256 Credential=/b/car/tc3_request, SignedHeaders=host, Signature=\(sig)",
            "TC3-HMAC-SHA256 Credential=a/b/car/tc3_request, Credential=a/b/car/tc3_request, Signature=\(sig)",
            "TC3-HMAC-SHA256 Credential=a/b/car/tc3_request, SignedHeaders=host, Signature=\(sig), Extra=1",
        ] {
            #expect(TC3Signature.Authorization(bad) == nil, "\(bad)")
        }
    }
}
