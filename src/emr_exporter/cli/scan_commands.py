"""``emr-export detect`` and ``emr-export scan``: look at a clinic database before exporting it.

Both read only. ``scan`` prints counts, the visit date range and the rows that will be quarantined with
their reason codes and source keys; it never prints patient data (the wizard shows a masked sample
patient on screen, the command line does not, because its output ends up in logs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import main, run_command, warn_password_in_argv
from emr_exporter.cli.export_commands import TerminalProgress, _source_address

_source_options = [
    click.option("--source", "database", type=click.Path(path_type=Path), help="A SQLite database file."),
    click.option("--odbc", callback=warn_password_in_argv, help="An ODBC connection string (without the password)."),
    click.option("--dsn", help="An ODBC data source name."),
    click.option("--connectors-dir", "connectors_dirs", multiple=True,
                 type=click.Path(path_type=Path, file_okay=False), help="Extra folder to search for connectors."),
    click.option("--json", "as_json", is_flag=True, help="Print as JSON."),
]


def _with_source_options(command: Any) -> Any:
    for option in reversed(_source_options):
        command = option(command)
    return command


@main.command()
@_with_source_options
def detect(database: Path | None, odbc: str | None, dsn: str | None, connectors_dirs: tuple[Path, ...],
           as_json: bool) -> None:
    """Which installed connector matches this database; with no database given, search this PC for one.

    The search looks where each connector says its EMR keeps its database (files, ODBC data source
    names), opens each place read-only without a password, and scores it (fingerprint tables, version).
    """
    if not (database or odbc or dsn):
        _search_this_pc(connectors_dirs, as_json)
        return
    from emr_exporter.jobs.authoring import detect_connectors

    found = run_command(lambda: detect_connectors(_source_address(database, odbc, dsn), connectors_dirs),
                        as_json=as_json)
    rows = [{"connector": d.connector, "product": d.product, "confidence": round(d.confidence, 3),
             "version": d.version, "tables_found": d.tables_found, "tables_expected": d.tables_expected,
             "engine_supported": d.engine_supported} for d in found]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No installed connector recognises this database. See `emr-export connectors`.")
    for row in rows:
        click.echo(f"{row['connector']:<12} {round(row['confidence'] * 100):>3}%  version {row['version'] or '?':<10} "
                   f"{row['tables_found']}/{row['tables_expected']} tables  {row['product']}")


def _search_this_pc(connectors_dirs: tuple[Path, ...], as_json: bool) -> None:
    from emr_exporter.jobs.authoring import search_this_pc

    found = run_command(lambda: search_this_pc(connectors_dirs), as_json=as_json)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No EMR database found where the installed connectors look. Give it with --source, "
                   "--dsn or --odbc.")
        return
    for c in found:
        place = c.where if c.kind == "file" else f"DSN={c.where}"
        click.echo(f"{c.connector:<12} {c.percent:>3}%  {c.status:<15} version {c.version or '?':<10} {place}")
        click.echo(f"{'':<18}{c.reason}")


@main.command()
@click.option("--connector", required=True, help="Connector name (see `emr-export detect`).")
@click.option("--attachments-root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder that attachment file paths in the database are relative to.")
@_with_source_options
def scan(connector: str, attachments_root: Path | None, database: Path | None, odbc: str | None, dsn: str | None,
         connectors_dirs: tuple[Path, ...], as_json: bool) -> None:
    """What an export will find: counts, visit date range, rows that will be quarantined and why."""
    from emr_exporter.cli.export_commands import _run_with_cancel
    from emr_exporter.jobs.authoring import scan_database
    from emr_exporter.jobs.service import carried_whole

    progress = TerminalProgress(not as_json, prefix="scan")  # on stderr; the summary goes to stdout at the end

    def job() -> Any:
        address = _source_address(database, odbc, dsn)
        return _run_with_cancel(lambda cancel: scan_database(
            connector, address, attachments_root, connectors_dirs=connectors_dirs, progress=progress, cancel=cancel))

    report = run_command(job, as_json=as_json)
    progress.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo(f"{'entity':<16}{'source':>10}{'export':>10}{'quarantine':>12}  reasons (example source keys)")
    for e in report.entities:
        reasons = "; ".join(f"{code} {n} ({', '.join(e.example_keys.get(code, []))})"
                            for code, n in sorted(e.reasons.items()))
        click.echo(f"{e.entity:<16}{e.source_rows:>10}{e.will_export:>10}{e.will_quarantine:>12}  {reasons}")
    t = report.totals
    click.echo(f"{'total':<16}{t['source_rows']:>10}{t['will_export']:>10}{t['will_quarantine']:>12}")
    whole = carried_whole(report.reconciliation)  # the carried tables' and sections' rows, listed below
    click.echo(f"{t['source_rows'] + whole['source_rows']} source rows: {t['will_export']} to export, "
               f"{whole['source_rows']} to carry whole, {t['will_quarantine']} to quarantine.")
    for hint in report.hints:
        click.echo(f"Hint: {hint}")
    rec = report.reconciliation
    if rec.get("field_defects"):
        defects = ", ".join(f"{code} {n}" for code, n in rec["field_defects"].items())
        click.echo(f"Fields that will be dropped (row kept, value carried raw): {defects}")
    large_objects = {i["name"] for i in rec.get("inventory", []) if i.get("kind") == "large-objects"}
    joined = {t["name"]: t.get("also_read_by") for t in rec.get("inventory", [])}
    for table in rec.get("tables", []):
        if table["table"] in large_objects:
            click.echo(f"Large objects ({table['table']}: files the database keeps apart from its tables): "
                       f"{table['source_rows']} will be carried raw.")
            continue
        readers = joined.get(table["table"])
        how = f"read only through a join of {', '.join(readers)}" if readers else "no entity reads it"
        click.echo(f"Table {table['table']}: {how}; {table['source_rows']} rows will be carried raw"
                   + (" as well." if readers else "."))
    for carried in rec.get("carried_sections", []):
        click.echo(f"Table {carried['table']}: {carried['source_rows']} rows of [entities.{carried['section']}] "
                   f"will be carried raw whole ({carried['reason']}).")
    for columns in rec.get("unselected_columns", []):
        n = len(columns["columns"])
        click.echo(f"Table {columns['table']}: {n} column{'s' if n != 1 else ''} no section's query selects "
                   f"({', '.join(columns['columns'])}) will be carried raw for its {columns['source_rows']} rows.")
    if rec.get("cells"):
        c = rec["cells"]
        click.echo(f"Cells: {c['source']} = {c['mapped']} mapped + {c['carried_raw']} carried raw + "
                   f"{c['quarantined']} in quarantined rows.")
    if report.first_encounter and report.last_encounter:
        click.echo(f"Visits from {report.first_encounter} to {report.last_encounter}.")
