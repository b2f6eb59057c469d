/// An optional integer in the integer's own bytes: the smallest value of a signed type, or the largest of an
/// unsigned one, stands for nil (an `Int64?` takes 9 bytes and, beside other 8-byte fields, 16). For values
/// kept by the thousand whose range never reaches that end (Unix milliseconds, epochs, connection ids).
public struct CompactOptional<Value: FixedWidthInteger & Sendable>: Sendable, Hashable {
    private var raw: Value

    private static var none: Value { Value.isSigned ? .min : .max }

    /// Holds `value` (nil when nil).
    public init(_ value: Value? = nil) {
        raw = value ?? Self.none
    }

    /// The value, if one is set.
    public var value: Value? {
        get { raw == Self.none ? nil : raw }
        set { raw = newValue ?? Self.none }
    }
}
