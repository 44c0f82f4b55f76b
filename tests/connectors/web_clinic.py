"""A synthetic clinic in the style of a modern web-application EMR on PostgreSQL (Django habits; test data only).

``clinic_patient``, ``clinic_visit``, ``clinic_diagnosis``, ``clinic_prescription``, ``clinic_allergy``,
``clinic_vitalsign`` beside Django's own ``auth_user`` (password hashes), ``django_migrations`` and
``django_session``. uuid primary keys, references by uuid, ``created_at``/``updated_at`` timestamptz, soft delete
(``deleted_at``, ``is_active``), enum types (``sex``, ``visit_status``), jsonb (vitals, an allergy list, free-form
metadata), a ``text[]`` of the visit's KCD codes, ``numeric(10,2)`` amounts, a ``citext`` email when the
extension can be created, a Korean name and an RRN. Names, numbers and RRNs are made up.

Planted dirty rows (what :class:`WebClinic` ``dirty`` names): a visit whose patient uuid is nobody's (orphan), a
patient with no name (NULL), a vital-signs row whose jsonb is a list instead of an object, a soft-deleted patient.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid as uuidlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
KCD = [("J00", "급성 비인두염"), ("I10", "본태성 고혈압"), ("K29.7", "상세불명의 위염"), ("E11.9", "합병증을 동반하지 않은 2형 당뇨병")]
DRUGS = [("643104170", "타이레놀정500mg"), ("645701960", "아모크실린캡슐250mg"), ("671803410", "노바스크정5mg")]
KST = dt.timezone(dt.timedelta(hours=9))

PATIENTS = 60
VISITS = 180


def _uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128)))


@dataclass
class WebClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    #: planted dirty rows: name → the row's uuid
    dirty: dict[str, str] = field(default_factory=dict)
    citext: bool = False
    #: patient uuid → (name, sex, birth date)
    patient_rows: dict[str, tuple[str | None, str, dt.date]] = field(default_factory=dict)
    #: visit uuid → visited_at as inserted (aware)
    visit_times: dict[str, dt.datetime] = field(default_factory=dict)
    #: vitals uuid → jsonb text inserted
    vitals: dict[str, str] = field(default_factory=dict)
    #: prescription uuid → amount
    amounts: dict[str, Decimal] = field(default_factory=dict)


class _Cursor:
    """pyodbc drops an aware datetime's offset (it binds the wall-clock time): timestamptz values go as ISO text."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    @staticmethod
    def _bind(params: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(p.isoformat() if isinstance(p, dt.datetime) and p.tzinfo else p for p in params)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.cursor.execute(sql, *self._bind(params))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.cursor.executemany(sql, [self._bind(r) for r in rows])


def create_web_clinic(conn_str: str, database: str = "emr_web_clinic_pg") -> WebClinic:
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = WebClinic("postgresql", odbc=target, patients="clinic_patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = _Cursor(conn.cursor())
    try:
        c.execute("CREATE EXTENSION IF NOT EXISTS citext")
        db.citext = True
    except pyodbc.Error:
        db.citext = False
    email = "citext" if db.citext else "varchar(254)"
    for ddl in (
        "CREATE TYPE sex AS ENUM ('male', 'female', 'other')",
        "CREATE TYPE visit_status AS ENUM ('scheduled', 'in_progress', 'completed', 'cancelled')",
        "CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255) NOT NULL, "
        "name varchar(255) NOT NULL, applied timestamptz NOT NULL)",
        "CREATE TABLE django_session (session_key varchar(40) PRIMARY KEY, session_data text NOT NULL, "
        "expire_date timestamptz NOT NULL)",
        f"CREATE TABLE auth_user (id serial PRIMARY KEY, password varchar(128) NOT NULL, last_login timestamptz, "
        f"is_superuser boolean NOT NULL, username varchar(150) NOT NULL UNIQUE, first_name varchar(150) NOT NULL, "
        f"last_name varchar(150) NOT NULL, email {email} NOT NULL, is_staff boolean NOT NULL, "
        f"is_active boolean NOT NULL, date_joined timestamptz NOT NULL)",
        "CREATE TABLE clinic_patient (id uuid PRIMARY KEY, chart_number varchar(20) NOT NULL UNIQUE, "
        "name varchar(100), rrn varchar(14), sex sex NOT NULL, birth_date date NOT NULL, "
        f"phone varchar(20), email {email}, address text, metadata jsonb NOT NULL DEFAULT '{{}}', "
        "is_active boolean NOT NULL DEFAULT true, deleted_at timestamptz, "
        "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)",
        "CREATE TABLE clinic_visit (id uuid PRIMARY KEY, patient_id uuid NOT NULL, doctor_id int, "
        "visited_at timestamptz NOT NULL, status visit_status NOT NULL, chief_complaint text, "
        "kcd_codes text[] NOT NULL DEFAULT '{}', fee numeric(10,2), "
        "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, deleted_at timestamptz)",
        "CREATE TABLE clinic_diagnosis (id uuid PRIMARY KEY, visit_id uuid NOT NULL REFERENCES clinic_visit(id), "
        "patient_id uuid NOT NULL, code varchar(10) NOT NULL, name text NOT NULL, is_primary boolean NOT NULL, "
        "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)",
        "CREATE TABLE clinic_prescription (id uuid PRIMARY KEY, visit_id uuid NOT NULL REFERENCES clinic_visit(id), "
        "patient_id uuid NOT NULL, drug_code varchar(20) NOT NULL, drug_name text NOT NULL, dose numeric(10,2), "
        "days integer, amount numeric(10,2), created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)",
        "CREATE TABLE clinic_allergy (id uuid PRIMARY KEY, patient_id uuid NOT NULL, substance text NOT NULL, "
        "reactions jsonb NOT NULL DEFAULT '[]', is_active boolean NOT NULL, "
        "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)",
        "CREATE TABLE clinic_vitalsign (id uuid PRIMARY KEY, visit_id uuid NOT NULL REFERENCES clinic_visit(id), "
        "patient_id uuid NOT NULL, measured_at timestamptz NOT NULL, vitals jsonb NOT NULL, "
        "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)",
    ):
        c.execute(ddl)
    rng = random.Random(20261203)
    base = dt.datetime(2024, 3, 1, 9, 0, tzinfo=KST)
    migrations = [(i, app, f"{i:04d}_initial") for i, app in enumerate(
        ["contenttypes", "auth", "admin", "sessions", "clinic", "clinic", "clinic"], 1)]
    c.executemany("INSERT INTO django_migrations VALUES (?, ?, ?, ?)",
                  [(i, a, n, "2023-01-01 00:00:00+00") for i, a, n in migrations])
    db.table("django_migrations", 4, len(migrations))
    c.executemany("INSERT INTO django_session VALUES (?, ?, ?)",
                  [(f"{rng.getrandbits(128):032x}", "eyJfYXV0aF91c2VyX2lkIjoiMSJ9:1abc", "2026-12-31 00:00:00+00")
                   for _ in range(5)])
    db.table("django_session", 3, 5)
    users = [(1, "pbkdf2_sha256$600000$salt$hash1=", True, "admin", "관리", "자", "admin@example.kr", True, True),
             (2, "pbkdf2_sha256$600000$salt$hash2=", False, "dr_kim", "진료", "김", "kim@example.kr", True, True),
             (3, "pbkdf2_sha256$600000$salt$hash3=", False, "nurse", "간호", "이", "lee@example.kr", False, False)]
    c.executemany("INSERT INTO auth_user VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, '2023-01-01 09:00:00+09')", users)
    db.table("auth_user", 11, len(users))
    patients: list[str] = []
    for i in range(1, PATIENTS + 1):
        pid = _uuid(rng)
        patients.append(pid)
        sex = ["male", "female", "other"][i % 3] if i % 17 else "other"
        birth = dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
        name: str | None = f"{SURNAMES[i % 10]}{GIVEN[(i * 3) % 10]}"
        if i == 7:
            name = None
            db.dirty["nameless"] = pid
        rrn = f"{birth:%y%m%d}-{'1' if sex == 'male' else '2'}{i:06d}"
        deleted = base + dt.timedelta(days=30) if i == 11 else None
        if deleted:
            db.dirty["deleted"] = pid
        meta = json.dumps({"referral": "지인 소개" if i % 2 else "인터넷", "vip": i % 5 == 0, "tags": ["당뇨"] * (i % 2)},
                          ensure_ascii=False)
        created = base - dt.timedelta(days=400 - i)
        c.execute("INSERT INTO clinic_patient VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (pid, f"C{i:06d}", name, rrn, sex, birth, f"010-{1000 + i:04d}-{2000 + i:04d}",
                   f"pt{i}@Example.KR" if i % 4 else None, f"서울시 가상구 가상로 {i}", meta, deleted is None,
                   deleted, created, created + dt.timedelta(hours=1)))
        db.patient_rows[pid] = (name, sex, birth)
    db.table("clinic_patient", 14, PATIENTS)
    visits: list[tuple[str, str]] = []
    for v in range(VISITS):
        vid = _uuid(rng)
        pid = patients[v % PATIENTS]
        if v == 5:
            pid = _uuid(rng)
            db.dirty["orphan_visit"] = vid
        # a few visits stored with another offset: the same instant, written from UTC
        at = base + dt.timedelta(days=v, hours=v % 8, minutes=(v * 7) % 60)
        stored = at.astimezone(dt.UTC) if v % 3 == 0 else at
        codes = [KCD[v % 4][0]] + ([KCD[(v + 1) % 4][0]] if v % 2 else [])
        status = ["completed", "completed", "in_progress", "scheduled", "cancelled"][v % 5]
        fee = Decimal(f"{(v % 9 + 1) * 1234}.50") if v % 10 else None
        c.execute("INSERT INTO clinic_visit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (vid, pid, 2 if v % 4 else None, stored, status, "두통 및 발열" if v % 2 else "정기 검진",
                   "{" + ",".join(codes) + "}", fee, at, at, at + dt.timedelta(days=3) if v == 9 else None))
        db.visit_times[vid] = at
        visits.append((vid, pid))
    db.table("clinic_visit", 11, VISITS)
    n = 0
    for v, (vid, pid) in enumerate(visits):
        for j, code in enumerate([KCD[v % 4]] + ([KCD[(v + 1) % 4]] if v % 2 else [])):
            at = base + dt.timedelta(days=v)
            c.execute("INSERT INTO clinic_diagnosis VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (_uuid(rng), vid, pid, code[0], code[1], j == 0, at, at))
            n += 1
    db.table("clinic_diagnosis", 8, n)
    n = 0
    for v, (vid, pid) in enumerate(visits):
        if v % 2:
            continue
        rid = _uuid(rng)
        code, drug = DRUGS[v % 3]
        amount = Decimal(f"{(v % 7 + 1) * 310}.25")
        at = base + dt.timedelta(days=v)
        c.execute("INSERT INTO clinic_prescription VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (rid, vid, pid, code, drug, Decimal("1.50") if v % 4 else Decimal("1.00"), 3 + v % 5, amount, at, at))
        db.amounts[rid] = amount
        n += 1
    db.table("clinic_prescription", 10, n)
    n = 0
    for i, pid in enumerate(patients):
        if i % 4:
            continue
        reactions = json.dumps([{"reaction": "두드러기", "severity": "mild"}] + ([{"reaction": "호흡곤란"}] if i % 8 == 0
                                                                             else []), ensure_ascii=False)
        c.execute("INSERT INTO clinic_allergy VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (_uuid(rng), pid, "페니실린" if i % 8 else "아스피린", reactions, i % 12 != 0, base, base))
        n += 1
    db.table("clinic_allergy", 7, n)
    n = 0
    for v, (vid, pid) in enumerate(visits):
        if v % 3 == 2:
            continue
        sid = _uuid(rng)
        vit: object = {"sbp": 110 + v % 40, "dbp": 65 + v % 25, "hr": 60 + v % 35, "temp": 36.5 + (v % 5) / 10,
               "position": "좌위"}
        if v == 4:
            vit = [120, 80]
            db.dirty["list_vitals"] = sid
        text = json.dumps(vit)
        at = base + dt.timedelta(days=v, minutes=5)
        c.execute("INSERT INTO clinic_vitalsign VALUES (?, ?, ?, ?, ?, ?, ?)", (sid, vid, pid, at, text, at, at))
        db.vitals[sid] = text
        n += 1
    db.table("clinic_vitalsign", 7, n)
    conn.close()
    return db


#: The contractor's finished connector.toml (docs/connectors.md): the scaffold's, with the sex and soft-delete
#: flag mapped, the vitals read out of their jsonb, and the visit's KCD codes (a text[]) as one diagnosis per code
#: (a section that reads the visits again, beside the encounter section that reads each visit once).
WEB_CONNECTOR = '''
[connector]
name = "foreign"
version = "0.1.0"
vendor = "unknown"
product = "Django clinic"
engines = ["postgresql"]

[detect]
tables = ["clinic_patient", "clinic_visit", "clinic_vitalsign"]

[source]
encoding = "utf-8"

[skip]
auth_user = "the program's user accounts and their passwords (hashes)"
django_migrations = "schema history"
django_session = "login sessions"

[entities.patient]
table = "clinic_patient"
key = "id"
unique = ["chart_number"]

[entities.patient.fields]
chart_number = { column = "chart_number", required = true }
name = { column = "name", required = true }
sex = { column = "sex" }
birth_date = { column = "birth_date", type = "date" }
rrn = { column = "rrn", type = "rrn" }
address = { column = "address" }
phone = { column = "phone" }
active = { column = "is_active", type = "bool" }

[entities.encounter]
table = "clinic_visit"
key = "id"

[entities.encounter.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
start = { column = "visited_at", type = "datetime", required = true }

[entities.diagnosis]
table = "clinic_diagnosis"
key = "id"
query = "SELECT D.*, V.visited_at AS svc_at FROM clinic_diagnosis D LEFT JOIN clinic_visit V ON V.id = D.visit_id"

[entities.diagnosis.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "visit_id", type = "ref", ref = "encounter" }
code = { column = "code", required = true }
text = { column = "name" }
kcd_edition = { column = "svc_at", type = "kcd_edition" }
recorded = { column = "svc_at", type = "datetime" }

[entities.visit_code]
entity = "diagnosis"
table = "clinic_visit"
key = ["id", "kcd"]
query = "SELECT V.id, V.patient_id, V.visited_at, unnest(V.kcd_codes) AS kcd FROM clinic_visit V"

[entities.visit_code.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "id", type = "ref", ref = "encounter" }
code = { column = "kcd", required = true }
recorded = { column = "visited_at", type = "datetime" }

[entities.order_line]
table = "clinic_prescription"
key = "id"

[entities.order_line.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "visit_id", type = "ref", ref = "encounter" }
ordered = { column = "created_at", type = "datetime", required = true }
edi_code = { column = "drug_code" }
name = { column = "drug_name" }
dose = { column = "dose", type = "decimal" }
days = { column = "days", type = "int" }

[entities.allergy]
table = "clinic_allergy"
key = "id"

[entities.allergy.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
substance = { column = "substance", required = true }
clinical_status = { column = "is_active", type = "code", map = { "1" = "active", "0" = "inactive" } }

[entities.vital_signs]
table = "clinic_vitalsign"
key = "id"
query = """SELECT V.*, (V.vitals->>'sbp')::numeric AS sbp, (V.vitals->>'dbp')::numeric AS dbp,
  (V.vitals->>'hr')::numeric AS hr, (V.vitals->>'temp')::numeric AS temp FROM clinic_vitalsign V"""

[entities.vital_signs.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
encounter_id = { column = "visit_id", type = "ref", ref = "encounter" }
observed = { column = "measured_at", type = "datetime", required = true }
systolic = { column = "sbp", type = "decimal" }
diastolic = { column = "dbp", type = "decimal" }
pulse = { column = "hr", type = "decimal" }
temperature = { column = "temp", type = "decimal" }
'''
