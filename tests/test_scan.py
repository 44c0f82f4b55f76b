"""scan.py: detection and the pre-export scan agree with what the export really does."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from emr_exporter.authoring.scan import (
    MAX_MATCHES_PER_PATTERN,
    NAME_MATCH_CONFIDENCE,
    detect_candidates,
    detect_connectors,
    expand_file_pattern,
    find_candidates,
    scan,
    scan_database,
    search_this_pc,
    test_connection,
)
from emr_exporter.connectors.spec import load_spec
from emr_exporter.demo.clinic import DemoClinic
from emr_exporter.errors import ExportCancelled, SourceUnavailable
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.pipeline.export import ExportRun, ProgressEvent, digest_stream, read_institution
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import SqliteFileSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from korean_styles import HWANJA_CONNECTOR, create_hwanja_clinic


def test_detects_the_demo_emr_with_its_schema_version(demo_clinic: DemoClinic) -> None:
    found = detect_connectors(SourceAddress(database=demo_clinic.path))
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
    found = detect_connectors(SourceAddress(database=partial))
    assert [(d.connector, d.tables_found, d.version) for d in found] == [("demo", 2, None)]
    assert found[0].confidence == pytest.approx(2 / 11)

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    assert detect_connectors(SourceAddress(database=other)) == []


def test_scan_predicts_exactly_what_the_export_quarantines(demo_clinic: DemoClinic) -> None:
    events: list[ProgressEvent] = []
    report = scan_database(
        "demo", SourceAddress(database=demo_clinic.path), demo_clinic.attachments_root, progress=events.append
    )
    outcome = run_export(
        ExportRequest(connector="demo", source=SourceAddress(database=demo_clinic.path),
                      attachments_root=demo_clinic.attachments_root)
    )
    exported = {e.entity: (e.source_rows, e.exported, e.quarantined, dict(e.reasons))
                for e in outcome.reconciliation.entities}
    scanned = {e.entity: (e.source_rows, e.will_export, e.will_quarantine, dict(e.reasons)) for e in report.entities}
    assert scanned == exported
    # The scan is the export without the bundle: the whole reconciliation is the same, cells, field
    # defects, carried tables and the inventory included.
    assert report.reconciliation == outcome.reconciliation.to_dict()
    assert report.reconciliation["field_defects"] and report.reconciliation["tables"]
    assert {e.entity: dict(e.field_defects) for e in report.entities} == {
        e.entity: dict(e.field_defects) for e in outcome.reconciliation.entities}
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


def test_scan_totals_count_a_table_read_twice_once(tmp_path: Path) -> None:
    """The hwanja connector reads the visit table twice (visits, and their chief complaints as notes): the
    scan's totals are the export's reconciliation totals, rows read twice counted once; every section
    still shows its own rows, and the rows the export reads (its progress) include the second reading."""
    clinic = create_hwanja_clinic(tmp_path / "h.sqlite", patients=12)
    folder = tmp_path / "hwanja"
    folder.mkdir()
    (folder / "connector.toml").write_text(HWANJA_CONNECTOR, encoding="utf-8")
    spec = load_spec(folder, origin=f"folder {folder}")
    source = SqliteFileSource(clinic.path)
    try:
        report = scan(spec, source)
        run = ExportRun(spec, source, institution=read_institution(spec, source),
                        created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        digest_stream(run.stream())
    finally:
        source.close()
    rec = run.reconciliation
    assert {e.entity: (e.source_rows, e.will_export, e.will_quarantine, dict(e.reasons), dict(e.field_defects))
            for e in report.entities} == {
        e.entity: (e.source_rows, e.exported, e.quarantined, dict(e.reasons), dict(e.field_defects))
        for e in rec.entities}
    complaint = next(e for e in report.entities if e.entity == "visit_complaint")
    assert complaint.rereads == "encounter" and complaint.source_rows == clinic.rows["JUBSU"]
    assert report.totals == {"source_rows": rec.totals["source_rows"], "will_export": rec.totals["exported"],
                             "will_quarantine": rec.totals["quarantined"]}
    assert report.totals["source_rows"] == sum(e.source_rows for e in report.entities) - clinic.rows["JUBSU"]
    assert report.rows_to_read == report.totals["source_rows"] + clinic.rows["JUBSU"]
    assert report.to_dict()["entities"][[e.entity for e in report.entities].index("visit_complaint")][
        "rereads"] == "encounter"


def test_scan_date_range_and_masked_sample(demo_clinic: DemoClinic) -> None:
    report = scan_database("demo", SourceAddress(database=demo_clinic.path), demo_clinic.attachments_root)
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
    assert sample.name_masked not in text
    assert sample.rrn_masked[:6] not in text


def test_scan_cancel_stops_between_pages(demo_clinic: DemoClinic) -> None:
    cancel = threading.Event()

    def stop_after_first(event: ProgressEvent) -> None:
        cancel.set()

    with pytest.raises(ExportCancelled, match="scan was cancelled"):
        scan_database("demo", SourceAddress(database=demo_clinic.path), progress=stop_after_first, cancel=cancel)


def test_test_connection_names_the_missing_file(tmp_path: Path, demo_clinic: DemoClinic) -> None:
    assert test_connection(SourceAddress(database=demo_clinic.path)) == f"SQLite file {demo_clinic.path.name}"
    missing = tmp_path / "nope.sqlite"
    with pytest.raises(SourceUnavailable, match="does not exist"):
        test_connection(SourceAddress(database=missing))


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
    report = scan_database("demo", SourceAddress(database=demo_clinic.path), demo_clinic.attachments_root)
    assert report.sample_patient is not None
    assert report.sample_patient.name_masked not in scanned.output  # no patient data on the terminal
    assert "duplicate 2 (" in scanned.output
    assert f"Visits from {report.first_encounter} to {report.last_encounter}." in scanned.output
    missing = runner.invoke(main, ["scan", "--connector", "demo", "--source", "/nonexistent.sqlite"])
    assert missing.exit_code == 1
    assert "The database file /nonexistent.sqlite does not exist." in missing.output


# --------------------------------------------------------------------------------- search on this PC


@pytest.fixture
def private_odbc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """unixODBC reads user DSNs from $ODBCINI and system ones from $ODBCSYSINI: both private to the test
    (the system's drivers are copied so DSNs can name them)."""
    system = tmp_path / "odbc-system"
    system.mkdir()
    shutil.copy("/etc/odbcinst.ini", system / "odbcinst.ini")
    (system / "odbc.ini").write_text("", encoding="utf-8")
    user_ini = tmp_path / "odbc.ini"
    user_ini.write_text("", encoding="utf-8")
    monkeypatch.setenv("ODBCSYSINI", str(system))
    monkeypatch.setenv("ODBCINI", str(user_ini))
    return user_ini


def test_file_patterns_expand_placeholders_and_leave_out_what_this_pc_lacks() -> None:
    env = {"HOME": "/home/원장", "ProgramData": "C:\\ProgramData", "PROGRAMFILES(X86)": "C:\\Program Files [x86]"}
    assert expand_file_pattern("{Home}/demo-output/*.sqlite", env) == "/home/원장/demo-output/*.sqlite"
    assert expand_file_pattern("{ProgramData}/EMR/db.mdb", env) == "C:\\ProgramData/EMR/db.mdb"
    # Environment names are compared without case (Windows); glob characters in a value are literal.
    assert expand_file_pattern("{ProgramFiles(x86)}/EMR/*.db", env) == "C:\\Program Files [[]x86]/EMR/*.db"
    assert expand_file_pattern("{UserProfile}/Documents/x.db", env) is None  # not on this PC
    assert expand_file_pattern("{Home}/x.db", {"USERPROFILE": "C:\\Users\\원장"}) == "C:\\Users\\원장/x.db"


def test_search_finds_declared_files_and_data_sources_and_scores_them(
    tmp_path: Path, demo_clinic: DemoClinic, private_odbc: Path
) -> None:
    home, profile = tmp_path / "home", tmp_path / "profile"
    (home / "demo-output").mkdir(parents=True)
    shutil.copy(demo_clinic.path, home / "demo-output" / "demo-clinic.sqlite")
    (profile / "Documents" / "emr-exporter").mkdir(parents=True)
    (profile / "Documents" / "emr-exporter" / "demo-clinic.sqlite").write_bytes(b"not a database at all" * 100)
    # A DSN named as the demo connector declares, over the real SQLite3 ODBC driver, and one that is not.
    private_odbc.write_text(
        f"[Demo_Clinic]\nDriver=SQLite3\nDatabase={demo_clinic.path}\n\n"
        f"[payroll]\nDriver=SQLite3\nDatabase={demo_clinic.path}\n", encoding="utf-8")
    env = {"HOME": str(home), "USERPROFILE": str(profile)}

    found = find_candidates(env=env)
    assert sorted((c.connector, c.kind, c.where, c.status, c.confidence) for c in found) == [
        ("demo", "dsn", "Demo_Clinic", "found", NAME_MATCH_CONFIDENCE),
        ("demo", "file", str(home / "demo-output" / "demo-clinic.sqlite"), "found", NAME_MATCH_CONFIDENCE),
        ("demo", "file", str(profile / "Documents" / "emr-exporter" / "demo-clinic.sqlite"), "found",
         NAME_MATCH_CONFIDENCE),
    ]
    scored = search_this_pc(env=env)
    assert [(c.kind, c.where, c.status, c.percent, c.version) for c in scored] == [
        ("file", str(home / "demo-output" / "demo-clinic.sqlite"), "recognised", 100, "3.2.1"),
        # Every table, but through an engine the demo connector does not list (SQLite over ODBC): halved.
        ("dsn", "Demo_Clinic", "recognised", 50, "3.2.1"),
        ("file", str(profile / "Documents" / "emr-exporter" / "demo-clinic.sqlite"), "unavailable", 15, None),
    ]
    assert scored[0].reason == ("11 of 11 fingerprint tables found; "
                                "the file is where Demo clinic (synthetic, 가상 의원) keeps its database")
    assert scored[2].reason == "cannot be opened: demo-clinic.sqlite is not a readable SQLite database (file is not a database)."
    assert scored[1].address() == SourceAddress(dsn="Demo_Clinic")
    assert scored[0].address() == SourceAddress(database=home / "demo-output" / "demo-clinic.sqlite")
    # Nothing from the clinic's records is in what the search reports.
    text = json.dumps([c.to_dict() for c in scored], ensure_ascii=False)
    with sqlite3.connect(demo_clinic.path) as conn:
        names = [row[0] for row in conn.execute("SELECT PT_NM FROM PT_MASTER LIMIT 20")]
    assert not any(isinstance(n, str) and n in text for n in names)


def test_search_is_bounded_per_pattern_and_a_place_without_the_tables_is_not_recognised(
    tmp_path: Path, private_odbc: Path
) -> None:
    connectors = tmp_path / "connectors"
    (connectors / "tiny").mkdir(parents=True)
    (connectors / "tiny" / "connector.toml").write_text(
        '[connector]\nname = "tiny"\nversion = "0.1"\n\n[detect]\ntables = ["PT"]\n'
        'files = ["{Home}/tiny/*.db"]\n\n[entities.patient]\ntable = "PT"\nkey = "ID"\n\n'
        '[entities.patient.fields]\nchart_number = { column = "CHART" }\nname = { column = "NM" }\n',
        encoding="utf-8")
    (tmp_path / "tiny").mkdir()
    for number in range(MAX_MATCHES_PER_PATTERN + 5):
        with sqlite3.connect(tmp_path / "tiny" / f"{number:02}.db") as conn:
            conn.execute("CREATE TABLE OTHER (ID INTEGER)")
    env = {"HOME": str(tmp_path)}
    found = [c for c in find_candidates([connectors], env) if c.connector == "tiny"]
    assert len(found) == MAX_MATCHES_PER_PATTERN
    scored = [c for c in detect_candidates(found[:2], [connectors]) if c.connector == "tiny"]
    assert [(c.status, c.confidence) for c in scored] == [("not-recognised", 0.0)] * 2
    assert scored[0].reason == "opened, but the tiny tables are not there"


@pytest.mark.db
def test_a_data_source_that_asks_for_a_password_is_listed_as_needing_one(
    mariadb_conn_str: str, private_odbc: Path
) -> None:
    from emr_exporter.sources.drivers import get_option

    private_odbc.write_text(
        "[OpenEMR]\nDriver=MariaDB Unicode\nSERVER=127.0.0.1\n"
        f"PORT={get_option(mariadb_conn_str, 'PORT')}\nDATABASE=emr_test\nUID=emr\n", encoding="utf-8")
    found = [c for c in search_this_pc(env={}) if c.where == "OpenEMR"]
    assert [(c.connector, c.kind, c.status, c.confidence) for c in found] == [
        ("openemr", "dsn", "needs-password", NAME_MATCH_CONFIDENCE)
    ]
    assert found[0].reason == "the data source needs a password: type it and press Test connection"
    assert found[0].needs_password


def test_cli_detect_without_a_database_searches_this_pc(
    tmp_path: Path, demo_clinic: DemoClinic, private_odbc: Path
) -> None:
    from click.testing import CliRunner

    from emr_exporter.cli import main

    (tmp_path / "demo-output").mkdir()
    database = tmp_path / "demo-output" / "demo-clinic.sqlite"
    shutil.copy(demo_clinic.path, database)
    runner = CliRunner()
    as_json = runner.invoke(main, ["detect", "--json"], env={"HOME": str(tmp_path), "USERPROFILE": None})
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [{
        "connector": "demo", "product": "Demo clinic (synthetic, 가상 의원)", "kind": "file", "where": str(database),
        "confidence": 1.0, "status": "recognised", "version": "3.2.1",
        "reason": "11 of 11 fingerprint tables found; the file is where Demo clinic (synthetic, 가상 의원) keeps "
                  "its database",
    }]
    shown = runner.invoke(main, ["detect"], env={"HOME": str(tmp_path), "USERPROFILE": None})
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0] == f"demo         100%  recognised      version 3.2.1      {database}"
    nothing = runner.invoke(main, ["detect"], env={"HOME": str(tmp_path / "empty"), "USERPROFILE": None})
    assert nothing.exit_code == 0, nothing.output
    assert nothing.output.startswith("No EMR database found where the installed connectors look.")
