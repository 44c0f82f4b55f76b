"""A clinic whose vendor program keeps each visit as ONE wide row with repeated column groups (tests/connectors/
wide_clinic.py: ``DX1_CODE … DX8_NAME``, ``RX1_CODE … RX15_DAYS``, ``수가1코드 … 수가10금액`` on ``VISIT``; ``ALLERGY1..5``
on ``PT_MST``; CHAR(8) dates beside CHAR(6) times), on SQLite and on MariaDB over its ODBC driver, through the
contractor's whole flow with the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run →
sealed ``export`` → ``verify`` → ``open``; every row of both tables rebuilt from the opened bag and compared with
the database's cell by cell (tests/lossless_kit.py). The scaffold writes one section per group number, reading the
wide row again (docs/connectors.md, "Repeated column groups"): one Condition per DXn group with a code, one
MedicationRequest per RXn group with a code or a name, one fee line per 수가n group, one AllergyIntolerance per
ALLERGYn; an empty group is no resource and no defect. Was: every RX, 수가 and ALLERGY cell carried raw with its row,
and not even the DX groups read (the visit's date was read with its time, which the diagnosis rule did not take);
a diagnosis group with a name and no code a Condition of its text (was: raw). The vital signs on the visit row are a
vital-signs section reading it again too.
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
from foreign_schemas import _fresh_database
from wide_clinic import DRUGS, FEE_GROUPS, RX_GROUPS, create_wide_clinic

from emr_exporter.authoring.column_groups import ColumnGroup, column_groups
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow


def _set(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _lines(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def test_the_column_group_names_are_read_in_each_form() -> None:
    groups = column_groups(["VISIT_NO", "RX1_CODE", "RX1_NAME", "RX2_CODE", "RX2_NAME", "RX10_CODE", "수가1코드",
                            "수가1금액", "수가2코드", "수가2금액", "SANG_CD1", "SANG_NM1", "SANG_CD2", "SANG_NM2",
                            "ALLERGY1", "ALLERGY2", "VER1", "VER3", "BP_SYS"])
    assert groups == {
        "SANG": [ColumnGroup("SANG", 1, {"CD": "SANG_CD1", "NM": "SANG_NM1"}),
                 ColumnGroup("SANG", 2, {"CD": "SANG_CD2", "NM": "SANG_NM2"})],
        "ALLERGY": [ColumnGroup("ALLERGY", 1, {"": "ALLERGY1"}), ColumnGroup("ALLERGY", 2, {"": "ALLERGY2"})],
        # RX10 with no RX3..RX9: the numbers skip, no series (VER1, VER3 neither)
        "수가": [ColumnGroup("수가", 1, {"코드": "수가1코드", "금액": "수가1금액"}),
               ColumnGroup("수가", 2, {"코드": "수가2코드", "금액": "수가2금액"})]}
    assert column_groups(["RX1_CODE", "RX1_NAME", "RX2_CODE", "RX2_NAME"])["RX"][1].parts == {
        "CODE": "RX2_CODE", "NAME": "RX2_NAME"}


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db),
                                    pytest.param("postgres", marks=pytest.mark.db)])
def test_a_clinic_of_wide_rows_gives_one_resource_per_set_group(engine: str, tmp_path: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    if engine == "sqlite":
        clinic = create_wide_clinic(engine, tmp_path / "wide.db")
    else:
        clinic = create_wide_clinic(engine, _fresh_database(request.getfixturevalue(f"{engine}_conn_str"), "emr_wide",
                                                            engine))
    visits, allergies = clinic.visits, clinic.allergies
    dx = {v: x["dx"] for v, x in visits.items()}  # a group with a code, or a name alone
    rx = {v: x["rx"] for v, x in visits.items()}
    fee = {v: x["fee"] for v, x in visits.items()}
    rows = {"dx": sum(map(len, dx.values())), "rx": sum(map(len, rx.values())), "fee": sum(map(len, fee.values())),
            "allergy": sum(map(len, allergies.values())), "vitals": sum(x["vitals"] for x in visits.values())}
    assert rows == {"dx": 418, "rx": 465, "fee": 399, "allergy": 26, "vitals": 133}
    rebuilt = through_the_flow(clinic, tmp_path)
    # every cell once; each section reading the visit row again counts the visit's key, patient and date again
    # (3 cells a row), each reading the patient row again its key (1): the group's own cells are its alone
    # (the coverage section reads every patient row again: 40 keys more)
    assert rebuilt == (clinic.cells + 3 * (rows["dx"] + rows["rx"] + rows["fee"] + rows["vitals"]) + rows["allergy"]
                       + 40)
    bag = _bag(tmp_path)
    toml = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    if engine == "postgres":  # its unquoted names folded to lower case: compared as the DDL wrote them
        for s in toml["entities"].values():
            s["table"] = s["table"].upper()
            for f in s["fields"].values():
                for part in ("column", "value"):
                    if f.get(part) == s["table"].lower() or (part == "column" and part in f):
                        f[part] = f[part].upper()
    sections = {name: (s.get("entity", name), s["table"]) for name, s in toml["entities"].items()}
    rx_sections = [f"order_line_rx{n}" for n in range(1, RX_GROUPS + 1)]
    fee_sections = [f"fee_line_visit_{n}" for n in range(1, FEE_GROUPS + 1)]
    allergy_sections = [f"allergy_allergy{n}" for n in range(1, 6)]
    # DX4..DX8 hold no code in any visit (DX4 a name alone in some): sections all the same, as groups of the series
    dx_sections = [f"diagnosis_dx{n}_code" for n in range(1, 9)]
    assert sections == {"patient": ("patient", "PT_MST"), "encounter": ("encounter", "VISIT"),
                        **{s: ("diagnosis", "VISIT") for s in dx_sections},
                        **{s: ("order_line", "VISIT") for s in rx_sections},
                        **{s: ("fee_line", "VISIT") for s in fee_sections},
                        **{s: ("allergy", "PT_MST") for s in allergy_sections},
                        "vital_signs_visit": ("vital_signs", "VISIT"), "coverage_pt_mst": ("coverage", "PT_MST")}
    # the birth date alone: REG_TIME beside it is when the chart was made (was: read as the time of birth)
    assert toml["entities"]["patient"]["fields"]["birth_date"] == {"column": "BIRTH_DATE", "type": "date"}
    assert toml["entities"]["vital_signs_visit"]["fields"]["temperature"] == {"column": "TEMP", "type": "decimal"}
    assert toml["entities"]["order_line_rx2"]["fields"] == {
        "patient_id": {"column": "PT_NO", "type": "ref", "ref": "patient", "required": True},
        "encounter_id": {"column": "VISIT_NO", "type": "ref", "ref": "encounter"},
        "ordered": {"column": "VISIT_DATE", "type": "date", "required": True},
        "edi_code": {"column": "RX2_CODE"}, "name": {"column": "RX2_NAME"},
        "dose": {"column": "RX2_DOSE", "type": "decimal"}, "frequency": {"column": "RX2_TIMES", "type": "int"},
        "days": {"column": "RX2_DAYS", "type": "int"}, "code_type": {"value": "drug"},
        "group_id": {"column": "VISIT_NO"}, "group_table": {"value": "VISIT"}}
    assert toml["entities"]["fee_line_visit_1"]["fields"]["total"] == {"column": "수가1금액", "type": "decimal"}
    assert _fates(bag) == {"pt_mst": (*allergy_sections, "coverage_pt_mst", "patient"),
                           "visit": (*dx_sections, "encounter", *sorted(fee_sections), *sorted(rx_sections),
                                     "vital_signs_visit")}

    def count(n: int, of: dict[Any, list[Any]]) -> int:
        return sum(any(g[0] == n for g in groups) for groups in of.values())

    # one record per set group, none of an empty one (RX13..15, 수가4..10: sections that read no row), no defect
    expected = {("patient", "PT_MST", 40, 40, 0), ("encounter", "VISIT", 200, 200, 0),
                ("vital_signs_visit", "VISIT", rows["vitals"], rows["vitals"], 0),
                ("coverage_pt_mst", "PT_MST", 40, 40, 0)}
    expected |= {(s, "VISIT", count(n, dx), count(n, dx), 0) for n, s in enumerate(dx_sections, 1)}
    expected |= {(s, "VISIT", count(n, rx), count(n, rx), 0) for n, s in enumerate(rx_sections, 1)}
    expected |= {(s, "VISIT", count(n, fee), count(n, fee), 0) for n, s in enumerate(fee_sections, 1)}
    expected |= {(s, "PT_MST", count(n, allergies), count(n, allergies), 0)
                 for n, s in enumerate(allergy_sections, 1)}
    assert {(s, t.upper(), *n) for s, t, *n in _entities(bag)} == expected
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    defects = {e["entity"]: e["field_defects"] for e in reconciliation["entities"] if e["field_defects"]}
    assert defects == {"patient": {"invalid-date": 1}}  # the birth date '00000000' (kept raw with its reason)
    # each group cell once in the bag: carried with its row's raw columns only where no section reads that group
    carried = {line["key"]: line["columns"] for path in sorted(bag.glob("data/raw/columns/encounter.*.ndjson"))
               for line in map(json.loads, path.read_bytes().splitlines())}
    for v in visits:
        held = carried.get(str(v), {})
        read = {n for n, *_ in rx[v]}
        assert {n for n in range(1, RX_GROUPS + 1) if f"rx{n}_name" in held} == set(range(1, RX_GROUPS + 1)) - read
        assert ("수가1코드" in held) == (not fee[v]), v
        assert ("bp_sys" in held, "dx8_name" in held) == (not visits[v]["vitals"], True), v  # DX8: no section
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    [visit_table] = [t for t in inventory if t["name"] == "visit"]
    assert [a["section"] for a in visit_table["read_again"]] == [*dx_sections, *rx_sections, *fee_sections,
                                                                 "vital_signs_visit"]
    encounters = _resources(bag, "Encounter")
    by_id = {e["id"]: int(k) for k, e in encounters.items()}
    for kind in ("MedicationRequest", "Condition", "ChargeItem", "AllergyIntolerance"):
        ids = [r["id"] for r in _lines(bag, kind)]
        assert len(set(ids)) == len(ids), kind  # one record per row and group: ids unique
    # the MedicationRequests: one per set RXn group, of its visit and patient, the visit's drugs one group
    found: dict[int, list[tuple[Any, ...]]] = {}
    for m in _lines(bag, "MedicationRequest"):
        v = by_id[m["encounter"]["reference"].removeprefix("Encounter/")]
        assert m["subject"] == encounters[str(v)]["subject"]
        medication = m["medicationCodeableConcept"]
        dose = m["dosageInstruction"][0]
        found.setdefault(v, []).append((
            next((c["code"] for c in medication.get("coding", [])), None), medication["text"],
            Decimal(str(dose["doseAndRate"][0]["doseQuantity"]["value"])), dose["timing"]["repeat"]["frequency"],
            m["groupIdentifier"]["value"]))
    assert {v: sorted(x, key=str) for v, x in found.items()} == {
        v: sorted([(c or None, name, Decimal(str(dose)), times, str(v)) for _, c, name, dose, times, _days in x],
                  key=str) for v, x in rx.items() if x}
    assert {name for x in found.values() for code, name, *_ in x if code is None} == {"비급여 영양제"}
    assert {code for x in found.values() for code, *_ in x} - {None} <= set(DRUGS)
    # the Conditions: one per DXn group with a code, the first the visit's main one
    conditions: dict[int, list[tuple[str | None, str | None]]] = {}
    for c in _lines(bag, "Condition"):
        v = by_id[c["encounter"]["reference"].removeprefix("Encounter/")]
        conditions.setdefault(v, []).append((next((x["code"] for x in c["code"].get("coding", [])), None),
                                             c["code"].get("text")))
    assert conditions == {v: [(c or None, m or None) for _, c, m in x] for v, x in dx.items() if x}
    # a diagnosis written as its name alone (DX2..DX4_NAME, the code blank): a Condition of its text (was: raw)
    assert sum(c is None for x in conditions.values() for c, _ in x) == 19
    # the vital signs: one set per visit with a measurement, its temperature as written
    temperatures = {by_id[o["encounter"]["reference"].removeprefix("Encounter/")]:
                    Decimal(str(o["valueQuantity"]["value"]))
                    for o in _lines(bag, "Observation") if o["code"]["coding"][0]["code"] == "8310-5"}
    assert temperatures == {v: x["temp"] for v, x in visits.items() if x["vitals"]}
    # the allergies: one per set ALLERGYn, the patient's, the text as written
    substances: dict[str, list[str]] = {}
    patients = {p["id"]: k for k, p in _resources(bag, "Patient").items()}
    for a in _lines(bag, "AllergyIntolerance"):
        substances.setdefault(patients[a["patient"]["reference"].removeprefix("Patient/")], []).append(
            a["code"]["text"])
    assert substances == {p: [a for _, a in x] for p, x in allergies.items() if x}
    # the insurance on the patient row: one Coverage per patient, its kind and number as recorded (was: raw)
    coverages = {patients[c["beneficiary"]["reference"].removeprefix("Patient/")]:
                 (c["type"]["text"], next((i["value"] for i in c["identifier"]
                                           if i["system"] == "urn:emr-exporter:insured-number"), None))
                 for c in _lines(bag, "Coverage")}
    assert coverages == {f"P{i:05d}": (("NH", "MD", "GN")[i % 3], f"{i:011d}" if i % 7 else None)
                         for i in range(1, 41)}


def test_an_order_group_says_a_drug_only_where_its_stem_does(tmp_path: Path) -> None:
    # ORD1_CD…: an order of any kind (no code_type); YAK_CD1, YAK_NM1… (the <stem>_<part><n> form): drugs
    import sqlite3

    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress

    path = tmp_path / "orders.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, ORD1_CD TEXT, ORD1_NM TEXT,
                            ORD2_CD TEXT, ORD2_NM TEXT, YAK_CD1 TEXT, YAK_NM1 TEXT, YAK_CD2 TEXT, YAK_NM2 TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (v, 1 + v % 10, f"202403{1 + v % 28:02d}", "C5211", "CRP", "" if v % 2 else "B1010", "혈액검사",
         "645301200", "타이레놀정500mg", None, None) for v in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("orders", tmp_path / "out", SourceAddress(database=path)).folder)
    lines = {n: e for n, e in spec.entities.items() if e.canonical == "order_line"}
    assert sorted(lines) == ["order_line_ord1", "order_line_ord2", "order_line_yak1", "order_line_yak2"]
    assert {n: (e.fields["local_code"].source_column if "local_code" in e.fields else
                e.fields["edi_code"].source_column, e.fields["name"].source_column,
                e.fields["code_type"].value if "code_type" in e.fields else None) for n, e in lines.items()} == {
        "order_line_ord1": ("ORD1_CD", "ORD1_NM", None), "order_line_ord2": ("ORD2_CD", "ORD2_NM", None),
        "order_line_yak1": ("YAK_CD1", "YAK_NM1", "drug"), "order_line_yak2": ("YAK_CD2", "YAK_NM2", "drug")}


def test_a_group_named_by_a_word_that_merely_holds_a_drug_word_is_no_drug_order(tmp_path: Path) -> None:
    # 예약 (a booking), 특약 (an insurance rider), 요약 (a summary) hold the syllable 약 but are no drugs; a
    # DRUG_ALLERGY group is the patient's allergies (to drugs), not drug orders
    import sqlite3

    from emr_exporter.authoring.column_groups import group_entity
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress

    assert {stem: group_entity(stem) for stem in ("예약", "특약", "요약", "계약", "약", "약품", "처방약", "투약",
                                                  "DRUG_ALLERGY", "ALLERGY_DRUG", "약물알레르기", "RX")} == {
        "예약": None, "특약": None, "요약": None, "계약": None, "약": "order_line", "약품": "order_line",
        "처방약": "order_line", "투약": "order_line", "DRUG_ALLERGY": "allergy", "ALLERGY_DRUG": "allergy",
        "약물알레르기": "allergy", "RX": "order_line"}
    # MED is a drug (MED1_CODE) but also the care a clinic gives (MED_DEPT 진료과, MED_DR 진료의): a group of
    # departments or doctors is no drug order; a drug's or care's fee (DRUG_FEE 약제비, MED_FEE) a fee line
    assert {stem: group_entity(stem) for stem in ("MED", "MED_DEPT", "MED_DR", "RX_DOCTOR", "DRUG_FEE", "MED_FEE",
                                                  "약제비", "ORD_USER")} == {
        "MED": "order_line", "MED_DEPT": None, "MED_DR": None, "RX_DOCTOR": None, "DRUG_FEE": "fee_line",
        "MED_FEE": "fee_line", "약제비": "fee_line", "ORD_USER": None}
    path = tmp_path / "booked.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT,
                              DRUG_ALLERGY1_NM TEXT, DRUG_ALLERGY2_NM TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT,
                            예약1코드 TEXT, 예약1명 TEXT, 예약2코드 TEXT, 예약2명 TEXT,
                            DRUG_ALLERGY1_NM TEXT, DRUG_ALLERGY2_NM TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M', ?, NULL)",
                     [(i, f"환자{i}", "페니실린" if i % 3 == 0 else None) for i in range(1, 11)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (v, 1 + v % 10, f"202403{1 + v % 28:02d}", "R01", "재진 예약", "" if v % 2 else "R02", "검사 예약",
         "아스피린" if v % 4 == 0 else None, None) for v in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("booked", tmp_path / "out", SourceAddress(database=path)).folder)
    assert sorted(n for n, e in spec.entities.items() if e.canonical == "order_line") == []
    assert sorted((e.table, n) for n, e in spec.entities.items() if e.canonical == "allergy") == [
        ("PATIENT", "allergy_patient_1"), ("PATIENT", "allergy_patient_2"), ("VISIT", "allergy_drug_allergy1"),
        ("VISIT", "allergy_drug_allergy2")]


@pytest.mark.db
def test_numbers_kept_in_number_columns_of_a_wide_row_are_read_on_postgres(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # a kind of insurance and drug codes declared NUMERIC (an old schema's NUMBER): PostgreSQL has no TRIM of a
    # number, so a section's "set" test on them is IS NOT NULL alone (was: every query of theirs failed there)
    from foreign_schemas import postgres_tables
    from wide_clinic import WideClinic

    db = WideClinic("postgres", odbc=_fresh_database(request.getfixturevalue("postgres_conn_str"), "emr_wide_num",
                                                    "postgres"), patients="pt_mst", also_read=("visit",))
    conn, put = postgres_tables(db, str(db.odbc), {
        "PT_MST": "PT_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40) NOT NULL, BIRTH_DATE CHAR(8), SEX CHAR(1), "
                  "INS_TYPE NUMERIC(1), INS_NO VARCHAR(20)",
        "VISIT": "VISIT_NO INTEGER PRIMARY KEY, PT_NO VARCHAR(10) NOT NULL, VISIT_DATE CHAR(8) NOT NULL, "
                 "RX1_CODE NUMERIC(9), RX1_NAME VARCHAR(40), RX2_CODE NUMERIC(9), RX2_NAME VARCHAR(40), "
                 "BP_SYS INTEGER, BP_DIA INTEGER, TEMP NUMERIC(4,1)"})
    try:
        put("PT_MST", [(f"P{i:03d}", f"환자{i}", f"19{50 + i}0102", "MF"[i % 2], None if i % 5 == 0 else 1 + i % 2,
                        f"{i:011d}") for i in range(1, 21)])
        put("VISIT", [(v, f"P{1 + v % 20:03d}", f"202403{1 + v % 28:02d}", 645301200 + v % 3, "타이레놀정500mg",
                       None if v % 3 else 642102570, None if v % 3 else "아목시실린캡슐", 120 + v % 20, 80, None)
                      for v in range(1, 41)])
    finally:
        conn.close()
    # each section reading a visit row again counts its key, patient and date again; the coverage its patient key
    assert through_the_flow(db, tmp_path) == db.cells + 3 * (40 + 13 + 40) + 16
    bag = _bag(tmp_path)
    assert {(s, n) for s, _, n, *_ in _entities(bag)} == {
        ("patient", 20), ("encounter", 40), ("order_line_rx1", 40), ("order_line_rx2", 13),
        ("vital_signs_visit", 40), ("coverage_pt_mst", 16)}


def test_numbered_check_boxes_are_no_allergies(tmp_path: Path) -> None:
    # ALLERGY1..3 ticked Y or N (the chart's check boxes): a flag is no substance (was: an AllergyIntolerance to
    # "N" for every unticked box); ALLERGEN1..2 beside them name the substances and are the patient's allergies
    import sqlite3

    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.sources.address import SourceAddress

    path = tmp_path / "boxes.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT, ALLERGY1 TEXT,
                              ALLERGY2 TEXT, ALLERGY3 TEXT, ALLERGEN1 TEXT, ALLERGEN2 TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M', ?, ?, 'N', ?, NULL)", [
        (i, f"환자{i}", "Y" if i % 3 == 0 else "N", "N" if i % 2 else "Y", "페니실린" if i % 4 == 0 else None)
        for i in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("boxes", tmp_path / "out", SourceAddress(database=path)).folder)
    assert sorted((n, e.fields["substance"].source_column) for n, e in spec.entities.items()
                  if e.canonical == "allergy") == [("allergy_allergen1", "ALLERGEN1"), ("allergy_allergen2", "ALLERGEN2")]
