"""Frozen entry point of ``emr-exporter`` (the windowed wizard for the clinic founder).

``--smoke-test [--lang ko|en] [--smoke-test-out FILE]`` builds the wizard, shows its first page,
processes events, reports what it shows as one JSON line and exits (0 if the first page has a title).
CI runs it on the frozen build (offscreen on Linux, a real desktop on the Windows build machine);
a windowed Windows executable has no stdout, hence the optional output file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def smoke_test(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="emr-exporter --smoke-test")
    parser.add_argument("--smoke-test", action="store_true")
    parser.add_argument("--lang", choices=["ko", "en"], default="ko")
    parser.add_argument("--smoke-test-out", type=Path)
    args = parser.parse_args(argv)

    from emr_exporter.gui.app import make_app
    from emr_exporter.gui.qt import QLibraryInfo, QWizard
    from emr_exporter.gui.wizard import ExportWizard

    app = make_app(sys.argv[:1], args.lang)
    wizard = ExportWizard()
    wizard.show()
    app.processEvents()
    first_page = wizard.currentPage()
    report = {
        "platform": app.platformName(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "window_title": wizard.windowTitle(),
        "first_page_title": first_page.title() if first_page is not None else "",
        "next_button": wizard.buttonText(QWizard.WizardButton.NextButton),
        "cancel_button": wizard.buttonText(QWizard.WizardButton.CancelButton),
        "qt_translations": QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath),
    }
    line = json.dumps(report, ensure_ascii=False)
    if args.smoke_test_out is not None:
        args.smoke_test_out.write_text(line + "\n", encoding="utf-8")
    if sys.stdout is not None:  # None in a windowed Windows executable
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    wizard.close()
    app.processEvents()
    return 0 if report["first_page_title"] else 1


def main() -> int:
    if "--smoke-test" in sys.argv[1:]:
        return smoke_test(sys.argv[1:])
    from emr_exporter.gui.app import main as wizard_main

    return wizard_main()


if __name__ == "__main__":
    # The export's mapping workers are spawned (pipeline/parallel.py): in a frozen executable a spawned
    # child is this same program, which must become the worker here instead of opening a second wizard.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
