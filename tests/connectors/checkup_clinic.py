"""A Korean health check-up centre (건강검진) whose program keeps each check-up as ONE wide row, the results as
columns (test data only; the same builder on SQLite and on PostgreSQL).

``PT_MST`` the patients, ``VISIT`` the visits (접수), ``CHKUP`` the check-up row of a visit: its body measurements
(``HEIGHT, WEIGHT, 허리둘레, BMI, SBP, DBP``), its lab values as text columns named by their analyte (``GLU, TCHOL,
HDL, LDL, TG, AST, ALT, GGT, HGB, CREAT, EGFR, 요단백``; the unit implied by the column, never stored), its vision
and hearing (``시력_좌, 시력_우, 청력_좌, 청력_우``: 정상/비정상, or a threshold in dB), the chest X-ray's reading
(``흉부방사선``: 정상, 비활동성 폐결핵, a finding in words), the verdict (``판정``: 정상A/정상B/일반질환의심/고혈압·당뇨병
질환의심/유질환자) and the questionnaire's Y/N answers (``Q_SMOKE, Q_DRINK, Q_EXER``; past history ``과거력_고혈압,
HX_DM``). For contrast, a
narrow lab table ``검사결과`` (one row per test: 검사코드, 결과값, 단위, 참고치).

Planted: a value with a comparator ('<5', '>500'), a test not done ('미실시'), a urine protein as written ('-',
'+-', '1+', '2+'), lab columns left NULL and '' on some check-ups, a check-up with no lab value at all. Names and
numbers are made up; no real data.
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
from wide_clinic import put_rows

PATIENTS = 40
VISITS = 120
NARROW = 150
#: The lab columns of CHKUP in their order (the column's name is its analyte)
LABS = ("GLU", "TCHOL", "HDL", "LDL", "TG", "AST", "ALT", "GGT", "HGB", "CREAT", "EGFR", "요단백")
ANSWERS = ("Q_SMOKE", "Q_DRINK", "Q_EXER")
#: The questionnaire's past-history check boxes (Y/N), named two ways
HISTORY = ("과거력_고혈압", "HX_DM")
#: 종합판정 as the national check-up's result letter writes it
VERDICTS = ("정상A", "정상B", "일반질환의심", "고혈압·당뇨병 질환의심", "유질환자")


def _ddl() -> dict[str, str]:
    return {
        "PT_MST": "PT_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40) NOT NULL, JUMIN_NO CHAR(13), SEX CHAR(1), "
                  "BIRTH_DATE CHAR(8)",
        "VISIT": "VISIT_NO INTEGER PRIMARY KEY, PT_NO VARCHAR(10) NOT NULL, VISIT_DATE CHAR(8) NOT NULL, "
                 "CHK_KIND VARCHAR(20)",
        "CHKUP": ", ".join(["CHK_NO INTEGER PRIMARY KEY", "VISIT_NO INTEGER NOT NULL", "PT_NO VARCHAR(10) NOT NULL",
                            "CHK_DATE CHAR(8) NOT NULL", "HEIGHT DECIMAL(5,1)", "WEIGHT DECIMAL(5,1)",
                            "허리둘레 DECIMAL(5,1)", "BMI DECIMAL(4,1)", "SBP INTEGER", "DBP INTEGER",
                            *(f"{c} VARCHAR(10)" for c in LABS), "시력_좌 DECIMAL(3,1)", "시력_우 DECIMAL(3,1)",
                            "청력_좌 VARCHAR(6)", "청력_우 VARCHAR(6)", "흉부방사선 VARCHAR(100)", "판정 VARCHAR(30)",
                            *(f"{c} CHAR(1)" for c in (*ANSWERS, *HISTORY))]),
        "검사결과": "결과번호 INTEGER PRIMARY KEY, VISIT_NO INTEGER NOT NULL, PT_NO VARCHAR(10) NOT NULL, "
                "검사일자 CHAR(8) NOT NULL, 검사코드 VARCHAR(10) NOT NULL, 검사명 VARCHAR(40), 결과값 VARCHAR(20), "
                "단위 VARCHAR(10), 참고치 VARCHAR(20)",
    }


@dataclass
class CheckupClinic(ForeignDb):
    """The database as built and what was planted."""

    #: CHK_NO → {"visit": …, "pt": …, "date": …, "labs": {column: value as stored, the set ones}}
    checkups: dict[int, dict[str, Any]] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _set(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _lab_values(n: int) -> dict[str, str | None]:
    """The lab columns of check-up ``n`` as the program writes them (text)."""
    values: dict[str, str | None] = {
        "GLU": str(80 + n % 50), "TCHOL": str(150 + n % 90), "HDL": str(35 + n % 40), "LDL": str(70 + n % 100),
        "TG": str(60 + n * 7 % 300), "AST": str(15 + n % 30), "ALT": str(10 + n % 40), "GGT": str(12 + n % 70),
        "HGB": f"{12 + n % 5}.{n % 10}", "CREAT": f"0.{6 + n % 4}", "EGFR": str(70 + n % 50),
        "요단백": ("-", "+-", "1+", "2+")[n % 4]}
    if n % 10 == 0:
        values["CREAT"] = "<0.5"  # below what the analyser reads
    if n % 17 == 0:
        values["EGFR"] = ">90"
    if n % 23 == 0:
        values["TG"] = ">500"
    if n % 7 == 0:
        values["LDL"] = "미실시"  # not done
    if n % 9 == 0:
        values["HDL"] = values["LDL"] = values["TG"] = None  # no lipid panel this year
    if n % 11 == 0:
        values["GGT"] = ""  # the program's blank
    if n % 13 == 0:
        values["HGB"] = ""
    return values


def _checkup(db: CheckupClinic, n: int) -> tuple[Any, ...]:
    patient = f"P{1 + (n * 7) % PATIENTS:05d}"
    day = (dt.date(2024, 1, 2) + dt.timedelta(days=n)).strftime("%Y%m%d")
    labs: dict[str, str | None] = dict.fromkeys(LABS) if n == 60 else _lab_values(n)  # 60: no blood drawn
    db.checkups[n] = {"visit": n, "pt": patient, "date": day, "labs": {c: v for c, v in labs.items() if _set(v)}}
    body = (Decimal(f"{150 + n % 35}.5"), Decimal(f"{50 + n % 40}.0"), Decimal(f"{70 + n % 30}.0"),
            Decimal(f"{19 + n % 10}.{n % 10}"), 110 + n % 40, 70 + n % 20)
    if n % 15 == 0:
        body = (None,) * 6
    sight = (Decimal(f"{n % 10 + 1}") / 10 + Decimal("0.5"), Decimal("1.0"))
    db.checkups[n]["hearing"] = hearing = (
        "비정상" if n % 8 == 0 else "35" if n % 10 == 3 else "정상",  # left: a pure-tone threshold in dB on some
        "" if n % 29 == 0 else "20" if n % 10 == 7 else "정상")  # right: the program's blank on some
    xray = "정상" if n % 6 else None if n % 12 == 0 else "비활동성 폐결핵" if n % 18 == 0 else "폐결절 의심, 추적검사 요함"
    answers = (*("YN"[(n + i) % 2] if (n + i) % 5 else None for i in range(len(ANSWERS))),
               None if n % 13 == 0 else "Y" if n % 7 == 0 else "N", "Y" if n % 9 == 0 else "N")
    verdict = VERDICTS[n % len(VERDICTS)]
    db.checkups[n].update(xray=xray, verdict=verdict, answers=dict(zip((*ANSWERS, *HISTORY), answers, strict=True)))
    return (n, n, patient, day, *body, *(labs[c] for c in LABS), *sight, *hearing, xray, verdict, *answers)


def _narrow(n: int) -> tuple[Any, ...]:
    tests = (("C3711", "HbA1c", "%", "4.0-6.0"), ("D2280", "TSH", "uIU/mL", "0.4-4.0"),
             ("C2411", "CRP", "mg/dL", "<0.5"), ("B1010", "WBC", "10^3/uL", "4.0-10.0"))
    code, name, unit, reference = tests[n % len(tests)]
    value = f"{5 + n % 3}.{n % 10}" if n % 19 else "<0.1"
    visit = 1 + n % VISITS
    return (n, visit, f"P{1 + (visit * 7) % PATIENTS:05d}",
            (dt.date(2024, 1, 2) + dt.timedelta(days=visit)).strftime("%Y%m%d"), code, name, value,
            unit if n % 6 else None, reference)


def create_checkup_clinic(engine: str, target: Path | str) -> CheckupClinic:
    """Build the clinic on SQLite (``target`` a path) or PostgreSQL (``target`` a connection string to a fresh
    database)."""
    import pyodbc

    db = CheckupClinic(engine, path=target if isinstance(target, Path) else None,
                       odbc=target if isinstance(target, str) else None, patients="pt_mst",
                       also_read=("visit", "chkup", "검사결과"))
    conn: Any = sqlite3.connect(target) if isinstance(target, Path) else pyodbc.connect(target, autocommit=True)
    try:
        cursor = conn.cursor()
        for name, columns in _ddl().items():
            cursor.execute(f"CREATE TABLE {name} ({columns})")
        patients = []
        for i in range(1, PATIENTS + 1):
            rrn = rrn_of(i)
            patients.append((f"P{i:05d}", name_of(i), rrn, "M" if rrn[6] in "13" else "F", birth_of(rrn)))
        visits = [(n, f"P{1 + (n * 7) % PATIENTS:05d}",
                   (dt.date(2024, 1, 2) + dt.timedelta(days=n)).strftime("%Y%m%d"),
                   "일반검진" if n % 4 else "일반+암검진") for n in range(1, VISITS + 1)]
        checkups = [_checkup(db, n) for n in range(1, VISITS + 1)]
        for table, rows in (("PT_MST", patients), ("VISIT", visits), ("CHKUP", checkups),
                            ("검사결과", [_narrow(n) for n in range(1, NARROW + 1)])):
            put_rows(cursor, db, table, rows)
        conn.commit()
    finally:
        conn.close()
    return db
