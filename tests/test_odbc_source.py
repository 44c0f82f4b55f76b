"""OdbcSource over the real SQLite ODBC driver: a closed connection (a reconnect that failed earlier)
is a lost connection the page reader reconnects from, not a crash."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from emr_exporter.errors import SourceConnectionLost
from emr_exporter.sources.base import iter_keyset
from emr_exporter.sources.odbc import OdbcSource


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
