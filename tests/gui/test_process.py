"""The wizard as a real process: Cancel or the close button during an export or an upload ends the process
(work stopped at a safe point, state saved), and a second start brings the first window forward instead of
running two copies. Each case runs tests/gui/founder_child.py, which drives its own wizard offscreen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gui
CHILD = Path(__file__).with_name("founder_child.py")


def child_env(app_home: Path) -> dict[str, str]:
    env = dict(os.environ, EMR_EXPORTER_HOME=str(app_home), QT_QPA_PLATFORM="offscreen")
    env.pop("EMR_EXPORTER_STORE_URL", None)
    return env


def run_child(app_home: Path, *args: str) -> list[str]:
    done = subprocess.run([sys.executable, str(CHILD), *args], env=child_env(app_home), capture_output=True,
                          text=True, encoding="utf-8", timeout=240)
    lines = [line for line in done.stdout.splitlines() if line]
    assert done.returncode == 0, (done.returncode, lines, done.stderr[-2000:])
    return lines


@pytest.mark.parametrize("how", ["export", "close-export"])
def test_cancel_or_close_during_an_export_ends_the_process(app_home: Path, how: str) -> None:
    # Before the fix the window disappeared and the process waited forever (the timeout above fails it).
    assert run_child(app_home, how) == ["working", "cancelled", "exited"]
    state = json.loads((app_home / "wizard-state.json").read_text("utf-8"))
    assert state["step"] == "export" and state["demo"] is True  # the next start offers to continue
    exports = app_home / "exports"
    assert not list(exports.glob("*.emrx")) if exports.exists() else True  # stopped before sealing


def test_cancel_during_an_upload_ends_the_process_and_the_upload_continues_later(
    app_home: Path, tmp_path: Path
) -> None:
    from test_founder import _carried_demo_bundle

    from emr_exporter.upload.journal import UploadJournal

    bundle = _carried_demo_bundle(app_home, tmp_path / "usb")
    assert run_child(app_home, "upload", str(bundle)) == ["working", "cancelled", "exited"]
    assert not bundle.with_name(bundle.name + ".receipt.json").exists()  # stopped mid-way, no receipt yet
    [entry] = UploadJournal.beside(bundle).entries()  # saved: the next start continues from the store's offset
    assert entry.state == "sending" and entry.upload_url and entry.offset_seen < bundle.stat().st_size


def test_a_second_start_brings_the_first_window_forward(app_home: Path) -> None:
    first = subprocess.Popen([sys.executable, str(CHILD), "wait"], env=child_env(app_home),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "ready"
        second = subprocess.run([sys.executable, "-m", "emr_exporter.gui.app", "--lang", "ko"],
                                env=child_env(app_home), capture_output=True, text=True, timeout=60)
        assert second.returncode == 0
        assert "already running" in second.stderr
        rest: Any = first.communicate(timeout=60)[0].split()
        assert rest == ["raised", "exited"] and first.returncode == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # Once the first has ended, a new start runs normally (it would wait for input: give it a moment only).
    third = subprocess.Popen([sys.executable, str(CHILD), "wait"], env=child_env(app_home),
                             stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        assert third.stdout is not None and third.stdout.readline().strip() == "ready"
    finally:
        third.kill()
        third.wait()
