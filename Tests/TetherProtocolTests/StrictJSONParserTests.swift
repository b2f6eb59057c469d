import Testing
import TetherProtocol

/// RFC 8259, to the letter: what it allows parses, everything else is a syntax error naming the field.
@Suite struct StrictJSONParserTests {
    static func parse(_ text: String) throws(StrictJSONError) -> JSONNode {
        try StrictJSONParser.parse(Array(text.utf8))
    }

    static func refusal(_ text: String) -> StrictJSONError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (#"{"a":1}"#, JSONNode.object(["a": .number("1")], keys: ["a"])),
        (" [ ] ", .array([])),
        ("{}", .object([:], keys: [])),
        (#"[true,false,null]"#, .array([.bool(true), .bool(false), .null])),
        (#""\u00e9\ud83d\ude00\/\n""#, .string("é😀/\n")),
        ("-0", .number("-0")),
        ("12.5e-3", .number("12.5e-3")),
        ("1E+2", .number("1E+2")),
        ("\t\r\n 7 \n", .number("7")),
        (#""""#, .string("")),
    ])
    func acceptsWhatTheRFCAllows(text: String, expected: JSONNode) throws {
        #expect(try Self.parse(text) == expected)
    }

    @Test func keepsTheOrderOfMemberNames() throws {
        guard case .object(_, let keys) = try Self.parse(#"{"b":1,"a":2,"c":3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(keys == ["b", "a", "c"])
    }

    @Test(arguments: [
        (#"{"id":"x",}"#, "body", "member name"),
        ("[1,2,]", "[2]", "value after ','"),
        ("[1,,2]", "[1]", "value after ','"),
        (#"{"id":"x","id":"y"}"#, "id", "appears twice"),
        (#"{"a":{"b":1,"b":2}}"#, "a.b", "appears twice"),
        ("\u{FEFF}{}", "body", "byte-order mark"),
        ("01", "body", "leading zero"),
        ("+1", "body", "a value"),
        ("1.", "body", "digit after '.'"),
        (".5", "body", "a value"),
        ("1e", "body", "exponent"),
        ("NaN", "body", "a value"),
        ("Infinity", "body", "a value"),
        ("{'a':1}", "body", "member name"),
        (#"{"a":1}/*c*/"#, "body", "text after"),
        (#"{"a":1} {}"#, "body", "text after"),
        ("", "body", "empty"),
        ("   ", "body", "empty"),
        (#"{"a":"x"#, "a", "not closed"),
        ("{\"a\":\"\u{01}\"}", "a", "control character"),
        (#"{"a":"\x"}"#, "a", "unknown escape"),
        (#"{"a":"\u12"}"#, "a", "four hex digits"),
        (#"{"a":"\ud800"}"#, "a", "unpaired surrogate"),
        (#"{"a":"\udc00"}"#, "a", "unpaired surrogate"),
        (#"{"a":[1,{"b":tru}]}"#, "a[1].b", "a value"),
        ("{\"a\" 1}", "a", "':'"),
        ("[1 2]", "body", "',' or ']'"),
        (#"{"a":1 "b":2}"#, "body", "',' or '}'"),
        ("nul", "body", "a value"),
    ])
    func refusesEverythingElseNamingTheField(text: String, path: String, problem: String) {
        let error = Self.refusal(text)
        #expect(error?.kind == .syntax, "\(text)")
        #expect(error?.path == path, "\(text): \(String(describing: error))")
        #expect(error?.problem.contains(problem) == true, "\(text): \(String(describing: error))")
    }

    @Test func refusesInvalidUTF8InAString() {
        var bytes = Array(#"{"a":""#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""}"#.utf8)
        #expect(throws: StrictJSONError.self) { try StrictJSONParser.parse(bytes) }
    }

    @Test func nestingIsBoundedAndTheFieldIsNamed() throws {
        let deep = #"{"parameters":"# + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + "}"
        let error = Self.refusal(deep)
        #expect(
            error?.path == "parameters" && error?.problem.contains("deeper than 64") == true,
            "\(String(describing: error))")
        let root = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(Self.refusal(root)?.path == "body")
        // 64 levels is the limit, and is allowed.
        let limit = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(Self.refusal(limit) == nil)
    }
}
