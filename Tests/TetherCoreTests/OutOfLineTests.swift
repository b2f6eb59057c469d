import Testing
import TetherCore

/// A value kept out of line: 8 bytes where it is stored, whatever the value's size; set, read back, cleared,
/// compared and hashed by its value; copies independent.
@Suite struct OutOfLineTests {
    struct Large: Sendable, Hashable {
        var a = "", b = "", c = "", d = ""
    }

    @Test func itTakesEightBytesWhateverItHolds() {
        #expect(MemoryLayout<Large>.size == 64)
        #expect(MemoryLayout<OutOfLine<Large>>.size == 8)
    }

    @Test func valuesReadBackCompareAndCopyAsValues() {
        var stored = OutOfLine<Large>()
        #expect(stored.value == nil)
        stored.value = Large(a: "x")
        let copy = stored
        stored.value?.b = "y"
        #expect(stored.value == Large(a: "x", b: "y"))
        #expect(copy.value == Large(a: "x"), "a copy does not see a later change")
        #expect(copy != stored)
        #expect(OutOfLine(Large(a: "x")) == copy && OutOfLine(Large(a: "x")).hashValue == copy.hashValue)
        stored.value = nil
        #expect(stored == OutOfLine<Large>())
    }
}
