"""An IT contractor on a hospital group's in-house PostgreSQL EMR (tests/connectors/pg_schemas_clinic.py): records
in the schemas ``clinical``, ``billing`` and ``audit`` (``public`` holds only the hstore extension), visits
partitioned by year with a default partition and a detached 2022 partition that keeps its rows, old-style
inheritance, quoted names ("PatientID", "visit date", Korean, ``order``, ``user``), json/jsonb, arrays, hstore, a
generated column, a sequence-only table, views and a materialized view, row-level security the owner is held to,
a table the account may not SELECT, a 5 MB text; the database's TimeZone is America/New_York. Through the CLI over
the real ODBC driver: ``scaffold``, ``connector check``, a dry run, a sealed export, ``verify``, ``open``, and the
opened bag compared cell by cell with what went in (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from pg_schemas_clinic import BIG_TEXT, LAB_PANEL, PATIENTS, RAW_JSON, VISITS, SchemasClinic, create_schemas_clinic

from emr_exporter.pipeline.raw import decode_raw
from test_foreign_schemas import Flow, _carried_rows, _column_sidecar, _run, checked, exported, scaffolded

pytestmark = pytest.mark.db

#: what the contractor writes into the scaffold's [skip] for the two tables it leaves to them
UNREADABLE = '"audit.개인정보_조회" = "the auditors\' own log of RRN look-ups; this account may not read it"'
PARTLY = '"billing.card_payment" = "card payments, settled by the card company; the account may read some columns"'
NO_USAGE = '"research.survey" = "a research group\'s survey, no patient records; its schema is closed to this account"'
FILTERED = '"audit.access_log" = "the web program\'s access log, no patient records"'


@pytest.fixture(scope="module")
def clinic(postgres_conn_str: str) -> SchemasClinic:
    return create_schemas_clinic(postgres_conn_str)


def _toml(flow: Flow) -> Path:
    return flow.connectors / "foreign" / "connector.toml"


def _decide(flow: Flow, *lines: str) -> None:
    """The contractor's edit of the scaffold: ``lines`` written under [skip]."""
    text = _toml(flow).read_text(encoding="utf-8")
    _toml(flow).write_text(text.replace("[skip]\n", "[skip]\n" + "".join(f"{line}\n" for line in lines), 1),
                           encoding="utf-8")


def _server(db: SchemasClinic, sql: str) -> list[Any]:
    import pyodbc

    conn = pyodbc.connect(db.odbc, autocommit=True)
    try:
        cursor = conn.execute(sql)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
    finally:
        conn.close()


def _rows(bag: Path, inventory: list[dict[str, Any]], table: str) -> Iterator[dict[str, Any]]:
    return _carried_rows(bag, inventory, table)


def test_the_scaffold_names_quoted_columns_quoted_and_leaves_a_spaced_key_to_the_contractor(
        clinic: SchemasClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    text = _toml(flow).read_text(encoding="utf-8")
    # a column named user, read unquoted, was PostgreSQL's current_user: the account's name on every patient
    assert '\\"user\\"' in text and ", user," not in text
    # the visits' key ("visit date" is part of it) cannot be named by a connector: before, the scaffold wrote it
    # and `connector check` stopped with "entities.encounter.key: 'visit date' is not a plain SQL identifier"
    assert "# key = [\"visit_id\", \"visit date\"]" in text
    assert "key column 'visit date' is not a plain SQL identifier" in text
    # row-level security: never carried short of the rows this account cannot see (was carried: "180 rows")
    assert '"audit.access_log" = "a log table' not in text
    assert '# "audit.access_log" = "…"   # row-level security shows this database account only some' in text
    # SELECT granted on some columns: counted, then refused; before, the scaffold stopped there (exit 1) with
    # "…name it in connector.toml's [skip]", a file it had not written yet
    assert '# "billing.card_payment" = "…"   # this database account may not read it' in text
    assert '# "research.survey" = "…"   # this database account may not read it' in text


def test_row_level_security_stops_the_check_until_the_account_sees_every_row(
        clinic: SchemasClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    _decide(flow, UNREADABLE, PARTLY, NO_USAGE)
    text = _toml(flow).read_text(encoding="utf-8")
    _toml(flow).write_text(text.replace("[carry]\n", '[carry]\n"audit.access_log" = "the access log, as it is"\n', 1),
                           encoding="utf-8")
    # before: carried with 180 of its 200 rows, balanced, nothing said
    check = _run(["connector", "check", str(flow.connectors / "foreign"), *flow.source, "--json"], flow.env, 1)
    error = json.loads(check.stdout)["error"]
    assert error["code"] == "source-permission"
    assert error["message"].startswith("Table audit.access_log: row-level security shows this database account "
                                       "only the rows its policies allow")
    # the owner without FORCE: the policies no longer hold this account, and every row is carried
    _server(clinic, "ALTER TABLE audit.access_log NO FORCE ROW LEVEL SECURITY")
    try:
        found = checked(flow)
    finally:
        _server(clinic, "ALTER TABLE audit.access_log FORCE ROW LEVEL SECURITY")
    [entry] = [t for t in found["reconciliation"]["inventory"] if t["name"] == "audit.access_log"]
    assert (entry["fate"], entry["rows"], entry.get("row_security")) == ("carried", clinic.rls_rows, None)


def test_a_schema_closed_to_the_account_is_named_with_what_to_grant(clinic: SchemasClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    _decide(flow, UNREADABLE, PARTLY, FILTERED)
    check = _run(["connector", "check", str(flow.connectors / "foreign"), *flow.source, "--json"], flow.env, 1)
    error = json.loads(check.stdout)["error"]
    # before: "…grant this account SELECT (read) on it", which alone would not open the schema
    assert (error["code"], "permission denied for schema research" in error["message"]) == ("source-permission", True)
    assert "grant this account USAGE on that schema and SELECT (read) on its tables; or, if the table holds no " \
           "patient records, name it in connector.toml's [skip] with the reason." in error["message"]


def test_every_schema_partition_and_cell_goes_through_the_whole_flow(clinic: SchemasClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    _decide(flow, UNREADABLE, PARTLY, NO_USAGE, FILTERED)
    check = checked(flow)
    # before: "column r1.patientid does not exist" (the notes' patient joined to clinical.patient by the name its
    # section's query gives "PatientID"), a source-query error
    [notes] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "chart_note"]
    assert (notes["source_rows"], notes["exported"], notes["quarantine_reasons"]) == (40, 39, {"orphan": 1})
    dry, sealed, bag = exported(flow, tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    skipped_cells = (clinic.rows["audit.access_log"] * 4 + clinic.rows["audit.개인정보_조회"] * 3
                     + clinic.rows["billing.card_payment"] * 4 + clinic.rows["research.survey"] * 2)
    for outcome in (dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == clinic.cells - skipped_cells, (outcome["cells"], clinic.cells)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    by_name = {t["name"]: t for t in inventory}

    # every relation of every schema, from the server's own catalogue, is in the inventory (the materialized view
    # was in none before); public holds the extension's objects only, no table
    relations = {f"{s}.{n}" for s, n in _server(
        clinic, "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')")}
    assert set(by_name) == relations
    assert (by_name["clinical.mv_visits_per_patient"]["kind"], by_name["clinical.mv_visits_per_patient"]["fate"]) \
        == ("view", "skipped")
    assert by_name["audit.access_log"]["row_security"] is True
    # skipped as the scaffold advised; before, research.survey (no USAGE on its schema) stopped the export all the
    # same: "permission denied for schema research … name it in connector.toml's [skip] with the reason"
    unread = ("audit.개인정보_조회", "billing.card_payment", "research.survey")
    assert [(by_name[n]["fate"], by_name[n]["rows"], by_name[n]["unreadable"]) for n in unread] \
        == [("skipped", None, True)] * 3
    unread = (*unread, "audit.access_log")
    counted = {n: t["rows"] for n, t in by_name.items() if t["kind"] == "table" and not n.startswith(unread)}
    assert counted == {n: r for n, r in clinic.rows.items() if not n.startswith(unread)}
    assert [by_name[f"clinical.visit_{p}"]["fate"] for p in ("2023", "2024", "2025", "default")] == ["read_with"] * 4

    # every visit exactly once: the partitions through their partitioned table, the detached 2022 on its own
    visits = {**{r["visit_id"]: r for r in _rows(bag, inventory, "clinical.visit")}}
    detached = {r["visit_id"]: r for r in _rows(bag, inventory, "clinical.visit_2022")}
    assert len(visits) == clinic.rows["clinical.visit"] and len(detached) == clinic.rows["clinical.visit_2022"]
    assert sorted([*visits, *detached]) == list(range(1, VISITS + 1))
    assert set(detached) == {v for v, y in clinic.visit_years.items() if y == "2022"}
    every = {**visits, **detached}
    # JSON as written (key order, spaces, 1e16, 1.0, the repeated key), jsonb as the server keeps it, arrays
    assert every[1]["vitals"] == RAW_JSON
    [(jsonb, arrays)] = _server(clinic, "SELECT CAST(vitals_b AS text), CAST(dx_codes AS text) FROM clinical.visit_2022 "
                                        "WHERE visit_id = 5")
    assert (every[5]["vitals_b"], every[5]["dx_codes"]) == (jsonb, arrays) == (
        '{"bp": "115/75", "temp": 36.5}', "{J00,I10,K29.7}")
    assert every[1]["vitals_b"] == ('{"a": 3, "z": 1, "bp": "120/80", "big": 10000000000000000, "one": 1.0, '
                                    '"temp": 36.5}')
    assert sorted(v for v, r in every.items() if r["lab_panel"] == LAB_PANEL) == [v for v in range(4, VISITS + 1, 4)]
    assert every[1]["pain_scores"] == "{3,NULL,7}" and every[3]["pain_scores"] is None
    assert every[1]["visit date"] == decode_raw({"datetime": "2023-02-02T10:01:00"})
    assert every[1]["seen_at"] == decode_raw({"datetime": "2023-02-02T10:01:00+09:00"})

    # the patients' unmapped columns: "user" as stored (before: 'emr', the account, on every row), hstore, jsonb
    sidecar = {int(line["key"]): {k: decode_raw(v) for k, v in line["columns"].items()}
               for line in _column_sidecar(bag, "patient")}
    assert len(sidecar) == PATIENTS - 1  # patient 7 has no name: quarantined whole
    assert all(columns["user"] == f"dr{key % 4}" for key, columns in sidecar.items())
    assert sidecar[3]["tags"] == '"bed"=>"3", "ward"=>"3"'
    assert sidecar[3]["allergies"] == '[{"severity": "high", "substance": "페니실린"}]'
    assert sidecar[11]["sex"] == "X"

    # the rest: the Korean table and its column order, the inheritance child's own rows, the generated column, the
    # sequence-only table, the 5 MB text
    prescriptions = {r["처방번호"]: r for r in _rows(bag, inventory, "clinical.처방")}
    assert (len(prescriptions), prescriptions[1]["order"], prescriptions[2]["order"]) == (120, "1T tid", "2C bid")
    progress = {r["note_id"]: r for r in _rows(bag, inventory, "clinical.progress_note")}
    assert sorted(progress) == list(range(101, 161)) and progress[101]["order"] == 101 % 3
    # billing.invoice is the receipts (진료비 영수증: its patient, issued day and total; was carried whole): the
    # generated total read as the server computes it; an invoice never issued (issued NULL, every fifth)
    # quarantined as missing its day, its row kept whole; those of patient 7 (no name: quarantined) as orphans
    invoices = {json.loads(line)["identifier"][0]["value"]: json.loads(line)
                for p in sorted(bag.glob("data/fhir/Invoice.*.ndjson")) for line in p.read_bytes().splitlines()}
    assert (len(invoices), invoices["2"]["totalGross"]["value"], invoices["2"]["date"]) == (78, 2100.6, "2024-05-03")
    unissued = [json.loads(line) for p in sorted(bag.glob("data/raw/receipt.*.ndjson"))
                for line in p.read_bytes().splitlines()]
    assert sorted((int(r["key"]), r["reason_code"]) for r in unissued) == sorted(
        [(6, "orphan"), (66, "orphan"), *((n, "required-missing") for n in range(5, 101, 5))])
    assert sorted(r["id"] for r in _rows(bag, inventory, "billing.receipt_no")) == list(range(1, 31))
    reports = {r["report_id"]: r["findings"] for r in _rows(bag, inventory, "clinical.imaging_report")}
    assert reports == {1: BIG_TEXT, 2: "정상"}
