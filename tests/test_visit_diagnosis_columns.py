"""A visit's diagnoses kept as code columns of the visit row (tests/connectors/visitdx_clinic.py: 접수's 주상병코드 with
주상병명 beside it, 부상병코드1/부상병코드2 named in the dictionary 상병마스터; PostgreSQL, Korean names), through the
contractor's whole flow over the real ODBC driver with the scaffold's connector untouched: ``scaffold`` → ``connector
check`` → dry run → sealed ``export`` → ``verify`` → ``open`` → ``scan``; every row of every table rebuilt from the
opened bag and compared with the server's cell by cell (tests/lossless_kit.py). The scaffold writes a diagnosis
section per code column (docs/connectors.md, "Diagnoses kept as columns of the visit row"): was, the codes carried
raw in the visit's section and no Condition made. (The Open Hospital shape, OPD_DIS_ID_A/_2/_3 named in DISEASE:
tests/test_openhospital_clinic.py.)
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from visitdx_clinic import KCD, create_visitdx_clinic

from test_legacy_opensource_clinics import _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the sections the scaffold writes over 접수, in file order: its visits, then one per diagnosis-code column
SECTIONS = ("encounter", "diagnosis_2", "diagnosis_3", "diagnosis_4")


def _set(code: str | None) -> bool:
    return code is not None and code.strip() != ""


def test_a_visits_diagnosis_columns_become_conditions(tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_visitdx_clinic(postgres_conn_str)
    main = [v for v in clinic.visits.values() if _set(v[2])]
    subs = [code for v in clinic.visits.values() for code in v[4:6] if _set(code)]
    # every cell; the diagnosis sections read the visit rows whose code is set again (the main's 5 cells: 접수번호,
    # 환자번호, 접수일자, 주상병코드, 주상병명; each 부상병's 4), counted again as the reconciliation counts them; it
    # also counts the names the 부상병 sections join in from 상병마스터 (one per row). The codes and the main's name
    # of those rows are theirs only: the visit's section neither carries nor counts them (was: 5 and 4 more, each
    # code and name carried raw with the Encounter too) — but the orphan visit's, quarantined whole with its
    # diagnoses' rows
    orphan = clinic.dirty["orphan"]
    twice = 2 * _set(clinic.visits[orphan][2]) + sum(_set(c) for c in clinic.visits[orphan][4:6])
    rebuilt = through_the_flow(clinic, tmp_path, joined=len(subs))
    assert twice == 3
    assert rebuilt == clinic.cells + 3 * len(main) + 3 * len(subs) + twice
    bag = _bag(tmp_path)
    # each code cell once in the bag: the Encounter's raw columns carry 주상병코드/주상병명/부상병코드n only where no
    # diagnosis section reads that visit (NULL or blank), and the inventory says which section holds them
    carried = {line["key"]: line["columns"] for path in sorted(bag.glob("data/raw/columns/encounter.*.ndjson"))
               for line in map(json.loads, path.read_bytes().splitlines())}
    for v, (_, _, code, _, sub1_code, sub2_code) in clinic.visits.items():
        if v == orphan:
            continue
        held = carried.get(str(v), {})
        assert ("주상병코드" in held, "주상병명" in held) == (not _set(code), not _set(code)), v
        assert ("부상병코드1" in held, "부상병코드2" in held) == (not _set(sub1_code), not _set(sub2_code)), v
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    [visits] = [t for t in inventory if t["name"] == "접수"]
    assert [(a["section"], a["by"], a["columns"]) for a in visits["read_again"]] == [
        ("diagnosis_2", "encounter", ["주상병명", "주상병코드"]), ("diagnosis_3", "encounter", ["부상병코드1"]),
        ("diagnosis_4", "encounter", ["부상병코드2"])]
    toml = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    sections = {name: (s.get("entity", name), s["table"], s["key"]) for name, s in toml["entities"].items()}
    assert {n: sections[n] for n in SECTIONS} == {
        "encounter": ("encounter", "접수", "접수번호"), **{n: ("diagnosis", "접수", "접수번호") for n in SECTIONS[1:]}}
    codes = [(toml["entities"][n]["fields"]["code"]["column"], toml["entities"][n]["fields"].get("text", {}),
              toml["entities"][n]["fields"].get("primary")) for n in SECTIONS[1:]]
    # the name beside the main code; the 부상병's from the dictionary (joined in); the main one primary by its name
    assert codes == [("주상병코드", {"column": "주상병명"}, {"value": True, "type": "bool"}),
                     ("부상병코드1", {"column": "SCAFFOLD_TEXT"}, None), ("부상병코드2", {"column": "SCAFFOLD_TEXT"}, None)]
    # 상병마스터 is a dictionary: carried whole
    assert _fates(bag) == {"환자": ("patient",), "접수": (*SECTIONS[1:], "encounter"), "상병마스터": "carried"}
    sub1 = sum(_set(v[4]) for v in clinic.visits.values())
    sub2 = sum(_set(v[5]) for v in clinic.visits.values())
    # the visits whose code is NULL or blank make no Condition (each section's WHERE leaves them out); the orphan
    # visit's quarantined with its diagnoses
    assert _entities(bag) == {("patient", "환자", 36, 36, 0), ("encounter", "접수", 150, 149, 1),
                              ("diagnosis_2", "접수", len(main), len(main) - 1, 1),
                              ("diagnosis_3", "접수", sub1, sub1 - (orphan % 3 == 0), orphan % 3 == 0),
                              ("diagnosis_4", "접수", sub2, sub2 - (orphan % 7 == 0), orphan % 7 == 0)}
    encounters = _resources(bag, "Encounter")
    by_id = {e["id"]: int(k) for k, e in encounters.items()}
    conditions = [json.loads(line) for path in sorted(bag.glob("data/fhir/Condition.*.ndjson"))
                  for line in path.read_bytes().splitlines()]
    # one Condition per visit and column: ids unique
    assert len({c["id"] for c in conditions}) == len(conditions)
    found: dict[int, list[tuple[str, str | None, bool]]] = {}
    for c in conditions:
        visit = by_id[c["encounter"]["reference"].removeprefix("Encounter/")]
        assert (c["subject"], c["recordedDate"]) == (
            encounters[str(visit)]["subject"], encounters[str(visit)]["period"]["start"][:10])
        primary = [x["valueBoolean"] for x in c.get("extension", []) if x["url"].endswith("primary-diagnosis")]
        found.setdefault(visit, []).append((c["code"]["coding"][0]["code"], c["code"].get("text"), primary == [True]))
    expected: dict[int, list[tuple[str, str | None, bool]]] = {}
    for v, (_, _, code, name, *others) in clinic.visits.items():
        rows = [(code, name, True)] if _set(code) else []
        rows += [(o, KCD[o][0] if o in KCD else None, False) for o in others if _set(o)]
        if rows and v != orphan:
            expected[v] = rows
    assert found == expected
    assert expected[clinic.dirty["unknown_sub1"]][1] == ("U07.1", None, False)  # no 상병마스터 row: its code alone
    assert expected[clinic.dirty["no_main_name"]][0][1] is None  # 주상병명 empty: the code alone
    scan: dict[str, Any] = _scanned(clinic, tmp_path)
    assert [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]] == [
        ("patient", 36, 0), ("encounter", 149, 1), ("diagnosis_2", len(main) - 1, 1),
        ("diagnosis_3", sub1 - (orphan % 3 == 0), orphan % 3 == 0),
        ("diagnosis_4", sub2 - (orphan % 7 == 0), orphan % 7 == 0)]
