"""MariaDB ``TIMESTAMP`` in a section's own columns keeps its instant: Connector/ODBC hands such a value over as
the wall time in the *session's* ``time_zone`` (the server's ``SYSTEM``, UTC here), which the connector reads as
its ``[source] timezone`` (Asia/Seoul): nine hours off. The export sets the session to the connector's zone, as on
PostgreSQL (tests/test_pg_timezone.py). Real server started by ``.ci/dbservers.sh`` (never skipped)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from emr_exporter.sources.drivers import get_option, session_time_zone_sql
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from test_pg_timezone import _without_password, encounter_periods

CONNECTOR = """
[connector]
name = "mariatz"
version = "1.0.0"
engines = ["mariadb"]
{source}
[skip]

[entities.patient]
table = "tz_patient"
key = "pt_no"

[entities.patient.fields]
chart_number = {{ column = "chart_no", required = true }}
name = {{ column = "pt_nm", required = true }}

[entities.encounter]
table = "tz_visit"
key = "visit_no"

[entities.encounter.fields]
patient_id = {{ column = "pt_no", type = "ref", ref = "patient", required = true }}
start = {{ column = "seen_at", type = "datetime", required = true }}
end = {{ column = "left_at", type = "datetime" }}
"""


def _connector(tmp_path: Path, source: str = "") -> Path:
    folder = tmp_path / "connectors" / "mariatz"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(CONNECTOR.format(source=source), encoding="utf-8")
    return folder.parent


@pytest.fixture
def utc_clinic(mariadb_conn_str: str) -> str:
    """A visit stored at 2024-03-05 01:30 UTC: a TIMESTAMP (an instant) and a DATETIME (a wall time)."""
    import pyodbc

    target = _fresh_database(mariadb_conn_str, "emr_mariatz", "mariadb")
    conn = pyodbc.connect(target, autocommit=True)
    try:
        conn.execute("SET time_zone = '+00:00'")
        conn.execute("CREATE TABLE tz_patient (pt_no INT PRIMARY KEY, chart_no TEXT, pt_nm TEXT)")
        conn.execute("CREATE TABLE tz_visit (visit_no INT PRIMARY KEY, pt_no INT, seen_at TIMESTAMP NULL, "
                     "left_at DATETIME)")
        conn.execute("INSERT INTO tz_patient VALUES (1, 'C1', '가상환자')")
        conn.execute("INSERT INTO tz_visit VALUES (1, 1, '2024-03-05 01:30:00', '2024-03-05 11:00:00')")
    finally:
        conn.close()
    return target


@pytest.mark.db
def test_a_timestamp_column_keeps_its_instant_with_the_server_in_utc(utc_clinic: str, tmp_path: Path) -> None:
    # (the test server's zone is its machine's: UTC here and on CI, where the old code went wrong)
    # 01:30 UTC is 10:30 in Seoul (main's code wrote 2024-03-05T01:30:00+09:00: nine hours early); the DATETIME
    # is a wall time, read as written in either session
    assert encounter_periods(utc_clinic, _connector(tmp_path), "mariatz") == [
        {"start": "2024-03-05T10:30:00+09:00", "end": "2024-03-05T11:00:00+09:00"}]


@pytest.mark.db
def test_a_zone_the_server_does_not_know_leaves_its_zone_with_a_warning(
    utc_clinic: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The test server has no time zone tables: a named zone is refused, the export goes on in the server's zone
    with caplog.at_level("WARNING", logger="emr_exporter.sources.odbc"):
        source = OdbcSource(_without_password(utc_clinic), password=get_option(utc_clinic, "PWD"),
                            time_zone="America/New_York")
    try:
        assert source.scalar("SELECT seen_at FROM tz_visit") == dt.datetime(2024, 3, 5, 1, 30)
    finally:
        source.close()
    assert [r.getMessage() for r in caplog.records if r.name == "emr_exporter.sources.odbc"] == [
        "the clinic database does not know the connector's time zone America/New_York; TIMESTAMP columns are "
        "read in the server's time zone (docs/databases.md)"]


@pytest.mark.db
def test_the_session_zone_is_set_again_after_a_reconnect(utc_clinic: str) -> None:
    source = OdbcSource(_without_password(utc_clinic), password=get_option(utc_clinic, "PWD"), snapshot=True,
                        time_zone="Asia/Seoul")
    try:
        assert source.scalar("SELECT seen_at FROM tz_visit") == dt.datetime(2024, 3, 5, 10, 30)
        source.reconnect()
        assert source.scalar("SELECT seen_at FROM tz_visit") == dt.datetime(2024, 3, 5, 10, 30)
    finally:
        source.close()


def test_the_mariadb_session_statement_for_each_kind_of_zone() -> None:
    for name in ("Asia/Seoul", "KST", "+09:00"):
        assert session_time_zone_sql("mariadb", name) == "SET time_zone = '+09:00'"
    assert session_time_zone_sql("mysql", "Etc/UTC") == "SET time_zone = '+00:00'"
    assert session_time_zone_sql("mariadb", "America/New_York") == "SET time_zone = 'America/New_York'"
    assert session_time_zone_sql("sqlite-odbc", "Asia/Seoul") is None
