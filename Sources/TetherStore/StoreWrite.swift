import TetherCore

/// What a store's group-commit writer carries: a command's durable effects or a setting.
public enum StoreWrite: Sendable {
    /// The durable effects of one command, in the broker's order.
    case effects([Effect])
    /// A server setting.
    case setting(key: String, value: String)
}
