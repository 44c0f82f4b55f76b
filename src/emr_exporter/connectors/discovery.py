"""Finding connectors: one path for built-in and third-party ones.

1. The entry-point group ``emr_exporter.connectors``: the value names a package whose folder holds a
   ``connector.toml`` (our own ``demo`` is registered this way in pyproject.toml).
2. Connector folders on the search path: ``--connectors-dir`` and ``EMR_EXPORTER_CONNECTORS``.

In a frozen (PyInstaller) build entry points are not available; the built-in folder shipped next to the
executable is searched instead, with the same loader.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from emr_exporter.connectors.spec import ConnectorSpec, load_spec
from emr_exporter.errors import ConnectorNotFound, ConnectorSpecError

ENTRY_POINT_GROUP = "emr_exporter.connectors"
ENV_PATH = "EMR_EXPORTER_CONNECTORS"


@dataclass(frozen=True, slots=True)
class ConnectorLocation:
    name: str
    folder: Path
    origin: str


def _entry_point_locations() -> Iterable[ConnectorLocation]:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = importlib.util.find_spec(ep.value)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations)))
        yield ConnectorLocation(ep.name, folder, f"entry point {ep.value} ({ep.dist.name if ep.dist else '?'})")


def _folder_locations(dirs: Iterable[Path]) -> Iterable[ConnectorLocation]:
    for base in dirs:
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (child / "connector.toml").is_file():
                yield ConnectorLocation(child.name, child, f"folder {child}")


def search_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    dirs = [Path(p) for p in extra]
    env = os.environ.get(ENV_PATH)
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        dirs.append(Path(frozen_root) / "connectors")
    return dirs


def locate_connectors(extra_dirs: Iterable[Path] = ()) -> list[ConnectorLocation]:
    """All connector folders found, first occurrence of a name wins (search path before entry points)."""
    found: dict[str, ConnectorLocation] = {}
    for location in [*_folder_locations(search_dirs(extra_dirs)), *_entry_point_locations()]:
        found.setdefault(location.name, location)
    return sorted(found.values(), key=lambda loc: loc.name)


def load_connector(name: str, extra_dirs: Iterable[Path] = ()) -> ConnectorSpec:
    locations = locate_connectors(extra_dirs)
    for location in locations:
        if location.name == name:
            spec = load_spec(location.folder, origin=location.origin)
            if spec.name != name:
                raise ConnectorSpecError(
                    str(spec.spec_file), "connector.name",
                    f"is '{spec.name}' but the connector is installed as '{name}'",
                )
            return spec
    known = ", ".join(loc.name for loc in locations) or "none"
    raise ConnectorNotFound(f"No connector named '{name}' is installed (installed: {known}).")


def list_connectors(extra_dirs: Iterable[Path] = ()) -> list[ConnectorSpec | ConnectorSpecError]:
    """Every connector found; a broken one is reported as its error instead of hiding the others."""
    result: list[ConnectorSpec | ConnectorSpecError] = []
    for location in locate_connectors(extra_dirs):
        try:
            result.append(load_spec(location.folder, origin=location.origin))
        except ConnectorSpecError as exc:
            result.append(exc)
    return result
