"""The committed test vectors decode: with the library, and with a minimal decoder written from
docs/bundle-format.md alone (struct + Cobblestone + RSA-OAEP, + zstandard for emrx/v2), as another
implementation would. vector-1 is emrx/v1 (uncompressed, as bundles already made): it must keep opening.
vector-2 is emrx/v2: compressed and stored frames."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest
import zstandard
from cryptography import x509
from cryptography.cobblestone import Cobblestone256Decryptor
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from emr_exporter.bundle.reader import open_bundle, verify_bundle

VECTORS = Path(__file__).parent / "vectors"
SPECS = {n: json.loads((VECTORS / f"vector-{n}.json").read_text()) for n in (1, 2)}
both = pytest.mark.parametrize("spec", [SPECS[1], SPECS[2]], ids=["v1", "v2"])


@both
def test_vector_file_is_unchanged(spec: dict[str, Any]) -> None:
    assert hashlib.sha256((VECTORS / spec["file"]).read_bytes()).hexdigest() == spec["file_sha256"]


@both
def test_vector_verifies_and_opens(tmp_path: Path, spec: dict[str, Any]) -> None:
    anchor = x509.load_pem_x509_certificate((VECTORS / spec["trust_anchor"]).read_bytes())
    report = verify_bundle(VECTORS / spec["file"], [anchor])
    assert (report.bundle_id, report.parts, report.plaintext_size, report.trusted) == (
        spec["bundle_id"], spec["n_parts"], spec["plaintext_size"], True)
    assert report.format == spec.get("format", "emrx/v1")
    assert report.counts == {"Patient": spec.get("patients", 3)}
    store_key = serialization.load_pem_private_key((VECTORS / spec["store_key"]).read_bytes(), None)
    opened = open_bundle(VECTORS / spec["file"], store_key, tmp_path, [anchor])
    assert opened.plaintext_sha256 == spec["plaintext_sha256"]


def decode_frames(data: bytes) -> tuple[bytes, list[int]]:
    """docs/bundle-format.md §5a: method ‖ raw length ‖ encoded length ‖ bytes, until the part ends."""
    out, methods, pos = b"", [], 0
    while pos < len(data):
        method, raw_len, enc_len = struct.unpack_from(">BII", data, pos)
        body = data[pos + 9: pos + 9 + enc_len]
        assert len(body) == enc_len
        if method == 0:
            raw = body
        else:
            assert method == 1
            raw = zstandard.ZstdDecompressor().decompress(body, allow_extra_data=False)
        assert len(raw) == raw_len
        out += raw
        methods.append(method)
        pos += 9 + enc_len
    return out, methods


@both
def test_vector_decodes_with_a_minimal_independent_decoder(spec: dict[str, Any]) -> None:
    data = (VECTORS / spec["file"]).read_bytes()
    assert data[:8] == b"EMRX\r\n\x1a\n"
    pos, recs = 8, []
    while pos < len(data):
        kind, length = struct.unpack_from(">4sQ", data, pos)
        recs.append((kind, data[pos + 12: pos + 12 + length]))
        pos += 12 + length
    assert [k for k, _ in recs] == [b"HEAD", b"HSIG"] + [b"PART"] * spec["n_parts"] + [b"TRLR", b"TSIG"]
    header, trailer = json.loads(recs[0][1]), json.loads(recs[-2][1])
    assert json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == recs[0][1]
    assert trailer["header_sha256"] == hashlib.sha256(recs[0][1]).hexdigest()
    version = header["format"]
    assert version == trailer["format"] == spec.get("format", "emrx/v1")

    store_key = serialization.load_pem_private_key((VECTORS / spec["store_key"]).read_bytes(), None)
    assert header["key_wrap"]["alg"] == "RSA-OAEP-SHA256"
    key = store_key.decrypt(
        base64.b64decode(header["key_wrap"]["wrapped_key"]),
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    assert key.hex() == spec["data_key_hex"]

    plaintext = b""
    methods: list[int] = []
    bundle_uuid = uuid.UUID(header["bundle_id"]).bytes
    for i, (_, body) in enumerate(recs[2:-2]):
        index, framed_uuid = struct.unpack_from(">Q16s", body)
        ciphertext = body[24:]
        assert (index, framed_uuid) == (i, bundle_uuid)
        signed = {"index": i, "size": len(ciphertext), "sha256": hashlib.sha256(ciphertext).hexdigest()}
        context = version.encode() + b"\x00" + bundle_uuid + i.to_bytes(8, "big")
        assert context.hex() == spec["part_context_hex"][i]
        decryptor = Cobblestone256Decryptor(key, context)
        part = decryptor.update(ciphertext) + decryptor.finalize()
        if version == "emrx/v2":
            assert header["payload"]["compression"] == "emrx-frames zstd"
            part, part_methods = decode_frames(part)  # every part decodes on its own
            methods += part_methods
            signed["tar_size"] = len(part)
            # non-final parts carry exactly part_size tar bytes, the final one strictly fewer
            assert (len(part) == spec["part_size"]) == (i < spec["n_parts"] - 1)
        assert trailer["parts"][i] == signed
        plaintext += part
    assert plaintext == (VECTORS / spec["plaintext_file"]).read_bytes()
    assert hashlib.sha256(plaintext).hexdigest() == spec["plaintext_sha256"]
    if version == "emrx/v2":
        assert 0 in methods and 1 in methods  # the vector covers stored and compressed frames
