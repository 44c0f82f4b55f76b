"""What ``connector check`` and ``scan`` tell the contractor about attachments refused as outside the folder.

A quarantined ``path-outside-root`` row whose stored path is absolute (``C:\\UBCARE\\SCAN\\…``, ``\\\\NAS\\…``,
``/…``) is most often a file the EMR wrote with its own full path: ``[attachments] stored_prefixes`` maps that
folder to the attachments root. Only the row's raw value is looked at, in memory; the hint names the section,
field and column and counts rows, never a path (a folder name may hold a patient's name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from emr_exporter import model
from emr_exporter.connectors.paths import rooted, stored_path_form
from emr_exporter.connectors.spec import ConnectorSpec

_FIELD_IN_REASON = re.compile(r"field '([a-z_]+)'")


def absolute_path_field(spec: ConnectorSpec, row: model.QuarantinedRow) -> str | None:
    """``section.field (COLUMN)`` when ``row`` was refused as ``path-outside-root`` and its stored path is
    absolute; else None."""
    if row.reason_code != "path-outside-root":
        return None
    found = _FIELD_IN_REASON.search(row.reason)
    entity = spec.entities.get(row.entity)
    fld = entity.fields.get(found.group(1)) if entity is not None and found else None
    if fld is None or not fld.column:
        return None
    column = fld.column.lower()
    value = next((v for k, v in row.raw.items() if k.lower() == column), None)
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode(spec.encoding, "replace")
    if not isinstance(value, str):
        return None
    text = value.strip()
    if stored_path_form(text) == "relative" and not rooted(text):
        return None
    return f"{row.entity}.{fld.name} ({fld.column})"


def stored_prefix_hints(rows: Mapping[str, int]) -> list[str]:
    """One line per field whose refused paths are absolute, saying what to do."""
    return [
        f"{where}: {n} row(s) hold an absolute path outside the attachments folder (C:\\…, \\\\server\\share\\… or "
        "/…). If the EMR wrote the full path of each file, give the folder it wrote before the files in "
        "connector.toml, [attachments] stored_prefixes = ['C:\\EMR\\SCAN'] (as the EMR wrote it; the rest of "
        "each path is then read inside the attachments folder, --attachments-root)"
        for where, n in sorted(rows.items())
    ]
