"""The date, time-zone, amount and flag transforms for the shapes Korean EMRs store, value by value."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import (
    RowRejected,
    TransformContext,
    settle_birth_date,
    to_bool,
    to_date,
    to_datetime,
    to_decimal,
)
from emr_exporter.pipeline.fhir import fhir_datetime

SPEC = ConnectorSpec(name="t", version="1", path=Path("."), date_formats=("%Y%m%d", "%Y.%m.%d"),
                     datetime_formats=("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"), two_digit_year_pivot=26)
CTX = TransformContext(spec=SPEC, attachments_root=None)
KST_0730 = dt.datetime(2023, 3, 2, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def field(**kwargs: object) -> FieldSpec:
    return FieldSpec(name="when", **kwargs)  # type: ignore[arg-type]


def test_epochs_are_dated_in_seoul_not_utc() -> None:
    seconds = int(KST_0730.timestamp())  # 22:30 UTC on 1 March
    assert to_date(seconds, field(type="date", format=("epoch",)), CTX) == dt.date(2023, 3, 2)
    assert to_date(str(seconds * 1000), field(type="date", format=("epoch_ms",)), CTX) == dt.date(2023, 3, 2)
    moment = to_datetime(seconds, field(type="datetime", format=("epoch",)), CTX)
    assert moment == dt.datetime(2023, 3, 2, 7, 30) and fhir_datetime(moment) == "2023-03-02T07:30:00+09:00"
    # a connector that says its clock is UTC keeps the offset, and the day is UTC's
    utc = field(type="datetime", format=("epoch",), tz="UTC")
    assert fhir_datetime(to_datetime(seconds, utc, CTX)) == "2023-03-01T22:30:00+00:00"
    assert to_date(seconds, dataclasses.replace(utc, type="date"), CTX) == dt.date(2023, 3, 1)
    with pytest.raises(RowRejected) as caught:
        to_date("12,000", field(type="date", format=("epoch",)), CTX)
    assert (caught.value.reason_code, caught.value.reason) == ("invalid-date", "field 'when' is not a Unix time")


def test_text_shapes_and_two_digit_years() -> None:
    assert to_datetime("2023-03-02 07:30:00", field(type="datetime"), CTX) == dt.datetime(2023, 3, 2, 7, 30)
    assert to_datetime("20230302073000", field(type="datetime"), CTX) == dt.datetime(2023, 3, 2, 7, 30)
    assert to_date("2023.03.02", field(type="date"), CTX) == dt.date(2023, 3, 2)
    two = field(type="date", format=("%y%m%d",))
    # pivot 26: 00..26 → 20xx, 27..99 → 19xx (strptime alone would make 690101 1969 but 680101 2068)
    assert [to_date(t, two, CTX) for t in ("260101", "270101", "680101", "991231")] == [
        dt.date(2026, 1, 1), dt.date(1927, 1, 1), dt.date(1968, 1, 1), dt.date(1999, 12, 31)]
    with pytest.raises(RowRejected):
        to_date("2023.02.30", field(type="date"), CTX)


def test_digits_of_another_length_are_not_read_by_a_format_without_separators() -> None:
    # A legacy clinic's visit day as a Unix time (1700086400) where the connector expects YYYYMMDD: strptime
    # reads %m %d %H from one digit each, so the default %Y%m%d%H%M%S made it 1700-08-06 04:00 (year 1700 in
    # FHIR). Now the row's field is an invalid date, its value carried raw.
    for text in ("1700086400", "2460001", "2024011", "202401011230"):
        with pytest.raises(RowRejected) as caught:
            to_date(text, field(type="date"), CTX)
        assert caught.value.reason_code == "invalid-date", text
    with pytest.raises(RowRejected):
        to_date("24015", field(type="date", format=("%y%m%d",)), CTX)
    assert to_date(20240105, field(type="date"), CTX) == dt.date(2024, 1, 5)
    assert to_date("240105", field(type="date", format=("%y%m%d",)), CTX) == dt.date(2024, 1, 5)
    assert to_date("2024-1-5", field(type="date", format=("%Y-%m-%d",)), CTX) == dt.date(2024, 1, 5)


def test_access_writes_true_as_minus_one() -> None:
    # A clinic converted from Access (or a Visual Basic program) keeps yes/no as -1/0: every -1 was
    # 'invalid-bool' ("field 'when' is not a yes/no value"), so an active patient's flag was left out of FHIR.
    flag = field(type="bool")
    assert [to_bool(v, flag, CTX) for v in (-1, "-1", 0, "0", "Y", "N", "T", "F")] == [
        True, True, False, False, True, False, True, False]
    with pytest.raises(RowRejected):
        to_bool(-2, flag, CTX)


def test_a_stored_infinity_or_nan_is_no_number_fhir_can_hold() -> None:
    # A SQLite REAL 1e999 (or a PostgreSQL float8 'Infinity', numeric NaN) in a decimal field stopped the
    # export with "an unexpected problem (TypeError) … encoder.py:180 in default … This is a bug" (Decimal
    # Infinity is no JSON number); the text 'Infinity' was already refused as not a finite number.
    for value in (float("inf"), float("-inf"), float("nan"), Decimal("NaN"), Decimal("-Infinity"), "Infinity"):
        with pytest.raises(RowRejected) as caught:
            to_decimal(value, field(type="decimal"), CTX)
        assert (caught.value.reason_code, caught.value.reason) == (
            "invalid-number", "field 'when' is not a finite number"), value
    assert to_decimal(2500.5, field(type="decimal"), CTX) == Decimal("2500.5")
    assert to_decimal(Decimal("12.50"), field(type="decimal"), CTX) == Decimal("12.50")


def test_amounts_and_flags() -> None:
    amount = field(type="decimal")
    assert [to_decimal(t, amount, CTX) for t in ("12,000원", "₩12,000", "\\12,000", "12 000", "4500")] == [
        Decimal(12000)] * 4 + [Decimal(4500)]
    with pytest.raises(RowRejected) as caught:
        to_decimal("만원", amount, CTX)
    assert caught.value.reason_code == "invalid-number"
    flag = field(type="bool")
    assert [to_bool(t, flag, CTX) for t in ("Y", "N", "1", "0", "T", "F", 1, 0)] == [True, False] * 4


@pytest.mark.parametrize("stored", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), float("inf"),
                                    float("-inf"), float("nan"), "NaN", "Infinity"])
def test_a_number_no_fhir_decimal_can_hold_is_a_field_defect(stored: object) -> None:
    # PostgreSQL numeric 'NaN' comes as Decimal('NaN'), float8 'Infinity' as float('inf'): both were passed through
    # and stopped the export in decimal_element ('an unexpected problem (ValueError) … This is a bug')
    with pytest.raises(RowRejected) as caught:
        to_decimal(stored, field(type="decimal"), CTX)
    assert (caught.value.reason_code, caught.value.reason) == ("invalid-number", "field 'when' is not a finite number")


def test_a_birth_date_after_today_is_a_century_earlier_without_a_configured_pivot() -> None:
    # Before: with the default pivot (this year's two digits) a birth date written for a day later this year
    # ('261215' read on 2026-12-03) was a baby born in the future, 2026-12-15 in FHIR; it is 1926-12-15.
    today = dt.date.today()
    ahead = today + dt.timedelta(days=1)
    text = f"{ahead:%y%m%d}"
    default = TransformContext(spec=dataclasses.replace(SPEC, two_digit_year_pivot=None), attachments_root=None)
    birth = FieldSpec(name="birth_date", type="date", format=("%y%m%d",))
    assert to_date(text, birth, default) == dt.date(1900 + ahead.year % 100, ahead.month, ahead.day)
    assert to_date(f"{today:%y%m%d}", birth, default) == today  # born today: today
    # any other date keeps the pivot's rule: a visit booked for tomorrow stays tomorrow (not 1926)
    visit = field(type="date", format=("%y%m%d",))
    assert to_date(text, visit, default) == (ahead if ahead.year == today.year else ahead.replace(year=1900 + ahead.year % 100))
    # a configured pivot means what it says, for birth dates too
    assert to_date(text, birth, dataclasses.replace(default, spec=dataclasses.replace(SPEC, two_digit_year_pivot=99))
                   ) == dt.date(2000 + ahead.year % 100, ahead.month, ahead.day)
    # 'DD-MON-YY' as SQL Server/Oracle write it: the same rule
    worded = FieldSpec(name="birth_date", type="date", format=("%d-%b-%y",))
    month = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")[ahead.month - 1]
    assert to_date(f"{ahead.day:02d}-{month}-{ahead:%y}", worded, default).year == 1900 + ahead.year % 100


def test_a_two_digit_birth_year_takes_the_century_of_the_patients_rrn() -> None:
    # The RRN's 7th digit: 1/2 1900s, 3/4 2000s, 9/0 1800s, foreigners 5/6 1900s and 7/8 2000s.
    born_2024 = dt.date(2024, 1, 5)
    assert [settle_birth_date(born_2024, "240105", f"240105-{d}234567", None, False) for d in "1234567890"] == [
        dt.date(1924, 1, 5), dt.date(1924, 1, 5), born_2024, born_2024, dt.date(1924, 1, 5), dt.date(1924, 1, 5),
        born_2024, born_2024, dt.date(1824, 1, 5), dt.date(1824, 1, 5)]
    assert settle_birth_date(dt.date(1999, 12, 31), "991231", "9912314234567", None, False) == dt.date(2099, 12, 31)
    # an RRN of another day is no evidence of the century: the date is left as read
    assert settle_birth_date(born_2024, "240105", "240106-1234567", None, True) == born_2024
    # 29 February 2000 with a 1900s RRN: 1900 was no leap year, there is no such date, left as read
    assert settle_birth_date(dt.date(2000, 2, 29), "000229", "000229-1234567", None, True) == dt.date(2000, 2, 29)
    # without an RRN and without a configured pivot: a birth date after the first visit is a century earlier
    assert settle_birth_date(born_2024, "240105", None, dt.date(2015, 3, 2), True) == dt.date(1924, 1, 5)
    assert settle_birth_date(born_2024, b"05-JAN-24", "", dt.datetime(2024, 1, 5, 9), True) == born_2024
    assert settle_birth_date(dt.datetime(2024, 1, 5, 9), "240105 09:00", None, dt.date(2015, 3, 2), True) == dt.datetime(1924, 1, 5, 9)
    assert settle_birth_date(born_2024, "240105", None, dt.date(2015, 3, 2), False) == born_2024  # a configured pivot
    assert settle_birth_date(born_2024, "240105", None, None, True) == born_2024  # no evidence: the pivot's reading
    assert settle_birth_date(None, "240105", "240105-1234567", None, True) is None
    # a year written with four digits, or a date the database typed, was no two-digit year: left as written
    for stored in ("2024-01-05", "20240105", b"2024.01.05", born_2024, 240105):
        assert settle_birth_date(born_2024, stored, "240105-1234567", dt.date(2015, 3, 2), True) == born_2024, stored
