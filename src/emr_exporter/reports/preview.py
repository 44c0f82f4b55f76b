"""Render a portal document from an opened bag's FHIR data as PDF (store side / audit).

Proof that the data suffices: each of the 12 documents the operating notice names is laid out after its
standard form (진료기록부 사본, Enforcement Rule art. 14; 진단서 form 5-2; 상해진단서 form 5-3; 처방전 form 9;
진료비 계산서·영수증, NHI benefit rules form 6; 진료비 세부산정내역; 입퇴원확인서, 통원확인서, 진료확인서;
사망진단서, 사산증명서 and 후유장애진단서 as their kept copies) and filled only from ``data/fhir/*.ndjson``.
The bag is read line by line, a few passes per document; only the chosen patient's resources are kept.
Every page says it is a preview, not an issued document. The RRN is shown masked (``800101-1******``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.errors import ConfigError
from emr_exporter.pipeline import fhir
from emr_exporter.reports.previewable import PREVIEW_DOCUMENTS
from emr_exporter.reports.transfer import FONT_FAMILY, new_pdf

PREVIEW_MARK = "미리보기 (PREVIEW) - 발급 문서 아님 / not an issued document"


def _resources(bag_dir: Path, resource_type: str) -> Iterator[dict[str, Any]]:
    for path in sorted((bag_dir / "data" / "fhir").glob(f"{resource_type}.*.ndjson")):
        with path.open("r", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def _ref_id(reference: dict[str, Any] | None) -> str | None:
    if not reference or "reference" not in reference:
        return None
    return str(reference["reference"]).rsplit("/", 1)[-1]


def _extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in resource.get("extension", []) if e.get("url") == url), None)


def _identifier(resource: dict[str, Any], system_part: str) -> str | None:
    return next((i["value"] for i in resource.get("identifier", []) if system_part in i.get("system", "")), None)


def _won(value: Any) -> str:
    if value is None:
        return ""
    return f"{int(float(value)):,}"


ResourceSource = Callable[[str], Iterable[dict[str, Any]]]


def _is_patient(resource: dict[str, Any], chart_number: str) -> bool:
    return _identifier(resource, ":chart-number") == chart_number


#: Where a resource names its patient (AllergyIntolerance and Immunization: patient; Coverage: beneficiary).
_PATIENT_ELEMENTS = ("subject", "patient", "beneficiary")


def _patient_of(resource: dict[str, Any]) -> str | None:
    for name in _PATIENT_ELEMENTS:
        found = _ref_id(resource.get(name))
        if found:
            return found
    # PaymentReconciliation (수납결제): R4 has no patient element, the payer is an extension
    return _ref_id((_extension(resource, fhir.PATIENT_URL) or {}).get("valueReference"))


def _current(resource: dict[str, Any]) -> bool:
    """A record the EMR marked as erroneous is in the bundle, but no document is issued from it."""
    if resource.get("status") == "entered-in-error":
        return False
    codings = (resource.get("verificationStatus") or {}).get("coding") or []
    return not any(c.get("code") == "entered-in-error" for c in codings)


def _given(resource: dict[str, Any]) -> bool:
    """A visit, treatment or order that happened: not planned, cancelled, in preparation, not done nor a draft
    (model.NOT_DONE_STATUSES); before, a planned treatment or a cancelled visit was listed as given."""
    return resource.get("status") not in model.NOT_DONE_STATUSES


class BagView:
    """The resources of one patient, from an opened bag folder or collected from a bundle in memory."""

    def __init__(self, resources: ResourceSource | Path, chart_number: str) -> None:
        if isinstance(resources, Path):
            bag_dir = resources
            if not (bag_dir / "data" / "fhir").is_dir():
                raise ConfigError(f"{bag_dir} is not an opened bundle (it has no data/fhir folder).")
            resources = lambda resource_type: _resources(bag_dir, resource_type)  # noqa: E731
        self._resources = resources
        patient = next((p for p in resources("Patient") if _is_patient(p, chart_number)), None)
        if patient is None:
            raise ConfigError(f"No patient with chart number {chart_number} is in this bundle.")
        self.patient: dict[str, Any] = patient
        self.organization = next(iter(resources("Organization")), {})
        self.patient_id = self.patient["id"]

    def of_patient(self, resource_type: str) -> list[dict[str, Any]]:
        """The patient's resources of one type, leaving out the ones the EMR marked as erroneous."""
        return [r for r in self._resources(resource_type) if _patient_of(r) == self.patient_id and _current(r)]

    def practitioner(self, practitioner_id: str | None) -> dict[str, Any]:
        if practitioner_id is None:
            return {}
        return next((p for p in self._resources("Practitioner") if p["id"] == practitioner_id), {})

    @property
    def name(self) -> str:
        return str(self.patient.get("name", [{}])[0].get("text", ""))

    @property
    def rrn_masked(self) -> str:
        return model.mask_rrn(_identifier(self.patient, fhir.RRN_SYSTEM))

    @property
    def institution(self) -> tuple[str, str, str]:
        org = self.organization
        address = (org.get("address") or [{}])[0].get("text", "")
        return str(org.get("name", "")), str(_identifier(org, "hira-krnpi") or ""), str(address)


def _grid(pdf: Any, rows: list[list[str]], widths: tuple[int, ...], heading: bool = False) -> None:
    with pdf.table(col_widths=widths, line_height=7, text_align="CENTER", first_row_as_headings=heading) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)


def _mark(pdf: Any) -> None:
    """Every page, also the ones a long document breaks onto, says it is a preview."""
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.cell(0, 5, PREVIEW_MARK, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 9)


def _page(pdf: Any, title: str) -> None:
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, "B", 16)
    pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 9)


def _footer(pdf: Any, view: BagView, when: str, doctor: str | None = None) -> None:
    name, code, address = view.institution
    pdf.ln(4)
    pdf.cell(0, 6, f"발행일 {when}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"요양기관 명칭: {name}   요양기관기호: {code}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"주소: {address}", new_x="LMARGIN", new_y="NEXT")
    if doctor:
        pdf.cell(0, 6, doctor, new_x="LMARGIN", new_y="NEXT")


def _receipt_title(title: str, invoice: dict[str, Any], cancelled: frozenset[str] = frozenset()) -> str:
    """A receipt the clinic cancelled (취소: Invoice.status cancelled, or a refund receipt names it as the one it
    cancels: ``cancelled``) is drawn so, never as one still paid."""
    return f"{title} (취소된 수납)" if invoice.get("status") == "cancelled" or invoice["id"] in cancelled else title


def _cancelled_ids(invoices: Iterable[dict[str, Any]]) -> frozenset[str]:
    """The receipts a refund or cancel receipt names as the one it cancels (Invoice extension cancels)."""
    return frozenset(filter(None, (_ref_id((_extension(i, fhir.RECEIPT_CANCELS_URL) or {}).get("valueReference"))
                                   for i in invoices)))


#: The 납부한 금액 lines of the receipt form (별지 제6호서식): a payment's method (PAYMENT_METHOD_SYSTEM) → its line;
#: cash or a transfer with a 현금영수증 number counts as 현금영수증; any other method only in 합계.
_PAID_LINES = {"card": "카드", "cash-receipt": "현금영수증", "cash": "현금", "transfer": "현금"}


def _paid_by_method(payments: list[dict[str, Any]]) -> tuple[dict[str, float], list[str]]:
    """The receipt's payments summed per 납부한 금액 line (카드, 현금영수증, 현금, 합계), and the 현금영수증 lines
    (신분확인번호 masked, 승인번호) to print."""
    sums = dict.fromkeys(("카드", "현금영수증", "현금", "합계"), 0.0)
    cash_receipts: list[str] = []
    for payment in payments:
        amount = float(payment["paymentAmount"]["value"])
        method = next((c.get("code") for c in ((_extension(payment, fhir.PAYMENT_METHOD_URL) or {}).get(
            "valueCodeableConcept") or {}).get("coding", []) if c.get("system") == fhir.PAYMENT_METHOD_SYSTEM), None)
        number = _identifier(payment, fhir.CASH_RECEIPT_SYSTEM)
        line = _PAID_LINES.get(method or "")
        if line == "현금" and number:
            line = "현금영수증"
        if line:
            sums[line] += amount
        sums["합계"] += amount
        approval = (payment.get("paymentIdentifier") or {}).get("value")
        if line == "현금영수증" and (number or approval):
            parts = [f"현금영수증 신분확인번호: {model.mask_id(number)}"] if number else []
            parts += [f"현금승인번호: {approval}"] if approval else []
            cash_receipts.append("   ".join(parts))
    return sums, list(dict.fromkeys(cash_receipts))


def _render_receipts(pdf: Any, view: BagView) -> int:
    invoices = sorted(view.of_patient("Invoice"), key=lambda r: r.get("date", ""))
    encounters = {e["id"]: e for e in view.of_patient("Encounter")}
    lines: dict[str, list[dict[str, Any]]] = {}
    for item in view.of_patient("ChargeItem"):
        invoice_id = _ref_id((_extension(item, fhir.RECEIPT_URL) or {}).get("valueReference"))
        if invoice_id:
            lines.setdefault(invoice_id, []).append(item)
    payments: dict[str, list[dict[str, Any]]] = {}
    for payment in view.of_patient("PaymentReconciliation"):
        for detail in payment.get("detail", []):
            invoice_id = _ref_id(detail.get("request"))
            if invoice_id:
                payments.setdefault(invoice_id, []).append(payment)
    cancelled = _cancelled_ids(invoices)
    for invoice in invoices:
        encounter = encounters.get(_ref_id((_extension(invoice, fhir.ENCOUNTER_URL) or {}).get("valueReference")) or "")
        encounter = encounter or {}
        components = {
            c["code"]["coding"][0]["code"]: c["amount"]["value"] for c in invoice.get("totalPriceComponent", [])
        }
        _page(pdf, _receipt_title("진료비 계산서·영수증", invoice, cancelled))
        io_class = "입원" if (encounter.get("class") or {}).get("code") == "IMP" else "외래"
        period = encounter.get("period", {})
        _grid(pdf, [
            ["환자등록번호", "환자 성명", "진료기간", "야간(공휴일)진료"],
            [_identifier(view.patient, ":chart-number") or "", view.name,
             f"{period.get('start', invoice.get('date', ''))[:10]} ~ {str(period.get('end', ''))[:10]}",
             "O" if (_extension(encounter, fhir.NIGHT_OR_HOLIDAY_URL) or {}).get("valueBoolean") else ""],
            ["진료과목", "환자구분", "영수증번호", f"{io_class}"],
            [str((encounter.get("serviceType") or {}).get("text", "")),
             str((encounter.get("type") or [{}])[0].get("text", "")),
             _identifier(invoice, ":receipt-number") or "", ""],
        ], (40, 45, 55, 34))
        pdf.ln(3)
        rows = [["항목", "본인부담금", "공단부담금", "전액본인부담", "비급여"]]
        per_category: dict[str, list[float]] = {}
        for item in lines.get(invoice["id"], []):
            category = (_extension(item, fhir.FEE_CATEGORY_URL) or {}).get("valueString", "기타")
            amounts = {
                a["url"]: a["valueMoney"]["value"]
                for a in (_extension(item, fhir.FEE_AMOUNTS_URL) or {}).get("extension", [])
            }
            sums = per_category.setdefault(category, [0.0, 0.0, 0.0])
            sums[0] += float(amounts.get("patient-share", 0))
            sums[1] += float(amounts.get("insurer-share", 0))
            sums[2] += float(amounts.get("non-covered", 0))
        for category, (own, insurer, non_covered) in per_category.items():
            rows.append([category, _won(own), _won(insurer), "", _won(non_covered)])
        rows.append([
            "합계", _won(components.get("covered-patient")),
            _won(components.get("covered-insurer")) if "covered-insurer" in components else "(기록 없음)",
            _won(components.get("covered-full-self")), _won(components.get("non-covered")),
        ])
        _grid(pdf, rows, (44, 34, 34, 32, 30), heading=True)
        pdf.ln(3)
        total = (invoice.get("totalGross") or {}).get("value")
        patient_parts = ("covered-patient", "covered-full-self", "non-covered")
        patient_total = sum(float(components.get(k, 0)) for k in patient_parts)
        _grid(pdf, [
            ["진료비 총액", "환자부담 총액", "납부한 금액"],
            [_won(total), _won(patient_total), _won(components.get("paid"))],
        ], (58, 58, 58), heading=True)
        if invoice["id"] in payments:  # how it was paid (수납결제): the form's 납부한 금액 lines
            paid_sums, cash_receipts = _paid_by_method(payments[invoice["id"]])
            known = any(k in components for k in patient_parts)
            pdf.ln(3)
            _grid(pdf, [
                ["납부한 금액: 카드", "현금영수증", "현금", "합계", "납부하지 않은 금액"],
                [*(_won(v) for v in paid_sums.values()), _won(patient_total - paid_sums["합계"]) if known else ""],
            ], (38, 34, 34, 34, 34), heading=True)
            for text in cash_receipts:
                pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        _footer(pdf, view, str(invoice.get("date", "")))
    return len(invoices)


def _licence(practitioner: dict[str, Any]) -> str:
    for qualification in practitioner.get("qualification", []):
        kind = (qualification.get("code") or {}).get("text", "")
        number = next((i.get("value") for i in qualification.get("identifier", [])), None)
        if number:
            return f"{kind} 면허번호 제{number}호".strip()
    return "면허번호 (기록 없음)"


def _payer(encounter: dict[str, Any]) -> str:
    return str((encounter.get("type") or [{}])[0].get("text", ""))


def _problem_list_item(condition: dict[str, Any]) -> bool:
    return any(coding.get("code") == "problem-list-item" for category in condition.get("category", [])
               for coding in category.get("coding", []))


def _conditions_by_encounter(view: BagView) -> dict[str, list[dict[str, Any]]]:
    """Each visit's diagnoses; a problem-list entry (category problem-list-item: the patient's, not a visit's, even
    where it names the visit it was noted in) is none of them."""
    by_encounter: dict[str, list[dict[str, Any]]] = {}
    for condition in view.of_patient("Condition"):
        encounter_id = _ref_id(condition.get("encounter"))
        if encounter_id and not _problem_list_item(condition):
            by_encounter.setdefault(encounter_id, []).append(condition)
    return by_encounter


def _start(resource: dict[str, Any]) -> str:
    return str(resource.get("period", {}).get("start", ""))[:10]


def _kcd(condition: dict[str, Any]) -> str:
    coding = (condition.get("code", {}).get("coding") or [{}])[0]
    return str(coding.get("code", ""))


def _render_diagnosis_certificates(
    pdf: Any, view: BagView, title: str = "진 단 서", payers: frozenset[str] | None = None
) -> int:
    by_encounter = _conditions_by_encounter(view)
    encounters = sorted(
        (e for e in view.of_patient("Encounter")
         if e["id"] in by_encounter and (payers is None or _payer(e) in payers)),
        key=_start,
    )
    for encounter in encounters:
        start = _start(encounter)
        _page(pdf, title)
        address = (view.patient.get("address") or [{}])[0].get("text", "")
        _grid(pdf, [
            ["환자등록번호", "성명", "주민등록번호", "성별"],
            [_identifier(view.patient, ":chart-number") or "", view.name, view.rrn_masked,
             {"male": "남", "female": "여"}.get(view.patient.get("gender", ""), "")],
            ["주소", address, "진단일", start],
            *([["환자구분", _payer(encounter), "", ""]] if payers is not None else []),
        ], (34, 56, 46, 38))
        pdf.ln(3)
        rows = [["병명", "KCD 코드", "발병일"]]
        for condition in by_encounter[encounter["id"]]:
            coding = (condition.get("code", {}).get("coding") or [{}])[0]
            edition = str(coding.get("system", "")).rsplit("/", 1)[-1]
            rows.append([
                str(condition.get("code", {}).get("text", "")),
                f"{coding.get('code', '')} ({edition})",
                str(condition.get("onsetDateTime", ""))[:10],
            ])
        _grid(pdf, rows, (90, 50, 34), heading=True)
        practitioner = view.practitioner(_ref_id(((encounter.get("participant") or [{}])[0]).get("individual")))
        doctor_name = (practitioner.get("name") or [{}])[0].get("text", "(기록 없음)")
        _footer(pdf, view, start, f"의사 성명: {doctor_name}   {_licence(practitioner)}")
    return len(encounters)


def _render_outpatient_confirmation(pdf: Any, view: BagView) -> int:
    encounters = sorted(filter(_given, view.of_patient("Encounter")),
                        key=lambda e: e.get("period", {}).get("start", ""))
    if not encounters:
        return 0
    _page(pdf, "통 원 확 인 서")
    _grid(pdf, [
        ["환자등록번호", "성명", "생년월일", "성별"],
        [_identifier(view.patient, ":chart-number") or "", view.name, str(view.patient.get("birthDate", "")),
         {"male": "남", "female": "여"}.get(view.patient.get("gender", ""), "")],
    ], (40, 50, 44, 40))
    pdf.ln(3)
    rows = [["통원일", "진료과목", "환자구분"]]
    for encounter in encounters:
        rows.append([
            str(encounter.get("period", {}).get("start", ""))[:10],
            str((encounter.get("serviceType") or {}).get("text", "")),
            str((encounter.get("type") or [{}])[0].get("text", "")),
        ])
    _grid(pdf, rows, (60, 60, 54), heading=True)
    pdf.ln(2)
    pdf.cell(0, 6, f"위 환자는 상기 기간 중 본원에서 {len(encounters)}회 통원 치료를 받았음을 확인합니다.",
             new_x="LMARGIN", new_y="NEXT")
    last = str(encounters[-1].get("period", {}).get("start", ""))[:10]
    _footer(pdf, view, last)
    return 1


# --- the clinical documents ----------------------------------------------------------------------------

INJURY_PAYERS = frozenset({"자보", "산재"})


def _text(pdf: Any, text: str, size: int = 9) -> None:
    pdf.set_font(FONT_FAMILY, "", size)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def _bold(pdf: Any, text: str) -> None:
    pdf.set_font(FONT_FAMILY, "B", 10)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 9)


def _sections(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, text) of every section a DocumentReference carries inline (chart-note sections, copies)."""
    found = []
    for content in document.get("content", []):
        attachment = content.get("attachment", {})
        if "data" in attachment:
            found.append((str(attachment.get("title", "")), base64.b64decode(attachment["data"]).decode("utf-8")))
    return found


def _category(document: dict[str, Any]) -> str:
    return str(((document.get("category") or [{}])[0].get("coding") or [{}])[0].get("code", ""))


def _patient_grid(pdf: Any, view: BagView, with_rrn: bool = True) -> None:
    address = (view.patient.get("address") or [{}])[0].get("text", "")
    sex = {"male": "남", "female": "여"}.get(view.patient.get("gender", ""), "")
    rows = [["환자등록번호", "성명", "주민등록번호" if with_rrn else "생년월일", "성별"],
            [_identifier(view.patient, ":chart-number") or "", view.name,
             view.rrn_masked if with_rrn else str(view.patient.get("birthDate", "")), sex]]
    if with_rrn:
        rows.append(["주소", address, "생년월일", str(view.patient.get("birthDate", ""))])
    _grid(pdf, rows, (34, 56, 46, 38))
    pdf.ln(3)


def _doctor_line(view: BagView, practitioner_id: str | None) -> str:
    practitioner = view.practitioner(practitioner_id)
    name = (practitioner.get("name") or [{}])[0].get("text", "(기록 없음)")
    return f"의사 성명: {name}   {_licence(practitioner)}"


def _quantity(quantity: dict[str, Any] | None) -> str:
    if not quantity or "value" not in quantity:
        return ""
    exact = ((quantity.get("_value") or {}).get("extension") or [{}])[0].get("valueString")
    value = exact if exact is not None else quantity["value"]
    return f"{quantity.get('comparator', '')}{value} {quantity.get('unit', '')}".strip()


def _absent(part: dict[str, Any]) -> str:
    """Why a measurement has no value, as recorded ('측정 안 함'), else the reason's code ('(unknown)'); '' if none."""
    reason = part.get("dataAbsentReason")
    if not isinstance(reason, dict):
        return ""
    return str(reason.get("text") or f"({((reason.get('coding') or [{}])[0]).get('code', '')})")


def _vital_line(observations: list[dict[str, Any]]) -> str:
    parts = []
    for observation in sorted(observations, key=lambda o: o["id"]):
        name = str(observation.get("code", {}).get("text", ""))
        if observation.get("component") and "valueQuantity" not in observation:
            values = "/".join(str(c.get("valueQuantity", {}).get("value", "")) or _absent(c)
                              for c in observation["component"])
            unit = (observation["component"][0].get("valueQuantity") or {}).get("unit", "")
            parts.append(f"혈압 {values} {unit}".strip())
        else:
            parts.append(f"{name} {_quantity(observation.get('valueQuantity')) or _absent(observation)}")
    return ", ".join(parts)


def _by_encounter(resources: Iterable[dict[str, Any]], element: str = "encounter") -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        reference = resource.get(element)
        if element == "context" and isinstance(reference, dict) and "encounter" in reference:
            reference = (reference.get("encounter") or [{}])[0]
        encounter_id = _ref_id(reference if isinstance(reference, dict) else None)
        if encounter_id:
            grouped.setdefault(encounter_id, []).append(resource)
    return grouped


def _render_medical_record_copy(pdf: Any, view: BagView) -> int:
    """진료기록부 사본: the patient, allergies and immunizations, then every visit with its chart notes
    (주호소, 현병력, 경과, 계획), diagnoses, vital signs and orders."""
    encounters = sorted(view.of_patient("Encounter"), key=_start)
    documents = [d for d in view.of_patient("DocumentReference") if _category(d) == "chart-note"]
    allergies = view.of_patient("AllergyIntolerance")
    immunizations = sorted(view.of_patient("Immunization"), key=lambda i: str(i.get("occurrenceDateTime", "")))
    if not encounters and not documents and not allergies and not immunizations:
        return 0  # (a record of vaccinations or allergies alone is still a copy to give)
    _page(pdf, "진 료 기 록 부 (사본)")
    _patient_grid(pdf, view)
    if allergies:
        _bold(pdf, "알레르기·부작용")
        for allergy in allergies:
            reaction = ", ".join(
                m.get("text", "") for r in allergy.get("reaction", []) for m in r.get("manifestation", [])
            )
            status = ((allergy.get("clinicalStatus") or {}).get("coding") or [{}])[0].get("code", "기록 없음")
            _text(pdf, f"- {allergy.get('code', {}).get('text', '')}: {reaction} ({status})")
    if immunizations:
        _bold(pdf, "예방접종")
        for immunization in immunizations:
            given = "접종" if immunization.get("status") == "completed" else "미접종"
            lot = f" 로트 {immunization['lotNumber']}" if immunization.get("lotNumber") else ""
            reason = (immunization.get("statusReason") or {}).get("text")
            # the 차수 as recorded (a number is written N차), and a vaccination given elsewhere says so
            applied = (immunization.get("protocolApplied") or [{}])[0]
            number = applied.get("doseNumberPositiveInt")
            dose = f" {number}차" if number is not None else (
                f" {applied['doseNumberString']}" if "doseNumberString" in applied else "")
            origin = (immunization.get("reportOrigin") or {}).get("text")
            elsewhere = "" if immunization.get("primarySource", True) else (
                f" (타기관 접종: {origin})" if origin else " (타기관 접종)")
            _text(pdf, f"- {str(immunization.get('occurrenceDateTime', ''))[:10]} "
                       f"{immunization.get('vaccineCode', {}).get('text', '')} {given}{lot}{dose}{elsewhere}"
                       + (f" ({reason})" if reason else ""))
    notes = _by_encounter(documents, "context")
    conditions = _conditions_by_encounter(view)
    vitals = _by_encounter(o for o in view.of_patient("Observation")
                           if any(c.get("code") == "vital-signs" for cat in o.get("category", [])
                                  for c in cat.get("coding", [])))
    orders = _by_encounter([*view.of_patient("MedicationRequest"), *view.of_patient("ServiceRequest")])
    for encounter in encounters:
        pdf.ln(2)
        kind = "입원" if (encounter.get("class") or {}).get("code") == "IMP" else "외래"
        department = (encounter.get("serviceType") or {}).get("text", "")
        doctor = _ref_id(((encounter.get("participant") or [{}])[0]).get("individual"))
        _bold(pdf, f"내원일 {_start(encounter)} ({kind}) {department}  {_doctor_line(view, doctor)}")
        if encounter.get("reasonCode"):
            _text(pdf, f"주소증: {encounter['reasonCode'][0].get('text', '')}")
        for note in notes.get(encounter["id"], []):
            for title, text in _sections(note):
                _text(pdf, f"{title}: {text}")
        for condition in conditions.get(encounter["id"], []):
            _text(pdf, f"상병: {_kcd(condition)} {condition.get('code', {}).get('text', '')}")
        if vitals.get(encounter["id"]):
            _text(pdf, f"활력징후: {_vital_line(vitals[encounter['id']])}")
        names = [str((o.get("medicationCodeableConcept") or o.get("code") or {}).get("text", ""))
                 for o in orders.get(encounter["id"], [])]
        if names:
            _text(pdf, "처방·처치: " + ", ".join(n for n in names if n))
    _footer(pdf, view, _start(encounters[-1]) if encounters else "")
    return 1


def _render_injury_certificates(pdf: Any, view: BagView) -> int:
    return _render_diagnosis_certificates(pdf, view, "상 해 진 단 서", INJURY_PAYERS)


def _render_kept_copies(kinds: tuple[str, ...]) -> Callable[[Any, BagView], int]:
    """Documents the model cannot compose (사망진단서 …): the kept copy (부본), verbatim, one page each."""

    def render(pdf: Any, view: BagView) -> int:
        copies = sorted(
            (d for d in view.of_patient("DocumentReference")
             if _category(d) == "certificate" and (d.get("type") or {}).get("text", "").strip() in kinds),
            key=lambda d: str((d.get("context") or {}).get("period", {}).get("start", "")),
        )
        for copy in copies:
            kind = str(copy["type"]["text"])
            _page(pdf, f"{kind} (부본)")
            number = _identifier(copy, ":certificate-number") or "(기록 없음)"
            _grid(pdf, [["발급번호", "환자 성명", "환자등록번호"],
                        [number, view.name, _identifier(view.patient, ":chart-number") or ""]], (58, 58, 58))
            pdf.ln(3)
            for _title, text in _sections(copy):
                _text(pdf, text, 10)
            issued = str((copy.get("context") or {}).get("period", {}).get("start", ""))[:10]
            author = _ref_id((copy.get("author") or [{}])[0])
            _footer(pdf, view, issued, _doctor_line(view, author))
        return len(copies)

    return render


def _dose_parts(request: dict[str, Any]) -> tuple[str, str, str]:
    dosage = (request.get("dosageInstruction") or [{}])[0]
    dose = _quantity(((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity"))
    frequency = (dosage.get("timing") or {}).get("repeat", {}).get("frequency", "")
    days = ((request.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {}).get("value", "")
    return dose, str(frequency), str(days)


def _render_prescriptions(pdf: Any, view: BagView) -> int:
    """처방전 (form 9): the outside-prescription drug lines of a visit."""
    lines = _by_encounter(
        r for r in view.of_patient("MedicationRequest")
        if (_extension(r, fhir.OUTSIDE_PRESCRIPTION_URL) or {}).get("valueBoolean")
    )
    encounters = sorted((e for e in view.of_patient("Encounter") if e["id"] in lines), key=_start)
    conditions = _conditions_by_encounter(view)
    name, code, _address = view.institution
    phone = ((view.organization.get("telecom") or [{}])[0]).get("value", "")
    for encounter in encounters:
        _page(pdf, "처 방 전")
        _grid(pdf, [["교부 연월일", "환자 성명", "주민등록번호", "요양기관기호"],
                    [_start(encounter), view.name, view.rrn_masked, code]], (44, 44, 46, 40))
        pdf.ln(2)
        _grid(pdf, [["의료기관 명칭", "전화번호", "질병분류기호"],
                    [name, str(phone), ", ".join(_kcd(c) for c in conditions.get(encounter["id"], []))]],
              (64, 46, 64))
        pdf.ln(3)
        rows = [["처방 의약품의 명칭", "1회 투약량", "1일 투여횟수", "총 투약일수"]]
        prescriber = None
        for request in lines[encounter["id"]]:
            dose, frequency, days = _dose_parts(request)
            rows.append([str(request.get("medicationCodeableConcept", {}).get("text", "")), dose, frequency, days])
            prescriber = prescriber or _ref_id(request.get("requester"))
        _grid(pdf, rows, (80, 32, 32, 30), heading=True)
        _footer(pdf, view, _start(encounter), _doctor_line(view, prescriber))
    return len(encounters)


def _render_fee_statements(pdf: Any, view: BagView) -> int:
    """진료비 세부산정내역: every line of a receipt (항목, 코드, 명칭, 금액, 본인·공단부담, 비급여)."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for item in view.of_patient("ChargeItem"):
        invoice_id = _ref_id((_extension(item, fhir.RECEIPT_URL) or {}).get("valueReference"))
        if invoice_id:
            lines.setdefault(invoice_id, []).append(item)
    every = view.of_patient("Invoice")
    cancelled = _cancelled_ids(every)
    invoices = sorted((i for i in every if i["id"] in lines), key=lambda r: r.get("date", ""))
    for invoice in invoices:
        _page(pdf, _receipt_title("진료비 세부산정내역", invoice, cancelled))
        _grid(pdf, [["환자등록번호", "환자 성명", "영수증번호", "진료일"],
                    [_identifier(view.patient, ":chart-number") or "", view.name,
                     _identifier(invoice, ":receipt-number") or "", str(invoice.get("date", ""))]], (40, 45, 55, 34))
        pdf.ln(3)
        rows = [["항목", "코드", "명칭", "금액", "본인부담", "공단부담", "비급여"]]
        for item in lines[invoice["id"]]:
            amounts = {a["url"]: a["valueMoney"]["value"]
                       for a in (_extension(item, fhir.FEE_AMOUNTS_URL) or {}).get("extension", [])}
            coding = (item.get("code", {}).get("coding") or [{}])[0]
            rows.append([
                str((_extension(item, fhir.FEE_CATEGORY_URL) or {}).get("valueString", "")),
                str(coding.get("code", "")), str(item.get("code", {}).get("text", "")), _won(amounts.get("total")),
                _won(amounts.get("patient-share")), _won(amounts.get("insurer-share")),
                _won(amounts.get("non-covered")),
            ])
        _grid(pdf, rows, (24, 20, 46, 22, 22, 22, 18), heading=True)
        _footer(pdf, view, str(invoice.get("date", "")))
    return len(invoices)


def _render_admission_confirmations(pdf: Any, view: BagView) -> int:
    """입퇴원확인서: each inpatient stay with its dates, diagnoses and how it ended."""
    stays = sorted((e for e in view.of_patient("Encounter") if (e.get("class") or {}).get("code") == "IMP"),
                   key=_start)
    conditions = _conditions_by_encounter(view)
    for stay in stays:
        _page(pdf, "입 퇴 원 확 인 서")
        _patient_grid(pdf, view)
        hospitalization = stay.get("hospitalization") or {}
        _grid(pdf, [["입원일", "퇴원일", "입원 경로", "퇴원 형태"],
                    [_start(stay), str(stay.get("period", {}).get("end", ""))[:10],
                     str((hospitalization.get("admitSource") or {}).get("text", "")),
                     str((hospitalization.get("dischargeDisposition") or {}).get("text", ""))]], (40, 40, 46, 48))
        pdf.ln(3)
        rows = [["병명", "KCD 코드"]]
        rows += [[str(c.get("code", {}).get("text", "")), _kcd(c)] for c in conditions.get(stay["id"], [])]
        _grid(pdf, rows, (120, 54), heading=True)
        pdf.ln(2)
        _text(pdf, "위 환자는 상기 기간 중 본원에 입원하여 치료를 받았음을 확인합니다.")
        doctor = _ref_id(((stay.get("participant") or [{}])[0]).get("individual"))
        _footer(pdf, view, str(stay.get("period", {}).get("end", _start(stay)))[:10], _doctor_line(view, doctor))
    return len(stays)


def _render_treatment_confirmation(pdf: Any, view: BagView) -> int:
    """진료확인서: every visit with its diagnoses and the treatments given."""
    encounters = sorted(filter(_given, view.of_patient("Encounter")), key=_start)
    if not encounters:
        return 0
    conditions = _conditions_by_encounter(view)
    treatments = _by_encounter(filter(_given, [
        *view.of_patient("Procedure"), *view.of_patient("MedicationRequest"), *view.of_patient("ServiceRequest"),
        *view.of_patient("Immunization")]))
    _page(pdf, "진 료 확 인 서")
    _patient_grid(pdf, view, with_rrn=False)
    rows = [["진료일", "상병", "진료 내용"]]
    for encounter in encounters:
        names = []
        for treatment in treatments.get(encounter["id"], []):
            concept = (treatment.get("code") or treatment.get("medicationCodeableConcept")
                       or treatment.get("vaccineCode") or {})
            if concept.get("text"):
                names.append(str(concept["text"]))
        rows.append([_start(encounter), ", ".join(_kcd(c) for c in conditions.get(encounter["id"], [])),
                     ", ".join(names)])
    _grid(pdf, rows, (30, 40, 104), heading=True)
    pdf.ln(2)
    _text(pdf, f"위 환자는 상기와 같이 본원에서 {len(encounters)}회 진료를 받았음을 확인합니다.")
    _footer(pdf, view, _start(encounters[-1]))
    return 1


_RENDERERS: dict[str, Callable[[Any, BagView], int]] = {
    "medical-record-copy": _render_medical_record_copy,
    "diagnosis-certificate": _render_diagnosis_certificates,
    "injury-certificate": _render_injury_certificates,
    "death-certificate": _render_kept_copies(("사망진단서", "시체검안서")),
    "stillbirth-certificate": _render_kept_copies(("사산증명서", "사태증명서")),
    "prescription": _render_prescriptions,
    "receipt": _render_receipts,
    "fee-statement": _render_fee_statements,
    "residual-disability-certificate": _render_kept_copies(("후유장애진단서",)),
    "admission-confirmation": _render_admission_confirmations,
    "outpatient-confirmation": _render_outpatient_confirmation,
    "treatment-confirmation": _render_treatment_confirmation,
}
assert tuple(_RENDERERS) == PREVIEW_DOCUMENTS


def _fhir_lines(rel: str, chunks: Iterator[bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource type, resource) of an NDJSON payload file streamed out of a bundle."""
    if not (rel.startswith("data/fhir/") and rel.endswith(".ndjson")):
        return
    resource_type = rel[len("data/fhir/"):].split(".", 1)[0]
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield resource_type, json.loads(line)
    if pending.strip():
        yield resource_type, json.loads(pending)


def _references_patient(resource: dict[str, Any], patient_id: str) -> bool:
    return any(_ref_id(resource.get(name)) == patient_id for name in _PATIENT_ELEMENTS)


def collect_patient_from_bundle(
    bundle: Path, store_key: Any, chart_number: str, trust_anchors: list[Any] | None = None
) -> BagView:
    """The patient's resources from a sealed bundle, decrypted in memory only (never onto the disk).

    Two streaming passes over the verified bundle: the first finds the patient's id, the second keeps
    that patient's resources plus the institution and the practitioners. Each pass verifies every layer
    (:func:`~emr_exporter.bundle.reader.stream_bag`) before anything it collected is used.
    """
    from emr_exporter.bundle.reader import stream_bag

    found: list[str] = []

    def find_patient(rel: str, chunks: Iterator[bytes]) -> None:
        if rel.startswith("data/fhir/Patient."):
            found.extend(r["id"] for _, r in _fhir_lines(rel, chunks) if _is_patient(r, chart_number))

    stream_bag(bundle, store_key, find_patient, trust_anchors)
    if not found:
        raise ConfigError(f"No patient with chart number {chart_number} is in this bundle.")
    patient_id = found[0]
    kept: dict[str, list[dict[str, Any]]] = {}

    def keep_patient(rel: str, chunks: Iterator[bytes]) -> None:
        for resource_type, resource in _fhir_lines(rel, chunks):
            if (resource_type in ("Organization", "Practitioner") or resource.get("id") == patient_id
                    or _references_patient(resource, patient_id)):
                kept.setdefault(resource_type, []).append(resource)

    stream_bag(bundle, store_key, keep_patient, trust_anchors)
    return BagView(lambda resource_type: kept.get(resource_type, []), chart_number)


def render_preview(source: Path | BagView, chart_number: str, document: str) -> tuple[bytes, int]:
    """(PDF bytes, number of documents on it) for one patient of an opened bag folder or a BagView."""
    renderer = _RENDERERS.get(document)
    if renderer is None:
        raise ConfigError(
            f"A preview of '{document}' cannot be drawn yet. Previews exist for: {', '.join(PREVIEW_DOCUMENTS)}."
        )
    view = source if isinstance(source, BagView) else BagView(Path(source), chart_number)
    pdf = new_pdf(f"preview {document}")
    pdf.header = lambda: _mark(pdf)  # fpdf2 calls header() at every page start
    count = renderer(pdf, view)
    if count == 0:
        raise ConfigError(f"The patient {chart_number} has no data for a '{document}' in this bundle.")
    import logging

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return bytes(pdf.output()), count


__all__ = ["PREVIEW_DOCUMENTS", "BagView", "collect_patient_from_bundle", "render_preview"]
