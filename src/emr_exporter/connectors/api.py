"""All a connector's ``hooks.py`` may import from emr-exporter (docs/connectors.md, "hooks.py").

A hook adjusts or rejects one mapped row: ``map_row(entity, row, values) -> values``. Keeping what it may use
to this short list lets the core move and change below it without breaking anyone's connector;
tests/test_layering.py checks the built-in connectors' hooks against it.
"""

from __future__ import annotations

from emr_exporter.connectors.mapper import key_text
from emr_exporter.connectors.transforms import RowRejected
from emr_exporter.model import ENTITY_TYPES, mask_rrn, record_id

__all__ = ["ENTITY_TYPES", "RowRejected", "key_text", "mask_rrn", "record_id"]
