"""emrx/v2: the bag is compressed in frames inside each part before encryption. NDJSON frames are
zstd-compressed, incompressible ones (scans) stored; every part decodes on its own; the bag opens byte
for byte; a v1 bundle (compress=False, or a journal started by an older version) still works."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import pytest
from bundle_testkit import attachment_bytes, bag_stream, records

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle import frames
from emr_exporter.bundle.journal import Journal
from emr_exporter.bundle.keywrap import unwrap_key
from emr_exporter.bundle.reader import _decrypt_part, _verify, open_bundle, verify_bundle
from emr_exporter.bundle.writer import BundleWriter
from emr_exporter.errors import BundleError, ExportCancelled

PART = 4 * 1024 * 1024  # several 1 MiB frames per part


def _seal(out: Path, signer, recipient, *, compress: bool = True, patients: int = 3000,
          attachment: int = 1_500_000, part_size: int = PART):
    writer = BundleWriter.open(out, signer=signer, recipient=recipient, institution_code="1", export_key="k",
                               part_size=part_size, compress=compress)
    sealed = writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest, patients=patients,
                                     attachment_size=attachment))
    return writer, sealed


def _part_frames(path: Path, store_key) -> list[list[tuple[int, int, int]]]:
    """(method, raw length, encoded length) of every frame, part by part, each part decoded alone."""
    verified = _verify(path, None)
    header = verified.report.header
    key = unwrap_key(store_key, header["key_wrap"]["alg"], base64.b64decode(header["key_wrap"]["wrapped_key"]),
                     info=fmt.hpke_info(verified.report.bundle_id))
    assert key is not None
    out = []
    for loc in verified.locations:
        data = b"".join(_decrypt_part(path, loc, key, verified.report.bundle_id, verified.report.format))
        found, pos = [], 0
        while pos < len(data):
            method, raw, enc = frames.FRAME_HEADER.unpack_from(data, pos)
            found.append((method, raw, enc))
            pos += frames.FRAME_HEADER.size + enc
        assert pos == len(data)
        out.append(found)
    return out


def test_compressed_bundle_opens_to_the_exact_bag_and_stores_incompressible_frames(
    tmp_path: Path, signer, store, ca
) -> None:
    recipient, store_key = store
    writer, sealed = _seal(tmp_path / "out", signer, recipient)
    plaintext = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest, patients=3000,
                                    attachment_size=1_500_000))
    assert sealed.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    # the file's own SHA-256, taken while sealing, is what the upload announces (no second read there)
    assert sealed.file_sha256 == hashlib.sha256(sealed.path.read_bytes()).hexdigest()
    ndjson = len(plaintext) - 1_500_000
    # The 1.5 MB random scan cannot shrink; the NDJSON around it compresses many times over.
    assert 1_500_000 < sealed.size < 1_500_000 + ndjson // 8

    report = verify_bundle(sealed.path, [ca.cert])  # no key needed
    assert report.format == "emrx/v2" and report.plaintext_size == len(plaintext)
    assert report.header["payload"]["compression"] == "emrx-frames zstd"
    tar_sizes = [p["tar_size"] for p in report.trailer["parts"]]
    assert tar_sizes[:-1] == [PART] * (len(tar_sizes) - 1) and 0 <= tar_sizes[-1] < PART
    assert sum(tar_sizes) == len(plaintext)

    per_part = _part_frames(sealed.path, store_key)
    assert [sum(raw for _, raw, _ in part) for part in per_part] == tar_sizes  # frames never cross parts
    methods = [m for part in per_part for m, _, _ in part]
    assert frames.STORED in methods and frames.ZSTD in methods
    stored = [(raw, enc) for part in per_part for m, raw, enc in part if m == frames.STORED]
    assert all(raw == enc for raw, enc in stored)
    assert sum(raw for raw, _ in stored) >= 1_000_000  # (most of) the scan went in as it is

    opened = open_bundle(sealed.path, store_key, tmp_path / "opened", [ca.cert])
    assert opened.plaintext_sha256 == sealed.plaintext_sha256
    found = (opened.bag_dir / "data" / "attachments" / "scan-0001.pdf").read_bytes()
    assert found == attachment_bytes(1_500_000)


@pytest.mark.parametrize("compress", [False, True], ids=["v1", "v2"])
def test_part_sizes_follow_the_format(tmp_path: Path, signer, store, compress: bool) -> None:
    part = 64 * 1024
    _writer, sealed = _seal(tmp_path / "out", signer, store[0], compress=compress, patients=300,
                            attachment=300_000, part_size=part)
    parts = [r for r in records(sealed.path) if r.type == fmt.PART]
    report = verify_bundle(sealed.path)
    assert report.format == ("emrx/v2" if compress else "emrx/v1")
    if compress:
        assert [p["tar_size"] for p in report.trailer["parts"]] == [part] * (len(parts) - 1) + [
            sealed.plaintext_size % part]
        assert [p["size"] for p in report.trailer["parts"]] == [len(r.body) - 24 for r in parts]
    else:
        assert all(len(r.body) - 24 == fmt.ciphertext_size(part) for r in parts[:-1])
        assert len(parts[-1].body) - 24 == fmt.ciphertext_size(sealed.plaintext_size % part)
    assert open_bundle(sealed.path, store[1], tmp_path / "o").plaintext_sha256 == sealed.plaintext_sha256


def test_a_faulty_frame_is_refused_by_open_but_not_by_verify(tmp_path: Path, signer, store, monkeypatch) -> None:
    """open checks every layer: a frame whose zstd content disagrees with its header is refused."""
    real = frames.FrameEncoder.encode

    def lying(self, raw):
        encoded = real(self, raw)
        method, raw_len, enc_len = frames.FRAME_HEADER.unpack_from(encoded)
        if method == frames.ZSTD:  # announce one byte more than the zstd frame holds
            return frames.FRAME_HEADER.pack(method, raw_len + 1, enc_len) + encoded[frames.FRAME_HEADER.size:]
        return encoded

    monkeypatch.setattr(frames.FrameEncoder, "encode", lying)
    _writer, sealed = _seal(tmp_path / "out", signer, store[0], patients=300, attachment=1000)
    monkeypatch.undo()
    verify_bundle(sealed.path)  # the outer layers are sound: the writer signed what it wrote
    with pytest.raises(BundleError, match=r"Part 0 of '.*' decrypts but its compression frames are not valid"):
        open_bundle(sealed.path, store[1], tmp_path / "o")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_v1_journal_resumes_as_v1(tmp_path: Path, signer, store) -> None:
    """A bundle started before emrx/v2 (journal without a format) is finished in the format it began."""
    out, part = tmp_path / "out", 64 * 1024
    cancel = threading.Event()
    writer = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                               part_size=part, compress=False)
    with pytest.raises(ExportCancelled):
        writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest),
                     lambda n: cancel.set() if n >= 2 * part else None, cancel)
    journal = Journal.load(out, "k")
    assert journal is not None and journal.state.format == "emrx/v1"
    # what an older version wrote: no "format" key at all
    raw = journal.state_path.read_text("utf-8").replace('"format": "emrx/v1"', '"unused": 0')
    journal.state_path.write_text(raw, "utf-8")
    again = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                              part_size=part)
    assert again.resumed and again.format == "emrx/v1"
    sealed = again.write(bag_stream(again.bundle_id, again.sign_tagmanifest))
    assert verify_bundle(sealed.path).format == "emrx/v1"
    assert sealed.file_sha256 == hashlib.sha256(sealed.path.read_bytes()).hexdigest()  # resumed: prefix re-read
    assert open_bundle(sealed.path, store[1], tmp_path / "o").plaintext_sha256 == sealed.plaintext_sha256


def test_frame_decoder_refuses_trailing_data_and_bad_headers() -> None:
    good = frames.encode_frames(b"x" * 5000)
    assert b"".join(frames.FrameDecoder().feed(good)) == b"x" * 5000
    method, raw_len, enc_len = frames.FRAME_HEADER.unpack_from(good)
    assert method == frames.ZSTD and raw_len == 5000 and enc_len < 100
    smuggled = frames.FRAME_HEADER.pack(method, raw_len, enc_len + 3) + good[9:] + b"abc"
    with pytest.raises(frames.FrameError):
        list(frames.FrameDecoder().feed(smuggled))  # bytes hidden after the zstd frame
    with pytest.raises(frames.FrameError):
        list(frames.FrameDecoder().feed(frames.FRAME_HEADER.pack(0, 10, 9) + b"z" * 9))
    with pytest.raises(frames.FrameError):
        list(frames.FrameDecoder().feed(frames.FRAME_HEADER.pack(2, 10, 10) + b"z" * 10))
    decoder = frames.FrameDecoder()
    assert list(decoder.feed(good[:-1])) == []
    with pytest.raises(frames.FrameError):
        decoder.finish()  # the part ends inside a frame
