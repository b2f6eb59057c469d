// The demo page: gets a session of the demo project from POST /demo/session (demo mode only), holds it
// with the browser SDK, and shows what the SDK sees. A reload within the grace window resumes the same
// session from sessionStorage; a new tab for the same user gets the same concurrency (ApplyConcurrent
// answers reused: true while the user's session is held). When the three slots are taken the page waits in
// the demo project's queue (202 with a queue token) with a TetherQueue, and asks for its session again when a
// slot is offered (the offer is the user's reservation: 201 now).
import { TetherClient, TetherQueue } from "/sdk/tether.js";

const $ = (id) => document.getElementById(id);
const USER_KEY = "tether-demo:user";
/** The user waiting in the queue: a reload asks again (the same ticket while it waits). */
const QUEUED_KEY = "tether-demo:queued";
let client = null;
/** The queue the page waits in; null when it does not wait (the panel is hidden). */
let queue = null;
/** The last queue, for the browser test and the console. */
let lastQueue = null;
/** The style.css class of each queue state (colour only). */
const QUEUE_STATE_CLASS = {
  connecting: "connecting",
  waiting: "reserved",
  offered: "connected",
  taken: "connected",
  left: "ended",
  closed: "idle",
};

function log(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").prepend(item);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function eta(ms) {
  if (typeof ms !== "number" || !(ms >= 0)) return "–";
  const s = Math.round(ms / 1000);
  return s < 120 ? `≈ ${s} s` : `≈ ${Math.round(s / 60)} min`;
}

function showQueue() {
  const q = queue;
  $("queue").hidden = q === null;
  if (q === null) return;
  $("queuePosition").textContent = q.offer ? "offered" : q.position != null ? String(q.position) : "–";
  $("queueEta").textContent = q.offer
    ? `held until ${new Date(q.offer.reservedUntil).toLocaleTimeString()}`
    : eta(q.etaMs);
  $("queueState").textContent = q.state;
  $("queueState").className = `state ${QUEUE_STATE_CLASS[q.state] ?? "idle"}`;
  $("queueReason").textContent = q.state === "left" ? `(${q.endReason})` : "";
  $("queueTicket").textContent = q.ticketId ?? "–";
}

function show() {
  showQueue();
  const c = client;
  $("state").textContent = c ? c.state : "idle";
  $("state").className = `state ${c ? c.state : "idle"}`;
  $("reason").textContent = c && c.state === "ended" ? `(${c.endReason})` : "";
  $("heartbeats").textContent = c ? String(c.heartbeats) : "0";
  $("rtt").textContent = c && c.rttMs !== null ? `${c.rttMs.toFixed(1)} ms` : "–";
  $("jitter").textContent = c && c.jitterMs !== null ? `${c.jitterMs.toFixed(1)} ms` : "–";
  $("loss").textContent = c ? `${(c.lossRate * 100).toFixed(0)} %` : "–";
  $("sessionId").textContent = c?.sessionId ?? "–";
  $("epoch").textContent = c?.epoch != null ? String(c.epoch) : "–";
  $("concurrencyId").textContent = c?.concurrencyId ?? "–";
  const live = c !== null && c.state !== "ended";
  const waiting = queue !== null && !queue.ended;
  $("start").disabled = live || waiting;
  $("userId").disabled = live || waiting;
  $("leave").disabled = !live && !waiting;
  $("suspend").disabled = !live || c.state !== "connected";
  $("wake").disabled = !live || c.state !== "suspended";
}

function hold(newClient, how) {
  client = newClient;
  $("resumed").textContent = how;
  client.addEventListener("state", (e) => {
    const d = e.detail;
    log(`state ${d.previous} → ${d.state}${d.reason ? ` (${d.reason})` : ""}`);
    if (d.state === "ended") {
      if (d.reason === "badToken" && how === "resumed from sessionStorage") {
        log("the stored resume token was refused; asking for a session again");
        start(sessionStorage.getItem(USER_KEY));
        return;
      }
    }
    show();
  });
  client.addEventListener("welcome", (e) => {
    log(`welcome: epoch ${e.detail.epoch}, ${e.detail.concurrencyId}`);
    show();
  });
  client.addEventListener("pong", show);
  client.addEventListener("kick", (e) => log(`kick: ${e.detail.reason}`));
  client.connect();
  show();
}

/**
 * Asks for a session, or a place in the queue when the three slots are taken (202). `offered`: the queue's
 * offer came (the offer is the user's reservation, so the answer says `reused`).
 */
async function start(userId, offered = false) {
  $("error").textContent = "";
  if (!userId) return;
  sessionStorage.setItem(USER_KEY, userId);
  $("user").textContent = userId;
  let response;
  let answer;
  try {
    response = await fetch("/demo/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, queue: true }),
    });
    answer = await response.json();
    if (!response.ok) throw new Error(`${answer.error?.code ?? response.status}: ${answer.error?.message ?? ""}`);
  } catch (error) {
    $("error").textContent = `Could not get a session: ${error.message}`;
    return;
  }
  if (response.status === 202) {
    wait(userId, answer);
    return;
  }
  stopWaiting();
  const how = offered ? "offered by the queue" : answer.reused ? "reused" : "new";
  log(`session ${answer.sessionId} on ${answer.concurrencyId} (${how} concurrency)`);
  hold(TetherClient.fromSession(answer), offered ? "no (from the queue)" : answer.reused ? "no (same concurrency again)" : "no (new)");
}

/** Waits in the queue with the 202's token; an offer asks for the session again (201 then). */
function wait(userId, answer) {
  sessionStorage.setItem(QUEUED_KEY, userId);
  if (queue !== null && !queue.ended && queue.ticketId === answer.ticketId) {
    show(); // already waiting with this ticket
    return;
  }
  if (queue !== null) queue.close(); // another ticket: the old one leaves (bye)
  if (client !== null && client.state === "ended") client = null; // the panel shows the wait, not the old end
  log(`queued: ticket ${answer.ticketId}, position ${answer.position}, wait ${eta(answer.etaMs)}`);
  const q = TetherQueue.fromQueued(answer);
  queue = lastQueue = q;
  q.addEventListener("state", (e) => {
    const d = e.detail;
    const attempt = d.attempt ? `, attempt ${d.attempt} in ${d.delayMs} ms` : "";
    log(`queue ${d.previous} → ${d.state}${d.reason ? ` (${d.reason}${attempt})` : ""}`);
    show();
  });
  q.addEventListener("position", (e) => {
    log(`queue position ${e.detail.position}, wait ${eta(e.detail.etaMs)}`);
    show();
  });
  q.addEventListener("offered", (e) => {
    log(`offered ${e.detail.concurrencyId} until ${new Date(e.detail.reservedUntil).toLocaleTimeString()}: asking for the session`);
    show();
    if (queue === q) start(userId, true);
  });
  q.addEventListener("taken", () => log("the offer was taken: the queue's connection ended (left)"));
  q.addEventListener("left", (e) => {
    if (queue !== q) return;
    sessionStorage.removeItem(QUEUED_KEY);
    $("error").textContent = `Left the queue: ${e.detail.reason}`;
    show();
  });
  q.start();
  show();
}

/** The page has its session (or left): hides the queue, which the server ends with `left` once the offer is taken. */
function stopWaiting() {
  sessionStorage.removeItem(QUEUED_KEY);
  const q = queue;
  queue = null;
  if (q !== null && !q.ended) setTimeout(() => q.close(), 5000); // in case its `left` kick never comes
  show();
}

$("start-form").addEventListener("submit", (e) => {
  e.preventDefault();
  start($("userId").value.trim());
});
$("leave").addEventListener("click", () => {
  if (queue !== null && !queue.ended) {
    queue.close(); // bye: the ticket leaves the queue
    queue = null;
    sessionStorage.removeItem(QUEUED_KEY);
  }
  client?.close();
  sessionStorage.removeItem(USER_KEY);
  show();
});
$("suspend").addEventListener("click", () => {
  client?.suspend(20000, "background");
  show();
});
$("wake").addEventListener("click", () => {
  client?.endSuspension();
  show();
});

// A reload (or a reopened tab) within the grace window resumes from sessionStorage.
const resumed = TetherClient.resume();
const user = sessionStorage.getItem(USER_KEY);
if (user) {
  $("userId").value = user;
  $("user").textContent = user;
}
if (resumed) {
  log(`resuming session ${resumed.sessionId} (epoch ${resumed.epoch}) from sessionStorage`);
  hold(resumed, "resumed from sessionStorage");
} else if (user && sessionStorage.getItem(QUEUED_KEY) === user) {
  // Reloaded while waiting: applying again returns the same ticket (or the session, if a slot came free).
  log(`was waiting in the queue as ${user}: asking again`);
  start(user);
} else {
  show();
}
// The browser test and curious people can reach the client and the queue from the console.
window.tetherDemo = {
  get client() { return client; },
  get queue() { return queue; },
  get lastQueue() { return lastQueue; },
};
