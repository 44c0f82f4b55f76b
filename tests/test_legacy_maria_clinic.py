"""An IT contractor on a 2000s Korean client/server EMR's MySQL database, now on MariaDB
(tests/connectors/legacy_maria_clinic.py: euckr tables on MyISAM and Aria, composite visit keys, zero dates,
legacy types), through the CLI over MariaDB Connector/ODBC: ``scaffold``, ``connector check``, a dry run, a
sealed export, ``verify`` and ``open`` (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.pipeline.raw import decode_raw

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from legacy_maria_clinic import OLD_NOTES, PATIENTS, UDA, VITAL_BT, LegacyClinic, create_legacy_maria_clinic

from test_foreign_schemas import checked, exported, scaffolded


@pytest.fixture(scope="module")
def clinic(mariadb_conn_str: str) -> LegacyClinic:
    return create_legacy_maria_clinic(mariadb_conn_str)


def _reading(stored: bytes | None) -> str | bytes | None:
    """What the bag must hold for a euckr value stored as ``stored``: its text, or its bytes where a character
    has no Unicode one (a user-defined character)."""
    if stored is None:
        return None
    try:
        return stored.decode("cp949")
    except UnicodeDecodeError:
        return stored


def _ndjson(bag: Path, pattern: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(pattern)) for line in path.read_bytes().splitlines()]


def test_a_stored_value_is_read_as_text_or_kept_as_its_bytes() -> None:
    from emr_exporter.sources.drivers import stored_text_decoder

    decode = stored_text_decoder("euckr")
    assert decode("김환자".encode("cp949")) == "김환자"
    assert decode("똠".encode("cp949")) == "똠"  # CP949's extension, which MariaDB's euckr keeps
    assert decode(b"\xc0\xcc" + UDA) == b"\xc0\xcc" + UDA
    assert (decode(None), decode(7)) == (None, 7)


@pytest.mark.db
def test_user_defined_euckr_characters_come_back_as_their_bytes(clinic: LegacyClinic, tmp_path: Path) -> None:
    # Before: the server's conversion of a euckr column to the connection's UTF-8 gave a user-defined character
    # (외자, 0xC9A1) as '?': patient C00006 was exported named '이?순', its memo carried as 'UDA ? 확인', a visit's
    # chief complaint as '두통?', and a carried euckr table's rows so too: the stored bytes were gone.
    flow = scaffolded(clinic, tmp_path)
    check = checked(flow)
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {
        ("patient", 20, 18, 2), ("encounter", 41, 35, 6), ("vital_signs", 20, 18, 2)}  # C00003's, C00006's: orphans
    dry, sealed, bag = exported(flow, tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    skipped = 4 * clinic.rows["visit_log"]  # the trigger's log table, which the scaffold skips
    for outcome in (check["reconciliation"], dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == clinic.cells - skipped, (outcome["cells"], clinic.cells)

    # each patient's name: in FHIR as the text stored, or (no name, a 외자) in the quarantined row, exactly
    names = {p["identifier"][0]["value"]: p["name"][0]["text"] for p in _ndjson(bag, "data/fhir/Patient.*.ndjson")}
    quarantined = {r["key"]: r for r in _ndjson(bag, "data/raw/patient.*.ndjson")}
    assert {k: r["reason_code"] for k, r in quarantined.items()} == {
        "C00003": "required-missing", "C00006": "bad-encoding"}
    for chart, stored in clinic.names.items():
        found = names[chart] if chart in names else decode_raw(quarantined[chart]["row"]["pt_nm"])
        assert found == _reading(stored), chart
    assert names["C00007"] == "똠방"
    # each memo (no field maps it): beside the exported row, or in the quarantined one
    memos = {r["key"]: r["columns"].get("memo") for r in _ndjson(bag, "data/raw/columns/patient.*.ndjson")}
    for chart, stored in clinic.memos.items():
        found = memos[chart] if chart in memos else quarantined[chart]["row"]["memo"]
        assert decode_raw(found) == _reading(stored), chart
    assert decode_raw(quarantined["C00006"]["row"]["memo"]) == b"UDA \xfe\xa1 " + "확인".encode("cp949")
    # the visit whose chief complaint holds one (an orphan: its patient is quarantined)
    visits = {r["key"]: r["row"] for r in _ndjson(bag, "data/raw/encounter.*.ndjson")}
    assert decode_raw(visits["C00006|2005-07-11|1"]["chief"]) == "두통".encode("cp949") + UDA
    assert visits["C00006|2005-07-12|2"]["chief"] == "두통"

    # a carried euckr table: every value its text or its bytes, a key holding a 외자 too, each row once
    inventory = {t["name"]: t for t in reconciliation["inventory"]}
    assert inventory["old_note"]["read"] == "keyset on note_key"
    assert inventory["old_note"]["columns"] == [
        {"name": "note_key", "type": "text", "decoded_from": "euckr"},
        {"name": "body", "type": "text", "decoded_from": "euckr"}, {"name": "img", "type": "binary"}]
    carried = [{k: decode_raw(v) for k, v in line["row"].items()}
               for line in _ndjson(bag, "data/raw/tables/old_note.*.ndjson")]
    assert [(r["note_key"], r["body"]) for r in carried] == [
        (_reading(k), _reading(b)) for k, b in sorted(OLD_NOTES)]  # in the order of the keys' bytes


@pytest.mark.db
def test_tables_no_transaction_holds_still_are_named_with_what_to_do(clinic: LegacyClinic, tmp_path: Path) -> None:
    # Before: the export's START TRANSACTION WITH CONSISTENT SNAPSHOT was taken as one snapshot of every table,
    # and nothing said that MyISAM and Aria tables (most of a 2000s MySQL EMR) are read as they are at each
    # query; the check gave no hint ("hints": []).
    check = checked(scaffolded(clinic, tmp_path))
    assert check["hints"] == [
        "7 table(s) are kept by a storage engine without transactions (Aria, MyISAM: OLD_NOTE, PATIENT, SCAN_FILE, "
        "sms log, VISIT, VISIT_LOG, VITAL): the export cannot read them as of one moment. Close the EMR program on every "
        "PC while exporting; a change made meanwhile stops the export only where it changes a table's row count."]


def test_a_single_precision_float_is_the_shortest_decimal_of_the_same_float32() -> None:
    from emr_exporter.sources.drivers import float32_shortest

    stored = struct.unpack("<f", struct.pack("<f", 36.6))[0]
    assert (stored, float32_shortest(stored)) == (36.599998474121094, 36.6)
    for value in (3.4028234663852886e38, 1.1754943508222875e-38, 1e-45, 16777216.0, 0.1):
        f32 = struct.unpack("<f", struct.pack("<f", value))[0]
        shortest = float32_shortest(f32)
        assert struct.pack("<f", shortest) == struct.pack("<f", f32) and len(repr(shortest)) <= len(repr(f32))
    assert float32_shortest(3.4028235e38) == 3.4028235e38
    assert float32_shortest(0.1) == 0.1  # a double that is no float32 value: as it is
    assert math.copysign(1, float32_shortest(-0.0)) == -1 and math.isnan(float32_shortest(math.nan))
    assert (float32_shortest(math.inf), float32_shortest(7), float32_shortest(None)) == (math.inf, 7, None)


@pytest.mark.db
def test_single_precision_floats_are_the_decimals_the_emr_showed(clinic: LegacyClinic, tmp_path: Path) -> None:
    # Before: MariaDB FLOAT columns reached FHIR as the double of the stored float32: a body temperature typed
    # 37.2 was exported as 37.20000076293945, a FLOAT(5,1) weight of 61.3 as 61.29999923706055 (and carried so).
    flow = scaffolded(clinic, tmp_path)
    _, _, bag = exported(flow, tmp_path)
    found = {(o["identifier"][0]["value"], o["code"]["text"]): o["valueQuantity"]["value"]
             for o in _ndjson(bag, "data/fhir/Observation.*.ndjson") if "valueQuantity" in o}
    for i in set(range(1, PATIENTS + 1)) - {3, 6}:  # C00003's and C00006's: orphans (their patient quarantined)
        assert found[(str(i), "Body temperature")] == float(VITAL_BT[i % 5]), i
        assert found[(str(i), "Body weight")] == float(f"{60 + i}.3"), i
    # unmapped, in the raw sidecars: the same decimals (a FLOAT column keeps each exactly: the same float32)
    visits = [r["columns"] for r in _ndjson(bag, "data/raw/columns/encounter.*.ndjson")]
    assert {v["bt"] for v in visits} == {36.6}


@pytest.mark.db
def test_a_sections_own_query_reads_euckr_columns_as_their_bytes_too(clinic: LegacyClinic, tmp_path: Path) -> None:
    # The contractor's own query (a join, a computed column): its result columns in euckr are found by their
    # character set, read as their stored bytes and decoded; the key and the references stay the server's text.
    # Before: '이?순' in FHIR, 'UDA ? 확인' and '두통?' beside the rows.
    flow = scaffolded(clinic, tmp_path)
    toml = flow.connectors / "foreign" / "connector.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('table = "PATIENT"\n', 'table = "PATIENT"\nquery = """SELECT p.CHART_NO, p.PT_NM, p.SEX, '
                        'p.BIRTH_DT, CONCAT(p.MEMO, \'\') AS MEMO, (SELECT MIN(v.CHIEF) FROM VISIT v '
                        'WHERE v.CHART_NO = p.CHART_NO) AS FIRST_CHIEF FROM PATIENT p"""\n', 1)
    toml.write_text(text, encoding="utf-8")
    check = checked(flow)
    assert {(s["entity"], s["exported"], s["quarantined"]) for s in check["reconciliation"]["entities"]} == {
        ("patient", 18, 2), ("encounter", 35, 6), ("vital_signs", 18, 2)}
    _, _, bag = exported(flow, tmp_path)
    names = {p["identifier"][0]["value"]: p["name"][0]["text"] for p in _ndjson(bag, "data/fhir/Patient.*.ndjson")}
    quarantined = {r["key"]: r["row"] for r in _ndjson(bag, "data/raw/patient.*.ndjson")}
    memos = {r["key"]: r["columns"].get("memo") for r in _ndjson(bag, "data/raw/columns/patient.*.ndjson")}
    for chart, stored in clinic.names.items():
        found = names[chart] if chart in names else decode_raw(quarantined[chart]["pt_nm"])
        assert found == _reading(stored), chart
        memo = memos[chart] if chart in memos else quarantined[chart]["memo"]
        assert decode_raw(memo) == _reading(clinic.memos[chart]), chart
    # MIN(CHIEF) of C00006's visits: '두통' < '두통' + 외자 (binary order of the euckr bytes)
    assert quarantined["C00006"]["first_chief"] == "두통"
