"""The founder's wizard on a clinic that is not the demo: a real (not demo) run in Korean, on an EMR database the
program's own connectors do not know, with the connector an IT contractor scaffolded and installed on the PC."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import Qt, QWizard

pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors"))
from korean_styles import create_hwanja_clinic  # noqa: E402


def click_next(qtbot: Any, wizard: Any) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=10_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def table_rows(widget: Any) -> list[list[str]]:
    return [[widget.item(r, c).text() for c in range(widget.columnCount())] for r in range(widget.rowCount())]


def test_a_founder_exports_an_unseen_clinic_with_the_contractors_connector(
    qtbot: Any, korean_ui: Any, make_wizard: Any, app_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.bundle.reader import open_bundle, verify_bundle
    from emr_exporter.demo.keys import make_demo_keys
    from emr_exporter.jobs.bundles import load_store_private_key
    from emr_exporter.sources.address import SourceAddress

    clinic = create_hwanja_clinic(tmp_path / "EMRDATA.db", patients=12)
    with sqlite3.connect(clinic.path) as conn:
        every_row = {name.lower(): conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
                     for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    connectors = tmp_path / "installed-connectors"
    write_scaffold("hanbit", connectors, SourceAddress(database=clinic.path))
    monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(connectors))
    keys = make_demo_keys(tmp_path / "keys", institution_code="31234567", institution_name="한빛내과의원")

    wizard = make_wizard()
    click_next(qtbot, wizard)  # "Export this clinic's records" is preselected: a real run, not the demo
    page = wizard.institution_page
    qtbot.keyClicks(page.code_edit, "31234567")
    page.name_edit.setText("한빛내과의원")  # QTest cannot type Hangul
    page.cert_path_edit.setText(str(keys.institution_p12))
    qtbot.keyClicks(page.password_edit, keys.institution_password)
    with qtbot.waitSignal(page.jobFinished, timeout=60_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    click_next(qtbot, wizard)

    emr = wizard.emr_page
    emr.database_edit.setText(str(clinic.path))
    with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    assert emr.connector_combo.currentData() == "hanbit"  # recognised by the contractor's connector
    with qtbot.waitSignal(wizard.scan_page.jobFinished, timeout=120_000):
        click_next(qtbot, wizard)

    # Every row of the database is on the scan page: the record types, and the EMR's other tables as they are.
    scan = wizard.scan_page.session.scan_report
    carried = {t["table"]: t["source_rows"] for t in scan.reconciliation["tables"]}
    assert carried and set(carried) < set(every_row)
    shown = table_rows(wizard.scan_page.table)
    assert shown[-1] == [f"그 밖의 EMR 자료, 원래 모습 그대로 보관 (표 {len(carried)}개)",
                         f"{sum(carried.values()):,}", "0", ""]
    assert sum(int(row[1].replace(",", "")) for row in shown) == scan.totals["source_rows"] + sum(carried.values())
    assert scan.totals["source_rows"] + sum(carried.values()) == sum(every_row.values())
    assert wizard.scan_page.progress_label.text() == (
        f"기록 {sum(every_row.values()):,}건을 찾았습니다: {scan.totals['will_export']:,}건은 내보내고, "
        f"{sum(carried.values()):,}건은 원래 모습 그대로 보관하며, {scan.totals['will_quarantine']:,}건은 이유와 함께 "
        "별도 보관합니다.")

    # No store certificate ships with the program and none is set on this PC: said before Start, not after.
    click_next(qtbot, wizard)
    export = wizard.export_page
    message = export.error_label.text()
    assert message.startswith("설정이 빠졌거나 잘못되었습니다.\nThe national store's certificate is not installed")
    assert "set EMR_EXPORTER_STORE_CERT to the store's certificate file" in message
    assert not export.start_button.isEnabled()
    # The contractor sets it on this PC; the founder goes back and on again.
    monkeypatch.setenv("EMR_EXPORTER_STORE_CERT", str(keys.store_cert))
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    click_next(qtbot, wizard)
    assert export.error_label.text() == "" and export.start_button.isEnabled()
    export.destination_edit.setText(str(tmp_path / "usb"))
    with qtbot.waitSignal(export.jobFinished, timeout=600_000):
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
    outcome = wizard.session.outcome
    assert outcome.bundle_path.parent == tmp_path / "usb" and outcome.reconciliation.balanced

    with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    verify = wizard.verify_page
    totals, tables = outcome.reconciliation.row_totals, outcome.reconciliation.table_totals
    assert totals["source_rows"] == sum(every_row.values())  # every row of the database, the carried tables' too
    assert verify.summary_label.text().startswith(f"빠진 기록 없음: EMR의 기록 {totals['source_rows']:,}건이")
    assert table_rows(verify.table)[-1] == [f"그 밖의 EMR 자료, 원래 모습 그대로 보관 (표 {len(carried)}개)",
                                            f"{tables['source_rows']:,}", f"{tables['carried']:,}", "0"]
    assert tables["source_rows"] == tables["carried"] == sum(carried.values())
    assert verify_bundle(outcome.bundle_path).bundle_id == outcome.bundle_id

    # The sealed file was made for the certificate the contractor set: the store's key opens it.
    opened = open_bundle(outcome.bundle_path, load_store_private_key(keys.store_key, None), tmp_path / "opened")
    for table, rows in carried.items():
        lines = [f for f in (opened.bag_dir / "data" / "raw" / "tables").glob(f"{table}.*.ndjson")]
        assert sum(len(f.read_bytes().splitlines()) for f in lines) == rows == every_row[table]

    click_next(qtbot, wizard)
    wizard.upload_page.carry_radio.setChecked(True)  # to the national system from another PC, on the USB stick
    with qtbot.waitSignal(wizard.done_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    assert wizard.done_page.receipt_label.text().startswith("아직 보내지 않았습니다.")
