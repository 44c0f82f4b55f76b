"""The optional record status (model.RECORD_STATUSES) in FHIR: soft-deleted / erroneous source rows are
exported as entered-in-error, inactive ones with the status each resource type has for it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.errors import MappingError
from emr_exporter.pipeline import fhir

INSTITUTION = model.Institution(code="12345678", name="Test clinic")
DAY = dt.date(2024, 3, 1)


def _common(table: str) -> dict[str, Any]:
    return {
        "id": model.record_id("t", table, "1"),
        "provenance": model.Provenance("t", table, "1"),
        "patient_id": model.record_id("t", "pt", "1"),
    }


def _one(record: Any) -> dict[str, Any]:
    (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
    fhir.validate_resource(resource)
    return resource


RECORDS = {
    "chart_note": lambda status: model.ChartNote(**_common("n"), recorded=DAY, course="x", status=status),
    "drug": lambda status: model.OrderLine(**_common("o"), ordered=DAY, name="Amoxicillin", code_type="drug",
                                           status=status),
    "service": lambda status: model.OrderLine(**_common("o"), ordered=DAY, name="CBC", code_type="procedure",
                                              status=status),
    "procedure": lambda status: model.ProcedureRecord(**_common("p"), performed=DAY, name="Appendectomy",
                                                      status=status),
    "lab": lambda status: model.LabResult(**_common("l"), observed=DAY, name="Hb", value="13", status=status),
    "receipt": lambda status: model.Receipt(**_common("r"), issued=DAY, paid=Decimal("20"), status=status),
    "fee": lambda status: model.FeeLine(**_common("f"), service_date=DAY, code="99213", status=status),
    "attachment": lambda status: model.Attachment(
        **_common("a"), created=DAY, media_type="application/pdf",
        content=model.AttachmentContent(blob=b"%PDF"), status=status,
    ),
}

EXPECTED = {  # kind → (usual, inactive, entered-in-error)
    "chart_note": ("current", "current", "entered-in-error"),
    "drug": ("unknown", "stopped", "entered-in-error"),
    "service": ("unknown", "revoked", "entered-in-error"),
    "procedure": ("completed", "completed", "entered-in-error"),
    "lab": ("final", "final", "entered-in-error"),
    "receipt": ("issued", "issued", "entered-in-error"),
    "fee": ("billed", "billed", "entered-in-error"),
    "attachment": ("current", "current", "entered-in-error"),
}


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_status_per_resource_type(kind: str) -> None:
    statuses = tuple(_one(RECORDS[kind](status))["status"] for status in (None, "inactive", "entered-in-error"))
    assert statuses == EXPECTED[kind]


def test_an_unknown_status_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="status: is not a known record status"):
        fhir.to_fhir(RECORDS["lab"]("deleted"), institution=INSTITUTION)


def _condition(**extra: Any) -> dict[str, Any]:
    return _one(model.Diagnosis(**{"code": "J20.9", **_common("d"), "text": "Acute bronchitis", **extra}))


def test_condition_entered_in_error_has_verification_status_and_no_clinical_status() -> None:
    resource = _condition(status="entered-in-error")
    assert resource["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in resource  # FHIR con-5


def test_condition_inactive_and_ordinary() -> None:
    assert _condition(status="inactive")["clinicalStatus"]["coding"][0]["code"] == "inactive"
    ordinary = _condition()
    assert "clinicalStatus" not in ordinary and "verificationStatus" not in ordinary


def test_condition_keeps_further_recorded_codes_verbatim() -> None:
    resource = _condition(other_codes=("ICD10:R05", "SNOMED-CT:49727002"))
    assert resource["code"]["coding"][1:] == [
        {"system": fhir.RECORDED_CODE_SYSTEM, "code": "ICD10:R05"},
        {"system": fhir.RECORDED_CODE_SYSTEM, "code": "SNOMED-CT:49727002"},
    ]


def test_encrypted_attachment_is_flagged() -> None:
    record = model.Attachment(
        **_common("a"), created=DAY, media_type="application/octet-stream",
        content=model.AttachmentContent(blob=b"\x00\x01"), encrypted=True,
    )
    assert _one(record)["extension"] == [{"url": fhir.SOURCE_ENCRYPTED_URL, "valueBoolean": True}]


def test_condition_code_without_a_kcd_shape_claims_no_code_system() -> None:
    # Before: 'ZZZ99' (and any local code) went out as a code of http://www.hl7korea.or.kr/CodeSystem/kostat-kcd-8.
    for code in ("J00", "J20.9", "j209", "S72.000", "E11.90", "G01*"):
        assert _condition(code=code, kcd_edition="kcd-8")["code"]["coding"][0]["system"] == fhir.KCD_SYSTEM_PREFIX + "8"
    for code in ("ZZZ99", "XX-1", "123", "J0", "감기"):
        coding = _condition(code=code, kcd_edition="kcd-8")["code"]["coding"][0]
        assert coding == {"system": fhir.RECORDED_CODE_SYSTEM, "code": code}
