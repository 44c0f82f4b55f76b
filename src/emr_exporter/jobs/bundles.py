"""The bundle jobs: ``verify`` (anyone holding the file: signatures and parts, no key needed) and ``open``
(the store or an auditor with the store's key: decrypt, check every layer, extract the bag)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emr_exporter.bundle.fhir_check import ENABLE_HINT as FHIR_VALIDATION_HINT
from emr_exporter.bundle.keys import RecipientPrivateKey, Signer, load_signer, load_store_private_key
from emr_exporter.bundle.reader import OpenReport, VerifyReport, open_bundle, verify_bundle
from emr_exporter.errors import ConfigError


def load_trust_anchors(paths: tuple[Path, ...] | list[Path]) -> list[Any] | None:
    """CA certificates (PEM, possibly several per file, or DER) the institution's certificate must chain to."""
    if not paths:
        return None
    from cryptography import x509

    anchors: list[Any] = []
    for path in paths:
        data = Path(path).read_bytes()
        try:
            if b"-----BEGIN" in data:
                anchors.extend(x509.load_pem_x509_certificates(data))
            else:
                anchors.append(x509.load_der_x509_certificate(data))
        except ValueError:
            raise ConfigError(f"--trust-anchor '{path}' is not a certificate file (PEM or DER).") from None
    return anchors


def store_key_is_encrypted(key_path: Path) -> bool:
    """True if the PEM says its key is password-protected (so a front end asks for the password)."""
    return b"ENCRYPTED" in Path(key_path).read_bytes()[:200]


__all__ = [
    "FHIR_VALIDATION_HINT",
    "OpenReport",
    "RecipientPrivateKey",
    "Signer",
    "VerifyReport",
    "load_signer",
    "load_store_private_key",
    "load_trust_anchors",
    "open_bundle",
    "store_key_is_encrypted",
    "verify_bundle",
]
