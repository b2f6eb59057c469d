import Foundation
import Testing
import TetherCore

/// Webhook URLs: the server's rule is exactly the `pattern` the OpenAPI document gives, so a client that
/// checks against the document and the server never disagree (issue 12, item 2).
@Suite struct WebhookURLTests {
    /// The pattern of `WebhookInput.url` in openapi/openapi.json.
    static func documentPattern() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi/openapi.json")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let components = document?["components"] as? [String: Any]
        let schemas = components?["schemas"] as? [String: Any]
        let input = schemas?["WebhookInput"] as? [String: Any]
        let properties = input?["properties"] as? [String: Any]
        let field = properties?["url"] as? [String: Any]
        return try #require(field?["pattern"] as? String)
    }

    static let accepted = [
        "http://a", "https://example.com/hook", "https://hooks.example.co.uk:8443/v1/in?x=1&y=%2F",
        "http://127.0.0.1:65535/", "http://10.0.0.1:1", "https://a-b.c-d.e/p@:;=+,*()'!$&~_./x?q?r/",
        "http://" + String(repeating: "a", count: 63) + ".b",
    ]
    static let refused = [
        "http://[x", "http://[::1]:8080/", "http://", "https://", "http:///x", "ftp://a", "HTTP://a", "http://a b",
        "http://a:0/", "http://a:65536/", "http://a:99999/", "http://a:080/", "http://a:/", "http://-a", "http://a-",
        "http://a..b", "http://.a", "http://a/%zz", "http://a/%4", "http://a/#frag", "http://user@a/",
        "http://" + String(repeating: "a", count: 64), "http://a/\u{0}", "http://é.com", "http://a/ b",
        " http://a", "http://a\n",
    ]

    @Test func acceptsAndRefusesTheDocumentedShapes() {
        for url in Self.accepted { #expect(WebhookURL.isValid(url), "\(url)") }
        for url in Self.refused { #expect(!WebhookURL.isValid(url), "\(url)") }
    }

    @Test func agreesWithTheDocumentsPattern() throws {
        let regex = try Regex(try Self.documentPattern())
        func matches(_ s: String) -> Bool { (try? regex.wholeMatch(in: s)) != nil }
        for url in Self.accepted + Self.refused {
            #expect(matches(url) == WebhookURL.isValid(url), "\(url)")
        }
        // Random mutations of valid URLs: the pattern and the rule agree on every one.
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aZ9-.:/?%#@[] _~!$&'()*+,;=0F\u{7f}é".unicodeScalars)
        for _ in 0..<3_000 {
            var scalars = Array(Self.accepted.randomElement(using: &rng)!.unicodeScalars)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0...scalars.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: scalars.insert(alphabet.randomElement(using: &rng)!, at: at)
                case 1 where at < scalars.count: scalars.remove(at: at)
                default: if at < scalars.count { scalars[at] = alphabet.randomElement(using: &rng)! }
                }
            }
            var s = ""
            s.unicodeScalars.append(contentsOf: scalars)
            #expect(matches(s) == WebhookURL.isValid(s), "\(s)")
        }
    }
}
