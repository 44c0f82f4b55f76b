"""A long-lived Korean clinic EMR's SQLite database, through the IT contractor's flow (``scaffold`` → ``connector
check`` → dry run → sealed ``export`` → ``verify`` → ``open``), compared cell by cell with the opened bag.

What twenty years of one clinic leave behind: merged charts (환자 통합: ``merged_into`` on the old chart and a
``chart_merge`` table; the old chart's visits still point at the old number), history tables beside the live ones
(``patient_hist``, ``visit_hist``: one row per change, with ``changed_at``, ``changed_by``, ``op``), soft deletes
(``del_yn = 'Y'``, ``deleted_at``) on patients, visits, prescriptions and diagnoses, a prescription table of
revisions (key ``(rx_no, rev)``), backup copies (``patient_bak_20231231``, ``visit_old``), a visit referring to its
follow-up visit and a patient to a guardian patient (a cycle), orphan visits.
"""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path
from typing import Any

from emr_exporter.connectors.spec import load_spec
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import checked, exported, scaffolded

PATIENTS = 300
VISITS = 500
ORPHAN_VISITS = 20  # visits 481..500 point at a chart number no patient has
DELETED_VISITS = [i for i in range(1, VISITS + 1) if i % 23 == 0]
DELETED_PATIENTS = [i for i in range(1, PATIENTS + 1) if i % 37 == 0]


def build_chart_history_clinic(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
    CREATE TABLE patient (chart_no TEXT PRIMARY KEY, pt_nm TEXT, sex TEXT, birth_ymd TEXT, tel TEXT,
        guardian_chart_no TEXT REFERENCES patient(chart_no), merged_into TEXT, del_yn TEXT DEFAULT 'N', deleted_at TEXT);
    CREATE TABLE patient_hist (hist_seq INTEGER PRIMARY KEY, chart_no TEXT, pt_nm TEXT, sex TEXT, birth_ymd TEXT, tel TEXT,
        guardian_chart_no TEXT, merged_into TEXT, del_yn TEXT, deleted_at TEXT, changed_at TEXT, changed_by TEXT, op TEXT);
    CREATE TABLE patient_bak_20231231 (chart_no TEXT, pt_nm TEXT, sex TEXT, birth_ymd TEXT, tel TEXT);
    CREATE TABLE chart_merge (merge_seq INTEGER PRIMARY KEY, old_chart_no TEXT, new_chart_no TEXT, merged_at TEXT, merged_by TEXT);
    CREATE TABLE visit (visit_no INTEGER PRIMARY KEY, chart_no TEXT REFERENCES patient(chart_no), visit_ymd TEXT, dept_cd TEXT,
        followup_visit_no INTEGER REFERENCES visit(visit_no), del_yn TEXT DEFAULT 'N', deleted_at TEXT);
    CREATE TABLE visit_hist (hist_seq INTEGER PRIMARY KEY, visit_no INTEGER, chart_no TEXT, visit_ymd TEXT, dept_cd TEXT,
        followup_visit_no INTEGER, del_yn TEXT, deleted_at TEXT, changed_at TEXT, changed_by TEXT, op TEXT);
    CREATE TABLE visit_old (visit_no INTEGER, chart_no TEXT, visit_ymd TEXT, dept_cd TEXT);
    CREATE TABLE rx (rx_no INTEGER, rev INTEGER, visit_no INTEGER REFERENCES visit(visit_no), chart_no TEXT, drug_cd TEXT, drug_nm TEXT,
        dose REAL, days INTEGER, del_yn TEXT DEFAULT 'N', PRIMARY KEY (rx_no, rev));
    CREATE TABLE diag (visit_no INTEGER, seq INTEGER, kcd_cd TEXT, diag_nm TEXT, del_yn TEXT DEFAULT 'N', PRIMARY KEY (visit_no, seq));
    """)
    P = PATIENTS
    for i in range(1, P + 1):
        c = f"{i:07d}"
        guardian = f"{i - 1:07d}" if i % 10 == 0 else None
        merged = f"{i - 150:07d}" if i > 290 else None   # 291..300 are old charts merged into 141..150
        deleted = i % 37 == 0
        conn.execute("INSERT INTO patient VALUES (?,?,?,?,?,?,?,?,?)",
                     (c, f"환자{i}", "MF"[i % 2], f"19{50 + i % 50:02d}{i % 12 + 1:02d}{i % 28 + 1:02d}",
                      f"010-1234-{i:04d}", guardian, merged, "Y" if deleted else "N",
                      "2023-05-01 10:00:00" if deleted else None))
        conn.execute("INSERT INTO patient_hist (chart_no, pt_nm, sex, birth_ymd, tel, del_yn, changed_at, changed_by, op) "
                     "VALUES (?,?,?,?,?,?,?,?,?)", (c, f"환자{i}", "MF"[i % 2], "19700101", "010", "N", "2020-01-01", "admin", "I"))
        if i % 5 == 0:
            conn.execute("INSERT INTO patient_hist (chart_no, pt_nm, sex, birth_ymd, tel, del_yn, changed_at, changed_by, op) "
                         "VALUES (?,?,?,?,?,?,?,?,?)", (c, f"환자{i}", "MF"[i % 2], "19700101", "011", "N", "2021-01-01", "nurse", "U"))
        if i <= 200:
            conn.execute("INSERT INTO patient_bak_20231231 VALUES (?,?,?,?,?)", (c, f"환자{i}", "MF"[i % 2], "19700101", "010"))
    # a guardian pointing back (cycle): patient 9 guardian is 10
    conn.execute("UPDATE patient SET guardian_chart_no='0000010' WHERE chart_no='0000009'")
    for i in range(291, 301):
        conn.execute("INSERT INTO chart_merge (old_chart_no, new_chart_no, merged_at, merged_by) VALUES (?,?,?,?)",
                     (f"{i:07d}", f"{i - 150:07d}", "2022-03-03", "admin"))
    for i in range(1, VISITS + 1):
        v = i
        chart = f"{i % 300 + 1:07d}"
        if i > VISITS - ORPHAN_VISITS:
            chart = "9999999"  # orphans
        follow = v + 1 if i % 7 == 0 and i < 500 else None
        deleted = i % 23 == 0
        conn.execute("INSERT INTO visit VALUES (?,?,?,?,?,?,?)", (v, chart, f"2023{i % 12 + 1:02d}{i % 28 + 1:02d}", "IM",
                     follow, "Y" if deleted else "N", "2023-12-01 09:00:00" if deleted else None))
        conn.execute("INSERT INTO visit_hist (visit_no, chart_no, visit_ymd, dept_cd, followup_visit_no, del_yn, changed_at, changed_by, op) "
                     "VALUES (?,?,?,?,?,?,?,?,?)", (v, chart, f"2023{i % 12 + 1:02d}{i % 28 + 1:02d}", "IM", follow, "N", "2023-01-01", "admin", "I"))
        if i % 23 == 0:
            conn.execute("INSERT INTO visit_hist (visit_no, chart_no, visit_ymd, dept_cd, followup_visit_no, del_yn, changed_at, changed_by, op) "
                         "VALUES (?,?,?,?,?,?,?,?,?)", (v, chart, f"2023{i % 12 + 1:02d}{i % 28 + 1:02d}", "IM", follow, "Y", "2023-12-01", "admin", "D"))
        if i <= 100:
            conn.execute("INSERT INTO visit_old VALUES (?,?,?,?)", (v, chart, "20190101", "IM"))
        conn.execute("INSERT INTO diag VALUES (?,?,?,?,?)", (v, 1, "J00", "급성 비인두염", "Y" if deleted else "N"))
        for rev in range(1, 1 + (i % 3) + 1):
            conn.execute("INSERT INTO rx VALUES (?,?,?,?,?,?,?,?,?)", (i, rev, v, chart, f"D{i % 40:03d}", f"약{i % 40}",
                         1.0 * rev, 3, "N"))
    conn.commit()
    conn.close()



def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return list(lines(bag, f"fhir/{kind}"))


def _source_key(resource: dict[str, Any]) -> str:
    return str(resource["id"])


def test_soft_deleted_visits_and_patients_are_exported_saying_they_were_deleted(tmp_path: Path) -> None:
    # Before: the scaffold mapped no field on del_yn: a visit the clinic deleted ('Y') was an Encounter like any
    # other ("status": "finished"), a deleted patient an active Patient; only the raw sidecar kept 'Y'.
    build_chart_history_clinic(tmp_path / "clinic.db")
    flow = scaffolded(type("Db", (), {"path": tmp_path / "clinic.db"})(), tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    entities = spec["entities"]
    # neither a history table nor a backup copy is taken for the live one
    assert (entities["patient"]["table"], entities["encounter"]["table"]) == ("patient", "visit")
    assert entities["encounter"]["fields"]["status"] == {
        "column": "del_yn", "type": "status", "map": {"Y": "entered-in-error", "N": ""}}
    assert entities["diagnosis"]["fields"]["status"] == {
        "column": "del_yn", "type": "status", "map": {"Y": "entered-in-error", "N": ""}}
    assert entities["patient"]["fields"]["active"] == {"column": "del_yn", "type": "bool",
                                                       "map": {"Y": False, "N": True}}
    check = checked(flow)
    # the history tables, the backup copies and the log of merged charts (the patients' merged_into says it in
    # FHIR: tests/test_merged_charts.py) are carried whole, each with why; only the prescription revisions (no
    # date of their own) are left to the contractor
    history = ("a change history (a row per change of records, who changed them and when): the amendment history "
               "the chart must keep; it goes as it is")
    copy = ("an earlier generation, backup copy or the deleted rows of records: it may hold rows or values the "
            "table in use no longer has; it goes as it is")
    merges = ("a log of merged charts (환자 통합: which chart was merged into which): the patients' merged_into says "
              "it in FHIR (Patient.link); it goes as it is")
    assert {t["table"]: t["reason"] for t in check["carried_tables"]} == {
        "patient_hist": history, "visit_hist": history, "patient_bak_20231231": copy, "visit_old": copy,
        "chart_merge": merges}
    assert [t["table"] for t in check["unmapped_tables"]] == ["rx"]
    assert entities["patient"]["fields"]["merged_into"] == {"column": "merged_into"}
    _dry, _sealed, bag = exported(flow, tmp_path)
    encounters = _resources(bag, "Encounter")
    assert len(encounters) == VISITS - ORPHAN_VISITS
    deleted = [e for e in encounters if e["status"] == "entered-in-error"]
    assert len(deleted) == len([i for i in DELETED_VISITS if i <= VISITS - ORPHAN_VISITS])
    assert {e["status"] for e in encounters} == {"finished", "entered-in-error"}
    conditions = _resources(bag, "Condition")
    assert sum(c["verificationStatus"]["coding"][0]["code"] == "entered-in-error" for c in conditions
               if "verificationStatus" in c) == len(deleted)
    assert all("clinicalStatus" not in c for c in conditions)  # an ordinary diagnosis says no status it did not have
    patients = _resources(bag, "Patient")
    assert len(patients) == PATIENTS
    # deleted, or merged into another chart (291..300 into 141..150: replaced-by it, which replaces them)
    merged = {f"{i:07d}": f"{i - 150:07d}" for i in range(291, 301)}
    assert sorted(p["identifier"][0]["value"] for p in patients if p["active"] is False) == sorted(
        {f"{i:07d}" for i in DELETED_PATIENTS} | set(merged))
    assert sum(p["active"] is True for p in patients) == PATIENTS - len(set(DELETED_PATIENTS) | set(range(291, 301)))
    ids = {p["identifier"][0]["value"]: p["id"] for p in patients}
    assert {p["identifier"][0]["value"]: p["link"] for p in patients if "link" in p} == {
        **{old: [{"other": {"reference": f"Patient/{ids[new]}"}, "type": "replaced-by"}] for old, new in merged.items()},
        **{new: [{"other": {"reference": f"Patient/{ids[old]}"}, "type": "replaces"}] for old, new in merged.items()}}
    # every cell of every table comes back exactly from the opened bag ('N' and 'Y' included)
    source = SqliteFileSource(tmp_path / "clinic.db")
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows["visit"] == VISITS and rebuilt.rows["patient"] == PATIENTS


def test_a_history_table_named_before_the_live_one_is_not_taken_for_it(tmp_path: Path) -> None:
    # Before: the live tables renamed tb_patient and tb_visit (their history tables patient_hist and visit_hist
    # keep their names) tied with their history tables on every name and column, and the first name won: the
    # scaffold read patient_hist as the patients (a patient once per change: 360 Patients, duplicate chart
    # numbers quarantined) and visit_hist as the visits.
    build_chart_history_clinic(tmp_path / "clinic.db")
    with sqlite3.connect(tmp_path / "clinic.db") as conn:
        conn.execute("ALTER TABLE patient RENAME TO tb_patient")
        conn.execute("ALTER TABLE visit RENAME TO tb_visit")
    conn.close()
    flow = scaffolded(type("Db", (), {"path": tmp_path / "clinic.db"})(), tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    assert (spec["entities"]["patient"]["table"], spec["entities"]["encounter"]["table"]) == ("tb_patient",
                                                                                              "tb_visit")
    check = checked(flow)
    assert check["reconciliation"]["totals"]["exported"] == check["reconciliation"]["totals"]["source_rows"] - (
        ORPHAN_VISITS * 2)  # the orphan visits and their diagnoses
