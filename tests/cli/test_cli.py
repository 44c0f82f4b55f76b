"""The command line as a contractor uses it: help, JSON output, exit codes, documented commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from emr_exporter.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    runner = CliRunner()
    commands = _commands(main)
    assert {"demo", "export", "connectors", "verify", "open", "upload", "status", "doctor"} <= {n for n, _ in commands}
    for name, command in commands:
        assert command.help, f"`emr-export {name}` has no help text"
        result = runner.invoke(main, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        assert f"emr-export {name}" in readme, f"`emr-export {name}` is not documented in README.md"


def test_no_command_takes_a_password_on_the_command_line() -> None:
    for name, command in _commands(main):
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag:
                continue  # a flag such as --ask-password asks for it; it carries no secret
            for opt in param.opts:
                assert not re.search(r"pass(word)?$|^--pwd$|token$", opt), f"{name} {opt}"


def test_export_needs_out_or_dry_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--connector", "demo", "--source", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2
    assert "Give --out DIR for the sealed bundle, or --dry-run to try the export first." in result.output


def test_unknown_connector_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--connector", "nope", "--source", "x.sqlite", "--dry-run", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["code"] == "connector-not-found"
    assert error["message"].startswith("No connector named 'nope' is installed (installed: ")


def test_missing_database_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--connector", "demo", "--source", str(tmp_path / "missing.sqlite"), "--dry-run"]
    )
    assert result.exit_code == 1
    assert f"The database file {tmp_path / 'missing.sqlite'} does not exist." in result.output


def test_connectors_lists_the_demo_with_its_origin() -> None:
    result = CliRunner().invoke(main, ["connectors", "--json"])
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["demo"]["version"] == "1.0.0"
    assert rows["demo"]["origin"].startswith("entry point emr_exporter_connectors.demo")


def test_demo_dry_run_as_a_user_runs_it(tmp_path: Path, demo_clinic) -> None:
    """The installed console script, in a subprocess, twice: same bag digest both times."""
    script = Path(sys.executable).with_name("emr-export")
    outcomes = []
    for _ in range(2):
        done = subprocess.run(
            [str(script), "demo", "--out", str(tmp_path), "--dry-run", "--json"],
            capture_output=True, text=True, timeout=300, check=True,
        )
        outcomes.append(json.loads(done.stdout))
    first, second = outcomes
    assert first["dry_run"] is True and first["bundle"] is None
    assert first["bag"] == second["bag"]
    assert re.fullmatch(r"[0-9a-f]{64}", first["bag"]["sha256"])
    rec = first["reconciliation"]
    assert rec["balanced"] is True
    assert rec["totals"]["source_rows"] == rec["totals"]["exported"] + rec["totals"]["quarantined"]
    assert rec["totals"]["quarantined"] == len(demo_clinic.planted_defects)
    assert not list(tmp_path.glob("*.emrx")), "a dry run writes no bundle"


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_top_level(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert ("emr-export, version" in result.output) or ("Usage: emr-export" in result.output.replace("main", "emr-export"))


def test_a_password_in_the_connection_string_is_warned_about() -> None:
    result = CliRunner().invoke(main, ["doctor", "--odbc", "DRIVER={Nope};SERVER=127.0.0.1;PWD=hunter2", "--json"])
    assert "Warning: --odbc contains a password, which other users of this PC can see in the process list." in result.output
    assert "hunter2" not in result.output
