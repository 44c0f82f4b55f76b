"""The export pipeline: clinic database → canonical records → FHIR + raw rows → bag tar stream.

Everything is an iterator. :meth:`ExportRun.stream` yields the bytes of the deterministic bag tar; what
consumes them decides where they go — a hash only (dry run) or the sealed-bundle writer, which encrypts
them before they touch the disk. Plaintext patient data is never written anywhere by this module.

Nothing is lost: for every entity the number of rows in the source table must equal exported +
quarantined rows. A quarantined row goes verbatim into ``data/raw/<entity>`` with its reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from emr_exporter import __version__, model
from emr_exporter.connectors.mapper import REF_COLUMN_PREFIX, EntityMapper, key_text, load_hooks
from emr_exporter.connectors.spec import COMPOSITE_KEY_SEPARATOR, ConnectorSpec, EntitySpec
from emr_exporter.connectors.transforms import RowRejected, TransformContext, to_text
from emr_exporter.errors import ConfigError, ExportCancelled, ExportError, MappingError, ReconciliationError
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.bag import BagStream
from emr_exporter.sources.base import DEFAULT_PAGE_SIZE, Source, iter_keyset, snapshot_generation

#: Rows per page for entities that carry BLOBs: each row's bytes are in memory while it is handled.
BLOB_PAGE_SIZE = 16
FILE_CHUNK = 1024 * 1024


@dataclass
class EntityReconciliation:
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

    @property
    def balanced(self) -> bool:
        return self.source_rows == self.exported + self.quarantined

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityReconciliation:
        """The inverse of :meth:`to_dict` (a bundle's saved summary)."""
        return cls(
            entity=data["entity"], table=data["table"], source_rows=data["source_rows"], exported=data["exported"],
            quarantined=data["quarantined"], reasons=Counter(data.get("quarantine_reasons", {})),
            statuses=Counter(data.get("statuses", {})),
            statuses_kept_as_recorded=int(data.get("statuses_kept_as_recorded", 0)),
            rereads=data.get("rereads"),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "entity": self.entity,
            "table": self.table,
            "source_rows": self.source_rows,
            "exported": self.exported,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(sorted(self.reasons.items())),
            "balanced": self.balanced,
            "statuses": dict(sorted(self.statuses.items())),
            "statuses_kept_as_recorded": self.statuses_kept_as_recorded,
        }
        if self.rereads:
            out["rereads"] = self.rereads
        return out


@dataclass
class Reconciliation:
    entities: list[EntityReconciliation] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return all(e.balanced for e in self.entities)

    @property
    def totals(self) -> dict[str, int]:
        """Source rows counted once: a section that reads another's rows again is left out of the totals."""
        once = [e for e in self.entities if not e.rereads]
        return {
            "source_rows": sum(e.source_rows for e in once),
            "exported": sum(e.exported for e in once),
            "quarantined": sum(e.quarantined for e in once),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"balanced": self.balanced, "totals": self.totals, "entities": [e.to_dict() for e in self.entities]}

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
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Progress of one stage; ``total`` is the source row count of the entity (0 when unknown)."""

    stage: str  # "count" | "export" | "finish"
    entity: str | None
    done: int
    total: int


ProgressCallback = Callable[[ProgressEvent], None]


class RecordObserver(Protocol):
    """Sees every exported record while the bag streams; adds its own report files at the end.

    Used for reports computed in one pass (document readiness). Must keep bounded state.
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


def quarantine_line(row: model.QuarantinedRow) -> dict[str, Any]:
    return {
        "entity": row.entity,
        "table": row.provenance.table,
        "key": row.provenance.key,
        "reason_code": row.reason_code,
        "reason": row.reason,
        "row": {name: jsonable(value) for name, value in sorted(row.raw.items())},
    }


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


class ExportRun:
    """One export of one connector over one source. Iterate :meth:`stream` exactly once."""

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
    ) -> None:
        self.spec = spec
        self.source = source
        self.institution = institution
        self.created = created.replace(microsecond=0)
        self.attachments_root = attachments_root
        self.progress = progress
        self.cancel = cancel
        self.page_size = page_size
        self.reconciliation = Reconciliation()
        self.observers = list(observers or [])
        self.hook = load_hooks(spec)
        self._quarantined_keys: dict[str, set[str]] = {}
        self._rereads: dict[str, str] = {}  # section → the section whose rows it reads again (count_all)
        self._counted_generation = 0  # the source's snapshot the counts were taken in
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
            raise ExportCancelled("The export was cancelled. Nothing was written; run it again to start over.")

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
            return entity.inner_sql
        return f"SELECT s.*, {', '.join(extras)} FROM ({entity.inner_sql}) s"

    def _joined_sql(self, entity: EntitySpec) -> str:
        """The entity's rows plus one LEFT JOIN per reference (does the referenced row exist, and its key)
        and per code look-up (the code table's value)."""
        selects = ["q.*"]
        joins = []
        for number, (name, fld) in enumerate(sorted(entity.fields.items()), 1):
            alias = f"r{number}"
            if fld.lookup is not None and fld.column is not None:
                lk = fld.lookup
                where = f" WHERE {lk.where}" if lk.where else ""
                selects.append(f"{alias}.v AS {fld.source_column}")
                joins.append(
                    f"LEFT JOIN (SELECT {lk.key} AS k, MIN({lk.value}) AS v FROM {lk.table}{where} "
                    f"GROUP BY {lk.key}) {alias} ON {alias}.k = q.{fld.column}"
                )
                continue
            if fld.type != "ref" or fld.source_column is None or fld.ref is None:
                continue
            parent = self.spec.entities[fld.ref]
            if fld.ref_field is None and not parent.composite:
                selects.append(f"{alias}.{parent.key} AS {REF_COLUMN_PREFIX}{name}")
                joins.append(f"LEFT JOIN {parent.table} {alias} ON {alias}.{parent.key} = q.{fld.source_column}")
                continue
            # By a unique field of the parent: one row per value (the lowest key, the one the export keeps
            # when the value repeats), so a child row is never repeated by the join.
            value = parent.fields[fld.ref_field].source_column if fld.ref_field else parent.key
            selects.append(f"{alias}.k AS {REF_COLUMN_PREFIX}{name}")
            joins.append(
                f"LEFT JOIN (SELECT p.{value} AS v, MIN(p.{parent.key}) AS k FROM ({self.source_sql(parent)}) p "
                f"WHERE p.{value} IS NOT NULL GROUP BY p.{value}) {alias} ON {alias}.v = q.{fld.source_column}"
            )
        if not joins:
            return self.source_sql(entity)
        return f"SELECT {', '.join(selects)} FROM ({self.source_sql(entity)}) q {' '.join(joins)}"

    def _duplicate_values(self, entity: EntitySpec) -> dict[str, set[Any]]:
        duplicates: dict[str, set[Any]] = {}
        for name in entity.unique:
            column = entity.fields[name].source_column
            sql = (
                f"SELECT q.{column} FROM ({self.source_sql(entity)}) q WHERE q.{column} IS NOT NULL "
                f"GROUP BY q.{column} HAVING COUNT(*) > 1"
            )
            duplicates[name] = {next(iter(row.values())) for row in self.source.rows(sql)}
        return duplicates

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
        for name, entity in self.spec.entities.items():  # already in dependency order
            self._check_cancel()
            self._emit("count", name, 0, 0)
            counts[name] = self._count(entity)
            per_table.setdefault(entity.table.lower(), []).append((name, counts[name][0]))
        for _, sections in sorted(per_table.items()):
            table = self.spec.entities[sections[0][0]].table
            table_rows = int(self.source.scalar(f"SELECT COUNT(*) FROM {table}") or 0)
            read = [n for _, n in sections]
            if sum(read) == table_rows:
                continue
            if table_rows in read:
                full = sections[read.index(table_rows)][0]
                self._rereads.update({name: full for name, _ in sections if name != full})
                continue
            detail = ", ".join(f"[entities.{name}] {n}" for name, n in sections)
            raise ReconciliationError(
                f"Table {table} holds {table_rows} rows but the connector's queries read {sum(read)} ({detail}); "
                f"rows would be left behind. Fix the queries in {self.spec.spec_file}: use LEFT JOIN; where "
                "sections share a table, let one read every row or make their filters split it exactly."
            )
        return counts

    # --- the stream ------------------------------------------------------------------------------

    def stream(self) -> Iterator[bytes]:
        """The bag tar stream. Raises ExportCancelled / ExportError; never yields a partial lie."""
        counts = self.count_all()
        yield from self.bag.add_ndjson("fhir/Organization", fhir.organization_resource(self.institution))
        yield from self.bag.flush("fhir/Organization")
        for name, (total, null_keys) in counts.items():
            yield from self._stream_entity(self.spec.entities[name], total, null_keys)
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

    def _stream_entity(self, entity: EntitySpec, total: int, null_keys: int) -> Iterator[bytes]:
        self._check_cancel()
        counts = EntityReconciliation(entity=entity.name, table=entity.table, source_rows=total,
                                      rereads=self._rereads.get(entity.name))
        self.reconciliation.entities.append(counts)
        quarantined_keys: set[str] = set()
        self._quarantined_keys[entity.name] = quarantined_keys
        mapper = EntityMapper(
            self.spec,
            entity,
            attachments_root=self.attachments_root,
            quarantined_keys=self._quarantined_keys,
            duplicate_values=self._duplicate_values(entity),
            hook=self.hook,
        )
        has_blobs = any(f.type == "blob" for f in entity.fields.values())
        page_size = entity.page_size or (BLOB_PAGE_SIZE if has_blobs else self.page_size)
        joined = self._joined_sql(entity)
        groups: set[str] = set()
        done = 0
        for page in iter_keyset(self.source, joined, entity.key, page_size):
            self._check_cancel()
            for row in page:
                yield from self._handle_row(entity, mapper, row, counts, quarantined_keys, groups)
            done += len(page)
            self._emit("export", entity.name, done, total)
        if null_keys:
            for row in self.source.rows(f"SELECT * FROM ({joined}) q WHERE q.{entity.key} IS NULL"):
                yield from self._quarantine_null_key(entity, row, counts, groups)
        for group in sorted(groups):
            yield from self.bag.flush(group)
        if not counts.balanced:
            raise ReconciliationError(
                f"'{entity.name}': {counts.source_rows} source rows but {counts.exported} exported and "
                f"{counts.quarantined} quarantined. The export was stopped so that nothing is lost; "
                "was the clinic database changed during the export?"
            )
        if snapshot_generation(self.source) != self._counted_generation:
            self._recheck_after_reconnect(entity, counts)

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

    def _add(self, group: str, obj: Mapping[str, Any], groups: set[str]) -> Iterator[bytes]:
        groups.add(group)
        yield from self.bag.add_ndjson(group, obj)

    def _quarantine(
        self, row: model.QuarantinedRow, counts: EntityReconciliation, keys: set[str], groups: set[str]
    ) -> Iterator[bytes]:
        counts.quarantined += 1
        counts.reasons[row.reason_code] += 1
        keys.add(row.provenance.key)
        yield from self._add(f"raw/{row.entity}", quarantine_line(row), groups)

    def _quarantine_null_key(
        self, entity: EntitySpec, row: dict[str, Any], counts: EntityReconciliation, groups: set[str]
    ) -> Iterator[bytes]:
        counts.quarantined += 1
        counts.reasons["null-key"] += 1
        raw = {k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)}
        line = quarantine_line(
            model.QuarantinedRow(
                entity=entity.name,
                provenance=model.Provenance(self.spec.name, entity.table, ""),
                reason_code="null-key",
                reason=f"the key column {entity.key} is empty",
                raw=raw,
            )
        )
        yield from self._add(f"raw/{entity.name}", line, groups)

    def _handle_row(
        self,
        entity: EntitySpec,
        mapper: EntityMapper,
        row: dict[str, Any],
        counts: EntityReconciliation,
        quarantined_keys: set[str],
        groups: set[str],
    ) -> Iterator[bytes]:
        result = mapper.map_row(row)
        if isinstance(result, model.QuarantinedRow):
            yield from self._quarantine(result, counts, quarantined_keys, groups)
            return
        try:
            resources = fhir.to_fhir(result, institution=self.institution)
        except MappingError as exc:
            unmappable = model.QuarantinedRow(
                entity=entity.name, provenance=result.provenance, reason_code="unmappable", reason=str(exc),
                raw={k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)},
            )
            yield from self._quarantine(unmappable, counts, quarantined_keys, groups)
            return
        if isinstance(result, model.Attachment):
            yield from self._attachment_bytes(result, row, entity, mapper, counts, quarantined_keys, groups)
            if result.provenance.key in quarantined_keys:
                return
        for resource in resources:
            counts.statuses[fhir.status_label(resource)] += 1
            yield from self._add(f"fhir/{resource['resourceType']}", resource, groups)
        if fhir.status_kept_as_recorded(result):
            counts.statuses_kept_as_recorded += 1
        if isinstance(result, model.Patient):
            yield from self._add("report/roster", roster_line(result), groups)
        yield from self._add(f"report/lists/{entity.name}", list_line(result), groups)
        for observer in self.observers:
            observer.observe(result)
        counts.exported += 1

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


def roster_line(patient: model.Patient) -> dict[str, Any]:
    """A line of the patient roster (환자 명부). The RRN is masked: the Patient resource has it in full."""
    return {
        "id": patient.id,
        "chart_number": patient.chart_number,
        "name": patient.name,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "rrn_masked": model.mask_rrn(patient.rrn),
        "first_visit": patient.first_visit.isoformat() if patient.first_visit else None,
    }


def list_line(record: model.Record) -> dict[str, Any]:
    """A line of the per-type list (종류별 목록): which record, whose, when, what kind."""
    when = None
    for name in ("start", "recorded", "ordered", "performed", "observed", "issued", "service_date", "created",
                 "occurred", "effective", "valid_from", "started"):
        value = getattr(record, name, None)
        if value is not None:
            when = value.isoformat()
            break
    line: dict[str, Any] = {
        "id": record.id,
        "source_key": record.provenance.key,
        "retention": record.retention.slug,
        "date": when,
    }
    patient_id = getattr(record, "patient_id", None)
    if patient_id is not None:
        line["patient_id"] = patient_id
    kind = getattr(record, "kind", None)
    if kind is not None:
        line["kind"] = kind
    return line


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
]
