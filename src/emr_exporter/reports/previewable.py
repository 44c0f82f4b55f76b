"""Which portal documents ``emr-export preview`` draws: the 12 the operating notice names.

A module of its own so that the transfer report can mark them without importing the preview (which
draws with the transfer report's PDF setup).
"""

from __future__ import annotations

#: The 12 documents named in the operating notice (resources/documents/catalogue.toml, status confirmed);
#: reports/preview.py has a renderer for each.
PREVIEW_DOCUMENTS: tuple[str, ...] = (
    "medical-record-copy", "diagnosis-certificate", "injury-certificate", "death-certificate",
    "stillbirth-certificate", "prescription", "receipt", "fee-statement", "residual-disability-certificate",
    "admission-confirmation", "outpatient-confirmation", "treatment-confirmation",
)
