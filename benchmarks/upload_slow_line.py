"""A slow clinic line that drops: 16 MB through a loopback proxy limited to 0.2 MB/s that cuts every connection
every 20 s, into @uploadx/core (verifies a checksum per PATCH, so a PATCH cut midway is thrown away).

Chunks sized to the link (the default) against the old fixed 8 MiB chunks, each given at most --budget seconds.
Prints one line per run; results go to docs/upload.md. Needs the npm servers of .ci/run (.ci/work/node).

    .venv/bin/python benchmarks/upload_slow_line.py [--budget 240] [--size 16000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "upload"))

from tus_servers import ThrottlingCuttingProxy, run_tus_server

from emr_exporter.errors import UploadCancelled
from emr_exporter.upload.tus import TusTransport
from emr_exporter.upload.uploader import RetryPolicy, Uploader


def one_run(label: str, chunk_size: int | None, size: int, budget: float, folder: Path) -> None:
    bundle = folder / f"{label}.emrx"
    bundle.write_bytes(os.urandom(size))
    with run_tus_server("uploadx", _mk(folder / label)) as server:
        proxy = ThrottlingCuttingProxy(server.port, rate=200_000, cut_every=20.0)
        cancel = threading.Event()
        timer = threading.Timer(budget, cancel.set)
        timer.start()
        requests_made = [0]
        uploader = Uploader(TusTransport(proxy.url, connect_timeout=5, read_timeout=30), store_url=proxy.url,
                            require_receipt=False, chunk_size=chunk_size, cancel=cancel,
                            retry=RetryPolicy(base_delay=0.5, max_delay=2.0, stall_budget=budget + 60))
        real_send = uploader.transport.send

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            requests_made[0] += 1
            return real_send(*args, **kwargs)

        uploader.transport.send = counting  # type: ignore[method-assign]
        started = time.monotonic()
        try:
            result = uploader.upload(bundle, bundle_id=label)
            identical = server.stored_copies(size) == [bundle.read_bytes()]
            outcome = (f"finished in {time.monotonic() - started:.0f} s, {result.bytes_sent:,} bytes sent "
                       f"({result.bytes_sent / size:.2f}x), identical={identical}")
        except UploadCancelled:
            held = TusTransport(server.endpoint).offset(str(uploader_url(bundle)), None)
            outcome = f"NOT finished after {budget:.0f} s: the store holds {held:,} of {size:,} bytes"
        finally:
            timer.cancel()
            proxy.close()
        print(f"{label}: {outcome}; {proxy.cuts} cuts, {requests_made[0]} PATCH requests", flush=True)


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploader_url(bundle: Path) -> str | None:
    from emr_exporter.upload.journal import UploadJournal

    entries = UploadJournal.beside(bundle).entries()
    return entries[0].upload_url if entries else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=240.0)
    parser.add_argument("--size", type=int, default=16_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        one_run("sized-to-the-link", None, args.size, args.budget, folder)
        one_run("fixed-8MiB", 8 << 20, args.size, args.budget, folder)


if __name__ == "__main__":
    main()
