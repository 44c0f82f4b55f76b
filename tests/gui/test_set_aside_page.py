"""The check page says, in plain Korean, what was set aside and why (무엇이 따로 보관되었나요): one line per reason,
with the sections (named as the page's table names them), how many records or values, what that means and whether
there is anything to do — the wording ``emr-export export`` prints (``tests/test_set_aside.py``), on the same real
SQLite clinic with impossible dates, numbers that cannot be read, orphans and a duplicated chart number, exported
and sealed, the sealed file checked by the page itself; the counts are the sealed bag's report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.resources import glossary_problems

pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_set_aside import (  # noqa: E402
    CLI_KO,
    INSTITUTION,
    KEPT,
    KEPT_EN,
    ONE_KEPT_EN,
    ONE_STAYS_EN,
    STAYS,
    STAYS_EN,
    Clinic,
    build_clinic,
    check_against_bag,
)

#: The check page in Korean: the command line's wording, each section named as the page's table names it (the
#: wizard's names: 검사 결과, 영수증, 보험 자격 이력 where the transfer report and the command line say 검사결과, 진료비
#: 영수증, 보험 자격).
PAGE_KO = [
    "무엇이 따로 보관되었나요",
    "• 날짜를 읽을 수 없는 기록 8건 (내원 3, 처방·오더 2, 예방접종 1, 활력징후 2)" + KEPT,
    "• 꼭 필요한 값(예: 환자 성명)이 비어 있는 기록 7건 (환자 1, 내원 3, 상병 1, 검사 결과 1, 알레르기·부작용 1)" + KEPT,
    "• 연결된 환자나 내원 기록이 없거나 따로 보관된 기록 4건 (내원 1, 상병 1, 처방·오더 1, 예방접종 1)" + KEPT,
    "• 번호가 다른 기록과 띄어쓰기만 다른 기록 1건 (검사 결과 1)" + KEPT,
    "• 번호가 다른 기록과 겹치는 기록 1건 (환자 1)" + KEPT,
    "• 기록 번호가 없는 기록 1건 (검사 결과 1)" + KEPT,
    "• 날짜를 읽을 수 없는 값 3개 (환자 1, 알레르기·부작용 1, 보험 자격 이력 1)" + STAYS,
    "• 보이지 않는 특수 문자가 들어 있는 값 2개 (환자 1, 상병 1)" + STAYS,
    "• 숫자로 읽을 수 없는 값 2개 (영수증 1, 활력징후 1)" + STAYS,
    "• 글자가 깨져 읽을 수 없는 값 1개 (환자 1)" + STAYS,
    "• 주민등록번호 형식이 올바르지 않은 값 1개 (환자 1)" + STAYS,
]
#: The check page in English (`emr-exporter --lang en`)
PAGE_EN = [
    "What was set aside",
    "• 8 records with a date that cannot be read (Visits 3, Orders and prescriptions 2, Vaccinations 1, Vital signs "
    "2)" + KEPT_EN,
    "• 7 records with a needed value empty (e.g. the patient's name) (Patients 1, Visits 3, Diagnoses 1, Lab results "
    "1, Allergies and adverse reactions 1)" + KEPT_EN,
    "• 4 records linked to a patient or visit that does not exist or was set aside itself (Visits 1, Diagnoses 1, Orders and prescriptions 1, "
    "Vaccinations 1)" + KEPT_EN,
    "• 1 record with a number differing from another's only by spaces (Lab results 1)" + ONE_KEPT_EN,
    "• 1 record with a number another record has too (Patients 1)" + ONE_KEPT_EN,
    "• 1 record without a record number (Lab results 1)" + ONE_KEPT_EN,
    "• 3 values with a date that cannot be read (Patients 1, Allergies and adverse reactions 1, Insurance coverage "
    "periods 1)" + STAYS_EN,
    "• 2 values holding invisible special characters (Patients 1, Diagnoses 1)" + STAYS_EN,
    "• 2 values with a number that cannot be read (Receipts 1, Vital signs 1)" + STAYS_EN,
    "• 1 value with damaged characters (Patients 1)" + ONE_STAYS_EN,
    "• 1 value with a resident registration number that is not valid (Patients 1)" + ONE_STAYS_EN,
]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    return build_clinic(tmp_path_factory.mktemp("set-aside-page"))


@pytest.fixture
def english_ui(qapp: Any) -> Iterator[None]:
    """The wizard in English, whatever the desktop's language (as `emr-exporter --lang en`)."""
    from emr_exporter.gui.qt import QLocale

    QLocale.setDefault(QLocale("en"))
    yield
    QLocale.setDefault(QLocale.c())


def _sealed(clinic: Clinic, out: Path) -> Any:
    from emr_exporter.jobs.service import ExportRequest, run_export
    from emr_exporter.sources.address import SourceAddress

    keys = clinic.flow.keys
    return run_export(ExportRequest(
        connector="foreign", source=SourceAddress(database=clinic.db.path), institution_code=INSTITUTION[0],
        institution_name=INSTITUTION[1], out_dir=out, signer_path=keys.institution_p12,
        signer_password=keys.institution_password, recipient_cert=keys.store_cert, accept_signer_mismatch=True,
        connectors_dirs=(clinic.flow.connectors,)))


def _checked(qtbot: Any, make_wizard: Any, clinic: Clinic, out: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The check page after the export: shown as the wizard shows it, the sealed file verified by the page."""
    monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(clinic.flow.connectors))  # the page names the sections
    outcome = _sealed(clinic, out)
    assert outcome.bundle_path is not None and outcome.reconciliation.balanced
    wizard = make_wizard()
    session = wizard.session
    session.connector, session.outcome = "foreign", outcome
    verify = wizard.verify_page
    [page_id] = [i for i, p in zip(wizard.pageIds(), wizard.all_pages(), strict=True) if p is verify]
    with qtbot.waitSignal(verify.jobFinished, timeout=60_000):
        wizard.setStartId(page_id)
        wizard.restart()
    assert session.verify_report is not None and session.verify_report.path == outcome.bundle_path
    return verify


@pytest.mark.parametrize(("ui", "expected"), [("korean_ui", PAGE_KO), ("english_ui", PAGE_EN)])
def test_the_check_page_says_what_was_set_aside_and_why(
        qtbot: Any, make_wizard: Any, clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest, ui: str, expected: list[str]) -> None:
    from emr_exporter.jobs.report import set_aside_text

    request.getfixturevalue(ui)  # the wizard in Korean (our translations, Qt's), or in English
    verify = _checked(qtbot, make_wizard, clinic, tmp_path / "out", monkeypatch)
    assert verify.quarantine_label.isVisible()
    shown = verify.quarantine_label.text().split("\n")
    assert shown == expected
    check_against_bag(shown[1:], clinic)
    if ui != "korean_ui":
        return
    # the sections as the page's own table names them
    table = {verify.table.item(r, 0).text() for r in range(verify.table.rowCount())}
    assert {"검사 결과", "영수증", "보험 자격 이력", "내원", "처방·오더", "예방접종", "활력징후", "환자", "상병",
            "알레르기·부작용"} <= table
    # one wording: the core's text of this very export, with the command line's section names, is what it prints
    assert set_aside_text(verify.session.outcome.reconciliation, "ko").split("\n") == CLI_KO
    for line in shown:
        assert glossary_problems(line) == [], line
