"""Seal → file → verify → open gives back the bag byte for byte; RSA-OAEP and HPKE recipients."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import bagit
import pytest
from bundle_testkit import (
    PATIENT_NAME,
    attachment_bytes,
    bag_stream,
    find_markers,
    make_signer,
    make_store,
    pem,
    records,
)

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.reader import open_bundle, verify_bundle
from emr_exporter.bundle.writer import BundleWriter, bundle_file_name
from emr_exporter.model import KST

PART = 64 * 1024


def seal(out: Path, signer, recipient, *, export_key: str = "test|db", **kw):
    writer = BundleWriter.open(
        out, signer=signer, recipient=recipient, institution_code="12345678", export_key=export_key,
        part_size=PART,
    )
    sealed = writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest, **kw), summary={"Patient": 50})
    return writer, sealed


def plaintext_of(writer: BundleWriter) -> bytes:
    return b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest))


def test_round_trip_gives_back_identical_bag(tmp_path: Path, signer, store, ca, tar_extraction: str) -> None:
    recipient, store_key = store
    writer, sealed = seal(tmp_path / "out", signer, recipient)
    plaintext = plaintext_of(writer)  # same stream again: deterministic, inner signature cached
    assert sealed.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert sealed.plaintext_size == len(plaintext)
    assert sealed.parts == len(plaintext) // PART + 1
    assert sealed.path.name == f"12345678-{writer.created.astimezone(KST):%Y%m%d}-{writer.bundle_id[:8]}.emrx"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [sealed.path.name]  # no journal left

    report = verify_bundle(sealed.path, [ca.cert])
    assert (report.bundle_id, report.parts, report.size, report.trusted) == (
        writer.bundle_id, sealed.parts, sealed.size, True
    )
    assert report.institution_code == "12345678"
    assert report.counts == {"Patient": 50}
    assert report.plaintext_size == len(plaintext)

    opened = open_bundle(sealed.path, store_key, tmp_path / "opened", trust_anchors=[ca.cert])
    assert opened.plaintext_sha256 == sealed.plaintext_sha256
    assert opened.reconciliation == {"Patient": {"source": 50, "exported": 50, "quarantined": 0}}
    assert opened.bag_dir == tmp_path / "opened" / writer.bundle_id / "bag"
    # Every member of the original tar is on disk with identical bytes, and nothing else.
    with tarfile.open(fileobj=io.BytesIO(plaintext)) as tar:
        expected = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    root = tmp_path / "opened" / writer.bundle_id
    found = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert found == expected
    assert found["bag/data/attachments/scan-0001.pdf"] == attachment_bytes(300_000)
    bagit.Bag(str(opened.bag_dir)).validate()  # an independent BagIt validator agrees
    assert opened.payload_files == 4  # Patient ndjson, scan, reconciliation, fhir manifest


def test_ec_institution_and_hpke_store(tmp_path: Path, ca) -> None:
    signer = make_signer(ca, "ec")
    recipient, store_key = make_store(ca, "ec")
    _writer, sealed = seal(tmp_path / "out", signer, recipient, attachment_size=10_000)
    header = verify_bundle(sealed.path, [ca.cert]).header
    assert header["key_wrap"]["alg"] == "HPKE-P384-SHA384-AES256GCM"
    opened = open_bundle(sealed.path, store_key, tmp_path / "opened")
    assert opened.plaintext_sha256 == sealed.plaintext_sha256



def test_exact_multiple_of_part_size_ends_with_an_empty_final_part(tmp_path: Path, signer, store) -> None:
    recipient, _store_key = store
    writer = BundleWriter.open(tmp_path / "out", signer=signer, recipient=recipient, institution_code="1",
                               export_key="k", part_size=16384)
    data = attachment_bytes(3 * 16384)
    sealed = writer.write([data])
    parts = [r for r in records(sealed.path) if r.type == fmt.PART]
    assert len(parts) == 4 and len(parts[-1].body) - 24 == 72  # empty Cobblestone message
    assert verify_bundle(sealed.path).plaintext_size == len(data)


def test_no_plaintext_on_disk_after_sealing(tmp_path: Path, signer, store) -> None:
    out = tmp_path / "out"
    seal(out, signer, store[0])
    assert find_markers(out) == []
    assert find_markers(tmp_path) == []


def test_openssl_verifies_header_and_trailer_signatures(tmp_path: Path, signer, store, ca) -> None:
    _writer, sealed = seal(tmp_path / "out", signer, store[0], attachment_size=1000)
    by_type = {r.type: r.body for r in records(sealed.path)}
    (tmp_path / "ca.pem").write_bytes(pem(ca.cert))
    for content, signature in ((fmt.HEAD, fmt.HSIG), (fmt.TRLR, fmt.TSIG)):
        (tmp_path / "content").write_bytes(by_type[content])
        (tmp_path / "sig.der").write_bytes(by_type[signature])
        done = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
             "-content", str(tmp_path / "content"), "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "any",
             "-out", "/dev/null"],
            capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "Verification successful" in done.stderr
        (tmp_path / "content").write_bytes(by_type[content] + b" ")
        tampered = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
             "-content", str(tmp_path / "content"), "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "any",
             "-out", "/dev/null"],
            capture_output=True, text=True,
        )
        assert tampered.returncode != 0


def test_inner_signature_is_cached_for_resume(tmp_path: Path, signer, store) -> None:
    writer = BundleWriter.open(tmp_path / "out", signer=signer, recipient=store[0], institution_code="1",
                               export_key="k", part_size=PART)
    first = writer.sign_tagmanifest(b"tagmanifest")
    again = BundleWriter.open(tmp_path / "out", signer=signer, recipient=store[0], institution_code="1",
                              export_key="k", part_size=PART)
    assert again.resumed and again.bundle_id == writer.bundle_id
    assert again.sign_tagmanifest(b"tagmanifest") == first
    assert PATIENT_NAME  # markers module imported for the scan tests


@pytest.mark.parametrize("bad_size", [1000, 16384 + 1, 0])
def test_part_size_must_be_a_multiple_of_the_chunk(tmp_path: Path, signer, store, bad_size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 16384"):
        BundleWriter.open(tmp_path, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                          part_size=bad_size)


def _archive_end(plaintext: bytes) -> int:
    with tarfile.open(fileobj=io.BytesIO(plaintext)) as tar:
        last = tar.getmembers()[-1]
    return last.offset_data + -(-last.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE + 2 * tarfile.BLOCKSIZE


def test_a_bag_whose_record_padding_crosses_the_readers_buffer_opens(tmp_path: Path, signer, store, ca) -> None:
    # Before: 'open' and 'verify --key' refused a sound bundle with "'….emrx' has data after the end of its tar
    # archive." whenever the archive's end blocks lay just below a multiple of the reader's 1 MiB buffer: tarfile
    # stops reading there, and the zeros padding the archive to a whole 10240-byte record were left unread
    # (a sealed export of the app clinic of tests/test_sqlite_app_clinic.py hit it: ~1 bundle in 100).
    recipient, store_key = store
    from emr_exporter.bundle.reader import READ_CHUNK

    probe = BundleWriter.open(tmp_path / "probe", signer=signer, recipient=recipient, institution_code="12345678",
                              export_key="probe", part_size=PART)
    size = 300_000
    end = _archive_end(b"".join(bag_stream(probe.bundle_id, probe.sign_tagmanifest, attachment_size=size)))
    size += READ_CHUNK - 2 * tarfile.BLOCKSIZE - end  # the end blocks finish 1 KiB below the buffer's end
    writer, sealed = seal(tmp_path / "out", signer, recipient, attachment_size=size)
    plaintext = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest, attachment_size=size))
    end = _archive_end(plaintext)
    assert end <= READ_CHUNK < len(plaintext) and not plaintext[end:].strip(b"\0")  # the case, as built
    opened = open_bundle(sealed.path, store_key, tmp_path / "opened", trust_anchors=[ca.cert])
    assert opened.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert (opened.bag_dir / "data/attachments/scan-0001.pdf").read_bytes() == attachment_bytes(size)


@pytest.mark.parametrize("after", [b"\0" * 10240, b"\0\0junk"])
def test_anything_but_the_record_padding_after_the_archive_is_refused(tmp_path: Path, signer, store,
                                                                      after: bytes) -> None:
    from emr_exporter.errors import BundleError

    recipient, store_key = store
    writer = BundleWriter.open(tmp_path / "out", signer=signer, recipient=recipient, institution_code="12345678",
                               export_key="after", part_size=PART)
    sealed = writer.write([*bag_stream(writer.bundle_id, writer.sign_tagmanifest), after])
    with pytest.raises(BundleError, match=r"has data after the end of its tar archive\.$"):
        open_bundle(sealed.path, store_key, tmp_path / "opened")


def test_the_file_name_has_the_day_in_korea() -> None:
    # 20:00 UTC on 5 December is 05:00 KST on the 6th: the founder's file says the 6th; 14:59 UTC is still the 5th
    late = dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC)
    assert bundle_file_name("12345678", late, "0123456789abcdef") == "12345678-20261206-01234567.emrx"
    assert bundle_file_name("12345678", late.replace(hour=14, minute=59), "0123456789abcdef") == (
        "12345678-20261205-01234567.emrx")
