"""Two small synthetic clinics that keep a booking table beside their visits (made-up Korean patients, test data only).

* SQLite, Korean: ``예약`` (예약번호, 환자번호, 예약일자 'YYYYMMDD' and 예약시간 'HHMM' in columns of their own, the
  doctor's DR_ID, 진료과, 예약상태 in the words Korean EMRs write: 예약/내원/완료/취소/부도, and one they do not, 보류;
  예약사유, 메모, 등록일시) beside ``VISIT`` (the visits themselves), ``PATIENT`` and ``DOCTOR``. A booking with no
  time (its day only), one of a patient nobody has (an orphan).
* PostgreSQL, English: ``appointment`` (a timestamp, ``duration_min``, ``appt_type``, ``status`` booked/arrived/
  fulfilled/cancelled/noshow/no-show and one no map reads, rescheduled; ``created_at``) beside ``visit``,
  ``patient`` and ``doctor``.

A booking is no visit: the scaffold maps each booking table as ``appointment`` and each visit table as ``encounter``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from foreign_schemas import _fresh_database

PATIENTS = 120
DOCTORS = 3
VISITS = 200
BOOKINGS = 300
#: the orphan booking (its 환자번호 no patient's)
ORPHAN = 77
#: bookings kept to their day only (예약시간 NULL)
DAY_ONLY = frozenset(range(25, BOOKINGS + 1, 25))

KO_STATES = ("예약", "예약", "내원", "완료", "완료", "취소", "부도", "보류")
#: what the Appointment's status is for each 예약상태 (보류 unread: the usual booked, kept as recorded)
KO_STATUS = {"예약": "booked", "내원": "arrived", "완료": "fulfilled", "취소": "cancelled", "부도": "noshow",
             "보류": "booked"}
EN_STATES = ("booked", "arrived", "fulfilled", "fulfilled", "cancelled", "noshow", "no-show", "rescheduled")
EN_STATUS = {"booked": "booked", "arrived": "arrived", "fulfilled": "fulfilled", "cancelled": "cancelled",
             "noshow": "noshow", "no-show": "noshow", "rescheduled": "booked"}
DEPTS = ("내과", "가정의학과", "소아청소년과")
REASONS = ("감기 증상", "혈압약 처방", "예방접종 상담", "건강검진 결과 상담", None)
MEMOS = ("보호자 동반", None, "전화 예약", "", "주차 문의")
KINDS = ("초진", "재진", "검진")
MINUTES = (10, 15, 20, 30)


def _patient(i: int) -> str:
    return f"{i % PATIENTS + 1:08d}"


def korean_rows() -> dict[str, list[tuple[Any, ...]]]:
    patients = [(f"{i:08d}", f"예약환자{i}", "MF"[i % 2], f"19{50 + i % 50:02d}{i % 12 + 1:02d}{i % 28 + 1:02d}")
                for i in range(1, PATIENTS + 1)]
    doctors = [(f"D{d:03d}", f"의사{d}", DEPTS[d - 1]) for d in range(1, DOCTORS + 1)]
    visits = [(v, _patient(v * 7), f"2024{v % 12 + 1:02d}{v % 28 + 1:02d}", f"D{v % DOCTORS + 1:03d}",
               DEPTS[v % DOCTORS]) for v in range(1, VISITS + 1)]
    bookings = []
    for b in range(1, BOOKINGS + 1):
        day = dt.date(2024, 1, 2) + dt.timedelta(days=b % 300)
        bookings.append((b, "99999999" if b == ORPHAN else _patient(b * 3), day.strftime("%Y%m%d"),
                         None if b in DAY_ONLY else f"{9 + b % 9:02d}{(b % 4) * 15:02d}", f"D{b % DOCTORS + 1:03d}",
                         DEPTS[b % DOCTORS], KO_STATES[b % len(KO_STATES)], REASONS[b % len(REASONS)],
                         MEMOS[b % len(MEMOS)], f"{day - dt.timedelta(days=3 + b % 5)} 1{b % 8}:0{b % 6}:00"))
    return {"PATIENT": patients, "DOCTOR": doctors, "VISIT": visits, "예약": bookings}


KOREAN_DDL = {
    "PATIENT": "PT_NO VARCHAR(8) PRIMARY KEY, PT_NM VARCHAR(40), SEX CHAR(1), BIRTH_YMD CHAR(8)",
    "DOCTOR": "DR_ID VARCHAR(4) PRIMARY KEY, DR_NM VARCHAR(40), DEPT VARCHAR(20)",
    "VISIT": "VISIT_NO INTEGER PRIMARY KEY, PT_NO VARCHAR(8), VISIT_YMD CHAR(8), DR_ID VARCHAR(4), DEPT VARCHAR(20)",
    "예약": ("예약번호 INTEGER PRIMARY KEY, 환자번호 VARCHAR(8), 예약일자 CHAR(8), 예약시간 CHAR(4), DR_ID VARCHAR(4), "
           "진료과 VARCHAR(20), 예약상태 VARCHAR(10), 예약사유 VARCHAR(100), 메모 TEXT, 등록일시 VARCHAR(19)"),
}


def build_korean_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    rows = korean_rows()
    conn = sqlite3.connect(path)
    for table, columns in KOREAN_DDL.items():
        conn.execute(f"CREATE TABLE {table} ({columns})")
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[table][0]))})", rows[table])
    conn.commit()
    conn.close()
    return rows


def english_rows() -> dict[str, list[tuple[Any, ...]]]:
    patients = [(i, f"C{i:06d}", f"예약환자{i}", "MF"[i % 2], dt.date(1950 + i % 50, i % 12 + 1, i % 28 + 1))
                for i in range(1, PATIENTS + 1)]
    doctors = [(d, f"의사{d}", DEPTS[d - 1]) for d in range(1, DOCTORS + 1)]
    visits = [(v, v * 7 % PATIENTS + 1, dt.date(2024, v % 12 + 1, v % 28 + 1), v % DOCTORS + 1, DEPTS[v % DOCTORS])
              for v in range(1, VISITS + 1)]
    bookings = []
    for b in range(1, BOOKINGS + 1):
        at = dt.datetime(2024, 1, 2, 9 + b % 9, (b % 4) * 15) + dt.timedelta(days=b % 300)
        bookings.append((b, PATIENTS + 50 if b == ORPHAN else b * 3 % PATIENTS + 1, b % DOCTORS + 1, at,
                         MINUTES[b % len(MINUTES)], DEPTS[b % DOCTORS], KINDS[b % len(KINDS)],
                         REASONS[b % len(REASONS)], MEMOS[b % len(MEMOS)], EN_STATES[b % len(EN_STATES)],
                         at - dt.timedelta(days=3 + b % 5, hours=b % 7)))
    return {"patient": patients, "doctor": doctors, "visit": visits, "appointment": bookings}


ENGLISH_DDL = {
    "patient": "patient_id integer PRIMARY KEY, chart_no varchar(10), name varchar(40), sex char(1), birth_date date",
    "doctor": "doctor_id integer PRIMARY KEY, name varchar(40), dept varchar(20)",
    "visit": "visit_id integer PRIMARY KEY, patient_id integer, visit_date date, doctor_id integer, dept varchar(20)",
    "appointment": ("appt_id integer PRIMARY KEY, patient_id integer, doctor_id integer, appt_datetime timestamp, "
                    "duration_min integer, dept varchar(20), appt_type varchar(10), reason varchar(100), note text, "
                    "status varchar(20), created_at timestamp"),
}


def build_english_postgres(conn_str: str) -> tuple[str, dict[str, list[tuple[Any, ...]]]]:
    import pyodbc

    target = _fresh_database(conn_str, "emr_appointments", "postgresql")
    rows = english_rows()
    conn = pyodbc.connect(target, autocommit=True)
    for table, columns in ENGLISH_DDL.items():
        conn.execute(f"CREATE TABLE {table} ({columns})")
        conn.cursor().executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[table][0]))})",
                                  rows[table])
    conn.close()
    return target, rows
