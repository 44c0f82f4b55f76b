"""The committed emrx/v1 test vectors decode: with the library, and with a minimal decoder written from
docs/bundle-format.md alone (struct + Cobblestone + RSA-OAEP), as another implementation would."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.cobblestone import Cobblestone256Decryptor
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from emr_exporter.bundle.reader import open_bundle, verify_bundle

VECTORS = Path(__file__).parent / "vectors"
SPEC = json.loads((VECTORS / "vector-1.json").read_text())


def test_vector_file_is_unchanged() -> None:
    assert hashlib.sha256((VECTORS / SPEC["file"]).read_bytes()).hexdigest() == SPEC["file_sha256"]


def test_vector_verifies_and_opens(tmp_path: Path) -> None:
    anchor = x509.load_pem_x509_certificate((VECTORS / SPEC["trust_anchor"]).read_bytes())
    report = verify_bundle(VECTORS / SPEC["file"], [anchor])
    assert (report.bundle_id, report.parts, report.plaintext_size, report.trusted) == (
        SPEC["bundle_id"], SPEC["n_parts"], SPEC["plaintext_size"], True)
    assert report.counts == {"Patient": 3}
    store_key = serialization.load_pem_private_key((VECTORS / SPEC["store_key"]).read_bytes(), None)
    opened = open_bundle(VECTORS / SPEC["file"], store_key, tmp_path, [anchor])
    assert opened.plaintext_sha256 == SPEC["plaintext_sha256"]


def test_vector_decodes_with_a_minimal_independent_decoder() -> None:
    data = (VECTORS / SPEC["file"]).read_bytes()
    assert data[:8] == b"EMRX\r\n\x1a\n"
    pos, recs = 8, []
    while pos < len(data):
        kind, length = struct.unpack_from(">4sQ", data, pos)
        recs.append((kind, data[pos + 12: pos + 12 + length]))
        pos += 12 + length
    assert [k for k, _ in recs] == [b"HEAD", b"HSIG"] + [b"PART"] * SPEC["n_parts"] + [b"TRLR", b"TSIG"]
    header, trailer = json.loads(recs[0][1]), json.loads(recs[-2][1])
    assert json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == recs[0][1]
    assert trailer["header_sha256"] == hashlib.sha256(recs[0][1]).hexdigest()

    store_key = serialization.load_pem_private_key((VECTORS / SPEC["store_key"]).read_bytes(), None)
    assert header["key_wrap"]["alg"] == "RSA-OAEP-SHA256"
    key = store_key.decrypt(
        base64.b64decode(header["key_wrap"]["wrapped_key"]),
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    assert key.hex() == SPEC["data_key_hex"]

    plaintext = b""
    bundle_uuid = uuid.UUID(header["bundle_id"]).bytes
    for i, (_, body) in enumerate(recs[2:-2]):
        index, framed_uuid = struct.unpack_from(">Q16s", body)
        ciphertext = body[24:]
        assert (index, framed_uuid) == (i, bundle_uuid)
        assert trailer["parts"][i] == {"index": i, "size": len(ciphertext),
                                       "sha256": hashlib.sha256(ciphertext).hexdigest()}
        context = b"emrx/v1\x00" + bundle_uuid + i.to_bytes(8, "big")
        assert context.hex() == SPEC["part_context_hex"][i]
        decryptor = Cobblestone256Decryptor(key, context)
        plaintext += decryptor.update(ciphertext) + decryptor.finalize()
    assert plaintext == (VECTORS / SPEC["plaintext_file"]).read_bytes()
    assert hashlib.sha256(plaintext).hexdigest() == SPEC["plaintext_sha256"]
