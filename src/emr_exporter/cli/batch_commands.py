"""Command: ``batch PLAN`` - many clinics, N at a time, unattended (docs/batch.md)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import click

from emr_exporter.cli import main, run_command


def _rate_text(row: Any) -> str:
    from emr_exporter.cli.progress import human_bytes

    if row.stage == "upload":
        return f"{human_bytes(row.rate)}/s" if row.rate else ""
    return f"{row.rate:,.0f} rows/s" if row.rate else ""


def _row_text(row: Any) -> str:
    from emr_exporter.cli.progress import human_bytes

    if row.stage == "upload":
        amount = f"{human_bytes(row.bytes_sent)} / {human_bytes(row.bytes_total)}"
    else:
        amount = f"{row.rows:,} / {row.rows_total:,} rows" if row.rows_total else ""
    return f"{row.name[:24]:<24} {row.stage:<8} {amount:<26} {_rate_text(row):<14} {row.result or ''}"


class LiveTable:
    """One line per clinic. On a terminal the table is redrawn in place; otherwise a line is printed when a
    clinic changes stage or ends, and a progress line per running clinic every ``every`` seconds."""

    def __init__(self, stream: TextIO, enabled: bool, every: float = 10.0) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.drawn = 0
        self.every = every
        self.last_plain = 0.0
        self.seen: dict[str, tuple[str, str | None]] = {}
        self.last_draw = 0.0

    def __call__(self, table: dict[str, Any]) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw < 0.2 and all(self.seen.get(n) == (r.stage, r.result) for n, r in table.items()):
                return
            self.last_draw = now
            self.seen = {n: (r.stage, r.result) for n, r in table.items()}
            if self.drawn:
                self.stream.write(f"\x1b[{self.drawn}F")  # back to the table's first line
            for row in table.values():
                self.stream.write(_row_text(row) + "\x1b[K\n")
            self.drawn = len(table)
            self.stream.flush()
            return
        periodic = now - self.last_plain >= self.every
        for name, row in table.items():
            key = (row.stage, row.result)
            if self.seen.get(name) != key or (periodic and row.stage in ("export", "upload") and not row.result):
                self.seen[name] = key
                self.stream.write(_row_text(row).rstrip() + "\n")
        if periodic:
            self.last_plain = now
        self.stream.flush()


def _prompt_password(kind: str, label: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    what = f"certificate {Path(label).name}" if kind == "certificate" else f"the database of {label}"
    return click.prompt(f"Password for {what}", hide_input=True, err=True, default="", show_default=False) or None


@main.command("batch")
@click.argument("plan_path", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--jobs", "-j", "jobs", type=click.IntRange(1, 64), default=None,
              help="Clinics at a time. Default: the plan's concurrency, else the number of cores.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the summary as CSV here. Default: <plan>-summary.csv beside the plan.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (and no live table).")
def batch_command(plan_path: Path, jobs: int | None, csv_path: Path | None, as_json: bool) -> None:
    """Export (and upload) every clinic of a plan (TOML or CSV), N at a time; run again to continue.

    Clinics that finished are not redone; a failed clinic does not stop the others. Passwords come from the
    environment variables the plan names (certificate_password_env, password_env), else
    EMR_EXPORTER_CERT_PASSWORD / EMR_EXPORTER_DB_PASSWORD, else a prompt per certificate; never from the plan.
    Exit code 0: all done; 4: all done but some only stored, unconfirmed; 1: a clinic failed.
    """
    from emr_exporter.jobs.batch import collect_passwords, load_plan, run_batch, summary_lines

    table = LiveTable(sys.stderr, enabled=not as_json)

    def run() -> Any:
        plan = load_plan(plan_path)
        passwords = collect_passwords(plan, _prompt_password)
        if not as_json:
            click.echo(f"{len(plan.clinics)} clinics from {plan_path.name}", err=True)
        return run_batch(plan, passwords, concurrency=jobs, on_update=table)

    outcome = run_command(run, as_json=as_json)
    summary_csv = outcome.write_csv(csv_path or plan_path.with_name(plan_path.stem + "-summary.csv"))
    if as_json:
        click.echo(json.dumps({**outcome.to_dict(), "csv": str(summary_csv)}, ensure_ascii=False, indent=1))
    else:
        click.echo("")
        for line in summary_lines(outcome):
            click.echo(line)
        ok = sum(c.finished_ok for c in outcome.clinics)
        click.echo(f"{ok} of {len(outcome.clinics)} clinics done. Summary: {summary_csv}")
    sys.exit(outcome.exit_code())
