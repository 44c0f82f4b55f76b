"""An IT contractor on a modern in-house PostgreSQL EMR (tests/connectors/pg_typed_clinic.py: its own schema on
the search_path, "Patient"."ChartNo" in capitals, uuid and composite keys, money, numeric NaN, float8 ±Infinity,
interval, timetz, ranges, a composite type, bit/varbit, char(n), xml, tsvector, jsonb), through the CLI over the
real ODBC driver: ``scaffold``, ``connector check``, a dry run, a sealed export, ``verify`` and ``open`` (``db``:
fails, never skips, when the server is down).
"""

from __future__ import annotations

import collections
import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from pg_typed_clinic import LONG_NOTE, TypedClinic, create_char_keyed_clinic, create_typed_clinic

import lossless_kit
from emr_exporter.connectors import load_connector
from emr_exporter.pipeline.export import carried_select
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.catalog import convert_row, list_tables, readable_query
from emr_exporter.sources.odbc import OdbcSource
from test_foreign_schemas import assert_expected_values, checked, exported, scaffolded

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def clinic(postgres_conn_str: str) -> TypedClinic:
    return create_typed_clinic(postgres_conn_str)


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _sidecar_lines(bag: Path, entity: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/raw/columns/{entity}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _sidecar(bag: Path, entity: str) -> dict[str, dict[str, Any]]:
    return {line["key"]: {k: decode_raw(v) for k, v in line["columns"].items()}
            for path in sorted(bag.glob(f"data/raw/columns/{entity}.*.ndjson"))
            for line in map(json.loads, path.read_bytes().splitlines())}


def test_the_untouched_scaffold_goes_through_the_whole_flow(clinic: TypedClinic, tmp_path: Path) -> None:
    flow = scaffolded(clinic, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    # the enum of HL7 letters ('M', 'F', 'U'): was not mapped (no map knew 'U'), every patient's gender missing;
    # the lab results' test_code/test_name/value_num: were not recognised ('no column found for required field
    # code or name'), the table carried raw
    assert spec["entities"]["patient"]["fields"]["sex"] == {
        "column": "Sex", "type": "code", "map": {"M": "male", "F": "female", "O": "other", "U": "unknown"}}
    # the composite "Address" (city, street, zip): was guessed as the address, Patient.address.text its row
    # literal '("서울 1구","가상로 1길 😀",00001)'; now carried raw
    assert set(spec["entities"]["patient"]["fields"]) == {"chart_number", "name", "birth_date", "rrn", "phone", "sex"}
    assert {k: v["column"] for k, v in spec["entities"]["lab_result"]["fields"].items()} == {
        "patient_id": "patient_id", "observed": "resulted_at", "code": "test_code", "name": "test_name",
        "value": "value_num", "unit": "unit"}
    # Before: connector check stopped with 'an unexpected problem (ValueError) stopped emr-exporter at fhir.py:434
    # in decimal_element; fhir.py:926 in _service_request; fhir.py:855 in _order_line. This is a bug' on a dose
    # stored as numeric 'NaN' (to_decimal passed a Decimal through unchecked); now a field defect, the row exported
    check = checked(flow)
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"], json.dumps(s["field_defects"]))
            for s in check["reconciliation"]["entities"]} == {
        ("patient", 24, 23, 1, "{}"), ("encounter", 72, 68, 4, "{}"), ("diagnosis", 72, 68, 4, "{}"),
        ("order_line", 24, 22, 2, '{"invalid-number": 1}'), ("lab_result", 36, 34, 2, "{}")}
    assert [t["table"] for t in check["unmapped_tables"]] == ["emr.insurance", "emr.room_map"]
    dry, sealed, bag = exported(flow, tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    for outcome in (dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == clinic.cells  # emr.audit_log too: a log is carried as it is ([carry])
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    assert {t["name"]: t["rows"] for t in inventory} == clinic.rows
    # money read as the amount it is: was psqlODBC's float (92233720368547758.07 carried as 9.223372036854776e+16,
    # 2000.10 as 2000.1), in a section's columns and in a carried table alike; the 210,000-character note whole
    assert_expected_values(clinic, bag, inventory)
    assert len(LONG_NOTE) == 210_000
    # the NaN dose, which no FHIR decimal can hold, beside its exported order
    dose = _sidecar(bag, "order_line")[clinic.dirty["nan_dose"]]["dose"]
    assert isinstance(dose, Decimal) and dose.is_nan()
    visits = _sidecar(bag, "encounter")
    assert sorted({str(v["fee"]) for v in visits.values()}) == ["-5.25", "0.00", "1234.50"]
    assert '("서울 1구","가상로 1길 😀",00001)' in {v["address"] for v in _sidecar(bag, "patient").values()}
    genders = [p.get("gender") for p in _resources(bag, "Patient")]
    assert collections.Counter(genders) == {"male": 8, "female": 7, "unknown": 8}  # no sex recorded: unknown
    # an enum of appointment slots ('0930') is text, not a time (was carried as {"time": "09:30:00"})
    assert sorted({v["slot"] for v in visits.values()}) == ["0900", "0930", "1000"]


def test_domain_and_enum_columns_are_read_as_what_they_hold(clinic: TypedClinic) -> None:
    # psqlODBC names a domain or an enum column by the type's own name: a domain over date (DOB) was read by the
    # driver ('infinity' as today's date, 44 BC as AD 44), a domain over timestamptz lost 'infinity' (9999-12-31)
    # and its offset, a domain over money was a float, and a domain over varchar named YMD_DATE or an enum named
    # TIME_SLOT was parsed by its name ('19800101' carried as 1980-01-01, '0930' as 09:30:00)
    assert clinic.odbc is not None
    source = OdbcSource(clinic.odbc)
    try:
        [table] = [t for t in list_tables(source) if t.name == "emr.insurance"]
        assert [c.type for c in table.columns] == ["INT4", "UUID", "DOB", "YMD_DATE", "STAMP", "WON", "TIME_SLOT"]
        select, converters = carried_select("postgresql", table)
        rows = [convert_row(r, converters) for r in source.rows(f"SELECT {select} FROM emr.insurance ORDER BY id")]
        assert [(r["valid_until"], r["issued"], r["copay"], r["slot"]) for r in rows] == [
            ("infinity", "19800101", Decimal("92233720368547758.07"), "0930"),
            ("0044-03-15 BC", "20240229", Decimal("0.10"), None)]
        assert rows[0]["verified"] == "infinity" and rows[1]["verified"].utcoffset() is not None
        # a section's own query: the enum by what it is, not by its name
        query, converters = readable_query(source, "SELECT V.slot, V.seq FROM emr.visit V")
        assert {convert_row(r, converters)["slot"] for r in source.rows(query)} == {"0900", "0930", "1000"}
    finally:
        source.close()


def test_a_clinic_keyed_by_padded_char_chart_numbers_is_exported(tmp_path: Path, postgres_conn_str: str) -> None:
    # Before: every patient quarantined as 'ambiguous-key' ("differs from another row's key only by spaces"): the
    # padded key 'C00001    ' was looked up trimmed, and PostgreSQL's char(n) found the row itself; every visit
    # and diagnosis then an orphan. The untouched scaffold exported nothing but quarantined rows.
    db = create_char_keyed_clinic(postgres_conn_str)
    flow = scaffolded(db, tmp_path)
    check = checked(flow)
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {
        ("patient", 30, 30, 0), ("encounter", 60, 60, 0), ("diagnosis", 60, 60, 0)}
    assert (check["defects"], check["orphans"]) == ([], [])
    dry, sealed, bag = exported(flow, tmp_path)
    assert dry["reconciliation"]["balanced"] and sealed["reconciliation"]["balanced"]
    patients = {i["value"]: p for p in _resources(bag, "Patient") for i in p["identifier"]
                if i["system"].startswith("urn:emr-exporter:source")}
    assert sorted(patients) == [f"C{i:05d}" for i in range(1, 31)]
    # the key as stored, padding and all, beside the resource
    assert {line["columns"]["chart_no"] for line in _sidecar_lines(bag, "patient")} == {
        f"C{i:05d}".ljust(10) for i in range(1, 31)}
    encounters = _resources(bag, "Encounter")
    assert {e["subject"]["reference"] for e in encounters} == {f"Patient/{p['id']}" for p in patients.values()}


FINISHED_SECTIONS = '''
[entities.vital_signs]
table = "emr.visit"
key = ["patient_id", "seq"]
query = """SELECT V.*, CASE WHEN jsonb_typeof(V.vitals) = 'object' THEN (V.vitals->>'sbp')::numeric END AS sbp,
  CASE WHEN jsonb_exists(V.vitals, 'dbp') THEN (V.vitals->>'dbp')::numeric END AS dbp, V.fee AS fee_paid
  FROM emr.visit V"""

[entities.vital_signs.fields]
patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }
observed = { column = "visited_at", type = "datetime", required = true }
systolic = { column = "sbp", type = "decimal" }
diastolic = { column = "dbp", type = "decimal" }
weight = { column = "fee_paid", type = "decimal" }
'''


def test_every_cell_of_the_finished_connectors_sections_is_rebuilt_from_the_bag(clinic: TypedClinic,
                                                                               tmp_path: Path) -> None:
    # the scaffold's connector and a vital-signs section out of the jsonb (a money column as a decimal field):
    # every row of every section rebuilt from the opened bag (FHIR, raw sidecars, quarantine) equals the row the
    # section reads, cell by cell, value, type and written form (lossless_kit)
    flow = scaffolded(clinic, tmp_path)
    path = flow.connectors / "foreign" / "connector.toml"
    path.write_text(path.read_text(encoding="utf-8") + FINISHED_SECTIONS, encoding="utf-8")
    dry, sealed, bag = exported(flow, tmp_path)
    assert dry["reconciliation"] == sealed["reconciliation"]
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in sealed["reconciliation"]["entities"]} >= {("vital_signs", 72, 68, 4), ("lab_result", 36, 34, 2)}
    spec = load_connector("foreign", [flow.connectors])
    assert clinic.odbc is not None
    source = OdbcSource(clinic.odbc, time_zone="Asia/Seoul")  # as the export reads (its [source] timezone)
    try:
        context, result = lossless_kit._BagContext(bag), lossless_kit.Rebuilt()
        for name, entity in spec.entities.items():
            query, converters = readable_query(source, entity.inner_sql)
            rows = [convert_row(r, converters) for r in source.rows(query)]
            lossless_kit._check_entity(bag, spec, name, rows, context, result)
    finally:
        source.close()
    assert dict(result.rows) == {"emr.patient": 24, "emr.visit": 72, "emr.diagnosis": 72, "emr.prescription": 24,
                                 "emr.lab_result": 36}
    # the lab results' float8 Infinity and NaN: text in FHIR (no FHIR decimal holds them), rebuilt exactly
    labs = _resources(bag, "Observation")
    assert {r.get("valueString") for r in labs if "valueString" in r} >= {"inf", "-inf", "nan"}
