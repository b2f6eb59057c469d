/// An optional value kept out of line: 8 bytes where it is stored, the value in a box of its own while it is
/// set. For fields that are rarely set in values kept by the thousand (a session's metadata in the broker's
/// table, a connection's HTTP-only state, a welcome waiting for its commit).
public struct OutOfLine<Value: Sendable>: Sendable {
    private indirect enum Box: Sendable {
        case value(Value)
    }

    private var box: Box?

    /// Holds `value` (nothing when nil).
    public init(_ value: Value? = nil) {
        box = value.map(Box.value)
    }

    /// The value, if one is set.
    public var value: Value? {
        get {
            guard case .value(let value) = box else { return nil }
            return value
        }
        set { box = newValue.map(Box.value) }
    }
}

extension OutOfLine: Equatable where Value: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.value == rhs.value }
}

extension OutOfLine: Hashable where Value: Hashable {
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
