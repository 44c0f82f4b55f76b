"""A small Korean clinic whose vendor program keeps each visit as ONE wide row with repeated column groups instead of
child tables (test data only; the same builder on SQLite and on MariaDB).

``VISIT``: the visit's diagnoses as ``DX1_CODE, DX1_NAME … DX8_CODE, DX8_NAME`` (KCD codes, most groups empty), its
drug orders as ``RX1_CODE, RX1_NAME, RX1_DOSE, RX1_TIMES, RX1_DAYS … RX15_…`` (1회량, 1일투여횟수, 총투여일수), its
수가 lines in Korean as ``수가1코드, 수가1금액 … 수가10…``, its vital signs as plain columns (``BP_SYS, BP_DIA,
PULSE, TEMP, HEIGHT, WEIGHT``) and a 메모; the date CHAR(8) 'YYYYMMDD' and the time CHAR(6) 'HHMMSS' in separate
columns. ``PT_MST``, the patient master, is wide too: ``TEL1..TEL3``, ``ADDR1, ADDR2``, ``ALLERGY1..ALLERGY5`` (free
text), ``INS_TYPE, INS_NO``.

Planted: groups left '' (the vendor's CHAR default) and NULL; a diagnosis group and a drug group with a name but no
code (a 비급여 drug, a diagnosis written as words); a birth date '00000000' and a registration date '00000000'; a
visit with no group at all. Names and numbers are made up; no real data.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dental_hanbang_clinic import birth_of, name_of, rrn_of
from foreign_schemas import ForeignDb

PATIENTS = 40
VISITS = 200
DX_GROUPS, RX_GROUPS, FEE_GROUPS, ALLERGY_GROUPS = 8, 15, 10, 5
KCD = {"J00": "급성 비인두염", "J06.9": "상세불명의 급성 상기도감염", "I10": "본태성 고혈압", "E11.9": "2형 당뇨병",
       "K29.7": "상세불명의 위염", "M54.5": "요통", "E78.5": "고지혈증", "K21.9": "위-식도역류병", "R51": "두통"}
#: EDI code → name
DRUGS = {"645301200": "타이레놀정500mg", "643301010": "노바스크정5mg", "641901230": "아모크라정375mg",
         "642101350": "가스모틴정5mg", "644900310": "뮤코펙트정", "670600010": "알마겔정"}
SUGA = {"AA154": Decimal("17610"), "AA254": Decimal("12590"), "D0001": Decimal("2840"), "KK010": Decimal("4400")}
ALLERGENS = ["페니실린", "아스피린", "조영제", "땅콩", "갑각류"]


def _ddl() -> dict[str, str]:
    patient = ("PT_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40) NOT NULL, JUMIN_NO CHAR(13), SEX CHAR(1), "
               "BIRTH_DATE CHAR(8), TEL1 VARCHAR(20), TEL2 VARCHAR(20), TEL3 VARCHAR(20), ADDR1 VARCHAR(100), "
               "ADDR2 VARCHAR(100), " + ", ".join(f"ALLERGY{n} VARCHAR(60)" for n in range(1, ALLERGY_GROUPS + 1))
               + ", INS_TYPE CHAR(2), INS_NO VARCHAR(20), REG_DATE CHAR(8), REG_TIME CHAR(6)")
    visit = ["VISIT_NO INTEGER PRIMARY KEY", "PT_NO VARCHAR(10) NOT NULL", "VISIT_DATE CHAR(8) NOT NULL",
             "VISIT_TIME CHAR(6)", "DEPT VARCHAR(10)"]
    visit += [f"DX{n}_{part} VARCHAR({size})" for n in range(1, DX_GROUPS + 1)
              for part, size in (("CODE", 10), ("NAME", 60))]
    visit += [f"RX{n}_{part}" for n in range(1, RX_GROUPS + 1)
              for part in ("CODE VARCHAR(10)", "NAME VARCHAR(40)", "DOSE DECIMAL(7,2)", "TIMES INTEGER",
                           "DAYS INTEGER")]
    visit += [f"수가{n}{part}" for n in range(1, FEE_GROUPS + 1) for part in ("코드 VARCHAR(10)", "금액 DECIMAL(10,0)")]
    visit += ["BP_SYS INTEGER", "BP_DIA INTEGER", "PULSE INTEGER", "TEMP DECIMAL(4,1)", "HEIGHT DECIMAL(5,1)",
              "WEIGHT DECIMAL(5,1)", "메모 VARCHAR(200)"]
    return {"PT_MST": patient, "VISIT": ", ".join(visit)}


@dataclass
class WideClinic(ForeignDb):
    """The database as built and what was planted."""

    #: VISIT_NO → {"pt": …, "date": …, "dx": [(n, code, name)], "rx": [(n, code, name, dose, times, days)],
    #: "fee": [(n, code, amount)], "vitals": bool, "temp": …}: the non-empty groups only
    visits: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: PT_NO → [(n, allergen)]: the non-empty ALLERGYn
    allergies: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    dirty: dict[str, Any] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _set(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _patients(db: WideClinic) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        birth = "00000000" if i == db.dirty["no_birth"] else birth_of(rrn)
        allergies: list[str | None] = [None] * ALLERGY_GROUPS
        if i % 3 == 0:
            allergies[0] = ALLERGENS[i % len(ALLERGENS)]
        if i % 5 == 0:
            allergies[1] = ""  # the vendor's blank, then a third one further on
            allergies[2] = ALLERGENS[(i + 2) % len(ALLERGENS)] + " (두드러기)"
        if i % 8 == 0:
            allergies[4] = "복숭아"
        db.allergies[f"P{i:05d}"] = [(n + 1, a) for n, a in enumerate(allergies) if _set(a)]
        reg = "00000000" if i == db.dirty["no_reg_date"] else f"2023{1 + i % 12:02d}{1 + i % 28:02d}"
        rows.append((f"P{i:05d}", name_of(i), rrn, "M" if rrn[6] in "13" else "F", birth,
                     f"010-{1000 + i:04d}-{2000 + i:04d}", f"02-{300 + i:03d}-{4000 + i:04d}" if i % 2 else "",
                     None if i % 4 else f"031-{500 + i}-{6000 + i}", f"서울시 가상구 가상로 {i}", "" if i % 3 else f"{i}동 {i}호",
                     *allergies, ("NH", "MD", "GN")[i % 3], f"{i:011d}" if i % 7 else "", reg, f"{9 + i % 8:02d}{i % 60:02d}00"))
    return rows


def _visit(db: WideClinic, v: int) -> tuple[Any, ...]:
    patient = f"P{1 + (v * 7) % PATIENTS:05d}"
    day = (dt.date(2024, 1, 2) + dt.timedelta(days=v)).strftime("%Y%m%d")
    codes, drugs, sugas = list(KCD), list(DRUGS), list(SUGA)
    empty = v == db.dirty["no_groups"]
    dx: list[tuple[str | None, str | None]] = [(None, None)] * DX_GROUPS
    if not empty:
        for n in range(1 + v % 3):
            code = codes[(v + n) % len(codes)]
            dx[n] = (code, KCD[code] if (v + n) % 5 else None)
        if v % 10 == 0:
            dx[1 + v % 3] = ("", "상세불명의 어지럼")  # a diagnosis written as words, no code
        if v % 6 == 0:
            dx[7] = ("", "")  # blank group at the end
    rx: list[tuple[Any, ...]] = [(None,) * 5] * RX_GROUPS
    if not empty and v % 4:
        for n in range(v % 4 + (v % 9 == 0) * 9):
            code = drugs[(v + n) % len(drugs)]
            rx[n] = (code, DRUGS[code], Decimal(1 + n % 2) / (2 if n % 3 == 2 else 1), 3 - n % 3, 3 + v % 5)
        if v % 11 == 0:
            rx[v % 4] = ("", "비급여 영양제", Decimal(1), 1, 30)  # a drug with a name but no code
    fee: list[tuple[Any, ...]] = [(None, None)] * FEE_GROUPS
    if not empty:
        fee[0] = ("AA154" if v < 40 else "AA254", SUGA["AA154" if v < 40 else "AA254"])
        for n in range(1, 1 + v % 3):
            code = sugas[2 + n % 2]
            fee[n] = (code, SUGA[code])
        if v % 13 == 0:
            fee[9] = ("", None)  # a blank at the end
    vitals: tuple[Any, ...] = (None,) * 6
    if v % 3 and not empty:
        vitals = (110 + v % 40, 70 + v % 20, 60 + v % 30, Decimal(f"36.{v % 9}"),
                  Decimal(f"{150 + v % 35}.5") if v % 5 == 0 else None, Decimal(f"{50 + v % 40}.0"))
    db.visits[v] = {"pt": patient, "date": day,
                    "dx": [(n + 1, c, m) for n, (c, m) in enumerate(dx) if _set(c) or _set(m)],
                    "rx": [(n + 1, *g) for n, g in enumerate(rx) if _set(g[0]) or _set(g[1])],
                    "fee": [(n + 1, *g) for n, g in enumerate(fee) if _set(g[0])],
                    "vitals": any(x is not None for x in vitals), "temp": vitals[3]}
    return (v, patient, day, f"{9 + v % 9:02d}{v % 60:02d}{v % 7:02d}", ("IM", "FM", "ENT")[v % 3],
            *(x for g in dx for x in g), *(x for g in rx for x in g), *(x for g in fee for x in g), *vitals,
            "재진, 약 처방 유지" if v % 5 == 0 else "" if v % 5 == 1 else None)


def put_rows(cursor: Any, db: ForeignDb, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` into ``table`` and count them in ``db`` (the table's name in lower case)."""
    if db.engine == "sqlite":  # its driver binds no Decimal: the text, which NUMERIC affinity stores as a number
        rows = [tuple(str(x) if isinstance(x, Decimal) else x for x in row) for row in rows]
    cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    db.table(table.lower(), len(rows[0]), len(rows))


def create_wide_clinic(engine: str, target: Path | str) -> WideClinic:
    """Build the clinic on SQLite (``target`` a path) or MariaDB (``target`` a connection string to a fresh
    database)."""
    import pyodbc

    db = WideClinic(engine, path=target if isinstance(target, Path) else None,
                    odbc=target if isinstance(target, str) else None, patients="pt_mst", also_read=("visit",))
    db.dirty = {"no_birth": 11, "no_reg_date": 12, "no_groups": 100}
    conn: Any = sqlite3.connect(target) if isinstance(target, Path) else pyodbc.connect(target, autocommit=True)
    if not isinstance(target, Path):
        conn.setencoding(encoding="utf-8")
    try:
        cursor = conn.cursor()
        tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if engine == "mariadb" else ""
        for name, columns in _ddl().items():
            cursor.execute(f"CREATE TABLE {name} ({columns}){tail}")
        for table, rows in (("PT_MST", _patients(db)), ("VISIT", [_visit(db, v) for v in range(1, VISITS + 1)])):
            put_rows(cursor, db, table, rows)
        conn.commit()
    finally:
        conn.close()
    return db
