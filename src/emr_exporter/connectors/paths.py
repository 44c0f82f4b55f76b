"""Stored attachment paths as an EMR wrote them (``C:\\UBCARE\\SCAN\\…``, ``\\\\NAS\\emr\\…``, ``/srv/…``).

Pure path logic (:class:`~pathlib.PureWindowsPath`, :class:`~pathlib.PurePosixPath`), so the Windows forms are
compared as Windows compares them on any system: the ``file`` transform and the spec's validation use it.
"""

from __future__ import annotations

import re
from pathlib import PurePath, PurePosixPath, PureWindowsPath

#: A stored path the EMR wrote as an absolute Windows path: a drive (``C:\\…``, ``d:/…``) or a share
#: (``\\\\server\\share\\…``, ``//server/share/…``).
_WINDOWS_ABSOLUTE = re.compile(r"^([A-Za-z]:[\\/]|[\\/]{2}[^\\/])")
_ROOTED = re.compile(r"^([A-Za-z]:|[\\/])")


def stored_path_form(text: str) -> str:
    """How a stored attachment path is written: ``"windows"`` (a drive letter or ``\\\\server\\share``, either
    slash), ``"posix"`` (``/…``) or ``"relative"`` (anything else: a drive-relative ``C:foo`` too)."""
    if _WINDOWS_ABSOLUTE.match(text):
        return "windows"
    if text.startswith("/"):
        return "posix"
    return "relative"


def _pure(text: str, form: str) -> PurePath:
    return PureWindowsPath(text) if form == "windows" else PurePosixPath(text.replace("\\", "/"))


def _fold(parts: tuple[str, ...], windows: bool) -> tuple[str, ...]:
    # Windows compares names case-insensitively; PureWindowsPath has already made every '/' a '\\'.
    return tuple(part.casefold() for part in parts) if windows else parts


def relative_to_base(stored: str, base: PurePath) -> tuple[str, ...] | None:
    """The parts of absolute ``stored`` after ``base`` (an absolute folder), compared as ``base``'s system
    compares paths (Windows: case-insensitive, ``/`` = ``\\``, drives and ``\\\\server\\share``; POSIX: exactly).
    None when ``stored`` is not under ``base``. ``..`` parts are left in: the caller refuses them."""
    form = stored_path_form(stored)
    windows = isinstance(base, PureWindowsPath)
    if form == "relative" or (form == "windows") != windows:
        return None
    path = _pure(stored, form)
    if not path.is_absolute() or not base.is_absolute():
        return None
    head = _fold(base.parts, windows)
    if _fold(path.parts[: len(head)], windows) != head:
        return None
    return path.parts[len(head):]


def prefix_path(prefix: str) -> PurePath:
    """A ``[attachments] stored_prefixes`` entry as the system it was written on reads it."""
    form = stored_path_form(prefix)
    return _pure(prefix, "posix" if form == "relative" else form)


def rooted(text: str) -> bool:
    """Whether a path that is not absolute still names a root or a drive (``\\foo``, ``C:foo``): never relative
    to the attachment folder."""
    return _ROOTED.match(text) is not None
