"""Garbage cycles are freed in the GUI thread, never in a job's worker thread (Qt crashes when a widget
held in a cycle is freed from another thread: CI's segmentation fault inside the demo clinic's job)."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.gui


class _CycleMember:
    """Half of a garbage cycle that records which thread freed it."""

    def __init__(self, freed_in: list[int]) -> None:
        self.freed_in = freed_in
        self.partner: _CycleMember | None = None

    def __del__(self) -> None:
        self.freed_in.append(threading.get_ident())


def _make_cycle(freed_in: list[int]) -> None:
    first, second = _CycleMember(freed_in), _CycleMember(freed_in)
    first.partner, second.partner = second, first


def test_a_job_that_allocates_a_lot_never_collects_in_its_worker_thread(qtbot: Any,
                                                                       collect_in_the_gui_thread: Any) -> None:
    from emr_exporter.gui.workers import JobRunner

    assert not gc.isenabled()  # the fixture switched automatic collection off, as the app does
    freed_in: list[int] = []
    gc.collect()
    _make_cycle(freed_in)  # garbage now, freed only by the cycle collector
    worker_threads: list[int] = []

    def allocate(progress: Any, cancel: threading.Event) -> int:
        worker_threads.append(threading.get_ident())
        # far more container allocations than gen-0's threshold: with automatic collection on, one of
        # these would start a collection here, in the worker thread, and free the cycle above
        # (kept alive until the GUI thread's timer has seen the counters and collected)
        kept = [[index] for index in range(20 * gc.get_threshold()[0])]
        for _ in range(100):
            if len(freed_in) == 2:
                break
            time.sleep(0.05)
        return len(kept)

    runner = JobRunner()
    with qtbot.waitSignal(runner.ended, timeout=10_000):
        runner.start(allocate)
    assert len(freed_in) == 2
    assert set(freed_in) == {threading.main_thread().ident}  # never the worker's
    assert worker_threads and worker_threads[0] != threading.main_thread().ident


def test_stopping_the_collector_frees_everything_and_hands_collection_back(qapp: Any) -> None:
    from emr_exporter.gui.collector import MainThreadCollector

    was_enabled = gc.isenabled()
    collector = MainThreadCollector(qapp)
    collector.start()
    assert not gc.isenabled()  # the fixture switched automatic collection off, as the app does
    freed_in: list[int] = []
    _make_cycle(freed_in)
    collector.stop()
    assert freed_in == [threading.get_ident()] * 2
    assert gc.isenabled() == was_enabled
    collector.deleteLater()
