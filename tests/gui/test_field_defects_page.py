"""Values kept as they were (field defects: a status, an eye side, a date or characters that could not be read; the
record exported, the one value kept beside it) are on the wizard's check page in the founder's words, counted per
section and kind, never a value — the same lines, word for word, as the command line prints at the end of the same
export, in Korean and in English, every section by the core's one table of names (``ENTITY_NAMES``).

Two real clinics: the synthetic demo clinic (a status no vital sign knows, impossible birth and coverage dates,
damaged characters, text that would lose characters, an invisible control character) and the eye clinic of
``tests/connectors/eye_clinic.py`` on SQLite, its connector written by ``emr-export scaffold`` (a diagnosis whose eye
is 'X': ``unreadable-eye``). The wizard's language and the terminal's locale (ko_KR.UTF-8, C.UTF-8) each both ways;
CI runs this file a second time under a Korean desktop locale (``.ci/run``)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.resources import glossary_problems

pytestmark = pytest.mark.gui

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "connectors"), str(Path(__file__).resolve().parents[1])]
from eye_clinic import create_eye_clinic  # noqa: E402

from test_foreign_schemas import INSTITUTION, Flow, _run, scaffolded  # noqa: E402

KEPT = ": 환자 기록으로 옮기지 않고, 원래 모습 그대로 봉인 파일 안에 별도 보관했습니다."
STAYS = ": 기록은 환자 기록으로 옮겼고, 이 값은 원래 값 그대로 보관되어 환자 기록에 함께 남습니다."
NOTHING = " 따로 하실 일은 없습니다."
KEPT_EN = ": not made into patient records, kept exactly as they were inside the sealed file."
ONE_KEPT_EN = ": not made into a patient record, kept exactly as it was inside the sealed file."
STAYS_EN = ": the records went into the patient records; these values are kept as they were and stay with them."
ONE_STAYS_EN = ": the record went into the patient records; this value is kept as it was and stays with it."
NOTHING_EN = " Nothing to do."

#: The demo clinic of 30 patients (``emr-export demo --patients 30``): the records kept separately, then the values
#: kept as they were (the status a vital sign does not know, dates, damaged characters …).
DEMO_KO = [
    "무엇이 따로 보관되었나요",
    "• 날짜를 읽을 수 없는 기록 4건 (내원 1, 검사 결과 1, 진료비 영수증 1, 활력징후 1)" + KEPT + NOTHING,
    "• 연결된 환자나 내원 기록이 없거나 따로 보관된 기록 4건 (내원 2, 상병 1, 예방접종 1)" + KEPT + NOTHING,
    "• 꼭 필요한 값(예: 환자 성명)이 비어 있는 기록 4건 (환자 1, 상병 1, 처방·오더 1, 알레르기·부작용 1)" + KEPT + NOTHING,
    "• 번호가 다른 기록과 겹치는 기록 2건 (환자 2)" + KEPT + NOTHING,
    "• 첨부 파일을 찾을 수 없는 기록 2건 (첨부 파일 2)" + KEPT
    + " 하실 일: EMR의 첨부(스캔) 폴더가 이 PC에 모두 있는지 확인한 뒤 다시 내보내세요.",
    "• 첨부 파일이 첨부 폴더 밖에 있는 기록 2건 (첨부 파일 2)" + KEPT
    + " 하실 일: 설치를 도와준 업체에 첨부 파일의 위치를 확인해 달라고 하세요.",
    "• 번호가 다른 기록과 띄어쓰기만 다른 기록 1건 (의료인 1)" + KEPT + NOTHING,
    "• 글자가 깨져 읽을 수 없는 기록 1건 (환자 1)" + KEPT + NOTHING,
    "• 날짜를 읽을 수 없는 값 3개 (환자 2, 보험 자격 이력 1)" + STAYS + NOTHING,
    "• 글자 일부가 바뀔 수 있는 값 3개 (상병 1, 진료기록 1, 영상 판독 1)" + STAYS + NOTHING,
    "• 글자가 깨져 읽을 수 없는 값 2개 (상병 1, 진료기록 1)" + STAYS + NOTHING,
    "• 보이지 않는 특수 문자가 들어 있는 값 1개 (상병 1)" + STAYS + NOTHING,
    "• 진행 상태를 읽을 수 없는 값 1개 (활력징후 1)" + STAYS + NOTHING,
]
DEMO_EN = [
    "What was set aside",
    "• 4 records with a date that cannot be read (Visits 1, Lab results 1, Receipts 1, Vital signs 1)" + KEPT_EN
    + NOTHING_EN,
    "• 4 records linked to a patient or visit that does not exist or was set aside itself (Visits 2, Diagnoses 1, "
    "Vaccinations 1)" + KEPT_EN + NOTHING_EN,
    "• 4 records with a needed value empty (e.g. the patient's name) (Patients 1, Diagnoses 1, Orders and "
    "prescriptions 1, Allergies and adverse reactions 1)" + KEPT_EN + NOTHING_EN,
    "• 2 records with a number another record has too (Patients 2)" + KEPT_EN + NOTHING_EN,
    "• 2 records whose attached file is missing (Attached files 2)" + KEPT_EN
    + " To do: check that the EMR's attachments (scans) folder is complete on this PC, then export again.",
    "• 2 records whose attached file is outside the attachments folder (Attached files 2)" + KEPT_EN
    + " To do: ask your IT contractor to check where the attached files are kept.",
    "• 1 record with a number differing from another's only by spaces (Doctors and staff 1)" + ONE_KEPT_EN
    + NOTHING_EN,
    "• 1 record with damaged characters (Patients 1)" + ONE_KEPT_EN + NOTHING_EN,
    "• 3 values with a date that cannot be read (Patients 2, Insurance coverage periods 1)" + STAYS_EN + NOTHING_EN,
    "• 3 values with text that would lose characters (Diagnoses 1, Chart notes 1, Imaging reports 1)" + STAYS_EN
    + NOTHING_EN,
    "• 2 values with damaged characters (Diagnoses 1, Chart notes 1)" + STAYS_EN + NOTHING_EN,
    "• 1 value holding invisible special characters (Diagnoses 1)" + ONE_STAYS_EN + NOTHING_EN,
    "• 1 value with a status that cannot be read (Vital signs 1)" + ONE_STAYS_EN + NOTHING_EN,
]
#: The eye clinic: a refraction row whose eye is '3' (no eye: its readings have no Observation, the row is kept
#: separately) and a diagnosis whose eye is 'X' (the diagnosis exported, its eye kept as written).
EYE_KO = [
    "무엇이 따로 보관되었나요",
    "• 국가 표준 형식으로 옮길 수 없는 기록 1건 (활력징후 1)" + KEPT + NOTHING,
    "• 어느 눈인지 읽을 수 없는 값 1개 (상병 1)" + STAYS + NOTHING,
]
EYE_EN = [
    "What was set aside",
    "• 1 record not writable in the national format (Vital signs 1)" + ONE_KEPT_EN + NOTHING_EN,
    "• 1 value with an eye side that cannot be read (Diagnoses 1)" + ONE_STAYS_EN + NOTHING_EN,
]
#: The check page's table for the demo clinic: every section by the core's one name (the last row, the EMR's other
#: tables, left out)
DEMO_TABLE_KO = ["의료인", "환자", "내원", "상병", "진료기록", "간호기록", "처방·오더", "처치·수술", "검사 결과", "영상 판독",
                 "발급한 증명서", "진료비 영수증", "진료비 세부내역", "첨부 파일", "알레르기·부작용", "예방접종", "활력징후",
                 "보험 자격 이력", "복용 약 목록", "검사 보고서"]
DEMO_TABLE_EN = ["Doctors and staff", "Patients", "Visits", "Diagnoses", "Chart notes", "Nursing records",
                 "Orders and prescriptions", "Procedures", "Lab results", "Imaging reports", "Certificates issued",
                 "Receipts", "Fee details", "Attached files", "Allergies and adverse reactions", "Vaccinations",
                 "Vital signs", "Insurance coverage periods", "Medication list", "Lab reports"]
#: Words a founder must never read on these lines (the engineering names of what they describe).
JARGON = ("quarantin", "fhir", "sidecar", "defect", "격리", "reason", "status-unread", "unreadable-", "invalid-",
          "bad-encoding", "lossy-text", "control-characters", "ndjson", "data/raw")


@dataclass
class Exported:
    """A sealed export the wizard's check page is shown for, and how the command line exports the same clinic."""

    outcome: Any
    connector: str
    cli_args: list[str]  # the same export on the command line (a dry run: the same reconciliation)
    env: dict[str, str]
    connectors: Path | None = None


def _demo(tmp: Path) -> Exported:
    from emr_exporter.gui.session import DEMO_FOLDER, prepare_demo_material
    from emr_exporter.jobs.service import DemoRequest, ExportRequest, prepare_demo, run_export
    from emr_exporter.sources.address import SourceAddress

    material = prepare_demo_material(tmp / DEMO_FOLDER)
    database, attachments = prepare_demo(DemoRequest(out_dir=tmp / "clinic", patients=30))
    outcome = run_export(ExportRequest(
        connector="demo", source=SourceAddress(database=database), attachments_root=attachments,
        out_dir=tmp / "out", signer_path=material.institution_p12, signer_password=material.institution_password,
        recipient_cert=material.store_cert))
    return Exported(outcome, "demo", ["demo", "--out", str(tmp / "cli"), "--patients", "30", "--dry-run"], {})


def _eye(tmp: Path) -> Exported:
    from emr_exporter.jobs.service import ExportRequest, run_export
    from emr_exporter.sources.address import SourceAddress

    clinic = create_eye_clinic("sqlite", tmp / "eye.db")
    flow: Flow = scaffolded(clinic, tmp)
    keys = flow.keys
    outcome = run_export(ExportRequest(
        connector="foreign", source=SourceAddress(database=clinic.path), institution_code=INSTITUTION[0],
        institution_name=INSTITUTION[1], out_dir=tmp / "out", signer_path=keys.institution_p12,
        signer_password=keys.institution_password, recipient_cert=keys.store_cert, accept_signer_mismatch=True,
        connectors_dirs=(flow.connectors,)))
    args = ["export", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source,
            "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--dry-run"]
    return Exported(outcome, "foreign", args, flow.env, flow.connectors)


@pytest.fixture(scope="module")
def clinics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Exported]:
    return {"demo": _demo(tmp_path_factory.mktemp("demo")), "eye": _eye(tmp_path_factory.mktemp("eye"))}


@pytest.fixture
def english_ui(qapp: Any) -> Any:
    """The wizard in English, whatever the desktop's language (as `emr-exporter --lang en`)."""
    from emr_exporter.gui.qt import QLocale

    QLocale.setDefault(QLocale("en"))
    yield
    QLocale.setDefault(QLocale.c())


def _check_page(qtbot: Any, make_wizard: Any, exported: Exported, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The check page after the export, as the wizard shows it; the sealed file verified by the page itself."""
    if exported.connectors is not None:
        monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(exported.connectors))  # the page names the sections
    wizard = make_wizard()
    session = wizard.session
    session.connector, session.outcome = exported.connector, exported.outcome
    verify = wizard.verify_page
    [page_id] = [i for i, p in zip(wizard.pageIds(), wizard.all_pages(), strict=True) if p is verify]
    with qtbot.waitSignal(verify.jobFinished, timeout=60_000):
        wizard.setStartId(page_id)
        wizard.restart()
    assert session.verify_report is not None and session.verify_report.path == exported.outcome.bundle_path
    return verify


def _printed(output: str, heading: str) -> list[str]:
    lines = output.splitlines()
    start = lines.index(heading)
    return lines[start:lines.index("", start)]


@pytest.mark.parametrize(("which", "ui", "expected"), [
    ("demo", "korean_ui", DEMO_KO), ("demo", "english_ui", DEMO_EN),
    ("eye", "korean_ui", EYE_KO), ("eye", "english_ui", EYE_EN)])
def test_values_kept_as_they_were_are_on_the_check_page_as_the_command_line_prints_them(
        qtbot: Any, make_wizard: Any, clinics: dict[str, Exported], monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest, which: str, ui: str, expected: list[str]) -> None:
    request.getfixturevalue(ui)
    exported = clinics[which]
    verify = _check_page(qtbot, make_wizard, exported, monkeypatch)
    assert verify.quarantine_label.isVisible()
    shown = verify.quarantine_label.text().split("\n")
    assert shown == expected
    # the counts are the sealed export's: its field defects per section, its set-aside rows per section
    reconciliation = exported.outcome.reconciliation
    defects = {e.entity: dict(e.field_defects) for e in reconciliation.entities if e.field_defects}
    assert defects == ({"patient": {"invalid-date": 2}, "diagnosis": {"bad-encoding": 1, "control-characters": 1,
                                                                     "lossy-text": 1},
                        "chart_note": {"bad-encoding": 1, "lossy-text": 1}, "imaging_report": {"lossy-text": 1},
                        "vital_signs": {"status-unread": 1}, "coverage": {"invalid-date": 1}}
                       if which == "demo" else {"diagnosis": {"unreadable-eye": 1}})
    if which == "demo":  # the page's own table names the sections with the same words, from the same table
        table = [verify.table.item(r, 0).text() for r in range(verify.table.rowCount() - 1)]
        assert table == (DEMO_TABLE_KO if ui == "korean_ui" else DEMO_TABLE_EN)
    text = "\n".join(shown)
    assert not [word for word in JARGON if word in text.lower()]
    if ui == "korean_ui":
        assert all(glossary_problems(line) == [] for line in shown)
    # the command line, at the end of the same export, in the terminal's language: the same lines, word for word
    lang = "ko_KR.UTF-8" if ui == "korean_ui" else "C.UTF-8"
    result = _run(exported.cli_args, {**exported.env, "LANG": lang, "LC_ALL": lang}, 0)
    assert _printed(result.output, expected[0]) == expected


def test_the_bags_report_counts_what_the_page_says(clinics: dict[str, Exported]) -> None:
    """The eye clinic's sealed file holds the one value kept as it was, with its column and reason, never shown."""
    from emr_exporter.bundle.reader import verify_bundle

    outcome = clinics["eye"].outcome
    assert verify_bundle(outcome.bundle_path).bundle_id == outcome.bundle_id
    summary = json.loads(outcome.bundle_path.with_name(outcome.bundle_path.name + ".summary.json").read_bytes())
    entities = {e["entity"]: e for e in summary["reconciliation"]["entities"]}
    assert entities["diagnosis"]["field_defects"] == {"unreadable-eye": 1}
    assert entities["vital_signs"]["quarantine_reasons"] == {"unmappable": 1}
