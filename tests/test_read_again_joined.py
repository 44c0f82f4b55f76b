"""A visit row's cells read again by a diagnosis section whose query joins a table holding columns of the same
names (``SELECT * FROM visit v LEFT JOIN dept d``: ``dept`` and ``memo`` twice in its result): on PostgreSQL the
row of such a result keeps the last of each name, the joined table's, so the visit's own ``memo`` is in no row
the diagnosis section reads. It must then stay with the visit's own raw columns (docs/connectors.md, "Diagnoses
kept as columns of the visit row"); before, the visit left it to the diagnosis section (read_again), and it was
in no resource, no raw line, nowhere in the bag (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.export import ExportRun
from emr_exporter.sources.odbc import OdbcSource

pytestmark = pytest.mark.db

SPEC = """
[connector]
name = "joined"
version = "0.1.0"

[source]
date_formats = ["%Y%m%d"]

[entities.patient]
table = "pt"
key = "pt_no"

[entities.patient.fields]
chart_number = { column = "pt_no", required = true }
name = { column = "pt_nm", required = true }

[entities.encounter]
table = "visit"
key = "visit_no"

[entities.encounter.fields]
patient_id = { column = "pt_no", type = "ref", ref = "patient", required = true }
start = { column = "visit_ymd", type = "date", required = true }

[entities.diagnosis]
table = "visit"
key = "visit_no"
query = "SELECT * FROM visit v LEFT JOIN dept d ON d.dept = v.dept WHERE v.dx1 IS NOT NULL"

[entities.diagnosis.fields]
patient_id = { column = "pt_no", type = "ref", ref = "patient", required = true }
encounter_id = { column = "visit_no", type = "ref", ref = "encounter" }
code = { column = "dx1", required = true }
"""

#: visit_no → (pt_no, visit_ymd, dept, dx1, memo)
VISITS = {n: (f"P{1 + n % 3}", f"202403{n:02d}", ("IM", "FM", "XX")[n % 3], ("J00", None, "I10")[n % 3],
              f"방문메모-{n}") for n in range(1, 10)}


def _bag_text(run: ExportRun) -> str:
    data = b"".join(run.stream())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return "\n".join(tar.extractfile(m).read().decode("utf-8")  # type: ignore[union-attr]
                         for m in tar.getmembers() if m.isfile() and m.name.endswith((".ndjson", ".json")))


def test_a_visit_cell_a_joined_diagnosis_query_hides_stays_with_the_visit(
        tmp_path: Path, postgres_conn_str: str) -> None:
    import pyodbc

    odbc = _fresh_database(postgres_conn_str, "emr_read_again_joined", "postgresql")
    conn = pyodbc.connect(odbc, autocommit=True)
    try:
        conn.execute("CREATE TABLE pt (pt_no varchar(10) PRIMARY KEY, pt_nm varchar(20) NOT NULL)")
        conn.execute("CREATE TABLE visit (visit_no integer PRIMARY KEY, pt_no varchar(10) NOT NULL, "
                     "visit_ymd char(8) NOT NULL, dept varchar(10), dx1 varchar(10), memo varchar(50))")
        conn.execute("CREATE TABLE dept (dept varchar(10) PRIMARY KEY, memo varchar(50))")
        conn.cursor().executemany("INSERT INTO pt VALUES (?, ?)", [(f"P{i}", f"환자{i}") for i in (1, 2, 3)])
        conn.cursor().executemany("INSERT INTO visit VALUES (?, ?, ?, ?, ?, ?)",
                                  [(n, *row) for n, row in VISITS.items()])
        conn.cursor().executemany("INSERT INTO dept VALUES (?, ?)", [("IM", "내과 안내문"), ("FM", "가정의학과 안내문")])
    finally:
        conn.close()
    folder = tmp_path / "connector"
    folder.mkdir()
    (folder / "connector.toml").write_text(SPEC, encoding="utf-8")
    spec = load_spec(folder)
    source = OdbcSource(odbc)
    try:
        run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="의원"),
                        created=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
        text = _bag_text(run)
        entities = {e["entity"]: e for e in run.reconciliation.to_dict()["entities"]}
    finally:
        source.close()
    assert (entities["diagnosis"]["source_rows"], entities["diagnosis"]["exported"]) == (6, 6)
    # every visit's memo in the bag, once: the six the diagnosis section reads again too (its result's memo is
    # the department's), as the three it does not read
    for n, (_, _, _, _, memo) in VISITS.items():
        assert json.dumps(memo, ensure_ascii=False) in text, n
