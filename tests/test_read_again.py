"""Every cell of a visit row once in the bag where diagnosis sections read its code columns again (docs/connectors.md,
"Diagnoses kept as columns of the visit row"): the 접수 clinic on PostgreSQL over ODBC (tests/connectors/visitdx_clinic.py),
the scaffold's connector with one diagnosis section made to fail for some rows (a code map lacking I10, required: those
rows quarantined unmapped-code while their visits are exported). The code of such a row is in that quarantined row
with its reason, and nowhere else; a code its section exports is in its Condition only; a NULL or blank one (no
section reads that visit) in the Encounter's raw columns only. Every row of every table rebuilt from the opened bag
(tests/lossless_kit.py), the counts exact."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from visitdx_clinic import KCD, UNKNOWN, create_visitdx_clinic

from test_opensource_shaped_clinics import _bag
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the code the failing section's map lacks
MISSING = "I10"


def _set(code: str | None) -> bool:
    return code is not None and code.strip() != ""


def _lines(bag: Path, member: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/{member}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def test_a_code_its_diagnosis_section_fails_on_is_in_that_quarantined_row_once(
        tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_visitdx_clinic(postgres_conn_str)
    codes = ", ".join(f'"{c}" = "{c}"' for c in [*KCD, UNKNOWN] if c != MISSING)

    def failing(text: str) -> str:
        edited, n = re.subn(r'(?m)^code = \{ column = "부상병코드1" \}$',
                            f'code = {{ column = "부상병코드1", type = "code", required = true, map = {{ {codes} }} }}',
                            text)
        assert n == 1
        return edited

    main = [v for v in clinic.visits.values() if _set(v[2])]
    subs = [code for v in clinic.visits.values() for code in v[4:6] if _set(code)]
    orphan = clinic.dirty["orphan"]
    # every cell rebuilt (the names the 부상병 sections join in counted as read): as in
    # tests/test_visit_diagnosis_columns.py, a failing row's code counted once as its visit's are
    rebuilt = through_the_flow(clinic, tmp_path, joined=len(subs), edit=failing)
    assert rebuilt == clinic.cells + 3 * len(main) + 3 * len(subs) + 3  # (+ the orphan visit's 3, quarantined twice)
    bag = _bag(tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    failed = {v for v, row in clinic.visits.items() if row[4] == MISSING and v != orphan}
    assert len(failed) >= 5
    entities = {e["entity"]: e for e in reconciliation["entities"]}
    sub1 = sum(_set(v[4]) for v in clinic.visits.values())
    assert (entities["diagnosis_3"]["exported"], entities["diagnosis_3"]["quarantine_reasons"]) == (
        sub1 - len(failed) - (orphan % 3 == 0), {"unmapped-code": len(failed), **({"orphan": 1} if orphan % 3 == 0
                                                                                  else {})})
    # the Encounter's cells: every cell of the 150 visits less the codes (and the main's name) a diagnosis section
    # holds of the 149 exported ones; the orphan visit quarantined whole
    columns = 9  # 접수번호, 환자번호, 접수일자, 진료과, 주상병코드, 주상병명, 부상병코드1, 부상병코드2, 재진여부
    held = sum(2 * _set(v[2]) + _set(v[4]) + _set(v[5]) for k, v in clinic.visits.items() if k != orphan)
    assert entities["encounter"]["cells"]["source"] == 150 * columns - held
    quarantined = {str(line["key"]): line for line in _lines(bag, "raw/diagnosis_3")}
    carried = {str(line["key"]): line["columns"] for line in _lines(bag, "raw/columns/encounter")}
    for v in failed:
        assert quarantined[str(v)]["reason_code"] == "unmapped-code"
        assert quarantined[str(v)]["row"]["부상병코드1"] == MISSING  # there, with its reason
        assert "부상병코드1" not in carried.get(str(v), {})  # and only there
    for v, row in clinic.visits.items():
        if v != orphan:
            assert ("부상병코드1" in carried.get(str(v), {})) == (not _set(row[4])), v
