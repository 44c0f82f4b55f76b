"""Only the .emrx carried to another PC (no journal): the store knows the bundle by its id, so an accepted
bundle is never sent again and an unfinished upload continues at the store's offset (real server on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import requests
from upload_testkit import make_uploader, random_file

from emr_exporter.errors import RejectedByStore
from emr_exporter.upload.journal import UploadJournal, journal_path_for
from emr_exporter.upload.receipt import load_store_public_keys, receipt_path_for, verify_receipt
from emr_exporter.upload.store import ReferenceStore, StoreServer
from emr_exporter.upload.transport import BundleKnownToStore
from emr_exporter.upload.tus import TusTransport


def _carry_only_the_bundle(bundle: Path, pc2: Path) -> Path:
    pc2.mkdir(parents=True, exist_ok=True)
    target = pc2 / bundle.name
    shutil.copy2(bundle, target)
    assert not journal_path_for(target).exists() and not receipt_path_for(target).exists()
    return target


def test_accepted_bundle_carried_without_journal_is_not_sent_again(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "pc1" / "b.emrx", 700_000)
    first = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="ID-1")
    requests_after_first = len(store.requests)
    received_after_first = store.bytes_received

    carried = _carry_only_the_bundle(bundle, tmp_path / "pc2")
    checks: list[str] = []
    uploader = make_uploader(server.url, store_public_pem, check_before_new_upload=lambda: checks.append("verify"))
    second = uploader.upload(carried, bundle_id="ID-1")

    assert second.already_uploaded and second.bytes_sent == 0 and second.new_uploads == 0
    assert second.receipt_number == first.receipt_number
    # Only the capability query and the question about the bundle id: no POST, no PATCH, not one body byte.
    assert [m for m, _ in store.requests[requests_after_first:]] == ["OPTIONS", "GET"]
    assert store.requests[-1] == ("GET", "bundles")
    assert store.bytes_received == received_after_first
    assert checks == []  # the full verify is only for a brand-new upload
    saved = json.loads(receipt_path_for(carried).read_text("utf-8"))
    assert saved == json.loads(receipt_path_for(bundle).read_text("utf-8"))
    entry = UploadJournal.beside(carried).get("ID-1", server.url)
    assert entry is not None and entry.state == "accepted" and entry.receipt_number == first.receipt_number
    # A third run uses the new journal and asks nothing at all.
    requests_before_third = len(store.requests)
    assert make_uploader(server.url, store_public_pem).upload(carried, bundle_id="ID-1").already_uploaded
    assert len(store.requests) == requests_before_third


def test_interrupted_upload_continues_on_another_pc_from_the_bundle_alone(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "pc1" / "b.emrx", 1_000_000)
    uploader = make_uploader(server.url, store_public_pem, chunk_size=250_000)

    def pause_after_two_chunks(progress: object) -> None:
        if progress.position >= 500_000:
            uploader.cancel.set()

    uploader.on_progress = pause_after_two_chunks
    with pytest.raises(Exception, match="Nothing is lost"):
        uploader.upload(bundle, bundle_id="ID-2")
    (upload_id,) = [p.stem for p in store.uploads_dir.glob("*.json")]
    held = store.offset_of(upload_id)
    assert held >= 250_000

    carried = _carry_only_the_bundle(bundle, tmp_path / "pc2")
    events: list[str] = []
    checks: list[str] = []
    result = make_uploader(
        server.url, store_public_pem, chunk_size=250_000, on_event=lambda name, _: events.append(name),
        check_before_new_upload=lambda: checks.append("verify"),
    ).upload(carried, bundle_id="ID-2")

    assert "found-on-store" in events and "created" not in events and checks == []
    assert result.new_uploads == 0 and result.resumed_from == held
    assert result.bytes_sent == 1_000_000 - held
    assert result.upload_url == server.url + upload_id
    assert [p.stem for p in store.uploads_dir.glob("*.json")] == [upload_id]  # still one upload on the store
    assert store.data_path(upload_id).read_bytes() == bundle.read_bytes()
    assert result.receipt_number and receipt_path_for(carried).is_file()


def test_lookup_answers_and_creation_post_refused_for_accepted_bundle(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    transport = TusTransport(server.url)
    assert transport.lookup_bundle("ID-3").state == "unknown"
    raw = requests.get(server.url + "bundles/ID-3", timeout=5)
    assert raw.status_code == 404 and raw.json() == {"error": {"message": "the store holds no upload of this bundle"}}

    bundle = random_file(tmp_path / "b.emrx", 300_000)
    result = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="ID-3")
    sha256 = hashlib.sha256(bundle.read_bytes()).hexdigest()
    lookup = transport.lookup_bundle("ID-3")
    assert (lookup.state, lookup.length, lookup.sha256, lookup.upload_url) == (
        "accepted", 300_000, sha256, result.upload_url
    )
    keys = load_store_public_keys(store_public_pem)
    receipt = verify_receipt(lookup.document, keys, bundle_id="ID-3", sha256=sha256, size=300_000)
    assert receipt["receipt_number"] == result.receipt_number

    # A client that skips the question still cannot start a second upload: 409 + Upload-Bundle-State.
    transport.discover()
    with pytest.raises(BundleKnownToStore) as caught:
        transport.create(300_000, {"bundle_id": "ID-3", "sha256": sha256, "filename": "b.emrx"})
    assert caught.value.lookup.state == "accepted"
    assert caught.value.lookup.document == lookup.document
    raw_post = requests.post(
        server.url, headers={"Tus-Resumable": "1.0.0", "Upload-Length": "300000",
                             "Upload-Metadata": f"bundle_id SUQtMw==,sha256 {_b64(sha256)}"}, timeout=5
    )
    assert raw_post.status_code == 409 and raw_post.headers["Upload-Bundle-State"] == "accepted"
    assert len(list(store.uploads_dir.glob("*.json"))) == 1


def test_another_file_under_an_accepted_bundle_id_is_refused(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    make_uploader(server.url, store_public_pem).upload(random_file(tmp_path / "a.emrx", 100_000), bundle_id="ID-4")
    other = random_file(tmp_path / "other" / "a.emrx", 100_000)
    with pytest.raises(RejectedByStore) as caught:
        make_uploader(server.url, store_public_pem).upload(other, bundle_id="ID-4")
    assert str(caught.value) == (
        "The store already accepted a bundle with this id, but not this exact file (its size or SHA-256 "
        "differs). Do not delete anything; contact the store's help desk with this message."
    )
    assert not receipt_path_for(other).exists()


def test_second_creation_while_receiving_points_to_the_first_upload(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 100_000)
    sha256 = hashlib.sha256(bundle.read_bytes()).hexdigest()
    transport = TusTransport(server.url)
    transport.discover()
    # PC A started the upload; PC B (bundle only, asking nothing) tries to start another one.
    url_a, _ = transport.create(100_000, {"bundle_id": "ID-5", "sha256": sha256})
    with pytest.raises(BundleKnownToStore) as caught:
        transport.create(100_000, {"bundle_id": "ID-5", "sha256": sha256})
    assert (caught.value.lookup.state, caught.value.lookup.upload_url) == ("receiving", url_a)
    first = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="ID-5")
    assert first.upload_url == url_a and first.new_uploads == 0
    assert len(list(store.receipts_dir.glob("*.json"))) == 1


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()
