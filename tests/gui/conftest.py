"""Fixtures for driving the wizard offscreen (tests/conftest.py sets QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private app-data folder: the demo clinic, demo keys, saved state and exports go there."""
    home = tmp_path / "home"
    monkeypatch.setenv("EMR_EXPORTER_HOME", str(home))
    for name in ("EMR_EXPORTER_STORE_URL", "EMR_EXPORTER_STORE_CERT", "EMR_EXPORTER_STORE_RECEIPT_CERT",
                 "EMR_EXPORTER_STORE_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # the store settings a contractor may have set on this PC
    return home


@pytest.fixture
def make_wizard(qtbot: Any, app_home: Path) -> Iterator[Any]:
    from emr_exporter.gui.wizard import ExportWizard

    made: list[ExportWizard] = []

    def make() -> ExportWizard:
        wizard = ExportWizard()
        qtbot.addWidget(wizard)  # closed (done() stops every job) at teardown
        wizard.show()
        made.append(wizard)
        return wizard

    yield make
    for wizard in made:
        for page in wizard.all_pages():
            page.stop_jobs()


@pytest.fixture
def korean_ui(qapp: Any) -> Iterator[Any]:
    """The wizard in Korean (our .qm and Qt's qtbase_ko.qm), removed again after the test."""
    from emr_exporter.gui.app import install_translators
    from emr_exporter.gui.qt import QLocale

    translators = install_translators(qapp, "ko")
    yield translators
    for translator in translators:
        qapp.removeTranslator(translator)
    QLocale.setDefault(QLocale.c())


@pytest.fixture(autouse=True)
def collect_in_the_gui_thread(qapp: Any) -> Iterator[Any]:
    """As the wizard's own app does (gui/collector.py): cycles are collected in the GUI thread only, never
    in a job's worker thread (where freeing a widget crashes Qt). Everything left is collected here at
    teardown, so later tests' threads find no Qt garbage to free."""
    from emr_exporter.gui.collector import MainThreadCollector

    collector = MainThreadCollector(qapp)
    collector.start()
    yield collector
    collector.stop()
    collector.deleteLater()
