"""Helpers for the bundle tests: certificates made on the spot, a deterministic bag stream, file surgery."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.keys import Recipient, Signer
from emr_exporter.pipeline.bag import BagStream

# Plaintext markers: must never be found on disk outside the opened bag.
PATIENT_NAME = "김마커환자"
PATIENT_RRN = "850315-2123457"
CREATED = dt.datetime(2026, 11, 25, 9, 0, 0, tzinfo=dt.UTC)
NOW = dt.datetime.now(dt.UTC)


@dataclass
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def make_ca(name: str = "CN=Test Root CA,O=Test,C=KR") -> CA:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name.from_rfc4514_string(name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=3650)).not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CA(key, cert)


def _usage(*, sign: bool = False, encipher: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=sign, key_encipherment=encipher, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
        decipher_only=False,
    )


def issue(
    ca: CA,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cn: str,
    *,
    sign: bool = True,
    encipher: bool = False,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string(f"CN={cn},O=Test,C=KR"))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=30))
        .not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=sign, encipher=encipher), critical=True)
        .sign(ca.key, hashes.SHA256())
    )


def make_signer(ca: CA, kind: str = "rsa", cn: str = "테스트의원 12345678") -> Signer:
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    return Signer(certificate=issue(ca, key, cn), private_key=key, chain=(ca.cert,))


def make_store(ca: CA, kind: str = "rsa") -> tuple[Recipient, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey]:
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP384R1())
    cert = issue(ca, key, "Test store", sign=False, encipher=True)
    return Recipient(public_key=key.public_key(), certificate=cert), key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# ------------------------------------------------------------------------------------ bag stream


def attachment_bytes(size: int, seed: bytes = b"scan") -> bytes:
    """Deterministic pseudo-random bytes (incompressible, reproducible on resume)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def bag_stream(
    bundle_id: str, sign_tagmanifest, *, attachment_size: int = 300_000, patients: int = 50, seed: bytes = b"scan"
) -> Iterator[bytes]:
    """A small deterministic bag with marker PHI, an attachment and a reconciliation report."""
    bag = BagStream(
        bag_info={"Source-Organization": "테스트의원", "External-Identifier": bundle_id},
        created=CREATED, sign_tagmanifest=sign_tagmanifest,
    )
    for i in range(patients):
        yield from bag.add_ndjson(
            "fhir/Patient",
            {"resourceType": "Patient", "id": f"p{i}", "name": [{"text": f"{PATIENT_NAME}{i}"}],
             "identifier": [{"value": PATIENT_RRN}]},
        )
    data = attachment_bytes(attachment_size, seed)
    yield from bag.add_file("attachments/scan-0001.pdf", len(data), [data[i:i + 50_000] for i in range(0, len(data), 50_000)])
    yield from bag.add_bytes("report/reconciliation.json", b'{"Patient":{"source":50,"exported":50,"quarantined":0}}')
    yield from bag.finish()


# ------------------------------------------------------------------------------------ file surgery


@dataclass
class Record:
    type: bytes
    offset: int  # of the record header
    body: bytes

    @property
    def raw(self) -> bytes:
        return fmt.RECORD_HEADER.pack(self.type, len(self.body)) + self.body


def records(path: Path) -> list[Record]:
    data = path.read_bytes()
    assert data[:8] == fmt.MAGIC
    out, pos = [], 8
    while pos < len(data):
        kind, length = fmt.RECORD_HEADER.unpack_from(data, pos)
        out.append(Record(kind, pos, data[pos + 12: pos + 12 + length]))
        pos += 12 + length
    return out


def assemble(recs: list[Record]) -> bytes:
    return fmt.MAGIC + b"".join(r.raw for r in recs)


def part_body(index: int, bundle_uuid: bytes, ciphertext: bytes) -> bytes:
    return struct.pack(">Q16s", index, bundle_uuid) + ciphertext


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def find_markers(root: Path) -> list[str]:
    """Files under ``root`` containing a plaintext marker (name or RRN) in UTF-8."""
    needles = [PATIENT_NAME.encode(), PATIENT_RRN.encode(), PATIENT_RRN.replace("-", "").encode()]
    hits = []
    for path in files_under(root):
        data = path.read_bytes()
        if any(n in data for n in needles):
            hits.append(str(path))
    return hits
