#!/usr/bin/env bash
# Fuzzes a running Tether against its own OpenAPI document with Schemathesis.
#
# Usage: scripts/schemathesis.sh PATH_TO_TETHER_BINARY
#
# Starts `tether serve` on free ports with a throwaway SQLite file and API key, creates a project ("demo", the
# id the document's examples use), runs Schemathesis against http://127.0.0.1:PORT/openapi.json with every
# check (`all`: schema-valid data must be accepted, schema-invalid data refused, undeclared methods answered 405,
# ...) in every phase (examples, coverage, fuzzing, stateful), with the settings in scripts/schemathesis.toml,
# bounded (examples per operation, fixed seed, one worker, wall clock), stops the server, prints a one-line
# summary and exits with Schemathesis' status (124 when the wall-clock bound was hit).
# Environment: ST_CHECKS (all), ST_MAX_EXAMPLES (30), ST_SEED (20240601), ST_TIMEOUT (600 s), ST_REPORT_DIR (when set, a JUnit
# report is written there), ST_KEEP=1 (keep the temp dir with the server log and Schemathesis' output).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH_TO_TETHER_BINARY" >&2
    exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
max_examples=${ST_MAX_EXAMPLES:-30}
seed=${ST_SEED:-20240601}
wall=${ST_TIMEOUT:-600}

# --- Schemathesis (the `st` command), installed from PyPI when missing.
find_st() {
    st=""
    for candidate in st schemathesis; do
        if command -v "$candidate" >/dev/null 2>&1; then st=$(command -v "$candidate"); return; fi
    done
    # pip may have put the scripts where PATH does not look (pip install --user).
    local bin
    bin=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    for dir in "$bin" "$HOME/.local/bin"; do
        if [ -n "$dir" ] && [ -x "$dir/st" ]; then st="$dir/st"; return; fi
    done
}
find_st
if [ -z "$st" ]; then
    echo "==> installing schemathesis (pip)"
    python3 -m pip install --quiet schemathesis >&2
    hash -r
    find_st
    [ -n "$st" ] || { echo "schemathesis installed but its 'st' command was not found" >&2; exit 2; }
fi
st_version=$("$st" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1)
st_major=${st_version%%.*}
help=$("$st" run --help 2>&1 || true)

# --- The server, on free ports, with its own data file and key.
work=$(mktemp -d "${TMPDIR:-/tmp}/tether-st.XXXXXX")
report_dir=${ST_REPORT_DIR:-}
[ -z "$report_dir" ] || mkdir -p "$report_dir"
read -r port client_port < <(python3 - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
key="st-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
base="http://127.0.0.1:$port"

server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    [ "${ST_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

"$binary" serve --host 127.0.0.1 --port "$port" --client-port "$client_port" --tcp-port 0 \
    --data "$work/t.sqlite" --api-key "$key" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 300); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "tether exited at start:" >&2; cat "$work/server.log" >&2; exit 2; }
    sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { echo "tether did not answer /healthz in 30 s" >&2; cat "$work/server.log" >&2; exit 2; }

auth="Authorization: Bearer $key"
curl -fsS -X POST "$base/v1/projects" -H "$auth" -H 'Content-Type: application/json' \
    -d '{"id":"demo","name":"Demo","capacity":5}' >/dev/null
# A reservation and a session, so that session reads and the event feed have something to show.
curl -fsS -X POST "$base/v1/projects/demo/concurrency/apply" -H "$auth" -H 'Content-Type: application/json' \
    -d '{"userId":"u-1"}' >/dev/null
curl -fsS -X POST "$base/v1/projects/demo/sessions" -H "$auth" -H 'Content-Type: application/json' \
    -d '{"userId":"u-1","parameters":{"level":3}}' >/dev/null

# --- Schemathesis, with the flags of the installed major version.
checks=${ST_CHECKS:-all}
config=$(cd "$(dirname "$0")" && pwd)/schemathesis.toml
has() { grep -q -- "$1" <<<"$help"; }
if [ "$st_major" -ge 4 ]; then
    # Every check, as scripts/schemathesis.toml says; --checks on the command line would override the file.
    args=(--config-file "$config" run "$base/openapi.json" -H "$auth")
    [ "$checks" = all ] || args+=(--checks "$checks")
else
    args=(run "$base/openapi.json" -H "$auth" --checks "$checks")
fi
if [ "$st_major" -ge 4 ]; then
    args+=(--max-examples "$max_examples" --seed "$seed" --workers 1 --no-color)
    # A fixed seed and no example database: the same server gives the same run (--generation-deterministic
    # would do too, but it cannot be combined with a database setting and hides the seed).
    if has --generation-database; then args+=(--generation-database none); fi
    if [ -n "$report_dir" ]; then args+=(--report junit --report-junit-path "$report_dir/junit.xml"); fi
else
    args+=(--base-url "$base" --hypothesis-max-examples "$max_examples" --hypothesis-seed "$seed" --workers 1)
    if has --hypothesis-derandomize; then args+=(--hypothesis-derandomize); fi
    if has --hypothesis-database; then args+=(--hypothesis-database none); fi
    if [ -n "$report_dir" ]; then args+=(--junit-xml "$report_dir/junit.xml"); fi
    if has --no-color; then args+=(--no-color); fi
fi

shown=("${args[@]/$key/<key>}")
echo "==> $(basename "$st") $(printf '%q ' "${shown[@]}")"
set +e
# From the temp dir: Schemathesis keeps a cache (.schemathesis/) in the working directory.
(cd "$work" && timeout "$wall" "$st" "${args[@]}") 2>&1 | tee "$work/st.log"
status=${PIPESTATUS[0]}
set -e

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "tether died during the run; its log:" >&2
    tail -50 "$work/server.log" >&2
    [ "$status" -ne 0 ] || status=1
fi

# One line: the verdict, the settings that reproduce the run, and Schemathesis' own closing line.
closing=$(grep -vE '^\s*$' "$work/st.log" | tail -1 | sed -E 's/=+//g; s/^ +| +$//g' || true)
verdict=$([ "$status" -eq 0 ] && echo PASS || { [ "$status" -eq 124 ] && echo "TIMEOUT (${wall}s)" || echo FAIL; })
echo "schemathesis: $verdict (exit $status) | schemathesis $st_version, seed $seed, max-examples $max_examples | $closing"
exit "$status"
