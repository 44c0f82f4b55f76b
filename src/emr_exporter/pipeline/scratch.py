"""Scratch files of an export: the id index's runs and the readiness observer's spilled visits.

What is in them is enciphered under a key that lives only in memory (pipeline/check.py, reports/readiness.py),
so they hold nothing readable; still, a founder should not see them, move them or delete them while the export
runs. On Linux and macOS a ``tempfile.TemporaryFile`` has no name at all once open (it is unlinked at once, or
made with ``O_TMPFILE``). On Windows it keeps a name until it is closed (then Windows deletes it): there it is
marked hidden and temporary (the cache manager then tries to keep it off the disk), so Explorer does not show
it in the output folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

_FILE_ATTRIBUTE_HIDDEN = 0x2
_FILE_ATTRIBUTE_TEMPORARY = 0x100


def scratch_file(folder: Path | None, prefix: str) -> IO[bytes]:
    """A temporary binary file in ``folder`` (None: the system's temporary folder), gone when closed."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.TemporaryFile(dir=folder, prefix=prefix)  # noqa: SIM115 - the caller closes it
    if os.name == "nt":  # pragma: no cover - Windows only (the product's platform; not testable on Linux CI)
        _hide(str(getattr(handle, "name", "")))
    return handle


def _hide(path: str) -> None:
    import ctypes

    if path:  # best effort: a file that stays visible is still deleted when closed
        ctypes.windll.kernel32.SetFileAttributesW(path, _FILE_ATTRIBUTE_HIDDEN | _FILE_ATTRIBUTE_TEMPORARY)  # type: ignore[attr-defined]
