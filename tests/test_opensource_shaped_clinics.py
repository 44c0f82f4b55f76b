"""Clinics shaped like real open-source EMRs nobody on the team wrote: OpenMRS core on MariaDB
(tests/connectors/openmrs_clinic.py) and GNU Health on PostgreSQL (tests/connectors/gnuhealth_clinic.py), through
the contractor's whole flow over the real ODBC drivers with the scaffold's connector untouched: ``scaffold`` →
``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``; then every row of every table is rebuilt
from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py). What the scaffold maps and
what it carries is pinned per table (``db``: fails, never skips, when a server is down).
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
from gnuhealth_clinic import DDL as GNUHEALTH_TABLES
from gnuhealth_clinic import PARTY, create_gnuhealth_clinic
from openmrs_clinic import DDL as OPENMRS_TABLES
from openmrs_clinic import create_openmrs_clinic

from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


def _bag(tmp_path: Path) -> Path:
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    return bag


def _fates(bag: Path) -> dict[str, Any]:
    """Table → the sections that read it, else its fate (carried, skipped)."""
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    return {t["name"]: tuple(t["entities"]) if t.get("entities") else t["fate"] for t in inventory}


def _entities(bag: Path) -> set[tuple[str, str, int, int, int]]:
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    return {(e["entity"], e["table"], e["source_rows"], e["exported"], e["quarantined"]) for e in report["entities"]}


def _resources(bag: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Source key → the resource (its first source identifier)."""
    found = [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
             for line in path.read_bytes().splitlines()]
    return {next(i["value"] for i in r["identifier"] if i["system"].startswith("urn:emr-exporter:source")): r
            for r in found}


def test_an_openmrs_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic = create_openmrs_clinic(mariadb_conn_str)
    # every cell but the skipped users' (3 rows of 19 columns); the reconciliation also counts the two name
    # columns the patient section joins in from person_name, for each of the 39 persons
    assert through_the_flow(clinic, tmp_path, 2 * 39) == clinic.cells - 3 * 19
    bag = _bag(tmp_path)
    read = {"person": ("patient",), "encounter": ("encounter",)}
    assert _fates(bag) == {t: read.get(t, "skipped" if t == "users" else "carried") for t in OPENMRS_TABLES}
    # the person with no name row quarantined, and the 4 encounters of its 2 visits as orphans; the staff's
    # persons (1-3) are persons too, so exported as patients (patient holds only the patients' ids, no name)
    assert _entities(bag) == {("patient", "person", 39, 38, 1), ("encounter", "encounter", 144, 140, 4)}
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    # voided (OpenMRS's soft delete): was not recognised, the voided patient exported as an ordinary one
    assert (spec["entities"]["patient"]["fields"]["active"], spec["entities"]["encounter"]["fields"]["status"]) == (
        {"column": "voided", "type": "bool", "map": {"1": False, "0": True}},
        {"column": "voided", "type": "status", "map": {"1": "entered-in-error", "0": ""}})
    patients = _resources(bag, "Patient")
    assert [k for k, p in patients.items() if not p["active"]] == [str(clinic.dirty["voided_patient"])]
    for pid, (name, gender, birth) in clinic.people.items():
        if name is not None:
            found = patients[str(pid)]
            assert (found["name"], found["gender"], found["birthDate"]) == (
                [{"text": name}], {"M": "male", "F": "female", "O": "other"}[gender], birth.isoformat())
    # the preferred name, though its row comes second
    assert patients[str(clinic.dirty["two_names"])]["name"][0]["text"] != "옛이름"


def test_a_gnuhealth_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_gnuhealth_clinic(postgres_conn_str)
    # every cell but the skipped res_user's (3 rows of 11 columns); the reconciliation also counts the four columns
    # the patient section joins in from party_party (name, lastname, gender, dob), for each of the 40 patients, and
    # the lab's patient the lab result section joins in for each of the 72 result lines
    assert through_the_flow(clinic, tmp_path, 4 * 40 + 72) == clinic.cells - 3 * 11
    bag = _bag(tmp_path)
    read = {"gnuhealth_patient": ("patient",), "gnuhealth_patient_allergy": ("allergy",),
            "gnuhealth_patient_evaluation": ("vital_signs",), "gnuhealth_lab_test_critearea": ("lab_result",),
            "res_user": "skipped"}
    assert _fates(bag) == {t: read.get(t, "carried") for t in GNUHEALTH_TABLES}
    # the patient whose party has no first name quarantined (incomplete name) with its 3 evaluations (orphans);
    # the orphan evaluation (patient 999) and the 7 with nothing measured quarantined; the 1 result line of that
    # patient's lab an orphan too
    assert _entities(bag) == {("patient", "gnuhealth_patient", 40, 39, 1),
                              ("lab_result", "gnuhealth_lab_test_critearea", 72, 71, 1),
                              ("allergy", "gnuhealth_patient_allergy", 12, 12, 0),
                              ("vital_signs", "gnuhealth_patient_evaluation", 120, 109, 11)}
    patients = _resources(bag, "Patient")
    assert str(clinic.dirty["nameless_party"] - PARTY) not in patients
    assert [k for k, p in patients.items() if not p["active"]] == [str(clinic.dirty["archived_patient"])]
    first = patients["1"]
    assert (first["name"], first["gender"]) == ([{"text": "이 하은"}], "female")  # party 101: lastname 이, name 하은, gender f
    # each allergy is its ``patient``'s, not the patient whose id is the allergy row's own (was: patient_id = id)
    allergies = _resources(bag, "AllergyIntolerance")
    assert {k: a["patient"]["reference"] for k, a in allergies.items()} == {
        str(i): f"Patient/{patients[str(i * 5 % 40 + 1)]['id']}" for i in range(1, 13)}
    observations = [json.loads(line) for path in sorted(bag.glob("data/fhir/Observation.*.ndjson"))
              for line in path.read_bytes().splitlines()]
    assert len({v["id"].split("-")[0] for v in observations}) == 109 + 71  # the vital-sign sets and the lab results
