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
    assert down.startswith("EMR 서버 컴퓨터는 켜져 있지만 그 컴퓨터의 EMR 데이터베이스가 연결을 받지 않습니다.")
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


@pytest.mark.parametrize("server", ["mariadb", "postgres"])
def test_a_founder_exports_a_server_clinic_and_the_password_is_never_written(
    server: str, qtbot: Any, korean_ui: Any, make_wizard: Any, app_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mariadb_conn_str: str, postgres_conn_str: str,
) -> None:
    import pyodbc

    from emr_exporter.bundle.reader import open_bundle, verify_bundle
    from emr_exporter.jobs import resume
    from emr_exporter.jobs.bundles import load_store_private_key
    from emr_exporter.sources.drivers import get_option

    _, target, password = server_clinic(
        tmp_path, server, mariadb_conn_str if server == "mariadb" else postgres_conn_str, monkeypatch)
    with pyodbc.connect(target) as conn:
        tables = [row.table_name for row in conn.cursor().tables(tableType="TABLE")
                  if (row.table_cat if server == "mariadb" else row.table_schem) in (DATABASE, "public")]
        every_row = {t.lower(): conn.execute(f'SELECT COUNT(*) FROM {t}').fetchone()[0] for t in tables}
    wizard, keys = open_emr_page(qtbot, make_wizard, tmp_path)
    monkeypatch.setenv("EMR_EXPORTER_STORE_CERT", str(keys.store_cert))
    emr = wizard.emr_page
    emr.odbc_edit.setText(without_password(target))
    qtbot.keyClicks(emr.db_password_edit, password)
    with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    assert emr.connector_combo.currentData() == "hanbit"
    # Where it connected, in plain Korean: the server and the database, not the contractor's connection text.
    server_place = f"{get_option(target, 'SERVER')}:{get_option(target, 'PORT')}"
    assert emr.status_label.text().startswith(
        f"서버 {server_place}의 데이터베이스 {DATABASE}에 연결했습니다. 확인된 EMR: ")
    with qtbot.waitSignal(wizard.scan_page.jobFinished, timeout=120_000):
        click_next(qtbot, wizard)

    # Every row of every table on the server is on the scan page.
    scan = wizard.scan_page.session.scan_report
    carried = {t["table"].lower(): t["source_rows"] for t in scan.reconciliation["tables"]}
    shown = table_rows(wizard.scan_page.table)
    assert shown[-1] == [f"그 밖의 EMR 자료, 원래 모습 그대로 보관 (표 {len(carried)}개)",
                         f"{sum(carried.values()):,}", "0", ""]
    assert sum(int(row[1].replace(",", "")) for row in shown) == sum(every_row.values())
    assert {t: every_row[t] for t in carried} == carried

    click_next(qtbot, wizard)
    export = wizard.export_page
    assert export.error_label.text() == "" and export.start_button.isEnabled()
    export.destination_edit.setText(str(tmp_path / "usb"))
    with qtbot.waitSignal(export.jobFinished, timeout=600_000):
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
    outcome = wizard.session.outcome
    assert outcome.reconciliation.balanced
    with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
        click_next(qtbot, wizard)
    # every row of every table on the server: the other tables' kept as they are, counted too
    totals = outcome.reconciliation.row_totals
    assert totals["source_rows"] == sum(every_row.values()) and totals["carried"] == sum(carried.values())
    assert wizard.verify_page.summary_label.text() == (
        f"빠진 기록 없음: EMR의 기록 {totals['source_rows']:,}건이 모두 확인되었습니다 — {totals['exported']:,}건 "
        f"내보냄, {totals['carried']:,}건 원래 모습 그대로 보관, {totals['quarantined']:,}건 별도 보관.")
    assert verify_bundle(outcome.bundle_path).bundle_id == outcome.bundle_id
    opened = open_bundle(outcome.bundle_path, load_store_private_key(keys.store_key, None), tmp_path / "opened")
    for table, rows in carried.items():
        files = [f for f in (opened.bag_dir / "data" / "raw" / "tables").iterdir()
                 if f.name.lower().startswith(f"{table}.")]
        assert sum(len(f.read_bytes().splitlines()) for f in files) == rows

    # The password is in no file the program wrote: not the saved state, not the sealed file, not the app's folder.
    state = resume.state_path().read_text(encoding="utf-8")
    assert '"connector": "hanbit"' in state and password not in state
    written = [f for f in (*app_home.rglob("*"), *(tmp_path / "usb").rglob("*")) if f.is_file()]
    assert written and not [f for f in written if password.encode() in f.read_bytes()]


def test_an_account_that_may_not_read_a_table_is_told_before_the_export(
    qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    postgres_conn_str: str,
) -> None:
    import pyodbc

    from emr_exporter.sources.drivers import get_option

    _, target, password = server_clinic(tmp_path, "postgres", postgres_conn_str, monkeypatch)
    with pyodbc.connect(target, autocommit=True) as conn:
        tables = sorted(row.table_name for row in conn.cursor().tables(tableType="TABLE", schema="public"))
        conn.execute(f"REVOKE SELECT ON {tables[-1]} FROM {get_option(target, 'UID')}")
    wizard, _ = open_emr_page(qtbot, make_wizard, tmp_path)
    emr = wizard.emr_page
    emr.odbc_edit.setText(without_password(target))
    qtbot.keyClicks(emr.db_password_edit, password)
    with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
        qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
    scan = wizard.scan_page
    with qtbot.waitSignal(scan.jobFailed, timeout=120_000):
        click_next(qtbot, wizard)
    message = scan.error_label.text()
    assert message.startswith("이 EMR 계정으로는 진료기록 일부를 읽을 수 없습니다. 전산 담당자나 EMR 회사에 모두 읽을 수 "
                              "있게 해 달라고 요청한 뒤 다시 시작하세요.\n")
    assert f"permission denied for table {tables[-1]}" in message and password not in message
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
