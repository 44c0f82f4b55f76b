"""BagStream: the tar it streams extracts safely, validates as BagIt, and is deterministic and bounded."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tracemalloc
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import bagit
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from emr_exporter.errors import ExportError
from emr_exporter.pipeline.bag import OUTPUT_CHUNK_BYTES, BagStream

KST = timezone(timedelta(hours=9))
CREATED = datetime(2026, 11, 26, 8, 30, 0, tzinfo=KST)
BAG_INFO = {
    "Source-Organization": "행복의원",
    "Organization-Identifier": "12345678",
    "External-Identifier": "0f8fad5b-d9cb-469f-a165-70867728950e",
}
ROSTER_NAME = "report/환자명부.csv"


def drain(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def build_sample_bag(
    signer: Ed25519PrivateKey | None = None, *, segment_bytes: int = 200
) -> tuple[BagStream, list[bytes]]:
    """A small bag touching every feature; returns the bag and the chunks it yielded."""
    bag = BagStream(
        bag_info=BAG_INFO,
        created=CREATED,
        segment_bytes=segment_bytes,
        sign_tagmanifest=signer.sign if signer else None,
    )
    out: list[bytes] = []
    for i in range(10):
        out += bag.add_ndjson("fhir/Patient", {"resourceType": "Patient", "id": f"p{i}", "name": "홍길동"})
    out += bag.flush("fhir/Patient")
    for i in range(3):
        out += bag.add_ndjson("fhir/Observation", {"resourceType": "Observation", "id": f"o{i}"})
        out += bag.add_ndjson("raw/lab_result", {"row": i, "reason": "unmapped code"})
    attachment = bytes(range(256)) * 5000  # 1.28 MB, several chunks
    pieces = [attachment[i : i + 100_000] for i in range(0, len(attachment), 100_000)]
    out += bag.add_file("attachments/3f2504e0-4f89-11d3-9a0c-0305e82c3301.pdf", len(attachment), pieces)
    out += bag.add_bytes(ROSTER_NAME, "번호,이름\n1,홍길동\n".encode())
    out += bag.finish({"Recipient": "national-store", "Export-Reason": "closure"})
    return bag, out


def extract(tar_bytes: bytes, into: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        members = tar.getmembers()
        tar.extractall(into, filter="data")
    return members


def test_sample_bag_extracts_validates_and_signature_verifies(tmp_path: Path) -> None:
    signer = Ed25519PrivateKey.generate()
    bag, chunks = build_sample_bag(signer)
    stream = b"".join(chunks)
    members = extract(stream, tmp_path)

    names = [m.name for m in members]
    assert names == [
        "bag/bagit.txt",
        "bag/data/fhir/Patient.0001.ndjson",
        "bag/data/fhir/Patient.0002.ndjson",
        "bag/data/fhir/Patient.0003.ndjson",
        "bag/data/fhir/Patient.0004.ndjson",
        "bag/data/attachments/3f2504e0-4f89-11d3-9a0c-0305e82c3301.pdf",
        f"bag/data/{ROSTER_NAME}",
        "bag/data/fhir/Observation.0001.ndjson",
        "bag/data/raw/lab_result.0001.ndjson",
        "bag/data/fhir/manifest.json",
        "bag/bag-info.txt",
        "bag/manifest-sha256.txt",
        "bag/tagmanifest-sha256.txt",
        "bag/tagmanifest-sha256.txt.p7s",
    ]
    for member in members:
        assert (member.mode, member.uid, member.gid, member.uname, member.gname) == (0o644, 0, 0, "", "")
        assert member.mtime == int(CREATED.timestamp())
        assert member.isreg()
        # No random PAX records: only the UTF-8 path where the name is not ASCII.
        expected_pax = {"path": member.name} if not member.name.isascii() else {}
        assert member.pax_headers == expected_pax

    bagit.Bag(str(tmp_path / "bag")).validate()  # Payload-Oxum, manifest, tagmanifest

    root = tmp_path / "bag"
    tagmanifest = (root / "tagmanifest-sha256.txt").read_bytes()
    signer.public_key().verify((root / "tagmanifest-sha256.txt.p7s").read_bytes(), tagmanifest)
    assert b"p7s" not in tagmanifest

    ndjson_lines = b"".join(
        (root / "data/fhir" / f"Patient.000{n}.ndjson").read_bytes() for n in range(1, 5)
    ).splitlines()
    assert len(ndjson_lines) == 10
    assert ndjson_lines[0] == '{"id":"p0","name":"홍길동","resourceType":"Patient"}'.encode()

    payload = [m for m in bag.members if m[0].startswith("data/")]
    assert bag.payload_files == len(payload) == 9
    assert bag.payload_bytes == sum(size for _, size, _ in payload)
    assert bag.tar_bytes == len(stream) and len(stream) % tarfile.RECORDSIZE == 0
    for path, size, digest in bag.members:
        data = (root / path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)
    # Downstream gets full-size chunks; only the ones emitted by flush()/finish() may be shorter.
    assert sum(len(c) != OUTPUT_CHUNK_BYTES for c in chunks if c) <= 2


def test_bag_info_and_manifests_are_exact(tmp_path: Path) -> None:
    bag, chunks = build_sample_bag()
    extract(b"".join(chunks), tmp_path)
    root = tmp_path / "bag"
    assert (root / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    assert (root / "bag-info.txt").read_text("utf-8") == (
        "Source-Organization: 행복의원\n"
        "Organization-Identifier: 12345678\n"
        "External-Identifier: 0f8fad5b-d9cb-469f-a165-70867728950e\n"
        "Recipient: national-store\n"
        "Export-Reason: closure\n"
        f"Payload-Oxum: {bag.payload_bytes}.9\n"
        "Bagging-Date: 2026-11-26\n"
        "Bag-Size: 1.3 MB\n"
    )
    manifest = (root / "manifest-sha256.txt").read_bytes()
    lines = manifest.decode("utf-8").splitlines()
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths) and len(paths) == 9
    assert f"data/{ROSTER_NAME}" in paths
    assert b"\r" not in manifest and manifest.endswith(b"\n")
    tagmanifest = (root / "tagmanifest-sha256.txt").read_text("utf-8")
    assert [line.split("  ")[1] for line in tagmanifest.splitlines()] == [
        "bag-info.txt",
        "bagit.txt",
        "manifest-sha256.txt",
    ]
    assert not (root / "tagmanifest-sha256.txt.p7s").exists()  # no signer given


def test_fhir_manifest_json_is_exact(tmp_path: Path) -> None:
    _, chunks = build_sample_bag()
    extract(b"".join(chunks), tmp_path)
    raw = (tmp_path / "bag/data/fhir/manifest.json").read_bytes()
    expected = {
        "transactionTime": "2026-11-26T08:30:00+09:00",
        "requiresAccessToken": False,
        "output": [
            {"type": "Patient", "url": "Patient.0001.ndjson", "count": 3},
            {"type": "Patient", "url": "Patient.0002.ndjson", "count": 3},
            {"type": "Patient", "url": "Patient.0003.ndjson", "count": 3},
            {"type": "Patient", "url": "Patient.0004.ndjson", "count": 1},
            {"type": "Observation", "url": "Observation.0001.ndjson", "count": 3},
        ],
        "error": [],
    }
    assert json.loads(raw) == expected
    assert raw == (json.dumps(expected, sort_keys=True, separators=(",", ":")) + "\n").encode()


def test_same_calls_give_byte_identical_streams() -> None:
    signing_key = Ed25519PrivateKey.generate()  # Ed25519 signatures are deterministic
    first = b"".join(build_sample_bag(signing_key)[1])
    second = b"".join(build_sample_bag(signing_key)[1])
    assert first == second
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def segment_sizes(bag_bytes: bytes) -> dict[str, int]:
    with tarfile.open(fileobj=io.BytesIO(bag_bytes), mode="r:") as tar:
        return {m.name: m.size for m in tar.getmembers() if m.name.endswith(".ndjson")}


def test_segment_rollover_at_exact_boundary() -> None:
    line = b'{"i":1}\n'  # every {"i": <digit>} line is 8 bytes
    assert len(line) == 8
    # 24 bytes fit exactly three lines; the fourth starts segment 0002.
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=24)
    stream = b"".join(b"".join(bag.add_ndjson("raw/t", {"i": i})) for i in range(7)) + drain(bag.finish())
    assert segment_sizes(stream) == {
        "bag/data/raw/t.0001.ndjson": 24,
        "bag/data/raw/t.0002.ndjson": 24,
        "bag/data/raw/t.0003.ndjson": 8,
    }
    # One byte less: only two lines fit.
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=23)
    stream = b"".join(b"".join(bag.add_ndjson("raw/t", {"i": i})) for i in range(5)) + drain(bag.finish())
    assert segment_sizes(stream) == {
        "bag/data/raw/t.0001.ndjson": 16,
        "bag/data/raw/t.0002.ndjson": 16,
        "bag/data/raw/t.0003.ndjson": 8,
    }


def test_a_line_larger_than_the_segment_goes_alone() -> None:
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=20)
    big = {"text": "x" * 40}  # 52-byte line: {"text":" + 40 + "} + LF
    calls = [("raw/t", {"i": 1}), ("raw/t", big), ("raw/t", {"i": 2})]
    stream = b"".join(drain(bag.add_ndjson(g, o)) for g, o in calls) + drain(bag.finish())
    assert segment_sizes(stream) == {
        "bag/data/raw/t.0001.ndjson": 8,
        "bag/data/raw/t.0002.ndjson": 52,
        "bag/data/raw/t.0003.ndjson": 8,
    }


def test_a_line_larger_than_the_segment_is_written_not_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: an oversized line (a carried 50 MB scan's base64) was first copied into the segment's buffer, one
    # more copy of it at once (docs/performance.md, "Huge BLOBs"). Now its member's data is the line itself.
    written: list[tuple[str, Any]] = []
    member = BagStream._member

    def recorded(self: BagStream, rel: str, data: bytes | bytearray, *, payload: bool = False) -> Iterator[bytes]:
        written.append((rel, data))
        return member(self, rel, data, payload=payload)

    monkeypatch.setattr(BagStream, "_member", recorded)
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=20)
    big = b'{"text":"' + b"x" * 40 + b'"}\n'
    stream = drain(bag.add_ndjson("raw/t", {"i": 1})) + drain(bag.add_line("raw/t", big))
    stream += drain(bag.add_ndjson("raw/t", {"i": 2})) + drain(bag.finish())
    segments = [(rel, data) for rel, data in written if rel.startswith("data/raw/t.")]
    assert [rel for rel, _ in segments] == ["data/raw/t.0001.ndjson", "data/raw/t.0002.ndjson", "data/raw/t.0003.ndjson"]
    assert segments[1][1] is big
    assert segment_sizes(stream) == {"bag/data/raw/t.0001.ndjson": 8, "bag/data/raw/t.0002.ndjson": 52,
                                     "bag/data/raw/t.0003.ndjson": 8}


def test_flush_emits_everything_added_so_far() -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    assert drain(bag.add_ndjson("raw/t", {"i": 1})) == b""  # buffered in the segment
    flushed = drain(bag.flush())
    assert len(flushed) == bag.tar_bytes == 4 * 512  # bagit.txt and the segment: header + data each
    assert drain(bag.flush()) == b""  # nothing new


def test_add_file_with_wrong_size_is_an_error_and_breaks_the_bag() -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    with pytest.raises(ExportError) as too_long:
        drain(bag.add_file("attachments/a.pdf", 10, [b"12345", b"678901"]))
    assert str(too_long.value) == (
        "The file data/attachments/a.pdf grew while it was being exported (expected 10 bytes, got more). "
        "Make sure nothing is changing the clinic's files, then run the export again."
    )
    with pytest.raises(ExportError, match="did not complete"):
        drain(bag.finish())

    bag = BagStream(bag_info={}, created=CREATED)
    with pytest.raises(ExportError) as too_short:
        drain(bag.add_file("attachments/b.pdf", 10, [b"12345"]))
    assert str(too_short.value) == (
        "The file data/attachments/b.pdf shrank while it was being exported (expected 10 bytes, got 5). "
        "Make sure nothing is changing the clinic's files, then run the export again."
    )


@pytest.mark.parametrize(
    "bad",
    ["../etc/passwd", "a/../../b", "/etc/passwd", "a\\b", "a//b", "a/./b", "a/", "", "a\nb", "100%.txt"],
)
def test_unsafe_paths_are_rejected(bad: str) -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    with pytest.raises(ValueError):
        drain(bag.add_bytes(bad, b"x"))
    with pytest.raises(ValueError):
        drain(bag.add_ndjson(bad, {}))
    with pytest.raises(ValueError):
        drain(bag.add_file(bad, 1, [b"x"]))
    # A rejected name leaves the bag usable.
    assert drain(bag.add_bytes("ok.txt", b"x")) == b""
    assert len(drain(bag.finish())) % tarfile.RECORDSIZE == 0


def test_duplicate_names_are_rejected_including_case_and_normalisation() -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    nfc = unicodedata.normalize("NFC", "report/명부.csv")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    drain(bag.add_bytes(nfc, b"1"))
    for duplicate in (nfc, nfd, "REPORT/명부.CSV", "fhir/manifest.json", "report/명부.csv/x", "report"):
        with pytest.raises(ValueError):
            drain(bag.add_bytes(duplicate, b"2"))
    assert bag.payload_files == 1


def test_korean_file_name_is_stored_nfc_in_a_pax_path(tmp_path: Path) -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    nfd_name = unicodedata.normalize("NFD", "report/진료기록_목록.csv")
    stream = drain(bag.add_bytes(nfd_name, "목록\n".encode())) + drain(bag.finish())
    members = extract(stream, tmp_path)
    stored = members[1]
    assert stored.name == unicodedata.normalize("NFC", f"bag/data/{nfd_name}")
    assert stored.pax_headers == {"path": stored.name}
    assert (tmp_path / stored.name).read_text("utf-8") == "목록\n"
    bagit.Bag(str(tmp_path / "bag")).validate()


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BagStream(bag_info={}, created=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="computed"):
        BagStream(bag_info={"Payload-Oxum": "1.1"}, created=CREATED)
    with pytest.raises(ValueError, match="single-line"):
        BagStream(bag_info={"Source-Organization": "a\nb"}, created=CREATED)
    bag = BagStream(bag_info={"Recipient": "x"}, created=CREATED)
    with pytest.raises(ValueError, match="given twice"):
        drain(bag.finish({"Recipient": "y"}))


def test_empty_bag_is_valid(tmp_path: Path) -> None:
    bag = BagStream(bag_info={}, created=datetime(2026, 1, 1, tzinfo=UTC))
    extract(drain(bag.finish()), tmp_path)
    bagit.Bag(str(tmp_path / "bag")).validate()
    manifest = b'{"error":[],"output":[],"requiresAccessToken":false,"transactionTime":"2026-01-01T00:00:00+00:00"}\n'
    assert (tmp_path / "bag/data/fhir/manifest.json").read_bytes() == manifest
    assert len(manifest) == 99
    assert (tmp_path / "bag/bag-info.txt").read_text() == (
        "Payload-Oxum: 99.1\nBagging-Date: 2026-01-01\nBag-Size: 99 B\n"
    )
    with pytest.raises(ExportError, match="already finished"):
        drain(bag.add_bytes("late.txt", b"x"))


def test_streaming_a_200_mb_file_keeps_memory_flat() -> None:
    file_size = 200 * 1024 * 1024
    chunk_size = 1024 * 1024

    expected_digest = hashlib.sha256()

    def file_chunks() -> Iterator[bytes]:
        for i in range(file_size // chunk_size):
            chunk = bytes([i % 256]) * chunk_size  # a fresh allocation every time, like a file read
            expected_digest.update(chunk)
            yield chunk

    bag = BagStream(bag_info={}, created=CREATED)
    consumed = 0
    tracemalloc.start()
    try:
        for piece in bag.add_file("attachments/big.bin", file_size, file_chunks()):
            consumed += len(piece)
        for piece in bag.finish():
            consumed += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert consumed == bag.tar_bytes
    assert bag.members[1] == ("data/attachments/big.bin", file_size, expected_digest.hexdigest())
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_a_step_that_was_never_run_stops_the_bag() -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    bag.add_bytes("report/a.txt", b"a")  # forgotten `yield from`: nothing was written
    with pytest.raises(ExportError) as skipped:
        drain(bag.add_bytes("report/b.txt", b"b"))
    assert str(skipped.value) == (
        "Internal error: an earlier step writing the bag was skipped or did not complete, so "
        "the bag is incomplete. Run the export again."
    )
    with pytest.raises(ExportError, match="skipped or did not complete"):
        drain(bag.finish())


def test_bad_names_are_rejected_when_called_not_only_when_iterated() -> None:
    bag = BagStream(bag_info={}, created=CREATED)
    with pytest.raises(ValueError, match="has an empty"):
        bag.add_file("../x", 1, [b"x"])  # not iterated
    with pytest.raises(ValueError, match="used twice"):
        bag.add_bytes("fhir/manifest.json", b"{}")


def test_ndjson_memory_is_bounded_by_the_open_segments() -> None:
    segment_bytes = 256 * 1024
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=segment_bytes)
    record = {"resourceType": "Observation", "note": "검사 결과 " * 50}
    produced = 0
    tracemalloc.start()
    try:
        for group in ("fhir/Observation", "raw/lab_result"):
            for i in range(10_000):  # ~7.5 MB per group
                for piece in bag.add_ndjson(group, {**record, "id": str(i)}):
                    produced += len(piece)
            for piece in bag.flush(group):
                produced += len(piece)
        for piece in bag.finish():
            produced += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert produced == bag.tar_bytes > 15_000_000
    # One open segment, one output chunk and one yielded copy, plus the per-file bookkeeping.
    assert peak < 2 * 1024 * 1024, f"peak traced memory {peak} bytes"


@pytest.mark.parametrize("value", [
    1e16, 1e15, 123456789012345678.0, 1e-4, 1e-5, 2.5e-05, -7.2e-08, 1e22, -0.0, 0.0, 5e-324, 0.1, 1 / 3,
    2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**30, True, None, "\x00\x1f\x7f\u2028 \"\\/ 한글 𝄞", "3e-5", "1:0.00001",
    {"b": 1, "a": [1.5e-7, {"z": 0, "é": 1, "e": 2, "\U0001d11e": 3, "\uffff": 4}]}, {1: "int key"}, [(1, 2)],
])
def test_canonical_json_line_is_the_stdlib_form_byte_for_byte(value: object) -> None:
    """orjson where it agrees, the stdlib encoder where it would not (tiny floats, > 64-bit ints, non-str keys)."""
    from emr_exporter.pipeline.bag import _CANONICAL_ENCODER, canonical_json_line

    obj = {"v": value, "w": [value, {"x": value}]}
    assert canonical_json_line(obj) == (_CANONICAL_ENCODER.encode(obj) + "\n").encode("utf-8")


def test_tiny_float_prefilter_never_misses_what_the_pattern_finds() -> None:
    """The byte-before-"e-" prefilter is a superset of _TINY_FLOAT: every line the pattern matches passes
    it (random lines of digits, dots, "e-", separators and words), and plain words with "e-" do not."""
    import random

    from emr_exporter.pipeline.bag import _TINY_FLOAT, _maybe_tiny_float

    pieces = [b"e-", b"1", b"0", b".", b"0.0000", b":", b",", b"[", b"-", b"e", b"data-absent-reason", b'"', b"x"]
    rng = random.Random(17)
    matched = 0
    for _ in range(50_000):
        line = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        if _TINY_FLOAT.search(line):
            matched += 1
            assert _maybe_tiny_float(line), line
    assert matched > 1000
    assert not _maybe_tiny_float(b'{"code":"data-absent-reason","url":"http://x/code-system","v":1.5e3}\n')
    assert _maybe_tiny_float(b'{"v":1e-05}\n') and _maybe_tiny_float(b'{"v":[2.5e-7]}\n')


def test_canonical_json_line_refuses_what_the_stdlib_refuses() -> None:
    from emr_exporter.pipeline.bag import canonical_json_line

    with pytest.raises(ValueError):  # a non-str key sends it to the fallback, which refuses infinity
        canonical_json_line({"k": {1.5: float("inf")}})
    with pytest.raises(UnicodeEncodeError):
        canonical_json_line({"v": "\ud800"})  # a lone surrogate
    with pytest.raises(TypeError):
        canonical_json_line({"v": object()})


def test_append_line_writes_what_add_line_writes() -> None:
    """The export's fast path (append_line, else add_line) gives the same tar bytes as add_line for every
    line: first lines of groups, full segments, and steps still pending (issued, not yet iterated), when
    the fast path must stand aside."""

    def bag_bytes(fast: bool) -> tuple[bytes, int]:
        bag = BagStream(bag_info=BAG_INFO, created=CREATED, segment_bytes=300)
        out = bytearray()
        pending: list[Iterator[bytes]] = []
        appended = 0
        for n in range(400):
            group = f"fhir/{('Patient', 'Encounter', 'Observation')[n % 3]}"
            line = json.dumps({"id": str(n), "text": "가" * (n % 37)}, ensure_ascii=False).encode() + b"\n"
            if n % 50 == 7:  # a step issued and not run yet: the lines after it wait for it
                pending.append(bag.add_bytes(f"attachments/{n}.bin", bytes(n)))
            if fast and bag.append_line(group, line):
                assert not pending
                appended += 1
            else:
                pending.append(bag.add_line(group, line))
            if not 7 <= n % 50 < 12:  # else hold the steps: the fast path must stand aside meanwhile
                for step in pending:
                    out += b"".join(step)
                pending.clear()
        for step in pending:
            out += b"".join(step)
        out += b"".join(bag.finish())
        return bytes(out), appended

    fast, appended = bag_bytes(True)
    assert fast == bag_bytes(False)[0] and 150 < appended < 380  # most lines, not all


def test_fhir_manifest_of_many_segments_is_the_canonical_json_of_its_outputs(tmp_path: Path) -> None:
    # Packed outputs (three words each) written one by one: the same bytes as the list of dicts, past
    # segment 9999 (five digits), with groups interleaved and a non-ASCII type.
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=1)
    out = bytearray()
    expected_outputs = []
    for n in range(10_050):
        group = ("fhir/Patient", "fhir/Encounter", "fhir/관찰")[n % 3] if n < 300 else "fhir/Observation"
        out += drain(bag.add_ndjson(group, {"i": n}))
    numbers: dict[str, int] = {}
    for n in range(10_050):
        group = ("fhir/Patient", "fhir/Encounter", "fhir/관찰")[n % 3] if n < 300 else "fhir/Observation"
        numbers[group] = numbers.get(group, 0) + 1
        name = group.split("/")[1]
        expected_outputs.append({"type": name, "url": f"{name}.{numbers[group]:04d}.ndjson", "count": 1})
    out += drain(bag.finish())
    assert bag._fhir_outputs_list() == expected_outputs
    assert expected_outputs[-1]["url"] == "Observation.9750.ndjson" and numbers["fhir/Observation"] == 9750
    with tarfile.open(fileobj=io.BytesIO(bytes(out)), mode="r:") as tar:
        extracted = tar.extractfile("bag/data/fhir/manifest.json")
        assert extracted is not None
        raw = extracted.read()
    expected = {"transactionTime": "2026-11-26T08:30:00+09:00", "requiresAccessToken": False,
                "output": expected_outputs, "error": []}
    assert raw == (json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    with pytest.raises(ValueError, match="used twice"):
        bag2 = BagStream(bag_info={}, created=CREATED, segment_bytes=1)
        for n in range(3):
            drain(bag2.add_ndjson("fhir/Patient", {"i": n}))
        drain(bag2.add_bytes("fhir/patient.0002.ndjson", b"x"))  # a segment's name, another case


def test_segment_bookkeeping_is_a_few_dozen_bytes_a_member() -> None:
    bag = BagStream(bag_info={}, created=CREATED, segment_bytes=1)
    drain(bag.add_ndjson("fhir/Patient", {"i": -1}))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(20_000):
        drain(bag.add_ndjson("fhir/Patient", {"i": n}))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # Per member: its name, size and digest (_MemberLog), its name key (8 bytes) and output (24): ~140 bytes;
    # it was ~545 with the key in a set and the output as a dict.
    assert used < 20_000 * 200, used


def _bag_of_many_files(count: int) -> bytes:
    import random

    rng = random.Random(5)
    bag = BagStream(bag_info=BAG_INFO, created=CREATED, segment_bytes=64)
    out = bytearray()
    names = [f"attachments/{rng.choice(['a', 'B', '가', 'z', '0', '환자'])}{rng.randrange(10**6):06d}.pdf"
             for _ in range(count)]
    for n, name in enumerate(dict.fromkeys(names)):
        out += drain(bag.add_bytes(name, f"{n}".encode()))
        out += drain(bag.add_ndjson("fhir/Patient", {"i": n}))
    out += drain(bag.finish())
    return bytes(out)


def test_the_manifest_is_sorted_in_slices_and_merged_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from emr_exporter.pipeline import bag as bag_module

    whole = _bag_of_many_files(3000)  # one slice (16 384)
    monkeypatch.setattr(bag_module, "_SORT_SLICE", 7)
    merged = _bag_of_many_files(3000)  # ~430 slices merged
    assert merged == whole
    extract(merged, tmp_path)
    manifest = (tmp_path / "bag/manifest-sha256.txt").read_bytes().splitlines()
    paths = [line.split(b"  ", 1)[1] for line in manifest]
    assert len(paths) > 3000 and paths == sorted(paths)  # UTF-8 byte order
    for line in manifest[:50]:
        digest, path = line.split(b"  ", 1)
        assert hashlib.sha256((tmp_path / "bag" / path.decode()).read_bytes()).hexdigest().encode() == digest
    bagit.Bag(str(tmp_path / "bag")).validate()
