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
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from upload_testkit import FAST_RETRY

from emr_exporter.bundle.keys import load_store_private_key
from emr_exporter.demo.keys import make_demo_keys
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


def _serve(tmp_path: Path, keys: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    process = subprocess.Popen(
        [*CLI, "store", "serve", "--dir", str(tmp_path / "store"), "--key", str(keys / "store-key.pem"),
         "--listen", f"127.0.0.1:{port}", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, port


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
    assert status.stdout.strip() == f"{bundle.name}: accepted at {store_process}, receipt {number}"


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


def test_https_trial_with_demo_tls_certificate_and_separate_receipt_key(
    tmp_path: Path, demo_bundle: tuple[Path, Path]
) -> None:
    original, demo_keys = demo_bundle
    keys = tmp_path / "keys"
    shutil.copytree(demo_keys, keys)
    made = _cli("store", "demo-certs", "--out", str(keys), "--json")
    assert made.returncode == 0, made.stderr
    assert "DEMO MATERIAL" in (keys / "README-store-demo-certs.txt").read_text("utf-8")
    tls_cert = x509.load_pem_x509_certificate((keys / "store-tls-cert.pem").read_bytes())
    san = tls_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert "DEMO ONLY" in tls_cert.subject.rfc4514_string()
    process, port = _serve(
        tmp_path, keys, "--receipt-key", str(keys / "store-receipt-key.pem"),
        "--tls-cert", str(keys / "store-tls-cert.pem"), "--tls-key", str(keys / "store-tls-key.pem"),
    )
    try:
        url = f"https://127.0.0.1:{port}/files/"
        bundle = tmp_path / "pc" / original.name
        bundle.parent.mkdir()
        shutil.copy2(original, bundle)
        # The demo *encryption* certificate is no TLS certificate for 127.0.0.1: refused before any byte.
        wrong_pin = _cli("upload", str(bundle), "--store", url, "--store-cert", str(keys / "store-cert.pem"))
        assert wrong_pin.returncode == 1
        assert "The store's certificate could not be verified, so nothing was sent." in wrong_pin.stderr
        # Receipts are checked against the receipt certificate, not whatever key the TLS pin holds.
        wrong_receipt_cert = _cli("upload", str(bundle), "--store", url, "--store-cert",
                                  str(keys / "store-tls-cert.pem"), "--receipt-cert", str(keys / "store-cert.pem"))
        assert wrong_receipt_cert.returncode == 1
        assert "the signature does not match the store's certificate" in wrong_receipt_cert.stderr
        assert not (bundle.parent / (bundle.name + ".receipt.json")).exists()
        done = _cli("upload", str(bundle), "--store", url, "--store-cert", str(keys / "store-tls-cert.pem"),
                    "--receipt-cert", str(keys / "store-receipt-cert.pem"), "--json")
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        receipt = json.loads((bundle.parent / (bundle.name + ".receipt.json")).read_text("utf-8"))
        assert receipt["signature"]["algorithm"] == "ed25519"
        assert receipt["receipt"]["receipt_number"] == result["receipt_number"]
        assert result["new_uploads"] == 0 and result["bytes_sent"] == 0  # the wrong-cert run had sent it all
    finally:
        process.terminate()
        process.wait(10)


def test_bundle_alone_on_another_pc_resumes_from_its_signed_header_without_full_verify(
    tmp_path: Path, demo_bundle: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from emr_exporter.cli import main
    from emr_exporter.jobs import upload as upload_job

    original, keys = demo_bundle
    store = _store_for(tmp_path, keys / "store-key.pem")
    patches = {"count": 0}

    def refuse_second_patch(handler: Any, method: str, upload_id: str | None) -> bool:
        if method == "PATCH":
            patches["count"] += 1
            if patches["count"] == 2:  # PC A's run stops after one chunk
                handler._discard_body()
                handler.answer_error(400, "stop here")
                return True
        return False

    store.fault_hook = refuse_second_patch
    server = store.serve().start()
    full_verifies: list[Path] = []
    real_verify = upload_job._verify_whole_bundle

    def counting_verify(path: Path, bundle_id: str) -> None:
        full_verifies.append(path)
        real_verify(path, bundle_id)

    monkeypatch.setattr(upload_job, "_verify_whole_bundle", counting_verify)
    cert = str(keys / "store-cert.pem")
    runner = CliRunner()
    try:
        pc_a = tmp_path / "pc-a" / original.name
        pc_a.parent.mkdir()
        shutil.copy2(original, pc_a)
        first = runner.invoke(main, ["upload", str(pc_a), "--store", server.url, "--store-cert", cert,
                                     "--chunk-size", "16K"])
        assert first.exit_code == 1 and "stop here" in first.output
        assert full_verifies == [pc_a]  # a brand-new upload: the whole bundle was verified first
        store.fault_hook = None

        pc_b = tmp_path / "pc-b" / original.name  # only the .emrx, no journal
        pc_b.parent.mkdir()
        shutil.copy2(original, pc_b)
        second = runner.invoke(main, ["upload", str(pc_b), "--store", server.url, "--store-cert", cert,
                                      "--chunk-size", "16K", "--json"])
        assert second.exit_code == 0, second.output
        result = json.loads(second.output)
        assert result["new_uploads"] == 0 and result["resumed_from"] == 16 * 1024
        assert result["bytes_sent"] == original.stat().st_size - 16 * 1024
        assert full_verifies == [pc_a]  # the resume read only the signed header

        pc_c = tmp_path / "pc-c" / original.name
        pc_c.parent.mkdir()
        shutil.copy2(original, pc_c)
        third = runner.invoke(main, ["upload", str(pc_c), "--store", server.url, "--store-cert", cert])
        assert third.exit_code == 0, third.output
        assert third.output.strip() == (
            f"{original.name} was already uploaded. Receipt number: {result['receipt_number']}"
        )
        assert json.loads((pc_c.parent / (original.name + ".receipt.json")).read_text("utf-8"))["receipt"][
            "receipt_number"] == result["receipt_number"]
        assert full_verifies == [pc_a]
    finally:
        server.stop()


def test_header_identity_matches_full_verify_and_rejects_a_forged_header(
    tmp_path: Path, demo_bundle: tuple[Path, Path]
) -> None:
    from emr_exporter.bundle.reader import verify_bundle
    from emr_exporter.errors import BundleError
    from emr_exporter.upload.bundle_identity import read_bundle_identity

    original = demo_bundle[0]
    identity = read_bundle_identity(original)
    report = verify_bundle(original)
    assert (identity.bundle_id, identity.institution_code) == (report.bundle_id, report.institution_code)
    data = original.read_bytes()
    at = data.index(report.bundle_id.encode())  # the id inside the signed header JSON
    forged = tmp_path / "forged.emrx"
    forged.write_bytes(data[:at] + (b"0" if data[at:at + 1] != b"0" else b"1") + data[at + 1:])
    with pytest.raises(BundleError, match="The bundle header was changed after it was signed"):
        read_bundle_identity(forged)


def test_status_shows_one_line_per_bundle_with_the_best_known_state(tmp_path: Path) -> None:
    from emr_exporter.cli import main
    from emr_exporter.upload.journal import UploadJournal

    (tmp_path / "a.emrx").write_bytes(b"x" * 1000)
    (tmp_path / "b.emrx").write_bytes(b"y" * 1000)
    (tmp_path / "c.emrx").write_bytes(b"z" * 1000)
    journal_a = UploadJournal.beside(tmp_path / "a.emrx")
    journal_a.start("A", "http://127.0.0.1:1/wrong/", "a.emrx", 1000, "0" * 64)  # a typo'd store: stays "new"
    journal_a.start("A", "http://127.0.0.1:2/files/", "a.emrx", 1000, "0" * 64)
    journal_a.update("A", "http://127.0.0.1:2/files/", state="accepted", offset_seen=1000, receipt_number="R-1")
    journal_b = UploadJournal.beside(tmp_path / "b.emrx")
    journal_b.start("B", "http://127.0.0.1:2/files/", "b.emrx", 1000, "0" * 64)
    journal_b.update("B", "http://127.0.0.1:2/files/", state="sending", offset_seen=250)
    done = CliRunner().invoke(main, ["status", str(tmp_path)])
    assert done.exit_code == 0
    assert done.output.splitlines() == [
        "a.emrx: accepted at http://127.0.0.1:2/files/, receipt R-1",
        "b.emrx: sending at http://127.0.0.1:2/files/ (25.0% confirmed by the store)",
        "c.emrx: not uploaded",
    ]
    rows = json.loads(CliRunner().invoke(main, ["status", str(tmp_path), "--json"]).output)
    assert rows[0]["other_stores"] == ["http://127.0.0.1:1/wrong/"]
