"""Look before exporting: which EMR is on this PC, and what an export of it will find.

:func:`detect_connectors` tries every installed connector's fingerprint (``[detect].tables`` and
``version_query``) against a database. :func:`search_this_pc` first looks for databases where the
connectors say their EMR keeps one (``[detect].files`` and ``dsn_names``), then scores each.
:func:`scan` runs the connector's row mapper over every row — exactly as the export will, with the
same counts, LEFT JOIN orphan checks and duplicate checks — but builds no FHIR and no bag, so the
founder sees counts, the date range and which rows will be quarantined and why before anything is
written.

Used by the wizard's EMR and Scan pages and by the CLI. Nothing here prints, logs or imports Qt.
A :class:`ScanReport` shows one sample patient (RRN masked) on screen; it is never written to disk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import itertools
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.authoring.attachment_paths import absolute_path_field, stored_prefix_hints
from emr_exporter.connectors import ConnectorSpec, list_connectors
from emr_exporter.errors import ConnectorSpecError, ExportCancelled, SourceError
from emr_exporter.pipeline.export import ExportRun, ProgressEvent, digest_stream, row_totals
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import DEFAULT_PAGE_SIZE, Source, watch_cancel

ProgressCallback = Callable[[ProgressEvent], None]

#: Row keys kept per entity as examples of quarantined rows (keys only: no values, no patient data).
EXAMPLE_KEYS = 5


# ----------------------------------------------------------------------------------------- detection


@dataclass(frozen=True, slots=True)
class Detection:
    """How well one installed connector matches a database."""

    connector: str
    product: str
    confidence: float  # 0..1: the share of the connector's fingerprint tables present
    version: str | None  # the EMR schema version reported by the database, if the connector can ask
    tables_found: int
    tables_expected: int
    engine_supported: bool

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)


def detect_in_source(source: Source, specs: Iterable[ConnectorSpec]) -> list[Detection]:
    """Score every connector against an open source; best first, non-matching ones (0%) dropped."""
    found: list[Detection] = []
    for spec in specs:
        expected = spec.detect_tables or tuple(sorted({e.table for e in spec.entities.values()}))
        present = sum(1 for table in expected if source.table_exists(table))
        if not expected or present == 0:
            continue
        engine_supported = not spec.engines or source.engine in spec.engines
        confidence = present / len(expected)
        if not engine_supported:
            confidence *= 0.5  # right tables on an engine the connector was never written for
        version = None
        if spec.version_query and present == len(expected):
            try:
                value = source.scalar(spec.version_query)
            except SourceError:
                value = None
            if value is not None:
                version = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
        found.append(
            Detection(
                connector=spec.name, product=spec.product or spec.name, confidence=confidence,
                version=version, tables_found=present, tables_expected=len(expected),
                engine_supported=engine_supported,
            )
        )
    return sorted(found, key=lambda d: (-d.confidence, d.connector))


def detect_connectors(address: SourceAddress, connectors_dirs: Iterable[Path] = (), *,
                      cancel: threading.Event | None = None) -> list[Detection]:
    """Open the database at ``address`` and score every connector (``cancel``: Stop, watched from the connect on).

    Broken connectors are skipped here (``emr-export connectors`` lists their errors).
    """
    specs = [s for s in list_connectors(tuple(connectors_dirs)) if not isinstance(s, ConnectorSpecError)]
    source = address.open(cancel=cancel)
    watch_cancel(source, cancel)
    try:
        return detect_in_source(source, specs)
    finally:
        source.close()


# ------------------------------------------------------------------------------- search on this PC

#: Most files one ``[detect].files`` pattern may yield: a pattern matching more is a mistake, not an EMR.
MAX_MATCHES_PER_PATTERN = 20
#: How sure a file or data source is on its name or place alone, before it is opened: a hint, not proof.
NAME_MATCH_CONFIDENCE = 0.3
#: Seconds to wait for a data source's server while searching: a switched-off server must not stall the wizard.
DSN_TIMEOUT = 5

#: What a scan stopped by the founder says (Stop, Back, closing the window), connecting or reading.
SCAN_CANCELLED_MESSAGE = "The scan was cancelled. Nothing was written."

# Candidate states.
FOUND = "found"  # matched by place or name, not opened yet
RECOGNISED = "recognised"  # opened; the connector's fingerprint tables are there
NOT_RECOGNISED = "not-recognised"  # opened; the connector's tables are not there
NEEDS_PASSWORD = "needs-password"  # a data source that asks for a password; confidence from its name only
UNAVAILABLE = "unavailable"  # could not be opened (locked, not a database, server switched off)

#: Placeholder → environment variables tried in order (Windows names; ``Home`` falls back to the profile).
_PLACEHOLDER_VARIABLES: dict[str, tuple[str, ...]] = {
    "ProgramData": ("PROGRAMDATA",),
    "ProgramFiles": ("PROGRAMFILES",),
    "ProgramFiles(x86)": ("PROGRAMFILES(X86)",),
    "UserProfile": ("USERPROFILE",),
    "Home": ("HOME", "USERPROFILE"),
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place on this PC where an installed connector's EMR database may be. Holds no patient data."""

    connector: str
    product: str
    kind: str  # "file" or "dsn"
    where: str  # the file's path or the data source's name
    confidence: float  # 0..1
    reason: str  # why, in words a founder understands
    status: str = FOUND
    version: str | None = None

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)

    @property
    def needs_password(self) -> bool:
        return self.status == NEEDS_PASSWORD

    def address(self) -> SourceAddress:
        """Where it is (without a password)."""
        return SourceAddress(database=Path(self.where)) if self.kind == "file" else SourceAddress(dsn=self.where)

    def to_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector, "product": self.product, "kind": self.kind, "where": self.where,
            "confidence": round(self.confidence, 3), "status": self.status, "version": self.version,
            "reason": self.reason,
        }


def expand_file_pattern(pattern: str, env: Mapping[str, str] = os.environ) -> str | None:
    """``{ProgramData}/Vendor/*.db`` → a glob pattern; None when a placeholder's variable is not set here.

    Environment names are compared without case (Windows keeps them so). The variable's value is escaped,
    so a folder such as ``C:\\Program Files (x86)`` or ``[clinic]`` is taken literally.
    """
    upper = {k.upper(): v for k, v in env.items()}
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        for variable in _PLACEHOLDER_VARIABLES.get(match.group(1), ()):
            value = upper.get(variable)
            if value:
                return glob.escape(value)
        missing = True
        return ""

    expanded = re.sub(r"\{([^{}]*)\}", replace, pattern)
    return None if missing else expanded


def _matching_files(pattern: str, env: Mapping[str, str]) -> list[Path]:
    expanded = expand_file_pattern(pattern, env)
    if expanded is None:
        return []
    # iglob walks only the folders the pattern names ('**' is refused by the spec), and stops early.
    matches = itertools.islice(glob.iglob(expanded), MAX_MATCHES_PER_PATTERN)
    return sorted(Path(m) for m in matches if os.path.isfile(m))


def _data_sources() -> dict[str, str]:
    """The ODBC data sources configured on this PC; none when there is no ODBC driver manager."""
    try:
        import pyodbc
    except ImportError:
        return {}
    try:
        return dict(pyodbc.dataSources())
    except pyodbc.Error:
        return {}


def _usable_specs(connectors_dirs: Iterable[Path]) -> list[ConnectorSpec]:
    return [s for s in list_connectors(tuple(connectors_dirs)) if isinstance(s, ConnectorSpec)]


def find_candidates(
    connectors_dirs: Iterable[Path] = (), env: Mapping[str, str] = os.environ
) -> list[Candidate]:
    """Files at the places each installed connector declares and data sources named as it declares.

    Nothing is opened here: every candidate has status ``found`` and the name-match confidence.
    """
    found: dict[tuple[str, str, str], Candidate] = {}
    sources: dict[str, str] | None = None
    for spec in _usable_specs(connectors_dirs):
        product = spec.product or spec.name
        for pattern in spec.detect_files:
            for path in _matching_files(pattern, env):
                found.setdefault((spec.name, "file", str(path)), Candidate(
                    spec.name, product, "file", str(path), NAME_MATCH_CONFIDENCE,
                    f"the file is where {product} keeps its database",
                ))
        if spec.detect_dsn_names:
            sources = _data_sources() if sources is None else sources
            for name in sorted(sources):
                if any(re.fullmatch(p, name) for p in spec.detect_dsn_names):
                    found.setdefault((spec.name, "dsn", name), Candidate(
                        spec.name, product, "dsn", name, NAME_MATCH_CONFIDENCE,
                        f"the ODBC data source's name is one {product} uses",
                    ))
    return list(found.values())


def _open_candidate(kind: str, where: str, cancel: threading.Event | None = None,
                    ) -> tuple[Source | None, str | None, str]:
    """Open a place without a password: (source, None, "") or (None, status, reason). ExportCancelled once
    ``cancel`` is set, connecting included."""
    if kind == "dsn":
        from emr_exporter.sources.connect import LOGIN_FAILED
        from emr_exporter.sources.doctor import check_connection

        report = check_connection(f"DSN={where}", timeout=DSN_TIMEOUT, cancel=cancel)
        if not report.ok:
            problem = report.problem or {}
            if problem.get("kind") == LOGIN_FAILED:
                return None, NEEDS_PASSWORD, "the data source needs a password: type it and press Test connection"
            return None, UNAVAILABLE, f"cannot connect: {problem.get('hint', 'unknown problem')}"
    try:
        address = SourceAddress(database=Path(where)) if kind == "file" else SourceAddress(dsn=where)
        source = address.open(cancel=cancel)
    except SourceError as exc:
        return None, UNAVAILABLE, f"cannot be opened: {exc}"
    return source, None, ""


def detect_candidates(
    candidates: Iterable[Candidate],
    connectors_dirs: Iterable[Path] = (),
    cancel: threading.Event | None = None,
) -> list[Candidate]:
    """Open each candidate place (read-only, no password) and score every connector there; best first.

    A place that cannot be opened keeps its name-match confidence (halved when it is unavailable, as a
    data source whose server is off is less likely the EMR in use). Stops early when ``cancel`` is set.
    """
    specs = _usable_specs(connectors_dirs)
    places: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in candidates:
        places.setdefault((candidate.kind, candidate.where), []).append(candidate)
    result: list[Candidate] = []
    for (kind, where), named in places.items():
        if cancel is not None and cancel.is_set():
            break
        try:
            source, status, reason = _open_candidate(kind, where, cancel)
        except ExportCancelled:  # stopped while connecting: the search ends as it would between places
            break
        if source is None:
            factor = 1.0 if status == NEEDS_PASSWORD else 0.5
            result.extend(dataclasses.replace(c, status=status or UNAVAILABLE, reason=reason,
                                              confidence=c.confidence * factor) for c in named)
            continue
        try:
            detections = detect_in_source(source, specs)
        except SourceError as exc:
            detections = []
            result.extend(dataclasses.replace(c, status=UNAVAILABLE, confidence=c.confidence * 0.5,
                                              reason=f"cannot be read: {exc}") for c in named)
            named = []
        finally:
            source.close()
        declared = {c.connector: c for c in named}
        for detection in detections:
            place = f"; {declared[detection.connector].reason}" if detection.connector in declared else ""
            result.append(Candidate(
                detection.connector, detection.product, kind, where, detection.confidence,
                f"{detection.tables_found} of {detection.tables_expected} fingerprint tables found{place}",
                RECOGNISED, detection.version,
            ))
        recognised = {d.connector for d in detections}
        result.extend(dataclasses.replace(c, status=NOT_RECOGNISED, confidence=0.0,
                                          reason=f"opened, but the {c.product} tables are not there")
                      for c in named if c.connector not in recognised)
    order = {RECOGNISED: 0, NEEDS_PASSWORD: 1, UNAVAILABLE: 2, FOUND: 3, NOT_RECOGNISED: 4}
    return sorted(result, key=lambda c: (-c.confidence, order.get(c.status, 9), c.connector, c.where))


def search_this_pc(
    connectors_dirs: Iterable[Path] = (),
    env: Mapping[str, str] = os.environ,
    cancel: threading.Event | None = None,
) -> list[Candidate]:
    """:func:`find_candidates` then :func:`detect_candidates`: which EMR is on this PC, best first."""
    dirs = tuple(connectors_dirs)
    return detect_candidates(find_candidates(dirs, env), dirs, cancel)


def test_connection(address: SourceAddress, *, cancel: threading.Event | None = None) -> str:
    """Open and close the database once; return its safe label (no password). Raises SourceError, or
    ExportCancelled once ``cancel`` is set (Stop: watched from the connect on)."""
    source = address.open(cancel=cancel)
    watch_cancel(source, cancel)
    try:
        source.scalar("SELECT 1")
        return source.label
    finally:
        source.close()


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


# ---------------------------------------------------------------------------------------------- scan


@dataclass
class EntityScan:
    """What the export will find for one record type."""

    entity: str
    table: str
    source_rows: int = 0
    will_export: int = 0
    will_quarantine: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    example_keys: dict[str, list[str]] = field(default_factory=dict)  # reason code -> a few row keys
    field_defects: Counter[str] = field(default_factory=Counter)  # rows kept, one field carried raw
    #: The section whose rows this one reads again (a visit table's chief complaint as a note): not counted
    #: twice in the totals, as in the export's reconciliation.
    rereads: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entity": self.entity,
            "table": self.table,
            "source_rows": self.source_rows,
            "will_export": self.will_export,
            "will_quarantine": self.will_quarantine,
            "quarantine_reasons": dict(sorted(self.reasons.items())),
            "field_defects": dict(sorted(self.field_defects.items())),
            "example_keys": {k: list(v) for k, v in sorted(self.example_keys.items())},
        }
        if self.rereads:
            out["rereads"] = self.rereads
        return out


@dataclass(frozen=True, slots=True)
class SamplePatient:
    """One patient shown on screen so the founder recognises the data, masked as on paper: the chart number, the
    name (김*준) and the RRN (the report never holds them whole: a sample shown whole was a patient's name on the
    founder's screen)."""

    chart_masked: str
    name_masked: str
    sex: str | None
    birth_date: dt.date | None
    rrn_masked: str


@dataclass
class ScanReport:
    connector: str
    source_label: str
    entities: list[EntityScan] = field(default_factory=list)
    first_encounter: dt.date | None = None
    last_encounter: dt.date | None = None
    sample_patient: SamplePatient | None = None
    attachment_bytes: int = 0  # bytes of the attachments that will be exported (for the free-space check)
    #: The export's reconciliation as the scan computed it (cells, carried tables, inventory).
    reconciliation: dict[str, Any] = field(default_factory=dict)
    #: What to do about quarantined rows the contractor can fix in connector.toml (stored_prefixes).
    hints: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """Source rows counted once, as the export's reconciliation totals: a section that reads another's
        rows again is left out (its own line still shows them)."""
        once = [e for e in self.entities if not e.rereads]
        return {
            "source_rows": sum(e.source_rows for e in once),
            "will_export": sum(e.will_export for e in once),
            "will_quarantine": sum(e.will_quarantine for e in once),
        }

    @property
    def rows_to_read(self) -> int:
        """Rows the export will read, a section's second reading of a table included (its progress counts
        them all)."""
        return sum(e.source_rows for e in self.entities)

    @property
    def warnings(self) -> list[tuple[str, str, int]]:
        """(entity, reason code, rows) for every kind of row that will be quarantined."""
        return [(e.entity, code, n) for e in self.entities for code, n in sorted(e.reasons.items())]

    def to_dict(self) -> dict[str, Any]:
        """For --json output; leaves out the sample patient (patient data stays on screen only)."""
        return {
            "connector": self.connector,
            "source": self.source_label,
            "totals": self.totals,
            # Every row of the database, the carried tables' and sections' too (as ``Reconciliation.row_totals``):
            # ``totals`` counts the mapped sections' rows only.
            "row_totals": row_totals(self.reconciliation),
            "encounters": {
                "first": self.first_encounter.isoformat() if self.first_encounter else None,
                "last": self.last_encounter.isoformat() if self.last_encounter else None,
            },
            "entities": [e.to_dict() for e in self.entities],
            "attachment_bytes": self.attachment_bytes,
            "cells": self.reconciliation.get("cells", {}),
            "field_defects": self.reconciliation.get("field_defects", {}),
            "tables": self.reconciliation.get("tables", []),
            **({"carried_sections": self.reconciliation["carried_sections"]}
               if self.reconciliation.get("carried_sections") else {}),
            "inventory": self.reconciliation.get("inventory", []),
            "hints": self.hints,
        }


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


class _ScanObserver:
    """Collects what the scan shows (dates, a sample patient, attachment bytes) from exported records."""

    def __init__(self, report: ScanReport) -> None:
        self.report = report

    def observe(self, record: model.Record) -> None:
        report = self.report
        if isinstance(record, model.Encounter):
            day = _as_date(record.start)
            if report.first_encounter is None or day < report.first_encounter:
                report.first_encounter = day
            if report.last_encounter is None or day > report.last_encounter:
                report.last_encounter = day
        elif isinstance(record, model.Patient) and report.sample_patient is None:
            report.sample_patient = SamplePatient(
                chart_masked=model.mask_chart_number(record.chart_number), name_masked=model.mask_name(record.name),
                sex=record.sex, birth_date=record.birth_date,
                rrn_masked=model.mask_rrn(record.rrn),
            )
        elif isinstance(record, model.Attachment):
            report.attachment_bytes += _attachment_size(record) or 0

    def report_members(self) -> list[tuple[str, bytes]]:
        return []


def scan(
    spec: ConnectorSpec,
    source: Source,
    attachments_root: Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ScanReport:
    """Run the whole export over every row, keeping only its counts; see the module docstring.

    The very same :class:`ExportRun` as the export (FHIR built and checked, carried tables read, the bag
    stream hashed and thrown away), so its prediction equals the export's reconciliation exactly, field
    defects and output checks included. Progress events have stage ``"scan"`` (per entity, rows done of
    the entity's total). Raises what the export's counting step raises.
    """
    placeholder = model.Institution(code="00000000", name="scan")  # only the Organization resource reads it
    report = ScanReport(connector=spec.name, source_label=source.label)

    def relay(event: ProgressEvent) -> None:
        if progress is not None and event.stage == "export":
            progress(ProgressEvent("scan", event.entity, event.done, event.total))

    def example(row: model.QuarantinedRow) -> None:
        examples = examples_by_entity.setdefault(row.entity, {}).setdefault(row.reason_code, [])
        if len(examples) < EXAMPLE_KEYS:
            examples.append(model.display_key(row.provenance.key))
        absolute = absolute_path_field(spec, row)
        if absolute is not None:
            absolute_paths[absolute] += 1

    examples_by_entity: dict[str, dict[str, list[str]]] = {}
    absolute_paths: Counter[str] = Counter()
    run = ExportRun(
        spec, source, institution=placeholder, created=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        attachments_root=attachments_root, cancel=cancel, page_size=page_size, observers=[_ScanObserver(report)],
        progress=relay,
    )
    run.on_quarantine = example
    try:
        digest_stream(run.stream())
    except ExportCancelled:
        raise ExportCancelled(SCAN_CANCELLED_MESSAGE) from None
    for e in run.reconciliation.entities:
        report.entities.append(EntityScan(
            entity=e.entity, table=e.table, source_rows=e.source_rows, will_export=e.exported,
            will_quarantine=e.quarantined, reasons=Counter(e.reasons),
            example_keys=examples_by_entity.get(e.entity, {}), field_defects=Counter(e.field_defects),
            rereads=e.rereads,
        ))
    report.reconciliation = run.reconciliation.to_dict()
    report.hints = stored_prefix_hints(absolute_paths)
    return report


def _attachment_size(attachment: model.Attachment) -> int | None:
    """Bytes of an attachment, or None when its file cannot be read."""
    content = attachment.content
    if content.blob is not None:
        return len(content.blob)
    assert content.path is not None
    try:
        size = os.stat(content.path).st_size
    except OSError:
        return None
    return size if os.access(content.path, os.R_OK) else None


def scan_database(
    connector: str,
    address: SourceAddress,
    attachments_root: Path | None = None,
    *,
    connectors_dirs: Iterable[Path] = (),
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScanReport:
    """Load a connector, open the database, :func:`scan` it, close it (the wizard's and CLI's entry)."""
    from emr_exporter.connectors import load_connector

    spec = load_connector(connector, tuple(connectors_dirs))
    try:
        source = address.open_for(spec, cancel=cancel)
    except ExportCancelled:  # Stop while connecting
        raise ExportCancelled(SCAN_CANCELLED_MESSAGE) from None
    watch_cancel(source, cancel)
    try:
        if attachments_root is None:
            attachments_root = address.attachments_root_for(spec)
        return scan(spec, source, attachments_root, progress=progress, cancel=cancel)
    finally:
        source.close()


__all__ = [
    "Candidate",
    "Detection",
    "EntityScan",
    "SamplePatient",
    "ScanReport",
    "detect_candidates",
    "detect_connectors",
    "detect_in_source",
    "expand_file_pattern",
    "find_candidates",
    "scan",
    "scan_database",
    "search_this_pc",
    "test_connection",
]
