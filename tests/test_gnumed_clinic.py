"""A clinic shaped like GNUmed on PostgreSQL (tests/connectors/gnumed_clinic.py: tables over the schemas dem, clin,
ref, blobs and audit, keys ``pk`` and references ``fk_*``, the person with no name of its own, its names in
dem.names (several a person, one active) and its 주민등록번호 in dem.lnk_identity2ext_id, clinical rows that reach
their patient only through their encounter, every table inheriting audit.audit_fields, audit.log_* tables without
keys), through the contractor's whole flow over psqlODBC with the scaffold's connector untouched: ``scaffold`` →
``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``; then every row of every table is rebuilt
from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py). What the scaffold maps and
what it carries is pinned per table (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from gnumed_clinic import DDL, LOGGED, create_gnumed_clinic

from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


def test_a_gnumed_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_gnumed_clinic(postgres_conn_str)
    # every cell (the empty parents audit.audit_fields, audit.audit_trail and clin.clin_root_item skipped: no rows
    # of their own); the reconciliation also counts the cells the sections' queries join in: the family and given
    # name from dem.names for each of the 30 people, a test result's LOINC and name from clin.test_type and its
    # encounter's patient (48 rows), an allergy's encounter's patient (12 rows)
    assert through_the_flow(clinic, tmp_path, 2 * 30 + 3 * 48 + 12) == clinic.cells
    bag = _bag(tmp_path)
    read = {"dem.identity": ("patient",), "clin.encounter": ("encounter",), "clin.test_result": ("lab_result",),
            "clin.allergy": ("allergy",), "blobs.doc_type": ("practitioner",),
            **{t: "skipped" for t in ("audit.audit_fields", "audit.audit_trail", "clin.clin_root_item")}}
    # pg_largeobject listed (and carried, empty) as the oid columns of the audit trail (orig_tableoid) may name
    # large objects for all the inventory knows
    assert _fates(bag) == {t: read.get(t, "carried") for t in (*DDL, *LOGGED, "pg_largeobject")}
    assert _entities(bag) == {("patient", "dem.identity", 30, 30, 0), ("encounter", "clin.encounter", 60, 60, 0),
                              ("lab_result", "clin.test_result", 48, 48, 0), ("allergy", "clin.allergy", 12, 12, 0),
                              ("practitioner", "blobs.doc_type", 2, 2, 0)}
    # the person has no name of its own: the active row of dem.names (id_identity names dem.identity), family name
    # first (was: no name found, the patient section commented out and every clinical table left undecided); the
    # renamed person (an inactive maiden name kept first, by key) under the active one
    patients = _resources(bag, "Patient", "dem.identity")
    assert {k: p["name"] for k, p in patients.items()} == {
        str(pk): [{"text": name}] for pk, (name, _, _) in clinic.people.items()}
    renamed = clinic.dirty["renamed"]
    assert patients[str(renamed)]["name"] == [{"text": clinic.people[renamed][0]}]
    assert {k: (p["gender"], p["birthDate"]) for k, p in patients.items()} == {
        str(pk): ({"m": "male", "f": "female"}[g], born.isoformat()) for pk, (_, g, born) in clinic.people.items()}
    # rows two hops from the patient (row → fk_encounter → clin.encounter.fk_patient) get their patient
    encounters = _resources(bag, "Encounter")
    assert {k: e["subject"]["reference"] for k, e in encounters.items()} == {
        str(e): f"Patient/{patients[str(p)]['id']}" for e, p in clinic.encounters.items()}
    for kind, table in (("AllergyIntolerance", "clin.allergy"), ("Observation", "clin.test_result")):
        found = _resources(bag, kind, table)
        subject = "patient" if kind == "AllergyIntolerance" else "subject"
        assert {k: r[subject]["reference"] for k, r in found.items()} == {
            str(pk): f"Patient/{patients[str(p)]['id']}" for (t, pk), p in clinic.reaches.items() if t == table}
    # a result's name is its clin.test_type's (fk_type), never its episode's description (fk_episode: a chart's
    # record, no dictionary; was: '에피소드 n' for every result's name)
    results = _resources(bag, "Observation", "clin.test_result")
    assert {r["code"]["text"] for r in results.values()} == {"공복혈당", "당화혈색소", "요단백"}
    # the 주민등록번호 stays a row of dem.lnk_identity2ext_id, carried whole (not yet an identifier of the patient),
    # and in no report, log or message of the bag
    carried = [json.loads(line)["row"] for p in sorted(bag.glob("data/raw/tables/dem_lnk_identity2ext_id.*.ndjson"))
               for line in p.read_bytes().splitlines()]
    assert sorted(r["external_id"] for r in carried if r["fk_origin"] == 1) == sorted(clinic.rrns.values())
    whole = [r for r in clinic.rrns.values() if not r.endswith("*")]
    assert len(whole) == 20
    for path in bag.rglob("*"):
        if path.is_file() and "raw" not in path.relative_to(bag).parts:
            text = path.read_bytes()
            assert not any(r.encode() in text or r.replace("-", "").encode() in text for r in whole), path
    assert not any(r.encode() in (bag / "data/report/inventory.json").read_bytes() for r in clinic.rrns.values())
