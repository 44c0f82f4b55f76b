"""The ``emr-export`` command line: a thin adapter over the core.

Each command group lives in its own module here and registers itself on :data:`main`. Commands
import heavy modules (cryptography, pyodbc, requests) inside their functions so that
``emr-export --help`` answers fast. Errors are :class:`~emr_exporter.errors.EmrExporterError`;
:func:`run_command` turns them into a one-line message and the error's exit code.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from emr_exporter import __version__
from emr_exporter.errors import DEBUG_ENV, EmrExporterError, unexpected_error_text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="emr-export")
def main() -> None:
    """Export a closing clinic's medical records to the national storage system.

    Start with `emr-export demo` to see the whole pipeline on a synthetic clinic.
    """


def run_command(fn: Callable[[], Any], *, as_json: bool = False) -> Any:
    """Run ``fn``; turn an EmrExporterError into a readable message and its exit code."""
    from emr_exporter.cli.progress import end_line

    try:
        return fn()
    except EmrExporterError as exc:
        end_line()  # an open progress bar line is finished first: progress and errors never share a line
        if as_json:
            click.echo(json.dumps({"error": {"code": exc.code, "message": str(exc)}}, ensure_ascii=False))
        else:  # stopped by the user is no error: said plainly
            click.echo(str(exc) if exc.code == "cancelled" else f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        end_line()
        click.echo("Cancelled. Nothing was lost; run the same command again to continue.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: its text may quote patient data (a driver's or a library's message)
        end_line()
        if os.environ.get(DEBUG_ENV):
            raise
        message = unexpected_error_text(
            exc, f"to see them, run the same command again with {DEBUG_ENV}=1 and do not share the output"
        )
        if as_json:
            click.echo(json.dumps({"error": {"code": "internal", "message": message}}, ensure_ascii=False))
        else:
            click.echo(f"Error: {message}", err=True)
        sys.exit(1)


def warn_password_in_argv(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for options holding an ODBC connection string: a PWD= in it is visible to every user
    of the PC (process list, shell history). It still works, with a warning saying what to do instead."""
    if value and re.search(r"(?i)(^|;)\s*(pwd|password)\s*=", value):
        click.echo(
            f"Warning: {param.opts[0]} contains a password, which other users of this PC can see in the process "
            "list. Leave PWD out and set EMR_EXPORTER_DB_PASSWORD instead (or let the command ask for it).",
            err=True,
        )
    return value


def clinic_database_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that name a clinic database and how to read it (export, readiness)."""
    from pathlib import Path

    options = [
        click.option("--connector", required=True, help="Connector name (see `emr-export connectors`)."),
        click.option("--source", "database", type=click.Path(path_type=Path), help="A SQLite database file."),
        click.option("--odbc", callback=warn_password_in_argv,
                     help="An ODBC connection string (without the password: it comes from "
                          "EMR_EXPORTER_DB_PASSWORD or a prompt)."),
        click.option("--dsn", help="An ODBC data source name."),
        click.option("--attachments-root", type=click.Path(path_type=Path, file_okay=False),
                     help="Folder that attachment file paths in the database are relative to."),
        click.option("--institution-code", help="요양기관기호 (8 digits), if the database does not hold it."),
        click.option("--institution-name", help="The clinic's name, if the database does not hold it."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _register_commands() -> None:
    # Each module adds its commands to `main` when imported.
    from emr_exporter.cli import (
        batch_commands,  # noqa: F401
        bundle_commands,  # noqa: F401
        document_commands,  # noqa: F401
        export_commands,  # noqa: F401
        odbc_commands,  # noqa: F401
        scaffold_commands,  # noqa: F401
        scan_commands,  # noqa: F401
        support_commands,  # noqa: F401
        upload_commands,  # noqa: F401
    )


_register_commands()
