"""A lab report's results read in one ordered pass beside the reports' pages (pipeline/children.py), not one query per
page of reports: without an index on ``LAB_RSLT.PANEL_NO`` each page's query scanned the results table (pages ×
results). The bag must be the same bytes as the per-page way gave, on one core and on worker processes, for text
report keys the server sorts its own way (mixed case, Korean, numbers as text); and where the ordered pass lists the
reports in another order than their pages, the export must notice before handing a page on and read the rest per
page, losing no link.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sqlite3
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline import children as children_module
from emr_exporter.pipeline import export as export_module
from emr_exporter.pipeline.export import ExportRun
from emr_exporter.sources.base import Source, SqliteFileSource
from test_lab_panels import _spec

#: panels a result names that do not exist (orphan) and the keys of the rows the export quarantines
ORPHAN_PANEL, QUARANTINED_PANEL = "no-such", "q-panel"
UNDATED_RESULT, NULL_PANEL_RESULT, ORPHAN_RESULT = 9001, 9002, 9003
#: the fallback's test: the ordered pass lists a report without results last, the first such from the 30th key on
MOVED_AT = 30


def panel_keys(engine: str) -> list[str]:
    """Report keys as text: numbers as text ('10' before '2' in the server's text order), Korean, mixed case. Keys
    differing in case only where the server tells them apart (MariaDB's default collation does not)."""
    keys = ["검사1", "검사10", "검사2", "혈액-3", "2", "100", "007", "Ab", "Z", "z9"]
    keys += [f"{prefix}{i}" for prefix in ("a", "B", "검", "0", "1", "x-") for i in range(10)]
    if engine != "mariadb":
        keys += ["A1", "aB", "b0", "ZZ", "zz"]  # a1 and A1, Ab and aB, B0 and b0: two reports each
    return keys


def fill(conn: Any, engine: str) -> tuple[dict[str, list[int]], int]:
    """The clinic (no index on LAB_RSLT.PANEL_NO, no FOREIGN KEY) and, per exported report, the results it must list
    in the order of their keys; the number of reports."""
    conn.execute("CREATE TABLE PATIENT (CHART_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40))")
    conn.execute("CREATE TABLE LAB_PANEL (PANEL_NO VARCHAR(20) PRIMARY KEY, CHART_NO VARCHAR(10), "
                 "PANEL_NM VARCHAR(40), RPT_DTTM VARCHAR(16))")
    conn.execute("CREATE TABLE LAB_RSLT (RSLT_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PANEL_NO VARCHAR(20), "
                 "RSLT_DTTM VARCHAR(16), TEST_CD VARCHAR(10))")
    conn.execute("INSERT INTO PATIENT VALUES (?, ?)", ("000001", "김하늘"))
    keys = panel_keys(engine)
    for key in keys:
        conn.execute("INSERT INTO LAB_PANEL VALUES (?,?,?,?)", (key, "000001", "CBC", "2024-05-05 15:00"))
    conn.execute("INSERT INTO LAB_PANEL VALUES (?,?,?,?)", (QUARANTINED_PANEL, "000001", "CBC", None))
    # results interleaved across the panels (0 to 4 each, numbered in a shuffled order), as entered over a day
    named = [key for i, key in enumerate(keys) for _ in range(i % 5)] + [QUARANTINED_PANEL] * 2
    random.Random(7).shuffle(named)
    expected: dict[str, list[int]] = {key: [] for key in keys}
    insert = "INSERT INTO LAB_RSLT VALUES (?,?,?,?,?)"
    for number, key in enumerate(named, 1000):
        conn.execute(insert, (number, "000001", key, "2024-05-05 10:30", "WBC"))
        if key != QUARANTINED_PANEL:
            expected[key].append(number)
    conn.execute(insert, (UNDATED_RESULT, "000001", keys[1], None, "PLT"))  # quarantined: left out of its list
    conn.execute(insert, (NULL_PANEL_RESULT, "000001", None, "2024-05-05 10:30", "HB"))
    conn.execute(insert, (ORPHAN_RESULT, "000001", ORPHAN_PANEL, "2024-05-05 10:30", "HB"))
    return {k: v for k, v in expected.items() if v}, len(keys)


Clinic = tuple[str, Callable[..., Source], dict[str, list[int]], int]
SERVERS = ["sqlite", pytest.param("mariadb", marks=pytest.mark.db), pytest.param("postgresql", marks=pytest.mark.db)]


@pytest.fixture(params=SERVERS)
def clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Clinic:
    return make_clinic(request, request.param, tmp_path)


@pytest.fixture(params=[s for s in SERVERS if "mariadb" not in str(s)])
def merged_clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Clinic:
    """The clinics whose lists are read in an ordered pass (not MariaDB)."""
    return make_clinic(request, request.param, tmp_path)


def make_clinic(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> Clinic:
    """(engine, a new source on the clinic (in a snapshot unless ``snapshot=False``), the lists the reports must
    have, the number of reports)."""
    if engine == "sqlite":
        conn = sqlite3.connect(tmp_path / "clinic.db")
        try:
            expected, reports = fill(conn, engine)
            conn.commit()
        finally:
            conn.close()
        return engine, lambda snapshot=True: SqliteFileSource(tmp_path / "clinic.db", snapshot=snapshot), expected, reports
    import pyodbc
    from foreign_schemas import _fresh_database

    from emr_exporter.sources.odbc import OdbcSource

    target = _fresh_database(request.getfixturevalue(f"{'postgres' if engine == 'postgresql' else engine}_conn_str"),
                             "emr_lab_merge", engine)
    odbc = pyodbc.connect(target, autocommit=False)
    odbc.setencoding(encoding="utf-8")
    try:
        expected, reports = fill(odbc, engine)
        odbc.commit()
    finally:
        odbc.close()
    return engine, lambda snapshot=True: OdbcSource(target, snapshot=snapshot), expected, reports


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    from emr_exporter.pipeline import parallel

    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 50)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 29)


ORPHAN_AND_UNDATED = (1, {"orphan": 1, "required-missing": 1})


def export(tmp_path: Path, source: Source, workers: int, page_size: int = 7,
           quarantined: tuple[int, dict[str, int]] | None = ORPHAN_AND_UNDATED) -> tuple[bytes, str]:
    """The bag's bytes, and how the reports' lists were read; ``quarantined``: the reports quarantined, and the
    results' reasons (the clinic of :func:`fill`)."""
    _spec(tmp_path, 'report_id = { column = "PANEL_NO", type = "ref", ref = "panel" }')
    try:
        run = ExportRun(load_spec(tmp_path), source, institution=model.Institution(code="12345678", name="가상내과의원"),
                        created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), workers=workers, page_size=page_size)
        data = b"".join(run.stream())
        assert run._pool_tried == (workers > 1)
        [reports] = [e for e in run.reconciliation.entities if e.entity == "panel"]
        [results] = [e for e in run.reconciliation.entities if e.entity == "lab_result"]
        if quarantined is not None:
            assert (reports.quarantined, results.to_dict()["quarantine_reasons"]) == quarantined, (
                reports.to_dict(), results.to_dict())
        return data, run.children_read["panel"].how
    finally:
        source.close()


def listed(bag: bytes) -> dict[str, list[int]]:
    """Each DiagnosticReport's key → the keys of the results its ``result`` lists, in its order."""
    found: dict[str, list[dict[str, Any]]] = {}
    with tarfile.open(fileobj=io.BytesIO(bag)) as tar:
        for member in tar.getmembers():
            for name in ("DiagnosticReport", "Observation"):
                if member.isfile() and f"/data/fhir/{name}." in member.name:
                    data = tar.extractfile(member).read()  # type: ignore[union-attr]
                    found.setdefault(name, []).extend(json.loads(line) for line in data.splitlines())
    observations = {o["id"]: int(o["identifier"][0]["value"]) for o in found["Observation"]}
    return {r["identifier"][0]["value"]: [observations[ref["reference"].split("/")[1]] for ref in r.get("result", [])]
            for r in found["DiagnosticReport"]}


def per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(children_module, "merges_children", lambda source: False)


def test_the_results_are_read_in_one_ordered_pass_and_the_bag_is_the_same_as_per_page(
        clinic: Clinic, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, small_batches: None) -> None:
    engine, source, expected, reports = clinic
    merged = engine != "mariadb"  # MariaDB's driver streams one result per connection: per page there
    bags: dict[tuple[str, int], bytes] = {}
    for workers in (1, 2):
        bags["merged", workers], how = export(tmp_path, source(), workers)
        assert how == ("merged" if merged else "per page")
    with monkeypatch.context() as patched:
        per_page(patched)
        for workers in (1, 2):
            bags["per page", workers], how = export(tmp_path, source(), workers)
            assert how == "per page"
    assert len(set(bags.values())) == 1, {k: len(v) for k, v in bags.items()}
    lists = listed(bags["merged", 1])
    assert len(lists) == reports  # the quarantined report is no DiagnosticReport; every other one is
    assert {k: v for k, v in lists.items() if v} == expected
    assert sum(map(len, expected.values())) == sum(i % 5 for i in range(reports))  # (the undated one left out)


def test_an_ordered_pass_in_another_order_than_the_pages_falls_back_to_per_page_and_keeps_every_link(
        merged_clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _engine, source, expected, _reports = merged_clinic
    read = source()
    try:
        order = [row["panel_no"] for row in read.rows("SELECT PANEL_NO FROM LAB_PANEL ORDER BY PANEL_NO")]
    finally:
        read.close()
    # a report without results, past the fourth page: its place alone differs, and is noticed
    moved = next(key for key in order[MOVED_AT:] if key not in expected)
    original = export_module.children_pass_sql

    def moved_last(*args: Any) -> str:
        # the server's order but one report listed last: the pages agree with it up to that report's page
        sql = original(*args)
        head, _, tail = sql.rpartition("ORDER BY ")
        return f"{head}ORDER BY CASE WHEN p.PANEL_NO = '{moved}' THEN 1 ELSE 0 END, {tail}"

    monkeypatch.setattr(export_module, "children_pass_sql", moved_last)
    bag, how = export(tmp_path, source(), 1)
    assert how == "merged, then per page"  # merged for the first pages, per page from the moved report's on
    with monkeypatch.context() as patched:
        per_page(patched)
        reference, how = export(tmp_path, source(), 1)
        assert how == "per page"
    assert bag == reference
    assert {k: v for k, v in listed(bag).items() if v} == expected



def test_after_a_reconnect_the_lists_are_read_per_page_in_the_new_snapshot(
        merged_clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A page read again after a lost connection is read in a new snapshot; the pass's rows (and PostgreSQL's cursor)
    # are the old one's: from that page on, the lists are read per page, in the new snapshot, as the pages are.
    _engine, source, expected, _reports = merged_clinic
    original = children_module.ChildLists.children
    pages = []

    def reconnected_after_two_pages(self: children_module.ChildLists, keys: Any) -> children_module.Found:
        pages.append(len(keys))
        if len(pages) == 3:
            read.snapshot_generation = getattr(read, "snapshot_generation", 0) + 1  # as OdbcSource.reconnect does
        return original(self, keys)

    monkeypatch.setattr(children_module.ChildLists, "children", reconnected_after_two_pages)
    read = source()
    bag, how = export(tmp_path, read, 1)
    assert how == "merged, then per page" and len(pages) > 3
    monkeypatch.setattr(children_module.ChildLists, "children", original)
    reference, _how = export(tmp_path, source(), 1)
    assert bag == reference
    assert {k: v for k, v in listed(bag).items() if v} == expected


@pytest.mark.parametrize(("panel_type", "result_type"), [("INTEGER", "TEXT"), ("INTEGER", ""), ("TEXT", "INTEGER"),
                                                         ("", "")])
def test_sqlites_affinity_between_the_report_key_and_the_results_column_gives_the_same_lists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, panel_type: str, result_type: str) -> None:
    # A result's PANEL_NO stored as text ('10') or as an integer (10), the report's key declared INTEGER, TEXT or with
    # no type: SQLite compares them by the columns' affinities, and sorts integers before text. Whatever matches in
    # the per-page query matches in the ordered pass, in the same order.
    conn = sqlite3.connect(tmp_path / "clinic.db")
    try:
        conn.execute("CREATE TABLE PATIENT (CHART_NO VARCHAR(10) PRIMARY KEY, PT_NM VARCHAR(40))")
        conn.execute(f"CREATE TABLE LAB_PANEL (PANEL_NO {panel_type} PRIMARY KEY, CHART_NO VARCHAR(10), "
                     "PANEL_NM VARCHAR(40), RPT_DTTM VARCHAR(16))")
        conn.execute(f"CREATE TABLE LAB_RSLT (RSLT_NO INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PANEL_NO {result_type}, "
                     "RSLT_DTTM VARCHAR(16), TEST_CD VARCHAR(10))")
        conn.execute("INSERT INTO PATIENT VALUES ('000001', '김하늘')")
        panels: list[Any] = {"INTEGER": [2, 10, 100, 7, 3], "TEXT": ["2", "10", "100", "7", "10a", "검사", "03"],
                             "": [2, "2x", 10, "10a", "검사", 3, "03"]}[panel_type]
        panels += list(range(20, 60)) if panel_type != "TEXT" else [str(n) for n in range(20, 60)]
        for key in panels:
            conn.execute("INSERT INTO LAB_PANEL VALUES (?, '000001', 'CBC', '2024-05-05 15:00')", (key,))
        named: list[Any] = [2, "2", 10, "10", "100", 100, "7", 7, "10a", "검사", "3", 3, "03", "3.0", " 3", None]
        named += [n if n % 3 else str(n) for n in range(20, 60) for _ in range(n % 3)]
        random.Random(11).shuffle(named)
        for number, key in enumerate(named, 1000):
            conn.execute("INSERT INTO LAB_RSLT VALUES (?, '000001', ?, '2024-05-05 10:30', 'WBC')", (number, key))
        conn.commit()
    finally:
        conn.close()
    merged, how = export(tmp_path, SqliteFileSource(tmp_path / "clinic.db", snapshot=True), 1, quarantined=None)
    assert how == "merged"
    with monkeypatch.context() as patched:
        per_page(patched)
        reference, how = export(tmp_path, SqliteFileSource(tmp_path / "clinic.db", snapshot=True), 1,
                                quarantined=None)
        assert how == "per page"
    assert merged == reference
    conn = sqlite3.connect(tmp_path / "clinic.db")
    try:  # what SQLite's own join matches (affinity included), each report's results in the order of their keys
        joined = conn.execute("SELECT p.PANEL_NO, c.RSLT_NO FROM LAB_RSLT c JOIN LAB_PANEL p ON p.PANEL_NO = c.PANEL_NO "
                              "ORDER BY c.RSLT_NO").fetchall()
    finally:
        conn.close()
    expected: dict[str, list[int]] = {}
    for panel, result in joined:
        expected.setdefault(str(panel), []).append(result)
    assert {k: v for k, v in listed(merged).items() if v} == expected
    assert sum(map(len, expected.values())) > 40


def test_outside_a_snapshot_the_ordered_pass_is_read_as_well(
        merged_clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # PostgreSQL without the export's transaction (each statement commits): a cursor WITH HOLD, which outlives its
    # DECLARE; SQLite: a statement stepped beside the pages' without a read transaction held.
    _engine, source, expected, _reports = merged_clinic
    bag, how = export(tmp_path, source(snapshot=False), 1)
    assert how == "merged"
    with monkeypatch.context() as patched:
        per_page(patched)
        reference, _how = export(tmp_path, source(snapshot=False), 1)
    assert bag == reference
    assert {k: v for k, v in listed(bag).items() if v} == expected
