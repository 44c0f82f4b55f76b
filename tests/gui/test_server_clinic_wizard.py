"""The founder's wizard on a clinic whose EMR keeps its records in a database server (MariaDB, PostgreSQL), not a
file: a real run in Korean with the connector an IT contractor scaffolded and installed, the connection the
contractor gave (without its password) and the database password the founder types."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import Qt, QWizard

pytestmark = [pytest.mark.gui, pytest.mark.db]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors"))
from korean_styles import copy_to_server, create_hwanja_clinic  # noqa: E402

DATABASE = "emr_wizard_server"


def click_next(qtbot: Any, wizard: Any) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=10_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def table_rows(widget: Any) -> list[list[str]]:
    return [[widget.item(r, c).text() for c in range(widget.columnCount())] for r in range(widget.rowCount())]


def without_password(conn_str: str) -> str:
    from emr_exporter.sources.drivers import build_connection_string, parse_connection_string

    return build_connection_string([(k, v) for k, v in parse_connection_string(conn_str) if k.upper() != "PWD"])


def server_clinic(tmp_path: Path, server: str, conn_str: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The clinic on the server, the contractor's connector installed on this PC; (clinic, connection, password)."""
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.sources.address import SourceAddress
    from emr_exporter.sources.drivers import get_option

    clinic = create_hwanja_clinic(tmp_path / "EMRDATA.db", patients=6)
    target = copy_to_server(clinic, conn_str, DATABASE)
    connectors = tmp_path / "installed-connectors"
    write_scaffold("hanbit", connectors, SourceAddress(odbc=target))
    monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(connectors))
    return clinic, target, get_option(target, "PWD") or ""


def open_emr_page(qtbot: Any, make_wizard: Any, tmp_path: Path) -> Any:
    from emr_exporter.demo.keys import make_demo_keys

    keys = make_demo_keys(tmp_path / "keys", institution_code="31234567", institution_name="한빛내과의원")
    wizard = make_wizard()
    click_next(qtbot, wizard)  # a real run, not the demo
    page = wizard.institution_page
    qtbot.keyClicks(page.code_edit, "31234567")
    page.name_edit.setText("한빛내과의원")  # QTest cannot type Hangul
    page.cert_path_edit.setText(str(keys.institution_p12))
    qtbot.keyClicks(page.password_edit, keys.institution_password)
    with qtbot.waitSignal(page.jobFinished, timeout=60_000):
        qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    click_next(qtbot, wizard)
    emr = wizard.emr_page
    emr.kind_combo.setCurrentIndex(emr.kind_combo.findData("odbc"))
    return wizard, keys


def try_connection(qtbot: Any, emr: Any, connection: str, password: str) -> str:
    """Type the connection and the password, press Test connection; the message shown when it failed."""
    emr.odbc_edit.setText(connection)
    emr.db_password_edit.clear()
    qtbot.keyClicks(emr.db_password_edit, password)
    with qtbot.waitSignal(emr.jobFailed, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    assert emr.test_button.isEnabled() and not emr.isComplete()
    return str(emr.error_label.text())


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_each_refused_connection_says_in_korean_what_to_do(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    from emr_exporter.sources.drivers import get_option, set_options

    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    connection = without_password(target)

    wrong = try_connection(qtbot, emr, connection, "not-the-password")
    assert wrong.startswith("데이터베이스가 계정 이름이나 비밀번호를 받아들이지 않았습니다. 데이터베이스 비밀번호를 다시 "
                            "입력하세요(대문자와 소문자를 구분합니다).")
    assert "not-the-password" not in wrong

    # The server not running: nothing listens on the port (the database server's port + 1 is free here).
    stopped = set_options(connection, [("PORT", str(int(get_option(connection, "PORT") or 0) + 1))])
    down = try_connection(qtbot, emr, stopped, password)
    assert down.startswith("EMR 데이터베이스 서버가 응답하지 않습니다. EMR 데이터베이스가 있는 PC가 켜져 있고")
    assert password not in down

    missing = try_connection(qtbot, emr, set_options(connection, [("DATABASE", "emr_no_such_db")]), password)
    assert missing.startswith("데이터베이스 서버에는 연결되었지만 그런 이름의 데이터베이스가 없습니다.")

    # The right password: connected, recognised, and on to the scan.
    emr.odbc_edit.setText(connection)
    emr.db_password_edit.clear()
    qtbot.keyClicks(emr.db_password_edit, password)
    with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    assert emr.error_label.text() == "" and emr.connector_combo.currentData() == "hanbit"
    assert emr.isComplete()
