"""A chart stays whole when a measurement or a status does not read: a vital-signs set whose measurements are all
NULL or empty is exported (each mapped measurement its Observation with dataAbsentReason ``unknown``), a measurement
recorded as text that is no number is its Observation with dataAbsentReason in any set, a NULL beside numbers is no
Observation; a status value no map reads keeps its record (``unknown``, or the usual status on an Immunization or an
Invoice, whose value sets have no unknown), the value carried raw as ``status-unread`` and named by ``connector
check``. A hand-written connector over a real SQLite file and real MariaDB and PostgreSQL servers over ODBC, the
whole CLI flow (check, dry run, sealed export, verify, open) and every cell rebuilt from the opened bag
(tests/lossless_kit.py). ``db``: fails, never skips, when a server is down.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emr_exporter.connectors import load_spec
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.pipeline import fhir
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))

from foreign_schemas import _fresh_database

sys.path.insert(0, str(Path(__file__).parent))

from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import INSTITUTION, Flow, _run, _source_args, checked, exported

CONNECTOR = '''
[connector]
name = "foreign"
version = "1.0.0"
product = "a clinic whose vital signs are sometimes blank and whose statuses are sometimes unknown (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "PT_NM", required = true }

[entities.vital_signs]
table = "VITAL"
key = "VS_NO"

[entities.vital_signs.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
observed = { column = "TAKEN", type = "datetime", required = true }
systolic = { column = "SBP", type = "decimal" }
diastolic = { column = "DBP", type = "decimal" }
pulse = { column = "PULSE", type = "decimal" }
temperature = { column = "BT", type = "decimal" }
weight = { column = "WT", type = "decimal" }
status = { column = "STAT", type = "status", map = { F = "final" } }

[entities.immunization]
table = "VACC"
key = "VAC_NO"

[entities.immunization.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
occurred = { column = "GIVEN", type = "date", required = true }
vaccine_name = { column = "VAC_NM" }
status = { column = "STAT", type = "status", map = { Y = "completed", N = "not-done" } }

[entities.receipt]
table = "RCPT"
key = "RCPT_NO"

[entities.receipt.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
issued = { column = "ISSUED", type = "date", required = true }
status = { column = "STAT", type = "status", map = { C = "cancelled" } }
'''

PATIENTS = [(1, "C1", "김환자"), (2, "C2", "이환자")]
#: (VS_NO, PT_ID, TAKEN, SBP, DBP, PULSE, BT, WT, STAT)
VITALS = [
    (1, 1, "2024-03-05 09:30:00", "120", "80", "72", "36.5", "60.5", "F"),  # every measurement a number
    (2, 1, "2024-03-06 09:30:00", None, None, None, None, None, "F"),  # every one NULL
    (3, 2, "2024-03-07 09:30:00", "", "", "", "", "", None),  # every one empty
    (4, 2, "2024-03-08 09:30:00", None, "", "  ", None, None, "?"),  # NULL, empty and blanks; a status not read
    (5, 1, "2024-03-09 09:30:00", "118", "76", None, "측정 안 함", None, "F"),  # numbers, a NULL, a text
    (6, 2, "2024-03-10 09:30:00", None, None, "거부", None, None, "F"),  # a text alone
]
#: (VAC_NO, PT_ID, GIVEN, VAC_NM, STAT)
VACCINES = [(1, 1, "2024-01-02", "BCG", "Y"), (2, 2, "2024-01-03", "MMR", "N"), (3, 1, "2024-01-04", "DTaP", "보류")]
#: (RCPT_NO, PT_ID, ISSUED, STAT)
RECEIPTS = [(1, 1, "2024-03-05", None), (2, 2, "2024-03-06", "C"), (3, 2, "2024-03-07", "H"), (4, 1, "2024-03-08", "H"),
            # free text where a status belongs (a note naming the patient; a sentence written without spaces): the
            # check names neither, only their lengths
            (5, 1, "2024-03-09", "김환자 보호자 요청으로 취소"), (6, 2, "2024-03-10", "보호자가전화로취소요청함")]

STATEMENTS = [
    "CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))",
    "CREATE TABLE VITAL (VS_NO INTEGER PRIMARY KEY, PT_ID INTEGER, TAKEN VARCHAR(19), SBP VARCHAR(10), "
    "DBP VARCHAR(10), PULSE VARCHAR(10), BT VARCHAR(20), WT VARCHAR(10), STAT VARCHAR(4))",
    "CREATE TABLE VACC (VAC_NO INTEGER PRIMARY KEY, PT_ID INTEGER, GIVEN VARCHAR(10), VAC_NM VARCHAR(20), "
    "STAT VARCHAR(10))",
    "CREATE TABLE RCPT (RCPT_NO INTEGER PRIMARY KEY, PT_ID INTEGER, ISSUED VARCHAR(10), STAT VARCHAR(40))",
]
INSERTS = [("PATIENT", PATIENTS), ("VITAL", VITALS), ("VACC", VACCINES), ("RCPT", RECEIPTS)]

ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
UNKNOWN = ("unknown", None)


def _create(engine: str, conn_str: str | None, path: Path) -> str | None:
    if conn_str is None:
        conn = sqlite3.connect(path)
        for sql in STATEMENTS:
            conn.execute(sql)
        for table, rows in INSERTS:
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        conn.commit()
        conn.close()
        return None
    import pyodbc

    target = _fresh_database(conn_str, "emr_absent_values", engine)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    for sql in STATEMENTS:
        conn.execute(sql + (" CHARACTER SET utf8mb4" if engine == "mariadb" else ""))
    for table, rows in INSERTS:
        conn.cursor().executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    conn.close()
    return target


def _said(part: dict[str, Any]) -> Any:
    """A measurement's value, or (why it is absent, the text as recorded)."""
    if "valueQuantity" in part:
        return part["valueQuantity"]["value"]
    [coding] = part["dataAbsentReason"]["coding"]
    assert coding["system"] == ABSENT_SYSTEM and not any(k.startswith("value") for k in part)
    return coding["code"], part["dataAbsentReason"].get("text")


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db),
                                    pytest.param("postgresql", marks=pytest.mark.db)])
def test_blank_measurements_and_unread_statuses_keep_the_chart_whole_and_every_cell(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    conn_str = {"mariadb": "mariadb_conn_str", "postgresql": "postgres_conn_str"}.get(engine)
    target = _create(engine, request.getfixturevalue(conn_str) if conn_str else None, tmp_path / "clinic.sqlite")
    folder = tmp_path / "connectors" / "foreign"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    source_args, env = _source_args(SimpleNamespace(path=None if target else tmp_path / "clinic.sqlite", odbc=target))
    flow = Flow(source_args, {**env, "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}, keys,
                tmp_path / "connectors")

    # connector check: nothing quarantined (was: the three blank sets unmappable, the vaccination and the two
    # receipts whose status does not read unmappable), and the unread status values named with their counts
    check = checked(flow)
    assert {(e["entity"], e["source_rows"], e["exported"], e["quarantined"])
            for e in check["reconciliation"]["entities"]} == {
        ("patient", 2, 2, 0), ("vital_signs", 6, 6, 0), ("immunization", 3, 3, 0), ("receipt", 6, 6, 0)}
    assert check["defects"] == [] and check["unmapped_tables"] == []
    assert check["unread_statuses"] == [
        {"section": "immunization", "field": "status", "column": "STAT", "value": "'보류'", "records": 1},
        {"section": "receipt", "field": "status", "column": "STAT", "value": "'H'", "records": 2},
        {"section": "receipt", "field": "status", "column": "STAT", "value": "(text of 12 characters, not shown)",
         "records": 1},
        {"section": "receipt", "field": "status", "column": "STAT", "value": "(text of 15 characters, not shown)",
         "records": 1},
        {"section": "vital_signs", "field": "status", "column": "STAT", "value": "'?'", "records": 1}]
    text = _run(["connector", "check", str(folder), *flow.source], flow.env, 0, 4).output
    assert ("\nStatus values not read (each record kept with its status unknown, or the usual one where the resource "
            "has no unknown; the value carried raw as status-unread: add it to the map):\n"
            "  immunization.status (STAT): '보류' 1\n  receipt.status (STAT): 'H' 2\n"
            "  receipt.status (STAT): (text of 12 characters, not shown) 1\n"
            "  receipt.status (STAT): (text of 15 characters, not shown) 1\n"
            "  vital_signs.status (STAT): '?' 1\n") in text
    assert "김환자" not in text and "이환자" not in text and "보호자" not in text

    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"]
        entities = {e["entity"]: e for e in outcome["entities"]}
        assert {name: (e["quarantined"], e["statuses_kept_as_recorded"], e["field_defects"])
                for name, e in entities.items()} == {
            "patient": (0, 0, {}),
            # the text measurements carried raw as invalid-number; the unread status as status-unread
            "vital_signs": (0, 1, {"invalid-number": 2, "status-unread": 1}),
            "immunization": (0, 1, {"status-unread": 1}),
            "receipt": (0, 4, {"status-unread": 4})}

    # the vital signs: each set's Observations, a value or why it is absent
    observations: dict[str, dict[str, Any]] = {}
    for o in lines(bag, "fhir/Observation"):
        observations.setdefault(o["identifier"][0]["value"], {})[o["id"].rsplit("-", 1)[1]] = o
    sets = {key: {kind: [_said(c) for c in o["component"]] if kind == "bp" else _said(o) for kind, o in found.items()}
            for key, found in observations.items()}
    blank = {"bp": [UNKNOWN, UNKNOWN], "pulse": UNKNOWN, "temp": UNKNOWN, "weight": UNKNOWN}
    assert sets == {
        "1": {"bp": [120, 80], "pulse": 72, "temp": 36.5, "weight": 60.5},  # as before, byte for byte
        "2": blank,  # NULL says nothing of why: unknown, no text (was: quarantined unmappable)
        "3": blank,
        "4": blank,
        # a NULL beside numbers is no measurement (no Observation); the text its Observation, in any set (was: the
        # field defect alone, no Observation)
        "5": {"bp": [118, 76], "temp": ("not-performed", "측정 안 함")},
        "6": {"pulse": ("asked-declined", "거부")},  # the text alone: its Observation, no blank ones beside it
    }
    statuses = {key: {o["status"] for o in found.values()} for key, found in observations.items()}
    assert statuses == {"1": {"final"}, "2": {"final"}, "3": {"final"}, "4": {"unknown"}, "5": {"final"},
                        "6": {"final"}}
    # the blank set's Observations claim the kinds' profiles (a quantity rule binds only a value that is there)
    assert observations["2"]["weight"]["meta"]["profile"] == [fhir.VITAL_PROFILES["weight"][0]]
    assert {"url": fhir.RECORDED_STATUS_URL, "valueString": "?"} in observations["4"]["pulse"]["extension"]

    # the statuses with no unknown in their value set: the record kept with its usual status, the value beside it
    immunizations = {i["identifier"][0]["value"]: i for i in lines(bag, "fhir/Immunization")}
    assert {k: (i["status"], i["extension"][-1]["valueString"]) for k, i in immunizations.items()} == {
        "1": ("completed", "Y"), "2": ("not-done", "N"), "3": ("completed", "보류")}
    invoices = {i["identifier"][0]["value"]: i for i in lines(bag, "fhir/Invoice")}
    assert {k: i["status"] for k, i in invoices.items()} == {"1": "issued", "2": "cancelled", "3": "issued",
                                                             "4": "issued", "5": "issued", "6": "issued"}
    # each unread status value carried raw beside its record with its reason
    carried = Counter((c["entity"], d["column"], c["columns"][d["column"]], d["reason_code"])
                      for group in ("vital_signs", "immunization", "receipt")
                      for c in lines(bag, f"raw/columns/{group}") for d in c.get("field_defects", []))
    assert carried == {("vital_signs", "stat", "?", "status-unread"): 1,
                       ("vital_signs", "bt", "측정 안 함", "invalid-number"): 1,
                       ("vital_signs", "pulse", "거부", "invalid-number"): 1,
                       ("immunization", "stat", "보류", "status-unread"): 1, ("receipt", "stat", "H", "status-unread"): 2,
                       ("receipt", "stat", "김환자 보호자 요청으로 취소", "status-unread"): 1,
                       ("receipt", "stat", "보호자가전화로취소요청함", "status-unread"): 1}

    # every cell of every table rebuilt from the opened bag: NULL, '' and '  ' each as stored
    source = SqliteFileSource(tmp_path / "clinic.sqlite") if target is None else OdbcSource(target)
    try:
        rebuilt = check_bag_against_source(bag, load_spec(folder), source)
    finally:
        source.close()
    assert dict(rebuilt.rows) == {"patient": 2, "vital": 6, "vacc": 3, "rcpt": 6}


@pytest.mark.parametrize(("value", "shown"), [
    ("H", "'H'"), ("보류", "'보류'"), ("?", "'?'"), ("", "''"), ("수납대기중", "'수납대기중'"),  # codes and status words
    ("CANCELLED", "'CANCELLED'"), ("D/C", "'D/C'"), ("10", "'10'"), ("9999", "'9999'"), ("취소(환불)", "'취소(환불)'"),
    ("진료 완료", "(text of 5 characters, not shown)"),  # a space: words, not a code
    ("보호자요청취소", "(text of 7 characters, not shown)"),  # a Hangul run longer than a status word
    ("01012345678", "(text of 11 characters, not shown)"),  # a long number: a telephone, an RRN, a date
    ("800101-1", "(text of 8 characters, not shown)"),
    ("金患者", "(text of 3 characters, not shown)"),  # Hanja: a name as well as a word
    # a name typed into the status box: three syllables, as short as a status word (was shown, quoted)
    ("김철수", "(text of 3 characters, not shown)"), ("정상미", "(text of 3 characters, not shown)"),
    ("오재미", "(text of 3 characters, not shown)"), ("이서", "(text of 2 characters, not shown)"),
    ("미확인", "'미확인'"), ("재접수", "'재접수'"), ("진행중", "'진행중'"), ("삭제됨", "'삭제됨'"),  # words of statuses
    ("A\tB", "(text of 3 characters, not shown)"), ("ABCDEFGHIJKLMNOPQ", "(text of 17 characters, not shown)"),
    # a one-word Latin name typed into the status box (was shown, quoted): a run of Latin letters that is no status,
    # code or unit word may be a person's name, romanized Korean surnames (Na, Oh, In) too
    ("KIM", "(text of 3 characters, not shown)"), ("Smith", "(text of 5 characters, not shown)"),
    ("JOHN", "(text of 4 characters, not shown)"), ("Lee", "(text of 3 characters, not shown)"),
    ("PARK", "(text of 4 characters, not shown)"), ("Na", "(text of 2 characters, not shown)"),
    ("IN", "(text of 2 characters, not shown)"), ("JOHN_DOE", "(text of 8 characters, not shown)"),
    ("J20.9/KIM", "(text of 9 characters, not shown)"),
    # a two-syllable status word that is a name as well (전원: 전 원), its first syllable a surname's
    ("전원", "(text of 2 characters, not shown)"), ("정상", "(text of 2 characters, not shown)"),
    ("방문", "(text of 2 characters, not shown)"),
    # what founders and contractors need to see: flags, letters, numbers, status words, KCD codes, units
    ("Y", "'Y'"), ("N", "'N'"), ("A", "'A'"), ("B", "'B'"), ("C", "'C'"), ("01", "'01'"), ("DONE", "'DONE'"),
    ("CANCEL", "'CANCEL'"), ("Done", "'Done'"), ("on-hold", "'on-hold'"), ("entered-in-error", "'entered-in-error'"),
    ("취소", "'취소'"), ("완료", "'완료'"), ("예약", "'예약'"), ("진료완료", "'진료완료'"), ("J20.9", "'J20.9'"),
    ("AA157", "'AA157'"), ("mg/dL", "'mg/dL'"), ("mmHg", "'mmHg'"), ("OPD", "'OPD'"),
])
def test_the_check_shows_an_unread_status_only_when_it_looks_like_a_code(value: str, shown: str) -> None:
    from emr_exporter.model import shown_value
    assert shown_value(value) == shown


def test_every_status_word_the_scaffold_reads_and_every_fhir_status_is_shown() -> None:
    """The Latin words of the statuses the scaffold reads (its status, deletion and kept words) and the FHIR statuses
    a column may hold as written are each shown (model._LATIN_WORDS keeps them), and no Korean surname syllable
    alone or romanized surname is among those words."""
    from emr_exporter import model
    from emr_exporter.authoring import scaffold

    words = {w for w in (*scaffold._STATUS_WORDS, *scaffold._DELETED_WORDS, *scaffold._KEPT_WORDS) if w.isascii()}
    words |= {v for values in model.STATUS_VALUES.values() for v in values}
    hidden = sorted(w for w in words for spelt in (w, w.upper(), w.replace(" ", "-"))
                    if " " not in spelt and not model.may_show(spelt))
    assert (len(words), hidden) == (65, [])  # 59, and the bookings' noshow, waitlist, fulfilled … (branch appoint)
    assert not {"no", "na", "do", "oh", "an", "in", "on", "ok", "min", "sun", "kim", "lee"} & model._LATIN_WORDS


def test_every_booking_status_word_the_scaffold_reads_is_shown_but_a_surname_pair() -> None:
    """The words the scaffold reads on bookings alone (부도, 불참, 확정, no-show, confirm, wait-list …; branch appoint)
    are status words as much as the others (branch jsonver's may_show did not know them): where one is not read — a
    visit table's 부도, a connector written by hand — connector check and the scaffold name it rather than count
    it as free text. Only 노쇼 stays hidden: its first syllable a surname's (노 쇼), as 전원 and 정상."""
    from emr_exporter import model
    from emr_exporter.authoring import scaffold

    hidden = sorted({spelt for w in scaffold._BOOKING_STATUS_WORDS
                     for spelt in (w, w.upper(), w.title(), w.replace(" ", "-"), w.replace(" ", "_"))
                     if " " not in spelt and not model.may_show(spelt)})
    assert hidden == ["노쇼"]
    # and still no name: a romanized surname alone, or beside a word no status has
    assert [model.may_show(v) for v in ("No", "NO", "No-Kim", "Show-Lee", "부도김")] == [False] * 5
