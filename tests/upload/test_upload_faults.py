"""The uploader against a misbehaving store (real HTTP on 127.0.0.1).

Faults we cannot provoke from outside a real store (a 500, a hang, a corrupted chunk, an expired upload, a
forged receipt) are injected with the reference store's ``fault_hook``: a small wrapper around the real
server that answers a request itself or alters it before the store handles it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from upload_testkit import make_uploader, random_file

from emr_exporter.errors import RejectedByStore
from emr_exporter.upload.receipt import sign_receipt
from emr_exporter.upload.store import ReferenceStore, StoreServer


def _stored(store: ReferenceStore, upload_url: str) -> bytes:
    return store.data_path(upload_url.rsplit("/", 1)[1]).read_bytes()


def _fail_first(n: int, method: str, answer: Any) -> Any:
    seen = {"count": 0}

    def hook(handler: Any, m: str, upload_id: str | None) -> bool:
        if m != method or seen["count"] >= n:
            return False
        seen["count"] += 1
        handler._discard_body()
        answer(handler)
        return True

    hook.seen = seen
    return hook


def test_store_answering_500_a_few_times_then_recovering(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 700_000)
    store.fault_hook = _fail_first(3, "PATCH", lambda h: h.answer_error(500, "boom"))
    events: list[tuple[str, dict[str, Any]]] = []
    result = make_uploader(server.url, store_public_pem, on_event=lambda n, d: events.append((n, d))).upload(
        bundle, bundle_id="F-500"
    )
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()
    assert result.retries == 3
    assert [d["what"] for n, d in events if n == "retry"] == ["send", "send", "send"]


def test_hanging_store_read_timeout_then_retry(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 600_000)
    release = threading.Event()
    hung = {"count": 0}

    def hang_first_patch(handler: Any, method: str, upload_id: str | None) -> bool:
        if method == "PATCH" and hung["count"] == 0:
            hung["count"] += 1
            release.wait(10)  # never answers while the client waits
            handler.close_connection = True
            return True
        return False

    store.fault_hook = hang_first_patch
    try:
        result = make_uploader(server.url, store_public_pem, read_timeout=0.5).upload(bundle, bundle_id="F-hang")
    finally:
        release.set()
    assert hung["count"] == 1
    assert result.retries >= 1
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()


def test_corrupted_chunk_gets_460_and_is_resent(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 600_000)
    corrupted = {"count": 0}

    def corrupt_second_patch(handler: Any, method: str, upload_id: str | None) -> bool:
        # Equivalent to a flipped bit on the way: the digest no longer matches the body the store reads.
        if method == "PATCH" and corrupted["count"] < 1 and store.offset_of(upload_id or "") > 0:
            corrupted["count"] += 1
            handler.headers.replace_header("Upload-Checksum", "sha256 " + base64.b64encode(b"\0" * 32).decode())
        return False

    store.fault_hook = corrupt_second_patch
    events: list[tuple[str, dict[str, Any]]] = []
    result = make_uploader(server.url, store_public_pem, on_event=lambda n, d: events.append((n, d))).upload(
        bundle, bundle_id="F-460"
    )
    assert corrupted["count"] == 1
    assert ("resync", {"offset": 256 * 1024}) in events
    assert result.bytes_sent == 600_000 + 256 * 1024  # exactly the rejected chunk went twice
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()


@pytest.mark.parametrize("how", ["expired", "terminated"])
def test_gone_upload_starts_a_new_one(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path, how: str
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 600_000)
    done = {"count": 0}

    def forget_after_first_chunk(handler: Any, method: str, upload_id: str | None) -> bool:
        if method == "PATCH" and done["count"] == 0 and store.offset_of(upload_id or "") > 0:
            done["count"] += 1
            if how == "expired":
                store.expire_now(upload_id or "")  # 410 from now on
            else:
                for path in store.uploads_dir.glob(f"{upload_id}.*"):
                    path.unlink()  # the store lost it: 404
        return False

    store.fault_hook = forget_after_first_chunk
    result = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="F-gone")
    assert result.new_uploads == 2
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()


def test_retry_after_is_honoured(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 100_000)
    store.fault_hook = _fail_first(
        1, "PATCH", lambda h: h.answer(503, {"Retry-After": "1"})
    )
    waits: list[float] = []
    result = make_uploader(
        server.url, store_public_pem, on_event=lambda n, d: waits.append(d["seconds"]) if n == "wait" else None
    ).upload(bundle, bundle_id="F-ra")
    assert waits == [1.0]  # the store's value, not the (0.01-0.05 s) backoff
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()


def test_forged_and_tampered_receipts_are_rejected(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 50_000)
    impostor = ed25519.Ed25519PrivateKey.generate()
    mode = {"value": "forged"}

    def fake_receipt(handler: Any, method: str, upload_id: str | None) -> bool:
        if method != "GET" or upload_id == "bundles":  # only the receipt, not the bundle lookup
            return False
        info = store.load(upload_id or "")
        while info and info["state"] == "verifying":
            time.sleep(0.01)
            info = store.load(upload_id or "")
        assert info is not None and info["state"] == "accepted"
        genuine = info["receipt"]
        if mode["value"] == "forged":
            document = sign_receipt(genuine["receipt"], impostor)
        else:
            document = json.loads(json.dumps(genuine))
            document["receipt"]["receipt_number"] = "R-FAKE"
        handler.answer_json(200, document)
        return True

    store.fault_hook = fake_receipt
    with pytest.raises(RejectedByStore, match="the signature does not match the store's certificate"):
        make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="F-rc")
    mode["value"] = "tampered"
    with pytest.raises(RejectedByStore, match="the signature does not match the store's certificate"):
        make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="F-rc")
    assert not (tmp_path / "b.emrx.receipt.json").exists()
    store.fault_hook = None
    result = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="F-rc")
    assert result.receipt_number and result.new_uploads == 0 and result.bytes_sent == 0


CLIENT_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from emr_exporter.upload.receipt import load_store_public_keys
    from emr_exporter.upload.tus import TusTransport
    from emr_exporter.upload.uploader import Uploader
    url, bundle, pem = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    Uploader(TusTransport(url), store_url=url, store_public_keys=load_store_public_keys(pem),
             chunk_size=1 << 20, rate_limit_bytes_per_second=4_000_000).upload(bundle, bundle_id="K-1")
    """
)


def test_client_killed_mid_patch_resumes_resending_at_most_one_chunk(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    size, chunk = 6 * (1 << 20), 1 << 20
    bundle = random_file(tmp_path / "b.emrx", size)
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    kills = 0
    for kill_at in (int(1.5 * chunk), int(3.4 * chunk)):
        client = subprocess.Popen([sys.executable, str(script), server.url, str(bundle), str(store_public_pem)])
        deadline = time.monotonic() + 60
        while store.bytes_received < kill_at and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert client.poll() is None, "client finished before it could be killed"
        os.kill(client.pid, signal.SIGKILL)
        client.wait()
        kills += 1
    received_before_resume = store.bytes_received
    result = make_uploader(server.url, store_public_pem, chunk_size=chunk).upload(bundle, bundle_id="K-1")
    assert kills == 2 and result.new_uploads == 0
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()
    # Each kill lost at most the chunk in flight (the store discards an unverified partial chunk).
    assert store.bytes_received - size <= kills * chunk
    assert received_before_resume - result.resumed_from <= kills * chunk
    assert result.receipt_number


def _checks_until(store: ReferenceStore, questions: int | None) -> tuple[threading.Event, dict[str, int]]:
    """Make the store check each bundle until it has been asked for the receipt ``questions`` times (None: until
    the test sets the returned event); the questions are counted."""
    release = threading.Event()
    asked = {"count": 0}

    def slow_verifier(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
        assert release.wait(60)
        return {}

    def count_receipt_gets(handler: Any, method: str, upload_id: str | None) -> bool:
        if method == "GET" and handler.path.endswith("/receipt"):
            asked["count"] += 1
            if asked["count"] == questions:  # the store finishes after this question
                release.set()
                info = store.load(upload_id or "")
                while info and info["state"] == "verifying":
                    time.sleep(0.005)
                    info = store.load(upload_id or "")
        return False

    store.verifier, store.fault_hook = slow_verifier, count_receipt_gets
    return release, asked


def test_receipt_is_polled_quickly_up_to_the_stores_retry_after(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    """After the last byte the store answers 202 + Retry-After: 1 while it verifies; the client asks again
    after 20 ms, doubling, instead of sleeping the whole second (which dominated fast uploads)."""
    bundle = random_file(tmp_path / "b.emrx", 100_000)
    _, receipt_gets = _checks_until(store, 4)
    waits: list[float] = []
    result = make_uploader(
        server.url, store_public_pem, on_event=lambda n, d: waits.append(d["seconds"]) if n == "verifying" else None
    ).upload(bundle, bundle_id="F-quick")
    assert waits == [0.02, 0.04, 0.08]  # not [1.0, 1.0, 1.0]
    assert result.receipt_number and receipt_gets["count"] == 4


def test_a_store_that_checks_for_long_is_waited_for_not_given_up_on(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    """A big bundle takes the store minutes to check. Its "still checking" answers (202) are not failures:
    before, the 31st ended the upload with "The store could not be reached for 0 minutes (The store is still
    checking the bundle.)" (the wizard's resumed upload failed so on a busy PC). Here the store asks to be
    asked again at once (Retry-After: 0) and answers 202 sixty times before it has checked the file."""
    bundle = random_file(tmp_path / "b.emrx", 100_000)
    _, receipt_gets = _checks_until(store, 61)
    store.verifying_retry_after = 0
    result = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="F-long-check")
    assert result.receipt_number and receipt_gets["count"] == 61 and result.retries == 0


def test_a_store_still_checking_after_the_budget_says_so_and_a_later_run_collects_the_receipt(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    from emr_exporter.errors import StoreStillChecking
    from emr_exporter.upload.journal import UploadJournal
    from emr_exporter.upload.uploader import RetryPolicy

    bundle = random_file(tmp_path / "b.emrx", 100_000)
    release, _ = _checks_until(store, None)
    store.verifying_retry_after = 0
    patient = RetryPolicy(base_delay=0.01, max_delay=0.05, verification_budget=0.5)
    with pytest.raises(StoreStillChecking) as raised:
        make_uploader(server.url, store_public_pem, retry=patient).upload(bundle, bundle_id="F-budget")
    assert str(raised.value) == (
        "The store has every byte of the bundle and has been checking it for 0 minutes without an answer yet. "
        "Nothing needs to be sent again: run the same command later (or press Resume) to collect the store's "
        "receipt.")
    received = store.bytes_received
    release.set()
    result = make_uploader(server.url, store_public_pem, retry=patient).upload(bundle, bundle_id="F-budget")
    assert result.receipt_number and store.bytes_received == received  # not one byte sent again
    entry = UploadJournal.beside(bundle).get("F-budget", server.url)
    assert entry is not None and entry.state == "accepted"


def test_the_seal_time_digest_is_used_when_the_size_matches(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path, monkeypatch: Any
) -> None:
    from emr_exporter.upload import uploader as uploader_module

    bundle = random_file(tmp_path / "b.emrx", 300_000)
    real_digest = uploader_module.sha256_of_file(bundle)
    hashed: list[Path] = []
    real = uploader_module.sha256_of_file
    monkeypatch.setattr(uploader_module, "sha256_of_file", lambda p, c=None: hashed.append(p) or real(p, c))
    result = make_uploader(server.url, store_public_pem).upload(
        bundle, bundle_id="F-known", known_sha256=real_digest, known_size=300_000
    )
    assert hashed == [] and result.sha256 == real_digest and result.receipt_number
    # a size that does not match (the file was replaced): the digest is taken from the file again
    other = random_file(tmp_path / "c.emrx", 200_000)
    make_uploader(server.url, store_public_pem).upload(other, bundle_id="F-known-2", known_sha256=real_digest,
                                                      known_size=300_000)
    assert hashed == [other]


def test_checksummed_chunks_are_written_in_place_and_a_stale_chunk_is_cut_off(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 600_000)
    seen: list[list[str]] = []

    def look_at_the_folder(handler: Any, method: str, upload_id: str | None) -> bool:
        if method == "PATCH":
            seen.append(sorted(p.suffix for p in store.uploads_dir.iterdir()))
        return False

    store.fault_hook = look_at_the_folder
    result = make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="F-inplace")
    assert _stored(store, result.upload_url or "") == bundle.read_bytes()
    assert seen and all(s == [".bin", ".json"] for s in seen)  # no side file, no marker left between chunks
    assert not list(store.uploads_dir.glob("*.pending"))

    # A store that died mid-chunk leaves unverified bytes after its marker: they are cut off, never counted.
    data = store.data_path("0" * 32)
    data.write_bytes(b"v" * 1000 + b"unverified")
    (store.uploads_dir / ("0" * 32 + ".pending")).write_text("1000", "ascii")
    assert store.offset_of("0" * 32) == 1000 and data.read_bytes() == b"v" * 1000
    assert not (store.uploads_dir / ("0" * 32 + ".pending")).exists()
