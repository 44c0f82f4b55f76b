"""The export's memory stays flat (docs/performance.md, "flatmem"): what was changed for it gives exactly what it
gave before, and the mechanisms do what they are there for."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.pipeline import allocator
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import SqliteFileSource

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


def _digest(demo_clinic, source: SqliteFileSource, **kwargs: Any) -> str:
    spec = load_connector("demo")
    run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                    attachments_root=demo_clinic.attachments_root, **kwargs)
    return digest_stream(run.stream()).sha256


def test_a_page_of_rows_is_let_go_before_the_next_is_read(demo_clinic) -> None:
    # Before, the page just handled was still alive (the paging generator's and the caller's variable)
    # while the next one was read: two pages of row dicts at once, the export's largest transient.
    source = _WatchedSource(demo_clinic.path)
    small_pages = _digest(demo_clinic, source, page_size=40)  # every entity and carried table: many pages
    reference = _digest(demo_clinic, SqliteFileSource(demo_clinic.path))
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
