"""The fast vital-signs writer (pipeline/fastlines.py): each entity's own CPU-µs a row, before and after.

    .venv/bin/python benchmarks/bench_fastlines.py --before <checkout of the old code> --after <checkout>
        --clinic <demo-clinic.sqlite> [--repeat 3]

Three variants, each export in its own child process (one core, the demo connector, the readiness observer
as the product runs it), alternating: *before* (that checkout's src), *after* (this writer), *after-off*
(the same checkout with ``EMR_EXPORTER_FAST_LINES=0``: the slow path for every row). Each child times
``RowMapping.map_one`` per entity (``time.process_time`` around each call: the row's pure part, timer
included) and the whole export's CPU; prints one JSON line. Results: a JSON file in benchmarks/results/
and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def child(database: Path) -> dict[str, Any]:
    from emr_exporter.connectors import load_connector
    from emr_exporter.pipeline import export
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.reports.readiness import ReadinessObserver
    from emr_exporter.sources.base import SqliteFileSource

    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    original = export.RowMapping.map_one
    clock = time.process_time

    def timed(self: Any, row: Any) -> Any:
        started = clock()
        mapped = original(self, row)
        name = self.entity.name
        seconds[name] = seconds.get(name, 0.0) + clock() - started
        rows[name] = rows.get(name, 0) + 1
        return mapped

    export.RowMapping.map_one = timed  # type: ignore[method-assign]
    spec = load_connector("demo")
    source = SqliteFileSource(database)
    own = resource.getrusage(resource.RUSAGE_SELF)
    institution = read_institution(spec, source)
    run = ExportRun(spec, source, institution=institution, created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                    attachments_root=database.parent / "demo-attachments", observers=[ReadinessObserver(institution)])
    digest = digest_stream(run.stream())
    end = resource.getrusage(resource.RUSAGE_SELF)
    total = run.reconciliation.totals["source_rows"]
    return {"rows": total, "cpu": end.ru_utime + end.ru_stime - own.ru_utime - own.ru_stime,
            "bag_sha256": digest.sha256, "load": os.getloadavg()[0],
            "entities": {name: {"rows": rows[name], "us_a_row": seconds[name] / rows[name] * 1e6,
                                "cpu": seconds[name]} for name in rows}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path)
    parser.add_argument("--after", type=Path)
    parser.add_argument("--clinic", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--name", default="fastlines")
    parser.add_argument("--child", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    if not (args.before and args.after and args.clinic):
        parser.error("--before, --after and --clinic are needed")
    variants = {"before": (args.before, "1"), "after": (args.after, "1"), "after-off": (args.after, "0")}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name, (tree, fast) in variants.items():
            env = dict(os.environ, PYTHONPATH=str(tree / "src"), EMR_EXPORTER_FAST_LINES=fast)
            env.pop("EMR_EXPORTER_FAST_CHECK", None)
            done = subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--child", str(args.clinic)],
                                  capture_output=True, text=True, env=env, check=False)
            if done.returncode:
                raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            last = runs[name][-1]
            print(f"  {name}: {last['cpu']:.2f} CPU-s, vital signs "
                  f"{last['entities'].get('vital_signs', {}).get('us_a_row', 0):.1f} µs a row, load {last['load']:.1f}",
                  flush=True)
    results = HERE / "results" / f"{args.name}-{dt.date.today().isoformat()}.json"
    results.write_text(json.dumps(runs, indent=1))
    entities = sorted(runs["before"][0]["entities"], key=lambda n: -runs["before"][0]["entities"][n]["cpu"])
    print("| | " + " | ".join(variants) + " |")
    print("|---|" + "---|" * len(variants))
    for label, get in [("export CPU-µs a row", lambda r: r["cpu"] / r["rows"] * 1e6)] + [
            (f"{n} µs a row ({runs['before'][0]['entities'][n]['rows']:,} rows)",
             lambda r, n=n: r["entities"][n]["us_a_row"]) for n in entities]:
        cells = []
        for name in variants:
            values = [get(r) for r in runs[name]]
            cells.append(f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("bags:", {name: sorted({r["bag_sha256"][:16] for r in rs}) for name, rs in runs.items()})
    print(f"results: {results}")


if __name__ == "__main__":
    main()
