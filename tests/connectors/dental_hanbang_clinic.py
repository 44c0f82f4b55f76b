"""Two synthetic Korean clinics whose charts are not a medical clinic's (test data only; made-up Korean patients):

* a dental clinic (치과) on MariaDB, UPPER_SNAKE romanised abbreviations, utf8mb4 with one ``euckr`` memo column:
  a common-code table ``CM_CODE``; patients with a masked 주민등록번호 (``800101-1******``), ``BIRTH_YMD CHAR(8)``;
  receptions (``RCV_YMD CHAR(8)``, ``RCV_TM CHAR(4)``); KCD diagnoses (K02.1 치아우식 …); treatment lines
  ``TX_DTL`` with the fee code (치과 U-codes ``U0010`` …), tooth numbers (FDI, permanent 11-48 and deciduous 51-85)
  as ``'11,12,21'`` in one text column (one line ``'13-23'``, one ``'#44 - 46'``, one ``'전악'`` and a diagnosis
  ``'상악 전치부'``, no tooth number), the surfaces (``'MOD'``, ``'DL'``, ``'근심'``, ``'교합면'``; one ``'F'``) and
  plan, under way and done (``TX_STAT`` ``P``/``I``/``D``, ``C`` cancelled); implant/prosthesis records with their
  lot numbers; X-ray and panorama images as paths to files; receipts; ``DEL_YN`` soft deletes;
* a Korean-medicine clinic (한의원) on PostgreSQL, Korean table and column names: ``공통코드``; ``환자`` with an
  unmasked 주민등록번호, ``생년월일`` 'YYYYMMDD' and 사상체질; ``내원`` with 맥진/설진 findings; ``상병`` (KCD with
  the Korean-medicine U-codes); ``침구치료`` (침/뜸/부항, 행위코드 of the 40000 series, 경혈 as ``'LI4,ST36'``);
  ``한약처방`` (처방명, 첩수, 팩수) with its herbs as child rows ``한약처방_약재`` (약재명, 용량 g); ``첨부파일``;
  ``수납``; ``삭제여부`` flags.

Each keeps a few files under the attachments folder it is given; planted in both: a file the row names that is not
there, and a path climbing out of the folder with ``..\\..\\`` (refused as ``path-outside-root``, the row quarantined
with every cell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민", "예준", "수아", "건우", "다은"]
PATIENTS = 36
VISITS = 120
#: the climbing path planted in both clinics' image/attachment tables
CLIMBING = "..\\..\\Windows\\win.ini"


def name_of(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 3) % len(GIVEN)]


def rrn_of(i: int) -> str:
    """Patient ``i``'s RRN (13 digits): born 1950-1999 (7th digit 1/2), or 2000-2019 every 5th (3/4)."""
    if i % 5 == 0:
        return f"{i % 20:02d}{1 + i % 12:02d}{1 + i % 28:02d}{3 + i % 2}{200000 + i * 41:06d}"
    return f"{50 + i % 50:02d}{1 + i % 12:02d}{1 + i % 28:02d}{1 + i % 2}{100000 + i * 37:06d}"


def birth_of(rrn: str) -> str:
    return f"{19 if rrn[6] in '12' else 20}{rrn[:6]}"


@dataclass
class SpecialtyClinic(ForeignDb):
    """The database as built, the attachments folder and what was planted."""

    attachments: Path = Path()
    #: patient key → (name, birth text, sex code)
    people: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: treatment/acupuncture row key → (visit key, code, tooth numbers or points text)
    lines: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    #: the rows of the images/attachments table → stored path
    files: dict[int, str] = field(default_factory=dict)
    #: a dental diagnosis row's key → its TOOTH_NO as stored
    diagnosis_teeth: dict[int, str | None] = field(default_factory=dict)
    #: a dental treatment row's key → its SURF as stored
    surfaces: dict[int, str | None] = field(default_factory=dict)
    #: a dental treatment row's key → its TX_STAT and DEL_YN as stored
    statuses: dict[int, tuple[str, str]] = field(default_factory=dict)
    dirty: dict[str, Any] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _put(c: Any, db: ForeignDb, table: str, rows: list[tuple[Any, ...]], inventory_name: str | None = None) -> None:
    quoted = table if table.isascii() else f"`{table}`" if db.engine == "mariadb" else f'"{table}"'
    c.executemany(f"INSERT INTO {quoted} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    db.table(inventory_name or table.lower(), len(rows[0]), len(rows))


def _created(conn_str: str, engine: str, database: str, ddl: dict[str, str], patients: str,
             attachments: Path) -> tuple[SpecialtyClinic, Any]:
    """A fresh database on the ``engine`` server of ``conn_str`` with the tables of ``ddl``; its connection."""
    import pyodbc

    target = _fresh_database(conn_str, database, engine)
    db = SpecialtyClinic(engine, odbc=target, patients=patients, attachments=attachments)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    for name, columns in ddl.items():
        conn.execute(f"CREATE TABLE {name} ({columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if engine == "mariadb"
                     else f'CREATE TABLE "{name}" ({columns})')
    return db, conn


def _files(folder: Path, names: list[str]) -> None:
    for n, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8\xff\xe0JFIF synthetic image " + name.encode() + bytes([n % 256]) * (64 + n))


# --- 치과 (MariaDB) -------------------------------------------------------------------------------------------

DENTAL_CODES: dict[tuple[str, str], str] = {
    ("SEX", "M"): "남", ("SEX", "F"): "여",
    ("TX_STAT", "P"): "계획", ("TX_STAT", "I"): "진행중", ("TX_STAT", "D"): "완료", ("TX_STAT", "C"): "취소",
    ("SURF", "M"): "근심면", ("SURF", "O"): "교합면", ("SURF", "D"): "원심면", ("SURF", "B"): "협면",
    ("SURF", "L"): "설면",
    ("IMG_TP", "PANO"): "파노라마", ("IMG_TP", "PA"): "치근단", ("IMG_TP", "CT"): "CBCT",
    ("DEL_YN", "Y"): "삭제", ("DEL_YN", "N"): "정상",
}
#: fee code → (name, EDI-like code); the dental U-codes and examination fees
DENTAL_FEES: dict[str, str] = {
    "AA154": "초진진찰료-의원", "AA254": "재진진찰료-의원", "U0010": "치석제거-1/3악당", "U2233": "근관세척-1근관",
    "U2240": "근관충전-1근관", "U1010": "광중합형 복합레진 충전", "U4412": "발치-단근치", "UX001": "임플란트 식립",
    "G9701": "치과파노라마촬영",
}
DENTAL_KCD = {"K02.1": "상아질의 우식", "K04.0": "치수염", "K05.1": "만성 치은염", "K08.1": "사고, 발치 또는 국소적 "
              "치주병에 의한 치아상실", "K03.6": "치아의 침착물[부착물]", "K00.6": "치아맹출의 장애"}
PERMANENT = [q * 10 + n for q in (1, 2, 3, 4) for n in range(1, 9)]
DECIDUOUS = [q * 10 + n for q in (5, 6, 7, 8) for n in range(1, 6)]

DENTAL_DDL: dict[str, str] = {
    "CM_CODE": "GRP_CD VARCHAR(20) NOT NULL, CD VARCHAR(20) NOT NULL, CD_NM VARCHAR(100) NOT NULL, "
               "USE_YN CHAR(1) NOT NULL, PRIMARY KEY (GRP_CD, CD)",
    "DR_INFO": "DR_ID VARCHAR(10) PRIMARY KEY, DR_NM VARCHAR(50) NOT NULL, LCNS_NO VARCHAR(10), USE_YN CHAR(1)",
    "PT_INFO": "PT_NO INT PRIMARY KEY, CHART_NO VARCHAR(10) NOT NULL, PT_NM VARCHAR(50) NOT NULL, "
               "JUMIN_NO VARCHAR(14), BIRTH_YMD CHAR(8), SEX_CD CHAR(1), HP_NO VARCHAR(20), "
               "PT_MEMO VARCHAR(200) CHARACTER SET euckr, FIRST_YMD CHAR(8), DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
    "JIN_RCV": "RCV_NO INT PRIMARY KEY, PT_NO INT NOT NULL, RCV_YMD CHAR(8) NOT NULL, RCV_TM CHAR(4), "
               "DR_ID VARCHAR(10), CC_TXT VARCHAR(200), DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
    "DIAG": "DX_NO INT PRIMARY KEY, RCV_NO INT NOT NULL, PT_NO INT NOT NULL, KCD_CD VARCHAR(10) NOT NULL, "
            "DX_NM VARCHAR(200), MAIN_YN CHAR(1), TOOTH_NO VARCHAR(100), DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
    "TX_DTL": "TX_NO INT PRIMARY KEY, RCV_NO INT NOT NULL, PT_NO INT NOT NULL, TX_YMD CHAR(8) NOT NULL, "
              "SUGA_CD VARCHAR(10) NOT NULL, TX_NM VARCHAR(100), TOOTH_NO VARCHAR(100), SURF VARCHAR(10), "
              "TX_QTY DECIMAL(6, 1), TX_STAT CHAR(1) NOT NULL, DR_ID VARCHAR(10), DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
    "IMPL_REC": "IMPL_NO INT PRIMARY KEY, TX_NO INT NOT NULL, PT_NO INT NOT NULL, TOOTH_NO VARCHAR(10), "
                "MAKER_NM VARCHAR(50), FIXTURE_NM VARCHAR(100), LOT_NO VARCHAR(30), FIXTURE_SIZE VARCHAR(20), "
                "SURG_YMD CHAR(8)",
    "XRAY_IMG": "IMG_NO INT PRIMARY KEY, PT_NO INT NOT NULL, RCV_NO INT, IMG_TP VARCHAR(10), TAKE_YMD CHAR(8), "
                "FILE_PATH VARCHAR(255), DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
    "RCPT": "RCPT_NO INT PRIMARY KEY, RCV_NO INT NOT NULL, PT_NO INT NOT NULL, RCPT_YMD CHAR(8) NOT NULL, "
            "TOT_AMT DECIMAL(12, 0), BON_AMT DECIMAL(12, 0), CARD_AMT DECIMAL(12, 0), CASH_AMT DECIMAL(12, 0), "
            "DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
}


def create_dental_clinic(conn_str: str, attachments: Path, database: str = "emr_dental") -> SpecialtyClinic:
    """The dental clinic on the MariaDB server of ``conn_str`` (a fresh database); its images under
    ``attachments``."""
    db, conn = _created(conn_str, "mariadb", database, DENTAL_DDL, "pt_info", attachments)
    c = conn.cursor()
    _put(c, db, "CM_CODE", [(g, cd, nm, "Y") for (g, cd), nm in DENTAL_CODES.items()])
    _put(c, db, "DR_INFO", [("D01", "김치과", "12001", "Y"), ("D02", "이교정", "12002", "Y")])
    patients: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        sex = "M" if rrn[6] in "13" else "F"
        birth = birth_of(rrn)
        memo = ("치과 공포증 있음, 천천히 설명" if i % 4 == 0 else "페니실린 알레르기" if i % 9 == 0 else None)
        patients.append((i, f"D{i:05d}", name_of(i), f"{rrn[:6]}-{rrn[6]}******", birth, sex,
                         f"010-{2000 + i:04d}-{3000 + i * 3:04d}" if i % 6 else None, memo,
                         (dt.date(2021, 3, 1) + dt.timedelta(days=i * 9)).strftime("%Y%m%d"), "Y" if i == 31 else "N"))
        db.people[str(i)] = (name_of(i), birth, sex)
    db.dirty["deleted_patient"] = 31
    _put(c, db, "PT_INFO", patients)
    visits: list[tuple[Any, ...]] = []
    visit_day: dict[int, str] = {}
    for v in range(1, VISITS + 1):
        pt = 1 + (v * 5) % PATIENTS
        day = (dt.date(2022, 1, 3) + dt.timedelta(days=v * 4)).strftime("%Y%m%d")
        visit_day[v] = day
        visits.append((v, pt, day, f"{9 + v % 9:02d}{(v * 7) % 60:02d}", "D01" if v % 3 else "D02",
                       ("찬 물에 시림", "잇몸 출혈", "스케일링 원함", "임플란트 상담", None)[v % 5],
                       "Y" if v == 77 else "N"))
    _put(c, db, "JIN_RCV", visits)
    patient_of = {v[0]: v[1] for v in visits}
    codes = list(DENTAL_KCD)
    diagnoses = []
    for v in range(1, VISITS + 1):
        code = codes[v % len(codes)]
        teeth = _teeth(v, patient_of[v])
        diagnoses.append((v, v, patient_of[v], code, DENTAL_KCD[code] if v % 7 else None, "Y", teeth, "N"))
    # a diagnosis of the upper front teeth written as words: kept, its tooth cell raw as unreadable-teeth
    diagnoses[9] = (*diagnoses[9][:6], "상악 전치부", *diagnoses[9][7:])
    db.dirty["unreadable_dx_teeth"] = diagnoses[9][0]
    db.diagnosis_teeth = {d[0]: d[6] for d in diagnoses}
    _put(c, db, "DIAG", diagnoses)
    treatments: list[tuple[Any, ...]] = []
    fees = list(DENTAL_FEES)
    for v in range(1, VISITS + 1):
        exam = "AA154" if v % 8 == 1 else "AA254"
        rows = [(exam, None, None, Decimal("1.0"), "D")]
        for k in range(1 + v % 3):
            fee = fees[2 + (v + k) % (len(fees) - 2)]
            teeth = _teeth(v + k, patient_of[v])
            surface = ("MOD", "O", "B", "DL", None, "근심", "교합면")[(v // 7 + k) % 7] if fee == "U1010" else None
            # a root canal or an implant over several visits: 진행중 (I) until its last
            stat = "P" if (v + k) % 6 == 0 else "I" if fee in ("U2233", "UX001") and (v + k) % 4 == 1 else "D"
            rows.append((fee, teeth, surface, Decimal("1.0") if k else Decimal("2.0"), stat))
        for fee, teeth, surface, qty, stat in rows:
            no = len(treatments) + 1
            treatments.append((no, v, patient_of[v], visit_day[v], fee, DENTAL_FEES[fee], teeth, surface, qty, stat,
                               "D01" if v % 3 else "D02", "N"))
            db.lines[no] = (v, fee, teeth or "")
    db.dirty["bad_tx_date"] = treatments[40][0]
    # a cancelled treatment (TX_STAT 'C', 취소) and a deleted planned one (DEL_YN 'Y'): a Procedure not-done and one
    # entered-in-error, never 'completed'
    db.dirty["cancelled_tx"], db.dirty["deleted_tx"] = treatments[60][0], treatments[70][0]
    treatments[60] = (*treatments[60][:9], "C", *treatments[60][10:])
    treatments[70] = (*treatments[70][:9], "P", treatments[70][10], "Y")
    treatments[40] = (*treatments[40][:3], "20220231", *treatments[40][4:])
    # tooth columns as charts also write them: a range across the midline (a bridge 13-23), a range in one quadrant
    # with spaces and a '#', and a word no tooth number reads ('전악', the whole mouth, of a scaling): its row kept,
    # the cell carried raw as unreadable-teeth
    planted = {"bridge_teeth": ("U2240", "13-23"), "range_teeth": ("U2233", "#44 - 46"),
               "unreadable_teeth": ("U0010", "전악")}
    for name, (fee, written) in planted.items():
        row = next(i for i, t in enumerate(treatments) if t[4] == fee and t[6] and i not in (40, 60, 70)
                   and t[0] not in db.dirty.values())
        treatments[row] = (*treatments[row][:6], written, *treatments[row][7:])
        db.dirty[name] = treatments[row][0]
        db.lines[treatments[row][0]] = (*db.lines[treatments[row][0]][:2], written)
    # a surface written 'F' (facial: buccal on a back tooth, labial on a front one): its row kept, the cell carried
    # raw as unreadable-surface
    row = next(i for i, t in enumerate(treatments) if t[7] and t[0] not in db.dirty.values() and i not in (40, 60, 70))
    treatments[row] = (*treatments[row][:7], "F", *treatments[row][8:])
    db.dirty["unreadable_surface"] = treatments[row][0]
    db.surfaces = {t[0]: t[7] for t in treatments}
    db.statuses = {t[0]: (t[9], t[11]) for t in treatments}
    _put(c, db, "TX_DTL", treatments)
    implants = []
    for tx in treatments:
        if tx[4] == "UX001":
            tooth = (tx[6] or "36").split(",")[0]
            implants.append((len(implants) + 1, tx[0], tx[2], tooth, ("오스템", "덴티움", "네오바이오텍")[tx[0] % 3],
                             ("TSIII SA", "SuperLine", "IS-III active")[tx[0] % 3], f"LOT{2022000 + tx[0] * 17}",
                             ("4.0x10", "4.5x11.5", "5.0x8.5")[tx[0] % 3], tx[3]))
    _put(c, db, "IMPL_REC", implants)
    images: list[tuple[Any, ...]] = []
    present: list[str] = []
    for n in range(1, 25):
        v = n * 5
        kind = ("PANO", "PA", "PA", "CT")[n % 4]
        rel = f"xray\\{visit_day[v][:4]}\\{patient_of[v]:05d}_{kind}_{n}.jpg"
        if n == 7:
            rel = CLIMBING
            db.dirty["climbing"] = n
        elif n == 11:
            db.dirty["missing"] = n
        else:
            present.append(rel.replace("\\", "/"))
        images.append((n, patient_of[v], v, kind, visit_day[v], rel, "N"))
        db.files[n] = rel
    _files(attachments, present)
    _put(c, db, "XRAY_IMG", images)
    receipts = []
    for v in range(1, VISITS + 1):
        total = Decimal(15000 + (v % 9) * 11000)
        own = (total * Decimal("0.3")).quantize(Decimal(1))
        receipts.append((v, v, patient_of[v], visit_day[v], total, own, own if v % 2 else Decimal(0),
                         Decimal(0) if v % 2 else own, "N"))
    _put(c, db, "RCPT", receipts)
    conn.close()
    return db


def _teeth(n: int, patient: int) -> str | None:
    """Tooth numbers as the chart writes them: '11,12,21'; a child's (born 2000s) deciduous ones; none for some."""
    if n % 6 == 5:
        return None
    pool = DECIDUOUS if patient % 5 == 0 else PERMANENT
    count = 1 + n % 3
    return ",".join(str(pool[(n * 7 + k * 3) % len(pool)]) for k in range(count))


# --- 한의원 (PostgreSQL) -----------------------------------------------------------------------------------------

HANBANG_CODES: dict[tuple[str, str], str] = {
    ("성별", "1"): "남", ("성별", "2"): "여",
    ("체질", "TY"): "태양인", ("체질", "TE"): "태음인", ("체질", "SY"): "소양인", ("체질", "SE"): "소음인",
    ("치료구분", "침"): "침술", ("치료구분", "뜸"): "구술", ("치료구분", "부항"): "부항술",
}
HANBANG_KCD = {"U23.0": "간계병증(肝系病證)", "U50.0": "태양병증", "U62.1": "기허증", "M54.5": "요통",
               "S33.5": "요추의 염좌 및 긴장", "U32.4": "비계병증", "M75.1": "회전근개 증후군"}
#: 행위코드 → name (the 40000-series of 한방 fees)
HANBANG_FEES = {"40011": "침술-1부위", "40012": "침술-2부위이상", "40070": "구술-간접구", "40091": "부항술-건식",
                "40092": "부항술-습식", "40030": "전침술"}
POINTS = ["LI4", "ST36", "GB34", "SP6", "LR3", "BL23", "BL40", "GV20", "PC6", "CV12", "KI3", "SI3"]
#: 처방명 → herbs (약재명, g per 첩)
FORMULAS: dict[str, list[tuple[str, Decimal]]] = {
    "보중익기탕": [("황기", Decimal("6.00")), ("인삼", Decimal("4.00")), ("백출", Decimal("4.00")),
               ("감초", Decimal("4.00")), ("당귀", Decimal("2.00")), ("진피", Decimal("2.00")),
               ("승마", Decimal("1.20")), ("시호", Decimal("1.20"))],
    "쌍화탕": [("백작약", Decimal("10.00")), ("숙지황", Decimal("4.00")), ("황기", Decimal("4.00")),
            ("당귀", Decimal("4.00")), ("천궁", Decimal("4.00")), ("계피", Decimal("3.00")), ("감초", Decimal("3.00"))],
    "독활기생탕": [("독활", Decimal("8.00")), ("상기생", Decimal("6.00")), ("두충", Decimal("4.00")),
               ("우슬", Decimal("4.00")), ("진교", Decimal("3.75"))],
}

HANBANG_DDL: dict[str, str] = {
    "공통코드": '"그룹코드" varchar(20) NOT NULL, "코드" varchar(20) NOT NULL, "코드명" varchar(100) NOT NULL, '
            '"사용여부" char(1) NOT NULL, PRIMARY KEY ("그룹코드", "코드")',
    "환자": '"환자번호" varchar(10) PRIMARY KEY, "성명" varchar(50) NOT NULL, "주민등록번호" char(13), '
          '"생년월일" char(8), "성별" char(1), "전화번호" varchar(20), "체질" varchar(2), "초진일자" char(8), '
          '"삭제여부" char(1) NOT NULL DEFAULT \'N\'',
    "내원": '"내원번호" integer PRIMARY KEY, "환자번호" varchar(10) NOT NULL, "내원일자" char(8) NOT NULL, '
          '"내원시간" char(4), "주소증" varchar(200), "맥진" varchar(50), "설진" varchar(50), '
          '"삭제여부" char(1) NOT NULL DEFAULT \'N\'',
    "상병": '"상병번호" integer PRIMARY KEY, "내원번호" integer NOT NULL, "상병코드" varchar(10) NOT NULL, '
          '"상병명" varchar(100), "주상병여부" char(1), "삭제여부" char(1) NOT NULL DEFAULT \'N\'',
    "침구치료": '"치료번호" integer PRIMARY KEY, "내원번호" integer NOT NULL, "치료구분" varchar(4) NOT NULL, '
            '"행위코드" varchar(10) NOT NULL, "행위명" varchar(50), "경혈" varchar(200), "치료일자" char(8) NOT NULL, '
            '"삭제여부" char(1) NOT NULL DEFAULT \'N\'',
    "한약처방": '"처방번호" integer PRIMARY KEY, "내원번호" integer NOT NULL, "처방일자" char(8) NOT NULL, '
            '"처방명" varchar(50) NOT NULL, "첩수" integer, "팩수" integer, "복용일수" integer, "복용법" varchar(100), '
            '"삭제여부" char(1) NOT NULL DEFAULT \'N\'',
    "한약처방_약재": '"처방번호" integer NOT NULL, "순번" integer NOT NULL, "약재명" varchar(30) NOT NULL, '
                '"용량" numeric(6, 2) NOT NULL, "단위" varchar(4), PRIMARY KEY ("처방번호", "순번")',
    "첨부파일": '"파일번호" integer PRIMARY KEY, "환자번호" varchar(10) NOT NULL, "내원번호" integer, '
            '"파일경로" varchar(255) NOT NULL, "파일설명" varchar(100), "등록일자" char(8)',
    "수납": '"수납번호" integer PRIMARY KEY, "내원번호" integer NOT NULL, "수납일자" char(8) NOT NULL, '
          '"총진료비" numeric(12, 0), "본인부담금" numeric(12, 0), "비급여" numeric(12, 0), '
          '"삭제여부" char(1) NOT NULL DEFAULT \'N\'',
}


def create_hanbang_clinic(conn_str: str, attachments: Path, database: str = "emr_hanbang") -> SpecialtyClinic:
    """The Korean-medicine clinic on the PostgreSQL server of ``conn_str`` (a fresh database); its files under
    ``attachments``."""
    db, conn = _created(conn_str, "postgresql", database, HANBANG_DDL, "환자", attachments)
    c = conn.cursor()
    _put(c, db, "공통코드", [(g, cd, nm, "Y") for (g, cd), nm in HANBANG_CODES.items()])
    constitutions = ["TY", "TE", "SY", "SE", None]
    patients = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        sex = "1" if rrn[6] in "13" else "2"
        no = f"H{i:04d}"
        patients.append((no, name_of(i + 3), rrn, birth_of(rrn), sex, f"010-{5000 + i:04d}-{6000 + i:04d}",
                         constitutions[i % 5], (dt.date(2020, 5, 1) + dt.timedelta(days=i * 11)).strftime("%Y%m%d"),
                         "Y" if i == 17 else "N"))
        db.people[no] = (name_of(i + 3), birth_of(rrn), sex)
    _put(c, db, "환자", patients)
    visits = []
    visit_day: dict[int, str] = {}
    patient_of: dict[int, str] = {}
    for v in range(1, VISITS + 1):
        pt = f"H{1 + (v * 7) % PATIENTS:04d}"
        day = (dt.date(2023, 2, 1) + dt.timedelta(days=v * 3)).strftime("%Y%m%d")
        visit_day[v], patient_of[v] = day, pt
        visits.append((v, pt, day, f"{9 + v % 9:02d}{(v * 11) % 60:02d}",
                       ("허리 통증 2주", "어깨 결림", "소화불량, 식욕부진", "만성 피로", None)[v % 5],
                       ("부삭", "침세", "현활", "홍대", None)[v % 5], ("담홍설 박백태", "설질 담백", "황태", None)[v % 4],
                       "Y" if v == 64 else "N"))
    _put(c, db, "내원", visits)
    codes = list(HANBANG_KCD)
    diagnoses = []
    for v in range(1, VISITS + 1):
        for k in range(1 + (v % 4 == 0)):
            code = codes[(v + k * 3) % len(codes)]
            diagnoses.append((len(diagnoses) + 1, v, code, HANBANG_KCD[code] if v % 10 else None,
                              "Y" if k == 0 else "N", "N"))
    _put(c, db, "상병", diagnoses)
    treatments = []
    fees = list(HANBANG_FEES)
    for v in range(1, VISITS + 1):
        for k in range(1 + v % 3):
            fee = fees[(v + k) % len(fees)]
            kind = "뜸" if fee == "40070" else "부항" if fee.startswith("4009") else "침"
            points = ",".join(POINTS[(v * 5 + j * 7) % len(POINTS)] for j in range(1 + (v + k) % 4)) \
                if kind == "침" else None
            no = len(treatments) + 1
            treatments.append((no, v, kind, fee, HANBANG_FEES[fee], points, visit_day[v], "N"))
            db.lines[no] = (v, fee, points or "")
    _put(c, db, "침구치료", treatments)
    prescriptions, herbs = [], []
    names = list(FORMULAS)
    for n, v in enumerate(range(3, VISITS + 1, 4), 1):
        formula = names[n % len(names)]
        chups = (10, 20, 15)[n % 3]
        prescriptions.append((n, v, visit_day[v], formula, chups, chups * 3 // 2, 10 + n % 3 * 5,
                              "1일 2회 식후 30분" if n % 2 else "1일 3회 식간", "N"))
        for seq, (herb, grams) in enumerate(FORMULAS[formula], 1):
            herbs.append((n, seq, herb, grams, "g"))
    _put(c, db, "한약처방", prescriptions)
    _put(c, db, "한약처방_약재", herbs)
    files: list[tuple[Any, ...]] = []
    present: list[str] = []
    for n in range(1, 19):
        v = n * 6
        rel = f"scan/{patient_of[v]}/{visit_day[v]}_{n}.jpg"
        if n == 5:
            rel = CLIMBING
            db.dirty["climbing"] = n
        elif n == 9:
            db.dirty["missing"] = n
        else:
            present.append(rel)
        files.append((n, patient_of[v], v, rel, ("설진 사진", "동의서", "체질 설문지")[n % 3], visit_day[v]))
        db.files[n] = rel
    _files(attachments, present)
    _put(c, db, "첨부파일", files)
    receipts = []
    for v in range(1, VISITS + 1):
        total = Decimal(9800 + (v % 6) * 2300)
        receipts.append((v, v, visit_day[v], total, (total * Decimal("0.3")).quantize(Decimal(100)),
                         Decimal(150000) if v % 4 == 3 else Decimal(0), "N"))
    _put(c, db, "수납", receipts)
    conn.close()
    return db
