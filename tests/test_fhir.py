"""FHIR R4 / KR Core mapping: every record type, validated against the FHIR structure, exact values."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.errors import MappingError
from emr_exporter.pipeline import fhir

CONNECTOR = "demo"
RRN = "800101-1234567"
RRN_DIGITS = "8001011234567"
INSTITUTION = model.Institution(
    code="12345678",
    name="행복한내과의원",
    address="서울특별시 종로구 세종대로 1",
    phone="02-123-4567",
    kind="의원",
    departments=("내과", "가정의학과"),
    founder="김원장",
)


def prov(table: str, key: str) -> model.Provenance:
    return model.Provenance(CONNECTOR, table, key)


def rid(table: str, key: str) -> str:
    return model.record_id(CONNECTOR, table, key)


PATIENT_ID = rid("PATIENT", "P0001")
ENCOUNTER_ID = rid("VISIT", "V0001")
DOCTOR_ID = rid("DOCTOR", "D01")
RECEIPT_ID = rid("RECEIPT", "R0001")
NOTE_ID = rid("CHART", "C0001")


def all_records(tmp_path: Path) -> dict[str, Any]:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + b"x" * 91)  # 100 bytes
    return {
        "doctor": model.Practitioner(
            id=DOCTOR_ID,
            provenance=prov("DOCTOR", "D01"),
            name="김의사",
            licence_kind="의사",
            licence_number="123456",
            department="내과",
        ),
        "nurse": model.Practitioner(
            id=rid("DOCTOR", "N01"),
            provenance=prov("DOCTOR", "N01"),
            name="이간호",
            licence_kind="간호사",
            licence_number="654321",
        ),
        "patient": model.Patient(
            id=PATIENT_ID,
            provenance=prov("PATIENT", "P0001"),
            chart_number="0001234",
            name="홍길동",
            sex="male",
            birth_date=dt.date(1980, 1, 1),
            rrn=RRN,
            address="서울특별시 중구 을지로 100, 101동 202호",
            phone="010-1234-5678",
            first_visit=dt.date(2015, 3, 2),
        ),
        "patient_no_rrn": model.Patient(
            id=rid("PATIENT", "P0002"),
            provenance=prov("PATIENT", "P0002"),
            chart_number="0001235",
            name="성춘향",
            rrn_missing_reason="patient-refused",
        ),
        "encounter": model.Encounter(
            id=ENCOUNTER_ID,
            provenance=prov("VISIT", "V0001"),
            patient_id=PATIENT_ID,
            start=dt.datetime(2024, 3, 5, 19, 30),
            kind="outpatient",
            practitioner_id=DOCTOR_ID,
            department="내과",
            payer_type="건강보험",
            night_or_holiday=True,
        ),
        "admission": model.Encounter(
            id=rid("VISIT", "V0002"),
            provenance=prov("VISIT", "V0002"),
            patient_id=PATIENT_ID,
            start=dt.date(2024, 4, 1),
            end=dt.date(2024, 4, 3),
            kind="inpatient",
            payer_type="의료급여",
        ),
        "diagnosis": model.Diagnosis(
            id=rid("DIAG", "V0001-1"),
            provenance=prov("DIAG", "V0001-1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            code="J00",
            kcd_edition="kcd-8",
            text="급성 비인두염[감기]",
            primary=True,
            onset=dt.date(2024, 3, 3),
            recorded=dt.date(2024, 3, 5),
        ),
        "diagnosis_kcd7": model.Diagnosis(
            id=rid("DIAG", "V0000-1"),
            provenance=prov("DIAG", "V0000-1"),
            patient_id=PATIENT_ID,
            encounter_id=None,
            code="U54.0",
            kcd_edition="kcd-7",
            text="소양병증",
        ),
        "note": model.ChartNote(
            id=NOTE_ID,
            provenance=prov("CHART", "C0001"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            recorded=dt.datetime(2024, 3, 5, 19, 45, 12),
            author_id=DOCTOR_ID,
            chief_complaint="콧물, 인후통 3일",
            history="3일 전부터 콧물.\n발열 없음.",
            plan="대증치료, 3일 후 재진",
        ),
        "amended_note": model.ChartNote(
            id=rid("CHART", "C0002"),
            provenance=prov("CHART", "C0002"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            recorded=dt.date(2024, 3, 6),
            author_id=DOCTOR_ID,
            chief_complaint="콧물, 인후통 2일 (정정)",
            amends_id=NOTE_ID,
        ),
        "drug": model.OrderLine(
            id=rid("ORDER", "O1"),
            provenance=prov("ORDER", "O1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            ordered=dt.date(2024, 3, 5),
            local_code="TYL500",
            edi_code="644501820",
            code_type="drug",
            name="타이레놀정500밀리그람",
            dose=Decimal("1.5"),
            dose_unit="정",
            frequency=3,
            days=3,
            route="경구",
            prescriber_id=DOCTOR_ID,
            outside_prescription=True,
        ),
        "procedure_order": model.OrderLine(
            id=rid("ORDER", "O2"),
            provenance=prov("ORDER", "O2"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            ordered=dt.date(2024, 3, 5),
            edi_code="AA154",
            code_type="procedure",
            name="초진진찰료",
            dose=Decimal("1"),
            frequency=1,
            days=1,
        ),
        "material_order": model.OrderLine(
            id=rid("ORDER", "O3"),
            provenance=prov("ORDER", "O3"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            ordered=dt.date(2024, 3, 5),
            edi_code="J5083001",
            code_type="material",
            name="일회용 주사기",
        ),
        "procedure": model.ProcedureRecord(
            id=rid("PROC", "X1"),
            provenance=prov("PROC", "X1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            performed=dt.date(2024, 3, 5),
            edi_code="M0111",
            name="단순처치",
            performer_id=DOCTOR_ID,
            is_operation=True,
        ),
        "lab": model.LabResult(
            id=rid("LAB", "L1"),
            provenance=prov("LAB", "L1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            observed=dt.datetime(2024, 3, 5, 20, 0),
            code="CRP",
            name="C-반응성단백",
            value="5.60",
            unit="mg/dL",
            reference_range="0-0.5",
            flag="H",
        ),
        "lab_text": model.LabResult(
            id=rid("LAB", "L2"),
            provenance=prov("LAB", "L2"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            observed=dt.date(2024, 3, 5),
            name="인플루엔자 A 항원",
            value="음성",
        ),
        "imaging": model.ImagingReport(
            id=rid("XRAY", "I1"),
            provenance=prov("XRAY", "I1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            performed=dt.date(2024, 3, 5),
            modality="CR",
            edi_code="G2101",
            text="흉부 단순촬영: 특이소견 없음.",
            reader_id=DOCTOR_ID,
        ),
        "certificate": model.Certificate(
            id=rid("CERT", "2024-0001"),
            provenance=prov("CERT", "2024-0001"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            kind="진단서",
            number="2024-0001",
            issued=dt.date(2024, 3, 5),
            doctor_id=DOCTOR_ID,
            text="병명: 급성 비인두염\n향후 3일간 안정을 요함.",
        ),
        "receipt": model.Receipt(
            id=RECEIPT_ID,
            provenance=prov("RECEIPT", "R0001"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            number="202403-00017",
            issued=dt.date(2024, 3, 5),
            covered_patient=Decimal("4900"),
            covered_insurer=Decimal("11430"),
            covered_full_self=Decimal("0"),
            non_covered=Decimal("20000"),
            total=Decimal("36330"),
            paid=Decimal("24900"),
        ),
        "fee_line": model.FeeLine(
            id=rid("FEE", "R0001-1"),
            provenance=prov("FEE", "R0001-1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            receipt_id=RECEIPT_ID,
            service_date=dt.date(2024, 3, 5),
            category="진찰료",
            code="AA154",
            name="초진진찰료-의원",
            unit_price=Decimal("18410.00"),
            count=Decimal("0.5"),
            days=1,
            total=Decimal("9205"),
            patient_share=Decimal("2760"),
            insurer_share=Decimal("6445"),
            non_covered=Decimal("0.1234567890123456789"),
        ),
        "attachment_blob": model.Attachment(
            id=rid("SCAN", "S1"),
            provenance=prov("SCAN", "S1"),
            patient_id=PATIENT_ID,
            encounter_id=ENCOUNTER_ID,
            created=dt.date(2024, 3, 5),
            media_type="image/jpeg",
            title="동의서 스캔",
            content=model.AttachmentContent(blob=b"\xff\xd8\xff" + b"\0" * 7),
        ),
        "attachment_file": model.Attachment(
            id=rid("SCAN", "S2"),
            provenance=prov("SCAN", "S2"),
            patient_id=PATIENT_ID,
            encounter_id=None,
            created=dt.date(2024, 3, 6),
            media_type="application/pdf",
            title="외부 의뢰서",
            content=model.AttachmentContent(path=str(scan)),
        ),
    }


@pytest.fixture
def records(tmp_path: Path) -> dict[str, Any]:
    return all_records(tmp_path)


@pytest.fixture
def resources(records: dict[str, Any]) -> dict[str, dict[str, Any]]:
    mapped = {}
    for name, record in records.items():
        (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
        mapped[name] = resource
    return mapped


def ext(resource: dict[str, Any], url: str) -> dict[str, Any]:
    (found,) = [e for e in resource.get("extension", []) if e["url"] == url]
    return found


def source_id(table: str, key: str) -> dict[str, str]:
    return {"use": "secondary", "system": f"urn:emr-exporter:source:demo:{table}", "value": key}


def test_every_record_type_is_covered(records: dict[str, Any]) -> None:
    from test_fhir_clinical import CLINICAL_TYPES  # the clinical-record types are covered there

    assert {type(r) for r in records.values()} | CLINICAL_TYPES == set(model.ENTITY_TYPES.values())


def test_every_resource_is_valid_fhir(resources: dict[str, dict[str, Any]]) -> None:
    for resource in [*resources.values(), fhir.organization_resource(INSTITUTION)]:
        fhir.validate_resource(resource)
    assert {r["resourceType"] for r in resources.values()} == {
        "Practitioner",
        "Patient",
        "Encounter",
        "Condition",
        "DocumentReference",
        "MedicationRequest",
        "ServiceRequest",
        "Procedure",
        "Observation",
        "DiagnosticReport",
        "Invoice",
        "ChargeItem",
    }


def test_common_envelope(records: dict[str, Any], resources: dict[str, dict[str, Any]]) -> None:
    for name, resource in resources.items():
        record = records[name]
        assert resource["id"] == record.id
        assert resource["meta"]["tag"] == [
            {
                "system": "urn:emr-exporter:retention",
                "code": record.retention.slug,
                "display": f"{record.retention.years} years",
            }
        ]
        assert source_id(record.provenance.table, record.provenance.key) in resource["identifier"]
        if "subject" in resource:
            assert resource["subject"] == {"reference": f"Patient/{PATIENT_ID}"}


def test_json_serialisable_and_deterministic(tmp_path: Path) -> None:
    first = [fhir.to_fhir(r, institution=INSTITUTION) for r in all_records(tmp_path).values()]
    second = [fhir.to_fhir(r, institution=INSTITUTION) for r in all_records(tmp_path).values()]
    text = json.dumps(first, sort_keys=True, ensure_ascii=False)
    assert text == json.dumps(second, sort_keys=True, ensure_ascii=False)
    assert json.loads(text) == first  # nothing but JSON types (no Decimal, no date)
    assert "Decimal" not in text


def test_rrn_only_in_patient(resources: dict[str, dict[str, Any]]) -> None:
    for name, resource in resources.items():
        text = json.dumps(resource, ensure_ascii=False)
        if name == "patient":
            assert RRN in text
        else:
            assert RRN not in text and RRN_DIGITS not in text and "800101-1" not in text, name


def test_organization() -> None:
    org = fhir.organization_resource(INSTITUTION)
    assert org["id"] == model.record_id("institution", "institution", "12345678")
    assert org["meta"]["profile"] == [
        "http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-healthcare-organization"
    ]
    assert org["identifier"] == [{"system": "http://www.hl7korea.or.kr/Identifier/hira-krnpi", "value": "12345678"}]
    assert org["name"] == "행복한내과의원"
    assert org["address"] == [{"text": "서울특별시 종로구 세종대로 1"}]
    assert org["telecom"] == [{"system": "phone", "value": "02-123-4567"}]
    assert ext(org, fhir.INSTITUTION_KIND_URL) == {"url": fhir.INSTITUTION_KIND_URL, "valueString": "의원"}
    assert [e["valueString"] for e in org["extension"] if e["url"] == fhir.DEPARTMENT_URL] == ["내과", "가정의학과"]
    assert org["contact"][0]["name"] == {"text": "김원장"}


def test_practitioners(resources: dict[str, dict[str, Any]]) -> None:
    doctor = resources["doctor"]
    assert doctor["meta"]["profile"] == [
        "http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-medical-doctor"
    ]
    assert doctor["name"] == [{"text": "김의사"}]
    assert doctor["qualification"] == [
        {
            "identifier": [{"system": "http://www.hl7korea.or.kr/Identifier/mohw-md-license-id", "value": "123456"}],
            "code": {"text": "의사"},
        }
    ]
    nurse = resources["nurse"]
    assert nurse["meta"]["profile"] == ["http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-practitioner"]
    assert nurse["qualification"][0]["identifier"] == [
        {"system": "urn:emr-exporter:mohw-licence:nurse", "value": "654321"}
    ]


def test_patient(resources: dict[str, dict[str, Any]]) -> None:
    patient = resources["patient"]
    assert patient["meta"]["profile"] == ["http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-patient"]
    chart, rrn, source = patient["identifier"]
    assert (chart["system"], chart["value"]) == ("urn:emr-exporter:hira-krnpi:12345678:chart-number", "0001234")
    assert chart["type"]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}
    ]
    assert (rrn["system"], rrn["value"]) == ("http://www.hl7korea.or.kr/Identifier/rrn", RRN)
    assert source == source_id("PATIENT", "P0001")
    assert patient["name"] == [{"text": "홍길동"}]
    assert patient["gender"] == "male"
    assert patient["birthDate"] == "1980-01-01"
    assert patient["address"] == [{"text": "서울특별시 중구 을지로 100, 101동 202호"}]
    assert patient["telecom"] == [{"system": "phone", "value": "010-1234-5678"}]
    assert ext(patient, fhir.FIRST_VISIT_URL)["valueDate"] == "2015-03-02"
    assert patient["managingOrganization"] == {"reference": f"Organization/{fhir.organization_id(INSTITUTION)}"}

    refused = resources["patient_no_rrn"]
    assert "profile" not in refused["meta"]  # no birth date: KR Core Patient cannot be claimed
    assert refused["gender"] == "unknown"
    assert [i["system"] for i in refused["identifier"]] == [
        "urn:emr-exporter:hira-krnpi:12345678:chart-number",
        "urn:emr-exporter:source:demo:PATIENT",
    ]
    assert ext(refused, fhir.RRN_MISSING_REASON_URL)["valueString"] == "patient-refused"


def test_encounters(resources: dict[str, dict[str, Any]]) -> None:
    visit = resources["encounter"]
    assert visit["meta"]["profile"] == ["http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-encounter"]
    assert visit["class"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "AMB",
        "display": "ambulatory",
    }
    assert visit["status"] == "finished"
    assert visit["period"] == {"start": "2024-03-05T19:30:00+09:00"}
    assert visit["serviceType"] == {"text": "내과"}
    assert visit["type"] == [
        {"coding": [{"system": "urn:emr-exporter:payer-type", "code": "건강보험"}], "text": "건강보험"}
    ]
    assert ext(visit, fhir.NIGHT_OR_HOLIDAY_URL)["valueBoolean"] is True
    assert visit["participant"] == [{"individual": {"reference": f"Practitioner/{DOCTOR_ID}"}}]
    admission = resources["admission"]
    assert admission["class"]["code"] == "IMP"
    assert admission["period"] == {"start": "2024-04-01", "end": "2024-04-03"}
    assert ext(admission, fhir.NIGHT_OR_HOLIDAY_URL)["valueBoolean"] is False


def test_conditions_keep_code_edition_and_text(resources: dict[str, dict[str, Any]]) -> None:
    condition = resources["diagnosis"]
    assert condition["code"] == {
        "coding": [{"system": "http://www.hl7korea.or.kr/CodeSystem/kostat-kcd-8", "code": "J00"}],
        "text": "급성 비인두염[감기]",
    }
    assert ext(condition, fhir.PRIMARY_DIAGNOSIS_URL)["valueBoolean"] is True
    assert condition["onsetDateTime"] == "2024-03-03"
    assert condition["recordedDate"] == "2024-03-05"
    assert condition["encounter"] == {"reference": f"Encounter/{ENCOUNTER_ID}"}
    assert {"system": fhir.KRCORE_CONDITION_CATEGORY_SYSTEM, "code": "진단"} in condition["category"][0]["coding"]
    old = resources["diagnosis_kcd7"]
    assert old["code"]["coding"] == [{"system": "http://www.hl7korea.or.kr/CodeSystem/kostat-kcd-7", "code": "U54.0"}]
    assert ext(old, fhir.PRIMARY_DIAGNOSIS_URL)["valueBoolean"] is False
    assert "encounter" not in old


def decoded(content: dict[str, Any]) -> str:
    return base64.b64decode(content["attachment"]["data"]).decode("utf-8")


def test_chart_notes_verbatim_and_amendment(resources: dict[str, dict[str, Any]]) -> None:
    note = resources["note"]
    assert note["status"] == "current"
    assert note["date"] == "2024-03-05T19:45:12+09:00"
    assert note["author"] == [{"reference": f"Practitioner/{DOCTOR_ID}"}]
    assert [c["attachment"]["title"] for c in note["content"]] == ["주호소", "현병력", "계획"]
    assert [decoded(c) for c in note["content"]] == [
        "콧물, 인후통 3일",
        "3일 전부터 콧물.\n발열 없음.",
        "대증치료, 3일 후 재진",
    ]
    assert {c["attachment"]["contentType"] for c in note["content"]} == {"text/plain; charset=utf-8"}
    assert note["context"] == {
        "encounter": [{"reference": f"Encounter/{ENCOUNTER_ID}"}],
        "period": {"start": "2024-03-05T19:45:12+09:00"},
    }
    assert "relatesTo" not in note
    amended = resources["amended_note"]
    assert amended["relatesTo"] == [{"code": "replaces", "target": {"reference": f"DocumentReference/{NOTE_ID}"}}]
    assert "date" not in amended  # a date alone cannot be an R4 instant; it is in context.period
    assert amended["context"]["period"] == {"start": "2024-03-06"}
    assert decoded(amended["content"][0]) == "콧물, 인후통 2일 (정정)"


def test_drug_order(resources: dict[str, dict[str, Any]]) -> None:
    request = resources["drug"]
    assert request["resourceType"] == "MedicationRequest"
    assert request["medicationCodeableConcept"] == {
        "coding": [
            {
                "system": "http://www.hl7korea.or.kr/CodeSystem/hira-edi-medication",
                "code": "644501820",
                "display": "타이레놀정500밀리그람",
            },
            {
                "system": "urn:emr-exporter:hira-krnpi:12345678:local-code",
                "code": "TYL500",
                "display": "타이레놀정500밀리그람",
            },
        ],
        "text": "타이레놀정500밀리그람",
    }
    assert request["dosageInstruction"] == [
        {
            "timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
            "route": {"text": "경구"},
            "doseAndRate": [{"doseQuantity": {"value": 1.5, "unit": "정"}}],
        }
    ]
    assert request["dispenseRequest"] == {
        "expectedSupplyDuration": {"value": 3, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}
    }
    assert request["authoredOn"] == "2024-03-05"
    assert request["requester"] == {"reference": f"Practitioner/{DOCTOR_ID}"}
    assert ext(request, fhir.OUTSIDE_PRESCRIPTION_URL)["valueBoolean"] is True
    assert request["category"] == [{"coding": [{"system": "urn:emr-exporter:order-code-type", "code": "drug"}]}]


def test_procedure_and_material_orders(resources: dict[str, dict[str, Any]]) -> None:
    procedure = resources["procedure_order"]
    assert procedure["resourceType"] == "ServiceRequest"
    assert procedure["code"]["coding"] == [
        {"system": "http://www.hl7korea.or.kr/CodeSystem/hira-edi-procedure", "code": "AA154", "display": "초진진찰료"}
    ]
    assert procedure["quantityQuantity"] == {"value": 1}
    assert procedure["occurrenceTiming"]["repeat"]["boundsDuration"]["value"] == 1
    material = resources["material_order"]
    assert material["code"]["coding"][0]["system"] == "http://www.hl7korea.or.kr/CodeSystem/hira-edi-material"
    assert material["code"]["coding"][0]["code"] == "J5083001"


def test_procedure(resources: dict[str, dict[str, Any]]) -> None:
    procedure = resources["procedure"]
    assert procedure["meta"]["profile"] == [
        "http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-procedure"
    ]
    assert procedure["code"]["coding"] == [
        {"system": fhir.EDI_PROCEDURE_SYSTEM, "code": "M0111", "display": "단순처치"}
    ]
    assert procedure["performedDateTime"] == "2024-03-05"
    assert procedure["category"]["text"] == "수술"
    assert procedure["performer"] == [{"actor": {"reference": f"Practitioner/{DOCTOR_ID}"}}]


def test_lab_results(resources: dict[str, dict[str, Any]]) -> None:
    numeric = resources["lab"]
    # 5.60 as recorded: the JSON number is 5.6, the recorded text rides along in the primitive extension.
    assert numeric["valueQuantity"] == {
        "value": 5.6,
        "_value": {"extension": [{"url": fhir.EXACT_DECIMAL_URL, "valueString": "5.60"}]},
        "unit": "mg/dL",
        "system": fhir.UCUM_SYSTEM,
        "code": "mg/dL",
    }
    assert numeric["effectiveDateTime"] == "2024-03-05T20:00:00+09:00"
    assert numeric["referenceRange"] == [{"text": "0-0.5"}]
    assert numeric["interpretation"][0]["coding"][0]["code"] == "H"
    assert numeric["code"]["coding"] == [
        {"system": "urn:emr-exporter:hira-krnpi:12345678:lab-code", "code": "CRP", "display": "C-반응성단백"}
    ]
    text = resources["lab_text"]
    assert text["valueString"] == "음성"
    assert "valueQuantity" not in text
    assert text["code"] == {"text": "인플루엔자 A 항원"}


def test_imaging_report(resources: dict[str, dict[str, Any]]) -> None:
    report = resources["imaging"]
    assert report["meta"]["profile"] == [
        "http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-diagnosticreport-diagnostic-imaging"
    ]
    assert report["category"][0]["coding"][0]["code"] == "IMG"
    assert report["code"] == {"coding": [{"system": fhir.EDI_PROCEDURE_SYSTEM, "code": "G2101"}], "text": "CR"}
    assert report["conclusion"] == "흉부 단순촬영: 특이소견 없음."
    assert report["resultsInterpreter"] == [{"reference": f"Practitioner/{DOCTOR_ID}"}]


def test_certificate(resources: dict[str, dict[str, Any]]) -> None:
    cert = resources["certificate"]
    assert cert["identifier"][0] == {
        "use": "official",
        "system": "urn:emr-exporter:hira-krnpi:12345678:certificate-number",
        "value": "2024-0001",
    }
    assert cert["type"] == {
        "coding": [{"system": "urn:emr-exporter:certificate-kind", "code": "진단서"}],
        "text": "진단서",
    }
    assert cert["category"][0]["coding"][0]["code"] == "certificate"
    assert cert["context"]["period"] == {"start": "2024-03-05"}
    assert cert["content"][0]["attachment"]["creation"] == "2024-03-05"
    assert decoded(cert["content"][0]) == "병명: 급성 비인두염\n향후 3일간 안정을 요함."
    assert cert["author"] == [{"reference": f"Practitioner/{DOCTOR_ID}"}]


def test_attachments(records: dict[str, Any], resources: dict[str, dict[str, Any]]) -> None:
    blob = resources["attachment_blob"]
    blob_id = records["attachment_blob"].id
    assert fhir.attachment_member_name(records["attachment_blob"]) == f"attachments/{blob_id}.jpg"
    assert blob["content"] == [
        {
            "attachment": {
                "contentType": "image/jpeg",
                "url": f"../attachments/{blob_id}.jpg",
                "size": 10,
                "title": "동의서 스캔",
                "creation": "2024-03-05",
            }
        }
    ]
    file_doc = resources["attachment_file"]
    file_id = records["attachment_file"].id
    assert file_doc["content"][0]["attachment"]["url"] == f"../attachments/{file_id}.pdf"
    assert file_doc["content"][0]["attachment"]["size"] == 100
    assert "context" in file_doc and "encounter" not in file_doc["context"]


def test_unknown_media_type_gets_bin(records: dict[str, Any]) -> None:
    odd = dataclasses.replace(records["attachment_blob"], media_type="application/x-vendor")
    assert fhir.attachment_member_name(odd) == f"attachments/{odd.id}.bin"
    assert fhir.to_fhir(odd, institution=INSTITUTION)[0]["content"][0]["attachment"]["url"].endswith(".bin")


def test_receipt_is_invoice_with_shares(resources: dict[str, dict[str, Any]]) -> None:
    invoice = resources["receipt"]
    assert invoice["resourceType"] == "Invoice"
    assert invoice["identifier"][0]["value"] == "202403-00017"
    assert invoice["date"] == "2024-03-05"
    assert invoice["totalGross"] == {"value": 36330, "currency": "KRW"}
    shares = {c["code"]["coding"][0]["code"]: c["amount"] for c in invoice["totalPriceComponent"]}
    assert shares == {
        "covered-patient": {"value": 4900, "currency": "KRW"},
        "covered-insurer": {"value": 11430, "currency": "KRW"},
        "covered-full-self": {"value": 0, "currency": "KRW"},
        "non-covered": {"value": 20000, "currency": "KRW"},
        "paid": {"value": 24900, "currency": "KRW"},
    }
    assert all(isinstance(a["value"], int) for a in shares.values())
    assert {c["type"] for c in invoice["totalPriceComponent"]} == {"informational"}
    assert ext(invoice, fhir.ENCOUNTER_URL)["valueReference"] == {"reference": f"Encounter/{ENCOUNTER_ID}"}


def test_fee_line_is_charge_item(resources: dict[str, dict[str, Any]]) -> None:
    item = resources["fee_line"]
    assert item["status"] == "billed"
    assert item["code"] == {
        "coding": [{"system": "urn:emr-exporter:hira-edi-unspecified", "code": "AA154", "display": "초진진찰료-의원"}],
        "text": "초진진찰료-의원",
    }
    assert item["context"] == {"reference": f"Encounter/{ENCOUNTER_ID}"}
    assert item["occurrenceDateTime"] == "2024-03-05"
    assert item["quantity"] == {"value": 0.5}
    assert ext(item, fhir.RECEIPT_URL)["valueReference"] == {"reference": f"Invoice/{RECEIPT_ID}"}
    assert ext(item, fhir.FEE_CATEGORY_URL)["valueString"] == "진찰료"
    assert ext(item, fhir.FEE_DAYS_URL)["valueInteger"] == 1
    amounts = {e["url"]: e["valueMoney"] for e in ext(item, fhir.FEE_AMOUNTS_URL)["extension"]}
    assert amounts == {
        "unit-price": {"value": 18410, "currency": "KRW"},
        "total": {"value": 9205, "currency": "KRW"},
        "patient-share": {"value": 2760, "currency": "KRW"},
        "insurer-share": {"value": 6445, "currency": "KRW"},
        # not exactly representable as a JSON float: the exact text travels with it
        "non-covered": {
            "value": 0.12345678901234568,
            "_value": {"extension": [{"url": fhir.EXACT_DECIMAL_URL, "valueString": "0.1234567890123456789"}]},
            "currency": "KRW",
        },
    }


def test_decimal_element_rules() -> None:
    assert fhir.decimal_element("value", Decimal("12000")) == {"value": 12000}
    assert fhir.decimal_element("value", Decimal("12000.00")) == {"value": 12000}
    assert fhir.decimal_element("value", Decimal("-350")) == {"value": -350}
    assert fhir.decimal_element("value", Decimal("0.1")) == {"value": 0.1}
    assert fhir.decimal_element("value", Decimal("12345678901234567890")) == {"value": 12345678901234567890}
    with pytest.raises(ValueError):
        fhir.decimal_element("value", Decimal("NaN"))


def test_resource_types_of_entities() -> None:
    assert fhir.resource_type_of("patient") == "Patient"
    assert fhir.resource_type_of("diagnosis") == "Condition"
    assert fhir.resource_type_of("receipt") == "Invoice"
    assert fhir.resource_type_of("fee_line") == "ChargeItem"
    assert fhir.resource_type_of("chart_note") == "DocumentReference"
    assert fhir.resource_types_of("order_line") == ("MedicationRequest", "ServiceRequest")
    with pytest.raises(ValueError, match="resource_types_of"):
        fhir.resource_type_of("order_line")
    assert set(model.ENTITY_TYPES) <= set(fhir.RESOURCE_TYPES)


def test_unmappable_record_names_field_not_value(records: dict[str, Any]) -> None:
    bad = dataclasses.replace(records["diagnosis"], kcd_edition="KCD8 2021")
    with pytest.raises(MappingError) as caught:
        fhir.to_fhir(bad, institution=INSTITUTION)
    assert str(caught.value).startswith("Diagnosis from table 'DIAG' key 'V0001-1': kcd_edition: must look like kcd-7")
    assert "KCD8 2021" not in str(caught.value)
    assert caught.value.code == "mapping"

    bad_sex = dataclasses.replace(records["patient"], sex="M")
    with pytest.raises(MappingError, match="sex: is not one of") as caught:
        fhir.to_fhir(bad_sex, institution=INSTITUTION)
    assert RRN not in str(caught.value) and "홍길동" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "changes", "message"),
    [
        ("patient", {"chart_number": " "}, "chart_number: is empty"),
        ("doctor", {"name": ""}, "name: is empty"),
        ("certificate", {"kind": ""}, "kind: is empty"),
        ("drug", {"frequency": 0}, "frequency: must be at least once a day"),
        ("drug", {"edi_code": "6445 01820 "}, "edi_code: is not a usable code"),
        ("diagnosis", {"code": ""}, "code: is not a usable code"),
        ("fee_line", {"code": None, "name": None}, "code/name: a fee line needs a code or a name"),
        ("fee_line", {"total": Decimal("Infinity")}, "total: is not a finite amount"),
        (
            "procedure_order",
            {"edi_code": None, "local_code": None, "name": None},
            "an order line needs a code or a name",
        ),
        ("attachment_file", {"content": model.AttachmentContent(path="/nonexistent/scan.pdf")}, "content.path: "),
    ],
)
def test_records_fhir_cannot_hold_are_mapping_errors(
    records: dict[str, Any], name: str, changes: dict[str, Any], message: str
) -> None:
    bad = dataclasses.replace(records[name], **changes)
    with pytest.raises(MappingError, match=re.escape(message)) as caught:
        fhir.to_fhir(bad, institution=INSTITUTION)
    assert f"key {bad.provenance.key!r}" in str(caught.value)
    assert "/nonexistent" not in str(caught.value)


def test_validate_resource_names_type_and_path_without_value(resources: dict[str, dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(resources["patient"]))
    broken["birthDate"] = "1980-13-45"
    with pytest.raises(ValueError, match=rf"^Patient/{PATIENT_ID} is not valid FHIR: birthDate: ") as caught:
        fhir.validate_resource(broken)
    assert "1980-13-45" not in str(caught.value)
    assert RRN not in str(caught.value)

    extra = json.loads(json.dumps(resources["fee_line"]))
    extra["code"]["coding"][0]["colour"] = "red"
    with pytest.raises(ValueError, match=r"^ChargeItem/\w+ is not valid FHIR: code\.coding\.0\.colour: "):
        fhir.validate_resource(extra)

    with pytest.raises(ValueError, match=r"^Nonsense: not a FHIR resource type$"):
        fhir.validate_resource({"resourceType": "Nonsense"})
