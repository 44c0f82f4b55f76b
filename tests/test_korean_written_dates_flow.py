"""An IT contractor's flow on a SQLite clinic that keeps its dates as Korean Windows and web pages write them
(visits ``2024-01-05 오후 3:20:11``, birth dates ``1980. 3. 7.``): ``scaffold`` guesses those columns and writes
their formats, ``connector check``, a dry run, a sealed export, ``verify`` and ``open``; every visit is exported
at its exact clinic time and every such cell comes back byte for byte from the bag's raw sidecar."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import _column_sidecar, checked, exported, scaffolded

PATIENTS = 30


def _clinic(path: Path) -> tuple[dict[str, str], dict[int, str], list[str]]:
    """환자 with birth dates ``1980. 3. 7.``; 접수 with two visits a patient at ``YYYY-MM-DD 오전/오후 h:mm:ss``
    (12 오전 and 12 오후 among them). The birth dates by chart number, the visit times by visit number and the
    FHIR date-times they are."""
    births: dict[str, str] = {}
    visits: dict[int, str] = {}
    starts: list[str] = []
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE 환자 (차트번호 VARCHAR(10) PRIMARY KEY, 이름 VARCHAR(40), 생년월일 VARCHAR(20), "
                 "성별 CHAR(1))")
    conn.execute("CREATE TABLE 접수 (접수번호 INTEGER PRIMARY KEY, 차트번호 VARCHAR(10), 내원일시 VARCHAR(30), "
                 "진료과 VARCHAR(10))")
    for i in range(1, PATIENTS + 1):
        chart = f"{i:06d}"
        births[chart] = "1980. 3. 7." if i == 1 else f"19{60 + i}. {1 + i % 12}. {1 + i % 28}."
        conn.execute("INSERT INTO 환자 VALUES (?, ?, ?, ?)", (chart, f"환자{i}", births[chart], "MF"[i % 2]))
        for half, month in (("오후", 1), ("오전", 2)):
            visit = len(visits) + 1
            hour = 1 + i % 12  # 12 for patient 11: 12 오후 is noon, 12 오전 midnight
            visits[visit] = ("2024-01-05 오후 3:20:11" if visit == 1
                             else f"2024-{month:02d}-{1 + i % 28:02d} {half} {hour}:{i:02d}:0{i % 10}")
            starts.append("2024-01-05T15:20:11+09:00" if visit == 1 else
                          f"2024-{month:02d}-{1 + i % 28:02d}T{hour % 12 + 12 * (half == '오후'):02d}:{i:02d}"
                          f":0{i % 10}+09:00")
            conn.execute("INSERT INTO 접수 VALUES (?, ?, ?, ?)", (visit, chart, visits[visit], "내과"))
    conn.commit()
    conn.close()
    return births, visits, starts


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def test_korean_written_dates_are_guessed_exported_at_clinic_time_and_carried_raw(tmp_path: Path) -> None:
    # Before: the scaffold saw no date in either column (encounter's start unmapped, the section commented out,
    # the birth date unmapped), and a connector mapping them anyway quarantined every visit as invalid-date
    # ("field 'start' is not a valid calendar date": strptime's %p reads neither 오전 nor 오후 under C).
    births, visits, expected_starts = _clinic(tmp_path / "clinic.sqlite")
    flow = scaffolded(SimpleNamespace(path=tmp_path / "clinic.sqlite", odbc=None), tmp_path)
    connector = tomllib.loads((flow.connectors / "foreign/connector.toml").read_text("utf-8"))
    assert connector["source"]["date_formats"] == ["%Y. %m. %d."]
    assert connector["source"]["datetime_formats"] == ["%Y-%m-%d %p %I:%M:%S"]
    patient, encounter = connector["entities"]["patient"], connector["entities"]["encounter"]
    assert patient["fields"]["birth_date"] == {"column": "생년월일", "type": "date"}
    assert (encounter["table"], encounter["fields"]["start"]) == (
        "접수", {"column": "내원일시", "type": "datetime", "required": True})
    check = checked(flow)
    assert check["reconciliation"]["cells"]["quarantined"] == 0
    assert {e["entity"]: e["quarantined"] for e in check["reconciliation"]["entities"]} == {
        "patient": 0, "encounter": 0}
    dry, sealed, bag = exported(flow, tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    for outcome in (dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        counts = {e["entity"]: (e["exported"], e["quarantined"]) for e in outcome["entities"]}
        assert counts == {"patient": (PATIENTS, 0), "encounter": (2 * PATIENTS, 0)}, counts
        assert outcome["cells"]["quarantined"] == 0
    # FHIR holds the ISO date-time at the clinic's wall time (+09:00), 12 오전 at 00h and 12 오후 at 12h
    starts = sorted(e["period"]["start"] for e in _resources(bag, "Encounter"))
    assert starts == sorted(expected_starts)
    assert starts.count("2024-01-05T15:20:11+09:00") == 1
    assert {"2024-01-12T12:11:01+09:00", "2024-02-12T00:11:01+09:00"} < set(starts)
    sidecar = {line["key"]: line for line in _column_sidecar(bag, "encounter")}
    assert sorted(sidecar, key=int) == [str(v) for v in visits]
    # the source text itself, byte for byte, in the raw sidecar (FHIR cannot give 오후 3:20:11 back)
    for visit, text in visits.items():
        assert "내원일시" in sidecar[str(visit)]["transformed"], visit
        assert decode_raw(sidecar[str(visit)]["columns"]["내원일시"]) == text
    # a birth date is carried raw unless its FHIR date written back "%Y. %m. %d." is the same text
    people = {line["key"]: line for line in _column_sidecar(bag, "patient")}
    padded = {k for k, v in births.items() if re.fullmatch(r"\d{4}\. \d{2}\. \d{2}\.", v)}
    assert {k: decode_raw(v["columns"]["생년월일"]) for k, v in people.items() if "생년월일" in v["transformed"]} == {
        k: v for k, v in births.items() if k not in padded}
    assert decode_raw(people["000001"]["columns"]["생년월일"]) == "1980. 3. 7."
    assert sorted(p["birthDate"] for p in _resources(bag, "Patient")) == sorted(
        "{}-{:02d}-{:02d}".format(*map(int, v.rstrip(".").split(". "))) for v in births.values())
    # every row of both tables rebuilt exactly from the opened bag (FHIR, then the raw sidecars)
    source = SqliteFileSource(tmp_path / "clinic.sqlite")
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert dict(rebuilt.rows) == {"환자": PATIENTS, "접수": 2 * PATIENTS}
    assert rebuilt.transformed_cells == 2 * PATIENTS + PATIENTS - len(padded) + PATIENTS  # and every 성별 (M, 1 and 3 all map to male: no one code to write back)
