"""A synthetic clinic in the style of an OpenMRS-like EAV (entity–attribute–value) EMR on MariaDB (test data only).

Nothing like the demo: a ``person`` with its names, addresses and attributes in their own tables, a ``patient``
whose key is the person's, the chart number an *identifier row* (``patient_identifier``), visits and encounters,
and every measurement, lab result and diagnosis one ``obs`` row of a ``concept`` (Korean and English names in
``concept_name``), grouped by ``obs_group_id``. Orders with their drug details in ``drug_order``, allergies with
reactions, users (with password hashes), providers, locations, and a settings table keyed by text. UUIDs are
``CHAR(38)``, flags ``TINYINT(1)``, times ``DATETIME``. Names, numbers and RRNs are made up.

Planted dirty rows (what :class:`EavClinic` ``dirty`` names): an obs of a person who does not exist (orphan), a
voided patient, a birth date ``2023-02-30`` (stored under ``ALLOW_INVALID_DATES``), a person with no given name
(NULL), a numeric obs with a NULL value, a voided obs, and a weight obs outside any encounter (``encounter_id``
NULL).
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
#: concept id → (datatype, English name, Korean name, unit)
CONCEPTS: dict[int, tuple[str, str, str, str | None]] = {
    5085: ("Numeric", "Systolic blood pressure", "수축기 혈압", "mmHg"),
    5086: ("Numeric", "Diastolic blood pressure", "이완기 혈압", "mmHg"),
    5087: ("Numeric", "Pulse", "맥박", "/min"),
    5088: ("Numeric", "Temperature (C)", "체온", "°C"),
    5089: ("Numeric", "Weight (kg)", "체중", "kg"),
    5090: ("Numeric", "Height (cm)", "신장", "cm"),
    1284: ("Coded", "Problem list diagnosis", "진단", None),
    21: ("Numeric", "Hemoglobin", "혈색소", "g/dL"),
    887: ("Numeric", "Serum glucose", "혈당", "mg/dL"),
    1000: ("ConvSet", "Vital signs", "활력징후", None),
    160: ("Text", "Clinical note", "진료 메모", None),
    1150: ("Datetime", "Date of onset", "발병일", None),
    # coded answers: diagnoses (KCD codes live in concept_reference_term, here in concept.short_code)
    3001: ("N/A", "Acute nasopharyngitis", "급성 비인두염", None),
    3002: ("N/A", "Essential hypertension", "본태성 고혈압", None),
    3003: ("N/A", "Gastritis, unspecified", "상세불명의 위염", None),
    4001: ("N/A", "Penicillin", "페니실린", None),
    4002: ("N/A", "Rash", "발진", None),
    4003: ("N/A", "Moderate", "중등도", None),
    5001: ("N/A", "Acetaminophen 500mg", "타이레놀정500mg", None),
}
KCD = {3001: "J00", 3002: "I10", 3003: "K29.7"}
VITALS = {5085: (110, 150), 5086: (60, 95), 5087: (55, 100), 5088: (36.0, 38.5), 5089: (45.0, 90.0),
          5090: (150.0, 185.0)}


def _uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128)))


@dataclass
class EavClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    persons: int = 0
    #: planted dirty rows: name → the row's key
    dirty: dict[str, int] = field(default_factory=dict)
    #: live (not voided) obs of each vital concept, with a value: concept → count
    vital_obs: dict[int, int] = field(default_factory=dict)
    #: every obs value_numeric as inserted: obs_id → Decimal text
    numeric: dict[int, str] = field(default_factory=dict)
    #: every encounter's encounter_datetime as inserted: encounter_id → wall-clock time
    starts: dict[int, dt.datetime] = field(default_factory=dict)


DDL = (
    "CREATE TABLE location (location_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(255) NOT NULL, "
    "description VARCHAR(255), retired TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE person (person_id INT PRIMARY KEY AUTO_INCREMENT, gender VARCHAR(50) DEFAULT '', "
    "birthdate DATE, birthdate_estimated TINYINT(1) NOT NULL DEFAULT 0, dead TINYINT(1) NOT NULL DEFAULT 0, "
    "death_date DATETIME, creator INT, date_created DATETIME NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE person_name (person_name_id INT PRIMARY KEY AUTO_INCREMENT, preferred TINYINT(1) NOT NULL "
    "DEFAULT 0, person_id INT NOT NULL, given_name VARCHAR(50), middle_name VARCHAR(50), family_name VARCHAR(50), "
    "voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE person_address (person_address_id INT PRIMARY KEY AUTO_INCREMENT, person_id INT, "
    "preferred TINYINT(1) NOT NULL DEFAULT 0, address1 VARCHAR(255), address2 VARCHAR(255), "
    "city_village VARCHAR(255), state_province VARCHAR(255), postal_code VARCHAR(50), country VARCHAR(50), "
    "voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE person_attribute_type (person_attribute_type_id INT PRIMARY KEY AUTO_INCREMENT, "
    "name VARCHAR(50) NOT NULL, format VARCHAR(50), searchable TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE person_attribute (person_attribute_id INT PRIMARY KEY AUTO_INCREMENT, person_id INT NOT NULL, "
    "value VARCHAR(50) NOT NULL, person_attribute_type_id INT NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE patient (patient_id INT PRIMARY KEY, creator INT NOT NULL, date_created DATETIME NOT NULL, "
    "voided TINYINT(1) NOT NULL DEFAULT 0, void_reason VARCHAR(255))",
    "CREATE TABLE patient_identifier_type (patient_identifier_type_id INT PRIMARY KEY AUTO_INCREMENT, "
    "name VARCHAR(50) NOT NULL, format VARCHAR(255), required TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE patient_identifier (patient_identifier_id INT PRIMARY KEY AUTO_INCREMENT, patient_id INT NOT "
    "NULL, identifier VARCHAR(50) NOT NULL, identifier_type INT NOT NULL, preferred TINYINT(1) NOT NULL DEFAULT 0,"
    " location_id INT, voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE users (user_id INT PRIMARY KEY AUTO_INCREMENT, system_id VARCHAR(50) NOT NULL, "
    "username VARCHAR(50), password VARCHAR(128), salt VARCHAR(128), person_id INT NOT NULL, "
    "retired TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE provider (provider_id INT PRIMARY KEY AUTO_INCREMENT, person_id INT, name VARCHAR(255), "
    "identifier VARCHAR(255), retired TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE visit_type (visit_type_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(255) NOT NULL, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE visit (visit_id INT PRIMARY KEY AUTO_INCREMENT, patient_id INT NOT NULL, visit_type_id INT NOT "
    "NULL, date_started DATETIME NOT NULL, date_stopped DATETIME, location_id INT, voided TINYINT(1) NOT NULL "
    "DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE encounter_type (encounter_type_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50) NOT NULL, "
    "description TEXT, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE encounter (encounter_id INT PRIMARY KEY AUTO_INCREMENT, encounter_type INT NOT NULL, "
    "patient_id INT NOT NULL, location_id INT, visit_id INT, encounter_datetime DATETIME NOT NULL, "
    "voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE encounter_provider (encounter_provider_id INT PRIMARY KEY AUTO_INCREMENT, encounter_id INT NOT "
    "NULL, provider_id INT NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE concept (concept_id INT PRIMARY KEY, datatype VARCHAR(20), short_code VARCHAR(20), "
    "units VARCHAR(20), is_set TINYINT(1) NOT NULL DEFAULT 0, retired TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE concept_name (concept_name_id INT PRIMARY KEY AUTO_INCREMENT, concept_id INT, "
    "name VARCHAR(255) NOT NULL, locale VARCHAR(50) NOT NULL, locale_preferred TINYINT(1) DEFAULT 0, "
    "concept_name_type VARCHAR(50), voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE obs (obs_id INT PRIMARY KEY AUTO_INCREMENT, person_id INT NOT NULL, concept_id INT NOT NULL, "
    "encounter_id INT, order_id INT, obs_datetime DATETIME NOT NULL, location_id INT, obs_group_id INT, "
    "value_coded INT, value_datetime DATETIME, value_numeric DOUBLE, value_text TEXT, comments VARCHAR(255), "
    "voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE drug (drug_id INT PRIMARY KEY AUTO_INCREMENT, concept_id INT NOT NULL, name VARCHAR(255), "
    "strength VARCHAR(255), uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE orders (order_id INT PRIMARY KEY AUTO_INCREMENT, order_type_id INT NOT NULL, concept_id INT "
    "NOT NULL, orderer INT NOT NULL, encounter_id INT NOT NULL, patient_id INT NOT NULL, date_activated DATETIME, "
    "date_stopped DATETIME, order_number VARCHAR(50) NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE drug_order (order_id INT PRIMARY KEY, drug_inventory_id INT, dose DOUBLE, dose_units INT, "
    "frequency VARCHAR(50), duration INT, quantity DOUBLE, route VARCHAR(50), as_needed TINYINT(1))",
    "CREATE TABLE allergy (allergy_id INT PRIMARY KEY AUTO_INCREMENT, patient_id INT NOT NULL, "
    "severity_concept_id INT, coded_allergen INT, non_coded_allergen VARCHAR(255), allergen_type VARCHAR(50) "
    "NOT NULL, comments VARCHAR(1024), date_created DATETIME NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE allergy_reaction (allergy_reaction_id INT PRIMARY KEY AUTO_INCREMENT, allergy_id INT NOT NULL, "
    "reaction_concept_id INT NOT NULL, reaction_non_coded VARCHAR(255), uuid CHAR(38) NOT NULL UNIQUE)",
    "CREATE TABLE global_property (property VARCHAR(255) PRIMARY KEY, property_value TEXT, description TEXT, "
    "uuid CHAR(38) NOT NULL UNIQUE)",
)


def create_eav_clinic(conn_str: str, database: str = "emr_eav_clinic", *, patients: int = 30,
                      seed: int = 21) -> EavClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    rng = random.Random(seed)
    target = _fresh_database(conn_str, database, "mariadb")
    db = EavClinic("mariadb", odbc=target, patients="patient")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    c.execute("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")  # as the planted 2023-02-30 needs
    for ddl in DDL:
        c.execute(ddl)
    created = dt.datetime(2019, 3, 4, 9, 0, 0)

    def insert(table: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        c.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        db.table(table, len(rows[0]), len(rows))

    insert("location", [(1, "본원 진료실", "1층", 0, _uuid(rng)), (2, "검사실", None, 0, _uuid(rng))])
    # people: patients 1..N, then two doctors
    people, names, addresses, attributes, pts, identifiers = [], [], [], [], [], []
    for pid in range(1, patients + 1):
        birth: str | None = f"{rng.randint(1940, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if pid == 7:
            birth = "2023-02-30"  # an impossible date, kept by ALLOW_INVALID_DATES
            db.dirty["invalid-birthdate"] = pid
        dead = 1 if pid == 11 else 0
        people.append((pid, "MF"[pid % 2], birth, 1 if pid % 9 == 0 else 0, dead,
                       dt.datetime(2024, 5, 1, 14, 30) if dead else None, 1, created, 0, _uuid(rng)))
        given: str | None = GIVEN[pid % 10]
        if pid == 13:
            given = None  # a name with no given name
            db.dirty["null-given-name"] = pid
        names.append((pid, 1, pid, given, None, SURNAMES[pid % 10], 0, _uuid(rng)))
        addresses.append((pid, pid, 1, f"테헤란로 {pid}길", f"{pid}호", "강남구", "서울특별시", f"06{pid:03d}",
                          "대한민국", 0, _uuid(rng)))
        yy = int(birth[2:4]) if birth else 80
        attributes.append((2 * pid - 1, pid, f"010-{1000 + pid:04d}-{5000 + pid:04d}", 1, 0, _uuid(rng)))
        attributes.append((2 * pid, pid, f"{yy:02d}0101-{1 + pid % 2}{pid:06d}", 2, 0, _uuid(rng)))
        voided = 1 if pid == 17 else 0
        if voided:
            db.dirty["voided-patient"] = pid
        pts.append((pid, 1, created, voided, "중복 등록" if voided else None))
        identifiers.append((pid, pid, f"{pid:08d}", 1, 1, 1, 0, _uuid(rng)))
    for pid in (patients + 1, patients + 2):  # the two doctors
        people.append((pid, "M", "1970-01-01", 0, 0, None, 1, created, 0, _uuid(rng)))
        names.append((pid, 1, pid, f"의사{pid - patients}", None, "한", 0, _uuid(rng)))
    # a second identifier type on a few patients: the 건강보험증 number (not the chart number)
    identifiers += [(patients + i, i, f"H{i:010d}", 2, 0, 1, 0, _uuid(rng)) for i in range(1, 6)]
    insert("person", people)
    db.persons = len(people)
    insert("person_name", names)
    insert("person_address", addresses)
    insert("person_attribute_type", [(1, "Telephone Number", "java.lang.String", 0, _uuid(rng)),
                                     (2, "주민등록번호", "java.lang.String", 1, _uuid(rng))])
    insert("person_attribute", attributes)
    insert("patient", pts)
    insert("patient_identifier_type", [(1, "차트번호", None, 1, _uuid(rng)), (2, "건강보험증번호", None, 0, _uuid(rng))])
    insert("patient_identifier", identifiers)
    insert("users", [(1, "admin", "admin", "4a1750c8607d" * 10, "c788c6ad" * 8, patients + 1, 0, _uuid(rng)),
                     (2, "doctor2", "doctor2", "9b8e1f" * 20, "aa55" * 16, patients + 2, 0, _uuid(rng))])
    insert("provider", [(1, patients + 1, None, "D001", 0, _uuid(rng)), (2, patients + 2, None, "D002", 0,
                                                                            _uuid(rng))])
    insert("visit_type", [(1, "외래", _uuid(rng)), (2, "입원", _uuid(rng))])
    insert("encounter_type", [(1, "초진", "첫 방문", _uuid(rng)), (2, "재진", None, _uuid(rng)),
                              (3, "검사", None, _uuid(rng))])
    concepts, concept_names = [], []
    for cid, (datatype, en, ko, unit) in CONCEPTS.items():
        concepts.append((cid, datatype, KCD.get(cid), unit, 1 if datatype == "ConvSet" else 0, 0, _uuid(rng)))
        concept_names.append((None, cid, en, "en", 1, "FULLY_SPECIFIED", 0, _uuid(rng)))
        concept_names.append((None, cid, ko, "ko", 1, "FULLY_SPECIFIED", 0, _uuid(rng)))
    insert("concept", concepts)
    c.executemany("INSERT INTO concept_name VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  [(i + 1, *n[1:]) for i, n in enumerate(concept_names)])
    db.table("concept_name", 8, len(concept_names))
    insert("drug", [(1, 5001, "타이레놀정500mg", "500 mg", _uuid(rng))])

    visits, encounters, enc_providers, obs, orders, drug_orders = [], [], [], [], [], []
    obs_id = 0

    def add_obs(pid: int, cid: int, enc: int | None, when: dt.datetime, group: int | None = None,
                **values: Any) -> int:
        nonlocal obs_id
        obs_id += 1
        obs.append((obs_id, pid, cid, enc, None, when, 1, group, values.get("coded"), values.get("datetime"),
                    values.get("numeric"), values.get("text"), None, values.get("voided", 0), _uuid(rng)))
        return obs_id

    enc_id = 0
    for pid in range(1, patients + 1):
        for n in range(rng.randint(1, 4)):
            vid = len(visits) + 1
            start = dt.datetime(2023, 1, 2, 9, 0) + dt.timedelta(days=rng.randint(0, 700),
                                                               minutes=rng.randint(0, 480))
            visits.append((vid, pid, 1, start, start + dt.timedelta(minutes=20), 1, 0, _uuid(rng)))
            enc_id += 1
            encounters.append((enc_id, 1 if n == 0 else 2, pid, 1, vid, start, 0, _uuid(rng)))
            db.starts[enc_id] = start
            enc_providers.append((enc_id, enc_id, 1 + enc_id % 2, 0, _uuid(rng)))
            group = add_obs(pid, 1000, enc_id, start)
            for cid, (low, high) in VITALS.items():
                value = round(rng.uniform(low, high), 1) if isinstance(low, float) else rng.randint(low, high)
                oid = add_obs(pid, cid, enc_id, start, group, numeric=value)
                db.numeric[oid] = str(value)
                db.vital_obs[cid] = db.vital_obs.get(cid, 0) + 1
            dx = rng.choice(list(KCD))
            add_obs(pid, 1284, enc_id, start, coded=dx)
            add_obs(pid, 160, enc_id, start, text=f"{rng.choice(['기침', '두통', '복통'])} {n + 1}일째, 경과 관찰")
            if rng.random() < 0.4:
                oid = add_obs(pid, rng.choice([21, 887]), enc_id, start + dt.timedelta(hours=1),
                              numeric=round(rng.uniform(10, 140), 2))
            if rng.random() < 0.5:
                order_id = len(orders) + 1
                orders.append((order_id, 2, 5001, 1 + enc_id % 2, enc_id, pid, start, None, f"ORD-{order_id}", 0,
                               _uuid(rng)))
                drug_orders.append((order_id, 1, 1.0, None, "1일 3회", rng.randint(3, 7), 9.0, "경구", 0))
    # the dirty obs: of a person that does not exist, a numeric one with no value, a voided one, onset dates
    db.dirty["orphan-obs"] = add_obs(9999, 5087, None, dt.datetime(2023, 5, 5, 10, 0), numeric=72)
    db.dirty["null-value-obs"] = add_obs(1, 5088, 1, dt.datetime(2023, 5, 6, 10, 0))
    db.dirty["voided-obs"] = add_obs(2, 5089, 2, dt.datetime(2023, 5, 7, 10, 0), numeric=70.5, voided=1)
    add_obs(3, 1150, 3, dt.datetime(2023, 5, 8, 10, 0), datetime=dt.datetime(2023, 5, 1, 0, 0))
    # a weight entered outside any encounter (encounter_id NULL, as OpenMRS's obs forms allow): the patient's own
    db.dirty["no-encounter-obs"] = oid = add_obs(5, 5089, None, dt.datetime(2023, 5, 9, 10, 0), numeric=61.5)
    db.numeric[oid] = "61.5"
    db.vital_obs[5089] += 1
    insert("visit", visits)
    insert("encounter", encounters)
    insert("encounter_provider", enc_providers)
    insert("obs", obs)
    insert("orders", orders)
    insert("drug_order", drug_orders)
    insert("allergy", [(1, 4, 4003, 4001, None, "DRUG", "투여 후 발진", created, 0, _uuid(rng)),
                       (2, 9, None, None, "갑각류", "FOOD", None, created, 0, _uuid(rng)),
                       (3, 12, None, 4001, None, "DRUG", None, created, 1, _uuid(rng))])
    insert("allergy_reaction", [(1, 1, 4002, None, _uuid(rng)), (2, 2, 4002, "두드러기", _uuid(rng))])
    insert("global_property", [("locale.allowed.list", "ko, en", "Allowed locales", _uuid(rng)),
                               ("default_location", "본원 진료실", None, _uuid(rng))])
    conn.close()
    return db


#: The contractor's finished connector.toml (docs/connectors.md), editing nothing but this file: the patient from
#: ``patient`` with the person's columns, its chart number, name, RRN, phone and address from their own tables
#: through sub-queries (one row each, the preferred first), and the obs table split by concept into diagnoses,
#: chart notes, one vital-sign section per measured concept and lab results for every other concept, so that
#: the sections' filters split it exactly.
EAV_CONNECTOR = r'''
[connector]
name = "foreign"
version = "0.1.0"
vendor = "contractor"
product = "OpenMRS-like EAV EMR"
engines = ["mariadb"]

[detect]
tables = ["person", "patient", "obs", "concept"]

[source]
encoding = "utf-8"
timezone = "Asia/Seoul"

[skip]
global_property = "program settings"
location = "the clinic's rooms"
visit_type = "code table"
encounter_type = "code table"
patient_identifier_type = "code table"
person_attribute_type = "code table"
users = "program users and their password hashes; no patient data"

[entities.practitioner]
table = "provider"
key = "provider_id"
query = """SELECT v.*, (SELECT CONCAT(n.family_name, n.given_name) FROM person_name n WHERE n.person_id = v.person_id AND n.voided = 0 ORDER BY n.preferred DESC, n.person_name_id LIMIT 1) AS doctor_name FROM provider v"""
[entities.practitioner.fields]
name = { column = "doctor_name", required = true }
licence_number = { column = "identifier" }

[entities.patient]
table = "patient"
key = "patient_id"
unique = ["chart_number"]
query = """SELECT p.*, pe.gender, pe.birthdate, pe.birthdate_estimated, pe.dead, pe.death_date, pe.uuid,
 (SELECT i.identifier FROM patient_identifier i WHERE i.patient_id = p.patient_id AND i.identifier_type = 1 AND i.voided = 0 ORDER BY i.preferred DESC, i.patient_identifier_id LIMIT 1) AS chart_no,
 (SELECT n.family_name FROM person_name n WHERE n.person_id = p.patient_id AND n.voided = 0 ORDER BY n.preferred DESC, n.person_name_id LIMIT 1) AS family_name,
 (SELECT n.given_name FROM person_name n WHERE n.person_id = p.patient_id AND n.voided = 0 ORDER BY n.preferred DESC, n.person_name_id LIMIT 1) AS given_name,
 (SELECT a.value FROM person_attribute a WHERE a.person_id = p.patient_id AND a.person_attribute_type_id = 2 AND a.voided = 0 LIMIT 1) AS rrn,
 (SELECT a.value FROM person_attribute a WHERE a.person_id = p.patient_id AND a.person_attribute_type_id = 1 AND a.voided = 0 LIMIT 1) AS phone,
 (SELECT CONCAT_WS(' ', d.state_province, d.city_village, d.address1, d.address2) FROM person_address d WHERE d.person_id = p.patient_id AND d.voided = 0 ORDER BY d.preferred DESC LIMIT 1) AS address
 FROM patient p LEFT JOIN person pe ON pe.person_id = p.patient_id"""
[entities.patient.fields]
chart_number = { column = "chart_no", required = true }
name = { columns = ["family_name", "given_name"], join = "", required = true }
sex = { column = "gender", type = "code", map = { M = "male", F = "female" }, default = "unknown" }
birth_date = { column = "birthdate", type = "date" }
rrn = { column = "rrn", type = "rrn" }
phone = { column = "phone" }
address = { column = "address" }
active = { column = "voided", type = "bool", map = { "0" = true, "1" = false } }
deceased = { column = "dead", type = "bool" }
death_date = { column = "death_date", type = "datetime" }

[entities.encounter]
table = "encounter"
key = "encounter_id"
query = """SELECT e.*, (SELECT ep.provider_id FROM encounter_provider ep WHERE ep.encounter_id = e.encounter_id AND ep.voided = 0 ORDER BY ep.encounter_provider_id LIMIT 1) AS provider_id, v.date_stopped FROM encounter e LEFT JOIN visit v ON v.visit_id = e.visit_id"""
[entities.encounter.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
practitioner_id = { column = "provider_id", type = "ref", ref = "practitioner" }
start = { column = "encounter_datetime", type = "datetime", required = true }
end = { column = "date_stopped", type = "datetime" }
status = { column = "voided", type = "status", map = { "1" = "entered-in-error", "0" = "finished" } }

[entities.diagnosis]
table = "obs"
key = "obs_id"
query = """SELECT o.*, c.short_code AS kcd, (SELECT n.name FROM concept_name n WHERE n.concept_id = o.value_coded AND n.locale = 'ko' AND n.voided = 0 LIMIT 1) AS dx_name FROM obs o LEFT JOIN concept c ON c.concept_id = o.value_coded WHERE o.concept_id = 1284"""
[entities.diagnosis.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
code = { column = "kcd", required = true }
text = { column = "dx_name" }
recorded = { column = "obs_datetime", type = "date" }
kcd_edition = { column = "obs_datetime", type = "kcd_edition" }
status = { column = "voided", type = "status", map = { "1" = "entered-in-error", "0" = "active" } }

[entities.chart_note]
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 160"
[entities.chart_note.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
recorded = { column = "obs_datetime", type = "datetime", required = true }
text = { column = "value_text" }

[entities.lab_result]
table = "obs"
key = "obs_id"
query = """SELECT o.*, c.units, (SELECT n.name FROM concept_name n WHERE n.concept_id = o.concept_id AND n.locale = 'ko' AND n.voided = 0 LIMIT 1) AS test_name FROM obs o LEFT JOIN concept c ON c.concept_id = o.concept_id WHERE o.concept_id NOT IN (1284, 160, 5085, 5086, 5087, 5088, 5089, 5090)"""
[entities.lab_result.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
code = { column = "concept_id" }
name = { column = "test_name" }
value = { column = "value_numeric" }
unit = { column = "units" }
status = { column = "voided", type = "status", map = { "1" = "entered-in-error", "0" = "final" } }

[entities.vital_bp_sys]
entity = "vital_signs"
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 5085"
[entities.vital_bp_sys.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
systolic = { column = "value_numeric", type = "decimal" }
bp_unit = { value = "mm[Hg]" }

[entities.vital_bp_dia]
entity = "vital_signs"
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 5086"
[entities.vital_bp_dia.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
diastolic = { column = "value_numeric", type = "decimal" }
bp_unit = { value = "mm[Hg]" }

[entities.vital_pulse]
entity = "vital_signs"
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 5087"
[entities.vital_pulse.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
pulse = { column = "value_numeric", type = "decimal" }
pulse_unit = { value = "/min" }

[entities.vital_temp]
entity = "vital_signs"
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 5088"
[entities.vital_temp.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
temperature = { column = "value_numeric", type = "decimal" }
temperature_unit = { value = "Cel" }

[entities.vital_weight]
entity = "vital_signs"
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 5089"
[entities.vital_weight.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
weight = { column = "value_numeric", type = "decimal" }
weight_unit = { value = "kg" }
status = { column = "voided", type = "status", map = { "1" = "entered-in-error", "0" = "final" } }

[entities.vital_height]
entity = "vital_signs"
table = "obs"
key = "obs_id"
query = "SELECT * FROM obs WHERE concept_id = 5090"
[entities.vital_height.fields]
patient_id = { column = "person_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
observed = { column = "obs_datetime", type = "datetime", required = true }
height = { column = "value_numeric", type = "decimal" }
height_unit = { value = "cm" }

[entities.order_line]
table = "orders"
key = "order_id"
query = """SELECT o.*, d.dose, d.frequency, d.duration, d.route, dr.name AS drug_name FROM orders o LEFT JOIN drug_order d ON d.order_id = o.order_id LEFT JOIN drug dr ON dr.drug_id = d.drug_inventory_id"""
[entities.order_line.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "encounter_id", type = "ref", ref = "encounter" }
ordered = { column = "date_activated", type = "date", required = true }
local_code = { column = "concept_id" }
name = { column = "drug_name" }
dose = { column = "dose", type = "decimal" }
days = { column = "duration", type = "int" }
route = { column = "route" }
code_type = { value = "drug" }
prescriber_id = { column = "orderer", type = "ref", ref = "practitioner" }

[entities.allergy]
table = "allergy"
key = "allergy_id"
query = """SELECT a.*, COALESCE(a.non_coded_allergen, (SELECT n.name FROM concept_name n WHERE n.concept_id = a.coded_allergen AND n.locale = 'ko' LIMIT 1)) AS substance_name, (SELECT GROUP_CONCAT(COALESCE(r.reaction_non_coded, (SELECT n.name FROM concept_name n WHERE n.concept_id = r.reaction_concept_id AND n.locale = 'ko' LIMIT 1)) SEPARATOR ', ') FROM allergy_reaction r WHERE r.allergy_id = a.allergy_id) AS reactions FROM allergy a"""
[entities.allergy.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
substance = { column = "substance_name", required = true }
category = { column = "allergen_type", type = "code", map = { DRUG = "medication", FOOD = "food", ENVIRONMENT = "environment" } }
reaction = { column = "reactions" }
note = { column = "comments" }
recorded = { column = "date_created", type = "date" }
status = { column = "voided", type = "status", map = { "1" = "entered-in-error", "0" = "active" } }
'''
