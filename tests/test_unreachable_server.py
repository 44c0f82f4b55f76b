"""A clinic database server that cannot be reached, on the real drivers (MariaDB Connector/ODBC, psqlODBC): the server
PC switched off (its port never answers the TCP SYN), a PC that refuses (no database listens), a database that takes
the TCP connection and never says a word, one that greets and then stops answering the login, a wrong password and a
database name that does not exist. ``scan``, ``export`` and ``doctor`` each end with one message saying what to do,
exit code 1, no password in it; Stop and Ctrl-C end a connect that waits at once, and a connection the driver makes
after all is closed by the driver's own thread (never freed under it). Before, MariaDB Connector/ODBC ignored the
ODBC login timeout (a switched-off server held the connect for over 40 s; at the login's answer its READ_TIMEOUT, an
hour), Stop was seen only once the source was open, and ``doctor`` answered Ctrl-C only after its login timeout."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emr_exporter.cli import main
from emr_exporter.errors import ExportCancelled, SourceUnavailable
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources import connect
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.connect import LOGIN_ENV, PASSWORD_ENV
from emr_exporter.sources.drivers import get_option, parse_connection_string, set_options
from emr_exporter.sources.odbc import OdbcSource
from stall_kit import WITHIN, interruptible, refusing_port, relay_to, run_limited, silent_server, switched_off_server

pytestmark = pytest.mark.db

ENGINES = ["mariadb", "postgresql"]
WRONG_PASSWORD = "Wr0ng-Pw;{x}}9"
DEMO_CONNECTOR = Path(__file__).resolve().parents[1] / "connectors" / "demo"
#: What the first bytes of each driver's login hold (the user name), where the relay stops: greeted, then silence.
LOGIN_REQUEST = b"emr"


def refused_hint(where: str) -> str:
    return (f"The EMR server PC '{where}' answers, but no database takes connections on that port: its database "
            "service is not running (or still starting), or the port is wrong. Check that the EMR program works on "
            "the server PC (restart that PC if it does not) and the port; then try again.")


def off_hint(where: str) -> str:
    return (f"The EMR server PC '{where}' does not answer: it may be switched off, or the network to it is down. "
            "Check that the EMR server PC is switched on and connected to the network (cable, Wi-Fi), and the server "
            "name and port; then try again.")


def hung_hint(where: str) -> str:
    return (f"The database server '{where}' took the connection but did not answer the login in time: its database "
            "service is hung or overloaded, or the port belongs to another program. Wait a moment and try again; if "
            "it keeps happening, restart the EMR server PC (or its database service) and check the port.")


LOGIN_HINT = ("The database refused the login for user 'emr'. Check the user name and password (set "
              "EMR_EXPORTER_DB_PASSWORD or use --ask-password); ask the EMR vendor for a read-only account if you do "
              "not have one.")
DATABASE_HINT = ("The server answered, but it has no database named 'no_such_db'. Check DATABASE= in the connection "
                 "string.")
CASES = ["switched off", "refused", "silent", "login unanswered", "wrong password", "no such database"]


@contextlib.contextmanager
def case_server(case: str, conn_str: str) -> Iterator[tuple[str, str, str, str]]:
    """(connection string without password, password, problem kind, hint) of ``case`` against ``conn_str``'s server."""
    password = get_option(conn_str, "PWD") or ""
    bare = ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")

    def on(port: int) -> str:
        return set_options(bare, [("PORT", str(port))])

    if case == "switched off":
        with switched_off_server() as port:
            yield on(port), password, "server-unreachable", off_hint(f"127.0.0.1:{port}")
    elif case == "refused":
        port = refusing_port()
        yield on(port), password, "server-refused", refused_hint(f"127.0.0.1:{port}")
    elif case == "silent":
        with silent_server() as port:
            yield on(port), password, "timeout", hung_hint(f"127.0.0.1:{port}")
    elif case == "login unanswered":
        with relay_to(conn_str) as relay:
            relay.stall_on(LOGIN_REQUEST, new_connections_too=True)
            yield on(relay.port), password, "timeout", hung_hint(f"127.0.0.1:{relay.port}")
    elif case == "wrong password":
        yield bare, WRONG_PASSWORD, "login-failed", LOGIN_HINT
    else:
        yield set_options(bare, [("DATABASE", "no_such_db")]), password, "database-not-found", DATABASE_HINT


def assert_said(message: str, hint: str, password: str) -> None:
    """The message is the hint and the driver's own words (state and text), never a password."""
    assert re.fullmatch(re.escape(hint) + r" \(ODBC [0-9A-Z]{5}: .+\)", message, re.DOTALL), message
    assert password not in message and WRONG_PASSWORD not in message


@pytest.fixture
def targets(mariadb_conn_str: str, postgres_conn_str: str) -> dict[str, str]:
    return {"mariadb": mariadb_conn_str, "postgresql": postgres_conn_str}


@pytest.fixture
def short_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOGIN_ENV, "2")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_opening_the_source_ends_with_one_message_per_case(
    engine: str, case: str, targets: dict[str, str], short_login: None
) -> None:
    with case_server(case, targets[engine]) as (conn_str, password, kind, hint):
        outcome, _took = run_limited(lambda: OdbcSource(conn_str, password))
    assert isinstance(outcome, SourceUnavailable), outcome
    assert outcome.reason == kind
    assert_said(str(outcome), hint, password)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_scan_export_and_doctor_say_what_to_do_with_exit_code_1(
    engine: str, case: str, targets: dict[str, str], short_login: None, tmp_path: Path
) -> None:
    runner = CliRunner()
    with case_server(case, targets[engine]) as (conn_str, password, kind, hint):
        env = {PASSWORD_ENV: password, LOGIN_ENV: "2"}
        source = ["--odbc", conn_str, "--attachments-root", str(tmp_path)]
        for command in (["scan", "--connector", "demo", *source, "--json"],
                        ["export", "--connector", "demo", *source, "--dry-run", "--json"]):
            done = runner.invoke(main, command, env=env)
            assert done.exit_code == 1, done.output
            error = json.loads(done.output.strip().splitlines()[-1])["error"]
            assert error["code"] == "source-unavailable"
            assert_said(error["message"], hint, password)
        doctor = runner.invoke(main, ["doctor", "--odbc", conn_str, "--timeout", "2"], env=env)
    assert doctor.exit_code == 1, doctor.output
    lines = doctor.output.splitlines()
    failed = lines.index(next(line for line in lines if line.startswith("  FAILED (")))
    assert re.fullmatch(rf"  FAILED \({re.escape(kind)}, SQLSTATE [0-9A-Z]{{5}}\)", lines[failed])
    assert lines[failed + 1] == f"  {hint}"
    assert password not in doctor.output and WRONG_PASSWORD not in doctor.output


def dry_run(conn_str: str, password: str) -> ExportRequest:
    return ExportRequest(connector="demo", attachments_root=Path("."), page_size=5,
                         created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                         source=SourceAddress(odbc=conn_str, password=password))


@pytest.mark.parametrize("job", ["export", "scan", "test connection"])
@pytest.mark.parametrize("case", ["switched off", "login unanswered"])
@pytest.mark.parametrize("engine", ENGINES)
def test_stop_while_connecting_ends_the_job_at_once(engine: str, case: str, job: str, targets: dict[str, str]) -> None:
    """Stop one second into a connect that waits (the 15 s login timeout; at the login's answer MariaDB's hour):
    the job ends within the poll step, with its own cancel message."""
    from emr_exporter.jobs.authoring import scan_database, test_connection

    cancel = threading.Event()
    with case_server(case, targets[engine]) as (conn_str, password, _kind, _hint):
        address = SourceAddress(odbc=conn_str, password=password)
        run = {"export": lambda: run_export(dry_run(conn_str, password), cancel=cancel),
               "scan": lambda: scan_database("demo", address, Path("."), cancel=cancel),
               "test connection": lambda: test_connection(address, cancel=cancel)}[job]
        timer = threading.Timer(1.0, cancel.set)
        timer.start()
        outcome, took = run_limited(run)
    assert isinstance(outcome, ExportCancelled), outcome
    assert str(outcome) == {
        "export": "The export was cancelled. It was a dry run: nothing was written; the next run starts over.",
        "scan": "The scan was cancelled. Nothing was written.",
        "test connection": "The export was cancelled.",
    }[job]
    assert took < 5  # 1 s, then the 0.2 s poll step: not the login timeout


#: What each driver sends when a connection is closed (SQLDisconnect): MariaDB's COM_QUIT, PostgreSQL's Terminate.
GOODBYE = {"mariadb": b"\x01\x00\x00\x00\x01", "postgresql": b"X\x00\x00\x00\x04"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_connection_made_after_stop_is_closed_by_the_drivers_own_thread(
    engine: str, targets: dict[str, str]
) -> None:
    """Stop while the network holds every byte, then the network comes back: the driver finishes the login it was
    in, and the connection it makes is closed in the connect's own thread (the driver says goodbye to the server),
    not left open on the server and not freed from the waiting thread while the driver still used it."""
    cancel = threading.Event()
    with relay_to(targets[engine]) as relay:
        sent: list[bytes] = []
        told = relay._sent
        relay._sent = lambda data: (sent.append(data), told(data))  # type: ignore[method-assign]
        relay.stall(new_connections_too=True)
        threading.Timer(1.0, cancel.set).start()
        outcome, _took = run_limited(lambda: OdbcSource(relay.conn_str, cancel=cancel))
        assert isinstance(outcome, ExportCancelled), outcome
        assert len(relay.links) == 1 and not relay.links[0].closed.is_set()  # the connect is still in the driver
        relay.resume()
        deadline = time.monotonic() + WITHIN
        while not relay.links[0].closed.is_set():
            assert time.monotonic() < deadline, "the connection made after Stop was never closed"
            time.sleep(0.05)
    assert GOODBYE[engine] in b"".join(sent)  # logged in, then closed properly by the driver


@pytest.mark.parametrize("command", ["doctor", "scan"])
def test_ctrl_c_ends_a_command_connecting_to_a_switched_off_server(
    command: str, targets: dict[str, str], tmp_path: Path
) -> None:
    """Ctrl-C one second into the connect to a server PC that never answers: the command ends at once (the 15 s login
    timeout not waited for; ``doctor``'s connect did not answer Ctrl-C before), exit code 130, no traceback."""
    with case_server("switched off", targets["mariadb"]) as (conn_str, password, _kind, _hint):
        env = {**os.environ, PASSWORD_ENV: password, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        arguments = (["doctor", "--odbc", conn_str, "--timeout", "60"] if command == "doctor" else
                     ["scan", "--connector", "demo", "--odbc", conn_str, "--attachments-root", str(tmp_path)])
        process = subprocess.Popen([sys.executable, "-c", "from emr_exporter.cli import main; main()", *arguments],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=interruptible)
        try:
            time.sleep(3.0)  # past the interpreter's start: inside the connect
            assert process.poll() is None
            process.send_signal(signal.SIGINT)
            started = time.monotonic()
            _out, err = process.communicate(timeout=WITHIN)
            took = time.monotonic() - started
        finally:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "Cancelled. Nothing was lost; run the same command again to continue."
    assert took < 5  # not the login timeout (60 s for doctor here)


def test_the_login_timeout_comes_from_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from emr_exporter.errors import ConfigError

    assert connect.login_seconds() == connect.LOGIN_TIMEOUT == 15
    monkeypatch.setenv(LOGIN_ENV, "40")
    assert connect.login_seconds() == 40
    for wrong in ("0", "1.5", "soon", "601"):
        monkeypatch.setenv(LOGIN_ENV, wrong)
        with pytest.raises(ConfigError, match=re.escape(f"{LOGIN_ENV} must be a whole number of seconds")):
            connect.login_seconds()


@contextlib.contextmanager
def korean_process() -> Iterator[None]:
    """The process's C locale Korean, as the wizard's on a Korean PC (Qt sets it from the desktop): libpq then says
    its own messages in Korean ("연결이 거부됨", "시간 초과")."""
    import locale

    before = locale.setlocale(locale.LC_ALL)
    locale.setlocale(locale.LC_ALL, "ko_KR.UTF-8")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, before)


@pytest.mark.parametrize("case", ["switched off", "refused", "silent", "login unanswered"])
def test_psqlodbc_speaking_korean_is_understood_too(case: str, targets: dict[str, str], short_login: None) -> None:
    """Before, a Korean process got the generic "connection failed" for all four (libpq's Korean words were not
    recognised, and 08001 is any of its failures); the TCP check and the connect's own length tell them apart."""
    with korean_process(), case_server(case, targets["postgresql"]) as (conn_str, password, kind, hint):
        outcome, _took = run_limited(lambda: OdbcSource(conn_str, password))
    assert isinstance(outcome, SourceUnavailable), outcome
    assert "서버에 접속 할 수 없음" in str(outcome)  # the driver really spoke Korean
    assert outcome.reason == kind
    assert_said(str(outcome), hint, password)


#: The read-only session statement doctor tries right after the login (DriverCaps.read_only_statement).
READ_ONLY_REQUESTS = {"mariadb": b"SET SESSION TRANSACTION READ ONLY",
                      "postgresql": b"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"}


@pytest.mark.parametrize("engine", ENGINES)
def test_doctor_gives_up_a_first_statement_that_is_never_answered(engine: str, targets: dict[str, str]) -> None:
    """The login went through, then the network stalls as doctor sends its read-only statement: doctor says so
    after its --timeout (before, psqlODBC waited for ever and MariaDB Connector/ODBC its READ_TIMEOUT)."""
    password = get_option(targets[engine], "PWD") or ""
    with relay_to(targets[engine]) as relay:
        relay.stall_on(READ_ONLY_REQUESTS[engine], new_connections_too=False)
        conn_str = ";".join(p for p in relay.conn_str.split(";") if not p.upper().startswith("PWD="))
        done, took = run_limited(lambda: CliRunner().invoke(
            main, ["doctor", "--odbc", conn_str, "--timeout", "2", "--json"], env={PASSWORD_ENV: password}))
        assert relay.stalled.is_set()
    assert done.exit_code == 1, done.output
    problem = json.loads(done.output)["connection"]["problem"]
    assert problem == {
        "kind": "timeout", "sqlstate": "HYT00",
        "hint": f"The database server '127.0.0.1:{relay.port}' took the login, then did not answer its first statement "
                "within 2 s: the network to it stalls, or its database service hangs. Check the network to the EMR "
                "server PC, wait a moment and try again.",
        "detail": f"no answer to {READ_ONLY_REQUESTS[engine].decode()!r} within 2 s"}
    assert password not in done.output
    assert took < 10


DSN_DRIVERS = {"mariadb": "MariaDB Unicode", "postgresql": "PostgreSQL Unicode"}
#: The key each driver's DSN keeps its server under (psqlODBC's own name is Servername).
DSN_SERVER_KEY = {"mariadb": "SERVER", "postgresql": "Servername"}


@pytest.fixture
def odbc_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user odbc.ini (unixODBC reads $ODBCINI at each connect) and no system one."""
    ini = tmp_path / "odbc.ini"
    monkeypatch.setenv("ODBCINI", str(ini))
    monkeypatch.setenv("ODBCSYSINI", str(tmp_path / "no-system"))
    return ini


@pytest.mark.parametrize("case", ["switched off", "refused"])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_dsn_to_a_server_that_cannot_be_reached_gets_the_tcp_check_too(
    engine: str, case: str, targets: dict[str, str], short_login: None, odbc_ini: Path
) -> None:
    """A DSN whose settings name the server and port: the TCP check tells a switched-off PC from one where no database
    listens, and the hint names the server, as for a connection string. Before, a DSN had no TCP check: psqlODBC's
    "timeout expired" said "took the connection but did not answer" for a PC that is off, and MariaDB Connector/ODBC
    (its own CONN_TIMEOUT not set for a DSN) waited for the driver's own default."""
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(switched_off_server()) if case == "switched off" else refusing_port()
        dsn = f"clinic_{engine}_{case.replace(' ', '_')}"  # unixODBC caches a DSN's settings by its name
        odbc_ini.write_text(f"[{dsn}]\nDriver = {DSN_DRIVERS[engine]}\n{DSN_SERVER_KEY[engine]} = 127.0.0.1\n"
                            f"Port = {port}\nDatabase = emr\nUID = emr\n", encoding="utf-8")
        outcome, _took = run_limited(lambda: SourceAddress(dsn=dsn, password="Zz-dsn-pw").open())
    assert isinstance(outcome, SourceUnavailable), outcome
    kind, hint = (("server-unreachable", off_hint(f"127.0.0.1:{port}")) if case == "switched off" else
                  ("server-refused", refused_hint(f"127.0.0.1:{port}")))
    assert outcome.reason == kind
    assert_said(str(outcome), hint, "Zz-dsn-pw")


def test_a_mariadb_dsn_gets_the_login_timeout_of_the_connection_string(odbc_ini: Path) -> None:
    """The DSN's driver, server and port are read from its settings for the login options: MariaDB's CONN_TIMEOUT and
    READ_TIMEOUT are added to ``DSN=`` (the string's keys win over the DSN's), not its server or driver."""
    odbc_ini.write_text("[clinic_emr]\nDriver=MariaDB Unicode\nSERVER=10.9.8.7\nPORT=3307\n", encoding="utf-8")
    assert connect._located("DSN=clinic_emr") == "DSN=clinic_emr;DRIVER={MariaDB Unicode};SERVER=10.9.8.7;PORT=3307"
    assert connect._with_connect_timeout("DSN=clinic_emr", 4, 60) == "DSN=clinic_emr;CONN_TIMEOUT=4;READ_TIMEOUT=60"
    odbc_ini.write_text("[clinic_emr]\nDriver=PostgreSQL Unicode\nServername=10.9.8.7\n", encoding="utf-8")
    assert connect._located("DSN=clinic_emr") == "DSN=clinic_emr;DRIVER={PostgreSQL Unicode};SERVER=10.9.8.7"
    assert connect._with_connect_timeout("DSN=clinic_emr", 4, 60) == "DSN=clinic_emr"
    # A FreeTDS DSN's Servername is an entry of freetds.conf, not a host: not read, as for a DSN not in odbc.ini.
    odbc_ini.write_text("[clinic_emr]\nDriver=FreeTDS\nServername=EMRSERVER\n", encoding="utf-8")
    assert connect._located("DSN=clinic_emr") == "DSN=clinic_emr;DRIVER={FreeTDS}"
    assert connect._located("DSN=other") == "DSN=other"
