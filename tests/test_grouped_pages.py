"""A section whose references are joined grouped (a patient table without any index: docs/connectors.md,
"References") is read in keyset pages of its own rows, then joined (``ExportRun._grouped_pages``), on real
PostgreSQL and MariaDB servers over ODBC: every visit comes once, whatever its key's type and collation.

Before, the pages' reader took the last key as the section's readable query gives it (PostgreSQL SQL_ASCII: a
text key's stored bytes; a date: the server's text) and the next page compared the raw key with it: a CHAR(8)
key '19360406' against bytea '\\x3139…' compared as text, so no visit after the first page was read and the
export stopped (the random PostgreSQL clinic of seed 4: "'encounter': 72 source rows but 0 exported").
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.export import ExportRun, digest_stream
from emr_exporter.sources.odbc import OdbcSource

pytestmark = pytest.mark.db

VISITS = 40
PATIENTS = 9

SPEC = """
[connector]
name = "foreign"
version = "0.1.0"

[source]
date_formats = ["%Y%m%d"]
{encoding}

[entities.patient]
table = "pt_master"
key = "pt_no"

[entities.patient.fields]
chart_number = {{ column = "pt_no", required = true }}
name = {{ column = "pt_nm", required = true }}

[entities.encounter]
table = "visit"
key = "visit_key"
page_size = {page_size}

[entities.encounter.fields]
patient_id = {{ column = "pt_no", type = "ref", ref = "patient", required = true }}
start = {{ column = "visit_ymd", type = "date", required = true }}
"""


def _key(kind: str, v: int) -> Any:
    """Visit ``v``'s key: text keys differing in case and accents (ordered otherwise by a locale than by bytes),
    dates, an 8-digit text."""
    if kind == "date":
        return dt.date(2020, 1, 1) + dt.timedelta(days=v * 37)
    if kind == "char8":
        return f"{19360406 + v * 997:08d}"
    return ["a", "B", "é", "E", "b", "A", "ä", "Z", "z", "e"][v % 10] + f"{v:02d}"


#: engine, SQL_ASCII database, the visit key's declared type, its values' kind
CASES = {
    "postgresql-sql-ascii-char8": ("postgresql", True, "CHAR(8)", "char8"),
    "postgresql-sql-ascii-text": ("postgresql", True, "VARCHAR(12)", "text"),
    "postgresql-date": ("postgresql", False, "DATE", "date"),
    "postgresql-icu-text": ("postgresql", False, 'VARCHAR(12) COLLATE "und-x-icu"', "text"),
    "mariadb-general-ci-text": ("mariadb", False, "VARCHAR(12) COLLATE utf8mb4_general_ci", "text"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_grouped_pages_read_every_visit_once(tmp_path: Path, request: pytest.FixtureRequest, case: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 1, 3 and 7 visits give the bag one page of all of them gives, every visit exported once; pages of
    7 read as value tuples for worker processes too."""
    import pyodbc

    from emr_exporter.pipeline import export as export_module
    from emr_exporter.pipeline import parallel

    engine, sql_ascii, key_type, kind = CASES[case]
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    odbc = _fresh_database(conn_str, "emr_grouped_pages", engine, sql_ascii=sql_ascii)
    conn = pyodbc.connect(odbc, autocommit=True)
    try:
        conn.setencoding(encoding="utf-8")
        # no index on the patient's key: the visits' patient is joined grouped, the visits paged first
        conn.execute("CREATE TABLE pt_master (pt_no VARCHAR(10), pt_nm VARCHAR(20))")
        conn.execute(f"CREATE TABLE visit (visit_key {key_type} PRIMARY KEY, pt_no VARCHAR(10), "
                     "visit_ymd VARCHAR(8))")
        for p in range(1, PATIENTS + 1):
            conn.execute("INSERT INTO pt_master VALUES (?, ?)", (f"P{p}", f"name{p}"))
        for v in range(VISITS):
            conn.execute("INSERT INTO visit VALUES (?, ?, ?)", (_key(kind, v), f"P{v % PATIENTS + 1}", "20240102"))
    finally:
        conn.close()
    encoding = 'encoding = "cp949"' if sql_ascii else ""

    def export(page_size: int, workers: int = 1) -> tuple[str, dict[str, Any]]:
        folder = tmp_path / f"foreign{page_size}-{workers}"
        folder.mkdir()
        (folder / "connector.toml").write_text(SPEC.format(encoding=encoding, page_size=page_size),
                                               encoding="utf-8")
        spec = load_spec(folder)
        source = OdbcSource(odbc)
        try:
            run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="의원"),
                            created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), workers=workers)
            assert run._joined(spec.entities["encounter"])[1], "the visits' patient is not joined grouped"
            digest = digest_stream(run.stream())
            assert run._pool_tried == (workers > 1)
            [encounters] = [e for e in run.reconciliation.to_dict()["entities"] if e["entity"] == "encounter"]
        finally:
            source.close()
        return digest.sha256, encounters

    whole = export(VISITS + 1)
    assert (whole[1]["source_rows"], whole[1]["exported"], whole[1]["quarantined"]) == (VISITS, VISITS, 0)
    for page_size in (1, 3, 7):
        assert export(page_size) == whole, page_size
    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 10)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 5)
    assert export(7, workers=2) == whole
