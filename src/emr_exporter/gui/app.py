"""``emr-exporter``: start the founder's wizard (Korean by default on a Korean system, ``--lang ko|en``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emr_exporter.gui.collector import collect_in_gui_thread
from emr_exporter.gui.qt import (
    QApplication,
    QFont,
    QFontDatabase,
    QLibraryInfo,
    QLocale,
    Qt,
    QTimer,
    QTranslator,
    QWidget,
)

I18N_DOMAIN = "emr_exporter"


def translations_dir() -> Path:
    """The packaged translations (``emr_exporter/resources/i18n``), the same way in every install."""
    from emr_exporter.resources import resource_path

    return resource_path("i18n")


def install_translators(app: QApplication, lang: str | None) -> list[QTranslator]:
    """Our strings and Qt's own (wizard buttons, dialogs). Must run before any widget is built.

    Korean (or English) follows the system language unless ``lang`` is given; the default QLocale is set
    too, so numbers and sizes are formatted the same way. Returns the installed translators.
    """
    locale = QLocale(lang) if lang else QLocale.system()
    QLocale.setDefault(locale)
    installed = []
    qt_translator = QTranslator(app)
    if qt_translator.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_translator)
        installed.append(qt_translator)
    app_translator = QTranslator(app)
    if app_translator.load(locale, I18N_DOMAIN, "_", str(translations_dir())):
        app.installTranslator(app_translator)
        installed.append(app_translator)
    return installed


def use_bundled_font(app: QApplication) -> None:
    """On Linux, use the shipped NanumGothic (OFL) so Hangul never renders as empty boxes.

    Windows (맑은 고딕) and macOS (Apple SD Gothic Neo) have Korean system fonts and keep them.
    """
    if not sys.platform.startswith("linux"):
        return
    font_file = translations_dir().parent / "fonts" / "NanumGothic.ttf"
    if not font_file.is_file():
        return
    font_id = QFontDatabase.addApplicationFont(str(font_file))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families:
        font = QFont(families[0])
        font.setPointSize(app.font().pointSize())
        app.setFont(font)


def make_app(argv: list[str] | None = None, lang: str | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        # Fractional scaling (125%, 150% on Windows laptops) without rounding blur; Qt 6 is DPI-aware already.
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv or sys.argv[:1])
        use_bundled_font(app)
        collect_in_gui_thread(app)
    app.setApplicationName("emr-exporter")
    install_translators(app, lang)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def _read_then(connection: Any, then: Callable[[], None]) -> None:
    """Drain a second start's knock on the local socket, then bring this window forward."""
    connection.readAll()
    then()


class SingleInstance:
    """One wizard at a time per user and app folder: a second start asks the first to come forward, then ends.

    The first wizard listens on 127.0.0.1 (a free port, written to ``wizard.lock`` in the app-data folder);
    a second start connects, says "raise" and ends when the first answers "ok". A lock left by a crashed run
    answers nobody and is replaced. Plain sockets, so the frozen app needs no QtNetwork.
    """

    def __init__(self, lock_path: Path | None = None) -> None:
        if lock_path is None:
            from emr_exporter.jobs import resume

            lock_path = resume.app_data_dir() / "wizard.lock"
        self.lock_path = lock_path
        self._server: socket.socket | None = None
        self._raise = threading.Event()
        self._timer: QTimer | None = None

    def ask_first_to_come_forward(self) -> bool:
        """True if another wizard is running (it was asked to show itself and said so)."""
        try:
            port = int(self.lock_path.read_text("ascii").strip())
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                connection.sendall(b"raise\n")
                return connection.recv(16).startswith(b"ok")
        except (OSError, ValueError):
            return False

    def listen(self, on_raise: Callable[[], None]) -> bool:
        try:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.bind(("127.0.0.1", 0))
            server.listen(4)
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.lock_path.with_name(self.lock_path.name + ".tmp")
            tmp.write_text(str(server.getsockname()[1]), "ascii")
            tmp.replace(self.lock_path)
        except OSError:
            return False  # no single-instance guard, but the wizard still runs
        self._server = server
        threading.Thread(target=self._serve, args=(server,), name="single-instance", daemon=True).start()
        timer = QTimer()
        timer.setInterval(200)

        def check() -> None:
            if self._raise.is_set():
                self._raise.clear()
                on_raise()

        timer.timeout.connect(check)
        timer.start()
        self._timer = timer
        return True

    def _serve(self, server: socket.socket) -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return  # closed
            with connection:
                try:
                    connection.settimeout(2)
                    if connection.recv(16).startswith(b"raise"):
                        connection.sendall(b"ok\n")
                        self._raise.set()
                except OSError:
                    continue

    def close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(OSError):
                self.lock_path.unlink()


def bring_forward(window: QWidget) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()


def run_wizard(app: QApplication, wizard: QWidget, instance: SingleInstance | None = None) -> int:
    """Show the wizard and run until it ends. Cancel, Finish and the close button all end the process:
    the event loop quits when the wizard is finished (hiding a dialog is not "closing the last window",
    so without this a cancelled wizard left an invisible process behind)."""
    instance = instance or SingleInstance()
    if instance.ask_first_to_come_forward():
        print("emr-exporter is already running; its window was brought forward.", file=sys.stderr)
        return 0

    def come_forward() -> None:
        bring_forward(wizard)
        app.setProperty("raised", True)

    instance.listen(come_forward)
    wizard.finished.connect(app.quit)  # type: ignore[attr-defined]
    wizard.show()
    try:
        code = app.exec()
    finally:
        instance.close()
    from emr_exporter.gui.workers import jobs_left_running

    if jobs_left_running():
        # A job blocked in a database driver that cannot be interrupted (a network that stalls) was left running
        # when the window closed: its connection is abandoned, nothing is half-written (the bundle's journal keeps
        # the sealed parts). Python would destroy its running QThread on the way out, which aborts the process.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emr-exporter", description="The founder's export wizard.")
    parser.add_argument("--lang", choices=["ko", "en"], help="language (default: the system's)")
    parser.add_argument("--demo", action="store_true", help="start with the demo clinic selected")
    args = parser.parse_args(argv)
    app = make_app(sys.argv[:1], args.lang)
    from emr_exporter.gui.wizard import ExportWizard

    wizard = ExportWizard()
    if args.demo:
        wizard.start_page.demo_radio.setChecked(True)
    return run_wizard(app, wizard)


if __name__ == "__main__":
    sys.exit(main())
