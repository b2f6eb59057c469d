import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TetherCore
import TetherServer

/// A Tether app on a fresh SQLite file, served on 127.0.0.1 for one test.
struct TestServer {
    static let apiKey = "test-key-0123456789"
    let dataPath: String
    /// The port of client TCP frames; 0 (the default) turns TCP off.
    var tcpPort = 0
    /// Demo mode (`tether serve --demo`).
    var demo = false

    init() {
        dataPath =
            FileManager.default.temporaryDirectory.appendingPathComponent("tether-\(UUID().uuidString).sqlite").path
    }

    func configuration() -> TetherConfiguration {
        var c = TetherConfiguration()
        c.dataPath = dataPath
        c.apiKey = Self.apiKey
        c.logLevel = .critical
        c.clientPort = 0
        c.tcpPort = tcpPort
        c.demo = demo
        return c
    }

    /// Runs `body` against a live server on this data file.
    func run(_ body: @escaping @Sendable (API) async throws -> Void) async throws {
        let app = try await TetherServer(configuration: configuration()).makeApplication()
        try await app.test(.live) { client in try await body(API(client: client)) }
    }
}

/// A tiny JSON client of the backend API.
struct API: Sendable {
    let client: any TestClientProtocol

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var json: JSONValue
        var text: String

        /// `error.code` of an error reply.
        var code: String? { json["error"]["code"].string }
        var message: String? { json["error"]["message"].string }
        subscript(key: String) -> JSONValue { json[key] }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(text.utf8))
        }
    }

    func call(
        _ method: HTTPRequest.Method, _ uri: String, json: String? = nil, key: String? = TestServer.apiKey,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
            return Reply(status: response.status, headers: response.headers, json: json, text: text)
        }
    }

    func post(_ uri: String, _ json: String) async throws -> Reply { try await call(.post, uri, json: json) }
    func get(_ uri: String) async throws -> Reply { try await call(.get, uri) }
    func delete(_ uri: String) async throws -> Reply { try await call(.delete, uri) }
}

extension JSONValue {
    subscript(key: String) -> JSONValue {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }
    subscript(index: Int) -> JSONValue {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return .null
    }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(exactly: n) } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
    var isNull: Bool { self == .null }
}
