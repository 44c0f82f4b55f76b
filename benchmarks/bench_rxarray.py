"""A prescription table whose drugs are a JSON array in one column: the dry-run export with the scaffold's order line
section reading one row per element (and the prescription rows carried whole by their own section) against the
same table carried whole, no order line (the two sections left out, as before). docs/performance.md, "A
prescription's JSON array of drugs".

``--rows`` prescriptions of 1 to 4 drugs each (2.5 on average) in the clinic of tests/connectors/rxarray_clinic.py
(30 patients, 90 visits), on a SQLite file or a MariaDB/PostgreSQL server (the database ``emr_rxarray`` made anew;
the connection string from EMR_TEST_MARIADB / EMR_TEST_POSTGRES); its connector written by ``scaffold``; each
export once per ``--runs``, alternated, one worker.

``--server-version`` (MariaDB): the version the scaffold is told the server has, so that it writes the query that
version reads (``10.5.27-MariaDB``: each element at its position, no JSON_TABLE; drivers.json_array_reading).

Run: ``.venv/bin/python benchmarks/bench_rxarray.py --engine postgresql --rows 20000 --runs 2``
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "connectors"))


def _export(spec: Any, source: Any) -> tuple[float, int]:
    from emr_exporter.model import Institution
    from emr_exporter.pipeline import export as ex

    started = time.perf_counter()
    run = ex.ExportRun(spec, source, institution=Institution(code="12345678", name="의원"),
                       created=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), workers=1)
    ex.digest_stream(run.stream())
    lines = next((e.exported for e in run.reconciliation.entities if e.entity == "order_line"), 0)
    return time.perf_counter() - started, lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "mariadb", "postgresql"), required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--server-version", help="MariaDB: the VERSION() the scaffold reads (10.5.27-MariaDB)")
    args = parser.parse_args()
    import rxarray_clinic

    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress
    from emr_exporter.sources.base import SqliteFileSource
    from emr_exporter.sources.drivers import get_option
    from emr_exporter.sources.odbc import OdbcSource

    with tempfile.TemporaryDirectory() as folder, mock.patch.object(rxarray_clinic, "PRESCRIPTIONS", args.rows):
        kind = "postgresql-jsonb" if args.engine == "postgresql" else args.engine
        if args.engine == "sqlite":
            clinic = rxarray_clinic.create_rxarray_clinic(kind, path=Path(folder) / "rx.sqlite")
            address = SourceAddress(database=clinic.path)
        else:
            server = os.environ["EMR_TEST_MARIADB" if args.engine == "mariadb" else "EMR_TEST_POSTGRES"]
            clinic = rxarray_clinic.create_rxarray_clinic(kind, server)
            address = SourceAddress(odbc=clinic.odbc, password=get_option(clinic.odbc or "", "PWD"))
        told = args.server_version
        with (mock.patch("emr_exporter.sources.drivers.server_version", lambda source: told) if told
              else contextlib.nullcontext()):
            spec = load_spec(write_scaffold("bench", Path(folder) / "out", address).folder)
        query = spec.entities["order_line"].query or ""
        print("order lines read by", "JSON_TABLE" if "JSON_TABLE(" in query else
              "positions" if "STRAIGHT_JOIN" in query else "the engine's own unnesting")
        carried = dataclasses.replace(spec, entities={
            n: e for n, e in spec.entities.items() if e.table.lower() != "ra_rx"})
        times: dict[str, list[float]] = {"lines": [], "carried": []}
        for _ in range(args.runs):
            for label, chosen in (("carried", carried), ("lines", spec)):
                source: Any = (SqliteFileSource(clinic.path) if clinic.path is not None
                               else OdbcSource(clinic.odbc or "", snapshot=True))
                try:
                    seconds, lines = _export(chosen, source)
                finally:
                    source.close()
                times[label].append(seconds)
                print(f"{label:8} {seconds:6.2f} s  order lines {lines}")
        for label, said in (("carried", "the table carried whole"), ("lines", "one order line per element")):
            print(f"{args.engine}, {args.rows} prescriptions, {said}: median {statistics.median(times[label]):.2f} s")


if __name__ == "__main__":
    main()
