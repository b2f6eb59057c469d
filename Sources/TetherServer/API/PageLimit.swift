import Hummingbird
import HummingbirdCore

/// The `limit` query parameter of the paged reads (`/v1/events`, `/v1/audit`): 1 to 1000, 100 when absent.
enum PageLimit {
    /// The default page.
    static let `default` = 100
    /// The accepted range.
    static let range = 1...1_000

    /// The request's `limit`; a 400 naming it when it is not an integer in ``range``.
    static func parse(_ query: FlatDictionary<Substring, Substring>) throws -> Int {
        guard let raw = query["limit"] else { return Self.default }
        guard let value = Int(raw), range.contains(value) else {
            throw APIError.invalidValue("limit", "must be an integer between 1 and 1000")
        }
        return value
    }
}
