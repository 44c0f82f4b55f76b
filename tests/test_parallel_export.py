"""The export's worker processes (pipeline/parallel.py) give the very bag of the one-core export.

Real spawned processes (the start method Windows has), the demo clinic, batches made small and every
entity sent to the workers so that many batches cross, answers come back out of step and the parent
interleaves them with the rows it maps itself. Compared: the bag's SHA-256 and size, the reconciliation,
and what an observer saw (the readiness report built from the records the workers sent back).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.errors import ExportCancelled
from emr_exporter.pipeline import export as export_module
from emr_exporter.pipeline import parallel
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.reports.readiness import ReadinessObserver
from emr_exporter.sources.base import SqliteFileSource

CREATED = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 50)  # every entity but the tiny ones
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 97)  # many batches, not aligned with the 5000-row pages


def _export(database: Path, attachments: Path, workers: int, *, observe: bool = True,
            cancel: threading.Event | None = None) -> dict[str, Any]:
    spec = load_connector("demo")
    source = SqliteFileSource(database)
    try:
        institution = read_institution(spec, source)
        readiness = ReadinessObserver(institution)
        run = ExportRun(spec, source, institution=institution, created=CREATED, attachments_root=attachments,
                        observers=[readiness] if observe else [], workers=workers, page_size=1000, cancel=cancel)
        digest = digest_stream(run.stream())
        return {
            "sha256": digest.sha256, "size": digest.size, "reconciliation": run.reconciliation.to_dict(),
            "readiness": readiness.result().to_dict() if observe else None,
            "quarantined": {e.entity: run.quarantined_keys(e.entity) for e in run.reconciliation.entities},
            "pool_started": run._pool_tried,
        }
    finally:
        source.close()


def test_bag_is_byte_identical_on_one_core_and_on_worker_processes(demo_clinic, small_batches) -> None:
    one = _export(demo_clinic.path, demo_clinic.attachments_root, 1)
    assert not one["pool_started"]
    for workers in (2, 3):
        many = _export(demo_clinic.path, demo_clinic.attachments_root, workers)
        assert many["pool_started"]
        assert many == {**one, "pool_started": True}, f"{workers} workers"
    # Without observers (no readiness report in the bag) the workers send no records back: same bag again.
    lean_one = _export(demo_clinic.path, demo_clinic.attachments_root, 1, observe=False)
    lean = _export(demo_clinic.path, demo_clinic.attachments_root, 2, observe=False)
    assert lean == {**lean_one, "pool_started": True}
    assert lean["sha256"] != one["sha256"]  # (the readiness report is a member of the bag)
    assert one["reconciliation"]["totals"]["quarantined"] > 0  # quarantined rows crossed too
    assert multiprocessing.active_children() == []  # every worker gone at the end


def test_workers_start_from_a_thread_as_the_wizard_runs_its_jobs(demo_clinic, small_batches) -> None:
    """Spawned, not forked: starting them from a non-main thread (the wizard's QThread) is safe."""
    from emr_exporter.gui.qt import QThread

    expected = _export(demo_clinic.path, demo_clinic.attachments_root, 1, observe=False)["sha256"]
    seen: dict[str, Any] = {}

    class Job(QThread):
        def run(self) -> None:
            seen.update(_export(demo_clinic.path, demo_clinic.attachments_root, 2, observe=False))

    job = Job()
    job.start()
    assert job.wait(300_000)
    assert seen["pool_started"] and seen["sha256"] == expected


def test_one_core_when_workers_cannot_start(demo_clinic, small_batches, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    expected = _export(demo_clinic.path, demo_clinic.attachments_root, 1)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(parallel, "WorkerPool", refuse)
    got = _export(demo_clinic.path, demo_clinic.attachments_root, 2)
    assert got == {**expected, "pool_started": True}
    assert "worker processes could not start (OSError); mapping on one core" in caplog.text


def test_cancel_stops_the_workers(demo_clinic, small_batches) -> None:
    cancel = threading.Event()
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                        attachments_root=demo_clinic.attachments_root, workers=2, page_size=1000, cancel=cancel)
        stream = run.stream()
        with pytest.raises(ExportCancelled):
            for _ in stream:
                if run._pool is not None and parallel.multiprocessing.active_children():
                    cancel.set()
        assert run._pool is None
        assert multiprocessing.active_children() == []
    finally:
        source.close()


def test_default_workers_is_every_usable_core_at_most_eight() -> None:
    cores = parallel.available_cores()
    assert parallel.default_workers() == (1 if cores < 2 else min(cores, 8))
