"""A clinic shaped like OpenEyes (tests/connectors/openeyes_clinic.py: an ophthalmology EMR whose chart is
``patient`` → ``episode`` → ``event`` → many element tables with left/right eye columns, the patient's name in
``contact``, ``*_version`` copies of its tables and an ``audit`` log) through the contractor's whole flow over
MariaDB Connector/ODBC with the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run →
sealed ``export`` → ``verify`` → ``open`` → ``scan``; then every row of every table is rebuilt from the opened bag
and compared with the server's cell by cell (tests/lossless_kit.py). What the scaffold maps and what it carries is
pinned per table (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tomllib
from pathlib import Path

import pytest

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.sources.address import SourceAddress

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from openeyes_clinic import DDL as OPENEYES_TABLES
from openeyes_clinic import create_openeyes_clinic

from test_foreign_schemas import _carried_rows
from test_legacy_opensource_clinics import PAGES, _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

#: the cells the sections' queries join in, which the reconciliation counts as read: each patient's last and first
#: name from contact (30 × 2), each event's patient from its episode (80), each diagnosis's disorder name (45), each
#: medication's drug name (30), each allergy's allergy name (18)
JOINED = 30 * 2 + 80 + 45 + 30 + 18


@pytest.mark.db
@pytest.mark.parametrize("page_size", PAGES)
def test_an_openeyes_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str,
                                                            page_size: int | None) -> None:
    clinic = create_openeyes_clinic(mariadb_conn_str)
    clinic.page_size = page_size
    # every cell but the skipped user table's (2 rows of 13 columns)
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells - 2 * 13
    bag = _bag(tmp_path)
    read = {"patient": ("patient",), "event": ("encounter",), "secondary_diagnosis": ("diagnosis",),
            "medication": ("order_line",), "patient_allergy_assignment": ("allergy",), "user": "skipped"}
    # event read as the encounter (was: not recognised, carried raw: no visit at all); every element table, its
    # readings and the episodes carried whole (their eye columns and sides as recorded)
    assert _fates(bag) == {t: read.get(t, "carried") for t in OPENEYES_TABLES}
    assert _entities(bag) == {("patient", "patient", 30, 30, 0), ("encounter", "event", 80, 80, 0),
                              ("diagnosis", "secondary_diagnosis", 45, 45, 0), ("order_line", "medication", 30, 30, 0),
                              ("allergy", "patient_allergy_assignment", 18, 18, 0)}
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    reasons = {t["name"]: t.get("reason") for t in inventory}
    # the *_version tables carried as the history copies they are (were: not recognised): never a second chart —
    # 30 patients, not 32; 45 conditions, not 49
    for table in ("patient_version", "secondary_diagnosis_version", "patient_allergy_assignment_version"):
        assert reasons[table] == ("a versioned copy of a table's rows (each row as it was before a change, and when "
                                  "it was superseded): the amendment history the chart must keep, never a second "
                                  "chart; it goes as it is")
    assert len(_resources(bag, "Patient")) == 30 and len(_resources(bag, "Condition")) == 45
    assert [(r["id"], r["hos_num"]) for r in _carried_rows(bag, inventory, "patient_version")] == [
        (clinic.dirty["corrected_patient"], "OLD-1"), (clinic.dirty["corrected_patient"], "OLD-2")]
    # the name from contact, which patient.contact_id points at, family name first (was: audit.server_name
    # 'oe.local', the name of the server that logged a view of the chart, for every patient); the chart number
    # hos_num (was: the table's key); the made-up 주민등록번호 in nhs_num
    patients = _resources(bag, "Patient")
    for pid, (name, sex, dob) in clinic.people.items():
        found = patients[str(pid)]
        assert (found["name"], found["gender"], found["birthDate"]) == (
            [{"text": name}], {"M": "male", "F": "female"}[sex], dob)
        assert [i["value"] for i in found["identifier"] if i["system"].endswith(":chart-number")] == [str(20240000 + pid)]
    # each event (three hops from the patient's element rows) is the encounter of its episode's patient, at its
    # event_date; the deleted ones entered-in-error, never an ordinary visit
    encounters = _resources(bag, "Encounter")
    assert {k: (e["subject"]["reference"], e["period"]["start"], e["status"]) for k, e in encounters.items()} == {
        str(v): (f"Patient/{patients[str(clinic.episodes[episode])]['id']}", f"{at.isoformat()}+09:00",
                 "entered-in-error" if deleted else "finished")
        for v, (episode, _, at, deleted) in clinic.events.items()}
    # the eyes' readings keep their side, never merged: each visual acuity reading's side (0 right, 1 left) and each
    # pressure's eye_id as recorded, the left-only acuity with its one reading
    readings = {r["id"]: (r["element_id"], r["value"], r["side"])
                for r in _carried_rows(bag, inventory, "ophciexamination_visualacuity_reading")}
    assert readings == clinic.va_readings
    assert [s for e, _, s in readings.values() if e == clinic.dirty["left_only_va"]] == [1]
    pressures = {r["id"]: (r["element_id"], r["eye_id"], r["reading_id"])
                 for r in _carried_rows(bag, inventory, "ophciexamination_intraocularpressure_value")}
    assert pressures == clinic.iop_values
    # every diagnosis its patient's; the eye each concerns carried beside the section: its eye_id is an id into the
    # eye lookup (1 Left, 2 Right, 3 Both), no side as written, so never the diagnosis's eye (docs/connectors.md, "An
    # eye clinic's measurements"): no Condition has a bodySite
    conditions = _resources(bag, "Condition")
    assert not any("bodySite" in c for c in conditions.values())
    assert {k: c["subject"]["reference"] for k, c in conditions.items()} == {
        str(s): f"Patient/{patients[str(pid)]['id']}" for s, (pid, _, _) in clinic.diagnoses.items()}
    scan = _scanned(clinic, tmp_path)
    assert (scan["cells"], [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]]) == (
        # the events' cells now mapped (was: carried_raw 7951, mapped 519, no encounter section)
        {"carried_raw": 7741, "mapped": 839, "quarantined": 0, "source": clinic.cells - 2 * 13 + JOINED,
         "transformed": 120},
        [("patient", 30, 0), ("encounter", 80, 0), ("diagnosis", 45, 0), ("order_line", 30, 0), ("allergy", 18, 0)])


def test_a_patients_name_is_its_own_contacts_never_a_shared_doctors_nor_a_logs(tmp_path: Path) -> None:
    """The rules the OpenEyes shape brought, on SQLite, with the look-alikes they must leave alone: the name from
    the table ``contact_id`` points at, one contact a patient (never ``doctor_id``'s, a doctor many patients
    share, nor the ``server_name`` of a log of who viewed the chart); ``event`` alone is the visits' table, never
    ``adverse_event``; a ``…_version`` table with its ``version_date`` a versioned copy, carried."""
    path = tmp_path / "oe_rules.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE doctor (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT);
        CREATE TABLE contact (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT);
        CREATE TABLE patient (id INTEGER PRIMARY KEY, hos_num TEXT, dob TEXT, doctor_id INTEGER,
                              contact_id INTEGER);
        CREATE TABLE audit (id INTEGER PRIMARY KEY, patient_id INTEGER, server_name TEXT, created_date TEXT);
        CREATE TABLE adverse_event (id INTEGER PRIMARY KEY, patient_id INTEGER, event_date TEXT, description TEXT);
        CREATE TABLE patient_version (id INTEGER, hos_num TEXT, dob TEXT, doctor_id INTEGER, contact_id INTEGER,
                                      version_date TEXT, version_id INTEGER PRIMARY KEY);
        INSERT INTO doctor VALUES (1, '의사', '강'), (2, '의사', '조');
        INSERT INTO patient_version VALUES (3, 'H0003', '1960-01-01', 1, 103, '2024-01-01 09:00:00', 1);
    """)
    conn.executemany("INSERT INTO contact VALUES (?, ?, ?)", [(100 + p, f"민준{p}", "김") for p in range(1, 21)])
    conn.executemany("INSERT INTO patient VALUES (?, ?, ?, ?, ?)",
                     [(p, f"H{p:04d}", f"19{50 + p}-01-0{1 + p % 9}", 1 + p % 2, 100 + p) for p in range(1, 21)])
    conn.executemany("INSERT INTO audit VALUES (?, ?, 'oe.local', '2024-01-01 09:00:00')",
                     [(a, 1 + a % 20) for a in range(1, 41)])
    conn.executemany("INSERT INTO adverse_event VALUES (?, ?, '2024-02-01', '어지러움')",
                     [(a, 1 + a % 20) for a in range(1, 6)])
    conn.commit()
    outcome = write_scaffold("oe_rules", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    patient = spec.entities["patient"]
    assert patient.query == ("SELECT X.*, P.last_name AS SCAFFOLD_LAST_NAME, P.first_name AS SCAFFOLD_FIRST_NAME "
                             "FROM patient X LEFT JOIN contact P ON P.id = X.contact_id")
    assert patient.fields["chart_number"].column == "hos_num"
    assert conn.execute(f"SELECT SCAFFOLD_LAST_NAME || ' ' || SCAFFOLD_FIRST_NAME FROM ({patient.query}) "
                        "WHERE id = 3").fetchone() == ("김 민준3",)
    conn.close()
    assert "encounter" not in spec.entities
    carried = tomllib.loads(outcome.connector_toml.read_text(encoding="utf-8"))["carry"]
    assert carried["patient_version"] == ("a versioned copy of a table's rows (each row as it was before a change, "
                                          "and when it was superseded): the amendment history the chart must keep, "
                                          "never a second chart; it goes as it is")


def test_a_hospital_number_the_same_on_every_patient_is_no_chart_number(tmp_path: Path) -> None:
    # HOSPITAL_NUM holding the clinic's own number on every row (a 요양기관번호): no chart number, as every patient
    # but one would be a duplicate of the first (was: chart_number = HOSPITAL_NUM, unique); OpenEyes' hos_num,
    # one a patient, is the chart number (test_an_openeyes_shaped_clinic_comes_back_cell_for_cell)
    path = tmp_path / "hosnum.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT, "
                 "HOSPITAL_NUM TEXT)")
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800101', 'M', '31234567')",
                     [(i, f"환자{i}") for i in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("hosnum", tmp_path / "out", SourceAddress(database=path)).folder)
    assert (spec.entities["patient"].fields["chart_number"].source_column, spec.entities["patient"].unique) == (
        "PT_ID", ("chart_number",))
