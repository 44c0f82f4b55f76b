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
    rebuilt = through_the_flow(clinic, tmp_path)
    # every cell once; each lab section reading the check-up row again counts its key, patient, visit and date again
    # (4 cells a row): the lab value is its alone
    assert rebuilt == clinic.cells + 4 * sum(set_values.values())
    bag = _bag(tmp_path)
    toml = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    # (PostgreSQL folds the unquoted names to lower case: compared in upper case)
    sections = {name: (s.get("entity", name), s["table"].upper()) for name, s in toml["entities"].items()}
    assert sections == {"patient": ("patient", "PT_MST"), "encounter": ("encounter", "VISIT"),
                        "lab_result": ("lab_result", "검사결과"), "vital_signs": ("vital_signs", "CHKUP"),
                        **{s: ("lab_result", "CHKUP") for s, *_ in ANALYTES.values()}}
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
    lab_sections = sorted(s for s, *_ in ANALYTES.values())
    assert _fates(bag) == {"pt_mst": ("patient",), "visit": ("encounter",), "검사결과": ("lab_result",),
                           "chkup": (*lab_sections, "vital_signs")}
    # one record per set value, none of a NULL or blank one, no defect
    expected = {("patient", "PT_MST", 40, 40, 0), ("encounter", "VISIT", 120, 120, 0),
                ("vital_signs", "CHKUP", 120, 120, 0), ("lab_result", "검사결과", NARROW, NARROW, 0)}
    expected |= {(ANALYTES[c][0], "CHKUP", n, n, 0) for c, n in set_values.items()}
    assert {(e, t.upper(), *n) for e, t, *n in _entities(bag)} == expected
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert {e["entity"]: e["field_defects"] for e in reconciliation["entities"] if e["field_defects"]} == {}
    # vision (시력_좌/우) is the eye clinic's rule's: each eye's visual acuity on the vital-signs section (a value
    # the Observation does not give back as stored, SQLite's integer 1 of a DECIMAL column, stays raw beside it)
    assert {f: v["column"] for f, v in toml["entities"]["vital_signs"]["fields"].items() if f.startswith("va_")} == {
        "va_right": "시력_우", "va_left": "시력_좌"}
    # hearing, the X-ray's reading, the verdict and the questionnaire's answers: carried raw with the check-up row,
    # every one of them, as written; a lab column only where its section reads no value of that row
    carried = {line["key"]: line["columns"] for path in sorted(bag.glob("data/raw/columns/vital_signs.*.ndjson"))
               for line in map(json.loads, path.read_bytes().splitlines())}
    for n, checkup in checkups.items():
        held = carried[str(n)]
        assert {"청력_좌", "청력_우", "흉부방사선", "판정", "q_smoke", "q_drink",
                "q_exer"} <= {k if not k.isascii() else k.lower() for k in held}, n
        assert {c for c in LABS if c.lower() in held or c in held} == set(LABS) - set(checkup["labs"]), n
    assert sorted(line["columns"]["판정"] for line in (
        json.loads(x) for p in sorted(bag.glob("data/raw/columns/vital_signs.*.ndjson"))
        for x in p.read_bytes().splitlines())) == sorted(("정상A", "정상B", "질환의심")[n % 3] for n in checkups)
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
                            BP_DIA INTEGER, ALT TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, 120, 80, ?)",
                     [(v, 1 + v % 10, f"202403{1 + v % 28:02d}", str(20 + v)) for v in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("visits", tmp_path / "out", SourceAddress(database=path)).folder)
    # ALT alone on a visit row (a column of that name, nothing more): no lab section; the vital signs are read
    assert sorted(spec.entities) == ["encounter", "patient", "vital_signs_visit"]
    # a lab value and the vital signs of one row: both Observations, each record an id of its own (was: one id)
    checkup = load_spec(_checkup_connector(tmp_path))
    ids = {name: model.record_id("c", e.record_table, "1") for name, e in checkup.entities.items()
           if e.table.upper() == "CHKUP"}
    assert len(set(ids.values())) == len(ids) == 13


def _checkup_connector(tmp_path: Path) -> Path:
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.sources.address import SourceAddress

    create_checkup_clinic("sqlite", tmp_path / "checkup.db")
    return write_scaffold("checkup", tmp_path / "checkup", SourceAddress(database=tmp_path / "checkup.db")).folder
