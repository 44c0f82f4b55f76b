"""A synthetic Korean clinic (가상 의원) as a SQLite file, for the demo, the tests and the benchmarks.

Everything here is invented: no real person, clinic, licence or resident registration number. RRNs have
a valid shape (``YYMMDDSNNNNNN``, consistent with birth date and sex) but a deliberately wrong check
digit; phone numbers use the unallocated ``010-0xxx`` range; EDI and drug codes are illustrative.

The build is deterministic: the same ``seed`` and ``patients`` give a byte-identical database
(``iterdump()``) and identical attachment files. Rows are streamed into SQLite in batches inside one
transaction, so memory stays flat up to ~10^7 source rows (≈10^5 patients).

Schema (modelled on legacy Korean clinic EMRs: upper-case abbreviated names, no foreign keys,
``YYYYMMDD`` text dates, integer won amounts, several text columns as **CP949 bytes in BLOBs**):

=============  =============  ================================================================
table          key            content
=============  =============  ================================================================
EMR_META       NAME           schema version (``SCHEMA_VER``)
CLINIC_INFO    YKIHO          the clinic: 요양기관기호, name, address, phone, 종별, 개설자
DOCTOR         DR_ID (text)   doctors: name, licence kind and number, department
PT_MASTER      PT_NO          patients: CHART_NO (환자등록번호), PT_NM (CP949 BLOB), SEX_CD M/F,
                              BIRTH_YMD, JUMIN_NO (13 digits), ADDR, TEL, FIRST_VISIT_YMD
VISIT          VISIT_NO       encounters: PT_NO, VISIT_YMD, IO_GB O/I, DISCH_YMD, DR_ID, DEPT_NM,
                              INS_GB (H 건강보험, M 의료급여, A 자보, W 산재, G 일반), NIGHT_YN
DIAG           DIAG_NO        diagnoses: VISIT_NO, PT_NO, KCD_CD, DIAG_NM (CP949 BLOB), MAIN_YN,
                              ONSET_YMD; the service date (for the KCD edition) is VISIT.VISIT_YMD
CHART_REC      REC_NO         chart notes: VISIT_NO, PT_NO, REC_DTTM (YYYYMMDDHHMMSS), DR_ID,
                              CC/HPI/COURSE/PLAN_TXT (CP949 BLOBs), ORG_REC_NO (the note it amends)
ORD_DTL        ORD_NO         order lines: VISIT_NO, PT_NO, ORD_YMD, LOCAL_CD, EDI_CD,
                              CD_GB (1 drug, 2 procedure, 3 material), ORD_NM, DOSE (text),
                              DOSE_UNIT, FREQ, DAYS, ROUTE, DR_ID, OUT_RX_YN
PROC_REC       PROC_NO        procedures: VISIT_NO, PT_NO, PROC_YMD, EDI_CD, PROC_NM, DR_ID, OP_YN
LAB_RSLT       RSLT_NO        lab results: VISIT_NO, PT_NO, RSLT_DTTM, TEST_CD, TEST_NM, RSLT_VAL,
                              UNIT, REF_RANGE, HL_FLAG
IMG_RPT        RPT_NO         imaging reports: VISIT_NO, PT_NO, EXAM_YMD, MODALITY, EDI_CD,
                              RPT_TXT (CP949 BLOB), DR_ID
CERT_ISSUE     CERT_SEQ       issued certificates: VISIT_NO, PT_NO, CERT_KIND, CERT_NO, ISSUE_YMD,
                              DR_ID, CERT_TXT (full text)
RCPT           RCPT_SEQ       receipts: VISIT_NO, PT_NO, RCPT_NO (YYYYMM-serial), RCPT_YMD,
                              INS_SELF_AMT, INS_CORP_AMT, FULL_SELF_AMT, NONINS_AMT, TOT_AMT, PAID_AMT
FEE_DTL        FEE_SEQ        fee-statement lines: RCPT_SEQ, VISIT_NO, PT_NO, SVC_YMD, ITEM_NM, EDI_CD,
                              FEE_NM, UNIT_PRC, QTY, DAYS, TOT_AMT, SELF_AMT, CORP_AMT, NONINS_AMT
ATTACH_FILE    ATT_NO         attachments: PT_NO, VISIT_NO (NULL for patient-level scans), CRE_YMD,
                              MIME_TP, TITLE, FILE_DATA (BLOB) or FILE_PATH (relative to the
                              attachments folder)
=============  =============  ================================================================

Dirty rows are planted on purpose (see :class:`PlantedDefect`): each has exactly one defect, and no
defective row has children, so :attr:`DemoClinic.planted_defects` is exactly what an export must
quarantine. The matching declarative connector is ``connectors/demo/connector.toml``.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emr_exporter.demo.clinical import ClinicalBuilder  # the clinical record, with its own RNG

SCHEMA_VERSION = "3.2.1"
DEFAULT_SEED = 20260701
_BATCH_ROWS = 5000
_FIRST_DAY = dt.date(2014, 1, 2)
_LAST_DAY = dt.date(2026, 6, 30)

#: The rest of the clinical record (issue "the whole clinical record"), in tables of their own.
_CLINICAL_DDL = """
CREATE TABLE ALLERGY (ALG_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_NO INTEGER, ALG_NM TEXT, ALG_CD TEXT,
    CD_GB TEXT, ALG_TP TEXT, REACTION TEXT, SEVERITY TEXT, STAT TEXT, CERT TEXT, ONSET_YMD TEXT, REC_YMD TEXT,
    DR_ID TEXT);
CREATE TABLE VACCINATION (VAC_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_NO INTEGER, VAC_YMD TEXT,
    VAC_CD TEXT, VAC_NM TEXT, DOSE_NO INTEGER, LOT_NO TEXT, EXP_YMD TEXT, MAKER TEXT, SITE TEXT, ROUTE TEXT,
    DR_ID TEXT, STAT TEXT, REASON_CD TEXT, REASON TEXT);
CREATE TABLE VITAL_SIGN (VS_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, MSR_DTTM TEXT,
    SBP INTEGER, DBP INTEGER, PR INTEGER, RR INTEGER, BT TEXT, BW TEXT, BH TEXT, BMI TEXT, SPO2 INTEGER,
    STAT TEXT);
CREATE TABLE INS_HIST (INS_NO INTEGER PRIMARY KEY, PT_NO INTEGER, INS_GB TEXT, INS_NM TEXT, CARD_NO TEXT,
    HOLDER_NM TEXT, REL_CD TEXT, FROM_YMD TEXT, TO_YMD TEXT, STAT TEXT);
CREATE TABLE MED_HIST (MH_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_NO INTEGER, DRUG_NM TEXT, EDI_CD TEXT,
    DOSAGE TEXT, FROM_YMD TEXT, TO_YMD TEXT, STAT TEXT, REC_YMD TEXT);
CREATE TABLE LAB_RPT (RPT_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, RPT_DTTM TEXT, PANEL_CD TEXT,
    PANEL_NM TEXT, STAT TEXT, DR_ID TEXT, RSLT_KEYS TEXT);
CREATE TABLE NURSE_REC (NR_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, REC_DTTM TEXT, NOTE BLOB);
CREATE TABLE ADM_INFO (VISIT_NO INTEGER PRIMARY KEY, ADM_ROUTE TEXT, DSCH_RSLT TEXT);
"""

_DDL = """
CREATE TABLE EMR_META (NAME TEXT PRIMARY KEY, VALUE TEXT);
CREATE TABLE CLINIC_INFO (YKIHO TEXT PRIMARY KEY, HOSP_NM TEXT, ADDR TEXT, TEL TEXT, JONGBYUL TEXT,
    FOUNDER_NM TEXT, DEPT_LIST TEXT);
CREATE TABLE DOCTOR (DR_ID TEXT PRIMARY KEY, DR_NM TEXT, LIC_KIND TEXT, LIC_NO TEXT, DEPT_NM TEXT);
CREATE TABLE PT_MASTER (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM BLOB, SEX_CD TEXT,
    BIRTH_YMD TEXT, JUMIN_NO TEXT, ADDR TEXT, TEL TEXT, FIRST_VISIT_YMD TEXT);
CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, IO_GB TEXT,
    DISCH_YMD TEXT, DR_ID TEXT, DEPT_NM TEXT, INS_GB TEXT, NIGHT_YN TEXT);
CREATE TABLE DIAG (DIAG_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, KCD_CD TEXT,
    DIAG_NM BLOB, MAIN_YN TEXT, ONSET_YMD TEXT);
CREATE TABLE CHART_REC (REC_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, REC_DTTM TEXT,
    DR_ID TEXT, CC BLOB, HPI BLOB, COURSE BLOB, PLAN_TXT BLOB, ORG_REC_NO INTEGER);
CREATE TABLE ORD_DTL (ORD_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, ORD_YMD TEXT,
    LOCAL_CD TEXT, EDI_CD TEXT, CD_GB TEXT, ORD_NM TEXT, DOSE TEXT, DOSE_UNIT TEXT, FREQ INTEGER,
    DAYS INTEGER, ROUTE TEXT, DR_ID TEXT, OUT_RX_YN TEXT);
CREATE TABLE PROC_REC (PROC_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, PROC_YMD TEXT,
    EDI_CD TEXT, PROC_NM TEXT, DR_ID TEXT, OP_YN TEXT);
CREATE TABLE LAB_RSLT (RSLT_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, RSLT_DTTM TEXT,
    TEST_CD TEXT, TEST_NM TEXT, RSLT_VAL TEXT, UNIT TEXT, REF_RANGE TEXT, HL_FLAG TEXT);
CREATE TABLE IMG_RPT (RPT_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, EXAM_YMD TEXT,
    MODALITY TEXT, EDI_CD TEXT, RPT_TXT BLOB, DR_ID TEXT);
CREATE TABLE CERT_ISSUE (CERT_SEQ INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, CERT_KIND TEXT,
    CERT_NO TEXT, ISSUE_YMD TEXT, DR_ID TEXT, CERT_TXT TEXT);
CREATE TABLE RCPT (RCPT_SEQ INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, RCPT_NO TEXT,
    RCPT_YMD TEXT, INS_SELF_AMT INTEGER, INS_CORP_AMT INTEGER, FULL_SELF_AMT INTEGER,
    NONINS_AMT INTEGER, TOT_AMT INTEGER, PAID_AMT INTEGER);
CREATE TABLE FEE_DTL (FEE_SEQ INTEGER PRIMARY KEY, RCPT_SEQ INTEGER, VISIT_NO INTEGER, PT_NO INTEGER,
    SVC_YMD TEXT, ITEM_NM TEXT, EDI_CD TEXT, FEE_NM TEXT, UNIT_PRC INTEGER, QTY INTEGER, DAYS INTEGER,
    TOT_AMT INTEGER, SELF_AMT INTEGER, CORP_AMT INTEGER, NONINS_AMT INTEGER);
CREATE TABLE ATTACH_FILE (ATT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_NO INTEGER, CRE_YMD TEXT,
    MIME_TP TEXT, TITLE TEXT, FILE_DATA BLOB, FILE_PATH TEXT);
""" + _CLINICAL_DDL

#: Source table → (canonical entity, column count). Order = insert statement column order.
_TABLE_COLUMNS: dict[str, int] = {
    "EMR_META": 2,
    "CLINIC_INFO": 7,
    "DOCTOR": 5,
    "PT_MASTER": 9,
    "VISIT": 9,
    "DIAG": 7,
    "CHART_REC": 10,
    "ORD_DTL": 15,
    "PROC_REC": 8,
    "LAB_RSLT": 10,
    "IMG_RPT": 8,
    "CERT_ISSUE": 8,
    "RCPT": 11,
    "FEE_DTL": 15,
    "ATTACH_FILE": 8,
    "ALLERGY": 14,
    "VACCINATION": 16,
    "VITAL_SIGN": 14,
    "INS_HIST": 10,
    "MED_HIST": 10,
    "LAB_RPT": 9,
    "NURSE_REC": 5,
    "ADM_INFO": 3,
}

#: Canonical entity of each source table that holds records.
TABLE_ENTITY: dict[str, str] = {
    "DOCTOR": "practitioner",
    "PT_MASTER": "patient",
    "VISIT": "encounter",
    "DIAG": "diagnosis",
    "CHART_REC": "chart_note",
    "ORD_DTL": "order_line",
    "PROC_REC": "procedure",
    "LAB_RSLT": "lab_result",
    "IMG_RPT": "imaging_report",
    "CERT_ISSUE": "certificate",
    "RCPT": "receipt",
    "FEE_DTL": "fee_line",
    "ATTACH_FILE": "attachment",
    "ALLERGY": "allergy",
    "VACCINATION": "immunization",
    "VITAL_SIGN": "vital_signs",
    "INS_HIST": "coverage",
    "MED_HIST": "medication_statement",
    "LAB_RPT": "lab_report",
    "NURSE_REC": "chart_note",
}


@dataclass(frozen=True, slots=True)
class PlantedDefect:
    """A dirty source row planted on purpose: the export must quarantine it with ``reason_code``."""

    entity: str  # canonical entity name (model.ENTITY_TYPES)
    table: str
    key: str  # the key column's value, as text
    reason_code: str  # as in docs/connectors.md
    column: str  # the defective column (for people reading the test output)


@dataclass(slots=True)
class DemoClinic:
    path: Path
    attachments_root: Path
    source_rows: dict[str, int] = field(default_factory=dict)
    #: Rows the export must quarantine (a defect in a required field, a key or a reference).
    planted_defects: list[PlantedDefect] = field(default_factory=list)
    #: Rows the export must keep, each with one optional field dropped or visibly repaired (a field
    #: defect: the raw value goes to data/raw/columns with ``reason_code``).
    planted_field_defects: list[PlantedDefect] = field(default_factory=list)
    #: The patient (PT_NO) whose only defect is an impossible optional birth date, with a full chart.
    broken_field_patient: int | None = None


# --- synthetic vocabulary --------------------------------------------------------------------------

#: The demo clinic's 요양기관기호 and name (the demo keys' certificate names them too: bundle/keys.py).
DEMO_INSTITUTION_CODE = "99350017"
DEMO_INSTITUTION_NAME = "햇살가정의원(가상)"

_CLINIC = (
    DEMO_INSTITUTION_CODE,
    DEMO_INSTITUTION_NAME,
    "서울특별시 가상구 예시로 17, 2층",
    "02-0000-1717",
    "의원",
    "한가상",
    "가정의학과,내과,소아청소년과",
)
_DOCTORS = (
    ("D001", "한가상", "의사", "990101", "가정의학과"),
    ("D002", "오예시", "의사", "990202", "내과"),
    ("D003", "문데모", "의사", "990303", "소아청소년과"),
    # part-time until 2019; her licence number was never entered: a planted readiness gap (처방전, 진단서)
    ("D004", "강샘플", "의사", None, "내과"),
)
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = "민서지현수영준우하은도윤예진성호경아태희승연채유동혁"
# Hangul syllables in CP949 (UHC extension) but not in EUC-KR (KS X 1001): the reason for cp949.
_CP949_ONLY = "똠햏뷁쀍쌰"
_ROADS = ("가상로", "예시길", "샘플대로", "데모로", "시험길")
_DISTRICTS = ("서울특별시 가상구", "서울특별시 예시구", "경기도 샘플시 데모구", "인천광역시 가상군")

# (KCD code, name, from, until): codes used only in the years they existed in this synthetic clinic.
_KCD: tuple[tuple[str, str, int, int], ...] = (
    ("J00", "급성 비인두염[감기]", 2014, 2026),
    ("J20.9", "상세불명의 급성 기관지염", 2014, 2026),
    ("J03.9", "상세불명의 급성 편도염", 2014, 2026),
    ("I10", "본태성(일차성) 고혈압", 2014, 2026),
    ("E11.9", "합병증을 동반하지 않은 2형 당뇨병", 2014, 2026),
    ("E78.0", "순수고콜레스테롤혈증", 2014, 2026),
    ("K29.7", "상세불명의 위염", 2014, 2026),
    ("K21.9", "식도염을 동반하지 않은 위-식도역류병", 2014, 2026),
    ("M54.5", "요통", 2014, 2026),
    ("A09.0", "감염성 기원의 기타 및 상세불명의 위장염 및 결장염", 2014, 2026),
    ("L30.9", "상세불명의 피부염", 2014, 2026),
    ("U07.1", "코로나바이러스감염-19, 바이러스가 확인된 경우", 2020, 2026),
)
_COMPLAINTS: tuple[tuple[str, str, str, str], ...] = (
    ("기침, 콧물", "3일 전부터 기침과 콧물이 있음. 발열은 없음.", "인후 발적 경미. 폐음 깨끗함.",
     "대증치료, 수분 섭취 권유. 증상 지속 시 재진."),
    ("인후통", "어제부터 목이 아프고 삼킬 때 통증.", "편도 비대 및 삼출물 관찰.", "항생제 5일 처방."),
    ("두통, 어지럼", "1주 전부터 아침에 두통. 혈압 측정 요망.", "혈압 152/94 mmHg.",
     "생활습관 교정 교육, 항고혈압제 시작."),
    ("복통, 설사", "똠양꿍을 먹은 후 복통과 설사 4회.", "장음 항진, 압통 없음.", "수액 및 지사제, 식이 조절."),
    ("속쓰림", "식후 속쓰림 2주. 야간 악화.", "상복부 압통 경미.", "PPI 4주 처방, 위내시경 권유."),
    ("허리 통증", "무거운 물건을 든 후 요통.", "직거상 검사 음성.", "소염진통제, 물리치료."),
    ("피부 가려움", "팔에 붉은 발진과 가려움.", "홍반성 구진 관찰.", "국소 스테로이드 도포."),
    ("정기 검진", "당뇨 추적 관찰. 자가혈당 130 전후.", "공복혈당 128 mg/dL.", "현 처방 유지, 3개월 후 HbA1c."),
    ("햏 하고 숨이 참", "계단 오를 때 숨참(환자 표현 그대로 기록).", "산소포화도 97%.", "흉부 X선 시행."),
)
_AMEND_NOTE = "[수정] 처방 일수 정정: 5일 → 3일. 원 기록은 보존함."
# (local code, EDI code, 코드구분, name, dose, unit, freq, days, route, unit price)
_DRUGS: tuple[tuple[str, str, str, str, str, str, int, int, str, int], ...] = (
    ("M0001", "645301220", "1", "가상아세트아미노펜정500mg", "1", "정", 3, 3, "PO", 42),
    ("M0002", "645302150", "1", "예시아목시실린캡슐500mg", "1", "캡슐", 3, 5, "PO", 95),
    ("M0003", "645303080", "1", "샘플암로디핀정5mg", "1", "정", 1, 30, "PO", 230),
    ("M0004", "645304010", "1", "데모메트포르민정500mg", "1", "정", 2, 30, "PO", 95),
    ("M0005", "645305110", "1", "가상판토프라졸정40mg", "1", "정", 1, 28, "PO", 610),
    ("M0006", "645306070", "1", "예시덱사메타손주5mg", "0.5", "mL", 1, 1, "IM", 1180),
    ("M0007", "645307030", "1", "샘플하이드로코르티손크림1%", "1", "g", 2, 7, "TOP", 17),
)
_PROCS: tuple[tuple[str, str, str, int, bool], ...] = (  # (local, EDI, name, price, is operation)
    ("P0001", "M0111", "드레싱(단순처치)", 5690, False),
    ("P0002", "MM010", "표층열치료", 1520, False),
    ("P0003", "S4631", "피지낭종 절제술", 74480, True),
)
# (code, name, unit, reference range, low, high, decimals)
_LABS: tuple[tuple[str, str, str, str, float, float, int], ...] = (
    ("B1010", "혈색소", "g/dL", "12.0-16.0", 10.0, 17.5, 1),
    ("B2710", "공복혈당", "mg/dL", "70-100", 75.0, 190.0, 0),
    ("B2720", "HbA1c", "%", "4.0-6.0", 4.8, 9.5, 1),
    ("B2611", "총콜레스테롤", "mg/dL", "0-200", 140.0, 290.0, 0),
    ("B2570", "ALT", "U/L", "0-40", 8.0, 90.0, 0),
)
_IMAGING = (
    ("CR", "G2101", "흉부 정면 촬영: 양측 폐야 깨끗함. 심비율 정상. 특이 소견 없음."),
    ("CR", "G2501", "요추 2방향 촬영: 요추 4-5번 추간판 간격 경미한 감소. 골절 없음."),
    ("US", "EB441", "상복부 초음파: 경도의 지방간. 담낭 및 췌장 특이 소견 없음."),
)
_PAYERS = (("H", 80), ("M", 8), ("A", 4), ("W", 2), ("G", 6))  # code, weight
_CERT_KINDS = ("진단서", "소견서", "진료확인서", "통원확인서")

_JPEG_1X1 = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123"
    "251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffc0000b08000100"
    "0101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b51000020103030204"
    "03050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a1617"
    "18191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a8384"
    "85868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9"
    "dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00e92bffd9"
)


def tiny_pdf(label: str) -> bytes:
    """A valid one-page PDF (correct xref offsets) whose page says ``label`` (ASCII)."""
    stream = f"BT /F1 12 Tf 20 40 Td ({label}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 80] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def tiny_png(shade: int) -> bytes:
    """A valid 2×2 grey PNG of the given shade (0–255)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)  # 2x2, 8-bit greyscale
    pixels = zlib.compress(bytes([0, shade, shade, 0, shade, shade]), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def tiny_jpeg(serial: int) -> bytes:
    """A valid 1×1 JPEG with a comment segment carrying ``serial`` (so each file has its own hash)."""
    comment = f"demo {serial}".encode("ascii")
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return _JPEG_1X1[:20] + segment + _JPEG_1X1[20:]  # after SOI + APP0 (JFIF)


def synthetic_rrn(birth: dt.date, male: bool, serial: int) -> str:
    """13 digits, shape-valid (century/sex digit matches), check digit deliberately wrong."""
    sex_digit = (1 if male else 2) + (2 if birth.year >= 2000 else 0)
    body = f"{birth:%y%m%d}{sex_digit}{serial % 100000:05d}"
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    valid_check = (11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11) % 10
    return body + str((valid_check + 1) % 10)


# --- the builder -----------------------------------------------------------------------------------

# Defects planted on clean patients' visits (kind → (entity, table, reason, column)).
_CHILD_DEFECTS: dict[str, tuple[str, str, str, str]] = {
    "visit-bad-date": ("encounter", "VISIT", "invalid-date", "VISIT_YMD"),
    "visit-orphan": ("encounter", "VISIT", "orphan", "PT_NO"),
    "diag-orphan": ("diagnosis", "DIAG", "orphan", "VISIT_NO"),
    "diag-null-code": ("diagnosis", "DIAG", "required-missing", "KCD_CD"),
    "diag-bad-bytes": ("diagnosis", "DIAG", "bad-encoding", "DIAG_NM"),
    "diag-lossy": ("diagnosis", "DIAG", "lossy-text", "DIAG_NM"),
    "note-bad-bytes": ("chart_note", "CHART_REC", "bad-encoding", "CC"),
    "note-lossy": ("chart_note", "CHART_REC", "lossy-text", "COURSE"),
    "order-null-date": ("order_line", "ORD_DTL", "required-missing", "ORD_YMD"),
    "lab-bad-date": ("lab_result", "LAB_RSLT", "invalid-date", "RSLT_DTTM"),
    "imaging-lossy": ("imaging_report", "IMG_RPT", "lossy-text", "RPT_TXT"),
    "receipt-bad-date": ("receipt", "RCPT", "invalid-date", "RCPT_YMD"),
    "attach-outside": ("attachment", "ATTACH_FILE", "path-outside-root", "FILE_PATH"),
    "attach-absolute": ("attachment", "ATTACH_FILE", "path-outside-root", "FILE_PATH"),
    "attach-missing": ("attachment", "ATTACH_FILE", "file-missing", "FILE_PATH"),
    "attach-missing-2": ("attachment", "ATTACH_FILE", "file-missing", "FILE_PATH"),
    "visit-orphan-2": ("encounter", "VISIT", "orphan", "PT_NO"),
}
# Defective patient rows inserted after a clean patient (kind → (reason, column)).
_PATIENT_DEFECTS: dict[str, tuple[str, str]] = {
    "pt-zero-birth": ("invalid-date", "BIRTH_YMD"),
    "pt-null-name": ("required-missing", "PT_NM"),
    "pt-bad-bytes": ("bad-encoding", "PT_NM"),
    "pt-duplicate": ("duplicate", "CHART_NO"),
    "pt-duplicate-2": ("duplicate", "CHART_NO"),
}
#: Planted defects in optional fields: since field-level quarantine these rows are exported without the
#: field (kept raw with its reason), so they are field defects, not quarantined rows.
_FIELD_LEVEL_KINDS = frozenset({"diag-bad-bytes", "diag-lossy", "note-bad-bytes", "note-lossy", "imaging-lossy",
                                "pt-zero-birth"})
_BAD_CP949 = b"\xb1\xe8\x80\xff"  # 김 then bytes that are no CP949 character
_ORPHAN_KEY_BASE = 900_000_000  # keys no row will ever have


class _Builder:
    def __init__(
        self, conn: sqlite3.Connection, rng: random.Random, attachments_root: Path,
        seed: int = DEFAULT_SEED, patients: int = 1,
    ) -> None:
        self.conn = conn
        self.rng = rng
        self.attachments_root = attachments_root
        self.buffers: dict[str, list[tuple[object, ...]]] = {table: [] for table in _TABLE_COLUMNS}
        self.counts: dict[str, int] = dict.fromkeys(_TABLE_COLUMNS, 0)
        self.next_key: dict[str, int] = dict.fromkeys(_TABLE_COLUMNS, 0)
        self.defects: list[PlantedDefect] = []
        self.field_defects: list[PlantedDefect] = []
        self.receipt_serial: dict[str, int] = {}
        self.cert_serial: dict[int, int] = {}
        self.orphans = 0
        self.chart_numbers: list[str] = []  # only the first few, for duplicates
        self.span_days = (_LAST_DAY - _FIRST_DAY).days
        self.kcd_cp949 = [(code, name.encode("cp949"), start, end) for code, name, start, end in _KCD]
        self.notes_cp949 = [tuple(part.encode("cp949") for part in note) for note in _COMPLAINTS]
        self.imaging_cp949 = [(mod, edi, text.encode("cp949")) for mod, edi, text in _IMAGING]
        self.payer_codes = [code for code, _ in _PAYERS]
        self.payer_weights = [weight for _, weight in _PAYERS]
        # Its own random stream: the rows of the other tables stay exactly what they were before.
        self.clinical = ClinicalBuilder(self, random.Random(f"clinical-{seed}"), patients)

    # -- plumbing --
    def key(self, table: str) -> int:
        self.next_key[table] += 1
        return self.next_key[table]

    def add(self, table: str, row: tuple[object, ...]) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= _BATCH_ROWS:
            self.flush(table)

    def flush(self, table: str) -> None:
        buffer = self.buffers[table]
        if buffer:
            marks = ",".join("?" * _TABLE_COLUMNS[table])
            self.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", buffer)
            self.counts[table] += len(buffer)
            buffer.clear()

    def flush_all(self) -> None:
        for table in _TABLE_COLUMNS:
            self.flush(table)

    def plant(self, table: str, key: object, reason: str, column: str, *, field_level: bool = False) -> None:
        planted = PlantedDefect(TABLE_ENTITY[table], table, str(key), reason, column)
        (self.field_defects if field_level else self.defects).append(planted)

    def orphan_key(self) -> int:
        self.orphans += 1
        return _ORPHAN_KEY_BASE + self.orphans

    # -- content --
    def clinic(self) -> None:
        self.add("EMR_META", ("SCHEMA_VER", SCHEMA_VERSION))
        self.add("EMR_META", ("PRODUCT", "DEMO-EMR"))
        self.add("CLINIC_INFO", _CLINIC)
        for doctor in _DOCTORS:
            self.add("DOCTOR", doctor)

    def name(self, index: int) -> bytes:
        rng = self.rng
        given = rng.choice(_GIVEN) + rng.choice(_GIVEN)
        if index % 17 == 3:  # some names need the CP949 extension
            given = given[0] + _CP949_ONLY[index % len(_CP949_ONLY)]
        return (rng.choice(_SURNAMES) + given).encode("cp949")

    def patient(self, index: int, child_defects: Sequence[str]) -> None:
        rng = self.rng
        pt_no = self.key("PT_MASTER")
        male = rng.random() < 0.48
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(365 * 88))
        chart_no = f"{index + 1:08d}"
        if len(self.chart_numbers) < 16:
            self.chart_numbers.append(chart_no)
        first_offset = rng.randrange(self.span_days - 30)
        n_visits = 1 + min(int(rng.expovariate(1 / 11)), 80)
        visit_days = sorted(first_offset + rng.randrange(self.span_days - first_offset) for _ in range(n_visits))
        visit_days[0] = first_offset
        first_visit = _FIRST_DAY + dt.timedelta(days=first_offset)
        self.clinical.begin_patient(pt_no, birth, male, first_visit, index)
        self.add("PT_MASTER", (
            pt_no, chart_no, self.name(index), "M" if male else "F", f"{birth:%Y%m%d}",
            synthetic_rrn(birth, male, pt_no), self.address(), self.phone(), f"{first_visit:%Y%m%d}",
        ))
        defects = list(child_defects)
        for number, day in enumerate(visit_days):
            visit_date = _FIRST_DAY + dt.timedelta(days=day)
            payer = rng.choices(self.payer_codes, self.payer_weights)[0]
            if number == 0 and payer in ("A", "W"):
                payer = "H"
            planted_here = defects if number == len(visit_days) - 1 else ()
            self.visit(pt_no, chart_no, visit_date, payer, planted_here)
        if rng.random() < 0.1:  # a scanned consent form, not tied to a visit
            self.attachment(pt_no, None, first_visit, None)
        self.clinical.end_patient()

    def address(self) -> str:
        rng = self.rng
        return f"{rng.choice(_DISTRICTS)} {rng.choice(_ROADS)} {rng.randrange(1, 300)}"

    def phone(self) -> str:
        return f"010-0{self.rng.randrange(1000):03d}-{self.rng.randrange(10000):04d}"

    def doctor_for(self, when: dt.date) -> tuple[str, str]:
        pool = _DOCTORS if when.year < 2020 else _DOCTORS[:3]
        doctor = pool[self.rng.randrange(len(pool))]
        return doctor[0], doctor[4]

    def visit(self, pt_no: int, chart_no: str, when: dt.date, payer: str, defects: Sequence[str]) -> None:
        rng = self.rng
        visit_no = self.key("VISIT")
        inpatient = rng.random() < 0.02
        discharge = when + dt.timedelta(days=rng.randrange(1, 10)) if inpatient else None
        dr_id, dept = self.doctor_for(when)
        night = "Y" if rng.random() < 0.08 else "N"
        ymd = f"{when:%Y%m%d}"
        self.add("VISIT", (
            visit_no, pt_no, ymd, "I" if inpatient else "O",
            f"{discharge:%Y%m%d}" if discharge else None, dr_id, dept, payer, night,
        ))
        # diagnoses
        kcd_pool = [k for k in self.kcd_cp949 if k[2] <= when.year <= k[3]]
        for number in range(1 if rng.random() < 0.6 else 2):
            code, diagnosis_name, _, _ = rng.choice(kcd_pool)  # the name as CP949 bytes
            onset = when - dt.timedelta(days=rng.randrange(0, 10))
            self.add("DIAG", (
                self.key("DIAG"), visit_no, pt_no, code, diagnosis_name, "Y" if number == 0 else "N",
                f"{onset:%Y%m%d}",
            ))
        # chart note (sometimes amended later the same day)
        cc, hpi, course, plan = rng.choice(self.notes_cp949)
        rec_no = self.key("CHART_REC")
        time_of_day = f"{rng.randrange(9, 19):02d}{rng.randrange(60):02d}00"
        self.add("CHART_REC", (rec_no, visit_no, pt_no, ymd + time_of_day, dr_id, cc, hpi, course, plan, None))
        if rng.random() < 0.02:
            self.add("CHART_REC", (
                self.key("CHART_REC"), visit_no, pt_no, ymd + "235900", dr_id, cc, hpi,
                course, _AMEND_NOTE.encode("cp949"), rec_no,
            ))
        # orders, procedures, labs, imaging: each also becomes a fee line
        fee_lines: list[tuple[str, str, str, int, int, int, bool]] = []  # item, edi, name, price, qty, days, covered
        if rng.random() < 0.3:
            fee_lines.append(("진찰료", "AA154", "초진진찰료-의원", 17610, 1, 1, True))
        else:
            fee_lines.append(("진찰료", "AA254", "재진진찰료-의원", 12590, 1, 1, True))
        if inpatient and discharge:
            stay = (discharge - when).days
            fee_lines.append(("입원료", "AB220", "입원료-의원(4인실 이상)", 36020, 1, stay, True))
        out_rx = "Y" if rng.random() < 0.7 else "N"
        for drug in rng.sample(_DRUGS, rng.randrange(0, 4)):
            local, edi, kind, name, dose, unit, freq, days, route, price = drug
            self.add("ORD_DTL", (
                self.key("ORD_DTL"), visit_no, pt_no, ymd, local, edi, kind, name, dose, unit, freq, days,
                route, dr_id, out_rx if route == "PO" else "N",
            ))
            if route != "PO" or out_rx == "N":
                fee_lines.append(("투약 및 조제료", edi, name, price, freq, days, True))
        if rng.random() < 0.06:
            local, edi, name, price, is_op = rng.choice(_PROCS)
            self.add("ORD_DTL", (
                self.key("ORD_DTL"), visit_no, pt_no, ymd, local, edi, "2", name, "1", "회", 1, 1, None, dr_id, "N",
            ))
            self.add("PROC_REC", (self.key("PROC_REC"), visit_no, pt_no, ymd, edi, name, dr_id, "Y" if is_op else "N"))
            fee_lines.append(("처치 및 수술료", edi, name, price, 1, 1, True))
        had_labs = rng.random() < 0.12
        first_lab = self.next_key["LAB_RSLT"] + 1
        if had_labs:
            for code, name, unit, ref_range, low, high, decimals in rng.sample(_LABS, rng.randrange(1, 4)):
                value = round(rng.uniform(low, high), decimals)
                lo, hi = (float(x) for x in ref_range.split("-"))
                flag = "H" if value > hi else "L" if value < lo else "N"
                self.add("LAB_RSLT", (
                    self.key("LAB_RSLT"), visit_no, pt_no, ymd + "150000", code, name,
                    f"{value:.{decimals}f}", unit, ref_range, flag,
                ))
                fee_lines.append(("검사료", code, name, 1500 + 100 * len(name), 1, 1, True))
        if rng.random() < 0.05:
            modality, edi, text = rng.choice(self.imaging_cp949)
            self.add("IMG_RPT", (self.key("IMG_RPT"), visit_no, pt_no, ymd, modality, edi, text, dr_id))
            price = 9850 if modality == "CR" else 38000
            fee_lines.append(("영상진단료", edi, "영상검사", price, 1, 1, modality == "CR"))  # US: 비급여
        if rng.random() < 0.03 or (inpatient and rng.random() < 0.5):
            kind = "입퇴원확인서" if inpatient else rng.choice(_CERT_KINDS)
            self.certificate(visit_no, pt_no, chart_no, when, kind, dr_id, discharge)
            fee_lines.append(("제증명수수료", "", kind, 1000 if kind != "진단서" else 20000, 1, 1, False))
        self.receipt(visit_no, pt_no, when, payer, fee_lines)
        if rng.random() < 0.04:
            self.attachment(pt_no, visit_no, when, None)
        for kind in defects:
            self.defect(kind, visit_no, pt_no, when, dr_id)
        lab_keys = range(first_lab, self.next_key["LAB_RSLT"] + 1) if had_labs else range(0)
        self.clinical.visit(visit_no, when, inpatient, discharge, dr_id, lab_keys)

    def certificate(
        self, visit_no: int, pt_no: int, chart_no: str, when: dt.date, kind: str, dr_id: str,
        discharge: dt.date | None,
    ) -> None:
        serial = self.cert_serial.get(when.year, 0) + 1
        self.cert_serial[when.year] = serial
        number = f"{when.year}-{serial:05d}"
        doctor = next(d for d in _DOCTORS if d[0] == dr_id)
        stay = f"입원기간: {when:%Y년 %m월 %d일} ~ {discharge:%Y년 %m월 %d일}\n" if discharge else ""
        text = (
            f"{kind}\n발급번호: {number}\n환자등록번호: {chart_no}\n진료일: {when:%Y년 %m월 %d일}\n{stay}"
            "위 환자는 상기 일자에 본원에서 진료를 받았음을 확인합니다.\n"
            "향후 치료 의견: 증상 호전 시까지 외래 추적 관찰 요함.\n"
            f"발행일: {when:%Y년 %m월 %d일}\n의료기관: {_CLINIC[1]} ({_CLINIC[0]})\n주소: {_CLINIC[2]}\n"
            f"의사: {doctor[1]}" + (f" (면허번호 제{doctor[3]}호)" if doctor[3] else "")
        )
        self.add("CERT_ISSUE", (self.key("CERT_ISSUE"), visit_no, pt_no, kind, number, f"{when:%Y%m%d}", dr_id, text))

    def receipt(
        self, visit_no: int, pt_no: int, when: dt.date, payer: str,
        fee_lines: Iterable[tuple[str, str, str, int, int, int, bool]], *, with_lines: bool = True,
        date_text: str | None = None,
    ) -> int:
        rcpt_seq = self.key("RCPT")
        month = f"{when:%Y%m}"
        serial = self.receipt_serial.get(month, 0) + 1
        self.receipt_serial[month] = serial
        self_rate = {"H": 30, "M": 0, "A": 0, "W": 0}.get(payer)
        ymd = f"{when:%Y%m%d}"
        sums = [0, 0, 0, 0]  # self, corp, full self, non-covered
        rows = []
        for item, edi, name, price, qty, days, covered in fee_lines:
            total = price * qty * days
            if not covered:
                shares = (0, 0, 0, total)
            elif self_rate is None:  # 일반: the patient pays all covered items (전액본인부담)
                shares = (0, 0, total, 0)
            else:
                own = total * self_rate // 1000 * 10
                shares = (own, total - own, 0, 0)
            sums = [a + b for a, b in zip(sums, shares, strict=True)]
            rows.append((item, edi or None, name, price, qty, days, total, *shares))
        total = sum(sums)
        medical_aid_copay = 1000 if payer == "M" else 0
        # Receipts before 2016 came from the clinic's previous EMR, which kept no 공단부담금 split:
        # a planted readiness gap (진료비 계산서·영수증), not a quarantine reason.
        insurer_share: int | None = sums[1] - medical_aid_copay if when.year >= 2016 else None
        self.add("RCPT", (
            rcpt_seq, visit_no, pt_no, f"{month}-{serial:05d}", date_text or ymd, sums[0] + medical_aid_copay,
            insurer_share, sums[2], sums[3], total, total - sums[1] + medical_aid_copay,
        ))
        if with_lines:
            for item, line_edi, name, price, qty, days, line_total, own, corp, full, non_cov in rows:
                self.add("FEE_DTL", (
                    self.key("FEE_DTL"), rcpt_seq, visit_no, pt_no, ymd, item, line_edi, name, price, qty, days,
                    line_total, own + full, corp, non_cov,
                ))
        return rcpt_seq

    def attachment(self, pt_no: int, visit_no: int | None, when: dt.date, bad_path: str | None) -> int:
        att_no = self.key("ATTACH_FILE")
        kind = att_no % 3
        if kind == 0:
            mime, title, content, ext = "application/pdf", "외부 검사결과지", tiny_pdf(f"demo scan {att_no}"), "pdf"
        elif kind == 1:
            mime, title, content, ext = "image/png", "상처 사진", tiny_png(att_no % 256), "png"
        else:
            mime, title, content, ext = "image/jpeg", "동의서 스캔", tiny_jpeg(att_no), "jpg"
        if visit_no is None:
            title = "개인정보 수집·이용 동의서"
        if bad_path is not None:
            self.add("ATTACH_FILE", (att_no, pt_no, visit_no, f"{when:%Y%m%d}", mime, title, None, bad_path))
        elif att_no % 2 == 0:
            self.add("ATTACH_FILE", (att_no, pt_no, visit_no, f"{when:%Y%m%d}", mime, title, content, None))
        else:
            relative = f"{when:%Y}/{when:%m}/A{att_no:09d}.{ext}"
            target = self.attachments_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            self.add("ATTACH_FILE", (att_no, pt_no, visit_no, f"{when:%Y%m%d}", mime, title, None, relative))
        return att_no

    def defect(self, kind: str, visit_no: int, pt_no: int, when: dt.date, dr_id: str) -> None:
        """Add one extra, childless row with exactly one planted defect."""
        _entity, table, reason, column = _CHILD_DEFECTS[kind]
        ymd = f"{when:%Y%m%d}"
        key = self.next_key[table] + 1
        if kind == "visit-bad-date":
            self.add(table, (self.key(table), pt_no, "20230230", "O", None, dr_id, "내과", "H", "N"))
        elif kind.startswith("visit-orphan"):
            self.add(table, (self.key(table), self.orphan_key(), ymd, "O", None, dr_id, "내과", "H", "N"))
        elif kind.startswith("diag-"):
            diag_code: str | None = "J00"
            diag_name = "급성 비인두염[감기]".encode("cp949")
            target_visit = visit_no
            if kind == "diag-orphan":
                target_visit = self.orphan_key()
            elif kind == "diag-null-code":
                diag_code = None
            elif kind == "diag-bad-bytes":
                diag_name = _BAD_CP949
            elif kind == "diag-lossy":
                diag_name = b"????"
            self.add(table, (self.key(table), target_visit, pt_no, diag_code, diag_name, "N", ymd))
        elif kind.startswith("note-"):
            cc, hpi, course, plan = self.notes_cp949[0]
            if kind == "note-bad-bytes":
                cc = _BAD_CP949
            else:
                course = b"??????"
            self.add(table, (self.key(table), visit_no, pt_no, ymd + "200000", dr_id, cc, hpi, course, plan, None))
        elif kind == "order-null-date":
            local, edi, code_type, name, dose, unit, freq, days, route, _ = _DRUGS[0]
            self.add(table, (
                self.key(table), visit_no, pt_no, None, local, edi, code_type, name, dose, unit, freq, days,
                route, dr_id, "N",
            ))
        elif kind == "lab-bad-date":
            self.add(table, (
                self.key(table), visit_no, pt_no, "20190231150000", "B1010", "혈색소", "13.1", "g/dL",
                "12.0-16.0", "N",
            ))
        elif kind == "imaging-lossy":
            self.add(table, (self.key(table), visit_no, pt_no, ymd, "CR", "G2101", b"????", dr_id))
        elif kind == "receipt-bad-date":
            fee = [("진찰료", "AA254", "재진진찰료-의원", 12590, 1, 1, True)]
            key = self.receipt(visit_no, pt_no, when, "H", fee, with_lines=False, date_text="20210931")
        elif kind.startswith("attach-"):
            bad_path = {
                "attach-outside": "../../etc/passwd",
                "attach-absolute": "/etc/hosts",
            }.get(kind, f"{when:%Y}/{when:%m}/MISSING_{self.next_key[table] + 1:09d}.pdf")
            key = self.attachment(pt_no, visit_no, when, bad_path)
        else:  # pragma: no cover - a typo in _CHILD_DEFECTS
            raise ValueError(kind)
        self.plant(table, key, reason, column, field_level=kind in _FIELD_LEVEL_KINDS)

    def defective_patient(self, kind: str, index: int) -> None:
        reason, column = _PATIENT_DEFECTS[kind]
        rng = self.rng
        pt_no = self.key("PT_MASTER")
        birth = dt.date(1980, 1, 1) + dt.timedelta(days=rng.randrange(3650))
        name: bytes | None = self.name(index)
        chart_no = f"X{pt_no:07d}"
        birth_text = f"{birth:%Y%m%d}"
        if kind == "pt-zero-birth":
            birth_text = "00000000"
        elif kind == "pt-null-name":
            name = None
        elif kind == "pt-bad-bytes":
            name = _BAD_CP949
        else:  # duplicates: a later row re-using an earlier patient's chart number
            chart_no = self.chart_numbers[rng.randrange(len(self.chart_numbers))]
        self.add("PT_MASTER", (
            pt_no, chart_no, name, "F", birth_text, synthetic_rrn(birth, False, pt_no), self.address(),
            self.phone(), None,
        ))
        self.plant("PT_MASTER", pt_no, reason, column, field_level=kind in _FIELD_LEVEL_KINDS)


# --- what real EMRs have and connectors forget (issue 13) -----------------------------------------
# Added after the clinic is built, with SQL over what is there and a generator of its own, so the rows
# above (and the random draws that make them) are the same as before.

_UNMAPPED_DDL = """
CREATE TABLE SMS_LOG (SMS_NO INTEGER PRIMARY KEY, PT_NO INTEGER, SEND_DTTM TEXT, PHONE TEXT, MSG BLOB,
    RESULT_CD TEXT);
CREATE TABLE AUDIT_LOG (LOG_DTTM TEXT, USER_ID TEXT, ACTION_CD TEXT, TARGET_TBL TEXT, TARGET_KEY TEXT);
CREATE TABLE PRINT_QUEUE (JOB_NO INTEGER PRIMARY KEY, PRINTER TEXT, DOC BLOB);
CREATE TABLE TMP_IMPORT (LINE_NO INTEGER PRIMARY KEY, LINE_TXT TEXT);
ALTER TABLE PT_MASTER ADD COLUMN REMARK BLOB;
ALTER TABLE PT_MASTER ADD COLUMN DEL_YN TEXT;
ALTER TABLE PT_MASTER ADD COLUMN REG_DTTM TEXT;
ALTER TABLE VISIT ADD COLUMN VISIT_TM TEXT;
ALTER TABLE VISIT ADD COLUMN CC_MEMO TEXT;
ALTER TABLE RCPT ADD COLUMN CARD_TP TEXT;
"""
_REMARKS = ("페니실린 알레르기 있음", "보호자 연락처: 010-0000-0000 (딸)", "휠체어 사용")
_SMS_TEXTS = ("[햇살가정의원] 내일 진료 예약 안내드립니다.", "[햇살가정의원] 검사 결과가 나왔습니다. 내원 바랍니다.",
              "[햇살가정의원] 독감 예방접종 안내")
#: A diagnosis name with BEL, VT, NUL and ESC inside, as a broken EMR screen once stored it.
CONTROL_CHARACTER_TEXT = "급성\x07비인두염\x0b\x00[감기]\x1b"


def _hex(text: str) -> str:
    return "X'" + text.encode("cp949").hex() + "'"


def _add_forgotten_data(conn: sqlite3.Connection, builder: _Builder) -> int:
    """Unmapped tables and columns, odd keys and control characters; returns the full-chart patient."""
    for statement in _UNMAPPED_DDL.split(";"):  # executescript would end the open transaction
        if statement.strip():
            conn.execute(statement)
    remark = "CASE PT_NO % 7 " + " ".join(f"WHEN {n} THEN {_hex(t)}" for n, t in enumerate(_REMARKS)) + " END"
    conn.execute(
        f"UPDATE PT_MASTER SET REMARK = {remark}, DEL_YN = CASE WHEN PT_NO % 53 = 0 THEN 'Y' ELSE 'N' END, "
        "REG_DTTM = COALESCE(FIRST_VISIT_YMD, '20140102') || '0930' || substr('0' || (PT_NO % 60), -2)"
    )
    conn.execute(
        "UPDATE VISIT SET VISIT_TM = substr('0' || (9 + VISIT_NO % 9), -2) || substr('0' || (VISIT_NO % 60), -2), "
        "CC_MEMO = CASE WHEN VISIT_NO % 4 = 0 THEN '재진, 증상 호전' END"
    )
    conn.execute("UPDATE RCPT SET CARD_TP = CASE RCPT_SEQ % 3 WHEN 0 THEN '신용' WHEN 1 THEN '체크' END")
    sms = "CASE V.VISIT_NO % 3 " + " ".join(f"WHEN {n} THEN {_hex(t)}" for n, t in enumerate(_SMS_TEXTS)) + " END"
    conn.execute(
        "INSERT INTO SMS_LOG (PT_NO, SEND_DTTM, PHONE, MSG, RESULT_CD) "
        f"SELECT V.PT_NO, V.VISIT_YMD || '083000', P.TEL, {sms}, CASE WHEN V.VISIT_NO % 11 = 0 THEN 'FAIL' "
        "ELSE 'OK' END FROM VISIT V JOIN PT_MASTER P ON P.PT_NO = V.PT_NO WHERE V.VISIT_NO % 2 = 0 "
        "ORDER BY V.VISIT_NO"
    )
    conn.execute(
        "INSERT INTO AUDIT_LOG SELECT VISIT_YMD || '0900', DR_ID, 'VIEW', 'PT_MASTER', CAST(PT_NO AS TEXT) "
        "FROM VISIT WHERE VISIT_NO % 5 = 0 ORDER BY VISIT_NO"
    )
    # The same event logged twice: a keyless table may hold identical rows, and both are carried.
    conn.execute("INSERT INTO AUDIT_LOG VALUES ('201401020900', 'D001', 'LOGIN', NULL, NULL)")
    conn.execute("INSERT INTO AUDIT_LOG VALUES ('201401020900', 'D001', 'LOGIN', NULL, NULL)")
    conn.execute("INSERT INTO PRINT_QUEUE VALUES (1, 'FRONT-DESK', X'25504446')")
    # Keys the store must still accept: empty, padded (alone), padded twin of another key, case variant.
    for key, name in (("", "빈키의사"), ("D005 ", "공백키의사"), ("D002 ", "중복키의사"), ("d001", "소문자키의사")):
        conn.execute("INSERT INTO DOCTOR VALUES (?, ?, '의사', NULL, '내과')", (key, name))
    builder.plant("DOCTOR", "D002", "ambiguous-key", "DR_ID")
    # Control characters inside a diagnosis name (kept raw; FHIR gets visible control pictures).
    planted = {(d.table, d.key) for d in builder.defects + builder.field_defects}
    diag_no = next(n for (n,) in conn.execute("SELECT DIAG_NO FROM DIAG ORDER BY DIAG_NO")
                   if ("DIAG", str(n)) not in planted)
    conn.execute("UPDATE DIAG SET DIAG_NM = ? WHERE DIAG_NO = ?", (CONTROL_CHARACTER_TEXT.encode("cp949"), diag_no))
    builder.plant("DIAG", diag_no, "control-characters", "DIAG_NM", field_level=True)
    # A patient with a full chart whose only defect is an impossible (optional) birth date.
    busiest = next(n for (n,) in conn.execute(
        "SELECT PT_NO FROM VISIT WHERE PT_NO IN (SELECT PT_NO FROM PT_MASTER) GROUP BY PT_NO "
        "ORDER BY COUNT(*) DESC, PT_NO") if ("PT_MASTER", str(n)) not in planted)
    conn.execute("UPDATE PT_MASTER SET BIRTH_YMD = '19850229' WHERE PT_NO = ?", (busiest,))
    builder.plant("PT_MASTER", busiest, "invalid-date", "BIRTH_YMD", field_level=True)
    for table in ("DOCTOR", "SMS_LOG", "AUDIT_LOG", "PRINT_QUEUE", "TMP_IMPORT"):
        builder.counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    return int(busiest)


def create_demo_clinic(
    path: Path, *, patients: int = 200, seed: int = DEFAULT_SEED, attachments_dir: Path | None = None
) -> DemoClinic:
    """Build the synthetic clinic database at ``path`` (replaced if it exists) and its attachment files.

    Deterministic for a given ``seed`` and ``patients``. About 100 source rows per patient (10^5 patients
    ≈ 10^7 rows, about a minute); memory stays flat because rows are inserted in batches.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    path = Path(path)
    attachments_root = Path(attachments_dir) if attachments_dir is not None else path.parent / "attachments"
    path.parent.mkdir(parents=True, exist_ok=True)
    attachments_root.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    rng = random.Random(seed)
    # Where the dirty rows go: fixed by the seed, spread over the whole patient range.
    child_plan: dict[int, list[str]] = {}
    for kind in _CHILD_DEFECTS:
        child_plan.setdefault(rng.randrange(patients), []).append(kind)
    patient_plan: dict[int, list[str]] = {}
    for kind in _PATIENT_DEFECTS:
        patient_plan.setdefault(rng.randrange(patients), []).append(kind)

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(_DDL)
        conn.execute("BEGIN")
        builder = _Builder(conn, rng, attachments_root, seed, patients)
        builder.clinic()
        for index in range(patients):
            builder.patient(index, child_plan.get(index, ()))
            for kind in patient_plan.get(index, ()):
                builder.defective_patient(kind, index)
        builder.clinical.finish()
        builder.flush_all()
        broken_field_patient = _add_forgotten_data(conn, builder)
        conn.execute("COMMIT")
    finally:
        conn.close()
    source_rows = {table: count for table, count in builder.counts.items()}
    return DemoClinic(path, attachments_root, source_rows, builder.defects, builder.field_defects,
                      broken_field_patient)
