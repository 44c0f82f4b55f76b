"""Check: reconciliation (nothing left behind) and the sealed file's verification."""

from __future__ import annotations

from typing import Any

from emr_exporter.gui import texts
from emr_exporter.gui.pages.base import ERROR_STYLE, OK_STYLE, WizardPageBase, message_label
from emr_exporter.gui.qt import (
    QAbstractItemView,
    QHeaderView,
    Qt,
    QTableWidget,
    QTableWidgetItem,
)
from emr_exporter.gui.session import Session


class VerifyPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Check"))
        self.setSubTitle(self.tr("Nothing left behind, and the sealed file is intact and correctly signed."))
        self.summary_label = message_label(self.tr("Reconciliation"))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Record type"), self.tr("In the EMR"), self.tr("Exported"), self.tr("Set aside")]
        )
        self.table.setAccessibleName(self.tr("Reconciliation per type"))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.cells_label = message_label(self.tr("Every value"))
        self.quarantine_label = message_label(self.tr("Records set aside"))
        self.bundle_label = message_label(self.tr("Sealed file check"))
        self.verify_runner = self.new_runner()
        layout = self.body_layout()
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.cells_label)
        layout.addWidget(self.quarantine_label)
        layout.addWidget(self.bundle_label)
        layout.addWidget(self.error_label)
        self.verify_runner.succeeded.connect(self._on_verified)
        self.verify_runner.failed.connect(self.show_failure)

    def initializePage(self) -> None:  # Qt override
        outcome = self.session.outcome
        reconciliation = outcome.reconciliation
        # Every row of the EMR: the ones kept exactly as they are (other tables, carried sections) too.
        totals = reconciliation.row_totals
        if reconciliation.balanced:
            self.summary_label.setText(self.tr(
                "Nothing left behind: all {rows} records of the EMR are accounted for — {exported} exported, "
                "{kept} kept exactly as they are, {aside} set aside."
            ).format(rows=texts.number(totals["source_rows"]), exported=texts.number(totals["exported"]),
                     kept=texts.number(totals["carried"]), aside=texts.number(totals["quarantined"])))
            self.summary_label.setStyleSheet(OK_STYLE)
        else:
            self.summary_label.setText(self.tr("The counts do not add up. Do not send this file; export again."))
            self.summary_label.setStyleSheet(ERROR_STYLE)
        cells = reconciliation.cell_totals
        # Cell by cell, in plain words: every value of the EMR is in a new record, kept as it was, or set aside.
        self.cells_label.setText(self.tr(
            "Every value checked: {source} values in the EMR — {mapped} in the new records, {carried} kept exactly "
            "as they were beside the records, {aside} in the set-aside records."
        ).format(source=texts.number(cells["source"]), mapped=texts.number(cells["mapped"]),
                 carried=texts.number(cells["carried_raw"]), aside=texts.number(cells["quarantined"])))
        lines = []
        kinds = self.session.section_kinds()  # a section by its record type, as on the scan page
        for entity in reconciliation.entities:
            lines.append([texts.section_name(entity.entity, kinds.get(entity.entity, "")),
                          texts.number(entity.source_rows),
                          texts.number(entity.exported), texts.number(entity.quarantined)])
        if reconciliation.tables:  # the EMR's other tables, carried as they are (as on the scan page)
            other = reconciliation.table_totals
            lines.append([self.tr("Other EMR data, kept exactly as it is ({tables} tables)").format(
                tables=texts.number(len(reconciliation.tables))), texts.number(other["source_rows"]),
                texts.number(other["carried"]), texts.number(0)])
        for section in reconciliation.sections:  # rows no record type fits, kept as they are with their reason
            lines.append([texts.carried_section(section.table, section.reason), texts.number(section.source_rows),
                          texts.number(section.carried), texts.number(0)])
        self.table.setRowCount(len(lines))
        for row, cells in enumerate(lines):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        # What was set aside and why, per reason, and whether there is anything to do: the core's wording (the
        # same as `emr-export export` prints), each section named as in the table above.
        self.quarantine_label.setText(texts.set_aside(reconciliation, kinds))
        if self.session.verify_report is None:
            self.bundle_label.setText(self.tr("Checking the sealed file…"))
            self.verify_runner.start(self.session.verify)
        else:
            self._on_verified(self.session.verify_report)

    def _on_verified(self, report: Any) -> None:
        self.session.verify_report = report
        self.bundle_label.setText(self.tr(
            "Sealed file verified: signature valid, {parts} part(s) intact, {size}. File: {path}"
        ).format(parts=report.parts, size=texts.data_size(report.size), path=str(report.path)))
        self.bundle_label.setStyleSheet(OK_STYLE)
        self.session.save("upload")
        self.completeChanged.emit()
        self.jobFinished.emit()

    def on_job_failed(self, error: BaseException) -> None:
        self.bundle_label.clear()

    def isComplete(self) -> bool:  # Qt override
        outcome = self.session.outcome
        return (
            self.session.verify_report is not None
            and outcome is not None
            and outcome.reconciliation.balanced
            and not self.verify_runner.running
        )
