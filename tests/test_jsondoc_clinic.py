"""A cloud-style Korean EMR that keeps part of the chart as JSON documents in columns (tests/connectors/jsondoc_clinic.py:
PostgreSQL jsonb/json, MariaDB JSON and JSON in a LONGTEXT, English and Korean keys, nested objects, NULL, ``{}``, a
JSON array, malformed JSON), through the contractor's whole flow over the real ODBC drivers with the scaffold's
connector untouched: ``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``; every
row of every table rebuilt from the opened bag and compared with the server's cell by cell (tests/lossless_kit.py).
What the scaffold maps and carries is pinned per table, and the vital signs it reads out of the documents (``db``:
fails, never skips, when a server is down).
"""

from __future__ import annotations

import base64
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
                found.setdefault(key, {})[slug] = None  # a blank set's measurement, absent (unknown)
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
        elif slug is not None:
            # '측정거부': the pulse an absent Observation (merge18's blank vital signs; was none), a field defect
            out[slug] = value if isinstance(value, int | float) else None
    return out


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_clinic_charting_in_json_documents_comes_back_cell_for_cell(engine: str, tmp_path: Path,
                                                                      request: pytest.FixtureRequest) -> None:
    conn_str = request.getfixturevalue("mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    clinic = create_jsondoc_clinic(conn_str, engine)
    # every cell of the four tables, the documents whole in the raw columns and the prescriptions' carried rows;
    # the visits whose vitals hold a measurement read again, and those whose soap holds a part of the note: their
    # key, patient and time counted as read twice by the reconciliation and rebuilt twice, each document once (in
    # the raw columns of the section that reads it again; the visit's section keeps the others: NULL, {}, [120, 80])
    notes = [n for n, note in clinic.notes.items() if _note_parts(note)]
    assert len(notes) == (141 if engine == "mariadb" else 142)  # 17 NULL, a {}, on MariaDB a cut-off one
    # and each drug of a prescription an order line (its key, patient, visit and day read again, its position,
    # code, name, dose and days read out of the document; tests/test_rxarray_clinic.py)
    drugs = sum(len(json.loads(items)) for items in clinic.prescriptions.values())
    assert drugs == 197  # 100 prescriptions of 1 to 3 drugs, one []
    assert through_the_flow(clinic, tmp_path) == clinic.cells + (157 + len(notes)) * 3 + drugs * 9
    bag = _bag(tmp_path)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    # the visit table read twice: its visits, and the vital signs of its vitals document (was: the document only
    # carried raw, no Observation); the station's table a vital-signs set per row (was: guessed vital_signs with no
    # measurement, every row quarantined unmappable); the prescriptions' rows carried whole by a section of their
    # own, each drug of their JSON array an order line (was: the table carried whole, no MedicationRequest)
    read = {"js_patient": ("patient",), "js_visit": ("chart_note_soap", "encounter", "vital_signs_vitals"),
            "js_vital_rec": ("vital_signs",), "js_rx": ("order_line", "prescription_js_rx")}
    assert {t["name"].lower(): tuple(t["entities"]) if t.get("entities") else t["fate"] for t in inventory} == {
        t.lower(): read.get(t.lower(), "carried") for t in ddl(engine)}
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # the visits whose vitals hold a measurement (not the NULL, {} or [120, 80] ones); the refused pulse a field
    # defect, its set kept; the station's {}, and on MariaDB its two malformed documents, sets of absent
    # measurements (since merge18's blank vital signs: were quarantined, this pin not updated then; before
    # JSON_VALID, MariaDB's JSON_VALUE read '{"혈압": "120/80", "맥박": 7' up to the break); a chart note per visit
    # whose soap holds a part (not the NULL, {} or, on MariaDB, cut-off ones)
    station_quarantined = 0
    assert {(e["entity"], e["source_rows"], e["exported"], e["quarantined"], json.dumps(e["field_defects"]))
            for e in report["entities"]} == {
        ("patient", 40, 40, 0, "{}"), ("encounter", 160, 160, 0, "{}"),
        ("vital_signs", 120, 120 - station_quarantined, station_quarantined, "{}"),
        ("vital_signs_vitals", 157, 157, 0, '{"invalid-number": 1}'),
        ("chart_note_soap", len(notes), len(notes), 0, "{}"), ("order_line", drugs, drugs, 0, "{}")}
    spec = tomllib.loads((tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8"))
    entities = spec["entities"]
    assert set(entities["vital_signs_vitals"]["fields"]) == {
        "patient_id", "encounter_id", "observed", "systolic", "diastolic", "pulse", "temperature", "weight", "spo2"}
    # the station's Korean keys; 측정자 (who measured) no vital sign, kept in the document carried raw
    station_fields = entities["vital_signs"]["fields"]
    assert set(station_fields) == {"patient_id", "observed", "systolic", "diastolic", "pulse", "temperature", "spo2"}
    # the note's parts in S/O/A/P order as the product's chart notes are (S_TXT/O_TXT/A_TXT/P_TXT), each under
    # both spellings, the most held first
    note_fields = entities["chart_note_soap"]["fields"]
    assert list(note_fields) == ["patient_id", "encounter_id", "recorded", "chief_complaint", "history", "course",
                                 "plan"]
    assert note_fields["course"]["expr"][engine] == (
        "COALESCE((soap ->> 'a'), (soap ->> '평가'))" if engine == "postgresql" else
        "CASE WHEN JSON_VALID(SOAP) THEN COALESCE(CASE WHEN JSON_TYPE(JSON_EXTRACT(SOAP, '$.\"a\"')) IN ('OBJECT', "
        "'ARRAY', 'BOOLEAN') THEN JSON_EXTRACT(SOAP, '$.\"a\"') ELSE JSON_VALUE(SOAP, '$.\"a\"') END, CASE WHEN "
        "JSON_TYPE(JSON_EXTRACT(SOAP, '$.\"평가\"')) IN ('OBJECT', 'ARRAY', 'BOOLEAN') THEN JSON_EXTRACT(SOAP, "
        "'$.\"평가\"') ELSE JSON_VALUE(SOAP, '$.\"평가\"') END) END")
    written = _chart_notes(bag)
    assert sorted(written, key=int) == [str(n) for n in notes]
    for n in notes:
        assert written[str(n)] == _note_parts(clinic.notes[n]), n
    assert [title for title, _ in written["1"]] == ["주호소", "현병력", "경과", "계획"]  # S, O, A, P
    assert written[str(clinic.dirty["plan_only_note"])] == [("계획", "경과 관찰")]
    assert written[str(clinic.dirty["null_assessment_note"])] == [("주호소", "두통"), ("현병력", "특이소견 없음"),
                                                                  ("계획", "재진")]
    assert "'$.\"맥박\"'" in station_fields["pulse"]["expr"][engine] if engine == "mariadb" else (
        station_fields["pulse"]["expr"][engine] == ("(CASE WHEN jsonb_typeof(CAST(data -> '맥박' AS jsonb)) IN "
                                                    "('object', 'array') THEN NULL ELSE data ->> '맥박' END)"))
    visits = _observations(bag, "js_visit")
    assert len(visits) == 157
    for n, (_, _, document) in clinic.visits.items():
        expected = _expected(document)
        assert visits.get(str(n), {}) == expected, (n, document)
    assert visits[str(clinic.dirty["refused_pulse"])] == {"bp": (118, 76), "temp": 36.6, "pulse": None}
    assert set(visits["3"]) == {"bp", "pulse", "temp", "weight"}  # {"혈압": …, "맥박": …, "체온": …, "체중": …}
    station = _observations(bag, "js_vital_rec")
    # {} and the malformed: each mapped measurement absent (merge18's blank vital signs), no value read part-way
    blank = {str(n) for n in (clinic.dirty["empty_station"], *clinic.dirty.get("malformed_station", ()))}
    assert len(blank) == (3 if engine == "mariadb" else 1)
    for n, (_, _, document) in clinic.station.items():
        expected = dict.fromkeys(("bp", "pulse", "temp", "spo2")) if str(n) in blank else _expected(document)
        assert station.get(str(n), {}) == expected, (n, document)
    # each document whole beside its record: the nested object, the key no field reads, the array
    raw, with_vitals, reread = (_raw_columns(bag, section) for section in ("encounter", "vital_signs_vitals",
                                                                          "chart_note_soap"))
    [vitals] = with_vitals["1"]
    nested = json.loads(with_vitals[str(clinic.dirty["nested_vitals"])][vitals])
    assert nested["extra"] == {"o2": 98, "자세": "좌위"}
    assert Decimal(str(nested["pulse"])) == 77
    # a note's document whole beside its chart note; the {} and the cut-off one (no note) beside their visit
    [soap] = reread["4"]
    assert json.loads(reread["4"][soap]) == json.loads(clinic.notes[4] or "")
    for planted in ("empty_note", "malformed_note"):
        if planted in clinic.dirty:
            n = clinic.dirty[planted]
            assert str(n) not in reread and raw[str(n)][soap] == clinic.notes[n], planted
    assert raw[str(clinic.dirty["array_vitals"])][vitals] == "[120, 80]"


def _raw_columns(bag: Path, section: str) -> dict[str, dict[str, Any]]:
    """Record key → the raw columns ``section``'s sidecar keeps of it."""
    return {line["key"]: line["columns"] for path in sorted(bag.glob(f"data/raw/columns/{section}.*.ndjson"))
            for line in map(json.loads, path.read_bytes().splitlines())}


#: a SOAP document's keys as the chart note's sections: S, O, A, P in that order
_PARTS = (("주호소", ("s", "주관적")), ("현병력", ("o", "객관적")), ("경과", ("a", "평가")), ("계획", ("p", "계획")))


def _note_parts(document: str | None) -> list[tuple[str, Any]]:
    """The sections a chart note read out of ``document`` holds: (title, the part: a text, or an object or list
    as parsed from its JSON text); none for NULL, malformed JSON, no object or no part."""
    try:
        parsed = json.loads(document) if document is not None else None
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    return [(title, value) for title, keys in _PARTS
            for value in [next((parsed[k] for k in keys if parsed.get(k) is not None), None)] if value is not None]


def _chart_notes(bag: Path) -> dict[str, list[tuple[str, Any]]]:
    """Visit key → the sections of its chart note as the DocumentReference carries them (an object or list part
    parsed from the JSON text it was read as)."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for path in sorted(bag.glob("data/fhir/DocumentReference.*.ndjson")):
        for resource in map(json.loads, path.read_bytes().splitlines()):
            [key] = [i["value"] for i in resource["identifier"] if i["system"].lower().endswith(":js_visit")]
            parts = []
            for content in resource["content"]:
                text = base64.b64decode(content["attachment"]["data"]).decode("utf-8")
                parts.append((content["attachment"]["title"], json.loads(text) if text[:1] in "{[" else text))
            found[key] = parts
    return found


def test_a_mysql_without_json_value_reads_the_documents_as_json_value_does(
        tmp_path: Path, mariadb_conn_str: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """MySQL has no JSON_VALUE before 8.0.21 (was: the vital signs' and the note's sections stopped the export with
    the server's error, and connector check let them through): the scaffold reads the server's version and lifts
    each key with JSON_UNQUOTE(JSON_EXTRACT(…)) behind a JSON_TYPE test. Forced here on this machine's MariaDB by the
    version the scaffold reads (8.0.20), with documents holding JSON nulls, missing keys, 1e2, 36.50, \\u escapes,
    Korean, quotes and backslashes: the bag's FHIR resources and raw records are the JSON_VALUE run's byte for byte.
    A connector written with JSON_VALUE and checked on such a server: connector check says so before its dry run."""
    from click.testing import CliRunner
    from jsondoc_clinic import AWKWARD_NOTES

    from emr_exporter.cli import main
    from emr_exporter.sources import drivers
    from test_foreign_schemas import _source_args
    from test_rxarray_clinic import same_bags

    clinic = create_jsondoc_clinic(mariadb_conn_str, "mariadb", awkward=True)
    cells = through_the_flow(clinic, tmp_path / "json_value")
    source, env = _source_args(clinic)
    monkeypatch.setattr(drivers, "server_version", lambda source: "8.0.20")
    check = CliRunner().invoke(main, ["connector", "check", str(tmp_path / "json_value/connectors/foreign"), *source],
                               env=env)
    said = " ".join(check.output.split())
    assert (check.exit_code, "Traceback" in check.output) == (2, False), check.output
    for section in ("vital_signs", "vital_signs_vitals", "chart_note_soap"):
        assert (f"[entities.{section}] reads JSON with JSON_VALUE, which this server (8.0.20) does not have (MariaDB "
                "10.2.3 and MySQL 8.0.21 have it): write the scaffold again against this server, which then reads "
                "each value with JSON_EXTRACT and JSON_UNQUOTE.") in said, section
    assert "[entities.order_line] reads a JSON array with JSON_TABLE, which this server (8.0.20)" in said
    assert through_the_flow(clinic, tmp_path / "extract") == cells
    queries = {run: (tmp_path / run / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
               for run in ("json_value", "extract")}
    assert (queries["json_value"].count("JSON_VALUE("), queries["extract"].count("JSON_VALUE(")) == (65, 0)
    assert "JSON_UNQUOTE(JSON_EXTRACT(VITALS, '$.\\\"pulse\\\"'))" in queries["extract"]
    read = same_bags(tmp_path / "json_value", tmp_path / "extract")
    assert sum(data.count(b"\n") for path, data in read.items() if "Observation" in path) > 600
    # what was read out of the awkward documents (the same in both bags)
    bag = _bag(tmp_path / "extract")
    visits, notes = _observations(bag, "js_visit"), _chart_notes(bag)
    assert visits["50"] == {"bp": (120, 80), "pulse": 100, "temp": 36.5}
    assert visits["51"] == {"pulse": 120, "temp": 36.5}
    assert visits["52"] == {"bp": (120, 80), "pulse": 90, "temp": 36.5, "weight": 62.5}
    assert _observations(bag, "js_vital_rec")["13"] == {"bp": (120, 80), "pulse": 100, "temp": 36.5}
    for n in (50, 52):
        assert notes[str(n)] == _note_parts(AWKWARD_NOTES[n]), n
    assert notes["50"][0] == ("주호소", '"두통" 3일, 경로 C:\\EMR\\note')
    # the text "null" a section, "" none; a number as written
    assert notes["51"] == [("주호소", "null"), ("경과", "Aé\n둘째 줄"), ("계획", "1e2")]


def test_a_server_without_json_functions_gets_no_json_lift_and_keeps_every_document_whole(
        tmp_path: Path, mariadb_conn_str: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """MariaDB before 10.2.3 and MySQL before 5.7.8 have no JSON function (was: the vital signs' and the note's
    sections written with JSON_VALUE, the export stopping with the server's error): the scaffold lifts no key, no
    section reads the documents again, and every document is carried whole as written in its table's records."""
    from emr_exporter.sources import drivers

    monkeypatch.setattr(drivers, "server_version", lambda source: "10.1.48-MariaDB")
    clinic = create_jsondoc_clinic(mariadb_conn_str, "mariadb", awkward=True)
    assert through_the_flow(clinic, tmp_path) == clinic.cells  # each cell once: nothing read again
    toml = (tmp_path / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
    assert [line for line in toml.splitlines() if "JSON_" in line and not line.startswith("#")] == []
    spec = tomllib.loads(toml)["entities"]
    assert not {"vital_signs_vitals", "chart_note_soap", "order_line"} & set(spec)
    bag = _bag(tmp_path)
    assert not list(bag.glob("data/fhir/DocumentReference*")) and not _observations(bag, "js_visit")
    raw = _raw_columns(bag, "encounter")
    [vitals] = [c for c in raw["1"] if c.lower() == "vitals"]
    [soap] = [c for c in raw["1"] if c.lower() == "soap"]
    assert {n: (raw[str(n)][vitals], raw[str(n)][soap]) for n in clinic.visits} == {
        n: (document, clinic.notes[n]) for n, (_, _, document) in clinic.visits.items()}
