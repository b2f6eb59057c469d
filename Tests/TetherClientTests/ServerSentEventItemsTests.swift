import Testing
import TetherClient

/// The parser's public API as the bench and the test kit read with it: comments in stream order with events.
@Suite struct ServerSentEventItemsTests {
    @Test func commentsComeInOrderWithEvents() {
        var parser = ServerSentEventParser()
        let text = ": keepalive\n\nid: 3\ndata: {}\n\n:no space\r\n\r\n"
        var items: [ServerSentEventItem] = []
        for byte in Array(text.utf8) { items += parser.feedItems([byte]) }
        #expect(
            items == [
                .comment("keepalive"), .event(ServerSentEvent(id: "3", data: "{}")), .comment("no space"),
            ])
        var events = ServerSentEventParser()
        #expect(events.feed(Array(text.utf8)) == [ServerSentEvent(id: "3", data: "{}")])
    }
}
