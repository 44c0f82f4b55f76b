"""Per-driver capabilities, in one place.

Connectors and the source layer never hard-code an engine's SQL dialect or a driver's quirks; they ask
:func:`caps_for` (or :func:`detect_engine` on a live connection) and build their SQL with the helpers
here. What was measured on this project's CI (see ``docs/databases.md``):

* psqlODBC, MariaDB Connector/ODBC 3.1.15 and sqliteodbc all **materialise the whole result set** in
  the client on ``execute()`` by default (170–340 MiB for 10⁶ rows). psqlODBC streams with
  ``UseDeclareFetch=1;Fetch=N`` in the connection string; for the others only **keyset pagination**
  (``WHERE key > ? ORDER BY key`` + a row limit) keeps memory flat. Keyset paging is also what makes an
  export resumable from a checkpoint, so the source layer uses it for every engine.
* MariaDB returns ``0000-00-00`` dates as ``None`` without a warning (and pyodbc fails on a zero month or a
  TIME past 23:59:59), so its dates and times are fetched as text and converted here: a value Python has no
  date for is kept as its text (:func:`temporal_from_text`). MariaDB's text protocol (a validated integer
  key inlined as a literal) is ~30 % faster than a ``?`` parameter (binary protocol).
* SQL Server ``varchar`` columns come back converted by the *server's* collation; Korean text in a
  non-Korean collation needs ``CAST(col AS NVARCHAR(...))`` or the raw bytes (``VARBINARY``).

Connection-string helpers (parse, build, merge a password, redact) live here too, because every module
that touches a connection string needs the same rules: ``KEY=value;`` pairs, values in ``{...}`` may
contain ``;`` and escape ``}`` as ``}}``. A password is merged in memory only and is scrubbed from every
text that may reach a person (:func:`redact_connection_string`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from emr_exporter import codepage
from emr_exporter.errors import ConfigError, SourceQueryError

Engine = Literal["sqlite", "sqlite-odbc", "mariadb", "postgresql", "mssql", "firebird"]
Paging = Literal["limit", "top", "offset-fetch", "first"]
Streaming = Literal["cursor", "declare-fetch", "keyset"]

ENGINES: tuple[str, ...] = ("sqlite", "sqlite-odbc", "mariadb", "postgresql", "mssql", "firebird")


def _quote_with(open_char: str, close_char: str) -> Callable[[str], str]:
    def quote(identifier: str) -> str:
        if not identifier or "\x00" in identifier:
            raise ConfigError(f"Not a valid table or column name: {identifier!r}.")
        return open_char + identifier.replace(close_char, close_char * 2) + close_char

    return quote


@dataclass(frozen=True)
class DriverCaps:
    """What one database engine (through its usual driver) can do and needs."""

    engine: str
    #: Human name for messages and ``doctor``.
    display_name: str
    #: Quote one identifier (table or column name), escaping the closing quote character.
    quote: Callable[[str], str] = field(repr=False, compare=False)
    #: Row-limit syntax: ``LIMIT n`` / ``SELECT TOP n`` / ``OFFSET 0 ROWS FETCH NEXT n ROWS ONLY`` /
    #: ``SELECT FIRST n``.
    paging: Paging
    #: How to read a big table with flat memory: a plain cursor (stdlib sqlite3 steps lazily),
    #: a server-side cursor switched on in the connection string, or keyset pages.
    streaming: Streaming
    #: True when the driver pulls the whole result of one ``execute()`` into client memory.
    buffers_whole_result: bool
    #: Connection-string options that make the driver stream (``{Fetch}`` is replaced by the page size).
    streaming_options: tuple[tuple[str, str], ...] = ()
    #: Inline a validated integer keyset value as a literal instead of a ``?`` (faster protocol).
    inline_integer_keys: bool = False
    #: The driver returns invalid "zero" dates (``0000-00-00``) as None: read such columns raw.
    zero_dates_as_none: bool = False
    #: Fetch DATE/TIME/DATETIME values as the text the server sends and convert them in Python
    #: (:func:`temporal_from_text`): the driver's own conversion turns ``0000-00-00`` into None and fails the
    #: whole query on a zero month (``2019-00-10``) or a TIME beyond 23:59:59 (``-838:59:59``); a value that
    #: is no valid date or time is kept as its text, so no cell is lost or blanked.
    temporals_as_text: bool = False
    #: The driver's own date/time conversion loses values and cannot be bypassed from pyodbc (psqlODBC:
    #: ``infinity`` becomes 9999-12-31 or today's date, a BC date an AD one, year 10000 *today's* date,
    #: 24:00:00 fails the query, a timestamptz loses its offset; it also writes a uuid in upper case): date/time
    #: columns are selected with :attr:`raw_text_expr` and converted as :func:`temporal_from_text` does (a
    #: uuid given back in lower case) — for a table read from the catalogue (carried tables, the scaffold's
    #: samples) and for a section's own query, whose result types :attr:`result_type_expr` finds
    #: (:func:`~emr_exporter.sources.catalog.readable_query`).
    temporals_cast_to_text: bool = False
    #: SQL expression template giving the type name of a query's result column ``{col}`` on a row of NULLs
    #: (a domain as its base type): how :func:`~emr_exporter.sources.catalog.readable_query` learns the types
    #: of a section's own query without reading one of its rows, where :attr:`temporals_cast_to_text`.
    result_type_expr: str | None = None
    #: SQL expression template that reads a column's value as text, so a zero date keeps its raw value.
    raw_text_expr: str = "{col}"
    #: Declared types (upper case, as the catalogue or :attr:`result_type_expr` names them) the driver reads
    #: inexactly, with the expression template that reads them exactly (psqlODBC gives a PostgreSQL ``money``
    #: as a float: 92233720368547758.07 came as 9.223372036854776e+16, 2000.10 as 2000.1; as ``numeric`` it is
    #: the Decimal it stores, whatever the server's lc_monetary writes around it).
    exact_casts: tuple[tuple[str, str], ...] = ()
    #: SQL expression template that reads a (possibly non-Unicode) text column as Unicode text.
    unicode_text_expr: str = "{col}"
    #: SQL expression template that reads a text column's value as the bytes the server stores, not converted
    #: to the connection's character set; None where the engine has no such column (see
    #: :attr:`byte_charsets_query`).
    stored_bytes_expr: str | None = None
    #: A query listing (table, column, character set) of the connected database's columns whose declared
    #: character set is a single-byte one the server converts on the way out (MariaDB/MySQL ``latin1``: legacy
    #: Korean EMRs keep CP949 bytes there, which come out as '±èÈ¯ÀÚ'): a carried table reads those columns
    #: with :attr:`stored_bytes_expr` (:func:`~emr_exporter.sources.catalog.list_tables`).
    byte_charsets_query: str | None = None
    #: A query listing (table, column, character set) of the connected database's columns in a multi-byte
    #: legacy character set (MariaDB/MySQL ``euckr``, ``sjis``…; see :data:`DECODED_CHARSETS`) that the server
    #: converts on the way out, writing '?' for a stored character that has no Unicode one (a user-defined
    #: EUC-KR character, 외자, of KS X 1001's rows 0xC9 and 0xFE): such a column is read as its stored bytes
    #: (:attr:`stored_bytes_expr`) and decoded here; a value with no exact reading is kept as its bytes.
    decoded_charsets_query: str | None = None
    #: SQL expression template giving the character set of a query's result column ``{col}`` on a row of NULLs
    #: (MariaDB ``CHARSET``): how a section's own query finds its columns in :data:`DECODED_CHARSETS`.
    result_charset_expr: str | None = None
    #: Declared column types (upper case, as the catalogue or :attr:`result_type_expr` names them; "FLOAT" also
    #: for a query's result column the driver describes as a 7-digit float) of single-precision floats: the
    #: driver gives the stored float32 as the double it is (36.6 as 36.599998474121094, which the EMR never
    #: showed); they are read as the shortest decimal that is the same float32 (:func:`float32_shortest`).
    single_float_types: frozenset[str] = frozenset()
    #: A query listing (table, storage engine) of the connected database's tables kept by a storage engine
    #: without transactions (MariaDB/MySQL MyISAM, Aria, MEMORY…), which the snapshot does not hold still:
    #: the export warns, and ``connector check`` says to close the EMR program while exporting.
    no_snapshot_tables_query: str | None = None
    #: A query listing (table, column) of the connected database's columns that ``SELECT *`` leaves out
    #: although they hold values (MariaDB/MySQL ``INVISIBLE``): a table with one is read by its column list.
    hidden_columns_query: str | None = None
    #: A statement listing a table's columns as ``SELECT *`` returns them, in its order, when the driver's
    #: SQLColumns leaves some out (``{table}``: the quoted name; rows as SQLite's ``PRAGMA table_xinfo``: cid,
    #: name, type, notnull, default, pk, hidden). sqliteodbc answers SQLColumns from ``PRAGMA table_info``,
    #: which omits generated columns (virtual and stored) that every row read holds.
    columns_pragma: str | None = None
    #: A query answering whether the account may read the table ``{name}`` (a string literal of its quoted
    #: name), on an engine where a refused statement spoils the transaction (PostgreSQL): a skipped table the
    #: account may not read is listed without a count instead of stopping the export.
    select_privilege_sql: str | None = None
    #: A query answering 1 where the connected database keeps text as bytes it never checked (PostgreSQL
    #: ``SQL_ASCII``, where legacy Korean installations kept CP949 bytes, which the server refuses to hand a
    #: UTF-8 client: SQLSTATE 22021): its text columns are then read as their stored bytes
    #: (:attr:`stored_bytes_expr`), in carried tables (:attr:`byte_charsets_query`) and sections alike.
    text_as_bytes_query: str | None = None
    #: A query listing every inheritance link between the connected database's tables, as rows (child schema,
    #: child table, parent schema, parent table, 1 where the parent is a partitioned table and the child one of
    #: its partitions, else 0); None where the engine has none (MariaDB's partitions are one table to a client).
    #: PostgreSQL's ``SELECT * FROM parent`` reads its children's rows too, and its driver lists a partitioned
    #: table and each of its partitions as a TABLE alike: :func:`~emr_exporter.sources.catalog.list_tables`
    #: tells them apart, so that every row is read once.
    inheritance_query: str | None = None
    #: A query listing (schema, table) for the connected database's tables whose rows row-level security
    #: filters for this account (PostgreSQL ``ENABLE ROW LEVEL SECURITY`` with its policies, applied to every
    #: role but a superuser, one with BYPASSRLS, and the owner of a table that does not FORCE it): a
    #: ``SELECT`` there gives only the rows the policies show this account, and no error says that others
    #: exist. None where the engine has none.
    row_security_query: str | None = None
    #: A query listing (schema, table, column, type) for the connected database's columns whose declared type
    #: the driver names by a name of the database's own that says nothing of how its values are read: a
    #: PostgreSQL domain, by its base type (psqlODBC names a domain over date ``DOB``, so its 'infinity' was
    #: read as today's date, and a domain over text named ``YMD_DATE`` was parsed as a date: '19800101' came
    #: back as 1980-01-01); an enum as ``ENUM`` and a composite type as ``COMPOSITE`` (read as the text the
    #: server writes, never parsed, never sorted by). :attr:`CatalogColumn.base`.
    column_types_query: str | None = None
    #: A query listing (schema, table, column) for every column of the connected database's tables that is the
    #: first column of an index an ``=`` can search (a PRIMARY KEY, a UNIQUE constraint, a plain index; not a
    #: partial, expression, full-text or spatial one, nor one of another collation than its column's):
    #: :attr:`CatalogColumn.indexed`. A reference to a parent key that is not one is counted by a join of the
    #: parent grouped once, never searched per child row (``ExportRun._joined_sql``). None: none is known.
    indexed_columns_query: str | None = None
    #: A query listing (schema, table, column, collation) for the connected database's columns of a collation
    #: (text): :attr:`CatalogColumn.collation`. Two columns of one type but another collation (MariaDB ``euckr``
    #: beside ``utf8mb4``, ``_bin`` beside ``_ci``) are compared in one of them, which may leave the other's
    #: index unused.
    collations_query: str | None = None
    #: Declared column types (upper case; as :attr:`CatalogColumn.read_type` names them) the engine cannot sort
    #: by: a keyless table's ordered pass and the scaffold's samples leave them out of their ORDER BY. An array
    #: of one (PostgreSQL ``_JSON``) is one too.
    unsortable_types: tuple[str, ...] = ()
    #: Declared column types (upper case, as the catalogue or :attr:`result_type_expr` names them) whose values
    #: are the numbers of *large objects*: PostgreSQL keeps their bytes in ``pg_largeobject``, apart from every
    #: table (Hibernate's ``@Lob byte[]``: an ``oid`` column; the contrib ``lo`` domain). Such a column is read
    #: as the number it holds (:attr:`large_object_ref_expr`; psqlODBC reads an ``lo`` column as the object's
    #: bytes instead) and marked in the inventory; the objects themselves are carried once, as the
    #: :data:`LARGE_OBJECTS` entry (see "Large objects" in docs/databases.md).
    large_object_types: frozenset[str] = frozenset()
    #: How a large-object column is read as the number it holds.
    large_object_ref_expr: str = "{col}"
    #: A query counting the database's large objects; None where the engine has none.
    large_objects_count_sql: str | None = None
    #: The large objects as rows (oid, data: the first ``{piece}`` bytes of each), without LIMIT: ``{where}``
    #: is "" on the first keyset page, else the predicate on the last oid read (:func:`large_objects_page_sql`).
    large_objects_sql: str | None = None
    #: The ``{piece}`` bytes of a large object (its oid, then the offset, as parameters) from an offset on: a
    #: large object is read in pieces (:data:`LARGE_OBJECT_PIECE`), never whole (psqlODBC held ~6 times a 50 MB
    #: object's size to hand it over in one value).
    large_object_piece_sql: str | None = None
    #: A query counting the large objects this account may not read (``lo_get`` needs SELECT on each).
    large_objects_unreadable_sql: str | None = None
    #: Column type to store raw bytes (CP949 text that must decode exactly) when loading a demo copy.
    binary_type: str = "BLOB"
    #: Statement that makes the session read-only, where the engine has one (run right after connect).
    read_only_statement: str | None = None
    #: Statements that give a whole export one consistent snapshot, run in order right after connecting
    #: with autocommit switched off (one transaction for the life of the connection); the last one reads,
    #: so the snapshot is taken before the first count. Empty: the engine has no snapshot here (each query
    #: then sees the database as it is at that moment). See "Consistent reads" in docs/databases.md.
    snapshot_statements: tuple[str, ...] = ()
    #: A query answering 1 when the database allows the snapshot (SQL Server: ALLOW_SNAPSHOT_ISOLATION is
    #: ON); anything else means: no snapshot, fall back to one statement at a time. None: always allowed.
    snapshot_precondition: str | None = None
    #: A query answering this connection's session id on the server (see :attr:`session_state_sql`).
    session_id_query: str | None = None
    #: Asked over a second connection about a query that has had no answer for a while (docs/databases.md,
    #: "A server that stops answering"): one row (what the session does, what it waits for) for the session id
    #: bound as ``?``, no row when the server no longer knows the session. None: the engine is not asked, and a
    #: query waits as long as its driver lets it.
    session_state_sql: str | None = None
    #: pyodbc 5 only uses the ODBC "W" (UTF-16) API; False where the usual Linux driver breaks on it.
    unicode_api: bool = True
    #: Encoding for text *parameters* (``connection.setencoding(encoding=...)``); None = pyodbc default
    #: (UTF-16). MariaDB Connector/ODBC 3.1.15 fails on some UTF-16 parameters of >= 128 characters
    #: (HY001 "Memory allocation error" in SQLPutData); UTF-8 works.
    text_parameter_encoding: str | None = None
    #: Encoding to fetch text results in (``connection.setdecoding(SQL_CHAR/SQL_WCHAR, ...)``); None =
    #: pyodbc default. MariaDB Connector/ODBC 3.1.15 silently drops the last characters of multi-byte
    #: (Korean) text in long-text columns when fetched as UTF-16; fetched as UTF-8 the text is whole.
    text_result_encoding: str | None = None
    #: Notes for ``doctor`` and ``docs/databases.md``.
    notes: str = ""

    def quote_qualified(self, name: str) -> str:
        """Quote a possibly schema-qualified name (``dbo.patients`` → ``[dbo].[patients]``)."""
        return ".".join(self.quote(part) for part in name.split("."))

    def raw_text(self, column: str) -> str:
        return self.raw_text_expr.format(col=column)

    def stored_bytes(self, column: str) -> str:
        """``column`` read as its stored bytes (only where :attr:`stored_bytes_expr` is set)."""
        return (self.stored_bytes_expr or "{col}").format(col=column)

    def unicode_text(self, column: str) -> str:
        return self.unicode_text_expr.format(col=column)


#: MariaDB/MySQL multi-byte legacy character sets → the Python codec that reads their stored bytes
#: (:attr:`DriverCaps.decoded_charsets_query`). MariaDB's ``euckr`` keeps CP949's extension (똠) as well.
DECODED_CHARSETS: dict[str, str] = {
    "big5": "big5", "cp932": "cp932", "euckr": "cp949", "gb2312": "gb2312", "gbk": "gbk", "sjis": "shift_jis",
    "ujis": "euc_jp",
}


def float32_shortest(value: Any) -> Any:
    """A single-precision float's value (given as the double it is exactly: 36.599998474121094) as the shortest
    decimal that is the same float32 (36.6): what the EMR showed, and read back into a FLOAT column it is the
    very value stored. Anything else (not a float, not a float32 value, NaN, infinities) as it is."""
    if type(value) is not float or not math.isfinite(value) or _as_float32(value) != value:
        return value
    for digits in range(1, 10):  # 9 significant digits tell every float32 apart
        shortest = float(f"{value:.{digits}g}")
        if _as_float32(shortest) == value:
            return shortest
    return value


def _as_float32(value: float) -> float:
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:  # beyond float32's range
        return math.nan


def stored_text_decoder(charset: str) -> Callable[[Any], Any]:
    """The conversion of a value read as its stored bytes in ``charset`` (a :data:`DECODED_CHARSETS` key): its
    text where the bytes read back exactly — in ``euckr``, a user-defined character (which the server gives as
    '?') as its private-use code point (:func:`emr_exporter.codepage.decode`, as a text field of a connector
    whose ``[source] encoding`` is cp949 reads it) — else the bytes themselves. Anything but bytes is given back
    as it is."""
    codec = DECODED_CHARSETS[charset]

    def decode(value: Any) -> Any:
        if not isinstance(value, bytes | bytearray | memoryview):
            return value
        raw = bytes(value)
        try:
            text = codepage.decode(raw, codec)
        except UnicodeDecodeError:
            return raw
        return text if codepage.encode(text, codec) == raw else raw

    return decode


#: SQLite (the file, and sqliteodbc): the first column of each index of the main file's tables as
#: ``PRAGMA index_xinfo`` gives it (binary collation, a whole index), and a rowid table's INTEGER PRIMARY KEY (the
#: rowid itself, in no index_list).
SQLITE_INDEXED_COLUMNS = (
    "SELECT '', m.name, x.name FROM sqlite_master AS m, pragma_index_list(m.name) AS l, "
    "pragma_index_xinfo(l.name) AS x WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%' "
    "AND l.partial = 0 AND x.seqno = 0 AND x.key = 1 AND x.name IS NOT NULL AND x.coll = 'BINARY' "
    "UNION SELECT '', m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c "
    "WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%' AND m.sql NOT LIKE '%WITHOUT ROWID%' "
    "AND c.pk = 1 AND upper(c.type) = 'INTEGER' "
    "AND (SELECT COUNT(*) FROM pragma_table_info(m.name) AS o WHERE o.pk > 0) = 1"
)

_CAPS: dict[str, DriverCaps] = {
    "sqlite": DriverCaps(
        engine="sqlite",
        display_name="SQLite file (Python sqlite3)",
        quote=_quote_with('"', '"'),
        paging="limit",
        streaming="cursor",
        buffers_whole_result=False,
        raw_text_expr="CAST({col} AS TEXT)",
        read_only_statement="PRAGMA query_only = 1",
        # A deferred BEGIN takes its read lock (and WAL snapshot) at the first read, hence the count.
        snapshot_statements=("BEGIN DEFERRED", "SELECT count(*) FROM sqlite_master"),
        indexed_columns_query=SQLITE_INDEXED_COLUMNS,
        notes="Opened read-only (URI mode=ro); the stdlib cursor steps lazily.",
    ),
    "sqlite-odbc": DriverCaps(
        engine="sqlite-odbc",
        display_name="SQLite over ODBC (sqliteodbc)",
        quote=_quote_with('"', '"'),
        paging="limit",
        streaming="keyset",
        buffers_whole_result=True,
        raw_text_expr="CAST({col} AS TEXT)",
        read_only_statement="PRAGMA query_only = 1",
        # sqliteodbc opens a transaction before the first statement once autocommit is off.
        snapshot_statements=("SELECT count(*) FROM sqlite_master",),
        columns_pragma="PRAGMA table_xinfo({table})",
        indexed_columns_query=SQLITE_INDEXED_COLUMNS,
        notes="sqliteodbc materialises each result; read in keyset pages. NoCreat=1 avoids creating "
        "an empty file when the path is wrong.",
    ),
    "mariadb": DriverCaps(
        engine="mariadb",
        display_name="MariaDB / MySQL",
        quote=_quote_with("`", "`"),
        paging="limit",
        streaming="keyset",
        buffers_whole_result=True,
        inline_integer_keys=True,
        zero_dates_as_none=True,
        temporals_as_text=True,
        raw_text_expr="CAST({col} AS CHAR)",
        stored_bytes_expr="CAST({col} AS BINARY)",
        # Every single-byte character set but binary (BINARY/BLOB columns have none): latin1, and latin2,
        # cp1251, ascii… which the server converts to the connection's UTF-8 as well (lossily for a byte the
        # set does not define: '?').
        byte_charsets_query=(
            "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.CHARACTER_SET_NAME FROM information_schema.COLUMNS AS c "
            "JOIN information_schema.CHARACTER_SETS AS s ON s.CHARACTER_SET_NAME = c.CHARACTER_SET_NAME "
            "WHERE c.TABLE_SCHEMA = DATABASE() AND s.MAXLEN = 1 AND c.CHARACTER_SET_NAME <> 'binary'"
        ),
        decoded_charsets_query=(
            "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IN ("
            + ", ".join(f"'{name}'" for name in sorted(DECODED_CHARSETS)) + ")"
        ),
        result_charset_expr="CHARSET({col})",
        single_float_types=frozenset({"FLOAT"}),
        no_snapshot_tables_query=(
            "SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' AND ENGINE IS NOT NULL "
            "AND UPPER(ENGINE) NOT IN ('INNODB', 'XTRADB', 'ROCKSDB', 'TOKUDB') ORDER BY TABLE_NAME"
        ),
        hidden_columns_query=(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND EXTRA LIKE '%INVISIBLE%'"
        ),
        # (no schema: a MariaDB table is named by its database's name only, as byte_charsets_query's)
        indexed_columns_query=(
            "SELECT '', TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND SEQ_IN_INDEX = 1 AND INDEX_TYPE IN ('BTREE', 'HASH')"
        ),
        collations_query=(
            "SELECT '', TABLE_NAME, COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME IS NOT NULL"
        ),
        binary_type="LONGBLOB",
        read_only_statement="SET SESSION TRANSACTION READ ONLY",
        session_id_query="SELECT CONNECTION_ID()",
        session_state_sql="SELECT COMMAND, STATE FROM information_schema.PROCESSLIST WHERE ID = ?",
        snapshot_statements=(
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            "SELECT 1",
        ),
        text_parameter_encoding="utf-8",
        text_result_encoding="utf-8",
        notes="Connector/ODBC < 3.1.17 cannot stream (NO_CACHE has no effect); it gives zero dates as None, "
        "so dates and times are fetched as text and converted here (a zero date is kept as its text).",
    ),
    "postgresql": DriverCaps(
        engine="postgresql",
        display_name="PostgreSQL",
        quote=_quote_with('"', '"'),
        paging="limit",
        streaming="declare-fetch",
        buffers_whole_result=True,  # unless the streaming options below are in the connection string
        streaming_options=(("UseDeclareFetch", "1"), ("Fetch", "{Fetch}")),
        raw_text_expr="CAST({col} AS TEXT)",
        exact_casts=(("MONEY", "CAST({col} AS numeric)"),),
        temporals_cast_to_text=True,
        # an enum or a composite type by what it is, not by its own name (an enum time_slot of '0930' labels was
        # taken for a time, and its labels read as 09:30:00), as column_types_query names them
        result_type_expr="(SELECT CASE WHEN COALESCE(b.typtype, t.typtype) = 'e' THEN 'enum' "
        "WHEN COALESCE(b.typtype, t.typtype) = 'c' THEN 'composite' "
        "ELSE pg_catalog.format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END, NULL) END "
        "FROM pg_catalog.pg_type AS t LEFT JOIN pg_catalog.pg_type AS b ON b.oid = t.typbasetype "
        "WHERE t.oid = pg_catalog.pg_typeof({col}))",
        # pg_inherits also links the partitions of a partitioned index: tables (r), partitioned tables (p)
        # and foreign tables (f) only. A partition's parent is always a partitioned table (PostgreSQL 10+);
        # before that, no parent is one.
        inheritance_query=(
            "SELECT cn.nspname, c.relname, pn.nspname, p.relname, CASE WHEN p.relkind = 'p' THEN 1 ELSE 0 END "
            "FROM pg_catalog.pg_inherits AS i "
            "JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid "
            "JOIN pg_catalog.pg_namespace AS cn ON cn.oid = c.relnamespace "
            "JOIN pg_catalog.pg_class AS p ON p.oid = i.inhparent "
            "JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'f') AND p.relkind IN ('r', 'p', 'f')"
        ),
        # row_security_active: whether the policies apply to this account here (BYPASSRLS, a superuser, an
        # owner without FORCE, row_security = off are taken into account by the server itself)
        row_security_query=(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class AS c "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND pg_catalog.row_security_active(c.oid)"
        ),
        # Domains over domains followed two levels down (the base's base); a domain over an enum or a composite
        # type is read as its base is.
        column_types_query=(
            "SELECT n.nspname, c.relname, a.attname, CASE "
            "WHEN b.typtype = 'd' THEN pg_catalog.upper(bb.typname) "
            "WHEN COALESCE(b.typtype, t.typtype) = 'e' THEN 'ENUM' "
            "WHEN COALESCE(b.typtype, t.typtype) = 'c' THEN 'COMPOSITE' "
            "ELSE pg_catalog.upper(b.typname) END "
            "FROM pg_catalog.pg_attribute AS a "
            "JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid "
            "LEFT JOIN pg_catalog.pg_type AS b ON b.oid = t.typbasetype "
            "LEFT JOIN pg_catalog.pg_type AS bb ON bb.oid = b.typbasetype "
            "WHERE a.attnum > 0 AND NOT a.attisdropped AND t.typtype IN ('d', 'e', 'c') "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        ),
        indexed_columns_query=(
            "SELECT n.nspname, c.relname, a.attname FROM pg_catalog.pg_index AS i "
            "JOIN pg_catalog.pg_class AS c ON c.oid = i.indrelid "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid "
            "JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam "
            "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] "
            "WHERE i.indpred IS NULL AND i.indisvalid AND am.amname IN ('btree', 'hash') "
            "AND i.indcollation[0] = a.attcollation AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        ),
        collations_query=(
            "SELECT n.nspname, c.relname, a.attname, co.collname FROM pg_catalog.pg_attribute AS a "
            "JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_collation AS co ON co.oid = a.attcollation "
            "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        ),
        # No default b-tree operator class: 'could not identify an ordering operator for type point'
        unsortable_types=("JSON", "XML", "POINT", "LINE", "LSEG", "BOX", "PATH", "POLYGON", "CIRCLE", "COMPOSITE"),
        binary_type="BYTEA",
        read_only_statement="SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        session_id_query="SELECT pg_backend_pid()",
        session_state_sql="SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = ?",
        # psqlODBC sends BEGIN before the first statement once autocommit is off (UseDeclareFetch needs
        # a transaction anyway); SET TRANSACTION must come before any read in it, which takes the snapshot.
        snapshot_statements=("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", "SELECT 1"),
        select_privilege_sql="SELECT CASE WHEN has_table_privilege({name}, 'SELECT') THEN 1 ELSE 0 END",
        # A char(n) value's trailing blanks are no part of it to PostgreSQL (CAST … AS TEXT drops them).
        stored_bytes_expr="convert_to(CAST({col} AS TEXT), 'SQL_ASCII')",
        byte_charsets_query=(
            "SELECT c.table_name, c.column_name, 'sql_ascii' FROM information_schema.columns AS c "
            "WHERE pg_catalog.current_setting('server_encoding') = 'SQL_ASCII' "
            "AND c.table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND c.data_type IN ('text', 'character varying', 'character')"
        ),
        text_as_bytes_query=(
            "SELECT CASE WHEN pg_catalog.current_setting('server_encoding') = 'SQL_ASCII' THEN 1 ELSE 0 END"
        ),
        large_object_types=frozenset({"OID", "LO"}),
        large_object_ref_expr="CAST({col} AS oid)",
        large_objects_count_sql="SELECT COUNT(*) FROM pg_catalog.pg_largeobject_metadata",
        # In oid order on the catalogue's index, LIMIT on the outside: lo_get runs for the page's rows only.
        large_objects_sql=(
            "SELECT CAST(m.oid AS bigint) AS oid, pg_catalog.lo_get(m.oid, 0, {piece}) AS data "
            "FROM pg_catalog.pg_largeobject_metadata AS m{where} ORDER BY m.oid"
        ),
        large_object_piece_sql=(
            "SELECT pg_catalog.lo_get(CAST(CAST(? AS bigint) AS oid), CAST(? AS bigint), {piece}) AS data"
        ),
        # lo_get needs SELECT on the object: granted to the owner by default (a NULL ACL), unless revoked;
        # everyone may read every one with lo_compat_privileges on, a superuser always.
        large_objects_unreadable_sql=(
            "SELECT COUNT(*) FROM pg_catalog.pg_largeobject_metadata AS m WHERE NOT ("
            "pg_catalog.current_setting('lo_compat_privileges') = 'on' "
            "OR (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) "
            "OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(m.lomacl, "
            "pg_catalog.acldefault('L', m.lomowner))) AS a WHERE a.privilege_type = 'SELECT' "
            "AND (a.grantee = 0 OR pg_catalog.pg_has_role(a.grantee, 'USAGE'))))"
        ),
        notes="psqlODBC pulls whole results unless UseDeclareFetch=1;Fetch=N is set.",
    ),
    "mssql": DriverCaps(
        engine="mssql",
        # "The text, ntext, and image data types cannot be compared or sorted"
        unsortable_types=("TEXT", "NTEXT", "IMAGE", "XML", "GEOGRAPHY", "GEOMETRY", "SQL_VARIANT"),
        display_name="Microsoft SQL Server",
        quote=_quote_with("[", "]"),
        paging="top",
        streaming="keyset",
        buffers_whole_result=False,  # TDS streams rows; keyset still needed for resume
        raw_text_expr="CAST({col} AS NVARCHAR(4000))",
        unicode_text_expr="CAST({col} AS NVARCHAR(MAX))",
        binary_type="VARBINARY(MAX)",
        read_only_statement=None,  # no session-level switch; use a read-only login (db_datareader)
        # SNAPSHOT isolation only where the DBA allowed it (ALTER DATABASE ... SET ALLOW_SNAPSHOT_ISOLATION
        # ON); otherwise each query reads committed data as it is then. Not run against a server here.
        snapshot_statements=(
            "SET TRANSACTION ISOLATION LEVEL SNAPSHOT",
            "SELECT COUNT(*) FROM sys.objects",
        ),
        snapshot_precondition="SELECT snapshot_isolation_state FROM sys.databases WHERE database_id = DB_ID()",
        notes="Korean varchar columns decode by the server collation (Korean_Wansung_CI_AS = CP949); "
        "read them as NVARCHAR or VARBINARY. Verified only to the driver/error level (no server here).",
    ),
    "firebird": DriverCaps(
        engine="firebird",
        unsortable_types=("BLOB", "LONG VARCHAR", "LONG VARBINARY"),
        display_name="Firebird",
        quote=_quote_with('"', '"'),
        paging="first",
        streaming="keyset",
        buffers_whole_result=False,
        raw_text_expr="CAST({col} AS VARCHAR(32))",
        read_only_statement=None,  # read-only is a transaction parameter, not a session statement
        unicode_api=False,
        notes="The Linux Firebird ODBC driver breaks on the W API pyodbc 5 uses (wchar_t != SQLWCHAR); "
        "on Windows it should work. Native `firebird-driver` is the fallback.",
    ),
}


#: ODBC 3 and ODBC 2 type codes of date, time and timestamp columns.
_TEMPORAL_SQL_TYPES: tuple[tuple[int, Callable[[str], object]], ...] = (
    (91, dt.date.fromisoformat), (9, dt.date.fromisoformat),
    (92, dt.time.fromisoformat), (10, dt.time.fromisoformat),
    (93, dt.datetime.fromisoformat), (11, dt.datetime.fromisoformat),
)


def temporal_from_text(parse: Callable[[str], object]) -> Callable[[bytes | str | None], object]:
    """A pyodbc output converter: the server's text of a date, time or timestamp as the Python value the
    driver would give (``parse``: ``date.fromisoformat``…), or — a zero date, a zero month, a TIME of
    ``-838:59:59`` or ``25:00:00``, ``infinity``, a BC date, anything Python has no value for — the text
    itself, exactly."""

    def convert(raw: bytes | str | None) -> object:
        if raw is None:
            return None
        text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
        try:
            return parse(text)
        except ValueError:
            return text

    return convert


def apply_connection_settings(connection: object, caps: DriverCaps) -> None:
    """Per-driver pyodbc settings for a fresh connection (text parameter and result encodings, dates and
    times fetched as text where the driver's conversion loses values)."""
    if caps.temporals_as_text:
        for sql_type, parse in _TEMPORAL_SQL_TYPES:
            connection.add_output_converter(sql_type, temporal_from_text(parse))  # type: ignore[attr-defined]
    if caps.text_parameter_encoding:
        connection.setencoding(encoding=caps.text_parameter_encoding)  # type: ignore[attr-defined]
    if caps.text_result_encoding:
        import pyodbc

        for sql_type in (pyodbc.SQL_CHAR, pyodbc.SQL_WCHAR):
            connection.setdecoding(sql_type, encoding=caps.text_result_encoding)  # type: ignore[attr-defined]


def text_concat(engine: str, expressions: Sequence[str], separator: str) -> str:
    """SQL joining ``expressions`` as text with ``separator``; NULL if any part is NULL (a composite key
    with an empty part is a NULL key, quarantined as such, on every engine)."""
    quoted = "'" + separator.replace("'", "''") + "'"
    if engine in ("mariadb", "mysql"):  # || is OR there unless PIPES_AS_CONCAT
        return "CONCAT(" + f", {quoted}, ".join(expressions) + ")"
    if engine == "mssql":  # CONCAT would read NULL as ''
        return f" + {quoted} + ".join(f"CAST({e} AS NVARCHAR(400))" for e in expressions)
    text_type = "TEXT" if engine in ("sqlite", "sqlite-odbc", "postgresql") else "VARCHAR(400)"
    return f" || {quoted} || ".join(f"CAST({e} AS {text_type})" for e in expressions)


def sortable(engine: str, declared: str) -> bool:
    """Whether ``engine`` can sort by a column of the declared type ``declared`` (see
    :attr:`DriverCaps.unsortable_types`; Firebird: a BLOB of any sub-type, however the driver spells it)."""
    unsortable = caps_for(engine).unsortable_types
    t = declared.upper()
    if engine == "firebird":
        return not any(u in t for u in unsortable)
    return t not in unsortable and not (engine == "postgresql" and t.startswith("_") and t[1:] in unsortable)


def caps_for(engine: str) -> DriverCaps:
    """The capabilities of ``engine`` (one of :data:`ENGINES`)."""
    try:
        return _CAPS[engine]
    except KeyError:
        raise ConfigError(
            f"Unknown database engine {engine!r}. Known engines: {', '.join(ENGINES)}."
        ) from None


# --- engine detection ----------------------------------------------------------------------------

_DBMS_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"sqlite", "sqlite-odbc"),
    (r"mariadb|mysql", "mariadb"),
    (r"postgres", "postgresql"),
    (r"microsoft sql server|sql server|sqlserver|azure sql", "mssql"),
    (r"firebird|interbase", "firebird"),
)

_DRIVER_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"sqlite", "sqlite-odbc"),
    (r"maodbc|mariadb|myodbc|mysql", "mariadb"),
    (r"psqlodbc|postgres", "postgresql"),
    (r"tdsodbc|freetds|msodbcsql|sqlncli|sql server|sqlsrv32", "mssql"),
    (r"odbcfb|firebird|interbase", "firebird"),
)


def _match(text: str, patterns: tuple[tuple[str, str], ...]) -> str | None:
    lowered = text.lower()
    for pattern, engine in patterns:
        if re.search(pattern, lowered):
            return engine
    return None


def detect_engine(dbms_name: str, driver_name: str = "") -> str:
    """Engine from ``SQLGetInfo(SQL_DBMS_NAME)``, falling back to the driver (file) name.

    FreeTDS reports the server's name (``Microsoft SQL Server``); Sybase ASE is not supported.
    """
    engine = _match(dbms_name, _DBMS_PATTERNS) or _match(driver_name, _DRIVER_PATTERNS)
    if engine is None:
        raise ConfigError(
            f"This database ({dbms_name or 'unknown'}, driver {driver_name or 'unknown'}) is not one "
            f"emr-exporter knows. Supported: SQLite, MariaDB/MySQL, PostgreSQL, SQL Server, Firebird."
        )
    return engine


def detect_engine_of_connection(connection: object) -> str:
    """Engine of an open pyodbc connection (uses ``getinfo``)."""
    import pyodbc

    getinfo = connection.getinfo  # type: ignore[attr-defined]
    return detect_engine(str(getinfo(pyodbc.SQL_DBMS_NAME)), str(getinfo(pyodbc.SQL_DRIVER_NAME)))


def engine_from_connection_string(conn_str: str) -> str | None:
    """Best guess from the ``DRIVER=`` of a connection string, before connecting (None if no DRIVER)."""
    driver = get_option(conn_str, "DRIVER")
    return engine_of_driver(driver) if driver else None


def engine_of_driver(driver: str) -> str | None:
    """The engine an ODBC driver reaches, by its name or file (``MariaDB Unicode``, ``libmaodbc.so``), or None."""
    return _match(driver, _DRIVER_PATTERNS)


# --- what a MariaDB/MySQL server's version can read ----------------------------------------------

#: How a JSON array kept in a column is read one row per element on MariaDB/MySQL (:func:`json_array_reading`):
#: ``JSON_TABLE`` (MariaDB 10.6+, MySQL 8.0.21+: its JSON_VALUE too); ``positions``, each element read at its
#: position out of a small sequence of them joined to the row (``JSON_EXTRACT(doc, CONCAT('$[', n, ']'))`` below
#: ``JSON_LENGTH``: MariaDB 10.2.3+, MySQL 5.7.8+, which have no JSON_TABLE).
JSON_TABLE, JSON_POSITIONS = "json_table", "positions"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_MARIADB_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)-mariadb", re.IGNORECASE)


def server_version(source: object) -> str | None:
    """A MariaDB/MySQL server's ``VERSION()`` (``10.4.32-MariaDB``, ``5.7.44-log``), None on another engine or
    where the server does not say."""
    if getattr(source, "engine", None) not in ("mariadb", "mysql"):
        return None
    try:
        found = source.scalar("SELECT VERSION()")  # type: ignore[attr-defined]
    except SourceQueryError:  # a server that does not say is read as the newest (JSON_TABLE)
        return None
    return str(found) if found is not None else None


def parsed_server_version(version: str) -> tuple[str, tuple[int, int, int]] | None:
    """``("mariadb" | "mysql", (major, minor, patch))`` of a ``VERSION()`` text, None where it holds no version
    (MariaDB's ``5.5.5-10.1.48-MariaDB`` is 10.1.48)."""
    mariadb = _MARIADB_VERSION.search(version)
    found = mariadb or _VERSION.match(version.strip())
    if found is None:
        return None
    major, minor, patch = (int(part) for part in found.groups())
    return ("mariadb" if mariadb or "mariadb" in version.lower() else "mysql"), (major, minor, patch)


def json_array_reading(version: str | None) -> str | None:
    """How a MariaDB/MySQL server of ``version`` reads a JSON array one row per element: :data:`JSON_TABLE`,
    :data:`JSON_POSITIONS`, or None where it has no JSON functions at all (MariaDB before 10.2.3, MySQL before
    5.7.8: the document can only be carried whole). A version not known (None, not parsed) is read as the newest."""
    parsed = parsed_server_version(version) if version else None
    if parsed is None:
        return JSON_TABLE
    kind, number = parsed
    table_from, json_from = ((10, 6, 0), (10, 2, 3)) if kind == "mariadb" else ((8, 0, 21), (5, 7, 8))
    if number >= table_from:
        return JSON_TABLE
    return JSON_POSITIONS if number >= json_from else None


#: How one value is read out of a JSON object on MariaDB/MySQL (:func:`json_value_reading`): ``JSON_VALUE``
#: (MariaDB 10.2.3+, MySQL 8.0.21+); ``extract``, ``JSON_UNQUOTE(JSON_EXTRACT(…))`` behind a ``JSON_TYPE`` test
#: (MySQL 5.7.8–8.0.20, which has no JSON_VALUE), which reads the same values (json_columns.lift_sql).
JSON_VALUE, JSON_EXTRACT = "json_value", "extract"


def json_value_reading(version: str | None) -> str | None:
    """How a MariaDB/MySQL server of ``version`` reads one value of a JSON object: :data:`JSON_VALUE`,
    :data:`JSON_EXTRACT`, or None where it has no JSON functions at all (as :func:`json_array_reading`). A version
    not known is read as the newest."""
    parsed = parsed_server_version(version) if version else None
    if parsed is None:
        return JSON_VALUE
    if json_array_reading(version) is None:
        return None
    kind, number = parsed
    return JSON_VALUE if kind == "mariadb" or number >= (8, 0, 21) else JSON_EXTRACT


#: The JSON functions MariaDB and MySQL have had only from some version on (their manuals): name → (MariaDB's first,
#: MySQL's first), None where that server has it in no version. The others (JSON_EXTRACT, JSON_UNQUOTE, JSON_TYPE,
#: JSON_VALID, JSON_LENGTH…) are there wherever any JSON function is (MariaDB 10.2.3, MySQL 5.7.8).
JSON_FUNCTIONS_FROM: dict[str, tuple[tuple[int, int, int] | None, tuple[int, int, int] | None]] = {
    "JSON_TABLE": ((10, 6, 0), (8, 0, 21)),  # MySQL's from 8.0.4; the scaffold's elements read with JSON_VALUE
    "JSON_VALUE": ((10, 2, 3), (8, 0, 21)),
    "JSON_ARRAYAGG": ((10, 5, 0), (5, 7, 22)),
    "JSON_OBJECTAGG": ((10, 5, 0), (5, 7, 22)),
    "JSON_OVERLAPS": ((10, 9, 0), (8, 0, 17)),
    "JSON_SCHEMA_VALID": ((11, 1, 0), (8, 0, 17)),
    "JSON_EQUALS": ((10, 7, 0), None),
    "JSON_NORMALIZE": ((10, 7, 0), None),
}


def json_functions_lacking(version: str | None, sql: str) -> list[tuple[str, str]]:
    """The JSON functions ``sql`` calls that a MariaDB/MySQL server of ``version`` lacks (:data:`JSON_FUNCTIONS_FROM`),
    each with the versions that have it in words (``"MariaDB 10.2.3 and MySQL 8.0.21"``), in the table's order. None
    where the version is not known (read as the newest)."""
    parsed = parsed_server_version(version) if version else None
    if parsed is None:
        return []
    kind, number = parsed
    lacking = []
    for name, (mariadb, mysql) in JSON_FUNCTIONS_FROM.items():
        first = mariadb if kind == "mariadb" else mysql
        if (first is None or number < first) and re.search(rf"\b{name}\s*\(", sql, re.IGNORECASE):
            have = [f"{server} {'.'.join(map(str, v))}" for server, v in (("MariaDB", mariadb), ("MySQL", mysql)) if v]
            lacking.append((name, " and ".join(have)))
    return lacking


# --- SQL generation ------------------------------------------------------------------------------


def _key_columns(key: str | Sequence[str]) -> list[str]:
    columns = [key] if isinstance(key, str) else list(key)
    if not columns:
        raise ConfigError("A keyset query needs at least one key column.")
    return columns


def keyset_predicate(caps: DriverCaps, key: str | Sequence[str], marker: str = "?") -> str:
    """``k > ?`` or, for a composite key, the portable expanded form (no row-value comparison, which
    SQL Server and Firebird lack): ``(a > ?) OR (a = ? AND b > ?)``. ``marker`` replaces a single key's
    ``?`` (SQLite: ``CAST(? AS TEXT)`` for a TEXT key read as bytes, see ``SqliteFileSource.keyset_marker``)."""
    columns = [caps.quote(c) for c in _key_columns(key)]
    if len(columns) == 1:
        return f"{columns[0]} > {marker}"
    terms = []
    for i, column in enumerate(columns):
        equal = [f"{prior} = ?" for prior in columns[:i]]
        terms.append("(" + " AND ".join([*equal, f"{column} > ?"]) + ")")
    return " OR ".join(terms)


def keyset_params(last_key: Sequence[object]) -> list[object]:
    """Parameters for :func:`keyset_predicate`, in marker order, for the last key of the previous page."""
    params: list[object] = []
    for i in range(len(last_key)):
        params.extend(last_key[: i + 1])
    return params


def _limited_select(caps: DriverCaps, columns: str, rest: str, order_by: str, page_size: int) -> str:
    """The first ``page_size`` rows in ``order_by``; with no ``order_by`` (a table with no column the engine can
    sort by: PostgreSQL's json, point…), the first the server gives."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size <= 0:
        raise ConfigError(f"A page size must be a positive whole number, not {page_size!r}.")
    order = f" ORDER BY {order_by}" if order_by else ""
    if caps.paging == "limit":
        return f"SELECT {columns} {rest}{order} LIMIT {page_size}"
    if caps.paging == "top":
        return f"SELECT TOP {page_size} {columns} {rest}{order}"
    if caps.paging == "first":
        return f"SELECT FIRST {page_size} {columns} {rest}{order}"
    # OFFSET … FETCH needs an ORDER BY (SQL Server): an order by nothing
    return f"SELECT {columns} {rest}{order or ' ORDER BY (SELECT NULL)'} OFFSET 0 ROWS FETCH NEXT {page_size} ROWS ONLY"


#: The inventory's name of a database's large objects (PostgreSQL's catalogue holding their bytes).
LARGE_OBJECTS = "pg_largeobject"
#: A large object is read this many bytes at a time (a multiple of 3: the pieces' base64 forms join into the
#: whole's). Reading a 50 MB object in one value took ~300 MB in psqlODBC and pyodbc; in pieces, ~20 MB.
LARGE_OBJECT_PIECE = 3 * 1024 * 1024


def large_objects_page_sql(caps: DriverCaps, page_size: int, first: bool) -> str:
    """One keyset page of the large objects (:attr:`DriverCaps.large_objects_sql`), in oid order; later pages
    take the last oid read as their one parameter."""
    if caps.large_objects_sql is None:
        raise ConfigError(f"{caps.display_name} has no large objects.")
    where = "" if first else " WHERE m.oid > CAST(CAST(? AS bigint) AS oid)"
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size <= 0:
        raise ConfigError(f"A page size must be a positive whole number, not {page_size!r}.")
    return f"{caps.large_objects_sql.format(where=where, piece=LARGE_OBJECT_PIECE)} LIMIT {page_size}"


def large_object_piece_sql(caps: DriverCaps) -> str:
    """A large object's next :data:`LARGE_OBJECT_PIECE` bytes; parameters: its oid, the offset."""
    if caps.large_object_piece_sql is None:
        raise ConfigError(f"{caps.display_name} has no large objects.")
    return caps.large_object_piece_sql.format(piece=LARGE_OBJECT_PIECE)


def folded_identifier(engine: str, identifier: str) -> str:
    """The name an engine looks up for an unquoted identifier: PostgreSQL folds it to lower case, Firebird to
    upper case; the others take it as written (and compare it case-insensitively unless, as MariaDB on a
    case-sensitive file system, they do not)."""
    if engine == "postgresql":
        return identifier.lower()
    if engine == "firebird":
        return identifier.upper()
    return identifier


def row_keys(names: Sequence[str]) -> tuple[str, ...]:
    """The keys of a row's dict for columns named ``names``: each name in lower case, so that every engine's
    case folding gives the same keys — except where two columns' names differ only by case (PostgreSQL
    ``"Name"`` beside ``name``): then the column spelled in lower case (else the first) keeps the lower-case
    key and the others keep their exact spelling, so no column's value overwrites another's. A name repeated
    exactly (a join's two ``id`` columns) stays one key, as before: the last value wins."""
    lowered = tuple(name.lower() for name in names)
    if len(set(lowered)) == len(set(names)):
        return lowered  # no two distinct names fold together: the usual case, one pass
    spellings: dict[str, list[str]] = {}
    for name, low in zip(names, lowered, strict=True):
        if name not in spellings.setdefault(low, []):
            spellings[low].append(name)
    keeps = {low: (low if low in names_ else names_[0]) for low, names_ in spellings.items()}
    return tuple(low if keeps[low] == name else name for name, low in zip(names, lowered, strict=True))


def keyset_page_sql(
    caps: DriverCaps,
    inner_sql: str,
    key: str | Sequence[str],
    columns: str = "*",
    *,
    page_size: int,
    first: bool,
    marker: str = "?",
) -> str:
    """One keyset page over ``inner_sql`` (a SELECT without ORDER BY, wrapped as a derived table):
    ``SELECT <columns> FROM (<inner_sql>) AS page_src [WHERE key > ?] ORDER BY key <limit>``.

    The first page has no key predicate; later pages take :func:`keyset_params` of the last key seen
    (``marker``: see :func:`keyset_predicate`).
    """
    inner = inner_sql.strip().rstrip(";")
    order_by = ", ".join(caps.quote(c) for c in _key_columns(key))
    rest = f"FROM ({inner}) AS page_src"
    if not first:
        rest += f" WHERE {keyset_predicate(caps, key, marker)}"
    return _limited_select(caps, columns, rest, order_by, page_size)


def _is_plain_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def keyset_page_query(
    caps: DriverCaps,
    inner_sql: str,
    key: str | Sequence[str],
    after: Sequence[object] | None,
    *,
    page_size: int,
    columns: str = "*",
) -> tuple[str, list[object]]:
    """SQL and parameters of the page after ``after`` (None: the first page).

    On engines with :attr:`DriverCaps.inline_integer_keys` an all-integer key is inlined as literals
    (they are Python ints, so there is nothing to inject); anything else stays a ``?`` parameter.
    """
    key_columns = _key_columns(key)
    if after is None:
        return keyset_page_sql(caps, inner_sql, key_columns, columns, page_size=page_size, first=True), []
    if len(after) != len(key_columns):
        raise ConfigError(f"A keyset checkpoint has {len(after)} values for {len(key_columns)} key columns.")
    sql = keyset_page_sql(caps, inner_sql, key_columns, columns, page_size=page_size, first=False)
    params = keyset_params(after)
    if caps.inline_integer_keys and all(_is_plain_int(v) for v in params):
        for value in params:
            assert isinstance(value, int)  # _is_plain_int above
            sql = sql.replace("?", str(value), 1)
        return sql, []
    return sql, params


def limit_sql(caps: DriverCaps, table: str | tuple[str, ...], columns: Sequence[str] | None,
              order_by: Sequence[str], n: int, *, qualified: bool = True, select: str | None = None,
              only: bool = False) -> str:
    """``SELECT`` the first ``n`` rows of a table in key order (samples, scans; no ``order_by``: in no order).
    ``qualified``: ``table`` may be
    ``schema.table``; else it is one name, dots and all. A tuple is the name's parts as the catalogue has them
    ((schema, table) or (table,)). ``select``: a ready select list instead of ``columns``. ``only``: the table's
    own rows, not its inheritance children's (PostgreSQL ``FROM ONLY``)."""
    column_sql = select or (", ".join(caps.quote(c) for c in columns) if columns else "*")
    order_sql = ", ".join(caps.quote(c) for c in order_by)
    if isinstance(table, tuple):
        table_sql = ".".join(caps.quote(part) for part in table)
    else:
        table_sql = caps.quote_qualified(table) if qualified else caps.quote(table)
    return _limited_select(caps, column_sql, f"FROM {'ONLY ' if only else ''}{table_sql}", order_sql, n)


def with_paging(caps: DriverCaps, paging: Paging) -> DriverCaps:
    """The same capabilities with another paging syntax (e.g. SQL Server 2012+ ``OFFSET FETCH``)."""
    return replace(caps, paging=paging)


# --- connection strings --------------------------------------------------------------------------


def parse_connection_string(conn_str: str) -> list[tuple[str, str]]:
    """``KEY=value`` pairs in order; braces are removed from ``{...}`` values (``}}`` → ``}``)."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(conn_str)
    while i < n:
        while i < n and conn_str[i] in "; \t\r\n":
            i += 1
        if i >= n:
            break
        eq = conn_str.find("=", i)
        if eq < 0:
            raise ConfigError("The connection string is not KEY=value pairs separated by ';'.")
        key = conn_str[i:eq].strip()
        i = eq + 1
        if i < n and conn_str[i] == "{":
            i += 1
            value_chars: list[str] = []
            while True:
                if i >= n:
                    raise ConfigError(f"The value of {key} in the connection string has no closing '}}'.")
                if conn_str[i] == "}":
                    if i + 1 < n and conn_str[i + 1] == "}":
                        value_chars.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value_chars.append(conn_str[i])
                i += 1
            value = "".join(value_chars)
            while i < n and conn_str[i] != ";":
                i += 1
        else:
            end = conn_str.find(";", i)
            end = n if end < 0 else end
            value = conn_str[i:end].strip()
            i = end
        pairs.append((key, value))
    return pairs


def _format_value(value: str) -> str:
    if value == "" or any(ch in value for ch in ";{}=") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


def build_connection_string(pairs: Sequence[tuple[str, str]]) -> str:
    """Inverse of :func:`parse_connection_string`; DRIVER values are always braced."""
    parts = []
    for key, value in pairs:
        formatted = "{" + value.replace("}", "}}") + "}" if key.upper() == "DRIVER" else _format_value(value)
        parts.append(f"{key}={formatted}")
    return ";".join(parts)


def get_option(conn_str: str, key: str) -> str | None:
    """The value of ``key`` (case-insensitive), or None."""
    wanted = key.upper()
    for k, v in parse_connection_string(conn_str):
        if k.upper() == wanted:
            return v
    return None


def set_options(conn_str: str, options: Sequence[tuple[str, str]], *, override: bool = True) -> str:
    """Set ``options`` (case-insensitive keys); existing keys are replaced (or kept if not ``override``)."""
    pairs = parse_connection_string(conn_str)
    index = {k.upper(): i for i, (k, _) in enumerate(pairs)}
    for key, value in options:
        at = index.get(key.upper())
        if at is None:
            index[key.upper()] = len(pairs)
            pairs.append((key, value))
        elif override:
            pairs[at] = (pairs[at][0], value)
    return build_connection_string(pairs)


PASSWORD_KEYS = ("PWD", "PASSWORD")


def with_password(conn_str: str, password: str) -> str:
    """The connection string with ``PWD`` set (in memory only; never log the result)."""
    pairs = [(k, v) for k, v in parse_connection_string(conn_str) if k.upper() not in PASSWORD_KEYS]
    pairs.append(("PWD", password))
    return build_connection_string(pairs)


def without_password(conn_str: str) -> str:
    """The connection string without its ``PWD``/``Password`` (to be kept on disk: the password is asked again),
    anything else that looks secret masked (:func:`redact_connection_string`). A masked ``PWD=***`` is dropped
    too: it is never the password, and connecting with it would fail as a wrong password."""
    pairs = [(k, v) for k, v in parse_connection_string(conn_str) if k.strip().upper() not in PASSWORD_KEYS]
    return redact_connection_string(build_connection_string(pairs))


def has_password(conn_str: str) -> bool:
    return any(k.upper() in PASSWORD_KEYS for k, _ in parse_connection_string(conn_str))


# An unbraced ODBC value runs to the next ';' and may contain spaces ("PWD=my pass"): redact up to
# ';' or the end of the line, even if that also hides the rest of a driver's message.
_SECRET_VALUE_RE = re.compile(
    r"(?i)\b(pwd|password|passwd|pass|secret|access_?token)(\s*=\s*)(\{(?:[^}]|\}\})*\}?|[^;\r\n]*)"
)


def redact_connection_string(text: str, *secrets: str | None) -> str:
    """``text`` with every ``PWD=...``/``Password=...`` value replaced by ``***``, and every known
    secret (e.g. the password the user typed) removed wherever it appears, even outside ``KEY=``."""
    redacted = _SECRET_VALUE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    for secret in secrets:
        if secret:
            redacted = redacted.replace(secret, "***")
    return redacted


def connection_string_for_streaming(engine: str, conn_str: str, fetch_rows: int = 10_000) -> str:
    """Add the options that make the driver stream results (psqlODBC ``UseDeclareFetch=1;Fetch=N``).

    Options the user already set are kept. Engines without such an option are returned unchanged
    (they are read in keyset pages instead).
    """
    caps = caps_for(engine)
    if not caps.streaming_options:
        return conn_str
    options = [(k, v.replace("{Fetch}", str(int(fetch_rows)))) for k, v in caps.streaming_options]
    return set_options(conn_str, options, override=False)


_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-/]*")


#: Per engine, how its session is set to (Asia/Seoul, UTC, another IANA name) (see session_time_zone_sql).
_ZONE_STATEMENTS = {
    # PostgreSQL's Asia/Seoul has the 1987-88 summer times, and a POSIX '+09:00' would be nine hours *west*
    "postgresql": ("SET TIME ZONE INTERVAL '+09:00' HOUR TO MINUTE", "SET TIME ZONE 'UTC'", "SET TIME ZONE '{}'"),
    # MariaDB/MySQL know a named zone only with their time zone tables loaded, which few servers do
    "mariadb": ("SET time_zone = '+09:00'", "SET time_zone = '+00:00'", "SET time_zone = '{}'"),
    "mysql": ("SET time_zone = '+09:00'", "SET time_zone = '+00:00'", "SET time_zone = '{}'"),
}


def session_time_zone_sql(engine: str, name: str) -> str | None:
    """The statement that sets a session's time zone to a connector's (validated by the spec) on ``engine``, or
    None if the engine has none here or the zone has no safe form. A PostgreSQL ``timestamptz`` and a MariaDB
    ``TIMESTAMP`` are instants the driver hands over as the wall time in the session's zone (the server's, often
    UTC). Asia/Seoul (and its aliases KST, +09:00) is set as the fixed +09:00 the pipeline reads it as
    (:func:`emr_exporter.connectors.zones.zone`)."""
    from emr_exporter.connectors.zones import KST, zone

    statements = _ZONE_STATEMENTS.get(engine)
    if statements is None:
        return None
    seoul, utc, named = statements
    tz = zone(name)
    if tz is KST:
        return seoul
    if tz is dt.UTC:
        return utc
    if not _ZONE_NAME.fullmatch(name):
        return None
    return named.format(name.replace("'", "''"))


def postgres_time_zone_sql(name: str) -> str | None:
    """``SET TIME ZONE`` for a connector's time zone on PostgreSQL (:func:`session_time_zone_sql`)."""
    return session_time_zone_sql("postgresql", name)


def sqlite_keyset_marker(scalar: Callable[[str, Sequence[Any]], Any], inner_sql: str, key_sql: str,
                         after: Any) -> str:
    """SQLite (a file, or over ODBC): the parameter marker of ``key > ?`` for ``after``, a page's last key, with
    ``scalar`` the source's one-value query (see ``SqliteFileSource.keyset_marker``)."""
    if not isinstance(after, bytes):
        return "?"
    probe = (f"SELECT 1 FROM ({inner_sql}) AS probe WHERE typeof(probe.{key_sql}) = 'text' "
             f"AND probe.{key_sql} = CAST(? AS TEXT) LIMIT 1")
    return "CAST(? AS TEXT)" if scalar(probe, (after,)) is not None else "?"
