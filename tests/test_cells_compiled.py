"""The generated cell checks (pipeline/cells.py ``_compile_check``) name exactly the columns the reference
loop (``CellCheck.transformed_reference``) names, in the same order, on every row: the demo clinic with
cells FHIR cannot give back planted in it, and the two Korean-style clinics (bytes in CP949, references by
chart number, Unix times, composite keys). The OpenEMR data is compared in tests/connectors/test_openemr.py."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.sources.base import SqliteFileSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from cells_twin import compared_export
from korean_styles import HWANJA_CONNECTOR, RECEPT_CONNECTOR, create_hwanja_clinic, create_recept_clinic

from lossless_kit import plant_transformed_cells


def test_generated_checks_match_the_reference_on_every_demo_row_with_planted_cells(
    demo_clinic: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "demo-clinic.sqlite"
    shutil.copy(demo_clinic.path, planted)
    with sqlite3.connect(planted) as conn:
        keys = plant_transformed_cells(conn)
    source = SqliteFileSource(planted)
    try:
        compared = compared_export(monkeypatch, load_connector("demo"), source, demo_clinic.attachments_root)
    finally:
        source.close()
    assert compared.rows > 5000
    # The generated checks answered all but the first row of each shape (and of a newly typed column).
    assert compared.generated > compared.rows - 100
    assert "<cells of order_line MedicationRequest:>" in compared.compiled
    assert any(name.startswith("<cells of vital_signs Observation:") for name in compared.compiled)
    # The planted cells are among those named (and the demo's own blob and look-up columns).
    for entity, column in [("practitioner", "dept_nm"), ("encounter", "dept_nm"), ("patient", "first_visit_ymd"),
                           ("order_line", "dose")]:
        assert compared.named[(entity, column)] >= 1, (entity, column, keys)


@pytest.mark.parametrize(("name", "create", "text"), [
    ("hwanja", create_hwanja_clinic, HWANJA_CONNECTOR), ("recept", create_recept_clinic, RECEPT_CONNECTOR),
])
def test_generated_checks_match_the_reference_on_korean_styles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, create: Any, text: str
) -> None:
    clinic = create(tmp_path / f"{name}.sqlite")
    (tmp_path / "connectors" / name).mkdir(parents=True)
    (tmp_path / "connectors" / name / "connector.toml").write_text(text, encoding="utf-8")
    source = SqliteFileSource(clinic.path)
    try:
        compared = compared_export(monkeypatch, load_connector(name, [tmp_path / "connectors"]), source, None)
    finally:
        source.close()
    assert compared.rows > 150 and compared.generated > compared.rows // 2
    assert sum(compared.named.values()) > 0  # cells these clinics' FHIR cannot give back, named by both
