"""A synthetic clinic in the style of Korean hospital/clinic systems built on SQL Server and ported to other engines,
whose every code is looked up in ONE common-code table (공통코드) (test data only; the same rows on PostgreSQL and on
MariaDB).

``TB_COMM_CD (GRP_CD, CD, CD_NM, USE_YN, SORT_SEQ)`` keyed by (group, code): a patient's sex is ``GRP_CD='SEX'``
('1' 남, '2' 여), a visit's type ``VST_TP`` (외래/입원/응급), its department ``DEPT``, its status ``VST_STAT``
(접수/진료중/완료/취소), an order's route ``ROUTE``, a payment method ``PAY_MTHD``, a ward ``WARD``, the deleted
flag ``DEL_YN``; the same code in several groups ('1' is a sex and a payment method, 'IM' 내과 and 근육주사). A
separate master for drugs (``TB_DRUG_MST``) and for fee items (``TB_SUGA_MST``), each with its EDI code and name;
an order's ``ORD_CD`` is the one's or the other's key. UPPER_SNAKE abbreviations (``PTNT_NO``, ``PTNT_NM``,
``RRN_ENC``, ``BRTH_DT CHAR(8)``, ``SEX_CD``, ``VST_DT CHAR(8)`` + ``VST_TM CHAR(6)``, ``ORD_QTY NUMERIC``,
``DEL_YN CHAR(1)``), the audit columns ``REG_DT``, ``REG_ID``, ``UPD_DT``, ``UPD_ID`` on every table; inpatient
admissions (``TB_ADM``, discharge date '00000000' while in the ward) beside the outpatient visits; ``DEL_YN='Y'`` soft
deletes; the RRN encrypted (base64 of the ciphertext) beside a masked copy.

Names are Korean and made up; no real data. Planted: a visit whose department code no ``DEPT`` row has (``'99'``), a
birth date '20230230', a visit dated '00000000', an order of a visit nobody has (orphan), an order number twice
(``TB_ORD`` has no key constraint), a soft-deleted patient and visit.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민", "예준", "수아", "건우"]
PATIENTS = 40
VISITS = 160
#: (group, code) → (name, in use); codes repeat across groups
COMMON: dict[tuple[str, str], tuple[str, bool]] = {
    ("SEX", "1"): ("남", True), ("SEX", "2"): ("여", True),
    ("VST_TP", "O"): ("외래", True), ("VST_TP", "I"): ("입원", True), ("VST_TP", "E"): ("응급", True),
    ("DEPT", "IM"): ("내과", True), ("DEPT", "PD"): ("소아청소년과", True), ("DEPT", "FM"): ("가정의학과", True),
    ("DEPT", "OS"): ("정형외과", True), ("DEPT", "DM"): ("피부과", False),
    ("VST_STAT", "10"): ("접수", True), ("VST_STAT", "20"): ("진료중", True), ("VST_STAT", "30"): ("완료", True),
    ("VST_STAT", "90"): ("취소", True),
    ("ROUTE", "PO"): ("경구", True), ("ROUTE", "IV"): ("정맥주사", True), ("ROUTE", "IM"): ("근육주사", True),
    ("ROUTE", "EX"): ("외용", True),
    ("PAY_MTHD", "1"): ("현금", True), ("PAY_MTHD", "2"): ("카드", True), ("PAY_MTHD", "3"): ("계좌이체", True),
    ("WARD", "5W"): ("5병동", True), ("WARD", "6W"): ("6병동", True),
    ("DEL_YN", "Y"): ("삭제", True), ("DEL_YN", "N"): ("정상", True),
}
#: DRUG_CD → (name, EDI code)
DRUGS: dict[str, tuple[str, str]] = {
    "D0001": ("타이레놀정500mg", "645301200"), "D0002": ("노바스크정5mg", "643301010"),
    "D0003": ("아모크라정375mg", "641901230"), "D0004": ("가스모틴정5mg", "642101350"),
    "D0005": ("세프트리악손주1g", "650100160"),
}
#: SUGA_CD → (name, EDI code, unit price)
SUGA: dict[str, tuple[str, str, Decimal]] = {
    "S0001": ("초진진찰료-의원", "AA154", Decimal("17610.00")),
    "S0002": ("재진진찰료-의원", "AA254", Decimal("12590.00")),
    "S0003": ("혈액일반검사", "D0001", Decimal("2840.50")),
}
#: KCD code → name
KCD = {"J00": "급성 비인두염", "I10": "본태성 고혈압", "K29.7": "상세불명의 위염", "E11.9": "합병증을 동반하지 않은 2형 당뇨병",
       "M54.5": "요통", "S93.4": "발목의 염좌 및 긴장"}

_AUDIT = ("REG_DT {ts} NOT NULL, REG_ID VARCHAR(10) NOT NULL, UPD_DT {ts}, UPD_ID VARCHAR(10)")

#: table → its columns (``{ts}``: the engine's timestamp type)
DDL: dict[str, str] = {
    "TB_COMM_CD": "GRP_CD VARCHAR(20) NOT NULL, CD VARCHAR(20) NOT NULL, CD_NM VARCHAR(100) NOT NULL, "
                  f"USE_YN CHAR(1) NOT NULL, SORT_SEQ INT, {_AUDIT}, PRIMARY KEY (GRP_CD, CD)",
    "TB_DRUG_MST": "DRUG_CD VARCHAR(20) PRIMARY KEY, DRUG_NM VARCHAR(200) NOT NULL, EDI_CD VARCHAR(20), "
                   f"UNIT_NM VARCHAR(10), USE_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_SUGA_MST": "SUGA_CD VARCHAR(20) PRIMARY KEY, SUGA_NM VARCHAR(200) NOT NULL, EDI_CD VARCHAR(20), "
                   f"UNIT_PRC NUMERIC(12, 2), USE_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_DR": "DR_ID VARCHAR(10) PRIMARY KEY, DR_NM VARCHAR(50) NOT NULL, LCNS_NO VARCHAR(10), DEPT_CD VARCHAR(10), "
             f"USE_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_PTNT": "PTNT_NO CHAR(8) PRIMARY KEY, PTNT_NM VARCHAR(50) NOT NULL, RRN_ENC VARCHAR(100), RRN_MASK VARCHAR(14), "
               "BRTH_DT CHAR(8), SEX_CD CHAR(1), TEL_NO VARCHAR(20), ADDR VARCHAR(200), DEL_YN CHAR(1) NOT NULL, "
               f"{_AUDIT}",
    "TB_VST": "VST_NO INT PRIMARY KEY, PTNT_NO CHAR(8) NOT NULL, VST_DT CHAR(8) NOT NULL, VST_TM CHAR(6), "
              "VST_TP_CD VARCHAR(10), DEPT_CD VARCHAR(10), DR_ID VARCHAR(10), VST_STAT_CD VARCHAR(10), "
              f"CC_TXT VARCHAR(200), DEL_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_ADM": "ADM_NO INT PRIMARY KEY, PTNT_NO CHAR(8) NOT NULL, VST_NO INT, ADM_DT CHAR(8) NOT NULL, DSCH_DT CHAR(8), "
              f"WARD_CD VARCHAR(10), ROOM_NO VARCHAR(10), DEL_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_DIAG": "DIAG_NO INT PRIMARY KEY, VST_NO INT NOT NULL, KCD_CD VARCHAR(10) NOT NULL, DIAG_NM VARCHAR(200), "
               f"MAIN_YN CHAR(1), DEL_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_ORD": "ORD_NO INT NOT NULL, VST_NO INT NOT NULL, ORD_CD VARCHAR(20) NOT NULL, ORD_QTY NUMERIC(10, 2), "
              f"ORD_CNT INT, ORD_DAYS INT, ROUTE_CD VARCHAR(10), DEL_YN CHAR(1) NOT NULL, {_AUDIT}",
    "TB_RCPT": "RCPT_NO INT PRIMARY KEY, VST_NO INT NOT NULL, RCPT_DT CHAR(8) NOT NULL, TOT_AMT NUMERIC(12, 0), "
               f"PAY_AMT NUMERIC(12, 0), PAY_MTHD_CD VARCHAR(10), DEL_YN CHAR(1) NOT NULL, {_AUDIT}",
}
#: the stand-in cipher's key (the RRN encrypted at rest: base64 of the XOR, as a vendor's DLL would)
_KEY = b"commoncode-demo-key"


def rrn_of(i: int) -> str:
    """Patient ``i``'s RRN (13 digits): born in the 1950s-1990s, 7th digit 1 (male) or 2 (female)."""
    year = 50 + i % 45
    return f"{year:02d}{1 + i % 12:02d}{1 + i % 28:02d}{2 - i % 2}{100000 + i * 37:06d}"


def encrypted(rrn: str) -> str:
    return base64.b64encode(bytes(b ^ _KEY[n % len(_KEY)] for n, b in enumerate(rrn.encode()))).decode()


@dataclass
class CommonCodeClinic(ForeignDb):
    """The database as built: rows and cells per table, the patients and what was planted."""

    #: PTNT_NO → (name, birth date text, sex code)
    people: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: VST_NO → (PTNT_NO, VST_DT, VST_TM, VST_TP_CD, DEPT_CD, VST_STAT_CD, DEL_YN)
    visits: dict[int, tuple[str, str, str, str, str, str, str]] = field(default_factory=dict)
    #: ORD_NO → (VST_NO, ORD_CD) (the duplicated number: its first row)
    orders: dict[int, tuple[int, str]] = field(default_factory=dict)
    #: DIAG_NO → (VST_NO, KCD_CD, DIAG_NM); RCPT_NO → (VST_NO, TOT_AMT, PAY_AMT)
    diagnoses: dict[int, tuple[int, str, str | None]] = field(default_factory=dict)
    receipts: dict[int, tuple[int, Decimal, Decimal]] = field(default_factory=dict)
    dirty: dict[str, Any] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_commoncode_clinic(conn_str: str, engine: str, database: str = "emr_commoncode") -> CommonCodeClinic:
    """Build the clinic on the ``engine`` ("mariadb" or "postgresql") server of ``conn_str`` (a fresh database)."""
    import pyodbc

    target = _fresh_database(conn_str, database, engine)
    db = CommonCodeClinic(engine, odbc=target, patients="tb_ptnt")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    ts = "DATETIME" if engine == "mariadb" else "TIMESTAMP(0)"
    for name, columns in DDL.items():
        suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if engine == "mariadb" else ""
        c.execute(f"CREATE TABLE {name} ({columns.format(ts=ts)}){suffix}")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        c.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        db.table(table.lower(), len(rows[0]), len(rows))

    made = dt.datetime(2019, 3, 2, 8, 30, 15)

    def audit(n: int, visit: int | None = None) -> tuple[Any, ...]:  # REG_DT, REG_ID, UPD_DT, UPD_ID
        """The audit columns of row ``n``; of a visit's row: written on the visit's day (the day it was due)."""
        at = made + dt.timedelta(days=n, minutes=n * 7) if visit is None else dt.datetime.combine(
            dt.date(2023, 1, 2) + dt.timedelta(days=visit * 3), dt.time(9 + visit % 9, n % 60, 30))
        return (at, "ADMIN" if visit is None else "DR01", None if n % 3 else at + dt.timedelta(days=30),
                None if n % 3 else "NURSE01")

    put("TB_COMM_CD", [(grp, cd, name, "Y" if live else "N", n, *audit(n))
                       for n, ((grp, cd), (name, live)) in enumerate(COMMON.items(), 1)])
    put("TB_DRUG_MST", [(cd, name, edi, "정" if "정" in name else "바이알", "Y", *audit(n))
                        for n, (cd, (name, edi)) in enumerate(DRUGS.items(), 1)])
    put("TB_SUGA_MST", [(cd, name, edi, price, "Y", *audit(n)) for n, (cd, (name, edi, price)) in
                        enumerate(SUGA.items(), 1)])
    doctors = [("DR01", "김진료", "12345", "IM"), ("DR02", "이소아", "23456", "PD"), ("DR03", "박가정", "34567", "FM"),
               ("DR04", "최정형", "45678", "OS")]
    put("TB_DR", [(*d, "Y", *audit(n)) for n, d in enumerate(doctors, 1)])
    patients: list[tuple[Any, ...]] = []
    for i in range(1, PATIENTS + 1):
        no = f"{i:08d}"
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 5) % len(GIVEN)]
        rrn = rrn_of(i)
        birth = f"{19 if rrn[6] in '12' else 20}{rrn[:6]}"
        if i == 13:
            birth = "20230230"
            db.dirty["impossible_birth"] = no
        sex = "1" if rrn[6] in "13" else "2"
        deleted = "Y" if i == 27 else "N"
        patients.append((no, name, encrypted(rrn), f"{rrn[:6]}-{rrn[6]}******", birth, sex,
                         f"010-{1000 + i * 13:04d}-{2000 + i * 7:04d}" if i % 5 else None,
                         f"서울특별시 가상구 가상로 {i}길" if i % 4 else None, deleted, *audit(i)))
        db.people[no] = (name, birth, sex)
    db.dirty["deleted_patient"] = "00000027"
    put("TB_PTNT", patients)
    visits: list[tuple[Any, ...]] = []
    depts = ("IM", "PD", "FM", "OS")
    complaints = ("기침, 콧물 3일", "혈압약 처방 원함", "속쓰림", "허리 통증", None)
    for v in range(1, VISITS + 1):
        pid = f"{1 + (v * 7) % PATIENTS:08d}"
        day = dt.date(2023, 1, 2) + dt.timedelta(days=v * 3)
        kind = "I" if v % 16 == 0 else "E" if v % 23 == 0 else "O"
        dept = depts[v % 4]
        if v == 41:
            dept = "99"
            db.dirty["unknown_dept"] = v
        status = "90" if v % 31 == 0 else "20" if v == VISITS else "30" if v % 7 else "10"
        vst_dt = day.strftime("%Y%m%d")
        if v == 57:
            vst_dt = "00000000"
            db.dirty["zero_visit_date"] = v
        tm = f"{9 + v % 9:02d}{(v * 7) % 60:02d}{(v * 13) % 60:02d}"
        deleted = "Y" if v == 88 else "N"
        visits.append((v, pid, vst_dt, tm, kind, dept, f"DR0{1 + depts.index(dept) if dept in depts else 1}",
                       status, complaints[v % 5], deleted, *audit(v, v)))
        db.visits[v] = (pid, vst_dt, tm, kind, dept, status, deleted)
    db.dirty["deleted_visit"] = 88
    put("TB_VST", visits)
    inpatient = [v for v in db.visits if db.visits[v][3] == "I"]
    admissions: list[tuple[Any, ...]] = []
    for n, v in enumerate(inpatient, 1):
        pid, vst_dt = db.visits[v][:2]
        start = dt.date(int(vst_dt[:4]), int(vst_dt[4:6]), int(vst_dt[6:]))
        out = "00000000" if n == len(inpatient) else (start + dt.timedelta(days=2 + n)).strftime("%Y%m%d")
        admissions.append((n, pid, v, vst_dt, out, "5W" if n % 2 else "6W", f"{500 + n}", "N", *audit(n)))
    db.dirty["in_the_ward"] = len(inpatient)
    put("TB_ADM", admissions)
    codes = list(KCD)
    diagnoses: list[tuple[Any, ...]] = []
    for v in range(1, VISITS + 1):
        for k in range(1 + (v % 5 == 0)):
            code = codes[(v + k * 2) % len(codes)]
            diagnoses.append((len(diagnoses) + 1, v, code, KCD[code] if v % 9 else None, "Y" if k == 0 else "N",
                              "N", *audit(len(diagnoses), v)))
            db.diagnoses[len(diagnoses)] = diagnoses[-1][1:4]
    put("TB_DIAG", diagnoses)
    orders: list[tuple[Any, ...]] = []
    drugs, items = list(DRUGS), list(SUGA)
    for v in range(1, VISITS + 1):
        visit_item = items[0] if v % 6 == 1 else items[1]
        rows = [(visit_item, Decimal(1), 1, 1, None)]
        for k in range(v % 3):
            drug = drugs[(v + k) % len(drugs)]
            route = "IV" if drug == "D0005" else "PO"
            rows.append((drug, Decimal("1.5") if k else Decimal(1), 3, 3 + v % 5, route))
        if v % 10 == 3:
            rows.append((items[2], Decimal(1), 1, 1, None))
        for cd, qty, cnt, days, route in rows:
            no = len(orders) + 1
            orders.append((no, v, cd, qty, cnt, days, route, "N", *audit(no, v)))
            db.orders[no] = (v, cd)
    orphan = len(orders) + 1
    orders.append((orphan, 99999, "D0001", Decimal(1), 3, 3, "PO", "N", *audit(orphan, 100)))
    db.orders[orphan] = (99999, "D0001")
    db.dirty["orphan_order"] = orphan
    twice = orders[10]
    orders.append((twice[0], twice[1], "D0002", Decimal(2), 1, 5, "PO", "N", *audit(twice[0], twice[1])))  # no key
    db.dirty["duplicate_order"] = twice[0]
    put("TB_ORD", orders)
    receipts: list[tuple[Any, ...]] = []
    for v in range(1, VISITS + 1):
        if db.visits[v][5] == "90":
            continue
        total = Decimal(12590 + (v % 7) * 1000)
        receipts.append((len(receipts) + 1, v, db.visits[v][1] if v != 57 else "20230525", total,
                         (total * Decimal("0.3")).quantize(Decimal(1)), str(1 + v % 3), "N", *audit(v, v)))
        db.receipts[len(receipts)] = (v, total, receipts[-1][4])
    put("TB_RCPT", receipts)
    conn.close()
    return db
