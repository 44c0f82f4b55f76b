"""The export checks its own output (issue 13, "Nothing left behind" §6): every resource passes the very
checks `open` runs (pipeline/check.py: id, strings and codes, structure, unique ids, references that
resolve) before it enters the bag; a resource that fails quarantines its row with a reason naming the
entity and the masked key, and the sealed bundle always opens.

The clinic is unlike the demo: one person table (SARAM) holds patients and doctors, read by two filtered
sections; a visit section is read twice; a note table's key column has no type (a database converted from
Access: 7 and '7' are two keys to the database and one text); media types as the EMR recorded them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from emr_exporter import model
from emr_exporter.cli import main
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.jobs.service import ExportOutcome, ExportRequest, run_export
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.check import IdIndex, ResourceCheck, id_digest
from emr_exporter.sources.address import SourceAddress
from lossless_kit import lines

CONNECTOR = r'''
[connector]
name = "jinryo"
version = "1.0.0"
product = "Jinryo-style EMR (synthetic test schema: one person table for patients and doctors)"
engines = ["sqlite"]

[detect]
tables = ["SARAM", "NAEWON"]

[source]
encoding = "utf-8"
date_formats = ["%Y%m%d"]
datetime_formats = ["%Y%m%d%H%M"]
timezone = "Asia/Seoul"

[institution]
query = "SELECT '12345678' AS code, '진료의원' AS name"

[entities.practitioner]
table = "SARAM"
key = "SARAM_ID"
query = "SELECT * FROM SARAM WHERE GUBUN = 'D'"

[entities.practitioner.fields]
name = { column = "IREUM", required = true }

[entities.patient]
table = "SARAM"
key = "SARAM_ID"
query = "SELECT * FROM SARAM WHERE GUBUN = 'P'"

[entities.patient.fields]
chart_number = { column = "CHART", required = true }
name = { column = "IREUM", required = true }

[entities.encounter]
table = "NAEWON"
key = "NAEWON_NO"

[entities.encounter.fields]
patient_id = { column = "SARAM_ID", type = "ref", ref = "patient", required = true }
practitioner_id = { column = "UISA_ID", type = "ref", ref = "practitioner" }
start = { column = "NAEWON_DT", type = "datetime", required = true }

# The night-clinic screen reads some visits again, as visits of their own (ids told apart by the section).
[entities.night_visit]
entity = "encounter"
table = "NAEWON"
key = "NAEWON_NO"
query = "SELECT * FROM NAEWON WHERE YAGAN = 'Y'"

[entities.night_visit.fields]
patient_id = { column = "SARAM_ID", type = "ref", ref = "patient", required = true }
start = { column = "NAEWON_DT", type = "datetime", required = true }

[entities.diagnosis]
table = "SANGBYEONG"
key = "SB_NO"
query = "SELECT S.*, N.SARAM_ID AS PT_ID FROM SANGBYEONG S LEFT JOIN NAEWON N ON N.NAEWON_NO = S.NAEWON_NO"

[entities.diagnosis.fields]
encounter_id = { column = "NAEWON_NO", type = "ref", ref = "encounter", required = true }
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
code = { column = "KCD", required = true }
text = "SB_NM"

[entities.memo]
entity = "chart_note"
table = "MEMO"
key = "MEMO_ID"

[entities.memo.fields]
patient_id = { column = "SARAM_ID", type = "ref", ref = "patient", required = true }
recorded = { column = "MEMO_DT", type = "datetime", required = true }
text = "MEMO_TXT"

[entities.attachment]
table = "CHEOMBU"
key = "CB_NO"

[entities.attachment.fields]
patient_id = { column = "SARAM_ID", type = "ref", ref = "patient", required = true }
created = { column = "CB_DT", type = "date", required = true }
media_type = { column = "MIME", required = true }
content_blob = { column = "DATA", type = "blob" }
'''

PEOPLE = [
    ("D01", "D", "이의사", None),
    ("P01", "P", "김환자", "C001"),
    ("P02", "P", "박환자", "C002"),
    ("", "P", "빈키", "C003"),  # an empty key
    ("P05", "P", "정환자", "C005"), ("P05 ", "P", "정환자", "C105"),  # told apart only by a trailing space
    ("p06", "P", "소문자", "C006"), ("P06", "P", "대문자", "C106"),  # told apart only by case
    ("P07", "P", "제어\x07문자", "C\x1b007"),  # control characters in the name and the chart number
]
VISITS = [
    (1, "P01", "D01", "202401021000", "N"),
    (2, "P02", "D01", "202401031000", "Y"),
    (3, "D01", "D01", "202401041000", "N"),  # the doctor's person row as the patient: found by the join only
    (4, "p06", None, "202401051000", "N"),
    (5, "P06", None, "202401061000", "N"),
    (6, "", None, "202401071000", "N"),
    (7, "P05", None, "202401081000", "N"),
]
DIAGNOSES = [(1, 1, "J00", "감기"), (2, 2, "K29.7", "위염"), (3, 3, "K29.7", "위염"), (4, 4, "I10", "고혈\x00압")]
MEMOS = [(7, "P01", "202401021000", "메모"), ("7", "P02", "202401031000", "메모"), (8, "P01", "202401041000", "메모")]
ATTACHMENTS = [(1, "P01", "20240102", "image/png", b"\x89PNG"), (2, "P02", "20240103", " image/png", b"x"),
               (3, "P02", "20240103", "text/plain; charset=utf-8", b"y")]


def create_jinryo_clinic(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE SARAM (SARAM_ID TEXT PRIMARY KEY, GUBUN TEXT, IREUM TEXT, CHART TEXT);
        CREATE TABLE NAEWON (NAEWON_NO INTEGER PRIMARY KEY, SARAM_ID TEXT, UISA_ID TEXT, NAEWON_DT TEXT, YAGAN TEXT);
        CREATE TABLE SANGBYEONG (SB_NO INTEGER PRIMARY KEY, NAEWON_NO INTEGER, KCD TEXT, SB_NM TEXT);
        CREATE TABLE MEMO (MEMO_ID PRIMARY KEY, SARAM_ID TEXT, MEMO_DT TEXT, MEMO_TXT TEXT);
        CREATE TABLE CHEOMBU (CB_NO INTEGER PRIMARY KEY, SARAM_ID TEXT, CB_DT TEXT, MIME TEXT, DATA BLOB);
    """)
    conn.executemany("INSERT INTO SARAM VALUES (?, ?, ?, ?)", PEOPLE)
    conn.executemany("INSERT INTO NAEWON VALUES (?, ?, ?, ?, ?)", VISITS)
    conn.executemany("INSERT INTO SANGBYEONG VALUES (?, ?, ?, ?)", DIAGNOSES)
    conn.executemany("INSERT INTO MEMO VALUES (?, ?, ?, ?)", MEMOS)
    conn.executemany("INSERT INTO CHEOMBU VALUES (?, ?, ?, ?, ?)", ATTACHMENTS)
    conn.commit()
    conn.close()


def export_and_open(tmp_path: Path, *, validate_structure: bool = False) -> tuple[ExportOutcome, Path]:
    """Seal the jinryo clinic's export, open it with every check `open` has (FHIR structure required)."""
    database = tmp_path / "jinryo.sqlite"
    create_jinryo_clinic(database)
    connectors = tmp_path / "connectors"
    (connectors / "jinryo").mkdir(parents=True)
    (connectors / "jinryo" / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    keys = make_demo_keys(tmp_path / "keys", institution_code="12345678", institution_name="진료의원")
    outcome = run_export(ExportRequest(
        connector="jinryo", source=SourceAddress(database=database), connectors_dirs=(connectors,),
        out_dir=tmp_path / "out", signer_path=keys.institution_p12, signer_password=keys.institution_password,
        recipient_cert=keys.store_cert, validate_structure=validate_structure,
    ))
    opened = CliRunner().invoke(main, ["open", str(outcome.bundle_path), "--key", str(keys.store_key),
                                       "--out", str(tmp_path / "opened"), "--json", "--require-fhir-validation"])
    assert opened.exit_code == 0, opened.output  # (b) the sealed bundle opens, every check of `open` passed
    assert json.loads(opened.output)["fhir"]["structure_validated"] is True
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    return outcome, bag


def quarantined(bag: Path, entity: str) -> dict[str, tuple[str, str]]:
    """Source key → (reason code, reason) of the quarantined rows of ``entity`` in the opened bag."""
    return {q["key"]: (q["reason_code"], q["reason"]) for q in lines(bag, f"raw/{entity}")}


def resources(bag: Path, resource_type: str) -> list[dict[str, Any]]:
    return list(lines(bag, f"fhir/{resource_type}"))


def rid(table: str, key: str) -> str:
    return model.record_id("jinryo", table, key)


@pytest.fixture(scope="module")
def jinryo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExportOutcome, Path]:
    return export_and_open(tmp_path_factory.mktemp("jinryo"))


def test_each_planted_defect_is_a_quarantine_with_its_exact_reason(jinryo) -> None:  # type: ignore[no-untyped-def]
    outcome, bag = jinryo
    # Dangling reference: visit 3 names the doctor's person row as its patient. The mapper's join finds the
    # row in SARAM; the output check finds no Patient of that id in the bag: an orphan, as when a parent
    # is quarantined (and the visit's diagnosis follows it, as the mapper's orphans do).
    assert quarantined(bag, "encounter") == {
        "3": ("orphan", "the Encounter built from encounter row 3 refers to a Patient that is not in the bag "
                        "(subject.reference)"),
        "6": ("required-missing", "required field 'patient_id' is empty"),  # the empty key, referred to
    }
    assert quarantined(bag, "diagnosis") == {
        "3": ("orphan", "field 'encounter_id' refers to an encounter that was quarantined")}
    # Duplicate id: memo keys 7 and '7' are two rows to the database and one key text, so one record id.
    assert quarantined(bag, "memo") == {
        "7": ("duplicate-id", "the DocumentReference built from memo row 7 has the id of a DocumentReference "
                              "already in the bag (FHIR ids must be unique)")}
    kept_memo = [q["row"] for q in lines(bag, "raw/memo")]
    assert kept_memo == [{"memo_dt": "202401031000", "memo_id": "7", "memo_txt": "메모", "saram_id": "P02"}]
    # Pattern violation: a media type recorded with a leading space breaks FHIR's code pattern.
    assert quarantined(bag, "attachment") == {
        "2": ("invalid-output", "the DocumentReference built from attachment row 2 breaks FHIR's rules: a code "
                                "has leading, trailing or repeated spaces (FHIR's code pattern)")}
    # Padded key: 'P05 ' and 'P05' are one key once trimmed (what references and ids use).
    assert quarantined(bag, "patient") == {
        "P05": ("ambiguous-key", "the key of this patient row differs from another row's key only by spaces; "
                                 "references to it cannot be told apart")}
    assert {e.entity: dict(e.reasons) for e in outcome.reconciliation.entities} == {
        "practitioner": {}, "patient": {"ambiguous-key": 1}, "encounter": {"orphan": 1, "required-missing": 1},
        "night_visit": {}, "diagnosis": {"orphan": 1}, "memo": {"duplicate-id": 1}, "attachment": {"invalid-output": 1},
    }


def test_keys_and_texts_the_store_accepts(jinryo) -> None:  # type: ignore[no-untyped-def]
    _, bag = jinryo
    patients = {p["id"]: p for p in resources(bag, "Patient")}
    # The empty key and both case variants are patients of their own, with ids that never collide.
    for key in ("", "p06", "P06", "P05", "P01"):
        assert rid("SARAM", key) in patients, repr(key)
    assert len({rid("SARAM", key) for key in ("", "p06", "P06", "P05", "P01")}) == 5
    # The padded twin is the one quarantined, kept with its exact key.
    [padded] = list(lines(bag, "raw/patient"))
    assert padded["row"]["saram_id"] == "P05 " and padded["row"]["chart"] == "C105"
    encounters = {e["id"]: e for e in resources(bag, "Encounter")}
    assert encounters[rid("NAEWON", "4")]["subject"]["reference"] == f"Patient/{rid('SARAM', 'p06')}"
    assert encounters[rid("NAEWON", "5")]["subject"]["reference"] == f"Patient/{rid('SARAM', 'P06')}"
    # Control characters: shown as control pictures, the exact value carried raw (field defects).
    [p07] = [p for p in patients.values() if p["id"] == rid("SARAM", "P07")]
    assert p07["name"][0]["text"] == "제어␇문자"
    [condition] = [c for c in resources(bag, "Condition") if c["id"] == rid("SANGBYEONG", "4")]
    assert condition["code"]["text"] == "고혈␀압"
    carried = {c["key"]: c for c in lines(bag, "raw/columns/patient")}
    assert carried["P07"]["columns"]["ireum"] == "제어\x07문자"


def test_counts_reconcile_and_every_id_and_reference_holds(jinryo) -> None:  # type: ignore[no-untyped-def]
    outcome, bag = jinryo
    rec = outcome.reconciliation
    assert rec.balanced
    rows = {e.entity: (e.source_rows, e.exported, e.quarantined) for e in rec.entities}
    assert rows == {"practitioner": (1, 1, 0), "patient": (8, 7, 1), "encounter": (7, 5, 2), "night_visit": (1, 1, 0),
                    "diagnosis": (4, 3, 1), "memo": (3, 2, 1), "attachment": (3, 2, 1)}
    # The bag's own reconciliation says the same, and the field defects are counted (3 control characters).
    in_bag = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert in_bag["totals"] == {"source_rows": 26, "exported": 20, "quarantined": 6}  # night_visit read again
    assert in_bag["field_defects"] == {"control-characters": 3}
    fhir_counts = json.loads((bag / "data/fhir/manifest.json").read_bytes())["output"]
    counted: dict[str, int] = {}
    for output in fhir_counts:
        counted[output["type"]] = counted.get(output["type"], 0) + output["count"]
    assert counted == {"Organization": 1, "Practitioner": 1, "Patient": 7, "Encounter": 6, "Condition": 3,
                       "DocumentReference": 4}



def plant_impossible_birth_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """A builder bug the line check cannot see: patient P02's Patient gets the impossible date 1980-13-45
    (a fault the source data cannot cause, so the builder is wrapped)."""
    real = fhir.to_fhir

    def broken_birth_date(record: model.Record, **kwargs: Any) -> list[dict[str, Any]]:
        made = real(record, **kwargs)
        if isinstance(record, model.Patient) and record.provenance.key == "P02":
            made[0]["birthDate"] = "1980-13-45"
        return made

    monkeypatch.setattr(fhir, "to_fhir", broken_birth_date)

def test_a_structure_error_is_quarantined_when_the_export_checks_structure(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A builder bug the line check cannot see (an impossible date string) is caught by the structure
    models when the export is asked to run them, as `open` does: the patient is quarantined, its chart
    follows it as orphans, and the bundle opens."""
    plant_impossible_birth_date(monkeypatch)
    outcome, bag = export_and_open(tmp_path, validate_structure=True)
    assert quarantined(bag, "patient")["P02"] == (
        "invalid-output", "the Patient built from patient row P02 breaks FHIR's rules: birthDate: Value error, "
                          "Date value string does not match spec regex")
    assert quarantined(bag, "memo")["7"][0] == "orphan"  # P02's note ('7'); the other 7 is P01's
    assert {k: v[0] for k, v in quarantined(bag, "encounter").items()} == {
        "2": "orphan", "3": "orphan", "6": "required-missing"}
    assert quarantined(bag, "night_visit") == {"2": ("orphan", "field 'patient_id' refers to a patient that was quarantined")}
    assert outcome.reconciliation.balanced


def test_id_index_adds_and_finds_digests() -> None:
    index = IdIndex()
    digests = [id_digest(f"id-{n}") for n in range(5000)] + [0, 2**64 - 1]
    assert all(index.add(d) for d in digests)
    assert index.size == len(digests) and all(d in index for d in digests)
    assert not index.add(digests[17]) and index.size == len(digests)  # already there: not added twice
    index.discard(digests[17])
    assert digests[17] not in index and index.size == len(digests) - 1 and index.add(digests[17])
    assert id_digest("id-5000") not in index


def test_resource_check_names_the_rule_never_the_value() -> None:
    check = ResourceCheck()
    from emr_exporter.pipeline.bag import canonical_json_line

    def problem(resource: dict[str, Any]) -> str | None:
        return check.problem(resource, canonical_json_line(resource))

    assert problem({"resourceType": "Patient"}) == "id: missing (every resource needs an id)"
    assert problem({"resourceType": "Patient", "id": "주민 800101"}) == "id: does not match FHIR's id pattern"
    assert problem({"resourceType": "Patient", "id": "p", "name": [{"text": "김\x1b"}]}) == (
        "a text holds a control character FHIR does not allow")
    assert problem({"resourceType": "Patient", "id": "p"}) is None
    check.index("Patient").add(id_digest("p"))
    encounter = {"resourceType": "Encounter", "id": "e", "subject": {"reference": "Patient/p"},
                 "participant": [{"individual": {"reference": "Practitioner/d"}}]}
    line = canonical_json_line(encounter)
    assert check.dangling(encounter, line) == ("participant.0.individual.reference", "Practitioner")
    assert check.claim("Practitioner", "d") == id_digest("d") and check.claim("Practitioner", "d") is None
    assert check.dangling(encounter, line) is None  # claimed: written with it
    assert check.references_checked == 4  # two lines of two references each
    check.release([("Practitioner", id_digest("d"))])  # the row failed after all: its ids are given back
    assert check.dangling(encounter, line) == ("participant.0.individual.reference", "Practitioner")


@pytest.mark.parametrize("resource", [
    {"resourceType": "Encounter", "id": "e", "subject": {"reference": "Patient/p"}},
    {"resourceType": "Encounter", "id": "e", "subject": {"reference": "Patient/a/b"},
     "extension": [{"url": "u", "valueReference": {"reference": "Encounter/x\"y"}}]},
    {"resourceType": "Encounter", "id": "e", "text": {"div": '"reference":"Patient/q"'},
     "partOf": {"reference": "Encounter/e2"}, "serviceProvider": {"reference": "Organization/o"},
     "basedOn": [{"reference": "ServiceRequest/s"}, {"reference": "Practitioner/김"}, {"reference": "Patient/"}]},
])
def test_references_read_off_the_line_are_those_of_the_resource(resource: dict[str, Any]) -> None:
    from emr_exporter.pipeline.bag import canonical_json_line
    from emr_exporter.pipeline.check import line_references, references

    found = sorted(line_references(canonical_json_line(resource)))  # the line's keys are sorted
    assert found == sorted((t, i) for _, t, i in references(resource))
    assert found  # each case has at least one


def test_cli_export_checks_the_structure_when_asked(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`emr-export export --check-fhir-structure`: the structure models run in the export and quarantine
    what they reject (a builder bug planted as above), which the line check alone lets through; without
    fhir.resources the export refuses to start and says how to get it."""
    database = tmp_path / "jinryo.sqlite"
    create_jinryo_clinic(database)
    (tmp_path / "c" / "jinryo").mkdir(parents=True)
    (tmp_path / "c" / "jinryo" / "connector.toml").write_text(CONNECTOR, encoding="utf-8")
    plant_impossible_birth_date(monkeypatch)
    args = ["export", "--connector", "jinryo", "--connectors-dir", str(tmp_path / "c"), "--source", str(database),
            "--dry-run", "--json"]

    def patient_reasons(extra: list[str]) -> dict[str, int]:
        done = CliRunner().invoke(main, [*args, *extra])
        assert done.exit_code == 0, done.output
        entities = {e["entity"]: e for e in json.loads(done.output)["reconciliation"]["entities"]}
        return dict(entities["patient"]["quarantine_reasons"])

    assert patient_reasons([]) == {"ambiguous-key": 1}  # the line check cannot see an impossible date
    assert patient_reasons(["--check-fhir-structure"]) == {"ambiguous-key": 1, "invalid-output": 1}
    monkeypatch.setattr(fhir, "structure_validator", lambda: None)
    refused = CliRunner().invoke(main, [*args, "--check-fhir-structure"])
    assert refused.exit_code != 0
    assert ("Checking every resource against the FHIR structure needs fhir.resources: install it with: pip install "
            "'emr-exporter[verify]'.") in refused.output


def test_claim_finds_every_duplicate_among_many_ids() -> None:
    """ResourceCheck.claim (IdIndex.add inlined): 10^5 random record ids and other ids, every one claimed
    once, then planted duplicates (record ids and others, after the arrays grew) all refused; a released id
    can be claimed again; references to claimed Patients resolve, to others not."""
    import random

    from emr_exporter.pipeline.bag import canonical_json_line

    rng = random.Random(17)
    check = ResourceCheck()
    record_ids = [f"{rng.getrandbits(128):032x}" for _ in range(60_000)]
    other_ids = [f"chart-{n}" for n in range(40_000)]
    assert len(set(record_ids)) == len(record_ids)
    for n, resource_id in enumerate(record_ids + other_ids):
        resource_type = ("Patient", "Observation")[n % 2]
        assert check.claim(resource_type, resource_id) == id_digest(resource_id)
    assert sum(index.size for index in check.ids.values()) == 100_000
    planted = rng.sample(range(100_000), 500)
    for n in planted:
        resource_id = (record_ids + other_ids)[n]
        assert check.claim(("Patient", "Observation")[n % 2], resource_id) is None  # taken: a duplicate
        assert check.claim(("Observation", "Patient")[n % 2], resource_id) is not None  # other type: free
    digest = id_digest(record_ids[0])
    check.release([("Patient", digest)])
    assert check.claim("Patient", record_ids[0]) == digest
    for n in range(0, 2000, 2):  # Patients: their references resolve
        line = canonical_json_line({"subject": {"reference": f"Patient/{(record_ids + other_ids)[n]}"}})
        assert check.dangling(None, line) is None
    line = canonical_json_line({"subject": {"reference": f"Patient/{record_ids[1]}"}})  # an Observation's id
    assert check.dangling(None, line) == ("subject.reference", "Patient")
