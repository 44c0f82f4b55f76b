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
import secrets
from decimal import Decimal
from typing import Any

#: Code points a FHIR string may not hold (below U+0020 other than tab, CR and LF); DEL is not one of them
#: but is as invisible, so carried text is checked for it too.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _as_text(data: bytes, encoding: str) -> str | None:
    """Bytes as the text they carry (see the module docstring), None where they are carried as base64."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return text if text.encode(encoding) == data and not CONTROL_CHARACTERS.search(text) else None


#: Bytes values at least this long that are carried as base64 are written into their line a piece at a time
#: (:func:`encode_raw_later`, :func:`spliced_line`): a 50 MB scan is then the row's bytes and the line's base64,
#: not also the base64 as bytes, as text and in the JSON encoder's buffer (docs/performance.md, "Huge BLOBs").
SPLICED_BYTES = 64 * 1024
_PIECE = 3 * 256 * 1024  # base64 of a multiple of 3 bytes has no padding: pieces join into the whole's


def encode_raw_later(value: Any, encoding: str, later: dict[str, bytes]) -> Any:
    """:func:`encode_raw`, except that long bytes carried as base64 are ``{"base64": <a random token>}``, the
    token's bytes in ``later``: :func:`spliced_line` writes their base64 in its place."""
    if type(value) is bytes and len(value) >= SPLICED_BYTES and _as_text(value, encoding) is None:
        token = secrets.token_hex(16)
        later[token] = value
        return {"base64": token}
    return encode_raw(value, encoding)


def spliced_line(line: bytes, later: dict[str, bytes]) -> bytes | bytearray:
    """``line`` (canonical JSON) with each token of ``later`` replaced by its bytes' base64, written a piece at
    a time into a buffer of the line's final length: the same bytes as the line of :func:`encode_raw`'s
    values (base64 needs no escaping in JSON)."""
    if not later:
        return line
    places = []
    for token, data in later.items():
        quoted = b'"' + token.encode("ascii") + b'"'
        at = line.find(quoted)
        if at < 0 or line.find(quoted, at + 1) >= 0:  # a random 128-bit token: never, but never silently
            raise ValueError("a carried value's place in its line was not found once")
        places.append((at + 1, len(quoted) - 2, data))
    places.sort(key=lambda place: place[0])
    size = len(line) + sum(4 * ((len(data) + 2) // 3) - length for _, length, data in places)
    out = bytearray(size)
    source = memoryview(line)
    done = written = 0
    for at, length, data in places:
        out[written:written + at - done] = source[done:at]
        written += at - done
        view = memoryview(data)
        for start in range(0, len(data), _PIECE):
            piece = base64.b64encode(view[start:start + _PIECE])
            out[written:written + len(piece)] = piece
            written += len(piece)
        view.release()
        done = at + length
    out[written:] = source[done:]
    source.release()
    return out


def encode_raw(value: Any, encoding: str) -> Any:
    """The carried form of one source value (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"float": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        text = _as_text(data, encoding)
        if text is not None:
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
