"""Command: ``support-bundle OUT.zip`` - what a help desk needs, without patient data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from emr_exporter.cli import main, run_command


@main.command("support-bundle")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--runs", "run_folders", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder with exports, batch output or uploads to describe (repeatable). The wizard's "
                   "output folder is always included.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def support_bundle_command(out: Path, run_folders: tuple[Path, ...], as_json: bool) -> None:
    """Write OUT.zip for the help desk: versions, OS, ODBC driver and DSN names, connectors, the last runs'
    counts and error messages, the wizard's saved settings, timings. No patient data, passwords or keys."""
    from emr_exporter.jobs.support import write_support_bundle

    outcome = run_command(lambda: write_support_bundle(out, run_folders), as_json=as_json)
    if as_json:
        click.echo(json.dumps({"path": str(outcome.path), "members": outcome.members, "runs": outcome.runs},
                              ensure_ascii=False))
    else:
        click.echo(str(outcome))
