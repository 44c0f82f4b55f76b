"""A small clinic whose every free-text cell is a unique, greppable *sentinel* that still looks like patient data
(test data only; made up): tests/test_no_patient_value_leaves.py runs the contractor's whole flow on it and greps
every byte written outside the sealed bundle and the opened bag for each sentinel.

A sentinel's *token* is three syllables no Korean word or product text has (궉, 뙇, 쀍, 뷁 …), drawn from a counter:
a patient's name is a token (3 syllables, like 김민준); an address, a memo, a diagnosis name, a JSON document start
with one; resident registration numbers have a valid check digit and a unique birth date + serial; telephone
numbers a unique 010-7xxx-9xxx. The same kinds of values sit where code never expects them: in a status-like column
(``visit_stat``: the status words 완료/접수/취소/예약, so that the scaffold reads it as a status, and a patient's name
in every thirtieth visit, as a receptionist typing in the wrong box does), in a code-like column (``dept_cd``: IM/FM/PD,
and an RRN or a telephone number in every fifth visit), in a JSON document, in bytes of CP949 cut short (a TEXT column
on SQLite, a latin1 column on MariaDB, bytea on PostgreSQL, whose UTF8 text cannot hold them; on SQLite one address,
a mapped field, too: a bad-encoding field defect). Also every error path: a text date that does not exist ('2024-02-30'), a patient without a name (NULL where
the scaffold's patient needs one), a duplicated chart number and an orphan visit.

Not sentinels (not greppable as one patient's value): keys and chart numbers, dates, sex codes, the status words and
department codes, the KCD codes.

Tables (one DDL for SQLite, MariaDB and PostgreSQL):

* ``pt_master`` (pt_no, chart_no, pt_nm, jumin_no, birth_ymd, sex, tel_no, addr, memo, pt_info json text, memo_cp949
  binary);
* ``visit`` (visit_no, pt_no, visit_ymd text, visit_stat, dept_cd, visit_memo);
* ``dx`` (dx_no, visit_no, kcd_cd, dx_nm).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: 20 syllables no Korean word, name or product text uses: a token is three of them (8,000 tokens)
RARE = "궉뙇쀍뷁퓌횽꿻헿쏋쮸퀭훏똡뀱쀼퓹즁햏뜛쒧"
PATIENTS = 60
VISITS = 150
STATES = ("완료", "접수", "취소", "예약")
DEPARTMENTS = ("IM", "FM", "PD")
KCD = ("J00", "J20.9", "I10", "E11.9", "M54.5")


def token(n: int) -> str:
    return RARE[n // 400 % 20] + RARE[n // 20 % 20] + RARE[n % 20]


def rrn(i: int) -> str:
    """A resident registration number with a valid check digit (YYMMDD-SBBBBBC), unique per ``i``."""
    yy, mm, dd = 50 + i % 40, 1 + i % 12, 1 + i % 28
    body = f"{yy:02d}{mm:02d}{dd:02d}{1 + i % 2}{(7000 + i) % 100000:05d}"
    check = (11 - sum(int(d) * w for d, w in zip(body, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check}"


def phone(i: int) -> str:
    return f"010-7{i:03d}-9{i:03d}"


DDL = {
    "pt_master": "pt_no INTEGER PRIMARY KEY, chart_no VARCHAR(10) NOT NULL, pt_nm VARCHAR(40), jumin_no VARCHAR(14), "
                 "birth_ymd VARCHAR(8), sex CHAR(1), tel_no VARCHAR(20), addr VARCHAR(200), memo VARCHAR(400), "
                 "pt_info TEXT, memo_cp949 {binary}",
    "visit": "visit_no INTEGER PRIMARY KEY, pt_no INTEGER NOT NULL, visit_ymd VARCHAR(10), visit_stat VARCHAR(20), "
             "dept_cd VARCHAR(20), visit_memo VARCHAR(400)",
    "dx": "dx_no INTEGER PRIMARY KEY, visit_no INTEGER NOT NULL, kcd_cd VARCHAR(10), dx_nm VARCHAR(200)",
}
#: the column of CP949 bytes: text on SQLite (the bytes cast to TEXT, as a legacy EMR wrote them) and MariaDB (a
#: latin1 column, as legacy Korean installations kept CP949); PostgreSQL's UTF8 text cannot hold them (bytea)
BINARY = {"sqlite": "TEXT", "mariadb": "VARCHAR(200) CHARACTER SET latin1", "postgresql": "BYTEA"}
#: SQLite: the patient whose address (a mapped field) is broken CP949 too (a bad-encoding field defect)
BROKEN_ADDRESS = 5


@dataclass
class SentinelClinic:
    engine: str
    path: Path | None = None
    odbc: str | None = None
    #: every sentinel put in: the exact text (names, RRNs, phones, addresses, memos, JSON documents, …)
    sentinels: set[str] = field(default_factory=set)
    #: each sentinel's marks: the unique token or digit runs that identify it even when cut short, masked of its
    #: tail or reformatted (an RRN or a phone without its hyphens); any of them seen is the sentinel seen
    marks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    #: the patient named in a status cell, the RRN in a code cell (what the leak checks must not see)
    in_status: list[str] = field(default_factory=list)
    in_code: list[str] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)


def _rows(db: SentinelClinic) -> dict[str, list[tuple[Any, ...]]]:
    counter = iter(range(8000))

    def text(template: str) -> str:
        mark = token(next(counter))
        value = template.format(mark)
        db.sentinels.add(value)
        db.marks[value] = (mark,)
        return value

    def digits(value: str) -> str:
        db.sentinels.add(value)
        db.marks[value] = (value, value.replace("-", ""))
        return value

    patients: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        name = None if i == 7 else text("{}")  # patient 7: no name (required)
        if name is not None:
            db.names[i] = name
        chart = f"{(i if i != 12 else 11):08d}"  # patients 11 and 12: one chart number
        number = digits(rrn(i))
        memo = text("{} 님 보호자 연락 요망, 페니실린 과민 반응 있음")
        doc = json.dumps({"보호자": text("{}"), "연락처": digits(phone(500 + i)), "메모": text("{} 님 야간 연락 불가")},
                         ensure_ascii=False)
        db.sentinels.add(doc)
        broken = text("{} 님 구 차트 메모").encode("cp949")[:-1]  # the last character cut short: broken CP949
        address: str | bytes = text("서울특별시 마포구 {}로 12길 3")
        if i == BROKEN_ADDRESS and db.engine == "sqlite":
            address = str(address).encode("cp949")[:-3]  # cut inside 길: not CP949 any more
        patients.append((i, chart, name, number, "19" + number[:6], "M" if number[7] in "13" else "F",
                         digits(phone(i)), address, memo, doc, broken))
    visits: list[tuple[Any, ...]] = []
    diagnoses: list[tuple[Any, ...]] = []
    for v in range(1, VISITS + 1):
        pt = 1 + v * 7 % PATIENTS if v != 33 else 9999  # visit 33: an orphan
        day = "2024-02-30" if v == 21 else f"2024-{1 + v % 12:02d}-{1 + v % 28:02d}"
        state, code = STATES[v % len(STATES)], DEPARTMENTS[v % len(DEPARTMENTS)]
        if v % 30 == 0:  # a few: the column stays a status column to the scaffold (at most 20 distinct values)
            state = text("{}")  # a patient's name typed into the status box
            db.in_status.append(state)
        if v % 5 == 0:
            code = digits(rrn(1000 + v)) if v % 10 == 0 else digits(phone(200 + v))
            db.in_code.append(code)
        visits.append((v, pt, day, state, code, text("{} 님 두통 3일째, 혈압약 복용 중, 남편 010 연락")))
        diagnoses.append((v, v, KCD[v % len(KCD)], text("{} 님 의증: 급성 기관지염")))
    return {"pt_master": patients, "visit": visits, "dx": diagnoses}


def create_sentinel_clinic(engine: str, target: Path | str) -> SentinelClinic:
    """The clinic in the SQLite file ``target`` or the fresh server database ``target`` (a connection string)."""
    db = SentinelClinic(engine, path=target if isinstance(target, Path) else None,
                        odbc=target if isinstance(target, str) else None)
    tables = _rows(db)
    conn: Any
    if isinstance(target, Path):
        target.unlink(missing_ok=True)
        conn = sqlite3.connect(target)
    else:
        import pyodbc

        conn = pyodbc.connect(target, autocommit=True)
        conn.setencoding(encoding="utf-8")
    cursor = conn.cursor()
    suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if engine == "mariadb" else ""
    for name, columns in DDL.items():
        cursor.execute(f"CREATE TABLE {name} ({columns.format(binary=BINARY[engine])}){suffix}")
    for name, rows in tables.items():
        marks = ", ".join("?" for _ in rows[0])
        if engine == "mariadb" and name == "pt_master":  # bytes through UNHEX: the latin1 column stores them as they are
            marks = marks[:-1] + "UNHEX(?)"
            rows = [(*row[:-1], row[-1].hex()) for row in rows]
        cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        db.rows[name] = len(rows)
    if engine == "sqlite":  # bytes stored as TEXT (not UTF-8): what a legacy EMR's CP949 build left
        cursor.execute("UPDATE pt_master SET memo_cp949 = CAST(memo_cp949 AS TEXT), addr = CAST(addr AS TEXT)")
    conn.commit()
    conn.close()
    return db
