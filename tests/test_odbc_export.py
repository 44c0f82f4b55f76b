"""The demo clinic exported from SQLite over ODBC, MariaDB and PostgreSQL gives byte-identical canonical
output to the SQLite-file export: same bag stream SHA-256, dirty rows, CP949 text and `?` text included.
Real servers started by `.ci/dbservers.sh` (these tests fail, never skip, when one is down)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyodbc
import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.demo.clinic import create_demo_clinic
from emr_exporter.demo.load import load_demo_into
from emr_exporter.errors import SourceQueryError
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.connect import PASSWORD_ENV
from emr_exporter.sources.drivers import get_option, parse_connection_string

pytestmark = pytest.mark.db

CREATED = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
PATIENTS = 40  # every planted defect is present at any size; small keeps the suite fast


def _without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


@dataclass(frozen=True)
class LoadedClinic:
    sqlite_file: Path
    attachments: Path
    targets: dict[str, str]  # name → connection string (with password: test servers only)


@pytest.fixture(scope="module")
def loaded_clinic(
    tmp_path_factory: pytest.TempPathFactory, mariadb_conn_str: str, postgres_conn_str: str
) -> LoadedClinic:
    folder = tmp_path_factory.mktemp("odbc-demo")
    clinic = create_demo_clinic(folder / "demo-clinic.sqlite", patients=PATIENTS, attachments_dir=folder / "att")
    targets = {
        "sqlite-odbc": f"DRIVER={{SQLite3}};Database={folder / 'odbc-copy.sqlite'}",
        "mariadb": mariadb_conn_str,
        "postgresql": postgres_conn_str,
    }
    for name, conn_str in targets.items():
        result = load_demo_into(clinic.path, conn_str, replace=True)
        assert result.engine == name
        assert result.rows == clinic.source_rows
    return LoadedClinic(clinic.path, clinic.attachments_root, targets)


def _export(clinic: LoadedClinic, **source: Any) -> Any:
    request = ExportRequest(
        connector="demo", attachments_root=clinic.attachments, created=CREATED, page_size=97,
        source=SourceAddress(**source),
    )
    return run_export(request)


@pytest.fixture(scope="module")
def file_export(loaded_clinic: LoadedClinic) -> Any:
    return _export(loaded_clinic, database=loaded_clinic.sqlite_file)


@pytest.mark.parametrize("engine", ["sqlite-odbc", "mariadb", "postgresql"])
def test_export_is_byte_identical_to_the_sqlite_file(
    engine: str, loaded_clinic: LoadedClinic, file_export: Any
) -> None:
    conn_str = loaded_clinic.targets[engine]
    outcome = _export(loaded_clinic, odbc=_without_password(conn_str), password=get_option(conn_str, "PWD"))
    assert outcome.reconciliation.balanced
    # The inventory, the carried tables and the column sidecars included.
    assert outcome.to_dict()["reconciliation"] == file_export.to_dict()["reconciliation"]
    assert (outcome.bag_sha256, outcome.bag_bytes) == (file_export.bag_sha256, file_export.bag_bytes)


def test_dirty_rows_are_quarantined_the_same_everywhere(file_export: Any) -> None:
    # The reference export itself: `?` text flagged as lossy, bad CP949 bytes flagged, nothing guessed.
    reasons: dict[str, int] = {}
    for entity in file_export.to_dict()["reconciliation"]["entities"]:
        for reason, count in entity["quarantine_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    assert reasons["bad-encoding"] == 1  # PT_NM, a required field: the row is quarantined
    # Optional fields: the rows are kept, the field dropped and carried raw (field-level quarantine).
    defects = file_export.to_dict()["reconciliation"]["field_defects"]
    assert defects["lossy-text"] == 3  # DIAG_NM, CHART_REC.COURSE, IMG_RPT.RPT_TXT hold '????'
    assert defects["bad-encoding"] == 2  # DIAG_NM, CHART_REC.CC


@pytest.mark.parametrize("engine", ["mariadb", "postgresql", "sqlite-odbc"])
def test_cp949_bytes_come_back_exactly(engine: str, loaded_clinic: LoadedClinic) -> None:
    import sqlite3

    expected = sqlite3.connect(loaded_clinic.sqlite_file).execute(
        "SELECT PT_NO, PT_NM FROM PT_MASTER ORDER BY PT_NO"
    ).fetchall()
    with pyodbc.connect(loaded_clinic.targets[engine]) as conn:
        got = [tuple(r) for r in conn.execute("SELECT PT_NO, PT_NM FROM PT_MASTER ORDER BY PT_NO").fetchall()]
    assert got == expected
    assert any(isinstance(name, bytes) and name.decode("cp949") for _, name in got)


def test_cli_export_from_mariadb_matches_the_file(loaded_clinic: LoadedClinic, mariadb_conn_str: str) -> None:
    runner = CliRunner()
    common = ["export", "--connector", "demo", "--attachments-root", str(loaded_clinic.attachments),
              "--dry-run", "--json"]
    from_file = runner.invoke(main, [*common, "--source", str(loaded_clinic.sqlite_file)])
    from_odbc = runner.invoke(
        main, [*common, "--odbc", _without_password(mariadb_conn_str)],
        env={PASSWORD_ENV: get_option(mariadb_conn_str, "PWD")},
    )
    assert from_file.exit_code == 0, from_file.output
    assert from_odbc.exit_code == 0, from_odbc.output
    assert json.loads(from_odbc.output)["bag"] == json.loads(from_file.output)["bag"]


def test_cli_export_with_a_wrong_password_names_no_password(mariadb_conn_str: str) -> None:
    result = CliRunner().invoke(
        main, ["export", "--connector", "demo", "--odbc", _without_password(mariadb_conn_str), "--dry-run"],
        env={PASSWORD_ENV: "Very-Wrong-Pass-123"},
    )
    assert result.exit_code != 0
    assert "refused the login for user 'emr'" in result.output
    assert "Very-Wrong-Pass-123" not in result.output


def test_cli_demo_load_into(tmp_path: Path, postgres_conn_str: str) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--out", str(tmp_path), "--patients", "5", "--load-into",
               _without_password(postgres_conn_str), "--replace", "--json"],
        env={PASSWORD_ENV: get_option(postgres_conn_str, "PWD")},
    )
    assert result.exit_code == 0, result.output
    loaded = json.loads(result.output.strip().splitlines()[-1])
    assert loaded["engine"] == "postgresql" and loaded["rows"]["EMR_META"] == 2
    assert "PWD" not in loaded["target"]
    # Loading again without --replace refuses to touch existing tables.
    again = CliRunner().invoke(
        main, ["demo", "--out", str(tmp_path), "--load-into", postgres_conn_str],
    )
    assert again.exit_code == 2
    assert "already has tables named like the demo's" in again.output
    assert get_option(postgres_conn_str, "PWD") not in again.output


@pytest.fixture
def mariadb_zero_dates(mariadb_conn_str: str) -> Iterator[str]:
    with pyodbc.connect(mariadb_conn_str, autocommit=True) as conn:
        conn.execute("SET SESSION sql_mode = ''")
        conn.execute("DROP TABLE IF EXISTS ZERO_DATES")
        conn.execute("CREATE TABLE ZERO_DATES (ID INT PRIMARY KEY, BIRTH DATE, SEEN DATETIME)")
        conn.execute("INSERT INTO ZERO_DATES VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), "
                     "(2, '1980-02-03', '2020-01-02 03:04:05'), (3, '2019-00-10', NULL)")
    yield mariadb_conn_str
    with pyodbc.connect(mariadb_conn_str, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS ZERO_DATES")


def test_mariadb_zero_dates_are_kept_raw_through_the_source(mariadb_zero_dates: str) -> None:
    from emr_exporter.sources.odbc import OdbcSource

    source = OdbcSource(mariadb_zero_dates)
    try:
        caps = source.caps
        assert caps.zero_dates_as_none
        # The driver alone would give 0000-00-00 as None (the raw value lost) and fail the query on a zero
        # month; the source fetches dates as text (caps.temporals_as_text): a real date is a date, a zero
        # date or a zero month is kept as its text, a NULL stays NULL.
        assert caps.temporals_as_text
        plain = [(r["birth"], r["seen"]) for r in source.rows("SELECT BIRTH, SEEN FROM ZERO_DATES ORDER BY ID")]
        assert plain == [("0000-00-00", "0000-00-00 00:00:00"), (dt.date(1980, 2, 3), dt.datetime(2020, 1, 2, 3, 4, 5)),
                         ("2019-00-10", None)]
        raw_sql = (f"SELECT ID, {caps.raw_text('BIRTH')} AS BIRTH, {caps.raw_text('SEEN')} AS SEEN "
                   "FROM ZERO_DATES")
        pages = [
            [(r["id"], r["birth"], r["seen"]) for r in source.rows(
                source.keyset_sql(raw_sql, "ID", 2, first=True))],
        ]
        last = pages[0][-1][0]
        pages.append([(r["id"], r["birth"], r["seen"]) for r in source.rows(
            source.keyset_sql(raw_sql, "ID", 2, first=False), (last,))])
    finally:
        source.close()
    assert pages == [
        [(1, "0000-00-00", "0000-00-00 00:00:00"), (2, "1980-02-03", "2020-01-02 03:04:05")],
        [(3, "2019-00-10", None)],
    ]


_KILL_OTHER_SESSIONS = {
    # Real faults caused on the real servers: the export's own session is terminated from another one.
    "mariadb": (
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'emr' AND ID <> CONNECTION_ID() "
        "AND DB = DATABASE()",
        "KILL CONNECTION {}",
    ),
    "postgresql": (
        "SELECT pid FROM pg_stat_activity WHERE usename = 'emr' AND pid <> pg_backend_pid() "
        "AND datname = current_database()",
        "SELECT pg_terminate_backend({})",
    ),
}


@pytest.mark.parametrize("engine", ["mariadb", "postgresql"])
def test_a_dropped_connection_is_retried_and_the_export_resumes_from_its_checkpoint(
    engine: str, loaded_clinic: LoadedClinic, file_export: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conn_str = loaded_clinic.targets[engine]
    # Other tests in this module load other clinics into the same server: load this one again.
    load_demo_into(loaded_clinic.sqlite_file, conn_str, replace=True)
    find_sql, kill_sql = _KILL_OTHER_SESSIONS[engine]
    killed: list[Any] = []

    def kill_after_first_encounter_page(event: Any) -> None:
        if killed or event.stage != "export" or event.entity != "encounter":
            return
        admin = pyodbc.connect(conn_str, autocommit=True)
        try:
            sessions = [row[0] for row in admin.execute(find_sql).fetchall()]
            assert sessions, "the export's session must be visible to the admin session"
            for session in sessions:
                admin.execute(kill_sql.format(int(session)))
            killed.extend(sessions)
        finally:
            admin.close()

    request = ExportRequest(
        connector="demo", attachments_root=loaded_clinic.attachments, created=CREATED, page_size=97,
        source=SourceAddress(odbc=_without_password(conn_str), password=get_option(conn_str, "PWD")),
    )
    with caplog.at_level("WARNING", logger="emr_exporter.sources.base"):
        outcome = run_export(request, progress=kill_after_first_encounter_page)
    assert killed, "the fault was injected"
    assert any("connection to the clinic database lost; reconnecting" in r.getMessage() for r in caplog.records)
    # Nothing lost, nothing repeated: the same bytes as the export that was never interrupted.
    assert outcome.reconciliation.to_dict() == file_export.reconciliation.to_dict()
    assert outcome.bag_sha256 == file_export.bag_sha256


def test_a_data_error_never_quotes_the_stored_value(postgres_conn_str: str) -> None:
    from emr_exporter.sources.odbc import OdbcSource

    source = OdbcSource(_without_password(postgres_conn_str), password=get_option(postgres_conn_str, "PWD"))
    try:
        # PostgreSQL's own message would be: invalid input syntax for type integer: "홍길동"
        with pytest.raises(SourceQueryError) as caught:
            list(source.rows("SELECT CAST('홍길동' AS integer) AS n"))
    finally:
        source.close()
    assert str(caught.value) == (
        "A query on the clinic database failed: SQLSTATE 22P02: a stored value could not be read "
        "(the value is not shown)"
    )


def test_loading_into_an_empty_mariadb_database_ignores_other_databases(
    loaded_clinic: LoadedClinic, mariadb_conn_str: str
) -> None:
    """emr_test already holds the demo tables; a fresh database on the same server must load without --replace."""
    admin = pyodbc.connect(mariadb_conn_str, autocommit=True)
    try:
        admin.execute("DROP DATABASE IF EXISTS emr_fresh_load")
        admin.execute("CREATE DATABASE emr_fresh_load CHARACTER SET utf8mb4")
    finally:
        admin.close()
    fresh = ";".join(f"{k}={v}" if k.upper() != "DATABASE" else "DATABASE=emr_fresh_load"
                     for k, v in parse_connection_string(mariadb_conn_str))
    fresh = fresh.replace("DRIVER=MariaDB Unicode", "DRIVER={MariaDB Unicode}")
    result = load_demo_into(loaded_clinic.sqlite_file, fresh, replace=False)
    assert result.engine == "mariadb"
    assert sum(result.rows.values()) > 0
