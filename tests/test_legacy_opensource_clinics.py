"""Clinics shaped like two legacy open-source EMRs on MySQL that nobody on the team wrote: OSCAR EMR
(tests/connectors/oscar_clinic.py: MyISAM without foreign keys, zero dates, a birth date in three text columns,
EAV preventions and measurements) and Care2x (tests/connectors/care2x_clinic.py: latin1 tables holding CP949
bytes, the audit columns status/history/modify_id/create_time on every row, soft deletes), through the
contractor's whole flow over MariaDB Connector/ODBC with the scaffold's connector untouched: ``scaffold`` →
``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open`` → ``scan``; then every row of every
table is rebuilt from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py). What the
scaffold maps and what it carries is pinned per table (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from care2x_clinic import DDL as CARE2X_TABLES
from care2x_clinic import create_care2x_clinic
from oscar_clinic import DDL as OSCAR_TABLES
from oscar_clinic import create_oscar_clinic

from test_foreign_schemas import _run, _source_args
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


def _scanned(clinic: Any, tmp_path: Path) -> dict[str, Any]:
    """``scan`` with the scaffold's connector (exit 0): its JSON."""
    source, env = _source_args(clinic)
    scan = _run(["scan", "--connector", "foreign", "--connectors-dir", str(tmp_path / "connectors"), *source,
                 "--json"], env, 0)
    found: dict[str, Any] = json.loads(scan.stdout)
    return found


#: None: the export's own pages; 7: every section and carried table read in keyset pages of 7 rows
PAGES = [None, 7]


@pytest.mark.parametrize("page_size", PAGES)
def test_an_oscar_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str,
                                                         page_size: int | None) -> None:
    clinic = create_oscar_clinic(mariadb_conn_str)
    clinic.page_size = page_size
    assert through_the_flow(clinic, tmp_path) == clinic.cells  # no table skipped, nothing joined in
    bag = _bag(tmp_path)
    kinds = ("bp", "pulse", "height", "temperature", "weight")
    # the bookings are appointments (was: carried raw whole, "the visits")
    read = {"demographic": ("patient",), "casemgmt_note": ("chart_note",), "appointment": ("appointment",),
            "measurements": tuple(sorted(f"vital_measurements_{k}" for k in (*kinds, "other")))}
    assert _fates(bag) == {t.lower(): read.get(t, "carried") for t in OSCAR_TABLES}
    # the note of a patient nobody has (demographic_no '9999') quarantined as an orphan; measurements (EAV: one row
    # per value of a ``type``) read by a vital-signs section per type named as a vital sign (was: carried raw whole),
    # the weight of demographicNo 0 (nobody) an orphan, and the A1C rows (no vital sign) kept whole with their reason
    assert _entities(bag) == {("patient", "demographic", 40, 40, 0), ("chart_note", "casemgmt_note", 61, 60, 1),
                              *((f"vital_measurements_{k}", "measurements", 58, 58, 0) for k in kinds if k != "weight"),
                              ("vital_measurements_weight", "measurements", 59, 58, 1),
                              ("appointment", "appointment", 80, 77, 3)}
    # a booking is an Appointment (was: carried raw whole): its day with its start and end times of day
    # (appointment_date + start_time, + end_time), the reason as its description; never an Encounter
    appointments = _resources(bag, "Appointment")
    assert (appointments["1"]["start"], appointments["1"]["end"], appointments["1"]["description"]) == (
        "2024-03-04T09:15:00+09:00", "2024-03-04T09:30:00+09:00", "감기")
    assert not list(bag.glob("data/fhir/Encounter.*"))
    # the A1C rows (no vital sign) carried whole with their reason (were quarantined as unmappable)
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert [(c["section"], c["table"], c["carried"], c["columns"], c["reason"]) for c in report["carried_sections"]] \
        == [("vital_measurements_other", "measurements", 12, 10,
             "a measurement of a type that is no vital sign and no lab test: kept as recorded")]
    orphans = [json.loads(line) for p in sorted(bag.glob("data/raw/chart_note.*.ndjson"))
               for line in p.read_bytes().splitlines()]
    assert [(o["key"], o["reason_code"]) for o in orphans] == [(str(clinic.dirty["orphan_note"]), "orphan")]
    patients = _resources(bag, "Patient")
    # the birth date kept in year_of_birth, month_of_birth and date_of_birth (was: not mapped): month and day
    # '00' the year alone; the patient born on 30 February exported without it, the field's defect said (was, for
    # a field read from several columns: the patient quarantined, and with it the whole chart)
    births = {p: "-".join(b) for p, (_, _, b) in clinic.people.items()}
    births.update({clinic.dirty["year_only"]: births[clinic.dirty["year_only"]][:4]})
    for pid in (clinic.dirty["no_birth"], clinic.dirty["impossible_birth"]):
        del births[pid]
    for pid, (name, sex, _) in clinic.people.items():
        found = patients[str(pid)]
        assert (found["name"], found["gender"], found.get("birthDate")) == (
            [{"text": name}], {"M": "male", "F": "female", "O": "other"}[sex], births.get(pid))
    assert patients[str(clinic.dirty["impossible_birth"])]["_birthDate"]["extension"][0]["valueCode"] == "error"
    assert {e["entity"]: e["field_defects"] for e in report["entities"]} == {
        "patient": {"invalid-date": 1}, "chart_note": {}, **{f"vital_measurements_{k}": {} for k in kinds},
        # OSCAR's one-letter booking statuses (B billed, N no show) are read by no rule (a letter says nothing by
        # itself): each kept as recorded, the Appointment booked, counted
        "appointment": {"status-unread": 77}}
    # measurement 1 (BP written '120/80' in dataField: split into the panel's systolic and diastolic components) and
    # measurement 3 (WT, its text): exact values (OSCAR keeps no unit column: none is assumed)
    observations = _resources(bag, "Observation")
    bp, weight = observations["1"], observations["3"]
    assert [(c["code"]["coding"][0]["code"], Decimal(str(c["valueQuantity"]["value"]))) for c in bp["component"]] \
        == [("8480-6", Decimal(clinic.measured[1].split("/")[0])), ("8462-4", Decimal(clinic.measured[1].split("/")[1]))]
    assert (weight["code"]["coding"][0]["code"], Decimal(str(weight["valueQuantity"]["value"]))) == (
        "29463-7", Decimal(clinic.measured[3]))
    assert (clinic.measured[1].count("/"), "unit" in weight["valueQuantity"]) == (1, False)
    kept = [line for p in sorted(bag.glob("data/raw/sections/vital_measurements_other.*.ndjson"))
            for line in p.read_bytes().splitlines()]
    assert {json.loads(k)["row"]["type"] for k in kept} == {"A1C"} and len(kept) == 12
    assert not list(bag.glob("data/raw/vital_measurements_other.*"))  # none quarantined
    assert kept[0].decode("utf-8") == (  # measurement 26, exactly as recorded: every column, no reason code
        '{"row":{"appointmentno":5,"comments":null,"datafield":"6.6","dateentered":{"datetime":"2024-03-05T09:20:00"},'
        '"dateobserved":{"datetime":"2024-03-05T09:15:00"},"demographicno":36,"id":26,"measuringinstruction":"검사실",'
        '"providerno":"100001","type":"A1C"}}')
    # each note is its demographic_no's (a VARCHAR holding the integer key of demographic)
    notes = _resources(bag, "DocumentReference")
    assert {k: n["subject"]["reference"] for k, n in notes.items()} == {
        str(n): f"Patient/{patients[str(clinic.notes[n])]['id']}" for n in clinic.notes if n != 61}
    # drugs: its only name column (customName) is empty in every row (BN and GN hold the names): carried whole,
    # where the order_line, then the medication_statement section read customName and quarantined all 40 rows
    # as unmappable
    scan = _scanned(clinic, tmp_path)
    assert (scan["cells"], [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]]) == (
        # the measurements' cells now mapped (1096), carried with their rows (the A1C rows: 12 rows of 10 columns,
        # were quarantined: carried_raw 8235, quarantined 144) or quarantined (the orphan weight: 1 row of 10
        # columns); was carried_raw 9461, mapped 500, quarantined 14, transformed 199; then, the bookings carried raw
        # whole: carried_raw 8355, mapped 1596, quarantined 24, transformed 205 (now appointments, the 3 slots of
        # nobody's quarantined as orphans: 3 rows of 15 columns)
        {"carried_raw": 7925, "mapped": 1981, "quarantined": 69, "source": clinic.cells, "transformed": 436},
        [("patient", 40, 0), ("chart_note", 60, 1), *((f"vital_measurements_{k}", 58, int(k == "weight")) for k in kinds),
         ("appointment", 77, 3)])


@pytest.mark.parametrize("page_size", PAGES)
def test_a_care2x_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str,
                                                         page_size: int | None) -> None:
    clinic = create_care2x_clinic(mariadb_conn_str)
    clinic.page_size = page_size
    # the section tables' latin1 columns that hold Korean are read as their CP949 bytes, the diagnosis section's
    # too, whose query joins the visit in (was: read as the server's latin1 reading, '±èÀÇ»ç' for '김의사'); the
    # rest of a section's columns as the server's latin1 reading; a carried table's every latin1 column as bytes
    clinic.stored_bytes = {"care_person": ["name_first", "name_last", "addr_str", "death_cause"],
                           "care_encounter": ["referrer_diagnosis", "consulting_dr"],
                           "care_encounter_diagnosis": ["diagnosing_clinician"],
                           "care_encounter_measurement": []}  # no Korean: every column the server's latin1 reading
    # every cell but the skipped care_users' (2 rows of 13 columns); the reconciliation also counts the visit's
    # date and patient the diagnosis section joins in, for each of its 73 rows, and the visit's patient each
    # measurement section joins in, for each of the 300 measurements
    assert through_the_flow(clinic, tmp_path, 2 * 73 + 300) == clinic.cells - 2 * 13
    bag = _bag(tmp_path)
    kinds = ("weight", "height", "temperature", "systolic", "diastolic")
    read = {"care_person": ("patient",), "care_encounter": ("encounter",),
            "care_encounter_diagnosis": ("diagnosis",), "care_users": "skipped",
            "care_encounter_measurement": tuple(sorted(f"vital_care_encounter_measurement_{k}"
                                                       for k in (*kinds, "other")))}
    assert _fates(bag) == {t: read.get(t, "carried") for t in CARE2X_TABLES}
    # the encounter of person 999 (nobody) quarantined as an orphan, and its diagnosis with it; the measurements
    # (EAV: msr_type_nr an id into care_type_measurement, whose names say Weight, Height, Temperature, BP systolic,
    # BP diastolic) one vital-signs section per type (was: carried raw whole); no row of another type
    assert _entities(bag) == {("patient", "care_person", 36, 36, 0), ("encounter", "care_encounter", 73, 72, 1),
                              ("diagnosis", "care_encounter_diagnosis", 73, 72, 1),
                              *((f"vital_care_encounter_measurement_{k}", "care_encounter_measurement", 60, 60, 0)
                                for k in kinds)}
    observations = _resources(bag, "Observation")
    # measurement 1: visit 1's weight '51.1'; 4: its systolic '111' (a panel with that component alone); 13: the
    # temperature whose row status says deleted, exported as entered-in-error
    assert (observations["1"]["code"]["coding"][0]["code"], observations["1"]["valueQuantity"]) == (
        "29463-7", {"value": 51.1})
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in observations["4"]["component"]] == [
        ("8480-6", {"value": 111})]
    assert (observations["13"]["code"]["coding"][0]["code"], observations["13"]["status"]) == (
        "8310-5", "entered-in-error")
    # the name kept as name_last and name_first (was: no name found, the scaffold stopped with exit 2); the birth
    # date in date_birth (was: not mapped), '0000-00-00' none
    patients = _resources(bag, "Patient")
    for pid, (name, sex, birth) in clinic.people.items():
        found = patients[str(pid)]
        assert (found["name"], found["gender"], found.get("birthDate")) == (
            [{"text": name}], {"m": "male", "f": "female"}[sex], None if birth.startswith("0000") else birth)
    # the person soft-deleted (status 'deleted') exported inactive (was: as an ordinary patient)
    assert [k for k, p in patients.items() if "active" in p] == [str(clinic.dirty["deleted_person"])]
    assert patients[str(clinic.dirty["deleted_person"])]["active"] is False
    # each visit is its pid's
    encounters = _resources(bag, "Encounter")
    assert {k: e["subject"]["reference"] for k, e in encounters.items()} == {
        str(e): f"Patient/{patients[str(pid)]['id']}" for e, pid in clinic.encounters.items()}
    scan = _scanned(clinic, tmp_path)
    assert (scan["cells"], [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]]) == (
        # the measurements' cells now mapped (was: carried_raw 9501, mapped 719, transformed 252, a value of text
        # read as a number is carried as written too; then carried_raw 8312, mapped 2208, transformed 563: the 72
        # exported diagnoses' KCD codes each also carried raw, looked for under the recorded-code system)
        {"carried_raw": 8240, "mapped": 2280, "quarantined": 45, "source": clinic.cells - 2 * 13 + 2 * 73 + 300,
         "transformed": 491}, [("patient", 36, 0), ("encounter", 72, 1), ("diagnosis", 72, 1),
                               *((f"vital_care_encounter_measurement_{k}", 60, 0) for k in kinds)])
