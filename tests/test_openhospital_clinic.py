"""A clinic shaped like Open Hospital (Informatici Senza Frontiere; tests/connectors/openhospital_clinic.py) on
MariaDB, through the contractor's whole flow over MariaDB Connector/ODBC with the scaffold's connector untouched:
``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open`` → ``scan``; then every row
of every table is rebuilt from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py).
What the scaffold maps and what it carries is pinned per table (``db``: fails, never skips, when the server is
down). Open Hospital names every column with a prefix of its table (``PAT_SEX``, ``OPD_PAT_ID``, ``PEX_AP_MAX``):
the scaffold reads the names after it (was: a patient of a name alone, every other table left undecided).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from openhospital_clinic import DDL as OPENHOSPITAL_TABLES
from openhospital_clinic import DISEASES, create_openhospital_clinic

from test_legacy_opensource_clinics import PAGES, _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


#: table → the sections that read it; every other table is carried whole (skipped: USERS, its password hashes)
#: OPD: the visits, and a diagnosis section per diagnosis-code column (was: the encounter alone, the codes carried raw)
DX_SECTIONS = ("diagnosis_opd_dis_id_a", "diagnosis_opd_dis_id_a_2", "diagnosis_opd_dis_id_a_3")
READ = {"patient": ("patient",), "opd": (*DX_SECTIONS, "encounter"), "laboratory": ("lab_result",),
        "patientvaccine": ("immunization",), "patientexamination": ("vital_signs",), "users": "skipped"}


@pytest.mark.parametrize("page_size", PAGES)
def test_an_openhospital_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str,
                                                                 page_size: int | None) -> None:
    clinic = create_openhospital_clinic(mariadb_conn_str)
    clinic.page_size = page_size  # None: the export's own pages; 7: every section read in keyset pages of 7 rows
    # every cell but the skipped USERS' (2 rows of 12 columns); the diagnosis sections read the visit rows again,
    # 4 cells each (OPD_ID, OPD_PAT_ID, OPD_DATE and the code), counted again as the reconciliation counts them, and
    # the reconciliation also counts the diagnosis names they join in from DISEASE (one per code set)
    codes = sum(code is not None for codes in clinic.diagnoses.values() for code in codes)
    assert through_the_flow(clinic, tmp_path, joined=codes) == clinic.cells - 2 * 12 + 4 * codes
    bag = _bag(tmp_path)
    # the names after each table's column prefix read (PAT_SEX: SEX, OPD_PAT_ID: PAT_ID, PEX_AP_MAX: AP_MAX); a
    # PATIENTVACCINE the patients' vaccinations (not VACCINE, the vaccines' list), LABORATORY the lab results (was:
    # a patient of a name alone; every other table left to decide, carried)
    assert _fates(bag) == {t.lower(): READ.get(t.lower(), "carried") for t in OPENHOSPITAL_TABLES}
    # the OPD visit of patient 999 (nobody) quarantined as an orphan
    # one diagnosis per visit and code column set (OPD_DIS_ID_A in every visit, _2 in 26, _3 in 8), the orphan
    # visit's quarantined with it
    assert _entities(bag) == {("patient", "PATIENT", 40, 40, 0), ("encounter", "OPD", 81, 80, 1),
                              ("diagnosis_opd_dis_id_a", "OPD", 81, 80, 1), ("diagnosis_opd_dis_id_a_2", "OPD", 26, 26, 0),
                              ("diagnosis_opd_dis_id_a_3", "OPD", 8, 8, 0),
                              ("lab_result", "LABORATORY", 60, 60, 0), ("immunization", "PATIENTVACCINE", 40, 40, 0),
                              ("vital_signs", "PATIENTEXAMINATION", 60, 60, 0)}
    orphans = [json.loads(line) for p in sorted(bag.glob("data/raw/encounter.*.ndjson"))
               for line in p.read_bytes().splitlines()]
    assert [(o["key"], o["reason_code"]) for o in orphans] == [(str(clinic.dirty["orphan_visit"]), "orphan")]
    # name, sex and birth date (PAT_BDATE, was: not mapped); the patient PAT_DELETED 'Y' exported inactive (the
    # deletion flag, where PAT_ACTIVE is 1 in every row; was: active like every other)
    patients = _resources(bag, "Patient")
    for pid, (name, sex, birth) in clinic.people.items():
        found = patients[str(pid)]
        assert (found["name"], found["gender"], found.get("birthDate"), found["active"]) == (
            [{"text": name}], {"M": "male", "F": "female"}[sex], birth, pid != clinic.dirty["deleted_patient"])
    encounters = _resources(bag, "Encounter")
    assert {k: e["subject"]["reference"] for k, e in encounters.items()} == {
        str(o): f"Patient/{patients[str(pid)]['id']}" for o, pid in clinic.visits.items()}
    # the visit's diagnoses as Conditions (was: OPD_DIS_ID_A, _2, _3 carried raw): each with its visit, patient and
    # day, the code and DISEASE's name of it, the first column's the primary one; ids unique per visit and column
    conditions = [json.loads(line) for path in sorted(bag.glob("data/fhir/Condition.*.ndjson"))
                  for line in path.read_bytes().splitlines()]
    assert len({c["id"] for c in conditions}) == len(conditions) == 114
    by_visit = {e["id"]: int(k) for k, e in encounters.items()}
    found_dx: dict[int, list[tuple[str, str, bool]]] = {}
    for c in conditions:
        visit = by_visit[c["encounter"]["reference"].removeprefix("Encounter/")]
        assert c["subject"] == encounters[str(visit)]["subject"]
        assert c["recordedDate"] == encounters[str(visit)]["period"]["start"][:10]
        primary = [x["valueBoolean"] for x in c.get("extension", []) if x["url"].endswith("primary-diagnosis")]
        found_dx.setdefault(visit, []).append((c["code"]["coding"][0]["code"], c["code"]["text"], primary == [True]))
    assert found_dx == {o: [(code, DISEASES[code][0], i == 0) for i, code in enumerate(codes) if code is not None]
                        for o, codes in clinic.diagnoses.items() if o != clinic.dirty["orphan_visit"]}
    # the vitals as columns: blood pressure from PEX_AP_MAX/PEX_AP_MIN (arterial pressure; was: carried raw)
    found = [json.loads(line) for path in sorted(bag.glob("data/fhir/Observation.*.ndjson"))
             for line in path.read_bytes().splitlines()]
    first = {r["code"]["coding"][0]["code"]: r for r in found if {"system": "urn:emr-exporter:source:foreign:"
             "PATIENTEXAMINATION", "use": "secondary", "value": "1"} in r["identifier"]}
    pid, height, weight, ap_min, ap_max, hr, temp, sat = clinic.vitals[1]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in first["85354-9"]["component"]] \
        == [("8480-6", ap_max), ("8462-4", ap_min)]
    assert {k: r["valueQuantity"]["value"] for k, r in first.items() if k != "85354-9"} == {
        "8302-2": height, "29463-7": weight, "8867-4": hr, "8310-5": temp, "2708-6": sat, "9279-1": 13}
    assert {r["subject"]["reference"] for r in first.values()} == {f"Patient/{patients[str(pid)]['id']}"}
    scan = _scanned(clinic, tmp_path)
    assert (scan["cells"], [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]]) == (
        # was (the names after the prefix unread): carried_raw 9860, mapped 80 (the patients' key and name), source
        # 9940: USERS carried with its password hashes (US_PASSWD, now read as PASSWD: the table skipped)
        # 9940: USERS carried with its password hashes (US_PASSWD, now read as PASSWD: the table skipped). Then
        # (before the visit's diagnosis columns were read): carried_raw 8275, mapped 1620, quarantined 21, source
        # less 24, transformed 80; now the diagnosis sections' 115 rows of 5 cells more (4 read again, the name joined
        # in), each exported one's recorded date (OPD_DATE, a DATETIME as a date) and joined name carried raw as
        # transformed; LAB_STATUS (all 'DONE') read as the lab result's status, map DONE → final: 60 more transformed
        {"carried_raw": 8503, "mapped": 1962, "quarantined": 26, "source": clinic.cells - 2 * 12 + 5 * codes,
         "transformed": 368},
        [("patient", 40, 0), ("encounter", 80, 1), ("diagnosis_opd_dis_id_a", 80, 1),
         ("diagnosis_opd_dis_id_a_2", 26, 0), ("diagnosis_opd_dis_id_a_3", 8, 0), ("lab_result", 60, 0),
         ("immunization", 40, 0), ("vital_signs", 60, 0)])
