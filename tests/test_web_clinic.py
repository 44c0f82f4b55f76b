"""An IT contractor on a Django-style web-application EMR on PostgreSQL (tests/connectors/web_clinic.py), through
the CLI over the real ODBC driver: ``scaffold``, ``connector check``, a dry run, a sealed export, ``verify`` and
``open`` (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from web_clinic import WEB_CONNECTOR, WebClinic, create_web_clinic

from test_foreign_schemas import INSTITUTION, _run, checked, exported, scaffolded

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def clinic(postgres_conn_str: str) -> WebClinic:
    return create_web_clinic(postgres_conn_str)


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _raw_columns(bag: Path, entity: str) -> dict[str, dict[str, Any]]:
    return {line["key"]: line["columns"] for path in sorted(bag.glob(f"data/raw/columns/{entity}.*.ndjson"))
            for line in map(json.loads, path.read_bytes().splitlines())}


def _by_source_key(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["value"]: r for r in resources for i in r["identifier"] if i["system"].startswith("urn:emr-exporter:source")}


def test_the_untouched_scaffold_goes_through_the_whole_flow(clinic: WebClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    # Django's own tables skipped, with auth_user (password hashes); were "not recognised" (carried)
    assert spec["skip"] == {
        "auth_user": "the program's user accounts and their passwords (hashes); no patient data (a doctor's name "
                     "kept here is mapped as a practitioner by a section)",
        "django_migrations": "the program's database version history (schema migrations); no patient data",
        "django_session": "the web program's login sessions; no patient records"}
    # the sex enum ('male', 'female', 'other'): was not mapped, every patient's gender "unknown"
    assert spec["entities"]["patient"]["fields"]["sex"] == {
        "column": "sex", "type": "code", "map": {"male": "male", "female": "female", "other": "other",
                                                 "unknown": "unknown"}}
    # the soft-delete flag and the chief complaint: were not guessed (carried raw)
    assert (spec["entities"]["patient"]["fields"]["active"], spec["entities"]["encounter"]["fields"]["reason"]) == (
        {"column": "is_active", "type": "bool"}, {"column": "chief_complaint"})
    check = checked(flow)
    assert (check["unmapped_tables"], check["empty_tables"]) == ([], [])
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {
        ("patient", 60, 59, 1), ("encounter", 180, 176, 4), ("diagnosis", 270, 265, 5), ("order_line", 90, 87, 3),
        ("allergy", 15, 15, 0), ("vital_signs", 120, 117, 3)}
    # sbp, dbp, hr and temp read out of the jsonb vitals (docs/connectors.md "JSON columns"), as the contractor's
    # finished connector below reads them; was (120, 0, 120): no measurement guessed, every row quarantined; the
    # jsonb list row a blank set exported (merge18's blank vital signs, as the finished connector's pin below: was
    # 116/4, the two branches' pins crossed in the merge)
    dry, sealed, bag = exported(flow, tmp_path)
    assert dry["reconciliation"]["balanced"] and sealed["reconciliation"]["balanced"]
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # less the skipped tables, with the visit date the diagnosis query joins in
    assert reconciliation["cells"]["source"] == clinic.cells - 3 * 11 - 7 * 4 - 5 * 3 + 270
    patients = _by_source_key(_resources(bag, "Patient"))
    assert len(patients) == 59 and clinic.dirty["nameless"] not in patients
    for uid, resource in patients.items():
        name, sex, birth = clinic.patient_rows[uid]
        assert (resource["name"], resource["gender"], resource["birthDate"]) == (
            [{"text": name}], sex, birth.isoformat())
    assert [uid for uid, p in patients.items() if not p["active"]] == [clinic.dirty["deleted"]]
    encounters = _by_source_key(_resources(bag, "Encounter"))
    assert {e["reasonCode"][0]["text"] for e in encounters.values()} == {"두통 및 발열", "정기 검진"}
    assert clinic.dirty["orphan_visit"] not in encounters
    for uid, resource in encounters.items():  # stored as UTC or +09:00: the same instant, in Korean time
        assert resource["period"]["start"] == clinic.visit_times[uid].isoformat()
    # what no field maps is carried exactly: enum and array text, jsonb text, decimals, times with their offset
    visits = _raw_columns(bag, "encounter")
    first, second = sorted(visits, key=lambda uid: clinic.visit_times[uid])[:2]
    assert [(visits[u]["kcd_codes"], visits[u]["fee"]) for u in (first, second)] == [
        ("{J00}", None), ("{I10,K29.7}", {"decimal": "2468.50"})]
    # the visit_status enum read as the Encounter's status (was: carried raw, every visit 'finished'): scheduled
    # planned, in_progress in-progress, completed finished, cancelled cancelled
    assert ([encounters[u]["status"] for u in (first, second)], "status" in visits[first]) == (
        ["finished", "finished"], False)
    assert {e["status"] for e in encounters.values()} == {"planned", "in-progress", "finished", "cancelled"}
    people = _raw_columns(bag, "patient")
    deleted = people[clinic.dirty["deleted"]]
    assert deleted["deleted_at"] == {"datetime": "2024-03-31T09:00:00+09:00"}
    # a boolean as the boolean it is (was the text "1"/"0": psqlODBC's BoolsAsChar), as MariaDB's BIT(1) is carried
    allergies = _raw_columns(bag, "allergy")
    assert sorted(a["is_active"] for a in allergies.values()) == [False] * 5 + [True] * 10
    assert json.loads(deleted["metadata"]) == {"referral": "지인 소개", "vip": False, "tags": ["당뇨"]}


def test_the_contractors_finished_connector_reads_the_jsonb_vitals_and_the_array_codes(
        clinic: WebClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    (flow.connectors / "foreign" / "connector.toml").write_text(WEB_CONNECTOR, encoding="utf-8")
    check = json.loads(_run(["connector", "check", str(flow.connectors / "foreign"), *flow.source,
                             "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--json"],
                            flow.env, 0).output)
    assert (check["ok"], check["lint"], check["unmapped_tables"]) == (True, [], [])
    # the vitals whose jsonb is a list: its sbp and dbp read as NULL, so a set recorded with nothing in it, exported
    # with the blood pressure's parts absent (unknown), its jsonb carried raw beside it (was: quarantined whole,
    # unmappable, though it broke no rule)
    assert {(d["section"], d["field"], d["reason_code"], d["rows"]) for d in check["defects"]} == {
        ("patient", "name", "required-missing", 1)}
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} >= {
        ("visit_code", 270, 265, 5), ("vital_signs", 120, 117, 3)}
    dry, sealed, bag = exported(flow, tmp_path)
    assert dry["reconciliation"]["balanced"] and sealed["reconciliation"]["balanced"]
    observations = _resources(bag, "Observation")
    bp = {r["identifier"][0]["value"]: [c["valueQuantity"]["value"] for c in r["component"]]
          for r in observations if r["id"].endswith("-bp") and r["identifier"][0]["value"] != clinic.dirty["list_vitals"]}
    assert len(bp) == 116
    for uid, values in bp.items():
        vit = json.loads(clinic.vitals[uid])
        assert values == [vit["sbp"], vit["dbp"]]
    # the jsonb itself (its "position", which no field maps) is carried beside each exported row
    carried = _raw_columns(bag, "vital_signs")
    assert all(json.loads(carried[uid]["vitals"]) == json.loads(clinic.vitals[uid]) for uid in bp)
    # each measurement the section maps (sbp, dbp, hr, temp from the jsonb) absent, unknown
    listed = {r["id"].rsplit("-", 1)[1]: r for r in observations
              if r["identifier"][0]["value"] == clinic.dirty["list_vitals"]}
    assert sorted(listed) == ["bp", "pulse", "temp"]
    assert [c["dataAbsentReason"]["coding"][0]["code"] for c in listed["bp"]["component"]] == ["unknown", "unknown"]
    assert (listed["pulse"]["dataAbsentReason"]["coding"][0]["code"],
            listed["temp"]["dataAbsentReason"]["coding"][0]["code"]) == ("unknown", "unknown")
    assert "valueQuantity" not in str(listed) and json.loads(carried[clinic.dirty["list_vitals"]]["vitals"]) == [120, 80]
    # a boolean column through a code map of '1'/'0' (psqlODBC's text; now read as the boolean): 12 of 15 active
    allergies = _resources(bag, "AllergyIntolerance")
    assert sorted(a["clinicalStatus"]["coding"][0]["code"] for a in allergies) == ["active"] * 10 + ["inactive"] * 5
    patients = _resources(bag, "Patient")
    assert sorted(p["active"] for p in patients) == [False] + [True] * 58
    conditions = _resources(bag, "Condition")
    assert len(conditions) == 265 + 265


def test_a_cast_the_stored_values_do_not_fit_names_the_section_and_what_to_do(clinic: WebClinic,
                                                                                tmp_path: Path) -> None:
    # Before: "A query on the clinic database failed: SQLSTATE 22P02: a stored value could not be read (the value
    # is not shown)", and nothing else: not which of the seven sections, nor what to do.
    flow = scaffolded(clinic, tmp_path)
    (flow.connectors / "foreign" / "connector.toml").write_text(
        WEB_CONNECTOR.replace("(V.vitals->>'temp')::numeric", "(V.vitals->>'position')::numeric"), encoding="utf-8")
    output = _run(["connector", "check", str(flow.connectors / "foreign"), *flow.source, "--institution-code",
                   INSTITUTION[0], "--institution-name", INSTITUTION[1]], flow.env, 1).output
    assert output == (
        "Error: A query on the clinic database failed: SQLSTATE 22P02: a stored value could not be read (the value is "
        f"not shown), reading [entities.vital_signs] of {flow.connectors / 'foreign' / 'connector.toml'}: a value in "
        "its rows does not fit what the query makes of it (a cast such as ::numeric or ::date on text that is no "
        "number or date?). Cast only the values that fit (CASE WHEN … ~ '^[0-9.]+$' THEN …::numeric END), or read "
        "the text into the field and let its type quarantine the rows that do not fit.\n")
    assert "좌위" not in output


def test_columns_a_sections_query_leaves_out_are_carried_raw_beside_it_and_named(clinic: WebClinic,
                                                                                 tmp_path: Path) -> None:
    # Before 452085a: "Result: finished", and email, metadata, deleted_at, created_at and updated_at listed as
    # "Unmapped columns of read tables (carried raw …)"; the export read only the query's columns, so they were in
    # no resource, no raw sidecar and no count, and the reconciliation balanced all the same. 452085a named them
    # ("NOT exported") and failed the check; now the export carries them by the table's key and the check says so.
    flow = scaffolded(clinic, tmp_path)
    (flow.connectors / "foreign" / "connector.toml").write_text(WEB_CONNECTOR.replace(
        '[entities.patient.fields]', 'query = "SELECT id, chart_number, name, sex, birth_date, rrn, address, phone, '
        'is_active FROM clinic_patient"\n\n[entities.patient.fields]', 1), encoding="utf-8")
    args = ["connector", "check", str(flow.connectors / "foreign"), *flow.source, "--institution-code",
            INSTITUTION[0], "--institution-name", INSTITUTION[1]]
    check = json.loads(_run([*args, "--json"], flow.env, 0).output)
    cells = (("email", 45), ("metadata", 60), ("deleted_at", 1), ("created_at", 60), ("updated_at", 60))
    assert (check["ok"], check["unselected_columns"]) == (True, [
        {"table": "clinic_patient", "column": c, "cells": n} for c, n in cells])
    assert not {c["column"] for c in check["unmapped_columns"] if c["table"] == "clinic_patient"}
    text = _run(args, flow.env, 0).output
    assert ("\nColumns no query of their table selects (carried raw beside the sections in data/raw/unselected, not "
            "in FHIR; to map them, select them in the section's query, e.g. SELECT T.*, …):\n  "
            f"{'clinic_patient.email':<40}{45:>10} non-NULL cells\n") in text

    dry, sealed, bag = exported(flow, tmp_path)
    inventory = {t["name"]: t for t in json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]}
    assert inventory["clinic_patient"]["unselected_columns"] == {
        "columns": [c for c, _ in cells], "key": ["id"], "read": "keyset on id",
        "reason": "no query of the sections that read this table selects them: carried raw beside the sections, "
                  "so that no cell is lost", "files": "data/raw/unselected/clinic_patient.*.ndjson"}
    carried = [json.loads(line) for path in sorted((bag / "data/raw/unselected").glob("clinic_patient.*.ndjson"))
               for line in path.read_bytes().splitlines()]
    assert [line["key"]["id"] for line in carried] == sorted(clinic.patient_rows)  # every row once, in key order
    assert {c: sum(line["columns"][c] is not None for line in carried) for c, _ in cells} == dict(cells)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"]
        [unselected] = outcome["unselected_columns"]
        assert (unselected["table"], unselected["source_rows"], unselected["carried"], unselected["cells"]) == (
            "clinic_patient", 60, 60, {"source": 300, "carried_raw": 300})
        totals = outcome["cells"]
        assert totals["source"] == totals["mapped"] + totals["carried_raw"] + totals["quarantined"]
