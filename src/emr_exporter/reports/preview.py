"""Render a portal document from an opened bag's FHIR data as PDF (store side / audit).

Proof that the data suffices: the page is laid out after the standard form (진료비 계산서·영수증, NHI benefit
rules form 6; 진단서, Enforcement Rule form 5-2; 통원확인서) and filled only from ``data/fhir/*.ndjson``.
The bag is read line by line, a few passes per document; only the chosen patient's resources are kept.
Every page says it is a preview, not an issued document. The RRN is shown masked (``800101-1******``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.errors import ConfigError
from emr_exporter.pipeline import fhir
from emr_exporter.reports.transfer import FONT_FAMILY, new_pdf

PREVIEW_DOCUMENTS = ("receipt", "diagnosis-certificate", "outpatient-confirmation")
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
        return [r for r in self._resources(resource_type) if _ref_id(r.get("subject")) == self.patient_id]

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


def _page(pdf: Any, title: str) -> None:
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.cell(0, 5, PREVIEW_MARK, align="R", new_x="LMARGIN", new_y="NEXT")
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


def _render_receipts(pdf: Any, view: BagView) -> int:
    invoices = sorted(view.of_patient("Invoice"), key=lambda r: r.get("date", ""))
    encounters = {e["id"]: e for e in view.of_patient("Encounter")}
    lines: dict[str, list[dict[str, Any]]] = {}
    for item in view.of_patient("ChargeItem"):
        invoice_id = _ref_id((_extension(item, fhir.RECEIPT_URL) or {}).get("valueReference"))
        if invoice_id:
            lines.setdefault(invoice_id, []).append(item)
    for invoice in invoices:
        encounter = encounters.get(_ref_id((_extension(invoice, fhir.ENCOUNTER_URL) or {}).get("valueReference")) or "")
        encounter = encounter or {}
        components = {
            c["code"]["coding"][0]["code"]: c["amount"]["value"] for c in invoice.get("totalPriceComponent", [])
        }
        _page(pdf, "진료비 계산서·영수증")
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
        _footer(pdf, view, str(invoice.get("date", "")))
    return len(invoices)


def _licence(practitioner: dict[str, Any]) -> str:
    for qualification in practitioner.get("qualification", []):
        kind = (qualification.get("code") or {}).get("text", "")
        number = next((i.get("value") for i in qualification.get("identifier", [])), None)
        if number:
            return f"{kind} 면허번호 제{number}호".strip()
    return "면허번호 (기록 없음)"


def _render_diagnosis_certificates(pdf: Any, view: BagView) -> int:
    by_encounter: dict[str, list[dict[str, Any]]] = {}
    for condition in view.of_patient("Condition"):
        encounter_id = _ref_id(condition.get("encounter"))
        if encounter_id:
            by_encounter.setdefault(encounter_id, []).append(condition)
    encounters = sorted(
        (e for e in view.of_patient("Encounter") if e["id"] in by_encounter),
        key=lambda e: e.get("period", {}).get("start", ""),
    )
    for encounter in encounters:
        start = str(encounter.get("period", {}).get("start", ""))[:10]
        _page(pdf, "진 단 서")
        address = (view.patient.get("address") or [{}])[0].get("text", "")
        _grid(pdf, [
            ["환자등록번호", "성명", "주민등록번호", "성별"],
            [_identifier(view.patient, ":chart-number") or "", view.name, view.rrn_masked,
             {"male": "남", "female": "여"}.get(view.patient.get("gender", ""), "")],
            ["주소", address, "진단일", start],
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
    encounters = sorted(view.of_patient("Encounter"), key=lambda e: e.get("period", {}).get("start", ""))
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


_RENDERERS = {
    "receipt": _render_receipts,
    "diagnosis-certificate": _render_diagnosis_certificates,
    "outpatient-confirmation": _render_outpatient_confirmation,
}


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
    return any(_ref_id(resource.get(name)) == patient_id for name in ("subject", "patient"))


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
    count = renderer(pdf, view)
    if count == 0:
        raise ConfigError(f"The patient {chart_number} has no data for a '{document}' in this bundle.")
    import logging

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return bytes(pdf.output()), count


__all__ = ["PREVIEW_DOCUMENTS", "BagView", "collect_patient_from_bundle", "render_preview"]
