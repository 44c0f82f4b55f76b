"""What the demo connector's declarative mapping cannot say.

``CHART_REC.ORG_REC_NO`` names the chart note an amendment corrects (Medical Service Act art. 22(2):
both versions are kept). A ``ref`` field may only point at an entity exported earlier, not at its own
entity, so the reference id is built here the same way the framework builds every record id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emr_exporter.connectors.api import key_text, record_id

#: The only entity whose values this hook changes: the others' rows never reach it (the mapper builds
#: them in one step, without the values dict a hook reads).
MAP_ROW_ENTITIES = ("chart_note",)

_CONNECTOR = "demo"
_CHART_NOTE_TABLE = "CHART_REC"


def map_row(entity: str, row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if entity == "chart_note":
        amended_key = row.get("org_rec_no")
        if amended_key is not None:
            values = {**values, "amends_id": record_id(_CONNECTOR, _CHART_NOTE_TABLE, key_text(amended_key))}
    return values
