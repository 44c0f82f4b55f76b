"""``emr-export connector check``: what a contractor needs to finish a connector, in one run.

It lints the spec (it loads, its tables exist), runs the export as a dry run (the same counting,
mapping, references and FHIR as a real export; nothing is written) and reports:

- tables of the database no section reads and neither ``[skip]`` nor ``[carry]`` lists, with their row counts (a table
  only a join or look-up reads is listed apart: the export carries it verbatim, as its inventory says);
- columns of read tables that no field, key, look-up, expression or query uses, with their non-empty
  cell counts (carried raw by the export, but probably meant as data); and apart, columns of read tables that
  no section's query selects (carried raw beside the sections, in ``data/raw/unselected``);
- the reconciliation per section; orphans per reference with the share of the section's rows;
- field defects per column (the reason codes of quarantined rows, by the field that failed);
- FHIR validity (every resource checked against the FHIR R4 structure when ``fhir.resources`` is there);
- one sample chart, masked, as the founder would see it (name and RRN masked, no free text).

Counts and names only, except the masked sample chart (``--json`` leaves it out).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.authoring.attachment_paths import absolute_path_field, stored_prefix_hints
from emr_exporter.connectors.spec import ConnectorSpec, load_spec
from emr_exporter.errors import ConfigError, EmrExporterError
from emr_exporter.pipeline.export import (
    QUERY_NOT_READ_REASON,
    ExportRun,
    changed_in_queries,
    digest_stream,
    named_table_problems,
    queries_not_read,
    read_institution,
    row_totals,
    selected_columns,
    tables_in_sql,
)
from emr_exporter.pipeline.merges import MERGE_REASONS
from emr_exporter.sources.address import SourceAddress, unattached_database_hints
from emr_exporter.sources.base import Source
from emr_exporter.sources.catalog import CatalogTable, list_tables, no_snapshot_warning

_FIELD_IN_REASON = re.compile(r"field '([a-z_]+)'")
#: The part of a record FHIR cannot hold, as pipeline.fhir._fail names it ("… key '661': measurements: …")
_UNMAPPABLE_PART = re.compile(r" key '.*?': ([a-z_]+): ")
#: Quarantine reasons about the row's key rather than a field (docs/connectors.md)
_KEY_REASONS = frozenset({"null-key", "ambiguous-key", "duplicate-id"})


@dataclass
class Defect:
    section: str
    field: str
    column: str
    reason_code: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Orphans:
    section: str
    field: str
    ref: str
    orphans: int
    rows: int

    @property
    def share(self) -> float:
        return self.orphans / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "share": round(self.share, 4)}


@dataclass
class CheckReport:
    connector: str
    source_label: str
    lint: list[str] = field(default_factory=list)
    unmapped_tables: list[tuple[str, int]] = field(default_factory=list)
    #: Tables no section has as its own that a join, look-up or [institution] reads: carried verbatim by the
    #: export as well (a join reaches only matching rows), so not unmapped: (table, rows, readers).
    joined_tables: list[tuple[str, int, list[str]]] = field(default_factory=list)
    #: ``[carry]``: tables no section reads, carried as they are on purpose (table, rows, the connector's reason).
    carried_tables: list[tuple[str, int, str]] = field(default_factory=list)
    empty_tables: list[str] = field(default_factory=list)  # not read, not skipped, but empty: nothing to lose
    unmapped_columns: list[tuple[str, str, int]] = field(default_factory=list)
    #: Columns of a read table that none of its sections' own queries selects (table, column, non-NULL cells): in
    #: no FHIR resource, carried raw by the export beside the sections (data/raw/unselected, the inventory's
    #: ``unselected_columns``), as unmapped columns are; probably meant as data all the same.
    unselected_columns: list[tuple[str, str, int]] = field(default_factory=list)
    #: Of those, the ones a query has a result column of the same name for that is not the stored value
    #: (``UPPER(name) AS name``): (table, column). Their stored values are carried raw all the same.
    changed_columns: list[tuple[str, str]] = field(default_factory=list)
    #: Sections whose own query's text is not read (table, section): every column of their table is carried beside
    #: them, the cells they map twice in the bag (export.QUERY_NOT_READ_REASON).
    queries_not_read: list[tuple[str, str]] = field(default_factory=list)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    orphans: list[Orphans] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)
    fhir_resources: Counter[str] = field(default_factory=Counter)
    fhir_problems: Counter[str] = field(default_factory=Counter)  # "Type: path: message" → count
    fhir_validated: bool = False
    sample_chart: list[str] = field(default_factory=list)
    #: The database's large objects (PostgreSQL), always carried verbatim: their inventory entry, or None.
    large_objects: dict[str, Any] | None = None
    #: What to do about quarantined rows the contractor can fix in connector.toml (stored_prefixes).
    hints: list[str] = field(default_factory=list)
    #: Merged charts (환자 통합) per patient section: {"replaced", "survivors", "chains", "defects": {code: n}}.
    merged_charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Status values no map or value-set code reads, each kept as recorded (the resource's unknown, or its usual
    #: status where it has none) and carried raw as ``status-unread``: (section, field, column, value, records).
    #: A value is shown only when it looks like a code (:func:`model.may_show`; free text mapped as a status is shown
    #: as its length), at most :data:`_VALUES_SHOWN` per field, the rest counted in one line.
    unread_statuses: list[tuple[str, str, str, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Finished: reconciles, nothing unmapped, valid FHIR (quarantined dirty rows are allowed; unmapped and
        unselected columns are carried raw and listed)."""
        return (bool(self.reconciliation.get("balanced")) and not self.unmapped_tables and not self.lint
                and not self.fhir_problems)

    @property
    def carried_sections(self) -> list[dict[str, Any]]:
        """The sections whose rows are carried whole with their reason (``carry = "…"``), from the reconciliation:
        section, table, rows, reason."""
        return [{"section": c["section"], "table": c["table"], "rows": c["carried"], "reason": c["reason"]}
                for c in self.reconciliation.get("carried_sections", [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "source": self.source_label,
            "ok": self.ok,
            "lint": self.lint,
            "unmapped_tables": [{"table": t, "rows": n} for t, n in self.unmapped_tables],
            "empty_tables": self.empty_tables,
            "joined_tables": [{"table": t, "rows": n, "read_by": r} for t, n, r in self.joined_tables],
            "carried_tables": [{"table": t, "rows": n, "reason": r} for t, n, r in self.carried_tables],
            **({"carried_sections": self.carried_sections} if self.carried_sections else {}),
            "unmapped_columns": [{"table": t, "column": c, "cells": n} for t, c, n in self.unmapped_columns],
            "unselected_columns": [{"table": t, "column": c, "cells": n} for t, c, n in self.unselected_columns],
            "changed_columns": [{"table": t, "column": c} for t, c in self.changed_columns],
            **({"queries_not_read": [{"table": t, "section": n, "reason": QUERY_NOT_READ_REASON}
                                     for t, n in self.queries_not_read]} if self.queries_not_read else {}),
            **({} if self.large_objects is None else {"large_objects": {
                k: self.large_objects[k] for k in ("rows", "referenced_by", "unreferenced", "files")
                if k in self.large_objects}}),
            "reconciliation": self.reconciliation,
            "orphans": [o.to_dict() for o in self.orphans],
            "defects": [d.to_dict() for d in self.defects],
            "hints": self.hints,
            **({"unread_statuses": [{"section": s, "field": f, "column": c, "value": v, "records": n}
                                    for s, f, c, v, n in self.unread_statuses]} if self.unread_statuses else {}),
            **({"merged_charts": [{"section": name, **found} for name, found in sorted(self.merged_charts.items())]}
               if self.merged_charts else {}),
            "fhir": {
                "validated": self.fhir_validated,
                "resources": dict(sorted(self.fhir_resources.items())),
                "problems": dict(sorted(self.fhir_problems.items())),
            },
        }

    def text(self) -> str:
        """The report for a terminal."""
        out = [f"connector check: {self.connector} on {self.source_label}", ""]
        out.append("Spec: " + ("loads; " + "; ".join(self.lint) if self.lint else "loads, every table it names exists"))
        out += ["", "Unmapped tables (nothing reads them and [skip] and [carry] do not list them):"]
        out += [f"  {t:<28}{n:>10} rows" for t, n in self.unmapped_tables] or ["  none"]
        if self.empty_tables:
            out.append(f"  ({len(self.empty_tables)} more are empty: {', '.join(self.empty_tables)})")
        if self.carried_tables:
            out += ["", "Tables carried as they are, on purpose ([carry]):"]
            out += [f"  {t:<28}{n:>10} rows  {r}" for t, n, r in self.carried_tables]
        if self.carried_sections:
            out += ["", "Rows carried whole by a section, on purpose (carry = ...; no record, none quarantined):"]
            out += [f"  {c['section']:<28}{c['rows']:>10} rows of {c['table']}  {c['reason']}"
                    for c in self.carried_sections]
        if self.joined_tables:
            out += ["", "Tables read through a join or look-up only (carried verbatim as well):"]
            out += [f"  {t:<28}{n:>10} rows  read by {', '.join(r)}" for t, n, r in self.joined_tables]
        if self.large_objects is not None:
            lo = self.large_objects
            refs = ", ".join(lo["referenced_by"]) or "no column"
            orphans = f"; {lo['unreferenced']} referenced by none" if "unreferenced" in lo else ""
            out += ["", f"Large objects (files the database keeps apart from its tables): {lo['rows']}, carried "
                        f"verbatim ({lo['files']}); referenced by {refs}{orphans}"]
        out += ["", "Unmapped columns of read tables (carried raw; map them or accept them):"]
        out += [f"  {t + '.' + c:<40}{n:>10} non-NULL cells" for t, c, n in self.unmapped_columns] or ["  none"]
        if self.unselected_columns:
            out += ["", "Columns no query of their table selects (carried raw beside the sections in "
                        "data/raw/unselected, not in FHIR; to map them, select them in the section's query, e.g. "
                        "SELECT T.*, …):"]
            out += [f"  {t + '.' + c:<40}{n:>10} non-NULL cells" for t, c, n in self.unselected_columns]
            if self.changed_columns:
                out.append("  of them, a query's result column of the same name holds something else (an expression, "
                           "another column or a constant), so the stored values are carried too: "
                           + ", ".join(f"{t}.{c}" for t, c in self.changed_columns))
            for t, n in self.queries_not_read:
                out.append(f"  [entities.{n}]'s query over {t} is not read here, so every column of {t} is carried "
                           f"and the cells it maps are in the bag twice: {QUERY_NOT_READ_REASON.split(': ', 1)[0]}. "
                           "Write it as a plain SELECT … FROM the table (a WITH over it, or a UNION ALL of arms with "
                           "the same select list, is read) to have each cell once")
        out += ["", "Reconciliation (source rows = exported + quarantined):"]
        out.append(f"  {'section':<20}{'table':<22}{'source':>8}{'exported':>10}{'quarantined':>13}")
        for e in self.reconciliation.get("entities", []):
            out.append(f"  {e['entity']:<20}{e['table']:<22}{e['source_rows']:>8}{e['exported']:>10}"
                       f"{e['quarantined']:>13}")
        if self.reconciliation.get("totals"):  # every row: the carried tables' and sections' too
            rows = row_totals(self.reconciliation)
            out.append(f"  {rows['source_rows']} source rows: {rows['exported']} exported, {rows['carried']} carried "
                       f"whole, {rows['quarantined']} quarantined")
        out.append("  balanced" if self.reconciliation.get("balanced") else "  NOT BALANCED")
        out += ["", "Orphans per reference:"]
        out += [f"  {o.section}.{o.field} → {o.ref}: {o.orphans} of {o.rows} rows ({100 * o.share:.2f} %)"
                for o in self.orphans] or ["  none"]
        out += ["", "Field defects per column (rows quarantined by the field that failed):"]
        out += [f"  {d.section}.{d.field}{f' ({d.column})' if d.column else ''}: {d.reason_code} {d.rows}"
                for d in self.defects] or ["  none"]
        out += [f"  hint: {h}" for h in self.hints]
        if self.unread_statuses:
            out += ["", "Status values not read (each record kept with its status unknown, or the usual one where "
                        "the resource has no unknown; the value carried raw as status-unread: add it to the map):"]
            out += [f"  {s}.{f}{f' ({c})' if c else ''}: {v} {n}" for s, f, c, v, n in self.unread_statuses]
        for name, found in sorted(self.merged_charts.items()):
            out += ["", f"Merged charts (환자 통합) of {name} (its merged_into):",
                    f"  {found['replaced']} charts exported replaced-by the chart they were merged into (active "
                    f"false); {found['survivors']} surviving charts link back (replaces). Their own records keep "
                    "pointing at them, as recorded."]
            if found.get("chains"):
                out += [f"  {found['chains']} of them merged into a chart that was itself merged on (A into B into "
                        "C): linked as recorded, A replaced-by B, B replaced-by C (no defect)."]
            out += [f"  {code} {n}: {MERGE_REASONS.get(code, '')}" for code, n in found["defects"].items()]
        total = sum(self.fhir_resources.values())
        out += ["", f"FHIR: {total} resources ("
                + ", ".join(f"{k} {v}" for k, v in sorted(self.fhir_resources.items())) + ")"]
        if not self.fhir_validated:
            out.append("  structure not checked: install emr-exporter[verify] (fhir.resources)")
        elif self.fhir_problems:
            out += [f"  INVALID {n}× {p}" for p, n in sorted(self.fhir_problems.items())]
        else:
            out.append("  every resource valid against the FHIR R4 structure")
        out += ["", "Sample chart (masked, as the founder sees it):"]
        out += [f"  {line}" for line in self.sample_chart] or ["  no patient exported"]
        out += ["", "Result: " + ("finished" if self.ok else "not finished (see above)")]
        return "\n".join(out) + "\n"


class _SampleChart:
    """Counts the first exported patient's records (bounded state: one patient id and counters)."""

    def __init__(self) -> None:
        self.patient: model.Patient | None = None
        self.counts: Counter[str] = Counter()
        self.first: dt.date | None = None
        self.last: dt.date | None = None
        self.codes: list[str] = []

    def observe(self, record: model.Record) -> None:
        if self.patient is None:
            if isinstance(record, model.Patient):
                self.patient = record
            return
        if getattr(record, "patient_id", None) != self.patient.id:
            return
        self.counts[type(record).__name__] += 1
        if isinstance(record, model.Encounter):
            day = record.start.date() if isinstance(record.start, dt.datetime) else record.start
            self.first = day if self.first is None or day < self.first else self.first
            self.last = day if self.last is None or day > self.last else self.last
        if (isinstance(record, model.Diagnosis) and record.code is not None and len(self.codes) < 5
                and record.code not in self.codes):  # a diagnosis written only as text has no code to show
            self.codes.append(record.code)

    def report_members(self) -> list[tuple[str, bytes]]:
        return []

    def lines(self) -> list[str]:
        p = self.patient
        if p is None:
            return []
        chart = p.chart_number
        masked_chart = chart[: max(1, len(chart) - 3)] + "***" if len(chart) > 3 else "***"
        birth = f"{p.birth_date.year}년생" if p.birth_date else "생년 미상"
        sex = {"male": "남", "female": "여"}.get(p.sex or "", "성별 미상")
        lines = [
            f"환자 {model.mask_name(p.name)} (차트번호 {masked_chart}), {sex}, {birth}, "
            f"주민등록번호 {model.mask_rrn(p.rrn) or '없음'}",
            f"내원 {self.counts['Encounter']}회"
            + (f" ({self.first.isoformat()} ~ {self.last.isoformat()})" if self.first and self.last else ""),
            "상병 " + (", ".join(self.codes) if self.codes else "없음"),
        ]
        others = {k: v for k, v in sorted(self.counts.items()) if k not in ("Encounter",)}
        if others:
            lines.append("기록 " + ", ".join(f"{k} {v}" for k, v in others.items()))
        return lines


class _CheckingRun(ExportRun):
    """The export's own run with the FHIR structure checked too (the export's output check, as ``open``
    runs it), also counting quarantined rows per field and the resources that broke a FHIR rule."""

    warn_unknown_tables = False  # in the check's lint instead

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.failed_fields: Counter[tuple[str, str, str]] = Counter()  # (section, field, reason code)
        self.absolute_paths: Counter[str] = Counter()  # "section.field (COLUMN)" → rows refused, path absolute
        self.resources: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()

    def _quarantine(
        self, row: model.QuarantinedRow, counts: Any, keys: set[str], groups: set[str], **kwargs: Any
    ) -> Iterator[bytes]:
        found = _FIELD_IN_REASON.search(row.reason) or (
            _UNMAPPABLE_PART.search(row.reason) if row.reason_code == "unmappable" else None)
        self.failed_fields[(row.entity, found.group(1) if found else "", row.reason_code)] += 1
        absolute = absolute_path_field(self.spec, row)
        if absolute is not None:
            self.absolute_paths[absolute] += 1
        yield from super()._quarantine(row, counts, keys, groups, **kwargs)

    def _quarantine_null_key(self, entity: Any, row: dict[str, Any], counts: Any, groups: set[str]) -> Iterator[bytes]:
        # rows without a key are quarantined apart from the others: counted here too
        self.failed_fields[(entity.name, "", "null-key")] += 1
        yield from super()._quarantine_null_key(entity, row, counts, groups)

    def _invalid_output(
        self, entity: Any, record: model.Record, row: Mapping[str, Any], resource: Mapping[str, Any], problem: str
    ) -> model.QuarantinedRow:
        self.problems[f"{resource['resourceType']}: {problem}"] += 1
        return super()._invalid_output(entity, record, row, resource, problem)

    def _add_resource(self, resource_type: str, line: bytes, groups: set[str]) -> Iterator[bytes]:
        self.resources[resource_type] += 1  # every written resource passes here (one core or workers)
        return super()._add_resource(resource_type, line, groups)


def _tables(source: Source, listed: list[CatalogTable]) -> tuple[dict[str, tuple[str, list[str]]], dict[str, str]]:
    """Of the catalogue ``listed``, every table (not view, not partition): its name as the inventory has it → (its
    name as a FROM reads its own rows, its columns); and every partition (PostgreSQL) → the partitioned table
    whose rows hold its own."""
    from emr_exporter.authoring.scaffold import _quote, _table_profiles

    return ({t.name: (t.only + _quote(source, t.parts), [c.name for c in t.columns]) for t in _table_profiles(listed)},
            {t.name.lower(): t.part_of for t in listed if t.kind == "partition"})


def _sql_words(spec: ConnectorSpec) -> set[str]:
    """Every identifier the connector's SQL (queries, expressions, look-ups, [institution]) and hooks.py name."""
    texts: list[str] = [spec.institution_query or ""]
    for entity in spec.entities.values():
        texts.append(entity.query or "")
        for f in entity.fields.values():
            if f.expr:
                texts.extend(f.expr.values())
            if f.lookup is not None:
                texts += [f.lookup.table, f.lookup.key, f.lookup.value, f.lookup.where or ""]
    hooks = spec.path / "hooks.py"
    if hooks.is_file():  # columns a hook reads (row["org_rec_no"]) count as used
        texts.append(hooks.read_text(encoding="utf-8", errors="replace"))
    # A quoted column renamed to its own lower-case name ("FamilyName" AS familyname: the scaffold's query on a
    # PostgreSQL table created with capitals) only makes it nameable: it is used where the field names it.
    texts = [_SAME_NAME_ALIAS.sub(lambda m: "" if m[1].lower() == m[2].lower() else m[0], t) for t in texts]
    return {w.lower() for text in texts for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}


_SAME_NAME_ALIAS = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)', re.IGNORECASE)


def _used_columns(spec: ConnectorSpec, table: str, words: set[str]) -> set[str]:
    used: set[str] = set(words)
    for entity in spec.entities.values():
        if entity.table.lower() != table.lower():
            continue
        used.update(c.lower() for c in entity.key_columns)
        for f in entity.fields.values():
            if f.column:
                used.add(f.column.lower())
            used.update(c.lower() for c in f.columns)
    return used


def _json_functions_missing(spec: ConnectorSpec, source: Source) -> None:
    """Stop, in plain words, before the dry run where a section reads JSON with a function this MariaDB/MySQL server
    has not (a connector scaffolded against a newer server; the dry run stopped with the server's syntax error):
    ``JSON_TABLE`` (MariaDB 10.6, MySQL 8.0.21), any JSON function (MariaDB 10.2.3, MySQL 5.7.8), or one of the
    later ones (drivers.JSON_FUNCTIONS_FROM: ``JSON_VALUE``, MySQL 8.0.21)."""
    from emr_exporter.sources.drivers import JSON_TABLE, json_array_reading, json_functions_lacking, server_version

    if source.engine not in ("mariadb", "mysql"):
        return
    version = server_version(source)
    reading = json_array_reading(version)
    said: list[str] = []  # one line per section, its first missing function
    for name, entity in spec.entities.items():
        exprs = [f.expr.get(source.engine, f.expr.get("default", "")) for f in entity.fields.values() if f.expr]
        sql = " ".join([entity.query or "", *exprs]).upper()
        if reading is None and "JSON_" in sql:
            said.append(
                f"[entities.{name}] reads JSON documents with JSON functions, which this server ({version}) does not "
                "have (MariaDB 10.2.3 and MySQL 5.7.8 have them): leave out the section or the fields that read "
                "them, and the documents are carried whole as written.")
        elif reading != JSON_TABLE and "JSON_TABLE(" in sql:
            said.append(
                f"[entities.{name}] reads a JSON array with JSON_TABLE, which this server ({version}) does not have "
                "(MariaDB 10.6 and MySQL 8.0.21 have it): write the scaffold again against this server, which then "
                "reads each element of the array at its position.")
        elif lacking := json_functions_lacking(version, sql):
            function, have = lacking[0]
            again = ("write the scaffold again against this server, which then reads each value with JSON_EXTRACT "
                     "and JSON_UNQUOTE." if function == "JSON_VALUE" else
                     "write those fields' expr or the section's query with functions this server has.")
            said.append(f"[entities.{name}] reads JSON with {function}, which this server ({version}) does not have "
                        f"({have} {'have' if ' and ' in have else 'has'} it): {again}")
    if said:
        raise ConfigError("\n".join(said))


def check_connector(
    folder: Path,
    address: SourceAddress,
    *,
    attachments_root: Path | None = None,
    institution: Mapping[str, str | None] | None = None,
    page_size: int = 1000,
) -> CheckReport:
    """Lint, scan and dry-run the connector in ``folder`` against a database (see the module docstring)."""
    spec = load_spec(Path(folder), origin=f"folder {folder}")
    source = address.open_for(spec, snapshot=True)
    try:
        report = CheckReport(connector=spec.name, source_label=source.label)
        listed = list_tables(source)
        tables, partitions = _tables(source, listed)
        by_lower = {t.lower(): t for t in tables}
        own = {e.table for e in spec.entities.values()}
        for table in sorted(own | set(spec.detect_tables)):
            part_of = partitions.get(table.lower())
            if part_of is not None and table in own:
                report.lint.append(f"table {table} is a partition of {part_of}, whose rows hold its own: name "
                                   f"{part_of} instead")
            elif table.lower() not in by_lower and part_of is None:
                report.lint.append(f"table {table} does not exist in this database")
        # [skip] and [carry]: a name the export refuses, or that is no table or view here (skips or carries nothing)
        refused, unknown = named_table_problems(spec, listed)
        report.lint += [message for _, _, message in refused] + unknown
        if refused:  # the dry run below as the export runs once they are removed (it refuses them)
            spec = dataclasses.replace(
                spec, skip={k: v for k, v in spec.skip.items() if ("skip", k) not in {r[:2] for r in refused}},
                carry={k: v for k, v in spec.carry.items() if ("carry", k) not in {r[:2] for r in refused}})
        _json_functions_missing(spec, source)
        from emr_exporter.sources.drivers import caps_for

        quote = caps_for(source.engine).quote  # catalogue names as stored: `keys` is a reserved word
        words = _sql_words(spec)
        # Read: a section's own table. A table only a join or look-up reads (ADM_INFO beside VISIT) is
        # carried verbatim by the export, as the inventory says (pipeline/export.py, tables_in_sql).
        read = {e.table.lower() for e in spec.entities.values()}
        joined = tables_in_sql(spec)
        skipped = {t.lower() for t in spec.skip}
        carried = {t.lower(): reason for t, reason in spec.carry.items()}
        read_tables: list[tuple[str, str]] = []
        for lower, table in sorted(by_lower.items()):
            if lower in skipped:
                continue  # the connector says why it does not read this table
            if lower in carried:  # nor this one: carried as it is, and why
                rows = int(source.scalar(f"SELECT COUNT(*) FROM {tables[table][0]}") or 0)
                report.carried_tables.append((table, rows, carried[lower]))
                continue
            if lower in joined and lower not in read:
                rows = int(source.scalar(f"SELECT COUNT(*) FROM {tables[table][0]}") or 0)
                report.joined_tables.append((table, rows, joined[lower]))
            elif lower in read:
                read_tables.append((lower, table))  # its columns: after the dry run, which says which it carries
            else:
                rows = int(source.scalar(f"SELECT COUNT(*) FROM {tables[table][0]}") or 0)
                if rows:
                    report.unmapped_tables.append((table, rows))
                else:
                    report.empty_tables.append(table)
        if attachments_root is None:
            attachments_root = address.attachments_root_for(spec)
        overrides = dict(institution or {})
        try:
            clinic = read_institution(spec, source, overrides)
        except EmrExporterError:
            # The check does not need the real clinic: a placeholder keeps the dry run going.
            report.lint.append("the clinic's code and name are not found by [institution]: give --institution-code "
                               "and --institution-name (to this check and to the export), or an [institution] "
                               "query")
            clinic = model.Institution(code="00000000", name="connector check")
        sample = _SampleChart()
        run = _CheckingRun(
            spec, source, institution=clinic, created=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            attachments_root=attachments_root, page_size=page_size, observers=[sample], validate_structure=True,
        )
        report.fhir_validated = run.output_check.validator is not None
        digest_stream(run.stream())
        report.reconciliation = run.reconciliation.to_dict()
        for lower, table in read_tables:
            used = _used_columns(spec, table, words)
            sections = [e for e in spec.entities.values() if e.table.lower() == lower]
            # the columns the export carries beside the sections (the same truth: selected_columns)
            given = run.selected[lower] if lower in run.selected else selected_columns(
                source, sections, tables[table][1])
            named = changed_in_queries(source, sections, tables[table][1]) if given is not None else set()
            if given is not None:
                report.queries_not_read += [(table, n) for n in queries_not_read(
                    source, [e for e in sections if e.carry is None], tables[table][1], run.rereads)]
            for column in tables[table][1]:
                if given is not None and column.lower() not in given:
                    cells = int(source.scalar(f"SELECT COUNT({quote(column)}) FROM {tables[table][0]}") or 0)
                    if cells:
                        report.unselected_columns.append((table, column, cells))
                        if column.lower() in named:
                            report.changed_columns.append((table, column))
                elif column.lower() not in used:
                    cells = int(source.scalar(f"SELECT COUNT({quote(column)}) FROM {tables[table][0]}") or 0)
                    if cells:
                        report.unmapped_columns.append((table, column, cells))
        # Tables the export carries that the listing above does not know (a table in another schema,
        # "audit.log"; one whose name differs from a read table's only by case): unmapped all the same.
        known = {t.lower() for t, _ in report.unmapped_tables} | {t.lower() for t in report.empty_tables}
        known |= {t.lower() for t, _, _ in report.joined_tables} | set(skipped) | set(carried)
        for entry in run.reconciliation.inventory:
            if entry["kind"] == "large-objects":  # no table to map or skip: always carried, said apart
                report.large_objects = entry
            elif entry["fate"] == "carried" and entry["name"].lower() not in known:
                if entry["rows"]:
                    report.unmapped_tables.append((entry["name"], int(entry["rows"])))
                else:
                    report.empty_tables.append(entry["name"])
        report.fhir_resources = run.resources
        report.merged_charts = dict(run.merged_charts)
        report.unread_statuses = _unread_statuses(spec, run.unread_statuses)
        report.fhir_problems = run.problems
        report.sample_chart = sample.lines()
        report.hints = stored_prefix_hints(run.absolute_paths)
        database = address.database_file
        if database is not None:
            report.hints += unattached_database_hints(database, [file for _, file in spec.attach])
        if run.no_snapshot:  # MariaDB MyISAM/Aria tables: no snapshot holds them still while the export reads
            report.hints.append(no_snapshot_warning(run.no_snapshot))
        entity_rows = {e.entity: e.source_rows for e in run.reconciliation.entities}
        for (section, field_name, reason), n in sorted(run.failed_fields.items()):
            entity = spec.entities[section]
            fld = entity.fields.get(field_name)
            column = ""
            if fld is not None:
                column = fld.column or "+".join(fld.columns) or ("expr" if fld.expr else "")
            elif not field_name and reason in _KEY_REASONS:  # the row's key itself: name its column(s)
                field_name, column = "(key)", "+".join(entity.key_columns)
            if reason == "orphan" and fld is not None and fld.ref:
                ref = fld.ref + (f".{fld.ref_field}" if fld.ref_field else "")
                report.orphans.append(Orphans(section, field_name, ref, n, entity_rows.get(section, 0)))
            else:
                report.defects.append(Defect(section, field_name or "(row)", column, reason, n))
        return report
    finally:
        source.close()


#: How many values per field the check shows (the others counted in one line).
_VALUES_SHOWN = 10


def _unread_statuses(spec: ConnectorSpec, found: Counter[tuple[str, str]]) -> list[tuple[str, str, str, str, int]]:
    """The check's lines of status values not read: per section, its most frequent values first (then the codes
    before the texts not shown, each by what is shown), as :func:`model.shown_value` prints them; past
    :data:`_VALUES_SHOWN` values, one line of the rest."""
    out: list[tuple[str, str, str, str, int]] = []
    for section in sorted({s for s, _ in found}):
        entity = spec.entities[section]
        fld = next((f for f in entity.fields.values() if f.type == "status"), None)
        name = fld.name if fld is not None else "status"
        column = (fld.column or "+".join(fld.columns) or ("expr" if fld.expr else "")) if fld is not None else ""
        values = sorted(((n, model.shown_value(v), v) for (s, v), n in found.items() if s == section),
                        key=lambda nsv: (-nsv[0], nsv[1], nsv[2]))
        for n, shown, _ in values[:_VALUES_SHOWN]:
            out.append((section, name, column, shown, n))
        rest = values[_VALUES_SHOWN:]
        if rest:
            out.append((section, name, column, f"({len(rest)} more values)", sum(n for n, _, _ in rest)))
    return out


def assert_connector_finished(
    folder: Path, *, allowed_reasons: Iterable[str] | None = None, database: Path | None = None,
    odbc: str | None = None, dsn: str | None = None, password: str | None = None,
) -> CheckReport:
    """For a connector package's own tests: the check passes (reconciles, no unmapped table, valid FHIR),
    and every quarantine reason is one of ``allowed_reasons`` (None: any). Raises AssertionError with the
    report's text otherwise. The database is given by keywords (a third-party package's tests need no import
    of ours beyond the ``connector_check`` fixture); they become one :class:`SourceAddress` at once."""
    report = check_connector(folder, SourceAddress(database=database, odbc=odbc, dsn=dsn, password=password))
    problems: list[str] = []
    if not report.ok:
        problems.append("the connector check is not finished")
    if allowed_reasons is not None:
        allowed = set(allowed_reasons)
        seen = {d.reason_code for d in report.defects} | ({"orphan"} if report.orphans else set())
        if seen - allowed:
            problems.append(f"unexpected quarantine reasons: {', '.join(sorted(seen - allowed))}")
    if problems:
        raise AssertionError("; ".join(problems) + "\n" + report.text())
    return report
