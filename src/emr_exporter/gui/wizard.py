"""The founder's wizard: a QWizard over the pages in :mod:`emr_exporter.gui.pages` (one module per page)."""

from __future__ import annotations

from emr_exporter.gui.pages import (
    DonePage,
    EmrPage,
    ExportPage,
    InstitutionPage,
    ScanPage,
    StartPage,
    UploadPage,
    VerifyPage,
    WizardPageBase,
)
from emr_exporter.gui.qt import QWidget, QWizard
from emr_exporter.gui.session import Session


class ExportWizard(QWizard):
    """Page attributes end in ``_page``: never name one ``done``/``next``/``result`` (desktop.md §1.3)."""

    def __init__(self, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session or Session()
        self.setWindowTitle(self.tr("EMR records export — 진료기록 이관"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.start_page = StartPage(self.session)
        self.institution_page = InstitutionPage(self.session)
        self.emr_page = EmrPage(self.session)
        self.scan_page = ScanPage(self.session)
        self.export_page = ExportPage(self.session)
        self.verify_page = VerifyPage(self.session)
        self.upload_page = UploadPage(self.session)
        self.done_page = DonePage(self.session)
        for wizard_page in self.all_pages():
            self.addPage(wizard_page)
        self.resize(820, 620)

    def all_pages(self) -> list[WizardPageBase]:
        return [
            self.start_page, self.institution_page, self.emr_page, self.scan_page, self.export_page,
            self.verify_page, self.upload_page, self.done_page,
        ]

    def upload_page_id(self) -> int:
        return self.pageIds()[self.all_pages().index(self.upload_page)]

    def verify_page_id(self) -> int:
        return self.pageIds()[self.all_pages().index(self.verify_page)]

    def busy(self) -> bool:
        return any(p.busy() for p in self.all_pages())

    def done(self, code: int) -> None:  # QDialog.done: Finish, Cancel, Esc and closing the window
        # Stop every job and wait for it: an export stops at a safe point and its journal lets the next
        # start continue. A running QThread is never destroyed (desktop.md §1.3).
        if self.busy():
            self.hide()  # the window goes away at once; the job stops at its next safe point
        for wizard_page in self.all_pages():
            wizard_page.stop_jobs()
        self.session.stop_demo_store()
        if code == QWizard.DialogCode.Accepted and self.currentPage() is self.done_page:
            from emr_exporter.jobs import resume

            resume.clear_state()
        super().done(code)
