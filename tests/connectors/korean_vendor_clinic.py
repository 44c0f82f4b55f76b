"""A synthetic clinic in the style of a small Korean vendor's EMR (한의원/local clinic software) on MariaDB utf8mb4
(test data only; unlike the demo).

Korean table and column names mixed with romanised ones (``환자``, ``내원일자``, ``pt_nm``, ``jumin``); dates and times
kept as text the way each screen wrote them (``2020.01.05``, ``2020-1-5``, ``2020년 1월 5일``, ``20200105``; times
``오후 3:05``, ``오전 9:30``, ``1505``, ``15:05:00``) with the visit time in its own column; resident registration
numbers stored encrypted at rest (``AES_ENCRYPT`` in a ``VARBINARY`` and its base64 text) beside a masked copy
``800101-1******``; foreigners' registration numbers (7th digit 5-8); a 13-digit number without a dash in a
legacy column; amounts as ``3,000원``; yes/no as ``예``/``아니오`` and ``Y``/``N``; emoji and old Hangul (ᄒᆞᆫ글) in
memos; a 120-column questionnaire mostly NULL; a trigger and a stored procedure; a visit table per year
(``visit_2019`` … ``visit_2021``) of the same shape.

Planted: an impossible date ``2020.02.30``, an empty visit date, bytes that are not UTF-8 in a latin1 column.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

PATIENTS = 60
YEARS = (2019, 2020, 2021)
VISITS_PER_YEAR = 120
AES_KEY = "clinic-secret-key"
WIDE_COLUMNS = 120
#: the old Hangul and emoji a memo holds
OLD_HANGUL = "ᄒᆞᆫ글 ᄀᆞᄅᆞ치다 🙂👍🏻 침 치료 후 호전"
#: bytes a latin1 column stores that are not UTF-8 (a truncated 한)
NOT_UTF8 = b"\xed\x95 memo"
#: the visit number (in every year's table) whose date is 'YYYY.02.30', and the one whose date is ''
BAD_DATE, NO_DATE = 5, 6
#: the patients whose 사망여부 (deceased?) is 예; the others' is 아니오
DECEASED = (29, 58)


def rrn_of(i: int) -> str:
    """Patient ``i``'s RRN (13 digits, no dash): a foreigner's (7th digit 5-8) every 7th patient."""
    year = 60 + i % 40
    seventh = "5678"[i % 4] if i % 7 == 0 else ("1" if i % 2 else "2")
    return f"{year:02d}{1 + i % 12:02d}{1 + i % 28:02d}{seventh}{100000 + i:06d}"


def visit_date_text(n: int, year: int) -> str:
    """One of the four ways the clinic's screens wrote a visit date."""
    month, day = 1 + n % 12, 1 + n % 28
    return (f"{year}.{month:02d}.{day:02d}", f"{year}-{month}-{day}", f"{year}년 {month}월 {day}일",
            f"{year}{month:02d}{day:02d}")[n % 4]


def visit_time_text(n: int) -> str:
    hour, minute = 9 + n % 9, (7 * n) % 60
    return (f"{'오후' if hour >= 12 else '오전'} {hour - 12 if hour > 12 else hour}:{minute:02d}",
            f"{hour:02d}{minute:02d}", f"{hour:02d}:{minute:02d}:00")[n % 3]


@dataclass
class KoreanVendorClinic(ForeignDb):
    """The database as built: rows and cells per table, and the values put in."""

    #: patient number → its RRN (plain, 13 digits), the masked copy, the base64 of the encrypted value
    rrns: dict[int, str] = field(default_factory=dict)
    #: (table, visit number) → (date text, time text)
    visits: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)


def create_korean_vendor_clinic(conn_str: str, database: str = "emr_korean_vendor") -> KoreanVendorClinic:
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = KoreanVendorClinic("mariadb", odbc=target, patients="환자")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    c.execute("SET SESSION sql_mode = ''")
    c.execute("CREATE TABLE `환자` (`환자번호` INT PRIMARY KEY, chart_no VARCHAR(10), pt_nm VARCHAR(40), "
              "`성별` VARCHAR(2), `생년월일` VARCHAR(20), jumin_enc VARBINARY(64), jumin_b64 VARCHAR(100), "
              "jumin_mask VARCHAR(14), `외국인여부` VARCHAR(4), use_yn CHAR(1), `연락처` VARCHAR(20), "
              "`메모` TEXT, reg_dt VARCHAR(20), `사망여부` VARCHAR(4)) DEFAULT CHARSET=utf8mb4")
    rows: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        db.rrns[i] = rrn
        foreign = rrn[6] in "5678"
        birth = (f"19{rrn[:2]}.{rrn[2:4]}.{rrn[4:6]}" if i % 3 else f"19{rrn[:2]}-{int(rrn[2:4])}-{int(rrn[4:6])}")
        rows.append((i, f"{i:06d}", f"환자{i}" if not foreign else f"JOHN SMITH {i}", "남" if rrn[6] in "1357" else "여",
                     birth, rrn, rrn, f"{rrn[:6]}-{rrn[6]}******", "예" if foreign else "아니오",
                     "N" if i % 17 == 0 else "Y", f"010-{1000 + i}-{2000 + i}",
                     OLD_HANGUL if i == 1 else f"메모 {i} 😀" if i % 5 == 0 else None,
                     f"2019년 {1 + i % 12}월 {1 + i % 28}일", "예" if i in DECEASED else "아니오"))
    c.executemany("INSERT INTO `환자` VALUES (?, ?, ?, ?, ?, AES_ENCRYPT(?, SHA2(?, 256)), "
                  "TO_BASE64(AES_ENCRYPT(?, SHA2(?, 256))), ?, ?, ?, ?, ?, ?, ?)",
                  [(*r[:5], r[5], AES_KEY, r[6], AES_KEY, *r[7:]) for r in rows])
    db.table("환자", 14, PATIENTS)
    db.expect[("환자", "환자번호", 1, "메모")] = OLD_HANGUL
    for i, b64 in c.execute("SELECT `환자번호`, jumin_b64 FROM `환자`").fetchall():
        db.expect[("환자", "환자번호", i, "jumin_b64")] = b64
        db.expect[("환자", "환자번호", i, "jumin_enc")] = base64.b64decode(b64)

    for year in YEARS:
        table = f"visit_{year}"
        c.execute(f"CREATE TABLE {table} (visit_no INT PRIMARY KEY, `환자번호` INT, `내원일자` VARCHAR(20), "
                  "`내원시간` VARCHAR(10), `진료과` VARCHAR(10), `진료비` VARCHAR(20), `본인부담금` VARCHAR(20), "
                  "`초진여부` VARCHAR(4), night_yn CHAR(1), `주증상` VARCHAR(200)) DEFAULT CHARSET=utf8mb4")
        vrows = []
        for n in range(1, VISITS_PER_YEAR + 1):
            date, time = visit_date_text(n, year), visit_time_text(n)
            if n == BAD_DATE:
                date = f"{year}.02.30"  # no such day
            if n == NO_DATE:
                date = ""  # a visit saved without its date
            db.visits[(table, n)] = (date, time)
            fee = 3000 + 100 * n
            vrows.append((n, 1 + n % PATIENTS, date, time, "한방내과" if n % 2 else "침구과", f"{fee:,}원",
                          f"{fee * 3 // 10:,}원", "예" if n % 4 == 0 else "아니오", "Y" if n % 9 == 0 else "N",
                          "요통 🤕" if n % 10 == 0 else "두통"))
        c.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", vrows)
        db.table(table, 10, VISITS_PER_YEAR)
        db.expect[(table, "visit_no", BAD_DATE, "내원일자")] = f"{year}.02.30"
        db.expect[(table, "visit_no", NO_DATE, "내원일자")] = ""
        db.expect[(table, "visit_no", 4, "내원시간")] = visit_time_text(4)
        db.expect[(table, "visit_no", 3, "진료비")] = "3,300원"

    wide = ", ".join(f"q{k:03d} VARCHAR(10)" for k in range(1, WIDE_COLUMNS + 1))
    c.execute(f"CREATE TABLE `문진표` (`문진번호` INT PRIMARY KEY, `환자번호` INT, {wide}) DEFAULT CHARSET=utf8mb4")
    for n in range(1, 41):
        c.execute("INSERT INTO `문진표` (`문진번호`, `환자번호`, q001, q050, q120) VALUES (?, ?, ?, ?, ?)",
                  (n, 1 + n % PATIENTS, "예", None if n % 2 else "아니오", "🙂" if n == 1 else None))
    db.table("문진표", WIDE_COLUMNS + 2, 40)
    db.expect[("문진표", "문진번호", 1, "q120")] = "🙂"

    c.execute("CREATE TABLE legacy_pt (id INT PRIMARY KEY, jumin CHAR(13), memo VARCHAR(50)) DEFAULT CHARSET=latin1")
    c.execute(f"INSERT INTO legacy_pt VALUES (1, ?, x'{NOT_UTF8.hex()}')", (rrn_of(3),))
    c.execute("INSERT INTO legacy_pt VALUES (2, ?, 'ok')", (rrn_of(7),))
    db.table("legacy_pt", 3, 2)
    db.expect[("legacy_pt", "id", 2, "jumin")] = rrn_of(7)

    c.execute("CREATE TABLE audit_log (log_id INT AUTO_INCREMENT PRIMARY KEY, `환자번호` INT, act VARCHAR(10)) "
              "DEFAULT CHARSET=utf8mb4")
    c.execute("CREATE TRIGGER trg_pt_upd AFTER UPDATE ON `환자` FOR EACH ROW "
              "INSERT INTO audit_log (`환자번호`, act) VALUES (NEW.`환자번호`, 'UPDATE')")
    c.execute("CREATE PROCEDURE sp_purge() BEGIN DELETE FROM audit_log; END")
    c.execute("CREATE FUNCTION fn_mask(j VARCHAR(13)) RETURNS VARCHAR(14) DETERMINISTIC "
              "RETURN CONCAT(LEFT(j, 6), '-', SUBSTRING(j, 7, 1), '******')")
    c.execute("UPDATE `환자` SET use_yn = use_yn WHERE `환자번호` <= 3")  # no change: the trigger runs anyway
    db.table("audit_log", 3, 3)
    conn.close()
    return db
