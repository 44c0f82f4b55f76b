"""Keyset paging over a real SQLite file: every keyed row once, NULL keys left to the caller."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3
from pathlib import Path

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import SqliteFileSource, iter_keyset, iter_keyset_values

CREATED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def test_null_keys_are_skipped_and_paging_ends(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k TEXT, v INTEGER)")
        # SQLite sorts NULL first: three NULL keys fill the first page of two rows.
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), (None, 2), (None, 3), ("a", 4), ("b", 5)])
    source = SqliteFileSource(path)
    # islice: without the NULL filter the paging restarts forever; fail instead of hanging.
    pages = list(itertools.islice(iter_keyset(source, "SELECT * FROM t", "k", page_size=2), 5))
    source.close()
    assert [[row["k"] for row in page] for page in pages] == [["a"], ["b"]]  # the first page: one row (paging)


def test_export_with_null_keys_balances_and_quarantines_each_once(demo_clinic, tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite"
    shutil.copy(demo_clinic.path, path)
    with sqlite3.connect(path) as conn:
        doctors = conn.execute("SELECT COUNT(*) FROM DOCTOR").fetchone()[0]
        conn.executemany("INSERT INTO DOCTOR VALUES (NULL, ?, NULL, NULL, NULL)", [("x",)] * 3)
    spec = load_connector("demo")
    source = SqliteFileSource(path)
    run = ExportRun(
        spec, source, institution=read_institution(spec, source), created=CREATED,
        attachments_root=demo_clinic.attachments_root,
    )
    digest_stream(run.stream())
    source.close()
    practitioner = next(e for e in run.reconciliation.entities if e.entity == "practitioner")
    assert practitioner.source_rows == doctors + 3
    assert practitioner.exported == doctors - 1  # the demo's 'D002 ' cannot be told from 'D002'
    assert practitioner.quarantined == 4 and practitioner.reasons == {"null-key": 3, "ambiguous-key": 1}
    assert run.reconciliation.balanced


def test_text_keys_holding_cp949_bytes_page_in_order(tmp_path: Path) -> None:
    """Legacy text keys that are not UTF-8 come back as bytes; paging past one must not stop early."""
    path = tmp_path / "t.sqlite"
    keys = ["가나" + str(i) for i in range(7)]
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
        # CAST(blob AS TEXT) stores the CP949 bytes as TEXT, as a legacy EMR writing cp949 would.
        conn.executemany("INSERT INTO t VALUES (CAST(? AS TEXT), ?)", [(k.encode("cp949"), i) for i, k in enumerate(keys)])
    source = SqliteFileSource(path)
    pages = list(iter_keyset(source, "SELECT * FROM t", "k", page_size=2))
    source.close()
    read = [row["k"] for page in pages for row in page]
    assert all(isinstance(k, bytes) for k in read)
    assert sorted(k.decode("cp949") for k in read) == sorted(keys)
    assert len(read) == len(keys) and [len(p) for p in pages] == [1, 2, 2, 2]  # the first page: one row


def test_value_pages_are_the_dict_pages(tmp_path: Path) -> None:
    """iter_keyset_values (the rows the export's parent sends its workers) gives iter_keyset's rows as
    dict(zip(names, values)): from SQLite's tuples and from a source that reads dicts only; CP949 bytes,
    NULLs, a name twice, a last page that is full."""
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (K TEXT PRIMARY KEY, v INTEGER, w TEXT, x REAL)")
        conn.executemany("INSERT INTO t VALUES (CAST(? AS TEXT), ?, CAST(? AS TEXT), ?)", [
            (f"가{i}".encode("cp949") if i % 3 else f"k{i}".encode(), i if i % 4 else None,
             "값".encode("cp949") if i % 2 else "값".encode(), i / 7) for i in range(12)])
    source = SqliteFileSource(path)

    class DictsOnly:  # an ODBC source: rows as dicts, no row_values
        engine, label = source.engine, source.label
        rows, keyset_sql = source.rows, source.keyset_sql

    try:
        for sql in ("SELECT * FROM t", "SELECT t.*, t.v AS W FROM t"):
            for page_size in (3, 4, 5):
                expected = list(iter_keyset(source, sql, "K", page_size))
                for reader in (source, DictsOnly()):
                    pages = list(iter_keyset_values(reader, sql, "K", page_size))  # type: ignore[arg-type]
                    assert [[dict(zip(names, values, strict=True)) for values in page] for names, page in pages
                            ] == expected
                    assert all(type(values) is tuple for _, page in pages for values in page)
        assert sum(len(page) for page in expected) == 12 and any(isinstance(r["k"], bytes) for p in expected for r in p)
        assert list(expected[0][0]) == ["k", "v", "w", "x", "w:1"]  # (SQLite renames a name given twice)
    finally:
        source.close()


def test_converters_apply_after_the_last_key_is_taken_as_read(tmp_path: Path) -> None:
    """The export reads a PostgreSQL section's dates as text and converts them after paging
    (``readable_query``): the next page must start after the last key *as the query gives it*, so a converted
    key column pages through every row once, in both page forms."""
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, d TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(f"2024-01-{i:02}", "infinity" if i % 2 else
                                                          f"2023-12-{i:02}") for i in range(1, 8)])
    source = SqliteFileSource(path)
    parse = {"k": dt.date.fromisoformat, "d": lambda text: text if text == "infinity" else dt.date.fromisoformat(text)}
    expected = [{"k": dt.date(2024, 1, i), "d": "infinity" if i % 2 else dt.date(2023, 12, i)} for i in range(1, 8)]
    try:
        for page_size in (2, 7):
            rows = [row for page in iter_keyset(source, "SELECT * FROM t", "k", page_size, parse) for row in page]
            values = [dict(zip(names, v, strict=True))
                      for names, page in iter_keyset_values(source, "SELECT * FROM t", "k", page_size, parse)
                      for v in page]
            assert rows == values == expected, page_size
    finally:
        source.close()


def test_value_pages_decode_text_as_the_dict_pages_when_a_later_page_is_not_utf8(tmp_path: Path) -> None:
    """row_values decodes text in the sqlite3 module until a value is not UTF-8; that page is read again
    with undecodable values as bytes (as rows() gives them), and so are the pages after it."""
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, w TEXT, x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, CAST(? AS TEXT), ?)", [
            (i, ("값" + str(i)).encode("cp949" if i in (9, 13) else "utf-8"), "\x00나\u2028" if i % 2 else None)
            for i in range(16)])
    source = SqliteFileSource(path)
    try:
        expected = list(iter_keyset(source, "SELECT * FROM t", "k", 4))
        pages = list(iter_keyset_values(source, "SELECT * FROM t", "k", 4))
        assert [[dict(zip(names, values, strict=True)) for values in page] for names, page in pages] == expected
        assert [type(row["w"]) for page in expected for row in page] == [
            bytes if i in (9, 13) else str for i in range(16)]
        assert source._utf8_text is False  # (pages 1 and 2 were decoded by the module, 3 and 4 were not)
    finally:
        source.close()


def test_value_pages_never_show_a_text_that_is_not_utf8_and_a_query_error_keeps_the_fast_path(
    tmp_path: Path,
) -> None:
    """The sqlite3 module's decode error names the value: row_values drops it (the first row not UTF-8
    gives that page as rows() reads it); a query that fails for another reason raises the source's own
    error, as rows() does, and does not give up the module's decoding for the pages after it."""
    from emr_exporter.errors import SourceQueryError

    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, w TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, CAST(? AS TEXT))",
                         [(1, "홍길동".encode("cp949")), (2, b"ok")])
    source = SqliteFileSource(path)
    try:
        with pytest.raises(SourceQueryError) as failed:
            source.row_values("SELECT nope FROM t")
        assert str(failed.value).startswith(f"A query on {source.label} failed: no such column: nope")
        assert failed.value.__cause__ is None and failed.value.__suppress_context__  # as rows() raises it
        assert source._utf8_text is True
        assert source.row_values("SELECT * FROM t ORDER BY k") == (
            ("k", "w"), [(1, "홍길동".encode("cp949")), (2, "ok")])
        assert source._utf8_text is False
    finally:
        source.close()


def test_source_address_is_one_typed_place_and_never_shows_its_password(tmp_path: Path) -> None:
    from emr_exporter.errors import SourceUnavailable
    from emr_exporter.sources.address import SourceAddress

    secret = "s3cret-db-pw"
    odbc = SourceAddress(odbc="DRIVER={MariaDB};SERVER=127.0.0.1;DATABASE=emr;UID=reader", password=secret)
    assert odbc.kind == "odbc" and secret not in repr(odbc) and secret not in odbc.label()
    assert SourceAddress(dsn="clinic").kind == "dsn" and SourceAddress(dsn="clinic").label() == "DSN clinic"
    assert SourceAddress().kind is None and SourceAddress(database=tmp_path / "a", dsn="b").kind is None
    # Equal only with the same password: the wizard re-tests a connection whose password changed.
    assert odbc != odbc.with_password("other") and odbc == odbc.with_password(secret)
    path = tmp_path / "clinic.sqlite"
    sqlite3.connect(path).close()
    opened = SourceAddress(database=path).open()
    try:
        assert opened.label == "SQLite file clinic.sqlite" == SourceAddress(database=path).label()
    finally:
        opened.close()
    with pytest.raises(SourceUnavailable, match="Give exactly one of a database file, an ODBC connection string"):
        SourceAddress().open()


def test_sqlite_dict_pages_are_the_rows_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """iter_keyset on a SQLite file makes its dicts from row_values' tuples (no generator step and no Python
    text decoding per value): the same pages as read through rows() (an ODBC source's way), page for page,
    sized alike by their bytes (a small PAGE_BYTES makes the sizer decide every page); CP949 bytes on a later
    page, NULLs, a name given twice, converters."""
    from emr_exporter.sources import paging

    monkeypatch.setattr(paging, "PAGE_BYTES", 300)
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, w TEXT, x TEXT, y REAL)")
        conn.executemany("INSERT INTO t VALUES (?, CAST(? AS TEXT), ?, ?)", [
            (i, ("값" + str(i) * (i % 5)).encode("cp949" if i in (40, 41) else "utf-8"),
             "\x00나\u2028" * (i % 7) if i % 2 else None, i / 7) for i in range(60)])
    source = SqliteFileSource(path)

    class RowsOnly:  # the same file read through rows(), as a source without row_values is
        engine, label = source.engine, source.label
        rows, keyset_sql = source.rows, source.keyset_sql

        @property
        def value_bytes_read(self) -> int:
            return source.value_bytes_read

    convert = {"y": lambda value: round(value, 2)}
    try:
        for sql in ("SELECT * FROM t", "SELECT t.*, t.w AS X FROM t"):
            for page_size, converters in ((5, None), (1000, None), (1000, convert)):
                expected = list(iter_keyset(RowsOnly(), sql, "k", page_size, converters))  # type: ignore[arg-type]
                pages = list(iter_keyset(source, sql, "k", page_size, converters))
                assert pages == expected and [len(p) for p in pages] == [len(p) for p in expected]
                assert sum(len(page) for page in pages) == 60
                assert len({len(page) for page in pages[:-1]}) > 1  # sized by their bytes, not by a count
        assert [type(row["w"]) for page in pages for row in page] == [bytes if i in (40, 41) else str
                                                                      for i in range(60)]
    finally:
        source.close()
