"""The scaffold's ingredient rows of a prescription header (docs/connectors.md, "A prescription kept as a header and
its ingredient rows"), on SQLite: a 한약 처방 ``RX`` whose columns name no medicine, and its herbs ``RX_DTL`` (the
prescription's key, a sequence, the herb's name, its grams): each herb an order line, a drug grouped by the
prescription's key, the prescription's patient and day joined in; a table under ``RX`` with a patient of its own, or
two amounts, is left as it was. The flows over real servers: tests/test_herbal_clinic.py (the header named, MariaDB)
and tests/test_dental_hanbang_clinics.py (``한약처방_약재``, PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress


def _clinic(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE RX (RX_NO INTEGER PRIMARY KEY, PT_NO INTEGER, RX_YMD TEXT, CHUP INTEGER);
        CREATE TABLE RX_DTL (RX_NO INTEGER NOT NULL, SEQ INTEGER NOT NULL, YAKJAE TEXT, AMT_G DECIMAL(6, 2),
                             PRIMARY KEY (RX_NO, SEQ));
        CREATE TABLE RX_A_FLAG (FLAG_ID INTEGER PRIMARY KEY, RX_NO INTEGER, PT_NO INTEGER, FLAG_NM TEXT,
                                QTY DECIMAL(6, 2));
        CREATE TABLE RX_B_COST (COST_ID INTEGER PRIMARY KEY, RX_NO INTEGER, COST_NM TEXT, COST1 DECIMAL(9, 2),
                                COST2 DECIMAL(9, 2));
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO RX VALUES (?, ?, ?, 20)", [(i, 1 + i % 20, f"202403{1 + i % 28:02d}")
                                                             for i in range(1, 13)])
    herbs = [("황기", "6.00"), ("인삼", "4.00"), ("당귀", "2.00"), ("감초", "1.20")]
    conn.executemany("INSERT INTO RX_DTL VALUES (?, ?, ?, ?)", [
        (i, s, herb, grams) for i in range(1, 13) for s, (herb, grams) in enumerate(herbs, 1)])
    conn.executemany("INSERT INTO RX_A_FLAG VALUES (?, ?, ?, '급여', 1.5)", [(n, n, 1 + n % 20) for n in range(1, 7)])
    conn.executemany("INSERT INTO RX_B_COST VALUES (?, ?, '탕전료', 12000.5, 3000.25)", [(n, n) for n in range(1, 7)])
    conn.commit()
    conn.close()


def test_a_prescriptions_ingredient_rows_are_its_order_lines(tmp_path: Path) -> None:
    # Before: the order line section on RX was commented out (no column names a medicine) and RX_DTL left
    # undecided: the herbs on no resource.
    path = tmp_path / "rx.sqlite"
    _clinic(path)
    spec = load_spec(write_scaffold("rx", tmp_path / "out", SourceAddress(database=path)).folder)
    assert {n: (e.canonical, e.table) for n, e in spec.entities.items() if e.table.startswith("RX")} == {
        "order_line": ("order_line", "RX_DTL")}
    rows = spec.entities["order_line"]
    assert rows.query == ("SELECT R.*, H.PT_NO AS SCAFFOLD_RX_PATIENT_ID, H.RX_YMD AS SCAFFOLD_RX_ORDERED FROM RX_DTL "
                          "R LEFT JOIN (SELECT X.* FROM RX X) H ON H.RX_NO = R.RX_NO")
    assert {n: (f.source_column, f.ref, f.value) for n, f in rows.fields.items()} == {
        "patient_id": ("SCAFFOLD_RX_PATIENT_ID", "patient", None), "ordered": ("SCAFFOLD_RX_ORDERED", None, None),
        "name": ("YAKJAE", None, None), "dose": ("AMT_G", None, None), "dose_unit": (None, None, "g"),
        "code_type": (None, None, "drug"), "group_id": ("RX_NO", None, None),
        "group_table": (None, None, "RX")}  # the group's system names the prescription's table, not RX_DTL
    result = run_export(ExportRequest(connector="rx", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상한의원"))  # a dry run
    assert result.reconciliation.balanced
    counts = {e.entity: (e.source_rows, e.exported, e.quarantined) for e in result.reconciliation.entities}
    assert counts["order_line"] == (48, 48, 0)


def test_an_ingredient_row_takes_no_frequency_from_its_prescription(tmp_path: Path) -> None:
    # An ingredient's amount is per 첩 (a packet of the formula), the prescription's 복용 횟수 the packs of its
    # decoction a day: the two together would say 6 g of 황기 taken twice a day (was: the frequency joined in, each
    # herb's MedicationRequest timing 2/d beside its grams). The frequency stays the prescription's raw cell.
    path = tmp_path / "rx.sqlite"
    _clinic(path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE RX ADD COLUMN TIMES INTEGER")
    conn.execute("UPDATE RX SET TIMES = 2")
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("rx", tmp_path / "out", SourceAddress(database=path)).folder)
    rows = spec.entities["order_line"]
    assert rows.table == "RX_DTL" and "frequency" not in rows.fields
    assert rows.query == ("SELECT R.*, H.PT_NO AS SCAFFOLD_RX_PATIENT_ID, H.RX_YMD AS SCAFFOLD_RX_ORDERED FROM RX_DTL "
                          "R LEFT JOIN (SELECT X.* FROM RX X) H ON H.RX_NO = R.RX_NO")
    result = run_export(ExportRequest(connector="rx", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상한의원"))  # a dry run: RX (its TIMES) carried whole
    assert result.reconciliation.balanced
    counts = {e.entity: (e.source_rows, e.exported, e.quarantined) for e in result.reconciliation.entities}
    assert counts["order_line"] == (48, 48, 0)


@pytest.mark.parametrize(("table", "columns"), [
    ("RX_B_COST", "COST_NM TEXT, AMT DECIMAL(9, 2)"),  # the table's name says money: 탕전료 and its won
    ("RX_B_ITEM", "ITEM_NM TEXT, PRICE DECIMAL(9, 2)"),  # the amount's name says money
    ("RX_B_ITEM", "ITEM_NM TEXT, 금액 DECIMAL(9, 2)"),
    ("RX_B_ITEM", "ITEM_NM TEXT, TOT_G DECIMAL(9, 2)"),  # a total of the prescription, not an amount per 첩
])
def test_a_prescriptions_rows_of_money_or_totals_are_no_ingredients(tmp_path: Path, table: str, columns: str) -> None:
    # Was: the first such table by name (before RX_DTL) taken as the ingredient rows: 탕전료 a medicine, its
    # 12000.50 won its dose (TOT_G: a dose in g that is the whole prescription's), the herbs in RX_DTL carried.
    path = tmp_path / "rx.sqlite"
    _clinic(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE RX_B_COST")
    conn.execute(f"CREATE TABLE {table} (ROW_ID INTEGER PRIMARY KEY, RX_NO INTEGER, {columns})")
    conn.executemany(f"INSERT INTO {table} VALUES (?, ?, '탕전료', 12000.5)", [(n, n) for n in range(1, 7)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("rx", tmp_path / "out", SourceAddress(database=path)).folder)
    assert {n: (e.table, e.fields["name"].column, e.fields["dose"].column) for n, e in spec.entities.items()
            if e.table.startswith("RX")} == {"order_line": ("RX_DTL", "YAKJAE", "AMT_G")}
