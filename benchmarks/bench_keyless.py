"""Memory and time of carrying a large table without a usable key (docs/performance.md, "Keyless tables").

A MariaDB or PostgreSQL database of one small patient table (the connector's one section) and one keyless log
table of ``--rows`` rows (~300 bytes each; NULLs in five of its six columns, 1 % exact duplicate rows, user ids
that differ only by case). A dry-run export (``digest_stream(ExportRun(...).stream())``, the export's own
snapshot connection over ODBC) runs in a fresh child process, which prints its peak RSS (``ru_maxrss``), its
wall and CPU time, and the bag's SHA-256 (the same bag before and after a change means the same rows in the
same order).

``--shape audit`` (MariaDB): instead, a clinic's audit log as EMRs keep it, ``(LOG_TS TIMESTAMP, USER_ID
VARCHAR, ACTION VARCHAR, DETAIL TEXT)`` without a key (in ``emr_keyless_bench_audit``).

Run (servers of .ci/dbservers.sh; the database ``emr_keyless_bench`` is created once and reused):
``.venv/bin/python benchmarks/bench_keyless.py --engine mariadb --conn "DRIVER=...;DATABASE=emr_test;..."``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASE = "emr_keyless_bench"

CONNECTOR = """
[connector]
name = "keylessbench"
version = "1.0.0"
product = "one patient table and a keyless log (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }
"""

_MARIADB = [
    "CREATE TABLE PATIENT (PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))",
    "INSERT INTO PATIENT SELECT seq, CONCAT('C', seq), CONCAT('환자', seq) FROM seq_1_to_10",
    # utf8mb4_general_ci: 'u1' and 'U1' sort as equals
    "CREATE TABLE AUDIT_LOG (LOG_TS DATETIME NULL, USER_ID VARCHAR(20) NULL, ACTION VARCHAR(30) NOT NULL, "
    "DETAIL VARCHAR(400) NULL, AMOUNT DOUBLE NULL, NOTE TEXT NULL) CHARACTER SET utf8mb4",
    "INSERT INTO AUDIT_LOG SELECT IF(seq % 17 = 0, NULL, TIMESTAMP('2020-01-01') + INTERVAL (seq * 37 % 100000) "
    "SECOND), IF(seq % 13 = 0, NULL, CONCAT(IF(seq % 2, 'u', 'U'), seq % 50)), ELT(1 + seq % 5, 'login', 'print', "
    "'view', 'edit', 'logout'), IF(seq % 19 = 0, NULL, CONCAT('환자 차트 조회 ', seq % 5000, ' ', "
    "REPEAT('x', 150 + seq % 100))), IF(seq % 11 = 0, NULL, (seq % 1000) / 7), "
    "IF(seq % 3 = 0, NULL, CONCAT('note ', seq % 1000)) FROM seq_1_to_{rows}",
    "INSERT INTO AUDIT_LOG SELECT * FROM AUDIT_LOG LIMIT {dups}",
]
#: --shape audit: led by a TIMESTAMP (the instant of each action; about 3 rows a second), then who and what.
_MARIADB_AUDIT = [
    *_MARIADB[:2],
    "CREATE TABLE AUDIT_LOG (LOG_TS TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, USER_ID VARCHAR(20) NULL, "
    "ACTION VARCHAR(30) NOT NULL, DETAIL TEXT NULL) CHARACTER SET utf8mb4",
    "INSERT INTO AUDIT_LOG SELECT TIMESTAMP('2020-01-01') + INTERVAL (seq * 37 % ({rows} DIV 3 + 1)) SECOND, "
    "IF(seq % 13 = 0, NULL, CONCAT(IF(seq % 2, 'u', 'U'), seq % 50)), ELT(1 + seq % 5, 'login', 'print', "
    "'view', 'edit', 'logout'), IF(seq % 19 = 0, NULL, CONCAT('환자 차트 조회 ', seq % 5000, ' ', "
    "REPEAT('x', 150 + seq % 100))) FROM seq_1_to_{rows}",
    "INSERT INTO AUDIT_LOG SELECT * FROM AUDIT_LOG LIMIT {dups}",
]
_POSTGRES = [
    "CREATE TABLE PATIENT (PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))",
    "INSERT INTO PATIENT SELECT s, 'C' || s, '환자' || s FROM generate_series(1, 10) AS s",
    "CREATE TABLE AUDIT_LOG (LOG_TS TIMESTAMP NULL, USER_ID VARCHAR(20) NULL, ACTION VARCHAR(30) NOT NULL, "
    "DETAIL VARCHAR(400) NULL, AMOUNT DOUBLE PRECISION NULL, NOTE TEXT NULL)",
    "INSERT INTO AUDIT_LOG SELECT CASE WHEN s % 17 = 0 THEN NULL ELSE TIMESTAMP '2020-01-01' + (s * 37 % 100000) "
    "* INTERVAL '1 second' END, CASE WHEN s % 13 = 0 THEN NULL ELSE (CASE WHEN s % 2 = 1 THEN 'u' ELSE 'U' END) "
    "|| (s % 50) END, (ARRAY['login', 'print', 'view', 'edit', 'logout'])[1 + s % 5], CASE WHEN s % 19 = 0 THEN "
    "NULL ELSE '환자 차트 조회 ' || (s % 5000) || ' ' || repeat('x', 150 + s % 100) END, CASE WHEN s % 11 = 0 "
    "THEN NULL ELSE (s % 1000) / 7.0 END, CASE WHEN s % 3 = 0 THEN NULL ELSE 'note ' || (s % 1000) END "
    "FROM generate_series(1, {rows}) AS s",
    "INSERT INTO AUDIT_LOG SELECT * FROM AUDIT_LOG LIMIT {dups}",
]


def _with_database(conn_str: str, database: str) -> str:
    from emr_exporter.sources.drivers import build_connection_string, parse_connection_string

    return build_connection_string([(k, database if k.upper() == "DATABASE" else v)
                                    for k, v in parse_connection_string(conn_str)])


def build(engine: str, conn_str: str, rows: int, shape: str = "log") -> str:
    """The bench database (made once for ``rows``; its row count says whether it is there)."""
    import pyodbc

    database = DATABASE if shape == "log" else f"{DATABASE}_{shape}"
    statements = _MARIADB_AUDIT if shape == "audit" else _MARIADB if engine == "mariadb" else _POSTGRES
    target = _with_database(conn_str, database)
    wanted = rows + rows // 100
    try:
        conn = pyodbc.connect(target, autocommit=True)
        have = conn.execute("SELECT COUNT(*) FROM AUDIT_LOG").fetchone()[0]
        conn.close()
        if have == wanted:
            return target
    except pyodbc.Error:
        pass
    admin = pyodbc.connect(conn_str, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {database}")
    admin.execute(f"CREATE DATABASE {database}" + (" CHARACTER SET utf8mb4" if engine == "mariadb" else
                                                    " ENCODING 'UTF8' TEMPLATE template0"))
    admin.close()
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    print(f"building {wanted} rows on {engine} ...", file=sys.stderr, flush=True)
    for statement in statements:
        conn.execute(statement.format(rows=rows, dups=rows // 100))
    if engine == "postgresql":
        conn.execute("VACUUM ANALYZE AUDIT_LOG")
    conn.close()
    return target


def measure(conn_str: str) -> dict[str, object]:
    """One dry-run export in this process: peak RSS, wall and CPU time, the bag's SHA-256."""
    from emr_exporter import model
    from emr_exporter.connectors.spec import load_spec
    from emr_exporter.pipeline.export import ExportRun, digest_stream
    from emr_exporter.sources.odbc import OdbcSource

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
        spec = load_spec(Path(folder))
    source = OdbcSource(conn_str, snapshot=True)
    started, cpu = time.perf_counter(), time.process_time()
    run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="의원"),
                    created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    digest = digest_stream(run.stream())
    source.close()
    [table] = [t for t in run.reconciliation.tables if t.table == "audit_log"]
    return {
        "sha256": digest.sha256, "bag_bytes": digest.size,
        "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rows": table.source_rows, "carried": table.carried, "read": table.read,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("mariadb", "postgresql"), required=True)
    parser.add_argument("--conn", required=True, help="a connection string to the server (any database)")
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--options", default="", help="appended to the export's connection string, e.g. "
                        "UseDeclareFetch=0 (psqlODBC as through a DSN that does not set it)")
    parser.add_argument("--shape", choices=("log", "audit"), default="log",
                        help="audit: (TIMESTAMP, user, action, TEXT) without a key (MariaDB)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.shape == "audit" and args.engine != "mariadb":
        parser.error("--shape audit is built on MariaDB only")
    if args.child:
        print(json.dumps(measure(args.conn)))
        return
    target = build(args.engine, args.conn, args.rows, args.shape) + (f";{args.options}" if args.options else "")
    done = subprocess.run([sys.executable, __file__, "--engine", args.engine, "--conn", target, "--child"],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    print(json.dumps({"engine": args.engine, "shape": args.shape, "options": args.options,
                      **json.loads(done.stdout.splitlines()[-1])}))


if __name__ == "__main__":
    main()
