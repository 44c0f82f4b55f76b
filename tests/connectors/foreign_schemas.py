"""Small, nasty clinic databases of EMRs nobody on the team has seen (test data only).

Each builder creates one database and returns a :class:`ForeignDb`: what was put in, counted as it was put in
(rows and cells per table, independently of the exporter's catalogue), and a few exact values to find again
in the opened bag. Every database has one plain patient table (``PT_MASTER``), so that ``scaffold`` has a
patient to guess; everything else is what real EMRs have and the demo does not:

* SQLite: a Hangul table with Hangul columns, SQL reserved words and names with spaces, dots, quotes and
  mixed case, a table whose own name holds a dot, a table without key holding duplicate rows, a composite key,
  keys that are a BLOB, a REAL, a DATE and a 5,000-character text, a key column without a declared type whose
  values are integers, reals, UTF-8 text, text that is not UTF-8 and BLOBs (more rows than one page), a column
  of mixed storage classes, a declared type nobody knows, an infinite REAL, 300 columns, an empty table, a
  view, a multi-megabyte text and a large BLOB;
* MariaDB: zero dates, a zero month, TIME beyond 24 hours, YEAR, BIT(1), ENUM, SET, BIGINT UNSIGNED above
  2^63 (and a key of them longer than a page), DECIMAL(30,10), a Hangul table, reserved words, a view, a
  multi-megabyte text and BLOB, and (on a case-sensitive server) tables whose names differ only by case;
* PostgreSQL: NaN and ±Infinity floats, ``numeric`` without scale (NaN too), arrays, json/jsonb, uuid,
  interval, bytea, timestamptz, ``infinity`` and BC dates, year 10000, 24:00:00, a table in another schema,
  columns whose names differ only by case, a table ``PT_MASTER`` beside ``pt_master``, a table named
  ``Order``, keys of float8, numeric and timestamptz
  longer than a page, a view, a multi-megabyte text and bytea.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Rows of the plain patient table every database has.
PATIENTS = 20
#: More rows than the CLI export's keyset page (jobs.service.ExportRequest.page_size = 5000).
OVER_A_PAGE = 6000
BIG_TEXT = "가나다라마바사" * 400_000  # 2.8 M characters, 8.4 MB of UTF-8
BIG_BLOB = bytes(range(256)) * 16_384  # 4 MiB


@dataclass
class ForeignDb:
    """A database as it was built: ``cells`` counts every cell of every table (not views) as inserted. Tables
    are named as the bag's inventory names them: in lower case, but for a table whose name differs from
    another's only by case, which keeps its spelling."""

    engine: str
    path: Path | None = None  # SQLite
    odbc: str | None = None  # MariaDB / PostgreSQL: connection string to the database (with the password)
    #: the patient table's name in the inventory (the one table a section reads, unless ``also_read``)
    patients: str = "pt_master"
    #: tables the scaffold's other sections read
    also_read: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)
    #: the JSON of `connector check` on the scaffold's connector (set by the test)
    check: dict[str, Any] = field(default_factory=dict)
    #: exact values to find in the opened bag: (table, key column, key value, column) → value
    expect: dict[tuple[str, str, Any, str], Any] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return sum(self.rows[t] * self.columns[t] for t in self.rows)

    def table(self, name: str, columns: int, rows: int) -> None:
        self.columns[name] = columns
        self.rows[name] = self.rows.get(name, 0) + rows


def _patients() -> list[tuple[Any, ...]]:
    return [(i, f"{i:08d}", f"환자{i}", f"1980{(i % 12) + 1:02d}{(i % 27) + 1:02d}", "MF"[i % 2])
            for i in range(1, PATIENTS + 1)]


# --- SQLite ------------------------------------------------------------------------------------------------


def create_sqlite_foreign(path: Path) -> ForeignDb:
    path.unlink(missing_ok=True)
    db = ForeignDb("sqlite", path=path)
    conn = sqlite3.connect(path)
    c = conn.cursor()
    c.executescript('''
        CREATE TABLE PT_MASTER (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT,
                                "비고" TEXT);
        CREATE TABLE "환자 기록" ("기록번호" INTEGER PRIMARY KEY, "내용" TEXT, "작성일" TEXT);
        CREATE TABLE "order" ("select" INTEGER PRIMARY KEY, "group" TEXT, "my col" TEXT, "a.b" TEXT,
                              "q""uote" TEXT, "MixedCase" TEXT, PT_NO INTEGER, ORD_YMD TEXT, ORD_CD TEXT);
        CREATE TABLE "sms.log" (id INTEGER PRIMARY KEY, msg TEXT);
        CREATE TABLE nokey (a TEXT, b INTEGER);
        CREATE TABLE compkey (k1 INTEGER, k2 TEXT, v TEXT, PRIMARY KEY (k1, k2));
        CREATE TABLE blobkey (k BLOB PRIMARY KEY, v TEXT);
        CREATE TABLE floatkey (k REAL PRIMARY KEY, v TEXT);
        CREATE TABLE datekey (k DATE PRIMARY KEY, v TEXT);
        CREATE TABLE longkey (k TEXT PRIMARY KEY, v TEXT);
        CREATE TABLE mixkey (k PRIMARY KEY, v TEXT);
        CREATE TABLE mixed (id INTEGER PRIMARY KEY, m, w WEIRDTYPE(7), r REAL);
        CREATE TABLE empty_t (id INTEGER PRIMARY KEY, x TEXT);
        CREATE TABLE big (id INTEGER PRIMARY KEY, txt TEXT, bin BLOB);
        CREATE VIEW v_order AS SELECT * FROM "order";
        CREATE TABLE patient (id INTEGER PRIMARY KEY, note TEXT);
    ''')
    # A table named like a canonical entity that holds no patients: the scaffold must keep PT_MASTER.
    c.execute("INSERT INTO patient VALUES (1, 'printer queue')")
    db.table("patient", 2, 1)
    db.expect[("patient", "id", 1, "note")] = "printer queue"
    c.executemany("INSERT INTO PT_MASTER VALUES (?, ?, ?, ?, ?, ?)", [(*p, f"메모{p[0]}") for p in _patients()])
    db.table("pt_master", 6, PATIENTS)
    db.expect[("pt_master", "pt_no", 7, "비고")] = "메모7"
    c.execute('INSERT INTO "환자 기록" VALUES (1, \'한글 내용\', \'2020-01-01\')')
    db.table("환자 기록", 3, 1)
    db.expect[("환자 기록", "기록번호", 1, "내용")] = "한글 내용"
    # Reserved words as the table's and its key's names, on a table that otherwise looks like orders.
    c.executemany('INSERT INTO "order" VALUES (?, \'g\', \'sp ace\', \'d.ot\', \'q"q\', \'Mx\', ?, \'20240101\', '
                  "'M0001')", [(i, (i % PATIENTS) + 1) for i in range(1, 31)])
    db.table("order", 9, 30)
    db.expect[("order", "select", 1, 'q"uote')] = 'q"q'
    db.expect[("order", "select", 1, "mixedcase")] = "Mx"
    c.execute("INSERT INTO \"sms.log\" VALUES (1, '문자 발송')")
    db.table("sms.log", 2, 1)
    db.expect[("sms.log", "id", 1, "msg")] = "문자 발송"
    c.executemany("INSERT INTO nokey VALUES (?, ?)", [("x", 1), ("x", 1), ("y", None)])
    db.table("nokey", 2, 3)
    c.executemany("INSERT INTO compkey VALUES (?, ?, ?)", [(1, "a", "v1"), (1, "b", "v2"), (2, "a", "v3")])
    db.table("compkey", 3, 3)
    c.executemany("INSERT INTO blobkey VALUES (?, ?)", [(bytes([0xC0, i, 0xFF]), f"b{i}") for i in range(40)])
    db.table("blobkey", 2, 40)
    db.expect[("blobkey", "k", bytes([0xC0, 39, 0xFF]), "v")] = "b39"
    c.executemany("INSERT INTO floatkey VALUES (?, ?)", [(0.1 + 0.2, "f1"), (1.5, "f2"), (-1e-300, "f3")])
    db.table("floatkey", 2, 3)
    db.expect[("floatkey", "k", 0.1 + 0.2, "v")] = "f1"
    c.executemany("INSERT INTO datekey VALUES (?, ?)", [("2020-01-01", "d1"), ("2020-02-30", "d2")])
    db.table("datekey", 2, 2)
    c.executemany("INSERT INTO longkey VALUES (?, ?)", [("k" * 5000, "l1"), ("k" * 4999 + "환", "l2")])
    db.table("longkey", 2, 2)
    # A key of every storage class, more rows than a page: ints, reals, UTF-8 text, non-UTF-8 text, BLOBs.
    keys: list[Any] = []
    for i in range(OVER_A_PAGE // 6):
        keys += [i, i + 0.5, f"t{i:05d}", f"t{i:05d}".encode() + b"\xff"]
    c.executemany("INSERT INTO mixkey VALUES (?, 'x')", [(k,) for k in keys])
    cp949 = [f"김{i:05d}".encode("cp949") for i in range(OVER_A_PAGE // 3)]
    c.executemany("INSERT INTO mixkey VALUES (CAST(? AS TEXT), 'cp949 text')", [(k,) for k in cp949])
    db.table("mixkey", 2, len(keys) + len(cp949))
    db.expect[("mixkey", "k", cp949[-1], "v")] = "cp949 text"
    c.executemany("INSERT INTO mixed VALUES (?, ?, ?, ?)", [
        (1, 1, "a", float("inf")), (2, "text", 2, float("-inf")), (3, b"\xc0\xffbad", 3.5, 0.0),
        (4, 2.5, b"\x80", None), (5, None, None, 1e308)])
    c.execute("INSERT INTO mixed VALUES (6, CAST(? AS TEXT), 'x', -0.0)", ("홍길동".encode("cp949"),))
    db.table("mixed", 4, 6)
    db.expect[("mixed", "id", 3, "m")] = b"\xc0\xffbad"
    db.expect[("mixed", "id", 6, "m")] = "홍길동".encode("cp949")
    db.expect[("mixed", "id", 1, "r")] = float("inf")
    db.expect[("mixed", "id", 4, "w")] = b"\x80"
    c.execute("INSERT INTO big VALUES (1, ?, ?)", (BIG_TEXT, BIG_BLOB))
    db.table("big", 3, 1)
    db.expect[("big", "id", 1, "txt")] = BIG_TEXT
    db.expect[("big", "id", 1, "bin")] = BIG_BLOB
    c.execute(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {', '.join(f'c{i} INTEGER' for i in range(300))})")
    c.execute(f"INSERT INTO wide VALUES (1, {', '.join(str(i * 7) for i in range(300))})")
    db.table("wide", 301, 1)
    db.expect[("wide", "id", 1, "c299")] = 299 * 7
    db.table("empty_t", 2, 0)
    conn.commit()
    conn.close()
    return db


# --- MariaDB and PostgreSQL ---------------------------------------------------------------------------------


def _fresh_database(conn_str: str, database: str, engine: str, *, sql_ascii: bool = False) -> str:
    """A new, empty database on the test server (PostgreSQL ``sql_ascii``: created SQL_ASCII, as legacy Korean
    installations holding CP949 bytes were); the connection string to it."""
    import pyodbc

    from emr_exporter.sources.drivers import parse_connection_string

    admin = pyodbc.connect(conn_str, autocommit=True)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.execute(f"CREATE DATABASE {database} CHARACTER SET utf8mb4" if engine == "mariadb"
                      else f"CREATE DATABASE {database} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' "
                      "LC_CTYPE 'C'" if sql_ascii else f"CREATE DATABASE {database} ENCODING 'UTF8' TEMPLATE template0")
    finally:
        admin.close()
    pairs = [(k, database if k.upper() == "DATABASE" else v) for k, v in parse_connection_string(conn_str)]
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}" for k, v in pairs)


def mariadb_tables(db: ForeignDb, target: str, ddl: dict[str, str],
                   time_zone: str | None = None) -> tuple[Any, Callable[[str, list[tuple[Any, ...]]], None]]:
    """The tables of ``ddl`` (name → columns) created InnoDB utf8mb4 in the MariaDB database ``target`` (a session in
    ``time_zone``, if given): the connection, and ``put(table, rows)`` that inserts rows and counts them in ``db``
    (the table's name in lower case, as the bag's inventory names it). PostgreSQL: :func:`postgres_tables`."""
    import pyodbc

    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    cursor = conn.cursor()
    if time_zone is not None:
        cursor.execute(f"SET SESSION time_zone = '{time_zone}'")
    return conn, _created(db, cursor, ddl, " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


def _created(db: ForeignDb, cursor: Any, ddl: dict[str, str],
             options: str = "") -> Callable[[str, list[tuple[Any, ...]]], None]:
    """The tables of ``ddl`` created by ``cursor`` (each with ``options``); ``put(table, rows)`` that inserts rows
    and counts them in ``db`` (the table's name in lower case, as the bag's inventory names it)."""
    for name, columns in ddl.items():
        cursor.execute(f"CREATE TABLE {name} ({columns}){options}")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in rows[0])
        cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        db.table(table.lower(), len(rows[0]), len(rows))

    return put


def postgres_tables(db: ForeignDb, target: str,
                    ddl: dict[str, str]) -> tuple[Any, Callable[[str, list[tuple[Any, ...]]], None]]:
    """The tables of ``ddl`` (name → columns) created in the PostgreSQL database ``target``: the connection, and
    ``put(table, rows)`` that inserts rows and counts them in ``db`` (:func:`mariadb_tables`' sibling)."""
    import pyodbc

    conn = pyodbc.connect(target, autocommit=True)
    return conn, _created(db, conn.cursor(), ddl)


def create_mariadb_foreign(conn_str: str, database: str = "emr_foreign_maria") -> ForeignDb:
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = ForeignDb("mariadb", odbc=target)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    c.execute("SET SESSION sql_mode = ''")  # zero dates, as legacy MySQL installations allowed them
    for ddl in (
        "CREATE TABLE PT_MASTER (PT_NO INT PRIMARY KEY, CHART_NO VARCHAR(20), PT_NM VARCHAR(50), "
        "BIRTH_YMD VARCHAR(8), SEX CHAR(1), LAST_VISIT DATE)",
        "CREATE TABLE oddtypes (id INT PRIMARY KEY, zd DATE, zdt DATETIME, t TIME, y YEAR, b BIT(1), "
        "e ENUM('a','b','가'), st SET('x','y','z'), ub BIGINT UNSIGNED, d DECIMAL(30,10), f DOUBLE, txt LONGTEXT, "
        "bl LONGBLOB)",
        "CREATE TABLE `환자 기록` (`기록번호` INT PRIMARY KEY, `내용` TEXT)",
        "CREATE TABLE `order` (`select` INT PRIMARY KEY, `group` VARCHAR(10), `my col` VARCHAR(10), "
        "`a.b` VARCHAR(10), `MixedCase` VARCHAR(10))",
        "CREATE TABLE ubkey (k BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(10))",
        "CREATE TABLE nokey (a VARCHAR(10), b INT)",
        "CREATE VIEW v_pt AS SELECT PT_NO, CHART_NO FROM PT_MASTER",
    ):
        c.execute(ddl)
    c.executemany("INSERT INTO PT_MASTER VALUES (?, ?, ?, ?, ?, ?)", [(*p, None) for p in _patients()])
    c.execute("UPDATE PT_MASTER SET LAST_VISIT = '0000-00-00' WHERE PT_NO = 3")  # an unmapped column's zero date
    db.table("pt_master", 6, PATIENTS)
    db.expect[("pt_master", "pt_no", 3, "last_visit")] = "0000-00-00"
    c.execute("INSERT INTO oddtypes VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '-838:59:59', 1999, b'1', "
              "'가', 'x,z', 18446744073709551615, 12345678901234567890.0123456789, 0.1, 'x', x'00ff')")
    c.execute("INSERT INTO oddtypes VALUES (2, '2019-00-10', '2020-01-02 03:04:05', '25:00:01', 2155, b'0', '', "
              "'', 9223372036854775808, -0.0000000001, 1e308, NULL, NULL)")
    db.table("oddtypes", 13, 2)
    db.expect.update({
        ("oddtypes", "id", 1, "zd"): "0000-00-00", ("oddtypes", "id", 1, "zdt"): "0000-00-00 00:00:00",
        ("oddtypes", "id", 1, "t"): "-838:59:59", ("oddtypes", "id", 2, "zd"): "2019-00-10",
        ("oddtypes", "id", 2, "t"): "25:00:01", ("oddtypes", "id", 1, "ub"): 2**64 - 1,
        ("oddtypes", "id", 2, "ub"): 2**63, ("oddtypes", "id", 1, "e"): "가", ("oddtypes", "id", 1, "st"): "x,z",
        ("oddtypes", "id", 1, "y"): 1999, ("oddtypes", "id", 1, "b"): True,
    })
    c.execute("INSERT INTO `환자 기록` VALUES (1, '한글 내용')")
    db.table("환자 기록", 2, 1)
    db.expect[("환자 기록", "기록번호", 1, "내용")] = "한글 내용"
    c.execute("INSERT INTO `order` VALUES (1, 'g', 'sp ace', 'd.ot', 'Mx')")
    db.table("order", 5, 1)
    c.execute(f"INSERT INTO ubkey SELECT 9223372036854775808 + seq, 'u' FROM seq_0_to_{OVER_A_PAGE - 1}")
    db.table("ubkey", 2, OVER_A_PAGE)
    db.expect[("ubkey", "k", 2**63 + OVER_A_PAGE - 1, "v")] = "u"
    c.execute("INSERT INTO nokey VALUES ('x', 1), ('x', 1), ('y', NULL)")
    db.table("nokey", 2, 3)
    _big_values(c, db, "LONGTEXT", "LONGBLOB")
    # On a case-sensitive server (lower_case_table_names = 0, the Linux default) a table whose name differs
    # from the patient table's only by case: the section's PT_MASTER reads the other one, this one is carried.
    if conn.execute("SELECT @@lower_case_table_names").fetchone()[0] == 0:
        c.execute("CREATE TABLE pt_master (id INT PRIMARY KEY, memo TEXT)")
        c.execute("INSERT INTO pt_master VALUES (1, 'not the patients')")
        db.patients = "PT_MASTER"
        db.table("PT_MASTER", 6, 0)  # the patient table keeps its spelling in the inventory
        db.rows["PT_MASTER"] = db.rows.pop("pt_master")
        db.table("pt_master", 2, 1)
        db.expect[("pt_master", "id", 1, "memo")] = "not the patients"
        db.expect[("PT_MASTER", "pt_no", 3, "last_visit")] = db.expect.pop(("pt_master", "pt_no", 3, "last_visit"))
    conn.close()
    return db


def create_postgres_foreign(conn_str: str, database: str = "emr_foreign_pg") -> ForeignDb:
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = ForeignDb("postgresql", odbc=target)
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for ddl in (
        "CREATE TABLE pt_master (pt_no INT PRIMARY KEY, chart_no VARCHAR(20), pt_nm VARCHAR(50), "
        "birth_ymd VARCHAR(8), sex CHAR(1))",
        "CREATE TABLE oddtypes (id INT PRIMARY KEY, f float8, r real, n numeric, n2 numeric(30,10), arr int[], "
        "j json, jb jsonb, u uuid, iv interval, ba bytea, tz timestamptz, ts timestamp, d date, t time)",
        "CREATE SCHEMA audit",
        "CREATE TABLE audit.events (id INT PRIMARY KEY, msg TEXT)",
        'CREATE TABLE "환자 기록" ("기록번호" INT PRIMARY KEY, "내용" TEXT)',
        'CREATE TABLE "Order" ("select" INT PRIMARY KEY, "group" TEXT, "my col" TEXT, "a.b" TEXT, '
        '"q""uote" TEXT, "MixedCase" TEXT)',
        'CREATE TABLE caseclash (id INT PRIMARY KEY, "Name" TEXT, name TEXT, "NAME" TEXT)',
        "CREATE TABLE fkey (k float8 PRIMARY KEY, v TEXT)",
        "CREATE TABLE nkey (k numeric PRIMARY KEY, v TEXT)",
        "CREATE TABLE tskey (k timestamptz PRIMARY KEY, v TEXT)",
        "CREATE TABLE nokey (a TEXT, b INT)",
        "CREATE VIEW v_pt AS SELECT pt_no, chart_no FROM pt_master",
    ):
        c.execute(ddl)
    c.executemany("INSERT INTO pt_master VALUES (?, ?, ?, ?, ?)", _patients())
    db.table("pt_master", 5, PATIENTS)
    c.execute("INSERT INTO oddtypes VALUES (1, 'NaN', 'Infinity', 'NaN', 12345678901234567890.0123456789, "
              "'{1,2,NULL}', '{\"a\": [1, 2.50]}', '{\"b\": 1, \"a\": \"가\"}', "
              "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 year 2 mons 3 days 04:05:06.789', '\\x00ff', "
              "'2020-01-01 10:00:00.123456+09', '2020-01-01 10:00:00.5', '2020-02-29', '23:59:59.999999')")
    c.execute("INSERT INTO oddtypes VALUES (2, '-Infinity', '-0', 0.1000000000000000000000000000001, -0.0000000001, "
              "'{}', 'null', '[]', NULL, '-1 days', '\\x', 'infinity', '-infinity', '0044-03-15 BC', '24:00:00')")
    c.execute("INSERT INTO oddtypes VALUES (3, 0.30000000000000004, 0.1, 1e-20, 0, NULL, NULL, NULL, NULL, NULL, "
              "NULL, '10000-01-01 00:00:00+00', NULL, 'infinity', NULL)")
    db.table("oddtypes", 15, 3)
    db.expect.update({
        ("oddtypes", "id", 2, "tz"): "infinity", ("oddtypes", "id", 2, "ts"): "-infinity",
        ("oddtypes", "id", 2, "d"): "0044-03-15 BC", ("oddtypes", "id", 2, "t"): "24:00:00",
        # the stored 10000-01-01 00:00:00+00, as text in the session's zone (the connector's [source] timezone)
        ("oddtypes", "id", 3, "d"): "infinity", ("oddtypes", "id", 3, "tz"): "10000-01-01 09:00:00+09",
        ("oddtypes", "id", 3, "f"): 0.30000000000000004, ("oddtypes", "id", 1, "ba"): b"\x00\xff",
        ("oddtypes", "id", 1, "jb"): '{"a": "가", "b": 1}', ("oddtypes", "id", 1, "arr"): "{1,2,NULL}",
        ("oddtypes", "id", 2, "n"): Decimal("0.1000000000000000000000000000001"),
        ("oddtypes", "id", 1, "n2"): Decimal("12345678901234567890.0123456789"),
    })
    # A table whose name differs from the patient table's only by case: a section's unquoted PT_MASTER reads
    # pt_master (PostgreSQL folds it), so this one is read by no section and must be carried.
    c.execute('CREATE TABLE "PT_MASTER" (id INT PRIMARY KEY, memo TEXT)')
    c.execute("INSERT INTO \"PT_MASTER\" VALUES (1, 'not the patients'), (2, 'shadow')")
    db.table("PT_MASTER", 2, 2)
    db.expect[("PT_MASTER", "id", 1, "memo")] = "not the patients"
    c.execute("INSERT INTO audit.events VALUES (1, 'audit msg')")
    db.table("audit.events", 2, 1)
    db.expect[("audit.events", "id", 1, "msg")] = "audit msg"
    c.execute("INSERT INTO \"환자 기록\" VALUES (1, '한글 내용')")
    db.table("환자 기록", 2, 1)
    db.expect[("환자 기록", "기록번호", 1, "내용")] = "한글 내용"
    c.execute("INSERT INTO \"Order\" VALUES (1, 'g', 'sp ace', 'd.ot', 'q\"q', 'Mx')")
    db.table("order", 6, 1)
    c.execute("INSERT INTO caseclash VALUES (1, 'upper-first', 'lower', 'all-upper')")
    db.table("caseclash", 4, 1)
    db.expect.update({("caseclash", "id", 1, "Name"): "upper-first", ("caseclash", "id", 1, "name"): "lower",
                      ("caseclash", "id", 1, "NAME"): "all-upper"})
    c.execute(f"INSERT INTO fkey SELECT i / 3.0::float8 + 0.1, 'f' FROM generate_series(0, {OVER_A_PAGE - 1}) i")
    db.table("fkey", 2, OVER_A_PAGE)
    c.execute(f"INSERT INTO nkey SELECT i + 0.00000000000000000001, 'n' FROM generate_series(0, {OVER_A_PAGE - 1}) i")
    db.table("nkey", 2, OVER_A_PAGE)
    c.execute("INSERT INTO tskey SELECT '2020-01-01 00:00:00+00'::timestamptz + i * interval '1 microsecond', 't' "
              f"FROM generate_series(0, {OVER_A_PAGE - 1}) i")
    db.table("tskey", 2, OVER_A_PAGE)
    c.execute("INSERT INTO nokey VALUES ('x', 1), ('x', 1), ('y', NULL)")
    db.table("nokey", 2, 3)
    _big_values(c, db, "TEXT", "bytea")
    conn.close()
    return db


def _big_values(cursor: Any, db: ForeignDb, text_type: str, binary_type: str) -> None:
    """A multi-megabyte Korean text and a 4 MiB binary value in one row (MariaDB's driver once cut long
    Korean text short; docs/databases.md)."""
    cursor.execute(f"CREATE TABLE big (id INT PRIMARY KEY, txt {text_type}, bin {binary_type})")
    cursor.execute("INSERT INTO big VALUES (1, ?, ?)", BIG_TEXT, BIG_BLOB)
    db.table("big", 3, 1)
    db.expect[("big", "id", 1, "txt")] = BIG_TEXT
    db.expect[("big", "id", 1, "bin")] = BIG_BLOB



def create_postgres_schema_clinic(conn_str: str, database: str = "emr_foreign_schema_pg") -> ForeignDb:
    """A PostgreSQL clinic whose EMR keeps its record tables in its own schema ``his``, outside the search path
    (``SELECT … FROM pt_master`` fails there), beside an unrelated ``public.visit`` of another shape. The
    scaffold must find and map the schema's patients, visits and diagnoses, qualified (``his.visit``), and carry
    ``public.visit``."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = ForeignDb("postgresql", odbc=target, patients="his.pt_master", also_read=("his.visit", "his.dx"))
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for ddl in (
        "CREATE SCHEMA his",
        "CREATE TABLE his.pt_master (pt_no INT PRIMARY KEY, chart_no VARCHAR(20), pt_nm VARCHAR(50), "
        "birth_ymd VARCHAR(8), sex CHAR(1))",
        "CREATE TABLE his.visit (visit_id INT PRIMARY KEY, pt_no INT REFERENCES his.pt_master, "
        "visit_dt TIMESTAMP, dept VARCHAR(10))",
        "CREATE TABLE his.dx (dx_id INT PRIMARY KEY, visit_id INT REFERENCES his.visit, kcd VARCHAR(10), "
        "dx_ymd VARCHAR(8))",
        "CREATE TABLE public.visit (id INT PRIMARY KEY, note TEXT)",
    ):
        c.execute(ddl)
    c.executemany("INSERT INTO his.pt_master VALUES (?, ?, ?, ?, ?)", _patients())
    db.table("his.pt_master", 5, PATIENTS)
    visits = [(v, (v % PATIENTS) + 1, dt.datetime(2024, 1, 1, 9, 0) + dt.timedelta(days=v), "IM")
              for v in range(1, 2 * PATIENTS + 1)]
    c.executemany("INSERT INTO his.visit VALUES (?, ?, ?, ?)", visits)
    db.table("his.visit", 4, len(visits))
    c.executemany("INSERT INTO his.dx VALUES (?, ?, ?, ?)",
                  [(v, v, ("J00", "I10", "E11.9")[v % 3], f"2024{(v % 12) + 1:02d}15") for v in range(1, len(visits) + 1)])
    db.table("his.dx", 4, len(visits))
    c.execute("INSERT INTO public.visit VALUES (1, 'not a visit: the printer''s queue')")
    db.table("visit", 2, 1)
    db.expect[("visit", "id", 1, "note")] = "not a visit: the printer's queue"
    conn.close()
    return db


def create_postgres_capitals_clinic(conn_str: str, database: str = "emr_foreign_caps_pg") -> ForeignDb:
    """A PostgreSQL clinic whose tables and columns were created quoted in capitals ("PT_MASTER"."PT_NO"), as an
    EMR moved from SQL Server or Oracle keeps them: PostgreSQL folds a connector's unquoted names to lower case,
    which misses them. The diagnoses have neither a date nor a patient column (both joined in from the visit)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = ForeignDb("postgresql", odbc=target, patients="pt_master", also_read=("visit", "dx_hist"))
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for ddl in (
        'CREATE TABLE "PT_MASTER" ("PT_NO" INT PRIMARY KEY, "CHART_NO" VARCHAR(20), "PT_NM" VARCHAR(50), '
        '"BIRTH_YMD" VARCHAR(8), "SEX" CHAR(1))',
        'CREATE TABLE "VISIT" ("VISIT_NO" INT PRIMARY KEY, "PT_NO" INT, "VISIT_DT" TIMESTAMP, "DEPT_CD" VARCHAR(10))',
        'CREATE TABLE "DX_HIST" ("DX_NO" INT PRIMARY KEY, "VISIT_NO" INT, "KCD_CD" VARCHAR(10))',
    ):
        c.execute(ddl)
    c.executemany('INSERT INTO "PT_MASTER" VALUES (?, ?, ?, ?, ?)', _patients())
    db.table("pt_master", 5, PATIENTS)
    visits = [(v, (v % PATIENTS) + 1, dt.datetime(2024, 1, 1, 9, 0) + dt.timedelta(days=v), "IM")
              for v in range(1, 2 * PATIENTS + 1)]
    c.executemany('INSERT INTO "VISIT" VALUES (?, ?, ?, ?)', visits)
    db.table("visit", 4, len(visits))
    c.executemany('INSERT INTO "DX_HIST" VALUES (?, ?, ?)',
                  [(v, v, ("J00", "I10", "E11.9")[v % 3]) for v in range(1, len(visits) + 1)])
    db.table("dx_hist", 3, len(visits))
    conn.close()
    return db


def create_hangul_clinic(engine: str, target: Path | str) -> ForeignDb:
    """A clinic whose tables and columns are named in Hangul (환자, 접수, 상병, 활력징후, 알레르기, 문자발송), on
    SQLite (``target`` a path) or a server (``target`` a connection string to a fresh database): names every
    engine takes unquoted. 환자 also has a column named with a space (비 고), which no section can name."""
    import pyodbc

    db = ForeignDb(engine, path=target if isinstance(target, Path) else None,
                   odbc=target if isinstance(target, str) else None, patients="환자",
                   also_read=("접수", "상병", "활력징후", "알레르기"))
    conn: Any = sqlite3.connect(target) if isinstance(target, Path) else pyodbc.connect(target, autocommit=True)
    if not isinstance(target, Path):
        conn.setencoding(encoding="utf-8")
    cursor = conn.cursor()
    quote = '"' if engine != "mariadb" else "`"
    for ddl in (
        f"CREATE TABLE 환자 (차트번호 VARCHAR(10) PRIMARY KEY, 이름 VARCHAR(40), 생년월일 VARCHAR(8), 성별 CHAR(1), "
        f"주민번호 VARCHAR(14), {quote}비 고{quote} VARCHAR(40))",
        "CREATE TABLE 접수 (접수번호 INTEGER PRIMARY KEY, 차트번호 VARCHAR(10), 내원일자 VARCHAR(8), 진료과 VARCHAR(10))",
        "CREATE TABLE 상병 (상병번호 INTEGER PRIMARY KEY, 접수번호 INTEGER, 상병코드 VARCHAR(10), 상병명 VARCHAR(100))",
        "CREATE TABLE 활력징후 (측정번호 INTEGER PRIMARY KEY, 차트번호 VARCHAR(10), 측정일자 VARCHAR(8), "
        "수축기혈압 INTEGER, 이완기혈압 INTEGER, 맥박 INTEGER, 체온 DECIMAL(4,1))",
        "CREATE TABLE 알레르기 (알레르기번호 INTEGER PRIMARY KEY, 차트번호 VARCHAR(10), 원인물질 VARCHAR(40), "
        "반응 VARCHAR(40))",
        "CREATE TABLE 문자발송 (발송번호 INTEGER PRIMARY KEY, 차트번호 VARCHAR(10), 내용 VARCHAR(200))",
    ):
        cursor.execute(ddl)
    visit = 0
    for i in range(1, PATIENTS + 1):
        chart = f"{i:06d}"
        cursor.execute("INSERT INTO 환자 VALUES (?, ?, ?, ?, ?, ?)",
                       (chart, f"환자{i}", f"1980{1 + i % 9:02d}1{i % 9}", "MF"[i % 2],
                        f"80{1 + i % 9:02d}1{i % 9}-{1 + i % 2}234567", "주의" if i % 4 == 0 else None))
        for month in (1, 2):
            visit += 1
            cursor.execute("INSERT INTO 접수 VALUES (?, ?, ?, ?)", (visit, chart, f"2024{month:02d}15", "내과"))
            cursor.execute("INSERT INTO 상병 VALUES (?, ?, ?, ?)", (visit, visit, "J00", "급성 비인두염"))
            cursor.execute("INSERT INTO 활력징후 VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (visit, chart, f"2024{month:02d}15", 110 + i, 70 + i % 10, 60 + i, "36.5"))
        cursor.execute("INSERT INTO 알레르기 VALUES (?, ?, ?, ?)", (i, chart, "페니실린", "두드러기"))
        cursor.execute("INSERT INTO 문자발송 VALUES (?, ?, ?)", (i, chart, f"{i}번 환자 예약 안내"))
    conn.commit()
    conn.close()
    db.table("환자", 6, PATIENTS)
    for table, columns, rows in (("접수", 4, 2 * PATIENTS), ("상병", 4, 2 * PATIENTS), ("활력징후", 7, 2 * PATIENTS),
                                 ("알레르기", 4, PATIENTS), ("문자발송", 3, PATIENTS)):
        db.table(table, columns, rows)
    db.expect[("문자발송", "발송번호", 7, "내용")] = "7번 환자 예약 안내"
    db.expect[("환자", "차트번호", "000008", "비 고")] = "주의"
    return db


#: The partitioned audit log's rows, by the partition they land in (tests/test_pg_partitions.py).
AUDIT_ROWS = {"audit_log_2023": 213, "audit_log_2024a": 100, "audit_log_2024b": 80, "audit_log_old": 7}
#: The archived patient's key (a row of pt_master_old, which inherits from pt_master).
ARCHIVED = PATIENTS + 1


def create_postgres_partitioned_clinic(conn_str: str, database: str = "emr_partitioned_pg") -> ForeignDb:
    """A PostgreSQL clinic whose visits and audit log are partitioned tables (by date; the audit log's 2024
    partition partitioned again, both with a default partition), and whose notes and archived diagnoses are
    tables with inheritance children (PostgreSQL's ``SELECT * FROM parent`` also reads the children's rows,
    without their own columns), the patient table too: an archived patient lives in its child ``pt_master_old``,
    and one visit is that patient's. Every row must be read and counted once: a partition through its
    partitioned table, a parent's own rows apart from its children's. ``rows`` holds what is read where: a
    partitioned table all its partitions' rows, a parent its own rows only."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = ForeignDb("postgresql", odbc=target, patients="pt_master", also_read=("visit", "diag"))
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for ddl in (
        "CREATE TABLE pt_master (pt_no integer PRIMARY KEY, chart_no varchar(10), pt_nm varchar(40), "
        "birth_dt char(8), sex_cd char(1))",
        "CREATE TABLE pt_master_old (del_dt char(8)) INHERITS (pt_master)",
        "CREATE TABLE visit (visit_no integer NOT NULL, pt_no integer, visit_dt date NOT NULL, dept_cd varchar(10), "
        "PRIMARY KEY (visit_no, visit_dt)) PARTITION BY RANGE (visit_dt)",
        "CREATE TABLE visit_2023 PARTITION OF visit FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
        "CREATE TABLE visit_2024 PARTITION OF visit FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE visit_etc PARTITION OF visit DEFAULT",
        "CREATE TABLE audit_log (logged_at timestamp NOT NULL, user_id text, action text) "
        "PARTITION BY RANGE (logged_at)",
        "CREATE TABLE audit_log_2023 PARTITION OF audit_log FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
        "CREATE TABLE audit_log_2024 PARTITION OF audit_log FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') "
        "PARTITION BY RANGE (logged_at)",
        "CREATE TABLE audit_log_2024a PARTITION OF audit_log_2024 FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')",
        "CREATE TABLE audit_log_2024b PARTITION OF audit_log_2024 FOR VALUES FROM ('2024-07-01') TO ('2025-01-01')",
        "CREATE TABLE audit_log_old PARTITION OF audit_log DEFAULT",
        "CREATE TABLE base_note (id serial PRIMARY KEY, body text)",
        "CREATE TABLE special_note (extra text) INHERITS (base_note)",
        "CREATE TABLE urgent_note (level integer) INHERITS (special_note)",
        "CREATE TABLE diag (diag_no serial PRIMARY KEY, pt_no integer, kcd_cd varchar(10), diag_ymd char(8))",
        "CREATE TABLE diag_hist (old_kcd_cd varchar(10)) INHERITS (diag)",
    ):
        c.execute(ddl)
    c.executemany("INSERT INTO pt_master VALUES (?, ?, ?, ?, ?)", _patients())
    db.table("pt_master", 5, PATIENTS)
    c.execute(f"INSERT INTO pt_master_old VALUES ({ARCHIVED}, '{ARCHIVED:08d}', '보관환자', '19700101', 'M', "
              "'20200101')")
    db.table("pt_master_old", 6, 1)
    db.expect[("pt_master_old", "pt_no", ARCHIVED, "del_dt")] = "20200101"
    days = [dt.date(2023, 1, 2) + dt.timedelta(days=17 * v) for v in range(2 * PATIENTS - 2)]
    days += [dt.date(2022, 12, 30), dt.date(2026, 1, 5)]  # in the default partition
    visits = [(v, (v % PATIENTS) + 1, day) for v, day in enumerate(days, 1)]
    visits.append((len(days) + 1, ARCHIVED, dt.date(2024, 3, 1)))  # the archived patient's: no Patient of its own
    c.executemany("INSERT INTO visit VALUES (?, ?, ?, 'IM')", visits)
    db.table("visit", 4, len(visits))
    start = {"audit_log_2023": dt.datetime(2023, 1, 1, 8), "audit_log_2024a": dt.datetime(2024, 1, 1, 8),
             "audit_log_2024b": dt.datetime(2024, 7, 1, 8), "audit_log_old": dt.datetime(2021, 1, 1, 8)}
    audit = [(start[part] + dt.timedelta(hours=7 * i, seconds=i), f"user{i % 7}", f"chart viewed {part} {i}")
             for part, n in AUDIT_ROWS.items() for i in range(n)]
    c.executemany("INSERT INTO audit_log VALUES (?, ?, ?)", audit)
    db.table("audit_log", 3, len(audit))
    c.execute("INSERT INTO base_note (body) VALUES ('a'), ('b')")
    db.table("base_note", 2, 2)
    c.execute("INSERT INTO special_note (body, extra) VALUES ('c', 'x')")
    db.table("special_note", 3, 1)
    db.expect[("special_note", "id", 3, "extra")] = "x"
    c.execute("INSERT INTO urgent_note (body, extra, level) VALUES ('d', 'y', 9)")
    db.table("urgent_note", 4, 1)
    db.expect[("urgent_note", "id", 4, "level")] = 9
    c.executemany("INSERT INTO diag (pt_no, kcd_cd, diag_ymd) VALUES (?, ?, ?)",
                  [((d % PATIENTS) + 1, ("J00", "I10", "E11.9")[d % 3], f"2024{(d % 12) + 1:02d}15")
                   for d in range(30)])
    db.table("diag", 4, 30)
    c.executemany("INSERT INTO diag_hist (pt_no, kcd_cd, diag_ymd, old_kcd_cd) VALUES (?, ?, ?, ?)",
                  [(d + 1, "J00", "20100105", f"OLD{d}") for d in range(5)])
    db.table("diag_hist", 5, 5)
    db.expect[("diag_hist", "diag_no", 35, "old_kcd_cd")] = "OLD4"
    conn.close()
    return db
