"""Columns of a table its sections read that none of their own queries selects are carried raw beside them.

A section's ``query`` may select some of its table's columns (``SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT``) or
expressions of them (``SELECT PT_ID || '-' || SEQ AS VISIT_KEY ...``). The other columns were never read: in no
resource, no raw sidecar and no count. Now the export reads them by the table's primary key (one column or
several) into ``data/raw/unselected/<table>``, counts their cells (source = carried), and the inventory names
them with why; a table without a usable key is carried as whole rows (its keyless ordered pass). A real SQLite
file and real MariaDB and PostgreSQL servers over ODBC (``db``: these fail, never skip, when one is down).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sqlite3
import sys
import tarfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_spec
from emr_exporter.errors import SourceConnectionLost
from emr_exporter.pipeline.export import ExportRun, ProgressEvent, Reconciliation
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))

from foreign_schemas import _fresh_database

sys.path.insert(0, str(Path(__file__).parent))

from lossless_kit import check_bag_against_source

#: (PT_ID, CHART_NO, PT_NM, EMAIL, MEMO, BORN): the section selects the first three.
PATIENTS = [
    (1, "C1", "김환자", "kim@example.kr", b"\x00\xff\x81A", dt.date(1980, 1, 2)),
    (2, "C2", "이환자", None, None, None),
    (3, "C3", "박환자", "박@예시.한국", b"", dt.date(2001, 12, 31)),
]
#: (PT_ID, SEQ, VISIT_DAY, DX, FEE, NOTE), keyed by (PT_ID, SEQ): the section selects PT_ID || '-' || SEQ, PT_ID
#: and VISIT_DAY; SEQ, DX, FEE and NOTE are no result column of its query.
VISITS = [
    (1, 1, dt.date(2024, 1, 5), "J00", Decimal("12.50"), "감기 증상"),
    (1, 2, dt.date(2024, 2, 6), None, Decimal("0.00"), None),
    (3, 1, dt.date(2024, 3, 7), "K29.7", None, "위염 ' 따옴표"),
]
#: (NOTE_NO, PT_ID, NOTE_DAY, BODY, EXTRA): NOTE_NO is unique (NULL allowed: MariaDB would take a NOT NULL
#: one for the primary key) but no primary key: the table has no usable key.
NOTES = [(10, 1, dt.date(2024, 1, 5), "첫 메모", "extra 1"), (11, 2, dt.date(2024, 1, 6), "둘째 메모", None),
         (12, 1, dt.date(2024, 1, 7), "셋째", "extra 3")]


def _connector(engine: str) -> str:
    concat = "CONCAT(PT_ID, '-', SEQ)" if engine == "mariadb" else "CAST(PT_ID AS VARCHAR(10)) || '-' || " \
        "CAST(SEQ AS VARCHAR(10))"
    return f'''
[connector]
name = "unselected"
version = "1.0.0"
product = "sections whose queries select some of their tables' columns (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"
query = "SELECT PT_ID, CHART_NO, PT_NM FROM PATIENT"

[entities.patient.fields]
chart_number = {{ column = "CHART_NO", required = true }}
name = {{ column = "PT_NM", required = true }}

[entities.encounter]
table = "VISIT"
key = "VISIT_KEY"
query = "SELECT {concat} AS VISIT_KEY, PT_ID, VISIT_DAY FROM VISIT"

[entities.encounter.fields]
patient_id = {{ column = "PT_ID", type = "ref", ref = "patient", required = true }}
start = {{ column = "VISIT_DAY", type = "date", required = true }}

[entities.chart_note]
table = "NOTE_LOG"
key = "NOTE_NO"
query = "SELECT NOTE_NO, PT_ID, NOTE_DAY, BODY FROM NOTE_LOG"

[entities.chart_note.fields]
patient_id = {{ column = "PT_ID", type = "ref", ref = "patient", required = true }}
recorded = {{ column = "NOTE_DAY", type = "date", required = true }}
text = {{ column = "BODY", required = true }}
'''


def _create(engine: str, conn_str: str | None, path: Path) -> str | None:
    blob = {"sqlite": "BLOB", "mariadb": "BLOB", "postgresql": "BYTEA"}[engine]
    statements = [
        f"CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20), "
        f"EMAIL VARCHAR(40), MEMO {blob}, BORN DATE)",
        "CREATE TABLE VISIT (PT_ID INTEGER NOT NULL, SEQ INTEGER NOT NULL, VISIT_DAY DATE, DX VARCHAR(10), "
        "FEE DECIMAL(10, 2), NOTE VARCHAR(100), PRIMARY KEY (PT_ID, SEQ))",
        "CREATE TABLE NOTE_LOG (NOTE_NO INTEGER UNIQUE, PT_ID INTEGER, NOTE_DAY DATE, BODY VARCHAR(100), "
        "EXTRA VARCHAR(40))",
    ]
    if engine == "sqlite":
        conn = sqlite3.connect(path)
        for sql in statements:
            conn.execute(sql)
        conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?, ?, ?, ?)",
                         [(*p[:5], p[5] and p[5].isoformat()) for p in PATIENTS])
        conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?, ?)",
                         [(v[0], v[1], v[2].isoformat(), v[3], None if v[4] is None else str(v[4]), v[5]) for v in VISITS])
        conn.executemany("INSERT INTO NOTE_LOG VALUES (?, ?, ?, ?, ?)", [(*n[:2], n[2].isoformat(), *n[3:]) for n in NOTES])
        conn.commit()
        conn.close()
        return None
    assert conn_str is not None
    import pyodbc

    target = _fresh_database(conn_str, "emr_unselected", engine)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    suffix = " CHARACTER SET utf8mb4" if engine == "mariadb" else ""
    for sql in statements:
        conn.execute(sql + suffix)
    conn.cursor().executemany("INSERT INTO PATIENT VALUES (?, ?, ?, ?, ?, ?)", PATIENTS)
    conn.cursor().executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?, ?, ?)", VISITS)
    conn.cursor().executemany("INSERT INTO NOTE_LOG VALUES (?, ?, ?, ?, ?)", NOTES)
    conn.close()
    return target


def _bag(engine: str, request: pytest.FixtureRequest, tmp_path: Path, connector: str | None = None,
         ) -> tuple[dict[str, bytes], ExportRun]:
    """Export the clinic (the bag's tar, read back member by member) with the connector above (or
    ``connector``); the bag is extracted into ``tmp_path/bag`` too."""
    conn_str = {"mariadb": "mariadb_conn_str", "postgresql": "postgres_conn_str"}.get(engine)
    path = tmp_path / "clinic.sqlite"
    target = _create(engine, request.getfixturevalue(conn_str) if conn_str else None, path)
    folder = tmp_path / "unselected"
    folder.mkdir()
    (folder / "connector.toml").write_text(connector or _connector(engine), encoding="utf-8")
    source: Any = SqliteFileSource(path, snapshot=True) if target is None else OdbcSource(target, snapshot=True)
    try:
        run = ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                        created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC), page_size=2)  # pages of two rows
        tar = b"".join(run.stream())
        with tarfile.open(fileobj=io.BytesIO(tar)) as bag:
            members = {m.name.split("/", 1)[1]: bag.extractfile(m).read()  # type: ignore[union-attr]
                       for m in bag.getmembers() if m.isfile()}
            bag.extractall(tmp_path / "bag", filter="data")
        if connector is not None:  # every row of every table rebuilt from the bag, cell by cell
            [bag_dir] = [p.parent for p in (tmp_path / "bag").rglob("bag-info.txt")]
            run.rebuilt = check_bag_against_source(bag_dir, load_spec(folder), source)  # type: ignore[attr-defined]
    finally:
        source.close()
    return members, run


def _lines(members: dict[str, bytes], prefix: str) -> list[dict[str, Any]]:
    return [json.loads(line) for name in sorted(members) if name.startswith(f"data/{prefix}.")
            for line in members[name].splitlines()]


def _decoded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: decode_raw(v) for k, v in values.items()}


def _value(engine: str, value: Any) -> Any:
    """A value as the engine gives it back: SQLite keeps dates and decimals as the text inserted."""
    if engine == "sqlite" and isinstance(value, dt.date):
        return value.isoformat()
    if engine == "sqlite" and isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)  # NUMERIC affinity: 0.00 is 0, 12.50 12.5
    return value


#: Digest of every bag member the old export wrote too, but the inventory and the reconciliation (which now
#: name the carried columns): the same bytes before and after this change (checked against main's code).
UNCHANGED = {
    "sqlite": "239ad07a8070d86cf5cdde9558a7df94c0e2742bd194a36fd5d60385da5c6a3d",
    "mariadb": "bbfb82c4d3897a565a4f209bfbdf803fcd2bddb697e9b32d3a77514579f7df49",
    "postgresql": "bbfb82c4d3897a565a4f209bfbdf803fcd2bddb697e9b32d3a77514579f7df49",
}


@pytest.mark.parametrize("engine", [
    "sqlite", pytest.param("mariadb", marks=pytest.mark.db), pytest.param("postgresql", marks=pytest.mark.db)])
def test_columns_no_query_selects_are_carried_by_key_counted_and_named(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Before: patient.email/memo/born, visit.seq/dx/fee/note and note_log.extra were in no member of the bag;
    # the cells counted were only the queries' (3 + 3 + 3 per row), "balanced" all the same.
    members, run = _bag(engine, request, tmp_path)
    inventory = {t["name"]: t for t in json.loads(members["data/report/inventory.json"])["tables"]}
    reason = ("no query of the sections that read this table selects them: carried raw beside the sections, so "
              "that no cell is lost")
    assert inventory["patient"]["unselected_columns"] == {
        "columns": ["email", "memo", "born"], "key": ["pt_id"], "read": "keyset on pt_id", "reason": reason,
        "files": "data/raw/unselected/patient.*.ndjson"}
    assert inventory["visit"]["unselected_columns"] == {
        "columns": ["seq", "dx", "fee", "note"], "key": ["pt_id", "seq"], "read": "keyset on pt_id, seq",
        "reason": reason, "files": "data/raw/unselected/visit.*.ndjson"}
    assert inventory["note_log"]["unselected_columns"] == {
        "columns": ["extra"], "key": [], "reason": reason, "files": "data/raw/unselected/note_log.*.ndjson",
        "read": "whole rows, one ordered pass (no usable key to name a row by): every column of each row, the ones "
                "the sections read too"}
    assert [t["fate"] for t in inventory.values()] == ["entities"] * 3

    # every unselected cell, by its row's key, the exact value stored (in key order: pages of two rows)
    patients = [(_decoded(line["key"]), _decoded(line["columns"])) for line in _lines(members, "raw/unselected/patient")]
    assert patients == [({"pt_id": p[0]}, {"email": p[3], "memo": p[4], "born": _value(engine, p[5])})
                        for p in PATIENTS]
    visits = [(_decoded(line["key"]), _decoded(line["columns"])) for line in _lines(members, "raw/unselected/visit")]
    assert visits == [({"pt_id": v[0], "seq": v[1]},
                       {"seq": v[1], "dx": v[3], "fee": _value(engine, v[4]), "note": v[5]}) for v in VISITS]
    notes = [_decoded(line["row"]) for line in _lines(members, "raw/unselected/note_log")]
    assert sorted(notes, key=lambda r: r["note_no"]) == [
        {"note_no": n[0], "pt_id": n[1], "note_day": _value(engine, n[2]), "body": n[3], "extra": n[4]}
        for n in NOTES]

    # the cells balance, exactly: the queries' cells mapped or carried, the others carried here
    reconciliation = json.loads(members["data/report/reconciliation.json"])["reconciliation"]
    assert reconciliation["balanced"] and run.reconciliation.balanced
    assert [(c["table"], c["source_rows"], c["carried"], c["columns"], c["key"], c["cells"])
            for c in reconciliation["unselected_columns"]] == [
        ("note_log", 3, 3, ["extra"], [], {"source": 3, "carried_raw": 3}),
        ("patient", 3, 3, ["email", "memo", "born"], ["pt_id"], {"source": 9, "carried_raw": 9}),
        ("visit", 3, 3, ["seq", "dx", "fee", "note"], ["pt_id", "seq"], {"source": 12, "carried_raw": 12}),
    ]
    section_cells = sum(e["cells"]["source"] for e in reconciliation["entities"])
    assert section_cells == 3 * 3 + 3 * 3 + 3 * 4  # each query's columns
    cells = reconciliation["cells"]
    # every cell of the database (3 × 6 + 3 × 6 + 3 × 5), and the 3 cells of the query's VISIT_KEY expression
    assert cells["source"] == section_cells + 9 + 12 + 3 == 3 * 6 + 3 * 6 + 3 * 5 + 3
    assert cells["source"] == cells["mapped"] + cells["carried_raw"] + cells["quarantined"]
    assert reconciliation["tables"] == [] and reconciliation["table_totals"] == {"source_rows": 0, "carried": 0}
    assert Reconciliation.from_dict(reconciliation).to_dict() == reconciliation  # a saved summary reads back
    text = run.reconciliation.table()
    assert f"{'unselected cols':<16}{24:>12}{0:>12}{24:>13}{0:>13}" in text
    assert "columns of visit no query selects, carried raw (keyset on pt_id, seq): seq, dx, fee, note; 3 of 3 rows" in text

    # nothing else in the bag changed: the same members as before, these three sidecars more
    new = {f"data/raw/unselected/{t}.0001.ndjson" for t in ("note_log", "patient", "visit")}
    assert new <= set(members)
    unchanged = hashlib.sha256()
    for name in sorted(set(members) - new):
        if name.startswith("data/") and name not in ("data/report/inventory.json", "data/report/reconciliation.json"):
            unchanged.update(name.encode() + b"\0" + members[name] + b"\0")
    assert unchanged.hexdigest() == UNCHANGED[engine]


@pytest.mark.parametrize("engine", [
    "sqlite", pytest.param("mariadb", marks=pytest.mark.db), pytest.param("postgresql", marks=pytest.mark.db)])
def test_every_row_rebuilds_from_the_bag_with_the_unselected_columns(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Before: every rebuilt note lacked its extra, every patient its email, memo and born, every visit its dx, fee
    # and note (the bag held no cell of them): "chart_note: column(s) ['extra'] not rebuilt exactly [('extra',
    # 'NoneType', 'str')]".
    connector = _connector(engine).replace(
        'key = "VISIT_KEY"', 'key = ["PT_ID", "SEQ"]').replace(
        '"SELECT {} AS VISIT_KEY, PT_ID, VISIT_DAY FROM VISIT"'.format(
            "CONCAT(PT_ID, '-', SEQ)" if engine == "mariadb"
            else "CAST(PT_ID AS VARCHAR(10)) || '-' || CAST(SEQ AS VARCHAR(10))"),
        '"SELECT PT_ID, SEQ, VISIT_DAY FROM VISIT"')
    assert 'key = ["PT_ID", "SEQ"]' in connector and "SELECT PT_ID, SEQ, VISIT_DAY" in connector
    _, run = _bag(engine, request, tmp_path, connector)
    rebuilt = run.rebuilt  # type: ignore[attr-defined]
    assert dict(rebuilt.rows) == {"patient": 3, "visit": 3, "note_log": 3}
    # every cell of the database (3 × 6 + 3 × 6 + 3 × 5), each rebuilt once: 21 from data/raw/unselected, 3 from
    # data/raw/columns (the visit's SEQ, a key column no field maps), the others from FHIR
    assert (rebuilt.carried_cells, rebuilt.mapped_cells) == (24, 27)
    assert run.reconciliation.cell_totals["source"] == 51 == rebuilt.carried_cells + rebuilt.mapped_cells
    assert [(c.table, c.names, c.key, c.carried) for c in run.reconciliation.columns] == [
        ("note_log", ("extra",), (), 3), ("patient", ("email", "memo", "born"), ("pt_id",), 3),
        ("visit", ("dx", "fee", "note"), ("pt_id", "seq"), 3)]


def test_scan_and_connector_check_name_the_columns_as_carried(tmp_path: Path) -> None:
    # Before: the scan said nothing of them; the check listed them as "NOT exported, not carried" and was not
    # finished (exit 4).
    from click.testing import CliRunner

    from emr_exporter.cli import main

    path = tmp_path / "clinic.sqlite"
    _create("sqlite", None, path)
    folder = tmp_path / "connectors" / "unselected"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(_connector("sqlite"), encoding="utf-8")
    scan = CliRunner().invoke(main, ["scan", "--connector", "unselected", "--connectors-dir", str(folder.parent),
                                     "--source", str(path)])
    assert scan.exit_code == 0, scan.output
    assert ("Table note_log: 1 column no section's query selects (extra) will be carried raw for its 3 rows.\n"
            "Table patient: 3 columns no section's query selects (email, memo, born) will be carried raw for its 3 "
            "rows.\nTable visit: 4 columns no section's query selects (seq, dx, fee, note) will be carried raw for "
            "its 3 rows.\n") in scan.output
    check = CliRunner().invoke(main, ["connector", "check", str(folder), "--source", str(path), "--institution-code",
                                      "12345678", "--institution-name", "의원"])
    assert check.exit_code == 0, check.output
    assert ("\nColumns no query of their table selects (carried raw beside the sections in data/raw/unselected, not "
            "in FHIR; to map them, select them in the section's query, e.g. SELECT T.*, …):\n"
            f"  {'NOTE_LOG.EXTRA':<40}{2:>10} non-NULL cells\n  {'PATIENT.EMAIL':<40}{2:>10} non-NULL cells\n"
            f"  {'PATIENT.MEMO':<40}{2:>10} non-NULL cells\n  {'PATIENT.BORN':<40}{2:>10} non-NULL cells\n"
            f"  {'VISIT.SEQ':<40}{3:>10} non-NULL cells\n  {'VISIT.DX':<40}{2:>10} non-NULL cells\n"
            f"  {'VISIT.FEE':<40}{2:>10} non-NULL cells\n  {'VISIT.NOTE':<40}{2:>10} non-NULL cells\n") in check.output


class _DropsOnce(SqliteFileSource):
    """A SQLite file whose connection "drops" once, on the second page of VISIT's unselected columns (keyset on
    its two key columns; PATIENT's, with a BLOB, are read one row, then 16 rows a page at most)."""

    dropped = 0

    def rows(self, sql: str, params: Any = ()) -> Any:
        if '"FEE"' in sql and params and not self.dropped:
            self.dropped += 1
            raise SourceConnectionLost("The connection to the clinic database was lost: test")
        return super().rows(sql, params)

    def reconnect(self) -> None:
        pass  # the file is still there: the page is read again


def test_a_lost_connection_reads_the_same_page_again_and_progress_names_the_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clinic.sqlite"
    _create("sqlite", None, path)
    folder = tmp_path / "unselected"
    folder.mkdir()
    (folder / "connector.toml").write_text(_connector("sqlite"), encoding="utf-8")
    monkeypatch.setattr("emr_exporter.sources.base.RECONNECT_FIRST_WAIT", 0.01)
    digests = []
    events: list[ProgressEvent] = []
    for source in (SqliteFileSource(path, snapshot=True), _DropsOnce(path, snapshot=True)):
        run = ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                        created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC), page_size=2, progress=events.append)
        digests.append(hashlib.sha256(b"".join(run.stream())).hexdigest())
        source.close()
        assert run.reconciliation.balanced
    assert isinstance(source, _DropsOnce) and source.dropped == 1
    assert digests[0] == digests[1]  # every row once, in key order, as without the drop
    carried = [(e.entity, e.done, e.total) for e in events if e.stage == "carry"]
    # (keyset pages of one row first, then two: paging.FIRST_PAGE_ROWS)
    assert carried[:10] == [("NOTE_LOG", 0, 3), ("NOTE_LOG", 2, 3), ("NOTE_LOG", 3, 3), ("PATIENT", 0, 3),
                            ("PATIENT", 1, 3), ("PATIENT", 3, 3), ("VISIT", 0, 3), ("VISIT", 1, 3), ("VISIT", 3, 3),
                            ("VISIT", 3, 3)]
    assert carried[10:] == carried[:10]  # the second run's, the drop unseen


@pytest.mark.db
def test_unselected_columns_are_read_as_a_carried_tables_are(tmp_path: Path, postgres_conn_str: str) -> None:
    # Before (the unselected reader used the declared type where the carried tables use what a column holds): a
    # PostgreSQL domain over date named by its own name (``dob``) was guessed from that name, so 'infinity' came
    # out as a date of today; a domain over money as a float (2000.10 as 2000.1).
    import pyodbc

    target = _fresh_database(postgres_conn_str, "emr_unselected_domains", "postgresql")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    conn.execute("CREATE DOMAIN dob AS date")
    conn.execute("CREATE DOMAIN won AS money")
    conn.execute("CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20), "
                 "BORN dob, DEPOSIT won)")
    conn.execute("INSERT INTO PATIENT VALUES (1, 'C1', '김환자', 'infinity', '2000.10'), "
                 "(2, 'C2', '이환자', '1980-01-02', '92233720368547758.07'), (3, 'C3', '박환자', NULL, NULL)")
    conn.close()
    folder = tmp_path / "domains"
    folder.mkdir()
    (folder / "connector.toml").write_text(_connector("postgresql").split("[entities.encounter]")[0], encoding="utf-8")
    source = OdbcSource(target, snapshot=True)
    try:
        run = ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                        created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC), page_size=2)
        tar = b"".join(run.stream())
    finally:
        source.close()
    with tarfile.open(fileobj=io.BytesIO(tar)) as bag:
        members = {m.name.split("/", 1)[1]: bag.extractfile(m).read()  # type: ignore[union-attr]
                   for m in bag.getmembers() if m.isfile()}
    carried = {line["key"]["pt_id"]: _decoded(line["columns"]) for line in _lines(members, "raw/unselected/patient")}
    assert carried == {1: {"born": "infinity", "deposit": Decimal("2000.10")},
                       2: {"born": dt.date(1980, 1, 2), "deposit": Decimal("92233720368547758.07")},
                       3: {"born": None, "deposit": None}}
    assert run.reconciliation.balanced
