"""Byte for byte on clinics unlike the demo: the two Korean EMR styles of tests/connectors/korean_styles.py
("hwanja": romanised names, references by chart number, a split RRN, Unix times; "recept": English
abbreviations, integer references, SOAP notes in CP949), exported with their finished connectors, sealed,
opened, and every row of every table rebuilt from the opened bag (tests/lossless_kit.py)."""

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
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import check_bag_against_source

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from korean_styles import HWANJA_CONNECTOR, RECEPT_CONNECTOR, create_hwanja_clinic, create_recept_clinic

STYLES = {"hwanja": (create_hwanja_clinic, HWANJA_CONNECTOR), "recept": (create_recept_clinic, RECEPT_CONNECTOR)}


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_row_of_a_clinic_unlike_the_demo_is_rebuilt_from_the_opened_bag(name: str, tmp_path: Path) -> None:
    create, connector_toml = STYLES[name]
    clinic = create(tmp_path / f"{name}.sqlite")
    folder = tmp_path / "connectors" / name
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(connector_toml, encoding="utf-8")
    spec = load_spec(folder)
    keys = make_demo_keys(tmp_path / "keys")
    outcome = run_export(ExportRequest(
        connector=spec.name, connectors_dirs=(folder.parent,), source=SourceAddress(database=clinic.path),
        out_dir=tmp_path / "out", signer_path=keys.institution_p12, signer_password=keys.institution_password,
        recipient_cert=keys.store_cert, accept_signer_mismatch=True,  # the demo's throwaway certificate
    ))
    assert outcome.reconciliation.balanced
    opened = CliRunner().invoke(main, ["open", str(outcome.bundle_path), "--key", str(keys.store_key),
                                       "--out", str(tmp_path / "opened"), "--json"])
    assert opened.exit_code == 0, opened.output
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    source = SqliteFileSource(clinic.path)
    try:
        rebuilt = check_bag_against_source(bag, spec, source)
    finally:
        source.close()
    assert rebuilt.mapped_cells > rebuilt.carried_cells > 0
