"""An IT contractor on a small Korean clinic's EMR converted from an old Access/FoxPro program into SQLite
(tests/connectors/legacy_clinic.py: untyped columns of mixed storage classes, CP949 names in BLOBs and inside
TEXT, a chart number repeated with no key declared, WITHOUT ROWID and STRICT tables, -1/0 flags…), through the
CLI on the file and through the SQLite ODBC driver: ``scaffold``, ``connector check``, a dry run, a sealed
export, ``verify`` and ``open``; every row of every table rebuilt byte for byte from the opened bag, and the
same bag from both.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from legacy_clinic import (
    JULIAN_BAD,
    LEGACY_CONNECTOR,
    PATIENTS,
    LegacyClinic,
    create_julian_clinic,
    create_legacy_clinic,
)

from emr_exporter.connectors.spec import load_spec
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import INSTITUTION, Flow, _column_sidecar, _source_args, checked, exported, scaffolded


def _clinic(tmp_path: Path, how: str) -> tuple[LegacyClinic, Path]:
    tmp_path.mkdir(exist_ok=True)
    db = create_legacy_clinic(tmp_path / "legacy.sqlite")
    path = tmp_path / "legacy.sqlite"
    if how == "odbc":
        db.odbc, db.path = f"DRIVER={{SQLite3}};Database={path}", None
    return db, path


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _rebuilt(bag: Path, flow: Flow, path: Path) -> dict[str, int]:
    """Every row of every table rebuilt from the opened bag, compared with the file as the stdlib reads it."""
    source = SqliteFileSource(path)
    try:
        return dict(check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source).rows)
    finally:
        source.close()


def _names(bag: Path) -> dict[str, Any]:
    return {p["identifier"][0]["value"]: (p["name"][0]["text"], p.get("active")) for p in _resources(bag, "Patient")}


@pytest.mark.parametrize("how", ["file", "odbc"])
def test_the_untouched_scaffold_goes_through_the_whole_flow(how: str, tmp_path: Path) -> None:
    # Before: 'No connector could be guessed: patient table PTINFO: no unique column found for keyset paging:
    # name one as key' (exit 2); PNAME was no name and USEYN's -1 no yes/no value.
    db, path = _clinic(tmp_path, how)
    flow = scaffolded(db, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    patient = spec["entities"]["patient"]
    assert (patient["table"], patient["key"], patient["query"], patient["unique"]) == (
        "PTINFO", "ROW_NO", "SELECT rowid AS ROW_NO, * FROM PTINFO", ["chart_number"])
    assert (patient["fields"]["name"], patient["fields"]["active"]) == (
        {"column": "PNAME", "required": True}, {"column": "USEYN", "type": "bool"})
    assert list(spec["entities"]) == ["patient"]  # the visit days are of four kinds: no date column guessed
    check = checked(flow)
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {("patient", PATIENTS + 2, PATIENTS, 2)}
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == db.cells + db.rows["ptinfo"]  # and the row numbers the query reads
    names = _names(bag)
    # a name stored as UTF-8, as a CP949 BLOB and as CP949 bytes inside TEXT: the same Korean text;
    # an Access -1 is active, 0 is not
    assert {k: v[0] for k, v in names.items()} == {str(i) if i % 5 else f"{i:05d}": f"김환자{i}"
                                                    for i in range(1, PATIENTS + 1)}
    assert {k: v[1] for k, v in names.items() if k in ("2", "3", "4", "00005")} == {
        "2": True, "3": False, "4": True, "00005": False}
    assert _rebuilt(bag, flow, path) == db.rows


def test_a_finished_connector_gives_the_same_bag_from_the_file_and_over_odbc(tmp_path: Path) -> None:
    # Before: over ODBC the driver read each untyped column by its first row's type ('24-02-02' as 24, '3,000원'
    # as 3, 2500.5 as 2500, a CP949 BLOB as the text "X'B1E8…'"): the carried IMAGE table differed from the
    # database, and the visits' dates with it. And a visit's Unix time 1700086400 was exported as 1700-08-06.
    bags = {}
    for how in ("file", "odbc"):
        db, path = _clinic(tmp_path / how, how)
        source, env = _source_args(db)
        keys = make_demo_keys(tmp_path / how / "keys", institution_code=INSTITUTION[0],
                              institution_name=INSTITUTION[1])
        flow = Flow(source, {**env, "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}, keys,
                    tmp_path / how / "connectors")
        (flow.connectors / "foreign").mkdir(parents=True)
        (flow.connectors / "foreign" / "connector.toml").write_text(LEGACY_CONNECTOR, encoding="utf-8")
        check = checked(flow)
        assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
                for s in check["reconciliation"]["entities"]} == {("patient", 26, 24, 2), ("encounter", 50, 12, 38)}
        assert {(d["section"], d["field"], d["reason_code"], d["rows"]) for d in check["defects"]} == {
            ("encounter", "start", "invalid-date", 36), ("encounter", "start", "required-missing", 1),
            ("patient", "chart_number", "duplicate", 1), ("patient", "name", "required-missing", 1)}
        dry, _, bag = exported(flow, tmp_path / how)
        bags[how] = dry["bag"]["sha256"]
        # the days kept as YYYYMMDD numbers; no Unix time read as a day of 1700 any more
        assert sorted(e["period"]["start"] for e in _resources(bag, "Encounter")) == [
            f"2024-01-{i:02d}" for i in range(1, PATIENTS + 1) if i % 4 in (1, 2)]
        rebuilt = _rebuilt(bag, flow, path)
        assert rebuilt == {t: n for t, n in db.rows.items() if t != "setup"}
    assert bags["file"] == bags["odbc"]


@pytest.mark.parametrize("how", ["file", "odbc"])
def test_dates_kept_as_julian_days_are_scaffolded_and_exported_as_sqlite_reads_them(how: str, tmp_path: Path) -> None:
    # Before: the scaffold guessed no birth date and no visit (a REAL of 2433679.5 looked like nothing); a
    # connector writing format = "epoch" made every one a day of January 1970, and "julian" was refused.
    db = create_julian_clinic(tmp_path / "julian.sqlite")
    path = tmp_path / "julian.sqlite"
    if how == "odbc":
        db.odbc, db.path = f"DRIVER={{SQLite3}};Database={path}", None
    flow = scaffolded(db, tmp_path)
    spec = tomllib.loads((flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8"))
    assert spec["entities"]["patient"]["fields"]["birth_date"] == {"column": "BIRTH", "type": "date",
                                                                   "format": "julian"}
    assert spec["entities"]["encounter"]["fields"]["start"] == {"column": "JDATE", "type": "datetime",
                                                                "format": "julian", "required": True}
    check = checked(flow)
    assert {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
            for s in check["reconciliation"]["entities"]} == {("patient", PATIENTS, PATIENTS, 0),
                                                              ("encounter", 2 * PATIENTS + 3, 2 * PATIENTS, 3)}
    # a visit's required start that is no Julian day quarantines its row; a birth day, its field (the patient kept)
    assert {(d["section"], d["field"], d["reason_code"], d["rows"]) for d in check["defects"]} == {
        ("encounter", "start", "invalid-date", len(JULIAN_BAD))}
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"] and outcome["field_defects"] == {"invalid-date": 2}
    assert sealed["reconciliation"]["cells"]["source"] == db.cells
    # the days and times exactly as SQLite's date() and datetime() give them, in the clinic's zone
    conn = sqlite3.connect(path)
    stored = {str(k): v for k, v in conn.execute("SELECT JNO, JDATE FROM JINRYO WHERE JNO < 100")}
    births = dict(conn.execute("SELECT CAST(CHARTNO AS TEXT), date(BIRTH) FROM PTINFO WHERE CHARTNO < 23"))
    starts = sorted(f"{t.replace(' ', 'T')}+09:00" for (t,) in conn.execute(
        "SELECT datetime(JDATE) FROM JINRYO WHERE JNO < 100"))
    conn.close()
    assert births["1"] == "1951-02-02" and births["3"] == "1953-04-04"  # x.5 (midnight) and an INTEGER (noon)
    assert {p["identifier"][0]["value"]: p.get("birthDate") for p in _resources(bag, "Patient")} == {
        **births, "23": None, "24": None}
    assert sorted(e["period"]["start"] for e in _resources(bag, "Encounter")) == starts
    assert starts[:2] == ["2024-01-01T07:11:13+09:00", "2024-01-02T14:22:26+09:00"]
    # FHIR cannot give a Julian day back: every one is in the raw sidecar, as stored (a REAL, the text of one)
    sidecar = {line["key"]: line for line in _column_sidecar(bag, "encounter")}
    assert {k: decode_raw(v["columns"]["jdate"]) for k, v in sidecar.items() if "jdate" in v["transformed"]} == stored
    assert stored["5"] == "2460313.39837281" and stored["1"] == 2460310.799457604
    people = {line["key"]: decode_raw(line["columns"]["birth"]) for line in _column_sidecar(bag, "patient")}
    assert (people["1"], people["3"], people["23"], people["24"]) == (2433679.5, 2434472, "미상", 0.0)
    quarantined = [json.loads(line) for line in next(bag.glob("data/raw/encounter.*.ndjson")).read_bytes().splitlines()]
    assert [(q["key"], q["reason"], decode_raw(q["row"]["jdate"])) for q in quarantined] == [
        (str(100 + k), "field 'start' is not a Julian day number", bad) for k, bad in enumerate(JULIAN_BAD)]
    # every stored Julian day (REAL, INTEGER, text, and the three that are no date) comes back as it was stored
    assert _rebuilt(bag, flow, path) == db.rows == {"ptinfo": PATIENTS, "jinryo": 2 * PATIENTS + 3}


@pytest.mark.parametrize("how", ["file", "odbc"])
def test_user_defined_characters_in_cp949_names_are_exported_and_rebuilt(how: str, tmp_path: Path) -> None:
    # A name the old program wrote with a 외자 in EUC-KR's user-defined rows (0xC9A1, 0xFEA1…: CP949 in a BLOB
    # and inside TEXT), read with [source] encoding = "cp949": the private-use code point Windows' code page 949
    # gives it, as a MariaDB euckr column's is; the bag gives back the very bytes. A pair nothing assigns
    # (0xA2E8) still quarantines its row. Before: each 외자 name's row was quarantined 'bad-encoding'.
    import sqlite3

    db, path = _clinic(tmp_path, how)
    stored = {3: b"\xc0\xcc\xc9\xa1\xbc\xf8", 4: b"\xb9\xda\xfe\xa1\xfe\xfe", 6: b"\xc3\xd6\xa2\xe8"}
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE PTINFO SET PNAME = ? WHERE CHARTNO = 3", (stored[3],))  # 이 + U+E000 + 순 (BLOB)
        conn.execute("UPDATE PTINFO SET PNAME = CAST(? AS TEXT) WHERE CHARTNO = 4", (stored[4],))  # 박 + 2 (TEXT)
        conn.execute("UPDATE PTINFO SET PNAME = ? WHERE CHARTNO = 6", (stored[6],))  # 최 + no reading (BLOB)
    source, env = _source_args(db)
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    flow = Flow(source, {**env, "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}, keys,
                tmp_path / "connectors")
    (flow.connectors / "foreign").mkdir(parents=True)
    (flow.connectors / "foreign" / "connector.toml").write_text(LEGACY_CONNECTOR, encoding="utf-8")
    check = checked(flow)
    assert ("patient", 26, 23, 3) in {(s["entity"], s["source_rows"], s["exported"], s["quarantined"])
                                      for s in check["reconciliation"]["entities"]}
    dry, _, bag = exported(flow, tmp_path)
    assert dry["reconciliation"]["balanced"]
    names = {k: v[0] for k, v in _names(bag).items()}
    assert (names["3"], names["4"]) == ("이\ue000순", "박\ue05e\ue0bb")
    assert "6" not in names and len(names) == PATIENTS - 1
    [quarantined] = [json.loads(line) for p in sorted(bag.glob("data/raw/patient.*.ndjson"))
                     for line in p.read_bytes().splitlines() if json.loads(line)["reason_code"] == "bad-encoding"]
    assert quarantined["key"] == "6"
    assert decode_raw(quarantined["row"]["pname"]) == stored[6]
    assert _rebuilt(bag, flow, path) == {t: n for t, n in db.rows.items() if t != "setup"}
