"""Command: doctor (installed ODBC drivers and DSNs; does a connection work, and if not, why)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import main, run_command, warn_password_in_argv


@main.command()
@click.option("--odbc", "conn_str", metavar="CONN", callback=warn_password_in_argv,
              help="ODBC connection string to check (no password in it).")
@click.option("--dsn", metavar="NAME", help="ODBC data source name to check.")
@click.option("--ask-password", is_flag=True, help="Prompt for the database password (hidden).")
@click.option("--timeout", default=10, show_default=True, type=click.IntRange(1, 600), help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def doctor(conn_str: str | None, dsn: str | None, ask_password: bool, timeout: int, as_json: bool) -> None:
    """List ODBC drivers and data sources; check a connection with readable hints.

    The password comes from EMR_EXPORTER_DB_PASSWORD or --ask-password; it is never shown.
    """

    def run() -> int:
        from emr_exporter.errors import ConfigError
        from emr_exporter.jobs.sources import resolve_password, run_doctor

        if conn_str and dsn:
            raise ConfigError("Give either --odbc or --dsn, not both.")
        target = conn_str if conn_str else (f"DSN={dsn}" if dsn else None)
        password = resolve_password(target, ask=ask_password) if target else None
        report = run_doctor(target, password, timeout=timeout)
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            _print_report(report)
        return 0 if report.connection is None or report.connection.ok else 1

    code = run_command(run, as_json=as_json)
    if code:
        raise SystemExit(code)


def _print_report(report: object) -> None:
    from emr_exporter.jobs.sources import DoctorReport

    assert isinstance(report, DoctorReport)
    click.echo(f"emr-exporter is {report.python_bits}; ODBC drivers must be {report.python_bits} too.")
    click.echo("Installed ODBC drivers:")
    for name in report.drivers or ["(none)"]:
        click.echo(f"  {name}")
    click.echo("ODBC data sources (DSN):")
    for name, driver in sorted(report.dsns.items()) or [("(none)", "")]:
        click.echo(f"  {name}" + (f"  ({driver})" if driver else ""))
    for note in report.notes:
        click.echo(f"Note: {note}")
    connection = report.connection
    if connection is None:
        return
    click.echo(f"Connection: {connection.connection}")
    if connection.ok:
        click.echo(f"  OK: {connection.dbms_name} {connection.dbms_version}")
        click.echo(f"  driver: {connection.driver_name} {connection.driver_version}; engine: {connection.engine}")
        if connection.read_only_session is not None:
            state = "yes" if connection.read_only_session else "no (use a read-only database account)"
            click.echo(f"  read-only session: {state}")
    else:
        problem = connection.problem or {}
        click.echo(f"  FAILED ({problem.get('kind')}, SQLSTATE {problem.get('sqlstate')})")
        click.echo(f"  {problem.get('hint')}")
        click.echo(f"  driver said: {problem.get('detail')}")


def load_demo_command(out_dir: Path, patients: int, conn_str: str, replace: bool, as_json: bool) -> None:
    """``emr-export demo --load-into CONN`` (the option lives on the demo command)."""

    def run() -> Any:
        from emr_exporter.jobs.sources import load_demo_into, resolve_password

        def progress(table: str, rows: int) -> None:
            if not as_json:
                click.echo(f"  {table}: {rows} rows", err=True)

        return load_demo_into(
            out_dir, conn_str, patients=patients, password=resolve_password(conn_str), replace=replace,
            progress=progress,
        )

    from emr_exporter.jobs.demo import DEMO_ATTACHMENTS

    result = run_command(run, as_json=as_json)
    if as_json:
        click.echo(json.dumps(
            {"engine": result.engine, "target": result.target, "rows": result.rows, "total_rows": result.total_rows},
            ensure_ascii=False,
        ))
    else:
        click.echo(f"Loaded the demo clinic ({result.total_rows} rows) into {result.engine}: {result.target}")
        click.echo("Export it:  emr-export export --connector demo --odbc \"<same connection>\" "
                   f"--attachments-root {Path(out_dir) / DEMO_ATTACHMENTS} --dry-run")
