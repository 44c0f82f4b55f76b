"""The output check's id work alone (``ResourceCheck.claim``/``release``/``dangling``) over a real export's stream.

    .venv/bin/python benchmarks/bench_idcheck.py record DB OPS      # one dry export of the demo clinic DB
    .venv/bin/python benchmarks/bench_idcheck.py replay OPS [--check path/to/check.py] [--memory N]
    .venv/bin/python benchmarks/bench_idcheck.py stream OPS         # the reference stream's locality

``record`` runs the demo connector's export of ``DB`` once (dry, readiness observer on, as
``/work/tools/prof/prof.py``) and writes every claim (type, id, refused?), release and checked line's
references (as the line spells them, and the answer) to ``OPS`` (pickle; the demo's ids and references
only, no other content of the lines; delete it after). ``replay`` feeds them, in order, to a fresh
``ResourceCheck`` of ``--check`` (default: this checkout's ``pipeline/check.py``; give an older copy to
compare, in separate processes, alternating) and prints the CPU seconds of the replay alone, per claim +
line, the spills, and any answer that differs from the recorded one (must be 0). The lines replayed hold
only their references (the real lines' other bytes cost the same to both versions: ``findall``).
``stream`` prints the claims by type, the references by target type, how often a reference repeats the
previous one of its type, and the distances between two references to the same target.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import gc
import importlib.util
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _load(path: Path) -> Iterator[tuple[Any, ...]]:
    with path.open("rb") as handle:
        while True:
            try:
                yield from pickle.load(handle)
            except EOFError:
                return


def record(db: Path, out: Path) -> None:
    from emr_exporter.connectors import load_connector
    from emr_exporter.pipeline import check
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.reports.readiness import ReadinessObserver
    from emr_exporter.sources.base import SqliteFileSource

    ops: list[tuple[Any, ...]] = []
    handle = out.open("wb")

    def flush() -> None:
        pickle.dump(ops, handle, protocol=5)
        ops.clear()

    claim, release, dangling = check.ResourceCheck.claim, check.ResourceCheck.release, check.ResourceCheck.dangling

    def claim_spy(self: Any, resource_type: str, resource_id: str) -> int | None:
        digest = claim(self, resource_type, resource_id)
        ops.append((0, resource_type, resource_id, digest is None))
        if len(ops) >= 200_000:
            flush()
        return digest

    def release_spy(self: Any, claimed: Any) -> None:
        claimed = list(claimed)
        ops.append((1, claimed))
        release(self, claimed)

    def dangling_spy(self: Any, resource: Any, line: bytes, paths: Any = None) -> tuple[str, str] | None:
        found = dangling(self, resource, line, paths)
        ops.append((2, tuple(check._LINE_REFERENCE.findall(line)), None if found is None else found[1]))
        return found

    check.ResourceCheck.claim = claim_spy  # type: ignore[method-assign]
    check.ResourceCheck.release = release_spy  # type: ignore[method-assign]
    check.ResourceCheck.dangling = dangling_spy  # type: ignore[method-assign]
    spec = load_connector("demo")
    source = SqliteFileSource(db)
    try:
        institution = read_institution(spec, source)
        run = ExportRun(spec, source, institution=institution, created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                        attachments_root=db.parent / "demo-attachments", observers=[ReadinessObserver(institution)])
        digest = digest_stream(run.stream())
    finally:
        source.close()
    flush()
    handle.close()
    print(f"rows={run.reconciliation.totals['source_rows']} sha={digest.sha256[:16]} "
          f"spills={run.output_check.id_spill.spills} -> {out}")


def replay(ops_path: Path, check_path: Path, memory: int | None) -> None:
    spec = importlib.util.spec_from_file_location("replayed_check", check_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["replayed_check"] = module
    spec.loader.exec_module(module)
    ops: list[tuple[Any, ...]] = []
    for op in _load(ops_path):
        if op[0] == 2:  # a line holding only its references, as canonical JSON spells them
            line = b'{"r":[' + b",".join(b'{"reference":"' + r + b'"}' for r in op[1]) + b"]}"
            ops.append((2, line, op[2]))
        else:
            ops.append(op)
    gc.collect()
    gc.freeze()
    work = Path(tempfile.mkdtemp(prefix="bench-idcheck-"))
    wrong = 0
    try:
        started = time.process_time()
        with module.ResourceCheck(None, id_memory=memory, work_dir=work) as check:
            claim, dangling, release = check.claim, check.dangling, check.release
            for op in ops:
                if op[0] == 0:
                    wrong += (claim(op[1], op[2]) is None) != op[3]
                elif op[0] == 2:
                    found = dangling(None, op[1])
                    wrong += (None if found is None else found[1]) != op[2]
                else:
                    release(op[1])
            cpu = time.process_time() - started
            spills = check.id_spill.spills
    finally:
        shutil.rmtree(work)
    claims = sum(1 for op in ops if op[0] == 0)
    lines = sum(1 for op in ops if op[0] == 2)
    print(f"{check_path}: cpu={cpu:.2f}s claims={claims} lines={lines} us/claim+line={cpu / claims * 1e6:.2f} "
          f"spills={spills} answers-differing={wrong}")


def stream(ops_path: Path) -> None:
    claims: collections.Counter[str] = collections.Counter()
    references: collections.Counter[bytes] = collections.Counter()
    repeats: collections.Counter[tuple[bytes, bool]] = collections.Counter()
    distances: collections.Counter[int] = collections.Counter()
    previous: dict[bytes, bytes] = {}
    last_seen: dict[bytes, int] = {}
    count = 0
    for op in _load(ops_path):
        if op[0] == 0:
            claims[op[1]] += 1
        elif op[0] == 2:
            for reference in op[1]:
                target_type = reference.partition(b"/")[0]
                references[target_type] += 1
                repeats[(target_type, previous.get(target_type) == reference)] += 1
                previous[target_type] = reference
                count += 1
                if reference in last_seen:
                    distances[(count - last_seen[reference]).bit_length()] += 1
                last_seen[reference] = count
    print("claims", dict(claims))
    print("references", {k.decode(): v for k, v in references.items()}, "distinct", len(last_seen))
    print("same as the previous reference of its type", {f"{k.decode()} {same}": v for (k, same), v in repeats.items()})
    total = sum(distances.values())
    seen = 0
    for bits in sorted(distances):
        seen += distances[bits]
        print(f"  again after < 2^{bits} references: {distances[bits]} (cumulative {seen / total:.3f} of repeats)")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("db", type=Path)
    rec.add_argument("ops", type=Path)
    rep = sub.add_parser("replay")
    rep.add_argument("ops", type=Path)
    rep.add_argument("--check", type=Path,
                     default=Path(__file__).resolve().parents[1] / "src/emr_exporter/pipeline/check.py")
    rep.add_argument("--memory", type=int, default=None)
    loc = sub.add_parser("stream")
    loc.add_argument("ops", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.db, args.ops)
    elif args.command == "replay":
        replay(args.ops, args.check, args.memory)
    else:
        stream(args.ops)


if __name__ == "__main__":
    main()
