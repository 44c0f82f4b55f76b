"""The hot-path forms in pipeline/fhir.py and pipeline/export.py give exactly what their plain forms gave:
``decimal_element`` (whole numbers without the round trip through text), ``fhir_datetime`` (KST written as
text), the per-type ``list_line``, ``model.new_provenance``, the
remembered ``isoformat``. The bag's bytes are held by the export tests; these compare the pieces
on values the demo never holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.zones import KST
from emr_exporter.pipeline import export, fhir


def _decimal_element_reference(name: str, value: Decimal, recorded_text: str | None = None) -> dict[str, Any]:
    # decimal_element as it was written before its fast path (fhir_number, then the text round trip).
    number = fhir.fhir_number(value)
    element: dict[str, Any] = {name: number}
    json_text = repr(number)
    exact_text = recorded_text if recorded_text is not None else str(value)
    inexact = Decimal(json_text) != value
    if inexact or (recorded_text is not None and recorded_text != json_text):
        element["_" + name] = {"extension": [{"url": fhir.EXACT_DECIMAL_URL, "valueString": exact_text}]}
    return element


NUMBERS = ("0", "-0", "0.0", "1", "1.0", "1.50", "-12000", "17610", "37.1", "0.1", "1E+3", "1e16", "12345678901234567890",
           "1.00000000000000000001", "0.30000000000000004", "1e-7", "-0.000001", "9" * 40, "2.5E-400")


@pytest.mark.parametrize("text", NUMBERS)
def test_decimal_element_is_what_it_was(text: str) -> None:
    value = Decimal(text)
    for recorded in (None, text, text + "0", str(value), "abc"):
        fast = fhir.decimal_element("value", value, recorded)
        assert fast == _decimal_element_reference("value", value, recorded)
        assert [type(v) for v in fast.values()] == [type(v) for v in _decimal_element_reference(
            "value", value, recorded).values()]  # 1 stays an int, 1.5 a float
    assert fhir.money(value) == {**_decimal_element_reference("value", value), "currency": fhir.CURRENCY}


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_decimal_element_refuses_what_it_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        fhir.decimal_element("value", Decimal(text))


@pytest.mark.parametrize("value", [
    dt.datetime(2024, 2, 29, 12, 30), dt.datetime(2024, 2, 29, 12, 30, 5, 123), dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))), dt.date(2024, 2, 29),
])
def test_fhir_datetime_is_what_it_was(value: dt.date) -> None:
    reference = value.replace(tzinfo=KST) if isinstance(value, dt.datetime) and value.tzinfo is None else value
    assert fhir.fhir_datetime(value) == reference.isoformat()


def test_remembered_isoformat_is_isoformat() -> None:
    """fhir.isoformat (fhir_date, fhir_datetime, list_line) remembers texts by value: every value gives its
    own isoformat() whatever was asked before, equal-but-differently-written values included (a date and
    its midnight, one instant in two zones, fold, a subclass), and past the table's bound."""

    class Day(dt.date):
        def isoformat(self) -> str:
            return "day " + super().isoformat()

    midnight = dt.datetime(2024, 2, 29)
    values: list[dt.date] = [
        dt.date(2024, 2, 29), midnight, dt.datetime(2024, 2, 29, 0, 0, 0, 1), Day(2024, 2, 29),
        dt.datetime(2024, 2, 29, 9, tzinfo=KST), dt.datetime(2024, 2, 29, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 1, fold=1), dt.datetime(2024, 2, 29, 1), dt.date(1, 1, 1), dt.datetime(9999, 12, 31),
    ]
    values += [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(fhir._ISO_TEXTS_MAX + 10)]
    values += [midnight + dt.timedelta(minutes=n) for n in range(fhir._ISO_TEXTS_MAX + 10)]
    for _ in range(2):  # the second time from the tables (those still there)
        for value in values:
            assert fhir.isoformat(value) == value.isoformat(), value
            assert fhir.fhir_date(value) == (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    assert len(fhir._ISO_DATES) <= fhir._ISO_TEXTS_MAX and len(fhir._ISO_DATETIMES) <= fhir._ISO_TEXTS_MAX


def _list_line_reference(record: Any) -> dict[str, Any]:
    # list_line as it was written before it looked its attributes up once per type.
    when = None
    for name in ("start", "recorded", "ordered", "performed", "observed", "issued", "service_date", "created",
                 "occurred", "effective", "valid_from", "started"):
        value = getattr(record, name, None)
        if value is not None:
            when = value.isoformat()
            break
    line: dict[str, Any] = {"id": record.id, "source_key": record.provenance.key,
                            "retention": record.retention.slug, "date": when}
    patient_id = getattr(record, "patient_id", None)
    if patient_id is not None:
        line["patient_id"] = patient_id
    kind = getattr(record, "kind", None)
    if kind is not None:
        line["kind"] = kind
    return line


def _filled(record_type: type, fill: bool) -> Any:
    """A record of ``record_type`` with every field set (``fill``) or only its required ones."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(record_type):
        if f.name in ("id", "provenance"):
            continue
        if (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING) or fill:
            annotation = str(f.type)
            if "RetentionClass" in annotation:
                continue
            values[f.name] = (
                dt.datetime(2024, 2, 29, 12, 30) if "datetime" in annotation else dt.date(2024, 2, 29)
                if "date" in annotation else Decimal("1.5") if "Decimal" in annotation else 3
                if annotation.startswith("int") else True if annotation.startswith("bool") else ("a", "b")
                if "tuple" in annotation else model.AttachmentContent(blob=b"x") if "AttachmentContent" in annotation
                else "outpatient" if f.name == "kind" else "x"
            )
    return model.record_maker(record_type)("0" * 32, model.Provenance("demo", "T", "7"), values)


@pytest.mark.parametrize("record_type", list(model.ENTITY_TYPES.values()))
def test_list_line_and_record_maker_are_what_they_were(record_type: type) -> None:
    for fill in (False, True):
        record = _filled(record_type, fill)
        values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in (
            "id", "provenance")}
        assert record == record_type(id=record.id, provenance=record.provenance, **values)
        assert export.list_line(record) == _list_line_reference(record)
    # A value the record has no field for: the constructor's own TypeError, as before.
    with pytest.raises(TypeError, match="unexpected keyword argument 'no_such_field'"):
        model.record_maker(record_type)("0" * 32, model.Provenance("demo", "T", "7"), {"no_such_field": 1})


@pytest.mark.parametrize("key", ["7", "", " 7 ", "환자-0001", "\x00"])
def test_new_provenance_is_the_dataclass_constructor(key: str) -> None:
    """model.new_provenance (the mapper's, one a source row) is the object Provenance(...) makes: equal, the
    same hash, text, pickle and copy, and as frozen."""
    import copy
    import pickle

    fast, plain = model.new_provenance("demo", "FEE_DTL", key), model.Provenance("demo", "FEE_DTL", key)
    assert type(fast) is model.Provenance
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert pickle.loads(pickle.dumps(fast)) == plain and copy.copy(fast) == plain
    assert dataclasses.astuple(fast) == ("demo", "FEE_DTL", key) and dataclasses.replace(fast) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.key = "8"  # type: ignore[misc]


@pytest.mark.parametrize("fmt", ["%Y%m%d", "%Y%m%d%H%M%S"])
def test_digit_dates_parse_as_strptime_does(fmt: str) -> None:
    """The sliced fast path of transforms._parse_date_text against strptime itself."""
    from emr_exporter.connectors.transforms import _parse_date_text

    texts = ["20240229", "20230229", "20241301", "20240001", "20240100", "00010101", "99991231", "19990431",
             "20240229123000", "20240229240000", "20240229236000", "20240229235960", "20240229235959",
             "00000101000000", "2024022912300", "２０２４０２２９", "2024-02-29", "+2024022", " 20240229"]
    width = {"%Y%m%d": 8, "%Y%m%d%H%M%S": 14}[fmt]
    for text in texts:
        try:
            expected: dt.datetime | None = dt.datetime.strptime(text, fmt)
        except ValueError:
            expected = None
        if text.isascii() and text.isdigit() and len(text) != width:
            expected = None  # digits of another length are no date of a digit-only format (strptime reads one
            # digit for %m %d %H: '2024022912300' would be 12:30:00)
        assert _parse_date_text(text, (fmt,)) == expected, text
