"""No engineering word on any page the founder reads: the wizard is walked through the demo clinic from the first page
to the receipt (a real export, check and upload to the practice store), in Korean and in English, and at every page
every widget a person can see is read — labels, buttons, group titles, placeholders and typed text, every item of a
list to choose from, table headers and cells, tooltips — and none may say FHIR, SHA-256, NDJSON, ``data/raw``, bag,
sidecar, connector, ODBC or DSN (the founder's words instead: 국가 표준 형식, 봉인 파일, 원래 모습 그대로, EMR 종류,
등록된 연결, 연결 정보). The technical detail stays where the contractor reads it: the transfer report and the bag."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emr_exporter.gui.qt import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    Qt,
    QTableWidget,
    QTreeWidget,
    QWidget,
    QWizard,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]

#: The engineering words (and their spellings) no visible text may hold.
TECHNICAL = re.compile(r"fhir|sha-?256|ndjson|data/raw|\bbags?\b|sidecar|connector|커넥터|odbc|\bdsn\b", re.IGNORECASE)


def shown_texts(page: Any) -> list[str]:
    """Every text a person can read on ``page`` as it is now: of the widgets shown only (a row hidden for another
    kind of database is not read), with every item of a list to choose from (the founder opens it)."""
    texts = [page.title(), page.subTitle()]
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page):
            continue
        texts.append(widget.toolTip())
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QLineEdit):
            texts += [widget.placeholderText(), widget.text()]
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        elif isinstance(widget, QTableWidget):
            for column in range(widget.columnCount()):
                header = widget.horizontalHeaderItem(column)
                texts.append(header.text() if header is not None else "")
                texts += [widget.item(row, column).text() for row in range(widget.rowCount())
                          if widget.item(row, column) is not None]
        elif isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            texts += [header.text(c) for c in range(widget.columnCount())]
            for index in range(widget.topLevelItemCount()):
                item = widget.topLevelItem(index)
                texts += [item.text(c) for c in range(widget.columnCount())]
    return [t for t in texts if t]


def technical_words(page: Any) -> list[tuple[str, str]]:
    return [(type(page).__name__, text) for text in shown_texts(page) if TECHNICAL.search(text)]


def test_the_technical_word_check_catches_each_word(qtbot: Any, make_wizard: Any) -> None:
    """The walk below cannot pass by reading nothing: a label, a hidden-then-shown row, a list item are each read."""
    wizard = make_wizard()
    page = wizard.emr_page
    assert len(shown_texts(page)) > 10
    label = QLabel("NDJSON (data/raw) SHA-256 bag", page)
    label.show()
    assert [hit for _, hit in technical_words(page)] == ["NDJSON (data/raw) SHA-256 bag"]
    label.hide()
    page.kind_combo.addItem("an ODBC DSN")
    assert [hit for _, hit in technical_words(page)] == ["an ODBC DSN"]
    page.kind_combo.removeItem(page.kind_combo.count() - 1)
    assert technical_words(page) == []
    for word in ("FHIR", "sha256", "sidecar", "connector", "커넥터", "bags"):
        assert TECHNICAL.search(f"x {word} y"), word
    assert not TECHNICAL.search("baggage 가방 embargo")


def _next(qtbot: Any, wizard: Any) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=30_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("ui", ["korean_ui", "english_ui"])
def test_no_page_shows_a_technical_word_from_start_to_receipt(
        qtbot: Any, make_wizard: Any, request: pytest.FixtureRequest, ui: str) -> None:
    from emr_exporter.gui.qt import QLocale

    if ui == "korean_ui":
        request.getfixturevalue(ui)
    else:
        QLocale.setDefault(QLocale("en"))
    try:
        wizard = make_wizard()
        found: list[tuple[str, str]] = []
        read = []

        def look() -> None:
            page = wizard.currentPage()
            read.append(type(page).__name__)
            found.extend(technical_words(page))

        look()  # start
        wizard.start_page.demo_radio.setChecked(True)
        with qtbot.waitSignal(wizard.institution_page.cert_runner.succeeded, timeout=60_000):
            _next(qtbot, wizard)
        look()  # institution, the demo certificate loaded
        with qtbot.waitSignal(wizard.emr_page.jobFinished, timeout=60_000):
            _next(qtbot, wizard)
        look()  # the EMR recognised
        emr = wizard.emr_page
        for kind in range(emr.kind_combo.count()):  # each kind of database: its own rows of the form
            emr.kind_combo.setCurrentIndex(kind)
            look()
        emr.kind_combo.setCurrentIndex(emr.kind_combo.findData("file"))
        with qtbot.waitSignal(wizard.scan_page.jobFinished, timeout=120_000):
            _next(qtbot, wizard)
        look()  # what will be exported
        _next(qtbot, wizard)
        look()  # export, before start
        export = wizard.export_page
        with qtbot.waitSignal(export.jobFinished, timeout=600_000):
            qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
        look()  # sealed
        with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=120_000):
            _next(qtbot, wizard)
        look()  # check: the counts, what was set aside, the sealed file checked
        _next(qtbot, wizard)
        upload = wizard.upload_page
        qtbot.waitUntil(upload.upload_button.isEnabled, timeout=60_000)  # the practice store started
        look()
        with qtbot.waitSignal(upload.jobFinished, timeout=600_000):
            qtbot.mouseClick(upload.upload_button, Qt.MouseButton.LeftButton)
        look()  # sent, the receipt number
        with qtbot.waitSignal(wizard.done_page.jobFinished, timeout=120_000):
            _next(qtbot, wizard)
        look()  # done, the transfer report written
        assert read[0] == "StartPage" and read[-1] == "DonePage"
        assert {"InstitutionPage", "EmrPage", "ScanPage", "ExportPage", "VerifyPage", "UploadPage"} <= set(read)
        assert found == []
    finally:
        QLocale.setDefault(QLocale.c())
