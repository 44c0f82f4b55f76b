"""A small Korean clinic's receipts kept as a header and its lines (tests/connectors/billsrx_clinic.py) on MariaDB,
through the contractor's whole flow over MariaDB Connector/ODBC with the scaffold's connector untouched:
``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open`` → ``scan``; then every row
of every table is rebuilt from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py).
환자번호 is only on the header ``수납``: the lines (``수납상세``) and the payments (``수납결제``) name their receipt
otherwise than its key (``rcpt_no``, ``bill_id`` for 수납번호) and reach their patient through it (was: carried,
the header's key not found in them by its name). ``db``: fails, never skips, when the server is down.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from billsrx_clinic import DDL as BILLS_TABLES
from billsrx_clinic import create_bills_clinic

from test_legacy_opensource_clinics import PAGES, _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

READ = {"환자": ("patient",), "수납": ("receipt",), "수납상세": ("fee_line",), "수납결제": ("payment",)}
#: the cells the sections' queries join in from 수납: each line's patient and day (121 × 2), each payment's
#: patient (80; 결제일시 its own day)
JOINED = 121 * 2 + 80


@pytest.mark.parametrize("page_size", PAGES)
def test_lines_and_payments_reach_their_patient_through_the_receipt(tmp_path: Path, mariadb_conn_str: str,
                                                                   page_size: int | None) -> None:
    clinic = create_bills_clinic(mariadb_conn_str)
    clinic.page_size = page_size
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells  # no table skipped
    bag = _bag(tmp_path)
    assert _fates(bag) == {t: READ[t] for t in BILLS_TABLES}
    # the receipt of patient 999 (nobody) quarantined as an orphan; the line of receipt 9999 (nobody), no patient
    # joined in, as missing its patient
    assert _entities(bag) == {("patient", "환자", 30, 30, 0), ("receipt", "수납", 61, 60, 1),
                              ("fee_line", "수납상세", 121, 120, 1), ("payment", "수납결제", 80, 80, 0)}
    quarantined = {(p.name.split(".")[0], json.loads(line)["key"], json.loads(line)["reason_code"])
                   for p in sorted(bag.glob("data/raw/*.ndjson")) for line in p.read_bytes().splitlines()}
    assert quarantined == {("receipt", str(clinic.dirty["orphan_receipt"]), "orphan"),
                           ("fee_line", str(clinic.dirty["headless_line"]), "required-missing")}
    patients = _resources(bag, "Patient")
    assert {k: p["name"] for k, p in patients.items()} == {str(k): [{"text": n}] for k, n in clinic.people.items()}
    invoices = _resources(bag, "Invoice")
    assert {k: (i["subject"]["reference"], i["date"], i["totalGross"]["value"]) for k, i in invoices.items()} == {
        str(r): (f"Patient/{patients[str(pid)]['id']}", day.isoformat(), float(total))
        for r, (pid, day, total) in clinic.receipts.items()}
    # a line's patient and day are its receipt's (joined in by rcpt_no), not created_at (when it was typed, the
    # next evening); it points at its Invoice
    items = _resources(bag, "ChargeItem")
    assert {k: (i["code"]["text"], i["subject"]["reference"], i["occurrenceDateTime"],
                i["extension"][0]["valueReference"]["reference"]) for k, i in items.items()} == {
        str(n): (name, invoices[str(r)]["subject"]["reference"], invoices[str(r)]["date"],
                 f"Invoice/{invoices[str(r)]['id']}")
        for n, (r, name, _) in clinic.lines.items() if n != clinic.dirty["headless_line"]}
    # a payment's patient is its receipt's (by bill_id), its day its own 결제일시, its Invoice the receipt it pays
    paid = _resources(bag, "PaymentReconciliation")
    assert {k: (p["extension"][0]["valueReference"]["reference"], p["created"][:16], p["paymentAmount"]["value"],
                p["detail"][0]["request"]["reference"]) for k, p in paid.items()} == {
        str(n): (invoices[str(r)]["subject"]["reference"], at.isoformat()[:16], float(amount),
                 f"Invoice/{invoices[str(r)]['id']}") for n, (r, at, _, amount) in clinic.payments.items()}
    scan = _scanned(clinic, tmp_path)
    assert (scan["cells"]["source"], [(e["entity"], e["will_export"], e["will_quarantine"])
                                      for e in scan["entities"]]) == (
        clinic.cells + JOINED, [("patient", 30, 0), ("receipt", 60, 1), ("fee_line", 120, 1), ("payment", 80, 0)])
