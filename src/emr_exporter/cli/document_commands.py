"""Commands: ``readiness`` (which portal documents the data supports), ``preview`` (render one from a
bundle, store side) and ``report`` (the printable transfer report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import main, run_command
from emr_exporter.cli.export_commands import (
    PASSWORD_ENV,
    TerminalProgress,
    _password_from_env_or_prompt,
    _run_with_cancel,
)


@main.command()
@click.option("--connector", required=True, help="Connector name (see `emr-export connectors`).")
@click.option("--source", "database", type=click.Path(path_type=Path), help="A SQLite database file.")
@click.option("--odbc", help="An ODBC connection string (without the password; see `export --help`).")
@click.option("--dsn", help="An ODBC data source name.")
@click.option("--attachments-root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder that attachment file paths in the database are relative to.")
@click.option("--institution-code", help="요양기관기호 (8 digits), if the database does not hold it.")
@click.option("--institution-name", help="The clinic's name, if the database does not hold it.")
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
    from emr_exporter.readiness import run_readiness
    from emr_exporter.service import ExportRequest

    progress = TerminalProgress(not as_json)

    def job() -> Any:
        request = ExportRequest(
            connector=connector, database=database, odbc=odbc, dsn=dsn,
            password=_password_from_env_or_prompt(PASSWORD_ENV, "Database password", bool(odbc or dsn)),
            attachments_root=attachments_root, institution_code=institution_code,
            institution_name=institution_name, connectors_dirs=connectors_dirs,
        )
        return _run_with_cancel(lambda cancel: run_readiness(request, progress, cancel))

    result = run_command(job, as_json=as_json)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo(result.table())
    click.echo("")
    click.echo("The chart numbers of the affected patients are listed in the bundle: data/report/readiness.json.")
