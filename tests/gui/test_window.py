"""The window on small screens: resizable, and at the minimum a founder's laptop gives it (1024×768 at 125 %,
1366×768 at 150 %) every page shows every widget whole, in Korean and in English.

Sizes are logical pixels (what Qt lays out in): a 1024×768 screen at 125 % is 819×614, a 1366×768 screen at
150 % is 910×512. Fonts scale with the same factor, so laying out at the logical size is what the scaled
screen shows. The wizard's content scrolls inside each page rather than being cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import QAbstractButton, QLabel, QPoint, QWidget

pytestmark = pytest.mark.gui
SCREENS = {"1024x768@125%": (819, 614), "1366x768@150%": (910, 512)}


def clipped(wizard: Any, page: Any) -> list[str]:
    """Labels and buttons of the window (``page``, the wizard's header and buttons) that do not get the room
    they need, or stick out of the window."""
    problems = []
    window = wizard.rect()
    # Everything visible in the window: the page, the wizard's title and subtitle, its buttons.
    for widget in wizard.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(widget, (QLabel, QAbstractButton)):
            continue
        name = f"{type(widget).__name__} {widget.text()[:40]!r}"
        need = widget.minimumSizeHint()
        need_height = widget.heightForWidth(widget.width()) if widget.hasHeightForWidth() else need.height()
        if widget.width() < need.width() or widget.height() < need_height:
            problems.append(f"{name}: {widget.width()}x{widget.height()} < {need.width()}x{need_height}")
        inside = page.scroll_area.widget().isAncestorOf(widget) if hasattr(page, "scroll_area") else False
        if not inside:  # outside the scroll area it must lie within the window
            top_left = widget.mapTo(wizard, QPoint(0, 0))
            if not window.contains(top_left) or not window.contains(top_left + QPoint(widget.width() - 1,
                                                                                       widget.height() - 1)):
                problems.append(f"{name}: outside the window at {top_left.toTuple()}")
    if hasattr(page, "scroll_area") and page.scroll_area.horizontalScrollBar().maximum() > 0:
        problems.append("the page scrolls sideways")
    return problems


@pytest.fixture
def sealed_session(app_home: Path, tmp_path: Path) -> Any:
    from test_founder import _carried_demo_bundle

    from emr_exporter.jobs.carry import carried_bundle

    return carried_bundle(_carried_demo_bundle(app_home, tmp_path / "usb"))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_page_fits_the_smallest_laptop_screens(
    qtbot: Any, qapp: Any, make_wizard: Any, sealed_session: Any, app_home: Path, lang: str
) -> None:
    from emr_exporter.gui.app import install_translators
    from emr_exporter.gui.qt import QLocale
    from emr_exporter.sources.address import SourceAddress

    translators = install_translators(qapp, lang) if lang == "ko" else []
    try:
        wizard = make_wizard()
        session = wizard.session
        session.outcome = sealed_session
        session.demo = True
        # What the EMR page would have chosen (pages are shown here without walking through the ones before).
        session.connector = "demo"
        session.source = SourceAddress(database=app_home / "small-clinic" / "demo-clinic.sqlite")
        session.attachments_root = app_home / "small-clinic" / "attachments"
        problems = {}
        for screen, (width, height) in SCREENS.items():
            wizard.resize(width, height)
            qtbot.waitUntil(lambda w=width, h=height: wizard.size().toTuple() == (w, h), timeout=5_000)
            for page_id, page in zip(wizard.pageIds(), wizard.all_pages(), strict=True):
                wizard.setStartId(page_id)
                wizard.restart()
                qtbot.waitUntil(lambda p=page: not p.busy(), timeout=60_000)
                qapp.processEvents()
                found = clipped(wizard, page)
                if found:
                    problems[f"{screen} {type(page).__name__}"] = found
        assert problems == {}
        assert wizard.minimumSize().width() <= min(w for w, _ in SCREENS.values())
        assert wizard.minimumSize().height() <= min(h for _, h in SCREENS.values()) - 60  # title bar, taskbar
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
        QLocale.setDefault(QLocale.c())


def test_every_page_shows_its_step_and_a_help_line(qtbot: Any, make_wizard: Any) -> None:
    wizard = make_wizard()
    pages = wizard.all_pages()
    for number, page in enumerate(pages, 1):
        assert page.step_label.text() == f"Step {number} / {len(pages)}"
        assert page.help_label.text().startswith("Help: ")
