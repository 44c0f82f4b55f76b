"""Memory of exporting huge BLOBs: scanned documents or DICOM images kept in the database (docs/performance.md,
"Huge BLOBs").

A database of one patient, an attachment section (``ATTACH_FILE``: ``--rows`` rows, each a ``--mb`` MB
``FILE_DATA`` BLOB, the demo connector's mapping) and a carried table (``SCAN_STORE``: ``--rows`` rows of
``--mb`` MB BLOBs, no section reads it). A dry-run export (``digest_stream(ExportRun(...).stream())``) runs in a
fresh child process, which prints its peak RSS (``ru_maxrss``), its wall time, the rows of the pages it read and
the bag's SHA-256 (the same bag before and after a change means the same rows in the same order).

Run: ``.venv/bin/python benchmarks/bench_bigblob.py --engine sqlite`` (a file under a temporary folder), or
``--engine mariadb --conn "DRIVER=...;SERVER=...;DATABASE=emr_test;..."`` (servers of .ci/dbservers.sh; the
database ``emr_bigblob_bench`` is made once for ``--rows``/``--mb`` and reused).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATABASE = "emr_bigblob_bench"

CONNECTOR = """
[connector]
name = "bigblobbench"
version = "1.0.0"
product = "one patient, an attachment section and a carried table of large BLOBs (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.attachment]
table = "ATTACH_FILE"
key = "ATT_NO"

[entities.attachment.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
created = { column = "CRE_YMD", type = "date", required = true }
media_type = { column = "MIME_TP", required = true }
content_blob = { column = "FILE_DATA", type = "blob" }
"""


def blob(i: int, mb: int) -> bytes:
    """``mb`` MB of bytes of row ``i`` (different for each row; compressible only a little)."""
    block = bytes((i * 7 + b * 31) % 251 for b in range(4093))
    size = mb * 1024 * 1024
    return (block * (size // len(block) + 1))[:size]


def build_sqlite(path: Path, rows: int, mb: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT)")
    conn.execute("INSERT INTO PATIENT VALUES (1, 'C1', '환자1')")
    conn.execute("CREATE TABLE ATTACH_FILE (ATT_NO INTEGER PRIMARY KEY, PT_ID INTEGER, CRE_YMD TEXT, "
                 "MIME_TP TEXT, FILE_DATA BLOB)")
    conn.execute("CREATE TABLE SCAN_STORE (SCAN_ID INTEGER PRIMARY KEY, PT_ID INTEGER, IMAGE BLOB)")
    for i in range(1, rows + 1):
        data = blob(i, mb)
        conn.execute("INSERT INTO ATTACH_FILE VALUES (?, 1, '2024-01-02', 'image/jpeg', ?)", (i, data))
        conn.execute("INSERT INTO SCAN_STORE VALUES (?, 1, ?)", (i, data))
        conn.commit()
    conn.close()


def _with_database(conn_str: str, database: str) -> str:
    from emr_exporter.sources.drivers import build_connection_string, parse_connection_string

    return build_connection_string([(k, database if k.upper() == "DATABASE" else v)
                                    for k, v in parse_connection_string(conn_str)])


def build_mariadb(conn_str: str, rows: int, mb: int) -> str:
    """The bench database on MariaDB (made once for ``rows`` and ``mb``)."""
    import pyodbc

    target = _with_database(conn_str, DATABASE)
    try:
        conn = pyodbc.connect(target, autocommit=True)
        have = conn.execute("SELECT COUNT(*), MAX(LENGTH(IMAGE)) FROM SCAN_STORE").fetchone()
        conn.close()
        if tuple(have) == (rows, mb * 1024 * 1024):
            return target
    except pyodbc.Error:
        pass
    admin = pyodbc.connect(conn_str, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
    admin.execute("SET GLOBAL max_allowed_packet = 1073741824")
    admin.close()
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    conn.execute("CREATE TABLE PATIENT (PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))")
    conn.execute("INSERT INTO PATIENT VALUES (1, 'C1', '환자1')")
    conn.execute("CREATE TABLE ATTACH_FILE (ATT_NO INT PRIMARY KEY, PT_ID INT, CRE_YMD DATE, "
                 "MIME_TP VARCHAR(40), FILE_DATA LONGBLOB)")
    conn.execute("CREATE TABLE SCAN_STORE (SCAN_ID INT PRIMARY KEY, PT_ID INT, IMAGE LONGBLOB)")
    print(f"building 2 x {rows} rows of {mb} MB on mariadb ...", file=sys.stderr, flush=True)
    for i in range(1, rows + 1):
        data = blob(i, mb)
        conn.execute("INSERT INTO ATTACH_FILE VALUES (?, 1, '2024-01-02', 'image/jpeg', ?)", i, data)
        conn.execute("INSERT INTO SCAN_STORE VALUES (?, 1, ?)", i, data)
    conn.close()
    return target


def measure(engine: str, database: str) -> dict[str, Any]:
    """One dry-run export in this process: peak RSS, wall time, the pages' rows, the bag's SHA-256."""
    from emr_exporter import model
    from emr_exporter.connectors.spec import load_spec
    from emr_exporter.pipeline import export
    from emr_exporter.pipeline.export import ExportRun, digest_stream
    from emr_exporter.sources.base import SqliteFileSource
    from emr_exporter.sources.odbc import OdbcSource

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
        spec = load_spec(Path(folder))
    source: Any = SqliteFileSource(Path(database), snapshot=True) if engine == "sqlite" else OdbcSource(
        database, snapshot=True)
    pages: list[int] = []  # the rows of each page read
    read_page = export._read_page

    def counted(src: Any, sql: str, params: Any = ()) -> Any:
        page = read_page(src, sql, params)
        pages.append(len(page))
        return page

    export._read_page = counted  # type: ignore[assignment]
    started = time.perf_counter()
    run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="의원"),
                    created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    digest = digest_stream(run.stream())
    source.close()
    return {
        "sha256": digest.sha256, "bag_bytes": digest.size, "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "largest_carried_page_rows": max(pages, default=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "mariadb"), default="sqlite")
    parser.add_argument("--conn", default="", help="mariadb: a connection string to the server (any database)")
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--mb", type=int, default=40)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--build", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.engine, args.child)))
        return
    if args.build:
        if args.engine == "sqlite":
            build_sqlite(Path(args.build), args.rows, args.mb)
        else:
            print(build_mariadb(args.conn, args.rows, args.mb))
        return
    # The database is made in a process of its own: a child's ru_maxrss starts from its parent's peak (Linux
    # keeps the high-water mark of the memory it had before exec), so this one stays small.
    with tempfile.TemporaryDirectory(dir="/var/tmp") as folder:
        target = str(Path(folder) / "bigblob.sqlite")
        built = subprocess.run([sys.executable, __file__, "--engine", args.engine, "--conn", args.conn, "--rows",
                                str(args.rows), "--mb", str(args.mb), "--build", target],
                               capture_output=True, text=True, check=True)
        if args.engine == "mariadb":
            target = built.stdout.splitlines()[-1]
        done = subprocess.run([sys.executable, __file__, "--engine", args.engine, "--child", target],
                              capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    print(json.dumps({"engine": args.engine, "rows": args.rows, "mb": args.mb,
                      **json.loads(done.stdout.splitlines()[-1])}))


if __name__ == "__main__":
    main()
