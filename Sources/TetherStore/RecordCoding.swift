import Foundation
import TetherProtocol

/// How whole records are kept in the store: JSON text of the core types' `Codable` form.
enum RecordCoding {
    /// The JSON text of a record.
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// A record from its JSON text, read strictly (RFC 8259, no repeated members, integers as integers).
    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try StrictJSONDecoder(nullMeansAbsent: true).decode(type, from: json.utf8)
    }
}
