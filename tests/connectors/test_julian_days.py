"""Dates stored as Julian day numbers (SQLite's ``julianday()``, as Access/FoxPro conversions left them): ``format =
"julian"`` reads them exactly as SQLite's ``date()``/``datetime()`` do; ``epoch`` no longer makes them January 1970."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from emr_exporter.connectors.spec import ConnectorSpec, ConnectorSpecError, FieldSpec, load_spec
from emr_exporter.connectors.transforms import RowRejected, TransformContext, sentinel_date, to_date, to_datetime
from emr_exporter.pipeline.fhir import fhir_datetime

CTX = TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)
WHEN = FieldSpec(name="when", type="datetime", format=("julian",))
DAY = dataclasses.replace(WHEN, type="date")


def _sqlite_text(moment: dt.datetime) -> str:
    return f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}"


def test_julian_days_are_read_as_sqlite_reads_them() -> None:
    rng = random.Random(20260312)
    values: list[float] = [
        2460000.5, 2460000.0, 2460000.25, 2460000.999999, 2415020.5, 2488070.5, 1721425.5, 5373484.499,
        2299160.5, 2299161.0, 2451544.5, 2451545.0, 2440587.5,  # 1970-01-01
    ]
    values += [rng.uniform(1721425.5, 5373484.5) for _ in range(2000)]  # year 1 to 9999
    values += [rng.uniform(2415020.5, 2488070.5) for _ in range(2000)]  # 1900-2100
    # a day's fraction at and around each millisecond and second boundary (SQLite rounds to the millisecond,
    # then datetime() cuts to the second)
    values += [2460000.5 + k / 86_400_000 for k in range(-1500, 1500, 7)]
    values += [2460000.5 + k / 86_400 + j * 0.0004 / 86_400 for k in range(-30, 30) for j in range(-3, 4)]
    db = sqlite3.connect(":memory:")
    for value in values:
        sqlite_datetime, sqlite_date = db.execute("SELECT datetime(?), date(?)", (value, value)).fetchone()
        for stored in (value, repr(value), repr(value).encode(), Decimal(repr(value))):
            if sentinel_date(dt.date.fromisoformat(sqlite_date.zfill(10))) is not None:
                # 2415020.5 is 1900-01-01, SQL Server's zero date: no date, the cell kept as written (sentinel-date)
                for read, spec in ((to_datetime, WHEN), (to_date, DAY)):
                    with pytest.raises(RowRejected) as rejected:
                        read(stored, spec, CTX)  # type: ignore[operator]
                    assert rejected.value.reason_code == "sentinel-date"
                continue
            assert _sqlite_text(to_datetime(stored, WHEN, CTX)) == sqlite_datetime, stored  # type: ignore[arg-type]
            assert to_date(stored, DAY, CTX).isoformat().zfill(10) == sqlite_date, stored
    assert to_datetime(2460001, WHEN, CTX) == dt.datetime(2023, 2, 25, 12)  # an INTEGER: noon


def test_the_stored_wall_time_is_in_the_fields_zone() -> None:
    # datetime(2460000.75) is '2023-02-25 06:00:00': the clinic's time by default, the field's tz where it says so
    assert fhir_datetime(to_datetime(2460000.75, WHEN, CTX)) == "2023-02-25T06:00:00+09:00"
    utc = dataclasses.replace(WHEN, tz="UTC")
    assert fhir_datetime(to_datetime(2460000.75, utc, CTX)) == "2023-02-25T06:00:00+00:00"
    assert to_date(2460000.75, dataclasses.replace(utc, type="date"), CTX) == dt.date(2023, 2, 25)


@pytest.mark.parametrize("value", [
    0, -1, 1721425.4, 5373484.5, 1e300, float("nan"), float("inf"), float("-inf"), "", "abc", "1_000",
    "2460000.5x", "nan", "inf", "2460000,5", True, Decimal("NaN"), 10 ** 400, b"\xff\xfe",
])
def test_what_is_no_julian_day_is_an_invalid_date_of_the_row(value: object) -> None:
    for fld, read in ((WHEN, to_datetime), (DAY, to_date)):
        with pytest.raises(RowRejected) as caught:
            read(value, fld, CTX)
        assert (caught.value.reason_code, caught.value.reason) in {
            ("invalid-date", "field 'when' is not a Julian day number"),
            ("bad-encoding", "field 'when' holds bytes that are not valid utf-8")}


def test_epoch_does_not_make_a_julian_day_a_day_of_1970() -> None:
    # Before: 2460000.5 as 'epoch' was 1970-01-29 (2460000.5 seconds after 1970), as 'epoch_ms' 1970-01-01.
    for fmt in ("epoch", "epoch_ms"):
        for value in (2460000.5, 2415020.5, 2488070.5, "2460000.5", 2460001):
            with pytest.raises(RowRejected) as caught:
                to_date(value, FieldSpec(name="when", type="date", format=(fmt,)), CTX)
            assert (caught.value.reason_code, caught.value.reason) == (
                "invalid-date", "field 'when' holds a Julian day, not a Unix time: read it with format = \"julian\"")
    # Unix times of the clinic's years, and of 1970 outside those 20 hours, are read as before
    epoch = FieldSpec(name="when", type="datetime", format=("epoch",), tz="UTC")
    assert fhir_datetime(to_datetime(1678051800, epoch, CTX)) == "2023-03-05T21:30:00+00:00"
    assert fhir_datetime(to_datetime(2415020, epoch, CTX)) == "1970-01-28T22:50:20+00:00"


def test_julian_is_one_format_alone(tmp_path: Path) -> None:
    (tmp_path / "connector.toml").write_text("""
[connector]
name = "j"
version = "1"
engines = ["sqlite"]
[entities.patient]
table = "P"
key = "ID"
[entities.patient.fields]
chart_number = { column = "CHART", required = true }
name = { column = "NAME" }
birth_date = { column = "BIRTH", type = "date", format = ["julian", "%Y%m%d"] }
""", encoding="utf-8")
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(tmp_path)
    assert "'epoch'/'epoch_ms'/'julian' cannot be combined with other formats" in str(caught.value)
