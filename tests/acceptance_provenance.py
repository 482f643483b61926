"""Every fact read by OCR says so, and no other does: on the acceptance web crawled by
a nianbao built with `--features ocr`, the reports the web publishes as pictures
(`source_type` image or scan in its manifest) have every fact `read_by = 'ocr'`, each
printed cell with its recognizer's `confidence` in (0, 1]; every other report's facts
are `read_by = 'text'` with no confidence.
Usage: python tests/acceptance_provenance.py OUT_DIR MANIFEST_JSON
"""
import json
import sys

import pyarrow.dataset as ds

out, manifest = sys.argv[1], json.load(open(sys.argv[2]))
pictured = {r["url"] for r in manifest["reports"] if r["source_type"] in ("image", "scan")}
reports = ds.dataset(f"{out}/reports", partitioning="hive").to_table(columns=["report_id", "url"]).to_pylist()
facts = ds.dataset(f"{out}/facts", partitioning="hive").to_table(columns=["report_id", "raw", "read_by", "confidence"]).to_pylist()
# A report's URL as listed may carry a query (`?from=index`); the manifest's does not.
by_ocr = {r["report_id"] for r in reports if r["url"].split("?")[0] in pictured}
wrong = []
for f in facts:
    if f["report_id"] in by_ocr:
        ok = f["read_by"] == "ocr" and (f["raw"] == "" or (f["confidence"] is not None and 0 < f["confidence"] <= 1))
    else:
        ok = f["read_by"] == "text" and f["confidence"] is None
    wrong += [] if ok else [f]
read = sum(1 for f in facts if f["report_id"] in by_ocr)
print(f"provenance: {read} facts of {len(by_ocr)} pictured reports read by OCR, {len(facts) - read} from text; {len(wrong)} wrong")
if not by_ocr or not read or wrong:
    sys.exit(f"provenance wrong: {wrong[:5]}")
