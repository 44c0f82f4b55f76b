"""Where a clinic database is: one typed address instead of ``database/odbc/dsn/password`` fields and dicts.

Exactly one of a SQLite file, an ODBC connection string (without its password) or an ODBC data source name,
plus the database password for ODBC. The password is never shown: not in ``repr()``, not in :meth:`label`.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emr_exporter.connectors.spec import ConnectorSpec
    from emr_exporter.sources.base import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceAddress:
    database: Path | None = None  # a SQLite file
    odbc: str | None = None  # an ODBC connection string (the password is given separately)
    dsn: str | None = None  # an ODBC data source name configured on this PC
    password: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> str | None:
        """``"file"``, ``"odbc"``, ``"dsn"``, or None when nothing (or more than one thing) is given."""
        given = [k for k, v in (("file", self.database), ("odbc", self.odbc), ("dsn", self.dsn)) if v]
        return given[0] if len(given) == 1 else None

    def with_password(self, password: str | None) -> SourceAddress:
        return replace(self, password=password or None)

    def label(self) -> str:
        """What to call it on screen or in a log: the file, the DSN, or the connection string without secrets."""
        if self.database:
            return f"SQLite file {Path(self.database).name}"
        if self.dsn:
            return f"DSN {self.dsn}"
        if self.odbc:
            from emr_exporter.sources.drivers import redact_connection_string

            return redact_connection_string(self.odbc)
        return "(no database given)"

    def server_place(self) -> tuple[str, str] | None:
        """``(server, database)`` of a connection string to a database server, for a front end to say where in
        its own words (``"192.168.0.10:3306"``, ``"emr"``; ``""`` when not given); None for a file, a DSN or a
        connection string that names no server. Never the password."""
        if not self.odbc or self.database_file is not None:
            return None
        from emr_exporter.sources.drivers import get_option

        server = get_option(self.odbc, "SERVER") or get_option(self.odbc, "HOST") or ""
        if not server:
            return None
        port = get_option(self.odbc, "PORT")
        database = get_option(self.odbc, "DATABASE") or get_option(self.odbc, "DBNAME") or ""
        return (f"{server}:{port}" if port else server), database

    @property
    def database_file(self) -> Path | None:
        """The SQLite file it reads: the file given, or the ``Database=`` of a connection string to a SQLite ODBC
        driver (``DRIVER={SQLite3};Database=C:\\App\\patients.db``); None for a server or a DSN."""
        if self.database:
            return Path(self.database)
        if self.odbc:
            from emr_exporter.sources.drivers import get_option

            driver, database = get_option(self.odbc, "DRIVER") or "", get_option(self.odbc, "DATABASE")
            if "sqlite" in driver.lower() and database:
                return Path(database)
        return None

    def attachments_root_for(self, spec: ConnectorSpec) -> Path | None:
        """The connector's ``[attachments] root`` beside the database file (over ODBC too), or None."""
        database = self.database_file
        if not spec.attachments_root or database is None:
            return None
        return database.parent / spec.attachments_root

    def open(self, *, snapshot: bool = False, time_zone: str | None = None, cancel: Any = None) -> Source:
        """Open it read-only (:func:`emr_exporter.sources.base.open_source`, ``cancel`` watched from the connect
        on); raises SourceUnavailable, or ExportCancelled once ``cancel`` is set."""
        from emr_exporter.sources.base import open_source

        return open_source(database=self.database, odbc=self.odbc, dsn=self.dsn, password=self.password,
                           snapshot=snapshot, time_zone=time_zone, cancel=cancel)

    def open_for(self, spec: ConnectorSpec, *, snapshot: bool = False, cancel: Any = None) -> Source:
        """:meth:`open` to read ``spec``'s sections: a PostgreSQL or MariaDB session in the connector's time zone,
        so that a ``timestamptz`` or ``TIMESTAMP`` keeps its instant
        (:func:`emr_exporter.connectors.spec.session_time_zone`)."""
        from emr_exporter.connectors.spec import fields_with_own_zone, session_time_zone

        if spec.attach and self.database:  # the files the EMR attaches, beside its main file
            from emr_exporter.sources.base import open_source

            attach = [(schema, Path(self.database).parent / file) for schema, file in spec.attach]
            return open_source(database=self.database, snapshot=snapshot, attach=attach)
        if spec.attach and self.database_file is not None:
            from emr_exporter.errors import SourceUnavailable

            raise SourceUnavailable(  # over the SQLite ODBC driver the attached files' tables would be left out
                f"The connector attaches {len(spec.attach)} other SQLite file(s) ([source] attach), which are read "
                f"only when the database is given as a file: give {self.database_file.name} as --source.")
        source = self.open(snapshot=snapshot, time_zone=session_time_zone(spec), cancel=cancel)
        own = fields_with_own_zone(spec)
        if own and source.engine in ("postgresql", "mariadb", "mysql"):
            kind = "timestamptz" if source.engine == "postgresql" else "TIMESTAMP"
            log.warning("field %s has its own time zone: the database session keeps the server's time zone, "
                        "so a %s column is read in it (docs/databases.md)", own[0], kind)
        return source


#: How many entries of the database's folder are looked at for other SQLite files (a folder of scans is large).
SIBLING_ENTRIES = 2000


def unattached_database_hints(database: Path, attached: list[str]) -> list[str]:
    """A hint for each other SQLite database file in ``database``'s folder that ``[source] attach`` does not
    name: an EMR that keeps records in a second file ATTACHes it at run time, and nothing in the main file says
    so; unless the connector names it, its rows are in no bag. Names files only (no values)."""
    named = {Path(file).name.lower() for file in attached} | {database.name.lower()}
    found: list[str] = []
    try:
        entries = sorted(os.scandir(database.parent), key=lambda e: e.name)[:SIBLING_ENTRIES]
    except OSError:
        return []
    for entry in entries:
        if entry.name.lower() in named or not entry.is_file(follow_symlinks=False):
            continue
        try:
            with open(entry.path, "rb") as f:
                if f.read(16) != b"SQLite format 3\x00":
                    continue
        except OSError:
            continue
        found.append(entry.name)
    return [f"{name} beside {database.name} is a SQLite database too, which this export does not read. If the EMR "
            f"keeps records in it (it ATTACHes it), name it in connector.toml: [source] attach = "
            f'{{ {_schema_for(name)} = "{name}" }}; if it is a copy or another program\'s, leave it.'
            for name in found]


def _schema_for(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(name).stem) or "db"
    return stem if re.match(r"[A-Za-z_]", stem) else f"db_{stem}"
