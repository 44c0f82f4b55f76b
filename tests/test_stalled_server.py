"""A database server that accepts a connection but stops answering (a hung server, a half-dead VPN to the clinic
server, a table locked by the still-running EMR): cancel stops the waiting query within seconds, a stall nobody
cancels stops with a clear message after a bounded time, a slow but working query is left alone, and Ctrl-C ends
the command. Real MariaDB and PostgreSQL over their ODBC drivers, a real TCP relay that stops forwarding
(tests/stall_kit.py). On the old code each of these waited 10 minutes (MariaDB READ_TIMEOUT) or for ever."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyodbc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emr_exporter.demo.clinic import create_demo_clinic
from emr_exporter.demo.load import load_demo_into
from emr_exporter.errors import ExportCancelled, SourceQueryError, SourceStalled
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources import waiting
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.connect import PASSWORD_ENV
from emr_exporter.sources.drivers import get_option, parse_connection_string
from emr_exporter.sources.odbc import OdbcSource
from stall_kit import WITHIN, interruptible, relay_to, run_limited, table_locked

pytestmark = pytest.mark.db

ENGINES = ["mariadb", "postgresql"]
#: What a stopped dry run says: it wrote nothing (tests/test_cancel_words.py: a sealed export keeps its parts).
DRY_RUN = "It was a dry run: nothing was written; the next run starts over."
DRY_RUN_CANCELLED = f"The export was cancelled. {DRY_RUN}"
LOCKED_TABLE = "VISIT"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, mariadb_conn_str: str, postgres_conn_str: str) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("stall-demo")
    clinic = create_demo_clinic(folder / "demo.sqlite", patients=40, attachments_dir=folder / "att")
    targets = {"mariadb": mariadb_conn_str, "postgresql": postgres_conn_str}
    for conn_str in targets.values():
        load_demo_into(clinic.path, conn_str, replace=True)
    return {"targets": targets, "attachments": clinic.attachments_root}


def export_request(servers: dict[str, Any], conn_str: str) -> ExportRequest:
    return ExportRequest(connector="demo", attachments_root=servers["attachments"], page_size=5,
                         created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), source=SourceAddress(odbc=conn_str))


def lock_waiters(conn_str: str) -> int:
    """Sessions of the server waiting for a table lock right now."""
    connection = pyodbc.connect(conn_str, autocommit=True)
    try:
        if "PostgreSQL" in (get_option(conn_str, "DRIVER") or ""):
            sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        else:
            sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE '%lock%'"
        return int(connection.execute(sql).fetchone()[0])
    finally:
        connection.close()


def wait_for_lock_waiter(conn_str: str) -> None:
    deadline = time.monotonic() + WITHIN
    while lock_waiters(conn_str) == 0:
        assert time.monotonic() < deadline, "the export never reached the locked table"
        time.sleep(0.2)


def stall_on_first_rows(relay: Any) -> Callable[[Any], None]:
    def progress(event: Any) -> None:
        if event.stage == "export" and event.done:
            relay.stall(new_connections_too=True)

    return progress


@pytest.mark.parametrize("engine", ENGINES)
def test_cancel_stops_a_query_whose_answer_never_comes(engine: str, servers: dict[str, Any]) -> None:
    cancel = threading.Event()
    with relay_to(servers["targets"][engine]) as relay:
        request = export_request(servers, relay.conn_str)
        progress = stall_on_first_rows(relay)

        def export() -> Any:
            return run_export(request, progress=progress, cancel=cancel)

        def cancel_when_stalled() -> None:
            while not relay.stall_new:
                time.sleep(0.05)
            time.sleep(2.0)  # the next page's query is waiting for bytes that never come
            cancel.set()

        threading.Thread(target=cancel_when_stalled, daemon=True).start()
        outcome, took = run_limited(export)
    assert isinstance(outcome, ExportCancelled), outcome
    assert str(outcome) == DRY_RUN_CANCELLED
    assert took < WITHIN


@pytest.mark.parametrize("engine", ENGINES)
def test_cancel_stops_a_query_waiting_for_a_locked_table(engine: str, servers: dict[str, Any]) -> None:
    conn_str = servers["targets"][engine]
    cancel = threading.Event()
    with table_locked(conn_str, LOCKED_TABLE):
        threading.Thread(target=lambda: (wait_for_lock_waiter(conn_str), cancel.set()), daemon=True).start()
        outcome, _took = run_limited(lambda: run_export(export_request(servers, conn_str), cancel=cancel))
        assert isinstance(outcome, ExportCancelled), outcome
        assert str(outcome) == DRY_RUN_CANCELLED
        # the query was cancelled on the server (SQLCancel), not only given up by this program
        assert lock_waiters(conn_str) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_table_locked_by_another_program_stops_the_export_with_what_to_do(
    engine: str, servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(waiting.STALL_ENV, "2")
    conn_str = servers["targets"][engine]
    with table_locked(conn_str, LOCKED_TABLE):
        outcome, _took = run_limited(lambda: run_export(export_request(servers, conn_str)))
        assert isinstance(outcome, SourceStalled), outcome
        assert outcome.reason == waiting.LOCKED
        assert str(outcome) == (
            "The clinic database server has been waiting for 2 s for a table that another program has locked (often "
            "the EMR program itself, still open on some PC). Close the EMR program on every PC, then run the export "
            f"again. {DRY_RUN}")
        assert lock_waiters(conn_str) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_an_answer_stuck_in_the_network_stops_the_export_with_what_to_check(
    engine: str, servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(waiting.STALL_ENV, "2")
    with relay_to(servers["targets"][engine]) as relay:
        def progress(event: Any) -> None:
            if event.stage == "export" and event.done:
                relay.stall(new_connections_too=False)  # this connection's path is stuck; the server is fine

        outcome, _took = run_limited(lambda: run_export(export_request(servers, relay.conn_str), progress=progress))
    assert isinstance(outcome, SourceStalled), outcome
    assert outcome.reason == waiting.ANSWER_STUCK
    assert str(outcome) == (
        "The clinic database server's answer has not arrived for 2 s: the network to the server (cable, Wi-Fi, VPN) "
        f"is stalling. Check the network to the EMR server PC, then run the export again. {DRY_RUN}")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_server_that_answers_nothing_at_all_stops_the_export(
    engine: str, servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(waiting.STALL_ENV, "2")
    monkeypatch.setattr(waiting, "PROBE_SECONDS", 3)
    with relay_to(servers["targets"][engine]) as relay:
        request = export_request(servers, relay.conn_str)
        outcome, _took = run_limited(lambda: run_export(request, progress=stall_on_first_rows(relay)))
    assert isinstance(outcome, SourceStalled), outcome
    assert outcome.reason == waiting.NO_ANSWER
    assert re.fullmatch(
        r"The clinic database server stopped answering: no answer for \d+ s, and it did not answer a second "
        r"connection either\. Check that the EMR server PC is on and its database service is running, and the "
        r"network to it; then run the export again\. " + re.escape(DRY_RUN), str(outcome)), str(outcome)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_slow_query_the_server_is_working_on_is_not_stopped(
    engine: str, servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(waiting.STALL_ENV, "1")
    sleep = "pg_sleep(5)" if engine == "postgresql" else "SLEEP(5)"
    source = OdbcSource(servers["targets"][engine])
    try:
        value, took = run_limited(lambda: source.scalar(f"SELECT 7 AS seven FROM (SELECT {sleep} AS s) AS slow"))
    finally:
        source.close()
    assert value == 7
    # past four stall checks of 1 s (the server's 5 s and the client's clock may differ by a few ms: 4.99 s seen)
    assert took >= 4.5


def without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


@pytest.mark.parametrize("network", ["fine", "dead"])
@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_ends_the_command_inside_a_waiting_query(engine: str, network: str, servers: dict[str, Any]) -> None:
    """The query waits for a locked table; with a dead network (no byte passes any more, not even SQLCancel's
    KILL QUERY or cancel request) the driver cannot be interrupted at all and the command still ends."""
    conn_str = servers["targets"][engine]
    env = {**os.environ, PASSWORD_ENV: get_option(conn_str, "PWD") or "",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with table_locked(conn_str, LOCKED_TABLE), relay_to(conn_str) as relay:
        command = subprocess.Popen(
            [sys.executable, "-c", "from emr_exporter.cli import main; main()", "export", "--connector", "demo", "--odbc",
             without_password(relay.conn_str), "--dry-run", "--attachments-root", str(servers["attachments"])],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=interruptible)
        try:
            wait_for_lock_waiter(conn_str)
            if network == "dead":
                relay.stall(new_connections_too=True)
            command.send_signal(signal.SIGINT)
            started = time.monotonic()
            _out, err = command.communicate(timeout=WITHIN)
        finally:
            command.kill()
        assert time.monotonic() - started < WITHIN
    assert command.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == DRY_RUN_CANCELLED


def test_ctrl_c_ends_the_command_while_it_is_still_connecting(servers: dict[str, Any]) -> None:
    """A dead network from the start: the driver waits its whole login timeout (15 s) inside the connect, where
    Python never sees Ctrl-C; the command ends at once instead."""
    conn_str = servers["targets"]["mariadb"]
    env = {**os.environ, PASSWORD_ENV: get_option(conn_str, "PWD") or "",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with relay_to(conn_str) as relay:
        relay.stall(new_connections_too=True)
        command = subprocess.Popen(
            [sys.executable, "-c", "from emr_exporter.cli import main; main()", "export", "--connector", "demo", "--odbc",
             without_password(relay.conn_str), "--dry-run", "--attachments-root", str(servers["attachments"])],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=interruptible)
        try:
            deadline = time.monotonic() + WITHIN
            while not relay.links:
                assert time.monotonic() < deadline, "the command never connected"
                time.sleep(0.05)
            time.sleep(1.0)
            command.send_signal(signal.SIGINT)
            started = time.monotonic()
            _out, err = command.communicate(timeout=WITHIN)
            took = time.monotonic() - started
        finally:
            command.kill()
    assert took < 8  # not the 15 s login timeout
    assert command.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == DRY_RUN_CANCELLED


def test_the_command_stops_a_stall_with_its_exit_code_and_message(servers: dict[str, Any]) -> None:
    conn_str = servers["targets"]["postgresql"]
    env = {**os.environ, PASSWORD_ENV: get_option(conn_str, "PWD") or "", waiting.STALL_ENV: "2",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with table_locked(conn_str, LOCKED_TABLE):
        done = subprocess.run(
            [sys.executable, "-c", "from emr_exporter.cli import main; main()", "export", "--connector", "demo", "--odbc",
             without_password(conn_str), "--dry-run", "--attachments-root", str(servers["attachments"]), "--json"],
            env=env, capture_output=True, text=True, timeout=WITHIN * 2)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert error == {"code": "source-stalled", "message": (
        "The clinic database server has been waiting for 2 s for a table that another program has locked (often the "
        "EMR program itself, still open on some PC). Close the EMR program on every PC, then run the export again. "
        f"{DRY_RUN}")}


def test_cancel_answers_while_the_server_is_being_asked_about_a_stall(
    servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question over a second connection to a dead server waits up to its own 20 s bound; Stop meanwhile is
    not made to wait for it."""
    monkeypatch.setenv(waiting.STALL_ENV, "1")
    cancel = threading.Event()
    with relay_to(servers["targets"]["mariadb"]) as relay:
        request = export_request(servers, relay.conn_str)

        def cancel_while_asking() -> None:
            while not relay.stall_new:
                time.sleep(0.05)
            time.sleep(3.0)  # 1 s of stall, then the question hangs on the dead network
            cancelled_at.append(time.monotonic())
            cancel.set()

        cancelled_at: list[float] = []
        threading.Thread(target=cancel_while_asking, daemon=True).start()
        outcome, _took = run_limited(lambda: run_export(request, progress=stall_on_first_rows(relay), cancel=cancel))
        ended_at = time.monotonic()
    assert isinstance(outcome, ExportCancelled), outcome
    assert str(outcome) == DRY_RUN_CANCELLED
    assert ended_at - cancelled_at[0] < 8  # 2 s grace and a little; not what is left of the question's 20 s


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("statement", ["snapshot", "table check"])
def test_cancel_stops_a_statement_of_the_connection_on_a_stalled_network(
    engine: str, statement: str, servers: dict[str, Any]
) -> None:
    """The statements a source runs outside its queries (starting the snapshot, the session's time zone and id,
    checking that a table exists) wait under the same stall check and cancel as every query: before, they sat in
    the driver until the network came back (MariaDB's 3600 s READ_TIMEOUT, psqlODBC for ever)."""
    cancel = threading.Event()
    with relay_to(servers["targets"][engine]) as relay:
        source = OdbcSource(relay.conn_str, snapshot=True)
        source.watch(cancel)
        relay.stall(new_connections_too=True)
        threading.Timer(1.0, cancel.set).start()
        try:
            outcome, took = run_limited(
                source._begin_snapshot if statement == "snapshot" else lambda: source.table_exists("VISIT"))
        finally:
            source.close()
    assert isinstance(outcome, ExportCancelled), outcome
    assert str(outcome) == "The export was cancelled."
    assert took < 8  # 1 s, then the 2 s grace for a driver that cannot be interrupted, and a little
    assert source.waiter.abandoned


#: A part of the request each engine's ODBC driver sends for a catalogue function (as the drivers here send it:
#: MariaDB Connector/ODBC queries INFORMATION_SCHEMA, psqlODBC pg_catalog); the relay stalls as it passes.
CATALOG_REQUESTS = {
    "mariadb": {"SQLTables": b"TABLE_COMMENT AS REMARKS FROM INFORMATION_SCHEMA.TABLES",
                "SQLColumns": b"CASE DATA_TYPE  WHEN 'bit'", "SQLPrimaryKeys": b"'PRIMARY' PK_NAME"},
    "postgresql": {"SQLTables": b"select relname, nspname, relkind from pg_catalog.pg_class",
                   "SQLColumns": b"n.oid = c.relnamespace and c.relname like",
                   "SQLPrimaryKeys": b"i.indisprimary = 't'"},
}
DEMO_CONNECTOR = Path(__file__).resolve().parents[1] / "connectors" / "demo"
#: What a scan, a scaffold or a connector check says when the network stalls (no export's bundle to speak of).
NETWORK_STALLS = (
    "The clinic database server's answer has not arrived for 2 s: the network to the server (cable, Wi-Fi, VPN) is "
    "stalling. Check the network to the EMR server PC, then run the export again. Nothing was lost.")


@pytest.mark.parametrize("command", ["scan", "scaffold", "connector check"])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_network_that_stalls_in_a_catalogue_read_stops_the_command_with_its_message(
    engine: str, command: str, servers: dict[str, Any], tmp_path: Path
) -> None:
    """``scan``, ``scaffold`` and ``connector check`` list the tables and columns with the driver's catalogue
    functions; the network stalls as ``SQLColumns`` is sent. Before, psqlODBC waited for ever and MariaDB
    Connector/ODBC its 3600 s READ_TIMEOUT; now the stall check stops the command with its message."""
    conn_str = servers["targets"][engine]
    env = {**os.environ, PASSWORD_ENV: get_option(conn_str, "PWD") or "", waiting.STALL_ENV: "2",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    attachments = ["--attachments-root", str(servers["attachments"])]
    with relay_to(conn_str) as relay:
        relay.stall_on(CATALOG_REQUESTS[engine]["SQLColumns"], new_connections_too=False)
        source = ["--odbc", without_password(relay.conn_str)]
        arguments = {
            "scan": ["scan", "--connector", "demo", *source, *attachments, "--json"],
            "scaffold": ["scaffold", *source, "--name", "stalled", "--out", str(tmp_path / "connectors"), "--json"],
            "connector check": ["connector", "check", str(DEMO_CONNECTOR), *source, *attachments, "--json"],
        }[command]
        done = subprocess.run([sys.executable, "-c", "from emr_exporter.cli import main; main()", *arguments],
                              env=env, capture_output=True, text=True, timeout=WITHIN * 2)
        assert relay.stalled.is_set()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "error": {"code": "source-stalled", "message": NETWORK_STALLS}}
    assert not (tmp_path / "connectors" / "stalled" / "connector.toml").exists()


@pytest.mark.parametrize("function", ["SQLTables", "SQLColumns", "SQLPrimaryKeys"])
@pytest.mark.parametrize("engine", ENGINES)
def test_cancel_stops_a_scan_inside_a_catalogue_read_on_a_dead_network(
    engine: str, function: str, servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop (or Back) while the scan waits for the answer of a catalogue function on a network where no byte
    passes any more (not even the cancel request): the scan ends within the cancel grace, its connection given up."""
    from emr_exporter.jobs.authoring import scan_database

    closed: list[OdbcSource] = []
    close = OdbcSource.close

    def closing(source: OdbcSource) -> None:
        closed.append(source)
        close(source)

    monkeypatch.setattr(OdbcSource, "close", closing)
    cancel = threading.Event()
    with relay_to(servers["targets"][engine]) as relay:
        relay.stall_on(CATALOG_REQUESTS[engine][function], new_connections_too=True)

        def cancel_when_stalled() -> None:
            relay.stalled.wait(WITHIN)
            time.sleep(1.0)  # the catalogue read waits for bytes that never come
            cancelled_at.append(time.monotonic())
            cancel.set()

        cancelled_at: list[float] = []
        threading.Thread(target=cancel_when_stalled, daemon=True).start()
        outcome, _took = run_limited(lambda: scan_database(
            "demo", SourceAddress(odbc=relay.conn_str), servers["attachments"], cancel=cancel))
        ended_at = time.monotonic()
        assert relay.stalled.is_set()
    assert isinstance(outcome, ExportCancelled), outcome
    assert str(outcome) == "The scan was cancelled. Nothing was written."
    assert ended_at - cancelled_at[0] < 8  # the 2 s grace and a little
    assert [source.waiter.abandoned for source in closed] == [True]  # given up, not closed under the driver


#: The read-only session statement each engine's source runs first after its session id (DriverCaps).
READ_ONLY_REQUESTS = {"mariadb": b"SET SESSION TRANSACTION READ ONLY",
                      "postgresql": b"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_network_that_stalls_right_after_the_connect_stops_opening_the_source(
    engine: str, servers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-only session statement right after the connect waits under the stall check too (before, connect_odbc
    ran it on the bare connection: psqlODBC waited for ever, MariaDB Connector/ODBC its 3600 s READ_TIMEOUT)."""
    monkeypatch.setenv(waiting.STALL_ENV, "2")
    with relay_to(servers["targets"][engine]) as relay:
        relay.stall_on(READ_ONLY_REQUESTS[engine], new_connections_too=False)
        outcome, _took = run_limited(lambda: OdbcSource(relay.conn_str))
        assert relay.stalled.is_set()
    assert isinstance(outcome, SourceStalled), outcome
    assert outcome.reason == waiting.ANSWER_STUCK
    assert str(outcome) == NETWORK_STALLS


@pytest.mark.parametrize("engine", ENGINES)
def test_the_sources_session_is_read_only_from_the_connect_and_after_a_reconnect(
    engine: str, servers: dict[str, Any]
) -> None:
    conn_str = servers["targets"][engine]
    source = OdbcSource(conn_str)
    try:
        for _ in range(2):
            with pytest.raises(SourceQueryError, match=r"(?i)read.only transaction"):
                list(source.rows("CREATE TABLE stall_read_only_probe (id INTEGER)"))
            source.reconnect()
    finally:
        source.close()
    with pyodbc.connect(conn_str, autocommit=True) as connection:
        assert not [row for row in connection.cursor().tables(table="stall_read_only_probe")]
