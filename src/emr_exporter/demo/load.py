"""Load the demo clinic (a SQLite file) into a real database server over ODBC.

``emr-export demo --load-into "DRIVER={MariaDB Unicode};SERVER=...;DATABASE=..."`` uses this so users and
tests can export the same clinic from MariaDB, PostgreSQL, SQLite-over-ODBC (or SQL Server) and compare.

Types follow each engine so values read back exactly as from the SQLite file: integers as BIGINT, text as
the engine's Unicode text type, and the CP949 byte columns (SQLite BLOB) as the engine's binary type
(MariaDB LONGBLOB, PostgreSQL BYTEA, SQL Server VARBINARY(MAX)) so the connector decodes the very same
bytes. Table and column names are created unquoted: each engine folds them the way it folds the
connector's unquoted SQL (PostgreSQL to lower case), so the same queries work everywhere.

Rows are streamed from SQLite in batches and inserted with multi-row ``INSERT ... VALUES`` statements
(one round trip per batch), never holding a whole table.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter.errors import ConfigError, SourceError, SourceQueryError
from emr_exporter.sources.drivers import (
    apply_connection_settings,
    caps_for,
    detect_engine,
    redact_connection_string,
    with_password,
)

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Parameters per INSERT statement (SQL Server allows 2100, the others far more).
_MAX_PARAMS = 2000
_MAX_ROWS_PER_INSERT = 500


@dataclass(frozen=True)
class _TypeMap:
    integer: str
    text: str
    key_text: str  # a text primary key (must be indexable)
    binary: str
    real: str


_TYPES: dict[str, _TypeMap] = {
    "mariadb": _TypeMap("BIGINT", "MEDIUMTEXT", "VARCHAR(191)", "LONGBLOB", "DOUBLE"),
    "postgresql": _TypeMap("BIGINT", "TEXT", "TEXT", "BYTEA", "DOUBLE PRECISION"),
    "mssql": _TypeMap("BIGINT", "NVARCHAR(MAX)", "NVARCHAR(450)", "VARBINARY(MAX)", "FLOAT"),
    "sqlite-odbc": _TypeMap("INTEGER", "TEXT", "TEXT", "BLOB", "REAL"),
}
# NO PAD: 'D002' and 'D002 ' are two keys, as in SQLite (the PAD SPACE utf8mb4_bin calls them equal).
_TABLE_OPTIONS: dict[str, str] = {
    "mariadb": " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin",
}


@dataclass
class LoadResult:
    engine: str
    target: str  # redacted connection string
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class _Column:
    name: str
    declared: str
    primary_key: bool


def _sqlite_columns(conn: sqlite3.Connection, table: str) -> list[_Column]:
    columns = []
    for _cid, name, declared, _notnull, _default, pk in conn.execute(f'PRAGMA table_info("{table}")'):
        if not _PLAIN_NAME.match(name):
            raise ConfigError(f"The demo column name {name!r} cannot be created on every engine.")
        columns.append(_Column(name, (declared or "").upper(), bool(pk)))
    return columns


def _column_type(types: _TypeMap, column: _Column) -> str:
    declared = column.declared
    if "INT" in declared:
        return types.integer
    if "BLOB" in declared or declared == "":
        return types.binary
    if "REAL" in declared or "FLOA" in declared or "DOUB" in declared:
        return types.real
    return types.key_text if column.primary_key else types.text


def create_table_sql(engine: str, table: str, columns: Sequence[_Column]) -> str:
    types = _TYPES[engine]
    parts = [f"{c.name} {_column_type(types, c)}" for c in columns]
    keys = [c.name for c in columns if c.primary_key]
    if keys:
        parts.append(f"PRIMARY KEY ({', '.join(keys)})")
    return f"CREATE TABLE {table} ({', '.join(parts)}){_TABLE_OPTIONS.get(engine, '')}"


def _batches(cursor: sqlite3.Cursor, size: int) -> Iterator[list[tuple[Any, ...]]]:
    while batch := cursor.fetchmany(size):
        yield batch


def _sqlite_text(raw: bytes) -> str | bytes:
    # Text stored as UTF-8 comes back as str; anything else stays the exact bytes.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _binary_value(value: Any) -> Any:
    # A SQLite BLOB column can hold TEXT values (type affinity is per value); a binary column cannot.
    return value.encode("utf-8") if isinstance(value, str) else value


def load_demo_into(
    sqlite_path: Path,
    conn_str: str,
    *,
    password: str | None = None,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> LoadResult:
    """Copy every table of the demo SQLite file into the ODBC database ``conn_str``.

    Existing tables of the same names are dropped only with ``replace``; otherwise it is an error, so a
    real EMR database is never overwritten by mistake.
    """
    import pyodbc

    sqlite_path = Path(sqlite_path)
    if not sqlite_path.is_file():
        raise ConfigError(f"The demo clinic database {sqlite_path} does not exist.")
    shown = redact_connection_string(conn_str, password)
    full = with_password(conn_str, password) if password else conn_str
    try:
        target = pyodbc.connect(full, autocommit=False, timeout=15)
    except pyodbc.Error as exc:
        from emr_exporter.sources.connect import problem_from_exception

        problem = problem_from_exception(exc, conn_str, password)
        raise SourceError(f"Cannot load the demo into {shown}: {problem.hint} ({problem.detail})") from None
    source = sqlite3.connect(f"{sqlite_path.resolve().as_uri()}?mode=ro", uri=True)
    source.text_factory = _sqlite_text
    try:
        engine = detect_engine(
            str(target.getinfo(pyodbc.SQL_DBMS_NAME)), str(target.getinfo(pyodbc.SQL_DRIVER_NAME))
        )
        if engine not in _TYPES:
            raise ConfigError(f"Loading the demo into {caps_for(engine).display_name} is not supported.")
        apply_connection_settings(target, caps_for(engine))
        result = LoadResult(engine=engine, target=shown)
        tables = [
            name for (name,) in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        cursor = target.cursor()
        # MariaDB/MySQL: without a catalog, SQLTables also lists other databases' tables on the server.
        catalog = target.getinfo(pyodbc.SQL_DATABASE_NAME) if engine in ("mariadb", "mysql") else None
        existing = {row.table_name.lower() for row in cursor.tables(tableType="TABLE", catalog=catalog or None)}
        clashes = [t for t in tables if t.lower() in existing]
        if clashes and not replace:
            raise ConfigError(
                f"The target database already has tables named like the demo's ({', '.join(clashes[:5])}). "
                "Use an empty database, or --replace to drop and reload them."
            )
        table = ""
        try:
            for table in tables:
                if not _PLAIN_NAME.match(table):
                    raise ConfigError(f"The demo table name {table!r} cannot be created on every engine.")
                columns = _sqlite_columns(source, table)
                if table.lower() in existing:
                    cursor.execute(f"DROP TABLE {table}")
                cursor.execute(create_table_sql(engine, table, columns))
                result.rows[table] = _copy_table(source, cursor, engine, table, columns)
                target.commit()
                if progress is not None:
                    progress(table, result.rows[table])
        except pyodbc.Error as exc:
            target.rollback()
            message = redact_connection_string(str(exc.args[-1]), password)
            raise SourceQueryError(f"Loading the demo table {table} into {shown} failed: {message}") from None
        return result
    finally:
        source.close()
        target.close()


def _copy_table(
    source: sqlite3.Connection, cursor: Any, engine: str, table: str, columns: Sequence[_Column]
) -> int:
    types = _TYPES[engine]
    binary = [_column_type(types, c) == types.binary for c in columns]
    names = ", ".join(c.name for c in columns)
    row_marker = "(" + ", ".join("?" for _ in columns) + ")"
    per_insert = max(1, min(_MAX_ROWS_PER_INSERT, _MAX_PARAMS // len(columns)))
    order = ", ".join(c.name for c in columns if c.primary_key) or "rowid"
    read = source.execute(f"SELECT {names} FROM {table} ORDER BY {order}")
    copied = 0
    statements: dict[int, str] = {}
    for batch in _batches(read, per_insert):
        params: list[Any] = []
        for row in batch:
            for value, is_binary in zip(row, binary, strict=True):
                if isinstance(value, bytes) and not is_binary:
                    raise ConfigError(f"{table} holds bytes in a text column; the demo never does that.")
                if is_binary:
                    value = _binary_value(value)
                params.append(value)
        sql = statements.get(len(batch))
        if sql is None:
            sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([row_marker] * len(batch))
            statements[len(batch)] = sql
        cursor.execute(sql, params)
        copied += len(batch)
    return copied


def load_demo_clinic(
    out_dir: Path, conn_str: str, *, patients: int = 200, password: str | None = None, replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> LoadResult:
    """``emr-export demo --load-into``: make the demo clinic file in ``out_dir`` (if absent, as ``demo``
    does) and copy it into ``conn_str``. Attachments stored as files stay in ``out_dir/attachments``."""
    from emr_exporter.demo.material import ensure_demo_clinic

    database, _attachments = ensure_demo_clinic(Path(out_dir), patients=patients)
    return load_demo_into(database, conn_str, password=password, replace=replace, progress=progress)
