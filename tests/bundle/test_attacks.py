"""Every attack on a sealed bundle is detected, named, and caught before any decrypted byte is used."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path

import pytest
from bundle_testkit import assemble, bag_stream, make_store, part_body, records
from cryptography.hazmat.primitives.asymmetric import rsa

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.reader import open_bundle, verify_bundle
from emr_exporter.bundle.writer import BundleWriter
from emr_exporter.errors import BundleError

PART = 64 * 1024


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, signer, store):
    """Two sealed bundles (A, B) of the same institution, for splicing attacks."""
    out = tmp_path_factory.mktemp("sealed")
    sealed = []
    for key in ("a", "b"):
        writer = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="12345678",
                                   export_key=key, part_size=PART)
        sealed.append(writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest)))
    return sealed


def _attack(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "attacked.emrx"
    path.write_bytes(data)
    return path


def _parts(recs):
    return [i for i, r in enumerate(recs) if r.type == fmt.PART]


def flipped_bit(a: Path, b: Path) -> bytes:
    data = bytearray(a.read_bytes())
    rec = records(a)[_parts(records(a))[1]]
    data[rec.offset + 12 + 24 + 5000] ^= 0x01
    return bytes(data)


def swapped_parts(a: Path, b: Path) -> bytes:
    recs = records(a)
    i, j = _parts(recs)[1], _parts(recs)[2]
    recs[i], recs[j] = recs[j], recs[i]
    return assemble(recs)


def part_from_other_bundle(a: Path, b: Path) -> bytes:
    recs, other = records(a), records(b)
    recs[_parts(recs)[1]] = other[_parts(other)[1]]
    return assemble(recs)


def truncated_part(a: Path, b: Path) -> bytes:
    recs = records(a)
    i = _parts(recs)[1]
    recs[i].body = recs[i].body[: -(fmt.CHUNK + fmt.CHUNK_OVERHEAD)]  # one chunk less, framing fixed up
    return assemble(recs)


def file_cut_in_a_part(a: Path, b: Path) -> bytes:
    recs = records(a)
    return a.read_bytes()[: recs[_parts(recs)[2]].offset + 1000]


def missing_final_part(a: Path, b: Path) -> bytes:
    recs = records(a)
    del recs[_parts(recs)[-1]]
    return assemble(recs)


def missing_trailer(a: Path, b: Path) -> bytes:
    recs = records(a)
    return assemble([r for r in recs if r.type not in (fmt.TRLR, fmt.TSIG)])


def edited_trailer(a: Path, b: Path) -> bytes:
    recs = records(a)
    trailer = next(r for r in recs if r.type == fmt.TRLR)
    value = json.loads(trailer.body)
    value["n_parts"] -= 1  # e.g. to hide a dropped part
    value["parts"].pop()
    trailer.body = fmt.canonical_json(value)
    return assemble(recs)


def foreign_header(a: Path, b: Path) -> bytes:
    recs, other = records(a), records(b)
    recs[0], recs[1] = other[0], other[1]
    return assemble(recs)


def relabelled_part(a: Path, b: Path) -> bytes:
    recs = records(a)
    i = _parts(recs)[1]
    recs[i].body = part_body(7, recs[i].body[8:24], recs[i].body[24:])
    return assemble(recs)


ATTACKS = [
    (flipped_bit, r"Part 1 .* was changed after sealing: its SHA-256 does not match"),
    (swapped_parts, r"out of order: position 1 holds part 2"),
    (part_from_other_bundle, r"Part 1 .* comes from another bundle"),
    (truncated_part, r"Part 1 .* is truncated: \d+ bytes instead of the signed \d+"),
    (file_cut_in_a_part, r"ends in the middle of part 2: the file was cut short"),
    (missing_final_part, r"The final part \(part \d+ of \d+\) .* is missing"),
    (missing_trailer, r"incomplete: it ends after \d+ part\(s\) without its signed trailer"),
    (edited_trailer, r"The bundle trailer was changed after it was signed"),
    (foreign_header, r"does not belong to this bundle \(foreign header\)"),
    (relabelled_part, r"framing of part 1 .* was altered"),
]


@pytest.mark.parametrize(("attack", "message"), ATTACKS, ids=[a.__name__ for a, _ in ATTACKS])
def test_attack_is_detected_before_decryption(tmp_path: Path, bundles, store, attack, message: str) -> None:
    a, b = bundles
    attacked = _attack(tmp_path, attack(a.path, b.path))
    with pytest.raises(BundleError, match=message):
        verify_bundle(attacked)
    out = tmp_path / "opened"
    with pytest.raises(BundleError, match=message):
        open_bundle(attacked, store[1], out)
    assert not out.exists()  # failed before anything was decrypted or written


def test_wrong_store_key(tmp_path: Path, bundles, ca) -> None:
    _, other_key = make_store(ca, "rsa")
    out = tmp_path / "opened"
    with pytest.raises(BundleError, match=r"encrypted for a different store key \(key id [0-9a-f]{16}…\)"):
        open_bundle(bundles[0].path, other_key, out)
    assert not out.exists()
    assert verify_bundle(bundles[0].path).parts == bundles[0].parts  # the untouched file is fine


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="is not a sealed bundle"):
        verify_bundle(_attack(tmp_path, b"PK\x03\x04 a zip file"))


def test_untrusted_institution(bundles, ca) -> None:
    from bundle_testkit import make_ca

    from emr_exporter.errors import CertificateError

    with pytest.raises(CertificateError, match="does not chain up to the trusted certification authority"):
        verify_bundle(bundles[0].path, [make_ca("CN=Other CA").cert])


def _seal_raw_tar(out: Path, signer, recipient, tar_bytes: bytes):
    writer = BundleWriter.open(out, signer=signer, recipient=recipient, institution_code="1",
                               export_key=str(uuid.uuid4()), part_size=PART)
    return writer.write([tar_bytes])


def _tar(*members: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            tar.addfile(m, io.BytesIO(data) if m.isfile() else None)
    return buf.getvalue()


@pytest.mark.parametrize("evil", ["../escape.txt", "/tmp/absolute-escape.txt", "bag/../../escape.txt"])
def test_extraction_cannot_write_outside_its_folder(tmp_path: Path, signer, store, evil: str,
                                                    tar_extraction: str) -> None:
    member = tarfile.TarInfo(evil)
    member.size = 1
    sealed = _seal_raw_tar(tmp_path / "out", signer, store[0], _tar(member))
    out = tmp_path / "deep" / "opened"
    with pytest.raises(BundleError, match="tries to write outside its folder"):
        open_bundle(sealed.path, store[1], out)
    assert not (tmp_path / "deep" / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()
    assert not Path("/tmp/absolute-escape.txt").exists()
    assert list(out.iterdir()) == []  # the staging folder is removed


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE])
def test_links_are_refused(tmp_path: Path, signer, store, kind: bytes, tar_extraction: str) -> None:
    link = tarfile.TarInfo("bag/data/link")
    link.type = kind
    link.linkname = "/etc/passwd"
    sealed = _seal_raw_tar(tmp_path / "out", signer, store[0], _tar(link))
    with pytest.raises(BundleError, match="contains a link or special file"):
        open_bundle(sealed.path, store[1], tmp_path / "opened")


def test_tampered_bag_manifest_is_detected(tmp_path: Path, signer, store) -> None:
    """The institution itself can't slip an unlisted file past the manifest check."""
    writer = BundleWriter.open(tmp_path / "out", signer=signer, recipient=store[0], institution_code="1",
                               export_key="m", part_size=PART)
    plain = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest))
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(plain)) as src, tarfile.open(fileobj=buf, mode="w") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        extra = tarfile.TarInfo("bag/data/smuggled.txt")
        extra.size = 1
        dst.addfile(extra, io.BytesIO(b"x"))
    sealed = writer.write([buf.getvalue()])
    with pytest.raises(BundleError, match="1 payload file\\(s\\) not in its manifest"):
        open_bundle(sealed.path, store[1], tmp_path / "opened")


def test_store_key_of_other_type_cannot_open(tmp_path: Path, bundles) -> None:
    with pytest.raises(BundleError, match="different store key"):
        open_bundle(bundles[0].path, rsa.generate_private_key(65537, 2048), tmp_path / "o")
