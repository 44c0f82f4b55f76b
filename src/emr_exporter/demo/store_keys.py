"""Demo material for running the reference store over HTTPS on this PC (``emr-export store demo-certs``).

The store has three separate keys, each for one job (docs/upload.md, "Keys of a store"):

* its **encryption** key (``store-key.pem``/``store-cert.pem`` from ``emr-export demo``): bundles are sealed for
  it; the certificate allows key encipherment only;
* its **TLS server** key: a certificate for ``127.0.0.1``, ``::1`` and ``localhost`` (subjectAltName), key usage
  digitalSignature, extended key usage serverAuth; the client pins it with ``--store-cert``;
* its **receipt-signing** key (Ed25519): key usage digitalSignature + nonRepudiation; the client checks every
  receipt against it (``--receipt-cert``).

Both certificates are self-signed and labelled DEMO ONLY. A real store gets its TLS certificate from a CA and
publishes its receipt certificate with the program (``resources/store/``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID

from emr_exporter.errors import ConfigError

TLS_CERT, TLS_KEY = "store-tls-cert.pem", "store-tls-key.pem"
RECEIPT_CERT, RECEIPT_KEY = "store-receipt-cert.pem", "store-receipt-key.pem"
README = "README-store-demo-certs.txt"

DEMO_README = """DEMO MATERIAL - NOT FOR A REAL STORE
====================================

Written by `emr-export store demo-certs` so that the reference store can be tried over HTTPS on this PC:

  store-tls-cert.pem      the demo store's TLS server certificate (127.0.0.1, ::1, localhost)
  store-tls-key.pem       its PRIVATE key (unencrypted)
  store-receipt-cert.pem  the demo store's receipt-signing certificate (Ed25519)
  store-receipt-key.pem   its PRIVATE key (unencrypted)

  emr-export store serve --dir store-data --key store-key.pem --receipt-key store-receipt-key.pem \\
      --tls-cert store-tls-cert.pem --tls-key store-tls-key.pem --listen 127.0.0.1:8443
  emr-export upload BUNDLE.emrx --store https://127.0.0.1:8443/files/ \\
      --store-cert store-tls-cert.pem --receipt-cert store-receipt-cert.pem

Anyone holding these private keys can impersonate this demo store. Never use them for real records.
"""


@dataclass(frozen=True)
class DemoStoreServiceKeys:
    folder: Path
    tls_cert: Path
    tls_key: Path
    receipt_cert: Path
    receipt_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name.from_rfc4514_string(f"CN={common_name},O=DEMO,C=KR")


def _key_usage(*, digital_signature: bool, content_commitment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=content_commitment, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False,
        decipher_only=False,
    )


DemoKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _self_signed(
    name: x509.Name, key: DemoKey, extensions: list[tuple[x509.ExtensionType, bool]]
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


def _private_pem(key: DemoKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_demo_store_service_keys(folder: Path) -> DemoStoreServiceKeys:
    """Write the demo TLS and receipt-signing pairs into ``folder``; pairs already there are kept."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the folder {folder} for the demo certificates ({exc.strerror}).") from exc
    keys = DemoStoreServiceKeys(folder, folder / TLS_CERT, folder / TLS_KEY, folder / RECEIPT_CERT,
                                folder / RECEIPT_KEY)
    if not (keys.tls_cert.is_file() and keys.tls_key.is_file()):
        tls_key = ec.generate_private_key(ec.SECP256R1())
        hosts = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1")),
                 x509.DNSName("localhost")]
        tls_cert = _self_signed(_name("DEMO ONLY reference store TLS (127.0.0.1)"), tls_key, [
            (x509.SubjectAlternativeName(hosts), False),
            (_key_usage(digital_signature=True, content_commitment=False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ])
        keys.tls_key.write_bytes(_private_pem(tls_key))
        keys.tls_cert.write_bytes(tls_cert.public_bytes(serialization.Encoding.PEM))
    if not (keys.receipt_cert.is_file() and keys.receipt_key.is_file()):
        receipt_key = ed25519.Ed25519PrivateKey.generate()
        receipt_cert = _self_signed(_name("DEMO ONLY reference store receipt signing"), receipt_key, [
            (_key_usage(digital_signature=True, content_commitment=True), True),
        ])
        keys.receipt_key.write_bytes(_private_pem(receipt_key))
        keys.receipt_cert.write_bytes(receipt_cert.public_bytes(serialization.Encoding.PEM))
    (folder / README).write_text(DEMO_README, "utf-8")
    return keys
