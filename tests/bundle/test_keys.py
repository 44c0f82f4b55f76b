"""Institution keys: PKCS#12 and the Korean 공동인증서 pair; each certificate problem has its own message."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from bundle_testkit import NOW, issue, make_ca
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from emr_exporter.bundle.cms import sign_detached, verify_detached
from emr_exporter.bundle.keys import (
    Signer,
    encrypt_npki_private_key,
    load_signer,
    spki_sha256,
)
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.errors import CertificateError

PASSWORD = "정확한-password-1"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def write_npki(folder: Path, cert, key, *, scheme: str = "pbes2", password: str = PASSWORD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "signCert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (folder / "signPri.key").write_bytes(encrypt_npki_private_key(key, password, scheme=scheme))
    return folder


def write_p12(path: Path, cert, key, password: str = PASSWORD) -> Path:
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"inst", key, cert, None,
        serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(1000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
        .build(password.encode()),
    ))
    return path


@pytest.mark.parametrize("scheme", ["pbes2", "kisa"])
def test_npki_pair_loads_from_folder_and_files(tmp_path: Path, ca, rsa_key, scheme: str) -> None:
    cert = issue(ca, rsa_key, "공동인증서 의원")
    folder = write_npki(tmp_path / "NPKI" / "USER" / "cn", cert, rsa_key, scheme=scheme)
    for loaded in (load_signer(folder, PASSWORD), load_signer(folder / "signCert.der", PASSWORD)):
        assert loaded.certificate == cert
        assert spki_sha256(loaded.private_key.public_key()) == spki_sha256(rsa_key.public_key())
    signer = load_signer(folder, PASSWORD)
    verify_detached(sign_detached(signer, b"tagmanifest"), b"tagmanifest", what="test", trust_anchors=[ca.cert])


def test_npki_pbes2_seed_key_is_readable_by_openssl(tmp_path: Path, ca, rsa_key) -> None:
    """Independent check of our SEED-CBC PKCS#8 encoding (OpenSSL's legacy provider has SEED)."""
    folder = write_npki(tmp_path, issue(ca, rsa_key, "x"), rsa_key)
    done = subprocess.run(
        ["openssl", "pkcs8", "-inform", "DER", "-in", str(folder / "signPri.key"), "-passin", f"pass:{PASSWORD}",
         "-provider", "legacy", "-provider", "default", "-outform", "DER"],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    assert serialization.load_der_private_key(done.stdout, None).private_numbers() == rsa_key.private_numbers()


@pytest.mark.parametrize("scheme", ["pbes2", "kisa"])
def test_npki_wrong_password(tmp_path: Path, ca, rsa_key, scheme: str) -> None:
    folder = write_npki(tmp_path, issue(ca, rsa_key, "x"), rsa_key, scheme=scheme)
    with pytest.raises(CertificateError, match=r"^Wrong password for the 공동인증서 private key .*signPri.key"):
        load_signer(folder, "wrong")


def test_p12_loads_and_wrong_password(tmp_path: Path, ca, rsa_key) -> None:
    path = write_p12(tmp_path / "inst.pfx", issue(ca, rsa_key, "p12 의원"), rsa_key)
    assert load_signer(path, PASSWORD).certificate.subject.rfc4514_string().startswith("CN=p12 의원")
    with pytest.raises(CertificateError, match=r"^Wrong password for the certificate file '.*inst.pfx'"):
        load_signer(path, "wrong")
    (tmp_path / "junk.p12").write_bytes(b"not a pkcs12")
    with pytest.raises(CertificateError, match="is not a PKCS#12 certificate file"):
        load_signer(tmp_path / "junk.p12", PASSWORD)


def test_expired_certificate(tmp_path: Path, ca, rsa_key) -> None:
    cert = issue(ca, rsa_key, "old", not_before=NOW - dt.timedelta(days=800), not_after=NOW - dt.timedelta(days=2))
    with pytest.raises(CertificateError, match=r"The certificate 'CN=old,O=Test,C=KR' expired on \d{4}-\d\d-\d\d"):
        load_signer(write_p12(tmp_path / "a.p12", cert, rsa_key), PASSWORD)
    with pytest.raises(CertificateError, match=r"expired on"):
        load_signer(write_npki(tmp_path / "npki", cert, rsa_key), PASSWORD)


def test_not_yet_valid_certificate(tmp_path: Path, ca, rsa_key) -> None:
    cert = issue(ca, rsa_key, "future", not_before=NOW + dt.timedelta(days=3), not_after=NOW + dt.timedelta(days=400))
    with pytest.raises(CertificateError, match=r"The certificate 'CN=future,O=Test,C=KR' is not valid yet"):
        load_signer(write_p12(tmp_path / "a.p12", cert, rsa_key), PASSWORD)


def test_certificate_without_signing_key_usage(tmp_path: Path, ca, rsa_key) -> None:
    cert = issue(ca, rsa_key, "kmCert", sign=False, encipher=True)
    with pytest.raises(CertificateError, match=r"is not a signing certificate .*digitalSignature nor nonRepudiation"):
        load_signer(write_npki(tmp_path, cert, rsa_key), PASSWORD)


def test_key_not_matching_certificate(tmp_path: Path, ca, rsa_key) -> None:
    cert = issue(ca, rsa_key, "mine")
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(CertificateError, match="The private key does not belong to the certificate 'CN=mine"):
        load_signer(write_npki(tmp_path, cert, other), PASSWORD)


def test_verification_checks_dates_at_signing_time(ca, rsa_key) -> None:
    signer = Signer(issue(ca, rsa_key, "dated"), rsa_key, (ca.cert,))
    signature = sign_detached(signer, b"data")
    later = NOW + dt.timedelta(days=800)
    with pytest.raises(CertificateError, match="had expired when it signed"):
        verify_detached(signature, b"data", what="header", at=later)
    with pytest.raises(CertificateError, match="was not yet valid when it signed"):
        verify_detached(signature, b"data", what="header", at=NOW - dt.timedelta(days=300))
    with pytest.raises(CertificateError, match="does not chain up"):
        verify_detached(signature, b"data", what="header", trust_anchors=[make_ca("CN=Other").cert])


def test_demo_keys_are_labelled_and_reused(tmp_path: Path) -> None:
    keys = make_demo_keys(tmp_path / "demo-keys")
    assert sorted(p.name for p in keys.folder.iterdir()) == [
        "README.txt", "demo-ca.pem", "institution.p12", "store-cert.pem", "store-key.pem"
    ]
    assert "DEMO MATERIAL" in (keys.folder / "README.txt").read_text()
    assert "DEMO ONLY" in keys.signer.certificate.subject.rfc4514_string()
    assert load_signer(keys.institution_p12, "demo").certificate == keys.signer.certificate
    again = make_demo_keys(tmp_path / "demo-keys")  # an interrupted demo resumes with the same certificate
    assert again.signer.certificate == keys.signer.certificate


def test_a_certificate_without_its_key_says_what_to_give(tmp_path: Path, ca) -> None:
    from bundle_testkit import pem

    from emr_exporter.bundle.keys import load_signer
    from emr_exporter.errors import CertificateError

    cert_file = tmp_path / "institution.pem"
    cert_file.write_bytes(pem(ca.cert))
    with pytest.raises(CertificateError) as caught:
        load_signer(cert_file, "")
    assert str(caught.value) == (
        f"'{cert_file}' is a certificate without its private key. Give the institution's .p12/.pfx file, "
        "or a 공동인증서 folder holding signCert.der and signPri.key."
    )
