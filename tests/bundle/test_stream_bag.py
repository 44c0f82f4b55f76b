"""stream_bag: a bundle verified and decrypted in memory, for readers that need a few records."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from bundle_testkit import PATIENT_NAME, bag_stream

from emr_exporter.bundle.reader import stream_bag
from emr_exporter.bundle.writer import BundleWriter
from emr_exporter.errors import BundleError


def _seal(out: Path, signer, recipient, mutate=None):
    writer = BundleWriter.open(out, signer=signer, recipient=recipient, institution_code="12345678",
                               export_key="stream|db", part_size=64 * 1024)
    plaintext = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest))
    if mutate is not None:
        plaintext = mutate(plaintext)
    return plaintext, writer.write([plaintext])


def _payload(plaintext: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(plaintext)) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read()
                for m in tar.getmembers() if m.isfile() and m.name.split("/", 1)[1].startswith("data/")}


def test_visitor_sees_every_payload_file_and_nothing_is_written(tmp_path: Path, signer, store) -> None:
    recipient, store_key = store
    plaintext, sealed = _seal(tmp_path / "out", signer, recipient)
    seen: dict[str, bytes] = {}

    def visit(rel: str, chunks) -> None:
        seen[rel] = b"".join(chunks)

    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    report = stream_bag(sealed.path, store_key, visit)
    assert report.bundle_id == sealed.bundle_id
    assert seen == _payload(plaintext)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before


def test_a_payload_file_that_does_not_match_the_manifest_is_refused(tmp_path: Path, signer, store) -> None:
    recipient, store_key = store
    needle = PATIENT_NAME.encode("utf-8")

    def tamper(plaintext: bytes) -> bytes:  # the tar stays valid; only a payload byte changes
        at = plaintext.index(needle)
        return plaintext[:at] + bytes([plaintext[at] ^ 1]) + plaintext[at + 1:]

    _, sealed = _seal(tmp_path / "out", signer, recipient, tamper)
    with pytest.raises(BundleError, match=r"A payload file in the bag of '.*\.emrx' does not match its manifest checksum\."):
        stream_bag(sealed.path, store_key, lambda rel, chunks: None)


def test_the_wrong_store_key_is_refused_before_decrypting(tmp_path: Path, signer, store, ca) -> None:
    from bundle_testkit import make_store

    recipient, _ = store
    _, sealed = _seal(tmp_path / "out", signer, recipient)
    _, other_key = make_store(ca)
    visited: list[str] = []
    with pytest.raises(BundleError, match="is encrypted for a different store key"):
        stream_bag(sealed.path, other_key, lambda rel, chunks: visited.append(rel))
    assert visited == []
