"""The wizard's pages. Each page reads and writes the shared :class:`Session`; long work goes to a JobRunner.

Naming rule (desktop.md §1.3): no attribute may shadow a Qt method (``done``, ``next``, ``result``,
``thread``, ``page``, ``field``...); widgets end in ``_edit``, ``_button``, ``_label``, runners in ``_runner``.
Signals a test can wait on (``jobFinished``, ``jobFailed``) are emitted in the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from emr_exporter.gui import texts
from emr_exporter.gui.qt import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDate,
    QDateEdit,
    QDesktopServices,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QLocale,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QRegularExpressionValidator,
    QStorageInfo,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QUrl,
    QVBoxLayout,
    QWidget,
    QWizardPage,
    Signal,
)
from emr_exporter.gui.session import DEMO_FOLDER, Session, default_out_dir, prepare_demo_material
from emr_exporter.gui.workers import JobRunner
from emr_exporter.jobs import resume

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"


def _message_label(name: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    return label


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A form label with a mnemonic that moves keyboard focus to its field (and names it for screen readers)."""
    label = QLabel(text)
    label.setBuddy(widget)
    widget.setAccessibleName(text.replace("&", ""))
    return label


class WizardPageBase(QWizardPage):
    jobFinished = Signal()  # Qt naming for signals
    jobFailed = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.error_label = _message_label("error")
        self.error_label.setStyleSheet(ERROR_STYLE)

    def show_error(self, error: BaseException | None) -> None:
        if error is None:
            self.error_label.clear()
            return
        summary = texts.error_summary(error)
        detail = str(error)
        self.error_label.setText(summary if not detail or detail == summary else f"{summary}\n{detail}")

    def new_runner(self) -> JobRunner:
        """A runner whose end re-checks the page: isComplete() is false while any job's thread runs."""
        runner = JobRunner(self)
        runner.ended.connect(self.completeChanged)
        runner.ended.connect(self.on_job_ended)
        return runner

    def on_job_ended(self) -> None:
        """Called in the GUI thread once a job's thread has stopped; pages re-enable their buttons here."""

    def runners(self) -> list[JobRunner]:
        return [v for v in vars(self).values() if isinstance(v, JobRunner)]

    def stop_jobs(self) -> None:
        for runner in self.runners():
            runner.stop()

    def busy(self) -> bool:
        return any(r.running for r in self.runners())

    def cleanupPage(self) -> None:  # Qt override: Back
        # Leaving a page stops its work at a safe point (an export keeps its sealed parts and journal).
        self.stop_jobs()


# --------------------------------------------------------------------------------------------- start


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
        self.resume_label = _message_label(self.tr("Unfinished export"))
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


# --------------------------------------------------------------------------------------- institution


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
        self.cert_info_label = _message_label(self.tr("Certificate"))
        self.code_hint_label = _message_label(self.tr("Institution code check"))
        self.cert_runner = self.new_runner()
        self.prepare_runner = self.new_runner()

        form = QFormLayout()
        form.addRow(_buddy(self.tr("요양기관기호 (&institution code):"), self.code_edit), self.code_edit)
        form.addRow("", self.code_hint_label)
        form.addRow(_buddy(self.tr("Clinic &name:"), self.name_edit), self.name_edit)
        form.addRow(_buddy(self.tr("Closing &date:"), self.closing_date_edit), self.closing_date_edit)
        cert_row = QHBoxLayout()
        cert_row.addWidget(self.cert_path_edit, 1)
        cert_row.addWidget(self.browse_file_button)
        cert_row.addWidget(self.browse_folder_button)
        form.addRow(_buddy(self.tr("Cer&tificate:"), self.cert_path_edit), cert_row)
        password_row = QHBoxLayout()
        password_row.addWidget(self.password_edit, 1)
        password_row.addWidget(self.load_button)
        form.addRow(_buddy(self.tr("Certificate &password:"), self.password_edit), password_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.cert_info_label)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.browse_file_button.setAccessibleName(self.tr("Choose a certificate file"))
        self.browse_folder_button.setAccessibleName(self.tr("Choose a 공동인증서 folder"))

        self.code_edit.textChanged.connect(self._on_code_changed)
        self.name_edit.textChanged.connect(self.completeChanged)
        self.cert_path_edit.textChanged.connect(self._forget_signer)
        self.password_edit.textChanged.connect(self._forget_signer)
        self.password_edit.returnPressed.connect(self.load_certificate)
        self.load_button.clicked.connect(self.load_certificate)
        self.browse_file_button.clicked.connect(self._browse_file)
        self.browse_folder_button.clicked.connect(self._browse_folder)
        self.cert_runner.succeeded.connect(self._on_signer)
        self.cert_runner.failed.connect(self._on_failure)
        self.prepare_runner.succeeded.connect(self._on_demo_ready)
        self.prepare_runner.failed.connect(self._on_failure)

    def initializePage(self) -> None:  # Qt override
        session = self.session
        self.code_edit.setText(session.institution_code)
        self.name_edit.setText(session.institution_name)
        if session.closing_date:
            self.closing_date_edit.setDate(QDate(session.closing_date))
        if session.certificate_path:
            self.cert_path_edit.setText(str(session.certificate_path))
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

    def _on_code_changed(self, text: str) -> None:
        if text and len(text) != 8:
            self.code_hint_label.setText(self.tr("The 요양기관기호 has 8 digits."))
        else:
            self.code_hint_label.clear()
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
            from emr_exporter.bundle.keys import load_signer

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
        valid_to = certificate.not_valid_after_utc.date()
        text = self.tr("Certificate holder: {holder}\nValid from {start} to {end}").format(
            holder=holder, start=certificate.not_valid_before_utc.date().isoformat(), end=valid_to.isoformat()
        )
        days_left = (valid_to - dt.date.today()).days
        if days_left < 30:
            text += "\n" + self.tr("It expires in {days} days: finish the export before then.").format(days=days_left)
        self.cert_info_label.setText(text)
        self.cert_info_label.setStyleSheet(OK_STYLE)
        self.completeChanged.emit()
        self.jobFinished.emit()

    def _on_failure(self, error: Any) -> None:
        self.load_button.setEnabled(True)
        self.cert_info_label.clear()
        self.cert_info_label.setStyleSheet("")
        self.show_error(error)
        self.completeChanged.emit()
        self.jobFailed.emit(str(error))

    def isComplete(self) -> bool:  # Qt override
        return (
            len(self.code_edit.text()) == 8
            and bool(self.name_edit.text().strip())
            and self.session.signer is not None
            and not self.cert_runner.running
        )

    def validatePage(self) -> bool:  # Qt override
        session = self.session
        session.institution_code = self.code_edit.text()
        session.institution_name = self.name_edit.text().strip()
        session.closing_date = self.closing_date_edit.date().toPython()
        session.save("emr")
        return True


# ----------------------------------------------------------------------------------------------- EMR


class EmrPage(WizardPageBase):
    searchFinished = Signal()  # the search of this PC has ended (its candidates are listed)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Which EMR"))
        self.setSubTitle(self.tr(
            "Where the EMR keeps its database. Press Test connection: the program recognises the EMR by itself."
        ))
        # Found on this PC: the places the installed connectors declare, opened and scored in a worker.
        self.found_combo = QComboBox()
        self.search_label = _message_label(self.tr("Search result"))
        self.search_runner = self.new_runner()
        self._candidates: list[Any] = []
        self._searched = False
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(self.tr("A database file on this PC"), "file")
        self.kind_combo.addItem(self.tr("An ODBC data source set up on this PC (DSN)"), "dsn")
        self.kind_combo.addItem(self.tr("A database server (ODBC connection string)"), "odbc")
        self.dsn_combo = QComboBox()
        self.database_edit = QLineEdit()
        self.browse_button = QPushButton(self.tr("&Browse…"))
        self.odbc_edit = QLineEdit()
        self.odbc_edit.setPlaceholderText("DRIVER={...};SERVER=...;DATABASE=...;UID=...")
        self.db_password_edit = QLineEdit()
        self.db_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.attachments_edit = QLineEdit()
        self.test_button = QPushButton(self.tr("&Test connection"))
        self.connector_combo = QComboBox()
        self.status_label = _message_label(self.tr("Connection result"))
        self.test_runner = self.new_runner()
        self._tested_key: tuple[Any, ...] | None = None

        form = QFormLayout()
        form.addRow(_buddy(self.tr("Fo&und on this PC:"), self.found_combo), self.found_combo)
        form.addRow(self.search_label)
        form.addRow(_buddy(self.tr("&Kind:"), self.kind_combo), self.kind_combo)
        file_row = QHBoxLayout()
        file_row.addWidget(self.database_edit, 1)
        file_row.addWidget(self.browse_button)
        form.addRow(_buddy(self.tr("Database &file:"), self.database_edit), file_row)
        form.addRow(_buddy(self.tr("Data &source:"), self.dsn_combo), self.dsn_combo)
        form.addRow(_buddy(self.tr("&ODBC connection:"), self.odbc_edit), self.odbc_edit)
        form.addRow(_buddy(self.tr("Database pass&word:"), self.db_password_edit), self.db_password_edit)
        form.addRow(_buddy(self.tr("&Attachments folder:"), self.attachments_edit), self.attachments_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.status_label)
        connector_form = QFormLayout()
        connector_form.addRow(_buddy(self.tr("&EMR program:"), self.connector_combo), self.connector_combo)
        layout.addLayout(connector_form)
        layout.addWidget(self.error_label)
        layout.addStretch(1)

        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.dsn_combo.currentIndexChanged.connect(self.completeChanged)
        self.browse_button.clicked.connect(self._browse)
        self.test_button.clicked.connect(self.test_connection)
        self.connector_combo.currentIndexChanged.connect(self.completeChanged)
        for edit in (self.database_edit, self.odbc_edit, self.db_password_edit):
            edit.textChanged.connect(self.completeChanged)
        self.test_runner.succeeded.connect(self._on_tested)
        self.test_runner.failed.connect(self._on_failure)
        self.found_combo.activated.connect(self._on_candidate_chosen)
        self.search_runner.succeeded.connect(self._on_searched)
        self.search_runner.failed.connect(self._on_search_failed)
        self._on_kind()

    def _on_kind(self) -> None:
        kind = self.kind_combo.currentData()
        is_file = kind == "file"
        self.dsn_combo.setEnabled(kind == "dsn")
        self.database_edit.setEnabled(is_file)
        self.browse_button.setEnabled(is_file)
        self.odbc_edit.setEnabled(kind == "odbc")
        self.db_password_edit.setEnabled(not is_file)
        self.completeChanged.emit()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the EMR database file"))
        if path:
            self.database_edit.setText(path)

    def _fill_dsns(self) -> None:
        """The ODBC data sources configured on this PC (names only; quick, no connection is made)."""
        if self.dsn_combo.count():
            return
        try:
            from emr_exporter.sources.connect import list_dsns

            sources = list_dsns()
        except Exception:  # no ODBC driver manager on this PC: the DSN choice simply stays empty
            sources = {}
        for name, driver in sorted(sources.items()):
            self.dsn_combo.addItem(f"{name} ({driver})", name)

    def initializePage(self) -> None:  # Qt override
        self._fill_dsns()
        session = self.session
        if session.demo and session.demo_material is not None and not self.database_edit.text():
            self.database_edit.setText(str(session.demo_material.database))
            self.attachments_edit.setText(str(session.demo_material.attachments_root))
        elif session.source_kwargs and not self.database_edit.text() and not self.odbc_edit.text():
            if session.source_kwargs.get("database"):
                self.database_edit.setText(str(session.source_kwargs["database"]))
            elif session.source_kwargs.get("dsn"):
                self.kind_combo.setCurrentIndex(self.kind_combo.findData("dsn"))
                self.dsn_combo.setCurrentIndex(max(0, self.dsn_combo.findData(session.source_kwargs["dsn"])))
            elif session.source_kwargs.get("odbc"):
                self.kind_combo.setCurrentIndex(self.kind_combo.findData("odbc"))
                self.odbc_edit.setText(str(session.source_kwargs["odbc"]))
            if session.attachments_root:
                self.attachments_edit.setText(str(session.attachments_root))
        if self.source_kwargs() and self._tested_key is None:
            self.test_connection()
        if not self._searched:
            self.search_pc()

    def search_pc(self) -> None:
        """Look where the installed connectors say their EMR lives (files, DSN names) and score each place."""
        if self.search_runner.running:
            return
        self._searched = True
        self.found_combo.clear()
        self.found_combo.setEnabled(False)
        self.search_label.setText(self.tr("Looking for the EMR on this PC…"))

        def search(progress: Any, cancel: Any) -> Any:
            from emr_exporter.authoring.scan import search_this_pc

            return search_this_pc(cancel=cancel)

        self.search_runner.start(search)

    def _candidate_text(self, candidate: Any) -> str:
        place = candidate.where if candidate.kind == "file" else f"DSN {candidate.where}"
        if candidate.needs_password:
            return self.tr("{product} — {place} (needs the database password)").format(
                product=candidate.product, place=place)
        return self.tr("{product} — {percent}% sure — {place}").format(
            product=candidate.product, percent=candidate.percent, place=place)

    def _on_searched(self, candidates: Any) -> None:
        # Only places worth offering: a place the connector's tables were not found in is left out.
        self._candidates = [c for c in candidates if c.confidence > 0]
        self.found_combo.clear()
        for index, candidate in enumerate(self._candidates):
            self.found_combo.addItem(self._candidate_text(candidate), index)
        self.found_combo.setEnabled(bool(self._candidates))
        if not self._candidates:
            self.search_label.setText(self.tr(
                "No EMR database was found where the installed connectors look. Choose the file or data "
                "source below."))
        elif self.source_kwargs() or self.test_runner.running:
            # The founder (or the saved session) already chose a database: only offer what was found.
            self.search_label.setText(self.tr("Found {count} possible EMR database(s) on this PC.").format(
                count=len(self._candidates)))
        else:
            self.found_combo.setCurrentIndex(0)
            self._on_candidate_chosen(0)
        self.searchFinished.emit()

    def _on_candidate_chosen(self, index: int) -> None:
        if not 0 <= index < len(self._candidates):
            return
        candidate = self._candidates[index]
        if candidate.kind == "file":
            self.kind_combo.setCurrentIndex(self.kind_combo.findData("file"))
            self.database_edit.setText(candidate.where)
        else:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData("dsn"))
            if self.dsn_combo.findData(candidate.where) < 0:
                self.dsn_combo.addItem(candidate.where, candidate.where)
            self.dsn_combo.setCurrentIndex(self.dsn_combo.findData(candidate.where))
        if candidate.needs_password:
            self.search_label.setText(self.tr(
                "Found {product} at {place}. It needs the database password: type it and press Test "
                "connection.").format(product=candidate.product, place=candidate.where))
            self.db_password_edit.setFocus()
            return
        self.search_label.setText(self.tr("Found {product} at {place} ({percent}% sure).").format(
            product=candidate.product, place=candidate.where, percent=candidate.percent))
        self.test_connection()

    def _on_search_failed(self, error: Any) -> None:
        # The search is a convenience: the founder can still choose the database by hand.
        self.search_label.setText(self.tr("The search of this PC did not finish. Choose the file or data "
                                          "source below."))
        self.searchFinished.emit()

    def source_kwargs(self) -> dict[str, Any]:
        if self.kind_combo.currentData() == "file":
            text = self.database_edit.text().strip()
            return {"database": Path(text)} if text else {}
        if self.kind_combo.currentData() == "dsn":
            dsn = self.dsn_combo.currentData()
            kwargs: dict[str, Any] = {"dsn": dsn} if dsn else {}
            if dsn and self.db_password_edit.text():
                kwargs["password"] = self.db_password_edit.text()
            return kwargs
        text = self.odbc_edit.text().strip()
        kwargs = {"odbc": text} if text else {}
        if text and self.db_password_edit.text():
            kwargs["password"] = self.db_password_edit.text()
        return kwargs

    def _key(self) -> tuple[Any, ...]:
        return tuple(sorted((k, str(v)) for k, v in self.source_kwargs().items()))

    def test_connection(self) -> None:
        if self.test_runner.running:
            return
        kwargs = self.source_kwargs()
        if not kwargs:
            self.error_label.setText(self.tr("Choose the database file or type the connection first."))
            return
        self.show_error(None)
        self._tested_key = None
        self.status_label.setStyleSheet("")
        self.status_label.setText(self.tr("Connecting…"))
        self.test_button.setEnabled(False)
        self.connector_combo.clear()
        self.completeChanged.emit()

        def test(progress: Any, cancel: Any) -> Any:
            from emr_exporter.authoring.scan import detect_connectors, test_connection
            from emr_exporter.connectors import list_connectors
            from emr_exporter.errors import ConnectorSpecError

            label = test_connection(kwargs)
            detections = detect_connectors(kwargs)
            installed = [s for s in list_connectors() if not isinstance(s, ConnectorSpecError)]
            return self._key_for(kwargs), label, detections, installed

        self.test_runner.start(test)

    @staticmethod
    def _key_for(kwargs: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(sorted((k, str(v)) for k, v in kwargs.items()))

    def _on_tested(self, found: Any) -> None:
        key, label, detections, installed = found
        self.test_button.setEnabled(True)
        self._tested_key = key
        self.connector_combo.clear()
        detected = {d.connector for d in detections}
        for detection in detections:
            version = detection.version or "?"
            self.connector_combo.addItem(
                self.tr("{product} — {percent}% match, version {version}").format(
                    product=detection.product, percent=detection.percent, version=version
                ),
                detection.connector,
            )
        for spec in installed:
            if spec.name not in detected:
                self.connector_combo.addItem(
                    self.tr("{product} — not recognised in this database").format(product=spec.product or spec.name),
                    spec.name,
                )
        if detections:
            best = detections[0]
            message = self.tr("Connected to {label}. Recognised: {product} ({percent}% sure).").format(
                label=label, product=best.product, percent=best.percent
            )
        else:
            message = self.tr("Connected to {label}, but no installed EMR connector recognises it. "
                              "Choose one, or ask your IT contractor.").format(label=label)
        if self.session.connector:
            index = self.connector_combo.findData(self.session.connector)
            if index >= 0:
                self.connector_combo.setCurrentIndex(index)
        self.status_label.setText(message)
        self.status_label.setStyleSheet(OK_STYLE)
        self.completeChanged.emit()
        self.jobFinished.emit()

    def _on_failure(self, error: Any) -> None:
        self.test_button.setEnabled(True)
        self.status_label.clear()
        self.show_error(error)
        self.completeChanged.emit()
        self.jobFailed.emit(str(error))

    def isComplete(self) -> bool:  # Qt override
        return (
            self._tested_key is not None
            and self._tested_key == self._key()
            and self.connector_combo.currentData() is not None
            and not self.test_runner.running
        )

    def validatePage(self) -> bool:  # Qt override
        session = self.session
        connector = str(self.connector_combo.currentData())
        kwargs = self.source_kwargs()
        if (connector, self._key_for(kwargs)) != (session.connector, self._key_for(session.source_kwargs)):
            # Another database or EMR: what was scanned, sealed and sent belongs to the previous one.
            session.scan_report = None
            session.outcome = session.verify_report = session.upload_result = None
        session.connector = connector
        session.source_kwargs = kwargs
        text = self.attachments_edit.text().strip()
        session.attachments_root = Path(text) if text else None
        session.save("scan")
        return True


# ---------------------------------------------------------------------------------------------- scan


class ScanPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("What will be exported"))
        self.setSubTitle(self.tr("The program reads the whole database once, without changing it."))
        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName(self.tr("Scan progress"))
        self.progress_label = _message_label(self.tr("Scan status"))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Record type"), self.tr("Records"), self.tr("Set aside"), self.tr("Why set aside")]
        )
        self.table.setAccessibleName(self.tr("Records per type"))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.range_label = _message_label(self.tr("Date range"))
        self.sample_label = _message_label(self.tr("Sample patient"))
        self.rescan_button = QPushButton(self.tr("&Scan again"))
        self.scan_runner = self.new_runner()
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.range_label)
        layout.addWidget(self.sample_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.rescan_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.rescan_button.clicked.connect(self.start_scan)
        self.scan_runner.progressed.connect(self._on_progress)
        self.scan_runner.succeeded.connect(self._on_scanned)
        self.scan_runner.failed.connect(self._on_failure)

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
        connector, kwargs, attachments = session.connector, dict(session.source_kwargs), session.attachments_root

        def run(progress: Any, cancel: Any) -> Any:
            from emr_exporter.authoring.scan import scan_database

            return scan_database(connector, kwargs, attachments, progress=progress, cancel=cancel)

        self.completeChanged.emit()
        self.scan_runner.start(run)

    def _on_progress(self, event: Any) -> None:
        if event.total:
            self.progress_bar.setRange(0, event.total)
            self.progress_bar.setValue(event.done)
        if event.entity:
            self.progress_label.setText(self.tr("Reading {what}: {done} of {total}").format(
                what=texts.entity_name(event.entity), done=texts.number(event.done), total=texts.number(event.total)
            ))

    def _on_scanned(self, report: Any) -> None:
        self.session.scan_report = report
        self.rescan_button.setEnabled(True)
        self._show(report)
        self.completeChanged.emit()
        self.jobFinished.emit()

    def _show(self, report: Any) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        totals = report.totals
        found = self.tr("{rows} records found; {aside} will be set aside with their reason.")
        self.progress_label.setText(found.format(
            rows=texts.number(totals["source_rows"]), aside=texts.number(totals["will_quarantine"])
        ))
        self.table.setRowCount(len(report.entities))
        for row, entity in enumerate(report.entities):
            reasons = ", ".join(
                f"{texts.reason_text(code)} ({texts.number(n)})" for code, n in sorted(entity.reasons.items())
            )
            cells = [texts.entity_name(entity.entity), texts.number(entity.source_rows),
                     texts.number(entity.will_quarantine), reasons]
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
            ).format(chart=sample.chart_number, name=sample.name,
                     born=sample.birth_date.isoformat() if sample.birth_date else "?", rrn=sample.rrn_masked))

    def _on_failure(self, error: Any) -> None:
        self.rescan_button.setEnabled(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_label.clear()
        self.show_error(error)
        self.jobFailed.emit(str(error))

    def isComplete(self) -> bool:  # Qt override
        return self.session.scan_report is not None and not self.scan_runner.running


# -------------------------------------------------------------------------------------------- export


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
        self.space_label = _message_label(self.tr("Free space"))
        self.start_button = QPushButton(self.tr("&Start export"))
        self.cancel_button = QPushButton(self.tr("S&top"))
        self.cancel_button.setEnabled(False)
        self.stage_label = _message_label(self.tr("Export stage"))
        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName(self.tr("Export progress"))
        self.rate_label = _message_label(self.tr("Speed and time left"))
        self.export_runner = self.new_runner()
        self._needed_bytes = 0
        self._started_at = 0.0
        self._rows_before_entity = 0
        self._entity_done: dict[str, int] = {}

        form = QFormLayout()
        destination_row = QHBoxLayout()
        destination_row.addWidget(self.destination_edit, 1)
        destination_row.addWidget(self.browse_button)
        form.addRow(_buddy(self.tr("Save &to folder:"), self.destination_edit), destination_row)
        form.addRow(_buddy(self.tr("Other &drives:"), self.drive_combo), self.drive_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
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
        self.export_runner.failed.connect(self._on_failure)

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
        rows = report.totals["source_rows"] if report is not None else 0
        attachments = report.attachment_bytes if report is not None else 0
        self._needed_bytes = resume.estimate_bundle_bytes(rows, attachments)
        self.check_space()
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
        self.start_button.setEnabled(enough and not self.export_runner.running and self.session.outcome is None)
        return enough

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
        return report.totals["source_rows"] if report is not None else 0

    def _on_progress(self, event: Any) -> None:
        if event.stage == "count":
            self.stage_label.setText(self.tr("Counting: {what}").format(what=texts.entity_name(event.entity or "")))
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
            what=texts.entity_name(event.entity), done=texts.number(event.done), total=texts.number(event.total)))
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
        totals = outcome.reconciliation.totals
        self.stage_label.setText(self.tr("Sealed: {file} ({size}).").format(
            file=Path(outcome.bundle_path).name, size=texts.data_size(outcome.bundle_bytes or 0)))
        self.rate_label.setText(self.tr("{exported} records exported, {aside} set aside with their reason.").format(
            exported=texts.number(totals["exported"]), aside=texts.number(totals["quarantined"])))
        self.completeChanged.emit()
        self.jobFinished.emit()

    def _on_failure(self, error: Any) -> None:
        self.cancel_button.setEnabled(False)
        self.destination_edit.setEnabled(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.stage_label.clear()
        self.rate_label.clear()
        self.show_error(error)
        self.check_space()
        self.jobFailed.emit(str(error))

    def isComplete(self) -> bool:  # Qt override
        return self.session.outcome is not None and not self.export_runner.running


# -------------------------------------------------------------------------------------------- verify


class VerifyPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Check"))
        self.setSubTitle(self.tr("Nothing left behind, and the sealed file is intact and correctly signed."))
        self.summary_label = _message_label(self.tr("Reconciliation"))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Record type"), self.tr("In the EMR"), self.tr("Exported"), self.tr("Set aside")]
        )
        self.table.setAccessibleName(self.tr("Reconciliation per type"))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.quarantine_label = _message_label(self.tr("Records set aside"))
        self.bundle_label = _message_label(self.tr("Sealed file check"))
        self.verify_runner = self.new_runner()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.quarantine_label)
        layout.addWidget(self.bundle_label)
        layout.addWidget(self.error_label)
        self.verify_runner.succeeded.connect(self._on_verified)
        self.verify_runner.failed.connect(self._on_failure)

    def initializePage(self) -> None:  # Qt override
        outcome = self.session.outcome
        reconciliation = outcome.reconciliation
        totals = reconciliation.totals
        if reconciliation.balanced:
            self.summary_label.setText(self.tr(
                "Nothing left behind: all {rows} records of the EMR are accounted for — {exported} exported, "
                "{aside} set aside."
            ).format(rows=texts.number(totals["source_rows"]), exported=texts.number(totals["exported"]),
                     aside=texts.number(totals["quarantined"])))
            self.summary_label.setStyleSheet(OK_STYLE)
        else:
            self.summary_label.setText(self.tr("The counts do not add up. Do not send this file; export again."))
            self.summary_label.setStyleSheet(ERROR_STYLE)
        self.table.setRowCount(len(reconciliation.entities))
        reasons: dict[str, int] = {}
        for row, entity in enumerate(reconciliation.entities):
            cells = [texts.entity_name(entity.entity), texts.number(entity.source_rows),
                     texts.number(entity.exported), texts.number(entity.quarantined)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            for code, count in entity.reasons.items():
                reasons[code] = reasons.get(code, 0) + count
        if reasons:
            lines = [f"• {texts.reason_text(code)}: {texts.number(n)}" for code, n in sorted(reasons.items())]
            self.quarantine_label.setText(self.tr(
                "Set aside records are kept, unchanged, inside the sealed file with their reason:"
            ) + "\n" + "\n".join(lines))
        else:
            self.quarantine_label.setText(self.tr("No record had to be set aside."))
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

    def _on_failure(self, error: Any) -> None:
        self.bundle_label.clear()
        self.show_error(error)
        self.jobFailed.emit(str(error))

    def isComplete(self) -> bool:  # Qt override
        outcome = self.session.outcome
        return (
            self.session.verify_report is not None
            and outcome is not None
            and outcome.reconciliation.balanced
            and not self.verify_runner.running
        )


# -------------------------------------------------------------------------------------------- upload


class UploadPage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Send"))
        self.setSubTitle(self.tr("Send the sealed file to the national storage system, or carry it to another PC."))
        self.send_radio = QRadioButton(self.tr("Send it &now over the internet"))
        self.carry_radio = QRadioButton(self.tr("&Carry the file to another PC (USB stick)"))
        self.send_radio.setChecked(True)
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.send_radio)
        self.mode_group.addButton(self.carry_radio)
        self.store_edit = QLineEdit()
        self.upload_button = QPushButton(self.tr("&Upload"))
        self.pause_button = QPushButton(self.tr("&Pause"))
        self.pause_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName(self.tr("Upload progress"))
        self.rate_label = _message_label(self.tr("Upload speed and time left"))
        self.state_label = _message_label(self.tr("Upload state"))
        self.carry_label = _message_label(self.tr("How to carry the file"))
        self.upload_runner = self.new_runner()
        self._started_at = 0.0
        self._start_position = 0

        form = QFormLayout()
        form.addRow(_buddy(self.tr("Store &address:"), self.store_edit), self.store_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.upload_button)
        buttons.addWidget(self.pause_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.send_radio)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.state_label)
        layout.addWidget(self.carry_radio)
        layout.addWidget(self.carry_label)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.send_radio.toggled.connect(self._on_mode)
        self.store_edit.textChanged.connect(self._on_mode)
        self.upload_button.clicked.connect(self.start_upload)
        self.pause_button.clicked.connect(self.pause_upload)
        self.upload_runner.progressed.connect(self._on_progress)
        self.upload_runner.succeeded.connect(self._on_uploaded)
        self.upload_runner.failed.connect(self._on_failure)

    def initializePage(self) -> None:  # Qt override
        if not self.store_edit.text():
            self.store_edit.setText(self.session.store_url)
        if self.session.demo and not self.store_edit.text():
            try:
                self.store_edit.setText(self.session.start_demo_store())
                self.state_label.setText(self.tr(
                    "Demo: a practice storage system is running on this PC. Press Upload to send the file to it."
                ))
            except Exception as exc:  # the demo can still be carried instead
                self.show_error(exc)
        path = Path(self.session.outcome.bundle_path)
        self.carry_label.setText(self.tr(
            "1. Copy {file} (in {folder}) to a USB stick.\n"
            "2. On a PC with internet, install emr-exporter and run: emr-export upload <the file>\n"
            "3. Keep the USB stick until the receipt number is shown. The file is encrypted: only the national "
            "store can open it."
        ).format(file=path.name, folder=str(path.parent)))
        self._on_mode()

    def _on_mode(self) -> None:
        sending = self.send_radio.isChecked()
        running = self.upload_runner.running
        self.store_edit.setEnabled(sending and not running)
        self.upload_button.setEnabled(
            sending and not running and bool(self.store_edit.text().strip()) and self.session.upload_result is None
        )
        self.carry_label.setEnabled(not sending)
        self.completeChanged.emit()

    def start_upload(self) -> None:
        if self.upload_runner.running:
            return
        self.session.store_url = self.store_edit.text().strip()
        self.show_error(None)
        self._started_at = 0.0
        self.state_label.setText(self.tr("Connecting to the store…"))
        self.pause_button.setEnabled(True)
        self.upload_runner.start(self.session.upload)
        self._on_mode()

    def on_job_ended(self) -> None:
        self._on_mode()

    def pause_upload(self) -> None:
        self.upload_runner.request_cancel()
        self.pause_button.setEnabled(False)
        self.state_label.setText(self.tr("Pausing…"))

    def _on_progress(self, item: Any) -> None:
        if item[0] == "event":
            name = item[1]
            states = {
                "retry": self.tr("Connection problem: retrying automatically…"),
                "wait": self.tr("Waiting before the next try…"),
                "resync": self.tr("Reconnected; continuing where the store stopped."),
                "verifying": self.tr("The store is checking the file…"),
                "start": self.tr("Sending…"),
                "accepted": self.tr("Accepted by the store."),
            }
            if name in states:
                self.state_label.setText(states[name])
            return
        _, position, size = item
        now = time.monotonic()
        if not self._started_at:
            self._started_at, self._start_position = now, position
        self.progress_bar.setRange(0, max(size, 1))
        self.progress_bar.setValue(position)
        elapsed = now - self._started_at
        sent = position - self._start_position
        if elapsed > 0.5 and sent > 0:
            speed = sent / elapsed
            self.rate_label.setText(self.tr("{done} of {size} · {speed}/s · about {left} left").format(
                done=texts.data_size(position), size=texts.data_size(size), speed=texts.data_size(int(speed)),
                left=texts.duration((size - position) / speed)))
        else:
            self.rate_label.setText(self.tr("{done} of {size}").format(
                done=texts.data_size(position), size=texts.data_size(size)))

    def _on_uploaded(self, uploaded: Any) -> None:
        self.session.upload_result = uploaded
        self.session.save("done")
        self.pause_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.rate_label.setText(self.tr("{done} of {size}").format(
            done=texts.data_size(uploaded.size), size=texts.data_size(uploaded.size)))
        self.state_label.setText(self.tr("Accepted by the store. Receipt number: {number}").format(
            number=uploaded.receipt_number or "?"))
        self.state_label.setStyleSheet(OK_STYLE)
        self._on_mode()
        self.jobFinished.emit()

    def _on_failure(self, error: Any) -> None:
        self.pause_button.setEnabled(False)
        self.state_label.clear()
        self.show_error(error)
        self.upload_button.setText(self.tr("&Resume"))
        self._on_mode()
        self.jobFailed.emit(str(error))

    def isComplete(self) -> bool:  # Qt override
        if self.upload_runner.running:
            return False
        return self.carry_radio.isChecked() or self.session.upload_result is not None


# ---------------------------------------------------------------------------------------------- done


class DonePage(WizardPageBase):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setTitle(self.tr("Done"))
        self.setSubTitle(self.tr("Keep the receipt number and the transfer report with the clinic's closing papers."))
        self.receipt_label = _message_label(self.tr("Receipt"))
        self.file_label = _message_label(self.tr("Where the file is"))
        self.open_folder_button = QPushButton(self.tr("&Open the folder"))
        self.open_report_button = QPushButton(self.tr("Open the &report to print"))
        self.save_report_button = QPushButton(self.tr("&Save a copy of the report…"))
        self.report_label = _message_label(self.tr("Transfer report"))
        self.report_runner = self.new_runner()
        self.report_path: Path | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.receipt_label)
        layout.addWidget(self.file_label)
        layout.addWidget(self.report_label)
        row = QHBoxLayout()
        row.addWidget(self.open_folder_button)
        row.addWidget(self.open_report_button)
        row.addWidget(self.save_report_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.open_folder_button.clicked.connect(self._open_folder)
        self.open_report_button.clicked.connect(self._open_report)
        self.save_report_button.clicked.connect(self._save_report)
        self.report_runner.succeeded.connect(self._on_report)
        self.report_runner.failed.connect(self._on_failure)

    def initializePage(self) -> None:  # Qt override
        session = self.session
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
        self.write_report(bundle.with_name(bundle.name + ".report.pdf"))

    def write_report(self, target: Path) -> None:
        """Write the transfer report PDF (no patient data: counts, digests, the receipt number)."""
        session = self.session
        outcome = session.outcome
        lang = "ko" if self.locale().language() == QLocale.Language.Korean else "en"
        signer = session.signer
        overrides = {
            "closing_date": session.closing_date.isoformat() if session.closing_date else None,
            "receipt_number": getattr(session.upload_result, "receipt_number", None),
            "signer": signer.certificate.subject.rfc4514_string() if signer is not None else None,
        }
        self.report_label.setText(self.tr("Writing the transfer report…"))

        def write(progress: Any, cancel: Any) -> Path:
            from emr_exporter.reports.transfer import write_transfer_report

            return write_transfer_report(outcome, target, lang, **overrides)

        self.report_runner.start(write)

    def _on_report(self, path: Any) -> None:
        self.report_path = Path(path)
        self.report_label.setText(self.tr("Transfer report (PDF): {path}").format(path=str(path)))
        self.open_report_button.setEnabled(True)
        self.save_report_button.setEnabled(True)
        self.jobFinished.emit()

    def _on_failure(self, error: Any) -> None:
        self.report_label.clear()
        self.show_error(error)
        self.jobFailed.emit(str(error))

    def _open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.session.outcome.bundle_path).parent)))

    def _open_report(self) -> None:
        if self.report_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report_path)))

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
