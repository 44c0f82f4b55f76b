"""The whole clinical record in FHIR: allergies, immunizations, vital signs, coverage, medication list,
lab reports, admissions — validated against the FHIR structure and the KR Core rules in krcore_rules.py,
with statuses from their own value sets and unknown source statuses kept as recorded."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.errors import MappingError
from emr_exporter.pipeline import fhir
from krcore_rules import assert_conforms, check_profiles

INSTITUTION = model.Institution(code="12345678", name="햇살의원")
PATIENT_ID = model.record_id("demo", "PT", "1")
VISIT_ID = model.record_id("demo", "VISIT", "1")
DOCTOR_ID = model.record_id("demo", "DOCTOR", "D1")
CLINICAL_TYPES = {model.Allergy, model.Immunization, model.VitalSigns, model.Coverage, model.MedicationStatement,
                  model.LabReport, model.Payment, model.Appointment}


def prov(table: str, key: str) -> model.Provenance:
    return model.Provenance("demo", table, key)


def one(record: Any) -> dict[str, Any]:
    (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
    assert_conforms(resource)
    return resource


def test_every_new_type_has_a_resource_type() -> None:
    assert set(model.ENTITY_TYPES.values()) >= CLINICAL_TYPES
    assert {fhir.resource_type_of(e) for e in ("allergy", "immunization", "vital_signs", "coverage",
                                                 "medication_statement", "lab_report", "payment", "appointment")} == {
        "AllergyIntolerance", "Immunization", "Observation", "Coverage", "MedicationStatement", "DiagnosticReport",
        "PaymentReconciliation", "Appointment"}
    assert model.ENTITY_ORDER.index("payment") > model.ENTITY_ORDER.index("receipt")
    # Parents before children: a lab report refers to its results.
    assert model.ENTITY_ORDER.index("lab_report") > model.ENTITY_ORDER.index("lab_result")


def test_drug_allergy_is_krcore_allergyintolerance() -> None:
    resource = one(model.Allergy(
        id="a1", provenance=prov("ALLERGY", "1"), patient_id=PATIENT_ID, substance="페니실린",
        substance_code="J01CE", substance_system="atc", category="medication", kind="allergy",
        criticality="high", clinical_status="active", verification_status="confirmed", reaction="두드러기, 호흡곤란",
        severity="severe", onset=dt.date(2019, 5, 2), recorded=dt.date(2020, 1, 3), recorder_id=DOCTOR_ID))
    assert resource["meta"]["profile"] == [fhir.PROFILE_ALLERGY]
    assert resource["code"] == {"coding": [{"system": fhir.ATC_SYSTEM, "code": "J01CE", "display": "페니실린"}],
                                "text": "페니실린"}
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert resource["reaction"] == [{"manifestation": [{"text": "두드러기, 호흡곤란"}], "severity": "severe"}]
    assert (resource["category"], resource["type"], resource["criticality"]) == (["medication"], "allergy", "high")
    assert resource["patient"]["reference"] == f"Patient/{PATIENT_ID}"


def test_allergy_without_code_or_status_claims_no_profile_and_guesses_nothing() -> None:
    resource = one(model.Allergy(id="a2", provenance=prov("ALLERGY", "2"), patient_id=PATIENT_ID, substance="조개"))
    assert "profile" not in resource["meta"]
    # ait-1 needs a clinicalStatus: it says "unknown" (data absent), not "active".
    assert resource["clinicalStatus"] == {"extension": [{"url": fhir.DATA_ABSENT_REASON_URL, "valueCode": "unknown"}]}
    erroneous = one(model.Allergy(id="a3", provenance=prov("ALLERGY", "3"), patient_id=PATIENT_ID, substance="조개",
                                  clinical_status="active", status="entered-in-error"))
    assert "clinicalStatus" not in erroneous  # ait-2
    assert erroneous["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def test_immunization_given_with_lot_site_dose_number() -> None:
    resource = one(model.Immunization(
        id="i1", provenance=prov("VACC", "1"), patient_id=PATIENT_ID, encounter_id=VISIT_ID,
        occurred=dt.date(2024, 10, 15), vaccine_code="35", vaccine_system="kdca", vaccine_name="인플루엔자 (IIV)",
        dose_number=1, lot_number="FLU24-0912", site="좌측 삼각근", route="IM", dose=Decimal("0.5"), dose_unit="mL",
        performer_id=DOCTOR_ID, manufacturer="가상백신"))
    assert resource["meta"]["profile"] == [fhir.PROFILE_IMMUNIZATION]
    assert resource["status"] == "completed"
    assert resource["vaccineCode"]["coding"] == [
        {"system": fhir.KRCORE_VACCINATION_SYSTEM, "code": "35", "display": "인플루엔자 (IIV)"}]
    assert (resource["lotNumber"], resource["site"], resource["route"]) == ("FLU24-0912", {"text": "좌측 삼각근"},
                                                                          {"text": "IM"})
    assert resource["protocolApplied"] == [{"doseNumberPositiveInt": 1}]
    assert resource["doseQuantity"] == {"value": 0.5, "unit": "mL", "system": fhir.UCUM_SYSTEM, "code": "mL"}
    assert resource["occurrenceDateTime"] == "2024-10-15"


def test_refused_immunization_is_not_done_with_its_reason() -> None:
    resource = one(model.Immunization(
        id="i2", provenance=prov("VACC", "2"), patient_id=PATIENT_ID, occurred=dt.date(2024, 10, 15),
        vaccine_code="140", vaccine_system="cvx", vaccine_name="Influenza", status="not-done",
        status_reason="보호자 거부", status_reason_code="PATOBJ"))
    assert "profile" not in resource["meta"]  # a CVX code is no 예방접종 유형 coding
    assert resource["status"] == "not-done"
    assert resource["statusReason"] == {
        "coding": [{"system": fhir.V3_ACTREASON_SYSTEM, "code": "PATOBJ", "display": "patient objection"}],
        "text": "보호자 거부"}


def test_a_status_no_value_set_code_reads_on_a_resource_with_no_unknown_keeps_the_record_with_its_usual_status() -> None:
    # Immunization, Invoice, Coverage and PaymentReconciliation have no 'unknown': the record stays in the chart with
    # the status of a record whose EMR keeps none, the value as recorded beside it on the resource (and its cell
    # carried raw as status-unread by the export), counted; never a guessed entered-in-error, not-done or cancelled.
    # Before 2026-12: MappingError ("the recorded status has no equivalent"), the row quarantined unmappable.
    records = {
        "Immunization": model.Immunization(id="i3", provenance=prov("VACC", "3"), patient_id=PATIENT_ID,
                                           occurred=dt.date(2024, 1, 1), vaccine_name="BCG", recorded_status="보류"),
        "Invoice": model.Receipt(id="r3", provenance=prov("RCPT", "3"), patient_id=PATIENT_ID,
                                 issued=dt.date(2024, 1, 1), recorded_status="보류"),
        "Coverage": model.Coverage(id="c3", provenance=prov("INS", "3"), patient_id=PATIENT_ID, payer_type="건강보험",
                                   recorded_status="보류"),
        "PaymentReconciliation": model.Payment(id="p3", provenance=prov("PAY", "3"), patient_id=PATIENT_ID,
                                               paid=dt.date(2023, 3, 5), amount=Decimal("1"), recorded_status="보류"),
        # a booking's 보류: booked (Appointment's value set has no unknown either)
        "Appointment": model.Appointment(id="a3", provenance=prov("RESV", "3"), patient_id=PATIENT_ID,
                                         start=dt.datetime(2024, 1, 1, 9, 30), recorded_status="보류"),
    }
    for resource_type, record in records.items():
        [resource] = [r for r in fhir.to_fhir(record, institution=INSTITUTION) if r["resourceType"] == resource_type]
        assert (resource["status"], resource["extension"][-1]) == (
            {"Immunization": "completed", "Invoice": "issued", "Appointment": "booked"}.get(resource_type, "active"),
            {"url": fhir.RECORDED_STATUS_URL, "valueString": "보류"}), resource_type
        assert fhir.status_kept_as_recorded(record) == "보류"


def vitals(**values: Any) -> model.VitalSigns:
    return model.VitalSigns(id="0" * 32, provenance=prov("VITAL", "1"), patient_id=PATIENT_ID,
                            encounter_id=VISIT_ID, observed=dt.datetime(2024, 3, 5, 9, 30), **values)


def test_vital_signs_one_observation_per_measurement_with_loinc_and_units_as_recorded() -> None:
    record = vitals(systolic=Decimal(128), diastolic=Decimal(82), bp_unit="mmHg", pulse=Decimal(72), pulse_unit="회/분",
                    temperature=Decimal("36.8"), temperature_unit="℃", weight=Decimal("68.4"), weight_unit="kg",
                    height=Decimal("171.2"), height_unit="cm", bmi=Decimal("23.3"), bmi_unit="kg/m2",
                    spo2=Decimal(98), spo2_unit="%", respiration=Decimal(18), respiration_unit="/min")
    resources = fhir.to_fhir(record, institution=INSTITUTION)
    for resource in resources:
        assert_conforms(resource)
    by_slug = {r["id"].rsplit("-", 1)[1]: r for r in resources}
    assert sorted(by_slug) == ["bmi", "bp", "height", "pulse", "resp", "spo2", "temp", "weight"]
    bp = by_slug["bp"]
    assert bp["meta"]["profile"] == [fhir.PROFILE_BLOOD_PRESSURE]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in bp["component"]] == [
        ("8480-6", {"value": 128, "unit": "mmHg", "system": fhir.UCUM_SYSTEM, "code": "mm[Hg]"}),
        ("8462-4", {"value": 82, "unit": "mmHg", "system": fhir.UCUM_SYSTEM, "code": "mm[Hg]"}),
    ]
    temp = by_slug["temp"]
    assert temp["code"]["coding"][0]["code"] == "8310-5"
    assert temp["valueQuantity"] == {"value": 36.8, "unit": "℃", "system": fhir.UCUM_SYSTEM, "code": "Cel"}
    assert temp["meta"]["profile"] == [fhir.VITAL_PROFILES["temperature"][0]]
    assert by_slug["pulse"]["valueQuantity"]["unit"] == "회/분"  # as recorded; UCUM /min beside it
    assert by_slug["bmi"]["meta"]["profile"] == [fhir.PROFILE_VITAL_SIGNS]
    assert {r["status"] for r in resources} == {"final"}
    assert {r["effectiveDateTime"] for r in resources} == {"2024-03-05T09:30:00+09:00"}


def test_vitals_in_other_units_keep_them_and_claim_no_specific_profile() -> None:
    resources = fhir.to_fhir(vitals(weight=Decimal(151), weight_unit="lb", temperature=Decimal("98.6"),
                                    temperature_unit="degF", pulse=Decimal(70)), institution=INSTITUTION)
    by_slug = {r["id"].rsplit("-", 1)[1]: r for r in resources}
    assert by_slug["weight"]["valueQuantity"] == {"value": 151, "unit": "lb", "system": fhir.UCUM_SYSTEM,
                                                  "code": "[lb_av]"}
    assert "profile" not in by_slug["weight"]["meta"] and "profile" not in by_slug["temp"]["meta"]
    assert by_slug["pulse"]["valueQuantity"] == {"value": 70}  # no unit recorded: none assumed
    for resource in resources:
        assert_conforms(resource)
    with pytest.raises(MappingError, match="at least one measurement"):
        fhir.to_fhir(vitals(), institution=INSTITUTION)


def test_coverage_periods_with_hira_insurance_types() -> None:
    medical_aid = one(model.Coverage(
        id="c1", provenance=prov("INS", "1"), patient_id=PATIENT_ID, payer_type="의료급여", payer_class="1종",
        payer_name="가상시청", insured_number="1234567890", relationship="self",
        valid_from=dt.date(2019, 1, 1), valid_to=dt.date(2021, 6, 30)))
    assert medical_aid["type"]["coding"][0] == {"system": fhir.HIRA_INSURANCE_TYPES_SYSTEM, "code": "5",
                                                "display": "의료급여"}
    assert medical_aid["class"][0]["value"] == "1종"
    assert medical_aid["period"] == {"start": "2019-01-01", "end": "2021-06-30"}
    assert medical_aid["relationship"]["coding"][0]["code"] == "self"
    assert medical_aid["payor"] == [{"display": "가상시청"}]
    assert medical_aid["status"] == "active"
    car = one(model.Coverage(id="c2", provenance=prov("INS", "2"), patient_id=PATIENT_ID, payer_type="자보",
                             relationship="배우자", status="cancelled"))
    assert car["type"] == {"coding": [{"system": fhir.PAYER_TYPE_SYSTEM, "code": "자보"}], "text": "자보"}
    assert car["relationship"] == {"text": "배우자"}  # no HL7 code: as recorded
    assert car["status"] == "cancelled"


def test_payments_are_payment_reconciliations_of_their_invoice() -> None:
    receipt_id = model.record_id("demo", "RCPT", "7")
    card = one(model.Payment(
        id="p1", provenance=prov("PAY", "1"), patient_id=PATIENT_ID, receipt_id=receipt_id,
        paid=dt.datetime(2023, 3, 4, 10, 5), amount=Decimal("12300"), method_text="신용카드", approval_number="30012345"))
    assert card["status"] == "active"
    assert (card["created"], card["paymentDate"]) == ("2023-03-04T10:05:00+09:00", "2023-03-04")
    assert card["paymentAmount"] == {"value": 12300, "currency": "KRW"}
    assert card["paymentIdentifier"] == {"type": {"text": "승인번호"}, "value": "30012345"}
    assert card["extension"] == [
        {"url": fhir.PATIENT_URL, "valueReference": {"reference": f"Patient/{PATIENT_ID}"}},
        {"url": fhir.PAYMENT_METHOD_URL, "valueCodeableConcept": {"coding": [
            {"system": fhir.PAYMENT_METHOD_SYSTEM, "code": "card", "display": "카드"}], "text": "신용카드"}}]
    assert card["detail"] == [{
        "type": {"coding": [{"system": fhir.PAYMENT_TYPE_SYSTEM, "code": "payment", "display": "Payment"}]},
        "request": {"reference": f"Invoice/{receipt_id}"},
        "payee": {"reference": f"Organization/{fhir.organization_id(INSTITUTION)}"},
        "amount": {"value": 12300, "currency": "KRW"}}]
    # a refund in cash with a 현금영수증 issued to a phone number; a method the clinic names its own way; none
    refund = one(model.Payment(id="p2", provenance=prov("PAY", "2"), patient_id=PATIENT_ID, paid=dt.date(2023, 3, 5),
                               amount=Decimal("-5000"), method_text="현금", cash_receipt_number="010-1234-5678"))
    assert refund["detail"][0]["type"]["coding"][0]["code"] == "adjustment" and "request" not in refund["detail"][0]
    assert refund["identifier"][0] == {"type": {"text": "현금영수증"}, "system": fhir.CASH_RECEIPT_SYSTEM,
                                       "value": "010-1234-5678"}
    assert [fhir.payment_method(t) for t in ("체크 카드", "CASH", "현금영수증", "무통장입금", "포인트", " ", None)] == [
        "card", "cash", "cash-receipt", "transfer", "other", None, None]
    coded = one(model.Payment(id="p3", provenance=prov("PAY", "3"), patient_id=PATIENT_ID, paid=dt.date(2023, 3, 5),
                              amount=Decimal("1"), method="transfer", status="cancelled"))
    assert coded["status"] == "cancelled"
    assert coded["extension"][1]["valueCodeableConcept"] == {"coding": [
        {"system": fhir.PAYMENT_METHOD_SYSTEM, "code": "transfer", "display": "계좌이체"}]}
    assert "paymentIdentifier" not in coded
    with pytest.raises(MappingError):
        fhir.to_fhir(model.Payment(id="p4", provenance=prov("PAY", "4"), patient_id=PATIENT_ID,
                                   paid=dt.date(2023, 3, 5), amount=Decimal("1"), method="voucher"),
                     institution=INSTITUTION)
    # no equivalent in the value set, which has no unknown: the usual status, the value as recorded beside it
    # (was: MappingError, quarantined)
    unread = one(model.Payment(id="p5", provenance=prov("PAY", "5"), patient_id=PATIENT_ID,
                               paid=dt.date(2023, 3, 5), amount=Decimal("1"), recorded_status="X"))
    assert (unread["status"], unread["extension"][-1]["valueString"]) == ("active", "X")
    # the 신분확인번호 on paper
    assert [model.mask_id(v) for v in ("800101-1234567", "8001011234567", "01012345678", "02-123-4567", "A1")] == [
        "800101-1******", "800101-1******", "010-****-5678", "02-***-4567", "A1"]


def test_a_refund_receipt_links_to_the_receipt_it_cancels() -> None:
    cancelled = model.record_id("demo", "RCPT", "20")
    invoice = one(model.Receipt(id="r21", provenance=prov("RCPT", "21"), patient_id=PATIENT_ID,
                                issued=dt.date(2023, 3, 5), paid=Decimal("-12300"), cancels_id=cancelled))
    assert invoice["extension"] == [{"url": fhir.RECEIPT_CANCELS_URL,
                                     "valueReference": {"reference": f"Invoice/{cancelled}"}}]


def test_medication_statement_and_statuses() -> None:
    taking = one(model.MedicationStatement(
        id="m1", provenance=prov("MED", "1"), patient_id=PATIENT_ID, name="가상암로디핀정5mg", edi_code="645303080",
        dosage="1정 1일 1회", started=dt.date(2020, 2, 1), status="active"))
    assert taking["status"] == "active"
    assert taking["dosage"] == [{"text": "1정 1일 1회"}]
    assert taking["effectivePeriod"] == {"start": "2020-02-01"}
    unknown = one(model.MedicationStatement(id="m2", provenance=prov("MED", "2"), patient_id=PATIENT_ID,
                                            name="한약", recorded_status="X9"))
    assert unknown["status"] == "unknown"
    assert {"url": fhir.RECORDED_STATUS_URL, "valueString": "X9"} in unknown["extension"]
    assert fhir.status_kept_as_recorded(
        model.MedicationStatement(id="m2", provenance=prov("MED", "2"), patient_id=PATIENT_ID, recorded_status="X9"))


def test_lab_report_groups_its_results() -> None:
    results = tuple(model.record_id("demo", "LAB_RSLT", str(n)) for n in (3, 4))
    report = one(model.LabReport(
        id="r1", provenance=prov("LAB_RPT", "1"), patient_id=PATIENT_ID, encounter_id=VISIT_ID,
        effective=dt.datetime(2024, 3, 5, 9, 0), issued=dt.datetime(2024, 3, 6, 10, 0), code="LP01",
        name="일반혈액검사", result_ids=results, status="corrected"))
    assert report["meta"]["profile"] == [fhir.PROFILE_LAB_REPORT]
    assert report["status"] == "corrected"
    assert report["result"] == [{"reference": f"Observation/{r}"} for r in results]
    assert report["issued"] == "2024-03-06T10:00:00+09:00"
    assert report["category"][0]["coding"][0]["code"] == "LAB"


def test_lab_result_statuses_pass_through_and_unknown_is_counted() -> None:
    base = {"provenance": prov("LAB", "1"), "patient_id": PATIENT_ID, "observed": dt.date(2024, 1, 1), "name": "Hb"}
    for status in ("registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error"):
        assert one(model.LabResult(id="l1", status=status, **base))["status"] == status
    odd = one(model.LabResult(id="l1", recorded_status="incomplete", **base))
    assert odd["status"] == "unknown"


def test_order_statuses_use_each_resource_value_set() -> None:
    base = {"provenance": prov("ORD", "1"), "patient_id": PATIENT_ID, "ordered": dt.date(2024, 1, 1), "name": "x"}
    for status in ("active", "on-hold", "stopped", "completed", "entered-in-error"):
        drug = one(model.OrderLine(id="o1", code_type="drug", status=status, **base))
        assert drug["status"] == status
    assert one(model.OrderLine(id="o1", code_type="procedure", status="stopped", **base))["status"] == "revoked"
    assert one(model.OrderLine(id="o1", code_type="drug", recorded_status="??", **base))["status"] == "unknown"


def test_admission_discharge_and_chief_complaint_on_the_encounter() -> None:
    resource = one(model.Encounter(
        id="e1", provenance=prov("VISIT", "1"), patient_id=PATIENT_ID, start=dt.date(2024, 3, 1),
        end=dt.date(2024, 3, 5), kind="inpatient", reason="복통", admitted_from="응급실", discharge_disposition="home"))
    assert resource["hospitalization"] == {
        "admitSource": {"text": "응급실"},
        "dischargeDisposition": {"coding": [{"system": fhir.DISCHARGE_DISPOSITION_SYSTEM, "code": "home",
                                             "display": "Home"}], "text": "Home"},
    }
    assert resource["reasonCode"] == [{"text": "복통"}]
    assert resource["status"] == "finished"
    transferred = one(model.Encounter(id="e2", provenance=prov("VISIT", "2"), patient_id=PATIENT_ID,
                                      start=dt.date(2024, 3, 1), kind="inpatient", discharge_disposition="전원(요양병원)"))
    assert transferred["hospitalization"]["dischargeDisposition"] == {"text": "전원(요양병원)"}


def test_surgery_and_nursing_records_keep_their_retention_classes() -> None:
    operation = model.ProcedureRecord(id="p1", provenance=prov("PROC", "1"), patient_id=PATIENT_ID,
                                      performed=dt.date(2024, 1, 1), name="피지낭종 절제술", is_operation=True)
    assert operation.retention is model.RetentionClass.OPERATION_RECORD and operation.retention.years == 10
    assert one(operation)["meta"]["tag"][0]["code"] == "operation-record"
    nursing = model.ChartNote(id="n1", provenance=prov("NURSE", "1"), patient_id=PATIENT_ID,
                              recorded=dt.datetime(2024, 1, 1, 8), course="활력징후 안정", nursing=True)
    assert nursing.retention is model.RetentionClass.NURSING_RECORD and nursing.retention.years == 5
    resource = one(nursing)
    assert resource["type"]["coding"][0]["code"] == "34746-8"
    assert resource["meta"]["tag"][0]["code"] == "nursing-record"


def test_profile_rules_catch_a_resource_that_breaks_them() -> None:
    resource = one(model.Immunization(id="i1", provenance=prov("VACC", "1"), patient_id=PATIENT_ID,
                                      occurred=dt.date(2024, 1, 1), vaccine_code="35", vaccine_system="kdca"))
    broken = {**resource, "vaccineCode": {"text": "flu"}}
    assert check_profiles(broken) == ["krcore-immunization: vaccineCode.coding[VcntType] 1..* from krcore-vcnt-types"]


def test_a_diagnosis_written_only_as_text_is_a_condition_of_that_text_and_no_code() -> None:
    # OpenMRS's diagnosis_non_coded, a Korean EMR's 상병명 typed in without a code: was impossible (model.Diagnosis.code
    # was required: every such row quarantined). Condition.code is a CodeableConcept that may hold its text alone.
    record = model.Diagnosis(id="dx-text", provenance=prov("DIAG", "7"), patient_id=PATIENT_ID, encounter_id=VISIT_ID,
                             text="원인 미상의 어지럼증", kcd_edition="kcd-8", recorded=dt.date(2024, 3, 11))
    assert one(record) == {
        "resourceType": "Condition", "id": "dx-text",
        "meta": {"tag": [{"system": "urn:emr-exporter:retention", "code": "medical-record", "display": "10 years"}]},
        "identifier": [{"use": "secondary", "system": "urn:emr-exporter:source:demo:DIAG", "value": "7"}],
        "extension": [{"url": fhir.PRIMARY_DIAGNOSIS_URL, "valueBoolean": False}],
        "category": [{"coding": [
            {"system": fhir.KRCORE_CONDITION_CATEGORY_SYSTEM, "code": "진단"},
            {"system": fhir.CONDITION_CATEGORY_SYSTEM, "code": "encounter-diagnosis",
             "display": "Encounter Diagnosis"}]}],
        "code": {"text": "원인 미상의 어지럼증"},  # no coding: no code made from the text, no KCD system claimed
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "encounter": {"reference": f"Encounter/{VISIT_ID}"},
        "recordedDate": "2024-03-11"}
    # the further codes recorded with it are still codings
    with_other = one(dataclasses.replace(record, other_codes=("ICD10:R42",)))
    assert with_other["code"] == {"coding": [{"system": fhir.RECORDED_CODE_SYSTEM, "code": "ICD10:R42"}],
                                  "text": "원인 미상의 어지럼증"}
    # neither code nor text: no diagnosis (the mapper quarantines such a row first, as required-missing)
    with pytest.raises(MappingError, match="code"):
        fhir.to_fhir(dataclasses.replace(record, text=None), institution=INSTITUTION)


def test_a_problem_list_entry_is_a_problem_list_item_with_its_abatement() -> None:
    # 문제목록/주요병력 (model.Diagnosis.problem_list): category problem-list-item alone, never encounter-diagnosis;
    # 해결일 the abatementDateTime, and with no status recorded the clinicalStatus resolved (con-4)
    record = model.Diagnosis(id="pl1", provenance=prov("PROBLEMS", "3"), patient_id=PATIENT_ID, text="본태성 고혈압",
                             code="I10", problem_list=True, onset=dt.date(2019, 5, 1), abatement=dt.date(2024, 6, 2))
    resource = one(record)
    assert resource["category"] == [{"coding": [{"system": fhir.CONDITION_CATEGORY_SYSTEM,
                                                 "code": "problem-list-item", "display": "Problem List Item"}]}]
    assert (resource["onsetDateTime"], resource["abatementDateTime"]) == ("2019-05-01", "2024-06-02")
    assert resource["clinicalStatus"]["coding"][0]["code"] == "resolved" and "encounter" not in resource
    assert one(dataclasses.replace(record, status="inactive"))["clinicalStatus"]["coding"][0]["code"] == "inactive"
    active = one(dataclasses.replace(record, abatement=None, status="active"))
    assert active["clinicalStatus"]["coding"][0]["code"] == "active" and "abatementDateTime" not in active
    # still active beside a resolution date: a contradiction, the row kept raw (never a resolved guessed over it)
    with pytest.raises(MappingError, match="abatement"):
        fhir.to_fhir(dataclasses.replace(record, status="active"), institution=INSTITUTION)


def _condition_invariants(resource: dict[str, Any]) -> list[str]:
    """The R4 Condition rules broken: con-4 (abated: clinicalStatus inactive, resolved or remission), con-5
    (verificationStatus entered-in-error: no clinicalStatus)."""
    clinical = {c["code"] for c in resource.get("clinicalStatus", {}).get("coding", [])
                if c["system"] == fhir.CONDITION_CLINICAL_SYSTEM}
    erroneous = any(c["system"] == fhir.CONDITION_VERIFICATION_SYSTEM and c["code"] == "entered-in-error"
                    for c in resource.get("verificationStatus", {}).get("coding", []))
    broken = []
    if any(k.startswith("abatement") for k in resource) and not clinical & {"inactive", "resolved", "remission"}:
        broken.append("con-4")
    if erroneous and "clinicalStatus" in resource:
        broken.append("con-5")
    return broken


@pytest.mark.parametrize(("status", "verification"), [
    ("entered-in-error", None), (None, "entered-in-error"), ("active", "entered-in-error"),
    ("resolved", "entered-in-error")])
def test_a_problem_entered_in_error_keeps_the_condition_invariants(status: str | None, verification: str | None) -> None:
    # A problem marked entered in error (its status 오류/삭제, or its certainty) that also has a 해결일: con-5 allows
    # no clinicalStatus, and con-4 then allows no abatement. Before: abatementDateTime beside no clinicalStatus
    # (con-4 broken), or clinicalStatus beside verificationStatus entered-in-error (con-5 broken). The date and
    # the status stay in the bag: not in FHIR, their cells are carried raw (the cell check finds no leaf).
    record = model.Diagnosis(id="pl2", provenance=prov("PROBLEMS", "4"), patient_id=PATIENT_ID, text="본태성 고혈압",
                             code="I10", problem_list=True, abatement=dt.date(2024, 6, 2), status=status,
                             verification=verification)
    resource = one(record)
    assert _condition_invariants(resource) == []
    assert resource["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in resource and "abatementDateTime" not in resource
    # a visit's diagnosis entered in error with a status: the same rule (con-5)
    visit = one(dataclasses.replace(record, problem_list=False, abatement=None, status="active",
                                    verification="entered-in-error"))
    assert _condition_invariants(visit) == [] and "clinicalStatus" not in visit


@pytest.mark.parametrize("compiled", [True, False])
def test_a_diagnosis_row_with_neither_code_nor_text_is_required_missing(compiled: bool, tmp_path: Path) -> None:
    # the fused record build (mapper._compile_record) and the two-step one (_build) alike
    from emr_exporter.connectors import load_connector
    from emr_exporter.connectors.mapper import EntityMapper

    folder = tmp_path / "connectors" / "dx"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text("""
[connector]
name = "dx"
version = "1"

[entities.diagnosis]
table = "DIAG"
key = "DX_NO"

[entities.diagnosis.fields]
patient_id = { column = "PT_NO", required = true }
code = "KCD_CD"
text = "DIAG_NM"
""", encoding="utf-8")
    spec = load_connector("dx", [tmp_path / "connectors"])
    mapper = EntityMapper(spec, spec.entities["diagnosis"], attachments_root=None, quarantined_keys={}, hook=None)
    assert mapper._compiled_record is not None
    if not compiled:
        mapper._compiled_record = None
    made = [mapper.map_row({"dx_no": n, "pt_no": "P1", "kcd_cd": code, "diag_nm": name})
            for n, code, name in ((1, "J00", "급성 비인두염"), (2, None, "원인 미상의 어지럼증"), (3, None, None))]
    assert [(r.code, r.text) for r in made[:2] if isinstance(r, model.Diagnosis)] == [
        ("J00", "급성 비인두염"), (None, "원인 미상의 어지럼증")]
    assert isinstance(made[2], model.QuarantinedRow)
    assert (made[2].reason_code, made[2].reason) == ("required-missing", "required field 'code' or 'text' is empty")
