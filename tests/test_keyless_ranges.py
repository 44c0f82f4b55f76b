"""On MariaDB, whose Connector/ODBC 3.1.15 holds a whole result, a carried table without a usable key is read in
ranges of its leading ``ORDER BY`` column (``export.ordered_range_column``): each page sorts its own range, not
the whole table, so the table is sorted about once instead of once a page (docs/performance.md, "Keyless tables
in ranges"). The rows and their order are those of the ``LIMIT n OFFSET m`` pages it replaces (the same bag),
duplicates, NULLs, case variants and trailing blanks included. Real server (``db``: fails, never skips, when
it is down)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
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
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))

from foreign_schemas import _fresh_database

from test_keyless_pages import BUDGET, CONNECTOR  # a patient table and a keyless log; the page budget

pytestmark = pytest.mark.db

COLUMNS = ("lead", "act", "amount", "memo")

#: An ENUM's values, in its order: not the order of their texts.
ENUM_VALUES = ("z", "a", "m", "가", *(f"v{n}" for n in range(9, 0, -1)))
#: The leading column's declared type, and its value for row i (None: NULL). Few distinct values: each value has
#: many rows, some more than a page of them.
LEADS: dict[str, tuple[str, Any]] = {
    # utf8mb4_general_ci: 'u1', 'U1' and 'u1 ' are equal to the ORDER BY and to '=' (a case-insensitive, PAD SPACE
    # collation), 60 rows of 'u9' in all its spellings: more than a page
    "varchar": ("VARCHAR(10)", lambda i: None if i % 7 == 0 else ("u", "U", "u", "U ")[i % 4] + str(i % 5)
                if i < 300 else ("u9", "U9", "u9 ")[i % 3]),
    "datetime": ("DATETIME(3)", lambda i: None if i % 7 == 0 else
                 dt.datetime(2020, 1, 1, 9, 30) + dt.timedelta(milliseconds=250 * (i % 13))),
    # beyond a signed BIGINT and a double's exact integers
    "bigint unsigned": ("BIGINT UNSIGNED", lambda i: None if i % 7 == 0 else 18446744073709551615 - i % 11),
    "decimal": ("DECIMAL(12,3)", lambda i: None if i % 7 == 0 else Decimal(i % 9) / 8 - 1),
    # read as its stored bytes (legacy Korean EMRs keep CP949 bytes in latin1) and sorted so, not as 'u1' = 'U1':
    # ranged by CAST(… AS BINARY); before, LIMIT/OFFSET pages
    "latin1": ("VARCHAR(10) CHARACTER SET latin1", lambda i: None if i % 7 == 0 else
               ("u", "U", "é", "U ")[i % 4] + str(i % 5) if i < 300 else ("u9", "U9", "u9 ")[i % 3]),
    # an audit log's: sorted (and ranged) by the instant stored, UNIX_TIMESTAMP; before, LIMIT/OFFSET pages
    "timestamp": ("TIMESTAMP(3) NULL DEFAULT NULL", lambda i: None if i % 7 == 0 else
                  dt.datetime(2020, 1, 1, 9, 30) + dt.timedelta(milliseconds=250 * (i % 13))),
    # sorted (and ranged) by its index, 'z' first, not its text (c + 0); before, LIMIT/OFFSET pages
    "enum": ("ENUM(" + ", ".join(f"'{v}'" for v in ENUM_VALUES) + ")",
             lambda i: None if i % 7 == 0 else ENUM_VALUES[i % 13] if i < 300 else "a"),
}


def _log_rows(lead: str) -> list[tuple[Any, ...]]:
    """(LEAD, ACT, AMOUNT, MEMO): NULLs in every column, each row's exact twin (some thrice), texts differing only
    by case or a trailing blank, -0.0 and 0.0, 60 rows with one leading value (more than a page)."""
    value = LEADS[lead][1]
    rows: list[tuple[Any, ...]] = []
    for i in range(300):
        act = None if i % 11 == 0 else ("print", "login", "조회 환자 차트", "view ")[i % 4]
        amount = None if i % 5 == 0 else (0.0, -0.0, (i % 9) / 7 - 0.5)[i % 3]
        memo = None if i % 3 == 0 else ("Memo " if i % 2 else "memo") + "가" * (i % 4) + "x" * 20
        rows.append((value(i), act, amount, memo))
    rows += rows[::3] + rows[::10]  # identical rows
    rows += [(None, None, None, None)] * 3
    rows += [(value(300 + i), "tie", (0.0, -0.0)[i % 2], "같음") for i in range(60)]
    return rows


def _create(conn_str: str, lead: str) -> str:
    import pyodbc

    target = _fresh_database(conn_str, "emr_keyless_ranges", "mariadb")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    conn.execute("CREATE TABLE PATIENT (PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))")
    conn.execute(f"CREATE TABLE LOG_BOOK (LEAD {LEADS[lead][0]}, ACT VARCHAR(40), AMOUNT DOUBLE, MEMO TEXT) "
                 "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    conn.cursor().executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(i, f"C{i}", f"환자{i}") for i in range(1, 4)])
    # (a BIGINT UNSIGNED beyond a signed one as its text: pyodbc binds no such int)
    conn.cursor().executemany("INSERT INTO LOG_BOOK VALUES (?, ?, ?, ?)",
                              [(str(r[0]) if isinstance(r[0], int) else r[0], *r[1:]) for r in _log_rows(lead)])
    conn.close()
    return target


class _Recording(OdbcSource):
    """Notes each query over the log: its SQL, parameters and rows."""

    queries: list[tuple[str, tuple[Any, ...], int]]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        got = super().rows(sql, params)
        if "LOG_BOOK" not in sql.upper():
            yield from got
            return
        rows = list(got)
        self.queries.append((sql, tuple(params), len(rows)))
        yield from rows


def _export(target: str, spec_folder: Path, monkeypatch: pytest.MonkeyPatch,
            source_class: type[_Recording] = _Recording) -> tuple[str, list[tuple[Any, ...]], list[Any]]:
    """A dry-run export: the bag's SHA-256, the carried log rows (decoded), the queries over the log."""
    carried: list[tuple[Any, ...]] = []
    add = export.ExportRun._add_carried

    def noting(self: Any, group: str, made: bytes | bytearray) -> Iterator[bytes]:
        if group.startswith("raw/tables/log_book"):
            row = json.loads(made)["row"]
            carried.append(tuple(decode_raw(row[k]) for k in COLUMNS))
        return add(self, group, made)

    monkeypatch.setattr(export.ExportRun, "_add_carried", noting)
    source = source_class(target, snapshot=True)
    source.queries = []
    run = ExportRun(load_spec(spec_folder), source, institution=model.Institution(code="12345678", name="의원"),
                    created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    digest = digest_stream(run.stream()).sha256
    source.close()
    monkeypatch.setattr(export.ExportRun, "_add_carried", add)
    [table] = [t for t in run.reconciliation.tables if t.table == "log_book"]
    assert (table.source_rows, table.carried) == (len(carried), len(carried))
    return digest, carried, source.queries


def _sorted_rows(target: str, queries: list[tuple[str, tuple[Any, ...], int]]) -> list[int]:
    """For each query that sorts log rows by every column and their digest (a page): how many rows it sorts
    (those its WHERE keeps)."""
    source = OdbcSource(target)
    sorted_rows = []
    for sql, params, _ in queries:
        if "MD5(" not in sql:
            continue  # a range's end: a sort of one column
        where = sql.split(" WHERE ", 1)[1].split(" ORDER BY ")[0] if " WHERE " in sql else "1 = 1"
        [row] = source.rows(f"SELECT COUNT(*) AS n FROM LOG_BOOK WHERE {where}", params)
        sorted_rows.append(int(row["n"]))
    source.close()
    return sorted_rows


@pytest.fixture
def spec_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "keyless"
    folder.mkdir()
    (folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    return folder


@pytest.mark.parametrize("lead", list(LEADS))
def test_a_keyless_table_is_read_in_ranges_of_its_leading_column(
        lead: str, mariadb_conn_str: str, spec_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: LIMIT n OFFSET m pages, each a sort of the whole table (by every column and a digest of the row):
    # 1,010,000 log rows took 300 s, ten million would take hours.
    target = _create(mariadb_conn_str, lead)
    rows = _log_rows(lead)
    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    digest, carried, queries = _export(target, spec_folder, monkeypatch)
    # the LIMIT/OFFSET pages of before: the same bag, byte for byte (the same rows in the same order)
    monkeypatch.setattr(export, "ordered_range_columns", lambda engine, table: [])
    offset_digest, offset_carried, offset_queries = _export(target, spec_folder, monkeypatch)
    assert offset_carried == carried
    assert offset_digest == digest

    # every row once: identical rows, NULLs, case variants and trailing blanks kept (as a multiset: what the
    # driver reads in one query)
    source = OdbcSource(target)
    lead_read = "CAST(LEAD AS BINARY) AS LEAD" if lead == "latin1" else "LEAD"  # (carried as its bytes)
    stored = [tuple(r.values()) for r in source.rows(f"SELECT {lead_read}, ACT, AMOUNT, MEMO FROM LOG_BOOK")]
    source.close()
    assert len(stored) == len(rows) == len(carried)
    assert Counter(carried) == Counter(stored)
    assert carried.count((None, None, None, None)) == rows.count((None, None, None, None)) == 6
    if lead == "varchar":
        assert {r[0] for r in carried if r[1] == "tie"} - {None} == {"u9", "U9", "u9 "}
    if lead == "latin1":  # in the order of its bytes: 'U…' before 'u…'
        leading = [r[0] for r in carried if r[0] is not None]
        assert leading == sorted(leading) and {b"u9", b"U9", b"u9 ", "é1".encode("latin1")} <= set(leading)
    if lead == "enum":  # in the ENUM's order (its index), not its text's
        leading = [r[0] for r in carried]
        assert sorted(set(leading) - {None}, key=leading.index) == list(ENUM_VALUES)
        assert leading[:leading.count(None)] == [None] * leading.count(None)

    # ranges: every page's query keeps a range of the leading column (none is LIMIT/OFFSET over the whole table,
    # as each of before's was), and each row is sorted about once, not once a page
    pages = [q for q in queries if "MD5(" in q[0]]
    assert len(pages) >= 10, pages
    assert all(" WHERE " in sql and "`LEAD`" in sql.split(" WHERE ", 1)[1] for sql, _, _ in pages)
    sorted_now = _sorted_rows(target, queries)
    sorted_before = _sorted_rows(target, offset_queries)
    assert sorted_before == [len(rows)] * len(sorted_before) and len(sorted_before) >= 10
    # (the rows equal in the leading columns a range cannot split, more than a page of them, are sorted once a
    # page of theirs: 493 rows sorted 493 to 639 times here, against 8,874 to 10,846 times in before's pages)
    assert sum(sorted_now) <= 2 * len(rows) < sum(sorted_before) / 4, (sorted_now, sorted_before)


def test_a_table_led_by_a_column_that_does_not_compare_as_it_sorts_keeps_offset_pages(
        mariadb_conn_str: str, spec_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a DOUBLE read back as Python's float: LIMIT/OFFSET pages
    import pyodbc

    target = _fresh_database(mariadb_conn_str, "emr_keyless_ranges", "mariadb")
    conn = pyodbc.connect(target, autocommit=True)
    conn.execute("CREATE TABLE PATIENT (PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))")
    conn.execute("CREATE TABLE LOG_BOOK (LEAD DOUBLE, ACT VARCHAR(40), AMOUNT DOUBLE, MEMO TEXT)")
    conn.cursor().executemany("INSERT INTO LOG_BOOK VALUES (?, ?, ?, ?)",
                              [((0.1, 2.5, None)[i % 3], f"act{i % 4}", i / 3, None) for i in range(40)])
    conn.close()
    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    _, carried, queries = _export(target, spec_folder, monkeypatch)
    assert len(carried) == 40
    assert [r[0] for r in carried] == [None] * 13 + [0.1] * 14 + [2.5] * 13
    pages = [sql for sql, _, _ in queries if "MD5(" in sql]
    assert len(pages) > 1 and all(" WHERE " not in sql and " OFFSET " in sql for sql in pages)


DROPPED_AFTER = 2


class _Dropping(_Recording):
    """MariaDB whose connection drops once, after two rows of the fourth page of the log's ranges."""

    dropped = False

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        rows = super().rows(sql, params)
        pages = sum("MD5(" in q[0] for q in self.queries)
        if "MD5(" not in sql or pages != 3 or self.dropped:
            yield from rows
            return
        for n, row in enumerate(rows):
            if n == DROPPED_AFTER:
                self.dropped = True
                raise SourceConnectionLost("The connection to the clinic database was lost: test")
            yield row


def test_after_a_lost_connection_the_range_goes_on_after_the_last_row_carried(
        mariadb_conn_str: str, spec_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _create(mariadb_conn_str, "varchar")
    monkeypatch.setattr(paging, "PAGE_BYTES", BUDGET)
    monkeypatch.setattr(base, "RECONNECT_FIRST_WAIT", 0)
    digest, carried, queries = _export(target, spec_folder, monkeypatch)
    dropped_digest, dropped, dropped_queries = _export(target, spec_folder, monkeypatch, source_class=_Dropping)
    assert dropped == carried and dropped_digest == digest  # no row twice, none left out
    # the fourth page (noted whole, though two of its rows were handed on) read again from its third row: the
    # same range, OFFSET 2 into it
    pages = [q for q in queries if "MD5(" in q[0]]
    dropped_pages = [q for q in dropped_queries if "MD5(" in q[0]]
    assert dropped_pages[:4] == pages[:4]
    sql, params, got = pages[3]
    assert got > DROPPED_AFTER
    assert dropped_pages[4][0] == sql.replace(" OFFSET 0", f" OFFSET {DROPPED_AFTER}") and dropped_pages[4][1] == params
    assert dropped_pages[4][2] == got - DROPPED_AFTER
