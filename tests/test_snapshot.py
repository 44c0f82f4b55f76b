"""One consistent snapshot for the whole export, proven with REAL concurrent writes.

While the export reads its first entity, a second, writable connection inserts rows into a table the
export has not reached yet (LAB_RSLT, read much later). With the snapshot the export balances and its
bag is byte-identical to an export of the unmodified database. The sibling tests switch the snapshot
off (monkeypatching the engine's ``snapshot_statements`` in the capability table to nothing) and show
the very same scenario is then stopped as not reconciled: the snapshot is what makes the first pass.
Real SQLite file (WAL mode), MariaDB and PostgreSQL (`.ci/dbservers.sh`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyodbc
import pytest

from emr_exporter.demo.clinic import create_demo_clinic
from emr_exporter.demo.load import load_demo_into
from emr_exporter.errors import ReconciliationError
from emr_exporter.jobs.service import ExportOutcome, ExportRequest, run_export
from emr_exporter.pipeline.export import ProgressEvent
from emr_exporter.sources import drivers
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.drivers import get_option, parse_connection_string

CREATED = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
PATIENTS = 12
NEW_ROWS = (
    "INSERT INTO LAB_RSLT (RSLT_NO, VISIT_NO, PT_NO, RSLT_DTTM, TEST_CD, TEST_NM, RSLT_VAL, UNIT, REF_RANGE, "
    "HL_FLAG) VALUES ({key}, NULL, NULL, '20260630', 'GLU', 'glucose', '99', 'mg/dL', '70-110', 'N')"
)
INSERTED_KEYS = (900001, 900002)


@dataclasses.dataclass(frozen=True)
class Clinic:
    sqlite_file: Path
    attachments: Path


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    folder = tmp_path_factory.mktemp("snapshot")
    made = create_demo_clinic(folder / "demo.sqlite", patients=PATIENTS, attachments_dir=folder / "att")
    return Clinic(made.path, made.attachments_root)


def _export(clinic: Clinic, progress: Callable[[ProgressEvent], None] | None = None, **source: Any) -> ExportOutcome:
    request = ExportRequest(connector="demo", attachments_root=clinic.attachments, created=CREATED, page_size=7,
                            source=SourceAddress(**source))
    return run_export(request, progress=progress)


def _writer_on_first_page(write: Callable[[str], None]) -> tuple[Callable[[ProgressEvent], None], list[int]]:
    """A progress callback inserting the new LAB_RSLT rows once, after the first page of the first entity."""
    written: list[int] = []

    def progress(event: ProgressEvent) -> None:
        if event.stage == "export" and not written:
            assert event.entity == "practitioner"  # LAB_RSLT (lab_result) is read much later
            for key in INSERTED_KEYS:
                write(NEW_ROWS.format(key=key))
            written.extend(INSERTED_KEYS)

    return progress, written


def _assert_two_rows_too_many(error: ReconciliationError) -> None:
    """The guard stopped at lab_result because it read the 2 rows inserted after the counts: as soon as its pages
    gave more rows than counted, or (the last page not past the count) once the rows were all handled."""
    paged = re.fullmatch(r"'lab_result': its pages in the order of RSLT_NO gave more rows \((\d+)\) than it holds "
                         r"\((\d+)\)\. .*the clinic database was changed during the export.*", str(error))
    if paged:
        read, counted = (int(n) for n in paged.groups())
        assert read == counted + len(INSERTED_KEYS)
        return
    found = re.fullmatch(
        r"'lab_result': (\d+) source rows but (\d+) exported and (\d+) quarantined\. .*"
        r"was the clinic database changed during the export\?", str(error)
    )
    assert found, str(error)
    counted, exported, quarantined = (int(n) for n in found.groups())
    assert exported + quarantined == counted + len(INSERTED_KEYS)


def _snapshot_off(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    # The fault injection: the capability table without snapshot statements, i.e. the code as it was.
    monkeypatch.setitem(drivers._CAPS, engine, dataclasses.replace(drivers._CAPS[engine], snapshot_statements=()))


# --- SQLite file in WAL mode ---------------------------------------------------------------------

def _wal_copy(clinic: Clinic, target: Path) -> Path:
    shutil.copyfile(clinic.sqlite_file, target)
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    return target


def _sqlite_writer(path: Path) -> Callable[[str], None]:
    conn = sqlite3.connect(path, isolation_level=None)  # each INSERT commits at once

    def write(sql: str) -> None:
        conn.execute(sql)

    return write


def test_sqlite_wal_export_ignores_rows_written_meanwhile(clinic: Clinic, tmp_path: Path) -> None:
    reference = _export(clinic, database=clinic.sqlite_file)
    database = _wal_copy(clinic, tmp_path / "live.sqlite")
    progress, written = _writer_on_first_page(_sqlite_writer(database))

    outcome = _export(clinic, progress, database=database)

    assert written == list(INSERTED_KEYS)  # the EMR really wrote, and committed, during the export
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM LAB_RSLT WHERE RSLT_NO >= 900001").fetchone() == (2,)
    assert outcome.reconciliation.balanced
    assert (outcome.bag_sha256, outcome.bag_bytes) == (reference.bag_sha256, reference.bag_bytes)


def test_sqlite_wal_without_the_snapshot_the_same_writes_are_caught(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _snapshot_off(monkeypatch, "sqlite")
    database = _wal_copy(clinic, tmp_path / "live.sqlite")
    progress, _ = _writer_on_first_page(_sqlite_writer(database))
    with pytest.raises(ReconciliationError) as caught:
        _export(clinic, progress, database=database)
    _assert_two_rows_too_many(caught.value)


def test_sqlite_snapshot_source_holds_a_read_transaction(clinic: Clinic) -> None:
    from emr_exporter.sources.base import SqliteFileSource

    source = SqliteFileSource(clinic.sqlite_file, snapshot=True)
    try:
        assert source.conn.in_transaction and source.consistent
    finally:
        source.close()
    plain = SqliteFileSource(clinic.sqlite_file)
    try:
        assert not plain.conn.in_transaction and not plain.consistent
    finally:
        plain.close()


# --- MariaDB and PostgreSQL ----------------------------------------------------------------------

def _without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


def _odbc_writer(conn_str: str) -> Callable[[str], None]:
    conn = pyodbc.connect(conn_str, autocommit=True)

    def write(sql: str) -> None:
        conn.execute(sql)

    return write


@pytest.fixture(params=["mariadb", "postgresql"])
def server_db(request: pytest.FixtureRequest, clinic: Clinic) -> Iterator[tuple[str, str]]:
    """The demo loaded into the shared test database; the rows the tests insert are deleted afterwards.

    (Not a database of its own: on MariaDB `load_demo_into` sees the demo tables of the other databases
    on the server and then fails to DROP them in an empty one.)
    """
    engine = request.param
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    result = load_demo_into(clinic.sqlite_file, conn_str, replace=True)
    assert result.engine == engine
    yield engine, conn_str
    with pyodbc.connect(conn_str, autocommit=True) as cleanup:
        cleanup.execute(f"DELETE FROM LAB_RSLT WHERE RSLT_NO >= {min(INSERTED_KEYS)}")


@pytest.mark.db
def test_server_export_ignores_rows_written_meanwhile(server_db: tuple[str, str], clinic: Clinic) -> None:
    _, conn_str = server_db
    source = {"odbc": _without_password(conn_str), "password": get_option(conn_str, "PWD")}
    reference = _export(clinic, database=clinic.sqlite_file)  # byte-identical across engines (test_odbc_export)
    progress, written = _writer_on_first_page(_odbc_writer(conn_str))

    outcome = _export(clinic, progress, **source)

    assert written == list(INSERTED_KEYS)
    with pyodbc.connect(conn_str) as check:
        assert check.execute("SELECT COUNT(*) FROM LAB_RSLT WHERE RSLT_NO >= 900001").fetchone()[0] == 2
    assert outcome.reconciliation.balanced
    assert (outcome.bag_sha256, outcome.bag_bytes) == (reference.bag_sha256, reference.bag_bytes)


@pytest.mark.db
def test_server_without_the_snapshot_the_same_writes_are_caught(
    server_db: tuple[str, str], clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, conn_str = server_db
    _snapshot_off(monkeypatch, engine)
    progress, _ = _writer_on_first_page(_odbc_writer(conn_str))
    with pytest.raises(ReconciliationError) as caught:
        _export(clinic, progress, odbc=_without_password(conn_str), password=get_option(conn_str, "PWD"))
    _assert_two_rows_too_many(caught.value)
