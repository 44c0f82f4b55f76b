"""Detached CMS (RFC 5652) signatures: sign with ``cryptography``, verify with ``asn1crypto``.

``cryptography`` can build SignedData but cannot verify it, so verification parses the structure with
``asn1crypto`` and checks the signature with ``cryptography``: message digest, content type, the signer's
signature over the DER of the signed attributes, then the certificate (validity at a given time, key
usage) and, when trust anchors are given, the chain up to one of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from emr_exporter.bundle.keys import (
    Signer,
    check_key_usage_allows_signing,
    describe_certificate,
)
from emr_exporter.errors import BundleError, CertificateError

_DIGESTS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()
}


def sign_detached(signer: Signer, data: bytes) -> bytes:
    """DER CMS SignedData over ``data`` (detached), signer and chain certificates embedded.

    RSA keys sign with PKCS#1 v1.5 / SHA-256 (what Korean 공동인증서 verifiers expect), EC keys with ECDSA.
    """
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(
        signer.certificate, signer.private_key, hashes.SHA256()
    )
    for certificate in signer.chain:
        builder = builder.add_certificate(certificate)
    return builder.sign(
        serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    )


@dataclass(frozen=True)
class SignatureInfo:
    """What a verified signature tells: who signed, when they say they signed, chain checked or not."""

    certificate: x509.Certificate
    signing_time: dt.datetime | None
    trusted: bool  # True when the chain was checked against a trust anchor


def verify_detached(
    signature: bytes,
    data: bytes,
    *,
    what: str,
    at: dt.datetime | None = None,
    trust_anchors: list[x509.Certificate] | None = None,
) -> SignatureInfo:
    """Verify a detached CMS signature over ``data``; ``what`` names the signed thing in messages.

    The certificate must be valid at ``at`` (default: the signing time in the signature, else now) and
    allow signing; with ``trust_anchors`` the chain must end at one of them.
    Raises BundleError for a bad signature and CertificateError for a certificate problem.
    """
    try:
        content_info = asn1_cms.ContentInfo.load(signature)
        if content_info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed_data = content_info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise ValueError("expected exactly one signer")
        signer_info = signer_infos[0]
        certificates = [
            x509.load_der_x509_certificate(choice.chosen.dump())
            for choice in (signed_data["certificates"] or [])
            if choice.name == "certificate"
        ]
        sid = signer_info["sid"]
        digest_name = signer_info["digest_algorithm"]["algorithm"].native
        signed_attrs = signer_info["signed_attrs"]
        signature_bytes = signer_info["signature"].native
        signature_algorithm = signer_info["signature_algorithm"]
    except (ValueError, TypeError, KeyError) as exc:
        raise BundleError(f"The {what} signature is damaged or is not a CMS signature ({exc}).") from None

    certificate = _find_signer_certificate(sid, certificates)
    if certificate is None:
        raise BundleError(f"The {what} signature does not contain the signer's certificate.")
    if digest_name not in _DIGESTS:
        raise BundleError(f"The {what} signature uses an unsupported digest ({digest_name}).")
    if not signed_attrs:
        raise BundleError(f"The {what} signature has no signed attributes; it cannot be checked.")

    attrs = {attr["type"].native: attr["values"] for attr in signed_attrs}
    message_digest = attrs.get("message_digest")
    content_type = attrs.get("content_type")
    if message_digest is None or content_type is None or content_type[0].native != "data":
        raise BundleError(f"The {what} signature lacks its content type or message digest.")
    if not hmac.compare_digest(message_digest[0].native, _DIGESTS[digest_name](data).digest()):
        raise BundleError(f"The {what} was changed after it was signed (its digest does not match the signature).")
    signing_time = attrs["signing_time"][0].native if "signing_time" in attrs else None

    # The signature covers the DER of the signed attributes encoded as a SET OF (tag 0x31), not [0].
    signed_der = signed_attrs.dump()
    signed_der = b"\x31" + signed_der[1:]
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if signature_algorithm.signature_algo == "rsassa_pss":
                pss = signature_algorithm["parameters"]
                pss_hash = _HASHES[pss["hash_algorithm"]["algorithm"].native]
                public_key.verify(
                    signature_bytes, signed_der,
                    padding.PSS(padding.MGF1(pss_hash), pss["salt_length"].native), pss_hash,
                )
            else:
                public_key.verify(signature_bytes, signed_der, padding.PKCS1v15(), _HASHES[digest_name])
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature_bytes, signed_der, ec.ECDSA(_HASHES[digest_name]))
        else:
            raise BundleError(f"The {what} signature uses an unsupported key type.")
    except InvalidSignature:
        raise BundleError(f"The {what} signature is not valid: it was changed or forged.") from None
    except (KeyError, ValueError) as exc:
        raise BundleError(f"The {what} signature uses an unsupported algorithm ({exc}).") from None

    when = at or signing_time or dt.datetime.now(dt.UTC)
    check_certificate_valid_at(certificate, when, what=what)
    check_key_usage_allows_signing(certificate)
    trusted = False
    if trust_anchors:
        verify_chain(certificate, certificates, trust_anchors, at=when, what=what)
        trusted = True
    return SignatureInfo(certificate=certificate, signing_time=signing_time, trusted=trusted)


def _find_signer_certificate(sid: asn1_cms.SignerIdentifier, certificates: list[x509.Certificate]) -> (
    x509.Certificate | None
):
    if sid.name == "issuer_and_serial_number":
        issuer_der = sid.chosen["issuer"].dump()
        serial = sid.chosen["serial_number"].native
        for certificate in certificates:
            if certificate.serial_number == serial and certificate.issuer.public_bytes() == issuer_der:
                return certificate
        # Name encodings can differ (PrintableString vs UTF8String): fall back to the serial alone.
        matches = [c for c in certificates if c.serial_number == serial]
        return matches[0] if len(matches) == 1 else None
    key_id = sid.chosen.native
    for certificate in certificates:
        try:
            ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            continue
        if ski == key_id:
            return certificate
    return None


def check_certificate_valid_at(certificate: x509.Certificate, when: dt.datetime, *, what: str) -> None:
    name = describe_certificate(certificate)
    if when < certificate.not_valid_before_utc:
        raise CertificateError(
            f"The certificate that signed the {what} ('{name}') was not yet valid when it signed "
            f"({when:%Y-%m-%d %H:%M} UTC; valid from {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)."
        )
    if when > certificate.not_valid_after_utc:
        raise CertificateError(
            f"The certificate that signed the {what} ('{name}') had expired when it signed "
            f"({when:%Y-%m-%d} UTC; expired {certificate.not_valid_after_utc:%Y-%m-%d} UTC)."
        )


def verify_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    trust_anchors: list[x509.Certificate],
    *,
    at: dt.datetime,
    what: str,
    max_depth: int = 6,
) -> list[x509.Certificate]:
    """Walk issuer links from ``leaf`` to a trust anchor, checking each signature, date and CA flag.

    A small path builder on purpose: Korean NPKI hierarchies do not follow the Web PKI profile that
    cryptography's verifier enforces, and revocation is checked elsewhere (not here).
    """
    anchor_ders = {a.public_bytes(serialization.Encoding.DER) for a in trust_anchors}
    path = [leaf]
    current = leaf
    for _ in range(max_depth):
        if current.public_bytes(serialization.Encoding.DER) in anchor_ders:
            return path
        issuer = _find_issuer(current, trust_anchors) or _find_issuer(current, intermediates)
        if issuer is None:
            raise CertificateError(
                f"The certificate that signed the {what} ('{describe_certificate(leaf)}') does not chain up "
                "to the trusted certification authority. It was not issued by an accepted CA."
            )
        _check_ca(issuer, at, what)
        path.append(issuer)
        current = issuer
    raise CertificateError(f"The certificate chain of the {what} signer is too long.")


def _find_issuer(certificate: x509.Certificate, candidates: list[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != certificate.issuer or candidate == certificate:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _check_ca(issuer: x509.Certificate, at: dt.datetime, what: str) -> None:
    try:
        is_ca = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise CertificateError(
            f"The {what} signer's certificate was issued by '{describe_certificate(issuer)}', which is not a "
            "certification authority."
        )
    check_certificate_valid_at(issuer, at, what=f"{what} (issuing CA)")
