"""PostgreSQL ``timestamptz`` in a section's own columns keeps its instant: psqlODBC hands such a value over as a
naive wall time in the *session's* TimeZone (the server's default, UTC here), which the connector reads as its
``[source] timezone`` (Asia/Seoul): nine hours off. The export sets the session to the connector's zone
(:func:`emr_exporter.connectors.spec.session_time_zone`), on connecting and again after a reconnect.
Real server started by ``.ci/dbservers.sh`` (the ``db`` tests fail, never skip, when it is down)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.connectors.spec import session_time_zone
from emr_exporter.jobs.service import ExportRequest, open_export_source
from emr_exporter.pipeline.export import ExportRun
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.drivers import get_option, parse_connection_string, postgres_time_zone_sql
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

CREATED = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
CONNECTOR = """
[connector]
name = "pgtz"
version = "1.0.0"
engines = ["postgresql"]

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
start = {{ column = "seen_at", type = "datetime", required = true{start_tz} }}
"""


def _connector(tmp_path: Path, start_tz: str = "") -> Path:
    folder = tmp_path / "connectors" / "pgtz"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(CONNECTOR.format(start_tz=start_tz), encoding="utf-8")
    return folder.parent


def _without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


@pytest.fixture
def utc_clinic(postgres_conn_str: str) -> str:
    """A database whose sessions start in UTC (set on the database, so not on this machine's defaults)."""
    import pyodbc

    target = _fresh_database(postgres_conn_str, "emr_pgtz", "postgresql")
    conn = pyodbc.connect(target, autocommit=True)
    try:
        conn.execute("ALTER DATABASE emr_pgtz SET TimeZone = 'UTC'")
        conn.execute("CREATE TABLE tz_patient (pt_no INT PRIMARY KEY, chart_no TEXT, pt_nm TEXT)")
        conn.execute("CREATE TABLE tz_visit (visit_no INT PRIMARY KEY, pt_no INT, seen_at timestamptz)")
        conn.execute("INSERT INTO tz_patient VALUES (1, 'C1', '가상환자')")
        conn.execute("INSERT INTO tz_visit VALUES (1, 1, '2024-03-05 01:30:00+00')")
    finally:
        conn.close()
    return target


def _encounter_starts(conn_str: str, connectors: Path) -> list[str]:
    return [period["start"] for period in encounter_periods(conn_str, connectors, "pgtz")]


def encounter_periods(conn_str: str, connectors: Path, connector: str) -> list[dict[str, str]]:
    """The Encounter periods of an export of ``conn_str`` through ``connector`` (found in ``connectors``)."""
    request = ExportRequest(
        connector=connector, connectors_dirs=(connectors,), created=CREATED,
        institution_code="12345678", institution_name="가상의원",
        source=SourceAddress(odbc=_without_password(conn_str), password=get_option(conn_str, "PWD")),
    )
    with open_export_source(request) as (spec, source, institution, attachments_root):
        run = ExportRun(spec, source, institution=institution, created=CREATED, attachments_root=attachments_root)
        data = b"".join(run.stream())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        texts = [tar.extractfile(m).read().decode("utf-8") for m in tar.getmembers()  # type: ignore[union-attr]
                 if m.isfile() and m.name.endswith(".ndjson")]
    resources = [json.loads(line) for text in texts for line in text.splitlines()]
    return [r["period"] for r in resources if r.get("resourceType") == "Encounter"]


@pytest.mark.db
def test_a_timestamptz_column_keeps_its_instant_with_the_server_in_utc(utc_clinic: str, tmp_path: Path) -> None:
    import pyodbc

    with pyodbc.connect(utc_clinic, autocommit=True) as plain:
        assert plain.execute("SHOW TimeZone").fetchone()[0] == "UTC"  # the server's own zone, left as it is
    # 2024-03-05 01:30 UTC is 10:30 in Seoul (main's code wrote 2024-03-05T01:30:00+09:00: nine hours early)
    assert _encounter_starts(utc_clinic, _connector(tmp_path)) == ["2024-03-05T10:30:00+09:00"]


@pytest.mark.db
def test_a_field_with_its_own_zone_leaves_the_session_zone_alone(
    utc_clinic: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # start = { ..., tz = "UTC" }: the connector says the wall time is UTC; with the session left in the
    # server's UTC that is exactly what psqlODBC hands over, so the instant is right too.
    connectors = _connector(tmp_path, start_tz=', tz = "UTC"')
    assert session_time_zone(load_connector("pgtz", (connectors,))) is None
    with caplog.at_level("WARNING", logger="emr_exporter.sources.address"):
        [start] = _encounter_starts(utc_clinic, connectors)
    assert [r.getMessage() for r in caplog.records if r.name == "emr_exporter.sources.address"] == [
        "field encounter.start has its own time zone: the database session keeps the server's time zone, "
        "so a timestamptz column is read in it (docs/databases.md)"]
    assert dt.datetime.fromisoformat(start) == dt.datetime(2024, 3, 5, 1, 30, tzinfo=dt.UTC)


@pytest.mark.db
def test_the_session_zone_is_set_again_after_a_reconnect(utc_clinic: str) -> None:
    source = OdbcSource(_without_password(utc_clinic), password=get_option(utc_clinic, "PWD"), snapshot=True,
                        time_zone="Asia/Seoul")
    try:
        seoul = "SELECT CAST(seen_at AS TEXT) FROM tz_visit"
        assert source.scalar(seoul) == "2024-03-05 10:30:00+09"
        assert source.scalar("SELECT seen_at FROM tz_visit") == dt.datetime(2024, 3, 5, 10, 30)
        source.reconnect()
        assert source.scalar(seoul) == "2024-03-05 10:30:00+09"
    finally:
        source.close()


def test_the_session_statement_for_each_kind_of_zone() -> None:
    # Asia/Seoul as the pipeline reads it: a fixed +09:00 (PostgreSQL's Asia/Seoul has 1987-88 summer times,
    # and a POSIX "+09:00" would be nine hours west)
    for name in ("Asia/Seoul", "KST", "+09:00"):
        assert postgres_time_zone_sql(name) == "SET TIME ZONE INTERVAL '+09:00' HOUR TO MINUTE"
    assert postgres_time_zone_sql("Etc/UTC") == "SET TIME ZONE 'UTC'"
    assert postgres_time_zone_sql("America/New_York") == "SET TIME ZONE 'America/New_York'"
