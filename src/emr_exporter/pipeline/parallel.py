"""Mapping on every core: rows go to worker processes in batches, mapped rows come back in order.

The parent keeps everything that has an order or a connection: it reads the source (one snapshot, one
connection), claims ids, resolves references, writes the bag, counts, quarantines, reads attachment files
and feeds the observers. The workers run only the pure part of a row's trip
(:class:`~emr_exporter.pipeline.export.RowMapping`: connector mapping, FHIR, canonical JSON, each
resource's own rules, the cell check, the row's raw/columns line, the observers' summaries) and send back
``MappedRow`` objects: lines and counts, no resource dicts, and no record unless an observer without a
summary or an attachment needs it; or ``MapInParent`` for a row the parent maps itself (export.py
``worker_row_mapping``: what a worker's cell check learns must be what the parent's learns). Batches are
answered strictly in the order they were sent, so the bag is byte-identical to a one-core run
(tests/test_parallel_export.py). Beside a batch the parent may send what its cell check knows
(:meth:`WorkerPool.resync`), which the worker adopts before mapping it.

Workers are *spawned* (a fresh interpreter: ``spawn`` is the only start method on Windows, where the
product ships, and it copies nothing of the parent's threads, Qt objects or connections, so it is safe
from the wizard's QThread; the frozen app calls ``multiprocessing.freeze_support()`` in its entry
points). They start once per export, get the connector, the institution and the attachments folder
once, and per entity only what changes: the keys of quarantined rows of the entities it refers to.

Memory stays flat: each worker holds at most one batch; the parent reads on only when the oldest answer
is back. Each worker has its own two pipes and one batch at a time, so neither side can block on a pipe
the other is not reading. A batch whose mapping raised in a worker is mapped again by the parent, which
raises the very same exception there (an error never depends on pickling it across processes). If the
workers cannot start (no ``spawn``, a frozen build without freeze support, a locked-down machine) the
export maps on one core: the caller gets ``None`` from :func:`start_pool`.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import multiprocessing
import os
import pickle
import struct
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Row = dict[str, Any]
#: A batch of rows as it crosses to a worker: the column names once and each row's values in their order
#: (sources/base.py iter_keyset_values); the worker makes each row's dict (``dict(zip(names, values))``).
#: The parent never makes the dicts of the rows a worker maps (~1 µs a row less) and pickles less.
Batch = tuple[tuple[str, ...], list[tuple[Any, ...]]]
#: A mapped row (emr_exporter.pipeline.export.MappedRow: this module does not import the export, which
#: imports it) and what makes an entity's row mapping in a worker (export.worker_row_mapping, passed by
#: the export and pickled by name).
MappedRow = Any
RowMapper = Callable[[tuple[Any, ...]], MappedRow]
MakeRows = Callable[..., Any]

log = logging.getLogger(__name__)

#: Rows per batch handed to a worker: large enough that the hand-off is a small share of the mapping,
#: small enough that every worker stays busy on mid-sized entities and memory stays small. And small
#: enough that a resync costs little: the batches out when the parent's cell check and a worker's part
#: (export.py worker_row_mapping) are mapped again by the parent (10^5 demo clinic: 1000 rows a batch
#: left 3003 of the diagnoses to the parent; 500 a batch: ~1.5 µs a row less of the parent's CPU and a
#: peak ~10 MB lower, fewer answers' bytes in flight).
BATCH_ROWS = 500
#: The smallest batch (see :func:`entity_batch_rows`): a batch costs the parent ~0.1 ms besides its rows.
MIN_BATCH_ROWS = 100
#: Entities with fewer rows are mapped in the parent (the rows that teach each worker's cell check, which
#: the parent maps again, would be much of them). Above it a row the workers map costs the parent ~25 µs
#: instead of ~70 (10^5 demo clinic): 4000 left ~10 % of its rows, in mid-sized entities, to the parent.
MIN_PARALLEL_ROWS = 250
#: Workers start only for an export with at least this many rows in entities of MIN_PARALLEL_ROWS or
#: more (starting two interpreters costs about a second of CPU).
MIN_POOL_ROWS = 30_000
#: Seconds a worker has to start and say it is ready before the export goes on on one core.
START_TIMEOUT = 60.0



def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Windows / macOS
        return os.cpu_count() or 1


def default_workers() -> int:
    """Worker processes for an export: one per core the process may use (at most 8), or 1 (no workers)."""
    cores = available_cores()
    return 1 if cores < 2 else min(cores, 8)


# --- the worker process ----------------------------------------------------------------------------


def _worker_main(inbox: Any, outbox: Any, make_rows: MakeRows, setup: tuple[Any, ...]) -> None:
    """A worker's life: set up an entity's mapping when told, map each batch it is sent, answer; until None.

    ``make_rows(*setup, entity name, quarantined keys)`` gives the entity's ``map_one``: a callable with
    an ``adopt(state)`` method, called with what the parent sent beside a batch (:meth:`WorkerPool.resync`)
    before the batch is mapped.
    """
    outbox.send("ready")
    map_one: Any = None
    while (message := inbox.recv()) is not None:
        kind, payload, *sync = message
        if kind == "entity":
            name, quarantined_keys = payload
            map_one = make_rows(*setup, name, quarantined_keys)
            continue
        assert map_one is not None
        if sync[0] is not None:  # what the parent has learnt, to map this batch and the next ones with
            map_one.adopt(sync[0])
        names, rows = payload
        try:
            answer: list[MappedRow] | None = [map_one(dict(zip(names, values, strict=True))) for values in rows]
        except BaseException:  # the parent maps this batch again and raises the real exception itself
            answer = None
        outbox.send(answer)


# --- the parent's side -----------------------------------------------------------------------------


class _AnswerBuffer:
    """The workers' answers read off their pipes into one buffer kept for the next (POSIX pipes only).

    What ``Connection.recv`` reads, and the same errors (EOFError at the end of the pipe, OSError in the
    middle of a message): its framing is that of ``Connection.send_bytes``. ``Connection.recv`` asks
    ``os.read`` for the whole rest of a message at each step, a new buffer of that size (megabytes:
    ``mmap``, page faults) for every 64 KB the pipe gives, then copies the pieces into a growing
    ``BytesIO``: ~1.5 µs of the parent's CPU a row. Here the pieces are read in place and unpickled from
    the buffer (unpickling copies what it keeps, so the buffer is free again at once). One buffer for
    every worker: the parent reads one answer at a time.
    """

    def __init__(self) -> None:
        self._buffer = bytearray(1 << 16)

    def reader(self, connection: Any) -> Callable[[], Any]:
        """How the parent reads ``connection``'s answers: in place on a POSIX pipe, else ``recv`` (Windows'
        named pipes read a whole message at once already)."""
        # (Imported here: the pool's pipes import it; a one-core export never needs it.)
        from multiprocessing.connection import Connection

        if sys.platform == "win32" or type(connection) is not Connection:
            return connection.recv  # type: ignore[no-any-return]
        pipe = io.FileIO(connection.fileno(), "rb", closefd=False)
        return lambda: self._receive(pipe)

    def _fill(self, pipe: io.FileIO, size: int) -> memoryview:
        if size > len(self._buffer):
            self._buffer = bytearray(size + (size >> 3))  # a little room: answers vary a little
        view = memoryview(self._buffer)[:size]
        at = 0
        while at < size:
            got = pipe.readinto(view[at:])
            if not got:
                view.release()
                if at == 0:
                    raise EOFError
                raise OSError("got end of file during message")
            at += got
        return view

    def _receive(self, pipe: io.FileIO) -> Any:
        with self._fill(pipe, 4) as header:
            size: int = struct.unpack("!i", header)[0]
        if size == -1:
            with self._fill(pipe, 8) as header:
                size = struct.unpack("!Q", header)[0]
        try:
            with self._fill(pipe, size) as message:
                return _unpickled(message)
        finally:
            if len(self._buffer) > _KEPT_BUFFER_BYTES:  # one huge answer: not kept for the whole export
                self._buffer = bytearray(1 << 16)


def _unpickled(message: memoryview) -> Any:
    """``pickle.loads``, the cyclic garbage collector held off meanwhile: an answer is thousands of new
    objects and none of them garbage, yet they would set off a collection every 700 (each looking at the
    answer so far again); after it, one collection looks at them once."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(message)
    finally:
        if collecting:
            gc.enable()


#: An answer buffer larger than this is let go after its answer (a batch of 500 rows is ~1-3 MB).
_KEPT_BUFFER_BYTES = 64 << 20


class WorkerPool:
    """``workers`` spawned processes mapping batches of one entity at a time, answers in input order."""

    def __init__(self, make_rows: MakeRows, setup: tuple[Any, ...], workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, Any, Any]] = []
        self._readers: list[Callable[[], Any]] = []  # per worker, how its answers are read
        self._pending: deque[tuple[Batch, int]] = deque()  # (batch, the resync it was sent after)
        self._turn = 0
        self._generation = 0  # resyncs so far (this entity)
        self._sync: Any = None  # the state of the last resync
        self._synced: list[int] = []  # per worker, the last resync it was sent
        try:
            for _ in range(workers):
                inbox_reader, inbox_writer = context.Pipe(duplex=False)
                outbox_reader, outbox_writer = context.Pipe(duplex=False)
                process = context.Process(
                    target=_worker_main, name="emr-export-mapper", daemon=True,
                    args=(inbox_reader, outbox_writer, make_rows, setup),
                )
                process.start()
                inbox_reader.close()
                outbox_writer.close()
                self._workers.append((process, inbox_writer, outbox_reader))
            for process, _, outbox in self._workers:
                if not outbox.poll(START_TIMEOUT) or outbox.recv() != "ready":
                    raise OSError(f"worker process {process.pid} did not start")
            self._synced = [0] * len(self._workers)
            answers = _AnswerBuffer()
            self._readers = [answers.reader(outbox) for _, _, outbox in self._workers]
        except BaseException:
            self.close()
            raise

    @property
    def size(self) -> int:
        return len(self._workers)

    def begin_entity(self, name: str, quarantined_keys: dict[str, set[str]]) -> None:
        """Every worker maps ``name``'s rows from now on, knowing these quarantined keys (final ones)."""
        assert not self._pending
        for _, inbox, _ in self._workers:
            inbox.send(("entity", (name, quarantined_keys)))
        self._turn = 0
        self._generation = 0
        self._sync = None
        self._synced = [0] * len(self._workers)

    def resync(self, state: Any) -> int:
        """Every worker maps its next batch (and the ones after) after ``adopt(state)``; returns the number
        :meth:`map` gives the batches sent from now on (those before have a smaller one)."""
        self._generation += 1
        self._sync = state
        return self._generation

    def _send(self, index: int, batch: Batch) -> None:
        sync = None
        if self._synced[index] != self._generation:
            sync = self._sync
            self._synced[index] = self._generation
        self._workers[index][1].send(("rows", batch, sync))  # one message: a pipe never holds two of ours
        self._pending.append((batch, self._generation))

    def map(self, batches: Iterable[Batch], map_here: RowMapper) -> Iterator[tuple[Batch, list[MappedRow], int]]:
        """(batch, mapped rows, the resync it was sent after) for every batch, in order; a batch is read
        only when a worker is free.

        ``map_here`` is the parent's own mapping of a row: used for a batch whose worker failed or died.
        """
        n = len(self._workers)
        pending = self._pending  # batches out, oldest first; the oldest is at worker `turn`
        for batch in batches:
            if len(pending) == n:  # every worker busy: take the oldest answer, give that worker this batch
                done, generation = pending.popleft()
                answer = self._receive(self._turn)
                self._send(self._turn, batch)
                self._turn = (self._turn + 1) % n
                yield done, answer if answer is not None else [map_here(row) for row in done[1]], generation
            else:
                self._send((self._turn + len(pending)) % n, batch)
        while pending:
            done, generation = pending.popleft()
            answer = self._receive(self._turn)
            self._turn = (self._turn + 1) % n
            yield done, answer if answer is not None else [map_here(row) for row in done[1]], generation

    def _receive(self, index: int) -> list[MappedRow] | None:
        try:
            return self._readers[index]()  # type: ignore[no-any-return]
        except (EOFError, OSError):  # the worker died (killed, out of memory): the parent maps the batch
            return None

    def close(self) -> None:
        """Stop every worker. Idle ones leave when told; one still busy with a batch nobody will read
        (the export was cancelled or failed) is killed."""
        busy = bool(self._pending)
        for _, inbox, _ in self._workers:
            with contextlib.suppress(OSError, ValueError):
                inbox.send(None)
        for process, inbox, outbox in self._workers:
            process.join(timeout=0.1 if busy else 5)
            if process.is_alive():
                process.kill()
                process.join()
            inbox.close()
            outbox.close()
        self._workers = []
        self._readers = []
        self._pending.clear()


def start_pool(make_rows: MakeRows, setup: tuple[Any, ...], workers: int) -> WorkerPool | None:
    """A pool of ``workers`` mapping processes, or None (map on one core) when they cannot start.

    ``make_rows`` (a module-level function: it is pickled by name) and ``setup`` (pickled once per
    worker: the connector, the institution…) make an entity's row mapping in a worker."""
    if workers < 2 or "spawn" not in multiprocessing.get_all_start_methods():
        return None
    try:
        return WorkerPool(make_rows, setup, workers)
    except Exception as exc:  # never fatal: the one-core export gives the same bag
        log.warning("export: worker processes could not start (%s); mapping on one core", type(exc).__name__)
        return None


def entity_batch_rows(total: int, workers: int) -> int:
    """Rows per batch for an entity of ``total`` rows: :data:`BATCH_ROWS`, or fewer for a small entity, so
    that its rows still make about four batches a worker (every worker busy, and the parent busy with the
    answers of the first batches while the workers map the next: with one batch a worker it waits)."""
    return min(BATCH_ROWS, max(MIN_BATCH_ROWS, -(-total // (4 * workers))))


def batches_of(pages: Iterable[Batch], size: int | None = None) -> Iterator[Batch]:
    """The rows of (column names, value tuples) pages in batches of ``size`` (None: BATCH_ROWS) rows."""
    size = size or BATCH_ROWS
    for names, page in pages:
        for start in range(0, len(page), size):
            yield names, page[start : start + size]


__all__ = ["BATCH_ROWS", "MIN_BATCH_ROWS", "MIN_PARALLEL_ROWS", "MIN_POOL_ROWS", "WorkerPool", "available_cores",
           "batches_of", "default_workers", "entity_batch_rows", "start_pool"]
