"""A small Korean clinic's EMR converted from an old Access/FoxPro program into SQLite (test data only), with the
8-character ASCII table and field names FoxPro allowed.

Nothing like the demo: the conversion kept SQLite's dynamic typing as it found it. Columns without declared
types; a column holding integers, text, reals and BLOBs; dates as Julian-day reals, unix epoch integers,
YYYYMMDD integers, ``'YY-MM-DD'`` text and Korean text (``1980년 3월 7일``); Korean names as CP949 bytes in
BLOBs and as CP949 bytes inside TEXT values (not UTF-8); a ``WITHOUT ROWID`` table, a ``STRICT`` table; a chart
number column the program treated as its key with duplicates (no constraint declared); ``INTEGER PRIMARY KEY``
rowid aliases with gaps; a table whose rowid is its only key; images as BLOBs and as relative Windows, drive and
UNC paths; booleans as ``'Y'``/``'N'``, ``-1``/``0`` (Access) and ``'T'``/``'F'``; amounts as text with thousands
separators (``'1,200'``); integers at the ends of 64 bits; ``1e999`` (infinity). NULLs where a mapping needs a
value and a visit of a patient who does not exist.

SQLite refuses two tables (or columns) whose names differ only by case (``table MEMO already exists``), so that
part of a real conversion cannot be planted here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreign_schemas import ForeignDb

PATIENTS = 24


def cp949(text: str) -> bytes:
    return text.encode("cp949")


@dataclass
class LegacyClinic(ForeignDb):
    """What was put in: rows and cells per table (``ForeignDb``), every row of every table as the stdlib reads
    it (``stored``: table → rows as tuples, in rowid order), and the dirty rows' keys."""

    stored: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    dirty: dict[str, Any] = field(default_factory=dict)


def _birth(i: int) -> Any:
    """Birth dates as five eras of the program wrote them."""
    y, m, d = 1950 + i, 1 + i % 12, 1 + i % 28
    return [y * 10000 + m * 100 + d,  # YYYYMMDD integer
            f"{y % 100:02d}-{m:02d}-{d:02d}",  # 'YY-MM-DD' text
            f"{y}년 {m}월 {d}일",  # Korean text
            f"{y}{m:02d}{d:02d}",  # YYYYMMDD text
            ][i % 4]


def create_legacy_clinic(path: Path) -> LegacyClinic:
    path.unlink(missing_ok=True)
    db = LegacyClinic("sqlite", path=path, patients="ptinfo", also_read=("jinryo",))
    conn = sqlite3.connect(path)
    c = conn.cursor()
    c.executescript("""
        CREATE TABLE PTINFO (CHARTNO, PNAME, JUMIN, BIRTH, SEX, TEL, USEYN, MEMO);
        CREATE TABLE JINRYO (JNO INTEGER PRIMARY KEY, CHARTNO, JDATE, JTIME, DOCTOR, FEE, INSU, DXCODE);
        CREATE TABLE PRESC (JNO INTEGER NOT NULL, SEQ INTEGER NOT NULL, DRUGCD TEXT, QTY REAL, DAYS INTEGER,
                           AMT ANY, PRIMARY KEY (JNO, SEQ)) STRICT, WITHOUT ROWID;
        CREATE TABLE LABRES (LNO INTEGER PRIMARY KEY, CHARTNO INTEGER, LDATE ANY, RESULT ANY, ABN TEXT) STRICT;
        CREATE TABLE IMAGE (CHARTNO, FNAME, IMG BLOB, SHOTDT);
        CREATE TABLE SETUP (ITEM TEXT PRIMARY KEY, VAL) WITHOUT ROWID;
    """)

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(rows[0]))
        c.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        db.table(table.lower(), len(rows[0]), len(rows))

    # PTINFO: no declared types, no key; 차트번호 the program's key with a duplicate. Names UTF-8 text, CP949 bytes
    # in a BLOB, CP949 bytes inside TEXT; a NULL name; -1/0 and Y/N flags; remarks of every storage class.
    people: list[tuple[Any, ...]] = []
    remarks: list[Any] = [None, 7, 2.5, "메모", cp949("옛 메모"), 9223372036854775807, -9223372036854775808,
                          float("inf"), "1,200", b"\x00\x01\xff"]
    for i in range(1, PATIENTS + 1):
        name = f"김환자{i}"
        stored_name: Any = name if i % 3 else cp949(name)  # every third a CP949 BLOB
        sex = ["M", "F", 1, 2][i % 4]
        flag = ["Y", "N", -1, 0][i % 4]
        chart = i if i % 5 else f"{i:05d}"  # integers and zero-padded text chart numbers
        people.append((chart, stored_name, f"{800101 + i}-1{i:06d}", _birth(i), sex, f"010-1234-{i:04d}", flag,
                       remarks[i % len(remarks)]))
    people.append((7, "김중복", "800108-1000007", 19570808, "M", None, "Y", "중복 차트번호"))  # duplicate 7
    db.dirty["duplicate_chart"] = 7
    people.append((99, None, None, None, None, None, "N", None))  # no name at all
    db.dirty["nameless"] = 99
    put("PTINFO", people)
    c.execute("UPDATE PTINFO SET PNAME = CAST(? AS TEXT) WHERE CHARTNO = 4", (cp949("김환자4"),))  # CP949 in TEXT
    db.dirty["cp949_text_name"] = 4

    # JINRYO: INTEGER PRIMARY KEY with gaps; visit dates as Julian days (REAL), unix epochs (INTEGER), YYYYMMDD and
    # 'YY-MM-DD'; amounts as text with separators; insured as -1/0; a visit of a missing patient, a NULL date.
    visits: list[tuple[Any, ...]] = []
    number = 0
    for i in range(1, PATIENTS + 1):
        chart = i if i % 5 else f"{i:05d}"
        for j in range(2):
            number += 1 + (i * j) % 7  # gaps
            day = [2460000.5 + i, 1700000000 + 86400 * i, 20240100 + i, f"24-02-{i:02d}"][(i + j) % 4]
            fee = [f"{1000 + i * 100:,}", 1500, 2500.5, "3,000원"][(i + j) % 4]
            visits.append((number, chart, day, f"{9 + i % 8:02d}:{i:02d}", "이의사", fee, [-1, 0][j],
                           ["J00", "I10", "K29.7", None][(i + j) % 4]))
    visits.append((900, 777, 20240301, "10:00", "이의사", "1,000", -1, "J00"))
    db.dirty["orphan_visit"] = 900
    visits.append((901, 1, None, None, None, None, None, None))
    db.dirty["dateless_visit"] = 901
    put("JINRYO", visits)

    # PRESC: STRICT, WITHOUT ROWID, composite key; 금액 ANY (integers, text amounts, reals)
    put("PRESC", [(v[0], k, f"D{k:04d}", 1.5 * k, 3, ["1,200", 1200, 1200.75, None][k % 4])
                for v in visits[:20] for k in range(1, 3)])

    # LABRES: STRICT with ANY columns holding numbers, text, BLOBs; 이상 as T/F
    put("LABRES", [(i * 10, i, [2460100.25, 1700000000, "2023-12-01", "2023년 12월 1일"][i % 4],
                  [5.5, "양성", 120, cp949("음성"), float("-inf")][i % 5], "TF"[i % 2]) for i in range(1, 11)])

    # IMAGE: its rowid its only key; images as BLOBs and as relative, drive and UNC Windows paths
    put("IMAGE", [(1, "..\\images\\a.jpg", None, 20240105), (2, "C:\\EMR\\img\\b.jpg", None, "24-01-06"),
                 (3, "\\\\SERVER\\emr\\c.jpg", None, 2460000.5), (4, None, b"\xff\xd8\xff\xe0JFIF" + bytes(range(256)),
                                                                   1700000000),
                 (5, "사진.jpg", b"", None)])

    # SETUP: WITHOUT ROWID, keyed by text; values at the ends of 64 bits, infinity, -0.0, text numbers
    put("SETUP", [("max", 9223372036854775807), ("min", -9223372036854775808), ("inf", float("inf")),
                 ("ninf", float("-inf")), ("negzero", -0.0), ("tiny", 5e-324), ("pi", 3.141592653589793),
                 ("sep", "1,234,567"), ("bool", "T"), ("blob", b"\x80"), ("cp949", cp949("설정값")),
                 ("null", None)])
    c.execute("INSERT INTO SETUP VALUES ('cp949text', CAST(? AS TEXT))", (cp949("한글설정"),))
    db.table("setup", 2, 1)
    conn.commit()
    conn.text_factory = bytes
    for table in db.rows:
        db.stored[table] = c.execute(f"SELECT * FROM {table}").fetchall()
    conn.close()
    return db


#: The contractor's finished connector: the scaffold's patient section, and the visits by chart number with the
#: dates the program wrote last (YYYYMMDD); the other visit days (Julian days, Unix times, 'YY-MM-DD') are left
#: to quarantine as invalid dates, kept raw.
LEGACY_CONNECTOR = """
[connector]
name = "foreign"
version = "1.0.0"
engines = ["sqlite", "sqlite-odbc"]

[source]
encoding = "cp949"
date_formats = ["%Y%m%d"]

[skip]
SETUP = "the program's settings; no patient data"

[entities.patient]
table = "PTINFO"
key = "ROW_NO"
query = "SELECT rowid AS ROW_NO, * FROM PTINFO"
unique = ["chart_number"]

[entities.patient.fields]
chart_number = { column = "CHARTNO", required = true }
name = { column = "PNAME", required = true }
sex = { column = "SEX", type = "code", map = { "M" = "male", "F" = "female", "1" = "male", "2" = "female" } }
rrn = { column = "JUMIN", type = "rrn" }
phone = { column = "TEL" }
active = { column = "USEYN", type = "bool" }

[entities.encounter]
table = "JINRYO"
key = "JNO"

[entities.encounter.fields]
patient_id = { column = "CHARTNO", type = "ref", ref = "patient.chart_number", required = true }
start = { column = "JDATE", type = "date", required = true }
"""


#: Julian days that are no date: a day past SQLite's last (10000-01-01), a negative number, a word.
JULIAN_BAD = (99999999.0, -1.5, "미상")


def create_julian_clinic(path: Path) -> LegacyClinic:
    """The same program's conversion where every date was kept as SQLite's ``julianday()``: birth days as REALs of
    midnight (x.5), one as an INTEGER (noon), two no date (a word, 0.0: 4714 BC); visit times as REALs with fractions of a day, one as the text of a
    number, and the three values of :data:`JULIAN_BAD` that are no date."""
    path.unlink(missing_ok=True)
    db = LegacyClinic("sqlite", path=path, patients="ptinfo", also_read=("jinryo",))
    conn = sqlite3.connect(path)
    c = conn.cursor()
    c.executescript("""
        CREATE TABLE PTINFO (CHARTNO INTEGER PRIMARY KEY, PNAME TEXT, BIRTH REAL, SEX TEXT);
        CREATE TABLE JINRYO (JNO INTEGER PRIMARY KEY, CHARTNO INTEGER, JDATE, DOCTOR TEXT);
    """)
    for i in range(1, PATIENTS + 1):
        birth = f"{1950 + i}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        c.execute("INSERT INTO PTINFO VALUES (?, ?, julianday(?), ?)", (i, f"김환자{i}", birth, "MF"[i % 2]))
    c.execute("UPDATE PTINFO SET BIRTH = CAST(BIRTH + 0.5 AS INTEGER) WHERE CHARTNO = 3")  # noon of the same day
    c.executemany("UPDATE PTINFO SET BIRTH = ? WHERE CHARTNO = ?", [(JULIAN_BAD[2], 23), (0.0, 24)])  # no day
    db.table("ptinfo", 4, PATIENTS)
    number = 0
    for i in range(1, PATIENTS + 1):
        for j in range(2):
            number += 1
            # times to the millisecond, across midnight UTC and the second's edges
            when = f"2024-{1 + j * 6:02d}-{i:02d} {(i * 7 + j * 13) % 24:02d}:{(i * 11) % 60:02d}:" \
                   f"{(i * 13) % 60:02d}.{(i * 137 + j * 499) % 1000:03d}"
            c.execute("INSERT INTO JINRYO VALUES (?, ?, julianday(?), ?)", (number, i, when, "이의사"))
    c.execute("UPDATE JINRYO SET JDATE = CAST(JDATE AS TEXT) WHERE JNO = 5")  # the text of a Julian day
    for k, bad in enumerate(JULIAN_BAD):
        c.execute("INSERT INTO JINRYO VALUES (?, ?, ?, ?)", (100 + k, 1 + k, bad, "이의사"))
    db.table("jinryo", 4, number + len(JULIAN_BAD))
    db.dirty["not_a_day"] = [100 + k for k in range(len(JULIAN_BAD))]
    conn.commit()
    conn.text_factory = bytes
    for table in db.rows:
        db.stored[table] = c.execute(f"SELECT * FROM {table}").fetchall()
    conn.close()
    return db
