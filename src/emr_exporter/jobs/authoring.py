"""The jobs for finding and describing a clinic database: ``detect`` (which EMR is this?), the search of this
PC (the wizard's EMR page), test connection, ``scan`` (what an export would read, nothing written),
``scaffold`` (profile an unknown database into a first connector), ``connector check`` (what is left to finish
a connector) and the installed ``connectors``."""

from __future__ import annotations

from emr_exporter.authoring.check import CheckReport, assert_connector_finished, check_connector
from emr_exporter.authoring.eav import OTHER_REASON
from emr_exporter.authoring.scaffold import DEFAULT_SAMPLE_ROWS, ScaffoldOutcome, write_scaffold
from emr_exporter.authoring.scan import (
    Candidate,
    Detection,
    ScanReport,
    detect_connectors,
    scan_database,
    search_this_pc,
    test_connection,
)
from emr_exporter.connectors import ConnectorSpec, list_connectors, load_connector
from emr_exporter.errors import EmrExporterError

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "OTHER_REASON",
    "Candidate",
    "CheckReport",
    "ConnectorSpec",
    "Detection",
    "ScaffoldOutcome",
    "ScanReport",
    "assert_connector_finished",
    "check_connector",
    "detect_connectors",
    "list_connectors",
    "load_connector",
    "scan_database",
    "search_this_pc",
    "section_kinds",
    "test_connection",
    "write_scaffold",
]


def section_kinds(connector: str) -> dict[str, str]:
    """Each section of an installed connector and the record type its rows become (``vital_weight`` →
    ``vital_signs``; a section named as its type, or a carried one with no ``entity``, → its own name), so a
    screen can name a section by its record type. Empty when the connector cannot be loaded (a sealed file
    brought from a PC with a connector this one lacks): the caller shows the section names as they are."""
    try:
        spec = load_connector(connector)
    except (EmrExporterError, OSError):
        return {}
    return {name: section.canonical for name, section in spec.entities.items()}
