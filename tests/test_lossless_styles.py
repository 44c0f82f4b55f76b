"""Byte for byte on clinics unlike the demo: the two Korean EMR styles of tests/connectors/korean_styles.py
("hwanja": romanised names, references by chart number, a split RRN, Unix times; "recept": English
abbreviations, integer references, SOAP notes in CP949), exported with their finished connectors, sealed,
opened, and every row of every table rebuilt from the opened bag (tests/lossless_kit.py): from the SQLite file,
and from the same clinic loaded into MariaDB and PostgreSQL and read over their ODBC drivers (real servers
started by `.ci/dbservers.sh`; those tests fail, never skip, when one is down)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.connectors.spec import load_spec
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import Source, SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import Rebuilt, check_bag_against_source

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from korean_styles import (
    HWANJA_CONNECTOR,
    RECEPT_CONNECTOR,
    StyleClinic,
    copy_to_server,
    create_hwanja_clinic,
    create_recept_clinic,
)

STYLES = {"hwanja": (create_hwanja_clinic, HWANJA_CONNECTOR), "recept": (create_recept_clinic, RECEPT_CONNECTOR)}


def _export_open_and_rebuild(name: str, clinic: StyleClinic, tmp_path: Path, odbc: str | None = None) -> Rebuilt:
    """Export the style clinic ``name`` (from its SQLite file, or from ``odbc``: the same clinic on a server),
    seal, open with every check ``open`` runs, and rebuild every row of every table from the opened bag."""
    _, connector_toml = STYLES[name]
    folder = tmp_path / "connectors" / name
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(connector_toml, encoding="utf-8")
    spec = load_spec(folder)
    keys = make_demo_keys(tmp_path / "keys")
    address = SourceAddress(database=clinic.path) if odbc is None else SourceAddress(odbc=odbc)
    outcome = run_export(ExportRequest(
        connector=spec.name, connectors_dirs=(folder.parent,), source=address,
        out_dir=tmp_path / "out", signer_path=keys.institution_p12, signer_password=keys.institution_password,
        recipient_cert=keys.store_cert, accept_signer_mismatch=True,  # the demo's throwaway certificate
    ))
    assert outcome.reconciliation.balanced
    opened = CliRunner().invoke(main, ["open", str(outcome.bundle_path), "--key", str(keys.store_key),
                                       "--out", str(tmp_path / "opened"), "--json"])
    assert opened.exit_code == 0, opened.output
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    source: Source = SqliteFileSource(clinic.path) if odbc is None else OdbcSource(odbc)
    try:
        return check_bag_against_source(bag, spec, source)
    finally:
        source.close()


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_row_of_a_clinic_unlike_the_demo_is_rebuilt_from_the_opened_bag(name: str, tmp_path: Path) -> None:
    rebuilt = _export_open_and_rebuild(name, STYLES[name][0](tmp_path / f"{name}.sqlite"), tmp_path)
    assert rebuilt.mapped_cells > rebuilt.carried_cells > 0


@pytest.mark.db
@pytest.mark.parametrize("server", ["mariadb", "postgresql"])
@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_row_of_a_clinic_unlike_the_demo_on_a_server_is_rebuilt_from_the_opened_bag(
    name: str, server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # The style clinic copied into a database of its own on the server, exported from there over ODBC, and
    # every row the server gives back now rebuilt from the opened bag: the server's types (BIGINT, BYTEA,
    # LONGBLOB, case-folded names) must come back as exactly as the file's.
    conn_str = request.getfixturevalue("mariadb_conn_str" if server == "mariadb" else "postgres_conn_str")
    clinic = STYLES[name][0](tmp_path / f"{name}.sqlite")
    odbc = copy_to_server(clinic, conn_str, f"emr_lossless_{name}")
    on_server = _export_open_and_rebuild(name, clinic, tmp_path / "server", odbc)
    from_file = _export_open_and_rebuild(name, clinic, tmp_path / "file")
    assert on_server.rows == from_file.rows
    assert (on_server.mapped_cells, on_server.carried_cells, on_server.quarantined_cells) == (
        from_file.mapped_cells, from_file.carried_cells, from_file.quarantined_cells)
    assert on_server.mapped_cells > on_server.carried_cells > 0
