"""Connectors: declarative knowledge of one EMR product each (docs/connectors.md)."""

from emr_exporter.connectors.discovery import list_connectors, load_connector, locate_connectors
from emr_exporter.connectors.spec import ConnectorSpec, EntitySpec, FieldSpec, load_spec
from emr_exporter.connectors.transforms import RowRejected

__all__ = [
    "ConnectorSpec",
    "EntitySpec",
    "FieldSpec",
    "RowRejected",
    "list_connectors",
    "load_connector",
    "load_spec",
    "locate_connectors",
]
