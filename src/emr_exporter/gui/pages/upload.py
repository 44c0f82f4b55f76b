"""Send: upload to the national store, or carry the file to another PC."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from emr_exporter.gui import texts
from emr_exporter.gui.pages.base import (
    OK_STYLE,
    PAUSED_STYLE,
    WizardPageBase,
    buddy,
    is_pause,
    message_label,
)
from emr_exporter.gui.qt import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
)
from emr_exporter.gui.session import Session


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
        self.rate_label = message_label(self.tr("Upload speed and time left"))
        self.state_label = message_label(self.tr("Upload state"))
        self.carry_label = message_label(self.tr("How to carry the file"))
        self.upload_runner = self.new_runner()
        #: The demo's practice store, started in a worker (it loads the store key and the bundle checks, and
        #: opens a port: the window stays responsive meanwhile).
        self.store_runner = self.new_runner()
        self._started_at = 0.0
        self._start_position = 0
        self._retry_reason = ""

        form = QFormLayout()
        form.addRow(buddy(self.tr("Store &address:"), self.store_edit), self.store_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.upload_button)
        buttons.addWidget(self.pause_button)
        buttons.addStretch(1)
        layout = self.body_layout()
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
        self.upload_runner.failed.connect(self.show_failure)
        self.store_runner.succeeded.connect(self._on_demo_store)
        self.store_runner.failed.connect(self._on_demo_store_failed)

    def initializePage(self) -> None:  # Qt override
        if not self.store_edit.text():
            self.store_edit.setText(self.session.store_url)
        if self.session.demo and not self.store_edit.text() and not self.store_runner.running:
            # (a failure is shown by show_failure: the demo can still be carried instead)
            self.state_label.setText(self.tr("Demo: starting a practice storage system on this PC…"))
            self.store_runner.start(lambda progress, cancel: self.session.start_demo_store())
        path = Path(self.session.outcome.bundle_path)
        self.carry_label.setText(self.tr(
            "1. Copy {file} and {file}.summary.json (both in {folder}) to a USB stick.\n"
            "2. On a PC with internet, install this program, choose \"Send a sealed file brought from another PC\" "
            "on its first page and pick the file on the USB stick.\n"
            "3. Keep the USB stick until the receipt number is shown. The file is encrypted: only the national "
            "store can open it."
        ).format(file=path.name, folder=str(path.parent)))
        if self.session.resumed_from_state and self.session.upload_result is None:
            # Straight back to where it stopped, and said so.
            self.upload_button.setText(self.tr("&Resume"))
            self.state_label.setText(self.tr(
                "Continuing the transfer: press Resume and sending goes on from where the store stopped."))
        # On the other PC already: nothing more to carry.
        self.carry_radio.setVisible(not self.session.carried)
        self.carry_label.setVisible(not self.session.carried)
        if self.session.carried:
            self.send_radio.setChecked(True)
        self._on_mode()

    def _on_demo_store(self, url: str) -> None:
        self.store_edit.setText(url)
        if not (self.session.resumed_from_state and self.session.upload_result is None):  # else: "Continuing…"
            self.state_label.setText(self.tr(
                "Demo: a practice storage system is running on this PC. Press Upload to send the file to it."))
        self._on_mode()

    def _on_demo_store_failed(self, error: BaseException) -> None:
        self.state_label.clear()
        self.show_error(error)  # the demo can still be carried instead
        self._on_mode()
        self.jobFailed.emit(str(error))

    def _on_mode(self) -> None:
        sending = self.send_radio.isChecked()
        running = self.upload_runner.running or self.store_runner.running
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
            details = item[2] if len(item) > 2 else {}
            if name == "retry":  # say why, so a store that keeps failing is never a silent 0 %
                self._retry_reason = texts.retry_reason(str(details.get("error", "")))
                self.state_label.setText(self.tr("Retrying automatically: {reason}.").format(
                    reason=self._retry_reason))
            elif name == "wait" and details.get("reason") == "store verification":
                self.state_label.setText(states["verifying"])  # not a retry: the store is checking the file
            elif name == "wait" and self._retry_reason:
                self.state_label.setText(self.tr("Next try in {time} ({reason}).").format(
                    time=texts.duration(float(details.get("seconds", 0))), reason=self._retry_reason))
            elif name in states:
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
        if getattr(uploaded, "unconfirmed", False):
            # A store without receipts (any plain tus server): every byte is there by its own answer, but
            # nobody signed for it, so it must not read as "accepted" (docs/upload.md, "Any tus 1.0 store").
            self.state_label.setText(self.tr(
                "The store holds the whole file but gives no receipt. Keep the bundle until the store "
                "confirms in writing that it has it."))
            self.state_label.setStyleSheet(PAUSED_STYLE)
        else:
            self.state_label.setText(self.tr("Accepted by the store. Receipt number: {number}").format(
                number=uploaded.receipt_number or "?"))
            self.state_label.setStyleSheet(OK_STYLE)
        self._on_mode()
        self.jobFinished.emit()

    def on_job_failed(self, error: BaseException) -> None:
        self.pause_button.setEnabled(False)
        # Paused keeps the bar where it was; the text says so (the store keeps what it received).
        self.state_label.setText(self.tr("Paused.") if is_pause(error) else "")
        self.upload_button.setText(self.tr("&Resume"))
        self._on_mode()

    def isComplete(self) -> bool:  # Qt override
        if self.upload_runner.running:
            return False
        return self.carry_radio.isChecked() or self.session.upload_result is not None
