"""Clinic databases drawn at random from a seed on a real MariaDB or PostgreSQL server (the server-side twin of
tests/connectors/random_clinic.py): a patient, visit and (often) diagnosis table in one of five naming styles
(English abbreviations, Hangul, camelCase, short lower case, romanised Korean), keys of integer or text type
(text keys sometimes Hangul), dates as the server's date/datetime types or written as text/numbers, and around
them tables of random columns of the server's own types holding awkward values:

* MariaDB: TINYINT(1), BIT(n), YEAR, ENUM, SET, DECIMAL(38,10), FLOAT, DOUBLE, DATE/DATETIME(6)/TIMESTAMP/TIME
  (zero dates, ``-838:59:59``), CHAR/VARCHAR/TEXT in utf8mb4, euckr and latin1, BINARY/VARBINARY/BLOB, JSON;
* PostgreSQL: boolean, smallint/bigint, numeric(38,10) (NaN), real/double (±Infinity, NaN), money,
  date/timestamp/timestamptz (±infinity, BC)/time/timetz/interval, text/varchar/char(n), bytea, uuid, json/jsonb,
  int[]/text[], inet, an enum type;

each table keyed by an integer, a Hangul text key, a composite key, or by nothing (then often with an ``id``
column holding NULLs and duplicates); a keyless log with duplicate rows, a view, orphan visits.

Every value is written as an SQL literal (bytes as hex), so the driver's parameter binding plays no part in what
the server stores. The same seed gives the same database.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreign_schemas import _fresh_database
from random_clinic import GIVEN_NAMES, STYLES, SURNAMES, written_date

ROMANISED = dict(patients="hwanja", key="hwanja_no", name="hwanja_nm", birth="saengil", sex="seongbyeol",
                 rrn="jumin_no", visits="jinryo", visit_key="jinryo_no", visit_date="jinryo_il",
                 diagnoses="sangbyeong", code="sang_cd", label="sang_nm")
SERVER_STYLES: dict[str, dict[str, str]] = {**STYLES, "romanised": ROMANISED}

TEXTS = ("", " ", "  padded  ", "tab\there", "line\nbreak", "cr\r\n", "bell\x07", "😀 emoji", "한글 메모", "ＦＵＬＬ",
         "e\u0301 nfd", "'quote\"", "\\back", "\ufeffbom", "\u200bzw", "NULL", "null", "None", "0", "-0", "1e16",
         "NaN", "inf", "0000-00-00", "2024-02-30", "20240230", "24.01.05", "2024/1/5", "ㄱ", "똠방각하", "𠀀")
EUCKR_TEXTS = ("한글", "김민준", "내과", "고혈압 ", "", "abc", "가나다라마바사", "서울특별시 강남구")
LATIN1_TEXTS = ("café", "naïve", "Ÿ", "\xa0nbsp", "ascii", "", "£5", "ÿ")
BYTES = (b"", b"\x00", b"\x00\xff\xfe", bytes(range(256)), b"\x89PNG\r\n\x1a\n" + b"x" * 100, b"\xb1\xe8\xc3\xb6",
         b"text", b"\x00" * 8)


def _hex(data: bytes) -> str:
    return data.hex()


def maria_text(text: str) -> str:
    """A MariaDB literal of ``text`` whatever it holds (converted to the column's character set on insert)."""
    return f"_utf8mb4 X'{_hex(text.encode('utf-8'))}'" if text else "''"


def pg_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


Literal = Callable[[random.Random], str]


def _pick(*values: str) -> Literal:
    return lambda rng: rng.choice(values)


def _texts(pool: tuple[str, ...], quote: Callable[[str], str], limit: int | None = None) -> Literal:
    def literal(rng: random.Random) -> str:
        if rng.random() < 0.05 and limit is None:
            return quote("x" * rng.choice([300, 5000]))
        text = rng.choice(pool)
        return quote(text[:limit] if limit else text)
    return literal


def _maria_bytes(size: int | None = None) -> Literal:
    def literal(rng: random.Random) -> str:
        data = rng.choice(BYTES)
        data = data[:size] if size else data
        return f"X'{_hex(data)}'" if data else "''"
    return literal


#: MariaDB: declared type → a literal of a value it holds.
MARIA_TYPES: dict[str, Literal] = {
    "TINYINT(1)": _pick("0", "1", "-1", "127", "5"),
    "BIT(1)": _pick("b'0'", "b'1'"),
    "BIT(8)": _pick("b'0'", "b'11111111'", "b'1010'"),
    "BIT(64)": _pick("b'0'", "0xFFFFFFFFFFFFFFFF", "b'1'", "0x8000000000000000"),
    "YEAR": _pick("1901", "2155", "0", "2024", "1999"),
    "ENUM('a','b','가','c d')": _pick("'a'", "'가'", "'c d'", "''", "'b'"),
    "SET('x','y','z')": _pick("'x'", "'x,z'", "''", "'x,y,z'"),
    "DECIMAL(38,10)": _pick("0", "-0.0000000001", "1234567890123456789012345678.0123456789", "12.5", "-1"),
    "FLOAT": _pick("0.1", "-0", "3.4e38", "1.17549435e-38", "12.5", "16777217"),
    "DOUBLE": _pick("0.1", "-0", "1e308", "5e-324", "123456789012345678", "3.141592653589793"),
    "DATE": _pick("'2024-01-05'", "'0000-00-00'", "'2024-00-10'", "'9999-12-31'", "'1000-01-01'", "'2024-02-00'"),
    "DATETIME(6)": _pick("'2024-01-05 13:05:00.123456'", "'0000-00-00 00:00:00'", "'9999-12-31 23:59:59.999999'",
                         "'2024-03-10 02:30:00'", "'1000-01-01 00:00:00'"),
    "TIMESTAMP NULL": _pick("'2024-01-05 13:05:00'", "'1970-01-01 09:00:01'", "'2038-01-19 03:14:07'",
                            "'0000-00-00 00:00:00'"),
    "TIME": _pick("'-838:59:59'", "'838:59:59'", "'25:00:01'", "'00:00:00'", "'13:05:00'", "'-00:00:01'"),
    "TIME(6)": _pick("'13:05:00.000001'", "'-01:00:00.5'", "'00:00:00'"),
    "CHAR(10)": _texts(tuple(t for t in TEXTS if len(t) <= 10), maria_text, 10),
    "VARCHAR(40)": _texts(TEXTS, maria_text, 40),
    "TEXT": _texts(TEXTS, maria_text),
    "VARCHAR(20) CHARACTER SET euckr": _texts(EUCKR_TEXTS, maria_text, 20),
    "TEXT CHARACTER SET euckr": _texts(EUCKR_TEXTS, maria_text),
    "VARCHAR(20) CHARACTER SET latin1": _texts(LATIN1_TEXTS, maria_text, 20),
    "TEXT CHARACTER SET latin1": _texts(LATIN1_TEXTS, maria_text),
    "BINARY(4)": _maria_bytes(4),
    "VARBINARY(300)": _maria_bytes(300),
    "BLOB": _maria_bytes(),
    "JSON": _pick("'{\"a\": 1}'", "'[]'", "'\"한글\"'", "'null'", "'{\"a\": 1, \"a\": 2}'", "'1.50'",
                  "'{\"환자\": [1, 2.0, null]}'"),
    "INT UNSIGNED": _pick("0", "4294967295", "1"),
    "BIGINT": _pick("0", "-9223372036854775808", "9223372036854775807", "-1"),
    "BIGINT UNSIGNED": _pick("18446744073709551615", "9223372036854775808", "0"),
}

PG_TYPES: dict[str, Literal] = {
    "boolean": _pick("true", "false"),
    "smallint": _pick("0", "-32768", "32767"),
    "integer": _pick("0", "-2147483648", "2147483647", "1"),
    "bigint": _pick("0", "-9223372036854775808", "9223372036854775807"),
    "numeric(38,10)": _pick("0", "'NaN'", "-0.0000000001", "1234567890123456789012345678.0123456789", "12.50"),
    "numeric": _pick("0.1", "'NaN'", "1e-30", "123456789012345678901234567890.123456789", "-0"),
    "real": _pick("0.1", "'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "3.4028235e38", "1e-45"),
    "double precision": _pick("0.1", "'NaN'", "'Infinity'", "'-0'", "1e308", "5e-324", "123456789012345678"),
    "money": _pick("12.50", "-1234567.89", "0", "92233720368547758.07"),
    "date": _pick("'2024-01-05'", "'infinity'", "'-infinity'", "'0044-03-15 BC'", "'9999-12-31'", "'5874897-12-31'"),
    "timestamp": _pick("'2024-01-05 13:05:00.123456'", "'infinity'", "'1900-01-01 00:00:00'",
                       "'0001-01-01 00:00:00 BC'", "'294276-12-31 23:59:59'"),
    "timestamptz": _pick("'2024-01-05 13:05:00+09'", "'-infinity'", "'1970-01-01 00:00:00Z'",
                         "'2024-03-10 02:30:00 America/New_York'", "'1800-01-01 00:00:00+09'"),
    "time": _pick("'13:05:00'", "'24:00:00'", "'00:00:00.000001'"),
    "timetz": _pick("'13:05:00+09'", "'24:00:00-15:59'", "'00:00:00+00'"),
    "interval": _pick("'1 year 2 mons 3 days 04:05:06.789'", "'-1 day'", "'0'", "'-178000000 years'",
                      "'1 mon -1 day'"),
    "text": _texts(TEXTS, pg_text),
    "varchar(40)": _texts(TEXTS, pg_text, 40),
    "char(10)": _texts(tuple(t for t in TEXTS if len(t) <= 10), pg_text, 10),
    "bytea": lambda rng: f"'\\x{_hex(rng.choice(BYTES))}'::bytea",
    "uuid": _pick("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'",
                  "'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'"),
    "json": _pick("'{\"a\": 1, \"a\": 2}'", "'[]'", "'\"한글\"'", "'null'", "'  {\"b\" : 1.50}  '"),
    "jsonb": _pick("'{\"a\": 1}'", "'[1, 2.50, null]'", "'\"한글\"'", "'null'", "'{\"환자\": {}}'"),
    "integer[]": _pick("'{}'", "'{1,NULL,3}'", "'{{1,2},{3,4}}'", "'{-2147483648}'"),
    "text[]": _pick("'{}'", "'{\"a\",\"한글\",NULL,\"\"}'", "'{\"NULL\",\"x,y\",\"q\\\"t\"}'", "'{\" \"}'"),
    "inet": _pick("'192.168.0.1/24'", "'::1'", "'10.0.0.1'", "'2001:db8::ff00:42:8329/64'"),
    "mood": _pick("'가'", "'b'", "'c d'", "''"),
}

#: (declared type, written form) of a date column of the patient or visit table.
MARIA_DATES = (("DATE", "iso"), ("DATETIME", "iso"), ("VARCHAR(10)", "iso"), ("CHAR(8)", "ymd"),
               ("INT", "ymd-number"), ("BIGINT", "unix-ms"), ("VARCHAR(10)", "dotted"))
PG_DATES = (("date", "iso"), ("timestamp", "iso"), ("varchar(10)", "iso"), ("char(8)", "ymd"),
            ("integer", "ymd-number"), ("bigint", "unix-ms"), ("text", "dotted"))


#: Patient key types beside INT and VARCHAR (with :func:`odd_key_value`'s values).
ODD_MARIA_KEYS = ("BIGINT UNSIGNED", "DECIMAL(20,0)", "BIGINT", "CHAR(12)", "VARCHAR(40) COLLATE utf8mb4_bin",
                  "DATE", "VARBINARY(16)", "VARCHAR(40) COLLATE utf8mb4_nopad_bin")
ODD_PG_KEYS = ("uuid", "numeric(20,0)", "bigint", "char(12)", "text COLLATE \"C\"", "date", "bytea", "smallint", "varchar(40)")


def odd_key_value(declared: str, i: int, rng: random.Random) -> Any:
    """The ``i``-th patient's key in a column of ``declared`` (distinct for distinct ``i``): a literal of it."""
    upper = declared.upper()
    if upper == "BIGINT UNSIGNED":
        return Raw(str(2**64 - 1 - i * 7_000_000_000_000_001))
    if upper.startswith(("DECIMAL", "NUMERIC")):
        return Raw(str(10**19 + i * 99_999_999_999))
    if upper == "BIGINT":
        return Raw(str(-(2**63) + i * 1_000_000_007))
    if upper == "SMALLINT":
        return Raw(str(-32768 + i * 13))
    if upper == "UUID":
        return Raw(f"'{random.Random(i).getrandbits(128):032x}'")
    if upper == "DATE":
        return Raw(f"'{1900 + i % 200:04d}-{1 + i // 200 % 12:02d}-{1 + i // 2400 % 28:02d}'")
    if upper in ("VARBINARY(16)", "BYTEA"):
        data = bytes([i % 256, 0, 0xFF, i // 256])
        return Raw(f"X'{data.hex()}'" if upper.startswith("VAR") else f"'\\x{data.hex()}'::bytea")
    if upper in ("VARCHAR(40) COLLATE UTF8MB4_NOPAD_BIN", "VARCHAR(40)"):
        # keys that differ only by case, a trailing or leading blank, NFC/NFD, full width (told apart here)
        return TWIN_KEYS[i % len(TWIN_KEYS)] + (str(i // len(TWIN_KEYS)) * (i >= len(TWIN_KEYS)))
    # text: mixed case, Hangul, spaces, a leading zero, what a case-insensitive or padded collation folds
    # (none equal under MariaDB's case-insensitive, trailing-space-blind utf8mb4_general_ci)
    return ["Ab", "cD ", "가", "ㄱ", "0", " x", "Z", "환자 1", "a_b", "%"][i % 10] + (str(i // 10) if i >= 10 else "")


TWIN_KEYS = ("Ab", "ab", "AB ", "ab ", "é", "e\u0301", "Ａb", " ab", "가", "\u1100\u1161", "a\tb", "ab\u00a0")


#: Types drawn apart (with literals of values they hold).
MORE_MARIA_TYPES: dict[str, tuple[str, ...]] = {
    "MEDIUMINT UNSIGNED": ("0", "16777215"), "DECIMAL(65,30)": ("-12345678901234567890123456789012345.5", "0"),
    "FLOAT(10,2)": ("12345678.91", "-0.01"), "DOUBLE UNSIGNED": ("0", "1.5e300"), "BIT(63)": ("b'1'", "0x7FFFFFFFFFFFFFFF"),
    "TIMESTAMP(6) NULL": ("'2024-01-05 13:05:00.000001'", "'0000-00-00 00:00:00'"), "INET6": ("'::1'", "'::ffff:1.2.3.4'"),
    "UUID": ("'123e4567-e89b-12d3-a456-426655440000'", "'00000000-0000-0000-0000-000000000000'"),
    "VARCHAR(10) CHARACTER SET ucs2": ("_utf8mb4 X'ed959c'", "'abc'", "''"), "TINYTEXT": ("''", "' '", "'x'"),
    "LONGBLOB": ("X'00'", "''", "X'ffd8ffe0'"), "POINT": ("POINT(1, 2)", "POINT(-0.5, 1e300)"),
    "SET('가','나','다')": ("_utf8mb4 X'eab080'", "''", "_utf8mb4 X'eab0802ceb8298'"),
    "CHAR(4) CHARACTER SET binary": ("X'00000000'", "'ab'"), "YEAR(4)": ("0", "2155"),
}
MORE_PG_TYPES: dict[str, tuple[str, ...]] = {
    "numrange": ("'[1.5,2)'", "'empty'", "'(,)'"), "int4range": ("'[1,10)'", "'empty'"),
    "point": ("'(1,2)'", "'(-0.5,1e300)'"), "xml": ("'<a>한글</a>'", "'<?xml version=\"1.0\"?><b/>'"),
    "bit varying(8)": ("B'101'", "B''"), "bit(3)": ("B'101'", "B'000'"), "tsvector": ("'a fat cat'", "''"),
    "cidr": ("'10.0.0.0/8'", "'::/0'"), "macaddr": ("'08:00:2b:01:02:03'",), "json[]": ("ARRAY['{}'::json]", "'{}'"),
    "timestamptz[]": ("'{\"2024-01-05 13:05:00+09\",infinity}'",), "char(1)": ("'a'", "' '", "''"),
    "name": ("'이름'", "'x'"), "\"char\"": ("'a'", "''"), "oidvector": ("'1 2 3'",), "box": ("'(1,1),(0,0)'",),
    "double precision[]": ("'{NaN,Infinity,-0}'",), "bytea[]": ("'{\"\\\\x00ff\"}'",),
}


#: Dates a mapped date column of these types may hold that no calendar does.
ODD_MARIA_DATES = {"DATE": ("'0000-00-00'", "'2024-00-10'", "'2024-02-00'", "'9999-12-31'"),
                   "DATETIME": ("'0000-00-00 00:00:00'", "'2024-00-00 10:00:00'", "'1000-01-01 00:00:00'")}
ODD_PG_DATES = {"DATE": ("'infinity'", "'-infinity'", "'0044-03-15 BC'", "'5874897-12-31'"),
                "TIMESTAMP": ("'infinity'", "'-infinity'", "'0001-01-01 00:00:00 BC'", "'294276-12-31 23:59:59'")}


#: Table and column names the SQL must quote with care (a quote of each kind, a dot, a reserved word, 60 characters,
#: Hangul with a space, a percent and a question mark, which some drivers take for a parameter).
ODD_TABLE_NAMES = ("it's", 'say "hi"', "a.b", "order", "x" * 60, "환자 메모", "50%", "why?", "back`tick", "세미;콜론")
ODD_COLUMN_NAMES = ("it's", 'q"uote', "a.b", "from", "y" * 55, "메모 내용", "100%", "what?", "c`d", "ABC", "{fn x}",
                    "--dash", "/*c*/")


class Raw(str):
    """An SQL literal, written as it is."""


@dataclass
class ServerClinic:
    """A random clinic on a server: its connection string (with the password), style, and how it was drawn."""

    engine: str
    odbc: str
    style: str
    shapes: list[str] = field(default_factory=list)
    #: table → its columns (lower case) the kit compares as the bytes stored (besides those the inventory names)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    #: the page size the flow gives every section (None: the connector's default)
    page_size: int | None = None
    path: Path | None = None


def _literal(engine: str, value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return maria_text(value) if engine == "mariadb" else pg_text(value)


def _date_literal(engine: str, declared: str, value: Any) -> str:
    """``value`` (written_date's) in a column of ``declared``: a date type gets the text; an impossible date
    there is a zero date on MariaDB and NULL on PostgreSQL (which refuses it)."""
    upper = declared.upper()
    if upper.startswith(("DATE", "TIMESTAMP")) and value.endswith("-02-30"):
        return "'0000-00-00'" if engine == "mariadb" else "NULL"
    if upper in ("INT", "INTEGER", "BIGINT"):
        return str(int(value))
    return _literal(engine, value)


def create_random_server_clinic(conn_str: str, engine: str, seed: int) -> ServerClinic:
    """Write the clinic of ``seed`` into a fresh database ``emr_rand_<seed>`` on the server of ``conn_str``."""
    import pyodbc

    rng = random.Random(seed)
    maria = engine == "mariadb"
    odd = random.Random(seed * 7919 + 1)
    # a legacy Korean PostgreSQL: a database created SQL_ASCII, CP949 bytes in its text (drawn last: see below)
    sql_ascii = not maria and random.Random(seed * 7919 + 2).random() < 0.2
    target = _fresh_database(conn_str, f"emr_rand_{seed}", engine, sql_ascii=sql_ascii)
    style = rng.choice(sorted(SERVER_STYLES))
    s = SERVER_STYLES[style]
    clinic = ServerClinic(engine, target, style)
    types = MARIA_TYPES if maria else PG_TYPES
    if sql_ascii:  # char(n) counts bytes there: no Hangul fits in 10
        types = {t: literal for t, literal in types.items() if t != "char(10)"}
    conn = pyodbc.connect(target, autocommit=True)
    if maria:  # the SQL's text as UTF-8 (psqlODBC takes it as UTF-16, pyodbc's default: UTF-8 there is mojibake)
        conn.setencoding(encoding="utf-8")
    cur = conn.cursor()

    def q(name: str) -> str:
        return f"`{name.replace('`', '``')}`" if maria else '"' + name.replace('"', '""') + '"'

    def run(sql: str) -> None:
        cur.execute(sql)

    def insert(table: str, rows: list[list[str]]) -> None:
        for start in range(0, len(rows), 200):
            run(f"INSERT INTO {q(table)} VALUES " + ", ".join(f"({', '.join(r)})" for r in rows[start:start + 200]))

    if maria:
        run("SET SESSION sql_mode = ''")  # zero dates, as legacy installations allowed them
    else:
        run("CREATE TYPE mood AS ENUM ('가', 'b', 'c d', '')")
    text = "VARCHAR(20)" if maria else rng.choice(["text", "varchar(20)"])
    integer = "INT" if maria else "integer"
    key_shape = rng.choice(["int", "text", "hangul"])
    # Drawn apart (another generator of the same seed), so the seeds' other draws stay as they were: an odd key
    # type for the patients, a visit table with no key (NULL and duplicate visit numbers), small pages.
    odd_key = odd.choice([None, None, *(ODD_MARIA_KEYS if maria else ODD_PG_KEYS)])
    keyless_visits = odd.random() < 0.25
    clinic.page_size = odd.choice([None, None, 1, 3, 7])
    clinic.shapes += [f"patient-key:{odd_key or key_shape}", f"page-size:{clinic.page_size}"]
    key_type = odd_key or (integer if key_shape == "int" else text)
    birth_type, birth_form = rng.choice(MARIA_DATES if maria else PG_DATES)
    visit_type, visit_form = rng.choice(MARIA_DATES if maria else PG_DATES)
    clinic.shapes += [f"birth:{birth_type}/{birth_form}", f"visit-date:{visit_type}/{visit_form}"]
    name_type = "VARCHAR(30)"
    if maria and rng.random() < 0.3:
        name_type += " CHARACTER SET euckr"
        clinic.shapes.append("name:euckr")
    # the legacy Korean EMR: names as CP949 bytes in a latin1 column (compared as the bytes stored)
    cp949_names = maria and odd.random() < 0.25
    if cp949_names:
        name_type = "VARCHAR(30) CHARACTER SET latin1"
        clinic.shapes.append("name:cp949-in-latin1")
        clinic.stored_bytes[s["patients"].lower()] = [s["name"].lower()]
    if sql_ascii:
        clinic.shapes.append("database:sql_ascii,name:cp949")
    # not latin1 here: a section reads such a column as the bytes stored or as text, by the connector's encoding
    # and the values (both whole); the carried tables' latin1 columns are compared as the bytes the inventory names
    extra = [(f"memo{i}" if rng.random() < 0.5 else f"비고{i}", rng.choice([t for t in sorted(types) if "latin1" not in t]))
             for i in range(rng.randint(0, 4))]
    clinic.shapes += [f"patient-extra:{t}" for _, t in extra]
    run(f"CREATE TABLE {q(s['patients'])} ({q(s['key'])} {key_type} PRIMARY KEY, {q(s['name'])} {name_type}, "
        f"{q(s['birth'])} {birth_type}, {q(s['sex'])} {text}, {q(s['rrn'])} {text}"
        + "".join(f", {q(n)} {t}" for n, t in extra) + ")")
    keys: list[Any] = []
    rows = []
    for i in range(rng.randint(5, 60)):
        key: Any = i + 1 if key_shape == "int" else (f"{i + 1:08d}" if key_shape == "text" else f"환자-{i + 1:04d}")
        if odd_key:
            key = odd_key_value(odd_key, i, odd)
        keys.append(key)
        rrn = (f"{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-"
               f"{rng.choice('12')}{rng.randint(0, 999_999):06d}")
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        written = (f"X'{name.encode('cp949').hex()}'" if cp949_names
                   else "E'" + "".join(f"\\x{b:02x}" for b in name.encode("cp949")) + "'" if sql_ascii
                   else _literal(engine, name))
        rows.append([_literal(engine, key), written,
                     _date_literal(engine, birth_type, str(written_date(rng, birth_form))),
                     _literal(engine, rng.choice(["M", "F", "남", "여", "1", "2", None, "X"])), _literal(engine, rrn),
                     *("NULL" if rng.random() < 0.12 else types[t](rng) for _, t in extra)])
    insert(s["patients"], rows)
    text_visits = rng.random() < 0.3
    visit_key_type = text if text_visits else integer
    if keyless_visits:
        clinic.shapes.append("visits:keyless")
    run(f"CREATE TABLE {q(s['visits'])} ({q(s['visit_key'])} {visit_key_type}"
        f"{'' if keyless_visits else ' PRIMARY KEY'}, {q(s['key'])} {key_type}, "
        f"{q(s['visit_date'])} {visit_type}, dept {text}, doctor {text})")
    visit_keys: list[Any] = []
    rows = []
    for i in range(rng.randint(10, 200)):
        visit_key: Any = f"V{i:05d}" if text_visits else i + 1
        if keyless_visits and visit_keys and odd.random() < 0.1:  # a visit number twice, or none
            visit_key = odd.choice([None, visit_keys[-1]])
        visit_keys.append(visit_key)
        orphan = odd_key_value(odd_key, 2000, odd) if odd_key else 99999 if key_shape == "int" else "99999999"
        patient = rng.choice(keys) if rng.random() > 0.03 else orphan
        rows.append([_literal(engine, visit_key), _literal(engine, patient),
                     _date_literal(engine, visit_type, str(written_date(rng, visit_form))),
                     _literal(engine, rng.choice(["내과", "IM", None, "소아과"])),
                     _literal(engine, rng.choice(["D01", "D02", None, " D01"]))])
    insert(s["visits"], rows)
    if rng.random() < 0.7:
        run(f"CREATE TABLE {q(s['diagnoses'])} (seq {integer} PRIMARY KEY, {q(s['visit_key'] + '_ref')} "
            f"{visit_key_type}, {q(s['key'])} {key_type}, {q(s['code'])} {text}, {q(s['label'])} {text}, main_yn {text})")
        insert(s["diagnoses"], [
            [str(i + 1), _literal(engine, rng.choice(visit_keys)), _literal(engine, rng.choice(keys)),
             _literal(engine, rng.choice(["J00", "J06.9", "I10", "E11.9", "K29.7", "j069", "", None, "Z00.0 "])),
             _literal(engine, rng.choice(["감기", "고혈압", None, "당뇨병"])),
             _literal(engine, rng.choice(["Y", "N", "1", "0", None]))] for i in range(rng.randint(5, 200))])
    for t in range(rng.randint(1, 5)):
        table = rng.choice(["LOG", "설정", "code_master", "tmp", "sms_hist", "audit", "x y", "select", "Table-1",
                            "jinryo_girok"]) + str(t)
        columns = [(rng.choice(["a", "값", "CODE", "Value", "desc", "order", "group", "dt", "gap"]) + str(c),
                    rng.choice(sorted(types))) for c in range(rng.randint(1, 6))]
        shape = rng.choice(["int", "hangul", "composite", "keyless", "keyless-id"])
        clinic.shapes.append(f"table:{shape}:" + ",".join(ty for _, ty in columns))
        ddl = ", ".join(f"{q(n)} {ty}" for n, ty in columns)
        if shape == "int":
            ddl = f"rid {integer} PRIMARY KEY, {ddl}"
        elif shape == "hangul":
            ddl = f"{q('코드')} {text} PRIMARY KEY, {ddl}"
        elif shape == "composite":
            ddl = f"{q('k.1')} {integer}, {q('k 2')} {text}, {ddl}, PRIMARY KEY ({q('k.1')}, {q('k 2')})"
        elif shape == "keyless-id":  # an id column nobody declared a key: NULLs and duplicates in it
            ddl = f"id {integer}, {ddl}"
        run(f"CREATE TABLE {q(table)} ({ddl})")
        rows = []
        for r in range(rng.choice([0, 1, 3, 40])):
            values = ["NULL" if rng.random() < 0.12 else types[ty](rng) for _, ty in columns]
            prefix = {"int": [str(r + 1)], "hangul": [_literal(engine, f"코드-{r:03d}")],
                      "composite": [str(r // 2), _literal(engine, ["가", "b"][r % 2])],
                      "keyless": [], "keyless-id": [rng.choice(["NULL", "1", "2", str(r)])]}[shape]
            rows.append([*prefix, *values])
        insert(table, rows)
    if odd.random() < 0.4:  # more of the server's types, keyed or not
        more = MORE_MARIA_TYPES if maria else MORE_PG_TYPES
        column_types = odd.sample(sorted(more), odd.randint(1, 5))
        keyed = odd.random() < 0.5
        clinic.shapes.append(f"more-types:{'keyed' if keyed else 'keyless'}:{','.join(column_types)}")
        ddl = ", ".join(f"{q(f'c{i}')} {t}" for i, t in enumerate(column_types))
        run(f"CREATE TABLE more_types ({f'id {integer} PRIMARY KEY, ' if keyed else ''}{ddl})")
        insert("more_types", [[*([str(r)] if keyed else []), *("NULL" if odd.random() < 0.12 else odd.choice(more[t])
                                                               for t in column_types)]
                              for r in range(odd.choice([1, 3, 40]))])
    if odd.random() < 0.5:  # names the SQL must quote with care
        table = odd.choice(ODD_TABLE_NAMES)
        names = odd.sample(ODD_COLUMN_NAMES, odd.randint(1, 4))
        if not maria and odd.random() < 0.5:
            names += ["Twin", "twin"]  # PostgreSQL: two columns whose names differ only by case
        keyed = odd.random() < 0.6
        column_types = [odd.choice(sorted(types)) for _ in names]
        clinic.shapes.append(f"odd-names:{'keyed' if keyed else 'keyless'}:{table!r}:{names!r}")
        ddl = ", ".join(f"{q(n)} {t}" for n, t in zip(names, column_types, strict=True))
        run(f"CREATE TABLE {q(table)} ({q(names[0] + '#k') + f' {integer} PRIMARY KEY, ' if keyed else ''}{ddl})")
        insert(table, [[*([str(r)] if keyed else []), *("NULL" if odd.random() < 0.12 else types[t](odd)
                                                         for t in column_types)] for r in range(odd.choice([1, 3, 40]))])
    if rng.random() < 0.5:  # keyless, with duplicate rows
        clinic.shapes.append("sms-log:keyless-duplicates")
        run(f"CREATE TABLE {q('sms log')} (sent {text}, phone {text}, body {'TEXT' if maria else 'text'})")
        insert("sms log", [
            [_literal(engine, "2024-01-01 10:00"), _literal(engine, "010-0000-0000"), _literal(engine, "예약 안내")]
            if rng.random() < 0.3 else [_literal(engine, rng.choice(TEXTS)[:20]) for _ in range(3)]
            for _ in range(rng.randint(1, 30))])
    if rng.random() < 0.5:
        clinic.shapes.append("view")
        run(f"CREATE VIEW v_patients AS SELECT * FROM {q(s['patients'])}")
    # dates no calendar holds in the mapped date columns of the server's own types (zero dates, ±infinity, BC)
    for table, column, declared in ((s["patients"], s["birth"], birth_type), (s["visits"], s["visit_date"], visit_type)):
        odd_dates = ODD_MARIA_DATES if maria else ODD_PG_DATES
        if declared.upper() in ("DATE", "DATETIME", "TIMESTAMP") and odd.random() < 0.5:
            value = odd.choice(odd_dates[declared.upper()])
            clinic.shapes.append(f"odd-date:{column}={value}")
            run(f"UPDATE {q(table)} SET {q(column)} = {value} WHERE {q(column)} IN (SELECT * FROM (SELECT "
                f"MIN({q(column)}) FROM {q(table)}) m)")
    conn.close()
    return clinic
