"""End to end with real sealed bundles: `emr-export demo` makes one, `emr-export store serve` runs the
reference store as its own process on 127.0.0.1, `emr-export upload` sends it and checks the receipt."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from upload_testkit import FAST_RETRY

from emr_exporter.bundle.keys import load_store_private_key, make_demo_keys
from emr_exporter.errors import RejectedByStore
from emr_exporter.upload.receipt import load_store_public_keys
from emr_exporter.upload.store import ReferenceStore, bundle_reader_verifier
from emr_exporter.upload.tus import TusTransport
from emr_exporter.upload.uploader import Uploader

CLI = [str(Path(sys.executable).with_name("emr-export"))]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("demo")
    done = _cli("demo", "--out", str(out), "--patients", "5", "--json")
    assert done.returncode == 0, done.stderr
    (bundle,) = out.glob("*.emrx")
    return bundle, out / "demo-keys"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store_process(tmp_path: Path, demo_bundle: tuple[Path, Path]) -> Iterator[str]:
    port = _free_port()
    keys = demo_bundle[1]
    process = subprocess.Popen(
        [*CLI, "store", "serve", "--dir", str(tmp_path / "store"), "--key", str(keys / "store-key.pem"),
         "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/files/"
    finally:
        process.terminate()
        process.wait(10)


def test_cli_upload_status_and_no_second_send(
    tmp_path: Path, demo_bundle: tuple[Path, Path], store_process: str
) -> None:
    bundle = tmp_path / demo_bundle[0].name
    shutil.copy2(demo_bundle[0], bundle)
    cert = demo_bundle[1] / "store-cert.pem"
    first = _cli("upload", str(bundle), "--store", store_process, "--store-cert", str(cert), "--chunk-size", "64K")
    assert first.returncode == 0, first.stderr
    receipt = json.loads((tmp_path / (bundle.name + ".receipt.json")).read_text("utf-8"))
    number = receipt["receipt"]["receipt_number"]
    assert f"Uploaded {bundle.name}. Receipt number: {number}" in first.stdout
    assert receipt["receipt"]["institution"] == "99350017"
    assert receipt["signature"]["algorithm"] == "rsa-pss-sha256"
    second = _cli("upload", str(bundle), "--store", store_process, "--store-cert", str(cert), "--json")
    assert json.loads(second.stdout)["already_uploaded"] is True
    assert json.loads(second.stdout)["receipt_number"] == number
    status = _cli("status", str(tmp_path))
    assert status.stdout.strip() == f"{bundle.name}: accepted, receipt {number}"


def test_cli_refuses_plain_http_to_another_host(demo_bundle: tuple[Path, Path]) -> None:
    done = _cli("upload", str(demo_bundle[0]), "--store", "http://store.example.kr/files/")
    assert done.returncode == 2
    assert "Refusing to send the bundle over plain HTTP to store.example.kr" in done.stderr


def _store_for(tmp_path: Path, key_pem: Path) -> ReferenceStore:
    key = load_store_private_key(key_pem)
    return ReferenceStore(tmp_path / "store", key, verifier=bundle_reader_verifier(key, tmp_path / "opened"))


def _upload(server_url: str, bundle: Path, cert: Path, bundle_id: str) -> object:
    uploader = Uploader(TusTransport(server_url), store_url=server_url, retry=FAST_RETRY,
                        store_public_keys=load_store_public_keys(cert), chunk_size=64 * 1024)
    return uploader.upload(bundle, bundle_id=bundle_id)


def test_store_rejects_tampered_bundle_and_bundle_for_another_store(
    tmp_path: Path, demo_bundle: tuple[Path, Path]
) -> None:
    from emr_exporter.bundle.reader import verify_bundle

    original, keys = demo_bundle
    bundle_id = verify_bundle(original).bundle_id
    # 1. Tampered: one byte flipped in the middle of the file.
    tampered = tmp_path / "t" / original.name
    tampered.parent.mkdir()
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    store = _store_for(tmp_path / "s1", keys / "store-key.pem")
    server = store.serve().start()
    try:
        with pytest.raises(RejectedByStore, match="The store received the whole bundle but rejected it: ") as caught:
            _upload(server.url, tampered, keys / "store-cert.pem", bundle_id)
        assert "Part 0 of" in str(caught.value) and "was changed" in str(caught.value)  # the reader's reason
    finally:
        server.stop()
    # 2. Addressed to another store: a store with different keys refuses to open it.
    other_keys = make_demo_keys(tmp_path / "other-keys")
    other = _store_for(tmp_path / "s2", other_keys.store_key)
    server = other.serve().start()
    try:
        copy = tmp_path / "c" / original.name
        copy.parent.mkdir()
        shutil.copy2(original, copy)
        with pytest.raises(RejectedByStore, match="is encrypted for a different store key"):
            _upload(server.url, copy, other_keys.store_cert, bundle_id)
    finally:
        server.stop()
