"""OdbcSource over the real SQLite ODBC driver: a closed connection (a reconnect that failed earlier)
is a lost connection the page reader reconnects from, not a crash; every value read as it is stored, as the
Python sqlite3 module reads the file (a converted legacy clinic's untyped columns, tests/connectors/legacy_clinic.py)."""

from __future__ import annotations

import contextlib
import math
import random
import sqlite3
import struct
import sys
from pathlib import Path

import pytest

from emr_exporter.errors import SourceConnectionLost
from emr_exporter.sources.base import SqliteFileSource, iter_keyset
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from legacy_clinic import create_legacy_clinic


@pytest.fixture
def odbc_source(demo_clinic):
    import pyodbc

    if "SQLite3" not in pyodbc.drivers():
        pytest.fail("the SQLite3 ODBC driver is not installed (.ci/install-system.sh installs it)")
    source = OdbcSource(f"DRIVER={{SQLite3}};Database={Path(demo_clinic.path)}")
    yield source
    with contextlib.suppress(pyodbc.ProgrammingError):  # the first test leaves it closed
        source.close()


def test_closed_connection_is_a_lost_connection(odbc_source: OdbcSource) -> None:
    odbc_source.conn.close()
    with pytest.raises(SourceConnectionLost, match="closed"):
        odbc_source.scalar("SELECT 1")


def test_page_reader_reconnects_a_closed_connection(odbc_source: OdbcSource) -> None:
    expected = odbc_source.scalar("SELECT COUNT(*) FROM DOCTOR")
    odbc_source.conn.close()
    pages = list(iter_keyset(odbc_source, "SELECT * FROM DOCTOR", "DR_ID", page_size=100))
    assert sum(len(page) for page in pages) == expected > 0


def _exactly(value: object) -> tuple[type, object]:
    """A value with its type; a float by its bits (-0.0 is not 0.0)."""
    return type(value), struct.pack("<d", value) if isinstance(value, float) else value


def test_sqlite_over_odbc_reads_every_value_as_it_is_stored(tmp_path: Path) -> None:
    # Before, sqliteodbc converted each value to the column's declared type (an untyped column by its first
    # row): the legacy clinic's '24-02-02' came back as 24, '3,000원' as 3, 2500.5 as 2500, a CP949 BLOB as the
    # text "X'B1E8C8AFC0DA33'", 1 as '1', -0.0 as b'0.0', and a REAL with 15 digits (0.1 + 0.2 as 0.3).
    clinic = create_legacy_clinic(tmp_path / "legacy.sqlite")
    conn = sqlite3.connect(clinic.path)
    conn.execute("CREATE TABLE reals (id INTEGER PRIMARY KEY, x REAL, y)")
    rng = random.Random(7)
    bits = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(1500)]
    reals = [x for x in bits if not math.isnan(x)] + [
        0.1 + 0.2, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.0, 1e999, -1e999, 36.5]
    conn.executemany("INSERT INTO reals (x, y) VALUES (?, ?)", [(x, x) for x in reals])
    conn.commit()
    conn.close()
    tables = [*clinic.rows, "reals"]
    file_source = SqliteFileSource(clinic.path)
    source = OdbcSource(f"DRIVER={{SQLite3}};Database={clinic.path}")
    try:
        for table in tables:
            expected = list(file_source.rows(f"SELECT * FROM {table}"))
            found = list(source.rows(f"SELECT * FROM {table}"))
            assert [[(k, _exactly(v)) for k, v in row.items()] for row in found] == [
                [(k, _exactly(v)) for k, v in row.items()] for row in expected], table
        # as the builder stored them, not only as the file source reads them (a REAL column stores -0.0 as 0)
        assert [_exactly(r["y"]) for r in source.rows("SELECT y FROM reals")] == [_exactly(x) for x in reals]
        assert [r["val"] for r in source.rows("SELECT VAL FROM SETUP WHERE ITEM IN ('negzero', 'cp949text', "
                                              "'max', 'sep') ORDER BY ITEM")] == [
            "한글설정".encode("cp949"), 9223372036854775807, -0.0, "1,234,567"]
        # a query's own columns, a repeated name (one key, as the file source reads it), a parameter, and a
        # PRAGMA (not wrapped) read as before
        query = "SELECT JDATE, JDATE, FEE AS f, JTIME FROM JINRYO WHERE JNO IN (?, ?) ORDER BY JNO"
        assert list(source.rows(query, (1, 7))) == list(file_source.rows(query, (1, 7))) == [
            {"jdate": 1700086400, "f": 1500, "jtime": "10:01"}, {"jdate": "24-02-02", "f": "3,000원", "jtime": "11:02"}]
        assert [r["name"] for r in source.rows("PRAGMA table_info(SETUP)")] == ["ITEM", "VAL"]
        # a connector's query that starts or ends with a comment is read exactly too
        assert list(source.rows("-- the legacy visits\n/* all */ SELECT FEE FROM JINRYO WHERE JNO = 3 -- fee")) == [
            {"fee": 2500.5}]
    finally:
        source.close()
        file_source.close()


def test_sqlite_over_odbc_names_columns_as_the_file_does_and_stays_read_only(tmp_path: Path) -> None:
    # Before: the names came from the driver, which gives a Hangul name's length in UTF-8 bytes (pyodbc read past
    # its end: now and then 'The ODBC driver gave a column name this program cannot read …') and cuts a name at
    # its last dot ('a.b' as 'b': 'The SQLite ODBC driver cuts a column name at its last dot …'). Now they are
    # read as values from an empty TEMP table, with query_only lifted for that alone.
    import pyodbc

    path = tmp_path / "names.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE 환자 (차트번호 TEXT PRIMARY KEY, 환자명 TEXT, "혈압.수축기" INTEGER, "a.b" TEXT)')
        conn.executemany("INSERT INTO 환자 VALUES (?, ?, ?, ?)", [(f"{i:06d}", f"환자{i}", 110 + i, "d.ot")
                                                                 for i in range(1, 6)])
    conn.close()
    query = 'SELECT *, 환자명, "a.b" FROM 환자 WHERE 차트번호 > ? ORDER BY 차트번호'
    file = SqliteFileSource(path)
    expected = list(file.rows(query, ("000003",)))
    file.close()
    assert [list(r) for r in expected] == [["차트번호", "환자명", "혈압.수축기", "a.b"]] * 2
    for snapshot in (False, True):
        source = OdbcSource(f"DRIVER={{SQLite3}};Database={path}", snapshot=snapshot)
        try:
            for _ in range(20):  # the driver's garbage past a name's end differs from call to call
                source._sqlite_exact.clear()
                assert list(source.rows(query, ("000003",))) == expected
            assert source.result_columns(query.replace("?", "'000003'")) == [
                ("차트번호", ""), ("환자명", ""), ("혈압.수축기", ""), ("a.b", ""), ("환자명", ""), ("a.b", "")]
            with pytest.raises(pyodbc.Error, match="attempt to write a readonly database"):
                source.conn.execute("CREATE TEMP TABLE x (a)")
            assert source.scalar("SELECT count(*) FROM sqlite_temp_master") == 0
        finally:
            source.close()
