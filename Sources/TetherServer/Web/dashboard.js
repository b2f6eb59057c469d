// The dashboard: every project's pool and sessions and the latest events, live.
//
// The page holds no data and needs no key to load; it asks for the API key, keeps it in this tab's
// sessionStorage and sends it as `Authorization: Bearer` with fetch() (never in a URL). State changes come
// from the event feed (feed.js: SSE over fetch, or polling); each event refreshes its project's counts and
// sessions. Heartbeat ages, RTTs and countdowns are not events: they are re-read every few seconds and the
// countdowns tick locally. Each project's pool is plotted over the last hour (charts.js: the server's samples,
// GET /v1/projects/{id}/history, re-read every 30 s, plus the counts read live in between); the node's RTT and
// detection-lateness histograms come from /metrics every 5 s.
import { EventFeed } from "/dashboard/feed.js";
import { poolChart, parseHistogram, histogramChart } from "/dashboard/charts.js";

const KEY = "tether-dashboard:key";
const MAX_EVENTS = 100;
const HISTORY_REREAD_MS = 30_000;
const $ = (id) => document.getElementById(id);

const board = {
  key: null,
  projects: new Map(), // id -> {project, counts, sessions: [], stats: Map(sessionId -> stats)}
  events: [],
  feed: null,
  timers: [],
  pending: new Set(), // project ids waiting for a refresh
  refreshTimer: null,
  metrics: null, // the last /metrics text
};

// ---- DOM helpers (text only: user ids and event data are never parsed as HTML)

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function seconds(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

// ---- the API

class Unauthorized extends Error {}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${board.key}` }, cache: "no-store" });
  if (response.status === 401) throw new Unauthorized("the API key was refused");
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${path}: ${body?.error?.code ?? response.status}`);
  return body;
}

async function refreshProject(id) {
  let project, counts, list;
  try {
    [project, counts, list] = await Promise.all([
      api(`/v1/projects/${encodeURIComponent(id)}`),
      api(`/v1/projects/${encodeURIComponent(id)}/concurrency`),
      api(`/v1/projects/${encodeURIComponent(id)}/sessions`),
    ]);
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
    board.projects.delete(id); // deleted meanwhile
    return;
  }
  const entry = board.projects.get(id) ?? { stats: new Map(), history: [], historyAt: 0 };
  entry.project = project;
  entry.counts = counts;
  await refreshHistory(id, entry, counts);
  entry.sessions = list.sessions;
  // RTT is per session (GET /v1/sessions/{id}); read it for the sessions that have had a connection.
  const live = list.sessions.filter((s) => s.state !== "created").slice(0, 50);
  const stats = await Promise.all(
    live.map((s) => api(`/v1/sessions/${encodeURIComponent(s.sessionId)}`).then((d) => d.stats).catch(() => null)),
  );
  entry.stats = new Map(live.map((s, i) => [s.sessionId, stats[i]]));
  board.projects.set(id, entry);
}

/** The pool over the last hour: the server's samples every 30 s, the live counts appended in between. */
async function refreshHistory(id, entry, counts) {
  const now = Date.now();
  if (now - entry.historyAt >= HISTORY_REREAD_MS) {
    try {
      const history = await api(`/v1/projects/${encodeURIComponent(id)}/history`);
      entry.history = history.samples;
      entry.historyAt = now;
      return;
    } catch (error) {
      if (error instanceof Unauthorized) throw error;
    }
  }
  const last = entry.history[entry.history.length - 1];
  const sample = { ...counts, at: now, queued: last?.queued ?? 0 };
  if (last && now - last.at < 1000) entry.history[entry.history.length - 1] = sample;
  else entry.history.push(sample);
  entry.history = entry.history.filter((s) => s.at > now - 3_600_000);
}

async function refreshMetrics() {
  const response = await fetch("/metrics", { cache: "no-store" });
  if (!response.ok) throw new Error(`/metrics: ${response.status}`);
  board.metrics = await response.text();
  renderHistograms();
}

async function refreshAll() {
  const { projects } = await api("/v1/projects");
  const ids = new Set(projects.map((p) => p.id));
  for (const id of board.projects.keys()) if (!ids.has(id)) board.projects.delete(id);
  await Promise.all(projects.map((p) => refreshProject(p.id)));
  render();
}

/** Coalesces the refreshes that a burst of events asks for. */
function scheduleRefresh(projectId) {
  board.pending.add(projectId);
  if (board.refreshTimer !== null) return;
  board.refreshTimer = setTimeout(async () => {
    board.refreshTimer = null;
    const ids = [...board.pending];
    board.pending.clear();
    try {
      if (ids.some((id) => !board.projects.has(id))) await refreshAll();
      else await Promise.all(ids.map(refreshProject));
      render();
    } catch (error) {
      failed(error);
    }
  }, 100);
}

function onEvents(events) {
  for (const event of events) {
    board.events.unshift(event);
    scheduleRefresh(event.projectId);
  }
  board.events.length = Math.min(board.events.length, MAX_EVENTS);
  renderEvents();
}

// ---- rendering

function countBox(name, value) {
  return el("div", { class: "count", "data-count": name }, el("b", {}, value ?? 0), el("span", {}, name));
}

function deadlineText(s, now) {
  if (s.deadlineAt === null || s.deadlineAt === undefined) return "–";
  const left = s.deadlineAt - now;
  switch (s.state) {
    case "grace": return `grace ends in ${seconds(left)}`;
    case "suspended": return `suspended for ${seconds(left)}`;
    case "created": return `connect within ${seconds(left)}`;
    case "connected": return `timeout in ${seconds(left)}`;
    default: return seconds(left);
  }
}

function sessionRow(s, stats, now) {
  const rtt = stats?.rttMs?.p50;
  return el("tr", { "data-session": s.sessionId, "data-state": s.state },
    el("td", {}, s.userId),
    el("td", { class: "mono" }, s.concurrencyId),
    el("td", { class: "session-state" }, el("span", { class: `state ${s.state}` }, s.state),
      // Not heard from for more than an interval: probed with server pings, not convicted (docs/BEHAVIOUR.md).
      s.suspect ? el("span", { class: "state suspect", title: "quiet for more than a heartbeat interval; being probed" }, "suspect") : null),
    el("td", { class: "num" }, s.epoch),
    el("td", {}, s.transport ?? "–"),
    el("td", { class: "num" }, s.lastHeartbeatAt ? `${seconds(now - s.lastHeartbeatAt)} ago` : "–"),
    el("td", { class: "num" }, rtt !== null && rtt !== undefined ? `${rtt.toFixed(2)} ms` : "–"),
    el("td", { class: "num" }, deadlineText(s, now)),
    el("td", { class: "mono muted" }, s.sessionId));
}

function projectCard(entry, now) {
  const p = entry.project;
  const c = entry.counts ?? {};
  const rows = entry.sessions.map((s) => sessionRow(s, entry.stats.get(s.sessionId), now));
  return el("section", { class: "card", "data-project": p.id },
    el("h2", {}, p.id, " ",
      el("span", { class: "muted" },
        `capacity ${p.capacity} · heartbeat ${p.heartbeat.intervalMs}/${p.heartbeat.timeoutMs} ms · grace ${seconds(p.reconnectGraceMs)}`)),
    el("div", { class: "counts" },
      countBox("total", c.total), countBox("idle", c.idle), countBox("reserved", c.reserved),
      countBox("created", c.created), countBox("connected", c.connected), countBox("suspended", c.suspended),
      countBox("grace", c.grace)),
    el("div", { class: "chart-box" }, poolChart(p.id, entry.history ?? [], now)),
    rows.length === 0
      ? el("p", { class: "muted" }, "no live sessions")
      : el("table", {},
        el("thead", {}, el("tr", {}, ...["user", "concurrency", "state", "epoch", "transport", "last heartbeat",
          "RTT p50", "deadline", "session"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows)));
}

function render() {
  const now = Date.now();
  const cards = [...board.projects.values()]
    .filter((e) => e.project)
    .sort((a, b) => a.project.id.localeCompare(b.project.id))
    .map((e) => projectCard(e, now));
  $("projects").replaceChildren(...(cards.length ? cards : [el("p", { class: "card muted" }, "no projects yet")]));
}

/** The node's RTT and heartbeat-lateness distributions, from the last /metrics read. */
function renderHistograms() {
  const text = board.metrics ?? "";
  $("histograms").replaceChildren(
    histogramChart("rtt", "RTT of server pings (ms)", parseHistogram(text, "tether_rtt_seconds")),
    histogramChart("lateness", "Detection lateness of silent clients (ms after the heartbeat deadline)",
      parseHistogram(text, "tether_detection_lateness_seconds", { deadline: "heartbeat" })));
}

function detailValue(key, value) {
  if (key.endsWith("At") && typeof value === "number") return new Date(value).toLocaleTimeString();
  return typeof value === "object" ? JSON.stringify(value) : value;
}

function renderEvents() {
  $("events").replaceChildren(...board.events.map((e) => {
    const detail = Object.entries(e.data ?? {}).map(([k, v]) => `${k}=${detailValue(k, v)}`).join(" ");
    return el("tr", { "data-cursor": e.cursor, "data-type": e.type },
      el("td", { class: "num" }, e.cursor),
      el("td", {}, new Date(e.at).toLocaleTimeString()),
      el("td", {}, e.type),
      el("td", {}, e.projectId),
      el("td", {}, e.userId ?? ""),
      el("td", { class: "mono" }, e.concurrencyId ?? ""),
      el("td", { class: "num" }, e.epoch ?? ""),
      el("td", { class: "muted wrap" }, detail));
  }));
}

// ---- signing in and out

function status(text) {
  $("feed-status").textContent = text;
  if (text === "unauthorized") signOut("The API key was refused.");
}

function failed(error) {
  if (error instanceof Unauthorized || error?.message === "unauthorized") signOut("The API key was refused.");
  else status(`error: ${error.message}`);
}

async function signIn(key) {
  board.key = key;
  $("signin-error").textContent = "";
  try {
    await refreshAll();
  } catch (error) {
    signOut(error instanceof Unauthorized ? "The API key was refused." : `Could not reach the API: ${error.message}`);
    return;
  }
  sessionStorage.setItem(KEY, key);
  $("signin-card").hidden = true;
  $("board").hidden = false;
  $("signout").hidden = false;
  status("loading events");
  const feed = new EventFeed({ key, onEvents, onStatus: status });
  board.feed = feed;
  try {
    await feed.catchUp();
  } catch (error) {
    failed(error);
    return;
  }
  if (board.feed !== feed) return;
  feed.start();
  board.timers.push(setInterval(render, 1000)); // countdowns and ages
  board.timers.push(setInterval(() => refreshAll().catch(failed), 3000)); // heartbeats and RTTs are not events
  const metrics = () => refreshMetrics().catch((error) => status(`error: ${error.message}`));
  metrics();
  board.timers.push(setInterval(metrics, 5000));
}

function signOut(message = "") {
  board.feed?.stop();
  board.feed = null;
  for (const timer of board.timers) clearInterval(timer);
  board.timers = [];
  board.key = null;
  board.projects.clear();
  board.events = [];
  board.metrics = null;
  sessionStorage.removeItem(KEY);
  $("signin-card").hidden = false;
  $("board").hidden = true;
  $("signout").hidden = true;
  $("signin-error").textContent = message;
  $("feed-status").textContent = "signed out";
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("apiKey").value.trim();
  $("apiKey").value = "";
  if (key) signIn(key);
});
$("signout").addEventListener("click", () => signOut());

const stored = sessionStorage.getItem(KEY);
if (stored) signIn(stored);
