"""What the OpenEMR connector's declarative mapping cannot say (see docs/connectors/openemr.md).

* record status from OpenEMR's soft-delete and "erroneous" flags (exported, never dropped);
* ``TYPE:CODE`` lists (``ICD10:J20.9;ICD10:R05``) split into the code and the further codes;
* rows the canonical model has no record for (allergies, devices, insurance, non-provider users,
  payment adjustments, documents not on disk) quarantined with a reason that says so;
* the vitals form's many columns written as one recorded value.

Written from OpenEMR's published schema only; no OpenEMR code is copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from emr_exporter.connectors.api import RowRejected

ERROR = "entered-in-error"
INACTIVE = "inactive"

#: `lists.type` values that are problems (diagnoses) in the canonical model.
PROBLEM_TYPES = frozenset({"medical_problem", "health_concern", "dental"})

#: form_vitals columns in the order they are written, with the unit OpenEMR stores them in.
VITALS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("bps", "mmHg"),
    ("bpd", "mmHg"),
    ("weight", "lb"),
    ("height", "in"),
    ("temperature", "degF"),
    ("temp_method", ""),
    ("pulse", "/min"),
    ("respiration", "/min"),
    ("bmi", "kg/m2"),
    ("bmi_status", ""),
    ("waist_circ", "in"),
    ("head_circ", "in"),
    ("oxygen_saturation", "%"),
    ("oxygen_flow_rate", "L/min"),
    ("inhaled_oxygen_concentration", "%"),
    ("note", ""),
)


def _flag(row: Mapping[str, Any], column: str) -> bool:
    value = row.get(column)
    if value is None:
        return False
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip() not in ("", "0")


def _inactive_flag(row: Mapping[str, Any], column: str) -> bool:
    """True when ``column`` is recorded and 0 (OpenEMR's ``activity = 0``); NULL is not a 0."""
    value = row.get(column)
    return value is not None and str(value).strip() == "0"


def _is_zero_date(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("0000-00-00")


def split_codes(recorded: str) -> tuple[str, tuple[str, ...]]:
    """``"ICD10:J20.9; ICD10:R05"`` → ``("J20.9", ("ICD10:R05",))``: the first code without its type,
    the others verbatim (type included), so nothing recorded is lost."""
    parts = [part.strip() for part in recorded.split(";") if part.strip()]
    if not parts:
        raise RowRejected("required-missing", "field 'code' is empty")
    first = parts[0]
    code = first.split(":", 1)[1].strip() if ":" in first else first
    if not code:
        raise RowRejected("required-missing", "field 'code' holds a code type without a code")
    return code, tuple(parts[1:])


def _number_text(value: Any) -> str | None:
    """A vitals value as recorded; OpenEMR stores 0 for "not measured" in its numeric columns."""
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        number = Decimal(str(value))
        if number == 0:
            return None
        text = format(number.normalize(), "f")
        return text
    text = str(value).strip()
    return text or None


def _vitals_value(row: Mapping[str, Any]) -> str | None:
    parts = []
    for column, unit in VITALS_COLUMNS:
        text = _number_text(row.get(column))
        if text is not None:
            parts.append(f"{column} {text} {unit}".rstrip())
    return "; ".join(parts) or None


def _soap_course(row: Mapping[str, Any]) -> str | None:
    sections = [
        f"{title}: {text.rstrip()}"
        for title, column in (("Objective", "objective"), ("Assessment", "assessment"))
        if isinstance(text := row.get(column), str) and text.strip()
    ]
    return "\n\n".join(sections) or None


def _dose(text: Any) -> Decimal | None:
    if text is None:
        return None
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def map_row(entity: str, row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    handler = _HANDLERS.get(entity)
    return handler(row, values) if handler else values


def _practitioner(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if str(row.get("authorized")) != "1":
        raise RowRejected(
            "not-a-provider",
            "OpenEMR user is not an authorized provider (staff, administrator or address-book entry)",
        )
    return values


def _problem(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    kind = row.get("type")
    if kind not in PROBLEM_TYPES:
        what = {"allergy": "an allergy", "medical_device": "a medical device"}.get(str(kind), "an issue of this type")
        raise RowRejected(
            "no-canonical-entity",
            f"OpenEMR issue is {what}: the canonical model has no record for it; kept verbatim",
        )
    recorded = values.get("code")
    if not recorded:
        raise RowRejected("required-missing", "the problem has no diagnosis code (field 'code')")
    code, others = split_codes(recorded)
    values = {**values, "code": code, "other_codes": others}
    if _inactive_flag(row, "activity") or _ended(row):
        values["status"] = INACTIVE
    return values


def _soap_note(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "course": _soap_course(row)}
    if _flag(row, "form_deleted") or _inactive_flag(row, "activity"):
        values["status"] = ERROR
    return values


def _clinical_note(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _inactive_flag(row, "activity"):
        values = {**values, "status": ERROR}
    return values


def _patient_note(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _flag(row, "deleted"):
        return {**values, "status": ERROR}
    if _inactive_flag(row, "activity"):
        return {**values, "status": INACTIVE}
    return values


def _prescription(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "dose": _dose(row.get("dosage"))}
    if _inactive_flag(row, "active"):
        values["status"] = INACTIVE
    return values


def _ended(row: Mapping[str, Any]) -> bool:
    """An issue with an end date is no longer active (OpenEMR's own notion of an active issue)."""
    end = row.get("enddate")
    return end is not None and not _is_zero_date(end)


def _listed_activity(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _inactive_flag(row, "activity") or _ended(row):
        return {**values, "status": INACTIVE}
    return values


def _immunization(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _flag(row, "added_erroneously"):
        return {**values, "status": ERROR}
    return values


def _deleted_order(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _inactive_flag(row, "activity"):  # procedure_order.activity: 0 if deleted
        return {**values, "status": ERROR}
    return values


def _vitals(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "value": _vitals_value(row)}
    if _flag(row, "form_deleted") or _inactive_flag(row, "activity"):
        values["status"] = ERROR
    return values


def _insurance(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    raise RowRejected(
        "no-canonical-entity", "insurance coverage has no record in the canonical model; kept verbatim"
    )


def _receipt(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    adjustment = row.get("adj_amount")
    if adjustment is not None and Decimal(str(adjustment)) != 0:
        raise RowRejected(
            "adjustment-not-representable",
            "an OpenEMR adjustment (adj_amount) is not a payment and has no place on a receipt; kept verbatim",
        )
    deleted = row.get("deleted")
    if deleted is not None and not _is_zero_date(deleted):
        return {**values, "status": ERROR}
    return values


def _fee_line(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _inactive_flag(row, "activity"):  # billing.activity = 0: the line was deleted from the fee sheet
        return {**values, "status": ERROR}
    return values


def _attachment(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if row.get("type") != "file_url":
        raise RowRejected(
            "unsupported-storage", "the document is not a file on the OpenEMR server (a web link or database copy)"
        )
    if str(row.get("storagemethod")) == "1":
        raise RowRejected(
            "unsupported-storage", "the document is stored in CouchDB, which this connector cannot read"
        )
    if values.get("content_path") is None:
        raise RowRejected(
            "file-missing", "the document's location is not under an OpenEMR documents folder"
        )
    values = dict(values)
    if _flag(row, "encrypted"):
        # The bytes are OpenEMR-encrypted: carried exactly as stored, flagged, typed as opaque bytes.
        values["encrypted"] = True
        values["media_type"] = "application/octet-stream"
    if _flag(row, "deleted"):
        values["status"] = ERROR
    return values


_HANDLERS = {
    "practitioner": _practitioner,
    "problem": _problem,
    "soap_note": _soap_note,
    "clinical_note": _clinical_note,
    "patient_note": _patient_note,
    "prescription": _prescription,
    "medication_list": _listed_activity,
    "immunization": _immunization,
    "lab_order": _deleted_order,
    "surgery": _listed_activity,
    "lab_result": _deleted_order,
    "vitals": _vitals,
    "insurance": _insurance,
    "receipt": _receipt,
    "fee_line": _fee_line,
    "attachment": _attachment,
}
