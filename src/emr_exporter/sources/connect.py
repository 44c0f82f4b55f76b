"""Opening an ODBC connection, and turning its failures into one readable hint each.

The hint comes from the SQLSTATE and the driver's message (drivers disagree on SQLSTATEs: psqlODBC reports a
wrong password as 08001, unixODBC a missing driver as 01000 "Can't open lib"). Passwords are merged into
the connection string in memory only and scrubbed from every message.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
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
TIMEOUT = "timeout"
UNKNOWN = "unknown"

_UNREACHABLE_RE = re.compile(
    r"connection refused|can't connect|cannot connect|could not connect|unable to connect|"
    r"adaptive server is unavailable|no route to host|network is unreachable|"
    r"could not translate host name|unknown (mysql |mariadb )?server host|name or service not known|"
    r"server does not exist or access denied",
    re.IGNORECASE,
)
_TIMEOUT_RE = re.compile(
    r"timeout expired|timed out|login timeout|system error: 110|reading initial communication packet",
    re.IGNORECASE,
)
_LOGIN_RE = re.compile(
    r"access denied|password authentication failed|login failed|authentication failed|"
    r"invalid (username|password|authorization)|no password supplied|password is required",
    re.IGNORECASE,
)
_DATABASE_RE = re.compile(
    r"unknown database|database \"?[^\"]*\"? does not exist|cannot open database|unable to open database",
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
    where = _server_of(conn_str)
    if _UNREACHABLE_RE.search(message):
        return OdbcProblem(
            SERVER_UNREACHABLE,
            sqlstate,
            f"Cannot reach the database server {where}. Check that the EMR server PC is switched on, "
            "that its database service is running, the server name and port, and that a firewall "
            "does not block the port.",
            detail,
        )
    if state in {"HYT00", "HYT01"} or _TIMEOUT_RE.search(message):
        return OdbcProblem(
            TIMEOUT,
            sqlstate,
            f"The database server {where} did not answer in time. It may be busy or the network slow: "
            "try again, or use a longer --timeout. If it keeps happening, check that the port "
            "belongs to the database and not another program.",
            detail,
        )
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


def _with_connect_timeout(conn_str: str, timeout: int, read_timeout: int | None = None) -> str:
    # MariaDB Connector/ODBC ignores the ODBC login timeout during the handshake; its own options work.
    # READ_TIMEOUT also bounds every later query, so an export passes a generous one.
    if engine_from_connection_string(conn_str) == "mariadb":
        read = read_timeout if read_timeout is not None else timeout
        return set_options(
            conn_str, [("CONN_TIMEOUT", str(timeout)), ("READ_TIMEOUT", str(read))], override=False
        )
    return conn_str


def connect_odbc(conn_str: str, password: str | None = None, *, timeout: int = 15, read_only: bool = True,
                 read_timeout: int = QUERY_READ_TIMEOUT, session_statement: bool = True) -> Any:
    """Open a pyodbc connection; failures become :class:`SourceUnavailable` with a readable hint and no
    password in it. With ``read_only`` the engine's read-only session statement is run, if it has one; with
    ``session_statement`` False it is left to the caller (:class:`~emr_exporter.sources.odbc.OdbcSource` runs it
    through its waiter, before any query of its own)."""
    import pyodbc

    full = with_password(conn_str, password) if password else conn_str
    try:
        connection = wait_interruptibly(lambda: pyodbc.connect(  # Ctrl-C within the login timeout too
            _with_connect_timeout(full, timeout, read_timeout), timeout=timeout, autocommit=True
        ))
    except pyodbc.Error as exc:
        problem = problem_from_exception(exc, conn_str, password)
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

