"""A Korean clinic's allergies, vaccinations, insurance history and medication list, kept the way clinic EMRs
keep them, through the IT contractor's flow (``scaffold`` → ``connector check`` → dry run → sealed ``export`` →
``verify`` → ``open``) on SQLite and PostgreSQL, every cell compared with the opened bag.

Unlike the demo and the other test clinics: allergies both as a free-text memo on the patient row ("페니실린
알레르기, 아스피린 부작용") and as a table of 약물/음식/환경 kinds with Korean severities (경증/중등/중증), "NKDA" and
"없음" rows meaning *no known allergy*, reaction years written alone ("2019"); vaccinations (예방접종) with their
차수 as written ("2차", "추가"), lot numbers, NIP codes or Korean names, sites (좌측 삼각근), some given elsewhere
(타기관 접종, recorded from the patient's word); an insurance (자격) history with 건강보험 / 의료급여 1종·2종 /
차상위 / 산재 / 자보 / 일반, card numbers, the household head's relation and open-ended validity ('99991231',
NULL); a medication list with free-text doses. A few bad values.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pypdf
import pytest

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.errors import MappingError
from emr_exporter.pipeline import fhir
from emr_exporter.reports.preview import render_preview
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource
from krcore_rules import assert_conforms
from lossless_kit import check_bag_against_source
from test_foreign_schemas import Flow, checked, exported, scaffolded

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

PATIENTS = 240
ALLERGIES = 300
VACCINATIONS = 420
INSURANCE = 360
MEDICATIONS = 260

MEMOS = ["페니실린 알레르기, 아스피린 부작용", "NKDA", "없음", None, "", "조개류 알레르기 (두드러기)", "특이사항 없음"]
KINDS = ["약물", "음식", "환경"]
SUBSTANCES = {"약물": ["페니실린", "아스피린", "세파계 항생제", "조영제", "NSAIDs"],
              "음식": ["땅콩", "새우", "우유", "복숭아"], "환경": ["집먼지진드기", "꽃가루", "고양이털"]}
SEVERITIES = ["경증", "중등", "중증", None]
VACCINES = [("HepB", "B형간염"), ("DTaP", "디프테리아/파상풍/백일해"), ("IPV", "폴리오"), ("MMR", "홍역/유행성이하선염/풍진"),
            ("Flu", "인플루엔자"), (None, "대상포진"), (None, "폐렴구균(PPSV23)")]
DOSES = ["1차", "2차", "3차", "추가", None, "4차", "2"]
SITES = ["좌측 삼각근", "우측 삼각근", "좌측 대퇴부", None]
PAYERS = ["건강보험", "의료급여 1종", "의료급여 2종", "차상위", "산재", "자보", "일반"]
RELATIONS = ["본인", "배우자", "자녀", "부모"]
DOSAGES = ["1정 1일 2회 아침저녁 식후", "0.5T qd", "필요시 1포", "1일 1회 취침 전 1캡슐", "인슐린 10단위 아침"]


def _rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, deterministic, with a few bad values planted."""
    patients = [(f"{i:08d}", f"환자{i}", "MF"[i % 2], f"19{40 + i % 60:02d}{i % 12 + 1:02d}{i % 28 + 1:02d}",
                 MEMOS[i % len(MEMOS)]) for i in range(1, PATIENTS + 1)]
    allergies = []
    for i in range(1, ALLERGIES + 1):
        kind = KINDS[i % 3]
        substance = SUBSTANCES[kind][i % len(SUBSTANCES[kind])]
        if i % 25 == 0:
            substance = "NKDA" if i % 50 else "없음"
        year = str(2005 + i % 19) if i % 4 else None
        allergies.append((i, f"{i % PATIENTS + 1:08d}", kind, substance, SEVERITIES[i % 4],
                          "두드러기" if i % 3 else "호흡곤란", year, f"2023{i % 12 + 1:02d}{i % 28 + 1:02d}"))
    allergies[6] = (*allergies[6][:6], "19년경", allergies[6][7])  # a bad year
    vaccinations = []
    for i in range(1, VACCINATIONS + 1):
        code, name = VACCINES[i % len(VACCINES)]
        elsewhere = "Y" if i % 9 == 0 else "N"
        vaccinations.append((i, f"{i % PATIENTS + 1:08d}", f"2024{i % 12 + 1:02d}{i % 28 + 1:02d}", code, name,
                             DOSES[i % len(DOSES)], f"LOT{i:05d}" if elsewhere == "N" else None,
                             SITES[i % len(SITES)], elsewhere, "보건소" if elsewhere == "Y" else None))
    insurance = []
    for i in range(1, INSURANCE + 1):
        patient = f"{(i - 1) // 3 % PATIENTS + 1:08d}"  # a history: three periods per patient
        period = (i - 1) % 3
        start = f"{2015 + period * 3}0101"
        end = f"{2017 + period * 3}1231" if period < 2 else ("99991231" if i % 2 else None)
        insurance.append((i, patient, PAYERS[i % len(PAYERS)], f"{5_0000_0000 + i}", f"세대주{i // 3}",
                          RELATIONS[i % 4], start, end))
    medications = [(i, f"{i % PATIENTS + 1:08d}", ["아모디핀정 5mg", "메트포르민 500mg", "아스피린프로텍트정",
                                                   "로수바스타틴", "타 병원 처방약(이름 모름)"][i % 5],
                    DOSAGES[i % len(DOSAGES)], f"20{10 + i % 14:02d}0{i % 9 + 1}01", ["Y", "N", None][i % 3])
                   for i in range(1, MEDICATIONS + 1)]
    return {"PATIENT": patients, "ALLERGY": allergies, "VACCINATION": vaccinations, "INS_HIST": insurance,
            "MED_HIST": medications}


TEXT_DDL = {
    "PATIENT": "PT_NO VARCHAR(8) PRIMARY KEY, PT_NM VARCHAR(40), SEX CHAR(1), BIRTH_YMD CHAR(8), ALLERGY_MEMO TEXT",
    "ALLERGY": ("ALG_SEQ INTEGER PRIMARY KEY, PT_NO VARCHAR(8), ALG_GB VARCHAR(10), ALG_NM VARCHAR(100), "
                "SEVERITY VARCHAR(10), REACTION VARCHAR(100), ONSET_YEAR VARCHAR(10), REG_YMD CHAR(8)"),
    "VACCINATION": ("VAC_SEQ INTEGER PRIMARY KEY, PT_NO VARCHAR(8), VAC_YMD CHAR(8), VAC_CD VARCHAR(10), "
                    "VAC_NM VARCHAR(100), CHASU VARCHAR(10), LOT_NO VARCHAR(20), SITE VARCHAR(40), "
                    "OTHER_INST_YN CHAR(1), OTHER_INST_NM VARCHAR(100)"),
    "INS_HIST": ("INS_SEQ INTEGER PRIMARY KEY, PT_NO VARCHAR(8), INS_GB VARCHAR(20), CARD_NO VARCHAR(20), "
                 "SEDAEJU_NM VARCHAR(40), SEDAEJU_REL VARCHAR(10), FROM_YMD CHAR(8), TO_YMD CHAR(8)"),
    "MED_HIST": ("MED_SEQ INTEGER PRIMARY KEY, PT_NO VARCHAR(8), DRUG_NM VARCHAR(100), DOSAGE VARCHAR(100), "
                 "START_YMD CHAR(8), TAKING_YN CHAR(1)"),
}
#: PostgreSQL: dates as DATE (the open end as 9999-12-31), the onset year as a number.
TYPED_DDL = {**TEXT_DDL,
             "ALLERGY": TEXT_DDL["ALLERGY"].replace("ONSET_YEAR VARCHAR(10)", "ONSET_YEAR INTEGER"),
             "VACCINATION": TEXT_DDL["VACCINATION"].replace("VAC_YMD CHAR(8)", "VAC_YMD DATE"),
             "INS_HIST": TEXT_DDL["INS_HIST"].replace("FROM_YMD CHAR(8), TO_YMD CHAR(8)", "FROM_YMD DATE, TO_YMD DATE")}
_DATES = {"VACCINATION": (2,), "INS_HIST": (6, 7)}


def _typed(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = list(row)
    for i in _DATES.get(table, ()):
        out[i] = out[i] and dt.datetime.strptime(out[i], "%Y%m%d").date()
    if table == "ALLERGY":
        out[6] = int(out[6]) if out[6] and out[6].isdigit() else None  # the bad year is no number here
    return tuple(out)


def build_sqlite(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    rows = _rows()
    for table, columns in TEXT_DDL.items():
        conn.execute(f"CREATE TABLE {table} ({columns})")
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[table][0]))})", rows[table])
    conn.commit()
    conn.close()
    return {table: len(r) for table, r in rows.items()}


def build_postgres(conn_str: str) -> str:
    import pyodbc

    target = _fresh_database(conn_str, "emr_allergy_vax", "postgresql")
    conn = pyodbc.connect(target, autocommit=True)
    rows = _rows()
    for table, columns in TYPED_DDL.items():
        conn.execute(f"CREATE TABLE {table} ({columns})")
        cursor = conn.cursor()
        cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[table][0]))})",
                           [_typed(table, r) for r in rows[table]])
    conn.close()
    return target


def _lines(bag: Path, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/{prefix}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _by_key(bag: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    """The resources of a type by the source key their secondary identifier names."""
    return {next(i["value"] for i in r["identifier"] if i.get("use") == "secondary"): r
            for r in _lines(bag, f"fhir/{resource_type}")}


# --- the FHIR of each record ------------------------------------------------------------------------------

INSTITUTION = model.Institution(code="12345678", name="햇살의원")
PATIENT_ID = model.record_id("t", "PATIENT", "1")


def _one(record: Any) -> dict[str, Any]:
    (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
    assert_conforms(resource)
    return resource


def _allergy(substance: str, **kw: Any) -> dict[str, Any]:
    return _one(model.Allergy(id="a", provenance=model.Provenance("t", "ALLERGY", "1"), patient_id=PATIENT_ID,
                              substance=substance, **kw))


def test_no_known_allergy_is_coded_as_fhir_records_it_not_as_an_allergy_to_nkda() -> None:
    # Before: code {"text": "NKDA"} / {"text": "없음"}, no coding: an allergy *to* "NKDA", or to "없음".
    snomed = fhir.SNOMED_SYSTEM
    for text, code, display in (("NKDA", "409137002", "No known drug allergy"),
                                ("없음", "716186003", "No known allergy"),
                                ("No known allergies.", "716186003", "No known allergy"),
                                ("알레르기 없음", "716186003", "No known allergy"),
                                ("nkfa", "429625007", "No known food allergy")):
        resource = _allergy(text)
        assert resource["code"] == {"coding": [{"system": snomed, "code": code, "display": display}], "text": text}
        # KR Core narrows code to the causative substance (원인물질만): a statement of absence claims no profile
        assert "profile" not in resource["meta"]
    # a substance is no statement of absence; a recorded code is the clinic's, kept as it is
    assert _allergy("페니실린")["code"] == {"text": "페니실린"}
    assert _allergy("무")["code"] == {"text": "무"}  # a radish, or "none": not guessed
    assert _allergy("없음", substance_code="X1")["code"]["coding"][0]["code"] == "X1"


def _immunization(**kw: Any) -> dict[str, Any]:
    return _one(model.Immunization(id="i", provenance=model.Provenance("t", "VACCINATION", "1"),
                                   patient_id=PATIENT_ID, occurred=dt.date(2024, 3, 2), **kw))


def test_the_dose_number_is_written_as_recorded() -> None:
    # Before: dose_number was an int: "2차" and "추가" were 'invalid-number' field defects (no protocolApplied).
    assert _immunization(vaccine_name="B형간염", dose_number="2차")["protocolApplied"] == [
        {"doseNumberString": "2차"}]
    assert _immunization(vaccine_name="B형간염", dose_number="추가")["protocolApplied"] == [
        {"doseNumberString": "추가"}]
    assert _immunization(vaccine_name="B형간염", dose_number="2")["protocolApplied"] == [
        {"doseNumberPositiveInt": 2}]
    assert _immunization(vaccine_name="B형간염", dose_number="02")["protocolApplied"] == [
        {"doseNumberString": "02"}]  # as written: 2 would not give "02" back
    assert _immunization(vaccine_name="B형간염", dose_number=3)["protocolApplied"] == [{"doseNumberPositiveInt": 3}]
    # KR Core fixes doseNumber to positiveInt: a 차수 in words claims no KR Core profile
    kdca = {"vaccine_code": "HepB", "vaccine_system": "kdca", "vaccine_name": "B형간염"}
    assert "profile" not in _immunization(**kdca, dose_number="추가")["meta"]
    assert _immunization(**kdca, dose_number="3")["meta"]["profile"] == [fhir.PROFILE_IMMUNIZATION]
    with pytest.raises(MappingError, match="dose_number: must be 1 or more"):
        _immunization(vaccine_name="B형간염", dose_number=0)
    with pytest.raises(MappingError, match="dose_number: is neither a whole number nor text; leave out its type"):
        _immunization(vaccine_name="B형간염", dose_number=dt.date(2024, 1, 2))  # type: ignore[arg-type]


def test_a_vaccination_given_elsewhere_is_no_primary_source() -> None:
    # Before: primarySource was always true, also for 타기관 접종 written down from the patient's word.
    given_here = _immunization(vaccine_name="인플루엔자")
    assert given_here["primarySource"] is True and "reportOrigin" not in given_here
    elsewhere = _immunization(vaccine_name="인플루엔자", report_origin="보건소")
    assert (elsewhere["primarySource"], elsewhere["reportOrigin"]) == (False, {"text": "보건소"})
    told = _immunization(vaccine_name="인플루엔자", primary_source=False)
    assert told["primarySource"] is False and "reportOrigin" not in told
    with pytest.raises(MappingError, match="report_origin: is recorded for a vaccination the clinic's own record"):
        _immunization(vaccine_name="인플루엔자", primary_source=True, report_origin="보건소")


def test_the_household_head_is_named_as_the_subscriber_not_given_as_an_id() -> None:
    # Before: "subscriberId": "홍길동": a name where FHIR wants the payer's identifier of the subscriber.
    resource = _one(model.Coverage(id="c", provenance=model.Provenance("t", "INS_HIST", "1"), patient_id=PATIENT_ID,
                                   payer_type="건강보험", subscriber_name="홍길동", relationship="spouse"))
    assert resource["subscriber"] == {"display": "홍길동"} and "subscriberId" not in resource


def test_a_year_alone_is_a_year_not_the_first_of_january() -> None:
    # Before: ONSET_YEAR "2019" read with format "%Y" was onsetDateTime "2019-01-01", a day nobody recorded.
    year, month = model.PartialDate(2019), model.PartialDate(2019, 3, "month")
    assert (year.isoformat(), month.isoformat(), fhir.fhir_date(year), fhir.fhir_datetime(month)) == (
        "2019", "2019-03", "2019", "2019-03")
    assert year == dt.date(2019, 1, 1) and year + dt.timedelta(days=1) == dt.date(2019, 1, 2)
    assert _allergy("땅콩", onset=year)["onsetDateTime"] == "2019"


# --- the contractor's flow ---------------------------------------------------------------------------

def _finish(flow: Flow) -> None:
    """What the contractor adds to the scaffold's connector: the onset year (no date shape the scaffold knows)."""
    toml = flow.connectors / "foreign" / "connector.toml"
    text = toml.read_text(encoding="utf-8")
    anchor = "\n[entities.immunization]"
    assert "[entities.allergy.fields]" in text and anchor in text
    added = """
onset = { column = "ONSET_YEAR", type = "date", format = "%Y" }
"""
    if 'column = "pt_no"' in text:  # PostgreSQL: the names as the server folded them
        added = added.replace('"ONSET_YEAR"', '"onset_year"')
    text = text.replace(anchor, added + anchor, 1)
    toml.write_text(text, encoding="utf-8")


def _assert_clinic(bag: Path, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    allergies = _by_key(bag, "AllergyIntolerance")
    assert len(allergies) == ALLERGIES
    for key, _pt, gb, substance, sev, _re, year, _reg in rows["ALLERGY"]:
        resource = allergies[str(key)]
        assert resource["code"]["text"] == substance
        assert resource["category"] == [{"약물": "medication", "음식": "food", "환경": "environment"}[gb]]
        assert resource.get("reaction", [{}])[0].get("severity") == {
            "경증": "mild", "중등": "moderate", "중증": "severe", None: None}[sev]
        codes = [c["code"] for c in resource["code"].get("coding", [])]
        assert codes == ({"NKDA": ["409137002"], "없음": ["716186003"]}.get(substance, [])), (key, substance)
        # the year alone, as recorded ("19년경" is a field defect, kept raw)
        expected = year if year and year.isdigit() else None
        assert resource.get("onsetDateTime") == expected, key
    immunizations = _by_key(bag, "Immunization")
    assert len(immunizations) == VACCINATIONS
    for key, _pt, _ymd, _cd, _nm, chasu, lot, site, _yn, elsewhere in rows["VACCINATION"]:
        resource = immunizations[str(key)]
        dose = None if chasu is None else (
            {"doseNumberPositiveInt": int(chasu)} if chasu.isdigit() else {"doseNumberString": chasu})
        assert resource.get("protocolApplied") == ([dose] if dose else None), key
        assert resource["primarySource"] is (elsewhere is None), key
        assert resource.get("reportOrigin") == ({"text": elsewhere} if elsewhere else None)
        assert (resource.get("lotNumber"), resource.get("site")) == (lot, {"text": site} if site else None)
    coverages = _by_key(bag, "Coverage")
    assert len(coverages) == INSURANCE
    for key, _pt, payer, card, head, _rel, start, end in rows["INS_HIST"]:
        resource = coverages[str(key)]
        assert resource["subscriber"] == {"display": head} and "subscriberId" not in resource
        assert resource["type"]["text"] == payer and resource["identifier"][0]["value"] == card
        # the open end 99991231 is no end (sentinel-date, carried raw): an open period, never one ending in 9999
        iso = [f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in (start, end) if d and d != "99991231"]
        assert resource["period"] == dict(zip(("start", "end"), iso, strict=False)), key
    # the medication list is MedicationStatements, not this clinic's orders
    statements = _by_key(bag, "MedicationStatement")
    assert {k: (r["medicationCodeableConcept"]["text"], r["dosage"]) for k, r in statements.items()} == {
        str(key): (name, [{"text": dosage}]) for key, _pt, name, dosage, _start, _yn in rows["MED_HIST"]}
    assert not list(bag.glob("data/fhir/MedicationRequest.*")) and not list(bag.glob("data/fhir/ServiceRequest.*"))


def _the_flow(db: Any, tmp_path: Path, allergy_defects: dict[str, int]) -> tuple[Flow, Path]:
    flow = scaffolded(db, tmp_path)
    spec = load_spec(flow.connectors / "foreign")
    # Before: MED_HIST (DRUG_NM, DOSAGE, START_YMD) was guessed as order_line: MedicationRequests and
    # ServiceRequests this clinic never ordered; medication_statement was left commented out.
    assert {name: entity.table.upper() for name, entity in spec.entities.items()} == {
        "patient": "PATIENT", "allergy": "ALLERGY", "immunization": "VACCINATION", "coverage": "INS_HIST",
        "medication_statement": "MED_HIST"}
    # the 차수 as text, the 타기관 as the report's origin (before: CHASU unmapped, "2차" being no whole number)
    fields = spec.entities["immunization"].fields
    assert (fields["dose_number"].column.upper(), fields["report_origin"].column.upper()) == (
        "CHASU", "OTHER_INST_NM")
    # the allergy's kind and severity in the Korean words every clinic screen uses (before: left unmapped)
    allergy = spec.entities["allergy"].fields
    assert (allergy["category"].column.upper(), allergy["severity"].column.upper()) == ("ALG_GB", "SEVERITY")
    assert {k: allergy["category"].map[k] for k in KINDS} == {  # type: ignore[index]
        "약물": "medication", "음식": "food", "환경": "environment"}
    assert {k: allergy["severity"].map[k] for k in ("경증", "중등", "중증")} == {  # type: ignore[index]
        "경증": "mild", "중등": "moderate", "중증": "severe"}
    _finish(flow)
    check = checked(flow)
    outcome = {e["entity"]: (e["exported"], e["quarantined"], e["field_defects"])
               for e in check["reconciliation"]["entities"]}
    assert outcome == {"patient": (PATIENTS, 0, {}), "allergy": (ALLERGIES, 0, allergy_defects),
                       "immunization": (VACCINATIONS, 0, {}),
                       "coverage": (INSURANCE, 0, {"sentinel-date": INSURANCE // 6}),
                       "medication_statement": (MEDICATIONS, 0, {})}, outcome
    _dry, _sealed, bag = exported(flow, tmp_path)
    return flow, bag


def test_an_allergy_and_vaccination_clinic_on_sqlite_goes_through_the_whole_flow(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    build_sqlite(db)
    flow, bag = _the_flow(type("Db", (), {"path": db})(), tmp_path, {"invalid-date": 1})  # "19년경"
    _assert_clinic(bag, _rows())
    rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), SqliteFileSource(db))
    assert sum(rebuilt.rows.values()) == PATIENTS + ALLERGIES + VACCINATIONS + INSURANCE + MEDICATIONS
    # the founder's 진료기록부 사본 names the 차수 and a vaccination given elsewhere (before: neither)
    data, _count = render_preview(bag, "00000010", "medical-record-copy")
    text = "".join("".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages).split())
    for _key, patient, ymd, _cd, name, chasu, lot, _site, _yn, elsewhere in _rows()["VACCINATION"]:
        if patient == "00000010":
            line = f"{ymd[:4]}-{ymd[4:6]}-{ymd[6:]}{name}접종" + (f"로트{lot}" if lot else "") + (
                f"{int(chasu)}차" if chasu and chasu.isdigit() else chasu or "") + (
                f"(타기관접종:{elsewhere})" if elsewhere else "")
            assert line in text, line


@pytest.mark.db
def test_an_allergy_and_vaccination_clinic_on_postgresql_goes_through_the_whole_flow(
        tmp_path: Path, postgres_conn_str: str) -> None:
    target = build_postgres(postgres_conn_str)
    flow, bag = _the_flow(type("Db", (), {"path": None, "odbc": target})(), tmp_path, {})  # years as numbers
    _assert_clinic(bag, _rows())
    source = OdbcSource(target)
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert sum(rebuilt.rows.values()) == PATIENTS + ALLERGIES + VACCINATIONS + INSURANCE + MEDICATIONS
