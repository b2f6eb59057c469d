import Testing
import TetherProtocol

/// The strict decoder: integers only as integers that fit, `null` only where a type asks for it, and every
/// refusal names the field.
@Suite struct StrictJSONDecoderTests {
    struct Policy: Decodable, Equatable {
        struct Heartbeat: Decodable, Equatable {
            var intervalMs: Int64?
            var timeoutMs: Int64?
        }
        var id: String
        var capacity: Int?
        var heartbeat: Heartbeat?
        var tags: [UInt8]?
        var ratio: Double?
        var enabled: Bool?
    }

    static func refusal<T: Decodable>(_ type: T.Type, _ text: String, nullMeansAbsent: Bool = false)
        -> StrictJSONError?
    {
        do {
            _ = try StrictJSONDecoder(nullMeansAbsent: nullMeansAbsent).decode(type, from: Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesWellFormedValues() throws {
        let text =
            #"{"id":"p","capacity":3,"heartbeat":{"intervalMs":1000},"tags":[1,255],"ratio":2.5e-1,"enabled":true,"x":{"y":[null]}}"#
        let p = try StrictJSONDecoder().decode(Policy.self, from: Array(text.utf8))
        #expect(
            p
                == Policy(
                    id: "p", capacity: 3, heartbeat: .init(intervalMs: 1000), tags: [1, 255], ratio: 0.25, enabled: true
                ))
    }

    @Test(arguments: [
        (#"{"id":"p","capacity":1.0}"#, "capacity", "without a fraction or an exponent"),
        (#"{"id":"p","capacity":1e0}"#, "capacity", "without a fraction or an exponent"),
        (#"{"id":"p","capacity":2.5}"#, "capacity", "without a fraction or an exponent"),
        (#"{"id":"p","capacity":1e30}"#, "capacity", "without a fraction or an exponent"),
        (#"{"id":"p","capacity":9223372036854775808}"#, "capacity", "from -9223372036854775808 to 9223372036854775807"),
        (#"{"id":"p","capacity":-9223372036854775809}"#, "capacity", "from"),
        (#"{"id":"p","tags":[1,256]}"#, "tags[1]", "from 0 to 255"),
        (#"{"id":"p","tags":[-1]}"#, "tags[0]", "from 0 to 255"),
        (#"{"id":"p","capacity":"3"}"#, "capacity", "must be an integer, not a string"),
        (#"{"id":"p","heartbeat":{"intervalMs":true}}"#, "heartbeat.intervalMs", "must be an integer, not a boolean"),
        (#"{"id":"p","heartbeat":[]}"#, "heartbeat", "must be an object, not an array"),
        (#"{"id":"p","ratio":1e400}"#, "ratio", "out of range"),
        (#"{"id":7}"#, "id", "must be a string, not a number"),
        (#"{"id":"p","enabled":"yes"}"#, "enabled", "must be a boolean"),
        (#"["p"]"#, "body", "must be an object, not an array"),
    ])
    func refusesValuesOfTheWrongKindOrRange(text: String, path: String, problem: String) {
        let error = Self.refusal(Policy.self, text)
        #expect(error?.kind == .value, "\(text): \(String(describing: error))")
        #expect(error?.path == path, "\(text): \(String(describing: error))")
        #expect(error?.problem.contains(problem) == true, "\(text): \(String(describing: error))")
    }

    @Test func aMissingMemberIsRequired() {
        let error = Self.refusal(Policy.self, #"{"capacity":1}"#)
        #expect(error == StrictJSONError(.missing, path: "id", "is required"))
    }

    @Test(arguments: [
        (#"{"id":null}"#, "id"),
        (#"{"id":"p","capacity":null}"#, "capacity"),
        (#"{"id":"p","heartbeat":null}"#, "heartbeat"),
        (#"{"id":"p","heartbeat":{"timeoutMs":null}}"#, "heartbeat.timeoutMs"),
    ])
    func nullIsRefusedForEveryMember(text: String, path: String) {
        #expect(Self.refusal(Policy.self, text) == StrictJSONError(.value, path: path, "must not be null"))
    }

    @Test func nullMeansAbsentForTheServersOwnRecords() throws {
        let text = #"{"id":"p","capacity":null,"heartbeat":{"timeoutMs":null}}"#
        let p = try StrictJSONDecoder(nullMeansAbsent: true).decode(Policy.self, from: Array(text.utf8))
        #expect(p == Policy(id: "p", heartbeat: .init()))
        // A required member is still required.
        #expect(Self.refusal(Policy.self, #"{"id":null}"#, nullMeansAbsent: true)?.path == "id")
    }

    @Test func aTypeThatGivesNullAMeaningCanAskForIt() throws {
        struct Patch: Decodable {
            var removeHook = false
            enum Keys: String, CodingKey { case hook }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: Keys.self)
                removeHook = c.contains(.hook) ? try c.decodeNil(forKey: .hook) : false
            }
        }
        #expect(try StrictJSONDecoder().decode(Patch.self, from: Array(#"{"hook":null}"#.utf8)).removeHook)
        #expect(try !StrictJSONDecoder().decode(Patch.self, from: Array(#"{}"#.utf8)).removeHook)
    }

    @Test func syntaxErrorsComeFromTheParser() {
        let error = Self.refusal(Policy.self, #"{"id":"p","id":"q"}"#)
        #expect(error?.kind == .syntax && error?.path == "id")
    }
}
