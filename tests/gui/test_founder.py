"""The founder's last mile (issue 16), in a Korean window: plain words only, the USB path without a terminal,
and the demo to a receipt under ko_KR.UTF-8."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import (
    QAbstractButton,
    QGroupBox,
    QLabel,
    QLineEdit,
    Qt,
    QWizard,
)
from emr_exporter.resources import glossary, glossary_problems, resource_path

pytestmark = pytest.mark.gui


def click_next(qtbot: Any, wizard: Any) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=10_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def visible_texts(page: Any) -> list[str]:
    """Every text a person can read on a page: title, subtitle, labels, buttons, group titles, hints."""
    texts = [page.title(), page.subTitle()]
    for widget in page.findChildren(QLabel):
        texts.append(widget.text())
    for widget in page.findChildren(QAbstractButton):
        texts.append(widget.text())
    for widget in page.findChildren(QGroupBox):
        texts.append(widget.title())
    for widget in page.findChildren(QLineEdit):
        texts.append(widget.placeholderText())
    return [t for t in texts if t]


def test_the_glossary_is_well_formed() -> None:
    rules = glossary()
    assert rules["terms"]["quarantined (kept separately)"] == "별도 보관"
    assert "커넥터" in rules["avoid"] and "MiB" in rules["avoid"]
    assert glossary_problems("설치된 커넥터 (ODBC) 1.2 MiB") == [
        "'커넥터' (say: EMR 종류 / 프로그램이 아는 EMR)", "'MiB' (say: MB)", "untranslated 'ODBC'"]
    # Exempt: placeholders, keyboard marks, file patterns and extensions, “quoted” literals.
    assert glossary_problems("{name} 파일(&F) (*.pdf) .p12 “signCert.der” EMR PC USB 12 MB") == []


def test_every_korean_translation_follows_the_glossary() -> None:
    ts = resource_path("i18n", "emr_exporter_ko.ts")
    problems = {}
    for message in ET.parse(ts).getroot().iter("message"):
        translation = message.find("translation")
        assert translation is not None
        korean = translation.text or " ".join(form.text or "" for form in translation)
        found = glossary_problems(korean)
        if found:
            problems[message.findtext("source")] = found
    assert problems == {}


def test_every_page_in_korean_follows_the_glossary(qtbot: Any, korean_ui: Any, make_wizard: Any) -> None:
    wizard = make_wizard()
    seen = 0
    for page in wizard.all_pages():
        for text in visible_texts(page):
            assert glossary_problems(text) == [], (type(page).__name__, text)
            seen += 1
    for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.BackButton,
                  QWizard.WizardButton.CancelButton, QWizard.WizardButton.FinishButton):
        assert glossary_problems(wizard.button(which).text()) == []
    assert seen > 50  # every page contributes (titles, labels, buttons)


def _carried_demo_bundle(app_home: Path, usb: Path) -> Path:
    """A demo bundle sealed for the wizard's own demo store, copied to a 'USB stick' with its summary."""
    from emr_exporter.gui.session import DEMO_FOLDER, prepare_demo_material
    from emr_exporter.jobs.service import DemoRequest, ExportRequest, prepare_demo, run_export
    from emr_exporter.sources.address import SourceAddress

    material = prepare_demo_material(app_home / DEMO_FOLDER)  # the demo keys the wizard's practice store uses
    # A small clinic, so that the store's check of the file stays short on a loaded machine.
    database, attachments = prepare_demo(DemoRequest(out_dir=app_home / "small-clinic", patients=30))
    outcome = run_export(ExportRequest(
        connector="demo", source=SourceAddress(database=database), attachments_root=attachments,
        out_dir=app_home / "first-pc", signer_path=material.institution_p12,
        signer_password=material.institution_password, recipient_cert=material.store_cert,
    ))
    usb.mkdir(parents=True)
    bundle = usb / outcome.bundle_path.name
    shutil.copy(outcome.bundle_path, bundle)
    shutil.copy(outcome.bundle_path.with_name(bundle.name + ".summary.json"), usb / (bundle.name + ".summary.json"))
    return bundle


def test_the_usb_path_sends_a_carried_file_to_a_receipt_without_a_terminal(
    qtbot: Any, korean_locale: str, korean_ui: Any, make_wizard: Any, app_home: Path, tmp_path: Path
) -> None:
    import pypdf

    bundle = _carried_demo_bundle(app_home, tmp_path / "usb")
    wizard = make_wizard()
    start = wizard.start_page
    assert start.send_file_radio.text() == "봉인 파일 보내기 — 다른 PC에서 USB 메모리로 가져온 파일(&F)"
    start.send_file_radio.setChecked(True)
    start.send_file_edit.setText(str(bundle))
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.upload_page  # no export, no check: straight to sending
    upload_page = wizard.upload_page
    assert not upload_page.carry_radio.isVisible()  # already on the other PC
    assert wizard.session.carried and wizard.session.demo
    qtbot.waitUntil(upload_page.upload_button.isEnabled, timeout=30_000)  # the practice store started
    with qtbot.waitSignal(upload_page.jobFinished, timeout=600_000):
        qtbot.mouseClick(upload_page.upload_button, Qt.MouseButton.LeftButton)
    number = wizard.session.upload_result.receipt_number
    assert number and f"접수번호: {number}" in upload_page.state_label.text()
    assert bundle.with_name(bundle.name + ".receipt.json").is_file()  # the receipt is kept on the stick
    with qtbot.waitSignal(wizard.done_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    done = wizard.done_page
    assert done.practice_label.isVisible() and done.practice_label.text().startswith("연습용 — 제출되지 않음")
    assert number in done.receipt_label.text()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(done.report_path).pages)
    assert f"보관시스템 접수번호 {number}" in text and "연습용 — 제출되지 않음" in text


def test_a_carried_file_without_its_summary_is_sent_and_says_what_the_report_needs(
    qtbot: Any, make_wizard: Any, app_home: Path, tmp_path: Path
) -> None:
    bundle = _carried_demo_bundle(app_home, tmp_path / "usb")
    bundle.with_name(bundle.name + ".summary.json").unlink()
    wizard = make_wizard()
    wizard.start_page.send_file_radio.setChecked(True)
    wizard.start_page.send_file_edit.setText(str(bundle))
    click_next(qtbot, wizard)
    qtbot.waitUntil(wizard.upload_page.upload_button.isEnabled, timeout=30_000)  # the practice store started
    with qtbot.waitSignal(wizard.upload_page.jobFinished, timeout=600_000):
        qtbot.mouseClick(wizard.upload_page.upload_button, Qt.MouseButton.LeftButton)
    click_next(qtbot, wizard)
    assert wizard.session.upload_result.receipt_number in wizard.done_page.receipt_label.text()
    assert "summary.json" in wizard.done_page.report_label.text()


def test_not_a_sealed_file_is_refused_on_the_first_page(qtbot: Any, make_wizard: Any, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x", "utf-8")
    wizard = make_wizard()
    wizard.start_page.send_file_radio.setChecked(True)
    wizard.start_page.send_file_edit.setText(str(other))
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.start_page
    assert "notes.txt is not a sealed file (.emrx)" in wizard.start_page.error_label.text()


def test_open_buttons_say_when_nothing_can_open_the_file(
    qtbot: Any, make_wizard: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from emr_exporter.gui.pages import done as done_module

    wizard = make_wizard()
    page = wizard.done_page
    monkeypatch.setattr(done_module.QDesktopServices, "openUrl", staticmethod(lambda url: False))
    assert page.open_path(tmp_path / "report.pdf") is False
    assert "No program on this PC could open it" in page.open_label.text()
    assert str(tmp_path / "report.pdf") in page.open_label.text()
    monkeypatch.setattr(done_module.QDesktopServices, "openUrl", staticmethod(lambda url: True))
    assert page.open_path(tmp_path / "report.pdf") is True and page.open_label.text() == ""


def _npki_certificate(root: Path, cn: str, password: str) -> Path:
    """A 공동인증서 folder (signCert.der + SEED-encrypted signPri.key) under ``root``/NPKI/yessign/USER."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from emr_exporter.bundle.keys import encrypt_npki_private_key

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    issuer = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "yessign"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "yessignCA Class 2")])
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "yessign"),
                         x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=300))
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
            x509.ObjectIdentifier("1.2.410.200005.1.1.5"), None)]), critical=False)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = root / "NPKI" / "yessign" / "USER" / "cn=other"
    folder.mkdir(parents=True)
    (folder / "signCert.der").write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    (folder / "signPri.key").write_bytes(encrypt_npki_private_key(key, password))
    return folder


def test_certificate_page_lists_certificates_and_stops_on_another_institutions(
    qtbot: Any, make_wizard: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "user-home"
    other = _npki_certificate(home, "다른의원(12345678)", "pw12345")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    wizard = make_wizard()
    wizard.start_page.demo_radio.setChecked(True)
    page = wizard.institution_page
    # The list is searched while the demo certificate loads itself.
    with qtbot.waitSignals([page.find_runner.succeeded, page.cert_runner.succeeded], timeout=60_000):
        click_next(qtbot, wizard)
    assert page.check_label.text() == "The certificate belongs to this clinic."
    demo_certificate, demo_password = page.cert_path_edit.text(), page.password_edit.text()
    [row] = [page.cert_list.topLevelItem(i) for i in range(page.cert_list.topLevelItemCount())]
    assert [row.text(c) for c in range(4)] == [
        "다른의원", "business, all purposes", "KFTC (yessign)", row.text(3)] and row.text(3)[:2] == "20"
    assert "1 certificate(s) found" in page.certs_label.text()
    page.cert_list.setCurrentItem(row)
    assert page.cert_path_edit.text() == str(other)
    page.password_edit.setText("pw12345")
    with qtbot.waitSignal(page.cert_runner.succeeded, timeout=30_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    # The export's own signer check, at once: another institution's certificate is a clear stop.
    assert page.check_label.text().startswith("This certificate seems to belong to another institution")
    assert "99350017" in page.check_label.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    page.cert_path_edit.setText(demo_certificate)
    page.password_edit.setText(demo_password)
    with qtbot.waitSignal(page.cert_runner.succeeded, timeout=30_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    assert page.check_label.text() == "The certificate belongs to this clinic."
    page.custodian_edit.setText("김보관")
    page.contact_edit.setText("02-123-4567")
    click_next(qtbot, wizard)
    assert (wizard.session.custodian, wizard.session.custodian_contact) == ("김보관", "02-123-4567")


def test_stop_is_shown_as_paused_and_back_during_work_asks_first(
    qtbot: Any, make_wizard: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_wizard import walk_demo_to_export_page

    from emr_exporter.gui import wizard as wizard_module
    from emr_exporter.gui.pages.base import ERROR_STYLE, PAUSED_STYLE

    wizard = make_wizard()
    walk_demo_to_export_page(qtbot, wizard)
    page = wizard.export_page

    def stop_when_exporting(event: Any) -> None:
        if event.stage == "export" and event.done > 0 and page.cancel_button.isEnabled():
            qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)

    page.export_runner.progressed.connect(stop_when_exporting)
    with qtbot.waitSignal(page.jobFailed, timeout=600_000):
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    page.export_runner.progressed.disconnect(stop_when_exporting)
    # Paused: said so, not in red, and the bar stays where it was.
    assert page.stage_label.text() == "Paused. Press Start to continue where it stopped."
    assert page.error_label.styleSheet() == PAUSED_STYLE != ERROR_STYLE
    assert page.progress_bar.value() > 0
    # Back while the export runs asks first; "No" keeps it running on this page.
    asked: list[str] = []

    def answer(choice: Any) -> Any:
        def question(parent: Any, title: str, text: str, *args: Any) -> Any:
            asked.append(title)
            return choice
        return staticmethod(question)

    qtbot.waitUntil(page.start_button.isEnabled, timeout=10_000)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.busy()
    back = wizard.button(QWizard.WizardButton.BackButton)
    monkeypatch.setattr(wizard_module.QMessageBox, "question", answer(wizard_module.QMessageBox.StandardButton.No))
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert asked == ["Stop and go back?"] and wizard.currentPage() is page and page.busy()
    monkeypatch.setattr(wizard_module.QMessageBox, "question", answer(wizard_module.QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.scan_page
    qtbot.waitUntil(lambda: not page.busy(), timeout=10_000)  # stopped at a safe point (its thread has ended)
    # Back when nothing runs does not ask.
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert len(asked) == 2 and wizard.currentPage() is wizard.emr_page


def test_resuming_a_saved_transfer_goes_straight_to_sending_and_says_so(
    qtbot: Any, make_wizard: Any, app_home: Path, tmp_path: Path
) -> None:
    from emr_exporter.jobs import resume
    from emr_exporter.jobs.carry import carried_bundle

    bundle = _carried_demo_bundle(app_home, tmp_path / "usb")
    outcome = carried_bundle(bundle)
    resume.save_state(resume.WizardState(
        step="upload", demo=True, institution_code=outcome.institution.code,
        institution_name=outcome.institution.name, bundle_id=str(outcome.bundle_id), bundle_path=str(bundle)))
    wizard = make_wizard()
    assert wizard.start_page.resume_radio.isChecked()
    click_next(qtbot, wizard)
    page = wizard.upload_page
    assert wizard.currentPage() is page  # not the institution, EMR, scan, export and check pages again
    assert page.state_label.text().startswith("Continuing the transfer")
    assert page.upload_button.text() == "&Resume"
    qtbot.waitUntil(page.upload_button.isEnabled, timeout=30_000)  # the practice store started (in a worker)
    assert page.state_label.text().startswith("Continuing the transfer")  # still said
    with qtbot.waitSignal(page.jobFinished, timeout=600_000):
        qtbot.mouseClick(page.upload_button, Qt.MouseButton.LeftButton)
    assert wizard.session.upload_result.receipt_number


def test_every_quarantine_reason_has_plain_words_in_the_wizard(qapp: Any) -> None:
    """A reason code the wizard has no sentence for still reads as words (the report's), never as the code."""
    from emr_exporter.gui.qt import QLocale
    from emr_exporter.gui.texts import reason_text

    before = QLocale()
    korean_locale, english_locale = QLocale(QLocale.Language.Korean), QLocale(QLocale.Language.English)
    try:
        for code in ("ambiguous-key", "invalid-output", "control-characters", "unmappable", "no-such-reason"):
            QLocale.setDefault(korean_locale)
            korean = reason_text(code)
            QLocale.setDefault(english_locale)
            english = reason_text(code)
            assert code not in korean and code not in english
            assert any("\uac00" <= ch <= "\ud7a3" for ch in korean), korean
        QLocale.setDefault(english_locale)
        assert reason_text("ambiguous-key") == "its number differs from another only by spaces"
        QLocale.setDefault(korean_locale)
        assert reason_text("control-characters") == "보이지 않는 제어 문자가 들어 있음"
    finally:
        QLocale.setDefault(before)
