import GRDB
import Testing

@testable import TetherStore

/// `Statement.execute(binding:)`, the SQLite store's binding of record columns straight through SQLite's C API:
/// every kind of value reads back as GRDB's own binding stores it, and a wrong count runs nothing.
@Suite struct StatementBindingTests {
    static let texts = [
        "", "plain", "quote \" and \\", "nul \u{0} inside", "émoji 🎉 中文", String(repeating: "x", count: 5000),
    ]

    static func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c)") }
        return queue
    }

    @Test func everyKindOfValueReadsBackAsGRDBsOwnBindingWritesIt() throws {
        let queue = try Self.database()
        var rows: [[ColumnValue]] = []
        for (i, text) in Self.texts.enumerated() {
            rows.append([.integer(Int64(i)), .text(text), .integer(i == 0 ? .min : .max), .null])
        }
        rows.append([.integer(100), .boolean(true), .boolean(false), .integer(0)])
        try queue.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)")
            for row in rows { try statement.execute(binding: row) }
            // The same rows through GRDB's StatementArguments, shifted by 1000, to compare with.
            for row in rows {
                var shifted = row
                if case .integer(let id) = row[0] { shifted[0] = .integer(id + 1000) }
                try db.execute(
                    sql: "INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)",
                    arguments: StatementArguments(shifted.map(\.databaseValue)))
            }
        }
        try queue.read { db in
            for row in rows {
                guard case .integer(let id) = row[0] else { continue }
                let ours = try Row.fetchOne(
                    db, sql: "SELECT a, b, c, typeof(a), typeof(c) FROM t WHERE id = ?", arguments: [id])
                let grdb = try Row.fetchOne(
                    db, sql: "SELECT a, b, c, typeof(a), typeof(c) FROM t WHERE id = ?", arguments: [id + 1000])
                #expect(ours != nil && ours == grdb, "row \(id)")
            }
            let empty = try String.fetchOne(db, sql: "SELECT typeof(a) || ':' || a FROM t WHERE id = 0")
            #expect(empty == "text:", "an empty string stays text, not NULL")
            let nul = try Int.fetchOne(db, sql: "SELECT length(CAST(a AS BLOB)) FROM t WHERE id = 3")
            #expect(nul == Self.texts[3].utf8.count, "a NUL inside a text is kept with what follows it")
        }
    }

    @Test func aStatementReusedWithFewerTextsKeepsNoStaleValue() throws {
        let queue = try Self.database()
        try queue.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)")
            try statement.execute(binding: [.integer(1), .text("first"), .text("second"), .text("third")])
            try statement.execute(binding: [.integer(2), .null, .null, .null])
        }
        let nulls = try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE id = 2 AND a IS NULL AND b IS NULL AND c IS NULL")
        }
        #expect(nulls == 1)
    }

    @Test func aWrongNumberOfValuesThrowsAndWritesNothing() throws {
        let queue = try Self.database()
        for values: [ColumnValue] in [[], [.integer(1), .text("a")], Array(repeating: .integer(7), count: 5)] {
            #expect(throws: StoreError.self) {
                try queue.write { db in
                    try db.cachedStatement(sql: "INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)")
                        .execute(binding: values)
                }
            }
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
    }
}
