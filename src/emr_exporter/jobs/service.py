"""The jobs a user runs, as plain functions: the CLI and the wizard are thin adapters over these.

Each job takes a request (a dataclass), a progress callback and a cancel event, and returns an outcome
dataclass whose ``str()`` reads as a sentence. Nothing here prints or imports Qt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.bundle.journal import Journal
from emr_exporter.connectors import ConnectorSpec, load_connector
from emr_exporter.demo import DEMO_CONNECTOR, DEMO_PATIENTS, DEMO_SEED, KEYS_FOLDER
from emr_exporter.demo.material import ensure_demo_clinic
from emr_exporter.errors import EmrExporterError, ExportCancelled, SourceStalled
from emr_exporter.pipeline.export import ExportRun, ProgressEvent, Reconciliation, digest_stream, read_institution

# Every row a person reads a total of, the ones carried whole too, for the CLI and the wizard (the door: jobs).
from emr_exporter.pipeline.export import carried_whole as carried_whole
from emr_exporter.pipeline.export import row_totals as row_totals
from emr_exporter.reports.readiness import ReadinessObserver
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import Source, watch_cancel

ProgressCallback = Callable[[ProgressEvent], None]



@dataclass
class ExportRequest:
    connector: str
    # The clinic database: a SQLite file, an ODBC connection string or a DSN (and its password).
    source: SourceAddress = field(default_factory=SourceAddress)
    attachments_root: Path | None = None
    institution_code: str | None = None
    institution_name: str | None = None
    institution_business_number: str | None = None  # 사업자등록번호, compared with the certificate
    out_dir: Path | None = None  # None: dry run
    signer_path: Path | None = None  # PKCS#12 file or 공동인증서 folder
    signer_password: str | None = None
    # The signer check refuses a certificate of another institution; True records the override instead.
    accept_signer_mismatch: bool = False
    recipient_cert: Path | None = None  # the store's encryption certificate
    connectors_dirs: tuple[Path, ...] = ()
    created: dt.datetime | None = None
    page_size: int = 5000
    part_size: int | None = None
    #: Also check every resource against the FHIR structure models (fhir.resources, the verify extra) before
    #: it enters the bag, as `open` will: ~60 µs a resource, so off unless asked (pipeline/check.py).
    validate_structure: bool = False
    #: Processes mapping rows beside the export's own (pipeline/parallel.py): None = one per core (the
    #: default: on 2 idle cores 1.57x faster at 10^6 rows, 1.21x at 10^5, docs/performance.md); 1 = none.
    #: Spawned only for exports and sections big enough to gain from them; the bag is the same either way.
    workers: int | None = None


@dataclass
class ExportOutcome:
    reconciliation: Reconciliation
    bag_sha256: str
    bag_bytes: int
    institution: model.Institution
    connector: str
    dry_run: bool
    created: dt.datetime
    bundle_path: Path | None = None
    bundle_id: str | None = None
    bundle_bytes: int | None = None
    #: SHA-256 of the .emrx file, taken while sealing (the upload and the transfer report reuse it).
    bundle_sha256: str | None = None
    resumed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "institution": {"code": self.institution.code, "name": self.institution.name},
            "dry_run": self.dry_run,
            "created": self.created.isoformat(),
            "bag": {"sha256": self.bag_sha256, "bytes": self.bag_bytes},
            "bundle": None
            if self.bundle_path is None
            else {
                "path": str(self.bundle_path),
                "bundle_id": self.bundle_id,
                "bytes": self.bundle_bytes,
                "resumed": self.resumed,
            },
            "reconciliation": self.reconciliation.to_dict(),
            **self.extra,
        }

    def __str__(self) -> str:
        # Every row of the database, the ones carried whole (carried tables and sections) too: a total that
        # left them out would read as rows lost.
        rows = self.reconciliation.row_totals
        where = (
            "Dry run: nothing was written (the bag was streamed and hashed in memory)."
            if self.bundle_path is None
            else f"Sealed bundle: {self.bundle_path}"
        )
        return (
            f"{rows['source_rows']} source rows: {rows['exported']} exported, {rows['carried']} carried whole, "
            f"{rows['quarantined']} quarantined. {where}"
        )


def default_created() -> dt.datetime:
    """Today at midnight UTC: a dry run of an unchanged database gives the same bag all day."""
    today = dt.datetime.now(dt.UTC).date()
    return dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)


@contextlib.contextmanager
def open_export_source(
    request: ExportRequest, cancel: threading.Event | None = None,
) -> Iterator[tuple[ConnectorSpec, Source, model.Institution, Path | None]]:
    """The connector, the open (read-only) source, the institution and the attachment root of a request."""
    spec = load_connector(request.connector, request.connectors_dirs)
    # counts and rows from one snapshot, even if the EMR writes; timestamptz in the connector's zone
    # Stop while connecting ends the wait at once; a query waiting for a stalled server stops at once too
    source = request.source.open_for(spec, snapshot=True, cancel=cancel)
    watch_cancel(source, cancel)
    try:
        institution = read_institution(
            spec, source, {"code": request.institution_code, "name": request.institution_name}
        )
        attachments_root = request.attachments_root or request.source.attachments_root_for(spec)
        yield spec, source, institution, attachments_root
    finally:
        source.close()


def _workers(request: ExportRequest) -> int:
    from emr_exporter.pipeline.parallel import default_workers

    return default_workers() if request.workers is None else max(1, request.workers)


def run_export(
    request: ExportRequest,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExportOutcome:
    """Export one clinic database: a dry run (hash only) or a sealed bundle in ``request.out_dir``."""
    if request.validate_structure:
        from emr_exporter.bundle.fhir_check import ENABLE_HINT
        from emr_exporter.errors import ConfigError
        from emr_exporter.pipeline.fhir import structure_validator

        if structure_validator() is None:
            raise ConfigError(
                f"Checking every resource against the FHIR structure needs fhir.resources: {ENABLE_HINT}."
            )
    try:
        return _run_export(request, progress, cancel)
    except (ExportCancelled, SourceStalled) as error:
        raise after_interruption(error, request.out_dir) from error


def after_interruption(error: ExportCancelled | SourceStalled, out_dir: Path | None) -> EmrExporterError:
    """``error`` (the founder cancelled, or the server stalled) saying what is on disk now and what the next run
    does: a dry run wrote nothing; a sealed export keeps its unfinished bundle (``.emrx.partial`` and its hidden
    journal, bundle/journal.py), which the same export run again continues (the finished parts are checked against
    the regenerated stream and kept); stopped before the bundle was started, nothing was written."""
    kept = [] if out_dir is None else Journal.unfinished(Path(out_dir))
    if kept:
        journal = kept[0]
        partial = journal.state.file_name + ".partial"
        parts = len(journal.parts)
        what = (f"Nothing is lost: the unfinished bundle stays in '{out_dir}' ('{partial}', "
                f"{parts} finished part{'' if parts == 1 else 's'}, and its hidden journal). Run the same export "
                "again into the same folder and it continues that bundle: the finished parts are checked and kept, "
                "only the rest is written. Do not delete those files.")
    elif out_dir is None:
        what = "It was a dry run: nothing was written; the next run starts over."
    else:
        what = "The bundle was not started yet: nothing was written; the next run starts over."
    if isinstance(error, SourceStalled):
        said = str(error).removesuffix(" Nothing was lost.")
        told: EmrExporterError = SourceStalled(f"{said} {what}", reason=error.reason)
    else:
        told = ExportCancelled(f"The export was cancelled. {what}")
    told.kept_partial = partial if kept else ""
    return told


def _run_export(
    request: ExportRequest, progress: ProgressCallback | None, cancel: threading.Event | None
) -> ExportOutcome:
    with open_export_source(request, cancel) as (spec, source, institution, attachments_root):
        if request.out_dir is None:
            created = request.created or default_created()
            readiness = ReadinessObserver(institution)
            run = ExportRun(
                spec, source, institution=institution, created=created, attachments_root=attachments_root,
                progress=progress, cancel=cancel, page_size=request.page_size, observers=[readiness],
                validate_structure=request.validate_structure, workers=_workers(request),
            )
            digest = digest_stream(run.stream())
            return ExportOutcome(
                reconciliation=run.reconciliation, bag_sha256=digest.sha256, bag_bytes=digest.size,
                institution=institution, connector=spec.name, dry_run=True, created=run.created,
                extra={"readiness": readiness.result().to_dict()},  # counts only: no chart numbers
            )
        return _sealed_export(request, spec, source, institution, attachments_root, progress, cancel)


def _sealed_export(
    request: ExportRequest,
    spec: ConnectorSpec,
    source: Source,
    institution: model.Institution,
    attachments_root: Path | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> ExportOutcome:
    from emr_exporter.bundle.keys import load_recipient, load_signer
    from emr_exporter.bundle.signer_check import SignerCheckReport, enforce_signer
    from emr_exporter.bundle.writer import BundleWriter
    from emr_exporter.errors import ConfigError

    if request.signer_path is None or request.recipient_cert is None:
        raise ConfigError(
            "A sealed export needs the institution's certificate (--cert) and the store's certificate "
            "(--store-cert). Use --dry-run to try the export without them."
        )
    signer = load_signer(request.signer_path, request.signer_password or "")
    signer_check = enforce_signer(
        signer.certificate, institution, business_number=request.institution_business_number,
        allow_mismatch=request.accept_signer_mismatch,
    )
    recipient = load_recipient(request.recipient_cert)
    assert request.out_dir is not None  # a dry run never comes here
    out_dir = Path(request.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    export_key = f"{spec.name}|{source.label}|{institution.code}"
    writer_kwargs: dict[str, Any] = {}
    if request.part_size:
        writer_kwargs["part_size"] = request.part_size
    writer = BundleWriter.open(
        out_dir, signer=signer, recipient=recipient, institution_code=institution.code,
        export_key=export_key, **writer_kwargs,
    )
    readiness = ReadinessObserver(institution, work_dir=out_dir)  # visits beyond memory: beside the spool
    run = ExportRun(
        spec, source, institution=institution, created=writer.created, attachments_root=attachments_root,
        bag_info={
            "External-Identifier": writer.bundle_id, **getattr(writer, "bag_info", {}),
            "Signer-Check": signer_check.bag_info_value(),
        },
        sign_tagmanifest=writer.sign_tagmanifest, progress=progress, cancel=cancel, page_size=request.page_size,
        observers=[readiness, SignerCheckReport(signer_check)], validate_structure=request.validate_structure,
        workers=_workers(request), work_dir=out_dir,  # the ids beyond memory: keyed runs beside the spool
    )
    # Counts (no patient data) signed into the trailer, so `verify` shows them without the store's key.
    # The writer reads the summary when it seals, after the stream has ended and the counts are final.
    summary: dict[str, Any] = {}

    def stream_then_summarise() -> Iterator[bytes]:
        yield from run.stream()
        totals = run.reconciliation.totals
        summary.update({
            "source_rows": totals["source_rows"],
            "exported": {e.entity: e.exported for e in run.reconciliation.entities},
            "quarantined": {e.entity: e.quarantined for e in run.reconciliation.entities},
        })
        # The rows carried whole, per carried table and section (not in source_rows, which stays the mapped
        # sections'); only where there are some, as in the bag's reconciliation (bundle-format.md).
        carried = {**{f"table {t.table}": t.carried for t in run.reconciliation.tables},
                   **{f"section {s.section}": s.carried for s in run.reconciliation.sections}}
        if carried:
            summary["carried"] = carried

    sealed = writer.write(stream_then_summarise(), cancel=cancel, summary=summary)
    outcome = ExportOutcome(
        # The export writes with digest_plaintext (the default), so the bag's own SHA-256 is always there.
        reconciliation=run.reconciliation, bag_sha256=sealed.plaintext_sha256 or "", bag_bytes=sealed.plaintext_size,
        institution=institution, connector=spec.name, dry_run=False, created=run.created,
        bundle_path=Path(sealed.path), bundle_id=sealed.bundle_id, bundle_bytes=sealed.size,
        bundle_sha256=sealed.file_sha256, resumed=writer.resumed,
        extra={
            "readiness": readiness.result().to_dict(), "signer": signer.certificate.subject.rfc4514_string(),
            "signer_check": signer_check.to_dict(),
            # For the transfer report: which patients are not on the roster, masked (C0***23).
            "quarantined_patients": [model.mask_chart_number(k) for k in run.quarantined_keys("patient")],
        },
    )
    # <bundle>.summary.json: the transfer report's inputs (no patient data), for `emr-export report`.
    from emr_exporter.reports.transfer import write_summary

    outcome.extra["summary"] = str(write_summary(outcome))
    return outcome


@dataclass
class DemoRequest:
    out_dir: Path
    patients: int = DEMO_PATIENTS
    seed: int = DEMO_SEED
    dry_run: bool = False


def prepare_demo(request: DemoRequest) -> tuple[Path, Path]:
    """Create the demo clinic database (if absent); return (database, attachments root)."""
    return ensure_demo_clinic(request.out_dir, patients=request.patients, seed=request.seed)


def run_demo(
    request: DemoRequest,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExportOutcome:
    """The whole pipeline on the synthetic demo clinic, sealed for a demo store key made on the spot."""
    database, attachments = prepare_demo(request)
    export = ExportRequest(connector=DEMO_CONNECTOR, source=SourceAddress(database=database),
                           attachments_root=attachments)
    keys: dict[str, str] = {}
    if not request.dry_run:
        from emr_exporter.demo.keys import make_demo_keys

        demo_keys = make_demo_keys(Path(request.out_dir) / KEYS_FOLDER)
        export.out_dir = Path(request.out_dir)
        export.signer_path = demo_keys.institution_p12
        export.signer_password = demo_keys.institution_password
        export.recipient_cert = demo_keys.store_cert
        keys = {"demo_keys": str(demo_keys.folder), "store_key": str(demo_keys.store_key)}
    outcome = run_export(export, progress=progress, cancel=cancel)
    outcome.extra.update(keys)
    outcome.extra["database"] = str(database)
    return outcome


def outcome_from_summary(bundle_path: Path) -> ExportOutcome:
    """The outcome of an export sealed in an earlier run, from ``<bundle>.summary.json`` (no patient data).

    Lets the wizard continue at the check / send step after a restart instead of exporting a second
    bundle (the writer's journal is gone once a bundle is sealed).
    """
    from emr_exporter.reports.transfer import load_summary

    summary = load_summary(bundle_path)
    reconciliation = Reconciliation.from_dict(summary.reconciliation)
    institution = model.Institution(
        code=summary.institution_code, name=summary.institution_name, address=summary.institution_address,
        founder=summary.institution_founder,
    )
    return ExportOutcome(
        reconciliation=reconciliation, bag_sha256=summary.bag_sha256 or "", bag_bytes=0, institution=institution,
        connector="demo" if summary.demo else "", dry_run=False, created=dt.datetime.fromisoformat(summary.created),
        bundle_path=Path(bundle_path), bundle_id=summary.bundle_id, bundle_bytes=summary.bundle_bytes,
        bundle_sha256=summary.bundle_sha256, resumed=True,
        extra={"readiness": summary.readiness, "signer": summary.signer,
               "quarantined_patients": summary.quarantined_patients},
    )
