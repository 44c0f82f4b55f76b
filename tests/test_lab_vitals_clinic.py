"""A Korean clinic EMR's vital signs and lab results as they are really kept, through the IT contractor's flow
(``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``), compared cell by cell.

Vital signs in one wide row per visit (``VITAL``): blood pressure as one text column ``"120/80"``, pulse,
temperature in ℃ written with a decimal comma (``"36,5"``), height ㎝, weight ㎏, BMI, SpO2 as ``"98%"``, fasting
and post-meal blood sugar, a pain score; blanks, zeros meaning "not measured", an impossible 1200/80. Lab results
(``LAB_RSLT``) with values as text (``"<5.0"``, ``">1000"``, ``"음성"``, ``"양성(+)"``, ``"1+"``, ``"trace"``, ``"재검"``,
``"12.3 H"``), reference ranges as text, units in CJK compatibility characters (㎎/㎗, ㎕, ㎖), H/L/* flags, corrected
results (a second row with ``CORR_YN = 'Y'``), an outside lab's results (수탁검사), a CBC panel (``LAB_PANEL``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from emr_exporter import model
from emr_exporter.connectors.discovery import load_connector
from emr_exporter.connectors.mapper import EntityMapper
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec, load_spec
from emr_exporter.connectors.transforms import RowRejected, TransformContext, to_decimal, to_measurement
from emr_exporter.pipeline import fhir
from emr_exporter.sources.base import Source, SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource
from krcore_rules import assert_conforms
from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import checked, exported, scaffolded

INSTITUTION = model.Institution(code="12345678", name="가상내과의원")
PATIENT_ID = model.record_id("t", "PATIENT", "1")
CTX = TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)

PATIENTS = 120
VISITS = 300
UNITS = {"GLU": "㎎/㎗", "AST": "IU/L", "ALT": "IU/L", "CRE": "㎎/㎗", "HBA1C": "%", "TSH": "μIU/㎖",
         "WBC": "10^3/uL", "HB": "g/㎗", "PLT": "10^3/㎕", "K": "mmol/L", "UPRO": None, "B12": "pg/㎖"}
NAMES = {"GLU": "Glucose", "AST": "AST(GOT)", "ALT": "ALT(GPT)", "CRE": "Creatinine", "HBA1C": "HbA1c",
         "TSH": "TSH", "WBC": "WBC", "HB": "Hemoglobin", "PLT": "Platelet", "K": "Potassium", "UPRO": "요단백",
         "B12": "Vitamin B12"}
RANGES = {"GLU": "70~110", "AST": "<40", "ALT": "<40", "CRE": "0.7-1.4", "HBA1C": "4.0~6.0", "TSH": "0.4~4.0",
          "WBC": "4.0~10.0", "HB": "남 13-17 / 여 12-16", "PLT": "150~450", "K": "3.5~5.5", "UPRO": "음성",
          "B12": "200~900"}
#: values as they are typed: a number, a comparator, a word, a value with its flag glued on
VALUES = {"GLU": ["95", "126", "250 H", "재검", "88"], "AST": ["25", "<5.0", "120", "31", "18"],
          "ALT": ["33", "12", ">1000", "45", "0"], "CRE": ["0.9", "1.10", "1.8", "0.70", "1"],
          "HBA1C": ["5.6", "7.2", "6.0", "5.9", "12.3 H"], "TSH": ["1.2", "<0.01", "2.50", ">100", "0.8"],
          "WBC": ["6.5", "11.2", "3.1", "7.0", "8"], "HB": ["14.2", "11.0", "16.5", "12.9", "13"],
          "PLT": ["250", "98", "480", "300", "210"], "K": ["4.1", "3.2", "5.8", "4.5", "4"],
          "UPRO": ["음성", "양성(+)", "1+", "trace", "±"], "B12": ["450", ">2000", "180", "600", "1,200"]}
FLAGS = {"250 H": "H", "126": "H", "120": "H", ">1000": "H", "1.8": "H", "7.2": "H", "12.3 H": "H", ">100": "H",
         "<0.01": "L", "11.2": "H", "3.1": "L", "11.0": "L", "16.5": "*", "98": "L", "480": "H", "3.2": "L",
         "5.8": "H", "양성(+)": "*", "1+": "*", ">2000": "H", "180": "L"}
CBC = ("WBC", "HB", "PLT")
OUTSIDE = ("TSH", "B12")  # 수탁검사: sent to an outside lab


SCHEMA = (
    "CREATE TABLE PATIENT (CHART_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40), SEX CHAR(1), BIRTH_YMD CHAR(8))",
    "CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10) REFERENCES PATIENT(CHART_NO), "
    "VISIT_YMD CHAR(8), DEPT_CD VARCHAR(4))",
    "CREATE TABLE VITAL (VS_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10) REFERENCES PATIENT(CHART_NO), "
    "VISIT_NO INTEGER REFERENCES VISIT(VISIT_NO), MSR_DTTM VARCHAR(16), BP VARCHAR(10), PULSE INTEGER, BT VARCHAR(6), "
    "HT REAL, WT REAL, BMI REAL, SPO2 VARCHAR(5), FBS INTEGER, PP2 INTEGER, PAIN INTEGER, MEMO VARCHAR(100))",
    "CREATE TABLE LAB_PANEL (PANEL_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10) REFERENCES PATIENT(CHART_NO), "
    "VISIT_NO INTEGER REFERENCES VISIT(VISIT_NO), PANEL_CD VARCHAR(10), PANEL_NM VARCHAR(40), RPT_DTTM VARCHAR(16))",
    "CREATE TABLE LAB_RSLT (RSLT_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10) REFERENCES PATIENT(CHART_NO), "
    "VISIT_NO INTEGER REFERENCES VISIT(VISIT_NO), PANEL_NO INTEGER REFERENCES LAB_PANEL(PANEL_NO), "
    "RSLT_DTTM VARCHAR(16), TEST_CD VARCHAR(10), TEST_NM VARCHAR(40), RSLT_VAL VARCHAR(20), UNIT VARCHAR(20), "
    "REF_RANGE VARCHAR(40), HL_FLAG VARCHAR(2), CORR_YN CHAR(1) DEFAULT 'N', ORG_RSLT_NO INTEGER, "
    "OUT_LAB_NM VARCHAR(40), RCV_DTTM VARCHAR(16), RPT_DTTM VARCHAR(16))",
)


def build_lab_vitals_clinic(path: Path) -> dict[str, int]:
    """The clinic's SQLite file; the number of rows of each table."""
    conn = sqlite3.connect(path)
    try:
        rows = fill_lab_vitals_clinic(conn)
        conn.commit()
    finally:
        conn.close()
    return rows


def fill_lab_vitals_clinic(conn: Any) -> dict[str, int]:
    """Create and fill the clinic's tables through a DB-API connection with '?' parameters (sqlite3, pyodbc)."""
    for statement in SCHEMA:
        conn.execute(statement)
    rows = {"PATIENT": 0, "VISIT": 0, "VITAL": 0, "LAB_PANEL": 0, "LAB_RSLT": 0}
    for i in range(1, PATIENTS + 1):
        conn.execute("INSERT INTO PATIENT VALUES (?,?,?,?)",
                     (f"{i:06d}", f"환자{i}", "MF"[i % 2], f"19{40 + i % 60:02d}{i % 12 + 1:02d}{i % 28 + 1:02d}"))
        rows["PATIENT"] += 1
    rslt_no = 0
    for v in range(1, VISITS + 1):
        chart = f"{v % PATIENTS + 1:06d}"
        day = f"2024-{v % 12 + 1:02d}-{v % 28 + 1:02d}"
        conn.execute("INSERT INTO VISIT VALUES (?,?,?,?)", (v, chart, day.replace("-", ""), "IM"))
        rows["VISIT"] += 1
        bp = "" if v % 17 == 0 else ("0/0" if v % 29 == 0 else f"{110 + v % 40}/{70 + v % 20}")
        if v == 150:
            bp = "1200/80"  # a typing slip: the clinic's value, kept as it is
        bt = None if v % 13 == 0 else f"36,{v % 10}"
        spo2 = "" if v % 11 == 0 else f"{95 + v % 5}%"
        conn.execute("INSERT INTO VITAL VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (v, chart, v, f"{day} 09:{v % 60:02d}", bp, 0 if v % 19 == 0 else 60 + v % 40, bt,
                      None if v % 3 else 150.0 + v % 40 + 0.5, 0.0 if v % 7 == 0 else 50.0 + v % 45 + 0.1 * (v % 10),
                      None if v % 3 else round(20 + v % 10 + 0.1 * (v % 7), 1), spo2,
                      None if v % 4 else 90 + v % 50, None if v % 8 else 130 + v % 60, v % 11, "식후" if v % 8 == 0 else None))
        rows["VITAL"] += 1
        if v % 2:
            continue
        panel = None
        if v % 4 == 0:
            rows["LAB_PANEL"] += 1
            panel = rows["LAB_PANEL"]
            conn.execute("INSERT INTO LAB_PANEL VALUES (?,?,?,?,?,?)",
                         (panel, chart, v, "CBC", "CBC (일반혈액검사)", f"{day} 15:00"))
        codes = [c for c in VALUES if c not in CBC or panel is not None]
        for code in codes:
            rslt_no += 1
            value = VALUES[code][(v // 2) % 5]
            outside = code in OUTSIDE
            conn.execute(
                "INSERT INTO LAB_RSLT VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rslt_no, chart, v, panel if code in CBC else None, f"{day} 10:30", code, NAMES[code], value,
                 UNITS[code], RANGES[code], FLAGS.get(value), "N", None, "씨젠의료재단" if outside else None,
                 f"{day} 18:00" if outside else None, f"2024-12-{v % 28 + 1:02d} 11:20" if outside else None))
            if code == "GLU" and value == "재검":  # re-tested: a corrected result row for the same test
                rslt_no += 1
                conn.execute(
                    "INSERT INTO LAB_RSLT VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (rslt_no, chart, v, None, f"{day} 16:00", code, NAMES[code], "101", UNITS[code], RANGES[code],
                     None, "Y", rslt_no - 1, None, None, None))
    rows["LAB_RSLT"] = rslt_no
    return rows


def test_a_decimal_comma_is_the_point_and_only_thousands_groups_lose_their_commas() -> None:
    # Before: every comma and space was dropped, amounts' thousands and a temperature's decimal comma alike:
    # '36,5' (℃) became 365, '1,2,3' 123, '12,34.5' 1234.5 — the FHIR Observation said 365 ℃.
    field = FieldSpec(name="temperature", type="decimal")
    read = {text: to_decimal(text, field, CTX) for text in (
        "36,5", " 36,5 ", "-0,25", "12,000", "12,000원", "₩1,234,567.5", "\\12 000", "15000", "36.5", "0,125")}
    assert read == {"36,5": Decimal("36.5"), " 36,5 ": Decimal("36.5"), "-0,25": Decimal("-0.25"),
                    "12,000": Decimal(12000), "12,000원": Decimal(12000), "₩1,234,567.5": Decimal("1234567.5"),
                    "\\12 000": Decimal(12000), "15000": Decimal(15000), "36.5": Decimal("36.5"),
                    "0,125": Decimal("0.125")}
    for text in ("1,2,3", "12,34.5", "3 6,5", "36,5,0"):
        with pytest.raises(RowRejected) as caught:
            to_decimal(text, field, CTX)
        assert (caught.value.reason_code, caught.value.reason) == (
            "invalid-number", "field 'temperature' is not a number"), text


def _lab(value: str, unit: str | None) -> dict[str, Any]:
    record = model.LabResult(id="l" * 32, provenance=model.Provenance("t", "LAB_RSLT", "1"), patient_id=PATIENT_ID,
                             observed=dt.datetime(2024, 3, 5, 10, 30), code="AST", value=value, unit=unit)
    (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
    assert_conforms(resource)
    return {k: v for k, v in resource.items() if k.startswith("value")}


def test_a_lab_value_after_a_comparator_is_a_quantity_with_fhirs_comparator_and_its_unit_as_written() -> None:
    # Before: '<5.0' and '>1000' were valueString (no number to compare), and no unit had a UCUM code.
    assert _lab("<5.0", "IU/L") == {"valueQuantity": {
        "value": 5, "_value": {"extension": [{"url": fhir.EXACT_DECIMAL_URL, "valueString": "5.0"}]},
        "comparator": "<", "unit": "IU/L", "system": fhir.UCUM_SYSTEM, "code": "[IU]/L"}}
    assert _lab(">1000", "IU/L")["valueQuantity"]["comparator"] == ">"
    assert _lab("≤ 0.50", "㎎/㎗") == {"valueQuantity": {
        "value": 0.5, "_value": {"extension": [{"url": fhir.EXACT_DECIMAL_URL, "valueString": "0.50"}]},
        "comparator": "<=", "unit": "㎎/㎗", "system": fhir.UCUM_SYSTEM, "code": "mg/dL"}}
    assert _lab("126", "㎎/㎗") == {"valueQuantity": {"value": 126, "unit": "㎎/㎗", "system": fhir.UCUM_SYSTEM,
                                                     "code": "mg/dL"}}
    assert _lab("4.5", "10^3/㎕")["valueQuantity"]["code"] == "10*3/uL"
    assert _lab("2.1", "μIU/㎖")["valueQuantity"]["code"] == "u[IU]/mL"
    assert _lab("3.5", "cells/HPF") == {"valueQuantity": {"value": 3.5, "unit": "cells/HPF"}}  # no code guessed
    # what is no number as written stays the text the doctor saw
    for text in ("음성", "양성(+)", "1+", "trace", "재검", "12.3 H", "1,200", "<", "5.0<"):
        assert _lab(text, "㎎/㎗") == {"valueString": text}
    assert _lab("<5.0", None) == {"valueString": "<5.0"}


def test_a_vital_sign_of_zero_is_not_measured_and_carried_not_an_observation_of_zero(tmp_path: Path) -> None:
    # Before: a weight of 0 (the EMR's "not measured") became an Observation 'Body weight 0', a pulse of 0 a
    # heart rate of 0 — a measurement the clinic never took. An oxygen flow of 0 L/min (room air) stays.
    (tmp_path / "c" / "vs").mkdir(parents=True)
    (tmp_path / "c" / "vs" / "connector.toml").write_text("""
[connector]
name = "vs"
version = "1"

[entities.patient]
table = "PATIENT"
key = "CHART_NO"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.vital_signs]
table = "VITAL"
key = "VS_NO"

[entities.vital_signs.fields]
patient_id = { column = "CHART_NO", type = "ref", ref = "patient", required = true }
observed = { column = "MSR_DTTM", type = "datetime", required = true }
pulse = { column = "PULSE", type = "decimal" }
weight = { column = "WT", type = "decimal" }
temperature = { column = "BT", type = "decimal" }
oxygen_flow_rate = { column = "O2", type = "decimal" }
""", encoding="utf-8")
    spec = load_connector("vs", [tmp_path / "c"])
    row = {"vs_no": 1, "chart_no": "1", "msr_dttm": "2024-03-05 09:30:00", "pulse": 0, "wt": "0.0", "bt": "36,5",
           "o2": 0}
    for compiled in (True, False):
        mapper = EntityMapper(spec, spec.entities["vital_signs"], attachments_root=None, quarantined_keys={})
        values = mapper._values(row) if compiled else mapper._values_loop(row)
        assert (values["pulse"], values["weight"], values["temperature"], values["oxygen_flow_rate"]) == (
            None, None, Decimal("36.5"), Decimal(0))
        assert mapper.defects == [("pulse", "pulse", "invalid-number"), ("weight", "wt", "invalid-number")]
    record = EntityMapper(spec, spec.entities["vital_signs"], attachments_root=None, quarantined_keys={}).map_row(row)
    assert isinstance(record, model.VitalSigns)
    assert [r["id"].rsplit("-", 1)[1] for r in fhir.to_fhir(record, institution=INSTITUTION)] == ["temp"]


@dataclass
class Clinic:
    """The clinic as ``scaffolded`` takes it: a SQLite file or an ODBC connection string."""

    path: Path | None = None
    odbc: str | None = None

    def source(self) -> Source:
        return SqliteFileSource(self.path) if self.path is not None else OdbcSource(str(self.odbc))


def _contractors_flow(clinic: Clinic, rows: dict[str, int], tmp_path: Path) -> None:
    # Before: the scaffold left BT ('36,5') unmapped (and the decimal transform read it as 365), a 0 weight or
    # pulse (not measured) was an Observation of 0, '<5.0' a valueString, a corrected result (CORR_YN = 'Y')
    # 'final' like the one it replaced.
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    vital_fields, lab_fields = spec["entities"]["vital_signs"]["fields"], spec["entities"]["lab_result"]["fields"]
    def upper(field: dict[str, Any]) -> dict[str, Any]:  # PostgreSQL's names are folded to lower case
        return {k: v.upper() if k == "column" else v for k, v in field.items()}

    assert upper(vital_fields["temperature"]) == {"column": "BT", "type": "decimal"}
    assert upper(vital_fields["spo2"]) == {"column": "SPO2", "type": "decimal"}
    assert vital_fields["systolic"]["type"] == vital_fields["diastolic"]["type"] == "decimal"
    assert "BP" in next(iter(vital_fields["systolic"]["expr"].values())).upper()  # read out of '120/80'
    assert upper(lab_fields["status"]) == {"column": "CORR_YN", "type": "status",
                                           "map": {"Y": "corrected", "N": ""}}
    check = checked(flow)
    [vitals] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "vital_signs"]
    zeros = len([v for v in range(1, VISITS + 1) if v % 19 == 0]) + len([v for v in range(1, VISITS + 1) if v % 7 == 0])
    zeros += 2 * len([v for v in range(1, VISITS + 1) if v % 29 == 0 and v % 17])  # '0/0': both parts
    assert vitals["field_defects"] == {"invalid-number": zeros}  # each 0 carried raw with its reason
    _dry, _sealed, bag = exported(flow, tmp_path)
    observations = list(lines(bag, "fhir/Observation"))
    vital = [o for o in observations if o["category"][0]["coding"][0]["code"] == "vital-signs"]
    temperatures = {o["identifier"][0]["value"]: o["valueQuantity"]["value"] for o in vital
                    if o["id"].endswith("-temp")}
    assert temperatures == {str(v): float(f"36.{v % 10}") if v % 10 else 36 for v in range(1, VISITS + 1)
                            if v % 13}
    assert {o["identifier"][0]["value"]: o["valueQuantity"]["value"] for o in vital if o["id"].endswith("-spo2")} == {
        str(v): 95 + v % 5 for v in range(1, VISITS + 1) if v % 11}
    assert not [o["id"] for o in vital if o.get("valueQuantity", {}).get("value") == 0]
    def said(part: dict[str, Any]) -> Any:  # a value, or (the reason it is absent, the text as recorded)
        if "valueQuantity" in part:
            return part["valueQuantity"]["value"]
        reason = part["dataAbsentReason"]
        return reason["coding"][0]["code"], reason.get("text")

    pressures = {o["identifier"][0]["value"]: [said(c) for c in o["component"]] for o in vital
                 if o["id"].endswith("-bp")}
    expected = {str(v): [110 + v % 40, 70 + v % 20] for v in range(1, VISITS + 1) if v % 17 and v % 29}
    # a '0/0' (not measured) in a set with other measurements: the blood pressure's Observation with both parts
    # absent, each saying why with its text as recorded (before 2026-12: no Observation, the zeros carried raw
    # alone); an empty BP ('') is no measurement in a set with others: no Observation
    zero_zero = {str(v): [("unknown", "0"), ("unknown", "0")] for v in range(1, VISITS + 1) if v % 29 == 0 and v % 17}
    assert pressures == expected | {"150": [1200, 80]} | zero_zero  # 1200: the slip as the clinic recorded it
    # so the pulse of 0 and the weight of 0.0: their Observations, absent, with the text as read
    assert {o["identifier"][0]["value"] for o in vital if o["id"].endswith("-pulse") and "dataAbsentReason" in o} == {
        str(v) for v in range(1, VISITS + 1) if v % 19 == 0}
    assert {said(o) for o in vital if o["id"].endswith("-weight") and "dataAbsentReason" in o} == {("unknown", "0.0")}
    assert len([o for o in vital if o["id"].endswith("-weight") and "dataAbsentReason" in o]) == VISITS // 7
    assert not [o for o in vital if o["id"].endswith("-temp") and "dataAbsentReason" in o]  # NULL BT: no Observation
    labs = {int(o["identifier"][0]["value"]): o for o in observations
            if o["category"][0]["coding"][0]["code"] == "laboratory"}
    assert len(labs) == rows["LAB_RSLT"]
    source = clinic.source()
    try:
        recorded = {int(r["rslt_no"]): (r["rslt_val"], r["unit"], r["corr_yn"])
                    for r in source.rows("SELECT RSLT_NO, RSLT_VAL, UNIT, CORR_YN FROM LAB_RSLT")}
        compared = [(labs[k]["valueQuantity"].get("comparator"), v[0][0]) for k, v in recorded.items()
                    if v[1] and v[0][0] in "<>"]
        assert len(compared) == 150 and all(c == first for c, first in compared)
        assert {labs[k]["valueQuantity"]["code"] for k, v in recorded.items() if v[1] == "㎎/㎗" and v[0][0].isdigit()
                and "valueQuantity" in labs[k]} == {"mg/dL"}
        words = ("음성", "양성(+)", "1+", "trace", "재검", "12.3 H", "1,200")
        assert {labs[k]["valueString"] for k, v in recorded.items() if v[0] in words} == set(words)
        assert sorted(k for k, o in labs.items() if o["status"] == "corrected") == sorted(
            k for k, v in recorded.items() if v[2] == "Y")
        # every cell of every table comes back exactly from the opened bag ('36,5', 0, '<5.0', '㎎/㎗' included)
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows == {table.lower(): count for table, count in rows.items()}


def test_the_clinics_vitals_and_lab_results_go_through_the_contractors_flow_exactly(tmp_path: Path) -> None:
    rows = build_lab_vitals_clinic(tmp_path / "clinic.db")
    _contractors_flow(Clinic(path=tmp_path / "clinic.db"), rows, tmp_path)


@pytest.mark.db
def test_the_same_clinic_on_mariadb_goes_through_the_contractors_flow_exactly(tmp_path: Path,
                                                                              mariadb_conn_str: str) -> None:
    import pyodbc

    target = _fresh_database(mariadb_conn_str, "emr_lab_vitals", "mariadb")
    conn = pyodbc.connect(target, autocommit=False)
    conn.setencoding(encoding="utf-8")
    try:
        rows = fill_lab_vitals_clinic(conn)
        conn.commit()
    finally:
        conn.close()
    _contractors_flow(Clinic(odbc=target), rows, tmp_path)

def test_units_written_in_compatibility_characters_claim_the_vital_sign_profiles_with_their_text_kept() -> None:
    # Before: '㎏' and '㎝' had no UCUM code (only 'kg', 'cm' did): no code, and no body-weight/height profile.
    record = model.VitalSigns(id="v" * 32, provenance=model.Provenance("t", "VITAL", "1"), patient_id=PATIENT_ID,
                              observed=dt.datetime(2024, 3, 5, 9, 30), weight=Decimal("70.5"), weight_unit="㎏",
                              height=Decimal("171"), height_unit="㎝")
    resources = {r["id"].rsplit("-", 1)[1]: r for r in fhir.to_fhir(record, institution=INSTITUTION)}
    for resource in resources.values():
        assert_conforms(resource)
    assert resources["weight"]["valueQuantity"] == {"value": 70.5, "unit": "㎏", "system": fhir.UCUM_SYSTEM,
                                                    "code": "kg"}
    assert resources["weight"]["meta"]["profile"] == [fhir.KRCORE_PROFILE_BASE + "krcore-bodyweight"]
    assert resources["height"]["valueQuantity"]["code"] == "cm"
    assert resources["height"]["meta"]["profile"] == [fhir.KRCORE_PROFILE_BASE + "krcore-bodyheight"]


def test_a_vital_signs_own_unit_written_in_its_cell_is_read_off_and_no_other() -> None:
    # Before: '98%' (SpO2) was no number: the field was dropped (and the scaffold left the column unmapped).
    spo2, pulse = FieldSpec(name="spo2", type="decimal"), FieldSpec(name="pulse", type="decimal")
    assert [to_measurement(t, spo2, CTX) for t in ("98%", " 97 % ", "96", "99,5%")] == [
        Decimal(98), Decimal(97), Decimal(96), Decimal("99.5")]
    assert to_measurement("36,5℃", FieldSpec(name="temperature", type="decimal"), CTX) == Decimal("36.5")
    for text, field in (("98%", pulse), ("0%", spo2), ("98 kg", spo2)):
        with pytest.raises(RowRejected) as caught:
            to_measurement(text, field, CTX)
        assert caught.value.reason_code == "invalid-number", text


@pytest.mark.db
def test_the_same_clinic_on_postgresql_goes_through_the_contractors_flow_exactly(tmp_path: Path,
                                                                                 postgres_conn_str: str) -> None:
    import pyodbc

    target = _fresh_database(postgres_conn_str, "emr_lab_vitals", "postgresql")
    conn = pyodbc.connect(target, autocommit=False)
    try:
        rows = fill_lab_vitals_clinic(conn)
        conn.commit()
    finally:
        conn.close()
    _contractors_flow(Clinic(odbc=target), rows, tmp_path)


def test_a_lab_flag_in_any_case_and_a_panic_value_get_their_interpretation_codes_with_the_text_as_recorded() -> None:
    # Before: only 'H', 'L', 'N', 'A' exactly had a code; 'HH'/'LL' (panic values) and 'h' were text alone.
    def interpretation(flag: str) -> list[dict[str, Any]]:
        record = model.LabResult(id="l" * 32, provenance=model.Provenance("t", "LAB_RSLT", "1"),
                                 patient_id=PATIENT_ID, observed=dt.datetime(2024, 3, 5), code="K", value="6.9",
                                 unit="mmol/L", flag=flag)
        (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
        assert_conforms(resource)
        return list(resource["interpretation"])

    system = fhir.V3_INTERPRETATION_SYSTEM
    assert interpretation("HH") == [{"coding": [{"system": system, "code": "HH", "display": "Critical high"}],
                                     "text": "HH"}]
    assert interpretation("LL")[0]["coding"][0]["code"] == "LL"
    assert interpretation("h") == [{"coding": [{"system": system, "code": "H", "display": "High"}], "text": "h"}]
    assert interpretation("*") == [{"text": "*"}]
