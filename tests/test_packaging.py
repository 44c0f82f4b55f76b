"""The wheel ships every package: pyproject lists packages explicitly (the built-in connectors live outside
src/), so a new subpackage that is not listed would silently be left out of an installed copy."""

from __future__ import annotations

import tomllib
from pathlib import Path

import emr_exporter

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    src = Path(emr_exporter.__file__).resolve().parent
    on_disk = {
        ".".join(init.parent.relative_to(src.parent).parts) for init in src.rglob("__init__.py")
    } | {
        ".".join(("emr_exporter_connectors", *init.parent.relative_to(ROOT / "connectors").parts))
        for init in (ROOT / "connectors").rglob("__init__.py")
    }
    on_disk = {name.rstrip(".") for name in on_disk}
    assert "emr_exporter.gui.pages" in on_disk and "emr_exporter_connectors.demo" in on_disk
    assert on_disk == listed


def test_the_version_is_written_once() -> None:
    import importlib.metadata

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("emr-exporter") == emr_exporter.__version__
