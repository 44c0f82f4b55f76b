"""An IT contractor on a small Korean vendor's clinic EMR on MariaDB utf8mb4 (tests/connectors/korean_vendor_clinic.py:
Korean and romanised names, dates as text written four ways in one column, visit times in their own column, RRNs
encrypted at rest beside a masked copy, foreigners' numbers, '3,000원', 예/아니오, emoji and old Hangul, a 122-column
questionnaire, a trigger and stored routines, a visit table per year), through the CLI over MariaDB Connector/ODBC:
``scaffold``, ``connector check`` (its connector.toml untouched), a dry run, a sealed export, ``verify`` and
``open``; every row rebuilt from the opened bag and compared cell by cell (``db``: fails, never skips, when the
server is down).
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
from korean_vendor_clinic import (
    BAD_DATE,
    DECEASED,
    NO_DATE,
    PATIENTS,
    VISITS_PER_YEAR,
    YEARS,
    KoreanVendorClinic,
    create_korean_vendor_clinic,
    rrn_of,
    visit_date_text,
    visit_time_text,
)

from emr_exporter.connectors.spec import load_spec
from emr_exporter.sources.drivers import get_option
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import checked, exported, scaffolded

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def clinic(mariadb_conn_str: str) -> KoreanVendorClinic:
    return create_korean_vendor_clinic(mariadb_conn_str)


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _written_date(text: str) -> str | None:
    """The date a visit's text names, as FHIR writes it; None for no such day or no text."""
    for fmt in ("%Y.%m.%d", "%Y-%m-%d", "%Y년 %m월 %d일", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _written_time(text: str) -> str:
    """HH:MM of a visit's time text ('오후 3:05', '1505', '15:05:00')."""
    if text.startswith(("오전", "오후")):
        hour, minute = text[3:].split(":")
        return f"{int(hour) % 12 + (12 if text.startswith('오후') else 0):02d}:{minute}"
    return f"{text[:2]}:{text[2:4]}" if text.isdigit() else text[:5]


def test_dates_written_four_ways_in_one_column_are_guessed_and_exported_exactly(clinic: KoreanVendorClinic,
                                                                              tmp_path: Path) -> None:
    # Before, a column whose screens wrote '2019.01.05', '2019-1-5', '2019년 1월 5일' and '20190105' by turns had
    # no shape of 80 % of its values: the scaffold left the visits out ('encounter visit_2019? commented out: no
    # column for start') and the birth dates ('1961.02.02' beside '1963-4-4') unmapped.
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    assert spec["entities"]["encounter"]["table"] == "visit_2019"
    # the visit's time of day in a column of its own ('오후 3:05', '1505', '15:05:00'): read with the date (before:
    # only a '# NOTE' said so, and every Encounter had its day only)
    assert spec["entities"]["encounter"]["fields"]["start"] == {
        "columns": ["내원일자", "내원시간"], "join": " ", "type": "datetime", "required": True,
        "format": [f"{day} {time}" for day in ("%Y%m%d", "%Y-%m-%d", "%Y.%m.%d", "%Y년 %m월 %d일")
                   for time in ("%p %I:%M", "%p %I:%M:%S", "%H:%M", "%H:%M:%S", "%H%M", "%H%M%S")]}
    assert spec["entities"]["patient"]["fields"]["birth_date"] == {"column": "생년월일", "type": "date"}
    assert set(spec["source"]["date_formats"]) >= {"%Y.%m.%d", "%Y-%m-%d", "%Y년 %m월 %d일", "%Y%m%d"}
    # A table per year of the same shape: each read as visit_2019 is, by a section of its own. Before, visit_2020
    # and visit_2021 were 'not recognised' (carried raw): 236 visits were no Encounter.
    visit = spec["entities"]["encounter"]
    for year in YEARS[1:]:
        assert spec["entities"][f"encounter_visit_{year}"] == {"entity": "encounter", "table": f"visit_{year}",
                                                               "key": visit["key"], "fields": visit["fields"]}
    # The RRNs encrypted at rest (and their masked copy) are no RRN field: said so, by name. Before, nothing told
    # the contractor that no Patient would have an RRN.
    text = (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    assert ("# NOTE: jumin_enc, jumin_b64, jumin_mask: named as the RRN, but no sampled value is a 13-digit RRN "
            "(encrypted at rest, or masked): carried raw as stored, and no Patient has an RRN.") in text
    assert "rrn" not in spec["entities"]["patient"]["fields"]
    assert "# NOTE: 내원시간" not in text
    clinic.check = checked(flow)
    assert [t["table"] for t in clinic.check["unmapped_tables"]] == ["문진표"]
    # legacy_pt, the patients of the program before: an earlier generation, carried with why
    assert "legacy_pt" in {t["table"] for t in clinic.check["carried_tables"]}
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"] and outcome["cells"]["source"] == clinic.cells
    # every visit at the day its text names; the impossible day and the empty date quarantined (required)
    encounters = _resources(bag, "Encounter")
    starts = sorted(e["period"]["start"] for e in encounters)
    written = {key: _written_date(date) for key, (date, _) in clinic.visits.items()}
    assert [key for key, day in written.items() if day is None] == [
        (f"visit_{year}", n) for year in YEARS for n in (BAD_DATE, NO_DATE)]
    # every visit at the minute its two texts name, in Korean time
    assert starts == sorted(f"{d}T{_written_time(clinic.visits[key][1])}:00+09:00" for key, d in written.items()
                            if d is not None)
    assert visit_date_text(1, 2019) == "2019-2-2" and visit_time_text(1) == "1007"
    assert "2019-02-02T10:07:00+09:00" in starts
    assert (visit_time_text(3), visit_time_text(5)) == ("오후 12:21", "14:35:00") and "2019-08-08T16:49:00+09:00" in starts
    visits = {e["table"]: e for e in sealed["reconciliation"]["entities"] if e["entity"].startswith("encounter")}
    assert set(visits) == {f"visit_{year}" for year in YEARS}
    for entity in visits.values():
        assert (entity["exported"], entity["quarantined"]) == (VISITS_PER_YEAR - 2, 2)
        assert entity["quarantine_reasons"] == {"invalid-date": 1, "required-missing": 1}
    births = {p["identifier"][0]["value"]: p["birthDate"] for p in _resources(bag, "Patient")}
    assert len(births) == PATIENTS
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        assert births[f"{i:06d}"] == f"19{rrn[:2]}-{rrn[2:4]}-{rrn[4:6]}"
    assert entity["quarantine_reasons"] == {"invalid-date": 1, "required-missing": 1}
    # every cell of every table back exactly: the encrypted RRNs' bytes and base64, '3,000원', 오후 3:05, emoji
    assert clinic.odbc is not None
    source = OdbcSource(clinic.odbc, get_option(clinic.odbc, "PWD"))
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source,
                                           stored_bytes={"legacy_pt": ["jumin", "memo"]})
    finally:
        source.close()
    assert rebuilt.rows == {**{f"visit_{year}": VISITS_PER_YEAR for year in YEARS}, "환자": PATIENTS, "문진표": 40,
                            "legacy_pt": 2, "audit_log": 3}


def test_korean_yes_and_no_are_guessed_and_read_as_yes_no(clinic: KoreanVendorClinic, tmp_path: Path) -> None:
    # Before, 예/아니오 was no yes/no shape (the scaffold left 사망여부 unmapped), and a bool field on it refused
    # every row: invalid-bool "field 'deceased' is not a yes/no value".
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    assert spec["entities"]["patient"]["fields"]["deceased"] == {"column": "사망여부", "type": "bool"}
    clinic.check = checked(flow)
    assert [d for d in clinic.check["defects"] if d["field"] == "deceased"] == []
    _, sealed, bag = exported(flow, tmp_path)
    [entity] = [e for e in sealed["reconciliation"]["entities"] if e["entity"] == "patient"]
    assert (entity["exported"], entity["quarantined"], entity["field_defects"]) == (PATIENTS, 0, {})
    deceased = {p["identifier"][0]["value"]: p["deceasedBoolean"] for p in _resources(bag, "Patient")}
    assert deceased == {f"{i:06d}": i in DECEASED for i in range(1, PATIENTS + 1)}
