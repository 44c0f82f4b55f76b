"""What was set aside and why, in the founder's words (무엇이 따로 보관되었나요, ``reports/set_aside.py``): the end of
``emr-export export`` in Korean under ko_KR.UTF-8 and in English under C.UTF-8, on a real SQLite clinic with
impossible dates, numbers that cannot be read, orphans and a duplicated chart number
(``tests/connectors/foreign_sections.py``, its connector written by ``emr-export scaffold``); the counts are the
sealed bag's own report (``data/report/reconciliation.json``). The wizard's check page shows the same lines
(``tests/gui/test_set_aside_page.py``)."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.jobs.report import locale_language, set_aside_lines, set_aside_text
from emr_exporter.pipeline.export import EntityReconciliation, Reconciliation

sys.path[:0] = [str(Path(__file__).parent / "connectors"), str(Path(__file__).parent)]
from foreign_sections import SectionsDb, create_sqlite_sections  # noqa: E402

from test_foreign_schemas import INSTITUTION, Flow, _run, exported, scaffolded  # noqa: E402

#: Words a founder must never read (the engineering names of what the lines describe).
JARGON = ("quarantin", "fhir", "sidecar", "defect", "격리", "reason", "invalid-", "orphan", "null-key")

#: What the sealed bag's report holds for this clinic, per kind and reason: section → count
#: (quarantine_reasons: records kept separately; field_defects: values kept as they were).
BAG_COUNTS = {
    ("records", "invalid-date"): {"encounter": 3, "order_line": 2, "immunization": 1, "vital_signs": 2},
    ("records", "required-missing"): {"patient": 1, "encounter": 3, "diagnosis": 1, "lab_result": 1, "allergy": 1},
    ("records", "orphan"): {"encounter": 1, "diagnosis": 1, "order_line": 1, "immunization": 1},
    ("records", "ambiguous-key"): {"lab_result": 1},
    ("records", "duplicate"): {"patient": 1},
    ("records", "null-key"): {"lab_result": 1},
    ("values", "invalid-date"): {"patient": 1, "allergy": 1, "coverage": 1},
    # the insurance's open ends (99991231): no end, the cell kept as written (sentinel-date)
    ("values", "sentinel-date"): {"coverage": 13},
    ("values", "control-characters"): {"patient": 1, "diagnosis": 1},
    ("values", "invalid-number"): {"receipt": 1, "vital_signs": 1},
    ("values", "bad-encoding"): {"patient": 1},
    ("values", "invalid-rrn"): {"patient": 1},
}

NOTHING = " 따로 하실 일은 없습니다."
KEPT = ": 환자 기록으로 옮기지 않고, 원래 모습 그대로 봉인 파일 안에 별도 보관했습니다." + NOTHING
STAYS = ": 기록은 환자 기록으로 옮겼고, 이 값은 원래 값 그대로 보관되어 환자 기록에 함께 남습니다." + NOTHING
#: `emr-export export` under ko_KR.UTF-8 (sections named as the transfer report and the wizard name them: one table,
#: ``reports/transfer.py`` ``ENTITY_NAMES``)
CLI_KO = [
    "무엇이 따로 보관되었나요",
    "• 날짜를 읽을 수 없는 기록 8건 (내원 3, 처방·오더 2, 예방접종 1, 활력징후 2)" + KEPT,
    "• 꼭 필요한 값(예: 환자 성명)이 비어 있는 기록 7건 (환자 1, 내원 3, 상병 1, 검사 결과 1, 알레르기·부작용 1)" + KEPT,
    "• 연결된 환자나 내원 기록이 없거나 따로 보관된 기록 4건 (내원 1, 상병 1, 처방·오더 1, 예방접종 1)" + KEPT,
    "• 번호가 다른 기록과 띄어쓰기만 다른 기록 1건 (검사 결과 1)" + KEPT,
    "• 번호가 다른 기록과 겹치는 기록 1건 (환자 1)" + KEPT,
    "• 기록 번호가 없는 기록 1건 (검사 결과 1)" + KEPT,
    "• '날짜 없음' 대신 적힌 날짜(1900-01-01 등)인 값 13개 (보험 자격 이력 13)" + STAYS,
    "• 날짜를 읽을 수 없는 값 3개 (환자 1, 알레르기·부작용 1, 보험 자격 이력 1)" + STAYS,
    "• 보이지 않는 특수 문자가 들어 있는 값 2개 (환자 1, 상병 1)" + STAYS,
    "• 숫자로 읽을 수 없는 값 2개 (진료비 영수증 1, 활력징후 1)" + STAYS,
    "• 글자가 깨져 읽을 수 없는 값 1개 (환자 1)" + STAYS,
    "• 주민등록번호 형식이 올바르지 않은 값 1개 (환자 1)" + STAYS,
]
KEPT_EN = ": not made into patient records, kept exactly as they were inside the sealed file. Nothing to do."
ONE_KEPT_EN = ": not made into a patient record, kept exactly as it was inside the sealed file. Nothing to do."
STAYS_EN = (": the records went into the patient records; these values are kept as they were and stay with them. "
            "Nothing to do.")
ONE_STAYS_EN = ": the record went into the patient records; this value is kept as it was and stays with it. Nothing to do."
#: `emr-export export` under C.UTF-8
CLI_EN = [
    "What was set aside",
    "• 8 records with a date that cannot be read (Visits 3, Orders and prescriptions 2, Vaccinations 1, Vital "
    "signs 2)" + KEPT_EN,
    "• 7 records with a needed value empty (e.g. the patient's name) (Patients 1, Visits 3, Diagnoses 1, Lab results "
    "1, Allergies and adverse reactions 1)" + KEPT_EN,
    "• 4 records linked to a patient or visit that does not exist or was set aside itself (Visits 1, Diagnoses 1, Orders and "
    "prescriptions 1, Vaccinations 1)" + KEPT_EN,
    "• 1 record with a number differing from another's only by spaces (Lab results 1)" + ONE_KEPT_EN,
    "• 1 record with a number another record has too (Patients 1)" + ONE_KEPT_EN,
    "• 1 record without a record number (Lab results 1)" + ONE_KEPT_EN,
    "• 13 values with a placeholder date meaning no date (1900-01-01 and the like) (Insurance coverage periods 13)" + STAYS_EN,
    "• 3 values with a date that cannot be read (Patients 1, Allergies and adverse reactions 1, "
    "Insurance coverage periods 1)" + STAYS_EN,
    "• 2 values holding invisible special characters (Patients 1, Diagnoses 1)" + STAYS_EN,
    "• 2 values with a number that cannot be read (Receipts 1, Vital signs 1)" + STAYS_EN,
    "• 1 value with damaged characters (Patients 1)" + ONE_STAYS_EN,
    "• 1 value with a resident registration number that is not valid (Patients 1)" + ONE_STAYS_EN,
]


@dataclass
class Clinic:
    db: SectionsDb
    flow: Flow
    bag: Path  # the sealed export's bag, opened
    sealed: dict[str, Any]  # the sealed export's JSON

    def export_args(self) -> list[str]:
        return ["export", "--connector", "foreign", "--connectors-dir", str(self.flow.connectors), *self.flow.source,
                "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1]]


def build_clinic(tmp_path: Path) -> Clinic:
    """The SQLite clinic, its scaffolded connector, and a sealed export opened (verify and open: exit 0)."""
    db = create_sqlite_sections(tmp_path / "sections.sqlite")
    flow = scaffolded(db, tmp_path)
    _, sealed, bag = exported(flow, tmp_path)
    return Clinic(db, flow, bag, sealed)


def bag_counts(bag: Path) -> dict[tuple[str, str], dict[str, int]]:
    """Per kind and reason, the sections' counts, as the bag's report has them."""
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for entity in report["entities"]:
        for kind, key in (("records", "quarantine_reasons"), ("values", "field_defects")):
            for reason, n in entity[key].items():
                counts.setdefault((kind, reason), {})[entity["entity"]] = n
    return counts


def shown_totals(lines: list[str]) -> tuple[int, int]:
    """The records and the values the lines count ("기록 8건 (" / "값 3개 (", or "• 8 records " / "• 1 value ")."""
    records = values = 0
    for line in lines:
        record = re.search(r"기록 (\d+)건 \(|^• (\d+) records? ", line)
        value = re.search(r"값 (\d+)개 \(|^• (\d+) values? ", line)
        assert bool(record) != bool(value), line
        found = record or value
        assert found is not None
        n = int(found.group(1) or found.group(2))
        if record:
            records += n
        else:
            values += n
    return records, values


def check_against_bag(lines: list[str], clinic: Clinic) -> None:
    """The lines' totals are the bag's: records kept separately and values kept as they were; no patient value,
    no engineering word."""
    report = json.loads((clinic.bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert shown_totals(lines) == (report["totals"]["quarantined"], sum(report["field_defects"].values())) == (22, 9 + 13)  # + the open ends
    assert bag_counts(clinic.bag) == BAG_COUNTS
    text = "\n".join(lines)
    assert not [secret for secret in clinic.db.secrets if secret in text]
    assert not [word for word in JARGON if word in text.lower()]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    return build_clinic(tmp_path_factory.mktemp("set-aside"))


def _summary(output: str, heading: str) -> list[str]:
    """The export's summary block: from its heading to the blank line after it."""
    lines = output.splitlines()
    start = lines.index(heading)
    return lines[start:lines.index("", start)]


@pytest.mark.parametrize(("lang", "expected"), [("ko_KR.UTF-8", CLI_KO), ("C.UTF-8", CLI_EN)])
def test_the_export_ends_with_what_was_set_aside_in_the_terminals_language(
        clinic: Clinic, lang: str, expected: list[str]) -> None:
    for dry in (["--dry-run"], ["--out", str(clinic.flow.connectors.parent / f"out-{lang}"),
                                "--cert", str(clinic.flow.keys.institution_p12), "--store-cert",
                                str(clinic.flow.keys.store_cert), "--accept-signer-mismatch"]):
        result = _run([*clinic.export_args(), *dry], {**clinic.flow.env, "LANG": lang, "LC_ALL": lang}, 0)
        assert _summary(result.output, expected[0]) == expected
        # printed after the reconciliation table, before the bag's digest line
        assert result.output.index(expected[0]) > result.output.index("field defects (row kept")
    check_against_bag(expected[1:], clinic)
    # --json is unchanged: no text in it
    result = _run([*clinic.export_args(), "--dry-run", "--json"], {**clinic.flow.env, "LC_ALL": lang}, 0)
    assert expected[0] not in result.output


def test_the_language_follows_the_locale_variables_as_posix_reads_them() -> None:
    assert locale_language({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert locale_language({"LC_ALL": "C.UTF-8", "LANG": "ko_KR.UTF-8"}) == "en"
    assert locale_language({"LC_MESSAGES": "ko_KR.eucKR", "LANG": "en_US.UTF-8"}) == "ko"
    assert locale_language({"LC_ALL": "", "LANG": "en_GB.UTF-8"}) == "en"
    assert locale_language({"LANG": "C"}) == "en"


def _reconciliation(reasons: dict[str, int], defects: dict[str, int] | None = None,
                    inventory: list[dict[str, Any]] | None = None) -> Reconciliation:
    entity = EntityReconciliation("attachment", "att", sum(reasons.values()) + 3, exported=3,
                                  quarantined=sum(reasons.values()), reasons=Counter(reasons),
                                  field_defects=Counter(defects or {}))
    return Reconciliation([entity], inventory=inventory or [])


def test_what_the_founder_must_do_is_said_where_something_is_not_in_the_sealed_file() -> None:
    # attached files that are missing, cannot be opened or lie outside the folder: their records are kept, the
    # files are not in the sealed file — something to do; a reason the program has no words for: tell the contractor
    recon = _reconciliation({"file-missing": 2, "file-unreadable": 1, "path-outside-root": 1, "new-reason": 1},
                            inventory=[{"name": "acct_secret", "fate": "skipped", "rows": None, "unreadable": True},
                                       {"name": "sms_log", "fate": "carried", "rows": 4}])
    lines = set_aside_lines(recon, "ko")
    assert [(line.kind, line.reason, line.count, line.to_do) for line in lines] == [
        ("records", "file-missing", 2, True), ("records", "file-unreadable", 1, True),
        ("records", "new-reason", 1, True), ("records", "path-outside-root", 1, True),
        ("tables", "unreadable", 1, True)]
    assert [line.text for line in lines] == [
        "첨부 파일을 찾을 수 없는 기록 2건 (첨부 파일 2)" + KEPT.removesuffix(NOTHING)
        + " 하실 일: EMR의 첨부(스캔) 폴더가 이 PC에 모두 있는지 확인한 뒤 다시 내보내세요.",
        "첨부 파일을 열 수 없는 기록 1건 (첨부 파일 1)" + KEPT.removesuffix(NOTHING)
        + " 하실 일: 그 파일을 연 다른 프로그램을 모두 닫은 뒤 다시 내보내세요.",
        "그 밖의 이유로 옮기지 못한 기록 1건 (첨부 파일 1)" + KEPT.removesuffix(NOTHING)
        + " 하실 일: 설치를 도와준 업체에 알려 주세요.",
        "첨부 파일이 첨부 폴더 밖에 있는 기록 1건 (첨부 파일 1)" + KEPT.removesuffix(NOTHING)
        + " 하실 일: 설치를 도와준 업체에 첨부 파일의 위치를 확인해 달라고 하세요.",
        "이 PC의 EMR 계정이 읽을 수 없는 EMR 표 1개 (“acct_secret”): 봉인 파일에 들어가지 않았습니다. 하실 일: 설치를 "
        "도와준 업체에 이 표를 읽을 권한을 달라고 한 뒤 다시 내보내세요."]
    assert set_aside_lines(recon, "en")[4].text == (
        "1 EMR table this PC's EMR account may not read (“acct_secret”): not in the sealed file. To do: ask your IT "
        "contractor to let the account read it, then export again.")
    # a section is named by the caller's function (the wizard's), with its record type
    named = set_aside_lines(_reconciliation({"orphan": 1}), "en", lambda section, kind: f"<{section}|{kind}>")
    assert named[0].text.startswith("1 record linked to a patient or visit that does not exist or was set aside itself (<attachment|> 1)")


def test_nothing_set_aside_says_so() -> None:
    assert set_aside_text(_reconciliation({}), "ko") == (
        "무엇이 따로 보관되었나요\n따로 보관된 기록이나 값은 없습니다. 따로 하실 일은 없습니다.")
    assert set_aside_text(_reconciliation({}), "en") == (
        "What was set aside\nNo record or value had to be set aside. Nothing to do.")
