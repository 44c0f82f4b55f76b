"""A reference whose value names more than one parent row, as the database compares keys, through the IT
contractor's flow (``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``), on
a SQLite file and on real MariaDB and PostgreSQL servers over ODBC, every cell rebuilt from the opened bag.

Before, the export checked a reference with a LEFT JOIN of its own (``ExportRun._joined_sql``): a visit whose
patient number compared equal to two patient rows came back twice and the export stopped ("a JOIN … gives some of
its rows more than once", blaming the contractor's query). Now each reference counts the parent rows it names
(a correlated sub-query): one, the link; none, an orphan; more than one, ``ambiguous-ref`` — never a guess at
which chart is meant, never a stop.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from emr_exporter.connectors.mapper import key_text
from emr_exporter.connectors.spec import load_spec
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import checked, exported, scaffolded

PATIENTS = 10


@dataclass(frozen=True)
class Case:
    """A key column of the patient and doctor tables and a visit's columns naming them (their declared types), the
    clinic's keys, a second patient and a second doctor added after the scaffold whose key is ``twin`` (which the
    database may hold as equal to ``twin_of``), and the values naming ``twin_of`` in some form that visits added
    with them hold; ``doubles``: whether the engine compares those values equal to both keys."""

    key_type: str
    ref_type: str
    keys: tuple[Any, ...]
    twin: Any
    twin_of: Any
    named: tuple[Any, ...]
    doubles: bool


def _patient(key: Any, i: int) -> tuple[Any, ...]:
    return key, f"C{i:05d}", f"환자{i}", "MF"[i % 2], f"19{50 + i:02d}0101"


def _clean_rows(case: Case) -> dict[str, list[tuple[Any, ...]]]:
    keys = case.keys
    return {"PT_MASTER": [_patient(k, i) for i, k in enumerate(keys, 1)],
            "DOCTOR": [(k, f"의사{i}") for i, k in enumerate(keys, 1)],
            "VISIT": [(v, keys[(v - 1) % len(keys)], keys[v % len(keys)], f"2023{(v % 12) + 1:02d}{(v % 28) + 1:02d}",
                       "IM") for v in range(1, 2 * len(keys) + 1)]}


def _added_rows(case: Case) -> dict[str, list[tuple[Any, ...]]]:
    """The second patient and doctor; visits naming the first patient (a doctor named once), and visits naming the
    first doctor (a patient named once)."""
    first, other = 2 * len(case.keys) + 1, case.keys[0]
    named = [(value, other) for value in case.named] + [(other, value) for value in case.named]
    return {"PT_MASTER": [_patient(case.twin, len(case.keys) + 1)], "DOCTOR": [(case.twin, "의사0")],
            "VISIT": [(first + n, patient, doctor, "20240101", "GS") for n, (patient, doctor) in enumerate(named)]}


LETTERS = tuple(f"A{i}" for i in range(1, PATIENTS + 1))
NUMBERS = tuple(range(1, PATIENTS + 1))
#: engine -> case name -> case
CASES: dict[str, dict[str, Case]] = {
    "sqlite": {
        # a key column of no type holds 3 and '03'; a visit's INTEGER column compares '03' as the number 3
        "number-and-text": Case("", "INTEGER", NUMBERS, "03", 3, (3, "3"), True),
        # the same keys named from a column of no type either: compared as stored, 3 names 3 only
        "no-type": Case("", "", NUMBERS, "03", 3, (3,), False),
    },
    "mariadb": {
        # a text key named by a number: '3' = 3 = '03' (compared as numbers)
        "number-and-text": Case("VARCHAR(10)", "INT", tuple(str(n) for n in NUMBERS), "03", "3", (3,), True),
        # a key of a binary collation ('A3' and 'a3' two keys) named from a case-insensitive column
        "case": Case("VARCHAR(10) COLLATE utf8mb4_bin", "VARCHAR(10) COLLATE utf8mb4_general_ci", LETTERS, "a3",
                     "A3", ("A3", "a3"), False),
        # a NO PAD key ('A3' and 'A3  ' two keys) named from a PAD SPACE column
        # a key and a visit's column of one binary collation: 'A3' names 'A3' only, through the key's index
        "same-collation": Case("VARCHAR(10) COLLATE utf8mb4_bin", "VARCHAR(10) COLLATE utf8mb4_bin", LETTERS, "a3",
                               "A3", ("A3", "a3"), False),
        "pad-space": Case("VARCHAR(10) COLLATE utf8mb4_nopad_bin", "VARCHAR(10) COLLATE utf8mb4_general_ci",
                          LETTERS, "A3  ", "A3", ("A3",), False),
    },
    "postgresql": {
        # a text key ('A3' and 'a3' two keys) named from a citext column: compared as citext
        "citext": Case("text", "citext", LETTERS, "a3", "A3", ("A3", "a3"), False),
        # the same keys named from a text column: its very type, so an index on the key is searched per visit
        "text": Case("text", "text", LETTERS, "a3", "A3", ("A3", "a3"), False),
    },
}


def _ddl(case: Case, indexed: bool = True) -> list[str]:
    """The clinic's tables; ``indexed`` False: the patient and doctor tables without PRIMARY KEY or any index (the
    scaffold keys them by their column of unique values), so the export joins them grouped, never searching them
    per visit (docs/connectors.md, "References")."""
    key = " PRIMARY KEY" if indexed else ""
    return [f"CREATE TABLE PT_MASTER (PT_NO {case.key_type}{key}, CHART_NO VARCHAR(10), PT_NM VARCHAR(20), "
            "SEX CHAR(1), BIRTH_YMD VARCHAR(8))",
            f"CREATE TABLE DOCTOR (DR_ID {case.key_type}{key}, DR_NM VARCHAR(20))",
            f"CREATE TABLE VISIT (VISIT_NO INT PRIMARY KEY, PT_NO {case.ref_type}, DR_ID {case.ref_type}, "
            "VISIT_YMD VARCHAR(8), DEPT_CD VARCHAR(5))"]


def _insert(conn: Any, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    for table, values in rows.items():
        for row in values:
            conn.execute(f"INSERT INTO {table} VALUES ({','.join('?' * len(row))})", row)


class _Db:
    def __init__(self, path: Path | None = None, odbc: str | None = None) -> None:
        self.path, self.odbc = path, odbc

    def connect(self) -> Any:
        if self.path is not None:
            return sqlite3.connect(self.path)
        import pyodbc

        conn = pyodbc.connect(self.odbc, autocommit=True)
        conn.setencoding(encoding="utf-8")
        return conn

    def source(self) -> Any:
        return SqliteFileSource(self.path) if self.path is not None else OdbcSource(self.odbc or "")


def _empty(engine: str, tmp_path: Path, request: pytest.FixtureRequest, name: str = "emr_ref_join") -> _Db:
    """A new empty database: a SQLite file, or ``name`` on the engine's test server."""
    if engine == "sqlite":
        return _Db(path=tmp_path / "clinic.db")
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    return _Db(odbc=_fresh_database(conn_str, name, engine))


def _clinic(engine: str, case: Case, tmp_path: Path, request: pytest.FixtureRequest, indexed: bool = True) -> _Db:
    db = _empty(engine, tmp_path, request)
    conn = db.connect()
    try:
        if "citext" in (case.key_type, case.ref_type):
            conn.execute("CREATE EXTENSION IF NOT EXISTS citext")
        for statement in _ddl(case, indexed):
            conn.execute(statement)
        _insert(conn, _clean_rows(case))
        conn.commit()
    finally:
        conn.close()
    return db


def _keys_by_id(bag: Path, resource_type: str, table: str) -> dict[str, str]:
    """``resource_type`` id -> the source key its secondary identifier names (the row of ``table`` it was made of)."""
    found = {}
    for resource in lines(bag, f"fhir/{resource_type}"):
        [key] = [i["value"] for i in resource["identifier"] if i["system"].lower().endswith(f":{table.lower()}")]
        found[resource["id"]] = key
    return found


def _referenced(resource: dict[str, Any], resource_type: str) -> list[str]:
    """The ids of ``resource_type`` that ``resource`` refers to, wherever."""
    text = json.dumps(resource)
    return re.findall(rf'"{resource_type}/([0-9a-f]{{32}})"', text)


def _run(engine: str, name: str, tmp_path: Path, request: pytest.FixtureRequest, indexed: bool = True) -> Path:
    """The flow on ``CASES[engine][name]``, every outcome asserted; the opened bag."""
    case = CASES[engine][name]
    db = _clinic(engine, case, tmp_path, request, indexed)
    flow = scaffolded(db, tmp_path)  # on the clinic as it was: every key once
    toml = flow.connectors / "foreign" / "connector.toml"
    if not indexed:  # pages of 3 visits: a visit given twice by the grouped join may be a page's last
        text = toml.read_text(encoding="utf-8")
        assert text.count("[entities.encounter]\n") == 1
        toml.write_text(text.replace("[entities.encounter]\n", "[entities.encounter]\npage_size = 3\n"),
                        encoding="utf-8")
    spec = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert spec["entities"]["encounter"].get("page_size") == (None if indexed else 3)
    assert (spec["entities"]["patient"]["key"].upper(), spec["entities"]["practitioner"]["key"].upper()) == (
        "PT_NO", "DR_ID")
    fields = spec["entities"]["encounter"]["fields"]
    assert ({n: (f["column"].upper(), f.get("ref"), f.get("required", False)) for n, f in fields.items()
             if f.get("type") == "ref"} == {"patient_id": ("PT_NO", "patient", True),
                                            "practitioner_id": ("DR_ID", "practitioner", False)})
    conn = db.connect()
    try:
        _insert(conn, _added_rows(case))  # now some values name two rows, as this engine compares them
        conn.commit()
    finally:
        conn.close()
    visits = _clean_rows(case)["VISIT"] + _added_rows(case)["VISIT"]
    twin_of = key_text(case.twin_of)

    def ambiguous(value: Any) -> bool:
        return case.doubles and key_text(value) == twin_of

    no_patient = {v for v, patient, *_ in visits if ambiguous(patient)}
    no_doctor = {v for v, patient, doctor, *_ in visits if ambiguous(doctor) and v not in no_patient}
    assert len(no_patient) == len(no_doctor) == (2 + len(case.named) if case.doubles else 0)
    check = checked(flow)  # the connector check: not stopped, the reconciliation balanced
    [encounters] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "encounter"]
    assert (encounters["source_rows"], encounters["exported"], encounters["quarantined"]) == (
        len(visits), len(visits) - len(no_patient), len(no_patient))
    assert encounters["quarantine_reasons"] == ({"ambiguous-ref": len(no_patient)} if no_patient else {})
    assert encounters["field_defects"] == ({"ambiguous-ref": len(no_doctor)} if no_doctor else {})
    _dry, _sealed, bag = exported(flow, tmp_path)
    patients = _keys_by_id(bag, "Patient", "PT_MASTER")
    doctors = _keys_by_id(bag, "Practitioner", "DOCTOR")
    linked = {int(e["identifier"][0]["value"]): ([patients[i] for i in _referenced(e, "Patient")],
                                                 [doctors[i] for i in _referenced(e, "Practitioner")])
              for e in lines(bag, "fhir/Encounter")}
    # each visit links to the very patient and doctor its values name (as text: 'a3' to 'a3', not to 'A3'), or,
    # where the value names two, to none: the visit quarantined (its patient is required), the doctor a defect
    assert linked == {v: ([key_text(patient)], [] if v in no_doctor else [key_text(doctor)])
                      for v, patient, doctor, *_ in visits if v not in no_patient}
    quarantined = [r for r in lines(bag, "raw/encounter") if r.get("reason_code") == "ambiguous-ref"]
    assert sorted(int(r["key"]) for r in quarantined) == sorted(no_patient)
    source = db.source()
    try:  # every cell of every table comes back exactly (the ambiguous doctors' DR_ID from the raw sidecar)
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows == {"pt_master": len(case.keys) + 1, "doctor": len(case.keys) + 1, "visit": len(visits)}
    return bag


@pytest.mark.parametrize("indexed", [True, False], ids=["primary-key", "no-index"])
@pytest.mark.parametrize("name", sorted(CASES["sqlite"]))
def test_a_reference_naming_two_patients_on_sqlite(tmp_path: Path, request: pytest.FixtureRequest, name: str,
                                                   indexed: bool) -> None:
    _run("sqlite", name, tmp_path, request, indexed)


@pytest.mark.db
@pytest.mark.parametrize("indexed", [True, False], ids=["primary-key", "no-index"])
@pytest.mark.parametrize(("engine", "name"), [(e, n) for e in ("mariadb", "postgresql") for n in sorted(CASES[e])])
def test_a_reference_naming_two_patients_on_a_server(tmp_path: Path, request: pytest.FixtureRequest, engine: str,
                                                     name: str, indexed: bool) -> None:
    _run(engine, name, tmp_path, request, indexed)


#: per engine, a case whose references an index on the key serves (the key's very type): with it, each is one
#: index look-up per visit; without it, a join of the table grouped by the key
SAME_TYPE = {"sqlite": "no-type", "mariadb": "same-collation", "postgresql": "text"}


def _bag_files(bag: Path) -> dict[str, Any]:
    """The bag's records and raw rows, by path, and its reconciliation but the time it was made."""
    found: dict[str, Any] = {str(p.relative_to(bag)): p.read_bytes() for p in sorted((bag / "data").rglob("*.ndjson"))
                             if p.parts[-2] in ("fhir", "raw", "columns")}
    reconciliation = json.loads((bag / "data" / "report" / "reconciliation.json").read_text(encoding="utf-8"))
    del reconciliation["created"]
    found["reconciliation"] = reconciliation
    return found


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db),
                                    pytest.param("postgresql", marks=pytest.mark.db)])
def test_an_unindexed_parent_key_gives_the_bag_an_indexed_one_does(tmp_path: Path, request: pytest.FixtureRequest,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   engine: str) -> None:
    """The same clinic with and without PRIMARY KEYs on the patient and doctor tables: counted per visit through
    the index, or joined grouped, every record, raw row and count of the bag is the same, byte for byte."""
    from emr_exporter.pipeline.export import ExportRun

    joined = ExportRun._joined
    grouped: list[tuple[str, ...]] = []  # per export of the visits: the references it joins grouped

    def spy(run: ExportRun, entity: Any, rows_sql: str | None = None) -> Any:
        sql, repeats = joined(run, entity, rows_sql)
        if entity.name == "encounter" and rows_sql is None:
            grouped.append(tuple(sorted(count for count, _ in repeats.refs)))
        return sql, repeats

    monkeypatch.setattr(ExportRun, "_joined", spy)
    for name in ("indexed", "unindexed"):
        (tmp_path / name).mkdir()
    indexed = _bag_files(_run(engine, SAME_TYPE[engine], tmp_path / "indexed", request, True))
    assert grouped and set(grouped) == {()}  # the check, the dry run, the sealed export: all through the index
    grouped.clear()
    unindexed = _bag_files(_run(engine, SAME_TYPE[engine], tmp_path / "unindexed", request, False))
    assert grouped and set(grouped) == {("_ref_patient_id", "_ref_practitioner_id")}
    assert len([p for p in indexed if "/fhir/Encounter" in p]) == 1
    assert unindexed == indexed


SPEC = """
[connector]
name = "foreign"
version = "0.1.0"
engines = ["sqlite"]

[source]
date_formats = ["%Y%m%d"]

[entities.patient]
table = "PATIENT"
key = "PT_SEQ"
unique = ["chart_number"]

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.encounter]
table = "VISIT"
key = "VISIT_NO"

[entities.encounter.fields]
patient_id = { column = "CHART_NO", type = "ref", ref = "patient.chart_number", required = true }
start = { column = "VISIT_YMD", type = "date", required = true }
department = { column = "DEPT_CD", lookup = { table = "DEPT", key = "CD", value = "NM" } }
"""


def test_by_a_unique_field_and_through_a_code_table_on_sqlite(tmp_path: Path, request: pytest.FixtureRequest
                                                              ) -> None:
    """A reference by chart number (``ref = "patient.chart_number"``) and a code look-up, joined on values of no
    type (3 and '03', 1 and '01') from INTEGER columns: before, both joins gave such a visit twice and the export
    stopped. Now the visit naming chart 3 is quarantined ``ambiguous-ref`` (its patient is required), the one naming
    chart 5 links to the lowest key of the two patients recorded with it (the other is quarantined as ``duplicate``),
    and department 1 is the code table's lowest name of the codes equal to it (as a code repeated in it is)."""
    db = _Db(path=tmp_path / "clinic.db")
    conn = sqlite3.connect(db.path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_SEQ INTEGER PRIMARY KEY, CHART_NO, PT_NM VARCHAR(20));
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, CHART_NO INTEGER, VISIT_YMD VARCHAR(8), DEPT_CD INTEGER);
        CREATE TABLE DEPT (CD, NM VARCHAR(20));
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?,?,?)",
                     [(i, i, f"환자{i}") for i in range(1, PATIENTS + 1)] + [(11, "03", "환자11"), (12, 5, "환자12")])
    conn.executemany("INSERT INTO DEPT VALUES (?,?)", [(1, "외과"), ("01", "내과"), (2, "소아과")])
    visits = [(v, (v - 1) % PATIENTS + 1, "20240102", v % 3 or None) for v in range(1, 2 * PATIENTS + 1)]
    conn.executemany("INSERT INTO VISIT VALUES (?,?,?,?)", visits)
    conn.commit()
    conn.close()
    flow = scaffolded(db, tmp_path)
    (flow.connectors / "foreign" / "connector.toml").write_text(SPEC, encoding="utf-8")
    check = checked(flow)
    [encounters] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "encounter"]
    no_patient = {v for v, chart, *_ in visits if chart == 3}
    assert (encounters["exported"], encounters["quarantine_reasons"]) == (
        len(visits) - len(no_patient), {"ambiguous-ref": len(no_patient)})
    _dry, _sealed, bag = exported(flow, tmp_path)
    patients = _keys_by_id(bag, "Patient", "PATIENT")
    linked = {int(e["identifier"][0]["value"]): (patients[_referenced(e, "Patient")[0]],
                                                 e.get("serviceType", {}).get("text"))
              for e in lines(bag, "fhir/Encounter")}
    names = {1: "내과", 2: "소아과", None: None}  # '내과' < '외과'
    assert linked == {v: (str(chart), names[dept]) for v, chart, _, dept in visits if v not in no_patient}
    source = db.source()
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows == {"patient": PATIENTS + 2, "visit": len(visits), "dept": 3}


_INDEXES = {
    "sqlite": ["CREATE INDEX t_e ON T (E) WHERE E IS NOT NULL", "CREATE INDEX t_f ON T (lower(F))"],
    "mariadb": ["CREATE FULLTEXT INDEX t_e ON T (E)"],
    "postgresql": ["CREATE INDEX t_e ON T (E) WHERE E IS NOT NULL", "CREATE INDEX t_f ON T (lower(F))"],
}


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db),
                                    pytest.param("postgresql", marks=pytest.mark.db)])
def test_the_catalogue_names_the_columns_an_index_leads(tmp_path: Path, request: pytest.FixtureRequest,
                                                         engine: str) -> None:
    """The columns whose ``=`` one index look-up serves, as the export reads them once (sources/catalog.py): the
    first column of a PRIMARY KEY (SQLite's rowid too), of a UNIQUE index, of a plain one; never a second column,
    a partial, expression or full-text index's, nor a column of a table without any."""
    from emr_exporter.sources.catalog import list_tables

    db = _empty(engine, tmp_path, request, "emr_ref_index")
    conn = db.connect()
    try:
        for sql in ["CREATE TABLE T (A INTEGER PRIMARY KEY, B INTEGER, C INTEGER, D INTEGER, E VARCHAR(10), "
                    "F VARCHAR(10))", "CREATE UNIQUE INDEX t_b ON T (B)", "CREATE INDEX t_cd ON T (C, D)",
                    "CREATE TABLE U (K VARCHAR(10), V INTEGER)", "CREATE TABLE W (K VARCHAR(10) PRIMARY KEY)",
                    *_INDEXES[engine]]:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
    source = db.source()
    try:
        tables = list_tables(source)
    finally:
        source.close()
    assert {(t.name.upper(), c.name.upper()): c.indexed for t in tables for c in t.columns} == {
        ("T", "A"): True, ("T", "B"): True, ("T", "C"): True, ("T", "D"): False, ("T", "E"): False,
        ("T", "F"): False, ("U", "K"): False, ("U", "V"): False, ("W", "K"): True}


def test_a_key_repeated_by_grouped_joins_is_made_one_row_in_both_page_forms() -> None:
    """Rows a grouped join gave twice (pipeline/references.py), as the one-core pages (dicts) and the worker pages
    (value tuples) hold them: each key once, its count the distinct groups' sum where two groups matched (patient
    3 and '03'), kept where one did (a doctor matched twice only because the patient was), and a look-up's lowest
    value; every other cell as read."""
    from emr_exporter.pipeline.references import Repeats

    repeats = Repeats("visit_no", refs=(("_ref_patient_id", "_ref_patient_id_g"),
                                        ("_ref_doctor_id", "_ref_doctor_id_g")), lookups=("_ref_lk_dept",))
    names = ("visit_no", "pt_no", "_ref_patient_id", "_ref_patient_id_g", "_ref_doctor_id", "_ref_doctor_id_g",
             "_ref_lk_dept")
    page = [(1, 1, 1, 1, 1, "D1", "내과"),
            (2, 3, 1, 3, 1, "D2", "외과"), (2, 3, 1, "03", 1, "D2", "내과"),
            (3, 5, None, None, 1, "D1", None),
            (4, 3, 1, "03", None, None, None), (4, 3, 1, 3, None, None, None)]
    expected = [(1, 1, 1, 1, 1, "D1", "내과"), (2, 3, 2, 3, 1, "D2", "내과"), (3, 5, None, None, 1, "D1", None),
                (4, 3, 2, "03", None, None, None)]
    [(got_names, values)] = list(repeats.value_pages(iter([(names, page)])))
    assert (got_names, values) == (names, expected)
    [rows] = list(repeats.pages(iter([[dict(zip(names, v, strict=True)) for v in page]])))
    assert rows == [dict(zip(names, v, strict=True)) for v in expected]


WORKER_SPEC = """
[connector]
name = "foreign"
version = "0.1.0"

[source]
date_formats = ["%Y%m%d"]

[entities.patient]
table = "PT_MASTER"
key = "PT_NO"

[entities.patient.fields]
chart_number = { column = "PT_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.encounter]
table = "VISIT"
key = "VISIT_NO"
page_size = 7

[entities.encounter.fields]
patient_id = { column = "PT_NO", type = "ref", ref = "patient", required = true }
start = { column = "VISIT_YMD", type = "date", required = true }
department = { column = "DEPT_CD", lookup = { table = "DEPT", key = "CD", value = "NM" } }
"""


def test_grouped_joins_give_one_bag_on_one_core_and_on_worker_processes(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A patient table without any index holding 3 and '03' (no type) and a code table without key holding 1 and
    '01', named from INTEGER columns, in pages of 7 visits: mapped on one core (pages of dicts) and by worker
    processes (pages of value tuples), the same bag; every visit naming 3 quarantined ambiguous-ref, once."""
    from emr_exporter import model
    from emr_exporter.pipeline import export as export_module
    from emr_exporter.pipeline import parallel
    from emr_exporter.pipeline.export import ExportRun, digest_stream

    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 50)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 11)
    path = tmp_path / "clinic.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PT_MASTER (PT_NO, PT_NM VARCHAR(20));
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD VARCHAR(8), DEPT_CD INTEGER);
        CREATE TABLE DEPT (CD, NM VARCHAR(20));
    """)
    conn.executemany("INSERT INTO PT_MASTER VALUES (?,?)",
                     [(i, f"환자{i}") for i in range(1, 31)] + [("03", "환자03")])
    conn.executemany("INSERT INTO DEPT VALUES (?,?)", [(1, "외과"), ("01", "내과"), (2, "소아과")])
    visits = [(v, v % 30 + 1, "20240102", v % 3 or None) for v in range(1, 301)]
    conn.executemany("INSERT INTO VISIT VALUES (?,?,?,?)", visits)
    conn.commit()
    conn.close()
    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "connector.toml").write_text(WORKER_SPEC, encoding="utf-8")
    spec = load_spec(folder)

    def export(workers: int) -> tuple[str, dict[str, Any], bool]:
        source = SqliteFileSource(path)
        try:
            run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="의원"),
                            created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), workers=workers)
            digest = digest_stream(run.stream())
            return digest.sha256, run.reconciliation.to_dict(), run._pool_tried
        finally:
            source.close()

    one, many = export(1), export(2)
    assert (one[2], many[2]) == (False, True)
    assert many[:2] == one[:2]
    [encounters] = [e for e in one[1]["entities"] if e["entity"] == "encounter"]
    assert (encounters["source_rows"], encounters["exported"], encounters["quarantine_reasons"]) == (
        300, 290, {"ambiguous-ref": 10})
