"""Every table and view of a clinic database, from the engine's own catalogue (the export's inventory).

SQLite: ``sqlite_master`` and ``PRAGMA table_xinfo``. ODBC engines (MariaDB, PostgreSQL, SQL Server,
SQLite over ODBC, Firebird): the driver's ``SQLTables`` / ``SQLColumns`` / ``SQLPrimaryKeys``, limited to
the connected database (MariaDB lists every database on the server otherwise) and without the engine's
system schemas. Names are returned exactly as the catalogue spells them; queries on them quote them with
the engine's quoting (:func:`quoted_name`).

PostgreSQL tables that share rows are told apart (``pg_inherits``; psqlODBC's ``SQLTables`` calls them all
TABLE): a partition (``kind`` "partition", a sub-partition and a default partition too) is part of the
partitioned table at the top of its tree (``part_of``), whose query reads its rows; a table with inheritance
children (``INHERITS``, not partitioning) is read ``FROM ONLY`` itself (:func:`from_name`), because its plain
``SELECT`` reads its children's rows too (without their own columns), and each child is read on its own.
MariaDB/MySQL partitions are no tables to a client: one table, listed once.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from emr_exporter.sources.base import Source
from emr_exporter.sources.drivers import (
    DECODED_CHARSETS,
    caps_for,
    float32_shortest,
    row_keys,
    stored_text_decoder,
    temporal_from_text,
)

log = logging.getLogger(__name__)

#: Schemas that hold the engine's own tables, never the EMR's.
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "sys", "guest", "mysql",
                            "performance_schema"})
#: The table types a driver's ``SQLTables`` gives a materialized view (psqlODBC: MATVIEW): a view's stored
#: result, whose rows come from the tables listed beside it, listed (and skipped) as a view. Left out, it
#: was in no inventory at all.
MATERIALIZED_VIEW_TYPES = ("MATVIEW", "MATERIALIZED VIEW")
#: The schema a name needs no qualification in, on any engine (a connector's SQL names no engine).
DEFAULT_SCHEMAS = frozenset({"", "public", "dbo"})
#: ... and on each engine: a PostgreSQL database ported from SQL Server keeps its tables in a schema ``dbo``,
#: which is not on PostgreSQL's search path (its tables must be named ``dbo.x``), as SQL Server's ``public``
#: would be no default.
ENGINE_DEFAULT_SCHEMAS = {"postgresql": frozenset({"", "public"}), "mssql": frozenset({"", "dbo"})}


def default_schemas(engine: str) -> frozenset[str]:
    """The schemas whose tables ``engine`` names without their schema (lower case)."""
    return ENGINE_DEFAULT_SCHEMAS.get(engine, DEFAULT_SCHEMAS)


@dataclass(frozen=True, slots=True)
class CatalogColumn:
    name: str
    type: str  # as the catalogue declares it, upper case ("" when SQLite has none)
    primary_key: bool = False
    #: The declared single-byte character set the server converts this text column's bytes from on the way
    #: out (MariaDB/MySQL ``latin1``, lower case), "" for any other column: a carried table reads such a
    #: column as its stored bytes (:attr:`~emr_exporter.sources.drivers.DriverCaps.byte_charsets_query`).
    byte_charset: str = ""
    #: The declared multi-byte legacy character set (MariaDB/MySQL ``euckr``…, lower case) this text column's
    #: bytes are read in and decoded here, "" for any other column: a stored character with no Unicode one
    #: (which the server would give as '?') keeps the value as its bytes
    #: (:attr:`~emr_exporter.sources.drivers.DriverCaps.decoded_charsets_query`).
    decoded_charset: str = ""
    #: ``SELECT *`` leaves this column out although it holds values (MariaDB/MySQL ``INVISIBLE``; SQLite's
    #: generated columns are in ``*``): its table is read by its column list (:attr:`CatalogTable.select_list`).
    hidden: bool = False
    #: The column holds the numbers of large objects (PostgreSQL ``oid``, the ``lo`` domain), whose bytes the
    #: export carries apart, once (:data:`~emr_exporter.sources.drivers.LARGE_OBJECTS`): read as the numbers.
    large_object: bool = False
    #: How the driver's values of this column are to be read, where ``type`` does not say it (upper case; ""
    #: otherwise): PostgreSQL names a domain column by the domain's name (``DOB``, ``YMD_DATE``), here its base
    #: type's (``DATE``, ``VARCHAR``); an enum's ``ENUM``, a composite type's ``COMPOSITE``
    #: (:attr:`~emr_exporter.sources.drivers.DriverCaps.column_types_query`).
    base: str = ""
    #: The column is the first column of an index an ``=`` searches (PRIMARY KEY, UNIQUE, a plain index), as the
    #: catalogue says (:attr:`~emr_exporter.sources.drivers.DriverCaps.indexed_columns_query`); False where it
    #: is not known.
    indexed: bool = False
    #: The column's collation as the catalogue names it (MariaDB ``utf8mb4_bin``, PostgreSQL ``default``), ""
    #: where it has none or it is not read (:attr:`~emr_exporter.sources.drivers.DriverCaps.collations_query`).
    collation: str = ""

    @property
    def read_type(self) -> str:
        """The type the column's values are read and sorted as: :attr:`base`, else the declared ``type``."""
        return self.base or self.type


@dataclass(frozen=True, slots=True)
class CatalogTable:
    name: str  # schema-qualified ("audit.LOG") only outside the default schema
    #: "table" | "view" | "virtual" (SQLite: a virtual table, read by its module) | "partition" (PostgreSQL: a
    #: partition of ``part_of``, whose rows are read with it)
    kind: str
    columns: tuple[CatalogColumn, ...]
    #: The schema ``name`` is qualified with ("" in the default schema). Kept apart because a table's own
    #: name may hold a dot ("sms.log"): only the schema part is split off when the name is quoted.
    schema: str = ""
    #: A virtual table's module ("fts5", "rtree", an extension's), else "".
    module: str = ""
    #: A partition: the partitioned table at the top of its tree (a sub-partition's too), by name. Its rows are
    #: read, counted and carried with that table's, never on their own.
    part_of: str = ""
    #: A partitioned table: its partitions at every level, by name.
    partitions: tuple[str, ...] = ()
    #: The tables it inherits its columns from (PostgreSQL ``INHERITS``; not partitioning), by name.
    inherits: tuple[str, ...] = ()
    #: The tables that inherit from it, by name: it is read ``FROM ONLY`` (its own rows), each of them on its own.
    children: tuple[str, ...] = ()
    #: Row-level security filters its rows for this account (PostgreSQL policies): a ``SELECT`` gives only
    #: those the policies show, silently (``DriverCaps.row_security_query``).
    row_security: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        """The name as the engine's catalogue has it: (schema, table), or (table,) in the default schema."""
        return (self.schema, self.name[len(self.schema) + 1:]) if self.schema else (self.name,)

    @property
    def has_hidden(self) -> bool:
        """Whether ``SELECT *`` leaves a column of this table out (see :attr:`CatalogColumn.hidden`)."""
        return any(c.hidden for c in self.columns)

    @property
    def has_large_objects(self) -> bool:
        """Whether a column of this table holds large objects' numbers (see :attr:`CatalogColumn.large_object`)."""
        return any(c.large_object for c in self.columns)

    @property
    def key(self) -> str | None:
        """The single-column primary key, or None (no key, or a composite one)."""
        keys = [c.name for c in self.columns if c.primary_key]
        return keys[0] if len(keys) == 1 else None


#: Declared types whose name holds another family's needle ("INT" in POINT and INTERVAL, "NUM" in ENUM).
_WHOLE_NAMES = {"INTERVAL": "interval", "POINT": "point", "ENUM": "text", "SET": "text"}


def type_family(declared: str) -> str:
    """The portable kind of a declared column type, the same on every engine for the same data
    (SQLite ``INTEGER``, MariaDB ``BIGINT``, psqlODBC ``int8`` are all "integer")."""
    t = declared.upper()
    if not t:
        return "any"  # SQLite: no declared type
    base = t.split("(")[0].strip()
    if base.startswith("_") or base.endswith("[]"):
        return "array"  # PostgreSQL arrays (psqlODBC names int4[] "_int4"): not the element's family
    if base in _WHOLE_NAMES:
        return _WHOLE_NAMES[base]
    for needles, family in (
        (("BOOL", "BIT"), "boolean"), (("INT",), "integer"), (("BLOB", "BINARY", "BYTEA", "IMAGE"), "binary"),
        (("CHAR", "TEXT", "CLOB", "STRING", "UUID", "JSON", "XML"), "text"), (("TIMESTAMP", "DATETIME"), "datetime"),
        (("DATE",), "date"), (("TIME",), "time"), (("REAL", "FLOA", "DOUB"), "real"),
        (("DEC", "NUM", "MONEY"), "decimal"),
    ):
        if any(n in t for n in needles):
            return family
    return t.lower()


def quoted_name(source: Source, table: CatalogTable) -> str:
    """A catalogue table's name quoted for ``source``'s engine (the schema and the table part by part; a dot
    in the table's own name is part of the name)."""
    caps = caps_for(source.engine)
    return ".".join(caps.quote(part) for part in table.parts)


def from_name(engine: str, table: CatalogTable) -> str:
    """How a query's FROM names ``table`` on ``engine`` to read its own rows, each once: quoted part by part,
    after ``ONLY`` where the table has inheritance children (PostgreSQL's plain FROM would add their rows, which
    are read with each child, every column of it)."""
    caps = caps_for(engine)
    quoted = ".".join(caps.quote(part) for part in table.parts)
    return f"ONLY {quoted}" if table.children else quoted


def quoted_column(source: Source, name: str) -> str:
    return caps_for(source.engine).quote(name)


_TEMPORAL_PARSERS: dict[str, Callable[[str], object]] = {
    "date": dt.date.fromisoformat, "datetime": dt.datetime.fromisoformat, "time": dt.time.fromisoformat,
}


def _lower_text(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _bool_from_text(value: Any) -> Any:
    return {"1": True, "0": False}.get(value, value) if isinstance(value, str) else value


#: Declared types whose values the driver rewrites in a way undone here, with no cast (which would keep the
#: paging of such a key from its index): psqlODBC writes a uuid in upper case, the server always in lower
#: case; it gives a boolean as the text '1' or '0' (BoolsAsChar, its default), which is read back as the
#: boolean it is (as MariaDB's BIT(1) comes). (An interval comes as the server writes it.)
_UNDONE = {"UUID": _lower_text, "BOOL": _bool_from_text, "BOOLEAN": _bool_from_text}

Converters = dict[str, Callable[[Any], Any]]


def readable_select(
    engine: str, columns: Sequence[tuple[str, str]], stored_bytes: Collection[str] = (), *, listed: bool = False,
    decoded: Mapping[str, str] | None = None,
) -> tuple[str, Converters]:
    """The select list that reads every one of ``columns`` ((name, declared type) pairs, in table order)
    without the driver losing a value, and the conversions to apply to the rows' values (by row key).

    The columns named in ``stored_bytes`` (:attr:`CatalogColumn.byte_charset`: MariaDB/MySQL ``latin1``,
    where legacy Korean EMRs keep CP949 bytes) are read as the bytes the server stores, under their own name
    (:attr:`~emr_exporter.sources.drivers.DriverCaps.stored_bytes_expr`; no conversion: a keyset over such a
    key pages on those bytes, in the query and in its parameter alike). The columns named in ``decoded`` (name →
    :attr:`CatalogColumn.decoded_charset`, MariaDB/MySQL ``euckr``…) are read so too, and decoded after paging
    (:func:`~emr_exporter.sources.drivers.stored_text_decoder`: a value with no exact reading stays bytes).

    ``*`` and none (unless ``listed``: every column by name, for a table whose ``*`` leaves one out), except
    on an engine whose driver corrupts dates and times, for a table that has some
    (:attr:`~emr_exporter.sources.drivers.DriverCaps.temporals_cast_to_text`): there date/time columns are
    read as the server's text and converted by :func:`~emr_exporter.sources.drivers.temporal_from_text` —
    a value Python has no date for (``infinity``, a BC date) stays its text — and a uuid column's text is
    given back in lower case, the server's (psqlODBC writes it in upper case; no cast, so a uuid key still
    pages by its index). Convert *after* paging: a keyset over such a column compares what the query gives."""
    caps = caps_for(engine)
    as_bytes = set(stored_bytes) if caps.stored_bytes_expr is not None else set()
    decode = dict(decoded or {}) if caps.stored_bytes_expr is not None else {}
    exact = dict(caps.exact_casts)
    if (not caps.temporals_cast_to_text and not as_bytes and not decode and not listed
            and not any(d.upper() in caps.large_object_types or d.upper() in exact for _, d in columns)
            and not any(d.upper().split("(")[0].strip() in caps.single_float_types for _, d in columns)):
        return "*", {}
    parts: list[str] = []
    converters: Converters = {}
    cast = listed
    for (name, declared), key in zip(columns, row_keys([n for n, _ in columns]), strict=True):
        quoted = caps.quote(name)
        parse = _TEMPORAL_PARSERS.get(type_family(declared)) if caps.temporals_cast_to_text else None
        if name in as_bytes:
            parts.append(f"{caps.stored_bytes(quoted)} AS {quoted}")
            cast = True
        elif name in decode:
            parts.append(f"{caps.stored_bytes(quoted)} AS {quoted}")
            converters[key] = stored_text_decoder(decode[name])
            cast = True
        elif declared.upper() in caps.large_object_types:
            # the large object's number, as it is stored (psqlODBC reads an ``lo`` column as the object's bytes,
            # which the export carries apart, once)
            parts.append(f"{caps.large_object_ref_expr.format(col=quoted)} AS {quoted}")
            cast = True
        elif declared.upper() in exact:  # a type the driver reads inexactly (PostgreSQL money: a float)
            parts.append(f"{exact[declared.upper()].format(col=quoted)} AS {quoted}")
            cast = True
        elif parse is not None:
            converters[key] = temporal_from_text(parse)
            parts.append(f"{caps.raw_text(quoted)} AS {quoted}")
            cast = True
        else:
            parts.append(quoted)
            base = declared.upper().split("(")[0].strip()
            undo = _UNDONE.get(base) if caps.temporals_cast_to_text else None
            if undo is not None:
                converters[key] = undo
            elif base in caps.single_float_types:  # 36.6, not the float32's 36.599998474121094 (no cast)
                converters[key] = float32_shortest
    return (", ".join(parts) if cast else "*"), converters


#: PostgreSQL's text types as format_type names them (readable_query over a SQL_ASCII database).
_TEXT_TYPES = frozenset({"text", "character varying", "character"})


def readable_query(source: Source, sql: str, compared: Collection[str] | None = None) -> tuple[str, Converters]:
    """``sql`` (a section's own query) wrapped so that the driver loses none of its values, and the
    conversions to apply to its rows' values (by row key) *after* paging — :func:`readable_select` over the
    query's result columns, whose types the source finds without reading a row (``result_columns``).

    With ``compared`` (the names of the result columns the caller compares as the server's text: keys and
    references), every other result column in a multi-byte legacy character set (MariaDB ``euckr``: found by
    the source's ``result_charsets``) is read as its stored bytes and decoded here
    (:func:`~emr_exporter.sources.drivers.stored_text_decoder`), so a user-defined character is not given as '?'.

    ``sql`` itself and none on an engine whose driver loses nothing (and nothing to decode), or where the
    query's result has two columns of one name (they could not be selected one by one): those are read as
    the driver gives them."""
    caps = caps_for(source.engine)
    describe = getattr(source, "result_columns", None)
    charsets = getattr(source, "result_charsets", None)
    decoding = (compared is not None and charsets is not None and caps.stored_bytes_expr is not None
                and caps.result_charset_expr is not None)
    if describe is None or (not decoding and not caps.single_float_types
                            and (not caps.temporals_cast_to_text or caps.result_type_expr is None)):
        return sql, {}
    columns: list[tuple[str, str]] = describe(sql)
    names = [name for name, _ in columns]
    if len(set(names)) != len(names):
        log.warning("a query has two result columns of one name: its dates and times are read as the driver "
                    "gives them")
        return sql, {}
    # PostgreSQL SQL_ASCII (legacy CP949 bytes): every text column as its stored bytes, the connector's
    # encoding decodes them (a text field) or the bag carries them (raw), as for MariaDB latin1.
    as_bytes = _read_as_bytes(source, columns)
    decode: dict[str, str] = {}
    if decoding and compared is not None and charsets is not None:
        kept = {name.lower() for name in compared}
        decode = {name: charset for name, charset in zip(names, charsets(sql, names), strict=True)
                  if charset in DECODED_CHARSETS and name.lower() not in kept}
    select, converters = readable_select(source.engine, columns, stored_bytes=as_bytes, decoded=decode)
    if select == "*":
        return sql, converters
    return f"SELECT {select} FROM ({sql.strip().rstrip(';')}) AS readable_src", converters


def _read_as_bytes(source: Source, columns: Sequence[tuple[str, str]]) -> list[str]:
    """The ``columns`` :func:`readable_query` reads as their stored bytes whatever else: every text column of a
    source that gives text as stored (PostgreSQL SQL_ASCII), else none."""
    return [name for name, declared in columns if declared.split("(")[0].strip() in _TEXT_TYPES] \
        if getattr(source, "text_as_stored_bytes", False) else []


def readable_expression(source: Source, sql: str, column: str) -> str | None:
    """The expression :func:`readable_query` (``column`` among its ``compared``) reads result column ``column`` of
    ``sql`` with — naming the column as the engine quotes it, so that it can be selected over ``sql`` as a
    derived table — or None where it reads the column as it is. A keyset over rows of ``sql`` whose pages are
    then read through that query compares and orders by this expression, as the pages' reader sees the key
    (PostgreSQL SQL_ASCII: the stored bytes of a text key, not its text; a date key: the server's text)."""
    describe = getattr(source, "result_columns", None)
    if describe is None or readable_query(source, sql, [column])[0] == sql:
        return None
    found = [(name, declared) for name, declared in describe(sql) if name.lower() == column.lower()]
    if len(found) != 1:
        return None
    select, _ = readable_select(source.engine, found, stored_bytes=_read_as_bytes(source, found))
    quoted = caps_for(source.engine).quote(found[0][0])
    if select in ("*", quoted):
        return None
    assert select.endswith(f" AS {quoted}"), select
    return select[: -len(f" AS {quoted}")]


def convert_row(row: dict[str, Any], converters: Converters) -> dict[str, Any]:
    """``row`` with ``converters`` (of :func:`readable_select` / :func:`readable_query`) applied, in place."""
    for key, convert in converters.items():
        if key in row:
            row[key] = convert(row[key])
    return row


def no_snapshot_tables(source: Source) -> list[tuple[str, str]]:
    """(table, storage engine) of the connected database's tables that no transaction holds still (MariaDB/MySQL
    MyISAM, Aria…: :attr:`~emr_exporter.sources.drivers.DriverCaps.no_snapshot_tables_query`), by name."""
    query = caps_for(source.engine).no_snapshot_tables_query
    if query is None:
        return []
    return [(str(row["table_name"]), str(row["engine"])) for row in source.rows(query)]


def no_snapshot_warning(tables: Sequence[tuple[str, str]]) -> str:
    """What to do about ``tables`` (:func:`no_snapshot_tables`): names and engines only, never a value."""
    engines = sorted({engine for _, engine in tables})
    names = [name for name, _ in tables]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return (f"{len(names)} table(s) are kept by a storage engine without transactions ({', '.join(engines)}: "
            f"{shown}): the export cannot read them as of one moment. Close the EMR program on every PC while "
            "exporting; a change made meanwhile stops the export only where it changes a table's row count.")


def list_tables(source: Source) -> list[CatalogTable]:
    """Every user table and view, sorted by name (case-insensitively, then exactly)."""
    found = _sqlite_tables(getattr(source, "conn", None)) if source.engine == "sqlite" else _odbc_tables(source)
    return sorted(found, key=lambda t: (t.name.lower(), t.name))


#: ``CREATE VIRTUAL TABLE name USING module(...)``: the module's name.
_VIRTUAL = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\b.*?\bUSING\s+([A-Za-z0-9_]+)", re.IGNORECASE | re.DOTALL)


def _sqlite_tables(conn: Any) -> list[CatalogTable]:
    import sqlite3

    found = []
    # the main file's tables, then those of each file attached to it ([source] attach): "rec.prescriptions"
    schemas = [str(r[1]) for r in conn.execute("PRAGMA database_list").fetchall() if r[1] not in ("main", "temp")]
    entries = [("", *entry) for entry in conn.execute(
        "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
    ).fetchall()]
    for schema in schemas:
        entries += [(schema, *entry) for entry in conn.execute(
            f'SELECT name, type, sql FROM "{schema}".sqlite_master '
            "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'").fetchall()]
    indexed = _sqlite_indexed(conn)
    for schema, name, kind, sql in entries:
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        prefix, quoted = (f'"{schema}".' if schema else ""), '"' + name.replace('"', '""') + '"'
        virtual = _VIRTUAL.match(sql if isinstance(sql, str) else "")
        try:
            # table_xinfo, not table_info: a generated column (hidden 2 virtual, 3 stored) is in every
            # SELECT * but not in table_info; hidden 1 is a virtual table's hidden column, which * leaves out.
            columns = tuple(
                CatalogColumn(name=str(r[1]), type=str(r[2] or "").upper(), primary_key=bool(r[5]),
                              indexed=not schema and (name, str(r[1])) in indexed)
                for r in conn.execute(f"PRAGMA {prefix}table_xinfo({quoted})") if r[6] != 1
            )
        except sqlite3.Error:
            # A virtual table of a module this program does not have (an EMR's own extension): "no such
            # module"; a view over a table or column an upgrade dropped: "no such table". Its columns are not
            # known; it is listed, never read (a view holds no rows of its own).
            if not virtual and kind != "view":
                raise
            columns = ()
        listed = f"{schema}.{name}" if schema else name
        if virtual:  # FTS, R-tree, an extension's: rows kept in its shadow tables (listed, carried) or elsewhere
            found.append(CatalogTable(name=listed, kind="virtual", columns=columns, module=virtual.group(1).lower(),
                                      schema=schema))
        else:
            found.append(CatalogTable(name=listed, kind=kind, columns=columns, schema=schema))
    return found


def _sqlite_indexed(conn: Any) -> set[tuple[str, str]]:
    """(table, column) of the main file's columns that lead an index (``indexed_columns_query``)."""
    import sqlite3

    query = caps_for("sqlite").indexed_columns_query
    try:  # (a table-valued pragma: SQLite 3.16; a table of a module this program lacks makes it fail)
        return {(str(t), str(c)) for _s, t, c in conn.execute(query).fetchall()} if query else set()
    except sqlite3.Error:
        return set()


def _odbc_tables(source: Source) -> list[CatalogTable]:
    """The catalogue of an ODBC source (an :class:`~emr_exporter.sources.odbc.OdbcSource`): every driver call made
    and its whole answer fetched through the source's waiter (``catalog_reader``), as its queries are, so that Stop,
    Back or Ctrl-C end a catalogue read within seconds and a server that stops answering in one is noticed."""
    import pyodbc

    odbc: Any = source
    # MariaDB/MySQL: without a catalog, SQLTables also lists other databases' tables on the server.
    catalog = odbc.database_name() if source.engine in ("mariadb", "mysql") else None
    byte_charsets_query = caps_for(source.engine).byte_charsets_query
    decoded_charsets_query = caps_for(source.engine).decoded_charsets_query
    hidden_columns_query = caps_for(source.engine).hidden_columns_query
    inheritance_query = caps_for(source.engine).inheritance_query
    row_security_query = caps_for(source.engine).row_security_query
    large_object_types = caps_for(source.engine).large_object_types
    column_types_query = caps_for(source.engine).column_types_query
    indexed_columns_query = caps_for(source.engine).indexed_columns_query
    collations_query = caps_for(source.engine).collations_query
    columns_pragma = caps_for(source.engine).columns_pragma
    found = []
    names: dict[tuple[str, str], str] = {}  # (schema, table) as the catalogue has them → the listed name
    links: list[tuple[str, str, str, str, int]] = []
    with odbc.catalog_reader() as read:
        def rows_of(sql: str | None) -> list[Any]:
            return [] if sql is None else read(lambda cursor: cursor.execute(sql).fetchall())

        # Once for the whole database: the columns the server converts from a single-byte character set.
        byte_charsets = {(str(t), str(c)): str(cs).lower() for t, c, cs in rows_of(byte_charsets_query)}
        # and those it converts from a multi-byte legacy one (euckr), '?' for a character Unicode lacks
        decoded_charsets = {(str(t), str(c)): str(cs).lower() for t, c, cs in rows_of(decoded_charsets_query)}
        # (schema, table, column) → the type its values are read as (a PostgreSQL domain's base type …)
        bases = {(str(s), str(t), str(c)): str(b or "") for s, t, c, b in rows_of(column_types_query)}
        filtered = {(str(s), str(t)) for s, t in rows_of(row_security_query)}
        hidden = {(str(t), str(c)) for t, c in rows_of(hidden_columns_query)}
        # (schema, table, column) leading an index ('' for the schema: MariaDB, SQLite)
        indexed = {(str(s or ""), str(t), str(c)) for s, t, c in rows_of(indexed_columns_query)}
        collations = {(str(s or ""), str(t), str(c)): str(co) for s, t, c, co in rows_of(collations_query)}
        entries = [
            (row.table_schem or "", row.table_name, (row.table_type or "").upper())
            for row in read(lambda cursor: cursor.tables(catalog=catalog or None))
            if (row.table_type or "").upper() in ("TABLE", "VIEW", "BASE TABLE", *MATERIALIZED_VIEW_TYPES)
            and (row.table_schem or "").lower() not in SYSTEM_SCHEMAS
        ]
        for schema, table, kind in sorted(set(entries)):
            scope = {"catalog": catalog or None, "schema": schema or None}
            # Only this table's rows: MariaDB's driver matches the name case-insensitively, so on a case-
            # sensitive server PT_MASTER's columns came with pt_master's (and "_" matches any character).
            columns = [(row.column_name, (row.type_name or "").upper())
                       for row in read(lambda cursor, t=table, s=scope: cursor.columns(table=t, **s))
                       if row.table_name == table]
            if columns_pragma is not None:
                columns = _pragma_columns(read, columns_pragma, table, columns, source.engine)
            try:
                keys = {row.column_name
                        for row in read(lambda cursor, t=table, s=scope: cursor.primaryKeys(table=t, **s))
                        if row.table_name == table}
            except pyodbc.Error:  # not every driver answers SQLPrimaryKeys (views never have one)
                keys = set()
            name = table if schema.lower() in default_schemas(source.engine) or source.engine in ("mariadb", "mysql") \
                else f"{schema}.{table}"
            names[(schema, table)] = name
            found.append(CatalogTable(
                name=name, kind="view" if kind in ("VIEW", *MATERIALIZED_VIEW_TYPES) else "table",
                columns=tuple(CatalogColumn(n, t, n in keys, byte_charsets.get((table, n), ""),
                                            decoded_charsets.get((table, n), ""),
                                            (table, n) in hidden, t in large_object_types,
                                            bases.get((schema, table, n), ""),
                                            (schema, table, n) in indexed or ("", table, n) in indexed,
                                            collations.get((schema, table, n), collations.get(("", table, n), "")))
                              for n, t in columns),
                schema="" if name == table else schema,
                row_security=(schema, table) in filtered,
            ))
        if found:
            links = [(str(cs), str(ct), str(ps), str(pt), int(p)) for cs, ct, ps, pt, p in rows_of(inheritance_query)]
    return _with_inheritance(found, names, links) if links else found


def _pragma_columns(read: Callable[[Callable[[Any], Any]], list[Any]], pragma: str, table: str,
                    listed: list[tuple[str, str]], engine: str) -> list[tuple[str, str]]:
    """A table's columns in ``SELECT *``'s order as ``pragma`` (``DriverCaps.columns_pragma``) lists them, each
    with the type SQLColumns gave it, or its declared type when SQLColumns left it out (a generated column).
    A hidden column (``hidden`` 1: a virtual table's) is left out, as ``SELECT *`` leaves it; a table the
    pragma cannot describe (a view over a dropped table, a module this driver lacks) keeps ``listed``. ``read``:
    the source's catalogue reader (:func:`_odbc_tables`)."""
    import pyodbc

    types = {name: kind for name, kind in listed}
    try:
        rows = read(lambda cursor: cursor.execute(pragma.format(table=caps_for(engine).quote(table))).fetchall())
    except pyodbc.Error:
        return listed
    found = [(str(r[1]), types.get(str(r[1]), str(r[2] or "").upper())) for r in rows if int(r[6] or 0) != 1]
    return found or listed


def _with_inheritance(found: list[CatalogTable], names: dict[tuple[str, str], str],
                      links: list[tuple[str, str, str, str, int]]) -> list[CatalogTable]:
    """``found`` with PostgreSQL's inheritance links (``inheritance_query`` rows) between listed tables: each
    partition marked as part of the partitioned table at the top of its tree, each partitioned table with its
    partitions, each other parent with its children and each child with its parents. A link to a table that is
    not listed (a foreign table) is left out: the listed table is then read as before, with its rows."""
    partition_of: dict[str, str] = {}
    inherits: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for child_schema, child_table, parent_schema, parent_table, partition in links:
        child, parent = names.get((child_schema, child_table)), names.get((parent_schema, parent_table))
        if child is None or parent is None:
            continue
        if partition:
            partition_of[child] = parent
        else:
            inherits.setdefault(child, []).append(parent)
            children.setdefault(parent, []).append(child)

    def top(name: str) -> str:
        seen = {name}
        while name in partition_of and partition_of[name] not in seen:
            name = partition_of[name]
            seen.add(name)
        return name

    partitions: dict[str, list[str]] = {}
    for child in partition_of:
        partitions.setdefault(top(child), []).append(child)

    def by_name(listed: list[str]) -> tuple[str, ...]:
        return tuple(sorted(listed, key=lambda n: (n.lower(), n)))

    return [replace(t, kind="partition" if t.name in partition_of else t.kind,
                    part_of=top(t.name) if t.name in partition_of else "",
                    partitions=by_name(partitions.get(t.name, [])), inherits=by_name(inherits.get(t.name, [])),
                    children=by_name(children.get(t.name, [])))
            for t in found]


__all__ = [
    "CatalogColumn",
    "CatalogTable",
    "convert_row",
    "from_name",
    "list_tables",
    "no_snapshot_tables",
    "no_snapshot_warning",
    "quoted_column",
    "quoted_name",
    "readable_query",
    "readable_select",
]
