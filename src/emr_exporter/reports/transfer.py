"""The transfer report (이관 보고서): a printable PDF, Korean or English, for the founder and the health centre.

It says what was handed over: institution, closing date, signer, bundle id and digests, counts per record
type and retention class, the patient roster count, the quarantined rows, document readiness and the upload
receipt number when there is one. It holds **no patient data**: counts, reason codes and digests only, so
no resident registration number can appear in it, masked or not.

PDF library: fpdf2 (pure Python, no native code, so it freezes into the PyInstaller app unchanged; embeds a
TrueType subset with a ToUnicode map, so Korean text prints and can be searched and extracted). Font:
NanumGothic, SIL Open Font License 1.1, shipped in ``resources/fonts/`` with its licence text.

After a sealed export the service writes ``<bundle>.summary.json`` (the report's inputs, no patient data)
next to the bundle, so ``emr-export report BUNDLE`` can print the report again later, in either language,
with the closing date or the upload receipt number added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from emr_exporter import __version__, model
from emr_exporter.errors import ConfigError
from emr_exporter.pipeline.export import row_totals
from emr_exporter.resources import resource_path

SUMMARY_SUFFIX = ".summary.json"
FONT_FAMILY = "NanumGothic"

#: THE founder's words for each record type (entity), (Korean, English): the one table the wizard's pages, the command
#: line's set-aside lines and this report name a section by (``entity_name``, ``section_name``); the wizard keeps no
#: names of its own (tests/test_section_words.py).
ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "practitioner": ("의료인", "Doctors and staff"),
    "patient": ("환자", "Patients"),
    "encounter": ("내원", "Visits"),
    "diagnosis": ("상병", "Diagnoses"),
    "chart_note": ("진료기록", "Chart notes"),
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
    "nursing_note": ("간호기록", "Nursing records"),
}
RETENTION_NAMES: dict[str, tuple[str, str]] = {
    "patient-roster": ("환자 명부", "Patient roster"),
    "medical-record": ("진료기록부", "Medical record"),
    "prescription": ("처방전", "Prescription"),
    "operation-record": ("수술기록", "Operation record"),
    "test-record": ("검사기록", "Test record"),
    "imaging": ("방사선 사진 및 소견서", "Imaging and reports"),
    "nursing-record": ("간호기록부", "Nursing record"),
    "certificate-copy": ("진단서 등 부본", "Certificate copies"),
    "claims-document": ("청구 서류", "Claims documents"),
}

#: Quarantine reason codes as a health-centre officer reads them: (Korean name, English name, Korean advice,
#: English advice). The wizard says "별도 보관" for quarantined rows; the report uses the same words.
QUARANTINE_REASONS: dict[str, tuple[str, str, str, str]] = {
    "orphan": ("연결된 기록이 없음", "refers to a record that does not exist",
               "EMR에서 연결된 환자·내원 기록이 지워졌는지 확인하세요. 원본 그대로 보관 파일에 들어 있습니다.",
               "Check in the EMR whether the linked patient or visit was deleted. The row is kept verbatim."),
    "duplicate": ("번호가 다른 기록과 겹침", "repeats another record's number",
                  "EMR 업체에 같은 번호의 기록이 두 개인 이유를 물어보세요. 두 기록 모두 보관되어 있습니다.",
                  "Ask the EMR vendor why two records share a number. Both are kept."),
    "duplicate-key": ("번호가 다른 기록과 겹침", "repeats another record's number",
                      "EMR 업체에 같은 번호의 기록이 두 개인 이유를 물어보세요. 두 기록 모두 보관되어 있습니다.",
                      "Ask the EMR vendor why two records share a number. Both are kept."),
    "invalid-date": ("날짜가 올바르지 않음", "has an impossible date",
                     "EMR에서 해당 기록의 날짜를 고친 뒤 다시 내보내거나, 이대로 제출하세요(원본 보관됨).",
                     "Correct the date in the EMR and export again, or hand over as is (kept verbatim)."),
    "required-missing": ("꼭 필요한 값이 비어 있음", "a required value is empty",
                         "EMR에서 빈 칸(예: 환자 성명)을 채운 뒤 다시 내보내세요.",
                         "Fill in the empty value (e.g. the patient's name) in the EMR and export again."),
    "bad-encoding": ("글자가 깨져 읽을 수 없음", "damaged characters",
                     "EMR 화면에서 글자가 깨져 보이는지 확인하세요. 원본 바이트 그대로 보관되어 있습니다.",
                     "Check whether the text looks broken in the EMR too. The original bytes are kept."),
    "lossy-text": ("글자 일부가 바뀔 수 있음", "text that would lose characters",
                   "원본 그대로 보관되어 있습니다. 따로 할 일은 없습니다.",
                   "Kept verbatim; nothing to do."),
    "file-missing": ("첨부 파일이 없음", "the attached file is missing",
                     "EMR의 첨부(스캔) 폴더가 이 PC에 모두 있는지 확인하고 다시 내보내세요.",
                     "Check that the EMR's attachment (scan) folder is complete on this PC, then export again."),
    "file-unreadable": ("첨부 파일을 읽을 수 없음", "the attached file cannot be read",
                        "파일이 다른 프로그램에서 열려 있거나 손상되었는지 확인하고 다시 내보내세요.",
                        "Check that the file is not open elsewhere or damaged, then export again."),
    "path-outside-root": ("첨부 파일이 첨부 폴더 밖에 있음", "the file is outside the attachments folder",
                          "EMR 업체에 첨부 파일 위치를 물어보고, 필요하면 첨부 폴더로 옮긴 뒤 다시 내보내세요.",
                          "Ask the EMR vendor where the file belongs; move it into the attachments folder "
                          "and export again if needed."),
    "null-key": ("기록 번호가 없음", "the record has no number",
                 "EMR 업체에 번호 없는 기록이 생긴 이유를 물어보세요. 원본 그대로 보관되어 있습니다.",
                 "Ask the EMR vendor why the record has no number. It is kept verbatim."),
    "invalid-number": ("숫자 값이 올바르지 않음", "a number that is not valid",
                       "EMR에서 해당 금액·수치를 확인하세요. 원본 그대로 보관되어 있습니다.",
                       "Check the amount or value in the EMR. It is kept verbatim."),
    "invalid-rrn": ("주민등록번호 형식이 올바르지 않음", "a resident registration number that is not valid",
                    "EMR의 환자 정보에서 주민등록번호를 확인해 고친 뒤 다시 내보내세요.",
                    "Check the resident registration number in the EMR and export again."),
    "unreadable-teeth": ("치아 번호로 읽을 수 없는 표기", "tooth numbers that cannot be read",
                         "치아 번호(11~48, 51~85)가 아닌 표기(예: 전악)는 치아 없이 이관했고 원래 값은 원본 그대로 "
                         "보관되어 있습니다. 따로 할 일은 없습니다.",
                         "Written otherwise than as tooth numbers (11-48, 51-85), e.g. 'whole mouth': transferred "
                         "without the teeth; the value is kept verbatim. Nothing to do."),
    "unreadable-surface": ("치아 면으로 읽을 수 없는 표기", "tooth surfaces that cannot be read",
                           "치아 면(근심·교합·원심·협측·설측, M/O/D/B/L)으로 읽을 수 없는 표기(예: F, 전면)는 면 없이 "
                           "이관했고 원래 값은 원본 그대로 보관되어 있습니다. 따로 할 일은 없습니다.",
                           "Written otherwise than as tooth surfaces (M/O/D/B/L, mesial, occlusal …), e.g. 'F': "
                           "transferred without the surfaces; the value is kept verbatim. Nothing to do."),
    "sentinel-date": ("'날짜 없음' 대신 적힌 날짜", "a placeholder date that means no date",
                      "1900-01-01, 1899-12-30, 9999-12-31처럼 EMR이 '날짜 없음' 대신 적는 날짜는 날짜 없이 "
                      "이관했고 원래 값은 원본 그대로 보관되어 있습니다. 따로 할 일은 없습니다.",
                      "A date the EMR writes for 'no date' (1900-01-01, 1899-12-30, 9999-12-31): transferred without "
                      "the date; the value is kept verbatim. Nothing to do."),
    "unreadable-eye": ("어느 눈인지 읽을 수 없는 표기", "an eye side that cannot be read",
                       "우안·좌안·양안(R/L/OU)으로 읽을 수 없는 표기는 눈 없이 이관했고 원래 값은 원본 그대로 "
                       "보관되어 있습니다. 따로 할 일은 없습니다.",
                       "Written otherwise than as an eye (R/OD, L/OS, B/OU): transferred without the eye; the value "
                       "is kept verbatim. Nothing to do."),
    "unmapped-code": ("프로그램이 모르는 코드", "a code the program does not know",
                      "설치를 도와준 업체에 알려 주세요. 원본 그대로 보관되어 있습니다.",
                      "Tell your IT contractor. The row is kept verbatim."),
    "invalid-bool": ("예/아니오 값이 올바르지 않음", "a yes/no value that is not valid",
                     "원본 그대로 보관되어 있습니다. 따로 할 일은 없습니다.", "Kept verbatim; nothing to do."),
    "ambiguous-key": ("기록 번호가 다른 기록과 공백만 다름", "its number differs from another only by spaces",
                      "EMR 업체에 같은 번호가 두 번 생긴 이유를 물어보세요. 원본 그대로 보관되어 있습니다.",
                      "Ask the EMR vendor why the number exists twice. It is kept verbatim."),
    "ambiguous-ref": ("연결된 기록이 둘 이상이라 정할 수 없음", "refers to more than one record",
                      "EMR 업체에 같은 번호(대소문자·공백·0만 다름)의 기록이 여럿인 이유를 물어보세요. "
                      "연결 없이 이관했고 원래 값은 원본 그대로 보관되어 있습니다.",
                      "Ask the EMR vendor why several records share the number (differing only in case, spaces "
                      "or zeros). Transferred without the link; the value is kept verbatim."),
    "invalid-output": ("국가 표준 형식의 규칙에 맞지 않음", "breaks a rule of the national format",
                       "설치를 도와준 업체에 알려 주세요. 원본 그대로 보관되어 있습니다.",
                       "Tell your IT contractor. The row is kept verbatim."),
    "duplicate-id": ("같은 기록이 두 번 읽힘", "the same record was read twice",
                     "설치를 도와준 업체에 알려 주세요. 먼저 읽힌 기록은 이관되었고, 두 번째는 원본 그대로 "
                     "보관되어 있습니다.",
                     "Tell your IT contractor. The first copy was transferred; the second is kept verbatim."),
    "status-unread": ("프로그램이 모르는 진행 상태 값", "a status value the program does not read",
                      "기록은 이관했고 상태는 '알 수 없음'(없는 형식은 보통 상태)으로 적었습니다. "
                      "원래 값은 원본 그대로 보관되어 있습니다. 설치를 도와준 업체에 알려 주세요.",
                      "The record is transferred, its status written as unknown (or the usual one where the format "
                      "has no unknown); the value is kept verbatim. Tell your IT contractor."),
    "control-characters": ("보이지 않는 제어 문자가 들어 있음", "invisible control characters",
                           "기호(␀ 등)로 바꿔 이관했고 원래 값은 원본 그대로 보관되어 있습니다.",
                           "Shown as symbols (␀ …); the exact value is kept verbatim."),
    "invalid-blob": ("저장된 데이터가 올바르지 않음", "stored data that is not valid",
                     "EMR 업체에 손상된 데이터인지 물어보세요. 원본 그대로 보관되어 있습니다.",
                     "Ask the EMR vendor whether the data is damaged. It is kept verbatim."),
    "mapping": ("국가 표준 형식으로 옮길 수 없음", "cannot be written in the national format",
                "설치를 도와준 업체에 알려 주세요. 원본 그대로 보관되어 있습니다.",
                "Tell your IT contractor. The row is kept verbatim."),
    "unmappable": ("국가 표준 형식으로 옮길 수 없음", "cannot be written in the national format",
                   "설치를 도와준 업체에 알려 주세요. 원본 그대로 보관되어 있습니다.",
                   "Tell your IT contractor. The row is kept verbatim."),
}
#: Any other code: a plain name and advice, never the raw code.
UNKNOWN_REASON = ("기타 사유", "other reason", "설치를 도와준 업체에 알려 주세요. 원본 그대로 보관되어 있습니다.",
                  "Tell your IT contractor. The row is kept verbatim.")

#: Advice for a document-readiness gap, by the first part of the requirement key (catalogue.toml).
GAP_ADVICE: dict[str, tuple[str, str]] = {
    "practitioner": ("EMR의 의사·직원 정보에 빠진 항목(면허번호 등)을 입력한 뒤 다시 내보내세요. "
                     "입력할 수 없으면 사유를 적어 이 보고서와 함께 제출하세요.",
                     "Enter the missing doctor details (e.g. licence number) in the EMR and export again; if "
                     "that is impossible, write the reason on this report."),
    "patient": ("EMR의 환자 정보에서 빈 항목을 채운 뒤 다시 내보내세요. 알 수 없는 항목은 그대로 두어도 "
                "기록은 보관됩니다.", "Fill in the missing patient details in the EMR and export again; "
                "unknown details may stay empty, the records are kept."),
    "institution": ("EMR의 병원 정보(명칭·주소·전화번호)를 채운 뒤 다시 내보내세요.",
                    "Fill in the clinic's details (name, address, phone) in the EMR and export again."),
}
DEFAULT_GAP_ADVICE = ("기록이 없는 경우 그대로 제출하세요. 해당 서류는 발급이 제한될 수 있습니다.",
                      "If the records do not exist, hand over as is; that document may not be issuable.")

LABELS: dict[str, dict[str, str]] = {
    "title": {"ko": "휴·폐업 의료기관 진료기록 이관 보고서",
              "en": "Transfer report: medical records of a closing clinic"},
    "demo": {"ko": "연습용 — 제출되지 않음 (가상의 데모 의원)",
             "en": "PRACTICE ONLY — NOT SUBMITTED (made-up demo clinic)"},
    "summary": {"ko": "1. 이관 요약", "en": "1. Summary"},
    "name": {"ko": "의료기관 명칭", "en": "Institution"},
    "code": {"ko": "요양기관기호", "en": "Institution code (요양기관기호)"},
    "address": {"ko": "주소", "en": "Address"},
    "founder": {"ko": "개설자", "en": "Founder"},
    "closing": {"ko": "휴·폐업일", "en": "Closing date"},
    "custodian": {"ko": "보관 책임자", "en": "Records custodian"},
    "contact": {"ko": "연락처", "en": "Contact"},
    "patients": {"ko": "환자 수", "en": "Patients"},
    "patients_text": {"ko": "{total}명 = 환자 명부 {roster}명 + 별도 보관 {held}명",
                      "en": "{total} = {roster} on the roster + {held} kept separately"},
    "records": {"ko": "기록 수", "en": "Records"},
    "records_text": {"ko": "원본 {source}건 = 이관 {exported}건 + 원본 그대로 이관 {carried}건 + 별도 보관 {held}건",
                     "en": "source {source} = exported {exported} + carried verbatim {carried} + kept separately "
                           "{held}"},
    "balanced": {"ko": "모두 일치", "en": "balanced"},
    "unbalanced": {"ko": "불일치 — 확인 필요", "en": "NOT balanced — check"},
    "receipt": {"ko": "보관시스템 접수번호", "en": "Store receipt number"},
    "not_uploaded": {"ko": "아직 전송하지 않음", "en": "not uploaded yet"},
    "exported_on": {"ko": "내보낸 날", "en": "Exported on"},
    "signer": {"ko": "전자서명 인증서", "en": "Signed with"},
    "warnings": {"ko": "확인할 사항", "en": "Things to check"},
    "warnings_none": {"ko": "없음", "en": "none"},
    "warn_held": {"ko": "별도 보관된 기록 {n}건: '별도 보관된 기록' 표의 안내를 확인하세요.",
                  "en": "{n} records kept separately: see the table below and follow its advice."},
    "warn_gaps": {"ko": "발급에 필요한 항목이 빠진 서류 {n}종: '발급 가능 서류' 표의 안내를 확인하세요.",
                  "en": "{n} document types lack items: see the advice in the document table."},
    "warn_unbalanced": {"ko": "원본과 이관 건수가 맞지 않습니다. 제출하지 말고 설치 업체에 문의하세요.",
                        "en": "Source and exported counts differ. Do not submit; contact your IT contractor."},
    "warn_not_uploaded": {"ko": "아직 보관시스템에 전송하지 않았습니다. 접수번호를 받은 뒤 다시 인쇄하세요.",
                          "en": "Not uploaded yet. Print again once you have the receipt number."},
    "confirm": {"ko": "위와 같이 진료기록을 진료기록보관시스템으로 이관하였음을 확인합니다.",
                "en": "I confirm that the medical records above were transferred to the national store."},
    "date_line": {"ko": "제출일:        년      월      일", "en": "Date:"},
    "sign_founder": {"ko": "개설자", "en": "Founder"},
    "sign_custodian": {"ko": "보관 책임자", "en": "Records custodian"},
    "sign_mark": {"ko": "(서명 또는 인)", "en": "(signature or seal)"},
    "addressee": {"ko": "관할 보건소장 귀하", "en": "To the head of the local health centre"},
    "counts": {"ko": "2. 종류별 수량 (보존 구분)", "en": "2. Counts per record type and retention class"},
    "type": {"ko": "종류", "en": "Record type"},
    "retention": {"ko": "보존 구분 (연)", "en": "Retention (years)"},
    "source": {"ko": "원본", "en": "Source"},
    "exported": {"ko": "이관", "en": "Exported"},
    "quarantined": {"ko": "별도 보관", "en": "Kept separately"},
    "total": {"ko": "합계", "en": "Total"},
    "carried_tables_row": {"ko": "그 밖의 EMR 자료, 원본 그대로 (표 {n}개)",
                           "en": "Other EMR data, carried verbatim ({n} tables)"},
    "carried_section_row": {"ko": "{table} 표의 일부 ({section}), 원본 그대로",
                            "en": "Part of {table} ({section}), carried verbatim"},
    "quarantine": {"ko": "3. 별도 보관된 기록 (원본 그대로 이관 파일에 들어 있음)",
                   "en": "3. Records kept separately (verbatim, inside the transfer file)"},
    "no_quarantine": {"ko": "없음", "en": "none"},
    "reason": {"ko": "사유", "en": "Reason"},
    "count": {"ko": "건수", "en": "Count"},
    "advice": {"ko": "할 일", "en": "What to do"},
    "held_patients": {"ko": "명부에 오르지 못한 환자 (차트번호 일부 가림): {list}",
                      "en": "Patients not on the roster (chart numbers partly hidden): {list}"},
    "inventory": {"ko": "4. 원본 데이터베이스의 모든 표", "en": "4. Every table of the clinic database"},
    "table_name": {"ko": "표", "en": "Table"},
    "rows": {"ko": "행 수", "en": "Rows"},
    "fate": {"ko": "처리", "en": "What happened to it"},
    "fate_entities": {"ko": "기록으로 이관: {names}", "en": "exported as records: {names}"},
    "fate_unselected": {"ko": "; 기록에 들어가지 않은 나머지 열 {n}개는 원본 그대로 이관 (data/raw/unselected)",
                        "en": "; its other {n} columns carried verbatim (data/raw/unselected)"},
    "fate_carried_section": {"ko": "; {section}의 행은 기록으로 만들지 않고 원본 그대로 이관 (data/raw/sections): "
                                   "{reason}",
                             "en": "; the rows of {section} carried verbatim, no record made (data/raw/sections): "
                                   "{reason}"},
    "fate_changed": {"ko": " (그중 {n}개는 조회문이 다른 값으로 바꾸어 읽으므로 원래 값을 함께 이관)",
                     "en": " ({n} of them read changed by a query: their stored values carried too)"},
    # (inventory ``read_again``) a visit row's diagnosis-code columns, each read again by its own diagnosis section
    "fate_read_again": {"ko": "; 열 {n}개는 {section} 기록으로 다시 읽어 그쪽에 이관 (두 번 세지 않음)",
                        "en": "; {n} of its columns read again as {section} and transferred there (counted once)"},
    # (``unselected_columns.queries_not_read``) a section's query the program cannot take apart
    "fate_queries_not_read": {"ko": " ({names}의 조회문은 프로그램이 풀어 읽을 수 없어, 이 표의 모든 열을 원본 그대로 "
                                    "함께 이관)",
                              "en": " (the query of {names} cannot be taken apart by the program: every column of "
                                    "the table is carried verbatim too)"},
    "fate_carried": {"ko": "원본 그대로 이관 (data/raw/tables)", "en": "carried verbatim (data/raw/tables)"},
    "fate_joined": {"ko": "원본 그대로 이관 (data/raw/tables); {names} 기록에도 일부 반영",
                    "en": "carried verbatim (data/raw/tables); partly read into: {names}"},
    "fate_skipped": {"ko": "이관하지 않음: {reason}", "en": "not transferred: {reason}"},
    "fate_read_with": {"ko": "{table} 표의 일부: {table} 표와 함께 이관 (행 수는 {table}에 포함)",
                       "en": "part of {table}: transferred with {table} (its rows counted there)"},
    "view": {"ko": "(뷰)", "en": "(view)"},
    "virtual": {"ko": "(가상 테이블)", "en": "(virtual table)"},
    # PostgreSQL large objects (pg_largeobject): files the database keeps apart from its tables
    "large-objects": {"ko": "(스캔 문서 등 파일)", "en": "(files such as scans)"},
    "cells_line": {"ko": "칸(셀) 단위 대조: 원본 {source}칸 = FHIR 변환 {mapped} + 원본 그대로 보관 {carried} + "
                         "별도 보관된 기록 {quarantined}",
                   "en": "Cell by cell: {source} source cells = {mapped} in FHIR + {carried} carried verbatim + "
                         "{quarantined} in records kept separately"},
    "transformed_line": {"ko": "이 가운데 FHIR 값만으로는 원본과 똑같이 되살릴 수 없어 "
                               "(공백·날짜 형식·코드 변환 등) 원본 값을 함께 보관한 칸: {transformed}",
                         "en": "Of these, cells the FHIR value alone cannot give back exactly (blanks, date forms, "
                               "codes, ...), so the source value is kept beside it: {transformed}"},
    "field_defects_line": {"ko": "손상된 선택 항목 (기록은 이관, 해당 값만 원본 그대로 보관): {list}",
                           "en": "Broken optional fields (record exported, the value kept verbatim): {list}"},
    "readiness": {"ko": "5. 발급 가능 서류", "en": "5. Document readiness"},
    "document": {"ko": "서류", "en": "Document"},
    "issuable": {"ko": "발급 가능 / 대상", "en": "Issuable / units"},
    "gap": {"ko": "빠진 항목과 할 일", "en": "Missing items and what to do"},
    "unconfirmed": {"ko": "(미확정)", "en": "(unconfirmed)"},
    "no_readiness": {"ko": "정보 없음", "en": "not available"},
    "previewable": {"ko": "(미리보기)", "en": "(preview)"},
    "technical": {"ko": "6. 이관 파일 확인 정보", "en": "6. Transfer file details"},
    "bundle_id": {"ko": "이관 파일 번호", "en": "Bundle id"},
    "file": {"ko": "파일 이름", "en": "File"},
    "size": {"ko": "크기", "en": "Size"},
    "file_sha": {"ko": "파일 지문 (SHA-256)", "en": "File SHA-256"},
    "bag_sha": {"ko": "내용 지문 (SHA-256)", "en": "Content SHA-256"},
    "privacy": {"ko": "이 보고서에는 환자 개인정보(성명·주민등록번호 등)가 들어 있지 않습니다.",
                "en": "This report holds no patient data (no names, no resident registration numbers)."},
    "printed": {"ko": "인쇄", "en": "Printed"},
    "software": {"ko": "작성 프로그램", "en": "Made by"},
    "page": {"ko": "{page} / {pages} 쪽", "en": "page {page} of {pages}"},
}

KST = model.KST


def kst_date(value: str | dt.date | dt.datetime | None, lang: str) -> str:
    """A date as people read it: 2026년 12월 1일 / 1 December 2026 (a time given in UTC becomes KST first)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(KST).date()
    if lang == "ko":
        return f"{value.year}년 {value.month}월 {value.day}일"
    months = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")  # not strftime("%B"): that follows the process locale
    return f"{value.day} {months[value.month - 1]} {value.year}"


def kst_datetime(value: dt.datetime, lang: str) -> str:
    """Date and time in Korean Standard Time, never UTC: 2026년 12월 2일 08:40 (한국 시각)."""
    local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(KST)
    suffix = " (한국 시각)" if lang == "ko" else " KST"
    return f"{kst_date(local.date(), lang)} {local:%H:%M}{suffix}"


def size_text(value: int | None, lang: str) -> str:
    """Bytes as MB/GB (decimal, as Windows Explorer and USB sticks are labelled)."""
    if value is None:
        return "—"
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if value >= factor:
            return f"{value / factor:,.1f} {unit}"
    return f"{value:,} " + ("바이트" if lang == "ko" else "bytes")


#: A section named otherwise than its type: the type's name, the section's own name quoted after it.
SECTION_OF_TYPE = "{kind} (“{section}”)"


def name_section(section: str, kind: str, type_name: Callable[[str], str], template: str = SECTION_OF_TYPE) -> str:
    """A section in the founder's words (the wizard's pages and the transfer report): its record type's name
    (``type_name``), with the section's own name quoted after it where the section is named otherwise than its
    type (``vital_weight`` of ``vital_signs`` → "활력징후 (“vital_weight”)"), so that two sections of one type stay
    apart; a section with a name of its own (the demo's ``nursing_note``) is that name, and a section whose type
    has no name is shown by its own name."""
    own = type_name(section)
    if own != section or not kind or kind == section:
        return own
    named = type_name(kind)
    if named == kind:
        return section
    return template.format(kind=named, section=section)


def entity_name(entity: str, lang: str) -> str:
    """A record type in the founder's words (``ENTITY_NAMES``) in ``lang``; a type with no name as it is."""
    return ENTITY_NAMES.get(entity, (entity, entity))[0 if lang == "ko" else 1]


def section_name(section: str, kind: str, lang: str) -> str:
    """:func:`name_section` with the founder's record-type names (``ENTITY_NAMES``) in ``lang``: the wizard's pages,
    the set-aside lines and this report name a section by this one function."""
    return name_section(section, kind, lambda name: entity_name(name, lang))


def reason_names(code: str, lang: str) -> tuple[str, str]:
    """(name, advice) of a quarantine reason code in ``lang``; never the raw code."""
    entry = QUARANTINE_REASONS.get(code, UNKNOWN_REASON)
    return (entry[0], entry[2]) if lang == "ko" else (entry[1], entry[3])


def gap_advice(requirement: str, lang: str) -> str:
    entry = GAP_ADVICE.get(requirement.split(".", 1)[0], DEFAULT_GAP_ADVICE)
    return entry[0] if lang == "ko" else entry[1]


@dataclass
class TransferReport:
    """Everything the report shows. JSON-serialisable; holds no patient data."""

    institution_code: str
    institution_name: str
    created: str  # ISO 8601
    reconciliation: dict[str, Any]  # Reconciliation.to_dict()
    institution_address: str | None = None
    institution_founder: str | None = None
    closing_date: str | None = None
    signer: str | None = None
    bundle_id: str | None = None
    bundle_file: str | None = None
    bundle_bytes: int | None = None
    bundle_sha256: str | None = None
    bag_sha256: str | None = None
    readiness: dict[str, Any] | None = None  # Readiness.to_dict() (without chart numbers)
    receipt_number: str | None = None
    #: 보관 책임자 and how to reach them: who keeps answering for the records after the closure.
    custodian: str | None = None
    custodian_contact: str | None = None
    #: The synthetic demo clinic: the report is marked "연습용 — 제출되지 않음" on every page.
    demo: bool = False
    #: Masked chart numbers (C0***23) of the patients whose row was kept separately (not on the roster).
    quarantined_patients: list[str] = field(default_factory=list)
    software: str = f"emr-exporter {__version__}"
    extra: dict[str, Any] = field(default_factory=dict)
    #: Sections named otherwise than their record type (``vital_weight`` → ``vital_signs``), so the report names
    #: them by their type (a summary from before this field names them by their own name).
    section_types: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> TransferReport:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def report_from_outcome(outcome: Any, **overrides: Any) -> TransferReport:
    """The report's inputs from a service ``ExportOutcome`` (sealed or dry run)."""
    institution: model.Institution = outcome.institution
    bundle_path = Path(outcome.bundle_path) if outcome.bundle_path is not None else None
    report = TransferReport(
        institution_code=institution.code,
        institution_name=institution.name,
        institution_address=institution.address,
        institution_founder=institution.founder,
        created=outcome.created.isoformat(),
        reconciliation=outcome.reconciliation.to_dict(),
        signer=outcome.extra.get("signer"),
        bundle_id=outcome.bundle_id,
        bundle_file=bundle_path.name if bundle_path else None,
        bundle_bytes=outcome.bundle_bytes,
        bundle_sha256=getattr(outcome, "bundle_sha256", None)  # taken while sealing: no second read
        or (file_sha256(bundle_path) if bundle_path and bundle_path.is_file() else None),
        bag_sha256=outcome.bag_sha256,
        readiness=outcome.extra.get("readiness"),
        demo=is_demo(outcome.connector, institution.code),
        quarantined_patients=list(outcome.extra.get("quarantined_patients", [])),
        section_types={e.entity: e.kind for e in outcome.reconciliation.entities if e.kind and e.kind != e.entity},
    )
    for name, value in overrides.items():
        if value is not None:
            setattr(report, name, value)
    return report


def is_demo(connector: str | None, institution_code: str | None) -> bool:
    from emr_exporter.demo.clinic import DEMO_INSTITUTION_CODE

    return connector == "demo" or institution_code == DEMO_INSTITUTION_CODE


#: What the wizard (or a `report` run) learnt that the export did not know; kept in the summary so that a
#: later `emr-export report` prints the same facts.
REMEMBERED_FIELDS = ("closing_date", "custodian", "custodian_contact", "receipt_number", "signer")


def remember_in_summary(bundle_path: Path, **known: str | None) -> TransferReport | None:
    """Merge ``known`` (non-empty values of :data:`REMEMBERED_FIELDS`) into ``<bundle>.summary.json``."""
    path = summary_path(bundle_path)
    try:
        report = TransferReport.from_json(path.read_text("utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    changed = False
    for name, value in known.items():
        if name in REMEMBERED_FIELDS and value and getattr(report, name) != value:
            setattr(report, name, value)
            changed = True
    if changed:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(report.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)
    return report


def summary_path(bundle_path: Path) -> Path:
    return Path(bundle_path).with_name(Path(bundle_path).name + SUMMARY_SUFFIX)


def write_summary(outcome: Any) -> Path | None:
    """Write ``<bundle>.summary.json`` next to a sealed bundle (the report's inputs; no patient data)."""
    if outcome.bundle_path is None:
        return None
    path = summary_path(outcome.bundle_path)
    path.write_text(report_from_outcome(outcome).to_json() + "\n", encoding="utf-8")
    return path


def load_summary(bundle_path: Path) -> TransferReport:
    path = summary_path(bundle_path)
    try:
        report = TransferReport.from_json(path.read_text("utf-8"))
    except OSError:
        raise ConfigError(
            f"{path.name} is missing: it is written next to the bundle by the export. Copy it together "
            "with the bundle, or export again."
        ) from None
    except (ValueError, TypeError):
        raise ConfigError(f"{path.name} is damaged. Export again to recreate it.") from None
    bundle = Path(bundle_path)
    if bundle.is_file():
        actual = file_sha256(bundle)
        if report.bundle_sha256 and actual != report.bundle_sha256:
            raise ConfigError(f"{path.name} does not belong to {bundle.name} (its SHA-256 differs).")
        report.bundle_sha256 = actual
    return report


def receipt_number_beside(bundle_path: Path, report: TransferReport) -> str | None:
    """The receipt number of ``<bundle>.receipt.json`` (saved by `upload` after it verified the store's
    signature), if that receipt is for this very file (same bundle id and SHA-256)."""
    path = Path(bundle_path).with_name(Path(bundle_path).name + ".receipt.json")
    try:
        receipt = json.loads(path.read_text("utf-8"))["receipt"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if receipt.get("bundle_id") != report.bundle_id or receipt.get("sha256") != report.bundle_sha256:
        return None
    number = receipt.get("receipt_number")
    return str(number) if number else None


# --- the PDF ---------------------------------------------------------------------------------------------


def new_pdf(title: str, footer: Any = None, header: Any = None) -> Any:
    """An A4 fpdf2 document with NanumGothic (regular and bold) embedded as subsets.

    ``header(pdf)`` / ``footer(pdf)``, if given, draw every page's header and footer (marks, page numbers).
    """
    from fpdf import FPDF

    class _Pdf(FPDF):
        def header(self) -> None:
            if header is not None:
                header(self)

        def footer(self) -> None:
            if footer is not None:
                footer(self)

    fonts = resource_path("fonts")
    pdf = _Pdf(format="A4")
    pdf.set_title(title)
    pdf.set_creator(f"emr-exporter {__version__}")
    pdf.set_producer("fpdf2")
    pdf.add_font(FONT_FAMILY, "", str(fonts / "NanumGothic.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(fonts / "NanumGothicBold.ttf"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_font(FONT_FAMILY, size=10)
    return pdf


def _retention_of(entity: str) -> model.RetentionClass | None:
    if entity == "nursing_note":  # the demo's nursing records: chart notes in their own class (art. 15)
        return model.RetentionClass.NURSING_RECORD
    record_type = model.ENTITY_TYPES.get(entity)
    if record_type is None:
        return None
    retention = {f.name: f for f in dataclasses.fields(record_type)}.get("retention")
    default = retention.default if retention is not None else None
    return default if isinstance(default, model.RetentionClass) else None


def _heading(pdf: Any, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, "B", 12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 10)


def _pairs(pdf: Any, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.cell(42, 6, label)
        pdf.set_font(FONT_FAMILY, "", 9)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")


def _inventory_section(pdf: Any, reconciliation: dict[str, Any], t: Any, lang: str,
                       named: Callable[[str], str] | None = None) -> None:
    """Every table and view of the source database with its fate, and the cell-level reconciliation; ``named``
    names a section (default: by its own name where its record type is not known)."""
    if named is None:
        def named(section: str) -> str:
            return section_name(section, "", lang)
    inventory = reconciliation.get("inventory") or []
    if not inventory:
        return  # a summary from before the inventory existed
    _heading(pdf, t("inventory"))
    rows = []
    for entry in inventory:
        if entry["fate"] == "entities":
            carried = {c["section"]: c["reason"] for c in entry.get("carried_sections", [])}
            names = ", ".join(named(n) for n in entry.get("entities", []) if n not in carried)
            fate = t("fate_entities").format(names=names)
            for section, reason in carried.items():  # rows no record type fits, carried whole (carry = "…")
                fate += t("fate_carried_section").format(section=section, reason=reason)
            if entry.get("unselected_columns"):  # columns no section's query reads, carried beside them
                fate += t("fate_unselected").format(n=len(entry["unselected_columns"]["columns"]))
                if entry["unselected_columns"].get("changed"):
                    fate += t("fate_changed").format(n=len(entry["unselected_columns"]["changed"]))
                if entry["unselected_columns"].get("queries_not_read"):
                    fate += t("fate_queries_not_read").format(
                        names=", ".join(named(n) for n in entry["unselected_columns"]["queries_not_read"]))
            for again in entry.get("read_again", []):
                fate += t("fate_read_again").format(n=len(again["columns"]), section=named(again["section"]))
        elif entry["fate"] == "carried" and entry.get("also_read_by"):
            names = ", ".join(named(n) for n in entry["also_read_by"])
            fate = t("fate_joined").format(names=names)
        elif entry["fate"] == "carried":
            fate = t("fate_carried")
        elif entry["fate"] == "read_with":  # a PostgreSQL partition: its rows are its partitioned table's
            fate = t("fate_read_with").format(table=entry.get("part_of", ""))
        else:
            fate = t("fate_skipped").format(reason=entry.get("reason", ""))
        kind = entry.get("kind")
        name = entry["name"] + (" " + t(kind) if kind in ("view", "virtual", "large-objects") else "")
        rows.append([name, "—" if entry.get("rows") is None else f"{entry['rows']:,}", fate])
    _table(pdf, [t("table_name"), t("rows"), t("fate")], rows, (44, 22, 108))
    cells = reconciliation.get("cells")
    pdf.set_font(FONT_FAMILY, "", 9)
    if cells:
        pdf.ln(1)
        pdf.multi_cell(0, 5.5, t("cells_line").format(
            source=f"{cells['source']:,}", mapped=f"{cells['mapped']:,}", carried=f"{cells['carried_raw']:,}",
            quarantined=f"{cells['quarantined']:,}"), new_x="LMARGIN", new_y="NEXT")
        if cells.get("transformed"):  # older summaries have no such count
            pdf.multi_cell(0, 5.5, t("transformed_line").format(transformed=f"{cells['transformed']:,}"),
                           new_x="LMARGIN", new_y="NEXT")
    defects = reconciliation.get("field_defects") or {}
    if defects:
        listed = ", ".join(f"{reason_names(code, lang)[0]} {n:,}" for code, n in defects.items())
        pdf.multi_cell(0, 5.5, t("field_defects_line").format(list=listed), new_x="LMARGIN", new_y="NEXT")


def _table(pdf: Any, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
    pdf.set_font(FONT_FAMILY, "", 9)
    with pdf.table(col_widths=widths, line_height=5.5, text_align="LEFT", first_row_as_headings=True) as table:
        for values in [header, *rows]:
            row = table.row()
            for value in values:
                row.cell(value)


def _demo_banner(pdf: Any, text: str) -> None:
    pdf.set_font(FONT_FAMILY, "B", 13)
    pdf.set_text_color(200, 0, 0)
    pdf.set_draw_color(200, 0, 0)
    pdf.cell(0, 10, text, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(2)


def render_transfer_report(report: TransferReport, lang: str = "ko", printed: dt.datetime | None = None) -> bytes:
    """The transfer report as PDF bytes (``lang``: "ko" or "en").

    Page 1 is what a health-centre officer checks: who closed, when, who keeps answering for the records,
    that every patient and record is accounted for, the store's receipt number, what still needs doing, and
    the signature/seal block. Details follow. Dates are in Korean Standard Time, never UTC.
    """
    if lang not in ("ko", "en"):
        raise ConfigError("The report language must be 'ko' (한국어) or 'en' (English).")

    def t(key: str) -> str:
        return LABELS[key][lang]

    pick = 0 if lang == "ko" else 1
    printed = printed or dt.datetime.now(dt.UTC)

    def named(section: str) -> str:  # a section by its record type, as the wizard names it
        return section_name(section, report.section_types.get(section, ""), lang)

    def footer(pdf: Any) -> None:
        pdf.set_y(-14)
        pdf.set_font(FONT_FAMILY, "", 8)
        left = f"{report.institution_name} ({report.institution_code})"
        if report.demo:
            left += " · " + t("demo")
        pdf.cell(120, 5, left)
        pdf.cell(0, 5, t("page").format(page=pdf.page_no(), pages="{nb}"), align="R")

    def header(pdf: Any) -> None:
        if report.demo:  # on every page: a practice report must never pass for a real one
            _demo_banner(pdf, t("demo"))

    pdf = new_pdf(t("title"), footer, header)
    pdf.alias_nb_pages("{nb}")
    created = dt.datetime.fromisoformat(report.created)
    pdf.set_creation_date(created if created.tzinfo else created.replace(tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, "B", 15)
    pdf.multi_cell(0, 9, t("title"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 10)

    entities = report.reconciliation.get("entities", [])
    totals = report.reconciliation.get("totals", {})
    # every row of the database: the ones carried verbatim (other tables, carried sections) too
    every_row = row_totals(report.reconciliation)
    patient = next((e for e in entities if e["entity"] == "patient"), None)
    roster = patient["exported"] if patient else 0
    held_patients = patient["quarantined"] if patient else 0
    balanced = bool(report.reconciliation.get("balanced"))
    gap_documents = [d for d in (report.readiness or {}).get("documents", []) if d.get("gaps")]

    _heading(pdf, t("summary"))
    _pairs(pdf, [
        (t("name"), report.institution_name),
        (t("code"), report.institution_code),
        (t("address"), report.institution_address or "—"),
        (t("founder"), report.institution_founder or "—"),
        (t("closing"), kst_date(report.closing_date, lang)),
        (t("custodian"), report.custodian or "—"),
        (t("contact"), report.custodian_contact or "—"),
        (t("patients"), t("patients_text").format(
            total=f"{roster + held_patients:,}", roster=f"{roster:,}", held=f"{held_patients:,}")),
        (t("records"), t("records_text").format(
            source=f"{every_row['source_rows']:,}", exported=f"{every_row['exported']:,}",
            carried=f"{every_row['carried']:,}", held=f"{every_row['quarantined']:,}")
         + " — " + (t("balanced") if balanced else t("unbalanced"))),
        (t("receipt"), report.receipt_number or t("not_uploaded")),
        (t("exported_on"), kst_date(report.created, lang)),
        (t("signer"), report.signer or "—"),
    ])

    warnings = []
    if not balanced:
        warnings.append(t("warn_unbalanced"))
    if totals.get("quarantined"):
        warnings.append(t("warn_held").format(n=f"{totals['quarantined']:,}"))
    if gap_documents:
        warnings.append(t("warn_gaps").format(n=len(gap_documents)))
    if not report.receipt_number:
        warnings.append(t("warn_not_uploaded"))
    _heading(pdf, t("warnings"))
    pdf.set_font(FONT_FAMILY, "", 9)
    for line in warnings or [t("warnings_none")]:
        pdf.multi_cell(0, 5.5, "· " + line, new_x="LMARGIN", new_y="NEXT")

    # The signature/seal block: what the officer files.
    pdf.ln(4)
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.multi_cell(0, 6, t("confirm"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.cell(0, 7, t("date_line"), align="R", new_x="LMARGIN", new_y="NEXT")
    for role, person in ((t("sign_founder"), report.institution_founder), (t("sign_custodian"), report.custodian)):
        pdf.cell(40, 9, role)
        pdf.cell(80, 9, person or "", border="B")
        pdf.cell(0, 9, t("sign_mark"), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, "B", 11)
    pdf.cell(0, 8, t("addressee"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 10)

    pdf.add_page()
    _heading(pdf, t("counts"))
    rows = []
    for entity in entities:
        name = named(entity["entity"])
        retention = _retention_of(entity["entity"]) or _retention_of(report.section_types.get(entity["entity"], ""))
        retention_text = (
            f"{RETENTION_NAMES[retention.slug][pick]} ({retention.years})" if retention is not None else "—"
        )
        rows.append([name, retention_text, f"{entity['source_rows']:,}", f"{entity['exported']:,}",
                     f"{entity['quarantined']:,}"])
    # the rows carried verbatim are transferred too (이관): their own lines, and in the total
    tables = report.reconciliation.get("tables") or []
    if tables:
        rows.append([t("carried_tables_row").format(n=len(tables)), "—",
                     f"{sum(x['source_rows'] for x in tables):,}", f"{sum(x['carried'] for x in tables):,}", "0"])
    for section in report.reconciliation.get("carried_sections") or []:
        rows.append([t("carried_section_row").format(table=section["table"], section=section["section"]), "—",
                     f"{section['source_rows']:,}", f"{section['carried']:,}", "0"])
    rows.append([t("total"), "", f"{every_row['source_rows']:,}", f"{every_row['exported'] + every_row['carried']:,}",
                 f"{every_row['quarantined']:,}"])
    _table(pdf, [t("type"), t("retention"), t("source"), t("exported"), t("quarantined")], rows, (40, 52, 26, 26, 30))

    _heading(pdf, t("quarantine"))
    quarantine_rows = []
    for e in entities:
        for code, count in sorted(e.get("quarantine_reasons", {}).items()):
            reason, advice = reason_names(code, lang)
            quarantine_rows.append(
                [named(e["entity"]), reason, f"{count:,}", advice]
            )
    if quarantine_rows:
        _table(pdf, [t("type"), t("reason"), t("count"), t("advice")], quarantine_rows, (30, 44, 16, 84))
    else:
        pdf.cell(0, 6, t("no_quarantine"), new_x="LMARGIN", new_y="NEXT")
    if report.quarantined_patients:
        pdf.ln(2)
        pdf.set_font(FONT_FAMILY, "", 9)
        pdf.multi_cell(0, 5.5, t("held_patients").format(list=", ".join(report.quarantined_patients)),
                       new_x="LMARGIN", new_y="NEXT")

    _inventory_section(pdf, report.reconciliation, t, lang, named)

    _heading(pdf, t("readiness"))
    if report.readiness:
        # Documents `emr-export preview` can draw from the bundle carry a mark.
        from emr_exporter.reports.previewable import PREVIEW_DOCUMENTS

        doc_rows = []
        for entry in report.readiness.get("documents", []):
            title = entry["ko"] if lang == "ko" else entry["en"]
            if entry["status"] != "confirmed":
                title += " " + t("unconfirmed")
            if entry["id"] in PREVIEW_DOCUMENTS:
                title += " " + t("previewable")
            unit = entry["unit_ko"] if lang == "ko" else entry["unit_en"]
            gaps = "\n".join(
                f"{g['message_ko'] if lang == 'ko' else g['message_en']}. {gap_advice(g['requirement'], lang)}"
                for g in entry["gaps"]
            )
            doc_rows.append([title, f"{entry['issuable']:,} / {entry['candidates']:,} {unit}", gaps or "-"])
        _table(pdf, [t("document"), t("issuable"), t("gap")], doc_rows, (44, 34, 96))
    else:
        pdf.cell(0, 6, t("no_readiness"), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, t("technical"))
    _pairs(pdf, [
        (t("bundle_id"), report.bundle_id or "—"),
        (t("file"), report.bundle_file or "—"),
        (t("size"), size_text(report.bundle_bytes, lang)),
        (t("file_sha"), report.bundle_sha256 or "—"),
        (t("bag_sha"), report.bag_sha256 or "—"),
    ])

    pdf.ln(4)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.multi_cell(0, 5, f"{t('privacy')}\n{t('printed')}: {kst_datetime(printed, lang)} · "
                   f"{t('software')}: {report.software}", new_x="LMARGIN", new_y="NEXT")
    # fontTools reports the hinting tables it drops while subsetting; that is expected, not a problem.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return bytes(pdf.output())


def write_transfer_report(outcome_or_inputs: Any, path: Path, lang: str = "ko", **overrides: Any) -> Path:
    """Write the transfer report PDF to ``path``.

    ``outcome_or_inputs``: a service ``ExportOutcome`` or a :class:`TransferReport`. ``overrides`` set
    fields such as ``closing_date``, ``signer`` or ``receipt_number`` (None leaves a field as it is).
    """
    if isinstance(outcome_or_inputs, TransferReport):
        report = outcome_or_inputs
        for name, value in overrides.items():
            if value is not None:
                setattr(report, name, value)
    else:
        report = report_from_outcome(outcome_or_inputs, **overrides)
    data = render_transfer_report(report, lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


__all__ = [
    "TransferReport",
    "load_summary",
    "render_transfer_report",
    "report_from_outcome",
    "write_summary",
    "write_transfer_report",
]
