"""Names under ``[skip]`` and ``[carry]`` are judged by what they are in the database.

Before, a view named under ``[carry]`` was accepted and nothing changed (a view is not carried), and a name
that is no table at all (a misspelling) skipped or carried nothing without a word from the export, while
``connector check`` said "table X does not exist in this database" of views named under ``[skip]`` too (and of
a view under ``[carry]``), never which section named it or what to do. Now a view or virtual table under
``[carry]`` is refused by the export, with what to do, and listed by the check; an unknown name is listed by the
check and logged by the export (it loses nothing: that table is not there), each naming its section. A view
under ``[skip]`` stays accepted (a view is never read; the inventory shows the connector's reason). A partition
under ``[carry]`` is refused as one under ``[skip]`` is (tests/test_pg_partitions.py). A real SQLite file and a
real MariaDB server over ODBC (``db``).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.authoring.check import check_connector
from emr_exporter.connectors import load_spec
from emr_exporter.errors import ConfigError
from emr_exporter.pipeline.export import ExportRun, digest_stream
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent))

from test_unselected_columns import _connector, _create

TYPOS = '\n[skip]\nSMS_LOGG = "text messages"\nV_PT = "a view of patients"\n\n[carry]\nNOTE_LOGX = "notes"\n'
UNKNOWN = [
    "[skip] names SMS_LOGG, which is no table or view of this database: it skips nothing. Correct the name "
    "(emr-export scan lists the tables) or remove it",
    "[carry] names NOTE_LOGX, which is no table or view of this database: it carries nothing. Correct the name "
    "(emr-export scan lists the tables) or remove it",
]
VIEW_CARRIED = ("[carry] names V_PT, a view: it is not carried, its rows are rows of tables the inventory lists "
                "themselves. Remove it from [carry] (and name those tables there if no section reads them)")


def _clinic(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[SourceAddress, Any]:
    """The clinic of test_unselected_columns with a view V_PT: its address, and a way to open it."""
    path = tmp_path / "clinic.sqlite"
    target = _create(engine, request.getfixturevalue("mariadb_conn_str") if engine == "mariadb" else None, path)
    view = "CREATE VIEW V_PT AS SELECT PT_ID, CHART_NO FROM PATIENT"
    if target is None:
        with sqlite3.connect(path) as conn:
            conn.execute(view)
        conn.close()
        return SourceAddress(database=path), lambda: SqliteFileSource(path, snapshot=True)
    import pyodbc

    with pyodbc.connect(target, autocommit=True) as conn:
        conn.execute(view)
    return SourceAddress(odbc=target), lambda: OdbcSource(target, snapshot=True)


def _folder(tmp_path: Path, engine: str, extra: str) -> Path:
    folder = tmp_path / "names"
    folder.mkdir(exist_ok=True)
    (folder / "connector.toml").write_text(_connector(engine).replace("\n[source]", extra + "\n[source]"),
                                           encoding="utf-8")
    return folder


def _export(folder: Path, opener: Any) -> ExportRun:
    source = opener()
    try:
        run = ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                        created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
        digest_stream(run.stream())
    finally:
        source.close()
    return run


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db)])
def test_unknown_names_and_a_carried_view_are_named_with_what_to_do(
        engine: str, request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    address, opener = _clinic(engine, request, tmp_path)
    folder = _folder(tmp_path, engine, TYPOS)
    toml = folder / "connector.toml"

    # connector check: each name, its section, what to do; V_PT under [skip] is no problem (before: "table SMS_LOGG
    # does not exist in this database; table NOTE_LOGX …; table V_PT …", the view among them)
    report = check_connector(folder, address, institution={"code": "12345678", "name": "의원"})
    assert report.lint == UNKNOWN and not report.ok
    assert report.reconciliation["balanced"]
    assert report.text().splitlines()[2] == "Spec: loads; " + "; ".join(UNKNOWN)

    # the export: runs (the misspelt tables are carried as unmapped, nothing lost), and says so in its log
    with caplog.at_level(logging.WARNING, logger="emr_exporter"):
        run = _export(folder, opener)
    assert run.reconciliation.balanced
    assert [r.getMessage() for r in caplog.records if "names" in r.getMessage()] == [
        f"{toml}: {message}." for message in UNKNOWN]
    inventory = {t["name"]: t for t in run.reconciliation.inventory}
    assert (inventory["v_pt"]["fate"], inventory["v_pt"]["reason"]) == ("skipped", "a view of patients")

    # a view under [carry]: refused by the export (before: accepted, the view skipped all the same), and linted
    carried_view = _folder(tmp_path, engine, '\n[carry]\nV_PT = "a view of patients"\n')
    with pytest.raises(ConfigError) as refused:
        _export(carried_view, opener)
    assert str(refused.value) == f"{toml}: {VIEW_CARRIED}."
    report = check_connector(carried_view, address, institution={"code": "12345678", "name": "의원"})
    assert report.lint == [VIEW_CARRIED]
    assert report.reconciliation["balanced"]  # the dry run as the export runs once it is removed
