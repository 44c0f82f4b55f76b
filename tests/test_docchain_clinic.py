"""Scanned documents that reach their patient only through a chain of ids (tests/connectors/docchain_clinic.py on
MariaDB: ``MUNSEO_PAGE`` → ``MUNSEO`` → ``JIN_RCV`` → ``PT_INFO``, three hops; the pages' bytes a LONGBLOB beside
their file name, no table named ATTACH, FILE or SCAN), through the contractor's whole flow with the scaffold's
connector untouched: every cell rebuilt from the opened bag (tests/lossless_kit.py). The scaffold's rules
(docs/connectors.md, "A record that reaches its patient through a chain"): a table of stored document bytes is the
attachments'; its patient, visit and day its document's, joined in by LEFT JOINs; a page whose document is gone is
quarantined with its bytes, never lost; where two chains as short disagree, none is guessed (``db``: fails, never
skips)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from docchain_clinic import DEAD_PAGE, create_docchain_clinic

from test_foreign_schemas import checked, scaffolded
from test_opensource_shaped_clinics import _bag, _entities, _fates, _resources
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the cells the pages' query joins in: each page's patient, visit and day (81 pages)
JOINED = 3 * DEAD_PAGE


def test_pages_three_hops_from_their_patient_come_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic = create_docchain_clinic(mariadb_conn_str)
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells
    bag = _bag(tmp_path)
    assert _fates(bag) == {"pt_info": ("patient",), "jin_rcv": ("encounter",), "munseo_page": ("attachment",),
                           "munseo": "carried"}
    assert _entities(bag) == {("patient", "PT_INFO", 36, 36, 0), ("encounter", "JIN_RCV", 90, 90, 0),
                              ("attachment", "MUNSEO_PAGE", 81, 80, 1)}
    patients = _resources(bag, "Patient")
    encounters = _resources(bag, "Encounter")
    pages = _resources(bag, "DocumentReference", "MUNSEO_PAGE")
    assert set(pages) == {str(p) for p in clinic.pages}
    for key, page in pages.items():
        patient, visit, day, media_type, data = clinic.pages[int(key)]
        (content,) = page["content"]
        # the patient three hops away, the visit and the day the document's (JAKSEONG_YMD, never the page's own
        # stamp UPDATED_AT), the media type off the file name's extension (.pdf, .JPG), the bytes as stored
        assert (page["subject"]["reference"], page["context"]["encounter"][0]["reference"]) == (
            f"Patient/{patients[str(patient)]['id']}", f"Encounter/{encounters[str(visit)]['id']}")
        assert (content["attachment"]["creation"], content["attachment"]["contentType"]) == (day, media_type)
        assert (bag / "data/fhir" / content["attachment"]["url"]).read_bytes() == data
    # the page whose document was deleted (MUNSEO_NO 999): its chain breaks, the row quarantined whole, bytes too
    dead = [json.loads(line) for path in sorted(bag.glob("data/raw/attachment.*.ndjson"))
            for line in path.read_bytes().splitlines()]
    assert [(q["row"]["page_no"], q["row"]["munseo_no"], q["row"]["scaffold_patient"], q["reason"]) for q in dead] == [
        (DEAD_PAGE, 999, None, "required field 'patient_id' is empty")]


def test_two_chains_that_disagree_give_no_patient(tmp_path: Path, mariadb_conn_str: str) -> None:
    """Each page names its document and its scan batch; both lead to a visit in two hops, but never the same one:
    the scaffold takes neither (it cannot know which the EMR means), says so, and leaves the pages to the
    contractor — carried whole meanwhile, nothing lost."""
    clinic = create_docchain_clinic(mariadb_conn_str, "emr_docchain_batches", batches=True)
    flow = scaffolded(clinic, tmp_path)
    toml = (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    section = toml[toml.index("# --- attachment"):toml.index("# --- allergy")]
    assert "# Commented out: no column found for required field 'patient_id'." in section
    assert ("# # NOTE: no patient column; 2 chains of ids reach one (MUNSEO_NO (MUNSEO) → RCV_NO (JIN_RCV); "
            "SCAN_BATCH_NO (SCAN_BATCH) → RCV_NO (JIN_RCV)) and do not give every sampled row the same patient: "
            "none taken, choose the one the EMR means.") in section
    assert "SCAFFOLD_PATIENT" not in toml
    listed = {t["name"]: t for t in checked(flow)["reconciliation"]["inventory"]}
    assert {n: (t["fate"], t["rows"]) for n, t in listed.items() if n.startswith(("munseo", "scan"))} == {
        "munseo": ("carried", 40), "munseo_page": ("carried", 81), "scan_batch": ("carried", 40)}
