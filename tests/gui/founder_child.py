"""A real wizard process for tests/gui/test_process.py: drives itself to an export or an upload, then presses
Cancel (or closes the window) while the work runs. The test checks that the process ends and what it saved.

    python founder_child.py export|upload|close-export|wait [BUNDLE]

Prints one line per milestone ("working", "cancelled", "exited") so the parent can follow it.
"""

from __future__ import annotations

import sys

from emr_exporter.gui.app import make_app, run_wizard
from emr_exporter.gui.qt import QTimer


def say(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    mode = sys.argv[1]
    app = make_app(sys.argv[:1], "ko")
    from emr_exporter.gui.wizard import ExportWizard

    wizard = ExportWizard()
    stopped = {"done": False}

    def stop_now(*_: object) -> None:
        if stopped["done"]:
            return
        stopped["done"] = True
        say("working")
        # What a founder does: Cancel, or the window's close button.
        QTimer.singleShot(0, wizard.close if mode.startswith("close") else wizard.reject)
        say("cancelled")

    def later(step: object) -> None:
        QTimer.singleShot(50, step)  # let the finished job's thread stop first

    if mode == "wait":  # the first instance: says when a second start asked it to come forward, then ends
        def poll() -> None:
            if app.property("raised"):
                say("raised")
                wizard.reject()
            else:
                QTimer.singleShot(50, poll)

        QTimer.singleShot(0, lambda: say("ready"))
        QTimer.singleShot(0, poll)
    elif mode in ("export", "close-export"):
        start = wizard.start_page
        start.demo_radio.setChecked(True)
        wizard.institution_page.cert_runner.succeeded.connect(lambda _: later(wizard.next))
        wizard.emr_page.jobFinished.connect(lambda: later(wizard.next))
        wizard.scan_page.jobFinished.connect(lambda: later(wizard.next))
        export = wizard.export_page

        def on_page(page_id: int) -> None:
            if wizard.page(page_id) is export:
                later(export.start_button.click)

        wizard.currentIdChanged.connect(on_page)
        export.export_runner.progressed.connect(stop_now)
        QTimer.singleShot(0, wizard.next)
    else:
        start = wizard.start_page
        start.send_file_radio.setChecked(True)
        start.send_file_edit.setText(sys.argv[2])
        wizard.session.upload_rate_limit = 512 * 1024  # slow enough that Cancel lands mid-upload
        upload = wizard.upload_page
        upload.upload_runner.progressed.connect(
            lambda item: stop_now() if item[0] == "progress" and item[1] > 0 else None)

        def press_upload() -> None:  # once the practice store has started (in a worker)
            if upload.upload_button.isEnabled():
                upload.upload_button.click()
            else:
                later(press_upload)

        def on_upload_page(page_id: int) -> None:
            if wizard.page(page_id) is upload:
                later(press_upload)

        wizard.currentIdChanged.connect(on_upload_page)
        QTimer.singleShot(0, wizard.next)
    code = run_wizard(app, wizard)
    say("exited")
    return code


if __name__ == "__main__":
    sys.exit(main())
