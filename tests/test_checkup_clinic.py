"""A Korean health check-up centre (건강검진) that keeps each check-up as ONE wide row, its lab values as columns
named by their analyte (tests/connectors/checkup_clinic.py: ``GLU, TCHOL, HDL … 요단백`` on ``CHKUP``, beside its
body measurements, vision, hearing, chest X-ray reading, verdict and questionnaire answers; a narrow ``검사결과``
table for contrast), on SQLite and on PostgreSQL over its ODBC driver, through the contractor's whole flow with
the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify``
→ ``open``; every row of every table rebuilt from the opened bag and compared with the database's cell by cell
(tests/lossless_kit.py). The scaffold writes one lab-result section per analyte column, reading the check-up row
again (docs/connectors.md, "Lab values kept as columns"): one Observation per set value, of its visit and patient,
the unit its column implies, a LOINC code only where one was looked up, the value as written ('<0.5' a
valueQuantity with comparator '<', '미실시' and '1+' a valueString). Was: every lab cell carried raw with the row;
the narrow 검사결과 (검사코드, 검사명, 결과값, 단위, 참고치) unread (commented out: "no column for code or name").
Its other findings (docs/fhir-mapping.md, "A check-up row's other findings") are a section each reading the row
again: each ear's hearing an Observation of that ear (bodySite), '정상' a valueString, '35' a valueQuantity in dB;
the chest X-ray's reading (category imaging), the verdict 종합판정 (exam), each questionnaire answer
(social-history) and past-history check box (survey) an Observation whose value is the text as written, an answer
'N' kept as 'N'. Was: all carried raw
with the row.
"""

from __future__ import annotations

import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from checkup_clinic import LABS, NARROW, create_checkup_clinic
from foreign_schemas import _fresh_database

from test_opensource_shaped_clinics import _bag, _entities, _fates
from test_random_server_clinics import through_the_flow
from test_wide_clinic import _lines

#: CHKUP's other findings: column → (its section, code.text, category, the ear's SNOMED CT code)
FINDINGS = {
    "청력_우": ("finding_hearing_right", "청력", "exam", "25577004"),
    "청력_좌": ("finding_hearing_left", "청력", "exam", "89644007"),
    "흉부방사선": ("finding_chest_xray", "흉부방사선검사", "imaging", None),
    "판정": ("finding_verdict", "종합판정", "exam", None),
    "Q_SMOKE": ("finding_smoking", "흡연", "social-history", None),
    "Q_DRINK": ("finding_drinking", "음주", "social-history", None),
    "Q_EXER": ("finding_exercise", "운동", "social-history", None),
    "과거력_고혈압": ("finding_history_hypertension", "과거력 고혈압", "survey", None),
    "HX_DM": ("finding_history_diabetes", "과거력 당뇨병", "survey", None),
}

#: CHKUP's lab column → (its section, code.text, unit, LOINC): the unit table of docs/fhir-mapping.md
ANALYTES = {
    "GLU": ("lab_result_glucose", "혈당", "mg/dL", "2345-7"),
    "TCHOL": ("lab_result_total_cholesterol", "총콜레스테롤", "mg/dL", "2093-3"),
    "HDL": ("lab_result_hdl", "HDL 콜레스테롤", "mg/dL", None),
    "LDL": ("lab_result_ldl", "LDL 콜레스테롤", "mg/dL", None),
    "TG": ("lab_result_triglyceride", "중성지방", "mg/dL", "2571-8"),
    "AST": ("lab_result_ast", "AST(SGOT)", "U/L", "1920-8"),
    "ALT": ("lab_result_alt", "ALT(SGPT)", "U/L", "1742-6"),
    "GGT": ("lab_result_ggt", "감마지티피", "U/L", "2324-2"),
    "HGB": ("lab_result_hemoglobin", "혈색소", "g/dL", "718-7"),
    "CREAT": ("lab_result_creatinine", "혈청크레아티닌", "mg/dL", "2160-0"),
    "EGFR": ("lab_result_egfr", "신사구체여과율(eGFR)", "mL/min/1.73m2", None),
    "요단백": ("lab_result_urine_protein", "요단백", None, None),
}


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.db)])
def test_a_checkup_row_gives_one_lab_result_per_set_analyte_column(engine: str, tmp_path: Path,
                                                                    request: pytest.FixtureRequest) -> None:
    if engine == "sqlite":
        clinic = create_checkup_clinic(engine, tmp_path / "checkup.db")
    else:
        clinic = create_checkup_clinic(engine, _fresh_database(request.getfixturevalue("postgres_conn_str"),
                                                               "emr_checkup", engine))
    assert list(ANALYTES) == list(LABS)
    checkups = clinic.checkups
    set_values = {c: sum(c in x["labs"] for x in checkups.values()) for c in LABS}
    assert sum(set_values.values()) == 1370
    assert set_values["HDL"] == 106 and set_values["GGT"] == 109 and checkups[60]["labs"] == {}
    # each finding as the check-up wrote it, where set (a NULL or '' is no finding)
    as_written = {c: {n: v for n in checkups if (v := _finding(checkups[n], c))} for c in FINDINGS}
    set_findings = {c: len(v) for c, v in as_written.items()}
    assert set_findings == {"청력_우": 116, "청력_좌": 120, "흉부방사선": 110, "판정": 120, "Q_SMOKE": 96,
                            "Q_DRINK": 96, "Q_EXER": 96, "과거력_고혈압": 111, "HX_DM": 120}
    rebuilt = through_the_flow(clinic, tmp_path)
    # every cell once; each lab or finding section reading the check-up row again counts its key, patient, visit
    # and date again (4 cells a row): the value is its alone
    assert rebuilt == clinic.cells + 4 * (sum(set_values.values()) + sum(set_findings.values()))
    bag = _bag(tmp_path)
    toml = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    # (PostgreSQL folds the unquoted names to lower case: compared in upper case)
    sections = {name: (s.get("entity", name), s["table"].upper()) for name, s in toml["entities"].items()}
    assert sections == {"patient": ("patient", "PT_MST"), "encounter": ("encounter", "VISIT"),
                        "lab_result": ("lab_result", "검사결과"), "vital_signs": ("vital_signs", "CHKUP"),
                        **{s: ("lab_result", "CHKUP") for s, *_ in (*ANALYTES.values(), *FINDINGS.values())}}
    # the narrow table, read by the Korean names of its columns (was: commented out, no column for code or name)
    assert {f: v["column"].upper() for f, v in toml["entities"]["lab_result"]["fields"].items()} == {
        "patient_id": "PT_NO", "encounter_id": "VISIT_NO", "observed": "검사일자", "code": "검사코드",
        "name": "검사명", "value": "결과값", "unit": "단위", "reference_range": "참고치"}
    assert {f: {k: v.upper() if k == "column" else v for k, v in x.items()}
            for f, x in toml["entities"]["lab_result_triglyceride"]["fields"].items()} == {
        "patient_id": {"column": "PT_NO", "type": "ref", "ref": "patient", "required": True},
        "encounter_id": {"column": "VISIT_NO", "type": "ref", "ref": "encounter"},
        "observed": {"column": "CHK_DATE", "type": "date", "required": True},
        "value": {"column": "TG"}, "name": {"value": "중성지방"}, "unit": {"value": "mg/dL"},
        "loinc": {"value": "2571-8"}}
    lab_sections = sorted(s for s, *_ in (*ANALYTES.values(), *FINDINGS.values()))
    assert _fates(bag) == {"pt_mst": ("patient",), "visit": ("encounter",), "검사결과": ("lab_result",),
                           "chkup": (*lab_sections, "vital_signs")}
    # one record per set value, none of a NULL or blank one, no defect
    expected = {("patient", "PT_MST", 40, 40, 0), ("encounter", "VISIT", 120, 120, 0),
                ("vital_signs", "CHKUP", 120, 120, 0), ("lab_result", "검사결과", NARROW, NARROW, 0)}
    expected |= {(ANALYTES[c][0], "CHKUP", n, n, 0) for c, n in set_values.items()}
    expected |= {(FINDINGS[c][0], "CHKUP", n, n, 0) for c, n in set_findings.items()}
    assert {(e, t.upper(), *n) for e, t, *n in _entities(bag)} == expected
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert {e["entity"]: e["field_defects"] for e in reconciliation["entities"] if e["field_defects"]} == {}
    # vision (시력_좌/우) is the eye clinic's rule's: each eye's visual acuity on the vital-signs section (a value
    # the Observation does not give back as stored, SQLite's integer 1 of a DECIMAL column, stays raw beside it)
    assert {f: v["column"] for f, v in toml["entities"]["vital_signs"]["fields"].items() if f.startswith("va_")} == {
        "va_right": "시력_우", "va_left": "시력_좌"}
    # hearing, the X-ray's reading, the verdict and the questionnaire's answers: an Observation each where set
    # (was: carried raw with the check-up row); the row carries a column only where its section reads no value
    carried = {line["key"]: line["columns"] for path in sorted(bag.glob("data/raw/columns/vital_signs.*.ndjson"))
               for line in map(json.loads, path.read_bytes().splitlines())}
    for n, checkup in checkups.items():
        held = {k.upper(): v for k, v in carried.get(str(n), {}).items()}
        assert {c for c in LABS if c in held} == set(LABS) - set(checkup["labs"]), n
        assert {c for c in FINDINGS if c.upper() in held} == {c for c in FINDINGS if n not in as_written[c]}, n
    # the Observations: one per set value, of its check-up's visit and patient, coded and unit-ed by its column
    encounters = {r["id"]: r for r in _lines(bag, "Encounter")}
    visit_of = {e["id"]: int(next(i["value"] for i in e["identifier"]
                                  if i["system"].startswith("urn:emr-exporter:source"))) for e in encounters.values()}
    by_text = {text: c for c, (_, text, _, _) in ANALYTES.items()}
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for o in _lines(bag, "Observation"):
        if o["category"][0]["coding"][0]["code"] != "laboratory" or o["code"].get("text") not in by_text:
            continue
        column = by_text[o["code"]["text"]]
        visit = visit_of[o["encounter"]["reference"].removeprefix("Encounter/")]
        assert o["subject"] == encounters[o["encounter"]["reference"].removeprefix("Encounter/")]["subject"]
        found[(visit, column)] = o
    assert set(found) == {(x["visit"], c) for x in checkups.values() for c in x["labs"]}
    comparators = {}
    for (visit, column), o in found.items():
        _, text, unit, loinc = ANALYTES[column]
        written = checkups[visit]["labs"][column]
        assert o["code"] == ({"coding": [{"system": "http://loinc.org", "code": loinc}], "text": text} if loinc
                             else {"text": text}), column
        if "valueQuantity" in o:
            quantity = o["valueQuantity"]
            assert (quantity["unit"], Decimal(str(quantity["value"]))) == (unit, Decimal(written.lstrip("<>")))
            if "comparator" in quantity:
                comparators[(visit, column)] = quantity["comparator"] + str(quantity["value"])
        else:
            assert o["valueString"] == written and (unit is None or not written[0].isdigit()), (column, written)
    # the values the analyser could not read exactly keep their comparator (FHIR's valueQuantity.comparator)
    assert comparators == {(v, c): x["labs"][c] for v, x in checkups.items() for c in ("CREAT", "EGFR", "TG")
                           if x["labs"].get(c, "").startswith(("<", ">"))}
    assert len(comparators) == 11 + 7 + 5
    assert {o["valueString"] for (_, c), o in found.items() if c == "LDL" and "valueString" in o} == {"미실시"}
    assert {o["valueString"] for (_, c), o in found.items() if c == "요단백"} == {"-", "+-", "1+", "2+"}
    # the other findings: one Observation per set value, of its category, the ear its bodySite, the value as written
    seen: dict[tuple[int, str], dict[str, Any]] = {}
    for o in _lines(bag, "Observation"):
        category = o["category"][0]["coding"][0]["code"]
        if category == "laboratory" or category == "vital-signs" or o["code"].get("text") not in {
                f[1] for f in FINDINGS.values()}:
            continue
        visit = visit_of[o["encounter"]["reference"].removeprefix("Encounter/")]
        site = o.get("bodySite", {}).get("coding", [{}])[0].get("code")
        column = next(c for c, (_, text, kind, ear) in FINDINGS.items()
                      if (text, kind, ear) == (o["code"]["text"], category, site))
        assert o["code"] == {"text": FINDINGS[column][1]} and (visit, column) not in seen, (visit, column)
        seen[(visit, column)] = o
    assert set(seen) == {(n, c) for c, values in as_written.items() for n in values}
    for (visit, column), o in seen.items():
        value = as_written[column][visit]
        if value.isdigit():  # a hearing threshold: a quantity in dB (no UCUM code claimed)
            assert column.startswith("청력") and o["valueQuantity"] == {"value": int(value), "unit": "dB"}, o
        else:
            assert o["valueString"] == value and "valueQuantity" not in o, (visit, column)
        if FINDINGS[column][3]:
            display = {"25577004": "Right ear structure", "89644007": "Left ear structure"}[FINDINGS[column][3]]
            assert o["bodySite"] == {"coding": [{"system": "http://snomed.info/sct", "code": FINDINGS[column][3],
                                                 "display": display}]}
        else:
            assert "bodySite" not in o
    # an answer N is an Observation 'N' (never dropped as false); the verdicts and readings as the form writes them
    assert sum(o["valueString"] == "N" for (_, c), o in seen.items() if c.startswith("Q_")) == 144
    assert {c: sum(o["valueString"] == "N" for (_, x), o in seen.items() if x == c) for c in ("과거력_고혈압", "HX_DM")} == {
        "과거력_고혈압": 95, "HX_DM": 107}
    assert {o["valueString"] for (_, c), o in seen.items() if c == "판정"} == {
        "정상A", "정상B", "일반질환의심", "고혈압·당뇨병 질환의심", "유질환자"}
    assert {o["valueString"] for (_, c), o in seen.items() if c == "흉부방사선"} == {
        "정상", "비활동성 폐결핵", "폐결절 의심, 추적검사 요함"}
    assert sorted(o.get("valueQuantity", {}).get("value", 0) for (_, c), o in seen.items()
                  if c.startswith("청력") and "valueQuantity" in o) == [20] * 11 + [35] * 12  # 87: blank


def _finding(checkup: dict[str, Any], column: str) -> str | None:
    """The value check-up ``checkup`` wrote in its finding column ``column``, None where NULL or blank."""
    left, right = checkup["hearing"]
    value = {"청력_좌": left, "청력_우": right, "흉부방사선": checkup["xray"], "판정": checkup["verdict"],
             **checkup["answers"]}[column]
    return value if value else None


def test_one_analyte_column_alone_is_no_panel_and_two_observation_sections_of_a_row_have_ids_of_their_own(
        tmp_path: Path) -> None:
    import sqlite3

    from emr_exporter import model
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress

    path = tmp_path / "visits.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, BP_SYS INTEGER,
                            BP_DIA INTEGER, ALT TEXT, 판정 TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, 120, 80, ?, '정상')",
                     [(v, 1 + v % 10, f"202403{1 + v % 28:02d}", str(20 + v)) for v in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("visits", tmp_path / "out", SourceAddress(database=path)).folder)
    # ALT alone on a visit row (a column of that name, nothing more): no lab section; 판정 alone no finding (a
    # verdict of what?); the vital signs are read
    assert sorted(spec.entities) == ["encounter", "patient", "vital_signs_visit"]
    # a lab value and the vital signs of one row: both Observations, each record an id of its own (was: one id);
    # 12 lab sections, 9 finding sections (was: 13 in all, the findings raw) and the vital signs
    checkup = load_spec(_checkup_connector(tmp_path))
    ids = {name: model.record_id("c", e.record_table, "1") for name, e in checkup.entities.items()
           if e.table.upper() == "CHKUP"}
    assert len(set(ids.values())) == len(ids) == 22


def _checkup_connector(tmp_path: Path) -> Path:
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.sources.address import SourceAddress

    create_checkup_clinic("sqlite", tmp_path / "checkup.db")
    return write_scaffold("checkup", tmp_path / "checkup", SourceAddress(database=tmp_path / "checkup.db")).folder


#: Two sections of one check-up table, each reading every row: the finding's (its own query, listed first) and the
#: vital signs' (no query: the table whole)
_BOTH_READ_EVERY_ROW = """
[connector]
name = "both"
version = "0.1.0"

[source]
date_formats = ["%Y%m%d"]

[entities.patient]
table = "pt"
key = "pt_no"

[entities.patient.fields]
chart_number = { column = "pt_no", required = true }
name = { column = "pt_nm", required = true }

[entities.finding_verdict]
entity = "lab_result"
table = "chk"
key = "chk_no"
query = "SELECT X.chk_no, X.pt_no, X.chk_date, X.판정 FROM chk X WHERE X.판정 IS NOT NULL"

[entities.finding_verdict.fields]
patient_id = { column = "pt_no", type = "ref", ref = "patient", required = true }
observed = { column = "chk_date", type = "date", required = true }
value = { column = "판정" }
name = { value = "종합판정" }
category = { value = "exam" }

[entities.vital_signs]
table = "chk"
key = "chk_no"

[entities.vital_signs.fields]
patient_id = { column = "pt_no", type = "ref", ref = "patient", required = true }
observed = { column = "chk_date", type = "date", required = true }
systolic = { column = "sbp", type = "decimal" }
diastolic = { column = "dbp", type = "decimal" }
"""


def test_of_two_sections_reading_every_row_the_one_with_no_query_reads_the_table_whole(tmp_path: Path) -> None:
    """A verdict set on every check-up row, read again by its own section listed before the vital signs: the vital
    signs' section (no query) reads the table whole and carries the memo of every row; the verdict's reads it again
    (was: the first in order taken for the whole one, the memo of no row in the bag)."""
    import datetime as dt
    import io
    import sqlite3
    import tarfile

    from emr_exporter import model
    from emr_exporter.connectors import load_spec
    from emr_exporter.pipeline.export import ExportRun
    from emr_exporter.sources.base import SqliteFileSource

    path = tmp_path / "both.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE pt (pt_no TEXT PRIMARY KEY, pt_nm TEXT);
        CREATE TABLE chk (chk_no INTEGER PRIMARY KEY, pt_no TEXT, chk_date TEXT, sbp INTEGER, dbp INTEGER,
                          판정 TEXT, memo TEXT);
    """)
    conn.executemany("INSERT INTO pt VALUES (?, ?)", [(f"P{i}", f"환자{i}") for i in range(1, 4)])
    conn.executemany("INSERT INTO chk VALUES (?, ?, '20240301', 120, 80, ?, ?)",
                     [(n, f"P{1 + n % 3}", ("정상A", "정상B", "유질환자")[n % 3], f"메모{n}") for n in range(1, 10)])
    conn.commit()
    conn.close()
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "connector.toml").write_text(_BOTH_READ_EVERY_ROW, encoding="utf-8")
    source = SqliteFileSource(path, snapshot=True)
    try:
        run = ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                        created=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
        data = b"".join(run.stream())
    finally:
        source.close()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                 for m in tar.getmembers() if m.isfile()}
    inventory = {t["name"]: t for t in json.loads(files["data/report/inventory.json"])["tables"]}
    assert [(a["section"], a["by"]) for a in inventory["chk"]["read_again"]] == [("finding_verdict", "vital_signs")]
    memos = {line["key"]: line["columns"]["memo"] for name, body in files.items()
             if name.startswith("data/raw/columns/vital_signs.") for line in map(json.loads, body.splitlines())}
    assert memos == {str(n): f"메모{n}" for n in range(1, 10)}
    verdicts = sorted(json.loads(line)["valueString"] for name, body in files.items()
                      if name.startswith("data/fhir/Observation.") for line in body.splitlines()
                      if json.loads(line)["code"].get("text") == "종합판정")
    assert verdicts == sorted(("정상A", "정상B", "유질환자")[n % 3] for n in range(1, 10))


def test_findings_named_otherwise_on_a_visit_row_are_read_by_the_general_rule(tmp_path: Path) -> None:
    """The finding rule is the names', not this clinic's: a visit row's ``HEARING_R``, ``HEARING_L``, ``CXR_RESULT``,
    ``TOTAL_JUDGE``, ``SMOKING_YN`` and 음주여부 are a finding section each (``CHEST`` alone, a chest circumference,
    is none); the category and the ear as constants, and an Observation of a finding section says them."""
    import datetime as dt
    import sqlite3

    from emr_exporter import model
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.pipeline import fhir
    from emr_exporter.sources.address import SourceAddress

    path = tmp_path / "visits.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, BP_SYS INTEGER,
                            BP_DIA INTEGER, HEARING_R TEXT, HEARING_L TEXT, CXR_RESULT TEXT, TOTAL_JUDGE TEXT,
                            SMOKING_YN TEXT, 음주여부 TEXT, CHEST INTEGER);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, 120, 80, '정상', ?, '정상', '정상B', ?, 'N', 90)",
                     [(v, 1 + v % 10, f"202403{1 + v % 28:02d}", str(20 + v % 3), "YN"[v % 2]) for v in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("visits", tmp_path / "out", SourceAddress(database=path)).folder)
    constants = {name: {f: v.value for f, v in e.fields.items() if v.value is not None}
                 for name, e in spec.entities.items() if name.startswith("finding_")}
    assert {name: spec.entities[name].fields["value"].column for name in constants} == {
        "finding_hearing_right": "HEARING_R", "finding_hearing_left": "HEARING_L",
        "finding_chest_xray": "CXR_RESULT", "finding_verdict": "TOTAL_JUDGE", "finding_smoking": "SMOKING_YN",
        "finding_drinking": "음주여부"}
    assert constants["finding_hearing_left"] == {"name": "청력", "category": "exam", "unit": "dB",
                                                 "body_site": "89644007"}
    assert constants["finding_drinking"] == {"name": "음주", "category": "social-history"}
    assert constants["finding_chest_xray"] == {"name": "흉부방사선검사", "category": "imaging"}
    # the Observation: its category, the ear, the number a quantity in dB; a category or site of a connector's own
    # words (no FHIR code, no SNOMED CT id) is their text alone
    provenance = model.Provenance(connector="visits", table="VISIT", key="1")
    record = model.LabResult(id="x", provenance=provenance, patient_id="p", observed=dt.date(2024, 3, 2),
                             name="청력", category="exam", body_site="89644007", value="25", unit="dB")
    institution = model.Institution(code="12345678", name="의원")
    (resource,) = fhir.to_fhir(record, institution=institution)
    assert (resource["category"], resource["bodySite"], resource["valueQuantity"]) == (
        [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "exam",
                      "display": "Exam"}]}],
        {"coding": [{"system": "http://snomed.info/sct", "code": "89644007", "display": "Left ear structure"}]},
        {"value": 25, "unit": "dB"})
    (resource,) = fhir.to_fhir(model.LabResult(id="y", provenance=provenance, patient_id="p",
                                               observed=dt.date(2024, 3, 2), name="문진", category="문진표",
                                               body_site="좌측 귀", value="N"), institution=institution)
    assert (resource["category"], resource["bodySite"], resource["valueString"]) == (
        [{"text": "문진표"}], {"text": "좌측 귀"}, "N")


def test_a_hearing_column_of_codes_is_no_threshold_in_db(tmp_path: Path) -> None:
    """The national check-up form codes each ear's hearing 1 정상 / 2 비정상 (the NHIS files' 청력(좌)/청력(우)): a
    column of such codes says no threshold, so its finding section has no dB (1 was an Observation of 1 dB, 2 of
    2 dB); the code as written, a plain value. A column of thresholds (20, 25, 40 …) keeps its dB."""
    import sqlite3

    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress

    path = tmp_path / "visits.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, BP_SYS INTEGER,
                            BP_DIA INTEGER, HEARING_R TEXT, HEARING_L TEXT, TOTAL_JUDGE TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, 120, 80, ?, ?, '정상B')",
                     [(v, 1 + v % 10, f"202403{1 + v % 28:02d}", "12"[v % 7 == 0], str(20 + 5 * (v % 4)))
                      for v in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("visits", tmp_path / "out", SourceAddress(database=path)).folder)
    units = {name: spec.entities[name].fields.get("unit") for name in ("finding_hearing_right", "finding_hearing_left")}
    assert units["finding_hearing_right"] is None
    assert units["finding_hearing_left"] is not None and units["finding_hearing_left"].value == "dB"
