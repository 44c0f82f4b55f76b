"""`preview` draws each of the 12 documents the operating notice names, from the bundle alone, for a demo
patient who has the data; the PDF text (pypdf) is compared with the source rows of the demo clinic."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.jobs.service import DemoRequest, ExportOutcome, run_demo
from emr_exporter.reports.preview import PREVIEW_DOCUMENTS, render_preview
from emr_exporter.reports.readiness import load_catalogue
from emr_exporter.reports.transfer import write_transfer_report


def squash(text: str) -> str:
    """PDF text without white space: fpdf2 wraps long cells, pypdf gives the pieces back on new lines."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> ExportOutcome:
    return run_demo(DemoRequest(out_dir=tmp_path_factory.mktemp("preview-demo"), patients=40))


@pytest.fixture(scope="module")
def bag(sealed: ExportOutcome, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("opened")
    result = CliRunner().invoke(main, ["open", str(sealed.bundle_path), "--key", sealed.extra["store_key"],
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    return next(out.glob("*/bag"), out)


def rows(sealed: ExportOutcome, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(sealed.extra["database"]) as conn:
        return conn.execute(query, params).fetchall()


def chart(sealed: ExportOutcome, pt_no: int) -> str:
    return str(rows(sealed, "SELECT CHART_NO FROM PT_MASTER WHERE PT_NO = ?", pt_no)[0][0])


def draw(bag: Path, chart_number: str, document: str) -> tuple[list[str], str]:
    import io

    data, count = render_preview(bag, chart_number, document)
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    assert count >= 1 and all("미리보기 (PREVIEW)" in page for page in pages)
    return pages, squash("\n".join(pages))


def ymd(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}"


def test_previews_exist_for_exactly_the_12_named_documents() -> None:
    confirmed = [d.id for d in load_catalogue().documents if d.status == "confirmed"]
    assert len(confirmed) == 12 and set(confirmed) == set(PREVIEW_DOCUMENTS)


def test_medical_record_copy_has_chief_complaints_allergies_vaccinations(sealed: ExportOutcome, bag: Path) -> None:
    [(pt_no,)] = rows(sealed, "SELECT PT_NO FROM PT_MASTER P WHERE EXISTS (SELECT 1 FROM ALLERGY A WHERE A.PT_NO ="
                              " P.PT_NO AND A.STAT = 'A' AND A.ALG_NM IS NOT NULL) ORDER BY PT_NO LIMIT 1")
    _, text = draw(bag, chart(sealed, pt_no), "medical-record-copy")
    for name, reaction in rows(sealed, "SELECT ALG_NM, REACTION FROM ALLERGY WHERE PT_NO = ? AND STAT = 'A'", pt_no):
        assert squash(f"{name}: {reaction} (active)") in text
    notes = rows(sealed, "SELECT CC, HPI FROM CHART_REC WHERE PT_NO = ?", pt_no)
    assert notes
    for cc, hpi in notes:
        assert squash("주호소: " + bytes(cc).decode("cp949")) in text
        assert squash("현병력: " + bytes(hpi).decode("cp949")) in text
    for code, in rows(sealed, "SELECT KCD_CD FROM DIAG WHERE PT_NO = ?", pt_no):
        assert squash(f"상병: {code}") in text
    for sbp, dbp in rows(sealed, "SELECT SBP, DBP FROM VITAL_SIGN WHERE PT_NO = ? AND SBP IS NOT NULL"
                                 " AND STAT <> 'E'", pt_no):
        assert squash(f"혈압 {sbp}/{dbp} mmHg") in text
    [(vaccinated,)] = rows(sealed, "SELECT PT_NO FROM VACCINATION WHERE STAT = '1' AND LOT_NO IS NOT NULL"
                                   " AND VISIT_NO < 900000000 ORDER BY VAC_NO LIMIT 1")
    _, text = draw(bag, chart(sealed, vaccinated), "medical-record-copy")
    for when, name, lot in rows(sealed, "SELECT VAC_YMD, VAC_NM, LOT_NO FROM VACCINATION WHERE PT_NO = ?"
                                        " AND STAT = '1' AND VISIT_NO < 900000000", vaccinated):
        assert squash(f"{ymd(when)} {name} 접종 로트 {lot}") in text


def test_injury_certificate_for_a_car_accident_or_work_injury_visit(sealed: ExportOutcome, bag: Path) -> None:
    [(pt_no,)] = rows(sealed, "SELECT V.PT_NO FROM VISIT V JOIN DIAG D ON D.VISIT_NO = V.VISIT_NO"
                              " WHERE V.INS_GB IN ('A', 'W') ORDER BY V.VISIT_NO LIMIT 1")
    visits = rows(sealed, "SELECT V.VISIT_NO, V.VISIT_YMD, V.INS_GB FROM VISIT V WHERE V.PT_NO = ? AND V.INS_GB IN"
                          " ('A', 'W') AND EXISTS (SELECT 1 FROM DIAG D WHERE D.VISIT_NO = V.VISIT_NO)", pt_no)
    pages, _ = draw(bag, chart(sealed, pt_no), "injury-certificate")
    assert len(pages) == len(visits)
    for page, (visit_no, when, payer) in zip(pages, visits, strict=True):
        text = squash(page)
        assert "상해진단서" in text and ymd(when) in text and {"A": "자보", "W": "산재"}[payer] in text
        for code, in rows(sealed, "SELECT KCD_CD FROM DIAG WHERE VISIT_NO = ?", visit_no):
            assert code in text


@pytest.mark.parametrize(("document", "kind"), [
    ("death-certificate", "사망진단서"), ("stillbirth-certificate", "사산증명서"),
    ("residual-disability-certificate", "후유장애진단서"),
])
def test_kept_copies_are_drawn_verbatim(sealed: ExportOutcome, bag: Path, document: str, kind: str) -> None:
    [(pt_no, number, full_text)] = rows(sealed, "SELECT PT_NO, CERT_NO, CERT_TXT FROM CERT_ISSUE WHERE CERT_KIND = ?",
                                        kind)
    pages, text = draw(bag, chart(sealed, pt_no), document)
    assert len(pages) == 1 and squash(f"{kind} (부본)") in text and squash(number) in text
    assert squash(full_text) in text


def test_prescription_lists_each_outside_prescription_line(sealed: ExportOutcome, bag: Path) -> None:
    [(pt_no,)] = rows(sealed, "SELECT PT_NO FROM ORD_DTL WHERE OUT_RX_YN = 'Y' AND CD_GB = '1' ORDER BY ORD_NO LIMIT 1")
    visits = rows(sealed, "SELECT DISTINCT VISIT_NO FROM ORD_DTL WHERE PT_NO = ? AND OUT_RX_YN = 'Y' AND CD_GB = '1'"
                          " ORDER BY ORD_YMD, VISIT_NO", pt_no)
    pages, _ = draw(bag, chart(sealed, pt_no), "prescription")
    assert len(pages) == len(visits)
    for page, (visit_no,) in zip(pages, visits, strict=True):
        text = squash(page)
        assert "처방전" in text
        for name, dose, unit, freq, days in rows(sealed, "SELECT ORD_NM, DOSE, DOSE_UNIT, FREQ, DAYS FROM ORD_DTL"
                                                         " WHERE VISIT_NO = ? AND OUT_RX_YN = 'Y'", visit_no):
            assert squash(f"{name} {dose} {unit} {freq} {days}") in text
        for code, in rows(sealed, "SELECT KCD_CD FROM DIAG WHERE VISIT_NO = ?", visit_no):
            assert code in text


def test_fee_statement_lists_every_line_of_every_receipt(sealed: ExportOutcome, bag: Path) -> None:
    pt_no = 3
    receipts = rows(sealed, "SELECT RCPT_SEQ, RCPT_NO FROM RCPT R WHERE PT_NO = ? AND EXISTS (SELECT 1 FROM FEE_DTL F"
                            " WHERE F.RCPT_SEQ = R.RCPT_SEQ) ORDER BY RCPT_YMD, RCPT_SEQ", pt_no)
    pages, _ = draw(bag, chart(sealed, pt_no), "fee-statement")
    assert len(pages) == len(receipts)
    for page, (seq, number) in zip(pages, receipts, strict=True):
        text = squash(page)
        assert "진료비세부산정내역" in text and number in text
        for name, total, own, corp in rows(sealed, "SELECT FEE_NM, TOT_AMT, SELF_AMT, CORP_AMT FROM FEE_DTL"
                                                   " WHERE RCPT_SEQ = ?", seq):
            assert squash(f"{name} {total:,}") in text
            assert squash(f"{own:,} {corp:,}") in text


def test_admission_confirmation_for_every_stay(sealed: ExportOutcome, bag: Path) -> None:
    [(pt_no,)] = rows(sealed, "SELECT PT_NO FROM VISIT WHERE IO_GB = 'I' ORDER BY VISIT_NO LIMIT 1")
    stays = rows(sealed, "SELECT V.VISIT_NO, V.VISIT_YMD, V.DISCH_YMD, A.ADM_ROUTE, A.DSCH_RSLT FROM VISIT V"
                         " JOIN ADM_INFO A ON A.VISIT_NO = V.VISIT_NO WHERE V.PT_NO = ? ORDER BY V.VISIT_YMD", pt_no)
    pages, _ = draw(bag, chart(sealed, pt_no), "admission-confirmation")
    assert len(pages) == len(stays) >= 1
    for page, (visit_no, admitted, discharged, route, result) in zip(pages, stays, strict=True):
        text = squash(page)
        disposition = {"1": "Home", "2": "Other healthcare facility", "3": "Left against advice"}[result]
        assert squash(f"{ymd(admitted)} {ymd(discharged)} {route} {disposition}") in text
        for code, in rows(sealed, "SELECT KCD_CD FROM DIAG WHERE VISIT_NO = ?", visit_no):
            assert code in text


def test_treatment_and_outpatient_confirmation_and_diagnosis_certificate(sealed: ExportOutcome, bag: Path) -> None:
    pt_no = 3
    visits = rows(sealed, "SELECT VISIT_NO, VISIT_YMD FROM VISIT WHERE PT_NO = ? ORDER BY VISIT_YMD", pt_no)
    _, text = draw(bag, chart(sealed, pt_no), "treatment-confirmation")
    assert "진료확인서" in text and squash(f"본원에서 {len(visits)}회 진료를") in text
    for visit_no, when in visits:
        assert ymd(when) in text
        for name, in rows(sealed, "SELECT ORD_NM FROM ORD_DTL WHERE VISIT_NO = ? AND ORD_YMD IS NOT NULL", visit_no):
            assert squash(name) in text
    _, text = draw(bag, chart(sealed, pt_no), "outpatient-confirmation")
    assert squash(f"{len(visits)}회 통원") in text
    _, text = draw(bag, chart(sealed, pt_no), "diagnosis-certificate")
    assert all(code in text for (code,) in rows(sealed, "SELECT KCD_CD FROM DIAG WHERE PT_NO = ?", pt_no))


def test_receipt_preview_and_the_sealed_bundle_path(sealed: ExportOutcome, tmp_path: Path) -> None:
    out = tmp_path / "copy.pdf"
    chart_number = chart(sealed, 3)
    result = CliRunner().invoke(main, ["preview", str(sealed.bundle_path), "--key", sealed.extra["store_key"],
                                       "--patient", chart_number, "--document", "medical-record-copy",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = squash("\n".join(p.extract_text() for p in pypdf.PdfReader(out).pages))
    assert "진료기록부(사본)" in text and chart_number in text


def test_transfer_report_marks_the_documents_preview_can_draw(sealed: ExportOutcome, tmp_path: Path) -> None:
    path = write_transfer_report(sealed, tmp_path / "report.pdf", "ko", closing_date="2026-06-30")
    text = squash("\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages))
    catalogue = load_catalogue()
    for document in catalogue.documents:
        marked = squash(f"{document.ko} (미리보기)") in text
        assert marked == (document.id in PREVIEW_DOCUMENTS), document.id
    # and every document the readiness table calls issuable for someone is one preview draws
    issuable = {d["id"] for d in sealed.extra["readiness"]["documents"] if d["issuable"] and d["status"] == "confirmed"}
    assert issuable <= set(PREVIEW_DOCUMENTS)


def test_a_vital_sign_with_no_value_says_why_on_the_chart_copy() -> None:
    """A measurement recorded as no number is an Observation with dataAbsentReason (docs/fhir-mapping.md): the
    medical-record copy prints the words it was recorded in (or the reason's code), not an empty value."""
    from emr_exporter.reports.preview import _vital_line

    dar = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
    assert _vital_line([
        {"id": "v-bp", "code": {"text": "Blood pressure"}, "component": [
            {"dataAbsentReason": {"coding": [{"system": dar, "code": "not-performed"}], "text": "측정불가"}}]},
        {"id": "v-pulse", "code": {"text": "Heart rate"},
         "dataAbsentReason": {"coding": [{"system": dar, "code": "unknown"}]}},
        {"id": "v-weight", "code": {"text": "Body weight"}, "valueQuantity": {"value": 61.5, "unit": "kg"}},
    ]) == "혈압 측정불가, Heart rate (unknown), Body weight 61.5 kg"


def test_a_planned_or_cancelled_record_is_on_no_confirmation_as_given() -> None:
    """A cancelled visit and a planned or not-done treatment are in the bundle with their status but no document
    says they happened (model.NOT_DONE_STATUSES): 통원확인서 counts the finished visit only, 진료확인서 lists the
    treatment done only (was: the cancelled visit counted, the planned 임플란트 식립 listed as given)."""
    import io

    from emr_exporter.reports.preview import BagView

    patient = {"resourceType": "Patient", "id": "p1", "name": [{"text": "김민준"}],
               "identifier": [{"system": "urn:emr-exporter:chart-number", "value": "C1"}]}
    subject = {"reference": "Patient/p1"}
    visits = [{"resourceType": "Encounter", "id": f"e{n}", "subject": subject, "status": status,
               "period": {"start": f"2026-03-0{n}"}} for n, status in ((1, "finished"), (2, "cancelled"), (3, "planned"))]
    treatments = [{"resourceType": "Procedure", "id": f"t{n}", "subject": subject, "encounter": {"reference": "Encounter/e1"},
                   "status": status, "code": {"text": name}}
                  for n, (status, name) in enumerate((("completed", "치석제거"), ("preparation", "임플란트 식립"),
                                                      ("not-done", "발치-단근치"), ("entered-in-error", "근관충전")))]
    shots = [{"resourceType": "Immunization", "id": "i1", "patient": subject, "encounter": {"reference": "Encounter/e1"},
              "status": "not-done", "vaccineCode": {"text": "인플루엔자"}}]
    by_type = {"Patient": [patient], "Encounter": visits, "Procedure": treatments, "Immunization": shots}
    view = BagView(lambda kind: iter(by_type.get(kind, [])), "C1")

    def text(document: str) -> str:
        data, _ = render_preview(view, "C1", document)
        return squash("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))
    outpatient = text("outpatient-confirmation")
    assert squash("1회 통원") in outpatient and "2026-03-02" not in outpatient and "2026-03-03" not in outpatient
    treatment = text("treatment-confirmation")
    assert squash("1회 진료를") in treatment and squash("치석제거") in treatment
    assert not any(squash(name) in treatment for name in ("임플란트 식립", "발치-단근치", "근관충전", "인플루엔자"))


def test_a_problem_list_entry_is_no_visits_diagnosis() -> None:
    # the 진료사실확인서 and 진단서 read diagnoses per visit: a problem-list item naming the visit it was noted in
    # (GNUmed's health issue, a 문제목록 row) is not one of them
    from emr_exporter.reports.preview import _conditions_by_encounter

    def condition(code: str, category: str) -> dict[str, Any]:
        return {"resourceType": "Condition", "code": {"text": code}, "encounter": {"reference": "Encounter/v1"},
                "category": [{"coding": [{"code": category}]}]}

    class View:
        def of_patient(self, kind: str) -> list[dict[str, Any]]:
            return [condition("J00", "encounter-diagnosis"), condition("I10", "problem-list-item")]

    assert _conditions_by_encounter(View()) == {"v1": [condition("J00", "encounter-diagnosis")]}  # type: ignore[arg-type]
