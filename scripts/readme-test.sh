#!/usr/bin/env bash
# Runs every ```sh block of README.md, in the order written, against a fresh server, as a reader would type
# them into one shell (variables set by a block are seen by the later ones).
#
# Usage: scripts/readme-test.sh PATH_TO_TETHER_BINARY   (TETHER_README_VERBOSE=1 prints each block's output)
#
# Rules:
# * The binary is on PATH as `tether` (`swift run [-c release] tether` in a block means it).
# * A block preceded by `<!-- readme-test: serve ... -->` starts the server: this script (re)starts
#   `tether serve` with the block's flags itself, on a temporary data file and free ports, waits for
#   /healthz, and exports the API key it printed at first start as TETHER_API_KEY (what README tells the
#   reader to do) and the backend URL as TETHER_URL.
# * A block preceded by `<!-- readme-test: skip (reason) -->` is not run (the reason is printed).
# * `127.0.0.1:8080` in a block is the server's backend address (rewritten to its free port).
# * A command whose comment says `Ctrl-C` runs until interrupted: it gets SIGINT after 3 s, which counts
#   as success.
# * A block fails when a command fails (`set -e -o pipefail`) or when its output has an API error
#   (`{"error":{"code"...`). The first failure stops the run with the block, its output and the server log.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH_TO_TETHER_BINARY" >&2
    exit 2
fi
RT_BINARY="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
RT_README="${TETHER_README:-README.md}"  # another file only to try the script itself

if ! command -v jq >/dev/null 2>&1; then
    echo "==> installing jq (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
fi

RT_DIR="$(mktemp -d -t tether-readme-XXXXXX)"
RT_SERVER_PID=""
RT_CURRENT=""
RT_WATCHDOG=""
mkdir -p "$RT_DIR/bin" "$RT_DIR/blocks"
ln -s "$RT_BINARY" "$RT_DIR/bin/tether"
export PATH="$RT_DIR/bin:$PATH"

rt_stop_server() {
    if [ -n "$RT_SERVER_PID" ]; then
        kill -TERM "$RT_SERVER_PID" 2>/dev/null || true
        wait "$RT_SERVER_PID" 2>/dev/null || true
        RT_SERVER_PID=""
    fi
}

rt_report() {
    local status=$?
    set +e
    if [ -n "$RT_CURRENT" ]; then
        echo "FAILED: $RT_README block at line $(cat "$RT_DIR/blocks/$RT_CURRENT.line") (exit $status):" >&2
        sed 's/^/    | /' "$RT_DIR/blocks/$RT_CURRENT.sh" >&2
        echo "  its output:" >&2
        sed 's/^/    > /' "$RT_DIR/blocks/$RT_CURRENT.out" 2>/dev/null | tail -40 >&2
        echo "  the server's log (last 30 lines):" >&2
        tail -30 "$RT_DIR/serve.log" 2>/dev/null | sed 's/^/    ! /' >&2
        status=1
    fi
    rt_stop_server
    [ -z "$RT_WATCHDOG" ] || kill "$RT_WATCHDOG" 2>/dev/null
    rm -rf "$RT_DIR"
    exit "$status"
}
trap rt_report EXIT
trap 'echo "readme-test: timed out" >&2; exit 124' TERM
# A watchdog: the whole run takes seconds; a hung command must not hang CI.
(
    sleep 120 &
    RT_SLEEP=$!
    trap 'kill $RT_SLEEP 2>/dev/null; exit 0' TERM
    wait "$RT_SLEEP" && pkill -TERM -P $$ 2>/dev/null
    kill -TERM $$ 2>/dev/null
) &
RT_WATCHDOG=$!
disown "$RT_WATCHDOG"

rt_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
RT_PORT="$(rt_free_port)"
RT_CLIENT_PORT="$(rt_free_port)"
RT_TCP_PORT="$(rt_free_port)"

# (Re)starts `tether serve` with the flags of a serve block.
rt_serve() {
    local flags="$1"
    rt_stop_server
    # shellcheck disable=SC2086 # the flags are words as written in the README
    tether serve $flags --host 127.0.0.1 --port "$RT_PORT" --client-port "$RT_CLIENT_PORT" \
        --tcp-port "$RT_TCP_PORT" --data "$RT_DIR/tether.sqlite" >>"$RT_DIR/serve.log" 2>&1 &
    RT_SERVER_PID=$!
    local tries=0
    until curl -sf "http://127.0.0.1:$RT_PORT/healthz" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -gt 300 ] || ! kill -0 "$RT_SERVER_PID" 2>/dev/null; then
            echo "tether serve $flags did not come up" >&2
            return 1
        fi
        sleep 0.1
    done
    local key
    key="$(grep -o 'generated API key[^:]*: tk_[A-Za-z0-9_-]*' "$RT_DIR/serve.log" | head -1 | sed 's/.*: //')"
    if [ -z "$key" ]; then
        echo "the server printed no API key at first start" >&2
        return 1
    fi
    export TETHER_API_KEY="$key"
    export TETHER_URL="http://127.0.0.1:$RT_PORT"
}

# Splits README.md into blocks: N.sh (the text), N.line (where it starts), N.marker (the readme-test comment
# right before it, if any).
awk -v dir="$RT_DIR/blocks" '
    /^```sh[[:space:]]*$/ {
        n++; name = sprintf("%s/%03d", dir, n); inblock = 1
        print NR > (name ".line"); close(name ".line")
        printf "%s", marker > (name ".marker"); close(name ".marker")
        printf "" > (name ".sh")
        marker = ""; next
    }
    inblock && /^```/ { inblock = 0; close(name ".sh"); next }
    inblock { print > (name ".sh"); next }
    /^<!-- readme-test: .*-->[[:space:]]*$/ { marker = $0; next }
    /^[[:space:]]*$/ { next }
    { marker = "" }
' "$RT_README"

# A block as it runs here: the backend address rewritten, Ctrl-C commands interrupted after 3 s.
rt_prepare() {
    sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$RT_PORT/g" "$1" | awk '
        /#.*Ctrl-C/ {
            i = index($0, "#"); cmd = substr($0, 1, i - 1); sub(/[[:space:]]+$/, "", cmd)
            print "{ timeout -s INT 3 " cmd " || [ $? -eq 124 ]; }  " substr($0, i); next
        }
        { print }'
}

RT_COUNT=0
for RT_BLOCK in "$RT_DIR"/blocks/*.sh; do
    RT_ID="$(basename "$RT_BLOCK" .sh)"
    RT_MARKER="$(cat "$RT_DIR/blocks/$RT_ID.marker")"
    RT_LINE="$(cat "$RT_DIR/blocks/$RT_ID.line")"
    case "$RT_MARKER" in
    *"readme-test: skip"*)
        echo "--- line $RT_LINE: skipped ${RT_MARKER#*skip }" | sed 's/ *-->$//'
        continue
        ;;
    *"readme-test: serve"*)
        RT_CURRENT="$RT_ID"
        RT_FLAGS="$(head -1 "$RT_BLOCK" | sed -e 's/#.*//' -e 's/.*tether serve//' -e 's/[[:space:]]*$//')"
        echo "--- line $RT_LINE: tether serve$RT_FLAGS (started here)"
        rt_serve "$RT_FLAGS" >"$RT_DIR/blocks/$RT_ID.out" 2>&1
        RT_CURRENT=""
        RT_COUNT=$((RT_COUNT + 1))
        continue
        ;;
    esac
    echo "--- line $RT_LINE: $(head -1 "$RT_BLOCK")"
    rt_prepare "$RT_BLOCK" >"$RT_DIR/blocks/$RT_ID.run"
    RT_CURRENT="$RT_ID"
    # In this shell, as a reader's terminal: what a block sets, later blocks see.
    # shellcheck disable=SC1090
    source "$RT_DIR/blocks/$RT_ID.run" >"$RT_DIR/blocks/$RT_ID.out" 2>&1
    if grep -q '"error":{"code"' "$RT_DIR/blocks/$RT_ID.out"; then
        echo "the block's output has an API error" >>"$RT_DIR/blocks/$RT_ID.out"
        false
    fi
    [ -z "${TETHER_README_VERBOSE:-}" ] || sed 's/^/    > /' "$RT_DIR/blocks/$RT_ID.out"
    RT_CURRENT=""
    RT_COUNT=$((RT_COUNT + 1))
done
echo "README walk-through: $RT_COUNT blocks passed"
