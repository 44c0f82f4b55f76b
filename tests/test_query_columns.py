"""A section's query selects a table's column only where it gives back its stored value unchanged, under its name.

Before, a query's result column counted as the table's column of the same name whatever it held:
``SUBSTR(PT_NM, 1, 1) AS PT_NM``, ``COALESCE(EMAIL, CHART_NO) AS EMAIL``, ``'' AS BORN`` each hid the stored
value, which was then in no resource, no sidecar and no count ("balanced" all the same). Now such a column is
carried raw beside the section (``data/raw/unselected``) with the ones no query names, counted, and the
inventory says which of them a query's column of that name changes (``changed``). A real SQLite file and real
MariaDB and PostgreSQL servers over ODBC (``db``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors.selectlist import unchanged_columns

sys.path.insert(0, str(Path(__file__).parent))

from test_unselected_columns import PATIENTS, _bag, _connector, _create, _decoded, _lines, _value

#: The patient section reads PT_ID and MEMO as stored, CHART_NO only as CHART, and names PT_NM, EMAIL and BORN
#: for something else.
QUERY = ("SELECT PT_ID, CHART_NO AS CHART, SUBSTR(PT_NM, 1, 1) AS PT_NM, COALESCE(EMAIL, CHART_NO) AS EMAIL, "
         "'' AS BORN, MEMO FROM PATIENT")


#: A real SQLite file and real MariaDB and PostgreSQL servers over ODBC.
ENGINES = ["sqlite", pytest.param("mariadb", marks=pytest.mark.db), pytest.param("postgresql", marks=pytest.mark.db)]


def _patient_only(engine: str) -> str:
    connector = _connector(engine).split("[entities.encounter]")[0]
    connector = connector.replace('"SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT"', f'"{QUERY}"').replace(
        'chart_number = { column = "CHART_NO"', 'chart_number = { column = "CHART"')
    assert QUERY in connector and 'column = "CHART"' in connector
    return connector


@pytest.mark.parametrize("engine", ENGINES)
def test_columns_a_query_changes_or_renames_are_carried_and_rebuild_exactly(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Before: "patient: column(s) ['pt_nm', 'born'] not rebuilt exactly": only chart_no (no result column of its
    # name) was carried; the stored names and birth dates were in no member of the bag.
    members, run = _bag(engine, request, tmp_path, _patient_only(engine))
    rebuilt = run.rebuilt  # type: ignore[attr-defined]
    assert dict(rebuilt.rows) == {"patient": 3, "visit": 3, "note_log": 3}  # every row of every table, exactly

    inventory = {t["name"]: t for t in json.loads(members["data/report/inventory.json"])["tables"]}
    assert inventory["patient"]["unselected_columns"] == {
        "columns": ["chart_no", "pt_nm", "email", "born"], "key": ["pt_id"], "read": "keyset on pt_id",
        "reason": "no query of the sections that read this table selects them: carried raw beside the sections, so "
                  "that no cell is lost",
        "changed": ["pt_nm", "email", "born"],
        "changed_reason": "a query's result column of that name is not the stored value unchanged (an expression of "
                          "it or of other columns, another column, or a constant): the stored values are carried "
                          "raw too",
        "files": "data/raw/unselected/patient.*.ndjson"}
    carried = [(_decoded(line["key"]), _decoded(line["columns"])) for line in _lines(members, "raw/unselected/patient")]
    assert carried == [({"pt_id": p[0]}, {"chart_no": p[1], "pt_nm": p[2], "email": p[3], "born": _value(engine, p[5])})
                       for p in PATIENTS]

    reconciliation = json.loads(members["data/report/reconciliation.json"])["reconciliation"]
    assert reconciliation["balanced"] and run.reconciliation.balanced
    [columns] = reconciliation["unselected_columns"]
    assert (columns["changed"], columns["cells"]) == (["pt_nm", "email", "born"], {"source": 12, "carried_raw": 12})
    [patient] = reconciliation["entities"]
    assert patient["cells"]["source"] == 3 * 6  # the query's six result columns
    cells = reconciliation["cells"]
    assert cells["source"] == 3 * 6 + 12 + 3 * 6 + 3 * 5  # + the carried VISIT and NOTE_LOG
    assert cells["source"] == cells["mapped"] + cells["carried_raw"] + cells["quarantined"]
    assert ("columns of patient no query selects, carried raw (keyset on pt_id): chart_no, pt_nm, email, born "
            "(pt_nm, email, born: a query's column of that name holds something else); 3 of 3 rows"
            ) in run.reconciliation.table()


def test_connector_check_names_the_changed_columns(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from emr_exporter.cli import main

    path = tmp_path / "clinic.sqlite"
    _create("sqlite", None, path)
    folder = tmp_path / "connectors" / "changed"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(_patient_only("sqlite").replace(
        "\n[source]", '\n[carry]\nVISIT = "synthetic"\nNOTE_LOG = "synthetic"\n\n[source]'), encoding="utf-8")
    check = CliRunner().invoke(main, ["connector", "check", str(folder), "--source", str(path), "--institution-code",
                                      "12345678", "--institution-name", "의원", "--json"])
    assert check.exit_code == 0, check.output
    report: dict[str, Any] = json.loads(check.output)
    assert [(c["column"], c["cells"]) for c in report["unselected_columns"]] == [
        ("CHART_NO", 3), ("PT_NM", 3), ("EMAIL", 2), ("BORN", 2)]
    assert report["changed_columns"] == [{"table": "PATIENT", "column": c} for c in ("PT_NM", "EMAIL", "BORN")]
    text = CliRunner().invoke(main, ["connector", "check", str(folder), "--source", str(path), "--institution-code",
                                     "12345678", "--institution-name", "의원"]).output
    assert ("  of them, a query's result column of the same name holds something else (an expression, another "
            "column or a constant), so the stored values are carried too: PATIENT.PT_NM, PATIENT.EMAIL, "
            "PATIENT.BORN\n") in text


COLUMNS = ["id", "name", "amount", "a", "b", "memo", "birth", "Note"]


@pytest.mark.parametrize(("sql", "unchanged"), [
    # the brief's cases: a result column of the table column's name holding something else
    ("SELECT id, UPPER(name) AS name FROM patient", {"id"}),
    ("SELECT CAST(amount AS INT) AS amount, COALESCE(a, b) AS a, b FROM patient p", {"b"}),
    ("SELECT substr(memo,1,100) AS memo, birth AS dob, '' AS birth FROM patient", set()),
    ("SELECT name::text AS name, memo COLLATE \"C\" AS memo, (a) AS a, b AS b FROM public.patient;", {"b"}),
    # bare references, qualified, quoted, starred, under their own names
    ("SELECT p.id, P.NAME, \"memo\", `a`, [b] AS B FROM Patient AS p -- note", {"id", "name", "memo", "a", "b"}),
    ("SELECT * FROM patient WHERE a = 1 ORDER BY id", set(COLUMNS)),
    ("SELECT p.*, v.name FROM patient p JOIN visit v ON v.id = p.id", set(COLUMNS) - {"name"}),
    ("SELECT P.*, UPPER(P.NAME) AS NAME FROM PATIENT P", set(COLUMNS) - {"name"}),
    ("SELECT v.id AS id, p.memo, \"Note\" FROM patient p LEFT JOIN visit v USING (a)", {"memo", "Note"}),
    ("SELECT note FROM his.patient", {"Note"}),  # the one column of that name, however spelled
    # a backslash in a string: read as standard SQL and as MariaDB does, the readings that close their quotes
    ("SELECT REPLACE(memo, '\\', '/') AS memo, name, 'it''s' AS a FROM patient", {"name"}),
    ("SELECT name, 'it\\'s' AS memo, memo AS x FROM patient", {"name"}),
    ("SELECT name, '\\' AS b, b FROM patient", {"name"}),
    # not understood: nothing counts (every column is carried)
    ("SELECT DISTINCT name FROM patient", None),
    ("SELECT name, COUNT(*) AS n FROM patient GROUP BY name", None),
    ("SELECT a.name FROM patient a JOIN patient b ON a.id = b.a", None),
    # a CTE read as the derived table it stands for (was: not understood, every column carried); x is not read
    ("WITH x AS (SELECT 1) SELECT name FROM patient", {"name"}),
    ("WITH v AS (SELECT * FROM patient WHERE a = 1) SELECT v.* FROM v", set(COLUMNS)),
    ("WITH v AS (SELECT id, UPPER(name) AS name, memo FROM patient) SELECT p.id, p.name, p.memo FROM v p",
     {"id", "memo"}),
    ("WITH RECURSIVE v AS (SELECT * FROM patient) SELECT * FROM v", None),
    ("WITH v (i) AS (SELECT id FROM patient) SELECT * FROM v", None),
    ("WITH v AS (SELECT * FROM patient), w AS (SELECT * FROM patient) SELECT v.id FROM v JOIN w ON v.id = w.id", None),
    # a UNION of arms over the table with the same select list: what each gives back (was: not understood)
    ("SELECT id, name FROM patient WHERE a = 1 UNION ALL SELECT id, name FROM patient WHERE a <> 1 ORDER BY id",
     {"id", "name"}),
    ("SELECT id, UPPER(name) AS name FROM patient WHERE a = 1 UNION SELECT id, UPPER(name) AS name FROM patient",
     {"id"}),
    ("SELECT id, name FROM patient WHERE a = 1 UNION SELECT name, id FROM patient WHERE a <> 1", None),
    ("SELECT id FROM patient UNION SELECT id FROM patient INTERSECT SELECT id FROM patient", None),
    # through a derived table over it (the scaffold's join on PostgreSQL names created in capitals)
    ('SELECT D.*, V.VISIT_DT AS SVC FROM (SELECT "id" AS id, "Note" AS note, "memo" AS memo FROM "patient") D '
     'LEFT JOIN (SELECT "id" AS id, "VISIT_DT" AS visit_dt FROM "VISIT") V ON V.id = D.id', {"id", "Note", "memo"}),
    ("SELECT d.*, d.a AS b FROM (SELECT id, UPPER(name) AS name, a, b FROM patient) AS d", {"id", "a"}),
    ("SELECT x.name FROM (SELECT UPPER(name) AS name FROM patient) x", set()),
    ("SELECT x.name FROM (SELECT DISTINCT name FROM patient) x", None),
    ("SELECT name FROM patient UNION ALL SELECT name FROM old_patient", None),
])
def test_a_column_counts_only_as_a_bare_reference_under_its_own_name(sql: str, unchanged: set[str] | None) -> None:
    assert unchanged_columns(sql, "patient", COLUMNS) == unchanged


@pytest.mark.parametrize(("sql", "on_mariadb", "elsewhere"), [
    # the scaffold's reading of CP949 text a MariaDB server declares latin1: the stored bytes, unchanged
    ("SELECT id, CAST(name AS BINARY) AS name, p.memo FROM patient p", {"id", "name", "memo"}, {"id", "memo"}),
    ("SELECT CAST(p.name AS BINARY) name, CAST(memo AS BINARY) AS b FROM patient p", {"name"}, set()),
    # not the bytes of that column: another type, an expression inside, no name of its own
    ("SELECT CAST(name AS CHAR) AS name, CAST(UPPER(memo) AS BINARY) AS memo, CAST(a AS BINARY) FROM patient",
     set(), set()),
])
def test_a_byte_cast_counts_as_the_column_on_mariadb_only(sql: str, on_mariadb: set[str], elsewhere: set[str]) -> None:
    # Before: the scaffold's own CAST(PT_NM AS BINARY) AS PT_NM made every latin1 name be carried a second time
    # (tests/test_foreign_sections.py: 60 cells where the clinic holds 48). On SQLite BINARY is a numeric affinity.
    assert unchanged_columns(sql, "patient", COLUMNS, byte_casts=True) == on_mariadb
    assert unchanged_columns(sql, "patient", COLUMNS) == elsewhere


def test_the_transfer_reports_inventory_says_how_many_a_query_changes(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from emr_exporter.reports.transfer import LABELS, _inventory_section, new_pdf
    from test_report import pdf_text

    _, run = _bag("sqlite", request, tmp_path, _patient_only("sqlite"))
    texts = {}
    for lang in ("ko", "en"):
        pdf = new_pdf("inventory")
        pdf.add_page()
        _inventory_section(pdf, run.reconciliation.to_dict(), lambda key, lang=lang: LABELS[key][lang], lang)
        texts[lang] = " ".join(pdf_text(bytes(pdf.output())).split())
    assert "its other 4 columns carried verbatim (data/raw/unselected) (3 of them read changed by a query: their " \
           "stored values carried too)" in texts["en"]
    assert "나머지 열 4개는 원본 그대로 이관 (data/raw/unselected) (그중 3개는 조회문이 다른 값으로 바꾸어 읽으므로 " \
           "원래 값을 함께 이관)" in texts["ko"]


def _split_sections(engine: str) -> str:
    """NOTE_LOG split by its filters between two sections: chart notes (patient 1's) select NOTE_DAY and EXTRA as
    stored; allergies (the others') neither (EXTRA changed)."""
    base = _connector(engine)
    patient = base.split("[entities.encounter]")[0]
    return patient + '''
[entities.chart_note]
table = "NOTE_LOG"
key = "NOTE_NO"
query = "SELECT NOTE_NO, PT_ID, NOTE_DAY, BODY, EXTRA FROM NOTE_LOG WHERE PT_ID = 1"

[entities.chart_note.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
recorded = { column = "NOTE_DAY", type = "date", required = true }
text = { column = "BODY", required = true }

[entities.allergy]
table = "NOTE_LOG"
key = "NOTE_NO"
query = "SELECT NOTE_NO, PT_ID, BODY, UPPER(EXTRA) AS EXTRA FROM NOTE_LOG WHERE PT_ID <> 1"

[entities.allergy.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
substance = { column = "BODY", required = true }
'''


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db)])
def test_sections_splitting_a_table_count_a_column_only_where_each_gives_it_back(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Before: NOTE_DAY and EXTRA counted as selected for every row (the chart notes' query selects them), so the
    # allergy row's were in no member of the bag: "allergy: column(s) ['note_day'] not rebuilt exactly".
    members, run = _bag(engine, request, tmp_path, _split_sections(engine))
    assert dict(run.rebuilt.rows) == {"patient": 3, "visit": 3, "note_log": 3}  # type: ignore[attr-defined]
    inventory = {t["name"]: t for t in json.loads(members["data/report/inventory.json"])["tables"]}
    entry = inventory["note_log"]["unselected_columns"]
    assert (entry["columns"], entry["changed"], entry["key"]) == (["note_day", "extra"], ["extra"], [])
    assert run.reconciliation.balanced


#: PATIENT's rows split by the filters of a UNION ALL's arms (the same select list in each), NOTE_LOG's read through a CTE.
UNION = ("SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT WHERE PT_ID = 1 UNION ALL "
         "SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT WHERE PT_ID <> 1")
CTE = "WITH N AS (SELECT NOTE_NO, PT_ID, NOTE_DAY, BODY FROM NOTE_LOG) SELECT N.* FROM N"


def _cte_union(engine: str) -> str:
    """PATIENT and NOTE_LOG read so; VISIT carried whole (its section's key is made by its query: the kit rebuilds
    such a section's rows only where no column of its table is carried beside it)."""
    before, after = _connector(engine).split("[entities.encounter]")
    connector = (before + "[entities.chart_note]" + after.split("[entities.chart_note]")[1]).replace(
        '"SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT"', f'"{UNION}"').replace(
        '"SELECT NOTE_NO, PT_ID, NOTE_DAY, BODY FROM NOTE_LOG"', f'"{CTE}"')
    assert CTE in connector and UNION in connector and "VISIT" not in connector
    return connector


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cte_and_a_union_of_the_tables_rows_carry_each_cell_once(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Before: a query with WITH or UNION was not read, so every column of PATIENT and NOTE_LOG was carried beside the
    # sections as well: the cells the sections read twice in the bag (PATIENT 9 + 18, NOTE_LOG 12 + 15 cells).
    members, run = _bag(engine, request, tmp_path, _cte_union(engine))
    assert dict(run.rebuilt.rows) == {"patient": 3, "visit": 3, "note_log": 3}  # type: ignore[attr-defined]
    inventory = {t["name"]: t for t in json.loads(members["data/report/inventory.json"])["tables"]}
    assert inventory["patient"]["unselected_columns"]["columns"] == ["email", "memo", "born"]
    assert inventory["note_log"]["unselected_columns"]["columns"] == ["extra"]
    assert not any("queries_not_read" in t.get("unselected_columns", {}) for t in inventory.values())
    reconciliation = json.loads(members["data/report/reconciliation.json"])["reconciliation"]
    entities = {e["entity"]: e["cells"]["source"] for e in reconciliation["entities"]}
    columns = {c["table"]: c["cells"]["source"] for c in reconciliation["unselected_columns"]}
    assert (entities, columns) == ({"patient": 3 * 3, "chart_note": 3 * 4}, {"patient": 3 * 3, "note_log": 3 * 1})
    # every cell of the three tables once (6 + 6 + 5 columns of 3 rows; VISIT's carried whole)
    assert reconciliation["cells"]["source"] == 3 * (6 + 6 + 5)
    assert reconciliation["balanced"]
    carried = [(_decoded(line["key"]), _decoded(line["columns"])) for line in _lines(members, "raw/unselected/patient")]
    assert carried == [({"pt_id": p[0]}, {"email": p[3], "memo": p[4], "born": _value(engine, p[5])})
                       for p in PATIENTS]


def test_a_query_not_read_is_said_so_in_the_check_and_the_inventory(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from click.testing import CliRunner

    from emr_exporter.cli import main

    # arms with other select lists: which stored values PT_NM holds is not known from the text
    query = ("SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT WHERE PT_ID = 1 UNION ALL "
             "SELECT PT_ID, CHART_NO, UPPER(PT_NM) FROM PATIENT WHERE PT_ID <> 1")
    connector = _connector("sqlite").split("[entities.encounter]")[0].replace(
        '"SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT"', f'"{query}"')
    path = tmp_path / "clinic.sqlite"
    _create("sqlite", None, path)
    folder = tmp_path / "connectors" / "unread"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(connector.replace(
        "\n[source]", '\n[carry]\nVISIT = "synthetic"\nNOTE_LOG = "synthetic"\n\n[source]'), encoding="utf-8")
    args = ["connector", "check", str(folder), "--source", str(path), "--institution-code", "12345678",
            "--institution-name", "의원"]
    check = CliRunner().invoke(main, [*args, "--json"])
    assert check.exit_code == 0, check.output
    report: dict[str, Any] = json.loads(check.output)
    assert [(q["table"], q["section"]) for q in report["queries_not_read"]] == [("PATIENT", "patient")]
    assert [c["column"] for c in report["unselected_columns"]] == ["PT_ID", "CHART_NO", "PT_NM", "EMAIL", "MEMO", "BORN"]
    text = CliRunner().invoke(main, args).output
    assert ("  [entities.patient]'s query over PATIENT is not read here, so every column of PATIENT is carried and "
            "the cells it maps are in the bag twice: which stored values this query gives back cannot be known from "
            "its text (WITH RECURSIVE, a CTE with a column list, a UNION of another table or of other select lists, "
            "INTERSECT, EXCEPT, DISTINCT, GROUP BY, a self-join). Write it as a plain SELECT … FROM the table (a WITH "
            "over it, or a UNION ALL of arms with the same select list, is read) to have each cell once\n") in text
    # the inventory says it too; every cell is still in the bag (rebuilt), PATIENT's mapped ones twice
    (tmp_path / "export").mkdir()
    members, run = _bag("sqlite", request, tmp_path / "export", connector)
    assert dict(run.rebuilt.rows) == {"patient": 3, "visit": 3, "note_log": 3}  # type: ignore[attr-defined]
    entry = {t["name"]: t for t in json.loads(members["data/report/inventory.json"])["tables"]}["patient"]
    assert (entry["unselected_columns"]["columns"], entry["unselected_columns"]["queries_not_read"]) == (
        ["pt_id", "chart_no", "pt_nm", "email", "memo", "born"], ["patient"])
    assert entry["unselected_columns"]["queries_not_read_reason"].startswith(
        "which stored values this query gives back cannot be known from its text")
