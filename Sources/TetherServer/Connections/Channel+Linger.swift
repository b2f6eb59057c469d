import NIOCore

extension Channel {
    /// Ends the connection without a reset once `written` (the last frame) is written: a FIN at once, so the
    /// peer reads everything written before it; the input is still read (and dropped by the handler) until
    /// the peer closes, or `linger` passes. Closing with unread input would send a TCP reset instead, which can
    /// overtake the last frames at the peer: a kick with its reason or `retryAfterMs`, a close frame, an
    /// error answer.
    ///
    /// A write that never completes does not hold the connection either: `written` waits at most `linger`
    /// (under TLS, a frame written before the handshake finished waits for a handshake that may never come).
    func closeLingering(after written: EventLoopFuture<Void>?, linger: TimeAmount = .seconds(1)) {
        let channel = self
        let close: @Sendable () -> Void = {
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
        }
        guard let written else { return close() }
        let stuck = channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
        written.whenComplete { _ in
            stuck.cancel()
            close()
        }
    }
}
