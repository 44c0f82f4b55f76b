"""Regenerate the sample outputs the docs show, from the real code on synthetic clinics only (never real data).

    .venv/bin/python scripts/doc_samples.py [--only demo|hwanja|openemr ...] [--check]

* ``docs/connectors.md``: ``connector check`` of the demo connector on a fresh demo clinic (the block that starts
  "connector check: demo on"), and steps 1, 2 and 4 of the romanised walkthrough on ``tests/connectors/
  korean_styles.py``'s hwanja clinic: ``scaffold``'s output, the first ``connector check`` (the part from
  "Unmapped columns" to the field defects) and the check of the finished ``HWANJA_CONNECTOR`` (from its
  reconciliation to the field defects).
* ``docs/connectors/openemr.md``: ``connector check`` of the OpenEMR connector on the generated OpenEMR test
  database (``tests/connectors/openemr_data.py`` on OpenEMR's schema, loaded into the MariaDB server of
  ``EMR_TEST_MARIADB``, as ``tests/connectors/test_openemr.py`` does; the server's port is shown as 3306, the
  usual one), and the export's reconciliation table on that database with its documents folder.

Each block is replaced in place between its code fences (trailing blanks of a line left out); ``--check`` only
reports the files whose blocks differ (exit 1).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONNECTORS_MD = ROOT / "docs" / "connectors.md"
OPENEMR_MD = ROOT / "docs" / "connectors" / "openemr.md"
sys.path[:0] = [str(ROOT / "tests" / "connectors"), str(ROOT / "tests")]


def cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """The command's output as a contractor sees it (exit 0 or 4: finished or not)."""
    from click.testing import CliRunner

    from emr_exporter.cli import main

    here = Path.cwd()
    os.chdir(cwd)  # relative paths in what the command prints, as in the docs
    try:
        result = CliRunner().invoke(main, args, env={"COLUMNS": "200", **(env or {})})
    finally:
        os.chdir(here)
    if result.exit_code not in (0, 4) or "Traceback" in result.output:
        raise SystemExit(f"emr-export {' '.join(args[:2])} failed ({result.exit_code}):\n{result.output[-3000:]}")
    return result.output


def demo_check(work: Path) -> str:
    from emr_exporter.demo.clinic import create_demo_clinic

    create_demo_clinic(work / "demo-clinic.sqlite")
    return cli(["connector", "check", str(ROOT / "connectors" / "demo"), "--source", "demo-clinic.sqlite"], work)


def hwanja_walkthrough(work: Path) -> tuple[str, str, str]:
    """The romanised walkthrough as a contractor runs it: step 1's scaffold output, step 2's first check (the part
    from the unmapped columns to the field defects) and step 4's check of the finished connector.toml
    (``HWANJA_CONNECTOR``: its reconciliation, orphans and field defects)."""
    from korean_styles import HWANJA_CONNECTOR, create_hwanja_clinic

    create_hwanja_clinic(work / "hwanja.sqlite")
    scaffolded = cli(["scaffold", "--source", "hwanja.sqlite", "--name", "hwanja", "--out", "my-connectors"], work)
    first = cli(["connector", "check", "my-connectors/hwanja", "--source", "hwanja.sqlite"], work)
    (work / "my-connectors" / "hwanja" / "connector.toml").write_text(HWANJA_CONNECTOR, encoding="utf-8")
    finished = cli(["connector", "check", "my-connectors/hwanja", "--source", "hwanja.sqlite"], work)
    if "Result: finished" not in finished:
        raise SystemExit(f"the finished hwanja connector is not finished:\n{finished[-3000:]}")

    def part(out: str, start: str) -> str:
        begin = out.index(start)
        return out[begin:out.index("\nFHIR:", begin)].rstrip("\n") + "\n\n"

    return scaffolded, part(first, "Unmapped columns of read tables"), part(finished, "Reconciliation (source rows")


def openemr_database(work: Path) -> tuple[str, str, Path]:
    """OpenEMR's schema and example patients loaded, then the generated patients (what the test loads)."""
    import pyodbc
    from test_openemr import DATABASE, EXAMPLE_PATIENTS_SQL, SCHEMA_SQL, _mariadb, _with_database

    from emr_exporter.sources.drivers import apply_connection_settings, caps_for, get_option

    server = os.environ.get("EMR_TEST_MARIADB")
    if not server:
        raise SystemExit("EMR_TEST_MARIADB is not set: the OpenEMR samples need a MariaDB server")
    if not SCHEMA_SQL.is_file():
        raise SystemExit(f"OpenEMR schema fixture missing: {SCHEMA_SQL}")
    from openemr_data import populate

    _mariadb(server, "-e", f"DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
    for sql in (SCHEMA_SQL, EXAMPLE_PATIENTS_SQL):
        with sql.open("rb") as statements:
            _mariadb(server, DATABASE, stdin=statements)
    documents = work / "sites" / "default" / "documents"
    conn_str = _with_database(server, DATABASE)
    password = get_option(server, "PWD") or ""
    conn = pyodbc.connect(f"{conn_str};PWD={password}", autocommit=False)
    apply_connection_settings(conn, caps_for("mariadb"))
    try:
        populate(conn, documents)
    finally:
        conn.close()
    return conn_str, password, documents


def openemr_samples(work: Path) -> tuple[str, str]:
    """(connector check's output, the export's reconciliation table with the documents folder)."""
    from emr_exporter.sources.drivers import get_option

    conn_str, password, documents = openemr_database(work)
    env = {"EMR_EXPORTER_DB_PASSWORD": password}
    check = cli(["connector", "check", str(ROOT / "connectors" / "openemr"), "--odbc", conn_str,
                 "--institution-code", "12345678"], work, env)
    port = get_option(conn_str, "PORT")
    if port:
        check = check.replace(f"PORT={port};", "PORT=3306;")
    dry = cli(["export", "--connector", "openemr", "--odbc", conn_str, "--attachments-root", str(documents),
               "--institution-code", "12345678", "--dry-run"], work, env)
    start = dry.index("entity ")
    end = dry.index("\ntotal ", start)
    return check, dry[start:dry.index("\n", end + 1) + 1]


def replace_block(text: str, first_line: str, new: str, where: Path) -> str:
    """The fenced block (```) whose content starts with ``first_line``, its content replaced by ``new``."""
    pattern = re.compile(r"(```\n)(" + re.escape(first_line) + r".*?)(```)", re.S)
    found = list(pattern.finditer(text))
    if len(found) != 1:
        raise SystemExit(f"{where}: {len(found)} blocks start with {first_line!r} (expected one)")
    match = found[0]
    new = "".join(line.rstrip() + "\n" for line in new.splitlines())  # (no trailing blanks in the docs)
    return text[:match.start(2)] + new + text[match.end(2):]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["demo", "hwanja", "openemr"], help="default: all")
    parser.add_argument("--check", action="store_true", help="report the blocks that differ, change nothing")
    args = parser.parse_args()
    wanted = args.only or ["demo", "hwanja", "openemr"]
    changes: list[tuple[Path, str, str]] = []  # (file, first line of the block, new content)
    jobs: dict[str, Callable[[Path], None]] = {
        "demo": lambda w: changes.append((CONNECTORS_MD, "connector check: demo on", demo_check(w))),
        "hwanja": lambda w: changes.extend(
            (CONNECTORS_MD, first, new) for first, new in zip(
                ("Profiled ", "Unmapped columns of read tables", "Reconciliation (source rows"),
                hwanja_walkthrough(w), strict=True)),
        "openemr": lambda w: changes.extend(
            (OPENEMR_MD, first, new) for first, new in zip(
                ("connector check: openemr on", "entity "), openemr_samples(w), strict=True)),
    }
    for name in wanted:
        with tempfile.TemporaryDirectory(prefix=f"emr-doc-{name}-") as work:
            jobs[name](Path(work))
    differ = 0
    for path in sorted({c[0] for c in changes}):
        before = path.read_text(encoding="utf-8")
        after = before
        for where, first, new in changes:
            if where == path:
                after = replace_block(after, first, new, path)
        if after != before:
            differ += 1
            print(f"{path.relative_to(ROOT)}: {'differs' if args.check else 'updated'}")
            if not args.check:
                path.write_text(after, encoding="utf-8")
        else:
            print(f"{path.relative_to(ROOT)}: as the code prints it")
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
