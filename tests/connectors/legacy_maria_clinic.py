"""A synthetic clinic in the style of a 2000s Korean client/server EMR on MySQL, now on MariaDB (test data only).

Unlike the demo: ``PATIENT`` declared ``CHARACTER SET euckr`` (a column comment in Korean) on MyISAM, visits on
Aria keyed by ``(CHART_NO, VISIT_DATE, SEQ)``, a utf8mb4 table beside them, a latin1 SMS table holding CP949 bytes
whose name has a space, a lab table named with a hyphen keyed by ``BIGINT UNSIGNED`` above 2^63 with JSON and
POINT columns, an ``order`` table with ``desc`` and ``group`` columns, zero dates and a zero month (permissive
``sql_mode``), ``DATETIME(6)``, ``TIME`` beyond 24 hours and negative, ``YEAR``, ``BIT(1)``, ``BIT(12)``, ``SET``,
``ENUM`` with the empty-string error value, ``DECIMAL(38,10)``, ``FLOAT``, ``DOUBLE``, ``TINYINT(1)`` flags
holding 2 and -1, ``BINARY(16)`` uuids, a trigger writing a log table, a view and a large ``LONGBLOB``.

Planted: a patient without a name (NULL), names and memos holding user-defined EUC-KR characters (0xC9A1,
0xFEA1: stored, but no Unicode character; the server converts them to '?'), a pair no table assigns (0xA2E8),
a visit of a chart number nobody has (orphan), a visit on a zero date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from foreign_schemas import ForeignDb, _fresh_database

PATIENTS = 20
#: a user-defined EUC-KR character (the KS X 1001 rows 0xC9 and 0xFE are left to each installation: 외자)
UDA = bytes.fromhex("C9A1")
#: a pair in EUC-KR's form that neither KS X 1001 nor its user-defined rows assign (stored, given as '?')
UNASSIGNED = bytes.fromhex("A2E8")
#: a carried euckr table (no section reads it): (key, body) as stored, a user-defined character in a key too
#: (40 rows and a BLOB: read in keyset pages of 16 on the key's bytes, whose order is not euckr_korean_ci's)
OLD_NOTES = [(("가".encode("cp949") + UDA if i % 4 == 0 else "가나".encode("cp949") if i % 4 == 1 else
               b"a" if i % 4 == 2 else b"B") + f"{i:02d}".encode(),
              None if i % 5 == 1 else "미정의 ".encode("cp949") + UNASSIGNED if i % 7 == 3
              else "외자 ".encode("cp949") + UDA if i % 3 == 0
              else "똠 ".encode("cp949") + bytes.fromhex("FEA1FEFE") if i % 3 == 1 else "보통 메모".encode("cp949"))
             for i in range(40)]
#: body temperatures stored in a FLOAT (single precision: 36.6 is kept as 36.59999847…)
VITAL_BT = ("36.6", "37.2", "38.1", "36.5", "35.9")
#: a carried euckr table without a key (one ordered pass): identical rows, rows equal but for a 외자, NULLs
OLD_MEMOS = [("이".encode("cp949") + UDA, "메모".encode("cp949")), ("이".encode("cp949") + UDA, "메모".encode("cp949")),
             ("이?".encode("cp949"), "메모".encode("cp949")), (None, UNASSIGNED), ("간호사".encode("cp949"), None)]
BLOB_BYTES = 12 * 1024 * 1024  # under the test server's max_allowed_packet (16 MiB)


@dataclass
class LegacyClinic(ForeignDb):
    """The database as built: rows and cells per table, and the values put in."""

    #: chart number → the name's EUC-KR bytes (None: no name)
    names: dict[str, bytes | None] = field(default_factory=dict)
    #: chart number → the memo's EUC-KR bytes
    memos: dict[str, bytes | None] = field(default_factory=dict)
    #: (chart, visit date text, seq) of the visits put in
    visits: list[tuple[str, str, int]] = field(default_factory=list)


def _hex(value: bytes | None) -> str:
    return "NULL" if value is None else f"x'{value.hex()}'"


def create_legacy_maria_clinic(conn_str: str, database: str = "emr_legacy_maria") -> LegacyClinic:
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = LegacyClinic("mariadb", odbc=target, patients="patient", also_read=("visit",))
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute("SET SESSION sql_mode = ''")  # as the old installation ran: zero dates, truncation with a warning
    for ddl in (
        "CREATE TABLE PATIENT (CHART_NO VARCHAR(10) NOT NULL PRIMARY KEY, PT_NM VARCHAR(40) COMMENT '환자 성명', "
        "SEX CHAR(1), BIRTH_DT DATE, VIP_YN TINYINT(1), PHOTO_ID BINARY(16), REG_DTTM DATETIME(6), "
        "MEMO TEXT, FIRST_YEAR YEAR) ENGINE=MyISAM DEFAULT CHARSET=euckr COMMENT='환자 기본정보'",
        "CREATE TABLE VISIT (CHART_NO VARCHAR(10) NOT NULL, VISIT_DATE DATE NOT NULL, SEQ TINYINT UNSIGNED NOT NULL, "
        "DEPT_CD ENUM('IM','FM','PED'), VISIT_TM TIME, FEE DECIMAL(38,10), BT FLOAT, WT DOUBLE, "
        "FLAGS SET('FIRST','NIGHT','HOLIDAY'), CLAIM_BITS BIT(12), DONE_YN BIT(1), "
        "CHIEF VARCHAR(100) CHARACTER SET euckr, REG_DTTM DATETIME(6), "
        "PRIMARY KEY (CHART_NO, VISIT_DATE, SEQ)) ENGINE=Aria DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE VITAL (VS_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), MSR_DTTM DATETIME, BT FLOAT, "
        "WT FLOAT(5,1), SBP SMALLINT, PR DOUBLE) ENGINE=MyISAM",
        "CREATE TABLE VISIT_LOG (LOG_ID INT AUTO_INCREMENT PRIMARY KEY, CHART_NO VARCHAR(10), "
        "ACT VARCHAR(10), AT_DTTM DATETIME(6)) ENGINE=MyISAM",
        "CREATE TRIGGER TRG_VISIT AFTER INSERT ON VISIT FOR EACH ROW "
        "INSERT INTO VISIT_LOG (CHART_NO, ACT, AT_DTTM) VALUES (NEW.CHART_NO, 'INSERT', NEW.REG_DTTM)",
        "CREATE TABLE `order` (ORD_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), ORD_DT DATE, ORD_CD VARCHAR(10), "
        "`desc` VARCHAR(100), "
        "`group` VARCHAR(10), QTY DECIMAL(10,3), UUID BINARY(16)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE `lab-result` (RESULT_ID BIGINT UNSIGNED PRIMARY KEY, CHART_NO VARCHAR(10), "
        "DETAIL JSON, SITE POINT, TAKEN_YEAR YEAR, OK_YN TINYINT(1)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE `sms log` (ID INT PRIMARY KEY, MSG VARCHAR(200)) ENGINE=MyISAM DEFAULT CHARSET=latin1",
        "CREATE TABLE SCAN_FILE (FILE_ID INT PRIMARY KEY, DATA LONGBLOB) ENGINE=MyISAM",
        "CREATE TABLE OLD_MEMO (WRITER VARCHAR(20), MEMO VARCHAR(100)) ENGINE=InnoDB DEFAULT CHARSET=euckr",
        "CREATE TABLE OLD_NOTE (NOTE_KEY VARCHAR(10) PRIMARY KEY, BODY TEXT, IMG BLOB) ENGINE=MyISAM "
        "DEFAULT CHARSET=euckr",
        "CREATE VIEW V_TODAY AS SELECT CHART_NO, VISIT_DATE FROM VISIT",
    ):
        c.execute(ddl)

    for i in range(1, PATIENTS + 1):
        chart = f"C{i:05d}"
        name: bytes | None = f"김환자{i}".encode("cp949")
        if i == 3:
            name = None
        elif i == 6:
            name = "이".encode("cp949") + UDA + "순".encode("cp949")  # a 외자 the program drew itself
        elif i == 7:
            name = "똠방".encode("cp949")  # CP949's extension, which MariaDB's euckr keeps
        memo: bytes | None = "고혈압 약 복용 중".encode("cp949") if i % 2 else None
        if i == 6:
            memo = b"UDA " + bytes.fromhex("FEA1") + " 확인".encode("cp949")
        birth = {4: "0000-00-00", 5: "1980-00-15"}.get(i, f"19{50 + i}-0{1 + i % 9}-1{i % 10}")
        vip = {1: "1", 2: "2", 8: "-1", 9: "NULL"}.get(i, "0")
        photo = bytes(range(i, i + 16))
        c.execute(f"INSERT INTO PATIENT VALUES ('{chart}', {_hex(name)}, '{'MF'[i % 2]}', '{birth}', {vip}, "
                  f"{_hex(photo)}, '2004-03-0{1 + i % 9} 09:1{i % 10}:00.{i:06d}', {_hex(memo)}, "
                  f"{1990 + i if i != 10 else 0})")
        db.names[chart] = name
        db.memos[chart] = memo
    db.table("patient", 9, PATIENTS)

    visits = 0
    for i in range(1, PATIENTS + 1):
        chart = f"C{i:05d}"
        for seq in (1, 2):
            date = "0000-00-00" if (i, seq) == (11, 2) else f"2005-0{1 + i % 9}-1{seq}"
            dept = {(12, 1): "'ICU'", (12, 2): "NULL"}.get((i, seq), "'IM'" if i % 2 else "'FM'")
            tm = {(13, 1): "'838:59:59'", (13, 2): "'-01:30:00'"}.get((i, seq), f"'09:{10 + i}:00'")
            chief = "두통".encode("cp949") + (UDA if (i, seq) == (6, 1) else b"")
            c.execute(f"INSERT INTO VISIT VALUES ('{chart}', '{date}', {seq}, {dept}, {tm}, "
                      f"12345678901234567890123456.{i:010d}, 36.6, 70.1, 'FIRST,NIGHT', b'101000000101', "
                      f"b'{seq % 2}', {_hex(chief)}, '2005-01-01 09:00:00.{i:06d}')")
            db.visits.append((chart, date, seq))
            visits += 1
    c.execute("INSERT INTO VISIT VALUES ('X9999', '2005-01-01', 1, 'IM', '09:00:00', 0, NULL, NULL, '', b'0', "
              "b'0', NULL, '2005-01-01 09:00:00.000001')")  # nobody's chart
    db.visits.append(("X9999", "2005-01-01", 1))
    visits += 1
    db.table("visit", 13, visits)
    db.table("visit_log", 4, visits)  # the trigger's rows

    for i in range(1, PATIENTS + 1):  # FLOAT temperatures as the nurses typed them
        c.execute(f"INSERT INTO VITAL VALUES ({i}, 'C{i:05d}', '2005-03-01 09:{i:02d}:00', {VITAL_BT[i % 5]}, "
                  f"{60 + i}.3, 120, 72.0)")
    db.table("vital", 7, PATIENTS)
    for i in range(1, 6):
        c.execute(f"INSERT INTO `order` VALUES ({i}, 'C{i:05d}', '2005-02-0{i}', 'AAP500', '아세트아미노펜 500mg', "
                  f"'G{i}', 1.5, "
                  f"{_hex(bytes(16 - j for j in range(16)))})")
    db.table("order", 8, 5)
    for i in range(3):
        c.execute(f"INSERT INTO `lab-result` VALUES ({2**63 + i}, 'C00001', '{{\"wbc\": 7.2, \"비고\": \"정상\"}}', "
                  f"POINT({127 + i}, 37.5), 2005, {i - 1})")
    db.table("lab-result", 6, 3)
    c.execute("INSERT INTO `sms log` VALUES (1, x'" + "김환자님 내원 안내".encode("cp949").hex() + "')")
    db.table("sms log", 2, 1)
    for key, body in OLD_NOTES:
        c.execute(f"INSERT INTO OLD_NOTE VALUES ({_hex(key)}, {_hex(body)}, x'00ff')")
    db.table("old_note", 3, len(OLD_NOTES))
    for writer, memo in OLD_MEMOS:
        c.execute(f"INSERT INTO OLD_MEMO VALUES ({_hex(writer)}, {_hex(memo)})")
    db.table("old_memo", 2, len(OLD_MEMOS))
    c.execute(f"INSERT INTO SCAN_FILE VALUES (1, REPEAT(x'00ff10', {BLOB_BYTES // 3}))")
    db.table("scan_file", 2, 1)
    conn.close()
    return db



def create_user_defined_key_clinic(conn_str: str, database: str = "emr_legacy_uda_key") -> ForeignDb:
    """A euckr patient table whose chart numbers each hold a user-defined character (40 rows: more than a first
    page), which the server gives as '?' while it orders and compares the stored bytes."""
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = ForeignDb("mariadb", odbc=target, patients="patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute("CREATE TABLE PATIENT (CHART_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40), SEX CHAR(1), "
              "BIRTH_DT DATE) ENGINE=InnoDB DEFAULT CHARSET=euckr")
    for i in range(40):
        chart = "가".encode("cp949") + UDA + f"{i:02d}".encode()
        c.execute(f"INSERT INTO PATIENT VALUES ({_hex(chart)}, {_hex(f'김환자{i}'.encode('cp949'))}, "
                  f"'{'MF'[i % 2]}', '1980-01-{1 + i % 28:02d}')")
    db.table("patient", 4, 40)
    conn.close()
    return db
