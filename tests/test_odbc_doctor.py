"""`emr-export doctor`: each hint is produced by a real failure (real drivers, real servers on 127.0.0.1),
except the 32/64-bit mismatch (IM014), which only a Windows driver manager can raise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emr_exporter.cli import main
from emr_exporter.errors import SourceUnavailable
from emr_exporter.sources.connect import (
    ARCHITECTURE_MISMATCH,
    DATABASE_NOT_FOUND,
    DRIVER_NOT_FOUND,
    DSN_NOT_FOUND,
    LOGIN_FAILED,
    PASSWORD_ENV,
    SERVER_REFUSED,
    TIMEOUT,
    classify_odbc_error,
    connect_odbc,
)
from emr_exporter.sources.doctor import check_connection
from emr_exporter.sources.drivers import get_option, set_options
from stall_kit import refusing_port, silent_server

pytestmark = pytest.mark.db

WRONG_PASSWORD = "Wr0ng-p4ss;{not}}this"


def _closed_port() -> int:
    return refusing_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A real TCP listener on 127.0.0.1 that accepts and never says a word (a hung server)."""
    with silent_server() as port:
        yield port


def _problem(conn_str: str, password: str | None = None, timeout: int = 5) -> dict[str, str]:
    report = check_connection(conn_str, password, timeout=timeout)
    assert not report.ok
    assert report.problem is not None
    return report.problem


def test_driver_not_installed() -> None:
    problem = _problem("DRIVER={No Such ODBC Driver};SERVER=127.0.0.1;UID=emr;PWD=secret-x")
    assert problem["kind"] == DRIVER_NOT_FOUND
    assert "'No Such ODBC Driver' is not installed" in problem["hint"]
    assert "MariaDB Unicode" in problem["hint"]  # lists what is installed
    assert "secret-x" not in json.dumps(problem)


def test_dsn_not_found() -> None:
    problem = _problem("DSN=no_such_clinic_dsn")
    assert problem["kind"] == DSN_NOT_FOUND
    assert problem["sqlstate"] == "IM002"
    assert "no ODBC data source named 'no_such_clinic_dsn'" in problem["hint"]


def test_architecture_mismatch_hint() -> None:
    # IM014 comes only from the Windows driver manager; the message is Windows' own text.
    problem = classify_odbc_error(
        "IM014",
        "[Microsoft][ODBC Driver Manager] The specified DSN contains an architecture mismatch between the "
        "Driver and Application",
        "DSN=clinic",
    )
    assert problem.kind == ARCHITECTURE_MISMATCH
    assert "64-bit" in problem.hint and "odbcad32.exe" in problem.hint


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_wrong_password(server: str, mariadb_conn_str: str, postgres_conn_str: str) -> None:
    conn_str = mariadb_conn_str if server == "mariadb" else postgres_conn_str
    problem = _problem(set_options(conn_str, [("PWD", WRONG_PASSWORD)]))
    assert problem["kind"] == LOGIN_FAILED
    assert "Wr0ng" not in json.dumps(problem)
    # The same through the password argument (merged in memory): never echoed back.
    without = ";".join(p for p in conn_str.split(";") if not p.upper().startswith("PWD="))
    report = check_connection(without, WRONG_PASSWORD, timeout=5)
    assert report.problem is not None and report.problem["kind"] == LOGIN_FAILED
    assert "refused the login for user 'emr'" in report.problem["hint"]
    assert "Wr0ng" not in json.dumps(report.problem) and "Wr0ng" not in report.connection


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_unknown_database(server: str, mariadb_conn_str: str, postgres_conn_str: str) -> None:
    conn_str = mariadb_conn_str if server == "mariadb" else postgres_conn_str
    problem = _problem(set_options(conn_str, [("DATABASE", "no_such_db")]))
    assert problem["kind"] == DATABASE_NOT_FOUND
    assert "no database named 'no_such_db'" in problem["hint"]


@pytest.mark.parametrize(
    "driver", ["DRIVER={MariaDB Unicode}", "DRIVER={PostgreSQL Unicode}", "DRIVER={FreeTDS};TDS_Version=7.4"]
)
def test_closed_port_is_refused(driver: str) -> None:
    port = _closed_port()
    problem = _problem(f"{driver};SERVER=127.0.0.1;PORT={port};DATABASE=emr;UID=emr;PWD=pw")
    assert problem["kind"] == SERVER_REFUSED
    assert problem["hint"] == (
        f"The EMR server PC '127.0.0.1:{port}' answers, but no database takes connections on that port: its database "
        "service is not running (or still starting), or the port is wrong. Check that the EMR program works on the "
        "server PC (restart that PC if it does not) and the port; then try again.")


@pytest.mark.parametrize(
    "driver", ["DRIVER={MariaDB Unicode}", "DRIVER={PostgreSQL Unicode}", "DRIVER={FreeTDS};TDS_Version=7.4"]
)
def test_silent_server_is_a_timeout(driver: str, silent_port: int) -> None:
    problem = _problem(f"{driver};SERVER=127.0.0.1;PORT={silent_port};DATABASE=emr;UID=emr;PWD=pw", timeout=1)
    assert problem["kind"] == TIMEOUT
    assert problem["hint"] == (
        f"The database server '127.0.0.1:{silent_port}' took the connection but did not answer the login in time: its "
        "database service is hung or overloaded, or the port belongs to another program. Wait a moment and try "
        "again; if it keeps happening, restart the EMR server PC (or its database service) and check the port.")


def test_freetds_driver_loads_and_reports_sql_server_style_errors() -> None:
    # FreeTDS is loaded by unixODBC (not IM002/01000) and its own message comes back.
    problem = _problem(f"DRIVER={{FreeTDS}};SERVER=127.0.0.1;PORT={_closed_port()};TDS_Version=7.4;UID=sa;PWD=x")
    assert problem["sqlstate"] == "08S01"
    assert "[FreeTDS]" in problem["detail"]


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_successful_check_detects_engine_and_read_only(
    server: str, mariadb_conn_str: str, postgres_conn_str: str
) -> None:
    conn_str = mariadb_conn_str if server == "mariadb" else postgres_conn_str
    password = get_option(conn_str, "PWD")
    report = check_connection(conn_str, None)
    assert report.ok and report.read_only_session is True
    assert report.engine == ("mariadb" if server == "mariadb" else "postgresql")
    assert password and password not in report.connection


def test_connect_odbc_raises_source_unavailable_without_password() -> None:
    with pytest.raises(SourceUnavailable) as caught:
        connect_odbc(f"DRIVER={{MariaDB Unicode}};SERVER=127.0.0.1;PORT={_closed_port()};UID=emr", WRONG_PASSWORD)
    assert str(caught.value).startswith("The EMR server PC '127.0.0.1:")
    assert caught.value.reason == SERVER_REFUSED
    assert "Wr0ng" not in str(caught.value)


def test_connect_odbc_session_is_read_only(mariadb_conn_str: str) -> None:
    import pyodbc

    connection = connect_odbc(mariadb_conn_str)
    try:
        with pytest.raises(pyodbc.Error, match="READ ONLY"):
            connection.execute("CREATE TABLE doctor_ro_probe (id INT)")
    finally:
        connection.close()


def test_cli_lists_drivers_as_json() -> None:
    result = CliRunner().invoke(main, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"MariaDB Unicode", "PostgreSQL Unicode", "SQLite3", "FreeTDS"} <= set(report["drivers"])
    assert report["connection"] is None


def test_cli_password_from_env_is_never_shown(mariadb_conn_str: str) -> None:
    without = ";".join(p for p in mariadb_conn_str.split(";") if not p.upper().startswith("PWD="))
    runner = CliRunner()
    bad = runner.invoke(main, ["doctor", "--odbc", without], env={PASSWORD_ENV: WRONG_PASSWORD})
    assert bad.exit_code == 1
    assert "FAILED (login-failed, SQLSTATE 28000)" in bad.output
    assert "Wr0ng" not in bad.output
    good = runner.invoke(main, ["doctor", "--json", "--odbc", without], env={PASSWORD_ENV: "emr_test_pw"})
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["connection"]["engine"] == "mariadb"
    assert "emr_test_pw" not in good.output


def test_cli_prompted_password(mariadb_conn_str: str) -> None:
    without = ";".join(p for p in mariadb_conn_str.split(";") if not p.upper().startswith("PWD="))
    result = CliRunner().invoke(main, ["doctor", "--odbc", without, "--ask-password"], input="emr_test_pw\n")
    assert result.exit_code == 0, result.output
    assert "OK: MariaDB" in result.output
    assert "emr_test_pw" not in result.output


def test_cli_dsn_from_a_user_odbc_ini(tmp_path: Path, mariadb_conn_str: str) -> None:
    # A real DSN in a private odbc.ini (unixODBC reads $ODBCINI); run in a fresh process so the driver
    # manager reads it.
    ini = tmp_path / "odbc.ini"
    ini.write_text(
        "[clinic_emr]\nDriver=MariaDB Unicode\nSERVER=127.0.0.1\n"
        f"PORT={get_option(mariadb_conn_str, 'PORT')}\nDATABASE=emr_test\nUID=emr\n"
    )
    env = {**os.environ, "ODBCINI": str(ini), PASSWORD_ENV: "emr_test_pw"}
    out = subprocess.run(
        [sys.executable, "-c", "from emr_exporter.cli import main; main()", "doctor", "--json", "--dsn",
         "clinic_emr"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert "clinic_emr" in report["dsns"]
    assert report["connection"]["ok"] and report["connection"]["engine"] == "mariadb"


def test_password_is_not_in_the_process_arguments(silent_port: int) -> None:
    # While doctor waits on a hung server, the command line visible in `ps` has no password.
    env = {**os.environ, PASSWORD_ENV: "Zz-ps-visible-secret"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from emr_exporter.cli import main; main()", "doctor", "--timeout", "3",
         "--odbc", f"DRIVER={{PostgreSQL Unicode}};SERVER=127.0.0.1;PORT={silent_port};DATABASE=x;UID=emr"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline and proc.poll() is None:
            seen = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
            if "doctor" in seen:
                break
            time.sleep(0.05)
        assert "doctor" in seen and "Zz-ps-visible-secret" not in seen
        ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(proc.pid)], capture_output=True, text=True)
        assert "Zz-ps-visible-secret" not in ps.stdout
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "timeout" in stdout
    assert "Zz-ps-visible-secret" not in stdout + stderr
