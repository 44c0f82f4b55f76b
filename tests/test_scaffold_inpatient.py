"""The scaffold's in-patient stays (docs/connectors.md, "In-patient stays"), on SQLite: a table named for admissions
beside the visit table gets an encounter section of its own, class inpatient, its period from the admission and
discharge days; which tables are never taken so; and the visit table itself named for admissions. The flows over
a real server: tests/test_inpatient_clinic.py, tests/test_openhospital_clinic.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress


def _stays(i: int) -> tuple[int, int, str, str | None, str, str, str | None]:
    """Stay ``i``: its key, patient, admission and discharge days (none while in the ward), ward, diagnoses in and
    out (none out while in the ward)."""
    out = None if i % 5 == 0 else f"2024-03-{3 + i % 20:02d}"
    return i, 1 + i % 20, f"2024-03-{1 + i % 20:02d} 14:00:00", out, "5W", "J18.9", "J18.9" if out else None


def _hospital(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT);
        CREATE TABLE IPD_STAY (STAY_NO INTEGER PRIMARY KEY, PT_NO INTEGER, ADMISSION_DATE TEXT, DISCHARGE_DATE TEXT,
                               WARD TEXT, ADM_DX_CD TEXT, DSCH_DX_CD TEXT);
        CREATE TABLE IPD_STAY_HIST (HIST_NO INTEGER PRIMARY KEY, STAY_NO INTEGER, PT_NO INTEGER, ADMISSION_DATE TEXT,
                                    CHG_DTTM TEXT, CHG_TYPE TEXT);
        CREATE TABLE ADM_DIAG (ADM_DIAG_NO INTEGER PRIMARY KEY, PT_NO INTEGER, DIAG_CD TEXT, DIAG_YMD TEXT);
        CREATE TABLE ADMISSION (ADM_NO INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, ADM_DT TEXT, DSCH_DT TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?)", [(i, 1 + i % 20, f"202403{1 + i % 28:02d}")
                                                           for i in range(1, 41)])
    conn.executemany("INSERT INTO IPD_STAY VALUES (?, ?, ?, ?, ?, ?, ?)", [_stays(i) for i in range(1, 16)])
    conn.executemany("INSERT INTO IPD_STAY_HIST VALUES (?, ?, ?, ?, ?, ?)", [
        (i, i, 1 + i % 20, f"2024-03-{1 + i % 20:02d}", f"2024-03-{1 + i % 20:02d} 15:00:00", "U")
        for i in range(1, 16)])
    conn.executemany("INSERT INTO ADM_DIAG VALUES (?, ?, 'J18.9', '20240301')", [(i, 1 + i % 20) for i in range(1, 11)])
    # the admissions of in-patient visits: each a visit's detail (VISIT_NO), not a stay of its own
    conn.executemany("INSERT INTO ADMISSION VALUES (?, ?, ?, '20240301', '20240305')",
                     [(i, i, 1 + i % 20) for i in range(1, 11)])
    conn.commit()
    conn.close()


def test_a_table_of_admissions_beside_the_visits_is_read_as_inpatient_encounters(tmp_path: Path) -> None:
    # Before: IPD_STAY was carried raw (one encounter section only): no stay an Encounter, 입퇴원확인서 empty.
    path = tmp_path / "hospital.sqlite"
    _hospital(path)
    outcome = write_scaffold("hospital", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    encounters = {n: e for n, e in spec.entities.items() if e.canonical == "encounter"}
    # IPD_STAY_HIST a change history, ADM_DIAG the admissions' diagnoses (its name says so), ADMISSION a detail of
    # the visits (VISIT_NO): none of them a stay of its own
    assert {n: (e.table, e.key) for n, e in encounters.items()} == {
        "encounter": ("VISIT", "VISIT_NO"), "encounter_ipd_stay": ("IPD_STAY", "STAY_NO")}
    stay = encounters["encounter_ipd_stay"]
    assert {n: (f.source_column, f.value) for n, f in stay.fields.items()} == {
        "patient_id": ("PT_NO", None), "start": ("ADMISSION_DATE", None), "end": ("DISCHARGE_DATE", None),
        "kind": (None, "inpatient")}
    assert "kind" not in encounters["encounter"].fields
    # the stay's diagnoses in and out (DSCH_DX_CD: a discharge word, which on a visit row names no diagnosis) the
    # stay's, neither the main one (no numbered series)
    diagnoses = {n: e for n, e in spec.entities.items() if e.canonical == "diagnosis" and e.table == "IPD_STAY"}
    assert {n: (e.table, e.fields["encounter_id"].ref, e.fields["code"].source_column, "primary" in e.fields)
            for n, e in diagnoses.items()} == {
        "diagnosis_adm_dx_cd": ("IPD_STAY", "encounter_ipd_stay", "ADM_DX_CD", False),
        "diagnosis_dsch_dx_cd": ("IPD_STAY", "encounter_ipd_stay", "DSCH_DX_CD", False)}
    result = run_export(ExportRequest(connector="hospital", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상병원"))  # a dry run
    assert result.reconciliation.balanced
    rows = {e.entity: (e.source_rows, e.exported, e.quarantined) for e in result.reconciliation.entities}
    assert (rows["encounter"], rows["encounter_ipd_stay"], rows["diagnosis_adm_dx_cd"],
            rows["diagnosis_dsch_dx_cd"]) == ((40, 40, 0), (15, 15, 0), (15, 15, 0), (12, 12, 0))


def test_a_visit_table_named_for_admissions_is_inpatient(tmp_path: Path) -> None:
    """입원접수 the only table of visits: its encounters in-patient (kind, as no column gives it); 입원처방 beside it
    is orders (its name says so), never a second table of stays."""
    path = tmp_path / "ward.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE 환자 (환자번호 INTEGER PRIMARY KEY, 환자명 TEXT, 생년월일 TEXT, 성별 TEXT);
        CREATE TABLE 입원접수 (접수번호 INTEGER PRIMARY KEY, 환자번호 INTEGER, 입원일자 TEXT, 퇴원일자 TEXT);
        CREATE TABLE 입원처방 (처방번호 INTEGER PRIMARY KEY, 환자번호 INTEGER, 처방일자 TEXT, 약품코드 TEXT, 약품명 TEXT);
    """)
    conn.executemany("INSERT INTO 환자 VALUES (?, ?, '19700101', '남')", [(i, f"환자{i}") for i in range(1, 11)])
    conn.executemany("INSERT INTO 입원접수 VALUES (?, ?, ?, ?)", [
        (i, 1 + i % 10, f"2024040{1 + i % 9}", f"2024041{i % 9}") for i in range(1, 21)])
    conn.executemany("INSERT INTO 입원처방 VALUES (?, ?, ?, 'A01', '타이레놀정')", [
        (i, 1 + i % 10, f"2024040{1 + i % 9}") for i in range(1, 31)])
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("ward", tmp_path / "out", SourceAddress(database=path)).folder)
    encounters = {n: e for n, e in spec.entities.items() if e.canonical == "encounter"}
    assert list(encounters) == ["encounter"] and encounters["encounter"].table == "입원접수"
    assert {n: (f.source_column, f.value) for n, f in encounters["encounter"].fields.items()} == {
        "patient_id": ("환자번호", None), "start": ("입원일자", None), "end": ("퇴원일자", None),
        "kind": (None, "inpatient")}
