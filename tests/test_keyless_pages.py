"""A carried table without a usable key (audit logs, SMS logs, history tables without a primary key) is read
in pages of its ordered pass where the driver would hold the whole result in memory (MariaDB Connector/ODBC,
sqliteodbc, psqlODBC): each page about ``PAGE_BYTES``, every row carried once, in the order of one read of
the whole table, identical rows and NULLs kept (docs/performance.md, "Keyless tables"). Real servers
(``db``: these fail, never skip, when one is down) and sqliteodbc; the stdlib SQLite file keeps one pass."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.errors import SourceConnectionLost
from emr_exporter.pipeline import export
from emr_exporter.pipeline.export import ExportRun, digest_stream
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources import base, paging
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource
from emr_exporter.sources.paging import value_bytes

sys.path.insert(0, str(Path(__file__).parent / "connectors"))

from foreign_schemas import _fresh_database

CONNECTOR = """
[connector]
name = "keyless"
version = "1.0.0"
product = "a patient table and a keyless log (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }
"""

#: PAGE_BYTES here: an ordered page holds about ORDERED_PAGE_FACTOR times it (400 bytes of text: ~30 log rows).
BUDGET = 100


def _log_rows() -> list[tuple[Any, ...]]:
    """(WHO, ACT, AMOUNT, MEMO): NULLs in every column, each row's exact twin (some thrice), user ids and memos
    that differ only by case or by a trailing blank (equal under MariaDB's utf8mb4_general_ci), floats."""
    rows: list[tuple[Any, ...]] = []
    for i in range(150):
        who = None if i % 7 == 0 else ("u" if i % 2 else "U") + str(i % 5)
        act = None if i % 11 == 0 else ("print", "login", "조회 환자 차트", "view ")[i % 4]
        amount = None if i % 5 == 0 else (i % 9) / 7 - 0.5
        memo = None if i % 3 == 0 else ("Memo " if i % 2 else "memo") + "가" * (i % 4) + "x" * 20
        rows.append((who, act, amount, memo))
    rows += rows[::3] + rows[::10]  # identical rows
    rows += [(None, None, None, None)] * 3
    # rows equal to the ORDER BY but not in value (MariaDB: case, a trailing blank; every engine: -0.0 and 0.0),
    # more than a page of them: each page's query must order them alike (without the digest _tie_break adds,
    # PostgreSQL's pages ordered -0.0 and 0.0 otherwise than one query did: another bag)
    rows += [(("u9", "U9", "u9 ")[i % 3], "tie", (0.0, -0.0)[i % 2], "같음") for i in range(90)]
    return rows


class _Noting:
    """A source noting each page of the log's ordered pass: its LIMIT (-1: none), its rows, their values' bytes,
    and its OFFSET (-1: none)."""

    pages: list[tuple[int, int, int, int]]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        rows = super().rows(sql, params)  # type: ignore[misc]
        if "LOG_BOOK" not in sql.upper() or "ORDER BY" not in sql:
            yield from rows
            return
        got = list(rows)
        limit = int(sql.split(" LIMIT ")[1].split()[0]) if " LIMIT " in sql else -1
        offset = int(sql.split(" OFFSET ")[1].split()[0]) if " OFFSET " in sql else -1
        self.pages.append((limit, len(got), value_bytes(tuple(r.values()) for r in got), offset))
        yield from got


class _Recording(_Noting, OdbcSource):
    pass


class _RecordingFile(_Noting, SqliteFileSource):
    pass


def _create(engine: str, conn_str: str | None, path: Path) -> str | None:
    rows = _log_rows()
    if engine.startswith("sqlite"):
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT)")
        conn.execute("CREATE TABLE LOG_BOOK (WHO TEXT COLLATE NOCASE, ACT TEXT, AMOUNT REAL, MEMO TEXT)")
        conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(i, f"C{i}", f"환자{i}") for i in range(1, 4)])
        conn.executemany("INSERT INTO LOG_BOOK VALUES (?, ?, ?, ?)", rows)
        conn.commit()
        conn.close()
        return None
    assert conn_str is not None
    import pyodbc

    target = _fresh_database(conn_str, "emr_keyless_pages", engine)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    conn.execute("CREATE TABLE PATIENT (PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))")
    real = "DOUBLE" if engine == "mariadb" else "DOUBLE PRECISION"
    # MariaDB: a case-insensitive collation, trailing blanks ignored (PAD SPACE)
    suffix = " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" if engine == "mariadb" else ""
    conn.execute(f"CREATE TABLE LOG_BOOK (WHO VARCHAR(10), ACT VARCHAR(40), AMOUNT {real}, MEMO TEXT){suffix}")
    conn.cursor().executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(i, f"C{i}", f"환자{i}") for i in range(1, 4)])
    conn.cursor().executemany("INSERT INTO LOG_BOOK VALUES (?, ?, ?, ?)", rows)
    conn.close()
    return target


def _export(engine: str, target: str | None, path: Path, spec_folder: Path, monkeypatch: pytest.MonkeyPatch,
            source_class: type[OdbcSource] = _Recording, snapshot: bool = True,
            ) -> tuple[str, list[dict[str, Any]], list[tuple[int, int, int, int]], str]:
    """A dry-run export: the bag's SHA-256, the carried log rows (decoded), the ordered pass's pages, its read."""
    carried: list[dict[str, Any]] = []
    add = export.ExportRun._add_carried

    def noting(self: Any, group: str, made: bytes | bytearray) -> Iterator[bytes]:
        if group.startswith("raw/tables/log_book"):
            row = json.loads(made)["row"]  # (its keys sorted: in the table's order again)
            carried.append({k: decode_raw(row[k]) for k in ("who", "act", "amount", "memo")})
        return add(self, group, made)

    monkeypatch.setattr(export.ExportRun, "_add_carried", noting)
    source: Any = (_RecordingFile(path, snapshot=snapshot) if target is None
                   else source_class(target, snapshot=snapshot))
    source.pages = []
    run = ExportRun(load_spec(spec_folder), source, institution=model.Institution(code="12345678", name="의원"),
                    created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    digest = digest_stream(run.stream()).sha256
    source.close()
    monkeypatch.setattr(export.ExportRun, "_add_carried", add)
    [table] = [t for t in run.reconciliation.tables if t.table == "log_book"]
    assert (table.source_rows, table.carried) == (len(_log_rows()), len(_log_rows()))
    return digest, carried, source.pages, table.read


@pytest.mark.parametrize("engine", [
    pytest.param("mariadb", marks=pytest.mark.db), pytest.param("postgresql", marks=pytest.mark.db),
    pytest.param("postgresql-declare-fetch", marks=pytest.mark.db), "sqlite-odbc", "sqlite"])
def test_a_keyless_table_is_carried_in_pages_of_its_ordered_pass(
        engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    # Before: one query over the whole table (ORDER BY every column), which MariaDB Connector/ODBC 3.1.15 and
    # sqliteodbc hold whole in memory: 435 MB for 1.5 million log rows, gigabytes for ten million.
    streams = engine in ("sqlite", "postgresql-declare-fetch")  # rows handed over as they come: one query
    engine, _, _ = engine.partition("-declare")
    conn_str = {"mariadb": "mariadb_conn_str", "postgresql": "postgres_conn_str"}.get(engine)
    path = tmp_path / "clinic.sqlite"
    target = _create(engine, request.getfixturevalue(conn_str) if conn_str else None, path)
    if engine == "sqlite-odbc":
        target = f"DRIVER={{SQLite3}};Database={path}"
    elif engine == "postgresql" and not streams:  # as through a DSN without UseDeclareFetch: psqlODBC buffers
        target = f"{target};UseDeclareFetch=0"
    spec_folder = tmp_path / "keyless"
    spec_folder.mkdir()
    (spec_folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")

    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    # the LIMIT/OFFSET pages, as MariaDB reads a table led by a column that does not compare as it sorts (a
    # DOUBLE); led by a VARCHAR as here, it reads ranges of it: tests/test_keyless_ranges.py
    monkeypatch.setattr(export, "ordered_range_columns", lambda engine, table: [])
    # (PostgreSQL reads a cursor, in the export's snapshot and outside one: test_a_cursor_…, test_outside_…)
    monkeypatch.setattr(export, "ordered_by_cursor", lambda source: False)
    digest, carried, pages, read = _export(engine, target, path, spec_folder, monkeypatch)
    # the same table read in one page: the same bag, byte for byte (the same rows in the same order)
    monkeypatch.setattr(paging, "PAGE_BYTES", 1 << 50)
    monkeypatch.setattr(paging, "FIRST_PAGE_ROWS", 1 << 20)
    monkeypatch.setattr(export, "ORDERED_FIRST_PAGE_ROWS", 1 << 20)
    monkeypatch.setattr(export, "ORDERED_PAGE_ROWS", 1 << 20, raising=False)
    whole_digest, whole, whole_pages, _ = _export(engine, target, path, spec_folder, monkeypatch)
    assert read == "one ordered pass (no usable single-column key)"
    assert whole == carried
    assert whole_digest == digest

    # every row once: identical rows and NULLs kept (as a multiset: the rows the same driver reads in one query)
    source: Any = SqliteFileSource(path) if target is None else OdbcSource(target)
    stored = [tuple(r.values()) for r in source.rows("SELECT * FROM LOG_BOOK")]
    source.close()
    assert len(stored) == len(_log_rows())
    assert Counter(tuple(r.values()) for r in carried) == Counter(stored)
    assert carried.count({"who": None, "act": None, "amount": None, "memo": None}) == 6 == _log_rows().count((None,) * 4)
    if streams:  # the stdlib cursor, psqlODBC with UseDeclareFetch=1 (set by the export): one query, as before
        assert [(limit, rows) for limit, rows, _, _ in pages] == [(-1, len(_log_rows()))]
        return
    assert len(whole_pages) == 1 and whole_pages[0][1] == len(_log_rows())
    # pages: the first of FIRST_PAGE_ROWS, then each about the budget (the last one: what is left)
    assert pages[0][:2] == (16, 16)  # ORDERED_FIRST_PAGE_ROWS (no column that may hold a scan)
    assert len(pages) >= 6, pages
    assert sum(rows for _, rows, _, _ in pages) == len(_log_rows())
    assert all(rows == limit for limit, rows, _, _ in pages[:-1]) and pages[-1][1] < pages[-1][0]
    assert [offset for _, _, _, offset in pages] == [sum(rows for _, rows, _, _ in pages[:n]) for n in range(len(pages))]
    # each sized by the one before it (rows further on in the order may be larger): about the budget, never all
    assert all(size <= 2 * export.ORDERED_PAGE_FACTOR * BUDGET for _, _, size, _ in pages[1:]), pages
    assert max(rows for _, rows, _, _ in pages) < 60, pages



DROPPED_AFTER = 2


class _Dropping(_Recording):
    """sqliteodbc whose connection drops once, after two rows of the third page of the log's ordered pass (its pages
    are a few rows each: sized by a budget of 100 bytes)."""

    dropped = False

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        rows = super().rows(sql, params)
        if " OFFSET " not in sql or len(self.pages) != 2 or self.dropped:  # the third page
            yield from rows
            return
        for n, row in enumerate(rows):
            if n == DROPPED_AFTER:
                self.dropped = True
                raise SourceConnectionLost("The connection to the clinic database was lost: test")
            yield row


def test_after_a_lost_connection_the_next_page_starts_after_the_last_row_carried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clinic.sqlite"
    _create("sqlite-odbc", None, path)
    target = f"DRIVER={{SQLite3}};Database={path}"
    spec_folder = tmp_path / "keyless"
    spec_folder.mkdir()
    (spec_folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    monkeypatch.setattr(base, "RECONNECT_FIRST_WAIT", 0)
    digest, carried, pages, _ = _export("sqlite-odbc", target, path, spec_folder, monkeypatch)
    dropped_digest, dropped, dropped_pages, _ = _export("sqlite-odbc", target, path, spec_folder, monkeypatch,
                                                        source_class=_Dropping)
    assert dropped == carried and dropped_digest == digest  # no row twice, none left out
    # the third page (noted whole, though two of its rows were handed on) read again from its third row, with
    # the same LIMIT; the pages after it two rows further on
    assert dropped_pages[:3] == pages[:3]
    limit, _, _, offset = pages[2]
    assert limit > DROPPED_AFTER  # (else the connection never dropped)
    assert dropped_pages[3][0] == limit and dropped_pages[3][3] == offset + DROPPED_AFTER
    assert sum(rows for _, rows, _, _ in dropped_pages) == len(_log_rows()) + limit - DROPPED_AFTER


class _Statements(OdbcSource):
    """PostgreSQL noting every statement over the log's cursor (DECLARE, MOVE, FETCH, CLOSE) and its rows; its
    connection drops once, after two rows of the third FETCH, where ``drop`` is set."""

    statements: list[tuple[str, int]]
    drop = False

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        rows = super().rows(sql, params)
        if "emr_keyless_" not in sql:
            yield from rows
            return
        fetches = sum(s.startswith("FETCH") for s, _ in self.statements)
        got: list[dict[str, Any]] = []
        try:
            for row in rows:
                if self.drop and fetches == 2 and len(got) == DROPPED_AFTER:
                    self.drop = False
                    rows.close()  # (its cursor closed while the connection is there)
                    raise SourceConnectionLost("The connection to the clinic database was lost: test")
                got.append(row)
                yield row
        finally:
            self.statements.append((sql, len(got)))


@pytest.mark.db
@pytest.mark.parametrize("drop", [False, True])
def test_a_cursor_reads_a_keyless_table_on_postgresql_in_the_snapshot(
        drop: bool, postgres_conn_str: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: LIMIT n OFFSET m pages, each a sort of the whole table (psqlODBC without UseDeclareFetch, as through
    # a DSN that does not set it, holds a whole result): time grew with the square of the table. Now one sort,
    # FETCH FORWARD a page at a time from a cursor in the export's snapshot; the same bag.
    target = _create("postgresql", postgres_conn_str, tmp_path / "unused")
    target = f"{target};UseDeclareFetch=0"
    spec_folder = tmp_path / "keyless"
    spec_folder.mkdir()
    (spec_folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    monkeypatch.setattr(base, "RECONNECT_FIRST_WAIT", 0)
    monkeypatch.setattr(_Statements, "drop", drop)
    _Statements.statements = []
    digest, carried, _, _ = _export("postgresql", target, tmp_path, spec_folder, monkeypatch,
                                    source_class=_Statements)
    statements = _Statements.statements
    monkeypatch.setattr(export, "ordered_by_cursor", lambda source: False)
    offset_digest, offset_carried, offset_pages, _ = _export("postgresql", target, tmp_path, spec_folder,
                                                             monkeypatch)
    assert carried == offset_carried and digest == offset_digest  # the rows and order of the OFFSET pages
    assert len(offset_pages) >= 6 and all(offset >= 0 for _, _, _, offset in offset_pages)
    assert Counter(tuple(r.values()) for r in carried) == Counter(_log_rows())
    # one sort (the DECLARE), no LIMIT/OFFSET page: FETCHes of about the budget, every row fetched once (after
    # a lost connection: declared again and moved past the rows carried)
    declares = [s for s, _ in statements if s.startswith("DECLARE")]
    assert len(declares) == (2 if drop else 1) and " OFFSET " not in declares[0] and " LIMIT " not in declares[0]
    fetches = [(int(s.split()[2]), n) for s, n in statements if s.startswith("FETCH")]
    assert fetches[0] == (16, 16) and len(fetches) >= 6 and max(n for _, n in fetches) < 60, fetches
    assert sum(n for _, n in fetches) == len(_log_rows())
    moves = [s for s, _ in statements if s.startswith("MOVE")]
    if drop:
        third = fetches[2][0]
        assert moves == [f"MOVE FORWARD {16 + fetches[1][0] + DROPPED_AFTER} FROM emr_keyless_1"]
        assert fetches[2] == (third, DROPPED_AFTER) and fetches[3][0] == third
    else:
        assert moves == []
    assert statements[-1][0] == "CLOSE emr_keyless_1"


@pytest.mark.db
@pytest.mark.parametrize("drop", [False, True])
def test_outside_a_snapshot_a_held_cursor_reads_a_keyless_table_on_postgresql(
        drop: bool, postgres_conn_str: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # scan and connector check read without a snapshot (each statement commits), where a cursor would end with
    # its DECLARE. Before: LIMIT n OFFSET m pages there, each a sort of the whole table. Now one sort, into a
    # cursor WITH HOLD, FETCH FORWARD a page at a time; the same bag.
    target = _create("postgresql", postgres_conn_str, tmp_path / "unused")
    target = f"{target};UseDeclareFetch=0"
    spec_folder = tmp_path / "keyless"
    spec_folder.mkdir()
    (spec_folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    monkeypatch.setattr(base, "RECONNECT_FIRST_WAIT", 0)
    monkeypatch.setattr(_Statements, "drop", drop)
    _Statements.statements = []
    digest, carried, _, _ = _export("postgresql", target, tmp_path, spec_folder, monkeypatch,
                                    source_class=_Statements, snapshot=False)
    statements = _Statements.statements
    offset_digest, offset_carried, offset_pages, _ = _export("postgresql", target, tmp_path, spec_folder,
                                                             monkeypatch, snapshot=True)
    assert carried == offset_carried and digest == offset_digest  # the rows and order of the export's
    assert Counter(tuple(r.values()) for r in carried) == Counter(_log_rows())
    assert not any(offset >= 0 for _, _, _, offset in offset_pages)  # (the export's: its own cursor)
    declares = [s for s, _ in statements if s.startswith("DECLARE")]
    assert len(declares) == (2 if drop else 1)
    assert all(d.startswith("DECLARE emr_keyless_1 NO SCROLL CURSOR WITH HOLD FOR SELECT ") for d in declares)
    assert all(" OFFSET " not in d and " LIMIT " not in d for d in declares)
    assert not any(" OFFSET " in s for s, _ in statements)
    fetches = [n for s, n in statements if s.startswith("FETCH")]
    assert fetches[0] == 16 and len(fetches) >= 6 and max(fetches) < 60, fetches
    assert sum(fetches) == len(_log_rows())
    moves = [s for s, _ in statements if s.startswith("MOVE")]
    assert len(moves) == (1 if drop else 0)
    assert statements[-1][0] == "CLOSE emr_keyless_1"
