"""The scaffold on a clinic whose codes are looked up in one common-code table (공통코드, keyed by group and code) and
whose orders name a drug master or a fee-item master by a text code (SQLite; the server flow is
tests/test_commoncode_clinic.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress

COMMON = [("SEX", "01", "남"), ("SEX", "02", "여"), ("PAY_MTHD", "01", "현금"), ("PAY_MTHD", "02", "카드"),
          ("PAY_MTHD", "03", "계좌이체"), ("VST_TP", "O", "외래"), ("VST_TP", "I", "입원"), ("VST_TP", "E", "응급"),
          ("DEPT", "IM", "내과"), ("DEPT", "PD", "소아청소년과"), ("DEPT", "FM", "가정의학과"), ("DEPT", "OS", "정형외과"),
          ("ROUTE", "IM", "근육주사"), ("ROUTE", "PO", "경구")]


def _clinic(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE TB_COMM_CD (GRP_CD TEXT NOT NULL, CD TEXT NOT NULL, CD_NM TEXT, USE_YN TEXT,
                                 PRIMARY KEY (GRP_CD, CD));
        CREATE TABLE TB_PTNT (PTNT_NO TEXT PRIMARY KEY, PTNT_NM TEXT, BRTH_DT TEXT, SEX_CD TEXT);
        CREATE TABLE TB_VST (VST_NO INTEGER PRIMARY KEY, PTNT_NO TEXT, VST_DT TEXT, VST_TM TEXT, VST_TP_CD TEXT,
                             DEPT_CD TEXT, INS_CD TEXT);
        CREATE TABLE TB_DRUG_MST (DRUG_CD TEXT PRIMARY KEY, DRUG_NM TEXT, EDI_CD TEXT);
        CREATE TABLE TB_SUGA_MST (SUGA_CD TEXT PRIMARY KEY, SUGA_NM TEXT, EDI_CD TEXT);
        CREATE TABLE TB_ORD (ORD_NO INTEGER PRIMARY KEY, VST_NO INTEGER, ORD_DT TEXT, ORD_CD TEXT, ROUTE_CD TEXT);
    """)
    conn.executemany("INSERT INTO TB_COMM_CD VALUES (?, ?, ?, 'Y')", COMMON)
    conn.executemany("INSERT INTO TB_PTNT VALUES (?, ?, ?, ?)",
                     [(f"{i:08d}", f"환자{i}", f"19{50 + i}0102", ("01", "02")[i % 2]) for i in range(1, 31)])
    # visit 5's department '99' is no code of DEPT; INS_CD's 01 and 02 are codes of SEX and of PAY_MTHD alike
    conn.executemany("INSERT INTO TB_VST VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(v, f"{1 + v % 30:08d}", f"202403{1 + v % 28:02d}", f"{9 + v % 8:02d}{v % 60:02d}30",
                       "OIE"[v % 3], "99" if v == 5 else ("IM", "PD", "FM", "OS")[v % 4], ("01", "02")[v % 2])
                      for v in range(1, 61)])
    conn.executemany("INSERT INTO TB_DRUG_MST VALUES (?, ?, ?)",
                     [("D0001", "타이레놀정500mg", "645301200"), ("D0002", "노바스크정5mg", "643301010")])
    conn.executemany("INSERT INTO TB_SUGA_MST VALUES (?, ?, ?)", [("S0001", "초진진찰료-의원", "AA154")])
    conn.executemany("INSERT INTO TB_ORD VALUES (?, ?, '20240302', ?, ?)",
                     [(n, 1 + n % 60, ("D0001", "D0002", "S0001")[n % 3], ("PO", "IM", None)[n % 3])
                      for n in range(1, 91)])
    conn.commit()
    return conn


def test_codes_of_a_common_code_table_read_through_the_group_their_values_are_found_under(tmp_path: Path) -> None:
    # Before: the visit's kind (O/I/E) no built-in map knew: no kind, every admission an outpatient visit; its
    # department and an order's route the bare codes (IM: 내과 or 근육주사?); an order of a text code had no name;
    # VST_NO, PTNT_NO, BRTH_DT, VST_DT and TB_VST were no names the hints knew, and VST_TM (HHMMSS) no time
    path = tmp_path / "common.sqlite"
    conn = _clinic(path)
    outcome = write_scaffold("common", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    patient, visit, order = spec.entities["patient"], spec.entities["encounter"], spec.entities["order_line"]
    assert (patient.table, patient.fields["birth_date"].column) == ("TB_PTNT", "BRTH_DT")
    # 01/02, no built-in map's keys, are codes of SEX and of PAY_MTHD alike: SEX_CD's name says which, and SEX's
    # names 남/여 the sex map reads
    assert (patient.fields["sex"].column, patient.fields["sex"].map) == ("SEX_CD", {"01": "male", "02": "female"})
    assert (visit.table, visit.fields["patient_id"].column, visit.fields["start"].columns) == (
        "TB_VST", "PTNT_NO", ("VST_DT", "VST_TM"))
    # the group whose codes the values are, found by the values (VST_TP's names 외래/입원/응급 read by the kind map)
    assert (visit.fields["kind"].column, visit.fields["kind"].map) == (
        "VST_TP_CD", {"E": "outpatient", "I": "inpatient", "O": "outpatient"})
    # DEPT, not ROUTE (which holds IM too); '99' no DEPT row: no department, the code carried raw
    assert visit.query is not None and visit.fields["department"].column == "SCAFFOLD_DEPARTMENT"
    rows = dict(conn.execute(f"SELECT VST_NO, SCAFFOLD_DEPARTMENT FROM ({visit.query}) WHERE VST_NO <= 5"))
    assert rows == {1: "소아청소년과", 2: "가정의학과", 3: "정형외과", 4: "내과", 5: None}
    # INS_CD's 01 and 02 are SEX's and PAY_MTHD's, the name says neither: no group guessed, the codes as they are
    assert visit.fields["payer_type"].column == "INS_CD"
    # the route from ROUTE (IM is 근육주사 there); the name and EDI code from the master holding the code
    assert order.query is not None
    rows = {r[0]: r[1:] for r in conn.execute(
        f"SELECT ORD_NO, SCAFFOLD_ROUTE, SCAFFOLD_NAME, SCAFFOLD_EDI_CODE FROM ({order.query}) WHERE ORD_NO <= 3")}
    assert rows == {1: ("근육주사", "노바스크정5mg", "643301010"), 2: (None, "초진진찰료-의원", "AA154"),
                    3: ("경구", "타이레놀정500mg", "645301200")}
    assert {order.fields[f].column for f in ("route", "name", "edi_code")} == {
        "SCAFFOLD_ROUTE", "SCAFFOLD_NAME", "SCAFFOLD_EDI_CODE"}
    conn.close()
    result = run_export(ExportRequest(connector="common", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    assert result.reconciliation.balanced
    counts = {e["entity"]: (e["exported"], e["quarantined"]) for e in result.reconciliation.to_dict()["entities"]}
    assert counts == {"patient": (30, 0), "encounter": (60, 0), "order_line": (90, 0)}
