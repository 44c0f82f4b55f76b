"""What the OpenEMR connector's declarative mapping cannot say (see docs/connectors/openemr.md).

* record status from OpenEMR's soft-delete and "erroneous" flags (exported, never dropped), and the
  statuses OpenEMR keeps as flags (prescriptions' ``active``, issues' ``activity``/``enddate``/``outcome``);
* ``TYPE:CODE`` lists (``ICD10:J20.9;ICD10:R05``) split into the code and the further codes;
* rows the canonical model has no record for (devices, non-provider users, payment adjustments, empty
  insurance placeholders, documents not on disk) quarantined with a reason that says so;
* the vitals form's columns read as measurements (0 is OpenEMR's "not measured").

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

#: form_vitals column → canonical vital-signs field (the units are set in connector.toml).
VITALS_COLUMNS: dict[str, str] = {
    "bps": "systolic",
    "bpd": "diastolic",
    "weight": "weight",
    "height": "height",
    "temperature": "temperature",
    "pulse": "pulse",
    "respiration": "respiration",
    "bmi": "bmi",
    "waist_circ": "waist",
    "head_circ": "head",
    "oxygen_saturation": "spo2",
    "oxygen_flow_rate": "oxygen_flow_rate",
    "inhaled_oxygen_concentration": "inhaled_oxygen",
}
#: severity_ccda ids that are FHIR reaction severities; the others (mild_to_moderate, fatal …) are kept
#: as recorded in the allergy's note, and the life-threatening ones make the allergy's criticality high.
ALLERGY_SEVERITIES = frozenset({"mild", "moderate", "severe"})
HIGH_CRITICALITY = frozenset({"life_threatening_severity", "fatal"})


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


def _measurement(value: Any) -> Decimal | str | None:
    """A vitals value: a number, None for OpenEMR's 0 ("not measured"), or the text when it is no number
    (``bps``/``bpd`` are text columns)."""
    if value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return str(value).strip() or None
    if not number.is_finite() or number == 0:
        return None
    return Decimal(int(number)) if number == number.to_integral_value() else number.normalize()


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
    # prescriptions.active: 1 the prescription is current, 0 it was discontinued.
    values["status"] = INACTIVE if _inactive_flag(row, "active") else "active"
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
    completion = row.get("completion_status")
    if completion == "Refused":  # a refusal is the patient's (or parent's) objection
        return {**values, "status_reason_code": "PATOBJ"}
    if completion == "Partially_Administered":
        return {**values, "subpotent": True}
    return values


def _medication_list(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    # OpenEMR's own test of an active issue: activity 1 and no end date.
    if _inactive_flag(row, "activity"):
        return {**values, "status": "stopped"}
    if _ended(row):
        return {**values, "status": "completed"}
    return {**values, "status": "active"}


def _allergy(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    recorded = values.pop("substance_code", None)
    if recorded:
        code, others = split_codes(recorded)
        kind = recorded.split(":", 1)[0].strip().upper() if ":" in recorded.split(";", 1)[0] else ""
        values["substance_code"] = code
        values["substance_system"] = {"RXCUI": "rxnorm", "RXNORM": "rxnorm"}.get(kind)
        if values["substance_system"] == "rxnorm":
            values["category"] = "medication"
        if others:
            values["note"] = "; ".join(filter(None, [values.get("note"), "further codes: " + ", ".join(others)]))
    severity = row.get("severity")
    if severity in ALLERGY_SEVERITIES:
        values["severity"] = severity
    elif severity and severity != "unassigned":
        values["note"] = "; ".join(filter(None, [values.get("note"), f"severity as recorded: {severity}"]))
    if severity in HIGH_CRITICALITY:
        values["criticality"] = "high"
    # Clinical status by OpenEMR's rules: outcome 1 is "resolved"; activity 0 or an end date, inactive.
    if str(row.get("outcome")) == "1":
        values["clinical_status"] = "resolved"
    elif _inactive_flag(row, "activity") or _ended(row):
        values["clinical_status"] = "inactive"
    else:
        values["clinical_status"] = "active"
    return values


def _lab_report(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _inactive_flag(row, "activity"):  # the order was deleted
        return {**values, "status": ERROR}
    return values


def _deleted_order(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if _inactive_flag(row, "activity"):  # procedure_order.activity: 0 if deleted
        return {**values, "status": ERROR}
    return values


def _vitals(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    texts = []
    for column, field_name in VITALS_COLUMNS.items():
        measured = _measurement(row.get(column))
        if isinstance(measured, str):  # e.g. "120/80" typed into bps: kept verbatim, never parsed
            texts.append(f"{column} as recorded: {measured}")
        elif measured is not None:
            values[field_name] = measured
    for column, field_name in (("temp_method", "temperature_method"), ("bmi_status", "bmi_status")):
        if isinstance(text := row.get(column), str) and text.strip():
            values[field_name] = text.strip()
    note = row.get("note")
    values["note"] = "; ".join(filter(None, [note.strip() if isinstance(note, str) else None, *texts])) or None
    if _flag(row, "form_deleted") or _inactive_flag(row, "activity"):
        values["status"] = ERROR
    return values


def _insurance(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if row.get("provider") is None:
        raise RowRejected(
            "no-coverage", "OpenEMR insurance row without an insurance company (an empty placeholder); kept verbatim"
        )
    return values


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
    "medication_list": _medication_list,
    "allergy": _allergy,
    "lab_report": _lab_report,
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
