"""Loading and validating ``connector.toml`` (the format is documented in docs/connectors.md).

Validation is strict so that a contractor writing a connector for an unknown EMR learns about a typo
before an export runs: every error names the file, the line (where it can be found) and the field.
Identifiers that end up in SQL (tables, keys, columns) must be plain SQL identifiers.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import re
import tomllib
import typing
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.connectors.paths import prefix_path, stored_path_form
from emr_exporter.connectors.zones import zone
from emr_exporter.errors import ConnectorSpecError


@functools.cache
def _field_kind(entity: str, name: str) -> str:
    """The transform a field reads its column with when the connector gives no ``type``: from the canonical
    record's annotation (``dt.date`` → date, ``dt.date | dt.datetime`` → datetime, ``bool``, ``Decimal``,
    ``int``), else text."""
    record = model.ENTITY_TYPES.get(entity)
    if record is None:
        return "text"
    hint = typing.get_type_hints(record).get(name)
    text = str(hint)
    first = text.split("|")[0].strip()
    if "datetime.datetime" in text:
        return "datetime"
    if "datetime.date" in text:
        return "date"
    if hint is bool or first in ("bool", "<class 'bool'>"):
        return "bool"
    if "Decimal" in text:
        return "decimal"
    if hint is int or first in ("int", "<class 'int'>"):
        return "int"
    return "text"


#: The types that make a field's value a number, a yes/no or a date (not text).
_VALUE_TYPES = frozenset({"int", "decimal", "bool", "date", "datetime"})


@functools.cache
def _holds_text(entity: str, name: str) -> bool:
    """Whether the canonical record keeps field ``name`` as text only (``str | None``)."""
    record = model.ENTITY_TYPES.get(entity)
    hint = typing.get_type_hints(record).get(name) if record is not None else None
    return hint is not None and set(typing.get_args(hint) or (hint,)) <= {str, type(None)}


#: A letter beyond ASCII (Hangul 환자, Hanja 患者): SQLite, MariaDB/MySQL (the Basic Multilingual Plane),
#: PostgreSQL and SQL Server all take it in an unquoted name, so a Korean EMR's own names need no quoting.
_LETTER = r"[^\W\d_\x00-\x7f\U00010000-\U0010ffff]"
_PLAIN = rf"(?:[A-Za-z_]|{_LETTER})(?:[A-Za-z0-9_]|{_LETTER})*"
IDENTIFIER = re.compile(rf"^{_PLAIN}$")
#: A table a connector's SQL names unquoted: an identifier, or schema.table (a PostgreSQL or SQL Server
#: clinic whose tables are in their own schema, outside the default one).
TABLE_NAME = re.compile(rf"^{_PLAIN}(\.{_PLAIN})?$")
#: What a table name the export quotes may not hold: a quote mark or bracket of any engine's quoting, or a
#: control character (such a name is carried or skipped, never read by a section).
QUOTED_NAME_REFUSED = re.compile(r'[\x00-\x1f\x7f"`\[\]]')
#: A key TOML takes unquoted (a Hangul table name in ``[skip]`` is written quoted).
TOML_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
#: A schema name an attached SQLite file is read under (``[source] attach``).
ATTACH_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Placeholders a ``[detect].files`` pattern may start from, each an environment variable (see
#: :func:`emr_exporter.authoring.scan.expand_file_pattern`). On Linux the Windows ones are simply absent.
FILE_PLACEHOLDERS = ("ProgramData", "ProgramFiles", "ProgramFiles(x86)", "UserProfile", "Home")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

FIELD_TYPES = frozenset(
    {"text", "int", "decimal", "bool", "date", "datetime", "code", "rrn", "kcd_edition", "ref", "blob", "file",
     "status", "ref_list"}
)
#: Fields every record has that the framework fills in itself (and a patient's merge links, which the export
#: resolves from ``merged_into`` over the whole patient table; a vital-signs set's ``absent`` measurements, which
#: the export takes from the row's field defects).
FRAMEWORK_FIELDS = frozenset({"id", "provenance", "retention", "replaced_by", "replaces", "absent"})
#: The attachment's content is given by these two pseudo-fields.
ATTACHMENT_CONTENT_FIELDS = ("content_blob", "content_path")

_SECTION_KEYS = {
    "connector": {"name", "version", "vendor", "product", "description", "engines"},
    "detect": {"tables", "version_query", "files", "dsn_names"},
    "source": {"encoding", "date_formats", "datetime_formats", "timezone", "two_digit_year_pivot", "attach"},
    "institution": {"query"},
    "attachments": {"root", "stored_prefixes"},
}
#: What of an SQL text is no place for a parameter marker: a quoted name ("…", `…`, […]), a dollar-quoted string
#: ($$…$$, $tag$…$tag$), a comment (-- …, /* … */), and a quoted string ('…'): read both as standard SQL writes it
#: and with backslash escapes (MariaDB's 'it\'s'), so that neither reading alone refuses a valid query.
_SQL_NAMES_AND_COMMENTS = (r"\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|(\$[A-Za-z_0-9]*\$)(?:.|\n)*?\1"
                           r"|--[^\n]*|/\*(?:.|\n)*?\*/")
_SQL_QUOTED = (re.compile(r"'(?:[^']|'')*'|" + _SQL_NAMES_AND_COMMENTS),
               re.compile(r"'(?:[^'\\]|\\.|'')*'|" + _SQL_NAMES_AND_COMMENTS))


def _bare_question_mark(sql: str) -> bool:
    """Whether ``sql`` holds a ``?`` outside quoted strings, quoted names and comments (however it reads them)."""
    return "?" in sql and all("?" in quoted.sub(" ", sql) for quoted in _SQL_QUOTED)


_ENTITY_KEYS = {"entity", "table", "key", "query", "unique", "fields", "page_size", "carry"}
_FIELD_KEYS = {
    "column", "columns", "join", "expr", "value", "type", "required", "default", "map", "ref", "root", "format",
    "tz", "lookup",
}
_LOOKUP_KEYS = {"table", "key", "value", "where"}
#: ``expr`` tables are keyed by engine (``sqlite`` also serves the SQLite ODBC driver) or ``default``.
EXPR_ENGINES = ("default", "sqlite", "mariadb", "postgresql", "mssql", "firebird")
#: ``format`` of a date/datetime field: Unix epoch seconds or milliseconds, else strptime patterns.
EPOCH_FORMATS = ("epoch", "epoch_ms")
#: ``format`` of a date/datetime field holding a Julian day number (SQLite's ``julianday()``: 2460000.5 is
#: 2023-02-24 00:00), read as SQLite's ``date()``/``datetime()`` read it.
JULIAN_FORMAT = "julian"
#: The formats naming a number rather than a text pattern: one alone on a field.
NUMBER_FORMATS = (*EPOCH_FORMATS, JULIAN_FORMAT)
DEFAULT_TIMEZONE = "Asia/Seoul"
#: Every column the pipeline adds to a row (reference checks, computed values, composite keys, look-ups)
#: starts with this prefix; such columns are never part of a raw (quarantined or carried) row.
INTERNAL_PREFIX = "_ref_"
#: The computed column holding a parent's children's keys (a back reference: model.BACK_REFERENCES), filled
#: by the export per page of parents; no cell of the source.
BACK_COLUMN_PREFIX = INTERNAL_PREFIX + "back_"
#: The computed key column of an entity with a composite key (``key = ["A", "B"]``).
COMPOSITE_KEY_COLUMN = INTERNAL_PREFIX + "_key"
#: Separator between the parts of a composite key's text (``"1042|3"``).
COMPOSITE_KEY_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class LookupSpec:
    """A code look-up through a code table in the database: the field's value is ``value`` of the row of
    ``table`` whose ``key`` equals the column (``where`` narrows the code table to one code group)."""

    table: str
    key: str
    value: str
    where: str | None = None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str = "text"
    column: str | None = None
    value: Any = None
    required: bool = False
    default: Any = None
    map: Mapping[str, Any] | None = None
    ref: str | None = None
    root: str | None = None
    #: ``ref = "patient.chart_number"``: the parent's (unique) field the column holds; None: its key.
    ref_field: str | None = None
    #: Split values: several columns whose texts are joined (with ``join``) before the transform.
    columns: tuple[str, ...] = ()
    join: str = ""
    #: A computed column: SQL expression per engine (``default`` for any engine).
    expr: Mapping[str, str] | None = None
    #: date/datetime: ``epoch``/``epoch_ms``/``julian`` or strptime patterns tried before [source]'s formats.
    format: tuple[str, ...] = ()
    #: The time zone of the stored value (default [source] timezone, itself Asia/Seoul by default).
    tz: str | None = None
    lookup: LookupSpec | None = None

    @property
    def source_column(self) -> str | None:
        """The row column the mapper reads: the declared column, or the pipeline's computed column."""
        if self.lookup is not None:
            return INTERNAL_PREFIX + "lk_" + self.name
        if self.expr is not None:
            return INTERNAL_PREFIX + "x_" + self.name
        return self.column

    @property
    def reads_row(self) -> bool:
        return self.column is not None or bool(self.columns) or self.expr is not None


@dataclass(frozen=True, slots=True)
class EntitySpec:
    name: str
    table: str
    key: str
    fields: Mapping[str, FieldSpec]
    query: str | None = None
    unique: tuple[str, ...] = ()
    page_size: int | None = None
    # The canonical entity the rows become. Empty: the section name is the canonical entity. A section
    # with another name (``[entities.allergy]`` with ``entity = "diagnosis"``) lets several source tables,
    # or several row kinds of one table, feed one canonical entity.
    kind: str = ""
    #: The key's columns: one, or several for a composite key (then ``key`` is COMPOSITE_KEY_COLUMN).
    key_columns: tuple[str, ...] = ()
    #: What record ids are made from with the key: the table, or ``TABLE#section`` for a section that
    #: reads a table an earlier section of the same entity reads too (the same row, two records).
    id_table: str = ""
    #: Why the section's rows are carried, not mapped (``carry = "…"``): each row the query gives is written
    #: verbatim (every column of its table) to ``data/raw/sections/<name>``, no record made of it. None: mapped.
    carry: str | None = None

    @property
    def record_table(self) -> str:
        return self.id_table or self.table

    @property
    def composite(self) -> bool:
        return len(self.key_columns) > 1

    @property
    def canonical(self) -> str:
        return self.kind or self.name

    @property
    def inner_sql(self) -> str:
        """The entity's row source as a SELECT (the declared query, or the whole table)."""
        return self.query if self.query else f"SELECT * FROM {self.table}"

    @property
    def record_type(self) -> type:
        return model.ENTITY_TYPES[self.canonical]


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    name: str
    version: str
    path: Path  # the connector folder
    vendor: str = ""
    product: str = ""
    description: str = ""
    engines: tuple[str, ...] = ()
    detect_tables: tuple[str, ...] = ()
    version_query: str | None = None
    # Where the EMR's database usually is on a clinic PC: glob patterns of files (with placeholders
    # such as {ProgramData}) and regular expressions matching the ODBC DSNs its installer creates.
    detect_files: tuple[str, ...] = ()
    detect_dsn_names: tuple[str, ...] = ()
    encoding: str = "utf-8"
    timezone: str = DEFAULT_TIMEZONE
    #: Two-digit years up to this (00..pivot) are 20xx, above it 19xx. None: the current year's two digits.
    two_digit_year_pivot: int | None = None
    #: ``[skip] TABLE = "reason"``: tables the connector deliberately does not read, with the reason.
    skip: Mapping[str, str] = field(default_factory=dict)
    #: ``[carry] TABLE = "reason"``: tables no section reads, carried raw on purpose (every row and column, as
    #: any table no section reads is), with the reason: decided, so `connector check` does not ask about them.
    carry: Mapping[str, str] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ("%Y-%m-%d", "%Y%m%d")
    datetime_formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S")
    institution_query: str | None = None
    attachments_root: str | None = None
    #: ``[source] attach = { rec = "records.db" }``: the other SQLite files the EMR ATTACHes beside its main
    #: database file (schema name → file, relative to the main file's folder): read in the same snapshot, their
    #: tables named ``rec.prescriptions``.
    attach: tuple[tuple[str, str], ...] = ()
    #: ``[attachments] stored_prefixes``: the folders the EMR wrote at the start of its absolute stored paths
    #: (``C:\\UBCARE\\SCAN``, ``\\\\NAS\\emr\\img``), each read as the attachment root; longest first.
    attachments_prefixes: tuple[str, ...] = ()
    entities: Mapping[str, EntitySpec] = field(default_factory=dict)
    origin: str = ""  # where it was found: "entry point <pkg>" or "folder <dir>"

    @property
    def spec_file(self) -> Path:
        return self.path / "connector.toml"


class _Locator:
    """Finds the line of a key inside a TOML table, for error messages (tomllib has no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, table: str, key: str | None = None) -> int | None:
        header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]\s*$")
        start = None
        for number, line in enumerate(self.lines, 1):
            if header.match(line):
                start = number
                break
        if start is None:
            # Dotted or inline definitions: fall back to the first mention of the key.
            needle = key or table.rsplit(".", 1)[-1]
            for number, line in enumerate(self.lines, 1):
                if re.match(r"^\s*" + re.escape(needle) + r"\s*=", line):
                    return number
            return None
        if key is None:
            return start
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if re.match(r"^\s*\[", line):
                break
            if re.match(r"^\s*\"?" + re.escape(key) + r"\"?\s*=", line):
                return number
        return start


def load_spec(folder: Path, origin: str = "") -> ConnectorSpec:
    """Load and validate ``folder/connector.toml``."""
    path = folder / "connector.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConnectorSpecError(str(path), "connector.toml", "file not found") from None
    except UnicodeDecodeError:
        raise ConnectorSpecError(str(path), "connector.toml", "is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise ConnectorSpecError(str(path), "syntax", f"not valid TOML ({exc})", line) from None
    return _Validator(path, text, data, origin).spec()


class _Validator:
    def __init__(self, path: Path, text: str, data: dict[str, Any], origin: str) -> None:
        self.path = path
        self.where = _Locator(text)
        self.data = data
        self.origin = origin

    def fail(self, table: str, key: str | None, problem: str) -> ConnectorSpecError:
        field_name = f"{table}.{key}" if key else table
        return ConnectorSpecError(str(self.path), field_name, problem, self.where.line_of(table, key))

    def _check_keys(self, table: str, found: Mapping[str, Any], allowed: set[str]) -> None:
        for key in found:
            if key not in allowed:
                raise self.fail(table, key, f"unknown setting; allowed: {', '.join(sorted(allowed))}")

    def _str(self, table: str, section: Mapping[str, Any], key: str, required: bool = False) -> str | None:
        value = section.get(key)
        if value is None:
            if required:
                raise self.fail(table, None, f"missing required setting '{key}'")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(table, key, "must be a non-empty string")
        return value

    def _sql(self, table: str, key: str, sql: str | None) -> str | None:
        """``sql`` (a section's query, a field's expression), refused where it holds a ``?`` outside quotes and
        comments: the driver takes it for a parameter (PostgreSQL's jsonb ``?``, ``?|``, ``?&`` operators), and
        the export stopped with '[07002] The # of binded parameters < the # of parameter markers'."""
        if sql is not None and _bare_question_mark(sql):
            raise self.fail(table, key, "holds a '?', which the database driver takes for a parameter of its own "
                            "and fails on: for PostgreSQL's jsonb operators write jsonb_exists(col, 'key') for ?, "
                            "jsonb_exists_any(col, array[…]) for ?| and jsonb_exists_all(col, array[…]) for ?&")
        return sql

    def _str_list(self, table: str, section: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = section.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(table, key, "must be a list of strings")
        return tuple(value)

    def _identifier(self, table: str, key: str, value: Any) -> str:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            raise self.fail(
                table, key, f"{value!r} is not a plain SQL identifier (letters, digits and _ only)"
            )
        return value

    def _table_name(self, table: str, key: str, value: Any) -> str:
        if not isinstance(value, str) or not TABLE_NAME.match(value):
            raise self.fail(
                table, key, f"{value!r} is not a plain SQL table name (letters, digits and _ only, "
                            "or schema.table)"
            )
        return value

    def _section_table(self, table: str, value: Any) -> str:
        """A section's table: a plain table name (the connector's SQL names it unquoted), or any other name the
        database has ("tabPatient Encounter", as Frappe names its tables), which the export names quoted, as the
        catalogue spells it, wherever it reads the table (docs/connectors.md, "Tables not read")."""
        if isinstance(value, str) and TABLE_NAME.match(value):
            return value
        if not isinstance(value, str) or not value.strip() or QUOTED_NAME_REFUSED.search(value):
            raise self.fail(table, "table", f"{value!r} is no table name (a name with no quote marks, brackets or "
                                            "control characters)")
        return value

    def spec(self) -> ConnectorSpec:
        for section in self.data:
            if section not in _SECTION_KEYS and section not in ("entities", "skip", "carry"):
                raise self.fail(section, None, f"unknown section [{section}]")
        for section, allowed in _SECTION_KEYS.items():
            value = self.data.get(section, {})
            if not isinstance(value, dict):
                raise self.fail(section, None, "must be a table")
            self._check_keys(section, value, allowed)
        meta = self.data.get("connector")
        if not meta:
            raise self.fail("connector", None, "missing section [connector]")
        name = self._str("connector", meta, "name", required=True)
        assert name is not None
        if not NAME.match(name):
            raise self.fail("connector", "name", "must be lowercase letters, digits, '-' or '_'")
        version = self._str("connector", meta, "version", required=True)
        detect = self.data.get("detect", {})
        source = self.data.get("source", {})
        encoding = self._str("source", source, "encoding") or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise self.fail("source", "encoding", f"unknown text encoding {encoding!r}") from None
        defaults = ConnectorSpec(name=name, version=version or "", path=self.path.parent)
        date_formats = self._str_list("source", source, "date_formats") or defaults.date_formats
        datetime_formats = self._str_list("source", source, "datetime_formats") or defaults.datetime_formats
        for table in self._str_list("detect", detect, "tables"):
            self._table_name("detect", "tables", table)
        detect_files = self._file_patterns(detect)
        detect_dsn_names = self._dsn_names(detect)
        timezone = self._str("source", source, "timezone") or DEFAULT_TIMEZONE
        self._check_timezone(timezone)
        pivot = source.get("two_digit_year_pivot")
        if pivot is not None and (not isinstance(pivot, int) or isinstance(pivot, bool) or not 0 <= pivot <= 99):
            raise self.fail("source", "two_digit_year_pivot", "must be a whole number from 0 to 99")
        entities = self._entities()
        skip = self._skip(entities)
        carry = self._skip(entities, "carry")
        skipped = {table.lower() for table in skip}
        for table in carry:
            if table.lower() in skipped:
                raise self.fail("carry", table, "is under [skip] too: a table is carried or skipped, not both")
        return ConnectorSpec(
            name=name,
            version=version or "",
            path=self.path.parent,
            vendor=self._str("connector", meta, "vendor") or "",
            product=self._str("connector", meta, "product") or "",
            description=self._str("connector", meta, "description") or "",
            engines=self._str_list("connector", meta, "engines"),
            detect_tables=self._str_list("detect", detect, "tables"),
            version_query=self._str("detect", detect, "version_query"),
            detect_files=detect_files,
            detect_dsn_names=detect_dsn_names,
            encoding=encoding,
            timezone=timezone,
            two_digit_year_pivot=pivot,
            skip=skip,
            carry=carry,
            date_formats=date_formats,
            datetime_formats=datetime_formats,
            institution_query=self._sql("institution", "query",
                                        self._str("institution", self.data.get("institution", {}), "query")),
            attachments_root=self._str("attachments", self.data.get("attachments", {}), "root"),
            attach=self._attach(source),
            attachments_prefixes=self._stored_prefixes(),
            entities=entities,
            origin=self.origin,
        )

    def _attach(self, source: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        given = source.get("attach", {})
        if not isinstance(given, Mapping):
            raise self.fail("source", "attach", 'must be a table: attach = { rec = "records.db" }')
        found = []
        for schema, file in given.items():
            if not ATTACH_SCHEMA.fullmatch(schema) or schema.lower() in ("main", "temp"):
                raise self.fail("source", "attach", f"{schema!r} is not a schema name (letters, digits, '_'; "
                                "not main or temp)")
            if not isinstance(file, str) or not file.strip():
                raise self.fail("source", "attach", f"{schema}: give the SQLite file's name, as text")
            found.append((schema, file))
        return tuple(found)

    def _check_timezone(self, name: str, table: str = "source", key: str = "timezone") -> None:
        try:
            zone(name)
        except LookupError as exc:
            raise self.fail(table, key, str(exc)) from None

    def _skip(self, entities: Mapping[str, EntitySpec], section: str = "skip") -> dict[str, str]:
        """``[skip]`` (tables not read) or ``[carry]`` (tables carried raw on purpose): TABLE = "reason"."""
        raw = self.data.get(section, {})
        what = "not read" if section == "skip" else "carried as it is"
        if not isinstance(raw, dict):
            raise self.fail(section, None, 'must be a table of TABLE = "reason"')
        read: dict[str, str] = {}
        for name, e in entities.items():
            read.setdefault(e.table.lower(), name)  # the first section reading it
        out: dict[str, str] = {}
        for table, reason in raw.items():
            # Any table name the catalogue has ("환자 기록", "sms.log", "order"): a skipped name is only compared
            # with the catalogue's, never written into SQL, so it need not be a plain identifier (a section's
            # table must). In TOML such a key is quoted.
            if not table.strip() or not table.isprintable():
                raise self.fail(section, table, "must be a table's name as the database spells it")
            if not isinstance(reason, str) or not reason.strip():
                raise self.fail(section, table, f"give the reason as a non-empty string (why this table is {what})")
            if table.lower() in read:
                done = "skipped" if section == "skip" else "carried (its unmapped columns are carried with its records)"
                raise self.fail(section, table, f"is read by [entities.{read[table.lower()]}]; it cannot be {done}")
            out[table] = reason.strip()
        return out

    def _file_patterns(self, detect: Mapping[str, Any]) -> tuple[str, ...]:
        patterns = self._str_list("detect", detect, "files")
        for pattern in patterns:
            for name in _PLACEHOLDER.findall(pattern):
                if name not in FILE_PLACEHOLDERS:
                    raise self.fail(
                        "detect", "files",
                        f"unknown placeholder {{{name}}} in {pattern!r}; known: "
                        + ", ".join("{" + p + "}" for p in FILE_PLACEHOLDERS),
                    )
            if "**" in pattern:
                # A recursive pattern could walk the whole disk of a clinic PC.
                raise self.fail("detect", "files", f"{pattern!r}: '**' is not allowed; name the folders")
            absolute = pattern.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", pattern) is not None
            if not _PLACEHOLDER.match(pattern) and not absolute:
                raise self.fail(
                    "detect", "files", f"{pattern!r} must start with a placeholder such as {{ProgramData}} "
                    "or be an absolute path",
                )
        return patterns

    def _stored_prefixes(self) -> tuple[str, ...]:
        value = self.data.get("attachments", {}).get("stored_prefixes", [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail("attachments", "stored_prefixes", "must be a list of folders as the EMR wrote them, "
                            "e.g. ['C:\\UBCARE\\SCAN', '\\\\NAS\\emr\\img'] (TOML literal strings)")
        prefixes: list[str] = []
        for raw in value:
            prefix = unicodedata.normalize("NFC", raw.strip())
            # The problem, never the folder itself: a folder name may hold a person's name.
            if "\x00" in prefix:
                raise self.fail("attachments", "stored_prefixes", "an entry holds a NUL character")
            form = stored_path_form(prefix)
            if form == "relative":
                raise self.fail(
                    "attachments", "stored_prefixes",
                    f"entry {len(prefixes) + 1} is not an absolute path: give the folder as the EMR wrote it at "
                    "the start of its stored paths (C:\\…, \\\\server\\share\\… or /…); a relative stored path "
                    "is already read from the attachment folder",
                )
            path = prefix_path(prefix)
            if not path.is_absolute():
                raise self.fail("attachments", "stored_prefixes",
                                f"entry {len(prefixes) + 1}: a network path needs its server and share "
                                "(\\\\server\\share\\…)")
            if ".." in path.parts:
                raise self.fail("attachments", "stored_prefixes", f"entry {len(prefixes) + 1} may not hold '..'")
            prefixes.append(prefix)
        # The most specific first: C:\\EMR\\SCAN\\OLD before C:\\EMR\\SCAN.
        return tuple(sorted(prefixes, key=lambda p: -len(prefix_path(p).parts)))

    def _dsn_names(self, detect: Mapping[str, Any]) -> tuple[str, ...]:
        names = self._str_list("detect", detect, "dsn_names")
        for name in names:
            try:
                re.compile(name)
            except re.error as exc:
                raise self.fail("detect", "dsn_names", f"{name!r} is not a valid regular expression ({exc})") from None
        return names

    def _entities(self) -> dict[str, EntitySpec]:
        raw = self.data.get("entities", {})
        if not isinstance(raw, dict) or not raw:
            raise self.fail("entities", None, "at least one [entities.<name>] table is required")
        kinds: dict[str, str] = {}
        for name, section in raw.items():
            kind = section.get("entity", name) if isinstance(section, dict) else name
            kind = kind if isinstance(kind, str) else ""
            carried = isinstance(section, dict) and "carry" in section and "entity" not in section
            if carried and kind not in model.ENTITY_TYPES:
                kind = ""  # rows carried whole: no record type needed (read after every mapped section)
            elif kind not in model.ENTITY_TYPES:
                where = "entity" if isinstance(section, dict) and "entity" in section else None
                raise self.fail(
                    f"entities.{name}", where,
                    f"unknown entity; known: {', '.join(model.ENTITY_ORDER)}"
                    + ("" if where else " (or name one with entity = \"…\")"),
                )
            if not NAME.match(name):
                raise self.fail(f"entities.{name}", None, "section names are lowercase letters, digits, '-' or '_'")
            kinds[name] = kind
        entities: dict[str, EntitySpec] = {}
        # Validated in dependency order (then in file order) so refs point backwards.
        order = {kind: i for i, kind in enumerate(model.ENTITY_ORDER)}
        for name in sorted(raw, key=lambda n: order.get(kinds[n], len(order))):
            entity = self._entity(name, raw[name], entities, kinds[name])
            if any((e.canonical == entity.canonical or any({e.canonical, entity.canonical} <= kin
                                                           for kin in model.SAME_RESOURCE))
                   and e.table.lower() == entity.table.lower() for e in entities.values()):
                entity = dataclasses.replace(entity, id_table=f"{entity.table}#{name}")
            entities[name] = entity
        self._back_references(entities)
        return entities

    def _entity(self, name: str, section: Any, earlier: Mapping[str, EntitySpec], kind: str) -> EntitySpec:
        table_path = f"entities.{name}"
        if not isinstance(section, dict):
            raise self.fail(table_path, None, "must be a table")
        self._check_keys(table_path, section, _ENTITY_KEYS)
        table = self._section_table(table_path, section.get("table"))
        raw_key = section.get("key")
        if isinstance(raw_key, list):
            if len(raw_key) < 2:
                raise self.fail(table_path, "key", "a composite key lists at least two columns")
            key_columns = tuple(self._identifier(table_path, "key", k) for k in raw_key)
            key = COMPOSITE_KEY_COLUMN
        else:
            key = self._identifier(table_path, "key", raw_key)
            key_columns = (key,)
        query = self._sql(table_path, "query", self._str(table_path, section, "query"))
        page_size = section.get("page_size")
        if page_size is not None and (not isinstance(page_size, int) or not 1 <= page_size <= 100_000):
            raise self.fail(table_path, "page_size", "must be a whole number from 1 to 100000")
        carry = self._str(table_path, section, "carry")
        if carry is not None:
            return self._carried(table_path, section, name, table, key, key_columns, query, page_size, kind, carry)
        record_type = model.ENTITY_TYPES[kind]
        allowed = {f.name for f in dataclasses.fields(record_type)} - FRAMEWORK_FIELDS
        if kind == "attachment":
            allowed = (allowed - {"content"}) | set(ATTACHMENT_CONTENT_FIELDS)
        fields_section = section.get("fields")
        if not isinstance(fields_section, dict) or not fields_section:
            raise self.fail(table_path, "fields", "missing [" + table_path + ".fields]")
        fields: dict[str, FieldSpec] = {}
        for field_name, raw_field in fields_section.items():
            if field_name not in allowed:
                raise self.fail(
                    f"{table_path}.fields", field_name,
                    f"{record_type.__name__} has no field '{field_name}'; fields: {', '.join(sorted(allowed))}",
                )
            fields[field_name] = self._field(f"{table_path}.fields", field_name, raw_field, earlier, kind)
        for f in dataclasses.fields(record_type):
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            if f.name not in FRAMEWORK_FIELDS and not has_default and f.name not in fields:
                raise self.fail(
                    f"{table_path}.fields", None,
                    f"field '{f.name}' is required by {record_type.__name__} but not mapped",
                )
        if kind == "attachment" and not any(n in fields for n in ATTACHMENT_CONTENT_FIELDS):
            raise self.fail(f"{table_path}.fields", None, "map content_blob or content_path")
        unique = self._str_list(table_path, section, "unique")
        for field_name in unique:
            if field_name not in fields or fields[field_name].source_column is None:
                raise self.fail(table_path, "unique", f"'{field_name}' is not a field mapped from a column")
        for field_name, fld in fields.items():
            if (kind, field_name) not in model.SELF_REFERENCES or fld.ref != name:
                continue
            if fld.ref_field is not None and (fld.ref_field not in fields or fields[fld.ref_field].source_column
                                              is None or fld.ref_field not in unique):
                raise self.fail(f"{table_path}.fields", field_name, f"'{name}.{fld.ref_field}': map '{fld.ref_field}' "
                                f"from a column and list it in unique = [...] to refer to it")
            if fld.ref_field is None and len(key_columns) > 1:
                raise self.fail(f"{table_path}.fields", field_name, f"{name} has a composite key: refer to one of "
                                f"its unique fields (ref = \"{name}.<field>\")")
        return EntitySpec(
            name=name, table=table, key=key, fields=fields, query=query, unique=unique, page_size=page_size,
            kind="" if kind == name else kind, key_columns=key_columns,
        )

    def _carried(self, table_path: str, section: Mapping[str, Any], name: str, table: str, key: str,
                 key_columns: tuple[str, ...], query: str | None, page_size: int | None, kind: str,
                 carry: str) -> EntitySpec:
        """A section whose rows are carried raw with their reason (``carry``), not mapped: no fields."""
        if not carry.strip():
            raise self.fail(table_path, "carry", "say why the rows are carried (a reason, not empty)")
        if "fields" in section or "unique" in section:
            raise self.fail(table_path, "fields" if "fields" in section else "unique",
                            "a carried section (carry = ...) maps no field: its rows are kept whole as recorded")
        if len(key_columns) > 1:
            raise self.fail(table_path, "key", "a carried section's key is one column of its table")
        return EntitySpec(name=name, table=table, key=key, fields={}, query=query, page_size=page_size,
                          kind="" if kind in ("", name) else kind, key_columns=key_columns, carry=carry.strip())

    def _back_reference(self, table: str, name: str, ref: Any, ref_field: str | None,
                        earlier: Mapping[str, EntitySpec], entity_kind: str) -> bool:
        """Whether ``ref`` is a back reference (:data:`model.BACK_REFERENCES`: a lab result's report, a later
        section) rather than an ordinary one to an earlier section."""
        target = model.BACK_REFERENCES.get((entity_kind, name))
        if target is None:
            return False
        sections = self.data.get("entities", {})
        section = sections.get(ref) if isinstance(sections, dict) and isinstance(ref, str) else None
        if not isinstance(section, dict) or section.get("entity", ref) != target[0]:
            raise self.fail(table, name, f"'ref' must name a section of entity '{target[0]}', got {ref!r}")
        if ref_field is not None:
            raise self.fail(table, name, f"refers to {target[0]} by its key: write ref = \"{ref}\"")
        return True

    def _back_references(self, entities: dict[str, EntitySpec]) -> None:
        """Give each parent of a back reference (a lab report its results) the field listing its children:
        a ``ref_list`` the export fills per page of parents (the computed column ``_ref_back_<field>``)."""
        for child in list(entities.values()):
            for name, fld in child.fields.items():
                target = model.BACK_REFERENCES.get((child.canonical, name))
                if target is None or fld.type != "ref" or fld.ref is None:
                    continue
                parent = entities[fld.ref]
                where = f"entities.{child.name}.fields"
                if parent.composite:
                    raise self.fail(where, name, f"{fld.ref} has a composite key: a {target[0]} it refers to needs "
                                    "a key of one column")
                listed = parent.fields.get(target[1])
                if listed is not None:
                    raise self.fail(f"entities.{fld.ref}.fields", target[1], (
                        f"listed twice: {child.name}.{name} already names each {target[0]} of its rows"
                        if listed.column and listed.column.startswith(BACK_COLUMN_PREFIX) else
                        f"{child.name}.{name} lists them already (each result names its {target[0]}): "
                        f"leave out '{target[1]}'"))
                column = BACK_COLUMN_PREFIX + target[1]
                fields = dict(parent.fields)
                fields[target[1]] = FieldSpec(name=target[1], type="ref_list", column=column, ref=child.name)
                entities[fld.ref] = dataclasses.replace(parent, fields=fields)

    def _status_field(self, table: str, name: str, mapping: Any, entity_kind: str) -> None:
        """A source status: mapped values must be statuses of the entity, or "" for an ordinary record (the 'N' of
        a deletion flag ``del_yn``: the resource's usual status); anything else is kept as recorded."""
        allowed = model.STATUS_VALUES.get(entity_kind)
        if name != "status" or allowed is None:
            raise self.fail(table, name, "type 'status' is for the field 'status' of an entity that has statuses")
        for source_value, status in (mapping or {}).items():
            if status != "" and status not in allowed:
                raise self.fail(
                    table, name,
                    f"maps {source_value!r} to {status!r}, which is not a status of {entity_kind}; "
                    f"statuses: {', '.join(sorted(allowed))}, or \"\" for an ordinary record",
                )

    def _field(
        self, table: str, name: str, raw: Any, earlier: Mapping[str, EntitySpec], entity_kind: str = ""
    ) -> FieldSpec:
        if isinstance(raw, str):  # shorthand: field = "column"
            raw = {"column": raw}
        if not isinstance(raw, dict):
            raise self.fail(table, name, "must be a column name or an inline table { column = … }")
        for key in raw:
            if key not in _FIELD_KEYS:
                raise self.fail(table, name, f"unknown key '{key}'; allowed: {', '.join(sorted(_FIELD_KEYS))}")
        sources = [k for k in ("column", "columns", "expr", "value") if k in raw]
        if len(sources) != 1:
            raise self.fail(table, name, "give exactly one of 'column', 'columns', 'expr' or 'value'")
        column = self._identifier(table, name, raw["column"]) if "column" in raw else None
        columns: tuple[str, ...] = ()
        if "columns" in raw:
            listed = raw["columns"]
            if not isinstance(listed, list) or len(listed) < 2:
                raise self.fail(table, name, "'columns' lists two or more columns whose values are joined")
            columns = tuple(self._identifier(table, name, c) for c in listed)
        join = raw.get("join", "")
        if not isinstance(join, str) or ("join" in raw and not columns):
            raise self.fail(table, name, "'join' is the text put between the values of 'columns'")
        expr = self._expr(table, name, raw["expr"]) if "expr" in raw else None
        # No type: the kind of value the record's field holds (a date, a yes/no, a number), never text for
        # them (a date field read as text stopped the export with an AttributeError in the FHIR mapping)
        kind = raw.get("type", "text" if "value" in raw else _field_kind(entity_kind, name))
        if name == "content_blob":
            kind = raw.get("type", "blob")
        if name == "content_path":
            kind = raw.get("type", "file")
        if kind not in FIELD_TYPES:
            raise self.fail(table, name, f"unknown type {kind!r}; types: {', '.join(sorted(FIELD_TYPES))}")
        if "value" in raw and "type" in raw:
            # a constant is given to the record as written, no transform: value = "Y" with type = "bool" made
            # FHIR's valueBoolean the text "Y"
            value = raw["value"]
            if kind == "bool" and not isinstance(value, bool):
                raise self.fail(table, name, "a 'bool' value is true or false (without quotes)")
            if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise self.fail(table, name, "an 'int' value is a whole number (without quotes)")
            if kind not in ("text", "bool", "int"):
                raise self.fail(table, name, f"a constant 'value' is given as written: type {kind!r} does not "
                                "apply (leave out the type for text; 'bool' and 'int' take true/false and numbers)")
        if name == "merged_into" and kind != "text":
            raise self.fail(table, name, "merged_into is the surviving chart's number (or key) as recorded: leave out "
                            "the type; the export finds that patient and links the two itself")
        if kind in _VALUE_TYPES and _holds_text(entity_kind, name):
            # a lab result's value typed decimal stopped the export with 'an unexpected problem (TypeError) …
            # This is a bug' (a Decimal where FHIR's valueString wants the text as recorded)
            raise self.fail(table, name, f"type {kind!r} does not fit: the record keeps '{name}' as the text "
                            "recorded; leave out the type")
        mapping = raw.get("map")
        if mapping is not None and (not isinstance(mapping, dict) or kind not in {"code", "bool", "status"}):
            raise self.fail(table, name, "'map' must be a table and needs type 'code', 'bool' or 'status'")
        if kind == "code" and mapping is None:
            raise self.fail(table, name, "type 'code' needs a 'map'")
        if kind == "bool" and mapping is not None:
            # "false" in quotes is a non-empty text, which Python takes for true: the flag would be inverted
            wrong = next((k for k, v in mapping.items() if not isinstance(v, bool)), None)
            if wrong is not None:
                raise self.fail(table, name, f"a 'bool' map gives true or false (without quotes) for each source "
                                f"value; the value for {wrong!r} is not")
        if kind == "status":
            self._status_field(table, name, mapping, entity_kind)
        ref = raw.get("ref")
        ref_field = None
        if kind == "ref_list":
            # A list of keys ("3,7,9", e.g. from GROUP_CONCAT) of rows of an earlier entity.
            if not isinstance(ref, str) or ref not in earlier or earlier[ref].carry is not None:
                raise self.fail(table, name, f"type 'ref_list' needs 'ref' naming an earlier entity, got {ref!r}")
        elif kind == "ref":
            if isinstance(ref, str) and "." in ref:
                ref, ref_field = ref.split(".", 1)
            # a refund receipt's receipt it cancels (model.SELF_REFERENCES): its own section, checked once read
            own = (entity_kind, name) in model.SELF_REFERENCES and table == f"entities.{ref}.fields"
            back = own or self._back_reference(table, name, ref, ref_field, earlier, entity_kind)
            if back:
                if columns:
                    raise self.fail(table, name, "a 'ref' reads one column (or an 'expr')")
            elif not isinstance(ref, str) or (ref not in model.ENTITY_TYPES and ref not in earlier):
                raise self.fail(table, name, f"'ref' must name an entity, got {ref!r}")
            elif ref not in earlier:
                raise self.fail(table, name, f"refers to entity '{ref}', which this connector does not define")
            parent = earlier.get(ref) if isinstance(ref, str) else None
            if parent is not None and parent.carry is not None:
                raise self.fail(table, name, f"refers to '{ref}', whose rows are carried (carry = ...), not records")
            if parent is None:
                pass  # a back reference: checked once its section is read (_back_references)
            elif ref_field is not None:
                if ref_field not in parent.fields or parent.fields[ref_field].source_column is None:
                    raise self.fail(
                        table, name, f"'{ref}.{ref_field}': {ref} maps no field '{ref_field}' from a column"
                    )
                if ref_field not in parent.unique:
                    raise self.fail(
                        table, name,
                        f"'{ref}.{ref_field}': list '{ref_field}' in {ref}'s unique = [...] to refer to it",
                    )
            elif parent.composite:
                raise self.fail(
                    table, name,
                    f"{ref} has a composite key: refer to one of its unique fields (ref = \"{ref}.<field>\")",
                )
            if columns:
                raise self.fail(table, name, "a 'ref' reads one column (or an 'expr')")
        elif ref is not None:
            raise self.fail(table, name, "'ref' needs type 'ref'")
        fmt = raw.get("format")
        formats: tuple[str, ...] = ()
        if fmt is not None:
            listed = [fmt] if isinstance(fmt, str) else fmt
            if kind not in ("date", "datetime", "kcd_edition") or not isinstance(listed, list) or not listed or not all(
                isinstance(f, str) and f for f in listed
            ):
                raise self.fail(table, name, "'format' needs type date/datetime and a format (or a list of them)")
            if any(f in NUMBER_FORMATS for f in listed) and len(listed) > 1:
                raise self.fail(table, name, "'epoch'/'epoch_ms'/'julian' cannot be combined with other formats")
            formats = tuple(listed)
        tz = raw.get("tz")
        if tz is not None:
            if not isinstance(tz, str) or kind not in ("date", "datetime", "kcd_edition"):
                raise self.fail(table, name, "'tz' needs type date/datetime and a time zone name")
            self._check_timezone(tz, table, name)
        lookup = self._lookup(table, name, raw["lookup"]) if "lookup" in raw else None
        if lookup is not None and (column is None or kind not in ("text", "code", "bool")):
            raise self.fail(table, name, "'lookup' needs a 'column' and type text, code or bool")
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(table, name, "'required' must be true or false")
        root = raw.get("root")
        if root is not None and (kind != "file" or not isinstance(root, str)):
            raise self.fail(table, name, "'root' needs type 'file' and a folder name")
        return FieldSpec(
            name=name,
            type=kind,
            column=column,
            value=raw.get("value"),
            required=required,
            default=raw.get("default"),
            map=mapping,
            ref=ref,
            root=root,
            ref_field=ref_field,
            columns=columns,
            join=join,
            expr=expr,
            format=formats,
            tz=tz,
            lookup=lookup,
        )

    def _expr(self, table: str, name: str, raw: Any) -> dict[str, str]:
        if isinstance(raw, str) and raw.strip():
            self._sql(table, name, raw)
            return {"default": raw}
        if not isinstance(raw, dict) or not raw:
            raise self.fail(table, name, "'expr' is an SQL expression, or a table of them per engine")
        for engine, sql in raw.items():
            if engine not in EXPR_ENGINES:
                raise self.fail(table, name, f"'expr' engine {engine!r}; engines: {', '.join(EXPR_ENGINES)}")
            if not isinstance(sql, str) or not sql.strip():
                raise self.fail(table, name, f"'expr' for {engine} must be a non-empty SQL expression")
            self._sql(table, name, sql)
        return dict(raw)

    def _lookup(self, table: str, name: str, raw: Any) -> LookupSpec:
        if not isinstance(raw, dict):
            raise self.fail(table, name, "'lookup' is a table { table, key, value, where }")
        for k in raw:
            if k not in _LOOKUP_KEYS:
                raise self.fail(table, name, f"unknown 'lookup' key '{k}'; allowed: {', '.join(sorted(_LOOKUP_KEYS))}")
        where = raw.get("where")
        if where is not None and (not isinstance(where, str) or not where.strip()):
            raise self.fail(table, name, "'lookup.where' must be an SQL condition")
        return LookupSpec(
            table=self._table_name(table, name, raw.get("table")),
            key=self._identifier(table, name, raw.get("key")),
            value=self._identifier(table, name, raw.get("value")),
            where=where,
        )


def fields_with_own_zone(spec: ConnectorSpec) -> list[str]:
    """``section.field`` of every date/datetime field (not an epoch number) whose ``tz`` is another zone than
    ``[source] timezone``."""
    source = zone(spec.timezone)
    return [f"{entity.name}.{field.name}" for entity in spec.entities.values() for field in entity.fields.values()
            if field.tz is not None and field.format[:1] not in (("epoch",), ("epoch_ms",))
            and zone(field.tz) != source]


def session_time_zone(spec: ConnectorSpec) -> str | None:
    """The time zone a PostgreSQL session reading ``spec``'s sections is set to, or None to leave it be.

    psqlODBC hands a ``timestamptz`` over as a naive wall time in the *session's* TimeZone (the server's
    default, often UTC), which the connector reads as its ``[source] timezone``: hours off. With the session
    set to that zone, the wall time is the instant in the zone the connector assumes. A field with its own
    ``tz`` (another zone: :func:`fields_with_own_zone`) on a ``timestamptz`` column would then be read wrongly,
    and which columns are ``timestamptz`` is not known here (a section's query, a computed column): so with
    any such field the session is left as it is (None), as before.
    """
    return None if fields_with_own_zone(spec) else spec.timezone
