"""Source values carried verbatim: a typed JSON form that gives back the exact value (docs/bundle-format.md).

Used for unmapped tables (``data/raw/tables/<table>.ndjson``) and unmapped columns of exported rows
(``data/raw/columns/<entity>.ndjson``). JSON has no bytes, decimals or dates, so those are tagged:

* ``null``, booleans, integers, finite floats and text: as themselves;
* bytes: ``{"text": "...", "encoding": "cp949"}`` when they decode with the connector's encoding, encode
  back to the very same bytes and hold no control characters (legacy EMRs keep text in BLOBs), else
  ``{"base64": "..."}``;
* ``{"decimal": "12.50"}``, ``{"date": "2020-01-31"}``, ``{"datetime": "2020-01-31T10:00:00"}``,
  ``{"time": "10:00:00"}``, ``{"float": "nan"}`` (non-finite floats), ``{"text": "..."}`` for anything else
  a driver returns (its ``str()``).

:func:`decode_raw` is the inverse: ``decode_raw(encode_raw(v, enc)) == v`` for every value a source yields.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from decimal import Decimal
from typing import Any

#: Code points a FHIR string may not hold (below U+0020 other than tab, CR and LF); DEL is not one of them
#: but is as invisible, so carried text is checked for it too.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def encode_raw(value: Any, encoding: str) -> Any:
    """The carried form of one source value (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"float": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            text = None
        if text is not None and text.encode(encoding) == data and not CONTROL_CHARACTERS.search(text):
            return {"text": text, "encoding": encoding}
        return {"base64": base64.b64encode(data).decode("ascii")}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    return {"text": str(value)}


def decode_raw(carried: Any) -> Any:
    """The source value a carried form stands for (the inverse of :func:`encode_raw`)."""
    if not isinstance(carried, dict):
        return carried
    if "base64" in carried:
        return base64.b64decode(carried["base64"])
    if "encoding" in carried:
        return str(carried["text"]).encode(carried["encoding"])
    if "decimal" in carried:
        return Decimal(carried["decimal"])
    if "datetime" in carried:
        return dt.datetime.fromisoformat(carried["datetime"])
    if "date" in carried:
        return dt.date.fromisoformat(carried["date"])
    if "time" in carried:
        return dt.time.fromisoformat(carried["time"])
    if "float" in carried:
        return float(carried["float"])
    return carried["text"]


__all__ = ["CONTROL_CHARACTERS", "decode_raw", "encode_raw"]
