"""Institution code and name, closing date, and the certificate that signs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from emr_exporter.gui.pages.base import ERROR_STYLE, OK_STYLE, WizardPageBase, buddy, message_label
from emr_exporter.gui.qt import (
    QDate,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QLocale,
    QPushButton,
    QRegularExpressionValidator,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
)
from emr_exporter.gui.session import DEMO_FOLDER, Session, prepare_demo_material
from emr_exporter.jobs import resume
from emr_exporter.model import KST


class InstitutionPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Institution and certificate"))
        self.setSubTitle(self.tr(
            "The clinic's 요양기관기호 and name, the closing date, and the certificate that signs the records."
        ))
        self.code_edit = QLineEdit()
        self.code_edit.setValidator(QRegularExpressionValidator(r"\d{0,8}"))
        self.code_edit.setPlaceholderText("12345678")
        self.code_edit.setMaxLength(8)
        self.name_edit = QLineEdit()
        self.closing_date_edit = QDateEdit(QDate.currentDate())
        self.closing_date_edit.setCalendarPopup(True)
        self.closing_date_edit.setDisplayFormat("yyyy-MM-dd")
        self.cert_path_edit = QLineEdit()
        self.browse_file_button = QPushButton(self.tr("&File…"))
        self.browse_folder_button = QPushButton(self.tr("F&older…"))
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.load_button = QPushButton(self.tr("&Load certificate"))
        self.cert_info_label = message_label(self.tr("Certificate"))
        self.code_hint_label = message_label(self.tr("Institution code check"))
        self.code_where_label = message_label(self.tr("Where to find the institution code"))
        self.code_where_label.setText(self.tr(
            "8 digits, on the clinic's opening certificate (개설신고증), on every claim, and in the EMR's clinic "
            "settings."
        ))
        self.code_hint_label.hide()
        self.custodian_edit = QLineEdit()
        self.contact_edit = QLineEdit()
        self.contact_edit.setPlaceholderText(self.tr("phone number"))
        # The 공동인증서 found on this PC and on USB sticks, as in the certificate windows of banks and 홈택스.
        self.cert_list = QTreeWidget()
        self.cert_list.setRootIsDecorated(False)
        self.cert_list.setHeaderLabels([self.tr("User"), self.tr("Purpose"), self.tr("Issuer"), self.tr("Expires"),
                                        self.tr("Where")])
        self.cert_list.setAccessibleName(self.tr("Certificates found on this PC"))
        self.cert_list.setMinimumHeight(96)
        self.certs_label = message_label(self.tr("Certificates found"))
        self.check_label = message_label(self.tr("Certificate and institution"))
        self.find_runner = self.new_runner()
        self.cert_runner = self.new_runner()
        self.prepare_runner = self.new_runner()

        form = QFormLayout()
        form.addRow(buddy(self.tr("요양기관기호 (&institution code):"), self.code_edit), self.code_edit)
        form.addRow("", self.code_hint_label)
        form.addRow("", self.code_where_label)
        form.addRow(buddy(self.tr("Clinic &name:"), self.name_edit), self.name_edit)
        form.addRow(buddy(self.tr("Closing &date:"), self.closing_date_edit), self.closing_date_edit)
        form.addRow(buddy(self.tr("Records c&ustodian:"), self.custodian_edit), self.custodian_edit)
        form.addRow(buddy(self.tr("Custodian's &contact:"), self.contact_edit), self.contact_edit)
        form.addRow(self.tr("Certificates:"), self.cert_list)
        form.addRow("", self.certs_label)
        cert_row = QHBoxLayout()
        cert_row.addWidget(self.cert_path_edit, 1)
        cert_row.addWidget(self.browse_file_button)
        cert_row.addWidget(self.browse_folder_button)
        form.addRow(buddy(self.tr("Cer&tificate:"), self.cert_path_edit), cert_row)
        password_row = QHBoxLayout()
        password_row.addWidget(self.password_edit, 1)
        password_row.addWidget(self.load_button)
        form.addRow(buddy(self.tr("Certificate &password:"), self.password_edit), password_row)
        layout = self.body_layout()
        layout.addLayout(form)
        layout.addWidget(self.cert_info_label)
        layout.addWidget(self.check_label)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.browse_file_button.setAccessibleName(self.tr("Choose a certificate file"))
        self.browse_folder_button.setAccessibleName(self.tr("Choose a 공동인증서 folder"))

        self.code_edit.textChanged.connect(self._on_code_changed)
        self.name_edit.textChanged.connect(self.check_signer)
        self.name_edit.textChanged.connect(self.completeChanged)
        self.cert_path_edit.textChanged.connect(self._forget_signer)
        self.password_edit.textChanged.connect(self._forget_signer)
        self.password_edit.returnPressed.connect(self.load_certificate)
        self.load_button.clicked.connect(self.load_certificate)
        self.browse_file_button.clicked.connect(self._browse_file)
        self.browse_folder_button.clicked.connect(self._browse_folder)
        self.cert_runner.succeeded.connect(self._on_signer)
        self.cert_runner.failed.connect(self.show_failure)
        self.cert_list.itemSelectionChanged.connect(self._on_cert_chosen)
        self.find_runner.succeeded.connect(self._on_certificates_found)
        self.find_runner.failed.connect(self.show_failure)
        self.prepare_runner.succeeded.connect(self._on_demo_ready)
        self.prepare_runner.failed.connect(self.show_failure)

    def initializePage(self) -> None:  # Qt override
        session = self.session
        self.code_edit.setText(session.institution_code)
        self.name_edit.setText(session.institution_name)
        if session.closing_date:
            self.closing_date_edit.setDate(QDate(session.closing_date))
        if session.certificate_path:
            self.cert_path_edit.setText(str(session.certificate_path))
        self.custodian_edit.setText(session.custodian)
        self.contact_edit.setText(session.custodian_contact)
        if not self.find_runner.running and self.cert_list.topLevelItemCount() == 0:
            self.certs_label.setText(self.tr("Looking for certificates on this PC and USB sticks…"))
            self.find_runner.start(lambda progress, cancel: self.find_certificates())
        if session.demo and session.demo_material is None:
            self.cert_info_label.setText(self.tr("Preparing the demo clinic…"))
            self.prepare_runner.start(lambda progress, cancel: prepare_demo_material(
                resume.app_data_dir() / DEMO_FOLDER
            ))
        elif session.demo and session.demo_material is not None:
            self._on_demo_ready(session.demo_material)

    def _on_demo_ready(self, material: Any) -> None:
        self.session.demo_material = material
        if not self.code_edit.text():
            self.code_edit.setText(material.institution_code)
        if not self.name_edit.text():
            self.name_edit.setText(material.institution_name)
        self.cert_path_edit.setText(str(material.institution_p12))
        self.password_edit.setText(material.institution_password)
        self.cert_info_label.setText(self.tr("Demo clinic ready. Its demo certificate's password is “demo”."))
        self.load_certificate()

    @staticmethod
    def find_certificates() -> list[Any]:
        from emr_exporter.jobs.certificates import find_certificates

        return find_certificates()

    def _on_certificates_found(self, found: list[Any]) -> None:
        korean = self.locale().language() == QLocale.Language.Korean
        pick = 0 if korean else 1
        places = {"this-pc": self.tr("this PC"), "removable": self.tr("USB stick / other drive"),
                  "home": self.tr("this PC")}
        self.cert_list.clear()
        for certificate in found:
            if certificate.needs_password_to_describe:
                columns = [certificate.path.name, self.tr("(shown after the password)"), "", "", ""]
            else:
                expires = certificate.not_after.isoformat() if certificate.not_after else ""
                if certificate.expired():
                    expires += " " + self.tr("(expired)")
                columns = [certificate.holder or "", certificate.purpose[pick] if certificate.purpose else "",
                           certificate.issuer[pick] if certificate.issuer else "", expires, ""]
            columns[4] = places.get(certificate.place, certificate.place)
            item = QTreeWidgetItem(columns)
            item.setData(0, Qt.ItemDataRole.UserRole, str(certificate.path))
            item.setToolTip(0, str(certificate.path))
            self.cert_list.addTopLevelItem(item)
        for column in range(5):
            self.cert_list.resizeColumnToContents(column)
        self.certs_label.setText(
            self.tr("{count} certificate(s) found. Choose one, or use File… / Folder… below.").format(
                count=len(found))
            if found else self.tr("No other certificate in the usual places; the one chosen below is used.")
            if self.cert_path_edit.text() else
            self.tr("No certificate found on this PC or a USB stick. Use File… or Folder… below."))

    def _on_cert_chosen(self) -> None:
        items = self.cert_list.selectedItems()
        if items:
            self.cert_path_edit.setText(str(items[0].data(0, Qt.ItemDataRole.UserRole)))
            self.password_edit.setFocus()

    def _on_code_changed(self, text: str) -> None:
        if text and len(text) != 8:
            self.code_hint_label.setText(self.tr("The 요양기관기호 has 8 digits."))
        else:
            self.code_hint_label.clear()
        self.code_hint_label.setVisible(bool(self.code_hint_label.text()))  # no empty gap under the field
        self.check_signer()
        self.completeChanged.emit()

    def _forget_signer(self) -> None:
        self.session.signer = None
        self.completeChanged.emit()

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the certificate file"), "", self.tr("Certificates (*.p12 *.pfx *.der);;All files (*)")
        )
        if path:
            self.cert_path_edit.setText(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Choose the 공동인증서 folder (with signCert.der)"))
        if path:
            self.cert_path_edit.setText(path)

    def load_certificate(self) -> None:
        if self.cert_runner.running:
            return
        path_text = self.cert_path_edit.text().strip()
        if not path_text:
            self.error_label.setText(self.tr("Choose the certificate file or folder first."))
            return
        path = Path(path_text)
        password = self.password_edit.text()
        self.show_error(None)
        self.cert_info_label.setText(self.tr("Opening the certificate…"))
        self.load_button.setEnabled(False)

        def load(progress: Any, cancel: Any) -> Any:
            from emr_exporter.jobs.bundles import load_signer

            return path, password, load_signer(path, password)

        self.cert_runner.start(load)

    def _on_signer(self, loaded: Any) -> None:
        path, password, signer = loaded
        self.load_button.setEnabled(True)
        session = self.session
        session.signer = signer
        session.certificate_path = path
        session.certificate_password = password
        certificate = signer.certificate
        from cryptography.x509.oid import NameOID

        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        holder = str(names[0].value) if names else certificate.subject.rfc4514_string()
        # the days in Korea (a certificate valid from 00:00 KST starts the day before in UTC)
        valid_to = certificate.not_valid_after_utc.astimezone(KST).date()
        text = self.tr("Certificate holder: {holder}\nValid from {start} to {end}").format(
            holder=holder, start=certificate.not_valid_before_utc.astimezone(KST).date().isoformat(),
            end=valid_to.isoformat()
        )
        days_left = (valid_to - dt.datetime.now(KST).date()).days
        if days_left < 30:
            text += "\n" + self.tr("It expires in {days} days: finish the export before then.").format(days=days_left)
        self.cert_info_label.setText(text)
        self.cert_info_label.setStyleSheet(OK_STYLE)
        self.check_signer()
        self.completeChanged.emit()
        self.jobFinished.emit()

    def check_signer(self, *_: object) -> None:
        """The export's own signer check, now: a certificate of another institution stops here, plainly."""
        from emr_exporter.jobs.signer import check_signer
        from emr_exporter.model import Institution

        session = self.session
        self.signer_check = None
        if session.signer is None or len(self.code_edit.text()) != 8 or not self.name_edit.text().strip():
            self.check_label.clear()
            return
        self.signer_check = check_signer(
            session.signer.certificate, Institution(code=self.code_edit.text(), name=self.name_edit.text().strip()))
        if self.signer_check.status == "mismatch":
            self.check_label.setText(self.tr(
                "This certificate seems to belong to another institution ({subject}). Choose the certificate of "
                "this clinic ({code})."
            ).format(subject=self.signer_check.subject, code=self.code_edit.text()))
            self.check_label.setStyleSheet(ERROR_STYLE)
        elif self.signer_check.status == "match":
            self.check_label.setText(self.tr("The certificate belongs to this clinic."))
            self.check_label.setStyleSheet(OK_STYLE)
        else:
            self.check_label.setText(self.tr(
                "The certificate names no institution to compare; make sure it is this clinic's certificate."))
            self.check_label.setStyleSheet("")
        self.completeChanged.emit()

    def on_job_failed(self, error: BaseException) -> None:
        self.load_button.setEnabled(True)
        self.cert_info_label.clear()
        self.cert_info_label.setStyleSheet("")

    def isComplete(self) -> bool:  # Qt override
        check = getattr(self, "signer_check", None)
        return (
            len(self.code_edit.text()) == 8
            and bool(self.name_edit.text().strip())
            and self.session.signer is not None
            and not self.cert_runner.running
            and (check is None or check.status != "mismatch")  # a clear stop: the export would refuse it too
        )

    def validatePage(self) -> bool:  # Qt override
        session = self.session
        session.institution_code = self.code_edit.text()
        session.institution_name = self.name_edit.text().strip()
        closing = self.closing_date_edit.date().toPython()
        session.closing_date = closing if isinstance(closing, dt.date) else None
        session.custodian = self.custodian_edit.text().strip()
        session.custodian_contact = self.contact_edit.text().strip()
        session.save("emr")
        return True
