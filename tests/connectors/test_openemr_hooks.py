"""The OpenEMR connector's hooks on single rows (no database): code lists, statuses, reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emr_exporter.connectors import RowRejected, load_connector
from emr_exporter.connectors.mapper import load_hooks

HOOK = load_hooks(load_connector("openemr"))
assert HOOK is not None


def _rejected(section: str, row: dict[str, Any], values: dict[str, Any] | None = None) -> tuple[str, str]:
    with pytest.raises(RowRejected) as caught:
        HOOK(section, row, dict(values or {}))
    return caught.value.reason_code, caught.value.reason


@pytest.mark.parametrize(
    ("recorded", "code", "others"),
    [
        ("ICD10:J20.9;ICD10:R05", "J20.9", ("ICD10:R05",)),
        ("ICD10:E11.9", "E11.9", ()),
        (" ICD10:I10 ; SNOMED-CT:38341003 ;", "I10", ("SNOMED-CT:38341003",)),
        ("J45.909", "J45.909", ()),
    ],
)
def test_type_code_lists(recorded: str, code: str, others: tuple[str, ...]) -> None:
    values = HOOK("problem", {"type": "medical_problem", "activity": 1}, {"code": recorded})
    assert (values["code"], values["other_codes"]) == (code, others)
    assert "status" not in values


@pytest.mark.parametrize("recorded", [";;", "ICD10:", None])
def test_a_problem_without_a_usable_code_is_quarantined(recorded: str | None) -> None:
    code, _ = _rejected("problem", {"type": "medical_problem"}, {"code": recorded})
    assert code == "required-missing"


def test_problem_status() -> None:
    ended = HOOK("problem", {"type": "dental", "activity": 1, "enddate": "2024-03-01 00:00:00"}, {"code": "K02.9"})
    assert ended["status"] == "inactive"
    zero_end = HOOK("problem", {"type": "dental", "activity": 1, "enddate": "0000-00-00 00:00:00"}, {"code": "K02.9"})
    assert "status" not in zero_end
    assert HOOK("problem", {"type": "medical_problem", "activity": 0}, {"code": "I10"})["status"] == "inactive"


@pytest.mark.parametrize(
    ("section", "row", "values", "reason_code"),
    [
        ("problem", {"type": "allergy"}, {"code": "x"}, "no-canonical-entity"),
        ("problem", {"type": None}, {}, "no-canonical-entity"),
        ("practitioner", {"authorized": 0}, {}, "not-a-provider"),
        ("insurance", {"provider": None}, {}, "no-coverage"),
        ("receipt", {"adj_amount": Decimal("-5.00")}, {}, "adjustment-not-representable"),
        ("attachment", {"type": "web_url"}, {}, "unsupported-storage"),
        ("attachment", {"type": "file_url", "storagemethod": 1}, {}, "unsupported-storage"),
        ("attachment", {"type": "file_url", "storagemethod": 0}, {"content_path": None}, "file-missing"),
    ],
)
def test_rows_the_canonical_model_cannot_hold_are_quarantined_with_a_reason(
    section: str, row: dict[str, Any], values: dict[str, Any], reason_code: str
) -> None:
    code, reason = _rejected(section, row, values)
    assert code == reason_code and reason


def test_statuses_of_soft_deleted_rows() -> None:
    assert HOOK("fee_line", {"activity": 0}, {})["status"] == "entered-in-error"
    assert "status" not in HOOK("fee_line", {"activity": None}, {})  # NULL is not a 0
    assert HOOK("immunization", {"added_erroneously": 1}, {})["status"] == "entered-in-error"
    assert HOOK("patient_note", {"deleted": 1, "activity": 1}, {})["status"] == "entered-in-error"
    assert HOOK("patient_note", {"deleted": 0, "activity": 0}, {})["status"] == "inactive"
    assert HOOK("receipt", {"adj_amount": Decimal(0), "deleted": "2024-06-02 10:00:00"}, {})["status"] == (
        "entered-in-error"
    )
    assert "status" not in HOOK("receipt", {"adj_amount": Decimal(0), "deleted": "0000-00-00 00:00:00"}, {})
    assert HOOK("prescription", {"active": 0, "dosage": "2"}, {}) == {"dose": Decimal("2"), "status": "inactive"}
    assert HOOK("prescription", {"active": 1, "dosage": "2"}, {})["status"] == "active"


def test_allergy_clinical_status_code_and_severity() -> None:
    values = HOOK("allergy", {"activity": 1, "outcome": 0, "severity": "fatal"},
                  {"substance": "Penicillin", "substance_code": "RXCUI:7980;SNOMED:91936005"})
    assert values == {
        "substance": "Penicillin", "substance_code": "7980", "substance_system": "rxnorm", "category": "medication",
        "note": "further codes: SNOMED:91936005; severity as recorded: fatal", "criticality": "high",
        "clinical_status": "active",
    }
    assert HOOK("allergy", {"outcome": 1, "activity": 1}, {})["clinical_status"] == "resolved"
    assert HOOK("allergy", {"outcome": 0, "activity": 0}, {})["clinical_status"] == "inactive"
    assert HOOK("allergy", {"outcome": 0, "activity": 1, "enddate": "2020-01-01 00:00:00", "severity": "mild"},
                {}) == {"clinical_status": "inactive", "severity": "mild"}


def test_immunization_refusal_partial_and_medication_list_statuses() -> None:
    assert HOOK("immunization", {"completion_status": "Refused"}, {})["status_reason_code"] == "PATOBJ"
    assert HOOK("immunization", {"completion_status": "Partially_Administered"}, {})["subpotent"] is True
    assert HOOK("medication_list", {"activity": 0}, {})["status"] == "stopped"
    assert HOOK("medication_list", {"activity": 1, "enddate": "2024-01-31 00:00:00"}, {})["status"] == "completed"
    assert HOOK("medication_list", {"activity": 1, "enddate": None}, {})["status"] == "active"
    assert HOOK("lab_report", {"activity": 0}, {"status": "final"})["status"] == "entered-in-error"


def test_encrypted_deleted_document() -> None:
    values = HOOK(
        "attachment", {"type": "file_url", "storagemethod": 0, "encrypted": 1, "deleted": 1},
        {"content_path": "/docs/1/a.pdf", "media_type": "application/pdf"},
    )
    assert values == {
        "content_path": "/docs/1/a.pdf", "media_type": "application/octet-stream", "encrypted": True,
        "status": "entered-in-error",
    }


def test_vitals_measurements_keep_recorded_numbers_and_leave_out_zeros() -> None:
    row = {"bps": "120", "bpd": "80", "weight": Decimal("70.500000"), "height": Decimal("0E-6"),
           "temp_method": "Oral", "oxygen_saturation": Decimal("97.00"), "activity": 1, "form_deleted": 0}
    values = HOOK("vitals", row, {})
    assert values == {"systolic": Decimal(120), "diastolic": Decimal(80), "weight": Decimal("70.500000"),
                      "spo2": Decimal(97), "temperature_method": "Oral", "note": None}
    typed = HOOK("vitals", {"bps": "120/80", "bpd": "", "note": "after exercise"}, {})
    assert typed == {"note": "after exercise; bps as recorded: 120/80"}  # text is kept, never parsed
