"""The wizard on a clinic database server it cannot reach: a server PC switched off (its port never answers the TCP
SYN), one that refuses, and a database that takes the connection and never answers. Test connection says in Korean
what to check; Stop and Back while the connect waits answer within seconds and the connect is given up (its job not
left running in the background). Real MariaDB/PostgreSQL drivers, real Qt offscreen. Before, the test job ignored
Stop (there was none) and Back, and waited for the whole login timeout (MariaDB Connector/ODBC: for over 40 s for a
switched-off PC, it ignores the ODBC login timeout)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import Qt

pytestmark = [pytest.mark.gui, pytest.mark.db]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_server_clinic_wizard import (  # noqa: E402
    click_next,
    open_emr_page,
    server_clinic,
    try_connection,
    without_password,
)

from stall_kit import refusing_port, relay_to, silent_server, switched_off_server  # noqa: E402

OFF = ("EMR 서버 컴퓨터가 응답하지 않습니다. 꺼져 있거나 그 컴퓨터까지의 네트워크가 끊겼을 수 있습니다. EMR 서버 컴퓨터가 "
       "켜져 있는지, 랜선이나 와이파이로 연결되어 있는지 확인한 다음 다시 해 보세요. 그래도 안 되면 전산 담당자에게 서버 "
       "이름과 포트 번호를 확인해 달라고 하세요.")
REFUSED = ("EMR 서버 컴퓨터는 켜져 있지만 그 컴퓨터의 EMR 데이터베이스가 연결을 받지 않습니다. 데이터베이스가 꺼져 있거나 아직 "
           "켜지는 중이거나, 포트 번호가 틀렸을 수 있습니다. EMR 서버 컴퓨터에서 EMR 프로그램이 잘 열리는지 확인한 다음(열리지 "
           "않으면 그 컴퓨터를 다시 시작하세요) 다시 해 보세요. 그래도 안 되면 전산 담당자에게 포트 번호를 확인해 달라고 "
           "하세요.")
HUNG = ("EMR 서버 컴퓨터에 연결은 되었지만 그 컴퓨터의 EMR 데이터베이스가 제때 응답하지 않았습니다. 멈춰 있거나 몹시 바쁠 수 "
        "있습니다. 잠시 기다린 다음 다시 해 보세요. 계속 그러면 EMR 서버 컴퓨터를 다시 시작하거나, 전산 담당자에게 서버 이름과 "
        "포트 번호를 확인해 달라고 하세요.")
DRIVERS = {"mariadb": "DRIVER={MariaDB Unicode}", "postgres": "DRIVER={PostgreSQL Unicode}"}
PASSWORD = "Zz-wizard-db-pw"


def connection_to(server: str, port: int) -> str:
    return f"{DRIVERS[server]};SERVER=127.0.0.1;PORT={port};DATABASE=emr;UID=emr"


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_test_connection_says_in_korean_what_to_check_for_each_unreachable_server(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from emr_exporter.sources.connect import LOGIN_ENV

    monkeypatch.setenv(LOGIN_ENV, "2")
    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    said = {}
    with switched_off_server() as off, silent_server() as silent:
        for case, port in (("off", off), ("refused", refusing_port()), ("hung", silent)):
            said[case] = try_connection(qtbot, emr, connection_to(server, port), PASSWORD)
    for case, sentence in (("off", OFF), ("refused", REFUSED), ("hung", HUNG)):
        summary, detail = said[case].split("\n", 1)
        assert summary == sentence, case
        assert detail.startswith("The "), detail  # the core's English message for the IT contractor, under it
        assert PASSWORD not in said[case]
    assert not emr.stop_button.isEnabled()


def press_while_connecting(qtbot: Any, emr: Any, connection: str) -> None:
    """Test connection on ``connection`` (a server that does not answer: the 15 s login timeout), a second into it."""
    emr.odbc_edit.setText(connection)
    qtbot.keyClicks(emr.db_password_edit, PASSWORD)
    qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    assert emr.stop_button.isEnabled() and not emr.test_button.isEnabled()
    qtbot.wait(1000)
    assert emr.test_runner.running


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_stop_ends_a_test_connection_that_waits_for_a_switched_off_server(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path,
) -> None:
    from emr_exporter.gui.workers import jobs_left_running

    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    with switched_off_server() as port:
        press_while_connecting(qtbot, emr, connection_to(server, port))
        pressed = time.monotonic()
        with qtbot.waitSignal(emr.jobFailed, timeout=10_000):
            qtbot.mouseClick(emr.stop_button, Qt.MouseButton.LeftButton)
        assert time.monotonic() - pressed < 10  # not the 15 s login timeout
        qtbot.waitUntil(lambda: not emr.busy(), timeout=10_000)
    assert emr.error_label.text() == "멈췄습니다."
    assert emr.status_label.text() == ""
    assert emr.test_button.isEnabled() and not emr.stop_button.isEnabled() and not emr.isComplete()
    assert jobs_left_running() == 0


def test_back_while_test_connection_waits_goes_back_within_seconds_and_ends_the_test(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from emr_exporter.gui import wizard as wizard_module
    from emr_exporter.gui.qt import QMessageBox, QWizard
    from emr_exporter.gui.workers import jobs_left_running

    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    with switched_off_server() as port:
        press_while_connecting(qtbot, emr, connection_to("mariadb", port))
        monkeypatch.setattr(wizard_module.QMessageBox, "question",
                            staticmethod(lambda *args: QMessageBox.StandardButton.Yes))
        pressed = time.monotonic()
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
        assert time.monotonic() - pressed < 10  # the GUI thread is back within the stop bound, not frozen
        assert wizard.currentPage() is wizard.institution_page
        assert jobs_left_running() == 0  # the connect was given up: its job ended, not left in the driver
        qtbot.waitUntil(lambda: not emr.busy(), timeout=10_000)


def start_a_scan_that_waits(qtbot: Any, wizard: Any, relay: Any) -> Any:
    """The network to the server stalls (``relay``), then Next: the scan page, its scan's connect waiting a second
    for bytes that never come."""
    relay.stall(new_connections_too=True)
    links = len(relay.links)
    scan = wizard.scan_page
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: len(relay.links) > links, timeout=10_000)
    qtbot.wait(1000)
    assert wizard.currentPage() is scan and scan.busy()
    return scan


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_back_while_the_scan_is_still_connecting_goes_back_within_seconds_and_ends_the_scan(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    """The connection was tested, then the network to the server died: the scan's own connect waits (no byte passes)
    when the founder presses Back (Yes)."""
    from emr_exporter.gui import wizard as wizard_module
    from emr_exporter.gui.qt import QMessageBox, QWizard
    from emr_exporter.gui.workers import jobs_left_running

    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    with relay_to(target) as relay:
        wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
        emr = wizard.emr_page
        emr.odbc_edit.setText(without_password(relay.conn_str))
        qtbot.keyClicks(emr.db_password_edit, password)
        with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
            qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
        scan = start_a_scan_that_waits(qtbot, wizard, relay)
        monkeypatch.setattr(wizard_module.QMessageBox, "question",
                            staticmethod(lambda *args: QMessageBox.StandardButton.Yes))
        pressed = time.monotonic()
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
        assert time.monotonic() - pressed < 10
        assert wizard.currentPage() is emr
        assert jobs_left_running() == 0
        qtbot.waitUntil(lambda: not scan.busy(), timeout=10_000)
        assert scan.error_label.text() == "멈췄습니다."
        assert wizard.session.scan_report is None
