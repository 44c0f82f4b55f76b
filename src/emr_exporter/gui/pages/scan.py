"""What will be exported: a read-only scan of the whole database."""

from __future__ import annotations

from typing import Any

from emr_exporter.gui import texts
from emr_exporter.gui.pages.base import WizardPageBase, message_label
from emr_exporter.gui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
)
from emr_exporter.gui.session import Session
from emr_exporter.jobs.sources import SourceAddress


class ScanPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("What will be exported"))
        self.setSubTitle(self.tr("The program reads the whole database once, without changing it."))
        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName(self.tr("Scan progress"))
        self.progress_label = message_label(self.tr("Scan status"))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Record type"), self.tr("Records"), self.tr("Set aside"), self.tr("Why set aside")]
        )
        self.table.setAccessibleName(self.tr("Records per type"))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.range_label = message_label(self.tr("Date range"))
        self.sample_label = message_label(self.tr("Sample patient"))
        self.rescan_button = QPushButton(self.tr("&Scan again"))
        # Ends a running scan at once, as Back does (a connect or a query that waits is given up: sources/waiting.py).
        self.stop_button = QPushButton(self.tr("Sto&p"))
        self.stop_button.setEnabled(False)
        self.scan_runner = self.new_runner()
        layout = self.body_layout()
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.range_label)
        layout.addWidget(self.sample_label)
        layout.addWidget(self.error_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rescan_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.rescan_button.clicked.connect(self.start_scan)
        self.stop_button.clicked.connect(self.stop_scan)
        self.scan_runner.progressed.connect(self._on_progress)
        self.scan_runner.succeeded.connect(self._on_scanned)
        self.scan_runner.failed.connect(self.show_failure)

    def initializePage(self) -> None:  # Qt override
        if self.session.scan_report is None:
            self.start_scan()
        else:
            self._show(self.session.scan_report)

    def start_scan(self) -> None:
        if self.scan_runner.running:
            return
        session = self.session
        self.show_error(None)
        self.table.setRowCount(0)
        self.range_label.clear()
        self.sample_label.clear()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(self.tr("Reading the database…"))
        self.rescan_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        # No database chosen (e.g. a restored session that skipped the EMR page): the job fails with the
        # core's message, shown on this page like any other failure.
        connector, address, attachments = session.connector, session.source or SourceAddress(), session.attachments_root

        def run(progress: Any, cancel: Any) -> Any:
            from emr_exporter.jobs.authoring import scan_database

            return scan_database(connector, address, attachments, progress=progress, cancel=cancel)

        self.completeChanged.emit()
        self.scan_runner.start(run)

    def stop_scan(self) -> None:
        """Stop: the scan ends at once (its connect or query given up), and the page says it stopped."""
        self.stop_button.setEnabled(False)
        self.scan_runner.request_cancel()

    def _on_progress(self, event: Any) -> None:
        if event.total:
            self.progress_bar.setRange(0, event.total)
            self.progress_bar.setValue(event.done)
        if event.entity:
            self.progress_label.setText(self.tr("Reading {what}: {done} of {total}").format(
                what=texts.reading_what(event.stage, event.entity, self.session.section_kinds()),
                done=texts.number(event.done), total=texts.number(event.total)))

    def _on_scanned(self, report: Any) -> None:
        self.session.scan_report = report
        self.rescan_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._show(report)
        self.completeChanged.emit()
        self.jobFinished.emit()

    def _show(self, report: Any) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        from emr_exporter.jobs.service import carried_whole

        totals = report.totals
        # Every row of the EMR: the ones kept exactly as they are (other tables, carried sections) too.
        whole = carried_whole(report.reconciliation)
        found = self.tr("{rows} records found: {exported} to export, {kept} to keep exactly as they are, {aside} to "
                        "set aside with their reason.")
        self.progress_label.setText(found.format(
            rows=texts.number(totals["source_rows"] + whole["source_rows"]),
            exported=texts.number(totals["will_export"]), kept=texts.number(whole["source_rows"]),
            aside=texts.number(totals["will_quarantine"])
        ))
        lines = []
        kinds = self.session.section_kinds()  # a section by its record type (vital_weight: 활력징후)
        for entity in report.entities:
            reasons = ", ".join(
                f"{texts.reason_text(code)} ({texts.number(n)})" for code, n in sorted(entity.reasons.items())
            )
            lines.append([texts.section_name(entity.entity, kinds.get(entity.entity, "")),
                          texts.number(entity.source_rows), texts.number(entity.will_quarantine), reasons])
        # The EMR's other tables (settings, code lists, logs, whatever the EMR kept that no record type
        # holds): the founder sees they go too, as they are.
        other_rows = report.reconciliation.get("table_totals", {}).get("source_rows", 0)
        if report.reconciliation.get("tables"):
            name = self.tr("Other EMR data, kept exactly as it is ({tables} tables)")
            lines.append([name.format(tables=texts.number(len(report.reconciliation["tables"]))),
                          texts.number(other_rows), texts.number(0), ""])
        for section in report.reconciliation.get("carried_sections", []):  # kept as they are, with their reason
            lines.append([texts.carried_section(section["table"], section["reason"]),
                          texts.number(section["source_rows"]), texts.number(0), ""])
        self.table.setRowCount(len(lines))
        for row, cells in enumerate(lines):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        if report.first_encounter and report.last_encounter:
            self.range_label.setText(self.tr("Visits from {first} to {last}.").format(
                first=report.first_encounter.isoformat(), last=report.last_encounter.isoformat()
            ))
        sample = report.sample_patient
        if sample is not None:
            self.sample_label.setText(self.tr(
                "Sample patient: chart {chart}, {name}, born {born}, 주민등록번호 {rrn}"
            ).format(chart=sample.chart_masked, name=sample.name_masked,
                     born=sample.birth_date.isoformat() if sample.birth_date else "?", rrn=sample.rrn_masked))

    def on_job_failed(self, error: BaseException) -> None:
        self.rescan_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_label.clear()

    def isComplete(self) -> bool:  # Qt override
        return self.session.scan_report is not None and not self.scan_runner.running
