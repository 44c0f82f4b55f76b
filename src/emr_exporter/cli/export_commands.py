"""Commands: ``demo``, ``export``, ``connectors``."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from emr_exporter.cli import clinic_database_options, main, run_command, warn_password_in_argv

if TYPE_CHECKING:
    from emr_exporter.jobs.sources import SourceAddress

PASSWORD_ENV = "EMR_EXPORTER_DB_PASSWORD"
CERT_PASSWORD_ENV = "EMR_EXPORTER_CERT_PASSWORD"


class TerminalProgress:
    """Export/scan/readiness progress: a bar per table with rows/s and time left on a terminal, plain lines
    when stderr is not a terminal, nothing with --json (cli/progress.py)."""

    def __init__(self, enabled: bool, prefix: str = "export") -> None:
        from emr_exporter.cli.progress import RowProgress

        self.rows = RowProgress(enabled, prefix)

    def __call__(self, event: Any) -> None:
        self.rows.event(event)

    def close(self) -> None:
        self.rows.close()


def _print_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo("")
    click.echo("Reconciliation (source rows = exported + quarantined):")
    click.echo(outcome.reconciliation.table())
    click.echo("")
    click.echo(set_aside_summary(outcome))
    click.echo("")
    click.echo(f"Bag stream: {outcome.bag_bytes} bytes, SHA-256 {outcome.bag_sha256}")
    click.echo(str(outcome))


def set_aside_summary(outcome: Any) -> str:
    """What was set aside and why, in the founder's words: Korean under a Korean locale (ko_KR), else English —
    the wording of the wizard's check page (``jobs.report.set_aside_text``)."""
    from emr_exporter.jobs.report import locale_language, set_aside_text

    return set_aside_text(outcome.reconciliation, locale_language())


def _run_with_cancel(job: Any) -> Any:
    """Run a job; Ctrl+C sets the cancel event so the job stops cleanly at the next page."""
    cancel = threading.Event()
    try:
        return job(cancel)
    except KeyboardInterrupt:
        cancel.set()
        raise


def _run_export_with_cancel(job: Any, out_dir: Path | None) -> Any:
    """:func:`_run_with_cancel` for an export: Ctrl+C ends the command saying what is on disk in ``out_dir`` (None:
    a dry run) and what running it again does."""
    from emr_exporter.errors import EXPORT_CANCELLED_MESSAGE, ExportCancelled
    from emr_exporter.jobs.service import after_interruption

    try:
        return _run_with_cancel(job)
    except KeyboardInterrupt:
        raise after_interruption(ExportCancelled(EXPORT_CANCELLED_MESSAGE), out_dir) from None


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo-output"), show_default=True,
              help="Folder for the demo clinic database, the demo keys and the sealed bundle.")
@click.option("--patients", type=click.IntRange(1, 10_000_000), default=200, show_default=True,
              help="Size of the synthetic clinic (used only when the database is created).")
@click.option("--dry-run", is_flag=True, help="Stream and hash the bag in memory; write no bundle.")
@click.option("--load-into", "load_into", metavar="ODBC", callback=warn_password_in_argv,
              help="Instead of exporting: copy the demo clinic into "
              "this ODBC database (MariaDB, PostgreSQL, SQLite); password from EMR_EXPORTER_DB_PASSWORD.")
@click.option("--replace", is_flag=True, help="With --load-into: drop and reload demo tables that exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def demo(out_dir: Path, patients: int, dry_run: bool, load_into: str | None, replace: bool, as_json: bool) -> None:
    """Create the synthetic demo clinic (if absent) and export it end to end."""
    if load_into:
        from emr_exporter.cli.odbc_commands import load_demo_command

        load_demo_command(out_dir, patients, load_into, replace, as_json)
        return
    from emr_exporter.jobs.demo import DEMO_DB_NAME, DEMO_P12_PASSWORD, INSTITUTION_P12, DemoRequest, run_demo

    progress = TerminalProgress(not as_json)

    def job() -> Any:
        if not as_json:
            click.echo(f"Demo clinic: {out_dir / DEMO_DB_NAME} (synthetic data only)", err=True)
        return _run_export_with_cancel(
            lambda cancel: run_demo(DemoRequest(out_dir, patients=patients, dry_run=dry_run), progress, cancel),
            None if dry_run else out_dir,
        )

    outcome = run_command(job, as_json=as_json)
    progress.close()
    _print_outcome(outcome, as_json)
    if not as_json and outcome.bundle_path is not None:
        click.echo(
            f"Demo keys (throwaway, demo only): {outcome.extra.get('demo_keys')} "
            f"({INSTITUTION_P12} password: {DEMO_P12_PASSWORD})"
        )
        click.echo(f"Check it:  emr-export verify {outcome.bundle_path}")
        click.echo(
            f"Open it:   emr-export open {outcome.bundle_path} --key {outcome.extra.get('store_key')} "
            f"--out {out_dir / 'opened'}"
        )


def _password_from_env_or_prompt(env: str, prompt: str, needed: bool) -> str | None:
    value = os.environ.get(env)
    if value is None and needed and sys.stdin.isatty():
        value = click.prompt(prompt, hide_input=True, default="", show_default=False) or None
    return value


def _source_address(database: Path | None, odbc: str | None, dsn: str | None) -> SourceAddress:
    """The clinic database of the command's options; the ODBC password from the environment or a prompt."""
    from emr_exporter.jobs.sources import SourceAddress

    password = _password_from_env_or_prompt(PASSWORD_ENV, "Database password", bool(odbc or dsn))
    return SourceAddress(database=database, odbc=odbc, dsn=dsn, password=password)


@main.command()
@clinic_database_options
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write the sealed bundle into this folder.")
@click.option("--dry-run", is_flag=True, help="Stream and hash the bag in memory; write nothing.")
@click.option("--cert", "signer_path", type=click.Path(path_type=Path, exists=True),
              help="The institution's certificate: a .p12/.pfx file or a 공동인증서 folder "
                   "(signCert.der + signPri.key).")
@click.option("--store-cert", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The national store's encryption certificate (PEM).")
@click.option("--connectors-dir", "connectors_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Extra folder to search for connectors (repeatable).")
@click.option("--part-size", type=click.IntRange(16384), help="Bytes of plaintext per encrypted part.")
@click.option("--business-number", "business_number", metavar="NNN-NN-NNNNN",
              help="The clinic's 사업자등록번호, compared with the one the certificate carries (if any).")
@click.option("--accept-signer-mismatch", is_flag=True,
              help="Seal even if the certificate names another institution; the override is recorded "
                   "in the bundle.")
@click.option("--check-fhir-structure", is_flag=True,
              help="Also check every resource against the FHIR structure models before it is sealed, as "
                   "`open --require-fhir-validation` will (slower; needs: pip install 'emr-exporter[verify]').")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Processes mapping rows beside the export (0 = one per core, at most 8; 1 = none). Used "
                   "only for big exports (see docs/performance.md). The bag is the same either way.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON (includes the bag SHA-256).")
def export(connector: str, database: Path | None, odbc: str | None, dsn: str | None,
           attachments_root: Path | None, institution_code: str | None, institution_name: str | None,
           out_dir: Path | None, dry_run: bool, signer_path: Path | None, store_cert: Path | None,
           connectors_dirs: tuple[Path, ...], part_size: int | None, business_number: str | None,
           accept_signer_mismatch: bool, check_fhir_structure: bool, workers: int,
           as_json: bool) -> None:
    """Export a clinic database through a connector. Close the EMR program first.

    The database password (for --odbc/--dsn) is read from the environment variable
    EMR_EXPORTER_DB_PASSWORD or asked for; it is never taken from the command line. The certificate
    password comes from EMR_EXPORTER_CERT_PASSWORD or a prompt.
    """
    from emr_exporter.errors import ConfigError
    from emr_exporter.jobs.service import ExportRequest, run_export

    progress = TerminalProgress(not as_json)

    def job() -> Any:
        if not dry_run and out_dir is None:
            raise ConfigError("Give --out DIR for the sealed bundle, or --dry-run to try the export first.")
        request = ExportRequest(
            connector=connector, source=_source_address(database, odbc, dsn),
            attachments_root=attachments_root, institution_code=institution_code,
            institution_name=institution_name, out_dir=None if dry_run else out_dir,
            signer_path=signer_path,
            signer_password=None if dry_run else _password_from_env_or_prompt(
                CERT_PASSWORD_ENV, "Certificate password", signer_path is not None),
            recipient_cert=store_cert, connectors_dirs=connectors_dirs, part_size=part_size,
            institution_business_number=business_number, accept_signer_mismatch=accept_signer_mismatch,
            validate_structure=check_fhir_structure, workers=workers or None,
        )
        return _run_export_with_cancel(lambda cancel: run_export(request, progress, cancel), request.out_dir)

    outcome = run_command(job, as_json=as_json)
    progress.close()
    _print_outcome(outcome, as_json)
    if not outcome.reconciliation.balanced:
        sys.exit(3)


@main.command("connectors")
@click.option("--connectors-dir", "connectors_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Extra folder to search for connectors (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def connectors_command(connectors_dirs: tuple[Path, ...], as_json: bool) -> None:
    """List the installed connectors, their versions and where they came from."""
    from emr_exporter.errors import ConnectorSpecError
    from emr_exporter.jobs.authoring import list_connectors

    found = run_command(lambda: list_connectors(connectors_dirs), as_json=as_json)
    rows: list[dict[str, Any]] = []
    for item in found:
        if isinstance(item, ConnectorSpecError):
            rows.append({"name": Path(item.path).parent.name, "error": str(item)})
        else:
            rows.append({"name": item.name, "version": item.version, "product": item.product,
                         "engines": list(item.engines), "origin": item.origin})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        if "error" in row:
            click.echo(f"{row['name']:<12} BROKEN: {row['error']}")
        else:
            click.echo(f"{row['name']:<12} {row['version']:<8} {row['product']}  [{row['origin']}]")
