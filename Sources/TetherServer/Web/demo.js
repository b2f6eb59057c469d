// The demo page: gets a session of the demo project from POST /demo/session (demo mode only), holds it
// with the browser SDK, and shows what the SDK sees. A reload within the grace window resumes the same
// session from sessionStorage; a new tab for the same user gets the same concurrency (ApplyConcurrent
// answers reused: true while the user's session is held).
import { TetherClient } from "/sdk/tether.js";

const $ = (id) => document.getElementById(id);
const USER_KEY = "tether-demo:user";
let client = null;

function log(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").prepend(item);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function show() {
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
  $("start").disabled = live;
  $("userId").disabled = live;
  $("leave").disabled = !live;
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

async function start(userId) {
  $("error").textContent = "";
  if (!userId) return;
  sessionStorage.setItem(USER_KEY, userId);
  $("user").textContent = userId;
  let answer;
  try {
    const response = await fetch("/demo/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId }),
    });
    answer = await response.json();
    if (!response.ok) throw new Error(`${answer.error?.code ?? response.status}: ${answer.error?.message ?? ""}`);
  } catch (error) {
    $("error").textContent = `Could not get a session: ${error.message}`;
    return;
  }
  log(`session ${answer.sessionId} on ${answer.concurrencyId} (${answer.reused ? "reused" : "new"} concurrency)`);
  hold(TetherClient.fromSession(answer), answer.reused ? "no (same concurrency again)" : "no (new)");
}

$("start-form").addEventListener("submit", (e) => {
  e.preventDefault();
  start($("userId").value.trim());
});
$("leave").addEventListener("click", () => {
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
} else {
  show();
}
// The browser test and curious people can reach the client from the console.
window.tetherDemo = { get client() { return client; } };
