"""The output check's id index alone: CPU seconds and peak RSS of claiming n ids, in memory or spilling.

    .venv/bin/python benchmarks/bench_idindex.py [--ids 1500000,15000000] [--repeat 3] [--work DIR]

Each figure is its own child process (peak RSS = its own), the two modes alternating: ``memory`` holds
every digest in memory (as before the spill: ``id_memory`` above n), ``spill`` the default 2^20 digests
then keyed runs in ``--work``. A child claims n random record ids (two resource types, as the demo's
Observations and Encounters), then asks for every 10th as a reference would (``known``) and claims 1 % of
them again (duplicates, all refused). The ids are made from a seeded generator, the same in both modes.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(n: int, mode: str, work: Path) -> dict[str, float]:
    from emr_exporter.pipeline.check import ResourceCheck

    rng = random.Random(7)
    ids = (f"{rng.getrandbits(128):032x}" for _ in range(n))  # streamed: the ids' own memory stays out
    started = time.process_time()
    with ResourceCheck(id_memory=n + 1 if mode == "memory" else None, work_dir=work) as check:
        for k, resource_id in enumerate(ids):
            assert check.claim(("Observation", "Encounter")[k & 1], resource_id) is not None
        claimed = time.process_time() - started
        rng = random.Random(7)
        refused = 0
        for k in range(n):
            resource_id = f"{rng.getrandbits(128):032x}"
            if k % 10 == 0:
                assert check.known(("Observation", "Encounter")[k & 1], resource_id)
            if k % 100 == 0:
                refused += check.claim(("Observation", "Encounter")[k & 1], resource_id) is None
        assert refused == (n + 99) // 100
        spills = check.id_spill.spills
    return {"cpu": time.process_time() - started, "claim_cpu": claimed, "spills": spills,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", default="1500000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        n, mode, work = args.child
        print(json.dumps(child(int(n), mode, Path(work))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-idindex-", dir="/var/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    for n in (int(x) for x in args.ids.split(",")):
        results: dict[str, list[dict[str, float]]] = {"memory": [], "spill": []}
        for _ in range(args.repeat):
            for mode in ("memory", "spill"):
                out = subprocess.run([sys.executable, __file__, "--child", str(n), mode, str(work)],
                                     check=True, capture_output=True, text=True).stdout
                results[mode].append(json.loads(out))
                print(f"n={n:,} {mode}: {results[mode][-1]}", flush=True)
        for mode, runs in results.items():
            print(f"n={n:,} {mode}: median CPU {statistics.median(r['cpu'] for r in runs):.2f} s "
                  f"(claims {statistics.median(r['claim_cpu'] for r in runs):.2f} s), peak RSS "
                  f"{statistics.median(r['rss_mb'] for r in runs):.0f} MB, spills {runs[0]['spills']}")


if __name__ == "__main__":
    main()
