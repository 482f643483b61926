"""Loads the datasets the tests wrote with the four readers researchers use, and checks
they agree: same row counts, province as the Chinese name, year an integer, an unknown
year read back as null, the wide table's figures equal to the facts, the key map and
every file's provenance metadata.
Usage: python tests/check_dataset.py target/tmp/e2e-data [target/tmp/unknown-year-data]"""
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

# The README's first pandas line: typed partitioning gives an integer year.
hive = ds.partitioning(pa.schema([("province", pa.string()), ("year", pa.int32())]), flavor="hive")

out = sys.argv[1]
for table in ["reports", "facts", "report_tables"]:
    path = f"{out}/{table}"
    arrow = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    frame = pd.read_parquet(path)
    typed = pd.read_parquet(path, partitioning=hive)
    assert pd.api.types.is_integer_dtype(typed["year"]) and (typed["year"] > 0).any(), typed["year"].dtype
    polars = pl.scan_parquet(f"{path}/**/*.parquet", hive_partitioning=True).collect()
    duck = duckdb.sql(f"SELECT * FROM read_parquet('{path}/**/*.parquet', hive_partitioning=true)").df()
    counts = {"pyarrow": arrow.num_rows, "pandas": len(frame), "polars": polars.height, "duckdb": len(duck)}
    assert len(set(counts.values())) == 1 and arrow.num_rows > 0, f"{table}: readers disagree: {counts}"
    provinces = set(arrow.column("province").to_pylist())
    assert "云南省" in provinces and "山西省" in provinces, provinces
    assert set(polars["province"].unique().to_list()) == provinces
    assert polars.schema["year"].is_integer(), polars.schema["year"]
    assert pl.Series(duck["year"]).dtype.is_integer(), duck["year"].dtype
    years = sorted(int(y) for y in set(arrow.column("year").to_pylist()))
    assert years == [2020, 2023, 2024], years
    yunnan = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}/**/*.parquet', hive_partitioning=true) WHERE province = '云南省'").fetchall()[0][0]
    assert yunnan > 0
    print(f"{table}: {arrow.num_rows} rows, same in pyarrow, pandas, polars and duckdb; provinces {sorted(provinces)}, years {years}")

reports = pd.read_parquet(f"{out}/reports")
assert reports["fetched_at"].dt.tz is not None, "fetched_at must be a UTC timestamp"
requests = duckdb.sql(
    f"""SELECT province, year, sum(value) AS received FROM read_parquet('{out}/facts/**/*.parquet', hive_partitioning=true)
        WHERE key = 'requests/new_received/total' GROUP BY ALL ORDER BY ALL"""
).fetchall()
assert ("云南省", 2024, 357.0) in requests, requests

# The raw archive is standard WARC: warcio reads every record and its HTTP response.
import glob

from warcio.archiveiterator import ArchiveIterator

responses = revisits = 0
for path in glob.glob(f"{out}/raw/*.warc.gz"):
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                assert record.http_headers.get_statuscode(), record.rec_headers
                assert record.rec_headers.get_header("WARC-Target-URI").startswith("http://")
                record.content_stream().read()
                responses += 1
            elif record.rec_type == "revisit":
                # A 304 of the second run: WARC 1.1's server-not-modified profile,
                # pointing at the response it revalidated.
                h = record.rec_headers
                assert h.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisits/server-not-modified", h
                assert h.get_header("WARC-Refers-To-Target-URI").startswith("http://"), h
                assert h.get_header("WARC-Refers-To-Date").endswith("Z"), h
                assert record.http_headers.get_statuscode() == "304", record.http_headers
                revisits += 1
assert responses >= 20, responses
assert revisits >= 12, revisits
print(f"raw: warcio read {responses} response and {revisits} revisit records")

# The wide table: one row per report version, each figure the value of its fact.
wide = duckdb.sql(f"SELECT * FROM read_parquet('{out}/report_tables/**/*.parquet', hive_partitioning=true)").df()
facts = duckdb.sql(
    f"""SELECT report_id, version, value FROM read_parquet('{out}/facts/**/*.parquet', hive_partitioning=true)
        WHERE key = 'requests/new_received/total'"""
).df()
joined = wide.merge(facts, on=["report_id", "version"], how="left")
assert len(wide) == len(pd.read_parquet(f"{out}/reports")), "one wide row per report version"
assert (joined["requests_new_received"].fillna(-1) == joined["value"].fillna(-1)).all(), joined[["requests_new_received", "value"]]
denied = [c for c in wide.columns if c.startswith("requests_result_denied_")]
subtotal = wide[denied].sum(axis=1, min_count=1)
assert (wide["requests_denied"].fillna(-1) == subtotal.fillna(-1)).all(), wide[["requests_denied"] + denied]
print(f"report_tables: {len(wide)} rows x {len(wide.columns)} columns, figures equal to the facts, subtotals equal to their parts")

# The key map beside the tables, and where every file came from.
import pyarrow.parquet as pq

keys = pd.read_parquet(f"{out}/keys.parquet")
assert len(keys) == 226 and keys["template_order"].is_monotonic_increasing, keys
assert keys.loc[keys.key == "requests/result.other/total", "counterpart"].item() == "requests/result.other.*/total (sum)"
one = sorted(glob.glob(f"{out}/facts/**/*.parquet", recursive=True))[0]
meta = {k.decode(): v.decode() for k, v in pq.read_metadata(one).metadata.items() if k.startswith(b"nianbao.")}
assert set(meta) == {"nianbao.version", "nianbao.run_id", "nianbao.built_at", "nianbao.extractor", "nianbao.schema_version"}, meta
# The dataset card beside the tables.
card = open(f"{out}/README.md").read()
assert f"dataset version: `{meta['nianbao.schema_version']}+" in card and "CC-BY-4.0" in card, card[:500]
assert "type: dataset" in open(f"{out}/CITATION.cff").read()
print(f"keys.parquet: {len(keys)} keys; provenance {meta}")

# A report whose year is unknown is in year=0. Hive's null partition would read back
# as null in pyarrow, polars and duckdb, but pandas' default read_parquet fails on it;
# a copy renamed to the null partition shows whether that reason still holds.
if len(sys.argv) > 2:
    import shutil
    import tempfile

    unknown = f"{sys.argv[2]}/reports"
    readers = {
        "pyarrow": lambda p: ds.dataset(p, format="parquet", partitioning="hive").to_table().column("year").to_pylist(),
        "pandas": lambda p: pd.read_parquet(p)["year"].tolist(),
        "polars": lambda p: pl.scan_parquet(f"{p}/**/*.parquet", hive_partitioning=True).collect()["year"].to_list(),
        "duckdb": lambda p: [r[0] for r in duckdb.sql(f"SELECT year FROM read_parquet('{p}/**/*.parquet', hive_partitioning=true)").fetchall()],
    }
    for reader, read in readers.items():
        got = sorted(int(y) for y in read(unknown))
        assert got == [0, 2023], f"{reader} reads the years as {got!r}"
    with tempfile.TemporaryDirectory() as tmp:
        copy = f"{tmp}/reports"
        shutil.copytree(unknown, copy)
        shutil.move(f"{copy}/province=云南省/year=0", f"{copy}/province=云南省/year=__HIVE_DEFAULT_PARTITION__")
        outcome = {}
        for reader, read in readers.items():
            try:
                outcome[reader] = sorted(str(y) for y in read(copy))
            except Exception as e:
                outcome[reader] = f"fails: {type(e).__name__}: {e}"
    print(f"unknown year: 0 in pyarrow, pandas, polars and duckdb; as Hive's null partition: {outcome}")
    if not str(outcome["pandas"]).startswith("fails"):
        print("NOTE: pandas now reads Hive's null partition: year=0 could become __HIVE_DEFAULT_PARTITION__")
