"""The export's memory stays flat (docs/performance.md, "flatmem"): what was changed for it gives exactly what it
gave before, and the mechanisms do what they are there for."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import tracemalloc
import weakref
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_connector
from emr_exporter.pipeline import allocator
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.reports import readiness
from emr_exporter.sources import base, paging
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.paging import value_bytes

CREATED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


class _Row(dict[str, Any]):
    """A row dict that can be weakly referenced (a plain dict cannot)."""


class _WatchedSource(SqliteFileSource):
    """The demo clinic, remembering at each page's query how many rows read before are still alive."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.read: list[weakref.ref[_Row]] = []
        self.alive_at_query: list[int] = []

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        if " LIMIT " in sql:  # a page (keyset paging); other queries run while a page is handled
            self.alive_at_query.append(sum(1 for ref in self.read if ref() is not None))
        for row in super().rows(sql, params):
            watched = _Row(row)
            self.read.append(weakref.ref(watched))
            yield watched

    def row_values(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if " LIMIT " in sql:  # a page read as value tuples, its dicts made by iter_keyset (watched_dict below)
            self.alive_at_query.append(sum(1 for ref in self.read if ref() is not None))
        return super().row_values(sql, params)


def _digest(demo_clinic, source: SqliteFileSource, **kwargs: Any) -> str:
    spec = load_connector("demo")
    run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                    attachments_root=demo_clinic.attachments_root, **kwargs)
    return digest_stream(run.stream()).sha256


def test_a_page_of_rows_is_let_go_before_the_next_is_read(demo_clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, the page just handled was still alive (the paging generator's and the caller's variable)
    # while the next one was read: two pages of row dicts at once, the export's largest transient.
    reference = _digest(demo_clinic, SqliteFileSource(demo_clinic.path))
    source = _WatchedSource(demo_clinic.path)

    def watched_dict(*args: Any, **kwargs: Any) -> _Row:  # a SQLite page's dicts, made in iter_keyset
        row = _Row(*args, **kwargs)
        source.read.append(weakref.ref(row))
        return row

    monkeypatch.setattr(base, "dict", watched_dict, raising=False)
    small_pages = _digest(demo_clinic, source, page_size=40)  # every entity and carried table: many pages
    assert small_pages == reference  # the bag does not depend on the page size
    assert len(source.alive_at_query) > 100  # pages read
    # At most the last row handled (the caller's loop variable), never a page (40 rows) of them.
    assert max(source.alive_at_query) <= 1
    assert len(source.read) > 5000


_MALLINFO = """
import ctypes, sys
from emr_exporter.pipeline.allocator import limit_heap_growth

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "limited":
    assert limit_heap_growth() is True
    assert limit_heap_growth() is True  # once per process, asked again: the same answer
first = bytearray(8 << 20)  # a mapped block, freed: glibc's dynamic threshold rises past 8 MB
del first
segment = bytearray(4 << 20)  # then a bag segment's size
print(libc.mallinfo2().hblkhd)
"""


def _mapped_bytes(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _MALLINFO, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_large_buffers_get_their_own_mapping_after_the_threshold_is_fixed() -> None:
    # glibc (CI's and the measured machine's C library): without the fixed threshold, a 4 MB buffer after a
    # freed 8 MB one goes into the heap, where its hole outlives it; with it, it is mapped (and unmapped on
    # free). Fresh processes: the allocator's state is per process.
    assert _mapped_bytes("default") < 4 << 20
    assert _mapped_bytes("limited") >= (4 << 20) + _mapped_bytes("default")


def test_the_export_fixes_the_threshold_when_it_starts(demo_clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_done", None)
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                    attachments_root=demo_clinic.attachments_root)
    assert allocator._done is None  # a generator: nothing happens before the first chunk is asked for
    next(iter(run.stream()))
    assert allocator._done is True


# --- the readiness observer's per-visit and per-patient state ------------------------------------------


class _IdIndexBefore:
    """The readiness id index as it was before flatmem (key and index in each slot, at most half full): the
    reference :class:`~emr_exporter.reports.readiness.IdIndex` is held to."""

    def __init__(self) -> None:
        self._keys = array("Q", bytes(8 * 1024))
        self._slots = array("I", bytes(4 * 1024))
        self._mask = 1023
        self.size = 0

    def _find(self, key: int) -> int:
        keys, i = self._keys, key & self._mask
        while keys[i] and keys[i] != key:
            i = (i + 1) & self._mask
        return i

    def get(self, record_id: str | None) -> int | None:
        if record_id is None:
            return None
        slot = self._slots[self._find(readiness._id_key(record_id))]
        return slot - 1 if slot else None

    def add(self, record_id: str) -> int:
        key = readiness._id_key(record_id)
        i = self._find(key)
        if self._slots[i]:
            return self._slots[i] - 1
        self._keys[i] = key
        self._slots[i] = self.size + 1
        self.size += 1
        if self.size * 2 > self._mask:
            old_keys, old_slots = self._keys, self._slots
            capacity = (self._mask + 1) * 2
            self._keys = array("Q", bytes(8 * capacity))
            self._slots = array("I", bytes(4 * capacity))
            self._mask = capacity - 1
            for old_key, slot in zip(old_keys, old_slots, strict=True):
                if slot:
                    j = self._find(old_key)
                    self._keys[j], self._slots[j] = old_key, slot
        return self.size - 1


def test_the_compact_id_index_answers_as_the_one_before() -> None:
    rng = random.Random(13)
    ids = [model.record_id("demo", "VISIT", str(n)) for n in range(60_000)]
    ids += [f"legacy-{n}" for n in range(2_000)]  # not hex: hashed to their key
    ids += ["0" * 32, "0000000000000000ffff"]  # key 0 (taken as 1) and a second id with the same 16 hex digits
    ids += [i[:16] + "f" * 16 for i in ids[:500]]  # same 64-bit key as an earlier id: the same entry, as before
    rng.shuffle(ids)
    new, old = readiness.IdIndex(), _IdIndexBefore()
    asked = 0
    for n, record_id in enumerate(ids):
        assert new.add(record_id) == old.add(record_id)
        if n % 7 == 0:  # repeated adds and look-ups of known and unknown ids, while the tables grow
            again = ids[rng.randrange(n + 1)]
            assert new.add(again) == old.add(again)
            unknown = model.record_id("demo", "VISIT", f"x{n}")
            assert new.get(unknown) == old.get(unknown)
            asked += 1
    assert new.size == old.size == 62_001  # the two all-zero keys are one entry
    assert [new.get(i) for i in ids] == [old.get(i) for i in ids]
    assert new.get(None) is None and asked > 8_000


def test_chart_numbers_come_back_exactly() -> None:
    texts = readiness._Texts()
    samples = ["", "0001", "가나다-12", "\udcff\udc80", "A" * 300, "𝔘"]
    for text in samples * 3:
        texts.append(text)
    assert len(texts) == 18
    assert [texts[i] for i in range(18)] == samples * 3


def _readiness_json(demo_clinic, observer_type: type[readiness.ReadinessObserver]) -> tuple[bytes, str]:
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    institution = read_institution(spec, source)
    observer = observer_type(institution)
    run = ExportRun(spec, source, institution=institution, created=CREATED,
                    attachments_root=demo_clinic.attachments_root, observers=[observer])
    digest = digest_stream(run.stream()).sha256
    ((_, data),) = observer.report_members()
    return data, digest


def test_the_readiness_report_is_the_one_before(demo_clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo clinic with its planted defects (missing splits, licences, birth dates, unlinked records).
    compact, compact_bag = _readiness_json(demo_clinic, readiness.ReadinessObserver)

    class Before(readiness.ReadinessObserver):
        def __init__(self, institution: model.Institution) -> None:
            super().__init__(institution)
            self.patients = _IdIndexBefore()  # type: ignore[assignment]
            self.visits = _IdIndexBefore()  # type: ignore[assignment]
            self.chart_numbers = []  # type: ignore[assignment]

    before, before_bag = _readiness_json(demo_clinic, Before)
    assert compact == before and compact_bag == before_bag
    report = json.loads(compact)
    gaps = [gap for document in report["documents"] for gap in document["gaps"]]
    assert sum(len(gap["chart_numbers"]) for gap in gaps) > 50  # the chart numbers, through _Texts
    assert {document["id"] for document in report["documents"] if document["gaps"]} >= {"receipt"}


def test_visit_state_is_smaller_than_before() -> None:
    """Extends tests/test_readiness.py's 48-byte bound: now under 32 bytes a visit (flags included), and the
    peak while the table grows under 50 (it was ~42 and ~66)."""
    institution = model.Institution(code="99350017", name="가상의원", address="서울", phone="02")
    observer = readiness.ReadinessObserver(institution)
    provenance = model.Provenance("demo", "VISIT", "0")
    ids = [model.record_id("demo", "VISIT", str(n)) for n in range(50_000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for record_id in ids:
        observer.observe(model.Encounter(id=record_id, provenance=provenance, patient_id="p",
                                         start=dt.date(2020, 1, 1)))
    used, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert observer.visits.size == 50_000
    assert used - before < 50_000 * 32, used - before
    assert peak - before < 50_000 * 50, peak - before


class _PageSource(SqliteFileSource):
    """Records each keyset page a query reads: (table read, rows, text and binary bytes)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.pages: list[tuple[str, int, int]] = []

    def _note(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if " LIMIT " in sql:
            table = next((t for t in ("SCAN_ARCHIVE", "CHART_REC") if t in sql), "")
            self.pages.append((table, len(rows), value_bytes(rows)))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        page = list(super().rows(sql, params))
        self._note(sql, [tuple(r.values()) for r in page])
        yield from page

    def row_values(self, sql: str, params: Sequence[Any] = ()) -> Any:
        names, page = super().row_values(sql, params)
        self._note(sql, page)
        return names, page


@pytest.mark.parametrize("workers", [1, 2])
def test_pages_of_large_rows_hold_about_page_bytes(demo_clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    workers: int) -> None:
    # Before: every page held 2000 rows whatever their size; a carried table of 400 KB RTF notes held 3.1 GB
    # at once (images in a column without a declared type read so too). A mapped entity's long notes and a
    # carried table's, read with a 1 MB page budget.
    clinic = tmp_path / "clinic.sqlite"
    clinic.write_bytes(demo_clinic.path.read_bytes())
    note = "{\\rtf1 진료 기록 " + "가나다 abc " * 5000  # ~45 K characters
    with sqlite3.connect(clinic) as conn:
        conn.execute("CREATE TABLE SCAN_ARCHIVE (SCAN_NO INTEGER PRIMARY KEY, RTF TEXT, IMG)")
        conn.executemany("INSERT INTO SCAN_ARCHIVE VALUES (?, ?, ?)",
                         [(i, note + str(i), bytes([i % 256]) * 20_000) for i in range(300)])
        conn.execute("UPDATE CHART_REC SET COURSE = ? || REC_NO", (note,))
    monkeypatch.setattr(paging, "PAGE_BYTES", 1 << 20)
    bounded = _PageSource(clinic)
    digest = _digest(demo_clinic, bounded, workers=workers)
    monkeypatch.setattr(paging, "PAGE_BYTES", 1 << 50)  # as before: no budget
    unbounded = _PageSource(clinic)
    assert _digest(demo_clinic, unbounded, workers=workers) == digest  # the same bag, byte for byte
    for table in ("SCAN_ARCHIVE", "CHART_REC"):
        pages = [(rows, size) for t, rows, size in bounded.pages if t == table]
        assert sum(rows for rows, _ in pages) >= 300
        assert pages[0][0] == paging.FIRST_PAGE_ROWS  # before the rows' size is known
        # every later page sized by the one before it: about the budget (rows of 45-65 KB), never 2000 rows
        assert all(size <= (1 << 20) + 100_000 for _, size in pages[1:]), pages
        assert max(rows for rows, _ in pages[1:]) < 40
        # without a budget the pages grow 8× a page to the page size (2000): here the rest of the table at once
        assert max(rows for t, rows, _ in unbounded.pages if t == table) > 100


class _BlobPageSource(_PageSource):
    """:class:`_PageSource` for the tables of scans: SCAN_STORE (carried) and ATTACH_FILE (the attachments)."""

    def _note(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if " LIMIT " in sql:
            table = next((t for t in ("SCAN_STORE", "ATTACH_FILE") if t in sql), "")
            self.pages.append((table, len(rows), value_bytes(rows)))


def test_a_table_of_scans_is_read_one_scan_at_a_time(demo_clinic, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: a query's first page was 16 rows whatever their size, so a table of 50 MB scans or DICOM images
    # held 16 x 50 MB = 800 MB at once before the sizer learnt (benchmarks/bench_bigblob.py: 20 rows of 40 MB,
    # peak RSS 779 MB on SQLite, 1396 MB on MariaDB). Here scans of 200 KB against a 128 KB page budget: a
    # carried table's and the attachment section's pages hold one scan each, from the first page on.
    scan = 200_000
    clinic = tmp_path / "clinic.sqlite"
    clinic.write_bytes(demo_clinic.path.read_bytes())
    with sqlite3.connect(clinic) as conn:
        conn.execute("CREATE TABLE SCAN_STORE (SCAN_NO INTEGER PRIMARY KEY, PT_NO INTEGER, IMAGE BLOB)")
        conn.executemany("INSERT INTO SCAN_STORE VALUES (?, ?, ?)",
                         [(i, i % 7, bytes([i]) * scan) for i in range(40)])
        conn.execute("UPDATE ATTACH_FILE SET FILE_DATA = zeroblob(?) || FILE_DATA WHERE FILE_DATA IS NOT NULL", (scan,))
        with_scan = conn.execute("SELECT COUNT(*) FROM ATTACH_FILE WHERE FILE_DATA IS NOT NULL").fetchone()[0]
    monkeypatch.setattr(paging, "PAGE_BYTES", 128 * 1024)
    bounded = _BlobPageSource(clinic)
    digest = _digest(demo_clinic, bounded)
    monkeypatch.setattr(paging, "PAGE_BYTES", 1 << 50)  # no budget, and the first page of 16 rows as before
    monkeypatch.setattr(paging, "FIRST_PAGE_ROWS", 16)
    assert _digest(demo_clinic, _BlobPageSource(clinic)) == digest  # the same bag, byte for byte

    # the carried table: one row a page (each is more than the budget), then the empty page that ends it
    assert [rows for t, rows, _ in bounded.pages if t == "SCAN_STORE"] == [1] * 40 + [0]
    attachments = [(rows, size) for t, rows, size in bounded.pages if t == "ATTACH_FILE"]
    assert sum(rows for rows, _ in attachments) == 151 and with_scan == 72
    assert attachments[0][0] == 1  # before the rows' size is known: one row
    # Then (scans every other row here) a page of 8 rows after the first row, which held no scan: nothing tells
    # the rows ahead. After the first scan, pages sized by the largest row seen (halved each page): one or two
    # rows, never more than two scans (before: 16 rows first, 7 scans, 1.4 MB; without the largest row seen,
    # 8 rows after each page without a scan).
    assert attachments[1][0] == 8
    assert max(rows for rows, _ in attachments[2:]) == 2
    assert max(size for _, size in attachments[2:]) < 2 * scan + 1000
