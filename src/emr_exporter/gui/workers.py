"""Running core jobs off the GUI thread.

A :class:`JobRunner` lives in the GUI thread. :meth:`JobRunner.start` moves a :class:`_Job` (which calls
one core function) into a fresh QThread. The job's signals arrive in the runner's slots through queued
connections and are re-emitted there, so pages and tests only ever see signals emitted in the GUI thread
(desktop.md §1.3: pytest-qt must wait on those).

Rules kept here (desktop.md §1.3): no ``deleteLater`` on the Python-owned job (Python frees it once the
thread has finished); a running QThread is never destroyed — :meth:`JobRunner.stop` cancels and waits a few
seconds, and a job still running then (a database driver that cannot be interrupted) is kept in
:data:`_LEFT_RUNNING` until the process ends (gui/app.py then ends it with ``os._exit``).
Cycles are collected in the GUI thread only (gui/collector.py): a collection started by a job's
allocations in its worker thread would free widgets from the wrong thread and crash Qt.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from typing import Any

from emr_exporter.errors import DEBUG_ENV, EmrExporterError, InternalError
from emr_exporter.gui.qt import QObject, Qt, QThread, Signal, Slot

#: Seconds :meth:`JobRunner.stop` waits for a job's thread (Back, closing the window). A job waiting for a stalled
#: database stops within sources/waiting.py's CANCEL_GRACE (2 s): this is a bound, never a freeze.
STOP_WAIT_SECONDS = 4.0

#: (thread, job) of jobs that did not stop in time: referenced for ever, so that neither is destroyed while running.
_LEFT_RUNNING: list[tuple[QThread, QObject]] = []


def jobs_left_running() -> int:
    """How many jobs :meth:`JobRunner.stop` had to leave running (their threads blocked in a driver)."""
    return sum(1 for thread, _job in _LEFT_RUNNING if thread.isRunning())


#: A job: called in the worker thread with (report progress, cancel event); returns the result.
JobFunction = Callable[[Callable[[Any], None], threading.Event], Any]


class _Job(QObject):
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception

    def __init__(self, function: JobFunction, cancel: threading.Event) -> None:
        super().__init__()
        self._function = function
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            outcome = self._function(self.progressed.emit, self._cancel)
        except EmrExporterError as exc:
            self.failed.emit(exc)
        except Exception as exc:  # a bug: show where it happened, never its text (it may quote patient data)
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            self.failed.emit(InternalError.from_exception(exc, "to see them, start the program again with "
                                                                f"{DEBUG_ENV}=1 from a terminal"))
        else:
            self.succeeded.emit(outcome)


class JobRunner(QObject):
    """Runs one job at a time in its own QThread; re-emits its signals in the GUI thread."""

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    ended = Signal()  # after succeeded/failed, once the thread has stopped

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker_thread: QThread | None = None
        self._job: _Job | None = None
        self._cancel = threading.Event()
        self._active = False

    @property
    def running(self) -> bool:
        """True from start() until the job's outcome (succeeded/failed) has been delivered here."""
        return self._active

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def start(self, function: JobFunction) -> None:
        if self._active:
            raise RuntimeError("a job is already running")
        if self._worker_thread is not None:
            self._worker_thread.quit()
            self._worker_thread.wait()  # the previous job has reported; its thread is only quitting
        self._cancel = threading.Event()
        job = _Job(function, self._cancel)
        worker_thread = QThread(self)
        job.moveToThread(worker_thread)
        worker_thread.started.connect(job.run)
        job.progressed.connect(self._on_progress)
        job.succeeded.connect(self._on_success)
        job.failed.connect(self._on_failure)
        # Direct: quit() is thread-safe, and a queued quit would wait for the GUI thread, which may itself
        # be waiting for this thread in start()/stop().
        job.succeeded.connect(worker_thread.quit, Qt.ConnectionType.DirectConnection)
        job.failed.connect(worker_thread.quit, Qt.ConnectionType.DirectConnection)
        worker_thread.finished.connect(self._on_thread_finished)
        self._job, self._worker_thread = job, worker_thread
        self._active = True
        worker_thread.start()

    def request_cancel(self) -> None:
        self._cancel.set()

    def stop(self, wait_seconds: float = STOP_WAIT_SECONDS) -> bool:
        """Cancel and wait until the thread has ended (when the window closes: nothing half-done is left);
        True when it has.

        Core jobs check the cancel event between pages of rows / parts / upload blocks, and a query waiting for
        the database is cancelled at once (sources/waiting.py), so this is short. Waits at most ``wait_seconds``:
        a job still running then is left to end in the background (never destroyed while running: that aborts
        the process), and this runner is free for a new job.
        """
        self._cancel.set()
        thread = self._worker_thread
        if thread is None:
            return True
        thread.quit()
        if thread.wait(max(1, int(wait_seconds * 1000))):
            return True
        assert self._job is not None
        _LEFT_RUNNING.append((thread, self._job))
        # its outcome, when it comes, belongs to no page any more (its own quit() connections stay)
        self._job.progressed.disconnect(self._on_progress)
        self._job.succeeded.disconnect(self._on_success)
        self._job.failed.disconnect(self._on_failure)
        thread.finished.disconnect(self._on_thread_finished)
        thread.setParent(None)
        self._worker_thread, self._job = None, None
        self._active = False
        self.ended.emit()
        return False

    @Slot(object)
    def _on_progress(self, event: Any) -> None:
        self.progressed.emit(event)

    @Slot(object)
    def _on_success(self, outcome: Any) -> None:
        self._active = False
        self.succeeded.emit(outcome)

    @Slot(object)
    def _on_failure(self, error: Any) -> None:
        self._active = False
        self.failed.emit(error)

    @Slot()
    def _on_thread_finished(self) -> None:
        self.ended.emit()
