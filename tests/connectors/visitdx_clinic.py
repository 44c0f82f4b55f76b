"""A small Korean clinic on PostgreSQL whose visit row (접수) keeps the visit's diagnoses as code columns, as many
Korean EMRs do: 주상병코드 with 주상병명 beside it, 부상병코드1 and 부상병코드2 with no name (the names in the dictionary
상병마스터, keyed by 상병코드). Korean table and column names, quoted; CHAR dates (yyyymmdd).

Planted: a visit not yet diagnosed (주상병코드 NULL) and one whose 주상병코드 is blank (''); the Korean CHAR default ''
in 부상병코드1 of a third of the visits, NULL in another third; 부상병코드2 of blanks ('   ') in one visit; a 부상병 code no
row of 상병마스터 holds (U07.1: no name to join); a 주상병명 left empty beside its code (NULL); a visit of a patient
number no patient has (an orphan). Names and numbers are made up; no real data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dental_hanbang_clinic import birth_of, name_of, rrn_of
from foreign_schemas import ForeignDb, _fresh_database

PATIENTS = 36
VISITS = 150
#: 상병마스터: 상병코드 → (한글명, 영문명)
KCD = {"J00": ("급성 비인두염[감기]", "Acute nasopharyngitis"), "J06.9": ("상세불명의 급성 상기도감염", "Acute URI"),
       "I10": ("본태성(원발성) 고혈압", "Essential hypertension"), "E11.9": ("합병증을 동반하지 않은 2형 당뇨병", "T2DM"),
       "K29.7": ("상세불명의 위염", "Gastritis"), "M54.5": ("요통", "Low back pain"),
       "E78.5": ("상세불명의 고지혈증", "Hyperlipidaemia"), "K21.9": ("식도염을 동반하지 않은 위-식도역류병", "GERD"),
       "R51": ("두통", "Headache"), "M75.0": ("어깨의 유착성 관절낭염", "Frozen shoulder")}
#: a 부상병 code no row of 상병마스터 holds
UNKNOWN = "U07.1"

DDL: dict[str, str] = {
    "환자": '"환자번호" varchar(10) PRIMARY KEY, "성명" varchar(50) NOT NULL, "주민등록번호" char(13), '
          '"성별" char(1), "생년월일" char(8)',
    "상병마스터": '"상병코드" varchar(10) PRIMARY KEY, "한글명" varchar(100) NOT NULL, "영문명" varchar(200)',
    "접수": '"접수번호" integer PRIMARY KEY, "환자번호" varchar(10) NOT NULL, "접수일자" char(8) NOT NULL, '
          '"진료과" varchar(10), "주상병코드" varchar(10), "주상병명" varchar(100), "부상병코드1" varchar(10), '
          '"부상병코드2" varchar(10), "메모" varchar(200)',
}


@dataclass
class VisitDxClinic(ForeignDb):
    """The database as built and what was planted."""

    #: 접수번호 → (환자번호, 접수일자, 주상병코드, 주상병명, 부상병코드1, 부상병코드2)
    visits: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    dirty: dict[str, int] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _put(c: Any, db: ForeignDb, table: str, rows: list[tuple[Any, ...]]) -> None:
    c.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(rows[0]))})', rows)
    db.table(table.lower(), len(rows[0]), len(rows))


def create_visitdx_clinic(conn_str: str, database: str = "emr_visitdx") -> VisitDxClinic:
    """Build the clinic on the PostgreSQL server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = VisitDxClinic("postgresql", odbc=target, patients="환자")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    try:
        for name, columns in DDL.items():
            conn.execute(f'CREATE TABLE "{name}" ({columns})')
        c = conn.cursor()
        patients = []
        for i in range(1, PATIENTS + 1):
            rrn = rrn_of(i)
            patients.append((f"P{i:05d}", name_of(i), rrn, "M" if rrn[6] in "13" else "F", birth_of(rrn)))
        _put(c, db, "환자", patients)
        _put(c, db, "상병마스터", [(k, ko, en) for k, (ko, en) in KCD.items()])
        codes = list(KCD)
        db.dirty = {"undiagnosed": 150, "blank_main": 149, "blank_sub2": 50, "unknown_sub1": 30, "no_main_name": 20,
                    "orphan": 77}
        visits = []
        for v in range(1, VISITS + 1):
            patient = "P99999" if v == db.dirty["orphan"] else f"P{1 + (v * 7) % PATIENTS:05d}"
            day = (dt.date(2024, 1, 2) + dt.timedelta(days=v * 2)).strftime("%Y%m%d")
            main: str | None = codes[v % len(codes)]
            main = None if v == db.dirty["undiagnosed"] else "" if v == db.dirty["blank_main"] else main
            main_name = KCD[main][0] if main and v % 10 else None
            sub1 = (codes[(v + 3) % len(codes)] if v % 3 == 0 else "" if v % 3 == 1 else None)
            sub1 = UNKNOWN if v == db.dirty["unknown_sub1"] else sub1
            sub2 = codes[(v + 5) % len(codes)] if v % 7 == 0 else "   " if v == db.dirty["blank_sub2"] else None
            row = (v, patient, day, ("IM", "FM", "ENT")[v % 3], main, main_name, sub1, sub2,
                   "재진" if v % 4 == 0 else None)
            visits.append(row)
            db.visits[v] = (patient, day, main, main_name, sub1, sub2)
        _put(c, db, "접수", visits)
    finally:
        conn.close()
    return db
