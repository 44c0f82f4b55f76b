"""The first page: this clinic, the demo clinic, or continue the unfinished export."""

from __future__ import annotations

from emr_exporter.gui import texts
from emr_exporter.gui.pages.base import WizardPageBase, message_label
from emr_exporter.gui.qt import (
    QButtonGroup,
    QLabel,
    QRadioButton,
    QVBoxLayout,
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
        self.choice_group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        for number, radio in enumerate((self.real_radio, self.demo_radio, self.resume_radio)):
            self.choice_group.addButton(radio, number)
            layout.addWidget(radio)
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

    def nextId(self) -> int:  # Qt override
        # A bundle sealed in an earlier run: continue at the check, do not export a second one.
        if self.resume_radio.isChecked() and self.session.outcome is not None:
            wizard = self.wizard()
            return wizard.verify_page_id() if hasattr(wizard, "verify_page_id") else super().nextId()
        return super().nextId()

    def validatePage(self) -> bool:  # Qt override
        session = self.session
        if self.resume_radio.isChecked() and self.saved_state is not None:
            session.restore(self.saved_state)
        else:
            session.demo = self.demo_radio.isChecked()
            session.resumed_from_state = False
            session.outcome = None
        return True
