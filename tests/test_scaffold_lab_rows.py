"""The scaffold's lab result rows under a lab result table (docs/connectors.md, "A lab report's results"), on SQLite:
the rows of a multi-row exam (``LAB_EXAM_ROW`` under ``LAB_EXAM`` by its key) become lab results of a lab report, the
exam, which lists them; a table referring to the exams by another name, or with a patient of its own, is left as it
was. The flow over a real server: tests/test_openhospital_clinic.py (``LABORATORYROW``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress


def _clinic(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE LAB_EXAM (LAB_ID INTEGER PRIMARY KEY, PT_NO INTEGER, EXAM_YMD TEXT, EXAM_CD TEXT, RSLT TEXT);
        CREATE TABLE LAB_EXAM_ROW (ROW_ID INTEGER PRIMARY KEY, LAB_ID INTEGER, ROW_TXT TEXT);
        CREATE TABLE LAB_EXAM_FLAG (FLAG_ID INTEGER PRIMARY KEY, PT_NO INTEGER, LAB_ID INTEGER, FLAG_TXT TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO LAB_EXAM VALUES (?, ?, ?, ?, ?)", [
        (i, 1 + i % 20, f"202403{1 + i % 28:02d}", "URI" if i % 3 == 0 else "GLU",
         "이상 소견" if i % 3 == 0 else str(90 + i)) for i in range(1, 31)])
    # the urine exams' rows (exams 3, 6, … 30: two rows each)
    conn.executemany("INSERT INTO LAB_EXAM_ROW VALUES (?, ?, ?)", [
        (n, 3 * (1 + (n - 1) // 2), ("단백 +", "당 -")[n % 2]) for n in range(1, 21)])
    # a flag table with its own patient column: no result rows of the exams
    conn.executemany("INSERT INTO LAB_EXAM_FLAG VALUES (?, ?, ?, 'H')", [(n, 1 + n % 20, n) for n in range(1, 11)])
    conn.commit()
    conn.close()


def test_an_exams_result_rows_are_the_lab_results_of_its_report(tmp_path: Path) -> None:
    # Before: LAB_EXAM_ROW was left undecided (carried): its results on no Observation, no exam a report.
    path = tmp_path / "labrows.sqlite"
    _clinic(path)
    spec = load_spec(write_scaffold("labrows", tmp_path / "out", SourceAddress(database=path)).folder)
    assert {n: (e.canonical, e.table, e.key) for n, e in spec.entities.items() if e.table.startswith("LAB")} == {
        "lab_result": ("lab_result", "LAB_EXAM", "LAB_ID"), "lab_report": ("lab_report", "LAB_EXAM", "LAB_ID"),
        "lab_result_lab_exam_row": ("lab_result", "LAB_EXAM_ROW", "ROW_ID")}
    report, rows = spec.entities["lab_report"], spec.entities["lab_result_lab_exam_row"]
    assert report.query == ("SELECT X.* FROM LAB_EXAM X WHERE EXISTS (SELECT 1 FROM LAB_EXAM_ROW R WHERE "
                            "R.LAB_ID = X.LAB_ID)")
    # (result_ids: the loader's, from the rows' report_id)
    assert {n: f.source_column for n, f in report.fields.items() if n != "result_ids"} == {
        "patient_id": "PT_NO", "effective": "EXAM_YMD", "code": "EXAM_CD"}
    assert "result_ids" in report.fields
    assert {n: (f.source_column, f.ref) for n, f in rows.fields.items()} == {
        "patient_id": ("SCAFFOLD_PATIENT_ID", "patient"), "observed": ("SCAFFOLD_OBSERVED", None),
        "code": ("SCAFFOLD_CODE", None), "value": ("ROW_TXT", None), "report_id": ("LAB_ID", "lab_report")}
    result = run_export(ExportRequest(connector="labrows", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))  # a dry run
    assert result.reconciliation.balanced
    counts = {e.entity: (e.source_rows, e.exported, e.quarantined) for e in result.reconciliation.entities}
    # ten urine exams with rows: ten reports; their twenty rows twenty results
    assert (counts["lab_result"], counts["lab_report"], counts["lab_result_lab_exam_row"]) == (
        (30, 30, 0), (10, 10, 0), (20, 20, 0))
