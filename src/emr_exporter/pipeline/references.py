"""How the export checks a section's references and code look-ups in the database, each child row once.

A reference (``type = "ref"``) is checked by the page query itself (:meth:`ExportRun._joined_sql`): how many
parent rows its value names, as the engine compares it. Two forms, chosen per reference from the catalogue
(:attr:`~emr_exporter.sources.catalog.CatalogColumn.indexed`, read once per export):

- the parent column leads an index and has the child column's very type (the child's table's column, or one a
  section's own query gives back unchanged: ``ExportRun._query_column``): a correlated sub-query
  (``(SELECT COUNT(*) FROM parent r WHERE r.key = q.fk)``), one index look-up per child row;
- anything else (no index, another type, a view, a query's column not proven its table's): a join of the parent
  grouped by the column (``LEFT JOIN (SELECT key AS k, COUNT(*) AS n FROM parent GROUP BY key) r ON r.k = q.fk``),
  grouped and hashed (or indexed) once per page, never searched per child row.

A group is one value as the parent column's own equality has it; the join compares it with the child's value
as the engine compares the two types, which may hold two groups equal to one value (3 and '03' in a SQLite
column of no type named from an INTEGER one, '3' and '03' in a MariaDB VARCHAR named from an INT): the child
row then comes back once per group, adjacent in the key's order. Such a section is paged on its own rows
first, each page then joined (``ExportRun._grouped_pages``), so a key's rows come in one page, and
:class:`Repeats` makes them one row again, its count the groups' sum: more than one, ``ambiguous-ref``, as the
correlated form gives it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from emr_exporter.connectors.mapper import REF_COLUMN_PREFIX


def group_column(name: str) -> str:
    """The computed column holding the parent group a grouped reference's row was joined to (its value)."""
    return f"{REF_COLUMN_PREFIX}{name}_g"


def _lowest(values: Sequence[Any]) -> Any:
    return min(values, key=lambda v: (type(v).__name__, v))


@dataclass(frozen=True, slots=True)
class Repeats:
    """The computed columns of a section's joined query whose joins may repeat a row (see the module's text):
    per grouped reference (its count column, its group column), and the values of grouped code look-ups."""

    key: str  # the row key of the section's key
    refs: tuple[tuple[str, str], ...] = ()
    lookups: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.refs or self.lookups)

    @property
    def columns(self) -> frozenset[str]:
        """The columns :meth:`merged` may change."""
        return frozenset(count for count, _ in self.refs) | frozenset(self.lookups)

    def merged(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """One row of a key's repeated ``rows``: each reference's count the sum of the distinct groups' counts
        (two groups: more than one parent row named), each look-up's value the lowest of those found."""
        row = dict(rows[0])
        for count, group in self.refs:
            found = {(type(r[group]), r[group]): r[count] for r in rows if r[group] is not None}
            if len(found) > 1:
                row[count] = sum(int(n or 0) for n in found.values())
        for column in self.lookups:
            values = [r[column] for r in rows if r[column] is not None]
            row[column] = _lowest(values) if values else None
        return row

    def pages(self, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        """``pages`` (each holding all of a key's rows) with each key's rows made one."""
        key = self.key
        for page in pages:
            if any(page[i][key] == page[i - 1][key] for i in range(1, len(page))):
                page = [group[0] if len(group) == 1 else self.merged(group) for group in _runs(page, key)]
            yield page
            # let go of it before the next page is read (as sources/base.iter_keyset: two pages alive otherwise)
            del page

    def value_pages(self, pages: Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]
                    ) -> Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        """:meth:`pages` for pages of value tuples."""
        for names, page in pages:
            at = len(names) - 1 - names[::-1].index(self.key)
            if any(page[i][at] == page[i - 1][at] for i in range(1, len(page))):
                merged: list[tuple[Any, ...]] = []
                start = 0
                for end in range(1, len(page) + 1):
                    if end == len(page) or page[end][at] != page[start][at]:
                        if end - start == 1:
                            merged.append(page[start])
                        else:
                            one = self.merged([dict(zip(names, v, strict=True)) for v in page[start:end]])
                            merged.append(tuple(one[n] if n in self.columns else value
                                                for n, value in zip(names, page[start], strict=True)))
                        start = end
                page = merged
                del merged
            yield names, page
            del page  # as in pages


def _runs(page: list[dict[str, Any]], key: str) -> Iterator[list[dict[str, Any]]]:
    start = 0
    for end in range(1, len(page) + 1):
        if end == len(page) or page[end][key] != page[start][key]:
            yield page[start:end]
            start = end
