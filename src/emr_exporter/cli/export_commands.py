"""Commands: demo, export, connectors."""

from __future__ import annotations

from emr_exporter.cli import main  # noqa: F401
