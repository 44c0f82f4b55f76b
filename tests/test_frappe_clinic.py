"""A clinic shaped like ERPNext Healthcare (Frappe on MariaDB, tests/connectors/frappe_clinic.py: tables named
``tab<DocType>`` with spaces, string keys from naming series, generic child tables under their parent by
``parent``/``parenttype``/``parentfield``), through the contractor's whole flow over MariaDB Connector/ODBC with
the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` →
``open`` → ``scan``; then every row of every table is rebuilt from the opened bag and compared with the server's
cell by cell (tests/lossless_kit.py). What the scaffold maps and what it carries is pinned per table (``db``:
fails, never skips, when the server is down).

Before: every table but ``tabPatient`` and ``tabSeries`` had a space in its name, which the connector refused
("is not a plain SQL table name") and the scaffold commented out ("make a view"): the patients alone were mapped,
every visit, vital sign, prescription and lab result carried raw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from foreign_schemas import _fresh_database
from frappe_clinic import DDL as FRAPPE_TABLES
from frappe_clinic import FrappeClinic, create_frappe_clinic

from test_legacy_opensource_clinics import _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the cells the sections' queries join in: the parent's patient of each drug prescription (101), of each normal
#: test result (120) and of each diagnosis code (140), which the reconciliation counts as read; and the visit of
#: each diagnosis code (140: its parent's key where that is a Patient Encounter, NULL under a procedure) and of each
#: drug prescription (101: NULL under the encounter nobody has)
JOINED = 101 + 120 + 140 + 140 + 101


@pytest.mark.parametrize("page_size", [None, 7])
def test_a_frappe_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str,
                                                         page_size: int | None) -> None:
    clinic = create_frappe_clinic(mariadb_conn_str)
    clinic.page_size = page_size
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells  # no table skipped
    bag = _bag(tmp_path)
    read = {"tabpatient": ("patient",), "tabpatient encounter": ("encounter",),
            "tabhealthcare practitioner": ("practitioner",), "tabclinical procedure": ("procedure",),
            "tabvital signs": ("vital_signs",),
            # child tables: the patient their parent's (was: carried raw)
            "tabdrug prescription": ("order_line",), "tabnormal test result": ("lab_result",),
            # the diagnosis codes (code J00, I10 …: KCD/ICD-shaped values), a child of encounters AND procedures
            "tabcodification table": ("diagnosis",),
            # an invoice is a receipt (진료비 영수증: its patient, posting_date, grand_total and paid_amount; was:
            # carried, "invoice" no receipt's name to the scaffold)
            "tabsales invoice": ("receipt",),
            # the bookings are appointments (was: carried, no appointment entity)
            "tabpatient appointment": ("appointment",)}
    assert _fates(bag) == {t.lower(): read.get(t.lower(), "carried") for t in FRAPPE_TABLES}
    # the vital signs of a patient nobody has (HLC-PAT-2026-09999) quarantined as an orphan, the prescription under
    # an encounter nobody has (HLC-ENC-2026-09999: no parent, so no patient) as missing its patient
    assert _entities(bag) == {("patient", "tabPatient", 40, 40, 0),
                              ("practitioner", "tabHealthcare Practitioner", 3, 3, 0),
                              ("encounter", "tabPatient Encounter", 80, 80, 0),
                              ("procedure", "tabClinical Procedure", 20, 20, 0),
                              ("vital_signs", "tabVital Signs", 81, 80, 1),
                              ("order_line", "tabDrug Prescription", 101, 100, 1),
                              ("lab_result", "tabNormal Test Result", 120, 120, 0),
                              ("diagnosis", "tabCodification Table", 140, 140, 0),
                              ("receipt", "tabSales Invoice", 50, 50, 0),
                              ("appointment", "tabPatient Appointment", 60, 60, 0)}
    orphans = {json.loads(line)["key"]: json.loads(line)["reason_code"]
               for p in sorted(bag.glob("data/raw/*.ndjson")) for line in p.read_bytes().splitlines()}
    assert orphans == {clinic.dirty["orphan_vitals"]: "orphan", clinic.dirty["orphan_prescription"]: "required-missing"}
    patients = _resources(bag, "Patient")
    assert {k: (p["name"], p["gender"], p["birthDate"]) for k, p in patients.items()} == {
        k: ([{"text": name}], sex.lower(), str(dob)) for k, (name, sex, dob) in clinic.people.items()}
    # each visit is its patient's, on its encounter_date (was, when guessed at all: the row's creation stamp)
    encounters = _resources(bag, "Encounter")
    assert {k: (e["subject"]["reference"], e["period"]["start"]) for k, e in encounters.items()} == {
        k: (f"Patient/{patients[pid]['id']}", (dt.date(2026, 2, 2) + dt.timedelta(days=int(k[-5:]))).isoformat())
        for k, pid in clinic.encounters.items()}
    # the encounter's status column read (was: carried raw, every encounter 'finished', the cancelled one too):
    # Completed finished, Cancelled cancelled (docstatus 2), Open in-progress (the draft, docstatus 0; status reads
    # all three of its values, docstatus two: 0 has no Encounter status); a procedure's Completed/In Progress
    assert {k: e["status"] for k, e in encounters.items()} == {
        k: {clinic.dirty["cancelled_encounter"]: "cancelled", clinic.dirty["draft_encounter"]: "in-progress"}.get(
            k, "finished") for k in clinic.encounters}
    assert {k: p["status"] for k, p in _resources(bag, "Procedure").items()} == {
        f"HLC-CPR-2026-{p:05d}": ("completed", "in-progress")[p % 2] for p in range(1, 21)}
    # a vital-signs row's blood pressure from bp_systolic/bp_diastolic (Data: text; was not guessed), its
    # temperature, pulse and respiratory rate Data (text) too, height and weight Float (DECIMAL(21,9)); on its
    # signs_date (was: the row's creation stamp)
    lines = [json.loads(line) for p in sorted(bag.glob("data/fhir/Observation.*.ndjson"))
             for line in p.read_bytes().splitlines()]
    first = [o for o in lines if o["identifier"][0]["value"] == "HLC-VTS-2026-00001"]
    assert {o["effectiveDateTime"] for o in first} == {"2026-02-03"}
    assert sorted((o["code"]["coding"][0]["code"], o.get("valueQuantity", {}).get("value"),
                   [c["valueQuantity"]["value"] for c in o.get("component", [])]) for o in first) == sorted([
        ("85354-9", None, [111, 71]), ("8867-4", 61, []), ("9279-1", 15, []), ("8310-5", 36.1, []),
        ("29463-7", 51.1, []), ("8302-2", 1.56, []), ("39156-5", float(round(Decimal("51.1") / Decimal("1.56") ** 2, 9)), [])])
    # a drug prescription's patient is its encounter's (the parent's, joined in by the section's query): drug1 under
    # HLC-ENC-2026-00008
    orders = _resources(bag, "ServiceRequest")
    assert len(orders) == 100
    assert {o["subject"]["reference"] for o in orders.values()} <= {f"Patient/{p['id']}" for p in patients.values()}
    assert orders["7586e0fc58"]["subject"]["reference"] == encounters["HLC-ENC-2026-00008"]["subject"]["reference"]
    # a diagnosis code under a procedure has the procedure's patient, one under an encounter the encounter's
    conditions = _resources(bag, "Condition")
    assert len(conditions) == 140
    under_procedure = conditions[hashlib.sha1(b"codp1").hexdigest()[:10]]
    assert (under_procedure["code"]["coding"][0]["code"], under_procedure["subject"]["reference"]) == (
        "I10", f"Patient/{patients['HLC-PAT-2026-00002']['id']}")
    under_encounter = conditions[hashlib.sha1(b"cod8.0").hexdigest()[:10]]
    assert under_encounter["subject"]["reference"] == encounters["HLC-ENC-2026-00008"]["subject"]["reference"]
    # ... and is that encounter's (its parent's key, where the parent is a visit; was: no encounter link), the one
    # under a procedure none; so every prescription is its encounter's
    assert under_encounter["encounter"]["reference"] == f"Encounter/{encounters['HLC-ENC-2026-00008']['id']}"
    assert "encounter" not in under_procedure
    assert sum("encounter" in c for c in conditions.values()) == 120
    assert orders["7586e0fc58"]["encounter"]["reference"] == f"Encounter/{encounters['HLC-ENC-2026-00008']['id']}"
    assert {o["encounter"]["reference"] for o in orders.values()} <= {
        f"Encounter/{e['id']}" for e in encounters.values()}
    # each booking an Appointment at its appointment_datetime for its duration (minutes), Scheduled booked, Closed and
    # Checked Out fulfilled, Cancelled cancelled; never an Encounter (80 Encounters, the encounters' own)
    appointments = _resources(bag, "Appointment")
    assert {k: (a["status"], a["start"], a["minutesDuration"]) for k, a in appointments.items()} == {
        f"HLC-APP-2026-{a:05d}": (("booked", "fulfilled", "cancelled", "fulfilled")[a % 4], (dt.datetime(
            2026, 2, 2, 9, 0) + dt.timedelta(days=a, minutes=30 * (a % 8))).isoformat() + "+09:00", 15)
        for a in range(1, 61)}
    invoices = _resources(bag, "Invoice")
    assert {k: (i["totalGross"]["value"], i["date"], i["subject"]["reference"] in {
        f"Patient/{p['id']}" for p in patients.values()}) for k, i in invoices.items()} == {
        f"ACC-SINV-2026-{s:05d}": (15000 + 500 * s, (dt.date(2026, 2, 2) + dt.timedelta(days=s)).isoformat(), True)
        for s in range(1, 51)}
    scan = _scanned(clinic, tmp_path)
    # was (tabSales Invoice carried, the statuses raw): carried_raw 15200, mapped 2742, transformed 544; then (no
    # visit of a child row) mapped 2992, quarantined 50: the visit joined in of 140 diagnosis codes and 100
    # prescriptions mapped, of the orphan prescription quarantined with it; then carried_raw 14950, mapped 3232,
    # transformed 644: the 140 diagnosis codes each also carried raw (looked for under the recorded-code system, a
    # KCD-shaped code is under the KCD one), now read from their coding; the bookings, carried whole until they
    # became Appointments, now mapped; and 116 of the 120 lab values, plain numbers with a unit (valueQuantity.value,
    # looked for in valueString only), each also carried raw, now read from the number (the 4 haemoglobins written
    # '13.0' etc. are not that number's JSON text: still carried)
    assert scan["cells"] == {"carried_raw": 14244, "mapped": 3938, "quarantined": 51, "source": clinic.cells + JOINED,
                             "transformed": 478}
    assert sorted((e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]) == [
        ("appointment", 60, 0), ("diagnosis", 140, 0), ("encounter", 80, 0), ("lab_result", 120, 0), ("order_line", 100, 1), ("patient", 40, 0),
        ("practitioner", 3, 0), ("procedure", 20, 0), ("receipt", 50, 0), ("vital_signs", 80, 1)]



def test_a_latin1_table_named_with_a_space_is_read_as_its_cp949_bytes(tmp_path: Path, mariadb_conn_str: str) -> None:
    """A latin1 table holding CP949 bytes, named with a space: the scaffold's query that reads those columns as
    bytes names it quoted (was: ``… FROM care person``, unquoted, and ``connector check`` stopped on the syntax
    error), and every name comes back in Hangul."""
    import pyodbc

    target = _fresh_database(mariadb_conn_str, "emr_spaced_latin1", "mariadb")
    conn = pyodbc.connect(target, autocommit=True)
    try:
        conn.execute("CREATE TABLE `care person` (pid INT PRIMARY KEY, name_last VARCHAR(60), name_first VARCHAR(60), "
                     "date_birth DATE, sex CHAR(1)) ENGINE=MyISAM DEFAULT CHARSET=latin1")
        people = {p: (("김", "이", "박")[p % 3], ("민준", "서연", "도윤")[p % 3]) for p in range(1, 31)}
        for p, (family, given) in people.items():
            conn.execute(f"INSERT INTO `care person` VALUES (?, x'{family.encode('cp949').hex()}', "
                         f"x'{given.encode('cp949').hex()}', ?, ?)", p, dt.date(1950 + p, 1, 1 + p % 28), "mf"[p % 2])
    finally:
        conn.close()
    clinic = FrappeClinic("mariadb", odbc=target, patients="care person")
    clinic.table("care person", 5, len(people))
    clinic.stored_bytes = {"care person": ["name_last", "name_first"]}
    assert through_the_flow(clinic, tmp_path) == clinic.cells
    patients = _resources(_bag(tmp_path), "Patient")
    assert {k: p["name"] for k, p in patients.items()} == {
        str(p): [{"text": f"{family} {given}"}] for p, (family, given) in people.items()}
