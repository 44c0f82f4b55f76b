"""The waiter never lets a statement or its connection be closed while the driver's cancel still runs on it.

CI crashed once (a segmentation fault in ``cursor.cancel``, the wizard's Stop on a locked MariaDB table): the server
ended the killed query before Connector/ODBC's ``SQLCancel`` had returned in the cancel thread, the waiting thread
saw the call end and closed the cursor, and the cancel went on with a freed statement handle. That order of events
cannot be brought about on purpose with a real driver, so these tests hand the waiter plain Python callables in its
place (a query that ends as soon as it is cancelled; a cancel that returns when the test says) and check what the
waiter then allows: the real-driver behaviour is in tests/test_stalled_server.py."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from emr_exporter.errors import ExportCancelled
from emr_exporter.sources.waiting import Waiter


def _query_ended_by_its_cancel(cancelled: threading.Event) -> Callable[[], None]:
    def query() -> None:
        assert cancelled.wait(10), "the waiter never cancelled the query"
        raise RuntimeError("query killed by the server")

    return query


def test_a_cancel_that_has_not_returned_keeps_the_statement_and_connection_open() -> None:
    stop = threading.Event()
    cancel_sent = threading.Event()
    cancel_may_return = threading.Event()
    returned: list[str] = []

    def slow_cancel() -> None:  # the server has killed the query; the driver's cancel is still on its way back
        cancel_sent.set()
        cancel_may_return.wait(10)
        returned.append("cancel")

    waiter = Waiter(cancel=stop, grace=0.5, poll=0.02)
    threading.Timer(0.1, stop.set).start()
    try:
        with pytest.raises(ExportCancelled, match=r"^The export was cancelled\.$"):
            waiter.call(_query_ended_by_its_cancel(cancel_sent), slow_cancel)
        assert returned == []  # the waiting thread went on while the cancel still ran ...
        assert waiter.abandoned  # ... so the source leaves the cursor and the connection to the driver
    finally:
        cancel_may_return.set()


def test_a_cancel_that_returns_at_once_lets_the_source_close_as_usual() -> None:
    stop = threading.Event()
    cancel_sent = threading.Event()
    waiter = Waiter(cancel=stop, grace=2.0, poll=0.02)
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(ExportCancelled, match=r"^The export was cancelled\.$"):
        waiter.call(_query_ended_by_its_cancel(cancel_sent), cancel_sent.set)
    assert not waiter.abandoned
    with pytest.raises(ExportCancelled):  # and the connection takes no further query
        waiter.call(lambda: 1, lambda: None)


class _Connection:
    """What a connect returns: records in which thread it was closed."""

    def __init__(self) -> None:
        self.closed_in: str | None = None

    def close(self) -> None:
        self.closed_in = threading.current_thread().name


def test_a_connect_given_up_has_its_late_connection_closed_in_the_connects_own_thread() -> None:
    """Stop while the driver is still connecting: the wait ends at once; the connection the driver makes afterwards
    is closed by the connect's own thread once the driver has returned, never by the waiting thread (which would free
    a handle the driver may still use) and never left open."""
    from emr_exporter.sources.waiting import wait_interruptibly

    stop = threading.Event()
    may_connect = threading.Event()
    made = _Connection()

    def connect() -> _Connection:
        stop.set()  # Stop is pressed while the driver waits for the server
        assert may_connect.wait(10)
        return made

    with pytest.raises(ExportCancelled, match=r"^The export was cancelled\.$"):
        wait_interruptibly(connect, "test-connect", cancel=stop, discard=_Connection.close, poll=0.02)
    assert made.closed_in is None  # the driver had not returned: nothing was touched
    may_connect.set()
    for _ in range(500):
        if made.closed_in is not None:
            break
        threading.Event().wait(0.01)
    assert made.closed_in == "test-connect"


def test_a_connect_that_outlasts_its_limit_is_given_up_and_one_that_fails_says_why() -> None:
    from emr_exporter.sources.waiting import wait_interruptibly

    release = threading.Event()
    with pytest.raises(TimeoutError, match=r"^no answer within 0\.1 s$"):
        wait_interruptibly(lambda: release.wait(10), limit=0.1, poll=0.02)
    release.set()

    def refused() -> None:
        raise ConnectionRefusedError("refused")

    with pytest.raises(ConnectionRefusedError, match=r"^refused$"):
        wait_interruptibly(refused, limit=5, poll=0.02)
    assert wait_interruptibly(lambda: 7, limit=5, poll=0.02) == 7
