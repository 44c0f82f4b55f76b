"""A dental clinic (치과, MariaDB, UPPER_SNAKE abbreviations, an euckr memo column) and a Korean-medicine clinic
(한의원, PostgreSQL, Korean table and column names) (tests/connectors/dental_hanbang_clinic.py) through the
contractor's whole flow over the real ODBC drivers with the scaffold's connector untouched: ``scaffold`` →
``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open`` (``--attachments-root`` the clinic's image
folder); every row of every table rebuilt from the opened bag and compared with the server's cell by cell
(tests/lossless_kit.py). What the scaffold maps and what it carries raw is pinned per table (``db``: fails, never
skips, when a server is down).

Tooth numbers (``TOOTH_NO '11,12,21'``, ``'13-23'``) are a treatment line's and a diagnosis's ``teeth``: a bodySite
per FDI tooth and the column as written (an unreadable ``'전악'`` raw as ``unreadable-teeth``); their surfaces
(``SURF 'MOD'``, ``'근심'``) a bodySite per surface in HL7's FDI-surface codes after them (``'F'`` raw as
``unreadable-surface``). Implant lot numbers, 경혈, 사상체질, 맥진/설진 and a 한약 prescription's name, 첩수 and
용법 have no canonical field: they stay in the bag as raw cells; its herbs are order lines, MedicationRequests
grouped by the prescription (docs/connectors.md, "Dental and Korean-medicine clinics", says why).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from dental_hanbang_clinic import (
    CLIMBING,
    DENTAL_FEES,
    FORMULAS,
    HANBANG_FEES,
    create_dental_clinic,
    create_hanbang_clinic,
)

from test_opensource_shaped_clinics import _bag, _fates
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the cells the sections' queries join in (the reconciliation counts them as read): a dental diagnosis's date
#: through its visit (120); a 한의원 diagnosis's patient and date (2 × 150), an acupuncture line's patient (240) and a
#: receipt's patient (120), each through the visit; a herb's visit, patient, day, status and days from its
#: prescription (5 × 200)
DENTAL_JOINED = 120
SURFACE = "http://terminology.hl7.org/CodeSystem/FDI-surface"
HANBANG_JOINED = 2 * 150 + 240 + 120 + 5 * 200


def _counts(bag: Path) -> set[tuple[str, int, int, int]]:
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    return {(e["entity"], e["source_rows"], e["exported"], e["quarantined"]) for e in report["entities"]}


def _lines(bag: Path, member: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/{member}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _quarantined(bag: Path, entity: str) -> dict[str, tuple[str, str]]:
    return {q["key"]: (q["reason_code"], q["reason"]) for q in _lines(bag, f"raw/{entity}")}


def _by_source_key(bag: Path, kind: str) -> dict[str, dict[str, Any]]:
    return {next(i["value"] for i in r["identifier"] if i["system"].startswith("urn:emr-exporter:source")): r
            for r in _lines(bag, f"fhir/{kind}")}


#: a bodySite's code system → the extension holding its column as written
_SITES = {"urn:emr-exporter:fdi-tooth": "urn:emr-exporter:fhir:extension:recorded-teeth",
          "http://terminology.hl7.org/CodeSystem/FDI-surface": "urn:emr-exporter:fhir:extension:recorded-surfaces"}


def _teeth_of(resource: dict[str, Any], system: str = "urn:emr-exporter:fdi-tooth") -> tuple[list[str], str | None]:
    """A resource's teeth (or, by ``system``, its tooth surfaces): the code of each bodySite of that system (each
    concept one coding of the tooth or the surface system, the teeth first), and the column as written (the
    recorded-teeth or recorded-surfaces extension)."""
    codes = []
    systems = []
    for site in resource.get("bodySite", []):
        [coding] = site["coding"]
        systems.append(coding["system"])
        if coding["system"] == system:
            codes.append(coding["code"])
    assert set(systems) <= set(_SITES) and systems == sorted(systems, key=list(_SITES).index)
    written = [e["valueString"] for e in resource.get("extension", []) if e["url"] == _SITES[system]]
    return codes, (written[0] if written else None)


def _files_back(bag: Path, clinic: Any) -> None:
    """Every DocumentReference's bytes are the file its row names, under the attachments folder; every row but the
    two refused has one."""
    documents = _by_source_key(bag, "DocumentReference")
    assert set(documents) == {str(n) for n in clinic.files} - {str(clinic.dirty["climbing"]), str(clinic.dirty["missing"])}
    for key, found in documents.items():
        attachment = found["content"][0]["attachment"]
        stored = clinic.files[int(key)].replace("\\", "/")
        assert attachment["contentType"] == "image/jpeg"  # read off the path's extension (no media-type column)
        assert (bag / "data" / attachment["url"].removeprefix("../")).read_bytes() == (
            clinic.attachments / stored).read_bytes()


def test_a_dental_clinic_comes_back_cell_for_cell(tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic = create_dental_clinic(mariadb_conn_str, tmp_path / "images")
    assert through_the_flow(clinic, tmp_path, DENTAL_JOINED, clinic.attachments) == clinic.cells
    bag = _bag(tmp_path)
    # JIN_RCV (진료접수, keyed RCV_NO) the visits (was: carried); TX_DTL the treatment lines, Procedures (was:
    # carried); XRAY_IMG the images, DocumentReferences (was: an imaging report of no reading, the paths raw);
    # IMPL_REC carried (was: Immunizations — a maker's name, a lot number and a date are no vaccination)
    assert _fates(bag) == {
        "cm_code": "carried", "dr_info": ("practitioner",), "pt_info": ("patient",), "jin_rcv": ("encounter",),
        "diag": ("diagnosis",), "tx_dtl": ("procedure",), "impl_rec": "carried", "xray_img": ("attachment",),
        "rcpt": ("receipt",)}
    assert _counts(bag) == {("practitioner", 2, 2, 0), ("patient", 36, 36, 0), ("encounter", 120, 120, 0),
                            ("diagnosis", 120, 120, 0), ("procedure", 360, 359, 1), ("receipt", 120, 120, 0),
                            ("attachment", 24, 22, 2)}
    assert not list(bag.glob("data/fhir/Immunization.*"))
    # the path climbing out of the folder refused, its row kept whole; the file not there said so; the treatment
    # dated 20220231 quarantined
    assert _quarantined(bag, "attachment") == {
        str(clinic.dirty["climbing"]): ("path-outside-root", "field 'content_path' points outside the attachment folder"),
        str(clinic.dirty["missing"]): ("file-missing", "field 'content_path': the attachment file does not exist")}
    [climbed] = [q["row"] for q in _lines(bag, "raw/attachment") if q["reason_code"] == "path-outside-root"]
    assert climbed["file_path"] == CLIMBING
    assert _quarantined(bag, "procedure") == {
        str(clinic.dirty["bad_tx_date"]): ("invalid-date", "field 'performed' is not a valid calendar date")}
    _files_back(bag, clinic)
    # a treatment line: the fee code (치과 U-code) and its name; its teeth (was: TOOTH_NO a raw cell) a bodySite per
    # tooth, FDI in the project's system, in the order written, and the column as written beside them; surface and
    # plan/done raw cells of the record, as written
    procedures = _by_source_key(bag, "Procedure")
    raw = {c["key"]: c for c in _lines(bag, "raw/columns/procedure")}
    spelled = {clinic.dirty["bridge_teeth"]: ["13", "12", "11", "21", "22", "23"],
               clinic.dirty["range_teeth"]: ["44", "45", "46"]}
    for no, (_, fee, tooth) in clinic.lines.items():
        if no == clinic.dirty["bad_tx_date"]:
            continue
        found = procedures[str(no)]
        assert (found["code"]["coding"][0]["code"], found["code"]["text"]) == (fee, DENTAL_FEES[fee])
        if no == clinic.dirty["unreadable_teeth"]:
            continue
        assert _teeth_of(found) == (spelled.get(no, tooth.split(",") if tooth else []), tooth or None)
        assert "tooth_no" not in raw[str(no)]["columns"]
    # '전악' (the whole mouth) is no tooth number: the Procedure kept without a bodySite, the cell raw with its reason
    unread = str(clinic.dirty["unreadable_teeth"])
    assert _teeth_of(procedures[unread]) == ([], None)
    assert (raw[unread]["columns"]["tooth_no"], raw[unread]["field_defects"]) == (
        "전악", [{"column": "tooth_no", "field": "teeth", "reason_code": "unreadable-teeth"}])
    # a diagnosis's teeth the same way (Condition.bodySite); '상악 전치부' raw with its reason
    conditions = _by_source_key(bag, "Condition")
    raw_dx = {c["key"]: c for c in _lines(bag, "raw/columns/diagnosis")}
    for no, tooth in clinic.diagnosis_teeth.items():
        if no != clinic.dirty["unreadable_dx_teeth"]:
            assert _teeth_of(conditions[str(no)]) == (tooth.split(",") if tooth else [], tooth)
    unread = str(clinic.dirty["unreadable_dx_teeth"])
    assert _teeth_of(conditions[unread]) == ([], None)
    assert (raw_dx[unread]["columns"]["tooth_no"], raw_dx[unread]["field_defects"]) == (
        "상악 전치부", [{"column": "tooth_no", "field": "teeth", "reason_code": "unreadable-teeth"}])
    assert sum(1 for c in raw_dx.values() if "tooth_no" in c["columns"]) == 1
    # the surfaces (was: SURF a raw cell): after the teeth, one bodySite per surface in HL7's FDI-surface codes
    # ('MOD' M, O, D; '근심' M; '교합면' O), the column as written beside them; 'F' (facial: buccal or labial by the
    # tooth) raw with its reason
    surface_codes = {"MOD": ["M", "O", "D"], "O": ["O"], "B": ["B"], "DL": ["D", "L"], "근심": ["M"], "교합면": ["O"]}
    surfaced = 0
    for no, written in clinic.surfaces.items():
        if no in (clinic.dirty["bad_tx_date"], clinic.dirty["unreadable_surface"]):
            continue
        assert _teeth_of(procedures[str(no)], SURFACE) == (surface_codes[written] if written else [], written)
        assert "surf" not in raw[str(no)]["columns"]
        surfaced += written is not None
    assert surfaced == 29
    assert {s["coding"][0]["display"] for p in procedures.values() for s in p.get("bodySite", [])
            if s["coding"][0]["system"] == SURFACE} == {"Mesial", "Occlusal", "Distal", "Buccal", "Lingual"}
    unread = str(clinic.dirty["unreadable_surface"])
    assert _teeth_of(procedures[unread], SURFACE) == ([], None)
    assert (raw[unread]["columns"]["surf"], raw[unread]["field_defects"]) == (
        "F", [{"column": "surf", "field": "surfaces", "reason_code": "unreadable-surface"}])
    # plan/done read (was: every treatment 'completed', TX_STAT raw): TX_STAT's codes named 계획/진행중/완료/취소 in
    # CM_CODE, P a Procedure in preparation, I (진행중, a root canal or an implant between visits) in-progress, D
    # completed, C (취소) not-done; the row DEL_YN 'Y' entered-in-error whatever its
    # TX_STAT says; both columns still raw cells as written
    said = {"P": "preparation", "I": "in-progress", "D": "completed", "C": "not-done"}
    raw = {c["key"]: c["columns"] for c in _lines(bag, "raw/columns/procedure")}
    for no, (stat, deleted) in clinic.statuses.items():
        if no == clinic.dirty["bad_tx_date"]:
            continue
        assert procedures[str(no)]["status"] == ("entered-in-error" if deleted == "Y" else said[stat])
        assert (raw[str(no)]["tx_stat"], raw[str(no)]["del_yn"]) == (stat, deleted)
    assert (procedures[str(clinic.dirty["cancelled_tx"])]["status"], procedures[str(clinic.dirty["deleted_tx"])][
        "status"]) == ("not-done", "entered-in-error")
    assert {s for s, _ in clinic.statuses.values()} == {"P", "I", "D", "C"}


def test_a_korean_medicine_clinic_comes_back_cell_for_cell(tmp_path: Path, postgres_conn_str: str) -> None:
    clinic = create_hanbang_clinic(postgres_conn_str, tmp_path / "files")
    assert through_the_flow(clinic, tmp_path, HANBANG_JOINED, clinic.attachments) == clinic.cells
    bag = _bag(tmp_path)
    # 침구치료 (acupuncture, moxibustion, cupping) Procedures by 행위코드/행위명/치료일자 (was: carried); 첨부파일 by
    # 파일경로 and 등록일자 (was: commented out, no path column and no media type); each herb of a 한약처방 an order
    # line, a MedicationRequest grouped by its 처방번호 (was: carried; tests/test_herbal_clinic.py reads them), the
    # prescription header carried (its 처방명, 첩수, 팩수 and 복용법 have no place in an order line)
    assert _fates(bag) == {
        "공통코드": "carried", "환자": ("patient",), "내원": ("encounter",), "상병": ("diagnosis",),
        "침구치료": ("procedure",), "한약처방": "carried", "한약처방_약재": ("order_line",), "첨부파일": ("attachment",),
        "수납": ("receipt",)}
    assert _counts(bag) == {("patient", 36, 36, 0), ("encounter", 120, 120, 0), ("diagnosis", 150, 150, 0),
                            ("procedure", 240, 240, 0), ("receipt", 120, 120, 0), ("attachment", 18, 16, 2),
                            ("order_line", 200, 200, 0)}
    assert _quarantined(bag, "attachment") == {
        str(clinic.dirty["climbing"]): ("path-outside-root", "field 'content_path' points outside the attachment folder"),
        str(clinic.dirty["missing"]): ("file-missing", "field 'content_path': the attachment file does not exist")}
    _files_back(bag, clinic)
    # each herb a MedicationRequest: 약재명 its medication's text, 용량 its dose in 단위 g, the prescription's
    # 처방번호 its groupIdentifier; the herbs of one prescription are one formula's, in its grams
    herbs: dict[str, list[tuple[str, Decimal]]] = {}
    for found in _lines(bag, "fhir/MedicationRequest"):
        dose = found["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
        assert (dose["unit"], found["category"][0]["coding"][0]["code"]) == ("g", "drug")
        herbs.setdefault(found["groupIdentifier"]["value"], []).append(
            (found["medicationCodeableConcept"]["text"], Decimal(str(dose["value"]))))
    assert len(herbs) == 30
    assert all(sorted(found) in [sorted(f) for f in FORMULAS.values()] for found in herbs.values())
    procedures, encounters = _by_source_key(bag, "Procedure"), _by_source_key(bag, "Encounter")
    points = {c["key"]: c["columns"]["경혈"] for c in _lines(bag, "raw/columns/procedure")}
    for no, (visit, fee, written) in clinic.lines.items():
        found = procedures[str(no)]
        assert (found["code"]["coding"][0]["code"], found["code"]["text"]) == (fee, HANBANG_FEES[fee])
        assert found["encounter"]["reference"] == f"Encounter/{encounters[str(visit)]['id']}"
        assert points[str(no)] == (written or None)  # the acupuncture points as written, a raw cell
