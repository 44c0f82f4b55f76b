"""A clinic shaped like an Odoo medical EMR on PostgreSQL (tests/connectors/odoo_clinic.py: every person one
``res_partner`` row, patients, physicians, the insurer and the companies alike; ``medical_patient`` only its
``partner_id`` and clinical flags; ``ir_attachment`` and ``mail_message`` rows of ANY model by ``res_model`` /
``model`` + ``res_id``), through the contractor's whole flow over the PostgreSQL ODBC driver with the scaffold's
connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open`` →
``scan``; then every row of every table is rebuilt from the opened bag and compared with the server's cell by cell
(tests/lossless_kit.py). What the scaffold maps and what it carries is pinned per table (``db``: fails, never
skips, when the server is down).

Before: the scaffold took ``res_partner`` as the patients' table (``medical_patient`` has no name of its own and
``partner_id`` was no person link to it): the clinic, the insurer and both physicians exported as Patients, and
every disease's ``patient_id`` (a ``medical_patient`` id) read as a partner's id: diagnoses on the wrong person.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

from emr_exporter.pipeline.raw import decode_raw

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from odoo_clinic import DDL as ODOO_TABLES
from odoo_clinic import PATHOLOGIES, create_odoo_clinic

from test_legacy_opensource_clinics import _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the cells the sections' queries join in: the partner's name of each of the 40 patients and 2 physicians, a
#: disease's code and name from its medical_pathology (35 rows), a prescription line's drug from its
#: medical_medicament, its patient and state from its medical_prescription_order (60 lines)
JOINED = 40 + 2 + 2 * 35 + 3 * 60


@pytest.mark.parametrize("page_size", [None, 7])
def test_an_odoo_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, postgres_conn_str: str,
                                                        page_size: int | None) -> None:
    clinic = create_odoo_clinic(postgres_conn_str)
    clinic.page_size = page_size
    # every cell but the skipped res_users' (2 rows of 12 columns)
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells - 2 * 12
    bag = _bag(tmp_path)
    read = {"medical_patient": ("patient",), "medical_physician": ("practitioner",),
            "medical_patient_disease": ("diagnosis",), "medical_prescription_order_line": ("order_line",),
            "medical_appointment": ("appointment",), "res_users": "skipped"}
    # res_partner (every person), ir_attachment and mail_message (rows of any model), the framework's ir_* tables
    # and the many2many link of appointments and pathologies: carried whole
    assert _fates(bag) == {t: read.get(t, "carried") for t in ODOO_TABLES}
    # the bookings are Appointments (were carried raw whole: no appointment entity), never Encounters; the orphan
    # appointment (patient 999) quarantined, nothing else
    assert _entities(bag) == {("patient", "medical_patient", 40, 40, 0), ("practitioner", "medical_physician", 2, 2, 0),
                              ("diagnosis", "medical_patient_disease", 35, 35, 0),
                              ("order_line", "medical_prescription_order_line", 60, 60, 0),
                              ("appointment", "medical_appointment", 90, 89, 1)}
    # state done fulfilled, cancel cancelled, confirmed booked, draft proposed; the duration (hours, a double:
    # 0.25) is no number of minutes: carried raw
    appointments = _resources(bag, "Appointment")
    assert {k: a["status"] for k, a in appointments.items()} == {
        str(a): {"done": "fulfilled", "cancel": "cancelled", "confirmed": "booked", "draft": "proposed"}[state]
        for a, (_pid, state) in clinic.appointments.items() if a != clinic.dirty["orphan_appointment"]}
    assert not any("minutesDuration" in a for a in appointments.values())
    assert not list(bag.glob("data/fhir/Encounter.*"))
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    # the patient's name is its partner's (was: res_partner the patients' table): joined in by partner_id
    assert spec["entities"]["patient"]["query"] == (
        "SELECT X.*, P.name AS SCAFFOLD_NAME FROM medical_patient X LEFT JOIN res_partner P ON P.id = X.partner_id")
    patients = _resources(bag, "Patient")
    # only the medical_patient rows: no company, insurer or physician partner is a patient (were: all 44 partners)
    assert {k: (p["name"], p["gender"], p["birthDate"]) for k, p in patients.items()} == {
        str(p): ([{"text": name}], {"m": "male", "f": "female"}[sex], birth.isoformat())
        for p, (name, sex, birth) in clinic.people.items()}
    assert [k for k, p in patients.items() if p.get("active") is False] == [str(clinic.dirty["archived_patient"])]
    # each disease is its medical_patient's (was: the partner whose id is the same number: disease 1's patient_id
    # 4 read as res_partner 4, the physician 이의사)
    conditions = _resources(bag, "Condition")
    assert {k: (c["subject"]["reference"], c["code"]["coding"][0]["code"]) for k, c in conditions.items()} == {
        str(i): (f"Patient/{patients[str(1 + (i * 3) % 40)]['id']}", PATHOLOGIES[1 + i % 5][0]) for i in range(1, 36)}
    # the physicians' names are their partners'
    practitioners = _resources(bag, "Practitioner")
    assert {k: p["name"][0]["text"] for k, p in practitioners.items()} == {"1": "김의사", "2": "이의사"}
    # the prescription lines are the orders (was: the header, medical_prescription_order, whose ``name`` is its
    # record number RX/2024/0001, taken for the drug's name; then a company_id, res_company's name): the drug's name
    # the active_component of the medical_medicament its medicament_id names, the patient its order's (the line's
    # prescription_order_id names medical_prescription_order, the module's prefix left off)
    requests = _resources(bag, "ServiceRequest")
    drugs = ("acetaminophen", "amlodipine", "amoxicillin")
    lines = [(o, n) for o in range(1, 41) for n in range(1 + o % 2)]
    assert {k: (r["code"]["text"], r["subject"]["reference"]) for k, r in requests.items()} == {
        str(k): (drugs[(o + n) % 3], f"Patient/{patients[str(1 + (o * 5) % 40)]['id']}")
        for k, (o, n) in enumerate(lines, 1)}
    # a line has no status of its own: its order's ``state`` (Odoo's selection done/cancel) joined in, the lines of
    # the three cancelled prescriptions revoked (was: status unknown, the state carried raw with the header)
    assert {k: r["status"] for k, r in requests.items()} == {
        str(k): "revoked" if o % 13 == 0 else "completed" for k, (o, _) in enumerate(lines, 1)}
    # every attachment and message kept whole in its table's raw rows, res_model / model and res_id as recorded:
    # none attached to a patient by a res_id that is another model's row
    assert not list(bag.glob("data/fhir/DocumentReference.*"))
    carried = {t: [json.loads(line)["row"] for p in sorted(bag.glob(f"data/raw/tables/{t}.*.ndjson"))
                   for line in p.read_bytes().splitlines()] for t in ("ir_attachment", "mail_message")}
    assert {r["id"]: (r["res_model"], r["res_id"]) for r in carried["ir_attachment"]} == clinic.attachments
    assert {r["id"]: (r["model"], r["res_id"]) for r in carried["mail_message"]} == clinic.messages
    # patient 1's consent form, its bytes in db_datas (bytea) as stored; patient 2's a filestore path alone
    first, second = carried["ir_attachment"][0], carried["ir_attachment"][1]
    assert (decode_raw(first["db_datas"]), first["store_fname"]) == (b"%PDF-1.4\n% synthetic\n\x01", None)
    assert (second["db_datas"], second["store_fname"]) == (None, "02/" + f"{2:040x}")
    scan = _scanned(clinic, tmp_path)
    # the per-table outcome the scan reports (was: 44 partners as patients, 35 diagnoses of partners; then the 40
    # prescription headers as the orders: carried_raw 5522, mapped 549, transformed 75; then the 60 lines without
    # their headers' state: mapped 649; then carried_raw 5542, mapped 709, transformed 95: the 35 diagnoses' KCD
    # codes each also carried raw, looked for under the recorded-code system; and the appointments carried raw
    # whole, now Appointments, the orphan appointment's 14 cells quarantined)
    assert (scan["cells"], [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]]) == (
        {"carried_raw": 4870, "mapped": 1367, "quarantined": 14, "source": clinic.cells - 2 * 12 + JOINED,
         "transformed": 60}, [("practitioner", 2, 0), ("patient", 40, 0), ("diagnosis", 35, 0), ("order_line", 60, 0),
                              ("appointment", 89, 1)])
