"""Packaged resources (translations, fonts, the document catalogue, store trust anchors): one accessor.

Read through :mod:`importlib.resources`, so the same call works from a source checkout, an installed
wheel and the frozen PyInstaller app (which collects this folder as ``emr_exporter/resources``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from emr_exporter.errors import ConfigError


def resource_path(*parts: str) -> Path:
    """The file or folder ``parts`` inside the packaged resources, as a real path on disk.

    Fonts and translations are handed to libraries that want file names, so the resources must live on
    the file system (never inside a zip); a missing one is a broken installation, said plainly.
    """
    traversable = files(__name__).joinpath(*parts)
    path = Path(str(traversable))
    if not path.exists():
        name = "/".join(parts) or "."
        raise ConfigError(
            f"The program's resource file {name} is missing; the installation is incomplete. "
            "Reinstall emr-exporter."
        )
    return path


def optional_resource_path(*parts: str) -> Path | None:
    """Like :func:`resource_path`, but None where the resource does not ship (e.g. no store certificate yet)."""
    path = Path(str(files(__name__).joinpath(*parts)))
    return path if path.exists() else None
