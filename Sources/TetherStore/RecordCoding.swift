import Foundation
import TetherProtocol

/// The strict reading of the store's JSON columns (a session's `history`), where the fast reader gives up.
enum RecordCoding {
    /// A value from its JSON text, read strictly (RFC 8259, no repeated members, integers as integers).
    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try StrictJSONDecoder(nullMeansAbsent: true).decode(type, from: json.utf8)
    }
}
