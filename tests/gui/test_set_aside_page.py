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
    CLI_EN,
    CLI_KO,
    INSTITUTION,
    Clinic,
    build_clinic,
    check_against_bag,
)

#: The check page says what the command line prints, word for word: one wording, one table of section names (the
#: core's ``ENTITY_NAMES``: 검사 결과, 진료비 영수증, 보험 자격 이력 on the page, in the terminal and in the report alike).
PAGE_KO = CLI_KO
#: The check page in English (`emr-exporter --lang en`), as `emr-export export` prints under C.UTF-8
PAGE_EN = CLI_EN


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
    assert {"검사 결과", "진료비 영수증", "보험 자격 이력", "내원", "처방·오더", "예방접종", "활력징후", "환자", "상병",
            "알레르기·부작용"} <= table
    # one wording: the core's text of this very export, as the command line prints it, is what the page shows
    assert set_aside_text(verify.session.outcome.reconciliation, "ko").split("\n") == shown
    for line in shown:
        assert glossary_problems(line) == [], line
