"""The signer check as a job: does this certificate belong to this institution? (CLI, wizard, export).

The export runs the same check (:func:`emr_exporter.jobs.service.run_export`); the wizard calls
:func:`check_certificate` when the founder picks a certificate, before anything is exported.
"""

from __future__ import annotations

from pathlib import Path

from emr_exporter import model
from emr_exporter.bundle.signer_check import (
    CertificateHolder,
    SignerCheck,
    certificate_holder,
    check_signer,
    enforce_signer,
)
from emr_exporter.errors import SignerMismatchError


def check_certificate(
    certificate_path: Path,
    password: str,
    *,
    institution_code: str,
    institution_name: str,
    founder: str | None = None,
    business_number: str | None = None,
) -> SignerCheck:
    """Load the institution's certificate (.p12/.pfx or 공동인증서 folder) and compare it with the institution.

    Raises :class:`~emr_exporter.errors.CertificateError` when the certificate cannot be loaded
    (wrong password, expired…); returns the check (``status`` match / mismatch / unknown) otherwise.
    """
    from emr_exporter.bundle.keys import load_signer

    signer = load_signer(Path(certificate_path), password)
    institution = model.Institution(code=institution_code, name=institution_name, founder=founder)
    return check_signer(signer.certificate, institution, business_number=business_number)


__all__ = [
    "CertificateHolder",
    "SignerCheck",
    "SignerMismatchError",
    "certificate_holder",
    "check_certificate",
    "check_signer",
    "enforce_signer",
]
