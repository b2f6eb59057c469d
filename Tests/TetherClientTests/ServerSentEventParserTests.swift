import Testing

@testable import TetherClient

/// The `text/event-stream` parser the event stream reads with.
@Suite struct ServerSentEventParserTests {
    @Test func eventsSplitAcrossChunksAndLineEndings() {
        var parser = ServerSentEventParser()
        let text =
            "retry: 1000\n\nid: 7\nevent: session.created\ndata: {\"a\"\r\n: keepalive\r\n\r\nid: 8\rdata: x\r\rdata:y\n\n"
        var events: [ServerSentEvent] = []
        for byte in Array(text.utf8) { events += parser.feed([byte]) }
        #expect(
            events == [
                ServerSentEvent(id: "7", event: "session.created", data: "{\"a\""),
                ServerSentEvent(id: "8", event: nil, data: "x"),
                ServerSentEvent(id: "8", event: nil, data: "y"),
            ])
        #expect(events.first?.cursor == 7)
    }

    @Test func multipleDataLinesJoinWithNewlinesAndCommentsAloneDispatchNothing() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array(": keepalive\n\n".utf8)).isEmpty)
        #expect(parser.feed(Array("data: one\ndata: two\n\n".utf8)) == [ServerSentEvent(data: "one\ntwo")])
    }
}
