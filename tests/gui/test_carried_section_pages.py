"""A clinic whose connector carries a section's rows whole (``carry = "…"``, tests/test_carried_sections.py): the
wizard's scan, export and check pages count those rows in their totals and list them, with the connector's
reason, in plain Korean."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emr_exporter.resources import glossary_problems

pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_carried_sections import REASON, _setup  # noqa: E402

#: The carried section's line, on the scan page and the check page.
CARRIED = f"EMR 표 “meas”의 일부 기록, 원래 모습 그대로 보관 (이유: “{REASON}”)"


def table_rows(widget: Any) -> list[list[str]]:
    return [[widget.item(r, c).text() for c in range(widget.columnCount())] for r in range(widget.rowCount())]


def _show(qtbot: Any, wizard: Any, page: Any) -> None:
    [page_id] = [i for i, p in zip(wizard.pageIds(), wizard.all_pages(), strict=True) if p is page]
    wizard.setStartId(page_id)
    wizard.restart()
    qtbot.waitUntil(lambda: not page.busy(), timeout=60_000)


def test_the_pages_count_and_name_the_carried_sections_rows_in_korean(
        qtbot: Any, korean_ui: Any, make_wizard: Any, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from emr_exporter.jobs.service import ExportRequest, run_export
    from emr_exporter.sources.address import SourceAddress

    _setup("sqlite", request, tmp_path)  # tmp_path/clinic.sqlite, tmp_path/carried/connector.toml
    monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(tmp_path))
    address = SourceAddress(database=tmp_path / "clinic.sqlite")
    wizard = make_wizard()
    session = wizard.session
    session.connector, session.source = "carried", address

    scan = wizard.scan_page
    with qtbot.waitSignal(scan.jobFinished, timeout=120_000):
        _show(qtbot, wizard, scan)
    # 2 patients and 100 weights to export, the section's 20 rows kept as they are: every row of the database
    assert scan.progress_label.text() == (
        "기록 122건을 찾았습니다: 102건은 내보내고, 20건은 원래 모습 그대로 보관하며, 0건은 이유와 함께 별도 "
        "보관합니다.")
    shown = table_rows(scan.table)
    # each section by its record type: the weights' section (vital_weight, of vital_signs) as 활력징후, its own name
    # quoted after it so two sections of one type stay apart
    assert shown == [["환자", "2", "0", ""], ["활력징후 (“vital_weight”)", "100", "0", ""], [CARRIED, "20", "0", ""]]

    outcome = run_export(ExportRequest(connector="carried", source=address, institution_code="12345678",
                                       institution_name="의원", connectors_dirs=(tmp_path,)))
    assert outcome.reconciliation.row_totals["carried_sections"] == 20
    export = wizard.export_page
    export._on_exported(dataclasses.replace(outcome, bundle_path=tmp_path / "x.emrx", bundle_bytes=1))
    assert export.rate_label.text() == (
        "102건을 내보냈고, 20건은 원래 모습 그대로 보관했으며, 0건은 이유와 함께 별도 보관했습니다.")

    session.outcome = outcome
    session.verify_report = SimpleNamespace(parts=1, size=1, path=tmp_path / "x.emrx")  # the sealed file's check
    verify = wizard.verify_page
    _show(qtbot, wizard, verify)
    assert verify.summary_label.text() == (
        "빠진 기록 없음: EMR의 기록 122건이 모두 확인되었습니다 — 102건 내보냄, 20건 원래 모습 그대로 보관, "
        "0건 별도 보관.")
    rows = table_rows(verify.table)
    assert rows == [["환자", "2", "2", "0"], ["활력징후 (“vital_weight”)", "100", "100", "0"],
                    [CARRIED, "20", "20", "0"]]
    # plain Korean (the glossary): the table's and the reason's own words are “quoted”
    for text in [scan.progress_label.text(), export.rate_label.text(), verify.summary_label.text(),
                 *(cell for row in shown + rows for cell in row[:1])]:
        assert glossary_problems(text) == [], text


def test_a_section_is_named_by_its_record_type_and_the_scaffolds_reason_in_korean(korean_ui: Any) -> None:
    from emr_exporter.gui import texts
    from emr_exporter.jobs.authoring import OTHER_REASON

    assert texts.section_name("vital_weight", "vital_signs") == "활력징후 (“vital_weight”)"
    assert texts.section_name("problem", "diagnosis") == "상병 (“problem”)"
    assert texts.section_name("nursing_note", "chart_note") == "간호기록"  # a name of its own
    assert texts.section_name("patient", "patient") == "환자"
    assert texts.section_name("vital_weight", "") == "vital_weight"  # connector not installed here: as it is
    assert texts.reading_what("export", "vital_weight", {"vital_weight": "vital_signs"}) == "활력징후 (“vital_weight”)"
    assert texts.reading_what("carry", "sms_log", {}) == "EMR 표 “sms_log”"
    # the reason the scaffold writes for a measurement table's other rows, in the founder's words
    line = texts.carried_section("MEAS", OTHER_REASON)
    assert line == "EMR 표 “MEAS”의 일부 기록, 원래 모습 그대로 보관 (이유: 활력징후도 검사 결과도 아닌 측정 기록, 기록된 그대로)"
    assert glossary_problems(line) == []
