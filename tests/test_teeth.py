"""Tooth numbers (a dental chart's treatment lines and diagnoses): read as FDI (ISO 3950) by model.fdi_teeth, kept
as written by the connector transform to_teeth (an unreadable list drops only the field, carried raw as
``unreadable-teeth``), written as Procedure/Condition.bodySite one tooth each beside the column as written, and
found by the scaffold under the names dental schemas give the column (TOOTH_NO, tooth_number, 치아번호, 치식). Tooth
surfaces the same way (model.tooth_surfaces, to_surfaces, ``unreadable-surface``): a bodySite per surface in HL7's
FDI-surface codes after the teeth, the column as written beside them (SURF, TOOTH_SURFACE, 치면)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import (
    FIELD_LEVEL_REASONS,
    RowRejected,
    TransformContext,
    to_surfaces,
    to_teeth,
    to_universal_teeth,
)
from emr_exporter.errors import MappingError
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.pipeline import fhir
from emr_exporter.reports.transfer import QUARANTINE_REASONS
from emr_exporter.sources.address import SourceAddress
from krcore_rules import assert_conforms

CTX = TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)
INSTITUTION = model.Institution(code="12345678", name="하얀치과의원")
PATIENT_ID = model.record_id("demo", "PT", "1")


@pytest.mark.parametrize(("written", "teeth"), [
    ("11,12,21", ("11", "12", "21")),
    (" 11 ; 12/21 ", ("11", "12", "21")),
    ("#36", ("36",)),
    ("55,85", ("55", "85")),  # deciduous
    ("11-13", ("11", "12", "13")),
    ("13~11", ("13", "12", "11")),
    ("#44 - 46", ("44", "45", "46")),
    ("13-23", ("13", "12", "11", "21", "22", "23")),  # across the midline of the upper arch
    ("33-43", ("33", "32", "31", "41", "42", "43")),
    ("61-51", ("61", "51")),
    ("11,11-12", ("11", "12")),  # each tooth once
])
def test_fdi_tooth_lists_and_ranges_read_as_written(written: str, teeth: tuple[str, ...]) -> None:
    assert model.fdi_teeth(written) == teeth


@pytest.mark.parametrize("written", [
    "", " ", "19", "59", "91", "10", "3", "32,3", "전악", "상악 전치부", "UR", "17-47", "11-51", "11-", "11--13",
    "11-13-15", "111",
])
def test_anything_else_names_no_tooth(written: str) -> None:
    assert model.fdi_teeth(written) is None


@pytest.mark.parametrize(("transform", "name", "kept", "refused", "code", "reason", "words"), [
    (to_teeth, "teeth", ("13-23", b"11,21"), "전악", "unreadable-teeth",
     "is not a list of FDI tooth numbers (11-48, 51-85)", ("치아 번호로 읽을 수 없는 표기", "tooth numbers that cannot be read")),
    (to_surfaces, "surfaces", ("MOD", b"DO"), "F", "unreadable-surface",
     "is not a list of tooth surfaces (M, O, I, D, B, V, L, P; 근심, 교합 …)",
     ("치아 면으로 읽을 수 없는 표기", "tooth surfaces that cannot be read")),
])
def test_the_transform_keeps_the_text_and_refuses_what_it_cannot_read_for_the_field_alone(
        transform: Any, name: str, kept: tuple[str | bytes, ...], refused: str, code: str, reason: str,
        words: tuple[str, str]) -> None:
    field = FieldSpec(name=name, type="text")
    assert [transform(value, field, CTX) for value in kept] == [
        value.decode() if isinstance(value, bytes) else value for value in kept]
    with pytest.raises(RowRejected) as caught:
        transform(refused, field, CTX)
    assert (caught.value.reason_code, caught.value.reason) == (code, f"field '{name}' {reason}")
    assert code in FIELD_LEVEL_REASONS  # the row kept, the cell carried raw
    # every field defect has words of its own in the transfer report (was: 'unreadable-teeth' an "other reason")
    assert set(QUARANTINE_REASONS) >= FIELD_LEVEL_REASONS
    assert QUARANTINE_REASONS[code][:2] == words


def test_a_procedure_and_a_diagnosis_give_a_body_site_per_tooth_and_the_text_as_written() -> None:
    procedure = model.ProcedureRecord(id="p1", provenance=model.Provenance("demo", "TX", "1"), patient_id=PATIENT_ID,
                                      performed=dt.date(2024, 3, 4), edi_code="U2240", name="근관충전", teeth="13-11, 21")
    (resource,) = fhir.to_fhir(procedure, institution=INSTITUTION)
    assert_conforms(resource)
    assert resource["bodySite"] == [{"coding": [{"system": "urn:emr-exporter:fdi-tooth", "code": code}]}
                                    for code in ("13", "12", "11", "21")]
    assert resource["extension"] == [{"url": "urn:emr-exporter:fhir:extension:recorded-teeth",
                                      "valueString": "13-11, 21"}]
    diagnosis = model.Diagnosis(id="d1", provenance=model.Provenance("demo", "DX", "1"), patient_id=PATIENT_ID,
                                code="K02.1", kcd_edition="kcd-8", primary=True, teeth="85")
    (condition,) = fhir.to_fhir(diagnosis, institution=INSTITUTION)
    assert condition["bodySite"] == [{"coding": [{"system": "urn:emr-exporter:fdi-tooth", "code": "85"}]}]
    assert condition["extension"][-1] == {"url": "urn:emr-exporter:fhir:extension:recorded-teeth", "valueString": "85"}
    # a dental fee line's teeth: ChargeItem.bodysite (R4 spells it so)
    fee = model.FeeLine(id="f1", provenance=model.Provenance("demo", "FEE", "1"), patient_id=PATIENT_ID,
                        service_date=dt.date(2024, 3, 4), code="U1010", name="광중합형 복합레진 충전", teeth="16, 17")
    (charge,) = fhir.to_fhir(fee, institution=INSTITUTION)
    assert charge["bodysite"] == [{"coding": [{"system": "urn:emr-exporter:fdi-tooth", "code": code}]}
                                  for code in ("16", "17")]
    assert "bodySite" not in charge
    assert charge["extension"][-1] == {"url": "urn:emr-exporter:fhir:extension:recorded-teeth",
                                       "valueString": "16, 17"}
    # without teeth nothing is added; a text naming none (set by hand, not through the transform) is kept alone
    (plain,) = fhir.to_fhir(model.ProcedureRecord(id="p2", provenance=model.Provenance("demo", "TX", "2"),
                                                  patient_id=PATIENT_ID, performed=dt.date(2024, 3, 4), name="스케일링"),
                            institution=INSTITUTION)
    assert "bodySite" not in plain and "extension" not in plain
    (words,) = fhir.to_fhir(model.ProcedureRecord(id="p3", provenance=model.Provenance("demo", "TX", "3"),
                                                  patient_id=PATIENT_ID, performed=dt.date(2024, 3, 4), name="스케일링",
                                                  teeth="전악"), institution=INSTITUTION)
    assert "bodySite" not in words
    assert words["extension"] == [{"url": "urn:emr-exporter:fhir:extension:recorded-teeth", "valueString": "전악"}]


def _clinic_with(path: Path, table_ddl: str, insert: str, rows: list[tuple[object, ...]]) -> None:
    """A SQLite clinic of eight patients (``PATIENT``) and the table ``table_ddl`` creates, ``rows`` put by ``insert``."""
    conn = sqlite3.connect(path)
    conn.executescript(f"CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT); {table_ddl};")
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(i, f"C{i:04d}", f"환자{i}") for i in range(1, 9)])
    conn.executemany(insert, rows)
    conn.commit()
    conn.close()


def _exported(name: str, path: Path, out: Path) -> dict[str, dict[str, object]]:
    """The export's reconciliation per entity, with the scaffold's connector as written (it balances)."""
    result = run_export(ExportRequest(connector=name, source=SourceAddress(database=path), connectors_dirs=(out,),
                                      institution_code="12345678", institution_name="하얀치과의원"))
    assert result.reconciliation.balanced
    return {e["entity"]: e for e in result.reconciliation.to_dict()["entities"]}


@pytest.mark.parametrize(("tooth_column", "treatments", "names"), [
    ("TOOTH_NO", "TX_DTL", ("PT_NO", "SUGA_CD", "TX_NM", "TX_YMD")),
    ("tooth_number", "dental_procedures", ("PT_NO", "edi_code", "proc_name", "proc_date")),
    ("치아번호", "치료내역", ("PT_NO", "수가코드", "치료명", "치료일자")),
    ("치식", "치료내역", ("PT_NO", "행위코드", "처치명", "시술일자")),
    ("TOOTH INTEGER", "TX_DTL", ("PT_NO", "SUGA_CD", "TX_NM", "TX_YMD")),  # 19: no FDI tooth
])
def test_the_scaffold_maps_a_tooth_column_whatever_the_schema_calls_it(
        tmp_path: Path, tooth_column: str, treatments: str, names: tuple[str, ...]) -> None:
    path = tmp_path / "dental.sqlite"
    whole = tooth_column.endswith(" INTEGER")  # one tooth a line, kept as a number
    patient, code, name, day = names
    _clinic_with(path, f"CREATE TABLE {treatments} (TX_ID INTEGER PRIMARY KEY, {patient} INTEGER, {day} TEXT, "
                       f"{code} TEXT, {name} TEXT, {tooth_column if whole else tooth_column + ' TEXT'})",
                 f"INSERT INTO {treatments} VALUES (?, ?, '20240102', 'U1010', '레진충전', ?)",
                 [(i, 1 + i % 8, ((16, 36, None, 19, 85) if whole else ("16,17", "13-23", None, "전악", "85"))[i % 5])
                  for i in range(1, 21)])
    outcome = write_scaffold("dental", tmp_path / "out", SourceAddress(database=path))
    tooth_column = tooth_column.removesuffix(" INTEGER")
    guess = outcome.guesses["procedure"]
    assert (guess.table, guess.usable) == (treatments, True)
    assert {f.field: f.column for f in guess.fields}["teeth"] == tooth_column
    written = tomllib.loads((outcome.folder / "connector.toml").read_text("utf-8"))
    assert written["entities"]["procedure"]["fields"]["teeth"] == {"column": tooth_column}
    entities = _exported("dental", path, tmp_path / "out")
    # 20 lines kept, '전악' or 19 (4 of them) dropping only its tooth field
    assert (entities["procedure"]["exported"], entities["procedure"]["field_defects"]) == (20, {"unreadable-teeth": 4})


def test_a_dental_fee_statements_tooth_column_is_its_lines_teeth(tmp_path: Path) -> None:
    path = tmp_path / "fees.sqlite"
    _clinic_with(path, "CREATE TABLE FEE_DTL (FEE_NO INTEGER PRIMARY KEY, PT_NO INTEGER, SVC_YMD TEXT, SUGA_CD TEXT, "
                       "FEE_NM TEXT, QTY INTEGER, TOT_AMT INTEGER, TOOTH_NO TEXT)",
                 "INSERT INTO FEE_DTL VALUES (?, ?, '20240102', 'U1010', '광중합형 복합레진 충전', 1, 52000, ?)",
                 [(i, 1 + i % 8, ("16", "36,37", None, "상악")[i % 4]) for i in range(1, 13)])
    outcome = write_scaffold("fees", tmp_path / "out", SourceAddress(database=path))
    guess = outcome.guesses["fee_line"]
    assert (guess.table, guess.usable) == ("FEE_DTL", True)
    assert {f.field: f.column for f in guess.fields}["teeth"] == "TOOTH_NO"
    fees = _exported("fees", path, tmp_path / "out")["fee_line"]
    assert (fees["exported"], fees["field_defects"]) == (12, {"unreadable-teeth": 3})


SURFACE = "http://terminology.hl7.org/CodeSystem/FDI-surface"


@pytest.mark.parametrize(("written", "surfaces"), [
    ("MOD", ("M", "O", "D")),  # one code a surface, though FDI-surface has MOD too (and MO, DO, DI, no more)
    ("DO", ("D", "O")),
    ("mo", ("M", "O")),
    ("DL", ("D", "L")),
    ("B, O", ("B", "O")),
    ("O/B", ("O", "B")),
    ("I", ("I",)),
    ("V", ("V",)),
    ("P", ("L",)),  # palatal: the surface of an upper tooth facing the tongue, FDI-surface's L
    ("MOO", ("M", "O")),  # each surface once
    ("근심", ("M",)),
    ("교합면", ("O",)),
    ("원심면, 설측", ("D", "L")),
    ("근심교합원심", ("M", "O", "D")),
    ("협측", ("B",)),
    ("구개측", ("L",)),
    ("순측면", ("V",)),
    ("절단연", ("I",)),
])
def test_tooth_surfaces_read_as_fdi_surface_codes(written: str, surfaces: tuple[str, ...]) -> None:
    assert model.tooth_surfaces(written) == surfaces
    assert set(surfaces) <= set(model.TOOTH_SURFACES)


@pytest.mark.parametrize("written", ["", " ", "F", "MF", "X", "3", "전면", "근심x", "치아", "16MO", "Mesial"])
def test_anything_else_names_no_surface(written: str) -> None:
    # F (facial) is the buccal surface of a back tooth and the labial of a front one: the letter does not say which
    assert model.tooth_surfaces(written) is None


def test_surfaces_follow_the_teeth_one_body_site_each_and_the_text_as_written() -> None:
    procedure = model.ProcedureRecord(id="p1", provenance=model.Provenance("demo", "TX", "1"), patient_id=PATIENT_ID,
                                      performed=dt.date(2024, 3, 4), edi_code="U1010", name="레진충전", teeth="16",
                                      surfaces="MOD")
    (resource,) = fhir.to_fhir(procedure, institution=INSTITUTION)
    assert_conforms(resource)
    assert resource["bodySite"] == [
        {"coding": [{"system": "urn:emr-exporter:fdi-tooth", "code": "16"}]},
        {"coding": [{"system": SURFACE, "code": "M", "display": "Mesial"}]},
        {"coding": [{"system": SURFACE, "code": "O", "display": "Occlusal"}]},
        {"coding": [{"system": SURFACE, "code": "D", "display": "Distal"}]}]
    assert resource["extension"] == [
        {"url": "urn:emr-exporter:fhir:extension:recorded-teeth", "valueString": "16"},
        {"url": "urn:emr-exporter:fhir:extension:recorded-surfaces", "valueString": "MOD"}]
    # a caries of one surface (Condition), a fee line's (ChargeItem.bodysite); surfaces of no tooth named stand alone
    diagnosis = model.Diagnosis(id="d1", provenance=model.Provenance("demo", "DX", "1"), patient_id=PATIENT_ID,
                                code="K02.1", kcd_edition="kcd-8", primary=True, teeth="전악", surfaces="구개측")
    (condition,) = fhir.to_fhir(diagnosis, institution=INSTITUTION)
    assert condition["bodySite"] == [{"coding": [{"system": SURFACE, "code": "L", "display": "Lingual"}]}]
    assert condition["extension"][-2:] == [
        {"url": "urn:emr-exporter:fhir:extension:recorded-teeth", "valueString": "전악"},
        {"url": "urn:emr-exporter:fhir:extension:recorded-surfaces", "valueString": "구개측"}]
    fee = model.FeeLine(id="f1", provenance=model.Provenance("demo", "FEE", "1"), patient_id=PATIENT_ID,
                        service_date=dt.date(2024, 3, 4), code="U1010", name="광중합형 복합레진 충전", teeth="36",
                        surfaces="DO")
    (charge,) = fhir.to_fhir(fee, institution=INSTITUTION)
    assert [s["coding"][0]["code"] for s in charge["bodysite"]] == ["36", "D", "O"]


@pytest.mark.parametrize(("surface_column", "values", "mapped"), [
    ("SURF", ("MOD", "O", None, "F", "DL", "B", "MO", None, "D", "O"), True),
    ("tooth_surface", ("MO", "B", None, "F", "L", "DO", "I", None, "M", "V"), True),
    ("치면", ("근심", "교합면", None, "F", "설측", "원심", "협측", None, "근심교합", "구개측"), True),
    # a code into a lookup, a body surface area: no surface as written
    ("SURFACE", ("1", "2", None, "3", "1", "2", "2", None, "1", "3"), False),
    ("SURFACE_AREA", ("1.73", "1.8", None, "1.6", "2.0", "1.5", "1.9", None, "1.7", "1.6"), False),
])
def test_the_scaffold_maps_a_surface_column_whose_values_are_surfaces(
        tmp_path: Path, surface_column: str, values: tuple[str | None, ...], mapped: bool) -> None:
    path = tmp_path / "dental.sqlite"
    _clinic_with(path, f"CREATE TABLE TX_DTL (TX_ID INTEGER PRIMARY KEY, PT_NO INTEGER, TX_YMD TEXT, SUGA_CD TEXT, "
                       f"TX_NM TEXT, TOOTH_NO TEXT, {surface_column} TEXT)",
                 "INSERT INTO TX_DTL VALUES (?, ?, '20240102', 'U1010', '레진충전', '16', ?)",
                 [(i, 1 + i % 8, values[i % 10]) for i in range(1, 21)])
    outcome = write_scaffold("dental", tmp_path / "out", SourceAddress(database=path))
    guess = outcome.guesses["procedure"]
    assert {f.field: f.column for f in guess.fields}.get("surfaces") == (surface_column if mapped else None)
    entities = _exported("dental", path, tmp_path / "out")
    # 20 lines kept; 'F' (2 of them) drops only its surfaces field, carried raw
    assert (entities["procedure"]["exported"], entities["procedure"]["field_defects"]) == (
        20, {"unreadable-surface": 2} if mapped else {})


def test_a_surface_column_beside_no_tooth_is_no_tooths_surface(tmp_path: Path) -> None:
    """A hand or wound clinic's procedure SURFACE (D dorsal, V volar, P palmar, M medial, L lateral) reads as tooth
    surfaces letter for letter; with no tooth column beside it, it names no tooth's surface: not mapped (carried raw),
    never an FDI-surface bodySite (distal, vestibular …) on a procedure of no tooth."""
    path = tmp_path / "hand.sqlite"
    _clinic_with(path, "CREATE TABLE TX_DTL (TX_ID INTEGER PRIMARY KEY, PT_NO INTEGER, TX_YMD TEXT, SUGA_CD TEXT, "
                       "TX_NM TEXT, SURFACE TEXT)",
                 "INSERT INTO TX_DTL VALUES (?, ?, '20240102', 'N0632', '건봉합술', ?)",
                 [(i, 1 + i % 8, ("D", "V", "P", "M", "L")[i % 5]) for i in range(1, 21)])
    outcome = write_scaffold("hand", tmp_path / "out", SourceAddress(database=path))
    guess = outcome.guesses["procedure"]
    assert guess.table == "TX_DTL" and "surfaces" not in {f.field for f in guess.fields}
    entities = _exported("hand", path, tmp_path / "out")
    assert (entities["procedure"]["exported"], entities["procedure"]["field_defects"]) == (20, {})


@pytest.mark.parametrize(("written", "teeth"), [
    ("3", ("3",)), ("#19, 30", ("19", "30")), ("a", ("A",)), ("3-5", ("3", "5")), ("16", ("16",)), ("K,T", ("K", "T")),
])
def test_universal_numbers_are_told_apart_never_converted(written: str, teeth: tuple[str, ...]) -> None:
    assert model.universal_teeth(written) == teeth
    assert model.universal_teeth("33") is None and model.universal_teeth("U") is None
    assert model.universal_teeth("전악") is None and model.universal_teeth("36") is None


@pytest.mark.parametrize(("values", "mapped"), [
    # Universal (US): 1-32 and A-T, 3 19 30 8 10 A K 2 31 no FDI tooth: left out, carried raw with a note
    (("3", "14", "19", "30", "8-10", "A", "K", None, "2,3", "31"), False),
    (("3", "14", "19", "30", "8", "1", "K", None, "2", "31"), False),
    # FDI of the upper teeth alone (11-28 are Universal numbers too, none only Universal): FDI
    (("11", "12", "21", "16", "26", "13-23", "17", None, "22,23", "14"), True),
    # FDI with one slip ('19', a number FDI has no tooth of): FDI, the slip unreadable-teeth
    (("16", "36", "19", "46", "85", "11", "47", None, "31", "24"), True),
])
def test_the_scaffold_leaves_a_universal_numbered_tooth_column_out_with_its_reason(
        tmp_path: Path, values: tuple[str | None, ...], mapped: bool) -> None:
    path = tmp_path / "dental.sqlite"
    _clinic_with(path, "CREATE TABLE TX_DTL (TX_ID INTEGER PRIMARY KEY, PT_NO INTEGER, TX_YMD TEXT, SUGA_CD TEXT, "
                       "TX_NM TEXT, TOOTH_NO TEXT)",
                 "INSERT INTO TX_DTL VALUES (?, ?, '20240102', 'U1010', '레진충전', ?)",
                 [(i, 1 + i % 8, values[i % 10]) for i in range(1, 21)])
    outcome = write_scaffold("dental", tmp_path / "out", SourceAddress(database=path))
    guess = outcome.guesses["procedure"]
    assert {f.field: f.column for f in guess.fields}.get("teeth") == ("TOOTH_NO" if mapped else None)
    note = ("TOOTH_NO: named for teeth, but the sampled values look like Universal (US) tooth numbers (1-32, A-T), "
            "some of them no FDI tooth (1-10, 19, 20, 29-32, letters): not read as FDI teeth (11-18 and 21-28 are "
            "teeth in both numberings, different ones), carried raw as written. If the chart is Universal, add "
            "teeth = { column = \"TOOTH_NO\" } and teeth_numbering = { value = \"universal\" } to the fields (each "
            "tooth coded by its FDI number)")
    assert (note in guess.notes) is not mapped
    written = (outcome.folder / "connector.toml").read_text("utf-8")
    assert (f"# NOTE: {note}." in written) is not mapped
    entities = _exported("dental", path, tmp_path / "out")
    assert (entities["procedure"]["exported"], entities["procedure"]["field_defects"]) == (
        20, {"unreadable-teeth": 2} if mapped and "19" in values else {})
    if not mapped:  # the contractor does as the note says: the teeth read as Universal, none refused
        fields = "[entities.procedure.fields]\n"
        (outcome.folder / "connector.toml").write_text(written.replace(fields, fields + (
            'teeth = { column = "TOOTH_NO" }\nteeth_numbering = { value = "universal" }\n')), "utf-8")
        entities = _exported("dental", path, tmp_path / "out")
        assert (entities["procedure"]["exported"], entities["procedure"]["field_defects"]) == (20, {})


@pytest.mark.parametrize(("written", "teeth"), [
    ("1", ("18",)), ("8", ("11",)), ("9", ("21",)), ("16", ("28",)), ("17", ("38",)), ("24", ("31",)),
    ("25", ("41",)), ("32", ("48",)), ("3, 14", ("16", "26")), ("#19/30", ("36", "46")),
    ("6-11", ("13", "12", "11", "21", "22", "23")),  # the upper front teeth, canine to canine
    ("A", ("55",)), ("e", ("51",)), ("F", ("61",)), ("J", ("65",)), ("K-M", ("75", "74", "73")), ("T", ("85",)),
])
def test_universal_numbers_read_as_fdi_where_the_connector_says_so(written: str, teeth: tuple[str, ...]) -> None:
    assert model.universal_as_fdi(written) == teeth


@pytest.mark.parametrize("written", ["", "0", "33", "16-17", "J-K", "3-C", "U", "전악", "3-5-7"])
def test_anything_else_names_no_universal_tooth(written: str) -> None:
    assert model.universal_as_fdi(written) is None


def test_universal_teeth_are_coded_by_their_fdi_numbers_and_kept_as_written() -> None:
    field = FieldSpec(name="teeth", type="text")
    assert to_universal_teeth("3, 14", field, CTX) == "3, 14"
    with pytest.raises(RowRejected) as caught:
        to_universal_teeth("33", field, CTX)
    assert (caught.value.reason_code, caught.value.reason) == (
        "unreadable-teeth", "field 'teeth' is not a list of Universal tooth numbers (1-32, A-T)")
    procedure = model.ProcedureRecord(id="p1", provenance=model.Provenance("demo", "TX", "1"), patient_id=PATIENT_ID,
                                      performed=dt.date(2024, 3, 4), name="레진충전", teeth="3, 14", surfaces="O",
                                      teeth_numbering="universal")
    (resource,) = fhir.to_fhir(procedure, institution=INSTITUTION)
    assert_conforms(resource)
    assert [s["coding"][0]["code"] for s in resource["bodySite"]] == ["16", "26", "O"]
    assert resource["extension"][0] == {"url": "urn:emr-exporter:fhir:extension:recorded-teeth", "valueString": "3, 14"}
    # FDI said so, or not said: FDI; a word the product does not know refuses the record, never a numbering guessed
    for numbering in ("fdi", None):
        (fdi,) = fhir.to_fhir(dataclasses.replace(procedure, teeth="36", teeth_numbering=numbering),
                              institution=INSTITUTION)
        assert [s["coding"][0]["code"] for s in fdi["bodySite"]] == ["36", "O"]
    with pytest.raises(MappingError) as refused:
        fhir.to_fhir(dataclasses.replace(procedure, teeth_numbering="US"), institution=INSTITUTION)
    assert str(refused.value) == (
        "ProcedureRecord from table 'TX' key '1': teeth_numbering: is neither 'fdi' nor 'universal'. The row is kept "
        "as a raw row; check the connector's mapping of this field.")
