"""The wizard on a clinic database server that stops answering: Stop, Back and closing the window answer within
seconds even while the export waits inside a query (a table locked by the still-running EMR, a network that stalls),
and a stall nobody stops ends with a Korean message saying what to check. Real MariaDB/PostgreSQL over ODBC, real Qt
offscreen. On the old code Stop waited for the locked table for ever and closing the window froze the GUI thread."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.gui.qt import Qt

pytestmark = [pytest.mark.gui, pytest.mark.db]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_server_clinic_wizard import click_next, open_emr_page, server_clinic, without_password  # noqa: E402

from stall_kit import relay_to, table_locked  # noqa: E402

#: What the wizard says after a Stop or a stall once the unsealed file and its journal are kept (the resume design).
KEPT = ("이미 내보낸 기록은 고른 폴더에 그대로 있습니다. 같은 폴더로 [내보내기 시작]을 누르면 멈춘 곳부터 이어서 합니다. "
        "그 폴더의 파일은 지우지 마세요.")

BACK_QUESTION = ("이 화면에서 작업이 진행 중입니다. 뒤로 가면 안전한 지점에서 멈춥니다. 잃어버리는 것은 없고 나중에 이어서 할 수 "
                 "있습니다. 뒤로 갈까요?")


def lock_waiters(conn_str: str, server: str) -> int:
    import pyodbc

    sql = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'" if server == "postgres" else
           "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE '%lock%'")
    with pyodbc.connect(conn_str, autocommit=True) as connection:
        return int(connection.execute(sql).fetchone()[0])


def on_emr_page_connected(qtbot: Any, make_wizard: Any, tmp_path: Path, connection: str, password: str) -> Any:
    """The wizard on the EMR page, the connection tested (the connector recognised); (wizard, demo keys)."""
    wizard, keys = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    emr.odbc_edit.setText(connection)
    qtbot.keyClicks(emr.db_password_edit, password)
    with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    return wizard, keys


def on_export_page(qtbot: Any, make_wizard: Any, tmp_path: Path, connection: str, password: str,
                   monkeypatch: pytest.MonkeyPatch) -> Any:
    wizard, keys = on_emr_page_connected(qtbot, make_wizard, tmp_path, connection, password)
    monkeypatch.setenv("EMR_EXPORTER_STORE_CERT", str(keys.store_cert))
    with qtbot.waitSignal(wizard.scan_page.jobFinished, timeout=120_000):
        click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    wizard.export_page.destination_edit.setText(str(tmp_path / "usb"))
    return wizard


def locked_table(target: str) -> str:
    import pyodbc

    with pyodbc.connect(target) as conn:
        names = [row.table_name for row in conn.cursor().tables(tableType="TABLE")]
    return next(n for n in names if n.lower() == "jubsu")  # the visits: read by an entity, after the patients


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_stop_answers_within_seconds_while_the_export_waits_for_a_locked_table(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    wizard = on_export_page(qtbot, make_wizard, tmp_path, without_password(target), password, monkeypatch)
    export = wizard.export_page
    with table_locked(target, locked_table(target)):
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lock_waiters(target, server) > 0, timeout=60_000)
        pressed = time.monotonic()
        with qtbot.waitSignal(export.jobFailed, timeout=30_000):
            qtbot.mouseClick(export.cancel_button, Qt.MouseButton.LeftButton)
        assert time.monotonic() - pressed < 10  # not the 600 s READ_TIMEOUT, not for ever
        assert export.error_label.text() == f"멈췄습니다. {KEPT}"
        assert export.stage_label.text() == "일시 정지됨. [내보내기 시작]을 누르면 멈춘 곳부터 이어서 합니다."
        assert lock_waiters(target, server) == 0  # the query was cancelled on the server too
        qtbot.waitUntil(lambda: not export.busy(), timeout=10_000)
    # nothing sealed half-way: the unsealed file and its journal wait for Start (the resume design, docs/wizard.md)
    usb = tmp_path / "usb"
    names = sorted(p.name for p in usb.iterdir())
    assert not [n for n in names if n.endswith(".emrx")], names
    assert len([n for n in names if n.endswith(".emrx.partial")]) == 1, names
    assert len([n for n in names if n.startswith(".emrx-") and n.endswith(".journal.json")]) == 1, names


def test_back_during_a_stalled_export_asks_then_stops_within_seconds_and_keeps_the_parts(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str,
) -> None:
    """Back while the export waits inside a query (a stalled network: the driver cannot be interrupted): the
    "Stop and go back?" question first; No keeps it waiting on the page, Yes goes back within the stop bound
    (not the driver's minutes), the query is given up, and the unsealed file waits for the next Start."""
    from emr_exporter.gui import wizard as wizard_module
    from emr_exporter.gui.qt import QWizard

    _, target, password = server_clinic(tmp_path, "mariadb", mariadb_conn_str, monkeypatch)
    with relay_to(target) as relay:
        wizard = on_export_page(qtbot, make_wizard, tmp_path, without_password(relay.conn_str), password, monkeypatch)
        export = wizard.export_page
        asked: list[tuple[str, str]] = []

        def answer(choice: Any) -> Any:
            def question(parent: Any, title: str, text: str, *args: Any) -> Any:
                asked.append((title, text))
                return choice
            return staticmethod(question)

        def stall_when_exporting(event: Any) -> None:
            if event.stage == "export" and event.done:
                relay.stall(new_connections_too=True)  # no byte passes any more, SQLCancel's neither

        export.export_runner.progressed.connect(stall_when_exporting)
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: relay.stall_new, timeout=60_000)
        qtbot.wait(1500)  # the next query waits for bytes that never come
        assert export.busy()
        back = wizard.button(QWizard.WizardButton.BackButton)
        monkeypatch.setattr(wizard_module.QMessageBox, "question", answer(wizard_module.QMessageBox.StandardButton.No))
        qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
        assert asked == [("멈추고 뒤로 갈까요?", BACK_QUESTION)]
        assert wizard.currentPage() is export and export.busy()
        monkeypatch.setattr(wizard_module.QMessageBox, "question", answer(wizard_module.QMessageBox.StandardButton.Yes))
        pressed = time.monotonic()
        qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
        assert time.monotonic() - pressed < 10  # the GUI thread is back within the stop bound, not frozen
        assert len(asked) == 2 and wizard.currentPage() is wizard.scan_page
        qtbot.waitUntil(lambda: not export.busy(), timeout=10_000)
    usb = tmp_path / "usb"
    names = sorted(p.name for p in usb.iterdir())
    assert not [n for n in names if n.endswith(".emrx")], names
    assert len([n for n in names if n.endswith(".emrx.partial")]) == 1, names


def test_a_stall_nobody_stops_ends_with_what_to_check_in_korean(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str,
) -> None:
    from emr_exporter.sources import waiting

    monkeypatch.setenv(waiting.STALL_ENV, "2")
    _, target, password = server_clinic(tmp_path, "mariadb", mariadb_conn_str, monkeypatch)
    wizard = on_export_page(qtbot, make_wizard, tmp_path, without_password(target), password, monkeypatch)
    export = wizard.export_page
    with table_locked(target, locked_table(target)), qtbot.waitSignal(export.jobFailed, timeout=60_000):
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
    summary, detail = export.error_label.text().split("\n", 1)
    assert summary == (
        "EMR 데이터베이스 서버가 응답을 멈췄습니다. 다른 프로그램(대개 EMR 프로그램 자신)이 진료기록 일부를 잠그고 "
        f"있습니다. 모든 PC에서 EMR 프로그램을 닫은 다음 다시 해 보세요. 잃어버린 것은 없습니다. {KEPT}")
    assert detail.startswith("The clinic database server has been waiting for 2 s for a table that another program")
    assert "Nothing is lost: the unfinished bundle stays in" in detail
    assert [p.name for p in (tmp_path / "usb").iterdir() if p.name.endswith(".emrx.partial")]
    assert export.start_button.isEnabled()


def test_closing_the_window_never_freezes_on_a_driver_that_cannot_be_interrupted(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str,
) -> None:
    from emr_exporter.gui.workers import jobs_left_running

    _, target, password = server_clinic(tmp_path, "mariadb", mariadb_conn_str, monkeypatch)
    with relay_to(target) as relay:
        wizard = on_export_page(qtbot, make_wizard, tmp_path, without_password(relay.conn_str), password, monkeypatch)
        export = wizard.export_page
        relay.stall(new_connections_too=True)  # the network died: even connecting waits (15 s) in the driver
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
        qtbot.wait(500)
        closing = time.monotonic()
        wizard.close()
        assert time.monotonic() - closing < 10  # the GUI thread was back within the stop bound
        assert not wizard.isVisible()
        # the connect was given up at once (it waits under the cancel event): the job ended, its connect is left
        # to the driver in the background (before, the job itself stayed blocked in the driver)
        assert jobs_left_running() == 0
        qtbot.waitUntil(lambda: not export.busy(), timeout=10_000)  # its outcome, delivered to the page


#: A part of the request each driver sends for SQLColumns (tests/test_stalled_server.py, CATALOG_REQUESTS).
COLUMNS_REQUEST = {"mariadb": b"CASE DATA_TYPE  WHEN 'bit'", "postgres": b"n.oid = c.relnamespace and c.relname like"}


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_back_while_the_scan_waits_inside_a_catalogue_read_goes_back_within_seconds_and_ends_the_scan(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    """The scan page lists the tables' columns (SQLColumns) as the network dies: no byte passes any more, not even
    the cancel request. Back (Yes) goes back within the stop bound and the scan itself ends: its connection is given
    up rather than its job left running in the background for ever (psqlODBC) or an hour (MariaDB)."""
    from emr_exporter.gui import wizard as wizard_module
    from emr_exporter.gui.qt import QMessageBox, QWizard
    from emr_exporter.gui.workers import jobs_left_running

    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    with relay_to(target) as relay:
        wizard, _ = on_emr_page_connected(qtbot, make_wizard, tmp_path, without_password(relay.conn_str), password)
        scan = wizard.scan_page
        relay.stall_on(COLUMNS_REQUEST[server], new_connections_too=True)
        click_next(qtbot, wizard)  # the scan starts
        qtbot.waitUntil(relay.stalled.is_set, timeout=60_000)
        qtbot.wait(1000)  # the catalogue read waits for bytes that never come
        assert wizard.currentPage() is scan and scan.busy()
        monkeypatch.setattr(wizard_module.QMessageBox, "question",
                            staticmethod(lambda *args: QMessageBox.StandardButton.Yes))
        pressed = time.monotonic()
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
        assert time.monotonic() - pressed < 10  # the GUI thread is back within the stop bound, not frozen
        assert wizard.currentPage() is wizard.emr_page
        assert jobs_left_running() == 0  # the scan's thread ended: not left blocked in the driver
        qtbot.waitUntil(lambda: not scan.busy(), timeout=10_000)  # its outcome, delivered to the page
        assert scan.error_label.text() == "멈췄습니다."
        assert wizard.session.scan_report is None


def test_a_stall_in_the_scans_catalogue_read_says_what_to_check_in_korean(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    postgres_conn_str: str,
) -> None:
    from emr_exporter.sources import waiting

    monkeypatch.setenv(waiting.STALL_ENV, "2")
    _, target, password = server_clinic(tmp_path, "postgres", postgres_conn_str, monkeypatch)
    with relay_to(target) as relay:
        wizard, _ = on_emr_page_connected(qtbot, make_wizard, tmp_path, without_password(relay.conn_str), password)
        scan = wizard.scan_page
        relay.stall_on(COLUMNS_REQUEST["postgres"], new_connections_too=False)  # this connection's path is stuck
        with qtbot.waitSignal(scan.jobFailed, timeout=60_000):
            click_next(qtbot, wizard)
        assert relay.stalled.is_set()
    summary, detail = scan.error_label.text().split("\n", 1)
    assert summary == (
        "EMR 데이터베이스 서버가 응답을 멈췄습니다. 서버의 응답이 네트워크를 통해 도착하지 않습니다. EMR 데이터베이스가 있는 "
        "PC까지의 랜선, 와이파이, 가상 사설망(원격 접속)을 확인한 다음 다시 해 보세요. 잃어버린 것은 없습니다.")
    assert detail == (
        "The clinic database server's answer has not arrived for 2 s: the network to the server (cable, Wi-Fi, VPN) "
        "is stalling. Check the network to the EMR server PC, then run the export again. Nothing was lost.")
    assert scan.rescan_button.isEnabled() and not scan.isComplete()
