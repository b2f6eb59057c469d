#!/usr/bin/env python3
"""Headless-Chromium test of Tether's browser pages, against the real binary.

Usage: browser-test.py --binary PATH_TO_TETHER [--artifacts DIR]

Starts `tether serve --demo` on free ports with a temporary data file and API key, then:

sdk rules  imports /sdk/tether.js in the page and checks its reconnect rules (loss table, backoff, window,
           following `moved` kicks), its EndpointRoster (welcome alternates, moves, unreachable nodes) and the
           queue's loss table (classifyQueueLoss) and TetherQueue.fromQueued;
demo       loads /demo, asks for a session as a user, waits until heartbeats are counted and an RTT shows,
           hides the page (another tab in front: visibilitychange) and checks through the backend API that the session is
           `suspended`, shows it again and checks `connected`, reloads the page within the grace window and
           checks that the same concurrency came back with a higher epoch (resumed from sessionStorage),
           saves artifacts/demo.png, restarts the server (SIGTERM: a `shutdown` kick) and checks that the
           page resumes again, then leaves (bye) and checks the session ended `left`.
demo queue fills the demo project's three slots through the backend API (apply + CreateSession for three
           users), loads /demo in a new tab (fresh sessionStorage) as a fourth user and starts: the page is
           queued (202) and waits with a TetherQueue until its panel shows position 1 and an ETA; destroys one
           holder's session, and waits until the page was offered the freed concurrency, asked for its session
           (201), connected, and hid the panel (the queue's connection ended `left`: taken); saves
           artifacts/demo-queue-waiting.png and artifacts/demo-queue.png, then leaves and destroys the other
           holders' sessions, so that the three slots are free again.
demo wss   starts a second server with --tls-cert/--tls-key (a P-256 certificate this test makes with openssl,
           which Chromium is told to accept by its public key: --ignore-certificate-errors-spki-list), loads
           https://…/demo, connects over wss:// (the session's `connect` says so), waits for heartbeats and checks
           through the backend API (over HTTPS, trusting that certificate) that the session is connected, then
           leaves.
dashboard  makes a project and two sessions held by raw WebSocket clients (websocket-client, own processes),
           loads /dashboard, checks that a wrong key is refused, signs in with the key (kept in
           sessionStorage, never in the URL), waits for the session's row `connected` and the SSE feed live,
           checks charts.js's /metrics parsing in the page, waits for the project's pool plot (2 connected)
           and the node's RTT histogram (server pings answered), stops the second client (SIGSTOP: silent)
           and waits for its heartbeat timeout in the detection-lateness histogram, kills the first with
           SIGKILL and waits for the row to show `grace` (with a countdown) and a session.disconnected event,
           and saves artifacts/dashboard.png and artifacts/dashboard-charts.png; then restarts the server,
           destroys the session and waits for its session.ended event (the stream resumed) and its row to go.
bench      with --bench-charts GLOB: opens each SVG lateness chart `tether bench` wrote (file://), checks its
           bars and title, and saves artifacts/bench-NAME.png.

Every wait is explicit (a condition polled with a generous timeout). Exits 1 with a message on any failure
(a screenshot of the failing page goes to artifacts/failure.png), 0 when every check passed.
"""

import argparse
import glob
import json
import os
import select
import base64
import hashlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 20  # generous: the heartbeat interval of the demo project is 2 s


class Failure(Exception):
    """A check that did not hold."""


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Certificate:
    """A self-signed P-256 certificate for 127.0.0.1 and localhost, made with openssl."""

    def __init__(self, work):
        self.cert = os.path.join(work, "tls-cert.pem")
        self.key = os.path.join(work, "tls-key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", self.cert, "-pubkey", "-noout"], check=True,
                             capture_output=True).stdout
        spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=der, check=True,
                              capture_output=True).stdout
        # What --ignore-certificate-errors-spki-list takes: base64 of the SHA-256 of the public key (SPKI).
        self.spki_sha256 = base64.b64encode(hashlib.sha256(spki).digest()).decode()


class Server:
    """`tether serve --demo` on free ports with a throwaway data file (over TLS when given a certificate)."""

    def __init__(self, binary, work, certificate=None):
        self.binary = binary
        self.work = work
        self.certificate = certificate
        self.port, self.client_port = free_ports(2)
        self.key = "bt-" + os.urandom(16).hex()
        self.base = f"{'https' if certificate else 'http'}://127.0.0.1:{self.port}"
        self.ssl = ssl.create_default_context(cafile=certificate.cert) if certificate else None
        self.log_path = os.path.join(work, "server.log")
        self.log = open(self.log_path, "w")
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--demo", "--host", "127.0.0.1", "--port", str(self.port),
             "--client-port", str(self.client_port), "--tcp-port", "0",
             "--data", os.path.join(self.work, "tether.sqlite"), "--api-key", self.key, "--log-level", "warning"]
            + (["--tls-cert", self.certificate.cert, "--tls-key", self.certificate.key] if self.certificate else []),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise Failure(f"tether exited at start (status {self.process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2, context=self.ssl):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise Failure(f"tether did not answer /healthz within 30 s:\n{self.log_tail()}")
                time.sleep(0.1)

    def api(self, method, path, body=None):
        """A backend API call with the key; returns (status, parsed JSON)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def log_tail(self, lines=30):
        self.log.flush()
        with open(self.log_path) as f:
            return "".join(f.readlines()[-lines:])

    def restart(self):
        """SIGTERM (clients are kicked `shutdown` with a retryAfterMs), then the same ports and data file."""
        self.terminate()
        self.start()

    def terminate(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self):
        self.terminate()
        self.log.close()


def make_driver(certificate, work):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    # The TLS server's certificate is accepted by its public key only (Chromium honours the SPKI list with a
    # user data directory of its own); every other certificate error stays an error.
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={os.path.join(work, 'chromium')}",
                f"--ignore-certificate-errors-spki-list={certificate.spki_sha256}"]:
        options.add_argument(arg)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def wait_until(driver, what, condition, timeout=WAIT_S):
    """Polls `condition(driver)` until it returns something truthy; fails naming `what`."""
    try:
        # The dashboard redraws every second: an element found a moment ago may be gone (stale); poll again.
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition(d))
    except TimeoutException:
        raise Failure(f"timed out after {timeout} s waiting for: {what}") from None


def wait_for(what, condition, timeout=WAIT_S):
    """The same for conditions outside the browser (the backend API)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = condition()
        if ok:
            return last
        time.sleep(0.1)
    raise Failure(f"timed out after {timeout} s waiting for: {what} (last seen: {last})")


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text.strip()


def session_state(server, session_id):
    status, body = server.api("GET", f"/v1/sessions/{session_id}")
    return status, (body or {}).get("state")


def hide_page(driver):
    """Opens another tab and switches to it: the page's tab is really hidden (visibilitychange fires)."""
    page = driver.current_window_handle
    driver.switch_to.new_window("tab")
    return page


def show_page(driver, page):
    """Closes the other tab and switches back: the page is visible again."""
    driver.close()
    driver.switch_to.window(page)


SDK_RULES = """
const done = arguments[arguments.length - 1];
import("/sdk/tether.js").then(({ classifyLoss, ReconnectPlanner, EndpointRoster, classifyQueueLoss, TetherQueue }) => {
  const failures = [];
  const check = (name, got, want) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  for (const reason of ["replaced", "destroyed", "left", "badToken", "originNotAllowed"]) {
    check(`kick ${reason} ends`, classifyLoss({ kick: { reason } }, true, 30000), { terminal: reason });
  }
  check("close 4002 ends replaced", classifyLoss({ code: 4002 }, true, 30000), { terminal: "replaced" });
  check("close 4030 ends originNotAllowed", classifyLoss({ code: 4030 }, true, 30000), { terminal: "originNotAllowed" });
  check("close 4029 is a protocol error", classifyLoss({ code: 4029 }, true, 30000), { terminal: "protocolError" });
  check("expired answering a hello ends", classifyLoss({ code: 4004 }, false, 30000), { terminal: "expired" });
  check("expired with grace 0 ends", classifyLoss({ code: 4004 }, true, 0), { terminal: "expired" });
  check("expired after a welcome reconnects", classifyLoss({ code: 4004 }, true, 30000), {});
  check("1006 reconnects", classifyLoss({ code: 1006 }, true, 30000), {});
  check("shutdown waits and holds 30 s", classifyLoss({ kick: { reason: "shutdown", retryAfterMs: 1000 } }, true, 5000),
        { notBefore: 1000, graceFloor: 30000 });
  check("busy waits its retryAfterMs", classifyLoss({ kick: { reason: "busy", retryAfterMs: 2500 } }, false, 5000),
        { notBefore: 2500 });
  check("close 1013 reconnects", classifyLoss({ code: 1013 }, false, 5000), { notBefore: null });
  const p = new ReconnectPlanner({ baseMs: 250, capMs: 30000, graceMs: 10000 });
  check("attempt 1, full draw", p.lost({}, 0, 0.999999), { reconnect: { attempt: 1, delayMs: 249 } });
  check("attempt 2 doubles", p.lost({}, 0, 0.5), { reconnect: { attempt: 2, delayMs: 250 } });
  check("cut to the window", p.lost({}, 9000, 0.999999), { reconnect: { attempt: 3, delayMs: 999 } });
  check("window over", p.lost({}, 10000, 0.5), { end: "graceExpired" });
  p.welcomed(20000);
  check("a welcome resets", p.lost({}, 50000, 0), { reconnect: { attempt: 1, delayMs: 0 } });
  const q = new ReconnectPlanner({ graceMs: 5000 });
  check("never before retryAfterMs", q.lost({ notBefore: 1000, graceFloor: 30000 }, 0, 0), { reconnect: { attempt: 1, delayMs: 1000 } });
  check("retryAfterMs past the window", q.lost({ notBefore: 40000, graceFloor: 30000 }, 0, 0), { end: "graceExpired" });
  const to = { websocket: "ws://b:1/v1/connect", tcp: "tcp://b:2", http: "http://b:1/v1/heartbeat" };
  check("kick moved follows its connect", classifyLoss({ kick: { reason: "moved", connect: to }, code: 4009 }, false, 30000),
        { moved: "ws://b:1/v1/connect" });
  check("kick moved without connect reconnects", classifyLoss({ kick: { reason: "moved" }, code: 4009 }, false, 30000), {});
  check("kick moved with a bad connect reconnects", classifyLoss({ kick: { reason: "moved", connect: { websocket: 7 } } }, false, 30000), {});
  check("close 4009 alone reconnects", classifyLoss({ code: 4009 }, true, 30000), {});
  const m = new ReconnectPlanner({ baseMs: 250, capMs: 30000, graceMs: 10000 });
  check("moved: followed at once", m.lost({ moved: "ws://b" }, 0, 0.5), { follow: { url: "ws://b", delayMs: 0 } });
  check("moved: no attempt counted", m.attempt, 0);
  check("moved: no window opened", m.windowEnd, null);
  check("a loss after a move: attempt 1, full window", m.lost({}, 5000, 0.999999), { reconnect: { attempt: 1, delayMs: 249 } });
  check("the window is the loss's", m.windowEnd, 15000);
  const r = new ReconnectPlanner({ baseMs: 250, capMs: 30000, graceMs: 10000 });
  check("move 1", r.lost({ moved: "ws://a" }, 0, 0), { follow: { url: "ws://a", delayMs: 0 } });
  check("move 2", r.lost({ moved: "ws://b" }, 0, 0), { follow: { url: "ws://b", delayMs: 0 } });
  check("move 3", r.lost({ moved: "ws://a" }, 0, 0), { follow: { url: "ws://a", delayMs: 0 } });
  check("move 4 waits like a loss", r.lost({ moved: "ws://b" }, 100, 0.999999), { reconnect: { attempt: 1, delayMs: 249 } });
  check("move 4 opens the window", r.windowEnd, 10100);
  check("move 5 waits too", r.lost({ moved: "ws://a" }, 200, 0.5), { reconnect: { attempt: 2, delayMs: 250 } });
  r.welcomed();
  check("a welcome resets the moves", r.lost({ moved: "ws://b" }, 300, 0), { follow: { url: "ws://b", delayMs: 0 } });
  check("a move after a welcome: no window", r.windowEnd, null);
  const e = new EndpointRoster("ws://a/v1/connect");
  check("roster starts with its url", [e.current, e.urls], ["ws://a/v1/connect", ["ws://a/v1/connect"]]);
  e.unreachable();
  check("one url: unreachable keeps it", e.current, "ws://a/v1/connect");
  e.welcomed([{ websocket: "ws://b/v1/connect" }, { websocket: "ws://a/v1/connect" }, { websocket: 3 }, {},
              { websocket: "ws://c/v1/connect", tcp: "tcp://c:2" }, { websocket: "ws://b/v1/connect" }]);
  check("welcomed: current, then alternates without repeats", e.urls, ["ws://a/v1/connect", "ws://b/v1/connect", "ws://c/v1/connect"]);
  e.unreachable();
  check("unreachable: the next node", e.current, "ws://b/v1/connect");
  e.unreachable();
  e.unreachable();
  check("unreachable wraps around", e.current, "ws://a/v1/connect");
  e.unreachable();
  e.moved("ws://c/v1/connect");
  check("moved: the named node first", [e.current, e.urls], ["ws://c/v1/connect", ["ws://c/v1/connect", "ws://a/v1/connect", "ws://b/v1/connect"]]);
  e.moved("ws://d/v1/connect");
  check("moved to a new node", e.urls, ["ws://d/v1/connect", "ws://c/v1/connect", "ws://a/v1/connect", "ws://b/v1/connect"]);
  e.unreachable();
  e.welcomed([]);
  check("welcomed with no alternates: the welcoming node alone", e.urls, ["ws://c/v1/connect"]);
  check("queue: left after an offer is taken", classifyQueueLoss({ kick: { reason: "left" }, code: 1000 }, true), { taken: true });
  check("queue: left without an offer ends", classifyQueueLoss({ kick: { reason: "left" } }, false), { terminal: "left" });
  for (const reason of ["destroyed", "expired", "replaced", "badToken"]) {
    check(`queue: kick ${reason} ends`, classifyQueueLoss({ kick: { reason } }, true), { terminal: reason });
  }
  check("queue: close 4004 ends expired", classifyQueueLoss({ code: 4004 }, false), { terminal: "expired" });
  check("queue: 1006 reconnects", classifyQueueLoss({ code: 1006 }, true), {});
  check("queue: shutdown waits its retryAfterMs", classifyQueueLoss({ kick: { reason: "shutdown", retryAfterMs: 1500 } }, false),
        { notBefore: 1500, graceFloor: 30000 });
  check("queue: busy waits its retryAfterMs", classifyQueueLoss({ kick: { reason: "busy", retryAfterMs: 700 } }, false), { notBefore: 700 });
  check("queue: moved follows its connect", classifyQueueLoss({ kick: { reason: "moved", connect: to } }, false), { moved: "ws://b:1/v1/connect" });
  check("queue: a protocol error ends", classifyQueueLoss({ code: 4000 }, false), { terminal: "protocolError" });
  const tq = TetherQueue.fromQueued({ queued: true, ticketId: "qt-1", position: 4, etaMs: 12000, queueToken: "q1.t",
                                      connect: { websocket: "ws://a/v1/connect" } });
  check("queue from a 202", [tq.url, tq.ticketId, tq.position, tq.etaMs, tq.offer, tq.state, tq.options.pingMs],
        ["ws://a/v1/connect", "qt-1", 4, 12000, null, "connecting", 3000]);
  tq.close();
  check("queue closed before start", [tq.state, tq.ended], ["closed", true]);
  done(failures);
}, (error) => done([`import failed: ${error}`]));
"""


def test_sdk_rules(driver, server, artifacts):
    """The SDK's reconnect rules (pure functions of the module), run in the browser."""
    driver.get(server.base + "/demo")
    driver.set_script_timeout(WAIT_S)
    failures = driver.execute_async_script(SDK_RULES)
    if failures:
        raise Failure("SDK rules:\n  " + "\n  ".join(failures))
    print("   classifyLoss, ReconnectPlanner, EndpointRoster and classifyQueueLoss follow the Swift SDK's rules")


def test_demo(driver, server, artifacts):
    driver.get(server.base + "/demo")
    wait_until(driver, "the demo page", lambda d: d.find_elements(By.ID, "userId"))
    driver.find_element(By.ID, "userId").send_keys("alice")
    driver.find_element(By.ID, "start").click()

    wait_until(driver, "state 'connected'", lambda d: text(d, "state") == "connected")
    wait_until(driver, "two heartbeats counted", lambda d: int(text(d, "heartbeats") or 0) >= 2)
    wait_until(driver, "an RTT", lambda d: text(d, "rtt").endswith(" ms"))
    session_id = text(driver, "sessionId")
    concurrency = text(driver, "concurrencyId")
    epoch = int(text(driver, "epoch"))
    print(f"   connected: {session_id} on {concurrency}, epoch {epoch}, RTT {text(driver, 'rtt')}")
    wait_for("the backend to see the session connected",
             lambda: ((s := session_state(server, session_id))[1] == "connected", s))

    # Hidden: the SDK sends suspend (not bye); visible again: it pings at once, which ends the suspension.
    page = hide_page(driver)
    wait_for("the backend to see the session suspended (page hidden)",
             lambda: ((s := session_state(server, session_id))[1] == "suspended", s))
    show_page(driver, page)
    wait_until(driver, "the page to be visible again", lambda d: d.execute_script("return document.visibilityState")
               == "visible")
    wait_until(driver, "state 'connected' after becoming visible", lambda d: text(d, "state") == "connected")
    wait_for("the backend to see the session connected again",
             lambda: ((s := session_state(server, session_id))[1] == "connected", s))
    print("   hidden -> suspended, visible -> connected (seen through GET /v1/sessions/{id})")

    # Reload within the grace window: the SDK resumes from sessionStorage with the resume token.
    driver.refresh()
    wait_until(driver, "the reloaded page to resume with a higher epoch",
               lambda d: text(d, "state") == "connected" and text(d, "epoch").isdigit()
               and int(text(d, "epoch")) > epoch)
    if text(driver, "concurrencyId") != concurrency or text(driver, "sessionId") != session_id:
        raise Failure(f"after the reload: {text(driver, 'sessionId')} on {text(driver, 'concurrencyId')}, "
                      f"expected {session_id} on {concurrency}")
    if text(driver, "resumed") != "resumed from sessionStorage":
        raise Failure(f"the reloaded page did not resume from sessionStorage: {text(driver, 'resumed')!r}")
    wait_until(driver, "a heartbeat after the reload", lambda d: int(text(d, "heartbeats") or 0) >= 1)
    wait_until(driver, "an RTT after the reload", lambda d: text(d, "rtt").endswith(" ms"))
    print(f"   reloaded: same {concurrency}, epoch {text(driver, 'epoch')} (was {epoch})")
    driver.save_screenshot(os.path.join(artifacts, "demo.png"))

    # A server restart: the SDK is kicked `shutdown`, waits at least its retryAfterMs, and resumes.
    epoch = int(text(driver, "epoch"))
    server.restart()
    wait_until(driver, "the page to resume after the server restart",
               lambda d: text(d, "state") == "connected" and int(text(d, "epoch")) > epoch, timeout=30)
    log = driver.find_element(By.ID, "log").text
    if "kick: shutdown" not in log or "→ reconnecting" not in log:
        raise Failure(f"no shutdown kick and reconnect in the page's log:\n{log}")
    if text(driver, "concurrencyId") != concurrency:
        raise Failure(f"after the restart: {text(driver, 'concurrencyId')}, expected {concurrency}")
    print(f"   server restarted: kicked (shutdown), resumed on {concurrency}, epoch {text(driver, 'epoch')}")

    # Leaving ends the session with reason `left` and frees the concurrency at once.
    driver.find_element(By.ID, "leave").click()
    wait_until(driver, "state 'ended' after leaving", lambda d: text(d, "state") == "ended")
    wait_for("the backend to see the session ended (left)",
             lambda: ((r := server.api("GET", f"/v1/sessions/{session_id}")[1] or {})
                      .get("endReason") == "left", r.get("state")))
    print("   leave -> ended (left)")


def test_demo_tls(driver, server, artifacts):
    """The demo over TLS: the page on https://, its client over wss:// (issue 16, item 2)."""
    tls = Server(server.binary, tempfile.mkdtemp(prefix="tether-browser-tls-"), server.tls_certificate)
    try:
        driver.get(tls.base + "/demo")
        wait_until(driver, "the demo page over https", lambda d: d.find_elements(By.ID, "userId"))
        driver.find_element(By.ID, "userId").send_keys("tls-user")
        driver.find_element(By.ID, "start").click()
        wait_until(driver, "state 'connected' over wss", lambda d: text(d, "state") == "connected")
        wait_until(driver, "two heartbeats counted over wss", lambda d: int(text(d, "heartbeats") or 0) >= 2)
        session_id = text(driver, "sessionId")
        status, session = tls.api("GET", f"/v1/sessions/{session_id}")
        if status != 200 or session.get("state") != "connected" or session.get("transport") != "websocket":
            raise Failure(f"over TLS the backend sees {status} {session}")
        url = driver.execute_script("return location.href")
        if not url.startswith("https://"):
            raise Failure(f"the demo page is not on https: {url}")
        driver.save_screenshot(os.path.join(artifacts, "demo-tls.png"))
        driver.find_element(By.ID, "leave").click()
        wait_until(driver, "state 'ended' after leaving", lambda d: text(d, "state") == "ended")
        print(f"   {url}: connected over wss:// ({session_id}), heartbeats counted, left")
    finally:
        tls.stop()
        shutil.rmtree(tls.work, ignore_errors=True)


def queue_list(server, project="demo"):
    status, body = server.api("GET", f"/v1/projects/{project}/queue")
    if status != 200:
        raise Failure(f"GET /v1/projects/{project}/queue: HTTP {status} {body}")
    return body


def test_demo_queue(driver, server, artifacts):
    """Three holders take the demo's slots through the API; a fourth user waits in the page's queue."""
    user = "queue-" + os.urandom(3).hex()
    holders = {}  # userId -> CreateSession's answer
    original = driver.current_window_handle
    driver.switch_to.new_window("tab")  # a new tab: fresh sessionStorage, a new user
    try:
        for holder in (f"{user}-holder-1", f"{user}-holder-2", f"{user}-holder-3"):
            status, applied = server.api("POST", "/v1/projects/demo/concurrency/apply", {"userId": holder})
            if status != 200:
                raise Failure(f"ApplyConcurrent for {holder}: HTTP {status} {applied} (are the demo's slots free?)")
            status, created = server.api("POST", "/v1/projects/demo/sessions", {"userId": holder})
            if status != 201:
                raise Failure(f"CreateSession for {holder}: HTTP {status} {created}")
            holders[holder] = created
        status, body = server.api("POST", "/v1/projects/demo/concurrency/apply", {"userId": user})
        if status != 429:
            raise Failure(f"the demo project is not full: a plain apply answered HTTP {status} {body}")
        print(f"   the demo's 3 slots are held: {', '.join(c['concurrencyId'] for c in holders.values())}")

        driver.get(server.base + "/demo")
        wait_until(driver, "the demo page", lambda d: d.find_elements(By.ID, "userId"))
        if driver.find_element(By.ID, "queue").is_displayed():
            raise Failure("the queue panel shows before the page was queued")
        driver.find_element(By.ID, "userId").send_keys(user)
        driver.find_element(By.ID, "start").click()
        wait_until(driver, "the queue panel with position 1 and an ETA",
                   lambda d: d.find_element(By.ID, "queue").is_displayed() and text(d, "queuePosition") == "1"
                   and text(d, "queueEta").startswith("≈ "))
        wait_until(driver, "the queue state 'waiting'", lambda d: text(d, "queueState") == "waiting")
        if text(driver, "state") != "idle" or not driver.find_element(By.ID, "start").get_property("disabled"):
            raise Failure(f"while queued: state {text(driver, 'state')!r}, Start enabled")
        listed = wait_for("the backend to list the page's ticket, its client connected",
                          lambda: ((q := queue_list(server))["length"] == 1 and q["tickets"][0]["userId"] == user
                                   and q["tickets"][0]["clientConnected"], q))
        ticket = listed["tickets"][0]["ticketId"]
        if text(driver, "queueTicket") != ticket:
            raise Failure(f"the panel shows ticket {text(driver, 'queueTicket')!r}, the backend {ticket}")
        print(f"   queued: {ticket}, position {text(driver, 'queuePosition')}, wait {text(driver, 'queueEta')}, "
              "client connected (GET /v1/projects/demo/queue)")
        driver.save_screenshot(os.path.join(artifacts, "demo-queue-waiting.png"))

        # One holder's session ends: its concurrency is offered to the page, which asks for its session.
        freed_user, freed = next(iter(holders.items()))
        status, body = server.api("DELETE", f"/v1/sessions/{freed['sessionId']}")
        if status != 200:
            raise Failure(f"DestroySession {freed['sessionId']}: HTTP {status} {body}")
        del holders[freed_user]
        wait_until(driver, "state 'connected' after the offer", lambda d: text(d, "state") == "connected")
        wait_until(driver, "the queue panel to be hidden", lambda d: not d.find_element(By.ID, "queue").is_displayed())
        wait_until(driver, "the queue to end taken (kick left after the offer)",
                   lambda d: d.execute_script("return window.tetherDemo.lastQueue?.state") == "taken")
        session_id = text(driver, "sessionId")
        status, session = server.api("GET", f"/v1/sessions/{session_id}")
        if status != 200 or session.get("userId") != user or session.get("concurrencyId") != freed["concurrencyId"]:
            raise Failure(f"the page's session {session_id}: HTTP {status} {session}; expected {user} on "
                          f"{freed['concurrencyId']} (the freed concurrency)")
        wait_for("the backend to see the page's session connected",
                 lambda: ((s := session_state(server, session_id))[1] == "connected", s))
        wait_for("the queue to be empty", lambda: ((q := queue_list(server))["length"] == 0, q))
        log = driver.find_element(By.ID, "log").text
        if "offered " + freed["concurrencyId"] not in log:
            raise Failure(f"no offer of {freed['concurrencyId']} in the page's log:\n{log}")
        wait_until(driver, "a heartbeat", lambda d: int(text(d, "heartbeats") or 0) >= 1)
        print(f"   holder's session destroyed -> offered {freed['concurrencyId']} -> {session_id} connected; "
              "panel hidden; queue empty")
        driver.save_screenshot(os.path.join(artifacts, "demo-queue.png"))

        driver.find_element(By.ID, "leave").click()
        wait_until(driver, "state 'ended' after leaving", lambda d: text(d, "state") == "ended")
        wait_for("the backend to see the page's session ended (left)",
                 lambda: ((r := server.api("GET", f"/v1/sessions/{session_id}")[1] or {})
                          .get("endReason") == "left", r.get("state")))
    finally:
        # The demo's three slots are shared with the demo check: free them whatever happened (on a failure the
        # tab stays in front, for the failure screenshot and the page's log).
        for created in holders.values():
            server.api("DELETE", f"/v1/sessions/{created['sessionId']}")
        server.api("DELETE", f"/v1/projects/demo/queue/{user}")
    driver.close()
    driver.switch_to.window(original)


RAW_CLIENT = r"""
import json, sys, threading, time, websocket
url, token = sys.argv[1], sys.argv[2]
def on_open(ws):
    ws.send(json.dumps({"type": "hello", "token": token}))
    def beat():
        seq = 0
        while True:
            time.sleep(1.5)
            seq += 1
            ws.send(json.dumps({"type": "ping", "seq": seq, "t": int(time.time() * 1000)}))
    threading.Thread(target=beat, daemon=True).start()
def on_message(ws, message):
    print(message, flush=True)
websocket.WebSocketApp(url, on_open=on_open, on_message=on_message).run_forever()
"""


class RawClient:
    """A plain WebSocket client of the client plane (websocket-client) in its own process, to kill -9."""

    def __init__(self, url, token):
        self.process = subprocess.Popen([sys.executable, "-c", RAW_CLIENT, url, token],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def welcome(self, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line = self.process.stdout.readline()
                if not line:
                    break
                if '"welcome"' in line:
                    return json.loads(line)
        raise Failure(f"the raw WebSocket client got no welcome within {timeout} s")

    def stop(self):
        """SIGSTOP: the socket stays open and the client falls silent (no heartbeat, no pong)."""
        if self.process.poll() is None:
            self.process.send_signal(19)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()  # SIGKILL: the kernel closes the socket, no close frame, no bye
        self.process.wait()


def test_dashboard(driver, server, artifacts):
    status, _ = server.api("POST", "/v1/projects", {
        "id": "dash", "capacity": 4, "heartbeat": {"intervalMs": 1000, "timeoutMs": 5000},
        "reconnectGraceMs": 60000})
    if status != 201:
        raise Failure(f"creating project dash: HTTP {status}")
    server.api("POST", "/v1/projects/dash/concurrency/apply", {"userId": "carol"})
    status, created = server.api("POST", "/v1/projects/dash/sessions", {"userId": "carol"})
    if status != 201:
        raise Failure(f"CreateSession: HTTP {status} {created}")
    session_id = created["sessionId"]
    client = RawClient(created["connect"]["websocket"], created["clientToken"])
    server.api("POST", "/v1/projects/dash/concurrency/apply", {"userId": "dave"})
    status, silent_created = server.api("POST", "/v1/projects/dash/sessions", {"userId": "dave"})
    if status != 201:
        raise Failure(f"CreateSession (dave): HTTP {status} {silent_created}")
    silent = RawClient(silent_created["connect"]["websocket"], silent_created["clientToken"])
    try:
        client.welcome()
        silent.welcome()
        driver.get(server.base + "/dashboard")
        wait_until(driver, "the sign-in form", lambda d: d.find_elements(By.ID, "apiKey"))

        # A wrong key is refused and nothing is kept.
        driver.find_element(By.ID, "apiKey").send_keys("not-the-key")
        driver.find_element(By.ID, "signin").click()
        wait_until(driver, "the wrong key to be refused", lambda d: "refused" in text(d, "signin-error"))
        if driver.execute_script("return sessionStorage.getItem('tether-dashboard:key')") is not None:
            raise Failure("a refused key was kept in sessionStorage")

        driver.find_element(By.ID, "apiKey").send_keys(server.key)
        driver.find_element(By.ID, "signin").click()
        row = f'tr[data-session="{session_id}"]'
        wait_until(driver, "the session's row, connected",
                   lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, row) if r.get_attribute("data-state") == "connected"])
        if server.key in driver.current_url:
            raise Failure("the API key is in the page's URL")
        if driver.execute_script("return sessionStorage.getItem('tether-dashboard:key')") != server.key:
            raise Failure("the API key is not kept in sessionStorage")
        wait_until(driver, "the event stream to be live", lambda d: text(d, "feed-status") == "live (SSE)")
        wait_until(driver, "the pool counts (dash: 2 connected)", lambda d: d.find_element(
            By.CSS_SELECTOR, '[data-project="dash"] [data-count="connected"] b').text == "2")
        print(f"   signed in (key in sessionStorage, not in the URL); {session_id} connected; feed live (SSE)")
        before = check_charts(driver)
        print("   charts.js parses /metrics in the page; pool plot shows 2 connected; RTT histogram counts pings")
        silent.stop()
        wait_for_lateness(driver, before)
        print("   a silent client (SIGSTOP) -> its heartbeat timeout counted in the lateness histogram")

        # The client dies: the server sees the socket close, the session goes to grace, the page follows.
        client.kill()
        wait_until(driver, "the session's row to leave 'connected' (grace)",
                   lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, row) if r.get_attribute("data-state") == "grace"])
        wait_until(driver, "a session.disconnected event in the list", lambda d: d.find_elements(
            By.CSS_SELECTOR, '#events tr[data-type="session.disconnected"]'))
        wait_until(driver, "a grace countdown", lambda d: "grace ends in" in d.find_element(By.CSS_SELECTOR, row).text)
        print("   client killed -> grace on the dashboard (event stream), countdown shown")
        driver.save_screenshot(os.path.join(artifacts, "dashboard.png"))
        driver.execute_script("document.querySelector('svg.pool-chart[data-project=\"dash\"]').scrollIntoView()")
        driver.save_screenshot(os.path.join(artifacts, "dashboard-charts.png"))
        driver.execute_script("window.scrollTo(0, 0)")

        # The stream ends when the server stops; the page resumes it (Last-Event-ID) and misses nothing.
        server.restart()
        status, _ = server.api("DELETE", f"/v1/sessions/{session_id}")
        if status != 200:
            raise Failure(f"DestroySession after the restart: HTTP {status}")
        wait_until(driver, "the session.ended event after the server restart", lambda d: [
            r for r in d.find_elements(By.CSS_SELECTOR, '#events tr[data-type="session.ended"]')
            if "dash" in r.text and "destroyed" in r.text], timeout=30)
        wait_until(driver, "the destroyed session's row to go", lambda d: not d.find_elements(By.CSS_SELECTOR, row))
        wait_until(driver, "the event stream to be live again", lambda d: text(d, "feed-status") == "live (SSE)")
        print("   server restarted: the stream resumed; DestroySession shown (session.ended, row gone)")
    finally:
        client.kill()
        silent.kill()


CHARTS_RULES = """
const done = arguments[arguments.length - 1];
import("/dashboard/charts.js").then((c) => {
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const text = [
    '# TYPE tether_rtt_seconds histogram',
    'tether_rtt_seconds_bucket{le="0.001"} 3',
    'tether_rtt_seconds_bucket{le="0.005"} 9',
    'tether_rtt_seconds_bucket{le="+Inf"} 10',
    'tether_rtt_seconds_sum 0.02',
    'tether_detection_lateness_seconds_bucket{deadline="heartbeat",le="0.001"} 1',
    'tether_detection_lateness_seconds_bucket{deadline="grace",le="0.001"} 7',
    'tether_detection_lateness_seconds_bucket{deadline="heartbeat",le="+Inf"} 2',
  ].join("\\n");
  const rtt = c.parseHistogram(text, "tether_rtt_seconds");
  check(JSON.stringify(rtt) === JSON.stringify([{le: 0.001, cumulative: 3}, {le: 0.005, cumulative: 9},
    {le: null, cumulative: 10}]), "parseHistogram: " + JSON.stringify(rtt));
  check(rtt[2].le === Infinity, "+Inf is Infinity");
  check(JSON.stringify(c.bucketCounts(rtt).map((b) => b.count)) === "[3,6,1]", "bucketCounts");
  check(c.quantileBound(rtt, 0.5) === 0.005 && c.quantileBound(rtt, 0.3) === 0.001, "p50 and p30 bounds");
  check(c.quantileBound(rtt, 0.99) === Infinity, "p99 past the last finite bound");
  check(c.quantileBound([], 0.5) === null, "no samples, no bound");
  const hb = c.parseHistogram(text, "tether_detection_lateness_seconds", {deadline: "heartbeat"});
  check(hb.length === 2 && hb[0].cumulative === 1 && hb[1].cumulative === 2, "label filter: " + JSON.stringify(hb));
  check(c.parseHistogram(text, "tether_absent_seconds").length === 0, "an absent family is empty");
  const chart = c.poolChart("p", [
    {at: Date.now() - 20000, total: 2, idle: 2, connected: 0, suspended: 0, grace: 0, queued: 0},
    {at: Date.now() - 7200000, total: 2, idle: 1, connected: 1, suspended: 0, grace: 0, queued: 0},
    {at: Date.now(), total: 2, idle: 0, connected: 2, suspended: 0, grace: 0, queued: 3}], Date.now());
  check(chart.getAttribute("data-samples") === "2", "samples older than an hour are left out");
  check(chart.querySelector('[data-legend="queued"]').textContent === "queued 3", "the legend shows the last sample");
  check(chart.getAttribute("data-span-ms") === String(5 * 60000), "a young history spans five minutes");
  const now = Date.now();
  check(c.chartSpan([], now) === 300000, "no samples: five minutes");
  check(c.chartSpan([{at: now - 1200000}], now) === 1200000, "20 minutes of history: 20 minutes");
  check(c.chartSpan([{at: now - 7200000}], now) === 3600000, "never more than an hour");
  done(failures);
}).catch((error) => done(["charts.js did not load: " + error]));
"""


def page_values(driver, selector, attribute):
    """The attribute of every element matching `selector`, read in one script: the dashboard redraws every
    second, so an element found by one WebDriver call may be gone (stale) by the next."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.getAttribute(arguments[1]))",
        selector, attribute)


def page_number(driver, selector, attribute):
    values = page_values(driver, selector, attribute)
    return int(values[0]) if values and values[0] is not None else None


def check_charts(driver):
    """The pool plot and the node's histograms (issue 18, item 5): parsing in the page, then the live plots."""
    driver.set_script_timeout(WAIT_S)
    failures = driver.execute_async_script(CHARTS_RULES)
    if failures:
        raise Failure("charts.js:\n  " + "\n  ".join(failures))
    pool = 'svg.pool-chart[data-project="dash"]'
    wait_until(driver, "the pool plot of dash (connected 2)", lambda d: d.execute_script(
        "const e = document.querySelector(arguments[0]); return e !== null && e.textContent === 'connected 2'",
        f'{pool} [data-legend="connected"]'))
    points = page_number(driver, f'{pool} polyline[data-series="connected"]', "data-points")
    if points is None or points < 1:
        raise Failure(f"the pool plot has {points} samples")
    wait_until(driver, "the RTT histogram to count server pings",
               lambda d: (page_number(d, 'svg[data-histogram="rtt"]', "data-total") or 0) > 0)
    return page_number(driver, 'svg[data-histogram="lateness"]', "data-total") or 0


def wait_for_lateness(driver, before):
    wait_until(driver, "the silent client's heartbeat timeout in the lateness histogram",
               lambda d: (page_number(d, 'svg[data-histogram="lateness"]', "data-total") or 0) > before, timeout=40)
    bars = [int(v) for v in page_values(driver, 'svg[data-histogram="lateness"] rect.bar', "data-count")]
    if sum(bars) <= before:
        raise Failure(f"the lateness histogram's bars add up to {sum(bars)}")


def test_bench_charts(driver, server, artifacts, pattern):
    """The SVG charts of `tether bench` (issue 18, item 5), opened in Chromium."""
    paths = sorted(glob.glob(pattern))
    if not paths:
        raise Failure(f"no bench chart matches {pattern}")
    for path in paths:
        driver.get("file://" + os.path.abspath(path))
        bars = driver.find_elements(By.CSS_SELECTOR, "rect.bar")
        if len(bars) != 15:
            raise Failure(f"{path}: {len(bars)} bars, not 15")
        title = driver.find_element(By.CSS_SELECTOR, "text").text
        if "detection lateness" not in title:
            raise Failure(f"{path}: title {title!r}")
        name = os.path.splitext(os.path.basename(path))[0]
        driver.save_screenshot(os.path.join(artifacts, f"{name}.png"))
        total = sum(int(b.get_attribute("data-count")) for b in bars)
        print(f"   {os.path.basename(path)}: 15 bars, {total} samples, screenshot artifacts/{name}.png")


def test_dashboard_project_key(driver, server, artifacts):
    """A project key signs in to the dashboard and sees its project only (issue 16, item 1)."""
    status, created = server.api("POST", "/v1/keys", {"name": "dash team", "projects": ["dash"]})
    if status != 201:
        raise Failure(f"creating a project key: HTTP {status} {created}")
    # The tab still holds the admin key: the page signs in with it; signing out forgets it. (Clearing
    # sessionStorage instead raced the page's own sign-in, which stored the key again after the clear.)
    driver.get(server.base + "/dashboard")
    wait_until(driver, "the sign-out button", lambda d: d.find_element(By.ID, "signout").is_displayed())
    driver.find_element(By.ID, "signout").click()
    wait_until(driver, "the sign-in form", lambda d: d.find_element(By.ID, "apiKey").is_displayed())
    if driver.execute_script("return sessionStorage.getItem('tether-dashboard:key')") is not None:
        raise Failure("signing out left the API key in sessionStorage")
    driver.find_element(By.ID, "apiKey").send_keys(created["key"])
    driver.find_element(By.ID, "signin").click()
    wait_until(driver, "project dash's pool", lambda d: d.find_elements(By.CSS_SELECTOR, '[data-project="dash"]'))
    wait_until(driver, "the event stream to be live", lambda d: text(d, "feed-status") == "live (SSE)")
    # Read in page scripts: the page redraws every second, so elements found by one WebDriver call may be
    # stale by the next (a fresh-clone CI run failed here on 2026-12-07).
    others = [p for p in page_values(driver, "[data-project]", "data-project") if p != "dash"]
    if others:
        raise Failure(f"a key of project dash sees other projects on the dashboard: {sorted(set(others))}")
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#events tr[data-type]')].map((r) => r.innerText)")
    if any("demo" in r.split() for r in rows):
        raise Failure("a key of project dash sees project demo's events")
    driver.save_screenshot(os.path.join(artifacts, "dashboard-project-key.png"))
    print(f"   signed in with a key of project dash: only dash shown ({len(rows)} events listed)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--artifacts", default="artifacts")
    parser.add_argument("--bench-charts", help="a glob of SVG charts written by `tether bench` to open and check")
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="tether-browser-")
    server = driver = None
    failed = None
    try:
        server = Server(os.path.abspath(args.binary), work)
        server.tls_certificate = Certificate(work)
        print(f"==> tether serve --demo on {server.base}")
        driver = make_driver(server.tls_certificate, work)
        print(f"==> {driver.capabilities.get('browserName')} {driver.capabilities.get('browserVersion')} (headless)")
        tests = [("sdk rules", test_sdk_rules), ("demo", test_demo), ("demo over wss", test_demo_tls),
                 ("demo queue", test_demo_queue),
                 ("dashboard", test_dashboard), ("dashboard with a project key", test_dashboard_project_key)]
        if args.bench_charts:
            tests.append(("bench charts", lambda d, s, a: test_bench_charts(d, s, a, args.bench_charts)))
        for name, test in tests:
            t0 = time.monotonic()
            print(f"==> {name}")
            test(driver, server, args.artifacts)
            print(f"   {name}: ok in {time.monotonic() - t0:.1f} s")
    except (Failure, WebDriverException) as error:
        failed = error
    finally:
        if failed is not None:
            print(f"browser test FAILED: {failed}", file=sys.stderr)
            if driver is not None:
                try:
                    driver.save_screenshot(os.path.join(args.artifacts, "failure.png"))
                    log = driver.execute_script(
                        "const l = document.getElementById('log'); return l ? l.innerText : ''")
                    if log:
                        print("page log (newest first):\n" + log, file=sys.stderr)
                except WebDriverException:
                    pass
            if server is not None:
                print("server log (tail):\n" + server.log_tail(), file=sys.stderr)
        if driver is not None:
            driver.quit()
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    if failed is not None:
        sys.exit(1)
    print(f"browser test: PASS in {elapsed:.1f} s (screenshots in {args.artifacts}/)")


if __name__ == "__main__":
    main()
