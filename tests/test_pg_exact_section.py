"""PostgreSQL values in a section's own columns come back exact (a connector whose query reads the table as it is,
no CAST: what ``scaffold`` writes for a clinic nobody has seen). psqlODBC alone turned ``infinity`` into today's
date, a BC date into an AD one, year 10000 into year 1000, failed the whole query on a TIME of 24:00:00, dropped a
timestamptz's offset and wrote a uuid in upper case. The export reads the section's date, time and uuid columns
as the server's text (their types found without reading a row) and converts them back: a value Python has no date
for becomes a field defect in a mapped date field (kept raw, with its reason, the rest of the chart whole) and is
carried as its exact text in an unmapped column. An interval column comes as the server writes it, before and now.

Through the CLI: a dry run, a sealed export, ``open``; real server started by ``.ci/dbservers.sh`` (the ``db`` tests
fail, never skip, when it is down)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from emr_exporter.cli import main
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.jobs.service import ExportRequest, open_export_source
from emr_exporter.pipeline import export as export_module
from emr_exporter.pipeline.export import ExportRun
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.catalog import readable_query
from emr_exporter.sources.drivers import get_option, parse_connection_string
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

INSTITUTION = ("12345678", "가상정확의원")
CREATED = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
KST = dt.timezone(dt.timedelta(hours=9))
UUID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
TOKENS = ("0aeebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "c0ffee00-0000-4000-8000-00000000000f", UUID)
INTERVAL = "1 year 2 mons -3 days +04:05:06.5"  # as the server writes it

CONNECTOR = """
[connector]
name = "pgsec"
version = "1.0.0"
engines = ["postgresql"]

[skip]

[entities.patient]
table = "pt"
key = "pt_no"

[entities.patient.fields]
chart_number = { column = "chart_no", required = true }
name = { column = "pt_nm", required = true }
birth_date = { column = "birth", type = "date" }
"""

COLUMNS = (("pt_no", "INT"), ("chart_no", "TEXT"), ("pt_nm", "TEXT"), ("birth", "DATE"), ("d", "DATE"),
           ("ts", "TIMESTAMP"), ("tstz", "TIMESTAMPTZ"), ("t", "TIME"), ("ttz", "TIMETZ"), ("iv", "INTERVAL"),
           ("u", "UUID"), ("seen", "visit_day"))  # visit_day: a domain over DATE
#: The columns only a table with times has: a TIME of 24:00:00 failed the whole export before (the others fail
#: silently: the table without them shows that).
TIMES = ("t", "ttz")
ROWS = (
    (1, "C1", "가상일", "1980-05-17", "2024-02-29", "2024-01-01 10:00:00.5", "2024-03-05 01:30:00+00", "23:59:59",
     "10:00:00+05", INTERVAL, UUID, "2020-02-02"),
    (2, "C2", "가상이", "infinity", "-infinity", "infinity", "-infinity", "24:00:00", "24:00:00+05", "-00:00:01",
     UUID.upper(), "infinity"),
    (3, "C3", "가상삼", "0044-03-15 BC", "10000-01-01", "0001-01-01 00:00:00 BC", "10000-01-01 00:00:00+00",
     "00:00:00", "00:00:00-03:30", "00:00:00", None, "20000-01-01"),
    (4, "C4", "가상사", "10000-12-31", None, "10000-06-30 12:00:00", "0100-01-01 00:00:00+00 BC", None, None, None,
     None, None),
)
#: What each unmapped cell is after ``open`` (decoded from the raw sidecar), by patient key.
EXPECTED: dict[int, dict[str, Any]] = {
    1: {"d": dt.date(2024, 2, 29), "ts": dt.datetime(2024, 1, 1, 10, 0, 0, 500000),
        "tstz": dt.datetime(2024, 3, 5, 10, 30, tzinfo=KST), "t": dt.time(23, 59, 59),
        "ttz": dt.time(10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))), "iv": INTERVAL, "u": UUID,
        "seen": dt.date(2020, 2, 2)},
    2: {"d": "-infinity", "ts": "infinity", "tstz": "-infinity", "t": "24:00:00", "ttz": "24:00:00+05",
        "iv": "-00:00:01", "u": UUID, "seen": "infinity"},
    3: {"d": "10000-01-01", "ts": "0001-01-01 00:00:00 BC", "tstz": "10000-01-01 09:00:00+09",
        "t": dt.time(0, 0), "ttz": dt.time(0, 0, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))),
        "iv": "00:00:00", "u": None, "seen": "20000-01-01"},
    4: {"d": None, "ts": "10000-06-30 12:00:00", "tstz": "0100-01-01 09:00:00+09 BC", "t": None, "ttz": None,
        "iv": None, "u": None, "seen": None},
}


def _run(args: list[str], env: dict[str, str], *codes: int) -> Result:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code in codes, (args[0], result.exit_code, result.output[-3000:])
    assert "Traceback" not in result.output and "unexpected problem" not in result.output, result.output[-3000:]
    return result


@pytest.fixture(params=[True, False], ids=["with-times", "without-times"])
def exact_clinic(request: pytest.FixtureRequest, postgres_conn_str: str) -> tuple[str, tuple[str, ...]]:
    """A clinic whose patient table (a section) and device table (carried) hold what psqlODBC corrupts, and
    the patient table's columns; the server's sessions start in UTC, so a timestamptz's text is written in the
    connector's +09:00 only if the export sets it."""
    import pyodbc

    columns = [(i, name, kind) for i, (name, kind) in enumerate(COLUMNS) if request.param or name not in TIMES]
    target = _fresh_database(postgres_conn_str, "emr_pgsec_exact", "postgresql")
    conn = pyodbc.connect(target, autocommit=True)
    try:
        conn.execute("ALTER DATABASE emr_pgsec_exact SET TimeZone = 'UTC'")
        conn.execute("CREATE DOMAIN visit_day AS DATE")
        conn.execute(f"CREATE TABLE pt ({', '.join(f'{n} {k}' for _, n, k in columns)}, PRIMARY KEY (pt_no))")
        values = ", ".join(f"CAST(CAST(? AS TEXT) AS {kind})" for _, _, kind in columns)
        for row in ROWS:
            conn.execute(f"INSERT INTO pt ({', '.join(n for _, n, _ in columns)}) VALUES ({values})",
                         *[None if row[i] is None else str(row[i]) for i, _, _ in columns])
        conn.execute("CREATE TABLE device (id INT PRIMARY KEY, u UUID, iv INTERVAL, d DATE)")
        conn.execute(f"INSERT INTO device VALUES (1, '{UUID}', '{INTERVAL}', 'infinity'), "
                     "(2, NULL, '-1 days +02:00:00', '0044-03-15 BC')")
        conn.execute("CREATE TABLE token (k UUID PRIMARY KEY, n INT)")  # carried, keyed by a uuid
        conn.execute("INSERT INTO token VALUES " + ", ".join(f"('{k}', {n})" for n, k in enumerate(TOKENS)))
    finally:
        conn.close()
    return target, tuple(n for _, n, _ in columns)


def _connectors(tmp_path: Path) -> Path:
    folder = tmp_path / "connectors" / "pgsec"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    return folder.parent


def _without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


def _export(conn_str: str, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], Path]:
    connectors = _connectors(tmp_path)
    without = _without_password(conn_str)
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    env = {"EMR_EXPORTER_DB_PASSWORD": get_option(conn_str, "PWD") or "",
           "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}
    export = ["export", "--connector", "pgsec", "--connectors-dir", str(connectors), "--odbc", without,
              "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--json"]
    dry = json.loads(_run([*export, "--dry-run"], env, 0).output)
    sealed = json.loads(_run([*export, "--out", str(tmp_path / "out"), "--cert", str(keys.institution_p12),
                              "--store-cert", str(keys.store_cert), "--accept-signer-mismatch"], env, 0).output)
    _run(["open", str(sealed["bundle"]["path"]), "--key", str(keys.store_key), "--out", str(tmp_path / "opened"),
          "--trust-anchor", str(keys.ca_cert), "--json"], env, 0)
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    return dry, sealed, bag


def _ndjson(bag: Path, pattern: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(pattern)) for line in path.read_bytes().splitlines()]


@pytest.mark.db
def test_a_sections_dates_times_and_uuids_come_back_exact(
    exact_clinic: tuple[str, tuple[str, ...]], tmp_path: Path
) -> None:
    conn_str, columns = exact_clinic
    dry, sealed, bag = _export(conn_str, tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    for outcome in (dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        # 4 rows in the section, 2 x 4 and 3 x 2 cells in the carried tables: every one mapped or carried raw
        assert outcome["cells"]["source"] == 4 * len(columns) + 2 * 4 + 3 * 2
        assert outcome["cells"]["source"] == outcome["cells"]["mapped"] + outcome["cells"]["carried_raw"]
        assert outcome["cells"]["quarantined"] == 0
        assert outcome["field_defects"] == {"invalid-date": 3}  # infinity, 44 BC, 10000-12-31: not in FHIR
    [patient_counts] = [e for e in reconciliation["entities"] if e["entity"] == "patient"]
    assert (patient_counts["source_rows"], patient_counts["exported"], patient_counts["quarantined"]) == (4, 4, 0)

    # the charts are whole: every patient, the valid birth date mapped, the others left out of FHIR
    patients = {p["identifier"][0]["value"]: p for p in _ndjson(bag, "data/fhir/Patient.*.ndjson")}
    assert sorted(patients) == ["C1", "C2", "C3", "C4"]
    assert patients["C1"]["birthDate"] == "1980-05-17"
    assert [p.get("birthDate") for c, p in sorted(patients.items()) if c != "C1"] == [None, None, None]

    sidecar = {int(line["key"]): line for line in _ndjson(bag, "data/raw/columns/patient.*.ndjson")}
    assert sorted(sidecar) == [1, 2, 3, 4]
    for key, expected in EXPECTED.items():
        found = {column: decode_raw(value) for column, value in sidecar[key]["columns"].items()}
        expected = {c: v for c, v in expected.items() if c in columns}
        assert {c: v for c, v in found.items() if c != "birth"} == expected, key
        for column, value in expected.items():  # the type too (a date is not its text, nor a str a date)
            assert type(found[column]) is type(value), (key, column, found[column])
    # a birth date Python has no date for: a field defect, its exact text in the sidecar with the reason
    for key, text in ((2, "infinity"), (3, "0044-03-15 BC"), (4, "10000-12-31")):
        assert sidecar[key]["columns"]["birth"] == text
        assert sidecar[key]["field_defects"] == [
            {"field": "birth_date", "column": "birth", "reason_code": "invalid-date"}], key
    assert "birth" not in sidecar[1]["columns"] and "field_defects" not in sidecar[1]

    # a carried table's uuid as the server writes it (psqlODBC: upper case); its interval and dates as before
    [device] = [t for t in reconciliation["inventory"] if t["name"] == "device"]
    carried = _ndjson(bag, f"{device['files'].removesuffix('.*.ndjson')}.*.ndjson")
    assert [{k: decode_raw(v) for k, v in line["row"].items()} for line in carried] == [
        {"id": 1, "u": UUID, "iv": INTERVAL, "d": "infinity"},
        {"id": 2, "u": None, "iv": "-1 days +02:00:00", "d": "0044-03-15 BC"},
    ]


@pytest.mark.db
def test_worker_processes_and_small_pages_read_the_same_exact_values(
    exact_clinic: tuple[str, tuple[str, ...]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rows the export's parent hands its worker processes (value tuples, converted after paging) and
    # pages of one row (each next page after the last key as the query gives it): the same bag as one core.
    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 1)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    conn_str, _ = exact_clinic
    request = ExportRequest(
        connector="pgsec", connectors_dirs=(_connectors(tmp_path),), created=CREATED,
        institution_code=INSTITUTION[0], institution_name=INSTITUTION[1],
        source=SourceAddress(odbc=_without_password(conn_str), password=get_option(conn_str, "PWD")),
    )
    bags = []
    for workers, page_size in ((1, 2000), (2, 1), (2, 3)):
        with open_export_source(request) as (spec, source, institution, attachments_root):
            run = ExportRun(spec, source, institution=institution, created=CREATED,
                            attachments_root=attachments_root, workers=workers, page_size=page_size)
            data = b"".join(run.stream())
            assert run._pool_tried == (workers > 1)
        bags.append(data)
    assert bags[1] == bags[0] and bags[2] == bags[0]
    with tarfile.open(fileobj=io.BytesIO(bags[0])) as tar:
        sidecar = b"".join(tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                           if m.isfile() and "/raw/columns/patient." in m.name)
    lines = {json.loads(line)["key"]: json.loads(line)["columns"] for line in sidecar.splitlines()}
    assert (lines["2"]["birth"], lines["2"]["d"], lines["3"]["ts"]) == (
        "infinity", "-infinity", "0001-01-01 00:00:00 BC")
    # a carried table keyed by a uuid, in pages of one row: every key once, in the server's lower case
    with tarfile.open(fileobj=io.BytesIO(bags[1])) as tar:
        tokens = b"".join(tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                          if m.isfile() and "/raw/tables/token." in m.name)
    assert [json.loads(line)["row"]["k"] for line in tokens.splitlines()] == sorted(TOKENS)


@pytest.mark.db
def test_a_querys_result_types_are_found_without_reading_a_row(
    postgres_conn_str: str, caplog: pytest.LogCaptureFixture
) -> None:
    source = OdbcSource(_without_password(postgres_conn_str), password=get_option(postgres_conn_str, "PWD"))
    try:
        # reading a row of it fails (division by zero): the describe reads none
        sql = ("SELECT 1 / (n - n) AS x, DATE 'infinity' AS \"When\", "
               f"'{UUID}'::uuid AS u, now() AS tz FROM generate_series(1, 1) AS g(n)")
        assert source.result_columns(sql) == [
            ("x", "integer"), ("When", "date"), ("u", "uuid"), ("tz", "timestamp with time zone")]
        wrapped, converters = readable_query(source, sql)
        assert wrapped == (f'SELECT "x", CAST("When" AS TEXT) AS "When", "u", CAST("tz" AS TEXT) AS "tz" FROM ({sql}) '
                           "AS readable_src")
        assert sorted(converters) == ["tz", "u", "when"]
        # two result columns of one name cannot be selected one by one: read as the driver gives them, said
        twice = "SELECT 1 AS a, 2 AS a, CURRENT_DATE AS d"
        with caplog.at_level("WARNING", logger="emr_exporter.sources.catalog"):
            assert readable_query(source, twice) == (twice, {})
        assert [r.getMessage() for r in caplog.records] == [
            "a query has two result columns of one name: its dates and times are read as the driver gives them"]
    finally:
        source.close()
