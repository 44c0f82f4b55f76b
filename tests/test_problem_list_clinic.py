"""A Korean clinic keeping a problem list (문제목록) besides its visits' diagnoses (tests/connectors/
problem_list_clinic.py) through the contractor's whole flow over the real MariaDB ODBC driver with the scaffold's
connector untouched: ``scan`` → ``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` →
``open``; every cell rebuilt from the opened bag and compared with the server's (tests/lossless_kit.py). The problem
list (a patient-level table of conditions, no visit link, named 문제목록) is read as Conditions of category
problem-list-item (was: carried raw), its 상태 활동/해결/비활동 the clinicalStatus, its 발병일 and 해결일 the onset
and abatement, a problem with no code a Condition of its name; the visits' diagnoses stay encounter-diagnosis
(``db``: fails, never skips, when a server is down).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from problem_list_clinic import PROBLEM_STATES, create_problem_list_clinic

from test_dental_hanbang_clinics import _counts
from test_legacy_opensource_clinics import _scanned
from test_opensource_shaped_clinics import _bag, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

CERTAINTY = {"확진": "confirmed", "의증": "provisional"}
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def test_a_problem_list_becomes_problem_list_conditions(tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic = create_problem_list_clinic(mariadb_conn_str)
    # every cell; the visit's date joined into each of the 90 visit diagnoses (its KCD edition) counted as read
    assert through_the_flow(clinic, tmp_path, 90) == clinic.cells
    scanned = json.dumps(_scanned(clinic, tmp_path), ensure_ascii=False)
    assert "문제목록" in scanned and "상병" in scanned
    bag = _bag(tmp_path)
    # 문제목록 a diagnosis section of its own (was: carried raw); the visits' diagnoses keep the first section
    assert _fates(bag) == {"환자": ("patient",), "내원": ("encounter",), "상병": ("diagnosis",),
                           "문제목록": ("diagnosis_2",)}
    assert _counts(bag) >= {("patient", 30, 30, 0), ("encounter", 60, 60, 0)}
    toml = (tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
    assert 'problem_list = { value = true, type = "bool" }' in toml
    assert 'abatement = { column = "해결일", type = "date" }' in toml
    assert 'verification = { column = "확진여부", type = "code", map = { "의증" = "provisional", "확진" = "confirmed" } }' in toml
    assert ('status = { column = "상태", type = "status", map = { "비활동" = "inactive", "해결" = "resolved", '
            '"활동" = "active" } }') in toml
    problems, visits = (_resources(bag, "Condition", quote("문제목록")),
                       _resources(bag, "Condition", quote("상병")))
    assert len(problems) == 45 and len(visits) == 90
    assert all(c["category"] == [{"coding": [{"system": CATEGORY, "code": "problem-list-item",
                                              "display": "Problem List Item"}]}] for c in problems.values())
    assert all("encounter" in c and c["category"][0]["coding"][1]["code"] == "encounter-diagnosis"
               for c in visits.values())
    patients = {k: f"Patient/{r['id']}" for k, r in _resources(bag, "Patient").items()}
    expected = {}
    for p, (patient, code, name, onset, resolved, state, certainty) in clinic.problems.items():
        status = PROBLEM_STATES[state] if state else "resolved"  # no 상태 but a 해결일: resolved
        expected[str(p)] = (patients[patient], code, name, onset.isoformat() if onset else None,
                            resolved.isoformat() if resolved else None, status, CERTAINTY.get(certainty))
    got = {k: (r["subject"]["reference"], next((c["code"] for c in r["code"].get("coding", [])), None),
               r["code"]["text"],
               r.get("onsetDateTime"), r.get("abatementDateTime"),
               r["clinicalStatus"]["coding"][0]["code"],
               r.get("verificationStatus", {}).get("coding", [{}])[0].get("code")) for k, r in problems.items()}
    assert got == expected
    # exact counts per clinical status; the problem whose 상태 is empty resolved by its 해결일
    statuses = [s for *_, s, _ in got.values()]
    assert {s: statuses.count(s) for s in set(statuses)} == {"active": 15, "resolved": 15, "inactive": 15}
    assert got[str(clinic.dirty["resolved_by_date"])][4:6] == ("2024-05-05", "resolved")
    # 확진여부 확진/의증 the verification status (confirmed, provisional); none where none was recorded
    certainties = [v for *_, v in got.values()]
    assert {v: certainties.count(v) for v in set(certainties)} == {"confirmed": 26, "provisional": 12, None: 7}
    # a problem written only as its name: a Condition of its text, no code made up
    assert sum(code is None for _, code, *_ in got.values()) == 9
