"""Regenerate the emrx/v1 test vectors (run from the repo root; output is committed).

    .venv/bin/python tests/bundle/vectors/make_vectors.py

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


def main() -> None:
    for old in HERE.glob("vector-1*"):
        old.unlink()
    ca = make_ca("CN=emrx test vector CA,O=TEST ONLY,C=KR")
    signer = make_signer(ca, "ec", cn="emrx test vector institution 00000000")
    recipient, store_key = make_store(ca, "rsa")
    writer = BundleWriter.open(HERE, signer=signer, recipient=recipient, institution_code="00000000",
                               export_key="vector-1", part_size=16384)
    plaintext = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest, attachment_size=12_000, patients=3))
    sealed = writer.write([plaintext], summary={"Patient": 3})
    target = HERE / "vector-1.emrx"
    sealed.path.rename(target)
    header = verify_bundle(target).header
    data_key = unwrap_key(store_key, header["key_wrap"]["alg"], base64.b64decode(header["key_wrap"]["wrapped_key"]),
                          info=fmt.hpke_info(sealed.bundle_id))
    assert data_key is not None
    (HERE / "vector-1-ca.pem").write_bytes(pem(ca.cert))
    (HERE / "vector-1-store-key.pem").write_bytes(store_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (HERE / "vector-1.tar").write_bytes(plaintext)
    (HERE / "vector-1.json").write_text(json.dumps({
        "file": "vector-1.emrx",
        "bundle_id": sealed.bundle_id,
        "part_size": 16384,
        "n_parts": sealed.parts,
        "file_sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "data_key_hex": data_key.hex(),
        "part_context_hex": [fmt.part_context(sealed.bundle_id, i).hex() for i in range(sealed.parts)],
        "plaintext_file": "vector-1.tar",
        "plaintext_size": len(plaintext),
        "plaintext_sha256": hashlib.sha256(plaintext).hexdigest(),
        "trust_anchor": "vector-1-ca.pem",
        "store_key": "vector-1-store-key.pem",
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
