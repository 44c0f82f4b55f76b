"""Date-times as modern apps write them (JavaScript's ``toISOString()``, .NET's ``"o"``): ISO-8601 text with ``Z``
and with ``+09:00``, with and without a fraction of a second. The scaffold reads them to the instant they name
(shown in Korean time); a value without an offset in such a column is not taken for Korean time silently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.authoring.scaffold import ISO_OFFSET_FORMATS
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec, load_spec
from emr_exporter.connectors.transforms import RowRejected, TransformContext, to_date, to_datetime
from emr_exporter.pipeline.fhir import fhir_datetime
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import checked, exported, scaffolded

CTX = TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)
WHEN = FieldSpec(name="start", type="datetime", format=ISO_OFFSET_FORMATS)
DAY = dataclasses.replace(WHEN, type="date")

PATIENTS = 40
#: the same instant, 2024-03-05 15:12 in Seoul, written four ways; and others around it
WRITTEN = {
    "2024-03-05T06:12:00Z": "2024-03-05T15:12:00+09:00",
    "2024-03-05T15:12:00+09:00": "2024-03-05T15:12:00+09:00",
    "2024-03-05T06:12:00.250Z": "2024-03-05T15:12:00.250000+09:00",
    "2024-03-05T15:12:00.5+09:00": "2024-03-05T15:12:00.500000+09:00",
    "2024-03-05T20:30:00Z": "2024-03-06T05:30:00+09:00",  # the next day in Seoul
    "2024-03-05T01:00:00-05:00": "2024-03-05T15:00:00+09:00",
    "2024-03-05T06:12:00.1234567Z": "2024-03-05T15:12:00.123456+09:00",  # .NET's 7 digits: %f reads 6
}
#: values without an offset among them: which zone they are in is unknown
BARE = ["2024-03-05T15:12:00", "2024-03-05 15:12:00"]


def _clinic(path: Path) -> dict[int, str]:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patients (id INTEGER PRIMARY KEY, chart_no TEXT, name TEXT, sex TEXT, birth_date TEXT);
        CREATE TABLE visits (id INTEGER PRIMARY KEY, patient_id INTEGER, visited_at TEXT, note TEXT);
    """)
    conn.executemany("INSERT INTO patients VALUES (?, ?, ?, ?, ?)",
                     [(i, f"C{i:05d}", f"환자{i}", "MF"[i % 2], f"1970-01-{i % 28 + 1:02d}")
                      for i in range(1, PATIENTS + 1)])
    written = list(WRITTEN)
    visits = {i: written[i % len(written)] for i in range(1, 71)}
    visits[71], visits[72] = BARE
    conn.executemany("INSERT INTO visits VALUES (?, ?, ?, ?)",
                     [(i, i % PATIENTS + 1, text, f"메모 {i}") for i, text in visits.items()])
    conn.commit()
    conn.close()
    return visits


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def test_iso_times_with_offsets_are_guessed_and_exported_as_the_instants_they_name(tmp_path: Path) -> None:
    # Before: the column was no date to the scaffold ('2024-03-05T06:12:00Z' no shape it knew), the visits had no
    # start (the encounter section commented out) and the times were carried raw.
    db = tmp_path / "app.db"
    visits = _clinic(db)
    flow = scaffolded(type("Db", (), {"path": db, "odbc": None})(), tmp_path)
    text = (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    spec = tomllib.loads(text)
    assert spec["entities"]["encounter"]["fields"]["start"] == {
        "column": "visited_at", "type": "datetime", "format": list(ISO_OFFSET_FORMATS), "required": True}
    assert ("70 of 72 sampled values are ISO-8601 text date-time with a UTC offset (2024-03-05T06:12:00Z, "
            "2024-03-05T15:12:00+09:00), read as the instant they name; the other 2 have no UTC offset") in text
    assert checked(flow)["reconciliation"]["balanced"]
    dry, sealed, bag = exported(flow, tmp_path)
    starts = [e["period"]["start"] for e in _resources(bag, "Encounter")]
    assert sorted(starts) == sorted(WRITTEN[visits[i]] for i in range(1, 71))
    # the two without an offset: not read as Korean time, their rows quarantined with the reason
    [entity] = [e for e in sealed["reconciliation"]["entities"] if e["entity"] == "encounter"]
    assert (entity["exported"], entity["quarantined"]) == (70, 2)
    assert entity["quarantine_reasons"] == {"invalid-date": 2}
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"]
    # every cell back exactly, as stored ('Z', '+09:00', the 7 fraction digits)
    source = SqliteFileSource(db)
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows == {"patients": PATIENTS, "visits": 72}


@pytest.mark.parametrize(("stored", "moment"), [
    ("2024-03-05T06:12:00Z", dt.datetime(2024, 3, 5, 15, 12)),
    ("2024-03-05T15:12:00+09:00", dt.datetime(2024, 3, 5, 15, 12)),
    ("2024-03-05T15:12:00+0900", dt.datetime(2024, 3, 5, 15, 12)),
    ("2024-03-05 06:12:00.5Z", dt.datetime(2024, 3, 5, 15, 12, 0, 500000)),
    ("2024-03-05T20:30Z", dt.datetime(2024, 3, 6, 5, 30)),
])
def test_an_offset_is_never_dropped(stored: str, moment: dt.datetime) -> None:
    assert to_datetime(stored, WHEN, CTX) == moment
    # a date field: the day in Korea, not the day the offset's zone had ('20:30Z' is the 6th in Seoul)
    assert to_date(stored, DAY, CTX) == moment.date()
    utc = dataclasses.replace(WHEN, tz="UTC")
    assert fhir_datetime(to_datetime(stored, utc, CTX)).endswith("+00:00")


@pytest.mark.parametrize("stored", [*BARE, "2024-03-05", "20240305", "not a date"])
def test_a_value_without_an_offset_is_refused_by_a_field_reading_offsets(stored: str) -> None:
    # before: '2024-03-05 15:12:00' and '2024-03-05' fell through to [source]'s formats and were Korean time
    for field in (WHEN, DAY):
        with pytest.raises(RowRejected) as raised:
            (to_datetime if field is WHEN else to_date)(stored, field, CTX)
        assert raised.value.reason_code == "invalid-date"
        assert str(raised.value) == ("field 'start' is not a date-time with a UTC offset, as its format reads: "
                                     "the zone of a value without one is unknown")


def _vendor_clinic(db: Path, times: list[str]) -> dict[int, tuple[str | None, str | None]]:
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE 환자 (환자번호 INTEGER PRIMARY KEY, 성명 TEXT, 성별 TEXT, 생년월일 TEXT);
        CREATE TABLE 접수 (접수번호 INTEGER PRIMARY KEY, 환자번호 INTEGER, 내원일자 TEXT, 내원시간 TEXT, 메모 TEXT);
    """)
    conn.executemany("INSERT INTO 환자 VALUES (?, ?, ?, ?)",
                     [(i, f"환자{i}", "MF"[i % 2], f"1970.01.{i % 28 + 1:02d}") for i in range(1, PATIENTS + 1)])
    visits: dict[int, tuple[str | None, str | None]] = {
        i: (f"2020.01.{i % 28 + 1:02d}", times[i % len(times)]) for i in range(1, 61)}
    visits[61] = ("2020.02.01", None)  # the time not kept: the visit keeps its day
    visits[62] = ("2020.02.02", "")
    visits[63] = (None, "오후 3:05")  # no date: no start (the row quarantined, the time carried raw)
    conn.executemany("INSERT INTO 접수 VALUES (?, ?, ?, ?, ?)",
                     [(i, i % PATIENTS + 1, day, time, f"메모 {i}") for i, (day, time) in visits.items()])
    conn.commit()
    conn.close()
    return visits


def test_a_visit_time_kept_beside_its_date_is_read_with_it_and_a_missing_time_keeps_the_day(tmp_path: Path) -> None:
    # 내원일자 '2020.01.05' + 내원시간 '오후 3:05' / '1505' / '15:05:00'. Before: the scaffold only wrote a '# NOTE'
    # and every Encounter had its day only ('2020-01-05'); the times were carried raw.
    db = tmp_path / "vendor.db"
    times = {"오후 3:05": "15:05", "오전 9:30": "09:30", "1505": "15:05", "15:05:00": "15:05", "오후 12:10": "12:10"}
    visits = _vendor_clinic(db, list(times))
    flow = scaffolded(type("Db", (), {"path": db, "odbc": None})(), tmp_path)
    text = (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    start = tomllib.loads(text)["entities"]["encounter"]["fields"]["start"]
    assert {k: v for k, v in start.items() if k != "format"} == {
        "columns": ["내원일자", "내원시간"], "join": " ", "type": "datetime", "required": True}
    assert start["format"] == ["%Y.%m.%d %p %I:%M", "%Y.%m.%d %p %I:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d %H:%M:%S",
                               "%Y.%m.%d %H%M", "%Y.%m.%d %H%M%S"]
    assert "# NOTE: 내원시간" not in text
    assert checked(flow)["reconciliation"]["balanced"]
    _dry, sealed, bag = exported(flow, tmp_path)
    starts = sorted(e["period"]["start"] for e in _resources(bag, "Encounter"))
    expected = [f"{day.replace('.', '-')}T{times[time]}:00+09:00" for day, time in visits.values() if day and time]
    assert len(expected) == 60
    assert starts == sorted([*expected, "2020-02-01", "2020-02-02"])
    [entity] = [e for e in sealed["reconciliation"]["entities"] if e["entity"] == "encounter"]
    assert (entity["exported"], entity["quarantined"], entity["quarantine_reasons"]) == (62, 1, {"required-missing": 1})
    source = SqliteFileSource(db)
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows == {"환자": PATIENTS, "접수": 63}


def test_times_in_a_form_the_patterns_do_not_read_are_left_to_the_note(tmp_path: Path) -> None:
    # one sampled time the date-time patterns would not read ('15:05 PM'): not sure, so the field stays a date (its
    # visits keep their days) and the '# NOTE' says how to read both
    db = tmp_path / "vendor.db"
    _vendor_clinic(db, ["오후 3:05", "15:05:00", "3:05 PM"])
    flow = scaffolded(type("Db", (), {"path": db, "odbc": None})(), tmp_path)
    text = (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    assert tomllib.loads(text)["entities"]["encounter"]["fields"]["start"] == {
        "column": "내원일자", "type": "date", "required": True}
    assert "# NOTE: 내원시간: times of day kept beside the date of start (내원일자)" in text
