"""A lab panel's report lists its results: ``LAB_RSLT.PANEL_NO`` → ``LAB_PANEL`` (a CBC), through the IT contractor's
flow (``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``open``), every cell rebuilt.

Before: the scaffold never wired ``PANEL_NO``, the connector language had no way to say it but a GROUP_CONCAT the
contractor wrote, and each DiagnosticReport listed no result (a patient's portal copy showed an empty report).
Now a lab result's ``report_id`` (a reference to the lab_report section, which comes after it) makes the report's
``result`` list each Observation of it in the order of the results' keys; a result naming no panel that exists
is quarantined as an orphan (as one naming a visit that does not exist), a quarantined result is left out of its report's list,
and the results of a quarantined report are Observations no report lists — never a dangling reference.
An outside lab's result (수탁검사) names the lab (Observation.performer's display) and its report time
(Observation.issued); before, both columns were carried raw only.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.errors import ConnectorSpecError
from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import checked, exported, scaffolded
from test_lab_vitals_clinic import CBC, OUTSIDE, Clinic, fill_lab_vitals_clinic

#: rows added to the clinic: a result naming a panel that does not exist, a panel with neither code nor name
#: (quarantined: FHIR's DiagnosticReport needs a code) and its result, a CBC result with no date (quarantined).
ORPHAN_RESULT, QUARANTINED_PANEL, RESULT_OF_QUARANTINED, UNDATED_RESULT = 90001, 9001, 90002, 90003


def fill_panels_clinic(conn: Any, drop_foreign_key: str | None = None) -> dict[str, int]:
    """The lab/vitals clinic and the rows above; ``drop_foreign_key``: the statement letting LAB_RSLT name a
    panel that does not exist on a server that enforces the table's FOREIGN KEY (a clinic's EMR often declares none)."""
    rows = fill_lab_vitals_clinic(conn)
    if drop_foreign_key:
        conn.execute(drop_foreign_key)
    insert = "INSERT INTO LAB_RSLT (RSLT_NO, CHART_NO, VISIT_NO, PANEL_NO, RSLT_DTTM, TEST_CD, RSLT_VAL) VALUES " \
             "(?,?,?,?,?,?,?)"
    conn.execute(insert, (ORPHAN_RESULT, "000005", 4, 8888, "2024-05-05 10:30", "WBC", "7.1"))
    conn.execute("INSERT INTO LAB_PANEL VALUES (?,?,?,?,?,?)", (QUARANTINED_PANEL, "000005", 4, None, None, None))
    conn.execute(insert, (RESULT_OF_QUARANTINED, "000005", 4, QUARANTINED_PANEL, "2024-05-05 10:30", "HB", "13.1"))
    conn.execute(insert, (UNDATED_RESULT, "000005", 4, 1, None, "PLT", "250"))
    rows["LAB_RSLT"] += 3
    rows["LAB_PANEL"] += 1
    return rows


def _flow(clinic: Clinic, rows: dict[str, int], tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    report_ref = spec["entities"]["lab_result"]["fields"]["report_id"]
    assert {k: v.upper() if k == "column" else v for k, v in report_ref.items()} == {
        "column": "PANEL_NO", "type": "ref", "ref": "lab_report"}
    assert spec["entities"]["lab_report"]["table"].upper() == "LAB_PANEL"
    result_fields = spec["entities"]["lab_result"]["fields"]
    assert (result_fields["performer_name"]["column"].upper(), result_fields["issued"]["column"].upper()) == (
        "OUT_LAB_NM", "RPT_DTTM")  # the outside lab (수탁기관) and its report time
    check = checked(flow)
    [results] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "lab_result"]
    # 8888 names no panel: quarantined as an orphan, as a row naming a visit that does not exist
    assert results["quarantine_reasons"] == {"orphan": 1, "required-missing": 1}
    _dry, _sealed, bag = exported(flow, tmp_path)
    labs = [o for o in lines(bag, "fhir/Observation") if o["category"][0]["coding"][0]["code"] == "laboratory"]
    observations = {o["id"]: int(o["identifier"][0]["value"]) for o in labs}
    outside = {(o["code"]["coding"][0]["code"], o["issued"][:8], json.dumps(o["performer"], ensure_ascii=False))
               for o in labs if "performer" in o or "issued" in o}
    assert outside == {(code, "2024-12-", '[{"display": "씨젠의료재단"}]') for code in OUTSIDE}
    assert len([o for o in labs if "performer" in o]) == len([o for o in labs if o["code"]["coding"][0]["code"]
                                                               in OUTSIDE and o["id"] in observations])
    reports = {int(r["identifier"][0]["value"]): r for r in lines(bag, "fhir/DiagnosticReport")}
    source = clinic.source()
    try:
        expected: dict[int, list[int]] = {}
        for row in source.rows("SELECT RSLT_NO, PANEL_NO, RSLT_DTTM FROM LAB_RSLT WHERE PANEL_NO IS NOT NULL "
                               "ORDER BY RSLT_NO"):
            if row["rslt_dttm"] is not None:  # the undated result is quarantined: no Observation to list (8888 too)
                expected.setdefault(int(row["panel_no"]), []).append(int(row["rslt_no"]))
        del expected[8888]  # no such panel
        del expected[QUARANTINED_PANEL]  # no DiagnosticReport
        listed = {panel: [observations[ref["reference"].split("/")[1]] for ref in report.get("result", [])]
                  for panel, report in reports.items()}
        assert listed == expected
        assert len(listed) == rows["LAB_PANEL"] - 1 and all(len(v) == len(CBC) for v in listed.values())
        assert all(r["result"][0]["reference"].startswith("Observation/") for r in reports.values())
        assert RESULT_OF_QUARANTINED in observations.values()  # an Observation no report lists
        assert not {ORPHAN_RESULT, UNDATED_RESULT} & set(observations.values())
        # every cell of every table comes back exactly from the opened bag (PANEL_NO included)
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows == {table.lower(): count for table, count in rows.items()}


def test_a_lab_panels_report_lists_its_results_through_the_contractors_flow(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "clinic.db")
    try:
        rows = fill_panels_clinic(conn)
        conn.commit()
    finally:
        conn.close()
    _flow(Clinic(path=tmp_path / "clinic.db"), rows, tmp_path)


@pytest.mark.db
def test_the_same_panels_on_postgresql(tmp_path: Path, postgres_conn_str: str) -> None:
    import pyodbc

    target = _fresh_database(postgres_conn_str, "emr_lab_panels", "postgresql")
    conn = pyodbc.connect(target, autocommit=False)
    try:
        rows = fill_panels_clinic(conn, "ALTER TABLE LAB_RSLT DROP CONSTRAINT lab_rslt_panel_no_fkey")
        conn.commit()
    finally:
        conn.close()
    _flow(Clinic(odbc=target), rows, tmp_path)


@pytest.mark.db
def test_the_same_panels_on_mariadb(tmp_path: Path, mariadb_conn_str: str) -> None:
    import pyodbc

    target = _fresh_database(mariadb_conn_str, "emr_lab_panels", "mariadb")
    conn = pyodbc.connect(target, autocommit=False)
    conn.setencoding(encoding="utf-8")
    try:
        rows = fill_panels_clinic(conn, "SET FOREIGN_KEY_CHECKS = 0")  # (this session only)
        conn.commit()
    finally:
        conn.close()
    _flow(Clinic(odbc=target), rows, tmp_path)


def _spec(tmp_path: Path, result_fields: str, report_fields: str = "") -> None:
    (tmp_path / "connector.toml").write_text(f"""
[connector]
name = "p"
version = "1"

[source]
datetime_formats = ["%Y-%m-%d %H:%M"]

[entities.patient]
table = "PATIENT"
key = "CHART_NO"

[entities.patient.fields]
chart_number = {{ column = "CHART_NO", required = true }}
name = {{ column = "PT_NM", required = true }}

[entities.lab_result]
table = "LAB_RSLT"
key = "RSLT_NO"

[entities.lab_result.fields]
patient_id = {{ column = "CHART_NO", type = "ref", ref = "patient", required = true }}
observed = {{ column = "RSLT_DTTM", required = true }}
code = "TEST_CD"
{result_fields}

[entities.panel]
entity = "lab_report"
table = "LAB_PANEL"
key = "PANEL_NO"

[entities.panel.fields]
patient_id = {{ column = "CHART_NO", type = "ref", ref = "patient", required = true }}
effective = {{ column = "RPT_DTTM", required = true }}
name = "PANEL_NM"
{report_fields}
""", encoding="utf-8")


def test_a_results_report_reference_names_a_lab_report_section_and_gives_the_report_its_result_list(
        tmp_path: Path) -> None:
    _spec(tmp_path, 'report_id = { column = "PANEL_NO", type = "ref", ref = "panel" }')
    spec = load_spec(tmp_path)
    listed = spec.entities["panel"].fields["result_ids"]
    assert (listed.type, listed.ref, listed.column) == ("ref_list", "lab_result", "_ref_back_result_ids")
    assert spec.entities["lab_result"].fields["report_id"].ref == "panel"
    for fields, report, message in (
        ('report_id = { column = "PANEL_NO", type = "ref", ref = "patient" }', "",
         "'ref' must name a section of entity 'lab_report', got 'patient'"),
        ('report_id = { column = "PANEL_NO", type = "ref", ref = "nothing" }', "",
         "'ref' must name a section of entity 'lab_report', got 'nothing'"),
        ('report_id = { column = "PANEL_NO", type = "ref", ref = "panel.name" }', "",
         "refers to lab_report by its key: write ref = \"panel\""),
        ('report_id = { column = "PANEL_NO", type = "ref", ref = "panel" }',
         'result_ids = { column = "RSLT_LIST", type = "ref_list", ref = "lab_result" }',
         "lab_result.report_id lists them already"),
    ):
        _spec(tmp_path, fields, report)
        with pytest.raises(ConnectorSpecError) as caught:
            load_spec(tmp_path)
        assert message in str(caught.value), (message, str(caught.value))
    assert model.BACK_REFERENCES == {("lab_result", "report_id"): ("lab_report", "result_ids")}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    from emr_exporter.pipeline import export as export_module
    from emr_exporter.pipeline import parallel

    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 50)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 29)  # many batches, not aligned with the pages


def test_the_result_lists_are_the_same_on_worker_processes_and_whatever_the_page_size(
        tmp_path: Path, small_batches: None) -> None:
    # The reports' pages carry their results' keys to the worker processes (value tuples) as to the one core.
    import datetime as dt

    from emr_exporter.pipeline.export import ExportRun, digest_stream
    from emr_exporter.sources.base import SqliteFileSource

    conn = sqlite3.connect(tmp_path / "clinic.db")
    try:
        rows = fill_panels_clinic(conn)
        conn.commit()
    finally:
        conn.close()
    _spec(tmp_path, 'report_id = { column = "PANEL_NO", type = "ref", ref = "panel" }')
    spec = load_spec(tmp_path)
    bags = {}
    for workers, page_size in ((1, 1000), (1, 7), (2, 7), (2, 1000)):
        source = SqliteFileSource(tmp_path / "clinic.db")
        try:
            run = ExportRun(spec, source, institution=model.Institution(code="12345678", name="가상내과의원"),
                            created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), workers=workers, page_size=page_size)
            bags[workers, page_size] = digest_stream(run.stream()).sha256
            assert run._pool_tried == (workers > 1)
            [reports] = [e for e in run.reconciliation.entities if e.entity == "panel"]
            assert (reports.exported, reports.quarantined) == (rows["LAB_PANEL"] - 1, 1), str(reports.to_dict())
        finally:
            source.close()
    assert len(set(bags.values())) == 1, bags


def test_an_outside_labs_result_names_the_lab_and_its_report_time_in_fhirs_places() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from emr_exporter.pipeline import fhir
    from krcore_rules import assert_conforms

    seoul = ZoneInfo("Asia/Seoul")
    record = model.LabResult(id="l" * 32, provenance=model.Provenance("t", "LAB_RSLT", "1"),
                             patient_id=model.record_id("t", "PATIENT", "1"),
                             observed=dt.datetime(2024, 3, 5, 10, 30, tzinfo=seoul), code="TSH", value="1.2",
                             performer_name="씨젠의료재단", issued=dt.datetime(2024, 3, 6, 11, 20, tzinfo=seoul))
    (resource,) = fhir.to_fhir(record, institution=model.Institution(code="12345678", name="가상내과의원"))
    assert_conforms(resource)
    assert (resource["performer"], resource["issued"]) == ([{"display": "씨젠의료재단"}], "2024-03-06T11:20:00+09:00")
    (plain,) = fhir.to_fhir(dataclasses.replace(record, performer_name=None, issued=None),
                            institution=model.Institution(code="12345678", name="가상내과의원"))
    assert "performer" not in plain and "issued" not in plain
