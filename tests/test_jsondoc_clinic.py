"""A cloud-style Korean EMR that keeps part of the chart as JSON documents in columns (tests/connectors/jsondoc_clinic.py:
PostgreSQL jsonb/json, MariaDB JSON and JSON in a LONGTEXT, English and Korean keys, nested objects, NULL, ``{}``, a
JSON array, malformed JSON), through the contractor's whole flow over the real ODBC drivers with the scaffold's
connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``; every
row of every table rebuilt from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py).
What the scaffold maps and carries is pinned per table, and the vital signs it reads out of the documents (``db``:
fails, never skips, when a server is down).
"""

from __future__ import annotations

import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from jsondoc_clinic import create_jsondoc_clinic, ddl

from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: what a Korean or English key of the documents is read into
_FIELDS = {"bp": "bp", "혈압": "bp", "pulse": "pulse", "맥박": "pulse", "temp": "temp", "체온": "temp",
           "bw": "weight", "체중": "weight", "spo2": "spo2", "산소포화도": "spo2"}


def _bag(tmp_path: Path) -> Path:
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    return bag


def _observations(bag: Path, table: str) -> dict[str, dict[str, Any]]:
    """Source key → {measurement slug: its value (a blood pressure: (systolic, diastolic))} of ``table``'s sets."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(bag.glob("data/fhir/Observation.*.ndjson")):
        for resource in map(json.loads, path.read_bytes().splitlines()):
            keys = [i["value"] for i in resource["identifier"] if i["system"].lower().endswith(f":{table}")]
            if not keys:
                continue  # the other table's
            [key] = keys
            slug = resource["id"].rsplit("-", 1)[1]
            if "dataAbsentReason" in resource or any("dataAbsentReason" in c for c in resource.get("component", ())):
                found.setdefault(key, {})[slug] = "absent"  # (a measurement the set records no number of)
                continue
            value = (tuple(c["valueQuantity"]["value"] for c in resource["component"]) if slug == "bp"
                     else resource["valueQuantity"]["value"])
            found.setdefault(key, {})[slug] = value
    return found


def _expected(document: str | None) -> dict[str, Any]:
    """The measurements a set read out of ``document`` holds, as the Observations carry them."""
    try:
        parsed = json.loads(document) if document is not None else None
    except ValueError:
        return {}
    out: dict[str, Any] = {}
    for key, value in (parsed.items() if isinstance(parsed, dict) else ()):
        slug = _FIELDS.get(key)
        if slug == "bp":
            out[slug] = tuple(int(v) for v in value.split("/"))
        elif slug is not None and isinstance(value, int | float):
            out[slug] = value
        elif slug is not None and isinstance(value, str):
            out[slug] = "absent"  # '측정거부': a field defect, its Observation with dataAbsentReason (the text)
    return out


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_clinic_charting_in_json_documents_comes_back_cell_for_cell(engine: str, tmp_path: Path,
                                                                      request: pytest.FixtureRequest) -> None:
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    clinic = create_jsondoc_clinic(conn_str, engine)
    # every cell of the four tables, the documents whole in the raw columns and the prescriptions' carried table;
    # the visits whose vitals hold a measurement read again (key, patient, time, the document), their cells counted
    # as read twice by the reconciliation and rebuilt twice
    assert through_the_flow(clinic, tmp_path) == clinic.cells + 157 * 3
    bag = _bag(tmp_path)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    # the visit table read twice: its visits, and the vital signs of its vitals document (was: the document only
    # carried raw, no Observation); the station's table a vital-signs set per row (was: guessed vital_signs with no
    # measurement, every row quarantined unmappable); the prescriptions, whose drugs are a JSON array, carried whole
    read = {"js_patient": ("patient",), "js_visit": ("encounter", "vital_signs_vitals"),
            "js_vital_rec": ("vital_signs",)}
    assert {t["name"].lower(): tuple(t["entities"]) if t.get("entities") else t["fate"] for t in inventory} == {
        t.lower(): read.get(t.lower(), "carried") for t in ddl(engine)}
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # the visits whose vitals hold a measurement (not the NULL, {} or [120, 80] ones); the refused pulse a field
    # defect, its set kept; the station's {}, and on MariaDB its two malformed documents (JSON_VALID: MariaDB's
    # JSON_VALUE alone read '{"혈압": "120/80", "맥박": 7' up to the break), a set of absent measurements
    assert {(e["entity"], e["source_rows"], e["exported"], e["quarantined"], json.dumps(e["field_defects"]))
            for e in report["entities"]} == {
        ("patient", 40, 40, 0, "{}"), ("encounter", 160, 160, 0, "{}"),
        ("vital_signs", 120, 120, 0, "{}"),
        ("vital_signs_vitals", 157, 157, 0, '{"invalid-number": 1}')}
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    entities = spec["entities"]
    assert set(entities["vital_signs_vitals"]["fields"]) == {
        "patient_id", "encounter_id", "observed", "systolic", "diastolic", "pulse", "temperature", "weight", "spo2"}
    # the station's Korean keys; 측정자 (who measured) no vital sign, kept in the document carried raw
    station_fields = entities["vital_signs"]["fields"]
    assert set(station_fields) == {"patient_id", "observed", "systolic", "diastolic", "pulse", "temperature", "spo2"}
    assert "'$.\"맥박\"'" in station_fields["pulse"]["expr"][engine] if engine == "mariadb" else (
        station_fields["pulse"]["expr"][engine] == ("(CASE WHEN jsonb_typeof(CAST(data -> '맥박' AS jsonb)) IN "
                                                    "('object', 'array') THEN NULL ELSE data ->> '맥박' END)"))
    visits = _observations(bag, "js_visit")
    assert len(visits) == 157
    for n, (_, _, document) in clinic.visits.items():
        expected = _expected(document)
        assert visits.get(str(n), {}) == expected, (n, document)
    assert visits[str(clinic.dirty["refused_pulse"])]["pulse"] == "absent"
    assert set(visits["3"]) == {"bp", "pulse", "temp", "weight"}  # {"혈압": …, "맥박": …, "체온": …, "체중": …}
    station = _observations(bag, "js_vital_rec")
    for n, (_, _, document) in clinic.station.items():
        # a document the lifts read nothing out of ({}, and on MariaDB a malformed one): a set recording nothing,
        # each measurement absent (unknown), the document carried raw as written (was, before the NULL-vitals rule
        # merged in: quarantined unmappable)
        assert station.get(str(n), {}) == (_expected(document) or dict.fromkeys(("bp", "pulse", "temp", "spo2"),
                                                                                 "absent")), (n, document)
    assert {n for n, found in station.items() if set(found.values()) == {"absent"}} == {
        str(n) for n in (clinic.dirty["empty_station"], *clinic.dirty.get("malformed_station", ()))}
    # each document whole beside its record: the nested object, the key no field reads, the array; a visit whose
    # document holds a measurement has it carried once, beside its vital-signs set that reads it again (read_again;
    # was: beside the visit too), the others beside the visit
    def raw(section: str) -> dict[str, dict[str, Any]]:
        return {line["key"]: {c.lower(): v for c, v in line["columns"].items()}
                for path in sorted(bag.glob(f"data/raw/columns/{section}.*.ndjson"))
                for line in map(json.loads, path.read_bytes().splitlines())}
    visit_raw, again_raw = raw("encounter"), raw("vital_signs_vitals")
    assert {k for k, columns in visit_raw.items() if columns.get("vitals") is not None} == {
        str(n) for n, (_, _, document) in clinic.visits.items() if document is not None} - set(visits)
    assert {k for k, columns in again_raw.items() if columns.get("vitals") is not None} == set(visits)
    nested = json.loads(again_raw[str(clinic.dirty["nested_vitals"])]["vitals"])
    assert nested["extra"] == {"o2": 98, "자세": "좌위"}
    assert Decimal(str(nested["pulse"])) == 77
