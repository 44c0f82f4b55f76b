"""A synthetic clinic shaped like GNU Health (a Tryton application) on PostgreSQL (test data only).

Tryton's habits, as GNU Health's models declare them: every table keyed by ``id integer`` (a sequence), with the
audit columns ``create_uid``, ``create_date``, ``write_uid``, ``write_date`` (``timestamp(6)``); a Many2One is an
integer column named after the field, not ``…_id`` (``patient``, ``healthprof``, ``pathology``; a line's order is
its ``name``; a vaccination's and a disease's patient is its ``name`` too); selections are short codes in
``varchar`` (``gender`` 'm'/'f', ``state``, ``disease_severity`` '1_mi'); ``active`` booleans for the soft
delete; a many-to-many through a ``…_rel`` table. ``party_party`` holds the person (first name in ``name``, family
name in ``lastname``, ``dob``, ``gender``, the PUID in ``ref``), ``gnuhealth_patient`` points at it; the vitals are
columns of ``gnuhealth_patient_evaluation`` (``systolic``, ``diastolic``, ``bpm``, ``respiratory_rate``,
``temperature``, ``osat``, ``weight``, ``height``, ``bmi``); diagnoses in ``gnuhealth_patient_disease`` of a
``gnuhealth_pathology`` (ICD-10 / KCD codes); prescriptions in ``gnuhealth_prescription_order`` and its
``gnuhealth_prescription_line``; labs in ``gnuhealth_lab`` with their analytes in ``gnuhealth_lab_test_critearea``;
``gnuhealth_vaccination``; ``gnuhealth_patient_allergy``; ``res_user`` with password hashes; ``ir_configuration``.

Names are Korean and made up; no real data. Planted: an archived patient (``active`` false), a party with no
first name, an evaluation of a patient id nobody has (orphan), a lab line with neither a number nor text, a
vaccination with no date.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 40
PARTY = 100  # patient i's party is PARTY + i
#: pathology id → (code, name)
PATHOLOGIES = {1: ("J00", "급성 비인두염"), 2: ("I10", "본태성 고혈압"), 3: ("K29.7", "상세불명의 위염"),
               4: ("E11.9", "합병증을 동반하지 않은 2형 당뇨병"), 5: ("Z88.0", "페니실린 알레르기의 개인력")}

_AUDIT = "create_uid integer, create_date timestamp(6) without time zone, write_uid integer, " \
         "write_date timestamp(6) without time zone"

DDL: dict[str, str] = {
    "res_user": "id serial PRIMARY KEY, name varchar, login varchar NOT NULL UNIQUE, password_hash varchar, "
                f"active boolean, language integer, signature text, {_AUDIT}",
    "ir_configuration": f"id serial PRIMARY KEY, language varchar, hostname varchar, {_AUDIT}",
    "party_category": f"id serial PRIMARY KEY, name varchar NOT NULL, parent integer, active boolean, {_AUDIT}",
    "party_party": "id serial PRIMARY KEY, name varchar, lastname varchar, code varchar, ref varchar, "
                   "dob date, gender varchar, is_person boolean, is_patient boolean, is_healthprof boolean, "
                   "is_institution boolean, federation_account varchar, marital_status varchar, "
                   f"active boolean, activation_date date, {_AUDIT}",
    "party_category_rel": f"id serial PRIMARY KEY, party integer NOT NULL, category integer NOT NULL, {_AUDIT}",
    "party_address": "id serial PRIMARY KEY, party integer NOT NULL, street varchar, city varchar, "
                     f"postal_code varchar, active boolean, sequence integer, {_AUDIT}",
    "party_contact_mechanism": "id serial PRIMARY KEY, party integer NOT NULL, type varchar NOT NULL, value "
                               f"varchar, active boolean, sequence integer, comment text, {_AUDIT}",
    "gnuhealth_patient": "id serial PRIMARY KEY, name integer NOT NULL, blood_type varchar, rh varchar, "
                         "critical_info text, general_info text, deceased boolean, dod timestamp(0), "
                         f"active boolean, {_AUDIT}",
    "gnuhealth_healthprofessional": "id serial PRIMARY KEY, name integer NOT NULL, code varchar, "
                                    f"main_specialty integer, active boolean, {_AUDIT}",
    "gnuhealth_pathology": "id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL, category integer, "
                           f"chromosome varchar, active boolean, {_AUDIT}",
    "gnuhealth_patient_evaluation": "id serial PRIMARY KEY, patient integer, healthprof integer, code varchar, "
                                    "evaluation_start timestamp(0) NOT NULL, evaluation_endtime timestamp(0), "
                                    "evaluation_type varchar, urgency varchar, chief_complaint varchar, "
                                    "present_illness text, systolic integer, diastolic integer, bpm integer, "
                                    "respiratory_rate integer, temperature double precision, osat integer, "
                                    "weight double precision, height double precision, bmi numeric(5,2), "
                                    "diagnosis integer, state varchar, notes text, "
                                    f"{_AUDIT}",
    "gnuhealth_diagnostic_hypothesis": "id serial PRIMARY KEY, evaluation integer NOT NULL, pathology integer "
                                       f"NOT NULL, comments varchar, {_AUDIT}",
    "gnuhealth_patient_disease": "id serial PRIMARY KEY, name integer NOT NULL, pathology integer NOT NULL, "
                                 "disease_severity varchar, is_on_treatment boolean, is_allergy boolean, "
                                 "diagnosed_date date, healed_date date, is_active boolean, status varchar, "
                                 f"healthprof integer, short_comment varchar, {_AUDIT}",
    "gnuhealth_medicament": "id serial PRIMARY KEY, name integer NOT NULL, active_component varchar, "
                            f"presentation varchar, composition text, active boolean, {_AUDIT}",
    "gnuhealth_prescription_order": "id serial PRIMARY KEY, patient integer NOT NULL, healthprof integer, "
                                    "prescription_date timestamp(0), prescription_id varchar, notes text, "
                                    f"state varchar, pharmacy integer, {_AUDIT}",
    "gnuhealth_prescription_line": "id serial PRIMARY KEY, name integer NOT NULL, medicament integer, "
                                   "indication integer, dose double precision, dose_unit integer, "
                                   "frequency integer, frequency_prn boolean, duration integer, duration_period "
                                   "varchar, quantity integer, route integer, start_treatment timestamp(0), "
                                   f"end_treatment timestamp(0), short_comment varchar, {_AUDIT}",
    "gnuhealth_lab_test_type": "id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL, "
                               f"info text, active boolean, {_AUDIT}",
    "gnuhealth_lab_test_units": f"id serial PRIMARY KEY, name varchar, code varchar, {_AUDIT}",
    "gnuhealth_lab": "id serial PRIMARY KEY, name varchar NOT NULL, test integer NOT NULL, patient integer, "
                     "pathologist integer, requestor integer, results text, diagnosis text, "
                     f"date_requested timestamp(0), date_analysis timestamp(0), {_AUDIT}",
    "gnuhealth_lab_test_critearea": "id serial PRIMARY KEY, name varchar NOT NULL, code varchar, sequence "
                                    "integer, result double precision, result_text varchar, lower_limit "
                                    "numeric, upper_limit numeric, normal_range text, units integer, "
                                    f"warning boolean, excluded boolean, gnuhealth_lab_id integer, {_AUDIT}",
    "gnuhealth_vaccination": "id serial PRIMARY KEY, name integer NOT NULL, vaccine integer NOT NULL, "
                             "vaccine_lot varchar, dose integer, date timestamp(0), next_dose_date timestamp(0), "
                             "institution integer, admin_route varchar, admin_site varchar, observations varchar, "
                             f"state varchar, healthprof integer, {_AUDIT}",
    "gnuhealth_patient_allergy": "id serial PRIMARY KEY, patient integer NOT NULL, allergen varchar NOT NULL, "
                                 "allergy_type varchar, severity varchar, reaction varchar, is_active boolean, "
                                 f"{_AUDIT}",
}


@dataclass
class GnuHealthClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    #: planted dirty rows: name → the row's id
    dirty: dict[str, int] = field(default_factory=dict)
    #: gnuhealth_patient id → its party id
    party_of: dict[int, int] = field(default_factory=dict)
    #: for tests/test_random_server_clinics.py's flow
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_gnuhealth_clinic(conn_str: str, database: str = "emr_gnuhealth_shaped", *,
                            seed: int = 4) -> GnuHealthClinic:
    """Build the clinic on the PostgreSQL server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    rng = random.Random(seed)
    target = _fresh_database(conn_str, database, "postgresql")
    db = GnuHealthClinic("postgresql", odbc=target, patients="gnuhealth_patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for name, columns in DDL.items():
        c.execute(f"CREATE TABLE {name} ({columns})")
    created = dt.datetime(2023, 6, 1, 9, 0, 0, 123456)

    def audit(at: dt.datetime = created, changed: bool = False) -> tuple[Any, ...]:
        return (1, at, 2 if changed else None, at + dt.timedelta(days=1, microseconds=7) if changed else None)

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        width = len(rows[0])
        c.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)
        db.table(table, width, len(rows))

    put("res_user", [(0, "Root", "root", None, False, None, None, *audit()),
                     (1, "관리자", "admin", "$argon2id$v=19$m=65536$" + "a" * 40, True, 1, None, *audit()),
                     (2, "김의사", "dr.kim", "$argon2id$v=19$m=65536$" + "b" * 40, True, 1, "김의사 드림", *audit())])
    put("ir_configuration", [(1, "ko", None, *audit())])
    put("party_category", [(1, "VIP", None, True, *audit()), (2, "당뇨 관리", None, True, *audit())])
    parties: list[tuple[Any, ...]] = []
    # the health professionals' parties first (1, 2), the patients' from 101 on: a patient's id is not its party's
    for p in [*range(1, PATIENTS + 1), PATIENTS + 1, PATIENTS + 2]:
        doctor = p > PATIENTS
        family, given = SURNAMES[p % 10], GIVEN[(p * 7) % 10]
        birth = dt.date(1945 + p % 55, 1 + p % 12, 1 + p % 28)
        first = None if p == 8 else given
        party = p - PATIENTS if doctor else PARTY + p
        parties.append((party, first, family, f"P{p:05d}", f"KR{rng.randrange(10**9, 10**10)}", birth,
                        "mf"[p % 2] if p % 15 else "nb", True, not doctor, doctor, False, None,
                        "m" if p % 3 else "s", p != 11, dt.date(2023, 6, 1), *audit(changed=p % 4 == 0)))
    db.dirty["nameless_party"] = PARTY + 8
    put("party_party", parties)
    put("party_category_rel", [(i, PARTY + 1 + i * 3, 1 + i % 2, *audit()) for i in range(1, 13)])
    put("party_address", [(p, PARTY + p, f"가상로 {p}길 {p * 3}", "서울특별시" if p % 3 else "성남시", f"{p:05d}", True, 10,
                           *audit()) for p in range(1, PATIENTS + 1)])
    contacts: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        contacts.append((len(contacts) + 1, PARTY + p, "mobile", f"010-{3000 + p:04d}-{5000 + p:04d}", True, 10, None,
                         *audit()))
        if p % 3 == 0:
            contacts.append((len(contacts) + 1, PARTY + p, "email", f"pt{p}@example.kr", p % 9 != 0, 20, "예전 주소"
                             if p % 9 == 0 else None, *audit()))
    put("party_contact_mechanism", contacts)
    patients = list(range(1, PATIENTS + 1))  # gnuhealth_patient ids 1-40, party = id + 0
    put("gnuhealth_patient", [(i, PARTY + i, "ABO"[i % 3] if i % 4 else "AB", "+" if i % 7 else "-",
                               "페니실린 알레르기" if i % 10 == 1 else None, None, i == 17,
                               dt.datetime(2024, 5, 1, 14, 30) if i == 17 else None, i != 11,
                               *audit(changed=i % 5 == 0)) for i in patients])
    db.party_of = {i: PARTY + i for i in patients}
    db.dirty["archived_patient"] = 11
    put("gnuhealth_healthprofessional", [(1, 1, "HP-001", 1, True, *audit()), (2, 2, "HP-002", 2, True, *audit())])
    put("gnuhealth_pathology", [(k, name, code, 1, None, True, *audit()) for k, (code, name) in PATHOLOGIES.items()])
    base = dt.datetime(2024, 2, 5, 9, 0)
    evaluations: list[tuple[Any, ...]] = []
    hypotheses: list[tuple[Any, ...]] = []
    for v in range(120):
        pid = patients[v % PATIENTS] if v != 6 else 999
        start = base + dt.timedelta(days=v // 2, hours=v % 8, minutes=(v * 11) % 60)
        vitals = (110 + v % 40, 65 + v % 25, 58 + v % 40, 12 + v % 8, 36.3 + (v % 7) / 10, 95 + v % 5,
                  48.5 + v % 35, 150.0 + v % 35)
        bmi = Decimal(vitals[6] / (vitals[7] / 100) ** 2).quantize(Decimal("0.01"))
        empty = v % 17 == 5  # an evaluation with no vitals taken
        evaluations.append((v + 1, pid, 1 + v % 2, f"EVAL{v + 1:04d}", start, start + dt.timedelta(minutes=15),
                            "outpatient" if v % 5 else "followup", "a", "두통 및 발열" if v % 2 else "정기 검진", None,
                            *((None,) * 8 if empty else vitals), None if empty else bmi, 1 + v % 4,
                            "signed" if v % 3 else "done", "식이요법 권고" if v % 6 == 0 else None,
                            *audit(start, changed=v % 3 == 0)))
        if v % 4 == 1:
            hypotheses.append((len(hypotheses) + 1, v + 1, 1 + (v + 1) % 4, None, *audit(start)))
    db.dirty["orphan_evaluation"] = 7
    put("gnuhealth_patient_evaluation", evaluations)
    put("gnuhealth_diagnostic_hypothesis", hypotheses)
    put("gnuhealth_patient_disease", [
        (i, patients[(i * 3) % PATIENTS], 1 + i % 5, ["1_mi", "2_mo", "3_sv"][i % 3], i % 2 == 0, i % 5 == 4,
         dt.date(2019 + i % 5, 1 + i % 12, 1 + i % 27), dt.date(2024, 1, 2) if i % 7 == 0 else None, i % 7 != 0,
         "c" if i % 2 else "a", 1, "추적 관찰" if i % 4 == 0 else None, *audit()) for i in range(1, 41)])
    put("gnuhealth_medicament", [(1, 101, "acetaminophen", "정제", None, True, *audit()),
                                 (2, 102, "amlodipine", "정제", None, True, *audit()),
                                 (3, 103, "amoxicillin", "캡슐", None, True, *audit()),
                                 (4, 201, "인플루엔자 백신", "주사", "불활화 인플루엔자 항원 0.5 mL", True, *audit())])
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    for o in range(1, 46):
        at = base + dt.timedelta(days=o, hours=1)
        orders.append((o, patients[(o * 5) % PATIENTS], 1, at, f"PRES{o:04d}", None, "done" if o % 6 else "draft",
                       None, *audit(at)))
        for n in range(1 + o % 2):
            lines.append((len(lines) + 1, o, 1 + (o + n) % 3, 1 + o % 4, 1.0 if n == 0 else 0.5, 1, 3, o % 9 == 0,
                          3 + o % 5, "days", 9 + o % 5, 1, at, at + dt.timedelta(days=3 + o % 5),
                          "식후 복용" if o % 2 else None, *audit(at)))
    put("gnuhealth_prescription_order", orders)
    put("gnuhealth_prescription_line", lines)
    put("gnuhealth_lab_test_type", [(1, "일반혈액검사", "CBC", None, True, *audit()),
                                    (2, "공복혈당", "FBS", None, True, *audit())])
    put("gnuhealth_lab_test_units", [(1, "g/dL", "g/dL", *audit()), (2, "mg/dL", "mg/dL", *audit()),
                                     (3, "10^3/uL", "10*3/uL", *audit())])
    labs: list[tuple[Any, ...]] = []
    analytes: list[tuple[Any, ...]] = []
    for n in range(1, 37):
        at = base + dt.timedelta(days=n, hours=2)
        test = 1 + n % 2
        labs.append((n, f"LAB{n:04d}", test, patients[(n * 7) % PATIENTS], 1, 2, None, "정상 범위" if n % 3 else None,
                     at - dt.timedelta(hours=3), at, *audit(at)))
        items = [("Hb", "혈색소", 13.5 + n % 5 / 2, 1, 12, 16), ("WBC", "백혈구", 6.1 + n % 3, 3, 4, 10),
                 ("PLT", "혈소판", 250.0 + n, 3, 150, 400)] if test == 1 else [("GLU", "공복혈당", 90.0 + n * 2, 2, 70, 100)]
        for seq, (code, name, value, unit, low, high) in enumerate(items, 1):
            empty = n == 10 and seq == 2
            analytes.append((len(analytes) + 1, name, code, seq, None if empty else value,
                             None if empty else None if n % 4 else "양성 아님", Decimal(low), Decimal(high),
                             f"{low}-{high}", unit, value > high, False, n, *audit(at)))
    put("gnuhealth_lab", labs)
    put("gnuhealth_lab_test_critearea", analytes)
    db.dirty["empty_analyte"] = next(a[0] for a in analytes if a[4] is None)
    put("gnuhealth_vaccination", [
        (i, patients[(i * 3) % PATIENTS], 4, f"LOT{2024 + i % 3}-{i:03d}", 1 + i % 3,
         None if i == 5 else base + dt.timedelta(days=i * 4), base + dt.timedelta(days=i * 4 + 180), None,
         "im", "lde" if i % 2 else "rde", "접종 후 미열" if i % 6 == 0 else None, "done", 2, *audit())
        for i in range(1, 25)])
    db.dirty["dateless_vaccination"] = 5
    put("gnuhealth_patient_allergy", [
        (i, patients[(i * 5) % PATIENTS], "페니실린" if i % 3 else "복숭아", "da" if i % 3 else "fa",
         ["mild", "moderate", "severe"][i % 3], "두드러기" if i % 2 else None, i % 5 != 0, *audit())
        for i in range(1, 13)])
    for table in DDL:  # Tryton's sequences follow the ids it gave
        c.execute(f"SELECT setval('{table}_id_seq', (SELECT COALESCE(MAX(id), 1) FROM {table}))")
    conn.close()
    return db
