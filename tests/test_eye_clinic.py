"""A Korean eye clinic (안과, tests/connectors/eye_clinic.py) on SQLite and on MariaDB over its ODBC driver, through the
contractor's whole flow with the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed
``export`` → ``verify`` → ``open``; every cell of every table rebuilt from the opened bag (tests/lossless_kit.py).

Each eye keeps its side: the visit row's ``VA_OD, VA_OS, BCVA_OD, BCVA_OS, IOP_OD, IOP_OS`` are a vital-signs section
reading the visit again, one Observation per measurement and eye, ``bodySite`` the eye (SNOMED CT 18944008 right eye
structure, 8966001 left eye structure), intraocular pressure coded LOINC 56844-4 in mmHg as recorded nowhere (no unit
column: none written), visual acuity ``code.text`` alone with the text as written in ``valueString`` ('0.8', 'FC',
'20/40': never read as a number). The refraction table (one row per eye, the eye in a side column 'R'/'우안') is a
vital-signs section whose eye the side column says; the diagnoses' ``EYE_ID`` is Condition.bodySite ('OU'/'B': 40638003
both eyes). A side that names no eye ('X', '3') is a field defect ``unreadable-eye``: the row kept, the cell raw, no
eye guessed (and the refraction row's readings, of no eye, no Observation: their cells raw with the row).
Was: every one of these columns carried raw, no Observation, no side.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from eye_clinic import EYES, create_eye_clinic
from foreign_schemas import _fresh_database

from emr_exporter import model
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import FIELD_LEVEL_REASONS, RowRejected, TransformContext, to_eye
from emr_exporter.pipeline import fhir
from emr_exporter.reports.transfer import QUARANTINE_REASONS
from test_opensource_shaped_clinics import _bag, _entities, _fates
from test_random_server_clinics import through_the_flow

SITES = {"right": "18944008", "left": "8966001", "both": "40638003"}
SLUGS = {"od": "right", "os": "left", "ou": "both"}


@pytest.mark.parametrize(("written", "side"), [
    ("R", "right"), ("od", "right"), (" 우안 ", "right"), ("Right", "right"), ("L", "left"), ("OS", "left"),
    ("좌 안", "left"), ("OU", "both"), ("B", "both"), ("양안", "both"),
    ("X", None), ("3", None), ("", None), ("0", None), ("RL", None), ("우측다리", None)])
def test_a_side_column_names_an_eye_only_as_written(written: str, side: str | None) -> None:
    assert model.eye_side(written) == side


def test_the_eye_transform_keeps_the_text_and_refuses_what_names_no_eye_for_the_field_alone() -> None:
    field = FieldSpec(name="eye", type="text")
    ctx = TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)
    assert to_eye("OU", field, ctx) == "OU"
    with pytest.raises(RowRejected) as caught:
        to_eye("X", field, ctx)
    assert (caught.value.reason_code, caught.value.reason) == (
        "unreadable-eye", "field 'eye' names no eye (R/OD/우안, L/OS/좌안, B/OU/양안)")
    assert "unreadable-eye" in FIELD_LEVEL_REASONS and set(QUARANTINE_REASONS) >= FIELD_LEVEL_REASONS


def test_a_set_of_each_eyes_columns_never_gives_one_eyes_value_to_the_other() -> None:
    record = model.VitalSigns(id="v1", provenance=model.Provenance("eye", "VISIT", "1"), patient_id="p1",
                              observed=dt.date(2024, 3, 4), iop_right=Decimal("14.5"), iop_left=Decimal("21"),
                              iop_unit="mmHg", va_right="0.8", va_left="FC", absent=(("sphere_left", "측정불가"),))
    by_id = {r["id"]: r for r in fhir.to_fhir(record, institution=model.Institution(code="12345678", name="안과"))}
    assert sorted(by_id) == ["v1-iop-od", "v1-iop-os", "v1-sph-os", "v1-va-od", "v1-va-os"]
    assert by_id["v1-iop-od"]["valueQuantity"] == {"value": 14.5, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                                                   "code": "mm[Hg]"}
    assert by_id["v1-iop-os"]["valueQuantity"]["value"] == 21
    assert (by_id["v1-va-od"]["valueString"], by_id["v1-va-os"]["valueString"]) == ("0.8", "FC")
    assert by_id["v1-sph-os"]["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert {i: r["bodySite"]["coding"][0]["code"] for i, r in by_id.items()} == {
        "v1-iop-od": "18944008", "v1-va-od": "18944008", "v1-iop-os": "8966001", "v1-va-os": "8966001",
        "v1-sph-os": "8966001"}


def _lines(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _source(resource: dict[str, Any]) -> tuple[str, str]:
    """(table, key) of a resource's source identifier."""
    source = next(i for i in resource["identifier"] if i["system"].startswith("urn:emr-exporter:source"))
    return source["system"].rsplit(":", 1)[1], source["value"]


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db)])
def test_an_eye_clinic_keeps_each_eye_on_its_own_observation(engine: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    if engine == "sqlite":
        clinic = create_eye_clinic(engine, tmp_path / "eye.db")
    else:
        clinic = create_eye_clinic(engine, _fresh_database(request.getfixturevalue("mariadb_conn_str"), "emr_eye",
                                                           engine))
    measured = [v for v, x in clinic.visits.items() if x["va"] or x["bcva"] or x["iop"]]
    assert (len(clinic.visits), len(measured), len(clinic.diagnoses), len(clinic.exams)) == (150, 149, 225, 100)
    rebuilt = through_the_flow(clinic, tmp_path)
    # every cell once; the section reading the visit row again counts its key, patient and date again (3 a row)
    assert rebuilt == clinic.cells + 3 * len(measured)
    bag = _bag(tmp_path)
    toml = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    entities = toml["entities"]
    assert {n: (s.get("entity", n), s["table"]) for n, s in entities.items()} == {
        "patient": ("patient", "PATIENT"), "encounter": ("encounter", "VISIT"), "diagnosis": ("diagnosis", "DIAG"),
        "vital_signs": ("vital_signs", "EYE_EXAM"), "vital_signs_visit": ("vital_signs", "VISIT")}
    assert {f: x["column"] for f, x in entities["vital_signs_visit"]["fields"].items()} == {
        "patient_id": "PT_NO", "encounter_id": "VISIT_NO", "observed": "VISIT_DATE", "iop_right": "IOP_OD",
        "iop_left": "IOP_OS", "va_right": "VA_OD", "va_left": "VA_OS", "va_corrected_right": "BCVA_OD",
        "va_corrected_left": "BCVA_OS"}
    assert entities["vital_signs_visit"]["fields"]["va_right"] == {"column": "VA_OD"}  # text: kept as written
    assert {f: x["column"] for f, x in entities["vital_signs"]["fields"].items()} == {
        "patient_id": "PT_NO", "encounter_id": "VISIT_NO", "observed": "EXAM_DATE", "sphere": "SPH",
        "cylinder": "CYL", "axis": "AXIS", "eye": "EYE"}
    assert entities["diagnosis"]["fields"]["eye"] == {"column": "EYE_ID"}
    assert _fates(bag) == {"patient": ("patient",), "visit": ("encounter", "vital_signs_visit"),
                           "diag": ("diagnosis",), "eye_exam": ("vital_signs",)}
    assert _entities(bag) == {("patient", "PATIENT", 30, 30, 0), ("encounter", "VISIT", 150, 150, 0),
                              ("diagnosis", "DIAG", 225, 225, 0), ("vital_signs", "EYE_EXAM", 100, 99, 1),
                              ("vital_signs_visit", "VISIT", 149, 149, 0)}
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    defects = {e["entity"]: e["field_defects"] for e in reconciliation["entities"] if e["field_defects"]}
    assert defects == {"diagnosis": {"unreadable-eye": 1}}
    # the refraction row whose eye is '3': readings of no eye, no Observation to hold them: the row quarantined whole
    quarantined = [json.loads(line) for path in sorted(bag.glob("data/raw/vital_signs.*.ndjson"))
                   for line in path.read_bytes().splitlines()]
    assert [(q["key"], q["reason_code"], q["row"]["eye"]) for q in quarantined] == [("5", "unmappable", "3")]

    # the Observations: (table, key, measurement slug, eye) → value; exactly one per measurement recorded and eye
    found: dict[tuple[str, str, str, str], Any] = {}
    for o in _lines(bag, "Observation"):
        table, key = _source(o)
        suffix = o["id"].split("-", 1)[1]
        eye = next(e for e, code in SITES.items() if o["bodySite"]["coding"][0]["code"] == code)
        if table == "VISIT":  # each eye's own column: the eye in the id too
            slug, side = suffix.split("-")
            assert SLUGS[side] == eye
        else:  # a reading of the eye its side column says, as written beside the bodySite
            slug = suffix
            assert o["extension"] == [{"url": "urn:emr-exporter:fhir:extension:recorded-eye",
                                       "valueString": clinic.exams[int(key)][1]}]
        assert o["bodySite"] == {"coding": [{"system": "http://snomed.info/sct", "code": SITES[eye],
                                             "display": {"right": "Right eye structure", "left": "Left eye structure",
                                                         "both": "Structure of both eyes"}[eye]}]}
        assert o["category"][0]["coding"][0]["code"] == "exam"
        if slug == "iop":
            assert o["code"]["coding"] == [{"system": "http://loinc.org", "code": "56844-4",
                                            "display": "Intraocular pressure of Eye"}]
            assert "unit" not in o["valueQuantity"]  # no unit recorded: none assumed
        else:
            assert "coding" not in o["code"]  # no LOINC code names it as recorded: the text alone
        value = o["valueString"] if "valueString" in o else Decimal(str(o["valueQuantity"]["value"]))
        assert (table, key, slug, eye) not in found
        found[(table, key, slug, eye)] = value
    expected: dict[tuple[str, str, str, str], Any] = {}
    for v, x in clinic.visits.items():
        for kind, slug in (("va", "va"), ("bcva", "vacc"), ("iop", "iop")):
            for eye, value in x[kind].items():
                expected[("VISIT", str(v), slug, eye)] = value
    for n, (_, written, sph, cyl, axis) in clinic.exams.items():
        if written in EYES:  # '3' names no eye: no Observation, the readings raw with the row
            for slug, value in (("sph", sph), ("cyl", cyl), ("axis", Decimal(axis))):
                expected[("EYE_EXAM", str(n), slug, EYES[written])] = value
    assert found == expected  # never a left value on a right Observation, nor one lost or made up
    per_side = {(s, e): sum(1 for (_, _, slug, eye) in found if (slug, eye) == (s, e))
                for s in ("iop", "va", "vacc", "sph") for e in ("right", "left")}
    assert per_side == {("iop", "right"): 149, ("iop", "left"): 141, ("va", "right"): 149, ("va", "left"): 149,
                        ("vacc", "right"): 112, ("vacc", "left"): 90, ("sph", "right"): 49, ("sph", "left"): 50}
    assert {v for (t, _, s, _), v in found.items() if s == "va"} >= {"FC", "HM", "LP", "NLP", "20/40", "0.8"}

    # the Conditions: bodySite the eye EYE_ID names ('OU', 'B': both eyes), the side as written beside it
    conditions = {_source(c)[1]: c for c in _lines(bag, "Condition")}
    assert len(conditions) == 225
    for n, (_, _, written) in clinic.diagnoses.items():
        c = conditions[str(n)]
        if written == "X":  # no eye: the row kept, the cell raw with its reason
            assert "bodySite" not in c and not any(e["url"].endswith("recorded-eye") for e in c.get("extension", []))
            continue
        assert c["bodySite"] == [{"coding": [{"system": "http://snomed.info/sct", "code": SITES[EYES[written]],
                                              "display": {"right": "Right eye structure", "left": "Left eye structure",
                                                          "both": "Structure of both eyes"}[EYES[written]]}]}]
        assert {"url": "urn:emr-exporter:fhir:extension:recorded-eye", "valueString": written} in c["extension"]
    raw = [json.loads(line) for path in sorted(bag.glob("data/raw/columns/*.ndjson"))
           for line in path.read_bytes().splitlines()]
    # the side as written is rebuilt from the bag (Condition's and a reading's recorded-eye): raw only where unreadable
    assert {(line["entity"], line["key"]) for line in raw if {"eye_id", "eye"} & set(line["columns"])} == {
        ("diagnosis", "7")}
    [line] = [line for line in raw if line["entity"] == "diagnosis" and line["key"] == "7"]
    assert (line["columns"]["eye_id"], line["field_defects"]) == (
        "X", [{"column": "eye_id", "field": "eye", "reason_code": "unreadable-eye"}])


def test_korean_names_and_a_readings_table_of_one_row_per_eye_are_read_by_the_same_rule(tmp_path: Path) -> None:
    # 우안시력/좌안안압 on the visit row (the eye first, in Korean); 안압검사 one row per eye, its side in 안측; a
    # SIDE column of a knee (정형외과 in the same schema) named otherwise is no eye; an integer EYE_ID (OpenEyes'
    # lookup id) neither
    import sqlite3

    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress

    path = tmp_path / "eyes.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE 환자 (환자번호 TEXT PRIMARY KEY, 성명 TEXT, 생년월일 TEXT, 성별 TEXT);
        CREATE TABLE 내원 (내원번호 INTEGER PRIMARY KEY, 환자번호 TEXT, 내원일자 TEXT, 우안시력 TEXT, 좌안시력 TEXT,
                           우안안압 NUMERIC, 좌안안압 NUMERIC);
        CREATE TABLE 안압검사 (검사번호 INTEGER PRIMARY KEY, 환자번호 TEXT, 내원번호 INTEGER, 측정일자 TEXT, 안측 TEXT,
                              안압 NUMERIC);
        CREATE TABLE DIAG (DX_NO INTEGER PRIMARY KEY, PT_NO TEXT, VISIT_NO INTEGER, DX_YMD TEXT, KCD_CD TEXT,
                           SIDE TEXT, EYE_ID INTEGER);
    """)
    conn.executemany("INSERT INTO 환자 VALUES (?, ?, '19800102', 'M')", [(f"P{i}", f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO 내원 VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (v, f"P{1 + v % 10}", f"202403{1 + v % 28:02d}", ("1.0", "FC", "0.5")[v % 3], "0.8", 14 + v % 5, 15)
        for v in range(1, 31)])
    conn.executemany("INSERT INTO 안압검사 VALUES (?, ?, ?, ?, ?, ?)", [
        (n, f"P{1 + n % 10}", n, f"202403{1 + n % 28:02d}", ("우안", "좌안")[n % 2], 12 + n % 6) for n in range(1, 31)])
    conn.executemany("INSERT INTO DIAG VALUES (?, ?, ?, ?, 'M17.1', ?, ?)", [
        (n, f"P{1 + n % 10}", n, f"202403{1 + n % 28:02d}", ("R", "L")[n % 2], 1 + n % 3) for n in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("eyes", tmp_path / "out", SourceAddress(database=path)).folder)
    fields = {n: {f: x.source_column for f, x in e.fields.items()} for n, e in spec.entities.items()}
    assert fields["vital_signs"] == {"patient_id": "환자번호", "encounter_id": "내원번호", "observed": "측정일자",
                                     "iop": "안압", "eye": "안측"}
    visit_vitals = [n for n, e in spec.entities.items() if e.canonical == "vital_signs" and n != "vital_signs"]
    assert [{f: c for f, c in fields[n].items() if f not in ("patient_id", "encounter_id", "observed")}
            for n in visit_vitals] == [{"va_right": "우안시력", "va_left": "좌안시력"}]  # 안압: the readings table's kind
    assert "eye" not in fields["diagnosis"]  # SIDE (a knee's?) and the integer EYE_ID: no side as written
