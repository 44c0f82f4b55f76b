"""The transfer report as a health centre (보건소) receives it: page 1 carries what an officer checks, every
code is a Korean name with advice, times are KST, pages are numbered, a demo can never pass for a real one,
and `report` keeps what the wizard knew without overwriting anything unasked."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.jobs.report import write_report_for_outcome
from emr_exporter.jobs.service import DemoRequest, ExportOutcome, run_demo
from emr_exporter.reports.transfer import (
    GAP_ADVICE,
    QUARANTINE_REASONS,
    TransferReport,
    load_summary,
    render_transfer_report,
    report_from_outcome,
)

PRINTED = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)  # 2 December, 08:30 in Seoul


def pages(data: bytes | Path) -> list[str]:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return [page.extract_text() for page in pypdf.PdfReader(source).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> ExportOutcome:
    return run_demo(DemoRequest(out_dir=tmp_path_factory.mktemp("hc-demo"), patients=40))


@pytest.fixture
def bundle_copy(sealed: ExportOutcome, tmp_path: Path) -> Path:
    """The sealed bundle and its summary in a private folder (tests write reports beside it)."""
    assert sealed.bundle_path is not None
    bundle = tmp_path / sealed.bundle_path.name
    shutil.copy(sealed.bundle_path, bundle)
    summary = sealed.bundle_path.with_name(sealed.bundle_path.name + ".summary.json")
    shutil.copy(summary, bundle.with_name(summary.name))
    return bundle


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_no_raw_reason_code_and_no_utc_time(sealed: ExportOutcome, lang: str) -> None:
    report = report_from_outcome(sealed, closing_date="2026-06-30")
    text = "\n".join(pages(render_transfer_report(report, lang, printed=PRINTED)))
    codes = {c for e in sealed.reconciliation.entities for c in e.reasons}
    assert {"orphan", "bad-encoding", "path-outside-root", "duplicate"} <= codes  # the demo plants them
    for code in codes:
        assert code in QUARANTINE_REASONS, f"no Korean name for {code}"
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text), code
    for utc in ("UTC", "GMT", "+00:00", "Z\n"):
        assert utc not in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)
    assert not re.search(r"\b2026-06-30\b", text)  # dates read as people write them
    if lang == "ko":
        assert "인쇄: 2026년 12월 2일 08:30 (한국 시각)" in text
        assert "휴·폐업일 2026년 6월 30일" in text
        assert "격리" not in text  # the wizard's word is 별도 보관
    else:
        assert "Printed: 2 December 2026, 08:30 KST".replace(",", "") in text.replace(",", "")
        assert "Closing date 30 June 2026" in text


def test_page_one_has_what_the_officer_checks_and_a_signature_block(sealed: ExportOutcome) -> None:
    report = report_from_outcome(sealed, closing_date="2026-06-30", custodian="김보관",
                                 custodian_contact="010-1234-5678", receipt_number="R-20261202-0001")
    first, *rest = pages(render_transfer_report(report, "ko", printed=PRINTED))
    patients = next(e for e in sealed.reconciliation.entities if e.entity == "patient")
    totals, every = sealed.reconciliation.totals, sealed.reconciliation.row_totals
    for line in (
        f"의료기관 명칭 {sealed.institution.name}", f"요양기관기호 {sealed.institution.code}",
        f"개설자 {sealed.institution.founder}", "휴·폐업일 2026년 6월 30일", "보관 책임자 김보관",
        "연락처 010-1234-5678", "보관시스템 접수번호 R-20261202-0001",
        f"환자 수 {patients.source_rows:,}명 = 환자 명부 {patients.exported:,}명 + 별도 보관 {patients.quarantined:,}명",
        f"원본 {every['source_rows']:,}건 = 이관 {every['exported']:,}건 + 원본 그대로 이관 {every['carried']:,}건 + "
        f"별도 보관 {every['quarantined']:,}건 — 모두 일치",
        "위와 같이 진료기록을 진료기록보관시스템으로 이관하였음을 확인합니다.",
        f"개설자 {sealed.institution.founder} (서명 또는 인)", "보관 책임자 김보관 (서명 또는 인)", "관할 보건소장 귀하",
        f"별도 보관된 기록 {totals['quarantined']:,}건",
    ):
        assert line in first, line
    assert "아직 보관시스템에 전송하지 않았습니다" not in first  # it has a receipt number
    assert patients.source_rows == patients.exported + patients.quarantined and patients.quarantined > 0
    assert rest  # the details follow on later pages


def test_pages_are_numbered_and_every_page_of_a_demo_is_marked(sealed: ExportOutcome) -> None:
    report = report_from_outcome(sealed)
    assert report.demo
    texts = pages(render_transfer_report(report, "ko", printed=PRINTED))
    assert len(texts) >= 2
    for number, text in enumerate(texts, 1):
        assert f"{number} / {len(texts)} 쪽" in text
        assert text.count("연습용 — 제출되지 않음") >= 2  # the banner on top and the footer
    english = pages(render_transfer_report(report, "en", printed=PRINTED))
    assert all("PRACTICE ONLY — NOT SUBMITTED" in t and f"of {len(english)}" in t for t in english)
    real = TransferReport(**{**report.__dict__, "demo": False, "institution_code": "12345678"})
    assert not any("연습용" in t for t in pages(render_transfer_report(real, "ko", printed=PRINTED)))


def test_quarantined_patients_are_listed_by_masked_chart_number_and_every_warning_has_advice(
    sealed: ExportOutcome,
) -> None:
    masked = sealed.extra["quarantined_patients"]
    patients = next(e for e in sealed.reconciliation.entities if e.entity == "patient")
    null_keys = patients.reasons.get("null-key", 0)
    assert len(masked) + null_keys == patients.quarantined
    assert all("*" in m for m in masked)
    text = flat("\n".join(pages(render_transfer_report(report_from_outcome(sealed), "ko", printed=PRINTED))))
    assert "명부에 오르지 못한 환자 (차트번호 일부 가림): " + ", ".join(masked) in text
    for entity in sealed.reconciliation.entities:
        for code in entity.reasons:
            name, _, advice, _ = QUARANTINE_REASONS[code]
            assert flat(name) in text and flat(advice) in text, code
    gaps = [g for d in sealed.extra["readiness"]["documents"] for g in d["gaps"]]
    assert gaps
    for gap in gaps:
        advice = GAP_ADVICE.get(gap["requirement"].split(".")[0])
        assert advice is None or flat(advice[0]) in text
        assert re.search(re.escape(flat(gap["message_ko"])) + r"\. \S", text), gap["message_ko"]


def test_report_command_never_overwrites_unasked_and_keeps_what_the_wizard_knew(
    sealed: ExportOutcome, bundle_copy: Path
) -> None:
    outcome = type(sealed)(**{**sealed.__dict__, "bundle_path": bundle_copy})
    wizard_report = bundle_copy.with_name(bundle_copy.name + ".report.pdf")
    write_report_for_outcome(outcome, wizard_report, "ko", closing_date="2026-06-30", custodian="김보관",
                             custodian_contact="02-123-4567", receipt_number=None, signer=None)
    made_by_wizard = wizard_report.read_bytes()
    runner = CliRunner()
    again = runner.invoke(main, ["report", str(bundle_copy)])
    assert again.exit_code != 0
    assert "already exists and was left as it is" in again.output and "--overwrite" in again.output
    assert wizard_report.read_bytes() == made_by_wizard
    # A later `report` (another file, English too) prints what the wizard knew.
    for lang, out in (("ko", "later.pdf"), ("en", "later-en.pdf")):
        result = runner.invoke(main, ["report", str(bundle_copy), "--lang", lang, "--out",
                                      str(bundle_copy.parent / out)])
        assert result.exit_code == 0, result.output
    text = flat("\n".join(pages(bundle_copy.parent / "later.pdf")))
    assert "휴·폐업일 2026년 6월 30일" in text and "보관 책임자 김보관" in text and "연락처 02-123-4567" in text
    assert "Closing date 30 June 2026" in flat("\n".join(pages(bundle_copy.parent / "later-en.pdf")))
    assert load_summary(bundle_copy).custodian == "김보관"
    replaced = runner.invoke(main, ["report", str(bundle_copy), "--overwrite", "--custodian", "박보관"])
    assert replaced.exit_code == 0, replaced.output
    assert "보관 책임자 박보관" in flat("\n".join(pages(wizard_report)))
