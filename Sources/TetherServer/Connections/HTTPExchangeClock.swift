import NIOCore

/// When an HTTP connection must be closed for being slow: a connection that waits for a request gets the idle
/// timeout from when it became idle; a request gets the read timeout from its first byte to its last (head
/// and body together, so trickling bytes never extends it); while the server is answering there is no
/// deadline (an event stream may last for hours). Pure: the handler feeds it events and times.
struct HTTPExchangeClock {
    /// What the connection is waiting for.
    enum Phase: Equatable {
        /// Waiting for a request (a keep-alive connection between requests, or a new one).
        case idle
        /// A request has begun (bytes of its head arrived) and has not been read to its end.
        case reading
        /// Every request has been read; the server has not finished answering.
        case answering
    }

    /// What to do when the timer fires.
    enum Expiry: Equatable {
        /// Nothing is due (the server is answering).
        case none
        /// Not yet: look again at this time.
        case later(NIODeadline)
        /// The connection sat idle too long: close it.
        case idle
        /// A request took too long to arrive. `answer` when its head was read and it is the only request with no
        /// response yet (a 408 may be sent); a head that never completed is just closed.
        case readTimeout(answer: Bool)
    }

    let idleTimeout: TimeAmount
    let readTimeout: TimeAmount
    /// A request is being read.
    private(set) var reading = false
    /// Requests read (or being read) whose response has not ended.
    private(set) var inFlight = 0
    /// A response head went out and its end has not.
    private(set) var responding = false
    private var readStarted: NIODeadline
    private var idleSince: NIODeadline

    /// A new connection: idle since `now`.
    init(now: NIODeadline, idleTimeout: TimeAmount, readTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        readStarted = now
        idleSince = now
    }

    var phase: Phase {
        if reading { return .reading }
        return inFlight > 0 ? .answering : .idle
    }

    /// When the connection is due to be closed, if nothing happens before.
    var deadline: NIODeadline? {
        switch phase {
        case .idle: idleSince + idleTimeout
        case .reading: readStarted + readTimeout
        case .answering: nil
        }
    }

    /// Bytes arrived that did not make a request part yet (the start of a head).
    mutating func bytesArrived(now: NIODeadline) {
        guard !reading else { return }
        reading = true
        readStarted = now
    }

    /// A request head was read.
    mutating func head(now: NIODeadline) {
        if !reading {
            reading = true
            readStarted = now
        }
        inFlight += 1
    }

    /// A request's end was read.
    mutating func end() {
        reading = false
    }

    /// A response head went out.
    mutating func responseHead() {
        responding = true
    }

    /// A response ended.
    mutating func responseEnd(now: NIODeadline) {
        responding = false
        inFlight = max(0, inFlight - 1)
        if inFlight == 0 { idleSince = now }
    }

    /// What is due at `now`.
    func expiry(now: NIODeadline) -> Expiry {
        guard let deadline else { return .none }
        guard now >= deadline else { return .later(deadline) }
        switch phase {
        case .idle: return .idle
        case .reading: return .readTimeout(answer: inFlight == 1 && !responding)
        case .answering: return .none
        }
    }
}
