"""An IT contractor on a 2000s Korean client/server EMR's MySQL database, now on MariaDB
(tests/connectors/legacy_maria_clinic.py: euckr tables on MyISAM and Aria, composite visit keys, zero dates,
legacy types), through the CLI over MariaDB Connector/ODBC: ``scaffold``, ``connector check``, a dry run, a
sealed export, ``verify`` and ``open`` (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.pipeline.raw import decode_raw

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from legacy_maria_clinic import (
    OLD_MEMOS,
    OLD_NOTES,
    PATIENTS,
    UDA,
    VITAL_BT,
    LegacyClinic,
    create_legacy_maria_clinic,
    create_user_defined_key_clinic,
)

from test_foreign_schemas import _run, checked, exported, scaffolded


@pytest.fixture(scope="module")
def clinic(mariadb_conn_str: str) -> LegacyClinic:
    return create_legacy_maria_clinic(mariadb_conn_str)


#: the user-defined characters the clinic holds, as Windows' code page 949 reads them (private use area)
PUA = {b"\xc9\xa1": "\ue000", b"\xfe\xa1": "\ue05e", b"\xfe\xfe": "\ue0bb"}


def _reading(stored: bytes | None) -> str | bytes | None:
    """What the bag must hold for a euckr value stored as ``stored``: its text, a user-defined character as its
    private-use code point, or its bytes where a pair has no reading at all."""
    if stored is None:
        return None
    try:
        return "".join(PUA.get(part) or part.decode("cp949")
                       for part in re.split(b"(" + b"|".join(map(re.escape, PUA)) + b")", stored))
    except UnicodeDecodeError:
        return stored


def _ndjson(bag: Path, pattern: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(pattern)) for line in path.read_bytes().splitlines()]


def test_a_stored_value_is_read_as_text_or_kept_as_its_bytes() -> None:
    from emr_exporter.sources.drivers import stored_text_decoder

    decode = stored_text_decoder("euckr")
    assert decode("김환자".encode("cp949")) == "김환자"
    assert decode("똠".encode("cp949")) == "똠"  # CP949's extension, which MariaDB's euckr keeps
    # a user-defined character: U+E000–U+E05D (row 0xC9), U+E05E–U+E0BB (row 0xFE), as Windows reads them
    assert decode(b"\xc0\xcc" + UDA + b"\xbc\xf8") == "이\ue000순"
    assert decode(b"\xc9\xfe\xfe\xa1\xfe\xfeA") == "\ue05d\ue05e\ue0bbA"
    # no reading at all (an unassigned pair, a lone lead byte, bytes no EUC-KR has): the bytes themselves
    for raw in (b"\xa2\xe8", b"\xb1\xe8\xc9", b"\xff\xfe", b"\xc9\x41"):
        assert decode(raw) == raw
    assert (decode(None), decode(7)) == (None, 7)


@pytest.mark.db
def test_user_defined_euckr_characters_are_kept(clinic: LegacyClinic, tmp_path: Path) -> None:
    # Before: the server's conversion of a euckr column to the connection's UTF-8 gave a user-defined character
    # (외자, 0xC9A1) as '?': patient C00006 was exported named '이?순', its memo carried as 'UDA ? 확인', a visit's
    # chief complaint as '두통?', and a carried euckr table's rows so too: the stored bytes were gone. Now each is
    # its private-use code point, as the clinic's Windows PCs read it (and the bytes come back exactly).
    flow = scaffolded(clinic, tmp_path)
    check = checked(flow)
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {
        ("patient", 20, 19, 1), ("encounter", 41, 37, 4), ("vital_signs", 20, 19, 1)}  # C00003's: orphans
    dry, sealed, bag = exported(flow, tmp_path)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    # every cell, the trigger's log table's too (the scaffold carries a log as it is: [carry])
    log = "a log table; it may hold patients' data, so it goes as it is"
    logs = [{"table": "sms log", "rows": 1, "reason": log},
            {"table": "VISIT_LOG", "rows": clinic.rows["visit_log"], "reason": log}]
    # OLD_MEMO, OLD_NOTE: the program's earlier generation, carried with why (were 'not recognised')
    old = ("an earlier generation, backup copy or the deleted rows of records: it may hold rows or values the table "
           "in use no longer has; it goes as it is")
    assert [t for t in check["carried_tables"] if t["reason"] == log] == logs
    assert {t["table"] for t in check["carried_tables"] if t["reason"] == old} == {"OLD_MEMO", "OLD_NOTE"}
    for outcome in (check["reconciliation"], dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == clinic.cells, (outcome["cells"], clinic.cells)

    # each patient's name in FHIR as stored (C00003's, NULL, in its quarantined row)
    names = {p["identifier"][0]["value"]: p["name"][0]["text"] for p in _ndjson(bag, "data/fhir/Patient.*.ndjson")}
    quarantined = {r["key"]: r for r in _ndjson(bag, "data/raw/patient.*.ndjson")}
    assert {k: r["reason_code"] for k, r in quarantined.items()} == {"C00003": "required-missing"}
    assert quarantined["C00003"]["row"]["pt_nm"] is None
    assert {chart: _reading(stored) for chart, stored in clinic.names.items() if stored is not None} == names
    assert (names["C00006"], names["C00007"]) == ("이\ue000순", "똠방")
    # each memo (no field maps it), beside its row
    memos = {r["key"]: r["columns"] for r in _ndjson(bag, "data/raw/columns/patient.*.ndjson")}
    memos["C00003"] = quarantined["C00003"]["row"]
    assert {chart: decode_raw(memos[chart].get("memo")) for chart in clinic.memos} == {
        chart: _reading(stored) for chart, stored in clinic.memos.items()}
    assert memos["C00006"]["memo"] == "UDA \ue05e 확인"
    # the visit whose chief complaint holds one
    visits = {r["key"]: r["columns"] for r in _ndjson(bag, "data/raw/columns/encounter.*.ndjson")}
    assert (visits["C00006|2005-07-11|1"]["chief"], visits["C00006|2005-07-12|2"]["chief"]) == ("두통\ue000", "두통")

    # a carried euckr table: every value its text (a key holding a 외자 too) or, where a pair has no reading, its
    # bytes, each row once
    inventory = {t["name"]: t for t in reconciliation["inventory"]}
    assert inventory["old_note"]["read"] == "keyset on note_key"
    assert inventory["old_note"]["columns"] == [
        {"name": "note_key", "type": "text", "decoded_from": "euckr"},
        {"name": "body", "type": "text", "decoded_from": "euckr"}, {"name": "img", "type": "binary"}]
    carried = [{k: decode_raw(v) for k, v in line["row"].items()}
               for line in _ndjson(bag, "data/raw/tables/old_note.*.ndjson")]
    assert [(r["note_key"], r["body"]) for r in carried] == [
        (_reading(k), _reading(b)) for k, b in sorted(OLD_NOTES)]  # in the order of the keys' bytes
    assert {type(r["body"]) for r in carried} == {str, bytes, type(None)}
    assert "외자 \ue000" in {r["body"] for r in carried}
    # and one without a key (one ordered pass): '이' + 외자 and '이?' stay two values
    assert inventory["old_memo"]["read"].startswith("one ordered pass")
    memos = [{k: decode_raw(v) for k, v in line["row"].items()} for line in _ndjson(bag, "data/raw/tables/old_memo.*.ndjson")]
    assert sorted(repr((r["writer"], r["memo"])) for r in memos) == sorted(
        repr((_reading(w), _reading(m))) for w, m in OLD_MEMOS)


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
        ("patient", 19, 1), ("encounter", 37, 4), ("vital_signs", 19, 1)}
    _, _, bag = exported(flow, tmp_path)
    names = {p["identifier"][0]["value"]: p["name"][0]["text"] for p in _ndjson(bag, "data/fhir/Patient.*.ndjson")}
    assert {chart: _reading(stored) for chart, stored in clinic.names.items() if stored is not None} == names
    columns = {r["key"]: r["columns"] for r in _ndjson(bag, "data/raw/columns/patient.*.ndjson")}
    assert {chart: decode_raw(columns[chart].get("memo")) for chart in clinic.memos if chart != "C00003"} == {
        chart: _reading(stored) for chart, stored in clinic.memos.items() if chart != "C00003"}
    # MIN(CHIEF) of C00006's visits, '두통' and '두통' + 외자; C00001's
    assert (columns["C00006"]["first_chief"], columns["C00001"]["first_chief"]) == ("두통", "두통")


@pytest.mark.db
def test_a_section_keyed_on_user_defined_characters_stops_saying_why(tmp_path: Path, mariadb_conn_str: str) -> None:
    # A section's key stays the server's text (its references compare it so): '가?15' for 가 + 외자 + 15, after
    # which the server finds every such key again. Before: 16 rows read twice, quarantined as duplicates, and
    # "'patient': 40 source rows but 40 exported and 16 quarantined. … was the clinic database changed during
    # the export?" (it was not); a carried table's pages of 16 rows (a BLOB) read the same page for ever.
    db = create_user_defined_key_clinic(mariadb_conn_str)
    flow = scaffolded(db, tmp_path)
    result = _run(["connector", "check", str(flow.connectors / "foreign"), *flow.source, "--json"], flow.env, 1)
    assert json.loads(result.stdout)["error"] == {"code": "reconciliation", "message": (
        # (49: the pages read before the count is passed start at one row, then 8: paging.FIRST_PAGE_ROWS)
        "'patient': its pages in the order of CHART_NO gave more rows (49) than it holds (40). The export was "
        "stopped so that nothing is lost: either the clinic database was changed during the export (close the EMR "
        "program on every PC and run it again), or some values of that key are read otherwise than the database "
        "compares them; please report this with the table's definition (no data).")}
