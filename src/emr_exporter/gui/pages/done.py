"""Done: receipt number, where the file is, the transfer report PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emr_exporter.gui.pages.base import OK_STYLE, WizardPageBase, message_label
from emr_exporter.gui.qt import (
    QDesktopServices,
    QFileDialog,
    QHBoxLayout,
    QLocale,
    QPushButton,
    QUrl,
)
from emr_exporter.gui.session import Session


class DonePage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Done"))
        self.setSubTitle(self.tr("Keep the receipt number and the transfer report with the clinic's closing papers."))
        self.receipt_label = message_label(self.tr("Receipt"))
        self.file_label = message_label(self.tr("Where the file is"))
        self.open_folder_button = QPushButton(self.tr("&Open the folder"))
        self.open_report_button = QPushButton(self.tr("Open the &report to print"))
        self.save_report_button = QPushButton(self.tr("&Save a copy of the report…"))
        self.report_label = message_label(self.tr("Transfer report"))
        self.open_label = message_label(self.tr("Opening the file"))
        # A demo's receipt must never pass for a real one (the report carries the same mark on every page).
        self.practice_label = message_label(self.tr("Practice"))
        self.practice_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.practice_label.setText(self.tr("PRACTICE ONLY — NOT SUBMITTED (made-up demo clinic)"))
        self.practice_label.hide()
        self.report_runner = self.new_runner()
        self.report_path: Path | None = None
        layout = self.body_layout()
        layout.addWidget(self.practice_label)
        layout.addWidget(self.receipt_label)
        layout.addWidget(self.file_label)
        layout.addWidget(self.report_label)
        row = QHBoxLayout()
        row.addWidget(self.open_folder_button)
        row.addWidget(self.open_report_button)
        row.addWidget(self.save_report_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.open_label)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.open_folder_button.clicked.connect(self._open_folder)
        self.open_report_button.clicked.connect(self._open_report)
        self.save_report_button.clicked.connect(self._save_report)
        self.report_runner.succeeded.connect(self._on_report)
        self.report_runner.failed.connect(self.show_failure)

    def initializePage(self) -> None:  # Qt override
        session = self.session
        self.practice_label.setVisible(bool(session.demo))
        uploaded = session.upload_result
        if uploaded is not None and uploaded.receipt_number:
            self.receipt_label.setText(self.tr("Receipt number: {number}").format(number=uploaded.receipt_number))
            self.receipt_label.setStyleSheet(OK_STYLE)
        else:
            self.receipt_label.setText(self.tr(
                "Not sent yet. Once the file is uploaded from another PC, that PC shows the receipt number."
            ))
        bundle = Path(session.outcome.bundle_path)
        self.file_label.setText(self.tr("The sealed file: {path}").format(path=str(bundle)))
        self.open_report_button.setEnabled(False)
        self.save_report_button.setEnabled(False)
        if session.outcome.extra.get("no_summary"):
            # Carried without <bundle>.summary.json: the receipt is real, but the counts are not here.
            self.report_label.setText(self.tr(
                "The transfer report needs {name}, which was not copied with the file. Print the report on the PC "
                "that made the export, or copy that file next to the sealed file and start again."
            ).format(name=bundle.name + ".summary.json"))
            return
        self.write_report(bundle.with_name(bundle.name + ".report.pdf"))

    def write_report(self, target: Path) -> None:
        """Write the transfer report PDF (no patient data: counts, digests, the receipt number)."""
        session = self.session
        outcome = session.outcome
        lang = "ko" if self.locale().language() == QLocale.Language.Korean else "en"
        signer = session.signer
        overrides = {
            "closing_date": session.closing_date.isoformat() if session.closing_date else None,
            "custodian": session.custodian or None,
            "custodian_contact": session.custodian_contact or None,
            "receipt_number": getattr(session.upload_result, "receipt_number", None),
            "signer": signer.certificate.subject.rfc4514_string() if signer is not None else None,
        }
        self.report_label.setText(self.tr("Writing the transfer report…"))

        def write(progress: Any, cancel: Any) -> Path:
            from emr_exporter.jobs.report import write_report_for_outcome

            return write_report_for_outcome(outcome, target, lang, **overrides)

        self.report_runner.start(write)

    def _on_report(self, path: Any) -> None:
        self.report_path = Path(path)
        self.report_label.setText(self.tr("Transfer report (PDF): {path}").format(path=str(path)))
        self.open_report_button.setEnabled(True)
        self.save_report_button.setEnabled(True)
        self.jobFinished.emit()

    def on_job_failed(self, error: BaseException) -> None:
        self.report_label.clear()

    def _open_folder(self) -> None:
        self.open_path(Path(self.session.outcome.bundle_path).parent)

    def _open_report(self) -> None:
        if self.report_path is not None:
            self.open_path(self.report_path)

    def open_path(self, path: Path) -> bool:
        """Open a file or folder with the PC's program for it; say so when there is none (never silently)."""
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        if not opened:
            self.open_label.setText(self.tr(
                "No program on this PC could open it. Find it here and open it another way (for a PDF, install a "
                "PDF viewer): {path}"
            ).format(path=str(path)))
        else:
            self.open_label.clear()
        return bool(opened)

    def _save_report(self) -> None:
        if self.report_path is None:
            return
        target, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save a copy of the transfer report"), str(self.report_path), self.tr("PDF (*.pdf)")
        )
        if target and Path(target) != self.report_path:
            import shutil

            shutil.copyfile(self.report_path, target)
            self.report_label.setText(self.tr("Saved: {path}").format(path=target))
