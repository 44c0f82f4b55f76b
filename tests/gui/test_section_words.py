"""One vocabulary: every record type has exactly one name in the founder's words, Korean and English, in ONE table
in the core (``reports/transfer.py`` ``ENTITY_NAMES``); the wizard's pages, the command line's set-aside lines and the
transfer report all name a section through it (``jobs.report.section_name``), and the wizard keeps no second table of
its own in its translations (it once said 검사 결과, 영수증, 보험 자격 이력 where the command line and the report said
검사결과, 진료비 영수증, 보험 자격). The words on a real check page and in a real terminal:
``tests/gui/test_field_defects_page.py``, ``tests/gui/test_set_aside_page.py``, ``tests/test_set_aside.py``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from emr_exporter.model import ENTITY_TYPES
from emr_exporter.reports.transfer import ENTITY_NAMES, section_name
from emr_exporter.resources import glossary_problems, resource_path

pytestmark = pytest.mark.gui

#: The words, as the founder reads them (a change here is a change of what every screen and paper says).
WORDS = {
    "practitioner": ("의료인", "Doctors and staff"),
    "patient": ("환자", "Patients"),
    "encounter": ("내원", "Visits"),
    "diagnosis": ("상병", "Diagnoses"),
    "chart_note": ("진료기록", "Chart notes"),
    "nursing_note": ("간호기록", "Nursing records"),
    "order_line": ("처방·오더", "Orders and prescriptions"),
    "procedure": ("처치·수술", "Procedures"),
    "lab_result": ("검사 결과", "Lab results"),
    "imaging_report": ("영상 판독", "Imaging reports"),
    "certificate": ("발급한 증명서", "Certificates issued"),
    "receipt": ("진료비 영수증", "Receipts"),
    "fee_line": ("진료비 세부내역", "Fee details"),
    "attachment": ("첨부 파일", "Attached files"),
    "allergy": ("알레르기·부작용", "Allergies and adverse reactions"),
    "immunization": ("예방접종", "Vaccinations"),
    "vital_signs": ("활력징후", "Vital signs"),
    "coverage": ("보험 자격 이력", "Insurance coverage periods"),
    "medication_statement": ("복용 약 목록", "Medication list"),
    "lab_report": ("검사 보고서", "Lab reports"),
    "payment": ("수납 결제", "Payments"),
    "appointment": ("예약", "Appointments"),
}


def test_every_record_type_has_exactly_one_name_in_each_language() -> None:
    # every canonical record type (and the demo's nursing notes, a section with a name of its own), once
    assert set(ENTITY_NAMES) == set(ENTITY_TYPES) | {"nursing_note"}
    assert ENTITY_NAMES == WORDS
    for pick in (0, 1):
        names = [pair[pick] for pair in ENTITY_NAMES.values()]
        assert len(set(names)) == len(names)  # no two record types share a name
        squeezed = [name.replace(" ", "").lower() for name in names]
        assert len(set(squeezed)) == len(squeezed)  # nor differ only by a space
    for korean, _ in ENTITY_NAMES.values():
        assert glossary_problems(korean) == [], korean


def test_the_wizard_keeps_no_second_table_of_names() -> None:
    """No translation of the wizard is a record type's name, nor one of its spellings (검사결과 for 검사 결과): the
    pages take the names from the core, in the wizard's language."""
    squeezed = {pair[0].replace(" ", "") for pair in ENTITY_NAMES.values()}
    english = {pair[1] for pair in ENTITY_NAMES.values()}
    found = []
    for message in ET.parse(resource_path("i18n", "emr_exporter_ko.ts")).getroot().iter("message"):
        source = message.findtext("source") or ""
        korean = (message.findtext("translation") or "").replace(" ", "")
        if source in english or korean in squeezed:
            found.append((source, korean))
    assert found == []


def test_no_translation_spells_a_record_types_name_otherwise() -> None:
    """A name written with a space (첨부 파일, 검사 결과) is never written without it in another sentence of the wizard
    (첨부파일 폴더, 검사결과): one spelling for one word."""
    squeezed = {pair[0].replace(" ", "") for pair in ENTITY_NAMES.values() if " " in pair[0]}
    assert "첨부파일" in squeezed and "검사결과" in squeezed
    found = []
    for message in ET.parse(resource_path("i18n", "emr_exporter_ko.ts")).getroot().iter("message"):
        korean = message.findtext("translation") or ""
        found += [(word, korean) for word in squeezed if word in korean]
    assert found == []


@pytest.mark.parametrize(("ui", "pick"), [("korean_ui", 0), ("english_ui", 1)])
def test_the_wizard_names_every_record_type_and_section_by_the_one_table(
        request: pytest.FixtureRequest, qapp: Any, ui: str, pick: int) -> None:
    from emr_exporter.gui import texts
    from emr_exporter.gui.qt import QLocale

    if ui == "korean_ui":
        request.getfixturevalue(ui)
    else:
        QLocale.setDefault(QLocale("en"))
    try:
        lang = texts.language()
        assert lang == ("ko", "en")[pick]
        for entity, pair in WORDS.items():
            assert texts.entity_name(entity) == pair[pick]
            assert texts.section_name(entity, entity) == section_name(entity, entity, lang) == pair[pick]
        # a section named otherwise than its type: the type's one name, the section's own quoted after it
        assert texts.section_name("lab_rows", "lab_result") == ("검사 결과 (“lab_rows”)",
                                                                "Lab results (“lab_rows”)")[pick]
        assert texts.reading_what("entities", "receipt", {}) == WORDS["receipt"][pick]
    finally:
        QLocale.setDefault(QLocale.c())
