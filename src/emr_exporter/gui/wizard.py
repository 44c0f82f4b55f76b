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
from emr_exporter.gui.qt import QMessageBox, QWidget, QWizard
from emr_exporter.gui.session import Session

#: The wizard's smallest size in logical pixels: fits 1366×768 at 150 % (910×512) and 1024×768 at 125 %
#: (819×614) with room for the title bar and the taskbar.
MINIMUM_WIDTH = 720
MINIMUM_HEIGHT = 440


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
        pages = self.all_pages()
        for number, (wizard_page, help_text) in enumerate(zip(pages, self.help_texts(), strict=True), 1):
            wizard_page.set_step(number, len(pages), help_text)
        # Resizable; small enough for 1024×768 at 125 % and 1366×768 at 150 % (pages scroll rather than cut).
        self.setMinimumSize(MINIMUM_WIDTH, MINIMUM_HEIGHT)
        # Back during work asks first (it stops the work at a safe point); Qt's own Back would just go.
        back_button = self.button(QWizard.WizardButton.BackButton)
        back_button.clicked.disconnect()
        back_button.clicked.connect(self.ask_before_back)
        self.setSizeGripEnabled(True)
        self.resize(820, 620)

    def ask_before_back(self) -> bool:
        """Go back; while a job runs, only if the founder says so. Returns whether it went back."""
        current = self.currentPage()
        if isinstance(current, WizardPageBase) and current.busy():
            answer = QMessageBox.question(
                self, self.tr("Stop and go back?"),
                self.tr("Work is running on this page. Going back stops it at a safe point; nothing is lost and it "
                        "can continue later. Go back?"),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.back()
        return True

    def help_texts(self) -> list[str]:
        """One short help line per page, in the order of :meth:`all_pages`."""
        return [
            self.tr("Help: choose the demo clinic first if you want to practise. Nothing is sent without your "
                    "say-so."),
            self.tr("Help: the 요양기관기호 is the 8-digit number on the clinic's opening certificate and on every "
                    "claim. Pick the clinic's certificate from the list (the one used for 홈택스 or claims)."),
            self.tr("Help: the program looks for the EMR on this PC by itself. If it finds nothing, ask the EMR "
                    "company where its database is."),
            self.tr("Help: nothing is changed in the EMR. Records that cannot be converted are kept separately, "
                    "as they are."),
            self.tr("Help: you can stop at any time and continue later; nothing is lost. A USB stick works as "
                    "the destination too."),
            self.tr("Help: every record of the EMR must be accounted for here before the file is sent."),
            self.tr("Help: sending can be paused and continued. Without internet here, carry the file to "
                    "another PC on a USB stick."),
            self.tr("Help: print the transfer report, sign or seal it, and hand it to the health centre "
                    "(보건소) with the receipt number."),
        ]

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
