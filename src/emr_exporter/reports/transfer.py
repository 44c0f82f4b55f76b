"""The transfer report (이관 보고서): a printable PDF, Korean or English, for the founder and the health centre.

It says what was handed over: institution, closing date, signer, bundle id and digests, counts per record
type and retention class, the patient roster count, the quarantined rows, document readiness and the upload
receipt number when there is one. It holds **no patient data**: counts, reason codes and digests only, so
no resident registration number can appear in it, masked or not.

PDF library: fpdf2 (pure Python, no native code, so it freezes into the PyInstaller app unchanged; embeds a
TrueType subset with a ToUnicode map, so Korean text prints and can be searched and extracted). Font:
NanumGothic, SIL Open Font License 1.1, shipped in ``resources/fonts/`` with its licence text.

After a sealed export the service writes ``<bundle>.summary.json`` (the report's inputs, no patient data)
next to the bundle, so ``emr-export report BUNDLE`` can print the report again later, in either language,
with the closing date or the upload receipt number added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from emr_exporter import __version__, model
from emr_exporter.errors import ConfigError
from emr_exporter.resources import resource_path

SUMMARY_SUFFIX = ".summary.json"
FONT_FAMILY = "NanumGothic"

ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "practitioner": ("의료인", "Practitioners"),
    "patient": ("환자", "Patients"),
    "encounter": ("내원", "Visits"),
    "diagnosis": ("상병", "Diagnoses"),
    "chart_note": ("진료기록", "Chart notes"),
    "order_line": ("처방·오더", "Orders and prescription lines"),
    "procedure": ("처치·수술", "Procedures"),
    "lab_result": ("검사결과", "Lab results"),
    "imaging_report": ("영상판독", "Imaging reports"),
    "certificate": ("제증명 부본", "Certificate copies"),
    "receipt": ("진료비 영수증", "Receipts"),
    "fee_line": ("세부산정내역", "Fee-statement lines"),
    "attachment": ("첨부(스캔·영상)", "Attachments"),
}
RETENTION_NAMES: dict[str, tuple[str, str]] = {
    "patient-roster": ("환자 명부", "Patient roster"),
    "medical-record": ("진료기록부", "Medical record"),
    "prescription": ("처방전", "Prescription"),
    "operation-record": ("수술기록", "Operation record"),
    "test-record": ("검사기록", "Test record"),
    "imaging": ("방사선 사진 및 소견서", "Imaging and reports"),
    "nursing-record": ("간호기록부", "Nursing record"),
    "certificate-copy": ("진단서 등 부본", "Certificate copies"),
    "claims-document": ("청구 서류", "Claims documents"),
}

LABELS: dict[str, dict[str, str]] = {
    "title": {"ko": "휴·폐업 의료기관 진료기록 이관 보고서",
              "en": "Transfer report: medical records of a closing clinic"},
    "institution": {"ko": "1. 의료기관", "en": "1. Institution"},
    "name": {"ko": "명칭", "en": "Name"},
    "code": {"ko": "요양기관기호", "en": "Institution code (요양기관기호)"},
    "address": {"ko": "주소", "en": "Address"},
    "founder": {"ko": "개설자", "en": "Founder"},
    "closing": {"ko": "휴·폐업일", "en": "Closing date"},
    "signer": {"ko": "서명 인증서", "en": "Signed by"},
    "bundle": {"ko": "2. 이관 파일", "en": "2. Bundle"},
    "bundle_id": {"ko": "번들 ID", "en": "Bundle id"},
    "file": {"ko": "파일", "en": "File"},
    "size": {"ko": "크기", "en": "Size"},
    "file_sha": {"ko": "파일 SHA-256", "en": "File SHA-256"},
    "bag_sha": {"ko": "내용(평문) SHA-256", "en": "Content (plaintext) SHA-256"},
    "created": {"ko": "생성 일시", "en": "Created"},
    "receipt": {"ko": "보관시스템 접수번호", "en": "Store receipt number"},
    "not_uploaded": {"ko": "아직 전송하지 않음", "en": "not uploaded yet"},
    "counts": {"ko": "3. 종류별 수량 (보존 구분)", "en": "3. Counts per record type and retention class"},
    "type": {"ko": "종류", "en": "Record type"},
    "retention": {"ko": "보존 구분 (연)", "en": "Retention (years)"},
    "source": {"ko": "원본", "en": "Source"},
    "exported": {"ko": "이관", "en": "Exported"},
    "quarantined": {"ko": "격리", "en": "Quarantined"},
    "total": {"ko": "합계", "en": "Total"},
    "balanced": {"ko": "원본 = 이관 + 격리: 모두 일치", "en": "Source = exported + quarantined: balanced"},
    "unbalanced": {"ko": "원본 = 이관 + 격리: 불일치 (확인 필요)",
                   "en": "Source = exported + quarantined: NOT balanced"},
    "roster": {"ko": "4. 환자 명부", "en": "4. Patient roster"},
    "roster_text": {"ko": "환자 명부에 {n}명 (번들 안 data/report/roster)",
                    "en": "{n} patients on the roster (inside the bundle: data/report/roster)"},
    "quarantine": {"ko": "5. 격리된 행 (원본 그대로 번들에 보관)",
                   "en": "5. Quarantined rows (kept verbatim in the bundle)"},
    "no_quarantine": {"ko": "없음", "en": "none"},
    "reason": {"ko": "사유", "en": "Reason"},
    "readiness": {"ko": "6. 발급 가능 서류", "en": "6. Document readiness"},
    "document": {"ko": "서류", "en": "Document"},
    "issuable": {"ko": "발급 가능 / 대상", "en": "Issuable / units"},
    "unconfirmed": {"ko": "(미확정)", "en": "(unconfirmed)"},
    "no_readiness": {"ko": "정보 없음", "en": "not available"},
    "privacy": {"ko": "이 보고서에는 환자 개인정보(주민등록번호 등)가 들어 있지 않습니다.",
                "en": "This report holds no patient data (no resident registration numbers)."},
    "software": {"ko": "작성", "en": "Made by"},
    "page": {"ko": "쪽", "en": "page"},
}


@dataclass
class TransferReport:
    """Everything the report shows. JSON-serialisable; holds no patient data."""

    institution_code: str
    institution_name: str
    created: str  # ISO 8601
    reconciliation: dict[str, Any]  # Reconciliation.to_dict()
    institution_address: str | None = None
    institution_founder: str | None = None
    closing_date: str | None = None
    signer: str | None = None
    bundle_id: str | None = None
    bundle_file: str | None = None
    bundle_bytes: int | None = None
    bundle_sha256: str | None = None
    bag_sha256: str | None = None
    readiness: dict[str, Any] | None = None  # Readiness.to_dict() (without chart numbers)
    receipt_number: str | None = None
    software: str = f"emr-exporter {__version__}"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> TransferReport:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def report_from_outcome(outcome: Any, **overrides: Any) -> TransferReport:
    """The report's inputs from a service ``ExportOutcome`` (sealed or dry run)."""
    institution: model.Institution = outcome.institution
    bundle_path = Path(outcome.bundle_path) if outcome.bundle_path is not None else None
    report = TransferReport(
        institution_code=institution.code,
        institution_name=institution.name,
        institution_address=institution.address,
        institution_founder=institution.founder,
        created=outcome.created.isoformat(),
        reconciliation=outcome.reconciliation.to_dict(),
        signer=outcome.extra.get("signer"),
        bundle_id=outcome.bundle_id,
        bundle_file=bundle_path.name if bundle_path else None,
        bundle_bytes=outcome.bundle_bytes,
        bundle_sha256=file_sha256(bundle_path) if bundle_path and bundle_path.is_file() else None,
        bag_sha256=outcome.bag_sha256,
        readiness=outcome.extra.get("readiness"),
    )
    for name, value in overrides.items():
        if value is not None:
            setattr(report, name, value)
    return report


def summary_path(bundle_path: Path) -> Path:
    return Path(bundle_path).with_name(Path(bundle_path).name + SUMMARY_SUFFIX)


def write_summary(outcome: Any) -> Path | None:
    """Write ``<bundle>.summary.json`` next to a sealed bundle (the report's inputs; no patient data)."""
    if outcome.bundle_path is None:
        return None
    path = summary_path(outcome.bundle_path)
    path.write_text(report_from_outcome(outcome).to_json() + "\n", encoding="utf-8")
    return path


def load_summary(bundle_path: Path) -> TransferReport:
    path = summary_path(bundle_path)
    try:
        report = TransferReport.from_json(path.read_text("utf-8"))
    except OSError:
        raise ConfigError(
            f"{path.name} is missing: it is written next to the bundle by the export. Copy it together "
            "with the bundle, or export again."
        ) from None
    except (ValueError, TypeError):
        raise ConfigError(f"{path.name} is damaged. Export again to recreate it.") from None
    bundle = Path(bundle_path)
    if bundle.is_file():
        actual = file_sha256(bundle)
        if report.bundle_sha256 and actual != report.bundle_sha256:
            raise ConfigError(f"{path.name} does not belong to {bundle.name} (its SHA-256 differs).")
        report.bundle_sha256 = actual
    return report


def receipt_number_beside(bundle_path: Path, report: TransferReport) -> str | None:
    """The receipt number of ``<bundle>.receipt.json`` (saved by `upload` after it verified the store's
    signature), if that receipt is for this very file (same bundle id and SHA-256)."""
    path = Path(bundle_path).with_name(Path(bundle_path).name + ".receipt.json")
    try:
        receipt = json.loads(path.read_text("utf-8"))["receipt"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if receipt.get("bundle_id") != report.bundle_id or receipt.get("sha256") != report.bundle_sha256:
        return None
    number = receipt.get("receipt_number")
    return str(number) if number else None


# --- the PDF ---------------------------------------------------------------------------------------------


def new_pdf(title: str) -> Any:
    """An A4 fpdf2 document with NanumGothic (regular and bold) embedded as subsets."""
    from fpdf import FPDF

    fonts = resource_path("fonts")
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator(f"emr-exporter {__version__}")
    pdf.set_producer("fpdf2")
    pdf.add_font(FONT_FAMILY, "", str(fonts / "NanumGothic.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(fonts / "NanumGothicBold.ttf"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_font(FONT_FAMILY, size=10)
    return pdf


def _retention_of(entity: str) -> model.RetentionClass | None:
    record_type = model.ENTITY_TYPES.get(entity)
    if record_type is None:
        return None
    default = record_type.__dataclass_fields__["retention"].default
    return default if isinstance(default, model.RetentionClass) else None


def _heading(pdf: Any, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, "B", 12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 10)


def _pairs(pdf: Any, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.cell(48, 6, label)
        pdf.set_font(FONT_FAMILY, "", 9)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: Any, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
    pdf.set_font(FONT_FAMILY, "", 9)
    with pdf.table(col_widths=widths, line_height=6, text_align="LEFT", first_row_as_headings=True) as table:
        for values in [header, *rows]:
            row = table.row()
            for value in values:
                row.cell(value)


def render_transfer_report(report: TransferReport, lang: str = "ko") -> bytes:
    """The transfer report as PDF bytes (``lang``: "ko" or "en")."""
    if lang not in ("ko", "en"):
        raise ConfigError("The report language must be 'ko' (한국어) or 'en' (English).")

    def t(key: str) -> str:
        return LABELS[key][lang]

    pick = 0 if lang == "ko" else 1
    pdf = new_pdf(t("title"))
    created = dt.datetime.fromisoformat(report.created)
    pdf.set_creation_date(created if created.tzinfo else created.replace(tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, "B", 15)
    pdf.multi_cell(0, 9, t("title"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 10)

    _heading(pdf, t("institution"))
    _pairs(pdf, [
        (t("name"), report.institution_name),
        (t("code"), report.institution_code),
        (t("address"), report.institution_address or "—"),
        (t("founder"), report.institution_founder or "—"),
        (t("closing"), report.closing_date or "—"),
        (t("signer"), report.signer or "—"),
    ])

    _heading(pdf, t("bundle"))
    _pairs(pdf, [
        (t("bundle_id"), report.bundle_id or "—"),
        (t("file"), report.bundle_file or "—"),
        (t("size"), f"{report.bundle_bytes:,} bytes" if report.bundle_bytes is not None else "—"),
        (t("file_sha"), report.bundle_sha256 or "—"),
        (t("bag_sha"), report.bag_sha256 or "—"),
        (t("created"), report.created),
        (t("receipt"), report.receipt_number or t("not_uploaded")),
    ])

    _heading(pdf, t("counts"))
    entities = report.reconciliation.get("entities", [])
    rows = []
    for entity in entities:
        name = ENTITY_NAMES.get(entity["entity"], (entity["entity"], entity["entity"]))[pick]
        retention = _retention_of(entity["entity"])
        retention_text = (
            f"{RETENTION_NAMES[retention.slug][pick]} ({retention.years})" if retention is not None else "—"
        )
        rows.append([name, retention_text, f"{entity['source_rows']:,}", f"{entity['exported']:,}",
                     f"{entity['quarantined']:,}"])
    totals = report.reconciliation.get("totals", {})
    rows.append([t("total"), "", f"{totals.get('source_rows', 0):,}", f"{totals.get('exported', 0):,}",
                 f"{totals.get('quarantined', 0):,}"])
    _table(pdf, [t("type"), t("retention"), t("source"), t("exported"), t("quarantined")], rows, (40, 52, 26, 26, 26))
    pdf.ln(1)
    pdf.cell(0, 6, t("balanced") if report.reconciliation.get("balanced") else t("unbalanced"),
             new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, t("roster"))
    patients = next((e["exported"] for e in entities if e["entity"] == "patient"), 0)
    pdf.cell(0, 6, t("roster_text").format(n=f"{patients:,}"), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, t("quarantine"))
    quarantine_rows = [
        [ENTITY_NAMES.get(e["entity"], (e["entity"], e["entity"]))[pick], code, f"{count:,}"]
        for e in entities for code, count in sorted(e.get("quarantine_reasons", {}).items())
    ]
    if quarantine_rows:
        _table(pdf, [t("type"), t("reason"), t("quarantined")], quarantine_rows, (50, 80, 40))
    else:
        pdf.cell(0, 6, t("no_quarantine"), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, t("readiness"))
    if report.readiness:
        doc_rows = []
        for entry in report.readiness.get("documents", []):
            title = entry["ko"] if lang == "ko" else entry["en"]
            if entry["status"] != "confirmed":
                title += " " + t("unconfirmed")
            unit = entry["unit_ko"] if lang == "ko" else entry["unit_en"]
            gaps = "\n".join(g["message_ko"] if lang == "ko" else g["message_en"] for g in entry["gaps"])
            doc_rows.append([title, f"{entry['issuable']:,} / {entry['candidates']:,} {unit}", gaps or "-"])
        _table(pdf, [t("document"), t("issuable"), ""], doc_rows, (52, 46, 72))
    else:
        pdf.cell(0, 6, t("no_readiness"), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.multi_cell(0, 5, f"{t('privacy')}\n{t('software')}: {report.software}", new_x="LMARGIN", new_y="NEXT")
    # fontTools reports the hinting tables it drops while subsetting; that is expected, not a problem.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return bytes(pdf.output())


def write_transfer_report(outcome_or_inputs: Any, path: Path, lang: str = "ko", **overrides: Any) -> Path:
    """Write the transfer report PDF to ``path``.

    ``outcome_or_inputs``: a service ``ExportOutcome`` or a :class:`TransferReport`. ``overrides`` set
    fields such as ``closing_date``, ``signer`` or ``receipt_number`` (None leaves a field as it is).
    """
    if isinstance(outcome_or_inputs, TransferReport):
        report = outcome_or_inputs
        for name, value in overrides.items():
            if value is not None:
                setattr(report, name, value)
    else:
        report = report_from_outcome(outcome_or_inputs, **overrides)
    data = render_transfer_report(report, lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


__all__ = [
    "TransferReport",
    "load_summary",
    "render_transfer_report",
    "report_from_outcome",
    "write_summary",
    "write_transfer_report",
]
