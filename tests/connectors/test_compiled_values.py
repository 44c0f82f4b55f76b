"""The per-entity generated ``_values`` (connectors/mapper.py ``_compile_values``) does exactly what the
reference loop (``EntityMapper._values_loop``) does: the same values, the same field defects and the same
rejections (code and message), on every row of the demo clinic and of the two Korean-style clinics
(look-ups, split RRN columns, composite keys, constants, defaults, references by a unique field)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from korean_styles import HWANJA_CONNECTOR, RECEPT_CONNECTOR, create_hwanja_clinic, create_recept_clinic

from emr_exporter import model
from emr_exporter.connectors import load_connector
from emr_exporter.connectors.mapper import REF_COLUMN_PREFIX, EntityMapper, ref_count_column
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


def _built(build: Any, mapper: EntityMapper, values: dict[str, Any]) -> Any:
    provenance = model.Provenance(mapper.spec.name, mapper.entity.table, "7")
    try:
        record = build(dict(values), provenance)
    except RowRejected as rejected:
        return ("rejected", rejected.reason_code, rejected.reason)
    # A dataclass compares its fields only: the type and every slot (retention set in __post_init__ too).
    return ("ok", type(record), record, [getattr(record, f.name) for f in dataclasses.fields(record)])


def _record_outcome(build: Any, mapper: EntityMapper, row: dict[str, Any]) -> Any:
    mapper.defects = []
    provenance = model.Provenance(mapper.spec.name, mapper.entity.table, "7")
    try:
        record = build(row, provenance)
    except RowRejected as rejected:
        return ("rejected", rejected.reason_code, rejected.reason, list(mapper.defects))
    return ("ok", type(record), record, [getattr(record, f.name) for f in dataclasses.fields(record)],
            list(mapper.defects))


def _same(mapper: EntityMapper, row: dict[str, Any]) -> Any:
    """The generated values and the fast record build against their reference forms, on one row; and the
    one-step record (values and build fused, _compile_record) against the two steps."""
    generated = _outcome(mapper._values, mapper, row)
    assert generated == _outcome(mapper._values_loop, mapper, row)
    if generated[0] == "ok":
        assert _built(mapper._build, mapper, generated[1]) == _built(mapper._build_reference, mapper, generated[1])
    fused = mapper._compiled_record
    if fused is None:  # no hook here: every entity but attachments (content from two values) is fused
        assert mapper._is_attachment, mapper.entity.name
        return generated
    assert _record_outcome(lambda r, p: fused(r, mapper.ctx, p), mapper, row) == _record_outcome(
        lambda r, p: mapper._build(mapper._values(r), p), mapper, row)
    return generated


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
            with contextlib.suppress(RowRejected):  # compiled on first use (an empty row: values or rejected)
                mapper._values({})
            assert mapper._compiled_values.__code__.co_filename == f"<values of {entity.name}>"
            first_key = None
            for page in iter_keyset(source, run._joined_sql(entity), entity.key, 500):
                for row in page:
                    generated = _same(mapper, row)
                    # Again, now that the field caches hold this row's values: the same answers.
                    assert _same(mapper, row) == generated, (entity.name, compared)
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


#: Values a connector's columns may hold in a real clinic database: padding, control characters, lost
#: text, broken encodings, impossible or odd dates, amounts with noise, odd numbers, NULLs and blanks.
PLANTED: tuple[Any, ...] = (
    None, "", "   ", " 7", "7 ", "7\u3000", "\u00a07", "00007", "20240230", "20241301", "2024-02-29", "20240229",
    "240229", "20240229123000", "20240229250000", "2024-02-29 12:30:00", "abc", "??", "? ?", "a?b", "x\x07y",
    "x\ty", "line\nbreak", "\x7f", "\u1100\u1161\u11a8", "각", "초진진찰료-의원", "12,000원", "₩12,000", "1e3",
    "NaN", "Infinity", "-0", "0.10", "1.5", "H", "M", "F", "Y", "N", "1", "2", "9", "true", "no",
    b"\xb0\xa1", b"\xff\xfe\xfd", b"abc", b"  ", bytearray(b"abc"), 0, 1, 2, -1, 7, 10**20, True, False,
    0.0, -0.0, 1.0, 1.5, 1e16, Decimal("1.50"), Decimal("1.5"), Decimal("NaN"), dt.date(2024, 2, 29),
    dt.datetime(2024, 2, 29, 12, 30), dt.datetime(2024, 2, 29, 12, 30, tzinfo=dt.UTC),
)


def test_generated_values_and_records_match_the_references_on_planted_values(demo_clinic) -> None:
    """Every planted value in every column of a real row of each demo entity, twice (the second time from
    the field caches): the generated values and the fast record build give exactly what the reference
    forms give, values, field defects and rejections (code and message) alike."""
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source, {"code": "12345678", "name": "x"}),
                        created=CREATED, attachments_root=demo_clinic.attachments_root)
        outcomes: set[str] = set()
        for entity in spec.entities.values():
            mapper = EntityMapper(spec, entity, attachments_root=demo_clinic.attachments_root,
                                  quarantined_keys={}, duplicate_values={}, hook=None)
            page = next(iter_keyset(source, run._joined_sql(entity), entity.key, 3), [])
            # The export's own count of the parent rows a reference names (its COUNT(*), NULL for none) holds
            # only what a count can be; every other column, the source's and the joined parent keys, any value.
            counts = {ref_count_column(f.name) if f.name in mapper._joined_refs else REF_COLUMN_PREFIX + f.name
                      for f in entity.fields.values() if f.type == "ref"}
            for row in page:
                for column in row:
                    for value in (None, 0, 1, 2, 3) if column in counts else PLANTED:
                        planted = {**row, column: value}
                        first = _same(mapper, planted)
                        assert _same(mapper, planted) == first, (entity.name, column, value)
                        outcomes.add(first[0] if first[0] == "rejected" else "defect" if first[-1] else "ok")
                        if first[0] == "rejected":
                            outcomes.add(first[1])
                        outcomes.update(code for _, _, code in first[-1])
    finally:
        source.close()
    # The planted values reached every kind of outcome the fast paths could get wrong.
    assert {"ok", "defect", "rejected", "required-missing", "orphan", "ambiguous-ref", "invalid-date", "invalid-number",
            "bad-encoding", "lossy-text", "control-characters", "unmapped-code", "invalid-bool"} <= outcomes


def test_generated_values_match_the_reference_loop_on_two_digit_birth_years(tmp_path: Path) -> None:
    # A patient's birth date settled by the RRN and the first visit (transforms.settle_birth_date): the same
    # in the generated values, the fused record and the reference loop.
    conn = sqlite3.connect(tmp_path / "clinic.sqlite")
    conn.execute("CREATE TABLE HWANJA (CHART_NO TEXT PRIMARY KEY, NAME TEXT, BIRTH TEXT, JUMIN TEXT, REG_YMD TEXT)")
    conn.executemany("INSERT INTO HWANJA VALUES (?, ?, ?, ?, ?)", [
        ("1", "a", "240105", "2401051234567", "20150302"), ("2", "b", "240105", None, "20150302"),
        ("3", "c", "240105", "2401053234567", None), ("4", "d", "000229", "0002291234567", None),
        ("5", "e", "240105", "12", "20150302"), ("6", "f", "2401", None, "2015"), ("7", "g", None, None, None),
        ("8", "h", "2024-01-05", "2401051234567", "20150302")])
    conn.commit()
    conn.close()
    (tmp_path / "connectors" / "yy").mkdir(parents=True)
    (tmp_path / "connectors" / "yy" / "connector.toml").write_text("""
[connector]
name = "yy"
version = "1"

[entities.patient]
table = "HWANJA"
key = "CHART_NO"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "NAME", required = true }
birth_date = { column = "BIRTH", type = "date", format = "%y%m%d" }
rrn = { column = "JUMIN", type = "rrn" }
first_visit = { column = "REG_YMD", type = "date" }
""", encoding="utf-8")
    spec = load_connector("yy", [tmp_path / "connectors"])
    mapper = EntityMapper(spec, spec.entities["patient"], attachments_root=None, quarantined_keys={}, hook=None)
    assert mapper._settle_birth == "by-today"
    compared, rejected, defects = _compare(spec, tmp_path / "clinic.sqlite", None)
    assert (compared, rejected, defects) == (8, 0, 2)  # row 5's RRN, row 6's dates: field defects
