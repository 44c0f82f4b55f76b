"""Screenshots of every wizard page, in Korean and English, from the real wizard on the demo clinic.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--size 1024x768]

The process runs under the Korean desktop locale (ko_KR.UTF-8, as on a founder's PC; `.ci/install-system.sh`
installs it) and the window is 1024×768, the smallest common office screen.

Everything runs for real: the synthetic demo clinic is created in a temporary folder, exported, sealed,
verified and uploaded to an in-process reference store on 127.0.0.1. The patients shown are made up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A founder's Korean desktop: Qt's setlocale() follows these, so protocol text and dates are exercised as there.
os.environ.setdefault("LANG", "ko_KR.UTF-8")
os.environ.setdefault("LC_ALL", "ko_KR.UTF-8")

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("start", "institution", "emr", "scan", "export-running", "export", "verify", "upload", "done")


def wait_until(app: object, predicate: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for: {what}")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()  # type: ignore[attr-defined]


def shoot(wizard: object, app: object, path: Path) -> None:
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]
    wizard.grab().save(str(path))  # type: ignore[attr-defined]
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def shoot_server_form(wizard: object, app: object, path: Path) -> None:
    """The EMR page's form for a database server (the founder's words, no connection string), filled as a founder
    would for an EMR whose database runs on this PC (made-up names, no password), then put back as it was."""
    emr = wizard.emr_page  # type: ignore[attr-defined]
    kind = emr.kind_combo.currentIndex()
    emr.kind_combo.setCurrentIndex(emr.kind_combo.findData("server"))
    emr.server_database_edit.setText("emr")
    emr.user_edit.setText("emr_reader")
    shoot(wizard, app, path)
    emr.server_database_edit.clear()
    emr.user_edit.clear()
    emr.kind_combo.setCurrentIndex(kind)


def run_language(app: object, lang: str, out: Path, home: Path, size: tuple[int, int] = (1024, 768)) -> None:
    from emr_exporter.gui.app import install_translators
    from emr_exporter.gui.qt import QLocale, QWizard
    from emr_exporter.gui.wizard import ExportWizard

    translators = install_translators(app, lang)  # type: ignore[arg-type]
    os.environ["EMR_EXPORTER_HOME"] = str(home / lang)
    wizard = ExportWizard()
    wizard.resize(*size)
    wizard.show()
    next_button = wizard.button(QWizard.WizardButton.NextButton)

    def go_next() -> None:
        wait_until(app, next_button.isEnabled, f"{lang}: Next on {type(wizard.currentPage()).__name__}")
        next_button.click()

    def name(page: str) -> Path:
        return out / f"{PAGES.index(page) + 1}-{page}-{lang}.png"

    wizard.start_page.demo_radio.setChecked(True)
    shoot(wizard, app, name("start"))
    go_next()
    wait_until(app, wizard.institution_page.isComplete, "certificate loaded")
    shoot(wizard, app, name("institution"))
    go_next()
    wait_until(app, wizard.emr_page.isComplete, "connection tested")
    shoot(wizard, app, name("emr"))
    shoot_server_form(wizard, app, out / f"{PAGES.index('emr') + 1}-emr-server-{lang}.png")
    go_next()
    wait_until(app, wizard.scan_page.isComplete, "scan finished")
    shoot(wizard, app, name("scan"))
    go_next()
    wizard.export_page.start_button.click()
    wait_until(app, lambda: bool(wizard.export_page.rate_label.text()) or wizard.export_page.isComplete(),
               "export progress")
    shoot(wizard, app, name("export-running"))
    wait_until(app, wizard.export_page.isComplete, "export finished")
    shoot(wizard, app, name("export"))
    go_next()
    wait_until(app, wizard.verify_page.isComplete, "bundle verified")
    shoot(wizard, app, name("verify"))
    go_next()  # in demo mode the wizard runs its own reference store on 127.0.0.1
    wait_until(app, wizard.upload_page.upload_button.isEnabled, "practice store started")
    wizard.upload_page.upload_button.click()
    wait_until(app, lambda: wizard.session.upload_result is not None and wizard.upload_page.isComplete(),
               "upload accepted", timeout=900)
    shoot(wizard, app, name("upload"))
    go_next()
    wait_until(app, lambda: wizard.done_page.report_path is not None, "transfer report written")
    shoot(wizard, app, name("done"))
    wizard.done(QWizard.DialogCode.Accepted)
    for translator in translators:
        app.removeTranslator(translator)  # type: ignore[attr-defined]
    QLocale.setDefault(QLocale.c())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=["ko", "en"], action="append", help="default: both")
    parser.add_argument("--size", default="1024x768", help="window size WxH (default: 1024x768)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    from emr_exporter.gui.app import use_bundled_font
    from emr_exporter.gui.qt import QApplication

    app = QApplication(sys.argv[:1])
    use_bundled_font(app)  # the same font on every machine, so screenshots do not depend on the system
    args.out.mkdir(parents=True, exist_ok=True)
    # A fixed folder name, so the paths shown in the screenshots do not change from run to run.
    home = Path(tempfile.gettempdir()) / "emr-exporter-screens"
    shutil.rmtree(home, ignore_errors=True)
    try:
        for lang in args.lang or ["ko", "en"]:
            run_language(app, lang, args.out, home, (width, height))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
