"""A clinic's database server in plain fields, for someone who cannot write an ODBC connection string: the kinds of
server this PC has a driver for, and the connection string built from kind, address, port, database and user (the
password is never part of it: it is merged in memory by :func:`~emr_exporter.sources.connect.open_connection`). And
the server and port a data source name (DSN) keeps in its own settings, so that a failed connect to a DSN is told
apart by the same TCP check as a connection string (unixODBC's odbc.ini on Linux, the registry on Windows)."""

from __future__ import annotations

import configparser
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emr_exporter.sources.drivers import (
    build_connection_string,
    engine_from_connection_string,
    engine_of_driver,
    parse_connection_string,
)

#: The kinds of database server a clinic's EMR keeps its records in, as their makers call them, with their usual port.
SERVER_ENGINES: dict[str, tuple[str, int]] = {
    "mssql": ("SQL Server", 1433),
    "mariadb": ("MariaDB/MySQL", 3306),
    "postgresql": ("PostgreSQL", 5432),
}
#: The server when none is typed: this PC, over TCP (MariaDB Connector/ODBC reads "localhost" as its Unix socket on
#: Linux, where the port is not used).
THIS_PC = "127.0.0.1"


@dataclass(frozen=True)
class ServerKind:
    """One kind of database server this PC can reach: its engine, what it is called, the installed ODBC driver used
    for it and the port it usually listens on."""

    engine: str
    name: str
    driver: str
    port: int


def _preference(driver: str) -> tuple[int, int, str]:
    """A Unicode driver before its ANSI twin (Korean text), then the newest version (the largest number in the
    name: "ODBC Driver 18 for SQL Server" before 17, before the old "SQL Server")."""
    lowered = driver.lower()
    numbers = [int(n) for n in re.findall(r"\d+", driver)]
    return (0 if "unicode" in lowered else 1 if "ansi" not in lowered else 2, -max(numbers, default=0), driver)


def server_kinds(drivers: Sequence[str]) -> list[ServerKind]:
    """The kinds of database server the installed ODBC drivers (``drivers``: their names, as
    :func:`~emr_exporter.sources.connect.list_drivers` gives them) can reach, one per engine (the best driver of
    each), in :data:`SERVER_ENGINES`'s order."""
    kinds = []
    for engine, (name, port) in SERVER_ENGINES.items():
        own = [d for d in drivers if engine_of_driver(d) == engine]
        if own:
            kinds.append(ServerKind(engine, name, min(own, key=_preference), port))
    return kinds


def server_connection_string(kind: ServerKind, *, server: str, port: int | None, database: str, user: str) -> str:
    """The ODBC connection string for the form's fields, without a password; values quoted as ODBC wants them
    (:func:`~emr_exporter.sources.drivers.build_connection_string`: ``{...}`` with ``}}`` for a ``}``). An empty
    ``server`` is this PC; SQL Server's drivers take the port as ``SERVER=host,port``."""
    host = server.strip() or THIS_PC
    port = port or kind.port
    if kind.engine == "mssql" and not re.search(r"freetds|tdsodbc", kind.driver.lower()):
        pairs = [("DRIVER", kind.driver), ("SERVER", f"{host},{port}")]
        if re.search(r"odbc driver (1[8-9]|[2-9]\d) for sql server", kind.driver.lower()):
            # Microsoft's driver 18 encrypts and checks the server's certificate by default; a clinic's server has
            # a self-made one, which it would refuse.
            pairs.append(("TrustServerCertificate", "yes"))
    else:
        pairs = [("DRIVER", kind.driver), ("SERVER", host), ("PORT", str(port))]
    if database.strip():
        pairs.append(("DATABASE", database.strip()))
    if user.strip():
        pairs.append(("UID", user.strip()))
    return build_connection_string(pairs)


@dataclass(frozen=True)
class ServerFields:
    """The form's fields read back from a connection string :func:`server_connection_string` made."""

    engine: str
    server: str
    port: int
    database: str
    user: str


def server_fields(conn_str: str) -> ServerFields | None:
    """The form's fields of a connection string to a database server of one of :data:`SERVER_ENGINES` (None for
    anything else, or with options the form has no field for, such as a contractor's ``SSLMODE``)."""
    try:
        pairs = {k.upper(): v for k, v in parse_connection_string(conn_str)}
    except Exception:
        return None
    engine = engine_from_connection_string(conn_str)
    if engine not in SERVER_ENGINES or not set(pairs) <= {"DRIVER", "SERVER", "PORT", "DATABASE", "UID",
                                                           "TRUSTSERVERCERTIFICATE"}:
        return None
    host, _, after_comma = pairs.get("SERVER", "").partition(",")
    port = pairs.get("PORT") or after_comma.strip() or str(SERVER_ENGINES[engine][1])
    if not port.isdigit():
        return None
    return ServerFields(engine, host.strip(), int(port), pairs.get("DATABASE", ""), pairs.get("UID", ""))


# --- a DSN's own settings ---------------------------------------------------------------------------------------


def _odbc_ini_files() -> list[Path]:
    """unixODBC's user DSNs ($ODBCINI, else ~/.odbc.ini) before its system ones ($ODBCSYSINI/odbc.ini, else
    /etc/odbc.ini): the order in which its driver manager looks a name up."""
    user = Path(os.environ["ODBCINI"]) if os.environ.get("ODBCINI") else Path.home() / ".odbc.ini"
    system = Path(os.environ.get("ODBCSYSINI") or "/etc") / "odbc.ini"
    return [user, system]


def _ini_settings(name: str) -> dict[str, str] | None:
    for path in _odbc_ini_files():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeDecodeError):
            continue
        for section in parser.sections():
            if section.lower() == name.lower():
                return {key.lower(): value.strip() for key, value in parser.items(section)}
    return None


def _registry_settings(name: str) -> dict[str, str] | None:  # pragma: no cover - Windows only
    if sys.platform != "win32":
        return None
    import winreg

    for root in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE):
        try:
            with winreg.OpenKey(root, rf"Software\ODBC\ODBC.INI\{name}") as key:
                settings: dict[str, str] = {}
                index = 0
                while True:
                    try:
                        value_name, value, _ = winreg.EnumValue(key, index)
                    except OSError:
                        break
                    settings[str(value_name).lower()] = str(value).strip()
                    index += 1
                return settings
        except OSError:
            continue
    return None


def dsn_server(name: str, driver: str | None = None) -> list[tuple[str, str]]:
    """``DRIVER``, ``SERVER`` and ``PORT`` of the data source ``name`` as its settings keep them (odbc.ini, or the
    Windows registry), for the engine's login options and the TCP check of a failed connect; ``[]`` when they cannot
    be read (no such DSN, a FreeTDS DSN that names a freetds.conf entry, an OS whose settings are elsewhere).
    ``driver`` is the DSN's driver as the driver manager lists it, when the settings' Driver entry is not recognised.
    Never a password (its keys are not read out)."""
    settings = _registry_settings(name) if sys.platform == "win32" else _ini_settings(name)
    if not settings:
        return []
    engine = None
    for driver_name in (settings.get("driver"), driver):  # a name or a file: libmaodbc.so, psqlodbc35w.dll
        engine = engine_of_driver(driver_name) if driver_name else None
        if engine is not None:
            break
    if engine is None or driver_name is None:
        return []
    # psqlODBC calls the host Servername; FreeTDS's Servername is an entry of freetds.conf, not a host.
    server = settings.get("server") or (settings.get("servername") if engine == "postgresql" else None)
    found = [("DRIVER", driver_name)]
    if server:
        found.append(("SERVER", server))
    if settings.get("port"):
        found.append(("PORT", settings["port"]))
    return found
