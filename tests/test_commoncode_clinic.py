"""A clinic whose every code is looked up in one common-code table (공통코드 ``TB_COMM_CD (GRP_CD, CD, CD_NM)``), with
drug and fee-item masters, UPPER_SNAKE abbreviations, CHAR(8) dates, audit columns and soft deletes
(tests/connectors/commoncode_clinic.py), the same rows on PostgreSQL and on MariaDB, through the contractor's whole
flow over the real ODBC drivers with the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run →
sealed ``export`` → ``verify`` → ``open``; every row of every table rebuilt from the opened bag and compared with the
server's cell by cell (tests/lossless_kit.py). What the scaffold maps and carries is pinned per table, and the values
the common-code table and the masters give the records (``db``: fails, never skips, when a server is down).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from commoncode_clinic import COMMON, DDL, DRUGS, SUGA, create_commoncode_clinic

from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the cells the sections' queries join in (the reconciliation counts them as read): a doctor's and a visit's
#: department name (4 + 160); a diagnosis's patient and date (for its KCD edition) through its visit (2 × 192); an
#: order's name and EDI code from its master, its route's name and its patient (4 × 338); a receipt's patient (155)
JOINED = 4 + 160 + 2 * 192 + 4 * 338 + 155


def _bag(tmp_path: Path) -> Path:
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    return bag


def _resources(bag: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Source key → the resource (its first source identifier)."""
    found = [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
             for line in path.read_bytes().splitlines()]
    return {next(i["value"] for i in r["identifier"] if i["system"].startswith("urn:emr-exporter:source")): r
            for r in found}


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_common_code_clinic_comes_back_cell_for_cell(engine: str, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    clinic = create_commoncode_clinic(conn_str, engine)
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells
    bag = _bag(tmp_path)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    read = {"tb_ptnt": ("patient",), "tb_dr": ("practitioner",), "tb_vst": ("encounter",),
            "tb_diag": ("diagnosis",), "tb_ord": ("order_line",), "tb_rcpt": ("receipt",)}
    # the common-code table and the masters are read by the sections' sub-queries and carried whole as well; the
    # admissions (TB_ADM, a second table of visits) are left carried
    assert {t["name"].lower(): tuple(t["entities"]) if t.get("entities") else t["fate"] for t in inventory} == {
        t.lower(): read.get(t.lower(), "carried") for t in DDL}
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # the visit dated '00000000' quarantined (invalid-date), with its diagnosis, its 2 orders (and the order of a
    # visit nobody has) and its receipt as orphans; the order number written twice (no key constraint) is two orders
    assert {(e["entity"], e["source_rows"], e["exported"], e["quarantined"]) for e in report["entities"]} == {
        ("practitioner", 4, 4, 0), ("patient", 40, 40, 0), ("encounter", 160, 159, 1), ("diagnosis", 192, 191, 1),
        ("order_line", 338, 336, 2), ("receipt", 155, 154, 1)}
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    entities = spec["entities"]
    # the visit's kind: its codes O/I/E are VST_TP's, whose names 외래/입원/응급 say what they are (was: no kind,
    # every admission an outpatient visit); sex's 1/2 the built-in map reads already
    assert entities["encounter"]["fields"]["kind"] == {
        "column": "vst_tp_cd" if engine == "postgresql" else "VST_TP_CD", "type": "code",
        "map": {"E": "outpatient", "I": "inpatient", "O": "outpatient"}}
    # no key constraint and ORD_NO repeated: ORD_NO with ORD_CD (was: no key, the orders left unmapped)
    assert [k.upper() for k in entities["order_line"]["key"]] == ["ORD_NO", "ORD_CD"]
    patients = _resources(bag, "Patient")
    assert len(patients) == 40
    for no, (name, birth, sex) in clinic.people.items():
        found = patients[no]
        assert (found["name"][0]["text"], found["gender"]) == (name, {"1": "male", "2": "female"}[sex])
        # BRTH_DT CHAR(8) read (was: unmapped); '20230230' a field defect: the patient kept, no birth date
        assert found.get("birthDate") == (None if birth == "20230230" else f"{birth[:4]}-{birth[4:6]}-{birth[6:]}")
    assert [k for k, p in patients.items() if not p["active"]] == [clinic.dirty["deleted_patient"]]
    encounters = _resources(bag, "Encounter")
    names = {cd: name for (grp, cd), (name, _) in COMMON.items() if grp == "DEPT"}
    # VST_STAT_CD's codes named 접수/진료중/완료/취소 in group VST_STAT read as the status (was: carried raw, every
    # visit 'finished', the cancelled ones too), a row DEL_YN 'Y' entered-in-error whatever its status
    said = {"10": "arrived", "20": "in-progress", "30": "finished", "90": "cancelled"}
    for no, (ptnt, day, time, kind, dept, stat, deleted) in clinic.visits.items():
        if day == "00000000":
            assert str(no) not in encounters
            continue
        found = encounters[str(no)]
        start = dt.datetime.strptime(day + time, "%Y%m%d%H%M%S").isoformat()
        assert found["period"]["start"].startswith(start), (no, found["period"])  # VST_DT with VST_TM beside it
        assert found["subject"]["reference"] == f"Patient/{patients[ptnt]['id']}"
        assert found["class"]["code"] == ("IMP" if kind == "I" else "AMB")
        # the department's name from group DEPT (IM is 내과 there, 근육주사 in ROUTE); '99', a code no row has: none
        departments = [t.get("text") for t in found.get("serviceType", {}).get("coding", [])] + [
            found.get("serviceType", {}).get("text")]
        assert (names.get(dept) in departments) if dept in names else not found.get("serviceType"), (no, found)
        assert found["status"] == ("entered-in-error" if deleted == "Y" else said[stat]), (no, stat, deleted)
    quarantined_visit = clinic.dirty["zero_visit_date"]
    conditions = _resources(bag, "Condition")
    assert len(conditions) == 191
    for no, (visit, code, name) in clinic.diagnoses.items():
        if visit == quarantined_visit:
            assert str(no) not in conditions
            continue
        found = conditions[str(no)]
        # the KCD code as written, the name where the row has one; the patient and the date through the visit
        assert (found["code"]["coding"][0]["code"], found["code"].get("text")) == (code, name), found
        assert found["subject"]["reference"] == f"Patient/{patients[clinic.visits[visit][0]]['id']}"
        assert found["encounter"]["reference"] == f"Encounter/{encounters[str(visit)]['id']}"
        assert found["recordedDate"] == dt.datetime.strptime(clinic.visits[visit][1], "%Y%m%d").date().isoformat()
    invoices = _resources(bag, "Invoice")
    assert len(invoices) == 154
    for no, (visit, total, paid) in clinic.receipts.items():
        if visit == quarantined_visit:
            assert str(no) not in invoices
            continue
        found = invoices[str(no)]
        assert (found["subject"]["reference"], found["totalGross"]["value"], found["date"]) == (
            f"Patient/{patients[clinic.visits[visit][0]]['id']}", float(total),
            dt.datetime.strptime(clinic.visits[visit][1], "%Y%m%d").date().isoformat()), found
        assert [(c["code"]["coding"][0]["code"], c["amount"]["value"]) for c in found["totalPriceComponent"]] == [
            ("paid", float(paid))]
    requests = {**_resources(bag, "ServiceRequest"), **_resources(bag, "MedicationRequest")}
    masters = {**{cd: (name, edi) for cd, (name, edi) in DRUGS.items()},
               **{cd: (name, edi) for cd, (name, edi, _) in SUGA.items()}}
    # keyed ORD_NO|ORD_CD; the number written twice is two orders, each its own drug
    twice = clinic.dirty["duplicate_order"]
    assert sorted(k for k in requests if k.split("|")[0] == str(twice)) == sorted(
        {f"{twice}|{clinic.orders[twice][1]}", f"{twice}|D0002"})
    assert str(clinic.dirty["orphan_order"]) not in {k.split("|")[0] for k in requests}
    for key, found in requests.items():
        no, code = key.split("|")
        visit = clinic.orders[int(no)][0]
        # the name and EDI code from the master that holds the code (TB_DRUG_MST or TB_SUGA_MST; was: none)
        assert (found["code"]["text"], {c["code"] for c in found["code"]["coding"]}) == (
            masters[code][0], {masters[code][1], code}), found
        assert found["authoredOn"].startswith(str(dt.date(2023, 1, 2) + dt.timedelta(days=visit * 3)))
        # the route's name from group ROUTE (IM there is 근육주사, in DEPT 내과); a fee item has none
        assert [d["text"] for d in found.get("orderDetail", [])] == (
            ["정맥주사" if code == "D0005" else "경구"] if code in DRUGS else []), found
