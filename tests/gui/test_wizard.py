"""The founder's wizard, driven offscreen through the real core on the synthetic demo clinic."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import QLocale, Qt, QWizard
from emr_exporter.jobs import resume
from emr_exporter.sources.address import SourceAddress

pytestmark = pytest.mark.gui


def click_next(qtbot: Any, wizard: Any) -> None:
    """Click Next once it is enabled (it is re-checked when a job's thread has stopped, just after its signal)."""
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=10_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def walk_demo_to_export_page(qtbot: Any, wizard: Any) -> None:
    """Start → Institution (demo clinic + demo certificate) → EMR (detected) → Scan → Export page."""
    wizard.start_page.demo_radio.setChecked(True)
    with qtbot.waitSignal(wizard.institution_page.cert_runner.succeeded, timeout=60_000):
        click_next(qtbot, wizard)
    with qtbot.waitSignal(wizard.emr_page.jobFinished, timeout=30_000):
        click_next(qtbot, wizard)
    with qtbot.waitSignal(wizard.scan_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.export_page


def test_whole_demo_flow_to_a_verified_bundle_and_a_receipt(qtbot: Any, make_wizard: Any, app_home: Path) -> None:
    from emr_exporter.bundle.reader import verify_bundle
    from emr_exporter.reports.transfer import file_sha256
    from emr_exporter.upload.receipt import load_saved_receipt, load_store_public_keys, verify_receipt

    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    session = wizard.session
    # EMR page: the demo connector was detected with full confidence and its schema version.
    assert wizard.emr_page.connector_combo.currentData() == "demo"
    assert "100%" in wizard.emr_page.connector_combo.currentText()
    assert "3.2.1" in wizard.emr_page.connector_combo.currentText()
    # Scan page: every record type, the date range, and a masked sample patient.
    scan_page = wizard.scan_page
    # a row per demo connector section (13 + nursing notes + 6 clinical), and one for the tables carried as they are
    assert scan_page.table.rowCount() == 21
    carried = session.scan_report.reconciliation["tables"]
    assert [scan_page.table.item(20, c).text() for c in range(4)] == [
        f"Other EMR data, kept exactly as it is ({len(carried)} tables)",
        QLocale().toString(sum(t["source_rows"] for t in carried)), "0", ""]
    assert session.scan_report.totals["will_quarantine"] > 0
    assert "******" in scan_page.sample_label.text()
    assert "Visits from 20" in scan_page.range_label.text()

    export_page = wizard.export_page
    out_dir = app_home / "exports"
    assert export_page.destination_edit.text() == str(out_dir)  # default under the app folder in tests
    assert "free there" in export_page.space_label.text()
    with qtbot.waitSignal(export_page.jobFinished, timeout=600_000):
        qtbot.mouseClick(export_page.start_button, Qt.MouseButton.LeftButton)
        assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # while it runs
    outcome = session.outcome
    assert outcome.bundle_path.parent == out_dir and outcome.bundle_path.is_file()
    assert outcome.reconciliation.balanced

    with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    verify_page = wizard.verify_page
    totals, number = outcome.reconciliation.row_totals, QLocale().toString  # every row, the carried tables' too
    assert totals["carried"] == sum(t["carried"] for t in carried) > 0
    assert verify_page.summary_label.text() == (
        f"Nothing left behind: all {number(totals['source_rows'])} records of the EMR are accounted for — "
        f"{number(totals['exported'])} exported, {number(totals['carried'])} kept exactly as they are, "
        f"{number(totals['quarantined'])} set aside.")
    cells = outcome.reconciliation.cell_totals
    assert verify_page.cells_label.text() == (
        f"Every value checked: {number(cells['source'])} values in the EMR — {number(cells['mapped'])} in the new "
        f"records, {number(cells['carried_raw'])} kept exactly as they were beside the records, "
        f"{number(cells['quarantined'])} in the set-aside records.")
    assert cells["source"] == cells["mapped"] + cells["carried_raw"] + cells["quarantined"] and cells["carried_raw"]
    assert "Sealed file verified" in verify_page.bundle_label.text()
    assert verify_page.table.rowCount() == 21  # a row per demo connector section, and the carried tables
    assert verify_bundle(outcome.bundle_path).bundle_id == outcome.bundle_id

    # Upload: in demo mode the wizard runs a reference store in-process on 127.0.0.1 (demo store key), which
    # verifies and opens what it receives, and signs a receipt.
    click_next(qtbot, wizard)
    upload_page = wizard.upload_page
    # the practice store starts in a worker: the page says so, Upload waits for it
    assert upload_page.state_label.text() == "Demo: starting a practice storage system on this PC…"
    qtbot.waitUntil(upload_page.upload_button.isEnabled, timeout=30_000)
    server = session.demo_server
    store = server.store
    assert upload_page.store_edit.text() == server.url and server.url.startswith("http://127.0.0.1:")
    assert upload_page.state_label.text().startswith("Demo: a practice storage system is running on this PC.")
    try:
        assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # not sent, not "carry"

        # Pause once at least one 1 MiB chunk is in (the compressed demo bundle is ~2 MB: two chunks), then
        # resume: the upload continues from where the store stopped.
        def pause_once(item: Any) -> None:
            if item[0] == "progress" and item[1] > 2**20 and upload_page.pause_button.isEnabled():
                qtbot.mouseClick(upload_page.pause_button, Qt.MouseButton.LeftButton)

        upload_page.upload_runner.progressed.connect(pause_once)
        # Paced, so the pause lands mid-upload even when a loaded machine delivers progress late.
        session.upload_rate_limit = 2**20  # ~2 s for the ~2 MB bundle: the pause lands even on a busy machine
        # The store answers the first PATCH with 503: the retrying state is shown, then it goes on.
        failed_once = {"done": False}

        def busy_once(handler: Any, method: str, upload_id: str | None) -> bool:
            if method != "PATCH" or failed_once["done"]:
                return False
            failed_once["done"] = True
            handler._discard_body()
            handler.answer_error(503, "busy")
            return True

        store.fault_hook = busy_once
        states: list[str] = []
        upload_page.upload_runner.progressed.connect(lambda item: states.append(upload_page.state_label.text()))
        with qtbot.waitSignal(upload_page.jobFailed, timeout=600_000):
            qtbot.mouseClick(upload_page.upload_button, Qt.MouseButton.LeftButton)
        upload_page.upload_runner.progressed.disconnect(pause_once)
        assert upload_page.error_label.text().startswith("Upload paused. Press Resume")
        assert upload_page.upload_button.text() == "&Resume"
        qtbot.waitUntil(upload_page.upload_button.isEnabled, timeout=10_000)
        # Either ending, so a failed resume shows its reason at once instead of a 600 s wait for success.
        ended: list[str] = []
        upload_page.jobFinished.connect(lambda *_: ended.append("finished"))
        upload_page.jobFailed.connect(lambda *_: ended.append("failed"))
        qtbot.mouseClick(upload_page.upload_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(ended), timeout=600_000)
        assert ended == ["finished"], upload_page.error_label.text()
        assert session.upload_result.resumed_from > 0
        assert "Retrying automatically: the store reported an error (503)." in states  # with its reason
    finally:
        store.fault_hook = None
    assert any(m == "PATCH" for m, _ in store.requests)
    receipt = load_saved_receipt(outcome.bundle_path)
    assert receipt is not None
    # The receipt is signed by the store's key and names this exact bundle (id, size, SHA-256).
    uploaded = session.upload_result
    inner = verify_receipt(receipt, load_store_public_keys(session.demo_material.store_cert),
                           bundle_id=outcome.bundle_id, sha256=file_sha256(outcome.bundle_path),
                           size=outcome.bundle_path.stat().st_size)
    assert inner == receipt["receipt"] and uploaded.sha256 == file_sha256(outcome.bundle_path)
    number = session.upload_result.receipt_number
    assert number and number in upload_page.state_label.text()
    assert resume.load_state().receipt_number == number

    with qtbot.waitSignal(wizard.done_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.done_page
    assert number in wizard.done_page.receipt_label.text()
    report_pdf = wizard.done_page.report_path
    assert report_pdf == outcome.bundle_path.with_name(outcome.bundle_path.name + ".report.pdf")
    assert report_pdf.read_bytes().startswith(b"%PDF-")
    assert str(report_pdf) in wizard.done_page.report_label.text()
    assert str(outcome.bundle_path) in wizard.done_page.file_label.text()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert resume.load_state() is None  # finished: nothing to offer next time
    assert session.demo_server is None  # the demo store stopped with the wizard


def test_saved_state_has_no_patient_data_or_password(qtbot: Any, make_wizard: Any, app_home: Path) -> None:
    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    text = resume.state_path().read_text(encoding="utf-8")
    state = json.loads(text)
    assert state["step"] == "export" and state["demo"] is True and state["connector"] == "demo"
    assert set(state) == {f.name for f in dataclasses.fields(resume.WizardState)}  # no password field
    sample = wizard.session.scan_report.sample_patient
    assert sample.name_masked not in text and sample.chart_masked not in text


def test_cancel_during_export_then_resume_after_restart(qtbot: Any, make_wizard: Any, app_home: Path) -> None:
    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    wizard.session.part_size = 16384  # many small parts, so the first run leaves sealed parts behind
    export_page = wizard.export_page
    cancelled: list[str] = []
    export_page.jobFailed.connect(cancelled.append)
    stop_at = {"rows": 0}

    def stop_midway(event: Any) -> None:
        if event.stage == "export" and event.entity == "chart_note" and not stop_at["rows"]:
            stop_at["rows"] = event.done
            qtbot.mouseClick(export_page.cancel_button, Qt.MouseButton.LeftButton)

    export_page.export_runner.progressed.connect(stop_midway)
    with qtbot.waitSignal(export_page.jobFailed, timeout=600_000):
        qtbot.mouseClick(export_page.start_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in cancelled[0]
    assert export_page.error_label.text() == (
        "Stopped. The part already exported is kept in the chosen folder: press Start export with the same folder "
        "and it continues where it stopped. Do not delete the files in that folder.")
    assert wizard.session.outcome is None
    qtbot.waitUntil(export_page.start_button.isEnabled, timeout=10_000)
    out_dir = app_home / "exports"
    assert list(out_dir.glob("*.emrx.partial")), "the sealed parts so far are kept"
    assert resume.load_state().step == "export"

    # Start again and close the window mid-way: done() cancels the job and waits for it to stop safely.
    closed = {"done": False}

    def close_midway(event: Any) -> None:
        if event.stage == "export" and event.entity == "order_line" and not closed["done"]:
            closed["done"] = True
            wizard.close()

    export_page.export_runner.progressed.disconnect(stop_midway)
    export_page.export_runner.progressed.connect(close_midway)
    qtbot.mouseClick(export_page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed["done"] and not wizard.isVisible(), timeout=600_000)
    assert not export_page.export_runner._worker_thread.isRunning()
    assert wizard.session.outcome is None
    assert list(out_dir.glob("*.emrx.partial")), "the sealed parts so far are kept"

    # Start the program again: the start page offers to continue.
    again = make_wizard()
    assert again.start_page.resume_radio.isChecked()
    assert "was not finished" in again.start_page.resume_label.text()
    with qtbot.waitSignal(again.institution_page.cert_runner.succeeded, timeout=60_000):
        click_next(qtbot, again)
    assert again.institution_page.code_edit.text() == wizard.session.institution_code
    with qtbot.waitSignal(again.emr_page.jobFinished, timeout=30_000):
        click_next(qtbot, again)
    with qtbot.waitSignal(again.scan_page.jobFinished, timeout=60_000):
        click_next(qtbot, again)
    click_next(qtbot, again)
    again.session.part_size = 16384
    assert again.export_page.destination_edit.text() == str(out_dir)
    with qtbot.waitSignal(again.export_page.jobFinished, timeout=600_000):
        qtbot.mouseClick(again.export_page.start_button, Qt.MouseButton.LeftButton)
    outcome = again.session.outcome
    assert outcome.resumed is True
    assert outcome.reconciliation.balanced
    assert not list(out_dir.glob("*.partial"))
    with qtbot.waitSignal(again.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, again)
    assert "Sealed file verified" in again.verify_page.bundle_label.text()


def test_wrong_certificate_password_shows_message_and_allows_retry(qtbot: Any, make_wizard: Any) -> None:
    wizard = make_wizard()
    wizard.start_page.demo_radio.setChecked(True)
    page = wizard.institution_page
    with qtbot.waitSignal(page.cert_runner.succeeded, timeout=60_000):
        click_next(qtbot, wizard)
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, "wrong-password")
    assert not page.isComplete()  # changing the password forgets the loaded certificate
    with qtbot.waitSignal(page.jobFailed, timeout=30_000):
        qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    assert page.error_label.text().startswith("The certificate password is wrong. Type it again")
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, "demo")
    with qtbot.waitSignal(page.jobFinished, timeout=30_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    assert page.error_label.text() == ""
    assert "DEMO ONLY" in page.cert_info_label.text()
    qtbot.waitUntil(wizard.button(QWizard.WizardButton.NextButton).isEnabled, timeout=10_000)


def test_failed_connection_shows_message_and_allows_retry(
    qtbot: Any, make_wizard: Any, tmp_path: Path
) -> None:
    wizard = make_wizard()
    wizard.start_page.demo_radio.setChecked(True)
    with qtbot.waitSignal(wizard.institution_page.cert_runner.succeeded, timeout=60_000):
        click_next(qtbot, wizard)
    with qtbot.waitSignal(wizard.emr_page.jobFinished, timeout=30_000):
        click_next(qtbot, wizard)
    page = wizard.emr_page
    good = page.database_edit.text()
    page.database_edit.setText(str(tmp_path / "missing.sqlite"))
    assert not page.isComplete()  # the tested connection no longer matches what is typed
    with qtbot.waitSignal(page.jobFailed, timeout=30_000):
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    assert page.error_label.text().startswith("The EMR database cannot be opened.")
    assert "missing.sqlite does not exist" in page.error_label.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    page.database_edit.setText(good)
    with qtbot.waitSignal(page.jobFinished, timeout=30_000):
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.button(QWizard.WizardButton.NextButton).isEnabled, timeout=10_000)


def test_full_disk_blocks_the_export_with_a_message(
    qtbot: Any, make_wizard: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    page = wizard.export_page
    # A fake: a full disk cannot be made here without root; shutil.disk_usage is what resume.free_bytes asks.
    real_usage = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real_usage(path)._replace(free=1024 * 1024))
    page.check_space()
    assert page.space_label.text().startswith("Not enough free space: needs about")
    assert "Free up space or choose another drive." in page.space_label.text()
    assert not page.start_button.isEnabled()
    assert wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    monkeypatch.setattr(shutil, "disk_usage", real_usage)
    page.check_space()
    assert page.start_button.isEnabled()  # no job ran on this page yet


def test_carry_the_file_instead_of_uploading(qtbot: Any, make_wizard: Any, app_home: Path) -> None:
    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    with qtbot.waitSignal(wizard.export_page.jobFinished, timeout=600_000):
        qtbot.mouseClick(wizard.export_page.start_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    page = wizard.upload_page
    page.carry_radio.setChecked(True)
    name = wizard.session.outcome.bundle_path.name
    assert name in page.carry_label.text()
    with qtbot.waitSignal(wizard.done_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    assert "Not sent yet" in wizard.done_page.receipt_label.text()
    assert wizard.done_page.report_path.read_bytes().startswith(b"%PDF-")


def test_no_attribute_shadows_a_qt_method(make_wizard: Any) -> None:
    """desktop.md §1.3: an attribute named like a Qt virtual segfaults PySide when Qt calls it."""
    from emr_exporter.gui.qt import QWizard, QWizardPage

    wizard = make_wizard()
    for obj, qt_class in [(wizard, QWizard), *[(p, QWizardPage) for p in wizard.all_pages()]]:
        for name, value in vars(obj).items():
            if hasattr(qt_class, name):
                assert callable(value), f"{type(obj).__name__}.{name} shadows {qt_class.__name__}.{name}"


@pytest.fixture
def korean(qapp: Any) -> Any:
    """The Korean UI (our .qm and Qt's own qtbase_ko.qm), removed again after the test."""
    from emr_exporter.gui.app import install_translators
    from emr_exporter.gui.qt import QLocale

    translators = install_translators(qapp, "ko")
    yield translators
    for translator in translators:
        qapp.removeTranslator(translator)
    QLocale.setDefault(QLocale.c())


def test_korean_ui_strings_and_qt_buttons(qtbot: Any, korean: Any, make_wizard: Any, app_home: Path) -> None:
    assert len(korean) == 2, "both qtbase_ko.qm and emr_exporter_ko.qm must load"
    wizard = make_wizard()
    assert wizard.start_page.title() == "시작"
    assert wizard.start_page.demo_radio.text() == "데모 의원으로 전체 과정 연습하기 — 가상 환자(&D)"
    assert wizard.button(QWizard.WizardButton.NextButton).text().startswith("다음")
    assert wizard.button(QWizard.WizardButton.CancelButton).text() == "취소"
    assert wizard.institution_page.title() == "기관 정보와 인증서"
    assert wizard.export_page.start_button.text() == "내보내기 시작(&S)"
    # A wrong password reads in Korean too (the core's English detail follows on the next line).
    wizard.start_page.demo_radio.setChecked(True)
    page = wizard.institution_page
    with qtbot.waitSignal(page.cert_runner.succeeded, timeout=60_000):
        click_next(qtbot, wizard)
    page.password_edit.setText("틀린비밀번호")
    with qtbot.waitSignal(page.jobFailed, timeout=30_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    assert page.error_label.text().startswith("인증서 비밀번호가 틀렸습니다.")


def test_every_message_has_a_korean_translation(tmp_path: Path) -> None:
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    root = Path(__file__).resolve().parents[2]
    ts = root / "src" / "emr_exporter" / "resources" / "i18n" / "emr_exporter_ko.ts"
    # The committed .ts holds exactly the strings the code has now (else: scripts/update_translations.py).
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (root / "src" / "emr_exporter" / "gui").rglob("*.py"))
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run([str(lupdate), *sources, "-ts", str(fresh)], check=True, capture_output=True)
    in_code = {m.findtext("source") for m in ET.parse(fresh).getroot().iter("message")}
    in_ts = {m.findtext("source") for m in ET.parse(ts).getroot().iter("message")}
    assert in_code == in_ts
    qm = ts.with_suffix(".qm")
    assert qm.is_file() and qm.stat().st_mtime >= ts.stat().st_mtime - 5, "rebuild: scripts/update_translations.py"
    unfinished = [
        m.findtext("source") for m in ET.parse(ts).getroot().iter("message")
        if m.find("translation").get("type") in ("unfinished", "obsolete", "vanished")
    ]
    assert unfinished == []


def _expired_p12(folder: Path, password: str) -> Path:
    """A signing certificate that expired yesterday, as a password-protected PKCS#12 file."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name.from_rfc4514_string("CN=만료된의원 (12345678),O=TEST,C=KR")
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400)).not_valid_after(now - dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = folder / "expired.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"expired", key, certificate, None, serialization.BestAvailableEncryption(password.encode())
    ))
    return path


def test_expired_certificate_is_refused_with_a_clear_message(qtbot: Any, make_wizard: Any, tmp_path: Path) -> None:
    wizard = make_wizard()
    click_next(qtbot, wizard)  # "Export this clinic's records" is preselected
    page = wizard.institution_page
    qtbot.keyClicks(page.code_edit, "12345678")
    page.name_edit.setText("만료된의원")  # QTest cannot type Hangul (it aborts on non-Latin-1 keys)
    page.cert_path_edit.setText(str(_expired_p12(tmp_path, "pw")))
    qtbot.keyClicks(page.password_edit, "pw")
    with qtbot.waitSignal(page.jobFailed, timeout=30_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    assert page.error_label.text().startswith("This certificate has expired. Renew the institution's certificate")
    assert "expired on" in page.error_label.text()  # the core's detail names the date
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_restart_after_sealing_continues_at_the_check_without_a_second_bundle(
    qtbot: Any, make_wizard: Any, app_home: Path
) -> None:
    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    with qtbot.waitSignal(wizard.export_page.jobFinished, timeout=600_000):
        qtbot.mouseClick(wizard.export_page.start_button, Qt.MouseButton.LeftButton)
    first = wizard.session.outcome
    with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    assert resume.load_state().step == "upload"
    back = wizard.button(QWizard.WizardButton.BackButton)
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.scan_page
    click_next(qtbot, wizard)  # the export page again: the bundle is already sealed
    assert wizard.currentPage() is wizard.export_page
    assert not wizard.export_page.start_button.isEnabled()
    assert resume.load_state().step == "verify"  # going back does not forget the sealed bundle
    wizard.close()  # e.g. the PC was switched off before sending

    again = make_wizard()
    assert again.start_page.resume_radio.isChecked()
    with qtbot.waitSignal(again.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, again)
    assert again.currentPage() is again.verify_page
    restored = again.session.outcome
    assert restored.bundle_path == first.bundle_path and restored.bundle_id == first.bundle_id
    assert restored.reconciliation.to_dict() == first.reconciliation.to_dict()
    assert "Sealed file verified" in again.verify_page.bundle_label.text()
    assert [p.name for p in (app_home / "exports").glob("*.emrx")] == [first.bundle_path.name]
    click_next(qtbot, again)
    again.upload_page.carry_radio.setChecked(True)
    with qtbot.waitSignal(again.done_page.jobFinished, timeout=60_000):
        click_next(qtbot, again)
    assert again.done_page.report_path.read_bytes().startswith(b"%PDF-")


def test_keyboard_navigation_and_screen_reader_names(qtbot: Any, make_wizard: Any) -> None:
    from emr_exporter.gui.qt import QApplication, QComboBox, QDateEdit, QLineEdit, QProgressBar, QTableWidget

    wizard = make_wizard()
    # Every field, table and progress bar has a name a screen reader can announce.
    for page in wizard.all_pages():
        for kind in (QLineEdit, QComboBox, QDateEdit, QTableWidget, QProgressBar):
            for widget in page.findChildren(kind):
                if widget.parent() is not None and isinstance(widget.parent(), QDateEdit | QComboBox):
                    continue  # the line edit inside a date edit / combo box is part of it
                assert widget.accessibleName(), f"{type(page).__name__}: a {kind.__name__} has no accessible name"
    # Keyboard only: Alt+mnemonic jumps to a field (the label is its buddy); Tab follows the form.
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard, timeout=5_000)
    click_next(qtbot, wizard)
    page = wizard.institution_page
    qtbot.keyClick(wizard, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is page.password_edit
    qtbot.keyClick(wizard, Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is page.code_edit
    qtbot.keyClick(page.code_edit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.name_edit
    qtbot.keyClick(page.name_edit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.closing_date_edit or page.closing_date_edit.isAncestorOf(
        QApplication.focusWidget()
    )


def test_odbc_data_source_is_listed_tested_and_recognised(
    qtbot: Any, make_wizard: Any, app_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user DSN (unixODBC's ODBCINI) over the SQLite3 ODBC driver, pointing at the demo clinic."""
    wizard = make_wizard()
    wizard.start_page.demo_radio.setChecked(True)
    with qtbot.waitSignal(wizard.institution_page.cert_runner.succeeded, timeout=60_000):
        click_next(qtbot, wizard)
    database = wizard.session.demo_material.database
    odbc_ini = tmp_path / "odbc.ini"
    odbc_ini.write_text(f"[clinic_emr]\nDriver=SQLite3\nDatabase={database}\n", encoding="utf-8")
    monkeypatch.setenv("ODBCINI", str(odbc_ini))
    with qtbot.waitSignal(wizard.emr_page.jobFinished, timeout=30_000):
        click_next(qtbot, wizard)
    page = wizard.emr_page
    assert page.dsn_combo.findData("clinic_emr") >= 0
    page.kind_combo.setCurrentIndex(page.kind_combo.findData("dsn"))
    page.dsn_combo.setCurrentIndex(page.dsn_combo.findData("clinic_emr"))
    assert not page.isComplete()  # the file was tested, not this data source
    with qtbot.waitSignal(page.jobFinished, timeout=60_000):
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    assert page.status_label.text().startswith(
        "Connected to the EMR connection clinic_emr set up on this PC. Recognised: Demo clinic")
    assert page.connector_combo.currentData() == "demo"
    click_next(qtbot, wizard)
    assert wizard.session.source == SourceAddress(dsn="clinic_emr")
    assert resume.load_state().dsn == "clinic_emr"
    wizard.scan_page.stop_jobs()


def test_emr_page_finds_the_demo_clinic_on_this_pc_and_preselects_it(
    qtbot: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo connector declares {Home}/demo-output/demo-clinic.sqlite: a clinic there is found unasked."""
    from emr_exporter.demo.clinic import create_demo_clinic

    home = tmp_path / "user"
    database = home / "demo-output" / "demo-clinic.sqlite"
    database.parent.mkdir(parents=True)
    create_demo_clinic(database)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("ODBCINI", str(tmp_path / "no-odbc.ini"))  # no data sources to try
    wizard = make_wizard()
    page = wizard.emr_page
    assert page.source_address() is None  # a real clinic (not the demo): nothing chosen yet
    with qtbot.waitSignal(page.searchFinished, timeout=30_000), qtbot.waitSignal(page.jobFinished, timeout=30_000):
        page.initializePage()  # what the wizard calls when the page opens
    assert page.found_combo.count() == 1
    assert page.found_combo.currentText() == f"Demo clinic (synthetic, 가상 의원) — 100% sure — {database}"
    assert page.search_label.text() == f"Found Demo clinic (synthetic, 가상 의원) at {database} (100% sure)."
    # Preselected and tested: the file, the connector with its version, and the page is complete.
    assert page.kind_combo.currentData() == "file" and page.database_edit.text() == str(database)
    assert page.connector_combo.currentData() == "demo" and "3.2.1" in page.connector_combo.currentText()
    assert page.isComplete()
    tested = "Connected to the database file demo-clinic.sqlite. Recognised: Demo clinic (synthetic, 가상 의원) (100% sure)."
    assert page.status_label.text() == tested
    # The founder can still choose another file by hand: the page no longer says the old one is connected.
    page.database_edit.setText(str(tmp_path / "other.sqlite"))
    assert not page.isComplete()
    assert page.status_label.text() == "Press Test connection to check the database chosen now."
    page.kind_combo.setCurrentIndex(page.kind_combo.findData("server"))  # (another kind: the same)
    assert page.status_label.text() == "Press Test connection to check the database chosen now."
    page.kind_combo.setCurrentIndex(page.kind_combo.findData("file"))
    page.database_edit.setText(str(database))  # the tested one again: its result, and Next
    assert page.status_label.text() == tested and page.isComplete()
