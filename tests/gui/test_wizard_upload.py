"""The wizard's Send page goes through the same upload job as `emr-export upload`: against the reference store
over HTTPS with a bearer token it pins the store's TLS certificate, sends the token, and never starts a second
upload of a bundle the store already holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_wizard import click_next, walk_demo_to_export_page

from emr_exporter.gui.qt import Qt

pytestmark = pytest.mark.gui

TOKEN = "wizard-trial-token-7f3a"


def _click_upload(qtbot: Any, page: Any, signal: str) -> None:
    qtbot.waitUntil(page.upload_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(getattr(page, signal), timeout=600_000):
        qtbot.mouseClick(page.upload_button, Qt.MouseButton.LeftButton)


def test_wizard_upload_is_pinned_sends_the_token_and_never_uploads_twice(
    qtbot: Any, make_wizard: Any, app_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emr_exporter.gui.session import DEMO_FOLDER, prepare_demo_material
    from emr_exporter.jobs.upload import StoreServeRequest, make_demo_store_certificates, open_reference_store
    from emr_exporter.reports.transfer import file_sha256
    from emr_exporter.upload.journal import JOURNAL_SUFFIX
    from emr_exporter.upload.receipt import load_saved_receipt, load_store_public_keys, verify_receipt

    # The demo clinic's keys first (the wizard reuses them), then a store over HTTPS that opens bundles with
    # the demo store key, signs receipts with its own receipt key and wants a bearer token.
    material = prepare_demo_material(app_home / DEMO_FOLDER)
    certs = make_demo_store_certificates(tmp_path / "store-certs")  # what `emr-export store demo-certs` writes
    server = open_reference_store(StoreServeRequest(
        data_dir=tmp_path / "store", key_path=material.store_key, receipt_key_path=certs.receipt_key, port=0,
        tls_cert=certs.tls_cert, tls_key=certs.tls_key, token=TOKEN,
    )).start()
    store = server.store
    assert server.url.startswith("https://127.0.0.1:")
    # The IT contractor points the wizard at the trial store; the token is not set yet.
    monkeypatch.setenv("EMR_EXPORTER_STORE_URL", server.url)
    monkeypatch.setenv("EMR_EXPORTER_STORE_CERT", str(certs.tls_cert))
    monkeypatch.setenv("EMR_EXPORTER_STORE_RECEIPT_CERT", str(certs.receipt_cert))
    monkeypatch.delenv("EMR_EXPORTER_STORE_TOKEN", raising=False)
    try:
        wizard = make_wizard()
        walk_demo_to_export_page(qtbot, wizard)
        with qtbot.waitSignal(wizard.export_page.jobFinished, timeout=600_000):
            qtbot.mouseClick(wizard.export_page.start_button, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(wizard.verify_page.jobFinished, timeout=60_000):
            click_next(qtbot, wizard)
        click_next(qtbot, wizard)
        page, session = wizard.upload_page, wizard.session
        bundle = Path(session.outcome.bundle_path)
        assert page.store_edit.text() == server.url and session.demo_server is None  # not the demo's own store

        # 1. A wrong pin (the store's *encryption* certificate is no TLS certificate for 127.0.0.1): refused in
        # the TLS handshake, before any HTTP request reaches the store.
        session.store_tls_cert = material.store_cert
        _click_upload(qtbot, page, "jobFailed")
        assert "The store's certificate could not be verified, so nothing was sent." in page.error_label.text()
        assert store.requests == []

        # 2. The right pin but no token: the store answers 401 and nothing is created there.
        session.store_tls_cert = certs.tls_cert
        _click_upload(qtbot, page, "jobFailed")
        assert "EMR_EXPORTER_STORE_TOKEN" in page.error_label.text()
        assert store.requests and not any(method == "POST" for method, _ in store.requests)
        assert not (tmp_path / "store" / "accepted").exists() or not any((tmp_path / "store" / "accepted").iterdir())

        # 3. With the token: sent, verified by the store, receipt signed by its receipt key (not its TLS key).
        monkeypatch.setenv("EMR_EXPORTER_STORE_TOKEN", TOKEN)
        _click_upload(qtbot, page, "jobFinished")
        first = session.upload_result
        assert first.receipt_number and first.receipt_number in page.state_label.text()
        assert not first.already_uploaded and first.bytes_sent == bundle.stat().st_size
        receipt = load_saved_receipt(bundle)
        assert receipt is not None
        inner = verify_receipt(receipt, load_store_public_keys(certs.receipt_cert), bundle_id=session.outcome.bundle_id,
                               sha256=file_sha256(bundle), size=bundle.stat().st_size)
        assert inner["receipt_number"] == first.receipt_number
        posts = [r for r in store.requests if r[0] == "POST"]
        patches = [r for r in store.requests if r[0] == "PATCH"]
        assert len(posts) == 1 and patches

        # 4. The bundle carried to another PC (its upload journal stays behind): the store is asked first and
        # says it holds the bundle, so no second upload starts and not one byte is sent again.
        journal = bundle.with_name(bundle.name + JOURNAL_SUFFIX)
        assert journal.is_file()
        journal.unlink()
        session.upload_result = None
        page.initializePage()
        _click_upload(qtbot, page, "jobFinished")
        second = session.upload_result
        assert second.already_uploaded and second.bytes_sent == 0
        assert second.receipt_number == first.receipt_number
        assert [r for r in store.requests if r[0] == "POST"] == posts
        assert [r for r in store.requests if r[0] == "PATCH"] == patches
    finally:
        server.stop()
