import TetherCore
import TetherProtocol

/// An error of the CAR-compatible endpoint: `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}` with
/// Tencent Cloud's common codes (`AuthFailure.*`, `MissingParameter`, `InvalidAction`, …) or CAR's own
/// (`ResourceNotFound.NoIdle`, `FailedOperation.LockTimeout`, …). A refused call changes nothing.
struct CARError: Error, Sendable, Hashable {
    /// The code, as Tencent Cloud's SDKs raise it.
    var code: String
    /// A message for people.
    var message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The native API's answer to the same command, in CAR's words: the codes are CAR's already where CAR has
    /// one; the rest become the nearest common code.
    init(_ error: any Error) {
        if let error = error as? CARError {
            self = error
            return
        }
        if let error = error as? StrictJSONError {
            self = Self.parameters(error)
            return
        }
        let native = APIErrorMiddleware.apiError(for: error)
        switch native.code {
        case "UnauthorizedOperation": self.init("AuthFailure.UnauthorizedOperation", native.message)
        case "InternalError.Store", "InternalError.ShuttingDown": self.init("InternalError", native.message)
        case "InvalidParameter.BodyTooLarge": self.init("InvalidParameter", native.message)
        default: self.init(native.code, native.message)
        }
    }

    /// A body that is not what the action takes: `MissingParameter`, `InvalidParameter.JsonParseError` or
    /// `InvalidParameterValue`, naming the field.
    static func parameters(_ error: StrictJSONError) -> CARError {
        switch error.kind {
        case .syntax: CARError("InvalidParameter.JsonParseError", error.description)
        case .missing: CARError("MissingParameter", error.description)
        case .value: CARError("InvalidParameterValue", error.description)
        }
    }
}
