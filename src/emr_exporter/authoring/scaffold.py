"""A starting connector for a database nobody has seen: profile it, then guess a ``connector.toml``.

``profile_database`` reads the clinic database read-only (in the spirit of OHDSI WhiteRabbit's scan
report): tables, row counts, columns and types, primary keys, and per column the share of empty values,
a bounded distinct count and *shape flags* (looks like a ``YYYYMMDD`` date, a 13-digit RRN, a KCD code,
an EDI code, an amount; text that is UTF-8 or only CP949). At most ``sample_rows`` rows per table are
read. **No stored value leaves this module**: the profile holds counts and flags only, never a value, not
even masked, so ``PROFILE.md`` can be mailed to an EMR vendor.

``guess_connector`` turns a profile into ``connector.toml`` text: each canonical entity gets the table
whose name and columns fit it best (Korean EMR abbreviations such as PT/JUMIN/JUBSU/SANG/SUNAP and
English names), every guess carries a ``# GUESS (why)`` comment, and entities with no plausible table (or
without their required fields) are written commented out. The file loads with
:func:`emr_exporter.connectors.load_spec` as written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import re
import typing
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from emr_exporter import __version__, codepage, model
from emr_exporter.authoring.column_groups import (
    ColumnGroup,
    column_groups,
    drug_stem,
    group_entity,
    group_fields,
)
from emr_exporter.authoring.eav import ScaffoldKit, eav_guesses
from emr_exporter.authoring.json_columns import (
    LIFT_ENGINES,
    LIFTABLE_KEY,
    POSITION_DIGITS,
    JsonKeys,
    drug_array_keys,
    drug_code_field,
    elements_sql,
    json_column_type,
    lift_sql,
)
from emr_exporter.connectors.paths import prefix_path, stored_path_form
from emr_exporter.connectors.spec import (
    FRAMEWORK_FIELDS,
    IDENTIFIER,
    NAME,
    QUOTED_NAME_REFUSED,
    TABLE_NAME,
    TOML_BARE_KEY,
)
from emr_exporter.connectors.transforms import JULIAN_DAYS, SENTINEL_DATES, parse_date_text
from emr_exporter.errors import ConfigError, SourcePermissionDenied, SourceQueryError
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import Source
from emr_exporter.sources.drivers import (
    JSON_EXTRACT,
    JSON_POSITIONS,
    JSON_TABLE,
    JSON_VALUE,
    json_array_reading,
    json_value_reading,
)

if typing.TYPE_CHECKING:
    from emr_exporter.sources.catalog import CatalogTable

DEFAULT_SAMPLE_ROWS = 1000
#: Distinct values are counted up to this many per column (then reported as "more than").
DISTINCT_CAP = 1000
#: How many of the largest tables go into ``[detect] tables``.
DETECT_TABLES = 5

# --- shape flags -----------------------------------------------------------------------------------

SHAPES: dict[str, str] = {
    "yyyymmdd": "text date YYYYMMDD",
    "yyyymmddhhmmss": "text date-time YYYYMMDDHHMMSS",
    "iso_date": "text date YYYY-MM-DD",
    "iso_datetime": "text date-time YYYY-MM-DD HH:MM:SS",
    "iso_minute": "text date-time YYYY-MM-DD HH:MM (no seconds)",
    "dotted_date": "text date YYYY.MM.DD",
    "iso_offset": "ISO-8601 text date-time with a UTC offset (2024-03-05T06:12:00Z, 2024-03-05T15:12:00+09:00)",
    "iso_t_local": "ISO-8601 text date-time with a T and no UTC offset (2024-03-05T15:12:00)",
    "iso_datetime_fraction": "text date-time YYYY-MM-DD HH:MM:SS.fffffff (with a fraction of a second: SQL "
                             "Server's datetime2 as text)",
    "us_date": "text date MM/DD/YYYY (month first, as SQL Server and Access write it in the US)",
    "dmon_date": "text date DD-MON-YY (05-JAN-24, as SQL Server and Oracle write it)",
    "dmon_long_date": "text date DD-MON-YYYY (05-JAN-2024)",
    "yymmdd": "text date YYMMDD (two-digit year)",
    "ko_ampm_datetime": "Korean Windows text date-time (2024-01-05 오후 3:20:11)",
    "ko_dotted_datetime": "Korean web text date-time (2024. 1. 5. 오후 3:20:11)",
    "ko_dotted_date": "Korean web text date (2024. 1. 5.)",
    "ko_long_date": "Korean text date (2024년 1월 5일)",
    "ko_weekday_date": "Korean text date with the weekday (2024년 1월 5일 금요일)",
    "ko_long_datetime": "Korean text date-time (2024년 1월 5일 15시 20분)",
    "epoch_s": "Unix time in seconds (2000-2040)",
    "epoch_ms": "Unix time in milliseconds (2000-2040)",
    "julian": "Julian day number (SQLite's julianday(), 1900-2100)",
    "julian_time": "Julian day number with a time of day",
    "amount_text": "amount written with commas or 원 (12,000원)",
    "decimal_comma": "number written with a decimal comma (36,5)",
    "percent": "number with a percent sign (98%)",
    "bp_text": "blood pressure written as systolic/diastolic (120/80)",
    "rrn": "13-digit resident registration number",
    "kcd": "KCD diagnosis code",
    "edi": "HIRA EDI code",
    "amount": "amount of money (whole won)",
    "number": "number written as text",
    "fraction": "quantity written as a fraction (1/2, 1 1/2)",
    "yn": "Y/N, 예/아니오 or 1/0 flag",
    "access_yn": "Access yes/no flag (-1 yes, 0 no)",
    "time_of_day": "time of day (오후 3:05, 15:05:00)",
    "binary": "binary data",
    "windows_path": "absolute Windows file path (a drive letter or a network share)",
    "posix_path": "absolute file path (/…)",
}
_KCD = re.compile(r"^[A-Z]\d{2}(\.?\d{1,2})?$")
# EDI: 9-digit drug codes, procedure codes like AA154 / B2570 / HA010 / M0111, material codes.
_EDI = re.compile(r"^(\d{9}|[A-Z]{1,2}\d{3,4}[A-Z0-9]{0,2})$")
_RRN = re.compile(r"^(\d{6})-?([1-8]\d{6})$")
_YN = {"Y", "N", "0", "1", "-1", "y", "n", "T", "F", "예", "아니오", "아니요"}  # -1: Access's True
_AMOUNT_TEXT = re.compile(r"^[₩￦\\]?\s*\d{1,3}(,\d{3})+\s*원?$|^\d+\s*원$")
# Unix times from 2000-01-01 to 2040-01-01: an epoch column is a date, not an amount of money.
_EPOCH_S = (946_684_800, 2_208_988_800)
_EPOCH_MS = (_EPOCH_S[0] * 1000, _EPOCH_S[1] * 1000)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_PERCENT = re.compile(r"^\d+(\.\d+)?\s*%$")
_BP_TEXT = re.compile(r"^\s*\d{1,3}\s*/\s*\d{1,3}\s*$")
#: A record's number from a document sequence: letters, a four-digit year, a serial (Odoo's ``name`` RX/2024/0001,
#: APT/2024/0001; Frappe's naming series HLC-ENC-2026-00001; INV-2024-0003). No flag of its own (not in SHAPES):
#: a column of such numbers, one per row, is never a record's name or text (:meth:`_Guesser._plain_field`).
_RECORD_NUMBER = re.compile(r"^[A-Za-z]{1,8}(?:[/-][A-Za-z]{1,8})*[/-](?:19|20)\d{2}[/-]\d{2,8}$")
# Half a tablet written '1/2', one and a half '1 1/2': the decimal transform reads them as 0.5, 1.5.
_FRACTION_TEXT = re.compile(r"^-?(\d+\s+)?\d+\s*/\s*[1-9]\d*$")
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def _latin1_table() -> dict[str, int]:
    """MariaDB/MySQL ``latin1`` (cp1252, its five undefined bytes passed through) decoded → the byte."""
    table: dict[str, int] = {}
    for byte in range(256):
        try:
            table[bytes([byte]).decode("cp1252")] = byte
        except UnicodeDecodeError:
            table[chr(byte)] = byte
    return table


_LATIN1 = _latin1_table()


def cp949_read_as_latin1(text: str) -> bool:
    """Whether ``text`` is Korean CP949 bytes that a server declaring the column ``latin1`` (legacy Korean
    MySQL installations) handed over decoded as latin1: ``'±èÈ¯ÀÚ'`` for ``'김환자'``."""
    if text.isascii() or any(ch not in _LATIN1 for ch in text):
        return False
    try:
        decoded = codepage.decode(bytes(_LATIN1[ch] for ch in text), "cp949")  # a 외자 too
    except UnicodeDecodeError:
        return False
    return any("\uac00" <= ch <= "\ud7a3" for ch in decoded)


#: The days Windows EMRs write for "no date" (transforms.SENTINEL_DATES: 1900-01-01, 1899-12-30, 1753-01-01,
#: 0001-01-01, and 9999-12-31, "no end yet" as Korean EMRs write it on coverage and prescriptions): a date for the
#: date shape, though no other year outside 1900-2100 is: a column of them is a date column, and the export reads
#: each of them as no date (the cell carried raw, ``sentinel-date``).
_SENTINEL_NUMBERS = frozenset(int(day.strftime("%Y%m%d")) for day in SENTINEL_DATES)


def _valid_date(text: str, fmt: str) -> bool:
    try:
        parsed = dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    # An 8-digit institution code (31234567) is not the year 3123.
    return 1900 <= parsed.year <= 2100 or parsed.date() in SENTINEL_DATES


#: Dates and times as Korean Windows, .NET and web pages write them: shape -> the format that reads them
#: (the transforms read 오전/오후 and weekday names themselves, under any locale).
_KO_FORMATS = {
    "ko_ampm_datetime": "%Y-%m-%d %p %I:%M:%S",
    "ko_dotted_datetime": "%Y. %m. %d. %p %I:%M:%S",
    "ko_dotted_date": "%Y. %m. %d.",
    "ko_long_date": "%Y년 %m월 %d일",
    "ko_weekday_date": "%Y년 %m월 %d일 %A",
    "ko_long_datetime": "%Y년 %m월 %d일 %H시 %M분",
}
_KO_DATETIME_SHAPES = ("ko_ampm_datetime", "ko_dotted_datetime", "ko_long_datetime")
_TIME_OF_DAY = re.compile(r"^(?:(?:오전|오후|AM|PM)\s*)?([01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s*(?:AM|PM))?$", re.I)
_KO_HINT = re.compile(r"오전|오후|[AaPp][Mm]|년|\d\. ")


def _plural(shape: str) -> str:
    """A shape's description for many values: "Korean web text dates (2024. 1. 5.)"."""
    text = SHAPES[shape]
    if shape in _KO_FORMATS:
        head, _, example = text.partition(" (")
        head = head.replace(" with the weekday", "")
        return f"{head}s{' with their weekdays' if shape == 'ko_weekday_date' else ''} ({example}"
    return f"{text}s"


#: ISO-8601 date-times as apps write them (JavaScript's toISOString(), .NET's "o", Python's isoformat()): a T
#: (or a space), seconds and a fraction optional, and a UTC offset ('Z', '+09:00', '+0900') or none
_ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")
#: the field formats reading them: with an offset (the instant it names, shown in the field's zone) …
ISO_OFFSET_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M%z",
                      "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M%z")
#: … and with a T but no offset (a wall-clock time in the clinic's zone)
ISO_T_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M")


def _iso_8601_shapes(text: str) -> set[str]:
    iso = _ISO_8601.match(text)
    if iso is None:
        return set()
    if iso.group(1):
        return {"iso_offset"} if parse_date_text(text, ISO_OFFSET_FORMATS) else set()
    if "T" in text and parse_date_text(text, ISO_T_FORMATS) and _valid_date(text[:10], "%Y-%m-%d"):
        return {"iso_t_local"}
    return set()


def _ko_shapes(text: str) -> set[str]:
    shapes: set[str] = set()
    if not 10 <= len(text) <= 32 or not _KO_HINT.search(text):
        return shapes
    for shape, fmt in _KO_FORMATS.items():
        parsed = parse_date_text(text, (fmt,))
        if parsed is not None and 1900 <= parsed.year <= 2100:
            shapes.add(shape)
    return shapes


def _text_shapes(text: str) -> set[str]:
    shapes: set[str] = set()
    text = text.strip()
    shapes |= _ko_shapes(text)
    shapes |= _iso_8601_shapes(text)
    if text.isdigit():
        if len(text) <= 3:
            shapes |= _count_shapes(int(text))
        if len(text) == 8 and _valid_date(text, "%Y%m%d"):
            shapes.add("yyyymmdd")
        if len(text) == 14 and _valid_date(text, "%Y%m%d%H%M%S"):
            shapes.add("yyyymmddhhmmss")
    # the month and day padded or not ('2020-1-5', as a web form or a .NET ToString("yyyy-M-d") wrote it): the
    # format reads both, and a date not written back as stored is carried raw
    if 8 <= len(text) <= 10 and _valid_date(text, "%Y-%m-%d"):
        shapes.add("iso_date")
    if len(text) == 19 and _valid_date(text, "%Y-%m-%d %H:%M:%S"):
        shapes.add("iso_datetime")
    if len(text) == 16 and _valid_date(text, "%Y-%m-%d %H:%M"):
        shapes.add("iso_minute")
    if 21 <= len(text) <= 29 and text[19:20] == "." and parse_date_text(text, ("%Y-%m-%d %H:%M:%S.%f",)):
        shapes.add("iso_datetime_fraction")
    if 8 <= len(text) <= 10 and _valid_date(text, "%Y.%m.%d"):
        shapes.add("dotted_date")
    if len(text) == 6 and text.isdigit() and _valid_date(text, "%y%m%d"):
        shapes.add("yymmdd")
    if 8 <= len(text) <= 10 and "/" in text and _valid_date(text, "%m/%d/%Y"):
        shapes.add("us_date")
    if len(text) in (9, 11) and text[2:3] == "-" and text[6:7] == "-":
        for shape, fmt in (("dmon_date", "%d-%b-%y"), ("dmon_long_date", "%d-%b-%Y")):
            if parse_date_text(text, (fmt,)) is not None:
                shapes.add(shape)
    if _TIME_OF_DAY.match(text):
        shapes.add("time_of_day")
    if (_TIME_OF_DAY.match(text) or (len(text) in (4, 6) and text.isdigit())) and parse_date_text(text, _TIME_FORMATS):
        shapes.add("time_read")  # no flag of its own (not in SHAPES): a time the date-time patterns below read
    if _AMOUNT_TEXT.match(text):
        shapes.add("amount_text")
    elif _DECIMAL_COMMA.match(text):
        shapes.add("decimal_comma")  # 36,5 (℃): the decimal transform reads it as 36.5
    if _BP_TEXT.match(text):
        shapes.add("bp_text")
    if _RECORD_NUMBER.match(text):
        shapes.add("record_number")
    if _PERCENT.match(text):
        shapes.add("percent")  # SpO2 98%: a vital sign's own unit, read off (transforms.to_measurement)
    rrn = _RRN.match(text)
    if rrn and _valid_date(rrn.group(1), "%y%m%d"):
        shapes.add("rrn")
    if _KCD.match(text):
        shapes.add("kcd")
    if _EDI.match(text):
        shapes.add("edi")
    if text in _YN:
        shapes.add("yn")
    if text in ("-1", "0"):
        shapes.add("access_yn")
    if model.eye_side(text) is not None:
        shapes.add("eye")  # R, OD, 우안, OU (model.eye_side); no flag of its own (not in SHAPES)
    if len(text) <= 20 and model.tooth_surfaces(text) is not None:
        shapes.add("surface")  # MOD, DO, 근심 (model.tooth_surfaces); no flag of its own (not in SHAPES)
    if len(text) <= 40 and model.universal_teeth(text) is not None:
        shapes.add("us_teeth")  # 3, #19, A: Universal (US) tooth numbers (model.universal_teeth); not in SHAPES
        if model.fdi_teeth(text) is None:
            shapes.add("us_only_teeth")  # ... and no FDI tooth (1-10, 19, 20, 29-32, A-T)
    if _NUMBER.match(text):
        shapes.add("number")
    elif _FRACTION_TEXT.match(text):
        shapes.add("fraction")
    form = stored_path_form(text)
    if form != "relative" and prefix_path(text).is_absolute():
        shapes.add(f"{form}_path")
    if text.isdigit() and len(text) <= 12 and int(text) % 10 == 0 and len(text) != 6:
        shapes.add("amount")
    return shapes


def _count_shapes(value: int | float | Decimal) -> set[str]:
    """A whole number a prescription line counts with (not in SHAPES: the profile does not list them): ``per_day``
    1-6 (times a day), ``day_count`` 1-365 (days of a prescription)."""
    if value != int(value) or not 1 <= value <= 365:
        return set()
    return {"day_count", "per_day"} if value <= 6 else {"day_count"}


def _number_shapes(value: int | float | Decimal) -> set[str]:
    shapes: set[str] = set()
    if not isinstance(value, int) and not math.isfinite(value):
        return shapes  # NaN and ±Infinity (SQLite REAL, PostgreSQL float8/numeric): no shape, and no int() of them
    shapes |= _count_shapes(value)
    if value in (0, 1, -1):  # -1: Access's True
        shapes.add("yn")
    if value in (0, -1):
        shapes.add("access_yn")  # Access's yes/no: -1 is yes
    whole = value == int(value)
    if whole and 1 <= value <= 32:
        shapes.add("us_teeth")  # a Universal (US) tooth number kept as a number (_text_shapes says so of text)
        if not 11 <= value <= 28 or value in (19, 20):
            shapes.add("us_only_teeth")
    if JULIAN_DAYS[0] <= value <= JULIAN_DAYS[1]:
        # a day kept as SQLite's julianday() (2460000.5 is 2023-02-25 00:00): far below the Unix times of
        # 2000-2040, so never taken for one; a fraction other than .0/.5 is a time of day
        shapes.add("julian")
        if value * 2 % 1:
            shapes.add("julian_time")
    if isinstance(value, int) and (19000101 <= value <= 21001231 or value in _SENTINEL_NUMBERS) \
            and _valid_date(str(value), "%Y%m%d"):
        shapes.add("yyyymmdd")  # a date kept as the number 20230101 (INTEGER or NUMBER(8) columns)
    elif whole and _EPOCH_S[0] <= value < _EPOCH_S[1]:
        shapes.add("epoch_s")
    elif whole and _EPOCH_MS[0] <= value < _EPOCH_MS[1]:
        shapes.add("epoch_ms")
    elif value >= 0 and whole and int(value) % 10 == 0:
        shapes.add("amount")
    return shapes


# --- the profile -----------------------------------------------------------------------------------


@dataclass(slots=True)
class ColumnProfile:
    """Statistics of one column over the sampled rows. Never a value."""

    name: str
    type_name: str
    primary_key: bool = False
    non_empty: int = 0
    empty: int = 0  # NULL or blank text
    distinct: int = 0
    distinct_capped: bool = False  # more than DISTINCT_CAP distinct values
    max_length: int = 0
    #: shape flag → number of non-empty sampled values that have it
    shapes: dict[str, int] = field(default_factory=dict)
    utf8_text: int = 0  # non-ASCII text that is valid UTF-8 (or arrived decoded)
    cp949_only_text: int = 0  # bytes that are not UTF-8 but are valid CP949
    cp949_as_latin1: int = 0  # text that is CP949 bytes read as latin1 ('±èÈ¯ÀÚ' for '김환자')
    #: the single-byte character set the server declares the column in (MariaDB/MySQL ``latin1``), else "":
    #: only such a column can hold CP949 bytes read as latin1 (a utf8mb4 '°C' is a degree sign)
    byte_charset: str = ""
    undecodable: int = 0  # bytes that are neither (binary data or another encoding)
    #: non-empty sampled values that are a date in any shape a [source] format reads, and those with a time of day
    #: (a column whose screens wrote '2020.01.05', '2020-1-5', '2020년 1월 5일' and '20200105' by turns)
    dated: int = 0
    timed: int = 0
    numeric: int = 0  # values that arrived as numbers
    #: read as the bytes the server stores (PostgreSQL SQL_ASCII: it refuses to hand them over as text)
    stored_bytes: bool = False
    #: the name without the prefix every column of its table starts with (:func:`column_prefix`), else ""
    own: str = ""
    #: the sampled values that are JSON objects, and their keys (names only: authoring/json_columns.py)
    json: JsonKeys = field(default_factory=JsonKeys)

    @property
    def sampled(self) -> int:
        return self.non_empty + self.empty

    def share(self, shape: str) -> float:
        """Share of non-empty sampled values with ``shape`` (0 when the column was empty)."""
        return self.shapes.get(shape, 0) / self.non_empty if self.non_empty else 0.0

    def has(self, shape: str, at_least: float = 0.9) -> bool:
        return self.non_empty > 0 and self.share(shape) >= at_least

    @property
    def unique_in_sample(self) -> bool:
        return self.empty == 0 and self.non_empty > 0 and self.distinct == self.non_empty

    @property
    def is_binary(self) -> bool:
        return self.type_name.upper() in ("BLOB", "BINARY", "VARBINARY", "LONGBLOB", "IMAGE", "BYTEA") and (
            self.has("binary", 0.5)
        )

    def flags(self) -> list[str]:
        found = [shape for shape in SHAPES if self.has(shape, 0.8)]
        if self.cp949_only_text:
            found.append("cp949-text")
        if self.cp949_as_latin1:
            found.append("cp949-read-as-latin1")
        if self.utf8_text:
            found.append("utf8-text")
        return found


@dataclass(slots=True)
class TableProfile:
    name: str  # schema-qualified ("his.pt_master") outside the default schema, as the inventory names it
    row_count: int
    columns: list[ColumnProfile]
    sampled_rows: int = 0
    unreadable: bool = False  # the count query failed (no permission?)
    row_security: bool = False  # row-level security shows this account only some rows (CatalogTable)
    schema: str = ""  # the schema ``name`` is qualified with ("" in the default schema)
    #: PostgreSQL: a partitioned table's partitions (read with it, never profiled on their own), the tables it
    #: inherits from, and those inheriting from it (its rows are its own only: counted, sampled and read
    #: ``FROM ONLY``). See sources/catalog.py.
    partitions: tuple[str, ...] = ()
    inherits: tuple[str, ...] = ()
    children: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[str, ...]:
        """(schema, table) or (table,): the name as the catalogue has it (a table's own name may hold a dot)."""
        return (self.schema, self.name[len(self.schema) + 1:]) if self.schema else (self.name,)

    @property
    def bare(self) -> str:
        """The table's own name, without its schema: what its name says about it (PT_MASTER, VISIT)."""
        return self.parts[-1]

    @property
    def plain(self) -> bool:
        """Whether a connector's unquoted SQL can name it (each part a plain identifier)."""
        return all(IDENTIFIER.match(part) for part in self.parts)

    @property
    def nameable(self) -> bool:
        """Whether a connector's SQL can name it: unquoted where plain, else quoted (a name with a space, Frappe's
        "tabPatient Encounter"), unless it holds what no engine's quoting takes (a quote mark, a bracket)."""
        return self.plain or not QUOTED_NAME_REFUSED.search(self.name)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    @property
    def only(self) -> str:
        """``"ONLY "`` before the table's name in a FROM where other tables inherit from it, else ""."""
        return "ONLY " if self.children else ""

    def column(self, name: str) -> ColumnProfile | None:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        return None


@dataclass(slots=True)
class DatabaseProfile:
    engine: str
    label: str  # safe to show (no password)
    sample_rows: int
    tables: list[TableProfile]
    #: PostgreSQL: how many large objects the database holds (files kept in pg_largeobject, apart from every
    #: table; the export carries them all), None where the engine has none.
    large_objects: int | None = None
    #: MariaDB/MySQL: the server's ``VERSION()`` (``10.4.32-MariaDB``, ``5.7.44``), which decides how a JSON array is
    #: read (drivers.json_array_reading); None on another engine
    server_version: str | None = None

    @property
    def cp949_seen(self) -> bool:
        """Whether a column holds text that is CP949, not UTF-8. Bytes of a binary column (a GUID kept as
        BINARY(16) or bytea, 16 random bytes) that happen to decode as CP949 are no text: such a column counts only
        where its CP949 values outnumber its binary ones (was: a receipt's BINARY(16) GUIDs set ``encoding =
        "cp949"`` on a UTF-8 database)."""
        return any(c.cp949_only_text > c.shapes.get("binary", 0) for t in self.tables for c in t.columns)

    @property
    def cp949_as_latin1(self) -> list[str]:
        """``table.column`` of the columns whose text is CP949 read as latin1 (never a value)."""
        return [f"{t.name}.{c.name}" for t in self.tables for c in t.columns if c.cp949_as_latin1]


#: Values longer than this are told apart by their digest in a column's distinct count.
_DIGESTED_FROM = 256


def _digest(value: str | bytes) -> tuple[str, bytes]:
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return type(value).__name__, hashlib.blake2b(raw, digest_size=16).digest()


class _ColumnCounter:
    """Accumulates one column's statistics; the values it sees stay in memory and are dropped after."""

    def __init__(self, profile: ColumnProfile) -> None:
        self.profile = profile
        self.seen: set[Any] = set()

    def add(self, value: Any) -> None:
        p = self.profile
        if value is None or (isinstance(value, str) and not value.strip()):
            p.empty += 1
            return
        p.non_empty += 1
        if not p.distinct_capped:
            # A long text or binary value (an RTF note, a scan) counted by its digest: 1000 sampled rows of
            # 400 KB kept whole held 560 MB.
            long = type(value) in (str, bytes) and len(value) > _DIGESTED_FROM
            self.seen.add(_digest(value) if long else value)
            if len(self.seen) > DISTINCT_CAP:
                p.distinct_capped = True
                self.seen.clear()
        shapes: set[str] = set()
        if isinstance(value, bool):
            shapes = {"yn"}
        elif isinstance(value, int | float | Decimal):
            p.numeric += 1
            shapes = _number_shapes(value)
            p.max_length = max(p.max_length, len(str(value)))
        elif isinstance(value, str):
            p.max_length = max(p.max_length, len(value))
            if not value.isascii():
                p.utf8_text += 1
                if p.byte_charset and cp949_read_as_latin1(value):
                    p.cp949_as_latin1 += 1
            shapes = _text_shapes(value)
            if value.lstrip()[:1] in ("{", "["):
                p.json.add(value)
        elif isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            p.max_length = max(p.max_length, len(raw))
            if _CONTROL.search(raw):
                shapes = {"binary"}
            else:
                try:
                    text = raw.decode("utf-8")
                    if not text.isascii():
                        p.utf8_text += 1
                    shapes = _text_shapes(text)
                except UnicodeDecodeError:
                    try:
                        text = codepage.decode(raw, "cp949")
                        p.cp949_only_text += 1
                        shapes = _text_shapes(text)
                    except UnicodeDecodeError:
                        p.undecodable += 1
                        shapes = {"binary"}
        elif isinstance(value, dt.datetime):
            shapes = {"iso_datetime"}
        elif isinstance(value, dt.date):
            shapes = {"iso_date"}
        for shape in shapes:
            p.shapes[shape] = p.shapes.get(shape, 0) + 1
        if shapes & _SOURCE_DATE_SHAPES:
            p.dated += 1
            if shapes & _SOURCE_DATETIME_SHAPES:
                p.timed += 1

    def finish(self) -> None:
        if not self.profile.distinct_capped:
            self.profile.distinct = len(self.seen)
        else:
            self.profile.distinct = DISTINCT_CAP
        self.seen.clear()


def _list_tables(source: Source) -> list[TableProfile]:
    """Tables (not views, not partitions: a partitioned table is profiled whole) and their columns (name,
    declared type, primary key) from the database's catalogue, by name, not yet counted. A table outside the
    default schema (PostgreSQL ``his.pt_master``) is named schema-qualified, with its schema apart: see
    sources/catalog.py."""
    from emr_exporter.sources.catalog import list_tables

    return _table_profiles(list_tables(source))


def column_prefix(table: str, columns: Sequence[str]) -> str:
    """The prefix every column of ``table`` starts with, where it abbreviates the table's name: 2-5 letters and
    ``_``, the table's first letter first and the others in its name in order (Open Hospital's ``PAT_`` of
    ``PATIENT``, ``PEX_`` of ``PATIENTEXAMINATION``, ``BLP_`` of ``BILLPAYMENTS``; a ``TB_PATIENT`` whose columns
    are ``PAT_ID``, ``PAT_NM``). "" elsewhere: a column without it, fewer than 3 columns, or a prefix the name
    does not spell (``PT_`` of ``VISIT``). The hints are written for the names after it (``OPD_PAT_ID``: a
    patient reference ``PAT_ID``; ``PAT_SEX``: ``SEX``)."""
    heads = {c.split("_", 1)[0].upper() if "_" in c.strip("_") else "" for c in columns}
    if len(columns) < 3 or len(heads) != 1:
        return ""
    head = heads.pop()
    letters = re.sub(r"[^A-Z]", "", _words(table, table=True).upper())
    if not (2 <= len(head) <= 5 and head.isascii() and head.isalpha()) or not letters.startswith(head[0]):
        return ""
    rest = iter(letters[1:])
    return columns[0][:len(head) + 1] if all(letter in rest for letter in head[1:]) else ""


def _table_profiles(listed: Sequence[CatalogTable]) -> list[TableProfile]:
    """:func:`_list_tables` of the catalogue's tables ``listed``."""
    prefixes = {id(t): len(column_prefix(t.name[len(t.schema) + 1:] if t.schema else t.name,
                                         [c.name for c in t.columns])) for t in listed}
    return sorted(
        (TableProfile(name=t.name, row_count=0, schema=t.schema,
                      columns=[ColumnProfile(name=c.name, type_name=c.read_type, primary_key=c.primary_key,
                                             stored_bytes=c.byte_charset == "sql_ascii",
                                             byte_charset=c.byte_charset, own=c.name[prefixes[id(t)]:]
                                             if prefixes[id(t)] else "")
                               for c in t.columns],
                      partitions=t.partitions, inherits=t.inherits, children=t.children,
                      row_security=t.row_security)
         for t in listed if t.kind == "table"),
        key=lambda table: table.name,
    )


def _quote(source: Source, parts: tuple[str, ...]) -> str:
    # Names come from the catalogue exactly as stored: quoted, they match whatever the case or the script
    # (a Korean table name), where a connector's own SQL leaves them unquoted. Schema and table part by part.
    from emr_exporter.sources.drivers import caps_for

    return ".".join(caps_for(source.engine).quote(part) for part in parts)


def _sample_sql(source: Source, table: TableProfile, columns: list[ColumnProfile] | None, order_by: str | None,
                n: int) -> str:
    """The first ``n`` rows of ``table`` (in ``order_by``; None: in no order). With ``columns`` (values are
    fetched), dates are read as the server's text where the driver corrupts them (``readable_select``); without
    (a query over the sample, nothing fetched), ``*``."""
    from emr_exporter.sources.catalog import readable_select
    from emr_exporter.sources.drivers import caps_for, limit_sql

    select = readable_select(source.engine, [(c.name, c.type_name) for c in columns],
                             stored_bytes=[c.name for c in columns if c.stored_bytes])[0] if columns else None
    return limit_sql(caps_for(source.engine), table.parts, None, [order_by] if order_by else [], n, select=select,
                     only=bool(table.children))


def _folded_select(engine: str, table: TableProfile) -> str | None:
    """PostgreSQL folds unquoted names to lower case, so a table or column created quoted with capitals
    ("PT_MASTER"."PT_NO", as an EMR moved from SQL Server or Oracle keeps them) cannot be named by a connector's
    unquoted SQL. Such a table is read through this select, each column under its lower-case name (which the
    connector's unquoted names then fold to). None when no name needs it, or when two columns' names differ
    only by case (the table is then left carried)."""
    if engine != "postgresql":
        return None
    from emr_exporter.sources.drivers import caps_for

    names = [c.name for c in table.columns]
    if all(part == part.lower() for part in table.parts) and all(n == n.lower() for n in names):
        return None
    if not names or len({n.lower() for n in names}) != len(names):
        return None
    quote = caps_for(engine).quote
    columns = []
    for name in names:
        if name == name.lower():
            # quoted even when plain: unquoted, PostgreSQL reads a column named user (or current_role,
            # session_user …) as that function, the account's name on every row, and order as a syntax error
            columns.append(quote(name))
        else:
            lower = name.lower()
            columns.append(f"{quote(name)} AS {lower if IDENTIFIER.match(lower) else quote(lower)}")
    return f"SELECT {', '.join(columns)} FROM {table.only}{'.'.join(quote(part) for part in table.parts)}"


def profile_table(source: Source, table: TableProfile, sample_rows: int) -> TableProfile:
    """Count the rows of one listed table and profile at most ``sample_rows`` of them (first in key order)."""
    columns = table.columns
    try:
        table.row_count = int(source.scalar(f"SELECT COUNT(*) FROM {table.only}{_quote(source, table.parts)}") or 0)
    except SourceQueryError:
        # No read permission on one table must not stop the profile of the others. The driver's message
        # is left out: PROFILE.md is meant to be shared.
        table.unreadable = True
        return table
    row_count = table.row_count
    if not columns or sample_rows <= 0 or row_count == 0:
        return table
    # the key, else the first column the engine can sort by (PostgreSQL cannot sort by a point or a json);
    # none (a keyless table of json columns only): the first rows the server gives, as the export reads it
    from emr_exporter.sources.drivers import sortable

    order_by: str | None = next(iter(table.primary_key or [c.name for c in columns
                                                          if sortable(source.engine, c.type_name)]), None)
    from emr_exporter.sources.catalog import readable_select

    counters = {c.name.lower(): _ColumnCounter(c) for c in columns}
    _, converters = readable_select(source.engine, [(c.name, c.type_name) for c in columns])
    rows: Iterator[dict[str, Any]] = source.rows(_sample_sql(source, table, columns, order_by, sample_rows))
    try:
        for row in rows:
            table.sampled_rows += 1
            for column_name, value in row.items():
                counter = counters.get(column_name)
                if counter is not None:
                    counter.add(converters[column_name](value) if column_name in converters else value)
            if table.sampled_rows >= sample_rows:
                break
    except SourcePermissionDenied:
        # Counted, but some of its columns may not be read (PostgreSQL: SELECT granted on some columns only,
        # which COUNT(*) needs no more than): unreadable as a whole, as when the count is refused. Before, the
        # scaffold stopped here, its message sending the contractor to a connector.toml not yet written.
        table.unreadable, table.row_count, table.sampled_rows = True, 0, 0
        return table
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    for counter in counters.values():
        counter.finish()
        column = counter.profile
        if column.primary_key or re.fullmatch(r".*(_ID|_NO|_SEQ|_KEY)|ID|SEQ", column.name.upper()):
            # D01, M0000001: identifiers that happen to look like KCD or EDI codes are not codes
            column.shapes.pop("kcd", None)
            column.shapes.pop("edi", None)
    return table


def profile_database(source: Source, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> DatabaseProfile:
    """Profile every table of an open (read-only) source. Holds statistics only, never a value."""
    if sample_rows < 1:
        raise ConfigError("--sample-rows must be at least 1.")
    from emr_exporter.sources.drivers import caps_for, server_version

    tables = [profile_table(source, table, sample_rows) for table in _list_tables(source)]
    count_sql = caps_for(source.engine).large_objects_count_sql
    large_objects = None if count_sql is None else int(source.scalar(count_sql) or 0)
    return DatabaseProfile(engine=source.engine, label=source.label, sample_rows=sample_rows, tables=tables,
                           large_objects=large_objects, server_version=server_version(source))


# --- guessing the mapping --------------------------------------------------------------------------

#: Table-name patterns (uppercase, matched against the whole name or one of its ``_`` parts).
TABLE_HINTS: dict[str, tuple[str, ...]] = {
    "practitioner": ("DOCTOR", "DR", "DOC", "PHYSICIAN", "PRACTITIONER", "EUISA", "UISA", "의사", "STAFF"),
    "patient": ("PT", "PAT", "PATIENT", "PTNT", "HWANJA", "HJ", "환자", "PT_MASTER", "PT_INFO", "PERSON"),
    "encounter": ("VISIT", "JUBSU", "JEOPSU", "JINRYO", "RECEPT", "RECEPTION", "ENCOUNTER", "ENC", "OPD", "ADM", "접수",
                  "내원", "VST", "RCV"),
    "diagnosis": ("DIAG", "DIAGNOSIS", "JINDAN", "SANG", "SANGBYEONG", "DX", "상병", "진단", "PROBLEM", "DISEASE",
                  # a problem list (_PROBLEM_LIST_WORDS): 문제목록, 주요병력, 과거력, a health issue
                  "HEALTH_ISSUE", "문제목록", "병력", "과거력"),
    "chart_note": ("CHART", "NOTE", "NOTES", "SOAP", "MEMO", "PROGRESS", "EMR", "NARRATIVE", "경과", "진료기록"),
    "order_line": ("ORD", "ORDER", "ORDERS", "RX", "PRESC", "PRESCRIPTION", "CHEOBANG", "처방", "MED"),
    "procedure": ("PROC", "PROCEDURE", "OP", "SURGERY", "TREAT", "TX", "처치", "수술", "치료", "시술"),
    "lab_result": ("LAB", "LABORATORY", "RSLT", "RESULT", "TEST", "EXAM_RSLT", "검사", "LIS"),
    "imaging_report": ("IMG", "IMAGE", "RAD", "XRAY", "PACS", "RPT", "판독", "영상"),
    "certificate": ("CERT", "CERTIFICATE", "JINDANSEO", "JDS", "진단서", "증명서"),
    # a bill or an invoice is the receipt's header (its total, its day, its patient; Open Hospital's BILLS,
    # an INVOICE); its items are the fee lines (BILLITEMS, INVOICE_LINE) and its payments the payments
    "receipt": ("RCPT", "RECEIPT", "SUNAP", "수납", "영수증", "PAY", "PAYMENT", "BILL", "INVOICE"),
    "fee_line": ("FEE", "MYEONGSE", "명세", "CHARGE", "SUGA", "BILL_ITEM", "BILLITEM", "BILL_LINE", "BILL_DETAIL",
                 "INVOICE_ITEM", "INVOICEITEM", "INVOICE_LINE", "INVOICE_DETAIL"),
    # IMG/XRAY/영상 too: a table of image files with no reading is left to it by imaging_report (Guesser.tables_for)
    "attachment": ("ATTACH", "ATTACHMENT", "FILE", "SCAN", "DOCUMENT", "첨부", "IMG", "IMAGE", "XRAY", "이미지",
                   "영상"),
    # The clinical-record entities: English names, their common abbreviations, romanised and Korean names.
    "allergy": ("ALLERGY", "ALLERGIES", "ALLERGEN", "ALG", "ALRG", "ALLER", "ADR", "HYPERSENSITIVITY", "알레르기",
                "알러지", "과민반응"),
    "immunization": ("VACCINATION", "VACCINATIONS", "VACCINE", "VAC", "VACC", "IMMUN", "IMMUNIZATION",
                     "IMMUNIZATIONS", "NIP", "JEOPJONG", "예방접종", "접종"),
    "vital_signs": ("VITAL", "VITALS", "VITAL_SIGN", "VITAL_SIGNS", "VS", "VITALSIGN", "활력징후", "활력",
                    # an eye clinic's readings (one row per eye and exam: EYE_EXAM, 안과검사, 시력검사, 굴절검사)
                    "EYE_EXAM", "EYE_EXAMS", "EYE_READING", "EYE_READINGS", "EYE_MEASUREMENT", "EYE_MEASUREMENTS",
                    "OPHTHALMIC_EXAM", "안과검사", "시력검사", "굴절검사", "안압검사"),
    "coverage": ("COVERAGE", "INSURANCE", "INSUR", "INS_HIST", "INS_INFO", "BOHUM", "JAGYEOK", "자격", "보험자격"),
    "medication_statement": ("MED_HIST", "MEDICATION_HISTORY", "MEDICATIONS", "DRUG_HIST", "CURRENT_MED",
                             "HOME_MED", "BOKYONG", "복용약", "복용", "투약력",
                             # what the patient takes (GNUmed's clin.substance_intake)
                             "SUBSTANCE_INTAKE", "DRUG_INTAKE", "MED_INTAKE", "MEDICATION_INTAKE"),
    "lab_report": ("LAB_RPT", "LAB_REPORT", "LAB_REPORTS", "LABREPORT", "LAB_PANEL", "EXAM_RPT", "검사보고"),
    # How a receipt was paid, part by part (card + cash + 계좌이체). Not PAY or PAYMENT alone: clinics name the
    # receipt header so (korean_styles' PAY); 수납결제 is longer than the receipt's 수납, so it is the payments'.
    "payment": ("PAY_DTL", "PAY_DETAIL", "PAY_METHOD", "PAY_HIST", "PAY_LIST", "PAYMENT_DETAIL", "PAYMENT_DETAILS",
                "PAYMENT_METHOD", "PAYMENT_LINE", "SETTLE", "SETTLEMENT", "GYEOLJE", "GYULJE", "KYULJE",
                "SUNAP_PAY", "RCPT_PAY", "수납결제", "결제", "결제내역", "결제수단", "BILL_PAYMENT", "BILLPAYMENT",
                "INVOICE_PAYMENT", "INVOICEPAYMENT"),
    # Bookings (예약, 예약관리, appointment, booking, reservation, a calendar's events): taken only by these names and
    # only with a patient link (_Guesser.tables_for); a table so named is never the visits' (encounter), and a visit
    # table never the bookings'
    "appointment": ("APPOINTMENT", "APPOINT", "APPT", "APPTS", "BOOKING", "RESERVATION", "RESERVE", "RESV", "RSV",
                    "RSRV", "YEYAK", "YEAK", "SCHEDULE", "SCHED", "CALENDAR_EVENT", "CALENDAR_EVENTS", "예약"),
}

#: Booking names that name other things as well: a schedule of doses (MED_SCHEDULE, VACC_SCHEDULE), RSV the virus
#: (RSV_TEST). Such a table is the bookings' only where no other record's name but these qualifies it (DR_SCHEDULE,
#: PT_SCHEDULE, VISIT_SCHEDULE are); else it is left to the contractor (neither section takes it: carried raw).
_WEAK_BOOKING_HINTS = frozenset({"SCHEDULE", "SCHED", "RSV"})
_BOOKED_BY = frozenset({"appointment", "practitioner", "patient", "encounter"})
#: A table named for bookings that keeps something else about them: the deposit paid, the reminders sent. No booking.
_NOT_A_BOOKING = frozenset({"SMS", "MMS", "MSG", "MESSAGE", "MESSAGES", "REMINDER", "REMINDERS", "NOTI", "NOTIFICATION",
                            "ALARM", "ALIMTALK", "DEPOSIT", "DEPOSITS", "PAY", "PAYMENT", "PAYMENTS"})
_NOT_A_BOOKING_KO = r"예약(금|비|문자|메시지|메세지|알림|발송|톡)"

#: A word naming a booking in a column's name (APPT_DATE, RESV_TIME, booking_type, YEYAK_YMD)
_BOOKING = (r"(APPT|APPOINTMENT|APPOINT|RESV|RSV|RSRV|RESERV|RESERVE|RESERVATION|BOOK|BOOKING|BOOKED|YEYAK|SCHED"
            r"|SCHEDULE)")

#: A bare amount is a receipt's total only on a table named a bill or an invoice (Open Hospital's BLL_AMOUNT); on a
#: table of payments taken for the receipts (tblPayment's mnAmount) it is what was paid, left to the contractor.
_BILL_AMOUNT = r"AMOUNT"
_BILL_TABLES = frozenset({"BILL", "INVOICE"})

# Column-name patterns per canonical field, best first (full-match regexes on the uppercase name).
_DATE = r"(.*_)?(YMD|DT|DATE|DAY|DTTM|YMDHMS|DATETIME|TIME)"
# A reference named by the bare noun (Tryton, Odoo and GNU Health name a Many2One column after the record it points
# at: ``patient``, ``encounter``) counts as well, after the ``…_id`` forms.
_REF_PATTERNS: dict[str, tuple[str, ...]] = {
    "patient": (r"PT_?NO", r"PT_?ID", r"PAT(IENT)?_?(NO|ID|SEQ)", r"PTNT_?(NO|ID|SEQ)", r"PID", r"CHART_?NO",
                r"환자번호", r"PATIENT",
                # the target's name last (Open Hospital's BLL_ID_PAT, a PAT_REF): after every …_ID form
                r"(ID|NO|REF|FK)_?(PAT(IENT)?|PT|PTNT)", r"(PAT(IENT)?|PT|PTNT)_?REF"),
    "encounter": (r"VISIT_?(NO|ID|SEQ)", r"VST_?(NO|ID|SEQ)", r"JUBSU_?(NO|ID|SEQ)", r"RECEPT_?(NO|ID|SEQ)",
                  r"ENC(OUNTER)?_?(NO|ID)",
                  r"RCV_?NO", r"ENCOUNTER", r"VISIT",
                  # the target's name last, after a mark (GNUmed's fk_encounter), as the patient's
                  r"(ID|NO|REF|FK)_?(ENC(OUNTER)?|VISIT|VST)"),
    "practitioner": (r"DR_?(ID|NO|CD)", r"DOC(TOR)?_?(ID|NO|CD)", r"EUISA_?(ID|NO|CD)", r"PHYS(ICIAN)?_?(ID|NO)",
                     r"USER_?ID"),
    "receipt": (r"RCPT_?(SEQ|NO|ID)", r"RECEIPT_?(NO|ID)", r"SUNAP_?(NO|SEQ)",
                # a bill's or an invoice's lines and payments (Open Hospital's BLI_ID_BILL, an INVOICE_ID)
                r"(BILL|INVOICE|INV)_?(NO|ID|SEQ)", r"(ID|NO|REF)_?(BILL|INVOICE)", r"(BILL|INVOICE)_?REF"),
    "lab_report": (r"PANEL_?(NO|ID|SEQ)", r"(LAB_?)?(RPT|REPORT)_?(NO|ID|SEQ)",
                   r"(EXAM|ORD(ER)?)_?(SET|GRP|GROUP)_?(NO|ID)"),
}
#: A record's copy of the name of its patient or of its doctor (Frappe's patient_name, practitioner_name on every
#: encounter, procedure and lab test): no other record's name or text.
_PERSON_NAME = {
    "patient": r"(PT|PAT(IENT)?|PTNT|HWANJA)_?(NM|NAME)|환자_?(명|이름|성명)",
    "practitioner": r"(DR|DOC(TOR)?|PRACTITIONER|PHYS(ICIAN)?|EUISA)_?(NM|NAME)|의사_?(명|이름|성명)",
}
#: A row's own audit stamp (when the row was written or changed, not when the care was given): Frappe's creation
#: and modified, Rails' created_at/updated_at, Care2x's create_time/modify_time.
_AUDIT_STAMP = (r"CREATION|(CREATED|MODIFIED|UPDATED|CHANGED)(_?(AT|ON|WHEN|TIME|TS|DTTM|DATETIME))?"
                r"|(CREATE|MODIFY|UPDATE|CHANGE)_?(TIME|TS|DTTM|DATETIME)|LAST_?(MODIFIED|UPDATED?)")
#: A column naming a person (OpenMRS keeps every patient, doctor and relative as a person; a patient's key is its
#: person's id): a patient link only where its values are the patients' keys (_Guesser._patient_as_person).
_PERSON_COLUMN = r"(PERSON|PRSN)_?(ID|NO|NR|KEY)?"
#: Key names every table may have: naming one is naming no table in particular (_Guesser._links_named)
_GENERIC_KEYS = frozenset({"id", "pk", "no", "seq", "key", "oid", "rowid", "uuid", "guid"})
#: A stored file's own name (GNUmed's doc_obj.filename, ORIG_FILE_NM): its extension the media type of bytes kept
#: beside it (_Guesser._media_type_from_path)
_FILE_NAME_COLUMNS = (r"(ORIG(INAL)?_?)?FILE_?(NAME|NM)", r"ORIG(INAL)?_?(NAME|NM)", r"파일(명|이름)")
_REF_TARGET = {
    "patient_id": "patient", "encounter_id": "encounter", "practitioner_id": "practitioner",
    "author_id": "practitioner", "prescriber_id": "practitioner", "performer_id": "practitioner",
    "reader_id": "practitioner", "doctor_id": "practitioner", "receipt_id": "receipt",
    "recorder_id": "practitioner",
}
#: A column of tooth numbers (a dental chart's treatment line or diagnosis): TOOTH_NO, TEETH, tooth_number, 치아번호,
#: 치식, CHIA_NO.
_TEETH = (r"TOOTH(_?(NO|NOS|NUM|NUMS|NUMBERS?|CD|CODE|LIST|SITE))?", r"TEETH(_?(NO|NOS|NUM|NUMS|NUMBERS?|LIST))?",
          r"CHIA_?(NO|NUM|BUNHO)", r"치아(_?(번호|부위))?", r"치식")


def _universal_teeth(column: ColumnProfile) -> bool:
    """Whether a tooth column's sampled values are Universal (US) tooth numbers, not FDI: nearly all readable so
    (1-32, A-T), and a tenth or more no FDI tooth at all (1-10, 19, 20, 29-32, letters). An FDI chart's 11-28 alone
    is both and stays FDI; its odd '19' is too few."""
    return column.has("us_teeth", 0.8) and column.share("us_only_teeth") >= 0.1


#: A column of tooth surfaces (MOD, DO, 근심): SURF, SURFACE, TOOTH_SURFACE, 치면, 치아면, 와동면; mapped only where
#: the sample's values read as surfaces (model.tooth_surfaces), never a body surface area.
_SURFACES = (r"(TOOTH_?|TX_?)?SURF(ACE)?S?(_?(CD|CODE|NM|TXT))?", r"CHI_?MYEON", r"치면", r"치아_?(표)?면",
             r"와동(_?면)?", r"충전_?면")
#: OpenEyes' ``hos_num`` (the hospital's number for the patient): a chart number only where one a patient in the
#: sample, never the clinic's own number on every row (HOSPITAL_NUM = its 요양기관번호)
_HOSPITAL_NUMBER = r"HOS(PITAL)?_?NUM(BER)?"
#: An eye clinic's measurements as a column names them (model.EYE_KINDS): 안압 IOP, 나안시력 VA (UCVA, VA_SC),
#: 교정시력 BCVA (VA_CC), refraction's sphere, cylinder and axis (SPH, CYL, AXIS; 구면, 난시, 축).
_EYE_MEASURE_WORDS: dict[str, str] = {
    "iop": r"(IOP|NCT|TONO(METRY)?|안압)",
    "va": r"(VA|UCVA|VA_?(SC|UC|UNCORR(ECTED)?|NAKED)|NAKED_?VA|나안시력|나안|시력)",
    "va_corrected": r"(BCVA|CVA|VA_?(CC|BC|CORR(ECTED)?)|교정시력|교정)",
    "sphere": r"(SPH|SPHERE|구면|구면굴절)",
    "cylinder": r"(CYL|CYLINDER|난시|원주)",
    "axis": r"(AXIS|AX|축)",
}
#: An eye as a column's name says it (VA_OD, IOP_L, R_SPH, 우안안압, 안압_좌).
_EYE_SIDE_WORDS = {"right": r"(OD|R|RE|RT|RIGHT|우|우안)", "left": r"(OS|L|LE|LT|LEFT|좌|좌안)"}
#: The measurement fields of one eye (``iop_right``) a column named for the measurement and the eye fits, either
#: way round (IOP_OD, OD_IOP, R_VA_CC, 안압_우); no pattern of an unsided measurement field fits one eye's column.
_EYE_HINTS: dict[str, tuple[str, ...]] = {
    f"{kind}_{side}": (rf"{words}_?{side_words}", rf"{side_words}_?{words}")
    for kind, words in _EYE_MEASURE_WORDS.items() for side, side_words in _EYE_SIDE_WORDS.items()}
#: The eye a row concerns, as a column names it (EYE, EYE_ID, EYE_SIDE, 안측, 좌우안): a side column named otherwise
#: (SIDE, 좌우, LATERALITY) may be a knee's or an ear's, never taken for an eye.
_EYE_SIDE_HINTS = (r"EYES?(_?(ID|SIDE|CD|CODE|LR|GB|TP|TYPE))?", r"SIDE_?EYE", r"LATERALITY_?EYE", r"안측|좌우안|눈")


FIELD_HINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "practitioner": {
        "name": (r"DR_?NM", r"DOC(TOR)?_?(NM|NAME)", r"(.*_)?NAME", r"(.*_)?NM", r"성명|이름"),
        "licence_kind": (r"LIC(ENSE|ENCE)?_?(KIND|GB|TYPE)",),
        "licence_number": (r"LIC(ENSE|ENCE)?_?(NO|NUM|NUMBER)", r"MYUNHEO.*"),
        "department": (r"DEPT.*", r"진료과"),
    },
    "patient": {
        "chart_number": (r"CHART_?NO", r"CHART.*", r"PT_?CHART.*", r"환자등록번호|차트번호", r"MRN",
                         r"MR_?(NO|NUM|NUMBER)", r"MED(ICAL)?_?REC(ORD)?_?(NO|NUM|NUMBER)", r"PUB_?PID",
                         r"(PT|PAT|PATIENT|HWANJA)_?NO",
                         _HOSPITAL_NUMBER),
        "name": (r"PT_?NM", r"PAT(IENT)?_?(NM|NAME)", r"(.*_)?NAME", r"(.*_)?NM", r"P_?(NM|NAME)", r"성명|이름|환자명"),
        "sex": (r"SEX.*", r"GENDER.*", r"성별"),
        "birth_date": (r"BIRTH.*", r"BRTH_?(YMD|DT|DATE|DAY)", r"DOB", r"B_?(DATE|DT|YMD)",
                       r"(DATE|DT)_?(OF_?)?BIRTH", r"SAENGIL.*",
                       r"생년월일"),
        "rrn": (r"JUMIN.*", r"RRN", r"RES(ID)?_?NO", r"SSN", r"주민.*"),
        "address": (r"ADDR.*", r"주소"),
        "phone": (r"TEL.*", r"PHONE.*", r"HP(_?NO)?", r"MOBILE.*", r"전화.*"),
        "first_visit": (r"FIRST_?VISIT.*", r"FST_?.*", r"초진.*"),
        "deceased": (r"DEAD", r"DECEASED", r"(IS_?)?DEAD_?YN", r"DEATH_?YN", r"사망여부"),
        # the date or time of death; a column named only DECEASED, DEAD or 사망 too once it is declared a date or
        # holds dates (GNUmed's dem.identity.deceased, a timestamptz: no yes/no flag, see _fits)
        "death_date": (r"DEATH_?(DATE|DT|YMD|DTTM|DATETIME|TIME|TS)", r"DOD", r"(DATE|DT)_?(OF_?)?DEATH",
                       r"DECEASED_?(DATE|DT|YMD|DTTM|DATETIME|TIME|TS|ON|AT|WHEN)", r"사망(일|시).*",
                       r"DECEASED", r"DEAD", r"DEATH", r"사망"),
        # a web application's soft-delete flag (Django/Rails is_active): false for a record no longer in use
        "active": (r"IS_?ACTIVE", r"ACTIVE(_?YN)?", r"USE_?YN", r"사용여부"),
    },
    "encounter": {
        "start": (r"VISIT_?(YMD|DT|DATE|DTTM|TS|MS)", r"VST_?(YMD|DT|DATE|DTTM|TS|MS)",
                  r"(ENC(OUNTER)?|EVENT)_?(YMD|DT|DATE|DTTM|TS)",
                  r"(JUBSU|RECEPT)_?(YMD|DT|DATE|DTTM|TS|MS)",
                  r"(IN|ADM|START)_?(YMD|DT|DATE)", r"(JINRYO|JIN|J)_?(YMD|DT|DATE|IL)", r"내원일.*|진료일.*",
                  # an admission's day, the date word first or the noun spelled out (Open Hospital's
                  # ADM_DATE_ADM, an ADMISSION_DATE, 입원일자)
                  r"(YMD|DT|DATE|DTTM)_?ADM(IT|ISSION)?", r"ADMI(T|SSION)_?(YMD|DT|DATE|DTTM)", r"입원일.*"),
        "end": (r"DISCH.*", r"DSCH_?(YMD|DT|DATE|DTTM)", r"(OUT|END)_?(YMD|DT|DATE)", r"퇴원.*",
                # a discharge day, the date word first (Open Hospital's ADM_DATE_DIS)
                r"(YMD|DT|DATE|DTTM)_?(DIS|DSCH|OUT)"),
        "kind": (r"IO_?(GB|CD|TYPE)?", r"IN_?OUT.*", r"(VISIT|VST)_?(GB|TYPE|TP)(_?CD)?"),
        "department": (r"DEPT.*", r"진료과"),
        "payer_type": (r"INS_?(GB|KIND|TYPE|CD)", r"PAYER.*", r"BOHUM.*", r"보험.*"),
        "night_or_holiday": (r"NIGHT.*", r"HOLI.*", r"YAGAN.*"),
        "reason": (r"CHIEF_?(COMPLAINTS?|CMPL|CMPLNT)", r"CC(_?(TXT|TEXT))?", r"주소증|주호소"),
        # an admission's route as recorded (외래, 응급실, 전원: Encounter.hospitalization.admitSource's text)
        "admitted_from": (r"ADM(IT|ISSION)?_?(ROUTE|PATH|FROM|SRC|SOURCE)(_?(CD|NM))?", r"입원경로.*"),
    },
    "diagnosis": {
        "code": (r"KCD.*", r"(DIAG|SANG|DX)_?(CD|CODE)", r"ICD.*", r"상병코드"),
        "text": (r"(DIAG|SANG|DX)_?(NM|NAME|TXT)", r"(.*_)?NM", r"상병명", r"NAME", r"(.*_)?DESC(RIPTION)?"),
        "primary": (r"MAIN.*", r"PRIM.*", r"JU_?SANG.*", r"JU_?YN", r"주상병.*"),
        "onset": (r"ONSET.*", r"BALBYEONG.*", r"발병.*"),
        # the teeth, FDI numbers as written ('11,12,21', '13-23'): Procedure/Condition.bodySite (model.fdi_teeth)
        "teeth": _TEETH,
        # the tooth surfaces as written ('MOD', '근심'): bodySite beside the teeth (model.tooth_surfaces)
        "surfaces": _SURFACES,
        # the eye, as written ('R', 'OU', '좌안'): Condition.bodySite (model.eye_side)
        "eye": _EYE_SIDE_HINTS,
    },
    "chart_note": {
        "recorded": (r"REC_?(DTTM|DT|YMD|DATE)", r"(WRITE|WRT|CRE|REG)_?(DTTM|DT|YMD|DATE|TS|MS)",
                     r"(NOTE|MEMO)_?(DT|DATE|DTTM|TS)"),
        "chief_complaint": (r"CC", r"CHIEF.*", r"주호소", r"S(UBJ(ECTIVE)?)?", r"S_?(TXT|TEXT|NOTE)"),
        "history": (r"HPI", r"HIST.*", r"PI", r"현병력", r"O_?(TXT|TEXT|NOTE)"),
        "course": (r"COURSE.*", r"PROGRESS.*", r"O(BJ(ECTIVE)?)?", r"경과.*", r"A_?(TXT|TEXT|NOTE)"),
        "plan": (r"PLAN.*", r"P", r"계획", r"P_?(TXT|TEXT|NOTE)"),
        "text": (r"(MEMO|NOTE|CHART)_?(TXT|TEXT|CONTENT|NAEYONG)?", r"CONTENT.*", r"NAEYONG", r"내용",
                 r"NARRATIVE"),
    },
    "order_line": {
        "ordered": (r"ORD_?(YMD|DT|DATE|DTTM)", r"RX_?(YMD|DT|DATE)", r"PRESC.*_(YMD|DT|DATE)",
                    r"CHEOBANG_?(YMD|DT|DATE|DTTM)"),
        "local_code": (r"LOCAL_?CD", r"ORD_?CD", r"SUGA_?CD", r"ITEM_?CD", r"YAK_?CD", r"DRUG_?CD"),
        "edi_code": (r"EDI.*", r"INS_?CD", r"BOHUM_?CD"),
        "name": (r"ORD_?NM", r"(DRUG|MED|ITEM)_?NM", r"(.*_)?NM", r"(.*_)?NAME", r"DRUG", r"MEDICATION"),
        # also as Windows/SQL Server EMRs abbreviate them (ORD_QTY, ONCE_QTY, 1회량, TOT_DAYS, 투약일수); a bare QTY
        # is a quantity of anything (a flag row's), no dose; a bare count (CNT, ORD_CNT, DAY_CNT: times a day in
        # some programs, days in others) is decided by its values and neighbours (_Guesser._dose_counts)
        "dose": (r"DOSE", r"(ONCE|1HOE|TUYAK|DOSE|ORD|RX|DRUG|MED)_?(QTY|AMT|RYANG)", r"(1회_?|회당_?)(투여|투약)?량",
                 r"(투여|투약)량"),
        "dose_unit": (r"DOSE_?UNIT", r"UNIT"),
        "frequency": (r"FREQ.*", r"TIMES", r"(1IL|TUYAK|DOSE|ONCE)_?CNT", r"(1일_?)?(투여|투약|복용)?횟수"),
        "days": (r"DAYS(_?(CNT|QTY))?", r"DAY_?QTY", r"(.*_)?DAYS", r"(TOT|TOTAL)_?DAYS?", r"ILSU",
                 r"(총_?)?(복용|투약|투여)?일수"),
        "route": (r"ROUTE.*", r"용법"),
        "outside_prescription": (r"OUT_?RX.*", r"OUTSIDE.*", r"WONOE.*", r"원외.*"),
    },
    "procedure": {
        "performed": (r"(PROC|TX|TREAT)_?(YMD|DT|DATE)", r"(OP|PERF|EXEC)_?(YMD|DT|DATE)",
                      r"(치료|시술|처치|수술|시행)일(자|시)?"),
        "edi_code": (r"EDI.*", r"SUGA_?CD", r"(행위|수가|보험)코드"),
        "name": (r"(PROC|TX|TREAT)_?NM", r"(.*_)?NM", r"(.*_)?NAME", r"PROC(EDURE)?(_?TEMPLATE)?",
                 r"(행위|처치|수술|시술|치료)명(칭)?"),
        "is_operation": (r"OP_?YN", r"(IS_)?OPER.*"),
        # the teeth, FDI numbers as written ('11,12,21', '13-23'): Procedure/Condition.bodySite (model.fdi_teeth)
        "teeth": _TEETH,
        # the tooth surfaces as written ('MOD', '근심'): bodySite beside the teeth (model.tooth_surfaces)
        "surfaces": _SURFACES,
    },
    "lab_result": {
        "observed": (r"RSLT_?(DTTM|DT|YMD|DATE)", r"(TEST|EXAM|OBS)_?(DTTM|DT|YMD|DATE)",
                     r"(검사|결과)_?(일자|일시|일)"),
        # the bare CODE and NAME last: an English-named result line's analyte (GNU Health's critearea: Hb, 혈색소);
        # a Korean one's 검사코드, 검사명, 결과값, 단위, 참고치
        "code": (r"TEST_?CD", r"EXAM_?CD", r"LAB_?CD", r"EDI.*", r"(TEST|EXAM|LAB)_?CODE", r"CODE",
                 r"(TEST|EXAM?)_?ID(_?A)?", r"검사_?코드"),
        "name": (r"TEST_?NM", r"EXAM_?NM", r"(.*_)?NM", r"(.*_)?(TEST|EXAM|LAB)_?NAME", r"NAME", r"검사_?(명|이름)"),
        "value": (r"RSLT_?VAL.*", r"(RESULT|RSLT|RES)(_?VALUE)?", r"VAL(UE)?",
                  r"(RESULT_?)?VAL(UE)?_?(NUM(ERIC)?|TXT|TEXT|STR(ING)?)", r"(검사_?)?결과_?(값|치)?"),
        "unit": (r"UNIT", r"(.*_)?UOM", r"단위"),
        "reference_range": (r"REF.*", r"NORMAL.*", r"참고_?(치|범위|값)", r"정상_?(치|범위)"),
        "flag": (r"HL_?FLAG", r"(.*_)?FLAG", r"HL"),
        # an outside lab (수탁검사): the lab's name and when it reported
        "performer_name": (r"(OUT|OUTSIDE|EXT|REF|SUTAK)_?(LAB|ORG|INST)_?(NM|NAME)", r"SUTAK_?(NM|NAME|ORG)",
                           r"수탁기관.*"),
        "issued": (r"(RPT|REPORT|ISSUE|ISSUED|VERIFY|VRFY)_?(DTTM|DATETIME|TS)",),
    },
    "imaging_report": {
        "performed": (r"EXAM_?(YMD|DT|DATE)", r"(IMG|RAD|SHOOT)_?(YMD|DT|DATE)"),
        "modality": (r"MODALITY", r"MOD"),
        "edi_code": (r"EDI.*",),
        "text": (r"RPT_?TXT", r"(REPORT|RPT|READ).*", r"판독.*"),
    },
    "certificate": {
        "kind": (r"CERT_?(KIND|GB|TYPE|NM)", r"KIND", r"(.*_)?GB"),
        "number": (r"CERT_?NO", r"ISSUE_?NO"),
        "issued": (r"ISSUE_?(YMD|DT|DATE)", r"CERT_?(YMD|DT|DATE)", r"발급일.*"),
        "text": (r"CERT_?TXT", r"(.*_)?TXT", r"CONTENT.*"),
    },
    "receipt": {
        "number": (r"RCPT_?NO", r"RECEIPT_?NO", r"SUNAP_?NO", r"영수증_?번호"),
        "issued": (r"(RCPT|SUNAP|PAY|ISSUE)_?(YMD|DT|DATE|DTTM|TS|MS)", r"(수납|영수|발행)_?(일자|일시|일)"),
        "covered_patient": (r"INS_?SELF.*", r"(BON|BONIN)_?.*AMT", r"SELF_?AMT", r"(급여_?)?(일부_?)?본인부담.*"),
        "covered_insurer": (r"(INS_)?CORP.*", r"GONG.*", r"(급여_?)?공단부담.*", r"공단_?청구(액|금액)?"),
        "covered_full_self": (r"FULL_?SELF.*", r"전액_?본인.*"),
        "non_covered": (r"NON_?INS.*", r"BIGUP.*", r"비급여.*"),
        "total": (r"TOT(AL)?_?AMT", r"TOTAL", r"CHONG_?(AMT|AEK)", r"(진료비_?)?총액", r"총_?진료비",
                  r"진료비_?(합계|총계)", r"(BILL|INVOICE|INV|GRAND)_?(TOTAL|AMOUNT|AMT)", _BILL_AMOUNT),
        "paid": (r"PAID.*", r"PAY_?AMT", r"(SUNAP|RCPT|RECEIPT)_?AMT", r"납부.*", r"(실_?)?(수납|영수)_?(액|금액)"),
    },
    "fee_line": {
        "service_date": (r"SVC_?(YMD|DT|DATE)", r"(SERVICE|TREAT|JINRYO)_?(YMD|DT|DATE)"),
        "category": (r"ITEM_?NM", r"CATEGORY", r"HANGMOK.*", r"항목"),
        "code": (r"EDI.*", r"SUGA_?CD", r"FEE_?CD", r"(수가|청구|보험)_?코드"),
        "name": (r"FEE_?NM", r"SUGA_?NM", r"(.*_)?NM", r"(수가|항목|코드)?_?명칭?", r"(수가|항목|코드)명",
                 r"(ITEM_?)?DESC(RIPTION)?"),
        "unit_price": (r"UNIT_?PR.*", r"PRICE", r"DANGA", r"단가"),
        "count": (r"QTY", r"CNT", r"COUNT", r"수량"),
        "days": (r"DAYS?", r"ILSU", r"일수"),
        "total": (r"TOT(AL)?_?AMT", r"AMT", r"금액", r"(ITEM_?|LINE_?)?AMOUNT"),
        "patient_share": (r"SELF_?AMT", r"BON.*AMT", r"본인부담.*"),
        "insurer_share": (r"CORP_?AMT", r"GONG.*AMT", r"공단부담.*"),
        "non_covered": (r"NON_?INS.*", r"BIGUP.*", r"비급여.*"),
        # a dental fee's teeth (치과 세부산정내역): ChargeItem.bodysite; its surfaces beside them
        "teeth": _TEETH,
        "surfaces": _SURFACES,
    },
    "attachment": {
        "created": (r"(CRE|REG|SCAN|UPLOAD|TAKE|SHOOT)_?(YMD|DT|DATE|DTTM)", r"CREATED.*",
                    r"(등록|작성|생성|촬영|스캔)(일자|일시|일)"),
        "media_type": (r"MIME.*", r"(CONTENT|FILE|MEDIA)_?(TYPE|TP)"),
        "title": (r"TITLE", r"(FILE|DOC)_?NM", r"(.*_)?NAME", r"(파일|문서)?(명|설명|제목)"),
        "content_blob": (r"FILE_?DATA", r"(.*_)?(DATA|BLOB|CONTENT|IMG|IMAGE)"),
        "content_path": (r"FILE_?PATH", r"(.*_)?(PATH|URL|FILE_?NM)", r"(파일|저장|이미지)?(경로|위치)"),
    },
    # Coded fields (relationship, code systems) are left to the contractor: their values need a map, and a wrong
    # one would quarantine rows. Only plain values are guessed here, and an allergy's category and severity when
    # every sampled value is a key of a built-in map of the words clinics use (_CODE_MAPS); a record's status only
    # where its values read as status words (_Guesser._record_status).
    "allergy": {
        "substance": (r"(ALG|ALRG|ALLERGY|ALLERGEN|SUBST(ANCE)?|DRUG|CAUSE)_?(NM|NAME)", r"ALLERGEN",
                      r"SUBSTANCE", r"(.*_)?NM", r"(.*_)?NAME", r"(원인|알레르기|알러지).*"),
        "substance_code": (r"(ALG|ALRG|ALLERGY|ALLERGEN|SUBST(ANCE)?|DRUG|CAUSE)_?(CD|CODE)", r"(ATC|EDI)_?CD"),
        "reaction": (r"REACT(ION)?(_?(NM|TXT|TEXT|DESC))?", r"SYMPTOM.*", r"(반응|증상).*"),
        # coded: written only when every sampled value is a key of a built-in map (_CODE_MAPS)
        "category": (r"(ALG|ALRG|ALLERGY|ALLERGEN)_?(GB|GUBUN|KIND|TYPE|TP|CLS|CLASS|CAT|CATEGORY)", r"CATEGORY",
                     r"(알레르기|알러지|원인)?(구분|종류|분류)"),
        "severity": (r"SEVERITY(_?(CD|GB))?", r"SEV(_?(CD|GB))?", r"(ALG|ALRG|ALLERGY)_?(SEV|GRADE|LVL|LEVEL)",
                     r"중증도|심각도"),
        "onset": (r"ONSET.*", r"(발현|발생)일.*"),
        "recorded": (r"(REC|REG|WRITE|WRT|CRE|INPUT)_?(YMD|DT|DATE|DTTM)",),
        "note": (r"(NOTE|MEMO|RMK|REMARK|COMMENT)(_?(TXT|TEXT))?", r"비고"),
    },
    "immunization": {
        "occurred": (r"(VAC|VACC|VACCINE|INJ|IMMUN|JEOPJONG|ADMIN|GIVEN)_?(YMD|DT|DATE|DTTM)", r"접종일.*"),
        "vaccine_code": (r"(VAC|VACC|VACCINE|IMMUN)_?(CD|CODE)", r"CVX(_?(CD|CODE))?", r"(VAC|VACC|VACCINE)_?ID(_?A)?"),
        "vaccine_name": (r"(VAC|VACC|VACCINE|IMMUN)_?(NM|NAME)", r"(.*_)?NM", r"백신.*"),
        "dose_number": (r"DOSE_?(NO|SEQ|NUM|ORD)", r"CHASU", r"SERIES_?(NO|SEQ)", r"차수"),
        "lot_number": (r"LOT(_?(NO|NUM|NUMBER))?", r"BATCH(_?(NO|NUM|NUMBER))?", r"제조번호|로트.*"),
        "expiration": (r"EXP(IRY|IRATION|IRE)?_?(YMD|DT|DATE)", r"유효기간.*"),
        "manufacturer": (r"MAKER(_?NM)?", r"MANUF.*", r"MFR(_?NM)?", r"제조사.*"),
        "site": (r"SITE", r"(INJ_?)?PART", r"부위"),
        "route": (r"ROUTE.*", r"(투여)?경로"),
        "dose": (r"DOSE", r"DOSE_?(QTY|AMT|VOL)"),
        "dose_unit": (r"DOSE_?UNIT", r"UNIT"),
        "status_reason": (r"(REASON|REFUSE|REFUSAL|NOT_?DONE)(_?(TXT|TEXT|NM|DESC))?", r"(사유|미접종).*"),
        "status_reason_code": (r"(REASON|REFUSE|REFUSAL|NOT_?DONE)_?(CD|CODE)",),
        # given elsewhere (타기관 접종): the clinic or health centre named, written from the patient's word
        "report_origin": (r"(OTHER|OTH|EXT|OUT|ETC)_?(INST|HOSP|ORG|CLINIC|HOSPITAL)_?(NM|NAME)?",
                          r"타(기관|병원|의료기관).*"),
    },
    "vital_signs": {
        "observed": (r"(MSR|MEAS|MEASURE|VS|CHK|CHECK|REC|TAKEN)_?(DTTM|DT|YMD|DATE|TS|TIME)", r"측정.*"),
        "systolic": (r"SBP", r"SYS(TOLIC)?(_?BP)?", r"BP_?(SYS(TOLIC)?|HIGH|MAX|H)", r"(AP|PA|ABP)_?(SYS|MAX)",
                     r"수축기.*"),
        "diastolic": (r"DBP", r"DIA(STOLIC)?(_?BP)?", r"BP_?(DIA(STOLIC)?|LOW|MIN|L)", r"(AP|PA|ABP)_?(DIA|MIN)",
                      r"이완기.*"),
        # BPM, RESPIRATORY_RATE, OSAT: GNU Health's evaluation columns, as English-named EMRs write them
        "pulse": (r"PR", r"PULSE(_?RATE)?", r"HR", r"HEART_?RATE", r"BPM", r"맥박.*"),
        "respiration": (r"RR", r"RESP(IRATION|IRATORY)?(_?RATE)?", r"호흡.*"),
        "temperature": (r"BT", r"TEMP(ERATURE)?", r"BODY_?TEMP(ERATURE)?", r"체온.*"),
        "weight": (r"BW", r"WT", r"WEIGHT", r"BODY_?WEIGHT", r"체중|몸무게"),
        "height": (r"BH", r"HT", r"HEIGHT", r"BODY_?HEIGHT", r"신장|키"),
        "bmi": (r"BMI",),
        "spo2": (r"SPO2", r"SAO2", r"O2_?SAT(URATION)?", r"O_?SAT", r"SAT(URATION)?", r"산소포화도"),
        "waist": (r"WAIST(_?(CIRC|SIZE))?", r"허리둘레"),
        "head": (r"HEAD(_?CIRC)?", r"HC", r"머리둘레|두위"),
        # an eye clinic's: each eye's (IOP_OD, VA_OS), and one eye's whose eye a side column says (IOP beside EYE)
        **_EYE_HINTS,
        **{kind: (words,) for kind, words in _EYE_MEASURE_WORDS.items()},
        "eye": _EYE_SIDE_HINTS,
        "note": (r"(NOTE|MEMO|RMK|REMARK|COMMENT)(_?(TXT|TEXT))?", r"비고"),
    },
    "coverage": {
        "payer_type": (r"(INS|INSUR|PAYER|BOHUM|COVER(AGE)?)_?(GB|KIND|TYPE|TP|CD|CLASS)",
                       r"(보험|자격)(구분|종류|유형)"),
        "payer_name": (r"(INS|INSUR|INSURER|PAYER|BOHUM)_?(NM|NAME)", r"보험자.*"),
        "insured_number": (r"(INS|INSURED|INSUR|CARD|BOHUM|MEMBER)_?(NO|NUM|NUMBER)", r"(증|카드)번호"),
        "subscriber_name": (r"(HOLDER|SUBSCRIBER|SEDAEJU|HEAD)_?(NM|NAME)", r"세대주.*|가입자.*"),
        "valid_from": (r"(FROM|START|BEGIN|ACQ|VALID_?FROM|EFF)_?(YMD|DT|DATE)", r"취득일.*|시작일.*"),
        "valid_to": (r"(TO|END|LOSS|VALID_?TO|EXPIRE|EXP)_?(YMD|DT|DATE)", r"상실일.*|종료일.*"),
    },
    "medication_statement": {
        "name": (r"(DRUG|MED|MEDICATION|YAK)_?(NM|NAME)", r"(.*_)?NM", r"(.*_)?NAME", r"약(품)?명"),
        "edi_code": (r"EDI.*", r"(INS|BOHUM)_?CD"),
        "local_code": (r"(DRUG|MED|MEDICATION|YAK)_?(CD|CODE)",),
        "dosage": (r"DOSAGE.*", r"SIG", r"USAGE", r"YONGBEOP", r"용법.*"),
        "started": (r"(FROM|START|BEGIN)_?(YMD|DT|DATE)", r"(복용)?시작일.*"),
        "ended": (r"(TO|END|STOP)_?(YMD|DT|DATE)", r"(중단|종료)일.*"),
        "recorded": (r"(REC|REG|WRITE|WRT|CRE|INPUT)_?(YMD|DT|DATE|DTTM)",),
        "note": (r"(NOTE|MEMO|RMK|REMARK|COMMENT)(_?(TXT|TEXT))?", r"비고"),
    },
    "payment": {
        "paid": (r"(PAY|PAID|SETTLE|GYEOLJE|GYULJE|APPR|APPROVAL)_?(DTTM|DT|YMD|DATE|TS|TIME)",
                 r"결제_?(일시|일자|일|시각|시간)", r"승인_?(일시|일자)"),
        "amount": (r"(PAY|PAID|SETTLE|GYEOLJE|GYULJE)_?(AMT|AMOUNT)", r"AMT", r"AMOUNT", r"결제_?(금액|액)", r"금액"),
        "method_text": (r"(PAY|PAYMENT|SETTLE|GYEOLJE|GYULJE)_?(METHOD|MTHD|TYPE|TP|GB|KIND)", r"METHOD",
                        r"결제_?(수단|방법|구분|종류)", r"(수단|방법)"),
        "approval_number": (r"(APPR|APPROVAL|AUTH|SEUNGIN)_?(NO|NUM|NUMBER)", r"(카드)?_?승인_?번호"),
        "cash_receipt_number": (r"CASH_?(RCPT|RECEIPT|RCT)_?(NO|NUM|NUMBER|ID)?",
                                r"현금_?영수증_?(번호|신분확인번호|승인번호)?"),
    },
    "appointment": {
        # the booked day or moment: named for the booking, then a start, then any date (the required-date fallback
        # puts the row's audit stamps last); a time of day kept in a column of its own is read with it
        # (_Guesser._time_beside_date: 예약일자 + 예약시간)
        "start": (rf"{_BOOKING}_?(YMD|DT|DATE|DTTM|DATETIME|TS|DAY|AT|ON|TIME|START(_?(YMD|DT|DATE|DTTM|DATETIME|TS|"
                  r"TIME))?)", r"(START|BEGIN|FROM)_?(YMD|DT|DATE|DTTM|DATETIME|TS|AT|TIME)",
                  r"(EVENT|SLOT|VISIT|VST)_?(YMD|DT|DATE|DTTM|DATETIME|TS)", r"예약_?(일시|일자|일|날짜|시각)",
                  r"(.*_)?(YMD|DT|DATE|DTTM|DATETIME)", r"일시|일자|날짜"),
        "end": (rf"({_BOOKING}_?)?(END|FINISH|TO|UNTIL)_?(YMD|DT|DATE|DTTM|DATETIME|TS|AT|TIME)",
                r"(예약_?)?(종료|끝)_?(일시|시각)"),
        # minutes, as named; a bare DURATION only on a column of whole numbers (_Guesser._booking_minutes)
        "minutes": (r"(DURATION|DUR|LENGTH|LEN|SLOT|TIME)_?(MIN|MINS|MINUTE|MINUTES|M)", r"(MIN|MINS|MINUTES)",
                    r"DURATION", r"소요_?(시간|분)?(_?분)?", r"(예약|진료)_?분"),
        "department": (r"DEPT.*", r"DEPARTMENT.*", r"진료과.*"),
        "service_type": (rf"({_BOOKING}|VISIT|VST|SERVICE|SVC)_?(TYPE|TP|GB|KIND|CAT|CATEGORY)(_?(NM|NAME))?",
                         r"(예약|진료|내원)_?(구분|종류|유형)"),
        "reason": (rf"({_BOOKING}_?)?(REASON|PURPOSE|PURP)(_?(TXT|TEXT|DESC|NM|NAME))?", r"CHIEF_?COMPLAINTS?",
                   r"(예약|내원)?_?(사유|목적|이유)", r"주호소|주소증"),
        "note": (rf"({_BOOKING}_?)?(NOTE|NOTES|MEMO|RMK|REMARK|REMARKS|COMMENT|COMMENTS)(_?(TXT|TEXT))?",
                 r"(예약_?)?(메모|비고)"),
        "created": (r"(REG|CRE|CREATED?|INPUT|WRITE|WRT|ENTRY|ENTERED|BOOKED|MADE)_?"
                    r"(YMD|DT|DATE|DTTM|DATETIME|TS|AT|ON)",
                    r"CREATION",
                    r"(등록|작성|입력)_?(일시|일자|일)"),
    },
    "lab_report": {
        "effective": (r"(RPT|REPORT|PANEL|EXAM|TEST|RSLT|RESULT)_?(DTTM|DT|YMD|DATE|TS)", r"보고일.*|검사일.*"),
        "issued": (r"(ISSUE|ISSUED|VERIFY|VRFY|CONFIRM)_?(DTTM|DT|TS)",),
        "code": (r"(PANEL|RPT|REPORT|EXAM|TEST)_?(CD|CODE)",),
        "name": (r"(PANEL|RPT|REPORT|EXAM|TEST)_?(NM|NAME)", r"(.*_)?NM"),
        "conclusion": (r"CONCL(USION)?.*", r"(RSLT|RESULT)_?(TXT|TEXT|OPINION)", r"OPINION", r"(소견|결론).*"),
    },
}

#: The entities the scaffold guesses: every canonical entity with hints (the later clinical-record ones too:
#: allergy, immunization, vital_signs, coverage, medication_statement, lab_report; their coded fields are left to
#: the contractor, their statuses read by _Guesser._record_status and the deletion/correction flags; lab_report's
#: result list comes from each lab result's report_id, wired by _back_references where the sample says so).
SCAFFOLD_ENTITIES: tuple[str, ...] = tuple(e for e in model.ENTITY_ORDER if e in FIELD_HINTS)

# Code maps written for common Korean EMR conventions (constants, not values read from the database):
# a field is written only when every sampled value is one of a map's keys (the first such map of the field's).
_CODE_MAPS: dict[tuple[str, str], tuple[dict[str, str], ...]] = {
    ("patient", "sex"): (
        {"M": "male", "F": "female", "1": "male", "2": "female", "3": "male", "4": "female", "남": "male",
         "여": "female"},
        # a web application's own words (a PostgreSQL enum, Django/Rails choices)
        {"male": "male", "female": "female", "other": "other", "unknown": "unknown"},
        {"Male": "male", "Female": "female", "Other": "other", "Unknown": "unknown"},
        # HL7 administrative sex letters (an in-house EMR's enum 'M', 'F', 'U'): only where the first map's
        # keys do not cover the values (a U or an O), so a clinic of M and F keeps the map it had
        {"M": "male", "F": "female", "O": "other", "U": "unknown"},
        # the same letters in lower case, as Tryton/GNU Health's selection stores them ('m', 'f'; 'nb' non-binary
        # and 'other' are FHIR's "other")
        {"m": "male", "f": "female", "o": "other", "nb": "other", "other": "other", "u": "unknown"},
    ),
    ("encounter", "kind"): (
        {"O": "outpatient", "I": "inpatient", "외래": "outpatient", "입원": "inpatient"},
        # the names a common-code table gives a visit's kind (VST_TP: 외래/입원/응급): an emergency-room visit not
        # admitted is an outpatient one, as the claim that pays it (외래 명세서); the code is carried raw as well
        {"외래": "outpatient", "입원": "inpatient", "응급": "outpatient", "응급실": "outpatient"},
    ),
    # an allergy's kind and severity as Korean EMR screens word them (약물/음식/환경, 경증/중등/중증), or FHIR's own
    ("allergy", "category"): (
        {"약물": "medication", "약제": "medication", "의약품": "medication", "음식": "food", "식품": "food",
         "환경": "environment", "생물": "biologic", "생물학적제제": "biologic"},
        {"medication": "medication", "food": "food", "environment": "environment", "biologic": "biologic"},
    ),
    ("allergy", "severity"): (
        {"경증": "mild", "경도": "mild", "중등": "moderate", "중등도": "moderate", "중등증": "moderate",
         "중증": "severe", "고도": "severe"},
        {"mild": "mild", "moderate": "moderate", "severe": "severe"},
    ),
}
_DATE_SHAPES = ("yyyymmdd", "yyyymmddhhmmss", "iso_date", "iso_datetime", "iso_minute", "dotted_date", "yymmdd",
                "us_date", "dmon_date", "dmon_long_date", "iso_datetime_fraction",
                "epoch_s", "epoch_ms", "julian", "iso_offset", "iso_t_local", *_KO_FORMATS)
#: format = "…" written on a field for the shapes [source] formats do not cover
_FIELD_FORMATS: dict[str, str | tuple[str, ...]] = {
    "yymmdd": "%y%m%d", "epoch_s": "epoch", "epoch_ms": "epoch_ms", "julian": "julian",
    "iso_offset": ISO_OFFSET_FORMATS, "iso_t_local": ISO_T_FORMATS}
#: the shapes of ISO-8601 date-times, with an offset or without (a column of apps that wrote both)
_ISO_SHAPES = ("iso_offset", "iso_t_local", "iso_datetime", "iso_minute", "iso_datetime_fraction")


@dataclass(slots=True)
class FieldGuess:
    field: str
    column: str
    type: str
    why: str
    required: bool = False
    ref: str | None = None
    map: dict[str, str | bool] | None = None
    format: str | tuple[str, ...] | None = None
    columns: tuple[str, ...] = ()
    join: str = ""
    #: A reference whose values are the parent's keys only once rewritten (see :func:`_key_form_sql`): the form,
    #: and the engine it is written for; the field is then ``expr``, not ``column``.
    key_form: tuple[str, int] | None = None
    engine: str = ""
    #: A ``blob`` field on a column holding large objects' numbers (PostgreSQL ``oid``, ``lo``): the field reads
    #: the object's bytes, ``expr = { postgresql = "lo_get(<column>)" }`` (the number stays a cell of its own).
    large_object: bool = False
    #: A ``file`` field whose sampled paths are absolute: the folders they share (``[attachments]
    #: stored_prefixes``), and why. Kept for connector.toml only, never in PROFILE.md.
    stored_prefixes: tuple[str, ...] = ()
    prefixes_why: str = ""
    #: ``tz`` of a date/time field whose column says its times are UTC (dtVisitUTC, created_utc)
    tz: str = ""
    #: A blood pressure kept as one text '120/80': 1 (systolic) or 2 (diastolic), the part read out by ``expr``
    #: (:func:`_bp_part_sql`, for ``engine``); the column itself is carried raw as written.
    bp_part: int = 0
    #: A value read out of the JSON object kept in ``column`` (``vitals->>'pulse'``): its keys, the SQL for
    #: ``engine`` (:func:`json_columns.lift_sql`); with ``bp_part``, the blood pressure's part of that value. The
    #: column itself is carried raw as written (keys no field reads are kept).
    json_keys: tuple[str, ...] = ()
    #: With ``json_keys``: an object or list kept under the key is read as its JSON text (a note's part), not NULL
    json_nested: bool = False
    #: With ``json_keys`` on MariaDB/MySQL: how the server reads a value (drivers.json_value_reading)
    json_reading: str = JSON_VALUE
    #: A computed field's SQL expression (``expr``; a patient's merged_into read from a merge table)
    expr: str = ""
    #: A constant (``value``: a visit's main diagnosis read out of its visit row, ``primary = { value = true }``)
    value: str | bool = ""
    #: What the contractor must check (a status map leaving sampled values unread): a ``# CHECK`` line
    check: str = ""


#: A prescription line's count named neither for times a day nor for days (CNT, ORD_CNT, DAY_CNT, 횟수일수):
#: decided by its values (:meth:`_Guesser._dose_counts`)
_AMBIGUOUS_COUNT = (r"(.*_)?CNT", r"COUNT")

#: A patient's column naming the chart it was merged into (환자 통합), and a merge table with its old and new chart
#: columns (full-match patterns on the upper-case name or its words).
_MERGE_COLUMN = (r"(.*_)?MERGED?_?(INTO|TO|TARGET|PT_?(NO|ID)|PAT(IENT)?_?(NO|ID)|CHART_?(NO|ID)|NO|ID)?",
                 r"MRG_?(INTO|TO|PT_?(NO|ID)|CHART_?NO|NO)", r"(NEW|SURVIV(OR|ING))_?(PT|PAT|PATIENT|CHART)_?(NO|ID)",
                 r"(통합|병합)(차트|환자)?(번호)?")
_MERGE_TABLE = r"(.*_)?(MERGE[DS]?|MRG|통합|병합)(_.*)?|.*(MERGE|통합|병합).*"
_MERGE_OLD = r"(OLD|FROM|SRC|SOURCE|BEFORE|PREV|ORIG)_?.*|.*_(OLD|FROM)|이전.*|기존.*"
_MERGE_NEW = r"(NEW|TO|TGT|TARGET|AFTER|INTO|SURVIV(OR|ING)|MAIN)_?.*|.*_(NEW|TO|INTO)|신규.*|대표.*|통합.*"


def _merge_table(table: TableProfile) -> tuple[str, str] | None:
    """(old, new) chart columns of a table named as a merge of charts (chart_merge(old_no, new_no, merged_at)),
    or None: by name only; the scaffold maps it only where both hold the patient table's chart numbers."""
    if not _name_fits(_MERGE_TABLE, table.bare, table=True):
        return None
    olds = [c.name for c in table.columns if c.non_empty and _name_fits(_MERGE_OLD, c)]
    news = [c.name for c in table.columns if c.non_empty and _name_fits(_MERGE_NEW, c)]
    return (olds[0], news[0]) if len(olds) == 1 and len(news) == 1 and olds != news else None


#: Words of a table's name that say it is an earlier generation of the records or a copy of them.
_SUPERSEDED = frozenset({"OLD", "BAK", "BACKUP", "BK", "ARCHIVE", "ARCH", "ARC", "PREV", "PREVIOUS", "LEGACY",
                         "TMP", "TEMP", "COPY", "DELETED", "DEL"})

#: Words of a table's name that say it keeps one row per change of another table's rows (patient_hist, visit_log,
#: tblPatientHistory, 환자이력): the change history beside the live table, never the records themselves.
_HISTORY = frozenset({"HIST", "HISTORY", "HISTORIES", "LOG", "LOGS", "AUDIT", "CHG", "CHANGE", "CHANGES",
                      "JOURNAL", "TRAIL", "VERSIONS"})
#: Columns a history table adds to its table's: what was done to the row (I/U/D) and when it was changed.
_HISTORY_OP = (r"(.*_)?(OP|OPER|OPERATION|ACTION|DML(_?(TYPE|GB|CD))?|"
               r"(CHG|CHANGE|HIST|LOG|AUDIT)_?(TYPE|GB|CD|KIND|OP))|변경구분")
_HISTORY_AT = (r"(CHANGED|CHG|CHANGE|HIST|LOG|AUDIT|OP)_?(AT|ON|DT|DTTM|DATE|DATETIME|TS|YMD|YMDHMS|TIME)|"
               r"변경일(시|자)?")


#: The column a versioned copy of a table adds to its table's: when the row was superseded.
_VERSION_AT = r"VERSION_?(AT|ON|DT|DTTM|DATE|DATETIME|TS|TIME)"


def _versioned_copy(table: TableProfile) -> bool:
    """Whether ``table`` is a versioned copy of another table's rows: named ``…_version`` with the time each version
    was superseded (OpenEyes' ``patient_version``: every column of ``patient`` plus ``version_date`` and its key
    ``version_id``)."""
    words = _words(table.bare, table=True).split("_")
    return len(words) > 1 and words[-1] == "VERSION" and any(_name_fits(_VERSION_AT, c) for c in table.columns)


def _history_table(table: TableProfile) -> bool:
    """Whether ``table`` is a change history (one row per change of another table's rows): named so, or with both
    the operation and the time of each change as columns, or a versioned copy (:func:`_versioned_copy`)."""
    if _HISTORY & set(_words(table.bare, table=True).split("_")) or "이력" in table.bare or _versioned_copy(table):
        return True
    return (any(_name_fits(_HISTORY_OP, c) for c in table.columns)
            and any(_name_fits(_HISTORY_AT, c) for c in table.columns))


#: A soft-delete flag (del_yn = 'Y', is_deleted = 1, 삭제여부): the row was deleted in the EMR but kept, as the law may
#: require; never a date (deleted_at) nor who deleted it. OpenMRS and its kin say ``voided`` (1: voided, kept).
_DELETION_FLAG = (r"(IS_?)?DEL(ETE|ETED)?_?(YN|FLAG|FLG|FG|GB|YESNO)?", r"(IS_?)?REMOVED(_?YN)?",
                  r"(IS_?)?VOID(ED)?(_?(YN|FLAG))?", r"삭제(여부|구분|유무)?")
#: An in-use flag of a record's row (a diagnosis's USE_YN, 사용여부 'N'/'0'): the soft-delete flag the other way round,
#: the row no longer in use was deleted (read so only on an entity with a status; a patient's is ``active``).
#: Never ``ACTIVE``/``IS_ACTIVE``: on a diagnosis or an allergy that is the clinical status, not a deletion.
_IN_USE_ROW = r"USE_?(YN|FLAG|FLG|FG|YESNO)|사용(여부|유무)"
#: Where "in use" is whether the record is current, not whether its row was deleted: an insurance no longer the
#: patient's (a past 자격), a drug no longer taken (복용약 사용여부 'N'). Such a flag is no soft delete (carried raw).
_IN_USE_IS_CURRENT = frozenset({"coverage", "medication_statement"})
#: A row's status column (Care2x's ``status`` on every table) that is a soft delete when its every sampled value
#: is one of the words below (compared in lower case), at least one of them saying the row was deleted.
_DELETION_STATUS = r"((REC(ORD)?|ROW|DEL(ETE)?)_?)?(STATUS|STAT|STS)"
_DELETED_WORDS = frozenset({"deleted", "delete", "void", "voided", "hidden", "removed", "삭제"})
_KEPT_WORDS = frozenset({"normal", "active", "live", "정상"})
#: The written pairs of such a flag, (deleted, not deleted); a flag is mapped only when each sampled value is in one.
_DELETION_PAIRS = (("Y", "N"), ("y", "n"), ("1", "0"), ("T", "F"), ("true", "false"), ("True", "False"),
                   ("TRUE", "FALSE"), ("예", "아니오"), ("예", "아니요"))

#: A correction flag (corr_yn = 'Y', 정정여부): the row is a corrected result, the one that replaced an earlier one.
_CORRECTION_FLAG = (r"(IS_?)?(CORR|CORRECT|CORRECTED|CORRECTION|AMEND|AMENDED)_?(YN|FLAG|FLG|FG|GB|YESNO)?",
                    r"(정정|수정)(여부|구분|유무)")

#: A record's status column (TX_STAT, visit_status, 진행상태, Frappe's docstatus, CANCEL_YN, 취소여부; the ``state``
#: of an ORM's workflow, Odoo's and Tryton's draft/confirmed/done/cancel): read for what its values say (planned,
#: done, cancelled …) where the scaffold can read them (:meth:`_Guesser._record_status`); a ``state`` of no status
#: word (an address's 'CA') is never read, as it is named for no record's own status (:data:`_OWN_STATUS`).
_RECORD_STATUS = (r"((REC(ORD)?|ROW|DEL(ETE)?)_?)?(STATUS|STAT|STS|STATE)",
                  r"([A-Z0-9]+_?)?(STATUS|STAT|STS|STATE)(_?(CD|CODE))?",
                  r"(진행|처리|진료|예약|접수|처방|검사|시술|치료|수납)?상태(코드|구분|값)?", r"진행(구분|단계)")
#: A record's own status by name (``STATUS``, ``REC_STAT``, ``VST_STAT_CD`` on the table whose columns all start
#: ``VST_``, 진행상태): read even when none of its values is a status word, unlike ``BMI_STATUS`` or ``PAY_STATUS``.
_OWN_STATUS = (r"((REC(ORD)?|ROW)_?)?(STATUS|STAT|STS)(_?(CD|CODE))?", r"(진행|진료|처리)?상태(코드|구분|값)?")
#: A Frappe/ERPNext ``docstatus`` (0 draft, 1 submitted, 2 cancelled): the only name whose numbers are read.
_DOC_STATUS = r"DOC_?STATUS"
#: A cancellation flag (CANCEL_YN = 'Y', 취소여부): 'Y' a cancelled record, 'N' an ordinary one.
_CANCEL_FLAG = (r"(IS_?)?(CANCEL|CANCELED|CANCELLED|CNCL|CANC|CXL)_?(YN|FLAG|FLG|FG|GB|YESNO)?",
                r"취소(여부|구분|유무)")
#: What a status word says, one of: planned, arrived, in-progress, done, cancelled, draft, error (compared in lower
#: case, blanks and hyphens as spaces); Korean EMRs' 예약/접수/진료중/완료/취소 among them.
_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("plan", "planned", "scheduled", "booked", "reserved", "계획", "예약", "예정", "치료계획"),
                    "planned"),
    **dict.fromkeys(("arrived", "checked in", "check in", "waiting", "접수", "내원", "대기", "수진대기"), "arrived"),
    **dict.fromkeys(("in progress", "inprogress", "ongoing", "started", "open", "진료중", "진행", "진행중", "처치중",
                     "검사중", "시술중", "치료중"), "in-progress"),
    **dict.fromkeys(("done", "completed", "complete", "finished", "closed", "checked out", "approved", "signed",
                     "완료", "종료", "진료완료", "시행", "실시", "처치완료", "치료완료", "검사완료", "시술완료"),
                    "done"),
    **dict.fromkeys(("cancelled", "canceled", "cancel", "취소", "예약취소", "진료취소", "접수취소"), "cancelled"),
    **dict.fromkeys(("draft", "임시", "임시저장"), "draft"),
    **dict.fromkeys(("entered in error", "error", "오류", "오입력", "deleted", "void", "voided", "삭제", "삭제됨"),
                    "error"),
}
#: Words only a booking's status says (read on the appointment entity alone: a visit table's 부도 or an order's
#: 'confirmed' stays as it was read before): a patient who did not come, a booking confirmed, one on a waiting list.
_BOOKING_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("no show", "noshow", "부도", "노쇼", "미내원", "불참", "미방문", "예약부도"), "noshow"),
    **dict.fromkeys(("confirmed", "confirm", "확정", "예약확정", "예약완료"), "planned"),
    **dict.fromkeys(("waitlist", "wait list", "waiting list", "대기예약", "예약대기"), "waitlist"),
    **dict.fromkeys(("checked in", "check in", "접수완료"), "checked-in"),
    **dict.fromkeys(("fulfilled", "내원완료"), "done"),
}
#: Codes read only as a whole set, two of them at least sampled, the set's first code among them: P/D/C (planned,
#: done, cancelled: a treatment plan's), O/C/D (open, closed, deleted: Open Hospital's BLL_STATUS, a bill's). A
#: sample of C and D alone reads as the first set.
_STATUS_LETTER_SETS: tuple[tuple[dict[str, str], str], ...] = (
    ({"P": "planned", "D": "done", "C": "cancelled"}, "P/D/C (planned, done, cancelled)"),
    ({"O": "in-progress", "C": "done", "D": "error"}, "O/C/D (open, closed, deleted)"),
)
#: What each entity's FHIR status is for such a word ("": the resource's usual status, an ordinary record); a word
#: an entity has no status for is kept as recorded. Procedure: planned → preparation, cancelled → not-done (never
#: done); Encounter: done → finished; MedicationRequest/ServiceRequest: planned → draft; Observation: done → final.
_STATUS_OF: dict[str, dict[str, str]] = {
    "procedure": {"planned": "preparation", "arrived": "preparation", "in-progress": "in-progress", "done": "completed",
                  "cancelled": "not-done"},
    "encounter": {"planned": "planned", "arrived": "arrived", "in-progress": "in-progress", "done": "finished",
                  "cancelled": "cancelled"},
    "order_line": {"planned": "draft", "draft": "draft", "arrived": "active", "in-progress": "active",
                   "done": "completed", "cancelled": "cancelled"},
    "lab_result": {"planned": "registered", "arrived": "registered", "in-progress": "preliminary",
                   "draft": "preliminary", "done": "final", "cancelled": "cancelled"},
    "immunization": {"done": "completed", "cancelled": "not-done"},
    # an open bill (not paid off yet) is an issued Invoice, as a closed one
    "receipt": {"draft": "draft", "in-progress": "", "done": "", "cancelled": "cancelled"},
    "coverage": {"draft": "draft", "in-progress": "active", "done": "", "cancelled": "cancelled"},
    # a booking: 예약 booked, 접수/내원 arrived, 진료중 arrived (the patient came), 완료 fulfilled, 취소 cancelled,
    # 부도 noshow (_BOOKING_STATUS_WORDS); never an Encounter's status
    "appointment": {"planned": "booked", "arrived": "arrived", "checked-in": "checked-in", "in-progress": "arrived",
                    "done": "fulfilled", "cancelled": "cancelled", "draft": "proposed", "noshow": "noshow",
                    "waitlist": "waitlist"},
}
_STATUS_OF["vital_signs"] = _STATUS_OF["lab_report"] = _STATUS_OF["lab_result"]
_STATUS_OF["payment"] = _STATUS_OF["coverage"]
#: The entities whose resource writes a status it cannot read as ``unknown`` (the others' value sets have none:
#: there the usual status, the value kept as recorded beside it); the ``# CHECK`` line says which.
_STATUS_UNKNOWN_OK = frozenset({"procedure", "encounter", "order_line", "lab_result", "vital_signs", "lab_report"})

#: A column holding a part of a person's name (family, given, middle, maiden): never the whole name.
_PART_NAME = (r"(F|FIRST|GIVEN|L|LAST|FAMILY|SUR|MIDDLE|M|MAIDEN|BIRTH)_?(NAME|NM)"
              r"|NAME_?(FIRST|GIVEN|LAST|FAMILY|SUR|MIDDLE|MAIDEN|BIRTH|\d+|OTHERS?)")

#: The map a bool field on an Access yes/no column gets (-1 is yes, as Access and Visual Basic write True).
_ACCESS_YES_NO: dict[str, str | bool] = {"-1": True, "0": False}

#: Engines a key's form can be rewritten on by SQL (scaffold: a child's 1 for its parent's '0000001').
_KEY_FORM_ENGINES = ("sqlite", "sqlite-odbc", "mariadb", "postgresql")


#: A column keeping blood pressure as one text (BP '120/80', 혈압).
_BP_COLUMN = (r"(.*_)?BP", r"BLOOD_?PRESS(URE)?", r"혈압")


def _bp_part_sql(engine: str, part: int, column: str) -> str:
    """The systolic (``part`` 1) or diastolic (2) number of a blood pressure written '120/80' in ``column``; NULL
    where the text has no '/' (an empty or odd cell is no measurement; the cell is carried raw as written). A text
    with no digit at all ('측정 안 함', 'refused') is the systolic part as written: no number, so a field defect,
    and a set left with no measurement says why it has none (dataAbsentReason, pipeline/fhir.py); a lone number
    ('120') is not guessed to be either part."""
    if engine in ("sqlite", "sqlite-odbc"):
        at = f"instr({column}, '/')"
        return (f"CASE WHEN {at} > 0 THEN trim(substr({column}, 1, {at} - 1)) WHEN {column} GLOB '*[0-9]*' THEN NULL "
                f"ELSE trim({column}) END" if part == 1
                else f"CASE WHEN {at} > 0 THEN trim(substr({column}, {at} + 1)) END")
    if engine == "postgresql":
        text = f"trim(split_part({column}, '/', {part}))"
        return (f"CASE WHEN strpos({column}, '/') > 0 THEN {text} WHEN {column} ~ '[0-9]' THEN NULL "
                f"ELSE trim({column}) END" if part == 1 else f"CASE WHEN strpos({column}, '/') > 0 THEN {text} END")
    at = f"LOCATE('/', {column})"
    return (f"CASE WHEN {at} > 0 THEN TRIM(SUBSTRING_INDEX({column}, '/', 1)) WHEN {column} REGEXP '[0-9]' THEN "
            f"NULL ELSE TRIM({column}) END" if part == 1
            else f"CASE WHEN {at} > 0 THEN TRIM(SUBSTRING({column}, {at} + 1)) END")


#: The measurement fields of a vital-signs set (a blood pressure is its two parts).
_BODY_MEASUREMENTS = ("systolic", "diastolic", *model.VITAL_KINDS)
#: ... and an eye clinic's (each eye's, or the eye a side column says; no JSON key is read as one).
_VITAL_MEASUREMENTS = (*_BODY_MEASUREMENTS, *model.EYE_FIELDS)


def _json_vital_keys(engine: str, column: ColumnProfile,
                     have: Collection[str]) -> list[tuple[str, tuple[str, ...], int, str]]:
    """The vital signs kept as keys of the JSON objects in ``column`` (``{"bp": "120/80", "pulse": 72}``, ``{"혈압":
    …, "맥박": …}``): (field, keys, blood-pressure part, why) for each measurement not in ``have`` whose keys' names
    are the field's (the hints of FIELD_HINTS, Korean too; every such key, the most held first: one measurement
    written ``bp`` by one screen and ``혈압`` by another) and whose sampled values are numbers (a blood pressure:
    '120/80' texts), 80 % of them at least. None unless most sampled values are JSON objects and two measurements
    or more are found (one key named like a vital sign in a settings object is no set of measurements)."""
    keys = column.json
    if (engine not in LIFT_ENGINES or not json_column_type(engine, column.type_name)
            or not IDENTIFIER.match(column.name) or column.name.upper() in SQL_RESERVED or not column.non_empty
            or keys.objects < 0.5 * column.non_empty):
        return []
    found: list[tuple[str, tuple[str, ...], int, str]] = []
    taken: set[str] = set()
    ranked = sorted(keys.keys.items(), key=lambda item: (-item[1].held, item[0]))

    def said(names: list[str]) -> str:
        return ", ".join(f"{keys.keys[k].held} of {keys.objects} sampled objects of {column.name} hold the key {k!r}"
                         for k in names)

    for name in _BODY_MEASUREMENTS:
        if name in have or (name == "diastolic" and any(f == "systolic" and part for f, _, part, _ in found)):
            continue
        bp = [k for k, count in ranked if k not in taken and LIFTABLE_KEY.fullmatch(k) and name == "systolic"
              and count.bp_text >= 0.8 * count.held and any(_name_fits(p, k) for p in _BP_COLUMN)]
        if bp:
            why = f"{said(bp)}, named as a blood pressure, its values '120/80' texts: the {{}} number read out"
            found += [("systolic", tuple(bp), 1, why.format("systolic")),
                      ("diastolic", tuple(bp), 2, why.format("diastolic"))]
            taken.update(bp)
            continue
        fit = [k for k, count in ranked if k not in taken and LIFTABLE_KEY.fullmatch(k)
               and count.numbers >= 0.8 * count.held
               and any(_name_fits(p, k) for p in FIELD_HINTS["vital_signs"][name])]
        if fit:
            found.append((name, tuple(fit), 0, f"{said(fit)}, named as the {name}, its values numbers: read out"))
            taken.update(fit)
    return found if len({f for f, *_ in found} - {"diastolic"}) >= 2 else []


#: The parts of a SOAP note kept as keys of one JSON document (``{"s": …, "o": …, "a": …, "p": …}``, ``{"주관적": …,
#: "객관적": …, "평가": …, "계획": …}``), in the chart note's fields as a table's S_TXT/O_TXT/A_TXT/P_TXT columns are
#: (S the chief complaint, O the history, A the course, P the plan: the note's sections in S/O/A/P order).
_NOTE_KEYS: dict[str, str] = {
    "chief_complaint": r"S|SUBJ(ECTIVE)?|CC|CHIEF_?COMPLAINT|주관적?(소견)?|주호소|증상",
    "history": r"O|OBJ(ECTIVE)?|HPI|HISTORY|객관적?(소견)?|현병력|소견",
    "course": r"A|ASSESS(MENT)?|IMPRESSION|COURSE|PROGRESS|평가|사정|경과",
    "plan": r"P|PLAN|계획|치료계획",
}


def _json_note_keys(engine: str, column: ColumnProfile) -> list[tuple[str, tuple[str, ...], str]]:
    """The parts of a SOAP note kept as keys of the JSON objects in ``column`` (:data:`_NOTE_KEYS`): (field, keys,
    why) for each part whose keys (every spelling, the most held first) hold text, an object or a list (a number
    is no note). None unless most sampled values are JSON objects and three parts or more are found (``{"a": 1,
    "p": 2}`` in a settings object is no note)."""
    keys = column.json
    if (engine not in LIFT_ENGINES or not json_column_type(engine, column.type_name)
            or not IDENTIFIER.match(column.name) or column.name.upper() in SQL_RESERVED or not column.non_empty
            or keys.objects < 0.5 * column.non_empty):
        return []
    ranked = sorted(keys.keys.items(), key=lambda item: (-(item[1].held + item[1].nested), item[0]))
    found: list[tuple[str, tuple[str, ...], str]] = []
    for name, pattern in _NOTE_KEYS.items():
        fit = tuple(k for k, count in ranked if LIFTABLE_KEY.fullmatch(k) and re.fullmatch(pattern, k.upper())
                    and count.numbers <= 0.5 * count.held)
        if fit:
            held = ", ".join(f"{keys.keys[k].held + keys.keys[k].nested} of {keys.objects} sampled objects of "
                             f"{column.name} hold the key {k!r}" for k in fit)
            found.append((name, fit, f"{held}, a SOAP note's part: read out as text (an object or list as its JSON)"))
    return found if len(found) >= 3 else []


#: The lab analytes a row may keep as a column of its own (a check-up row's GLU, TCHOL …): analyte → (its column
#: names, the name the Observation's code.text takes, the unit the column implies — a check-up form's, never stored
#: — and its LOINC code where one is certain, else None: code.text alone). The LOINC codes were looked up, not
#: recalled (docs/fhir-mapping.md, "Lab values kept as columns"); HDL and LDL (direct or calculated?), eGFR (which
#: equation?) and the urine protein strip's grade are left uncoded rather than guessed.
LAB_ANALYTES: dict[str, tuple[tuple[str, ...], str, str | None, str | None]] = {
    "glucose": ((r"GLU(COSE)?", r"FBS", r"FBG", r"FAST(ING)?_?(GLU(COSE)?|BS|BST)", r"(공복)?혈당"), "혈당",
                "mg/dL", "2345-7"),
    "total_cholesterol": ((r"T_?CHOL", r"TOT(AL)?_?CHOL(ESTEROL)?", r"CHOL(ESTEROL)?(_?T(OTAL)?)?",
                           r"총_?콜레스테롤"), "총콜레스테롤", "mg/dL", "2093-3"),
    "hdl": ((r"HDL(_?C(HOL(ESTEROL)?)?)?", r"HDL_?콜레스테롤"), "HDL 콜레스테롤", "mg/dL", None),
    "ldl": ((r"LDL(_?C(HOL(ESTEROL)?)?)?", r"LDL_?콜레스테롤"), "LDL 콜레스테롤", "mg/dL", None),
    "triglyceride": ((r"TG", r"TRIG(LYCERIDES?)?", r"중성지방"), "중성지방", "mg/dL", "2571-8"),
    "ast": ((r"AST", r"S?GOT", r"AST_?S?GOT"), "AST(SGOT)", "U/L", "1920-8"),
    "alt": ((r"ALT", r"S?GPT", r"ALT_?S?GPT"), "ALT(SGPT)", "U/L", "1742-6"),
    "ggt": ((r"GGT", r"[RG]_?GTP", r"GAMMA_?G?GTP?", r"감마_?지티피"), "감마지티피", "U/L", "2324-2"),
    "hemoglobin": ((r"HGB", r"HB", r"HEMOGLOBIN", r"혈색소"), "혈색소", "g/dL", "718-7"),
    "creatinine": ((r"CREAT(ININE)?", r"S_?CREA?T?", r"(혈청)?_?크레아티닌"), "혈청크레아티닌", "mg/dL", "2160-0"),
    "egfr": ((r"E_?GFR", r"GFR", r"신사구체여과율"), "신사구체여과율(eGFR)", "mL/min/1.73m2", None),
    "urine_protein": ((r"(U|URINE)_?PRO(TEIN)?", r"요_?단백"), "요단백", None, None),
}


#: A check-up row's other findings kept as columns of their own, beside its lab values (국가건강검진: each ear's
#: hearing, the chest X-ray's reading, the overall verdict, the questionnaire's answers): finding → (its column
#: names, the Observation's code.text, its FHIR observation-category, the unit a number in it implies, the SNOMED CT
#: body structure it is of). No LOINC code is claimed (none was verified for a finding as a check-up row records
#: it: docs/fhir-mapping.md, "A check-up row's other findings"); the ear codes were looked up (model.BODY_SITES).
_RIGHT = r"(R|RT|RIGHT|AD)"
_LEFT = r"(L|LT|LEFT|AS)"
_RESULT = r"(_?(결과|판정|소견|판독|구분|코드|CD|RESULT|RSLT|FINDINGS?|READ(ING)?|JUDG(E|MENT)?))?"
_ANSWER = r"(_?(YN|FLAG|STAT(US)?|여부|유무|상태|력))?"
CHECKUP_FINDINGS: dict[str, tuple[tuple[str, ...], str, str, str | None, str | None]] = {
    "hearing_right": ((r"청력_?(우|우측|우이)", r"(우|우측|우이)_?청력", rf"HEAR(ING)?_?{_RIGHT}",
                       rf"{_RIGHT}_?HEAR(ING)?", rf"AUDIO(METRY)?_?{_RIGHT}"), "청력", "exam", "dB", "25577004"),
    "hearing_left": ((r"청력_?(좌|좌측|좌이)", r"(좌|좌측|좌이)_?청력", rf"HEAR(ING)?_?{_LEFT}",
                      rf"{_LEFT}_?HEAR(ING)?", rf"AUDIO(METRY)?_?{_LEFT}"), "청력", "exam", "dB", "89644007"),
    "chest_xray": ((rf"흉부_?(방사선|X_?(선|RAY)|엑스(선|레이)|촬영|사진){_RESULT}", rf"CXR{_RESULT}",
                    rf"CHEST_?(X_?RAY|XR|PA){_RESULT}", r"CHEST_?(RESULT|RSLT|FINDINGS?|READ(ING)?)"),
                   "흉부방사선검사", "imaging", None, None),
    "verdict": ((r"종합_?판정(_?(결과|구분|코드|CD))?", r"판정(_?(결과|구분|코드|CD))?",
                 r"(TOT(AL)?|FINAL|OVERALL)_?(JUDG(E|MENT)?|PANJ(EONG|UNG)?|VERDICT|OPINION)(_?(CD|CODE))?",
                 r"(JUDG(E|MENT)|PANJ(EONG|UNG))(_?(RESULT|CD|CODE))?"), "종합판정", "exam", None, None),
    "smoking": ((rf"(Q_?)?SMOK(E|ING|ER){_ANSWER}", rf"(문진_?)?흡연{_ANSWER}"), "흡연", "social-history", None, None),
    "drinking": ((rf"(Q_?)?(DRINK(ING)?|ALCOHOL){_ANSWER}", rf"(문진_?)?음주{_ANSWER}"), "음주", "social-history",
                 None, None),
    "exercise": ((rf"(Q_?)?(EXER(CISE)?|PHYS(ICAL)?_?ACT(IVITY)?){_ANSWER}", rf"(문진_?)?(운동|신체활동){_ANSWER}"),
                 "운동", "social-history", None, None),
}
#: The questionnaire's past-history check boxes (과거력_고혈압, HX_DM, STROKE_HX): disease → (its Korean name, its
#: Korean words, its English words); each a finding ``history_<disease>`` of category survey (an answer of the
#: questionnaire, not a diagnosis: 'N' is an answer too), code.text ``과거력 <name>``
_PAST_HISTORY: dict[str, tuple[str, str, str]] = {
    "hypertension": ("고혈압", r"고혈압", r"HTN|HT|HYPERTENSION|HBP"),
    "diabetes": ("당뇨병", r"당뇨(병)?", r"DM|DIABETES"),
    "dyslipidemia": ("이상지질혈증", r"이상지질혈증|고지혈증", r"DYSLIPID(EMIA)?|HYPERLIPID(EMIA)?|HLD"),
    "stroke": ("뇌졸중", r"뇌졸중|뇌졸증|중풍", r"STROKE|CVA"),
    "heart_disease": ("심장병", r"심장(병|질환)|심근경색|협심증", r"HEART(_?DISEASE)?|CAD|IHD|MI|ANGINA"),
    "tuberculosis": ("폐결핵", r"(폐)?결핵", r"TB|TUBERCULOSIS"),
    "cancer": ("암", r"암", r"CANCER|CA|MALIGNANCY"),
}
CHECKUP_FINDINGS.update({
    f"history_{disease}": ((rf"(문진_?)?(과거력|병력|기왕력|진단력)_?({ko})(_?(여부|유무|진단))?",
                            rf"({ko})_?(과거력|병력|기왕력|진단력)(_?(여부|유무))?",
                            rf"(Q_?)?(HX|PMH|PHX|PAST_?HX|PAST_?HIST(ORY)?)_?({en})(_?YN)?",
                            rf"(Q_?)?({en})_?(HX|HIST(ORY)?)(_?YN)?"), f"과거력 {name}", "survey", None, None)
    for disease, (name, ko, en) in _PAST_HISTORY.items()})

#: The word ending a date's or a time's column name, taken off to compare what each is of (_same_moment)
_MOMENT_WORD = re.compile(r"_?(YMD|DATE|DT|DTTM|DAY|YYYYMMDD|TIME|TM|HHMM|HHMMSS|HMS|HOUR)$"
                          r"|(일자|일시|날짜|시간|시각|일)$")


def _same_moment(date: str, time: str) -> bool:
    """Whether a time column may be the time of day of a date column by their names: the words before the date
    and time words are the same (VISIT_DATE, VISIT_TIME; 내원일자, 내원시간), or one of them has none (VST_DT beside
    TIME); not REG_TIME beside BIRTH_DATE, nor 접수시간 beside 생년월일."""
    stems = [_MOMENT_WORD.sub("", _words(n)).strip("_") for n in (date, time)]
    return not stems[0] or not stems[1] or stems[0] == stems[1]


def _day_time_formats(column: ColumnProfile | None) -> tuple[str, ...]:
    """The ``format`` patterns of a day and a time of day kept in two columns, read together joined by a space: each
    way the day column's sampled values are written, with each way clinics write a time (:data:`_TIME_FORMATS`)."""
    day_formats = [fmt for shape, fmt in _SOURCE_DATE_FORMATS if column is not None and column.shapes.get(
        shape)] or ["%Y-%m-%d"]
    return tuple(f"{day} {time}" for day in day_formats for time in _TIME_FORMATS)


def _visit_day(start: FieldGuess, names: Collection[str]) -> FieldGuess | None:
    """The visit's date as a section reading its rows again takes it: ``start`` itself where it reads one plain
    column of the visit table; its date column alone (which [source] date_formats read) where the EMR keeps the
    time of day beside it (VISIT_DATE CHAR(8) and VISIT_TIME CHAR(6), read together: :meth:`_time_beside_date`);
    else None (read through a query, a join or an expression)."""
    if start.expr or (start.join and start.join != " ") or start.key_form or start.bp_part or start.large_object:
        return None
    if not start.columns:
        return start if start.column in names else None
    if len(start.columns) == 2 and start.type == "datetime" and all(c in names for c in start.columns):
        return dataclasses.replace(start, column=start.columns[0], columns=(), join="", type="date", format=None)
    return None


def _visit_links(key: str, patient: FieldGuess, start: FieldGuess, when: str) -> list[FieldGuess]:
    """A section reading the visit rows again: its patient the visit's, its encounter the visit itself (``key``),
    its time (``when``: observed, recorded) the visit's date."""
    return [dataclasses.replace(patient, why=f"the visit's patient ({patient.why})", required=True),
            FieldGuess("encounter_id", key, "ref", "the visit itself", ref="encounter"),
            dataclasses.replace(start, field=when, why=f"the visit's time ({start.why})", required=True)]


def _key_form_sql(engine: str, form: tuple[str, int], column: str) -> str:
    """``column`` (SQL) rewritten into its parent's key form: ``("pad", W)``, an integer (or digits) written
    zero-padded to W digits as the parent's text keys are ('0000123'); ``("number", 0)``, zero-padded digits read
    as the parent's integer keys; ``("upper", 0)`` / ``("lower", 0)``, text keys in the case the parent's are all
    written in (a uniqueidentifier moved to CHAR(36): '5EED…' in one table, '5eed…' in another); ``("trim", 0)``,
    the value without the spaces around it (as the export compares a reference, by its ``key_text``)."""
    kind, width = form
    if kind == "trim":  # spaces around the value, which a key's text (key_text) never has
        return f"TRIM({column})"
    if kind in ("upper", "lower"):  # a GUID written in the other case (SQL Server compares them ignoring it)
        return f"{kind.upper()}({column})"
    if kind == "pad":
        if engine in ("sqlite", "sqlite-odbc"):
            return f"printf('%0{width}d', {column})"
        if engine == "postgresql":
            return f"LPAD(CAST({column} AS TEXT), {width}, '0')"
        return f"LPAD({column}, {width}, '0')"
    if engine in ("sqlite", "sqlite-odbc"):
        return f"CAST({column} AS INTEGER)"
    if engine == "postgresql":
        return f"CAST({column} AS BIGINT)"
    return f"CAST({column} AS SIGNED)"


def _ref_value(ref: FieldGuess, alias: str) -> str:
    """The SQL of a reference's value in a query over its table as ``alias`` (rewritten into its key form)."""
    column = f"{alias}.{ref.column}"
    return column if ref.key_form is None else _key_form_sql(ref.engine, ref.key_form, column)


@dataclass(slots=True)
class EntityGuess:
    entity: str
    table: str | None
    key: str | list[str] | None = None
    why: str = ""
    key_why: str = ""
    query: str | None = None
    query_why: str = ""
    fields: list[FieldGuess] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required fields no column was found for
    problems: list[str] = field(default_factory=list)
    #: columns no field may name (not plain identifiers, or SQL reserved words): carried raw, said why
    unnamable: list[str] = field(default_factory=list)
    #: columns of CP949 text the server declares latin1, read as bytes by the query (``CAST … AS BINARY``)
    latin1_cast: list[str] = field(default_factory=list)
    #: what the contractor must know about columns no field reads (counts and names only, never a value)
    notes: list[str] = field(default_factory=list)
    #: columns no field reads that the contractor must decide (a prescription's count: times a day or days?):
    #: ``# CHECK`` lines
    checks: list[str] = field(default_factory=list)
    #: values joined in from dictionary tables (:meth:`_Guesser._from_dictionary`): sub-queries of the select list,
    #: the section's table written as ``\x01`` (its alias in whatever query the section ends up with), and why
    lookups: list[str] = field(default_factory=list)
    lookups_why: str = ""
    #: a section of its own beside the entity's (``[entities.<section>]`` with ``entity = …``): a measurement
    #: table's rows of one type (authoring/eav.py), or a further table of the entity of another shape
    #: (:meth:`_Guesser._kin_sections`, ``diagnosis_conditions``); "" for the entity's own section
    section: str = ""
    #: why the section's rows are carried whole, not mapped (``carry = "…"``: no fields); None: mapped
    carry: str | None = None
    #: rows per page where not the export's default (``page_size = …``), and why
    page_size: int | None = None
    page_size_why: str = ""

    @property
    def usable(self) -> bool:
        return bool(self.table and self.key and not self.missing and not self.problems)


#: Rows per page of a section reading the elements of a JSON array as rows (:meth:`_Guesser._prescription_json_items`):
#: the most a connector may give (connectors/spec.py), each page a read of every document of the table.
ELEMENT_PAGE_ROWS = 100_000


#: Words reserved in the SQL of at least one supported engine that a clinic's schema may well use as a name
#: (the export leaves a connector's names unquoted, docs/connectors.md "Limits of the declarative format").
SQL_RESERVED = frozenset({
    "ALL", "ALTER", "AND", "ANY", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "CHECK", "COLUMN", "CONSTRAINT",
    "CREATE", "CROSS", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DEFAULT", "DELETE",
    "DESC", "DISTINCT", "DROP", "ELSE", "END", "EXCEPT", "EXISTS", "FALSE", "FETCH", "FOR", "FOREIGN", "FROM",
    "FULL", "GRANT", "GROUP", "HAVING", "IN", "INDEX", "INNER", "INSERT", "INTERSECT", "INTO", "IS", "JOIN", "KEY",
    "KEYS", "LEFT", "LIKE", "LIMIT", "NATURAL", "NOT", "NULL", "OFFSET", "ON", "OR", "ORDER", "OUTER", "PRIMARY",
    "REFERENCES", "RIGHT", "ROWS", "SELECT", "SESSION_USER", "SET", "SOME", "TABLE", "THEN", "TO", "TRUE", "UNION",
    "UNIQUE", "UPDATE", "USER", "USING", "VALUES", "WHEN", "WHERE", "WITH",
})


#: Hungarian prefixes of names written the SQL Server / Access way (tblPatient, dtVisit, bIsActive, nvcMemo,
#: mnFee): a table's, dropped; a date's, written as the _DT suffix the hints know (dtVisit: VISIT_DT).
_HUNGARIAN_TABLE = frozenset({"tbl", "tb", "t", "vw"})
_HUNGARIAN_DATE = frozenset({"dt", "sdt", "dtm", "d", "ts"})
_HUNGARIAN_VALUE = frozenset({"b", "bit", "yn", "n", "nvc", "nv", "nc", "vc", "c", "ch", "chr", "str", "s", "sz",
                              "txt", "i", "int", "l", "lng", "si", "ti", "mn", "m", "cur", "dbl", "dec", "f", "flt",
                              "num", "g", "guid", "uid", "img", "bin", "vb", "x", "xml", "memo", "o", "obj"})


def _words(name: str, table: bool = False) -> str:
    """A name written in CamelCase or Hungarian notation (``PatientID``, ``dtVisitUTC``, ``tblPatient``), as
    the upper-case, ``_``-separated words the hints are written for (``PATIENT_ID``, ``VISIT_UTC_DT``,
    ``PATIENT``). Other names (``PT_NO``, ``visit_dt``, Hangul) are only upper-cased."""
    if not re.fullmatch(r"[A-Za-z0-9_ ]+", name):  # Hangul, or a dot, a hyphen (sms.log): as it is written
        return name.upper()
    words: list[str] = []
    for n, chunk in enumerate(p for p in re.split(r"[_\s]+", name) if p):
        split = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z0-9]+", chunk)
        if n == 0 and len(split) > 1 and split[0].islower():
            prefix = split[0]
            if table and prefix in _HUNGARIAN_TABLE:
                split = split[1:]
            elif not table and prefix in _HUNGARIAN_DATE:
                split = [*split[1:], "DT"]
            elif not table and prefix in _HUNGARIAN_VALUE:
                split = split[1:]
        words += split
    if table and len(words) > 1 and words[0].upper() in ("TBL", "TB"):
        words = words[1:]  # TBL_PATIENT
    return "_".join(words).upper() or name.upper()


def _kcd_coded(table: TableProfile) -> str | None:
    """A column named as a code (``code``, ``…_cd``) most of whose sampled values look like KCD/ICD codes (J00,
    E11.9): a table of diagnosis codes whatever its name (Frappe's ``tabCodification Table``, a child of the
    encounter). Its name, or None."""
    return next((c.name for c in table.columns if not c.primary_key and _name_fits(r"(.*_)?(CD|CODE)", c.name)
                 and c.has("kcd", 0.8)), None)


def _name_fits(pattern: str, name: str | ColumnProfile, table: bool = False) -> bool:
    """Whether a column or table name fits a hint's pattern, as written or as its words (:func:`_words`); a
    column's also as its own name, without the prefix every column of its table starts with (``OPD_PAT_ID``:
    ``PAT_ID``; :func:`column_prefix`)."""
    if isinstance(name, ColumnProfile):
        return _name_fits(pattern, name.name) or bool(name.own and _name_fits(pattern, name.own))
    return bool(re.fullmatch(pattern, name.upper()) or re.fullmatch(pattern, name)
                or re.fullmatch(pattern, _words(name, table)))


def _name_matches(pattern: str, column: ColumnProfile) -> str:
    """Why a column was taken for a field by its name: the pattern it fits, and the prefix left out where only its
    own name fits (:func:`column_prefix`)."""
    if column.own and not _name_fits(pattern, column.name):
        prefix = column.name[:len(column.name) - len(column.own)]
        return f"column name after its table's column prefix {prefix} matches {pattern}"
    return f"column name matches {pattern}"


def _parts(name: str) -> list[str]:
    """The table name and its words, upper case, each also in the singular (VISITS, ALLERGIES: VISIT, ALLERGY)."""
    upper = name.upper()
    words = _words(name, table=True)
    parts = [upper, *[p for p in re.split(r"[_\s]+", upper) if p]]
    if words != upper:  # tblPatient: PATIENT; tblVisitOld: VISIT_OLD, VISIT, OLD
        parts += [words, *[p for p in words.split("_") if p]]
    # a patient's records named as one upper-case word (PATIENTVACCINE, PATIENTALLERGY): the kind after it
    parts += [p[len(glued):] for p in list(parts) for glued in ("PATIENT",)
              if p.startswith(glued) and len(p) >= len(glued) + 3 and p.isalpha()]
    singular = [p[:-3] + "Y" if p.endswith("IES") else p[:-1] for p in parts
                if len(p) > 3 and p.endswith("S") and not p.endswith("SS")]
    return parts + singular


#: Names that say the entity only as a table's whole name (tblEvents too), never as a word of a longer one
#: (event_type, adverse_event, event_log): an event-based EMR's encounters (OpenEyes' ``event``: one examination,
#: operation note or letter, in an episode of care, with its ``event_date``).
_WHOLE_NAME_HINTS: dict[str, tuple[str, ...]] = {"encounter": ("EVENT",)}


def _table_hint(entity: str, table: str) -> str | None:
    parts = _parts(table)
    for hint in TABLE_HINTS[entity]:
        if hint.upper() in parts or (not hint.isascii() and hint in table):
            return hint
    words = _words(table, table=True)
    return next((hint for hint in _WHOLE_NAME_HINTS.get(entity, ()) if words in (hint, hint + "S")), None)


def _better_named_for(entity: str, table: str, hint: str) -> list[str]:
    """The other entities whose hint names ``table`` more closely (a longer match) than ``hint`` does."""
    return [other for other in TABLE_HINTS if other != entity
            and (other_hint := _table_hint(other, table)) is not None and len(other_hint) > len(hint)]


#: times of day as Korean EMR screens write them beside a date: 오후 3:05, 오후 3:05:10, 15:05, 15:05:00, 1505
_TIME_FORMATS = ("%p %I:%M", "%p %I:%M:%S", "%H:%M", "%H:%M:%S", "%H%M", "%H%M%S")


def _holds_datetime(entity: str, name: str) -> bool:
    """Whether the record's field can hold a date-time (Encounter.start can; a birth date cannot)."""
    return "datetime" in str(typing.get_type_hints(model.ENTITY_TYPES[entity]).get(name))


def _iso_share(column: ColumnProfile) -> float:
    """Share of sampled values that are ISO-8601 date-times, with a UTC offset or without."""
    return sum(column.share(s) for s in _ISO_SHAPES)


def _date_like(column: ColumnProfile) -> bool:
    declared = column.type_name
    return any(column.has(s, 0.8) for s in _DATE_SHAPES) or declared.startswith(("DATE", "TIMESTAMP")) or (
        column.non_empty > 0 and column.dated >= 0.8 * column.non_empty) or (  # dates written in several ways
        column.shapes.get("iso_offset", 0) > 0 and _iso_share(column) >= 0.8)  # with an offset and without


def _time_type(column: ColumnProfile, field_type: Any) -> str:
    """``date`` or ``datetime`` for a column that holds a date."""
    allows_datetime = "datetime" in str(field_type)
    holds_time = column.has("yyyymmddhhmmss", 0.5) or column.has("iso_datetime", 0.5) or column.has(
        "iso_minute", 0.5) or column.has(
        "iso_datetime_fraction", 0.5) or any(column.has(s, 0.5) for s in _KO_DATETIME_SHAPES) or (
        column.type_name.startswith(("DATETIME", "TIMESTAMP"))) or column.has("epoch_s", 0.5) or column.has(
        "epoch_ms", 0.5) or column.has("julian_time", 0.5) or _iso_share(column) >= 0.5 or (
        column.non_empty > 0 and column.timed >= 0.5 * column.non_empty)
    return "datetime" if allows_datetime and holds_time else "date"


def _field_format(column: ColumnProfile) -> tuple[str | tuple[str, ...] | None, str]:
    """A field ``format`` for shapes the [source] formats do not cover, with the share of values that fit.

    A column where any sampled value names its UTC offset is read with the offset formats only: a value without
    one is then no date the field reads (kept raw, or its row quarantined, with the reason), never taken for
    clinic time beside values that say which zone they are in ('…Z' is 9 hours before Korean time)."""
    offset = column.shapes.get("iso_offset", 0)
    if offset and _iso_share(column) >= 0.8:
        why = f"; {offset} of {column.non_empty} sampled values are {SHAPES['iso_offset']}, read as the instant " \
              "they name"
        bare = column.non_empty - offset
        if bare:
            why += (f"; the other {bare} have no UTC offset: which zone they are in is unknown, so they are not "
                    "read (kept raw with their reason, or the row quarantined), not guessed to be Korean time")
        return ISO_OFFSET_FORMATS, why
    for shape, fmt in _FIELD_FORMATS.items():
        if column.has(shape, 0.8):
            return fmt, f"; {100 * column.share(shape):.0f} % of {column.non_empty} sampled values are {SHAPES[shape]}"
    return None, ""


def _record_fields(entity: str) -> list[tuple[str, Any, bool]]:
    """(field name, annotation, required) of a canonical record, in declaration order."""
    record = model.ENTITY_TYPES[entity]
    hints = typing.get_type_hints(record)
    out = []
    for f in dataclasses.fields(record):
        if f.name in FRAMEWORK_FIELDS or f.name in ("status", "rrn_missing_reason", "amends_id", "other_codes",
                                                     "encrypted", "kcd_edition", "merged_into"):
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if entity == "attachment" and f.name == "content":
            out += [("content_blob", bytes, False), ("content_path", str, False)]
            continue
        out.append((f.name, hints[f.name], required))
    return out


def _field_type(entity: str, name: str, annotation: Any, column: ColumnProfile) -> str:
    text = str(annotation)
    if name == "rrn":
        return "rrn"
    if name == "content_blob":
        return "blob"
    if name == "content_path":
        return "file"
    if "datetime.date" in text or "dt.date" in text or annotation is dt.date:
        return _time_type(column, annotation)
    if annotation is bool or text.split("|")[0].strip() in ("bool", "<class 'bool'>"):  # also bool | None
        return "bool"
    if "Decimal" in text:
        return "decimal"
    if annotation is int or "int" in text.split("|")[0]:
        return "int"
    return "text"


#: PostgreSQL column types holding large objects' numbers (:attr:`DriverCaps.large_object_types`).
_LARGE_OBJECT_TYPES = frozenset({"OID", "LO"})


#: Declared types of dates and times (DATE, DATETIME2, DATETIMEOFFSET, SMALLDATETIME, TIMESTAMPTZ, TIME …) and of
#: yes/no flags (BOOLEAN, BOOL, BIT, YESNO): a column of the one is never guessed for a field of the other.
_TIME_TYPES = ("DATE", "TIME", "SMALLDATETIME", "INTERVAL")
_FLAG_TYPES = ("BOOL", "BIT", "YESNO")


def _fits(column: ColumnProfile, field_type: str, percent: bool = False) -> bool:
    """Whether the sampled values are compatible with the field's transform (an empty column fits); ``percent``: the
    field is a vital sign in % (SpO2), whose transform reads '98%' too."""
    if column.type_name.upper() == "COMPOSITE" or column.type_name.startswith("_"):
        # a PostgreSQL composite type's row ('("서울","가상로 1길",01234)') or an array ('{페니실린,NULL}'): its
        # text is no address, name or code (was: a composite address column guessed as the patient's address,
        # Patient.address.text the row literal); carried raw, for the contractor to read out in a query
        return False
    declared = column.type_name.upper()
    if field_type == "bool" and declared.startswith(_TIME_TYPES):
        return False  # a date or time (GNUmed's deceased timestamptz) is no yes/no flag, even with no value sampled
    if field_type in ("date", "datetime") and declared.startswith(_FLAG_TYPES):
        return False  # nor is a yes/no flag a date
    if column.non_empty == 0:
        return True
    if field_type in ("date", "datetime"):
        return _date_like(column)
    if field_type == "bool":
        return column.has("yn", 0.99) or column.has("access_yn", 0.99)
    if field_type in ("int", "decimal"):
        if column.has("epoch_s", 0.5) or column.has("epoch_ms", 0.5) or column.has("julian", 0.8):
            return False  # a Unix time or a Julian day, not an amount
        if field_type == "decimal" and (column.share("amount_text") + column.share("number")
                                        + column.share("decimal_comma") + column.share("fraction")) >= 0.8:
            # Amounts kept as text, with or without commas (12,000 beside 15000): the decimal transform reads
            # both; a stray value (a refund written in words) is a field defect of its row, not a lost column.
            return True
        if field_type == "decimal" and percent and column.share("percent") + column.share("number") >= 0.8:
            return True
        return column.numeric == column.non_empty or column.has("number", 1.0) or column.type_name.startswith(
            ("INT", "NUM", "DEC", "REAL", "FLOAT", "DOUBLE", "MONEY", "BIGINT", "SMALLINT"))
    if field_type == "rrn":
        return column.has("rrn", 0.5)
    if field_type == "blob":
        return column.is_binary or column.type_name in ("BLOB", "BYTEA", "VARBINARY", "LONGBLOB", "IMAGE") \
            or column.type_name.upper() in _LARGE_OBJECT_TYPES
    return not column.is_binary


#: Fields that hold a name or a text, never a number: a column of an integer type is not guessed for them.
_NAMED_FIELDS = frozenset({"name", "text", "substance", "reaction", "title"})
_INTEGER_TYPE = re.compile(r"((BIG|SMALL|TINY|MEDIUM)?INT(EGER|\d)?|(BIG|SMALL)?SERIAL\d?|COUNTER)\b")


def _free_text_words(name: str) -> tuple[bool, set[str], list[str]] | None:
    """Whether the column ``name`` says it holds free text (:data:`_FREE_TEXT_STRONG`, :data:`_FREE_TEXT_WEAK`), and
    then whether strongly, and the words of what it is the text of (ASCII words; the Hangul left of a word once its
    markers and name endings are taken off: 약품 of 약품명_기타). None: no such word."""
    words = _words(name)
    strong = _FREE_TEXT_STRONG.search(words) is not None
    rest = _FREE_TEXT_STRONG.sub("_", words)
    parts = {w for w in rest.split("_") if w} - _NAME_NOISE - _DICTIONARY_ANY
    if not strong and not parts & _FREE_TEXT_WEAK and not any(k in rest for k in _FREE_TEXT_WEAK_KO):
        return None
    endings = r"명칭|명|코드|이름|입력|" + "|".join(_FREE_TEXT_WEAK_KO)
    korean = [re.sub(endings, "", w) for w in parts if not w.isascii()]
    return strong, {w for w in parts - _FREE_TEXT_WEAK if w.isascii()}, [k for k in korean if k]


def _integer_typed(column: ColumnProfile) -> bool:
    """Whether the column is declared an integer (INT4, BIGINT, SMALLINT …: an id, a count; no text in it)."""
    return _INTEGER_TYPE.match(column.type_name.upper()) is not None


#: Declared types of numbers (PostgreSQL's numeric, double precision; MariaDB's decimal, mediumint …): no blank in them
_NUMBER_TYPE = re.compile(r"(BIG|SMALL|TINY|MEDIUM)?INT|NUM|DEC|REAL|FLOAT|DOUBLE|(SMALL)?MONEY|(BIG|SMALL)?SERIAL")


def _set_sql(column: ColumnProfile) -> str:
    """The SQL test that ``X.<column>`` holds a value: not NULL, and for a column of text not blank (the vendor's
    ``''``); a column declared a number is never blank, and PostgreSQL has no TRIM of a number."""
    if _integer_typed(column) or _NUMBER_TYPE.match(column.type_name.upper()):
        return f"X.{column.name} IS NOT NULL"
    return f"X.{column.name} IS NOT NULL AND TRIM(X.{column.name}) <> ''"


#: Fields of which a record needs at least one (pipeline/fhir.py refuses it otherwise, as unmappable).
_ONE_OF_FIELDS: dict[str, tuple[str, ...]] = {
    "diagnosis": model.REQUIRED_ONE_OF[model.Diagnosis],  # a diagnosis written only as text has no code
    "attachment": ("content_blob", "content_path"),
    "order_line": ("edi_code", "local_code", "name"),
    "procedure": ("edi_code", "name"),
    "lab_result": ("code", "name"),
    "fee_line": ("code", "name"),
    "immunization": ("vaccine_code", "vaccine_name"),
    "medication_statement": ("edi_code", "local_code", "name"),
}
#: Column patterns any table's name column fits (a maker's, a file's, a code's name): no evidence of a kind, for a
#: table whose name says nothing of it (Guesser.tables_for).
_BARE_NAME_PATTERNS = frozenset({r"(.*_)?NM", r"(.*_)?NAME"})
#: Dictionary tables (a drug, a disease, a vaccine, a lab test's type, a concept): per entity, the code field and the
#: name field a dictionary's row gives a record that holds only its id, and the words that name such a dictionary or
#: the record's column pointing at it (:meth:`_Guesser._from_dictionary`).
_DICTIONARY_FIELDS: dict[str, tuple[str, str, frozenset[str]]] = {
    "diagnosis": ("code", "text", frozenset({"DIAG", "DIAGNOSIS", "DX", "PATHOLOGY", "DISEASE", "CONDITION", "PROBLEM",
                                             "ICD", "KCD", "SANG", "SANGBYEONG"})),
    "allergy": ("substance_code", "substance", frozenset({"ALLERGEN", "ALLERGY", "ALG", "ALRG", "SUBSTANCE", "SUBST",
                                                          "CAUSE", "DRUG", "MEDICAMENT", "MEDICATION"})),
    "immunization": ("vaccine_code", "vaccine_name", frozenset({"VACCINE", "VACC", "VAC", "IMMUN", "IMMUNIZATION",
                                                                "MEDICAMENT", "DRUG", "PRODUCT"})),
    "order_line": ("local_code", "name", frozenset({"DRUG", "MEDICAMENT", "MEDICATION", "MED", "ITEM", "PRODUCT",
                                                    "YAK", "ORDERABLE"})),
    "medication_statement": ("local_code", "name", frozenset({"DRUG", "MEDICAMENT", "MEDICATION", "MED", "PRODUCT",
                                                              "YAK"})),
    "lab_result": ("code", "name", frozenset({"TEST", "EXAM", "ANALYTE", "LAB"})),
    "lab_report": ("code", "name", frozenset({"TEST", "EXAM", "PANEL"})),
}
#: words of a dictionary of any kind: a terminology's concepts and terms, a code table
_DICTIONARY_ANY = frozenset({"CONCEPT", "TERM", "CODE", "CODED"})
#: words of a column that say only that it is a key (drug_inventory_id names the drug table by DRUG)
_LINK_NOISE = frozenset({"ID", "NO", "CD", "CODE", "CODED", "KEY", "SEQ", "FK", "NUM", "NUMBER", "TYPE", "KIND",
                         "CLASS", "STATUS", "GB", "TP"})
#: words of a column that say it holds the record's kind (fk_type, kind_id)
_KIND_WORDS = frozenset({"TYPE", "KIND", "CLASS"})


def _chart_rows(table: TableProfile) -> bool:
    """Whether a table's rows are records of a chart, each naming its patient or its visit (GNUmed's clin.episode
    and its fk_encounter): no dictionary of codes, whatever its name."""
    return any(not c.primary_key and _name_fits(p, c) for target in ("patient", "encounter")
               for p in _REF_PATTERNS[target] for c in table.columns)


#: words of an integer column that holds a number of its own, not an id (dx_rank, sort_weight)
_NOT_AN_ID = frozenset({"RANK", "PRIORITY", "COUNT", "CNT", "QTY", "QUANTITY", "DOSE", "DAYS", "DURATION", "AMOUNT",
                        "AMT", "SORT", "WEIGHT", "LEVEL", "SEQUENCE", "ORDINAL", "VERSION", "AGE"})
#: words of a column that link the row to its owner, never to a dictionary of what it codes: the company (Odoo's and
#: ERPs' ``company_id``), the currency, the user who wrote it (``create_uid``, ``write_uid``, ``user_id``)
_NOT_A_DICTIONARY = frozenset({"COMPANY", "CURRENCY", "UID", "USER", "USERS"})
_DICT_CODE = (r"(.*_)?(CODE|CD)", r"(ICD|KCD|CVX|EDI|LOINC|ATC|SNOMED)(_.*)?", r".*코드")
_DICT_NAME = (r"(.*_)?(NAME|NM|TITLE|LABEL)", r"(.*_)?(COMPONENT|INGREDIENT)S?(_?(NM|NAME))?", r".*(명|명칭)",
              r"(.*_)?DESC(RIPTION)?")
_PREFERRED_FLAG = r"(.*_)?PREF(ERRED)?(_YN)?"
#: A flag saying a row of a person's names or numbers is the one in use (GNUmed's ``dem.names.active``)
_IN_USE_FLAG = r"(IS_?)?(ACTIVE|CURRENT|IN_?USE)(_?YN)?|USE_?YN|사용여부"


#: A column naming the person a patient's or doctor's row points at (:meth:`_Guesser._name_from_parent`)
_PERSON_LINK = r"(.*_)?(NAME|PARTY|PERSON|PEOPLE|PARTNER)(_?(ID|NO))?"


def _link_names_table(column: str, table: TableProfile) -> bool:
    """Whether a person link's name (:data:`_PERSON_LINK`) names ``table``: :func:`_names_table`, or the link's word
    (``partner`` of ``partner_id``) the last word of the table's name (Odoo's ``res_partner``, ``crm_partner``)."""
    word = re.sub(r"_?(ID|NO)$", "", column.upper()).rsplit("_", 1)[-1]
    return _names_table(column, table) or table.bare.upper().rsplit("_", 1)[-1] in (word, word + "S")


def _names_table(column: str, table: TableProfile) -> bool:
    """Whether a column's name says it holds ``table``'s key: the table's own name with an id mark before or after
    it (GNUmed's ``dem.names.id_identity`` of ``dem.identity``; ``fk_identity``, ``identity_id``, ``person_pk``)."""
    bare = re.escape(table.bare.upper())
    return re.fullmatch(rf"(ID|FK|PK)_?{bare}S?|{bare}S?_?(ID|FK|PK|NO)", column.upper()) is not None
#: A free-text column beside a dictionary's id, filled where no dictionary row fitted (OpenMRS non_coded_allergen,
#: diagnosis_non_coded, drug_non_coded; Tryton's …_text, …_other; Korean EMRs' …_etc, 기타, 직접입력, free_text)
#: (:meth:`_Guesser._free_text`): words that say so alone (with the record's subject or none) …
_FREE_TEXT_STRONG = re.compile(r"(?:^|_)(?:NON|UN|NOT)_?CODED(?=_|$)|(?:^|_)FREE_?(?:TEXT|TXT)(?=_|$)|직접_?입력"
                               r"|(?:^|_)JIKJEOP(?:_?IPRYEOK)?(?=_|$)")
#: … of a column declared text (never a date, a number or JSON: allergen_other_date, drug_other_qty) …
_FREE_TEXT_TYPE = re.compile(r"CHAR|TEXT|CLOB|STRING|MEMO")
#: … and words that say so only beside the record's subject (allergen_other, 약품명_기타; never ``text`` alone)
_FREE_TEXT_WEAK = frozenset({"TEXT", "TXT", "OTHER", "OTHERS", "ETC", "GITA", "MANUAL"})
_FREE_TEXT_WEAK_KO = ("기타", "수기", "직접")
#: what a Hangul name of the record's subject holds (the ASCII words are _DICTIONARY_FIELDS')
_SUBJECT_KO: dict[str, tuple[str, ...]] = {
    "diagnosis": ("상병", "진단", "병명", "질병", "질환"),
    "allergy": ("알러지", "알레르기", "알러젠", "원인", "약물", "약품"),
    "immunization": ("백신", "접종"),
    "order_line": ("약품", "약", "처방", "오더"),
    "lab_result": ("검사",),
    "lab_report": ("검사",),
}
#: the words of a name that say only that it names or codes something (drug_name_etc: DRUG is its subject)
_NAME_NOISE = frozenset({"NAME", "NM", "DESC", "DESCRIPTION", "VALUE", "VAL", "CONTENT"})


#: A common-code table (공통코드) holding every code of the database under (group, code), read whole when at most this
#: many rows (:meth:`_Guesser._common_code_tables`); with no key, its group and code columns are named so.
_COMMON_CODE_ROWS = 20000
_COMMON_GROUP = (r"(.*_)?(GRP|GROUP|GRUP)(_?(CD|CODE|ID|NO))?|(.*_)?(CD|CODE)_?(GRP|GROUP)(_?(CD|CODE|ID))?"
                 r"|(그룹|분류|대분류)(코드)?")
_COMMON_CODE = (r"(.*_)?(CD|CODE)|(코드|상세코드|세부코드)")
#: words of a common-code table's name (TB_COMM_CD, CODE_MST, CM_CODE); or its group column is named as one
_COMMON_TABLE_WORDS = frozenset({"COMM", "COMMON", "COM", "CM", "CODE", "CODES", "CD", "CDS"})
#: text fields never read as a code's name (they hold names, words or numbers of their own)
_NOT_COMMON_CODED = frozenset({"name", "text", "reason", "chief_complaint", "history", "course", "plan", "memo",
                               "value", "address", "phone", "email"})


@dataclass(frozen=True)
class _CommonCodes:
    """A common-code table as read: its name, group, code and name columns, and group → code → name."""

    table: str
    group: str
    code: str
    name: str
    names: dict[str, dict[str, str]]


#: How many likely tables an entity's guess tries before it gives up (each costs a few sampled queries).
_CANDIDATES_TRIED = 3

#: Kinds a clinic may keep in several tables of different shapes (encounter diagnoses and a problem list; 외래처방 and
#: 입원처방), each read by a section of its own. Not the kinds other sections refer to (patient, visit, receipt, lab
#: report …): a second section of one would leave the references pointing at the first alone.
_KIN_KINDS: tuple[str, ...] = ("diagnosis", "chart_note", "order_line", "procedure", "lab_result", "imaging_report",
                               "allergy", "immunization", "vital_signs", "medication_statement")
#: Table names that say a kind only beside the names TABLE_HINTS knows, taken only for a further table of a kind,
#: never its first: OpenMRS's and FHIR's ``conditions`` (the problem list), a ``problem_list``.
_KIN_HINTS: dict[str, tuple[str, ...]] = {"diagnosis": ("CONDITION", "PROBLEM_LIST")}
#: A table of diagnoses named as the patient's problem list (problems, conditions, health issues, past history,
#: 문제목록, 주요병력, 과거력): with no visit link its rows are problem-list entries (:meth:`_Guesser._problem_list`).
_PROBLEM_LIST_WORDS = frozenset({"PROBLEM", "PROBLEMS", "PROBLEM_LIST", "CONDITION", "CONDITIONS", "ISSUE",
                                 "ISSUES", "HEALTH_ISSUE", "PMH", "PAST_HISTORY", "MEDICAL_HISTORY"})
_PROBLEM_LIST_KO = ("문제", "병력", "과거력")
#: … and names that say nothing else: such a table is the problem list even where its rows name a visit (the one
#: the problem was noted in: GNUmed's clin.health_issue.fk_encounter)
_PROBLEM_LIST_ONLY = frozenset({"PROBLEM_LIST", "PROBLEMLIST", "HEALTH_ISSUE", "HEALTH_ISSUES"})
_PROBLEM_LIST_ONLY_KO = ("문제목록", "주요병력", "과거력", "과거병력")
#: A problem's resolution date (해결일, resolved_date, END_DT): Condition.abatementDateTime
_ABATEMENT = (r"(RESOLVED?|RESOLUTION|ABATE(MENT)?|CURED?|END(ED)?)_?(YMD|DT|DATE|ON|AT)?",
              r"(해결|완치|치유|종료)(일|일자)")
#: A problem's active flag (is_active, ACTIVE_YN, 활동여부): yes active, no inactive
_ACTIVE_FLAG = (r"(IS_?)?(ACTIVE|CURRENT)(_?(YN|FLAG|FLG|FG))?", r"(활동|활성)(여부|구분)")
#: A problem's certainty (GNUmed's diagnostic_certainty_classification, 확진여부, 진단확실성): its verification status
_CERTAINTY = (r"((DIAG(NOSTIC)?|DX)_?)?(CERTAINTY|VERIFICATION)(_?(CLASSIFICATION|STATUS|CD|CODE))?",
              r"(확진|진단)(여부|구분|확실성)|확실성")
#: What a certainty word says (Condition.verificationStatus), compared in lower case: only words that say it clearly
_CERTAINTY_WORDS: dict[str, str] = {
    **dict.fromkeys(("confirmed", "확진", "확정"), "confirmed"),
    **dict.fromkeys(("provisional", "suspected", "r/o", "의증", "의심"), "provisional"),
    **dict.fromkeys(("differential", "감별"), "differential"),
    **dict.fromkeys(("refuted", "ruled out", "배제"), "refuted"),
    **dict.fromkeys(("unconfirmed", "미확진"), "unconfirmed"),
}
#: What a problem's status word says (Condition.clinicalStatus), compared in lower case
_CLINICAL_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("active", "current", "ongoing", "활동", "활성", "현재", "진행", "진행중", "유지"), "active"),
    **dict.fromkeys(("resolved", "cured", "해결", "완치", "치유", "종결"), "resolved"),
    **dict.fromkeys(("inactive", "past", "비활동", "비활성", "과거"), "inactive"),
    **dict.fromkeys(("remission", "관해"), "remission"),
    **dict.fromkeys(("recurrence", "relapse", "재발"), "recurrence"),
    **dict.fromkeys(("entered in error", "error", "deleted", "오류", "오입력", "삭제"), "entered-in-error"),
}


#: A table named as a relative's history (가족력, 가족병력, FAMILY_HISTORY, FHX): its conditions are not the patient's,
#: so it is no diagnosis section (nor a problem list) whatever its codes: carried raw
_FAMILY_WORDS = frozenset({"FAMILY", "FAM", "FHX", "FAMHX", "FAM_HX", "FAMILY_HISTORY", "RELATIVE", "RELATIVES"})


def _family_named(table: TableProfile) -> bool:
    """Whether a table's name says a relative's (family) history (:data:`_FAMILY_WORDS`, 가족)."""
    return bool(_FAMILY_WORDS & set(_parts(table.bare))) or "가족" in table.bare


#: Words before ISSUE that make it an issuance (진단서 발급: DIAG_ISSUE, CERT_ISSUE), not a health issue
_ISSUED_WORDS = frozenset({"DIAG", "DIAGNOSIS", "DX", "SANG", "JINDAN", "CERT", "CERTIFICATE", "DOC", "DOCUMENT"})


def _problem_list_named(table: TableProfile) -> bool:
    """Whether a table's name says the patient's problem list (:data:`_PROBLEM_LIST_WORDS`, 문제목록, 주요병력); ISSUE
    beside a diagnosis or certificate word (DIAG_ISSUE: certificates issued) does not."""
    parts = set(_parts(table.bare))
    words = _PROBLEM_LIST_WORDS & parts
    if words <= {"ISSUE", "ISSUES"} and parts & _ISSUED_WORDS:
        words = frozenset()
    return bool(words) or any(w in table.bare for w in _PROBLEM_LIST_KO)


def _no_records_of_kin(table: TableProfile, kin: Sequence[TableProfile]) -> bool:
    """Whether ``table`` holds no further records beside ``kin`` whatever its name: a word of its name says an
    earlier generation, a copy, a change history or log, a merge log, a code table (``…_TYPE``), settings or a
    framework's table; or it is a child of a table of ``kin`` (a column named as its key, a name extending its
    name, as ``allergy_reaction`` of ``allergy``), or in a PostgreSQL inheritance (its family decided by hand)."""
    bare = table.bare
    words = set(_words(bare, table=True).split("_"))
    if (_SUPERSEDED & words or _history_table(table) or _merge_table(table) or _name_fits(r".+_TYPES?", bare, True)
            or any(_name_fits(pattern, bare, table=True) for pattern, _ in (*_CARRY_KINDS, *_FRAMEWORK_KINDS))):
        return True
    columns = {c.name.lower() for c in table.columns if not c.primary_key}
    return bool(table.inherits or table.children or any(
        {k.lower() for k in parent.primary_key} & columns or bare.lower().startswith(parent.bare.lower() + "_")
        for parent in kin))


def _kin_evidence(entity: str, table: TableProfile, kin: Sequence[TableProfile]) -> str | None:
    """Why ``table`` may hold ``entity``'s records beside ``kin`` (the tables its sections read, the first section's
    first: ``own``), or None. The evidence asked: the table's name says the kind (TABLE_HINTS, or _KIN_HINTS) and no
    other kind more closely; no word of it says an earlier generation, a copy, a change history or log, a merge log,
    a code table, settings or a framework's table; it is no child of a table of ``kin`` (no column named as its key,
    no name extending its name, as ``allergy_reaction`` of ``allergy``) and in no PostgreSQL inheritance; and at
    least as many of its column names fit the kind as ``own``'s, less one. The section guessed on it must then be
    usable (its patient column's sampled values found among the patients, the record's required fields found): a
    wrong mapping is worse than a table carried raw."""
    bare = table.bare
    parts = _parts(bare)
    hint = _table_hint(entity, bare) or next((h for h in _KIN_HINTS.get(entity, ()) if h in parts), None)
    if hint is None or _better_named_for(entity, bare, hint) or not table.plain:
        return None
    if entity == "diagnosis" and _family_named(table):
        return None  # 가족병력: a relative's conditions, not the patient's (carried raw)
    if _no_records_of_kin(table, kin):
        return None
    own = kin[0]
    hints = FIELD_HINTS[entity]

    def fitting(t: TableProfile) -> int:
        return sum(1 for patterns in hints.values() if _Guesser._match(t, patterns, set()) is not None)

    matched = fitting(table)
    if matched + 1 < fitting(own):
        return None
    return (f"table name matches '{hint}', {matched} of {len(hints)} column names fit: a further table of "
            f"{entity} records, shaped otherwise than {own.name} (read by its own section)")


#: Words of a table's name saying it holds in-patient stays (an admission: admitted, discharged, a ward), not visits:
#: Open Hospital's ``ADMISSION``, an ``ADM``, ``INPATIENT`` or ``IPD`` table, romanised ``IPWON``; in Hangul 입원 or
#: 입퇴원 anywhere in the name (입원내역, 입퇴원관리).
_INPATIENT_WORDS = frozenset({"ADMISSION", "ADMIT", "ADMITTED", "ADM", "INPATIENT", "IPD", "IPWON",
                              "HOSPITALIZATION", "HOSPITALISATION"})
_INPATIENT_HANGUL = ("입원", "입퇴원")


def _inpatient_evidence(table: TableProfile, kin: Sequence[TableProfile]) -> str | None:
    """Why ``table`` holds in-patient stays (one row per admission, an Encounter of class IMP with a period), or
    None: a word of its name says admission or in-patient (:data:`_INPATIENT_WORDS`; 입원, 입퇴원), no other
    kind's table name but a patient's says it (``ADMISSION_DIAG`` a diagnosis, 입원처방 an order, 입원진단 a
    diagnosis), and it is none of the tables :func:`_no_records_of_kin` names (a copy, a history, a type table, a
    child of a table of ``kin``)."""
    bare = table.bare
    parts = set(_parts(bare))
    word = next((w for w in sorted(_INPATIENT_WORDS) if w in parts), None) or next(
        (w for w in _INPATIENT_HANGUL if w in bare), None)
    if word is None or not table.plain or _no_records_of_kin(table, kin):
        return None
    others = [other for other in TABLE_HINTS if other not in ("patient", "encounter")
              and _table_hint(other, bare) is not None]
    if others:
        return None
    return f"table name says in-patient stays ('{word}'): each row an admission, an in-patient encounter"


def _kin_section_name(entity: str, table: TableProfile, taken: Collection[str]) -> str:
    """``<entity>_<table>`` in lower case (a schema's dot as ``_``); a name no section may have (Hangul: 외래진단)
    as ``<entity>_<n>``, the first n free."""
    name = f"{entity}_{table.name.lower().replace('.', '_')}"
    if NAME.match(name) and name not in taken:
        return name
    n = 2
    while f"{entity}_{n}" in taken:
        n += 1
    return f"{entity}_{n}"


#: A visit row's columns holding its diagnoses' codes (:meth:`_Guesser._visit_diagnoses`): Open Hospital's
#: ``OPD_DIS_ID_A``/``_2``/``_3``, Korean EMRs' 주상병코드/부상병코드, ``MAIN_DX_CD``, ``SUB_DX_CD1``, ``SANG_CD1..5``:
#: a word of the name saying diagnosis (or a Hangul name holding one) …
_VISIT_DX_WORDS = frozenset({"DX", "DIAG", "DIAGNOSIS", "DIS", "DISEASE", "SANG", "SANGBYEONG", "SANGBYUNG", "ICD",
                             "KCD", "ILLNESS", "JINDAN"})
_VISIT_DX_KO = ("상병", "진단", "병명", "질병")
#: … never one that names, dates, flags or counts it (주상병명, DX_YMD, 주상병여부, DX_CNT) …
_VISIT_DX_NOT = frozenset({"NM", "NAME", "DESC", "DESCRIPTION", "TEXT", "TXT", "YN", "FLAG", "FLG", "GB", "CNT",
                           "COUNT", "SEQ", "DATE", "DT", "YMD", "DTTM", "TIME", "EDITION", "VER", "VERSION", "TYPE",
                           "KIND", "CLASS", "CLS", "DEPT", "DR", "DOCTOR", "MEMO", "NOTE", "REMARK", "OUT", "DISCH",
                           "DISCHARGE", "DIST", "DISTRICT", "DISP", "DISPOSITION", "DISC", "DISCOUNT"})
_VISIT_DX_NOT_KO = ("명", "여부", "일자", "일시", "구분", "차수", "메모", "비고")
#: … but on an in-patient stay's row the words of its discharge (ADM_OUT_DIS_ID_A: the diagnosis it left with)
_STAY_DX_WORDS = frozenset({"OUT", "DISCH", "DISCHARGE"})
#: … and the words saying which is the visit's main diagnosis (주상병) and which the others (부상병)
_VISIT_DX_MAIN = frozenset({"MAIN", "PRIMARY", "PRIM", "PRINCIPAL", "JU", "FIRST", "PRI"})
_VISIT_DX_SUB = frozenset({"SUB", "SECONDARY", "SEC", "BU", "SECOND", "OTHER", "ADD", "ADDITIONAL", "EXTRA"})
#: a code word of the name and the name words put in its place for the name column beside it (주상병코드 → 주상병명)
_CODE_TO_NAME = (("CODE", ("NAME", "NM", "DESC")), ("CD", ("NM", "NAME")), ("ID", ("NM", "NAME")),
                 ("코드", ("명", "명칭")))
_VISIT_DX_MAX = 9  # more code columns than this on one visit row is no list of its diagnoses


def _dx_words(name: str) -> list[str]:
    """The words of a column's name, a number ending one split off (``SANG_CD1``: SANG, CD, 1)."""
    out: list[str] = []
    for word in _words(name).split("_"):
        found = re.fullmatch(r"(\D+?)(\d+)", word)
        out += [found.group(1), found.group(2)] if found else [word]
    return [w for w in out if w]


def _dx_number(words: Sequence[str]) -> int:
    """The number ending a column's name (``SANG_CD2``: 2; ``OPD_DIS_ID_A``: 0)."""
    return int(words[-1]) if words and words[-1].isdigit() else 0


def _dx_rank(name: str, words: Sequence[str]) -> bool | None:
    """True: the name says the visit's main diagnosis (주상병, MAIN_DX_CD); False: another (부상병, SUB_DX_CD1);
    None: it says neither."""
    if not name.isascii():
        return True if "주상병" in name or "주진단" in name else False if "부상병" in name or "부진단" in name else None
    own = set(words)
    return True if own & _VISIT_DX_MAIN else False if own & _VISIT_DX_SUB else None


def _name_beside(table: TableProfile, column: ColumnProfile) -> str | None:
    """The column of ``table`` holding the name of the code in ``column``: its name with the code word put as a
    name word (주상병코드 → 주상병명, MAIN_DX_CD → MAIN_DX_NM, SANG_CD1 → SANG_NM1), a text column."""
    by_upper = {c.name.upper(): c for c in table.columns}
    upper = column.name.upper()
    for code, replacements in _CODE_TO_NAME:
        for found in re.finditer(rf"(?<![A-Z]){code}(?![A-Z])" if code.isascii() else code, upper):
            for replacement in replacements:
                other = by_upper.get(upper[:found.start()] + replacement + upper[found.end():])
                if (other is not None and other is not column and not _integer_typed(other) and not other.is_binary
                        and IDENTIFIER.match(other.name)):
                    return other.name
    return None


class _Guesser:
    def __init__(self, profile: DatabaseProfile, sampled_codes: dict[tuple[str, str], set[str]],
                 source: Source | None = None) -> None:
        self.profile = profile
        self.sampled_codes = sampled_codes  # (table, column) → sampled values of short code columns
        self.guesses: dict[str, EntityGuess] = {}
        self.source = source  # for value overlaps between columns (counts only)
        self._overlaps: dict[tuple[str, str, str, str], tuple[int, int]] = {}
        self._common: list[_CommonCodes] | None = None  # the common-code tables, read once (_common_code_tables)
        #: (visit table, column) → the dictionary of diagnoses its codes are keys of, and its name column
        self._dx_dictionary: dict[tuple[str, str], tuple[TableProfile, str] | None] = {}

    def overlap(self, child: TableProfile, column: str, parent: str, parent_column: str) -> tuple[int, int]:
        """(sampled non-empty values of child.column, how many of them parent.parent_column holds)."""
        cache_key = (child.name, column, parent, parent_column)
        if cache_key in self._overlaps:
            return self._overlaps[cache_key]
        found = (0, 0)
        if self.source is not None and child.nameable and self._nameable(parent):
            order_by = (child.primary_key or (column,))[0]
            sample = _sample_sql(self.source, child, None, order_by, self.profile.sample_rows)
            if _folded_select(self.profile.engine, child):  # PostgreSQL only (LIMIT)
                sample = (f"SELECT * FROM {self.relation(child.name)} c ORDER BY c.{order_by} "
                          f"LIMIT {self.profile.sample_rows}")
            sql = (f"SELECT COUNT(*) AS n, SUM(CASE WHEN EXISTS (SELECT 1 FROM {self.relation(parent)} p WHERE "
                   f"p.{parent_column} = s.{column}) THEN 1 ELSE 0 END) AS hit FROM ({sample}) s "
                   f"WHERE s.{column} IS NOT NULL")
            try:
                row = next(self.source.rows(sql))
                found = (int(row["n"] or 0), int(row["hit"] or 0))
            except (SourceQueryError, StopIteration):
                found = (0, 0)  # e.g. PostgreSQL refuses text = integer: no overlap
        self._overlaps[cache_key] = found
        return found

    def exact_hits(self, child: TableProfile, column: str, parent: str, parent_column: str,
                   form: tuple[str, int] | None) -> tuple[int, int]:
        """(sampled non-empty values of child.column, how many of them — rewritten into ``form``, if given — are
        one of parent.parent_column's keys *as the export names records*: the same key text (``key_text``), not
        just equal to SQL, which finds 1 = '0000001' on SQLite and MariaDB while the export's record ids differ)."""
        from emr_exporter.connectors.mapper import key_text

        if self.source is None or not child.nameable or not self._nameable(parent):
            return 0, 0
        order_by = (child.primary_key or (column,))[0]
        sample = _sample_sql(self.source, child, None, order_by, self.profile.sample_rows)
        if _folded_select(self.profile.engine, child):
            sample = (f"SELECT * FROM {self.relation(child.name)} c ORDER BY c.{order_by} "
                      f"LIMIT {self.profile.sample_rows}")
        value = f"s.{column}" if form is None else _key_form_sql(self.profile.engine, form, f"s.{column}")
        try:
            sampled = int(self.source.scalar(f"SELECT COUNT(*) FROM ({sample}) s WHERE s.{column} IS NOT NULL") or 0)
            pairs = self.source.rows(f"SELECT {value} AS c, p.{parent_column} AS k FROM ({sample}) s "
                                     f"JOIN {self.relation(parent)} p ON p.{parent_column} = {value}")
            hits = sum(1 for pair in pairs if key_text(pair["c"]) == key_text(pair["k"]))
        except SourceQueryError:
            return 0, 0
        return sampled, hits

    def key_form(self, child: TableProfile, column: str, parent: TableProfile,
                 parent_column: str) -> tuple[tuple[str, int], int, int] | None:
        """The form the child's values take the parent's keys in, when they are written otherwise (a visit's
        CHART_NO 123 for the patient's '0000123', or '0000123' for 123): the form and (sampled, hits) with it."""
        from emr_exporter.connectors.mapper import KeyForm

        if self.source is None or self.profile.engine not in _KEY_FORM_ENGINES or not parent.plain:
            return None
        key_column = parent.column(parent_column)
        if key_column is None:
            return None
        try:
            keys = [row["k"] for row in self.source.rows(
                f"SELECT q.{parent_column} AS k FROM ({_sample_sql(self.source, parent, None, parent_column, 200)}) q")]
        except SourceQueryError:
            return None
        form = KeyForm.of(keys)
        if form is None:
            return None
        sampled, hits = self.exact_hits(child, column, parent.name, parent_column, form)
        return (form, sampled, hits) if sampled and hits / sampled >= 0.5 else None

    def json_value_reading(self) -> str | None:
        """How the server reads a value out of a JSON object (drivers.json_value_reading): ``JSON_VALUE`` on every
        engine but MariaDB/MySQL, there by the server's version; None where it has no JSON functions (MariaDB before
        10.2.3, MySQL before 5.7.8: no key is lifted, the documents carried whole as written)."""
        if self.profile.engine != "mariadb":
            return JSON_VALUE
        return json_value_reading(self.profile.server_version)

    def relation(self, name: str) -> str:
        """How a connector's SQL names the table ``name``: itself (its own rows: ``ONLY`` where others inherit
        from it), or its folded select (see _folded_select)."""
        table = next((t for t in self.profile.tables if t.name == name), None)
        folded = _folded_select(self.profile.engine, table) if table is not None else None
        if folded:
            return f"({folded})"
        if table is not None and not table.plain:  # "tabPatient Encounter": quoted, as the catalogue spells it
            from emr_exporter.sources.drivers import caps_for

            return f"{table.only}{'.'.join(caps_for(self.profile.engine).quote(p) for p in table.parts)}"
        return f"{table.only if table is not None else ''}{name}"

    def _nameable(self, name: str) -> bool:
        """Whether the connector's SQL can name the table ``name`` (see ``relation``)."""
        return bool(TABLE_NAME.match(name)) or any(t.name == name and t.nameable for t in self.profile.tables)

    def table_for(self, entity: str, taken: set[str]) -> tuple[TableProfile | None, str]:
        ranked = self.tables_for(entity, taken)
        return ranked[0] if ranked else (None, "")

    def tables_for(self, entity: str, taken: set[str]) -> list[tuple[TableProfile, str]]:
        """The tables that may hold ``entity``, the likeliest first (ties: in name order)."""
        found: list[tuple[float, TableProfile, str]] = []
        hints = FIELD_HINTS[entity]
        needs_patient = entity not in ("practitioner", "patient") and any(
            name == "patient_id" and required for name, _, required in _record_fields(entity))
        patient = self.guesses.get("patient")
        patient_columns = list(_REF_PATTERNS["patient"])
        if patient is not None and isinstance(patient.key, str):
            patient_columns.insert(0, re.escape(patient.key.upper()))
        for table in self.profile.tables:
            if table.name in taken or table.row_count == 0:
                continue
            hint = _table_hint(entity, table.bare)
            booking = _table_hint("appointment", table.bare)
            if entity == "appointment" and (hint is None or not self._match(table, patient_columns, set())):
                continue  # bookings only by a booking's name with a patient link (a doctor's SCHEDULE has none)
            if entity == "appointment" and (_NOT_A_BOOKING & set(_parts(table.bare))
                                            or re.search(_NOT_A_BOOKING_KO, table.bare)):
                continue  # a booking's deposit (예약금), its reminders (예약문자, APPT_SMS_LOG): no booking
            if entity == "appointment" and hint in _WEAK_BOOKING_HINTS and any(
                    _table_hint(other, table.bare) for other in TABLE_HINTS if other not in _BOOKED_BY):
                continue  # MED_SCHEDULE, VACC_SCHEDULE (doses due), RSV_TEST (the virus): no booking (nor the other's)
            if entity != "appointment" and booking is not None and (hint is None or len(hint) <= len(booking)):
                # 예약, appointment, tabPatient Appointment, 예약접수: a booking is no visit (nor a patient, nor a
                # note): left to appointment, whose name says it more closely
                continue
            if entity == "diagnosis" and _family_named(table):
                continue  # 가족병력, FAMILY_PROBLEM: a relative's conditions, not the patient's (carried raw)
            matched = sum(1 for patterns in hints.values() if self._match(table, patterns, set()) is not None)
            # a table of diagnosis codes whatever its name, unless its name says another kind (ORDERS: M0001 is
            # an order code, shaped like a KCD code)
            coded = _kcd_coded(table) if entity == "diagnosis" and hint is None and not any(
                _table_hint(other, table.bare) for other in TABLE_HINTS if other != entity) else None
            stores = entity == "attachment" and hint is None and self._stores_documents(table)
            score = (5.0 if hint or stores else 3.0 if coded else 0.0) + matched
            words = set(_words(table.bare, table=True).split("_"))
            if _SUPERSEDED & words or _history_table(table):
                # tblVisitOld, PATIENT_BAK: an EMR's earlier generation or a copy, below the table in use;
                # patient_hist, visit_log: a row per change of the table in use (the same columns and more)
                score -= 1.0
            elif hint is not None and words & {"NEW", "CURRENT", "CUR"}:
                score += 0.5  # tblPatientNew beside tblPatient: the generation a vendor change brought in
            if entity == "diagnosis" and _problem_list_named(table):
                score -= 0.5  # a problem list after the visits' diagnoses: the first section is theirs
            if hint is None and coded is None and not stores and (matched < 3 or (entity not in (
                    "patient", "practitioner") and sum(
                    1 for patterns in hints.values() if self._match(
                        table, [p for p in patterns if p not in _BARE_NAME_PATTERNS], set()) is not None) < 3)):
                # a record table whose name says nothing of its kind: three of its columns named for it, a bare
                # …_NM/…_NAME not counted (an implant's MAKER_NM, LOT_NO and a date were guessed a vaccination)
                continue
            if (entity != "patient" and _name_fits(r".+_TYPES?", table.bare, table=True)
                    and not any(_name_fits(p, c) for p in _REF_PATTERNS["patient"] for c in table.columns)):
                continue  # a code table of kinds (GNUmed's blobs.doc_type, named DOC…: no practitioner), carried
            if entity == "imaging_report" and not matched and self._holds_files(table):
                continue  # XRAY_IMG of paths (or bytes) and a date, no reading: the images, left to attachment
            if needs_patient and not self._match(table, patient_columns, set()):
                score -= 2.0  # a record of a patient without a patient column: likely a code or lookup table
            if hint is not None and any(
                    matched <= sum(1 for patterns in FIELD_HINTS[other].values()
                                   if self._match(table, patterns, set()) is not None)
                    for other in _better_named_for(entity, table.bare, hint)):
                # LAB_REPORTS, no lab-result column in it: the lab reports' table, not the results'; MED_HIST, its
                # DRUG_NM a prescription's name too: the medication list (more of its columns fit), not orders
                continue
            if score > 0:
                why = (f"table name matches '{hint}'" if hint else "stored document bytes (a binary column beside "
                       "a file name or media type)" if stores else "no name match") + (
                    f", {matched} of {len(hints)} column names fit") + (
                    f"; the values of {coded} look like KCD/ICD codes" if coded else "")
                found.append((score, table, why))
        found.sort(key=lambda candidate: -candidate[0])  # stable: equal scores keep the name order
        return [(table, why) for _, table, why in found]

    @staticmethod
    def _media_type_from_path(guess: EntityGuess, table: TableProfile | None = None) -> None:
        """An attachment table that names its files by path but keeps no media type (X-ray and scan folders):
        the type read off the path's extension in the section's query (``.jpg`` image/jpeg, ``.pdf``
        application/pdf …; any other ``application/octet-stream``, the bytes as they are), the path itself read
        by ``content_path``."""
        path = next((f for f in guess.fields if f.field == "content_path" and f.column and not f.expr), None)
        if "media_type" not in guess.missing or any(f.field == "media_type" for f in guess.fields):
            return
        if path is None and table is not None and any(f.field == "content_blob" for f in guess.fields):
            # bytes kept beside the file's own name (scan3.pdf): the type read off that name's extension
            named = next((c for p in _FILE_NAME_COLUMNS for c in table.columns if _name_fits(p, c)
                          and not c.is_binary and not _integer_typed(c)), None)
            path = FieldGuess("", named.name, "text", "") if named is not None else None
        if path is None:
            return
        from emr_exporter.pipeline.fhir import ATTACHMENT_EXTENSIONS

        extensions = {ext: kind for kind, ext in ATTACHMENT_EXTENSIONS.items()}
        extensions.update({"jpeg": "image/jpeg", "tiff": "image/tiff"})
        column = f"LOWER({path.column})"
        cases = " ".join(f"WHEN {column} LIKE '%.{ext}' THEN '{kind}'" for ext, kind in sorted(extensions.items()))
        guess.missing.remove("media_type")
        guess.fields.append(FieldGuess(
            "media_type", "", "text", f"no column for it: read off the extension of {path.column}'s file name "
            "(any other: application/octet-stream, the bytes as they are)", required=True,
            expr=f"CASE {cases} ELSE 'application/octet-stream' END"))

    @staticmethod
    def _stores_documents(table: TableProfile) -> bool:
        """Whether ``table`` keeps documents' bytes, whatever its name (GNUmed's ``blobs.doc_obj``, a page's
        ``data`` bytea beside its ``filename``): a binary column (bytea, BLOB, VARBINARY, IMAGE) holding bytes in
        the sample, beside a column naming the file or its media type."""
        return any(c.is_binary and c.non_empty for c in table.columns) and any(
            _name_fits(p, c) for p in _FILE_NAME_COLUMNS + FIELD_HINTS["attachment"]["media_type"]
            for c in table.columns)

    def _holds_files(self, table: TableProfile) -> bool:
        """Whether a column of ``table`` is named as an attachment's file path or bytes."""
        fields = FIELD_HINTS["attachment"]
        return any(self._match(table, fields[name], set()) is not None for name in ("content_path", "content_blob"))

    @staticmethod
    def _match(table: TableProfile, patterns: Sequence[str], used: set[str]) -> tuple[ColumnProfile, str] | None:
        for pattern in patterns:
            for column in table.columns:
                if column.name in used:
                    continue
                if _name_fits(pattern, column):
                    return column, pattern
        return None

    def key_for(self, table: TableProfile) -> tuple[str | list[str] | None, str]:
        if len(table.primary_key) == 1:
            return table.primary_key[0], "the table's primary key"
        if len(table.primary_key) > 1:
            return list(table.primary_key), f"the table's primary key of {len(table.primary_key)} columns"
        for column in table.columns:
            if column.unique_in_sample and _name_fits(r".*(NO|ID|SEQ|KEY|CD)", column):
                return column.name, "unique in the sample and named like a key; check it is unique in the table"
        for column in table.columns:
            if column.unique_in_sample and not column.is_binary:
                return column.name, "unique in the sample; check it is unique in the table"
        return self._composite_key(table)

    def _composite_key(self, table: TableProfile) -> tuple[list[str] | None, str]:
        """A table of a server with no key constraint and no column unique (an order number the program kept
        unique itself, now twice): a column named like a key with another beside it, the pair unique in the whole
        table (counted), no NULL in either in the sample, key-like names first. None elsewhere (SQLite has its
        rowid, _guess_table)."""
        if (self.source is None or self.profile.engine in ("sqlite", "sqlite-odbc") or not table.plain
                or _folded_select(self.profile.engine, table) is not None
                or any(part.upper() in SQL_RESERVED for part in table.parts)):
            return None, ""
        usable = [c for c in table.columns if c.sampled and c.empty == 0 and not c.is_binary
                  and IDENTIFIER.match(c.name) and c.name.upper() not in SQL_RESERVED
                  and not c.type_name.upper().endswith(("TEXT", "CLOB", "BLOB", "JSON", "XML"))]
        keyish = [c for c in usable if _name_fits(r".*(NO|ID|SEQ|KEY|CD|CODE)", c)]
        firsts = sorted((c for c in keyish if c.distinct * 2 >= c.sampled), key=lambda c: -c.distinct)[:2]
        for first in firsts:
            seconds = [c for c in keyish if c is not first] + [c for c in usable if c not in keyish][:3]
            for second in seconds[:6]:
                try:
                    twice = self.source.scalar(
                        f"SELECT COUNT(*) FROM (SELECT {first.name}, {second.name} FROM {self.relation(table.name)} "
                        f"GROUP BY {first.name}, {second.name} HAVING COUNT(*) > 1) d")
                except SourceQueryError:
                    return None, ""
                if int(twice or 0) == 0:
                    return [first.name, second.name], (
                        f"no key constraint and no column unique ({first.name} repeats): {first.name} with "
                        f"{second.name} is unique in the table (counted); check the program keeps it so")
        return None, ""

    def guess(self, entity: str, taken: set[str]) -> EntityGuess:
        """The likeliest table's guess; if it lacks what the record needs, the next likely table that has it
        (OpenMRS: ``drug_order`` fits the names of a prescription best, but its patient and date are in
        ``orders``), else the likeliest one's, commented out with what it lacks."""
        ranked = self.tables_for(entity, taken)
        if not ranked:
            return EntityGuess(entity=entity, table=None, why="no table name or columns look like it")
        tried: list[EntityGuess] = []
        for table, why in ranked[:_CANDIDATES_TRIED]:
            guess = self._guess_table(entity, table, why)
            if entity == "vital_signs" and not any(f.field == "eye" for f in guess.fields):
                # an eye's measurement whose eye no column says (IOP beside no EYE column) would be an Observation of
                # no eye: left to the columns carried raw
                guess.fields = [f for f in guess.fields if model.EYE_FIELDS.get(f.field, ("", "?"))[1] is not None]
            if entity == "vital_signs" and not any(f.field in _VITAL_MEASUREMENTS for f in guess.fields):
                # a set of no measurement is quarantined whole (unmappable): every row of the table was. (Not in
                # _guess_table: a measurement table of one row per value, authoring/eav.py, adds its value itself.)
                guess.missing.append("a measurement (" + ", ".join(_BODY_MEASUREMENTS) + ")")
            if guess.usable:
                if tried and tried[0].missing and not tried[0].problems:
                    guess.why += (f"; {tried[0].table} fits as well but has no column for "
                                  f"{', '.join(tried[0].missing)}")
                return guess
            tried.append(guess)
        # none usable: the one that lacks least, to be finished by hand (the likeliest on a tie)
        return min(tried, key=lambda g: len(g.missing) + len(g.problems))

    def _guess_table(self, entity: str, table: TableProfile, why: str) -> EntityGuess:
        key, key_why = self.key_for(table)
        guess = EntityGuess(entity=entity, table=table.name, key=key, why=why, key_why=key_why)
        if not table.plain:
            # a name with a space ("tabPatient Encounter", Frappe's): the export names it quoted; only quote
            # marks, brackets and control characters no quoting of every engine takes
            if QUOTED_NAME_REFUSED.search(table.name):
                guess.problems.append(f"table name {table.name!r} holds a quote mark, bracket or control character: "
                                      "make a view with another name")
        elif any(part.upper() in SQL_RESERVED for part in table.parts):
            guess.problems.append(f"table name {table.name!r} is an SQL reserved word, which the export's "
                                  "unquoted SQL cannot name: make a view with another name")
        elif self.profile.engine == "postgresql" and table.name != table.name.lower() and any(
                t.name == table.name.lower() for t in self.profile.tables):
            # The connector names tables unquoted, and the inventory takes "PT_MASTER" for the table PostgreSQL
            # folds it to: the twin pt_master would be marked read while this one was.
            guess.problems.append(f"table {table.name!r} has a twin whose name differs only by case, which the "
                                  "export's unquoted SQL reads instead: make a view with another name")
        elif self.profile.engine == "postgresql" and _folded_select(self.profile.engine, table) is None and any(
                n != n.lower() for n in (*table.parts, *(c.name for c in table.columns))):
            guess.problems.append(f"table {table.name!r} has columns whose names differ only by case, which the "
                                  "export's unquoted SQL cannot tell apart: make a view that renames them")
        for part in ([key] if isinstance(key, str) else list(key or ())):
            if not IDENTIFIER.match(part):
                guess.problems.append(f"key column {part!r} is not a plain SQL identifier, which a connector's key "
                                      "cannot name: make a view that renames it")
            elif part.upper() in SQL_RESERVED:
                guess.problems.append(f"key column {part!r} is an SQL reserved word, which the export's unquoted "
                                      "SQL cannot name: make a view that renames it")
        if key is None and self.profile.engine in ("sqlite", "sqlite-odbc") and table.plain and not table.only:
            # A rowid table with no unique column (a chart number the old program kept unique itself, now
            # repeated): SQLite's own row number is its key, read by the section's query.
            taken_names = {c.name.lower() for c in table.columns}
            rowid = next((r for r in ("rowid", "_rowid_", "oid") if r not in taken_names), None)
            if rowid is not None and "row_no" not in taken_names:
                key = guess.key = "ROW_NO"
                guess.key_why = "no column is unique: SQLite's own row number (rowid), which the query names"
                guess.query = f"SELECT {rowid} AS ROW_NO, * FROM {table.name}"
                guess.query_why = ("no column of the table is unique (nor declared a key): its rows are told apart "
                                   "by SQLite's row number")
        if key is None:
            guess.problems.append("no unique column found for keyset paging: name one as key")
        # A column a field cannot name (Hangul, a space, a dot, an SQL reserved word: the export's SQL leaves
        # names unquoted, and the connector refuses them) is never guessed: its cells go to the raw sidecar,
        # and another column may still fit the field.
        guess.unnamable = [c.name for c in table.columns
                           if not IDENTIFIER.match(c.name) or c.name.upper() in SQL_RESERVED]
        used: set[str] = set(guess.unnamable)
        refs: list[FieldGuess] = []
        others: list[FieldGuess] = []
        for name, annotation, required in _record_fields(entity):
            target = _REF_TARGET.get(name)
            if target is not None:
                ref = self._ref_field(table, name, target, required, used, key)
                if ref is not None:
                    refs.append(ref)
                elif required:
                    guess.missing.append(name)
                continue
            found = self._plain_field(entity, table, name, annotation, required, used, key)
            if found is not None:
                others.append(found)
            elif required:
                guess.missing.append(name)
        if not any(f.field == "teeth" for f in others):
            # surfaces with no tooth beside them are no tooth's (a hand's D dorsal, V volar, P palmar): carried raw
            others = [f for f in others if f.field != "surfaces"]
        self._from_dictionary(entity, guess, table, used, others, key)
        self._from_code_masters(entity, guess, table, others)
        one_of = _ONE_OF_FIELDS.get(entity, ())
        sampled = {c.name: c for c in table.columns}
        if one_of and not any(f.field in one_of and (f.column not in sampled or sampled[f.column].non_empty
                                                     or not sampled[f.column].empty) for f in others):
            # FHIR cannot hold the record without one of them: every row would be quarantined (unmappable), as
            # it would be were the only one found empty in every sampled row (OSCAR's drugs.customName)
            guess.missing.append(" or ".join(one_of))
        if entity == "patient" and "chart_number" in guess.missing and isinstance(key, str):
            # No column named like a chart number: many EMRs show the patient's key as the chart number.
            guess.missing.remove("chart_number")
            used.add(key)
            others.insert(0, FieldGuess("chart_number", key, "text", "no column is named like a chart number: the "
                                        "patient table's key stands in; check which number the clinic's staff "
                                        "and patients know", required=True))
        if entity in ("patient", "practitioner") and "name" in guess.missing:
            split_name = self._split_name(table, used) or self._name_from_child(entity, guess, table)
            if split_name is not None:
                guess.missing.remove("name")
                others.append(split_name)
            elif from_parent := self._name_from_parent(entity, guess, table, used, {f.field for f in others}):
                guess.missing.remove("name")
                others += from_parent
        if entity == "patient" and not any(f.field == "rrn" for f in others):
            split = self._split_rrn(table, used)
            if split is not None:
                others.append(split)
        # A column named by an SQL reserved word ("group", "desc") breaks the export's unquoted SQL: left to
        # the raw sidecar (a field the record cannot do without is then missing, and says so).
        for found in [f for f in refs + others if any(c.upper() in SQL_RESERVED for c in (f.columns or [f.column]))]:
            (refs if found in refs else others).remove(found)
            if found.required:
                guess.missing.append(found.field)
        guess.fields = refs + others
        if entity == "patient" and not any(f.field == "rrn" for f in guess.fields):
            from_child = self._rrn_from_child(guess, table)
            if from_child is not None:
                guess.fields.append(from_child)
        if entity == "patient" and not any(f.field == "rrn" for f in guess.fields):
            hidden = [c.name for c in table.columns if c.non_empty and not c.has("rrn", 0.5)
                      and _name_fits(r"(JUMIN|RRN|RES(ID)?_?NO|SSN|주민).*", c.name)]
            if hidden:
                guess.notes.append(
                    f"{', '.join(hidden)}: named as the RRN, but no sampled value is a 13-digit RRN (encrypted "
                    "at rest, or masked): carried raw as stored, and no Patient has an RRN. To map rrn, decrypt it "
                    "in the section's query (MariaDB AES_DECRYPT, PostgreSQL pgp_sym_decrypt) or in hooks.py")
        if entity in ("procedure", "diagnosis", "fee_line") and not any(f.field == "teeth" for f in guess.fields):
            universal = [c.name for c in table.columns if c.name not in used and _universal_teeth(c)
                         and any(_name_fits(pattern, c) for pattern in _TEETH)]
            if universal:
                guess.notes.append(
                    f"{', '.join(universal)}: named for teeth, but the sampled values look like Universal (US) tooth "
                    "numbers (1-32, A-T), some of them no FDI tooth (1-10, 19, 20, 29-32, letters): not read as FDI "
                    "teeth (11-18 and 21-28 are teeth in both numberings, different ones), carried raw as written. "
                    f"If the chart is Universal, add teeth = {{ column = \"{universal[0]}\" }} and "
                    "teeth_numbering = { value = \"universal\" } to the fields (each tooth coded by its FDI number)")
        self._deletion_flag(guess, table, used)
        self._correction_flag(guess, table, used)
        self._record_status(guess, table, used)
        if entity == "order_line":
            self._dose_counts(guess, table, used)
        if entity == "attachment":
            self._media_type_from_path(guess, table)
        if entity == "vital_signs":
            self._blood_pressure_text(guess, table, used)
            self._json_vitals(guess, table, used)
        if entity == "patient":
            self._merged_into(guess, table, used)
            self._birth_date_in_parts(guess, table, used)
        self._time_beside_date(guess, table, used)
        if entity == "appointment":
            self._booking_minutes(guess, table, used)
            self._booking_times(guess, table, used)
        if entity == "diagnosis":
            self._service_date(guess, table, used)
            self._problem_list(guess, table, used)
        if entity == "fee_line" and ({"patient_id", "service_date"} & set(guess.missing)):
            self._through_receipt(guess, table)
        if entity == "payment" and ({"patient_id", "paid"} & set(guess.missing)):
            self._through_receipt(guess, table, "paid", "payments")
        if "patient_id" in guess.missing:
            self._patient_through_visit(guess, table)
        if "patient_id" in guess.missing:
            self._patient_through_header(guess, table)
        if "patient_id" in guess.missing:
            self._patient_through_name(guess, table)
        if "patient_id" in guess.missing:
            self._patient_through_parent(guess, table)
        if "patient_id" in guess.missing:
            self._patient_through_chain(guess, table)
        self._common_code_names(guess, table)
        self._join_lookups(guess, table)
        self._cast_latin1(guess, table, key)
        self._json_documents_note(guess, table)
        folded = _folded_select(self.profile.engine, table)
        if folded and not guess.query:
            guess.query = folded
            guess.query_why = ("PostgreSQL folds unquoted names to lower case and this table's were created with "
                               "capitals: read under their lower-case names")
        return guess

    def _dose_counts(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A prescription line's count named neither for times a day nor for days (CNT, ORD_CNT, DAY_CNT: a daily
        count in some programs, the days in others), decided by its sampled values and its neighbours: a value
        above 6 (up to 365, all whole) says days; all of 1-6 says times a day where a neighbour already holds the
        days, days where one holds the times a day. Undecided (both open, every value 1-6; or values neither fits),
        it stays raw with a ``# CHECK`` line naming it."""
        for column in table.columns:
            if column.name in used or not column.non_empty or not any(
                    _name_fits(p, column) for p in _AMBIGUOUS_COUNT):
                continue
            have = {f.field for f in guess.fields}
            open_fields = [n for n in ("frequency", "days") if n not in have]
            if not open_fields:
                return
            whole = column.has("day_count", 1.0) and _fits(column, "int")
            longer = whole and column.shapes.get("day_count", 0) > column.shapes.get("per_day", 0)
            if longer and "days" in open_fields:
                name, why = "days", "whole numbers, some above 6 and none above 365: days, no times a day"
            elif whole and not longer and len(open_fields) == 1:
                name = open_fields[0]
                beside = "days" if name == "frequency" else "times a day"
                why = f"whole numbers 1-6, and another column holds the {beside}"
            else:
                guess.checks.append(
                    f"{column.name}: named as a count, times a day or days; the sampled values do not say which "
                    f"(both fit, or neither): carried raw. Map it as frequency or days if it is one")
                continue
            found = self._finish("order_line", table, name, column, "int", False, used,
                                 f"{_name_matches(next(p for p in _AMBIGUOUS_COUNT if _name_fits(p, column)), column)}"
                                 f" (times a day or days); {why}")
            if found is not None:
                guess.fields.append(found)

    @staticmethod
    def _booking_minutes(guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A booking's length is minutes only on a column of whole numbers: a fraction of an hour (Odoo's duration
        0.25, a DOUBLE) or an INTERVAL is carried raw as written; a bare DURATION is read as minutes with a
        ``# CHECK`` line (a program may keep seconds)."""
        found = next((f for f in guess.fields if f.field == "minutes"), None)
        column = table.column(found.column) if found is not None and found.column else None
        if found is None or column is None:
            return
        fraction = column.type_name.upper().startswith(("FLOAT", "DOUBLE", "REAL", "INTERVAL", "DEC", "NUM", "MONEY"))
        if not _integer_typed(column) and (fraction or (column.numeric < column.non_empty
                                                        and not column.has("number", 1.0))):
            guess.fields.remove(found)
            used.discard(found.column)
            return
        if not _name_fits(r"(.*_)?(MIN|MINS|MINUTE|MINUTES|M)|.*분", column):
            index = guess.fields.index(found)
            guess.fields[index] = dataclasses.replace(found, check=f"{column.name} read as the booking's length in "
                                                      "minutes: check the program keeps minutes (not seconds or hours)")

    @staticmethod
    def _booking_times(guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A booking's day in one column and its start and end times of day in two others (OSCAR's
        appointment_date, start_time, end_time; 예약일자, 시작시간, 종료시간): the start is the day with the start
        time, the end the day with the end time, each read together (a row without a time keeps its day). Before,
        the start was the day alone (the whole day) and both times were carried raw."""
        start = next((f for f in guess.fields if f.field == "start"), None)
        if start is None or start.type != "date" or start.columns or start.format is not None or start.key_form:
            return
        named = FIELD_HINTS["appointment"]["start"][:3]  # named for the booking or its start, not any date
        moment = next((c for c in table.columns if c.name not in used and _date_like(c) and c.non_empty
                       and _time_type(c, "datetime") == "datetime" and any(_name_fits(p, c) for p in named)), None)
        if moment is not None:
            # the booked moment beside the booked day (Frappe's appointment_datetime beside appointment_date and
            # appointment_time): the moment is the start; the day and the time carried raw as written
            guess.fields[guess.fields.index(start)] = dataclasses.replace(
                start, column=moment.name, type="datetime",
                why=f"column {moment.name} holds the booked date and time, beside the day alone in {start.column}")
            used.add(moment.name)
            used.discard(start.column)
            return

        def time_of_day(pattern: str) -> ColumnProfile | None:
            # a time the patterns read (0930, 09:30) or a column declared TIME (a time of day, no shape sampled)
            return next((c for c in table.columns if c.name not in used and _name_fits(pattern, c) and c.non_empty
                         and (c.shapes.get("time_read", 0) == c.non_empty
                              or re.fullmatch(r"TIME(\(\d\))?", c.type_name.upper()))), None)
        begin = time_of_day(r"(.*_)?(START|BEGIN|FROM)_?(TIME|TM|HHMM|HMS)|시작_?(시간|시각)")
        if begin is None:
            return
        patterns = _day_time_formats(table.column(start.column))
        guess.fields[guess.fields.index(start)] = dataclasses.replace(
            start, columns=(start.column, begin.name), join=" ", type="datetime", format=patterns,
            why=start.why + f"; with its start time of day kept beside it in {begin.name}: read together (a booking "
                            "without a time keeps its day)")
        used.add(begin.name)
        finish = time_of_day(r"(.*_)?(END|FINISH|UNTIL)_?(TIME|TM|HHMM|HMS)|(종료|끝)_?(시간|시각)")
        if finish is not None and not any(f.field == "end" for f in guess.fields):
            guess.fields.append(FieldGuess(
                "end", "", "datetime", f"the booking's end time of day {finish.name}, on the day of {start.column}: "
                "read together", columns=(start.column, finish.name), join=" ", format=patterns))
            used.add(finish.name)

    def _deletion_flag(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A soft-delete flag (``del_yn``): a row the EMR deleted is still a record the law may require to keep, so
        it is exported saying so, never as an ordinary one: ``status`` entered-in-error (the flag's other value an
        ordinary record, ``""``); on a record with no status but ``active`` (a patient), active = false. An
        ``active`` column whose every sampled value is the same gives way to a flag that says a sampled row was
        deleted (Open Hospital's PAT_ACTIVE always 1 beside PAT_DELETED 'Y'/'N'; was: the deleted patient exported
        active)."""
        record = model.ENTITY_TYPES[guess.entity]
        names = {f.name for f in dataclasses.fields(record)}
        statuses = model.STATUS_VALUES.get(guess.entity, frozenset())
        taken = next((f for f in guess.fields if f.field == "active"), None)
        if "entered-in-error" in statuses and "status" in names:
            target, taken = "status", None
        elif "active" in names and (taken is None or getattr(table.column(taken.column), "distinct", 0) == 1):
            target = "active"
        else:
            return

        def instead(deleted: Collection[str]) -> bool:
            """Whether the flag may be read: always where no ``active`` column is, else where it says a sampled row
            was deleted (that column then given way, carried raw with the row's other unread columns)."""
            if taken is None:
                return True
            if not deleted:
                return False
            guess.fields.remove(taken)
            used.discard(taken.column)
            return True
        for column in table.columns:
            values = self.sampled_codes.get((table.name, column.name))
            if column.name in used or not values:
                continue
            if _name_fits(_DELETION_STATUS, column) and any(v.lower() in _DELETED_WORDS for v in values) and all(
                    v.lower() in _DELETED_WORDS | _KEPT_WORDS for v in values):
                # a row status whose only words say the row was deleted (Care2x: '' or 'deleted', 'void', 'hidden')
                words = {v: v.lower() in _DELETED_WORDS for v in sorted(values)}
                live: dict[str, str | bool] = {v: "" if target == "status" else True
                                               for v, deleted in words.items() if not deleted}
                dead: dict[str, str | bool] = {v: "entered-in-error" if target == "status" else False
                                               for v, deleted in words.items() if deleted}
                if not instead(dead):
                    return
                used.add(column.name)
                guess.fields.append(FieldGuess(
                    target, column.name, "status" if target == "status" else "bool",
                    f"a row status whose every sampled value says the row was deleted ({', '.join(dead)}) or is "
                    f"blank{' or ' + ', '.join(live) if live else ''}: a deleted row is exported with "
                    f"{'status entered-in-error' if target == 'status' else 'active = false'}, never dropped nor "
                    "as an ordinary one", map={**dead, **live}))
                return
            in_use = target == "status" and guess.entity not in _IN_USE_IS_CURRENT and _name_fits(_IN_USE_ROW, column)
            if not in_use and not any(_name_fits(p, column) for p in _DELETION_FLAG):
                continue
            pairs = [pair for pair in _DELETION_PAIRS if values & set(pair)]
            if not pairs or not values <= {v for pair in pairs for v in pair}:
                continue
            mapping: dict[str, str | bool] = {}
            for yes, no in pairs:
                deleted, kept = (no, yes) if in_use else (yes, no)
                mapping.setdefault(deleted, "entered-in-error" if target == "status" else False)
                mapping.setdefault(kept, "" if target == "status" else True)
            if not instead([v for v in values if mapping.get(v) in ("entered-in-error", False)]):
                continue
            used.add(column.name)
            said = ("status entered-in-error, the others an ordinary record" if target == "status"
                    else "active = false")
            names_says = ("whether the row is in use (one no longer in use was deleted)" if in_use
                          else "the row was deleted (a soft delete)")
            guess.fields.append(FieldGuess(
                target, column.name, "status" if target == "status" else "bool",
                f"column name says {names_says}; every sampled value is one of "
                f"{', '.join(sorted(mapping))}: a deleted row is exported with {said}, never dropped nor as an "
                "ordinary one", map=mapping))
            return

    def _record_status(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A record's status column (TX_STAT P/D/C, visit_status, 진행상태 예약/접수/진료중/완료/취소, Frappe's
        docstatus 0/1/2, CANCEL_YN) read for what its sampled values say: a ``map`` onto the entity's FHIR status
        (a planned treatment is a Procedure in preparation, a cancelled visit an Encounter cancelled), where no
        deletion or correction flag took the status first. Values are read as words (:data:`_STATUS_WORDS`), as
        the names a common-code table gives the codes, as the set P/D/C, as a docstatus's 0/1/2 only where the
        column is named so, and a cancellation flag's Y/N; a value none of these reads is kept as recorded (the
        resource's ``unknown``, counted) with a ``# CHECK`` line, on the entities whose resource can say so. Before,
        the column was carried raw and every row exported with the usual status (a planned treatment 'completed',
        a cancelled encounter 'finished'). Where two columns are read, the one reading more of its values wins; on
        a tie the docstatus (the record's own lifecycle)."""
        states = _STATUS_OF.get(guess.entity)
        taken = next((f for f in guess.fields if f.field == "status"), None)
        deletion = taken if (taken is not None and taken.map and not taken.expr and not taken.columns
                             and "entered-in-error" in taken.map.values()) else None
        if states is None or (taken is not None and deletion is None) or "status" not in {
                f.name for f in dataclasses.fields(model.ENTITY_TYPES[guess.entity])}:
            return
        best = self._best_status(guess.entity, table, used)
        if best is None:
            return
        found = best
        used.add(found.column)
        if deletion is not None:
            # a soft-delete flag took the status first (DEL_YN beside TX_STAT): one status of both, the deleted row
            # entered-in-error whatever its status says; both columns carried raw as written (a computed field's)
            found = self._status_beside_deletion(table, deletion, found)
            guess.fields.remove(deletion)
        guess.fields.append(found)

    def _best_status(self, entity: str, table: TableProfile, used: set[str]) -> FieldGuess | None:
        """The status field of ``entity`` read off the column of ``table`` whose sampled values read best (see
        :meth:`_record_status`), or None."""
        states = _STATUS_OF[entity]
        best: tuple[tuple[int, int, bool], FieldGuess] | None = None
        for column in table.columns:
            values = self.sampled_codes.get((table.name, column.name))
            if column.name in used or not values:
                continue
            read = self._status_words(table, column, values, entity)
            if read is None:
                continue
            words, how = read
            # entered in error (deleted) wherever the entity's resource can say it
            erroneous = {"error": "entered-in-error"} if "entered-in-error" in model.STATUS_VALUES.get(
                entity, frozenset()) else {}
            mapping: dict[str, str | bool] = {v: "" if w == "ordinary" else {**erroneous, **states}[w]
                                              for v, w in sorted(words.items())
                                              if w in states or w in erroneous or w == "ordinary"}
            unread = sorted(values - set(mapping))
            if mapping and all(m == "" for m in mapping.values()):
                # nothing but ordinary records read (docstatus all 1): the usual status, the column carried raw
                continue
            said = ", ".join(f"{v} {'an ordinary record' if s == '' else s}" for v, s in sorted(mapping.items()))
            # a value not read: kept as recorded (the recorded-status extension, its cell carried raw as
            # status-unread, counted, named by connector check); the resource's unknown, or, where its value set has
            # none (immunization, receipt, coverage, payment), its usual status. Before 2026-12 such a column was
            # not mapped on those four (the export quarantined the row).
            kept = ("the resource's status unknown" if entity in _STATUS_UNKNOWN_OK
                    else "the resource's usual status (its value set has no unknown)")
            # named only where it may be shown (model.may_show): a name typed into the status box is counted
            # (connector.toml is written outside the sealed bundle; before, every unread value was written as it was)
            named = [v for v in unread if model.may_show(v)]
            hidden = len(unread) - len(named)
            said_unread = ", ".join([*named, *([f"{hidden} value{'s' if hidden > 1 else ''} of free text (not shown)"]
                                               if hidden else [])])
            check = (f"{said_unread} of {column.name} not read: kept as recorded, {kept}; add it to the map "
                     "if you know what it says") if unread else ""
            found = FieldGuess("status", column.name, "status", f"{how}: {said}" if said else how, map=mapping,
                               check=check)
            rank = (len(mapping), -len(unread), _name_fits(_DOC_STATUS, column))
            if best is None or rank > best[0]:
                best = (rank, found)
        return best[1] if best is not None else None

    def _status_beside_deletion(self, table: TableProfile, deletion: FieldGuess, found: FieldGuess) -> FieldGuess:
        """One ``status`` of a soft-delete flag and a record status column: ``CASE WHEN <flag> IN (<deleted>) THEN
        'entered-in-error' ELSE <status> END`` (a status column of integers read as text)."""
        assert deletion.map is not None and found.map is not None
        fold = _folded_select(self.profile.engine, table) is not None
        flag_column, status_column = table.column(deletion.column), table.column(found.column)
        flag, status = (deletion.column.lower(), found.column.lower()) if fold else (deletion.column, found.column)
        numbers = flag_column is not None and _integer_typed(flag_column)
        deleted = ", ".join(v if numbers else "'" + v.replace("'", "''") + "'"
                            for v, s in sorted(deletion.map.items()) if s == "entered-in-error")
        read = f"CAST({status} AS CHAR(20))" if status_column is not None and _integer_typed(status_column) else status
        return dataclasses.replace(
            found, column="", expr=f"CASE WHEN {flag} IN ({deleted}) THEN 'entered-in-error' ELSE {read} END",
            map={**found.map, "entered-in-error": "entered-in-error"},
            why=f"{found.why}; and {deletion.column} a soft delete ({deletion.why.split(':')[0]}): a deleted row "
                f"entered-in-error whatever {found.column} says; both columns carried raw as written")

    def _status_words(self, table: TableProfile, column: ColumnProfile, values: set[str],
                      entity: str = "") -> tuple[dict[str, str], str] | None:
        """What each sampled value of a status-named column says (:data:`_STATUS_WORDS`), and how it was read; None
        where the name is no status's or no value is read."""
        if _name_fits(_DOC_STATUS, column):
            if values <= {"0", "1", "2"}:
                return ({v: w for v, w in (("0", "draft"), ("1", "ordinary"), ("2", "cancelled")) if v in values},
                        "a Frappe/ERPNext docstatus (0 draft, 1 submitted, 2 cancelled), every sampled value one of "
                        "them")
            return None
        if any(_name_fits(p, column) for p in _CANCEL_FLAG):
            pairs = [pair for pair in _DELETION_PAIRS if values & set(pair)]
            if not pairs or not values <= {v for pair in pairs for v in pair}:
                return None
            words = {v: "cancelled" if any(v == yes for yes, _ in pairs) else "ordinary" for v in values}
            return words, ("column name says the record was cancelled (a cancellation flag), every sampled value a "
                           "yes or no")
        if not any(_name_fits(p, column) for p in _RECORD_STATUS):
            return None

        def word(text: str) -> str | None:
            said = re.sub(r"[\s_-]+", " ", text.strip().lower())
            return (_BOOKING_STATUS_WORDS.get(said) if entity == "appointment" else None) or _STATUS_WORDS.get(said)
        words = {v: w for v in values if (w := word(v)) is not None}
        how = "column name says a record status; its sampled values are status words"
        found = self._common_group(table, column) if len(words) < len(values) else None
        if found is not None:
            common, group, _, _ = found
            names = common.names[group]
            # every code of the group whose name reads (취소 too where no sampled row was cancelled yet)
            named = {v: w for v, name in names.items() if (w := word(name)) is not None}
            if len(set(named) & values) > len(words):
                said = ", ".join(sorted(names[v] for v in named))
                words, how = named, (f"column name says a record status; its sampled values are codes of group "
                                     f"{group!r} of {common.table}, whose names ({said}) are status words")
        letters = next(((codes, said) for n, (codes, said) in enumerate(_STATUS_LETTER_SETS)
                        if values <= set(codes) and (n == 0 or next(iter(codes)) in values)), None)
        if not words and letters is not None and len(values) >= 2:
            words, how = ({v: letters[0][v] for v in values},
                          f"column name says a record status; its sampled values are the codes {letters[1]}")
        if not words and any(_name_fits(p, column) for p in _OWN_STATUS):
            # the record's own status none of whose values reads: mapped all the same, every value kept as recorded
            # (before 2026-12: carried raw, every record the usual status, nothing said)
            return {}, "column name says the record's own status; none of its sampled values is a status word"
        return (words, how) if words else None

    def _blood_pressure_text(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """Blood pressure kept as one text column ('120/80', BP, 혈압) and no systolic/diastolic columns: both read
        out of it by ``expr`` (on the engines :data:`_KEY_FORM_ENGINES`); the column is carried raw as written.
        Before, it was only carried raw: no blood-pressure Observation."""
        if any(f.field in ("systolic", "diastolic") for f in guess.fields) or (
                self.profile.engine not in _KEY_FORM_ENGINES):
            return
        for column in table.columns:
            if (column.name in used or not IDENTIFIER.match(column.name) or not column.has("bp_text", 0.8)
                    or not any(_name_fits(p, column) for p in _BP_COLUMN)):
                continue
            why = (f"column name matches a blood pressure and {100 * column.share('bp_text'):.0f} % of "
                   f"{column.non_empty} sampled values look like {SHAPES['bp_text']}s: the {{}} number read out "
                   "(expr); the column is carried raw as written")
            for part, name in ((1, "systolic"), (2, "diastolic")):
                guess.fields.append(FieldGuess(name, column.name, "decimal", why.format(name), bp_part=part,
                                               engine=self.profile.engine))
            used.add(column.name)
            return

    def _json_documents_note(self, guess: EntityGuess, table: TableProfile) -> None:
        """Say which columns hold JSON documents no field reads whole, and that they are carried raw as written
        (counts and names only); how to read a key on MariaDB/MySQL as the server can (json_value_reading)."""
        whole = {f.column for f in guess.fields if f.column and not (f.expr or f.json_keys or f.bp_part)}
        documents = [c for c in table.columns if c.name not in whole and c.non_empty
                     and c.json.objects >= 0.5 * c.non_empty]
        if documents:
            mariadb = ("JSON_UNQUOTE(JSON_EXTRACT(col, '$.key')) (this server has no JSON_VALUE; a JSON null reads "
                       "'null')" if self.json_value_reading() == JSON_EXTRACT else "JSON_VALUE(col, '$.key')")
            said = ", ".join(f"{c.name} ({c.json.objects} of {c.non_empty} sampled values JSON objects)"
                             for c in documents)
            guess.notes.append(
                f"{said}: JSON documents, carried raw as written, every key (a vital sign's keys read out by expr "
                "where they are named so); to read another key, an expr: PostgreSQL (col ->> 'key'), MariaDB "
                f"{mariadb}, SQLite json_extract(col, '$.key') (docs/connectors.md, JSON columns)")

    def _json_vitals(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """Vital signs kept as keys of a JSON document column of the vital-signs table (``data = {"혈압": "130/85",
        "맥박": 80}``): each measurement no column gave read out of it by ``expr`` (:func:`_json_vital_keys`); the
        document itself is carried raw as written, keys no field reads with it. Before, the table's measurements
        were not found: a vital-signs section of no measurement, every row quarantined."""
        have = {f.field for f in guess.fields}
        reading = self.json_value_reading()
        for column in table.columns:
            if column.name in used or reading is None:
                continue
            lifted = _json_vital_keys(self.profile.engine, column, have)
            for name, keys, part, why in lifted:
                guess.fields.append(FieldGuess(name, column.name, "decimal", why + " (expr); the document is carried "
                                               "raw as written", json_keys=keys, bp_part=part,
                                               engine=self.profile.engine, json_reading=reading))
            if lifted:
                used.add(column.name)
                have |= {f for f, *_ in lifted}

    def _correction_flag(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A correction flag (``corr_yn``) on a result the EMR corrected (a second row replacing the first): the
        corrected row is exported with ``status`` corrected, the flag's other value an ordinary (final) one; where
        no status is mapped yet (a deletion flag takes it first) and the entity has the status (lab results, vital
        signs, lab reports). Before, both rows were 'final', and only the raw sidecar told which one replaced."""
        names = {f.name for f in dataclasses.fields(model.ENTITY_TYPES[guess.entity])}
        if ("corrected" not in model.STATUS_VALUES.get(guess.entity, frozenset()) or "status" not in names
                or any(f.field == "status" for f in guess.fields)):
            return
        for column in table.columns:
            if column.name in used or not any(_name_fits(p, column) for p in _CORRECTION_FLAG):
                continue
            values = self.sampled_codes.get((table.name, column.name))
            pairs = [pair for pair in _DELETION_PAIRS if values and values & set(pair)]
            if not values or not pairs or not values <= {v for pair in pairs for v in pair}:
                continue
            mapping: dict[str, str | bool] = {}
            for corrected, ordinary in pairs:
                mapping.setdefault(corrected, "corrected")
                mapping.setdefault(ordinary, "")
            used.add(column.name)
            guess.fields.append(FieldGuess(
                "status", column.name, "status",
                f"column name says the row is a correction; every sampled value is one of "
                f"{', '.join(sorted(mapping))}: a corrected row is exported with status corrected, the others as "
                "ordinary ones", map=mapping))
    def _merged_into(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """환자 통합: the chart a patient was merged into, from a column of the patient table named so (merged_into,
        MERGE_PT_NO, 통합차트번호), else from a merge table named so (chart_merge(old_no, new_no, merged_at)) read by an
        ``expr``; either only where the sampled values are chart numbers (or keys) of the patient table itself."""
        chart = next((f for f in guess.fields if f.field == "chart_number" and not f.columns and not f.expr
                      and f.key_form is None), None)
        own = [c for c in ((chart.column if chart is not None else None),
                           guess.key if isinstance(guess.key, str) else None) if c]
        if not own or not table.plain:
            return

        def holds_charts(child: TableProfile, column: str) -> tuple[str, int, int] | None:
            # as recorded, else written in another form of them (141 for '0000141', 'c0031' for 'C0031'): the
            # forms a visit's reference may take the patient's key in (key_form), which the export reads alike
            for parent_column in own:
                sampled, hits = self.exact_hits(child, column, table.name, parent_column, None)
                if not (sampled and hits >= 0.8 * sampled):
                    rewritten = self.key_form(child, column, table, parent_column)
                    sampled, hits = rewritten[1:] if rewritten is not None else (0, 0)
                if not (sampled and hits >= 0.8 * sampled):  # ' C0031 ': spaces the export's key_text ignores
                    sampled, hits = self.exact_hits(child, column, table.name, parent_column, ("trim", 0))
                if sampled and hits >= 0.8 * sampled:
                    return parent_column, sampled, hits
            return None

        for column in table.columns:
            if column.name in used or column.non_empty == 0 or not any(
                    _name_fits(p, column) for p in _MERGE_COLUMN):
                continue
            found = holds_charts(table, column.name)
            if found is None:
                continue
            used.add(column.name)
            guess.fields.append(FieldGuess(
                "merged_into", column.name, "text",
                f"column name says the chart was merged into another (환자 통합); {found[2]} of {found[1]} sampled "
                f"values are {table.name}.{found[0]} of a patient: the Patient is exported replaced-by that one "
                "(active false), which replaces it; a value naming no patient, the patient itself or a cycle is "
                "kept as recorded with a field defect"))
            return
        for other in self.profile.tables:
            pair = _merge_table(other) if other.name != table.name and other.plain else None
            if pair is None:
                continue
            olds, news = [pair[0]], [pair[1]]
            old_found, new_found = holds_charts(other, olds[0]), holds_charts(other, news[0])
            if old_found is None or new_found is None or old_found[0] != new_found[0]:
                continue
            chart_column = old_found[0]
            # the latest merge of the chart, if it was merged more than once (the highest new chart number)
            expr = (f"(SELECT MAX(m.{news[0]}) FROM {self.relation(other.name)} m "
                    f"WHERE m.{olds[0]} = s.{chart_column})")
            guess.fields.append(FieldGuess(
                "merged_into", f"{other.name}.{news[0]}", "text",
                f"table {other.name} is named as a merge of charts (환자 통합): {olds[0]} ({old_found[2]} of "
                f"{old_found[1]} sampled values) and {news[0]} ({new_found[2]} of {new_found[1]}) are "
                f"{table.name}.{chart_column} of patients: each old chart is exported replaced-by the new one "
                f"(active false); {other.name} itself is carried whole", expr=expr))
            return

    @staticmethod
    def _birth_date_in_parts(guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A birth date kept as its year, month and day in three columns (OSCAR's ``year_of_birth``,
        ``month_of_birth``, ``date_of_birth``; ``birth_yy``/``birth_mm``/``birth_dd``): read together, joined with
        '-'. Only where no column holds the whole date, and every sampled year is four digits and every month and
        day one or two (a ``date_of_birth`` holding whole dates is the birth date itself)."""
        if any(f.field == "birth_date" for f in guess.fields):
            return
        parts: list[ColumnProfile] = []
        for word, digits in (("YEAR|YR|YYYY|YY|Y", 4), ("MONTH|MON|MM|M", 2), ("DAY|DATE|DD|D", 2)):
            found = [c for c in table.columns if c.name not in used and c.non_empty and _name_fits(
                rf"(BIRTH|BIRTHDAY|DOB|BIRTH_?DATE)_?({word})|({word})_?(OF_?)?(BIRTH|BIRTHDAY|DOB)", c)]
            if len(found) != 1 or found[0].max_length > digits:
                return
            parts.append(found[0])
        if not all(c.numeric == c.non_empty or c.shapes.get("number", 0) == c.non_empty for c in parts):
            return  # digits only, as numbers or as text
        names = tuple(c.name for c in parts)
        guess.fields.append(FieldGuess(
            "birth_date", names[0], "date", f"no column holds the whole birth date: its year ({names[0]}), month "
            f"({names[1]}) and day ({names[2]}) read together, a day or month '00' as unknown (the year, or the "
            "month, alone); a row with a part left empty keeps them raw, as every cell of a split value is",
            columns=names, join="-", format=("%Y-%m-%d", "%Y-%m-00", "%Y-00-00")))
        used.update(names)

    @staticmethod
    def _time_beside_date(guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A date field whose time of day the EMR keeps in a column of its own (내원일자 and 내원시간): noted, for the
        contractor to read the two together (the time column is carried raw, exactly, meanwhile)."""
        dates = [f for f in guess.fields if f.type == "date" and not f.columns and f.key_form is None]
        # a time written with colons (15:05), or digits alone (1505, 150530) every one of which reads as one
        times = [c.name for c in table.columns if c.name not in used and (c.has("time_of_day", 0.5) or (
                 c.non_empty and c.shapes.get("time_read", 0) == c.non_empty))
                 and _name_fits(r"(.*_)?(TIME|TM|HHMM|HMS)|.*(시간|시각)", c)]
        if dates:  # never another event's time (REG_TIME beside BIRTH_DATE: when the chart was made, not the birth)
            times = [t for t in times if _same_moment(dates[0].column, t)]
        time = table.column(times[0]) if len(times) == 1 else None
        if dates and time is not None and dates[0].format is None and _holds_datetime(
                guess.entity, dates[0].field) and time.shapes.get("time_read", 0) == time.non_empty:
            # sure: one time column beside a text date, every sampled time in a form the patterns read, and a
            # field that can hold the time
            patterns = _day_time_formats(table.column(dates[0].column))
            index = guess.fields.index(dates[0])
            guess.fields[index] = dataclasses.replace(
                dates[0], columns=(dates[0].column, times[0]), join=" ", type="datetime", format=patterns,
                why=dates[0].why + f"; with the time of day kept beside it in {times[0]} (오후 3:05, 1505, 15:05:00): "
                                   "read together (a visit without a time keeps its day)")
            used.add(times[0])
            return
        if dates and times:
            guess.notes.append(
                f"{', '.join(times)}: times of day kept beside the date of {dates[0].field} ({dates[0].column}); "
                "carried raw, the field a date only. To keep the time, read both: "
                f"{dates[0].field} = {{ columns = [{_toml_str(dates[0].column)}, {_toml_str(times[0])}], join = \" \", "
                "type = \"datetime\" }, with a datetime_formats pattern for each way they are written "
                "(\"%Y.%m.%d %p %I:%M\"…)")

    def _cast_latin1(self, guess: EntityGuess, table: TableProfile, key: str | list[str] | None) -> None:
        """CP949 text the server declares latin1 ('±èÈ¯ÀÚ' for '김환자'): the section's query reads those
        columns as bytes (every column, in order, under its own name), which [source] encoding decodes.
        Not when the scaffold writes another query, or a name cannot be written plainly (then the WARNING
        atop connector.toml stands alone)."""
        flagged = [c.name for c in table.columns if c.cp949_as_latin1]
        keys = [key] if isinstance(key, str) else list(key or ())
        # the scaffold's own query that joins another table in (the visit's date and patient): its ``A.*``
        # spelled out, the CP949 columns among them cast (Care2x's care_encounter_diagnosis)
        relation = self.relation(table.name)  # quoted where the name has a space
        joined = re.fullmatch(rf"SELECT (\w+)\.\*, (.+) FROM {re.escape(relation)} \1 (.+)", guess.query or "", re.S)
        if (not flagged or (guess.query and not joined) or self.profile.engine not in ("mariadb", "mysql") or any(
                c in keys for c in flagged) or not all(IDENTIFIER.match(c.name) for c in table.columns)):
            return
        alias = f"{joined.group(1)}." if joined else ""
        select = ", ".join(f"CAST({alias}{c.name} AS BINARY) AS {c.name}" if c.name in flagged else f"{alias}{c.name}"
                           for c in table.columns)
        if joined:
            guess.query = f"SELECT {select}, {joined.group(2)} FROM {relation} {joined.group(1)} {joined.group(3)}"
            guess.query_why += (f"; {', '.join(flagged)}: CP949 text the server declares latin1, read as bytes "
                                "and decoded with [source] encoding")
            guess.latin1_cast = flagged
            return
        guess.query = f"SELECT {select} FROM {relation}"
        guess.query_why = (f"{', '.join(flagged)}: CP949 text the server declares latin1, read as bytes and "
                           "decoded with [source] encoding")
        guess.latin1_cast = flagged

    def _split_name(self, table: TableProfile, used: set[str]) -> FieldGuess | None:
        """A name kept as family and given name columns (LNAME, FNAME): joined, family name first as Korean
        names are written (a Western EMR's order may need swapping)."""
        # the part before or after NAME (Care2x: name_last, name_first)
        # plural too: all of a person's names in one column (GNUmed's dem.names: lastnames, firstnames)
        family = self._match(table, (r"(L|LAST|FAMILY|SUR)_?NAMES?", r"SUR_?NM", r"(L|LAST|FAMILY)_?NM", r"성",
                                     r"NAME_?(LAST|FAMILY|SUR)"), used)
        given = self._match(table, (r"(F|FIRST|GIVEN)_?NAMES?", r"(F|FIRST|GIVEN)_?NM", r"이름",
                                    r"NAME_?(FIRST|GIVEN)"), used)
        if family is None or given is None:
            return None
        if any(c.sampled and c.non_empty * 2 < c.sampled for c in (family[0], given[0])):
            return None  # mostly empty: the rows would lose their required name
        used.update({family[0].name, given[0].name})
        return FieldGuess("name", family[0].name, "text", f"no column holds the whole name: family name "
                          f"({family[0].name}) and given name ({given[0].name}) joined with a space; check the order",
                          required=True, columns=(family[0].name, given[0].name), join=" ")

    def _name_from_child(self, entity: str, guess: EntityGuess, table: TableProfile) -> FieldGuess | None:
        """A name kept in a table of its own, one row per name of the person (OpenMRS ``person_name``: its
        ``person_id`` holds the person table's key): read by sub-queries that take one row per person, the
        preferred one first where the table has such a flag, else the lowest key."""
        key = guess.key
        if (not isinstance(key, str) or guess.query or not table.plain
                or _folded_select(self.profile.engine, table) is not None):
            return None
        for child, link in self._person_links(table, key):
            if _history_table(child):
                continue  # a log of what was done to the record (OpenEyes' audit: server_name), never its names
            parts = self._split_name(child, set())
            whole = None if parts else self._match(
                child, [p for p in FIELD_HINTS[entity]["name"] if "NAME" in p or "NM" in p], set())
            if parts is None and (whole is None or _name_fits(_PART_NAME, whole[0])):
                continue
            sampled, hits = self.overlap(child, link.name, table.name, key)
            if not sampled or hits * 2 < sampled:
                continue
            # the name in use first (a flag, never a text column named so: GNUmed's ``preferred`` is a nickname),
            # then the preferred one; NULL last (PostgreSQL sorts it first when descending)
            last = " NULLS LAST" if self.profile.engine in ("postgresql", "oracle") else ""
            flags = [c.name for pattern in (_IN_USE_FLAG, r"(IS_?)?PREF(ERRED)?(_YN)?") for c in child.columns
                     if c.has("yn", 0.8) and _name_fits(pattern, c)]
            order = "".join(f"N.{flag} DESC{last}, " for flag in dict.fromkeys(flags)) + f"N.{child.primary_key[0]}"
            columns = parts.columns if parts is not None and parts.columns else (whole[0].name,) if whole else ()
            selects = []
            aliases = []
            for column in columns:
                alias = f"SCAFFOLD_{column.upper()}"
                aliases.append(alias)
                selects.append(self._first_row(f"N.{column}", f"{self.relation(child.name)} N",
                                               f"N.{link.name} = X.{key}", order) + f" AS {alias}")
            guess.query = f"SELECT X.*, {', '.join(selects)} FROM {self.relation(table.name)} X"
            first = (f"the one {' then '.join(dict.fromkeys(flags))} marks first" if flags
                     else f"the lowest {child.primary_key[0]} first")
            guess.query_why = (f"the name is kept in {child.name}, one row per name ({link.name}: {hits} of "
                               f"{sampled} sampled values are found in {table.name}.{key}): one row per "
                               f"{table.name} by sub-queries, {first}; filter out rows the EMR marks deleted")
            why = f"the name from {child.name} (see query)"
            if len(aliases) == 2:
                return FieldGuess("name", aliases[0], "text", why + f": family name ({columns[0]}) and given name "
                                  f"({columns[1]}) joined with a space; check the order", required=True,
                                  columns=(aliases[0], aliases[1]), join=" ")
            return FieldGuess("name", aliases[0], "text", why, required=True)
        return None

    def _person_links(self, table: TableProfile, key: str) -> Iterator[tuple[TableProfile, ColumnProfile]]:
        """The tables whose rows hang under a row of ``table`` (a person's names, its numbers), with the column
        holding its key: named as the key (OpenMRS ``person_id``), or, of an integer type, as the table itself after
        or before an id mark (GNUmed's ``id_identity`` of ``dem.identity``)."""
        for child in self.profile.tables:
            if (child is table or not child.plain or child.row_count == 0 or len(child.primary_key) != 1
                    or _folded_select(self.profile.engine, child) is not None
                    or any(part.upper() in SQL_RESERVED for part in child.parts)):
                continue
            link = next((c for c in child.columns if not c.primary_key and (
                c.name.upper() == key.upper() or (_integer_typed(c) and _names_table(c.name, table)))), None)
            if link is not None:
                yield child, link

    def _rrn_from_child(self, guess: EntityGuess, table: TableProfile) -> FieldGuess | None:
        """The RRN kept in a table of the person's numbers, one row per number (GNUmed's ``dem.lnk_identity2ext_id``:
        ``external_id`` beside ``fk_origin``, the number's kind): a column of which at least 30 % of the sampled
        values are RRNs; where the table holds other numbers too, a column of the kind whose one value every
        sampled RRN has (and no other number) keeps the sub-query to that kind (a masked RRN of that kind is then
        the patient's field defect, never another number). Read by a sub-query (one row per person, the lowest
        key first) added to the section's query."""
        key = guess.key
        if (not isinstance(key, str) or self.source is None or not table.plain
                or _folded_select(self.profile.engine, table) is not None):
            return None
        own = re.fullmatch(rf"SELECT X\.\*(, .+)? FROM {re.escape(self.relation(table.name))} X", guess.query or "",
                           re.S)
        if guess.query and own is None:
            return None  # a query of another shape: the sub-query is left to the contractor
        for child, link in self._person_links(table, key):
            numbers = [c for c in child.columns if c.name != link.name and not c.primary_key and c.has("rrn", 0.3)
                       and IDENTIFIER.match(c.name)]
            if not numbers:
                continue
            column = numbers[0]
            sampled, hits = self.overlap(child, link.name, table.name, key)
            if not sampled or hits * 2 < sampled:
                continue
            rows = list(self.source.rows(_sample_sql(self.source, child, child.columns, child.primary_key[0],
                                                     self.profile.sample_rows)))
            shaped = [r for r in rows if _RRN.match(str(r.get(column.name.lower()) or "").strip())]
            where = f"N.{link.name} = X.{key}"
            kind_said = ""
            if len(shaped) < len(rows):
                kinds = [c for c in child.columns if c not in (link, column) and not c.primary_key
                         and _integer_typed(c) and IDENTIFIER.match(c.name)
                         and len({r.get(c.name.lower()) for r in shaped}) == 1]
                kind = next((c for c in kinds if (value := shaped[0].get(c.name.lower())) is not None
                             and not any(r.get(c.name.lower()) == value for r in rows if r not in shaped
                                         and not str(r.get(column.name.lower()) or "").count("*"))), None)
                if kind is None:
                    continue  # other numbers beside the RRNs and nothing telling them apart: carried raw
                number = int(shaped[0][kind.name.lower()])
                where += f" AND N.{kind.name} = {number}"
                kind_said = f", those whose {kind.name} is {number} (every sampled RRN's; no other number's)"
            alias = "SCAFFOLD_RRN"
            select = self._first_row(f"N.{column.name}", f"{self.relation(child.name)} N", where,
                                     f"N.{child.primary_key[0]}") + f" AS {alias}"
            said = (f"the RRN is kept in {child.name}.{column.name}, one row per number of the person "
                    f"({link.name} holds {table.name}.{key}){kind_said}: the lowest {child.primary_key[0]} first")
            if own is not None:
                guess.query = f"SELECT X.*{own.group(1) or ''}, {select} FROM {self.relation(table.name)} X"
                guess.query_why += "; " + said
            else:
                guess.query = f"SELECT X.*, {select} FROM {self.relation(table.name)} X"
                guess.query_why = said
            return FieldGuess("rrn", alias, "rrn", f"{100 * column.share('rrn'):.0f} % of the sampled values of "
                              f"{child.name}.{column.name} are RRNs (see query; a masked one is no RRN)")
        return None

    def _name_from_parent(self, entity: str, guess: EntityGuess, table: TableProfile, used: set[str],
                          present: set[str]) -> list[FieldGuess]:
        """The person kept in a table the record points at (Tryton's party: ``gnuhealth_patient.name`` holds
        ``party_party.id``, and the name, birth date and sex are the party's): joined in by that table's key (a LEFT
        JOIN keeps every row); the name, and the birth date and sex the record's own table lacks, read from it.
        Only a column named for the person (``name``, ``party``, ``person``, ``partner`` — Odoo's
        ``medical_patient.partner_id`` of ``res_partner`` —, ``…_id``), or named for the other table with a value of
        its own in every sampled row (OpenEyes' ``patient.contact_id`` of ``contact``: one contact a patient, never a
        doctor or user many records share), of an integer type, most of whose sampled values are the other table's
        keys; a table the column names (``partner_id``: a table whose name ends in ``partner``) is tried before the
        others, whose small serial keys may hold the same numbers (an appointment's ``name`` is no person's)."""
        key = guess.key
        if (not isinstance(key, str) or guess.query or not table.plain
                or _folded_select(self.profile.engine, table) is not None):
            return []
        links = [c for c in table.columns if c.name not in used and c.name != key and _integer_typed(c)
                 and c.non_empty]
        for link in links:
            named = _name_fits(_PERSON_LINK, link.name)
            for parent in sorted(self.profile.tables, key=lambda t: not _link_names_table(link.name, t)):
                if (parent is table or not parent.plain or parent.row_count == 0 or len(parent.primary_key) != 1
                        or _folded_select(self.profile.engine, parent) is not None
                        or any(part.upper() in SQL_RESERVED for part in parent.parts)):
                    continue
                if not named and not (_names_table(link.name, parent) and link.unique_in_sample
                                      and not self._NOT_WHAT & set(_words(parent.bare, table=True).split("_"))):
                    continue
                parts = self._split_name(parent, set())
                columns: tuple[str, ...] = tuple(parts.columns or ()) if parts is not None else ()
                if parts is None:
                    whole = self._match(parent, [p for p in FIELD_HINTS[entity]["name"] if "NAME" in p or "NM" in p],
                                        set())
                    if whole is None or _name_fits(_PART_NAME, whole[0]) or _integer_typed(whole[0]):
                        continue
                    family = self._match(parent, (r"(L|LAST|FAMILY|SUR)_?NAME", r"(L|LAST|FAMILY|SUR)_?NM"), set())
                    # Tryton's party: ``name`` the given name beside ``lastname``; joined family name first
                    columns = (family[0].name, whole[0].name) if family is not None else (whole[0].name,)
                parent_key = parent.primary_key[0]
                sampled, hits = self.overlap(table, link.name, parent.name, parent_key)
                if not sampled or hits * 2 < sampled:
                    continue
                found: list[FieldGuess] = []
                selects = [f"P.{c} AS SCAFFOLD_{c.upper()}" for c in columns]
                why = (f"the name from {parent.name} (see query: {table.name}.{link.name} holds its "
                       f"{parent_key}, {hits} of {sampled} sampled values found)")
                if len(columns) == 2:
                    found.append(FieldGuess("name", f"SCAFFOLD_{columns[0].upper()}", "text", why + f": family name "
                                            f"({columns[0]}) and given name ({columns[1]}) joined with a space; "
                                            "check the order", required=True,
                                            columns=tuple(f"SCAFFOLD_{c.upper()}" for c in columns), join=" "))
                else:
                    found.append(FieldGuess("name", f"SCAFFOLD_{columns[0].upper()}", "text", why, required=True))
                parent_used = set(columns) | {parent_key}
                for name, annotation, required in _record_fields(entity):
                    if name not in ("birth_date", "sex") or name in present:
                        continue
                    own = self._plain_field(entity, parent, name, annotation, required, parent_used, parent_key)
                    if own is None or own.columns:
                        continue
                    alias = f"SCAFFOLD_{own.column.upper()}"
                    selects.append(f"P.{own.column} AS {alias}")
                    found.append(dataclasses.replace(own, column=alias,
                                                     why=own.why + f" (in {parent.name}, see query)"))
                used.add(link.name)
                guess.query = (f"SELECT X.*, {', '.join(selects)} FROM {self.relation(table.name)} X "
                               f"LEFT JOIN {self.relation(parent.name)} P ON P.{parent_key} = X.{link.name}")
                guess.query_why = (f"the person is kept in {parent.name}, which {link.name} points at: its name"
                                   f"{' and ' + ', '.join(f.field for f in found[1:]) if found[1:] else ''} "
                                   "joined in (LEFT JOIN keeps every row)")
                return found
        return []

    def _first_row(self, value: str, relation: str, where: str, order: str) -> str:
        """A sub-query of one value: the first row in ``order`` (each engine says "first row" its own way)."""
        engine = self.profile.engine
        if engine == "mssql":
            return f"(SELECT TOP 1 {value} FROM {relation} WHERE {where} ORDER BY {order})"
        if engine == "firebird":
            return f"(SELECT FIRST 1 {value} FROM {relation} WHERE {where} ORDER BY {order})"
        return f"(SELECT {value} FROM {relation} WHERE {where} ORDER BY {order} LIMIT 1)"

    def _split_rrn(self, table: TableProfile, used: set[str]) -> FieldGuess | None:
        """The RRN over two columns: 6 digits that are a YYMMDD date, then 7 digits starting 1-8."""
        front = [c for c in table.columns if c.name not in used and c.has("yymmdd", 0.8)
                 and _name_fits(r"(JUMIN|RRN|RES|SSN|주민).*", c)]
        back = [c for c in table.columns if c.name not in used and c.max_length == 7 and c.has("number", 0.8)
                and _name_fits(r"(JUMIN|RRN|RES|SSN|주민).*", c)]
        if not front or not back:
            return None
        used.update({front[0].name, back[0].name})
        return FieldGuess("rrn", front[0].name, "rrn", f"the RRN split over two columns ({front[0].name}: "
                          f"{100 * front[0].share('yymmdd'):.0f} % YYMMDD; {back[0].name}: 7 digits)",
                          columns=(front[0].name, back[0].name))

    def _patient_as_person(self, guess: EntityGuess, table: TableProfile) -> FieldGuess | None:
        """A column named as a person (OpenMRS ``obs.person_id``) whose values are the patients' keys (the
        patient's key is the person's id: 80 % of a sample found among them, as the export names records): the
        row's own patient, so that a row with no visit (an obs entered outside an encounter) still has one."""
        patient = self.guesses.get("patient")
        if patient is None or not patient.usable or not isinstance(patient.key, str) or not patient.table:
            return None
        taken = {f.column for f in guess.fields}
        for column in table.columns:
            if column.name in taken or column.primary_key or not _name_fits(_PERSON_COLUMN, column.name):
                continue
            sampled, hits = self.exact_hits(table, column.name, patient.table, patient.key, None)
            if sampled and hits >= 0.8 * sampled:
                return FieldGuess("patient_id", column.name, "ref", (
                    f"column name matches {_PERSON_COLUMN} and {hits} of {sampled} sampled values "
                    f"({100 * hits / sampled:.0f} %) are found in {patient.table}.{patient.key} (the patient's key is "
                    "the person's id): the row's own patient, its visit where it has one; rows whose patient is "
                    "missing are quarantined as orphans"), required=True, ref="patient")
        return None

    def _patient_through_visit(self, guess: EntityGuess, table: TableProfile) -> None:
        """No patient column but a visit one: the patient comes from the visit (a LEFT JOIN keeps every row);
        but a person column that names the patients (:meth:`_patient_as_person`) is the patient itself."""
        encounter = self.guesses.get("encounter")
        visit_ref = next((f for f in guess.fields if f.field == "encounter_id"), None)
        patient_ref = next((f for f in encounter.fields if f.field == "patient_id"), None) if encounter else None
        if encounter is None or not encounter.usable or visit_ref is None or patient_ref is None:
            return
        person = self._patient_as_person(guess, table) if not guess.query else None
        if person is not None:
            guess.missing.remove("patient_id")
            guess.fields.insert(1, person)
            return
        if not isinstance(encounter.key, str) or guess.query:
            return
        guess.query = (f"SELECT X.*, {_ref_value(patient_ref, 'V')} AS SCAFFOLD_PATIENT "
                       f"FROM {self.relation(table.name)} X "
                       f"LEFT JOIN {self.relation(encounter.table or '')} V ON V.{encounter.key} = "
                       f"X.{visit_ref.column}")
        guess.query_why = "no patient column: the visit's patient is joined in (LEFT JOIN keeps every row)"
        guess.missing.remove("patient_id")
        guess.fields.insert(1, FieldGuess("patient_id", "SCAFFOLD_PATIENT", "ref", "the visit's patient (see query)",
                                          required=True, ref=patient_ref.ref))

    def _patient_through_header(self, guess: EntityGuess, table: TableProfile) -> None:
        """No patient column, but a column named after a table that has one (``gnuhealth_lab_id`` of a lab's result
        lines: ``gnuhealth_lab``, whose ``patient`` is the patient's; or after it less the module's prefix the two
        tables share, Odoo's ``prescription_order_id`` of ``medical_prescription_order_line``:
        ``medical_prescription_order``): the header's patient is joined in by its key (a LEFT JOIN keeps every
        line)."""
        patient = self.guesses.get("patient")
        if (patient is None or not patient.usable or guess.query or not table.nameable
                or _folded_select(self.profile.engine, table) is not None):
            return
        by_name = {t.name.lower(): t for t in self.profile.tables}
        module = table.name.lower().split("_")[0] + "_" if "_" in table.name else ""
        for column in table.columns:
            base = re.sub(r"_?id$", "", column.name.lower())
            header = next((by_name[n] for n in (base, base + "s", module + base, module + base + "s")
                           if n in by_name), None)
            if (column.primary_key or header is None or header is table or header.name == patient.table
                    or not self._linkable(header)):
                continue
            if self._patient_of_header(guess, table, column.name, header):
                return

    def _patient_of_header(self, guess: EntityGuess, table: TableProfile, column: str, header: TableProfile) -> bool:
        """The patient of the row of ``header`` that ``column`` names, joined in (LEFT JOIN), where most sampled
        values of the column are the header's keys and the header has a patient column."""
        parent_key = header.primary_key[0]
        ref = self._ref_field(header, "patient_id", "patient", True, set(), parent_key)
        sampled, hits = self.overlap(table, column, header.name, parent_key)
        if ref is None or not sampled or hits * 2 < sampled:
            return False
        # a line with no status of its own has its header's (Odoo's medical_prescription_order.state: the lines of
        # a cancelled prescription are cancelled orders, never ordinary ones)
        status = (self._best_status(guess.entity, header, set()) if guess.entity in _STATUS_OF and "status" in {
            f.name for f in dataclasses.fields(model.ENTITY_TYPES[guess.entity])} and not any(
            f.field == "status" for f in guess.fields) else None)
        status_sql = f", H.{status.column} AS SCAFFOLD_STATUS" if status is not None else ""
        guess.query = (f"SELECT X.*, {_ref_value(ref, 'H')} AS SCAFFOLD_PATIENT{status_sql} FROM "
                       f"{self.relation(table.name)} X LEFT JOIN {self.relation(header.name)} H ON "
                       f"H.{parent_key} = X.{column}")
        guess.query_why = (f"no patient column: {column} names {header.name} ({hits} of {sampled} sampled "
                           f"values are its {parent_key}), whose {ref.column} is the patient's: joined in "
                           "(LEFT JOIN keeps every row)" + (f"; and its {status.column}, the line's status" if status
                                                            is not None else ""))
        guess.missing.remove("patient_id")
        guess.fields.insert(0, FieldGuess("patient_id", "SCAFFOLD_PATIENT", "ref",
                                          f"the patient of its {header.name} (see query)", required=True,
                                          ref=ref.ref))
        if status is not None:
            guess.fields.append(dataclasses.replace(status, column="SCAFFOLD_STATUS", why=(
                f"no status of its own: its {header.name}'s {status.column} (see query; carried raw with that "
                f"table): {status.why}")))
        return True

    def _patient_through_name(self, guess: EntityGuess, table: TableProfile) -> None:
        """Tryton's link to the record a row belongs to is an integer column named ``name`` (a GNU Health
        vaccination's or disease's patient, a prescription line's order): the table whose keys hold most of its
        sampled values and whose name shares the most leading words with this one's (the patient table on a tie) is
        that record. The patient's: a reference; another table's with a patient column: its patient joined in."""
        patient = self.guesses.get("patient")
        if (patient is None or not patient.usable or not isinstance(patient.key, str) or guess.query
                or not table.plain or _folded_select(self.profile.engine, table) is not None):
            return
        link = next((c for c in table.columns if c.name.upper() == "NAME" and not c.primary_key and c.non_empty
                     and _integer_typed(c) and not any(c.name in (f.column, *f.columns) for f in guess.fields)), None)
        if link is None:
            return
        own = _words(table.bare, table=True).split("_")
        best: tuple[tuple[int, bool], TableProfile, int, int] | None = None
        for parent in self.profile.tables:
            words = _words(parent.bare, table=True).split("_")
            shared = next((n for n, (a, b) in enumerate(zip(own, words, strict=False)) if a != b),
                          min(len(own), len(words)))
            if (parent is table or not self._linkable(parent)
                    or not (shared or parent.name == patient.table)):  # a module's tables share its prefix
                continue
            sampled, hits = self.exact_hits(table, link.name, parent.name, parent.primary_key[0], None)
            if not sampled or hits < 0.8 * sampled:
                continue
            rank = (shared, parent.name == patient.table)
            if best is None or rank > best[0]:
                best = (rank, parent, sampled, hits)
        if best is None:
            return
        _, parent, sampled, hits = best
        if parent.name != patient.table:
            self._patient_of_header(guess, table, link.name, parent)
            return
        if parent.primary_key[0] != patient.key:
            return
        guess.missing.remove("patient_id")
        guess.fields.insert(0, FieldGuess(
            "patient_id", link.name, "ref", f"an id named name (Tryton's link to the record the row belongs to): "
            f"{hits} of {sampled} sampled values are found in {parent.name}.{patient.key}; rows whose patient is "
            "missing are quarantined as orphans", required=True, ref="patient", engine=self.profile.engine))

    def _patient_through_parent(self, guess: EntityGuess, table: TableProfile) -> None:
        """A child row hanging under its parent record by a column named ``parent`` (Frappe's child tables:
        ``tabDrug Prescription.parent`` holds the ``name`` of its Patient Encounter; one child table may hang under
        several, ``tabCodification Table`` under encounters and procedures), with no patient column of its own:
        the patient of its parent, from each table whose keys hold some of the sampled values and which has a
        patient column, the first holding the row's parent (scalar sub-queries on the parents' keys: every row
        kept, once). Only where those tables together hold at least 80 % of the sampled values."""
        patient = self.guesses.get("patient")
        if (patient is None or not patient.usable or guess.query or not table.nameable
                or _folded_select(self.profile.engine, table) is not None):
            return
        link = next((c for c in table.columns if c.name.upper() in ("PARENT", "PARENT_ID") and not c.primary_key
                     and c.non_empty and not any(c.name in (f.column, *f.columns) for f in guess.fields)), None)
        if link is None:
            return
        found: list[tuple[int, TableProfile, FieldGuess]] = []
        sampled = 0
        for parent in self.profile.tables:
            if parent is table or parent.name == patient.table or not self._linkable(parent):
                continue
            sampled, hits = self.exact_hits(table, link.name, parent.name, parent.primary_key[0], None)
            ref = self._ref_field(parent, "patient_id", "patient", True, set(), parent.primary_key[0]) if hits else None
            if ref is not None:
                found.append((hits, parent, ref))
        if not found or sum(h for h, _, _ in found) < 0.8 * sampled:
            return
        found.sort(key=lambda f: (-f[0], f[1].name))
        values = [f"(SELECT {_ref_value(ref, f'H{n}')} FROM {self.relation(parent.name)} H{n} "
                  f"WHERE H{n}.{parent.primary_key[0]} = X.{link.name})" for n, (_, parent, ref) in enumerate(found)]
        value = values[0] if len(values) == 1 else f"COALESCE({', '.join(values)})"
        visit = self.guesses.get("encounter")
        under_visit = next((parent for _, parent, _ in found if visit is not None and visit.usable
                            and parent.name == visit.table and visit.key == parent.primary_key[0]), None)
        if under_visit is not None and (
                "encounter_id" not in {f.name for f in dataclasses.fields(model.ENTITY_TYPES[guess.entity])}
                or any(f.field == "encounter_id" for f in guess.fields)):
            under_visit = None
        visit_key = under_visit.primary_key[0] if under_visit is not None else ""
        visit_value = (f", (SELECT V.{visit_key} FROM {self.relation(under_visit.name)} V WHERE V.{visit_key} = "
                       f"X.{link.name}) AS SCAFFOLD_VISIT" if under_visit is not None else "")
        guess.query = f"SELECT X.*, {value} AS SCAFFOLD_PATIENT{visit_value} FROM {self.relation(table.name)} X"
        said = ", ".join(f"{parent.name} ({hits})" for hits, parent, _ in found)
        guess.query_why = (f"no patient column: {link.name} names the parent record, {said} of {sampled} sampled "
                           "values their keys; the parent's patient joined in (sub-queries keep every row)")
        guess.missing.remove("patient_id")
        guess.fields.insert(0, FieldGuess("patient_id", "SCAFFOLD_PATIENT", "ref", "the patient of its parent record "
                                          "(see query)", required=True, ref=found[0][2].ref))
        if under_visit is not None:
            # a diagnosis or an order under a visit is that visit's (the parent's key where the parent is a visit;
            # none where it hangs under another record, a procedure)
            guess.fields.insert(1, FieldGuess("encounter_id", "SCAFFOLD_VISIT", "ref", f"its parent record where "
                                              f"that is a visit ({under_visit.name}; see query)", ref="encounter"))

    def _links_named(self, table: TableProfile, skip: set[str]) -> list[tuple[str, TableProfile, int, int]]:
        """The tables ``table`` points at by an id named for them: (column, table, sampled, hits) for each integer
        or uuid column (never the key) whose name, less its marks (``fk_``, ``id_``, ``_id``, ``_no`` …), is the
        table's name, its plural or its leading words (``fk_doc`` → ``doc_med``), or whose name is the table's key's
        (``RCV_NO`` of ``JIN_RCV``; never a bare ``id``, ``pk``, ``no``, ``seq``), at least 80 % of whose sampled
        values are that table's keys; a column naming two such tables names neither."""
        found: list[tuple[str, TableProfile, int, int]] = []
        for column in table.columns:
            if (column.primary_key or not column.non_empty or not IDENTIFIER.match(column.name)
                    or not (_integer_typed(column) or column.type_name.upper() in ("UUID", "UNIQUEIDENTIFIER"))):
                continue
            words = _words(column.name).lower().split("_")
            while words and words[0] in ("fk", "id", "pk", "ref"):
                words = words[1:]
            while words and words[-1] in ("fk", "id", "pk", "no", "key", "ref"):
                words = words[:-1]
            if not words:
                continue
            named: list[tuple[str, TableProfile, int, int]] = []
            for other in self.profile.tables:
                if other is table or other.name in skip or not self._linkable(other):
                    continue
                theirs = _words(other.bare, table=True).lower().split("_")
                key = other.primary_key[0].lower()
                if not (theirs[:len(words)] == words or theirs == [*words[:-1], words[-1] + "s"]
                        or (key == column.name.lower() and key not in _GENERIC_KEYS)):
                    continue
                sampled, hits = self.exact_hits(table, column.name, other.name, other.primary_key[0], None)
                if sampled and hits >= 0.8 * sampled:
                    named.append((column.name, other, sampled, hits))
            if len(named) == 1:
                found += named
        return found

    def _patient_through_chain(self, guess: EntityGuess, table: TableProfile) -> None:
        """No patient column, and none a step away: the patient found through a chain of ids, each named for the
        next table (:meth:`_links_named`), up to three hops with the patient column of the last table (GNUmed's
        ``blobs.doc_obj.fk_doc`` → ``blobs.doc_med.fk_encounter`` → ``clin.encounter.fk_patient``), joined in
        (LEFT JOINs keep every row: a row whose chain breaks has no patient and is quarantined, never lost). The
        shortest chain wins; where two chains of that length give a sampled row different patients, none is
        taken (a note says so). Where the chain passes through the visits' table, the row's visit is its own."""
        patient = self.guesses.get("patient")
        if (patient is None or not patient.usable or guess.query or not table.nameable or not table.primary_key
                or _folded_select(self.profile.engine, table) is not None):
            return
        skip = {str(patient.table)}
        paths: list[list[tuple[str, TableProfile]]] = [[]]
        chains: list[tuple[list[tuple[str, TableProfile]], FieldGuess]] = []
        for _ in range(2):  # two ids, then the patient column of the last table: three hops
            grown: list[list[tuple[str, TableProfile]]] = []
            for path in paths:
                here = path[-1][1] if path else table
                seen = {table.name, *(t.name for _, t in path)}
                for column, there, _, _ in self._links_named(here, skip | seen):
                    grown.append([*path, (column, there)])
            for path in grown:
                last = path[-1][1]
                ref = self._ref_field(last, "patient_id", "patient", True, set(), last.primary_key[0])
                if ref is not None:
                    chains.append((path, ref))
            if chains:
                break
            paths = grown
        if not chains:
            return

        def joins(path: list[tuple[str, TableProfile]], mark: str) -> str:
            return " ".join(f"LEFT JOIN {self.relation(there.name)} {mark}{n} ON {mark}{n}.{there.primary_key[0]} = "
                            f"{'X' if n == 0 else f'{mark}{n - 1}'}.{column}" for n, (column, there) in enumerate(path))

        def value(chain: tuple[list[tuple[str, TableProfile]], FieldGuess], mark: str) -> str:
            return _ref_value(chain[1], f"{mark}{len(chain[0]) - 1}")

        if len(chains) > 1:
            order_by = table.primary_key[0]
            sample = _sample_sql(self.source, table, None, order_by, self.profile.sample_rows) if self.source else ""
            pairs = [(joins(c[0], f"H{n}_"), value(c, f"H{n}_")) for n, c in enumerate(chains)]
            differ = " OR ".join(f"{pairs[0][1]} <> {v}" for _, v in pairs[1:])
            try:
                disagree = self.source is None or int(self.source.scalar(
                    f"SELECT COUNT(*) FROM ({sample}) X {' '.join(j for j, _ in pairs)} WHERE {differ}") or 0) > 0
            except SourceQueryError:
                disagree = True
            if disagree:
                guess.notes.append(
                    f"no patient column; {len(chains)} chains of ids reach one "
                    f"({'; '.join(' → '.join(f'{c} ({t.name})' for c, t in path) for path, _ in chains)}) and "
                    "do not give every sampled row the same patient: none taken, choose the one the EMR means")
                return
        path, ref = chains[0]
        guess.query = f"SELECT X.*, {value(chains[0], 'H')} AS SCAFFOLD_PATIENT"
        visit = self.guesses.get("encounter")
        step = next((n for n, (_, there) in enumerate(path) if visit is not None and visit.usable
                     and there.name == visit.table and visit.key == there.primary_key[0]), None)
        if step is not None and (
                "encounter_id" not in {f.name for f in dataclasses.fields(model.ENTITY_TYPES[guess.entity])}
                or any(f.field == "encounter_id" for f in guess.fields)):
            step = None
        if step is not None:
            guess.query += f", {'X' if step == 0 else f'H{step - 1}'}.{path[step][0]} AS SCAFFOLD_VISIT"
        dated = self._header_date(guess, table, path[0][1])
        if dated is not None:
            guess.query += f", H0.{dated} AS SCAFFOLD_DATE"
        guess.query += f" FROM {self.relation(table.name)} X {joins(path, 'H')}"
        said = " → ".join(f"{column} ({there.name})" for column, there in path)
        guess.query_why = (f"no patient column: {said} → {ref.column}, the patient's (each id's sampled values "
                           "mostly the next table's keys; the shortest chain); joined in (LEFT JOINs keep every row)")
        guess.missing.remove("patient_id")
        guess.fields.insert(0, FieldGuess("patient_id", "SCAFFOLD_PATIENT", "ref", f"the patient {len(path) + 1} "
                                          "hops away (see query)", required=True, ref=ref.ref))
        if step is not None:
            guess.fields.insert(1, FieldGuess("encounter_id", "SCAFFOLD_VISIT", "ref", f"the visit its chain passes "
                                              f"through ({path[step][1].name}; see query)", ref="encounter"))

    def _header_date(self, guess: EntityGuess, table: TableProfile, header: TableProfile) -> str | None:
        """A row whose required date was guessed only on its own audit stamp (a page's ``modified_when``: when the
        row was last changed) takes its header's date instead (the document's ``clin_when``), the header's first
        date column that is no audit stamp, most of its sampled values set. The header's column, or None."""
        columns = {c.name: c for c in table.columns}
        stamp = next((f for f in guess.fields if f.required and f.why.startswith("first unused column")
                      and f.column in columns and _name_fits(_AUDIT_STAMP, columns[f.column])), None)
        if stamp is None:
            return None
        annotation = next(a for n, a, _ in _record_fields(guess.entity) if n == stamp.field)
        for column in header.columns:
            if (_name_fits(_AUDIT_STAMP, column) or not _date_like(column) or column.non_empty * 2 < column.sampled
                    or not IDENTIFIER.match(column.name)):
                continue
            found = self._finish(guess.entity, header, stamp.field, column,
                                 _field_type(guess.entity, stamp.field, annotation, column), True, set(),
                                 f"its {header.name}'s date ({column.name}; see query), not its own audit stamp "
                                 f"{stamp.column}")
            if found is None:
                continue
            guess.fields[guess.fields.index(stamp)] = dataclasses.replace(found, column="SCAFFOLD_DATE")
            return column.name
        return None

    def _through_receipt(self, guess: EntityGuess, table: TableProfile, day: str = "service_date",
                         rows: str = "lines") -> None:
        """Fee lines (수납상세) or payments (수납결제, ``day`` paid) that hold only their receipt's key, the way Korean
        EMRs keep them: the patient, the day and the visit are the receipt header's (수납), joined in by its key,
        composite too (a LEFT JOIN keeps every row). Their receipt is referred to by a single-column key; a
        composite one ((수납년도, 수납번호): the number reused every year) needs a unique field of the receipt, which
        a note says how to write. A line whose receipt column is named otherwise than the receipt's key (Open
        Hospital's ``BLI_ID_BILL`` of ``BLL_ID``) is joined by it where its values were found among the receipts'
        keys (its receipt_id, :meth:`_ref_field`); a day guessed only by its values on a column named as the row's
        audit stamp (``BLI_CREATED_DATE``: when the line was typed) gives way to the receipt's."""
        receipt = self.guesses.get("receipt")
        if receipt is None or not receipt.usable or receipt.table == table.name or guess.query or not receipt.key:
            return
        patient_ref = next((f for f in receipt.fields if f.field == "patient_id"), None)
        issued = next((f for f in receipt.fields if f.field == "issued"), None)
        keys = [receipt.key] if isinstance(receipt.key, str) else list(receipt.key)
        own = {c.name.lower(): c.name for c in table.columns}
        link = next((f for f in guess.fields if f.field == "receipt_id" and f.ref == "receipt" and f.column
                     and f.key_form is None), None)
        if patient_ref is None or issued is None or issued.columns:
            return
        if any(k.lower() not in own for k in keys):
            if link is None or len(keys) != 1:
                return
            own = {keys[0].lower(): link.column}  # the line's own name for its receipt's key
        columns = {c.name: c for c in table.columns}
        guessed_day = next((f for f in guess.fields if f.field == day and f.why.startswith("first unused column")
                            and f.column in columns and any(_name_fits(p, columns[f.column]) for p in (
                                _AUDIT_STAMP, r"(CREATED?|MODIFIED|UPDATED?|LAST_?MODIFIED)_?(DATE|DT|YMD)"))),
                           None)
        if guessed_day is not None:
            guess.fields.remove(guessed_day)
            guess.missing.append(day)
        on = " AND ".join(f"H.{k} = D.{own[k.lower()]}" for k in keys)
        selects = []
        if "patient_id" in guess.missing:
            selects.append(f"{_ref_value(patient_ref, 'H')} AS SCAFFOLD_PATIENT")
            guess.missing.remove("patient_id")
            guess.fields.insert(0, FieldGuess("patient_id", "SCAFFOLD_PATIENT", "ref", "the receipt's patient "
                                              "(see query)", required=True, ref=patient_ref.ref))
        if day in guess.missing:
            selects.append(f"H.{issued.column} AS SCAFFOLD_SVC_DATE")
            guess.missing.remove(day)
            guess.fields.append(FieldGuess(day, "SCAFFOLD_SVC_DATE", issued.type, "the receipt's day "
                                           "(see query)", required=True, format=issued.format, tz=issued.tz))
        visit_ref = next((f for f in receipt.fields if f.field == "encounter_id"), None)
        if (visit_ref is not None and "encounter_id" in {f.name for f in dataclasses.fields(
                model.ENTITY_TYPES[guess.entity])} and not any(f.field == "encounter_id" for f in guess.fields)):
            # the line's visit is its receipt's: the fee statement is counted for it (readiness: billed visits)
            selects.append(f"{_ref_value(visit_ref, 'H')} AS SCAFFOLD_VISIT")
            guess.fields.insert(1, FieldGuess("encounter_id", "SCAFFOLD_VISIT", "ref", "the receipt's visit "
                                              "(see query)", ref=visit_ref.ref))
        guess.query = (f"SELECT D.*, {', '.join(selects)} FROM {self.relation(table.name)} D "
                       f"LEFT JOIN {self.relation(receipt.table or '')} H ON {on}")
        held = ", ".join(k if own[k.lower()] == k else f"{k}, as {own[k.lower()]}" for k in keys)
        guess.query_why = (f"the {rows} hold only their receipt's key ({held}): the receipt's patient "
                           f"and day are joined in (LEFT JOIN keeps every {rows.removesuffix('s')})")
        if any(f.field == "receipt_id" for f in guess.fields):
            return
        if len(keys) == 1:
            guess.fields.insert(1, FieldGuess("receipt_id", own[keys[0].lower()], "ref", "the receipt's key",
                                              ref="receipt"))
        else:
            guess.notes.append(
                f"{', '.join(own[k.lower()] for k in keys)}: the {rows}' receipt, by its key of {len(keys)} columns. "
                + ("For the fee statement to list them under their receipt" if rows == "lines" else
                   "For the receipt document to show how it was paid (카드 / 현금영수증 / 현금)")
                + ", give the receipt a unique number "
                "(unique = [\"number\"], number = { expr = … the key's columns joined … }) and the " + rows + " "
                "receipt_id = { expr = … the same columns joined …, type = \"ref\", ref = \"receipt.number\" }")

    def _problem_list(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A patient-level table of conditions with no visit link, named as a problem list (문제목록, 주요병력,
        problems, health issues: :func:`_problem_list_named`), or one whose name says nothing else whatever its visit
        link (:data:`_PROBLEM_LIST_ONLY`: problem_list, health_issue, 문제목록): ``problem_list = { value = true }``
        (Condition category problem-list-item, never read as a visit's diagnosis), its resolution date the abatement
        (:data:`_ABATEMENT`), its status words (활동/해결/비활동, active/resolved) or its active flag the clinical
        status. Before, such a table was carried raw, or read as visits' diagnoses."""
        only = bool(_PROBLEM_LIST_ONLY & set(_parts(table.bare))) or any(w in table.bare for w in _PROBLEM_LIST_ONLY_KO)
        linked = any(f.field == "encounter_id" for f in guess.fields)
        if (not only and (linked or not _problem_list_named(table))) or any(
                f.field == "problem_list" for f in guess.fields):
            return
        guess.fields.append(FieldGuess("problem_list", "", "bool", (
            "table name says the patient's problem list (its visit the one the problem was noted in)" if linked else
            "table name says the patient's problem list and it has no visit link")
            + ": problem-list entries, not a visit's diagnoses", value=True))
        have = {f.field for f in guess.fields}
        if "abatement" not in have:
            found = self._match(table, _ABATEMENT, used)
            if found is not None and _date_like(found[0]):
                used.add(found[0].name)
                guess.fields.append(FieldGuess("abatement", found[0].name, "date",
                                               f"column name matches {found[1]}: the date it resolved"))
        if "verification" not in have:
            self._certainty(guess, table, used)
        if "status" in have:
            return
        for column in table.columns:
            values = self.sampled_codes.get((table.name, column.name))
            if column.name in used or not values:
                continue
            mapping: dict[str, str | bool] = {}
            if any(_name_fits(p, column) for p in _ACTIVE_FLAG):
                pair = next((pair for pair in _DELETION_PAIRS if values <= set(pair)), None)
                if pair is None:
                    continue
                mapping = {pair[0]: "active", pair[1]: "inactive"}
                why = "column name says the problem is active (a yes/no flag): yes active, no inactive"
            elif any(_name_fits(p, column) for p in _RECORD_STATUS):
                mapping = {v: w for v in sorted(values)
                           if (w := _CLINICAL_STATUS_WORDS.get(re.sub(r"[\s_-]+", " ", v.strip().lower())))}
                if not mapping:
                    continue
                why = ("column name says a status; its sampled values are a problem's status words: "
                       + ", ".join(f"{v} {w}" for v, w in mapping.items()))
            else:
                continue
            unread = sorted(v for v in values - set(mapping) if model.may_show(v))
            check = (f"{', '.join(unread)} of {column.name} not read: kept as recorded, no clinical status; add it "
                     "to the map if you know what it says") if unread else ""
            used.add(column.name)
            guess.fields.append(FieldGuess("status", column.name, "status", why, map=mapping, check=check))
            return

    def _certainty(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """A problem's certainty column (:data:`_CERTAINTY`) as its verification status, only where every sampled
        value is a word that says it clearly (확진 confirmed, 의증 provisional …: :data:`_CERTAINTY_WORDS`); else the
        column is carried raw."""
        for column in table.columns:
            values = self.sampled_codes.get((table.name, column.name))
            if column.name in used or not values or not any(_name_fits(p, column) for p in _CERTAINTY):
                continue
            mapping: dict[str, str | bool] = {v: w for v in sorted(values)
                                              if (w := _CERTAINTY_WORDS.get(v.strip().lower()))}
            if len(mapping) < len(values):
                continue
            used.add(column.name)
            guess.fields.append(FieldGuess(
                "verification", column.name, "code", "column name says the diagnosis's certainty; every sampled "
                "value says it clearly: " + ", ".join(f"{v} {w}" for v, w in mapping.items()), map=mapping))
            return

    def _service_date(self, guess: EntityGuess, table: TableProfile, used: set[str]) -> None:
        """The date the KCD edition follows: a date column of the diagnosis table, or its visit's date."""
        own = self._match(table, (r"(DIAG|SANG|DX|SVC|JINRYO|VISIT|REC|REG)_?(YMD|DT|DATE)",), used)
        if own is not None and _date_like(own[0]) and _time_type(own[0], dt.date) == "date":
            column = own[0].name
            why = f"column name matches {own[1]}; the KCD edition follows the service date"
            guess.fields += [FieldGuess("kcd_edition", column, "kcd_edition", why),
                             FieldGuess("recorded", column, "date", why)]
            return
        encounter = self.guesses.get("encounter")
        visit_ref = next((f for f in guess.fields if f.field == "encounter_id"), None)
        start = next((f for f in encounter.fields if f.field == "start"), None) if encounter else None
        if start is not None and len(start.columns) == 2 and start.join == " " and start.type == "datetime":
            # the visit's date with its time of day beside it (_time_beside_date): the date column alone, which
            # [source] date_formats read
            start = dataclasses.replace(start, column=start.columns[0], columns=(), join="", type="date", format=None)
        if (encounter is None or not encounter.usable or visit_ref is None or start is None
                or start.format is not None or guess.key is None or not isinstance(encounter.key, str)):
            return
        alias = "SCAFFOLD_SVC_DATE"
        patient_ref = next((f for f in encounter.fields if f.field == "patient_id"), None)
        extra = ""
        if "patient_id" in guess.missing and patient_ref is not None:
            extra = f", {_ref_value(patient_ref, 'V')} AS SCAFFOLD_PATIENT"
            guess.missing.remove("patient_id")
            guess.fields.insert(1, FieldGuess("patient_id", "SCAFFOLD_PATIENT", "ref",
                                              "the visit's patient (see query)", required=True, ref=patient_ref.ref))
        guess.query = (f"SELECT D.*, V.{start.column} AS {alias}{extra} FROM {self.relation(table.name)} D "
                       f"LEFT JOIN {self.relation(encounter.table or '')} V ON V.{encounter.key} = "
                       f"D.{visit_ref.column}")
        guess.query_why = ("the diagnosis table has no date: the visit's date is joined in for kcd_edition "
                           "(LEFT JOIN keeps every row)")
        why = "the visit's date (see query); the KCD edition follows the service date"
        guess.fields += [FieldGuess("kcd_edition", alias, "kcd_edition", why),
                         FieldGuess("recorded", alias, start.type, why)]

    def _text_column(self, table: TableProfile, patterns: Sequence[str], skip: Collection[str] = ()) -> str | None:
        """The first column of ``table`` named by ``patterns`` that holds text (no id, no bytes, some values)."""
        for pattern in patterns:
            for column in table.columns:
                if (column.name not in skip and not column.primary_key and column.non_empty
                        and not _integer_typed(column) and not column.is_binary and IDENTIFIER.match(column.name)
                        and column.name.upper() not in SQL_RESERVED and not _name_fits(_PART_NAME, column)
                        and _name_fits(pattern, column)):
                    return column.name
        return None

    def _linkable(self, table: TableProfile) -> bool:
        return (table.nameable and table.row_count > 0 and len(table.primary_key) == 1
                and _folded_select(self.profile.engine, table) is None
                and not any(part.upper() in SQL_RESERVED for part in table.parts))

    def _dictionary_values(self, dictionary: TableProfile, link: str, alias: str = "LK_D",
                           step: bool = True) -> tuple[str | None, str | None, str]:
        """SQL of the code and of the name the row of ``dictionary`` whose key is ``link`` gives (sub-queries), and
        where they come from: its own columns; else a table of its names, one row per name (OpenMRS's
        concept_name: the preferred one first, else the lowest key); else a table mapping it to a table of codes
        (concept_reference_map → concept_reference_term: two steps, the lowest mapping first); else, where it
        holds neither code nor name, the table one of its ids names (GNUmed's ref.vaccine → ref.drug_product:
        the product's name and ATC code; ``step`` False: own columns only, one such step at most)."""
        pk = dictionary.primary_key[0]
        code = self._text_column(dictionary, _DICT_CODE)
        name = self._text_column(dictionary, _DICT_NAME, {code or ""})
        relation = self.relation(dictionary.name)
        code_sql = f"(SELECT {alias}.{code} FROM {relation} {alias} WHERE {alias}.{pk} = {link})" if code else None
        name_sql = f"(SELECT {alias}.{name} FROM {relation} {alias} WHERE {alias}.{pk} = {link})" if name else None
        said = [f"{dictionary.name}.{c}" for c in (code, name) if c]
        if (code and name) or not step:
            return code_sql, name_sql, ", ".join(said)
        if not code and not name and (stepped := self._dictionary_parent(dictionary, link)) is not None:
            return stepped
        by_key = {t.primary_key[0].upper(): t for t in self.profile.tables if self._linkable(t)}
        for child in self.profile.tables:
            if child is dictionary or not self._linkable(child):
                continue
            back = next((c.name for c in child.columns if c.name.upper() == pk.upper() and not c.primary_key), None)
            if back is None:
                continue
            sampled, hits = self.overlap(child, back, dictionary.name, pk)
            if not sampled or hits * 2 < sampled:
                continue
            order_key = f"LK_N.{child.primary_key[0]}"
            if name_sql is None and (child_name := self._text_column(child, _DICT_NAME)) is not None:
                preferred = next((c.name for c in child.columns if _name_fits(_PREFERRED_FLAG, c)), None)
                order = (f"LK_N.{preferred} DESC, " if preferred else "") + order_key
                name_sql = self._first_row(f"LK_N.{child_name}", f"{self.relation(child.name)} LK_N",
                                           f"LK_N.{back} = {link}", order)
                said.append(f"{child.name}.{child_name} by {back} ("
                            + ("the preferred first" if preferred else "the lowest key first") + ")")
            if code_sql is not None:
                continue
            if (child_code := self._text_column(child, _DICT_CODE)) is not None:
                code_sql = self._first_row(f"LK_N.{child_code}", f"{self.relation(child.name)} LK_N",
                                           f"LK_N.{back} = {link}", order_key)
                said.append(f"{child.name}.{child_code} by {back}")
                continue
            for column in child.columns:  # a mapping row: its other column names a table of codes by that one's key
                terms = by_key.get(column.name.upper())
                if (column.primary_key or column.name == back or terms is None or terms in (child, dictionary)
                        or (term_code := self._text_column(terms, _DICT_CODE)) is None):
                    continue
                code_sql = self._first_row(
                    f"LK_T.{term_code}", f"{self.relation(child.name)} LK_N JOIN {self.relation(terms.name)} LK_T ON "
                    f"LK_T.{terms.primary_key[0]} = LK_N.{column.name}", f"LK_N.{back} = {link}", order_key)
                said.append(f"{terms.name}.{term_code} through {child.name} ({back} → {column.name})")
                break
        return code_sql, name_sql, ", ".join(said)

    #: words of a table of makers or people: a dictionary's id into one names who made or entered the row, never
    #: what it is (a vaccine's fk_manufacturer: its name is no vaccine's; fk_staff: a person's name)
    _NOT_WHAT = frozenset({"MANUFACTURER", "MANUFACTURERS", "MAKER", "MAKERS", "MANUF", "MFR", "COMPANY", "VENDOR",
                           "SUPPLIER", "ORG", "ORGANIZATION", "ORGANISATION", "STAFF", "USER", "USERS", "DOCTOR",
                           "PROVIDER", "EMPLOYEE", "PRACTITIONER", "PERSON", "IDENTITY", "AUTHOR", "OWNER"})
    _NOT_WHAT_KO = ("제조", "회사", "업체", "직원", "의사", "사용자", "작성자")

    def _dictionary_parent(self, dictionary: TableProfile, link: str) -> tuple[str | None, str | None, str] | None:
        """The code and name of a dictionary that holds neither, through one of its ids: a column of an integer
        type named for another table (fk_drug_product: ref.drug_product), most of whose sampled values are that
        table's keys, which holds a code and/or a name of its own (sub-queries within the sub-query). Never a table
        of makers or people (:data:`_NOT_WHAT`); of several such tables, the one sharing most words with its
        column (drug_product before product), and none where that is not one (two ids each leading to a name)."""
        pk, relation = dictionary.primary_key[0], self.relation(dictionary.name)
        found: list[tuple[int, str, tuple[str | None, str | None, str]]] = []
        for column in dictionary.columns:
            if (column.primary_key or not column.non_empty or not _integer_typed(column)
                    or not IDENTIFIER.match(column.name) or column.name.upper() in SQL_RESERVED):
                continue
            own = set(_words(column.name).split("_")) - _LINK_NOISE
            for parent in self.profile.tables:
                words = set(_words(parent.bare, table=True).split("_"))
                if (parent is dictionary or not self._linkable(parent) or _chart_rows(parent)
                        or not own & words or (own | words) & self._NOT_WHAT
                        or any(w in parent.bare or w in column.name for w in self._NOT_WHAT_KO)):
                    continue
                sampled, hits = self.exact_hits(dictionary, column.name, parent.name, parent.primary_key[0], None)
                if not sampled or hits < 0.8 * sampled:
                    continue
                inner = f"(SELECT LK_D.{column.name} FROM {relation} LK_D WHERE LK_D.{pk} = {link})"
                code_sql, name_sql, said = self._dictionary_values(parent, inner, "LK_P", step=False)
                if code_sql is not None or name_sql is not None:
                    found.append((len(own & words), column.name,
                                  (code_sql, name_sql, f"{said} through {dictionary.name}.{column.name}")))
        best = max((n for n, _, _ in found), default=0)
        chosen = [values for n, _, values in found if n == best]
        return chosen[0] if len(chosen) == 1 else None

    def _from_dictionary(self, entity: str, guess: EntityGuess, table: TableProfile, used: set[str],
                         others: list[FieldGuess], key: str | list[str] | None) -> None:
        """A record whose code and name are an id into a dictionary table (a drug, a disease with its ICD code, a
        vaccine, a lab test's type, a terminology's concept): a column of an integer type, named for the dictionary
        or for what the record codes, most of whose sampled values are the keys of a table named so, which holds a
        code and/or a name (itself, or through a table of its names or of its codes). The dictionary's code and name
        are joined in by sub-queries (one value per row: every row kept); the id stays a column of the row,
        carried raw beside the section."""
        spec = _DICTIONARY_FIELDS.get(entity)
        if (spec is None or self.source is None or not table.plain
                or _folded_select(self.profile.engine, table) is not None):
            return
        code_field, name_field, words = spec
        # a name guessed on a column that says it is free text (약품명_기타) may be the text beside a dictionary's
        # id: then the dictionary's name, falling back to it (below); any other code or name: no dictionary
        written = next((f for f in others if f.field == name_field), None)
        if any(f.field == code_field for f in others) or (written is not None and (
                written.columns or written.expr or _free_text_words(written.column) is None)):
            return
        keys = [key] if isinstance(key, str) else list(key or ())
        parents = {g.table for g in self.guesses.values() if g.usable and g.table}
        best: tuple[tuple[bool, bool, int, float], ColumnProfile, TableProfile, int, int] | None = None
        for column in table.columns:
            if (column.name in used or column.name in keys or column.primary_key or not column.non_empty
                    or not _integer_typed(column) or not IDENTIFIER.match(column.name)
                    or column.name.upper() in SQL_RESERVED):
                continue
            own = set(_words(column.name).split("_"))
            if own & {"NAME", "NM"} or own & _NOT_AN_ID or own & _NOT_A_DICTIONARY:
                continue  # the id of a name row (diagnosis_coded_name), Tryton's link to the parent record; a rank;
                # the row's company, currency or user (Odoo's company_id of res_company: a clinic's name, no drug's)
            for dictionary in self.profile.tables:
                if (dictionary is table or dictionary.name in parents or not self._linkable(dictionary)
                        or _chart_rows(dictionary)):
                    continue
                named = set(_words(dictionary.bare, table=True).split("_"))
                # a schema that names every column with a prefix of its table (Open Hospital: MDSR_ of
                # MEDICALDSR) names a link to a table by that prefix (THR_MDSR_ID)
                named |= {c.name[:len(c.name) - len(c.own)].strip("_").upper() for c in dictionary.columns[:1]
                          if c.own}
                linked = bool((own - _LINK_NOISE) & named)
                # a column saying only that it is the record's type (GNUmed's clin.test_result.fk_type) into the
                # table of those types, named for what the record codes (clin.test_type)
                typed = bool(own <= _LINK_NOISE and own & named & _KIND_WORDS and named & words)
                if not linked and not typed and not (named & (words | _DICTIONARY_ANY)
                                                     and own & (words | _DICTIONARY_ANY)):
                    continue
                sampled, hits = self.exact_hits(table, column.name, dictionary.name, dictionary.primary_key[0], None)
                if not sampled or hits < 0.8 * sampled:
                    continue
                # a column named for what the record codes first (coded_allergen before severity_concept_id)
                # and one saying it holds a code (diagnosis_coded) before any other
                rank = (bool(own & words) or typed, bool(own & _DICTIONARY_ANY), 2 if linked else 1, hits / sampled)
                if best is None or rank > best[0]:
                    best = (rank, column, dictionary, sampled, hits)
        if best is None:
            return
        _, column, dictionary, sampled, hits = best
        code_sql, name_sql, said = self._dictionary_values(dictionary, f"\x01.{column.name}")
        if code_sql is None and name_sql is None:
            return
        required = {name: req for name, _, req in _record_fields(entity)}
        why = (f"{column.name} is an id into {dictionary.name} ({hits} of {sampled} sampled values are its "
               f"{dictionary.primary_key[0]}): {said} (see query; the id is carried raw beside the section)")
        text = None
        if name_sql is not None:
            text = self._free_text(entity, table, column.name, dictionary,
                                   used - {written.column} if written is not None else used)
        if written is not None:
            if text is None or text[0] != written.column:
                return
            others.remove(written)
        falls_back = ""
        if name_sql is not None and text is not None:
            name_sql = f"COALESCE({name_sql}, \x01.{text[0]})"
            falls_back = (f"; the {name_field.replace('_', ' ')}, where no {dictionary.name} row gives one, is "
                          f"{text[0]}'s text ({text[1]}; carried raw as well; no code is made from it)")
            used.add(text[0])
        for fname, sql in ((code_field, code_sql), (name_field, name_sql)):
            if sql is None:
                continue
            alias = f"SCAFFOLD_{fname.upper()}"
            guess.lookups.append(f"{sql} AS {alias}")
            others.append(FieldGuess(fname, alias, "text", why + (falls_back if fname == name_field else ""),
                                     required=required.get(fname, False)))
            if fname in guess.missing:
                guess.missing.remove(fname)
        used.add(column.name)
        guess.lookups_why = (f"the {entity.replace('_', ' ')}'s code and name are those of the {dictionary.name} row "
                             f"{column.name} names, joined in (one value per row: every row kept)"
                             + (f", else the name written in {text[0]}" if text is not None else ""))

    def _free_text(self, entity: str, table: TableProfile, link: str, dictionary: TableProfile,
                   used: Collection[str]) -> tuple[str, str] | None:
        """The column of ``table`` that holds as free text what ``link`` holds as an id into ``dictionary``, for the
        rows no dictionary row fitted (OpenMRS ``non_coded_allergen`` beside ``coded_allergen``,
        ``diagnosis_non_coded`` beside ``diagnosis_coded``; ``…_text``, ``…_other``, ``…_etc``, ``기타``,
        ``직접입력``, ``free_text``), and what was found of it. By its name: a word saying it is free text
        (:data:`_FREE_TEXT_STRONG`, alone or with the record's subject; :data:`_FREE_TEXT_WEAK` only with it), the
        subject being a word of the id's name, of the dictionary's or of what the record codes. By its content:
        empty in at least half of the sampled rows whose id is set (a name copied beside every id is no fallback).
        A text column only, never one the server hands over as other bytes (CP949 read as latin1)."""
        id_words = set(_words(link).split("_")) - _LINK_NOISE - _DICTIONARY_ANY
        subjects = (id_words | set(_words(dictionary.bare, table=True).split("_")) | _DICTIONARY_FIELDS[entity][2]) \
            - _DICTIONARY_ANY - _NAME_NOISE
        hangul = (*_SUBJECT_KO.get(entity, ()), *(w for w in (link, dictionary.bare) if not w.isascii()))
        best: tuple[tuple[bool, bool], str] | None = None
        for column in table.columns:
            if (column.name in used or column.name == link or column.primary_key
                    or not _FREE_TEXT_TYPE.search(column.type_name.upper() or "TEXT")  # "": SQLite's untyped column
                    or column.is_binary or column.cp949_as_latin1 or column.stored_bytes
                    or not IDENTIFIER.match(column.name) or column.name.upper() in SQL_RESERVED
                    or (self.profile.engine == "mssql" and column.type_name.upper() in ("TEXT", "NTEXT"))):
                continue
            said = _free_text_words(column.name)
            if said is None:
                continue
            strong, own, korean = said
            about = bool(own & subjects) or any(k in h or h in k for k in korean for h in hangul)
            if not about and (not strong or own or korean):
                continue  # reaction_non_coded, order_reason_non_coded: free text of something else
            rank = (bool(own & id_words), strong)
            if best is None or rank > best[0]:
                best = (rank, column.name)
        if best is None or self.source is None:
            return None
        text = best[1]
        order_by = (table.primary_key or (link,))[0]
        sample = _sample_sql(self.source, table, None, order_by, self.profile.sample_rows)
        try:
            row = next(self.source.rows(
                f"SELECT SUM(CASE WHEN s.{link} IS NOT NULL THEN 1 ELSE 0 END) AS coded, SUM(CASE WHEN s.{link} IS "
                f"NOT NULL AND s.{text} IS NOT NULL AND s.{text} <> '' THEN 1 ELSE 0 END) AS both_set, SUM(CASE WHEN "
                f"s.{link} IS NULL AND s.{text} IS NOT NULL AND s.{text} <> '' THEN 1 ELSE 0 END) AS text_only "
                f"FROM ({sample}) s"))
        except (SourceQueryError, StopIteration):
            return None
        coded, both, alone = (int(row[k] or 0) for k in ("coded", "both_set", "text_only"))
        if both * 2 > coded:
            return None
        return text, (f"of the sampled rows, {alone} hold only the text, {both} of {coded} with the id set hold it "
                      "too")

    def _join_lookups(self, guess: EntityGuess, table: TableProfile) -> None:
        """The dictionary values of :meth:`_from_dictionary` put into the section's query (its own, or a new one);
        where the query is not one to add them to, the fields are taken back (and a field the record needs is
        missing again)."""
        if not guess.lookups:
            return
        found = re.match(r"SELECT (\w+)\.\*, ", guess.query or "")
        if guess.query is None or found:
            alias = found.group(1) if found else "X"
            selects = ", ".join(sql.replace("\x01", alias) for sql in guess.lookups)
            if found and guess.query is not None:
                guess.query = f"SELECT {alias}.*, {selects}, " + guess.query[found.end():]
                guess.query_why += "; " + guess.lookups_why
            else:
                guess.query = f"SELECT X.*, {selects} FROM {self.relation(table.name)} X"
                guess.query_why = guess.lookups_why
            return
        aliases = {sql.rsplit(" AS ", 1)[1] for sql in guess.lookups}
        for taken_back in [f for f in guess.fields if f.column in aliases]:
            guess.fields.remove(taken_back)
            if taken_back.required:
                guess.missing.append(taken_back.field)
        guess.lookups = []

    def _from_code_masters(self, entity: str, guess: EntityGuess, table: TableProfile,
                           others: list[FieldGuess]) -> None:
        """A record whose code is written as text and is the key of a master table, or of one of several (an
        order's ORD_CD: a drug of TB_DRUG_MST or a fee item of TB_SUGA_MST), and which has no name of its own: the
        name, and the EDI code where the record has one and the master holds it, are the master's, joined in by
        sub-queries (one value per row: every row kept; the first master holding the code gives them). A master:
        a table no other section reads, keyed by one text column holding at least 5 % of the sampled codes; the
        masters together at least 80 %."""
        spec = _DICTIONARY_FIELDS.get(entity)
        if spec is None or self.source is None or not table.plain or _folded_select(self.profile.engine,
                                                                                     table) is not None:
            return
        code_field, name_field, _ = spec
        names = {name for name, _, _ in _record_fields(entity)}
        coded = next((f for f in others if f.field == code_field and f.type == "text" and not f.columns
                      and not f.expr and f.key_form is None), None)
        column = table.column(coded.column) if coded is not None else None
        if (column is None or any(f.field == name_field for f in others) or _integer_typed(column)
                or column.is_binary):
            return
        parents = {g.table for g in self.guesses.values() if g.usable and g.table}
        commons = {c.table for c in self._common_code_tables()}
        found: list[tuple[int, TableProfile, str, str | None]] = []
        sampled = 0
        for master in self.profile.tables:
            if (master is table or master.name in parents or master.name in commons or not self._linkable(master)
                    or _integer_typed(master.column(master.primary_key[0]) or column)):
                continue
            pk = master.primary_key[0]
            name = self._text_column(master, _DICT_NAME, {pk})
            if name is None:
                continue
            sampled, hits = self.exact_hits(table, column.name, master.name, pk, None)
            if sampled and hits >= 0.05 * sampled:
                edi = self._text_column(master, (r"EDI.*", r"(.*_)?EDI_?(CD|CODE)"), {pk, name}) \
                    if "edi_code" in names and not any(f.field == "edi_code" for f in others) else None
                found.append((hits, master, name, edi))
        if not found or sum(h for h, *_ in found) < 0.8 * sampled:
            return
        found.sort(key=lambda m: (-m[0], m[1].name))

        def first(value: Callable[[TableProfile, str, str | None], str | None]) -> str | None:
            subs = [f"(SELECT LK_M.{v} FROM {self.relation(m.name)} LK_M WHERE LK_M.{m.primary_key[0]} = "
                    f"\x01.{column.name})" for _, m, n, e in found if (v := value(m, n, e)) is not None]
            return None if not subs else subs[0] if len(subs) == 1 else f"COALESCE({', '.join(subs)})"

        said = ", ".join(f"{m.name} ({h} of {sampled} sampled codes are its {m.primary_key[0]})"
                         for h, m, _, _ in found)
        for fname, sql in ((name_field, first(lambda m, n, e: n)), ("edi_code", first(lambda m, n, e: e))):
            if sql is None or (fname == "edi_code" and "edi_code" not in names):
                continue
            alias = f"SCAFFOLD_{fname.upper()}"
            guess.lookups.append(f"{sql} AS {alias}")
            others.append(FieldGuess(fname, alias, "text", f"{coded.column if coded else ''} is the key of a "
                                     f"master table: {said}; the {fname.replace('_', ' ')} is the master's "
                                     "(see query)"))
            if fname in guess.missing:
                guess.missing.remove(fname)
        why = f"the {entity.replace('_', ' ')}'s name from the master table its {column.name} names ({said})"
        guess.lookups_why = f"{guess.lookups_why}; {why}" if guess.lookups_why else why

    def _common_code_tables(self) -> list[_CommonCodes]:
        """The database's common-code tables (공통코드: ``TB_COMM_CD (GRP_CD, CD, CD_NM)``), read whole once: a
        table of at most :data:`_COMMON_CODE_ROWS` rows keyed by two columns (a group and a code within it; the
        group the one of fewer distinct values), or with no key a column named as a code group beside one named as
        a code, and a column named as their name."""
        if self._common is not None:
            return self._common
        self._common = []
        for table in self.profile.tables:
            if (self.source is None or not table.plain or not 0 < table.row_count <= _COMMON_CODE_ROWS
                    or _folded_select(self.profile.engine, table) is not None
                    or any(part.upper() in SQL_RESERVED for part in table.parts)):
                continue
            texts = [c for c in table.columns if not c.is_binary and IDENTIFIER.match(c.name)
                     and c.name.upper() not in SQL_RESERVED]
            if len(table.primary_key) == 2:
                pair = [c for c in texts if c.name in table.primary_key and not _integer_typed(c)]
                if len(pair) != 2:
                    continue
                group, code = sorted(pair, key=lambda c: (c.distinct_capped, c.distinct))
                named = set(_words(table.bare, table=True).split("_")) & _COMMON_TABLE_WORDS or any(
                    w in table.bare for w in ("코드", "공통"))
                if not named and not _name_fits(_COMMON_GROUP, group.name):
                    continue  # a table keyed by two texts of something else (a visit and its line)
            elif not table.primary_key:
                group_col = next((c for c in texts if _name_fits(_COMMON_GROUP, c)), None)
                code_col = next((c for c in texts if c is not group_col and _name_fits(_COMMON_CODE, c)), None)
                if group_col is None or code_col is None:
                    continue
                group, code = group_col, code_col
            else:
                continue
            name = self._text_column(table, _DICT_NAME, {group.name, code.name})
            if name is None or group.distinct_capped or group.distinct < 2:
                continue
            names: dict[str, dict[str, str]] = {}
            try:
                for row in self.source.rows(f"SELECT {group.name} AS g, {code.name} AS c, {name} AS n "
                                            f"FROM {self.relation(table.name)}"):
                    if row["g"] is not None and row["c"] is not None and row["n"] is not None:
                        names.setdefault(str(row["g"]).rstrip(), {})[str(row["c"]).rstrip()] = str(row["n"])
            except SourceQueryError:
                continue
            self._common.append(_CommonCodes(table.name, group.name, code.name, name, names))
        return self._common

    def _common_group(self, table: TableProfile,
                      column: ColumnProfile) -> tuple[_CommonCodes, str, set[str], int] | None:
        """The common-code table and group whose codes ``column``'s values are: the group holding at least 80 % of
        its distinct sampled values, the most of them; on a tie, the one whose name shares a word with the
        column's (SEX_CD: SEX, where '1' and '2' are a sex and a payment method alike); none where still tied.
        With the sampled distinct values and how many the group holds."""
        if (self.source is None or not table.plain or column.is_binary or _integer_typed(column)
                or column.primary_key or not column.non_empty or column.distinct_capped or column.max_length > 20
                or not IDENTIFIER.match(column.name) or column.name.upper() in SQL_RESERVED):
            return None
        commons = [c for c in self._common_code_tables() if c.table != table.name]
        if not commons:
            return None
        order_by = (table.primary_key or (column.name,))[0]
        sample = _sample_sql(self.source, table, None, order_by, self.profile.sample_rows)
        try:
            values = {str(row["v"]).rstrip() for row in self.source.rows(
                f"SELECT DISTINCT s.{column.name} AS v FROM ({sample}) s WHERE s.{column.name} IS NOT NULL")}
        except SourceQueryError:
            return None
        values.discard("")
        if not values:
            return None
        own = set(_words(column.name).split("_")) - _LINK_NOISE
        ranked: list[tuple[tuple[int, bool], _CommonCodes, str, int]] = []
        for common in commons:
            for group, codes in common.names.items():
                hits = len(values & set(codes))
                if hits and hits >= 0.8 * len(values):
                    named = bool(own & set(_words(group).split("_")))
                    ranked.append(((hits, named), common, group, hits))
        if not ranked:
            return None
        ranked.sort(key=lambda r: r[0], reverse=True)
        if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
            return None  # two groups fit as well: which one is meant is not known
        _, common, group, hits = ranked[0]
        return common, group, values, hits

    def _common_code_map(self, table: TableProfile, column: ColumnProfile,
                         maps: tuple[dict[str, str], ...]) -> tuple[dict[str, str | bool], str] | None:
        """A code map for a coded field (sex, a visit's kind) whose values are codes of a common-code group:
        every sampled value is a code of the group whose name is a key of one of the field's maps; the map written
        is code → that map's value, for every code of the group whose name the map knows."""
        found = self._common_group(table, column)
        if found is None:
            return None
        common, group, values, hits = found
        codes = common.names[group]
        if hits < len(values):
            return None  # a code the group does not have: the field would fail on it
        fitting = next((m for m in maps if all(codes[v] in m for v in values)), None)
        if fitting is None:
            return None
        known = sorted(code for code in codes if codes[code] in fitting)
        mapping: dict[str, str | bool] = {code: fitting[codes[code]] for code in known}
        return mapping, (f"; its values are the codes of group {group!r} of {common.table} ({common.group}, "
                         f"{common.code}), whose names ({', '.join(sorted({codes[c] for c in known}))}) this map "
                         "reads")

    def _common_code_names(self, guess: EntityGuess, table: TableProfile) -> None:
        """A text field (a visit's department, an order's route) whose column holds codes of a common-code group
        reads the code's name instead, joined in by a sub-query of (group, code) (one value per row: every row
        kept; a code the group does not have leaves the field empty); the code itself is carried raw beside the
        section."""
        for f in list(guess.fields):
            if (f.type != "text" or f.columns or f.expr or f.map is not None or f.key_form is not None
                    or f.column.upper().startswith("SCAFFOLD_") or f.field in _NOT_COMMON_CODED
                    or f.field.endswith(("code", "_id", "number"))):
                continue
            column = table.column(f.column)
            found = self._common_group(table, column) if column is not None else None
            if found is None:
                continue
            common, group, values, hits = found
            alias = f"SCAFFOLD_{f.field.upper()}"
            literal = group.replace("'", "''")
            guess.lookups.append(
                f"(SELECT MIN(LK_C.{common.name}) FROM {self.relation(common.table)} LK_C WHERE LK_C.{common.group} "
                f"= '{literal}' AND LK_C.{common.code} = \x01.{f.column}) AS {alias}")
            guess.fields[guess.fields.index(f)] = dataclasses.replace(
                f, column=alias, why=f"{f.why}; {hits} of its {len(values)} sampled distinct values are codes of group "
                f"{group!r} of {common.table}: the code's name {common.table}.{common.name} (see query; a code the "
                f"group does not have leaves it empty; {f.column} is carried raw beside the section)")
            why = f"{f.column}'s name from {common.table} (group {group!r})"
            guess.lookups_why = f"{guess.lookups_why}; {why}" if guess.lookups_why else (
                f"the codes' names joined in from the common-code table: {why}")

    def _patient_subset(self, guess: EntityGuess) -> EntityGuess:
        """A patient table that is a subset of the person table the guess reads (OpenMRS: ``patient.patient_id`` is
        a ``person_id``; the staff are persons too, never patients): keyed by a column named for the patient whose
        sampled values are the person table's keys, fewer rows, and no name, birth date or sex of its own. The
        section then reads that table, the person's fields joined in by its key (LEFT JOIN: every patient kept, a
        person's name read through its own table in two steps); persons who are not patients stay rows of the
        person table, carried raw, never exported as Patients."""
        if (not guess.usable or guess.table is None or not isinstance(guess.key, str) or self.source is None
                or any(f.expr or f.key_form or f.bp_part or f.large_object for f in guess.fields)):
            return guess
        person = next((t for t in self.profile.tables if t.name == guess.table), None)
        if person is None:
            return guess
        best: tuple[float, TableProfile, int, int] | None = None
        for table in self.profile.tables:
            if (table is person or not self._linkable(table) or table.row_count >= person.row_count
                    or _table_hint("patient", table.bare) is None):
                continue
            key = table.primary_key[0]
            if not any(_name_fits(p, key) for p in _REF_PATTERNS["patient"]):
                # a key of its own (patient_identifier_id; ``id`` in every table of a Tryton schema) is found among
                # the persons' by coincidence: only a key named for the patient (patient_id) is the person's
                continue
            if any(self._plain_field("patient", table, name, annotation, False, set(), key) is not None
                   for name, annotation, _ in _record_fields("patient") if name in ("name", "birth_date", "sex")):
                continue  # a patient table with the demographics of its own is no subset
            sampled, hits = self.exact_hits(table, key, person.name, guess.key, None)
            if sampled and hits >= 0.8 * sampled and (best is None or hits / sampled > best[0]):
                best = (hits / sampled, table, sampled, hits)
        if best is None:
            return guess
        _, table, sampled, hits = best
        key = table.primary_key[0]
        selects: list[str] = []
        fields: list[FieldGuess] = []
        for f in guess.fields:
            if f.column == guess.key and not f.columns:
                fields.append(dataclasses.replace(f, column=key, why=f.why + f" ({table.name}.{key}, the same number)"))
                continue
            renamed = {}
            for column in (*f.columns, f.column):
                alias = column if column.upper().startswith("SCAFFOLD_") else f"SCAFFOLD_P_{column.upper()}"
                if column not in renamed:
                    renamed[column] = alias
                    if f"P.{column} AS {alias}" not in selects:
                        selects.append(f"P.{column} AS {alias}")
            fields.append(dataclasses.replace(
                f, column=renamed[f.column], columns=tuple(renamed[c] for c in f.columns),
                why=f.why + f" (of the person, {person.name}: see query)"))
        inner = guess.query or f"SELECT * FROM {self.relation(person.name)}"
        subset = EntityGuess(
            entity="patient", table=table.name, key=key, key_why="the table's primary key",
            why=(f"{table.name} holds the patients among the persons of {person.name}: {hits} of {sampled} sampled "
                 f"{key} values are its {guess.key}, and it has no name, birth date or sex of its own; the persons "
                 "who are not patients (the staff) stay rows of " + person.name + ", carried raw"),
            query=(f"SELECT S.*, {', '.join(selects)} FROM {self.relation(table.name)} S "
                   f"LEFT JOIN ({inner}) P ON P.{guess.key} = S.{key}"),
            query_why=(f"the person's fields are {person.name}'s, joined in by {key} (LEFT JOIN keeps every patient)"
                       + (f"; {guess.query_why}" if guess.query_why else "")),
            fields=fields, notes=guess.notes)
        return subset

    def _ref_field(self, table: TableProfile, name: str, target: str, required: bool,
                   used: set[str], key: str | list[str] | None = None) -> FieldGuess | None:
        parent = self.guesses.get(target)
        if parent is None or not parent.usable or parent.table == table.name or not isinstance(parent.key, str):
            return None
        # The parent's columns a child may hold: its key, and its unique chart number.
        targets: list[tuple[str, str]] = [(parent.key, target)]
        chart = next((f for f in parent.fields if f.field == "chart_number"), None)
        if chart is not None:
            targets.append((chart.column, f"{target}.chart_number"))
        patterns = [re.escape(c.upper()) for c, _ in targets] + list(_REF_PATTERNS.get(target, ()))
        candidates: list[tuple[ColumnProfile, str]] = []
        remaining = set(used)
        while (match := self._match(table, patterns, remaining)) is not None:
            remaining.add(match[0].name)
            if match[0].name == key and not any(_name_fits(p, match[0]) for p in _REF_PATTERNS.get(target, ())):
                # The table's own key named only as the parent's is (``id`` in every table of a Tryton, Django or
                # Rails schema): its values are found among the parent's ids by coincidence, each row given to
                # the patient who happens to have its number. Only a key that names the parent (OpenMRS
                # ``patient.patient_id``, the person's id) may point at it.
                continue
            candidates.append(match)
        # The table's own key (attachments.id, 1…44) is found among the patients' ids (1…300) by coincidence
        # as often as not: a column that names the parent and points at it (patient_id) comes first.
        best: tuple[tuple[bool, float], int, int, ColumnProfile, str, str, str] | None = None
        for column, pattern in candidates:
            for parent_column, ref in targets:
                sampled, hits = self.overlap(table, column.name, str(parent.table), parent_column)
                share = hits / sampled if sampled else 0.0
                rank = (share >= 0.5 and column.name != key, share)
                if best is None or rank > best[0]:
                    best = (rank, sampled, hits, column, pattern, parent_column, ref)
        if best is None:
            return None
        (_, share), sampled, hits, column, pattern, parent_column, ref = best
        form = None
        parent_table = next((t for t in self.profile.tables if t.name == parent.table), None)
        if self.source is not None and ref == target and parent_table is not None:
            # The record a reference names is found by the key's text: SQL's 1 = '0000001' is not enough.
            if share >= 0.5:
                sampled, hits = self.exact_hits(table, column.name, str(parent.table), parent_column, None)
                share = hits / sampled if sampled else 0.0
            if share < 0.5:
                rewritten = self.key_form(table, column.name, parent_table, parent_column)
                if rewritten is not None:
                    form, sampled, hits = rewritten
                    share = hits / sampled
        if self.source is not None and sampled and share < 0.5:
            return None  # most values point nowhere: a wrong guess would orphan every row
        used.add(column.name)
        why = _name_matches(pattern, column)
        if sampled:
            written = ""
            if form is not None:
                written = f" once zero-padded to {form[1]} digits (expr)" if form[0] == "pad" \
                    else f" once written in {form[0]} case (expr)" if form[0] in ("upper", "lower") \
                    else " once read as a number (expr)"
            why += (f"; {hits} of {sampled} sampled values ({100 * share:.0f} %) are found in "
                    f"{parent.table}.{parent_column}{written}")
        return FieldGuess(field=name, column=column.name, type="ref", ref=ref, required=required,
                          why=f"{why}; rows whose {target} is missing are quarantined as orphans",
                          key_form=form, engine=self.profile.engine)

    def _plain_field(self, entity: str, table: TableProfile, name: str, annotation: Any, required: bool,
                     used: set[str], key: str | list[str] | None) -> FieldGuess | None:
        patterns = FIELD_HINTS[entity].get(name, ())
        candidates: list[tuple[ColumnProfile, str]] = []
        remaining = set(used)
        while (match := self._match(table, patterns, remaining)) is not None:
            candidates.append(match)
            remaining.add(match[0].name)
        # Columns that hold values first (BIRTH_FNAME, empty, is not the birth date; DOB is), and a field the
        # record cannot do without never on a column mostly empty (every row would be quarantined).
        candidates.sort(key=lambda match: match[0].non_empty == 0)
        for column, pattern in candidates:
            if column.name == key and name != "chart_number":
                continue
            if name == "chart_number" and ((pattern == _HOSPITAL_NUMBER and not column.unique_in_sample) or (
                    column.distinct == 1 and column.non_empty > 1)):
                continue  # the clinic's own number on every row, no patient's chart number
            if name == "name" and _name_fits(_PART_NAME, column):
                continue  # FamilyName, first_name: a part of the name (see _split_name), not the whole one
            if (name in _NAMED_FIELDS or name.endswith("_name")) and _integer_typed(column):
                continue  # a Tryton Many2One named ``name`` (gnuhealth_patient.name: the party's id): no name
            if (name in _NAMED_FIELDS or name.endswith("_name")) and column.unique_in_sample and column.has(
                    "record_number", 0.9):
                continue  # Odoo's ``name`` of a document, RX/2024/0001 (one per row): the record's number, no name
            if (entity != "patient" and _name_fits(_PERSON_NAME["patient"], column.name)) or (
                    entity != "practitioner" and _name_fits(_PERSON_NAME["practitioner"], column.name)):
                continue  # a record's copy of its patient's or doctor's name (patient_name): not what it names
            if required and column.sampled and column.non_empty * 2 < column.sampled:
                continue
            if entity == "receipt" and pattern == _BILL_AMOUNT and _table_hint(entity, table.bare) not in _BILL_TABLES:
                continue
            field_type = _field_type(entity, name, annotation, column)
            if not _fits(column, field_type, percent=entity == "vital_signs" and name == "spo2"):
                continue
            if name == "eye" and column.non_empty and not column.has("eye", 0.8):
                continue  # an EYE_ID into a lookup of eyes (OpenEyes' 1 Left, 2 Right): no side as written
            if name == "teeth" and _universal_teeth(column):
                continue  # Universal (US) numbers: 11-18 and 21-28 would read as other FDI teeth (a note says so)
            if name == "surfaces" and column.non_empty and not column.has("surface", 0.8):
                continue  # a body surface area (SURFACE_AREA 1.73), a code into a lookup: no tooth surface as written
            why = _name_matches(pattern, column)
            shape = self._shape_note(column, field_type)
            return self._finish(entity, table, name, column, field_type, required, used, why + shape)
        # By shape only, for fields whose values say what they are.
        shape_of = {"rrn": "rrn", "code": "kcd" if entity == "diagnosis" else "", "edi_code": "edi"}
        shape = shape_of.get(name, "")
        if shape:
            for column in table.columns:
                if column.name not in used and column.name != key and column.has(shape, 0.8):
                    field_type = _field_type(entity, name, annotation, column)
                    return self._finish(entity, table, name, column, field_type, required, used,
                                        f"values look like {_plural(shape)}")
        if required and "date" in str(annotation):
            # a local time before a UTC one beside it (dtVisitUTC, dtVisit: the clinic's own time first); the
            # row's own audit stamps (creation, modified, created_at) after the record's dates (encounter_date)
            for column in sorted(table.columns, key=lambda c: (_name_fits(_AUDIT_STAMP, c.name),
                                                               bool({"UTC", "GMT"} & set(_words(c.name).split("_"))))):
                if column.name not in used and _date_like(column) and column.non_empty * 2 >= column.sampled:
                    field_type = _field_type(entity, name, annotation, column)
                    return self._finish(entity, table, name, column, field_type, required, used,
                                        "first unused column whose values look like dates")
        return None

    @staticmethod
    def _shape_note(column: ColumnProfile, field_type: str) -> str:
        if field_type == "bool":  # a 0/1 flag is no amount of money, though 0 is a whole number of won
            flag = "yn" if column.has("yn", 0.99) else "access_yn"
            return (f"; {100 * column.share(flag):.0f} % of {column.non_empty} sampled values look like "
                    f"{SHAPES[flag]}s")
        for shape in ("yyyymmdd", "yyyymmddhhmmss", "iso_date", "iso_datetime", "iso_minute", "dotted_date",
                      "us_date", "dmon_date", "dmon_long_date", "iso_datetime_fraction",
                      *_KO_FORMATS, "rrn",
                      "kcd", "edi",
                      "amount_text", "decimal_comma", "percent", "amount"):
            if column.has(shape, 0.8):
                return (f"; {100 * column.share(shape):.0f} % of {column.non_empty} sampled values look like "
                        f"{_plural(shape)}")
        if column.cp949_only_text:
            return "; CP949 text"
        return ""

    def _finish(self, entity: str, table: TableProfile, name: str, column: ColumnProfile, field_type: str,
                required: bool, used: set[str], why: str) -> FieldGuess | None:
        mapping: dict[str, str | bool] | None = None
        maps = _CODE_MAPS.get((entity, name))
        if maps is not None:
            values = self.sampled_codes.get((table.name, column.name))
            fitting = next((m for m in maps if values is not None and values <= set(m)), None)
            mapping = dict(fitting) if fitting is not None else None
            said = "; every sampled value is a key of this map"
            if mapping is None and (coded := self._common_code_map(table, column, maps)) is not None:
                mapping, said = coded  # codes whose names (in a common-code table) a map knows
            if mapping is None:
                return None  # values no map knows: left for the contractor (see PROFILE.md)
            field_type = "code"
            why += said
        if field_type == "bool" and not column.has("yn", 0.99):
            mapping = dict(_ACCESS_YES_NO)  # -1/0: Access's yes/no, which the bool transform does not read alone
        used.add(column.name)
        fmt = None
        tz = ""
        if field_type in ("date", "datetime"):
            fmt, share = _field_format(column)
            why += share
            if {"UTC", "GMT", "ZULU"} & set(_words(column.name).split("_")):
                tz = "UTC"  # else its times would be taken for Korean ones, 9 hours off
                why += "; named UTC: read as UTC times"
        large_object = field_type == "blob" and column.type_name.upper() in _LARGE_OBJECT_TYPES
        if large_object:
            why += "; it holds large objects' numbers: the field reads their bytes (lo_get)"
        return FieldGuess(field=name, column=column.name, type=field_type, why=why, required=required,
                          map=mapping, format=fmt, large_object=large_object, tz=tz)

    def run(self) -> dict[str, EntityGuess]:
        taken: set[str] = set()
        for entity in SCAFFOLD_ENTITIES:
            guess = self.guess(entity, taken)
            if entity == "patient":
                guess = self._patient_subset(guess)
            self.guesses[entity] = guess
            if guess.table and guess.usable:
                taken.add(guess.table)
        self._back_references()
        self._kin_sections()
        self._inpatient_stays()
        self._lab_result_rows()
        self._prescription_rows()
        self._prescription_json_items()
        self._visit_diagnoses()
        self._column_groups()
        self._visit_plain_vitals()
        self._row_lab_values()
        self._row_findings()
        self._visit_json_vitals()
        self._visit_json_notes()
        return self.guesses

    def _visit_read_again(self) -> tuple[EntityGuess, TableProfile, FieldGuess, FieldGuess,
                                         list[ColumnProfile]] | None:
        """The visit's section, table, patient and date fields, and the columns of the visit table no field of it
        reads, where a section may read the visit rows again for what a column's JSON document keeps (the visit's
        patient and date plain columns of the table, not read through a query or a join); else None."""
        visit = self.guesses.get("encounter")
        if visit is None or not visit.usable or not isinstance(visit.key, str) or visit.table is None:
            return None
        table = next((t for t in self.profile.tables if t.name == visit.table), None)
        if table is None or not table.plain or not self._linkable(table):
            return None
        fields = {f.field: f for f in visit.fields}
        patient, start = fields.get("patient_id"), fields.get("start")
        names = {c.name for c in table.columns}
        start = _visit_day(start, names) if start is not None else None
        if patient is None or start is None or start.json_keys or (
                patient.column not in names or patient.expr or patient.columns or patient.join or patient.key_form
                or patient.bp_part or patient.json_keys or patient.large_object):
            return None  # the visit's patient or date read through a query or a join: not one to read again here
        used = {c for f in visit.fields for c in (*f.columns, f.column) if c} | set(visit.unnamable) | {visit.key}
        return visit, table, patient, start, [c for c in table.columns if c.name not in used]

    def _visit_json_vitals(self) -> None:
        """The measurements of a visit kept as a JSON document of the visit row (``vitals = {"bp": "120/80",
        "pulse": 72}``, Korean keys too; :func:`_json_vital_keys`): ``[entities.vital_signs_<column>]`` reads the
        visit rows again whose document holds one of them, each measurement read out of it by ``expr``
        (PostgreSQL ``->>``, MariaDB ``JSON_VALUE``, SQLite ``json_extract``), with the visit's key as its key and
        encounter link, its patient, and its date as the time observed. The document is carried raw as written
        (every key of it, those read out too) by the visit's section and by this one. Before, the document was only
        carried raw: no vital-sign Observation."""
        found = self._visit_read_again()
        vitals = self.guesses.get("vital_signs")
        if found is None or (vitals is not None and vitals.table == found[1].name):
            return
        visit, table, patient, start, unread = found
        assert isinstance(visit.key, str)
        engine = self.profile.engine
        reading = self.json_value_reading()
        if reading is None:
            return
        for column in unread:
            lifted = _json_vital_keys(engine, column, ())
            section = f"vital_signs_{column.name.lower()}"
            if not lifted or not NAME.match(section) or section in self.guesses:
                continue
            selects = list(dict.fromkeys(f"X.{c}" for c in (visit.key, patient.column, start.column)))
            read = ", ".join(sorted({k for _, keys, _, _ in lifted for k in keys}))
            guess = EntityGuess(
                "vital_signs", table.name, key=visit.key, section=section,
                why=(f"{column.name} of the visit table {table.name} keeps the visit's vital signs as a JSON document "
                     f"({read}): one set of measurements per visit whose document holds one"),
                key_why="the visit's key: one set of measurements per visit",
                query_why=(f"the visits whose {column.name} holds a measurement, each read out of the document; the "
                           f"visit's section carries {column.name} raw as written, every key of it"))
            guess.fields = _visit_links(visit.key, patient, start, "observed")
            conditions = [f"{lift_sql(engine, f'X.{column.name}', keys, reading=reading)} IS NOT NULL"
                          for _, keys, part, _ in lifted if part != 2]  # a blood pressure's keys once
            selects.append(f"X.{column.name}")
            guess.fields += [FieldGuess(name, column.name, "decimal", why + " (expr)", json_keys=keys, bp_part=part,
                                        engine=engine, json_reading=reading) for name, keys, part, why in lifted]
            guess.query = (f"SELECT {', '.join(selects)} FROM {self.relation(table.name)} X WHERE "
                           + " OR ".join(conditions))
            self.guesses[section] = guess

    def _visit_json_notes(self) -> None:
        """The visit's SOAP note kept as a JSON document of the visit row (``soap = {"s": …, "o": …, "a": …, "p":
        …}``, Korean keys too; :func:`_json_note_keys`): ``[entities.chart_note_<column>]`` reads the visit rows again
        whose document holds a part, each part read out of it by ``expr`` into the note's sections in S/O/A/P order,
        with the visit's key as its key and encounter link, its patient, and its date as the time recorded. The
        document is carried raw as written by the visit's section and by this one. Before, it was only carried raw:
        no chart note."""
        found = self._visit_read_again()
        if found is None:
            return
        visit, table, patient, start, unread = found
        assert isinstance(visit.key, str)
        engine = self.profile.engine
        reading = self.json_value_reading()
        if reading is None:
            return
        for column in unread:
            parts = _json_note_keys(engine, column)
            section = f"chart_note_{column.name.lower()}"
            if not parts or not NAME.match(section) or section in self.guesses:
                continue
            guess = EntityGuess(
                "chart_note", table.name, key=visit.key, section=section,
                why=(f"{column.name} of the visit table {table.name} keeps the visit's SOAP note as a JSON document "
                     f"({', '.join(k for _, keys, _ in parts for k in keys)}): one chart note per visit whose "
                     "document holds a part"),
                key_why="the visit's key: one chart note per visit",
                query_why=(f"the visits whose {column.name} holds a part of the note, each read out of the document; "
                           f"the visit's section carries {column.name} raw as written, every key of it"))
            guess.fields = _visit_links(visit.key, patient, start, "recorded")
            guess.fields += [FieldGuess(name, column.name, "text", why + " (expr)", json_keys=keys, json_nested=True,
                                        engine=engine, json_reading=reading) for name, keys, why in parts]
            selects = list(dict.fromkeys(f"X.{c}" for c in (visit.key, patient.column, start.column, column.name)))
            guess.query = (f"SELECT {', '.join(selects)} FROM {self.relation(table.name)} X WHERE "
                           + " OR ".join(f"{lift_sql(engine, f'X.{column.name}', keys, nested=True, reading=reading)} "
                                         "IS NOT NULL"
                                         for _, keys, _ in parts))
            self.guesses[section] = guess

    def _kin_sections(self) -> None:
        """A section of its own for each further table of a kind that is *differently shaped* from the kind's first
        (OpenMRS: ``conditions`` beside ``encounter_diagnosis``; 외래진단 beside 입원진단):
        ``[entities.<kind>_<table>]`` with ``entity = "<kind>"``, its own key, links and fields, its record ids
        made from its own table. Only on the evidence :func:`_kin_evidence` asks of the table's name and shape,
        and only where the section is usable as guessed (its patient found in the sample, what the record needs
        found): else it stays carried."""
        read = {g.table.lower() for g in self.guesses.values() if g.usable and g.table}
        marks = {_generation_mark(name) for name in read}  # visit_2020 beside visit_2019: same_shape_tables'
        referred = {f.ref.partition(".")[0] for g in self.guesses.values() if g.usable for f in g.fields if f.ref}
        by_name = {t.name: t for t in self.profile.tables}
        for entity in _KIN_KINDS:
            first = self.guesses.get(entity)
            own = by_name.get(first.table or "") if first is not None else None
            if first is None or own is None or not first.usable or entity in referred:
                continue  # a second section of a kind others refer to would leave their references one-sided
            kin = [own]  # the kind's tables: a child of any of them is none of its records
            for table in sorted(self.profile.tables, key=lambda t: t.name):
                if table.name.lower() in read or _generation_mark(table.name) in marks or table.row_count == 0:
                    continue
                why = _kin_evidence(entity, table, kin)
                if why is None:
                    continue
                guess = self._guess_table(entity, table, why)
                if not guess.usable:
                    continue
                guess.section = _kin_section_name(entity, table, self.guesses)
                self.guesses[guess.section] = guess
                read.add(table.name.lower())
                kin.append(table)

    def _inpatient_stays(self) -> None:
        """In-patient stays are encounters of class IMP with a period (입퇴원확인서 lists them): a visit section
        on a table named for admissions (:func:`_inpatient_evidence`) gets ``kind = { value = "inpatient" }``
        where no column gives the kind; each further such table beside the visit table (Open Hospital's
        ``ADMISSION`` beside ``OPD``) a section of its own, ``[entities.encounter_<table>]`` (``entity =
        "encounter"``, its own key, patient, admission and discharge dates), where it is usable as guessed (its
        patient found in the sample, its admission date found). No other section refers to it: a record naming its
        visit names the first section's (the references stay one-sided, as a carried table's would be)."""
        visit = self.guesses.get("encounter")
        by_name = {t.name: t for t in self.profile.tables}
        own = by_name.get(visit.table or "") if visit is not None else None
        if visit is None or own is None or not visit.usable:
            return
        if _inpatient_evidence(own, []) is not None:
            self._inpatient_kind(visit)
        read = {g.table.lower() for g in self.guesses.values() if g.usable and g.table}
        kin = [own]
        for table in sorted(self.profile.tables, key=lambda t: t.name):
            if table.name.lower() in read or table.row_count == 0:
                continue
            why = _inpatient_evidence(table, kin)
            if why is None:
                continue
            guess = self._guess_table("encounter", table, why)
            if not guess.usable or not isinstance(guess.key, str):
                continue
            self._inpatient_kind(guess)
            guess.section = _kin_section_name("encounter", table, self.guesses)
            self.guesses[guess.section] = guess
            read.add(table.name.lower())
            kin.append(table)

    def _lab_result_rows(self) -> None:
        """The result rows of a multi-row exam kept under the lab result table (Open Hospital's ``LABORATORYROW``
        under ``LABORATORY`` by ``LABR_LAB_ID``; a ``LAB_RSLT_DTL``): each exam that has rows a lab report
        (``[entities.lab_report]`` reading the lab result table's rows again, those with rows under them: its patient,
        day, code and name the lab result section's), each row a lab result of that report
        (``[entities.lab_result_<table>]``: the exam's patient, day, code and name joined in by sub-queries, the row's
        text its value, ``report_id`` the exam), so each DiagnosticReport lists its rows (*A lab report's results*).
        Only where no lab report section is usable yet, the lab result section reads its patient, day and code as
        plain columns, and the child table is named after the lab result table (its name extending it) with a column
        named as that table's key (after its column prefix: ``LABR_LAB_ID`` as ``LAB_ID``) whose sampled values are
        all its keys, no patient column of its own, and one text column left for the value."""
        labs, report = self.guesses.get("lab_result"), self.guesses.get("lab_report")
        if labs is None or not labs.usable or not isinstance(labs.key, str) or labs.table is None or (
                report is not None and report.usable):
            return
        parent = next((t for t in self.profile.tables if t.name == labs.table), None)
        if parent is None or not self._linkable(parent) or parent.primary_key[0] != labs.key:
            return
        fields = {f.field: f for f in labs.fields}
        names = {c.name for c in parent.columns}
        plain = {n: f for n, f in fields.items() if f.column in names and not f.expr and not f.columns
                 and f.key_form is None}
        if not {"patient_id", "observed", "code"} <= set(plain):
            return
        query = labs.query or f"SELECT X.* FROM {self.relation(parent.name)} X"
        if not re.fullmatch(rf"SELECT X\.\*(, .*)? FROM {re.escape(self.relation(parent.name))} X", query):
            return  # a query of another shape: the rows' sub-queries could not repeat it
        read = {g.table.lower() for g in self.guesses.values() if g.usable and g.table}
        for child in sorted(self.profile.tables, key=lambda t: t.name):
            if (child.name.lower() in read or not self._linkable(child) or child is parent
                    or not child.bare.upper().startswith(parent.bare.upper())):
                continue
            link = next((c for c in child.columns
                         if not c.primary_key and (c.own or c.name).upper() == labs.key.upper()), None)
            if link is None or self._match(child, list(_REF_PATTERNS["patient"]), set()) is not None:
                continue
            sampled, hits = self.exact_hits(child, link.name, parent.name, labs.key, None)
            if not sampled or hits < sampled:
                continue
            value = next((c for c in child.columns if not c.primary_key and c is not link and c.non_empty
                          and not c.is_binary and not _date_like(c) and not _integer_typed(c)
                          and not any(_name_fits(p, c) for p in (_AUDIT_STAMP, r"(.*_)?(CREATED|MODIFIED|UPDATED)_?BY",
                                                                  r"(.*_)?LOCK", r"(.*_)?ACTIVE"))), None)
            if value is None:
                continue
            self._lab_rows_sections(labs, parent, child, link, value, query, plain)
            return

    def _lab_rows_sections(self, labs: EntityGuess, parent: TableProfile, child: TableProfile, link: ColumnProfile,
                           value: ColumnProfile, query: str, plain: dict[str, FieldGuess]) -> None:
        """The lab report section over ``parent`` (its rows with rows under them) and the lab result section over
        ``child`` (:meth:`_lab_result_rows`)."""
        key = parent.primary_key[0]
        under = f"EXISTS (SELECT 1 FROM {self.relation(child.name)} R WHERE R.{link.name} = X.{key})"
        why = (f"{child.name}'s rows are the results of a {parent.name} exam ({link.name} names it: every sampled "
               f"value one of its keys): each exam with rows a lab report")
        report = EntityGuess(entity="lab_report", table=parent.name, key=key, why=why,
                             key_why="the lab result table's key: the report is the exam")
        report.query = f"{query} WHERE {under}"
        report.query_why = f"the {parent.name} rows that have rows in {child.name} (read again: a report each)"
        named = next((g for g in labs.fields if g.field == "name"), None)
        for own, name in (("patient_id", "patient_id"), ("observed", "effective"), ("code", "code"),
                          ("name", "name")):
            f = named if own == "name" else plain[own]
            if f is not None:
                report.fields.append(dataclasses.replace(f, field=name, why=f"the exam's {own}, as its lab result"))
        self.guesses["lab_report"] = report
        joined = ", ".join(f"(SELECT H.{plain[f].column} FROM {self.relation(parent.name)} H WHERE H.{key} = "
                           f"R.{link.name}) AS SCAFFOLD_{f.upper()}" for f in ("patient_id", "observed", "code"))
        rows = EntityGuess(entity="lab_result", table=child.name, key=child.primary_key[0],
                           why=f"{child.name}: a {parent.name} exam's result rows ({link.name})",
                           key_why="the table's primary key")
        rows.query = f"SELECT R.*, {joined} FROM {self.relation(child.name)} R"
        rows.query_why = (f"the rows hold only their exam's key ({link.name}): its patient, day and code joined in "
                          "(sub-queries keep every row)")
        for part in ("patient_id", "observed", "code"):
            rows.fields.append(dataclasses.replace(plain[part], column=f"SCAFFOLD_{part.upper()}",
                                                   why=f"the exam's {part.removesuffix('_id')} (see query)"))
        rows.fields.append(FieldGuess("value", value.name, "text", "the row's text: its result as recorded"))
        rows.fields.append(FieldGuess("report_id", link.name, "ref", f"the exam ({parent.name}), its lab report",
                                      ref="lab_report"))
        rows.section = _kin_section_name("lab_result", child, self.guesses)
        self.guesses[rows.section] = rows

    #: header fields of a prescription each of its ingredient rows takes as its own (:meth:`_prescription_rows`).
    #: Not its frequency: an ingredient's amount is per 첩, the prescription's 횟수 the packs of its decoction a day
    #: (the two on one MedicationRequest would say 6 g of 황기 taken twice a day); it stays the header's cell
    _PRESCRIPTION_HEADER_FIELDS = ("patient_id", "encounter_id", "ordered", "status", "prescriber_id", "days",
                                   "route", "outside_prescription")

    #: names of money (a 탕전료 and its won) and of totals (the whole prescription's grams, not a 첩's): a table of the
    #: one is no ingredient rows, a column of either no ingredient's amount (:meth:`_prescription_rows`)
    _MONEY = (r"(.*_)?(COST|PRICE|FEE|CHARGE|PAY|BILL|DANGA|SUGA|GEUMAEK|KUMAEK|WON)(_.*)?",
              r".*(금액|단가|수가|비용|가격|수납).*")
    _TOTAL = (r"(.*_)?(TOT|TOTAL|SUM|SUMMARY)(_.*)?", r"(총|합계).*")

    def _prescription_rows(self) -> None:
        """A prescription kept as a header and its ingredient rows (a 한약 처방 and its herbs, 약재명 and 용량 g per
        첩): where the order line section found the header (its table's name a prescription's, its patient and its
        day) but no column naming a medicine, and a table named after it (its name extending the header's) has a
        column named as the header's key whose sampled values are all its keys, no patient column of its own, one
        text column naming the ingredient and a decimal column its amount, each ingredient row is an order line
        (``[entities.order_line]`` over that table): its name, its amount a dose (a unit column named so its unit),
        a drug, ``group_id`` the header's key (MedicationRequest.groupIdentifier: the lines of one prescription
        share it), and the header's patient, visit, day and status (the fields the header's section found) joined
        in from the header's query (a LEFT JOIN keeps every row). The header table is then carried whole (its
        name, 첩수 and 용법 raw cells: FHIR R4 has no place for a formula of lines). Where the header's section is
        usable (a column names the formula), it stays an order line of its own, a drug, ``group_id`` its own key,
        and the ingredient rows are a section beside it (``[entities.order_line_<table>]``), the same group."""
        header = self.guesses.get("order_line")
        if (header is None or header.table is None or header.problems or not isinstance(header.key, str)
                or header.missing not in ([], ["edi_code or local_code or name"])):
            return
        parent = next((t for t in self.profile.tables if t.name == header.table), None)
        if parent is None or not self._linkable(parent) or parent.primary_key[0] != header.key:
            return
        plain = {f.field: f for f in header.fields if not f.expr and not f.columns and f.key_form is None
                 and f.field in self._PRESCRIPTION_HEADER_FIELDS}
        if not {"patient_id", "ordered"} <= set(plain):
            return
        read = {g.table.lower() for g in self.guesses.values() if g.usable and g.table}
        for child in sorted(self.profile.tables, key=lambda t: t.name):
            if (child.name.lower() in read or child is parent or not child.nameable or child.row_count == 0
                    or not child.primary_key or _folded_select(self.profile.engine, child) is not None
                    or any(part.upper() in SQL_RESERVED for part in child.parts)
                    or not child.bare.upper().startswith(parent.bare.upper())
                    or any(_name_fits(p, child.bare[len(parent.bare):].strip("_") or child.bare, table=True)
                           for p in self._MONEY)):
                continue
            link = next((c for c in child.columns if (c.own or c.name).upper() == header.key.upper()), None)
            if link is None or self._match(child, list(_REF_PATTERNS["patient"]), set()) is not None:
                continue
            rest = [c for c in child.columns if c is not link and c.non_empty and not c.is_binary
                    and not _date_like(c) and not _integer_typed(c)]
            unit = next((c for c in rest if any(_name_fits(p, c) for p in (r"(.*_)?UNIT", r"(.*_)?DANWI", r"단위"))),
                        None)
            amounts = [c for c in rest if c is not unit and c.numeric == c.non_empty
                       and not any(_name_fits(p, c) for p in self._MONEY + self._TOTAL)]
            names = [c for c in rest if c is not unit and c.numeric == 0]
            # a name column among other texts (원산지, a note): the one named a name, then the one never empty
            for narrow in (lambda c: any(_name_fits(p, c) for p in (r"(.*_)?(NM|NAME)", r".*(명|명칭|이름)")),
                           lambda c: c.empty == 0):
                if len(names) > 1:
                    names = [c for c in names if narrow(c)] or names
            if len(amounts) != 1 or len(names) != 1:
                continue  # which column is the ingredient or its amount is not clear
            sampled, hits = self.exact_hits(child, link.name, parent.name, header.key, None)
            if not sampled or hits < sampled:
                continue
            self._prescription_rows_section(header, parent, child, link, names[0], amounts[0], unit, plain)
            return

    #: The order-line field each key of a prescription's drug objects is read into (json_columns.DRUG_ARRAY_KEYS;
    #: ``code`` by the shape of its values, :func:`json_columns.drug_code_field`), and its type.
    _DRUG_ITEM_FIELDS: typing.ClassVar[dict[str, str]] = {
        "name": "text", "dose": "decimal", "dose_unit": "text", "frequency": "int", "days": "int", "route": "text"}

    def _prescription_json_items(self) -> None:
        """A prescription whose drugs are a JSON array in one column of its row (``ITEMS = [{"code": "642102570",
        "name": "타이레놀정500mg", "dose": 1, "times": 3, "days": 5}, …]``, Korean keys too: 약품코드/약품명/1회량/
        횟수/일수/용법; :func:`json_columns.drug_array_keys`): where the order line section found the prescription
        table (its patient and its day) but no column naming a medicine, and most sampled values of a column of it
        are arrays of drug objects, each element is an order line (``[entities.order_line]``, a drug) read by the
        engine's own unnesting (:func:`json_columns.elements_sql`), keyed by the prescription's key and the
        element's position, with the prescription's patient, visit and day, ``group_id`` its key. The rows
        themselves, the document whole as written, are carried by a section of their own
        (``[entities.prescription_<table>]``, ``carry``): the order lines are read out of them again, so an element
        no field reads (no code or name) or a key of it none reads stays in the document. Before, the table was
        carried whole: no MedicationRequest."""
        header = self.guesses.get("order_line")
        if (header is None or header.table is None or header.problems or not isinstance(header.key, str)
                or header.missing != ["edi_code or local_code or name"]):
            return
        parent = next((t for t in self.profile.tables if t.name == header.table), None)
        if parent is None or not self._linkable(parent) or parent.primary_key[0] != header.key:
            return
        plain = {f.field: f for f in header.fields if not f.expr and not f.columns and f.key_form is None
                 and not f.join and f.field in self._PRESCRIPTION_HEADER_FIELDS}
        if not {"patient_id", "ordered"} <= set(plain):
            return
        engine = self.profile.engine
        names = {c.name.upper() for c in parent.columns}
        for column in parent.columns:
            keys = column.json
            if not IDENTIFIER.match(column.name) or column.name.upper() in SQL_RESERVED:
                continue  # a name the query could not write unquoted (Hangul, a space, a reserved word): carried
            found = drug_array_keys(keys) if json_column_type(engine, column.type_name) else None
            if not found or keys.arrays * 2 < column.non_empty:
                continue
            aliases = {name: f"{column.name}_{name.lower() if column.name.islower() else name.upper()}"
                       for name in (*found, "pos")}
            if any(alias.upper() in names for alias in aliases.values()):
                continue
            reading = json_array_reading(self.profile.server_version) if engine == "mariadb" else JSON_TABLE
            if reading is None:  # MariaDB before 10.2.3, MySQL before 5.7.8: no JSON function to read it with
                header.problems.append(
                    f"{column.name} of {parent.name} keeps the prescription's drugs as a JSON array, which this "
                    f"server ({self.profile.server_version}) cannot read: it has no JSON functions (MariaDB 10.2.3 "
                    f"and MySQL 5.7.8 have them); {parent.name} is carried whole, every drug in its document as "
                    "written, and no order line or MedicationRequest is made of it")
                return
            self._prescription_json_section(header, parent, column, found, aliases, plain, reading)
            return

    def _prescription_json_section(self, header: EntityGuess, parent: TableProfile, column: ColumnProfile,
                                   found: dict[str, tuple[str, ...]], aliases: dict[str, str],
                                   plain: dict[str, FieldGuess], reading: str) -> None:
        """The order line section over the elements of ``column``'s arrays and the carried section of ``parent``'s
        rows (:meth:`_prescription_json_items`); ``reading``: how a MariaDB/MySQL server of the profile's version
        unnests them (drivers.json_array_reading)."""
        key = parent.primary_key[0]
        engine = self.profile.engine
        shown = ", ".join(f"{'/'.join(k)} ({name})" for name, k in found.items())
        header_fields = {part: f for part, f in plain.items() if part not in found}  # an element's days its own
        selects = list(dict.fromkeys(f"X.{c}" for c in (key, *(f.column for f in header_fields.values()))))
        lifted = [(aliases[name], k) for name, k in found.items()]
        needed = [found[name] for name in ("code", "name") if name in found]
        rows = EntityGuess(
            entity="order_line", table=parent.name, key=[key, aliases["pos"]],
            why=(f"{column.name} of {parent.name} keeps the prescription's drugs as a JSON array of objects ({shown}): "
                 "one order line per element naming a drug"),
            key_why=f"the prescription's key and the element's position in {column.name} (1 for the first)")
        rows.query = elements_sql(engine, self.relation(parent.name), column.name, selects, aliases["pos"], lifted,
                                  needed, reading)
        # each page unnests every document again (no index orders the element's position): few, large pages
        rows.page_size, rows.page_size_why = ELEMENT_PAGE_ROWS, (
            "each page reads every document of the table again (no index orders an element's position): the "
            "largest pages, as many rows as 16 MB of them hold (docs/performance.md)")
        whole = _kin_section_name("prescription", parent, self.guesses)
        rows.query_why = (f"one row per element of {column.name} whose code or name is set, read out of the document "
                          f"(NULL, malformed or no array: no row); [entities.{whole}] carries {parent.name}'s rows "
                          f"whole, {column.name} as written")
        if reading == JSON_POSITIONS:
            rows.query_why += (f"; this server ({self.profile.server_version}) has no JSON_TABLE (MariaDB 10.6, MySQL "
                               f"8.0.21): each element read at its position, the first {10 ** POSITION_DIGITS} of an "
                               "array (docs/connectors.md)")
        rows.fields = [dataclasses.replace(f, why=f"the prescription's {part.removesuffix('_id')} ({f.why})")
                       for part, f in header_fields.items()]
        for name, k in found.items():
            field_name = drug_code_field(column.json, k) if name == "code" else name
            said = "/".join(k)
            kind = "a HIRA drug code" if field_name == "edi_code" else "the clinic's code" if name == "code" else name
            rows.fields.append(FieldGuess(field_name, aliases[name], self._DRUG_ITEM_FIELDS.get(name, "text"),
                                          f"the element's {said}: {kind} (see query)"))
        rows.fields.append(FieldGuess("code_type", "", "text", f"an element of {column.name}, a prescription's "
                                      "drugs: a medicine (MedicationRequest)", value="drug"))
        rows.fields.append(FieldGuess("group_id", key, "text", f"the prescription ({parent.name}) the element is "
                                      "one line of: MedicationRequest.groupIdentifier"))
        self.guesses["order_line"] = rows
        self.guesses[whole] = EntityGuess(
            entity="order_line", table=parent.name, key=key, section=whole,
            why=(f"{parent.name}'s rows, each a prescription whose drugs {column.name} keeps: no record type holds "
                 "a prescription's header, its drugs are order lines ([entities.order_line])"),
            key_why="the table's primary key",
            carry=(f"a prescription's row: {column.name} (its drugs, a JSON array) kept whole as written, each "
                   "element naming a drug read out of it as an order line by [entities.order_line]"))

    def _prescription_rows_section(self, header: EntityGuess, parent: TableProfile, child: TableProfile,
                                   link: ColumnProfile, name: ColumnProfile, amount: ColumnProfile,
                                   unit: ColumnProfile | None, plain: dict[str, FieldGuess]) -> None:
        """The order line section over ``child``, the ingredient rows of ``parent``'s prescriptions
        (:meth:`_prescription_rows`)."""
        key = parent.primary_key[0]
        query = header.query or f"SELECT X.* FROM {self.relation(parent.name)} X"
        joined = ", ".join(f"H.{f.column} AS SCAFFOLD_RX_{part.upper()}" for part, f in plain.items())
        rows = EntityGuess(entity="order_line", table=child.name,
                           key=child.primary_key[0] if len(child.primary_key) == 1 else list(child.primary_key),
                           why=(f"{child.name}: the ingredient rows of a {parent.name} prescription ({link.name} names "
                                f"it: every sampled value one of its keys), each with its amount ({amount.name})"),
                           key_why="the table's primary key")
        rows.query = (f"SELECT R.*, {joined} FROM {self.relation(child.name)} R "
                      f"LEFT JOIN ({query}) H ON H.{key} = R.{link.name}")
        rows.query_why = (f"the rows hold only their prescription's key ({link.name}): its "
                          f"{', '.join(plain)} joined in from {parent.name} (LEFT JOIN keeps every row)")
        for part, f in plain.items():
            rows.fields.append(dataclasses.replace(f, column=f"SCAFFOLD_RX_{part.upper()}",
                                                   why=f"the prescription's {part.removesuffix('_id')} (see query)"))
        rows.fields.append(FieldGuess("name", name.name, "text", "the row's one text column: the ingredient's name"))
        rows.fields.append(FieldGuess("dose", amount.name, "decimal", "the row's one decimal column: the ingredient's "
                                      "amount"))
        said = re.fullmatch(r"(?:.*_)?(G|MG|ML)", amount.name.upper())
        if unit is not None:
            rows.fields.append(FieldGuess("dose_unit", unit.name, "text", f"column name says a unit ({unit.name})"))
        elif said:  # DOSE_G, AMT_MG: the amount's name says its unit
            rows.fields.append(FieldGuess("dose_unit", "", "text", f"{amount.name}'s name says its unit",
                                          value={"G": "g", "MG": "mg", "ML": "mL"}[said.group(1)]))
        rows.fields.append(FieldGuess("code_type", "", "text", "an ingredient with an amount of a prescription: a "
                                      "medicine (MedicationRequest)", value="drug"))
        rows.fields.append(FieldGuess("group_id", link.name, "text", f"the prescription ({parent.name}) the row is "
                                      "one line of: MedicationRequest.groupIdentifier"))
        rows.fields.append(FieldGuess("group_table", "", "text", f"group_id is a key of {parent.name}: the group's "
                                      "system names it, as the prescription's own line's does", value=parent.name))
        if not header.usable:
            self.guesses["order_line"] = rows
            return
        # the header an order line of its own (its formula's name): the same group as its rows, a medicine too
        rows.section = _kin_section_name("order_line", child, self.guesses)
        self.guesses[rows.section] = rows
        header.fields.append(FieldGuess("group_id", key, "text", f"the prescription itself ({child.name}'s rows are "
                                        "its lines): MedicationRequest.groupIdentifier"))
        if not any(f.field == "code_type" for f in header.fields):
            header.fields.append(FieldGuess("code_type", "", "text", f"its rows in {child.name} are ingredients with "
                                            "an amount: a medicine (MedicationRequest)", value="drug"))

    @staticmethod
    def _inpatient_kind(guess: EntityGuess) -> None:
        """``kind = { value = "inpatient" }`` on a section of admissions whose kind no column gives."""
        if not any(f.field == "kind" for f in guess.fields):
            guess.fields.append(FieldGuess("kind", "", "text", "the table's name says in-patient stays: every row "
                                           "an admission", value="inpatient"))

    def _visit_diagnoses(self) -> None:
        """A diagnosis section per diagnosis-code column of the visit table (Open Hospital's ``OPD_DIS_ID_A``,
        ``_2``, ``_3``; 접수's 주상병코드/부상병코드, ``MAIN_DX_CD``, ``SANG_CD1..5``): by its name (a word saying
        diagnosis, none naming, dating or flagging it: :data:`_VISIT_DX_WORDS`) AND by its values (KCD/ICD-shaped in
        the sample, or most of them keys of a dictionary table named for diagnoses, whose name is joined in).
        ``[entities.diagnosis_<column>]`` reads the visit rows again whose code is set (its ``WHERE`` leaves out NULL
        and blank codes: no empty Condition), with the visit's key as its key and encounter link, the visit's
        patient and date, the code, the name (the column beside it, 주상병명, else the dictionary's) and the rank
        where the names say it (주/MAIN; else the first of a numbered series). Its record ids are
        ``TABLE#section``'s (one per visit and position). The code and name of a visit such a section reads are
        its own: the visit's section carries them only for the visits it does not read (the export's
        ``read_again``, docs/connectors.md). An integer column is taken only as the id of such a dictionary.
        So too for each table of in-patient stays (:meth:`_inpatient_stays`: an admission's diagnoses in and out,
        Open Hospital's ``ADM_IN_DIS_ID_A``/``ADM_OUT_DIS_ID_A``), the Conditions that stay's."""
        visits = [g for g in list(self.guesses.values()) if g.entity == "encounter" and not g.section] + [
            g for g in list(self.guesses.values()) if g.entity == "encounter" and g.section]
        for visit in visits:
            self._visit_diagnoses_of(visit)

    def _visit_diagnoses_of(self, visit: EntityGuess) -> None:
        """:meth:`_visit_diagnoses` of one visit section."""
        if not visit.usable or not isinstance(visit.key, str) or visit.table is None:
            return
        table = next((t for t in self.profile.tables if t.name == visit.table), None)
        dx = self.guesses.get("diagnosis")
        if (table is None or not table.plain or _folded_select(self.profile.engine, table) is not None
                or (dx is not None and dx.table == table.name) or not self._linkable(table)):
            return
        fields = {f.field: f for f in visit.fields}
        names = {c.name for c in table.columns}

        def plain(f: FieldGuess | None) -> bool:
            return f is not None and f.column in names and not (
                f.expr or f.columns or f.join or f.key_form or f.bp_part or f.large_object)

        patient, start = fields.get("patient_id"), fields.get("start")
        start = _visit_day(start, names) if start is not None else None
        if not plain(patient) or not plain(start) or patient is None or start is None:
            return  # the visit's patient or date read through a query or a join: not one to read again here
        used = {c for f in visit.fields for c in (*f.columns, f.column) if c} | set(visit.unnamable) | {visit.key}
        # an in-patient stay's row: its discharge diagnosis (ADM_OUT_DIS_ID_A, 퇴원진단) is one of its diagnoses
        staying = any(f.field == "kind" and f.value == "inpatient" for f in visit.fields)
        found: list[tuple[ColumnProfile, list[str], str]] = []  # column, its words, why
        for column in table.columns:
            if (column.name in used or column.primary_key or not column.non_empty or not IDENTIFIER.match(column.name)
                    or column.name.upper() in SQL_RESERVED or column.is_binary or column.cp949_as_latin1
                    or column.stored_bytes or column.dated):
                continue
            words = _dx_words(column.own or column.name)
            korean = not column.name.isascii()
            if korean:
                if not any(k in column.name for k in _VISIT_DX_KO) or any(
                        column.name.endswith(k) for k in _VISIT_DX_NOT_KO):
                    continue
            elif not set(words) & _VISIT_DX_WORDS or set(words) & (
                    _VISIT_DX_NOT - _STAY_DX_WORDS if staying else _VISIT_DX_NOT):
                continue
            why = self._dx_values(table, column)
            # an integer column only as the id of a dictionary of diagnoses (Open Hospital's DIS_ID INT): no count,
            # number or kind is a code by its shape
            if why is not None and (not _integer_typed(column)
                                    or self._dx_dictionary.get((table.name, column.name)) is not None):
                found.append((column, words, why))
        if not found or len(found) > _VISIT_DX_MAX:
            return
        # the other groups of a numbered series one of whose code columns is found (DX1_CODE … DX8_CODE; 진단1코드 …):
        # set in no sampled visit, or only with a name (DX4_NAME written, DX4_CODE blank), they are the visit's
        # diagnoses all the same; never one whose sampled values are no codes (SUB_DX_CD2 of free text)
        by_name = {c.name: c for c in table.columns}
        for groups in column_groups([c.name for c in table.columns if c.name not in used]).values():
            parts = [p for p, c in groups[0].parts.items() if c in {f[0].name for f in found}]
            for part in parts:
                head = groups[0].parts[part]
                for group in groups:
                    other = by_name.get(group.parts.get(part, ""))
                    if other is not None and other.name not in {f[0].name for f in found} and (
                            not _integer_typed(other) and not other.is_binary and not other.dated) and (
                            other.non_empty == 0 or self._dx_values(table, other) is not None):
                        found.append((other, _dx_words(other.own or other.name),
                                      f"group {group.number} of the numbered series whose first, {head}, holds them"))
        # (the groups of a series added: no more than the slots the vendor made, not counted against the columns
        # found by their own values, _VISIT_DX_MAX above: DX1_CD … DX10_CD is ten of the visit's diagnoses)
        found.sort(key=lambda f: table.columns.index(f[0]))
        ranks = [_dx_rank(c.name, w) for c, w, _ in found]
        if not any(r is not None for r in ranks) and len(found) > 1 and not staying:
            # (a stay's diagnoses in and out are no numbered series: neither is taken for the main one)
            first = min(range(len(found)), key=lambda i: (_dx_number(found[i][1]), i))
            ranks = [True if i == first else None for i in range(len(found))]
            series = "the first of the visit's numbered diagnosis columns: taken for its main diagnosis"
        else:
            series = "its name says it is the visit's main diagnosis (주상병)"
        for (column, _words_of, why), rank in zip(found, ranks, strict=True):
            self._visit_diagnosis(visit, table, column, why, rank, series, patient, start)

    def _dx_values(self, table: TableProfile, column: ColumnProfile) -> str | None:
        """Why ``column``'s values are diagnosis codes (KCD/ICD-shaped, or the keys of a dictionary of diagnoses,
        named so: its name joined in, see :meth:`_visit_diagnosis`), or None."""
        dictionary: tuple[TableProfile, str] | None = None
        parents = {g.table for g in self.guesses.values() if g.usable and g.table}
        for candidate in self.profile.tables:
            words = set(_words(candidate.bare, table=True).split("_"))
            if (candidate is table or candidate.name in parents or not self._linkable(candidate)
                    or not (words & (_VISIT_DX_WORDS | _DICTIONARY_FIELDS["diagnosis"][2])
                            or any(k in candidate.bare for k in _VISIT_DX_KO))):
                continue
            sampled, hits = self.exact_hits(table, column.name, candidate.name, candidate.primary_key[0], None)
            set_ = min(sampled, column.non_empty)  # blank codes (a CHAR column's '') are no code of any dictionary
            if set_ and hits >= 0.8 * set_:
                name = (self._text_column(candidate, _DICT_NAME, {candidate.primary_key[0]})
                        or self._text_column(candidate, (r"(.*_)?(DESC|DESCRIPTION)",), {candidate.primary_key[0]}))
                dictionary = (candidate, name or "")
                break
        self._dx_dictionary[(table.name, column.name)] = dictionary
        if dictionary is not None:
            return (f"most sampled values are keys of {dictionary[0].name} ({dictionary[0].primary_key[0]}), a table "
                    "named for diagnoses")
        if column.has("kcd", 0.8):
            return "KCD/ICD-shaped codes in the sample"
        return None

    def _visit_diagnosis(self, visit: EntityGuess, table: TableProfile, column: ColumnProfile, why: str,
                         primary: bool | None, primary_why: str, patient: FieldGuess, start: FieldGuess) -> None:
        """The section of :meth:`_visit_diagnoses` reading one diagnosis-code column of the visit table."""
        assert isinstance(visit.key, str)
        taken = set(self.guesses)
        section = f"diagnosis_{column.name.lower()}"
        if not NAME.match(section) or section in taken:
            section = _kin_section_name("diagnosis", table, taken)
        beside = _name_beside(table, column)
        dictionary = self._dx_dictionary.get((table.name, column.name))
        selects = [visit.key, patient.column, start.column, column.name]
        text: FieldGuess | None = None
        if beside is not None:
            selects.append(beside)
            text = FieldGuess("text", beside, "text", f"the name written beside the code ({beside})")
        elif dictionary is not None and dictionary[1]:
            d, name = dictionary
            selects.append(f"(SELECT LK_D.{name} FROM {self.relation(d.name)} LK_D WHERE LK_D.{d.primary_key[0]} = "
                           f"X.{column.name}) AS SCAFFOLD_TEXT")
            text = FieldGuess("text", "SCAFFOLD_TEXT", "text", f"the name of the {d.name} row the code is the key of "
                              f"({d.name}.{name}, joined in: one value per row)")
        columns = list(dict.fromkeys(s if s.startswith(("(", "'")) else f"X.{s}" for s in selects))
        guess = EntityGuess(
            "diagnosis", table.name, key=visit.key, section=section,
            why=(f"{column.name} of the visit table {table.name} holds a diagnosis code of each visit ({why}): one "
                 f"diagnosis per visit whose {column.name} is set"),
            key_why="the visit's key: one diagnosis per visit and column (the record ids of a second section of "
                    f"{table.name} are made from {table.name}#<section>)",
            query=(f"SELECT {', '.join(columns)} FROM {self.relation(table.name)} X WHERE "
                   + ("(" if beside is not None else "") + _set_sql(column)
                   # a diagnosis written as its name alone (DX4_NAME, no code): a Condition of its text
                   + (f") OR (X.{beside} IS NOT NULL AND TRIM(X.{beside}) <> '')" if beside is not None else "")),
            query_why=(f"the visits whose {column.name} is set" + (f" or, without it, {beside} (a diagnosis written "
                                                                   "as its name alone)" if beside else "")
                       + f" (no empty diagnosis made of a NULL or blank one; their {column.name} is this section's, "
                       "the visit's section carries it only where it is not set)"))
        guess.fields = [
            dataclasses.replace(patient, why=f"the visit's patient ({patient.why})", required=True),
            FieldGuess("encounter_id", visit.key, "ref", "the visit itself", ref=visit.section or "encounter"),
            FieldGuess("recorded", start.column, "date", f"the visit's date ({start.why})", format=start.format,
                       tz=start.tz),
            FieldGuess("code", column.name, "text", why),
        ]
        if text is not None:
            guess.fields.append(text)
        if primary:
            guess.fields.append(FieldGuess("primary", "", "bool", primary_why, value=True))
        self.guesses[section] = guess


    #: What a section of a repeated column group needs set to make a record (its WHERE): entity → fields, any one
    _GROUP_SET: typing.ClassVar[dict[str, tuple[str, ...]]] = {
        "order_line": ("code", "name"), "fee_line": ("code", "name"), "allergy": ("substance",)}
    #: The field each made of the row's date, and the constant fields of each entity's group
    _GROUP_WHEN: typing.ClassVar[dict[str, str]] = {"order_line": "ordered", "fee_line": "service_date",
                                                     "allergy": ""}

    def _column_groups(self) -> None:
        """Repeated column groups of the visit row (``RX1_CODE, RX1_NAME, RX1_DOSE … RX15_…``: drug orders;
        ``수가1코드, 수가1금액 …``: fee lines) and of the patient row (``ALLERGY1..ALLERGY5``) that no field of its
        section reads (:func:`~emr_exporter.authoring.column_groups.column_groups`: ``<stem><n>_<part>``,
        ``<stem>_<part><n>``, Hangul ``<stem><n><part>``, two numbers or more): ``[entities.<entity>_<stem><n>]``
        per group number reads the row again where the group's code or name is set (its ``WHERE``: an empty group
        is no record), with the row's key as its key, the visit's patient, the visit itself and its date (the
        patient's own key for a patient's group), each part as the field its name says (a part no field reads, or
        whose values do not fit it, a raw cell of the section). Each cell of a group is its section's for the rows
        it reads, the row's section's for the others (the export's ``read_again``). Before, every group was carried
        raw with its row: no MedicationRequest, no fee line, no allergy."""
        found = self._visit_read_again()
        if found is not None:
            visit, table, patient, start, unread = found
            assert isinstance(visit.key, str)
            links = [dataclasses.replace(patient, why=f"the visit's patient ({patient.why})", required=True),
                     FieldGuess("encounter_id", visit.key, "ref", "the visit itself", ref=visit.section or "encounter")]
            self._group_sections(table, visit.key, unread, links, start, ("order_line", "fee_line", "allergy"))
        person = self.guesses.get("patient")
        own_table = next((t for t in self.profile.tables if person is not None and t.name == person.table), None)
        if person is None or own_table is None or not person.usable or not isinstance(person.key, str) or (
                not own_table.plain or not self._linkable(own_table)):
            return
        used = {c for f in person.fields for c in (*f.columns, f.column) if c} | set(person.unnamable) | {person.key}
        own = FieldGuess("patient_id", person.key, "ref", "the patient's own row", ref="patient", required=True)
        unread = [c for c in own_table.columns if c.name not in used]
        self._group_sections(own_table, person.key, unread, [own], None, ("allergy",))
        self._patient_row_coverage(own_table, person.key, unread, own)

    def _patient_row_coverage(self, table: TableProfile, key: str, unread: list[ColumnProfile],
                              own: FieldGuess) -> None:
        """The patient's insurance kept on the patient row (``INS_TYPE``, ``INS_NO``; 보험구분, 보험증번호), where no
        table of coverage was found: ``[entities.coverage_<table>]`` reads the patient rows again whose kind of
        insurance is set, one Coverage each, the patient's own key its key and ``patient_id``; the number beside it
        its ``insured_number``. Before, both were carried raw with the patient."""
        coverage = self.guesses.get("coverage")
        section = f"coverage_{table.name.lower()}"
        if (coverage is not None and coverage.usable) or not NAME.match(section) or section in self.guesses:
            return
        plain = [c for c in unread if IDENTIFIER.match(c.name) and c.name.upper() not in SQL_RESERVED
                 and not c.is_binary and not c.cp949_as_latin1 and not c.stored_bytes and not _date_like(c)]
        found: dict[str, tuple[ColumnProfile, str]] = {}
        for name in ("payer_type", "insured_number"):
            for pattern in FIELD_HINTS["coverage"][name]:
                column = next((c for c in plain if _name_fits(pattern, c) and c.non_empty
                               and all(c is not f[0] for f in found.values())), None)
                if column is not None:
                    found[name] = (column, pattern)
                    break
        if "payer_type" not in found:
            return
        kind = found["payer_type"][0]
        guess = EntityGuess(
            "coverage", table.name, key=key, section=section,
            why=(f"{', '.join(c.name for c, _ in found.values())} of the patient table {table.name} are named as a "
                 "patient's insurance is: one coverage per patient whose kind of insurance is set"),
            key_why="the patient's key: one coverage per patient",
            query_why=(f"the patients whose {kind.name} is set; their insurance columns are this section's, the "
                       "patient's section carries them for the others"))
        selects = list(dict.fromkeys(f"X.{c}" for c in (key, *(c.name for c, _ in found.values()))))
        guess.query = f"SELECT {', '.join(selects)} FROM {self.relation(table.name)} X WHERE {_set_sql(kind)}"
        guess.fields = [own] + [FieldGuess(name, c.name, "text", f"column name matches {pattern}",
                                           required=name == "payer_type") for name, (c, pattern) in found.items()]
        self.guesses[section] = guess

    #: The measurements a visit row may keep as plain columns (BP_SYS, PULSE, 체온), in the order they are matched
    _VISIT_VITALS = ("systolic", "diastolic", "pulse", "respiration", "temperature", "weight", "height", "bmi", "spo2")

    def _visit_plain_vitals(self) -> None:
        """The vital signs a visit row keeps as plain columns of its own (``BP_SYS, BP_DIA, PULSE, TEMP, HEIGHT,
        WEIGHT``; 수축기혈압, 체온), named as a vital-signs table's are (:data:`FIELD_HINTS`), two measurements or
        more, numbers in the sample, no field of the visit's section reading them: ``[entities.vital_signs_<table>]``
        reads the visit rows again where one of them is set (its ``WHERE``: a visit with none measured has no
        vital signs), with the visit's key as its key and encounter link, its patient, and its date as the time
        observed. Each such cell is this section's for the visits it reads, the visit's section's for the others
        (the export's ``read_again``). Before, they were carried raw with the visit: no vital-sign Observation."""
        found = self._visit_read_again()
        if found is None:
            return
        vitals = self.guesses.get("vital_signs")
        # a table of vital signs of its own: the visit's columns are no second set of them; an eye's measurements
        # that table does not keep (its kinds: a refraction table beside a visit's VA_OD, IOP_OS) still are read
        kept = None if vitals is None or not vitals.usable else {
            model.EYE_FIELDS[f.field][0] for f in vitals.fields if f.field in model.EYE_FIELDS}
        visit, table, patient, start, unread = found
        assert isinstance(visit.key, str)
        section = f"vital_signs_{table.name.lower()}"
        if section in self.guesses:
            return
        if not NAME.match(section):  # a Hangul visit table (내원): vital_signs_2 (was: no section, the columns raw)
            section = _kin_section_name("vital_signs", table, self.guesses)
        free = [c for c in unread if IDENTIFIER.match(c.name) and c.name.upper() not in SQL_RESERVED
                and not c.is_binary and not c.primary_key and not _date_like(c) and c.non_empty]
        measured: list[tuple[str, ColumnProfile, str]] = []
        names = [*self._VISIT_VITALS, *_EYE_HINTS] if kept is None else [
            name for name in _EYE_HINTS if model.EYE_FIELDS[name][0] not in kept]
        annotations = typing.get_type_hints(model.VitalSigns)
        for name in names:
            field_type = "decimal" if annotations[name] != (str | None) else "text"
            for pattern in FIELD_HINTS["vital_signs"][name]:
                column = next((c for c in free if _name_fits(pattern, c) and c not in [m[1] for m in measured]
                               and _fits(c, field_type)), None)
                if column is not None:
                    measured.append((name, column, pattern))
                    break
        if len(measured) < 2:
            return  # one column named HT or BT alone is no set of measurements
        conditions = [_set_sql(c) for _, c, _ in measured]
        guess = EntityGuess(
            "vital_signs", table.name, key=visit.key, section=section,
            why=(f"{', '.join(c.name for _, c, _ in measured)} of the visit table {table.name} are named as vital "
                 "signs are: one set of measurements per visit with one of them"),
            key_why="the visit's key: one set of measurements per visit",
            query_why=("the visits with a measurement (a visit with none measured has no vital signs); their "
                       "measurements are this section's, the visit's section carries them for the others"))
        selects = list(dict.fromkeys(f"X.{c}" for c in (visit.key, patient.column, start.column,
                                                        *(c.name for _, c, _ in measured))))
        guess.query = (f"SELECT {', '.join(selects)} FROM {self.relation(table.name)} X WHERE "
                       + " OR ".join(f"({c})" for c in conditions))
        guess.fields = _visit_links(visit.key, patient, start, "observed")
        guess.fields[1] = dataclasses.replace(guess.fields[1], ref=visit.section or "encounter")
        guess.fields += [FieldGuess(name, c.name, "text" if annotations[name] == (str | None) else "decimal",
                                    f"column name matches {pattern}") for name, c, pattern in measured]
        self.guesses[section] = guess

    def _measured_rows(self) -> list[tuple[EntityGuess, TableProfile, list[FieldGuess], list[ColumnProfile]]]:
        """The rows a section may read again for the measurements kept as plain columns beside them: the visit's
        (:meth:`_visit_read_again`) and a vital-signs table's, where its patient, its time and its visit link are
        plain columns of its own (a check-up row: 신장, 혈압, then its lab values). Each: the row's section, its
        table, the fields linking a record read out of it (patient, visit, time observed) and the columns no field
        of the row's section reads."""
        found: list[tuple[EntityGuess, TableProfile, list[FieldGuess], list[ColumnProfile]]] = []
        visit = self._visit_read_again()
        if visit is not None:
            guess, table, patient, start, unread = visit
            assert isinstance(guess.key, str)
            links = _visit_links(guess.key, patient, start, "observed")
            links[1] = dataclasses.replace(links[1], ref=guess.section or "encounter")
            found.append((guess, table, links, unread))
        vitals = self.guesses.get("vital_signs")
        if vitals is None or not vitals.usable or not isinstance(vitals.key, str) or vitals.table is None or (
                visit is not None and vitals.table == visit[1].name):
            return found
        own = next((t for t in self.profile.tables if t.name == vitals.table), None)
        fields = {f.field: f for f in vitals.fields}
        names = {c.name for c in own.columns} if own is not None else set()
        if own is None or not own.plain or not self._linkable(own) or any(
                f is not None and (f.column not in names or f.expr or f.columns or f.join or f.key_form or f.bp_part
                                   or f.json_keys or f.large_object or f.value)
                for f in (fields.get("patient_id"), fields.get("observed"), fields.get("encounter_id"))) or (
                "patient_id" not in fields or "observed" not in fields):
            return found  # its patient or time read through a query or a join: not one to read again here
        links = [dataclasses.replace(fields[f], required=f != "encounter_id")
                 for f in ("patient_id", "encounter_id", "observed") if f in fields]
        used = {c for f in vitals.fields for c in (*f.columns, f.column) if c} | set(vitals.unnamable) | {vitals.key}
        found.append((vitals, own, links, [c for c in own.columns if c.name not in used]))
        return found

    def _row_lab_values(self) -> None:
        """The lab values a row keeps as plain columns named by their analyte (a check-up row's ``GLU, TCHOL, HDL,
        AST, ALT, GGT, HGB, CREAT, 요단백``, in English or Korean; :data:`LAB_ANALYTES`), two analytes or more, on
        a visit row or a vital-signs row (:meth:`_measured_rows`): ``[entities.lab_result_<analyte>]`` per column
        reads those rows again where it is set (:meth:`_row_column_sections`), with the column as the value as
        written (a comparator kept: '<0.5' is valueQuantity with comparator '<'; '미실시', '1+' valueString) and,
        as constants, the analyte's name, the unit its column implies and its LOINC code where one is certain.
        Before, they were carried raw with the row."""

        def constants(analyte: str, column: ColumnProfile, table: TableProfile) -> tuple[str, str, list[FieldGuess]]:
            _, name, unit, loinc = LAB_ANALYTES[analyte]
            fields = [FieldGuess("name", "", "text", f"the analyte {column.name} names", value=name)]
            if unit:
                fields.append(FieldGuess("unit", "", "text", f"the unit {column.name} implies (never stored)",
                                         value=unit))
            if loinc:
                fields.append(FieldGuess("loinc", "", "text", f"the LOINC code of {name}", value=loinc))
            return name, f"{column.name} of {table.name} is named as the lab analyte {name} is (its unit implied)", \
                fields

        self._row_column_sections({a: p for a, (p, *_) in LAB_ANALYTES.items()}, "lab_result", "result", constants)

    def _row_findings(self) -> None:
        """A check-up row's other findings kept as plain columns (:data:`CHECKUP_FINDINGS`: 청력_우/청력_좌 each ear's
        hearing, 흉부방사선 the chest X-ray's reading, 판정 the verdict, 흡연/음주/운동 the questionnaire's answers,
        과거력_고혈압/HX_DM its past-history check boxes),
        two or more on a visit row or a vital-signs row: ``[entities.finding_<kind>]`` per column, a lab_result
        reading those rows again where it is set (:meth:`_row_column_sections`), with as constants its name
        (code.text), its observation-category, the unit a number in it implies (a hearing column's dB: '정상' stays
        valueString) and the ear it is of (bodySite). The value as written: an answer 'N' is an Observation 'N',
        never dropped as false. Before, they were carried raw with the row."""

        def constants(kind: str, column: ColumnProfile, table: TableProfile) -> tuple[str, str, list[FieldGuess]]:
            _, name, category, unit, site = CHECKUP_FINDINGS[kind]
            fields = [FieldGuess("name", "", "text", f"the finding {column.name} names", value=name),
                      FieldGuess("category", "", "text", f"a {name} is an Observation of {category}",
                                 value=category)]
            sampled = self.sampled_codes.get((table.name, column.name)) or set()
            if unit and sampled and all(v.strip().isdigit() and int(v) <= 3 for v in sampled):
                unit = None  # the national form's codes (1 정상, 2 비정상), no threshold in dB: the code as written
            if unit:
                fields.append(FieldGuess("unit", "", "text", f"the unit a number in {column.name} implies (never "
                                         "stored)", value=unit))
            if site:
                fields.append(FieldGuess("body_site", "", "text", f"the ear {column.name} names (SNOMED CT "
                                         f"{model.BODY_SITES[site]})", value=site))
            return name, f"{column.name} of {table.name} is named as a check-up's {name} is ({category})", fields

        self._row_column_sections({k: p for k, (p, *_) in CHECKUP_FINDINGS.items()}, "finding", "finding",
                                  constants)

    def _row_column_sections(self, kinds: dict[str, tuple[str, ...]], prefix: str, noun: str,
                             constants: Callable[[str, ColumnProfile, TableProfile],
                                                 tuple[str, str, list[FieldGuess]]]) -> None:
        """A lab_result section ``<prefix>_<kind>`` (``<prefix>_<kind>_<table>`` where another table took the name)
        per column named as one of ``kinds`` (kind → name patterns, the first column fitting each), two kinds or
        more on a row a section may read again (:meth:`_measured_rows`) and no section of its table reading it:
        its query reads those rows again where the column is set (a value not written is no ``noun``), with the
        row's key as its key, its patient, visit and time, the column as ``value`` as written, and the fields
        ``constants`` gives (kind, column, table → the name said, why, the constant fields). Each cell is that
        section's for the rows it reads, the row's section's for the others (the export's ``read_again``), as
        the visit's vital signs are (:meth:`_visit_plain_vitals`)."""
        taken = {(g.table, f.column) for g in self.guesses.values() for f in g.fields if f.column}
        numbers = ("INT", "NUM", "DEC", "REAL", "FLOAT", "DOUBLE", "SMALLINT", "BIGINT", "TINYINT", "MONEY")
        for row, table, links, unread in self._measured_rows():
            assert isinstance(row.key, str)
            free = [c for c in unread if IDENTIFIER.match(c.name) and c.name.upper() not in SQL_RESERVED
                    and not c.is_binary and not c.primary_key and not _date_like(c) and c.non_empty
                    and not c.cp949_as_latin1 and not c.stored_bytes and (table.name, c.name) not in taken]
            found: list[tuple[str, ColumnProfile, str]] = []
            for kind, patterns in kinds.items():
                for pattern in patterns:
                    column = next((c for c in free if _name_fits(pattern, c) and c not in [m[1] for m in found]),
                                  None)
                    if column is not None:
                        found.append((kind, column, pattern))
                        break
            if len(found) < 2:
                continue  # one column named ALT, TG or 판정 alone is no panel of lab values, no check-up's findings
            for kind, column, pattern in found:
                section = f"{prefix}_{kind}"
                if section in self.guesses:
                    section = f"{prefix}_{kind}_{table.name.lower()}"
                if not NAME.match(section) or section in self.guesses:
                    continue
                name, why, fields = constants(kind, column, table)
                condition = f"X.{column.name} IS NOT NULL" + (
                    "" if column.type_name.upper().startswith(numbers) else f" AND TRIM(X.{column.name}) <> ''")
                guess = EntityGuess(
                    "lab_result", table.name, key=row.key, section=section, why=why,
                    key_why=f"the {table.name} row's key: one {name} per row with one",
                    query_why=(f"the rows with a {column.name} (a value not written is no {noun}); its values are "
                               f"this section's, the {table.name} section carries the column for the others"))
                selects = list(dict.fromkeys(f"X.{c}" for c in (row.key, *(f.column for f in links), column.name)))
                guess.query = f"SELECT {', '.join(selects)} FROM {self.relation(table.name)} X WHERE {condition}"
                guess.fields = [*links, FieldGuess("value", column.name, "text",
                                                   f"column name matches {pattern}: the value as written"), *fields]
                self.guesses[section] = guess

    def _group_sections(self, table: TableProfile, key: str, unread: list[ColumnProfile], links: list[FieldGuess],
                        start: FieldGuess | None, entities: Sequence[str]) -> None:
        """:meth:`_column_groups` on one table's ``unread`` columns: a section per group of an entity of
        ``entities``."""
        by_name = {c.name: c for c in unread if IDENTIFIER.match(c.name) and c.name.upper() not in SQL_RESERVED
                   and not c.is_binary and not c.cp949_as_latin1 and not c.stored_bytes}
        hints = typing.get_type_hints
        for stem, groups in column_groups(list(by_name)).items():
            entity = group_entity(stem)
            if entity is None or entity not in entities or (entity != "allergy" and start is None):
                continue
            annotations = hints(model.ENTITY_TYPES[entity])
            found: list[tuple[ColumnGroup, dict[str, tuple[ColumnProfile, str]], list[str]]] = []
            for group in groups:
                fields = {}
                for name, column_name in group_fields(entity, group).items():
                    column = by_name[column_name]
                    field_type = _field_type(entity, "substance" if name == "substance" else name,
                                             annotations.get(name, str), column)
                    if name == "code":
                        name = "edi_code" if entity == "order_line" and column.has("edi", 0.8) else (
                            "local_code" if entity == "order_line" else "code")
                        field_type = "text"
                    if column.has("yn") and name in (*self._GROUP_SET[entity], "edi_code", "local_code"):
                        continue  # ALLERGY1 = 'Y'/'N': a check box of the chart, no substance, code or name
                    if _fits(column, field_type):
                        fields[name] = (column, field_type)
                wanted = [f for f in (*self._GROUP_SET[entity], "edi_code", "local_code") if f in fields]
                if wanted:
                    found.append((group, fields, wanted))
            # every group of a series one of whose groups is set in the sample (RX15 set in no sampled visit may
            # be set in a later one)
            if any(fields[f][0].non_empty for _, fields, wanted in found for f in wanted):
                for group, fields, wanted in found:
                    self._group_section(table, key, entity, stem, group, fields, wanted, links, start)

    def _group_section(self, table: TableProfile, key: str, entity: str, stem: str, group: ColumnGroup,
                       fields: dict[str, tuple[ColumnProfile, str]], wanted: list[str], links: list[FieldGuess],
                       start: FieldGuess | None) -> None:
        """The section of :meth:`_group_sections` reading group number ``group.number`` of ``stem``."""
        section = f"{entity}_{stem.strip('_').lower()}{group.number}"
        if not NAME.match(section) or section in self.guesses:
            section = f"{entity}_{table.name.lower()}_{group.number}"
        if not NAME.match(section) or section in self.guesses:
            section = f"{entity}_group{group.number}"
        if section in self.guesses:
            return
        columns = list(group.parts.values())
        read = " or ".join(fields[f][0].name for f in wanted)
        guess = EntityGuess(
            entity, table.name, key=key, section=section,
            why=(f"{', '.join(columns)}: group {group.number} of the repeated column group {stem} of {table.name} "
                 f"(one {entity} per row whose {read} is set)"),
            key_why=f"the row's key: one {entity} per row and group (the record ids of a second section of "
                    f"{table.name} are made from {table.name}#<section>)")
        selects = [key, *(f.column for f in links), *([start.column] if start is not None else []), *columns]
        conditions = [f"({_set_sql(fields[f][0])})" for f in wanted]
        guess.query = (f"SELECT {', '.join(dict.fromkeys(f'X.{c}' for c in selects))} FROM "
                       f"{self.relation(table.name)} X WHERE {' OR '.join(conditions)}")
        guess.query_why = (f"the rows whose group {group.number} is set (an empty group is no {entity}); its columns "
                           "are this section's for those rows, the row's own section carries them for the others")
        guess.fields = list(links)
        if start is not None and self._GROUP_WHEN[entity]:
            guess.fields.append(dataclasses.replace(start, field=self._GROUP_WHEN[entity], required=True,
                                                    why=f"the visit's date ({start.why})"))
        for name, (column, field_type) in fields.items():
            guess.fields.append(FieldGuess(name, column.name, field_type,
                                           f"part {column.name} of group {group.number} of {stem}"))
        if entity == "order_line":
            if drug_stem(stem):  # (ORD, 처방: an order of any kind, no code_type said)
                guess.fields.append(FieldGuess("code_type", "", "text", f"{stem}: a group of the visit's drug orders "
                                               "(MedicationRequest)", value="drug"))
            guess.fields.append(FieldGuess("group_id", key, "text", "the visit: its drug orders are one prescription "
                                           "(MedicationRequest.groupIdentifier)"))
            guess.fields.append(FieldGuess("group_table", "", "text", f"group_id is a key of {table.name}",
                                           value=table.name))
        self.guesses[section] = guess

    def _back_references(self) -> None:
        """A child's reference to an entity guessed after it (model.BACK_REFERENCES: a lab result's report,
        ``LAB_RSLT.PANEL_NO`` → ``LAB_PANEL``): wired, as any reference, where the child's column holds the
        parent table's keys in the sample; the export then lists each report's results (DiagnosticReport.result)."""
        for (child_entity, name), (parent_entity, _listed) in model.BACK_REFERENCES.items():
            child, parent = self.guesses.get(child_entity), self.guesses.get(parent_entity)
            if child is None or parent is None or not (child.usable and parent.usable) or child.table is None \
                    or any(f.field == name for f in child.fields):
                continue
            table = next((t for t in self.profile.tables if t.name == child.table), None)
            if table is None:
                continue
            used = set(child.unnamable) | {c for f in child.fields for c in (*f.columns, f.column) if c}
            ref = self._ref_field(table, name, parent_entity, False, used, child.key)
            if ref is not None and ref.ref == parent_entity:  # by the report's key (not a unique field of it)
                ref.why += f"; each {parent_entity} lists the rows naming it"
                child.fields.append(ref)


def _sampled_code_values(source: Source, profile: DatabaseProfile) -> dict[tuple[str, str], set[str]]:
    """Distinct values of short, low-cardinality columns (sex, visit kind), kept in memory only to check a
    code map's keys against them; they are never written anywhere."""
    out: dict[tuple[str, str], set[str]] = {}
    patterns = (FIELD_HINTS["patient"]["sex"] + FIELD_HINTS["encounter"]["kind"] + FIELD_HINTS["allergy"]["category"]
                + FIELD_HINTS["allergy"]["severity"] + _DELETION_FLAG + _CORRECTION_FLAG
                + (_DELETION_STATUS, _IN_USE_ROW) + _ACTIVE_FLAG
                # a hearing column's values: the national form's codes 1/2 or thresholds in dB (_row_findings)
                + CHECKUP_FINDINGS["hearing_right"][0] + CHECKUP_FINDINGS["hearing_left"][0])
    statuses = (*_RECORD_STATUS, _DOC_STATUS, *_CANCEL_FLAG, *_CERTAINTY)
    for table in profile.tables:
        # a status word is longer ('Checked Out', '진료완료'): a record status column's words up to 30 characters
        wanted = [c for c in table.columns if c.distinct <= 20 and not c.distinct_capped and IDENTIFIER.match(c.name)
                  and ((c.max_length <= 7 and any(_name_fits(p, c) for p in patterns))
                       or (c.max_length <= 30 and any(_name_fits(p, c) for p in statuses)))]
        if not wanted or not table.nameable:  # read quoted where needed (Frappe's "tabPatient Encounter")
            continue
        for column in wanted:
            order_by = (table.primary_key or (column.name,))[0]
            values: set[str] = set()
            rows = source.rows(_sample_sql(source, table, table.columns, order_by, profile.sample_rows))
            for row in rows:
                value = row.get(column.name.lower())
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                # as the transforms read it (a boolean column as a code is '1' or '0', never 'True')
                values.add(value.decode("cp949", "replace") if isinstance(value, bytes)
                           else ("1" if value else "0") if isinstance(value, bool) else str(value))
            out[(table.name, column.name)] = values
    return out


def guess_entities(source: Source, profile: DatabaseProfile) -> dict[str, EntityGuess]:
    """Guess a table, key and fields for every canonical entity."""
    guesser = _Guesser(profile, _sampled_code_values(source, profile), source)
    guesses = guesser.run()
    # measurement tables kept as entity-attribute-value rows: a section per vital sign, by section name
    guesses.update(eav_guesses(guesser, ScaffoldKit(_name_fits, _words, _integer_typed, SQL_RESERVED, FieldGuess)))
    for guess in guesses.values():
        table = next((t for t in profile.tables if t.name == guess.table), None)
        if not guess.usable or table is None:
            continue
        for f in guess.fields:
            column = table.column(f.column) if f.type == "file" and not f.columns and not f.join else None
            if column is not None and (column.shapes.get("windows_path") or column.shapes.get("posix_path")):
                f.stored_prefixes, f.prefixes_why = _stored_prefixes(source, profile, table, column)
    return guesses


def _same_name(a: str, b: str, form: str) -> bool:
    return a.casefold() == b.casefold() if form == "windows" else a == b


def _common_folders(paths: set[str]) -> list[str]:
    """The deepest folder each group of absolute ``paths`` on one drive, share or root shares (compared as their
    system compares names), when at least two distinct paths share it, less its trailing numbered folders; a
    file's own name is never part of it."""
    groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for text in sorted(paths):
        path = prefix_path(text)
        windows = stored_path_form(text) == "windows"
        folders = path.parts[:-1]  # never the file's name
        if not path.is_absolute() or not folders or ".." in path.parts:
            continue
        anchor = (folders[0].casefold() if windows else folders[0], "windows" if windows else "posix")
        groups.setdefault(anchor, []).append(folders)
    out: list[str] = []
    for (_, form), members in groups.items():
        if len(members) < 2:
            continue
        common = list(members[0])
        for folders in members[1:]:
            length = 0
            while length < min(len(common), len(folders)) and _same_name(common[length], folders[length], form):
                length += 1
            common = common[:length]
        # Numbered folders (a year, a month, a chart number) are where the sample happened to fall, not the
        # folder the EMR keeps every file under: C:\\UBCARE\\SCAN\\2015\\03 → C:\\UBCARE\\SCAN.
        while len(common) > 1 and re.fullmatch(r"[\d_.-]+", common[-1]):
            common.pop()
        if common:
            pure = PureWindowsPath(*common) if form == "windows" else PurePosixPath(*common)
            out.append(str(pure))
    return sorted(out)


def _stored_prefixes(source: Source, profile: DatabaseProfile, table: TableProfile,
                     column: ColumnProfile) -> tuple[tuple[str, ...], str]:
    """A ``file`` column's sampled absolute paths: the folders they share, and why (counts only). The values
    are read again here, kept in memory and dropped; the folders go into connector.toml, never PROFILE.md."""
    order_by = (table.primary_key or (column.name,))[0]
    absolute: set[str] = set()
    sampled = 0
    rows = source.rows(_sample_sql(source, table, table.columns, order_by, profile.sample_rows))
    try:
        for row in rows:
            value = row.get(column.name.lower(), row.get(column.name))
            if isinstance(value, bytes | bytearray | memoryview):
                raw = bytes(value)
                try:
                    value = raw.decode("utf-8")
                except UnicodeDecodeError:
                    value = raw.decode("cp949", "replace")
            if not isinstance(value, str) or not value.strip():
                continue
            sampled += 1
            text = unicodedata.normalize("NFC", value.strip())
            if stored_path_form(text) != "relative":
                absolute.add(text)
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    found = _common_folders(absolute)
    if not found:
        return (), ""
    why = (f"{len(absolute)} distinct absolute paths among {sampled} sampled values; the folder they share "
           "(without numbered folders such as years), as the EMR wrote it, is read as the attachments root: "
           "check it names the folder you copied")
    return tuple(found), why


# --- writing the files -----------------------------------------------------------------------------


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_value(value: str | bool) -> str:
    """A map's value: a string, or a boolean (a bool field's map gives true/false, never quoted)."""
    return ("true" if value else "false") if isinstance(value, bool) else _toml_str(value)


def _toml_literal(text: str) -> str:
    """A TOML literal string where it can be one (a Windows path reads as written: 'C:\\UBCARE\\SCAN')."""
    return f"'{text}'" if "'" not in text and text.isprintable() else _toml_str(text)


def _field_line(f: FieldGuess) -> str:
    if f.key_form is not None:
        engine = "sqlite" if f.engine == "sqlite-odbc" else f.engine
        parts = [f"expr = {{ {engine} = {_toml_str(_key_form_sql(f.engine, f.key_form, f.column))} }}"]
    elif f.json_keys:
        engine = "sqlite" if f.engine == "sqlite-odbc" else f.engine
        lifted = lift_sql(f.engine, f.column, f.json_keys, nested=f.json_nested, reading=f.json_reading)
        lifted = _bp_part_sql(f.engine, f.bp_part, lifted) if f.bp_part else lifted
        parts = [f"expr = {{ {engine} = {_toml_str(lifted)} }}"]
    elif f.bp_part:
        engine = "sqlite" if f.engine == "sqlite-odbc" else f.engine
        parts = [f"expr = {{ {engine} = {_toml_str(_bp_part_sql(f.engine, f.bp_part, f.column))} }}"]
    elif f.large_object:
        column = f.column if re.fullmatch(r"[a-z_][a-z0-9_]*", f.column) else '"' + f.column.replace('"', '""') + '"'
        parts = [f"expr = {{ postgresql = {_toml_str(f'lo_get({column})')} }}"]
    elif f.expr:
        parts = [f"expr = {_toml_str(f.expr)}"]
    elif f.value != "":
        parts = [f"value = {_toml_value(f.value)}"]
    elif f.columns:
        parts = [f"columns = [{', '.join(_toml_str(c) for c in f.columns)}]"]
    else:
        parts = [f"column = {_toml_str(f.column)}"]
    if f.join:
        parts.append(f"join = {_toml_str(f.join)}")
    if f.type != "text":
        parts.append(f"type = {_toml_str(f.type)}")
    if f.ref:
        parts.append(f"ref = {_toml_str(f.ref)}")
    if isinstance(f.format, tuple):
        parts.append(f"format = [{', '.join(_toml_str(p) for p in f.format)}]")
    elif f.format:
        parts.append(f"format = {_toml_str(f.format)}")
    if f.tz:
        parts.append(f"tz = {_toml_str(f.tz)}")
    if f.map:
        parts.append("map = { " + ", ".join(f"{_toml_str(k)} = {_toml_value(v)}" for k, v in f.map.items()) + " }")
    if f.required:
        parts.append("required = true")
    return f"{f.field} = {{ {', '.join(parts)} }}"


_SOURCE_DATE_FORMATS = (("yyyymmdd", "%Y%m%d"), ("iso_date", "%Y-%m-%d"), ("dotted_date", "%Y.%m.%d"),
                        ("us_date", "%m/%d/%Y"), ("dmon_date", "%d-%b-%y"), ("dmon_long_date", "%d-%b-%Y"),
                        *((s, f) for s, f in _KO_FORMATS.items() if s not in _KO_DATETIME_SHAPES))
_SOURCE_DATETIME_FORMATS = (("yyyymmddhhmmss", "%Y%m%d%H%M%S"), ("iso_datetime", "%Y-%m-%d %H:%M:%S"),
                            ("iso_minute", "%Y-%m-%d %H:%M"), ("iso_datetime_fraction", "%Y-%m-%d %H:%M:%S.%f"),
                            *((s, f) for s, f in _KO_FORMATS.items() if s in _KO_DATETIME_SHAPES))

#: the shapes a [source] format reads (a field ``format`` reads the others, one to a column), and those with a time
_SOURCE_DATE_SHAPES = frozenset(s for s, _ in (*_SOURCE_DATE_FORMATS, *_SOURCE_DATETIME_FORMATS))
_SOURCE_DATETIME_SHAPES = frozenset(s for s, _ in _SOURCE_DATETIME_FORMATS)


def _source_formats(profile: DatabaseProfile) -> tuple[list[str], list[str], list[str]]:
    """[source] date and date-time formats: those most values of a column have, first (the first is the one
    a date is written back in), then those a few values of a date column have (one '2023.01.03' among
    '20230102's), so those rows parse instead of being quarantined as invalid dates."""
    seen = {shape for t in profile.tables for c in t.columns for shape in _DATE_SHAPES if c.has(shape, 0.8)}
    also = {shape for t in profile.tables for c in t.columns if _date_like(c) and not c.type_name.startswith(
        ("DATE", "TIMESTAMP")) for shape in _DATE_SHAPES if c.shapes.get(shape)} - seen

    def formats(table: tuple[tuple[str, str], ...]) -> list[str]:
        return [fmt for shape, fmt in table if shape in seen] + [fmt for shape, fmt in table if shape in also]

    dates, times = formats(_SOURCE_DATE_FORMATS), formats(_SOURCE_DATETIME_FORMATS)
    notes = [SHAPES[s] for s in _DATE_SHAPES if s in seen and s not in _FIELD_FORMATS]
    notes += [f"also, in a few values, {SHAPES[s]}" for s in _DATE_SHAPES if s in also and s not in _FIELD_FORMATS]
    return dates or ["%Y-%m-%d", "%Y%m%d"], times or ["%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"], notes


def _institution_query(profile: DatabaseProfile) -> tuple[str, str] | None:
    """A one-row clinic table with a code and a name column, as ``SELECT … AS code, … AS name``."""
    for table in profile.tables:
        if table.row_count != 1 or not table.plain:
            continue
        if not re.search(r"CLINIC|HOSP|INST|YOYANG|기관|병원|의원", table.bare.upper()):
            continue
        pick: dict[str, str] = {}
        for alias, patterns in (("code", r"YKIHO|HOSP_?CD|INST_?CD|(CLINIC|HOSP)_?(CODE|NO)|YOYANG.*"),
                                ("name", r"(HOSP|CLINIC|INST)_?(NM|NAME)|NAME"),
                                ("address", r"ADDR.*"), ("phone", r"TEL.*|PHONE.*"),
                                ("kind", r"JONGBYUL|KIND|TYPE"), ("founder", r"FOUNDER.*|OWNER.*|CEO.*")):
            for column in table.columns:
                if re.fullmatch(patterns, column.name.upper()) and column.name not in pick.values():
                    pick[alias] = column.name
                    break
        if "code" in pick and "name" in pick:
            columns = ", ".join(f"{column} AS {alias}" for alias, column in pick.items())
            return f"SELECT {columns} FROM {table.only}{table.name}", f"one-row table {table.name}"
    return None


#: Tables recognised by name that no record type holds but that are kept, as they are, under ``[carry]``: a code
#: table is what the raw codes of the other tables mean, and a log may hold patients' data (an SMS log, an audit
#: trail of who opened which chart). Carrying them costs little; skipping them would lose what no one looked at.
_CARRY_KINDS: tuple[tuple[str, str], ...] = (
    (r"(.*_)?(CODE|CD|COMM_?CD|COMCD|CODE_?MST|CD_?MST)(_.*)?|공통코드|코드",
     "a code table: what the codes of other tables mean (look them up with lookup = {{ table = \"{table}\", … }})"),
    (r"(.*_)?(SETTING|SETTINGS|CONFIG|CONF|ENV|OPTION|OPTIONS|PREF|INI|SYS_?INFO|PROPERTY|PROPERTIES)(_.*)?|설정|"
     r"환경설정",
     "program settings; no patient records"),
    (r"(.*_)?(LOG|AUDIT|ACCESS_?LOG)(_.*)?|로그", "a log table; it may hold patients' data, so it goes as it is"),
)
#: A web framework's own bookkeeping (Django, Rails, Laravel, Flyway, Liquibase, Alembic …): never a clinical record,
#: unless the table has a patient column (a therapy "session" of a patient is one: never skipped).
_FRAMEWORK_KINDS: tuple[tuple[str, str], ...] = (
    (r"(.*_)?SESSIONS?", "the web program's login sessions; no patient records"),
    (r"(.*_)?(SCHEMA_)?MIGRATIONS?(_LOCK)?|AR_INTERNAL_METADATA|FLYWAY_SCHEMA_HISTORY|DATABASECHANGELOG(LOCK)?|"
     r"ALEMBIC_VERSION|SCHEMA_VERSIONS?",
     "the program's database version history (schema migrations); no patient data"),
    (r"DJANGO_CONTENT_TYPE|AUTH_(GROUP|PERMISSION|GROUP_PERMISSIONS|USER_GROUPS|USER_USER_PERMISSIONS)",
     "the web program's permissions and user groups; no patient data"),
    (r"(.*_)?MIGRATIONS?_HISTORY", "the program's database version history (schema migrations); no patient data"),
    # what a database moved from SQL Server or Access brings along: Management Studio's diagrams, Access's own
    (r"SYSDIAGRAMS|DTPROPERTIES", "SQL Server's database diagrams (drawings of the tables); no patient data"),
    (r"MSYS.+", "an Access system table (the program's own bookkeeping); no patient data"),
)
#: A column holding a password (or its hash or salt): the program's user accounts, which no record needs and
#: which the archive should not carry. Doctors kept there are read as practitioners by a section, not from here.
_PASSWORD_COLUMN = re.compile(
    r"PASS_?WORD(_?HASH)?|PASSWD|PWD(_?HASH)?|USER_?PW|PW_?HASH|(PASSWORD_?)?SALT|비밀번호|암호")


def _generation_mark(name: str) -> str:
    """A table's name with its numbers as one mark: visit_2019, visit_2020 and visit_202101 → ``visit_#``."""
    return re.sub(r"\d+", "#", name.lower())


def same_shape_tables(profile: DatabaseProfile, guesses: dict[str, EntityGuess]) -> dict[str, list[TableProfile]]:
    """entity → the tables of the same shape as its section's (a table per year or period: visit_2019,
    visit_2020 …: the same columns, the name differing only in its numbers), each read by a section of its own
    with the same fields (``entity = "…"``). Only for a section no other section refers to, whose own references
    are to sections without such tables (a per-year child would refer to one year's parent: orphans), and that
    reads its table as it is (no query)."""
    by_name = {t.name.lower(): t for t in profile.tables}
    read = {g.table.lower() for g in guesses.values() if g.usable and g.table}
    found: dict[str, list[TableProfile]] = {}
    for entity, guess in guesses.items():
        own = by_name.get((guess.table or "").lower())
        if (guess.section or not guess.usable or own is None or guess.query or guess.latin1_cast
                or not re.search(r"\d", own.name)):
            continue
        shape = [c.name.lower() for c in own.columns]
        found[entity] = [t for t in sorted(profile.tables, key=lambda t: t.name)
                         if t is not own and t.name.lower() not in read and t.plain and t.schema == own.schema
                         and _generation_mark(t.name) == _generation_mark(own.name)
                         and [c.name.lower() for c in t.columns] == shape]
    referred = {f.ref for g in guesses.values() if g.usable for f in g.fields if f.ref}
    return {entity: tables for entity, tables in found.items() if tables and entity not in referred
            and not any(f.ref in found and found[f.ref] for f in guesses[entity].fields if f.ref)}


def _skip_block(profile: DatabaseProfile, guesses: dict[str, EntityGuess], institution_sql: str | None) -> list[str]:
    """``[carry]`` and ``[skip]`` for the tables the guesses do not read: recognised ones with a reason (carried
    as they are where they hold anything a record may need; skipped only when empty, or the program's own
    accounts and bookkeeping), the rest commented out so that `connector check` lists them until someone maps,
    carries or skips them."""
    read = {g.table.lower() for g in guesses.values() if g.usable and g.table}
    read |= {t.name.lower() for tables in same_shape_tables(profile, guesses).values() for t in tables}
    carry = ["[carry]", "# Tables no section reads, carried as they are (every row and column) on purpose, with the "
             "reason."]
    lines = ["[skip]", "# Tables no section reads and the export leaves out. Every table must be read, carried or "
             "skipped with the reason."]

    def patients_in(table: TableProfile) -> bool:
        return any(_name_fits(p, c) for p in _REF_PATTERNS["patient"] for c in table.columns)

    open_lines: list[str] = []
    for table in sorted(profile.tables, key=lambda t: t.name):
        if table.name.lower() in read:
            continue
        # A name that is no plain identifier ("환자 기록", "sms.log") is a quoted TOML key; a section cannot read
        # such a table, but [skip] and [carry] can name it (its rows are carried raw until then).
        toml_key = table.name if TOML_BARE_KEY.match(table.name) else _toml_str(table.name)
        reason = kept = None
        if table.row_security:
            # counted as this account sees it: never guessed empty, nor carried short of the rows it cannot see
            open_lines.append(f"# {toml_key} = \"…\"   # row-level security shows this database account only some "
                              "of its rows: export with an account its policies do not hold (the export must "
                              "read them all), or skip it with the reason")
            continue
        if table.row_count == 0 and not table.unreadable:
            reason = "empty"
        elif institution_sql and re.search(rf"\bFROM (?:ONLY )?{re.escape(table.name)}\b", institution_sql):
            kept = "the clinic's own row: read by [institution], carried whole"
        elif any(_name_fits(_PASSWORD_COLUMN.pattern, c) for c in table.columns) and not patients_in(table):
            # (a patients' web accounts table, with a patient column, holds their contact data: never skipped)
            reason = ("the program's user accounts and their passwords (hashes); no patient data (a doctor's name "
                      "kept here is mapped as a practitioner by a section)")
        elif (framework := next((text for pattern, text in _FRAMEWORK_KINDS
                                 if _name_fits(pattern, table.bare, table=True)), None)) and not patients_in(table):
            reason = framework
        elif _name_fits(r".+_TYPES?", table.bare, table=True) and not patients_in(table):
            # OpenMRS encounter_type, visit_type, patient_identifier_type: the kinds other tables' codes name
            # (a BLOOD_TYPE table with a patient column holds the patients' blood types: read or carried)
            kept = (f"a code table of kinds: what the codes of other tables mean (look them up with lookup = "
                    f"{{ table = \"{table.name}\", … }})")
        elif _merge_table(table):
            kept = ("a log of merged charts (환자 통합: which chart was merged into which): the patients' merged_into "
                    "says it in FHIR (Patient.link); it goes as it is")
        else:
            for pattern, text in _CARRY_KINDS:
                if _name_fits(pattern, table.bare, table=True):
                    kept = text.format(table=table.name)
                    break
            else:
                if _versioned_copy(table):
                    kept = ("a versioned copy of a table's rows (each row as it was before a change, and when it "
                            "was superseded): the amendment history the chart must keep, never a second chart; it "
                            "goes as it is")
                elif _history_table(table):
                    kept = ("a change history (a row per change of records, who changed them and when): the "
                            "amendment history the chart must keep; it goes as it is")
                elif _SUPERSEDED & set(_words(table.bare, table=True).split("_")):
                    kept = ("an earlier generation, backup copy or the deleted rows of records: it may hold rows or "
                            "values the table in use no longer has; it goes as it is")
        if kept is not None:
            carry += [f"# GUESS (name and shape; {table.row_count} rows)", f"{toml_key} = {_toml_str(kept)}"]
        elif reason is not None:
            lines += [f"# GUESS (name and shape; {table.row_count} rows)", f"{toml_key} = {_toml_str(reason)}"]
        elif table.unreadable:
            open_lines.append(f"# {toml_key} = \"…\"   # this database account may not read it: have SELECT "
                              "granted on it (the export must read it), or skip it with the reason")
        else:
            open_lines.append(f"# {toml_key} = \"…\"   # not recognised ({table.row_count} rows, "
                              f"{len(table.columns)} columns): map it in a section, carry it (move it to [carry]) "
                              "or skip it, with the reason")
    return [*carry, "", *lines, *open_lines, ""]


def _engines(engine: str) -> list[str]:
    # A SQLite file is read by the standard library or, on a PC set up for ODBC, by the SQLite ODBC driver.
    return ["sqlite", "sqlite-odbc"] if engine in ("sqlite", "sqlite-odbc") else [engine]


def _latin1_cast(guesses: dict[str, EntityGuess]) -> set[str]:
    """``table.column`` of the latin1-declared CP949 columns the sections' queries read as bytes."""
    return {f"{g.table}.{c}" for g in guesses.values() if g.usable for c in g.latin1_cast}


def _tables_read(profile: DatabaseProfile, guesses: dict[str, EntityGuess]) -> set[str]:
    """The tables (lower case) the usable sections read: as their own table, or named in their query or in a
    field's join (a word of it)."""
    sql = " ".join(part for g in guesses.values() if g.usable
                   for part in (g.query or "", *(f.join for f in g.fields)))
    words = {w.lower() for w in re.findall(r"[\w.]+", sql)}
    return ({g.table.lower() for g in guesses.values() if g.usable and g.table}
            | {t.name.lower() for t in profile.tables if t.name.lower() in words}
            | {t.name.lower() for tables in same_shape_tables(profile, guesses).values() for t in tables})


def _encoding(profile: DatabaseProfile, guesses: dict[str, EntityGuess]) -> str:
    return "cp949" if profile.cp949_seen or _latin1_cast(guesses) else "utf-8"


def render_connector_toml(name: str, profile: DatabaseProfile, guesses: dict[str, EntityGuess]) -> str:
    """The guessed ``connector.toml`` (valid as written; every guess commented)."""
    lines: list[str] = [
        f"# Scaffold written by `emr-export scaffold` (emr-exporter {__version__}) from {profile.label}.",
        "# Every mapping below is a GUESS from table and column names and from value shapes in a sample of",
        f"# at most {profile.sample_rows} rows per table. Check each one against PROFILE.md and the EMR itself,",
        "# then run `emr-export scan` and a dry-run `emr-export export` before a real export.",
        "# Format: docs/connectors.md.",
        "",
        "[connector]",
        f"name = {_toml_str(name)}",
        'version = "0.1.0"',
        'vendor = "unknown"',
        f"product = {_toml_str(f'Unknown EMR (scaffold for {name})')}",
        'description = "Scaffold guessed from a profile of the database; review every GUESS comment."',
        "engines = [" + ", ".join(_toml_str(e) for e in _engines(profile.engine)) + "]",
        "",
    ]
    largest = sorted((t for t in profile.tables if t.plain), key=lambda t: (-t.row_count, t.name))
    detect = [t.name for t in largest[:DETECT_TABLES]]
    lines += ["[detect]", "# GUESS (the largest tables; keep those that only this EMR has)",
              "tables = [" + ", ".join(_toml_str(t) for t in detect) + "]", ""]
    dates, times, notes = _source_formats(profile)
    cast = _latin1_cast(guesses)
    encoding = _encoding(profile, guesses)
    why_encoding = ("text that is not UTF-8 but valid CP949 was seen" if profile.cp949_seen
                    else "CP949 text in latin1 columns, read as bytes by the sections' queries" if cast
                    else "no CP949-only text was seen in the sample")
    uncast = [c for c in profile.cp949_as_latin1 if c not in cast]
    read = _tables_read(profile, guesses)
    exported = [c for c in uncast if c.rpartition(".")[0].lower() in read]
    carried = [c for c in uncast if c not in exported]
    if exported:
        lines += ["# WARNING: the server declares these columns latin1 but they hold Korean CP949 bytes (text reads",
                  "# as '±èÈ¯ÀÚ' for '김환자'), and would be exported so: " + ", ".join(exported) + ".",
                  "# Read each as bytes in the section's query (CAST(col AS BINARY) AS col) with encoding = \"cp949\",",
                  "# or have the columns converted on a copy of the database (docs/databases.md).", ""]
    if carried:
        lines += ["# NOTE: these latin1 columns hold Korean CP949 bytes; no section reads their tables, so the export",
                  "# carries them as the bytes stored (exactly): " + ", ".join(carried) + ".",
                  "# A section that reads one must read it as bytes: CAST(col AS BINARY) AS col (docs/databases.md).",
                  ""]
    lines += ["[source]", f"# GUESS ({why_encoding})", f"encoding = {_toml_str(encoding)}",
              f"# GUESS ({', '.join(notes) if notes else 'no text dates seen; defaults'})",
              "date_formats = [" + ", ".join(_toml_str(f) for f in dates) + "]",
              "datetime_formats = [" + ", ".join(_toml_str(f) for f in times) + "]", ""]
    institution = _institution_query(profile)
    if institution:
        lines += ["[institution]", f"# GUESS ({institution[1]}; the code must be the 8-digit 요양기관기호)",
                  f"query = {_toml_str(institution[0])}", ""]
    else:
        lines += ["# [institution]   # no clinic table found: give --institution-code and --institution-name",
                  '# query = "SELECT … AS code, … AS name FROM …"', ""]
    lines += _skip_block(profile, guesses, institution[0] if institution else None)
    if any(g.usable and any(f.type == "file" for f in g.fields) for g in guesses.values()):
        lines += ["[attachments]", "# GUESS (file paths are relative to this folder next to a database file; "
                  "or give --attachments-root)", 'root = "attachments"']
        prefixes: list[str] = []
        for g in guesses.values():
            for f in g.fields:
                if g.usable and f.stored_prefixes:
                    lines.append(f"# GUESS ({g.entity}.{f.field} ({f.column}): {f.prefixes_why})")
                    prefixes += [p for p in f.stored_prefixes if p not in prefixes]
        if prefixes:  # one key for every file field: the folders are the EMR's, not a field's
            lines.append("stored_prefixes = [" + ", ".join(_toml_literal(p) for p in prefixes) + "]")
        lines.append("")
    siblings = same_shape_tables(profile, guesses)
    for entity in SCAFFOLD_ENTITIES:
        lines += _entity_block(guesses[entity])
        for table in siblings.get(entity, []):
            lines += _sibling_block(guesses[entity], table)
        lines += [line for g in guesses.values() if g.section and g.entity == entity for line in _entity_block(g)]
    return "\n".join(lines).rstrip() + "\n"


def _entity_block(guess: EntityGuess) -> list[str]:
    title = f"# --- {guess.section or guess.entity} " + ("(rows carried whole) " if guess.carry is not None else "")
    lines = [title + "-" * max(3, 100 - len(title)), ""]
    body: list[str] = []
    if guess.table is None:
        return [*lines, f"# No table guessed for {guess.entity}: {guess.why}.",
                f"# [entities.{guess.entity}]", '# table = "…"', '# key = "…"', ""]
    section = guess.section or guess.entity
    body.append(f"[entities.{section}]")
    body.append(f"# GUESS ({guess.why})")
    if guess.section and guess.carry is None:  # (a section whose rows are carried makes no record: no entity)
        body.append(f"entity = {_toml_str(guess.entity)}")
    body.append(f"table = {_toml_str(guess.table)}")
    if isinstance(guess.key, list):
        body.append(f"# GUESS ({guess.key_why})")
        body.append(f"key = [{', '.join(_toml_str(k) for k in guess.key)}]")
    elif guess.key:
        body.append(f"# GUESS ({guess.key_why})")
        body.append(f"key = {_toml_str(guess.key)}")
    else:
        body.append('key = "…"')
    if guess.query:
        body.append(f"# GUESS ({guess.query_why})")
        body.append(f"query = {_toml_str(guess.query)}")
    if guess.carry is not None:  # its rows kept whole with the reason: no fields
        return [*lines, *body, f"carry = {_toml_str(guess.carry)}", ""]
    if guess.page_size is not None:
        body += [f"# GUESS ({guess.page_size_why})", f"page_size = {guess.page_size}"]
    if guess.entity == "patient" and any(f.field == "chart_number" for f in guess.fields):
        body.append('unique = ["chart_number"]')
    if guess.unnamable:
        body.append(f"# Not guessed (names that are not plain SQL identifiers or are reserved words; carried raw; "
                    f"a view with plain names can map them): {', '.join(guess.unnamable)}")
    body += [f"# NOTE: {note}." for note in guess.notes]
    body += [f"# CHECK ({check})" for check in guess.checks]
    body.append("")
    body.append(f"[entities.{section}.fields]")
    for f in guess.fields:
        body.append(f"# GUESS ({f.why})")
        if f.check:
            body.append(f"# CHECK ({f.check})")
        body.append(_field_line(f))
    if guess.usable:
        return [*lines, *body, ""]
    reasons = guess.problems + [f"no column found for required field '{m}'" for m in guess.missing]
    out = [*lines, f"# Commented out: {'; '.join(reasons)}."]
    out += [("# " + line) if line else "#" for line in body]
    return [*out, ""]


def _sibling_block(guess: EntityGuess, table: TableProfile) -> list[str]:
    """The section reading ``table``, of the same shape as ``guess``'s (another year's visits), as ``guess`` does."""
    section = f"{guess.entity}_{table.name}"
    head = f"[entities.{section if TOML_BARE_KEY.match(section) else _toml_str(section)}]"
    body = [head, f"# GUESS (the same columns as {guess.table}, the name differing only in its numbers: a table per "
                  f"year or period, read as {guess.table} is)",
            f"entity = {_toml_str(guess.entity)}", f"table = {_toml_str(table.name)}"]
    if isinstance(guess.key, list):
        body.append(f"key = [{', '.join(_toml_str(k) for k in guess.key)}]")
    elif guess.key:
        body.append(f"key = {_toml_str(guess.key)}")
    if guess.entity == "patient" and any(f.field == "chart_number" for f in guess.fields):
        body.append('unique = ["chart_number"]')
    body += ["", f"[{head[1:-1]}.fields]", *(_field_line(f) for f in guess.fields), ""]
    return body


def _family_notes(table: TableProfile) -> list[str]:
    """PROFILE.md's lines on a PostgreSQL table's partitions and inheritance (none for most tables)."""
    notes = []
    if table.partitions:
        notes.append(f"A partitioned table: its rows (counted above) are kept in {len(table.partitions)} partitions, "
                     f"read with it and not listed apart: {', '.join(table.partitions)}.")
    if table.children:
        one = len(table.children) == 1
        notes.append(f"Its own rows only (counted above): {', '.join(table.children)} "
                     f"{'inherits' if one else 'inherit'} from it, with rows of {'its' if one else 'their'} own, "
                     "profiled and read apart.")
    if table.inherits:
        notes.append(f"Inherits the columns of {', '.join(table.inherits)}; its rows are its own.")
    return [*notes, ""] if notes else []


def _large_object_notes(profile: DatabaseProfile) -> list[str]:
    """PROFILE.md's line on the database's large objects (PostgreSQL), if it has any or a column for one."""
    from emr_exporter.sources.drivers import caps_for

    types = caps_for(profile.engine).large_object_types
    columns = [f"{t.name}.{c.name}" for t in profile.tables for c in t.columns if c.type_name.upper() in types]
    if not profile.large_objects and not columns:
        return []
    return [f"Large objects (files PostgreSQL keeps apart from the tables, in pg_largeobject): "
            f"{profile.large_objects or 0}, carried verbatim by the export. Columns holding their numbers: "
            f"{', '.join(columns) or 'none'}.", ""]


def render_profile_md(name: str, profile: DatabaseProfile, guesses: dict[str, EntityGuess]) -> str:
    """``PROFILE.md``: tables, counts, column types and shape flags. Statistics only, never a value."""
    out = [
        f"# Database profile for connector `{name}`",
        "",
        f"Source: {profile.label} (engine `{profile.engine}`). At most {profile.sample_rows} rows per table were "
        f"sampled (first in key order); distinct counts stop at {DISTINCT_CAP}. This file holds counts and "
        "shape flags only, never a stored value, so it can be shared with the EMR vendor.",
        "",
        "Shape flags (≥ 80 % of the sampled non-empty values): "
        + "; ".join(f"`{k}` {v}" for k, v in SHAPES.items())
        + "; `cp949-text` bytes that are CP949 but not UTF-8; `utf8-text` non-ASCII UTF-8 text; "
        "`cp949-read-as-latin1` Korean CP949 bytes the server declares latin1 (they read as mojibake).",
        "",
        "## Guessed entities",
        "",
        "| entity | table | key | fields guessed | status |",
        "|---|---|---|---|---|",
    ]
    for entity in SCAFFOLD_ENTITIES:
        g = guesses[entity]
        status = "guessed" if g.usable else ("no table" if g.table is None else "commented out: " + "; ".join(
            g.problems + [f"missing {m}" for m in g.missing]))
        out.append(f"| {entity} | {g.table or '—'} | {g.key or '—'} | {len(g.fields)} | {status} |")
        out += [f"| {k.entity} ({k.section}) | {k.table} | {k.key} | {len(k.fields)} | guessed |"
                for k in guesses.values() if k.section and k.entity == entity]
    for g in guesses.values():
        table = next((t for t in profile.tables if t.name == g.table), None)
        for f in g.fields if g.usable and table is not None else ():
            column = table.column(f.column) if table is not None and f.type == "file" else None
            if column is None or not (column.has("windows_path", 0.5) or column.has("posix_path", 0.5)):
                continue
            kind = "Windows (a drive letter or a network share)" if column.has("windows_path", 0.5) else "/…"
            out += ["", f"Attachment paths: {g.table}.{f.column} holds absolute file paths, {kind}. The export "
                    "reads them inside the attachments folder: connector.toml "
                    + ("guesses `[attachments] stored_prefixes`, the folder the EMR wrote before each file "
                       "(not written here)" if f.stored_prefixes else
                       "needs `[attachments] stored_prefixes`, the folder the EMR wrote before each file")
                    + "; check it against the folder given as the attachments root."]
    out += ["", "## Tables", "", *_large_object_notes(profile),
            "| table | rows | sampled | columns | primary key |", "|---|---:|---:|---:|---|"]
    for t in sorted(profile.tables, key=lambda t: (-t.row_count, t.name)):
        rows = "unreadable" if t.unreadable else str(t.row_count)
        out.append(f"| {t.name} | {rows} | {t.sampled_rows} | {len(t.columns)} | "
                   f"{', '.join(t.primary_key) or '—'} |")
    for t in profile.tables:
        out += ["", f"### {t.name}", "", f"{t.row_count} rows, {t.sampled_rows} sampled.", "", *_family_notes(t),
                "| column | type | PK | empty % | distinct | max length | flags |",
                "|---|---|---|---:|---:|---:|---|"]
        for c in t.columns:
            empty = f"{100 * c.empty / c.sampled:.1f}" if c.sampled else "—"
            distinct = f">{DISTINCT_CAP}" if c.distinct_capped else str(c.distinct)
            flags = ", ".join(c.flags())
            if c.undecodable and "binary" not in flags:
                flags = ", ".join(filter(None, [flags, f"{c.undecodable} undecodable"]))
            out.append(f"| {c.name} | {c.type_name or '?'} | {'yes' if c.primary_key else ''} | {empty} | "
                       f"{distinct} | {c.max_length} | {flags} |")
    return "\n".join(out) + "\n"


#: What ``scaffold`` writes instead of connector.toml when no section could be guessed (it would not load).
DRAFT_NAME = "connector.draft.toml"


@dataclass(slots=True)
class ScaffoldOutcome:
    folder: Path
    connector_toml: Path
    profile_md: Path
    profile: DatabaseProfile
    guesses: dict[str, EntityGuess]

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "connector_toml": str(self.connector_toml),
            "profile_md": str(self.profile_md),
            "tables": len(self.profile.tables),
            "encoding": _encoding(self.profile, self.guesses),
            "entities": {e: {"table": g.table, "key": g.key, "fields": [f.field for f in g.fields],
                             "usable": g.usable} for e, g in self.guesses.items()},
        }


def write_scaffold(name: str, out_dir: Path, source_address: SourceAddress, *,
                   sample_rows: int = DEFAULT_SAMPLE_ROWS, overwrite: bool = False) -> ScaffoldOutcome:
    """Profile the database and write ``out_dir/<name>/connector.toml`` and ``PROFILE.md``."""
    if not NAME.match(name):
        raise ConfigError(f"The connector name {name!r} must be lowercase letters, digits, '-' or '_'.")
    folder = Path(out_dir) / name
    toml_path, profile_path = folder / "connector.toml", folder / "PROFILE.md"
    if toml_path.exists() and not overwrite:
        raise ConfigError(f"{toml_path} already exists: choose another --name or --out (or give --force).")
    source = source_address.open()
    try:
        profile = profile_database(source, sample_rows)
        guesses = guess_entities(source, profile)
    finally:
        source.close()
    if not any(g.usable for g in guesses.values()):
        # Nothing a connector could load as written: still leave the profile and every guess (tables, keys,
        # the fields found, what each section lacks) as a draft to finish by hand, never nothing at all.
        folder.mkdir(parents=True, exist_ok=True)
        draft_path = folder / DRAFT_NAME
        draft_path.write_text(render_connector_toml(name, profile, guesses), encoding="utf-8")
        profile_path.write_text(render_profile_md(name, profile, guesses), encoding="utf-8")
        found = [g for g in guesses.values() if g.table is not None and g.problems]
        finish = (f" Write connector.toml by hand (docs/connectors.md), starting from {draft_path} (every "
                  f"section commented out, with what it lacks) and {profile_path}.")
        if found:  # a table looked like one, but cannot be read as the connector's SQL names it
            raise ConfigError(
                "No connector could be guessed: " + "; ".join(
                    f"{g.entity} table {g.table}: {g.problems[0]}" for g in found[:3]) + "." + finish
            )
        lacking = [g for g in guesses.values() if g.table is not None and g.missing]
        raise ConfigError(
            "No table of this database looks like a patient, visit or other record table with the columns "
            "the record needs, so no connector could be guessed" + (": " + "; ".join(
                f"{g.entity} table {g.table} has no column for {', '.join(g.missing)}" for g in lacking[:3])
                if lacking else "") + "." + finish
        )
    folder.mkdir(parents=True, exist_ok=True)
    toml_path.write_text(render_connector_toml(name, profile, guesses), encoding="utf-8")
    profile_path.write_text(render_profile_md(name, profile, guesses), encoding="utf-8")
    return ScaffoldOutcome(folder, toml_path, profile_path, profile, guesses)
