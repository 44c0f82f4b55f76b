"""Waiting for a database driver without waiting for ever: cancel from another thread, and a stalled server.

A driver call (``execute``, ``fetchmany``) blocks its thread until the server answers; a hung server, a half-dead
VPN, or a table locked by the still-running EMR can keep it there for ten minutes (MariaDB's READ_TIMEOUT) or for
ever (psqlODBC has no read timeout). So each call runs in a helper thread while the caller's thread waits in short
steps (``poll``), and it stops waiting when:

- the cancel event is set (Stop, Back, closing the window, Ctrl-C): the query is cancelled (``SQLCancel``: MariaDB
  Connector/ODBC sends ``KILL QUERY`` over a second connection, psqlODBC a cancel request) and, if the driver has
  not returned within ``grace`` seconds (a network that stalls: the driver waits for bytes that do not come), the
  connection is given up and left to its driver in the background; the caller gets ``ExportCancelled`` at once;
- the call has had no answer for ``stall_after`` seconds and the server, asked over a second connection
  (:attr:`~emr_exporter.sources.drivers.DriverCaps.session_state_sql`), says the query waits for a lock, has
  already sent its answer, no longer exists, or the server does not answer that question either: the caller gets
  :class:`~emr_exporter.errors.SourceStalled` saying which. A query the server is still working on (a big sort
  before its first row) is left alone and asked about again ``stall_after`` seconds later.

docs/databases.md, "A server that stops answering", says why the bound is what it is.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from emr_exporter.errors import EXPORT_CANCELLED_MESSAGE, EmrExporterError, ExportCancelled, SourceStalled

T = TypeVar("T")

STALL_ENV = "EMR_EXPORTER_STALL_SECONDS"
#: Seconds one driver call may go without an answer before the server is asked what the query does. Two minutes:
#: far longer than any keyset page of a healthy server (milliseconds to seconds), short enough that a founder
#: looking at a still progress bar is told what is wrong. A big sort is not stopped by it: the server says it is
#: working and the wait goes on.
STALL_SECONDS = 120.0
#: Seconds the question over a second connection (connecting included) may take before the server is taken for
#: one that does not answer at all.
PROBE_SECONDS = 20
#: Seconds a cancelled driver call is given to return before its connection is given up.
CANCEL_GRACE = 2.0
POLL_SECONDS = 0.2


def stall_seconds() -> float:
    """:data:`STALL_SECONDS`, or the number of seconds in ``EMR_EXPORTER_STALL_SECONDS`` (a slow server PC)."""
    value = os.environ.get(STALL_ENV, "").strip()
    if not value:
        return STALL_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        from emr_exporter.errors import ConfigError

        raise ConfigError(f"{STALL_ENV} must be a number of seconds, not {value!r}.") from None
    if seconds <= 0:
        from emr_exporter.errors import ConfigError

        raise ConfigError(f"{STALL_ENV} must be a number of seconds above 0, not {value!r}.")
    return seconds


# What the server says about the waiting query's session (see classify_session).
RUNNING, LOCKED, ANSWER_STUCK, GONE, NO_ANSWER = "running", "locked", "answer-stuck", "gone", "no-answer"


def classify_session(row: tuple[Any, ...] | None) -> str:
    """What a waiting session does, from its :attr:`DriverCaps.session_state_sql` row: (MariaDB COMMAND, STATE) or
    (PostgreSQL state, wait_event_type)."""
    if row is None:
        return GONE
    what, waits = (str(v or "").lower() for v in row[:2])
    if "lock" in waits:  # MariaDB 'Waiting for table metadata lock'; PostgreSQL wait_event_type 'Lock'
        return LOCKED
    if what in ("sleep", "idle", "idle in transaction", "idle in transaction (aborted)"):
        return ANSWER_STUCK  # the server has nothing left to do for us: its answer is stuck on the way
    if waits in ("client",) or "writing to net" in waits or "sending to client" in waits:
        return ANSWER_STUCK  # the server waits for us to take the answer
    return RUNNING


def _duration(seconds: float) -> str:
    return f"{round(seconds)} s" if seconds < 120 else f"{round(seconds / 60)} min"


def stall_error(verdict: str, waited: float) -> SourceStalled:
    """What the founder reads when a query was stopped after ``waited`` seconds (names no table, no value)."""
    took = _duration(waited)
    if verdict == LOCKED:
        return SourceStalled(
            f"The clinic database server has been waiting for {took} for a table that another program has "
            "locked (often the EMR program itself, still open on some PC). Close the EMR program on every PC, then "
            "run the export again. Nothing was lost.", reason=verdict)
    if verdict in (ANSWER_STUCK, GONE):
        return SourceStalled(
            f"The clinic database server's answer has not arrived for {took}: the network to the server "
            "(cable, Wi-Fi, VPN) is stalling. Check the network to the EMR server PC, then run the export again. "
            "Nothing was lost.", reason=verdict)
    return SourceStalled(
        f"The clinic database server stopped answering: no answer for {took}, and it did not answer a "
        "second connection either. Check that the EMR server PC is on and its database service is running, and "
        "the network to it; then run the export again. Nothing was lost.", reason=verdict)


def _in_thread(function: Callable[[], Any], name: str) -> tuple[threading.Event, list[Any]]:
    """Run ``function`` in a daemon thread (one that may be left behind, blocked in a driver); (done, [ok, value])."""
    done = threading.Event()
    box: list[Any] = []

    def run() -> None:
        try:
            box[:] = [True, function()]
        except BaseException as exc:  # handed to the waiting thread, which raises it
            box[:] = [False, exc]
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    return done, box


def wait_interruptibly(function: Callable[[], T], name: str = "emr-exporter-db-connect", *,
                       cancel: threading.Event | None = None, limit: float | None = None,
                       discard: Callable[[T], None] | None = None, poll: float = POLL_SECONDS) -> T:
    """``function()`` (a blocking driver call outside any query: connecting) in a helper thread, waited for in
    short steps, and given up when ``cancel`` is set (Stop, Back, closing the window: :class:`ExportCancelled`),
    after ``limit`` seconds (a driver that does not keep its own login timeout: :class:`TimeoutError`), or on Ctrl-C
    in the main thread (a KeyboardInterrupt is raised only between Python steps, never inside a driver call).

    A call given up is left to its driver in its own thread; what it returns after all (a connection made late) is
    handed to ``discard`` (closing it) in that same thread, once the driver has returned: never from this thread
    while the driver may still use the handle (the use-after-free of :meth:`Waiter._stop`)."""
    done = threading.Event()
    lock = threading.Lock()
    box: list[Any] = []
    given_up = [False]

    def run() -> None:
        try:
            value = function()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            with lock:
                box[:] = [False, exc]
                done.set()
            return
        with lock:
            late = given_up[0]
            box[:] = [True, value]
            done.set()
        if late and discard is not None:
            with contextlib.suppress(Exception):
                discard(value)

    threading.Thread(target=run, name=name, daemon=True).start()
    deadline = None if limit is None else time.monotonic() + limit
    try:
        while not done.wait(poll):
            if cancel is not None and cancel.is_set():
                raise ExportCancelled(EXPORT_CANCELLED_MESSAGE)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"no answer within {limit:g} s")
    except BaseException:  # cancelled, timed out, or Ctrl-C in the waiting thread
        with lock:
            finished, given_up[0] = done.is_set(), True
        if finished and box[0] and discard is not None:  # made just now: the driver is done with it
            with contextlib.suppress(Exception):
                discard(box[1])
        raise
    ok, value = box
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


class _CallThread:
    """One helper thread that runs a source's driver calls one after the other (starting a thread per call cost
    ~1 ms a query on a slow PC); it ends after a few idle seconds and starts again with the next call. A thread
    left blocked in a driver is never handed another call: the source is interrupted for good by then."""

    IDLE_SECONDS = 5.0

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], threading.Event, list[Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, function: Callable[[], Any]) -> tuple[threading.Event, list[Any]]:
        done = threading.Event()
        box: list[Any] = []
        with self._lock:
            self._jobs.put((function, done, box))
            if not self._running:
                self._running = True
                threading.Thread(target=self._serve, name="emr-exporter-db-call", daemon=True).start()
        return done, box

    def _serve(self) -> None:
        while True:
            try:
                function, done, box = self._jobs.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._running = False
                        return
                continue
            try:
                box[:] = [True, function()]
            except BaseException as exc:  # handed to the waiting thread, which raises it
                box[:] = [False, exc]
            finally:
                done.set()
            del function, box


@dataclass
class Waiter:
    """Runs one source's driver calls so that they can be cancelled and a stalled server is noticed."""

    #: Asks the server about the waiting query over a second connection; returns a verdict (see classify_session).
    probe: Callable[[], str] | None = None
    cancel: threading.Event | None = None
    stall_after: float | None = None
    grace: float = CANCEL_GRACE
    poll: float = POLL_SECONDS
    #: Set once a call was given up (its thread still blocked in the driver): the connection must not be used or
    #: closed again (closing would wait for the blocked call).
    abandoned: bool = False
    #: The error every later call raises at once, once one was interrupted.
    interrupted: EmrExporterError | None = None
    _thread: _CallThread = field(default_factory=_CallThread)

    def call(self, function: Callable[[], T], interrupt: Callable[[], None]) -> T:
        """``function()`` (a driver call); ``interrupt`` cancels it from another thread (``cursor.cancel``)."""
        if self.interrupted is not None:
            raise self.interrupted
        done, box = self._thread.submit(function)
        started = time.monotonic()
        stall_after = self.stall_after if self.stall_after is not None else stall_seconds()
        next_look = started + stall_after
        try:
            while not done.wait(self.poll):
                if self.cancel is not None and self.cancel.is_set():
                    self.interrupted = ExportCancelled(EXPORT_CANCELLED_MESSAGE)
                elif self.probe is not None and time.monotonic() >= next_look:
                    verdict = self._ask_server()
                    if verdict == RUNNING:
                        next_look = time.monotonic() + stall_after
                    else:
                        self.interrupted = stall_error(verdict, time.monotonic() - started)
                if self.interrupted is not None:
                    self._stop(done, interrupt)
                    raise self.interrupted
        except BaseException:  # Ctrl-C in the waiting thread, or the interruption above
            if self.interrupted is None:
                self.interrupted = ExportCancelled(EXPORT_CANCELLED_MESSAGE)
                self._stop(done, interrupt)
            raise
        ok, value = box
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def _ask_server(self) -> str:
        assert self.probe is not None
        done, box = _in_thread(self.probe, "emr-exporter-db-probe")
        deadline = time.monotonic() + PROBE_SECONDS + 5
        while not done.wait(self.poll):
            if self.cancel is not None and self.cancel.is_set():
                return RUNNING  # no verdict: the caller sees the cancel at once
            if time.monotonic() >= deadline:
                return NO_ANSWER
        return str(box[1]) if box[0] else NO_ANSWER

    def _stop(self, done: threading.Event, interrupt: Callable[[], None]) -> None:
        if done.is_set():
            return

        def cancel_quietly() -> None:
            with contextlib.suppress(Exception):
                interrupt()

        # SQLCancel may itself block (MariaDB connects again to send KILL QUERY): never in the waiting thread.
        cancelled, _ = _in_thread(cancel_quietly, "emr-exporter-db-cancel")
        # The statement and its connection stay open until the cancel has returned as well as the call: a cursor
        # or connection closed while SQLCancel still runs on its handle in the other thread is freed under it (a
        # segmentation fault, seen when the server answered the KILL QUERY before the driver's cancel returned).
        deadline = time.monotonic() + self.grace
        if not done.wait(self.grace) or not cancelled.wait(max(0.0, deadline - time.monotonic())):
            self.abandoned = True
