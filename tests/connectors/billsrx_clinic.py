"""A small Korean clinic's receipts kept header and lines (test data only; made-up names, no real data), on MariaDB.

``환자`` (patients, 환자번호 their key); ``수납`` (the receipt header, 진료비 계산서·영수증: 환자번호 only here, 수납일자,
진료비총액, 본인부담금, 수납액); ``수납상세`` (its lines, 세부산정내역: no patient, no day of their own, the receipt named
``rcpt_no``, not as the header's key 수납번호; ``created_at`` when the line was typed); ``수납결제`` (how each receipt
was paid, card and cash in parts: the receipt named ``bill_id``; 결제일시 its own day). The lines and payments reach
their patient only through the header.

Planted: a line of a receipt nobody has (rcpt_no 9999: no header, so no patient) and a header whose 환자번호 is a
patient nobody has (an orphan).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 30
RECEIPTS = 60
#: (수가코드, 명칭, 단가): the lines' fee codes (EDI-shaped)
FEES = [("AA154", "초진진찰료", Decimal(17610)), ("AA254", "재진진찰료", Decimal(12590)),
        ("B1010", "일반혈액검사", Decimal(3450)), ("HA010", "물리치료", Decimal(2560))]

DDL: dict[str, str] = {
    "환자": "환자번호 INT NOT NULL PRIMARY KEY, 성명 VARCHAR(30) NOT NULL, 성별 CHAR(1) NOT NULL, 생년월일 DATE",
    "수납": "수납번호 INT NOT NULL PRIMARY KEY, 환자번호 INT NOT NULL, 수납일자 DATE NOT NULL, 진료비총액 DECIMAL(12,0), "
          "본인부담금 DECIMAL(12,0), 수납액 DECIMAL(12,0), 비고 VARCHAR(100)",
    "수납상세": "상세번호 INT NOT NULL PRIMARY KEY, rcpt_no INT NOT NULL, 수가코드 VARCHAR(10), 명칭 VARCHAR(50), "
            "단가 DECIMAL(12,0), 수량 DECIMAL(6,2), 일수 INT, 금액 DECIMAL(12,0), created_at DATETIME NOT NULL",
    "수납결제": "결제번호 INT NOT NULL PRIMARY KEY, bill_id INT NOT NULL, 결제일시 DATETIME NOT NULL, 결제수단 VARCHAR(10), "
            "결제금액 DECIMAL(12,0) NOT NULL",
}


@dataclass
class BillsClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    dirty: dict[str, int] = field(default_factory=dict)
    #: 환자번호 → 성명
    people: dict[int, str] = field(default_factory=dict)
    #: 수납번호 → (환자번호, 수납일자, 진료비총액)
    receipts: dict[int, tuple[int, dt.date, Decimal]] = field(default_factory=dict)
    #: 상세번호 → (rcpt_no, 명칭, 금액)
    lines: dict[int, tuple[int, str, Decimal]] = field(default_factory=dict)
    #: 결제번호 → (bill_id, 결제일시, 결제수단, 결제금액)
    payments: dict[int, tuple[int, dt.datetime, str, Decimal]] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_bills_clinic(conn_str: str, database: str = "emr_billsrx") -> BillsClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = BillsClinic("mariadb", odbc=target, patients="환자")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    for name, columns in DDL.items():
        c.execute(f"CREATE TABLE {name} ({columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in rows[0])
        c.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        db.table(table.lower(), len(rows[0]), len(rows))

    people = []
    for p in range(1, PATIENTS + 1):
        name = f"{SURNAMES[p % 10]}{GIVEN[(p * 7) % 10]}"
        db.people[p] = name
        people.append((p, name, "MF"[p % 2], dt.date(1950 + p, 1 + p % 12, 1 + p % 28)))
    put("환자", people)
    base = dt.date(2024, 3, 4)
    headers, lines, payments = [], [], []
    for r in range(1, RECEIPTS + 1):
        pid = 1 + (r * 7) % PATIENTS
        day = base + dt.timedelta(days=r)
        fees = [FEES[r % 2], FEES[2 + r % 2]]
        total = sum((price for _, _, price in fees), Decimal(0))
        own = (total * Decimal("0.3")).quantize(Decimal(1))
        headers.append((r, pid, day, total, own, own, "야간 가산" if r % 10 == 0 else None))
        db.receipts[r] = (pid, day, total)
        typed = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(18, r % 60))  # typed in the next evening
        for code, name, price in fees:
            n = len(lines) + 1
            lines.append((n, r, code, name, price, Decimal(1), 1, price, typed))
            db.lines[n] = (r, name, price)
        paid_at = dt.datetime.combine(day, dt.time(10 + r % 7, (3 * r) % 60))
        parts = [("카드", own)] if r % 3 else [("카드", own - 1000), ("현금", Decimal(1000))]
        for method, amount in parts:
            n = len(payments) + 1
            payments.append((n, r, paid_at, method, amount))
            db.payments[n] = (r, paid_at, method, amount)
    # a receipt of a patient nobody has
    headers.append((RECEIPTS + 1, 999, base, Decimal(12590), Decimal(3780), Decimal(3780), None))
    db.dirty["orphan_receipt"] = RECEIPTS + 1
    # a line of a receipt nobody has: no header, so no patient
    lines.append((len(lines) + 1, 9999, "AA254", "재진진찰료", Decimal(12590), Decimal(1), 1, Decimal(12590),
                  dt.datetime(2024, 3, 4, 18, 0)))
    db.dirty["headless_line"] = len(lines)
    put("수납", headers)
    put("수납상세", lines)
    put("수납결제", payments)
    conn.close()
    return db
