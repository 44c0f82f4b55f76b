"""The founder connects to the clinic's database server without a connection string: on the EMR page she chooses "the
EMR's database server", the type of database (what this PC's drivers reach, by name), and types the database, the
account and the password; the port is the type's usual one. Real Qt offscreen, in Korean, real MariaDB and PostgreSQL
servers over their real ODBC drivers. Then: a wrong password, a port where nothing listens, a data source (DSN) whose
server refuses, and Stop on the scan page while its connect waits for a server that stopped answering."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import QLabel, Qt

pytestmark = [pytest.mark.gui, pytest.mark.db]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_server_clinic_wizard import DATABASE, click_next, open_emr_page, server_clinic  # noqa: E402
from test_unreachable_server_wizard import REFUSED, start_a_scan_that_waits  # noqa: E402

from stall_kit import refusing_port, relay_to  # noqa: E402

KINDS = {"mariadb": ("MariaDB/MySQL", 3306), "postgres": ("PostgreSQL", 5432)}
SERVER_KIND = "EMR 데이터베이스 서버 (이 PC 또는 병원의 메인 PC)"
WRONG_LOGIN = ("데이터베이스가 계정 이름이나 비밀번호를 받아들이지 않았습니다. 데이터베이스 비밀번호를 다시 입력하세요(대문자와 "
               "소문자를 구분합니다).")
WRONG_PASSWORD = "틀린;비번}=x {y}"


def fill_server_form(qtbot: Any, emr: Any, server: str, port: int, database: str, user: str, password: str) -> None:
    """What the founder does: the server kind, the type of database, the port if it is not the usual one, the
    database's name, the account and the password (this PC's server: the address left empty)."""
    emr.kind_combo.setCurrentIndex(emr.kind_combo.findData("server"))
    name, usual = KINDS[server]
    if emr.server_type_combo.currentText() != name:
        emr.server_type_combo.setCurrentIndex(emr.server_type_combo.findText(name))
        assert emr.port_edit.text() == str(usual)  # filled with the type's usual port
    emr.port_edit.clear()
    qtbot.keyClicks(emr.port_edit, str(port))
    for edit, text in ((emr.server_database_edit, database), (emr.user_edit, user)):
        edit.clear()
        qtbot.keyClicks(edit, text)
    emr.db_password_edit.setText(password)  # QTest cannot type Hangul


def visible_words(emr: Any) -> list[str]:
    return [label.text() for label in emr.findChildren(QLabel) if label.isVisible() and label.text()]


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_the_founder_fills_the_server_form_and_the_emr_is_recognised(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    from emr_exporter.sources.drivers import get_option

    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    assert [emr.server_type_combo.itemText(i) for i in range(emr.server_type_combo.count())] == [
        "SQL Server", "MariaDB/MySQL", "PostgreSQL"]  # this PC's drivers: FreeTDS, MariaDB, psqlODBC
    port = int(get_option(target, "PORT") or 0)
    fill_server_form(qtbot, emr, server, port, DATABASE, get_option(target, "UID") or "", password)
    assert emr.kind_combo.currentText() == SERVER_KIND
    on_screen = visible_words(emr)
    assert "데이터베이스 종류(&D):" in on_screen and "계정 이름(&I):" in on_screen
    assert not [w for w in on_screen if "ODBC" in w or "DSN" in w], on_screen  # no contractor's words
    with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    assert emr.error_label.text() == "" and emr.connector_combo.currentData() == "hanbit"
    assert emr.status_label.text().startswith(
        f"서버 127.0.0.1:{port}의 데이터베이스 {DATABASE}에 연결했습니다. 확인된 EMR: ")
    assert emr.isComplete()
    click_next(qtbot, wizard)
    # The session keeps the connection the core built, without the password, and the form shows it again.
    assert wizard.session.source.odbc == (
        f"DRIVER={{{'MariaDB Unicode' if server == 'mariadb' else 'PostgreSQL Unicode'}}};SERVER=127.0.0.1;"
        f"PORT={port};DATABASE={DATABASE};UID={get_option(target, 'UID')}")
    again = make_wizard().emr_page
    again.session.source = wizard.session.source
    again.initializePage()
    assert again.kind_combo.currentData() == "server" and again.server_type_combo.currentText() == KINDS[server][0]
    assert (again.port_edit.text(), again.server_database_edit.text(), again.user_edit.text()) == (
        str(port), DATABASE, get_option(target, "UID"))
    again.test_runner.stop()


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_a_wrong_password_and_a_closed_port_say_in_korean_what_to_do_and_never_the_password(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, app_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    from emr_exporter.sources.drivers import get_option

    caplog.set_level(logging.DEBUG)
    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    said = {}
    for case, port, typed in (("wrong password", int(get_option(target, "PORT") or 0), WRONG_PASSWORD),
                              ("closed port", refusing_port(), password)):
        fill_server_form(qtbot, emr, server, port, DATABASE, get_option(target, "UID") or "", typed)
        with qtbot.waitSignal(emr.jobFailed, timeout=10_000):  # at once: no login timeout waited for
            qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
        assert emr.test_button.isEnabled() and not emr.isComplete()
        said[case] = emr.error_label.text()
    assert said["wrong password"].split("\n")[0].startswith(WRONG_LOGIN)
    assert said["closed port"].split("\n")[0] == REFUSED
    shown = [*said.values(), emr.status_label.text(), *visible_words(emr)]
    logged = caplog.text + "".join(f.read_text(errors="replace") for f in app_home.rglob("*") if f.is_file())
    for secret in (WRONG_PASSWORD, password, "비번"):
        assert not [text for text in shown if secret in text]
        assert secret not in logged


def test_a_data_source_whose_server_refuses_gets_the_refused_answer(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A DSN set up on this PC (unixODBC's odbc.ini here; the registry on Windows) whose server and port are in its
    settings: the same TCP check as the server form's, so the founder reads that the server PC is on but its
    database does not take the connection."""
    port = refusing_port()
    ini = tmp_path / "odbc.ini"
    ini.write_text(f"[clinic_refusing]\nDriver = PostgreSQL Unicode\nServername = 127.0.0.1\nPort = {port}\n"
                   "Database = emr\nUID = emr\n", encoding="utf-8")
    monkeypatch.setenv("ODBCINI", str(ini))
    monkeypatch.setenv("ODBCSYSINI", str(tmp_path / "no-system"))
    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    emr.kind_combo.setCurrentIndex(emr.kind_combo.findData("dsn"))
    emr.dsn_combo.setCurrentIndex(emr.dsn_combo.findData("clinic_refusing"))
    emr.db_password_edit.setText(WRONG_PASSWORD)
    with qtbot.waitSignal(emr.jobFailed, timeout=10_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    summary, detail = emr.error_label.text().split("\n", 1)
    assert summary == REFUSED
    assert detail.startswith(f"The EMR server PC '127.0.0.1:{port}' answers, but no database takes connections")
    assert WRONG_PASSWORD not in emr.error_label.text()


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_stop_on_the_scan_page_ends_a_scan_that_waits_and_scan_again_then_works(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    """The connection was tested, then the network to the server stalled: the scan's connect waits (no byte passes)
    when the founder presses Stop. The scan ends at once with "멈췄습니다.", its job not left running; once the
    network is back, Scan again reads the whole database."""
    from emr_exporter.gui.workers import jobs_left_running
    from emr_exporter.sources.drivers import get_option

    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    with relay_to(target) as relay:
        wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
        emr = wizard.emr_page
        fill_server_form(qtbot, emr, server, relay.port, DATABASE, get_option(target, "UID") or "", password)
        with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
            qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
        scan = start_a_scan_that_waits(qtbot, wizard, relay)
        assert scan.stop_button.isEnabled() and not scan.rescan_button.isEnabled()
        assert scan.stop_button.text() == "멈춤(&P)"
        with qtbot.waitSignal(scan.jobFailed, timeout=10_000):  # not the 15 s login timeout
            qtbot.mouseClick(scan.stop_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not scan.busy(), timeout=10_000)
        assert scan.error_label.text() == "멈췄습니다."
        assert jobs_left_running() == 0 and wizard.session.scan_report is None
        assert scan.rescan_button.isEnabled() and not scan.stop_button.isEnabled() and not scan.isComplete()
        assert wizard.currentPage() is scan
        relay.resume()
        with qtbot.waitSignal(scan.jobFinished, timeout=120_000):
            qtbot.mouseClick(scan.rescan_button, Qt.MouseButton.LeftButton)
    report = wizard.session.scan_report
    assert report is not None and report.totals["source_rows"] > 0 and scan.isComplete()
    assert scan.error_label.text() == "" and not scan.stop_button.isEnabled()
