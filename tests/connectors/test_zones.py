"""connectors/zones.py: stored values' time zones by IANA name."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest

from emr_exporter.connectors.zones import KST, zone


def test_seoul_and_utc_need_no_database() -> None:
    assert zone("Asia/Seoul") is KST
    assert zone("+09:00") is KST
    assert zone("UTC") is dt.UTC


@pytest.mark.parametrize(
    ("name", "winter_hours", "summer_hours"),
    [("America/New_York", -5, -4), ("Europe/Berlin", 1, 2), ("Asia/Tokyo", 9, 9)],
)
def test_other_zones_keep_their_daylight_saving(name: str, winter_hours: int, summer_hours: int) -> None:
    tz = zone(name)
    assert dt.datetime(2024, 1, 15, 12, tzinfo=tz).utcoffset() == dt.timedelta(hours=winter_hours)
    assert dt.datetime(2024, 7, 15, 12, tzinfo=tz).utcoffset() == dt.timedelta(hours=summer_hours)


def test_the_zone_database_ships_with_the_package() -> None:
    # Windows has no system tz database: zoneinfo falls back to the tzdata package, a dependency.
    assert importlib.util.find_spec("tzdata") is not None


def test_an_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match=r"^unknown time zone 'Mars/Olympus' \(an IANA name such as Asia/Seoul or UTC\)$"):
        zone("Mars/Olympus")
