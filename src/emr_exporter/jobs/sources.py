"""The clinic-database jobs: ``doctor`` (ODBC drivers, data sources, does a connection work and if not, why),
the data sources configured on this PC, the database password, and ``demo --load-into``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emr_exporter.demo.load import LoadResult
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.connect import list_drivers, list_dsns, resolve_password
from emr_exporter.sources.doctor import DoctorReport, run_doctor
from emr_exporter.sources.servers import (
    ServerFields,
    ServerKind,
    server_connection_string,
    server_fields,
    server_kinds,
)


def list_server_kinds() -> list[ServerKind]:
    """The kinds of database server (SQL Server, MariaDB/MySQL, PostgreSQL) this PC has an ODBC driver for."""
    try:
        return server_kinds(list_drivers())
    except Exception:  # no ODBC driver manager on this PC: no server can be reached
        return []


def load_demo_into(
    out_dir: Path, conn_str: str, *, patients: int, password: str | None, replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> LoadResult:
    """``emr-export demo --load-into``: the demo clinic copied into a MariaDB/PostgreSQL/SQLite-ODBC database."""
    from emr_exporter.demo.load import load_demo_clinic

    return load_demo_clinic(out_dir, conn_str, patients=patients, password=password, replace=replace,
                            progress=progress)


__all__ = [
    "DoctorReport", "LoadResult", "ServerFields", "ServerKind", "SourceAddress", "list_dsns", "list_server_kinds",
    "load_demo_into", "resolve_password", "run_doctor", "server_connection_string", "server_fields",
]
