"""Holds the coverage table of an acceptance-web crawl against the web's manifest:
every `found` row is a manifest report of that body and year, and no manifest report
is `not_listed`. Prints the confusion matrix of statuses, truth down, nianbao across.
Truth per (body, year): `published` (a reachable report), `robots` (a report behind
robots.txt Disallow), `none` (the manifest has no report: the body did not publish).
Usage: python tests/acceptance_coverage.py OUT_DIR MANIFEST_JSON"""
import collections
import json
import sys

import pandas as pd

out, manifest = sys.argv[1], json.load(open(sys.argv[2]))
coverage = pd.read_parquet(f"{out}/coverage")
coverage["year"] = coverage["year"].astype(int)
truth = {}
for r in manifest["reports"]:
    key = (r["host"], r["agency"], r["year"])
    kind = "published" if r["reachable"] else "robots" if "robots" in (r["unreachable_reason"] or "") else "unreachable"
    truth[key] = kind if truth.get(key) in (None, kind) else "published"

matrix = collections.Counter()
wrong = []
for row in coverage.itertuples():
    want = truth.get((row.host, row.agency, row.year), "none")
    matrix[(want, row.status)] += 1
    if row.status == "found" and want != "published":
        wrong.append(f"found but the manifest has no report: {row.agency} {row.year} ({row.evidence})")
    if row.status == "not_listed" and want != "none":
        wrong.append(f"not_listed but the manifest has a report: {row.agency} {row.year} ({row.evidence})")
covered = {(r.host, r.agency, r.year) for r in coverage.itertuples()}
missing = [k for k, kind in truth.items() if k not in covered and kind == "published" and k[2] >= coverage["year"].min()]
statuses = sorted({s for _, s in matrix})
print("truth \\ status  " + "".join(f"{s:>18}" for s in statuses))
for want in ["published", "robots", "unreachable", "none"]:
    if any(w == want for w, _ in matrix):
        print(f"{want:<16}" + "".join(f"{matrix[(want, s)]:>18}" for s in statuses))
print(f"{len(coverage)} rows, {coverage.agency.nunique()} bodies; manifest reports with no coverage row: {len(missing)}")
assert not missing, missing[:10]
assert not wrong, "\n".join(wrong[:20])
