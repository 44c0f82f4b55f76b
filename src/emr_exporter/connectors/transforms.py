"""The closed set of value transforms a connector field may use (docs/connectors.md).

A transform either returns the canonical value or raises :class:`RowRejected` with a stable reason code
and a message that names the field — never the value, which may be patient data.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec


class RowRejected(Exception):
    """Raised by a transform or a hook: the row is quarantined with this reason."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TransformContext:
    spec: ConnectorSpec
    attachments_root: Path | None


_LOSSY = re.compile(r"^\?{2,}$")
_RRN = re.compile(r"^(\d{6})-?(\d{7})$")
_TRUE = {"1", "y", "yes", "t", "true"}
_FALSE = {"0", "n", "no", "f", "false"}

# Effective dates of the KCD editions (Statistics Korea; korea.md §4.4).
_KCD_EDITIONS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2026, 1, 1), "kcd-9"),
    (dt.date(2021, 1, 1), "kcd-8"),
    (dt.date(2016, 1, 1), "kcd-7"),
    (dt.date(2011, 1, 1), "kcd-6"),
    (dt.date(2008, 1, 1), "kcd-5"),
)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | bytes) and not value.strip())


def _as_text(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    if type(value) is str:  # the common case first (hot path); same result as the branches below
        return unicodedata.normalize("NFC", value.rstrip())
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            text = bytes(value).decode(ctx.spec.encoding)
        except UnicodeDecodeError:
            raise RowRejected(
                "bad-encoding", f"field '{field.name}' holds bytes that are not valid {ctx.spec.encoding}"
            ) from None
    elif isinstance(value, str):
        text = value
    else:
        text = str(value)
    return unicodedata.normalize("NFC", text.rstrip())


def to_text(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    text = _as_text(value, field, ctx)
    if _LOSSY.match(text.replace(" ", "")):
        raise RowRejected(
            "lossy-text",
            f"field '{field.name}' holds only '?' marks: the text was lost when it was first stored",
        )
    return text


def to_int(value: Any, field: FieldSpec, ctx: TransformContext) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        number = Decimal(_as_text(value, field, ctx).strip())
        if number != number.to_integral_value():
            raise InvalidOperation
        return int(number)
    except (InvalidOperation, ValueError):
        raise RowRejected("invalid-number", f"field '{field.name}' is not a whole number") from None


def to_decimal(value: Any, field: FieldSpec, ctx: TransformContext) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    try:
        number = Decimal(_as_text(value, field, ctx).strip().replace(",", ""))
    except InvalidOperation:
        raise RowRejected("invalid-number", f"field '{field.name}' is not a number") from None
    if not number.is_finite():
        raise RowRejected("invalid-number", f"field '{field.name}' is not a finite number")
    return number


def to_bool(value: Any, field: FieldSpec, ctx: TransformContext) -> bool:
    if field.map is not None:
        key = _as_text(value, field, ctx)
        if key in field.map:
            return bool(field.map[key])
        raise RowRejected("invalid-bool", f"field '{field.name}' has a value the connector's map does not know")
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value in (0, 1):
            return bool(value)
    else:
        text = _as_text(value, field, ctx).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise RowRejected("invalid-bool", f"field '{field.name}' is not a yes/no value")


#: Fixed-width all-digit formats parsed by slicing instead of ``strptime`` (a hot spot: legacy EMRs
#: store every date as YYYYMMDD text). For an ASCII-digit string of exactly this length, strptime can
#: only split it one way (%Y takes 4 digits, every other field at most 2), so slicing gives the same
#: result and raises ValueError for the same impossible dates. Any other text goes to strptime.
_DIGIT_FORMATS: dict[str, tuple[int, tuple[tuple[int, int], ...]]] = {
    "%Y%m%d": (8, ((0, 4), (4, 6), (6, 8))),
    "%Y%m%d%H%M%S": (14, ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))),
}


def _parse_date_text(text: str, formats: tuple[str, ...]) -> dt.datetime | None:
    for fmt in formats:
        try:
            digits = _DIGIT_FORMATS.get(fmt)
            if digits is not None and len(text) == digits[0] and text.isascii() and text.isdigit():
                return dt.datetime(*(int(text[start:end]) for start, end in digits[1]))
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def to_date(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _as_text(value, field, ctx).strip()
    parsed = _parse_date_text(text, ctx.spec.date_formats) or _parse_date_text(text, ctx.spec.datetime_formats)
    if parsed is None:
        raise RowRejected("invalid-date", f"field '{field.name}' is not a valid calendar date")
    return parsed.date()


def to_datetime(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.datetime | dt.date:
    if isinstance(value, dt.datetime | dt.date):
        return value
    text = _as_text(value, field, ctx).strip()
    parsed = _parse_date_text(text, ctx.spec.datetime_formats)
    if parsed is not None:
        return parsed
    # A date-only value stays a date: no time is invented.
    return to_date(text, field, ctx)


def to_code(value: Any, field: FieldSpec, ctx: TransformContext) -> Any:
    key = _as_text(value, field, ctx)
    assert field.map is not None
    if key in field.map:
        return field.map[key]
    if field.default is not None:
        return field.default
    raise RowRejected("unmapped-code", f"field '{field.name}' has a code the connector's map does not know")


def to_rrn(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    match = _RRN.match(_as_text(value, field, ctx).strip())
    if not match:
        raise RowRejected(
            "invalid-rrn", f"field '{field.name}' is not a 13-digit resident registration number"
        )
    return f"{match.group(1)}-{match.group(2)}"


def to_kcd_edition(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    service_date = to_date(value, field, ctx)
    for start, edition in _KCD_EDITIONS:
        if service_date >= start:
            return edition
    return "kcd-4"


def to_blob(value: Any, field: FieldSpec, ctx: TransformContext) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise RowRejected("invalid-blob", f"field '{field.name}' is not binary data")


def to_file(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """Resolve a stored relative path inside the attachment root; refuse anything outside it."""
    relative = _as_text(value, field, ctx).strip().replace("\\", "/")
    root = ctx.attachments_root
    if field.root:
        root = (root.parent if root else Path.cwd()) / field.root
    if root is None:
        raise RowRejected("file-missing", f"field '{field.name}': no attachment folder was given")
    root = root.resolve()
    if relative.startswith("/") or re.match(r"^[A-Za-z]:", relative) or ".." in relative.split("/"):
        raise RowRejected("path-outside-root", f"field '{field.name}' points outside the attachment folder")
    if "\x00" in relative:
        raise RowRejected("file-missing", f"field '{field.name}': the stored file name contains a NUL character")
    try:
        candidate = (root / relative).resolve()
        inside = candidate == root or root in candidate.parents
        exists = inside and candidate.is_file()
    except OSError:  # e.g. a name too long for the file system; the message would show the file name
        raise RowRejected("file-unreadable", f"field '{field.name}': the attachment file cannot be read") from None
    if not inside:
        raise RowRejected("path-outside-root", f"field '{field.name}' points outside the attachment folder")
    if not exists:
        raise RowRejected("file-missing", f"field '{field.name}': the attachment file does not exist")
    if not os.access(candidate, os.R_OK):
        raise RowRejected("file-unreadable", f"field '{field.name}': the attachment file cannot be read")
    return str(candidate)


TRANSFORMS: dict[str, Callable[[Any, FieldSpec, TransformContext], Any]] = {
    "text": to_text,
    "int": to_int,
    "decimal": to_decimal,
    "bool": to_bool,
    "date": to_date,
    "datetime": to_datetime,
    "code": to_code,
    "rrn": to_rrn,
    "kcd_edition": to_kcd_edition,
    "blob": to_blob,
    "file": to_file,
}
