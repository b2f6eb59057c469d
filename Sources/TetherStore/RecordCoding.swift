import Foundation

/// How whole records are kept in the store: JSON text of the core types' `Codable` form.
enum RecordCoding {
    /// The JSON text of a record.
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// A record from its JSON text.
    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }
}
