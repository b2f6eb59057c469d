import Foundation
import TetherCore

/// Where the shell reads time from: wall-clock Unix milliseconds. Tests inject their own.
public protocol TimeSource: Sendable {
    /// The current time (Unix ms).
    func now() -> Millis
}

/// The system's wall clock.
public struct WallClock: TimeSource {
    /// Creates the wall clock.
    public init() {}

    /// The current time (Unix ms).
    public func now() -> Millis { Millis((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
