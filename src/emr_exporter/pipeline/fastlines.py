"""A vital-signs set's FHIR lines written straight to NDJSON bytes (issue 17: the export's speed).

:func:`vital_lines` gives, for a "plain" :class:`~emr_exporter.model.VitalSigns` record, the very bytes
``canonical_json_line(resource)`` gives for each resource ``fhir.to_fhir`` makes of it, in the same order,
without building the FHIR dicts or calling orjson on them: pre-encoded constant fragments (each key already
in sorted order, encoded once by orjson from the very dicts ``fhir._vital_base`` builds) with the record's
values pasted in, each encoded as orjson encodes it. A record it was not built for gives None, and the
caller takes the slow path (``fhir.to_fhir`` + ``canonical_json_line`` + ``ResourceCheck.problem``):

* a status kept as recorded (``recorded_status`` without ``status``), or a status ``fhir._status`` refuses;
* a value that is not a finite :class:`~decimal.Decimal`, a whole number beyond 64 bits, a fraction whose
  float does not denote it exactly (``decimal_element`` adds the exact text), or whose float is written in
  exponent form (``1e-05``, ``1.5e+16``: orjson and the canonical encoder differ there);
* a text (id, key, unit, method, BMI status, note) that is not a ``str`` or that holds a quote, a backslash,
  a control character below U+0020 or DEL, or that orjson refuses (a lone surrogate);
* a unit whose UCUM code is not plain printable ASCII; a record id that does not fit FHIR's id pattern;
* no measurement at all (``to_fhir`` raises), or a measurement ``absent`` (recorded as no number: ``to_fhir``
  writes it with ``dataAbsentReason``; the export sets it only on a row with field defects, which never comes
  here, and the writer refuses it anyway).

**Which output rules this proves, so that the caller need not run them per line** (``check.problem``:
the id pattern and :func:`~emr_exporter.pipeline.check.line_problem`; the structure models are never asked
for on this path, see ``RowMapping``):

* the id: ``record.id`` is tested against FHIR's id pattern with the longest suffix added;
* no control character or DEL, no escape: every text pasted is tested for them (above) and every constant
  fragment is plain (tested when this module is imported, :func:`_assert_plain`), so the line holds no
  backslash and :func:`line_problem` takes its fast branch;
* no empty string: every text pasted is non-empty (``to_fhir`` writes a unit, note, method, BMI status,
  key and encounter or performer link only when truthy; ids and dates are never empty; tested anyway);
* every code value (``"code":"…"``) is a constant of this module or a unit's UCUM code, each plain
  printable ASCII without a space: no code can break FHIR's code pattern, and since no pasted text holds a
  quote, no text can open a ``"code":"`` of its own.

``EMR_EXPORTER_FAST_CHECK=1`` (the test suite sets it) makes ``RowMapping`` map every fast row the slow way
too and raise :class:`FastLinesMismatch` where they differ; ``EMR_EXPORTER_FAST_LINES=0`` turns the fast path
off (benchmarks).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from emr_exporter import model
from emr_exporter.errors import MappingError
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.check import ID_PATTERN

FAST_CHECK_ENV = "EMR_EXPORTER_FAST_CHECK"
FAST_LINES_ENV = "EMR_EXPORTER_FAST_LINES"


class FastLinesMismatch(AssertionError):
    """The fast writer and the slow path gave different results for one row (an internal error)."""


def fast_check_on() -> bool:
    return os.environ.get(FAST_CHECK_ENV, "") == "1"


def fast_lines_on() -> bool:
    return os.environ.get(FAST_LINES_ENV, "1") != "0"


_SORTED = orjson.OPT_SORT_KEYS


def _j(obj: Any) -> bytes:
    return orjson.dumps(obj, option=_SORTED)


#: A text that would be escaped or break a line rule: the writer leaves such a record to the slow path.
_UNSAFE = re.compile('[\x00-\x1f"\\\\\x7f]')
#: A code value no rule can object to (and that cannot end a JSON string early).
_PLAIN_CODE = re.compile(r"[!#-\[\]-~]+")
_PLAIN_BYTES = re.compile(rb'[^\x00-\x1f\\\x7f]*')


def _assert_plain(fragment: bytes) -> bytes:
    """A constant fragment: no escape, no control byte, no empty string (see the module's proof)."""
    if not _PLAIN_BYTES.fullmatch(fragment) or b'""' in fragment:
        raise AssertionError("a constant fragment of the fast writer is not plain")
    return fragment


_STATUSES = model.STATUS_VALUES["vital_signs"]
_EYE_FIELDS = tuple(model.EYE_FIELDS)
_BP_CODES = {
    "systolic": ("8480-6", "Systolic blood pressure"),
    "diastolic": ("8462-4", "Diastolic blood pressure"),
}
_OXYGEN = (("oxygen_flow_rate", "3151-8", "Inhaled oxygen flow rate", "L/min"),
           ("inhaled_oxygen", "3150-0", "Inhaled oxygen concentration", "%"))


def _concept(loinc: str, display: str, text: bool) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": fhir.LOINC_SYSTEM, "code": loinc, "display": display}]}
    if text:
        concept["text"] = display
    return concept


#: The start of every vital-signs Observation line: its category (the first key).
_HEAD = _assert_plain(b'{"category":' + _j([{"coding": [{"system": fhir.OBSERVATION_CATEGORY_SYSTEM,
                                                          "code": "vital-signs", "display": "Vital Signs"}]}])
                      + b',"code":')
#: Per kind: (slug, code fragment, profile when the unit's UCUM code is the wanted one or None, wanted code).
_KINDS: list[tuple[str, str, bytes, str | None, str | None]] = []
for _kind, (_loinc, _display, _slug) in model.VITAL_KINDS.items():
    _profile_unit = fhir.VITAL_PROFILES.get(_kind)
    _code = _j({"coding": [{"system": fhir.LOINC_SYSTEM, "code": _loinc, "display": _display}], "text": _display}
               if _display else {"coding": [{"system": fhir.LOINC_SYSTEM, "code": _loinc}]})
    _KINDS.append((_kind, _slug, _assert_plain(_code),
                   fhir.PROFILE_VITAL_SIGNS if _profile_unit is None else _profile_unit[0],
                   None if _profile_unit is None else _profile_unit[1]))
_BP_CODE = _assert_plain(_j({"coding": [{"system": fhir.LOINC_SYSTEM, "code": "85354-9", "display":
                                         "Blood pressure panel with all children optional"}],
                             "text": "Blood pressure panel with all children optional"}))
_BP_HEAD = _HEAD + _BP_CODE + b',"component":['
_BP_COMPONENTS = {name: _assert_plain(b'{"code":' + _j(_concept(loinc, display, True)) + b',"valueQuantity":')
                  for name, (loinc, display) in _BP_CODES.items()}
_O2_COMPONENTS = {name: _assert_plain(b'{"code":' + _j(_concept(loinc, display, False)) + b',"valueQuantity":')
                  for name, loinc, display, _ in _OXYGEN}
_RECORDED = _assert_plain(b',"extension":[{"url":' + orjson.dumps(fhir.RECORDED_STATUS_URL) + b',"valueString":')
_LONGEST_SUFFIX = "-" + "x" * max(len(slug) for _, _, slug in model.VITAL_KINDS.values())

#: (profile, retention slug) -> the meta fragment ``,"meta":{…}``.
_META: dict[tuple[str | None, str], bytes] = {}


def _meta(profile: str | None, slug: str) -> bytes:
    fragment = _META.get((profile, slug))
    if fragment is None:
        tag = fhir._RETENTION_TAGS[slug]
        fragment = _META[(profile, slug)] = _assert_plain(
            b',"meta":' + _j({"profile": [profile], "tag": [tag]} if profile else {"tag": [tag]}))
    return fragment


#: unit (None: no unit) -> (the quantity's start up to its value, the unit's UCUM code), or None: not plain.
_UNITS: dict[str | None, tuple[bytes, str | None] | None] = {}
_UNITS_MAX = 1024


def _unit(unit: str | None) -> tuple[bytes, str | None] | None:
    try:
        return _UNITS[unit]
    except KeyError:
        pass
    found: tuple[bytes, str | None] | None
    if not unit:  # _quantity: no unit element
        found = (b'{"value":', None)
    elif type(unit) is not str or _UNSAFE.search(unit):
        found = None
    else:
        code = fhir.ucum_code(unit)
        if code is None:
            found = (b'{"unit":' + orjson.dumps(unit) + b',"value":', None)
        elif type(code) is str and _PLAIN_CODE.fullmatch(code):
            found = (b'{"code":' + orjson.dumps(code) + b',"system":' + orjson.dumps(fhir.UCUM_SYSTEM)
                     + b',"unit":' + orjson.dumps(unit) + b',"value":', code)
        else:
            found = None
    if len(_UNITS) >= _UNITS_MAX:
        _UNITS.clear()
    _UNITS[unit] = found
    return found


_I64_MIN = -(1 << 63)
_U64_END = 1 << 64
#: Decimal value -> its JSON text and number (or None: the slow path). Equal decimals (120, 120.0, 1.2E+2)
#: give the same text and number (whole: int(value); else float(value), exact or not, by value), so the
#: value is the key. Bounded: emptied when full.
_NUMBERS: dict[Decimal, tuple[bytes, int | float] | None] = {}
_NUMBERS_MAX = 4096


def _number(value: Any) -> tuple[bytes, int | float] | None:
    """The JSON text ``decimal_element`` + the canonical line give ``value``, and the number itself; None
    where the writer leaves it to the slow path (see the module's list)."""
    if type(value) is not Decimal:
        return None
    try:
        return _NUMBERS[value]
    except KeyError:
        pass
    except TypeError:  # a signalling NaN cannot be hashed
        return None
    found: tuple[bytes, int | float] | None
    if not value.is_finite():
        found = None
    elif value == value.to_integral_value():
        whole = int(value)
        found = None if whole < _I64_MIN or whole >= _U64_END else (repr(whole).encode("ascii"), whole)
    else:
        number = float(value)
        text = repr(number)
        # Exponent form, or a float that does not denote the value (decimal_element adds the exact text).
        found = None if "e" in text or "n" in text or Decimal(text) != value else (text.encode("ascii"), number)
    if len(_NUMBERS) >= _NUMBERS_MAX:
        _NUMBERS.clear()
    _NUMBERS[value] = found
    return found


def _text(value: Any) -> bytes | None:
    """A non-empty plain text as orjson writes it (None: not one). orjson writes a text without a quote,
    backslash or control character as its UTF-8 bytes between quotes; a lone surrogate cannot be encoded
    (orjson refuses it too)."""
    if type(value) is not str or not value or _UNSAFE.search(value):
        return None
    try:
        return b'"' + value.encode("utf-8") + b'"'
    except UnicodeEncodeError:
        return None


def _quantity(value: Any, unit: Any) -> tuple[bytes, dict[str, Any], str | None] | None:
    """``"valueQuantity"``'s JSON as ``fhir._quantity`` + the canonical line write it, its skeleton and the
    unit's UCUM code."""
    number = _number(value)
    if number is None:
        return None
    start = _UNITS.get(unit, _MISSING) if type(unit) is str or unit is None else None
    if start is _MISSING:
        start = _unit(unit)
    if start is None:
        return None
    if unit:
        return start[0] + number[0] + b'}', {"value": number[1], "unit": unit}, start[1]
    return start[0] + number[0] + b'}', {"value": number[1]}, None


_MISSING: Any = object()
Written = tuple[list[tuple[str, str, bytes, str]], tuple[tuple[str, str], ...], dict[str, dict[str, Any]]]
#: Per kind: its field, its unit's field, its id suffix, the line's start up to its components, its profile
#: and the UCUM code the profile wants (None: any), the id's end (``-slug"``).
_KIND_UNITS = [(kind, f"{kind}_unit", slug, _HEAD + code, profile, wanted, f"-{slug}\"".encode("ascii"))
               for kind, slug, code, profile, wanted in _KINDS]


def vital_lines(record: model.VitalSigns) -> Written | None:
    """The record's lines (resource type, id, line, status) as ``to_fhir`` + ``canonical_json_line`` give
    them, the shape key (resource type, id suffix) of each, and a skeleton of each resource by id suffix
    holding only what the cell check may read (see ``CellCheck.transformed_lean``). None: the slow path."""
    recorded = record.recorded_status
    if recorded and record.status is None:  # a status kept as recorded (counted): the slow path
        return None
    if record.absent:  # a measurement recorded as no number (dataAbsentReason): the slow path
        return None
    if record.eye is not None or any(getattr(record, name) is not None for name in _EYE_FIELDS):
        return None  # an eye clinic's measurements (category exam, bodySite): the slow path
    try:
        status = fhir._status(record, "final", allowed=_STATUSES)
    except MappingError:
        return None
    record_id = record.id
    if type(record_id) is not str or not ID_PATTERN.fullmatch(record_id + _LONGEST_SUFFIX):
        return None
    status_text = _text(status)
    patient_id = record.patient_id
    patient = _text(f"Patient/{patient_id}") if type(patient_id) is str else None
    if status_text is None or patient is None:
        return None
    effective = fhir.fhir_datetime(record.observed)
    effective_text = _text(effective)
    if effective_text is None:
        return None
    # What follows the id: the source identifier (its key only when there is one).
    provenance = record.provenance
    system = _text(fhir._source_system(provenance.connector, provenance.table))
    if system is None:
        return None
    if provenance.key:
        key = _text(provenance.key)
        if key is None:
            return None
        identifier = b',"identifier":[{"system":' + system + b',"use":"secondary","value":' + key + b'}]'
    else:
        identifier = b',"identifier":[{"system":' + system + b',"use":"secondary"}]'
    skeleton_base: dict[str, Any] = {"resourceType": "Observation", "status": status,
                                     "subject": {"reference": f"Patient/{patient_id}"},
                                     "effectiveDateTime": effective}
    middle = b',"effectiveDateTime":' + effective_text
    encounter_id = record.encounter_id
    if encounter_id:
        encounter = _text(f"Encounter/{encounter_id}") if type(encounter_id) is str else None
        if encounter is None:
            return None
        middle += b',"encounter":{"reference":' + encounter + b'}'
        skeleton_base["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    if recorded:  # to_fhir: the source's own status travels with every resource
        recorded_text = _text(recorded)
        if recorded_text is None:
            return None
        middle += _RECORDED + recorded_text + b'}]'
    tail = b''
    if record.note:
        note = _text(record.note)
        if note is None:
            return None
        tail += b',"note":[{"text":' + note + b'}]'
        skeleton_base["note"] = [{"text": record.note}]
    performer_id = record.performer_id
    if performer_id:
        performer = _text(f"Practitioner/{performer_id}") if type(performer_id) is str else None
        if performer is None:
            return None
        tail += b',"performer":[{"reference":' + performer + b'}]'
        skeleton_base["performer"] = [{"reference": f"Practitioner/{performer_id}"}]
    tail += b',"resourceType":"Observation","status":' + status_text + b',"subject":{"reference":' + patient + b'}'
    retention = record.retention.slug
    lines: list[tuple[str, str, bytes, str]] = []
    shape: list[tuple[str, str]] = []
    skeletons: dict[str, dict[str, Any]] = {}
    at_id = middle + b',"id":"' + record_id.encode("ascii")
    bp_tail = tail
    tail += b',"valueQuantity":'
    if record.systolic is not None or record.diastolic is not None:
        bp_unit = record.bp_unit
        unit_code = None
        components = []
        skeleton_components = []
        for name in ("systolic", "diastolic"):
            value = getattr(record, name)
            if value is not None:
                made = _quantity(value, bp_unit)
                if made is None:
                    return None
                unit_code = made[2]
                components.append(_BP_COMPONENTS[name] + made[0] + b'}')
                skeleton_components.append({"valueQuantity": made[1]})
        resource_id = record_id + "-bp"
        lines.append(("Observation", resource_id, b"".join((
            _BP_HEAD, b",".join(components), b']', at_id, b'-bp"', identifier,
            _meta(fhir.PROFILE_BLOOD_PRESSURE if unit_code == "mm[Hg]" else None, retention),
            bp_tail, b"}\n")), status))
        shape.append(("Observation", "bp"))
        skeletons["bp"] = {"component": skeleton_components, **skeleton_base, "id": resource_id}
    for kind, unit_name, slug, head, profile, wanted, id_end in _KIND_UNITS:
        value = getattr(record, kind)
        if value is None:
            continue
        unit = getattr(record, unit_name)
        made = _quantity(value, unit)
        if made is None:
            return None
        if wanted is not None and made[2] != wanted:
            profile = None
        before = b''
        skeleton: dict[str, Any] = {"valueQuantity": made[1]}
        if kind == "spo2":
            o2 = []
            o2_skeleton = []
            for name, _, _, o2_unit in _OXYGEN:
                o2_value = getattr(record, name)
                if o2_value is not None:
                    o2_made = _quantity(o2_value, o2_unit)
                    if o2_made is None:
                        return None
                    o2.append(_O2_COMPONENTS[name] + o2_made[0] + b'}')
                    o2_skeleton.append({"valueQuantity": o2_made[1]})
            if o2:
                before = b',"component":[' + b",".join(o2) + b']'
                skeleton["component"] = o2_skeleton
        interpretation = b''
        if kind == "bmi" and record.bmi_status:
            bmi_status = _text(record.bmi_status)
            if bmi_status is None:
                return None
            # "interpretation" sorts between "identifier" and "meta".
            interpretation = b',"interpretation":[{"text":' + bmi_status + b'}]'
            skeleton["interpretation"] = [{"text": record.bmi_status}]
        method = b''
        if kind == "temperature" and record.temperature_method:
            method_text = _text(record.temperature_method)
            if method_text is None:
                return None
            method = b',"method":{"text":' + method_text + b'}'
            skeleton["method"] = {"text": record.temperature_method}
        resource_id = f"{record_id}-{slug}"
        lines.append(("Observation", resource_id, b"".join((
            head, before, at_id, id_end, identifier, interpretation, _meta(profile, retention), method, tail,
            made[0], b"}\n")), status))
        shape.append(("Observation", slug))
        skeleton.update(skeleton_base)
        skeleton["id"] = resource_id
        skeletons[slug] = skeleton
    if not lines:
        return None
    return lines, tuple(shape), skeletons


def writer_for(canonical: str) -> tuple[Callable[[Any], Written | None], frozenset[tuple[Any, ...]]] | None:
    """The fast writer of a canonical entity's records and what the cell check may read from its skeletons,
    or None where there is none (only vital signs have one)."""
    if canonical == "vital_signs" and fast_lines_on():
        return vital_lines, VITAL_READABLE
    return None


#: What the cell check may read from :func:`vital_lines`' skeletons (steps after the id suffix): each is
#: there, with the very value, exactly where the whole resource has it.
VITAL_READABLE: frozenset[tuple[Any, ...]] = frozenset({
    ("resourceType",), ("id",), ("status",), ("subject", "reference"), ("encounter", "reference"),
    ("effectiveDateTime",), ("performer", 0, "reference"), ("valueQuantity", "value"), ("valueQuantity", "unit"),
    ("component", 0, "valueQuantity", "value"), ("component", 0, "valueQuantity", "unit"),
    ("component", 1, "valueQuantity", "value"), ("component", 1, "valueQuantity", "unit"),
    ("note", 0, "text"), ("method", "text"), ("interpretation", 0, "text"),
})
