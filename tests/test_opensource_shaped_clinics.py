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


def _resources(bag: Path, kind: str, table: str | None = None) -> dict[str, dict[str, Any]]:
    """Source key → the resource (its first source identifier); only the rows of ``table``, if given (two sections
    of one kind: their keys may be the same)."""
    found = [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
             for line in path.read_bytes().splitlines()]
    return {source["value"]: r for r in found
            if (source := next(i for i in r["identifier"] if i["system"].startswith("urn:emr-exporter:source")))
            and (table is None or source["system"].endswith(f":{table}"))}


def test_an_openmrs_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic = create_openmrs_clinic(mariadb_conn_str)
    # every cell but the skipped users' (3 rows of 19 columns); the reconciliation also counts the cells the sections'
    # queries join in: the person's 7 fields (gender, birth date, dead, death date, family and given name from
    # person_name, voided) for each of the 36 patients; a diagnosis's ICD code and name from the concept it names
    # and its visit's date (91 rows), and so a condition's (10 rows); an order's and an allergy's code and name from
    # their concept (36 and 8 rows); a lab obs's code and name from its concept (24 rows). An obs's patient is its
    # own person_id (patient.patient_id is the person's id), not its visit's joined in (was: one more cell for
    # each of the 475 - 90 obs rows read by a section)
    assert through_the_flow(clinic, tmp_path, 7 * 36 + 3 * 91 + 3 * 10 + 2 * 36 + 2 * 8 + 2 * 24) == (
        clinic.cells - 3 * 19)
    bag = _bag(tmp_path)
    vitals = ("systolic", "diastolic", "pulse", "temperature", "weight")
    read = {"patient": ("patient",), "encounter": ("encounter",), "encounter_diagnosis": ("diagnosis",),
            "orders": ("order_line",), "allergy": ("allergy",), "conditions": ("diagnosis_conditions",),
            "obs": tuple(sorted(["lab_obs", *(f"vital_obs_{k}" for k in (*vitals, "other"))]))}
    assert _fates(bag) == {t: read.get(t, "skipped" if t == "users" else "carried") for t in OPENMRS_TABLES}
    # the patient with no name row quarantined, and the 4 encounters of its 2 visits as orphans (and its 4
    # diagnoses); the 7 diagnoses given only as text (diagnosis_non_coded, no concept: no code) exported as
    # Conditions of that text (were quarantined as required-missing: below); the staff's persons (1-3) are no
    # patients: rows of person, carried raw. conditions (the problem list, shaped otherwise than
    # encounter_diagnosis) is read by a section of its own (was carried raw), its 5 conditions given only as text too
    assert _entities(bag) == {("patient", "patient", 36, 35, 1), ("encounter", "encounter", 144, 140, 4),
                              ("diagnosis", "encounter_diagnosis", 91, 87, 4),
                              ("diagnosis_conditions", "conditions", 10, 10, 0), ("order_line", "orders", 36, 36, 0),
                              ("allergy", "allergy", 8, 8, 0),
                              # obs (EAV: one row per value of a concept): a vital-signs section per concept
                              # concept_name names as a vital sign (was: obs carried raw whole); the 2 obs of the
                              # nameless patient's visit orphans, and the temperature of a deleted encounter
                              *((f"vital_obs_{k}", "obs", 72, 70, 2) for k in vitals if k != "temperature"),
                              ("vital_obs_temperature", "obs", 73, 70, 3),
                              # the haemoglobin rows (a concept of class Test, numeric): lab results
                              ("lab_obs", "obs", 24, 24, 0)}
    # every other concept's row (the note, the vital-signs group) carried whole with its reason (was: quarantined)
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert [(c["section"], c["carried"], c["source_rows"]) for c in report["carried_sections"]] == [
        ("vital_obs_other", 90, 90)]
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    # voided (OpenMRS's soft delete): was not recognised, the voided patient exported as an ordinary one
    assert (spec["entities"]["patient"]["fields"]["active"], spec["entities"]["encounter"]["fields"]["status"]) == (
        {"column": "SCAFFOLD_P_VOIDED", "type": "bool", "map": {"1": False, "0": True}},
        {"column": "voided", "type": "status", "map": {"1": "entered-in-error", "0": ""}})
    patients = _resources(bag, "Patient")
    assert [k for k, p in patients.items() if not p["active"]] == [str(clinic.dirty["voided_patient"])]
    # was: the admin, the doctor and the nurse (persons 1-3) exported as Patients
    assert sorted(int(k) for k in patients) == sorted(p for p, (name, _, _) in clinic.people.items() if name)
    for pid, (name, gender, birth) in clinic.people.items():
        if name is not None:
            found = patients[str(pid)]
            assert (found["name"], found["gender"], found["birthDate"]) == (
                [{"text": name}], {"M": "male", "F": "female", "O": "other"}[gender], birth.isoformat())
    # the preferred name, though its row comes second
    assert patients[str(clinic.dirty["two_names"])]["name"][0]["text"] != "옛이름"
    # a diagnosis holds the concept's id: the ICD-10 code from concept_reference_term (through concept_reference_map),
    # the name from concept_name (was: encounter_diagnosis carried raw)
    conditions = _resources(bag, "Condition", "encounter_diagnosis")
    assert {k: (c["code"]["coding"][0]["code"], c["code"]["text"]) for k, c in conditions.items()
            if k in ("1", "2", "3")} == {"1": ("J00", "Acute nasopharyngitis"), "2": ("I10", "Essential hypertension"),
                                         "3": ("K29.7", "Gastritis, unspecified")}
    allergies = _resources(bag, "AllergyIntolerance")
    assert {a["code"]["text"] for a in allergies.values()} == {"Penicillin", "Acetaminophen"}
    # allergies 4 and 8 name a concept and hold a text (non_coded_allergen '꽃가루') too: the concept's name wins, the
    # text falls back only where no concept names the allergen (carried raw here, found again by the cell check)
    assert (allergies["4"]["code"]["text"], allergies["8"]["code"]["text"]) == ("Penicillin", "Penicillin")
    # a diagnosis given only as text (diagnosis_non_coded), where no concept names it: a Condition whose code is that
    # text alone (FHIR's CodeableConcept may hold only text; no code made from it). Was quarantined (required field
    # 'code' is empty); now only the orphans are
    quarantined = [json.loads(line) for path in sorted(bag.glob("data/raw/diagnosis.*.ndjson"))
                   for line in path.read_bytes().splitlines()]
    assert [q["reason"] for q in quarantined if q["row"]["diagnosis_coded"] is None] == []
    text_only = {k: c for k, c in conditions.items() if "coding" not in c["code"]}
    assert sorted(int(k) for k in text_only) == [10, 23, 35, 48, 61, 73, 86]
    patient_ids = sorted(clinic.people)
    encounters = _resources(bag, "Encounter")
    # visit 7 (its consultation is encounter 16, its patient the 8th), diagnosis 10: a third one after its two coded
    assert text_only["10"] == {
        "resourceType": "Condition", "id": text_only["10"]["id"],
        "identifier": [{"system": "urn:emr-exporter:source:foreign:encounter_diagnosis", "use": "secondary",
                        "value": "10"}],
        "meta": {"tag": [{"code": "medical-record", "display": "10 years", "system": "urn:emr-exporter:retention"}]},
        "extension": [{"url": "urn:emr-exporter:fhir:extension:primary-diagnosis", "valueBoolean": False},
                      {"url": "urn:emr-exporter:fhir:extension:recorded-status", "valueString": "0"}],
        "category": [{"coding": [
            {"code": "진단", "system": "http://www.hl7korea.or.kr/fhir/krcore/CodeSystem/krcore-condition-category-types"},
            {"code": "encounter-diagnosis", "display": "Encounter Diagnosis",
             "system": "http://terminology.hl7.org/CodeSystem/condition-category"}]}],
        "code": {"text": "원인 미상의 어지럼증"},
        "subject": {"reference": f"Patient/{patients[str(patient_ids[7])]['id']}"},
        "encounter": {"reference": f"Encounter/{encounters['16']['id']}"},
        "recordedDate": "2024-03-11"}
    # conditions: its own section, ids of its own (its keys 1-10 are encounter_diagnosis's too); condition 1 names
    # concept 3002 (I10), condition 2 only the text '만성 위염'; no encounter (none recorded): no visit date, so no
    # KCD edition (the code's system says so) and no recordedDate; the onset is the condition's own
    problems = _resources(bag, "Condition", "conditions")
    assert len(problems) == 10 and not {c["id"] for c in problems.values()} & {c["id"] for c in conditions.values()}
    assert problems["1"] == {
        "resourceType": "Condition", "id": problems["1"]["id"],
        "identifier": [{"system": "urn:emr-exporter:source:foreign:conditions", "use": "secondary", "value": "1"}],
        "meta": {"tag": [{"code": "medical-record", "display": "10 years", "system": "urn:emr-exporter:retention"}]},
        "extension": [{"url": "urn:emr-exporter:fhir:extension:primary-diagnosis", "valueBoolean": False},
                      {"url": "urn:emr-exporter:fhir:extension:recorded-status", "valueString": "0"}],
        "category": text_only["10"]["category"],
        "code": {"coding": [{"code": "I10", "system": "urn:emr-exporter:kcd-edition-unknown"}],
                 "text": "Essential hypertension"},
        "subject": {"reference": f"Patient/{patients[str(patient_ids[3])]['id']}"},
        "onsetDateTime": "2021-02-03"}
    assert {k: c["code"] for k, c in problems.items() if "coding" not in c["code"]} == {
        str(i): {"text": "만성 위염"} for i in (2, 4, 6, 8, 10)}
    # the first visit's vitals (obs 2-6: systolic 110, diastolic 65, pulse 60, 36.4 ℃, 50.5 kg), each its own
    # Observation with its LOINC code and the value as recorded (no unit: OpenMRS keeps it in the concept)
    observations = _resources(bag, "Observation")
    assert {k: (o["code"]["coding"][0]["code"], o.get("valueQuantity") or o["component"][0]["valueQuantity"])
            for k, o in observations.items() if k in ("2", "3", "6")} == {
        "2": ("85354-9", {"value": 110}), "3": ("85354-9", {"value": 65}), "6": ("29463-7", {"value": 50.5})}
    assert observations["3"]["component"][0]["code"]["coding"][0]["code"] == "8462-4"  # the diastolic one
    others = [json.loads(line) for path in sorted(bag.glob("data/raw/sections/vital_obs_other.*.ndjson"))
              for line in path.read_bytes().splitlines()]
    assert {o["row"]["concept_id"] for o in others} == {160, 1114}
    # obs 7: the first visit's haemoglobin (11.5; no unit, so the text as recorded), its code through
    # concept_reference_map (the clinic's own lab-code system: the export does not claim LOINC), its name from
    # concept_name (the preferred one)
    lab = observations["7"]
    assert (lab["code"], lab.get("valueString")) == ({"coding": [
        {"code": "718-7", "display": "Hemoglobin", "system": "urn:emr-exporter:hira-krnpi:12345678:lab-code"}],
        "text": "Hemoglobin"}, "11.5")
    assert len(others) == 90 and not list(bag.glob("data/raw/vital_obs_other.*"))  # none quarantined


def test_a_gnuhealth_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_gnuhealth_clinic(postgres_conn_str)
    # every cell but the skipped res_user's (3 rows of 11 columns); the reconciliation also counts the cells the
    # sections' queries join in: the four columns the patient section joins in from party_party (name, lastname,
    # gender, dob), for each of the 40 patients; the lab's patient for each of the 72 result lines; a disease's code
    # and name from its gnuhealth_pathology (40 rows); a prescription line's drug name from its gnuhealth_medicament
    # and its order's patient and state (68 lines); a vaccination's vaccine name from its gnuhealth_medicament (24
    # rows)
    assert through_the_flow(clinic, tmp_path, 4 * 40 + 72 + 2 * 40 + 3 * 68 + 24) == clinic.cells - 3 * 11
    bag = _bag(tmp_path)
    read = {"gnuhealth_patient": ("patient",), "gnuhealth_patient_allergy": ("allergy",),
            "gnuhealth_patient_evaluation": ("vital_signs",), "gnuhealth_lab_test_critearea": ("lab_result",),
            "gnuhealth_patient_disease": ("diagnosis",), "gnuhealth_prescription_line": ("order_line",),
            "gnuhealth_vaccination": ("immunization",), "res_user": "skipped"}
    assert _fates(bag) == {t: read.get(t, "carried") for t in GNUHEALTH_TABLES}
    # the patient whose party has no first name quarantined (incomplete name) with its 3 evaluations (orphans);
    # the orphan evaluation (patient 999) quarantined; the 7 with nothing measured exported, each mapped measurement
    # an Observation with dataAbsentReason unknown (were quarantined unmappable); the 1 result line of that
    # patient's lab an orphan too
    assert _entities(bag) == {("patient", "gnuhealth_patient", 40, 39, 1),
                              ("lab_result", "gnuhealth_lab_test_critearea", 72, 71, 1),
                              ("allergy", "gnuhealth_patient_allergy", 12, 12, 0),
                              ("vital_signs", "gnuhealth_patient_evaluation", 120, 116, 4),
                              ("diagnosis", "gnuhealth_patient_disease", 40, 39, 1),
                              ("order_line", "gnuhealth_prescription_line", 68, 68, 0),
                              ("immunization", "gnuhealth_vaccination", 24, 23, 1)}
    # Tryton's ``state`` (a selection) read as the record's status: an evaluation signed or done is final, a
    # vaccination done completed (was carried raw; read so, a signed one would be kept as recorded: unknown)
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    assert [spec["entities"][e]["fields"]["status"] for e in ("vital_signs", "immunization")] == [
        {"column": "state", "type": "status", "map": {"done": "final", "signed": "final"}},
        {"column": "state", "type": "status", "map": {"done": "completed"}}]
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
    assert len({v["id"].split("-")[0] for v in observations}) == 116 + 71  # the vital-sign sets and the lab results
    blank = {v["id"].split("-")[0] for v in observations if "dataAbsentReason" in v or any(
        "dataAbsentReason" in c for c in v.get("component", []))}
    assert len(blank) == 7 and all(  # every Observation of those 7 sets without a value, unknown
        "valueQuantity" not in str(v) and "'code': 'unknown'" in str(v)
        for v in observations if v["id"].split("-")[0] in blank)
    # a disease, a vaccination and a prescription line hold their patient (or order) as the Many2One named ``name`` and
    # the pathology, vaccine and drug as ids: the code and name are the dictionary's (were: carried raw)
    conditions = _resources(bag, "Condition")
    assert {k: (c["code"]["coding"][0]["code"], c["code"]["text"]) for k, c in conditions.items() if k in ("1", "2")} \
        == {"1": ("I10", "본태성 고혈압"), "2": ("K29.7", "상세불명의 위염")}
    assert conditions["1"]["subject"]["reference"] == f"Patient/{patients['4']['id']}"  # disease 1: name = patient 4
    immunizations = _resources(bag, "Immunization")
    assert {i["vaccineCode"]["text"] for i in immunizations.values()} == {"인플루엔자 백신"}
    assert str(clinic.dirty["dateless_vaccination"]) not in immunizations
    requests = _resources(bag, "ServiceRequest")  # an order line with no code system: a ServiceRequest
    assert {k: r["code"]["text"] for k, r in requests.items() if k in ("1", "2")} == {
        "1": "amlodipine", "2": "amoxicillin"}
    # line 1's order is order 1, whose patient is 6 (the order's, joined in: the line's own ``name`` is the order)
    assert requests["1"]["subject"]["reference"] == f"Patient/{patients['6']['id']}"
    # a line has no status of its own: its order's state (done completed, draft draft; was: every line unknown)
    lines = [o for o in range(1, 46) for _ in range(1 + o % 2)]
    assert {k: r["status"] for k, r in requests.items()} == {
        str(k): "completed" if o % 6 else "draft" for k, o in enumerate(lines, 1)}
