"""An IT contractor on a clinic whose EMR was ported from SQL Server / Access into PostgreSQL and into MariaDB
(tests/connectors/migrated_clinic.py: CamelCase and Hungarian names, a schema dbo on PostgreSQL, two
generations of patient tables, uniqueidentifier keys, MM/DD/YYYY and DD-MON-YY text dates, a local and a UTC
visit time), through the CLI over the real ODBC drivers: ``scaffold``, ``connector check``, a dry run, a sealed
export, ``verify`` and ``open``, then every row of every table rebuilt from the opened bag (``db``: fails,
never skips, when a server is down).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from migrated_clinic import MigratedClinic, create_migrated_clinic

from emr_exporter.connectors.spec import load_spec
from emr_exporter.sources.address import SourceAddress
from lossless_kit import check_bag_against_source
from test_foreign_schemas import checked, exported, scaffolded

pytestmark = pytest.mark.db

ENGINES = {"postgresql": "postgres_conn_str", "mariadb": "mariadb_conn_str"}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def clinic(request: pytest.FixtureRequest) -> MigratedClinic:
    return create_migrated_clinic(request.param, request.getfixturevalue(ENGINES[request.param]))


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _by_source_key(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["value"]: r for r in resources for i in r["identifier"] if i["system"].startswith("urn:emr-exporter:source")}


def test_a_clinic_ported_from_sql_server_goes_through_the_whole_flow(clinic: MigratedClinic, tmp_path: Path) -> None:
    # Before, on PostgreSQL: `scaffold` exit 1, "A query on the clinic database failed: [42P01] ERROR: relation
    # "PATIENT_NEW" does not exist" (the schema dbo was taken for SQL Server's default schema and left out of
    # every name). On MariaDB: only the patient guessed (tblVisit, tblDiagnosis and tblPayment "not recognised":
    # no hint knows tbl…/dtVisit/DxCode), the patient's name the family name alone (FamilyName), no birth date.
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    dbo = "dbo." if clinic.engine == "postgresql" else ""
    entities = spec["entities"]
    assert {name: e["table"] for name, e in entities.items()} == {
        "patient": f"{dbo}PATIENT_NEW", "encounter": f"{dbo}tblVisit", "diagnosis": f"{dbo}tblDiagnosis",
        "receipt": f"{dbo}tblPayment"}
    patient, encounter = entities["patient"]["fields"], entities["encounter"]["fields"]
    # the whole name, not its family part; the local visit time, not the UTC one beside it
    assert (patient["name"], patient["birth_date"], encounter["start"]) == (
        {"column": "FullName", "required": True}, {"column": "dtBirth", "type": "date"},
        {"column": "dtVisit", "type": "datetime", "required": True})
    assert entities["receipt"]["fields"]["issued"] == {"column": "dtPaid", "type": "date", "required": True}
    # MariaDB: the visits' GUIDs in upper case, the patients' in lower case. Before, no reference was guessed
    # (the SQL join ignores case, the export's record ids do not) and the visits, diagnoses and payments were
    # left commented out; now the reference is read in the patients' case
    assert encounter["patient_id"] == (
        {"expr": {"mariadb": "LOWER(PatientGUID)"}, "type": "ref", "ref": "patient", "required": True}
        if clinic.upper_guids else {"column": "PatientGUID", "type": "ref", "ref": "patient", "required": True})
    assert (spec["source"]["date_formats"], spec["source"]["datetime_formats"]) == (
        ["%Y-%m-%d", "%m/%d/%Y", "%d-%b-%y"], ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"])
    # Access's yes/no (-1 yes, 0 no): was not guessed (the bool transform read 1/0, and -1 was no flag); the bool
    # transform now reads Access's -1 as yes itself, so no map is needed
    assert patient["active"] == {"column": "bIsActive", "type": "bool"}
    assert spec["skip"] == {
        f"{dbo}sysdiagrams": "SQL Server's database diagrams (drawings of the tables); no patient data",
        f"{dbo}tblUser": "the program's user accounts and their passwords (hashes); no patient data (a doctor's "
                         "name kept here is mapped as a practitioner by a section)"}
    check = checked(flow)
    assert sorted(t["table"] for t in check["unmapped_tables"]) == [f"{dbo}PatientMap", f"{dbo}tblPatient"]
    # tblVisitOld: an earlier generation, carried with why (was 'not recognised')
    assert [t["table"] for t in check["carried_tables"]] == [f"{dbo}tblVisitOld"]
    # the columns no field maps, named on both engines (on PostgreSQL "none": the scaffold's query renaming each
    # "FamilyName" AS familyname was taken for a use of every column)
    assert [(c["table"], c["column"], c["cells"]) for c in check["unmapped_columns"]] == [
        (f"{dbo}{t}", c, n) for t, c, n in (
            ("PATIENT_NEW", "FamilyName", 29), ("PATIENT_NEW", "GivenName", 29), ("PATIENT_NEW", "bDeleted", 30), ("PATIENT_NEW", "nvcMemo", 8), ("PATIENT_NEW", "dtCreated", 30),
            ("PATIENT_NEW", "sdtModified", 30), ("tblDiagnosis", "dtDx", 90), ("tblPayment", "mnAmount", 60),
            ("tblPayment", "PayType", 60), ("tblVisit", "dtVisitUTC", 90), ("tblVisit", "mnFee", 90))]
    # the visits' soft-delete flag is their status (was an unmapped column: a deleted visit exported as finished)
    assert entities["encounter"]["fields"]["status"]["column"] == "bDeleted"
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {
        ("patient", 30, 30, 0), ("encounter", 90, 88, 2), ("diagnosis", 90, 88, 2), ("receipt", 60, 58, 2)}
    # (diagnosis was 87, 3: the one without a code, 5040, has its name, and is now a Condition of that text alone;
    # the two of the quarantined visits remain orphans)
    dry, sealed, bag = exported(flow, tmp_path)
    assert dry["reconciliation"]["balanced"] and sealed["reconciliation"]["balanced"]
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # less the skipped tables, with the visit's date and patient the diagnosis query joins in, the payment's patient
    assert reconciliation["cells"]["source"] == clinic.cells - 5 * 1 - 4 * 2 + 2 * 90 + 60
    patients = _by_source_key(_resources(bag, "Patient"))
    new = dict(zip([r[0] for r in clinic.inserted["PATIENT_NEW"]], clinic.inserted["PATIENT_NEW"], strict=True))
    # every patient (the one with only a full name, the soft-deleted ones too), named as the EMR shows them
    assert {uid: p["name"] for uid, p in patients.items()} == {uid: [{"text": r[4]}] for uid, r in new.items()}
    assert {uid: p["birthDate"] for uid, p in patients.items()} == {uid: r[5].isoformat() for uid, r in new.items()}
    assert {uid: p["active"] for uid, p in patients.items()} == {uid: r[7] == -1 for uid, r in new.items()}
    assert sorted(p["active"] for p in patients.values()) == [False] * 3 + [True] * 27
    encounters = _by_source_key(_resources(bag, "Encounter"))
    visits = {str(r[0]): r for r in clinic.inserted["tblVisit"]}
    assert len(encounters) == 88 and clinic.dirty["orphan_visit"] not in encounters
    for key, resource in encounters.items():  # the local time, in Korean time (the UTC column is 9 hours off)
        assert resource["period"]["start"] == visits[key][3].isoformat() + "+09:00", key
        # the visits the EMR deleted (bDeleted) say so; before, every visit was 'finished'
        assert resource["status"] == ("entered-in-error" if visits[key][6] else "finished"), key
    assert sum(r["status"] == "entered-in-error" for r in encounters.values()) == 2
    receipts = _by_source_key(_resources(bag, "Invoice"))
    assert len(receipts) == 58
    # every row of every table read or carried comes back exactly from the opened bag (FHIR + raw sidecars)
    source = SourceAddress(odbc=clinic.odbc).open()
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert dict(rebuilt.rows) == {name: n for name, n in clinic.rows.items()
                                  if not name.endswith(("sysdiagrams", "tbluser"))}


def test_datetime2_text_with_seven_fraction_digits_is_read_and_kept_exactly(clinic: MigratedClinic,
                                                                             tmp_path: Path) -> None:
    # Before: '2023-07-01 09:00:00.0000000' (SQL Server's datetime2, 100 ns, ported as text) fitted no date
    # format (strptime's %f reads at most 6 digits): a field on it was invalid-date on every row, and the scaffold
    # saw no date in it.
    flow = scaffolded(clinic, tmp_path)
    toml = flow.connectors / "foreign" / "connector.toml"
    text = toml.read_text(encoding="utf-8")
    guessed = 'recorded = { column = "SCAFFOLD_SVC_DATE", type = "datetime" }'
    assert guessed in text
    toml.write_text(text.replace(guessed, 'recorded = { column = "dtDx", type = "datetime" }'), encoding="utf-8")
    checked(flow)
    dry, sealed, bag = exported(flow, tmp_path)
    assert dry["reconciliation"]["field_defects"] == sealed["reconciliation"]["field_defects"] == {}
    conditions = _by_source_key(_resources(bag, "Condition"))
    assert len(conditions) == 88  # with the diagnosis given only by its name (was quarantined for its code)
    assert conditions[clinic.dirty["codeless_dx"]]["code"] == {"text": "상세불명의 위염"}
    written = {str(r[0]): r[4] for r in clinic.inserted["tblDiagnosis"]}
    assert {key: c["recordedDate"] for key, c in conditions.items()} == {key: written[key][:10] for key in conditions}
    # the time and its 7 digits are in the raw sidecar ('transformed'): every row rebuilt exactly
    source = SourceAddress(odbc=clinic.odbc).open()
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert rebuilt.rows[f"{'dbo.' if clinic.engine == 'postgresql' else ''}tbldiagnosis"] == 90
