"""The output check's id index with bounded memory (pipeline/check.py: IdSpill, IdIndex's runs).

A tiny memory makes it spill and merge many times over 10^5 ids: every result must be what a plain set
gives; the spilled files hold no id nor plain digest and are gone when the check ends (also on error); an
export and ``open`` that spill give the very bag and quarantines of one that does not.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import threading
from array import array
from pathlib import Path

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.pipeline.bag import canonical_json_line
from emr_exporter.pipeline.check import ID_MEMORY_ENV, IdIndex, IdSpill, ResourceCheck, id_digest
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import SqliteFileSource

CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _open_files_in(folder: Path) -> list[int]:
    """File descriptors of this process open on a file in ``folder`` (also unlinked ones: Linux's /proc)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            found.append(int(name))
    return found


@pytest.mark.parametrize(("memory", "n", "spills"), [(997, 100_000, 100), (70_001, 250_000, 3)])
def test_index_with_tiny_memory_is_a_set(tmp_path: Path, memory: int, n: int, spills: int) -> None:
    """10^5 random digests and planted duplicates through an index that spills every 997 digests, against a
    plain set: every add, look-up and discard answers the same, across ~100 spills and their merges (and
    with spills big enough to be sorted in parts, 70 001 digests)."""
    rng = random.Random(13)
    spill = IdSpill(memory, tmp_path)
    index = IdIndex(spill)
    reference: set[int] = set()
    digests = [rng.getrandbits(64) for _ in range(n)] + [0, 2**64 - 1]
    for n, digest in enumerate(digests):
        assert index.add(digest) is (digest not in reference)
        reference.add(digest)
        if n % 7 == 0:  # a duplicate of an earlier one: in memory or on disk by now
            again = digests[rng.randrange(n + 1)]
            assert index.add(again) is (again not in reference)  # given back before (below): taken again
            reference.add(again)
        if n % 101 == 0:  # given back (a failed row's ids), in memory or in a run; some taken again later
            gone = digests[rng.randrange(n + 1)]
            index.discard(gone)
            reference.discard(gone)
            assert gone not in index
            if n % 202 == 0:
                assert index.add(gone) and gone in index
                reference.add(gone)
    assert spill.spills >= spills and 1 <= len(index.runs) <= 12  # merged: about log2(n / memory) runs
    assert index.size == len(reference)
    assert all(d in index for d in reference)
    assert all(d not in index for d in (rng.getrandbits(64) for _ in range(20_000)) if d not in reference)
    assert sum(run.count for run in index.runs) - len(index.tombstones) <= len(reference)
    spill.close()
    assert not os.listdir(tmp_path) and not _open_files_in(tmp_path)


@pytest.mark.parametrize("memory", [1, 5, 4096])
def test_claim_finds_every_duplicate_with_tiny_memory(tmp_path: Path, memory: int) -> None:
    """ResourceCheck.claim/dangling/release as in test_output_selfcheck's 10^5 ids, the ids spilling."""
    rng = random.Random(17)
    with ResourceCheck(id_memory=memory, work_dir=tmp_path) as check:
        record_ids = [f"{rng.getrandbits(128):032x}" for _ in range(6_000 if memory < 10 else 60_000)]
        other_ids = [f"chart-{n}" for n in range(1_000 if memory < 10 else 40_000)]
        every = record_ids + other_ids
        for n, resource_id in enumerate(every):
            assert check.claim(("Patient", "Observation")[n % 2], resource_id) == id_digest(resource_id)
        assert check.id_spill.spills > 0 and check.ids["Patient"].runs
        assert sum(index.size for index in check.ids.values()) == len(every)
        for n in rng.sample(range(len(every)), 500):
            assert check.claim(("Patient", "Observation")[n % 2], every[n]) is None  # taken: a duplicate
            assert check.claim(("Observation", "Patient")[n % 2], every[n]) is not None  # other type: free
        first = id_digest(record_ids[0])  # long on disk by now
        check.release([("Patient", first)])
        line = canonical_json_line({"subject": {"reference": f"Patient/{record_ids[0]}"}})
        assert check.dangling(None, line) == ("subject.reference", "Patient")  # given back: not in the bag
        assert check.claim("Patient", record_ids[0]) == first and check.dangling(None, line) is None
        for n in range(0, 2000, 2):  # Patients: their references resolve
            line = canonical_json_line({"subject": {"reference": f"Patient/{every[n]}"}})
            assert check.dangling(None, line) is None
        line = canonical_json_line({"subject": {"reference": f"Patient/{record_ids[1]}"}})  # an Observation's
        assert check.dangling(None, line) == ("subject.reference", "Patient")
        assert _open_files_in(tmp_path)
    assert not os.listdir(tmp_path) and not _open_files_in(tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the unnamed files through /proc")
def test_spilled_runs_hold_no_id_nor_plain_digest(tmp_path: Path) -> None:
    """The bytes on disk are keyed: none of the ids (text), nor their digests in either byte order."""
    rng = random.Random(5)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(5_000)] + [f"8001011234567-{n}" for n in range(500)]
    check = ResourceCheck(id_memory=64, work_dir=tmp_path)
    for resource_id in ids:
        check.claim("Patient", resource_id)
    fds = _open_files_in(tmp_path)
    assert fds
    data = b"".join(os.pread(fd, os.fstat(fd).st_size, 0) for fd in fds)
    assert len(data) >= 8 * 4_000  # the spilled ones (the rest is in memory)
    for resource_id in ids:
        digest = id_digest(resource_id)
        assert resource_id.encode() not in data and resource_id[:16].encode() not in data
        assert digest.to_bytes(8, "little") not in data and digest.to_bytes(8, "big") not in data
    check.close()
    assert not _open_files_in(tmp_path) and not os.listdir(tmp_path)


def _demo_export(clinic, *, work_dir: Path | None = None, id_memory: int | None = None,  # type: ignore[no-untyped-def]
                 cancel: threading.Event | None = None, stop_after: int | None = None) -> tuple[str, dict[str, object]]:
    spec = load_connector("demo")
    source = SqliteFileSource(clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                        attachments_root=clinic.attachments_root, id_memory=id_memory, work_dir=work_dir,
                        cancel=cancel)
        if stop_after is not None:  # the consumer fails part way (a full disk, a closed window)
            stream = run.stream()
            for n, _ in enumerate(stream):
                if n == stop_after:
                    assert run.output_check.id_spill.spills > 0
                    assert work_dir is not None and _open_files_in(work_dir)
                    stream.close()
                    break
            return "", {}
        digest = digest_stream(run.stream())
        reasons = {e.entity: dict(e.reasons) for e in run.reconciliation.entities}
        reasons["keys"] = {e.entity: run.quarantined_keys(e.entity) for e in run.reconciliation.entities}
        return digest.sha256, reasons
    finally:
        source.close()


def test_demo_export_spilling_gives_the_same_bag(demo_clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The demo clinic (its planted defects included) exported with 50 digests in memory: the same bag,
    byte for byte, and the same quarantines; the temporary runs gone after."""
    plain = _demo_export(demo_clinic)
    spilled = _demo_export(demo_clinic, work_dir=tmp_path / "work", id_memory=50)
    assert spilled == plain
    assert plain[1]["keys"]  # the demo has quarantined rows to compare
    assert not os.listdir(tmp_path / "work") and not _open_files_in(tmp_path / "work")


def test_no_run_file_outlives_a_failed_export(demo_clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    _demo_export(demo_clinic, work_dir=work, id_memory=50, stop_after=200)
    assert not os.listdir(work) and not _open_files_in(work)
    cancel = threading.Event()
    cancel.set()
    from emr_exporter.errors import ExportCancelled

    with pytest.raises(ExportCancelled):
        _demo_export(demo_clinic, work_dir=work, id_memory=50, cancel=cancel)
    assert not os.listdir(work) and not _open_files_in(work)


@pytest.mark.parametrize("memory", ["1", "3"])
def test_sealed_export_and_open_spilling_give_the_same_quarantines(tmp_path: Path, monkeypatch, memory: str) -> None:  # type: ignore[no-untyped-def]
    """The planted duplicate-id and orphan cases (test_output_selfcheck) through run_export and `open`,
    both spilling their ids at every few ids (the tests' hook): the same bag and the same reasons."""
    from test_output_selfcheck import export_and_open, quarantined

    (tmp_path / "plain").mkdir()
    (tmp_path / "spilled").mkdir()
    plain, plain_bag = export_and_open(tmp_path / "plain")
    monkeypatch.setenv(ID_MEMORY_ENV, memory)
    spilled_in: list[Path | None] = []  # a spy (behaviour unchanged): where each check spilled
    spill = IdSpill.spill

    def spy(self: IdSpill) -> None:
        spilled_in.append(self.work_dir)
        spill(self)

    monkeypatch.setattr(IdSpill, "spill", spy)
    outcome, bag = export_and_open(tmp_path / "spilled")
    # The export's runs beside its spool, open's beside the bag it checks: both spilled.
    assert {tmp_path / "spilled" / "out"} < set(spilled_in)
    assert any(p is not None and p.name.endswith(".opening") for p in spilled_in)

    def data(root: Path) -> dict[str, bytes]:  # the FHIR and raw files (bag-info differs: bundle id, time)
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "data").rglob("*.ndjson"))}

    assert data(bag) == data(plain_bag) and data(bag)
    assert quarantined(bag, "memo")["7"][0] == "duplicate-id"
    assert quarantined(bag, "encounter")["3"] == (
        "orphan", "the Encounter built from encounter row 3 refers to a Patient that is not in the bag "
                  "(subject.reference)")
    assert {e.entity: dict(e.reasons) for e in outcome.reconciliation.entities} == {
        e.entity: dict(e.reasons) for e in plain.reconciliation.entities}
    leftovers = [p.name for p in (tmp_path / "spilled").rglob(".emr-ids-*")]
    assert not leftovers


# --- the reference targets kept in memory in preference (idcheck) ------------------------------------------


@pytest.mark.parametrize(("memory", "n"), [(8, 12_000), (997, 60_000), (20_000, 60_000)])
def test_kept_and_other_indexes_spilling_in_part_are_sets(tmp_path: Path, memory: int, n: int) -> None:
    """A kept index (a reference target's) and an other index sharing a tiny memory, against plain sets: the
    other spills whole at every spill, the kept one only its top buckets once it holds more than 3/4 of
    memory (so after a spill some of its digests are in memory and some on disk); adds, look-ups and
    discards (in memory or in a run, some taken again) answer as the sets do throughout."""
    rng = random.Random(29)
    spill = IdSpill(memory, tmp_path)
    kept, other = IdIndex(spill, keep=True), IdIndex(spill)
    sets: dict[int, set[int]] = {0: set(), 1: set()}
    added: dict[int, list[int]] = {0: [], 1: []}  # to pick earlier digests from
    split_seen = False
    for k in range(n):
        which = 0 if rng.random() < 0.8 else 1  # mostly kept: it outgrows its share
        index, reference = (kept, other)[which], sets[which]
        digest = rng.getrandbits(64)
        assert index.add(digest) is True
        reference.add(digest)
        added[which].append(digest)
        if k % 5 == 0:  # a duplicate: in memory or on disk by now
            again = rng.choice(added[which])
            assert index.add(again) is (again not in reference)
            reference.add(again)
        if k % 97 == 0:  # given back, then sometimes taken again
            gone = rng.choice(added[which]) if k % 2 else digest
            index.discard(gone)
            reference.discard(gone)
            assert gone not in index
            if k % 3 == 0:
                assert index.add(gone) and gone in index
                reference.add(gone)
        if k % 50 == 0 or k < 2_000:
            in_memory = sum(len(b) for b in kept._buckets if b)
            split_seen = split_seen or (bool(kept.runs) and in_memory > 0)
            assert spill.held == in_memory + sum(len(b) for b in other._buckets if b) <= memory
    assert split_seen and kept.runs and other.runs and spill.spills > 1
    for index, reference in ((kept, sets[0]), (other, sets[1])):
        assert index.size == len(reference) and all(d in index for d in reference)
    assert not any(d in kept or d in other for d in (rng.getrandbits(64) for _ in range(20_000)))
    spill.close()
    assert not os.listdir(tmp_path) and not _open_files_in(tmp_path)


def test_reference_targets_stay_in_memory_and_references_read_no_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With room for 4 096 digests, 2 000 Patients and 30 000 Observations claimed in turn: the Observations
    spill (many times), the Patients never; every reference to a Patient is answered without reading a run
    (no pread), a released Patient that was remembered as found is dangling at once, and claimed again it
    resolves."""
    import emr_exporter.pipeline.check as check_module

    rng = random.Random(31)
    patients = [f"{rng.getrandbits(128):032x}" for _ in range(2_000)]
    reads: list[int] = []
    real_pread = check_module._pread

    def counting_pread(handle: object, fileno: int, size: int, offset: int) -> bytes:
        reads.append(size)
        return real_pread(handle, fileno, size, offset)

    monkeypatch.setattr(check_module, "_pread", counting_pread)
    with ResourceCheck(id_memory=4096, work_dir=tmp_path) as check:
        for n in range(32_000):
            if n % 16 == 0:
                assert check.claim("Patient", patients[n // 16]) is not None
            else:
                assert check.claim("Observation", f"{rng.getrandbits(128):032x}") is not None
        assert check.id_spill.spills >= 5 and check.ids["Observation"].runs and not check.ids["Patient"].runs
        reads.clear()
        lines = [canonical_json_line({"subject": {"reference": f"Patient/{p}"}}) for p in patients]
        check._verified.clear()  # nothing remembered: every reference looked up in the index
        assert all(check.dangling(None, line) is None for line in lines)
        assert reads == []
        check.release([("Patient", id_digest(patients[7]))])
        assert check.dangling(None, lines[7]) == ("subject.reference", "Patient")
        assert check.claim("Patient", patients[7]) is not None and check.dangling(None, lines[7]) is None


@pytest.mark.parametrize(("sizes", "seed"), [((150_000, 70_000), 1), ((1, 200_000), 2), ((9_000, 9_000), 3)])
def test_merged_runs_are_the_sorted_union_without_discarded(tmp_path: Path, sizes: tuple[int, int], seed: int) -> None:
    """IdIndex._merged (pieces merged by list.sort) against sorted(): two runs over several chunks and pieces,
    interleaved, some of their digests discarded; the discarded ones leave the tombstones, the others stay."""
    from emr_exporter.pipeline.check import _write_run

    rng = random.Random(seed)
    spill = IdSpill(1 << 20, tmp_path)
    index = IdIndex(spill)
    values = [sorted({rng.getrandbits(64) for _ in range(size)}) if size > 1 else [2**64 - 1] for size in sizes]
    older, newer = (_write_run(spill, iter([array("Q", v)])) for v in values)
    assert older is not None and newer is not None
    discarded = set(rng.sample(values[0], min(500, sizes[0] - 1)) + rng.sample(values[1], min(500, sizes[1] - 1)))
    unrelated = {rng.getrandbits(64) for _ in range(10)} - set(values[0]) - set(values[1])
    index.tombstones = discarded | unrelated
    merged = [v for chunk in index._merged(older, newer) for v in chunk]
    assert merged == sorted(set(values[0] + values[1]) - discarded)
    assert index.tombstones == unrelated
    spill.close()
