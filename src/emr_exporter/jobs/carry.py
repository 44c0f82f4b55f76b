"""A sealed bundle carried to another PC (USB stick): what the wizard needs to send it and print its report.

The founder copies ``<bundle>.emrx`` (and, beside it, ``<bundle>.emrx.summary.json``, which the export writes)
to a USB stick, starts the wizard on a PC with internet, chooses "봉인 파일 보내기" and picks the file. The
upload is the same job as on the first PC (:mod:`emr_exporter.jobs.upload`); nothing needs a terminal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from emr_exporter import model
from emr_exporter.errors import ConfigError
from emr_exporter.jobs.service import ExportOutcome, outcome_from_summary

BUNDLE_SUFFIX = ".emrx"


def carried_bundle(path: Path) -> ExportOutcome:
    """The outcome for a ``.emrx`` brought on a USB stick: from its summary when it came along, else from
    the bundle's signed header (enough to send it; the report then needs the summary file)."""
    path = Path(path)
    if path.suffix.lower() != BUNDLE_SUFFIX or not path.is_file():
        raise ConfigError(f"{path.name} is not a sealed file (.emrx). Choose the file the export made.")
    from emr_exporter.reports.transfer import is_demo, summary_path

    if summary_path(path).is_file():
        return outcome_from_summary(path)
    from emr_exporter.upload.bundle_identity import read_bundle_identity

    identity = read_bundle_identity(path)  # checks the header's signature
    from emr_exporter.pipeline.export import Reconciliation

    return ExportOutcome(
        reconciliation=Reconciliation([]), bag_sha256="", bag_bytes=0,
        institution=model.Institution(code=identity.institution_code, name=identity.institution_code),
        connector="demo" if is_demo(None, identity.institution_code) else "", dry_run=False,
        created=dt.datetime.fromisoformat(identity.created.replace("Z", "+00:00")), bundle_path=path,
        bundle_id=identity.bundle_id, bundle_bytes=path.stat().st_size, resumed=True,
        extra={"no_summary": True},
    )


def bundles_on_removable_drives(roots: Iterable[Path]) -> list[Path]:
    """``.emrx`` files at the top of each drive or volume root (where a founder copies them), newest first."""
    found: list[Path] = []
    for root in roots:
        try:
            found.extend(p for p in Path(root).iterdir() if p.suffix.lower() == BUNDLE_SUFFIX and p.is_file())
        except OSError:
            continue
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


__all__ = ["BUNDLE_SUFFIX", "bundles_on_removable_drives", "carried_bundle", "outcome_from_summary"]
