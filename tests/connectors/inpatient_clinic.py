"""A synthetic small Korean hospital (병원: out-patient visits and a ward) on MariaDB utf8mb4 (test data only; names
made up): its in-patient stays kept in a table of their own beside the visits, the way 입퇴원확인서 lists them.

``PT_MST`` the patients (``PT_NO``, ``CHART_NO``, ``PT_NM``, ``BIRTH_YMD`` CHAR(8), ``SEX_CD``); ``OPD_JUBSU`` the
out-patient visits (외래접수: ``JUBSU_NO``, ``PT_NO``, ``JUBSU_DT``); ``입원내역`` the admissions, named and
columned in Hangul (입원번호, 환자번호, 입원일시, 퇴원일시 NULL while in the ward, 병동, 병실, 입원경로, 삭제여부 'Y'/'N');
``ADMISSION_BAK`` an old copy of some admissions (an earlier program's, same columns romanised); ``RCPT`` the
receipts (수납: ``RCPT_NO``, ``PT_NO``, ``RCPT_DT``, ``TOT_AMT``, ``RCPT_STAT`` 'O' open, 'C' closed, 'D' deleted,
Open Hospital's bill codes).

Planted: an admission deleted (삭제여부 'Y'), two patients still in the ward (퇴원일시 NULL), an admission of a patient
nobody has (orphan), two receipts deleted ('D').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database, mariadb_tables

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 40
VISITS = 120
ADMISSIONS = 30
RECEIPTS = 60
WARDS = ("5W", "6W", "ICU")
ROUTES = ("외래", "응급실", "전원")

DDL: dict[str, str] = {
    "PT_MST": "PT_NO INT PRIMARY KEY, CHART_NO CHAR(8) NOT NULL, PT_NM VARCHAR(40) NOT NULL, BIRTH_YMD CHAR(8), "
              "SEX_CD CHAR(1) NOT NULL, TEL_NO VARCHAR(20)",
    "OPD_JUBSU": "JUBSU_NO INT PRIMARY KEY, PT_NO INT NOT NULL, JUBSU_DT DATETIME NOT NULL, DEPT_CD VARCHAR(10), "
                 "MEMO VARCHAR(200)",
    "입원내역": "입원번호 INT PRIMARY KEY, 환자번호 INT NOT NULL, 입원일시 DATETIME NOT NULL, 퇴원일시 DATETIME NULL, "
            "병동 VARCHAR(10), 병실 VARCHAR(10), 입원경로 VARCHAR(20), 삭제여부 CHAR(1) NOT NULL DEFAULT 'N'",
    "ADMISSION_BAK": "ADM_NO INT PRIMARY KEY, PT_NO INT NOT NULL, ADM_DT DATETIME NOT NULL, DSCH_DT DATETIME NULL, "
                     "WARD_CD VARCHAR(10)",
    "RCPT": "RCPT_NO INT PRIMARY KEY, PT_NO INT NOT NULL, RCPT_DT DATE NOT NULL, TOT_AMT DECIMAL(12,0) NOT NULL, "
            "RCPT_STAT CHAR(1) NOT NULL",
}


@dataclass
class InpatientClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    dirty: dict[str, Any] = field(default_factory=dict)
    #: PT_NO → (PT_NM, SEX_CD)
    people: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: JUBSU_NO → (PT_NO, JUBSU_DT)
    visits: dict[int, tuple[int, dt.datetime]] = field(default_factory=dict)
    #: 입원번호 → (환자번호, 입원일시, 퇴원일시 or None, 삭제여부)
    stays: dict[int, tuple[int, dt.datetime, dt.datetime | None, str]] = field(default_factory=dict)
    #: RCPT_NO → (PT_NO, TOT_AMT, RCPT_STAT)
    receipts: dict[int, tuple[int, Decimal, str]] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_inpatient_clinic(conn_str: str, database: str = "emr_inpatient_hospital") -> InpatientClinic:
    """Build the hospital on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    target = _fresh_database(conn_str, database, "mariadb")
    db = InpatientClinic("mariadb", odbc=target, patients="pt_mst")
    conn, put = mariadb_tables(db, target, DDL, time_zone="+09:00")

    people: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        name, sex = f"{SURNAMES[p % 10]}{GIVEN[(p * 3) % 10]}", "MF"[p % 2]
        people.append((p, f"{p:08d}", name, f"{1940 + p % 60}{1 + p % 12:02d}{1 + p % 28:02d}", sex,
                       f"010-0000-{p:04d}" if p % 3 else None))
        db.people[p] = (name, sex)
    put("PT_MST", people)
    base = dt.datetime(2025, 3, 3, 9, 0)
    visits: list[tuple[Any, ...]] = []
    for v in range(1, VISITS + 1):
        pid = 1 + (v * 7) % PATIENTS
        at = base + dt.timedelta(days=v // 2, hours=v % 8)
        visits.append((v, pid, at, ("IM", "GS", "FM")[v % 3], "두통 호소" if v % 5 == 0 else None))
        db.visits[v] = (pid, at)
    put("OPD_JUBSU", visits)
    stays: list[tuple[Any, ...]] = []
    for a in range(1, ADMISSIONS + 1):
        pid = 999 if a == 13 else 1 + (a * 3) % PATIENTS
        at = base + dt.timedelta(days=3 * a, hours=14, minutes=a % 4 * 15)
        out = None if a in (29, 30) else at + dt.timedelta(days=2 + a % 5, hours=-4)
        deleted = "Y" if a == 7 else "N"
        stays.append((a, pid, at, out, WARDS[a % 3], f"{500 + a}", ROUTES[a % 3], deleted))
        db.stays[a] = (pid, at, out, deleted)
    db.dirty.update(deleted_stay=7, in_the_ward=(29, 30), orphan_stay=13)
    put("입원내역", stays)
    put("ADMISSION_BAK", [(a, pid, at, out, ward) for a, pid, at, out, ward, *_ in stays[:10]])
    receipts: list[tuple[Any, ...]] = []
    for r in range(1, RECEIPTS + 1):
        pid = 1 + (r * 11) % PATIENTS
        status = "D" if r in (9, 40) else "O" if r % 4 == 0 else "C"
        amount = Decimal(12000 + 500 * (r % 9))
        receipts.append((r, pid, (base + dt.timedelta(days=r)).date(), amount, status))
        db.receipts[r] = (pid, amount, status)
    db.dirty["deleted_receipts"] = (9, 40)
    put("RCPT", receipts)
    conn.close()
    return db
