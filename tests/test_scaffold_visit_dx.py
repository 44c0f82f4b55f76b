"""The scaffold's diagnosis sections over a visit table's diagnosis-code columns (docs/connectors.md, "Diagnoses kept
as columns of the visit row"), on SQLite: which columns are taken (name AND values), their rank and names, and the
columns named like a diagnosis that hold none. The flows over real servers: tests/test_visit_diagnosis_columns.py,
tests/test_openhospital_clinic.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress

KCD = ["J00", "I10", "K29.7", "E11.9", "M54.5"]


def _clinic(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, MAIN_DX_CD TEXT,
                            MAIN_DX_NM TEXT, SUB_DX_CD1 TEXT, SUB_DX_CD2 TEXT, DIAG_MEMO TEXT, DX_CNT INTEGER,
                            DIAG_GB TEXT, DIS_RATE TEXT, DX_YMD TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    # SUB_DX_CD2: free text, never a code (no section); DIAG_MEMO: a note; DX_CNT a count; DIAG_GB a kind
    # (first visit / return); DIS_RATE a discount rate; DX_YMD a date: none of them a diagnosis code
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (i, 1 + i % 20, f"202403{1 + i % 28:02d}", KCD[i % 5] if i != 7 else "", f"상병{i % 5}" if i % 4 else None,
         KCD[(i + 2) % 5] if i % 3 == 0 else None, "감기 기운" if i % 2 else None, "재진 시 확인", 1 + i % 2,
         "F" if i % 2 else "R", "10%", f"202403{1 + i % 28:02d}") for i in range(1, 41)])
    conn.commit()
    conn.close()


def test_a_visit_rows_diagnosis_code_columns_get_sections_of_their_own(tmp_path: Path) -> None:
    # Before: MAIN_DX_CD and SUB_DX_CD1 were carried raw in the encounter's section: no Condition of any visit.
    path = tmp_path / "visitdx.sqlite"
    _clinic(path)
    outcome = write_scaffold("visitdx", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    sections = {name: e for name, e in spec.entities.items() if e.canonical == "diagnosis"}
    assert {n: (e.table, e.key) for n, e in sections.items()} == {
        "diagnosis_main_dx_cd": ("VISIT", "VISIT_NO"), "diagnosis_sub_dx_cd1": ("VISIT", "VISIT_NO")}
    main, sub = sections["diagnosis_main_dx_cd"], sections["diagnosis_sub_dx_cd1"]
    assert {n: (f.source_column, f.value) for n, f in main.fields.items()} == {
        "patient_id": ("PT_NO", None), "encounter_id": ("VISIT_NO", None), "recorded": ("VISIT_YMD", None),
        "code": ("MAIN_DX_CD", None), "text": ("MAIN_DX_NM", None), "primary": (None, True)}
    assert (sub.fields["code"].source_column, "text" in sub.fields, "primary" in sub.fields) == (
        "SUB_DX_CD1", False, False)
    # a visit whose main code is blank but whose name is written is read too: a Condition of its text (was: none,
    # the name carried raw with the visit)
    assert main.query == ("SELECT X.VISIT_NO, X.PT_NO, X.VISIT_YMD, X.MAIN_DX_CD, X.MAIN_DX_NM FROM VISIT X "
                          "WHERE (X.MAIN_DX_CD IS NOT NULL AND TRIM(X.MAIN_DX_CD) <> '') "
                          "OR (X.MAIN_DX_NM IS NOT NULL AND TRIM(X.MAIN_DX_NM) <> '')")
    result = run_export(ExportRequest(connector="visitdx", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    assert result.reconciliation.balanced
    rows = {e.entity: (e.source_rows, e.exported, e.quarantined) for e in result.reconciliation.entities}
    # visit 7's blank main code beside its name (상병2) makes a Condition of that text; SUB_DX_CD1 is set in every
    # third visit
    assert (rows["diagnosis_main_dx_cd"], rows["diagnosis_sub_dx_cd1"]) == ((40, 40, 0), (13, 13, 0))


def test_an_integer_id_of_a_diagnosis_dictionary_gets_a_section_and_its_cells_are_counted_once(tmp_path: Path) -> None:
    # Before: an integer column was never taken (OPD_DIS_ID INT into DISEASE.DIS_ID: carried raw with the visit);
    # now as the id of a dictionary of diagnoses only (VISIT_CNT, a count, stays the visit's)
    path = tmp_path / "intdx.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE DISEASE (DIS_ID INTEGER PRIMARY KEY, DIS_DESC TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, DIS_ID INTEGER,
                            VISIT_CNT INTEGER);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO DISEASE VALUES (?, ?)", [(d, f"질병{d}") for d in range(101, 106)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?)", [
        (v, 1 + v % 10, f"202403{1 + v % 28:02d}", None if v % 4 == 0 else 101 + v % 5, 1 + v % 3)
        for v in range(1, 31)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("intdx", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    [(name, section)] = [(n, e) for n, e in spec.entities.items() if e.canonical == "diagnosis"]
    assert (name, section.fields["code"].source_column, section.fields["text"].source_column) == (
        "diagnosis_dis_id", "DIS_ID", "SCAFFOLD_TEXT")
    assert section.query is not None and section.query.endswith("FROM VISIT X WHERE X.DIS_ID IS NOT NULL")
    result = run_export(ExportRequest(connector="intdx", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    assert result.reconciliation.balanced
    cells = {e.entity: (e.source_rows, e.exported, e.source_cells) for e in result.reconciliation.entities}
    # 23 visits with an id: their DIS_ID is the diagnosis section's (its 4 columns and the joined name), the visit's
    # section counts the other 4 of their 5 cells (and all 5 of the 7 without one)
    assert (cells["encounter"], cells["diagnosis_dis_id"]) == ((30, 30, 30 * 5 - 23), (23, 23, 23 * 5))
    [visits] = [t for t in result.reconciliation.inventory if t["name"] == "visit"]
    assert [(a["section"], a["by"], a["columns"]) for a in visits["read_again"]] == [
        ("diagnosis_dis_id", "encounter", ["dis_id"])]


def test_a_series_of_ten_diagnosis_slots_gets_a_section_per_slot(tmp_path: Path) -> None:
    # DX1_CD … DX10_CD, the first three written in the sample: each slot is one of the visit's diagnoses (was: the
    # empty slots joined the series, ten columns passed the nine a visit row may hold, and no slot got a section)
    path = tmp_path / "tenslots.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);"
                       "CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, "
                       + ", ".join(f"DX{n}_CD TEXT" for n in range(1, 11)) + ");")
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany(f"INSERT INTO VISIT VALUES ({', '.join('?' * 13)})", [
        (i, 1 + i % 20, f"202403{1 + i % 28:02d}", KCD[i % 5], KCD[(i + 1) % 5] if i % 2 else None,
         KCD[(i + 2) % 5] if i % 3 == 0 else "", *([None] * 7)) for i in range(1, 41)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("tenslots", tmp_path / "out", SourceAddress(database=path)).folder)
    assert sorted((e.fields["code"].source_column, "primary" in e.fields) for e in spec.entities.values()
                  if e.canonical == "diagnosis") == sorted([("DX1_CD", True)] + [(f"DX{n}_CD", False)
                                                                                  for n in range(2, 11)])
