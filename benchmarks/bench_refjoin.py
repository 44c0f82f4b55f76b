"""What checking a reference costs where the parent's key has no index (docs/performance.md, "References").

A clinic of ``--patients`` patients (``PATIENT.PT_NO INTEGER``, with a PRIMARY KEY or without any index: a table the
scaffold keys by a column of unique values) and ``--visits`` visits naming them (``VISIT.PT_NO INTEGER``), exported
(dry: read, map, FHIR, NDJSON, tar, SHA-256) by a connector of two sections, the visit's ``patient_id`` a required
reference. Each run in its own process, on one core (``workers=1``): wall and CPU seconds and the bag's SHA-256.

    PYTHONPATH=src python benchmarks/bench_refjoin.py --visits 10000 100000 --before-src /tmp/main/src \\
        [--mariadb CONN] [--postgres CONN] [--timeout 600]

``--before-src DIR``: another version's ``src`` (``git archive be2ac45 src | tar -x -C /tmp/main``), run beside this
one on the same clinic. ``--mariadb`` / ``--postgres``: ODBC connection strings of accounts that may create
databases: the clinic is made there too (filled by the server), read over ODBC in a snapshot. A run longer than
``--timeout`` seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
date_formats = ["%Y%m%d"]

[entities.patient]
table = "PATIENT"
key = "PT_NO"

[entities.patient.fields]
chart_number = { column = "PT_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.encounter]
table = "VISIT"
key = "VISIT_NO"

[entities.encounter.fields]
patient_id = { column = "PT_NO", type = "ref", ref = "patient", required = true }
start = { column = "VISIT_YMD", type = "date", required = true }
"""


def _ddl(indexed: bool) -> list[str]:
    key = " PRIMARY KEY" if indexed else ""
    return [f"CREATE TABLE PATIENT (PT_NO INTEGER{key}, PT_NM VARCHAR(40))",
            "CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD VARCHAR(8))"]


def build_sqlite(path: Path, patients: int, visits: int, indexed: bool) -> str:
    conn = sqlite3.connect(path)
    for sql in _ddl(indexed):
        conn.execute(sql)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?)", ((i, f"환자{i}") for i in range(1, patients + 1)))
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?)",
                     ((v, (v * 7919) % patients + 1, f"2024{v % 12 + 1:02d}{v % 28 + 1:02d}")
                      for v in range(1, visits + 1)))
    conn.commit()
    conn.close()
    return str(path)


def build_server(engine: str, conn_str: str, patients: int, visits: int, indexed: bool) -> str:
    import pyodbc

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "connectors"))
    from foreign_schemas import _fresh_database  # the tests' new database on a server

    target = _fresh_database(conn_str, f"emr_bench_ref_{int(indexed)}", engine)
    if engine == "postgresql":
        fill = [f"INSERT INTO PATIENT SELECT i, '환자' || i FROM generate_series(1, {patients}) i",
                f"INSERT INTO VISIT SELECT v, (v::bigint * 7919) % {patients} + 1, '2024' || "
                f"lpad((v % 12 + 1)::text, 2, '0') || lpad((v % 28 + 1)::text, 2, '0') "
                f"FROM generate_series(1, {visits}) v", "ANALYZE"]
    else:
        fill = [f"INSERT INTO PATIENT SELECT seq, CONCAT('환자', seq) FROM seq_1_to_{patients}",
                f"INSERT INTO VISIT SELECT seq, (seq * 7919) % {patients} + 1, CONCAT('2024', "
                f"LPAD(seq % 12 + 1, 2, '0'), LPAD(seq % 28 + 1, 2, '0')) FROM seq_1_to_{visits}",
                "ANALYZE TABLE PATIENT, VISIT"]
    conn = pyodbc.connect(target, autocommit=True)
    try:
        for sql in [*_ddl(indexed), *fill]:
            conn.execute(sql)
    finally:
        conn.close()
    return target


def run_one(db: str, connectors: Path) -> dict[str, object]:
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
                        created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), workers=1)
        digest = digest_stream(run.stream())
    finally:
        source.close()
    encounters = next(e for e in run.reconciliation.entities if e.entity == "encounter")
    return {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "sha256": digest.sha256, "exported": encounters.exported}


def one_process(db: str, folder: Path, src: str | None, timeout: float) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=src) if src else None
    try:
        done = subprocess.run([sys.executable, __file__, "--one", db, str(folder)], check=True, capture_output=True,
                              text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"wall_s": f"> {timeout:.0f} (stopped)"}
    except subprocess.CalledProcessError as failed:
        return {"failed": failed.stderr[-800:]}
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--visits", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--before-src", help="another version's src folder, run beside this one")
    parser.add_argument("--mariadb")
    parser.add_argument("--postgres")
    parser.add_argument("--engines", nargs="+", default=["sqlite", "mariadb", "postgresql"])
    parser.add_argument("--indexed", nargs="+", default=["no", "yes"])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]))))
        return
    versions = {"before": args.before_src, "after": None} if args.before_src else {"after": None}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        folder.mkdir()
        (folder / "connector.toml").write_text(SPEC, encoding="utf-8")
        for engine in args.engines:
            conn_str = {"mariadb": args.mariadb, "postgresql": args.postgres}.get(engine)
            if engine != "sqlite" and not conn_str:
                continue
            for visits in args.visits:
                for indexed in (i == "yes" for i in args.indexed):
                    if engine == "sqlite":
                        db = build_sqlite(Path(tmp) / f"clinic-{visits}-{indexed}.db", args.patients, visits, indexed)
                    else:
                        assert conn_str is not None
                        db = build_server(engine, conn_str, args.patients, visits, indexed)
                    for version, src in versions.items():
                        out = one_process(db, folder, src, args.timeout)
                        print(json.dumps({"engine": engine, "visits": visits, "patients": args.patients,
                                          "indexed": indexed, "version": version, **out}), flush=True)


if __name__ == "__main__":
    main()
