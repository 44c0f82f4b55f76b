"""Commands: verify (anyone holding the file) and open (the store, or an auditor with the store key)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import main, run_command
from emr_exporter.errors import ConfigError

_EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def load_store_key_for_cli(key_path: Path, key_password_env: str | None) -> Any:
    """The store's private key; its password from the named environment variable or a hidden prompt."""
    from emr_exporter.jobs.bundles import load_store_private_key, store_key_is_encrypted

    password: str | None = None
    if key_password_env:
        password = os.environ.get(key_password_env)
        if password is None:
            raise ConfigError(f"The environment variable {key_password_env} is not set.")
    elif store_key_is_encrypted(key_path):
        password = click.prompt("Store key password", hide_input=True, err=True)
    return load_store_private_key(key_path, password)


def _print_report(report: Any) -> None:
    click.echo(f"Bundle:       {report.path}")
    click.echo(f"Bundle id:    {report.bundle_id}")
    click.echo(f"Institution:  {report.institution_code} ({report.institution_name})")
    click.echo(f"Created:      {report.created}")
    click.echo(f"Recipient:    {report.recipient_name} (key {report.recipient_key_id[:16]}…)")
    click.echo(f"Size:         {report.size:,} bytes in {report.parts} part(s); {report.plaintext_size:,} bytes inside")
    counts = report.counts or {}
    exported, quarantined = counts.get("exported"), counts.get("quarantined")
    if isinstance(exported, dict) and isinstance(quarantined, dict):
        # The export's signed summary: records per type (no patient data).
        carried = counts.get("carried")
        if isinstance(carried, dict):  # rows carried whole (carried tables and sections): in the total too
            whole = sum(n for n in carried.values() if isinstance(n, int))
            click.echo(f"Records:      {counts.get('source_rows', 0) + whole:,} source rows: "
                       f"{sum(exported.values()):,} exported, {whole:,} carried whole, "
                       f"{sum(quarantined.values()):,} quarantined")
        else:  # an older bundle's summary does not say the rows carried whole: its source rows are the mapped ones
            click.echo(f"Records:      {counts.get('source_rows', 0):,} source rows, "
                       f"{sum(exported.values()):,} exported, {sum(quarantined.values()):,} quarantined")
        for entity in sorted(exported):
            click.echo(f"  {entity:<16}{exported[entity]:>10,} exported{quarantined.get(entity, 0):>8,} quarantined")
        for name, n in sorted(carried.items()) if isinstance(carried, dict) else ():
            click.echo(f"  {name}: {n:,} carried whole")
    else:
        for label, count in sorted(counts.items()):
            click.echo(f"  {label}: {count}")
    if report.trusted:
        click.echo("Signatures:   valid; the institution certificate chains to the trust anchor.")
    else:
        click.echo("Signatures:   valid. The certificate chain was NOT checked: give --trust-anchor CA.pem.")


@main.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust-anchor", "trust_anchors", multiple=True, type=_EXISTING_FILE,
              help="CA certificate (PEM/DER) the institution's certificate must chain to. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_command(bundle: Path, trust_anchors: tuple[Path, ...], as_json: bool) -> None:
    """Check a sealed bundle without the store's key: signatures, parts, completeness."""

    def run() -> None:
        from emr_exporter.cli.progress import StagedProgress
        from emr_exporter.jobs.bundles import load_trust_anchors, verify_bundle

        progress = StagedProgress(bundle.name, mode="off" if as_json else "auto")
        try:
            report = verify_bundle(bundle, load_trust_anchors(trust_anchors), progress=progress)
        finally:
            progress.close()
        if as_json:
            click.echo(json.dumps({"ok": True, **report.to_json()}, ensure_ascii=False))
        else:
            _print_report(report)
            click.echo("Result:       OK, the bundle is complete and unaltered.")

    run_command(run, as_json=as_json)


@main.command("open")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The store's private key (PEM or DER).")
@click.option("--key-password-env", metavar="VAR",
              help="Name of an environment variable holding the key's password (never the password itself). "
                   "Without it, an encrypted key asks for the password.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to extract the bag into (as OUT/<bundle id>/).")
@click.option("--trust-anchor", "trust_anchors", multiple=True, type=_EXISTING_FILE,
              help="CA certificate the institution's certificate must chain to. Repeatable.")
@click.option("--require-fhir-validation", is_flag=True,
              help="Fail unless the FHIR structure can be validated (needs: pip install 'emr-exporter[verify]').")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def open_command(bundle: Path, key_path: Path, key_password_env: str | None, out_dir: Path,
                 trust_anchors: tuple[Path, ...], require_fhir_validation: bool, as_json: bool) -> None:
    """Verify every layer, decrypt and extract a sealed bundle (for the store or an auditor)."""

    def run() -> None:
        from emr_exporter.cli.progress import StagedProgress
        from emr_exporter.jobs.bundles import load_trust_anchors, open_bundle

        store_key = load_store_key_for_cli(key_path, key_password_env)
        progress = StagedProgress(bundle.name, mode="off" if as_json else "auto")
        try:
            report = open_bundle(bundle, store_key, out_dir, load_trust_anchors(trust_anchors),
                                 require_fhir_validation=require_fhir_validation, progress=progress)
        finally:
            progress.close()
        if as_json:
            click.echo(json.dumps({"ok": True, **report.to_json()}, ensure_ascii=False))
            return
        _print_report(report.verify)
        click.echo(f"Bag:          {report.bag_dir} ({report.payload_files} payload files, manifests valid)")
        click.echo(f"Inner signature: valid, by {report.inner_signer}")
        fhir = report.fhir
        total = sum(fhir.counts.values())
        click.echo(f"FHIR output:  {total:,} resources in {fhir.files} file(s); ids unique, "
                   f"{fhir.references_checked:,} references resolved, Bulk Data manifest counts match")
        for resource_type, count in sorted(fhir.counts.items()):
            click.echo(f"  {resource_type}: {count:,}")
        if fhir.structure_validated:
            click.echo("FHIR structure: valid (FHIR R4 structure, every resource).")
        else:
            from emr_exporter.jobs.bundles import FHIR_VALIDATION_HINT

            click.echo("FHIR structure: NOT validated, skipped because fhir.resources is not installed; "
                       f"{FHIR_VALIDATION_HINT}")
        if report.reconciliation is not None:
            click.echo("Reconciliation: data/report/reconciliation.json")
        click.echo("Result:       OK, opened and verified.")

    run_command(run, as_json=as_json)
