"""``emr-export scaffold``: profile an unknown clinic database and write a starting connector for it.

Reads only. Writes ``DIR/<name>/connector.toml`` (every mapping a commented guess) and ``PROFILE.md``
(tables, counts, column types, shape flags). Neither file holds a stored value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import main, run_command, warn_password_in_argv
from emr_exporter.cli.export_commands import _source_address
from emr_exporter.jobs.authoring import DEFAULT_SAMPLE_ROWS


@main.command()
@click.option("--source", "database", type=click.Path(path_type=Path), help="A SQLite database file.")
@click.option("--odbc", callback=warn_password_in_argv,
              help="An ODBC connection string (without the password; see below).")
@click.option("--dsn", help="An ODBC data source name.")
@click.option("--name", required=True, help="Name of the new connector (lowercase letters, digits, - or _).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write the connector folder <name>/ into (use it as --connectors-dir).")
@click.option("--sample-rows", type=click.IntRange(1, 1_000_000), default=DEFAULT_SAMPLE_ROWS, show_default=True,
              help="Rows read per table to profile value shapes (never the whole table).")
@click.option("--force", is_flag=True, help="Replace an existing connector.toml in that folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def scaffold(database: Path | None, odbc: str | None, dsn: str | None, name: str, out_dir: Path, sample_rows: int,
             force: bool, as_json: bool) -> None:
    """Write a starting connector.toml for a database no connector knows yet.

    Every table, key and field in it is a guess (marked `# GUESS (why)`); PROFILE.md next to it lists the
    tables, row counts, column types and value shapes, without any stored value. The database password
    (for --odbc/--dsn) is read from EMR_EXPORTER_DB_PASSWORD or asked for.
    """
    from emr_exporter.jobs.authoring import write_scaffold

    def job() -> Any:
        return write_scaffold(name, out_dir, _source_address(database, odbc, dsn), sample_rows=sample_rows,
                              overwrite=force)

    outcome = run_command(job, as_json=as_json)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo(f"Profiled {len(outcome.profile.tables)} tables (at most {sample_rows} rows each).")
    for entity, guess in outcome.guesses.items():
        if guess.usable:
            state = f"{guess.table} (key {guess.key}, {len(guess.fields)} fields)"
        elif guess.table:
            state = f"{guess.table}? commented out: " + "; ".join(
                guess.problems + [f"no column for {m}" for m in guess.missing])
        else:
            state = "no table found (commented out)"
        click.echo(f"  {entity:<16} {state}")
    click.echo(f"Connector: {outcome.connector_toml}")
    click.echo(f"Profile:   {outcome.profile_md}")
    click.echo(f"Next: review every GUESS, then `emr-export scan --connector {name} --connectors-dir {out_dir} …`.")


@main.group("connector")
def connector_group() -> None:
    """Commands for people writing connectors."""


@connector_group.command("check")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--source", "database", type=click.Path(path_type=Path), help="A SQLite database file.")
@click.option("--odbc", callback=warn_password_in_argv,
              help="An ODBC connection string (without the password; EMR_EXPORTER_DB_PASSWORD or a prompt).")
@click.option("--dsn", help="An ODBC data source name.")
@click.option("--attachments-root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder the connector's file paths start from.")
@click.option("--institution-code", help="The clinic's 요양기관기호, if the connector's [institution] has none.")
@click.option("--institution-name", help="The clinic's name, if the connector's [institution] has none.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (without the masked sample chart).")
def connector_check(folder: Path, database: Path | None, odbc: str | None, dsn: str | None,
                    attachments_root: Path | None, institution_code: str | None, institution_name: str | None,
                    as_json: bool) -> None:
    """Lint FOLDER/connector.toml, scan the database and dry-run the export: what is left to finish.

    Prints unmapped tables and columns with their counts, orphans per reference, field defects per
    column, FHIR validity and one masked sample chart. Exit code 0 when the connector is finished
    (reconciles, every table read or under [skip], valid FHIR), 4 when not.
    """
    import sys

    from emr_exporter.jobs.authoring import check_connector

    if not (database or odbc or dsn):
        from emr_exporter.errors import ConfigError

        raise click.UsageError(str(ConfigError("Give the database: --source FILE, --odbc or --dsn.")))
    address = _source_address(database, odbc, dsn)
    report = run_command(
        lambda: check_connector(
            folder, address, attachments_root=attachments_root,
            institution={"code": institution_code, "name": institution_name},
        ),
        as_json=as_json,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
    else:
        click.echo(report.text(), nl=False)
    if not report.ok:
        sys.exit(4)
