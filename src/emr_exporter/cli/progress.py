"""Progress for every long command: a bar with rate and time left on a terminal, plain lines when the output
is not a terminal (a log file, CI, a batch runner), nothing with ``--json``.

Progress goes to stderr. A bar is one line redrawn with ``\\r``; before anything else is printed on stderr
(an error, a warning, a summary) the open bar line is ended, so progress and messages never share a line
(:func:`end_line`, which :func:`emr_exporter.cli.run_command` calls before printing an error).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Plain (non-terminal) lines are written at most this often, plus the first and the last one.
PLAIN_EVERY_SECONDS = 5.0
BAR_WIDTH = 24

_open_line: list[TextIO] = []  # the stream whose last line is an unfinished bar, if any


def end_line() -> None:
    """Finish the bar line currently open, if any (call before printing any other message on stderr)."""
    while _open_line:
        stream = _open_line.pop()
        stream.write("\n")
        stream.flush()


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def human_seconds(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """One progress display for one measured quantity (bytes or rows).

    ``mode``: "auto" (bar on a terminal, plain lines otherwise) or "off" (``--json``: nothing at all).
    """

    def __init__(self, label: str, *, unit: str = "bytes", mode: str = "auto", stream: TextIO | None = None,
                 clock: object = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = mode != "off"
        self.tty = self.enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.unit = unit
        self._clock = clock
        self._started: float | None = None
        self._start_done = 0
        self._last_plain = -1e18
        self._last_bar = -1e18
        self._last_done: int | None = None

    def _fmt(self, amount: float) -> str:
        return human_bytes(amount) if self.unit == "bytes" else f"{int(amount):,} {self.unit}"

    def _rate(self, amount: float) -> str:
        return human_bytes(amount) + "/s" if self.unit == "bytes" else f"{amount:,.0f} {self.unit}/s"

    def relabel(self, label: str) -> None:
        """A new stage (e.g. the next table): rate and time left start again."""
        if label != self.label:
            if self.tty and _open_line:
                end_line()
            self.label = label
            self._started = None
            self._last_done = None
            self._last_plain = -1e18

    def update(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        now = float(self._clock())  # type: ignore[operator]
        if self._started is None:
            self._started, self._start_done = now, done
        elapsed = now - self._started
        rate = (done - self._start_done) / elapsed if elapsed > 0.5 else 0.0
        finished = total is not None and done >= total
        left = (total - done) / rate if (rate > 0 and total) else None
        if self.tty:
            if not finished and now - self._last_bar < 0.1:
                return
            self._last_bar = now
            self._draw_bar(done, total, rate, left)
            if finished:
                end_line()
        else:
            if not finished and now - self._last_plain < PLAIN_EVERY_SECONDS:
                return
            if finished and self._last_done == done:
                return
            self._last_plain = now
            self._last_done = done
            self.stream.write(self._plain(done, total, rate, left) + "\n")
            self.stream.flush()

    def _plain(self, done: int, total: int | None, rate: float, left: float | None) -> str:
        text = f"{self.label}: {self._fmt(done)}"
        if total:
            text += f" of {self._fmt(total)} ({100 * done / total:.1f}%)"
        if rate:
            text += f", {self._rate(rate)}"
        if left is not None and total and done < total:
            text += f", about {human_seconds(left)} left"
        return text

    def _draw_bar(self, done: int, total: int | None, rate: float, left: float | None) -> None:
        if total:
            filled = int(BAR_WIDTH * min(done, total) / total)
            bar = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + f"] {100 * done / total:5.1f}%"
        else:
            bar = f"{self._fmt(done)}"
        rate_text = f"  {self._rate(rate)}" if rate else ""
        eta = f"  ETA {human_seconds(left)}" if left is not None and total and done < total else ""
        line = f"\r{self.label[:30]:<30} {bar}{rate_text}{eta}"
        self.stream.write(line + "\x1b[K")  # clear what a longer previous line left behind
        self.stream.flush()
        if self.stream not in _open_line:
            _open_line.append(self.stream)

    def message(self, text: str) -> None:
        """A line of its own (never glued to the bar)."""
        if not self.enabled:
            return
        end_line()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        end_line()


class StagedProgress:
    """Progress of a job that goes through named stages (verify, authenticate, open; one per table in an
    export or a scan): each stage gets its own bar (or plain lines), with its own rate and time left."""

    def __init__(self, prefix: str, *, unit: str = "bytes", mode: str = "auto", stream: TextIO | None = None) -> None:
        self.prefix = prefix
        self.display = Progress(prefix, unit=unit, mode=mode, stream=stream)

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.display.relabel(f"{self.prefix} {stage}".strip())
        self.display.update(done, total)

    def message(self, text: str) -> None:
        self.display.message(text)

    def close(self) -> None:
        self.display.close()


class RowProgress(StagedProgress):
    """Adapter for the export/scan/readiness progress events (``stage``, ``entity``, ``done``, ``total``)."""

    def __init__(self, enabled: bool, prefix: str = "export") -> None:
        super().__init__(prefix, unit="rows", mode="auto" if enabled else "off")

    def event(self, event: object) -> None:
        stage = getattr(event, "stage", "")
        entity = getattr(event, "entity", None)
        if stage in ("export", "scan", "readiness") and entity:
            total = int(getattr(event, "total", 0) or 0)
            self(str(entity), int(getattr(event, "done", 0)), total or None)
        elif stage == "finish":
            self.message(f"{self.prefix}: writing manifests and reports")
