import Logging
import Synchronization
import Testing

@testable import TetherServer

/// `LazyMetadataLogHandler` stores metadata and hands it over with each written record.
@Suite struct LazyMetadataLogHandlerTests {
    final class Box: Sendable {
        let records = Mutex<[(String, Logger.Metadata)]>([])
    }

    @Test func metadataReachesWrittenRecordsAndExplicitItemsWin() {
        let box = Box()
        var logger = Logger(label: "t") { _ in LazyMetadataLogHandler(base: SharedRecorder(box: box)) }
        logger.logLevel = .info
        logger[metadataKey: "requestId"] = "r1"
        logger[metadataKey: "k"] = "a"
        logger.debug("not written")
        logger.info("one")
        logger.info("two", metadata: ["k": "b"])
        let records = box.records.withLock { $0 }
        #expect(records.map(\.0) == ["one", "two"])
        #expect(records[0].1 == ["requestId": "r1", "k": "a"])
        #expect(records[1].1 == ["requestId": "r1", "k": "b"])
        #expect(logger[metadataKey: "requestId"] == "r1")
    }

    /// A base handler that keeps what it is asked to write.
    struct SharedRecorder: LogHandler {
        let box: Box
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var metadataProvider: Logger.MetadataProvider?
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            box.records.withLock { $0.append(("\(event.message)", merged)) }
        }
    }
}
