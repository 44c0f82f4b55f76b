"""Progress on long commands: a bar with rate and time left on a terminal, plain lines otherwise, nothing with
--json; and an error never lands on the bar's line."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from emr_exporter.cli import run_command
from emr_exporter.cli.progress import Progress, human_bytes
from emr_exporter.errors import RejectedByStore


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("emr-export")), *args], capture_output=True,
                          text=True, timeout=300)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_on_a_terminal_shows_rate_and_time_left_and_an_error_starts_its_own_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    clock = Clock()

    def job() -> None:
        progress = Progress("upload b.emrx", clock=clock)
        progress.update(0, 4_000_000)
        clock.now += 10
        progress.update(2_000_000, 4_000_000)  # 200 KB/s, 10 s left
        raise RejectedByStore("The store refused a piece of the upload (PATCH) (500).")

    with pytest.raises(SystemExit) as exited:
        run_command(job)
    assert exited.value.code == 1
    output = terminal.getvalue()
    bar_line, error_line, end = output.split("\n")
    assert end == "" and error_line == "Error: The store refused a piece of the upload (PATCH) (500)."
    last_bar = bar_line.split("\r")[-1]
    assert last_bar == "upload b.emrx                  [############............]  50.0%  200.0 KB/s  ETA 0:10\x1b[K"
    assert output.endswith("\x1b[K\nError: The store refused a piece of the upload (PATCH) (500).\n")


def test_plain_lines_when_not_a_terminal_and_nothing_with_json() -> None:
    plain, silent = io.StringIO(), io.StringIO()
    clock = Clock()
    shown = Progress("export", unit="rows", stream=plain, clock=clock)
    hidden = Progress("export", unit="rows", stream=silent, mode="off", clock=clock)
    for done in range(0, 1001, 100):
        for progress in (shown, hidden):
            progress.update(done, 1000)
        clock.now += 1
    assert silent.getvalue() == ""
    # The first line, then at most one every 5 s, then the last: each a whole line.
    assert plain.getvalue().splitlines() == [
        "export: 0 rows of 1,000 rows (0.0%)",
        "export: 500 rows of 1,000 rows (50.0%), 100 rows/s, about 0:05 left",
        "export: 1,000 rows of 1,000 rows (100.0%), 100 rows/s",
    ]


def test_every_long_command_shows_plain_progress_lines_when_not_a_terminal_and_none_with_json(
    tmp_path: Path,
) -> None:
    """export (via demo), verify, open and scan through the real CLI, with stderr a pipe (not a terminal)."""
    demo = _cli("demo", "--out", str(tmp_path / "d"), "--patients", "5")
    assert demo.returncode == 0, demo.stderr
    assert "export patient: " in demo.stderr and "(100.0%)" in demo.stderr
    (bundle,) = (tmp_path / "d").glob("*.emrx")
    size = bundle.stat().st_size

    verify = _cli("verify", str(bundle))
    assert verify.returncode == 0
    assert verify.stderr.splitlines()[-1].startswith(f"{bundle.name} verify: ")
    assert verify.stderr.splitlines()[-1].endswith("(100.0%)")
    assert all(line.startswith(f"{bundle.name} verify: ") for line in verify.stderr.splitlines())

    opened = _cli("open", str(bundle), "--key", str(tmp_path / "d" / "demo-keys" / "store-key.pem"),
                  "--out", str(tmp_path / "opened"))
    assert opened.returncode == 0, opened.stderr
    stages = [line.split(":")[0] for line in opened.stderr.splitlines()]
    assert [s for i, s in enumerate(stages) if s not in stages[:i]] == [
        f"{bundle.name} verify", f"{bundle.name} authenticate", f"{bundle.name} open"]
    verify_lines = [line for line in opened.stderr.splitlines() if line.startswith(f"{bundle.name} verify: ")]
    assert verify_lines[-1].endswith(f"of {human_bytes(size)} (100.0%)")
    assert opened.stderr.splitlines()[-1].endswith("(100.0%)")

    scan = _cli("scan", "--connector", "demo", "--source", str(tmp_path / "d" / "demo-clinic.sqlite"))
    assert scan.returncode == 0 and "scan patient: " in scan.stderr

    for args in (["verify", str(bundle), "--json"],
                 ["scan", "--connector", "demo", "--source", str(tmp_path / "d" / "demo-clinic.sqlite"), "--json"]):
        quiet = _cli(*args)
        assert quiet.returncode == 0 and quiet.stderr == ""


def test_batch_live_table_one_line_per_clinic_redrawn_on_a_terminal_and_lines_on_change_otherwise() -> None:
    from emr_exporter.cli.batch_commands import LiveTable
    from emr_exporter.jobs.batch import ClinicProgress

    table = {name: ClinicProgress(name) for name in ("haetsal", "bomnal")}
    terminal = FakeTerminal()
    live = LiveTable(terminal, enabled=True)
    live(table)
    table["haetsal"].stage, table["haetsal"].rows, table["haetsal"].rows_total = "export", 1200, 3540
    table["haetsal"].rate = 600.0
    live(table)
    first, second = terminal.getvalue().split("\x1b[2F")  # the second draw goes back over the two lines
    assert first.splitlines() == ["haetsal                  waiting                                            \x1b[K",
                                  "bomnal                   waiting                                            \x1b[K"]
    assert second.splitlines()[0] == (
        "haetsal                  export   1,200 / 3,540 rows         600 rows/s     \x1b[K")

    log = io.StringIO()
    plain = LiveTable(log, enabled=True)
    plain(table)
    plain(table)  # nothing changed: nothing printed
    table["bomnal"].result, table["bomnal"].stage = "failed", "done"
    plain(table)
    assert [line.split()[:2] for line in log.getvalue().splitlines()] == [
        ["haetsal", "export"], ["bomnal", "waiting"], ["bomnal", "done"]]
    silent = io.StringIO()
    LiveTable(silent, enabled=False)(table)
    assert silent.getvalue() == ""
