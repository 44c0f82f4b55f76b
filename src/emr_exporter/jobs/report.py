"""The transfer report (이관 보고서) as a job, for the CLI's ``report`` and the wizard's last page.

What the wizard knew (closing date, records custodian and contact, the receipt number) is kept in
``<bundle>.summary.json``, so a later ``emr-export report`` prints the same facts. An existing report is
never overwritten unless the caller says so (the CLI asks first).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from emr_exporter.errors import ConfigError
from emr_exporter.reports.set_aside import (
    SetAsideLine,
    locale_language,
    set_aside_heading,
    set_aside_lines,
    set_aside_text,
)
from emr_exporter.reports.transfer import (
    TransferReport,
    entity_name,
    load_summary,
    name_section,
    reason_names,
    receipt_number_beside,
    remember_in_summary,
    report_from_outcome,
    section_name,
    write_transfer_report,
)


def reason_name(code: str, lang: str) -> str:
    """The plain name of a quarantine reason code as the transfer report words it (never the raw code)."""
    return reason_names(code, lang)[0]


def default_report_path(bundle: Path, lang: str = "ko") -> Path:
    bundle = Path(bundle)
    return bundle.with_name(bundle.name + (".report.pdf" if lang == "ko" else ".report.en.pdf"))


def _check_date(closing_date: str | None) -> None:
    if closing_date:
        try:
            dt.date.fromisoformat(closing_date)
        except ValueError:
            raise ConfigError("The closing date must be written as YYYY-MM-DD, e.g. 2026-06-30.") from None


def write_report_for_bundle(
    bundle: Path,
    lang: str = "ko",
    *,
    out: Path | None = None,
    overwrite: bool = False,
    closing_date: str | None = None,
    custodian: str | None = None,
    custodian_contact: str | None = None,
    receipt_number: str | None = None,
) -> Path:
    """Print the report of a sealed bundle from its summary (and the receipt saved beside it)."""
    _check_date(closing_date)
    target = Path(out) if out is not None else default_report_path(bundle, lang)
    if target.exists() and not overwrite:
        raise ConfigError(
            f"{target.name} already exists and was left as it is. Give another file with --out, or add "
            "--overwrite to replace it."
        )
    summary = load_summary(bundle)  # checks that the summary belongs to this very file
    known = {"closing_date": closing_date, "custodian": custodian, "custodian_contact": custodian_contact,
             "receipt_number": receipt_number}
    remember_in_summary(bundle, **known)
    for name, value in known.items():
        if value:
            setattr(summary, name, value)
    # The verified receipt saved beside the bundle wins over a number remembered earlier; it is read each
    # time (not remembered), so a receipt for another file never sticks.
    beside = None if receipt_number else receipt_number_beside(bundle, summary)
    if beside:
        summary.receipt_number = beside
    return write_transfer_report(summary, target, lang)


def write_report_for_outcome(outcome: Any, target: Path, lang: str = "ko", **known: str | None) -> Path:
    """The wizard's report of the export it just made; what it knew is remembered beside the bundle."""
    _check_date(known.get("closing_date"))
    if outcome.bundle_path is not None:
        remember_in_summary(Path(outcome.bundle_path), **known)
    return write_transfer_report(outcome, Path(target), lang, **known)


def report_inputs(outcome: Any, **known: str | None) -> TransferReport:
    return report_from_outcome(outcome, **known)


__all__ = [
    "SetAsideLine", "default_report_path", "entity_name", "locale_language", "name_section", "report_inputs",
    "section_name", "set_aside_heading", "set_aside_lines", "set_aside_text", "write_report_for_bundle",
    "write_report_for_outcome",
]
