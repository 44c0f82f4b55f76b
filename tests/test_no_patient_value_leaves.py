"""No patient value reaches anything but the bag: a sentinel sweep of the contractor's whole flow.

The clinic (tests/connectors/sentinel_clinic.py; on a SQLite file, MariaDB and PostgreSQL over their ODBC drivers)
holds a unique, greppable sentinel in every free-text cell: names, valid RRNs, telephone numbers, addresses, memos,
and the same in a status-like column, a code-like column, a JSON document and broken CP949 bytes, with every error
path (an impossible date, a missing name, a duplicated chart number, an orphan visit). Every command of the README
runs through the real CLI, one subprocess each, with the root logger at DEBUG into a log file (the CLI has no
``--verbose``; the wrapper turns every logger of the product on), under ko_KR.UTF-8 (and C.UTF-8 for the SQLite
file): ``doctor``, ``detect``, ``scaffold`` (text and ``--json``), ``connector check`` (text and ``--json``),
``scan`` (both), ``readiness`` (both), ``export --dry-run``, a sealed ``export``, ``verify``, ``open``, ``report``,
``preview``, ``upload`` to ``store serve``, ``status``, ``support-bundle``, a ``batch`` of the clinic and of one that
fails; then runs that fail on purpose: a wrong database password (servers), a wrong certificate password, the
server gone mid-export (a relay in front of it closes every connection when the visits are asked for:
tests/stall_kit.py), a bundle with one byte changed (``verify`` and ``open``).

Collected: every command's stdout and stderr, every log file, and every file under the test's folder — HOME,
EMR_EXPORTER_HOME and TMPDIR point into it, so app data and temporary files land there and are listed afterwards
— but for the places patient data belongs:

* the clinic database itself (the source), and the broken copy of the SQLite file the batch fails on;
* ``opened/``: the bag ``open`` extracts (the store's side) and the patient document ``preview`` draws from it;
* ``store/opened/``: the bag the reference store (``store serve``) opens to check an upload (the store's side; its
  uploads, receipts, output and log are checked);
* nothing else: the sealed ``.emrx`` is checked too (it is enciphered: no sentinel may show in its bytes).

Each sentinel is looked for by its unique token (three syllables no word has) or its digits (an RRN or a telephone
number with and without hyphens), in UTF-8, CP949, ``\\uXXXX`` JSON escapes and Python's ``\\xNN`` bytes repr; PDFs
by their extracted text, zip files member by member. Masked forms are what the product shows by design and no
sentinel: a name's first and last syllables (김*준), an RRN's birth date and sex digit (800101-1******), a chart
number's ends (00****01). The sentinels are first found in the opened bag, so the sweep looks for what is there.

The wizard (``gui``): its export of the same SQLite clinic in Korean with the contractor's scaffolded connector;
every label, button, field, combo, table and tree text of every page as it is shown, every log record at DEBUG,
stdout, stderr, the app-data folder, TMPDIR and the export folder (but the sealed file) hold no sentinel
(``db``: fails, never skips, when a server is down).
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import _fresh_database
from sentinel_clinic import SentinelClinic, create_sentinel_clinic

sys.path.insert(0, str(Path(__file__).parent))
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.sources.drivers import get_option, parse_connection_string
from stall_kit import relay_to

pytestmark = pytest.mark.db

INSTITUTION = ("12345678", "가상외부의원")
#: The CLI in a subprocess, every logger of the product at DEBUG into the file $SENTINEL_LOG.
WRAPPER = (
    "import logging, os, sys\n"
    "logging.basicConfig(level=logging.DEBUG, filename=os.environ['SENTINEL_LOG'], encoding='utf-8',\n"
    "                    format='%(asctime)s %(name)s %(levelname)s %(message)s')\n"
    "from emr_exporter.cli import main\n"
    "sys.argv[0] = 'emr-export'\n"
    "main()\n"
)


def _as_latin1_column(data: bytes) -> str:
    """Bytes as MariaDB's latin1 (cp1252, its five undefined bytes as the C1 controls) gives them back."""
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in data)


def forms(mark: str) -> set[bytes]:
    """The ways ``mark`` can be written into a file: UTF-8, CP949 (as bytes, as latin1 text), JSON's \\u escapes,
    Python's bytes repr."""
    found = {mark.encode("utf-8"), json.dumps(mark).strip('"').encode("ascii")}
    try:
        cp949 = mark.encode("cp949")
    except UnicodeEncodeError:
        cp949 = b""
    if cp949 and cp949 != mark.encode("utf-8"):
        # the bytes, their repr, and as a latin1 column shows them ('±èÈ¯ÀÚ' for 김환자: MariaDB's legacy installs)
        found |= {cp949, "".join(f"\\x{b:02x}" for b in cp949).encode("ascii"),
                  _as_latin1_column(cp949).encode("utf-8")}
    found.add("".join(f"\\x{b:02x}" for b in mark.encode("utf-8")).encode("ascii") if not mark.isascii()
              else mark.encode("ascii"))
    return found


@dataclass
class Sweep:
    """The flow's session: environment, folders, every command's output (name → bytes)."""

    root: Path
    clinic: SentinelClinic
    env: dict[str, str]
    source: list[str]
    outputs: dict[str, bytes] = field(default_factory=dict)
    count: int = 0

    def run(self, name: str, args: list[str], *codes: int, env: dict[str, str] | None = None) -> str:
        self.count += 1
        log = self.root / "logs" / f"{self.count:02d}-{name}.log"
        log.parent.mkdir(exist_ok=True)
        done = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, timeout=600,
                              env={**self.env, **(env or {}), "SENTINEL_LOG": str(log)}, check=False)
        self.outputs[f"{name} stdout"] = done.stdout
        self.outputs[f"{name} stderr"] = done.stderr
        text = done.stdout.decode("utf-8", "replace")
        errors = done.stderr.decode("utf-8", "replace")
        assert done.returncode in codes, (name, done.returncode, text[-2000:], errors[-2000:])
        assert "Traceback" not in errors + text, (name, errors[-3000:])
        return text


def _texts(path: Path) -> Iterator[tuple[str, bytes]]:
    """The bytes a reader of ``path`` sees: its own, a PDF's extracted text too, a zip's members."""
    data = path.read_bytes()
    yield str(path), data
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        yield f"{path} (text)", "\n".join(p.extract_text() or "" for p in PdfReader(path).pages).encode("utf-8")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path}!{member}", archive.read(member)


def leaks(sweep: Sweep, allowed: list[Path]) -> list[str]:
    """Every (place, sentinel) where a sentinel shows outside the ``allowed`` files and folders."""
    patterns = {form: sentinel for sentinel, marks in sweep.clinic.marks.items() for mark in marks
                for form in forms(mark)}
    places: list[tuple[str, bytes]] = list(sweep.outputs.items())
    for path in sorted(sweep.root.rglob("*")):
        if path.is_file() and not any(path == a or a in path.parents for a in allowed):
            places.extend(_texts(path))
    return sorted({f"{place}: {sentinel!r}" for place, data in places for form, sentinel in patterns.items()
                   if form in data})


def _listed(root: Path, allowed: list[Path]) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not any(p == a or a in p.parents for a in allowed)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the reference store did not listen on {port}")


def _environment(root: Path, locale: str) -> dict[str, str]:
    home, tmp = root / "home", root / "tmp"
    for folder in (home, tmp):
        folder.mkdir()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "QT_QPA_PLATFORM", "ODBCSYSINI",
                                                          "ODBCINI", "SYSTEMROOT")}
    return {**keep, "HOME": str(home), "EMR_EXPORTER_HOME": str(home / "app"), "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config"), "TMPDIR": str(tmp),
            "LANG": locale, "LC_ALL": locale, "PYTHONFAULTHANDLER": "1", "COLUMNS": "200"}


def _without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


def _clinic(engine: str, root: Path, request: pytest.FixtureRequest) -> tuple[SentinelClinic, list[str], str]:
    """The clinic; the CLI's source options; the database password ('' for a file)."""
    if engine == "sqlite":
        return create_sentinel_clinic("sqlite", root / "clinic.sqlite"), ["--source", str(root / "clinic.sqlite")], ""
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    target = _fresh_database(conn_str, "emr_sentinel", engine)
    clinic = create_sentinel_clinic(engine, target)
    return clinic, ["--odbc", _without_password(target)], get_option(target, "PWD") or ""


FLOWS = [("sqlite", "ko_KR.UTF-8"), ("sqlite", "C.UTF-8"), ("mariadb", "ko_KR.UTF-8"), ("postgresql", "ko_KR.UTF-8")]


@pytest.mark.parametrize(("engine", "locale"), FLOWS)
def test_no_patient_value_leaves_the_bag(engine: str, locale: str, tmp_path: Path,
                                         request: pytest.FixtureRequest) -> None:
    clinic, source, password = _clinic(engine, tmp_path, request)
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    env = {**_environment(tmp_path, locale), "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}
    if password:
        env["EMR_EXPORTER_DB_PASSWORD"] = password
    sweep = Sweep(tmp_path, clinic, env, source)
    connectors, out, opened = tmp_path / "connectors", tmp_path / "out", tmp_path / "opened"
    institution = ["--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1]]
    by_connector = ["--connector", "foreign", "--connectors-dir", str(connectors), *source]

    sweep.run("doctor", ["doctor", *([] if engine == "sqlite" else source[:2])], 0, 1)
    sweep.run("scaffold", ["scaffold", *source, "--name", "foreign", "--out", str(connectors)], 0)
    sweep.run("scaffold json", ["scaffold", *source, "--name", "again", "--out", str(tmp_path / "again"), "--json"], 0)
    sweep.run("detect", ["detect", *source, "--connectors-dir", str(connectors), "--json"], 0, 1)
    sweep.run("check", ["connector", "check", str(connectors / "foreign"), *source, *institution], 0, 4)
    check = json.loads(sweep.run("check json", ["connector", "check", str(connectors / "foreign"), *source,
                                                *institution, "--json"], 0, 4))
    assert check["reconciliation"]["balanced"]
    # every error path ran: the scaffold read visit_stat as a status, the names typed into it are unread (counted, not
    # shown: they were, quoted, in the check's text and JSON and in connector.toml's CHECK line), a missing name, a
    # duplicated chart number, an impossible date, orphans
    assert [u["value"] for u in check["unread_statuses"]] == ["(text of 3 characters, not shown)"] * 5
    assert ("# CHECK (5 values of free text (not shown) of visit_stat not read: kept as recorded, the resource's "
            "status unknown; add it to the map if you know what it says)") in (
                connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    assert {(d["section"], d["reason_code"]) for d in check["defects"]} == {
        ("encounter", "invalid-date"), ("patient", "duplicate"), ("patient", "required-missing")}
    # and, on SQLite, an address (a mapped field) of broken CP949: a bad-encoding field defect
    assert check["reconciliation"]["field_defects"] == (
        {"bad-encoding": 1, "status-unread": 5} if engine == "sqlite" else {"status-unread": 5})
    assert {(o["section"], o["field"]) for o in check["orphans"]} == {
        ("diagnosis", "encounter_id"), ("encounter", "patient_id")}
    sweep.run("scan", ["scan", *by_connector], 0)
    sweep.run("scan json", ["scan", *by_connector, "--json"], 0)
    sweep.run("readiness", ["readiness", *by_connector, *institution], 0)
    sweep.run("readiness json", ["readiness", *by_connector, *institution, "--json"], 0)
    export = ["export", *by_connector, *institution]
    dry = json.loads(sweep.run("export dry run", [*export, "--dry-run", "--json"], 0))
    assert dry["reconciliation"]["balanced"]
    certificates = ["--cert", str(keys.institution_p12), "--store-cert", str(keys.store_cert), "--accept-signer-mismatch"]
    sweep.run("export", [*export, "--out", str(out), *certificates], 0)
    [bundle] = out.glob("*.emrx")
    sweep.run("verify", ["verify", str(bundle), "--trust-anchor", str(keys.ca_cert)], 0)
    sweep.run("open", ["open", str(bundle), "--key", str(keys.store_key), "--out", str(opened),
                       "--trust-anchor", str(keys.ca_cert), "--json"], 0)
    [bag] = [p.parent for p in opened.rglob("bag-info.txt")]
    sweep.run("report", ["report", str(bundle), "--lang", "ko", "--custodian", "보관책임자", "--contact",
                         "02-000-0000", "--out", str(tmp_path / "report.pdf")], 0)
    sweep.run("preview", ["preview", str(bundle), "--key", str(keys.store_key), "--patient", "00000001",
                          "--document", "outpatient-confirmation", "--out", str(opened / "preview.pdf")], 0)
    # the reference store (the CLI's own, at DEBUG too) on 127.0.0.1, and the upload to it
    port = _free_port()
    store_log = tmp_path / "logs" / "store.log"
    with (tmp_path / "logs" / "store.out").open("wb") as store_out:
        store = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, "store", "serve", "--dir", str(tmp_path / "store"), "--key",
             str(keys.store_key), "--listen", f"127.0.0.1:{port}"], stdout=store_out, stderr=subprocess.STDOUT,
            env={**env, "SENTINEL_LOG": str(store_log)})
        try:
            _wait_for_port(port)
            sweep.run("upload", ["upload", str(bundle), "--store", f"http://127.0.0.1:{port}/files/", "--store-cert",
                                 str(keys.store_cert)], 0)
        finally:
            store.terminate()
            store.wait(30)
    assert (out / f"{bundle.name}.receipt.json").is_file()
    sweep.run("status", ["status", str(out)], 0)
    sweep.run("support bundle", ["support-bundle", str(tmp_path / "support.zip"), "--runs", str(out)], 0)

    # a contractor's batch: this clinic, and one that fails (its server's password wrong; a copy of the SQLite file
    # without its visit table) with its message: the live lines, the summary, its CSV beside the plan
    if clinic.path is not None:
        broken = tmp_path / "copies" / "broken.sqlite"
        broken.parent.mkdir()
        broken.write_bytes(clinic.path.read_bytes())
        with sqlite3.connect(broken) as conn:
            conn.execute("DROP TABLE visit")
        good, bad = f'source = "{clinic.path}"', f'source = "{broken}"'
    else:
        good = f'odbc = "{source[1]}"\npassword_env = "EMR_EXPORTER_DB_PASSWORD"'
        bad = f'odbc = "{source[1]}"\npassword_env = "WRONG_PW"'
    (tmp_path / "plan.toml").write_text(
        f'concurrency = 1\n[defaults]\nconnector = "foreign"\nconnectors_dir = "{connectors}"\n'
        f'certificate = "{keys.institution_p12}"\nstore_cert = "{keys.store_cert}"\n'
        f'institution_code = "{INSTITUTION[0]}"\ninstitution_name = "{INSTITUTION[1]}"\n'
        f'[[clinic]]\nname = "good"\n{good}\nout = "batch/good"\n'
        f'[[clinic]]\nname = "broken"\n{bad}\nout = "batch/broken"\n', encoding="utf-8")
    sweep.run("batch", ["batch", str(tmp_path / "plan.toml")], 1, env={"WRONG_PW": "not-the-password"})
    summary = (tmp_path / "plan-summary.csv").read_text(encoding="utf-8-sig")
    assert "\ngood,exported," in summary and "\nbroken,failed," in summary, summary

    # runs that fail on purpose
    sweep.run("wrong certificate password", [*export, "--out", str(tmp_path / "out-bad"), *certificates], 1,
              env={"EMR_EXPORTER_CERT_PASSWORD": "not-the-password"})
    if password:
        sweep.run("wrong database password", [*export, "--dry-run"], 1, env={"EMR_EXPORTER_DB_PASSWORD": "wrong"})
        sweep.run("check, wrong database password", ["connector", "check", str(connectors / "foreign"), *source], 1,
                  env={"EMR_EXPORTER_DB_PASSWORD": "wrong"})
        # the server gone mid-export: a relay in front of it (tests/stall_kit.py) closes every connection, and takes
        # no new one, as soon as the export asks for the visits (a sealed export: its unfinished parts stay behind)
        assert clinic.odbc is not None
        with relay_to(clinic.odbc) as relay:
            relay.stall_on(b"visit_stat", new_connections_too=True)
            threading.Thread(target=lambda: relay.stalled.wait(120) and relay.close(), daemon=True).start()
            gone = sweep.run("export, server gone", [
                "export", "--connector", "foreign", "--connectors-dir", str(connectors), "--odbc",
                _without_password(relay.conn_str), *institution, "--out", str(tmp_path / "out-stopped"), *certificates], 1)
            assert relay.stalled.is_set(), gone
        assert b"Error: The connection to the clinic database was lost" in sweep.outputs["export, server gone stderr"]
    tampered = tmp_path / "tampered" / bundle.name
    tampered.parent.mkdir()
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x40
    tampered.write_bytes(bytes(data))
    sweep.run("verify tampered", ["verify", str(tampered), "--trust-anchor", str(keys.ca_cert)], 1)
    sweep.run("open tampered", ["open", str(tampered), "--key", str(keys.store_key), "--out",
                                str(tmp_path / "opened-tampered"), "--trust-anchor", str(keys.ca_cert)], 1)

    # the sentinels are in the bag (the sweep looks for what is really there; bytes as the raw sidecars' base64) …
    in_bag = b"".join(p.read_bytes() for p in bag.rglob("*") if p.is_file())
    in_bag += b"".join(base64.b64decode(b) for b in re.findall(rb'"base64": ?"([^"]+)"', in_bag))
    assert [s for s, marks in clinic.marks.items() if not any(f in in_bag for m in marks for f in forms(m))] == []
    # … and nowhere else
    allowed = [opened, tmp_path / "store" / "opened"] + (
        [clinic.path, tmp_path / "copies"] if clinic.path is not None else [])
    found = leaks(sweep, allowed)
    assert not found, "\n".join(found)
    # the sweep can fail: over the opened bag it finds every patient's name
    in_opened = leaks(Sweep(opened, clinic, env, source), [])
    assert {name for name in clinic.names.values() if any(line.endswith(f": {name!r}") for line in in_opened)} == set(
        clinic.names.values())
    assert len(list((tmp_path / "logs").iterdir())) == sweep.count + 2  # and the store's log and output
    assert _listed(tmp_path, allowed) >= {"report.pdf", "support.zip", f"out/{bundle.name}",
                                          "connectors/foreign/connector.toml", "connectors/foreign/PROFILE.md"}


def _widget_texts(wizard: Any) -> list[str]:
    """Every text the wizard shows or holds: labels, buttons, fields, combo items, tables, lists, tool tips."""
    from emr_exporter.gui.qt import (
        QAbstractButton,
        QComboBox,
        QLabel,
        QLineEdit,
        QTableWidget,
        QTextBrowser,
        QTreeWidget,
        QWidget,
    )

    texts: list[str] = [wizard.windowTitle()]
    for widget in wizard.findChildren(QWidget):
        texts.append(widget.toolTip())
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
        elif isinstance(widget, QTextBrowser):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QComboBox):
            texts.extend(widget.itemText(i) for i in range(widget.count()))
        elif isinstance(widget, QTableWidget):
            texts.extend(item.text() for r in range(widget.rowCount()) for c in range(widget.columnCount())
                         if (item := widget.item(r, c)) is not None)
            texts.extend(item.text() for i in range(widget.columnCount())
                         if (item := widget.horizontalHeaderItem(i)) is not None)
        elif isinstance(widget, QTreeWidget):
            items = [widget.topLevelItem(i) for i in range(widget.topLevelItemCount())]
            while items:
                item = items.pop()
                texts.extend(item.text(c) for c in range(widget.columnCount()))
                items.extend(item.child(i) for i in range(item.childCount()))
    return texts


@pytest.mark.gui
def test_the_wizard_shows_and_logs_no_patient_value(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The founder's wizard (Korean) exports the same SQLite clinic with the contractor's scaffolded connector;
    every text of every page as each is shown, every log record (DEBUG), stdout and stderr, the app-data folder and
    TMPDIR hold no sentinel."""
    import logging
    import tempfile

    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.gui.app import install_translators
    from emr_exporter.gui.qt import QApplication, QLocale, Qt, QWizard
    from emr_exporter.gui.wizard import ExportWizard
    from emr_exporter.sources.address import SourceAddress

    clinic = create_sentinel_clinic("sqlite", tmp_path / "EMRDATA.db")
    connectors = tmp_path / "installed-connectors"
    write_scaffold("sentinel", connectors, SourceAddress(database=clinic.path))
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("EMR_EXPORTER_HOME", str(home))
    monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(connectors))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    for name in ("EMR_EXPORTER_STORE_URL", "EMR_EXPORTER_STORE_RECEIPT_CERT", "EMR_EXPORTER_STORE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    monkeypatch.setenv("EMR_EXPORTER_STORE_CERT", str(keys.store_cert))
    caplog.set_level(logging.DEBUG)
    app = QApplication.instance()
    translators = install_translators(app, "ko")
    shown: list[str] = []
    try:
        wizard = ExportWizard()
        qtbot.addWidget(wizard)
        wizard.show()

        def next_page() -> None:
            shown.extend(_widget_texts(wizard))
            button = wizard.button(QWizard.WizardButton.NextButton)
            qtbot.waitUntil(button.isEnabled, timeout=10_000)
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

        next_page()  # a real run, not the demo
        page = wizard.institution_page
        qtbot.keyClicks(page.code_edit, INSTITUTION[0])
        page.name_edit.setText(INSTITUTION[1])
        page.cert_path_edit.setText(str(keys.institution_p12))
        qtbot.keyClicks(page.password_edit, keys.institution_password)
        with qtbot.waitSignal(page.jobFinished, timeout=60_000):
            qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
        next_page()
        emr = wizard.emr_page
        emr.database_edit.setText(str(clinic.path))
        with qtbot.waitSignal(emr.jobFinished, timeout=60_000):
            qtbot.mouseClick(emr.test_button, Qt.MouseButton.LeftButton)
        assert emr.connector_combo.currentData() == "sentinel"
        with qtbot.waitSignal(wizard.scan_page.jobFinished, timeout=120_000):
            next_page()
        scan = wizard.scan_page.session.scan_report
        assert scan.totals["will_quarantine"] == 16  # the error rows: a missing name, a duplicate, a bad date, orphans
        # the sample patient masked as on paper (was: 궉궉궉 and chart 00000001 whole on the founder's screen)
        assert wizard.scan_page.sample_label.text() == (
            "환자 예시: 차트번호 00****01, 궉*궉, 생년월일 1951-02-02, 주민등록번호 510202-2******")
        next_page()
        export = wizard.export_page
        export.destination_edit.setText(str(tmp_path / "usb"))
        with qtbot.waitSignal(export.jobFinished, timeout=600_000):
            qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
        assert wizard.session.outcome.reconciliation.balanced
        with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
            next_page()
        next_page()
        wizard.upload_page.carry_radio.setChecked(True)
        with qtbot.waitSignal(wizard.done_page.jobFinished, timeout=60_000):
            next_page()
        shown.extend(_widget_texts(wizard))
        for each in wizard.all_pages():
            each.stop_jobs()
    finally:
        for translator in translators:
            app.removeTranslator(translator)
        QLocale.setDefault(QLocale.c())
    out, err = capfd.readouterr()
    places = [("wizard texts", "\n".join(shown).encode("utf-8")), ("log", caplog.text.encode("utf-8")),
              ("stdout", out.encode("utf-8")), ("stderr", err.encode("utf-8"))]
    for folder in (home, tmp, tmp_path / "usb"):
        places.extend(item for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix != ".emrx"
                      for item in _texts(path))
    patterns = {form: sentinel for sentinel, marks in clinic.marks.items() for mark in marks for form in forms(mark)}
    found = sorted({f"{place}: {sentinel!r}" for place, data in places for form, sentinel in patterns.items()
                    if form in data})
    assert not found, "\n".join(found)
    assert len(shown) > 100
