"""A database server that stops answering, for real: a TCP relay on 127.0.0.1 in front of the test MariaDB or
PostgreSQL that can be told to stop forwarding (the connection stays open, no byte passes: a half-dead VPN, a hung
server), at once or as soon as the client sends a given query (:meth:`Relay.stall_on`), and a table locked by another
connection (the still-running EMR writing). And servers that cannot be reached at all: a port whose TCP SYNs are never
answered (:func:`switched_off_server`), one that accepts and never says a word (:func:`silent_server`), and one
that refuses (:func:`refusing_port`)."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyodbc

from emr_exporter.sources.drivers import detect_engine_of_connection, get_option, set_options


def interruptible() -> None:
    """``preexec_fn`` of a command a test sends Ctrl-C (SIGINT): SIGINT back to its default in the child. A shell
    that starts a job in the background without job control (``cmd &`` in a script, ``nohup``) starts it with SIGINT
    ignored, the child inherits that, and Python then never raises KeyboardInterrupt: the test would measure the
    harness, not the command (a rehearsal of CI started that way failed every Ctrl-C test)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: A behaviour bound, not a benchmark: what a test waits for at most before it fails instead of hanging.
WITHIN = 30.0


def run_limited(function: Callable[[], Any], limit: float = WITHIN) -> tuple[Any, float]:
    """(what ``function`` returned or raised, seconds it took); fails, never hangs, when it takes over ``limit``."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(function())
        except BaseException as exc:
            box.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    took = time.monotonic() - started
    assert not thread.is_alive(), f"still waiting after {limit:.0f} s (a freeze)"
    return box[0], took


class _Link:
    def __init__(self, client: socket.socket, upstream: socket.socket, stalled: bool,
                 sent: Callable[[bytes], None]) -> None:
        self.client, self.upstream = client, upstream
        self.stalled = stalled
        self.sent = sent  # told what the client sends, before it is passed on
        self.closed = threading.Event()

    def pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while not self.closed.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if source is self.client:
                    self.sent(data)
                while self.stalled and not self.closed.is_set():  # hold the bytes: nothing passes any more
                    self.closed.wait(0.05)
                target.sendall(data)
        except OSError:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Relay:
    """Forwards 127.0.0.1:<port> to the server of ``conn_str``; :meth:`stall` stops the forwarding."""

    def __init__(self, conn_str: str) -> None:
        self.target = (get_option(conn_str, "SERVER") or "127.0.0.1", int(get_option(conn_str, "PORT") or 0))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn_str = set_options(conn_str, [("PORT", str(self.port))])
        self.links: list[_Link] = []
        self.stall_new = False
        self.trigger: tuple[bytes, bool] | None = None  # see stall_on
        self.stalled = threading.Event()  # set once stall() was called
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                link = _Link(client, upstream, self.stall_new, self._sent)
                self.links.append(link)
            threading.Thread(target=link.pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=link.pump, args=(upstream, client), daemon=True).start()

    def stall(self, new_connections_too: bool) -> None:
        """No byte passes any more on the open connections; with ``new_connections_too`` none on later ones either
        (a dead network), else later connections work (one connection's path is stuck, the server is fine)."""
        with self.lock:
            self.stall_new = new_connections_too
            for link in self.links:
                link.stalled = True
        self.stalled.set()

    def resume(self) -> None:
        """Bytes pass again, on every connection (the network came back)."""
        with self.lock:
            self.stall_new = False
            for link in self.links:
                link.stalled = False

    def stall_on(self, pattern: bytes, new_connections_too: bool) -> None:
        """:meth:`stall` as soon as a client sends ``pattern`` (a part of a query's text, as the driver sends it):
        that request and everything after it stay in the relay; :attr:`stalled` is set then."""
        self.trigger = (pattern, new_connections_too)

    def _sent(self, data: bytes) -> None:
        trigger = self.trigger
        if trigger is not None and trigger[0] in data:
            self.trigger = None
            self.stall(new_connections_too=trigger[1])

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for link in self.links:
                link.close()


@contextlib.contextmanager
def relay_to(conn_str: str) -> Iterator[Relay]:
    relay = Relay(conn_str)
    try:
        yield relay
    finally:
        relay.close()  # ends what is still blocked on it (the driver sees the connection reset)


@contextlib.contextmanager
def table_locked(conn_str: str, table: str) -> Iterator[Any]:
    """``table`` locked for writing by another connection (MariaDB ``LOCK TABLES … WRITE``, PostgreSQL
    ``LOCK TABLE … IN ACCESS EXCLUSIVE MODE``) until the block ends."""
    connection = pyodbc.connect(conn_str, autocommit=False)
    try:
        engine = detect_engine_of_connection(connection)
        if engine == "postgresql":
            connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        else:
            connection.execute(f"LOCK TABLES {table} WRITE")
        yield connection
    finally:
        if detect_engine_of_connection(connection) == "postgresql":
            connection.rollback()
        else:
            connection.execute("UNLOCK TABLES")
        connection.close()


def refusing_port() -> int:
    """A port on 127.0.0.1 nothing listens on: the kernel refuses (RST) every connection (a server PC that is on,
    its database service not running)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def switched_off_server() -> Iterator[int]:
    """A port on 127.0.0.1 whose TCP SYNs are never answered (a server PC switched off, a firewall that drops): a
    listener that never accepts, with its accept queue (of one) filled, so that the kernel drops every later SYN and
    the client's connect waits as for a PC that is not there."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    with socket.socket() as check:  # the queue is full: a further SYN is not answered
        check.settimeout(0.5)
        try:
            check.connect(("127.0.0.1", port))
            raise AssertionError("the port still answers a TCP SYN")
        except TimeoutError:
            pass
    try:
        yield port
    finally:
        for sock in (*fillers, listener):
            sock.close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts every TCP connection and never sends a byte (a database service that hangs:
    no greeting, no answer to the login)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for sock in (*held, listener):
            sock.close()
