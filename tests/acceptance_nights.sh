#!/usr/bin/env bash
# Two nights over the acceptance web with nothing changed between them, a day apart
# on the revisit schedule's clock (NIANBAO_NOW): prints each night's requests by kind
# (robots.txt, and the kind of page each asked for, from the crawl state) and fails
# when the second night asks for more than a quarter of the first's requests, or when
# its dataset differs from the first's.
#   tests/acceptance_nights.sh NIANBAO_BIN WEB_DIR MOCKWEB_PY WORK_DIR
# WEB_DIR is a web MOCKWEB_PY serves (the acceptance web's build, seeds.csv inside).
set -euo pipefail
BIN=$(realpath "$1"); WEB=$(realpath "$2"); MOCKWEB=$(realpath "$3"); WORK=$4
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(realpath "$WORK")
pf=$(mktemp)
python3 "$MOCKWEB" "$WEB" --port 0 --port-file "$pf" --log "$WORK/requests.jsonl" --lifetime 3600 >"$WORK/mockweb.log" 2>&1 &
MOCK=$!; trap 'kill $MOCK 2>/dev/null || true; rm -f "$pf"' EXIT
for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$pf")
export HTTP_PROXY=$PROXY HTTPS_PROXY=$PROXY http_proxy=$PROXY https_proxy=$PROXY NO_PROXY= no_proxy=
# The built-in settings, wherever this runs from.
cd "$WORK"
night() {  # $1: night, $2: the schedule's clock
  NIANBAO_NOW=$2 "$BIN" crawl --seeds "$WEB/seeds.csv" --out "$WORK/out" >"$WORK/night$1.log" 2>&1 </dev/null
  wc -l <"$WORK/requests.jsonl" >"$WORK/requests-after-$1"
  cp -r "$WORK/out/reports" "$WORK/out/facts" "$WORK/out/coverage" "$WORK/out/report_tables" "$WORK/night$1-tables" 2>/dev/null || {
    mkdir -p "$WORK/night$1-tables" && cp -r "$WORK/out/reports" "$WORK/out/facts" "$WORK/out/coverage" "$WORK/out/report_tables" "$WORK/night$1-tables/"; }
}
night 1 2026-03-01T02:00:00Z
night 2 2026-03-02T02:00:00Z
python3 "$HERE/acceptance_nights.py" "$WORK"
