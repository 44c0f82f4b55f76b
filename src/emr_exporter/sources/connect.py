"""Opening an ODBC connection, and turning its failures into one readable hint each.

The hint comes from the SQLSTATE and the driver's message (drivers disagree on SQLSTATEs: psqlODBC reports a
wrong password as 08001, unixODBC a missing driver as 01000 "Can't open lib"). Passwords are merged into
the connection string in memory only and scrubbed from every message.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from emr_exporter.errors import ConfigError, SourceUnavailable
from emr_exporter.sources.drivers import (
    apply_connection_settings,
    caps_for,
    detect_engine,
    engine_from_connection_string,
    get_option,
    has_password,
    redact_connection_string,
    set_options,
    with_password,
)
from emr_exporter.sources.waiting import wait_interruptibly

PASSWORD_ENV = "EMR_EXPORTER_DB_PASSWORD"
#: Seconds the login to the clinic's database server may take: the ODBC login timeout (SQL_ATTR_LOGIN_TIMEOUT,
#: which psqlODBC keeps at every step of its login) and MariaDB Connector/ODBC's CONN_TIMEOUT (it ignores the ODBC
#: one: without it a server PC that never answers the TCP SYN held the connect for over 40 s, see docs/databases.md).
LOGIN_TIMEOUT = 15
LOGIN_ENV = "EMR_EXPORTER_LOGIN_SECONDS"
#: Seconds past the login timeout a connect is waited for before it is given up whatever the driver does: a guard
#: for a driver (or a step of one, such as resolving the server's name) that does not keep its login timeout. Both
#: drivers tested here keep it (MariaDB's CONN_TIMEOUT bounds the reads of its login too, whatever READ_TIMEOUT is).
CONNECT_MARGIN = 5
#: Seconds the check of a server's TCP port may take, after a connect failed for want of an answer (see
#: :func:`_diagnose`).
PORT_CHECK_SECONDS = 3
#: Seconds a single read may wait for the server during an export (MariaDB READ_TIMEOUT: the driver then drops
#: the connection, even while the server still works on the query). Only a last resort: a server that stops
#: answering is noticed within minutes by asking it (sources/waiting.py), which leaves a query it is still working
#: on alone; 600 s here stopped a keyless sort of millions of rows that takes over 10 minutes before its first row.
QUERY_READ_TIMEOUT = 3600

# Problem kinds, stable for --json and tests.
DRIVER_NOT_FOUND = "driver-not-found"
DSN_NOT_FOUND = "dsn-not-found"
ARCHITECTURE_MISMATCH = "architecture-mismatch"
LOGIN_FAILED = "login-failed"
DATABASE_NOT_FOUND = "database-not-found"
SERVER_UNREACHABLE = "server-unreachable"
SERVER_REFUSED = "server-refused"
TIMEOUT = "timeout"
UNKNOWN = "unknown"

# libpq translates its own messages, and the server its FATAL ones, in the process's (Qt sets it from the desktop:
# the wizard on a Korean PC) and the server's language: the Korean texts are PostgreSQL 15's ko.po and glibc's
# ("연결이 거부됨"), as a psqlODBC in a Korean process gives them.
#: A refused TCP connection: nothing listens on the port (psqlODBC/libpq's text; MariaDB Connector/ODBC's error
#: numbers: 111 ECONNREFUSED and 115, which it reports for a refused non-blocking connect on Linux; Windows 10061).
_REFUSED_RE = re.compile(r"connection refused|actively refused|\((?:0x[0-9a-f]+/)?(?:111|115|10061)\)|"
                         r"연결이 거부|연결을 거부", re.IGNORECASE)
_UNREACHABLE_RE = re.compile(
    r"connection refused|can't connect|cannot connect|could not connect|unable to connect|"
    r"adaptive server is unavailable|no route to host|network is unreachable|"
    r"could not translate host name|unknown (mysql |mariadb )?server host|name or service not known|"
    r"server does not exist or access denied",
    re.IGNORECASE,
)
_TIMEOUT_RE = re.compile(
    r"timeout expired|timed out|login timeout|system error: 110|reading initial communication packet|"
    r"reading authorization packet|시간 초과",
    re.IGNORECASE,
)
_LOGIN_RE = re.compile(
    r"access denied|password authentication failed|login failed|authentication failed|"
    r"invalid (username|password|authorization)|no password supplied|password is required|인증을 실패",
    re.IGNORECASE,
)
_DATABASE_RE = re.compile(
    r"unknown database|database \"?[^\"]*\"? does not exist|cannot open database|unable to open database|"
    r"데이터베이스 없음",
    re.IGNORECASE,
)
_DRIVER_FILE_RE = re.compile(r"can't open lib|file not found|driver.*not (found|installed)", re.IGNORECASE)


@dataclass(frozen=True)
class OdbcProblem:
    """A classified connection failure: what kind, and what the user should do."""

    kind: str
    sqlstate: str
    hint: str
    #: The driver's own message, with passwords removed.
    detail: str


def _installed_drivers() -> list[str]:
    import pyodbc

    return list(pyodbc.drivers())


def list_drivers() -> list[str]:
    """Names of the installed ODBC drivers (what goes in ``DRIVER={...}``)."""
    return _installed_drivers()


def list_dsns() -> dict[str, str]:
    """Configured data source names → their driver."""
    import pyodbc

    return dict(pyodbc.dataSources())


def _bitness() -> str:
    return "64-bit" if sys.maxsize > 2**32 else "32-bit"


def classify_odbc_error(
    sqlstate: str, message: str, conn_str: str, *secrets: str | None
) -> OdbcProblem:
    """Turn an ODBC failure into a problem kind and a hint a clinic founder can act on."""
    detail = redact_connection_string(message, *secrets)
    driver = get_option(conn_str, "DRIVER")
    dsn = get_option(conn_str, "DSN")
    state = sqlstate.upper()
    if state == "IM014" or "architecture mismatch" in message.lower():
        other = "32-bit" if _bitness() == "64-bit" else "64-bit"
        # On 64-bit Windows the 64-bit administrator lives in System32, the 32-bit one in SysWOW64.
        administrator = r"C:\Windows\System32\odbcad32.exe" if _bitness() == "64-bit" else (
            r"C:\Windows\SysWOW64\odbcad32.exe"
        )
        return OdbcProblem(
            ARCHITECTURE_MISMATCH,
            sqlstate,
            f"The data source was made for a {other} driver, but emr-exporter is {_bitness()}. Create the "
            f"DSN again in the {_bitness()} ODBC Data Source Administrator ({administrator}), or install "
            f"the {_bitness()} version of the driver.",
            detail,
        )
    if state == "IM002" or (state in {"01000", "HY000", "IM003"} and _DRIVER_FILE_RE.search(message)):
        if dsn and not driver:
            return OdbcProblem(
                DSN_NOT_FOUND,
                sqlstate,
                f"There is no ODBC data source named '{dsn}'. Check the name in the ODBC Data Source "
                "Administrator (`emr-export doctor` lists the DSNs), or give a full connection string "
                "with --odbc.",
                detail,
            )
        installed = ", ".join(_installed_drivers()) or "none"
        name = driver or "(no DRIVER= given)"
        return OdbcProblem(
            DRIVER_NOT_FOUND,
            sqlstate,
            f"The ODBC driver '{name}' is not installed on this computer. Install the database's ODBC "
            f"driver ({_bitness()}), or use one of the installed drivers: {installed}.",
            detail,
        )
    if state == "28000" or _LOGIN_RE.search(message):
        user = get_option(conn_str, "UID") or get_option(conn_str, "User") or "(none given)"
        return OdbcProblem(
            LOGIN_FAILED,
            sqlstate,
            f"The database refused the login for user '{user}'. Check the user name and password "
            f"(set {PASSWORD_ENV} or use --ask-password); ask the EMR vendor for a read-only account "
            "if you do not have one.",
            detail,
        )
    if _DATABASE_RE.search(message):
        database = get_option(conn_str, "DATABASE") or "(none given)"
        return OdbcProblem(
            DATABASE_NOT_FOUND,
            sqlstate,
            f"The server answered, but it has no database named '{database}'. Check DATABASE= in the "
            "connection string.",
            detail,
        )
    where = _server_of(_located(conn_str))
    if _REFUSED_RE.search(message):
        return OdbcProblem(SERVER_REFUSED, sqlstate, _hint(SERVER_REFUSED, where), detail)
    if _UNREACHABLE_RE.search(message):
        return OdbcProblem(SERVER_UNREACHABLE, sqlstate, _hint(SERVER_UNREACHABLE, where), detail)
    if state in {"HYT00", "HYT01"} or _TIMEOUT_RE.search(message):
        return OdbcProblem(TIMEOUT, sqlstate, _hint(TIMEOUT, where), detail)
    if state in {"08001", "08S01", "08004"}:
        return OdbcProblem(
            SERVER_UNREACHABLE,
            sqlstate,
            f"The connection to the database server {where} failed. Check the server name, port and "
            "that the database service is running.",
            detail,
        )
    return OdbcProblem(
        UNKNOWN,
        sqlstate,
        "The database connection failed for a reason emr-exporter does not recognise; the driver's "
        "message is below. Send it to your IT contractor.",
        detail,
    )


def _hint(kind: str, where: str) -> str:
    """What to do when the server could not be reached (no answer, refused, or no answer to the login)."""
    if kind == SERVER_REFUSED:
        return (f"The EMR server PC {where} answers, but no database takes connections on that port: its database "
                "service is not running (or still starting), or the port is wrong. Check that the EMR program works "
                "on the server PC (restart that PC if it does not) and the port; then try again.")
    if kind == SERVER_UNREACHABLE:
        return (f"The EMR server PC {where} does not answer: it may be switched off, or the network to it is down. "
                "Check that the EMR server PC is switched on and connected to the network (cable, Wi-Fi), and the "
                "server name and port; then try again.")
    return (f"The database server {where} took the connection but did not answer the login in time: its database "
            "service is hung or overloaded, or the port belongs to another program. Wait a moment and try again; if "
            "it keeps happening, restart the EMR server PC (or its database service) and check the port.")


def _server_of(conn_str: str) -> str:
    server = get_option(conn_str, "SERVER") or get_option(conn_str, "HOST") or get_option(conn_str, "DSN")
    port = get_option(conn_str, "PORT")
    if not server:
        return "(no server given)"
    return f"'{server}:{port}'" if port else f"'{server}'"


def problem_from_exception(exc: Exception, conn_str: str, *secrets: str | None) -> OdbcProblem:
    """Classify a ``pyodbc.Error`` (args are ``(sqlstate, message)``)."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[0], str):
        return classify_odbc_error(args[0], str(args[1]), conn_str, *secrets)
    return classify_odbc_error("", str(exc), conn_str, *secrets)


def resolve_password(conn_str: str, *, ask: bool = False, prompt: Any = None) -> str | None:
    """The password to merge in: None if the string already has one (or none is needed);
    else ``--ask-password`` (hidden prompt), else ``EMR_EXPORTER_DB_PASSWORD``."""
    if has_password(conn_str):
        return None
    if ask:
        if prompt is None:
            import click

            return str(click.prompt("Database password", hide_input=True, default="", show_default=False))
        return str(prompt())
    return os.environ.get(PASSWORD_ENV) or None


def _located(conn_str: str) -> str:
    """``conn_str``, and for a data source name (``DSN=`` without ``DRIVER=``) the driver, server and port its own
    settings keep (:func:`~emr_exporter.sources.servers.dsn_server`; the string's own keys win, as in the driver
    manager): what the login options and the TCP check of a failed connect go by. Never connected with: the driver
    manager reads the DSN itself."""
    dsn = get_option(conn_str, "DSN")
    if not dsn or get_option(conn_str, "DRIVER"):
        return conn_str
    from emr_exporter.sources.servers import dsn_server

    try:
        driver = list_dsns().get(dsn)
    except Exception:  # no driver manager: the settings' own Driver entry
        driver = None
    found = dsn_server(dsn, driver)
    return set_options(conn_str, found, override=False) if found else conn_str


def _with_connect_timeout(conn_str: str, timeout: int, read_timeout: int | None = None) -> str:
    # MariaDB Connector/ODBC ignores the ODBC login timeout during the handshake; its own options work (over a DSN's
    # settings too: the connection string's keys win over the DSN's).
    # READ_TIMEOUT also bounds every later query, so an export passes a generous one.
    if engine_from_connection_string(_located(conn_str)) == "mariadb":
        read = read_timeout if read_timeout is not None else timeout
        return set_options(
            conn_str, [("CONN_TIMEOUT", str(timeout)), ("READ_TIMEOUT", str(read))], override=False
        )
    return conn_str


def _server_port(conn_str: str) -> tuple[str, int] | None:
    """The server and TCP port of a connection string to a database server (the engine's own port when none is
    given); None for a DSN, a file, a named SQL Server instance (its port is looked up) or an unknown engine."""
    server = get_option(conn_str, "SERVER") or get_option(conn_str, "HOST")
    engine = engine_from_connection_string(conn_str)
    default = {"mariadb": 3306, "postgresql": 5432, "mssql": 1433, "firebird": 3050}.get(engine or "")
    if not server or default is None or "\\" in server:
        return None
    host, _, after_comma = server.removeprefix("tcp:").partition(",")  # SQL Server's "host,port"
    port = get_option(conn_str, "PORT") or after_comma.strip()
    try:
        return host.strip(), int(port) if port else default
    except ValueError:
        return None


def _diagnose(problem: OdbcProblem, conn_str: str, waited_out: bool = False) -> OdbcProblem:
    """A connect that failed for want of an answer (unreachable or timed out, by the driver's words or by its
    SQLSTATE 08001/08S01 alone) told apart by one plain TCP connection to the server's port: refused (the PC is on,
    no database listens), no answer at all (switched off, the network down, or a firewall that drops), or taken
    (the PC and the port are there: the database hangs, if the driver said it timed out or the connect lasted its
    whole login timeout, ``waited_out``). A DSN's server and port come from its settings (:func:`_located`). Drivers
    cannot tell these apart themselves: libpq says "timeout expired"
    both for a server PC that never answers the SYN and for a database that never answers the login, and in a
    Korean process (the wizard) it says it in Korean."""
    if problem.kind not in (SERVER_UNREACHABLE, TIMEOUT):
        return problem
    conn_str = _located(conn_str)  # a DSN: the server and port of its settings, where they can be read
    place = _server_port(conn_str)
    if place is None:
        return problem
    try:
        with socket.create_connection(place, timeout=PORT_CHECK_SECONDS):
            taken = True
    except ConnectionRefusedError:
        taken, kind = False, SERVER_REFUSED
    except OSError:  # timed out, no route to host, name unknown
        taken, kind = False, SERVER_UNREACHABLE
    if taken:
        said_unreachable = problem.kind == SERVER_UNREACHABLE and _UNREACHABLE_RE.search(problem.detail)
        if problem.kind == TIMEOUT or (waited_out and not said_unreachable):
            kind = TIMEOUT
        else:
            return problem  # it could not connect, or failed otherwise (08001 is any of libpq's): no "hung" guess
    return replace(problem, kind=kind, hint=_hint(kind, _server_of(conn_str)))


class ConnectFailed(Exception):
    """:func:`open_connection` could not connect; ``problem`` says why (no password in it)."""

    def __init__(self, problem: OdbcProblem) -> None:
        super().__init__(problem.hint)
        self.problem = problem


def login_seconds() -> int:
    """:data:`LOGIN_TIMEOUT`, or the whole seconds in ``EMR_EXPORTER_LOGIN_SECONDS`` (a slow link to the server)."""
    value = os.environ.get(LOGIN_ENV, "").strip()
    if not value:
        return LOGIN_TIMEOUT
    if not value.isdigit() or not 1 <= int(value) <= 600:
        raise ConfigError(f"{LOGIN_ENV} must be a whole number of seconds from 1 to 600, not {value!r}.")
    return int(value)


def open_connection(conn_str: str, password: str | None = None, *, timeout: int | None = None,
                    read_timeout: int | None = None, cancel: threading.Event | None = None) -> Any:
    """A pyodbc connection (autocommit), the login bounded by ``timeout`` seconds (the ODBC login timeout, and
    MariaDB's own options), connected in a helper thread (:func:`~emr_exporter.sources.waiting.wait_interruptibly`):
    ``cancel`` (Stop, Back) and Ctrl-C end the wait at once (:class:`~emr_exporter.errors.ExportCancelled`,
    KeyboardInterrupt), and ``timeout`` + :data:`CONNECT_MARGIN` seconds end it whatever the driver does. A connect
    given up is left to its driver, which closes the connection in its own thread if it is made after all.
    Raises :class:`ConnectFailed`."""
    import pyodbc

    timeout = login_seconds() if timeout is None else timeout
    full = _with_connect_timeout(with_password(conn_str, password) if password else conn_str, timeout, read_timeout)
    limit = timeout + CONNECT_MARGIN
    started = time.monotonic()
    try:
        return wait_interruptibly(lambda: pyodbc.connect(full, timeout=timeout, autocommit=True), cancel=cancel,
                                  limit=limit, discard=lambda connection: connection.close())
    except pyodbc.Error as exc:
        problem = problem_from_exception(exc, conn_str, password)
    except TimeoutError:
        problem = OdbcProblem(TIMEOUT, "HYT00", _hint(TIMEOUT, _server_of(conn_str)),
                              f"no answer within {limit} s; the driver's own login timeout did not end the wait")
    waited_out = time.monotonic() - started >= timeout - 0.5
    raise ConnectFailed(_diagnose(problem, conn_str, waited_out)) from None


def connect_odbc(conn_str: str, password: str | None = None, *, timeout: int | None = None, read_only: bool = True,
                 read_timeout: int = QUERY_READ_TIMEOUT, session_statement: bool = True,
                 cancel: threading.Event | None = None) -> Any:
    """Open a pyodbc connection (:func:`open_connection`, the login bounded by ``timeout`` seconds, by default
    :func:`login_seconds`); failures become :class:`SourceUnavailable` with a
    readable hint and no password in it, a Stop (``cancel``) :class:`~emr_exporter.errors.ExportCancelled`. With
    ``read_only`` the engine's read-only session statement is run, if it has one; with ``session_statement`` False
    it is left to the caller (:class:`~emr_exporter.sources.odbc.OdbcSource` runs it through its waiter, before any
    query of its own)."""
    import pyodbc

    try:
        connection = open_connection(conn_str, password, timeout=timeout, read_timeout=read_timeout, cancel=cancel)
    except ConnectFailed as failed:
        problem = failed.problem
        raise SourceUnavailable(
            f"{problem.hint} (ODBC {problem.sqlstate}: {problem.detail})", reason=problem.kind
        ) from None
    if read_only:
        try:
            engine = detect_engine(
                str(connection.getinfo(pyodbc.SQL_DBMS_NAME)), str(connection.getinfo(pyodbc.SQL_DRIVER_NAME))
            )
            caps = caps_for(engine)
        except ConfigError:
            caps = None
        statement = caps.read_only_statement if caps else None
        if caps is not None:
            apply_connection_settings(connection, caps)
        if statement and session_statement:
            connection.execute(statement)
    return connection
