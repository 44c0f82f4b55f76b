"""A Korean clinic built the way Windows EMRs over SQL Server are built (tests/connectors/winsql_clinic.py: GUID keys,
sentinel dates, bit/CHAR(1) soft-delete flags, money columns, padded CHAR(n) Korean text, prefixed tables, audit
columns on every table), on PostgreSQL and MariaDB with each engine's own types, through the contractor's whole flow
with the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed ``export`` →
``verify`` → ``open``; every row of every table rebuilt from the opened bag and compared with the database's cell by
cell (tests/lossless_kit.py), each section read in keyset pages of 7 rows over its GUID key.

The rule it pins (connectors/transforms.py ``SENTINEL_DATES``): a day Windows EMRs write for "no date" — 1900-01-01
(SQL Server's zero date), 1899-12-30 (the OLE Automation zero), 1753-01-01, 0001-01-01 and 9999-12-31 (the open end)
— is no date: the field is dropped and the cell carried raw with the reason ``sentinel-date`` (a required field's
row quarantined with it). Was: the patient born on 1900-01-01, the visit of 1900-01-01 exported, the diagnosis with
an onset on 1899-12-30. ``db``: fails, never skips, when a server is down.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import TRANSFORMS, RowRejected, TransformContext
from emr_exporter.sources.address import SourceAddress

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from foreign_schemas import _fresh_database
from winsql_clinic import (
    DIAGNOSES,
    ORDERS,
    PAGE_SIZE,
    PATIENTS,
    VISITS,
    WinSqlClinic,
    create_winsql_clinic,
    guid,
    patient_guid,
    visit_guid,
)

from lossless_kit import lines
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

#: the audit columns: on every table, never read as a clinical field
AUDIT = {"REG_DT", "REG_ID", "UPD_DT", "UPD_ID", "INS_USER", "ROWVERSION"}


def _source_key(resource: dict[str, Any]) -> str:
    return next(i["value"] for i in resource["identifier"] if i["system"].startswith("urn:emr-exporter:source"))


def _sidecar(bag: Path, entity: str) -> list[dict[str, Any]]:
    return list(lines(bag, f"raw/columns/{entity}"))


def _flow(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[WinSqlClinic, Path, dict[str, Any]]:
    conn_str = request.getfixturevalue("postgres_conn_str" if engine == "postgresql" else "mariadb_conn_str")
    clinic = create_winsql_clinic(engine, _fresh_database(conn_str, "emr_winsql", engine))
    assert clinic.cells == 14840 and clinic.page_size == PAGE_SIZE
    # every cell once; the diagnosis section joins in its visit's date (one cell a row: its KCD edition)
    assert through_the_flow(clinic, tmp_path, joined=DIAGNOSES) == clinic.cells
    toml = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    return clinic, _bag(tmp_path), toml


@pytest.mark.db
@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_sql_server_shaped_clinic_keeps_sentinel_dates_raw_and_soft_deleted_rows_marked(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    clinic, bag, toml = _flow(engine, tmp_path, request)
    planted = clinic.planted
    assert {k: len(v) for k, v in planted.items()} == {
        "birth_1900": 6, "birth_zeros": 6, "birth_blank": 4, "patient_deleted": 5, "visit_1900": 4,
        "visit_deleted": 10, "onset_1899": 28, "diag_unused": 10, "end_9999": 30, "order_deleted": 10}
    # --- what the scaffold maps (PostgreSQL folds the unquoted names: compared in upper case) ---
    assert _fates(bag) == {"t_patient": ("patient",), "tb_visit": ("encounter",), "tbl_diag": ("diagnosis",),
                           "t_order": ("order_line",), "tb_rcpt": ("receipt",)}
    fields = {s: {f: (v.get("column") or "").upper() for f, v in e["fields"].items()}
              for s, e in toml["entities"].items()}
    assert fields == {
        "patient": {"chart_number": "PT_NO", "name": "PT_NM", "sex": "SEX_CD", "birth_date": "BIRTH_DT",
                    "rrn": "JUMIN_NO", "phone": "TEL_NO", "active": "DEL_YN"},
        "encounter": {"patient_id": "PT_GUID", "start": "VISIT_DT", "department": "DEPT_CD", "reason": "CHIEF_CMPL",
                      "status": "DEL_YN"},
        "diagnosis": {"patient_id": "PT_GUID", "encounter_id": "VISIT_ID", "code": "DIAG_CD", "text": "DIAG_NM",
                      "primary": "MAIN_YN", "onset": "ONSET_DT", "kcd_edition": "SCAFFOLD_SVC_DATE",
                      "recorded": "SCAFFOLD_SVC_DATE", "status": "USE_YN"},
        "order_line": {"patient_id": "PT_GUID", "encounter_id": "VISIT_ID", "ordered": "ORD_DT",
                       "local_code": "ORD_CD", "name": "ORD_NM", "dose": "ORD_QTY", "days": "ORD_DAYS",
                       "frequency": "ORD_CNT", "status": "DEL_YN"},
        "receipt": {"patient_id": "PT_GUID", "encounter_id": "VISIT_ID", "issued": "RCPT_DT",
                    "covered_patient": "SELF_AMT", "covered_insurer": "CORP_AMT", "paid": "RCPT_AMT",
                    "status": "CNCL_YN"}}
    # a UTF-8 database: the receipts' BINARY(16) GUIDs that happen to decode as CP949 are no CP949 text
    assert toml["source"]["encoding"] == "utf-8"
    # the audit columns are no clinical date nor anything else: REG_DT (the day before the visit) is not its date
    assert not {c for f in fields.values() for c in f.values()} & AUDIT
    assert {s: e["key"].upper() for s, e in toml["entities"].items()} == {
        "patient": "PT_GUID", "encounter": "VISIT_ID", "diagnosis": "DIAG_ID", "order_line": "ORD_ID",
        "receipt": "RCPT_ID"}
    # --- exact counts: a visit dated 1900-01-01 is no visit (quarantined, sentinel-date), and its diagnoses, orders
    # and receipt with it (orphans); nothing else is set aside ---
    lost_visits = set(planted["visit_1900"])
    assert {(e, t.upper(), *n) for e, t, *n in _entities(bag)} == {
        ("patient", "T_PATIENT", PATIENTS, PATIENTS, 0), ("encounter", "TB_VISIT", VISITS, 196, 4),
        ("diagnosis", "TBL_DIAG", DIAGNOSES, 245, 5), ("order_line", "T_ORDER", ORDERS, 294, 6),
        ("receipt", "TB_RCPT", VISITS, 196, 4)}
    quarantined = {(r["entity"], r["reason_code"]) for name in ("encounter", "diagnosis", "order_line", "receipt")
                   for r in lines(bag, f"raw/{name}")}
    assert quarantined == {("encounter", "sentinel-date"), ("diagnosis", "orphan"), ("order_line", "orphan"),
                           ("receipt", "orphan")}
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # the 6 '19000101' birth dates and the 27 onsets of 1899-12-30 (of visits kept) carried raw as sentinel-date;
    # '00000000' is no calendar date (invalid-date, as before); eight blanks are empty
    assert {e["entity"]: e["field_defects"] for e in reconciliation["entities"] if e["field_defects"]} == {
        "patient": {"invalid-date": 6, "sentinel-date": 6}, "diagnosis": {"sentinel-date": 27}}
    # --- no date of 1900, 1899 or 9999 anywhere in the FHIR resources ---
    for path in sorted(bag.glob("data/fhir/*.ndjson")):
        text = path.read_text(encoding="utf-8")
        assert not any(f'"{year}-' in text for year in ("1900", "1899", "9999", "1753", "0001")), path.name
    patients = _resources(bag, "Patient")
    guid_of = {patient_guid(n, engine): n for n in range(1, PATIENTS + 1)}
    born = {guid_of[k]: r.get("birthDate") for k, r in patients.items()}
    assert {n for n, b in born.items() if b is None} == set(
        planted["birth_1900"] + planted["birth_zeros"] + planted["birth_blank"])
    defects = {guid_of[x["key"]]: (x["columns"]["birth_dt"], x["field_defects"][0]["reason_code"])
               for x in _sidecar(bag, "patient") if x.get("field_defects")}
    assert defects == {**{n: ("19000101", "sentinel-date") for n in planted["birth_1900"]},
                       **{n: ("00000000", "invalid-date") for n in planted["birth_zeros"]}}
    # --- soft deletes: kept, and marked ---
    assert {guid_of[k] for k, r in patients.items() if r.get("active") is False} == set(planted["patient_deleted"])
    encounters = _resources(bag, "Encounter")
    visit_of = {visit_guid(v): v for v in range(1, VISITS + 1)}
    assert {visit_of[k.lower()] for k, r in encounters.items() if r["status"] == "entered-in-error"} == set(
        planted["visit_deleted"]) - lost_visits
    assert len(encounters) == VISITS - len(lost_visits)
    orders = _resources(bag, "MedicationRequest") | _resources(bag, "ServiceRequest")
    assert len(orders) == 294
    assert sum(r["status"] == "entered-in-error" for r in orders.values()) == 10
    # the dose (ORD_QTY), times a day (ORD_CNT: a bare count, all 1-3, beside ORD_DAYS's days) and days (ORD_DAYS)
    # of every line (was: the three carried raw); ORD_CNT decided by its values and neighbour, said in its GUESS
    assert "(.*_)?CNT (times a day or days); whole numbers 1-6, and another column holds the days" in (
        tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
    order_of = {str(guid("ord", o)): o for o in range(1, ORDERS + 1)}
    schedule = {order_of[k.lower()]: _schedule(r) for k, r in orders.items()}
    assert schedule == {o: (Decimal("1") if o % 3 else Decimal("0.5"), 1 + o % 3, 3 + o % 5) for o in schedule}
    # --- GUID references: each visit's subject is its patient, whatever the case of the GUID stored ---
    patient_ids = {guid_of[k]: r["id"] for k, r in patients.items()}
    for key, encounter in encounters.items():
        owner, day, written = clinic.visits[visit_of[key.lower()]]
        assert encounter["subject"]["reference"] == f"Patient/{patient_ids[owner]}"
        assert encounter["period"]["start"].startswith(day.isoformat()) and day != written, key
    conditions = _resources(bag, "Condition")
    assert len(conditions) == 245 and all(r["subject"]["reference"].startswith("Patient/") for r in conditions.values())
    # a diagnosis no longer in use (USE_YN '0': the in-use flag the other way round) was deleted: entered-in-error,
    # kept (was: exported as an ordinary Condition, the flag carried raw)
    diag_of = {str(guid("diag", d)): d for d in range(1, DIAGNOSES + 1)}
    assert {diag_of[k] for k, r in conditions.items()
            if r.get("verificationStatus", {}).get("coding", [{}])[0].get("code") == "entered-in-error"} == set(
        planted["diag_unused"])
    # the receipts, keyed by their BINARY(16)/bytea GUID (its hex), the money column as what the patient paid
    invoices = _resources(bag, "Invoice")
    assert len(invoices) == VISITS - len(lost_visits)
    paid = {v: Decimal(12000 + (v % 7) * 1500) * Decimal("0.3") for v in range(1, VISITS + 1)}
    for key, invoice in invoices.items():
        v = next(n for n in range(1, VISITS + 1) if guid("rcpt", n).hex == key)
        components = {c["code"]["coding"][0]["code"]: Decimal(str(c["amount"]["value"]))
                      for c in invoice["totalPriceComponent"]}
        assert components["paid"] == components["covered-patient"] == paid[v], key
    # an onset of 1899-12-30 is none (its cell raw), as is a NULL one
    kept = [d for d in range(1, DIAGNOSES + 1) if 1 + (d * 3) % VISITS not in lost_visits]
    assert sum("onsetDateTime" in r for r in conditions.values()) == sum(d % 9 not in (4, 8) for d in kept) == 191


def _schedule(order: dict[str, Any]) -> tuple[Decimal, int, int]:
    """A MedicationRequest's or ServiceRequest's dose, times a day and days."""
    if order["resourceType"] == "MedicationRequest":
        dosage = order["dosageInstruction"][0]
        return (Decimal(str(dosage["doseAndRate"][0]["doseQuantity"]["value"])),
                dosage["timing"]["repeat"]["frequency"], order["dispenseRequest"]["expectedSupplyDuration"]["value"])
    repeat = order["occurrenceTiming"]["repeat"]
    return Decimal(str(order["quantityQuantity"]["value"])), repeat["frequency"], repeat["boundsDuration"]["value"]


def _ctx() -> TransformContext:
    return TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)


@pytest.mark.parametrize("value", [
    dt.date(1900, 1, 1), dt.datetime(1900, 1, 1), dt.datetime(1900, 1, 1, 9, 30), "19000101", "1900-01-01",
    dt.datetime(1899, 12, 30), "18991230", dt.date(9999, 12, 31), "99991231", "9999-12-31 23:59:59",
    dt.datetime(1753, 1, 1), dt.date(1, 1, 1)])
@pytest.mark.parametrize("kind", ["date", "datetime"])
def test_a_sentinel_day_is_no_date(value: Any, kind: str) -> None:
    field = FieldSpec("birth_date", kind, column="BIRTH_DT")
    with pytest.raises(RowRejected) as raised:
        TRANSFORMS[kind](value, field, _ctx())
    assert raised.value.reason_code == "sentinel-date"
    assert raised.value.reason.startswith("field 'birth_date' holds ") and raised.value.reason.endswith(": no date")


@pytest.mark.parametrize(("value", "day"), [
    ("19000102", dt.date(1900, 1, 2)), (dt.date(1899, 12, 31), dt.date(1899, 12, 31)),
    ("99991230", dt.date(9999, 12, 30)), (dt.datetime(2024, 1, 1), dt.date(2024, 1, 1))])
def test_the_days_beside_a_sentinel_are_dates(value: Any, day: dt.date) -> None:
    assert TRANSFORMS["date"](value, FieldSpec("start", "date", column="X"), _ctx()) == day


@pytest.mark.parametrize(("text", "fmt", "precision"), [
    ("1900", "%Y", "year"), ("1753", "%Y", "year"), ("1900.01", "%Y.%m", "month"), ("1899-12", "%Y-%m", "month"),
    ("2019", "%Y", "year"), ("2019.03", "%Y.%m", "month")])
def test_a_year_or_a_month_written_alone_is_no_sentinel_day(text: str, fmt: str, precision: str) -> None:
    """A sentinel is a day a Windows EMR stores for "no date"; a year or a month written alone ('1900' read with
    "%Y": a family member's birth year, an onset) names no day, so it is no sentinel: kept as the year (or month)
    it is, never dropped as SQL Server's zero date. A date-time field read so is the year too (was: 1 January at
    00:00 invented, '2019' a datetime 2019-01-01T00:00)."""
    for kind in ("date", "datetime"):
        read = TRANSFORMS[kind](text, FieldSpec("onset", kind, column="X", format=(fmt,)), _ctx())
        assert (read.isoformat()[:len(text)], getattr(read, "precision", None)) == (text.replace(".", "-"),
                                                                                    precision), kind


@pytest.mark.parametrize(("flag", "stored"), [("USE_YN", ("Y", "N")), ("사용여부", ("1", "0")), ("USE_FLAG", ("T", "F"))])
def test_an_in_use_flag_on_a_record_is_a_soft_delete_the_other_way_round(flag: str, stored: tuple[str, str],
                                                                         tmp_path: Path) -> None:
    """A diagnosis's USE_YN 'N' (사용여부 '0'): the row no longer in use was deleted: entered-in-error, the others an
    ordinary record; a patient's USE_YN stays ``active``. Was: the flag carried raw, every row exported as live."""
    path = tmp_path / "in_use.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(f"""
        CREATE TABLE PT_MST (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD CHAR(8), USE_YN CHAR(1));
        CREATE TABLE DIAG (DIAG_SEQ INTEGER PRIMARY KEY, PT_NO INTEGER, DIAG_YMD CHAR(8), DIAG_CD TEXT,
                           DIAG_NM TEXT, "{flag}" CHAR(1));
    """)
    for i in range(1, 21):
        conn.execute("INSERT INTO PT_MST VALUES (?, ?, ?, ?)", (i, f"환자{i}", f"198001{i:02d}", "YN"[i == 4]))
        conn.execute("INSERT INTO DIAG VALUES (?, ?, ?, 'J00', '급성 비인두염', ?)",
                     (i, i, f"202401{i:02d}", stored[i % 7 == 3]))
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("in_use", tmp_path / "out", SourceAddress(database=path)).folder)
    status = spec.entities["diagnosis"].fields["status"]
    assert (status.column, dict(status.map or {})) == (flag, {stored[1]: "entered-in-error", stored[0]: ""})
    active = spec.entities["patient"].fields["active"]
    assert (active.column, active.type) == ("USE_YN", "bool")


@pytest.mark.parametrize(("table", "columns", "row"), [
    # 보험 자격: USE_YN 'N' is the insurance no longer the patient's (a past one), no deleted row
    ("INS_HIST", "INS_TYPE TEXT, INS_NO TEXT, VALID_FROM TEXT, VALID_TO TEXT", ("건강보험", "1234567", "20200101",
                                                                             "20231231")),
    # 복용약: 사용여부 '0' is a drug the patient no longer takes, no deleted row
    ("CURRENT_MED", "DRUG_NM TEXT, EDI_CD TEXT, START_YMD TEXT, END_YMD TEXT", ("아스피린", "645101470", "20200101",
                                                                                 "20231231")),
])
def test_an_in_use_flag_of_an_insurance_or_a_drug_taken_is_no_soft_delete(
        table: str, columns: str, row: tuple[str, ...], tmp_path: Path) -> None:
    """Whether an insurance is the patient's current one, whether a drug is still taken (USE_YN, 사용여부): 'N' is a
    past insurance, a drug stopped — true records, never entered-in-error (what a diagnosis's or an order's in-use
    flag says: the row deleted). Not read as a status: the flag carried raw, nothing claimed."""
    path = tmp_path / "in_use.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(f"""
        CREATE TABLE PT_MST (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD CHAR(8));
        CREATE TABLE {table} (SEQ INTEGER PRIMARY KEY, PT_NO INTEGER, {columns}, USE_YN CHAR(1));
    """)
    for i in range(1, 21):
        conn.execute("INSERT INTO PT_MST VALUES (?, ?, ?)", (i, f"환자{i}", f"198001{i:02d}"))
        conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)", (i, i, *row, "YN"[i % 3 == 0]))
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("in_use", tmp_path / "out", SourceAddress(database=path)).folder)
    (section,) = [e for e in spec.entities.values() if e.table == table]
    assert section.canonical in ("coverage", "medication_statement")
    status = section.fields.get("status")
    assert status is None or "USE_YN" not in (status.column, *status.columns, status.expr or ""), status
