"""The generated cell checks (pipeline/cells.py ``_compile_check``) name exactly the columns the reference
loop (``CellCheck.transformed_reference``) names, in the same order, on every row: the demo clinic with
cells FHIR cannot give back planted in it, and the two Korean-style clinics (bytes in CP949, references by
chart number, Unix times, composite keys). The OpenEMR data is compared in tests/connectors/test_openemr.py."""

from __future__ import annotations

import copy
import shutil
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.pipeline import cells
from emr_exporter.sources.base import SqliteFileSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from cells_twin import Compared, compared_export, set_leaf
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


#: FHIR leaves and source values at the edges of the generated checks' fast paths: ISO week dates, 3-digit
#: years, hour 24, other offsets, fractions, full-width digits, numbers whose repr is not their Decimal's,
#: codes and yes/no values of every JSON type, containers where a leaf belongs.
ODD_LEAVES: list[Any] = [
    None, "", " x", "x ", "2020-W01-1", "0999-01-01", "2020-13-01", "20200101", "2020-01-01",
    "2020-01-01T10:20:30+09:00", "2020-01-01T24:00:00+09:00", "2020-01-01T10:20:30+08:00",
    "0999-01-01T10:20:30+09:00", "2020-01-01T10:20:30.5+09:00", "２０２０-01-01T10:20:30+09:00", "Patient/abc", "abc",
    0, 7, -1, True, False, 1.5, 1e16, 1e-05, float("nan"), 36.5, 12.5, {"a": 1}, [1],
]
ODD_VALUES: list[Any] = [
    None, "", "x", "x ", "20200101", "2020105", "20200101102030", "09990101", "09990101102030", "1.50", "36.5", "12.5", "1e+16",
    "1E+16", "0.00001", b"x", 0, 7, 36.5, 12.5, Decimal("1.50"), Decimal("36.5"), Decimal("12.5"), True,
]


def _odd_rows(compared: Compared) -> None:
    """Every sampled row again with each mapped column's FHIR leaf and source value set to each odd one
    (and every pair of them): the generated check and the reference still name the same columns."""

    entities: set[str] = set()
    for (entity, shape), (check, row, record, resources, carried) in compared.samples.items():
        if entity in entities:  # one shape per entity (vital signs: its others are compared row by row)
            continue
        entities.add(entity)
        for column, plan in check.plans.items():
            location = plan.locations.get(shape)
            if not location or column not in row:
                continue
            # Alternatives (a lab value's valueString or valueQuantity.value): each one the record holds.
            for one in location if cells.alternatives(location) else [location]:
                for leaf in ODD_LEAVES:
                    changed = copy.deepcopy(list(resources))
                    if not set_leaf(changed, record.id, one, leaf):
                        break
                    for value in [row[column], *ODD_VALUES]:
                        check.transformed({**row, column: value}, record, changed, carried)  # compared with the twin


def test_generated_checks_match_the_reference_on_odd_leaves_and_values(
    demo_clinic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SqliteFileSource(demo_clinic.path)
    try:
        compared = compared_export(monkeypatch, load_connector("demo"), source, demo_clinic.attachments_root,
                                   then=_odd_rows)
    finally:
        source.close()
    assert len({entity for entity, _ in compared.samples}) == 20  # every entity of the demo
    assert compared.rows > 5000 + 20 * 5 * len(ODD_LEAVES) * len(ODD_VALUES)


def test_amounts_written_in_won_are_a_source_type_of_their_own() -> None:
    """'12,300원' (수납결제.결제금액, 수납.비급여): the first such value of a decimal column makes its source type
    ``won``, and an amount comes back written so (before: every such cell was carried as transformed); a value
    that is no whole won, or a column of plain numbers, is not written that way."""
    from emr_exporter.pipeline.cells import MISSING, WON_TEXT, source_type_name, to_source

    assert [source_type_name(v, "decimal") for v in ("12,300원", "-4,500원", "0원", "1234원", "12,3OO원", "12300",
                                                     "1,23원")] == [WON_TEXT, WON_TEXT, WON_TEXT, "str", "str",
                                                                    "str", "str"]  # 1234원: not as rebuilt
    assert source_type_name("12,300원", "text") == "str"  # only an amount
    assert [to_source(Decimal(v), WON_TEXT, "decimal", None, "utf-8") for v in ("12300", "-4500", "0", "1234567")] == [
        "12,300원", "-4,500원", "0원", "1,234,567원"]
    assert all(to_source(v, WON_TEXT, "decimal", None, "utf-8") is MISSING
               for v in (Decimal("1.5"), Decimal("NaN"), 12300, "12,300원"))
    assert to_source(None, WON_TEXT, "decimal", None, "utf-8") is None
