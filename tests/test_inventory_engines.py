"""The inventory and the carrying of unmapped tables on SQL Server and Firebird, without their servers.

Neither engine can run here: Debian has no SQL Server, and its Firebird server has no ODBC driver to
reach it by (pyodbc needs one; the Linux Firebird driver is not packaged). What is proven instead, on
the project's own code paths:

* the catalogue reading (``sources/catalog.py``, ODBC ``SQLTables``/``SQLColumns``/``SQLPrimaryKeys``)
  on catalogues shaped as those drivers answer: SQL Server's ``dbo`` and other schemas, ``sys`` and
  ``INFORMATION_SCHEMA``; Firebird's schema-less upper-case names and ``RDB$`` system tables;
* every statement a whole export sends (counts, entity pages, the inventory's counts, carried tables
  read by keyset or in one ordered pass) is T-SQL that sqlglot parses in its ``tsql`` dialect, and runs
  (transpiled) on a SQLite copy of the tables, so paging reaches every row and the export reconciles;
* for Firebird (no sqlglot dialect) the exact statements, run after rewriting ``FIRST n`` alone.

Not proven: how the real drivers spell type names (e.g. a Firebird BLOB's sub-type) and whether their
catalogue calls pad names; see docs/databases.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyodbc
import pytest
import sqlglot

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.export import ExportRun, digest_stream, ordered_pass_sql
from emr_exporter.sources.catalog import CatalogColumn, CatalogTable, list_tables
from emr_exporter.sources.drivers import caps_for, keyset_page_sql

CONNECTOR = r'''
[connector]
name = "enginecheck"
version = "1.0.0"
product = "one patient table (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }
'''

#: (schema, table, kind, [(column, declared type as the driver names it)], primary key columns)
MSSQL_TABLES: list[tuple[str, str, str, list[tuple[str, str]], list[str]]] = [
    ("dbo", "PATIENT", "TABLE", [("PT_ID", "int"), ("CHART_NO", "nvarchar"), ("PT_NM", "nvarchar")], ["PT_ID"]),
    ("dbo", "SMS_LOG", "TABLE", [("SMS_NO", "int"), ("PHONE", "varchar"), ("MSG", "nvarchar")], ["SMS_NO"]),
    # No key, and an image column SQL Server cannot sort by.
    ("dbo", "AUDIT_TRAIL", "TABLE", [("AT_TS", "datetime"), ("WHO", "nvarchar"), ("SNAP", "image")], []),
    ("audit", "LOG", "TABLE", [("LOG_ID", "bigint"), ("ACT", "ntext")], ["LOG_ID"]),
    ("dbo", "V_PATIENT", "VIEW", [("PT_ID", "int")], []),
    ("sys", "objects", "SYSTEM TABLE", [("name", "sysname")], []),
    ("sys", "trace_xe_action_map", "TABLE", [("trace_column_id", "smallint")], []),
    ("INFORMATION_SCHEMA", "TABLES", "VIEW", [("TABLE_NAME", "sysname")], []),
]
FIREBIRD_TABLES: list[tuple[str, str, str, list[tuple[str, str]], list[str]]] = [
    ("", "PATIENT", "TABLE", [("PT_ID", "INTEGER"), ("CHART_NO", "VARCHAR"), ("PT_NM", "VARCHAR")], ["PT_ID"]),
    ("", "SMS_LOG", "TABLE", [("SMS_NO", "INTEGER"), ("PHONE", "VARCHAR"), ("MSG", "VARCHAR")], ["SMS_NO"]),
    ("", "AUDIT_TRAIL", "TABLE",
     [("AT_TS", "TIMESTAMP"), ("WHO", "VARCHAR"), ("SNAP", "BLOB SUB_TYPE 0")], []),
    ("", "V_PATIENT", "VIEW", [("PT_ID", "INTEGER")], []),
    ("", "RDB$RELATIONS", "SYSTEM TABLE", [("RDB$RELATION_NAME", "CHAR")], []),
    ("", "MON$ATTACHMENTS", "SYSTEM TABLE", [("MON$USER", "CHAR")], []),
]


Entry = tuple[str, str, str, list[tuple[str, str]], list[str]]


class FakeCatalog:
    """A pyodbc connection answering the catalogue calls only, as the engine's ODBC driver would."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    def getinfo(self, what: int) -> str:
        assert what == pyodbc.SQL_DATABASE_NAME
        return "CLINIC"

    def cursor(self) -> FakeCatalog:
        return self

    def close(self) -> None:
        pass

    def _find(self, table: str, schema: str | None) -> Entry:
        [found] = [e for e in self.entries if e[1] == table and (schema or "") == e[0]]
        return found

    def tables(self, catalog: str | None = None) -> list[SimpleNamespace]:
        return [SimpleNamespace(table_cat="CLINIC", table_schem=s or None, table_name=n, table_type=k)
                for s, n, k, _, _ in self.entries]

    def columns(self, table: str, catalog: str | None = None, schema: str | None = None) -> list[SimpleNamespace]:
        # as SQLColumns answers: each row names its table
        return [SimpleNamespace(table_name=table, column_name=c, type_name=t) for c, t in self._find(table, schema)[3]]

    def primaryKeys(
        self, table: str, catalog: str | None = None, schema: str | None = None
    ) -> list[SimpleNamespace]:
        found = self._find(table, schema)
        if found[2] == "VIEW":
            raise pyodbc.Error("HY000", "the driver does not answer SQLPrimaryKeys for a view")
        return [SimpleNamespace(table_name=table, column_name=c) for c in found[4]]


class EngineOnSqlite:
    """A Source that says it is SQL Server or Firebird: the catalogue from :class:`FakeCatalog`, every
    statement recorded, checked in the engine's dialect and run on a SQLite copy of the tables."""

    label = "test"

    def __init__(self, engine: str, path: Path, entries: list[Entry]) -> None:
        self.engine = engine
        self.conn = FakeCatalog(entries)
        self.db = sqlite3.connect(path)
        self.db.execute("ATTACH DATABASE ':memory:' AS audit")
        self.statements: list[str] = []
        # Entity keys go unquoted into the pages, as OdbcSource does.
        self.caps = dataclasses.replace(caps_for(engine), quote=lambda name: name)

    def _sqlite(self, sql: str) -> str:
        if self.engine == "mssql":
            return sqlglot.parse_one(sql, read="tsql").sql(dialect="sqlite")  # raises on what is not T-SQL
        first = re.match(r"SELECT FIRST (\d+) (.*)$", sql, re.DOTALL)  # Firebird's only difference here
        return f"SELECT {first.group(2)} LIMIT {first.group(1)}" if first else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        self.statements.append(sql)
        cursor = self.db.execute(self._sqlite(sql), tuple(params))
        names = [d[0].lower() for d in cursor.description]
        for row in cursor.fetchall():
            yield dict(zip(names, row, strict=True))

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        for row in self.rows(sql, params):
            return next(iter(row.values()))
        return None

    def table_exists(self, name: str) -> bool:
        return any(e[1].lower() == name.lower() for e in self.conn.entries)

    def database_name(self) -> str:
        return self.conn.getinfo(pyodbc.SQL_DATABASE_NAME)

    @contextlib.contextmanager
    def catalog_reader(self) -> Iterator[Callable[[Callable[[Any], Iterable[Any]]], list[Any]]]:
        # as OdbcSource's, without its waiter: the fake driver answers at once
        cursor = self.conn.cursor()
        yield lambda call: list(call(cursor))

    def keyset_sql(self, inner_sql: str, key: str, page_size: int, first: bool, after: Any = None) -> str:
        return keyset_page_sql(self.caps, inner_sql, key, page_size=page_size, first=first)

    def close(self) -> None:
        self.db.close()


def make_tables(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT);
        CREATE TABLE SMS_LOG (SMS_NO INTEGER PRIMARY KEY, PHONE TEXT, MSG TEXT);
        CREATE TABLE AUDIT_TRAIL (AT_TS TEXT, WHO TEXT, SNAP BLOB);
        CREATE VIEW V_PATIENT AS SELECT PT_ID FROM PATIENT;
    """)
    db.executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(n, f"C{n:03d}", f"환자{n}") for n in range(1, 8)])
    db.executemany("INSERT INTO SMS_LOG VALUES (?, ?, ?)", [(n, "010-0000-0000", f"예약 안내 {n}") for n in range(1, 6)])
    db.executemany("INSERT INTO AUDIT_TRAIL VALUES (?, ?, ?)",
                   [("2024-01-02 10:00:00", "admin", b"\x00\x01"), ("2024-01-02 10:00:00", "admin", b"\x02"),
                    ("2024-01-01 09:00:00", "nurse", None)])
    db.commit()
    db.close()


def export(tmp_path: Path, engine: str, entries: list[Entry]) -> tuple[ExportRun, EngineOnSqlite]:
    make_tables(tmp_path / "clinic.sqlite")
    source = EngineOnSqlite(engine, tmp_path / "clinic.sqlite", entries)
    if engine == "mssql":  # a table outside dbo: [audit].[LOG]
        source.db.execute("CREATE TABLE audit.LOG (LOG_ID INTEGER PRIMARY KEY, ACT TEXT)")
        source.db.executemany("INSERT INTO audit.LOG VALUES (?, ?)", [(1, "login"), (2, "print")])
    folder = tmp_path / "enginecheck"
    folder.mkdir()
    (folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    run = ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                    created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), page_size=2)  # several pages a table
    digest_stream(run.stream())
    return run, source


def test_sql_server_catalogue_and_every_statement_of_an_export(tmp_path: Path) -> None:
    tables = {t.name: t for t in list_tables(EngineOnSqlite("mssql", tmp_path / "c.sqlite", MSSQL_TABLES))}
    # dbo unqualified, another schema qualified; sys and INFORMATION_SCHEMA left out, whatever their type.
    assert list(tables) == ["audit.LOG", "AUDIT_TRAIL", "PATIENT", "SMS_LOG", "V_PATIENT"]
    assert tables["PATIENT"].key == "PT_ID" and tables["audit.LOG"].key == "LOG_ID"
    assert tables["AUDIT_TRAIL"].key is None and tables["V_PATIENT"].kind == "view"
    assert tables["AUDIT_TRAIL"].columns[2] == CatalogColumn("SNAP", "IMAGE", False)

    run, source = export(tmp_path, "mssql", MSSQL_TABLES)
    rec = run.reconciliation
    assert rec.balanced and [(e.entity, e.source_rows, e.exported) for e in rec.entities] == [("patient", 7, 7)]
    carried = {t.table: (t.source_rows, t.carried, t.read) for t in rec.tables}
    assert carried == {"audit.log": (2, 2, "keyset on log_id"), "audit_trail": (3, 3, "one ordered pass (no usable "
                       "single-column key)"), "sms_log": (5, 5, "keyset on sms_no")}
    fates = {i["name"]: i["fate"] for i in rec.inventory}
    assert fates == {"audit.log": "carried", "audit_trail": "carried", "patient": "entities", "sms_log": "carried",
                     "v_patient": "skipped"}
    # Every statement parsed as T-SQL (EngineOnSqlite._sqlite) and ran; these are the inventory's own.
    assert "SELECT TOP 2 * FROM (SELECT * FROM [SMS_LOG]) AS page_src WHERE [SMS_NO] > ? ORDER BY [SMS_NO]" \
        in source.statements
    # (a first page of one row: paging.FIRST_PAGE_ROWS)
    assert "SELECT TOP 1 * FROM (SELECT * FROM [audit].[LOG]) AS page_src ORDER BY [LOG_ID]" in source.statements
    assert "SELECT * FROM [AUDIT_TRAIL] ORDER BY [AT_TS], [WHO]" in source.statements  # not by the image
    assert "SELECT COUNT(*) AS n, COUNT([SMS_NO]) AS k FROM [SMS_LOG]" in source.statements


def test_firebird_catalogue_and_every_statement_of_an_export(tmp_path: Path) -> None:
    tables = {t.name: t for t in list_tables(EngineOnSqlite("firebird", tmp_path / "c.sqlite", FIREBIRD_TABLES))}
    assert list(tables) == ["AUDIT_TRAIL", "PATIENT", "SMS_LOG", "V_PATIENT"]  # RDB$ and MON$ left out
    assert tables["SMS_LOG"].key == "SMS_NO" and tables["V_PATIENT"].kind == "view"

    run, source = export(tmp_path, "firebird", FIREBIRD_TABLES)
    rec = run.reconciliation
    assert rec.balanced and {t.table: t.carried for t in rec.tables} == {"audit_trail": 3, "sms_log": 5}
    assert 'SELECT FIRST 2 * FROM (SELECT * FROM "SMS_LOG") AS page_src WHERE "SMS_NO" > ? ORDER BY "SMS_NO"' \
        in source.statements
    assert 'SELECT * FROM "AUDIT_TRAIL" ORDER BY "AT_TS", "WHO"' in source.statements  # a BLOB is not sorted
    assert 'SELECT COUNT(*) AS n, COUNT("SMS_NO") AS k FROM "SMS_LOG"' in source.statements


@pytest.mark.parametrize(("engine", "declared", "order"), [
    ("mssql", ("int", "text", "ntext", "image", "xml", "nvarchar", "varbinary"), "[c0], [c5], [c6]"),
    ("firebird", ("INTEGER", "BLOB SUB_TYPE TEXT", "BLOB SUB_TYPE 0", "BLOB", "VARCHAR"), '"c0", "c4"'),
    ("postgresql", ("int4", "json", "xml", "jsonb", "bytea", "text"), '"c0", "c3", "c4", "c5"'),
    ("mariadb", ("INT", "BLOB", "LONGTEXT"), "`c0`, `c1`, `c2`"),
    ("sqlite", ("", "BLOB", "TEXT"), '"c0", "c1", "c2"'),
])
def test_the_ordered_pass_leaves_out_what_the_engine_cannot_sort(engine: str, declared: tuple[str, ...],
                                                                  order: str) -> None:
    table = CatalogTable("T", "table", tuple(CatalogColumn(f"c{n}", t.upper()) for n, t in enumerate(declared)))
    assert ordered_pass_sql(engine, table) == f"SELECT * FROM {caps_for(engine).quote('T')} ORDER BY {order}"
    blobs_only = CatalogTable("T", "table", (CatalogColumn("a", "IMAGE"),))
    if engine == "mssql":
        assert ordered_pass_sql(engine, blobs_only) == "SELECT * FROM [T]"
