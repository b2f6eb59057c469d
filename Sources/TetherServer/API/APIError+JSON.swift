import TetherCore
import TetherProtocol

extension APIError {
    /// The contract's answer to a refused body: `InvalidParameter` for text that is not JSON or a missing
    /// field, `InvalidParameterValue` for a value of the wrong kind or out of range; the message names the
    /// field.
    init(json error: StrictJSONError) {
        switch error.kind {
        case .syntax, .missing: self = .invalidParameter(error.path, error.problem)
        case .value: self = .invalidValue(error.path, error.problem)
        }
    }
}
