"""A synthetic clinic's billing tables kept the way Korean clinic EMRs keep them (test data only; unlike the demo).

``환자`` (patients), ``내원`` (visits, with 보험구분 건강보험 / 의료급여 1종·2종 / 산재 / 자보 / 일반), ``수납`` (receipt
header: the receipt number reused every year, so its key is (수납년도, 수납번호); 급여 본인부담, 공단부담, 비급여,
전액본인부담, 선택진료, 진료비총액 kept three ways: DECIMAL(12,0), BIGINT 원 and text '12,300원'; 절사액: the amount
paid rounded down to 10원, so it differs from the sum of the lines; a cancellation as a cancel flag pointing at the
original receipt, a refund as negative amounts), ``수납상세`` (receipt lines: EDI 수가코드 'AA154', 약가 codes,
quantities '0.5' and '1/2', 일수, 가산율 '20%'), ``수납결제`` (a receipt paid in parts: card + cash + 계좌이체 with a
현금영수증 number; refunds negative; a 현금영수증 issued to a phone number and one to an RRN).

Planted: a receipt whose visit was deleted (orphan), an amount that is not a number ('12,3OO원'), an impossible
receipt date; payments naming a receipt that does not exist and naming none, and a payment amount that is not a
number ('1,OOO원').
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

PATIENTS = 40
VISITS = 240
YEARS = (2022, 2023)
#: receipts per year, numbered 1..RECEIPTS_PER_YEAR in each year (the same numbers reused every year)
RECEIPTS_PER_YEAR = 110
PAYERS = ("건강보험", "의료급여1종", "의료급여2종", "산재", "자보", "일반")
#: (year, no) of the receipt whose visit was deleted (내원번호 names no visit)
ORPHAN = (2023, 7)
#: (year, no) of the receipt whose 비급여 text is not a number
BAD_AMOUNT = (2022, 9)
#: (year, no) of the receipt dated on a day that does not exist
BAD_DATE = (2023, 11)
#: (year, no) of the cancelled receipt and of the receipt that cancels it (negative amounts, pointing back)
CANCELLED, CANCELLING = (2022, 20), (2022, 21)
#: (year, no) of receipts paid in parts whose 현금영수증 was issued to a phone number / an RRN (신분확인번호)
PHONE_CASH_RECEIPT, RRN_CASH_RECEIPT = (2022, 24), (2022, 36)
PHONE, RRN = "010-1234-5678", "800101-1234567"
#: 결제번호 of the planted payments, after the ordinary ones: a receipt that does not exist, no receipt at all, an
#: amount with letters O (on receipt BAD_PAYMENT_RECEIPT, whose other payments are ordinary)
PAY_ORPHAN, PAY_NO_RECEIPT, PAY_BAD_AMOUNT = 9001, 9002, 9003
BAD_PAYMENT_RECEIPT = (2022, 2)


def won(amount: int) -> str:
    """'12,300원'."""
    return f"{amount:,}원"


@dataclass
class BillingClinic(ForeignDb):
    """The database as built, and what the receipts hold."""

    #: (year, no) → the receipt's row as inserted (column → value)
    receipts: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    #: (year, no) → its lines' rows as inserted
    lines: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)
    #: 결제번호 → the payment's row as inserted (column → value)
    payments: dict[int, dict[str, Any]] = field(default_factory=dict)


def _quantity(n: int) -> str:
    return ("1", "0.5", "1/2", "3", "1.25")[n % 5]


def _build(db: BillingClinic, execute: Any, executemany: Any, decimal_type: str, text_type: str) -> None:
    execute(f"CREATE TABLE 환자 (환자번호 INTEGER PRIMARY KEY, 성명 {text_type}, 성별 {text_type}, "
            f"생년월일 {text_type})")
    executemany("INSERT INTO 환자 VALUES (?, ?, ?, ?)",
                [(i, f"환자{i}", "MF"[i % 2], f"{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}")
                 for i in range(1, PATIENTS + 1)])
    db.table("환자", 4, PATIENTS)
    execute(f"CREATE TABLE 내원 (내원번호 INTEGER PRIMARY KEY, 환자번호 INTEGER, 내원일자 {text_type}, "
            f"진료과 {text_type}, 보험구분 {text_type})")
    visits = []
    for n in range(1, VISITS + 1):
        year = YEARS[n % 2]
        visits.append((n, 1 + n % PATIENTS, f"{year}{1 + n % 12:02d}{1 + n % 28:02d}", "내과", PAYERS[n % 6]))
    executemany("INSERT INTO 내원 VALUES (?, ?, ?, ?, ?)", visits)
    db.table("내원", 5, VISITS)

    execute(f"CREATE TABLE 수납 (수납년도 INTEGER NOT NULL, 수납번호 INTEGER NOT NULL, 내원번호 INTEGER, "
            f"환자번호 INTEGER, 수납일자 {text_type}, 보험구분 {text_type}, 급여본인부담 {decimal_type}, "
            f"공단부담 BIGINT, 비급여 {text_type}, 전액본인부담 {decimal_type}, 선택진료 {decimal_type}, "
            f"진료비총액 {decimal_type}, 절사액 {decimal_type}, 수납액 {decimal_type}, 취소여부 {text_type}, "
            f"원수납년도 INTEGER, 원수납번호 INTEGER, 현금영수증번호 {text_type}, PRIMARY KEY (수납년도, 수납번호))")
    execute(f"CREATE TABLE 수납상세 (상세번호 INTEGER PRIMARY KEY, 수납년도 INTEGER, 수납번호 INTEGER, "
            f"수가코드 {text_type}, 약가코드 {text_type}, 명칭 {text_type}, 단가 {decimal_type}, 수량 {text_type}, "
            f"일수 INTEGER, 가산율 {text_type}, 금액 {decimal_type}, 본인부담 {decimal_type}, 공단부담 BIGINT, "
            f"급여구분 {text_type})")
    execute(f"CREATE TABLE 수납결제 (결제번호 INTEGER PRIMARY KEY, 수납년도 INTEGER, 수납번호 INTEGER, "
            f"결제수단 {text_type}, 결제금액 {text_type}, 승인번호 {text_type}, 현금영수증번호 {text_type})")
    receipts, lines, payments = [], [], []
    line_no = pay_no = 0
    for year in YEARS:
        for no in range(1, RECEIPTS_PER_YEAR + 1):
            visit = (year - YEARS[0]) * RECEIPTS_PER_YEAR + no
            visit_no = 9999 if (year, no) == ORPHAN else visit
            patient = 1 + visit % PATIENTS
            sign = -1 if (year, no) == CANCELLING else 1
            edi = ("AA154", "AA254", "B1010", "HA010", "J1201")
            rows = []
            for k in range(1 + no % 3):
                line_no += 1
                price = 1000 * (1 + (no + k) % 7) + 35
                amount = sign * (price * (1 + k))
                own = sign * (abs(amount) * 3 // 10)
                row = {"상세번호": line_no, "수납년도": year, "수납번호": no, "수가코드": edi[(no + k) % 5],
                       "약가코드": f"6{no:03d}{k:05d}" if k == 2 else None, "명칭": f"항목{k}",
                       "단가": Decimal(price), "수량": _quantity(no + k), "일수": 1 + k, "가산율": f"{10 * k}%",
                       "금액": Decimal(amount), "본인부담": Decimal(own), "공단부담": amount - own,
                       "급여구분": "급여" if k < 2 else "비급여"}
                rows.append(row)
                lines.append(tuple(row.values()))
            db.lines[(year, no)] = rows
            covered_own = sum(int(r["본인부담"]) for r in rows if r["급여구분"] == "급여")
            covered_ins = sum(int(r["공단부담"]) for r in rows if r["급여구분"] == "급여")
            non_covered = sum(int(r["금액"]) for r in rows if r["급여구분"] == "비급여")
            total = sum(int(r["금액"]) for r in rows)
            own_total = covered_own + non_covered
            paid = own_total - own_total % 10 if sign > 0 else -((-own_total) - (-own_total) % 10)  # 10원 절사
            day = f"{year}{1 + no % 12:02d}{1 + no % 28:02d}" if (year, no) != BAD_DATE else f"{year}0230"
            receipt = {"수납년도": year, "수납번호": no, "내원번호": visit_no, "환자번호": patient, "수납일자": day,
                       "보험구분": PAYERS[visit % 6], "급여본인부담": Decimal(covered_own), "공단부담": covered_ins,
                       "비급여": won(non_covered) if (year, no) != BAD_AMOUNT else "12,3OO원",
                       "전액본인부담": Decimal(0), "선택진료": Decimal(sign * 5000 if no % 10 == 0 else 0),
                       "진료비총액": Decimal(total), "절사액": Decimal(own_total - paid), "수납액": Decimal(paid),
                       "취소여부": "Y" if (year, no) == CANCELLED else "N",
                       "원수납년도": CANCELLED[0] if (year, no) == CANCELLING else None,
                       "원수납번호": CANCELLED[1] if (year, no) == CANCELLING else None,
                       "현금영수증번호": f"{no:04d}-{year}" if no % 4 == 0 else None}
            db.receipts[(year, no)] = receipt
            receipts.append(tuple(receipt.values()))
            parts = [("카드", paid)] if no % 3 else [("카드", paid // 2), ("현금", paid // 4),
                                                      ("계좌이체", paid - paid // 2 - paid // 4)]
            cash_receipt = {PHONE_CASH_RECEIPT: PHONE, RRN_CASH_RECEIPT: RRN}.get((year, no), receipt["현금영수증번호"])
            for method, amount in parts:
                pay_no += 1
                payments.append((pay_no, year, no, method, won(amount), f"A{pay_no:07d}" if method == "카드" else None,
                                 cash_receipt if method != "카드" else None))
    payments += [(PAY_ORPHAN, 2023, 999, "카드", won(1000), "A9999999", None),
                 (PAY_NO_RECEIPT, None, None, "현금", won(2000), None, None),
                 (PAY_BAD_AMOUNT, *BAD_PAYMENT_RECEIPT, "현금", "1,OOO원", None, None)]
    names = ("결제번호", "수납년도", "수납번호", "결제수단", "결제금액", "승인번호", "현금영수증번호")
    db.payments = {row[0]: dict(zip(names, row, strict=True)) for row in payments}
    executemany(f"INSERT INTO 수납 VALUES ({', '.join('?' * 18)})", receipts)
    executemany(f"INSERT INTO 수납상세 VALUES ({', '.join('?' * 14)})", lines)
    executemany("INSERT INTO 수납결제 VALUES (?, ?, ?, ?, ?, ?, ?)", payments)
    db.table("수납", 18, len(receipts))
    db.table("수납상세", 14, len(lines))
    db.table("수납결제", 7, len(payments))


def create_sqlite_billing_clinic(path: Path) -> BillingClinic:
    db = BillingClinic("sqlite", path=path, patients="환자")
    conn = sqlite3.connect(path)
    sqlite3.register_adapter(Decimal, lambda d: int(d))
    _build(db, conn.execute, conn.executemany, "DECIMAL(12,0)", "TEXT")
    conn.commit()
    conn.close()
    return db


def create_mariadb_billing_clinic(conn_str: str, database: str = "emr_billing") -> BillingClinic:
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = BillingClinic("mariadb", odbc=target, patients="환자")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    _build(db, c.execute, c.executemany, "DECIMAL(12,0)", "VARCHAR(40)")
    conn.close()
    return db
