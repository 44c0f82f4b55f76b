"""Generated patient data for an OpenEMR database (schema from ../shared/fixtures/openemr/database.sql).

Every row is made up here (no OpenEMR data or code): a few patients with visits and every table the
OpenEMR connector maps, plus the quirks of real OpenEMR databases — zero dates, soft-deleted and
"added erroneously" rows, `TYPE:CODE` lists, `list_options` codes, documents on disk (one missing, one
encrypted). While inserting, the generator writes down what the export must report for each connector
section: exported rows and quarantined rows by reason.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyodbc

PATIENTS = 8
PID_BASE = 100  # generated patients are pid 101…108; OpenEMR's own example patients keep their pids (1…41)
PROVIDER_IDS = (1, 2)
STAFF_ID = 3  # a front-desk user: not a provider
ADDRESS_BOOK_ID = 4  # an address-book entry (no username)
SITE_DOCUMENTS = "/var/www/localhost/htdocs/openemr/sites/default/documents"
FIRST_NAMES = ("민준", "서연", "Ana", "John", "지호", "Maria", "하은", "Lee")
LAST_NAMES = ("김", "이", "Silva", "Smith", "박", "Garcia", "최", "Chen")


@dataclass
class Expected:
    """What the export must report: section → exported count, section → reason → quarantined count."""

    exported: Counter[str] = field(default_factory=Counter)
    quarantined: dict[str, Counter[str]] = field(default_factory=dict)
    documents: dict[int, bytes] = field(default_factory=dict)  # documents.id → bytes of exported files
    encrypted_document: int = 0
    deleted_document: int = 0
    zero_date_encounter: int = 0  # its form_encounter.id
    zero_dob_pid: int = 0
    multi_code_problem: int = 0
    statuses: dict[tuple[str, int], str] = field(default_factory=dict)  # (section, key) → status
    # (section, key) → the FHIR status written (status, or clinical/verification for allergies), for every
    # row of the sections whose statuses the test checks one by one
    fhir_statuses: dict[tuple[str, int], str] = field(default_factory=dict)
    kept_as_recorded: Counter[str] = field(default_factory=Counter)  # section → statuses with no FHIR code
    vitals_measurements: dict[int, set[str]] = field(default_factory=dict)  # form_vitals.id → measurements
    lab_report_results: dict[int, list[int]] = field(default_factory=dict)  # report id → result ids

    def ok(self, section: str, n: int = 1) -> None:
        self.exported[section] += n

    def bad(self, section: str, reason: str) -> None:
        self.quarantined.setdefault(section, Counter())[reason] += 1


class _Inserter:
    def __init__(self, conn: pyodbc.Connection) -> None:
        self.cursor = conn.cursor()

    def __call__(self, table: str, **values: Any) -> None:
        columns = ", ".join(f"`{name}`" for name in values)
        marks = ", ".join("?" for _ in values)
        self.cursor.execute(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", list(values.values()))

    def raw(self, sql: str) -> None:
        self.cursor.execute(sql)


def populate(conn: pyodbc.Connection, documents_root: Path, seed: int = 8) -> Expected:
    """Insert the generated clinic into an empty OpenEMR database; files go under ``documents_root``."""
    rng = random.Random(seed)
    exp = Expected()
    ins = _Inserter(conn)
    ins.raw("SET SESSION sql_mode = ''")  # zero dates, as legacy MySQL installations allowed them
    ins.raw("UPDATE version SET v_major = 8, v_minor = 2, v_patch = 0, v_tag = '-dev', v_database = 541")
    ins.raw("UPDATE facility SET name = 'Generated Family Clinic', street = '1 Test Road', city = 'Seoul', phone = '02-000-0000'")

    # users: two providers, one staff member, one address-book entry
    ins("users", id=1, username="drkim", authorized=1, fname="Doyun", lname="Kim", specialty="Family Medicine",
        physician_type="physician", state_license_number="MD-0001")
    ins("users", id=2, username="drpark", authorized=1, fname="Seoyeon", lname="Park", specialty="Internal Medicine")
    ins("users", id=STAFF_ID, username="frontdesk", authorized=0, fname="Front", lname="Desk")
    ins("users", id=ADDRESS_BOOK_ID, username="", authorized=0, fname="Outside", lname="Lab", abook_type="spe")
    ins("insurance_companies", id=1, name="Generated Health Plan", ins_type_code=2)
    ins("insurance_companies", id=2, name="Sample Mutual", ins_type_code=6)
    exp.ok("practitioner", 2)
    exp.bad("practitioner", "not-a-provider")
    exp.bad("practitioner", "not-a-provider")

    sexes = ("Female", "Male", "UNK", "Female", "Male", "Male", "Female", "")
    encounter_no = 1000
    list_id = doc_id = order_id = report_id = 0
    for pid in range(1, PATIENTS + 1):
        dob = f"19{50 + pid:02d}-0{1 + pid % 9}-1{pid % 10}"
        if pid == 3:
            dob = "0000-00-00"
            exp.zero_dob_pid = PID_BASE + pid
        ins("patient_data", pid=PID_BASE + pid, id=PID_BASE + pid, pubpid="" if pid == 5 else f"C-{pid:04d}",
            fname=FIRST_NAMES[pid - 1], lname=LAST_NAMES[pid - 1], DOB=dob, sex=sexes[pid - 1],
            street=f"{pid} Sample-ro", city="Seoul", postal_code=f"0{pid}000", phone_cell=f"010-0000-{pid:04d}",
            regdate="2020-01-0" + str(pid % 9 + 1))
        exp.ok("patient")
        # insurance: a primary policy; patients 2 and 3 changed insurance (an ended earlier period); patient 4
        # has a secondary one; patient 6 has OpenEMR's empty placeholder row (no company)
        ins("insurance_data", pid=PID_BASE + pid, type="primary", provider="1", policy_number=f"POL{pid}",
            date="2020-01-01", subscriber_relationship="self" if pid != 7 else "spouse",
            subscriber_fname="Sub", subscriber_lname=f"Scriber{pid}", plan_name="Basic")
        exp.ok("insurance")
        if pid in (2, 3):
            ins("insurance_data", pid=PID_BASE + pid, type="primary", provider="2", policy_number=f"OLD{pid}",
                date="2017-03-01", date_end="2019-12-31", subscriber_relationship="self")
            exp.ok("insurance")
        if pid == 4:
            ins("insurance_data", pid=PID_BASE + pid, type="secondary", provider="2", policy_number="SEC4",
                date="2021-05-01", subscriber_relationship="child")
            exp.ok("insurance")
        if pid == 6:
            ins("insurance_data", pid=PID_BASE + pid, type="secondary", provider="", date="2020-01-01")
            exp.bad("insurance", "no-coverage")

        encounters = []
        for visit in range(2):
            encounter_no += 1
            provider = PROVIDER_IDS[visit % 2] if pid != 2 else STAFF_ID  # a staff user as provider: no practitioner
            visit_date = f"2024-{pid:02d}-1{visit} 09:30:00"
            ins("form_encounter", pid=PID_BASE + pid, encounter=encounter_no, date=visit_date, provider_id=provider,
                facility="Generated Family Clinic", facility_id=3, class_code="AMB" if visit == 0 else "IMP",
                reason="check-up" if visit == 0 else f"Admitted for pneumonia {pid}",
                discharge_disposition=None if visit == 0 else ("home", "other-hcf", "self-aadvice")[pid % 3],
                date_end=None if visit == 0 else f"2024-{pid:02d}-14 11:00:00")
            exp.ok("encounter")
            encounters.append((encounter_no, visit_date))

            # billing: a procedure line with a fee, a diagnosis line; one line deleted from the fee sheet
            ins("billing", pid=PID_BASE + pid, encounter=encounter_no, date=visit_date, code_type="CPT4", code="99213",
                code_text="Office visit", units=1, fee=75.5 + pid, activity=1, authorized=1, provider_id=1)
            ins("billing", pid=PID_BASE + pid, encounter=encounter_no, date=visit_date, code_type="ICD10", code="J20.9",
                code_text="Acute bronchitis", units=1, fee=0, activity=0 if (pid, visit) == (1, 0) else 1)
            exp.ok("fee_line", 2)
            if (pid, visit) == (1, 1):  # a line whose visit number does not exist for this patient
                ins("billing", pid=PID_BASE + pid, encounter=99999, date=visit_date, code_type="CPT4", code="99000",
                    code_text="Handling", units=1, fee=5, activity=1)
                exp.bad("fee_line", "orphan")

            # vitals through the forms registry
            ins("form_vitals", pid=PID_BASE + pid, date=visit_date, bps="12" + str(pid), bpd="80", weight=150 + pid, height=66,
                temperature=98.6, pulse=70 + visit, respiration=16, activity=1, oxygen_saturation=98,
                BMI=24.3 if visit == 0 else 0, temp_method="Oral" if visit == 0 else None)
            vitals_id = _last_id(ins)
            ins("forms", date=visit_date, encounter=encounter_no, form_name="Vitals", form_id=vitals_id, pid=PID_BASE + pid,
                formdir="vitals", deleted=1 if (pid, visit) == (2, 1) else 0)
            exp.ok("vitals")
            exp.vitals_measurements[vitals_id] = {"bp", "weight", "height", "temp", "pulse", "resp", "spo2"} | (
                {"bmi"} if visit == 0 else set())
            if (pid, visit) == (2, 1):
                exp.statuses[("vitals", vitals_id)] = "entered-in-error"
            if (pid, visit) == (8, 1):  # a vitals form saved with nothing measured: no Observation to write
                ins("form_vitals", pid=PID_BASE + pid, date=visit_date, activity=1)
                empty_id = _last_id(ins)
                ins("forms", date=visit_date, encounter=encounter_no, form_name="Vitals", form_id=empty_id,
                    pid=PID_BASE + pid, formdir="vitals", deleted=0)
                exp.bad("vitals", "unmappable")

        # a visit whose date is the zero date: quarantined with its raw text, nothing hangs on it
        if pid == 4:
            encounter_no += 1
            ins("form_encounter", pid=PID_BASE + pid, encounter=encounter_no, date="0000-00-00 00:00:00", provider_id=1,
                facility_id=3)
            exp.bad("encounter", "invalid-date")
            exp.zero_date_encounter = _last_id(ins)  # form_encounter.id: the key visits are exported by

        first_encounter, first_date = encounters[0]

        # SOAP note on the first visit; patient 6's SOAP form was deleted
        ins("form_soap", pid=PID_BASE + pid, date=first_date, user="drkim", activity=1, subjective="Cough for 3 days, 기침",
            objective="Lungs: scattered wheeze", assessment="Acute bronchitis", plan="Rest, fluids")
        soap_id = _last_id(ins)
        ins("forms", date=first_date, encounter=first_encounter, form_name="SOAP", form_id=soap_id, pid=PID_BASE + pid,
            formdir="soap", deleted=1 if pid == 6 else 0)
        exp.ok("soap_note")
        if pid == 6:
            exp.statuses[("soap_note", soap_id)] = "entered-in-error"

        # clinical note (encounter kept as text in this table); one deleted (activity 0)
        ins("form_clinical_notes", form_id=pid, pid=PID_BASE + pid, date=first_date[:10], encounter=str(first_encounter),
            user="drpark", activity=0 if pid == 7 else 1, code="LOINC:11506-3", codetext="Progress note",
            description=f"Follow-up in {pid} weeks", clinical_notes_type="progress_note")
        exp.ok("clinical_note")

        # patient notes: one ordinary, one deleted
        ins("pnotes", pid=PID_BASE + pid, date=first_date, title="Other", body=f"Called patient {pid} about results",
            user="frontdesk", activity=1, deleted=0)
        exp.ok("patient_note")
        if pid in (1, 8):
            ins("pnotes", pid=PID_BASE + pid, date=first_date, title="Other", body="Wrong chart", user="drkim", activity=1,
                deleted=1)
            exp.ok("patient_note")

        # lists: problems (TYPE:CODE lists), allergy, medication, surgery, device
        list_id += 1
        diagnosis = "ICD10:J20.9;ICD10:R05" if pid % 2 else "ICD10:I10"
        ins("lists", id=list_id, pid=PID_BASE + pid, type="medical_problem", title="Acute bronchitis" if pid % 2 else "Hypertension",
            diagnosis=diagnosis, begdate="2024-01-05 00:00:00", activity=0 if pid == 2 else 1, date=first_date,
            enddate="2024-03-01 00:00:00" if pid == 4 else ("0000-00-00 00:00:00" if pid == 6 else None))
        exp.ok("problem")
        if pid % 2 and not exp.multi_code_problem:
            exp.multi_code_problem = list_id
        if pid in (2, 4):  # activity 0; ended (a zero end date is no end)
            exp.statuses[("problem", list_id)] = "inactive"
        # allergy: every verification and clinical status OpenEMR records
        list_id += 1
        verification = {2: "unconfirmed", 5: "entered-in-error", 7: "refuted"}.get(pid, "confirmed")
        severity = {1: "severe", 2: "mild", 7: "fatal", 8: "mild_to_moderate"}.get(pid, "")
        ins("lists", id=list_id, pid=PID_BASE + pid, type="allergy", title="Penicillin" if pid != 8 else "Shellfish",
            reaction="hives" if pid != 3 else "shortness_of_breath", activity=0 if pid == 3 else 1,
            begdate="2010-01-01 00:00:00", date=first_date, verification=verification, severity_al=severity,
            diagnosis="RXCUI:7980" if pid in (1, 2) else None, outcome=1 if pid == 6 else 0,
            enddate="2020-01-01 00:00:00" if pid == 4 else None)
        exp.ok("allergy")
        clinical = "resolved" if pid == 6 else "inactive" if pid in (3, 4) else "active"
        exp.fhir_statuses[("allergy", list_id)] = (
            "entered-in-error" if verification == "entered-in-error" else f"{clinical}/{verification}")
        list_id += 1
        ins("lists", id=list_id, pid=PID_BASE + pid, type="medication", title="Amlodipine 5 mg", diagnosis="RXCUI:197361",
            begdate="2023-05-01 00:00:00", activity=1 if pid != 3 else 0, date=first_date,
            enddate="2024-01-31 00:00:00" if pid == 4 else None)
        exp.ok("medication_list")
        exp.fhir_statuses[("medication_list", list_id)] = {3: "stopped", 4: "completed"}.get(pid, "active")
        if pid in (1, 5):
            list_id += 1
            ins("lists", id=list_id, pid=PID_BASE + pid, type="surgery", title="Appendectomy", diagnosis="CPT4:44950",
                begdate="2001-07-01 00:00:00", activity=1, date=first_date)
            exp.ok("surgery")
        if pid == 1:
            list_id += 1  # a problem with a zero onset date: the onset is left out, the problem exported
            ins("lists", id=list_id, pid=PID_BASE + pid, type="health_concern", title="Fatigue", diagnosis="ICD10:R53.83",
                begdate="0000-00-00 00:00:00", activity=1, date=first_date)
            exp.ok("problem")
            list_id += 1  # a problem nobody coded
            ins("lists", id=list_id, pid=PID_BASE + pid, type="medical_problem", title="Back pain", diagnosis="", activity=1,
                date=first_date)
            exp.bad("problem", "required-missing")
            list_id += 1
            ins("lists", id=list_id, pid=PID_BASE + pid, type="medical_device", title="Pacemaker", activity=1, date=first_date)
            exp.bad("problem", "no-canonical-entity")

        # prescription (active, one stopped; one with a dosage that is not a number)
        ins("prescriptions", patient_id=PID_BASE + pid, encounter=first_encounter, provider_id=1, start_date=first_date[:10],
            date_added=first_date, drug="Amoxicillin 500 mg", rxnorm_drugcode="308182",
            dosage="1" if pid != 4 else "one to two", unit=1, route="PO", active=0 if pid == 3 else 1,
            quantity="21", refills=0, txDate=first_date[:10])
        exp.ok("prescription")

        # immunizations: one per patient: given, refused (with its reason), not given, partial, added
        # erroneously, and one completion status OpenEMR's list does not have
        completion = {2: "Refused", 3: "Not_Administered", 4: "Partially_Administered", 6: None,
                      7: "Maybe later"}.get(pid, "Completed")
        ins("immunizations", patient_id=PID_BASE + pid, administered_date=first_date, cvx_code="140", manufacturer="Generated",
            lot_number=f"LOT{pid}", administered_by_id=2, amount_administered=0.5, amount_administered_unit="mL",
            route="intramuscular", added_erroneously=1 if pid == 5 else 0, update_date=first_date,
            encounter_id=first_encounter, completion_status=completion, administration_site="left_deltoid",
            refusal_reason="parental_decision" if pid == 2 else None, expiration_date="2025-06-30")
        immunization_id = _last_id(ins)
        # Immunization has no "unknown" status: "Maybe later" is exported with the usual status (completed), the
        # value as recorded beside it and its cell carried raw as status-unread, counted; never a guessed not-done
        # (before 2026-12: quarantined unmappable)
        exp.ok("immunization")
        exp.fhir_statuses[("immunization", immunization_id)] = (
            "entered-in-error" if pid == 5 else "not-done" if pid in (2, 3) else "completed")
        if pid == 7:
            exp.kept_as_recorded["immunization"] += 1

        # lab order with two codes, a report and results (abnormal flags from list_options)
        if pid <= 4:
            order_id += 1
            ins("procedure_order", procedure_order_id=order_id, patient_id=PID_BASE + pid, encounter_id=first_encounter,
                provider_id=2, date_ordered=first_date, order_status={2: "routed", 3: "pending"}.get(pid, "complete"),
                activity=0 if pid == 4 else 1,
                lab_id=1)
            for seq, (code, name) in enumerate((("24323-8", "Comprehensive metabolic panel"),
                                                ("718-7", "Hemoglobin")), 1):
                ins("procedure_order_code", procedure_order_id=order_id, procedure_order_seq=seq,
                    procedure_code=code, procedure_name=name, diagnoses="ICD10:J20.9")
                exp.ok("lab_order")
            report_id += 1
            report_status = {1: "final", 2: "prelim", 3: "correct", 4: "final"}[pid]
            ins("procedure_report", procedure_report_id=report_id, procedure_order_id=order_id, procedure_order_seq=2,
                date_report=first_date, report_status=report_status, review_status="reviewed")
            exp.ok("lab_report")
            exp.fhir_statuses[("lab_report", report_id)] = (
                "entered-in-error" if pid == 4 else {"final": "final", "prelim": "preliminary",
                                                      "correct": "corrected"}[report_status])
            result_statuses = {1: ("final", "final", "final"), 2: ("prelim", "correct", "final"),
                               3: ("cannot be done", "incomplete", ""), 4: ("final", "final", "final")}[pid]
            exp.lab_report_results[report_id] = []
            for (code, text, value, units, abnormal), result_status in zip((
                ("718-7", "Hemoglobin", f"{12 + pid % 3}.{pid}", "g/dL", "low" if pid == 1 else "no"),
                ("2345-7", "Glucose", str(90 + 10 * pid), "mg/dL", "vhigh" if pid == 2 else ""),
                ("8000-0", "Comment", "see note", "", "odd"),
            ), result_statuses, strict=True):
                ins("procedure_result", procedure_report_id=report_id, result_code=code, result_text=text,
                    result=value, units=units, range="", abnormal=abnormal, date=first_date,
                    result_status=result_status)
                result_id = _last_id(ins)
                exp.ok("lab_result")
                exp.lab_report_results[report_id].append(result_id)
                written = {"final": "final", "prelim": "preliminary", "correct": "corrected",
                           "cannot be done": "cancelled", "incomplete": "unknown", "": "final"}[result_status]
                exp.fhir_statuses[("lab_result", result_id)] = "entered-in-error" if pid == 4 else written
                if result_status == "incomplete":
                    exp.kept_as_recorded["lab_result"] += 1

        # payments: a payment, an adjustment, a voided payment
        ins("ar_session", session_id=pid, payer_id=0, user_id=1, reference=f"CHK-{pid}", check_date="2024-06-01",
            pay_total=20, payment_type="patient", post_to_date="2024-06-01", payment_method="check",
            adjustment_code="patient_payment")
        for seq, (pay, adj, deleted) in enumerate(((20, 0, None), (0, 5, None), (15, 0, "2024-06-02 10:00:00")), 1):
            if seq == 3 and pid % 3:
                continue
            ins("ar_activity", pid=PID_BASE + pid, encounter=first_encounter, sequence_no=seq, code_type="CPT4", code="99213",
                payer_type=0, post_time="2024-06-01 12:00:00", post_user=1, session_id=pid, pay_amount=pay,
                adj_amount=adj, modified_time="2024-06-01 12:00:00", follow_up="", account_code="PP",
                deleted=deleted)
            if adj:
                exp.bad("receipt", "adjustment-not-representable")
            else:
                exp.ok("receipt")

        # documents: a scan on disk for everyone; plus a missing file, an encrypted one, a deleted one,
        # a web link and a CouchDB one
        doc_id += 1
        content = _document_bytes(rng, pid)
        _write_document(documents_root, exp, doc_id, PID_BASE + pid, f"scan-{pid}.pdf", content)
        _insert_document(ins, doc_id, PID_BASE + pid, f"scan-{pid}.pdf", "application/pdf", first_encounter)
        exp.ok("attachment")
        if pid == 1:
            doc_id += 1
            _insert_document(ins, doc_id, PID_BASE + pid, "lost.pdf", "application/pdf", first_encounter)  # no file on disk
            exp.bad("attachment", "file-missing")
            doc_id += 1
            secret = rng.randbytes(333)
            _write_document(documents_root, exp, doc_id, PID_BASE + pid, "secret.jpg", secret)
            _insert_document(ins, doc_id, PID_BASE + pid, "secret.jpg", "image/jpeg", 0, encrypted=1)
            exp.ok("attachment")
            exp.encrypted_document = doc_id
            doc_id += 1
            old = _document_bytes(rng, 99)
            _write_document(documents_root, exp, doc_id, PID_BASE + pid, "old.pdf", old)
            _insert_document(ins, doc_id, PID_BASE + pid, "old.pdf", "application/pdf", 0, deleted=1)
            exp.ok("attachment")
            exp.deleted_document = doc_id
            doc_id += 1
            ins("documents", id=doc_id, type="web_url", url="https://example.invalid/report", mimetype="text/html",
                foreign_id=PID_BASE + pid, docdate="2024-02-02", revision="2024-02-02 00:00:00")
            exp.bad("attachment", "unsupported-storage")
            doc_id += 1
            ins("documents", id=doc_id, type="file_url", url="", storagemethod=1, couch_docid="abc",
                mimetype="application/pdf", foreign_id=PID_BASE + pid, docdate="2024-02-02", revision="2024-02-02 00:00:00")
            exp.bad("attachment", "unsupported-storage")

    # a note for a patient who does not exist: an orphan
    ins("pnotes", pid=999, date="2024-03-03 10:00:00", title="Other", body="orphan", user="drkim", activity=1)
    exp.bad("patient_note", "orphan")
    conn.commit()
    return exp


def _last_id(ins: _Inserter) -> int:
    ins.cursor.execute("SELECT LAST_INSERT_ID()")
    return int(ins.cursor.fetchone()[0])


def _document_bytes(rng: random.Random, pid: int) -> bytes:
    body = rng.randbytes(1000 + 37 * pid)
    return b"%PDF-1.4\n" + body + b"\n%%EOF\n"


def _write_document(root: Path, exp: Expected, doc_id: int, pid: int, name: str, content: bytes) -> None:
    folder = root / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    exp.documents[doc_id] = content


def _insert_document(
    ins: _Inserter, doc_id: int, pid: int, name: str, mimetype: str, encounter: int,
    *, encrypted: int = 0, deleted: int = 0,
) -> None:
    ins("documents", id=doc_id, type="file_url", url=f"file://{SITE_DOCUMENTS}/{pid}/{name}", name=name,
        mimetype=mimetype, foreign_id=pid, encounter_id=encounter, docdate="2024-02-02", storagemethod=0,
        encrypted=encrypted, deleted=deleted, revision="2024-02-02 00:00:00",
        hash=hashlib.sha3_512(name.encode()).hexdigest())
