"""resume.py: the wizard's saved state (settings and paths only) and the free-space estimate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emr_exporter.jobs import resume


def test_state_round_trip_redacts_the_odbc_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resume.ENV_HOME, str(tmp_path / "home"))
    assert resume.load_state() is None
    state = resume.WizardState(
        step="export", institution_code="12345678", odbc="DRIVER={MariaDB};SERVER=x;UID=emr;PWD=s3cret;",
        out_dir=str(tmp_path / "out"),
    )
    path = resume.save_state(state)
    assert path == tmp_path / "home" / "wizard-state.json"
    text = path.read_text(encoding="utf-8")
    assert "s3cret" not in text
    loaded = resume.load_state()
    assert loaded is not None
    # without the password at all: a masked PWD=*** would be tried as the password on resume (a "wrong
    # password" for a founder who did not type it again); the password box asks for it instead
    assert loaded.odbc == "DRIVER={MariaDB};SERVER=x;UID=emr"
    assert "PWD" not in text and "***" not in text
    assert (loaded.step, loaded.institution_code, loaded.out_dir) == ("export", "12345678", str(tmp_path / "out"))
    resume.clear_state()
    assert resume.load_state() is None


def test_a_state_an_older_version_saved_with_a_masked_password_resumes_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resume.ENV_HOME, str(tmp_path))
    resume.state_path().write_text(json.dumps(
        {"step": "scan", "odbc": "DRIVER={MariaDB Unicode};SERVER=127.0.0.1;DATABASE=emr;UID=emr;Password=***"}),
        encoding="utf-8")
    loaded = resume.load_state()
    assert loaded is not None and loaded.odbc == "DRIVER={MariaDB Unicode};SERVER=127.0.0.1;DATABASE=emr;UID=emr"


def test_unreadable_or_foreign_state_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resume.ENV_HOME, str(tmp_path))
    resume.state_path().write_text("{not json", encoding="utf-8")
    assert resume.load_state() is None
    resume.state_path().write_text(json.dumps({"step": "scan", "unknown": 1, "demo": "yes"}), encoding="utf-8")
    loaded = resume.load_state()
    assert loaded is not None and loaded.step == "scan" and loaded.demo is False  # wrong types are dropped


def test_free_space_of_a_folder_not_created_yet_and_the_estimate(tmp_path: Path) -> None:
    assert resume.free_bytes(tmp_path / "not" / "yet") > 0
    assert resume.estimate_bundle_bytes(22_602) == int(22_602 * 1500 * 1.25) + 16 * 1024 * 1024
    assert resume.estimate_bundle_bytes(0, 10**9) > 10**9
