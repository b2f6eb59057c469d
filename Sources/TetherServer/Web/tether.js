// Tether browser SDK: one dependency-free ES module (served at /sdk/tether.js).
//
//   import { TetherClient } from "/sdk/tether.js";
//   const client = TetherClient.resume() ?? TetherClient.fromSession(createSessionResponse);
//   client.addEventListener("state", (e) => console.log(e.detail.state, e.detail.reason));
//   client.connect();
//
// It speaks the client channel of docs/PROTOCOL.md over WebSocket: hello (client token or resume token),
// heartbeats at the welcome's interval, RTT / jitter / loss from the pongs, suspend when the page is hidden
// or left, a ping at once when it is visible again, automatic resume with exponential backoff and full
// jitter inside the grace window, and the resume token kept in sessionStorage so a reload resumes.

/** Client states, in the order a session usually meets them. */
export const States = Object.freeze({
  idle: "idle",
  connecting: "connecting",
  connected: "connected",
  suspended: "suspended",
  reconnecting: "reconnecting",
  ended: "ended",
});

/** Kick reasons after which reconnecting cannot help. */
const TERMINAL = new Set(["left", "replaced", "destroyed", "badToken", "protocolError", "tooLarge"]);

/** Close codes to kick reasons, for a close that came without a kick message. */
const CLOSE_REASONS = {
  1000: "left",
  1001: "shutdown",
  1009: "tooLarge",
  1011: "serverError",
  4000: "protocolError",
  4001: "badToken",
  4002: "replaced",
  4003: "destroyed",
  4004: "expired",
  4008: "noHello",
  4029: "rateLimited",
};

const DEFAULTS = Object.freeze({
  storageKey: "tether",
  suspendMs: 30000,
  autoSuspend: true,
  backoffInitialMs: 250,
  backoffMaxMs: 8000,
  connectWindowMs: 60000,
  byeTimeoutMs: 2000,
});

function now() {
  return Date.now();
}

function defaultStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled (sandboxed frame, privacy mode)
  }
}

/**
 * A session's client: one WebSocket at a time, reconnected with the resume token while the session is held.
 *
 * Events (an EventTarget; `event.detail` carries the data):
 * - `state`   `{state, previous, reason?}` on every change of `client.state`;
 * - `welcome` the server's welcome (sessionId, epoch, concurrencyId, heartbeat, ...);
 * - `pong`    `{seq, rttMs}` for every answered heartbeat;
 * - `kick`    `{reason, retryAfterMs?}` as the server sent it.
 */
export class TetherClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.url          the `connect.websocket` address of CreateSession's answer
   * @param {string} [options.token]      the client token (a fresh session or epoch)
   * @param {string} [options.resumeToken] a resume token from a welcome (to resume instead)
   * @param {string} [options.storageKey] sessionStorage key suffix ("tether"); null disables storage
   * @param {Storage} [options.storage]   where the resume state is kept (sessionStorage)
   * @param {number} [options.suspendMs]  `expectedMs` declared when the page is hidden or left (30000)
   * @param {boolean} [options.autoSuspend] suspend on visibilitychange/pagehide, wake on visible (true)
   * @param {number} [options.backoffInitialMs] first reconnect delay cap (250)
   * @param {number} [options.backoffMaxMs] largest reconnect delay cap (8000)
   * @param {number} [options.connectWindowMs] how long a first connection is retried (60000)
   */
  constructor(options) {
    super();
    if (!options || typeof options.url !== "string") throw new TypeError("TetherClient: options.url is required");
    if (!options.token && !options.resumeToken) throw new TypeError("TetherClient: a token or resumeToken is required");
    this.options = { ...DEFAULTS, ...options };
    this.url = options.url;
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this._token = options.token ?? null;
    this._resumeToken = options.resumeToken ?? null;
    /** @type {string} one of States */
    this.state = States.idle;
    /** Why the client ended (when `state` is "ended"). */
    this.endReason = null;
    this.sessionId = options.sessionId ?? null;
    this.epoch = options.epoch ?? null;
    this.concurrencyId = options.concurrencyId ?? null;
    this.heartbeat = options.heartbeat ?? null;
    this.reconnectGraceMs = options.reconnectGraceMs ?? null;
    /** Answered heartbeats (pongs) since this object was made. */
    this.heartbeats = 0;
    /** Last round trip, smoothed jitter (RFC 3550), loss rate of the last 100 pings. */
    this.rttMs = null;
    this.jitterMs = null;
    this.lossRate = 0;
    /** Server clock minus client clock, estimated from the last pong (ms). */
    this.clockOffsetMs = null;
    this.reconnects = 0;

    this._ws = null;
    this._seq = 0;
    this._pending = new Map(); // seq -> {sentAt (performance.now), t}
    this._outcomes = []; // recent pings: true answered, false lost
    this._lastInboundAt = 0;
    this._heartbeatTimer = null;
    this._watchTimer = null;
    this._retryTimer = null;
    this._attempt = 0;
    this._windowEndsAt = 0;
    this._kick = null;
    this._welcomedOnSocket = false;
    this._paused = false; // heartbeats paused by a suspension
    this._autoSuspended = false;
    this._expectedMs = 0;
    this._listeners = null;
  }

  /** A client for CreateSession's answer (`{clientToken, connect: {websocket}, ...}`). */
  static fromSession(session, options = {}) {
    return new TetherClient({
      ...options,
      url: session.connect.websocket,
      token: session.clientToken,
      sessionId: session.sessionId,
      epoch: session.epoch,
      concurrencyId: session.concurrencyId,
      heartbeat: session.heartbeat,
      reconnectGraceMs: session.reconnectGraceMs,
    });
  }

  /** What sessionStorage holds for `storageKey`, when its grace window has not passed; else null. */
  static stored(storageKey = DEFAULTS.storageKey, storage = defaultStorage()) {
    if (!storage) return null;
    let record;
    try {
      record = JSON.parse(storage.getItem(`tether:${storageKey}`) ?? "null");
    } catch {
      return null;
    }
    if (!record || typeof record.resumeToken !== "string" || typeof record.url !== "string") return null;
    if (!(record.resumableUntil > now())) {
      storage.removeItem(`tether:${storageKey}`);
      return null;
    }
    return record;
  }

  /** A client that resumes the session kept in sessionStorage (after a reload), or null when there is none. */
  static resume(options = {}) {
    const storageKey = options.storageKey === undefined ? DEFAULTS.storageKey : options.storageKey;
    const storage = options.storage === undefined ? defaultStorage() : options.storage;
    const record = TetherClient.stored(storageKey, storage);
    if (!record) return null;
    return new TetherClient({
      ...options,
      url: record.url,
      resumeToken: record.resumeToken,
      sessionId: record.sessionId,
      epoch: record.epoch,
      concurrencyId: record.concurrencyId,
      heartbeat: record.heartbeat,
      reconnectGraceMs: record.reconnectGraceMs,
    });
  }

  /** Forgets the session kept in sessionStorage. */
  static forget(storageKey = DEFAULTS.storageKey, storage = defaultStorage()) {
    storage?.removeItem(`tether:${storageKey}`);
  }

  /** Opens the connection (once; later connections are the client's own reconnects). */
  connect() {
    if (this.state !== States.idle) return this;
    this._installPageListeners();
    this._windowEndsAt = now() + this.options.connectWindowMs;
    if (this._resumeToken && this.reconnectGraceMs != null) {
      const record = TetherClient.stored(this.options.storageKey, this.storage);
      if (record) this._windowEndsAt = record.resumableUntil;
    }
    this._open(States.connecting);
    return this;
  }

  /**
   * Declares an absence of about `expectedMs` (reason "background", "pagehide" or "networkChange"):
   * heartbeats pause (any message would end the suspension) until `wake()`.
   */
  suspend(expectedMs = this.options.suspendMs, reason = "background") {
    if (this.state === States.ended || this.state === States.idle) return;
    this._paused = true;
    this._expectedMs = Math.max(1, Math.round(expectedMs));
    this._stopHeartbeats();
    if (this._socketOpen() && this._welcomedOnSocket) {
      this._send({ type: "suspend", expectedMs: this._expectedMs, reason });
      this._setState(States.suspended, { reason });
    }
    this._persist();
  }

  /** Ends a suspension: pings at once (which ends it on the server) and resumes heartbeats. */
  wake() {
    if (this.state === States.ended) return;
    this._paused = false;
    this._autoSuspended = false;
    this._expectedMs = 0;
    if (this._socketOpen() && this._welcomedOnSocket) {
      this._setState(States.connected);
      this._startHeartbeats();
    } else if (this.state === States.suspended) {
      this._reconnectSoon(0);
    }
    this._persist();
  }

  /** Leaves: sends `bye` (the session ends, the concurrency is freed at once) and closes. */
  close() {
    if (this.state === States.ended) return;
    const ws = this._ws;
    if (ws && ws.readyState === WebSocket.OPEN && this._welcomedOnSocket) {
      this._send({ type: "bye" });
      setTimeout(() => {
        if (ws.readyState !== WebSocket.CLOSED) ws.close(1000, "bye");
      }, this.options.byeTimeoutMs);
      this._ws = null;
      this._detach(ws);
    } else if (ws) {
      this._ws = null;
      this._detach(ws);
      ws.close(1000, "bye");
    }
    this._end("left");
  }

  /** Connection quality in one object. */
  get stats() {
    return {
      heartbeats: this.heartbeats,
      rttMs: this.rttMs,
      jitterMs: this.jitterMs,
      lossRate: this.lossRate,
      reconnects: this.reconnects,
    };
  }

  // ---- the socket

  _open(state) {
    this._setState(state);
    this._kick = null;
    this._welcomedOnSocket = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this._end("badUrl", { error: String(error) });
      return;
    }
    this._ws = ws;
    ws.onopen = () => {
      const hello = this._resumeToken ? { type: "hello", resumeToken: this._resumeToken } : { type: "hello", token: this._token };
      this._lastInboundAt = now();
      ws.send(JSON.stringify(hello));
      this._startWatch();
    };
    ws.onmessage = (event) => this._receive(ws, event.data);
    ws.onclose = (event) => this._closed(ws, event.code, event.reason);
    ws.onerror = () => {}; // a close event always follows
  }

  _detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    for (let i = 0; i < this._pending.size; i++) this._record(false); // unanswered when the socket went
    this._pending.clear();
    this._stopHeartbeats();
    this._stopWatch();
  }

  _socketOpen() {
    return this._ws !== null && this._ws.readyState === WebSocket.OPEN;
  }

  _send(message) {
    if (this._socketOpen()) this._ws.send(JSON.stringify(message));
  }

  _receive(ws, data) {
    if (ws !== this._ws || typeof data !== "string") return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    this._lastInboundAt = now();
    switch (message.type) {
      case "welcome":
        this._welcome(message);
        break;
      case "pong":
        this._pong(message);
        break;
      case "ping": // TCP only today; answer anyway
        this._send({ type: "pong", seq: message.seq, t: message.t });
        break;
      case "kick":
        this._kick = { reason: message.reason, retryAfterMs: message.retryAfterMs ?? null };
        this._emit("kick", this._kick);
        break;
    }
  }

  _welcome(w) {
    this._welcomedOnSocket = true;
    if (this.sessionId !== null && this.epoch !== null && w.epoch > this.epoch && this.state === States.reconnecting) {
      this.reconnects += 1;
    }
    this.sessionId = w.sessionId;
    this.epoch = w.epoch;
    this.concurrencyId = w.concurrencyId;
    this.heartbeat = w.heartbeat;
    if (w.reconnectGraceMs != null) this.reconnectGraceMs = w.reconnectGraceMs;
    this._resumeToken = w.resumeToken;
    this._token = null; // a used client token is of no further use: resumes take the resume token
    this._attempt = 0;
    this._pending.clear();
    this._persist();
    this._emit("welcome", w);
    const hidden = this.options.autoSuspend && typeof document !== "undefined" && document.visibilityState === "hidden";
    if (hidden) this._autoSuspended = true;
    if (this._paused || hidden) {
      // Still away: declare it again on this connection (a resume makes the session connected).
      this._paused = true;
      this._expectedMs = this._expectedMs || this.options.suspendMs;
      this._send({ type: "suspend", expectedMs: this._expectedMs, reason: "background" });
      this._setState(States.suspended, { reason: "background" });
      return;
    }
    this._setState(States.connected);
    this._startHeartbeats();
  }

  _pong(p) {
    const sent = this._pending.get(p.seq);
    if (!sent) return;
    this._pending.delete(p.seq);
    const rtt = Math.max(0, performance.now() - sent.at);
    if (this.rttMs !== null) {
      const d = Math.abs(rtt - this.rttMs);
      this.jitterMs = this.jitterMs === null ? d : this.jitterMs + (d - this.jitterMs) / 16;
    }
    this.rttMs = rtt;
    if (typeof p.st === "number") this.clockOffsetMs = p.st - (sent.t + rtt / 2);
    this.heartbeats += 1;
    this._record(true);
    this._persist();
    this._emit("pong", { seq: p.seq, rttMs: rtt });
  }

  _record(answered) {
    this._outcomes.push(answered);
    if (this._outcomes.length > 100) this._outcomes.shift();
    this.lossRate = this._outcomes.filter((x) => !x).length / this._outcomes.length;
  }

  _closed(ws, code, reason) {
    if (ws !== this._ws) return;
    this._detach(ws);
    this._ws = null;
    if (this.state === States.ended) return;
    const kick = this._kick;
    const why = kick?.reason ?? CLOSE_REASONS[code] ?? "closed";
    if (TERMINAL.has(why)) {
      this._end(why, { code, retryAfterMs: kick?.retryAfterMs ?? null });
      return;
    }
    if (why === "expired" && !this._welcomedOnSocket) {
      this._end("expired", { code }); // the session itself is over
      return;
    }
    if (this._paused && this._autoSuspended) {
      // A hidden page lost its socket: stay suspended, come back when visible (within the window).
      this._windowEndsAt = this._resumableUntil();
      this._setState(States.suspended, { reason: "background" });
      return;
    }
    if (this._welcomedOnSocket || this.sessionId !== null) this._windowEndsAt = this._resumableUntil();
    this._reconnectSoon(kick?.retryAfterMs ?? 0, why);
  }

  /** The end of the window in which a resume can still succeed. */
  _resumableUntil() {
    const grace = this.reconnectGraceMs ?? 0;
    const away = this._paused ? Math.max(this.heartbeat?.timeoutMs ?? 0, this._expectedMs) : 0;
    return Math.max(now() + grace, this._lastInboundAt + away + grace);
  }

  _reconnectSoon(retryAfterMs, why = "closed") {
    if (this._retryTimer !== null) return;
    const cap = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** this._attempt);
    const delay = Math.max(retryAfterMs ?? 0, Math.random() * cap); // full jitter, never before retryAfterMs
    if (now() + delay >= this._windowEndsAt) {
      this._end(this._resumeToken ? "graceExpired" : "connectFailed", { lastReason: why });
      return;
    }
    this._attempt += 1;
    this._setState(States.reconnecting, { reason: why, delayMs: Math.round(delay) });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (this.state !== States.reconnecting) return;
      this._open(States.reconnecting);
    }, delay);
  }

  _end(reason, extra = {}) {
    if (this.state === States.ended) return;
    this.endReason = reason;
    this._stopHeartbeats();
    this._stopWatch();
    if (this._retryTimer !== null) clearTimeout(this._retryTimer);
    this._retryTimer = null;
    if (this._ws) {
      const ws = this._ws;
      this._ws = null;
      this._detach(ws);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    }
    this._removePageListeners();
    if (this.storage && this.options.storageKey !== null) TetherClient.forget(this.options.storageKey, this.storage);
    this._setState(States.ended, { reason, ...extra });
  }

  // ---- heartbeats and liveness

  _startHeartbeats() {
    this._stopHeartbeats();
    const interval = this.heartbeat?.intervalMs ?? 5000;
    const beat = () => {
      this._ping();
      this._heartbeatTimer = setTimeout(beat, interval);
    };
    beat();
  }

  _stopHeartbeats() {
    if (this._heartbeatTimer !== null) clearTimeout(this._heartbeatTimer);
    this._heartbeatTimer = null;
  }

  _ping() {
    if (!this._socketOpen()) return;
    this._seq += 1;
    const t = now();
    this._pending.set(this._seq, { at: performance.now(), t });
    this._send({ type: "ping", seq: this._seq, t });
  }

  /** Counts unanswered pings as lost and drops a connection silent past the heartbeat timeout. */
  _startWatch() {
    this._stopWatch();
    const timeout = () => this.heartbeat?.timeoutMs ?? 15000;
    this._watchTimer = setInterval(() => {
      const limit = performance.now() - timeout();
      for (const [seq, sent] of this._pending) {
        if (sent.at < limit) {
          this._pending.delete(seq);
          this._record(false);
        }
      }
      if (!this._paused && this._ws && now() - this._lastInboundAt > timeout()) {
        const ws = this._ws;
        this._kick = { reason: "timeout", retryAfterMs: null };
        ws.close(4000, "heartbeat timeout");
        this._closed(ws, 4000, "heartbeat timeout");
      }
    }, 1000);
  }

  _stopWatch() {
    if (this._watchTimer !== null) clearInterval(this._watchTimer);
    this._watchTimer = null;
  }

  // ---- the page's lifecycle

  _installPageListeners() {
    if (!this.options.autoSuspend || this._listeners || typeof document === "undefined") return;
    const onVisibility = () => {
      if (document.visibilityState === "hidden") this._pageAway("background");
      else this._pageBack();
    };
    const onPageHide = () => this._pageAway("pagehide");
    const onPageShow = (event) => {
      if (event.persisted) this._pageBack();
    };
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("pagehide", onPageHide);
    window.addEventListener("pageshow", onPageShow);
    this._listeners = { onVisibility, onPageHide, onPageShow };
  }

  _removePageListeners() {
    if (!this._listeners) return;
    document.removeEventListener("visibilitychange", this._listeners.onVisibility);
    window.removeEventListener("pagehide", this._listeners.onPageHide);
    window.removeEventListener("pageshow", this._listeners.onPageShow);
    this._listeners = null;
  }

  _pageAway(reason) {
    if (this.state === States.ended) return;
    this._autoSuspended = true;
    this.suspend(this.options.suspendMs, reason);
  }

  _pageBack() {
    if (!this._autoSuspended || this.state === States.ended) return;
    this.wake();
  }

  // ---- state, events, storage

  _setState(state, detail = {}) {
    if (this.state === state && state !== States.reconnecting) return;
    const previous = this.state;
    this.state = state;
    this._emit("state", { state, previous, ...detail });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _persist() {
    if (!this.storage || this.options.storageKey === null || !this._resumeToken || this.state === States.ended) return;
    const record = {
      url: this.url,
      resumeToken: this._resumeToken,
      sessionId: this.sessionId,
      epoch: this.epoch,
      concurrencyId: this.concurrencyId,
      heartbeat: this.heartbeat,
      reconnectGraceMs: this.reconnectGraceMs,
      savedAt: now(),
      resumableUntil: this._resumableUntilIfLostNow(),
    };
    try {
      this.storage.setItem(`tether:${this.options.storageKey}`, JSON.stringify(record));
    } catch {
      // storage full or disabled: reloads will not resume, nothing else changes
    }
  }

  /** The grace deadline if the connection were lost now (heartbeat timeout or declared absence, then grace). */
  _resumableUntilIfLostNow() {
    const grace = this.reconnectGraceMs ?? 0;
    const away = Math.max(this.heartbeat?.timeoutMs ?? 0, this._paused ? this._expectedMs : 0);
    return now() + away + grace;
  }
}
