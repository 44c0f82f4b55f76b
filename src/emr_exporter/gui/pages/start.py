"""The first page: this clinic, the demo clinic, or continue the unfinished export."""

from __future__ import annotations

from pathlib import Path

from emr_exporter.gui import texts
from emr_exporter.gui.pages.base import WizardPageBase, buddy, message_label
from emr_exporter.gui.qt import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStorageInfo,
)
from emr_exporter.gui.session import Session
from emr_exporter.jobs import resume


class StartPage(WizardPageBase):
    """Choose: this clinic, the demo clinic, or continue what was left unfinished."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Welcome"))
        self.setSubTitle(self.tr(
            "This program copies every medical record of the clinic, seals it with the clinic's certificate "
            "and hands it to the national record storage system (진료기록보관시스템)."
        ))
        self.saved_state = resume.load_state()
        self.real_radio = QRadioButton(self.tr("&Export this clinic's records"))
        self.demo_radio = QRadioButton(self.tr("Try everything with the &demo clinic (made-up patients)"))
        self.resume_radio = QRadioButton(self.tr("&Continue the unfinished export"))
        # The other PC: a sealed file brought on a USB stick is sent from here, with no command line.
        self.send_file_radio = QRadioButton(self.tr("Send a sealed &file brought from another PC (USB stick)"))
        self.send_file_edit = QLineEdit()
        self.send_file_edit.setPlaceholderText(self.tr("the .emrx file on the USB stick"))
        self.send_file_button = QPushButton(self.tr("&Browse…"))
        self.choice_group = QButtonGroup(self)
        layout = self.body_layout()
        for number, radio in enumerate((self.real_radio, self.demo_radio, self.resume_radio, self.send_file_radio)):
            self.choice_group.addButton(radio, number)
            layout.addWidget(radio)
        file_row = QHBoxLayout()
        file_row.addWidget(buddy(self.tr("Sealed f&ile:"), self.send_file_edit))
        file_row.addWidget(self.send_file_edit, 1)
        file_row.addWidget(self.send_file_button)
        layout.addLayout(file_row)
        self.resume_label = message_label(self.tr("Unfinished export"))
        layout.addWidget(self.resume_label)
        if self.saved_state is not None and self.saved_state.step not in ("institution", "done"):
            name = self.saved_state.institution_name or self.saved_state.institution_code
            self.resume_label.setText(self.tr(
                "An export of {name} was not finished (it stopped at the {step} step). Nothing was lost: "
                "continue it, or start again."
            ).format(name=name, step=texts.step_name(self.saved_state.step)))
            self.resume_radio.setChecked(True)
        else:
            self.resume_radio.hide()
            self.resume_label.hide()
            self.real_radio.setChecked(True)
        layout.addStretch(1)
        note = QLabel(self.tr(
            "You will need: the clinic's certificate (공동인증서 or .p12 file) and its password, and access to "
            "the EMR database on this PC."
        ))
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        self.send_file_button.clicked.connect(self._browse_bundle)
        self.choice_group.idToggled.connect(self._on_choice)
        self.send_file_edit.textChanged.connect(self._on_choice)
        self._on_choice()

    def _on_choice(self, *_: object) -> None:
        sending = self.send_file_radio.isChecked()
        self.send_file_edit.setEnabled(sending)
        self.send_file_button.setEnabled(sending)
        if sending and not self.send_file_edit.text():
            found = self.bundles_on_drives()
            if found:
                self.send_file_edit.setText(str(found[0]))
        self.completeChanged.emit()

    @staticmethod
    def bundles_on_drives() -> list[Path]:
        """Sealed files at the top of the mounted drives other than the system one (USB sticks)."""
        from emr_exporter.jobs.carry import bundles_on_removable_drives

        roots = [Path(v.rootPath()) for v in QStorageInfo.mountedVolumes()
                 if v.isValid() and v.isReady() and not v.isRoot() and not v.isReadOnly()]
        return bundles_on_removable_drives(roots)

    def _browse_bundle(self) -> None:
        drives = [v.rootPath() for v in QStorageInfo.mountedVolumes() if v.isValid() and not v.isRoot()]
        start = self.send_file_edit.text() or (drives[-1] if drives else "")
        chosen, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the sealed file (.emrx)"), start, self.tr("Sealed file (*.emrx)"))
        if chosen:
            self.send_file_edit.setText(chosen)

    def isComplete(self) -> bool:  # Qt override
        if self.send_file_radio.isChecked():
            return bool(self.send_file_edit.text().strip())
        return super().isComplete()

    def nextId(self) -> int:  # Qt override
        wizard = self.wizard()
        if self.send_file_radio.isChecked() and hasattr(wizard, "upload_page_id"):
            return int(wizard.upload_page_id())
        # A bundle sealed in an earlier run: continue where it stopped (sending, else the check); never export
        # a second one.
        if self.resume_radio.isChecked() and self.session.outcome is not None:
            saved = self.saved_state.step if self.saved_state is not None else ""
            if saved in ("upload", "done") and hasattr(wizard, "upload_page_id"):
                return int(wizard.upload_page_id())
            return wizard.verify_page_id() if hasattr(wizard, "verify_page_id") else super().nextId()
        return super().nextId()

    def validatePage(self) -> bool:  # Qt override
        session = self.session
        session.carried = False
        if self.send_file_radio.isChecked():
            from emr_exporter.errors import EmrExporterError
            from emr_exporter.jobs.carry import carried_bundle

            try:
                session.outcome = carried_bundle(Path(self.send_file_edit.text().strip()))
            except EmrExporterError as exc:
                self.show_error(exc)
                return False
            self.show_error(None)
            session.carried = True
            session.demo = session.outcome.connector == "demo"
            session.institution_code = session.outcome.institution.code
            session.institution_name = session.outcome.institution.name
            session.upload_result = None
            return True
        if self.resume_radio.isChecked() and self.saved_state is not None:
            session.restore(self.saved_state)
        else:
            session.demo = self.demo_radio.isChecked()
            session.resumed_from_state = False
            session.outcome = None
        return True
