"""The closed set of value transforms a connector field may use (docs/connectors.md).

A transform either returns the canonical value or raises :class:`RowRejected` with a stable reason code
and a message that names the field — never the value, which may be patient data.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

from emr_exporter import codepage, model
from emr_exporter.connectors.paths import prefix_path, relative_to_base, rooted, stored_path_form
from emr_exporter.connectors.spec import JULIAN_FORMAT, ConnectorSpec, FieldSpec
from emr_exporter.connectors.zones import KST, zone


class RowRejected(Exception):
    """Raised by a transform or a hook: the row is quarantined with this reason."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


class FieldRepaired(Exception):
    """Raised by a transform whose value is usable only after a visible repair (control characters).

    The record gets ``value``; the exact source value is carried raw with ``reason_code`` (a field defect).
    """

    def __init__(self, value: Any, reason_code: str) -> None:
        super().__init__(reason_code)
        self.value = value
        self.reason_code = reason_code


#: Reason codes a transform may give that, on an optional field, drop only that field (the row is kept
#: and the raw value carried beside it); on a required field or a key they still quarantine the row.
FIELD_LEVEL_REASONS = frozenset({
    "bad-encoding", "lossy-text", "invalid-date", "invalid-number", "invalid-bool", "unmapped-code",
    "invalid-rrn", "ambiguous-ref", "unreadable-teeth", "unreadable-surface", "unreadable-eye", "sentinel-date",
})

#: Code points a FHIR string may not hold: below U+0020 other than tab, LF and CR (and DEL, as invisible).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)  # ␀ ␇ ␛ ␋ …: visible, and says which


def visible_control_characters(text: str) -> str:
    """``text`` with each forbidden control character replaced by its Unicode control picture."""
    return _CONTROL.sub(_control_picture, text)


@dataclass(frozen=True, slots=True)
class TransformContext:
    spec: ConnectorSpec
    attachments_root: Path | None


_LOSSY = re.compile(r"^\?{2,}$")
_RRN = re.compile(r"^(\d{6})-?(\d{7})$")
# 예/아니오 (아니요): the yes/no a Korean EMR's form writes in a column named …여부
_TRUE = {"1", "-1", "y", "yes", "t", "true", "예"}
_FALSE = {"0", "n", "no", "f", "false", "아니오", "아니요"}

# Effective dates of the KCD editions (Statistics Korea; korea.md §4.4).
_KCD_EDITIONS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2026, 1, 1), "kcd-9"),
    (dt.date(2021, 1, 1), "kcd-8"),
    (dt.date(2016, 1, 1), "kcd-7"),
    (dt.date(2011, 1, 1), "kcd-6"),
    (dt.date(2008, 1, 1), "kcd-5"),
)


#: Trailing padding removed from text (CHAR columns pad with spaces). Not str.rstrip()'s whole set: that
#: would silently drop trailing control characters (VT, FF, \x1c-\x1f), which are repaired visibly instead.
_TRAILING = " \t\r\n\u00a0\u3000"


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | bytes) and not value.strip())


def _as_text(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    if type(value) is str:  # the common case first (hot path); same result as the branches below
        return unicodedata.normalize("NFC", value.rstrip(_TRAILING))
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            text = codepage.decode(bytes(value), ctx.spec.encoding)  # CP949: a 외자 as Windows reads it
        except UnicodeDecodeError:
            raise RowRejected(
                "bad-encoding", f"field '{field.name}' holds bytes that are not valid {ctx.spec.encoding}"
            ) from None
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):  # a boolean column (PostgreSQL boolean, MariaDB BIT(1)) as a code: '1' or '0'
        text = "1" if value else "0"
    else:
        text = str(value)
    return unicodedata.normalize("NFC", text.rstrip(_TRAILING))


def to_text(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    text = _as_text(value, field, ctx)
    if _LOSSY.match(text.replace(" ", "")):
        raise RowRejected(
            "lossy-text",
            f"field '{field.name}' holds only '?' marks: the text was lost when it was first stored",
        )
    if _CONTROL.search(text):
        raise FieldRepaired(visible_control_characters(text), "control-characters")
    return text


def to_int(value: Any, field: FieldSpec, ctx: TransformContext) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        number = Decimal(decimal_text(_as_text(value, field, ctx)))
        if number != number.to_integral_value():
            raise InvalidOperation
        return int(number)
    except (InvalidOperation, ValueError, OverflowError):  # OverflowError: "Infinity" (crashed the export)
        raise RowRejected("invalid-number", f"field '{field.name}' is not a whole number") from None


#: What Korean EMRs write around an amount: "₩12,000", "\\12,000", "12,000원".
_AMOUNT_NOISE = re.compile(r"^[₩￦\\]\s*|\s*원$")
#: Digits grouped by thousands with commas or spaces ("12,000", "1,234,567.5", "12 000"): the separators go.
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:(,)\d{3}(?:,\d{3})*|( )\d{3}(?: \d{3})*)(?:\.\d+)?")
#: A decimal comma ("36,5" ℃, "1,25"): one comma between digits that is no thousands grouping.
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def decimal_text(text: str) -> str:
    """``text`` as :class:`Decimal` reads it: a currency sign or 원 and thousands separators dropped, a decimal comma
    read as the point ("36,5" is 36.5, never 365). Any other comma or space is left, for Decimal to refuse."""
    text = _AMOUNT_NOISE.sub("", text.strip())
    if _THOUSANDS.fullmatch(text):
        return text.replace(",", "").replace(" ", "")
    if _DECIMAL_COMMA.fullmatch(text):
        return text.replace(",", ".")
    return text


#: A quantity written as a fraction, as Korean prescriptions and fee statements write half a tablet: '1/2',
#: '1 1/2' (one and a half), '-1/2'.
_FRACTION = re.compile(r"([+-]?)(?:(\d+)\s+)?(\d+)\s*/\s*(\d+)")


def _fraction(text: str, field: FieldSpec) -> Decimal | None:
    """The exact decimal a fraction's text names ('1/2' is 0.5, '1 1/4' is 1.25); None for no fraction. A
    fraction no decimal writes exactly ('1/3') or over zero is no number (the text is kept raw with its reason)."""
    found = _FRACTION.fullmatch(text.strip())
    if found is None:
        return None
    sign, whole, numerator, denominator = found.groups()
    if int(denominator) == 0:
        raise RowRejected("invalid-number", f"field '{field.name}' is a fraction over zero")
    value = Fraction(int(numerator), int(denominator)) + int(whole or 0)
    rest = value.denominator
    for factor in (2, 5):
        while rest % factor == 0:
            rest //= factor
    if rest != 1:
        raise RowRejected("invalid-number", f"field '{field.name}' is a fraction no decimal number writes exactly")
    with localcontext() as exact:  # enough digits for the whole quotient: it ends within bit_length places
        exact.prec = len(str(value.numerator)) + value.denominator.bit_length() + 2
        number = Decimal(value.numerator) / Decimal(value.denominator)
    return -number if sign == "-" else number


def to_decimal(value: Any, field: FieldSpec, ctx: TransformContext) -> Decimal:
    if isinstance(value, Decimal):
        number = value  # PostgreSQL numeric 'NaN' (and 'Infinity' since 14) come as such a Decimal
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = Decimal(str(value))  # float8 'Infinity' / 'NaN' as well
    else:
        text = _as_text(value, field, ctx)
        fraction = _fraction(text, field) if "/" in text else None
        try:
            number = fraction if fraction is not None else Decimal(decimal_text(text))
        except InvalidOperation:
            raise RowRejected("invalid-number", f"field '{field.name}' is not a number") from None
    # a stored REAL 1e999 (SQLite, PostgreSQL float8 'Infinity') or numeric NaN too: FHIR has no such number
    if not number.is_finite():
        raise RowRejected("invalid-number", f"field '{field.name}' is not a finite number")
    return number


#: The unit a clinic writes into a vital sign's own cell ('98%', '36.5℃', '70kg'): only the kind's own unit is read
#: off (the cell, as written, is carried raw); any other text is still no number.
_GLUED_UNITS: dict[str, tuple[str, ...]] = {
    "spo2": ("%",), "temperature": ("℃", "°C"), "weight": ("kg", "㎏"), "height": ("cm", "㎝"), "waist": ("cm", "㎝"),
    "head": ("cm", "㎝"), "pulse": ("회/분", "bpm", "/min"), "respiration": ("회/분", "/min"), "systolic": ("mmHg",),
    "diastolic": ("mmHg",),
}


def to_teeth(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """A tooth column (a procedure's or a diagnosis's ``teeth``) as :func:`to_text` reads it, kept as written, once
    :func:`~emr_exporter.model.fdi_teeth` reads it as FDI tooth numbers ('11,12,21', '13-23'); a text it cannot
    read ('전악', '19', Universal numbering) drops the field (``unreadable-teeth``: the row kept, the cell carried raw
    with that reason), never a tooth guessed."""
    text = to_text(value, field, ctx)
    if model.fdi_teeth(text) is None:
        raise RowRejected("unreadable-teeth", f"field '{field.name}' is not a list of FDI tooth numbers (11-48, 51-85)")
    return text



def to_universal_teeth(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """:func:`to_teeth` of a tooth column the connector says is in the Universal (US) numbering
    (``teeth_numbering = { value = "universal" }``): kept as written once
    :func:`~emr_exporter.model.universal_as_fdi` reads it (1-32, A-T, lists and ranges of one arch), else
    ``unreadable-teeth`` for the field alone."""
    text = to_text(value, field, ctx)
    if model.universal_as_fdi(text) is None:
        raise RowRejected("unreadable-teeth",
                          f"field '{field.name}' is not a list of Universal tooth numbers (1-32, A-T)")
    return text

def to_surfaces(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """A tooth-surface column (a procedure's, a diagnosis's or a dental fee's ``surfaces``) as :func:`to_text` reads
    it, kept as written, once :func:`~emr_exporter.model.tooth_surfaces` reads it as surfaces ('MOD', 'DO', '근심');
    a text it cannot read ('F', buccal or labial by the tooth; '전면') drops the field (``unreadable-surface``: the row
    kept, the cell carried raw with that reason), never a surface guessed."""
    text = to_text(value, field, ctx)
    if model.tooth_surfaces(text) is None:
        raise RowRejected("unreadable-surface", f"field '{field.name}' is not a list of tooth surfaces "
                                                "(M, O, I, D, B, V, L, P; 근심, 교합 …)")
    return text

def to_eye(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """A side column (a diagnosis's or an eye reading's ``eye``) as :func:`to_text` reads it, kept as written, once
    :func:`~emr_exporter.model.eye_side` reads it as an eye ('R', 'OD', '우안'; 'L', 'OS', '좌안'; 'B', 'OU', '양안'); a
    text it cannot read ('3', 'X') drops the field (``unreadable-eye``: the row kept, the cell carried raw with that
    reason), never an eye guessed."""
    text = to_text(value, field, ctx)
    if model.eye_side(text) is None:
        raise RowRejected("unreadable-eye", f"field '{field.name}' names no eye (R/OD/우안, L/OS/좌안, B/OU/양안)")
    return text


def to_measurement(value: Any, field: FieldSpec, ctx: TransformContext) -> Decimal:
    """A vital sign (blood pressure, pulse, temperature, weight, SpO2 …) as :func:`to_decimal` reads it, its own unit
    read off where the clinic wrote it in ('98%'); 0, which clinic EMRs write for "not measured" (no body weighs
    0 kg), is no measurement: the field is dropped and its cell carried raw, never an Observation saying 0."""
    if isinstance(value, str):
        text = value.strip()
        for unit in _GLUED_UNITS.get(field.name, ()):
            if text.endswith(unit):
                value = text[: -len(unit)]
                break
    number = to_decimal(value, field, ctx)
    if number == 0:
        raise RowRejected("invalid-number", f"field '{field.name}' is 0: no measurement")
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
        if value in (0, 1, -1):  # -1: Access and Visual Basic write True as -1
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


_PACKED = re.compile(r"(?:%[YymdHMS])+")
_PACKED_WIDTHS = {"Y": 4}


@functools.lru_cache(maxsize=64)
def _packed_width(fmt: str) -> int | None:
    """The digits a format of numeric fields written without separators (``%Y%m%d``, ``%y%m%d%H%M``) reads,
    each field at its full width; None for any other format. Digits of another length are not read by it."""
    if not _PACKED.fullmatch(fmt):
        return None
    return sum(_PACKED_WIDTHS.get(directive, 2) for directive in fmt[1::2])


#: Directives whose strptime reading depends on the process locale (``%p`` reads only AM/PM under C, only
#: 오전/오후 under ko_KR; ``%A``/``%a`` only that locale's weekday names; ``%b`` only its month names: ``JAN``
#: under C, ``1월`` under ko_KR). A format holding one is read by :func:`_parse_worded` instead, the same under
#: every locale (``%b``: the English abbreviations, any case: ``05-JAN-24`` as SQL Server and Oracle write it).
_WORDED = re.compile(r"%[pAab]")
_MONTHS_SHORT = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_MERIDIEM = {"오전": 0, "am": 0, "a.m.": 0, "오후": 12, "pm": 12, "p.m.": 12}
_KO_DAYS = ("월", "화", "수", "목", "금", "토", "일")
_EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {**{f"{d}요일": i for i, d in enumerate(_KO_DAYS)}, **{d: i for i, d in enumerate(_EN_DAYS)}}
_WEEKDAYS_SHORT = {**{d: i for i, d in enumerate(_KO_DAYS)}, **{d[:3]: i for i, d in enumerate(_EN_DAYS)}}
_WORD_DIRECTIVES = {
    "Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{1,2}", "d": r"\d{1,2}", "H": r"\d{1,2}", "I": r"\d{1,2}",
    "M": r"\d{1,2}", "S": r"\d{1,2}", "f": r"\d{1,6}",
    "p": "|".join(re.escape(w) for w in sorted(_MERIDIEM, key=len, reverse=True)),
    "A": "|".join(sorted(_WEEKDAYS, key=len, reverse=True)),
    "a": "|".join(sorted(_WEEKDAYS_SHORT, key=len, reverse=True)),
    "b": "|".join(_MONTHS_SHORT),
}
_worded_cache: dict[str, re.Pattern[str] | None] = {}


def _worded_pattern(fmt: str) -> re.Pattern[str] | None:
    """The regular expression for a format with ``%p``/``%A``/``%a`` (None: a format without them, or with a
    directive outside the set above or one used twice — such a format is left to strptime). Cached: the
    formats are the connector's."""
    try:
        return _worded_cache[fmt]
    except KeyError:
        pass
    if not _WORDED.search(fmt):
        _worded_cache[fmt] = None
        return None
    parts: list[str] = []
    seen: set[str] = set()
    pattern: re.Pattern[str] | None = None
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            i += 2
            if directive == "%":
                parts.append("%")
                continue
            if directive not in _WORD_DIRECTIVES or directive in seen:
                break
            seen.add(directive)
            parts.append(f"(?P<{directive}>{_WORD_DIRECTIVES[directive]})")
        elif ch.isspace():  # as strptime: any run of white space in the format matches any run in the text
            while i < len(fmt) and fmt[i].isspace():
                i += 1
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
            i += 1
    else:
        pattern = re.compile("".join(parts), re.IGNORECASE)
    _worded_cache[fmt] = pattern
    return pattern


def _parse_worded(text: str, pattern: re.Pattern[str]) -> dt.datetime:
    """strptime for a format with 오전/오후 (or AM/PM) and weekday names, independent of the locale: %I is
    1..12 and, with %p, 12 오전 is 00h and 12 오후 is 12h (without %p, %I is a morning hour as in strptime;
    %H ignores %p as in strptime); a weekday must be the date's own. ValueError when the text is not such a
    date-time."""
    match = pattern.fullmatch(text)
    if match is None:
        raise ValueError("no match")
    got = match.groupdict()
    year = int(got["Y"]) if got.get("Y") else (1900 if (got.get("y") is None) else (
        2000 + int(got["y"]) if int(got["y"]) <= 68 else 1900 + int(got["y"])))
    hour = int(got["H"]) if got.get("H") is not None else 0
    if got.get("I") is not None:
        hour = int(got["I"])
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range")
        hour = hour % 12 + (_MERIDIEM[got["p"].lower()] if got.get("p") else 0)
    micro = int(got["f"].ljust(6, "0")) if got.get("f") else 0
    month = _MONTHS_SHORT[got["b"].lower()] if got.get("b") else int(got.get("m") or 1)
    parsed = dt.datetime(year, month, int(got.get("d") or 1), hour, int(got.get("M") or 0),
                         int(got.get("S") or 0), micro)
    for key, names in (("A", _WEEKDAYS), ("a", _WEEKDAYS_SHORT)):
        if got.get(key) and names[got[key].lower()] != parsed.weekday():
            raise ValueError("not that date's weekday")
    return parsed


#: A fraction of a second of 7 to 9 digits (datetime2's 100 ns, nanoseconds): its first 6 (microseconds).
_LONG_FRACTION = re.compile(r"(\.\d{6})\d{1,3}(?!\d)")


def _parse_date_text(text: str, formats: tuple[str, ...], pivot: int | None = None,
                     birth: bool = False) -> dt.datetime | None:
    for fmt in formats:
        try:
            digits = _DIGIT_FORMATS.get(fmt)
            packed = _packed_width(fmt)
            if packed is not None and len(text) != packed and text.isascii() and text.isdigit():
                continue  # strptime reads one digit for %m %d %H: 1700086400 (a Unix time) was 1700-08-06 04:00
            if digits is not None and len(text) == digits[0] and text.isascii() and text.isdigit():
                if fmt == "%Y%m%d%H%M%S":  # written out (hot path: every date-time of a legacy EMR)
                    return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]),
                                       int(text[10:12]), int(text[12:14]))
                if fmt == "%Y%m%d":
                    return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:8]))
                parts = [int(text[start:end]) for start, end in digits[1]] + [0, 0, 0]
                return dt.datetime(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5])
            worded = _worded_pattern(fmt)
            # SQL Server's datetime2 keeps 7 fraction digits (100 ns), %f reads at most 6: the 7th (and an 8th,
            # 9th: nanoseconds) is dropped here, and the cell, which FHIR cannot give back, is carried raw
            read = _LONG_FRACTION.sub(r"\1", text) if "%f" in fmt else text
            parsed = dt.datetime.strptime(read, fmt) if worded is None else _parse_worded(read, worded)
        except ValueError:
            continue
        if "%y" in fmt:
            parsed = _century(parsed, pivot, birth)
        return parsed
    return None


def parse_date_text(text: str, formats: tuple[str, ...]) -> dt.datetime | None:
    """The date-time ``text`` is in the first of ``formats`` that reads it, as the date transforms read it
    (None when none does); the scaffold uses it to recognise a column's shape."""
    return _parse_date_text(text, formats)


def _century(parsed: dt.datetime, pivot: int | None, birth: bool = False) -> dt.datetime:
    """Two-digit years: 00..pivot are 20xx, the rest 19xx (strptime's own rule is 69 → 1969).

    Without a configured pivot, the pivot is this year's two digits, and a *birth date* that would then lie
    after today is taken in the previous century (written in December 2026, '261215' is 1926-12-15): nobody
    is born in the future. Other dates keep the pivot's rule (a booked visit may lie ahead; a visit in the
    1920s is no better a guess). A configured pivot means what it says, for every field."""
    today = dt.date.today() if pivot is None else None
    if pivot is None:
        assert today is not None
        pivot = today.year % 100
    century = 2000 if parsed.year % 100 <= pivot else 1900
    try:
        parsed = parsed.replace(year=century + parsed.year % 100)
        if birth and today is not None and parsed.date() > today:
            parsed = parsed.replace(year=parsed.year - 100)
        return parsed
    except ValueError:  # 29 February of a year that is not a leap year in the other century
        raise ValueError("no such day") from None


#: An RRN's 7th digit → the century of its first six (YYMMDD): 1/2 1900s, 3/4 2000s, 9/0 1800s; foreigners'
#: registration numbers 5/6 1900s, 7/8 2000s.
_RRN_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000,
                "9": 1800, "0": 1800}


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def settle_birth_date(birth: dt.date | None, stored: Any, rrn: Any, first_visit: Any,
                      by_today: bool) -> dt.date | None:
    """A patient's birth date read from a two-digit year, in the century the patient's own record shows.

    The RRN's 7th digit gives it exactly: a birth date whose year's last two digits, month and day are the
    RRN's first six takes the RRN's century (whatever the pivot; a date that disagrees with the RRN otherwise
    is left as the EMR wrote it). Without that, and only where the pivot is not configured (``by_today``), a
    birth date after the patient's first visit is taken a century earlier: nobody visits before being born.
    ``stored`` is the birth date's stored value: a date object, or a text with the year's four digits
    (``2024-01-05``), was not read from a two-digit year and is left as the EMR wrote it."""
    if birth is None:
        return None
    if isinstance(stored, bytes | bytearray):
        stored = bytes(stored).decode("latin-1")
    if not isinstance(stored, str) or f"{birth.year:04d}" in stored:
        return birth
    digits = rrn.replace("-", "") if isinstance(rrn, str) else ""
    if len(digits) == 13 and digits.isascii() and digits.isdigit() and \
            digits[:6] == f"{birth.year % 100:02d}{birth.month:02d}{birth.day:02d}":
        year = _RRN_CENTURY[digits[6]] + birth.year % 100
    elif by_today and isinstance(first_visit, dt.date) and _day(birth) > _day(first_visit):
        year = birth.year - 100
    else:
        return birth
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February in a century year that is not a leap year: no such date, left as read
        return birth


def _field_zone(field: FieldSpec, ctx: TransformContext) -> dt.tzinfo:
    return zone(field.tz or ctx.spec.timezone)


def _local(moment: dt.datetime, field: FieldSpec, ctx: TransformContext) -> dt.datetime:
    """A date-time in the field's zone: clinic time (Asia/Seoul) stays naive, as every KST value does in
    the pipeline (written +09:00); another zone stays aware, so FHIR writes its own offset."""
    tz = _field_zone(field, ctx)
    if moment.tzinfo is None:
        return moment if tz is KST else moment.replace(tzinfo=tz)
    moment = moment.astimezone(tz)
    return moment.replace(tzinfo=None) if tz is KST else moment


#: Julian day numbers of 1900-01-01 and 2100-01-01 00:00 (SQLite's ``julianday()``): the days a clinic's dates
#: stored as Julian days fall in. A Unix time of that size is a moment of 28-29 January 1970 (in milliseconds,
#: of its first hour): no clinic's record, so such a value read as ``epoch``/``epoch_ms`` is an invalid date,
#: not a silent day of 1970.
JULIAN_DAYS = (2_415_020.5, 2_488_070.5)
#: The Julian days a date can be: 0001-01-01 00:00 to SQLite's last, 9999-12-31 23:59:59.999.
_JULIAN_RANGE = (1_721_425.5, 5_373_484.5)
#: Julian day 2451545.0: 2000-01-01 12:00.
_J2000 = (2_451_545, dt.datetime(2000, 1, 1, 12))
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _number(value: Any, field: FieldSpec, ctx: TransformContext) -> int | float | Decimal:
    """A number as stored, or the number a text holds (ValueError otherwise)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = _as_text(value, field, ctx).strip()
    if not _NUMBER_TEXT.match(text):
        raise ValueError("not a number")
    return Decimal(text)


def _epoch(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.datetime:
    """Unix epoch seconds (or milliseconds) → the wall-clock time in the field's zone."""
    try:
        number = value if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else Decimal(
            _as_text(value, field, ctx).strip())
        if JULIAN_DAYS[0] <= number <= JULIAN_DAYS[1]:
            raise RowRejected("invalid-date", f"field '{field.name}' holds a Julian day, not a Unix time: "
                                              "read it with format = \"julian\"")
        seconds = Decimal(number) / (1000 if field.format == ("epoch_ms",) else 1)
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=float(seconds))
    except (InvalidOperation, ValueError, OverflowError, ArithmeticError):
        raise RowRejected("invalid-date", f"field '{field.name}' is not a Unix time") from None
    return _local(moment, field, ctx)


def _julian(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.datetime:
    """A Julian day number (SQLite's ``julianday()``) → the wall-clock time SQLite's ``datetime()`` gives for
    it, in the field's zone: the day's fraction rounded to the millisecond (as SQLite keeps it), then cut to
    the second (as ``datetime()`` writes it)."""
    try:
        number = float(_number(value, field, ctx))
        if not _JULIAN_RANGE[0] <= number < _JULIAN_RANGE[1]:  # also NaN
            raise ValueError("out of range")
        milliseconds = int(number * 86_400_000.0 + 0.5) - _J2000[0] * 86_400_000
        moment = _J2000[1] + dt.timedelta(seconds=milliseconds // 1000)
    except (InvalidOperation, ValueError, OverflowError, ArithmeticError):
        raise RowRejected("invalid-date", f"field '{field.name}' is not a Julian day number") from None
    return _local(moment, field, ctx)


def _is_epoch(field: FieldSpec) -> bool:
    return bool(field.format) and field.format[0] in ("epoch", "epoch_ms")


def _is_julian(field: FieldSpec) -> bool:
    return field.format[:1] == (JULIAN_FORMAT,)


def _offset_only(field: FieldSpec) -> bool:
    """Whether every ``format`` of the field reads a UTC offset (``%z``): its column says which zone each value is
    in, so a value without one is not taken for clinic time by [source]'s formats."""
    return bool(field.format) and all("%z" in fmt for fmt in field.format)


def _no_offset(field: FieldSpec) -> RowRejected:
    return RowRejected("invalid-date", f"field '{field.name}' is not a date-time with a UTC offset, as its format "
                                       "reads: the zone of a value without one is unknown")


#: Days Windows EMRs (SQL Server, Access, Delphi, .NET) write for "no date" (docs/connectors.md, "Sentinel dates"):
#: no patient was born, seen or insured on them, so such a value is no date: the field is dropped and its cell carried
#: raw with the reason ``sentinel-date`` (a required field's row is quarantined with it), never exported as a birth
#: in 1900 or a visit in 9999. The day decides, whatever the time of day: SQL Server keeps a time alone as
#: 1900-01-01 hh:mm, OLE Automation as 1899-12-30 hh:mm.
SENTINEL_DATES: dict[dt.date, str] = {
    dt.date(1900, 1, 1): "SQL Server's zero date (datetime 0, what an empty string stored in a datetime becomes)",
    dt.date(1899, 12, 30): "the OLE Automation zero date (Access, Delphi, Excel, VB: day 0)",
    dt.date(1753, 1, 1): "SQL Server datetime's first day (its minimum)",
    dt.date(1, 1, 1): "the first day of the calendar (.NET DateTime.MinValue, datetime2's default)",
    dt.date(9999, 12, 31): "the last day of the calendar (an open end: no end yet)",
}


def sentinel_date(value: dt.date) -> str | None:
    """What the sentinel day ``value`` (a date or a date-time) stands for (:data:`SENTINEL_DATES`), else None."""
    return SENTINEL_DATES.get(value.date() if isinstance(value, dt.datetime) else value)


def _no_sentinel(day: dt.date, field: FieldSpec) -> None:
    if isinstance(day, model.PartialDate):
        return  # a year or a month written alone ('1900' read with "%Y") names no day: no sentinel
    what = sentinel_date(day)
    if what is not None:
        raise RowRejected("sentinel-date", f"field '{field.name}' holds {what}: no date")


def to_date(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.date:
    day = _to_date(value, field, ctx)
    _no_sentinel(day, field)
    return day


def _to_date(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.date:
    if _is_epoch(field):
        return _epoch(value, field, ctx).date()
    if _is_julian(field):
        return _julian(value, field, ctx).date()
    if isinstance(value, dt.datetime):
        return _local(value, field, ctx).date() if value.tzinfo is not None else value.date()
    if isinstance(value, dt.date):
        return value
    text = _as_text(value, field, ctx).strip()
    pivot = ctx.spec.two_digit_year_pivot
    birth = field.name == "birth_date"
    parsed = field.format and _parse_date_text(text, field.format, pivot, birth)
    if not parsed and _offset_only(field):
        raise _no_offset(field)
    parsed = (
        parsed
        or _parse_date_text(text, ctx.spec.date_formats, pivot, birth)
        or _parse_date_text(text, ctx.spec.datetime_formats, pivot, birth)
    )
    if not parsed:
        raise RowRejected("invalid-date", f"field '{field.name}' is not a valid calendar date")
    # a time with its UTC offset is on the day it is in the field's zone ('2024-03-05T20:00:00Z': the 6th in Seoul)
    day = _local(parsed, field, ctx).date() if parsed.tzinfo is not None else parsed.date()
    formats = (field.format, ctx.spec.date_formats, ctx.spec.datetime_formats)
    return _as_recorded(day, text, formats, pivot, birth) if _any_partial(*formats) else day


@functools.cache
def _partial_precision(fmt: str) -> str | None:
    """"year" or "month" for a format that names no day ("%Y", "%Y.%m", "%Y년 %m월"), else None."""
    bare = fmt.replace("%%", "")
    if any(d in bare for d in ("%d", "%j", "%c", "%x", "%U", "%W", "%a", "%A", "%w", "%u", "%s")):
        return None
    if not any(y in bare for y in ("%Y", "%y", "%G")):
        return None
    return "month" if any(m in bare for m in ("%m", "%b", "%B")) else "year"


@functools.cache
def _any_partial(*formats: tuple[str, ...] | None) -> bool:
    return any(_partial_precision(fmt) for group in formats if group for fmt in group)


def _as_recorded(parsed: dt.date, text: str, formats: tuple[tuple[str, ...] | None, ...], pivot: int | None,
                 birth: bool) -> dt.date:
    """``parsed`` as a :class:`model.PartialDate` when the format that read ``text`` names no day: "2019" read
    with "%Y" is the year 2019, not 1 January 2019 (FHIR writes it "2019")."""
    for group in formats:
        for fmt in group or ():
            if _parse_date_text(text, (fmt,), pivot, birth) is not None:
                precision = _partial_precision(fmt)
                return model.PartialDate(parsed.year, parsed.month, precision) if precision else parsed
    return parsed


def to_datetime(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.datetime | dt.date:
    moment = _to_datetime(value, field, ctx)
    _no_sentinel(moment, field)
    return moment


def _to_datetime(value: Any, field: FieldSpec, ctx: TransformContext) -> dt.datetime | dt.date:
    if _is_epoch(field):
        return _epoch(value, field, ctx)
    if _is_julian(field):
        return _julian(value, field, ctx)
    if isinstance(value, dt.datetime):
        return _local(value, field, ctx)
    if isinstance(value, dt.date):
        return value
    text = _as_text(value, field, ctx).strip()
    pivot = ctx.spec.two_digit_year_pivot
    birth = field.name == "birth_date"
    parsed = field.format and _parse_date_text(text, field.format, pivot, birth)
    if not parsed and _offset_only(field):
        raise _no_offset(field)
    parsed = parsed or _parse_date_text(text, ctx.spec.datetime_formats, pivot, birth)
    if parsed:
        formats = (field.format, ctx.spec.datetime_formats)
        if _any_partial(*formats):
            # read by a format naming no day ('2019' with "%Y"): the year or month it is, no 1 January 00:00 invented
            recorded = _as_recorded(parsed.date(), text, formats, pivot, birth)
            if isinstance(recorded, model.PartialDate):
                return recorded
        return _local(parsed, field, ctx)
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


def _relative_parts(stored: str, root: Path, prefixes: tuple[str, ...]) -> tuple[str, ...] | None:
    """Where ``stored`` lies inside ``root``, as path parts; None when it is outside the root and every prefix."""
    if stored_path_form(stored) == "relative":
        if rooted(stored):  # '\\foo' (the current drive's root), 'C:foo' (relative to a drive): not ours
            return None
        return tuple(part for part in stored.replace("\\", "/").split("/") if part not in ("", "."))
    for prefix in prefixes:  # longest first (spec.py)
        found = relative_to_base(stored, prefix_path(prefix))
        if found is not None:
            return found
    # A path the EMR wrote on this very computer, inside the folder chosen: as given, and with links resolved.
    for base in (Path(os.path.abspath(root)), root.resolve()):
        found = relative_to_base(stored, base)
        if found is not None:
            return found
    return None


def to_file(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """Resolve a stored path inside the attachment root; refuse anything outside it.

    A relative path is read from the root; an absolute one (``/…``, ``C:\\…``, ``\\\\server\\share\\…``) when it
    lies inside the root, or starts with one of ``[attachments] stored_prefixes`` (what the EMR wrote for the
    folder that is now the root; Windows forms case-insensitive, either slash). Messages name the field only.
    """
    stored = _as_text(value, field, ctx).strip()
    root = ctx.attachments_root
    if field.root:
        root = (root.parent if root else Path.cwd()) / field.root
    if root is None:
        raise RowRejected("file-missing", f"field '{field.name}': no attachment folder was given")
    parts = _relative_parts(stored, root, ctx.spec.attachments_prefixes)
    if parts is None or ".." in parts:
        raise RowRejected("path-outside-root", f"field '{field.name}' points outside the attachment folder")
    if "\x00" in stored:
        raise RowRejected("file-missing", f"field '{field.name}': the stored file name contains a NUL character")
    root = root.resolve()
    try:
        candidate = root.joinpath(*parts).resolve()
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


def to_status(value: Any, field: FieldSpec, ctx: TransformContext) -> str:
    """The source's status text as recorded; :class:`~emr_exporter.connectors.mapper.EntityMapper` maps it."""
    return _as_text(value, field, ctx).strip()


def to_key_list(value: Any, field: FieldSpec, ctx: TransformContext) -> tuple[str, ...]:
    """``"3,7,9"`` → ``("3", "7", "9")``: keys of referenced rows (a GROUP_CONCAT of child keys)."""
    if type(value) is tuple:  # the keys the export looked up itself (a back reference: model.BACK_REFERENCES)
        return value
    return tuple(part.strip() for part in _as_text(value, field, ctx).split(",") if part.strip())


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
    "status": to_status,
    "ref_list": to_key_list,
}
