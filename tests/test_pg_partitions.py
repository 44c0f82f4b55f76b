"""A PostgreSQL clinic with partitioned tables and tables with inheritance children, through the contractor's flow
(``scaffold`` → ``connector check`` → ``export --dry-run`` → sealed ``export`` → ``verify`` → ``open``) on the real
server over psqlODBC, which lists a partitioned table and each of its partitions alike as a TABLE.

Every row must be read and counted exactly once: a partition's rows with its partitioned table (the scaffold maps
and profiles the partitioned ``visit``, never a partition), a parent's own rows apart from its inheritance
children's (``SELECT * FROM parent`` reads theirs too, without their own columns), each child with every column.
Before, the audit log's 400 rows were carried three times over (the partitioned table, each partition, each
sub-partition), the visits' partitions were carried beside the section that read them, and the diagnosis and
patient sections read the archived rows of their inheritance children again (an archived patient exported as a
Patient without its archive column, and carried as well).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors.spec import load_spec
from emr_exporter.sources.catalog import list_tables
from emr_exporter.sources.drivers import get_option
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import _carried_rows, _run, checked, exported, scaffolded
from test_report import pdf_text

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import (
    ARCHIVED,
    AUDIT_ROWS,
    PATIENTS,
    ForeignDb,
    _fresh_database,
    create_postgres_partitioned_clinic,
)

pytestmark = pytest.mark.db

LOG_REASON = "a log table; it may hold patients' data, so it goes as it is"
AUDIT_PARTITIONS = ["audit_log_2023", "audit_log_2024", "audit_log_2024a", "audit_log_2024b", "audit_log_old"]
VISIT_PARTITIONS = ["visit_2023", "visit_2024", "visit_etc"]
#: What each table holds of its own, carried: the audit log all its partitions' rows, a parent its own rows only.
CARRIED = {"audit_log": 400, "base_note": 2, "diag_hist": 5, "pt_master_old": 1, "special_note": 1, "urgent_note": 1}


def _inventory(reconciliation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in reconciliation["inventory"]}


def _odbc_rows(db: ForeignDb, sql: str) -> list[tuple[Any, ...]]:
    import pyodbc

    assert db.odbc is not None
    with pyodbc.connect(db.odbc) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


def test_partitions_and_inheritance_children_are_read_once_through_the_contractors_flow(
    tmp_path: Path, postgres_conn_str: str
) -> None:
    db = create_postgres_partitioned_clinic(postgres_conn_str)
    flow = scaffolded(db, tmp_path)
    folder = flow.connectors / "foreign"
    text = (folder / "connector.toml").read_text(encoding="utf-8")
    spec = tomllib.loads(text)
    # The scaffold maps the partitioned visit table (every visit, whatever its year) and names no partition
    # anywhere: not in [skip], not in [detect], not as "not recognised" (they were, and were carried again).
    assert {name: e["table"] for name, e in spec["entities"].items()} == {
        "patient": "pt_master", "encounter": "visit", "diagnosis": "diag"}
    # diag_hist and pt_master_old (inheritance children: the archived rows) are carried with why
    history = ("a change history (a row per change of records, who changed them and when): the amendment history "
               "the chart must keep; it goes as it is")
    old = ("an earlier generation, backup copy or the deleted rows of records: it may hold rows or values the table "
           "in use no longer has; it goes as it is")
    assert (spec["carry"], spec["skip"]) == (
        {"audit_log": LOG_REASON, "diag_hist": history, "pt_master_old": old}, {})
    assert not re.search(r"audit_log_|visit_20|visit_etc", text), re.findall(r".*(?:audit_log_|visit_20).*", text)
    profile = (folder / "PROFILE.md").read_text(encoding="utf-8")
    assert "| audit_log | 400 | 400 | 3 | — |" in profile and "| visit | 41 | 41 | 4 | visit_no, visit_dt |" in profile
    assert "| base_note | 2 | 2 | 2 | id |" in profile and "| pt_master | 20 | 20 | 5 | pt_no |" in profile  # own rows
    assert not any(f"| {p} |" in profile or f"### {p}\n" in profile for p in AUDIT_PARTITIONS + VISIT_PARTITIONS)
    assert ("A partitioned table: its rows (counted above) are kept in 5 partitions, read with it and not listed "
            "apart: audit_log_2023, audit_log_2024, audit_log_2024a, audit_log_2024b, audit_log_old.") in profile

    # A contractor who leaves the audit log out moves it from [carry] to [skip]: its partitions are skipped with it.
    text = text.replace(f'\naudit_log = "{LOG_REASON}"', "").replace("\n[skip]\n", f'\n[skip]\naudit_log = "{LOG_REASON}"\n')
    (folder / "connector.toml").write_text(text, encoding="utf-8")
    untouched = _inventory(checked(flow)["reconciliation"])
    assert {p: (untouched[p]["fate"], untouched[p]["reason"]) for p in AUDIT_PARTITIONS} == {
        p: ("skipped", f"a partition of audit_log, skipped with it: {LOG_REASON}") for p in AUDIT_PARTITIONS}

    # A clinic that keeps its audit log: carried, once.
    (folder / "connector.toml").write_text(text.replace("\naudit_log = ", "\n# audit_log = "), encoding="utf-8")
    db.check = checked(flow)
    carried = {"diag_hist", "pt_master_old"}  # in [carry] with why
    assert db.check["unmapped_tables"] == [{"table": t, "rows": n} for t, n in CARRIED.items() if t not in carried]
    assert [t["table"] for t in db.check["carried_tables"]] == sorted(carried)
    assert db.check["lint"] == ["the clinic's code and name are not found by [institution]: give --institution-code "
                                "and --institution-name (to this check and to the export), or an [institution] query"]
    # The archived patient is no Patient (its row is pt_master_old's): its visit is an orphan, the reference
    # joined through the patients' own rows (FROM ONLY pt_master), never a Patient the bag does not hold.
    assert {(e["entity"], e["table"], e["source_rows"], e["exported"], e["quarantined"]) for e in
            db.check["reconciliation"]["entities"]} == {
        ("patient", "pt_master", PATIENTS, PATIENTS, 0), ("encounter", "visit", 2 * PATIENTS + 1, 2 * PATIENTS, 1),
        ("diagnosis", "diag", 30, 30, 0)}
    assert [(o["section"], o["field"], o["orphans"], o["rows"]) for o in db.check["orphans"]] == [
        ("encounter", "patient_id", 1, 2 * PATIENTS + 1)]
    dry, sealed, bag = exported(flow, tmp_path)
    scan = ["scan", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source, "--json"]
    scanned = json.loads(_run(scan, flow.env, 0).output)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert scanned["inventory"] == reconciliation["inventory"] and scanned["tables"] == reconciliation["tables"]
    for outcome in (db.check["reconciliation"], dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == db.cells == 1626, (outcome["cells"], db.cells)
        assert outcome["totals"] == {"source_rows": 91, "exported": 90, "quarantined": 1}
        assert {t["table"]: (t["source_rows"], t["carried"]) for t in outcome["tables"]} == {
            t: (n, n) for t, n in CARRIED.items()}

    inventory = _inventory(reconciliation)
    assert {name: (t["kind"], t["fate"], t["rows"]) for name, t in inventory.items()} == {
        "pt_master": ("table", "entities", PATIENTS), "visit": ("table", "entities", 2 * PATIENTS + 1),
        "diag": ("table", "entities", 30), **{t: ("table", "carried", n) for t, n in CARRIED.items()},
        **{p: ("partition", "read_with", None) for p in AUDIT_PARTITIONS + VISIT_PARTITIONS}}
    assert inventory["audit_log"]["partitions"] == AUDIT_PARTITIONS
    assert inventory["visit"]["partitions"] == VISIT_PARTITIONS
    for partitioned, partitions in (("audit_log", AUDIT_PARTITIONS), ("visit", VISIT_PARTITIONS)):
        for p in partitions:
            assert (inventory[p]["part_of"], inventory[p]["reason"]) == (
                partitioned, f"a partition of {partitioned}: its rows are read with {partitioned}")
    assert inventory["audit_log"]["read"] == "one ordered pass (no usable single-column key), with its 5 partitions"
    assert inventory["base_note"]["read"] == ("keyset on id; its own rows only (special_note inherits from it and "
                                              "is read on its own)")
    assert (inventory["base_note"]["children"], inventory["special_note"]["inherits"],
            inventory["special_note"]["children"], inventory["urgent_note"]["inherits"]) == (
        ["special_note"], ["base_note"], ["urgent_note"], ["special_note"])
    assert (inventory["diag"]["children"], inventory["diag_hist"]["inherits"]) == (["diag_hist"], ["diag"])
    assert (inventory["pt_master"]["children"], inventory["pt_master_old"]["inherits"]) == (
        ["pt_master_old"], ["pt_master"])

    # Each audit row once, exactly the database's; each note with every column of its own table.
    audit = [(r["logged_at"], r["user_id"]) for r in _carried_rows(bag, reconciliation["inventory"], "audit_log")]
    assert len(audit) == len(set(audit)) == sum(AUDIT_ROWS.values()) == 400
    assert set(audit) == set(_odbc_rows(db, "SELECT logged_at, user_id FROM audit_log"))
    assert sorted((r["id"], r["body"]) for r in _carried_rows(bag, reconciliation["inventory"], "base_note")) == [
        (1, "a"), (2, "b")]
    assert list(_carried_rows(bag, reconciliation["inventory"], "special_note")) == [
        {"id": 3, "body": "c", "extra": "x"}]
    assert list(_carried_rows(bag, reconciliation["inventory"], "urgent_note")) == [
        {"id": 4, "body": "d", "extra": "y", "level": 9}]
    hist = list(_carried_rows(bag, reconciliation["inventory"], "diag_hist"))
    assert sorted(r["old_kcd_cd"] for r in hist) == [f"OLD{d}" for d in range(5)]
    assert [(r["pt_no"], r["del_dt"]) for r in _carried_rows(bag, reconciliation["inventory"], "pt_master_old")] == [
        (ARCHIVED, "20200101")]
    fhir = {p.name.split(".")[0]: sum(1 for _ in p.open("rb")) for p in (bag / "data/fhir").glob("*.ndjson")}
    assert (fhir["Patient"], fhir["Encounter"], fhir["Condition"]) == (PATIENTS, 2 * PATIENTS, 30)
    # The founder's transfer report says a partition went with its table (it said "not transferred").
    report = tmp_path / "transfer.pdf"
    _run(["report", str(sealed["bundle"]["path"]), "--out", str(report)], flow.env, 0)
    lines = pdf_text(report).splitlines()
    assert "audit_log 400 원본 그대로 이관 (data/raw/tables)" in lines
    for partitioned, partitions in (("audit_log", AUDIT_PARTITIONS), ("visit", VISIT_PARTITIONS)):
        for p in partitions:
            assert (f"{p} — {partitioned} 표의 일부: {partitioned} 표와 함께 이관 (행 수는 {partitioned}에 포함)"
                    in lines), p

    # Every row of every table of the server, rebuilt from the opened bag: no row twice, none missing.
    source = OdbcSource(db.odbc or "", password=get_option(db.odbc or "", "PWD"))
    try:
        rebuilt = check_bag_against_source(bag, load_spec(folder), source)
    finally:
        source.close()
    assert dict(rebuilt.rows) == {"pt_master": PATIENTS, "visit": 2 * PATIENTS + 1, "diag": 30, **CARRIED}


def test_a_section_or_skip_naming_a_partition_and_a_query_reading_inherited_rows_are_refused(
    tmp_path: Path, postgres_conn_str: str
) -> None:
    db = create_postgres_partitioned_clinic(postgres_conn_str)
    flow = scaffolded(db, tmp_path)
    folder = flow.connectors / "foreign"
    toml = folder / "connector.toml"
    text = toml.read_text(encoding="utf-8")
    export = ["export", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source,
              "--institution-code", "12345678", "--institution-name", "가상외부의원", "--dry-run", "--json"]

    def refused(connector: str, code: int = 2) -> str:
        toml.write_text(connector, encoding="utf-8")
        message: str = json.loads(_run(export, flow.env, code).output)["error"]["message"]
        return message

    # A section reading one year's visits would leave the others behind, or read them twice beside the
    # partitioned table: refused, saying which table to name.
    assert refused(text.replace('table = "visit"', 'table = "visit_2024"')) == (
        f"{toml}: [entities.encounter] table visit_2024 is a partition of visit: its rows are read with visit. "
        "Name visit as the section's table (a query's WHERE can choose its rows).")
    # [skip] of a partition would skip nothing (its rows are its table's): refused; skipping the table is not.
    assert refused(text.replace("\n[skip]\n", f'\n[skip]\naudit_log_2023 = "{LOG_REASON}"\n')) == (
        f"{toml}: [skip] names table audit_log_2023, a partition of audit_log: its rows are read with audit_log. "
        "Remove it from [skip] (skipping audit_log skips its partitions too).")
    # Nor [carry] of a partition (before: accepted, and nothing changed): carrying its table carries it.
    assert "\n[carry]\n" in text
    assert refused(text.replace("\n[carry]\n", f'\n[carry]\naudit_log_2023 = "{LOG_REASON}"\n')) == (
        f"{toml}: [carry] names table audit_log_2023, a partition of audit_log: its rows are read with audit_log. "
        "Remove it from [carry] (carrying audit_log carries its partitions too).")
    # A section's own query reading the inheritance parent plainly reads the archived diagnoses (diag_hist's
    # rows, carried with diag_hist) again: the counts say so, and how to write it.
    query = 'table = "diag"\nquery = "SELECT * FROM diag"'
    with_query = text.replace('table = "diag"', query)
    assert refused(with_query, 1) == (
        "Table diag holds 30 rows of its own but the connector's queries read 35 ([entities.diagnosis] 35): "
        "diag_hist inherits from it, and a plain FROM diag reads its rows too, which the export reads with "
        f"that table. Write FROM ONLY diag in the queries in {toml}.")
    # Written FROM ONLY, with a join to another parent's own rows: the join's table is named as read by it.
    toml.write_text(with_query.replace(
        "FROM diag", "FROM ONLY diag d LEFT JOIN ONLY base_note n ON n.id = d.diag_no").replace(
        "SELECT *", "SELECT d.*, n.body AS note_body"), encoding="utf-8")
    outcome = json.loads(_run(export, flow.env, 0).output)["reconciliation"]
    assert outcome["balanced"] and {e["entity"]: e["source_rows"] for e in outcome["entities"]}["diagnosis"] == 30
    inventory = _inventory(outcome)
    assert inventory["diag"]["fate"] == "entities"
    assert (inventory["base_note"]["fate"], inventory["base_note"]["also_read_by"]) == ("carried", ["diagnosis"])


def test_mariadb_partitions_are_one_table(mariadb_conn_str: str) -> None:
    # MariaDB's partitions are no tables to a client (SQLTables lists the table once): nothing is read twice.
    import pyodbc

    target = _fresh_database(mariadb_conn_str, "emr_partitioned_maria", "mariadb")
    with pyodbc.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE audit_log (logged_at DATETIME NOT NULL, user_id VARCHAR(20)) "
                     "PARTITION BY RANGE (YEAR(logged_at)) (PARTITION p2023 VALUES LESS THAN (2024), "
                     "PARTITION p2024 VALUES LESS THAN (2025), PARTITION pmax VALUES LESS THAN MAXVALUE)")
        conn.execute("INSERT INTO audit_log VALUES ('2023-05-01 10:00:00', 'a'), ('2024-05-01 10:00:00', 'b'), "
                     "('2026-01-01 00:00:00', 'c')")
    source = OdbcSource(target)
    try:
        [table] = list_tables(source)
        assert (table.name, table.kind, table.part_of, table.partitions, table.children) == (
            "audit_log", "table", "", (), ())
        assert source.scalar("SELECT COUNT(*) FROM audit_log") == 3
    finally:
        source.close()
