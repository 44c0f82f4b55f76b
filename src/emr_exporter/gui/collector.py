"""Python's cycle collector runs only in the GUI thread while the wizard is up.

Why: the collector runs in whichever thread happens to allocate when a generation's threshold is crossed.
The wizard's jobs allocate heavily in worker threads (the demo clinic, the export), so a collection started
there frees garbage cycles holding Qt widgets from the wrong thread, and Qt aborts the process with a
segmentation fault (seen in CI: "Garbage-collecting" in a QThread, inside ``random.choices``). So, as
pyqtgraph's ``GarbageCollector`` does, automatic collection is switched off and a timer in the GUI thread
collects with the same generation thresholds Python would use. Reference counting still frees everything
that is not in a cycle, in every thread, as usual.
"""

from __future__ import annotations

import gc

from emr_exporter.gui.qt import QObject, QTimer

#: How often the GUI thread looks at the collector's counters (ms). Cycles wait at most this long.
CHECK_INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Turns automatic collection off and collects from a timer in the thread that made this object."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._started = False

    def start(self) -> None:
        gc.disable()
        self._timer.start()
        self._started = True

    def stop(self) -> None:
        """Collect everything now (in this thread) and hand collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._started and self._was_enabled:
            gc.enable()
        self._started = False

    def collect_due(self) -> None:
        """Collect the oldest generation whose counter passed its threshold, as Python itself would."""
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return


_installed: MainThreadCollector | None = None


def collect_in_gui_thread(app: QObject) -> MainThreadCollector:
    """Install the collector once per process (the app's child, so it lives as long as the app)."""
    global _installed
    if _installed is None:
        _installed = MainThreadCollector(app)
        _installed.start()
    return _installed
