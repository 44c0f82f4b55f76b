"""The document jobs: ``readiness`` (which of the 17 portal documents the data can produce, and what is
missing) and ``preview`` (draw one patient's document from a bundle's FHIR data, store side / audit)."""

from __future__ import annotations

import threading

from emr_exporter.jobs.service import ExportRequest, ProgressCallback, open_export_source
from emr_exporter.reports.preview import PREVIEW_DOCUMENTS, collect_patient_from_bundle, render_preview
from emr_exporter.reports.readiness import Readiness, readiness_for


def run_readiness(
    request: ExportRequest, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> Readiness:
    """The ``readiness`` job: read the database as an export would (source fields of ``request`` only)."""
    with open_export_source(request, cancel) as (spec, source, institution, attachments_root):
        return readiness_for(
            spec, source, institution=institution, attachments_root=attachments_root, progress=progress, cancel=cancel
        )


__all__ = ["PREVIEW_DOCUMENTS", "Readiness", "collect_patient_from_bundle", "render_preview", "run_readiness"]
