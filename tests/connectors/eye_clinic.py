"""A small Korean eye clinic (안과) whose EMR keeps each eye's measurements (test data only; the same builder on SQLite
and on MariaDB).

``PATIENT``: the patient master. ``VISIT``: one row per visit with each eye's measurements as plain columns: 나안시력
``VA_OD, VA_OS`` and 교정시력 ``BCVA_OD, BCVA_OS`` as text (decimal acuity '0.8', '1.0', and what is no number: 'FC',
'HM', 'LP', 'NLP', a Snellen '20/40'), 안압 ``IOP_OD, IOP_OS`` in mmHg (DECIMAL). ``DIAG``: the visit's diagnoses,
KCD codes, the eye in ``EYE_ID`` ('R', 'L', 'OU', 'B'). ``EYE_EXAM``: refraction readings, one row per eye, the eye
in ``EYE`` ('R', 'L', '우안', '좌안'), ``SPH, CYL`` (diopters) and ``AXIS`` (degrees).

Planted: a visit with no measurement at all; IOP NULL in one eye; VA '' (the vendor's blank); a diagnosis whose eye is
'X' and a refraction row whose eye is '3' (no eye: the row kept, the cell raw ``unreadable-eye``). Names and numbers are
made up; no real data.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dental_hanbang_clinic import birth_of, name_of, rrn_of
from foreign_schemas import ForeignDb, _created, mariadb_tables

PATIENTS = 30
VISITS = 150
#: KCD 안과 codes → name
KCD = {"H52.1": "근시", "H40.1": "원발성 개방각녹내장", "H25.9": "상세불명의 노년백내장", "H10.9": "상세불명의 결막염",
       "H04.1": "눈물샘의 기타 장애", "H35.3": "황반 및 후극의 변성"}
#: visual acuity as charts write it: decimal, and what is no number
ACUITY = ["1.0", "0.8", "0.6", "0.4", "0.2", "0.1", "1.2", "0.9", "0.05", "FC", "HM", "LP", "NLP", "20/40"]
EYES = {"R": "right", "L": "left", "OU": "both", "B": "both", "우안": "right", "좌안": "left"}


@dataclass
class EyeClinic(ForeignDb):
    """The database as built and what was planted."""

    #: VISIT_NO → {"pt", "date", "va": {side: text}, "bcva": {side: text}, "iop": {side: Decimal}}: set cells only
    visits: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: DX_NO → (VISIT_NO, code, eye as written)
    diagnoses: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    #: EXAM_NO → (VISIT_NO, eye as written, sph, cyl, axis)
    exams: dict[int, tuple[int, str, Decimal, Decimal, int]] = field(default_factory=dict)
    dirty: dict[str, Any] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


DDL = {
    "PATIENT": "PT_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40) NOT NULL, JUMIN_NO CHAR(13), SEX CHAR(1), "
               "BIRTH_DATE CHAR(8), TEL VARCHAR(20)",
    "VISIT": "VISIT_NO INTEGER PRIMARY KEY, PT_NO VARCHAR(10) NOT NULL, VISIT_DATE CHAR(8) NOT NULL, "
             "VA_OD VARCHAR(10), VA_OS VARCHAR(10), BCVA_OD VARCHAR(10), BCVA_OS VARCHAR(10), IOP_OD DECIMAL(4,1), "
             "IOP_OS DECIMAL(4,1), MEMO VARCHAR(200)",
    "DIAG": "DX_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER NOT NULL, PT_NO VARCHAR(10) NOT NULL, DX_YMD CHAR(8), "
            "KCD_CD VARCHAR(10), DX_NM VARCHAR(60), EYE_ID VARCHAR(4)",
    "EYE_EXAM": "EXAM_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER NOT NULL, PT_NO VARCHAR(10) NOT NULL, "
                "EXAM_DATE CHAR(8), EYE VARCHAR(4), SPH DECIMAL(5,2), CYL DECIMAL(5,2), AXIS INTEGER",
}


def _patients() -> list[tuple[Any, ...]]:
    return [(f"P{i:05d}", name_of(i), rrn_of(i), "M" if rrn_of(i)[6] in "13" else "F", birth_of(rrn_of(i)),
             f"010-{3000 + i:04d}-{5000 + i:04d}") for i in range(1, PATIENTS + 1)]


def _visit(db: EyeClinic, v: int) -> tuple[Any, ...]:
    patient = f"P{1 + (v * 7) % PATIENTS:05d}"
    day = (dt.date(2024, 3, 4) + dt.timedelta(days=v)).strftime("%Y%m%d")
    va: dict[str, str | None] = {"right": ACUITY[v % len(ACUITY)], "left": ACUITY[(v * 3) % len(ACUITY)]}
    bcva: dict[str, str | None] = {"right": "1.0" if v % 4 else None, "left": ("0.9" if v % 5 else "") if v % 4 else None}
    iop: dict[str, Decimal | None] = {"right": Decimal(f"{12 + v % 10}.{v % 3}"),
                                      "left": None if v % 17 == 0 else Decimal(f"{13 + v % 9}.0")}
    if v == db.dirty["unmeasured"]:
        va = {"right": None, "left": None}
        bcva = {"right": None, "left": None}
        iop = {"right": None, "left": None}
    db.visits[v] = {"pt": patient, "date": day,
                    "va": {s: x for s, x in va.items() if x}, "bcva": {s: x for s, x in bcva.items() if x},
                    "iop": {s: x for s, x in iop.items() if x is not None}}
    return (v, patient, day, va["right"], va["left"], bcva["right"], bcva["left"], iop["right"], iop["left"],
            "산동 후 안저검사" if v % 6 == 0 else None)


def _diagnoses(db: EyeClinic) -> list[tuple[Any, ...]]:
    rows, codes, sides = [], list(KCD), ["R", "L", "OU", "B"]
    n = 0
    for v, visit in db.visits.items():
        for k in range(1 + v % 2):
            n += 1
            code = codes[(v + k) % len(codes)]
            eye = "X" if n == db.dirty["no_eye_dx"] else sides[(v + k) % len(sides)]
            db.diagnoses[n] = (v, code, eye)
            rows.append((n, v, visit["pt"], visit["date"], code, KCD[code], eye))
    return rows


def _exams(db: EyeClinic) -> list[tuple[Any, ...]]:
    rows, n = [], 0
    for v, visit in db.visits.items():
        if v % 3:
            continue
        for eye in (("R", "L") if v % 2 else ("우안", "좌안")):
            n += 1
            written = "3" if n == db.dirty["no_eye_exam"] else eye
            sph, cyl, axis = Decimal(f"-{v % 6}.{25 * (v % 4):02d}"), Decimal(f"-0.{25 * (1 + v % 3):02d}"), (v * 7) % 180
            db.exams[n] = (v, written, sph, cyl, axis)
            rows.append((n, v, visit["pt"], visit["date"], written, sph, cyl, axis))
    return rows


def create_eye_clinic(engine: str, target: Path | str) -> EyeClinic:
    """Build the clinic on SQLite (``target`` a path) or MariaDB (``target`` a connection string to a fresh
    database)."""
    db = EyeClinic(engine, path=target if isinstance(target, Path) else None,
                   odbc=target if isinstance(target, str) else None, patients="patient", also_read=("visit",))
    db.dirty = {"unmeasured": 50, "no_eye_dx": 7, "no_eye_exam": 5}
    conn: Any
    if isinstance(target, Path):
        conn = sqlite3.connect(target)
        put = _created(db, conn.cursor(), DDL)
    else:
        conn, put = mariadb_tables(db, target, DDL)
    try:
        visits = [_visit(db, v) for v in range(1, VISITS + 1)]
        for table, rows in (("PATIENT", _patients()), ("VISIT", visits), ("DIAG", _diagnoses(db)),
                            ("EYE_EXAM", _exams(db))):
            if engine == "sqlite":  # its driver binds no Decimal: the text, which NUMERIC affinity stores as a number
                rows = [tuple(str(x) if isinstance(x, Decimal) else x for x in row) for row in rows]
            put(table, rows)
        conn.commit()
    finally:
        conn.close()
    return db
