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
import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from foreign_schemas import _fresh_database, _patients
from gnumed_clinic import DDL, LOGGED, create_gnumed_clinic
from random_server_clinic import ServerClinic

from test_foreign_schemas import checked, scaffolded
from test_legacy_opensource_clinics import _scanned
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db


def test_a_gnumed_shaped_clinic_comes_back_cell_for_cell(tmp_path: Path, postgres_conn_str: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clinic = create_gnumed_clinic(postgres_conn_str)
    # every cell (the empty parents audit.audit_fields, audit.audit_trail and clin.clin_root_item skipped: no rows
    # of their own); the reconciliation also counts the cells the sections' queries join in: the family and given
    # name from dem.names and the RRN from dem.lnk_identity2ext_id for each of the 30 people, a test result's LOINC and name from clin.test_type and its
    # encounter's patient (48 rows), an allergy's and a SOAP note's encounter's patient (12 and 120 rows), a
    # substance intake's ATC code and name from ref.substance and its encounter's patient (24 rows), a
    # vaccination's vaccine code and name from ref.drug_product through ref.vaccine and its encounter's patient
    # (18 rows), a page's patient, visit and date through its document (blobs.doc_obj, 17 rows), a health issue's
    # encounter's patient and date (5 rows)
    assert through_the_flow(clinic, tmp_path, 3 * 30 + 3 * 48 + 12 + 120 + 3 * 24 + 3 * 18 + 3 * 17 + 2 * 5) == (
        clinic.cells)
    bag = _bag(tmp_path)
    read = {"dem.identity": ("patient",), "clin.encounter": ("encounter",), "clin.test_result": ("lab_result",),
            "clin.allergy": ("allergy",), "clin.clin_narrative": ("chart_note",),
            "clin.substance_intake": ("medication_statement",), "clin.vaccination": ("immunization",),
            "blobs.doc_obj": ("attachment",), "clin.health_issue": ("diagnosis",),
            **{t: "skipped" for t in ("audit.audit_fields", "audit.audit_trail", "clin.clin_root_item")}}
    # pg_largeobject listed (and carried, empty) as the oid columns of the audit trail (orig_tableoid) may name
    # large objects for all the inventory knows
    assert _fates(bag) == {t: read.get(t, "carried") for t in (*DDL, *LOGGED, "pg_largeobject")}
    assert _entities(bag) == {("patient", "dem.identity", 30, 30, 0), ("encounter", "clin.encounter", 60, 60, 0),
                              ("lab_result", "clin.test_result", 48, 48, 0), ("allergy", "clin.allergy", 12, 12, 0),
                              ("chart_note", "clin.clin_narrative", 120, 120, 0),
                              ("medication_statement", "clin.substance_intake", 24, 24, 0),
                              ("immunization", "clin.vaccination", 18, 17, 1),
                              ("attachment", "blobs.doc_obj", 17, 16, 1),
                              ("diagnosis", "clin.health_issue", 5, 5, 0)}
    # clin.health_issue, the patient's problem list (a table named HEALTH_ISSUE: its fk_encounter the visit it was
    # noted in), Conditions of category problem-list-item, of their description alone (no codes), is_active the
    # clinical status (was: carried raw, no Condition)
    issues = _resources(bag, "Condition", "clin.health_issue")
    assert {k: (c["code"], c["category"][0]["coding"][0]["code"], c["clinicalStatus"]["coding"][0]["code"])
            for k, c in issues.items()} == {
        str(i): ({"text": text}, "problem-list-item", "inactive" if i == 3 else "active")
        for i, text in enumerate(["본태성 고혈압", "2형 당뇨병", "위염", "요통", "알레르기 비염"], 1)}
    # blobs.doc_type (the kinds of documents, named DOC…) carried as a code table of kinds (was: read as the
    # practitioners, its two kinds exported as Practitioners)
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
    # dem.identity.deceased is the time of death (timestamptz, NULL for the living): the dead patient's
    # deceasedDateTime, the living with no deceased* at all (was: guessed as an Access -1/0 yes/no flag, the time
    # of death no yes/no value)
    assert {k: {f: v for f, v in p.items() if f.startswith("deceased")} for k, p in patients.items()} == {
        str(pk): {"deceasedDateTime": clinic.dead[pk].isoformat()} if pk in clinic.dead else {}
        for pk in clinic.people}
    assert clinic.dead and len(clinic.dead) < len(clinic.people)
    # rows two hops from the patient (row → fk_encounter → clin.encounter.fk_patient) get their patient
    encounters = _resources(bag, "Encounter")
    assert {k: e["subject"]["reference"] for k, e in encounters.items()} == {
        str(e): f"Patient/{patients[str(p)]['id']}" for e, p in clinic.encounters.items()}
    # (what the patient takes, clin.substance_intake, too: its substance's name and ATC code from ref.substance;
    # the SOAP notes of clin.clin_narrative too: a table named NARRATIVE, its text the column narrative, one
    # note a row, its soap_cat carried raw beside it; was: left undecided, carried raw whole)
    for kind, table in (("AllergyIntolerance", "clin.allergy"), ("Observation", "clin.test_result"),
                        ("DocumentReference", "clin.clin_narrative"), ("MedicationStatement", "clin.substance_intake"),
                        ("Immunization", "clin.vaccination")):
        found = _resources(bag, kind, table)
        subject = "patient" if kind in ("AllergyIntolerance", "Immunization") else "subject"
        assert {k: r[subject]["reference"] for k, r in found.items()} == {
            str(pk): f"Patient/{patients[str(p)]['id']}" for (t, pk), p in clinic.reaches.items() if t == table}
    # a result's name is its clin.test_type's (fk_type), never its episode's description (fk_episode: a chart's
    # record, no dictionary; was: '에피소드 n' for every result's name)
    results = _resources(bag, "Observation", "clin.test_result")
    assert {r["code"]["text"] for r in results.values()} == {"공복혈당", "당화혈색소", "요단백"}
    # a vaccination names its vaccine (fk_vaccine: ref.vaccine), which names its product (fk_drug_product:
    # ref.drug_product, the name and ATC code): both joined in, a step further (was: no vaccine code or name found,
    # the vaccinations carried raw); its batch_no the lot number; the one of an encounter nobody has quarantined
    vaccinations = _resources(bag, "Immunization", "clin.vaccination")
    assert {k: ([c["code"] for c in v["vaccineCode"]["coding"]], v["vaccineCode"]["text"], v["lotNumber"])
            for k, v in vaccinations.items()} == {
        str(v): ([["J07BB02", "J07BC01"][v % 2]], ["인플루엔자 백신", "B형간염 백신"][v % 2], f"LOT{v:04d}")
        for v in range(1, 19) if v != clinic.dirty["orphan_vaccination"]}
    # the pages of blobs.doc_obj (bytea data beside a filename; no ATTACH/FILE/SCAN in any name) are the
    # attachments, each page's patient three hops away (fk_doc → blobs.doc_med, its fk_encounter → clin.encounter,
    # its fk_patient), its visit and its date the document's (clin_when; never the page's own audit stamp
    # modified_when); the bytes in the bag, application/pdf from the filename (was: blobs.doc_obj carried raw, no
    # DocumentReference)
    pages = _resources(bag, "DocumentReference", "blobs.doc_obj")
    assert {k: (r["subject"]["reference"], r["context"]["encounter"][0]["reference"]) for k, r in pages.items()} == {
        str(pk): (f"Patient/{patients[str(p)]['id']}", f"Encounter/{encounters[str(((pk - 1) // 2 + 1) * 5)]['id']}")
        for (t, pk), p in clinic.reaches.items() if t == "blobs.doc_obj"}
    for k, page in pages.items():
        (content,) = page["content"]
        assert content["attachment"]["contentType"] == "application/pdf"
        assert content["attachment"]["creation"] == f"2024-03-{4 + (int(k) - 1) // 2 + 1:02d}"
        stored = (bag / "data/fhir" / content["attachment"]["url"]).read_bytes()  # ../attachments/<id>.pdf
        assert stored == b"%PDF-1.4\n" + bytes(range(256)) + int(k).to_bytes(2, "big")
    # the page whose document is missing (a dead chain: fk_doc 99) is quarantined with its bytes, never lost
    dead = [json.loads(line) for path in sorted(bag.glob("data/raw/attachment.*.ndjson"))
            for line in path.read_bytes().splitlines()]
    assert [(q["row"]["pk"], q["row"]["fk_doc"], q["row"]["scaffold_patient"], q["reason"]) for q in dead] == [
        (clinic.dirty["dead_page"], 99, None, "required field 'patient_id' is empty")]
    intakes = _resources(bag, "MedicationStatement", "clin.substance_intake")
    assert {k: r["medicationCodeableConcept"]["text"] for k, r in intakes.items()} == {
        str(s): ["암로디핀", "메트포르민"][s % 2] for s in range(1, 25)}
    # the 주민등록번호 kept as a row of dem.lnk_identity2ext_id (fk_origin 1; old chart numbers beside it, fk_origin
    # 2) is the patient's identifier (was: only carried raw with the table); a masked one is no RRN: the patient
    # exported without it, the field's defect said (never the chart number of another kind)
    whole = {pk: r for pk, r in clinic.rrns.items() if not r.endswith("*")}
    assert len(whole) == 20
    rrn_system = "http://www.hl7korea.or.kr/Identifier/rrn"
    assert {k: [i["value"] for i in p["identifier"] if i["system"] == rrn_system] for k, p in patients.items()} == {
        str(pk): [whole[pk]] if pk in whole else [] for pk in clinic.people}
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert {e["entity"]: e["field_defects"] for e in report["entities"]}["patient"] == {"invalid-rrn": 10}
    # the table itself carried whole, every number as stored
    carried = [json.loads(line)["row"] for p in sorted(bag.glob("data/raw/tables/dem_lnk_identity2ext_id.*.ndjson"))
               for line in p.read_bytes().splitlines()]
    assert sorted(r["external_id"] for r in carried if r["fk_origin"] == 1) == sorted(clinic.rrns.values())
    # and no RRN, whole or masked, in any log record of the flow, in scan's output, or in any report of the bag
    # (the FHIR resources and the raw rows hold them)
    scan = _scanned(clinic, tmp_path)
    assert [(e["entity"], e["will_export"], e["will_quarantine"]) for e in scan["entities"]] == [
        ("patient", 30, 0), ("encounter", 60, 0), ("diagnosis", 5, 0), ("chart_note", 120, 0),
        ("lab_result", 48, 0), ("attachment", 16, 1), ("allergy", 12, 0), ("immunization", 17, 1), ("medication_statement", 24, 0)]
    said = caplog.text + json.dumps(scan, ensure_ascii=False)
    assert "SCAFFOLD_RRN" in (tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
    assert not any(r in said or r.replace("-", "") in said for r in clinic.rrns.values())
    for path in bag.rglob("*"):
        if path.is_file() and not {"raw", "fhir"} & set(path.relative_to(bag).parts):
            text = path.read_bytes()
            assert not any(r.encode() in text or r.replace("-", "").encode() in text for r in clinic.rrns.values()), \
                path


def test_an_empty_parent_other_tables_inherit_is_skipped_and_the_check_goes_through(
    tmp_path: Path, postgres_conn_str: str
) -> None:
    """An empty table every other table inherits (GNUmed's audit.audit_fields), skipped as empty: the check asked
    PostgreSQL whether the account may read 'ONLY audit.audit_fields' ("invalid name syntax", exit 1, nothing
    exported). It asks of the table's name now, and the parent is listed skipped, its children read apart."""
    import pyodbc

    target = _fresh_database(postgres_conn_str, "emr_gnumed_parent", "postgresql")
    conn = pyodbc.connect(target, autocommit=True)
    try:
        conn.execute("CREATE SCHEMA audit")
        conn.execute("CREATE TABLE audit.audit_fields (row_version integer NOT NULL DEFAULT 0, "
                     "modified_when timestamptz NOT NULL DEFAULT now())")
        conn.execute("CREATE TABLE pt_master (pt_no integer PRIMARY KEY, chart_no text, pt_nm text, birth_ymd text, "
                     "sex text) INHERITS (audit.audit_fields)")
        conn.cursor().executemany("INSERT INTO pt_master (pt_no, chart_no, pt_nm, birth_ymd, sex) "
                                  "VALUES (?, ?, ?, ?, ?)", _patients())
    finally:
        conn.close()
    flow = scaffolded(ServerClinic("postgresql", target, "abbreviated"), tmp_path)
    check = checked(flow)
    listed = {t["name"]: t for t in check["reconciliation"]["inventory"]}
    assert {n: (t["fate"], t["rows"], t.get("children"), t.get("inherits")) for n, t in listed.items()} == {
        "audit.audit_fields": ("skipped", 0, ["pt_master"], None),
        "pt_master": ("entities", len(_patients()), None, ["audit.audit_fields"])}
    assert check["reconciliation"]["totals"] == {"exported": 20, "quarantined": 0, "source_rows": 20}
