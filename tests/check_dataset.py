"""Loads the dataset the end-to-end test wrote with the four readers researchers use,
and checks they agree: same row counts, province as the Chinese name, year an integer.
Usage: python tests/check_dataset.py target/tmp/e2e-data"""
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds

out = sys.argv[1]
for table in ["reports", "facts"]:
    path = f"{out}/{table}"
    arrow = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    frame = pd.read_parquet(path)
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
