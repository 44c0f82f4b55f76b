"""The per-entity generated ``_values`` (connectors/mapper.py ``_compile_values``) does exactly what the
reference loop (``EntityMapper._values_loop``) does: the same values, the same field defects and the same
rejections (code and message), on every row of the demo clinic and of the two Korean-style clinics
(look-ups, split RRN columns, composite keys, constants, defaults, references by a unique field)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from korean_styles import HWANJA_CONNECTOR, RECEPT_CONNECTOR, create_hwanja_clinic, create_recept_clinic

from emr_exporter.connectors import load_connector
from emr_exporter.connectors.mapper import EntityMapper
from emr_exporter.connectors.spec import ConnectorSpec
from emr_exporter.connectors.transforms import RowRejected
from emr_exporter.pipeline.export import ExportRun, read_institution
from emr_exporter.sources.base import SqliteFileSource, iter_keyset

CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _outcome(fn: Any, mapper: EntityMapper, row: dict[str, Any]) -> Any:
    mapper.defects = []
    try:
        return ("ok", fn(row), list(mapper.defects))
    except RowRejected as rejected:
        return ("rejected", rejected.reason_code, rejected.reason, list(mapper.defects))


def _compare(spec: ConnectorSpec, database: Path, attachments: Path | None) -> tuple[int, int, int]:
    source = SqliteFileSource(database)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source, {"code": "12345678", "name": "x"}),
                        created=CREATED, attachments_root=attachments)
        compared = rejected = defects = 0
        # A quarantined parent key makes references to it orphans: one real key per parent entity.
        quarantined: dict[str, set[str]] = {}
        for entity in spec.entities.values():
            mapper = EntityMapper(spec, entity, attachments_root=attachments, quarantined_keys=quarantined,
                                  duplicate_values={}, hook=None)
            assert mapper._compiled_values.__code__.co_filename == f"<values of {entity.name}>"
            first_key = None
            for page in iter_keyset(source, run._joined_sql(entity), entity.key, 500):
                for row in page:
                    generated = _outcome(mapper._values, mapper, row)
                    assert generated == _outcome(mapper._values_loop, mapper, row), (entity.name, compared)
                    compared += 1
                    rejected += generated[0] == "rejected"
                    defects += bool(generated[-1])
                    first_key = first_key or str(row[entity.key.lower()])
            quarantined[entity.name] = {first_key} if first_key else set()
        return compared, rejected, defects
    finally:
        source.close()


def test_generated_values_match_the_reference_loop_on_every_demo_row(demo_clinic) -> None:
    compared, rejected, defects = _compare(load_connector("demo"), demo_clinic.path, demo_clinic.attachments_root)
    assert compared > 5000 and rejected > 0 and defects > 0  # planted defects compared too


@pytest.mark.parametrize(("name", "create", "text"), [
    ("hwanja", create_hwanja_clinic, HWANJA_CONNECTOR), ("recept", create_recept_clinic, RECEPT_CONNECTOR),
])
def test_generated_values_match_the_reference_loop_on_korean_styles(
    tmp_path: Path, name: str, create: Any, text: str
) -> None:
    clinic = create(tmp_path / f"{name}.sqlite")
    (tmp_path / "connectors" / name).mkdir(parents=True)
    (tmp_path / "connectors" / name / "connector.toml").write_text(text, encoding="utf-8")
    compared, rejected, _ = _compare(load_connector(name, [tmp_path / "connectors"]), clinic.path, None)
    # Every row the entities read (some tables are read by two sections), planted rejections among them.
    assert compared > 250 and rejected > 50
