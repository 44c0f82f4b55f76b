"""Dates and times as Korean Windows/.NET/JavaScript write them as text (오전/오후, dotted, 년월일), read
the same under every process locale."""

from __future__ import annotations

import datetime as dt
import locale
from collections.abc import Iterator
from pathlib import Path

import pytest

from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import RowRejected, TransformContext, to_date, to_datetime
from emr_exporter.pipeline.cells import to_source
from emr_exporter.pipeline.fhir import fhir_datetime

DOTNET = "%Y-%m-%d %p %I:%M:%S"  # DateTime.ToString() under ko-KR
JS = "%Y. %m. %d. %p %I:%M:%S"  # toLocaleString('ko-KR')
JS_DATE = "%Y. %m. %d."  # toLocaleDateString('ko-KR')
LONG = "%Y년 %m월 %d일"
LONG_WEEKDAY = "%Y년 %m월 %d일 %A"
LONG_TIME = "%Y년 %m월 %d일 %H시 %M분"
SPEC = ConnectorSpec(name="t", version="1", path=Path("."), date_formats=(JS_DATE, LONG, LONG_WEEKDAY),
                     datetime_formats=(DOTNET, JS, LONG_TIME))
CTX = TransformContext(spec=SPEC, attachments_root=None)
WHEN = FieldSpec(name="when", type="datetime")
DAY = FieldSpec(name="day", type="date")


@pytest.fixture(params=["C.UTF-8", "ko_KR.UTF-8"])
def process_locale(request: pytest.FixtureRequest) -> Iterator[str]:
    """The same answers under C and under ko_KR (where strptime's %p reads only 오전/오후)."""
    if request.param == "ko_KR.UTF-8":
        yield request.getfixturevalue("korean_locale")
        return
    saved = locale.setlocale(locale.LC_ALL)
    locale.setlocale(locale.LC_ALL, request.param)
    try:
        yield request.param
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def test_every_korean_written_form_reads_exactly(process_locale: str) -> None:
    times = {
        "2024-01-05 오후 3:20:11": dt.datetime(2024, 1, 5, 15, 20, 11),
        "2024-01-05 오후 03:20:11": dt.datetime(2024, 1, 5, 15, 20, 11),
        "2024-01-05 오전 9:05:00": dt.datetime(2024, 1, 5, 9, 5),
        "2024-01-05 오전 12:05:00": dt.datetime(2024, 1, 5, 0, 5),  # 12 오전 is midnight
        "2024-01-05 오후 12:05:00": dt.datetime(2024, 1, 5, 12, 5),  # 12 오후 is noon
        "2024-01-05 PM 3:20:11": dt.datetime(2024, 1, 5, 15, 20, 11),
        "2024-01-05 am 12:00:00": dt.datetime(2024, 1, 5, 0, 0),
        "2024. 1. 5. 오후 3:20:11": dt.datetime(2024, 1, 5, 15, 20, 11),
        "2024. 01. 05. 오전 11:59:59": dt.datetime(2024, 1, 5, 11, 59, 59),
        "2024. 12. 31. 오후 12:00:00": dt.datetime(2024, 12, 31, 12, 0),
        "2024년 01월 05일 15시 20분": dt.datetime(2024, 1, 5, 15, 20),
        "2024년 1월 5일 9시 5분": dt.datetime(2024, 1, 5, 9, 5),
    }
    assert {text: to_datetime(text, WHEN, CTX) for text in times} == times
    assert fhir_datetime(to_datetime("2024-01-05 오후 3:20:11", WHEN, CTX)) == "2024-01-05T15:20:11+09:00"
    assert fhir_datetime(to_datetime("2024. 1. 5. 오전 12:00:00", WHEN, CTX)) == "2024-01-05T00:00:00+09:00"
    dates = {
        "2024. 1. 5.": dt.date(2024, 1, 5),
        "1980. 3. 7.": dt.date(1980, 3, 7),
        "2024. 01. 05.": dt.date(2024, 1, 5),
        "2024년 1월 5일": dt.date(2024, 1, 5),
        "2024년 01월 05일": dt.date(2024, 1, 5),
        "2024년 1월 5일 금요일": dt.date(2024, 1, 5),
        "2024-01-05 오후 3:20:11": dt.date(2024, 1, 5),  # a date field on a date-time column: its day
    }
    assert {text: to_date(text, DAY, CTX) for text in dates} == dates
    for bad in ("2024. 2. 30.", "2024년 13월 5일", "2024. 1. 5"):  # no such day, no such month, no last dot
        with pytest.raises(RowRejected) as caught:
            to_date(bad, DAY, CTX)
        assert (caught.value.reason_code, caught.value.reason) == (
            "invalid-date", "field 'day' is not a valid calendar date")
    # a date-only text on a date-time field stays a date: no time is invented
    assert to_datetime("2024. 1. 5.", WHEN, CTX) == dt.date(2024, 1, 5)
    # a field's own format reads them too
    assert to_datetime("2024-01-05 오후 3:20:11", FieldSpec(name="w", type="datetime", format=(DOTNET,)),
                       TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")),
                                        attachments_root=None)) == dt.datetime(2024, 1, 5, 15, 20, 11)


@pytest.mark.parametrize(("good", "bad", "kind"), [
    ("2024-02-29 오후 3:00:00", "2024-02-30 오후 3:00:00", "datetime"),  # no such day
    ("2024-01-05 오후 12:00:00", "2024-01-05 오후 13:00:00", "datetime"),  # 13 o'clock 오후
    ("2024-01-05 오전 12:30:00", "2024-01-05 오전 0:30:00", "datetime"),  # a 12-hour clock has no 0
    ("2024-01-05 오후 3:00:00", "2024-01-05 저녁 3:00:00", "datetime"),
    ("2024. 1. 5. 오후 3:59:00", "2024. 1. 5. 오후 3:61:00", "datetime"),
    ("2024년 1월 5일 금요일", "2024년 1월 5일 월요일", "date"),  # 5 January 2024 was a Friday
])
def test_impossible_ones_are_invalid_dates_naming_the_field(good: str, bad: str, kind: str,
                                                            process_locale: str) -> None:
    read, spec = (to_datetime, WHEN) if kind == "datetime" else (to_date, DAY)
    assert isinstance(read(good, spec, CTX), dt.date)
    with pytest.raises(RowRejected) as caught:
        read(bad, spec, CTX)
    assert (caught.value.reason_code, caught.value.reason) == (
        "invalid-date", f"field '{spec.name}' is not a valid calendar date")


def test_the_cell_check_never_rebuilds_a_worded_form(process_locale: str) -> None:
    """오후 or PM, 금요일 or Friday: strftime depends on the locale, so these cells are carried raw instead."""
    moment = dt.datetime(2024, 1, 5, 15, 20, 11)
    for fmt in (DOTNET, JS, LONG_WEEKDAY):
        assert not isinstance(to_source(moment, "str", "datetime", fmt, "utf-8"), str)
        assert not isinstance(to_source(moment.date(), "str", "date", fmt, "utf-8"), str)
    assert to_source(moment.date(), "str", "date", LONG, "utf-8") == "2024년 01월 05일"


def test_month_abbreviations_read_the_same_under_every_locale(process_locale: str) -> None:
    # Before, under ko_KR: every '05-JAN-24' (SQL Server's and Oracle's DD-MON-YY) was invalid-date, strptime's %b
    # reading only that locale's month names ('1월'); under C it read them.
    spec = ConnectorSpec(name="t", version="1", path=Path("."), date_formats=("%d-%b-%y", "%d-%b-%Y"))
    ctx = TransformContext(spec=spec, attachments_root=None)
    days = {"05-JAN-24": dt.date(2024, 1, 5), "31-dec-99": dt.date(1999, 12, 31), "29-Feb-2024": dt.date(2024, 2, 29),
            "01-SEP-2019": dt.date(2019, 9, 1)}
    assert {text: to_date(text, DAY, ctx) for text in days} == days
    for text in ("30-FEB-24", "05-JNA-24", "5-JAN-24x"):
        with pytest.raises(RowRejected) as refused:
            to_date(text, DAY, ctx)
        assert refused.value.reason_code == "invalid-date"
