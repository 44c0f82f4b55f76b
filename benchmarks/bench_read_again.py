"""A visit table's diagnosis-code columns read again by the scaffold's diagnosis sections: the export with the visit's
section leaving those cells to them (a per-row ``EXISTS`` per section, export.READ_AGAIN_PREFIX) against the same
export carrying them with the Encounter too (``_read_again`` answering none, as before). docs/performance.md, "A
visit row's cells once".

A SQLite file of ``--rows`` visits (MAIN_DX_CD + MAIN_DX_NM in each, SUB_DX_CD1 in a third, SUB_DX_CD2 in a seventh)
and 1000 patients, its connector written by ``scaffold``; a dry run on one core, alternated ``--runs`` times each.

Run: ``.venv/bin/python benchmarks/bench_read_again.py --rows 100000 --runs 2``
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.model import Institution
from emr_exporter.pipeline import export as ex
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import SqliteFileSource

KCD = ["J00", "I10", "K29.7", "E11.9", "M54.5"]


def _clinic(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, MAIN_DX_CD TEXT,
                            MAIN_DX_NM TEXT, SUB_DX_CD1 TEXT, SUB_DX_CD2 TEXT, MEMO TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 1001)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (i, 1 + i % 1000, f"2024{1 + i % 12:02d}{1 + i % 28:02d}", KCD[i % 5], f"상병{i % 5}",
         KCD[(i + 2) % 5] if i % 3 == 0 else None, KCD[(i + 1) % 5] if i % 7 == 0 else None, "메모")
        for i in range(1, rows + 1)])
    conn.commit()
    conn.close()


def _export(spec: Any, path: Path, read_again: bool) -> tuple[float, int, dict[str, int]]:
    original = ex.ExportRun._read_again
    if not read_again:
        ex.ExportRun._read_again = lambda self, entity: []  # type: ignore[method-assign]
    source = SqliteFileSource(path)
    try:
        started = time.perf_counter()
        run = ex.ExportRun(spec, source, institution=Institution(code="12345678", name="의원"),
                           created=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), workers=1)
        digest = ex.digest_stream(run.stream())
        return time.perf_counter() - started, digest.size, run.reconciliation.cell_totals
    finally:
        source.close()
        ex.ExportRun._read_again = original  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "visits.sqlite"
        _clinic(path, args.rows)
        spec = load_spec(write_scaffold("bench", Path(folder) / "out", SourceAddress(database=path)).folder)
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.runs):
            for read_again in (False, True):
                seconds, size, cells = _export(spec, path, read_again)
                times[read_again].append(seconds)
                print(f"{'once ' if read_again else 'twice'} {seconds:6.1f} s  bag {size} bytes  cells {cells}")
        for read_again, label in ((False, "carried with the Encounter too"), (True, "left to the sections")):
            print(f"{label}: median {statistics.median(times[read_again]):.1f} s")


if __name__ == "__main__":
    main()
