"""What listing each lab report's results costs (docs/performance.md, "A lab report's results").

A SQLite clinic of ``--results`` lab results in panels of ten (``LAB_PANEL`` / ``LAB_RSLT.PANEL_NO``), exported
(dry: read, map, FHIR, NDJSON, tar, SHA-256) by one connector with ``report_id`` and by the same connector without
it (no list; ``PANEL_NO`` carried raw), with and without an index on ``LAB_RSLT.PANEL_NO``. Each run in its own
process: wall and CPU seconds, peak RSS (``ru_maxrss``).

    PYTHONPATH=src python benchmarks/bench_lab_panels.py --results 100000

``--before-src DIR`` (another version's ``src``, e.g. ``git archive bb3b0c1 src | tar -x -C /tmp/before``): the
connector with ``report_id`` on the clinic without the index, exported by that version ("before": one query per
page of reports) and by this one ("after": one ordered pass), each in its own process, and their bags' SHA-256.

    PYTHONPATH=src python benchmarks/bench_lab_panels.py --results 1000000 --before-src /tmp/before/src

``--postgres CONN`` (an ODBC connection string of a PostgreSQL account that may create databases): the same clinic
in a new database ``emr_bench_lab`` there (filled by the server: generate_series), read over ODBC in a snapshot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """
[connector]
name = "bench"
version = "1"

[source]
datetime_formats = ["%Y-%m-%d %H:%M"]

[entities.patient]
table = "PATIENT"
key = "CHART_NO"

[entities.patient.fields]
chart_number = {{ column = "CHART_NO", required = true }}
name = {{ column = "PT_NM", required = true }}

[entities.lab_result]
table = "LAB_RSLT"
key = "RSLT_NO"

[entities.lab_result.fields]
patient_id = {{ column = "CHART_NO", type = "ref", ref = "patient", required = true }}
observed = {{ column = "RSLT_DTTM", required = true }}
code = "TEST_CD"
value = "RSLT_VAL"
{report}

[entities.lab_report]
table = "LAB_PANEL"
key = "PANEL_NO"

[entities.lab_report.fields]
patient_id = {{ column = "CHART_NO", type = "ref", ref = "patient", required = true }}
effective = {{ column = "RPT_DTTM", required = true }}
name = "PANEL_NM"
"""


def build(path: Path, results: int, index: bool) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE PATIENT (CHART_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40));"
        "CREATE TABLE LAB_PANEL (PANEL_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PANEL_NM VARCHAR(40), "
        "RPT_DTTM VARCHAR(16));"
        "CREATE TABLE LAB_RSLT (RSLT_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PANEL_NO INTEGER, "
        "RSLT_DTTM VARCHAR(16), TEST_CD VARCHAR(10), RSLT_VAL VARCHAR(20));")
    patients = max(1, results // 100)
    conn.executemany("INSERT INTO PATIENT VALUES (?,?)", ((f"{i:08d}", f"환자{i}") for i in range(patients)))
    panels = results // 10
    conn.executemany("INSERT INTO LAB_PANEL VALUES (?,?,?,?)", (
        (p, f"{p % patients:08d}", "CBC", f"2024-{p % 12 + 1:02d}-{p % 28 + 1:02d} 15:00")
        for p in range(1, panels + 1)))
    # results interleaved across panels (not stored in panel order), as a clinic enters them over a day
    conn.executemany("INSERT INTO LAB_RSLT VALUES (?,?,?,?,?,?)", (
        (r, f"{((r * 7919) % panels + 1) % patients:08d}", (r * 7919) % panels + 1, "2024-03-05 10:30", "WBC",
         str(r % 97)) for r in range(1, results + 1)))
    if index:
        conn.execute("CREATE INDEX LAB_RSLT_PANEL ON LAB_RSLT (PANEL_NO)")
    conn.commit()
    conn.close()


def build_postgres(conn_str: str, results: int) -> str:
    """:func:`build` on PostgreSQL (no index on PANEL_NO); the connection string of the new database."""
    import pyodbc

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "connectors"))
    from foreign_schemas import _fresh_database  # the tests' new database on a server

    target = _fresh_database(conn_str, "emr_bench_lab", "postgresql")
    patients, panels = max(1, results // 100), results // 10
    conn = pyodbc.connect(target, autocommit=True)
    try:
        for sql in (
            "CREATE TABLE PATIENT (CHART_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40))",
            "CREATE TABLE LAB_PANEL (PANEL_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PANEL_NM VARCHAR(40), "
            "RPT_DTTM VARCHAR(16))",
            "CREATE TABLE LAB_RSLT (RSLT_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PANEL_NO INTEGER, "
            "RSLT_DTTM VARCHAR(16), TEST_CD VARCHAR(10), RSLT_VAL VARCHAR(20))",
            f"INSERT INTO PATIENT SELECT lpad(i::text, 8, '0'), '환자' || i FROM generate_series(0, {patients - 1}) i",
            f"INSERT INTO LAB_PANEL SELECT p, lpad((p % {patients})::text, 8, '0'), 'CBC', '2024-' || "
            f"lpad((p % 12 + 1)::text, 2, '0') || '-' || lpad((p % 28 + 1)::text, 2, '0') || ' 15:00' "
            f"FROM generate_series(1, {panels}) p",
            f"INSERT INTO LAB_RSLT SELECT r, lpad((((r::bigint * 7919) % {panels} + 1) % {patients})::text, 8, '0'), "
            f"(r::bigint * 7919) % {panels} + 1, '2024-03-05 10:30', 'WBC', (r % 97)::text "
            f"FROM generate_series(1, {results}) r",
            "ANALYZE",
        ):
            conn.execute(sql)
    finally:
        conn.close()
    return target


def run_one(db: str, connectors: Path, page_size: int) -> dict[str, float]:
    from emr_exporter import model
    from emr_exporter.connectors.spec import load_spec
    from emr_exporter.pipeline.export import ExportRun, digest_stream
    from emr_exporter.sources.base import Source, SqliteFileSource

    spec = load_spec(connectors)
    source: Source
    if db.upper().startswith("DRIVER="):
        from emr_exporter.sources.odbc import OdbcSource

        source = OdbcSource(db, snapshot=True)
    else:
        source = SqliteFileSource(Path(db))
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="bench"),
                        created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), workers=1, page_size=page_size)
        digest = digest_stream(run.stream())
    finally:
        source.close()
    read = getattr(run, "children_read", {}).get("lab_report")
    return {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "sha256": digest.sha256, "lists": read.how if read is not None else "per page"}


def one_process(db: Path | str, folder: Path, page_size: int, src: str | None = None) -> dict[str, float]:
    """:func:`run_one` in a process of its own; ``src``: the ``src`` folder it imports the exporter from."""
    env = dict(os.environ, PYTHONPATH=src) if src else None
    done = subprocess.run([sys.executable, __file__, "--one", str(db), str(folder), "--page-size", str(page_size)],
                          check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def write_spec(folder: Path, listed: bool) -> Path:
    folder.mkdir(exist_ok=True)
    report = 'report_id = { column = "PANEL_NO", type = "ref", ref = "lab_report" }' if listed else ""
    (folder / "connector.toml").write_text(SPEC.format(report=report), encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=2000)  # the export's default
    parser.add_argument("--no-index-only", action="store_true")
    parser.add_argument("--before-src", help="another version's src folder: before vs after, no index")
    parser.add_argument("--postgres", help="ODBC connection string: the clinic on PostgreSQL (with --before-src)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]), args.page_size)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        if args.before_src:
            db: Path | str = Path(tmp) / "clinic.db"
            if args.postgres:
                db = build_postgres(args.postgres, args.results)
            else:
                build(Path(db), args.results, False)
            folder = write_spec(Path(tmp) / "c", True)
            out["before"] = one_process(db, folder, args.page_size, args.before_src)
            out["after"] = one_process(db, folder, args.page_size)
            engine = "postgresql" if args.postgres else "sqlite"
            print(json.dumps({"engine": engine, "results": args.results, "page_size": args.page_size, "index": False,
                              "runs": out},
                             indent=1))
            return
        for index in (False,) if args.no_index_only else (True, False):
            db = Path(tmp) / f"clinic-{index}.db"
            build(db, args.results, index)
            for listed in (False, True):
                folder = write_spec(Path(tmp) / f"c-{listed}", listed)
                out[f"index={index} report_id={listed}"] = one_process(db, folder, args.page_size)
        print(json.dumps({"results": args.results, "page_size": args.page_size, "runs": out}, indent=1))


if __name__ == "__main__":
    main()
