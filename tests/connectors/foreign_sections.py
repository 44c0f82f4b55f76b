"""A Korean clinic's EMR nobody on the team has seen, whose SECTIONS hold the nasty values (test data only).

Unlike ``foreign_schemas.py`` (one plain patient table, every nasty value in carried tables), this clinic has
the tables ``emr-export scaffold`` recognises, shaped as legacy Korean EMRs shape them: dates as CHAR(8)
``YYYYMMDD``, as INTEGER ``20230101`` or as ``YYYY-MM-DD HH:MM`` text, codes with trailing blanks or in lower
case, Hangul and cryptic upper-case column names, Hangul text stored as CP949 bytes (SQLite), amounts as
text. The nasty values sit in the columns the scaffold MAPS (:data:`PLANTED`): invalid dates, NULLs where
a value is required, orphans, duplicate keys, broken encodings, a huge text, control characters, negative
and huge amounts, an RRN of the wrong length, a code in no code system.

The builder counts every row and cell as it inserts them (``ForeignDb.rows``/``columns``), independently of
the exporter's catalogue.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

#: Plain patients; the planted ones come after them.
PATIENTS = 12
HUGE_TEXT = "약물 반응 기록 " * 120_000  # 1.08 M characters
CP949_BROKEN = b"\xc7\xd1\xff\xfe\x80"  # a Hangul syllable, then bytes neither UTF-8 nor CP949
BAD_RRN = "8001011234"  # 10 digits
RRN = "8001011234567"


@dataclass
class Plant:
    """One planted cell: where it is, and what must become of it."""

    table: str  # as the inventory names it (lower case)
    key: Any  # the row's key value
    column: str  # lower case
    what: str
    #: "field-defect:<reason>" (row exported, value in raw/columns), "quarantine:<reason>" (the row
    #: quarantined), "fhir" (exported as it is: in FHIR, or in raw/columns when FHIR cannot hold it exactly),
    #: "raw" (an unmapped column of an exported row: in raw/columns, exactly)
    fate: str


@dataclass
class SectionsDb(ForeignDb):
    plants: list[Plant] = field(default_factory=list)
    #: (table, key column) → the key column of each table (lower case)
    keys: dict[str, str] = field(default_factory=dict)
    #: the patient whose one optional field is broken, and its children: table → keys
    whole_chart: dict[str, list[Any]] = field(default_factory=dict)
    #: patient values that must never be in a message or report text
    secrets: list[str] = field(default_factory=list)
    #: the scaffold's connector, once the flow has written it
    connector: Any = None


def _hangul(text: str, cp949: bool) -> Any:
    return text.encode("cp949") if cp949 else text


def _data(cp949: bool) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table: its columns (as written in the DDL) and rows. Values that need an engine's own form
    (CP949 bytes on SQLite) come through ``cp949``."""
    h = lambda text: _hangul(text, cp949)  # noqa: E731
    patients: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        patients.append((i, f"C{i:06d}", h(f"김환자{i}"), "MF"[i % 2], f"19{70 + i}0{(i % 9) + 1}1{i % 10}",
                         f"{70 + i}0{(i % 9) + 1}1{i % 10}-{1 + i % 2}234567", h(f"서울시 중구 {i}길"),
                         f"010-1234-{i:04d}", h("특이사항 없음")))
    # planted patients
    patients += [
        (13, "C000013", None, "F", "19800101", f"800101-2{RRN[7:]}", h("부산시"), "010-0000-0013", None),  # no name
        (14, "C000014", h("이결손"), "M", "19800101", "800101-1234567", CP949_BROKEN, "010-0000-0014", None),  # bad addr
        (15, "C000015", h("박주민"), "F", "19800101", BAD_RRN, h("대구시"), "010-0000-0015", None),  # RRN 10 digits
        (16, "C000016", h("최생일"), "M", "20230231", "800101-1234567", h("광주시"), "010-0000-0016", None),  # 31 Feb
        (17, "C000001", h("정중복"), "F", "19800101", "800101-2234567", h("대전시"), "010-0000-0017", None),  # chart dup
        (18, "C000018", h("한제어"), "M", "19800101", "800101-1234567", h("울산시\x07\x00호"), "010-0000-0018", None),
    ]
    visits: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        visits.append((100 + i, i, f"2023010{(i % 9) + 1}", "im  ", "O"))
    visits += [
        (113, 14, "20230105", "im  ", "O"),  # the patient with the broken address: the chart must be whole
        (114, 16, "20230106", "ent ", "O"),
        (115, 1, "20230231", "im  ", "O"),  # no such day
        (116, 2, "00000000", "im  ", "O"),  # zero date
        (117, 3, "2023-13-01", "im  ", "O"),  # month 13
        (118, 4, "", "im  ", "O"),  # empty
        (119, 5, None, "im  ", "O"),  # NULL visit date
        (120, None, "20230110", "im  ", "O"),  # NULL patient
        (121, 99, "20230110", "im  ", "O"),  # a patient that does not exist
    ]
    diagnoses: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        diagnoses.append((1000 + i, 100 + i, i, "j00  " if i % 2 else "J20.9", h("급성 비인두염"), "Y"))
    diagnoses += [
        (1013, 113, 14, "I10  ", h("본태성 고혈압"), "Y"),
        (1014, 9999, 1, "J00", h("급성 비인두염"), "Y"),  # its visit does not exist
        (1015, 102, 2, "ZZZ99", h("없는 코드"), "N"),  # a code in no code system
        (1016, 103, 3, "K29.7", h("위염\x1b[31m\x00"), "N"),  # control characters in the text
        # no code and no name (a diagnosis with its name but no code is a Condition of that text: not a defect)
        (1017, 104, 4, None, None, "N"),
    ]
    orders: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        orders.append((5000 + i, 100 + i, i, 20230101 + (i % 9), "645100880 ", h("타이레놀정500mg"), "1", 3))
    orders += [
        (5013, 113, 14, 20230105, "645100880 ", h("타이레놀정500mg"), "1", 3),
        (5014, 101, 1, 20230231, "645100880 ", h("타이레놀정500mg"), "1", 3),  # 31 Feb as an integer
        (5015, 101, 1, 0, "645100880 ", h("타이레놀정500mg"), "1", 3),  # zero
        (5016, 8888, 1, 20230101, "645100880 ", h("타이레놀정500mg"), "1", 3),  # orphan visit
        (5017, 102, 2, 20230101, "XX-NOT-EDI", h("알수없는약"), "1", 3),  # in no code system
    ]
    n = range(1, PATIENTS + 1)
    allergies: list[tuple[Any, ...]] = [(i, i, h("페니실린"), h("두드러기"), f"2023-01-{i:02d} 09:30") for i in n]
    allergies += [
        (20, 14, h("아스피린"), h("호흡곤란"), "2023-01-05 10:00"),
        (21, 2, h("조영제"), h(HUGE_TEXT), "2023-01-03 11:15"),  # a huge text
        (22, 3, h("땅콩"), h("발진"), "2023-02-30 08:00"),  # 30 Feb
        (23, 4, None, h("모름"), "2023-01-04 12:00"),  # no substance
    ]
    vitals: list[tuple[Any, ...]] = [(i, 100 + i, i, f"2023-01-{i:02d} 09:35", "120", "80", "36.5", "70.2")
                                     for i in n]
    vitals += [
        (20, 113, 14, "2023-01-05 10:05", "130", "85", "36.8", "65.0"),
        (21, 102, 2, "0000-00-00 00:00", "110", "70", "36.6", "55.0"),  # zero
        (22, 103, 3, "2023-01-04 25:61", "118", "75", "36.6", "60.1"),  # hour 25
        (23, 104, 4, "2023-01-05 09:00", "118", "75", "abc", "60.1"),  # temperature not a number
    ]
    labs: list[tuple[Any, ...]] = [(f"L{i:04d}", 100 + i, i, f"202301{i:02d}", "c3710 ", h("혈색소"), "13.5", "g/dL")
                                   for i in n]
    labs += [
        ("L0020", 113, 14, "20230105", "C3710", h("혈색소"), "12.1", "g/dL"),
        ("L0020 ", 113, 14, "20230105", "C3710", h("혈색소"), "12.2", "g/dL"),  # the same key but a blank
        ("L0021", 102, 2, "2023.01.03", "C3710", h("혈색소"), "14.0", "g/dL"),  # another date format
        ("L0022", 103, 3, "", "C3710", h("혈색소"), "11.0", "g/dL"),  # empty date
    ]
    vaccines: list[tuple[Any, ...]] = [(i, i, f"202210{i:02d}", "FLU ", h("인플루엔자"), f"LOT-{i}") for i in n]
    vaccines += [
        (20, 14, "20221016", "flu", h("인플루엔자"), "LOT-20"),
        (21, 2, "20221399", "FLU", h("인플루엔자"), "LOT-21"),  # month 13
        (22, 77, "20221017", "FLU", h("인플루엔자"), "LOT-22"),  # patient that does not exist
    ]
    insurance: list[tuple[Any, ...]] = [(i, i, "1", h("건강보험"), f"123456789{i:02d}", "20200101", "99991231")
                                        for i in n]
    insurance += [
        (20, 14, "1", h("건강보험"), "12345678920", "20200101", "99991231"),
        (21, 2, "2", h("의료급여"), "12345678921", "20201301", "20211231"),  # month 13
        (22, 3, "1", h("건강보험"), "12345678922", "20200101", "20191231"),  # ends before it starts
    ]
    payments: list[tuple[Any, ...]] = [(i, 100 + i, i, f"202301{i:02d}", f"{i},000" if i % 2 else f"{i}000",
                                        f"{i * 300}") for i in n]
    payments += [
        (20, 113, 14, "20230105", "15000", "4500"),
        (21, 102, 2, "20230103", "-5000", "-1500"),  # negative (a refund)
        (22, 103, 3, "20230104", "99999999999999999999999", "1"),  # huge
        (23, 104, 4, "20230105", "만원", "0"),  # not a number
    ]
    return {
        "PT_MST": (["PT_NO", "CHART_NO", "PT_NM", "SEX", "BIRTH_YMD", "JUMIN_NO", "ADDR", "TEL", "비고"], patients),
        "JUBSU": (["JUBSU_NO", "PT_NO", "JUBSU_YMD", "DEPT_CD", "IO_GB"], visits),
        "SANG": (["SANG_SEQ", "JUBSU_NO", "PT_NO", "SANG_CD", "상병명", "JU_YN"], diagnoses),
        "CHEOBANG": (["ORD_SEQ", "JUBSU_NO", "PT_NO", "ORD_YMD", "EDI_CD", "ORD_NM", "DOSE", "DAYS"], orders),
        "ALLERGY": (["ALG_SEQ", "PT_NO", "ALG_NM", "REACTION", "REG_DTTM"], allergies),
        "VITAL_SIGN": (["VS_SEQ", "JUBSU_NO", "PT_NO", "MSR_DTTM", "SBP", "DBP", "BT", "WT"], vitals),
        "LAB_RSLT": (["RSLT_NO", "JUBSU_NO", "PT_NO", "RSLT_YMD", "TEST_CD", "TEST_NM", "RSLT_VAL", "UNIT"], labs),
        "VACCINE": (["VAC_SEQ", "PT_NO", "VAC_YMD", "VAC_CD", "VAC_NM", "LOT_NO"], vaccines),
        "INS_HIST": (["INS_SEQ", "PT_NO", "INS_GB", "INS_NM", "INS_NO", "FROM_YMD", "TO_YMD"], insurance),
        "SUNAP": (["SUNAP_NO", "JUBSU_NO", "PT_NO", "SUNAP_YMD", "TOT_AMT", "BON_AMT"], payments),
    }


#: Declared types per column, per engine family: legacy CHAR(8) dates, INTEGER dates, text amounts.
_TYPES: dict[str, str] = {
    "PT_NO": "INTEGER", "CHART_NO": "CHAR(10)", "PT_NM": "VARCHAR(40)", "SEX": "CHAR(1)", "BIRTH_YMD": "CHAR(8)",
    "JUMIN_NO": "VARCHAR(20)", "비고": "VARCHAR(100)", "ADDR": "VARCHAR(200)", "TEL": "VARCHAR(20)", "JUBSU_NO": "INTEGER",
    "JUBSU_YMD": "VARCHAR(10)", "DEPT_CD": "CHAR(4)", "IO_GB": "CHAR(1)", "SANG_SEQ": "INTEGER",
    "SANG_CD": "CHAR(6)", "상병명": "VARCHAR(100)", "JU_YN": "CHAR(1)", "ORD_SEQ": "INTEGER", "ORD_YMD": "INTEGER",
    "EDI_CD": "CHAR(10)", "ORD_NM": "VARCHAR(100)", "DOSE": "VARCHAR(10)", "DAYS": "INTEGER", "ALG_SEQ": "INTEGER",
    "ALG_NM": "VARCHAR(100)", "REACTION": "LONGTEXT", "REG_DTTM": "VARCHAR(16)", "VS_SEQ": "INTEGER",
    "MSR_DTTM": "VARCHAR(16)", "SBP": "VARCHAR(5)", "DBP": "VARCHAR(5)", "BT": "VARCHAR(5)", "WT": "VARCHAR(6)",
    "RSLT_NO": "VARCHAR(8)", "RSLT_YMD": "VARCHAR(10)", "TEST_CD": "VARCHAR(8)", "TEST_NM": "VARCHAR(50)",
    "RSLT_VAL": "VARCHAR(20)", "UNIT": "VARCHAR(10)", "VAC_SEQ": "INTEGER", "VAC_YMD": "CHAR(8)",
    "VAC_CD": "VARCHAR(6)", "VAC_NM": "VARCHAR(50)", "LOT_NO": "VARCHAR(20)", "INS_SEQ": "INTEGER",
    "INS_GB": "CHAR(1)", "INS_NM": "VARCHAR(20)", "INS_NO": "VARCHAR(20)", "FROM_YMD": "CHAR(8)", "TO_YMD": "CHAR(8)",
    "SUNAP_NO": "INTEGER", "SUNAP_YMD": "CHAR(8)", "TOT_AMT": "VARCHAR(30)", "BON_AMT": "VARCHAR(30)",
}


def _record(db: SectionsDb, tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
    for name, (columns, rows) in tables.items():
        db.table(name.lower(), len(columns), len(rows))
        db.keys[name.lower()] = columns[0].lower()
    # the patient with the broken address (14): every one of its records but the address must be exported
    db.whole_chart = {"pt_mst": [14], "jubsu": [113], "sang": [1013], "cheobang": [5013], "allergy": [20],
                      "vital_sign": [20], "lab_rslt": ["L0020"], "vaccine": [20], "ins_hist": [20], "sunap": [20]}
    db.secrets = ["이결손", "박주민", BAD_RRN, "800101-1234567", "8001011234567", "20230231", "99999999999999999999999",
                  "ZZZ99", "XX-NOT-EDI"]
    q, d, f = "quarantine", "field-defect", "fhir"
    db.plants = [
        Plant("pt_mst", 13, "pt_nm", "NULL patient name", f"{q}:required-missing"),
        Plant("pt_mst", 14, "addr", "address neither UTF-8 nor CP949", f"{d}:bad-encoding"),
        Plant("pt_mst", 15, "jumin_no", "RRN of 10 digits", f"{d}:invalid-rrn"),
        Plant("pt_mst", 16, "birth_ymd", "31 February", f"{d}:invalid-date"),
        Plant("pt_mst", 17, "chart_no", "a chart number another patient has", f"{q}:duplicate"),
        Plant("pt_mst", 18, "addr", "BEL and NUL in an address", f"{d}:control-characters"),
        Plant("jubsu", 115, "jubsu_ymd", "31 February", f"{q}:invalid-date"),
        Plant("jubsu", 116, "jubsu_ymd", "00000000", f"{q}:invalid-date"),
        Plant("jubsu", 117, "jubsu_ymd", "month 13", f"{q}:invalid-date"),
        Plant("jubsu", 118, "jubsu_ymd", "empty visit date", f"{q}:required-missing"),
        Plant("jubsu", 119, "jubsu_ymd", "NULL visit date", f"{q}:required-missing"),
        Plant("jubsu", 120, "pt_no", "NULL patient", f"{q}:required-missing"),
        Plant("jubsu", 121, "pt_no", "a patient that does not exist", f"{q}:orphan"),
        Plant("sang", 1014, "jubsu_no", "a visit that does not exist", f"{q}:orphan"),
        Plant("sang", 1015, "sang_cd", "a code in no code system", f),
        Plant("sang", 1016, "상병명", "ESC and NUL in a Hangul-named column (the diagnosis name: exact text raw)",
              "raw"),
        Plant("sang", 1017, "sang_cd", "NULL diagnosis code and name", f"{q}:required-missing"),
        Plant("cheobang", 5014, "ord_ymd", "20230231 as an integer", f"{q}:invalid-date"),
        Plant("cheobang", 5015, "ord_ymd", "0 as a date", f"{q}:invalid-date"),
        Plant("cheobang", 5016, "jubsu_no", "a visit that does not exist", f"{q}:orphan"),
        Plant("cheobang", 5017, "edi_cd", "a code in no code system", f),
        Plant("allergy", 21, "reaction", "a 1 M character text", f),
        Plant("allergy", 22, "reg_dttm", "30 February", f"{d}:invalid-date"),
        Plant("allergy", 23, "alg_nm", "NULL substance", f"{q}:required-missing"),
        Plant("vital_sign", 21, "msr_dttm", "zero date-time", f"{q}:invalid-date"),
        Plant("vital_sign", 22, "msr_dttm", "hour 25", f"{q}:invalid-date"),
        Plant("vital_sign", 23, "bt", "a temperature that is not a number", f"{d}:invalid-number"),
        Plant("lab_rslt", "L0020 ", "rslt_no", "a key that differs from another only by a blank",
              f"{q}:ambiguous-key"),
        Plant("lab_rslt", "L0021", "rslt_ymd", "a date in another format ('2023.01.03' among '20230102's)", f),
        Plant("lab_rslt", "L0022", "rslt_ymd", "empty date", f"{q}:required-missing"),
        Plant("vaccine", 21, "vac_ymd", "month 13", f"{q}:invalid-date"),
        Plant("vaccine", 22, "pt_no", "a patient that does not exist", f"{q}:orphan"),
        Plant("ins_hist", 21, "from_ymd", "month 13", f"{d}:invalid-date"),
        Plant("sunap", 21, "tot_amt", "a negative amount", f),
        Plant("sunap", 22, "tot_amt", "a 23-digit amount", f),
        Plant("sunap", 23, "tot_amt", "an amount in words", f"{d}:invalid-number"),
    ]


def create_sqlite_sections(path: Path) -> SectionsDb:
    """The clinic on SQLite: Hangul text stored as CP949 bytes (CAST AS TEXT), as a legacy EMR wrote it."""
    path.unlink(missing_ok=True)
    db = SectionsDb("sqlite", path=path, patients="pt_mst")
    tables = _data(cp949=True)
    conn = sqlite3.connect(path)
    for name, (columns, rows) in tables.items():
        ddl = ", ".join(f'"{c}" {_TYPES[c].replace("LONGTEXT", "TEXT")}' + (" PRIMARY KEY" if i == 0 else "")
                        for i, c in enumerate(columns))
        conn.execute(f"CREATE TABLE {name} ({ddl})")
        # bytes are stored as TEXT (not BLOB): the way a CP949 program writes through an old driver
        values = ", ".join("CAST(? AS TEXT)" if any(isinstance(r[i], bytes) for r in rows) else "?"
                           for i in range(len(columns)))
        conn.executemany(f"INSERT INTO {name} VALUES ({values})", rows)
    # SQLite lets a PRIMARY KEY that is not an INTEGER one hold NULL, as old SQLite-based EMRs did
    columns, labs = tables["LAB_RSLT"]
    labs.append((None, 104, 4, "20230106", "C3710", "혈색소".encode("cp949"), "13.0", "g/dL"))
    conn.execute("INSERT INTO LAB_RSLT VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?)", labs[-1])
    conn.commit()
    conn.close()
    _record(db, tables)
    db.plants.append(Plant("lab_rslt", None, "rslt_no", "a NULL key", "quarantine:null-key"))
    return db


def create_mariadb_sections(conn_str: str, database: str = "emr_foreign_sections") -> SectionsDb:
    """The clinic on MariaDB (utf8mb4 text; the broken address as bytes in a VARBINARY column)."""
    return _create_server(conn_str, database, "mariadb")


def create_postgres_sections(conn_str: str, database: str = "emr_foreign_sections") -> SectionsDb:
    """The clinic on PostgreSQL (UTF-8 text; the broken address as bytes in a bytea column). Dates are text
    and integers here, as in the other engines (no date/timestamp column: psqlODBC's reading of those in a
    section is another matter, docs/databases.md)."""
    return _create_server(conn_str, database, "postgresql")


def _create_server(conn_str: str, database: str, engine: str) -> SectionsDb:
    import pyodbc

    target = _fresh_database(conn_str, database, engine)
    db = SectionsDb(engine, odbc=target, patients="pt_mst")
    tables = _data(cp949=False)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    maria = engine == "mariadb"
    types = {**_TYPES, "ADDR": "VARBINARY(200)" if maria else "bytea", "REACTION": "LONGTEXT" if maria else "TEXT"}
    for name, (columns, rows) in tables.items():
        # Plain names unquoted (PostgreSQL folds them to lower case, as the connector's SQL is folded),
        # Hangul ones quoted.
        ddl = ", ".join((col if col.isascii() else (f"`{col}`" if maria else f'"{col}"')) + f" {types[col]}"
                        + (" PRIMARY KEY" if i == 0 else "") for i, col in enumerate(columns))
        # MariaDB: a NO PAD collation, so that 'L0020 ' is another key than 'L0020' (as PostgreSQL's varchar)
        suffix = " CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin" if maria else ""
        c.execute(f"CREATE TABLE {name} ({ddl}){suffix}")
        fixed = [tuple(v.encode() if col == "ADDR" and isinstance(v, str) else v
                       for col, v in zip(columns, r, strict=True)) for r in rows]
        c.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})", fixed)
    conn.close()
    _record(db, tables)
    return db


def create_mariadb_latin1_cp949(conn_str: str, database: str = "emr_foreign_latin1") -> SectionsDb:
    """A legacy Korean MySQL installation: tables declared ``latin1`` whose text columns hold CP949 bytes
    (the server hands them over decoded as latin1: '±èÈ¯ÀÚ1' for '김환자1')."""
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = SectionsDb("mariadb", odbc=target, patients="patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute("CREATE TABLE PATIENT (PT_NO INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(40), "
              "BIRTH_YMD CHAR(8)) CHARACTER SET latin1")
    for i in range(1, PATIENTS + 1):
        name = f"김환자{i}".encode("cp949").hex()
        c.execute(f"INSERT INTO PATIENT VALUES ({i}, 'C{i:04d}', UNHEX('{name}'), '198001{i:02d}')")
    conn.close()
    db.table("patient", 4, PATIENTS)
    db.keys["patient"] = "pt_no"
    db.secrets = ["김환자", "±èÈ¯ÀÚ"]
    return db


#: names in CP949 bytes of a latin1 table beyond Python's cp949: user-defined characters (외자: EUC-KR's rows 0xC9
#: and 0xFE, which Windows' code page 949 reads as U+E000–U+E0BB) and a pair no table assigns (0xA2E8)
USER_DEFINED_NAMES = {
    2: "이".encode("cp949") + bytes.fromhex("C9A1") + "순".encode("cp949"),  # 이 + U+E000 + 순
    3: "박".encode("cp949") + bytes.fromhex("FEA1FEFE"),  # 박 + U+E05E + U+E0BB
    4: "똠".encode("cp949") + bytes.fromhex("C9FE"),  # CP949's extension and a 외자: 똠 + U+E05D
    5: "최".encode("cp949") + bytes.fromhex("A2E8"),  # no reading at all
}


def create_mariadb_latin1_user_defined(conn_str: str, database: str = "emr_foreign_latin1_uda") -> SectionsDb:
    """A legacy Korean MySQL installation's latin1 patient table holding CP949 names, some with 외자 the clinic's
    program drew in EUC-KR's user-defined rows, one with a pair nothing assigns."""
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = SectionsDb("mariadb", odbc=target, patients="patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute("CREATE TABLE PATIENT (PT_NO INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(40), "
              "BIRTH_YMD CHAR(8)) CHARACTER SET latin1")
    for i in range(1, PATIENTS + 1):
        name = USER_DEFINED_NAMES.get(i, f"김환자{i}".encode("cp949")).hex()
        c.execute(f"INSERT INTO PATIENT VALUES ({i}, 'C{i:04d}', UNHEX('{name}'), '198001{i:02d}')")
    conn.close()
    db.table("patient", 4, PATIENTS)
    db.keys["patient"] = "pt_no"
    db.secrets = ["김환자", "±èÈ¯ÀÚ"]
    return db
