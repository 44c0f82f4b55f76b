"""`emr-export connector check`: lint, scan and dry run, reported for the contractor; and its pytest helper."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.jobs.authoring import assert_connector_finished, check_connector
from emr_exporter.sources.address import SourceAddress

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from korean_styles import HWANJA_CONNECTOR, create_hwanja_clinic

DEMO = Path(__file__).parents[1] / "connectors" / "demo"


def test_demo_connector_is_finished_and_the_report_matches_the_export(demo_clinic) -> None:
    report = check_connector(DEMO, SourceAddress(database=demo_clinic.path), attachments_root=demo_clinic.attachments_root)
    # The demo clinic plants what connectors forget (issue 13): tables and columns no section reads, which
    # the export carries raw. They are exactly what keeps the demo connector "not finished".
    assert not report.ok
    # TMP_IMPORT is empty (the check lists tables holding rows). ADM_INFO is read only by the encounter
    # query's join: not forgotten, and carried verbatim all the same (the join reaches matching rows only),
    # as the export's inventory says — the check, the inventory and the export agree.
    assert {name for name, _ in report.unmapped_tables} == {"AUDIT_LOG", "SMS_LOG"}
    with sqlite3.connect(demo_clinic.path) as conn:
        admissions = conn.execute("SELECT COUNT(*) FROM ADM_INFO").fetchone()[0]
    assert report.joined_tables == [("ADM_INFO", admissions, ["encounter"])] and admissions > 0
    inventory = {t["name"]: t for t in report.reconciliation["inventory"]}
    assert (inventory["adm_info"]["fate"], inventory["adm_info"]["also_read_by"]) == ("carried", ["encounter"])
    assert {"adm_info": admissions} == {t["table"]: t["carried"] for t in report.reconciliation["tables"]
                                        if t["table"] == "adm_info"}
    assert f"  {'ADM_INFO':<28}{admissions:>10} rows  read by encounter" in report.text()
    assert report.to_dict()["joined_tables"] == [{"table": "ADM_INFO", "rows": admissions, "read_by": ["encounter"]}]
    assert {(table, column) for table, column, _ in report.unmapped_columns} == {
        ("PT_MASTER", "REMARK"), ("PT_MASTER", "DEL_YN"), ("PT_MASTER", "REG_DTTM"), ("RCPT", "CARD_TP"),
        ("VISIT", "VISIT_TM"), ("VISIT", "CC_MEMO")}
    assert report.lint == []
    rec = report.reconciliation
    assert {t["table"] for t in rec["tables"]} == {  # carried raw: three of them on purpose ([carry])
        "adm_info", "audit_log", "sms_log", "tmp_import", "clinic_info", "emr_meta", "print_queue"}
    assert sorted((t.upper(), n) for t, n, _ in report.carried_tables) == [
        ("CLINIC_INFO", 1), ("EMR_META", 2), ("PRINT_QUEUE", 1)]
    assert rec["balanced"]
    # the planted defects of the demo clinic, per field, as the demo's own tests know them
    assert {(d.section, d.field, d.reason_code) for d in report.defects} >= {
        ("patient", "chart_number", "duplicate"), ("encounter", "start", "invalid-date"),
        ("patient", "name", "bad-encoding"),
    }
    quarantined = sum(e["quarantined"] for e in rec["entities"])
    assert sum(d.rows for d in report.defects) + sum(o.orphans for o in report.orphans) == quarantined
    orphans = {(o.section, o.field): o for o in report.orphans}
    visits = next(e for e in rec["entities"] if e["entity"] == "encounter")
    assert orphans[("encounter", "patient_id")].rows == visits["source_rows"]
    assert report.fhir_validated and not report.fhir_problems
    assert sum(report.fhir_resources.values()) > 0


def test_the_text_report_masks_the_sample_chart(demo_clinic) -> None:
    report = check_connector(DEMO, SourceAddress(database=demo_clinic.path), attachments_root=demo_clinic.attachments_root)
    text = report.text()
    assert "Result: not finished (see above)" in text  # the planted unmapped tables (see above)
    sample = "\n".join(report.sample_chart)
    assert sample.startswith("환자 ") and "******" in sample
    with sqlite3.connect(demo_clinic.path) as conn:
        people = [(n.decode("cp949", "replace") if isinstance(n, bytes) else n, r)
                  for n, r in conn.execute("SELECT PT_NM, JUMIN_NO FROM PT_MASTER") if n]
    for name, rrn in people:
        if isinstance(name, str) and len(name) >= 2 and not name.startswith("?"):
            assert name not in text
        if rrn and len(rrn) == 13:
            assert rrn[7:] not in text.replace("-", "")
    # JSON leaves the sample chart out altogether
    assert "sample" not in json.dumps(report.to_dict())


def test_an_unfinished_connector_says_what_is_left(tmp_path: Path) -> None:
    clinic = create_hwanja_clinic(tmp_path / "h.sqlite", patients=12)
    folder = tmp_path / "hwanja"
    folder.mkdir()
    # no [skip] and the patient reference by the sequence column of the wrong name: what a first try looks like
    text = HWANJA_CONNECTOR.split("[skip]")[0] + "[entities" + HWANJA_CONNECTOR.split("[skip]")[1].split("[entities", 1)[1]
    (folder / "connector.toml").write_text(text.replace('ref = "patient.chart_number"', 'ref = "patient"', 1),
                                           encoding="utf-8")
    report = check_connector(folder, SourceAddress(database=clinic.path))
    assert not report.ok
    # CODE_MST is read through the look-ups, HOSP_INFO by [institution]: only the settings are left
    assert report.unmapped_tables == [("SETTING", 3)]
    visits = next(o for o in report.orphans if o.section == "encounter" and o.field == "patient_id")
    assert visits.orphans == visits.rows == clinic.rows["JUBSU"] and visits.share == 1.0
    result = CliRunner().invoke(main, ["connector", "check", str(folder), "--source", str(clinic.path)])
    assert result.exit_code == 4
    assert f"encounter.patient_id → patient: {visits.rows} of {visits.rows} rows (100.00 %)" in result.output
    assert "  SETTING                              3 rows" in result.output
    with pytest.raises(AssertionError, match="the connector check is not finished"):
        assert_connector_finished(folder, database=clinic.path)


def test_the_finished_hwanja_connector_passes_the_helper(tmp_path: Path) -> None:
    clinic = create_hwanja_clinic(tmp_path / "h.sqlite", patients=12)
    folder = tmp_path / "hwanja"
    folder.mkdir()
    (folder / "connector.toml").write_text(HWANJA_CONNECTOR, encoding="utf-8")
    report = assert_connector_finished(
        folder, database=clinic.path,
        allowed_reasons={"orphan", "duplicate", "incomplete-value", "invalid-date", "invalid-number", "unmapped-code"},
    )
    assert report.reconciliation["balanced"]
    with pytest.raises(AssertionError, match="unexpected quarantine reasons: duplicate"):
        assert_connector_finished(folder, database=clinic.path, allowed_reasons={
            "orphan", "incomplete-value", "invalid-date", "invalid-number", "unmapped-code"})
    result = CliRunner().invoke(main, ["connector", "check", str(folder), "--source", str(clinic.path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["unmapped_tables"] == [] and data["fhir"]["validated"]


def test_tables_carried_on_purpose_are_decided_listed_and_said_why_in_the_bag(tmp_path: Path) -> None:
    # Before: a table could only be read or skipped (its rows left out of the archive) for the check to finish; the
    # scaffold skipped code tables, settings and logs, so an SMS log or the codes' meanings were lost by default.
    clinic = create_hwanja_clinic(tmp_path / "h.sqlite", patients=12)
    folder = tmp_path / "hwanja"
    folder.mkdir()
    text = HWANJA_CONNECTOR.replace('SETTING = "program settings (printer, theme); no patient data"\n', "")
    (folder / "connector.toml").write_text(
        text + '\n[carry]\nSETTING = "program settings; kept as they are"\n', encoding="utf-8")
    report = check_connector(folder, SourceAddress(database=clinic.path))
    assert report.unmapped_tables == [] and report.carried_tables == [("SETTING", 3, "program settings; kept as they are")]
    assert report.reconciliation["balanced"]
    [setting] = [t for t in report.reconciliation["inventory"] if t["name"] == "setting"]
    assert (setting["fate"], setting["reason"], setting["rows"]) == ("carried", "program settings; kept as they are", 3)
    assert [(t["table"], t["carried"]) for t in report.reconciliation["tables"]] == [("setting", 3)]
    result = CliRunner().invoke(main, ["connector", "check", str(folder), "--source", str(clinic.path)])
    assert "Tables carried as they are, on purpose ([carry]):\n  SETTING                              3 rows  program " \
           "settings; kept as they are\n" in result.output
