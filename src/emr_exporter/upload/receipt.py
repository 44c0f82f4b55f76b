"""Store receipts: a small JSON document signed by the store's key, the founder's proof of transfer.

Wire and file format (``<bundle>.receipt.json``)::

    {"receipt": {"receipt_number": "...", "bundle_id": "...", "sha256": "<hex>", "size": 123, ...},
     "signature": {"algorithm": "ed25519" | "ecdsa-sha256" | "rsa-pss-sha256",
                   "key_sha256": "<hex SHA-256 of the signer's SubjectPublicKeyInfo DER>",
                   "value": "<base64>"}}

The signature is over the canonical bytes of ``receipt``: JSON with sorted keys, ``(",", ":")`` separators,
UTF-8, no ASCII escaping.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from emr_exporter.errors import ConfigError, RejectedByStore

RECEIPT_SUFFIX = ".receipt.json"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def canonical_bytes(receipt: dict[str, Any]) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def public_key_sha256(public_key: PublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def sign_receipt(receipt: dict[str, Any], key: PrivateKey) -> dict[str, Any]:
    data = canonical_bytes(receipt)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm, value = "ed25519", key.sign(data)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm, value = "ecdsa-sha256", key.sign(data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        algorithm, value = "rsa-pss-sha256", key.sign(data, _pss(), hashes.SHA256())
    else:
        raise ConfigError("The store key must be an Ed25519, EC or RSA private key.")
    return {
        "receipt": receipt,
        "signature": {
            "algorithm": algorithm,
            "key_sha256": public_key_sha256(key.public_key()),
            "value": base64.b64encode(value).decode("ascii"),
        },
    }


def load_receipt_signing_key(path: Path, password: str | None = None) -> PrivateKey:
    """The store's receipt-signing private key (PEM or DER PKCS#8; Ed25519, EC or RSA)."""
    data = Path(path).read_bytes()
    loader = (
        serialization.load_pem_private_key if data.lstrip().startswith(b"-----") else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=password.encode("utf-8") if password else None)
    except TypeError:
        raise ConfigError(
            f"The receipt key {path} is protected by a password: set EMR_EXPORTER_STORE_KEY_PASSWORD."
            if not password else f"The receipt key {path} is not password-protected; unset the password."
        ) from None
    except ValueError:
        raise ConfigError(f"{path} is not a private key file (or the password is wrong).") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigError(f"The receipt key {path} must be an Ed25519, EC or RSA key.")
    return key


def load_store_public_keys(pem_path: Path) -> list[PublicKey]:
    """Every public key in a PEM file: certificates and/or bare public keys."""
    data = pem_path.read_bytes()
    keys: list[PublicKey] = []
    with contextlib.suppress(ValueError):  # no certificate in the file: maybe a bare public key
        keys.extend(cert.public_key() for cert in x509.load_pem_x509_certificates(data))  # type: ignore[misc]
    if not keys:
        try:
            keys.append(serialization.load_pem_public_key(data))  # type: ignore[arg-type]
        except ValueError as exc:
            raise ConfigError(
                f"{pem_path} holds no certificate or public key. Give the store's certificate (PEM)."
            ) from exc
    return keys


def _verify_one(public_key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    try:
        if algorithm == "ed25519" and isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif algorithm == "ecdsa-sha256" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "rsa-pss-sha256" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, _pss(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def verify_receipt(
    document: Any, public_keys: list[PublicKey], *, bundle_id: str, sha256: str, size: int
) -> dict[str, Any]:
    """Check a receipt's signature against the store's keys and that it is about *this* bundle.

    Returns the inner receipt. Raises RejectedByStore with a clear reason otherwise.
    """
    forged = (
        "The store's receipt failed verification ({why}). The bundle may have reached the store, but this "
        "receipt is not proof of it. Do not delete the bundle; contact the store's help desk."
    )
    if not isinstance(document, dict) or not isinstance(document.get("receipt"), dict):
        raise RejectedByStore(forged.format(why="it is not a receipt"))
    receipt = document["receipt"]
    signature = document.get("signature")
    if not isinstance(signature, dict):
        raise RejectedByStore(forged.format(why="it is not signed"))
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except ValueError as exc:
        raise RejectedByStore(forged.format(why="the signature is not readable")) from exc
    algorithm = str(signature.get("algorithm", ""))
    data = canonical_bytes(receipt)
    if not any(_verify_one(key, algorithm, value, data) for key in public_keys):
        raise RejectedByStore(forged.format(why="the signature does not match the store's certificate"))
    if receipt.get("bundle_id") != bundle_id or receipt.get("sha256") != sha256 or receipt.get("size") != size:
        raise RejectedByStore(forged.format(why="it is about a different file"))
    if not receipt.get("receipt_number"):
        raise RejectedByStore(forged.format(why="it has no receipt number"))
    return dict(receipt)


def receipt_path_for(bundle_path: Path) -> Path:
    return bundle_path.with_name(bundle_path.name + RECEIPT_SUFFIX)


def save_receipt(bundle_path: Path, document: dict[str, Any]) -> Path:
    """Write ``<bundle>.receipt.json`` atomically and durably (tmp + fsync + replace)."""
    target = receipt_path_for(bundle_path)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target


def load_saved_receipt(bundle_path: Path) -> dict[str, Any] | None:
    path = receipt_path_for(bundle_path)
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None
