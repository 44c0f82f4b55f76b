"""Regenerate a test vector (run from the repo root; output is committed).

    .venv/bin/python tests/bundle/vectors/make_vectors.py 2     # emrx/v2 (compressed + stored frames)
    .venv/bin/python tests/bundle/vectors/make_vectors.py 1     # emrx/v1 (only to replace it on purpose:
                                                                # it stands for bundles already out there)

TEST MATERIAL ONLY: the keys here are public on purpose so other implementations can check themselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from bundle_testkit import bag_stream, make_ca, make_signer, make_store, pem  # noqa: E402

from emr_exporter.bundle import format as fmt  # noqa: E402
from emr_exporter.bundle.keywrap import unwrap_key  # noqa: E402
from emr_exporter.bundle.reader import verify_bundle  # noqa: E402
from emr_exporter.bundle.writer import BundleWriter  # noqa: E402


def main(version: int) -> None:
    name = f"vector-{version}"
    for old in HERE.glob(f"{name}[.-]*"):
        old.unlink()
    ca = make_ca("CN=emrx test vector CA,O=TEST ONLY,C=KR")
    signer = make_signer(ca, "ec", cn="emrx test vector institution 00000000")
    recipient, store_key = make_store(ca, "rsa")
    writer = BundleWriter.open(HERE, signer=signer, recipient=recipient, institution_code="00000000",
                               export_key=name, part_size=16384, compress=version >= 2)
    # v2: 40 patients of NDJSON (compressed frames) and a 40 kB random "scan" (at least one stored frame)
    patients, attachment = (3, 12_000) if version == 1 else (40, 40_000)
    plaintext = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest, attachment_size=attachment,
                                    patients=patients))
    sealed = writer.write([plaintext], summary={"Patient": patients})
    target = HERE / f"{name}.emrx"
    sealed.path.rename(target)
    header = verify_bundle(target).header
    data_key = unwrap_key(store_key, header["key_wrap"]["alg"], base64.b64decode(header["key_wrap"]["wrapped_key"]),
                          info=fmt.hpke_info(sealed.bundle_id))
    assert data_key is not None
    (HERE / f"{name}-ca.pem").write_bytes(pem(ca.cert))
    (HERE / f"{name}-store-key.pem").write_bytes(store_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (HERE / f"{name}.tar").write_bytes(plaintext)
    (HERE / f"{name}.json").write_text(json.dumps({
        "file": f"{name}.emrx",
        "format": header["format"],
        "bundle_id": sealed.bundle_id,
        "part_size": 16384,
        "n_parts": sealed.parts,
        "file_sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "data_key_hex": data_key.hex(),
        "part_context_hex": [fmt.part_context(sealed.bundle_id, i, header["format"]).hex()
                             for i in range(sealed.parts)],
        "plaintext_file": f"{name}.tar",
        "plaintext_size": len(plaintext),
        "plaintext_sha256": hashlib.sha256(plaintext).hexdigest(),
        "trust_anchor": f"{name}-ca.pem",
        "store_key": f"{name}-store-key.pem",
        "patients": patients,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
