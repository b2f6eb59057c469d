import Foundation

/// Unbuffered lines on standard output (the listening address and a generated key must reach a pipe
/// at once, not when a buffer fills).
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
