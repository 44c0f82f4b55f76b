"""scan.py: detection and the pre-export scan agree with what the export really does."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from emr_exporter.demo import DemoClinic
from emr_exporter.errors import ExportCancelled, SourceUnavailable
from emr_exporter.export import ProgressEvent
from emr_exporter.scan import detect_connectors, scan_database, test_connection
from emr_exporter.service import ExportRequest, run_export


def test_detects_the_demo_emr_with_its_schema_version(demo_clinic: DemoClinic) -> None:
    found = detect_connectors({"database": demo_clinic.path})
    assert [d.connector for d in found] == ["demo"]
    assert found[0].confidence == 1.0
    assert found[0].percent == 100
    assert found[0].version == "3.2.1"
    assert found[0].tables_found == found[0].tables_expected == 11


def test_partial_fingerprint_lowers_confidence_and_unknown_db_detects_nothing(tmp_path: Path) -> None:
    partial = tmp_path / "partial.sqlite"
    with sqlite3.connect(partial) as conn:
        conn.execute("CREATE TABLE PT_MASTER (PT_NO INTEGER)")
        conn.execute("CREATE TABLE VISIT (VISIT_NO INTEGER)")
    found = detect_connectors({"database": partial})
    assert [(d.connector, d.tables_found, d.version) for d in found] == [("demo", 2, None)]
    assert found[0].confidence == pytest.approx(2 / 11)

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    assert detect_connectors({"database": other}) == []


def test_scan_predicts_exactly_what_the_export_quarantines(demo_clinic: DemoClinic) -> None:
    events: list[ProgressEvent] = []
    report = scan_database(
        "demo", {"database": demo_clinic.path}, demo_clinic.attachments_root, progress=events.append
    )
    outcome = run_export(
        ExportRequest(connector="demo", database=demo_clinic.path, attachments_root=demo_clinic.attachments_root)
    )
    exported = {e.entity: (e.source_rows, e.exported, e.quarantined, dict(e.reasons))
                for e in outcome.reconciliation.entities}
    scanned = {e.entity: (e.source_rows, e.will_export, e.will_quarantine, dict(e.reasons)) for e in report.entities}
    assert scanned == exported
    assert report.totals == {
        "source_rows": outcome.reconciliation.totals["source_rows"],
        "will_export": outcome.reconciliation.totals["exported"],
        "will_quarantine": outcome.reconciliation.totals["quarantined"],
    }
    assert report.totals["will_quarantine"] > 0  # the demo clinic has planted defects
    # Attachment bytes (files and BLOBs) feed the free-space check; the export carries them all.
    assert 0 < report.attachment_bytes < outcome.bag_bytes
    # Every warning names an entity, a reason code and a row count; example keys are source keys.
    patient = next(e for e in report.entities if e.entity == "patient")
    assert sum(len(v) for v in patient.example_keys.values()) == patient.will_quarantine
    assert ("patient", "duplicate", 2) in report.warnings
    # Progress reached every entity's total.
    last = {e.entity: (e.done, e.total) for e in events if e.stage == "scan"}
    assert all(done == total for done, total in last.values())
    assert set(last) == set(scanned)


def test_scan_date_range_and_masked_sample(demo_clinic: DemoClinic) -> None:
    report = scan_database("demo", {"database": demo_clinic.path}, demo_clinic.attachments_root)
    with sqlite3.connect(demo_clinic.path) as conn:
        first, last = conn.execute(
            "SELECT MIN(VISIT_YMD), MAX(VISIT_YMD) FROM VISIT WHERE length(VISIT_YMD) = 8 "
            "AND VISIT_YMD BETWEEN '19000101' AND '21001231' AND PT_NO IN (SELECT PT_NO FROM PT_MASTER)"
        ).fetchone()
    assert report.first_encounter is not None and report.last_encounter is not None
    assert report.first_encounter.strftime("%Y%m%d") == first
    assert report.last_encounter.strftime("%Y%m%d") == last
    sample = report.sample_patient
    assert sample is not None
    assert sample.rrn_masked.endswith("******")
    assert len(sample.rrn_masked) == 14
    # The JSON form (what the CLI may print or save) carries no patient data at all.
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert sample.name not in text
    assert sample.rrn_masked[:6] not in text


def test_scan_cancel_stops_between_pages(demo_clinic: DemoClinic) -> None:
    cancel = threading.Event()

    def stop_after_first(event: ProgressEvent) -> None:
        cancel.set()

    with pytest.raises(ExportCancelled, match="scan was cancelled"):
        scan_database("demo", {"database": demo_clinic.path}, progress=stop_after_first, cancel=cancel)


def test_test_connection_names_the_missing_file(tmp_path: Path, demo_clinic: DemoClinic) -> None:
    assert test_connection({"database": demo_clinic.path}) == f"SQLite file {demo_clinic.path.name}"
    missing = tmp_path / "nope.sqlite"
    with pytest.raises(SourceUnavailable, match="does not exist"):
        test_connection({"database": missing})


def test_cli_detect_and_scan(demo_clinic: DemoClinic) -> None:
    from click.testing import CliRunner

    from emr_exporter.cli import main

    runner = CliRunner()
    detected = runner.invoke(main, ["detect", "--source", str(demo_clinic.path), "--json"])
    assert detected.exit_code == 0, detected.output
    assert json.loads(detected.output)[0] == {
        "connector": "demo", "product": "Demo clinic (synthetic, 가상 의원)", "confidence": 1.0, "version": "3.2.1",
        "tables_found": 11, "tables_expected": 11, "engine_supported": True,
    }
    scanned = runner.invoke(main, ["scan", "--connector", "demo", "--source", str(demo_clinic.path),
                                   "--attachments-root", str(demo_clinic.attachments_root)])
    assert scanned.exit_code == 0, scanned.output
    report = scan_database("demo", {"database": demo_clinic.path}, demo_clinic.attachments_root)
    assert report.sample_patient is not None
    assert report.sample_patient.name not in scanned.output  # no patient data on the terminal
    assert "duplicate 2 (" in scanned.output
    assert f"Visits from {report.first_encounter} to {report.last_encounter}." in scanned.output
    missing = runner.invoke(main, ["scan", "--connector", "demo", "--source", "/nonexistent.sqlite"])
    assert missing.exit_code == 1
    assert "The database file /nonexistent.sqlite does not exist." in missing.output
