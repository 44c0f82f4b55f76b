"""A synthetic clinic shaped like ERPNext Healthcare (Frappe's Healthcare module, github frappe/health, formerly
erpnext/healthcare) on MariaDB (test data only; names Korean and made up).

Frappe's physical shape, as its doctype JSON definitions make it: one table ``tab<DocType>`` per doctype, the name
WITH ITS SPACES (``tabPatient Encounter``); the key ``name`` VARCHAR(140), a string from a naming series
(``HLC-PAT-2026-00001``) or, for a child row, a random hash; on every row ``creation``/``modified`` DATETIME(6),
``modified_by``/``owner`` VARCHAR(140), ``docstatus`` INT(1) (0 draft, 1 submitted, 2 cancelled), ``idx`` INT(8);
on a parent ``_user_tags``/``_comments`` (JSON text)/``_assign``/``_liked_by`` TEXT; a child table's rows hang
under their parent by ``parent``/``parenttype``/``parentfield`` (``tabCodification Table`` under Patient Encounter
AND Clinical Procedure). Field types as Frappe makes them: Link and Data VARCHAR(140) (a Link holds the target's
``name``), Select free text VARCHAR(140), Date DATE, Time TIME(6), Datetime DATETIME(6), Float DECIMAL(21,9),
Currency DECIMAL(21,9), Check INT(1), Int INT(11), Small Text/Text TEXT, Text Editor LONGTEXT (HTML), Long Text
LONGTEXT. Vital Signs keeps temperature, pulse, respiratory rate and blood pressure as Data (text), height and
weight as Float (one row per visit, a column per sign).

Planted: a cancelled encounter (docstatus 2) and a draft one (0); a vital-signs row of a patient nobody has
(orphan); a patient Disabled; an encounter's comment and a medical record's subject in HTML; ``_comments`` JSON
on some rows; a drug prescription under an encounter nobody has (orphan child).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 40
ENCOUNTERS = 80

_STD = ("name VARCHAR(140) NOT NULL PRIMARY KEY, creation DATETIME(6), modified DATETIME(6), modified_by "
        "VARCHAR(140), owner VARCHAR(140), docstatus INT(1) NOT NULL DEFAULT 0, idx INT(8) NOT NULL DEFAULT 0")
_CHILD = _STD + (", parent VARCHAR(140), parentfield VARCHAR(140), parenttype VARCHAR(140)")
_META = "_user_tags TEXT, _comments TEXT, _assign TEXT, _liked_by TEXT"


def _v(name: str) -> str:
    return f"`{name}` VARCHAR(140)"


DDL: dict[str, str] = {
    "tabHealthcare Practitioner": f"{_STD}, first_name VARCHAR(140), last_name VARCHAR(140), practitioner_name "
                                  "VARCHAR(140), gender VARCHAR(140), department VARCHAR(140), mobile_phone "
                                  f"VARCHAR(140), status VARCHAR(140), {_META}",
    "tabPatient": f"{_STD}, naming_series VARCHAR(140), first_name VARCHAR(140), middle_name VARCHAR(140), "
                  "last_name VARCHAR(140), patient_name VARCHAR(140), sex VARCHAR(140), blood_group VARCHAR(140), "
                  "dob DATE, uid VARCHAR(140), status VARCHAR(140), mobile VARCHAR(140), phone VARCHAR(140), email "
                  "VARCHAR(140), occupation VARCHAR(140), marital_status VARCHAR(140), allergies TEXT, medication "
                  "TEXT, medical_history TEXT, surgical_history TEXT, tobacco_current_use VARCHAR(140), "
                  f"alcohol_current_use VARCHAR(140), patient_details TEXT, invite_user INT(1) NOT NULL DEFAULT 0, {_META}",
    "tabPatient Relation": f"{_CHILD}, patient VARCHAR(140), relation VARCHAR(140), description TEXT",
    "tabPatient Appointment": f"{_STD}, naming_series VARCHAR(140), title VARCHAR(140), status VARCHAR(140), "
                              "appointment_type VARCHAR(140), patient VARCHAR(140), patient_name VARCHAR(140), "
                              "practitioner VARCHAR(140), department VARCHAR(140), appointment_date DATE, "
                              "appointment_time TIME(6), appointment_datetime DATETIME(6), duration INT(11) NOT NULL "
                              "DEFAULT 0, mode_of_payment VARCHAR(140), paid_amount DECIMAL(21,9) NOT NULL DEFAULT "
                              f"0, invoiced INT(1) NOT NULL DEFAULT 0, notes TEXT, {_META}",
    "tabPatient Encounter": f"{_STD}, naming_series VARCHAR(140), title VARCHAR(140), appointment VARCHAR(140), "
                            "patient VARCHAR(140), patient_name VARCHAR(140), patient_sex VARCHAR(140), patient_age "
                            "VARCHAR(140), practitioner VARCHAR(140), medical_department VARCHAR(140), "
                            "encounter_date DATE, encounter_time TIME(6), status VARCHAR(140), invoiced INT(1) NOT "
                            "NULL DEFAULT 0, encounter_comment LONGTEXT, amended_from VARCHAR(140), " + _META,
    "tabCodification Table": f"{_CHILD}, medical_code VARCHAR(140), code VARCHAR(140), description TEXT",
    "tabDrug Prescription": f"{_CHILD}, drug_code VARCHAR(140), drug_name VARCHAR(140), dosage VARCHAR(140), "
                            "period VARCHAR(140), dosage_form VARCHAR(140), comment TEXT, usage_interval INT(1) NOT "
                            "NULL DEFAULT 0, `interval` INT(11) NOT NULL DEFAULT 0, interval_uom VARCHAR(140)",
    "tabVital Signs": f"{_STD}, naming_series VARCHAR(140), title VARCHAR(140), patient VARCHAR(140), patient_name "
                      "VARCHAR(140), encounter VARCHAR(140), signs_date DATE, signs_time TIME(6), temperature "
                      "VARCHAR(140), pulse VARCHAR(140), respiratory_rate VARCHAR(140), bp_systolic VARCHAR(140), "
                      "bp_diastolic VARCHAR(140), bp VARCHAR(140), vital_signs_note TEXT, height DECIMAL(21,9) NOT "
                      "NULL DEFAULT 0, weight DECIMAL(21,9) NOT NULL DEFAULT 0, bmi DECIMAL(21,9) NOT NULL DEFAULT "
                      f"0, nutrition_note TEXT, amended_from VARCHAR(140), {_META}",
    "tabLab Test": f"{_STD}, naming_series VARCHAR(140), template VARCHAR(140), lab_test_name VARCHAR(140), status "
                   "VARCHAR(140), date DATE, time TIME(6), submitted_date DATETIME(6), patient VARCHAR(140), "
                   "patient_name VARCHAR(140), practitioner VARCHAR(140), lab_test_comment TEXT, custom_result "
                   f"LONGTEXT, invoiced INT(1) NOT NULL DEFAULT 0, {_META}",
    "tabNormal Test Result": f"{_CHILD}, lab_test_name VARCHAR(140), lab_test_event VARCHAR(140), result_value "
                             "VARCHAR(140), lab_test_uom VARCHAR(140), normal_range LONGTEXT, lab_test_comment "
                             "VARCHAR(140), template VARCHAR(140), require_result_value INT(1) NOT NULL DEFAULT 0",
    "tabClinical Procedure": f"{_STD}, naming_series VARCHAR(140), title VARCHAR(140), procedure_template "
                             "VARCHAR(140), patient VARCHAR(140), patient_name VARCHAR(140), practitioner "
                             "VARCHAR(140), start_date DATE, start_time TIME(6), status VARCHAR(140), notes TEXT, "
                             f"invoiced INT(1) NOT NULL DEFAULT 0, {_META}",
    "tabPatient Medical Record": f"{_STD}, naming_series VARCHAR(140), patient VARCHAR(140), status VARCHAR(140), "
                                 "attach TEXT, subject LONGTEXT, communication_date DATE, reference_doctype "
                                 "VARCHAR(140), reference_name VARCHAR(140), reference_owner VARCHAR(140), user "
                                 f"VARCHAR(140), {_META}",
    "tabSales Invoice": f"{_STD}, naming_series VARCHAR(140), title VARCHAR(140), customer VARCHAR(140), patient "
                        "VARCHAR(140), patient_name VARCHAR(140), posting_date DATE, posting_time TIME(6), due_date "
                        "DATE, currency VARCHAR(140), grand_total DECIMAL(21,9) NOT NULL DEFAULT 0, paid_amount "
                        "DECIMAL(21,9) NOT NULL DEFAULT 0, outstanding_amount DECIMAL(21,9) NOT NULL DEFAULT 0, "
                        f"status VARCHAR(140), remarks TEXT, {_META}",
    "tabSeries": "name VARCHAR(100) NOT NULL PRIMARY KEY, current INT(10) NOT NULL DEFAULT 0",
}


@dataclass
class FrappeClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    dirty: dict[str, str] = field(default_factory=dict)
    #: patient name (HLC-PAT-…) → (patient_name, sex, dob)
    people: dict[str, tuple[str, str, dt.date]] = field(default_factory=dict)
    #: encounter name → patient name
    encounters: dict[str, str] = field(default_factory=dict)
    #: vital-signs name → (patient, temperature text, height, weight)
    vitals: dict[str, tuple[str, str, Decimal, Decimal]] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _hash(seed: str) -> str:
    """A child row's name as Frappe makes it: 10 hex digits."""
    return hashlib.sha1(seed.encode()).hexdigest()[:10]


def create_frappe_clinic(conn_str: str, database: str = "emr_frappe_shaped") -> FrappeClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = FrappeClinic("mariadb", odbc=target, patients="tabpatient")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    c.execute("SET SESSION time_zone = '+09:00'")
    for name, columns in DDL.items():
        c.execute(f"CREATE TABLE `{name}` ({columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
                  "COLLATE=utf8mb4_unicode_ci")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(rows[0]))
        c.executemany(f"INSERT INTO `{table}` VALUES ({marks})", rows)
        db.table(table.lower(), len(rows[0]), len(rows))

    start = dt.datetime(2026, 1, 5, 8, 30, 0, 123456)

    def std(name: str, n: int, docstatus: int = 1, idx: int = 0) -> tuple[Any, ...]:
        at = start + dt.timedelta(hours=n)
        return (name, at, at + dt.timedelta(minutes=5), "doctor@clinic.test", "nurse@clinic.test", docstatus, idx)

    def meta(n: int) -> tuple[Any, ...]:
        comments = json.dumps([{"comment": f"<p>확인 {n}</p>", "by": "doctor@clinic.test", "name": _hash(f"c{n}")}],
                              ensure_ascii=False) if n % 7 == 0 else None
        return (",VIP" if n % 11 == 0 else None, comments,
                '["doctor@clinic.test"]' if n % 5 == 0 else None, None)

    practitioners = [(f"HLC-PRAC-2026-0000{i}", f"의사{i}", "김", f"김의사{i}", "Male" if i % 2 else "Female",
                      ("내과", "가정의학과", "소아청소년과")[i % 3], f"010-1000-000{i}", "Active") for i in (1, 2, 3)]
    put("tabHealthcare Practitioner", [(*std(p[0], i, 0), *p[1:], *meta(i)) for i, p in enumerate(practitioners)])
    doctors = [p[0] for p in practitioners]

    patients: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        name = f"HLC-PAT-2026-{p:05d}"
        family, given = SURNAMES[p % 10], GIVEN[(p * 3) % 10]
        sex = ("Male", "Female")[p % 2]
        dob = dt.date(1940 + p % 60, 1 + p % 12, 1 + p % 28)
        status = "Disabled" if p == 12 else "Active"
        patients.append((*std(name, p, 0), "HLC-PAT-.YYYY.-", given, None, family, f"{family}{given}", sex,
                         ("A Positive", "B Positive", "O Negative", "AB Positive", "")[p % 5], dob,
                         f"{p:06d}", status, f"010-2000-{p:04d}", None, f"pt{p}@example.test",
                         ("회사원", "학생", "주부")[p % 3], ("Single", "Married", "")[p % 3],
                         "페니실린" if p % 6 == 0 else None, "아스피린 100mg" if p % 4 == 0 else None,
                         "고혈압" if p % 3 == 0 else None, None, ("", "Yes", "No")[p % 3], "No",
                         f"{family}{given}\n성별: {sex}\n생년월일: {dob}", 0, *meta(p)))
        db.people[name] = (f"{family}{given}", sex, dob)
    db.dirty["disabled_patient"] = "HLC-PAT-2026-00012"
    put("tabPatient", patients)
    pids = list(db.people)
    put("tabPatient Relation", [(*std(_hash(f"rel{r}"), r, 0, 1), pids[r], "parent", "Patient", pids[r + 1],
                                 ("Father", "Mother", "Spouse", "Sibling")[r % 4], "보호자" if r % 2 else None)
                                for r in range(0, 20)])

    appointments: list[tuple[Any, ...]] = []
    base = dt.datetime(2026, 2, 2, 9, 0)
    for a in range(1, 61):
        at = base + dt.timedelta(days=a, minutes=30 * (a % 8))
        pid = pids[a % PATIENTS]
        appointments.append((*std(f"HLC-APP-2026-{a:05d}", a), "HLC-APP-.YYYY.-", f"{db.people[pid][0]} 진료",
                             ("Scheduled", "Closed", "Cancelled", "Checked Out")[a % 4], "진료", pid,
                             db.people[pid][0], doctors[a % 3], "내과", at.date(), at.time(), at, 15,
                             "Cash" if a % 2 else "신용카드", Decimal(f"{15000 + 100 * a}.000000000"), a % 2,
                             "초진" if a % 3 == 0 else None, *meta(a)))
    put("tabPatient Appointment", appointments)

    encounters: list[tuple[Any, ...]] = []
    for e in range(1, ENCOUNTERS + 1):
        name = f"HLC-ENC-2026-{e:05d}"
        pid = pids[(e * 3) % PATIENTS]
        at = base + dt.timedelta(days=e, minutes=20 * (e % 9))
        docstatus = 2 if e == 7 else 0 if e == 8 else 1
        encounters.append((*std(name, e, docstatus), "HLC-ENC-.YYYY.-", f"{db.people[pid][0]} 외래", 
                           f"HLC-APP-2026-{e:05d}" if e <= 60 else None, pid, db.people[pid][0],
                           db.people[pid][1], f"{30 + e % 40} Year(s)", doctors[e % 3], "내과", at.date(),
                           at.time(), ("Completed", "Cancelled", "Open")[0 if e not in (7, 8) else (1 if e == 7 else 2)],
                           e % 2, f"<div><p>두통 {e}일째, <b>발열</b> 없음</p></div>" if e % 3 else None,
                           "HLC-ENC-2026-00006" if e == 9 else None, *meta(e)))
        db.encounters[name] = pid
    db.dirty["cancelled_encounter"], db.dirty["draft_encounter"] = "HLC-ENC-2026-00007", "HLC-ENC-2026-00008"
    put("tabPatient Encounter", encounters)

    codes = [("ICD-10 J00", "J00", "급성 비인두염"), ("ICD-10 I10", "I10", "본태성 고혈압"),
             ("ICD-10 E11.9", "E11.9", "합병증 없는 2형 당뇨병"), ("ICD-10 K29.7", "K29.7", "상세불명의 위염")]
    codified: list[tuple[Any, ...]] = []
    for e in range(1, ENCOUNTERS + 1):
        for i in range(1 + e % 2):
            code = codes[(e + i) % 4]
            codified.append((*std(_hash(f"cod{e}.{i}"), e, 1, i + 1), f"HLC-ENC-2026-{e:05d}", "codification_table",
                             "Patient Encounter", *code))
    for p in range(1, 21):
        code = codes[p % 4]
        codified.append((*std(_hash(f"codp{p}"), p, 1, 1), f"HLC-CPR-2026-{p:05d}", "codification_table",
                         "Clinical Procedure", *code))
    put("tabCodification Table", codified)

    drugs = [("타이레놀정500mg", "TAB500", "1-0-1", "5 Day", "Tablet"), ("노바스크정5mg", "NOV5", "0-0-1", "1 Month",
                                                                           "Tablet"),
             ("아목시실린캡슐250mg", "AMX250", "1-1-1", "7 Day", "Capsule")]
    prescriptions: list[tuple[Any, ...]] = []
    for r in range(1, 101):
        e = 1 + (r * 7) % ENCOUNTERS
        drug = drugs[r % 3]
        prescriptions.append((*std(_hash(f"drug{r}"), r, 1, 1 + r % 3), f"HLC-ENC-2026-{e:05d}", "drug_prescription",
                              "Patient Encounter", drug[1], drug[0], drug[2], drug[3], drug[4],
                              "식후 30분" if r % 2 else None, 0, 0, None))
    prescriptions.append((*std(_hash("drug-orphan"), 0, 1, 1), "HLC-ENC-2026-09999", "drug_prescription",
                          "Patient Encounter", "TAB500", "타이레놀정500mg", "1-0-1", "5 Day", "Tablet", None, 0, 0,
                          None))
    db.dirty["orphan_prescription"] = _hash("drug-orphan")
    put("tabDrug Prescription", prescriptions)

    vitals: list[tuple[Any, ...]] = []
    for v in range(1, ENCOUNTERS + 1):
        name = f"HLC-VTS-2026-{v:05d}"
        enc = f"HLC-ENC-2026-{v:05d}"
        pid = db.encounters[enc]
        at = base + dt.timedelta(days=v, minutes=20 * (v % 9))
        temp = f"36.{v % 10}" if v % 13 else ""
        sys_, dia = 110 + v % 30, 70 + v % 20
        height, weight = Decimal(f"1.{55 + v % 30}0000000"), Decimal(f"{50 + v % 35}.{v % 10}00000000")
        vitals.append((*std(name, v), "HLC-VTS-.YYYY.-", f"{db.people[pid][0]} 활력징후", pid, db.people[pid][0], enc,
                       at.date(), at.time(), temp, f"{60 + v % 30}", f"{14 + v % 6}", f"{sys_}", f"{dia}",
                       f"{sys_}/{dia} mmHg", "안정 시 측정" if v % 4 == 0 else None, height, weight,
                       (weight / (height * height)).quantize(Decimal("0.000000001")), None, None, *meta(v)))
        db.vitals[name] = (pid, temp, height, weight)
    at = base + dt.timedelta(days=90)
    vitals.append((*std("HLC-VTS-2026-09999", 99), "HLC-VTS-.YYYY.-", "미상 활력징후", "HLC-PAT-2026-09999", "미상", None,
                   at.date(), at.time(), "37.0", "80", "16", "120", "80", "120/80 mmHg", None, Decimal(0),
                   Decimal(0), Decimal(0), None, None, *meta(99)))
    db.dirty["orphan_vitals"] = "HLC-VTS-2026-09999"
    put("tabVital Signs", vitals)

    labs: list[tuple[Any, ...]] = []
    results: list[tuple[Any, ...]] = []
    events = [("Haemoglobin", "g/dL", "12 - 16"), ("Glucose", "mg/dL", "70 - 110"), ("Creatinine", "mg/dL", "0.6 - 1.2")]
    for t in range(1, 41):
        name = f"HLC-LAB-2026-{t:05d}"
        pid = pids[(t * 7) % PATIENTS]
        at = base + dt.timedelta(days=t, hours=2)
        labs.append((*std(name, t), "HLC-LAB-.YYYY.-", "기본혈액검사", "기본혈액검사", ("Completed", "Approved")[t % 2],
                     at.date(), at.time(), at + dt.timedelta(hours=3), pid, db.people[pid][0], doctors[t % 3],
                     "공복" if t % 3 == 0 else None, "<p>특이소견 없음</p>" if t % 5 == 0 else None, 1, *meta(t)))
        for i, (event, uom, normal) in enumerate(events):
            value = f"{12 + t % 4}.{t % 10}" if i == 0 else f"{90 + t * 3}" if i == 1 else f"0.{7 + t % 3}"
            results.append((*std(_hash(f"ntr{t}.{i}"), t, 1, i + 1), name, "normal_test_items", "Lab Test",
                            event, None, value, uom, normal, None, "기본혈액검사", 1))
    put("tabLab Test", labs)
    put("tabNormal Test Result", results)

    procedures = [(*std(f"HLC-CPR-2026-{p:05d}", p, 1), "HLC-CPR-.YYYY.-", "상처 봉합", "상처 봉합", pids[p % PATIENTS],
                   db.people[pids[p % PATIENTS]][0], doctors[p % 3], (base + dt.timedelta(days=p)).date(),
                   dt.time(14, p % 60), ("Completed", "In Progress")[p % 2], "국소마취 후 시행" if p % 2 else None, 1,
                   *meta(p)) for p in range(1, 21)]
    put("tabClinical Procedure", procedures)

    records: list[tuple[Any, ...]] = []
    for m in range(1, 61):
        enc = f"HLC-ENC-2026-{m:05d}"
        records.append((*std(f"HLC-PMR-2026-{m:05d}", m, 0), "HLC-PMR-.YYYY.-", db.encounters[enc], "Open",
                        f"/private/files/scan-{m}.pdf" if m % 10 == 0 else None,
                        f"<div><b>진료</b> {db.people[db.encounters[enc]][0]}: 두통</div>",
                        (base + dt.timedelta(days=m)).date(), "Patient Encounter", enc, "doctor@clinic.test",
                        "doctor@clinic.test", *meta(m)))
    put("tabPatient Medical Record", records)

    invoices: list[tuple[Any, ...]] = []
    for s in range(1, 51):
        pid = pids[(s * 3) % PATIENTS]
        at = base + dt.timedelta(days=s)
        total = Decimal(f"{15000 + 500 * s}.000000000")
        paid = total if s % 4 else Decimal("0E-9")
        invoices.append((*std(f"ACC-SINV-2026-{s:05d}", s), "ACC-SINV-.YYYY.-", db.people[pid][0], db.people[pid][0],
                         pid, db.people[pid][0], at.date(), dt.time(17, s % 60), at.date(), "KRW", total, paid,
                         total - paid, "Paid" if s % 4 else "Unpaid", "진료비" if s % 2 else None, *meta(s)))
    put("tabSales Invoice", invoices)
    put("tabSeries", [("HLC-PAT-2026-", PATIENTS), ("HLC-ENC-2026-", ENCOUNTERS), ("HLC-VTS-2026-", ENCOUNTERS),
                      ("HLC-LAB-2026-", 40), ("HLC-APP-2026-", 60), ("HLC-CPR-2026-", 20), ("HLC-PMR-2026-", 60),
                      ("ACC-SINV-2026-", 50), ("HLC-PRAC-2026-", 3)])
    conn.close()
    return db
