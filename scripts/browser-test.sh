#!/usr/bin/env bash
# Drives the demo (and the dashboard) in headless Chromium against a real `tether serve --demo`.
#
# Usage: scripts/browser-test.sh PATH_TO_TETHER_BINARY [BENCH_CHART_GLOB]
#
# Installs what is missing (Debian's chromium and chromium-driver with apt-get; selenium and websocket-client
# with pip), builds nothing, then runs scripts/browser-test.py, which starts the server on free ports with a
# temporary data file, checks the pages and writes screenshots to artifacts/; with BENCH_CHART_GLOB (the SVG
# charts a `tether bench` run wrote, e.g. '.build/bench-smoke.*.svg'), also opens and checks each of them.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH_TO_TETHER_BINARY [BENCH_CHART_GLOB]" >&2
    exit 2
fi

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "==> installing ${need_apt[*]} (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
need_pip=()
python3 -c 'import selenium' 2>/dev/null || need_pip+=(selenium)
python3 -c 'import websocket' 2>/dev/null || need_pip+=(websocket-client)
if [ ${#need_pip[@]} -gt 0 ]; then
    echo "==> installing ${need_pip[*]} (pip)"
    python3 -m pip install --quiet "${need_pip[@]}" >&2
fi

if [ $# -eq 2 ]; then
    exec python3 scripts/browser-test.py --binary "$1" --artifacts artifacts --bench-charts "$2"
fi
exec python3 scripts/browser-test.py --binary "$1" --artifacts artifacts
