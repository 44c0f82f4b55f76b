"""Time of a carried section's rows (``carry = "…"``) against the same rows carried as a table of their own
(docs/performance.md, "A carried section's rows").

A MariaDB or PostgreSQL database of one patient, a measurement table ``MEAS`` of ``--rows`` rows (every other
one a weight, read by a vital-signs section; the others carried whole by the section ``meas_other``) and
``COPY``, a table holding exactly the carried rows, which no section reads (carried as an unmapped table). A
dry-run export over ODBC; the seconds between the first and the last progress event of each ("carry" stage).

Run (servers of .ci/dbservers.sh; the database ``emr_carry_bench`` is created anew):
``.venv/bin/python benchmarks/bench_carried_section.py --engine postgresql --rows 400000``
(the connection string from EMR_TEST_MARIADB / EMR_TEST_POSTGRES).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "connectors"))

CONNECTOR = '''
[connector]
name = "bench"
version = "1.0.0"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.vital_weight]
entity = "vital_signs"
table = "MEAS"
key = "MEAS_NO"
query = "SELECT * FROM MEAS WHERE KIND IN ('WT')"

[entities.vital_weight.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
observed = { column = "TAKEN", type = "datetime", required = true }
weight = { column = "VAL", type = "decimal" }

[entities.meas_other]
table = "MEAS"
key = "MEAS_NO"
query = "SELECT * FROM MEAS WHERE (KIND NOT IN ('WT') OR KIND IS NULL)"
carry = "not a vital sign"
'''


def _load(engine: str, rows: int) -> str:
    import pyodbc
    from foreign_schemas import _fresh_database

    target: str = _fresh_database(os.environ["EMR_TEST_MARIADB" if engine == "mariadb" else "EMR_TEST_POSTGRES"],
                                  "emr_carry_bench", engine)
    conn = pyodbc.connect(target, autocommit=True)
    columns = "(MEAS_NO INTEGER PRIMARY KEY, PT_ID INTEGER, KIND VARCHAR(10), VAL DECIMAL(8,2), NOTE VARCHAR(100), " \
              "TAKEN DATE)"
    conn.execute("CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))")
    conn.execute(f"CREATE TABLE MEAS {columns}")
    conn.execute(f"CREATE TABLE COPY {columns}")
    conn.execute("INSERT INTO PATIENT VALUES (1, 'C1', 'kim')")
    values = [(i, 1, "WT" if i % 2 else "MEMO", 60.5, None if i % 2 else "memo text", dt.date(2024, 1, 1))
              for i in range(1, rows + 1)]
    cursor = conn.cursor()
    for start in range(0, rows, 5000):
        cursor.executemany("INSERT INTO MEAS VALUES (?, ?, ?, ?, ?, ?)", values[start:start + 5000])
    conn.execute("INSERT INTO COPY SELECT * FROM MEAS WHERE KIND <> 'WT'")
    conn.execute("ANALYZE TABLE MEAS, COPY" if engine == "mariadb" else "ANALYZE")
    conn.close()
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("mariadb", "postgresql"), required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from emr_exporter import model
    from emr_exporter.connectors import load_spec
    from emr_exporter.pipeline.export import ExportRun, ProgressEvent, digest_stream
    from emr_exporter.sources.odbc import OdbcSource

    target = _load(args.engine, args.rows)
    marks: dict[str, list[float]] = {}

    def progress(event: ProgressEvent) -> None:
        if event.stage == "carry" and event.entity:
            marks.setdefault(event.entity.lower(), []).append(time.perf_counter())

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
        source = OdbcSource(target, snapshot=True)
        try:
            run = ExportRun(load_spec(Path(folder)), source, progress=progress,
                            institution=model.Institution(code="12345678", name="bench"),
                            created=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
            digest_stream(run.stream())
        finally:
            source.close()
    [section] = run.reconciliation.sections
    print(f"{args.engine}, {args.rows} rows: {section.carried} carried by meas_other in "
          f"{marks['meas'][-1] - marks['meas'][0]:.2f} s; the same rows as the table copy in "
          f"{marks['copy'][-1] - marks['copy'][0]:.2f} s")


if __name__ == "__main__":
    main()
