"""A small Korean hospital whose in-patient stays are a table of their own beside the out-patient visits
(tests/connectors/inpatient_clinic.py: ``입원내역`` in Hangul beside ``OPD_JUBSU``), on MariaDB, through the
contractor's whole flow over MariaDB Connector/ODBC with the scaffold's connector untouched: ``scaffold`` →
``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open`` → ``scan``; then every row of every table
is rebuilt from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py). What the
scaffold maps and what it carries is pinned per table (``db``: fails, never skips, when the server is down).

Before: the admissions were carried raw (a second table of visits: only one encounter section was guessed), so no
stay was an Encounter and 입퇴원확인서 had nothing to list; a receipt's status O/C/D (open, closed, deleted) was
carried raw, a deleted receipt exported as an issued Invoice like any other.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from inpatient_clinic import DDL as HOSPITAL_TABLES
from inpatient_clinic import create_inpatient_clinic

from test_legacy_opensource_clinics import _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


def test_a_hospitals_admissions_are_inpatient_encounters_beside_its_visits(tmp_path: Path,
                                                                           mariadb_conn_str: str) -> None:
    clinic = create_inpatient_clinic(mariadb_conn_str)
    assert through_the_flow(clinic, tmp_path) == clinic.cells  # nothing skipped, nothing joined in
    bag = _bag(tmp_path)
    # 입원내역 an encounter section of its own (encounter_2: a Hangul name is no section's); ADMISSION_BAK, an old
    # copy, carried with its reason (never a third visit table)
    assert _fates(bag) == {t.lower(): f for t, f in {
        "PT_MST": ("patient",), "OPD_JUBSU": ("encounter",), "입원내역": ("encounter_2",), "RCPT": ("receipt",),
        "ADMISSION_BAK": "carried"}.items()} and set(_fates(bag)) == {t.lower() for t in HOSPITAL_TABLES}
    # the stay of a patient nobody has (환자번호 999) quarantined as an orphan, as a visit's would be
    assert _entities(bag) == {("patient", "PT_MST", 40, 40, 0), ("encounter", "OPD_JUBSU", 120, 120, 0),
                              ("encounter_2", "입원내역", 30, 29, 1), ("receipt", "RCPT", 60, 60, 0)}
    orphans = [json.loads(line) for p in sorted(bag.glob("data/raw/encounter_2.*.ndjson"))
               for line in p.read_bytes().splitlines()]
    assert [(o["key"], o["reason_code"]) for o in orphans] == [(str(clinic.dirty["orphan_stay"]), "orphan")]
    patients = _resources(bag, "Patient")
    # the visits ambulatory (class AMB, no end) ...
    visits = _resources(bag, "Encounter", "OPD_JUBSU")
    assert {k: (e["subject"]["reference"], e["class"]["code"], e["period"]["start"], "end" in e["period"])
            for k, e in visits.items()} == {
        str(v): (f"Patient/{patients[str(pid)]['id']}", "AMB", at.isoformat() + "+09:00", False)
        for v, (pid, at) in clinic.visits.items()}
    # ... each stay in-patient (class IMP), its period 입원일시 to 퇴원일시 (no end while in the ward), its route
    # (입원경로) the admission source, the one deleted (삭제여부 'Y') entered-in-error; ids apart from the visits'
    stays = _resources(bag, "Encounter", quote("입원내역"))  # the source's system names the table percent-encoded
    assert {k: (e["subject"]["reference"], e["class"]["code"], e["period"]["start"], e["period"].get("end"),
                e["hospitalization"]["admitSource"]["text"], e["status"]) for k, e in stays.items()} == {
        str(a): (f"Patient/{patients[str(pid)]['id']}", "IMP", at.isoformat() + "+09:00",
                 out.isoformat() + "+09:00" if out else None, ("외래", "응급실", "전원")[a % 3],
                 "entered-in-error" if deleted == "Y" else "finished")
        for a, (pid, at, out, deleted) in clinic.stays.items() if a != clinic.dirty["orphan_stay"]}
    assert [k for k, e in stays.items() if "end" not in e["period"]] == [str(a) for a in clinic.dirty["in_the_ward"]]
    assert not {e["id"] for e in stays.values()} & {e["id"] for e in visits.values()}
    # RCPT_STAT read as the codes O/C/D: a deleted receipt entered-in-error (on no national document's receipt list),
    # an open or closed one an ordinary, issued Invoice
    invoices = _resources(bag, "Invoice")
    assert {k: (i["subject"]["reference"], i["totalGross"]["value"], i["status"]) for k, i in invoices.items()} == {
        str(r): (f"Patient/{patients[str(pid)]['id']}", float(amount),
                 "entered-in-error" if status == "D" else "issued")
        for r, (pid, amount, status) in clinic.receipts.items()}
    scan = _scanned(clinic, tmp_path)
    # carried raw: ADMISSION_BAK whole (10 × 5), the visits' MEMO (120), each exported stay's 병동 and 병실 (29 × 2),
    # and the cells a record keeps only transformed, their text in the column sidecar: BIRTH_YMD's CHAR(8) read as
    # dates (40) and the 58 receipts' O or C (an ordinary Invoice: the letter says nothing the status does)
    assert (scan["cells"], sorted((e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"])) \
        == ({"carried_raw": 10 * 5 + 120 + 29 * 2 + 40 + 58, "mapped": 1096, "quarantined": 8,
             "source": clinic.cells, "transformed": 40 + 58},
            [("encounter", 120, 0), ("encounter_2", 29, 1), ("patient", 40, 0), ("receipt", 60, 0)])
