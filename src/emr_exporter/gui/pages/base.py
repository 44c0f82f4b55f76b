"""What every wizard page shares: the session, job runners that re-check the page, and failure display.

Naming rule (desktop.md §1.3): no attribute may shadow a Qt method (``done``, ``next``, ``result``,
``thread``, ``page``, ``field``...); widgets end in ``_edit``, ``_button``, ``_label``, runners in ``_runner``.
Signals a test can wait on (``jobFinished``, ``jobFailed``) are emitted in the GUI thread.
"""

from __future__ import annotations

from emr_exporter.gui import texts
from emr_exporter.gui.qt import (
    QFrame,
    QLabel,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
    QWizardPage,
    Signal,
)
from emr_exporter.gui.session import Session
from emr_exporter.gui.workers import JobRunner

ERROR_STYLE = "color: #b00020;"
HELP_STYLE = "color: #455a64;"
PAUSED_STYLE = "color: #8a6d00;"


def is_pause(error: BaseException | None) -> bool:
    """The founder pressed Stop/Pause (or closed the window): the work waits, nothing failed."""
    from emr_exporter.errors import ExportCancelled, UploadCancelled

    return isinstance(error, (ExportCancelled, UploadCancelled))
OK_STYLE = "color: #1b5e20;"


def message_label(name: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    return label


def buddy(text: str, widget: QWidget) -> QLabel:
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
        self.error_label = message_label("error")
        self.error_label.setStyleSheet(ERROR_STYLE)

    def body_layout(self) -> QVBoxLayout:
        """The page's content: the step ("3 / 8 단계") on top, the content in a scroll area, a help line below.

        The scroll area is what keeps every widget whole on a small screen (1024×768 at 125 %, 1366×768 at
        150 %): the window can shrink to its minimum size and the content scrolls instead of being cut.
        """
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.step_label = QLabel()
        self.step_label.setAccessibleName("step")
        self.step_label.setStyleSheet(HELP_STYLE)
        outer.addWidget(self.step_label)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scroll_area.setWidget(content)
        outer.addWidget(self.scroll_area, 1)
        self.help_label = message_label("help")
        self.help_label.setStyleSheet(HELP_STYLE)
        outer.addWidget(self.help_label)
        return layout

    def set_step(self, number: int, total: int, help_text: str) -> None:
        if hasattr(self, "step_label"):
            self.step_label.setText(self.tr("Step {number} / {total}").format(number=number, total=total))
            self.help_label.setText(help_text)

    def show_error(self, error: BaseException | None) -> None:
        if error is None:
            self.error_label.clear()
            return
        summary = texts.error_summary(error)
        detail = str(error)
        # Paused by the founder is not a failure: said plainly, not in red.
        self.error_label.setStyleSheet(PAUSED_STYLE if is_pause(error) else ERROR_STYLE)
        self.error_label.setText(summary if not detail or detail == summary or is_pause(error)
                                 else f"{summary}\n{detail}")

    def show_failure(self, error: BaseException) -> None:
        """A job failed (connect a runner's ``failed`` here): the page puts its widgets back, then the message.

        The one failure display for every page: :meth:`on_job_failed` first (re-enable buttons, clear progress),
        then the founder's summary and the core's detail in ``error_label``, then ``jobFailed`` for tests.
        """
        self.on_job_failed(error)
        self.show_error(error)
        self.completeChanged.emit()
        self.jobFailed.emit(str(error))

    def on_job_failed(self, error: BaseException) -> None:
        """Called by :meth:`show_failure` before the message is shown; pages reset their own widgets here."""

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


