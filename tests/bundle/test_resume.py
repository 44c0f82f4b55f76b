"""Crash safety: kill -9 mid-write and rerun → the same bundle, finished, verifying; source changes refused."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from bundle_testkit import bag_stream, find_markers

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.journal import Journal
from emr_exporter.bundle.keys import load_store_private_key
from emr_exporter.bundle.reader import open_bundle, verify_bundle
from emr_exporter.bundle.writer import BundleWriter
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.errors import BundleError, ExportCancelled

CHILD = Path(__file__).with_name("seal_child.py")
PART = 64 * 1024


@pytest.fixture(scope="module")
def demo_keys(tmp_path_factory: pytest.TempPathFactory):
    return make_demo_keys(tmp_path_factory.mktemp("keys"))


def _child(out: Path, keys_dir: Path, stall_at: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHILD.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(CHILD), str(out), str(keys_dir), str(stall_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("stall_at", [5 * PART + 20_000, 0])
def test_kill_9_mid_write_then_rerun_finishes_the_same_bundle(tmp_path: Path, demo_keys, stall_at: int) -> None:
    out = tmp_path / "out"
    child = _child(out, demo_keys.folder, stall_at)
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("STALLED"):
            break
    else:
        pytest.fail(f"child ended without stalling: {child.stderr.read() if child.stderr else ''}")
    child.send_signal(signal.SIGKILL)  # a real kill -9: no cleanup, no atexit, no flush
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    journal = Journal.load(out, "demo|test")
    assert journal is not None and journal.state.state == "writing"
    before = [(p.index, p.ciphertext_sha256) for p in journal.parts]
    assert len(before) == stall_at // PART  # every finished part was journaled
    spool = out / (journal.state.file_name + ".partial")
    assert spool.exists()
    assert find_markers(tmp_path) == []  # no plaintext on disk, not even mid-write

    rerun = _child(out, demo_keys.folder, -1)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["resumed"] is True
    assert result["bundle_id"] == journal.state.bundle_id
    path = Path(result["path"])
    assert sorted(p.name for p in out.iterdir()) == [path.name]  # spool renamed, journal gone

    report = verify_bundle(path, [demo_keys.signer.chain[0]])
    assert report.trusted and report.bundle_id == journal.state.bundle_id
    # Finished parts were kept as they were, not re-encrypted.
    assert [(p["index"], p["sha256"]) for p in report.trailer["parts"][: len(before)]] == before
    opened = open_bundle(path, load_store_private_key(demo_keys.store_key), tmp_path / "opened")
    assert opened.plaintext_sha256 == result["plaintext_sha256"]
    assert (opened.bag_dir / "data" / "attachments" / "scan-0001.pdf").stat().st_size == 600_000


def test_cancel_then_resume_reuses_finished_parts_and_never_reuses_a_salt(tmp_path: Path, signer, store) -> None:
    recipient, store_key = store
    out = tmp_path / "out"
    cancel = threading.Event()
    writer = BundleWriter.open(out, signer=signer, recipient=recipient, institution_code="1", export_key="k",
                               part_size=PART)

    def cancel_after_three_parts(position: int) -> None:
        if position >= 3 * PART:
            cancel.set()

    with pytest.raises(ExportCancelled, match="run the same export again to continue"):
        writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest), cancel_after_three_parts, cancel)
    spool = writer.spool_path.read_bytes()
    salts_before = {spool[p.end_offset - p.ciphertext_size - 0: p.end_offset - p.ciphertext_size + 24]
                    for p in Journal.load(out, "k").parts}
    assert len(salts_before) == 3

    again = BundleWriter.open(out, signer=signer, recipient=recipient, institution_code="1", export_key="k",
                              part_size=PART)
    assert again.resumed and again.bundle_id == writer.bundle_id and again.created == writer.created
    sealed = again.write(bag_stream(again.bundle_id, again.sign_tagmanifest))
    data = sealed.path.read_bytes()
    salts = []
    pos = len(fmt.MAGIC)
    while pos < len(data):
        kind, length = fmt.RECORD_HEADER.unpack_from(data, pos)
        if kind == fmt.PART:
            salts.append(data[pos + 12 + 24: pos + 12 + 24 + 24])
        pos += 12 + length
    assert set(salts[:3]) == salts_before and len(set(salts)) == len(salts)  # fresh salt for every new part
    assert open_bundle(sealed.path, store_key, tmp_path / "o").plaintext_sha256 == sealed.plaintext_sha256


def test_changed_source_on_resume_is_refused_with_instructions(tmp_path: Path, signer, store) -> None:
    out = tmp_path / "out"
    cancel = threading.Event()
    writer = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                               part_size=PART)
    with pytest.raises(ExportCancelled):
        writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest),
                     lambda n: cancel.set() if n >= 2 * PART else None, cancel)
    again = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                              part_size=PART)
    changed = bag_stream(again.bundle_id, again.sign_tagmanifest, seed=b"another scan")  # attachment changed
    with pytest.raises(BundleError, match=r"The records changed since this export was interrupted \(part \d+ no "
                                          r"longer has the same content\).*Start the export over: delete"):
        again.write(changed)
    BundleWriter.discard(out, "k")
    fresh = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                              part_size=PART)
    assert not fresh.resumed and fresh.bundle_id != writer.bundle_id


def test_resume_with_other_certificate_is_refused(tmp_path: Path, signer, store, ca) -> None:
    from bundle_testkit import make_signer

    BundleWriter.open(tmp_path, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                      part_size=PART)
    with pytest.raises(BundleError, match="started with a different institution certificate"):
        BundleWriter.open(tmp_path, signer=make_signer(ca, "ec"), recipient=store[0], institution_code="1",
                          export_key="k", part_size=PART)


def test_resume_refuses_a_damaged_spool_part(tmp_path: Path, signer, store) -> None:
    """A journaled part is read back and decrypted on resume: a changed byte in the spool is caught."""
    out = tmp_path / "out"
    cancel = threading.Event()
    writer = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                               part_size=PART)
    with pytest.raises(ExportCancelled):
        writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest),
                     lambda n: cancel.set() if n >= 2 * PART else None, cancel)
    first = Journal.load(out, "k").parts[0]
    with open(writer.spool_path, "r+b") as fh:
        fh.seek(first.end_offset - 1000)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 1]))
    again = BundleWriter.open(out, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                              part_size=PART)
    with pytest.raises(BundleError, match=r"The unfinished bundle '.*\.emrx\.partial' was damaged \(part 0 no "
                                          r"longer reads back as written\).*Start the export over: delete"):
        again.write(bag_stream(again.bundle_id, again.sign_tagmanifest))


def test_plaintext_digest_can_be_left_to_the_caller(tmp_path: Path, signer, store) -> None:
    writer = BundleWriter.open(tmp_path, signer=signer, recipient=store[0], institution_code="1", export_key="k",
                               part_size=PART)
    sealed = writer.write(bag_stream(writer.bundle_id, writer.sign_tagmanifest), digest_plaintext=False)
    assert sealed.plaintext_sha256 is None
    plaintext = b"".join(bag_stream(writer.bundle_id, writer.sign_tagmanifest))
    opened = open_bundle(sealed.path, store[1], tmp_path / "o")
    assert opened.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert sealed.plaintext_size == len(plaintext)
