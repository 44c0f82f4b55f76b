"""The scaffold's vital signs read out of JSON documents kept in a column (docs/connectors.md, "JSON columns"), on
SQLite: which keys are lifted (English and Korean names, numbers and '120/80' texts), which columns are not (a
settings object with one vital-looking key, a SOAP note), malformed JSON read as no value, and a vital-signs table
whose measurements are nowhere left unmapped. The flow over real servers: tests/test_jsondoc_clinic.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from emr_exporter.authoring.json_columns import JsonKeys, drug_array_keys, drug_code_field, elements_sql, lift_sql
from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress

MALFORMED = '{"혈압": "120/80", "맥박": 7'


def _vitals(i: int) -> str | None:
    if i == 4:
        return None
    if i == 8:
        return MALFORMED
    if i == 12:
        return "{}"
    if i % 2:
        return json.dumps({"bp": f"{110 + i}/{70 + i}", "pulse": 60 + i, "temp": 36.5, "memo": "안정"})
    return json.dumps({"혈압": f"{120 + i}/{80 + i}", "맥박": 70 + i, "체중": 60.5 + i, "측정": {"자세": "좌위"}},
                      ensure_ascii=False)


def _clinic(path: Path, station: bool = True) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT, SETTINGS TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, VITALS TEXT, SOAP TEXT);
        CREATE TABLE VITAL_SIGN (VS_NO INTEGER PRIMARY KEY, PT_NO INTEGER, MSR_DTTM TEXT, DATA TEXT);
    """)
    # SETTINGS: one key named like a vital sign (ht: the screen's height in rows), no set of measurements
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M', ?)",
                     [(i, f"환자{i}", json.dumps({"ht": 40, "lang": "ko"})) for i in range(1, 21)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?)", [
        (i, 1 + i % 20, f"202403{1 + i % 28:02d}", _vitals(i), json.dumps({"s": "기침", "a": "J00"}, ensure_ascii=False))
        for i in range(1, 41)])
    conn.executemany("INSERT INTO VITAL_SIGN VALUES (?, ?, ?, ?)", [
        (i, 1 + i % 20, f"2024-03-{1 + i % 28:02d} 09:00:00",
         json.dumps({"산소포화도": 97, "체온": 36.4} if station else {"비고": "정상", "측정자": "간호사"},
                    ensure_ascii=False) if i != 3 else "not json")
        for i in range(1, 31)])
    conn.commit()
    conn.close()


def _export(path: Path, tmp_path: Path) -> dict[str, tuple[int, int, int]]:
    result = run_export(ExportRequest(connector="jsonvs", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    assert result.reconciliation.balanced
    return {e.entity: (e.source_rows, e.exported, e.quarantined) for e in result.reconciliation.entities}


def test_vital_signs_kept_in_json_documents_are_read_out(tmp_path: Path) -> None:
    # Before: VITALS and DATA were carried raw only; VITAL_SIGN was mapped with no measurement, every row
    # quarantined unmappable
    path = tmp_path / "jsonvs.sqlite"
    _clinic(path)
    outcome = write_scaffold("jsonvs", tmp_path / "out", SourceAddress(database=path))
    text = (outcome.folder / "connector.toml").read_text(encoding="utf-8")
    # what happens to each document column said beside its section (counts and names only)
    assert ("# NOTE: VITALS (38 of 39 sampled values JSON objects), SOAP (40 of 40 sampled values JSON objects): "
            "JSON documents, carried raw as written, every key") in text
    assert "# NOTE: SETTINGS (20 of 20 sampled values JSON objects): JSON documents" in text
    spec = load_spec(outcome.folder)
    sections = {name: e for name, e in spec.entities.items() if e.canonical == "vital_signs"}
    assert {n: (e.table, e.key) for n, e in sections.items()} == {
        "vital_signs": ("VITAL_SIGN", "VS_NO"), "vital_signs_vitals": ("VISIT", "VISIT_NO")}
    visit = sections["vital_signs_vitals"]
    # bp and 혈압, pulse and 맥박: one measurement under two spellings; 체중 alone; memo and the nested 측정 not
    assert {n: f.source_column if f.expr is None else "expr" for n, f in visit.fields.items()} == {
        "patient_id": "PT_NO", "encounter_id": "VISIT_NO", "observed": "VISIT_YMD", "systolic": "expr",
        "diastolic": "expr", "pulse": "expr", "temperature": "expr", "weight": "expr"}
    assert visit.query is not None and visit.query.startswith("SELECT X.VISIT_NO, X.PT_NO, X.VISIT_YMD, X.VITALS FROM")
    station = sections["vital_signs"]
    assert set(station.fields) == {"patient_id", "observed", "spo2", "temperature"}
    # SETTINGS (one vital-looking key) and SOAP (no vital key) are read by no expr: carried raw
    assert not any(f.expr and ("SETTINGS" in str(f.expr) or "SOAP" in str(f.expr))
                   for e in spec.entities.values() for f in e.fields.values())
    # the lifts, run on the file as written: a malformed document and "not json" give no value, never an error
    lifts = {n: f.expr["sqlite"] for n, f in visit.fields.items() if f.expr is not None}
    conn = sqlite3.connect(path)
    pulse = conn.execute(f"SELECT VISIT_NO, {lifts['pulse']} FROM VISIT").fetchall()
    systolic = dict(conn.execute(f"SELECT VISIT_NO, {lifts['systolic']} FROM VISIT").fetchall())
    conn.close()
    assert dict(pulse) == {i: (None if i in (4, 8, 12) else 60 + i if i % 2 else 70 + i) for i in range(1, 41)}
    assert systolic[1] == "111" and systolic[2] == "122" and systolic[8] is None
    rows = _export(path, tmp_path)
    # 37 visits hold a measurement (not 4's NULL, 8's malformed text, 12's {}); the station's 'not json' row a set
    # recording nothing, its measurements absent (unknown), the text carried raw (was: quarantined unmappable)
    assert rows["vital_signs_vitals"] == (37, 37, 0)
    assert rows["vital_signs"] == (30, 30, 0)
    assert rows["encounter"] == (40, 40, 0)


def test_a_vital_signs_table_with_no_measurement_found_is_left_unmapped(tmp_path: Path) -> None:
    # Before: vital_signs ← VITAL_SIGN with only its patient and time, all 30 rows quarantined 'unmappable'
    path = tmp_path / "jsonvs.sqlite"
    _clinic(path, station=False)
    outcome = write_scaffold("jsonvs", tmp_path / "out", SourceAddress(database=path))
    text = (outcome.folder / "connector.toml").read_text(encoding="utf-8")
    assert "# [entities.vital_signs]" in text and "no column found for required field 'a measurement (systolic, diastolic, pulse" in text
    spec = load_spec(outcome.folder)
    assert "vital_signs" not in spec.entities and spec.entities["vital_signs_vitals"].table == "VISIT"
    rows = _export(path, tmp_path)
    assert "vital_signs" not in rows and rows["vital_signs_vitals"] == (37, 37, 0)


def test_the_sample_counts_keys_never_values() -> None:
    keys = JsonKeys()
    for text in ('{"bp": "120/80", "pulse": 72, "x": {"y": 1}, "n": null, "ok": true}', '{"pulse": "측정거부"}',
                 MALFORMED, "[1, 2]", '"text"'):
        keys.add(text)
    assert keys.objects == 2
    # a key holding an object or list counted as such (a SOAP note's "o": {...}, "p": [...]), none of its values
    assert {k: (c.held, c.numbers, c.bp_text, c.nested) for k, c in keys.keys.items()} == {
        "bp": (1, 0, 1, 0), "pulse": (2, 1, 0, 0), "x": (0, 0, 0, 1)}
    assert lift_sql("postgresql", "v", ["bp", "혈압"]) == (
        "COALESCE((CASE WHEN jsonb_typeof(CAST(v -> 'bp' AS jsonb)) IN ('object', 'array') THEN NULL ELSE v ->> 'bp' "
        "END), (CASE WHEN jsonb_typeof(CAST(v -> '혈압' AS jsonb)) IN ('object', 'array') THEN NULL ELSE v ->> '혈압' "
        "END))")
    assert lift_sql("mariadb", "v", ["맥박"]) == (
        "CASE WHEN JSON_VALID(v) THEN CASE WHEN JSON_TYPE(JSON_EXTRACT(v, '$.\"맥박\"')) IN ('BOOLEAN') THEN "
        "JSON_EXTRACT(v, '$.\"맥박\"') ELSE JSON_VALUE(v, '$.\"맥박\"') END END")



def test_an_array_of_drug_objects_is_told_by_its_keys() -> None:
    """A prescription's drugs (a code or name key and two amounts whose values are numbers) are read per element;
    an array of other objects, or of drugs with one amount, is not; the sample keeps shapes, never a value."""
    drugs = JsonKeys()
    for text in ('[{"code": "642102570", "name": "타이레놀정500mg", "dose": 1, "times": 3, "days": 5}, "메모"]',
                 '[{"약품코드": "643301010", "약품명": "노바스크정5mg", "1회량": 0.5, "횟수": 2, "일수": 7, "용법": "식전"}]',
                 '[{"code": "642102570", "name": "타이레놀정500mg", "dose": "반알", "times": 3, "days": 5}]',
                 '[]', '[1, 2]', '{"code": "x"}', '[{"code": "642102570", "name": "타이레'):
        drugs.add(text)
    assert (drugs.objects, drugs.arrays, drugs.elements) == (1, 3, 3)
    assert {k: (c.held, c.numbers, c.drug_codes) for k, c in drugs.element_keys.items() if "code" in k or "코드" in k
            } == {"code": (2, 2, 2), "약품코드": (1, 1, 1)}
    found = drug_array_keys(drugs)
    # dose: 2 of 3 values numbers ("반알" none) is below 80 %, so 1회량 (all numbers) alone reads it
    assert found == {"code": ("code", "약품코드"), "name": ("name", "약품명"), "dose": ("1회량",),
                     "frequency": ("times", "횟수"), "days": ("days", "일수"), "route": ("용법",)}
    assert drug_code_field(drugs, found["code"]) == "edi_code"
    # settings objects in an array, drugs with one amount, a "name" that is a number: no prescription
    for texts in (['[{"name": "알림", "on": true}]'], ['[{"code": "642102570", "name": "타이레놀정500mg", "days": 5}]'],
                  ['[{"name": 2, "dose": 3, "days": 4}]']):
        other = JsonKeys()
        for text in texts:
            other.add(text)
        assert drug_array_keys(other) is None, texts
    local = JsonKeys()
    local.add('[{"drug_cd": "TYL500", "drug_nm": "타이레놀", "dose": 1, "days": 3}]')
    assert drug_code_field(local, ("drug_cd",)) == "local_code"
    assert elements_sql("sqlite", "RX", "ITEMS", ["X.RX_ID"], "ITEMS_POS", [("ITEMS_NM", ("name",))],
                        [("name",)]) == (
        "SELECT X.RX_ID, (J.key + 1) AS ITEMS_POS, CASE WHEN json_valid(J.value) THEN CASE WHEN json_type(J.value, "
        "'$.\"name\"') IN ('object', 'array') THEN NULL WHEN json_type(J.value, '$.\"name\"') IN ('true', 'false') "
        "THEN json_type(J.value, '$.\"name\"') ELSE json_extract(J.value, '$.\"name\"') END END AS ITEMS_NM FROM RX X, "
        "json_each(CASE WHEN json_valid(X.ITEMS) THEN CASE WHEN json_type(X.ITEMS) = 'array' THEN X.ITEMS END END) J "
        "WHERE CASE WHEN json_valid(J.value) THEN CASE WHEN json_type(J.value, '$.\"name\"') IN ('object', 'array') "
        "THEN NULL WHEN json_type(J.value, '$.\"name\"') IN ('true', 'false') THEN json_type(J.value, "
        "'$.\"name\"') ELSE json_extract(J.value, '$.\"name\"') END END IS NOT NULL")

def _note(i: int) -> str | None:
    """Visit ``i``'s SOAP note as the program wrote it: Korean keys, the objective part an object; planted: NULL,
    a malformed document, {}, a part held as a JSON null."""
    if i == 4:
        return None
    if i == 8:
        return '{"주관적": "두통", "객관적": "'
    if i == 12:
        return "{}"
    if i == 16:
        return json.dumps({"주관적": "두통", "평가": None, "계획": "재진"}, ensure_ascii=False)
    return json.dumps({"주관적": f"기침 {i}일", "객관적": {"인후": "발적"}, "평가": "J00", "계획": ["타이레놀"]},
                      ensure_ascii=False)


def test_a_soap_note_kept_as_a_json_document_is_read_into_a_chart_note(tmp_path: Path) -> None:
    # Before: NOTE was carried raw only, no chart note; a settings object of single-letter keys holding numbers
    # ({"s": 1, "o": 2, "a": 3, "p": 4}) is no note
    path = tmp_path / "jsonnote.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT, SETTINGS TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT, NOTE TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M', ?)",
                     [(i, f"환자{i}", json.dumps({"s": 1, "o": 2, "a": 3, "p": 4})) for i in range(1, 21)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?)",
                     [(i, 1 + i % 20, f"202403{1 + i % 28:02d}", _note(i)) for i in range(1, 41)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("jsonvs", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    assert {n: (e.canonical, e.table, e.key) for n, e in spec.entities.items() if e.canonical == "chart_note"} == {
        "chart_note_note": ("chart_note", "VISIT", "VISIT_NO")}
    note = spec.entities["chart_note_note"]
    assert list(note.fields) == ["patient_id", "encounter_id", "recorded", "chief_complaint", "history", "course",
                                 "plan"]
    assert not any("SETTINGS" in str(f.expr) for e in spec.entities.values() for f in e.fields.values())
    # the lifts, run on the file as written: the object and the list as their JSON text, the malformed document,
    # {} and the JSON null give no value, never an error
    lifts = {n: f.expr["sqlite"] for n, f in note.fields.items() if f.expr is not None}
    conn = sqlite3.connect(path)
    read = {n: dict(conn.execute(f"SELECT VISIT_NO, {sql} FROM VISIT").fetchall()) for n, sql in lifts.items()}
    conn.close()
    assert {n: (values[1], values[8], values[12], values[16]) for n, values in read.items()} == {
        "chief_complaint": ("기침 1일", None, None, "두통"), "history": ('{"인후":"발적"}', None, None, None),
        "course": ("J00", None, None, None), "plan": ('["타이레놀"]', None, None, "재진")}
    # a note per visit whose document holds a part (not 4's NULL, 8's malformed text, 12's {}): its cells kept
    assert _export(path, tmp_path)["chart_note_note"] == (37, 37, 0)


def _rx_clinic(path: Path, column: str) -> str:
    """A SQLite clinic whose prescriptions keep their drugs as a JSON array in ``column``: the scaffold's
    connector.toml."""
    conn = sqlite3.connect(path)
    conn.executescript(f"""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE RX (RX_NO INTEGER PRIMARY KEY, PT_NO INTEGER, RX_YMD TEXT, "{column}" TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO RX VALUES (?, ?, ?, ?)", [
        (i, 1 + i % 20, f"202403{1 + i % 28:02d}", json.dumps(
            [{"약품코드": "642102570", "약품명": "타이레놀정500mg", "1회량": 1, "횟수": 3, "일수": 1 + i % 5}],
            ensure_ascii=False)) for i in range(1, 41)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("rxjson", path.parent / "out", SourceAddress(database=path))
    return (outcome.folder / "connector.toml").read_text(encoding="utf-8")


def test_a_drug_array_is_read_per_element_only_where_the_query_can_name_its_column(tmp_path: Path) -> None:
    for column in ("ITEMS", "처방내역"):  # a Korean EMR's own names are plain identifiers
        (tmp_path / column).mkdir()
        toml = _rx_clinic(tmp_path / column / "rx.sqlite", column)
        assert f'key = ["RX_NO", "{column}_POS"]' in toml and toml.count("\npage_size = 100000\n") == 1
        assert "[entities.prescription_rx]" in toml and "\n[entities.order_line.fields]" in toml
        assert f'edi_code = {{ column = "{column}_CODE" }}' in toml and "json_each(" in toml
    # a name with a space, which the export's unquoted SQL cannot write: no section reads it, the table carried
    (tmp_path / "spaced").mkdir()
    toml = _rx_clinic(tmp_path / "spaced" / "rx.sqlite", "DRUG LIST")
    assert "[entities.prescription_rx]" not in toml and "json_each(" not in toml
