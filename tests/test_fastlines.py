"""The fast vital-signs writer (pipeline/fastlines.py) gives the very bytes the slow path gives
(``fhir.to_fhir`` + ``canonical_json_line``), the same ids and statuses, in the same order, on hand-made odd
values; and leaves to the slow path what it was not built for. The export tests run it against the slow path
on every row (tests/conftest.py sets EMR_EXPORTER_FAST_CHECK); the last test shows that check can fail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.zones import KST
from emr_exporter.pipeline import fastlines, fhir
from emr_exporter.pipeline.bag import canonical_json_line
from emr_exporter.pipeline.check import ResourceCheck, line_problem

INSTITUTION = model.Institution(code="12345678", name="테스트의원")
RID = "0123456789abcdef0123456789abcdef"


def _record(**fields: Any) -> model.VitalSigns:
    base: dict[str, Any] = {
        "id": RID, "provenance": model.Provenance("demo", "VITAL_SIGN", "17"), "patient_id": "a" * 32,
        "observed": dt.datetime(2025, 6, 26, 16, 37),
    }
    base.update(fields)
    return model.VitalSigns(**base)


def _slow(record: model.VitalSigns) -> list[tuple[str, str, bytes, str]]:
    return [(r["resourceType"], r["id"], canonical_json_line(r), r["status"])
            for r in fhir.to_fhir(record, institution=INSTITUTION)]


FULL = {
    "encounter_id": "b" * 32, "performer_id": "c" * 32, "systolic": Decimal("120.0"), "diastolic": Decimal("1E+2"),
    "bp_unit": "mmHg", "pulse": Decimal("72"), "pulse_unit": "/min", "respiration": Decimal("18"),
    "respiration_unit": "회/분", "temperature": Decimal("36.50"), "temperature_unit": "℃",
    "temperature_method": "고막 체온", "weight": Decimal("70.25"), "weight_unit": "kg", "height": Decimal("172.4"),
    "height_unit": "cm", "bmi": Decimal("23.6"), "bmi_unit": "kg/m2", "bmi_status": "정상 'normal' 😀",
    "spo2": Decimal("98"), "spo2_unit": "%", "oxygen_flow_rate": Decimal("2.5"), "inhaled_oxygen": Decimal("28"),
    "waist": Decimal("81.5"), "waist_unit": "cm", "head": Decimal("55"), "head_unit": "inch",
    "note": "측정 후 안정, 0.00001 e-5 \u2028 한글 😀", "status": "amended", "recorded_status": "수정",
}

#: Records the writer must write, each byte for byte as the slow path.
PLAIN = [
    {},  # no measurement: not written (to_fhir refuses it)
    {"pulse": Decimal("80")},
    {"systolic": Decimal("121")},
    {"diastolic": Decimal("66"), "bp_unit": "mm[Hg]"},
    FULL,
    {**FULL, "retention": model.RetentionClass.NURSING_RECORD, "observed": dt.date(2024, 2, 29)},
    {**FULL, "observed": dt.datetime(2025, 1, 1, 9, 0, tzinfo=KST), "provenance": model.Provenance("c o/n", "t%b", "")},
    {**FULL, "status": None, "recorded_status": None, "note": None, "bmi_status": None, "temperature_method": None},
    {**FULL, "status": "", "encounter_id": "", "performer_id": None},
    {**FULL, **{k: None for k in ("bp_unit", "pulse_unit", "respiration_unit", "temperature_unit", "weight_unit",
                                   "height_unit", "bmi_unit", "spo2_unit", "waist_unit", "head_unit")}},
    {**FULL, "pulse_unit": "", "weight_unit": "㎏", "height_unit": "m", "temperature_unit": "Cel"},
    {"weight": Decimal("0.1"), "height": Decimal("-0.5"), "bmi": Decimal("-0"), "pulse": Decimal("-0.0")},
    {"weight": Decimal("123456789012345.5"), "height": Decimal("0.0001"), "bmi": Decimal("18446744073709551615")},
    {"weight": Decimal("-9223372036854775808"), "height": Decimal("1.000"), "pulse": Decimal("0.30000000000000004")},
    {"spo2": Decimal("97"), "oxygen_flow_rate": Decimal("3")},
    {"spo2": Decimal("97"), "inhaled_oxygen": Decimal("40.5")},
    {"pulse": Decimal("80"), "provenance": model.Provenance("demo", "VITAL_SIGN", "키 '한글' 😀")},
]

#: Records the writer leaves to the slow path (each still written or refused by it).
ODD = [
    {"pulse": Decimal("80"), "note": 'a "quoted" note'},
    {"pulse": Decimal("80"), "note": "back\\slash"},
    {"pulse": Decimal("80"), "note": "tab\there"},
    {"pulse": Decimal("80"), "note": "bell\x07"},
    {"pulse": Decimal("80"), "note": "del\x7f"},
    {"pulse": Decimal("80"), "note": "surrogate \ud800"},
    {"pulse": Decimal("80"), "pulse_unit": 'b"/min'},
    {"pulse": Decimal("80"), "provenance": model.Provenance("demo", "VITAL_SIGN", "k\n1")},
    {"weight": Decimal("0.00001")},
    {"weight": Decimal("1E-7")},
    {"weight": Decimal("12345678901234567.5")},
    {"weight": Decimal("0.1000000000000000055511151231257827")},
    {"weight": Decimal("1.00000000000000000001")},
    {"weight": Decimal("18446744073709551616")},
    {"weight": Decimal("-9223372036854775809")},
    {"weight": Decimal("NaN")},
    {"weight": Decimal("Infinity")},
    {"pulse": Decimal("80"), "status": None, "recorded_status": "X"},
    {"pulse": Decimal("80"), "status": "unheard-of"},
    {"pulse": Decimal("80"), "id": "not an id"},
    # a measurement recorded as no number (dataAbsentReason): alone, and (never set so by the export) beside another
    {"absent": (("weight", "측정 안 함"),)},
    {"absent": (("systolic", None),), "bp_unit": "mmHg"},
    {"pulse": Decimal("80"), "absent": (("weight", "거부"),)},
]


@pytest.mark.parametrize("fields", PLAIN, ids=range(len(PLAIN)))
def test_the_writer_gives_the_slow_paths_bytes(fields: dict[str, Any]) -> None:
    record = _record(**fields)
    written = fastlines.vital_lines(record)
    if not fields:
        assert written is None
        with pytest.raises(Exception, match="at least one measurement"):
            fhir.to_fhir(record, institution=INSTITUTION)
        return
    assert written is not None
    lines, shape, skeletons = written
    slow = _slow(record)
    assert lines == slow
    assert shape == tuple(("Observation", rid.rpartition("-")[2]) for _, rid, _, _ in slow)
    check = ResourceCheck(None)
    for resource, (_, _, line, _) in zip(fhir.to_fhir(record, institution=INSTITUTION), lines, strict=True):
        assert check.problem(resource, line) is None and line_problem(line) is None
        skeleton = skeletons[resource["id"].rpartition("-")[2]]
        for path in fastlines.VITAL_READABLE:  # what the cell check may read: there, and the same
            assert _leaf(skeleton, path) == _leaf(resource, path), path


def _leaf(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return "(absent)"
    return node


@pytest.mark.parametrize("fields", ODD, ids=range(len(ODD)))
def test_what_the_writer_was_not_built_for_goes_the_slow_way(fields: dict[str, Any]) -> None:
    assert fastlines.vital_lines(_record(**fields)) is None


def test_numbers_and_texts_are_encoded_as_orjson_and_the_canonical_line_encode_them() -> None:
    for text in ("정상", "😀", "a'b", "\u2028\u2029", "x" * 300, "é", "\u00a0"):
        assert fastlines._text(text) == canonical_json_line({"a": text})[5:-2]
    for value in ("120.0", "1E+2", "36.50", "0.0001", "-0.5", "99999999999999.9", "18446744073709551615"):
        found = fastlines._number(Decimal(value))
        assert found is not None
        assert found[0] == canonical_json_line(fhir.decimal_element("v", Decimal(value)))[5:-2]


def test_the_differential_check_finds_a_wrong_byte(demo_clinic: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from emr_exporter.connectors import load_connector
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.sources.base import SqliteFileSource

    real = fastlines.vital_lines

    def wrong(record: model.VitalSigns) -> Any:
        written = real(record)
        if written is None:
            return None
        lines, shape, skeletons = written
        kind, rid, line, status = lines[-1]
        return [*lines[:-1], (kind, rid, line.replace(b'"Observation"', b'"Observation" '), status)], shape, skeletons

    monkeypatch.setattr(fastlines, "vital_lines", wrong)
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    run = ExportRun(spec, source, institution=read_institution(spec, source),
                    created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), attachments_root=demo_clinic.attachments_root)
    with pytest.raises(fastlines.FastLinesMismatch, match=r"^vital_signs: the fast writer's lines differs"):
        digest_stream(run.stream())


def test_a_measurement_recorded_as_no_number_says_why_it_has_no_value() -> None:
    """FHIR R4 vital signs vs-2 (vs-3 for the blood pressure's components): no valueQuantity, a dataAbsentReason of
    the code the text clearly says (else unknown) with the text as recorded; the kind's KR Core profile claimed (its
    quantity rules bind only a value there is), and the ResourceCheck's rules kept."""
    record = _record(absent=(("weight", " 측정 안 함 "), ("systolic", "refused"), ("pulse", ">200"),
                             ("temperature", "tab\there"), ("spo2", None), ("height", "-Infinity"), ("bmi", "nan")),
                     bp_unit="mmHg")
    resources = fhir.to_fhir(record, institution=INSTITUTION)
    said = {r["id"].rpartition("-")[2]: (r["meta"].get("profile"), r.get("dataAbsentReason")
                                         or r["component"][0]["dataAbsentReason"]) for r in resources}
    dar = fhir.DATA_ABSENT_REASON_SYSTEM
    assert said == {
        "bp": ([fhir.PROFILE_BLOOD_PRESSURE], {"coding": [{"system": dar, "code": "asked-declined",
                                                           "display": "Asked But Declined"}], "text": "refused"}),
        "pulse": ([fhir.VITAL_PROFILES["pulse"][0]], {"coding": [{"system": dar, "code": "unknown", "display": "Unknown"}],
                                                      "text": ">200"}),
        "temp": ([fhir.VITAL_PROFILES["temperature"][0]], {"coding": [{"system": dar, "code": "unknown",
                                                                       "display": "Unknown"}]}),  # no control character
        "weight": ([fhir.VITAL_PROFILES["weight"][0]], {"coding": [{"system": dar, "code": "not-performed",
                                                                    "display": "Not Performed"}], "text": "측정 안 함"}),
        "spo2": ([fhir.VITAL_PROFILES["spo2"][0]], {"coding": [{"system": dar, "code": "unknown", "display": "Unknown"}]}),
        # a float column's infinities and NaN (PostgreSQL float8): the code system's own codes
        "height": ([fhir.VITAL_PROFILES["height"][0]], {"coding": [{"system": dar, "code": "negative-infinity",
                                                                    "display": "Negative Infinity (NINF)"}],
                                                        "text": "-Infinity"}),
        "bmi": ([fhir.PROFILE_VITAL_SIGNS], {"coding": [{"system": dar, "code": "not-a-number",
                                                         "display": "Not a Number (NaN)"}], "text": "nan"}),
    }
    assert not any("valueQuantity" in r or any("valueQuantity" in c for c in r.get("component", [])) for r in resources)
    check, validate = ResourceCheck(None), fhir.structure_validator()  # the dev extra holds fhir.resources
    assert validate is not None
    for resource in resources:
        assert (check.problem(resource, canonical_json_line(resource)), validate(resource)) == (None, None)
    assert not fhir.vital_measured(record) and fastlines.vital_lines(record) is None
