"""Independent tus 1.0 servers nobody on this project wrote, started on 127.0.0.1 for the interop tests, and a
throttling, cutting TCP proxy (a slow clinic line that drops).

The npm packages (@tus/server + @tus/file-store, @uploadx/core; versions pinned in .ci/node/package.json) are
installed by ``.ci/run`` into ``.ci/work/node``. ``EMR_TEST_NODE_DIR`` may point elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "node"
SERVERS = {"tus-server": "tus-server.mjs", "uploadx": "uploadx-server.mjs"}


def node_dir() -> Path:
    folder = Path(os.environ.get("EMR_TEST_NODE_DIR") or REPO / ".ci" / "work" / "node")
    if not (folder / "node_modules" / "@tus" / "server").is_dir() or not (folder / "node_modules" / "@uploadx").is_dir():
        pytest.fail(
            f"The tus test servers are not installed in {folder}. Run .ci/run, or: mkdir -p {folder} && "
            f"cp .ci/node/package*.json {folder} && npm ci --prefix {folder}"
        )
    if shutil.which("node") is None:
        pytest.fail("node is not installed: run .ci/install-system.sh (Debian packages nodejs npm).")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class TusServer:
    name: str
    endpoint: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]

    def stored_copies(self, size: int) -> list[bytes]:
        """The contents of every file of exactly ``size`` bytes the server wrote (its data, not its metadata)."""
        return [p.read_bytes() for p in self.data_dir.rglob("*") if p.is_file() and p.stat().st_size == size]


@contextlib.contextmanager
def run_tus_server(name: str, tmp_path: Path) -> Iterator[TusServer]:
    folder = node_dir()
    script = folder / SERVERS[name]
    shutil.copyfile(SCRIPTS / SERVERS[name], script)  # beside node_modules, so its imports resolve
    port = free_port()
    data_dir = tmp_path / f"{name}-data"
    data_dir.mkdir()
    process = subprocess.Popen(
        ["node", str(script)], cwd=folder, env={**os.environ, "PORT": str(port), "DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield TusServer(name, f"http://127.0.0.1:{port}/files", port, data_dir, process)
    finally:
        process.kill()
        process.wait(10)


class ThrottlingCuttingProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target_port``: client-to-store bytes pass at most ``rate`` bytes
    per second (shared by all connections, like one uplink), and every ``cut_every`` seconds every open
    connection is closed on both sides (the line drops). Small socket buffers, so the client cannot park
    megabytes in the kernel and believe they were sent."""

    def __init__(self, target_port: int, *, rate: float | None = None, cut_every: float | None = None) -> None:
        self.target_port = target_port
        self.rate = rate
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.cuts = 0
        self.forwarded = 0
        self._next_send = time.monotonic()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()
        if cut_every:
            threading.Thread(target=self._cutter, args=(cut_every,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/files"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
            pair = (client, upstream)
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(client, upstream, pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair, False), daemon=True).start()

    def _cutter(self, every: float) -> None:
        while not self._stop.wait(every):
            with self.lock:
                pairs, self.pairs = self.pairs, []
                if pairs:
                    self.cuts += 1
            for pair in pairs:
                self._close(pair)

    @staticmethod
    def _close(pair: tuple[socket.socket, socket.socket]) -> None:
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _pace(self, amount: int) -> None:
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            self._next_send = max(self._next_send, now) + amount / self.rate
            wait = self._next_send - amount / self.rate - now
        if wait > 0:
            time.sleep(wait)

    def _pump(self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, socket.socket],
              towards_store: bool) -> None:
        try:
            while True:
                data = source.recv(8192 if towards_store else 65536)
                if not data:
                    break
                if towards_store:
                    self._pace(len(data))
                    with self.lock:
                        self.forwarded += len(data)
                sink.sendall(data)
        except OSError:
            pass
        self._close(pair)
        with self.lock, contextlib.suppress(ValueError):
            self.pairs.remove(pair)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            self._close(pair)
