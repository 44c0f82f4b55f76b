"""The transfer report names a section as the wizard does: by its record type, the section's own name quoted after
it where the two differ (``vital_weight`` of ``vital_signs`` → "활력징후 (“vital_weight”)"); every reason the
founder can read there is in plain words, never a code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.reports.transfer import (
    LABELS,
    QUARANTINE_REASONS,
    TransferReport,
    name_section,
    render_transfer_report,
    report_from_outcome,
    section_name,
)
from emr_exporter.resources import glossary_problems
from emr_exporter.sources.address import SourceAddress
from test_report import pdf_text


def _entity(name: str, source: int, exported: int, reasons: dict[str, int]) -> dict[str, object]:
    return {"entity": name, "table": name.upper(), "source_rows": source, "exported": exported,
            "quarantined": source - exported, "quarantine_reasons": reasons, "balanced": True}


REPORT = TransferReport(
    institution_code="12345678", institution_name="시험의원", created="2026-12-01T23:40:00+00:00",
    reconciliation={
        "entities": [
            _entity("patient", 3, 3, {}),
            _entity("vital_weight", 5, 4, {"status-unread": 1}),
            _entity("problem", 2, 1, {"unreadable-teeth": 1}),
            _entity("nursing_note", 1, 1, {}),
            _entity("odd_rows", 1, 1, {}),
        ],
        "balanced": True, "totals": {"source_rows": 12, "exported": 10, "quarantined": 2},
        "inventory": [{"name": "VITAL", "kind": "table", "rows": 5, "fate": "entities",
                       "entities": ["vital_weight", "patient"],
                       "unselected_columns": {"columns": ["MEMO"], "queries_not_read": ["vital_weight"]},
                       "read_again": [{"section": "problem", "by": "vital_weight", "columns": ["dx1", "dx2"]}]},
                      {"name": "CODES", "kind": "table", "rows": 2, "fate": "carried",
                       "also_read_by": ["problem"]}],
        "field_defects": {"status-unread": 1, "unreadable-teeth": 1},
    },
    section_types={"vital_weight": "vital_signs", "problem": "diagnosis", "nursing_note": "chart_note",
                   "odd_rows": "no_such_type"},
)


def test_a_section_is_named_by_its_record_type_in_both_languages() -> None:
    assert section_name("vital_weight", "vital_signs", "ko") == "활력징후 (“vital_weight”)"
    assert section_name("vital_weight", "vital_signs", "en") == "Vital signs (“vital_weight”)"
    assert section_name("vital_signs", "vital_signs", "ko") == "활력징후"
    assert section_name("nursing_note", "chart_note", "ko") == "간호기록"  # a name of its own
    assert section_name("odd_rows", "no_such_type", "ko") == "odd_rows"  # a type with no name: as it is
    assert section_name("vital_weight", "", "ko") == "vital_weight"  # an older summary: no type known
    # the wizard's naming is the same function with its own (translated) type names and pattern
    names = {"diagnosis": "Diagnoses"}
    assert name_section("problem", "diagnosis", lambda n: names.get(n, n), "{kind} [{section}]") == "Diagnoses [problem]"


def test_the_report_names_sections_and_reasons_in_plain_words(tmp_path: Path) -> None:
    printed = dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
    ko = " ".join(pdf_text(render_transfer_report(REPORT, "ko", printed)).split())
    # counts per record type (with the type's retention class), the quarantine table, the inventory
    assert "활력징후 (“vital_weight”) 진료기록부 (10) 5 4 1" in ko
    assert "상병 (“problem”) 진료기록부 (10) 2 1 1" in ko
    assert "간호기록 간호기록부 (5) 1 1 0" in ko and "odd_rows — 1 1 0" in ko
    assert ("활력징후 (“vital_weight”) 프로그램이 모르는 진행 상태 값 1 기록은 이관했고 상태는 '알 수 없음'"
            in ko)
    assert "상병 (“problem”) 치아 번호로 읽을 수 없는 표기 1 치아 번호(11~48, 51~85)가 아닌 표기" in ko
    assert ("기록으로 이관: 활력징후 (“vital_weight”), 환자; 기록에 들어가지 않은 나머지 열 1개는 원본 그대로 이관 "
            "(data/raw/unselected) (활력징후 (“vital_weight”)의 조회문은 프로그램이 풀어 읽을 수 없어, 이 표의 모든 "
            "열을 원본 그대로 함께 이관); 열 2개는 상병 (“problem”) 기록으로 다시 읽어 그쪽에 이관 (두 번 세지 않음)") in ko
    assert "상병 (“problem”)" in ko.split("CODES", 1)[1]
    assert "프로그램이 모르는 진행 상태 값 1, 치아 번호로 읽을 수 없는 표기 1" in ko
    for code in ("status-unread", "unreadable-teeth", "read_again", "queries_not_read", "vital_weight ",
                 "no_such_type"):
        assert code not in ko.replace("“vital_weight”", "")
    en = " ".join(pdf_text(render_transfer_report(REPORT, "en", printed)).split())
    assert "Vital signs (“vital_weight”) Medical record (10) 5 4 1" in en
    assert "Vital signs (“vital_weight”) a status value the program does not read 1" in en
    assert "Diagnoses (“problem”) tooth numbers that cannot be read 1" in en
    assert ("(the query of Vital signs (“vital_weight”) cannot be taken apart by the program: every column of the "
            "table is carried verbatim too); 2 of its columns read again as Diagnoses (“problem”) and transferred "
            "there (counted once)") in en


def test_the_new_reasons_are_in_the_founders_words() -> None:
    """Every reason and inventory line the founder reads for the kinds this session added follows the wizard's
    glossary (no jargon, no untranslated word) in Korean, and says more than its code."""
    for code in ("status-unread", "unreadable-teeth"):
        name, _, advice, _ = QUARANTINE_REASONS[code]
        assert glossary_problems(name) == glossary_problems(advice) == [] and code not in name + advice
    for key in ("fate_read_again", "fate_queries_not_read", "fate_entities"):
        assert glossary_problems(LABELS[key]["ko"]) == []


def test_an_export_remembers_each_sections_record_type(tmp_path: Path) -> None:
    """The export's own reconciliation gives the report the types (not written into the bag's reconciliation)."""
    from emr_exporter.demo.clinic import create_demo_clinic

    clinic = create_demo_clinic(tmp_path / "demo.sqlite", patients=8)
    outcome = run_export(ExportRequest(connector="demo", source=SourceAddress(database=clinic.path),
                                       attachments_root=clinic.attachments_root))
    assert report_from_outcome(outcome).section_types == {"nursing_note": "chart_note"}
    assert all("kind" not in e for e in outcome.reconciliation.to_dict()["entities"])
    assert set(QUARANTINE_REASONS) >= {"status-unread", "unreadable-teeth"}
