"""The transfer report PDF: text extracted with pypdf and compared with the source and the sealed bundle."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import CliRunner

from emr_exporter import model
from emr_exporter.cli import main
from emr_exporter.jobs.service import DemoRequest, ExportOutcome, run_demo
from emr_exporter.reports.transfer import (
    TransferReport,
    file_sha256,
    load_summary,
    render_transfer_report,
    summary_path,
    write_transfer_report,
)


def pdf_text(path_or_bytes: Path | bytes) -> str:
    import io

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(source).pages)


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> ExportOutcome:
    out = tmp_path_factory.mktemp("sealed-demo")
    return run_demo(DemoRequest(out_dir=out, patients=40))


def demo_rows(outcome: ExportOutcome, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(outcome.extra["database"]) as conn:
        return conn.execute(query).fetchall()


def test_korean_report_matches_the_source_and_the_bundle(sealed: ExportOutcome, tmp_path: Path) -> None:
    path = write_transfer_report(sealed, tmp_path / "report.pdf", "ko", closing_date="2026-06-30")
    text = pdf_text(path)
    [(name, code, address)] = demo_rows(sealed, "SELECT HOSP_NM, YKIHO, ADDR FROM CLINIC_INFO")
    assert "휴·폐업 의료기관 진료기록 이관 보고서" in text
    assert f"의료기관 명칭 {name}" in text and f"요양기관기호 {code}" in text and f"주소 {address}" in text
    assert "휴·폐업일 2026년 6월 30일" in text
    assert f"전자서명 인증서 {sealed.extra['signer']}" in text
    assert f"이관 파일 번호 {sealed.bundle_id}" in text
    assert f"파일 지문 (SHA-256) {file_sha256(sealed.bundle_path)}" in text
    assert f"내용 지문 (SHA-256) {sealed.bag_sha256}" in text
    assert "보관시스템 접수번호 아직 전송하지 않음" in text
    # counts per record type with the retention class, straight from the source tables
    [(patients_in_source,)] = demo_rows(sealed, "SELECT COUNT(*) FROM PT_MASTER")
    patients = next(e for e in sealed.reconciliation.entities if e.entity == "patient")
    assert patients.source_rows == patients_in_source
    assert f"환자 환자 명부 (5) {patients_in_source:,} {patients.exported:,} {patients.quarantined:,}" in text
    [(receipts_in_source,)] = demo_rows(sealed, "SELECT COUNT(*) FROM RCPT")
    assert re.search(rf"진료비 영수증 청구 서류 \(5\) {receipts_in_source:,} ", text)
    # every row of the database: the mapped ones, and the other tables' carried verbatim (이관 too)
    every = sealed.reconciliation.row_totals
    tables = demo_rows(sealed, "SELECT name FROM sqlite_master WHERE type = 'table'")
    assert every["source_rows"] == sum(demo_rows(sealed, f'SELECT COUNT(*) FROM "{name}"')[0][0] for (name,) in tables)
    carried = sealed.reconciliation.tables
    assert every["carried"] == sum(t.carried for t in carried) > 0 and every["carried_sections"] == 0
    assert (f"그 밖의 EMR 자료, 원본 그대로 (표 {len(carried)}개) — {every['carried']:,} {every['carried']:,} 0"
            in " ".join(text.split()))  # (the name wraps in its cell)
    assert (f"합계 {every['source_rows']:,} {every['exported'] + every['carried']:,} {every['quarantined']:,}"
            in text)
    assert (f"기록 수 원본 {every['source_rows']:,}건 = 이관 {every['exported']:,}건 + 원본 그대로 이관 "
            f"{every['carried']:,}건 + 별도 보관 {every['quarantined']:,}건 — 모두 일치") in text
    assert (f"환자 수 {patients.source_rows:,}명 = 환자 명부 {patients.exported:,}명 + 별도 보관 "
            f"{patients.quarantined:,}명") in text
    assert "환자 번호가 다른 기록과 겹침 2" in text  # two planted duplicate chart numbers
    cells = sealed.reconciliation.cell_totals
    assert cells["transformed"] > 0  # the demo plants padded keys, NFD text, odd dates
    flat = " ".join(text.split())
    assert (f"칸(셀) 단위 대조: 원본 {cells['source']:,}칸 = FHIR 변환 {cells['mapped']:,} + 원본 그대로 보관 "
            f"{cells['carried_raw']:,} + 별도 보관된 기록 {cells['quarantined']:,}") in flat
    assert ("이 가운데 FHIR 값만으로는 원본과 똑같이 되살릴 수 없어 (공백·날짜 형식·코드 변환 등) 원본 값을 함께 보관한 칸: "
            f"{cells['transformed']:,}") in flat
    # readiness: the figures and the Korean gap message of the receipts
    receipt = next(d for d in sealed.extra["readiness"]["documents"] if d["id"] == "receipt")
    # (미리보기): emr-export preview draws it from the bundle
    assert (f"진료비 계산서·영수증 (미리보기) {receipt['issuable']:,} / {receipt['candidates']:,} 영수증"
            in " ".join(text.split()))  # the mark makes the cell wrap
    assert receipt["gaps"][0]["message_ko"] in " ".join(text.split())  # table cells wrap lines
    assert "소견서 (미확정)" in text


def test_english_report_and_the_embedded_korean_font(sealed: ExportOutcome, tmp_path: Path) -> None:
    path = write_transfer_report(sealed, tmp_path / "report-en.pdf", "en", receipt_number="KHIS-2026-000123")
    text = pdf_text(path)
    assert "Transfer report: medical records of a closing clinic" in text
    assert f"Institution {sealed.institution.name}" in text
    assert "Store receipt number KHIS-2026-000123" in text
    prescription = next(d for d in sealed.extra["readiness"]["documents"] if d["id"] == "prescription")
    assert prescription["gaps"][0]["message_en"] in " ".join(text.split())  # table cells wrap lines
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in pypdf.PdfReader(path).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all(re.fullmatch(r"/[A-Z]{6}\+NanumGothic(-?Bold)?", f) for f in fonts), fonts


def test_no_resident_registration_number_in_the_report_or_its_summary(sealed: ExportOutcome, tmp_path: Path) -> None:
    rrns = [rrn for (rrn,) in demo_rows(sealed, "SELECT JUMIN_NO FROM PT_MASTER") if rrn]
    assert len(rrns) >= 40
    texts = [
        pdf_text(write_transfer_report(sealed, tmp_path / f"r-{lang}.pdf", lang)) for lang in ("ko", "en")
    ]
    texts.append(summary_path(sealed.bundle_path).read_text("utf-8"))
    for text in texts:
        flat = text.replace("-", "").replace(" ", "")
        for rrn in rrns:
            assert rrn not in flat
            assert model.mask_rrn(rrn) not in text  # not even masked: the report holds no patient rows
            assert rrn[:6] + "-" + rrn[6] not in text
    names = [bytes(n).decode("cp949") for (n,) in demo_rows(sealed, "SELECT PT_NM FROM PT_MASTER WHERE PT_NO < 20")]
    assert not [n for n in names if n in texts[0] or n in texts[2]]


def test_report_command_reprints_from_the_summary(sealed: ExportOutcome, tmp_path: Path) -> None:
    bundle = sealed.bundle_path
    assert bundle is not None
    out = tmp_path / "again.pdf"
    result = CliRunner().invoke(main, ["report", str(bundle), "--closing-date", "2026-06-30",
                                       "--receipt-number", "R-77", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Transfer report: {out}\n"
    text = pdf_text(out)
    assert "휴·폐업일 2026년 6월 30일" in text and "보관시스템 접수번호 R-77" in text
    assert f"이관 파일 번호 {sealed.bundle_id}" in text
    # the same inputs give the same document as the in-process call (but for the minute it was printed)
    summary = load_summary(bundle)
    direct = render_transfer_report(
        TransferReport(**{**summary.__dict__, "closing_date": "2026-06-30", "receipt_number": "R-77"}), "ko"
    )

    def unprinted(value: str) -> str:
        return re.sub(r"인쇄: .*?\(한국 시각\)", "", value)

    assert unprinted(pdf_text(direct)) == unprinted(text)


def test_report_command_errors_are_readable(sealed: ExportOutcome, tmp_path: Path) -> None:
    runner = CliRunner()
    lonely = tmp_path / "other.emrx"
    lonely.write_bytes(b"x")
    result = runner.invoke(main, ["report", str(lonely)])
    assert result.exit_code != 0
    assert "other.emrx.summary.json is missing" in result.output
    # a summary copied next to the wrong bundle
    summary_path(lonely).write_text(summary_path(sealed.bundle_path).read_text("utf-8"), "utf-8")
    result = runner.invoke(main, ["report", str(lonely), "--json"])
    assert result.exit_code != 0
    assert json.loads(result.output)["error"]["message"] == (
        "other.emrx.summary.json does not belong to other.emrx (its SHA-256 differs)."
    )
    result = runner.invoke(main, ["report", str(sealed.bundle_path), "--closing-date", "30.06.2026",
                                  "--out", str(tmp_path / "bad-date.pdf")])
    assert "The closing date must be written as YYYY-MM-DD" in result.output
    assert not (tmp_path / "bad-date.pdf").exists()


def test_preview_from_the_sealed_bundle_shows_the_source_receipts(sealed: ExportOutcome, tmp_path: Path) -> None:
    # a patient with a pre-2016 receipt (no 공단부담금 recorded) and later ones
    [(chart, pt_no)] = demo_rows(
        sealed, "SELECT P.CHART_NO, P.PT_NO FROM PT_MASTER P WHERE EXISTS (SELECT 1 FROM RCPT R WHERE R.PT_NO = P.PT_NO"
                " AND R.INS_CORP_AMT IS NULL) ORDER BY P.PT_NO LIMIT 1",
    )
    out = tmp_path / "receipt.pdf"
    result = CliRunner().invoke(main, [
        "preview", str(sealed.bundle_path), "--key", sealed.extra["store_key"], "--patient", chart,
        "--document", "receipt", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    receipts = demo_rows(sealed, "SELECT RCPT_NO, TOT_AMT, INS_SELF_AMT + FULL_SELF_AMT + NONINS_AMT, INS_SELF_AMT,"
                                 f" INS_CORP_AMT, PAID_AMT FROM RCPT WHERE PT_NO = {pt_no} ORDER BY RCPT_YMD")
    assert result.output == f"Preview ({len(receipts)} page{'s' if len(receipts) != 1 else ''}): {out}\n"
    pages = [page.extract_text() for page in pypdf.PdfReader(out).pages]
    assert len(pages) == len(receipts)
    for text, (number, total, patient_total, own, insurer, paid) in zip(pages, receipts, strict=True):
        assert "진료비 계산서·영수증" in text and "미리보기 (PREVIEW)" in text
        assert f"{chart} " in text and number in text
        assert f"{total:,} {patient_total:,} {paid:,}" in text  # 진료비 총액, 환자부담 총액, 납부한 금액
        assert ("(기록 없음)" in text) == (insurer is None)
        if insurer is not None:
            assert f"합계 {own:,} {insurer:,}" in text
    assert not list(tmp_path.glob("emr-preview-*"))


def test_preview_from_a_sealed_bundle_writes_nothing_but_the_pdf(
    sealed: ExportOutcome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out_dir = tmp_path / "out"
    [(chart,)] = demo_rows(sealed, "SELECT CHART_NO FROM PT_MASTER WHERE PT_NO = 3")
    result = CliRunner().invoke(main, [
        "preview", str(sealed.bundle_path), "--key", sealed.extra["store_key"], "--patient", chart,
        "--document", "outpatient-confirmation", "--out", str(out_dir / "visits.pdf"),
    ])
    assert result.exit_code == 0, result.output
    assert list(scratch.iterdir()) == []  # no temporary folder, no plaintext
    assert [p.name for p in out_dir.iterdir()] == ["visits.pdf"]
    assert chart in pdf_text(out_dir / "visits.pdf")


def test_preview_diagnosis_certificate_masks_the_rrn(sealed: ExportOutcome, tmp_path: Path) -> None:
    opened = tmp_path / "opened"
    result = CliRunner().invoke(main, ["open", str(sealed.bundle_path), "--key", sealed.extra["store_key"],
                                       "--out", str(opened)])
    assert result.exit_code == 0, result.output
    [(chart, rrn, address)] = demo_rows(sealed, "SELECT CHART_NO, JUMIN_NO, ADDR FROM PT_MASTER WHERE PT_NO = 3")
    out = tmp_path / "dx.pdf"
    result = CliRunner().invoke(main, ["preview", str(opened), "--patient", chart, "--document",
                                       "diagnosis-certificate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    assert model.mask_rrn(rrn) in text and rrn not in text.replace("-", "")
    assert address in text
    codes = demo_rows(sealed, "SELECT DISTINCT KCD_CD FROM DIAG WHERE PT_NO = 3")
    assert all(code in text for (code,) in codes)
    result = CliRunner().invoke(main, ["preview", str(opened), "--patient", "NOPE", "--document", "receipt",
                                       "--out", str(out)])
    assert result.exit_code != 0 and "No patient with chart number NOPE is in this bundle." in result.output


def test_report_takes_the_receipt_number_saved_beside_the_bundle(sealed: ExportOutcome, tmp_path: Path) -> None:
    import hashlib
    import shutil

    bundle = tmp_path / sealed.bundle_path.name
    shutil.copy(sealed.bundle_path, bundle)
    shutil.copy(sealed.bundle_path.with_name(sealed.bundle_path.name + ".summary.json"),
                bundle.with_name(bundle.name + ".summary.json"))
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    receipt_file = bundle.with_name(bundle.name + ".receipt.json")

    def report_text(receipt: dict) -> str:
        receipt_file.write_text(json.dumps({"receipt": receipt, "signature": {}}), encoding="utf-8")
        out = tmp_path / "report.pdf"
        result = CliRunner().invoke(main, ["report", str(bundle), "--lang", "en", "--out", str(out), "--overwrite"])
        assert result.exit_code == 0, result.output
        return pdf_text(out)

    mine = {"receipt_number": "R-20261126-ABCDEF1234", "bundle_id": sealed.bundle_id, "sha256": digest}
    assert "R-20261126-ABCDEF1234" in report_text(mine)
    # A receipt for another file (another SHA-256) is not taken.
    assert "R-20261126-ABCDEF1234" not in report_text({**mine, "sha256": "0" * 64})
