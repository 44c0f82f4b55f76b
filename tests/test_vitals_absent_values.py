"""Vital signs recorded as no number ('측정 안 함', '거부', '>200', 0) and measurements entered outside any visit, on a
Korean clinic's MariaDB through the IT contractor's CLI flow (``scaffold`` → ``connector check`` → dry run → sealed
``export`` → ``verify`` → ``open``, which checks every FHIR line against the structure models), every cell found
again from the opened bag (``db``: fails, never skips, when the server is down).

The clinic keeps its vital signs twice: ``바이탈``, one row per measurement (항목코드 of ``바이탈항목`` + 결과값 as
text, 단위; the patient *and* the visit, the visit NULL for a measurement taken outside one), and ``활력징후``, one row
per visit with a column per measurement (혈압 '120/80', 맥박, 체온, 체중 as text).

Before: a measurement that was no number left its set with no measurement, and ``to_fhir`` refused the set: the row
was quarantined whole (``unmappable``) and the founder's chart lacked that visit's vital record. Now the set is an
Observation with ``dataAbsentReason`` (FHIR R4 vital signs vs-2/vs-3), the text as recorded in its ``text``, the cell
carried raw with its reason (``invalid-number``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from emr_exporter.connectors.spec import load_spec

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from foreign_schemas import ForeignDb, _fresh_database

from krcore_rules import check_profiles
from lossless_kit import check_bag_against_server, lines
from test_foreign_schemas import checked, exported, scaffolded

pytestmark = pytest.mark.db

PATIENTS = 20
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: 바이탈's items: code → (name, the value every patient has, unit)
ITEMS = {"V01": ("체중", "70.5", "kg"), "V02": ("맥박", "72", "회/분"), "V03": ("혈압", "120/80", "mmHg"),
         "V04": ("체온", "36.5", "℃")}
#: (patient, item) → the value 바이탈 holds instead (None: NULL)
PLANTED = {(1, "V01"): "측정 안 함", (2, "V02"): "거부", (3, "V04"): "0", (4, "V03"): "측정불가", (5, "V02"): ">200",
           (7, "V04"): None}
#: the weight of patient 6 taken outside any visit (내원번호 NULL): 측정번호
NO_VISIT = 1000
#: 활력징후 (one row a visit): patient → (혈압, 맥박, 체온, 체중) where it is not ('118/76', '70', '36.6', '60.1')
COLUMNS_PLANTED = {8: ("118/76", "측정불가", "36.6", "60.1"), 9: (None, "거부", None, None)}


def create_clinic(conn_str: str) -> ForeignDb:
    import pyodbc

    target = _fresh_database(conn_str, "emr_vitals_absent", "mariadb")
    db = ForeignDb("mariadb", odbc=target, patients="환자", also_read=("내원", "바이탈", "활력징후"))
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    c.execute("CREATE TABLE `환자` (`환자번호` INT PRIMARY KEY, `차트번호` VARCHAR(10), `환자명` VARCHAR(20), "
              "`생년월일` DATE, `성별` CHAR(1)) DEFAULT CHARSET=utf8mb4")
    c.executemany("INSERT INTO `환자` VALUES (?, ?, ?, ?, ?)", [
        (p, f"{p:06d}", f"환자{p}", dt.date(1960 + p, 1 + p % 12, 1 + p % 28), "MF"[p % 2]) for p in range(1, PATIENTS + 1)])
    db.table("환자", 5, PATIENTS)
    c.execute("CREATE TABLE `내원` (`내원번호` INT PRIMARY KEY, `환자번호` INT, `내원일시` DATETIME, "
              "`진료과` VARCHAR(10)) DEFAULT CHARSET=utf8mb4")
    c.executemany("INSERT INTO `내원` VALUES (?, ?, ?, '내과')", [
        (p, p, dt.datetime(2024, 3, p, 9, 30)) for p in range(1, PATIENTS + 1)])
    db.table("내원", 4, PATIENTS)
    c.execute("CREATE TABLE `바이탈항목` (`항목코드` VARCHAR(5) PRIMARY KEY, `항목명` VARCHAR(20)) DEFAULT CHARSET=utf8mb4")
    c.executemany("INSERT INTO `바이탈항목` VALUES (?, ?)", [(code, name) for code, (name, _, _) in ITEMS.items()])
    db.table("바이탈항목", 2, len(ITEMS))
    c.execute("CREATE TABLE `바이탈` (`측정번호` INT PRIMARY KEY, `환자번호` INT, `내원번호` INT NULL, "
              "`측정일시` DATETIME, `항목코드` VARCHAR(5), `결과값` VARCHAR(20), `단위` VARCHAR(10)) DEFAULT CHARSET=utf8mb4")
    rows = [(10 * p + n, p, p, dt.datetime(2024, 3, p, 9, 40), code, PLANTED.get((p, code), value), unit)
            for p in range(1, PATIENTS + 1) for n, (code, (_, value, unit)) in enumerate(ITEMS.items())]
    rows.append((NO_VISIT, 6, None, dt.datetime(2024, 4, 1, 10, 0), "V01", "65.2", "kg"))
    c.executemany("INSERT INTO `바이탈` VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.table("바이탈", 7, len(rows))
    c.execute("CREATE TABLE `활력징후` (vs_seq INT PRIMARY KEY, `환자번호` INT, `내원번호` INT, `측정일시` DATETIME, "
              "`혈압` VARCHAR(10), `맥박` VARCHAR(10), `체온` VARCHAR(10), `체중` VARCHAR(10)) DEFAULT CHARSET=utf8mb4")
    c.executemany("INSERT INTO `활력징후` VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (p, p, p, dt.datetime(2024, 3, p, 9, 35), *COLUMNS_PLANTED.get(p, ("118/76", "70", "36.6", "60.1")))
        for p in range(1, PATIENTS + 1)])
    db.table("활력징후", 8, PATIENTS)
    conn.close()
    return db


def _observations(bag: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob("data/fhir/Observation.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _absent(part: dict[str, Any]) -> tuple[str, str | None]:
    reason = part["dataAbsentReason"]
    [coding] = reason["coding"]
    assert coding["system"] == DAR and "valueQuantity" not in part
    return coding["code"], reason.get("text")


def test_a_vital_recorded_as_no_number_is_an_observation_saying_why_and_a_measurement_without_a_visit_keeps_its_patient(
        tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic = create_clinic(mariadb_conn_str)
    flow = scaffolded(clinic, tmp_path)
    spec = load_spec(flow.connectors / "foreign")
    eav = {name: e for name, e in spec.entities.items() if e.table == "바이탈"}
    assert sorted(eav) == ["vital_eav_bp", "vital_eav_other", "vital_eav_pulse", "vital_eav_temperature",
                           "vital_eav_weight"]
    # the row's own patient (환자번호) and its visit (내원번호, optional): a measurement with no visit keeps its patient
    weight = eav["vital_eav_weight"]
    assert (weight.fields["patient_id"].source_column, weight.fields["patient_id"].ref,
            weight.fields["encounter_id"].source_column, weight.fields["encounter_id"].required) == (
        "환자번호", "patient", "내원번호", False)
    [columns] = [e for e in spec.entities.values() if e.table == "활력징후"]
    check = checked(flow)
    # no row quarantined: the temperature with no value at all (NULL) is its Observation saying the value is unknown
    # (was: the only row quarantined, unmappable)
    assert check["defects"] == []
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"]
        # 7 cells no number (측정 안 함, 거부, 0, 측정불가, >200 in 바이탈; 측정불가 and 거부 in 활력징후): each carried raw
        # with its reason
        assert outcome["field_defects"] == {"invalid-number": 7}
        assert {e["entity"]: (e["source_rows"], e["exported"], e["quarantined"]) for e in outcome["entities"]
                if e["table"] in ("바이탈", "활력징후")} == {
            "vital_eav_weight": (21, 21, 0), "vital_eav_pulse": (20, 20, 0), "vital_eav_bp": (20, 20, 0),
            "vital_eav_temperature": (20, 20, 0), columns.name: (20, 20, 0)}
    observations = _observations(bag)
    for observation in observations:  # every vital sign, absent or not, within the KR Core profile it claims
        assert check_profiles(observation) == [], observation["id"]
    sidecar = {line["id"]: line for name in ("vital_eav_weight", "vital_eav_pulse", "vital_eav_bp",
                                             "vital_eav_temperature", columns.name)
               for line in lines(bag, f"raw/columns/{name}")}

    # the unit written beside a value that is no number: carried raw (no quantity holds it); the first weight row is
    # such a one, and every later row's unit is still found in its Observation (a resource with no value is a shape
    # of its own: cells.ABSENT_MARK; was: every weight row's unit carried as transformed)
    assert {line["key"]: line["transformed"] for name in ("vital_eav_weight", "vital_eav_pulse")
            for line in lines(bag, f"raw/columns/{name}") if "transformed" in line} == {
        "10": ["단위"], "21": ["단위"], "51": ["단위"]}

    def by_key(table: str, key: int) -> list[dict[str, Any]]:
        return [o for o in observations
                if o["identifier"][0]["system"].endswith(quote(table)) and o["identifier"][0]["value"] == str(key)]

    # 바이탈: each measurement that is no number, an Observation of its kind saying why (the words it was recorded in)
    found = {}
    for (patient, code), _ in PLANTED.items():
        if patient == 7:
            continue
        [observation] = by_key("바이탈", 10 * patient + list(ITEMS).index(code))
        part = observation["component"][0] if code == "V03" else observation
        found[patient] = (observation["code"]["coding"][0]["code"], *_absent(part))
        assert observation["encounter"]["reference"].startswith("Encounter/")
        columns_line = sidecar[observation["id"].rsplit("-", 1)[0]]
        assert [d["reason_code"] for d in columns_line["field_defects"]] == ["invalid-number"]
    assert found == {1: ("29463-7", "not-performed", "측정 안 함"), 2: ("8867-4", "asked-declined", "거부"),
                     3: ("8310-5", "unknown", "0"), 4: ("85354-9", "not-performed", "측정불가"),
                     5: ("8867-4", "unknown", ">200")}
    # the temperature recorded NULL: its Observation, no value, unknown and no text (NULL says nothing of why); its
    # cells found again below like every other (no field defect: it broke no rule)
    [blank] = by_key("바이탈", 10 * 7 + list(ITEMS).index("V04"))
    assert (blank["code"]["coding"][0]["code"], _absent(blank), "valueQuantity" in blank) == (
        "8310-5", ("unknown", None), False)
    assert "field_defects" not in sidecar[blank["id"].rsplit("-", 1)[0]]
    # the weight taken outside any visit: its patient's, no encounter (was: quarantined where the patient came
    # from the visit)
    [alone] = by_key("바이탈", NO_VISIT)
    assert ("encounter" in alone, alone["valueQuantity"]["value"], alone["subject"]) == (
        False, 65.2, by_key("바이탈", 60)[0]["subject"])
    # 활력징후: the row with one broken measurement keeps the others, and the broken one is its Observation saying why
    # (the pulse's cell carried raw with its reason; was: no Observation made of it); the row whose only measurement
    # is '거부' is a pulse Observation saying so, its NULL blood pressure, temperature and weight none
    assert sorted(o["code"]["coding"][0]["code"] for o in by_key("활력징후", 8)) == [
        "29463-7", "8310-5", "85354-9", "8867-4"]
    [pulse] = [o for o in by_key("활력징후", 8) if o["id"].endswith("-pulse")]
    assert _absent(pulse) == ("not-performed", "측정불가")
    assert [(d["field"], d["reason_code"]) for d in sidecar[by_key("활력징후", 8)[0]["id"].rsplit("-", 1)[0]][
        "field_defects"]] == [("pulse", "invalid-number")]
    [declined] = by_key("활력징후", 9)
    assert (declined["code"]["coding"][0]["code"], _absent(declined)) == ("8867-4", ("asked-declined", "거부"))
    assert clinic.odbc is not None
    rebuilt = check_bag_against_server(bag, flow.connectors / "foreign", clinic.odbc)
    # every cell of every table found again: in a resource, carried raw with its reason, or in a quarantined row
    assert (rebuilt.rows["바이탈"], rebuilt.rows["활력징후"]) == (4 * PATIENTS + 1, PATIENTS)
    assert rebuilt.mapped_cells + rebuilt.carried_cells + rebuilt.quarantined_cells == clinic.cells == sealed[
        "reconciliation"]["cells"]["source"]
