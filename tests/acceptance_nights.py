"""Reads what tests/acceptance_nights.sh left in WORK_DIR: each night's requests by
kind, the second night's share of the first's (at most a quarter), and whether the
two nights' tables are the same row for row (run-time columns aside).
Usage: python tests/acceptance_nights.py WORK_DIR"""
import collections
import json
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.dataset as ds

work = Path(sys.argv[1])
state = sqlite3.connect(work / "out/state/nianbao.sqlite")
kinds = {}
# A page is asked for under its canonical URL, the URL it was linked as, or where it
# was redirected to (pages.url).
for kind, *urls in state.execute(
    "SELECT f.kind, f.canonical, json_extract(f.target, '$.url'), p.url FROM frontier f LEFT JOIN pages p USING (canonical)"
):
    for url in filter(None, urls):
        u = urlsplit(url)
        kinds[(u.hostname, (u.path or "/") + (f"?{u.query}" if u.query else ""))] = kind
lines = open(work / "requests.jsonl").read().splitlines()
ends = [0] + [int(open(work / f"requests-after-{n}").read()) for n in (1, 2)]
counts = []
for n in (1, 2):
    c = collections.Counter()
    for line in lines[ends[n - 1]:ends[n]]:
        r = json.loads(line)
        c["robots" if r["path"] == "/robots.txt" else kinds.get((r["host"], r["path"]), "redirect hop")] += 1
    counts.append(c)
    print(f"night {n}: {sum(c.values())} requests: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
first, second = (sum(c.values()) for c in counts)
share = second / first
print(f"the second night asks for {share:.1%} of the first's requests (bar 25%)")

def rows(night, table):
    frame = ds.dataset(work / f"night{night}-tables/{table}", format="parquet", partitioning="hive").to_table().to_pandas()
    frame = frame.drop(columns=[c for c in ("fetched_at", "first_seen", "last_seen") if c in frame.columns])
    return sorted(map(repr, frame.astype(str).values.tolist()))

different = [t for t in ("reports", "facts", "report_tables", "coverage") if rows(1, t) != rows(2, t)]
print("the two nights' tables: " + ("the same" if not different else "differ: " + ", ".join(different)))
if share > 0.25 or different:
    sys.exit("acceptance nights: below the bar")
