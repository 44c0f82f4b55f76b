"""Nothing left behind (issue 13), on the demo clinic as a SQLite file: the sealed bundle opens (FHIR
structure validated) and every source row of every table is found again in the OPENED bag."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.connectors import load_connector
from emr_exporter.demo import DEMO_DB_NAME, STORE_KEY
from emr_exporter.demo.clinic import CONTROL_CHARACTER_TEXT
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import (
    LOCAL_DIAGNOSIS_CODE,
    NFD_DEPARTMENT,
    PLANTED_DATE,
    check_bag_against_source,
    lines,
    plant_transformed_cells,
)

PATIENTS = 25


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """(demo clinic database, opened bag root, the export's JSON outcome)."""
    out = tmp_path_factory.mktemp("lossless")
    made = CliRunner().invoke(main, ["demo", "--out", str(out), "--patients", str(PATIENTS), "--json"])
    assert made.exit_code == 0, made.output
    outcome = json.loads(made.output)
    result = CliRunner().invoke(main, [
        "open", outcome["bundle"]["path"], "--key", str(out / "demo-keys" / STORE_KEY), "--out", str(out / "opened"),
        "--json", "--require-fhir-validation"])
    assert result.exit_code == 0, result.output  # every check open runs, FHIR structure included
    [bag] = [p.parent for p in (out / "opened").rglob("bag-info.txt")]
    return out / DEMO_DB_NAME, bag, outcome


def test_every_source_row_of_every_table_is_rebuilt_from_the_opened_bag(opened) -> None:  # type: ignore[no-untyped-def]
    database, bag, _ = opened
    source = SqliteFileSource(database)
    try:
        rebuilt = check_bag_against_source(bag, load_connector("demo"), source)
    finally:
        source.close()
    with sqlite3.connect(database) as conn:
        tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {n.lower(): conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in tables}
    assert {k: v for k, v in rebuilt.rows.items() if v} == {k: v for k, v in counts.items() if v}
    assert rebuilt.carried_cells and rebuilt.mapped_cells and rebuilt.quarantined_cells


def test_the_inventory_lists_every_table_with_its_fate(opened) -> None:  # type: ignore[no-untyped-def]
    database, bag, outcome = opened
    inventory = {t["name"]: t for t in json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]}
    with sqlite3.connect(database) as conn:
        names = {n.lower() for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert set(inventory) == names
    # Nothing is left out: the tables no section maps are carried, those the connector names in [carry] with
    # its reason; the demo's forgotten tables and ADM_INFO (admissions: read by the encounter query's join, not
    # by a section of its own) without one.
    assert not [n for n, t in inventory.items() if t["fate"] == "skipped"]
    assert {n: t.get("reason") for n, t in inventory.items() if t["fate"] == "carried"} == {
        "clinic_info": "the clinic's own row: read by [institution]",
        "emr_meta": "the EMR program's schema version; no patient data",
        "print_queue": "the EMR's print spool: copies of documents whose records are exported from their own tables",
        "adm_info": None, "audit_log": None, "sms_log": None, "tmp_import": None,
    }
    assert inventory["tmp_import"]["empty"] and inventory["tmp_import"]["rows"] == 0
    assert inventory["sms_log"]["read"] == "keyset on sms_no"
    assert inventory["audit_log"]["read"] == "one ordered pass (no usable single-column key)"
    # One truth for a table only a join reads (the check and the transfer report say the same):
    # carried, and the inventory names who also reads it; the forgotten tables name nobody.
    assert inventory["adm_info"]["also_read_by"] == ["encounter"]
    assert all("also_read_by" not in inventory[n] for n in ("audit_log", "sms_log", "tmp_import"))
    assert inventory["pt_master"]["entities"] == ["patient"]
    assert {"name": "remark", "type": "binary"} in inventory["pt_master"]["columns"]
    # The reconciliation in the bag, the CLI's JSON and the inventory agree.
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert report == outcome["reconciliation"]
    assert report["inventory"] == list(inventory.values())
    cells = report["cells"]
    assert cells["source"] == cells["mapped"] + cells["carried_raw"] + cells["quarantined"]
    tables = {t["table"]: t for t in report["tables"]}
    assert tables["sms_log"]["carried"] == inventory["sms_log"]["rows"] > 0


def test_unmapped_columns_are_carried_keyed_by_resource_id(opened) -> None:  # type: ignore[no-untyped-def]
    database, bag, _ = opened
    patients = {line["key"]: line for line in lines(bag, "raw/columns/patient")}
    with sqlite3.connect(database) as conn:
        pt_no, remark, deleted = conn.execute("SELECT PT_NO, REMARK, DEL_YN FROM PT_MASTER ORDER BY PT_NO").fetchone()
    line = patients[str(pt_no)]
    assert line["columns"]["remark"] == {"text": bytes(remark).decode("cp949"), "encoding": "cp949"}
    assert line["columns"]["del_yn"] == deleted
    patient_ids = {json.loads(x)["id"] for p in (bag / "data/fhir").glob("Patient.*.ndjson") for x in p.open("rb")}
    assert line["id"] in patient_ids


def test_a_broken_optional_field_keeps_the_whole_chart(opened) -> None:  # type: ignore[no-untyped-def]
    database, bag, outcome = opened
    with sqlite3.connect(database) as conn:
        # The demo's full-chart patient: an impossible birth date, dozens of records.
        pt_no, birth = conn.execute(
            "SELECT PT_NO, BIRTH_YMD FROM PT_MASTER WHERE BIRTH_YMD = '19850229'").fetchone()
        visits = conn.execute("SELECT COUNT(*) FROM VISIT WHERE PT_NO = ?", (pt_no,)).fetchone()[0]
    assert visits >= 3
    [line] = [x for x in lines(bag, "raw/columns/patient") if x["key"] == str(pt_no)]
    assert line["field_defects"] == [{"field": "birth_date", "column": "birth_ymd", "reason_code": "invalid-date"}]
    assert line["columns"]["birth_ymd"] == birth
    patient = next(json.loads(x) for p in (bag / "data/fhir").glob("Patient.*.ndjson") for x in p.open("rb")
                   if json.loads(x)["id"] == line["id"])
    assert "birthDate" not in patient
    assert patient["_birthDate"]["extension"][0]["url"] == "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
    encounters = [json.loads(x) for p in (bag / "data/fhir").glob("Encounter.*.ndjson") for x in p.open("rb")]
    assert sum(e["subject"]["reference"] == f"Patient/{line['id']}" for e in encounters) == visits
    quarantined = [q for e in ("patient", "encounter", "diagnosis", "chart_note") for q in lines(bag, f"raw/{e}")]
    assert all(q["row"].get("pt_no") != pt_no for q in quarantined)
    defects = {e["entity"]: e["field_defects"] for e in outcome["reconciliation"]["entities"]}
    assert defects["patient"] == {"invalid-date": 2}


def test_control_characters_are_shown_and_kept_raw(opened) -> None:  # type: ignore[no-untyped-def]
    _, bag, _ = opened
    [line] = [x for x in lines(bag, "raw/columns/diagnosis") if x.get("field_defects", [{}])[0].get(
        "reason_code") == "control-characters"]
    assert line["columns"]["diag_nm"] == {"base64": __import__("base64").b64encode(
        CONTROL_CHARACTER_TEXT.encode("cp949")).decode()}
    condition = next(json.loads(x) for p in (bag / "data/fhir").glob("Condition.*.ndjson") for x in p.open("rb")
                     if json.loads(x)["id"] == line["id"])
    assert condition["code"]["text"] == "급성␇비인두염␋␀[감기]␛"


def test_odd_keys_get_ids_and_identifiers_the_store_accepts(opened) -> None:  # type: ignore[no-untyped-def]
    _, bag, _outcome = opened
    practitioners = {line["source_key"]: line for line in lines(bag, "report/lists/practitioner")}
    assert {"", "D005", "d001", "D001", "D002"} <= set(practitioners)  # empty, padded, case variant
    sidecars = {line["id"]: line for line in lines(bag, "raw/columns/practitioner")}
    assert sidecars[practitioners["D005"]["id"]]["columns"]["dr_id"] == "D005 "  # the exact key, raw
    [ambiguous] = list(lines(bag, "raw/practitioner"))
    assert (ambiguous["reason_code"], ambiguous["row"]["dr_id"]) == ("ambiguous-key", "D002 ")
    resources = [json.loads(x) for p in (bag / "data/fhir").glob("Practitioner.*.ndjson") for x in p.open("rb")]
    empty = next(r for r in resources if r["id"] == practitioners[""]["id"])
    assert "value" not in empty["identifier"][0]  # FHIR strings cannot be empty


def test_scan_predicts_the_export_exactly(opened) -> None:  # type: ignore[no-untyped-def]
    database, _, outcome = opened
    scanned = CliRunner().invoke(main, ["scan", "--connector", "demo", "--source", str(database), "--json"])
    assert scanned.exit_code == 0, scanned.output
    report = json.loads(scanned.output)
    rec = outcome["reconciliation"]
    assert report["cells"] == rec["cells"] and report["field_defects"] == rec["field_defects"]
    assert report["tables"] == rec["tables"] and report["inventory"] == rec["inventory"]
    assert [(e["entity"], e["will_export"], e["will_quarantine"], e["quarantine_reasons"], e["field_defects"])
            for e in report["entities"]] == [
        (e["entity"], e["exported"], e["quarantined"], e["quarantine_reasons"], e["field_defects"])
        for e in rec["entities"]]


def test_output_check_quarantines_what_open_would_reject(
    opened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The export checks each resource as open will: one that breaks a FHIR rule (here a mapping that
    lets a control character through, planted by wrapping the FHIR builder) is quarantined with a reason
    naming the entity and the key, its children follow it, and the sealed bundle opens."""
    database, _, _ = opened
    with sqlite3.connect(database) as conn:
        visit_no = conn.execute("SELECT MIN(VISIT_NO) FROM DIAG").fetchone()[0]
        children = conn.execute("SELECT COUNT(*) FROM DIAG WHERE VISIT_NO = ?", (visit_no,)).fetchone()[0]
    real = fhir.to_fhir

    def leaky(record, **kwargs):  # type: ignore[no-untyped-def]
        resources = real(record, **kwargs)
        if record.provenance.table == "VISIT" and record.provenance.key == str(visit_no):
            resources[0]["serviceType"] = {"text": "내\x07과"}
        return resources

    monkeypatch.setattr(fhir, "to_fhir", leaky)
    keys = make_demo_keys(tmp_path / "keys")
    outcome = run_export(ExportRequest(
        connector="demo", source=SourceAddress(database=database), attachments_root=database.parent / "attachments",
        out_dir=tmp_path / "out", signer_path=keys.institution_p12, signer_password=keys.institution_password,
        recipient_cert=keys.store_cert,
    ))
    by_entity = {e.entity: e for e in outcome.reconciliation.entities}
    assert by_entity["encounter"].reasons["invalid-output"] == 1
    assert by_entity["diagnosis"].reasons["orphan"] >= children  # its diagnoses follow it into quarantine
    assert outcome.reconciliation.balanced
    opened_dir = tmp_path / "opened"
    result = CliRunner().invoke(main, ["open", str(outcome.bundle_path), "--key", str(keys.store_key),
                                       "--out", str(opened_dir), "--json", "--require-fhir-validation"])
    assert result.exit_code == 0, result.output
    [bag] = [p.parent for p in opened_dir.rglob("bag-info.txt")]
    [line] = [q for q in lines(bag, "raw/encounter") if q["reason_code"] == "invalid-output"]
    assert line["key"] == str(visit_no) and line["row"]["visit_no"] == visit_no
    assert line["reason"] == (f"the Encounter built from encounter row {visit_no} breaks FHIR's rules: "
                              "a text holds a control character FHIR does not allow")


def test_planted_cells_fhir_cannot_give_back_are_carried_and_every_row_rebuilds(
    opened, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """What the demo lacks and real EMRs have: a trailing blank, NFD Korean, a mixed-case code, a date in
    an odd format, a number with a trailing zero. FHIR holds the trimmed / NFC / parsed / shortest form,
    so each such cell is carried raw as ``transformed`` — and every row still rebuilds byte for byte."""
    import shutil

    database, _, _ = opened
    planted = tmp_path / "planted" / DEMO_DB_NAME
    planted.parent.mkdir()
    shutil.copy(database, planted)
    shutil.copytree(database.parent / "attachments", planted.parent / "attachments")
    with sqlite3.connect(planted) as conn:
        planted_keys = plant_transformed_cells(conn)
    dr_id, visit_no, pt_no, ord_no = (planted_keys[k] for k in ("dr_id", "visit_no", "pt_no", "ord_no"))
    nfd = NFD_DEPARTMENT
    keys = make_demo_keys(tmp_path / "keys")
    outcome = run_export(ExportRequest(
        connector="demo", source=SourceAddress(database=planted), attachments_root=planted.parent / "attachments",
        out_dir=tmp_path / "out", signer_path=keys.institution_p12, signer_password=keys.institution_password,
        recipient_cert=keys.store_cert,
    ))
    assert outcome.reconciliation.balanced
    result = CliRunner().invoke(main, ["open", str(outcome.bundle_path), "--key", str(keys.store_key),
                                       "--out", str(tmp_path / "opened"), "--json", "--require-fhir-validation"])
    assert result.exit_code == 0, result.output
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    source = SqliteFileSource(planted)
    try:
        rebuilt = check_bag_against_source(bag, load_connector("demo"), source)
    finally:
        source.close()
    # (The export also counts cells of columns a query joins in from another table, e.g. ADM_INFO's.)
    assert 0 < rebuilt.transformed_cells <= outcome.reconciliation.cell_totals["transformed"]

    def sidecar(entity: str, key: object) -> dict[str, Any]:
        [line] = [x for x in lines(bag, f"raw/columns/{entity}") if x["key"] == str(key)]
        return line

    assert sidecar("practitioner", dr_id)["transformed"] == ["dept_nm"]  # a trailing blank
    visit = sidecar("encounter", visit_no)
    assert "dept_nm" in visit["transformed"] and visit["columns"]["dept_nm"] == nfd  # NFD, not NFC
    assert visit["columns"]["io_gb"] == "o"  # a mixed-case code: a field defect, kept exactly
    assert {"field": "kind", "column": "io_gb", "reason_code": "unmapped-code"} in visit["field_defects"]
    patient = sidecar("patient", pt_no)
    assert "first_visit_ymd" in patient["transformed"] and decode_raw(patient["columns"]["first_visit_ymd"]) == PLANTED_DATE
    order = sidecar("order_line", ord_no)
    assert "dose" in order["transformed"] and order["columns"]["dose"] == "1.50"
    # The unplanted rows of the same columns stay mapped (rebuilt from FHIR, not carried).
    plain = [x for x in lines(bag, "raw/columns/order_line") if "dose" in x.get("transformed", [])]
    assert len(plain) < 5
    # A diagnosis code is looked for where the builder writes it for its shape: the first coding, under its
    # edition's KCD system for a KCD code, under the recorded-code one for a local code. So the codes FHIR holds
    # as stored are not carried twice, whatever their edition or shape; one it does not (a trailing blank) is.
    blank_dx, local_dx = planted_keys["blank_dx"], planted_keys["local_dx"]
    carried_dx = [x for x in lines(bag, "raw/columns/diagnosis") if "kcd_cd" in x.get("transformed", [])]
    assert [x["key"] for x in carried_dx] == [str(blank_dx)] and carried_dx[0]["columns"]["kcd_cd"].endswith(" ")
    codings = {c["identifier"][0]["value"]: c["code"]["coding"][0] for c in lines(bag, "fhir/Condition")
               if c["code"].get("coding")}
    assert codings[str(local_dx)] == {"system": fhir.RECORDED_CODE_SYSTEM, "code": LOCAL_DIAGNOSIS_CODE}
    assert codings[str(blank_dx)]["code"] == carried_dx[0]["columns"]["kcd_cd"].rstrip()
    editions = {c["system"] for c in codings.values() if c["system"].startswith(fhir.KCD_SYSTEM_PREFIX)}
    assert len(editions) >= 3  # the edition follows the visit date
    cells_map = json.loads((bag / "data" / "report" / "cells.json").read_text(encoding="utf-8"))
    assert cells_map["entities"]["diagnosis"]["columns"]["kcd_cd"]["locations"] == {
        "Condition:": ["", "code", "coding", 0, "code"]}
    # A lab result's value is where the builder writes it for its shape: valueString, or valueQuantity.value for a
    # plain number with a unit, read back as the number's JSON text. A number written otherwise than that text
    # ('5.10', '+5', a comparator, a trailing blank the reader trims) is carried; one written as it ('5.1', with
    # any unit) and text FHIR holds as written (' 5.1', '5e0', '5.1 단위') are not carried twice.
    assert cells_map["entities"]["lab_result"]["columns"]["rslt_val"]["locations"] == {
        "Observation:": [["", "valueString"], ["", "valueQuantity", "value"]]}
    observations = {o["id"]: o for o in lines(bag, "fhir/Observation")}
    lab_ids = {item["source_key"]: item["id"] for item in lines(bag, "report/lists/lab_result")}
    lab_sidecars = {x["key"]: x for x in lines(bag, "raw/columns/lab_result")}
    carried_lab = {value for key, (value, _) in planted_keys["lab"].items()
                   if "rslt_val" in lab_sidecars.get(str(key), {}).get("transformed", [])}
    assert carried_lab == {"5.10", "5.1 ", "+5", "<5.1"}
    for key, (value, unit) in planted_keys["lab"].items():
        if value in carried_lab:
            assert lab_sidecars[str(key)]["columns"]["rslt_val"] == value
            continue
        observation = observations[lab_ids[str(key)]]
        if value == "5.1":
            assert observation["valueQuantity"]["value"] == 5.1 and "valueString" not in observation
            assert unit is None or observation["valueQuantity"]["unit"] == unit
        else:
            assert observation["valueString"] == value
    # Every other result FHIR holds as a number is given back from it: only those written with a trailing zero
    # ('9.0', the demo's own) are carried besides the planted ones.
    others = [x["columns"]["rslt_val"] for k, x in lab_sidecars.items() if "rslt_val" in x.get("transformed", [])
              and int(k) not in planted_keys["lab"]]
    assert others and all(v.endswith(".0") for v in others)
    # A procedure order's 원외처방 yes/no is written only when true: in that shape no extension is false ('N'),
    # so the 'N' cells are given back, not carried; an empty one and a lower-case 'n' are carried as stored.
    rx = cells_map["entities"]["order_line"]["columns"]["out_rx_yn"]["tables"]
    assert rx["ServiceRequest:"] == {f"str:{fhir.OUTSIDE_PRESCRIPTION_URL}": True, "NoneType:None": False}
    carried_rx = {x["key"]: x["columns"]["out_rx_yn"] for x in lines(bag, "raw/columns/order_line")
                  if "out_rx_yn" in x.get("transformed", [])}
    assert carried_rx == {str(planted_keys["empty_rx"]): None, str(planted_keys["lower_rx"]): "n"}
