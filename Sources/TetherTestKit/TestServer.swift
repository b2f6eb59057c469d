import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TetherCore
import TetherProtocol
import TetherServer

/// A Tether app on a fresh SQLite file, served on 127.0.0.1 for one test.
public struct TestServer {
    public static let apiKey = "test-key-0123456789"
    public let dataPath: String
    /// The port of client TCP frames; 0 (the default) turns TCP off.
    public var tcpPort = 0
    /// Demo mode (`tether serve --demo`).
    public var demo = false

    public init() {
        dataPath =
            FileManager.default.temporaryDirectory.appendingPathComponent("tether-\(UUID().uuidString).sqlite").path
    }

    public func configuration() -> TetherConfiguration {
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
    public func run(_ body: @escaping @Sendable (API) async throws -> Void) async throws {
        let app = try await TetherServer(configuration: configuration()).makeApplication()
        try await app.test(.live) { client in try await body(API(client: client)) }
    }
}

/// A tiny JSON client of the backend API.
public struct API: Sendable {
    public let client: any TestClientProtocol

    /// A client of `client`.
    public init(client: any TestClientProtocol) { self.client = client }

    public struct Reply: Sendable {
        public var status: HTTPResponse.Status
        public var headers: HTTPFields
        public var json: JSONValue
        public var text: String

        /// `error.code` of an error reply.
        public var code: String? { json["error"]["code"].string }
        public var message: String? { json["error"]["message"].string }
        public subscript(key: String) -> JSONValue { json[key] }

        public func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(text.utf8))
        }
    }

    public func call(
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

    public func post(_ uri: String, _ json: String) async throws -> Reply { try await call(.post, uri, json: json) }
    public func get(_ uri: String) async throws -> Reply { try await call(.get, uri) }
    public func delete(_ uri: String) async throws -> Reply { try await call(.delete, uri) }
}

extension JSONValue {
    public subscript(key: String) -> JSONValue {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }
    public subscript(index: Int) -> JSONValue {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return .null
    }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int: Int? { if case .number(let n) = self { Int(exactly: n) } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
    public var isNull: Bool { self == .null }
}
