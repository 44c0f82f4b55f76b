"""Helpers for the upload tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

from emr_exporter.upload.receipt import load_store_public_keys
from emr_exporter.upload.tus import TusTransport
from emr_exporter.upload.uploader import RetryPolicy, Uploader

#: Fast retries so fault tests take fractions of a second (the real defaults are seconds to minutes).
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, stall_budget=30, max_attempts_without_progress=10)


def random_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            block = os.urandom(min(remaining, 1 << 20))
            handle.write(block)
            remaining -= len(block)
    return path


def make_uploader(
    endpoint: str, public_pem: Path | None, **options: object
) -> Uploader:
    transport = TusTransport(endpoint, connect_timeout=2, read_timeout=float(options.pop("read_timeout", 5)))
    keys = load_store_public_keys(public_pem) if public_pem is not None else None
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("chunk_size", 256 * 1024)
    return Uploader(transport, store_url=endpoint, store_public_keys=keys, **options)
