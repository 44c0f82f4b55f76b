"""Interop: our client against an independent tus 1.0 server, the PyPI package ``resumable-upload``
(run as its own process on 127.0.0.1, with sha256 checksums and expiry), and over HTTPS with a pinned cert."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from upload_testkit import random_file

from emr_exporter.errors import RejectedByStore
from emr_exporter.upload.receipt import load_store_public_keys
from emr_exporter.upload.store import ReferenceStore, tls_context_for
from emr_exporter.upload.tus import TusTransport
from emr_exporter.upload.uploader import Uploader


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def independent_tus_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    executable = Path(sys.executable).with_name("resumable-upload")
    if not executable.exists():
        executable = Path(shutil.which("resumable-upload") or "resumable-upload")
    port = _free_port()
    upload_dir = tmp_path / "ru"
    process = subprocess.Popen(
        [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port), "--upload-dir", str(upload_dir),
         "--db-path", str(tmp_path / "ru.db"), "--checksum-algorithms", "sha1,sha256",
         "--upload-expiry", "86400", "--log-level", "ERROR"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/files", upload_dir
    finally:
        process.terminate()
        process.wait(10)


def test_client_uploads_to_resumable_upload_server(tmp_path: Path, independent_tus_server: tuple[str, Path]) -> None:
    endpoint, upload_dir = independent_tus_server
    bundle = random_file(tmp_path / "b.emrx", 1_500_001)
    transport = TusTransport(endpoint)
    uploader = Uploader(transport, store_url=endpoint, require_receipt=False, chunk_size=256 * 1024)
    result = uploader.upload(bundle, bundle_id="I-1", institution="12345678")
    assert transport.capabilities.sha256_checksums  # so every PATCH carried a verified sha256
    assert result.receipt_number is None and result.bytes_sent == 1_500_001
    upload_id = (result.upload_url or "").rstrip("/").rsplit("/", 1)[1]
    stored = [p for p in upload_dir.rglob("*") if p.is_file() and upload_id in p.name and p.stat().st_size > 0]
    assert [p.read_bytes() == bundle.read_bytes() for p in stored] == [True]
    # Re-running does not send it again.
    again = Uploader(TusTransport(endpoint), store_url=endpoint, require_receipt=False).upload(bundle, bundle_id="I-1")
    assert again.already_uploaded and again.bytes_sent == 0


def _self_signed_tls(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test store")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = tmp_path / "store-cert.pem", tmp_path / "store-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https_with_pinned_certificate_and_wrong_certificate_refused(tmp_path: Path) -> None:
    cert_path, key_path = _self_signed_tls(tmp_path / "real")
    other_cert, _ = _self_signed_tls(tmp_path / "other")
    signing_key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    store = ReferenceStore(tmp_path / "store", signing_key)
    server = store.serve(tls_context=tls_context_for(cert_path, key_path)).start()
    try:
        bundle = random_file(tmp_path / "b.emrx", 200_000)
        with pytest.raises(RejectedByStore, match="certificate could not be verified"):
            Uploader(TusTransport(server.url, verify=str(other_cert)), store_url=server.url,
                     store_public_keys=load_store_public_keys(other_cert)).upload(bundle, bundle_id="T-1")
        result = Uploader(TusTransport(server.url, verify=str(cert_path)), store_url=server.url,
                          store_public_keys=load_store_public_keys(cert_path)).upload(bundle, bundle_id="T-1")
        assert result.receipt_number
        assert store.data_path((result.upload_url or "").rsplit("/", 1)[1]).read_bytes() == bundle.read_bytes()
    finally:
        server.stop()
