import Testing

@testable import TetherClient

/// Replaced by the SDK's unit tests.
@Suite struct TetherClientPlaceholderTests {
    @Test func moduleLinks() { #expect(TetherClientModule.self == TetherClientModule.self) }
}
