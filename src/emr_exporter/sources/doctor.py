"""``emr-export doctor``: which ODBC drivers and DSNs are installed, and does this connection work?

The usual failures are turned into one readable hint each, from the SQLSTATE and the driver's message
(drivers disagree on SQLSTATEs: psqlODBC reports a wrong password as 08001, unixODBC a missing driver
as 01000 "Can't open lib"). Passwords come from ``EMR_EXPORTER_DB_PASSWORD`` or a prompt, are merged
into the connection string in memory only, and are scrubbed from every message
(:func:`~emr_exporter.sources.drivers.redact_connection_string`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from emr_exporter.errors import ConfigError
from emr_exporter.sources.connect import (
    CONNECT_MARGIN,
    LOGIN_TIMEOUT,
    TIMEOUT,
    ConnectFailed,
    OdbcProblem,
    _bitness,
    _server_of,
    list_drivers,
    list_dsns,
    open_connection,
    problem_from_exception,
)
from emr_exporter.sources.drivers import caps_for, detect_engine, redact_connection_string
from emr_exporter.sources.odbc import is_connection_lost
from emr_exporter.sources.waiting import wait_interruptibly


@dataclass
class ConnectionReport:
    ok: bool
    connection: str  # redacted
    engine: str | None = None
    dbms_name: str | None = None
    dbms_version: str | None = None
    driver_name: str | None = None
    driver_version: str | None = None
    read_only_session: bool | None = None
    problem: dict[str, str] | None = None


@dataclass
class DoctorReport:
    python_bits: str
    drivers: list[str]
    dsns: dict[str, str]
    connection: ConnectionReport | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_connection(conn_str: str, password: str | None = None, *, timeout: int = 10,
                     cancel: threading.Event | None = None) -> ConnectionReport:
    """Connect once, identify the engine, try the read-only session; never raises for ODBC failures. The same
    connect as an export's (:func:`~emr_exporter.sources.connect.open_connection`: the login bounded by
    ``timeout``, Ctrl-C and ``cancel`` answered at once), and the read-only statement after it waited for at most
    ``timeout`` seconds too (a network that stalls right after the connect): then the connection is given up, never
    closed under the driver still using it."""
    import pyodbc

    shown = redact_connection_string(conn_str, password)
    try:
        # MariaDB's READ_TIMEOUT past the wait for the first statement below: that wait, not the driver, decides
        connection = open_connection(conn_str, password, timeout=timeout, read_timeout=timeout + CONNECT_MARGIN,
                                     cancel=cancel)
    except ConnectFailed as failed:
        return ConnectionReport(ok=False, connection=shown, problem=asdict(failed.problem))
    given_up = False
    try:
        dbms_name = str(connection.getinfo(pyodbc.SQL_DBMS_NAME))
        driver_name = str(connection.getinfo(pyodbc.SQL_DRIVER_NAME))
        report = ConnectionReport(
            ok=True,
            connection=shown,
            dbms_name=dbms_name,
            dbms_version=str(connection.getinfo(pyodbc.SQL_DBMS_VER)),
            driver_name=driver_name,
            driver_version=str(connection.getinfo(pyodbc.SQL_DRIVER_VER)),
        )
        try:
            report.engine = detect_engine(dbms_name, driver_name)
        except ConfigError:
            report.engine = None
        statement = caps_for(report.engine).read_only_statement if report.engine else None
        if statement:
            try:
                wait_interruptibly(lambda: connection.execute(statement), "emr-exporter-doctor-statement",
                                   cancel=cancel, limit=timeout)
                report.read_only_session = True
            except pyodbc.Error as exc:
                if not is_connection_lost(exc):
                    report.read_only_session = False  # refused: the account may write
                else:  # the driver gave up the connection itself: no answer, as below
                    lost = problem_from_exception(exc, conn_str, password)
                    return ConnectionReport(ok=False, connection=shown, engine=report.engine, dbms_name=dbms_name,
                                            driver_name=driver_name, problem=asdict(lost))
            except TimeoutError:
                given_up = True
                problem = OdbcProblem(
                    TIMEOUT, "HYT00",
                    f"The database server {_server_of(conn_str)} took the login, then did not answer its first "
                    f"statement within {timeout} s: the network to it stalls, or its database service hangs. Check "
                    "the network to the EMR server PC, wait a moment and try again.",
                    f"no answer to {statement!r} within {timeout} s")
                return ConnectionReport(ok=False, connection=shown, engine=report.engine, dbms_name=dbms_name,
                                        driver_name=driver_name, problem=asdict(problem))
            except BaseException:
                given_up = True
                raise
        return report
    finally:
        if not given_up:  # a statement given up still runs in the driver: its connection is left to it
            connection.close()


def run_doctor(conn_str: str | None = None, password: str | None = None, *,
               timeout: int = LOGIN_TIMEOUT) -> DoctorReport:
    report = DoctorReport(python_bits=_bitness(), drivers=list_drivers(), dsns=list_dsns())
    if not report.drivers:
        report.notes.append(
            "No ODBC drivers are installed. Install the driver of your EMR's database "
            f"({_bitness()} version) and run doctor again."
        )
    if conn_str is not None:
        report.connection = check_connection(conn_str, password, timeout=timeout)
    return report
