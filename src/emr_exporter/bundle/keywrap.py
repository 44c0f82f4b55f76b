"""Wrapping the 32-byte data key for a public key: RSA-OAEP-SHA256 or HPKE (RFC 9180). Never PKCS#1 v1.5."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from emr_exporter.bundle.keys import RecipientPrivateKey, RecipientPublicKey

RSA_OAEP = "RSA-OAEP-SHA256"
_HPKE_SUITES: dict[str, tuple[str, Suite]] = {
    "secp256r1": ("HPKE-P256-SHA256-AES256GCM", Suite(KEM.P256, KDF.HKDF_SHA256, AEAD.AES_256_GCM)),
    "secp384r1": ("HPKE-P384-SHA384-AES256GCM", Suite(KEM.P384, KDF.HKDF_SHA384, AEAD.AES_256_GCM)),
    "secp521r1": ("HPKE-P521-SHA512-AES256GCM", Suite(KEM.P521, KDF.HKDF_SHA512, AEAD.AES_256_GCM)),
}
_SUITES_BY_ALG = {alg: suite for alg, suite in _HPKE_SUITES.values()}
DATA_KEY_SIZE = 32


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def wrap_key(public_key: RecipientPublicKey, data_key: bytes, *, info: bytes) -> tuple[str, bytes]:
    """Return (algorithm name, wrapped key). ``info`` binds HPKE to this bundle (RSA: empty label)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise ValueError("RSA keys shorter than 2048 bits cannot protect a bundle")
        return RSA_OAEP, public_key.encrypt(data_key, _oaep())
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name in _HPKE_SUITES:
        alg, suite = _HPKE_SUITES[public_key.curve.name]
        return alg, suite.encrypt(data_key, public_key, info=info)
    raise ValueError(f"unsupported key type for key wrapping: {type(public_key).__name__}")


def unwrap_key(private_key: RecipientPrivateKey, alg: str, wrapped: bytes, *, info: bytes) -> bytes | None:
    """The data key, or None if this key cannot unwrap it (wrong key, wrong algorithm, damaged)."""
    try:
        if alg == RSA_OAEP and isinstance(private_key, rsa.RSAPrivateKey):
            key = private_key.decrypt(wrapped, _oaep())
        elif alg in _SUITES_BY_ALG and isinstance(private_key, ec.EllipticCurvePrivateKey):
            key = _SUITES_BY_ALG[alg].decrypt(wrapped, private_key, info=info)
        else:
            return None
    except Exception:  # any failure is "cannot unwrap"; distinguishable errors would be an oracle
        return None
    return key if len(key) == DATA_KEY_SIZE else None
