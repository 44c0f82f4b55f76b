"""Stress: a 200 MiB file, the client process SIGKILLed mid-PATCH twice, then a TCP proxy that cuts the
connection in the middle of request bodies. Everything is real: the reference store on 127.0.0.1, the client as
its own process (then in this process for the last run), and our own small threaded TCP proxy in between.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from upload_testkit import make_uploader

from emr_exporter.upload.store import ReferenceStore, StoreServer

SIZE = 200 * (1 << 20) + 12_345  # not a multiple of the chunk size
CHUNK = 8 * (1 << 20)

CLIENT_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from emr_exporter.upload.receipt import load_store_public_keys
    from emr_exporter.upload.tus import TusTransport
    from emr_exporter.upload.uploader import Uploader
    url, bundle, pem, chunk = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    Uploader(TusTransport(url), store_url=url, store_public_keys=load_store_public_keys(pem),
             chunk_size=chunk).upload(bundle, bundle_id="STRESS-1")
    """
)


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that forwards to ``target_port`` and, once armed, closes the connection (both
    sides) when a given number of client-to-store bytes has passed since arming: a cable pulled mid-body."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.cut_points: list[int] = []  # bytes after arming at which to cut, ascending
        self.forwarded_since_arm = 0
        self.cuts = 0
        self.open_pairs = 0  # client connections whose bytes towards the store may still be on their way
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, *cut_points: int) -> None:
        with self.lock:
            self.cut_points = sorted(cut_points)
            self.forwarded_since_arm = 0

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            pair = (client, upstream)
            with self.lock:
                self.open_pairs += 1
            threading.Thread(target=self._pump, args=(client, upstream, pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair, False), daemon=True).start()

    @staticmethod
    def _cut(pair: tuple[socket.socket, socket.socket]) -> None:
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _pump(self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, socket.socket],
              towards_store: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if towards_store:
                    with self.lock:
                        self.forwarded_since_arm += len(data)
                        cut = bool(self.cut_points) and self.forwarded_since_arm >= self.cut_points[0]
                        if cut:
                            self.cut_points.pop(0)
                            self.cuts += 1
                    if cut:
                        break
                sink.sendall(data)
        except OSError:
            pass
        self._cut(pair)
        if towards_store:
            with self.lock:
                self.open_pairs -= 1

    def close(self) -> None:
        self.closed = True
        self.listener.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _mid_chunk(store: ReferenceStore) -> bool:
    """True while the store is reading a PATCH body: a partial, unverified chunk sits in place after the
    verified offset that its ``.pending`` marker holds."""
    for marker in store.uploads_dir.glob("*.pending"):
        try:
            written = store.data_path(marker.stem).stat().st_size - int(marker.read_text("ascii"))
            if CHUNK // 4 <= written <= 3 * CHUNK // 4:
                return True
        except (FileNotFoundError, ValueError):
            pass
    return False


@pytest.mark.slow
def test_200mb_upload_survives_two_sigkills_and_cut_connections(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = tmp_path / "big.emrx"
    with open(bundle, "wb") as handle:
        for _ in range(SIZE // (1 << 20)):
            handle.write(os.urandom(1 << 20))
        handle.write(os.urandom(SIZE % (1 << 20)))
    source_sha256 = _sha256(bundle)
    proxy = CuttingProxy(server.server_address[1])
    proxy_url = f"http://127.0.0.1:{proxy.port}/files/"
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    try:
        kills = 0
        for kill_after in (SIZE // 5, SIZE // 2):
            client = subprocess.Popen(
                [sys.executable, str(script), proxy_url, str(bundle), str(store_public_pem), str(CHUNK)]
            )
            deadline = time.monotonic() + 120
            mid_patch = False
            while client.poll() is None and time.monotonic() < deadline:
                if store.bytes_received >= kill_after and _mid_chunk(store):
                    mid_patch = True
                    break
                time.sleep(0.001)
            assert client.poll() is None and mid_patch, "the client ended before it could be killed mid-PATCH"
            os.kill(client.pid, signal.SIGKILL)
            client.wait()
            kills += 1
        # Bytes already in socket buffers when the client died may still complete a chunk on the store:
        # wait until the proxy has let go of the dead clients' connections (nothing more can reach the
        # store) and the store has finished with them (its pending-chunk marker is gone).
        deadline = time.monotonic() + 60
        while (proxy.open_pairs or list(store.uploads_dir.glob("*.pending"))) and time.monotonic() < deadline:
            time.sleep(0.01)
        (upload_id,) = [p.stem for p in store.uploads_dir.glob("*.json")]
        held_after_kills = store.offset_of(upload_id)
        assert SIZE // 2 - CHUNK <= held_after_kills < SIZE

        # The last run goes through a connection that is cut twice in the middle of request bodies.
        proxy.arm(3 * (1 << 20) + 4321, 27 * (1 << 20) + 99)
        events: list[str] = []
        result = make_uploader(
            proxy_url, store_public_pem, chunk_size=CHUNK, read_timeout=30,
            on_event=lambda name, d: events.append(name + (":" + str(d.get("error")) if name == "retry" else "")),
        ).upload(bundle, bundle_id="STRESS-1")
    finally:
        proxy.close()

    assert proxy.cuts == 2 and result.retries >= 2
    assert result.new_uploads == 0 and result.resumed_from == held_after_kills
    assert result.upload_url == proxy_url + upload_id
    assert store.offset_of(upload_id) == SIZE
    assert _sha256(store.data_path(upload_id)) == source_sha256
    assert result.receipt_number
    interruptions = kills + proxy.cuts
    # Every interruption cost at most the chunk in flight (the store drops an unverified partial chunk).
    assert store.bytes_received - SIZE <= interruptions * CHUNK
    assert result.bytes_sent - (SIZE - held_after_kills) <= proxy.cuts * CHUNK
    assert events.count("retry:The connection to the store failed.") == proxy.cuts
    print(f"re-sent after {kills} kills + {proxy.cuts} cuts: {store.bytes_received - SIZE:,} bytes "
          f"(bound {interruptions * CHUNK:,}); resumed from {held_after_kills:,}; retries {result.retries}")
