"""A lab report's results read in one ordered pass beside the reports' keyset pages (a merge join).

The export reads a section's rows in keyset pages ordered by its key (``sources/base.py``: ``iter_keyset``). A
section listing its children by a back reference (a lab report's ``result_ids``, from each result's
``report_id``) used to ask, per page, for the children of the page's key range: without an index on the child's
column, one scan of the child table per page (pages × children). Here the children are read in ONE query beside
the pages, ordered by the same server expression as the pages (the parent's key, joined: ``ORDER BY p.key``, then
the child's key), and merged with each page as it comes: one sort, not one scan per page.

The two orders must agree, and only the server knows its collation (text keys, mixed types, NULLs): the ordered
pass has a row for EVERY parent (a LEFT JOIN: its children, or one row without a child), so each page's parents are
checked one by one against the pass, in order. The first parent that is not the next one of the pass (another
key, or the pass ended) means the orders differ: that page and the rest of the section are read as before, one
query per page (:meth:`ChildLists.children`). No page is handed on before all its parents were checked, so no
link is lost.

Where it runs: a SQLite file (a second statement on the same connection, stepped as the pages go) and PostgreSQL
(a server-side cursor in the export's snapshot, ``FETCH FORWARD`` a page at a time). Elsewhere the driver holds
one result per connection while it streams (MariaDB/MySQL, SQL Server, SQLite over ODBC) or would hold the whole
result in memory: per page, as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from emr_exporter.connectors.mapper import key_text
from emr_exporter.errors import SourceConnectionLost
from emr_exporter.sources.base import Source, snapshot_generation

log = logging.getLogger(__name__)

#: Rows of the ordered pass fetched at once from a PostgreSQL cursor: (report key, result key) pairs, the
#: memory it takes (about a megabyte of short keys).
FETCH_ROWS = 5000

#: One page's lists: per back-listed field, parent key (its text) → the keys of its children, in their order.
Found = list[dict[str, tuple[str, ...]]]


def merges_children(source: Source) -> bool:
    """Whether the children are read in one ordered pass beside the pages (see the module's docstring)."""
    return source.engine in ("sqlite", "postgresql")


def children_pass_sql(parent_sql: str, parent_key: str, child_sql: str, child_key: str, column: str) -> str:
    """Every parent (its key not NULL) with each of its children's keys, or one row with none: in the order of
    the parent's key, as its keyset pages are, then of the child's key (as the per-page query lists them)."""
    return (f"SELECT p.{parent_key} AS back_parent, c.{child_key} AS back_child "
            f"FROM ({parent_sql}) p LEFT JOIN ({child_sql}) c "
            f"ON c.{column} = p.{parent_key} AND c.{child_key} IS NOT NULL "
            f"WHERE p.{parent_key} IS NOT NULL "
            f"ORDER BY p.{parent_key}, c.{child_key}")


def child_key_text(key: Any) -> str:
    """A child's key as its provenance key (mapper), as the per-page query gives it."""
    return str(key) if type(key) is int else key_text(key)


class OrderDiffers(Exception):
    """The ordered pass and the pages do not list the parents in the same order."""


class _Pass:
    """One back-listed field's ordered pass: its rows one at a time (``head``), read as the source allows."""

    def __init__(self, source: Source, sql: str, cursor_name: str) -> None:
        self.source = source
        self.cursor_name = cursor_name if source.engine == "postgresql" else None
        self.generation = snapshot_generation(source)
        self.rows = self._cursor_rows(sql) if self.cursor_name else iter(source.rows(sql))
        self.head: tuple[str, Any] | None = None
        self._advance()

    def _cursor_rows(self, sql: str) -> Iterator[dict[str, Any]]:
        """PostgreSQL: a cursor over ``sql`` in the export's snapshot (``WITH HOLD`` outside one), fetched in pages."""
        source, name = self.source, self.cursor_name
        hold = "" if getattr(source, "consistent", False) else " WITH HOLD"
        list(source.rows(f"DECLARE {name} NO SCROLL CURSOR{hold} FOR {sql}"))
        while True:
            if snapshot_generation(source) != self.generation:  # reconnected: the cursor is gone
                raise OrderDiffers("the connection was opened again")
            page = list(source.rows(f"FETCH FORWARD {FETCH_ROWS} FROM {name}"))
            yield from page
            if len(page) < FETCH_ROWS:
                return

    def _advance(self) -> None:
        row = next(self.rows, None)
        self.head = None if row is None else (key_text(row["back_parent"]), row["back_child"])

    def take(self, parents: Sequence[Any]) -> dict[str, tuple[str, ...]]:
        """The children of ``parents`` (one page's keys, in its order): each must be the pass's next parent."""
        found: dict[str, tuple[str, ...]] = {}
        for parent in parents:
            text = key_text(parent)
            if self.head is None or self.head[0] != text:
                raise OrderDiffers  # (no key in it: a key may be a chart number)
            children = []
            while self.head is not None and self.head[0] == text:
                if self.head[1] is not None:
                    children.append(child_key_text(self.head[1]))
                self._advance()
            if children:
                found[text] = tuple(children)
        return found

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self.cursor_name and snapshot_generation(self.source) == self.generation:
            with contextlib.suppress(Exception):  # the export goes on (per page) whatever the cursor's state
                list(self.source.rows(f"CLOSE {self.cursor_name}"))


class ChildLists:
    """A section's back-listed fields' children for each of its pages: from the ordered passes while they agree
    with the pages, else ``per_page`` (first and last key of a page → its lists), the query of before."""

    def __init__(self, source: Source, entity: str, sqls: Sequence[str], per_page: Callable[[Any, Any], Found],
                 cursor_name: Callable[[], str]) -> None:
        self.entity = entity
        self.per_page = per_page
        self.passes: list[_Pass] | None = None
        #: how the pages' lists were read: "merged" (every page from the ordered pass), "per page" (none), or
        #: "merged, then per page" (the orders differed from some page on)
        self.how = "per page"
        if merges_children(source) and sqls:
            self.passes = []
            try:
                for sql in sqls:
                    self.passes.append(_Pass(source, sql, cursor_name()))
            except (OrderDiffers, SourceConnectionLost):
                self._stop("the ordered pass could not be read")
            else:
                self.how = "merged"

    def children(self, keys: Sequence[Any]) -> Found:
        """The lists of one page whose parents' keys are ``keys`` (in the page's order)."""
        if self.passes is not None and any(one.generation != snapshot_generation(one.source) for one in self.passes):
            # reconnected (a page read again in a new snapshot): the pass's rows are the old snapshot's
            self._stop("the connection was opened again")
        if self.passes is not None:
            try:
                return [one.take(keys) for one in self.passes]
            except OrderDiffers:
                self._stop("the ordered pass does not list the reports in their pages' order")
            except SourceConnectionLost:
                self._stop("the connection was lost")
        return self.per_page(keys[0], keys[-1])

    def _stop(self, why: str) -> None:
        log.warning("%s: %s; its lists are read per page of it from here on", self.entity, why)
        if self.how == "merged":
            self.how = "merged, then per page"
        self.close()

    def close(self) -> None:
        for one in self.passes or ():
            one.close()
        self.passes = None
