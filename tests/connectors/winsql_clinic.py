"""A Korean clinic built the way Windows EMRs over Microsoft SQL Server are built, on PostgreSQL and MariaDB with
each engine's own types (test data only; synthetic patients, made-up names and numbers; no real data).

Their habits: GUID keys (PostgreSQL ``uuid``; MariaDB ``CHAR(36)`` on the patients, GUIDs as SQL Server writes them
in capitals beside .NET's lower case, the server's case-insensitive collation ordering them; MariaDB's own ``UUID``
type on the visits, since 10.7; a receipt's GUID as ``BINARY(16)``/``bytea``), the patient referenced by GUID from
visits, diagnoses, orders and receipts; tables prefixed ``T_``/``TB_``/``TBL_``, columns in UPPER_SNAKE with the Korean
abbreviations romanised (PT_NO, PT_NM, JUMIN_NO, BIRTH_DT, SEX_CD, DIAG_CD, DIAG_NM, ORD_CD, ORD_NM, RCPT_AMT …);
audit columns on every table (REG_DT, REG_ID, UPD_DT, UPD_ID, INS_USER, ROWVERSION as 8 bytes); Korean text in
``CHAR(n)`` padded with blanks (PT_NM, the chart number); money as PostgreSQL ``money`` and ``numeric(19,4)``, MariaDB
``DECIMAL(19,4)`` (RCPT_AMT what the patient paid at the desk, SELF_AMT and CORP_AMT the two shares); flags as ``boolean``/``TINYINT(1)`` (a visit's DEL_YN), ``CHAR(1)`` 'Y'/'N' (a patient's and an
order's DEL_YN) and '1'/'0' (a diagnosis's USE_YN, 0 = deleted); "empty" dates as sentinels:

* ``T_PATIENT.BIRTH_DT`` CHAR(8) 'YYYYMMDD': '19000101' (SQL Server's zero date) for an unknown birth date,
  '00000000' and eight blanks for none;
* ``TB_VISIT.VISIT_DT`` DATE: '1900-01-01' on a few visits (no date at all: the row cannot be a visit);
  ``REG_DT`` (when the row was written) the day before the visit, so that a visit dated by REG_DT shows;
* ``TBL_DIAG.ONSET_DT`` DATETIME: '1899-12-30 00:00' (the OLE Automation zero date) on some;
* ``T_ORDER.END_DT`` DATE: '9999-12-31' (open end) on the long-term prescriptions;
* ``TB_RCPT.RCPT_DT`` CHAR(8).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dental_hanbang_clinic import birth_of, name_of, rrn_of
from foreign_schemas import ForeignDb, mariadb_tables, postgres_tables

PATIENTS = 60
VISITS = 200
DIAGNOSES = 250
ORDERS = 300
PAGE_SIZE = 7
_NS = uuid.UUID("6f1d3c2a-0b7e-4c55-9a41-2d9e8f3b7c10")
DEPARTMENTS = ("IM", "FM", "PD", "ENT")
KCD = (("J00", "급성 비인두염"), ("J20.9", "상세불명의 급성 기관지염"), ("I10", "본태성 고혈압"),
       ("E11.9", "합병증을 동반하지 않은 2형 당뇨병"), ("M54.5", "요통"))
DRUGS = (("643301230", "타이레놀정500mg"), ("671803380", "아목시실린캡슐500mg"), ("645102180", "노바스크정5mg"),
         ("AA154", "재진진찰료"))


def guid(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{kind}{n}")


def patient_guid(n: int, engine: str) -> str:
    """Patient ``n``'s GUID as stored: SQL Server's capitals on every other patient on MariaDB's CHAR(36)."""
    text = str(guid("pt", n))
    return text.upper() if engine == "mariadb" and n % 2 else text


def _ddl(engine: str) -> dict[str, str]:
    pg = engine == "postgresql"
    gid = "uuid" if pg else "CHAR(36)"
    visit_id = "uuid" if pg else "UUID"
    stamp = "timestamp" if pg else "DATETIME"
    rowversion = "bytea" if pg else "BINARY(8)"
    money = "money" if pg else "DECIMAL(19,4)"
    flag = "boolean" if pg else "TINYINT(1)"
    binary_guid = "bytea" if pg else "BINARY(16)"
    audit = (f"REG_DT {stamp} NOT NULL, REG_ID VARCHAR(20) NOT NULL, UPD_DT {stamp}, UPD_ID VARCHAR(20), "
             f"INS_USER VARCHAR(20), ROWVERSION {rowversion} NOT NULL")
    return {
        "T_PATIENT": f"PT_GUID {gid} PRIMARY KEY, PT_NO CHAR(10) NOT NULL, PT_NM CHAR(10) NOT NULL, JUMIN_NO CHAR(13), "
                     f"BIRTH_DT CHAR(8), SEX_CD CHAR(1), TEL_NO VARCHAR(20), DEL_YN CHAR(1) NOT NULL, {audit}",
        "TB_VISIT": f"VISIT_ID {visit_id} PRIMARY KEY, PT_GUID {gid} NOT NULL, VISIT_DT DATE NOT NULL, "
                    f"DEPT_CD VARCHAR(5), DR_NM VARCHAR(20), CHIEF_CMPL VARCHAR(200), DEL_YN {flag} NOT NULL, {audit}",
        "TBL_DIAG": f"DIAG_ID {gid} PRIMARY KEY, VISIT_ID {visit_id} NOT NULL, PT_GUID {gid} NOT NULL, "
                    f"DIAG_CD VARCHAR(10) NOT NULL, DIAG_NM VARCHAR(100), MAIN_YN CHAR(1), ONSET_DT {stamp}, "
                    f"USE_YN CHAR(1) NOT NULL, {audit}",
        "T_ORDER": f"ORD_ID {gid} PRIMARY KEY, VISIT_ID {visit_id} NOT NULL, PT_GUID {gid} NOT NULL, "
                   f"ORD_CD VARCHAR(20) NOT NULL, ORD_NM VARCHAR(100), ORD_QTY NUMERIC(9,3), ORD_CNT INTEGER, "
                   f"ORD_DAYS INTEGER, ORD_DT {stamp} NOT NULL, END_DT DATE, DEL_YN CHAR(1) NOT NULL, {audit}",
        "TB_RCPT": f"RCPT_ID {binary_guid} NOT NULL PRIMARY KEY, VISIT_ID {visit_id} NOT NULL, PT_GUID {gid} NOT NULL, "
                   f"RCPT_DT CHAR(8) NOT NULL, RCPT_AMT {money} NOT NULL, SELF_AMT NUMERIC(19,4), "
                   f"CORP_AMT NUMERIC(19,4), CNCL_YN CHAR(1) NOT NULL, {audit}",
    }


@dataclass
class WinSqlClinic(ForeignDb):
    """The database as built and what was planted (keys as the section's source identifiers give them back)."""

    page_size: int | None = PAGE_SIZE
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    #: planted: kind → the row numbers (1-based) that carry it
    planted: dict[str, list[int]] = field(default_factory=dict)
    #: visit n → (its patient n, VISIT_DT, REG_DT's day)
    visits: dict[int, tuple[int, dt.date, dt.date]] = field(default_factory=dict)


def _audit(n: int, day: dt.date, engine: str) -> tuple[Any, ...]:
    written = dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(minutes=n % 50)
    updated = written + dt.timedelta(days=3) if n % 4 == 0 else None
    return (written, f"USR{n % 3:02d}", updated, "ADMIN" if updated else None, f"ws{n % 5:02d}" if n % 3 else None,
            (n * 7919).to_bytes(8, "big"))


def _plant(db: WinSqlClinic, kind: str, n: int) -> None:
    db.planted.setdefault(kind, []).append(n)


def _patients(db: WinSqlClinic) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        birth = birth_of(rrn)
        if i % 10 == 3:
            birth = "19000101"
            _plant(db, "birth_1900", i)
        elif i % 10 == 7:
            birth = "00000000"
            _plant(db, "birth_zeros", i)
        elif i % 15 == 11:
            birth = "        "
            _plant(db, "birth_blank", i)
        deleted = i % 12 == 0
        if deleted:
            _plant(db, "patient_deleted", i)
        rows.append((patient_guid(i, db.engine), f"{i:06d}", name_of(i), rrn, birth, "MF"[int(rrn[6]) % 2 == 0],
                     f"010-{3000 + i}-{4000 + i}", "Y" if deleted else "N",
                     *_audit(i, dt.date(2019, 1, 1) + dt.timedelta(days=i), db.engine)))
    return rows


def visit_guid(n: int) -> str:
    return str(guid("visit", n))


def _visits(db: WinSqlClinic) -> list[tuple[Any, ...]]:
    rows = []
    for v in range(1, VISITS + 1):
        patient = 1 + (v * 7) % PATIENTS
        day = dt.date(2024, 1, 2) + dt.timedelta(days=v * 2)
        written = day - dt.timedelta(days=1)  # booked the day before: REG_DT is not the visit's day
        stored_day = day
        if v % 50 == 13:
            stored_day = dt.date(1900, 1, 1)
            _plant(db, "visit_1900", v)
        db.visits[v] = (patient, stored_day, written)
        deleted = v % 20 == 5
        if deleted:
            _plant(db, "visit_deleted", v)
        rows.append((visit_guid(v), patient_guid(patient, db.engine), stored_day, DEPARTMENTS[v % 4],
                     f"의사{v % 3 + 1}", "기침, 콧물" if v % 3 else "두통 및 어지러움   ", deleted,
                     *_audit(v, written, db.engine)))
    return rows


def _diagnoses(db: WinSqlClinic) -> list[tuple[Any, ...]]:
    rows = []
    for d in range(1, DIAGNOSES + 1):
        v = 1 + (d * 3) % VISITS
        patient, _day, written = db.visits[v]
        code, name = KCD[d % len(KCD)]
        onset: dt.datetime | None = dt.datetime.combine(dt.date(2023, 6, 1) + dt.timedelta(days=d), dt.time())
        if d % 9 == 4:
            onset = dt.datetime(1899, 12, 30)
            _plant(db, "onset_1899", d)
        elif d % 9 == 8:
            onset = None
        live = d % 25 != 10
        if not live:
            _plant(db, "diag_unused", d)
        rows.append((str(guid("diag", d)), visit_guid(v), patient_guid(patient, db.engine), code, name,
                     "1" if d % 2 else "0", onset, "1" if live else "0", *_audit(d, written, db.engine)))
    return rows


def _orders(db: WinSqlClinic) -> list[tuple[Any, ...]]:
    rows = []
    for o in range(1, ORDERS + 1):
        v = 1 + (o * 11) % VISITS
        patient, _day, written = db.visits[v]
        code, name = DRUGS[o % len(DRUGS)]
        ordered = dt.datetime.combine(written + dt.timedelta(days=1), dt.time(10, o % 60))
        end: dt.date | None = ordered.date() + dt.timedelta(days=3 + o % 5)
        if o % 10 == 6:
            end = dt.date(9999, 12, 31)  # a long-term prescription: no end yet
            _plant(db, "end_9999", o)
        elif code == "AA154":
            end = None
        deleted = o % 30 == 7
        if deleted:
            _plant(db, "order_deleted", o)
        rows.append((str(guid("ord", o)), visit_guid(v), patient_guid(patient, db.engine), code, name,
                     Decimal("1.000") if o % 3 else Decimal("0.500"), 1 + o % 3, 3 + o % 5, ordered, end,
                     "Y" if deleted else "N", *_audit(o, written, db.engine)))
    return rows


def _receipts(db: WinSqlClinic) -> list[tuple[Any, ...]]:
    rows = []
    for v in range(1, VISITS + 1):
        patient, _day, written = db.visits[v]
        total = Decimal(12000 + (v % 7) * 1500)
        self_pay = (total * Decimal("0.3")).quantize(Decimal("1.0000"))
        receipt_day = (written + dt.timedelta(days=1)).strftime("%Y%m%d")
        rows.append((guid("rcpt", v).bytes, visit_guid(v), patient_guid(patient, db.engine), receipt_day,
                     f"{self_pay:.2f}" if db.engine == "postgresql" else self_pay, self_pay, total - self_pay,
                     "Y" if v % 40 == 9 else "N", *_audit(v, written, db.engine)))
    return rows


def create_winsql_clinic(engine: str, target: str) -> WinSqlClinic:
    """Build the clinic in the fresh PostgreSQL or MariaDB database ``target`` (a connection string)."""
    db = WinSqlClinic(engine, odbc=target, patients="t_patient",
                      also_read=("tb_visit", "tbl_diag", "t_order", "tb_rcpt"))
    conn, put = (postgres_tables if engine == "postgresql" else mariadb_tables)(db, target, _ddl(engine))
    try:
        put("T_PATIENT", _patients(db))
        put("TB_VISIT", _visits(db))
        put("TBL_DIAG", _diagnoses(db))
        put("T_ORDER", _orders(db))
        put("TB_RCPT", _receipts(db))
    finally:
        conn.close()
    return db
