"""A bug that escapes as a plain exception: one line naming its type and place, never its text.

The failing job is a stand-in (no real input is known to cause such a bug; that is the point)."""

from __future__ import annotations

import json

import pytest

from emr_exporter.cli import run_command

RRN = "800101-1234567"


def failing_job() -> None:
    raise ValueError(f"invalid literal for int() with base 10: '{RRN}'")


def test_unexpected_error_shows_type_and_place_not_message(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMR_EXPORTER_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        run_command(failing_job)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert RRN not in err and "Traceback" not in err
    assert err.startswith("Error: an unexpected problem (ValueError) stopped emr-exporter at "
                          "test_unexpected_errors.py:")
    assert "EMR_EXPORTER_DEBUG=1" in err


def test_unexpected_error_as_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMR_EXPORTER_DEBUG", raising=False)
    with pytest.raises(SystemExit):
        run_command(failing_job, as_json=True)
    out = capsys.readouterr().out
    assert RRN not in out
    assert json.loads(out)["error"]["code"] == "internal"


def test_debug_switch_re_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMR_EXPORTER_DEBUG", "1")
    with pytest.raises(ValueError, match=RRN):
        run_command(failing_job)
