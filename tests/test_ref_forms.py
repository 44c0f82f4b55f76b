"""Which form a reference is checked in (docs/connectors.md, "References"; pipeline/references.py) where a section
has its own query: counted per row through the parent's index (a correlated sub-query) where the catalogue proves
it right, else joined grouped, and the same bag either way.

Before, a section's own query hid its columns' types, so every reference of such a section, and every reference
to a parent section with its own query, was joined grouped, and the section paged on its own rows first: on a
SQLite file each page grouped the whole parent table again in the exporting process (the demo: 73 → 81 CPU-µs a
row, docs/performance.md). Now a query's column counts as its table's column where the query's text gives it
back as a bare reference under its own name and the result has one column of that name; the parent's key is
counted in its table, as the grouped join counts it, whatever the parent section's query.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from emr_exporter import model
from emr_exporter.connectors import load_connector
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource

CREATED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
VISITS = 30
PATIENTS = 9

SPEC = """
[connector]
name = "forms"
version = "0.1.0"

[source]
date_formats = ["%Y%m%d"]

[entities.patient]
table = "pt_master"
key = "pt_no"
{patient_query}

[entities.patient.fields]
chart_number = {{ column = "pt_no", required = true }}
name = {{ column = "pt_nm", required = true }}

[entities.encounter]
table = "visit"
key = "visit_no"
page_size = 7
{visit_query}

[entities.encounter.fields]
patient_id = {{ column = "pt_no", type = "ref", ref = "patient", required = true }}
start = {{ column = "visit_ymd", type = "date", required = true }}
"""

JOINED = "SELECT v.*, a.note FROM visit v LEFT JOIN adm a ON a.visit_no = v.visit_no"
#: name -> (the visits' own query or "", the patients' own query or "", engines, counted through the index, exported)
CASES: dict[str, tuple[str, str, tuple[str, ...], bool, bool]] = {
    "star": ("SELECT v.* FROM visit v", "", ("sqlite", "mariadb", "postgresql"), True, True),
    "star-joined": (JOINED, "", ("sqlite", "mariadb", "postgresql"), True, True),
    "bare-columns": ("SELECT v.visit_no, v.visit_ymd, v.pt_no FROM visit v", "", ("sqlite", "mariadb", "postgresql"),
                     True, True),
    "parent-query-only": ("", "SELECT p.* FROM pt_master p", ("sqlite", "mariadb", "postgresql"), True, True),
    "parent-query": (JOINED, "SELECT p.* FROM pt_master p", ("sqlite", "mariadb", "postgresql"), True, True),
    # not proven: grouped
    "expression": ("SELECT v.visit_no, v.visit_ymd, v.pt_no + 0 AS pt_no FROM visit v",
                   "", ("sqlite", "mariadb", "postgresql"), False, True),
    "other-table": ("SELECT v.visit_no, v.visit_ymd, a.pt_no FROM visit v LEFT JOIN adm a ON a.visit_no = v.visit_no",
                    "", ("sqlite", "mariadb", "postgresql"), False, True),
    "other-type": ("SELECT v.visit_no, v.visit_ymd, v.pt_txt AS pt_no FROM visit v", "", ("sqlite", "mariadb"),
                   False, True),
    "cast-text": ("SELECT v.visit_no, v.visit_ymd, CAST(v.pt_no AS TEXT) AS pt_no FROM visit v", "", ("sqlite",),
                  False, True),
    "byte-cast": ("SELECT v.visit_no, v.visit_ymd, CAST(v.pt_no AS BINARY) AS pt_no FROM visit v", "", ("mariadb",),
                  False, False),
    # a joined table's columns under the same names: the result names pt_no twice (not read: which one is q.pt_no
    # is the engine's choice, or an error)
    "two-of-the-name": ("SELECT v.*, a.* FROM visit v LEFT JOIN adm a ON a.visit_no = v.visit_no", "",
                        ("sqlite", "mariadb", "postgresql"), False, False),
}
ENGINE_CASES = [(engine, name) for name, case in sorted(CASES.items()) for engine in case[2]]

DDL = ("CREATE TABLE pt_master (pt_no INTEGER PRIMARY KEY, pt_nm VARCHAR(20))",
       "CREATE TABLE visit (visit_no INTEGER PRIMARY KEY, pt_no INTEGER, pt_txt VARCHAR(10), visit_ymd VARCHAR(8))",
       "CREATE TABLE adm (visit_no INTEGER, pt_no INTEGER, note VARCHAR(20))")


def _rows() -> dict[str, list[tuple[Any, ...]]]:
    """Patients 1-9; visits naming them (a text copy of the number, some zero-padded: '03' names 3 as SQLite and
    MariaDB compare a number with text); one admission a visit, naming the same patient."""
    visits = [(v, v % PATIENTS + 1, f"{v % PATIENTS + 1:0{1 + v % 2}d}", f"2024{v % 12 + 1:02d}01")
              for v in range(1, VISITS + 1)]
    return {"pt_master": [(p, f"name{p}") for p in range(1, PATIENTS + 1)], "visit": visits,
            "adm": [(v, p, f"note{v}") for v, p, _, _ in visits]}


def _fill(execute: Any) -> None:
    for ddl in DDL:
        execute(ddl)
    for table, rows in _rows().items():
        for row in rows:
            execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)


def _source(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A way to open the clinic (filled once) on ``engine``."""
    if engine == "sqlite":
        path = tmp_path / "forms.sqlite"
        conn = sqlite3.connect(path)
        _fill(conn.execute)
        conn.commit()
        conn.close()
        return lambda: SqliteFileSource(path)
    import pyodbc

    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    odbc = _fresh_database(conn_str, "emr_ref_forms", engine)
    server = pyodbc.connect(odbc, autocommit=True)
    try:
        _fill(server.execute)
    finally:
        server.close()
    return lambda: OdbcSource(odbc)


@pytest.mark.parametrize(("engine", "name"), ENGINE_CASES, ids=[f"{e}-{n}" for e, n in ENGINE_CASES])
def test_a_query_column_is_counted_through_the_index_only_where_proven(
        tmp_path: Path, request: pytest.FixtureRequest, engine: str, name: str) -> None:
    """A visit query's patient column is counted through the patients' primary key where the query gives the
    visit's own column back unchanged (also through a joined table, or with the patients' own query); an
    expression, another table's column, another column of another type, a cast (MariaDB's ``CAST … AS BINARY``
    too), or a name the result holds twice keeps the grouped join. The bag is the grouped form's bag, byte for
    byte, every visit exported once."""
    if engine != "sqlite":
        request.applymarker(pytest.mark.db)
    visit_query, patient_query, _, counted, exported = CASES[name]
    opened = _source(engine, tmp_path, request)
    folder = tmp_path / "connector"
    folder.mkdir()
    queries = {"visit_query": visit_query, "patient_query": patient_query}
    (folder / "connector.toml").write_text(SPEC.format(**{k: f'query = "{q}"' if q else "" for k, q in queries.items()}),
                                           encoding="utf-8")
    spec = load_spec(folder)
    encounter = spec.entities["encounter"]

    def export(grouped: bool) -> tuple[str, tuple[int, int, int]]:
        source = opened()
        try:
            run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="의원"),
                            created=CREATED)
            if grouped:
                run._indexed = lambda *args, **kwargs: False  # type: ignore[method-assign]
            sql, repeats = run._joined(encounter)
            assert ("GROUP BY" in sql, bool(repeats)) == (not counted or grouped,) * 2, sql
            if counted and not grouped:
                assert "(SELECT COUNT(*) FROM pt_master r1 WHERE r1.pt_no = q.pt_no)" in sql, sql
            if not exported:
                return "", (0, 0, 0)
            digest = digest_stream(run.stream())
            [counts] = [e for e in run.reconciliation.to_dict()["entities"] if e["entity"] == "encounter"]
        finally:
            source.close()
        return digest.sha256, (counts["source_rows"], counts["exported"], counts["quarantined"])

    found = export(grouped=False)
    if exported:
        # where the visit's own number is read, every visit names its patient (else: as the engine compares a
        # text '02' with the number 2, the same in both forms)
        assert found[1] == (VISITS, VISITS, 0) if counted else found[1][0] == VISITS == sum(found[1][1:])
        assert found == export(grouped=True)


class _Recording(SqliteFileSource):
    """The demo clinic, remembering every query the export runs with its parameters."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.queries: list[tuple[str, tuple[Any, ...]]] = []

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        self.queries.append((sql, tuple(params)))
        return super().rows(sql, params)

    def row_values(self, sql: str, params: Sequence[Any] = ()) -> Any:  # (the keyset pages on a SQLite file)
        self.queries.append((sql, tuple(params)))
        return super().row_values(sql, params)


def _demo_export(demo_clinic: Any, grouped: bool) -> tuple[str, list[tuple[str, tuple[Any, ...]]]]:
    spec = load_connector("demo")
    source = _Recording(demo_clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                        attachments_root=demo_clinic.attachments_root)
        if grouped:
            run._indexed = lambda *args, **kwargs: False  # type: ignore[method-assign]
        sha256 = digest_stream(run.stream()).sha256
        return sha256, source.queries
    finally:
        source.close()


def test_the_demo_counts_every_reference_through_the_index(demo_clinic: Any) -> None:
    """Every reference of the demo (its visits, diagnoses, lab results and coverage read by their own queries; the
    visits themselves, which every other section names, too) is counted per row through the parent's primary
    key: no page groups a parent table (SQLite's plan: a correlated scalar sub-query searching the parent by its
    rowid), and the bag is the one the grouped joins give."""
    sha256, queries = _demo_export(demo_clinic, grouped=False)
    pages = [(sql, params) for sql, params in queries if " LIMIT " in sql and "_ref_" in sql]
    assert not [sql for sql, _ in pages if "GROUP BY" in sql]
    conn = sqlite3.connect(f"file:{demo_clinic.path}?mode=ro", uri=True)
    try:
        for own in ("FROM VISIT V LEFT JOIN ADM_INFO A", "FROM DIAG D LEFT JOIN VISIT V",
                    "FROM LAB_RSLT L LEFT JOIN LAB_RPT R", "FROM INS_HIST I", "FROM CHART_REC"):
            sql, params = next(page for page in pages if own in page[0])
            plan = [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            references = sql.count(" AS _ref_")
            # each reference: a sub-query run per row, searching the parent by its key (INTEGER PRIMARY KEY: the
            # rowid; the doctors' TEXT PRIMARY KEY: its index), never a scan or a grouping of it
            assert [step for step in plan if step.startswith("CORRELATED SCALAR SUBQUERY")] == [
                f"CORRELATED SCALAR SUBQUERY {n}" for n in range(1, references + 1)], (own, plan)
            parents = [step for step in plan if re.match(r"(SEARCH|SCAN) r\d+ ", step)]
            assert len(parents) == references >= 1, (own, plan)
            assert all(re.fullmatch(r"SEARCH r\d+ USING (INTEGER PRIMARY KEY \(rowid=\?\)|COVERING INDEX "
                                    r"sqlite_autoindex_DOCTOR_1 \(DR_ID=\?\))", step) for step in parents), (own, plan)
            assert not [step for step in plan if "GROUP BY" in step], (own, plan)
    finally:
        conn.close()
    grouped_sha256, grouped_queries = _demo_export(demo_clinic, grouped=True)
    assert [sql for sql, _ in grouped_queries if " LIMIT " in sql and "GROUP BY" in sql]
    assert sha256 == grouped_sha256
