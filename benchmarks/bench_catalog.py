"""The catalogue read of an ODBC source (``list_tables``: ``SQLTables``, then ``SQLColumns`` and ``SQLPrimaryKeys``
per table, and the engine's own catalogue queries), timed: what running each driver call through the source's
waiter (``sources/waiting.py``) costs.

    .venv/bin/python benchmarks/bench_catalog.py ODBC [--runs 30] [--extra 300]

``ODBC``: a connection string with its password (a test server). ``--extra N`` first creates N more tables
``bench_catalog_<i>`` (3 columns, a primary key) and drops them at the end. Prints the median and range of
``list_tables`` over ``--runs`` runs on one open source, in ms, and the tables listed. Compare two checkouts by
running this file with each one's ``PYTHONPATH=<checkout>/src``, alternating.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import pyodbc

from emr_exporter.sources.catalog import list_tables
from emr_exporter.sources.odbc import OdbcSource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("odbc")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--extra", type=int, default=0)
    args = parser.parse_args()
    names = [f"bench_catalog_{i}" for i in range(args.extra)]
    if names:
        with pyodbc.connect(args.odbc, autocommit=True) as admin:
            for name in names:
                admin.execute(f"DROP TABLE IF EXISTS {name}")
                admin.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, code VARCHAR(20), note VARCHAR(200))")
    try:
        source = OdbcSource(args.odbc)
        try:
            listed = list_tables(source)  # warm: the driver's and the server's caches
            took = []
            for _ in range(args.runs):
                started = time.perf_counter()
                list_tables(source)
                took.append((time.perf_counter() - started) * 1000)
        finally:
            source.close()
    finally:
        if names:
            with pyodbc.connect(args.odbc, autocommit=True) as admin:
                for name in names:
                    admin.execute(f"DROP TABLE IF EXISTS {name}")
    print(f"{source.engine}: {len(listed)} tables, {sum(len(t.columns) for t in listed)} columns; list_tables "
          f"median {statistics.median(took):.1f} ms (range {min(took):.1f}–{max(took):.1f}) over {args.runs} runs",
          file=sys.stdout)


if __name__ == "__main__":
    main()
