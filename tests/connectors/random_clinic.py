"""Clinic databases drawn at random from a seed: a patient, visit and diagnosis table in one of four naming
styles (English abbreviations, Hangul, camelCase, short lower case), keys of either type, dates in seven
written forms, and around them what nobody maps: tables of random columns and declared types holding
awkward values (NULLs, control characters, invalid dates, 2^63 - 1, ±inf, bytes, CP949 bytes, 5,000-character
text, values of another storage class than the column declares), a composite key with dotted and quoted
column names, a keyless log with duplicate rows, a view, visits that write the patient's key as text,
invalid UTF-8 in a mapped column, orphan visits, impossible dates.

The same seed gives the same database (tests/test_random_clinics.py runs fixed seeds through the
contractor's whole flow and rebuilds every cell from the opened bag).
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍"
GIVEN_NAMES = ("민준", "서연", "지호", "하은", "도윤", "수아", "예준", "지우", "시우", "하린")

STYLES: dict[str, dict[str, str]] = {
    "abbreviated": dict(patients="PATIENT", key="PT_NO", name="PT_NM", birth="BIRTH_DT", sex="SEX_CD",
                        rrn="JUMIN_NO", visits="VISIT", visit_key="VISIT_NO", visit_date="VISIT_DT",
                        diagnoses="DIAG", code="KCD_CD", label="DIAG_NM"),
    "hangul": dict(patients="환자", key="환자번호", name="성명", birth="생년월일", sex="성별", rrn="주민번호",
                   visits="내원", visit_key="내원번호", visit_date="내원일", diagnoses="상병", code="상병코드",
                   label="상병명"),
    "camel": dict(patients="tblPatient", key="chartNo", name="patientName", birth="birthDate", sex="gender",
                  rrn="residentNo", visits="tblVisit", visit_key="visitId", visit_date="visitDate",
                  diagnoses="tblDiagnosis", code="icdCode", label="icdName"),
    "short": dict(patients="pat", key="id", name="name", birth="dob", sex="sex", rrn="ssn", visits="enc",
                  visit_key="enc_no", visit_date="enc_date", diagnoses="dx", code="code", label="descr"),
}

#: (declared type, written form) of a date column.
DATE_FORMS = (("TEXT", "iso"), ("TEXT", "ymd"), ("INTEGER", "ymd-number"), ("DATE", "iso"), ("TEXT", "dotted"),
              ("INTEGER", "unix-ms"), ("", "iso"))

AWKWARD_TEXT = (
    "", " ", "  padded  ", "tab\there", "line\nbreak", "cr\r\n", "nul\x00in", "bell\x07", "😀 emoji", "한글 메모",
    "ＦＵＬＬ", "e\u0301 nfd", "'quote\"", "\\back", "\ufeffbom", "\u200bzw", "NULL", "null", "None", "0", "-0",
    "1e16", "NaN", "inf", "0000-00-00", "2024-02-30", "20240230", "9999-12-31", "1900-01-01", "24.01.05", "2024/1/5",
)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def awkward_value(rng: random.Random, declared: str) -> Any:
    if rng.random() < 0.12:
        return None
    upper = declared.upper()
    if "INT" in upper:
        return rng.choice([0, -1, 1, 2**31, 2**63 - 1, -(2**63), rng.randint(-10**9, 10**9), "12a", 3.5])
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return rng.choice([0.0, -0.0, 1e16, 1.5e-300, 3.14159, float("inf"), float("-inf"), 12.50, "abc",
                           123456789012345678])
    if "BLOB" in upper:
        return rng.choice([b"", b"\x00\xff\xfe", bytes(range(256)), b"\x89PNG\r\n\x1a\n" + b"x" * 100, "text"])
    if "NUM" in upper or "DEC" in upper:
        return rng.choice(["12.50", 12.5, 100, "1,000", "0.1"])
    if "DATE" in upper or "TIME" in upper:
        return rng.choice(["2024-01-05", "2024-01-05 13:05:00", "20240105", "2024-02-30", "0000-00-00", "",
                           1704412800, 1704412800000, "2024-01-05T13:05:00+09:00", "2024-01-05T04:05:00Z",
                           "05/01/2024", "2024.01.05"])
    if rng.random() < 0.1:  # CP949 bytes, other storage classes
        return rng.choice([b"\xb1\xe8\xc3\xb6\xbc\xf6", b"\xff\xfe", 12, 1.5])
    return rng.choice([*AWKWARD_TEXT, "x" * rng.choice([1, 300, 5000])])


def written_date(rng: random.Random, form: str) -> Any:
    year = rng.randint(2000 if form == "unix-ms" else 1935, 2024)
    month, day = (2, 30) if rng.random() < 0.03 else (rng.randint(1, 12), rng.randint(1, 28))
    if form == "iso":
        return f"{year:04d}-{month:02d}-{day:02d}"
    if form == "ymd":
        return f"{year:04d}{month:02d}{day:02d}"
    if form == "ymd-number":
        return year * 10000 + month * 100 + day
    if form == "dotted":
        return f"{year:04d}.{month:02d}.{day:02d}"
    try:  # unix-ms
        return int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp() * 1000)
    except ValueError:
        return 0


def create_random_clinic(path: Path, seed: int) -> str:
    """Write the clinic of ``seed`` to ``path``; its naming style."""
    rng = random.Random(seed)
    style_name = rng.choice(sorted(STYLES))
    s = STYLES[style_name]
    conn = sqlite3.connect(path)
    text_keys = rng.random() < 0.5
    key_type = "TEXT" if text_keys else "INTEGER"
    birth_type, birth_form = rng.choice(DATE_FORMS)
    visit_type, visit_form = rng.choice(DATE_FORMS)
    extra = [(f"memo{i}" if rng.random() < 0.5 else f"비고{i}",
              rng.choice(["TEXT", "INTEGER", "REAL", "BLOB", "", "NUMERIC", "DATETIME", "VARCHAR(20)"]))
             for i in range(rng.randint(0, 4))]
    conn.execute(f"CREATE TABLE {q(s['patients'])} ({q(s['key'])} {key_type} PRIMARY KEY, {q(s['name'])} TEXT, "
                 f"{q(s['birth'])} {birth_type}, {q(s['sex'])} TEXT, {q(s['rrn'])} TEXT"
                 + "".join(f", {q(n)} {t}" for n, t in extra) + ")")
    keys: list[Any] = []
    for i in range(rng.randint(5, 60)):
        key = f"{i + 1:08d}" if text_keys else i + 1
        keys.append(key)
        rrn = (f"{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-"
               f"{rng.choice('12')}{rng.randint(0, 999_999):06d}")
        conn.execute(f"INSERT INTO {q(s['patients'])} VALUES ({', '.join('?' * (5 + len(extra)))})",
                     [key, rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), written_date(rng, birth_form),
                      rng.choice(["M", "F", "남", "여", "1", "2", None, "X"]), rrn,
                      *(awkward_value(rng, t) for _, t in extra)])
    text_visits = rng.random() < 0.3
    visit_key_type = "TEXT" if text_visits else "INTEGER"
    conn.execute(f"CREATE TABLE {q(s['visits'])} ({q(s['visit_key'])} {visit_key_type} PRIMARY KEY, "
                 f"{q(s['key'])} {key_type}, {q(s['visit_date'])} {visit_type}, dept TEXT, doctor TEXT)")
    visit_keys: list[Any] = []
    for i in range(rng.randint(10, 200)):
        visit_key = f"V{i:05d}" if text_visits else i + 1
        visit_keys.append(visit_key)
        patient = rng.choice(keys) if rng.random() > 0.03 else ("99999999" if text_keys else 99999)  # orphan
        conn.execute(f"INSERT INTO {q(s['visits'])} VALUES (?, ?, ?, ?, ?)",
                     [visit_key, patient, written_date(rng, visit_form), rng.choice(["내과", "IM", None, "소아과"]),
                      rng.choice(["D01", "D02", None, " D01"])])
    if rng.random() < 0.7:
        conn.execute(f"CREATE TABLE {q(s['diagnoses'])} (seq INTEGER PRIMARY KEY, {q(s['visit_key'] + '_ref')} "
                     f"{visit_key_type}, {q(s['key'])} {key_type}, {q(s['code'])} TEXT, {q(s['label'])} TEXT, "
                     "main_yn TEXT)")
        for i in range(rng.randint(5, 200)):
            conn.execute(f"INSERT INTO {q(s['diagnoses'])} VALUES (?, ?, ?, ?, ?, ?)",
                         [i + 1, rng.choice(visit_keys), rng.choice(keys),
                          rng.choice(["J00", "J06.9", "I10", "E11.9", "K29.7", "j069", "", None, "Z00.0 "]),
                          rng.choice(["감기", "고혈압", None, "당뇨병"]), rng.choice(["Y", "N", "1", "0", None])])
    for t in range(rng.randint(1, 5)):
        table = rng.choice(["LOG", "설정", "code_master", "tmp", "sms_hist", "audit", "x y", "select", "Table-1"]) + str(t)
        columns = [(rng.choice(["a", "값", "CODE", "Value", "desc", "order", "group", "dt"]) + str(c),
                    rng.choice(["TEXT", "INTEGER", "REAL", "BLOB", "", "NUMERIC", "DATE", "BOOLEAN", "VARCHAR(5)"]))
                   for c in range(rng.randint(1, 6))]
        keyed = rng.random() < 0.6
        without_rowid = keyed and rng.random() < 0.2
        ddl = ", ".join(f"{q(n)} {ty}" for n, ty in columns)
        if keyed:
            ddl = f"rid INTEGER {'NOT NULL ' if without_rowid else ''}PRIMARY KEY, {ddl}"
        conn.execute(f"CREATE TABLE {q(table)} ({ddl}){' WITHOUT ROWID' if without_rowid else ''}")
        for r in range(rng.choice([0, 1, 3, 40])):
            values = [awkward_value(rng, ty) for _, ty in columns]
            conn.execute(f"INSERT INTO {q(table)} VALUES ({', '.join('?' * (len(values) + keyed))})",
                         [r + 1, *values] if keyed else values)
    if rng.random() < 0.5:  # a composite key, dotted and quoted names
        conn.execute('CREATE TABLE "처방 내역" ("rx.no" INTEGER, "rev" INTEGER, "pt ""no""" TEXT, "약품명" TEXT, '
                     '"qty" NUMERIC, "given_at" TEXT, PRIMARY KEY ("rx.no", "rev"))')
        for i in range(rng.randint(1, 80)):
            conn.execute('INSERT INTO "처방 내역" VALUES (?, ?, ?, ?, ?, ?)',
                         [i // 2, i % 2, str(rng.choice(keys)), rng.choice(["타이레놀", "아스피린", None]),
                          rng.choice(["0.5", 1, 1.25, "1/2", None]), rng.choice(["2024-01-05 09:00", "", None])])
    if rng.random() < 0.5:  # keyless, with duplicate rows
        conn.execute('CREATE TABLE "sms log" (sent TEXT, phone TEXT, body TEXT)')
        for _ in range(rng.randint(1, 30)):
            conn.execute('INSERT INTO "sms log" VALUES (?, ?, ?)',
                         ["2024-01-01 10:00", "010-0000-0000", "예약 안내"] if rng.random() < 0.3
                         else [awkward_value(rng, "TEXT") for _ in range(3)])
    if rng.random() < 0.5:
        conn.execute(f'CREATE VIEW "v_patients" AS SELECT * FROM {q(s["patients"])}')
    if rng.random() < 0.3:  # some visits write the patient's key as text
        conn.execute(f"UPDATE {q(s['visits'])} SET {q(s['key'])} = CAST({q(s['key'])} AS TEXT) || '' "
                     "WHERE rowid % 3 = 0")
    if rng.random() < 0.4:  # a patient's name that is not UTF-8 (CP949 bytes in a TEXT column)
        conn.execute(f"UPDATE {q(s['patients'])} SET {q(s['name'])} = CAST(X'B1E8C3B6BCF6' AS TEXT) WHERE rowid = 2")
    conn.commit()
    conn.close()
    return style_name
