"""Run by test_resume.py in a subprocess: seal a test bag; optionally stall mid-part so it can be killed.

Usage: seal_child.py OUT_DIR KEYS_DIR STALL_AT_BYTE   (STALL_AT_BYTE = -1: never stall)
Prints "PART <bytes>" after every finished part, "STALLED" when stalling, and a JSON result at the end.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bundle_testkit import bag_stream

from emr_exporter.bundle.keys import load_recipient, load_signer
from emr_exporter.bundle.writer import BundleWriter

PART = 64 * 1024


def main() -> None:
    out_dir, keys_dir, stall_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    writer = BundleWriter.open(
        out_dir, signer=load_signer(keys_dir / "institution.p12", "demo"),
        recipient=load_recipient(keys_dir / "store-cert.pem"), institution_code="12345678",
        export_key="demo|test", part_size=PART,
    )

    def stream():
        position = 0
        for chunk in bag_stream(writer.bundle_id, writer.sign_tagmanifest, attachment_size=600_000):
            for i in range(0, len(chunk), 4096):  # small pieces so a stall lands inside a part
                piece = chunk[i:i + 4096]
                if 0 <= stall_at <= position:
                    print("STALLED", flush=True)
                    time.sleep(120)
                position += len(piece)
                yield piece

    sealed = writer.write(stream(), progress=lambda n: print(f"PART {n}", flush=True))
    print(json.dumps({"bundle_id": sealed.bundle_id, "resumed": writer.resumed, "path": str(sealed.path),
                      "plaintext_sha256": sealed.plaintext_sha256, "parts": sealed.parts}), flush=True)


if __name__ == "__main__":
    main()
