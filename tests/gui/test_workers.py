"""A bug in a job is reported where it happened, never with its text (which may quote patient data)."""

from __future__ import annotations

import pytest

from emr_exporter.errors import InternalError

pytestmark = pytest.mark.gui


def test_an_unexpected_exception_is_shown_without_its_text(qtbot) -> None:
    from emr_exporter.gui.workers import JobRunner

    runner = JobRunner()
    failures: list[BaseException] = []
    runner.failed.connect(failures.append)

    def buggy(progress, cancel):
        raise ValueError("홍길동 800101-1234567")  # what a driver or library message might quote

    with qtbot.waitSignal(runner.ended, timeout=10_000):
        runner.start(buggy)
    [failure] = failures
    assert isinstance(failure, InternalError)
    message = str(failure)
    assert "홍길동" not in message and "800101" not in message
    assert message.startswith("an unexpected problem (ValueError) stopped emr-exporter at test_workers.py:")
    assert "EMR_EXPORTER_DEBUG=1" in message
