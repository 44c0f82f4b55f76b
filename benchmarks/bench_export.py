"""Export throughput and memory against a plain ``fetchmany`` read of the same tables (DESIGN §8).

For demo clinics of about 10^4, 10^5, 10^6 (and with ``--include-10m`` 10^7) source rows, measures in a
separate child process each (so ``ru_maxrss`` is that measurement's own peak):

* raw read: every table the demo connector reads, ``SELECT * FROM table`` with ``fetchmany(5000)``,
  through the same driver and connection settings the export uses (stdlib sqlite3 with the source's
  text factory);
* export: the full dry-run export ``digest_stream(ExportRun(...).stream())`` — counting, reading, mapping,
  FHIR, the bag tar stream and its SHA-256.

Targets: export rows/s ≥ 50% of raw rows/s; peak RSS flat (within 50 MB) across sizes and < 300 MB.

Run: ``.venv/bin/python benchmarks/bench_export.py [--work DIR] [--include-10m] [--sizes 4,5,6]``
Demo clinics are cached under ``--work`` (default /var/tmp/emr-bench) and rebuilt only if absent.
Results: a table on stdout and ``benchmarks/results/export-<date>-<sizes>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Demo source rows per patient (measured: about 113); used to pick the patient count for a size.
ROWS_PER_PATIENT = 113
RESULTS_DIR = Path(__file__).resolve().parent / "results"
FETCH_SIZE = 5000
CACHE_VERSION = "2"  # bump when the demo generator changes what it writes (2: unmapped tables/columns)


def _peak_rss_mb() -> float:
    # Linux: ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clinic_for(work: Path, exponent: int) -> Path:
    """The cached demo clinic of about 10^exponent source rows (built if absent or stale)."""
    from emr_exporter.demo.clinic import create_demo_clinic

    patients = max(1, round(10**exponent / ROWS_PER_PATIENT))
    folder = work / f"clinic-1e{exponent}"
    database = folder / "demo-clinic.sqlite"
    stamp = folder / "built.json"
    wanted = {"patients": patients, "cache_version": CACHE_VERSION}
    if database.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return database
    folder.mkdir(parents=True, exist_ok=True)
    print(f"building demo clinic 1e{exponent} ({patients} patients) in {folder} ...", flush=True)
    started = time.perf_counter()
    create_demo_clinic(database, patients=patients, attachments_dir=folder / "demo-attachments")
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    stamp.write_text(json.dumps(wanted))
    return database


def _demo_tables() -> list[str]:
    from emr_exporter.connectors import load_connector

    spec = load_connector("demo", ())
    return sorted({entity.table for entity in spec.entities.values()})


# --- measurements, each run in its own child process ------------------------------------------------


def measure_raw_sqlite(database: Path) -> dict[str, Any]:
    from emr_exporter.sources.base import SqliteFileSource

    source = SqliteFileSource(database)  # same connection settings and text factory as the export
    tables = _demo_tables()
    rows = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for table in tables:
        cursor = source.conn.execute(f"SELECT * FROM {table}")
        while batch := cursor.fetchmany(FETCH_SIZE):
            rows += len(batch)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    source.close()
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed,
            "cpu_seconds": cpu, "rows_per_cpu_s": rows / cpu, "peak_rss_mb": _peak_rss_mb()}


def measure_raw_odbc(connection_string: str) -> dict[str, Any]:
    import pyodbc  # type: ignore[import-not-found]

    from emr_exporter.sources.odbc import OdbcSource

    source = OdbcSource(connection_string)
    tables = _demo_tables()
    rows = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for table in tables:
        cursor = source.conn.cursor()
        cursor.execute(f"SELECT * FROM {table}")
        while batch := cursor.fetchmany(FETCH_SIZE):
            rows += len(batch)
        cursor.close()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    source.close()
    del pyodbc
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed,
            "cpu_seconds": cpu, "rows_per_cpu_s": rows / cpu, "peak_rss_mb": _peak_rss_mb()}


def measure_export(database: Path | None, odbc: str | None = None, attachments: Path | None = None) -> dict[str, Any]:
    from emr_exporter.connectors import load_connector
    from emr_exporter.connectors.spec import load_spec
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.sources.base import open_source

    # --compare-with: the older code reads the older demo connector (its own checkout's folder).
    folder = os.environ.get("EMR_BENCH_CONNECTOR")
    spec = load_spec(Path(folder)) if folder else load_connector("demo", ())
    source = open_source(database=database, odbc=odbc)
    if attachments is None and database is not None:
        attachments = database.parent / "demo-attachments"
    created = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    started, cpu_started = time.perf_counter(), time.process_time()
    institution = read_institution(spec, source)
    run = ExportRun(spec, source, institution=institution, created=created, attachments_root=attachments)
    digest = digest_stream(run.stream())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    source.close()
    totals = run.reconciliation.totals
    with sqlite3.connect(database) if database is not None else _no_db() as conn:
        # Every row of every table in the database: the same yardstick for code that carries the
        # tables no entity reads and code that does not.
        database_rows = sum(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) if conn else 0
    return {
        "database_rows": database_rows,
        "database_rows_per_s": database_rows / elapsed,
        "database_rows_per_cpu_s": database_rows / cpu,
        "rows": totals["source_rows"],
        "exported": totals["exported"],
        "quarantined": totals["quarantined"],
        "balanced": run.reconciliation.balanced,
        "bag_bytes": digest.size,
        "bag_sha256": digest.sha256,
        "seconds": elapsed,
        "rows_per_s": totals["source_rows"] / elapsed,
        "cpu_seconds": cpu,
        "rows_per_cpu_s": totals["source_rows"] / cpu,
        "peak_rss_mb": _peak_rss_mb(),
    }


class _no_db:
    """Stands in for a SQLite connection when the export reads over ODBC (no database row count)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _child(kind: str, *targets: str, checkout: Path | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON result is the last stdout line.

    ``checkout``: run it with another checkout's ``src`` (and its demo connector) instead of this one.
    """
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout / "src")
        env["EMR_BENCH_CONNECTOR"] = str(checkout / "connectors" / "demo")
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, *targets], check=True, capture_output=True, text=True, env=env
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def compare(work: Path, exponents: list[int], before: Path, repeat: int) -> None:
    """Before/after on the same database, interleaved (before, after, before, after, ...): the export
    rate as every row of every table per second, wall and CPU, and peak RSS. The machine is shared, so
    each pair runs back to back and the spread over ``repeat`` pairs is reported."""
    results: list[dict[str, Any]] = []
    for exponent in exponents:
        database = clinic_for(work, exponent)
        attachments = str(database.parent / "demo-attachments")
        for round_no in range(repeat):
            pair = {}
            for label, checkout in (("before", before), ("after", None)):
                pair[label] = _child("export-sqlite", str(database), attachments, checkout=checkout)
            ratio = pair["after"]["database_rows_per_s"] / pair["before"]["database_rows_per_s"]
            ratio_cpu = pair["after"]["database_rows_per_cpu_s"] / pair["before"]["database_rows_per_cpu_s"]
            results.append({"size": f"1e{exponent}", "round": round_no + 1, **pair,
                            "after_vs_before": ratio, "after_vs_before_cpu": ratio_cpu})
            print(
                f"1e{exponent} round {round_no + 1}: database rows {pair['after']['database_rows']}  "
                f"before {pair['before']['database_rows_per_s']:.0f} rows/s "
                f"(CPU {pair['before']['database_rows_per_cpu_s']:.0f}, RSS {pair['before']['peak_rss_mb']:.0f} MB)  "
                f"after {pair['after']['database_rows_per_s']:.0f} rows/s "
                f"(CPU {pair['after']['database_rows_per_cpu_s']:.0f}, RSS {pair['after']['peak_rss_mb']:.0f} MB)  "
                f"after/before {ratio:.1%} wall, {ratio_cpu:.1%} CPU",
                flush=True,
            )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    sizes = "-".join(f"1e{e}" for e in exponents)
    out = RESULTS_DIR / f"export-compare-{dt.date.today().isoformat()}-{sizes}.json"
    out.write_text(json.dumps({"machine": _machine(), "before": str(before), "results": results}, indent=1) + "\n")
    print(f"results written to {out}")


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/emr-bench"))
    parser.add_argument("--include-10m", action="store_true", help="also the 10^7-row clinic (~10 min)")
    parser.add_argument("--sizes", default="4,5,6", help="exponents of the source row counts (default 4,5,6)")
    parser.add_argument(
        "--odbc", action="append", default=[], metavar="CONNECTION_STRING",
        help="also measure a copy of each clinic loaded into this ODBC database (needs emr_exporter.demo.load)",
    )
    parser.add_argument("--compare-with", type=Path, metavar="CHECKOUT",
                        help="measure this other checkout's export against this one's, interleaved, on the same "
                             "clinics (e.g. `git archive <commit> | tar -x -C /tmp/before`)")
    parser.add_argument("--repeat", type=int, default=3, help="before/after pairs per size with --compare-with")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, target, *rest = args.child
        if kind == "raw-sqlite":
            result = measure_raw_sqlite(Path(target))
        elif kind == "export-sqlite":
            result = measure_export(Path(target))
        elif kind == "raw-odbc":
            result = measure_raw_odbc(target)
        elif kind == "export-odbc":
            result = measure_export(None, target, Path(rest[0]))
        else:
            raise SystemExit(f"unknown measurement {kind}")
        print(json.dumps(result))
        return

    exponents = [int(x) for x in args.sizes.split(",") if x]
    if args.include_10m and 7 not in exponents:
        exponents.append(7)
    if args.compare_with is not None:
        compare(args.work, exponents, args.compare_with.resolve(), args.repeat)
        return
    results: list[dict[str, Any]] = []
    for exponent in exponents:
        database = clinic_for(args.work, exponent)
        targets = [("sqlite", "sqlite", str(database))]
        for connection_string in args.odbc:
            from emr_exporter.demo.load import load_demo_into

            load_demo_into(database, connection_string, replace=True)
            driver_name = re.search(r"DRIVER=\{?([^};]*)", connection_string, re.IGNORECASE)
            targets.append(("odbc", driver_name.group(1) if driver_name else "odbc", connection_string))
        attachments = str(database.parent / "demo-attachments")
        for driver, label, target in targets:
            raw = _child(f"raw-{driver}", target)
            export = _child(f"export-{driver}", target, attachments)
            row = {
                "size": f"1e{exponent}",
                "driver": label,
                "source_rows": export["rows"],
                "raw": raw,
                "export": export,
                "export_vs_raw": export["rows_per_s"] / raw["rows_per_s"],
                # The machine is shared: CPU time is the steadier comparison when others are busy.
                "export_vs_raw_cpu": export["rows_per_cpu_s"] / raw["rows_per_cpu_s"],
            }
            results.append(row)
            print(
                f"1e{exponent:<3} {label:<16} rows {export['rows']:>10}  raw {raw['rows_per_s']:>10.0f} rows/s  "
                f"export {export['rows_per_s']:>8.0f} rows/s ({row['export_vs_raw']:.0%}, "
                f"CPU {row['export_vs_raw_cpu']:.0%})  "
                f"{export['seconds']:>7.1f} s  peak RSS {export['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    rss = [r["export"]["peak_rss_mb"] for r in results]
    summary = {
        "throughput_target_met": all(r["export_vs_raw"] >= 0.5 for r in results),
        "rss_spread_mb": max(rss) - min(rss) if rss else 0,
        "rss_max_mb": max(rss) if rss else 0,
    }
    summary["rss_target_met"] = summary["rss_spread_mb"] <= 50 and summary["rss_max_mb"] < 300
    print(json.dumps(summary))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    sizes = "-".join(f"1e{e}" for e in exponents) + ("-odbc" if args.odbc else "")
    out = RESULTS_DIR / f"export-{dt.date.today().isoformat()}-{sizes}.json"
    out.write_text(json.dumps({"machine": _machine(), "results": results, "summary": summary}, indent=1) + "\n")
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
