"""A synthetic clinic shaped like OpenMRS core 2.x on MariaDB (its published liquibase schema; test data only).

Unlike tests/connectors/eav_clinic.py (the team's trimmed OpenMRS-like EAV), every table here has the column list
OpenMRS itself declares: the audit columns (``creator``, ``date_created``, ``changed_by``, ``date_changed``), the
soft delete of data (``voided``, ``voided_by``, ``date_voided``, ``void_reason``) and the retirement of metadata
(``retired``, ``retired_by``, ``date_retired``, ``retire_reason``), ``uuid CHAR(38)`` on every row, ``TINYINT(1)``
flags, ``DOUBLE`` numeric values. ``person`` with ``person_name`` (several names a person, one preferred) and
``patient`` keyed by the person's id, the chart number in ``patient_identifier`` (two identifier types),
``visit`` and ``encounter`` (an encounter in a visit), ``encounter_provider`` (a many-to-many of encounters and
providers with a role), ``obs`` (one row per value: ``value_numeric``, ``value_coded``, ``value_text``,
``value_datetime``; vitals grouped by ``obs_group_id``) of ``concept`` with its names in ``concept_name`` (English
and Korean) and its codes through ``concept_reference_map``/``concept_reference_term``, ``encounter_diagnosis``
(coded or free text, certainty, rank), ``conditions``, ``orders`` with ``drug_order`` (the same key: a one-to-one
extension), ``drug``, ``order_frequency``, ``allergy`` with ``allergy_reaction``, ``users`` (password and salt),
``provider``, ``location``, ``encounter_type``, ``visit_type``, ``patient_identifier_type``.

Names are Korean and made up; no real data. Planted: a voided patient (and person), a person with two names (the
preferred one second), a patient with no name at all, a voided obs, an obs whose encounter is nobody's (orphan), a
diagnosis given only as text (``diagnosis_non_coded``), a retired concept, a drug order with no dose.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 36
STAFF = 3  # persons 1-3: the admin, a doctor, a nurse
#: concept id → (datatype, class, English name, Korean name, KCD/LOINC code or None, retired)
CONCEPTS: dict[int, tuple[str, str, str, str, str | None, bool]] = {
    5085: ("Numeric", "Finding", "Systolic blood pressure", "수축기 혈압", "8480-6", False),
    5086: ("Numeric", "Finding", "Diastolic blood pressure", "이완기 혈압", "8462-4", False),
    5087: ("Numeric", "Finding", "Pulse", "맥박", "8867-4", False),
    5088: ("Numeric", "Finding", "Temperature (C)", "체온", "8310-5", False),
    5089: ("Numeric", "Finding", "Weight (kg)", "체중", "29463-7", False),
    1114: ("N/A", "ConvSet", "Vital signs", "활력징후", None, False),
    160: ("Text", "Misc", "Clinical note", "진료 메모", None, False),
    21: ("Numeric", "Test", "Hemoglobin", "혈색소", "718-7", False),
    3001: ("N/A", "Diagnosis", "Acute nasopharyngitis", "급성 비인두염", "J00", False),
    3002: ("N/A", "Diagnosis", "Essential hypertension", "본태성 고혈압", "I10", False),
    3003: ("N/A", "Diagnosis", "Gastritis, unspecified", "상세불명의 위염", "K29.7", False),
    3004: ("N/A", "Diagnosis", "Old diabetes term", "구 당뇨 용어", "E11.9", True),
    4001: ("N/A", "Drug", "Penicillin", "페니실린", None, False),
    4002: ("N/A", "Symptom", "Rash", "발진", None, False),
    4003: ("N/A", "Misc", "Moderate", "중등도", None, False),
    5001: ("N/A", "Drug", "Acetaminophen", "아세트아미노펜", None, False),
    5002: ("N/A", "Drug", "Amlodipine", "암로디핀", None, False),
    1513: ("N/A", "Frequency", "Twice daily", "하루 두 번", None, False),
}
VITALS = (5085, 5086, 5087, 5088, 5089)

_AUDIT = "creator INT NOT NULL, date_created DATETIME NOT NULL, changed_by INT, date_changed DATETIME"
_VOID = "voided TINYINT(1) NOT NULL DEFAULT 0, voided_by INT, date_voided DATETIME, void_reason VARCHAR(255)"
_RETIRE = "retired TINYINT(1) NOT NULL DEFAULT 0, retired_by INT, date_retired DATETIME, retire_reason VARCHAR(255)"
_UUID = "uuid CHAR(38) NOT NULL UNIQUE"

DDL: dict[str, str] = {
    "users": "user_id INT PRIMARY KEY AUTO_INCREMENT, system_id VARCHAR(50) NOT NULL, username VARCHAR(50), "
             "password VARCHAR(128), salt VARCHAR(128), secret_question VARCHAR(255), secret_answer VARCHAR(255), "
             f"{_AUDIT}, person_id INT NOT NULL, {_RETIRE}, {_UUID}, activation_key VARCHAR(255), email VARCHAR(255)",
    "location": "location_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(255) NOT NULL, description VARCHAR(255), "
                "address1 VARCHAR(255), city_village VARCHAR(255), country VARCHAR(50), latitude VARCHAR(50), "
                f"longitude VARCHAR(50), {_AUDIT}, {_RETIRE}, parent_location INT, {_UUID}",
    "person": "person_id INT PRIMARY KEY AUTO_INCREMENT, gender VARCHAR(50) DEFAULT '', birthdate DATE, "
              "birthdate_estimated TINYINT(1) NOT NULL DEFAULT 0, dead TINYINT(1) NOT NULL DEFAULT 0, "
              "death_date DATETIME, cause_of_death INT, "
              f"{_AUDIT}, {_VOID}, {_UUID}, deathdate_estimated TINYINT(1) NOT NULL DEFAULT 0, birthtime TIME, "
              "cause_of_death_non_coded VARCHAR(255)",
    "person_name": "person_name_id INT PRIMARY KEY AUTO_INCREMENT, preferred TINYINT(1) NOT NULL DEFAULT 0, "
                   "person_id INT NOT NULL, prefix VARCHAR(50), given_name VARCHAR(50), middle_name VARCHAR(50), "
                   "family_name_prefix VARCHAR(50), family_name VARCHAR(50), family_name2 VARCHAR(50), "
                   "family_name_suffix VARCHAR(50), degree VARCHAR(50), "
                   f"creator INT NOT NULL, date_created DATETIME NOT NULL, {_VOID}, changed_by INT, "
                   f"date_changed DATETIME, {_UUID}",
    "patient": f"patient_id INT PRIMARY KEY, {_AUDIT}, {_VOID}, allergy_status VARCHAR(50) NOT NULL DEFAULT ''",
    "patient_identifier_type": "patient_identifier_type_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50) NOT "
                               "NULL, description TEXT, format VARCHAR(255), check_digit TINYINT(1) NOT NULL DEFAULT "
                               f"0, {_AUDIT}, required TINYINT(1) NOT NULL DEFAULT 0, {_RETIRE}, {_UUID}",
    "patient_identifier": "patient_identifier_id INT PRIMARY KEY AUTO_INCREMENT, patient_id INT NOT NULL, "
                          "identifier VARCHAR(50) NOT NULL, identifier_type INT NOT NULL, preferred TINYINT(1) NOT "
                          f"NULL DEFAULT 0, location_id INT, {_AUDIT}, {_VOID}, {_UUID}",
    "provider": "provider_id INT PRIMARY KEY AUTO_INCREMENT, person_id INT, name VARCHAR(255), identifier "
                f"VARCHAR(255), {_AUDIT}, {_RETIRE}, {_UUID}",
    "visit_type": f"visit_type_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(255) NOT NULL, description "
                  f"VARCHAR(1024), {_AUDIT}, {_RETIRE}, {_UUID}",
    "visit": "visit_id INT PRIMARY KEY AUTO_INCREMENT, patient_id INT NOT NULL, visit_type_id INT NOT NULL, "
             "date_started DATETIME NOT NULL, date_stopped DATETIME, indication_concept_id INT, location_id INT, "
             f"{_AUDIT}, {_VOID}, {_UUID}",
    "encounter_type": f"encounter_type_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50) NOT NULL, description "
                      f"TEXT, creator INT NOT NULL, date_created DATETIME NOT NULL, {_RETIRE}, {_UUID}",
    "encounter": "encounter_id INT PRIMARY KEY AUTO_INCREMENT, encounter_type INT NOT NULL, patient_id INT NOT "
                 "NULL, location_id INT, form_id INT, encounter_datetime DATETIME NOT NULL, "
                 f"{_AUDIT}, {_VOID}, visit_id INT, {_UUID}",
    "encounter_provider": "encounter_provider_id INT PRIMARY KEY AUTO_INCREMENT, encounter_id INT NOT NULL, "
                          f"provider_id INT NOT NULL, encounter_role_id INT NOT NULL, {_AUDIT}, {_VOID}, {_UUID}",
    "concept": f"concept_id INT PRIMARY KEY AUTO_INCREMENT, {_RETIRE.replace('retired_by INT, ', '')}, "
               "short_name VARCHAR(255), description TEXT, form_text TEXT, datatype_id INT NOT NULL, "
               f"class_id INT NOT NULL, is_set TINYINT(1) NOT NULL DEFAULT 0, {_AUDIT}, version VARCHAR(50), "
               f"retired_by INT, {_UUID}",
    "concept_class": f"concept_class_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(255) NOT NULL, description "
                     f"VARCHAR(255), creator INT NOT NULL, date_created DATETIME NOT NULL, {_RETIRE}, {_UUID}",
    "concept_name": "concept_name_id INT PRIMARY KEY AUTO_INCREMENT, concept_id INT, name VARCHAR(255) NOT NULL, "
                    "locale VARCHAR(50) NOT NULL, locale_preferred TINYINT(1) DEFAULT 0, creator INT NOT NULL, "
                    f"date_created DATETIME NOT NULL, concept_name_type VARCHAR(50), {_VOID}, {_UUID}",
    "concept_reference_term": "concept_reference_term_id INT PRIMARY KEY AUTO_INCREMENT, concept_source_id INT "
                              "NOT NULL, name VARCHAR(255), code VARCHAR(255) NOT NULL, version VARCHAR(255), "
                              f"description VARCHAR(255), {_AUDIT}, {_RETIRE}, {_UUID}",
    "concept_reference_map": "concept_map_id INT PRIMARY KEY AUTO_INCREMENT, concept_reference_term_id INT NOT "
                             "NULL, concept_map_type_id INT NOT NULL DEFAULT 1, creator INT NOT NULL, date_created "
                             f"DATETIME NOT NULL, concept_id INT NOT NULL DEFAULT 0, changed_by INT, date_changed "
                             f"DATETIME, {_UUID}",
    "obs": "obs_id INT PRIMARY KEY AUTO_INCREMENT, person_id INT NOT NULL, concept_id INT NOT NULL DEFAULT 0, "
           "encounter_id INT, order_id INT, obs_datetime DATETIME NOT NULL, location_id INT, obs_group_id INT, "
           "accession_number VARCHAR(255), value_group_id INT, value_coded INT, value_coded_name_id INT, "
           "value_drug INT, value_datetime DATETIME, value_numeric DOUBLE, value_modifier VARCHAR(2), "
           "value_text TEXT, value_complex VARCHAR(1000), comments VARCHAR(255), creator INT NOT NULL, "
           f"date_created DATETIME NOT NULL, {_VOID}, {_UUID}, previous_version INT, "
           "form_namespace_and_path VARCHAR(255), status VARCHAR(16) NOT NULL DEFAULT 'FINAL', "
           "interpretation VARCHAR(32)",
    "encounter_diagnosis": "diagnosis_id INT PRIMARY KEY AUTO_INCREMENT, diagnosis_coded INT, "
                           "diagnosis_non_coded VARCHAR(255), diagnosis_coded_name INT, encounter_id INT NOT NULL, "
                           "patient_id INT NOT NULL, condition_id INT, certainty VARCHAR(255) NOT NULL, "
                           f"dx_rank INT NOT NULL, {_UUID}, {_AUDIT}, {_VOID}, form_namespace_and_path VARCHAR(255)",
    "conditions": "condition_id INT PRIMARY KEY AUTO_INCREMENT, additional_detail VARCHAR(255), "
                  "previous_version INT, condition_coded INT, condition_non_coded VARCHAR(255), "
                  "condition_coded_name INT, clinical_status VARCHAR(50) NOT NULL, verification_status VARCHAR(50), "
                  "onset_date DATETIME, date_created DATETIME NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, "
                  "date_voided DATETIME, void_reason VARCHAR(255), uuid CHAR(38) NOT NULL UNIQUE, creator INT NOT "
                  "NULL, voided_by INT, changed_by INT, patient_id INT NOT NULL, end_date DATETIME, "
                  "date_changed DATETIME, encounter_id INT",
    "drug": "drug_id INT PRIMARY KEY AUTO_INCREMENT, concept_id INT NOT NULL DEFAULT 0, name VARCHAR(255), "
            "combination TINYINT(1) NOT NULL DEFAULT 0, dosage_form INT, maximum_daily_dose DOUBLE, minimum_daily_dose "
            f"DOUBLE, route INT, {_AUDIT}, {_RETIRE}, {_UUID}, strength VARCHAR(255), dose_limit_units INT",
    "order_frequency": "order_frequency_id INT PRIMARY KEY AUTO_INCREMENT, concept_id INT NOT NULL, "
                       f"frequency_per_day DOUBLE, {_AUDIT}, {_RETIRE}, {_UUID}",
    "orders": "order_id INT PRIMARY KEY AUTO_INCREMENT, order_type_id INT NOT NULL DEFAULT 0, concept_id INT NOT "
              "NULL DEFAULT 0, orderer INT NOT NULL, instructions TEXT, date_activated DATETIME, "
              "auto_expire_date DATETIME, date_stopped DATETIME, order_reason INT, order_reason_non_coded "
              f"VARCHAR(255), encounter_id INT NOT NULL, creator INT NOT NULL, date_created DATETIME NOT NULL, "
              f"{_VOID}, patient_id INT NOT NULL, accession_number VARCHAR(255), {_UUID}, urgency VARCHAR(50) NOT "
              "NULL DEFAULT 'ROUTINE', order_number VARCHAR(50) NOT NULL, previous_order_id INT, order_action "
              "VARCHAR(50) NOT NULL, comment_to_fulfiller VARCHAR(1024), care_setting INT NOT NULL, "
              "scheduled_date DATETIME, order_group_id INT, sort_weight DOUBLE, fulfiller_comment VARCHAR(1024), "
              "fulfiller_status VARCHAR(50)",
    "drug_order": "order_id INT PRIMARY KEY, drug_inventory_id INT, dose DOUBLE, as_needed TINYINT(1), dosing_type "
                  "VARCHAR(255), quantity DOUBLE, as_needed_condition VARCHAR(255), num_refills INT, "
                  "dosing_instructions TEXT, duration INT, duration_units INT, quantity_units INT, route INT, "
                  "dose_units INT, frequency INT, brand_name VARCHAR(255), dispense_as_written TINYINT(1) NOT NULL "
                  "DEFAULT 0, drug_non_coded VARCHAR(255)",
    "allergy": "allergy_id INT PRIMARY KEY AUTO_INCREMENT, patient_id INT NOT NULL, severity_concept_id INT, "
               "coded_allergen INT NOT NULL, non_coded_allergen VARCHAR(255), allergen_type VARCHAR(50) NOT NULL, "
               f"comments VARCHAR(1024), {_AUDIT}, {_VOID}, {_UUID}",
    "allergy_reaction": "allergy_reaction_id INT PRIMARY KEY AUTO_INCREMENT, allergy_id INT NOT NULL, "
                        "reaction_concept_id INT NOT NULL, reaction_non_coded VARCHAR(255), {_UUID}",
}
DDL["allergy_reaction"] = DDL["allergy_reaction"].replace("{_UUID}", _UUID)


@dataclass
class OpenmrsClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    #: planted dirty rows: name → the row's key
    dirty: dict[str, int] = field(default_factory=dict)
    #: patient id → (the preferred name's family + given, gender, birth date); None: no name row
    people: dict[int, tuple[str | None, str, dt.date]] = field(default_factory=dict)
    #: for tests/test_random_server_clinics.py's flow
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_openmrs_clinic(conn_str: str, database: str = "emr_openmrs_shaped", *, seed: int = 2026) -> OpenmrsClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    rng = random.Random(seed)
    target = _fresh_database(conn_str, database, "mariadb")
    db = OpenmrsClinic("mariadb", odbc=target, patients="patient")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    for name, columns in DDL.items():
        c.execute(f"CREATE TABLE {name} ({columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")

    def uid() -> str:
        return str(uuidlib.UUID(int=rng.getrandbits(128)))

    created = dt.datetime(2023, 5, 2, 8, 30)

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        width = len(rows[0])
        c.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)
        db.table(table, width, len(rows))

    def audit() -> tuple[Any, ...]:  # creator, date_created, changed_by, date_changed
        return (1, created, None, None)

    live = (0, None, None, None)  # voided / retired, by, when, why
    put("location", [(1, "가상의원 본원", "외래 진료", "서울시 가상구 가상로 1", "서울", "대한민국", None, None, *audit(),
                      *live, None, uid()),
                     (2, "가상의원 분원", None, None, "부산", "대한민국", "35.1", "129.0", *audit(),
                      1, 1, created, "폐업", 1, uid())])
    people: list[tuple[Any, ...]] = []
    names: list[tuple[Any, ...]] = []
    for p in range(1, STAFF + PATIENTS + 1):
        gender = "MF"[p % 2] if p % 13 else "O"
        birth = dt.date(1940 + p % 60, 1 + p % 12, 1 + p % 28)
        dead = 1 if p == 17 else 0
        voided = (1, 1, created + dt.timedelta(days=9), "중복 등록") if p == 20 else live
        people.append((p, gender, birth, int(p % 7 == 0), dead, dt.datetime(2024, 5, 1, 14, 30) if dead else None,
                       4002 if dead else None, *audit(), *voided, uid(), 0,
                       dt.time(4, 15) if p % 11 == 0 else None, None))
        family, given = SURNAMES[p % 10], GIVEN[(p * 3) % 10]
        if p == 9:
            db.dirty["nameless"] = p
        elif p == 12:  # a former name first, the preferred one second
            names.append((len(names) + 1, 0, p, None, "옛이름", None, None, family, None, None, None, 1, created,
                          1, 1, created, "개명", None, None, uid()))
            names.append((len(names) + 1, 1, p, None, given, None, None, family, None, None, "박사", 1, created,
                          *live, None, None, uid()))
        else:
            names.append((len(names) + 1, 1, p, "Dr." if p <= STAFF else None, given, None, None, family, None,
                          None, None, 1, created, *live, None, None, uid()))
        if p > STAFF:
            db.people[p] = (None if p == 9 else f"{family} {given}", gender, birth)
    db.dirty["voided_patient"] = 20
    db.dirty["two_names"] = 12
    put("person", people)
    put("person_name", names)
    put("users", [(1, "admin", "admin", "4a1f" * 32, "9c2e" * 32, None, None, *audit(), 1, *live, uid(), None,
                   "admin@example.kr"),
                  (2, "2-7", "dr.kim", "b7d0" * 32, "11aa" * 32, "첫 학교?", "가상초", *audit(), 2, *live, uid(),
                   None, None),
                  (3, "3-4", "nurse.lee", "c3c3" * 32, "22bb" * 32, None, None, *audit(), 3, 1, 1, created, "퇴사",
                   uid(), None, None)])
    put("provider", [(1, 2, None, "DR-0001", *audit(), *live, uid()), (2, 3, None, "RN-0001", *audit(), *live, uid())])
    put("patient_identifier_type", [
        (1, "OpenMRS ID", "Luhn 검증 번호", None, 1, *audit(), 1, *live, uid()),
        (2, "차트번호", "의원 차트번호", r"\d{8}", 0, *audit(), 0, *live, uid())])
    put("patient", [(p, *audit(), *((1, 1, created, "중복 등록") if p == 20 else live),
                     "Unknown" if p % 3 else "See list") for p in db.people])
    identifiers: list[tuple[Any, ...]] = []
    for p in db.people:
        identifiers.append((len(identifiers) + 1, p, f"{100000 + p}-{p % 9}", 1, 0, 1, *audit(), *live, uid()))
        identifiers.append((len(identifiers) + 1, p, f"{p:08d}", 2, 1, 1, *audit(), *live, uid()))
    put("patient_identifier", identifiers)
    put("visit_type", [(1, "외래", "외래 방문", *audit(), *live, uid()), (2, "입원", None, *audit(), *live, uid())])
    put("encounter_type", [(1, "Vitals", "활력징후 측정", 1, created, *live, uid()),
                           (2, "Consultation", "진료", 1, created, *live, uid())])
    put("concept_class", [(i, n, None, 1, created, *live, uid()) for i, n in enumerate(
        ["Finding", "ConvSet", "Misc", "Test", "Diagnosis", "Drug", "Symptom", "Frequency"], 1)])
    classes = {n: i for i, n in enumerate(["Finding", "ConvSet", "Misc", "Test", "Diagnosis", "Drug", "Symptom",
                                           "Frequency"], 1)}
    datatypes = {"Numeric": 1, "Coded": 2, "Text": 3, "N/A": 4}
    put("concept", [(cid, int(ret), created if ret else None, "사용 안 함" if ret else None, None, None, None,
                     datatypes[dtype], classes[cls], int(cls == "ConvSet"), *audit(), "1.0", 1 if ret else None, uid())
                    for cid, (dtype, cls, _, _, _, ret) in CONCEPTS.items()])
    concept_names: list[tuple[Any, ...]] = []
    for cid, (_, _, en, ko, _, _) in CONCEPTS.items():
        for name, locale in ((en, "en"), (ko, "ko")):
            concept_names.append((len(concept_names) + 1, cid, name, locale, 1, 1, created, "FULLY_SPECIFIED",
                                  *live, uid()))
    put("concept_name", concept_names)
    coded = [(cid, code) for cid, (_, _, _, _, code, _) in CONCEPTS.items() if code]
    put("concept_reference_term", [(i, 1 if code[0].isalpha() else 2, None, code, "7th" if code[0].isalpha() else
                                    "2.74", None, *audit(), *live, uid()) for i, (_, code) in enumerate(coded, 1)])
    put("concept_reference_map", [(i, i, 1, 1, created, cid, None, None, uid()) for i, (cid, _) in enumerate(coded, 1)])
    visits: list[tuple[Any, ...]] = []
    encounters: list[tuple[Any, ...]] = []
    providers: list[tuple[Any, ...]] = []
    obs: list[tuple[Any, ...]] = []
    diagnoses: list[tuple[Any, ...]] = []
    base = dt.datetime(2024, 3, 4, 9, 0)
    patients = sorted(db.people)

    def observation(person: int, concept: int, enc: int | None, at: dt.datetime, *, group: int | None = None,
                    numeric: float | None = None, coded: int | None = None, text: str | None = None,
                    voided: tuple[Any, ...] = live) -> int:
        oid = len(obs) + 1
        obs.append((oid, person, concept, enc, None, at, 1, group, None, None, coded, None, None, None, numeric, None,
                    text, None, None, 1, at, *voided, uid(), None, None, "FINAL", None))
        return oid

    for v in range(72):
        pid = patients[v % len(patients)]
        start = base + dt.timedelta(days=v, hours=v % 6, minutes=(v * 13) % 60)
        vid = v + 1
        visits.append((vid, pid, 1 + (v % 9 == 0), start, start + dt.timedelta(hours=1) if v % 4 else None,
                       3002 if v % 5 == 0 else None, 1, *audit(), *live, uid()))
        for kind in (1, 2):
            eid = len(encounters) + 1
            at = start + dt.timedelta(minutes=10 * kind)
            encounters.append((eid, kind, pid, 1, None, at, *audit(), *live, vid, uid()))
            providers.append((len(providers) + 1, eid, 1 + (kind == 1), 1, *audit(), *live, uid()))
            if kind == 1:
                group = observation(pid, 1114, eid, at)
                values = (110 + v % 40, 65 + v % 25, 60 + v % 35, 36.4 + (v % 6) / 10, 50.5 + v % 30)
                for concept, value in zip(VITALS, values, strict=True):
                    observation(pid, concept, eid, at, group=group, numeric=float(value),
                                voided=(1, 2, at, "잘못 입력") if v == 3 and concept == 5087 else live)
            else:
                if v % 3 == 0:
                    observation(pid, 21, eid, at, numeric=round(11.5 + (v % 7) / 2, 1))
                if v % 4 == 1:
                    observation(pid, 160, eid, at, text=f"두통 {v % 5 + 1}일째, 해열제 복용 후 호전")
                rank = 1
                for dx in ([3001 + v % 3] + ([3002] if v % 6 == 5 else [])):
                    diagnoses.append((len(diagnoses) + 1, dx, None, None, eid, pid, None,
                                      "CONFIRMED" if v % 4 else "PROVISIONAL", rank, uid(), *audit(), *live, None))
                    rank += 1
                if v % 10 == 7:
                    diagnoses.append((len(diagnoses) + 1, None, "원인 미상의 어지럼증", None, eid, pid, None,
                                      "PROVISIONAL", rank, uid(), *audit(), *live, None))
    # an obs whose encounter no row has (a deleted encounter's)
    db.dirty["orphan_obs"] = observation(patients[0], 5088, 9999, base, numeric=37.0)
    put("visit", visits)
    put("encounter", encounters)
    put("encounter_provider", providers)
    put("obs", obs)
    put("encounter_diagnosis", diagnoses)
    put("conditions", [(i, None, None, 3002 if i % 2 else None, None if i % 2 else "만성 위염", None,
                        "ACTIVE" if i % 3 else "INACTIVE", "CONFIRMED", dt.datetime(2020 + i % 4, 1 + i % 12, 3),
                        created, 0, None, None, uid(), 1, None, None, patients[i * 3], None, None, None)
                       for i in range(1, 11)])
    put("drug", [(1, 5001, "타이레놀정500mg", 0, None, 4000.0, None, None, *audit(), *live, uid(), "500mg", None),
                 (2, 5002, "노바스크정5mg", 0, None, 10.0, None, None, *audit(), *live, uid(), "5mg", None)])
    put("order_frequency", [(1, 1513, 2.0, *audit(), *live, uid())])
    orders: list[tuple[Any, ...]] = []
    drug_orders: list[tuple[Any, ...]] = []
    for n, enc in enumerate(e for e in encounters if e[1] == 2):
        if n % 2:
            continue
        oid = len(orders) + 1
        drug = 1 + n % 4 // 2
        at = enc[5]
        orders.append((oid, 2, 5000 + drug, 1, None, at, at + dt.timedelta(days=3 + n % 5), None, None, None,
                       enc[0], 1, at, *live, enc[2], None, uid(), "ROUTINE", f"ORD-{oid}", None, "NEW", None, 1, None,
                       None, None, None, None))
        drug_orders.append((oid, drug, None if n == 4 else 1.0 + n % 2, 0, "org.openmrs.SimpleDosingInstructions",
                            6.0, None, 0, "식후 30분" if n % 3 else None, 3 + n % 5, 1072, 1513, 160240, 1513, 1,
                            None, 0, None))
    db.dirty["doseless_order"] = 3
    put("orders", orders)
    put("drug_order", drug_orders)
    allergies = [(i, patients[i * 3], 4003 if i % 2 else None, 4001 if i % 3 else 5001, None if i % 4 else "꽃가루",
                  "DRUG" if i % 4 else "ENVIRONMENT", "어릴 때 발진" if i == 1 else None, *audit(), *live, uid())
                 for i in range(1, 9)]
    put("allergy", allergies)
    put("allergy_reaction", [(i, 1 + (i - 1) % 8, 4002, "가려움" if i % 3 == 0 else None, uid()) for i in range(1, 11)])
    conn.close()
    return db
