"""An IT contractor on an OpenMRS-like EAV clinic on MariaDB (tests/connectors/eav_clinic.py), through the CLI over
the real ODBC driver: ``scaffold`` (nothing it could load as written: a draft and the profile, and why), then the
contractor's finished connector.toml through ``connector check``, a dry run, a sealed export, ``verify`` and ``open``,
every value found again exactly (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.authoring.scaffold import profile_database
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.drivers import get_option

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from eav_clinic import EAV_CONNECTOR, VITALS, EavClinic, create_eav_clinic

from lossless_kit import check_bag_against_server, lines
from test_foreign_schemas import INSTITUTION, Flow, _run, _source_args, checked, exported, scaffolded

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def clinic(mariadb_conn_str: str) -> EavClinic:
    return create_eav_clinic(mariadb_conn_str)


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def test_the_untouched_scaffold_reads_the_name_from_person_name_and_goes_through_the_whole_flow(
        clinic: EavClinic, tmp_path: Path) -> None:
    # Before: "No table of this database looks like a patient, visit or other record table, so no connector
    # could be guessed. Write connector.toml by hand" and nothing written, not even PROFILE.md: the person's
    # name lives in person_name, so the patient had no name, and the visits no patient to point at.
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    # patient holds the patients among the persons (patient_id is a person_id; the two doctors are persons too):
    # the section reads it, the person's fields and its name from person_name joined in (patient → person →
    # person_name). Was: the section read person, and the doctors were exported as Patients.
    first = "FROM person_name N WHERE N.person_id = X.person_id ORDER BY N.preferred DESC, N.person_name_id LIMIT 1"
    # and the RRN from person_attribute, the rows of the attribute type every sampled RRN has (was: no RRN, though
    # every person has one there, as the hand-written connector reads it: OpenMRS keeps it an attribute)
    person = (f"SELECT X.*, (SELECT N.family_name {first}) AS SCAFFOLD_FAMILY_NAME, (SELECT N.given_name {first}) AS "
              "SCAFFOLD_GIVEN_NAME, (SELECT N.value FROM person_attribute N WHERE N.person_id = X.person_id AND "
              "N.person_attribute_type_id = 2 ORDER BY N.person_attribute_id LIMIT 1) AS SCAFFOLD_RRN FROM person X")
    assert (spec["entities"]["patient"]["table"], spec["entities"]["patient"]["query"]) == ("patient", (
        "SELECT S.*, P.gender AS SCAFFOLD_P_GENDER, P.birthdate AS SCAFFOLD_P_BIRTHDATE, P.dead AS SCAFFOLD_P_DEAD, "
        "P.death_date AS SCAFFOLD_P_DEATH_DATE, P.SCAFFOLD_FAMILY_NAME AS SCAFFOLD_FAMILY_NAME, P.SCAFFOLD_GIVEN_NAME "
        f"AS SCAFFOLD_GIVEN_NAME, P.SCAFFOLD_RRN AS SCAFFOLD_RRN, P.voided AS SCAFFOLD_P_VOIDED FROM patient S LEFT JOIN ({person}) P ON P.person_id = S.patient_id"))
    assert spec["entities"]["patient"]["fields"]["name"] == {
        "columns": ["SCAFFOLD_FAMILY_NAME", "SCAFFOLD_GIVEN_NAME"], "join": " ", "required": True}
    assert spec["entities"]["patient"]["fields"]["rrn"] == {"column": "SCAFFOLD_RRN", "type": "rrn"}
    # person.dead (TINYINT(1) 0/1) and person.death_date: a flag and a time (a bool | None field was guessed as
    # text, which FHIR's deceasedBoolean cannot take)
    assert {f: spec["entities"]["patient"]["fields"][f] for f in ("deceased", "death_date")} == {
        "deceased": {"column": "SCAFFOLD_P_DEAD", "type": "bool"},
        "death_date": {"column": "SCAFFOLD_P_DEATH_DATE", "type": "datetime"}}
    assert ("# GUESS (column name matches DEAD; 100 % of 32 sampled values look like Y/N, 예/아니오 or 1/0 flags (of the "
            "person, person: see query))\n") in (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    assert spec["entities"]["encounter"]["fields"]["patient_id"] == {
        "column": "patient_id", "type": "ref", "ref": "patient", "required": True}
    # orders has the patient, visit and date, and names its drug by a concept's id (concept_id): the concept's code
    # (concept.short_code) and name (concept_name, the preferred first) are joined in. Was: commented out, no drug
    # name (before that: mapped, 31 of 33 rows unmappable)
    order_line = spec["entities"]["order_line"]
    assert (order_line["table"], order_line["fields"]["local_code"], order_line["fields"]["name"]) == (
        "orders", {"column": "SCAFFOLD_LOCAL_CODE"}, {"column": "SCAFFOLD_NAME"})
    assert order_line["query"].startswith("SELECT X.*, (SELECT LK_D.short_code FROM concept LK_D WHERE "
                                          "LK_D.concept_id = X.concept_id) AS SCAFFOLD_LOCAL_CODE, ")
    # the staff's accounts with their password hashes are skipped (were "not recognised", so carried into the
    # archive unless the contractor thought of it); the settings and the tables of kinds are carried as they are
    # (what the codes of other tables mean), each with its reason
    assert spec["skip"] == {
        "users": "the program's user accounts and their passwords (hashes); no patient data (a doctor's name kept "
                 "here is mapped as a practitioner by a section)"}
    assert sorted(spec["carry"]) == ["encounter_type", "global_property", "patient_identifier_type",
                                     "person_attribute_type", "visit_type"]
    assert spec["carry"]["global_property"] == "program settings; no patient records"
    check = checked(flow)
    assert {(s["entity"], s["table"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {
        # the person with no given name quarantined; the two doctors are no patients (rows of person, carried raw)
        ("patient", "patient", clinic.persons - 2, clinic.persons - 3, 1),
        ("encounter", "encounter", clinic.rows["encounter"], clinic.rows["encounter"] - 2, 2),  # its visits
        ("order_line", "orders", 33, 31, 2),  # the 2 orders of the nameless person's visits: orphans
        # the allergen is a concept's id (coded_allergen): its name joined in, else the text written beside it
        # (non_coded_allergen: the one given only as text was quarantined for want of a substance)
        ("allergy", "allergy", 3, 3, 0),
        # obs, one row per value of a concept (EAV): one vital-signs section per concept concept_name names as a
        # vital sign, its value_numeric that vital's field (was: obs carried raw whole, no Observation). The patient
        # is the obs's own person_id (its values are patient.patient_id, the person's id), the visit where it has
        # one: the weight entered outside any encounter is exported (was: the visit's patient, so no patient,
        # required-missing); the obs of person 9999 is an orphan; the temperature with no value (NULL) is exported,
        # its Observation saying the value is absent (was: unmappable, quarantined though it broke no rule); the
        # voided weight is exported; the nameless person's 2 visits make 2 orphans per concept
        *((f"vital_obs_{kind}", "obs", clinic.vital_obs[concept] + extra, clinic.vital_obs[concept] - 2 + kept,
           2 + extra - kept) for kind, concept, extra, kept in (
            ("systolic", 5085, 0, 0), ("diastolic", 5086, 0, 0), ("pulse", 5087, 1, 0), ("temperature", 5088, 1, 1),
            ("weight", 5089, 1, 1), ("height", 5090, 0, 0))),
    }
    # the rows of every other concept (diagnoses, notes, lab values, the vital-signs group, the onset date): no
    # record made, each carried whole with its reason (was: 234 quarantined, 226 unmappable and 8 orphans); the
    # sections split obs exactly
    assert check["carried_sections"] == [{"section": "vital_obs_other", "table": "obs", "rows": 234, "reason": (
        "a measurement of a type that is no vital sign and no lab test: kept as recorded")}]
    assert spec["entities"]["vital_obs_other"]["carry"] == check["carried_sections"][0]["reason"]
    assert "fields" not in spec["entities"]["vital_obs_other"]
    assert sum(clinic.vital_obs.values()) + 3 + 234 == clinic.rows["obs"]
    assert {(d["section"], d["field"], d["reason_code"], d["rows"]) for d in check["defects"]} == {
        ("patient", "name", "incomplete-value", 1)}
    assert spec["entities"]["vital_obs_weight"]["query"] == "SELECT X.* FROM obs X WHERE X.concept_id IN (5089)"
    weight = spec["entities"]["vital_obs_weight"]
    assert (weight["entity"], weight["fields"]["weight"], weight["fields"]["patient_id"],
            weight["fields"]["encounter_id"]) == (
        "vital_signs", {"column": "value_numeric", "type": "decimal"},
        {"column": "person_id", "type": "ref", "ref": "patient", "required": True},
        {"column": "encounter_id", "type": "ref", "ref": "encounter"})
    assert spec["entities"]["vital_obs_other"]["query"].endswith(
        " WHERE (X.concept_id NOT IN (5085, 5086, 5087, 5088, 5089, 5090) OR X.concept_id IS NULL)")
    allergy = spec["entities"]["allergy"]
    assert (allergy["fields"]["substance"], allergy["fields"]["substance_code"]) == (
        {"column": "SCAFFOLD_SUBSTANCE", "required": True}, {"column": "SCAFFOLD_SUBSTANCE_CODE"})
    assert ", X.non_coded_allergen) AS SCAFFOLD_SUBSTANCE" in allergy["query"]
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"]
    patients = {p["identifier"][0]["value"]: p for p in _resources(bag, "Patient")}
    assert (patients["1"]["name"], patients["2"]["name"], len(patients)) == (
        [{"text": "이 서연"}], [{"text": "박 도윤"}], clinic.persons - 3)
    # the allergy given only as text (non_coded_allergen, no concept): an AllergyIntolerance with that text and no
    # coding (no code is made from the text); the cell itself carried raw beside the record, as every cell found again
    allergies = {a["identifier"][0]["value"]: a for a in _resources(bag, "AllergyIntolerance")}
    assert {k: a["code"] for k, a in allergies.items()} == {
        "1": {"text": "Penicillin"}, "2": {"text": "갑각류"}, "3": {"text": "Penicillin"}}
    sidecar = {line["id"]: line["columns"] for line in lines(bag, "raw/columns/allergy")}
    assert sidecar[allergies["2"]["id"]]["non_coded_allergen"] == "갑각류"
    assert clinic.odbc is not None
    rebuilt = check_bag_against_server(bag, flow.connectors / "foreign", clinic.odbc)
    assert rebuilt.rows["allergy"] == 3
    # the temperature obs with no value (NULL): its Observation, no value and the reason it is absent unknown (NULL
    # says nothing of why); its cells rebuilt above like every other (was: quarantined unmappable)
    assert [(o["identifier"][0]["value"], o["id"].rsplit("-", 1)[1], o["dataAbsentReason"], "valueQuantity" in o)
            for o in _resources(bag, "Observation") if "dataAbsentReason" in o] == [
        (str(clinic.dirty["null-value-obs"]), "temp", {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "unknown",
            "display": "Unknown"}]}, False)]
    # each vital obs of a patient's visit, as the DOUBLE held it, in an Observation of its own kind
    found: dict[str, tuple[str, Decimal]] = {}
    for obs in _resources(bag, "Observation"):
        for part in [obs, *obs.get("component", [])]:
            if "valueQuantity" in part:
                found[obs["identifier"][0]["value"]] = (part["code"]["coding"][0]["code"],
                                                        Decimal(str(part["valueQuantity"]["value"])))
    assert len(found) == sum(clinic.vital_obs.values()) - 12 + 1  # 2 orphans per concept; the voided weight
    assert all(found[str(k)][1] == Decimal(v) for k, v in clinic.numeric.items() if str(k) in found)
    assert {code for code, _ in found.values()} == {"8480-6", "8462-4", "8867-4", "8310-5", "29463-7", "8302-2"}
    # the weight entered outside any encounter: the patient's own Observation, no encounter named
    [alone] = [o for o in _resources(bag, "Observation")
               if o["identifier"][0]["value"] == str(clinic.dirty["no-encounter-obs"])]
    assert ("encounter" in alone, alone["subject"], alone["valueQuantity"]["value"]) == (
        False, {"reference": f"Patient/{patients['5']['id']}"}, 61.5)
    # a row of a concept no section names is carried whole with its reason, never an Observation, not quarantined
    kept = [line for line in lines(bag, "raw/sections/vital_obs_other")]
    assert len(kept) == 234 and not list(bag.glob("data/raw/vital_obs_other.*"))
    assert sealed["reconciliation"]["carried_sections"] == [{  # every column of obs
        "section": "vital_obs_other", "table": "obs", "source_rows": 234, "carried": 234, "columns": 15,
        "cells": {"source": 234 * 15, "carried_raw": 234 * 15}, "read": "keyset on obs_id",
        "reason": check["carried_sections"][0]["reason"], "files": "data/raw/sections/vital_obs_other.*.ndjson",
        "balanced": True}]
    assert (patients["1"]["deceasedBoolean"], patients["11"]["deceasedDateTime"]) == (False, "2024-05-01T14:30:00+09:00")


def test_a_degree_sign_in_a_utf8mb4_column_is_not_taken_for_cp949_read_as_latin1(clinic: EavClinic) -> None:
    # Before: concept.units ('°C', 'mg/dL' … in a utf8mb4 table) was flagged cp949-read-as-latin1: '°C' is the
    # bytes B0 43 in latin1, which CP949 reads as the syllable '캜'. A section reading it would have been given
    # CAST(units AS BINARY) and [source] encoding = "cp949" for the whole connector.
    assert clinic.odbc is not None
    address = SourceAddress(odbc=clinic.odbc, password=get_option(clinic.odbc, "PWD"))
    source = address.open()
    try:
        profile = profile_database(source)
    finally:
        source.close()
    assert profile.cp949_as_latin1 == []
    [units] = [c for t in profile.tables if t.name == "concept" for c in t.columns if c.name == "units"]
    assert (units.utf8_text, units.cp949_as_latin1) == (1, 0)


def test_the_contractors_finished_connector_exports_every_obs_exactly(clinic: EavClinic, tmp_path: Path) -> None:
    source, env = _source_args(clinic)
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    flow = Flow(source, {**env, "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}, keys,
                tmp_path / "connectors")
    (flow.connectors / "foreign").mkdir(parents=True)
    (flow.connectors / "foreign" / "connector.toml").write_text(EAV_CONNECTOR, encoding="utf-8")
    # No [institution]: the clinic's code is nowhere in an OpenMRS database. Before, the check said only "(give
    # them on export)" and exited 4 (not finished) however the connector was finished.
    check = checked(flow)
    assert (check["ok"], check["unmapped_tables"], check["lint"]) == (False, [], [
        "the clinic's code and name are not found by [institution]: give --institution-code and "
        "--institution-name (to this check and to the export), or an [institution] query"])
    check = json.loads(_run(["connector", "check", str(flow.connectors / "foreign"), *flow.source,
                             "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--json"],
                            flow.env, 0).output)
    assert check["ok"] and check["lint"] == []
    # the numeric obs with no value (NULL): exported, its Observation with dataAbsentReason unknown (was
    # "vital_temp.measurements: unmappable 1", before that "vital_temp.(row) (): unmappable 1")
    assert {(d["section"], d["field"], d["column"], d["reason_code"], d["rows"]) for d in check["defects"]} == {
        ("patient", "name", "family_name+given_name", "incomplete-value", 1)}
    text = _run(["connector", "check", str(flow.connectors / "foreign"), *flow.source,
                 "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1]], flow.env, 0).output
    assert "unmappable" not in text and "\n  patient.name (family_name+given_name): incomplete-value 1\n" in text
    sections = {s["entity"]: (s["source_rows"], s["exported"], s["quarantined"])
                for s in check["reconciliation"]["entities"]}
    # obs: 664 rows split exactly by the sections' concept filters
    assert sum(sections[s][0] for s in ("diagnosis", "chart_note", "lab_result", "vital_bp_sys", "vital_bp_dia",
                                        "vital_pulse", "vital_temp", "vital_weight", "vital_height")) \
        == clinic.rows["obs"] == 664
    # the patient without a given name is the one quarantined; its visits and obs are orphans
    assert sections["patient"] == (30, 29, 1)
    # the same connector with the types of the date, time, flag and number fields left out (the docs' shorthand
    # `field = "column"`): before, "an unexpected problem (AttributeError) stopped emr-exporter at fhir.py … in
    # fhir_date"; now each field reads the kind of value its record holds
    untyped = re.sub(r', type = "(date|datetime|bool|decimal|int)"', "", EAV_CONNECTOR)
    assert untyped.count('type = "') == EAV_CONNECTOR.count('type = "') - 25
    (flow.connectors / "untyped").mkdir()
    (flow.connectors / "untyped" / "connector.toml").write_text(untyped.replace('name = "foreign"', 'name = "untyped"'),
                                                                encoding="utf-8")
    again = json.loads(_run(["connector", "check", str(flow.connectors / "untyped"), *flow.source,
                             "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--json"],
                            flow.env, 0).output)
    assert again["reconciliation"]["totals"] == check["reconciliation"]["totals"]
    (flow.connectors / "untyped" / "connector.toml").unlink()
    (flow.connectors / "untyped").rmdir()
    # scan: the tables the patient's sub-queries read are not "no entity reads it" (the contractor would think
    # the joins did not work), and are carried as well
    scan = _run(["scan", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source],
                flow.env, 0).output
    assert "\nTable person: read only through a join of patient; 32 rows will be carried raw as well.\n" in scan
    assert "\nTable person_name: read only through a join of patient, practitioner; 32 rows will be carried raw " \
           "as well.\n" in scan
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"] and outcome["field_defects"] == {"invalid-date": 1}
    # every vital measurement, as the DOUBLE held it (no binary-float digits), in its own Observation
    found: dict[str, Decimal] = {}
    for obs in _resources(bag, "Observation"):
        for part in [obs, *obs.get("component", [])]:
            if "valueQuantity" in part:
                found[obs["identifier"][0]["value"]] = Decimal(str(part["valueQuantity"]["value"]))
    vitals = {k: v for k, v in clinic.numeric.items() if str(k) in found}
    assert len(vitals) == sum(clinic.vital_obs[c] for c in VITALS) - 12  # 2 orphans per concept
    assert all(found[str(k)] == Decimal(v) for k, v in vitals.items())
    patients = {p["identifier"][0]["value"]: p for p in _resources(bag, "Patient")}
    assert patients["00000001"]["name"] == [{"text": "이서연"}]
    assert patients["00000007"]["_birthDate"]["extension"][0]["valueCode"] == "error"  # 2023-02-30
    assert "birthDate" not in patients["00000007"]
    # voided (a duplicate registration) and dead: patient.voided, person.dead and person.death_date (TINYINT(1)
    # flags and a DATETIME); before, a Patient had no field for them (only the raw sidecar kept them)
    assert {k: (p.get("active"), p.get("deceasedBoolean"), p.get("deceasedDateTime")) for k, p in patients.items()
            if k in ("00000001", "00000011", "00000017")} == {
        "00000001": (True, False, None), "00000011": (True, None, "2024-05-01T14:30:00+09:00"),
        "00000017": (False, False, None)}
    # DATETIME wall-clock times of the clinic, written +09:00, exactly as inserted
    starts = {e["identifier"][0]["value"]: e["period"]["start"] for e in _resources(bag, "Encounter")}
    assert {k: starts[str(k)] for k in clinic.starts if str(k) in starts} == {
        k: v.isoformat() + "+09:00" for k, v in clinic.starts.items() if str(k) in starts}
    assert len(starts) == clinic.rows["encounter"] - 2  # the two visits of the patient with no given name
