"""``emr-exporter``: start the founder's wizard (Korean by default on a Korean system, ``--lang ko|en``)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emr_exporter.gui.qt import (
    QApplication,
    QFont,
    QFontDatabase,
    QLibraryInfo,
    QLocale,
    QLocalServer,
    QLocalSocket,
    Qt,
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
    app.setApplicationName("emr-exporter")
    install_translators(app, lang)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def _read_then(connection: Any, then: Callable[[], None]) -> None:
    """Drain a second start's knock on the local socket, then bring this window forward."""
    connection.readAll()
    then()


class SingleInstance:
    """One wizard at a time per user and app folder: a second start asks the first to come forward, then ends.

    A local socket (a named pipe on Windows) named after the user and the app-data folder. A socket left by
    a crashed run answers nobody and is replaced.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.default_name()
        self.server: QLocalServer | None = None

    @staticmethod
    def default_name() -> str:
        import getpass
        import hashlib

        from emr_exporter.jobs import resume

        folder = str(resume.app_data_dir().resolve())
        return f"emr-exporter-{getpass.getuser()}-{hashlib.sha256(folder.encode()).hexdigest()[:12]}"

    def ask_first_to_come_forward(self) -> bool:
        """True if another wizard is running (it was asked to show itself)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(1000):
            return False
        socket.write(b"raise\n")
        socket.waitForBytesWritten(1000)
        socket.disconnectFromServer()
        return True

    def listen(self, on_raise: Callable[[], None]) -> bool:
        server = QLocalServer()
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)  # a stale socket of a crashed run
            if not server.listen(self.name):
                return False

        def accept() -> None:
            while server.hasPendingConnections():
                connection = server.nextPendingConnection()
                connection.readyRead.connect(functools.partial(_read_then, connection, on_raise))
                connection.disconnected.connect(connection.deleteLater)

        server.newConnection.connect(accept)
        self.server = server
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


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
        return app.exec()
    finally:
        instance.close()


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
