"""A Korean clinic whose visits and treatments keep a status (tests/connectors/status_clinic.py) through the
contractor's whole flow over the real PostgreSQL ODBC driver with the scaffold's connector untouched: ``scaffold`` →
``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``; every cell rebuilt from the opened bag and
compared with the server's (tests/lossless_kit.py). The status columns are read for what they say (was: carried raw
and every visit 'finished', every treatment 'completed'): 진행상태 예약/접수/진료중/완료/취소 an Encounter planned,
arrived, in-progress, finished, cancelled, and 보류, which no rule reads, kept as recorded (unknown) with a
``# CHECK`` line; the visit 삭제여부 'Y' entered-in-error whatever its 진행상태; 취소여부 'Y' a Procedure not-done
(``db``: fails, never skips, when a server is down).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from status_clinic import create_status_clinic

from test_dental_hanbang_clinics import _by_source_key, _counts, _lines
from test_opensource_shaped_clinics import _bag, _fates
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

VISIT_STATUS = {"예약": "planned", "접수": "arrived", "진료중": "in-progress", "완료": "finished", "취소": "cancelled",
                "보류": "unknown"}


def test_a_clinics_record_statuses_are_exported_for_what_they_say(tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_status_clinic(postgres_conn_str)
    assert through_the_flow(clinic, tmp_path) == clinic.cells
    bag = _bag(tmp_path)
    assert _fates(bag) == {"환자": ("patient",), "내원": ("encounter",), "처치": ("procedure",)}
    # nothing dropped: the planned, cancelled, on-hold and deleted visits and the cancelled treatments exported
    assert _counts(bag) == {("patient", 30, 30, 0), ("encounter", 80, 80, 0), ("procedure", 120, 120, 0)}
    toml = (tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
    assert ('status = { expr = "CASE WHEN 삭제여부 IN (\'Y\') THEN \'entered-in-error\' ELSE 진행상태 END", type = '
            '"status", map = { "예약" = "planned", "완료" = "finished", "접수" = "arrived", "진료중" = "in-progress", '
            '"취소" = "cancelled", "entered-in-error" = "entered-in-error" } }') in toml
    assert ("# CHECK (보류 of 진행상태 not read: kept as recorded, the resource's status unknown; add it to the map if "
            "you know what it says)") in toml
    assert 'status = { column = "취소여부", type = "status", map = { "N" = "", "Y" = "not-done" } }' in toml
    encounters = _by_source_key(bag, "Encounter")
    assert {k: e["status"] for k, e in encounters.items()} == {
        str(v): "entered-in-error" if deleted == "Y" else VISIT_STATUS[state]
        for v, (state, deleted) in clinic.visits.items()}
    assert encounters[str(clinic.dirty["deleted"])]["status"] == "entered-in-error"
    assert {e["status"] for e in encounters.values()} == {*VISIT_STATUS.values(), "entered-in-error"}
    procedures = _by_source_key(bag, "Procedure")
    assert {k: p["status"] for k, p in procedures.items()} == {
        str(no): "not-done" if flag == "Y" else "completed" for no, flag in clinic.cancelled.items()}
    assert sum(flag == "Y" for flag in clinic.cancelled.values()) == 9
    # the status cells themselves are raw cells as written (the visit's two read by a computed status)
    raw = {c["key"]: c["columns"] for c in _lines(bag, "raw/columns/encounter")}
    assert {k: (c["진행상태"], c["삭제여부"]) for k, c in raw.items()} == {
        str(v): sd for v, sd in clinic.visits.items()}
    # the reconciliation counts each status, and the one kept as recorded
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    [visits] = [e for e in report["entities"] if e["entity"] == "encounter"]
    assert (visits["statuses"], visits["statuses_kept_as_recorded"]) == ({
        "arrived": 11, "cancelled": 11, "entered-in-error": 1, "finished": 34, "in-progress": 12, "planned": 10,
        "unknown": 1}, 1)
