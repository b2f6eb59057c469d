// The dashboard's event feed: GET /v1/events with the API key in a header, never in a URL.
//
// It asks for Server-Sent Events (Accept: text/event-stream) and reads them with fetch() and a stream
// reader, parsing the SSE framing by hand (EventSource cannot send an Authorization header). A server that
// answers with a JSON page instead ({events, nextCursor}) is polled once a second. Either way the cursor of
// the last event seen is where the next request resumes (`?after=` and `Last-Event-ID`), so a dropped
// stream loses nothing; a 410 (events pruned past the cursor) restarts from the oldest kept event, skipping
// those already seen.

const PAGE = 1000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Splits an SSE byte stream into events: `{id, event, data}` per blank-line-terminated block. */
export class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.id = null;
    this.event = null;
    this.data = [];
  }

  push(text) {
    this.buffer += text;
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer.slice(start));
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (match[0] === "\r" && start + match.index + 1 === this.buffer.length) break;
      this.line(this.buffer.slice(start, start + match.index));
      start += match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
  }

  line(line) {
    if (line === "") {
      if (this.data.length > 0) this.onEvent({ id: this.id, event: this.event ?? "message", data: this.data.join("\n") });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}

/**
 * Follows /v1/events from `after`, calling `onEvents(events)` in cursor order and `onStatus(text)` when the
 * connection changes ("live (SSE)", "polling", "reconnecting", "unauthorized").
 */
export class EventFeed {
  constructor({ key, after = 0, projectId = null, onEvents, onStatus = () => {} }) {
    this.key = key;
    this.cursor = after; // where the next request starts
    this.delivered = after; // the newest event handed on (never handed on twice)
    this.projectId = projectId;
    this.onEvents = onEvents;
    this.onStatus = onStatus;
    this.mode = null;
    this._abort = null;
  }

  /** Reads every stored event after the cursor as JSON pages (fast catch-up before going live). */
  async catchUp() {
    for (;;) {
      const response = await fetch(this._url(), { headers: this._headers(false), cache: "no-store" });
      if (response.status === 401) throw new Error("unauthorized");
      if (response.status === 410) {
        this.cursor = 0; // pruned meanwhile: from the oldest kept
        continue;
      }
      if (!response.ok) throw new Error(`GET /v1/events: HTTP ${response.status}`);
      const page = await response.json();
      this._deliver(page.events);
      if (page.events.length < PAGE) return;
    }
  }

  start() {
    if (this._abort) return;
    this._abort = new AbortController();
    this._run(this._abort.signal);
  }

  stop() {
    this._abort?.abort();
    this._abort = null;
  }

  _url() {
    const project = this.projectId ? `&projectId=${encodeURIComponent(this.projectId)}` : "";
    return `/v1/events?after=${this.cursor}&limit=${PAGE}${project}`;
  }

  _headers(stream) {
    const headers = { Authorization: `Bearer ${this.key}` };
    if (stream) {
      headers.Accept = "text/event-stream";
      if (this.cursor > 0) headers["Last-Event-ID"] = String(this.cursor);
    }
    return headers;
  }

  _deliver(events) {
    if (events.length > 0) this.cursor = Math.max(this.cursor, events[events.length - 1].cursor);
    const fresh = events.filter((e) => e.cursor > this.delivered);
    if (fresh.length === 0) return;
    this.delivered = fresh[fresh.length - 1].cursor;
    this.onEvents(fresh);
  }

  async _run(signal) {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const response = await fetch(this._url(), { headers: this._headers(true), cache: "no-store", signal });
        if (response.status === 401) {
          this.onStatus("unauthorized");
          return;
        }
        if (response.status === 410) {
          // Retention removed events after our cursor: start again from the oldest kept (seen ones are skipped).
          this.cursor = 0;
          continue;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const type = response.headers.get("content-type") ?? "";
        if (type.startsWith("text/event-stream") && response.body) {
          this.mode = "sse";
          this.onStatus("live (SSE)");
          failures = 0;
          await this._read(response.body, signal);
          if (!signal.aborted) this.onStatus("reconnecting");
        } else {
          if (this.mode !== "poll") this.onStatus("live (polling)");
          this.mode = "poll";
          const page = await response.json();
          this._deliver(page.events ?? []);
          failures = 0;
          if ((page.events ?? []).length < PAGE) await sleep(1000, signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        this.onStatus("reconnecting");
        await sleep(Math.min(10000, 250 * 2 ** failures) * Math.random(), signal);
      }
    }
  }

  async _read(body, signal) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SSEParser((message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (typeof event?.cursor === "number") this._deliver([event]);
    });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || signal.aborted) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } finally {
      reader.releaseLock();
    }
  }
}
