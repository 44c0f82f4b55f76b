"""Commands: ``readiness`` (which portal documents the data supports), ``preview`` (render one from a
bundle, store side) and ``report`` (the printable transfer report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import clinic_database_options, main, run_command
from emr_exporter.cli.export_commands import TerminalProgress, _run_with_cancel, _source_address
from emr_exporter.jobs.documents import PREVIEW_DOCUMENTS


@main.command()
@clinic_database_options
@click.option("--connectors-dir", "connectors_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Extra folder to search for connectors (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def readiness(connector: str, database: Path | None, odbc: str | None, dsn: str | None,
              attachments_root: Path | None, institution_code: str | None, institution_name: str | None,
              connectors_dirs: tuple[Path, ...], as_json: bool) -> None:
    """Which of the 17 portal documents the clinic's data can produce, and what is missing.

    Reads the database exactly as an export would (nothing is written). Counts only: the chart
    numbers of affected patients are listed inside the sealed bundle (data/report/readiness.json).
    """
    from emr_exporter.jobs.documents import run_readiness
    from emr_exporter.jobs.service import ExportRequest

    progress = TerminalProgress(not as_json)

    def job() -> Any:
        request = ExportRequest(
            connector=connector, source=_source_address(database, odbc, dsn), attachments_root=attachments_root,
            institution_code=institution_code,
            institution_name=institution_name, connectors_dirs=connectors_dirs,
        )
        return _run_with_cancel(lambda cancel: run_readiness(request, progress, cancel))

    result = run_command(job, as_json=as_json)
    progress.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo(result.table())
    click.echo("")
    click.echo("The chart numbers of the affected patients are listed in the bundle: data/report/readiness.json.")


@main.command("report")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True,
              help="Language of the report.")
@click.option("--closing-date", help="The clinic's closing (휴·폐업) date, YYYY-MM-DD (default: what the wizard "
              "or an earlier `report` recorded).")
@click.option("--custodian", help="The records custodian (보관 책임자) named on the report.")
@click.option("--contact", "custodian_contact", help="How to reach the custodian (phone), printed on the report.")
@click.option("--receipt-number", help="The store's receipt number (default: from <bundle>.receipt.json, "
              "which `upload` saves).")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the PDF (default: next to the bundle, <bundle>.report.pdf / .report.en.pdf).")
@click.option("--overwrite", is_flag=True, help="Replace an existing report without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def report_command(bundle: Path, lang: str, closing_date: str | None, custodian: str | None,
                   custodian_contact: str | None, receipt_number: str | None, out_path: Path | None,
                   overwrite: bool, as_json: bool) -> None:
    """Print the transfer report (이관 보고서) of a sealed bundle as PDF, for the health centre.

    Needs <bundle>.summary.json, which the export writes next to the bundle. The report holds counts
    and digests only (patients kept separately are listed by partly hidden chart numbers). An existing
    report is not replaced without asking (or --overwrite).
    """
    from emr_exporter.jobs.report import default_report_path, write_report_for_bundle

    target = out_path or default_report_path(bundle, lang)
    if target.exists() and not overwrite and not as_json and sys.stdin.isatty():
        overwrite = click.confirm(f"{target} already exists. Replace it?", default=False)
        if not overwrite:
            click.echo("Left as it is.")
            return

    def job() -> Path:
        return write_report_for_bundle(
            bundle, lang, out=target, overwrite=overwrite, closing_date=closing_date, custodian=custodian,
            custodian_contact=custodian_contact, receipt_number=receipt_number,
        )

    written = run_command(job, as_json=as_json)
    if as_json:
        click.echo(json.dumps({"report": str(written), "lang": lang}, ensure_ascii=False))
    else:
        click.echo(f"Transfer report: {written}")


@main.command("preview")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The store's private key (PEM or DER), to open a sealed bundle (not for an opened bag folder).")
@click.option("--key-password-env", metavar="VAR",
              help="Name of an environment variable holding the key's password (never the password itself).")
@click.option("--patient", "chart_number", required=True, help="The patient's chart number (환자등록번호).")
@click.option("--document", required=True,
              type=click.Choice(PREVIEW_DOCUMENTS),
              help="Which document to draw (the 12 the operating notice names).")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the PDF.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def preview_command(file: Path, key_path: Path | None, key_password_env: str | None, chart_number: str,
                    document: str, out_path: Path, as_json: bool) -> None:
    """Draw a portal document for one patient from a bundle's FHIR data (store side / audit).

    FILE is a sealed bundle (with --key: it is verified and decrypted in memory only; nothing but the
    PDF is written) or a bag folder opened before with `emr-export open`. The PDF is marked as a
    preview; it shows the RRN masked.
    """

    from emr_exporter.errors import ConfigError
    from emr_exporter.jobs.documents import collect_patient_from_bundle, render_preview

    def job() -> int:
        if file.is_dir():
            bag_dir = file if (file / "data").is_dir() else next(file.glob("*/bag"), file)
            data, count = render_preview(bag_dir, chart_number, document)
        else:
            if key_path is None:
                raise ConfigError("To preview from a sealed bundle, give the store's key with --key.")
            from emr_exporter.cli.bundle_commands import load_store_key_for_cli

            store_key = load_store_key_for_cli(key_path, key_password_env)
            view = collect_patient_from_bundle(file, store_key, chart_number)
            data, count = render_preview(view, chart_number, document)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_bytes(data)
        return count

    count = run_command(job, as_json=as_json)
    if as_json:
        click.echo(json.dumps({"preview": str(out_path), "document": document, "pages": count}))
    else:
        click.echo(f"Preview ({count} page{'s' if count != 1 else ''}): {out_path}")
