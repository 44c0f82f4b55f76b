"""Which EMR database: search this PC, test the connection, recognise the connector.

The founder reaches a database server through plain fields (kind of database, server, port, database, account); the
core builds the connection string from them (sources/servers.py). The connection text stays for IT contractors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emr_exporter.gui.pages.base import OK_STYLE, WizardPageBase, buddy, message_label
from emr_exporter.gui.qt import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRegularExpressionValidator,
    Signal,
)
from emr_exporter.gui.session import Session
from emr_exporter.jobs.sources import ServerKind, SourceAddress


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
        self.search_label = message_label(self.tr("Search result"))
        self.search_runner = self.new_runner()
        self._candidates: list[Any] = []
        self._searched = False
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(self.tr("A database file on this PC"), "file")
        self.kind_combo.addItem(self.tr("The EMR's database server (on this PC or the clinic's main PC)"), "server")
        self.kind_combo.addItem(self.tr("An EMR connection set up in Windows on this PC"), "dsn")
        self.kind_combo.addItem(self.tr("A database server (connection details from your IT contractor)"), "odbc")
        self.dsn_combo = QComboBox()
        # The founder's server form: the kinds of server this PC has a driver for, by what they are.
        self._server_kinds: list[ServerKind] = []
        self.server_type_combo = QComboBox()
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText(self.tr("empty: this PC; else the server PC's name or IP address"))
        self.port_edit = QLineEdit()
        self.port_edit.setValidator(QRegularExpressionValidator(r"[1-9]\d{0,4}"))
        self.server_database_edit = QLineEdit()
        self.user_edit = QLineEdit()
        self.server_note_label = message_label(self.tr("About the server"))
        self.database_edit = QLineEdit()
        self.browse_button = QPushButton(self.tr("&Browse…"))
        self.odbc_edit = QLineEdit()
        self.odbc_edit.setPlaceholderText(self.tr("as given by your IT contractor"))
        self.db_password_edit = QLineEdit()
        self.db_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.attachments_edit = QLineEdit()
        self.test_button = QPushButton(self.tr("&Test connection"))
        # Stops a test that waits for a server that does not answer (a server PC switched off): at once, not after
        # the login timeout; the connection attempt is left to its driver (sources/waiting.py).
        self.stop_button = QPushButton(self.tr("Sto&p"))
        self.stop_button.setEnabled(False)
        self.connector_combo = QComboBox()
        self.status_label = message_label(self.tr("Connection result"))
        self.test_runner = self.new_runner()
        self._tested: SourceAddress | None = None  # the database the last successful test opened
        self._tested_message = ""  # what that test found (shown again when that database is chosen again)

        form = QFormLayout()
        form.addRow(buddy(self.tr("Fo&und on this PC:"), self.found_combo), self.found_combo)
        form.addRow(self.search_label)
        form.addRow(buddy(self.tr("&Kind:"), self.kind_combo), self.kind_combo)
        file_row = QHBoxLayout()
        file_row.addWidget(self.database_edit, 1)
        file_row.addWidget(self.browse_button)
        form.addRow(buddy(self.tr("Database &file:"), self.database_edit), file_row)
        self._file_row = file_row
        form.addRow(buddy(self.tr("Type of &database:"), self.server_type_combo), self.server_type_combo)
        form.addRow(buddy(self.tr("Server add&ress:"), self.server_edit), self.server_edit)
        form.addRow(buddy(self.tr("Port &number:"), self.port_edit), self.port_edit)
        form.addRow(buddy(self.tr("Database na&me:"), self.server_database_edit), self.server_database_edit)
        form.addRow(buddy(self.tr("Account &ID:"), self.user_edit), self.user_edit)
        form.addRow(self.server_note_label)
        self._form = form
        self._server_rows = (self.server_type_combo, self.server_edit, self.port_edit, self.server_database_edit,
                             self.user_edit, self.server_note_label)
        form.addRow(buddy(self.tr("EMR connection &set up in Windows:"), self.dsn_combo), self.dsn_combo)
        form.addRow(buddy(self.tr("C&onnection details:"), self.odbc_edit), self.odbc_edit)
        form.addRow(buddy(self.tr("Database pass&word:"), self.db_password_edit), self.db_password_edit)
        form.addRow(buddy(self.tr("&Attachments folder:"), self.attachments_edit), self.attachments_edit)
        layout = self.body_layout()
        layout.addLayout(form)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.stop_button)
        test_row.addStretch(1)
        layout.addLayout(test_row)
        layout.addWidget(self.status_label)
        connector_form = QFormLayout()
        connector_form.addRow(buddy(self.tr("&EMR program:"), self.connector_combo), self.connector_combo)
        layout.addLayout(connector_form)
        layout.addWidget(self.error_label)
        layout.addStretch(1)

        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.dsn_combo.currentIndexChanged.connect(self.completeChanged)
        self.browse_button.clicked.connect(self._browse)
        self.test_button.clicked.connect(self.test_connection)
        self.stop_button.clicked.connect(self.stop_test)
        self.connector_combo.currentIndexChanged.connect(self.completeChanged)
        for edit in (self.database_edit, self.odbc_edit, self.db_password_edit, self.server_edit, self.port_edit,
                     self.server_database_edit, self.user_edit):
            edit.textChanged.connect(self.completeChanged)
        self.completeChanged.connect(self._show_whether_tested)
        self.server_type_combo.currentIndexChanged.connect(self._on_server_type)
        self.test_runner.succeeded.connect(self._on_tested)
        self.test_runner.failed.connect(self.show_failure)
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
        # Only the rows of the kind chosen: the page stays short, and the founder's server form shows no
        # contractor's words (ODBC, DSN).
        self._form.setRowVisible(self._file_row, is_file)
        self._form.setRowVisible(self.dsn_combo, kind == "dsn")
        self._form.setRowVisible(self.odbc_edit, kind == "odbc")
        self._form.setRowVisible(self.db_password_edit, not is_file)
        for widget in self._server_rows:
            self._form.setRowVisible(widget, kind == "server")
        self.completeChanged.emit()

    def _fill_server_kinds(self) -> None:
        """The kinds of database server this PC has a driver for (quick: the driver list, no connection)."""
        if self._server_kinds:
            return
        from emr_exporter.jobs.sources import list_server_kinds

        self._server_kinds = list_server_kinds()
        for index, kind in enumerate(self._server_kinds):
            self.server_type_combo.addItem(kind.name, index)
        if self._server_kinds:
            self.server_note_label.setText(self.tr(
                "If you do not know the database name, the account or its password, ask the EMR company. The port "
                "is the usual one for the type of database."))
        else:
            self.server_note_label.setText(self.tr(
                "This PC has no program for reaching a database server (SQL Server, MariaDB/MySQL or PostgreSQL). "
                "Ask your IT contractor or the EMR company to install the one your EMR uses."))
        self._on_server_type()

    def _on_server_type(self) -> None:
        kind = self._server_kind()
        if kind is not None:
            self.port_edit.setText(str(kind.port))  # the usual port of that kind of server

    def _server_kind(self) -> ServerKind | None:
        index = self.server_type_combo.currentData()
        return self._server_kinds[index] if index is not None else None

    def _show_server(self, conn_str: str) -> bool:
        """Fill the server form from a connection string it made (a saved session); False if it did not make it."""
        from emr_exporter.jobs.sources import server_fields

        fields = server_fields(conn_str)
        engines = [kind.engine for kind in self._server_kinds]
        if fields is None or fields.engine not in engines:
            return False
        self.kind_combo.setCurrentIndex(self.kind_combo.findData("server"))
        self.server_type_combo.setCurrentIndex(engines.index(fields.engine))
        self.server_edit.setText(fields.server)
        self.port_edit.setText(str(fields.port))
        self.server_database_edit.setText(fields.database)
        self.user_edit.setText(fields.user)
        # The connection string must be the one saved (the same driver): else the saved session is shown as text.
        shown = self.source_address()
        return shown is not None and shown.odbc == conn_str

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the EMR database file"))
        if path:
            self.database_edit.setText(path)

    def _fill_dsns(self) -> None:
        """The ODBC data sources configured on this PC (names only; quick, no connection is made)."""
        if self.dsn_combo.count():
            return
        try:
            from emr_exporter.jobs.sources import list_dsns

            sources = list_dsns()
        except Exception:  # no ODBC driver manager on this PC: the DSN choice simply stays empty
            sources = {}
        for name, driver in sorted(sources.items()):
            self.dsn_combo.addItem(f"{name} ({driver})", name)

    def initializePage(self) -> None:  # Qt override
        self._fill_dsns()
        self._fill_server_kinds()
        session = self.session
        if session.demo and session.demo_material is not None and not self.database_edit.text():
            self.database_edit.setText(str(session.demo_material.database))
            self.attachments_edit.setText(str(session.demo_material.attachments_root))
        elif session.source is not None and not self.database_edit.text() and not self.odbc_edit.text():
            if session.source.database:
                self.database_edit.setText(str(session.source.database))
            elif session.source.dsn:
                self.kind_combo.setCurrentIndex(self.kind_combo.findData("dsn"))
                self.dsn_combo.setCurrentIndex(max(0, self.dsn_combo.findData(session.source.dsn)))
            elif session.source.odbc and not self._show_server(session.source.odbc):
                self.kind_combo.setCurrentIndex(self.kind_combo.findData("odbc"))
                self.odbc_edit.setText(session.source.odbc)
            if session.attachments_root:
                self.attachments_edit.setText(str(session.attachments_root))
        if self.source_address() is not None and self._tested is None:
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
            from emr_exporter.jobs.authoring import search_this_pc

            return search_this_pc(cancel=cancel)

        self.search_runner.start(search)

    def _candidate_text(self, candidate: Any) -> str:
        place = candidate.where if candidate.kind == "file" else self.tr("EMR connection {name}").format(
            name=candidate.where)
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
                "No EMR database was found on this PC. Choose the file or the EMR connection below."))
        elif self.source_address() is not None or self.test_runner.running:
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

    def source_address(self) -> SourceAddress | None:
        """The database the founder chose (None: nothing chosen yet); the password only for ODBC."""
        password = self.db_password_edit.text() or None
        if self.kind_combo.currentData() == "file":
            text = self.database_edit.text().strip()
            return SourceAddress(database=Path(text)) if text else None
        if self.kind_combo.currentData() == "dsn":
            dsn = self.dsn_combo.currentData()
            return SourceAddress(dsn=str(dsn), password=password) if dsn else None
        if self.kind_combo.currentData() == "server":
            from emr_exporter.jobs.sources import server_connection_string

            kind = self._server_kind()
            if kind is None:
                return None
            return SourceAddress(odbc=server_connection_string(
                kind, server=self.server_edit.text(), port=int(self.port_edit.text() or 0) or None,
                database=self.server_database_edit.text(), user=self.user_edit.text()), password=password)
        text = self.odbc_edit.text().strip()
        return SourceAddress(odbc=text, password=password) if text else None

    def test_connection(self) -> None:
        if self.test_runner.running:
            return
        address = self.source_address()
        if address is None:
            self.error_label.setText(self.tr("Choose the database file or type the connection first."))
            return
        self.show_error(None)
        self._tested = None
        self.status_label.setStyleSheet("")
        self.status_label.setText(self.tr("Connecting…"))
        self.test_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.connector_combo.clear()
        self.completeChanged.emit()

        def test(progress: Any, cancel: Any) -> Any:
            from emr_exporter.errors import ConnectorSpecError
            from emr_exporter.jobs.authoring import detect_connectors, list_connectors, test_connection

            label = test_connection(address, cancel=cancel)
            detections = detect_connectors(address, cancel=cancel)
            installed = [s for s in list_connectors() if not isinstance(s, ConnectorSpecError)]
            return address, label, detections, installed

        self.test_runner.start(test)

    def stop_test(self) -> None:
        """Stop: the test ends within a second (its connect given up), and the page says it stopped."""
        self.stop_button.setEnabled(False)
        self.test_runner.request_cancel()

    def _place_text(self, address: SourceAddress, label: str) -> str:
        """Where the connection went, in the founder's words: never a raw connection string."""
        server = address.server_place()
        if server is not None:
            return self.tr("the database {database} on the server {server}").format(
                database=server[1] or "?", server=server[0])
        if address.dsn:
            return self.tr("the EMR connection {name} set up on this PC").format(name=address.dsn)
        if address.database_file is not None:
            return self.tr("the database file {name}").format(name=address.database_file.name)
        return label

    def _on_tested(self, found: Any) -> None:
        tested, label, detections, installed = found
        label = self._place_text(tested, label)
        self.test_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._tested = tested
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
            message = self.tr("Connected to {label}, but the program could not tell which EMR it is. "
                              "Choose the EMR program below, or ask your IT contractor.").format(label=label)
        if self.session.connector:
            index = self.connector_combo.findData(self.session.connector)
            if index >= 0:
                self.connector_combo.setCurrentIndex(index)
        self._tested_message = message
        self.status_label.setText(message)
        self.status_label.setStyleSheet(OK_STYLE)
        self.completeChanged.emit()
        self.jobFinished.emit()

    def _show_whether_tested(self) -> None:
        """The result of the last test stays on screen only while the database chosen is the one tested: after
        another kind or file is chosen, the page says to test that one (Next is off until then)."""
        if self._tested is None or self.test_runner.running:
            return
        if self._tested == self.source_address():
            self.status_label.setText(self._tested_message)
            self.status_label.setStyleSheet(OK_STYLE)
        else:
            self.status_label.setText(self.tr("Press Test connection to check the database chosen now."))
            self.status_label.setStyleSheet("")

    def on_job_failed(self, error: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status_label.clear()

    def isComplete(self) -> bool:  # Qt override
        return (
            self._tested is not None
            and self._tested == self.source_address()
            and self.connector_combo.currentData() is not None
            and not self.test_runner.running
        )

    def validatePage(self) -> bool:  # Qt override
        session = self.session
        connector = str(self.connector_combo.currentData())
        address = self.source_address()
        if (connector, address) != (session.connector, session.source):
            # Another database or EMR: what was scanned, sealed and sent belongs to the previous one.
            session.scan_report = None
            session.outcome = session.verify_report = session.upload_result = None
        session.connector = connector
        session.source = address
        text = self.attachments_edit.text().strip()
        session.attachments_root = Path(text) if text else None
        session.save("scan")
        return True
