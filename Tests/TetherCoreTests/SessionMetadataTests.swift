import Foundation
import Testing
import TetherCore

/// Session metadata: four optional fields in a box that is absent when all are nil, so a `Session` value
/// keeps 8 bytes for them (it kept 64); equality, hashing and the JSON are the fields'.
@Suite struct SessionMetadataTests {
    @Test func aSessionKeepsEightBytesForItsMetadata() {
        #expect(MemoryLayout<SessionMetadata>.size == 8)
    }

    @Test func fieldsReadBackAndNoneIsTheEmptyMetadata() {
        var metadata = SessionMetadata(userIp: "10.0.0.1", runMode: "RunWithoutClient")
        #expect(
            metadata.userIp == "10.0.0.1" && metadata.clientSession == nil && metadata.runMode == "RunWithoutClient")
        let copy = metadata
        metadata.parameters = "{}"
        #expect(copy.parameters == nil, "a copy does not see a later change")
        #expect(metadata.parameters == "{}")
        metadata.userIp = nil
        metadata.runMode = nil
        metadata.parameters = nil
        #expect(metadata == SessionMetadata())
        #expect(metadata.hashValue == SessionMetadata().hashValue)
        #expect(SessionMetadata(clientSession: "a") != SessionMetadata(runMode: "a"))
    }

    @Test func theJSONHasTheFieldsThatAreSet() throws {
        let metadata = SessionMetadata(userIp: "10.0.0.1", parameters: "{\"a\":1}")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(metadata), as: UTF8.self)
        #expect(json == #"{"parameters":"{\"a\":1}","userIp":"10.0.0.1"}"#)
        #expect(try JSONDecoder().decode(SessionMetadata.self, from: Data(json.utf8)) == metadata)
        #expect(String(decoding: try encoder.encode(SessionMetadata()), as: UTF8.self) == "{}")
    }
}
