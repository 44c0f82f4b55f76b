"""A synthetic clinic in the style of a modern in-house PostgreSQL EMR (test data only), unlike the demo: its own
schema ``emr`` on the database's search_path, mixed-case quoted names ("Patient"."ChartNo"), uuid keys, a visit
keyed by (patient_id, seq), and the types such EMRs use: jsonb/json, text[]/int[], numeric(12,4) with NaN, float8
with ±Infinity and NaN, interval, money, timestamptz and timestamp, date 'infinity', time with time zone, a domain
over text with a CHECK, enums, inet, bytea, xml, tsvector, int4range/daterange, a composite type, bit(8)/varbit,
char(n) padded keys.

Planted dirty rows (:attr:`TypedClinic.dirty`): a patient with no name and no birth date (NULLs a mapping needs),
a visit of a patient nobody has (orphan), a diagnosis of a visit nobody has, a lab result with no value; Korean
text with emoji, a 200,000-character note, values of every type at their edges.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from dataclasses import dataclass, field
from decimal import Decimal

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
KCD = [("J00", "급성 비인두염"), ("I10", "본태성 고혈압"), ("K29.7", "상세불명의 위염"), ("E11.9", "2형 당뇨병")]
LABS = [("C3750", "Glucose", "mg/dL"), ("B1010", "Hemoglobin", "g/dL"), ("C2411", "Creatinine", "mg/dL")]

PATIENTS = 24
VISITS_EACH = 3
LONG_NOTE = "가나다라마바사아자차카타파하😀" * 14_000  # 210,000 characters


def _uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class TypedClinic(ForeignDb):
    """The database as built: rows and cells per table, what was planted, and exact values to find."""

    #: planted dirty rows: name → the row's key (text)
    dirty: dict[str, str] = field(default_factory=dict)
    #: patient uuid → chart number as stored (char(10), padded)
    charts: dict[str, str] = field(default_factory=dict)


def create_typed_clinic(conn_str: str, database: str = "emr_typed_clinic_pg") -> TypedClinic:
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = TypedClinic("postgresql", odbc=target, patients="emr.patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute(f"ALTER DATABASE {database} SET search_path = emr, public")
    for ddl in (
        "CREATE SCHEMA emr",
        "CREATE TYPE emr.sex_code AS ENUM ('M', 'F', 'U')",
        "CREATE TYPE emr.dept AS ENUM ('내과', 'Family Med', '소아청소년과')",
        "CREATE TYPE emr.address AS (city text, street text, zip char(5))",
        "CREATE DOMAIN emr.phone AS text CHECK (VALUE ~ '^[0-9-]+$')",
        # an appointment slot as its label, a date kept as YYYYMMDD text, a date with its own name
        "CREATE TYPE emr.time_slot AS ENUM ('0900', '0930', '1000')",
        "CREATE DOMAIN emr.ymd_date AS varchar(8) CHECK (VALUE ~ '^[0-9]{8}$')",
        "CREATE DOMAIN emr.dob AS date",
        "CREATE DOMAIN emr.stamp AS timestamptz",
        "CREATE DOMAIN emr.won AS money",
        "CREATE DOMAIN emr.doc AS json",
        'CREATE TABLE emr."Patient" ("PatientId" uuid PRIMARY KEY DEFAULT gen_random_uuid(), '
        '"ChartNo" char(10) NOT NULL UNIQUE, "Name" text, "Sex" emr.sex_code, "BirthDate" date, "Rrn" varchar(14), '
        '"Phone" emr.phone, "Allergies" text[], "Address" emr.address, "Flags" bit(8), "Photo" bytea, '
        '"Balance" money, "Weight" numeric(12,4), "Height" float8, "DeletedOn" date NOT NULL DEFAULT \'infinity\', '
        '"CreatedAt" timestamptz NOT NULL, "UpdatedAt" timestamp NOT NULL, "Note" text)',
        "CREATE TABLE emr.visit (patient_id uuid NOT NULL, seq int NOT NULL, visited_at timestamptz NOT NULL, "
        "local_at timestamp, duration interval, fee money, vitals jsonb, meta json, dept emr.dept, "
        "checkin timetz, age_band int4range, coverage daterange, chief_complaint text, client inet, slot emr.time_slot, "
        "PRIMARY KEY (patient_id, seq))",
        "CREATE TABLE emr.diagnosis (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, patient_id uuid NOT NULL, "
        "visit_seq int, code char(6) NOT NULL, name text, onset date, search tsvector)",
        "CREATE TABLE emr.lab_result (id uuid PRIMARY KEY, patient_id uuid NOT NULL, visit_seq int, "
        "test_code varchar(10) NOT NULL, test_name text NOT NULL, value_num float8, value_dec numeric(12,4), "
        "unit text, resulted_at timestamptz, flags varbit, report xml, charge money)",
        "CREATE TABLE emr.prescription (id uuid PRIMARY KEY, patient_id uuid NOT NULL, visit_seq int, "
        "drug_code char(9) NOT NULL, drug_name text, dose numeric(12,4), days int2, amount money, "
        "codes int[], prescribed_at timestamptz NOT NULL)",
        "CREATE TABLE emr.audit_log (at timestamptz, who inet, what text, diff jsonb, took interval, bits bit(8))",
        # insurance as an in-house EMR defines it: its own domains; a keyless room map with points and json
        "CREATE TABLE emr.insurance (id int PRIMARY KEY, patient_id uuid, valid_until emr.dob, issued emr.ymd_date, "
        "verified emr.stamp, copay emr.won, slot emr.time_slot)",
        "CREATE TABLE emr.room_map (room text, spot point, layout emr.doc, extra json[], area box)",
    ):
        c.execute(ddl)
    rng = random.Random(20261203)
    base = dt.datetime(2025, 3, 3, 0, 30, tzinfo=dt.UTC)  # 09:30 in Korea
    patients: list[str] = []
    for i in range(1, PATIENTS + 1):
        pid = _uuid(rng)
        patients.append(pid)
        chart = f"P{i:04d}"
        name: str | None = f"{SURNAMES[i % 10]}{GIVEN[(i * 3) % 10]}"
        birth: str | None = f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        if i == 5:
            name, birth = None, None
            db.dirty["nameless"] = pid
        if i == 6:
            name = "이😀서연"  # emoji in a name
        sex = ("M", "F", "U")[i % 3] if i != 7 else None
        deleted = "2025-01-31" if i == 8 else "infinity"
        note = LONG_NOTE if i == 9 else (f"메모 {i} 😀 (괄호가 하나만" if i % 2 else None)
        c.execute('INSERT INTO emr."Patient" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                  pid, chart, name, sex, birth, f"800101-{1 + i % 2}{i:06d}", f"010-{1000 + i}-{2000 + i}",
                  "{페니실린,\"a,b\",NULL}" if i % 4 == 0 else ("{}" if i % 4 == 1 else None),
                  f'("서울 {i}구","가상로 {i}길 😀","{i:05d}")' if i % 3 else None,
                  f"{i % 256:08b}", bytes([0, 255, i]) if i % 2 else None,
                  "92233720368547758.07" if i == 1 else f"{i * 1000}.10",
                  "NaN" if i == 2 else f"{60 + i}.{i:04d}", ("Infinity", "-Infinity", "NaN", "170.1")[i % 4],
                  deleted, (base + dt.timedelta(days=i)).isoformat(), f"2025-03-{i:02d} 09:30:00.123456", note)
        db.charts[pid] = chart.ljust(10)
    db.table("emr.patient", 18, PATIENTS)
    db.expect.update({
        # the scaffold's query reads the capitals columns under their lower-case names
        ("emr.patient", "patientid", patients[0], "balance"): Decimal("92233720368547758.07"),
        ("emr.patient", "patientid", patients[1], "balance"): Decimal("2000.10"),
        ("emr.patient", "patientid", patients[2], "balance"): Decimal("3000.10"),
        ("emr.patient", "patientid", patients[8], "note"): LONG_NOTE,
    })
    visits: list[tuple[str, int]] = []
    for i, pid in enumerate(patients):
        for seq in range(1, VISITS_EACH + 1):
            v = i * VISITS_EACH + seq
            owner = pid
            if v == 4:
                owner = _uuid(rng)  # a visit of a patient nobody has
                db.dirty["orphan_visit"] = f"{owner}|{seq}"
            at = base + dt.timedelta(days=v, hours=v % 8)
            vitals = '{"sbp": 120, "dbp": 80, "temp": 36.5, "pos": "좌위 😀"}' if v % 3 else '[120, 80]'
            c.execute("INSERT INTO emr.visit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      owner, seq, at.isoformat(), None if v % 5 == 0 else "2025-03-01 24:00:00" if v == 2
                      else f"2025-03-01 {v % 24:02d}:00:00", ("1 year 2 mons -3 days 04:05:06.789", "-00:00:01",
                                                            "00:15:00")[v % 3],
                      ("1234.50", "0.00", "-5.25")[v % 3], vitals, '{"b": 1,  "a": [1.50]}', ("내과", "Family Med",
                                                                                       "소아청소년과")[v % 3],
                      ("09:00:00+09", "23:59:59.999999-12:34:56", "00:00:00+14")[v % 3], "[1,10)" if v % 2 else
                      "empty", "[2025-01-01,infinity)" if v % 2 else None,
                      "두통 😀" if v % 2 else "x" * 9000, "192.168.0.1/24" if v % 2 else "::1",
                      ("0900", "0930", "1000")[v % 3])
            visits.append((owner, seq))
    db.table("emr.visit", 15, len(visits))
    n = 0
    for v, (pid, seq) in enumerate(visits):
        code, name = KCD[v % 4]
        c.execute("INSERT INTO emr.diagnosis (patient_id, visit_seq, code, name, onset, search) "
                  "VALUES (?, ?, ?, ?, ?, to_tsvector('simple', ?))",
                  pid, 99 if v == 7 else seq, code, name, "infinity" if v == 3 else "2025-03-01", name)
        n += 1
    db.dirty["orphan_diagnosis"] = "8"
    db.table("emr.diagnosis", 7, n)
    n = 0
    for v, (pid, seq) in enumerate(visits):
        if v % 2:
            continue
        lid = _uuid(rng)
        code, name, unit = LABS[v % 3]
        value = ("Infinity", "-Infinity", "NaN", None, "5.5", "1e-300")[(v // 2) % 6]
        if value is None:
            db.dirty["valueless_lab"] = lid
        c.execute("INSERT INTO emr.lab_result VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  lid, pid, seq, code, name, value, "NaN" if v % 4 == 0 else "12.3400", unit,
                  (base + dt.timedelta(days=v)).isoformat(), "10110" if v % 3 else "", "<r>정상 &amp; 😀</r>",
                  "0.10" if v == 0 else "92233720368547758.07" if v == 2 else "-4000.50")
        if v in (0, 2):
            db.expect[("emr.lab_result", "id", lid, "charge")] = Decimal("0.10" if v == 0 else "92233720368547758.07")
        n += 1
    db.table("emr.lab_result", 12, n)
    n = 0
    for v, (pid, seq) in enumerate(visits):
        if v % 3:
            continue
        rid = _uuid(rng)
        if v == 6:
            db.dirty["nan_dose"] = rid
        c.execute("INSERT INTO emr.prescription VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  rid, pid, seq, "643104170", "타이레놀정500mg", "NaN" if v == 6 else "1.5000", 3,
                  "1500.50", "{1,NULL,3}", (base + dt.timedelta(days=v)).isoformat())
        n += 1
    db.table("emr.prescription", 10, n)
    c.execute("INSERT INTO emr.audit_log VALUES ('2025-03-03 00:30:00+00', '10.0.0.1', '로그인 😀', "
              "'{\"k\": [1, 2.50]}', '1 day -00:00:01', B'00000001'), "
              "('infinity', NULL, NULL, NULL, NULL, NULL)")
    db.table("emr.audit_log", 6, 2)
    c.execute("INSERT INTO emr.insurance VALUES (1, ?, 'infinity', '19800101', 'infinity', '92233720368547758.07', "
              "'0930'), (2, ?, '0044-03-15 BC', '20240229', '2025-03-03 00:30:00.123456+00', '0.10', NULL)",
              patients[0], patients[1])
    db.table("emr.insurance", 7, 2)
    db.expect.update({
        ("emr.insurance", "id", 1, "valid_until"): "infinity", ("emr.insurance", "id", 2, "valid_until"): "0044-03-15 BC",
        ("emr.insurance", "id", 1, "issued"): "19800101", ("emr.insurance", "id", 1, "verified"): "infinity",
        ("emr.insurance", "id", 1, "copay"): Decimal("92233720368547758.07"), ("emr.insurance", "id", 1, "slot"): "0930",
        ("emr.insurance", "id", 2, "verified"): dt.datetime(2025, 3, 3, 9, 30, 0, 123456,
                                                           tzinfo=dt.timezone(dt.timedelta(hours=9))),
    })
    c.execute("INSERT INTO emr.room_map SELECT '진료실 ' || (i % 3), point(i % 3, 0), '{\"beds\": 2}', "
              "ARRAY['{}'::json], box(point(0, 0), point(i % 2, 1)) FROM generate_series(1, 40) i")
    db.table("emr.room_map", 5, 40)
    conn.close()
    return db



CHAR_PATIENTS = 30


def create_char_keyed_clinic(conn_str: str, database: str = "emr_char_keyed_pg") -> ForeignDb:
    """A PostgreSQL EMR moved from Oracle: patients keyed by a ``char(10)`` chart number ('C00001    ' as
    stored and read), visits and diagnoses naming it in ``varchar`` and ``char(12)`` columns (each read with
    other padding, or none)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = ForeignDb("postgresql", odbc=target, patients="patient", also_read=("visit", "diagnosis"))
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for ddl in (
        "CREATE TABLE patient (chart_no char(10) PRIMARY KEY, patient_name varchar(50), birth_date date, sex char(1))",
        "CREATE TABLE visit (visit_id int PRIMARY KEY, chart_no varchar(10), visit_dt timestamp, dept_nm varchar(20))",
        "CREATE TABLE diagnosis (dx_id int PRIMARY KEY, chart_no char(12), visit_id int, dx_cd char(6), dx_nm text)",
    ):
        c.execute(ddl)
    c.execute("INSERT INTO patient SELECT 'C' || lpad(i::text, 5, '0'), '환자' || i, '1980-01-01'::date + i, "
              f"CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END FROM generate_series(1, {CHAR_PATIENTS}) i")
    db.table("patient", 4, CHAR_PATIENTS)
    c.execute(f"INSERT INTO visit SELECT i, 'C' || lpad((i % {CHAR_PATIENTS} + 1)::text, 5, '0'), "
              "'2024-01-01'::timestamp + i * interval '1 day', '내과' FROM generate_series(1, 60) i")
    db.table("visit", 4, 60)
    c.execute(f"INSERT INTO diagnosis SELECT i, 'C' || lpad((i % {CHAR_PATIENTS} + 1)::text, 5, '0'), i, 'J00', "
              "'급성 비인두염' FROM generate_series(1, 60) i")
    db.table("diagnosis", 5, 60)
    conn.close()
    return db


__all__ = ["TypedClinic", "create_char_keyed_clinic", "create_typed_clinic"]
