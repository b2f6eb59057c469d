import Foundation
import HTTPTypes
import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

@Suite struct OpenAPIDocumentTests {
    /// The document served at /openapi.json is the committed one (scripts/embed-openapi.sh keeps them equal).
    @Test func theServedDocumentIsTheCommittedOne() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi/openapi.json")
        let committed = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: file))
        try await TestServer().run { api in
            let served = try await api.call(.get, "/openapi.json", key: nil)
            #expect(served.status == .ok)
            #expect(served.json == committed)
            #expect(served.json["openapi"].string == "3.1.0")
        }
    }
}
