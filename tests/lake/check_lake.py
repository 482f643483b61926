"""Reads a nianbao Delta Lake with the readers researchers use (python deltalake,
polars, DuckDB) and checks it holds what local datasets hold together: the same
(report_id, version, province, year) reports and (report_id, version, key, value)
facts, no row twice.

Usage: python tests/lake/check_lake.py LAKE_URI LOCAL_OUT... [--version N]
S3 settings come from the AWS_* variables (endpoint, keys, region, AWS_ALLOW_HTTP).
With --version, every table is read as of that version (time travel).
"""
import argparse
import importlib.resources
import os
from collections import Counter

import duckdb
import polars as pl
import pyarrow.dataset as ds
from deltalake import DeltaTable

parser = argparse.ArgumentParser()
parser.add_argument("lake")
parser.add_argument("local", nargs="+")
parser.add_argument("--version", type=int)
args = parser.parse_args()

storage = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}


def uri(table):
    return f"{args.lake.rstrip('/')}/{table}"


def local(table, columns):
    rows = Counter()
    for out in args.local:
        data = ds.dataset(f"{out}/{table}", format="parquet", partitioning="hive").to_table(columns=columns)
        rows.update(zip(*(data.column(c).to_pylist() for c in columns)))
    return rows


def with_deltalake(table, columns):
    dt = DeltaTable(uri(table), storage_options=storage, version=args.version)
    data = dt.to_pyarrow_dataset().to_table(columns=columns)
    return Counter(zip(*(data.column(c).to_pylist() for c in columns)))


def with_polars(table, columns):
    frame = pl.scan_delta(uri(table), storage_options=storage, version=args.version).select(columns).collect()
    return Counter(frame.iter_rows())


# DuckDB's extensions from their wheels (duckdb-extension-delta, -httpfs): loaded by
# path, not downloaded.
extensions = [
    next(iter(importlib.resources.files(f"duckdb_extension_{name}").joinpath("extensions").glob(f"*/{name}.duckdb_extension")))
    for name in ("httpfs", "delta")
]


def with_duckdb(table, columns):
    con = duckdb.connect()
    for extension in extensions:
        con.execute(f"LOAD '{extension}'")
    if args.lake.startswith("s3"):
        endpoint = os.environ["AWS_ENDPOINT_URL"].split("://", 1)
        con.execute(
            "CREATE SECRET lake (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
            [os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_REGION", "us-east-1"), endpoint[1], endpoint[0] == "https"],
        )
    version = f", version => {args.version}" if args.version is not None else ""
    rows = con.execute(f"SELECT {', '.join(columns)} FROM delta_scan('{uri(table)}'{version})").fetchall()
    return Counter(rows)


checks = {"reports": ["report_id", "version", "province", "year"], "facts": ["report_id", "version", "key", "value"]}
for table, columns in checks.items():
    expected = local(table, columns)
    assert expected, f"{args.local}: no {table}: nothing to compare"
    for reader in (with_deltalake, with_polars, with_duckdb):
        got = reader(table, columns)
        missing, extra = expected - got, got - expected
        assert not missing and not extra, f"{table} by {reader.__name__}: {sum(missing.values())} rows missing, {sum(extra.values())} extra; e.g. {list(missing)[:2]} {list(extra)[:2]}"
        doubled = [row for row, n in got.items() if n > 1]
        assert not doubled, f"{table} by {reader.__name__}: rows held twice, e.g. {doubled[:2]}"
    print(f"{table}: {sum(got.values())} rows, read alike by python deltalake, polars and duckdb")

# Every column, lists of structs included, reads in each reader.
whole = {
    "python deltalake": DeltaTable(uri("reports"), storage_options=storage, version=args.version).to_pyarrow_table().num_rows,
    "pandas": len(DeltaTable(uri("reports"), storage_options=storage, version=args.version).to_pandas()),
    "polars": pl.read_delta(uri("reports"), storage_options=storage, version=args.version).height,
}
assert len(set(whole.values())) == 1, whole
print(f"reports, every column: {whole}")
