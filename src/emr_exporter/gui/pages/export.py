"""Export and seal: destination, free space, progress, stop and continue."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from emr_exporter.errors import EmrExporterError
from emr_exporter.gui import texts
from emr_exporter.gui.pages.base import ERROR_STYLE, WizardPageBase, buddy, is_pause, message_label
from emr_exporter.gui.qt import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStorageInfo,
)
from emr_exporter.gui.session import Session, default_out_dir
from emr_exporter.jobs import resume


class ExportPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Export and seal"))
        self.setSubTitle(self.tr(
            "The records are signed and encrypted into one file. You can stop at any time and continue later."
        ))
        self.destination_edit = QLineEdit()
        self.browse_button = QPushButton(self.tr("&Browse…"))
        self.drive_combo = QComboBox()
        self.space_label = message_label(self.tr("Free space"))
        self.start_button = QPushButton(self.tr("&Start export"))
        self.cancel_button = QPushButton(self.tr("S&top"))
        self.cancel_button.setEnabled(False)
        self.stage_label = message_label(self.tr("Export stage"))
        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName(self.tr("Export progress"))
        self.rate_label = message_label(self.tr("Speed and time left"))
        self.export_runner = self.new_runner()
        self._needed_bytes = 0
        self._cannot_seal: EmrExporterError | None = None  # why the bundle cannot be sealed on this PC
        self._started_at = 0.0
        self._rows_before_entity = 0
        self._entity_done: dict[str, int] = {}

        form = QFormLayout()
        destination_row = QHBoxLayout()
        destination_row.addWidget(self.destination_edit, 1)
        destination_row.addWidget(self.browse_button)
        form.addRow(buddy(self.tr("Save &to folder:"), self.destination_edit), destination_row)
        form.addRow(buddy(self.tr("Other &drives:"), self.drive_combo), self.drive_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout = self.body_layout()
        layout.addLayout(form)
        layout.addWidget(self.space_label)
        layout.addLayout(buttons)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.error_label)
        layout.addStretch(1)

        self.destination_edit.textChanged.connect(self.check_space)
        self.browse_button.clicked.connect(self._browse)
        self.drive_combo.activated.connect(self._on_drive)
        self.start_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.export_runner.progressed.connect(self._on_progress)
        self.export_runner.succeeded.connect(self._on_exported)
        self.export_runner.failed.connect(self.show_failure)

    def initializePage(self) -> None:  # Qt override
        session = self.session
        self.drive_combo.clear()
        self.drive_combo.addItem(self.tr("(choose a drive, e.g. a USB stick)"), "")
        for volume in QStorageInfo.mountedVolumes():
            root = volume.rootPath()
            if not volume.isValid() or not volume.isReady() or volume.isReadOnly() or root in ("/", ""):
                continue
            system = root.startswith(("/proc", "/sys", "/dev", "/run", "/boot", "/snap"))
            if system and not root.startswith("/run/media"):
                continue
            self.drive_combo.addItem(
                self.tr("{name} ({free} free)").format(
                    name=volume.displayName() or root, free=texts.data_size(volume.bytesAvailable())
                ),
                root,
            )
        if not self.destination_edit.text():
            self.destination_edit.setText(str(session.out_dir or default_out_dir()))
        report = session.scan_report
        rows = report.rows_to_read if report is not None else 0
        attachments = report.attachment_bytes if report is not None else 0
        self._needed_bytes = resume.estimate_bundle_bytes(rows, attachments)
        # What sealing needs besides the space (the store's certificate): said now, not after Start.
        self._cannot_seal = None
        if session.outcome is None:
            try:
                session.store_certificate()
            except EmrExporterError as exc:
                self._cannot_seal = exc
        self.show_error(self._cannot_seal)
        self.check_space()
        if session.resumed_from_state and session.outcome is None:
            self.stage_label.setText(self.tr(
                "Continuing the transfer: press Start and the export goes on from where it stopped."))
        session.save("export")

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Choose where to save the sealed file"),
                                                self.destination_edit.text())
        if path:
            self.destination_edit.setText(path)

    def _on_drive(self) -> None:
        root = self.drive_combo.currentData()
        if root:
            self.destination_edit.setText(str(Path(root) / "EMR export"))

    def check_space(self) -> bool:
        text = self.destination_edit.text().strip()
        if not text:
            self.space_label.setText(self.tr("Choose a folder."))
            self.start_button.setEnabled(False)
            return False
        try:
            free = resume.free_bytes(Path(text))
        except OSError:
            self.space_label.setText(self.tr("This folder cannot be used. Choose another one."))
            self.space_label.setStyleSheet(ERROR_STYLE)
            self.start_button.setEnabled(False)
            return False
        enough = free >= self._needed_bytes
        if enough:
            self.space_label.setText(self.tr("Needs about {needed}; {free} free there.").format(
                needed=texts.data_size(self._needed_bytes), free=texts.data_size(free)))
            self.space_label.setStyleSheet("")
        else:
            self.space_label.setText(self.tr(
                "Not enough free space: needs about {needed} but only {free} is free. Free up space or choose "
                "another drive."
            ).format(needed=texts.data_size(self._needed_bytes), free=texts.data_size(free)))
            self.space_label.setStyleSheet(ERROR_STYLE)
        self.start_button.setEnabled(enough and self._cannot_seal is None and not self.export_runner.running
                                     and self.session.outcome is None)
        return enough and self._cannot_seal is None

    def start_export(self) -> None:
        if self.export_runner.running or not self.check_space():
            return
        session = self.session
        session.out_dir = Path(self.destination_edit.text().strip())
        session.save("export")
        self.show_error(None)
        self._started_at = 0.0
        self._rows_before_entity = 0
        self._entity_done = {}
        self.progress_bar.setRange(0, 0)
        self.stage_label.setText(self.tr("Counting the records…"))
        self.rate_label.clear()
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.destination_edit.setEnabled(False)
        self.completeChanged.emit()
        self.export_runner.start(session.run_export)

    def on_job_ended(self) -> None:
        self.destination_edit.setEnabled(self.session.outcome is None)
        self.check_space()

    def cancel_export(self) -> None:
        self.export_runner.request_cancel()
        self.cancel_button.setEnabled(False)
        self.stage_label.setText(self.tr("Stopping safely…"))

    def _total_rows(self) -> int:
        report = self.session.scan_report
        return report.rows_to_read if report is not None else 0  # as the progress counts: rereads too

    def _on_progress(self, event: Any) -> None:
        if event.stage == "count":
            self.stage_label.setText(self.tr("Counting: {what}").format(
                what=texts.reading_what(event.stage, event.entity or "", self.session.section_kinds())))
            return
        if event.stage == "finish":
            self.stage_label.setText(self.tr("Sealing the file…"))
            return
        if event.stage != "export" or not event.entity:
            return
        now = time.monotonic()
        if not self._started_at:
            self._started_at = now
        self._entity_done[event.entity] = event.done
        done = sum(self._entity_done.values())
        total = max(self._total_rows(), done, 1)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        self.stage_label.setText(self.tr("Exporting {what}: {done} of {total}").format(
            what=texts.reading_what(event.stage, event.entity, self.session.section_kinds()),
            done=texts.number(event.done), total=texts.number(event.total)))
        elapsed = now - self._started_at
        if elapsed > 0.5 and done:
            rate = done / elapsed
            self.rate_label.setText(self.tr("{rate} records/s · about {left} left").format(
                rate=texts.number(int(rate)), left=texts.duration((total - done) / rate)))

    def _on_exported(self, outcome: Any) -> None:
        session = self.session
        session.outcome = outcome
        session.save("verify")
        self.cancel_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        totals = outcome.reconciliation.row_totals  # the rows kept exactly as they are too
        self.stage_label.setText(self.tr("Sealed: {file} ({size}).").format(
            file=Path(outcome.bundle_path).name, size=texts.data_size(outcome.bundle_bytes or 0)))
        self.rate_label.setText(self.tr(
            "{exported} records exported, {kept} kept exactly as they are, {aside} set aside with their reason."
        ).format(exported=texts.number(totals["exported"]), kept=texts.number(totals["carried"]),
                 aside=texts.number(totals["quarantined"])))
        self.completeChanged.emit()
        self.jobFinished.emit()

    def on_job_failed(self, error: BaseException) -> None:
        self.cancel_button.setEnabled(False)
        self.destination_edit.setEnabled(True)
        self.rate_label.clear()
        if is_pause(error):  # stopped by the founder: keep where the bar was, say "paused", not red, not 0 %
            if self.progress_bar.maximum() == 0:
                self.progress_bar.setRange(0, 1)
            self.stage_label.setText(
                self.tr("Paused. Press Start to continue where it stopped.") if getattr(error, "kept_partial", "")
                else self.tr("Paused before anything was written. Press Start to begin again."))
        else:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self.stage_label.clear()
        self.check_space()

    def isComplete(self) -> bool:  # Qt override
        return self.session.outcome is not None and not self.export_runner.running
