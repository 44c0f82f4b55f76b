"""An IT contractor's flow on a Korean clinic nobody on the team has seen, whose MAPPED columns hold the nasty
values (tests/connectors/foreign_sections.py): ``scaffold`` → ``connector check`` → ``export --dry-run`` →
a sealed ``export`` → ``verify`` → ``open`` through the CLI, on a SQLite file and on a real MariaDB server
over its ODBC driver (``db``: fails, never skips, when the server is down).

The scaffold's connector.toml is used as written (no manual step): every section it guesses reads a table
holding planted values. Asserted: no command crashes; the reconciliation balances, its cell total being the
cells the builder inserted; every row of every table is rebuilt exactly from the opened bag
(``lossless_kit``); each planted cell is where its kind says (FHIR, a field defect with its reason in
``raw/columns``, or a quarantined row with its reason); the chart of the patient whose address is broken is
otherwise whole; and no quarantine reason, field defect, warning or report text holds a patient value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors.mapper import key_text
from emr_exporter.connectors.spec import load_spec
from emr_exporter.model import record_id
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import SqliteFileSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from foreign_sections import (
    HUGE_TEXT,
    USER_DEFINED_NAMES,
    SectionsDb,
    create_mariadb_latin1_cp949,
    create_mariadb_latin1_user_defined,
    create_mariadb_sections,
    create_postgres_sections,
    create_sqlite_sections,
)
from foreign_sections import PATIENTS as SECTION_PATIENTS

from lossless_kit import check_bag_against_source, lines
from test_foreign_schemas import checked, exported, scaffolded

#: the sections the scaffold must guess on this clinic, and the table each reads
SECTIONS = {"patient": "PT_MST", "encounter": "JUBSU", "diagnosis": "SANG", "order_line": "CHEOBANG",
            "lab_result": "LAB_RSLT", "receipt": "SUNAP", "allergy": "ALLERGY", "immunization": "VACCINE",
            "vital_signs": "VITAL_SIGN", "coverage": "INS_HIST"}


def _flow(db: SectionsDb, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """The CLI flow of ``test_foreign_schemas.contractor_flow``; here every table is read by a section."""
    flow = scaffolded(db, tmp_path)
    db.check = checked(flow)
    assert db.check["unmapped_tables"] == []
    db.connector = load_spec(flow.connectors / "foreign")
    return exported(flow, tmp_path)


def _entity_of(bag: Path) -> dict[str, str]:
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    return {t["name"]: t["entities"][0] for t in inventory if t["fate"] == "entities"}


def _fhir_ids(bag: Path) -> set[str]:
    return {json.loads(line)["id"] for path in bag.glob("data/fhir/*.ndjson")
            for line in path.read_bytes().splitlines()}


def assert_sections(db: SectionsDb, dry: dict[str, Any], sealed: dict[str, Any], bag: Path, source: Any) -> None:
    # every table is read by the section the scaffold guessed (none carried raw: the values are in sections)
    entities = _entity_of(bag)
    assert {e: t.lower() for t, e in entities.items()} == {e: t.lower() for e, t in SECTIONS.items()}
    # the reconciliation balances and its cells are the builder's (assert_outcomes), and every row of every
    # table comes back exactly from the bag: FHIR, raw/columns or quarantine
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # Every column of a section's query counts (docs/connectors.md): the scaffold's diagnosis query joins in
    # one, its visit's date (the KCD edition follows it), so the source holds one more cell per diagnosis row.
    query = db.connector.entities["diagnosis"].query or ""
    assert query.upper().startswith("SELECT D.*, V.JUBSU_YMD AS SCAFFOLD_SVC_DATE FROM SANG D LEFT JOIN JUBSU V")
    cells = db.cells + db.rows["sang"]
    for outcome in (dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == cells, (outcome["cells"], cells)
        assert outcome["cells"]["source"] == (outcome["cells"]["mapped"] + outcome["cells"]["carried_raw"]
                                              + outcome["cells"]["quarantined"])
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    assert {t["name"]: t["rows"] for t in inventory} == db.rows
    rebuilt = check_bag_against_source(bag, db.connector, source)
    assert rebuilt.rows == db.rows
    assert rebuilt.carried_cells + rebuilt.mapped_cells + rebuilt.quarantined_cells == db.cells
    fhir_ids = _fhir_ids(bag)
    spec_name = db.connector.name
    for plant in db.plants:
        entity = entities[plant.table]
        table = db.connector.entities[entity].table
        rid = record_id(spec_name, table, key_text(plant.key)) if plant.key is not None else "(no key, no id)"
        quarantined = [line for line in lines(bag, f"raw/{entity}")
                       if decode_raw(line["row"][db.keys[plant.table]]) == plant.key]
        sidecar = [line for line in lines(bag, f"raw/columns/{entity}") if line["id"] == rid]
        kind, _, reason = plant.fate.partition(":")
        if kind == "quarantine":
            assert len(quarantined) == 1, (plant.what, "not quarantined")
            assert quarantined[0]["reason_code"] == reason, (plant.what, quarantined[0]["reason_code"])
            if reason != "ambiguous-key":  # else the id is the first row's, whose key differs only by blanks
                assert rid not in fhir_ids
        else:
            assert not quarantined, (plant.what, quarantined[0]["reason_code"])
            assert rid in fhir_ids or any(i.startswith(rid + "-") for i in fhir_ids), plant.what
            defects = [(d["column"].lower(), d["reason_code"]) for line in sidecar for d in line.get("field_defects",
                                                                                                    [])]
            if kind == "field-defect":
                assert (plant.column, reason) in defects, (plant.what, defects)
            elif kind == "raw":
                assert [line for line in sidecar if plant.column in line["columns"]], plant.what
            else:
                assert not [d for d in defects if d[0] == plant.column], (plant.what, defects)
    # the chart of the patient with the broken address: every record of it exported
    for table, keys in db.whole_chart.items():
        entity = entities[table]
        for key in keys:
            rid = record_id(spec_name, db.connector.entities[entity].table, key_text(key))
            assert rid in fhir_ids or any(i.startswith(rid + "-") for i in fhir_ids), (table, key)
    # … and its Patient lacks only the address: name (CP949 on SQLite, decoded), chart number, birth date
    [patient] = [json.loads(line) for path in bag.glob("data/fhir/Patient*.ndjson")
                 for line in path.read_bytes().splitlines()
                 if json.loads(line)["id"] == record_id(spec_name, db.connector.entities["patient"].table, "14")]
    assert patient["address"] == [{"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                                  "valueCode": "error"}]}]
    assert patient["name"][0]["text"] == "이결손" and patient["birthDate"] == "1980-01-01"
    assert "C000014" in [i["value"] for i in patient["identifier"]]
    # reasons are specific: the field, and what it refers to
    reasons = {line["key"]: line["reason"] for line in lines(bag, "raw/diagnosis")}
    assert reasons["1014"] == "field 'encounter_id' refers to an encounter that does not exist"
    # a code in no code system is kept as recorded, claimed by none; a KCD code in lower case is still one
    conditions = {json.loads(line)["id"]: json.loads(line) for path in bag.glob("data/fhir/Condition*.ndjson")
                  for line in path.read_bytes().splitlines()}
    sang = db.connector.entities["diagnosis"].table
    [zzz] = conditions[record_id(spec_name, sang, "1015")]["code"]["coding"]
    assert zzz == {"system": "urn:emr-exporter:recorded-code", "code": "ZZZ99"}
    [j00] = conditions[record_id(spec_name, sang, "1001")]["code"]["coding"]
    assert j00 == {"system": "http://www.hl7korea.or.kr/CodeSystem/kostat-kcd-8", "code": "j00"}
    # reasons, defects, warnings and the reports name tables, fields and counts: never a patient value
    texts = [json.dumps({k: v for k, v in line.items() if k != "row"}, ensure_ascii=False)
             for entity in entities.values() for line in lines(bag, f"raw/{entity}")]
    texts += [json.dumps(dry, ensure_ascii=False), json.dumps(sealed, ensure_ascii=False),
              json.dumps(db.check, ensure_ascii=False)]
    texts += [p.read_text(encoding="utf-8") for p in (bag / "data/report").glob("*.json")
              if p.name in ("reconciliation.json", "inventory.json")]
    for text in texts:
        leaked = [db.secrets.index(secret) for secret in db.secrets if secret in text]
        assert not leaked, f"db.secrets{leaked} found in a message or report text"


def test_a_foreign_sqlite_clinic_with_nasty_sections_goes_through_the_whole_flow(tmp_path: Path) -> None:
    db = create_sqlite_sections(tmp_path / "sections.sqlite")
    dry, sealed, bag = _flow(db, tmp_path)
    assert db.connector.encoding == "cp949"
    # `connector check` names the key column of rows quarantined for their key (was "lab_result.(row) ()",
    # and the NULL key not listed at all)
    keyed = [d for d in db.check["defects"] if d["section"] == "lab_result" and d["field"] == "(key)"]
    assert sorted(keyed, key=lambda d: d["reason_code"]) == [
        {"section": "lab_result", "field": "(key)", "column": "RSLT_NO", "reason_code": "ambiguous-key", "rows": 1},
        {"section": "lab_result", "field": "(key)", "column": "RSLT_NO", "reason_code": "null-key", "rows": 1}]
    assert sum(d["rows"] for d in db.check["defects"]) + sum(o["orphans"] for o in db.check["orphans"]) == sum(
        e["quarantined"] for e in db.check["reconciliation"]["entities"])
    source = SqliteFileSource(db.path)  # type: ignore[arg-type]
    try:
        assert_sections(db, dry, sealed, bag, source)
    finally:
        source.close()
    # the 1 M character reaction is in the AllergyIntolerance, exactly
    # (its trailing blank trimmed there; the exact text is in raw/columns, which lossless_kit checked)
    [allergy] = [json.loads(line) for path in bag.glob("data/fhir/AllergyIntolerance*.ndjson")
                 for line in path.read_bytes().splitlines() if len(line) > 1_000_000]
    assert allergy["reaction"][0]["manifestation"][0]["text"] == HUGE_TEXT.strip()


@pytest.mark.db
def test_a_foreign_mariadb_clinic_with_nasty_sections_goes_through_the_whole_flow(
        tmp_path: Path, mariadb_conn_str: str) -> None:
    from emr_exporter.sources.drivers import get_option
    from emr_exporter.sources.odbc import OdbcSource

    db = create_mariadb_sections(mariadb_conn_str)
    dry, sealed, bag = _flow(db, tmp_path)
    assert db.odbc is not None
    source = OdbcSource(db.odbc, get_option(db.odbc, "PWD"))
    try:
        assert_sections(db, dry, sealed, bag, source)
    finally:
        source.close()


@pytest.mark.db
def test_a_foreign_postgresql_clinic_with_nasty_sections_goes_through_the_whole_flow(
        tmp_path: Path, postgres_conn_str: str) -> None:
    from emr_exporter.sources.drivers import get_option
    from emr_exporter.sources.odbc import OdbcSource

    db = create_postgres_sections(postgres_conn_str)
    dry, sealed, bag = _flow(db, tmp_path)
    assert db.odbc is not None
    source = OdbcSource(db.odbc, get_option(db.odbc, "PWD"))
    try:
        assert_sections(db, dry, sealed, bag, source)
    finally:
        source.close()


@pytest.mark.db
def test_cp949_text_in_latin1_columns_is_read_as_bytes_by_the_scaffolds_section(
        tmp_path: Path, mariadb_conn_str: str) -> None:
    # Legacy Korean MySQL: CP949 bytes in columns declared latin1. Before, the scaffold saw plain text
    # ('±èÈ¯ÀÚ1'), guessed encoding = "utf-8" and said nothing: the export wrote that mojibake as the
    # patient's name. Now the section's query reads the column as bytes and [source] encoding is cp949.
    db = create_mariadb_latin1_cp949(mariadb_conn_str)
    dry, sealed, bag = _flow(db, tmp_path)
    assert db.connector.encoding == "cp949"
    assert db.connector.entities["patient"].query == (
        "SELECT PT_NO, CHART_NO, CAST(PT_NM AS BINARY) AS PT_NM, BIRTH_YMD FROM PATIENT")
    toml = (tmp_path / "connectors" / "foreign" / "connector.toml").read_text(encoding="utf-8")
    assert "# GUESS (PT_NM: CP949 text the server declares latin1, read as bytes and decoded with [source] " \
           "encoding)" in toml and "WARNING" not in toml
    profile = (tmp_path / "connectors" / "foreign" / "PROFILE.md").read_text(encoding="utf-8")
    assert "| PT_NM | VARCHAR |  | 0.0 | 12 |" in profile and "cp949-read-as-latin1" in profile
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"] and outcome["cells"]["source"] == db.cells
        assert outcome["entities"][0]["exported"] == db.rows["patient"]
    names = sorted(json.loads(line)["name"][0]["text"] for path in bag.glob("data/fhir/Patient*.ndjson")
                   for line in path.read_bytes().splitlines())
    assert names == sorted(f"김환자{i}" for i in range(1, db.rows["patient"] + 1))
    # the name is rebuilt exactly from FHIR (its bytes, through [source] encoding): nothing carried for it
    [line] = [line for line in lines(bag, "raw/columns/patient") if line["key"] == "3"] or [{"columns": {}}]
    assert "pt_nm" not in line["columns"]


@pytest.mark.db
def test_user_defined_characters_in_a_latin1_section_are_exported_as_in_a_euckr_column(
        tmp_path: Path, mariadb_conn_str: str) -> None:
    # A latin1 column holding CP949 bytes, read by the scaffold's section (CAST AS BINARY, [source] encoding =
    # "cp949"), with a 외자 in EUC-KR's user-defined rows: read as the private-use code point Windows' code page
    # 949 gives it, as a euckr column's is (tests/test_legacy_maria_clinic.py), and rebuilt to the very bytes.
    # Before: each such row was quarantined 'bad-encoding' (Python's cp949 has no mapping for those rows).
    from emr_exporter.sources.drivers import get_option
    from emr_exporter.sources.odbc import OdbcSource

    db = create_mariadb_latin1_user_defined(mariadb_conn_str)
    dry, sealed, bag = _flow(db, tmp_path)
    assert db.connector.encoding == "cp949"
    assert db.connector.entities["patient"].query == (
        "SELECT PT_NO, CHART_NO, CAST(PT_NM AS BINARY) AS PT_NM, BIRTH_YMD FROM PATIENT")
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"] and outcome["cells"]["source"] == db.cells
        [patient] = outcome["entities"]
        assert (patient["exported"], patient["quarantined"]) == (SECTION_PATIENTS - 1, 1)
    names = {json.loads(line)["identifier"][0]["value"]: json.loads(line)["name"][0]["text"]
             for path in bag.glob("data/fhir/Patient*.ndjson") for line in path.read_bytes().splitlines()}
    assert names == {**{f"C{i:04d}": f"김환자{i}" for i in range(1, SECTION_PATIENTS + 1) if i not in (2, 3, 4, 5)},
                     "C0002": "이\ue000순", "C0003": "박\ue05e\ue0bb", "C0004": "똠\ue05d"}
    # a pair nothing assigns: quarantined as before, its bytes kept
    [quarantined] = list(lines(bag, "raw/patient"))
    assert (quarantined["key"], quarantined["reason_code"]) == ("5", "bad-encoding")
    assert decode_raw(quarantined["row"]["pt_nm"]) == USER_DEFINED_NAMES[5]
    # every row of the table rebuilt from the opened bag: the names' very bytes from FHIR, nothing carried for them
    assert not [line for line in lines(bag, "raw/columns/patient") if "pt_nm" in line["columns"]]
    assert db.odbc is not None
    source = OdbcSource(db.odbc, get_option(db.odbc, "PWD"))
    try:
        assert dict(check_bag_against_source(bag, db.connector, source, {"patient": {"pt_nm"}}).rows) == {"patient": SECTION_PATIENTS}
    finally:
        source.close()
