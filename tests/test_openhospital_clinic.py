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
from openhospital_clinic import DISEASES, EXAMS, MEDICALS, VACCINES, create_openhospital_clinic

from test_legacy_opensource_clinics import PAGES, _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


#: table → the sections that read it; every other table is carried whole (skipped: USERS, its password hashes)
#: OPD: the visits, and a diagnosis section per diagnosis-code column (was: the encounter alone, the codes carried raw);
#: BILLS, BILLITEMS, BILLPAYMENTS and THERAPIES were carried (the bill's patient BLL_ID_PAT named the other way round,
#: a therapy's drug an integer id into MEDICALDSR)
DX_SECTIONS = ("diagnosis_opd_dis_id_a", "diagnosis_opd_dis_id_a_2", "diagnosis_opd_dis_id_a_3")
READ = {"patient": ("patient",), "opd": (*DX_SECTIONS, "encounter"),
        "patientvaccine": ("immunization",), "patientexamination": ("vital_signs",), "users": "skipped",
        "bills": ("receipt",), "billitems": ("fee_line",), "billpayments": ("payment",),
        "therapies": ("medication_statement",),
        # ADMISSION: the in-patient stays, an encounter section of their own (was: carried, a second visit table),
        # and their diagnoses in and out
        "admission": ("diagnosis_adm_in_dis_id_a", "diagnosis_adm_out_dis_id_a", "encounter_admission"),
        # LABORATORYROW: a multi-row exam's rows, lab results of the exam's lab report (was: carried)
        "laboratory": ("lab_report", "lab_result"), "laboratoryrow": ("lab_result_laboratoryrow",)}
#: the cells the scaffold's queries join in from BILLS: each bill item's patient and day (60 × 2), each payment's
#: patient (30; its own BLP_DATE is its day); from MEDICALDSR each therapy's drug code and name (40 × 2); from EXAM
#: each lab result's name (60) and from VACCINE each vaccination's vaccine name (40), their masters' …_DESC
JOINED = 60 * 2 + 30 + 40 * 2 + 60 + 40
#: the exams with rows (URI: every 4th of the 60), each a lab report reading its LABORATORY row again (19 columns)
#: and its name from EXAM; their rows (2 each) the exam's patient, day and code joined in
EXAMS_WITH_ROWS = 15
REPORTS_READ, REPORTS_JOINED = EXAMS_WITH_ROWS * 19, EXAMS_WITH_ROWS + 2 * EXAMS_WITH_ROWS * 3


@pytest.mark.parametrize("page_size", PAGES)
def test_an_openhospital_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str,
                                                                 page_size: int | None) -> None:
    clinic = create_openhospital_clinic(mariadb_conn_str)
    clinic.page_size = page_size  # None: the export's own pages; 7: every section read in keyset pages of 7 rows
    # every cell but the skipped USERS' (2 rows of 12 columns); the diagnosis sections read the visit rows again,
    # 4 cells each (OPD_ID, OPD_PAT_ID, OPD_DATE and the code), counted again as the reconciliation counts them, and
    # the reconciliation also counts the diagnosis names they join in from DISEASE (one per code set)
    # (and so do the admissions' diagnoses in and out, the admission rows read again). The codes are the diagnosis
    # sections' only: the visit's section neither carries nor counts them (was: + 4 * codes, each code carried raw
    # with the Encounter too), but the orphan visit's, quarantined whole with its diagnosis's row
    codes = sum(code is not None for codes in (*clinic.diagnoses.values(), *clinic.stay_diagnoses.values())
                for code in codes)
    orphan_codes = sum(code is not None for code in clinic.diagnoses[clinic.dirty["orphan_visit"]])
    assert orphan_codes == 1
    assert through_the_flow(clinic, tmp_path, joined=codes + JOINED + REPORTS_JOINED) == (
        clinic.cells - 2 * 12 + 3 * codes + orphan_codes + REPORTS_READ - EXAMS_WITH_ROWS * 13)
    # (- 13 a report: the 13 LABORATORY columns the lab result carries raw are the report's own where it reads
    # the exam again, kept and counted there once: inventory `read_again`, the twice and inpatient merges)
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
                              ("vital_signs", "PATIENTEXAMINATION", 60, 60, 0), ("receipt", "BILLS", 30, 30, 0),
                              ("fee_line", "BILLITEMS", 60, 60, 0), ("payment", "BILLPAYMENTS", 30, 30, 0),
                              ("medication_statement", "THERAPIES", 40, 40, 0),
                              ("encounter_admission", "ADMISSION", 20, 20, 0),
                              ("diagnosis_adm_in_dis_id_a", "ADMISSION", 20, 20, 0),
                              ("diagnosis_adm_out_dis_id_a", "ADMISSION", 15, 15, 0),
                              ("lab_report", "LABORATORY", 15, 15, 0),
                              ("lab_result_laboratoryrow", "LABORATORYROW", 30, 30, 0)}
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
    encounters = _resources(bag, "Encounter", "OPD")
    assert {k: (e["subject"]["reference"], e["class"]["code"]) for k, e in encounters.items()} == {
        str(o): (f"Patient/{patients[str(pid)]['id']}", "AMB") for o, pid in clinic.visits.items()}
    # each admission an in-patient encounter (class IMP) of its patient, its period from ADM_DATE_ADM to ADM_DATE_DIS
    # (none while the patient is still in: ADM_IN 1, carried raw; finished as any record of a closed clinic), the
    # one ADM_DELETED 'Y' entered-in-error (was: ADMISSION carried raw); ids apart from the OPD visits' though both
    # tables' keys run 1, 2, 3 …
    stays = _resources(bag, "Encounter", "ADMISSION")
    assert {k: (e["subject"]["reference"], e["class"]["code"], e["period"]["start"], e["period"].get("end"),
                e["status"]) for k, e in stays.items()} == {
        str(a): (f"Patient/{patients[str(pid)]['id']}", "IMP", at.isoformat() + "+09:00",
                 out.isoformat() + "+09:00" if out else None,
                 "entered-in-error" if a == clinic.dirty["deleted_admission"] else "finished")
        for a, (pid, at, out) in clinic.admissions.items()}
    assert not {e["id"] for e in stays.values()} & {e["id"] for e in encounters.values()}
    # the visit's diagnoses as Conditions (was: OPD_DIS_ID_A, _2, _3 carried raw): each with its visit, patient and
    # day, the code and DISEASE's name of it, the first column's the primary one; ids unique per visit and column
    conditions = [json.loads(line) for path in sorted(bag.glob("data/fhir/Condition.*.ndjson"))
                  for line in path.read_bytes().splitlines()]
    assert len({c["id"] for c in conditions}) == len(conditions) == 114 + 20 + 15
    by_visit = {e["id"]: int(k) for k, e in encounters.items()}
    # an admission's diagnoses in and out (ADM_IN_DIS_ID_A, ADM_OUT_DIS_ID_A: none out while admitted) that stay's,
    # neither taken for the main one (was: carried raw in ADMISSION)
    by_stay = {e["id"]: int(k) for k, e in stays.items()}
    found_stay: dict[int, list[tuple[str, str, str, bool]]] = {}
    for c in [c for c in conditions if c["encounter"]["reference"].removeprefix("Encounter/") in by_stay]:
        stay = by_stay[c["encounter"]["reference"].removeprefix("Encounter/")]
        primary = [x["valueBoolean"] for x in c.get("extension", []) if x["url"].endswith("primary-diagnosis")]
        found_stay.setdefault(stay, []).append((c["code"]["coding"][0]["code"], c["code"]["text"],
                                                c["subject"]["reference"], primary == [True]))
    assert found_stay == {a: [(code, DISEASES[code][0], stays[str(a)]["subject"]["reference"], False)
                              for code in codes if code is not None] for a, codes in clinic.stay_diagnoses.items()}
    found_dx: dict[int, list[tuple[str, str, bool]]] = {}
    for c in [c for c in conditions if c["encounter"]["reference"].removeprefix("Encounter/") not in by_stay]:
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
    # a bill is a receipt (Invoice: its patient BLL_ID_PAT, the target's name last; its total BLL_AMOUNT), its
    # items fee lines and its payments payments, each of the bill's patient (joined in through BLI_ID_BILL and
    # BLP_ID_BILL); the item's day the bill's, not BLI_CREATED_DATE (when it was typed); the payment's its own
    # BLL_STATUS read as the codes O/C/D (open, closed, deleted): the deleted bill entered-in-error, so on no
    # receipt of the national documents (was: carried raw, the deleted bill an issued Invoice like any other)
    invoices = _resources(bag, "Invoice")
    assert {k: (r["subject"]["reference"], r["totalGross"]["value"], r["status"]) for k, r in invoices.items()} == {
        str(b): (f"Patient/{patients[str(pid)]['id']}", amount,
                 "entered-in-error" if b == clinic.dirty["deleted_bill"] else "issued")
        for b, (pid, amount, _) in clinic.bills.items()}
    [bills] = [e for e in json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"][
        "entities"] if e["entity"] == "receipt"]
    assert (bills["statuses_kept_as_recorded"], bills["field_defects"]) == (0, {})  # every letter read: none unread
    items = _resources(bag, "ChargeItem")
    assert sorted((i["code"]["text"], i["subject"]["reference"], i["extension"][0]["valueReference"]["reference"],
                   i["occurrenceDateTime"] == invoices[str(1 + (int(k) - 1) // 2)]["date"]) for k, i in items.items()
                  ) == sorted((name, f"Patient/{patients[str(pid)]['id']}", f"Invoice/{invoices[str(b)]['id']}", True)
                              for b, (pid, _, _) in clinic.bills.items() for name in ("진찰료", "약제비"))
    paid = _resources(bag, "PaymentReconciliation")
    assert {k: (p["extension"][0]["valueReference"]["reference"], p["paymentAmount"]["value"],
                p["detail"][0]["request"]["reference"]) for k, p in paid.items()} == {
        str(b): (f"Patient/{patients[str(pid)]['id']}", amount, f"Invoice/{invoices[str(b)]['id']}")
        for b, (pid, _, amount) in clinic.bills.items()}
    # a therapy's drug is THR_MDSR_ID, an integer id into MEDICALDSR (named by its column prefix MDSR_): its code
    # and name (MDSR_CODE, MDSR_DESC) joined in (was: no name column, THERAPIES carried)
    statements = _resources(bag, "MedicationStatement")
    assert {k: (m["subject"]["reference"], m["medicationCodeableConcept"]["text"],
                m["medicationCodeableConcept"]["coding"][0]["code"]) for k, m in statements.items()} == {
        str(t): (f"Patient/{patients[str(pid)]['id']}", MEDICALS[drug][1], MEDICALS[drug][0])
        for t, (pid, drug) in clinic.therapies.items()}
    # a master's description is its name (EXAM.EXA_DESC, VACCINE.VAC_DESC; was: the code alone)
    labs = _resources(bag, "Observation", "LABORATORY")
    assert {k: o["code"]["text"] for k, o in labs.items()} == {
        str(n): EXAMS[list(EXAMS)[n % 4]][0] for n in range(1, 61)}
    # a multi-row exam (URI) a DiagnosticReport listing its LABORATORYROW rows, each an Observation of the exam's
    # patient, day and code, its LABR_DESC the value (was: LABORATORYROW carried raw, no report)
    reports = _resources(bag, "DiagnosticReport")
    rows = _resources(bag, "Observation", "LABORATORYROW")
    by_id = {o["id"]: o for o in rows.values()}
    assert {k: (r["subject"], r["code"]["text"], [(by_id[x["reference"].removeprefix("Observation/")]["valueString"],
                                                   by_id[x["reference"].removeprefix("Observation/")]["subject"])
                                                  for x in r["result"]]) for k, r in reports.items()} == {
        str(n): (labs[str(n)]["subject"], EXAMS["URI"][0], [("단백", labs[str(n)]["subject"]),
                                                          ("당", labs[str(n)]["subject"])])
        for n in range(1, 61) if list(EXAMS)[n % 4] == "URI"}
    assert {o["effectiveDateTime"] for o in rows.values()} <= {o["effectiveDateTime"] for o in labs.values()}
    shots = _resources(bag, "Immunization")
    assert {k: i["vaccineCode"]["text"] for k, i in shots.items()} == {
        str(s): VACCINES[list(VACCINES)[s % 4]][0] for s in range(1, 41)}
    scan = _scanned(clinic, tmp_path)
    assert (scan["cells"], [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]]) == (
        # was (the names after the prefix unread): carried_raw 9860, mapped 80 (the patients' key and name), source
        # 9940: USERS carried with its password hashes (US_PASSWD, now read as PASSWD: the table skipped). Then
        # carried_raw 8275, mapped 1620, quarantined 21, source less 24, transformed 80; now the diagnosis sections'
        # rows of 5 cells more (4 read again, the name joined in), each exported one's recorded date (OPD_DATE, a
        # DATETIME as a date) and joined name carried raw as transformed; LAB_STATUS (all 'DONE') read as the lab
        # result's status (DONE → final); BILLS, BILLITEMS, BILLPAYMENTS, THERAPIES read (their joined cells). Then
        # carried_raw 7933, mapped 2862: ADMISSION's key, patient, admission and discharge days and deletion flag
        # (20 rows × 5) mapped as in-patient encounters; then carried_raw 7833, mapped 2962, transformed 538:
        # BLL_STATUS read, the deleted bill's D mapped (entered-in-error), the 29 others' O and C an ordinary
        # Invoice (issued), their letters kept in the column sidecar (transformed); then carried_raw 7832, mapped
        # 2963, transformed 567: the 15 exams with rows read again as lab reports (their 19 cells each, the name
        # joined in), their 30 rows lab results (the exam's patient, day and code joined in; LABR_LAB_ID, the
        # report_id, kept in the column sidecar); then carried_raw 8012, mapped 3173, transformed 612: the 35
        # diagnoses in and out of the admissions (codes counts them), read as the visits' are
        # Then the codes of the exported visits and stays counted and kept by the diagnosis sections only, and the
        # lab reports' 13 columns read again by them only (were carried raw with the Encounter and the lab result too)
        # Then mapped 3278, transformed 682: the 149 exported diagnoses' KCD codes (80 + 26 + 8 of the visits, 20 + 15
        # of the stays) each also carried raw, looked for under the recorded-code system; now read from their coding
        {"carried_raw": 8082 - (codes - 1) - EXAMS_WITH_ROWS * 13 - 149, "mapped": 3278 + 149, "quarantined": 26,
         "source": clinic.cells - 2 * 12 + 4 * codes + 1 + JOINED + REPORTS_READ + REPORTS_JOINED
         - EXAMS_WITH_ROWS * 13, "transformed": 682 - 149},
        [("patient", 40, 0), ("encounter", 80, 1), ("encounter_admission", 20, 0), ("diagnosis_opd_dis_id_a", 80, 1),
         ("diagnosis_opd_dis_id_a_2", 26, 0), ("diagnosis_opd_dis_id_a_3", 8, 0), ("diagnosis_adm_in_dis_id_a", 20, 0),
         ("diagnosis_adm_out_dis_id_a", 15, 0), ("lab_result", 60, 0), ("lab_result_laboratoryrow", 30, 0), ("receipt", 30, 0), ("fee_line", 60, 0), ("immunization", 40, 0),
         ("vital_signs", 60, 0), ("medication_statement", 40, 0), ("lab_report", 15, 0), ("payment", 30, 0)])
