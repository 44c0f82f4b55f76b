"""Happy path, already-uploaded, journal moved with the bundle, receipts (real server on 127.0.0.1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from upload_testkit import make_uploader, random_file

from emr_exporter.errors import ConfigError, RejectedByStore
from emr_exporter.upload.journal import UploadJournal, journal_path_for
from emr_exporter.upload.receipt import receipt_path_for
from emr_exporter.upload.store import ReferenceStore, StoreServer


def _stored_bytes(store: ReferenceStore, upload_url: str) -> bytes:
    return store.data_path(upload_url.rsplit("/", 1)[1]).read_bytes()


def test_upload_arrives_byte_identical_with_verified_receipt(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 1_000_003)
    uploader = make_uploader(server.url, store_public_pem)
    result = uploader.upload(bundle, bundle_id="B-1", institution="12345678")

    assert _stored_bytes(store, result.upload_url or "") == bundle.read_bytes()
    assert result.bytes_sent == 1_000_003
    assert result.receipt_number and result.receipt_number.startswith("R-")
    saved = json.loads(receipt_path_for(bundle).read_text("utf-8"))
    assert saved["receipt"]["receipt_number"] == result.receipt_number
    assert saved["receipt"]["bundle_id"] == "B-1"
    assert saved["receipt"]["institution"] == "12345678"
    assert saved["receipt"]["size"] == 1_000_003
    entry = UploadJournal.beside(bundle).get("B-1", server.url)
    assert entry is not None and entry.state == "accepted" and entry.receipt_number == result.receipt_number
    # The store advertised sha256, so every PATCH carried an Upload-Checksum (all verified, none 460).
    assert ("PATCH", result.upload_url.rsplit("/", 1)[1]) in store.requests


def test_finished_bundle_is_not_sent_twice(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 300_000)
    first = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="B-2")
    requests_after_first = len(store.requests)
    second = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="B-2")
    assert second.already_uploaded
    assert second.receipt_number == first.receipt_number
    assert second.bytes_sent == 0
    assert len(store.requests) == requests_after_first  # not even a HEAD


def test_journal_copied_with_bundle_resumes_in_other_folder(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "pc1" / "b.emrx", 1_000_000)
    # PC 1 sends two chunks, then the user pauses (cancel after 2 chunks).
    uploader = make_uploader(server.url, store_public_pem, chunk_size=250_000)
    positions: list[int] = []

    def pause_after_two_chunks(progress: object) -> None:
        positions.append(progress.position)
        if progress.position >= 500_000:
            uploader.cancel.set()

    uploader.on_progress = pause_after_two_chunks
    with pytest.raises(Exception, match="Nothing is lost"):
        uploader.upload(bundle, bundle_id="B-3")
    # Carry bundle + journal to "PC 2" (another folder).
    pc2 = tmp_path / "pc2"
    pc2.mkdir()
    shutil.copy2(bundle, pc2 / "b.emrx")
    shutil.copy2(journal_path_for(bundle), journal_path_for(pc2 / "b.emrx"))
    result = make_uploader(server.url, store_public_pem, chunk_size=250_000).upload(pc2 / "b.emrx", bundle_id="B-3")
    assert result.new_uploads == 0
    assert result.resumed_from >= 250_000
    assert result.bytes_sent == 1_000_000 - result.resumed_from
    assert _stored_bytes(store, result.upload_url or "") == bundle.read_bytes()
    assert receipt_path_for(pc2 / "b.emrx").is_file()


def test_plain_http_to_other_host_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        make_uploader("http://store.example.kr/files/", None, require_receipt=False)
    assert str(caught.value) == (
        "Refusing to send the bundle over plain HTTP to store.example.kr: the connection would not be "
        "encrypted or authenticated. Use the store's https:// address."
    )


def test_no_store_certificate_means_no_upload() -> None:
    with pytest.raises(ConfigError, match="No store certificate"):
        make_uploader("http://127.0.0.1:9/files/", None)


def test_store_rejects_wrong_whole_file_digest(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 100_000)
    uploader = make_uploader(server.url, store_public_pem)
    # Journal a wrong digest, as if the file had been altered after hashing.
    UploadJournal.beside(bundle).start("B-4", server.url, bundle.name, 100_000, "0" * 64)
    with pytest.raises(RejectedByStore) as caught:
        uploader.upload(bundle, bundle_id="B-4")
    assert "rejected it: the file's SHA-256 does not match the one announced when the upload began" in str(caught.value)
    entry = UploadJournal.beside(bundle).get("B-4", server.url)
    assert entry is not None and entry.state == "rejected"


def test_the_receipt_number_has_the_day_in_korea(tmp_path: Path, store_signing_key: Any,
                                                  store_public_pem: Path) -> None:
    # the store's clock at 20:00 UTC on 5 December: 05:00 KST on the 6th, the day the founder reads
    import datetime as dt

    late = dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC).timestamp()
    store = ReferenceStore(tmp_path / "store", store_signing_key, clock=lambda: late)
    running = store.serve("127.0.0.1", 0).start()
    try:
        bundle = random_file(tmp_path / "b.emrx", 1000)
        result = make_uploader(running.url, store_public_pem).upload(bundle, bundle_id="B-K", institution="12345678")
    finally:
        running.stop()
    assert result.receipt_number is not None and result.receipt_number.startswith("R-20261206-")
