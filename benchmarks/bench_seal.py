"""Sealing throughput vs raw SHA-256 on one core, and peak memory vs bundle size.

    .venv/bin/python benchmarks/bench_seal.py [--sizes-mib 256,1024] [--part-mib 64]

For each size, a child process (so peak RSS is per run) streams that many bytes of incompressible data
in 1 MiB pieces (as the bag stream hands them over) through (a) hashlib.sha256 alone and (b)
BundleWriter.write (SHA-256 of plaintext + Cobblestone-256 + SHA-256 of ciphertext + file write + fsync
per part) into a temporary folder. Prints one JSON line per size and a Markdown table.
Pin to one core with `taskset -c 0` for the one-core figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20


def _stream(total: int, piece: bytes):  # type: ignore[no-untyped-def]
    sent = 0
    while sent < total:
        chunk = piece if total - sent >= len(piece) else piece[: total - sent]
        sent += len(chunk)
        yield chunk


def child(size_mib: int, part_mib: int) -> None:
    from emr_exporter.bundle.keys import make_demo_keys
    from emr_exporter.bundle.writer import BundleWriter

    total = size_mib * MIB
    piece = os.urandom(MIB)
    start = time.perf_counter()
    digest = hashlib.sha256()
    for chunk in _stream(total, piece):
        digest.update(chunk)
    sha_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        keys = make_demo_keys(Path(tmp) / "keys")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        writer = BundleWriter.open(Path(tmp) / "out", signer=keys.signer, recipient=keys.recipient,
                                   institution_code="bench", export_key="bench", part_size=part_mib * MIB)
        start = time.perf_counter()
        sealed = writer.write(_stream(total, piece))
        seal_seconds = time.perf_counter() - start
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "size_mib": size_mib, "part_mib": part_mib, "parts": sealed.parts,
        "sha256_mb_s": round(total / sha_seconds / 1e6), "seal_mb_s": round(total / seal_seconds / 1e6),
        "ratio": round(sha_seconds / seal_seconds, 3),
        "peak_rss_mib_before_seal": round(rss_before / 1024), "peak_rss_mib": round(rss_after / 1024),
    }))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes-mib", default="256,1024")
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.part_mib)
        return
    rows = []
    for size in (int(s) for s in args.sizes_mib.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--part-mib", str(args.part_mib)],
                             check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("\n| bundle | parts | SHA-256 alone | seal | seal / SHA-256 | peak RSS |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size_mib']} MiB | {r['parts']} × {r['part_mib']} MiB | {r['sha256_mb_s']} MB/s | "
              f"{r['seal_mb_s']} MB/s | {r['ratio']:.0%} | {r['peak_rss_mib']} MiB |")


if __name__ == "__main__":
    main()
