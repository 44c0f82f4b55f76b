"""The export pipeline: clinic database → canonical records → FHIR + raw rows → bag tar stream.

Everything is an iterator. :meth:`ExportRun.stream` yields the bytes of the deterministic bag tar; what
consumes them decides where they go — a hash only (dry run) or the sealed-bundle writer, which encrypts
them before they touch the disk. Plaintext patient data is never written anywhere by this module.

Nothing is lost: for every entity the number of rows in the source table must equal exported +
quarantined rows. A quarantined row goes verbatim into ``data/raw/<entity>`` with its reason.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from emr_exporter import __version__, model
from emr_exporter.connectors.mapper import (
    REF_COLUMN_PREFIX,
    EntityMapper,
    KeyForm,
    _referenced_record_id,
    in_key_form,
    key_text,
    load_hooks,
    ref_count_column,
)
from emr_exporter.connectors.selectlist import unchanged_columns
from emr_exporter.connectors.spec import (
    BACK_COLUMN_PREFIX,
    COMPOSITE_KEY_SEPARATOR,
    TABLE_NAME,
    ConnectorSpec,
    EntitySpec,
)
from emr_exporter.connectors.transforms import FieldRepaired, RowRejected, TransformContext, to_text
from emr_exporter.errors import (
    EXPORT_CANCELLED_MESSAGE,
    ConfigError,
    ExportCancelled,
    ExportError,
    MappingError,
    ReconciliationError,
    SourceConnectionLost,
    SourceError,
    SourcePermissionDenied,
    SourceQueryError,
)
from emr_exporter.pipeline import fastlines, fhir
from emr_exporter.pipeline.allocator import limit_heap_growth
from emr_exporter.pipeline.bag import BagStream, canonical_json_line
from emr_exporter.pipeline.cells import CellCheck
from emr_exporter.pipeline.check import ResourceCheck
from emr_exporter.pipeline.children import ChildLists, child_key_text, children_pass_sql
from emr_exporter.pipeline.merges import MergePlan, plan_merges
from emr_exporter.pipeline.parallel import (
    MIN_PARALLEL_ROWS,
    MIN_POOL_ROWS,
    WorkerPool,
    batches_of,
    entity_batch_rows,
    start_pool,
)
from emr_exporter.pipeline.raw import encode_raw, encode_raw_later, spliced_line
from emr_exporter.pipeline.references import Repeats, group_column
from emr_exporter.sources.base import (
    DEFAULT_PAGE_SIZE,
    PageSql,
    Source,
    _page_bytes,
    _read_page,
    iter_keyset,
    iter_keyset_values,
    reconnect_after,
    snapshot_generation,
)
from emr_exporter.sources.catalog import (
    DEFAULT_SCHEMAS,
    CatalogColumn,
    CatalogTable,
    Converters,
    convert_row,
    from_name,
    list_tables,
    no_snapshot_tables,
    no_snapshot_warning,
    quoted_column,
    readable_expression,
    readable_query,
    readable_select,
    type_family,
)
from emr_exporter.sources.drivers import (
    LARGE_OBJECT_PIECE,
    LARGE_OBJECTS,
    caps_for,
    folded_identifier,
    keyset_page_sql,
    keyset_params,
    large_object_piece_sql,
    large_objects_page_sql,
    row_keys,
    sortable,
)
from emr_exporter.sources.paging import PageSizer, value_bytes

log = logging.getLogger(__name__)

#: Rows per page for entities that carry BLOBs: each row's bytes are in memory while it is handled.
BLOB_PAGE_SIZE = 16
#: A page of a keyless table's ordered pass (ordered_page_sql) holds at most this many rows, and about this many
#: times PAGE_BYTES of text and binary values: each LIMIT/OFFSET page's query sorts the whole table again (no key,
#: no index), and each range's (MariaDB: ExportRun._ordered_ranges) scans it twice, so there are few of them
#: (docs/performance.md, "Keyless tables"). A cursor's FETCH (PostgreSQL) is sized alike.
ORDERED_PAGE_ROWS = 250_000
ORDERED_PAGE_FACTOR = 4
#: The first of those pages, unless the table has a column that may hold a scan (:func:`_may_hold_large`): then
#: one row. Each page is a sort of the whole table, so it does not start at one row (paging.FIRST_PAGE_ROWS).
ORDERED_FIRST_PAGE_ROWS = 16
#: Rows equal in a keyless table's leading range column (ExportRun._ordered_ranges) are read in ranges of the next
#: column where they are more than this share of the table (1/16), else in pages of their own.
RANGE_GROUP_SHARE = 16
FILE_CHUNK = 1024 * 1024
#: What to do about a section's query that gives a row of its table more than once (every row is counted once).
ONE_ROW_EACH = ("Make the query give each row of the table once: join one row per row (a sub-query with LIMIT 1, or "
                "an aggregate such as string_agg or array_agg), or map the repeated values in a section that reads "
                "their own table, in")


@dataclass
class EntityReconciliation:
    """Rows and cells of one entity: ``source = exported + quarantined`` and
    ``source cells = mapped + carried raw + quarantined rows' cells``."""

    entity: str
    table: str
    source_rows: int
    exported: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    # FHIR status of every written resource ("final", "entered-in-error", "active/confirmed" …), and how
    # many records had a source status with no FHIR equivalent (written as unknown, the text kept verbatim).
    statuses: Counter[str] = field(default_factory=Counter)
    statuses_kept_as_recorded: int = 0
    #: The section whose rows this one reads again (the chief complaint of the visit table): its rows are
    #: reconciled here but not counted twice in the totals.
    rereads: str | None = None
    #: The record type the section's rows become (``vital_signs`` of ``vital_weight``), for the founder's
    #: words (the transfer report); not written to the bundle's reconciliation.json, so its bytes stay as they were.
    kind: str = ""
    source_cells: int = 0
    mapped_cells: int = 0
    carried_cells: int = 0  # unmapped columns, dropped or repaired fields, changed keys (data/raw/columns)
    quarantined_cells: int = 0
    #: Of the carried cells: mapped cells the FHIR output cannot give back exactly (pipeline/cells.py).
    transformed_cells: int = 0
    field_defects: Counter[str] = field(default_factory=Counter)  # reason code -> fields dropped/repaired

    @property
    def balanced(self) -> bool:
        return (self.source_rows == self.exported + self.quarantined
                and self.source_cells == self.mapped_cells + self.carried_cells + self.quarantined_cells)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityReconciliation:
        """The inverse of :meth:`to_dict` (a bundle's saved summary; older ones lack cells)."""
        cells = data.get("cells", {})
        return cls(
            entity=data["entity"], table=data["table"], source_rows=data["source_rows"], exported=data["exported"],
            quarantined=data["quarantined"], reasons=Counter(data.get("quarantine_reasons", {})),
            statuses=Counter(data.get("statuses", {})),
            statuses_kept_as_recorded=int(data.get("statuses_kept_as_recorded", 0)),
            rereads=data.get("rereads"),
            source_cells=cells.get("source", 0), mapped_cells=cells.get("mapped", 0),
            carried_cells=cells.get("carried_raw", 0), quarantined_cells=cells.get("quarantined", 0),
            transformed_cells=cells.get("transformed", 0), field_defects=Counter(data.get("field_defects", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "entity": self.entity,
            "table": self.table,
            "source_rows": self.source_rows,
            "exported": self.exported,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(sorted(self.reasons.items())),
            "cells": {
                "source": self.source_cells, "mapped": self.mapped_cells, "carried_raw": self.carried_cells,
                "quarantined": self.quarantined_cells, "transformed": self.transformed_cells,
            },
            "field_defects": dict(sorted(self.field_defects.items())),
            "balanced": self.balanced,
            "statuses": dict(sorted(self.statuses.items())),
            "statuses_kept_as_recorded": self.statuses_kept_as_recorded,
        }
        if self.rereads:
            out["rereads"] = self.rereads
        return out


@dataclass
class TableReconciliation:
    """A table no entity reads, carried verbatim: ``source rows = carried rows``."""

    table: str
    source_rows: int
    columns: int
    read: str  # "keyset on <column>" | "one ordered pass (no usable key)"
    member: str  # the NDJSON group under data/, e.g. "raw/tables/SMS_LOG"
    carried: int = 0

    @property
    def balanced(self) -> bool:
        return self.source_rows == self.carried

    @property
    def source_cells(self) -> int:
        return self.source_rows * self.columns

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table, "source_rows": self.source_rows, "carried": self.carried, "columns": self.columns,
            "cells": {"source": self.source_cells, "carried_raw": self.carried * self.columns},
            "read": self.read, "files": f"data/{self.member}.*.ndjson", "balanced": self.balanced,
        }


@dataclass
class ColumnsReconciliation(TableReconciliation):
    """The columns of a table its sections read that none of their queries selects (``names``), carried raw
    beside the sections: ``source rows = carried rows``, each with ``columns`` cells. Read by the table's
    primary key (``key``: each line names its row by it), or, without a usable key, as whole rows (every
    column: the ones the sections read too, so that a row's cells stay together)."""

    names: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    #: Of ``names``, those a query has as a result column all the same, but holding something else
    #: (``UPPER(name) AS name``): their stored values are carried here too (the inventory's ``changed``).
    changed: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnsReconciliation:
        return cls(
            table=data["table"], source_rows=data["source_rows"], carried=data["carried"],
            columns=len(data["columns"]), read=data["read"],
            member=data["files"].removeprefix("data/").removesuffix(".*.ndjson"),
            names=tuple(data["columns"]), key=tuple(data.get("key", ())), changed=tuple(data.get("changed", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "table": self.table, "source_rows": self.source_rows, "carried": self.carried,
            "columns": list(self.names), "key": list(self.key),
            "cells": {"source": self.source_cells, "carried_raw": self.carried * self.columns},
            "read": self.read, "files": f"data/{self.member}.*.ndjson", "balanced": self.balanced,
        }
        if self.changed:  # (only where there are some: a bag without them is the same as before)
            out["changed"] = list(self.changed)
        return out


@dataclass
class SectionReconciliation(TableReconciliation):
    """The rows of a carried section (``carry = "…"``): every row its query gives, carried verbatim with the
    section's reason (``source rows = carried rows``), each with ``columns`` cells of its table (those carried
    beside the sections as unselected columns, if any, are counted there)."""

    section: str = ""
    reason: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SectionReconciliation:
        return cls(
            table=data["table"], source_rows=data["source_rows"], carried=data["carried"], columns=data["columns"],
            read=data["read"], member=data["files"].removeprefix("data/").removesuffix(".*.ndjson"),
            section=data["section"], reason=data["reason"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "reason": self.reason, **super().to_dict()}


def carried_whole(reconciliation: Mapping[str, Any]) -> dict[str, int]:
    """The rows carried whole, from a reconciliation as :meth:`Reconciliation.to_dict` writes it: the carried
    tables' (``tables``) and the carried sections' (``carried_sections``, absent from older ones), read from the
    source (``source_rows``) and carried (``carried``, equal when balanced). None of them is in ``totals``."""
    tables = [t for t in reconciliation.get("tables") or [] if isinstance(t, Mapping)]
    sections = [s for s in reconciliation.get("carried_sections") or [] if isinstance(s, Mapping)]
    return {
        "source_rows": sum(int(t.get("source_rows", 0)) for t in [*tables, *sections]),
        "carried": sum(int(t.get("carried", 0)) for t in [*tables, *sections]),
        "tables": sum(int(t.get("carried", 0)) for t in tables),
        "sections": sum(int(s.get("carried", 0)) for s in sections),
    }


def row_totals(reconciliation: Mapping[str, Any]) -> dict[str, int]:
    """Every source row of the database counted once, and where it went: ``source_rows = exported + carried +
    quarantined``, ``carried`` = rows carried whole (``carried_tables`` + ``carried_sections``). From a
    reconciliation as :meth:`Reconciliation.to_dict` writes it, older ones too (no ``carried_sections``: none).
    ``totals`` stays the mapped sections' (``source_rows = exported + quarantined``); this adds the rest."""
    totals = reconciliation.get("totals") or {}
    whole = carried_whole(reconciliation)
    return {
        "source_rows": int(totals.get("source_rows", 0)) + whole["source_rows"],
        "exported": int(totals.get("exported", 0)),
        "carried": whole["carried"],
        "quarantined": int(totals.get("quarantined", 0)),
        "carried_tables": whole["tables"],
        "carried_sections": whole["sections"],
    }


@dataclass
class Reconciliation:
    entities: list[EntityReconciliation] = field(default_factory=list)
    tables: list[TableReconciliation] = field(default_factory=list)  # carried raw
    inventory: list[dict[str, Any]] = field(default_factory=list)  # every table and view, with its fate
    #: Per table its sections read: the columns none of their queries selects, carried raw beside them.
    columns: list[ColumnsReconciliation] = field(default_factory=list)
    #: The carried sections' rows (``carry = "…"``), each section's carried raw with its reason.
    sections: list[SectionReconciliation] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return (all(e.balanced for e in self.entities) and all(t.balanced for t in self.tables)
                and all(c.balanced for c in self.columns) and all(c.balanced for c in self.sections))

    @property
    def totals(self) -> dict[str, int]:
        """Source rows counted once: a section that reads another's rows again is left out of the totals."""
        once = [e for e in self.entities if not e.rereads]
        return {
            "source_rows": sum(e.source_rows for e in once),
            "exported": sum(e.exported for e in once),
            "quarantined": sum(e.quarantined for e in once),
        }

    @property
    def cell_totals(self) -> dict[str, int]:
        """Every source cell of every entity and carried table, and where it went."""
        return {
            "source": sum(e.source_cells for e in self.entities) + sum(t.source_cells for t in self.tables)
            + sum(c.source_cells for c in self.columns) + sum(c.source_cells for c in self.sections),
            "mapped": sum(e.mapped_cells for e in self.entities),
            "carried_raw": sum(e.carried_cells for e in self.entities)
            + sum(t.carried * t.columns for t in self.tables) + sum(c.carried * c.columns for c in self.columns)
            + sum(c.carried * c.columns for c in self.sections),
            "quarantined": sum(e.quarantined_cells for e in self.entities),
            "transformed": sum(e.transformed_cells for e in self.entities),
        }

    @property
    def row_totals(self) -> dict[str, int]:
        """Every source row counted once: :attr:`totals` (mapped), and the rows carried whole by carried tables
        and carried sections (see :func:`row_totals`). What a person reads as the export's total."""
        return row_totals({
            "totals": self.totals,
            "tables": [{"source_rows": t.source_rows, "carried": t.carried} for t in self.tables],
            "carried_sections": [{"source_rows": s.source_rows, "carried": s.carried} for s in self.sections],
        })

    @property
    def table_totals(self) -> dict[str, int]:
        return {"source_rows": sum(t.source_rows for t in self.tables), "carried": sum(t.carried for t in self.tables)}

    @property
    def field_defects(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for e in self.entities:
            total.update(e.field_defects)
        return dict(sorted(total.items()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reconciliation:
        """The inverse of :meth:`to_dict` (a summary written by an earlier run; older ones lack cells)."""
        entities = [EntityReconciliation.from_dict(e) for e in data.get("entities", [])]
        tables = [
            TableReconciliation(
                table=t["table"], source_rows=t["source_rows"], carried=t["carried"],
                columns=t["columns"],
                read=t["read"], member=t["files"].removeprefix("data/").removesuffix(".*.ndjson"),
            )
            for t in data.get("tables", [])
        ]
        columns = [ColumnsReconciliation.from_dict(c) for c in data.get("unselected_columns", [])]
        sections = [SectionReconciliation.from_dict(c) for c in data.get("carried_sections", [])]
        return cls(entities, tables, list(data.get("inventory", [])), columns, sections)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "balanced": self.balanced, "totals": self.totals, "entities": [e.to_dict() for e in self.entities],
            "tables": [t.to_dict() for t in self.tables], "table_totals": self.table_totals,
            "cells": self.cell_totals, "field_defects": self.field_defects,
            "inventory": self.inventory,
        }
        if self.columns:  # (only where there are some: a bag without them is the same as before)
            out["unselected_columns"] = [c.to_dict() for c in self.columns]
        if self.sections:  # (likewise)
            out["carried_sections"] = [c.to_dict() for c in self.sections]
        return out

    def table(self) -> str:
        """A plain-text table for the terminal (no patient data: counts and reason codes only)."""
        width = max([16, *(len(e.entity) + 1 for e in self.entities)])  # medication_statement is 20 long
        lines = [f"{'entity':<{width}}{'source':>10}{'exported':>10}{'quarantined':>13}  reasons"]
        for e in self.entities:
            reasons = ", ".join(f"{code} {n}" for code, n in sorted(e.reasons.items()))
            mark = "" if e.balanced else "  NOT BALANCED"
            lines.append(
                f"{e.entity:<{width}}{e.source_rows:>10}{e.exported:>10}{e.quarantined:>13}  {reasons}{mark}"
            )
        t = self.totals
        lines.append(f"{'total':<{width}}{t['source_rows']:>10}{t['exported']:>10}{t['quarantined']:>13}")
        if self.tables:
            lines.append("")
            lines.append(f"{'carried table':<24}{'source':>10}{'carried':>10}  read")
            also = {i["name"]: i["also_read_by"] for i in self.inventory if i.get("also_read_by")}
            for c in self.tables:
                mark = "" if c.balanced else "  NOT BALANCED"
                joined = f" (also read by {', '.join(also[c.table])})" if c.table in also else ""
                lines.append(f"{c.table:<24}{c.source_rows:>10}{c.carried:>10}  {c.read}{joined}{mark}")
        lines.append("")
        lines.append(f"{'cells':<{width}}{'source':>12}{'mapped':>12}{'carried raw':>13}{'quarantined':>13}")
        for e in self.entities:
            lines.append(f"{e.entity:<{width}}{e.source_cells:>12}{e.mapped_cells:>12}{e.carried_cells:>13}"
                         f"{e.quarantined_cells:>13}")
        if self.tables:
            carried = sum(c.carried * c.columns for c in self.tables)
            lines.append(f"{'carried tables':<{width}}{sum(c.source_cells for c in self.tables):>12}{0:>12}"
                         f"{carried:>13}{0:>13}")
        if self.columns:
            carried = sum(c.carried * c.columns for c in self.columns)
            lines.append(f"{'unselected cols':<{width}}{sum(c.source_cells for c in self.columns):>12}{0:>12}"
                         f"{carried:>13}{0:>13}")
        for c in self.sections:
            lines.append(f"{c.section:<{width}}{c.source_cells:>12}{0:>12}{c.carried * c.columns:>13}{0:>13}")
        cells = self.cell_totals
        lines.append(f"{'total':<{width}}{cells['source']:>12}{cells['mapped']:>12}{cells['carried_raw']:>13}"
                     f"{cells['quarantined']:>13}")
        if cells["transformed"]:
            lines.append(f"of the carried cells, {cells['transformed']} are mapped cells FHIR cannot give back exactly "
                         "(trimmed, normalised, re-formatted): carried raw as 'transformed'")
        if self.field_defects:
            defects = ", ".join(f"{code} {n}" for code, n in self.field_defects.items())
            lines.append(f"field defects (row kept, field carried raw): {defects}")
        for c in self.sections:
            mark = "" if c.balanced else "  NOT BALANCED"
            lines.append(f"rows of {c.table} carried raw by [entities.{c.section}] ({c.read}): {c.carried} of "
                         f"{c.source_rows} rows, {c.reason}{mark}")
        for c in self.columns:
            mark = "" if c.balanced else "  NOT BALANCED"
            changed = (f" ({', '.join(c.changed)}: a query's column of that name holds something else)"
                       if c.changed else "")
            lines.append(f"columns of {c.table} no query selects, carried raw ({c.read}): {', '.join(c.names)}"
                         f"{changed}; {c.carried} of {c.source_rows} rows{mark}")
        skipped = [i for i in self.inventory if i.get("fate") == "skipped"]
        if skipped:
            lines.append(f"not carried (skipped by the connector, or views): {', '.join(i['name'] for i in skipped)}")
        parts: dict[str, list[str]] = {}
        for i in self.inventory:
            if i.get("fate") == "read_with":
                parts.setdefault(i["part_of"], []).append(i["name"])
        if parts:
            lines.append("partitions, read with their table (not on their own): " + "; ".join(
                f"{', '.join(names)} with {table}" for table, names in parts.items()))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Progress of one stage; ``total`` is the source row count of the entity (0 when unknown)."""

    stage: str  # "count" | "export" | "carry" (a table no entity reads) | "finish"
    entity: str | None
    done: int
    total: int


ProgressCallback = Callable[[ProgressEvent], None]


class RecordObserver(Protocol):
    """Sees every exported record while the bag streams; adds its own report files at the end.

    Used for reports computed in one pass (document readiness). Must keep bounded state.

    Optionally (ReadinessObserver), a pure per-record summary instead of the record: a ``summarise``
    attribute, a module-level function ``record -> picklable summary or None`` (run where the row is
    mapped: in a worker process too), and ``observe_summary(summary)``, called in the export's order for
    every exported record whose summary is not None. Then the workers send no records back for it.
    Without ``summarise`` the observer gets every exported record through ``observe``, as always.
    """

    def observe(self, record: model.Record) -> None: ...

    def report_members(self) -> list[tuple[str, bytes]]:
        """(path under data/, bytes) to add to the bag, e.g. ("report/readiness.json", b"...")."""
        ...


def jsonable(value: Any) -> Any:
    """A raw database value as deterministic JSON (bytes kept exactly, as base64)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def quarantine_line(row: model.QuarantinedRow, encoding: str = "utf-8") -> dict[str, Any]:
    """A quarantined row, every column kept (the carried form of :mod:`emr_exporter.pipeline.raw`)."""
    return {
        "entity": row.entity,
        "table": row.provenance.table,
        "key": row.provenance.key,
        "reason_code": row.reason_code,
        "reason": row.reason,
        "row": {name: encode_raw(value, encoding) for name, value in sorted(row.raw.items())},
    }


#: Why a view is not carried: its rows are rows of tables that are in the inventory themselves.
VIEW_REASON = "a view: its rows come from the tables listed here"
#: A table the export would read whose rows row-level security filters for this account (CatalogTable.
#: row_security): it would count, read and balance only the rows the policies show, the others missing
#: without a word.
ROW_SECURITY_MESSAGE = (
    "Table {table}: row-level security shows this database account only the rows its policies allow, so the "
    "others would be missing from the export. Export with an account the policies do not hold (a superuser, a "
    "role with BYPASSRLS, or the table's owner when the table does not FORCE ROW LEVEL SECURITY); or, if the "
    "table holds no patient records, name it in connector.toml's [skip] with the reason.")
#: A SQLite virtual table (FTS, R-tree, an EMR's own extension): not read through its module.
VIRTUAL_REASON = ("a virtual table (module {module}): its module keeps its rows in tables listed here (carried) or "
                  "outside this database")
#: A PostgreSQL partition (a sub-partition, a default partition): read with the partitioned table it is part of.
PARTITION_REASON = "a partition of {table}: its rows are read with {table}"
#: ... of a partitioned table the connector skips.
SKIPPED_PARTITION_REASON = "a partition of {table}, skipped with it: {reason}"
#: A table name after FROM or JOIN (schema-qualified or quoted names too; PostgreSQL's ONLY before it).
_FROM_TABLE = re.compile(
    r"""\b(?:FROM|JOIN)\s+(?:ONLY\s+)?[`"\[]?([A-Za-z_][A-Za-z0-9_]*)(?:[`"\]]?\.[`"\[]?([A-Za-z_][A-Za-z0-9_]*))?""",
    re.IGNORECASE,
)


def named_table_problems(spec: ConnectorSpec, tables: list[CatalogTable],
                         ) -> tuple[list[tuple[str, str, str]], list[str]]:
    """What is wrong with the names under ``[skip]`` and ``[carry]`` on this database (``tables``: its
    catalogue): (refused, unknown): (section, name, message) and a message per name (names only, sorted).

    Refused, a name that would not do what it says: a partition under ``[skip]`` or ``[carry]`` (its rows are
    read with its partitioned table, and so skipped or carried with it), a view or virtual table under
    ``[carry]`` (never carried: its rows are the rows of tables the inventory lists themselves). A view under
    ``[skip]`` is what happens to it anyway, with the connector's reason. Unknown: a name that is no table
    or view of this database: it skips or carries nothing (a misspelling; or a table another version of the
    EMR has)."""
    exact = {t.name: t for t in tables}
    folded: dict[str, list[CatalogTable]] = {}
    for t in tables:
        folded.setdefault(t.name.lower(), []).append(t)
    refused: list[tuple[str, str, str]] = []
    unknown: list[str] = []
    for section, names, what in (("skip", spec.skip, "skips"), ("carry", spec.carry, "carries")):
        for name in sorted(names, key=lambda n: (n.lower(), n)):
            found = exact.get(name) or next(iter(folded.get(name.lower(), [])), None)
            if found is None:
                unknown.append(f"[{section}] names {name}, which is no table or view of this database: it {what} "
                               "nothing. Correct the name (emr-export scan lists the tables) or remove it")
            elif found.kind == "partition":
                doing = "skipping" if section == "skip" else "carrying"
                refused.append((section, name, f"[{section}] names table {found.name}, a partition of "
                                f"{found.part_of}: its rows are read with {found.part_of}. Remove it from [{section}] "
                                f"({doing} {found.part_of} {what} its partitions too)"))
            elif section == "carry" and found.kind in ("view", "virtual"):
                kind = "a view" if found.kind == "view" else "a virtual table"
                refused.append((section, name, f"[carry] names {found.name}, {kind}: it is not carried, its rows "
                                "are rows of tables the inventory lists themselves. Remove it from [carry] (and name "
                                "those tables there if no section reads them)"))
    return refused, unknown


def tables_in_sql(spec: ConnectorSpec) -> dict[str, list[str]]:
    """Tables the connector's SQL reads beside the sections' own tables, lower case → what reads them:
    section names (a query's join, a look-up, an expression) and ``[institution]``.

    The one truth of the inventory, the export and the connector check (issue 13): a table no section
    has as its own is carried verbatim, whether or not a join reads some of its columns — a join reaches
    only the rows that match, and carrying the table keeps the rest. The inventory names the sections that
    also read it (``also_read_by``), so nobody takes it for a forgotten table.
    """
    found: dict[str, set[str]] = {}

    def note(sql: str | None, reader: str) -> None:
        for match in _FROM_TABLE.finditer(sql or ""):
            schema, table = (match.group(1), match.group(2)) if match.group(2) else ("", match.group(1))
            # his.visit: the inventory names a table outside the default schema so (public.visit: visit); a
            # dbo.visit is visit on SQL Server but dbo.visit on PostgreSQL (a port keeps its schema dbo)
            for name in {table if schema.lower() in DEFAULT_SCHEMAS else f"{schema}.{table}",
                         f"{schema}.{table}" if schema else table}:
                found.setdefault(name.lower(), set()).add(reader)

    note(spec.institution_query, "[institution]")
    for name, entity in spec.entities.items():
        note(entity.query, name)
        for f in entity.fields.values():
            for sql in (f.expr or {}).values():
                note(sql, name)
            if f.lookup is not None:
                found.setdefault(f.lookup.table.lower(), set()).add(name)
                note(f.lookup.where, name)
    return {table: sorted(readers) for table, readers in found.items()}


def carried_select(engine: str, table: CatalogTable, listed: bool = False) -> tuple[str, Converters]:
    """The select list of a carried table and its conversions (:func:`readable_select`): a column the server
    converts from a single-byte character set (MariaDB/MySQL ``latin1``, where legacy Korean EMRs keep CP949
    bytes that would come out as '±èÈ¯ÀÚ') is read as the bytes stored, so the bag holds the clinic's bytes; one
    in a multi-byte legacy character set (``euckr``) is read so and decoded here, a value holding a character
    Unicode lacks (which the server gives as '?') kept as its bytes. ``listed``: every column by name (``table``
    holds some of its columns only: a carried section's rows, without the unselected ones)."""
    return readable_select(engine, [(c.name, c.read_type) for c in table.columns],
                           stored_bytes=[c.name for c in table.columns if c.byte_charset],
                           listed=listed or table.has_hidden,
                           decoded={c.name: c.decoded_charset for c in table.columns if c.decoded_charset})


def ordered_pass_sql(engine: str, table: CatalogTable) -> str:
    """The one ordered pass over a table without a usable key: ``ORDER BY`` every column the engine can
    sort by (the others are left out of the order, not of the rows); no ``ORDER BY`` when none is left."""
    select, order = _ordered_select(engine, table)
    return f"{select} ORDER BY {', '.join(order)}" if order else select


def _ordered_select(engine: str, table: CatalogTable) -> tuple[str, list[str]]:
    """A keyless table's ``SELECT … FROM`` and the columns it is ordered by (see :func:`ordered_pass_sql`)."""
    caps = caps_for(engine)
    # not the types the engine cannot sort by (SQL Server's TEXT, Firebird's BLOBs, PostgreSQL's json and point)
    by = [c for c in table.columns if sortable(engine, c.read_type)]
    quoted = from_name(engine, table)
    select, _ = carried_select(engine, table)
    return f"SELECT {select} FROM {quoted}", [caps.quote(c.name) for c in by]


def ordered_in_pages(source: Source) -> bool:
    """Whether a keyless table's ordered pass is read in pages (:func:`ordered_page_sql`): where the driver holds
    a whole result in memory (MariaDB Connector/ODBC before 3.1.17, sqliteodbc, psqlODBC without
    ``UseDeclareFetch``), one query over a table of 10 million log rows would hold gigabytes. The stdlib
    SQLite cursor, SQL Server's and Firebird's drivers, and psqlODBC with ``UseDeclareFetch=1`` (which the export
    sets where the connection string names the driver) hand rows over as they come: one query."""
    streams = getattr(source, "streams_results", None)
    return not streams if streams is not None else caps_for(source.engine).buffers_whole_result


#: Declared types of a column that may hold a scan or an image of many megabytes.
_LARGE_TYPES = ("BLOB", "BINARY", "BYTEA", "IMAGE", "LONGTEXT", "MEDIUMTEXT", "CLOB", "LONG")


def _may_hold_large(table: CatalogTable) -> bool:
    """Whether a column of ``table`` may hold values of many megabytes (binary, long text, or a SQLite column
    without a declared type): its keyless ordered pass starts at one row (ORDERED_FIRST_PAGE_ROWS)."""
    return any(not c.type.strip() or any(t in c.type.upper() for t in _LARGE_TYPES) for c in table.columns)


def _tie_break(engine: str, table: CatalogTable) -> list[str]:
    """What a keyless table's ordered pages are ordered by after its columns: rows the ``ORDER BY`` sees as
    equal but that hold other values ('u1' and 'U1' under a case-insensitive collation, 'a' and 'a ' where
    trailing blanks do not count, 1.0 and 1.00, -0 and 0, texts equal in their first ``max_sort_length`` bytes,
    PostgreSQL json) would otherwise come in whatever order each page's query sorts them, and a page could
    repeat a row its neighbour already held and leave another out. Rows equal here are equal in every value."""
    quote = caps_for(engine).quote
    names = [quote(c.name) for c in table.columns]
    if engine in ("mariadb", "mysql"):  # the digest of each value as stored (bytes, whatever the collation)
        parts = ", ".join(f"IFNULL(MD5(CAST({n} AS BINARY)), '-')" for n in names)
        return [f"MD5(CONCAT({parts}))"]
    if engine == "postgresql":  # every type has a text form, json and xml included
        return ["md5(" + " || ".join(f"COALESCE(md5(CAST({n} AS TEXT)), '-')" for n in names) + ")"]
    # SQLite: a value's bytes (1 and 1.0 apart, a NOCASE column's 'a' and 'A' apart)
    return [f"CAST({n} AS BLOB)" for n in names]


def ordered_page_sql(engine: str, table: CatalogTable, rows: int, offset: int) -> str:
    """A page of a keyless table's ordered pass (:func:`ordered_pass_sql`) where the driver would hold the whole
    result (:func:`ordered_in_pages`): the same order, then :func:`_tie_break`, so that every page's query
    orders the rows the same way; ``rows`` rows after the first ``offset``. Pages run in the export's snapshot
    (one read transaction), so each sees the same rows."""
    select, order = _ordered_select(engine, table)
    return f"{select} ORDER BY {', '.join(order + _tie_break(engine, table))} LIMIT {int(rows)} OFFSET {int(offset)}"


#: The families of a keyless table's ``ORDER BY`` columns that its ordered pass may be cut into ranges of on
#: MariaDB/MySQL (:func:`ordered_range_columns`): values the driver reads back exactly and that the server
#: compares as its ``ORDER BY`` orders them (the column's collation: 'a' = 'A', 'a' = 'a '). Not floats (a FLOAT
#: read back as a double), BIT, YEAR, TIME (others: :func:`range_key`).
_RANGE_FAMILIES = ("integer", "decimal", "date", "datetime", "text")
#: Text types among them: not TEXT/LONGTEXT, whose values past ``max_sort_length`` bytes the ORDER BY does not see.
_RANGE_TEXT_TYPES = ("CHAR", "VARCHAR", "NCHAR", "NVARCHAR")


def range_key(engine: str, column: CatalogColumn) -> tuple[str, str] | None:
    """What a range of a keyless table's ordered pass compares of ``column`` (:func:`ordered_range_columns`), and
    what its bound is read as (:func:`ordered_boundary_sql`); None where the column cannot bound a range. Each
    is a value the ``ORDER BY`` of the column orders as the server compares it, equal exactly where it sorts
    equal:

    - a TIMESTAMP by ``UNIX_TIMESTAMP(c)``: the stored instant, which it sorts by (not its local time, which in a
      clock change names two instants), an integer or a decimal (its fractions), inlined; a zero one is 0;
    - an ENUM or SET by ``c + 0``: its index (bits), which it sorts by (not its text, which it is compared as);
    - a DATE or DATETIME by itself, read as ``CAST(c AS CHAR)`` (zero and partial dates compare as they sort);
    - an integer, DECIMAL, CHAR or VARCHAR by itself (text in the column's collation);
    - a CHAR, VARCHAR, ENUM or SET read as its stored bytes (latin1, euckr: :func:`carried_select`) by those
      bytes, ``CAST(c AS BINARY)``, bounded by a hex literal: the ``ORDER BY`` names the select list's
      ``CAST(c AS BINARY) AS c``, so it sorts the bytes too, not the text in the column's collation."""
    if engine not in ("mariadb", "mysql"):
        return None
    quoted = caps_for(engine).quote(column.name)
    declared = column.read_type.upper().split("(")[0].strip()
    if column.byte_charset or column.decoded_charset:
        if declared not in (*_RANGE_TEXT_TYPES, "ENUM", "SET"):
            return None
        expr = caps_for(engine).stored_bytes(quoted)
        return expr, expr
    if declared == "TIMESTAMP":
        expr = f"UNIX_TIMESTAMP({quoted})"
        return expr, expr
    if declared in ("ENUM", "SET"):
        expr = f"({quoted} + 0)"
        return expr, expr
    family = type_family(column.read_type)
    if family not in _RANGE_FAMILIES:
        return None
    if family in ("date", "datetime"):
        return (quoted, f"CAST({quoted} AS CHAR)") if declared in ("DATE", "DATETIME") else None
    if family == "text" and declared not in _RANGE_TEXT_TYPES:
        return None
    return quoted, quoted


def ordered_range_columns(engine: str, table: CatalogTable) -> list[CatalogColumn]:
    """The columns a keyless table's ordered pass is cut into ranges of (:meth:`ExportRun._ordered_ranges`) where
    the driver holds whole results; none: pages of ``LIMIT n OFFSET m``, each a sort of the whole table.

    MariaDB/MySQL only: its leading ``ORDER BY`` columns, as far as each has a :func:`range_key`. Rows come in
    ranges of the first one's values in its order (NULLs first, as MariaDB's ``ORDER BY`` puts them); more than
    a page of rows equal in it, in ranges of the next; each range ordered as before. So the rows come in the
    order of one ``ORDER BY`` of the whole table."""
    if engine not in ("mariadb", "mysql"):
        return []
    by = [c for c in table.columns if sortable(engine, c.read_type)]
    columns: list[CatalogColumn] = []
    for column in by:
        if range_key(engine, column) is None:
            break
        columns.append(column)
    return columns


def range_literal(column: CatalogColumn, value: Any) -> tuple[str, tuple[Any, ...]]:
    """How a value of ``column`` read by :func:`ordered_boundary_sql` is written into a range's condition: an
    integer or decimal as its literal (exact; a bound BIGINT UNSIGNED or DECIMAL parameter might not be), a date
    or a text as a parameter (the server compares a text with a DATETIME column as a DATETIME, and with a text
    column in the column's collation)."""
    if isinstance(value, (bytes, bytearray)):  # a column read as its stored bytes: compared as those
        return f"X'{bytes(value).hex()}'", ()
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise ReconciliationError(
            f"Column {column.name}: a range of a table without a key was bounded by a value of an unexpected "
            "type. The export was stopped so that nothing is lost; please report this with the table's "
            "definition (no data).")
    if isinstance(value, int):
        return str(int(value)), ()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ReconciliationError(f"Column {column.name}: a range bound is not a finite number.")
        return format(value, "f"), ()
    return "?", (value,)


def ordered_boundary_sql(engine: str, table: CatalogTable, column: CatalogColumn, where: str, rows: int) -> str:
    """The value of ``column`` ``rows`` rows after the start of the rows ``where`` keeps (its NULLs left out), in
    its order: where the next range of a keyless table's ordered pass ends (:func:`ordered_range_columns`). A
    sort of one column, not of every column and their digest."""
    quoted = caps_for(engine).quote(column.name)
    key = range_key(engine, column)
    if key is None:
        raise ValueError(f"Column {column.name} bounds no range")
    # in the order of the pages' ORDER BY: a column read as its bytes is sorted so there (its select list's name)
    order = key[0] if column.byte_charset or column.decoded_charset else quoted
    return (f"SELECT {key[1]} AS b FROM {from_name(engine, table)} WHERE {where} ORDER BY {order} "
            f"LIMIT 1 OFFSET {int(rows)}")


def ordered_range_sql(engine: str, table: CatalogTable, where: str, rows: int, offset: int) -> str:
    """A page of one range of a keyless table's ordered pass (``where``, on :func:`ordered_range_columns`): the
    rows of :func:`ordered_page_sql` in that range, ``rows`` after the first ``offset`` of it. Only the range's
    rows are sorted."""
    select, order = _ordered_select(engine, table)
    return (f"{select} WHERE {where} ORDER BY {', '.join(order + _tie_break(engine, table))} "
            f"LIMIT {int(rows)} OFFSET {int(offset)}")


def ordered_by_cursor(source: Source) -> bool:
    """Whether a keyless table's ordered pass that the driver would hold whole (:func:`ordered_in_pages`) is read
    through a server-side cursor (:meth:`ExportRun._ordered_cursor`): on PostgreSQL, in the export's snapshot (a
    cursor lives in a transaction), and outside one (``scan``, ``connector check``: a cursor ``WITH HOLD``,
    which the server fills when its statement ends). One sort of the table, fetched a page at a time."""
    return source.engine == "postgresql"


def ordered_cursor_sql(engine: str, table: CatalogTable, name: str, hold: bool = False) -> str:
    """``DECLARE`` of the cursor over a keyless table's ordered pass (:func:`ordered_by_cursor`): the order of its
    pages (:func:`ordered_page_sql`), without LIMIT/OFFSET; ``hold``: ``WITH HOLD``, for a connection without a
    transaction (each statement commits), where a cursor would end with its ``DECLARE``."""
    select, order = _ordered_select(engine, table)
    held = " WITH HOLD" if hold else ""
    return (f"DECLARE {name} NO SCROLL CURSOR{held} FOR {select} "
            f"ORDER BY {', '.join(order + _tie_break(engine, table))}")


def large_objects_refused(account: str, which: str) -> str:
    """What to grant when the account may not read ``which`` ("3 of the clinic database's 40 large objects")."""
    return (
        f"The database account {account} may not read {which} "
        "(scanned documents and other files PostgreSQL keeps apart from the tables, in pg_largeobject): without "
        "them the export would lose them. Ask the database administrator to let it read them: as a superuser, run "
        f"GRANT SELECT ON LARGE OBJECT <number> TO {account}; for each one (SELECT oid FROM pg_largeobject_metadata "
        "lists them), or set lo_compat_privileges = on for the export. Then run the export again."
    )


#: Where a carried section's rows go (``carry = "…"``), one group per section: data/raw/sections/<name>.
CARRIED_SECTIONS = "raw/sections"


def raw_table_member(name: str, taken: set[str], folder: str = "raw/tables") -> str:
    """The NDJSON group of a carried table: ``raw/tables/<name>`` when the name is a safe file name,
    else (or when it clashes case-insensitively with another) a name with a digest of the table name.
    (``folder``: ``raw/unselected`` for a table's columns no query selects, with its own ``taken``.)"""
    safe = name.replace(".", "_")
    plain = all(ch.isalnum() or ch in "_-" for ch in safe) and safe.isascii() and 0 < len(safe) <= 100
    if not plain or safe.casefold() in taken:
        safe = (re.sub(r"[^A-Za-z0-9_-]", "_", safe)[:60] + "-" +
                hashlib.sha256(name.encode("utf-8")).hexdigest()[:12])
    taken.add(safe.casefold())
    return f"{folder}/{safe}"


#: Why a read table's columns are carried raw beside its sections (the inventory's ``unselected_columns``).
UNSELECTED_REASON = ("no query of the sections that read this table selects them: carried raw beside the "
                     "sections, so that no cell is lost")
#: Why columns a query has a result column of the same name for are carried all the same (``changed``).
CHANGED_REASON = ("a query's result column of that name is not the stored value unchanged (an expression of it or "
                  "of other columns, another column, or a constant): the stored values are carried raw too")
#: How they are read where the table has no usable key.
UNSELECTED_WHOLE_ROWS = ("whole rows, one ordered pass (no usable key to name a row by): every column of each row, "
                         "the ones the sections read too")


#: Why a section reading a table's rows whole leaves some of their cells to a section that reads them again (the
#: inventory's ``read_again``: a visit row's diagnosis-code columns, each read by its own diagnosis section).
READ_AGAIN_REASON = ("read again, unchanged, by the section named: counted and kept there (its resource, its raw "
                     "columns with their reasons, or its quarantined row); carried raw with the row of the section "
                     "named `by` only where that section reads no row of that key (a NULL or blank code)")
#: The computed column (0/1) telling, per row of a section read whole, whether another section reads it again:
#: followed by that section's number in the connector's order (:func:`read_again_columns`).
READ_AGAIN_PREFIX = f"{REF_COLUMN_PREFIX}read_again_"


def _consumed(entity: EntitySpec) -> frozenset[str]:
    """The columns (lower case) the section's fields read (as EntityMapper.consumed_columns)."""
    return frozenset([entity.key.lower(), *(c.lower() for c in entity.key_columns)]
                     + [f.column.lower() for f in entity.fields.values() if f.column is not None]
                     + [c.lower() for f in entity.fields.values() for c in f.columns])


def read_again_columns(full: EntitySpec, again: EntitySpec, columns: Sequence[str]) -> tuple[str, ...]:
    """The columns (lower case, of ``columns``: the table's, or the rows of ``full`` as read) that ``full``, a
    section reading its table's rows whole, maps no field from (it would carry them raw) and that ``again``, a
    section reading some of those rows again by the same key, gives back unchanged under their own names
    (:func:`~emr_exporter.connectors.selectlist.unchanged_columns`): for the rows ``again`` reads, those cells are
    its own (mapped, carried with their reasons, or quarantined there), not carried a second time with ``full``'s.
    Empty where its query (or ``full``'s own) is not read so, or the sections are not keyed alike."""
    if (again.query is None or again.carry is not None or full.carry is not None or again.composite
            or full.composite or again.key.lower() != full.key.lower()):
        return ()
    given = unchanged_columns(str(again.query), again.table, columns)
    if given is None or full.key.lower() not in {c.lower() for c in given}:
        return ()
    if full.query is not None:
        own = unchanged_columns(str(full.query), full.table, columns)
        given = {c for c in given if own is not None and c in own}
    consumed = _consumed(full)
    return tuple(sorted({c.lower() for c in given} - consumed))


def query_result_columns(source: Source, sql: str) -> list[str] | None:
    """The result column names of a SELECT (as written, in order), without reading a row of it; None where the
    source cannot say (neither an ODBC source's ``result_columns`` nor a SQLite file's cursor)."""
    inner = sql.strip().rstrip(";")
    describe = getattr(source, "result_columns", None)
    if describe is not None:
        return [str(name) for name, _ in describe(inner)]
    conn = getattr(source, "conn", None)
    if source.engine == "sqlite" and conn is not None:
        try:
            cursor = conn.execute(f"SELECT * FROM ({inner}) AS q LIMIT 0")
        except sqlite3.Error as exc:
            raise SourceQueryError(f"A query on {source.label} failed: {exc}") from None
        return [str(d[0]) for d in cursor.description or ()]
    return None


def _byte_casts(source: Source) -> bool:
    """Whether ``CAST(col AS BINARY)`` gives a column's stored bytes unchanged here (MariaDB/MySQL)."""
    return source.engine in ("mariadb", "mysql")


def selected_columns(source: Source, sections: list[EntitySpec], columns: Sequence[str],
                     rereads: Collection[str] = ()) -> set[str] | None:
    """The columns (lower case) of the table the ``sections`` read (``columns``, all of them) that their queries
    give back unchanged for every row: None (every column) where one of them has no query of its own (it reads
    the whole table); an empty set where a query's result columns cannot be known (then every column is carried
    beside the sections: nothing is lost, some cells twice).

    A column counts only where a query has it under its own name as a bare reference to it
    (:func:`~emr_exporter.connectors.selectlist.unchanged_columns`), and its result has that name once: a result
    column of the same name holding something else (``UPPER(name) AS name``, ``CAST(fee AS INT) AS fee``,
    ``'' AS birth``), or the column only under another name (``birth AS dob``), leaves it to be carried. Sections
    whose filters split the table (problems, allergies … of one list table) each read only their rows: a column
    counts only where every one of them gives it back so. A section that reads rows another reads whole again
    (``rereads``: their names) adds nothing and takes nothing away."""
    if any(not e.query for e in sections):
        return None
    given: set[str] | None = None
    for entity in sections:
        if entity.name in rereads:
            continue
        names = query_result_columns(source, str(entity.query))
        if names is None:
            return set()
        once = {name for name, n in Counter(name.lower() for name in names).items() if n == 1}
        unchanged = {name.lower() for name in unchanged_columns(
            str(entity.query), entity.table, columns, byte_casts=_byte_casts(source)) or ()}
        given = unchanged & once if given is None else given & unchanged & once
    if given is None and sections:
        # every section reads again rows one reads whole that is not among ``sections``: a section carrying them
        # whole (a prescription's rows, whose JSON array of drugs an order line section reads element by element)
        return None
    return given or set()


#: Why every column of a table is carried beside a section whose query is not read (the inventory's
#: ``unselected_columns.queries_not_read``, the connector check's "queries not read").
QUERY_NOT_READ_REASON = (
    "which stored values this query gives back cannot be known from its text (WITH RECURSIVE, a CTE with a column "
    "list, a UNION of another table or of other select lists, INTERSECT, EXCEPT, DISTINCT, GROUP BY, a self-join): "
    "every column of the table is carried beside it, so the cells it maps are in the bag twice (in FHIR and here); "
    "write it as a plain SELECT … FROM the table (a WITH over it, or a UNION ALL of arms with the same select list, "
    "is read) to have each cell once")


def queries_not_read(source: Source, sections: list[EntitySpec], columns: Sequence[str],
                     rereads: Collection[str] = ()) -> list[str]:
    """The names of the ``sections`` (but those reading again rows another reads whole) whose own query's text is not
    read (:func:`~emr_exporter.connectors.selectlist.unchanged_columns` is None): for them every column of the table
    is carried beside the sections (:func:`selected_columns`)."""
    return [e.name for e in sections if e.query and e.name not in rereads and unchanged_columns(
        str(e.query), e.table, columns, byte_casts=_byte_casts(source)) is None]


def changed_in_queries(source: Source, sections: list[EntitySpec], columns: Sequence[str]) -> set[str]:
    """The result column names (lower case) of the ``sections``' own queries that are a column's name of the table
    (``columns``) but not that column's stored value unchanged (:func:`selected_columns`): ``UPPER(name) AS name``."""
    changed: set[str] = set()
    table = {c.lower() for c in columns}
    for e in sections:
        if e.query:
            names = {name.lower() for name in query_result_columns(source, str(e.query)) or ()}
            unchanged = {name.lower() for name in unchanged_columns(
                str(e.query), e.table, columns, byte_casts=_byte_casts(source)) or ()}
            changed |= (names & table) - unchanged
    return changed


def read_institution(
    spec: ConnectorSpec, source: Source, overrides: Mapping[str, str | None] | None = None
) -> model.Institution:
    """The clinic's own data: the connector's institution query, overridden by explicit values."""
    values: dict[str, Any] = {}
    if spec.institution_query:
        ctx = TransformContext(spec=spec, attachments_root=None)
        from emr_exporter.connectors.spec import FieldSpec

        for row in source.rows(spec.institution_query):
            for name in ("code", "name", "address", "phone", "kind", "founder"):
                raw = row.get(name)
                if raw is not None:
                    try:
                        values[name] = to_text(raw, FieldSpec(name=f"institution.{name}"), ctx)
                    except FieldRepaired as repaired:  # control characters: shown visibly
                        values[name] = repaired.value
                    except RowRejected as exc:
                        raise ExportError(f"The clinic's own record cannot be read: {exc.reason}.") from None
            break
    for name, value in (overrides or {}).items():
        if value:
            values[name] = value
    if not values.get("code") or not values.get("name"):
        raise ConfigError(
            "The clinic's institution code (요양기관기호) and name are needed: give --institution-code and "
            "--institution-name."
        )
    code = values["code"]
    if not (len(code) == 8 and code.isdigit()):
        raise ConfigError("The institution code (요양기관기호) must be 8 digits.")
    return model.Institution(
        code=code,
        name=values["name"],
        address=values.get("address"),
        phone=values.get("phone"),
        kind=values.get("kind"),
        founder=values.get("founder"),
    )


#: The column a section's grouped pages (:meth:`ExportRun._grouped_pages`) page its own rows by where the pages'
#: reader reads the key through an expression (:func:`~emr_exporter.sources.catalog.readable_expression`): that
#: expression of the key, selected beside the section's columns (which the reader lists by name, so never read).
PAGE_KEY_COLUMN = "emr_page_key"


class ExportRun:
    """One export of one connector over one source. Iterate :meth:`stream` exactly once."""

    #: Whether a [skip] or [carry] name that is no table here is logged (connector check lists it itself).
    warn_unknown_tables = True

    def __init__(
        self,
        spec: ConnectorSpec,
        source: Source,
        *,
        institution: model.Institution,
        created: dt.datetime,
        attachments_root: Path | None = None,
        bag_info: Mapping[str, str] | None = None,
        sign_tagmanifest: Callable[[bytes], bytes] | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        segment_bytes: int = 4 * 1024 * 1024,
        observers: list[RecordObserver] | None = None,
        validate_structure: bool = False,
        workers: int = 1,
        id_memory: int | None = None,
        work_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.source = source
        self.institution = institution
        self.created = created.replace(microsecond=0)
        self.attachments_root = attachments_root
        self.progress = progress
        self.cancel = cancel
        self.page_size = page_size
        self._cursors = 0  # server-side cursors declared (keyless tables on PostgreSQL: _ordered_cursor)
        #: per section listing children by a back reference: how its lists were read (ChildLists.how)
        self.children_read: dict[str, ChildLists] = {}
        #: Every table and view (list_tables), once asked for (a table's spelling, its partitions): by name too.
        self._tables: list[CatalogTable] | None = None
        self._catalog: dict[str, CatalogTable] = {}
        #: (section, result column) → the column of the section's table its own query gives back (_query_column)
        self._query_columns: dict[tuple[str, str], CatalogColumn | None] = {}
        self.reconciliation = Reconciliation()
        self.observers = list(observers or [])
        #: Per observer, its pure per-record summary (run where the row is mapped: the parent gets it instead
        #: of the record), or None: the observer sees the record itself.
        self._summarisers: tuple[Summariser, ...] = tuple(getattr(o, "summarise", None) for o in self.observers)
        self.hook = load_hooks(spec)
        #: Worker processes mapping rows (pipeline/parallel.py); 1 = all in this process. Started at the
        #: first entity big enough to gain from them; where they cannot start the export maps here.
        self.workers = workers
        self._pool: WorkerPool | None = None
        self._pool_tried = False
        self._parallel_rows = 0  # rows of the entities big enough for the workers (set by _stream)
        self._quarantined_keys: dict[str, set[str]] = {}
        #: Per patient section with merged charts (환자 통합): what became of them (the connector check shows it).
        self.merged_charts: dict[str, dict[str, Any]] = {}
        #: (section, status as recorded) → records whose status no map or value-set code reads (kept as recorded:
        #: the resource's unknown, or its usual status where it has none); the connector check names them.
        self.unread_statuses: Counter[tuple[str, str]] = Counter()
        #: Per entity, where each mapped column lives in FHIR (data/report/cells.json; pipeline/cells.py).
        self._cell_maps: dict[str, dict[str, Any]] = {}
        self._rereads: dict[str, str] = {}  # section → the section whose rows it reads again (count_all)
        self._again_names: dict[str, list[str] | None] = {}  # such a section → its query's result names
        #: Per table the sections read (its inventory name): the columns their queries give back unchanged for
        #: every row (:func:`selected_columns`; None: a section reads the whole table). The others are carried.
        self.selected: dict[str, set[str] | None] = {}
        self._counted_generation = 0  # the source's snapshot the counts were taken in
        #: (table, storage engine) of the tables no transaction holds still (count_all; MariaDB MyISAM, Aria)
        self.no_snapshot: list[tuple[str, str]] = []
        #: Tables no entity reads and the connector does not skip, with their counts (set by count_all).
        self._carried: list[tuple[CatalogTable, TableReconciliation]] = []
        #: Tables sections read with columns none of their queries selects, and those columns' counts (set by
        #: count_all): carried raw after the sections.
        self._unselected: list[tuple[CatalogTable, ColumnsReconciliation]] = []
        #: The database's large objects (PostgreSQL), carried after the tables; None where it has none.
        self._large_objects: TableReconciliation | None = None
        self._large_objects_account = ""  # the database account reading them, for a refusal's message
        #: The checks `open` runs, on every resource before it enters the bag (pipeline/check.py); the FHIR
        #: structure only when asked (the connector check) and fhir.resources is installed: ~60 µs a resource.
        #: The ids written are held in memory up to ``id_memory`` digests (None: the default), then in keyed
        #: sorted runs in temporary files in ``work_dir`` (the output folder; None: the system's temporary
        #: folder), deleted when the run ends.
        self.output_check = ResourceCheck(
            fhir.structure_validator() if validate_structure else None, id_memory=id_memory, work_dir=work_dir)
        #: Called with every quarantined row (the scan keeps a few keys as examples).
        self.on_quarantine: Callable[[model.QuarantinedRow], None] | None = None
        info = {
            "Source-Organization": institution.name,
            "Organization-Identifier": f"hira-krnpi:{institution.code}",
            "Export-Software": f"emr-exporter {__version__}",
            "Export-Connector": f"{spec.name} {spec.version}",
            "Export-Reason": "closure",
        }
        info.update(bag_info or {})
        self.bag = BagStream(
            bag_info=info, created=self.created, sign_tagmanifest=sign_tagmanifest, segment_bytes=segment_bytes
        )

    def quarantined_keys(self, entity: str) -> list[str]:
        """Source keys of the rows of ``entity`` that were quarantined (for the masked list in the report)."""
        return sorted(self._quarantined_keys.get(entity, ()))

    # --- helpers ---------------------------------------------------------------------------------

    def _emit(self, stage: str, entity: str | None, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(stage, entity, done, total))

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ExportCancelled(EXPORT_CANCELLED_MESSAGE)

    def _expr(self, entity: EntitySpec, name: str, exprs: Mapping[str, str]) -> str:
        engine = "sqlite" if self.source.engine == "sqlite-odbc" else self.source.engine
        sql = exprs.get(engine, exprs.get("default"))
        if sql is None:
            from emr_exporter.errors import ConnectorSpecError

            raise ConnectorSpecError(
                str(self.spec.spec_file), f"entities.{entity.name}.fields.{name}",
                f"'expr' has no expression for {engine} (give one for {engine} or a 'default')",
            )
        return sql

    def _inner_sql(self, entity: EntitySpec) -> str:
        """The section's own query, or the rows of its table: its own rows only where the table has inheritance
        children (PostgreSQL), which are tables of their own (read with every column of theirs)."""
        if entity.query:
            return entity.query
        ref = self._table_ref(entity.table)
        listed = self._listed(entity.table)
        if listed is not None and listed.has_hidden:  # MariaDB INVISIBLE: SELECT * leaves those cells out
            return f"SELECT {', '.join(quoted_column(self.source, c.name) for c in listed.columns)} FROM {ref}"
        return f"SELECT * FROM {ref}" if ref.startswith("ONLY ") or not TABLE_NAME.match(entity.table) \
            else entity.inner_sql

    def source_sql(self, entity: EntitySpec) -> str:
        """The entity's row source: its query plus computed columns (``expr``) and the composite key."""
        extras = [
            f"({self._expr(entity, name, fld.expr)}) AS {fld.source_column}"
            for name, fld in entity.fields.items()
            if fld.expr is not None
        ]
        if entity.composite:
            from emr_exporter.sources.drivers import text_concat

            extras.append(f"{text_concat(self.source.engine, entity.key_columns, COMPOSITE_KEY_SEPARATOR)} "
                          f"AS {entity.key}")
        if not extras:
            return self._inner_sql(entity)
        return f"SELECT s.*, {', '.join(extras)} FROM ({self._inner_sql(entity)}) s"

    def _may_read(self, quoted: str) -> bool:
        """Whether this database account may read the table ``quoted`` (asked only of a skipped table: the
        export reads every other one, and a refusal there stops it with what to do). ``quoted`` as a FROM names
        it: the privilege is asked of the table's name, without the ``ONLY`` of a table others inherit from (was:
        PostgreSQL's "invalid name syntax", and the check and export stopped on a GNUmed-shaped clinic, whose
        empty audit.audit_fields every audited table inherits)."""
        ask = caps_for(self.source.engine).select_privilege_sql
        if ask is not None:
            name = quoted.removeprefix("ONLY ")
            try:
                return bool(self.source.scalar(ask.format(name="'" + name.replace("'", "''") + "'")))
            except SourcePermissionDenied:
                # the name cannot even be looked up: PostgreSQL, a schema this account has no USAGE on
                # ("permission denied for schema"). Before, a table skipped as the refusal's message advises
                # stopped the export all the same, with that same advice.
                return False
        try:
            self.source.scalar(f"SELECT COUNT(*) FROM {quoted} WHERE 1 = 0")
        except SourcePermissionDenied:
            return False
        return True

    def _catalogue(self) -> dict[str, CatalogTable]:
        """Every table and view by name (listed once, when first asked for; count_all lists them anew)."""
        if self._tables is None:
            self._tables = list_tables(self.source)
            self._catalog = {t.name: t for t in self._tables}
        return self._catalog

    def _listed(self, table: str) -> CatalogTable | None:
        """The catalogue's table a connector's (unquoted) ``table`` reads on this engine, if listed."""
        catalog = self._catalogue()
        return catalog.get(folded_identifier(self.source.engine, table)) or catalog.get(table)

    def _table_ref(self, table: str) -> str:
        """How SQL names a connector's ``table`` to read its rows: as written, except where the engine folds the
        unquoted name (PostgreSQL: to lower case) to a table that does not exist while the name as written does
        (created quoted, "PT_MASTER"): then quoted, as the catalogue spells it; after ``ONLY`` where the table
        has inheritance children (PostgreSQL), whose rows are theirs (see sources/catalog.py)."""
        engine = self.source.engine
        if not TABLE_NAME.match(table):
            # a name no unquoted SQL can say ("tabPatient Encounter"): quoted, as the catalogue spells it
            listed = self._catalogue().get(table)
            return caps_for(engine).quote(table) if listed is None else from_name(engine, listed)
        folded = folded_identifier(engine, table)
        if folded == table and caps_for(engine).inheritance_query is None:
            return table
        catalog = self._catalogue()
        listed = catalog.get(folded)
        if listed is not None:
            return f"ONLY {table}" if listed.children else table
        exact = catalog.get(table)
        return table if exact is None else from_name(engine, exact)

    def _table_has_key(self, entity: EntitySpec) -> bool:
        """Whether the unquoted ``key`` of ``entity`` names a column of its table as the engine folds it
        (PostgreSQL: "PatientID" is no column ``patientid``). True where the table is not listed (not known)."""
        listed = self._listed(entity.table)
        if listed is None or entity.query is None:
            return True
        folded = folded_identifier(self.source.engine, entity.key)
        names = {c.name for c in listed.columns}
        return folded in names if self.source.engine in ("postgresql", "firebird") else \
            folded.lower() in {n.lower() for n in names}

    def _compared_columns(self, entity: EntitySpec) -> set[str]:
        """The result columns of a section's query that the export compares as the server's text (its key's
        columns, its references and the parents' keys joined for them): every other one in a multi-byte legacy
        character set (MariaDB ``euckr``) is read as its stored bytes and decoded (:func:`readable_query`), so
        that a user-defined character is not given as '?'."""
        compared = {*entity.key_columns, entity.key}
        for name, fld in entity.fields.items():
            if fld.ref is not None:
                compared |= {c for c in (fld.column, fld.source_column) if c}
                compared.add(f"{REF_COLUMN_PREFIX}{name}")
        return compared

    def _joined_sql(self, entity: EntitySpec) -> str:
        """The entity's rows plus per reference how many parent rows it names (a plain key) or the parent's key
        (by a unique field, a composite key), and per code look-up the code table's value: :meth:`_joined`."""
        return self._joined(entity)[0]

    def _indexed(self, table: str, column: str, child: EntitySpec, child_column: str, *,
                 through_query: bool = True) -> bool:
        """Whether an ``=`` of ``column`` of ``table`` with the child section's ``child_column`` is one index
        look-up, as far as the catalogue proves it: ``column`` leads an index of the table (not a view) and the
        child's column, of its own table or given back unchanged by the section's own query
        (:meth:`_query_column`; not where ``through_query`` is False), has the very same declared type (so the
        engine compares them as the index is sorted: no number against text, no other collation, which the
        engine would compare them in, leaving the index unused)."""
        parent = self._listed(table)
        if parent is None or parent.kind != "table":
            return False
        if child.query is None:
            listed = self._listed(child.table)
            other = self._column_of(listed, child_column) if listed is not None else None
        else:
            other = self._query_column(child, child_column) if through_query else None
        found = self._column_of(parent, column)
        return (found is not None and other is not None and found.indexed and found.collation == other.collation
                and found.read_type.split("(")[0].strip() == other.read_type.split("(")[0].strip())

    def _query_column(self, child: EntitySpec, column: str) -> CatalogColumn | None:
        """The column of the child section's table that its own query's result column ``column`` (as the export's
        SQL names it: ``q.column``) is, where that is proven: the query's text gives it back as a bare reference
        under its own name (:func:`~emr_exporter.connectors.selectlist.unchanged_columns`, no ``CAST … AS
        BINARY``: that is another type) and the section's rows have one result column of that name (not also an
        ``A.*`` of a joined table's, SQLite's 'name:1'). None where not proven (an expression, another table's
        column, a query not understood, a result the source cannot describe): then nothing is known of its type.
        Asked once per section and column."""
        cached = (child.name, column)
        if cached in self._query_columns:
            return self._query_columns[cached]
        found: CatalogColumn | None = None
        listed = self._listed(child.table)
        own = self._column_of(listed, column) if listed is not None else None
        if listed is not None and own is not None and child.query is not None:
            unchanged = unchanged_columns(str(child.query), child.table, [c.name for c in listed.columns])
            if unchanged is not None and own.name in unchanged:
                try:
                    names = query_result_columns(self.source, self.source_sql(child))
                except SourceQueryError:
                    names = None  # the section's query fails: it says so where it is read, as before
                # SQLite names a repeated column 'name:1' in a derived table (the first one keeps its name: which
                # table's that is, the text does not say here): counted as the name again
                again = re.compile(re.escape(column.lower()) + r"(:\d+)?")
                if names is not None and sum(bool(again.fullmatch(n.lower())) for n in names) == 1:
                    found = own
        self._query_columns[cached] = found
        return found

    def _column_of(self, table: CatalogTable, column: str) -> CatalogColumn | None:
        """The catalogue's column of ``table`` a connector's unquoted ``column`` names on this engine."""
        folded = folded_identifier(self.source.engine, column)
        exact = {c.name: c for c in table.columns}
        if folded in exact or self.source.engine in ("postgresql", "firebird"):
            return exact.get(folded)
        return next((c for c in table.columns if c.name.lower() == column.lower()), None)

    def _joined(self, entity: EntitySpec, rows_sql: str | None = None) -> tuple[str, Repeats]:
        """The entity's rows plus, per reference, how many parent rows its value names as the engine compares it
        (a plain key; NULL: none) or the lowest key of the parent rows whose unique field (composite key) holds it
        and how many distinct values do; per code look-up, the code table's lowest value equal to the code. On a
        parent column the catalogue proves indexed (:meth:`_indexed`): correlated sub-queries, one index look-up
        per row; else a join of the parent grouped by the column, which may give a row once per group equal to
        its value (pipeline/references.py): the :class:`Repeats` to make them one row again. ``rows_sql``: the
        section's rows to join (one page of them: :meth:`_grouped_pages`), else all of them."""
        selects = ["q.*"]
        joins = []
        repeats = Repeats(entity.key.lower())
        for number, (name, fld) in enumerate(sorted(entity.fields.items()), 1):
            alias = f"r{number}"
            if fld.lookup is not None and fld.column is not None:
                lk = fld.lookup
                assert fld.source_column is not None
                where = f" WHERE {lk.where}" if lk.where else ""
                if self._indexed(lk.table, lk.key, entity, fld.column):
                    # the lowest value of the code rows equal to the code (one, or a code the table repeats)
                    codes = f"(SELECT {lk.key} AS k, {lk.value} AS v FROM {lk.table}{where})"
                    selects.append(f"(SELECT MIN({alias}.v) FROM {codes} {alias} WHERE {alias}.k = q.{fld.column}) "
                                   f"AS {fld.source_column}")
                else:
                    selects.append(f"{alias}.v AS {fld.source_column}")
                    joins.append(f"LEFT JOIN (SELECT {lk.key} AS k, MIN({lk.value}) AS v FROM {lk.table}{where} "
                                 f"GROUP BY {lk.key}) {alias} ON {alias}.k = q.{fld.column}")
                    repeats = dataclasses.replace(repeats, lookups=(*repeats.lookups, fld.source_column))
                continue
            if fld.type != "ref" or fld.source_column is None or fld.ref is None:
                continue
            parent = self.spec.entities[fld.ref]
            count = f"{REF_COLUMN_PREFIX}{name}"
            if fld.ref_field is None and not parent.composite:
                # A table only its quoted name reaches ("PT_MASTER" on PostgreSQL), or whose key the connector
                # names as only its section's query has it (a "PatientID" read AS patientid: scaffold's
                # _folded_select), is joined through that query, which names its columns as the connector does.
                direct = self._table_ref(parent.table) == parent.table and self._table_has_key(parent)
                joined = parent.table if direct else f"({self.source_sql(parent)})"
                # How many parent rows the value names, as the engine compares it (NULL: none): a value that
                # names two (3 and '03' in a column of no type) gives its row once, the reference then
                # ambiguous-ref, never the export's stop (docs/connectors.md, "References").
                # Counted in the parent's table either way where it is ``direct`` (a parent section's own query
                # is not what is counted: the same rows the grouped join below counts).
                if direct and self._indexed(parent.table, parent.key, entity, fld.source_column):
                    selects.append(f"NULLIF((SELECT COUNT(*) FROM {joined} {alias} WHERE {alias}.{parent.key} = "
                                   f"q.{fld.source_column}), 0) AS {count}")
                else:
                    group = group_column(name)
                    selects += [f"{alias}.n AS {count}", f"{alias}.k AS {group}"]
                    joins.append(f"LEFT JOIN (SELECT {parent.key} AS k, COUNT(*) AS n FROM {joined} {alias}x "
                                 f"GROUP BY {parent.key}) {alias} ON {alias}.k = q.{fld.source_column}")
                    repeats = dataclasses.replace(repeats, refs=(*repeats.refs, (count, group)))
                continue
            # By a unique field of the parent (or a composite key): the lowest key (the one the export keeps when
            # the value repeats) and how many distinct values name it (more than one: ambiguous-ref, as above).
            value = parent.fields[fld.ref_field].source_column if fld.ref_field else parent.key
            assert value is not None
            if parent.query is None and not parent.composite and not any(
                    f.expr is not None for f in parent.fields.values()) and self._indexed(
                    parent.table, value, entity, fld.source_column):
                matching = f"FROM ({self.source_sql(parent)}) {alias} WHERE {alias}.{value} = q.{fld.source_column}"
                selects += [f"(SELECT MIN({alias}.{parent.key}) {matching}) AS {count}",
                            f"(SELECT COUNT(DISTINCT {alias}.{value}) {matching}) AS {ref_count_column(name)}"]
            else:
                selects += [f"{alias}.k AS {count}", f"{alias}.n AS {ref_count_column(name)}"]
                joins.append(f"LEFT JOIN (SELECT p.{value} AS v, MIN(p.{parent.key}) AS k, 1 AS n "
                             f"FROM ({self.source_sql(parent)}) p WHERE p.{value} IS NOT NULL GROUP BY p.{value}) "
                             f"{alias} ON {alias}.v = q.{fld.source_column}")
                repeats = dataclasses.replace(repeats, refs=(*repeats.refs, (ref_count_column(name), count)))
        for number, again in self._read_again(entity):
            # per row, whether that section reads it again (one index look-up on the key, as its own rows)
            alias = f"a{number}"
            selects.append(f"CASE WHEN EXISTS (SELECT 1 FROM ({self.source_sql(again)}) {alias} WHERE "
                           f"{alias}.{again.key} = q.{entity.key}) THEN 1 ELSE 0 END AS {READ_AGAIN_PREFIX}{number}")
        if len(selects) == 1:
            return self.source_sql(entity), repeats
        rows = rows_sql if rows_sql is not None else self.source_sql(entity)
        return f"SELECT {', '.join(selects)} FROM ({rows}) q {' '.join(joins)}".rstrip(), repeats

    @property
    def rereads(self) -> Mapping[str, str]:
        """Section → the section whose rows it reads again (known once counted: count_all)."""
        return self._rereads

    def _read_again(self, entity: EntitySpec) -> list[tuple[int, EntitySpec]]:
        """The sections that read again some rows of the table ``entity`` reads whole (``rereads``, known once
        counted) and leave it columns it would carry (:func:`read_again_columns`), with their numbers in the
        connector's order: per row, the export asks whether each reads it (:data:`READ_AGAIN_PREFIX`)."""
        listed = self._listed(entity.table) if any(v == entity.name for v in self._rereads.values()) else None
        if listed is None:
            return []
        columns = [c.name for c in listed.columns]
        return [(number, again) for number, (name, again) in enumerate(self.spec.entities.items())
                if self._rereads.get(name) == entity.name and self._again_columns(entity, again, columns)]

    def _again_columns(self, full: EntitySpec, again: EntitySpec, columns: Sequence[str]) -> tuple[str, ...]:
        """:func:`read_again_columns`, where ``again``'s result holds each of them under its name once; else none
        (the rows ``full`` reads keep every column they would carry). A name twice in a result (``SELECT * FROM visit
        v LEFT JOIN dept d``: ``memo`` of both) is one key of the row, the last column's (the joined table's, on
        PostgreSQL): the cell of ``full``'s table would be in no row ``again`` reads (was: in neither section's)."""
        found = read_again_columns(full, again, columns)
        if not found:
            return ()
        if again.name not in self._again_names:  # (asked once a section: _joined runs per page)
            self._again_names[again.name] = query_result_columns(self.source, str(again.query))
        names = self._again_names[again.name]
        once = {n for n, k in Counter(name.lower() for name in names or ()).items() if k == 1}
        return found if names is not None and set(found) <= once else ()

    def _grouped_pages(self, entity: EntitySpec, joined_sql: str, readable: str) -> PageSql:
        """The page queries of a section with grouped joins (:meth:`_joined`): a keyset page of its own rows first,
        then joined (so no engine joins and sorts every row after the page's first key, as PostgreSQL's hash join
        did), in the key's order, a key's repeated rows in the page with it. ``readable``: ``joined_sql`` as
        :func:`readable_query` wrapped it."""
        assert joined_sql in readable
        own_sql = self.source_sql(entity)
        # The pages' reader takes the last key read as ``readable`` gives it and orders the page so: where that
        # reads the key otherwise than the section's query (PostgreSQL SQL_ASCII: its stored bytes; a date: the
        # server's text), the keyset pages on that very expression, or a later page compared the raw key with
        # the read one (char(8) '19360406' > bytea '\x3139…' as text: no row after the first page).
        expr = readable_expression(self.source, own_sql, entity.key) if readable != joined_sql else None
        keyed = f"SELECT * FROM ({own_sql}) keyed WHERE keyed.{entity.key} IS NOT NULL"
        page_key = entity.key
        if expr is not None:
            keyed = f"SELECT keyed.*, {expr} AS {PAGE_KEY_COLUMN} FROM ({own_sql}) keyed " \
                    f"WHERE keyed.{entity.key} IS NOT NULL"
            page_key = PAGE_KEY_COLUMN

        def page_sql(rows: int, first: bool, after: Any) -> str:
            own = self.source.keyset_sql(keyed, page_key, rows, first=first, after=after)
            page = readable.replace(joined_sql, self._joined(entity, own)[0], 1)
            return f"SELECT * FROM ({page}) paged ORDER BY paged.{entity.key}"

        return page_sql

    def _back_listed(self, entity: EntitySpec) -> list[tuple[str, EntitySpec, str]]:
        """The fields of ``entity`` listing its children by a back reference (a lab report's results, from
        each result's ``report_id``: model.BACK_REFERENCES): (computed column, child section, its column)."""
        listed = []
        for fld in entity.fields.values():
            if fld.column is None or not fld.column.startswith(BACK_COLUMN_PREFIX) or fld.ref is None:
                continue
            child = self.spec.entities[fld.ref]
            column = next(f.source_column for n, f in child.fields.items() if f.type == "ref"
                          and f.ref == entity.name and model.BACK_REFERENCES.get((child.canonical, n)))
            assert column is not None
            listed.append((fld.column.lower(), child, column))
        return listed

    def _children_of_page(self, entity: EntitySpec, first: Any, last: Any) -> list[dict[str, tuple[str, ...]]]:
        """Per back-listed field (:meth:`_back_listed`): parent key (its text) → the keys of the child rows
        naming it, for the parents whose keys run from ``first`` to ``last`` (one page of the keyset), in the
        order of the child's key. One query per page: the memory it takes is the page's children's keys."""
        found: list[dict[str, tuple[str, ...]]] = []
        for _column, child, column in self._back_listed(entity):
            # a child whose value names two parents (see _joined_sql) is listed by neither where the parent's
            # key is proven indexed (one look-up per child): its own reference is an ambiguous-ref defect. Else
            # not counted (a search of the parents per child), as the ordered pass (children.py) lists it.
            once = (f"AND (SELECT COUNT(*) FROM ({self.source_sql(entity)}) o WHERE o.{entity.key} = c.{column}) = 1 "
                    if entity.query is None and self._indexed(entity.table, entity.key, child, column,
                                                              through_query=False) else "")
            sql = (f"SELECT p.{entity.key} AS back_parent, c.{child.key} AS back_child "
                   f"FROM ({self.source_sql(child)}) c JOIN ({self.source_sql(entity)}) p "
                   f"ON p.{entity.key} = c.{column} "
                   f"WHERE p.{entity.key} >= ? AND p.{entity.key} <= ? AND c.{child.key} IS NOT NULL {once}"
                   f"ORDER BY p.{entity.key}, c.{child.key}")
            children: dict[str, list[str]] = {}
            for row in self.source.rows(sql, (first, last)):
                key = row["back_child"]
                children.setdefault(key_text(row["back_parent"]), []).append(
                    child_key_text(key))  # as its provenance key (mapper)
            found.append({k: tuple(v) for k, v in children.items()})
        return found

    def _child_lists(self, entity: EntitySpec) -> ChildLists:
        """The lists of ``entity``'s back-listed fields for each of its pages: one ordered pass per field beside
        the pages where the source allows (pipeline/children.py), else :meth:`_children_of_page`."""

        def cursor_name() -> str:
            self._cursors += 1
            return f"emr_children_{self._cursors}"

        sqls = [children_pass_sql(self.source_sql(entity), entity.key, self.source_sql(child), child.key, column)
                for _column, child, column in self._back_listed(entity)]
        lists = ChildLists(self.source, entity.name, sqls,
                           functools.partial(self._children_of_page, entity), cursor_name)
        self.children_read[entity.name] = lists
        return lists

    def _with_children(self, entity: EntitySpec, pages: Iterator[list[dict[str, Any]]]
                       ) -> Iterator[list[dict[str, Any]]]:
        """``pages`` with each back-listed field's computed column: the keys of the row's children."""
        listed = self._back_listed(entity)
        if not listed:
            yield from pages
            return
        key = entity.key.lower()
        lists = self._child_lists(entity)
        try:
            for page in pages:
                if page:
                    found = lists.children([row[key] for row in page])
                    for row in page:
                        parent = key_text(row[key])
                        for (column, _child, _c), children in zip(listed, found, strict=True):
                            row[column] = children.get(parent)
                yield page
        finally:
            lists.close()

    def _with_children_values(self, entity: EntitySpec, pages: Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]
                              ) -> Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        """:meth:`_with_children` for pages of value tuples (the worker processes' form)."""
        listed = self._back_listed(entity)
        if not listed:
            yield from pages
            return
        lists = self._child_lists(entity)
        try:
            for names, page in pages:
                if page:
                    at = names.index(entity.key.lower())
                    found = lists.children([values[at] for values in page])
                    page = [(*values, *(children.get(key_text(values[at])) for children in found))
                            for values in page]
                    names = (*names, *(column for column, _child, _c in listed))
                yield names, page
        finally:
            lists.close()

    def _duplicate_values(self, entity: EntitySpec) -> dict[str, set[Any]]:
        duplicates: dict[str, set[Any]] = {}
        for name in entity.unique:
            column = entity.fields[name].source_column
            sql = (
                f"SELECT q.{column} FROM ({self.source_sql(entity)}) q WHERE q.{column} IS NOT NULL "
                f"GROUP BY q.{column} HAVING COUNT(*) > 1"
            )
            # as the entity's rows are read (a date as its exact value), so that a row's value is found here
            sql, converters = readable_query(self.source, sql, self._compared_columns(entity))
            duplicates[name] = {next(iter(convert_row(row, converters).values())) for row in self.source.rows(sql)}
        return duplicates

    def _merge_values(self, entity: EntitySpec) -> tuple[dict[str, str], dict[str, str]] | None:
        """A patient section's merged charts (환자 통합): key -> ``merged_into`` text of every patient that has one, and
        merged_into text -> the key of the patient it names (by chart number first, else by key). None without
        a ``merged_into`` field. Reads two columns of the patient rows; holds only the merged ones."""
        field = entity.fields.get("merged_into")
        if entity.canonical != "patient" or field is None or field.source_column is None:
            return None
        joined = self._joined_sql(entity)
        key, column = entity.key, field.source_column
        sql, converters = readable_query(
            self.source, f"SELECT q.{key} AS k, q.{column} AS m FROM ({joined}) q "
            f"WHERE q.{column} IS NOT NULL AND q.{key} IS NOT NULL", {"k", "m"})
        merged: dict[str, str] = {}
        for row in self.source.rows(sql):
            row = convert_row(row, converters)
            text = key_text(row["m"])  # as a reference's value is compared with its parent's key
            if text:
                merged[key_text(row["k"])] = text
        if not merged:
            return merged, {}
        wanted = set(merged.values())
        # a value written in another form of the charts' (141 for '0000141', 'c0031' for 'C0031'), as a visit's
        # reference may write the patient's key (the scaffold's key_form): the texts it may be rewritten into
        numbers = {int(v) for v in wanted if v.isascii() and v.isdigit()}
        cased = {v.upper() for v in wanted} | {v.lower() for v in wanted}

        def may_be_named(text: str) -> bool:
            return text in cased or (text.isascii() and text.isdigit() and int(text) in numbers)

        chart = entity.fields.get("chart_number")
        chart_column = chart.source_column if chart is not None else None
        chart_select = f", q.{chart_column} AS c" if chart_column else ""
        sql, converters = readable_query(
            self.source, f"SELECT q.{key} AS k{chart_select} FROM ({joined}) q WHERE q.{key} IS NOT NULL "
            f"ORDER BY q.{key}", {"k", "c"})
        by_chart: dict[str, str] = {}
        by_key: dict[str, str] = {}
        other_chart: dict[str, str] = {}  # chart texts a value in another form may name -> key
        other_key: dict[str, str] = {}
        chart_form, key_form = KeyForm(), KeyForm()
        for row in self.source.rows(sql):
            row = convert_row(row, converters)
            own = key_text(row["k"])
            key_form.add(row["k"])
            if own in wanted:
                by_key.setdefault(own, own)
            if may_be_named(own):
                other_key.setdefault(own, own)
            if chart_column:
                chart_form.add(row.get("c"))
            if chart_column and row.get("c") is not None:
                text = key_text(row["c"])
                if text in wanted:
                    by_chart.setdefault(text, own)
                if may_be_named(text):
                    other_chart.setdefault(text, own)
        targets: dict[str, str] = {}
        for value in wanted:
            target = by_chart.get(value, by_key.get(value))
            for form, found in ((chart_form.form, other_chart), (key_form.form, other_key)):
                rewritten = in_key_form(value, form) if target is None and form is not None else None
                if rewritten is not None:
                    target = found.get(rewritten)
            if target is not None:
                targets[value] = target
        return merged, targets

    @contextlib.contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        """A query that fails while a section's rows are read names the section (a lost connection, which the
        export resumes from, and a table the account may not read, which says so, are left as they are)."""
        try:
            yield
        except SourceQueryError as exc:
            if type(exc) is not SourceQueryError:
                raise
            said = str(exc)
            hint = ""
            if "a stored value could not be read" in said:
                hint = (": a value in its rows does not fit what the query makes of it (a cast such as ::numeric "
                        "or ::date on text that is no number or date?). Cast only the values that fit (CASE WHEN "
                        "… ~ '^[0-9.]+$' THEN …::numeric END), or read the text into the field and let its type "
                        "quarantine the rows that do not fit")
            raise SourceQueryError(f"{said.rstrip('.')}, reading [entities.{name}] of {self.spec.spec_file}{hint}."
                                   ) from None

    def _count(self, entity: EntitySpec) -> tuple[int, int]:
        """(rows the entity's query yields, rows among them whose key is NULL)."""
        stats = next(
            self.source.rows(
                f"SELECT COUNT(*) AS n, COUNT(DISTINCT q.{entity.key}) AS n_keys, "
                f"SUM(CASE WHEN q.{entity.key} IS NULL THEN 1 ELSE 0 END) AS n_null FROM ({self.source_sql(entity)}) q"
            )
        )
        query_rows, keys, nulls = int(stats["n"]), int(stats["n_keys"]), int(stats["n_null"] or 0)
        if keys != query_rows - nulls:
            if entity.query:
                table_rows = int(self.source.scalar(f"SELECT COUNT(*) FROM {self._table_ref(entity.table)}") or 0)
                if query_rows > table_rows:
                    raise ExportError(
                        f"The query of [entities.{entity.name}] gives {query_rows} rows but table {entity.table} "
                        f"holds {table_rows}: a JOIN (or unnest) gives some of its rows more than once "
                        f"({query_rows - nulls - keys} repeated keys). {ONE_ROW_EACH} {self.spec.spec_file}.")
            key_name = ("columns " + " + ".join(entity.key_columns)) if entity.composite else f"column {entity.key}"
            raise ExportError(
                f"The key {key_name} of table {entity.table} is not unique "
                f"({query_rows - nulls - keys} repeated keys). Declare a unique key for '{entity.name}' "
                f"in {self.spec.spec_file}."
            )
        return query_rows, nulls

    def count_all(self) -> dict[str, tuple[int, int]]:
        """Count every entity before anything is exported, and prove no source row is left behind.

        Several sections may read one table. Either one of them reads every row (the others read some or
        all of the rows again, e.g. the chief complaint of the visit table as a chart note), or their
        filters split the table (problems, allergies and medications of one list table) and their counts
        add up to the table's. Otherwise the export stops here.
        """
        counts: dict[str, tuple[int, int]] = {}
        per_table: dict[str, list[tuple[str, int]]] = {}
        self._rereads = {}
        self._counted_generation = snapshot_generation(self.source)
        self._tables = None  # listed anew, in this snapshot; the inventory below takes the same list
        self._query_columns = {}
        # tables no transaction holds still (MariaDB MyISAM, Aria): the snapshot promises nothing for them
        self.no_snapshot = no_snapshot_tables(self.source)
        if self.no_snapshot:
            log.warning(no_snapshot_warning(self.no_snapshot))
        for name, entity in self.spec.entities.items():
            listed = self._listed(entity.table) if caps_for(self.source.engine).inheritance_query else None
            if listed is not None and listed.kind == "partition":
                raise ConfigError(
                    f"{self.spec.spec_file}: [entities.{name}] table {entity.table} is a partition of "
                    f"{listed.part_of}: its rows are read with {listed.part_of}. Name {listed.part_of} as the "
                    "section's table (a query's WHERE can choose its rows).")
        for name, entity in self.spec.entities.items():  # already in dependency order
            self._check_cancel()
            self._emit("count", name, 0, 0)
            with self._reading(name):
                counts[name] = self._count(entity)
            per_table.setdefault(entity.table.lower(), []).append((name, counts[name][0]))
        for _, sections in sorted(per_table.items()):
            table = self.spec.entities[sections[0][0]].table
            table_rows = int(self.source.scalar(f"SELECT COUNT(*) FROM {self._table_ref(table)}") or 0)
            read = [n for _, n in sections]
            if sum(read) == table_rows:
                continue
            if table_rows in read:
                # the section reading the table whole, where two read every row (a check-up row's vital signs and
                # its 판정, set on every row, read again by a section of its own): the one with no query of its own
                # first (was: the first in order, the one reading again, and the other columns were lost to it)
                whole = [name for name, n in sections if n == table_rows]
                full = next((name for name in whole if self.spec.entities[name].query is None), whole[0])
                self._rereads.update({name: full for name, _ in sections if name != full})
                continue
            detail = ", ".join(f"[entities.{name}] {n}" for name, n in sections)
            listed = self._listed(table) if caps_for(self.source.engine).inheritance_query else None
            if listed is not None and listed.children and sum(read) > table_rows:
                one = len(listed.children) == 1
                raise ReconciliationError(
                    f"Table {table} holds {table_rows} rows of its own but the connector's queries read "
                    f"{sum(read)} ({detail}): {', '.join(listed.children)} {'inherits' if one else 'inherit'} "
                    f"from it, and a plain FROM {table} reads {'its' if one else 'their'} rows too, which the "
                    f"export reads with {'that table' if one else 'those tables'}. Write FROM ONLY {table} in the "
                    f"queries in {self.spec.spec_file}.")
            over = [(name, n) for name, n in sections if n > table_rows]
            if over:
                name, n = over[0]
                raise ReconciliationError(
                    f"Table {table} holds {table_rows} rows but the query of [entities.{name}] gives {n}: a JOIN (or "
                    f"unnest) gives some of its rows more than once. {ONE_ROW_EACH} {self.spec.spec_file}.")
            raise ReconciliationError(
                f"Table {table} holds {table_rows} rows but the connector's queries read {sum(read)} ({detail}); "
                f"rows would be left behind. Fix the queries in {self.spec.spec_file}: use LEFT JOIN; where "
                "sections share a table, let one read every row or make their filters split it exactly."
            )
        self._take_inventory()
        return counts

    # --- the inventory: every table and view, and the tables no entity reads -----------------------

    def _take_inventory(self) -> None:
        """List every table and view from the catalogue with its fate; count what will be carried.

        Runs inside the export's snapshot, right after the entity counts, so the carried tables are
        counted in the same snapshot they are read in.
        """
        read_by: dict[str, list[str]] = {}
        read_exactly: dict[str, list[str]] = {}  # by the name the engine reads for the section's unquoted one
        for name, entity in self.spec.entities.items():
            read_by.setdefault(entity.table.lower(), []).append(name)
            read_exactly.setdefault(folded_identifier(self.source.engine, entity.table), []).append(name)
        joined = tables_in_sql(self.spec)
        self._catalogue()
        tables = self._tables or []
        skip = {name.lower(): reason for name, reason in self.spec.skip.items()}
        carry = {name.lower(): reason for name, reason in self.spec.carry.items()}  # carried on purpose: why
        refused, unknown = named_table_problems(self.spec, tables)
        if refused:
            raise ConfigError(f"{self.spec.spec_file}: {refused[0][2]}.")
        for problem in unknown if self.warn_unknown_tables else ():  # nothing lost here, but a misspelling?
            log.warning("%s: %s.", self.spec.spec_file, problem)
        for name in sorted(set(skip) & set(read_by)):
            raise ConfigError(
                f"{self.spec.spec_file}: [skip] names table {name}, which entities "
                f"{', '.join(read_by[name])} read. Remove it from [skip]."
            )
        inventory = self.reconciliation.inventory
        inventory.clear()
        self._carried = []
        self._unselected = []
        self.selected = {}
        taken: set[str] = set()
        taken_unselected: set[str] = set()
        # Tables whose names differ only by case (PostgreSQL "PT_MASTER" beside pt_master; MariaDB on a
        # case-sensitive file system) are told apart: in the inventory the lower-case one (else the first) is
        # named in lower case and the others keep their spelling (row_keys); a section reads the one its
        # unquoted name folds to on this engine, a [skip] name skips the one spelled exactly so, and the
        # others are carried. Any other table is matched case-insensitively, as before.
        names = row_keys([t.name for t in tables])
        spellings = Counter(name.lower() for name in {t.name for t in tables})
        clashing = {t.name for t in tables if spellings[t.name.lower()] > 1}
        # PostgreSQL's partitions and inheritance children, as the inventory names them
        listed = dict(zip((t.name for t in tables), names, strict=True))
        fates: dict[str, dict[str, Any]] = {}  # a partitioned table's entry, by its catalogue name
        partitions: list[tuple[dict[str, Any], str]] = []  # a partition's entry, its partitioned table's name
        for table, lower in zip(tables, names, strict=True):
            self._check_cancel()
            if table.name in clashing:
                sections, reason, also = read_exactly.get(table.name), self.spec.skip.get(table.name), None
                carried_why = self.spec.carry.get(table.name)
            else:
                low = table.name.lower()
                sections, reason, also = read_by.get(low), skip.get(low), joined.get(low)
                carried_why = carry.get(low)
            # Names as every source yields row keys (lower case) and portable types: the same clinic on
            # SQLite, MariaDB or PostgreSQL gives the same inventory, byte for byte.
            entry: dict[str, Any] = {
                "name": lower, "kind": table.kind,
                "columns": [{"name": name, "type": type_family(c.type)}
                            for name, c in zip(row_keys([c.name for c in table.columns]), table.columns, strict=True)],
            }
            for column, c in zip(entry["columns"], table.columns, strict=True):
                if c.large_object:  # the number of a large object, carried apart (_take_large_objects)
                    column["large_object"] = True
            if table.kind == "partition":
                entry["part_of"] = listed[table.part_of]
                entry["rows"] = None  # counted with the partitioned table: never twice
                partitions.append((entry, table.part_of))  # its fate follows the partitioned table's, below
                inventory.append(entry)
                continue
            if table.partitions:
                entry["partitions"] = [listed[n] for n in table.partitions]
                fates[table.name] = entry
            if table.inherits:
                entry["inherits"] = [listed[n] for n in table.inherits]
            if table.children:
                entry["children"] = [listed[n] for n in table.children]
            if sections:
                entry.update(fate="entities", entities=sorted(sections))
            elif reason is not None:
                entry.update(fate="skipped", reason=reason)
            elif table.kind == "view":
                entry.update(fate="skipped", reason=VIEW_REASON)
            elif table.kind == "virtual":
                entry.update(fate="skipped", reason=VIRTUAL_REASON.format(module=table.module))
            else:
                entry["fate"] = "carried"
                if carried_why is not None:  # [carry]: the connector says why it carries this table as it is
                    entry["reason"] = carried_why
                if also:  # a join or look-up reads some of it: carried all the same, and said so
                    entry["also_read_by"] = also
                # a column carried as the bytes the server stores, not as its reading of them (carried_select)
                for column, c in zip(entry["columns"], table.columns, strict=True):
                    if c.byte_charset and caps_for(self.source.engine).stored_bytes_expr is not None:
                        column["stored_bytes"] = c.byte_charset
                    elif c.decoded_charset and caps_for(self.source.engine).stored_bytes_expr is not None:
                        column["decoded_from"] = c.decoded_charset  # text, or the bytes where it has none
            if table.row_security:
                if entry["fate"] in ("entities", "carried"):
                    raise SourcePermissionDenied(ROW_SECURITY_MESSAGE.format(table=lower))
                entry["row_security"] = True  # skipped: its rows, if counted, are those this account sees
            if table.kind == "table":
                quoted = from_name(self.source.engine, table)  # its own rows: its children's are theirs
                key = table.key
                rows: int | None
                if key is not None and entry["fate"] == "carried":
                    stats = next(self.source.rows(
                        f"SELECT COUNT(*) AS n, COUNT({quoted_column(self.source, key)}) AS k FROM {quoted}"))
                    rows, non_null = int(stats["n"]), int(stats["k"])
                    if non_null != rows:
                        key = None  # a NULL in the key: no keyset paging over it
                elif entry["fate"] == "skipped" and not self._may_read(quoted):
                    rows = None  # [skip] as the refusal's message advises: listed, not counted
                else:
                    rows = int(self.source.scalar(f"SELECT COUNT(*) FROM {quoted}") or 0)
                entry["rows"] = rows
                entry["empty"] = rows == 0
                if rows is None:
                    entry["unreadable"] = True
                    inventory.append(entry)
                    continue
                if entry["fate"] == "entities":
                    mapped = [self.spec.entities[n] for n in sections or () if self.spec.entities[n].carry is None]
                    if mapped:  # (a carried section's rows are carried whole: no column of theirs left behind)
                        self._take_unselected(table, entry, mapped, rows, taken_unselected)
                    again = [{"section": e.name, "by": self._rereads[e.name], "columns": list(columns),
                              "reason": READ_AGAIN_REASON} for e in mapped if e.name in self._rereads
                             for columns in [self._again_columns(self.spec.entities[self._rereads[e.name]], e,
                                                                 [c.name for c in table.columns])] if columns]
                    if again:
                        entry["read_again"] = again
                    carried_here = [self.spec.entities[n] for n in sorted(sections or ())
                                    if self.spec.entities[n].carry is not None]
                    if carried_here:
                        entry["carried_sections"] = [
                            {"section": e.name, "reason": e.carry,
                             "files": f"data/{CARRIED_SECTIONS}/{e.name}.*.ndjson"} for e in carried_here]
                if entry["fate"] == "carried":
                    read = f"keyset on {key.lower()}" if key else "one ordered pass (no usable single-column key)"
                    if table.partitions:
                        read += f", with its {len(table.partitions)} partitions"
                    if table.children:
                        one = len(table.children) == 1
                        read += (f"; its own rows only ({', '.join(entry['children'])} inherit{'s' if one else ''} "
                                 f"from it and {'is' if one else 'are'} read on {'its' if one else 'their'} own)")
                    counts = TableReconciliation(
                        table=lower, source_rows=rows, columns=len(table.columns), read=read,
                        member=raw_table_member(lower, taken),
                    )
                    entry.update(read=read, files=f"data/{counts.member}.*.ndjson")
                    self._carried.append((table if key == table.key else _without_key(table), counts))
            else:
                entry["rows"] = None  # a view is not counted: counting it runs its whole query
            inventory.append(entry)
        self._take_large_objects(tables, inventory, taken)
        for entry, part_of in partitions:
            top = fates[part_of]
            if top["fate"] == "skipped":
                entry.update(fate="skipped", reason=SKIPPED_PARTITION_REASON.format(
                    table=top["name"], reason=top["reason"]))
            else:
                entry.update(fate="read_with", reason=PARTITION_REASON.format(table=top["name"]))

    def _take_unselected(self, table: CatalogTable, entry: dict[str, Any], sections: list[EntitySpec], rows: int,
                         taken: set[str]) -> None:
        """The columns of a table its ``sections`` read that none of their queries gives back unchanged under its
        own name (:func:`selected_columns`), to be carried raw beside them (:meth:`_stream_unselected`):
        named in its inventory ``entry`` (``unselected_columns``) with why and how they are read. By the
        table's primary key (one column or several) where it has one with no NULL in it, each line naming its
        row by the key's values; else as whole rows, in the keyless carried tables' ordered pass."""
        given = selected_columns(self.source, sections, [c.name for c in table.columns], self._rereads)
        self.selected[entry["name"]] = given
        if given is None:
            return  # a section reads the whole table
        keys = dict(zip((c.name for c in table.columns), row_keys([c.name for c in table.columns]), strict=True))
        unselected = [c for c in table.columns if c.name.lower() not in given]
        if not unselected:
            return
        named = changed_in_queries(self.source, sections, [c.name for c in table.columns])
        changed = tuple(keys[c.name] for c in unselected if c.name.lower() in named)
        key_columns = [c for c in table.columns if c.primary_key]
        if key_columns and rows:
            stats = next(self.source.rows("SELECT " + ", ".join(
                f"COUNT({quoted_column(self.source, c.name)}) AS k{i}" for i, c in enumerate(key_columns))
                + f" FROM {from_name(self.source.engine, table)}"))
            if any(int(stats[f"k{i}"]) != rows for i in range(len(key_columns))):
                key_columns = []  # a NULL in the key: it cannot name that row
        key = tuple(keys[c.name] for c in key_columns)
        read = f"keyset on {', '.join(key)}" if key else UNSELECTED_WHOLE_ROWS
        counts = ColumnsReconciliation(
            table=entry["name"], source_rows=rows, columns=len(unselected), read=read,
            member=raw_table_member(entry["name"], taken, "raw/unselected"),
            names=tuple(keys[c.name] for c in unselected), key=key, changed=changed)
        entry["unselected_columns"] = {
            "columns": list(counts.names), "reason": UNSELECTED_REASON, "key": list(key), "read": read,
            "files": f"data/{counts.member}.*.ndjson",
        }
        if changed:  # named by a query's result column that is not their stored value: carried all the same
            entry["unselected_columns"].update(changed=list(changed), changed_reason=CHANGED_REASON)
        unread = queries_not_read(self.source, sections, [c.name for c in table.columns], self._rereads)
        if unread:  # said plainly: their cells are carried here although they read them
            entry["unselected_columns"].update(queries_not_read=unread, queries_not_read_reason=QUERY_NOT_READ_REASON)
        self._unselected.append((table if key else _without_key(table), counts))

    def _take_large_objects(self, tables: list[CatalogTable], inventory: list[dict[str, Any]],
                            taken: set[str]) -> None:
        """The database's large objects as one more inventory entry (PostgreSQL: their bytes are in
        ``pg_largeobject``, no table's): counted here, in the export's snapshot, and carried after the tables as
        rows ``{oid, data}`` (:meth:`_stream_large_objects`). The columns that hold their numbers are named in
        it (``referenced_by``), with how many no column of a counted table refers to (``unreferenced``). None
        when the database has no large object and no column for one: the inventory is then the same as on
        any other engine. Stops, saying what to grant, when the account may not read one of them."""
        caps = caps_for(self.source.engine)
        self._large_objects = None
        if caps.large_objects_count_sql is None:
            return
        count = int(self.source.scalar(caps.large_objects_count_sql) or 0)
        counted = {e["name"] for e in inventory if e.get("rows") is not None}
        names = dict(zip((t.name for t in tables), row_keys([t.name for t in tables]), strict=True))
        references = [(t, c) for t in tables if t.kind == "table" for c in t.columns if c.large_object]
        if not count and not references:
            return
        if count and caps.large_objects_unreadable_sql is not None:
            unreadable = int(self.source.scalar(caps.large_objects_unreadable_sql) or 0)
            account = str(self.source.scalar("SELECT CAST(current_user AS text)"))
            if unreadable:
                raise SourcePermissionDenied(large_objects_refused(
                    account, f"{unreadable} of the clinic database's {count} large objects"))
            self._large_objects_account = account
        column_names = {t.name: dict(zip((c.name for c in t.columns), row_keys([c.name for c in t.columns]),
                                         strict=True)) for t, _ in references}
        entry: dict[str, Any] = {
            "name": LARGE_OBJECTS, "kind": "large-objects",
            "columns": [{"name": "oid", "type": "integer"}, {"name": "data", "type": "binary"}],
            "fate": "carried", "rows": count, "empty": count == 0,
            "referenced_by": [f"{names[t.name]}.{column_names[t.name][c.name]}" for t, c in references],
        }
        readable = [(t, c) for t, c in references if names[t.name] in counted]
        if len(readable) == len(references):
            unreferenced = " AND ".join(
                f"NOT EXISTS (SELECT 1 FROM {from_name(self.source.engine, t)} AS r WHERE "
                f"{caps.large_object_ref_expr.format(col='r.' + caps.quote(c.name))} = m.oid)"
                for t, c in readable) or "1 = 1"
            entry["unreferenced"] = int(self.source.scalar(
                f"SELECT COUNT(*) FROM pg_catalog.pg_largeobject_metadata AS m WHERE {unreferenced}") or 0)
        read = "keyset on oid"
        counts = TableReconciliation(table=LARGE_OBJECTS, source_rows=count, columns=2, read=read,
                                     member=raw_table_member(LARGE_OBJECTS, taken))
        entry.update(read=read, files=f"data/{counts.member}.*.ndjson")
        inventory.append(entry)
        self._large_objects = counts

    def _stream_large_objects(self, counts: TableReconciliation) -> Iterator[bytes]:
        """Carry the database's large objects: one row ``{oid, data}`` each, in oid order, in keyset pages sized
        by their bytes (the first of one object: a scan may be 50 MB), in the export's snapshot. The bytes
        always as ``{"base64": ...}`` (a file, not text)."""
        self._check_cancel()
        self.reconciliation.tables.append(counts)
        self._emit("carry", LARGE_OBJECTS, 0, counts.source_rows)
        source = self.source
        caps = caps_for(source.engine)
        sizer = PageSizer(BLOB_PAGE_SIZE)  # one object first: nothing known of their size yet
        last: Any = None
        done = 0
        while counts.source_rows:
            rows = sizer.rows
            sql = large_objects_page_sql(caps, rows, first=last is None)
            read_before = getattr(source, "value_bytes_read", None)
            try:
                page = _read_page(source, sql, () if last is None else (last,))
            except SourcePermissionDenied:  # refused although the inventory found them readable
                raise SourcePermissionDenied(large_objects_refused(
                    self._large_objects_account, f"a large object of the clinic database's {counts.source_rows}")
                ) from None
            size = _page_bytes(source, page, read_before)
            for i in range(len(page)):
                oid, first = page[i]["oid"], page[i]["data"]
                page[i] = {"oid": oid}  # the bytes let go of as soon as they are in the line
                line = self._large_object_line(oid, first)
                del first
                if not self.bag.append_line(counts.member, line):
                    yield from self.bag.add_line(counts.member, line)
                del line
            done += len(page)
            counts.carried = done
            self._emit("carry", LARGE_OBJECTS, done, counts.source_rows)
            self._check_cancel()
            if len(page) < rows:
                break
            sizer.measured(len(page), size)
            last = page[-1]["oid"]
            del page
        yield from self.bag.flush(counts.member)
        if not counts.balanced:
            raise ReconciliationError(
                f"The database's large objects: {counts.source_rows} counted but {counts.carried} carried. The "
                "export was stopped so that nothing is lost; was the clinic database changed during the export?")

    def _large_object_line(self, oid: int, first: bytes) -> bytes:
        """The carried line of one large object, ``{"row":{"data":{"base64":…},"oid":…}}`` as
        :func:`~emr_exporter.pipeline.bag.canonical_json_line` writes it, from its ``first`` piece and the rest read
        a piece at a time: the object is in memory once, as the line's base64 (not as bytes, base64, a JSON
        string and a line, nor as one driver value: see :data:`LARGE_OBJECT_PIECE`)."""
        sql = large_object_piece_sql(caps_for(self.source.engine))
        out = io.BytesIO()
        out.write(b'{"row":{"data":{"base64":"')
        piece, offset = first, 0
        while True:
            out.write(base64.b64encode(piece))
            offset += len(piece)
            if len(piece) < LARGE_OBJECT_PIECE:
                break
            self._check_cancel()
            piece = _read_page(self.source, sql, (oid, offset))[0]["data"]
        out.write(b'"},"oid":%d}}\n' % oid)
        return out.getvalue()

    def _add_carried(self, group: str, made: bytes | bytearray) -> Iterator[bytes]:
        """A carried table's line, made (as add_ndjson would make it, scans spliced in: raw.spliced_line)."""
        if not self.bag.append_line(group, made):
            yield from self.bag.add_line(group, made)

    def _stream_table(self, table: CatalogTable, counts: TableReconciliation,
                      where: Callable[[str | None], str] | None = None) -> Iterator[bytes]:
        """Carry one table verbatim: every column, values in their carried form, in key order (``where``: only
        the rows it chooses, read on the table's key: a carried section's; given the page's marker of the key
        after the last row read, or None for the first page, its WHERE clause, holding that marker once)."""
        self._check_cancel()
        self._emit("carry", table.name, 0, counts.source_rows)
        source = self.source
        caps = caps_for(source.engine)
        quoted = from_name(source.engine, table)  # its own rows only where it has inheritance children
        encoding = self.spec.encoding
        has_blobs = any(any(t in c.type for t in ("BLOB", "BINARY", "BYTEA", "IMAGE")) for c in table.columns)
        page_size = BLOB_PAGE_SIZE if has_blobs else self.page_size
        group = counts.member

        width = len(table.columns)
        # Dates and times as the server's text where the driver would corrupt them (converted here, after
        # the paging has compared the text), single-byte (latin1) text as its stored bytes: see carried_select.
        select, converters = carried_select(source.engine, table, listed=where is not None)

        def line(row: dict[str, Any]) -> bytes | bytearray:
            if len(row) != width:  # a column the row's dict does not hold would be counted but not carried
                raise ReconciliationError(
                    f"Table {table.name}: the catalogue lists {width} columns but a row read has {len(row)}. "
                    "The export was stopped so that nothing is lost; please report this with the table's "
                    "definition (no data).")
            if converters:
                row = {k: converters[k](v) if k in converters else v for k, v in row.items()}
            later: dict[str, bytes] = {}  # scans: their base64 written into the line a piece at a time
            return spliced_line(canonical_json_line(
                {"row": {k: encode_raw_later(v, encoding, later) for k, v in row.items()}}), later)

        key = table.key
        done = 0
        if key is not None:
            names = [c.name for c in table.columns]
            key_lower = row_keys(names)[names.index(key)]
            inner = f"SELECT {select} FROM {quoted}"
            last: Any = None
            keyset_marker = getattr(source, "keyset_marker", None)  # SQLite: a TEXT key read as bytes
            sizer = PageSizer(page_size)  # pages of RTF notes or scans: fewer rows (sources/paging.py)
            while True:
                marker = "?" if last is None or keyset_marker is None else keyset_marker(
                    inner, caps.quote(key), last)
                rows = sizer.rows
                # a carried section's rows: its page's start said inside too, so that no engine reads the
                # section's rows before it again for every page (PostgreSQL's merge join would: pages × rows)
                chosen = "" if where is None else where(None if last is None else marker)
                sql = keyset_page_sql(caps, inner + chosen, key, page_size=rows, first=last is None, marker=marker)
                read_before = getattr(source, "value_bytes_read", None)
                page = _read_page(source, sql, () if last is None else (last,) * (1 + bool(chosen)))
                for row in page:
                    yield from self._add_carried(group, line(row))
                done += len(page)
                counts.carried = done
                self._emit("carry", table.name, done, counts.source_rows)
                self._check_cancel()
                self._more_than_counted(table.name, key, done, counts.source_rows)
                if len(page) < rows:
                    break
                sizer.measured(len(page), _page_bytes(source, page, read_before))  # measured once, by rows()
                last = page[-1][key_lower]
                del page  # not alive while the next page is read
        elif ordered_in_pages(source):
            # No usable key, and a driver that would hold the whole result: the ordered pass in pages of about
            # ORDERED_PAGE_FACTOR × PAGE_BYTES, each sized by the last one; their rows handed on as they are
            # fetched (the driver holds the page). On MariaDB/MySQL, cut into ranges of its leading column
            # (ordered_range_columns), each page a sort of its own range; elsewhere LIMIT/OFFSET pages, each a
            # sort of the whole table.
            sizer = PageSizer(ORDERED_PAGE_ROWS, ORDERED_PAGE_FACTOR,
                              first=1 if _may_hold_large(table) else ORDERED_FIRST_PAGE_ROWS)
            columns = ordered_range_columns(source.engine, table)
            if ordered_by_cursor(source):
                done = yield from self._ordered_cursor(table, counts, line, sizer, done)
            elif columns:
                done = yield from self._ordered_ranges(table, counts, line, sizer, columns, done)
            else:
                done = yield from self._ordered_pages(table, counts, line, sizer, None, (), done)
        else:
            # No usable key, and a driver that hands rows over as they come: one ordered pass.
            for row in source.rows(ordered_pass_sql(source.engine, table)):
                yield from self._add_carried(group, line(row))
                done += 1
                if done % self.page_size == 0:
                    self._check_cancel()
                    self._emit("carry", table.name, done, counts.source_rows)
            counts.carried = done
            self._emit("carry", table.name, done, counts.source_rows)
        yield from self.bag.flush(group)
        if not counts.balanced:
            raise ReconciliationError(
                f"Table {table.name}: {counts.source_rows} rows counted but {counts.carried} carried. The export "
                "was stopped so that nothing is lost; was the clinic database changed during the export?"
            )

    def _ordered_pages(self, table: CatalogTable, counts: TableReconciliation,
                       line: Callable[[dict[str, Any]], bytes | bytearray], sizer: PageSizer, where: str | None,
                       params: tuple[Any, ...], done: int, most: int | None = None) -> Generator[bytes, None, int]:
        """A keyless table's ordered pass read in pages (:func:`ordered_page_sql`), or the rows of one of its ranges
        (``where``, ``params``: :func:`ordered_range_sql`), which hold at most ``most`` rows in this snapshot where
        known. Each page is sized by the last one; its rows are handed on as they are fetched. After a lost
        connection, the next page starts after the last row carried (in the new snapshot; the row count is
        checked at the end). Gives the rows carried of the table so far (``done`` before)."""
        source = self.source
        group = counts.member
        start, lost = done, 0
        generation = getattr(source, "snapshot_generation", 0)
        while True:
            rows, offset = sizer.rows, done - start
            sql = (ordered_page_sql(source.engine, table, rows, offset) if where is None
                   else ordered_range_sql(source.engine, table, where, rows, offset))
            read_before = getattr(source, "value_bytes_read", None)
            size = 0
            try:
                for row in source.rows(sql, params):
                    if read_before is None:
                        size += value_bytes([row.values()])
                    yield from self._add_carried(group, line(row))
                    done += 1
                    if done % self.page_size == 0:  # a page may be 250,000 rows: progress and cancel within
                        self._check_cancel()
                        self._emit("carry", table.name, done, counts.source_rows)
            except SourceConnectionLost as exc:
                lost += 1
                reconnect_after(source, exc, lost)
                continue
            lost = 0
            counts.carried = done
            self._emit("carry", table.name, done, counts.source_rows)
            self._check_cancel()
            page = done - start - offset
            if read_before is not None:  # measured once, by rows()
                size = int(getattr(source, "value_bytes_read", 0)) - read_before
            if page < rows:
                if page and where is not None:  # a range's rows: the next range is sized by them
                    sizer.measured(page, size)
                return done
            sizer.measured(page, size)
            if (most is not None and done - start >= most
                    and getattr(source, "snapshot_generation", 0) == generation):
                return done  # the whole range, in the snapshot it was bounded in

    def _ordered_cursor(self, table: CatalogTable, counts: TableReconciliation,
                        line: Callable[[dict[str, Any]], bytes | bytearray], sizer: PageSizer,
                        done: int) -> Generator[bytes, None, int]:
        """A keyless table's ordered pass through a server-side cursor (:func:`ordered_by_cursor`): ``FETCH
        FORWARD`` pages of it, each sized by the last one; rows handed on as they are fetched. After a lost
        connection, the cursor is declared again in the new snapshot and moved past the rows carried (the row
        count is checked at the end). Gives the rows carried of the table so far."""
        source = self.source
        group = counts.member
        self._cursors += 1
        name = f"emr_keyless_{self._cursors}"
        lost = 0
        declared = False
        while True:
            try:
                if not declared:
                    list(source.rows(ordered_cursor_sql(source.engine, table, name,
                                                        hold=not getattr(source, "consistent", False))))
                    if done:
                        list(source.rows(f"MOVE FORWARD {int(done)} FROM {name}"))
                    declared = True
                rows, before = sizer.rows, done
                read_before = getattr(source, "value_bytes_read", None)
                size = 0
                for row in source.rows(f"FETCH FORWARD {int(rows)} FROM {name}"):
                    if read_before is None:
                        size += value_bytes([row.values()])
                    yield from self._add_carried(group, line(row))
                    done += 1
                    if done % self.page_size == 0:
                        self._check_cancel()
                        self._emit("carry", table.name, done, counts.source_rows)
            except SourceConnectionLost as exc:
                lost += 1
                declared = False
                reconnect_after(source, exc, lost)
                continue
            lost = 0
            counts.carried = done
            self._emit("carry", table.name, done, counts.source_rows)
            self._check_cancel()
            if done - before < rows:
                with contextlib.suppress(SourceConnectionLost):  # every row is read; the next read reconnects
                    list(source.rows(f"CLOSE {name}"))
                return done
            if read_before is not None:
                size = int(getattr(source, "value_bytes_read", 0)) - read_before
            sizer.measured(done - before, size)

    def _ordered_ranges(self, table: CatalogTable, counts: TableReconciliation,
                        line: Callable[[dict[str, Any]], bytes | bytearray], sizer: PageSizer,
                        columns: list[CatalogColumn], done: int, prefix: str = "",
                        prefix_params: tuple[Any, ...] = ()) -> Generator[bytes, None, int]:
        """The rows ``prefix`` keeps (all: "") of a keyless table's ordered pass, in ranges of ``columns[0]``
        (:func:`ordered_range_columns`): its NULLs first, then from the start of what is left to the value a
        page's rows further on (:func:`ordered_boundary_sql`). Each range's page sorts that range's rows alone,
        so the table is sorted about once, not once a page. More than a page of rows equal in ``columns[0]``
        (its NULLs; 'u1', 'U1' and 'u1 ' under a case-insensitive collation count as equal) are read in ranges
        of the next column where they are many (``large``), else in pages of their own. Gives the rows carried so
        far."""
        source = self.source
        if not columns:
            return (yield from self._ordered_pages(table, counts, line, sizer, prefix or None, prefix_params, done))
        column, rest = columns[0], columns[1:]
        quoted = caps_for(source.engine).quote(column.name)
        key = range_key(source.engine, column)
        compared = key[0] if key is not None else quoted  # (ordered_range_columns gives none without one)

        def where(*parts: str) -> str:
            return " AND ".join(p for p in (prefix, *parts) if p)

        def large(group: str, params: tuple[Any, ...]) -> bool:
            # Whether rows equal in this column are read in ranges of the next (each range: two scans of the
            # table) rather than in pages of their own (each page: a sort of the group): where they are more
            # than a page and more than a RANGE_GROUP_SHARE-th of the table (a scan costs about a 30th of a sort).
            if not rest:
                return False
            most = max(sizer.rows, counts.source_rows // RANGE_GROUP_SHARE)
            return bool(_read_page(source, f"SELECT 1 AS m FROM {from_name(source.engine, table)} WHERE {group} "
                                           f"LIMIT 1 OFFSET {int(most)}", params))

        nulls = where(f"{quoted} IS NULL")
        if large(nulls, prefix_params):
            done = yield from self._ordered_ranges(table, counts, line, sizer, rest, done, nulls, prefix_params)
        else:
            done = yield from self._ordered_pages(table, counts, line, sizer, nulls, prefix_params, done)
        lower, lower_params = f"{quoted} IS NOT NULL", ()
        while True:
            rows = sizer.rows
            found = _read_page(source, ordered_boundary_sql(source.engine, table, column, where(lower), rows),
                               prefix_params + lower_params)
            if not found:  # what is left fits in a page
                return (yield from self._ordered_pages(table, counts, line, sizer, where(lower),
                                                       prefix_params + lower_params, done))
            bound, bound_params = range_literal(column, next(iter(found[0].values())))
            before = done
            done = yield from self._ordered_pages(table, counts, line, sizer, where(lower, f"{compared} < {bound}"),
                                                  prefix_params + lower_params + bound_params, done, most=rows)
            if done == before:  # more than a page of rows equal to the bound
                equal, equal_params = where(f"{compared} = {bound}"), prefix_params + bound_params
                if large(equal, equal_params):
                    done = yield from self._ordered_ranges(table, counts, line, sizer, rest, done, equal, equal_params)
                else:
                    done = yield from self._ordered_pages(table, counts, line, sizer, equal, equal_params, done)
                lower = f"{compared} > {bound}"
            else:
                lower = f"{compared} >= {bound}"
            lower_params = bound_params

    def _stream_unselected(self, table: CatalogTable, counts: ColumnsReconciliation) -> Iterator[bytes]:
        """Carry the columns of a table its sections read that none of their queries selects (``counts.names``),
        by the table's primary key (``counts.key``, one column or several): one line ``{"key": {<key column>:
        <carried value>, ...}, "columns": {<column>: <carried value>, ...}}`` per row, in key order, read as a
        carried table's columns are (:func:`readable_select`: latin1 text as its stored bytes, hidden and
        generated columns by name, PostgreSQL's dates and times as the server's text), in keyset pages that a
        lost connection reads again, in the export's snapshot."""
        self._check_cancel()
        self._emit("carry", table.name, 0, counts.source_rows)
        source = self.source
        caps = caps_for(source.engine)
        encoding = self.spec.encoding
        full_keys = dict(zip((c.name for c in table.columns), row_keys([c.name for c in table.columns]),
                             strict=True))
        wanted = set(counts.key) | set(counts.names)
        picked = [c for c in table.columns if full_keys[c.name] in wanted]
        key_columns = [c for c in picked if full_keys[c.name] in counts.key]
        # The rows' keys are those of the picked columns alone: named back as the whole table names them.
        renamed = dict(zip(row_keys([c.name for c in picked]), (full_keys[c.name] for c in picked), strict=True))
        select, converters = readable_select(
            source.engine, [(c.name, c.read_type) for c in picked],
            stored_bytes=[c.name for c in picked if c.byte_charset], listed=True,
            decoded={c.name: c.decoded_charset for c in picked if c.decoded_charset})
        inner = f"SELECT {select} FROM {from_name(source.engine, table)}"
        key_in_row = [k for k, full in renamed.items() if full in counts.key]
        width = len(picked)
        has_blobs = any(any(t in c.type for t in ("BLOB", "BINARY", "BYTEA", "IMAGE")) for c in picked)
        group = counts.member

        def line(row: dict[str, Any]) -> dict[str, Any]:
            if len(row) != width:  # a column the row's dict does not hold would be counted but not carried
                raise ReconciliationError(
                    f"Table {table.name}: {width} columns were asked for but a row read has {len(row)}. The "
                    "export was stopped so that nothing is lost; please report this with the table's definition "
                    "(no data).")
            values = {renamed[k]: encode_raw(converters[k](v) if k in converters else v, encoding)
                      for k, v in row.items()}
            return {"key": {k: values[k] for k in counts.key}, "columns": {k: values[k] for k in counts.names}}

        last: tuple[Any, ...] | None = None
        keyset_marker = getattr(source, "keyset_marker", None)  # SQLite: a TEXT key read as bytes
        sizer = PageSizer(BLOB_PAGE_SIZE if has_blobs else self.page_size)
        done = 0
        while counts.source_rows:
            rows = sizer.rows
            if len(key_columns) == 1:
                quoted_key = caps.quote(key_columns[0].name)
                marker = "?" if last is None or keyset_marker is None else keyset_marker(inner, quoted_key, last[0])
                sql = keyset_page_sql(caps, inner, key_columns[0].name, page_size=rows, first=last is None,
                                      marker=marker)
                params: tuple[Any, ...] = () if last is None else last
            else:
                sql = keyset_page_sql(caps, inner, [c.name for c in key_columns], page_size=rows, first=last is None)
                params = () if last is None else tuple(keyset_params(last))
            read_before = getattr(source, "value_bytes_read", None)
            page = _read_page(source, sql, params)
            bag = self.bag
            for row in page:
                made = canonical_json_line(line(row))  # as add_ndjson writes it, without a generator a row
                if not bag.append_line(group, made):
                    yield from bag.add_line(group, made)
            done += len(page)
            counts.carried = done
            self._emit("carry", table.name, done, counts.source_rows)
            self._check_cancel()
            if len(page) < rows:
                break
            sizer.measured(len(page), _page_bytes(source, page, read_before))
            last = tuple(page[-1][k] for k in key_in_row)  # as read: the keyset compares what the query gives
            del page
        yield from self.bag.flush(group)
        if not counts.balanced:
            raise ReconciliationError(
                f"Table {table.name}: {counts.source_rows} rows counted but the columns no query selects were "
                f"carried for {counts.carried}. The export was stopped so that nothing is lost; was the clinic "
                "database changed during the export?")

    # --- the stream ------------------------------------------------------------------------------

    def stream(self) -> Iterator[bytes]:
        """The bag tar stream. Raises ExportCancelled / ExportError; never yields a partial lie."""
        limit_heap_growth()  # the bag's 4 MB segments in their own mappings, not heap holes (allocator.py)
        try:
            yield from self._stream()
        finally:  # also when the consumer stops early (cancel, a failed write): no worker outlives the run
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            self.output_check.close()  # the ids' temporary runs, if any went to disk

    def _worker_pool(self, entity: EntitySpec, total: int, blobs: bool,
                     duplicates: Mapping[str, set[Any]]) -> WorkerPool | None:
        """The worker pool when this entity's rows can be mapped out of order of the bag, else None.

        One core where a row's mapping depends on the rows before it (a value that repeats in a unique
        field: the first row keeps it; a reference to the entity's own rows, whose quarantined keys grow
        as it streams), for BLOB rows (bytes would cross twice), for small entities and when the FHIR
        structure is validated too (the connector check).
        """
        if (self.workers < 2 or total < MIN_PARALLEL_ROWS or blobs or any(duplicates.values())
                or self.output_check.validator is not None
                or any(f.ref == entity.name for f in entity.fields.values())):
            return None
        if not self._pool_tried and self._parallel_rows < MIN_POOL_ROWS:
            return None
        if not self._pool_tried:
            self._pool_tried = True
            self._pool = start_pool(
                worker_row_mapping, (self.spec, self.institution, self.attachments_root, self._summarisers),
                self.workers)
        return self._pool

    def _stream(self) -> Iterator[bytes]:
        counts = self.count_all()
        self._parallel_rows = sum(total for name, (total, _) in counts.items()
                                  if total >= MIN_PARALLEL_ROWS and self.spec.entities[name].carry is None)
        yield from self._organization()
        for name, (total, null_keys) in counts.items():
            with self._reading(name):
                entity = self.spec.entities[name]
                if entity.carry is not None:
                    yield from self._stream_carried_section(entity, total, null_keys)
                else:
                    yield from self._stream_entity(entity, total, null_keys)
        for table, column_counts in self._unselected:
            self.reconciliation.columns.append(column_counts)
            yield from (self._stream_unselected(table, column_counts) if column_counts.key
                        else self._stream_table(table, column_counts))
        for table, table_counts in self._carried:
            self.reconciliation.tables.append(table_counts)
            yield from self._stream_table(table, table_counts)
        if self._large_objects is not None:
            yield from self._stream_large_objects(self._large_objects)
        inventory = json.dumps(
            {"tables": self.reconciliation.inventory}, ensure_ascii=False, sort_keys=True, indent=1
        ).encode("utf-8")
        yield from self.bag.add_bytes("report/inventory.json", inventory + b"\n")
        cell_map = json.dumps({"entities": self._cell_maps}, ensure_ascii=False, sort_keys=True).encode("utf-8")
        yield from self.bag.add_bytes("report/cells.json", cell_map + b"\n")
        report = json.dumps(
            {
                "connector": {"name": self.spec.name, "version": self.spec.version},
                "institution": {"code": self.institution.code, "name": self.institution.name},
                "created": self.created.isoformat(),
                "reconciliation": self.reconciliation.to_dict(),
            },
            ensure_ascii=False,
            sort_keys=True,
            indent=1,
        ).encode("utf-8")
        yield from self.bag.add_bytes("report/reconciliation.json", report + b"\n")
        for observer in self.observers:
            for path, data in observer.report_members():
                yield from self.bag.add_bytes(path, data)
        self._emit("finish", None, 0, 0)
        yield from self.bag.finish()

    def _organization(self) -> Iterator[bytes]:
        """The clinic's Organization, first: every resource that names the clinic refers to it."""
        resource = fhir.organization_resource(self.institution)
        line = canonical_json_line(resource)
        problem = self.output_check.problem(resource, line)
        if problem is not None:  # the clinic's own record: nothing to quarantine it into
            raise ExportError(f"The clinic's own record cannot be written as FHIR: {problem}. Check the "
                              "clinic's name, address and phone (--institution-name …).")
        self.output_check.claim("Organization", resource["id"])
        yield from self.bag.add_line("fhir/Organization", line)
        yield from self.bag.flush("fhir/Organization")

    def _stream_carried_section(self, entity: EntitySpec, total: int, null_keys: int) -> Iterator[bytes]:
        """A carried section (``carry = "…"``): each row its query gives written verbatim, every column of its
        table as a carried table's (but those carried beside the sections as unselected columns), in pages on its
        key, to ``data/raw/sections/<name>``; no record, no FHIR, no quarantine."""
        table = self._listed(entity.table)
        names = [c.name for c in table.columns] if table is not None else []
        key = next((n for n in names if n == entity.key), None) or next(
            (n for n in names if n.lower() == entity.key.lower()), None)
        if table is None or key is None:
            raise ConfigError(f"{self.spec.spec_file}: [entities.{entity.name}] carries its rows whole, by its key "
                              f"{entity.key}: name a key that is a column of table {entity.table}.")
        if null_keys:
            raise ConfigError(f"{self.spec.spec_file}: [entities.{entity.name}]: {null_keys} of its rows have no "
                              f"{entity.key} (NULL): a carried section reads its rows in the order of its key, which "
                              "must name every row. Name another key.")
        unselected = next((c.names for t, c in self._unselected if t.name == table.name), ())
        kept = tuple(c for c in table.columns if c.name == key or row_keys([c.name])[0] not in unselected)
        carried = dataclasses.replace(table, columns=tuple(  # read in pages on the section's key
            dataclasses.replace(c, primary_key=c.name == key) for c in kept))
        quoted = quoted_column(self.source, key)
        counts = SectionReconciliation(
            table=table.name.lower(), source_rows=total, columns=len(kept), read=f"keyset on {key.lower()}",
            member=f"{CARRIED_SECTIONS}/{entity.name}", section=entity.name, reason=entity.carry or "")
        self.reconciliation.sections.append(counts)
        section_sql = self.source_sql(entity)

        def where(marker: str | None) -> str:
            after = "" if marker is None else f" WHERE q.{entity.key} > {marker}"
            return f" WHERE {quoted} IN (SELECT q.{entity.key} FROM ({section_sql}) q{after})"

        yield from self._stream_table(carried, counts, where)

    def _stream_entity(self, entity: EntitySpec, total: int, null_keys: int) -> Iterator[bytes]:
        self._check_cancel()
        counts = EntityReconciliation(entity=entity.name, table=entity.table, source_rows=total,
                                      rereads=self._rereads.get(entity.name), kind=entity.canonical)
        self.reconciliation.entities.append(counts)
        quarantined_keys: set[str] = set()
        self._quarantined_keys[entity.name] = quarantined_keys
        duplicates = self._duplicate_values(entity)
        merge_values = self._merge_values(entity)
        merges = plan_merges(self.spec.name, entity.record_table, *merge_values) if merge_values else None
        if merges is not None and not (merges.linked or merges.notes):
            merges = None
        mapper = EntityMapper(
            self.spec,
            entity,
            attachments_root=self.attachments_root,
            quarantined_keys=self._quarantined_keys,
            duplicate_values=duplicates,
            hook=self.hook,
        )
        has_blobs = any(f.type == "blob" for f in entity.fields.values())
        page_size = entity.page_size or (BLOB_PAGE_SIZE if has_blobs else self.page_size)
        # Read so that the driver loses no value of the section's own columns (PostgreSQL: dates, times, uuids
        # as the server's text), converted after paging: see readable_query.
        joined_sql, repeats = self._joined(entity)
        joined, converters = readable_query(self.source, joined_sql, self._compared_columns(entity))
        paged = self._grouped_pages(entity, joined_sql, joined) if repeats else None
        groups: set[str] = set()
        done = 0
        cells = _cell_check(self.spec, entity, mapper, self.institution)
        state = _EntityState(entity, RowMapping(self.spec, entity, mapper, self.institution, self.output_check,
                                                cells, self._summarisers))
        if type(self)._add_resource is not ExportRun._add_resource:
            state.fhir_groups = None
        state.observing = tuple(
            (number, getattr(observer, "observe_summary", None), observer.observe if summarise is None else None)
            for number, (observer, summarise) in enumerate(zip(self.observers, self._summarisers, strict=True)))
        state.rows.merges = merges
        # (merged charts: mapped in this process, which knows the plan)
        pool = self._worker_pool(entity, total, has_blobs, duplicates) if merges is None else None
        deferred: list[dict[str, Any]] = []  # the patients a merge links: after the others (_merged_charts)
        linked = merges.linked if merges is not None else frozenset()
        if pool is not None:  # the pure part in worker processes, answers in order (pipeline/parallel.py)
            refs = {f.ref for f in entity.fields.values() if f.ref is not None}
            pool.begin_entity(entity.name, {k: v for k, v in self._quarantined_keys.items() if k in refs})
            in_parent = MapInParent()  # a failed batch: each row mapped in order by _handle_row, as on one core
            trusted_from = 0  # batches sent before this resync may hold rows decided on another cell check's
            # Rows as value tuples (a worker makes the dicts); the parent makes a row's dict only to map it
            # itself or to quarantine it (_handle_row).
            value_pages = iter_keyset_values(self.source, joined, entity.key, page_size, converters, paged)
            value_pages = self._with_children_values(entity, repeats.value_pages(value_pages) if repeats
                                                     else value_pages)
            batches = batches_of(value_pages, entity_batch_rows(total, pool.size))
            for (names, batch), mapped_rows, sent_after in pool.map(batches, lambda values: in_parent):
                self._check_cancel()
                trusted = sent_after >= trusted_from
                for values, mapped in zip(batch, mapped_rows, strict=True):
                    if trusted and type(mapped) is MappedRow:
                        yield from self._handle_row(entity, mapper, values, counts, quarantined_keys, groups,
                                                    state, mapped, names)
                    else:
                        yield from self._handle_row(entity, mapper, dict(zip(names, values, strict=True)), counts,
                                                    quarantined_keys, groups, state, mapped if trusted else None)
                    if state.diverged:  # a worker's cell check learnt otherwise: the parent's to every worker
                        state.diverged = False
                        trusted_from = pool.resync(cells.learnt())
                        trusted = False
                done += len(batch)
                self._emit("export", entity.name, done, total)
                self._more_than_counted(entity.name, entity.key, done, total)
        pages = iter_keyset(self.source, joined, entity.key, page_size, converters, paged) \
            if pool is None else iter(())
        pages = self._with_children(entity, repeats.pages(pages) if repeats and pool is None else pages)
        for page in pages:
            self._check_cancel()
            for row in page:
                if linked and key_text(row[state.key]) in linked:
                    deferred.append(row)
                    continue
                yield from self._handle_row(entity, mapper, row, counts, quarantined_keys, groups, state)
            done += len(page)
            self._emit("export", entity.name, done, total)
            self._more_than_counted(entity.name, entity.key, done, total)
            del page  # not alive while the next page is read (sources/base.py iter_keyset)
        if deferred:
            assert merge_values is not None
            yield from self._merged_charts(entity, mapper, deferred, counts, quarantined_keys, groups, state,
                                           merge_values)
        final = state.rows.merges
        if final is not None:
            self.merged_charts[entity.name] = {
                "replaced": len(final.replaced_by), "survivors": len(final.replaces), "chains": len(final.chains),
                "defects": dict(sorted(Counter(final.notes.values()).items())),
            }
        if null_keys:  # (their references unchecked: a join could repeat such a row, which no key tells apart)
            plain, plain_converters = readable_query(self.source, self.source_sql(entity),
                                                     self._compared_columns(entity))
            for row in self.source.rows(f"SELECT * FROM ({plain}) q WHERE q.{entity.key} IS NULL"):
                yield from self._quarantine_null_key(entity, convert_row(row, plain_converters), counts, groups)
        for group in sorted(groups):
            yield from self.bag.flush(group)
        self._cell_maps[entity.name] = cells.to_dict()
        self._emit("export", entity.name, done + null_keys, total)
        if not counts.balanced:
            raise ReconciliationError(
                f"'{entity.name}': {counts.source_rows} source rows but {counts.exported} exported and "
                f"{counts.quarantined} quarantined. The export was stopped so that nothing is lost; "
                "was the clinic database changed during the export?"
            )
        if snapshot_generation(self.source) != self._counted_generation:
            self._recheck_after_reconnect(entity, counts)

    def _merged_charts(
        self, entity: EntitySpec, mapper: EntityMapper, rows: list[dict[str, Any]], counts: EntityReconciliation,
        quarantined_keys: set[str], groups: set[str], state: _EntityState,
        merge_values: tuple[dict[str, str], dict[str, str]],
    ) -> Iterator[bytes]:
        """The patients a merge links (either way: few), after the section's others. Mapped once first to find the
        rows that are quarantined whatever their links (no link may point at them: the plan is made again without
        them, their partners then saying ``merge-target-quarantined``); then written, their links to each other
        let through the reference check until all are written, and checked written after."""
        mapping = state.rows
        failed = set()
        for row in rows:
            mapped = mapping.map_one(row)
            if isinstance(mapped.result, model.QuarantinedRow) or mapped.rejected is not None:
                failed.add(key_text(row[state.key]))
        plan = mapping.merges
        assert plan is not None
        if failed:
            plan = mapping.merges = plan_merges(self.spec.name, entity.record_table, *merge_values, failed=failed)
        ids = {model.record_id(self.spec.name, entity.record_table, key) for key in plan.linked}
        check = self.output_check
        check.expect("Patient", ids)
        try:
            for row in rows:
                yield from self._handle_row(entity, mapper, row, counts, quarantined_keys, groups, state)
        finally:
            check.expect("Patient", ())
        missing = sum(1 for resource_id in ids if not check.known("Patient", resource_id))
        if missing:
            raise ReconciliationError(
                f"'{entity.name}': {missing} Patients of merged charts (환자 통합) were not written after their links "
                "were made, so a link would point at nothing. The export was stopped; see the section's "
                "quarantined rows in the connector check."
            )

    @staticmethod
    def _more_than_counted(name: str, key: str, read: int, counted: int) -> None:
        """Stop where the pages on ``key`` have given more rows than ``name`` holds: they read rows again (a
        key the server gives otherwise than it compares it: a user-defined EUC-KR character given as '?'),
        which would go on for ever, or the table grew without a snapshot (MyISAM)."""
        if read > counted:
            raise ReconciliationError(
                f"'{name}': its pages in the order of {key} gave more rows ({read}) than it holds ({counted}). "
                "The export was stopped so that nothing is lost: either the clinic database was changed during "
                "the export (close the EMR program on every PC and run it again), or some values of that key are "
                "read otherwise than the database compares them; please report this with the table's definition "
                "(no data).")

    def _recheck_after_reconnect(self, entity: EntitySpec, counts: EntityReconciliation) -> None:
        """After a reconnect the rows came (partly) from a newer snapshot than the counts: count again.

        Catches rows added or removed meanwhile; it cannot catch an UPDATE that moved a row across the
        read position (see "Consistent reads" in docs/databases.md).
        """
        recount, _ = self._count(entity)
        if recount != counts.source_rows:
            raise ReconciliationError(
                f"'{entity.name}': the connection to the clinic database was lost and re-opened during the "
                f"export, and the table {entity.table} changed meanwhile ({counts.source_rows} rows counted "
                f"first, {recount} now). The export was stopped so that nothing is lost; close the EMR "
                "program on every PC and run the export again."
            )

    def _add_resource(self, resource_type: str, line: bytes, groups: set[str]) -> Iterator[bytes]:
        """One checked FHIR resource, already serialised (``line``), into ``data/fhir/<type>``."""
        group = f"fhir/{resource_type}"
        groups.add(group)
        return self.bag.add_line(group, line)

    def _add(self, group: str, obj: Mapping[str, Any], groups: set[str]) -> Iterator[bytes]:
        groups.add(group)
        yield from self.bag.add_ndjson(group, obj)

    def _quarantine(
        self, row: model.QuarantinedRow, counts: EntityReconciliation, keys: set[str], groups: set[str],
        *, poison_key: bool = True,
    ) -> Iterator[bytes]:
        counts.quarantined += 1
        counts.reasons[row.reason_code] += 1
        counts.quarantined_cells += len(row.raw)
        if self.on_quarantine is not None:
            self.on_quarantine(row)
        if poison_key:  # rows referring to this key become orphans (not for a key another row also has)
            keys.add(row.provenance.key)
        yield from self._add(f"raw/{row.entity}", quarantine_line(row, self.spec.encoding), groups)

    def _quarantine_null_key(
        self, entity: EntitySpec, row: dict[str, Any], counts: EntityReconciliation, groups: set[str]
    ) -> Iterator[bytes]:
        counts.quarantined += 1
        counts.reasons["null-key"] += 1
        raw = {k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)}
        counts.source_cells += len(raw)
        counts.quarantined_cells += len(raw)
        quarantined = model.QuarantinedRow(
            entity=entity.name,
            provenance=model.Provenance(self.spec.name, entity.table, ""),
            reason_code="null-key",
            reason=f"the key column {entity.key} is empty",
            raw=raw,
        )
        if self.on_quarantine is not None:
            self.on_quarantine(quarantined)
        line = quarantine_line(quarantined, self.spec.encoding)
        yield from self._add(f"raw/{entity.name}", line, groups)

    def _handle_row(
        self,
        entity: EntitySpec,
        mapper: EntityMapper,
        row: dict[str, Any] | tuple[Any, ...],
        counts: EntityReconciliation,
        quarantined_keys: set[str],
        groups: set[str],
        state: _EntityState,
        mapped: MappedRow | MapInParent | None = None,
        names: tuple[str, ...] = (),
    ) -> Iterator[bytes]:
        """One row's trip from the mapping on. ``row`` is the row's dict; or, with a worker's MappedRow
        (trusted: decided on the parent's cell check), its values in the order of ``names``: then its dict
        is made only where a quarantine needs it (:func:`_row_dict`), and its key is known unchanged by
        trimming (a worker sends such a row back as MapInParent, the parent maps it: _WorkerRows)."""
        if state.cells < 0:
            state.learn(_row_dict(row, names))
        counts.source_cells += state.cells
        if not isinstance(row, tuple):  # (a worker's row: its key is the same trimmed)
            raw_key = row[state.key]
            key_changed = type(raw_key) is str and raw_key != raw_key.strip()
            if key_changed and self._ambiguous_key(entity, raw_key, state):
                ambiguous = model.QuarantinedRow(
                    entity=entity.name, provenance=mapper._provenance(row), reason_code="ambiguous-key",
                    reason=f"the key of this {entity.name} row differs from another row's key only by spaces; "
                    "references to it cannot be told apart",
                    raw={k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)},
                )
                yield from self._quarantine(ambiguous, counts, quarantined_keys, groups, poison_key=False)
                return
        # The pure part of the row's trip (mapping, FHIR, JSON, each resource's own rules, the cells, the
        # observers' summaries): done here, or already done by a worker process (pipeline/parallel.py).
        # The rest is the same either way.
        if mapped is None:  # (the one-core export's every row: its dict, not a call to make it)
            mapped = state.rows.map_one(row if type(row) is dict else _row_dict(row, names))
        elif type(mapped) is MapInParent:
            learnt = mapped.learnt
            mapped = state.rows.map_one(_row_dict(row, names))
            if learnt is not None and not state.rows.cells.agrees(learnt):
                state.diverged = True
        assert type(mapped) is MappedRow
        result = mapped.result
        if isinstance(result, model.QuarantinedRow):
            yield from self._quarantine(result, counts, quarantined_keys, groups)
            return
        if mapped.rejected is not None and mapped.rejected[0] == "unmappable":
            assert result is not None  # a rejected row always comes with its record
            yield from self._quarantine(
                self._rejected(entity, result, _row_dict(row, names), "unmappable", mapped.rejected[1]), counts,
                quarantined_keys,
                groups,
            )
            return
        # Checked as `open` will check them (the same ResourceCheck), before anything of this row enters
        # the bag: a resource that fails quarantines its row, never the bundle. Resource by resource in
        # their order: its own rules (found in map_one), then its id (the ids written so far).
        check = self.output_check
        lines = mapped.lines
        claim = check.claim
        claimed: list[tuple[str, int]] = []  # ids this row takes; given back if the row fails after all
        for resource_type, resource_id, _, _ in lines:
            digest = claim(resource_type, resource_id)
            if digest is None:
                # Two rows giving one id (keys 7 and '7' in a column without a type): the first keeps it;
                # references to that id still resolve, so the key is not poisoned.
                check.release(claimed)
                reason = (f"the {resource_type} built from {entity.name} row "
                          f"{model.display_key(mapped.key)} has the id of a {resource_type} already "
                          "in the bag (FHIR ids must be unique)")
                yield from self._quarantine(
                    self._rejected_key(entity, mapped.key, _row_dict(row, names), "duplicate-id", reason), counts,
                    quarantined_keys, groups, poison_key=False,
                )
                return
            claimed.append((resource_type, digest))
        if mapped.rejected is not None:  # the resource after those broke one of its own rules
            assert result is not None
            _, problem, resource_type = mapped.rejected
            check.release(claimed)
            yield from self._quarantine(
                self._invalid_output(entity, result, _row_dict(row, names), {"resourceType": resource_type},
                                     problem), counts, quarantined_keys, groups,
            )
            return
        dangling_of = check.dangling
        for resource_type, _, line, _ in lines:  # every id of the row claimed: they may refer to each other
            dangling = dangling_of(None, line)  # (the path of a dangling one: from the line, rarely parsed)
            if dangling is not None:
                # What the mapper's reference checks could not see (a parent read by a filtered query, a
                # parent whose resource failed its check): an orphan, as a row whose parent is quarantined.
                check.release(claimed)
                path, target_type = dangling
                reason = (f"the {resource_type} built from {entity.name} row "
                          f"{model.display_key(mapped.key)} refers to a {target_type} that is not "
                          f"in the bag ({path})")
                yield from self._quarantine(
                    self._rejected_key(entity, mapped.key, _row_dict(row, names), "orphan", reason), counts,
                    quarantined_keys, groups
                )
                return
        if isinstance(result, model.Attachment):
            yield from self._attachment_bytes(result, _row_dict(row, names), entity, mapper, counts, quarantined_keys,
                                              groups)
            if result.provenance.key in quarantined_keys:
                check.release(claimed)
                return
        bag = self.bag
        statuses = counts.statuses
        fhir_groups = state.fhir_groups
        if fhir_groups is None:  # _add_resource overridden (the connector check counts what passes there)
            for resource_type, _, line, status in lines:
                statuses[status] += 1
                yield from self._add_resource(resource_type, line, groups)
        else:  # _add_resource inlined: the group's name made once, the line appended without a generator
            for resource_type, _, line, status in lines:
                statuses[status] += 1
                group = fhir_groups.get(resource_type)
                if group is None:
                    group = fhir_groups[resource_type] = f"fhir/{resource_type}"
                groups.add(group)
                if not bag.append_line(group, line):
                    yield from bag.add_line(group, line)
        if mapped.kept_as_recorded is not None:
            counts.statuses_kept_as_recorded += 1
            self.unread_statuses[(entity.name, mapped.kept_as_recorded)] += 1
        columns_line = mapped.columns_line  # made with the row's mapping (RowMapping.map_one)
        if columns_line is not None:
            for _, _, code in mapped.defects:
                counts.field_defects[code] += 1
            counts.transformed_cells += mapped.transformed_cells
            group = state.columns_group
            groups.add(group)
            if not bag.append_line(group, columns_line):
                yield from bag.add_line(group, columns_line)
            counts.carried_cells += mapped.carried_cells
            counts.mapped_cells += state.cells - mapped.carried_cells - mapped.taken_cells
        else:
            counts.mapped_cells += state.cells - mapped.taken_cells
        counts.source_cells -= mapped.taken_cells  # (another section's: RowMapping.read_again)
        if mapped.roster is not None:
            groups.add("report/roster")
            if not bag.append_line("report/roster", mapped.roster):
                yield from bag.add_line("report/roster", mapped.roster)
        group = state.list_group
        groups.add(group)
        if not bag.append_line(group, mapped.list_line):
            yield from bag.add_line(group, mapped.list_line)
        summaries = mapped.summaries
        for number, observe_summary, observe in state.observing:
            summary = summaries[number]
            if summary is not None:
                observe_summary(summary)  # type: ignore[misc]  # (a summary: its observer has the method)
            elif observe is not None:
                assert result is not None  # kept for every observer without a summary
                observe(result)
        counts.exported += 1

    def _invalid_output(
        self, entity: EntitySpec, record: model.Record, row: Mapping[str, Any], resource: Mapping[str, Any],
        problem: str,
    ) -> model.QuarantinedRow:
        """The quarantine of a row whose resource breaks a rule of :class:`ResourceCheck` (never a value:
        the problem names a rule or a path)."""
        reason = (f"the {resource['resourceType']} built from {entity.name} row "
                  f"{model.display_key(record.provenance.key)} breaks FHIR's rules: {problem.rstrip('.')}")
        return self._rejected(entity, record, row, "invalid-output", reason)

    def _rejected(
        self, entity: EntitySpec, record: model.Record, row: Mapping[str, Any], code: str, reason: str
    ) -> model.QuarantinedRow:
        return model.QuarantinedRow(
            entity=entity.name, provenance=record.provenance, reason_code=code, reason=reason,
            raw={k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)},
        )

    def _rejected_key(
        self, entity: EntitySpec, key: str, row: Mapping[str, Any], code: str, reason: str
    ) -> model.QuarantinedRow:
        """:meth:`_rejected` by the record's source key (a worker's answer may carry no record)."""
        return model.QuarantinedRow(
            entity=entity.name, provenance=model.Provenance(self.spec.name, entity.table, key), reason_code=code,
            reason=reason, raw={k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)},
        )

    def _ambiguous_key(self, entity: EntitySpec, raw_key: str, state: _EntityState) -> bool:
        """A padded or blank key whose trimmed form (what references and ids use) another row has too.

        Only keys that trimming changes are looked at (rare), so the set of them stays small. The rows the
        database finds equal to the trimmed form are compared with this one in Python: where the database
        itself pads (PostgreSQL ``char(n)``: psqlODBC gives 'C00001    ', which the server finds equal to
        'C00001') the row found is this very row, not another one. Before, every row of a table keyed by a
        ``char(n)`` chart number was quarantined as ambiguous-key (and every visit of it as an orphan).
        """
        stripped = raw_key.strip()
        if stripped in state.trimmed_keys:
            return True
        state.trimmed_keys.add(stripped)
        try:
            found = [next(iter(row.values())) for row in self.source.rows(
                f"SELECT q.{entity.key} FROM ({self._inner_sql(entity)}) q WHERE q.{entity.key} = ?", (stripped,))]
        except SourceError:
            return False
        return any(value != raw_key for value in found)

    def _attachment_bytes(
        self,
        record: model.Attachment,
        row: dict[str, Any],
        entity: EntitySpec,
        mapper: EntityMapper,
        counts: EntityReconciliation,
        quarantined_keys: set[str],
        groups: set[str],
    ) -> Iterator[bytes]:
        member = fhir.attachment_member_name(record)
        content = record.content
        if content.blob is not None:
            yield from self.bag.add_file(member, len(content.blob), [content.blob])
            return
        assert content.path is not None
        path = Path(content.path)
        try:
            size = path.stat().st_size
            handle = path.open("rb")
        except OSError:
            rejected = model.QuarantinedRow(
                entity=entity.name, provenance=record.provenance, reason_code="file-unreadable",
                reason="the attachment file cannot be read", raw={k: v for k, v in row.items()
                                                                  if not k.startswith(REF_COLUMN_PREFIX)},
            )
            yield from self._quarantine(rejected, counts, quarantined_keys, groups)
            return
        try:
            with handle:
                yield from self.bag.add_file(member, size, iter(lambda: handle.read(FILE_CHUNK), b""))
        except OSError as exc:
            # Half a file is already in the bag stream: the export cannot go on, but it can say why.
            raise ExportError(
                f"The attachment file of {entity.name} row {model.display_key(record.provenance.key)} could not "
                f"be read to the end ({type(exc).__name__}, errno {exc.errno}). Check the disk or network folder "
                "and run the export again; nothing was written."
            ) from None


class MappedRow:
    """What the pure part of one row's trip produced (in this process or in a worker: it pickles).

    ``result`` is the record, or the row the mapper quarantined; None where the parent needs neither (a
    worker leaves it out when every observer takes a summary and the record is no attachment).
    ``lines`` are the resources that pass their own rules, in order: (resource type, id, NDJSON line, FHIR
    status label). ``rejected`` (reason code, reason, resource type): the record's FHIR could not be built
    (``unmappable``), or the resource after ``lines`` broke one of its own rules (``invalid-output``); the
    record is then kept. ``defects`` are the mapper's field defects of this row (field, column, reason code).
    """

    __slots__ = (
        "carried_cells",
        "columns_line",
        "defects",
        "kept_as_recorded",
        "key",
        "lines",
        "list_line",
        "record_id",
        "rejected",
        "result",
        "roster",
        "summaries",
        "taken_cells",
        "transformed_cells",
    )

    def __init__(
        self, result: model.Record | model.QuarantinedRow | None, lines: list[tuple[str, str, bytes, str]],
        defects: tuple[tuple[str, str, str], ...] = (), rejected: tuple[str, str, str] | None = None,
        record_id: str = "", key: str = "", list_line: bytes = b"", roster: bytes | None = None,
        kept_as_recorded: str | None = None, columns_line: bytes | None = None, carried_cells: int = 0,
        transformed_cells: int = 0, summaries: tuple[Any, ...] = (), taken_cells: int = 0,
    ) -> None:
        self.result = result
        self.lines = lines
        self.defects = defects
        self.rejected = rejected
        # Of an exported record: its id and source key, its lines in report/lists and report/roster and
        # its status as recorded where no FHIR status was read from it (None: read, or none recorded).
        self.record_id = record_id
        self.key = key
        self.list_line = list_line
        self.roster = roster
        self.kept_as_recorded = kept_as_recorded
        #: Its line in raw/columns (unmapped columns, field defects, a changed key, transformed cells), the
        #: cells that line carries and how many of them are transformed ones (pipeline/cells.py).
        self.columns_line = columns_line
        self.carried_cells = carried_cells
        self.transformed_cells = transformed_cells
        #: Per observer, its summary of the record (None: the observer takes the record, or nothing).
        self.summaries = summaries
        #: Its cells another section reads again (RowMapping.read_again): counted there, not here.
        self.taken_cells = taken_cells

    def __reduce__(self) -> tuple[Any, ...]:  # a plain tuple: far cheaper to unpickle than per-slot state
        return (MappedRow, (self.result, self.lines, self.defects, self.rejected, self.record_id, self.key,
                            self.list_line, self.roster, self.kept_as_recorded, self.columns_line,
                            self.carried_cells, self.transformed_cells, self.summaries, self.taken_cells))


class MapInParent:
    """A worker's answer for a row the parent maps itself, in order: a key with spaces (the ambiguous-key
    check comes first), or a row that taught the worker's cell check something (``learnt``: what that
    check knew then, which the parent's must agree with for the worker's other answers to stand)."""

    __slots__ = ("learnt",)

    def __init__(self, learnt: dict[str, Any] | None = None) -> None:
        self.learnt = learnt

    def __reduce__(self) -> tuple[Any, ...]:
        return (MapInParent, (self.learnt,))


#: A summary of a record for one observer (RecordObserver.summarise), None for an observer without one.
Summariser = Callable[[model.Record], Any] | None


def _cell_check(spec: ConnectorSpec, entity: EntitySpec, mapper: EntityMapper,
                institution: model.Institution) -> CellCheck:
    return CellCheck(
        spec, entity, mapper.consumed_columns, mapper._joined_refs,
        # The mapper's cached record ids: a referenced row's id is hashed once, not once more per cell.
        lambda record: fhir.to_fhir(record, institution=institution), _referenced_record_id, key_text,
    )


#: The fields of a vital-signs set that are its measurements (an Observation each, or a component of the blood
#: pressure's).
_MEASUREMENTS = frozenset({"systolic", "diastolic", *model.VITAL_KINDS, *(
    name for name, (kind, _) in model.EYE_FIELDS.items() if model.EYE_KINDS[kind][3])})


def _absent_measurements(record: model.VitalSigns, row: Mapping[str, Any],
                         defects: tuple[tuple[str, str, str], ...], measured: tuple[str, ...]) -> model.VitalSigns:
    """A vital-signs set whose measurements say nothing of a value, as FHIR R4's vital signs expect (vs-2, vs-3: a
    value or the reason it is absent): the record with those measurements ``absent`` (fhir.py writes each as its
    Observation with dataAbsentReason), so the visit's record is in the chart, never quarantined nor dropped.

    * A measurement recorded as no number ('측정 안 함', 'refused', '>200', 0: a field defect, its cell carried raw
      with its reason) is absent with the text as recorded, in any set (before 2026-12 only in a set with no number
      left; in one with numbers it was the field defect alone, no Observation).
    * A NULL or empty measurement records nothing: no Observation where the set holds anything else (a height not
      taken at this visit is no measurement of unknown height). Only a set that holds nothing at all, every mapped
      measurement (``measured``) NULL, has each of them absent with no text (``unknown``: NULL says nothing of why,
      so never ``not-performed``); before, that row was quarantined ``unmappable`` though it broke no rule."""
    absent: dict[str, str | None] = {}
    for field_name, column, _ in defects:
        if field_name in _MEASUREMENTS and field_name not in absent:
            value = row.get(column)  # (a computed column: the text an expr read out of the cell, e.g. a BP's)
            absent[field_name] = value if isinstance(value, str) else (
                str(value) if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else None)
    if not absent and not fhir.vital_measured(record):
        absent = dict.fromkeys(measured)
    return dataclasses.replace(record, absent=tuple(absent.items())) if absent else record


class RowMapping:
    """The pure part of a row's trip: connector mapping, FHIR, canonical JSON, each resource's own rules,
    the cell-by-cell rebuild check and the row's raw/columns line, the observers' summaries.

    No bag, no counts, no source, no id index: it depends on the row, the entity's mapper and the
    institution only (and on what the cell check learnt from the rows before: see worker_row_mapping), so
    a worker process can run it (pipeline/parallel.py) and the bag stays byte-identical. A per-row check
    that needs the FHIR resources (not only their lines) belongs here, its result in MappedRow; one that
    needs the rows before it (unique ids, references) in ``ExportRun._handle_row``, on what MappedRow
    carries.
    """

    def __init__(self, spec: ConnectorSpec, entity: EntitySpec, mapper: EntityMapper,
                 institution: model.Institution, check: ResourceCheck, cells: CellCheck,
                 summarisers: tuple[Summariser, ...] = (), keep_records: bool = True) -> None:
        self.entity = entity
        self.mapper = mapper
        self.institution = institution
        self.check = check  # only its own-rule check (problem()) is used here
        self.cells = cells
        self.encoding = spec.encoding
        self.key = entity.key.lower()
        self.unmapped: tuple[str, ...] | None = None  # columns no field reads: learnt from the first row
        #: Per section reading some of these rows again (the row's READ_AGAIN_PREFIX column: whether it reads this
        #: one), the unmapped columns it holds for them: learnt from the first row too.
        self.read_again: tuple[tuple[str, frozenset[str]], ...] = ()
        self._sections = tuple(spec.entities.values())
        self.summarisers = summarisers
        self._summaries = _summaries_of(summarisers)
        self.keep_records = keep_records
        #: A patient section's merged charts (ExportRun._merged_charts): links given to the records here.
        self.merges: MergePlan | None = None
        field = entity.fields.get("merged_into")
        column = next((c for n, _, c, _, _ in mapper._plan if n == "merged_into"), None)
        self._merge_column = mapper._defect_column(field, column) if field is not None and column else "merged_into"
        #: The measurements the section maps (each absent, ``unknown``, in a set whose every one is NULL).
        self._measured = tuple(n for n, _, _, _, _ in mapper._plan if n in _MEASUREMENTS)
        # A writer of the entity's lines straight to bytes (pipeline/fastlines.py) where the resources' own
        # rules it proves are all there is to check (no structure models asked for).
        self._fast = fastlines.writer_for(entity.canonical) if check.validator is None else None
        self._fast_check = self._fast is not None and fastlines.fast_check_on()

    def map_one(self, row: Mapping[str, Any]) -> MappedRow:
        mapper = self.mapper
        result = mapper.map_row(row)
        if isinstance(result, model.QuarantinedRow):
            return MappedRow(result, [])
        # A copy: the mapper reuses its (empty) list for the next row, and a worker answers a whole batch.
        defects = tuple(mapper.defects)
        if type(result) is model.VitalSigns and (defects or not fhir.vital_measured(result)):
            result = _absent_measurements(result, row, defects, self._measured)
        if self.merges is not None and type(result) is model.Patient:
            result, merge_note = self.merges.apply(result)
            if merge_note is not None:  # why merged_into is no link: its value carried with the code
                defects += (("merged_into", self._merge_column, merge_note),)
        if self._fast is not None and not defects:
            fast = self._map_fast(row, result)
            if fast is not None:
                if self._fast_check:
                    _same_mapped(fast, self._map_slow(row, result, defects), self.entity.name)
                return fast
        return self._map_slow(row, result, defects)

    def _map_fast(self, row: Mapping[str, Any], result: Any) -> MappedRow | None:
        """The row's lines written straight to bytes (pipeline/fastlines.py), the cell check run on the
        writer's skeletons; None where the writer or the cell check needs the slow path."""
        assert self._fast is not None
        writer, readable = self._fast
        written = writer(result)
        if written is None:
            return None
        raw_key = row[self.key]
        if type(raw_key) is str and raw_key != raw_key.strip():
            return None
        lines, shape_key, skeletons = written
        transformed = self.cells.transformed_lean(row, result, shape_key, skeletons, readable, ())
        if transformed is None:
            return None
        return self._finish(row, result, lines, (), False, transformed)

    def _map_slow(self, row: Mapping[str, Any], result: Any, defects: tuple[tuple[str, str, str], ...]) -> MappedRow:
        try:
            resources = fhir.to_fhir(result, institution=self.institution)
        except MappingError as exc:
            return MappedRow(result, [], defects, ("unmappable", str(exc), ""))
        if defects:  # say where FHIR allows it that a dropped field was there but broken
            fhir.mark_absent(resources, self.entity.canonical,
                             [name for name, _, code in defects if code != "control-characters"])
        lines: list[tuple[str, str, bytes, str]] = []
        for resource in resources:
            line = canonical_json_line(resource)  # orjson where it gives the same bytes (pipeline/bag.py)
            problem = self.check.problem(resource, line)
            if problem is not None:
                return MappedRow(result, lines, defects, ("invalid-output", problem, resource["resourceType"]))
            status = resource.get("status")  # fhir.status_label's answer where it is a text (almost always)
            lines.append((resource["resourceType"], resource["id"], line,
                          status if type(status) is str else fhir.status_label(resource)))
        # Every column the mapping did not use, every dropped or repaired field and a changed key: carried
        # beside the resource, keyed by its id, so the exact source row can be rebuilt. And every mapped
        # cell the FHIR output cannot give back exactly (trimmed, normalised, re-formatted, looked up):
        # carried too, as "transformed" (pipeline/cells.py decides, cell by cell).
        raw_key = row[self.key]
        key_changed = type(raw_key) is str and raw_key != raw_key.strip()
        defect_columns = [column for _, column, _ in defects]
        if key_changed:
            defect_columns.append(self.key)
        transformed = self.cells.transformed(row, result, resources, defect_columns)
        return self._finish(row, result, lines, defects, key_changed, transformed)

    def _finish(self, row: Mapping[str, Any], result: Any, lines: list[tuple[str, str, bytes, str]],
                defects: tuple[tuple[str, str, str], ...], key_changed: bool, transformed: list[str]) -> MappedRow:
        """The row's raw/columns line, list line and summaries, around its resources' lines."""
        mapper = self.mapper
        record_id = result.id
        key = result.provenance.key
        unmapped = self.unmapped
        if unmapped is None:
            consumed = mapper.consumed_columns
            unmapped = self.unmapped = tuple(c for c in row if not c.startswith(REF_COLUMN_PREFIX)
                                             and c not in consumed)
            names = [c for c in row if not c.startswith(REF_COLUMN_PREFIX)]
            self.read_again = tuple(
                (c, frozenset(read_again_columns(self.entity, self._sections[int(c[len(READ_AGAIN_PREFIX):])], names))
                 & frozenset(unmapped)) for c in row if c.startswith(READ_AGAIN_PREFIX))
        taken_cells = 0
        if self.read_again:  # cells another section reads again for this row: counted and kept there
            taken = frozenset().union(*(columns for flag, columns in self.read_again if row[flag]))
            if taken:
                unmapped = tuple(c for c in unmapped if c not in taken)
                taken_cells = len(taken)
        columns_line = None
        carried_cells = 0
        if unmapped or defects or key_changed or transformed:
            encoding = self.encoding
            carried = {c: encode_raw(row[c], encoding) for c in unmapped}
            defect_lines = []
            for field_name, column, code in defects:
                if not column.startswith(REF_COLUMN_PREFIX):  # (a computed column is no cell of the source)
                    carried[column] = encode_raw(row[column], encoding)
                defect_lines.append({"field": field_name, "column": column, "reason_code": code})
            if key_changed:
                carried[self.key] = row[self.key]
            for column in transformed:
                carried[column] = encode_raw(row[column], encoding)
            line_obj: dict[str, Any] = {"entity": self.entity.name, "id": record_id, "key": key, "columns": carried}
            if defect_lines:
                line_obj["field_defects"] = defect_lines
            if transformed:
                line_obj["transformed"] = transformed
            columns_line = canonical_json_line(line_obj)  # as add_ndjson writes it
            carried_cells = len(carried)
        summaries = self._summaries(result)
        return MappedRow(
            result if self.keep_records or isinstance(result, model.Attachment) else None,
            lines, defects, None, record_id, key,
            canonical_json_line(list_line(result)),
            canonical_json_line(roster_line(result)) if isinstance(result, model.Patient) else None,
            fhir.status_kept_as_recorded(result), columns_line, carried_cells, len(transformed), summaries,
            taken_cells,
        )


_MAPPED_SLOTS = tuple(name for name in MappedRow.__slots__ if name != "result")


def _same_mapped(fast: MappedRow, slow: MappedRow, entity: str) -> None:
    """EMR_EXPORTER_FAST_CHECK: the fast writer's row must be the slow path's, slot for slot (the record is
    the same object). The message names the entity and the slot, never a value."""
    if fast.result is not slow.result:
        raise fastlines.FastLinesMismatch(f"{entity}: the fast path's record is not the slow path's")
    for name in _MAPPED_SLOTS:
        if getattr(fast, name) != getattr(slow, name):
            raise fastlines.FastLinesMismatch(
                f"{entity}: the fast writer's {name} differs from the slow path's (pipeline/fastlines.py)")


def _summaries_of(summarisers: tuple[Summariser, ...]) -> Callable[[model.Record], tuple[Any, ...]]:
    """A record's summary per observer (None: the observer has no summariser), as one call made once per
    entity: with the usual single observer, no generator a row."""
    if not summarisers:
        return lambda record: ()
    if len(summarisers) == 1:
        only = summarisers[0]
        if only is None:
            return lambda record: (None,)
        return lambda record: (only(record),)
    return lambda record: tuple(None if summarise is None else summarise(record) for summarise in summarisers)


def worker_row_mapping(
    spec: ConnectorSpec, institution: model.Institution, attachments_root: Path | None,
    summarisers: tuple[Summariser, ...], entity_name: str, quarantined_keys: Mapping[str, set[str]],
) -> _WorkerRows:
    """An entity's ``map_one`` in a worker process (pipeline/parallel.py): its own mapper and hooks, the
    quarantined keys of the entities it refers to, each resource's own rules without the structure models
    (never asked for in a run with workers), its own cell check, the records left out when every observer
    takes a summary.

    The cell check learns from the rows it sees (a shape's first row, a column's first value), and the
    bag's cell map is what the parent's learnt. So a row that teaches the worker's check anything is
    mapped again by the parent (every first row of the whole entity is one: the worker cannot have seen it
    before), with what the worker's check knows then for the parent to compare. Where they differ (a
    shape's first row in a worker is not its first in the entity: a diagnosis of another KCD edition), the
    parent maps the rows that worker may have decided otherwise itself and sends its own knowledge to
    every worker (WorkerPool.resync); every other row is decided by what both checks know alike. A key
    with spaces goes to the parent too (its ambiguous-key check comes before the mapping, and the one-core
    export checks no cells of such a row it quarantines).
    """
    entity = spec.entities[entity_name]
    mapper = EntityMapper(spec, entity, attachments_root=attachments_root, quarantined_keys=quarantined_keys,
                          duplicate_values={}, hook=_worker_hook(spec))
    cells = _cell_check(spec, entity, mapper, institution)
    rows = RowMapping(spec, entity, mapper, institution, ResourceCheck(None), cells, summarisers,
                      keep_records=None in summarisers)
    return _WorkerRows(rows)


class _WorkerRows:
    """A worker's ``map_one`` (see worker_row_mapping), and ``adopt``: what the parent's cell check knows."""

    def __init__(self, rows: RowMapping) -> None:
        self.map_one = rows.map_one
        self.cells = rows.cells
        self.key = rows.key
        self.in_parent = MapInParent()

    def adopt(self, learnt: dict[str, Any]) -> None:
        self.cells.adopt(learnt)

    def __call__(self, row: Mapping[str, Any]) -> MappedRow | MapInParent:
        raw_key = row[self.key]
        if type(raw_key) is str and raw_key != raw_key.strip():
            return self.in_parent
        cells = self.cells
        taught = cells.reference_rows
        mapped = self.map_one(row)
        if cells.reference_rows != taught:
            return MapInParent(cells.learnt())
        return mapped


_WORKER_HOOKS: dict[str, Any] = {}


def _worker_hook(spec: ConnectorSpec) -> Any:
    """The connector's hooks.py, loaded once per worker process (not once per entity)."""
    key = str(spec.path)
    if key not in _WORKER_HOOKS:
        _WORKER_HOOKS[key] = load_hooks(spec)
    return _WORKER_HOOKS[key]


class _EntityState:
    """What is the same for every row of one entity's query, learnt from its first row."""

    def __init__(self, entity: EntitySpec, rows: RowMapping) -> None:
        self.rows = rows
        self.key = entity.key.lower()
        self.cells = -1
        self.trimmed_keys: set[str] = set()
        #: A worker's cell check has just been seen to have learnt otherwise than this process's.
        self.diverged = False
        # Bag groups of its rows, named once (not once per row).
        self.list_group = f"report/lists/{entity.name}"
        self.columns_group = f"raw/columns/{entity.name}"
        #: Resource type -> its data/fhir group; None when the run's _add_resource is overridden (then
        #: every resource goes through it).
        self.fhir_groups: dict[str, str] | None = {}
        #: Per observer (ExportRun.observers): its number, its ``observe_summary`` (called with a row's summary
        #: where it has one) and its ``observe`` where it has no summariser (called with the record), bound
        #: once per entity rather than looked up per row.
        self.observing: tuple[tuple[int, Callable[[Any], None] | None, Callable[[Any], None] | None], ...] = ()

    def learn(self, row: Mapping[str, Any]) -> None:
        self.cells = sum(1 for k in row if not k.startswith(REF_COLUMN_PREFIX))


def _row_dict(row: dict[str, Any] | tuple[Any, ...], names: tuple[str, ...]) -> dict[str, Any]:
    """A row as the source reads it: the dict itself, or made from its values in the order of ``names``
    (as the worker that mapped it made it)."""
    return dict(zip(names, row, strict=True)) if isinstance(row, tuple) else row


def _without_key(table: CatalogTable) -> CatalogTable:
    """The table read without keyset paging (its key column holds NULLs)."""
    columns = tuple(dataclasses.replace(c, primary_key=False) for c in table.columns)
    return dataclasses.replace(table, columns=columns)


def roster_line(patient: model.Patient) -> dict[str, Any]:
    """A line of the patient roster (환자 명부). The RRN is masked: the Patient resource has it in full.

    A merged chart (환자 통합) says so: ``merged_into`` as recorded and ``replaced_by`` (the surviving Patient's
    id), and the survivor lists ``replaces``: the old chart's records keep its id (the per-type lists'
    ``patient_id``), and these lead from either chart to the other."""
    line: dict[str, Any] = {
        "id": patient.id,
        "chart_number": patient.chart_number,
        "name": patient.name,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "rrn_masked": model.mask_rrn(patient.rrn),
        "first_visit": patient.first_visit.isoformat() if patient.first_visit else None,
    }
    if patient.merged_into is not None:
        line["merged_into"] = patient.merged_into
    if patient.replaced_by is not None:
        line["replaced_by"] = patient.replaced_by
    if patient.replaces:
        line["replaces"] = list(patient.replaces)
    return line


def list_line(record: model.Record) -> dict[str, Any]:
    """A line of the per-type list (종류별 목록): which record, whose, when, what kind."""
    record_type: type = type(record)
    dates, has_patient, has_kind = _list_attributes(record_type)
    when = None
    for name in dates:
        value = getattr(record, name)
        if value is not None:
            when = fhir.isoformat(value)  # value.isoformat(), remembered for the day's other rows
            break
    line: dict[str, Any] = {
        "id": record.id,
        "source_key": record.provenance.key,
        "retention": record.retention.slug,
        "date": when,
    }
    if has_patient:
        patient_id = record.patient_id  # type: ignore[union-attr]
        if patient_id is not None:
            line["patient_id"] = patient_id
    if has_kind:
        kind = record.kind  # type: ignore[union-attr]
        if kind is not None:
            line["kind"] = kind
    return line


@functools.cache
def _list_attributes(record_type: type) -> tuple[tuple[str, ...], bool, bool]:
    """Of list_line's attributes, the ones ``record_type`` has, once per type (any other one reads None)."""
    dates = tuple(
        name for name in ("start", "recorded", "ordered", "performed", "observed", "issued", "service_date",
                          "created", "occurred", "effective", "valid_from", "started")
        if hasattr(record_type, name)
    )
    return dates, hasattr(record_type, "patient_id"), hasattr(record_type, "kind")


@dataclass(frozen=True, slots=True)
class StreamDigest:
    sha256: str
    size: int


def digest_stream(chunks: Iterator[bytes]) -> StreamDigest:
    """Consume a stream keeping only its SHA-256 and size (the dry run: nothing is written)."""
    hasher = hashlib.sha256()
    size = 0
    for chunk in chunks:
        hasher.update(chunk)
        size += len(chunk)
    return StreamDigest(hasher.hexdigest(), size)


__all__ = [
    "EntityReconciliation",
    "ExportRun",
    "ProgressEvent",
    "Reconciliation",
    "RecordObserver",
    "StreamDigest",
    "digest_stream",
    "key_text",
    "read_institution",
    "tables_in_sql",
]
