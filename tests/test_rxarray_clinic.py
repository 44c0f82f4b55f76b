"""A clinic whose prescriptions keep their drugs as a JSON array in one column (tests/connectors/rxarray_clinic.py:
PostgreSQL jsonb and json, MariaDB LONGTEXT, a SQLite file's TEXT read as a file and over the SQLite3 ODBC driver;
English and Korean keys; NULL, ``[]``, an object, a string, malformed text, elements naming no drug), through the
contractor's whole flow with the scaffold's connector untouched: ``scaffold`` → ``connector check`` → dry run →
sealed ``export`` → ``verify`` → ``open``; every cell of every table rebuilt from the opened bag
(tests/lossless_kit.py: the order lines' rows as their query reads them out of the document, the documents whole
with the prescriptions' rows), and each element naming a drug one MedicationRequest with its dose, frequency, days
and route (``db``: fails, never skips, when a server is down).
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
from rxarray_clinic import KINDS, RxArrayClinic, create_rxarray_clinic

from emr_exporter.pipeline.raw import decode_raw
from lossless_kit import lines
from test_random_clinics import sqlite_through_the_flow
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

EDI = "http://www.hl7korea.or.kr/CodeSystem/hira-edi-medication"
#: an element's keys, English and Korean, per what the order line reads
_KEYS = {"code": ("code", "약품코드"), "name": ("name", "약품명"), "dose": ("dose", "1회량"),
         "frequency": ("times", "횟수"), "days": ("days", "일수"), "route": ("용법",)}
#: the order line section's columns: the prescription's key, patient, visit and day, the element's position and
#: its code, name, dose, times, days and 용법
_LINE_COLUMNS = 11


def _first(element: dict[str, Any], field: str) -> Any:
    return next((element[k] for k in _KEYS[field] if element.get(k) is not None), None)


def _expected(clinic: RxArrayClinic) -> dict[str, tuple[Any, ...]]:
    """"<RX_ID>|<position>" → (patient, visit, code, name, dose, frequency, days, route) of each element naming a
    drug: none from a NULL, malformed or non-array document; a dose that is no number or an object none."""
    out: dict[str, tuple[Any, ...]] = {}
    for rx, (patient, visit, _, document) in clinic.prescriptions.items():
        try:
            parsed = json.loads(document) if document is not None else None
        except ValueError:
            continue
        for position, element in enumerate(parsed if isinstance(parsed, list) else (), start=1):
            if not isinstance(element, dict) or (_first(element, "code") is None and _first(element, "name") is None):
                continue
            dose = _first(element, "dose")
            out[f"{rx}|{position}"] = (
                str(patient), str(visit), _first(element, "code"), _first(element, "name"),
                Decimal(str(dose)) if isinstance(dose, int | float) else None, _first(element, "frequency"),
                _first(element, "days"), _first(element, "route"))
    return out


def _by_identifier(bag: Path, resource_type: str, table: str) -> dict[str, dict[str, Any]]:
    """The key → the resource of ``resource_type`` made from ``table``'s rows."""
    found: dict[str, dict[str, Any]] = {}
    for resource in lines(bag, f"fhir/{resource_type}"):
        [key] = [i["value"] for i in resource["identifier"] if i["system"].lower().endswith(f":{table}")]
        found[key] = resource
    return found


def _line(request: dict[str, Any], patients: dict[str, str], visits: dict[str, str]) -> tuple[Any, ...]:
    """What a MedicationRequest says, as :func:`_expected` writes it."""
    concept = request["medicationCodeableConcept"]
    [dosage] = request["dosageInstruction"]
    codes = [(c["system"], c["code"]) for c in concept.get("coding", ())]
    assert all(system == EDI for system, _ in codes)  # a HIRA drug code, as a column of them is read
    dose = dosage.get("doseAndRate", [{}])[0].get("doseQuantity", {}).get("value")
    supply = request.get("dispenseRequest", {}).get("expectedSupplyDuration", {})
    return (patients[request["subject"]["reference"]], visits[request["encounter"]["reference"]],
            codes[0][1] if codes else None, concept.get("text"), Decimal(str(dose)) if dose is not None else None,
            dosage.get("timing", {}).get("repeat", {}).get("frequency"), supply.get("value"),
            dosage.get("route", {}).get("text"))


@pytest.mark.parametrize("kind", KINDS)
def test_a_prescriptions_json_array_of_drugs_is_one_order_line_per_element(kind: str, tmp_path: Path,
                                                                           request: pytest.FixtureRequest) -> None:
    if kind.startswith("sqlite"):  # the file itself, or over the SQLite3 ODBC driver (json_each either way)
        clinic = create_rxarray_clinic(kind, path=tmp_path / "rxarray.sqlite")
        assert clinic.path is not None
        cells = sqlite_through_the_flow(clinic.path, tmp_path, over_odbc=kind == "sqlite-odbc")
    else:
        server = request.getfixturevalue("mariadb_conn_str" if kind == "mariadb" else "postgres_conn_str")
        clinic = create_rxarray_clinic(kind, server)
        # the scaffold's pages of as many rows as 16 MB hold (each a read of every document); the contractor's of 7
        # rows on two of them: the order lines paged on the prescription's key and the position
        pages = "page_size = 100000" if kind == "postgresql-jsonb" else "page_size = 7"

        def edit(toml: str) -> str:
            assert toml.count("page_size = 100000") == 1  # the order line section's only
            return toml.replace("page_size = 100000", pages)

        cells = through_the_flow(clinic, tmp_path, edit=edit)
    expected = _expected(clinic)
    # 80 prescriptions of 1 to 4 drugs; none from NULL, [], an object, a string (and MariaDB's/SQLite's cut-off
    # one), the nameless and the string element: each cell of the tables once, and each order line's cells (the
    # prescription's key, patient, visit and day read again, the position and the element's values read out)
    assert len(expected) == (178 if kind in ("mariadb", "sqlite", "sqlite-odbc") else 182)
    assert cells == clinic.cells + len(expected) * _LINE_COLUMNS
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    inventory = {t["name"]: t for t in json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]}
    rx = inventory["ra_rx"]
    # the prescriptions' rows carried whole by their own section (RX_ITEMS as written), the order lines read out of
    # them again: no column of the table carried a second time beside them (was: every column, each cell twice)
    assert (rx["fate"], sorted(rx["entities"]), "unselected_columns" in rx) == (
        "entities", ["order_line", "prescription_ra_rx"], False)
    report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    lines_read = next(e for e in report["entities"] if e["entity"] == "order_line")
    assert (lines_read["source_rows"], lines_read["exported"], lines_read["quarantined"], lines_read["rereads"],
            lines_read["field_defects"]) == (len(expected), len(expected), 0, "prescription_ra_rx",
                                            {"invalid-number": 1})  # the dose "반알"
    [carried] = report["carried_sections"]
    assert (carried["section"], carried["source_rows"], carried["carried"], carried["columns"]) == (
        "prescription_ra_rx", 80, 80, 5)
    written = {key_text: decode_raw(line["row"]["rx_items"])
               for line in lines(bag, "raw/sections/prescription_ra_rx")
               for key_text in [str(decode_raw(line["row"]["rx_id"]))]}
    as_written = {str(n): document for n, (_, _, _, document) in clinic.prescriptions.items()}
    if kind == "postgresql-jsonb":  # the server's text of it (its own key order and spaces): the same document
        assert {k: json.loads(v) if v is not None else None for k, v in written.items()} == {
            k: json.loads(v) if v is not None else None for k, v in as_written.items()}
    else:  # byte for byte (PostgreSQL json keeps its text; MariaDB's and SQLite's text, the cut-off one too)
        assert written == as_written
    # one MedicationRequest per element naming a drug, keyed by the prescription and the element's position
    patients = {f"Patient/{r['id']}": k for k, r in _by_identifier(bag, "Patient", "ra_patient").items()}
    visits = {f"Encounter/{r['id']}": k for k, r in _by_identifier(bag, "Encounter", "ra_visit").items()}
    requests = _by_identifier(bag, "MedicationRequest", "ra_rx")
    assert sorted(requests) == sorted(expected)
    for key, resource in requests.items():
        assert _line(resource, patients, visits) == expected[key], key
        assert resource["groupIdentifier"]["value"] == key.split("|")[0]
        assert resource["category"][0]["coding"][0]["code"] == "drug"
    dirty = clinic.dirty
    # the element naming no drug and the string element: no line, their values in the document only
    assert {k for k in requests if k.split("|")[0] in (str(dirty["nameless_element"]), str(dirty["string_element"]))
            } == {f"{dirty['nameless_element']}|1", f"{dirty['nameless_element']}|3", f"{dirty['string_element']}|2"}
    assert "보류" in written[str(dirty["nameless_element"])]
    assert expected[f"{dirty['code_only']}|1"][2:4] == ("643301010", None)
    assert expected[f"{dirty['name_only']}|1"][2:4] == (None, "한약 과립")
    assert expected[f"{dirty['dose_object']}|1"][4] is None
    assert expected["1|1"] == ("9", "8", "643301010", "노바스크정5mg", Decimal(1), 3, 4, "식전")


def _bag_files(tmp_path: Path) -> dict[str, bytes]:
    """The opened bag's FHIR resources and raw records (``data/fhir``, ``data/raw``): path → bytes."""
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    return {str(p.relative_to(bag)): p.read_bytes() for part in ("data/fhir", "data/raw")
            for p in sorted((bag / part).rglob("*")) if p.is_file()}


def same_bags(first: Path, second: Path) -> dict[str, bytes]:
    """Assert the bags opened under ``first`` and ``second`` hold the same FHIR resources and raw records byte for
    byte, but the FHIR manifest's transactionTime (the export's own moment); the first's files (path → bytes)."""
    read, other = _bag_files(first), _bag_files(second)
    assert sorted(other) == sorted(read)
    assert [path for path in read if other[path] != read[path]] == ["data/fhir/manifest.json"]
    manifests = [{k: v for k, v in json.loads(files["data/fhir/manifest.json"]).items() if k != "transactionTime"}
                 for files in (read, other)]
    assert manifests[0] == manifests[1] and len(manifests[0]) > 1
    return read


def _seven_rows(toml: str) -> str:
    assert toml.count("page_size = 100000") == 1
    return toml.replace("page_size = 100000", "page_size = 7")


def test_a_mariadb_without_json_table_reads_each_element_at_its_position_as_json_table_does(
        tmp_path: Path, mariadb_conn_str: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """MariaDB 10.2.3–10.5 and MySQL 5.7.8–8.0.20 have no JSON_TABLE (was: the export stopped at the order line
    section with the server's syntax error): the scaffold reads the server's version and writes the positions'
    query (json_columns._positions_sql). Forced here on this machine's MariaDB (10.6+) by the version the scaffold
    reads: the same clinic through the whole flow gives a bag whose FHIR resources and raw records are the JSON_TABLE
    run's byte for byte."""
    from emr_exporter.sources import drivers
    from emr_exporter.sources.odbc import OdbcSource

    clinic = create_rxarray_clinic("mariadb", mariadb_conn_str)
    source = OdbcSource(mariadb_conn_str)
    try:  # the server's own version, as the scaffold reads it: 10.6 or later here
        version = drivers.server_version(source)
    finally:
        source.close()
    assert version is not None and "MariaDB" in version and drivers.json_array_reading(version) == "json_table"
    cells = through_the_flow(clinic, tmp_path / "json_table", edit=_seven_rows)
    monkeypatch.setattr(drivers, "server_version", lambda source: "10.5.27-MariaDB-log")
    assert through_the_flow(clinic, tmp_path / "positions", edit=_seven_rows) == cells
    queries = {run: (tmp_path / run / "connectors/foreign/connector.toml").read_text(encoding="utf-8")
               for run in ("json_table", "positions")}
    assert ("JSON_TABLE(" in queries["json_table"], "STRAIGHT_JOIN" in queries["json_table"]) == (True, False)
    assert ("JSON_TABLE(" in queries["positions"], "STRAIGHT_JOIN" in queries["positions"]) == (False, True)
    assert "this server (10.5.27-MariaDB-log) has no JSON_TABLE" in queries["positions"]
    read = same_bags(tmp_path / "json_table", tmp_path / "positions")
    requests = [line for path, data in read.items() if "MedicationRequest" in path for line in data.splitlines()]
    assert len(requests) == len(_expected(clinic)) == 178


def test_a_mariadb_without_json_functions_carries_the_prescriptions_whole_and_says_so(
        tmp_path: Path, mariadb_conn_str: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """MariaDB before 10.2.3 and MySQL before 5.7.8 have no JSON function: the scaffold says so in plain words
    before any export, writes no order line section over the array, and the table is carried whole, every drug in
    its document as written (connector check and the export as before the array was read)."""
    from click.testing import CliRunner

    from emr_exporter.cli import main
    from emr_exporter.sources import drivers
    from test_foreign_schemas import _source_args

    monkeypatch.setattr(drivers, "server_version", lambda source: "10.1.48-MariaDB")
    clinic = create_rxarray_clinic("mariadb", mariadb_conn_str)
    source, env = _source_args(clinic)
    said = CliRunner().invoke(main, ["scaffold", *source, "--name", "old", "--out", str(tmp_path / "said")], env=env)
    assert said.exit_code == 0, said.output
    assert ("  order_line       RA_RX? commented out: RX_ITEMS of RA_RX keeps the prescription's drugs as a JSON "
            "array, which this server (10.1.48-MariaDB) cannot read: it has no JSON functions (MariaDB 10.2.3 and "
            "MySQL 5.7.8 have them); RA_RX is carried whole, every drug in its document as written, and no order "
            "line or MedicationRequest is made of it; no column for edi_code or local_code or name") in said.output
    toml = (tmp_path / "said/old/connector.toml").read_text(encoding="utf-8")
    assert "JSON_" not in toml and "\n[entities.order_line]" not in toml
    cells = through_the_flow(clinic, tmp_path / "flow")
    assert cells == clinic.cells  # no order line read again: each cell of the tables once
    [bag] = [p.parent for p in (tmp_path / "flow/opened").rglob("bag-info.txt")]
    assert not list(bag.glob("data/fhir/MedicationRequest*"))
    inventory = {t["name"]: t for t in json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]}
    assert inventory["ra_rx"]["fate"] != "entities"


def test_connector_check_on_an_older_server_says_plainly_json_table_is_missing(
        tmp_path: Path, mariadb_conn_str: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connector scaffolded against MariaDB 10.6+ (JSON_TABLE) and checked on a server without it: connector check
    stops before its dry run and says what to do, in plain words (was: the server's syntax error)."""
    from click.testing import CliRunner

    from emr_exporter.cli import main
    from emr_exporter.sources import drivers
    from test_foreign_schemas import _source_args

    clinic = create_rxarray_clinic("mariadb", mariadb_conn_str)
    source, env = _source_args(clinic)
    out = tmp_path / "connectors"
    assert CliRunner().invoke(main, ["scaffold", *source, "--name", "rx", "--out", str(out)], env=env).exit_code == 0
    assert "JSON_TABLE(" in (out / "rx/connector.toml").read_text(encoding="utf-8")
    said = {}
    for version in ("10.5.27-MariaDB", "5.7.44-log", "10.1.48-MariaDB"):
        monkeypatch.setattr(drivers, "server_version", lambda source, version=version: version)
        check = CliRunner().invoke(main, ["connector", "check", str(out / "rx"), *source], env=env)
        said[version] = (check.exit_code, "Traceback" in check.output, " ".join(check.output.split()))
    assert said["10.5.27-MariaDB"][:2] == said["5.7.44-log"][:2] == said["10.1.48-MariaDB"][:2] == (2, False)
    assert ("[entities.order_line] reads a JSON array with JSON_TABLE, which this server (5.7.44-log) does not have "
            "(MariaDB 10.6 and MySQL 8.0.21 have it): write the scaffold again against this server, which then reads "
            "each element of the array at its position.") in said["5.7.44-log"][2]
    assert ("[entities.order_line] reads JSON documents with JSON functions, which this server (10.1.48-MariaDB) does "
            "not have (MariaDB 10.2.3 and MySQL 5.7.8 have them): leave out the section or the fields that read them, "
            "and the documents are carried whole as written.") in said["10.1.48-MariaDB"][2]
