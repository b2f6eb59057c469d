#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server for the tests and `tether bench cluster`:
#   scripts/postgres.sh start DIR   installs Debian's postgresql when it is missing, creates a cluster in DIR
#                                   as an unprivileged user (initdb refuses root), starts it on 127.0.0.1 on a
#                                   free port and prints its URL (postgres://tether@127.0.0.1:PORT/postgres)
#   scripts/postgres.sh stop DIR    stops it (DIR can then be removed)
#   scripts/postgres.sh resume DIR  starts a stopped one again, on the same port (a database that comes back)
# Only the URL goes to standard output. The cluster trusts local connections: it is for tests, never for data.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop|resume DIR}
dir=${2:?usage: postgres.sh start|stop|resume DIR}

bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return; }
    return 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    if ! bin=$(bindir); then
        echo "==> installing postgresql" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin=$(bindir)
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    fi
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U tether --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" start >/dev/null
    echo "$port" >"$dir/port"
    echo "postgres://tether@127.0.0.1:$port/postgres"
    ;;
resume)
    bin=$(bindir)
    port=$(cat "$dir/port")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" start >/dev/null
    echo "postgres://tether@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(bindir)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    echo "usage: postgres.sh start|stop|resume DIR" >&2
    exit 2
    ;;
esac
