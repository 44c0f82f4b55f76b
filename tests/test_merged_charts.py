"""Merged charts (환자 통합) through the IT contractor's flow (``scaffold`` → ``connector check`` → dry run → sealed
``export`` → ``verify`` → ``open``), on a SQLite file and on real PostgreSQL and MariaDB servers over ODBC.

A clinic that registered one person twice and later merged the charts keeps the old chart, saying which chart it
was merged into: a column on the patient row (``MERGE_CHART_NO``) or a merge table (``pt_merge(old_chart_no,
new_chart_no, merged_at)``); the old chart's visits still point at the old chart. Before, the export made two
unrelated Patients (no ``Patient.link``): the portal found only half of the patient's records under the survivor.

The clinic holds: three plain merges, a chain (A into B into C), a cycle (X into Y into X), a self-merge, a merge
into a chart no patient has, and a merge into a chart whose row is quarantined (no name).
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors.spec import load_spec
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.drivers import get_option
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import checked, exported, scaffolded

PATIENTS = 40
#: old chart -> the chart it was merged into, as the clinic recorded it
MERGES = {
    "C0031": "C0001", "C0032": "C0002", "C0033": "C0003",  # plain
    "C0034": "C0035", "C0035": "C0004",  # a chain: 34 into 35 into 4
    "C0036": "C0037", "C0037": "C0036",  # a cycle
    "C0038": "C0038",  # itself
    "C0039": "C9999",  # no such chart
    "C0040": "C0030",  # C0030 has no name: quarantined
}
NAMELESS = "C0030"


def _chart(i: int) -> str:
    return f"C{i:04d}"


def _patient_rows() -> Iterator[tuple[int, str, str | None, str, str]]:
    for i in range(1, PATIENTS + 1):
        chart = _chart(i)
        yield i, chart, None if chart == NAMELESS else f"환자{i}", "MF"[i % 2], f"19{50 + i:02d}0101"


def _visits() -> Iterator[tuple[int, int, str, str]]:
    # two visits a patient (by the surrogate key); every old chart's visits stay on the old chart
    for v in range(1, 2 * PATIENTS + 1):
        yield v, (v - 1) % PATIENTS + 1, f"2023{(v % 12) + 1:02d}{(v % 28) + 1:02d}", "IM"


#: How a clinic writes its chart numbers and the merged_into values naming them (the test's C0001 names), and
#: the merged_into column's type: as recorded; zero-padded chart numbers named by integers (1031 for '0001031');
#: a value in the other case ('c0001' for 'C0001'); spaces around a value (' C0001  ').
FORMS: dict[str, tuple[Callable[[str], str], Callable[[str], Any], str]] = {
    "": (lambda c: c, lambda c: c, "VARCHAR(10)"),
    "number": (lambda c: f"{int(c[1:]) + 1000:07d}", lambda c: int(c[1:]) + 1000, "INT"),  # never a PT_NO
    "case": (lambda c: c, lambda c: c.lower(), "VARCHAR(10)"),
    "spaces": (lambda c: c, lambda c: f" {c}  ", "VARCHAR(12)"),
}


def _rows(form: str) -> Iterator[tuple[Any, ...]]:
    chart, merged, _ = FORMS[form]
    for pt_no, name, nm, sex, birth in _patient_rows():
        yield pt_no, chart(name), nm, sex, birth, (merged(MERGES[name]) if name in MERGES else None)


def build_sqlite(path: Path, merge_table: bool, form: str = "") -> None:
    conn = sqlite3.connect(path)
    merge_column = "" if merge_table else f", MERGE_CHART_NO {FORMS[form][2]}"
    conn.executescript(f"""
    CREATE TABLE PT_MASTER (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT UNIQUE, PT_NM TEXT, SEX TEXT,
        BIRTH_YMD TEXT{merge_column});
    CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER REFERENCES PT_MASTER(PT_NO), VISIT_YMD TEXT,
        DEPT_CD TEXT);
    """)
    for row in _rows(form):
        conn.execute(f"INSERT INTO PT_MASTER VALUES (?,?,?,?,?{'' if merge_table else ',?'})",
                     row[:5] if merge_table else row)
    conn.executemany("INSERT INTO VISIT VALUES (?,?,?,?)", list(_visits()))
    if merge_table:
        conn.execute("CREATE TABLE PT_MERGE (MERGE_SEQ INTEGER PRIMARY KEY, OLD_CHART_NO TEXT, NEW_CHART_NO TEXT, "
                     "MERGED_AT TEXT)")
        conn.executemany("INSERT INTO PT_MERGE (OLD_CHART_NO, NEW_CHART_NO, MERGED_AT) VALUES (?,?,?)",
                         [(old, new, "2022-03-03") for old, new in MERGES.items()])
    conn.commit()
    conn.close()


def build_server(engine: str, conn_str: str, merge_table: bool, form: str = "") -> str:
    import pyodbc
    from foreign_schemas import _fresh_database

    target = _fresh_database(conn_str, "emr_merged_charts", engine)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    merge_column = "" if merge_table else f", merge_chart_no {FORMS[form][2]}"
    c.execute("CREATE TABLE pt_master (pt_no INT PRIMARY KEY, chart_no VARCHAR(10) UNIQUE, pt_nm VARCHAR(20), "
              f"sex CHAR(1), birth_ymd VARCHAR(8){merge_column})")
    c.execute("CREATE TABLE visit (visit_no INT PRIMARY KEY, pt_no INT REFERENCES pt_master(pt_no), "
              "visit_ymd VARCHAR(8), dept_cd VARCHAR(5))")
    for row in _rows(form):
        c.execute(f"INSERT INTO pt_master VALUES (?,?,?,?,?{'' if merge_table else ',?'})",
                  row[:5] if merge_table else row)
    c.executemany("INSERT INTO visit VALUES (?,?,?,?)", list(_visits()))
    if merge_table:
        c.execute("CREATE TABLE pt_merge (merge_seq INT PRIMARY KEY, old_chart_no VARCHAR(10), "
                  "new_chart_no VARCHAR(10), merged_at VARCHAR(10))")
        c.executemany("INSERT INTO pt_merge VALUES (?,?,?,?)",
                      [(n, old, new, "2022-03-03") for n, (old, new) in enumerate(MERGES.items(), 1)])
    conn.close()
    return target


class _Db:
    def __init__(self, path: Path | None = None, odbc: str | None = None) -> None:
        self.path, self.odbc = path, odbc


def _flow(db: _Db, tmp_path: Path, open_source: Callable[[], Any]) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """The contractor's flow on ``db`` with the scaffold's connector untouched: its patient section, the check's
    JSON and the opened bag, checked cell by cell against the database."""
    flow = scaffolded(db, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    check = checked(flow)
    _dry, _sealed, bag = exported(flow, tmp_path)
    source = open_source()
    try:
        check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    return spec, check, bag


def assert_merges(check: dict[str, Any], bag: Path, form: str = "") -> None:
    # connector check says what became of the merges, each defect by its code
    assert check["merged_charts"] == [{
        "section": "patient", "replaced": 5, "survivors": 5, "chains": 1,
        "defects": {"merge-cycle": 2, "merge-self": 1, "merge-target-missing": 1, "merge-target-quarantined": 1},
    }]
    chart, merged, _ = FORMS[form]
    named = {chart(_chart(i)): _chart(i) for i in range(1, PATIENTS + 1)}  # as written -> the test's name
    patients = {named[p["identifier"][0]["value"]]: p for p in lines(bag, "fhir/Patient")}
    assert len(patients) == PATIENTS - 1 and NAMELESS not in patients  # the nameless chart quarantined, alone
    links = {chart: p.get("link") for chart, p in patients.items() if "link" in p}
    ref = {chart: {"reference": f"Patient/{p['id']}"} for chart, p in patients.items()}
    assert links == {
        "C0031": [{"other": ref["C0001"], "type": "replaced-by"}],
        "C0032": [{"other": ref["C0002"], "type": "replaced-by"}],
        "C0033": [{"other": ref["C0003"], "type": "replaced-by"}],
        # the chain linked as recorded: 34 to 35 (never re-pointed to 4), 35 to 4
        "C0034": [{"other": ref["C0035"], "type": "replaced-by"}],
        "C0035": [{"other": ref["C0004"], "type": "replaced-by"}, {"other": ref["C0034"], "type": "replaces"}],
        "C0001": [{"other": ref["C0031"], "type": "replaces"}],
        "C0002": [{"other": ref["C0032"], "type": "replaces"}],
        "C0003": [{"other": ref["C0033"], "type": "replaces"}],
        "C0004": [{"other": ref["C0035"], "type": "replaces"}],
    }
    assert sorted(c for c, p in patients.items() if p.get("active") is False) == [
        "C0031", "C0032", "C0033", "C0034", "C0035"]
    assert sum("active" in p for p in patients.values()) == 5  # the others as the source has them: no flag
    # the old chart's visits keep pointing at the old chart, as the source has them
    subjects = [e["subject"] for e in lines(bag, "fhir/Encounter")]
    assert subjects.count(ref["C0031"]) == 2 and subjects.count(ref["C0001"]) == 2
    # what cannot be a link: the patient kept, merged_into in the sidecar with the reason
    defects = {line["key"]: [d["reason_code"] for d in line.get("field_defects", [])]
               for line in lines(bag, "raw/columns/patient") if line.get("field_defects")}
    # a chain is linked as recorded, so no defect: its cell carried as an ordinary link's (never "damaged")
    assert defects == {"36": ["merge-cycle"], "37": ["merge-cycle"], "38": ["merge-self"],
                       "39": ["merge-target-missing"], "40": ["merge-target-quarantined"]}
    carried = {line["key"]: line for line in lines(bag, "raw/columns/patient")}
    merge_cells = {c for c in carried["31"]["columns"] if c.lower() == "merge_chart_no"}  # none from a table
    for key in ("31", "34", "35"):  # an ordinary link and both charts of the chain alike
        assert "field_defects" not in carried[key] and merge_cells <= set(carried[key]["transformed"])
    # the roster says which chart replaced which
    roster = {named[line["chart_number"]]: line for line in lines(bag, "report/roster")}
    # as recorded, in its own form (a text field's trailing spaces dropped, as a CHAR's; the cell itself is exact)
    assert roster["C0031"]["merged_into"] == str(merged("C0001")).rstrip()
    assert roster["C0031"]["replaced_by"] == patients["C0001"]["id"]
    assert roster["C0001"]["replaces"] == [patients["C0031"]["id"]] and "replaced_by" not in roster["C0001"]
    assert roster["C0039"]["merged_into"] == str(merged("C9999")).rstrip() and "replaced_by" not in roster["C0039"]
    assert "merged_into" not in roster["C0005"]


def test_a_merge_column_links_the_old_chart_to_its_survivor(tmp_path: Path) -> None:
    # Before: MERGE_CHART_NO was an unmapped column (carried raw): 39 unrelated Patients, none with a link.
    build_sqlite(tmp_path / "clinic.db", merge_table=False)
    spec, check, bag = _flow(_Db(tmp_path / "clinic.db"), tmp_path,
                             lambda: SqliteFileSource(tmp_path / "clinic.db"))
    assert spec["entities"]["patient"]["fields"]["merged_into"] == {"column": "MERGE_CHART_NO"}
    assert "MERGE_CHART_NO" not in {c["column"] for c in check["unmapped_columns"]}
    assert_merges(check, bag)


@pytest.mark.parametrize("form", ["number", "case", "spaces"])
def test_a_merge_column_naming_the_survivor_in_another_form_links_it(tmp_path: Path, form: str) -> None:
    # Before: MERGE_CHART_NO 1001 for the chart '0001001' (or 'c0001', ' C0001  ' for 'C0001') was not recognised
    # by the scaffold (its 80 % test compared exact values: carried raw, no link); mapped by hand, every merge was
    # merge-target-missing. Now the forms a visit's reference may take (key_form) are read alike, no looser.
    build_sqlite(tmp_path / "clinic.db", merge_table=False, form=form)
    spec, check, bag = _flow(_Db(tmp_path / "clinic.db"), tmp_path,
                             lambda: SqliteFileSource(tmp_path / "clinic.db"))
    assert spec["entities"]["patient"]["fields"]["merged_into"] == {"column": "MERGE_CHART_NO"}
    assert_merges(check, bag, form)


def test_a_value_is_rewritten_only_into_the_one_form_every_chart_is_written_in() -> None:
    # never looser than the visits' key_form: no form where the charts are written several ways, so that a value
    # can name only the chart it means
    from emr_exporter.connectors.mapper import KeyForm, in_key_form

    assert KeyForm.of(["0000141", "0000200", None]) == ("pad", 7)
    assert KeyForm.of(["0000141", "141"]) is None and KeyForm.of(["0000141", "00141"]) is None
    assert KeyForm.of([141, 200]) == ("number", 0) and KeyForm.of([141, "200"]) is None
    assert KeyForm.of(["C0001", "C0002"]) == ("upper", 0) and KeyForm.of(["C0001", "c0002"]) is None
    assert KeyForm.of(["0001", "0002"]) == ("pad", 4) and KeyForm.of(["1001", "1002"]) is None
    assert in_key_form("141", ("pad", 7)) == "0000141" and in_key_form("00141", ("pad", 7)) == "0000141"
    assert in_key_form("12345678", ("pad", 7)) is None and in_key_form("-141", ("pad", 7)) is None
    assert in_key_form("0000141", ("number", 0)) == "141" and in_key_form("1e3", ("number", 0)) is None
    assert in_key_form("c0001", ("upper", 0)) == "C0001" and in_key_form("C0001", ("lower", 0)) == "c0001"


def test_a_merge_table_links_the_old_chart_to_its_survivor(tmp_path: Path) -> None:
    # Before: PT_MERGE was a table nobody recognised (connector check: unmapped), the Patients unlinked.
    build_sqlite(tmp_path / "clinic.db", merge_table=True)
    spec, check, bag = _flow(_Db(tmp_path / "clinic.db"), tmp_path,
                             lambda: SqliteFileSource(tmp_path / "clinic.db"))
    assert spec["entities"]["patient"]["fields"]["merged_into"] == {
        "expr": "(SELECT MAX(m.NEW_CHART_NO) FROM PT_MERGE m WHERE m.OLD_CHART_NO = s.CHART_NO)"}
    assert check["unmapped_tables"] == []
    assert [t["table"].lower() for t in check["carried_tables"]] == ["pt_merge"]
    assert_merges(check, bag)


def test_a_merge_column_whose_values_are_no_chart_numbers_is_not_taken_for_one(tmp_path: Path) -> None:
    # A column named like a merge whose values are not the patient table's chart numbers (a flag) is left as it is
    # (carried raw), never read as links: the merge table beside it, whose values are, is read instead.
    build_sqlite(tmp_path / "clinic.db", merge_table=True)
    with sqlite3.connect(tmp_path / "clinic.db") as conn:
        conn.execute("ALTER TABLE PT_MASTER ADD COLUMN MERGE_PT_NO TEXT")
        conn.execute("UPDATE PT_MASTER SET MERGE_PT_NO = 'Y' WHERE CHART_NO IN (SELECT OLD_CHART_NO FROM PT_MERGE)")
    conn.close()
    flow = scaffolded(_Db(tmp_path / "clinic.db"), tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    assert spec["entities"]["patient"]["fields"]["merged_into"] == {
        "expr": "(SELECT MAX(m.NEW_CHART_NO) FROM PT_MERGE m WHERE m.OLD_CHART_NO = s.CHART_NO)"}
    check = checked(flow)
    assert {(c["table"], c["column"]): c["cells"] for c in check["unmapped_columns"]} == {
        ("PT_MASTER", "MERGE_PT_NO"): len(MERGES)}


@pytest.mark.db
@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_merge_column_of_integers_naming_zero_padded_charts_on_a_server(
        tmp_path: Path, request: pytest.FixtureRequest, engine: str) -> None:
    # Before: merge_chart_no INT 1001 for the chart '0001001': PostgreSQL refuses text = integer and MariaDB finds
    # 1001 = '0001001' while the export names records by their text, so the column was carried raw: no link.
    conn_str = request.getfixturevalue("postgres_conn_str" if engine == "postgresql" else "mariadb_conn_str")
    target = build_server(engine, conn_str, False, form="number")
    spec, check, bag = _flow(_Db(odbc=target), tmp_path, lambda: OdbcSource(target, get_option(target, "PWD")))
    assert spec["entities"]["patient"]["fields"]["merged_into"] == {"column": "merge_chart_no"}
    assert_merges(check, bag, "number")


@pytest.mark.db
@pytest.mark.parametrize("merge_table", [False, True], ids=["column", "table"])
@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_merged_charts_on_a_server(tmp_path: Path, request: pytest.FixtureRequest, engine: str,
                                   merge_table: bool) -> None:
    # Before: on a server as on SQLite, two unrelated Patients per merged person.
    conn_str = request.getfixturevalue("postgres_conn_str" if engine == "postgresql" else "mariadb_conn_str")
    target = build_server(engine, conn_str, merge_table)
    spec, check, bag = _flow(_Db(odbc=target), tmp_path, lambda: OdbcSource(target, get_option(target, "PWD")))
    field = spec["entities"]["patient"]["fields"]["merged_into"]
    assert field == ({"expr": "(SELECT MAX(m.new_chart_no) FROM pt_merge m WHERE m.old_chart_no = s.chart_no)"}
                     if merge_table else {"column": "merge_chart_no"})
    assert_merges(check, bag)


def test_links_to_patients_written_later_pass_the_reference_check_only_while_expected() -> None:
    # Merged charts' Patients link to each other both ways, so one of two is always written first: the export's
    # reference check lets the links through while their targets are expected, and only those.
    from emr_exporter.pipeline.bag import canonical_json_line
    from emr_exporter.pipeline.check import ResourceCheck

    old, survivor, stranger = "a" * 32, "b" * 32, "c" * 32
    line = canonical_json_line({"resourceType": "Patient", "id": old, "active": False,
                                "link": [{"other": {"reference": f"Patient/{survivor}"}, "type": "replaced-by"}]})
    with ResourceCheck() as check:
        assert check.claim("Patient", old) is not None
        assert check.dangling(None, line) == ("link.0.other.reference", "Patient")
        check.expect("Patient", [survivor])
        assert check.dangling(None, line) is None
        check.expect("Patient", [stranger])
        assert check.dangling(None, line) == ("link.0.other.reference", "Patient")
        check.expect("Patient", ())
        assert check.claim("Patient", survivor) is not None
        assert check.dangling(None, line) is None


def test_the_connector_check_counts_chains_apart_from_the_defects() -> None:
    # Before: a chain was counted as the field defect merge-chain (the founder's report: a damaged optional item)
    from emr_exporter.authoring.check import CheckReport

    report = CheckReport(connector="foreign", source_label="clinic")
    report.merged_charts = {"patient": {"replaced": 5, "survivors": 5, "chains": 1, "defects": {"merge-self": 1}}}
    text = report.text().splitlines()
    assert ("  1 of them merged into a chart that was itself merged on (A into B into C): linked as recorded, A "
            "replaced-by B, B replaced-by C (no defect).") in text
    assert [line for line in text if line.startswith("  merge-")] == [
        "  merge-self 1: names the patient's own chart: no link, the value kept as recorded"]
