// Tether browser SDK: one dependency-free ES module (served at /sdk/tether.js).
//
//   import { TetherClient } from "/sdk/tether.js";
//   const client = TetherClient.resume() ?? TetherClient.fromSession(createSessionAnswer);
//   client.addEventListener("state", (e) => console.log(e.detail.state, e.detail.reason));
//   client.connect();
//
// It speaks the client channel of docs/PROTOCOL.md over WebSocket and follows the Swift SDK's rules
// (docs/BEHAVIOUR.md "Swift SDK", "Browser SDK"): hello with the client token (or a resume token), a ping
// every heartbeat interval, RTT / jitter / loss from the pongs, `suspend` when the page is hidden or left and
// a ping at once when it is visible again, resume after a loss with exponential backoff and full jitter
// inside the grace window, and the resume token kept in sessionStorage so that a reload resumes. With
// several nodes it goes at once where a `moved` kick sends it (a node that does not serve clients), and tries
// the welcome's `alternates` in turn when its node cannot be reached.
//
// A user who was queued (a 202 from a queued apply, docs/QUEUE.md) waits live with a TetherQueue, then connects
// a TetherClient once its backend created the session:
//
//   const queue = TetherQueue.fromQueued(queuedAnswer);
//   queue.addEventListener("position", (e) => console.log(e.detail.position, e.detail.etaMs));
//   queue.addEventListener("offered", () => askMyBackendForTheSession());
//   queue.start();

/** Client states. `detail.reason` of the `ended` state says why it ended. */
export const States = Object.freeze({
  idle: "idle",
  connecting: "connecting",
  connected: "connected",
  suspended: "suspended",
  reconnecting: "reconnecting",
  ended: "ended",
});

/** Close codes to kick reasons, for a close that came without a `kick` message. */
const CLOSE_REASONS = {
  1000: "left",
  1001: "shutdown",
  1009: "tooLarge",
  1013: "busy",
  4000: "protocolError",
  4001: "badToken",
  4002: "replaced",
  4003: "destroyed",
  4004: "expired",
  4008: "noHello",
  4009: "moved",
  4029: "rateLimited",
  4030: "originNotAllowed",
};

const DEFAULTS = Object.freeze({
  storageKey: "tether",
  suspendMs: 30000,
  autoSuspend: true,
  backoffBaseMs: 250,
  backoffCapMs: 30000,
  reconnectGraceMs: 90000,
  helloTimeoutMs: 10000,
  byeTimeoutMs: 2000,
});

/** The server holds sessions at least this long over a restart (a `shutdown` kick). */
const SHUTDOWN_GRACE_FLOOR_MS = 30000;

/** `moved` kicks followed at once in a row since the last welcome; later ones wait like a loss. */
const MAX_IMMEDIATE_MOVES = 3;

const now = () => Date.now();

function defaultStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled (sandboxed frame, privacy settings)
  }
}

/**
 * What a lost connection means (the Swift SDK's LinkLoss rules): `{terminal: reason}`, `{moved: url}` for a
 * `moved` kick naming the node to use (not a loss), or `{notBefore?, graceFloor?}` for a loss worth a reconnect.
 * @param {{kick?: {reason: string, retryAfterMs?: number, connect?: {websocket: string}}, code?: number}} loss
 */
export function classifyLoss(loss, welcomed, graceMs) {
  const reason = loss.kick?.reason ?? CLOSE_REASONS[loss.code] ?? null;
  switch (reason) {
    case "replaced":
    case "destroyed":
    case "left":
    case "badToken":
    case "originNotAllowed":
      return { terminal: reason };
    case "expired":
      return !welcomed || graceMs === 0 ? { terminal: "expired" } : {};
    case "shutdown":
      return { notBefore: loss.kick?.retryAfterMs ?? null, graceFloor: SHUTDOWN_GRACE_FLOOR_MS };
    case "moved": {
      // Without a node to follow (close 4009 alone, a kick without `connect`): come back as after any loss.
      const url = loss.kick?.connect?.websocket;
      return typeof url === "string" && url !== "" ? { moved: url } : {};
    }
    case "busy":
      // over the server's hello rate: come back when it says; the session was not touched
      return { notBefore: loss.kick?.retryAfterMs ?? null };
    case "protocolError":
    case "tooLarge":
    case "noHello":
    case "rateLimited":
      return { terminal: "protocolError" };
    default:
      return {}; // 1006, 1011, refused, the client's own timeouts: come back
  }
}

/**
 * Decides after each loss whether and when to reconnect: a window of the session's grace (at least 30 s after
 * a shutdown kick, plus a declared absence) opened at the first loss since the last welcome; attempt n waits
 * uniform(0, min(cap, base·2^(n-1))), cut to the window's end, never less than a `retryAfterMs`. A `moved`
 * kick is followed at once and is not a loss (no attempt, no window), unless more than 3 came since the last
 * welcome: two nodes pointing at each other (a takeover under way) then get the backoff instead of a tight loop.
 */
export class ReconnectPlanner {
  constructor({ baseMs = DEFAULTS.backoffBaseMs, capMs = DEFAULTS.backoffCapMs, graceMs = DEFAULTS.reconnectGraceMs } = {}) {
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.graceMs = graceMs;
    this.attempt = 0;
    this.windowEnd = null;
    /** `moved` kicks since the last welcome. */
    this.moves = 0;
  }

  welcomed(graceMs) {
    if (graceMs != null) this.graceMs = graceMs;
    this.attempt = 0;
    this.windowEnd = null;
    this.moves = 0;
  }

  ceiling(attempt) {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.max(0, attempt - 1));
  }

  /**
   * `{reconnect: {attempt, delayMs}}`, `{follow: {url, delayMs: 0}}` or `{end: reason}` for a loss of kind
   * `kind` (classifyLoss) at `at`.
   */
  lost(kind, at, unit = Math.random(), awayMs = 0) {
    if (kind.terminal) return { end: kind.terminal };
    if (kind.moved) {
      this.moves += 1;
      if (this.moves <= MAX_IMMEDIATE_MOVES) return { follow: { url: kind.moved, delayMs: 0 } };
      kind = {}; // moved back and forth: wait like any other loss
    }
    const window = Math.max(this.graceMs, kind.graceFloor ?? 0) + awayMs;
    let end = this.windowEnd ?? at + window;
    if (kind.graceFloor) end = Math.max(end, at + window);
    this.windowEnd = end;
    if (at >= end) return { end: "graceExpired" };
    this.attempt += 1;
    let delayMs = Math.min(Math.floor(this.ceiling(this.attempt) * Math.min(Math.max(unit, 0), 1)), end - at);
    if (kind.notBefore != null) {
      if (at + kind.notBefore >= end) return { end: "graceExpired" };
      delayMs = Math.max(delayMs, kind.notBefore);
    }
    return { reconnect: { attempt: this.attempt, delayMs } };
  }
}

/**
 * Where a client connects, among the cluster's nodes (the Swift SDK's EndpointRoster). Pure: the client says
 * what happened, the roster says where to go. The first node is CreateSession's `connect.websocket`; a welcome
 * makes the list the welcoming node followed by its `alternates`, in order; a `moved` kick puts the named node
 * first; when the node in use cannot be reached (the socket closed before it opened, no welcome in time, or it
 * went silent) the next attempt goes to the next node, wrapping around. Any other loss retries the same node.
 */
export class EndpointRoster {
  /** @param {string} url the first node's WebSocket address */
  constructor(url) {
    this._urls = [url];
    this._index = 0;
  }

  /** The WebSocket address to connect to now. */
  get current() {
    return this._urls[this._index];
  }

  /** The nodes to try, the one in use first after each welcome or move. */
  get urls() {
    return [...this._urls];
  }

  /** A welcome from `current`: it, then the `websocket` of each of `alternates` (no repeats). */
  welcomed(alternates) {
    const home = this.current;
    this._urls = [home];
    for (const connect of Array.isArray(alternates) ? alternates : []) {
      const url = connect?.websocket;
      if (typeof url === "string" && url !== "" && !this._urls.includes(url)) this._urls.push(url);
    }
    this._index = 0;
  }

  /** A `moved` kick: `url` goes first, the others keep their order. */
  moved(url) {
    this._urls = [url, ...this._urls.filter((u) => u !== url)];
    this._index = 0;
  }

  /** `current` could not be reached: the next node (the same one when there is no other). */
  unreachable() {
    this._index = (this._index + 1) % this._urls.length;
  }
}

/** What both clients share: state changes told as `state` events, events with a detail, and dropping a socket. */
class SocketOwner extends EventTarget {
  /** Moves to `state` and tells the listeners; `repeatable` is the one state told again when it repeats. */
  _changeState(state, detail, repeatable) {
    if (this.state === state && state !== repeatable) return;
    const previous = this.state;
    this.state = state;
    this._emit("state", { state, previous, ...detail });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Forgets the current socket (its late events are ignored) and closes it. */
  _dropSocket() {
    if (!this._ws) return;
    const ws = this._ws;
    this._ws = null;
    this._detach(ws);
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
  }
}

/**
 * A session's client: one WebSocket at a time, resumed with the resume token while the session is held.
 *
 * Events (an EventTarget; `event.detail` carries the data):
 * - `state`   `{state, previous, reason?, attempt?, delayMs?}` on every change of `client.state`;
 * - `welcome` the server's welcome (sessionId, epoch, concurrencyId, heartbeat, resumeToken, ...);
 * - `pong`    `{seq, rttMs}` for every answered heartbeat;
 * - `kick`    `{reason, retryAfterMs, connect}` as the server sent it (`connect`: a `moved` kick's node, else null);
 * - `moved`   `{url}` when the client follows a `moved` kick to another node (no `reconnecting` attempt).
 */
export class TetherClient extends SocketOwner {
  /**
   * @param {object} options
   * @param {string} options.url            the `connect.websocket` address of CreateSession's answer
   * @param {string[]} [options.alternates] other nodes' WebSocket addresses to try (a welcome replaces them)
   * @param {string} [options.token]        the client token (a new session or epoch)
   * @param {string} [options.resumeToken]  a resume token from a welcome (to resume instead)
   * @param {number} [options.reconnectGraceMs] the grace window until a welcome says it (90000)
   * @param {string|null} [options.storageKey] sessionStorage key suffix ("tether"); null: no storage
   * @param {Storage} [options.storage]     where the resume state is kept (sessionStorage)
   * @param {number} [options.suspendMs]    `expectedMs` declared when the page is hidden or left (30000)
   * @param {boolean} [options.autoSuspend] suspend on visibilitychange/pagehide, end it when visible (true)
   * @param {number} [options.backoffBaseMs] ceiling of the first reconnect delay (250)
   * @param {number} [options.backoffCapMs] largest ceiling of a reconnect delay (30000)
   * @param {number} [options.helloTimeoutMs] a connection without a welcome this long is dropped (10000)
   */
  constructor(options) {
    super();
    if (!options || typeof options.url !== "string") throw new TypeError("TetherClient: options.url is required");
    if (!options.token && !options.resumeToken) throw new TypeError("TetherClient: a token or resumeToken is required");
    this.options = { ...DEFAULTS, ...options };
    this._roster = new EndpointRoster(options.url);
    if (Array.isArray(options.alternates)) this._roster.welcomed(options.alternates.map((websocket) => ({ websocket })));
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this._token = options.token ?? null;
    this._resumeToken = options.resumeToken ?? null;
    /** One of States. */
    this.state = States.idle;
    /** Why the client ended (when `state` is "ended"). */
    this.endReason = null;
    this.sessionId = options.sessionId ?? null;
    this.epoch = options.epoch ?? null;
    this.concurrencyId = options.concurrencyId ?? null;
    this.heartbeat = options.heartbeat ?? null;
    this.reconnectGraceMs = options.reconnectGraceMs ?? null;
    /** Answered heartbeats (pongs). */
    this.heartbeats = 0;
    /** Last RTT, smoothed RTT (TCP's 1/8), jitter (RFC 3550's 1/16), lost / (lost + answered). */
    this.rttMs = null;
    this.smoothedRttMs = null;
    this.jitterMs = null;
    this.lossRate = 0;
    this.lost = 0;
    /** Connections after the first. */
    this.reconnects = 0;

    this._planner = new ReconnectPlanner({
      baseMs: this.options.backoffBaseMs,
      capMs: this.options.backoffCapMs,
      graceMs: this.reconnectGraceMs ?? this.options.reconnectGraceMs,
    });
    this._ws = null;
    this._seq = 0;
    this._pending = new Map(); // seq -> {at: performance.now(), t}
    this._openedAt = 0;
    this._lastInboundAt = 0;
    this._heartbeatTimer = null;
    this._watchTimer = null;
    this._retryTimer = null;
    this._kick = null;
    this._welcomedOnSocket = false;
    this._everWelcomed = false;
    this._suspended = false; // declared; no heartbeats
    this._expectedMs = 0;
    this._byPage = false; // the suspension is the page's (hidden / pagehide)
    this._waitingForPage = false; // lost while the page was hidden: reconnect when visible
    this._listeners = null;
  }

  /** The WebSocket address the client connects to now (the roster's current node). */
  get url() {
    return this._roster.current;
  }

  /** A client for CreateSession's answer (`{clientToken, connect: {websocket}, ...}`): its node first. */
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

  /** The record sessionStorage holds for `storageKey` when its window has not passed; else null. */
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

  /** A client resuming the session kept in sessionStorage (after a reload), or null when there is none. */
  static resume(options = {}) {
    const storageKey = options.storageKey === undefined ? DEFAULTS.storageKey : options.storageKey;
    const storage = options.storage === undefined ? defaultStorage() : options.storage;
    const record = TetherClient.stored(storageKey, storage);
    if (!record) return null;
    return new TetherClient({
      ...options,
      url: record.url,
      alternates: Array.isArray(record.alternates) ? record.alternates.filter((url) => typeof url === "string") : [],
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
    this._open(States.connecting);
    return this;
  }

  /**
   * Declares an absence of about `expectedMs` ("background", "pagehide" or "networkChange"). Heartbeats stop
   * (any message would end the suspension) until `endSuspension()`.
   */
  suspend(expectedMs = this.options.suspendMs, reason = "background") {
    if (this.state === States.ended || this.state === States.idle) return;
    this._suspended = true;
    this._expectedMs = Math.max(1, Math.round(expectedMs));
    this._stopHeartbeats();
    if (this._socketOpen() && this._welcomedOnSocket) {
      this._send({ type: "suspend", expectedMs: this._expectedMs, reason });
      this._setState(States.suspended, { reason });
    }
    this._persist();
  }

  /** Ends a suspension: a ping at once (which ends it on the server), then heartbeats again. */
  endSuspension() {
    if (this.state === States.ended) return;
    this._suspended = false;
    this._byPage = false;
    this._expectedMs = 0;
    if (this._socketOpen() && this._welcomedOnSocket) {
      this._setState(States.connected);
      this._startHeartbeats();
    } else if (this._waitingForPage) {
      this._waitingForPage = false;
      this._lost({}, false);
    }
    this._persist();
  }

  /** Closes the connection without `bye` (the network changed, say): the client resumes as after any loss. */
  dropConnection() {
    const ws = this._ws;
    if (!ws || this.state === States.ended) return;
    this._detach(ws);
    this._ws = null;
    ws.close(1000, "drop");
    this._lost({}, this._welcomedOnSocket);
  }

  /** Leaves: sends `bye` (the session ends, the concurrency is free at once) and closes. */
  close() {
    if (this.state === States.ended) return;
    const ws = this._ws;
    if (ws) {
      this._ws = null;
      this._detach(ws);
      if (ws.readyState === WebSocket.OPEN && this._welcomedOnSocket) {
        this._send({ type: "bye" }, ws);
        setTimeout(() => ws.readyState !== WebSocket.CLOSED && ws.close(1000, "bye"), this.options.byeTimeoutMs);
      } else {
        ws.close(1000, "bye");
      }
    }
    this._end("left");
  }

  /** Connection quality in one object. */
  get stats() {
    return {
      heartbeats: this.heartbeats,
      rttMs: this.rttMs,
      smoothedRttMs: this.smoothedRttMs,
      jitterMs: this.jitterMs,
      lost: this.lost,
      lossRate: this.lossRate,
      reconnects: this.reconnects,
    };
  }

  // ---- the socket

  /** Connects to the roster's current node; `state` null keeps the state (following a `moved` kick). */
  _open(state, detail = {}) {
    if (state !== null) this._setState(state, detail);
    this._kick = null;
    this._welcomedOnSocket = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      // A malformed address: fatal when it is the only one; an alternate's is a node that cannot be reached.
      if (this._roster.urls.length === 1) this._end("badUrl", { error: String(error) });
      else this._lost({ why: "badUrl", unreachable: true }, false);
      return;
    }
    this._ws = ws;
    this._openedAt = now();
    this._lastInboundAt = now();
    let opened = false; // per socket: closed before it opened = the node could not be reached
    ws.onopen = () => {
      opened = true;
      const hello = this._resumeToken ? { type: "hello", resumeToken: this._resumeToken } : { type: "hello", token: this._token };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => this._receive(ws, event.data);
    ws.onclose = (event) => {
      if (ws !== this._ws) return;
      this._detach(ws);
      this._ws = null;
      this._lost({ kick: this._kick, code: event.code, unreachable: !opened }, this._welcomedOnSocket);
    };
    ws.onerror = () => {}; // a close event follows
    this._startWatch();
  }

  _detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    this._pending.clear(); // in flight when the connection ended: its loss is reported instead
    this._stopHeartbeats();
    this._stopWatch();
  }

  _socketOpen() {
    return this._ws !== null && this._ws.readyState === WebSocket.OPEN;
  }

  _send(message, ws = this._ws) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
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
      case "ping": // servers ping over TCP only; answered anyway
        this._send({ type: "pong", seq: message.seq, t: message.t });
        break;
      case "kick":
        this._kick = { reason: message.reason, retryAfterMs: message.retryAfterMs ?? null, connect: message.connect ?? null };
        this._emit("kick", this._kick);
        break;
    }
  }

  _welcome(w) {
    if (this._everWelcomed) this.reconnects += 1;
    this._everWelcomed = true;
    this._welcomedOnSocket = true;
    this.sessionId = w.sessionId;
    this.epoch = w.epoch;
    this.concurrencyId = w.concurrencyId;
    this.heartbeat = w.heartbeat;
    if (w.reconnectGraceMs != null) this.reconnectGraceMs = w.reconnectGraceMs;
    this._planner.welcomed(w.reconnectGraceMs);
    this._roster.welcomed(w.alternates ?? []);
    this._resumeToken = w.resumeToken; // every welcome brings the next one (the spent one lapses)
    this._token = null;
    this._emit("welcome", w);
    if (this.options.autoSuspend && typeof document !== "undefined" && document.visibilityState === "hidden") {
      this._suspended = true;
      this._byPage = true;
    }
    if (this._suspended) {
      // Still away: declare it again on this connection (a resume makes the session connected).
      this._expectedMs = this._expectedMs || this.options.suspendMs;
      this._send({ type: "suspend", expectedMs: this._expectedMs, reason: "background" });
      this._setState(States.suspended, { reason: "background" });
    } else {
      this._setState(States.connected);
      this._startHeartbeats();
    }
    this._persist();
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
    this.smoothedRttMs = this.smoothedRttMs === null ? rtt : this.smoothedRttMs + (rtt - this.smoothedRttMs) / 8;
    this.rttMs = rtt;
    this.heartbeats += 1;
    this.lossRate = this.lost / (this.lost + this.heartbeats);
    this._persist();
    this._emit("pong", { seq: p.seq, rttMs: rtt });
  }

  /**
   * After any loss: end, follow a `moved` kick at once, wait for the page, or reconnect after the planner's
   * delay (to the next node when this one could not be reached: `loss.unreachable`).
   */
  _lost(loss, welcomed) {
    if (this.state === States.ended) return;
    const kind = classifyLoss(loss, welcomed, this.reconnectGraceMs ?? this.options.reconnectGraceMs);
    const why = loss.kick?.reason ?? CLOSE_REASONS[loss.code] ?? loss.why ?? "closed";
    // Where the next attempt goes; a 4th move in a row still goes there, after the backoff.
    if (kind.moved) this._roster.moved(kind.moved);
    else if (loss.unreachable) this._roster.unreachable();
    const away = this._suspended ? Math.max(this._expectedMs, this.heartbeat?.timeoutMs ?? 0) : 0;
    const decision = this._planner.lost(kind, now(), Math.random(), away);
    if (decision.end) {
      this._end(decision.end, { lastReason: why, code: loss.code ?? null });
      return;
    }
    if (decision.follow) {
      // Not a loss: the node answered the hello, and the session was not touched. Connecting or reconnecting
      // stays as it was (no attempt is counted); only a welcomed connection that is moved shows reconnecting.
      this._emit("moved", { url: decision.follow.url });
      this._open(this.state === States.connected ? States.reconnecting : null, { reason: "moved" });
      return;
    }
    if (this._suspended && this._byPage) {
      // A hidden page lost its socket: stay suspended and come back when it is visible (within the window).
      this._waitingForPage = true;
      this._planner.attempt -= 1; // the window is open; no attempt was made
      this._setState(States.suspended, { reason: "background" });
      return;
    }
    const { attempt, delayMs } = decision.reconnect;
    this._setState(States.reconnecting, { reason: why, attempt, delayMs });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (this.state === States.reconnecting) this._open(States.reconnecting, { reason: why, attempt });
    }, delayMs);
  }

  _end(reason, extra = {}) {
    if (this.state === States.ended) return;
    this.endReason = reason;
    this._stopHeartbeats();
    this._stopWatch();
    if (this._retryTimer !== null) clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._dropSocket();
    this._removePageListeners();
    if (this.storage && this.options.storageKey !== null) TetherClient.forget(this.options.storageKey, this.storage);
    this._setState(States.ended, { reason, ...extra });
  }

  // ---- heartbeats and the client's own loss detection

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

  /**
   * Once a second: pings unanswered for the heartbeat timeout are lost; a connection without a welcome
   * after `helloTimeoutMs`, or silent for the heartbeat timeout, is dropped and resumed. While suspended,
   * silence is not judged: the server's WebSocket pings, which keep a background tab alive, are invisible
   * to scripts.
   */
  _startWatch() {
    this._stopWatch();
    this._watchTimer = setInterval(() => {
      const timeout = this.heartbeat?.timeoutMs ?? 15000;
      const limit = performance.now() - timeout;
      for (const [seq, sent] of this._pending) {
        if (sent.at < limit) {
          this._pending.delete(seq);
          this.lost += 1;
          this.lossRate = this.lost / (this.lost + this.heartbeats);
        }
      }
      const ws = this._ws;
      if (!ws) return;
      let why = null;
      if (!this._welcomedOnSocket && now() - this._openedAt > this.options.helloTimeoutMs) why = "helloTimeout";
      else if (this._welcomedOnSocket && !this._suspended && now() - this._lastInboundAt > timeout) why = "timeout";
      if (why === null) return;
      const welcomed = this._welcomedOnSocket;
      this._detach(ws);
      this._ws = null;
      ws.close(4000, why);
      this._lost({ why, unreachable: true }, welcomed); // the next attempt tries the next node
    }, 1000);
  }

  _stopWatch() {
    if (this._watchTimer !== null) clearInterval(this._watchTimer);
    this._watchTimer = null;
  }

  // ---- the page's lifecycle

  _installPageListeners() {
    if (!this.options.autoSuspend || this._listeners || typeof document === "undefined") return;
    const onVisibility = () => (document.visibilityState === "hidden" ? this._pageAway("background") : this._pageBack());
    const onPageHide = () => this._pageAway("pagehide");
    const onPageShow = (event) => event.persisted && this._pageBack();
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
    if (this.state === States.ended || (this._suspended && !this._byPage)) return; // the app's own suspension stands
    this._byPage = true;
    this.suspend(this.options.suspendMs, reason);
  }

  _pageBack() {
    if (this._byPage && this.state !== States.ended) this.endSuspension();
  }

  // ---- state, events, storage

  _setState(state, detail = {}) {
    this._changeState(state, detail, States.reconnecting);
  }

  /** Saves what a reload needs to resume, and until when a resume can work. */
  _persist() {
    if (!this.storage || this.options.storageKey === null || !this._resumeToken || this.state === States.ended) return;
    const grace = this.reconnectGraceMs ?? this.options.reconnectGraceMs;
    const away = Math.max(this.heartbeat?.timeoutMs ?? 0, this._suspended ? this._expectedMs : 0);
    // The nodes in the order they would be tried from the current one, for a reload after it died.
    const urls = this._roster.urls;
    const at = urls.indexOf(this.url);
    const record = {
      url: this.url,
      alternates: [...urls.slice(at + 1), ...urls.slice(0, at)],
      resumeToken: this._resumeToken,
      sessionId: this.sessionId,
      epoch: this.epoch,
      concurrencyId: this.concurrencyId,
      heartbeat: this.heartbeat,
      reconnectGraceMs: this.reconnectGraceMs,
      savedAt: now(),
      resumableUntil: now() + away + grace,
    };
    try {
      this.storage.setItem(`tether:${this.options.storageKey}`, JSON.stringify(record));
    } catch {
      // storage full or disabled: a reload will not resume; nothing else changes
    }
  }
}

/** Queue states (`queue.state`). */
export const QueueStates = Object.freeze({
  connecting: "connecting",
  waiting: "waiting",
  offered: "offered",
  taken: "taken",
  left: "left",
  closed: "closed",
});

const QUEUE_DEFAULTS = Object.freeze({
  pingMs: 3000,
  timeoutMs: 10000,
});

/**
 * What the loss of a queued client's connection means (the Swift SDK's TetherQueueWaiter): `{taken: true}` when
 * the server ended it with `left` after an offer (the backend created the session), `{terminal: reason}` when
 * the ticket left otherwise (`expired` always ends a ticket: its offer lapsed or its client was silent too
 * long), else as classifyLoss: `{moved: url}`, or `{notBefore?, graceFloor?}` for a loss worth a reconnect
 * with the same queue token (`shutdown` and `busy` after their `retryAfterMs`; the ticket keeps its place).
 * @param {{kick?: {reason: string, retryAfterMs?: number, connect?: {websocket: string}}, code?: number}} loss
 * @param {boolean} offered whether the ticket was offered a concurrency
 */
export function classifyQueueLoss(loss, offered) {
  const kind = classifyLoss(loss, false, 0);
  if (kind.terminal === "left") return offered ? { taken: true } : { terminal: "left" };
  return kind;
}

/**
 * Waits live in a full pool's queue (docs/QUEUE.md "Live queued clients"; the Swift SDK's TetherQueueWaiter):
 * connects to the client plane with the `queueToken` of a queued apply (202), sends `hello {queueToken}`,
 * pings every `pingMs`, and reports the ticket's place and its offer. After a drop it reconnects with the same
 * token, with TetherClient's backoff and window (ReconnectPlanner), so that the ticket keeps its place (the
 * server takes it out after the project's `queue.clientTimeoutMs` of silence); a `shutdown` or `busy` kick waits
 * its `retryAfterMs`, a `moved` kick goes at once to the node it names. The backend, told of the offer, creates
 * the session (which takes the offer) and the page connects a TetherClient with its client token.
 *
 * Events (an EventTarget; `event.detail` carries the data):
 * - `position` `{ticketId, position, etaMs}` when the server says where the ticket is (at each connection, and
 *              whenever the place or the estimate changes; 1 is next);
 * - `offered`  `{concurrencyId, reservedUntil}` once per offer: a concurrency is held for the user until
 *              `reservedUntil` (Unix ms); a reconnect that is told the same offer again does not repeat it;
 * - `taken`    the server ended the queue's connection with `left` after the offer: the session was created;
 * - `left`     `{reason}` the ticket ended otherwise: the kick's reason (`destroyed`: cancelled or the project
 *              deleted, `expired`: the offer lapsed or the client was silent, `replaced`, `badToken`,
 *              `protocolError`, `left`), `graceExpired` when the server could not be reached again within the
 *              window, `badUrl`;
 * - `state`    `{state, previous, reason?, attempt?, delayMs?}` on every change of `queue.state` (a reconnect
 *              shows `connecting` with its attempt and delay).
 */
export class TetherQueue extends SocketOwner {
  /**
   * @param {object} options
   * @param {string} options.queueToken     the `queueToken` of the queued apply (202)
   * @param {string} options.url            the 202's `connect.websocket` address
   * @param {number} [options.pingMs]       how often it pings the server (3000)
   * @param {number} [options.timeoutMs]    a hello or a ping unanswered this long drops the connection (10000)
   * @param {number} [options.reconnectGraceMs] how long it tries to reach the server again after a loss (90000)
   * @param {number} [options.backoffBaseMs] ceiling of the first reconnect delay (250)
   * @param {number} [options.backoffCapMs] largest ceiling of a reconnect delay (30000)
   * @param {string} [options.ticketId]     the 202's ticket, position and estimate, shown until the server's
   * @param {number} [options.position]
   * @param {number} [options.etaMs]
   */
  constructor(options) {
    super();
    if (!options || typeof options.queueToken !== "string" || options.queueToken === "") {
      throw new TypeError("TetherQueue: options.queueToken is required");
    }
    if (typeof options.url !== "string") throw new TypeError("TetherQueue: options.url is required");
    this.options = { ...DEFAULTS, ...options };
    this.options.pingMs = options.pingMs ?? QUEUE_DEFAULTS.pingMs;
    this.options.timeoutMs = options.timeoutMs ?? QUEUE_DEFAULTS.timeoutMs;
    this.queueToken = options.queueToken;
    this._roster = new EndpointRoster(options.url);
    /** One of QueueStates: `connecting` until the server answers the hello, and again while reconnecting. */
    this.state = QueueStates.connecting;
    /** The kick reason (or `graceExpired`, `badUrl`) when `state` is "left". */
    this.endReason = null;
    this.ticketId = options.ticketId ?? null;
    /** 1 is next; 0 once offered (as the queue list shows it). */
    this.position = options.position ?? null;
    this.etaMs = options.etaMs ?? null;
    /** `{concurrencyId, reservedUntil}` once offered, else null. */
    this.offer = null;
    /** Connections after the first. */
    this.reconnects = 0;

    this._planner = new ReconnectPlanner({
      baseMs: this.options.backoffBaseMs,
      capMs: this.options.backoffCapMs,
      graceMs: this.options.reconnectGraceMs,
    });
    this._started = false;
    this._ws = null;
    this._seq = 0;
    this._openedAt = 0;
    this._unansweredSince = null; // the first ping sent since the server last said anything
    this._answeredOnSocket = false; // the server answered this connection's hello (queued or offered)
    this._everAnswered = false;
    this._kick = null;
    this._pingTimer = null;
    this._watchTimer = null;
    this._retryTimer = null;
  }

  /** A queue for a queued apply's answer (`{ticketId, position, etaMs, queueToken, connect: {websocket}}`). */
  static fromQueued(queued, options = {}) {
    return new TetherQueue({
      ...options,
      queueToken: queued.queueToken,
      url: queued.connect.websocket,
      ticketId: queued.ticketId,
      position: queued.position,
      etaMs: queued.etaMs,
    });
  }

  /** The WebSocket address the queue connects to now. */
  get url() {
    return this._roster.current;
  }

  /** Whether the queue is over (`taken`, `left` or `closed`). */
  get ended() {
    return this.state === QueueStates.taken || this.state === QueueStates.left || this.state === QueueStates.closed;
  }

  /** Connects (once; later connections are the queue's own reconnects). */
  start() {
    if (this._started || this.ended) return this;
    this._started = true;
    this._open();
    return this;
  }

  /**
   * Leaves: sends `bye` (the ticket leaves the queue at once, an offer goes to the next ticket) and closes. Without
   * a connection answered by the server (connecting, waiting to reconnect) it only closes: the ticket then leaves
   * after the project's `queue.clientTimeoutMs`.
   */
  close() {
    if (this.ended) return;
    const ws = this._ws;
    if (ws) {
      this._ws = null;
      this._detach(ws);
      if (ws.readyState === WebSocket.OPEN && this._answeredOnSocket) {
        ws.send(JSON.stringify({ type: "bye" }));
        setTimeout(() => ws.readyState !== WebSocket.CLOSED && ws.close(1000, "bye"), this.options.byeTimeoutMs);
      } else {
        ws.close(1000, "bye");
      }
    }
    this._end(QueueStates.closed, {});
  }

  // ---- the socket

  _open() {
    this._kick = null;
    this._answeredOnSocket = false;
    this._unansweredSince = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      if (this._roster.urls.length === 1) this._left("badUrl", { error: String(error) });
      else this._lost({ why: "badUrl", unreachable: true });
      return;
    }
    this._ws = ws;
    this._openedAt = now();
    let opened = false; // per socket: closed before it opened = the node could not be reached
    ws.onopen = () => {
      opened = true;
      ws.send(JSON.stringify({ type: "hello", queueToken: this.queueToken }));
    };
    ws.onmessage = (event) => this._receive(ws, event.data);
    ws.onclose = (event) => {
      if (ws !== this._ws) return;
      this._detach(ws);
      this._ws = null;
      this._lost({ kick: this._kick, code: event.code, unreachable: !opened });
    };
    ws.onerror = () => {}; // a close event follows
    this._startWatch();
  }

  _detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    this._stopPings();
    this._stopWatch();
  }

  _send(message) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) this._ws.send(JSON.stringify(message));
  }

  _receive(ws, data) {
    if (ws !== this._ws || typeof data !== "string") return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    this._unansweredSince = null; // the server is there
    switch (message.type) {
      case "queued":
        this._answered();
        this.ticketId = message.ticketId ?? this.ticketId;
        this.position = message.position ?? null;
        this.etaMs = message.etaMs ?? null;
        if (this.state !== QueueStates.offered) this._setState(QueueStates.waiting);
        this._emit("position", { ticketId: this.ticketId, position: this.position, etaMs: this.etaMs });
        break;
      case "offered": {
        this._answered();
        const offer = { concurrencyId: message.concurrencyId, reservedUntil: message.reservedUntil };
        const fresh = this.offer === null || this.offer.concurrencyId !== offer.concurrencyId
          || this.offer.reservedUntil !== offer.reservedUntil;
        this.offer = offer;
        this.position = 0;
        this.etaMs = 0;
        this._setState(QueueStates.offered);
        if (fresh) this._emit("offered", { ...offer });
        break;
      }
      case "ping": // servers ping over TCP only; answered anyway
        this._send({ type: "pong", seq: message.seq, t: message.t });
        break;
      case "kick":
        this._kick = { reason: message.reason, retryAfterMs: message.retryAfterMs ?? null, connect: message.connect ?? null };
        break;
    }
  }

  /** The first answer (`queued` or `offered`) on a connection: as a session's welcome, it resets the backoff. */
  _answered() {
    if (this._answeredOnSocket) return;
    if (this._everAnswered) this.reconnects += 1;
    this._everAnswered = true;
    this._answeredOnSocket = true;
    this._planner.welcomed();
    this._roster.welcomed([]);
    this._startPings();
  }

  /** After any loss: taken, left, follow a `moved` kick at once, or reconnect after the planner's delay. */
  _lost(loss) {
    if (this.ended) return;
    const kind = classifyQueueLoss(loss, this.offer !== null);
    const why = loss.kick?.reason ?? CLOSE_REASONS[loss.code] ?? loss.why ?? "closed";
    if (kind.taken) {
      this._end(QueueStates.taken, {});
      this._emit("taken", { ...this.offer });
      return;
    }
    if (kind.moved) this._roster.moved(kind.moved);
    else if (loss.unreachable) this._roster.unreachable();
    const decision = this._planner.lost(kind, now(), Math.random());
    if (decision.end) {
      this._left(decision.end, { lastReason: why, code: loss.code ?? null });
      return;
    }
    if (decision.follow) {
      this._open(); // not a loss: the state stays as it was
      return;
    }
    const { attempt, delayMs } = decision.reconnect;
    this._setState(QueueStates.connecting, { reason: why, attempt, delayMs });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (!this.ended) this._open();
    }, delayMs);
  }

  _left(reason, extra = {}) {
    this._end(QueueStates.left, { reason, ...extra });
    this._emit("left", { reason });
  }

  _end(state, detail) {
    if (this.ended) return;
    if (state === QueueStates.left) this.endReason = detail.reason;
    this._stopPings();
    this._stopWatch();
    if (this._retryTimer !== null) clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._dropSocket();
    this._setState(state, detail);
  }

  // ---- heartbeats and the queue's own loss detection

  _startPings() {
    this._stopPings();
    const beat = () => {
      this._ping();
      this._pingTimer = setTimeout(beat, this.options.pingMs);
    };
    beat();
  }

  _stopPings() {
    if (this._pingTimer !== null) clearTimeout(this._pingTimer);
    this._pingTimer = null;
  }

  _ping() {
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN) return;
    this._seq += 1;
    const t = now();
    if (this._unansweredSince === null) this._unansweredSince = t;
    this._send({ type: "ping", seq: this._seq, t });
  }

  /**
   * Once a second: a connection whose hello is unanswered after `timeoutMs`, or whose ping has had no answer
   * (nor any other message) for `timeoutMs`, is dropped and the queue reconnects. Silence alone is not judged:
   * a hidden page's timers are throttled, so its pings may go out late.
   */
  _startWatch() {
    this._stopWatch();
    this._watchTimer = setInterval(() => {
      const ws = this._ws;
      if (!ws) return;
      const timeout = this.options.timeoutMs;
      let why = null;
      if (!this._answeredOnSocket && now() - this._openedAt > timeout) why = "helloTimeout";
      else if (this._unansweredSince !== null && now() - this._unansweredSince > timeout) why = "timeout";
      if (why === null) return;
      this._detach(ws);
      this._ws = null;
      ws.close(4000, why);
      this._lost({ why, unreachable: true });
    }, 1000);
  }

  _stopWatch() {
    if (this._watchTimer !== null) clearInterval(this._watchTimer);
    this._watchTimer = null;
  }

  // ---- state, events

  _setState(state, detail = {}) {
    this._changeState(state, detail, QueueStates.connecting);
  }
}
