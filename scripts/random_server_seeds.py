"""Run many random server clinics (tests/connectors/random_server_clinic.py) through the contractor's flow and
print each seed's outcome: ``PYTHONPATH=src .venv/bin/python scripts/random_server_seeds.py mariadb 1 200``.
Local only (not CI): the fixed seeds that stand guard are in tests/test_random_server_clinics.py."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "connectors"), str(TESTS)]

from random_server_clinic import create_random_server_clinic  # noqa: E402
from test_random_server_clinics import through_the_flow  # noqa: E402

DSN = {"mariadb": "EMR_TEST_MARIADB", "postgresql": "EMR_TEST_POSTGRES"}


def main(engine: str, first: int, last: int) -> int:
    failed = 0
    for seed in range(first, last + 1):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                clinic = create_random_server_clinic(os.environ[DSN[engine]], engine, seed)
            except Exception as exc:  # a generator bug, not a finding
                print(f"{engine} {seed} GENERATOR {type(exc).__name__}: {str(exc)[:300]}", flush=True)
                failed += 1
                continue
            try:
                cells = through_the_flow(clinic, Path(tmp))
                print(f"{engine} {seed} ok {clinic.style} cells={cells} {' '.join(clinic.shapes)}", flush=True)
            except BaseException as exc:
                failed += 1
                print(f"{engine} {seed} FAIL {clinic.style} {' '.join(clinic.shapes)}\n"
                      + "".join(traceback.format_exception(exc))[-2500:], flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])) else 0)
