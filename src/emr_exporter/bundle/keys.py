"""Institution signing keys, store encryption keys, and the demo key set.

The institution signs with its certificate: a PKCS#12 file (``.p12``/``.pfx``) or the Korean
공동인증서 pair ``signCert.der`` + ``signPri.key`` (PKCS#8 encrypted with SEED-CBC, either PBES2 with
``seedCBC`` or KISA's PBES1-style ``seedCBCWithSHA1``). The store is the recipient: its certificate
(public key) wraps the per-bundle data key; its private key opens the bundle.

Every problem is a :class:`CertificateError` whose message says what is wrong and what to do, and never
contains a password or key material.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import SEED
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import pkcs12

from emr_exporter.errors import CertificateError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
RecipientPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
RecipientPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# OIDs of the Korean 공동인증서 private-key encryption (KISA).
OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_SEED_CBC = "1.2.410.200004.1.4"
OID_SEED_CBC_WITH_SHA1 = "1.2.410.200004.1.15"
OID_HMAC_SHA1 = "1.2.840.113549.2.7"
OID_HMAC_SHA256 = "1.2.840.113549.2.9"



def spki_sha256(public_key: RecipientPublicKey) -> str:
    """Hex SHA-256 of the DER SubjectPublicKeyInfo: the key id used in bundle headers."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def cert_sha256(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def describe_certificate(certificate: x509.Certificate) -> str:
    """A human name for a certificate (its subject) for messages and reports."""
    return certificate.subject.rfc4514_string() or f"serial {certificate.serial_number:x}"


@dataclass(frozen=True)
class Signer:
    """The institution's certificate and private key (plus any intermediate CA certificates)."""

    certificate: x509.Certificate
    private_key: SigningKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def cert_sha256(self) -> str:
        return cert_sha256(self.certificate)


@dataclass(frozen=True)
class Recipient:
    """The national store's encryption key, from its certificate (or a bare public key in tests)."""

    public_key: RecipientPublicKey
    certificate: x509.Certificate | None = None

    @property
    def key_id(self) -> str:
        return spki_sha256(self.public_key)

    @property
    def name(self) -> str:
        return describe_certificate(self.certificate) if self.certificate else f"key {self.key_id[:16]}"


# --------------------------------------------------------------------------------------------- checks


def check_signing_certificate(
    certificate: x509.Certificate, private_key: SigningKey | None, *, at: dt.datetime | None = None
) -> None:
    """Refuse a certificate that cannot sign now: dates, key usage, key/cert match."""
    when = at or dt.datetime.now(dt.UTC)
    name = describe_certificate(certificate)
    if when < certificate.not_valid_before_utc:
        raise CertificateError(
            f"The certificate '{name}' is not valid yet (valid from "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC). Check the computer's date and time, "
            "or use the institution's current certificate."
        )
    if when > certificate.not_valid_after_utc:
        raise CertificateError(
            f"The certificate '{name}' expired on {certificate.not_valid_after_utc:%Y-%m-%d} UTC. "
            "Renew the institution's certificate (공동인증서) and try again."
        )
    check_key_usage_allows_signing(certificate)
    if private_key is not None:
        if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise CertificateError(
                f"The private key of '{name}' is of a kind that cannot sign bundles; only RSA and EC keys "
                "are supported."
            )
        if spki_sha256(private_key.public_key()) != spki_sha256(certificate.public_key()):  # type: ignore[arg-type]
            raise CertificateError(
                f"The private key does not belong to the certificate '{name}'. Make sure signCert.der and "
                "signPri.key (or the .p12 file) come from the same certificate."
            )


def check_key_usage_allows_signing(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return  # RFC 5280: no KeyUsage extension means no restriction
    if not (usage.digital_signature or usage.content_commitment):
        raise CertificateError(
            f"The certificate '{describe_certificate(certificate)}' is not a signing certificate "
            "(its key usage allows neither digitalSignature nor nonRepudiation). Use the institution's "
            "signing certificate (signCert.der), not its encryption certificate (kmCert.der)."
        )


# ------------------------------------------------------------------------------------ institution keys


def load_signer(path: Path, password: str, *, key_path: Path | None = None) -> Signer:
    """Load the institution signer from a ``.p12``/``.pfx`` file, an NPKI folder, or signCert.der.

    ``path`` may be a PKCS#12 file, a folder holding ``signCert.der`` and ``signPri.key``, or the
    ``signCert.der`` file itself (then ``key_path`` or the sibling ``signPri.key`` is the key).
    """
    path = Path(path)
    if path.is_dir():
        return load_npki_signer(path / "signCert.der", path / "signPri.key", password)
    if not path.exists():
        raise CertificateError(f"The certificate file '{path}' does not exist. Check the path.")
    if path.suffix.lower() in (".der", ".cer", ".crt", ".pem"):
        key_file = key_path or path.with_name("signPri.key")
        if not key_file.exists():
            raise CertificateError(
                f"'{path}' is a certificate without its private key. Give the institution's .p12/.pfx file, "
                "or a 공동인증서 folder holding signCert.der and signPri.key."
            )
        return load_npki_signer(path, key_file, password)
    return load_pkcs12_signer(path, password)


def load_pkcs12_signer(path: Path, password: str) -> Signer:
    data = Path(path).read_bytes()
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8"))
    except ValueError:
        if _looks_like_pkcs12(data):
            raise CertificateError(
                f"Wrong password for the certificate file '{path}'. Type the certificate password again "
                "(it is case-sensitive)."
            ) from None
        raise CertificateError(
            f"The file '{path}' is not a PKCS#12 certificate file (.p12/.pfx). Export the institution "
            "certificate again, or use the signCert.der/signPri.key pair."
        ) from None
    if certificate is None or key is None:
        raise CertificateError(
            f"The file '{path}' does not contain both a certificate and its private key. Export it again "
            "with the private key included."
        )
    check_signing_certificate(certificate, key)  # type: ignore[arg-type]
    return Signer(certificate=certificate, private_key=key, chain=tuple(extra))  # type: ignore[arg-type]


def _looks_like_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        return pfx["auth_safe"]["content_type"].native is not None  # forces a parse
    except Exception:
        return False


def load_npki_signer(cert_path: Path, key_path: Path, password: str) -> Signer:
    """Load a Korean 공동인증서: ``signCert.der`` + ``signPri.key`` (SEED-CBC encrypted PKCS#8)."""
    for wanted in (cert_path, key_path):
        if not Path(wanted).exists():
            raise CertificateError(
                f"'{wanted}' does not exist. The 공동인증서 folder must contain signCert.der and signPri.key "
                "(usually under NPKI/<CA>/USER/<name>/)."
            )
    cert_bytes = Path(cert_path).read_bytes()
    try:
        certificate = (
            x509.load_pem_x509_certificate(cert_bytes)
            if cert_bytes.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(cert_bytes)
        )
    except ValueError:
        raise CertificateError(f"'{cert_path}' is not a certificate file.") from None
    key = decrypt_npki_private_key(Path(key_path).read_bytes(), password, source=str(key_path))
    check_signing_certificate(certificate, key)
    return Signer(certificate=certificate, private_key=key)


def decrypt_npki_private_key(data: bytes, password: str, *, source: str = "signPri.key") -> SigningKey:
    """Decrypt an NPKI ``signPri.key``: PKCS#8 EncryptedPrivateKeyInfo with SEED-CBC."""
    try:
        info = asn1_keys.EncryptedPrivateKeyInfo.load(data)
        algorithm_oid = info["encryption_algorithm"]["algorithm"].dotted
        params_der = info["encryption_algorithm"]["parameters"].dump()
        encrypted = info["encrypted_data"].native
    except Exception:
        raise CertificateError(f"'{source}' is not an encrypted private key file (PKCS#8).") from None
    secret = password.encode("utf-8")
    if algorithm_oid == OID_SEED_CBC_WITH_SHA1:
        params = _SaltIterations.load(params_der)
        salt, iterations = params["salt"].native, params["iterations"].native
        derived = _pbkdf1_sha1(secret, salt, iterations)
        candidate_ivs = [hashlib.sha1(derived[16:20]).digest()[:16], b"0123456789012345"]
        seed_key = derived[:16]
    elif algorithm_oid == OID_PBES2:
        params = asn1_algos.Pbes2Params.load(params_der)
        kdf, scheme = params["key_derivation_func"], params["encryption_scheme"]
        if kdf["algorithm"].dotted != OID_PBKDF2 or scheme["algorithm"].dotted != OID_SEED_CBC:
            raise CertificateError(f"'{source}' uses a key encryption this program does not support.")
        kdf_params = kdf["parameters"]
        prf_oid = kdf_params["prf"]["algorithm"].dotted if kdf_params["prf"] else OID_HMAC_SHA1
        prf: hashes.HashAlgorithm = hashes.SHA256() if prf_oid == OID_HMAC_SHA256 else hashes.SHA1()
        seed_key = PBKDF2HMAC(
            prf, 16, kdf_params["salt"].native, kdf_params["iteration_count"].native
        ).derive(secret)
        candidate_ivs = [asn1_core.OctetString.load(scheme["parameters"].dump()).native]
    else:
        raise CertificateError(
            f"'{source}' is encrypted with an algorithm this program does not support ({algorithm_oid})."
        )
    for iv in candidate_ivs:
        key = _seed_cbc_decrypt_pkcs8(seed_key, iv, encrypted)
        if key is not None:
            return key
    raise CertificateError(
        f"Wrong password for the 공동인증서 private key '{source}'. Type the certificate password again "
        "(it is case-sensitive)."
    )


class _SaltIterations(asn1_core.Sequence):  # type: ignore[misc]  # asn1crypto has no type information
    _fields = [("salt", asn1_core.OctetString), ("iterations", asn1_core.Integer)]  # noqa: RUF012 (asn1crypto API)


def _pbkdf1_sha1(password: bytes, salt: bytes, iterations: int) -> bytes:
    digest = hashlib.sha1(password + salt).digest()
    for _ in range(iterations - 1):
        digest = hashlib.sha1(digest).digest()
    return digest


def _seed_cbc_decrypt_pkcs8(key: bytes, iv: bytes, encrypted: bytes) -> SigningKey | None:
    """Decrypt and parse; None when the password (key) is wrong (bad padding or not a key)."""
    if len(encrypted) % 16:
        return None
    decryptor = Cipher(SEED(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(encrypted) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        return None
    try:
        key_obj = serialization.load_der_private_key(padded[:-pad], password=None)
    except (ValueError, TypeError):
        return None
    if not isinstance(key_obj, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return None
    return key_obj


def encrypt_npki_private_key(
    key: SigningKey, password: str, *, scheme: str = "pbes2", iterations: int = 2048, salt: bytes | None = None
) -> bytes:
    """Write a ``signPri.key`` the way Korean CAs do (for tests and demos).

    ``scheme`` is ``"pbes2"`` (PBES2, PBKDF2-HMAC-SHA256, seedCBC) or ``"kisa"`` (seedCBCWithSHA1).
    """
    import os

    salt = salt or os.urandom(8)
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pad = 16 - len(plain) % 16
    plain += bytes([pad]) * pad
    secret = password.encode("utf-8")
    if scheme == "kisa":
        derived = _pbkdf1_sha1(secret, salt, iterations)
        seed_key, iv = derived[:16], hashlib.sha1(derived[16:20]).digest()[:16]
        algorithm = asn1_algos.EncryptionAlgorithm(
            {
                "algorithm": OID_SEED_CBC_WITH_SHA1,
                "parameters": _SaltIterations({"salt": salt, "iterations": iterations}),
            }
        )
    elif scheme == "pbes2":
        seed_key = PBKDF2HMAC(hashes.SHA256(), 16, salt, iterations).derive(secret)
        iv = os.urandom(16)
        algorithm = asn1_algos.EncryptionAlgorithm(
            {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {
                        "algorithm": "pbkdf2",
                        "parameters": {
                            "salt": asn1_algos.Pbkdf2Salt(name="specified", value=salt),
                            "iteration_count": iterations,
                            "prf": {"algorithm": "sha256", "parameters": None},
                        },
                    },
                    "encryption_scheme": {"algorithm": OID_SEED_CBC, "parameters": asn1_core.OctetString(iv)},
                },
            }
        )
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    encryptor = Cipher(SEED(seed_key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(plain) + encryptor.finalize()
    dumped: bytes = asn1_keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": algorithm, "encrypted_data": encrypted}
    ).dump()
    return dumped


# --------------------------------------------------------------------------------------- store keys


def load_recipient(path: Path) -> Recipient:
    """The store's encryption certificate (PEM or DER) or bare public key (PEM)."""
    data = Path(path).read_bytes()
    for loader in (x509.load_pem_x509_certificate, x509.load_der_x509_certificate):
        try:
            certificate = loader(data)
        except ValueError:
            continue
        return recipient_from_certificate(certificate)
    try:
        public_key = serialization.load_pem_public_key(data)
    except ValueError:
        raise CertificateError(f"'{path}' is not the store's certificate or public key.") from None
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise CertificateError(f"The store key in '{path}' is neither RSA nor EC; it cannot be used.")
    return Recipient(public_key=public_key)


def recipient_from_certificate(certificate: x509.Certificate) -> Recipient:
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise CertificateError(
            f"The store certificate '{describe_certificate(certificate)}' has a key that is neither RSA nor EC."
        )
    return Recipient(public_key=public_key, certificate=certificate)


def load_store_private_key(path: Path, password: str | None = None) -> RecipientPrivateKey:
    """The store's private key (PEM or DER PKCS#8, optionally encrypted)."""
    data = Path(path).read_bytes()
    secret = password.encode("utf-8") if password else None
    loader = (
        serialization.load_pem_private_key
        if data.lstrip().startswith(b"-----")
        else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=secret)
    except TypeError:
        raise CertificateError(
            f"The store key '{path}' is protected by a password. Give it with --key-password-env."
            if secret is None
            else f"The store key '{path}' is not password-protected; do not give a password."
        ) from None
    except ValueError:
        if b"ENCRYPTED" in data and secret is not None:
            raise CertificateError(f"Wrong password for the store key '{path}'.") from None
        raise CertificateError(f"'{path}' is not a private key file.") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(f"The store key '{path}' is neither RSA nor EC.")
    return key
