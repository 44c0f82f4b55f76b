"""The wizard's certificate list: 공동인증서 and .p12/.pfx files found in the standard places, and the check
of the chosen one against the institution (the export's own signer check, :mod:`emr_exporter.jobs.signer`)."""

from __future__ import annotations

from emr_exporter.bundle.certificates import FoundCertificate, SearchPlace, find_certificates, standard_places
from emr_exporter.jobs.signer import check_certificate

__all__ = ["FoundCertificate", "SearchPlace", "check_certificate", "find_certificates", "standard_places"]
