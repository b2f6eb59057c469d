extension ClientMessage {
    /// Decodes the heartbeat as clients send it, `{"type":"ping","seq":N,"t":T}` (keys in any order, `t`
    /// optional, no whitespace), straight from the bytes: no Foundation, no allocation. Anything else
    /// (whitespace, other keys, repeated keys, numbers that are not plain integers in range, other types)
    /// gives `nil`, and the caller falls back to the full decoder, so behaviour is the decoder's exactly.
    static func fastPing(_ bytes: UnsafeRawBufferPointer) -> ClientMessage? {
        var i = 0
        let n = bytes.count
        @inline(__always) func peek() -> UInt8? { i < n ? bytes[i] : nil }
        @inline(__always) func eat(_ c: UInt8) -> Bool {
            guard i < n, bytes[i] == c else { return false }
            i += 1
            return true
        }
        /// Matches `literal` at `i` and moves past it.
        func eat(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard n - i >= count else { return false }
            let start = literal.utf8Start
            for k in 0..<count where bytes[i + k] != start[k] { return false }
            i += count
            return true
        }
        /// A JSON integer without sign: `0` or a digit 1-9 then digits; `nil` on overflow or bad syntax.
        func magnitude() -> UInt64? {
            guard let first = peek(), first >= 0x30, first <= 0x39 else { return nil }
            i += 1
            var value = UInt64(first - 0x30)
            if first == 0x30 {
                if let next = peek(), (next >= 0x30 && next <= 0x39) || next == 0x2E || next == 0x65 || next == 0x45 {
                    return nil
                }
                return 0
            }
            while let c = peek(), c >= 0x30, c <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
                guard !o1, !o2 else { return nil }
                value = a
                i += 1
            }
            // A fraction or exponent: leave it to the full decoder.
            if let c = peek(), c == 0x2E || c == 0x65 || c == 0x45 { return nil }
            return value
        }

        guard eat(UInt8(ascii: "{")) else { return nil }
        var sawType = false
        var seq: UInt64?
        var t: Int64?
        repeat {
            if eat(#""type":"ping""#) {
                guard !sawType else { return nil }
                sawType = true
            } else if eat(#""seq":"#) {
                guard seq == nil, let v = magnitude() else { return nil }
                seq = v
            } else if eat(#""t":"#) {
                guard t == nil else { return nil }
                let negative = eat(UInt8(ascii: "-"))
                guard let v = magnitude() else { return nil }
                if negative {
                    guard v <= UInt64(Int64.max) + 1 else { return nil }
                    t = v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
                } else {
                    guard v <= UInt64(Int64.max) else { return nil }
                    t = Int64(v)
                }
            } else {
                return nil
            }
        } while eat(UInt8(ascii: ","))
        guard eat(UInt8(ascii: "}")), i == n, sawType, let seq else { return nil }
        return .ping(seq: seq, t: t ?? 0)
    }
}
