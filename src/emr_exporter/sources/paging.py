"""Pages and fetches sized by what their rows hold (text and binary values), not only by a row count: a
table of RTF notes or scanned images must not be held 2000 rows at once. Used by every source (sources/base.py,
sources/odbc.py) and the export's carried tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: About what one page may hold in text and binary values: the next page of a query is sized by what its
#: last one held. A table of RTF notes or scanned images (400 KB a row) read 2000 rows a page held 3.1 GB
#: at once (docs/performance.md, "Pages sized by their bytes").
PAGE_BYTES = 16 * 1024 * 1024
#: Rows a source's ``rows()`` fetches at once at most (fewer where they are large).
FETCH_ROWS = 1000
#: A query's first page (and a cursor's first fetch), before its rows' size is known: one row, then grown (at
#: most 8× a page). One row of a 50 MB scan or DICOM image is what any page of that table holds; 16 rows of
#: them were 800 MB at once before the sizer learnt (docs/performance.md, "Huge BLOBs"). A keyset page is a
#: seek: the few more pages a table of small rows takes (1, 8, 64, 512, ...) cost next to nothing. Not by the
#: columns' declared types: SQLite keeps images in a TEXT column or one without a type.
FIRST_PAGE_ROWS = 1


def value_bytes(rows: Iterable[Iterable[Any]]) -> int:
    """The length of the text and binary values of ``rows`` (value tuples, or dicts' ``values()``): the part
    of a row that can be large. Column by column: ~1 µs a row of 12 values, where a loop over every value
    took 2.5."""
    total = 0
    for column in zip(*rows, strict=True):
        try:
            total += sum(map(len, filter(None, column)))
        except TypeError:  # numbers, dates: only the column's text and binary values count
            total += sum(len(v) for v in column if type(v) is str or type(v) is bytes)
    return total


def sized_batches(fetchmany: Callable[[int], list[Any]], source: Any, most: int) -> Iterator[list[Any]]:
    """A cursor's rows in batches of at most ``most``, fewer where the rows are large (:class:`PageSizer`),
    each batch's size added to ``source.value_bytes_read`` (so that a page reader need not measure again)."""
    sizer = PageSizer(most)
    while batch := fetchmany(sizer.rows):
        size = value_bytes(batch)
        source.value_bytes_read += size
        yield batch
        sizer.measured(len(batch), size)


class PageSizer:
    """Rows per page for one query: at most ``most``; a first page of :data:`FIRST_PAGE_ROWS` (or ``first``),
    then each page sized to hold about :data:`PAGE_BYTES` (``pages`` times it: a keyless table's ordered pages,
    each a sort of the whole table) by the size of the last page's rows. The rows and their order do not depend
    on it (keyset pages; ordered pages with a tie-break), only how many are in memory at once."""

    __slots__ = ("large", "most", "pages", "rows")

    def __init__(self, most: int, pages: int = 1, first: int | None = None) -> None:
        self.most = max(1, most)
        self.rows = min(self.most, FIRST_PAGE_ROWS if first is None else max(1, first))
        self.pages = pages  # each page holds about this many times PAGE_BYTES
        self.large = 0  # bytes of the largest rows seen, halved each page after (see measured)

    def measured(self, rows: int, size: int) -> None:
        """The last page held ``rows`` rows of ``size`` bytes of text and binary values."""
        if rows:
            # Sized by the larger of this page's rows and the largest seen before (halved each page): a table
            # whose scans are every few rows does not read 8 of them after a page of rows without one, and a
            # single outlier in a table of small rows costs a few smaller pages, not one-row pages ever after.
            self.large = max(size // rows, self.large // 2)
            fits = self.pages * PAGE_BYTES // max(self.large, 1)
            self.rows = max(1, min(self.most, 8 * self.rows, fits))


__all__ = ["FETCH_ROWS", "FIRST_PAGE_ROWS", "PAGE_BYTES", "PageSizer", "sized_batches", "value_bytes"]
