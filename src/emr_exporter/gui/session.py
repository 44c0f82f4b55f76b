"""What the wizard has learned so far, and the core calls its pages make (no widgets here).

Every long call below runs inside a :class:`~emr_exporter.gui.workers.JobRunner` thread; they are plain
functions over the same jobs the CLI uses (:mod:`emr_exporter.jobs`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter.errors import ConfigError
from emr_exporter.jobs import resume
from emr_exporter.jobs.demo import APP_DEMO_FOLDER, DemoMaterial, prepare_demo_material
from emr_exporter.jobs.sources import SourceAddress
from emr_exporter.jobs.upload import store_settings_from_environment

__all__ = ["DEMO_FOLDER", "DemoMaterial", "Session", "default_out_dir", "prepare_demo_material"]

DEMO_FOLDER = APP_DEMO_FOLDER  # <app data>/demo/: the wizard's demo clinic, keys and practice store
STEPS = ("institution", "emr", "scan", "export", "verify", "upload", "done")


def default_out_dir() -> Path:
    """A folder in the user's documents (or under EMR_EXPORTER_HOME, for tests and portable use)."""
    if os.environ.get(resume.ENV_HOME):
        return resume.app_data_dir() / "exports"
    from emr_exporter.gui.qt import QStandardPaths

    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()) / "EMR export"


@dataclass
class Session:
    """The wizard's memory. Passwords live only here, in memory, and are never saved."""

    demo: bool = False
    demo_material: DemoMaterial | None = None
    institution_code: str = ""
    institution_name: str = ""
    closing_date: dt.date | None = None
    custodian: str = ""  # 보관 책임자, printed on the transfer report
    custodian_contact: str = ""
    certificate_path: Path | None = None
    certificate_password: str = field(default="", repr=False)
    signer: Any = None  # emr_exporter.bundle.keys.Signer
    connector: str = ""
    source: SourceAddress | None = None  # the EMR's database (its password, for ODBC, only in memory)
    attachments_root: Path | None = None
    scan_report: Any = None  # emr_exporter.authoring.scan.ScanReport
    out_dir: Path | None = None
    part_size: int | None = None  # None: the writer's default (tests use small parts to exercise resume)
    outcome: Any = None  # emr_exporter.jobs.service.ExportOutcome
    verify_report: Any = None  # emr_exporter.bundle.reader.VerifyReport
    upload_result: Any = None  # emr_exporter.upload.uploader.UploadResult
    # The store: its address and, for a trial store, its TLS and receipt certificates (set by the IT contractor
    # in the environment; by default the TLS connection is pinned to the certificate shipped in resources/store/).
    store_url: str = field(default_factory=lambda: store_settings_from_environment()[0])
    store_tls_cert: Path | None = field(default_factory=lambda: store_settings_from_environment()[1])
    store_receipt_cert: Path | None = field(default_factory=lambda: store_settings_from_environment()[2])
    resumed_from_state: bool = False
    #: Bytes per second for the upload (None: as fast as the link allows; tests slow it down).
    upload_rate_limit: float | None = None
    #: A sealed file brought from another PC ("보관 파일 보내기"): send it, no export here.
    carried: bool = False
    demo_server: Any = None  # emr_exporter.upload.store.StoreServer: the demo's local reference store
    #: (connector, its sections' record types): loaded once per connector (``section_kinds``).
    _kinds: tuple[str, dict[str, str]] | None = field(default=None, repr=False)

    def section_kinds(self) -> dict[str, str]:
        """The chosen connector's sections and the record type each one's rows become, so the pages name a
        section by its type (``jobs.authoring.section_kinds``; empty if the connector is not installed here)."""
        if self._kinds is None or self._kinds[0] != self.connector:
            from emr_exporter.jobs.authoring import section_kinds

            self._kinds = (self.connector, section_kinds(self.connector) if self.connector else {})
        return self._kinds[1]

    # --- the demo's own store ----------------------------------------------------------------------

    def start_demo_store(self) -> str:
        """Start a reference store on 127.0.0.1 holding the demo store key; return its address.

        So that a new user can walk the demo through the upload and get a real signed receipt. It verifies
        and opens what it receives, like the national store; it lives only while the wizard runs.
        """
        if self.demo_server is None:
            from emr_exporter.jobs.demo import start_demo_store

            self.demo_server = start_demo_store(resume.app_data_dir() / DEMO_FOLDER)
        return str(self.demo_server.url)

    def stop_demo_store(self) -> None:
        if self.demo_server is not None:
            self.demo_server.stop()
            self.demo_server = None

    # --- the store's certificate ---------------------------------------------------------------

    def store_certificate(self) -> Path:
        if self.demo and self.demo_material is not None:
            return self.demo_material.store_cert
        if self.demo:  # restored after a restart: the demo keys stay in the app-data folder
            from emr_exporter.jobs.demo import demo_store_certificate

            demo_cert = demo_store_certificate(resume.app_data_dir() / DEMO_FOLDER)
            if demo_cert is not None:
                return demo_cert
        from emr_exporter.jobs.upload import STORE_CERT_ENV, shipped_store_certificate, store_settings_from_environment

        # The store's certificate an IT contractor set on this PC (the one the upload pins, too) comes first.
        _, configured, _ = store_settings_from_environment()
        if configured is not None:
            if not configured.is_file():
                raise ConfigError(
                    f"The national store's certificate set in {STORE_CERT_ENV} ({configured}) does not exist, so "
                    "the bundle cannot be sealed for it. Ask your IT contractor to correct the setting."
                )
            return configured
        shipped = shipped_store_certificate()
        if shipped is None:
            raise ConfigError(
                "The national store's certificate is not installed with this program, so the bundle cannot "
                f"be sealed for it. Reinstall emr-exporter, or ask your IT contractor (who can set {STORE_CERT_ENV} "
                "to the store's certificate file)."
            )
        return shipped

    # --- remembered state (no patient data, no passwords) ----------------------------------------

    def save(self, step: str) -> None:
        if self.outcome is not None and STEPS.index(step) < STEPS.index("verify"):
            step = "verify"  # a sealed bundle exists: a restart continues with it, never exports again
        source = self.source or SourceAddress()  # saved without its password
        state = resume.WizardState(
            step=step, demo=self.demo, institution_code=self.institution_code,
            institution_name=self.institution_name,
            closing_date=self.closing_date.isoformat() if self.closing_date else "",
            custodian=self.custodian, custodian_contact=self.custodian_contact,
            certificate_path=str(self.certificate_path or ""), connector=self.connector,
            database=str(source.database or ""), odbc=source.odbc or "", dsn=source.dsn or "",
            attachments_root=str(self.attachments_root or ""), out_dir=str(self.out_dir or ""),
            bundle_id=str(getattr(self.outcome, "bundle_id", "") or ""),
            bundle_path=str(getattr(self.outcome, "bundle_path", "") or ""),
            receipt_number=str(getattr(self.upload_result, "receipt_number", "") or ""),
        )
        resume.save_state(state)

    def restore(self, state: resume.WizardState) -> None:
        self.resumed_from_state = True
        self.demo = state.demo
        self.institution_code = state.institution_code
        self.institution_name = state.institution_name
        self.closing_date = dt.date.fromisoformat(state.closing_date) if state.closing_date else None
        self.custodian, self.custodian_contact = state.custodian, state.custodian_contact
        self.certificate_path = Path(state.certificate_path) if state.certificate_path else None
        self.connector = state.connector
        if state.database:
            self.source = SourceAddress(database=Path(state.database))
        elif state.odbc:
            self.source = SourceAddress(odbc=state.odbc)
        elif state.dsn:
            self.source = SourceAddress(dsn=state.dsn)
        self.attachments_root = Path(state.attachments_root) if state.attachments_root else None
        self.out_dir = Path(state.out_dir) if state.out_dir else None
        self.outcome = None
        sealed = Path(state.bundle_path) if state.bundle_path else None
        if state.step in ("verify", "upload", "done") and sealed is not None and sealed.is_file():
            from emr_exporter.errors import EmrExporterError

            try:
                from emr_exporter.jobs.service import outcome_from_summary

                self.outcome = outcome_from_summary(sealed)
            except EmrExporterError:
                self.outcome = None  # no usable summary: export again (a new bundle)

    # --- the jobs (run in worker threads) ------------------------------------------------------

    def export_request(self) -> Any:
        from emr_exporter.jobs.service import ExportRequest

        assert self.out_dir is not None and self.certificate_path is not None
        return ExportRequest(
            connector=self.connector, source=self.source or SourceAddress(), attachments_root=self.attachments_root,
            institution_code=self.institution_code, institution_name=self.institution_name,
            out_dir=self.out_dir, signer_path=self.certificate_path, signer_password=self.certificate_password,
            recipient_cert=self.store_certificate(), part_size=self.part_size,
        )

    def run_export(self, progress: Callable[[Any], None], cancel: threading.Event) -> Any:
        from emr_exporter.jobs.service import run_export

        return run_export(self.export_request(), progress=progress, cancel=cancel)

    def verify(self, progress: Callable[[Any], None], cancel: threading.Event) -> Any:
        from emr_exporter.jobs.bundles import verify_bundle

        assert self.outcome is not None and self.outcome.bundle_path is not None
        return verify_bundle(Path(self.outcome.bundle_path))

    def receipt_certificate(self) -> Path:
        """The certificate the store's receipts must be signed by: the one set by the IT contractor, else the
        store's own certificate (the demo store signs with its demo key)."""
        return self.store_receipt_cert or self.store_certificate()

    def upload(self, progress: Callable[[Any], None], cancel: threading.Event) -> Any:
        """Upload the sealed bundle to ``store_url`` through the one upload job (the CLI's): TLS pinned to the
        store's certificate, the token from EMR_EXPORTER_STORE_TOKEN, the store asked what it already holds
        before a new upload. ``progress`` gets ("progress", pos, size) / ("event", name)."""
        from emr_exporter.jobs.upload import UploadRequest, run_upload

        assert self.outcome is not None and self.outcome.bundle_path is not None
        if not self.store_url:
            raise ConfigError("No store address is set. Type the address of the national store.")
        request = UploadRequest(
            bundle=Path(self.outcome.bundle_path), store_url=self.store_url, store_cert=self.store_tls_cert,
            receipt_cert=self.receipt_certificate(), chunk_size=1024 * 1024, rate_limit=self.upload_rate_limit,
            known_sha256=self.outcome.bundle_sha256, known_size=self.outcome.bundle_bytes,
        )
        return run_upload(
            request, cancel=cancel, on_progress=lambda p: progress(("progress", p.position, p.size)),
            on_event=lambda name, details: progress(("event", name, details)),
        )
