"""A section whose rows no record type fits says so (``carry = "<reason>"``): the export reads its rows with its
query as usual, in pages on its key, and writes each one verbatim, every column of its table, to
``data/raw/sections/<section>`` (counted as carried rows and cells with the reason, in the exact-split check of
the table's sections); no record, no FHIR, no quarantine. A hand-written connector over a measurement table, on
a real SQLite file and real MariaDB and PostgreSQL servers over ODBC (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sqlite3
import sys
import tarfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_spec
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.errors import ConnectorSpecError
from emr_exporter.pipeline import export as export_module
from emr_exporter.pipeline import parallel
from emr_exporter.pipeline.export import ExportRun, Reconciliation, digest_stream
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource

sys.path.insert(0, str(Path(__file__).parent / "connectors"))

from foreign_schemas import _fresh_database

sys.path.insert(0, str(Path(__file__).parent))

from lossless_kit import check_bag_against_source
from test_foreign_schemas import INSTITUTION, Flow, _source_args, checked, exported

REASON = "a measurement of a type that is no vital sign: kept as recorded"
PATIENTS = [(1, "C1", "김환자"), (2, "C2", "이환자")]
#: (MEAS_NO, PT_ID, KIND, VAL, NOTE, TAKEN): the weights ('WT') are vital signs; every other kind (a memo, an
#: A1C, no kind at all) is carried whole by the section ``meas_other``.
MEASUREMENTS = [
    (n, 1 + n % 2, kind, val, note, dt.date(2024, 1, 1 + n % 28))
    for n, (kind, val, note) in enumerate(
        [("WT", Decimal("60.5") + n, None) for n in range(100)]
        + [("MEMO", None, "환자 메모 ' 따옴표"), ("A1C", Decimal("6.1"), None), (None, Decimal("1.0"), "종류 없음"),
           ("MEMO", None, None)] * 5, start=1)
]
CARRIED = [m for m in MEASUREMENTS if m[2] != "WT"]


def _connector(carry: str = f'carry = "{REASON}"') -> str:
    return f'''
[connector]
name = "carried"
version = "1.0.0"
product = "a measurement table some of whose rows no record type fits (synthetic)"

[source]
encoding = "utf-8"

[entities.patient]
table = "PATIENT"
key = "PT_ID"

[entities.patient.fields]
chart_number = {{ column = "CHART_NO", required = true }}
name = {{ column = "PT_NM", required = true }}

[entities.vital_weight]
entity = "vital_signs"
table = "MEAS"
key = "MEAS_NO"
query = "SELECT * FROM MEAS WHERE KIND IN ('WT')"

[entities.vital_weight.fields]
patient_id = {{ column = "PT_ID", type = "ref", ref = "patient", required = true }}
observed = {{ column = "TAKEN", type = "datetime", required = true }}
weight = {{ column = "VAL", type = "decimal" }}

[entities.meas_other]
table = "MEAS"
key = "MEAS_NO"
query = "SELECT * FROM MEAS WHERE (KIND NOT IN ('WT') OR KIND IS NULL)"
{carry}
'''


def _create(engine: str, conn_str: str | None, path: Path) -> str | None:
    statements = [
        "CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, CHART_NO VARCHAR(10), PT_NM VARCHAR(20))",
        "CREATE TABLE MEAS (MEAS_NO INTEGER PRIMARY KEY, PT_ID INTEGER, KIND VARCHAR(10), VAL DECIMAL(8, 2), "
        "NOTE VARCHAR(100), TAKEN DATE)",
    ]
    if engine == "sqlite":
        conn = sqlite3.connect(path)
        for sql in statements:
            conn.execute(sql)
        conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", PATIENTS)
        conn.executemany("INSERT INTO MEAS VALUES (?, ?, ?, ?, ?, ?)",
                         [(*m[:3], None if m[3] is None else str(m[3]), m[4], m[5].isoformat()) for m in MEASUREMENTS])
        conn.commit()
        conn.close()
        return None
    assert conn_str is not None
    import pyodbc

    target = _fresh_database(conn_str, "emr_carried_sections", engine)
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    for sql in statements:
        conn.execute(sql + (" CHARACTER SET utf8mb4" if engine == "mariadb" else ""))
    conn.cursor().executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", PATIENTS)
    conn.cursor().executemany("INSERT INTO MEAS VALUES (?, ?, ?, ?, ?, ?)", MEASUREMENTS)
    conn.close()
    return target


def _source(engine: str, target: str | None, path: Path) -> Any:
    return SqliteFileSource(path, snapshot=True) if target is None else OdbcSource(target, snapshot=True)


def _run(folder: Path, source: Any, workers: int = 1) -> ExportRun:
    return ExportRun(load_spec(folder), source, institution=model.Institution(code="12345678", name="의원"),
                     created=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), page_size=7, workers=workers)


def _setup(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str | None, Path]:
    conn_str = {"mariadb": "mariadb_conn_str", "postgresql": "postgres_conn_str"}.get(engine)
    target = _create(engine, request.getfixturevalue(conn_str) if conn_str else None, tmp_path / "clinic.sqlite")
    folder = tmp_path / "carried"
    folder.mkdir()
    (folder / "connector.toml").write_text(_connector(), encoding="utf-8")
    return target, folder


def _dry_run(tmp_path: Path, request: pytest.FixtureRequest) -> ExportRun:
    """The SQLite clinic exported once (the bag hashed and thrown away): its reconciliation."""
    target, folder = _setup("sqlite", request, tmp_path)
    source = _source("sqlite", target, tmp_path / "clinic.sqlite")
    try:
        run = _run(folder, source)
        digest_stream(run.stream())
    finally:
        source.close()
    return run


def _cli_flow(target: str | None, tmp_path: Path) -> Flow:
    """The connector as ``connectors/foreign`` for the CLI (``connector check``, export, verify, open)."""
    folder = tmp_path / "connectors" / "foreign"
    folder.mkdir(parents=True)
    (folder / "connector.toml").write_text(_connector().replace('name = "carried"', 'name = "foreign"'), "utf-8")
    keys = make_demo_keys(tmp_path / "keys", institution_code=INSTITUTION[0], institution_name=INSTITUTION[1])
    source, env = _source_args(SimpleNamespace(path=None if target else tmp_path / "clinic.sqlite", odbc=target))
    return Flow(source, {**env, "EMR_EXPORTER_CERT_PASSWORD": keys.institution_password}, keys, tmp_path / "connectors")


def _value(engine: str, value: Any) -> Any:
    """A value as the engine gives it back: SQLite keeps dates and decimals as the text inserted."""
    if engine == "sqlite" and isinstance(value, dt.date):
        return value.isoformat()
    if engine == "sqlite" and isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    return value


#: The first carried row's line, byte for byte (the raw-row form of data/raw/tables: bundle-format.md §6.1).
FIRST_LINE = {
    "sqlite": '{"row":{"kind":"MEMO","meas_no":101,"note":"환자 메모 \' 따옴표","pt_id":2,"taken":"2024-01-18",'
              '"val":null}}',
    "mariadb": '{"row":{"kind":"MEMO","meas_no":101,"note":"환자 메모 \' 따옴표","pt_id":2,'
               '"taken":{"date":"2024-01-18"},"val":null}}',
}
FIRST_LINE["postgresql"] = FIRST_LINE["mariadb"]


@pytest.mark.parametrize("engine", [
    "sqlite", pytest.param("mariadb", marks=pytest.mark.db), pytest.param("postgresql", marks=pytest.mark.db)])
def test_a_carried_sections_rows_are_written_whole_counted_and_rebuilt(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    target, folder = _setup(engine, request, tmp_path)
    source = _source(engine, target, tmp_path / "clinic.sqlite")
    try:
        run = _run(folder, source)
        tar = b"".join(run.stream())
        with tarfile.open(fileobj=io.BytesIO(tar)) as bag:
            members = {m.name.split("/", 1)[1]: bag.extractfile(m).read()  # type: ignore[union-attr]
                       for m in bag.getmembers() if m.isfile()}
            bag.extractall(tmp_path / "bag", filter="data")
        [bag_dir] = [p.parent for p in (tmp_path / "bag").rglob("bag-info.txt")]
        rebuilt = check_bag_against_source(bag_dir, load_spec(folder), source)
        # `connector check` names them as carried; the sealed bag verifies, opens, and rebuilds every cell too
        flow = _cli_flow(target, tmp_path)
        check = checked(flow)
        assert check["carried_sections"] == [
            {"section": "meas_other", "table": "meas", "rows": 20, "reason": REASON}]
        assert check["defects"] == [] and check["unmapped_tables"] == []
        dry, sealed, opened = exported(flow, tmp_path)
        assert dry["reconciliation"]["carried_sections"] == sealed["reconciliation"]["carried_sections"]
        assert sealed["reconciliation"]["balanced"]
        assert check_bag_against_source(opened, load_spec(flow.connectors / "foreign"), source).rows == rebuilt.rows
    finally:
        source.close()
    # the raw member holds exactly the carried rows, in key order, every column as stored
    carried = [{k: decode_raw(v) for k, v in json.loads(line)["row"].items()}
               for name in sorted(members) if name.startswith("data/raw/sections/meas_other.")
               for line in members[name].splitlines()]
    columns = ("meas_no", "pt_id", "kind", "val", "note", "taken")
    assert carried == [dict(zip(columns, (*m[:3], _value(engine, m[3]), m[4], _value(engine, m[5])), strict=True))
                       for m in CARRIED]
    first = next(m for m in members if m.startswith("data/raw/sections/meas_other."))
    assert members[first].splitlines()[0].decode("utf-8") == FIRST_LINE[engine]
    # no record, no quarantine: the weights are the only vital signs; nothing under raw/meas_other
    assert not any(m.startswith(("data/raw/meas_other", "data/raw/columns/meas_other")) for m in members)
    assert len([line for name, data in members.items() if name.startswith("data/fhir/Observation")
                for line in data.splitlines()]) == 100
    reconciliation = json.loads(members["data/report/reconciliation.json"])["reconciliation"]
    assert reconciliation["balanced"] and run.reconciliation.balanced
    assert [e["entity"] for e in reconciliation["entities"]] == ["patient", "vital_weight"]
    assert reconciliation["carried_sections"] == [{
        "section": "meas_other", "reason": REASON, "table": "meas", "source_rows": 20, "carried": 20, "columns": 6,
        "cells": {"source": 120, "carried_raw": 120}, "read": "keyset on meas_no",
        "files": "data/raw/sections/meas_other.*.ndjson", "balanced": True}]
    cells = reconciliation["cells"]
    assert cells["source"] == 2 * 3 + 120 * 6 == cells["mapped"] + cells["carried_raw"] + cells["quarantined"]
    assert cells["quarantined"] == 0
    assert Reconciliation.from_dict(reconciliation).to_dict() == reconciliation
    assert ("rows of meas carried raw by [entities.meas_other] (keyset on meas_no): 20 of 20 rows, "
            f"{REASON}") in run.reconciliation.table()
    inventory = {t["name"]: t for t in json.loads(members["data/report/inventory.json"])["tables"]}
    assert inventory["meas"]["entities"] == ["meas_other", "vital_weight"]
    assert inventory["meas"]["carried_sections"] == [
        {"section": "meas_other", "reason": REASON, "files": "data/raw/sections/meas_other.*.ndjson"}]
    # every cell of the database rebuilt from the bag, the carried rows' from data/raw/sections
    assert dict(rebuilt.rows) == {"patient": 2, "meas": 120}
    # (the weights' unmapped KIND and NOTE, their key and their transformed cells carried beside their records:
    # 300; the carried section's 120)
    assert (rebuilt.carried_cells, rebuilt.mapped_cells, rebuilt.quarantined_cells) == (
        cells["carried_raw"], cells["mapped"], 0) == (300 + 120, 306, 0)


def test_the_bag_is_byte_identical_with_workers(tmp_path: Path, request: pytest.FixtureRequest,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 50)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 13)
    target, folder = _setup("sqlite", request, tmp_path)
    digests = []
    for workers in (1, 2):
        source = _source("sqlite", target, tmp_path / "clinic.sqlite")
        try:
            run = _run(folder, source, workers)
            digests.append(digest_stream(run.stream()).sha256)
            assert run._pool_tried == (workers > 1)
            assert run.reconciliation.sections[0].carried == 20
        finally:
            source.close()
    assert digests[0] == digests[1]


def test_a_carried_section_says_why_and_maps_no_field(tmp_path: Path) -> None:
    folder = tmp_path / "carried"
    folder.mkdir()
    for carry, problem in (
            ('carry = ""', "must be a non-empty string"),
            (f'carry = "{REASON}"\n[entities.meas_other.fields]\nnote = {{ column = "NOTE" }}',
             "a carried section (carry = ...) maps no field"),
    ):
        (folder / "connector.toml").write_text(_connector(carry), encoding="utf-8")
        with pytest.raises(ConnectorSpecError, match=re.escape(problem)):
            load_spec(folder)
    (folder / "connector.toml").write_text(_connector(), encoding="utf-8")
    spec = load_spec(folder)
    assert (spec.entities["meas_other"].carry, spec.entities["meas_other"].fields) == (REASON, {})
    assert list(spec.entities) == ["patient", "vital_weight", "meas_other"]  # mapped sections first


def test_the_transfer_reports_inventory_says_which_rows_are_carried_and_why(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from emr_exporter.reports.transfer import LABELS, _inventory_section, new_pdf
    from test_report import pdf_text

    run = _dry_run(tmp_path, request)
    texts = {}
    for lang in ("ko", "en"):
        pdf = new_pdf("inventory")
        pdf.add_page()
        _inventory_section(pdf, run.reconciliation.to_dict(), lambda key, lang=lang: LABELS[key][lang], lang)
        texts[lang] = " ".join(pdf_text(bytes(pdf.output())).split())
    assert (f"; the rows of meas_other carried verbatim, no record made (data/raw/sections): {REASON}"
            in texts["en"])
    assert f"; meas_other의 행은 기록으로 만들지 않고 원본 그대로 이관 (data/raw/sections): {REASON}" in texts["ko"]
    # the whole report: the summary's records line and the counts table count the carried rows (이관 too)
    from emr_exporter.jobs.service import ExportOutcome
    from emr_exporter.reports.transfer import render_transfer_report, report_from_outcome

    outcome = ExportOutcome(reconciliation=run.reconciliation, bag_sha256="0" * 64, bag_bytes=1,
                            institution=model.Institution(code="12345678", name="의원"), connector="carried",
                            dry_run=True, created=run.created)
    for lang, records, carried, total in (
            ("ko", "기록 수 원본 122건 = 이관 102건 + 원본 그대로 이관 20건 + 별도 보관 0건 — 모두 일치",
             "meas 표의 일부 (meas_other), 원본 그대로 — 20 20 0", "합계 122 122 0"),
            ("en", "Records source 122 = exported 102 + carried verbatim 20 + kept separately 0 — balanced",
             "Part of meas (meas_other), carried verbatim — 20 20 0", "Total 122 122 0")):
        text = " ".join(pdf_text(render_transfer_report(report_from_outcome(outcome), lang)).split())
        assert records in text and carried in text and total in text, lang


def test_columns_no_mapped_query_selects_are_carried_once_for_the_carried_rows_too(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # the weights' query leaves NOTE out: data/raw/unselected carries it for every row of MEAS, the carried
    # section's rows among them, so their lines in data/raw/sections leave it out (each cell once)
    target, folder = _setup("sqlite", request, tmp_path)
    (folder / "connector.toml").write_text(_connector().replace(
        "query = \"SELECT * FROM MEAS WHERE KIND IN ('WT')\"",
        "query = \"SELECT MEAS_NO, PT_ID, KIND, VAL, TAKEN FROM MEAS WHERE KIND IN ('WT')\""), encoding="utf-8")
    source = _source("sqlite", target, tmp_path / "clinic.sqlite")
    try:
        run = _run(folder, source)
        tar = b"".join(run.stream())
        with tarfile.open(fileobj=io.BytesIO(tar)) as bag:
            bag.extractall(tmp_path / "bag", filter="data")
        [bag_dir] = [p.parent for p in (tmp_path / "bag").rglob("bag-info.txt")]
        rebuilt = check_bag_against_source(bag_dir, load_spec(folder), source)
    finally:
        source.close()
    [columns] = run.reconciliation.columns
    assert (columns.table, columns.names, columns.carried) == ("meas", ("note",), 120)
    [section] = run.reconciliation.sections
    assert (section.columns, section.carried) == (5, 20)
    lines = [json.loads(line) for path in sorted(bag_dir.glob("data/raw/sections/meas_other.*.ndjson"))
             for line in path.read_bytes().splitlines()]
    assert [sorted(line["row"]) for line in lines] == [["kind", "meas_no", "pt_id", "taken", "val"]] * 20
    assert run.reconciliation.balanced and dict(rebuilt.rows) == {"patient": 2, "meas": 120}
    cells = run.reconciliation.cell_totals
    assert cells["source"] == 2 * 3 + 100 * 5 + 120 * 1 + 20 * 5 == rebuilt.carried_cells + rebuilt.mapped_cells


#: Every row of the clinic: 2 patients, 100 weights exported, the section's 20 rows carried whole.
EVERY_ROW = "122 source rows: 102 exported, 20 carried whole, 0 quarantined"


def test_every_total_a_person_reads_counts_the_carried_rows(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # (run under C and again under ko_KR.UTF-8: .ci/run's Korean line; the counts are plain digits in both)
    from test_foreign_schemas import _run as cli

    target, _ = _setup("sqlite", request, tmp_path)
    flow = _cli_flow(target, tmp_path)
    connector = flow.connectors / "foreign"
    check = cli(["connector", "check", str(connector), *flow.source], flow.env, 0, 4).stdout.splitlines()
    assert f"  {EVERY_ROW}" in check
    assert check[check.index(f"  {EVERY_ROW}") + 1] == "  balanced"
    scan = cli(["scan", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source],
               flow.env, 0).stdout.splitlines()
    assert scan[scan.index(f"{'total':<16}{102:>10}{102:>10}{0:>12}") + 1] == (
        "122 source rows: 102 to export, 20 to carry whole, 0 to quarantine.")
    assert f"Table meas: 20 rows of [entities.meas_other] will be carried raw whole ({REASON})." in scan
    export = ["export", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source,
              "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1]]
    dry = cli([*export, "--dry-run"], flow.env, 0).stdout.splitlines()
    assert dry[-1] == f"{EVERY_ROW}. Dry run: nothing was written (the bag was streamed and hashed in memory)."
    assert (f"rows of meas carried raw by [entities.meas_other] (keyset on meas_no): 20 of 20 rows, {REASON}"
            in dry)
    keys = flow.keys
    sealed = cli([*export, "--out", str(tmp_path / "out"), "--cert", str(keys.institution_p12), "--store-cert",
                  str(keys.store_cert), "--accept-signer-mismatch"], flow.env, 0).stdout.splitlines()
    [bundle] = (tmp_path / "out").glob("*.emrx")
    assert sealed[-1] == f"{EVERY_ROW}. Sealed bundle: {bundle}"
    # `verify` (no store key): the signed summary counts them too, per carried section
    verified = cli(["verify", str(bundle), "--trust-anchor", str(keys.ca_cert)], flow.env, 0).stdout.splitlines()
    assert "Records:      122 source rows: 102 exported, 20 carried whole, 0 quarantined" in verified
    assert "  section meas_other: 20 carried whole" in verified


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("mariadb", marks=pytest.mark.db)])
def test_scan_json_totals_every_row_as_the_text_does(engine: str, tmp_path: Path,
                                                    request: pytest.FixtureRequest) -> None:
    # `scan --json`: ``totals`` is the mapped sections' (as the export's ``totals``), ``row_totals`` every row of
    # the database, the carried section's 20 too, with the keys of ``Reconciliation.row_totals``.
    from test_foreign_schemas import _run as cli

    target, _ = _setup(engine, request, tmp_path)
    flow = _cli_flow(target, tmp_path)
    scanned = json.loads(cli(["scan", "--connector", "foreign", "--connectors-dir", str(flow.connectors),
                              *flow.source, "--json"], flow.env, 0).stdout)
    assert scanned["totals"] == {"source_rows": 102, "will_export": 102, "will_quarantine": 0}
    assert scanned["row_totals"] == {"source_rows": 122, "exported": 102, "carried": 20, "quarantined": 0,
                                     "carried_tables": 0, "carried_sections": 20}
    [section] = scanned["carried_sections"]
    assert (section["section"], section["source_rows"], section["carried"]) == ("meas_other", 20, 20)
    # the same numbers as the export's own reconciliation
    export = ["export", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source,
              "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--dry-run", "--json"]
    dry = json.loads(cli(export, flow.env, 0).stdout)
    assert Reconciliation.from_dict(dry["reconciliation"]).row_totals == scanned["row_totals"]


def test_row_totals_read_older_reconciliations_and_summaries(
        tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    from emr_exporter.cli.bundle_commands import _print_report
    from emr_exporter.pipeline.export import row_totals

    run = _dry_run(tmp_path, request)
    now = run.reconciliation.to_dict()
    assert "row_totals" not in now  # no key holds the sum: a bag is byte for byte as before
    every = {"source_rows": 122, "exported": 102, "carried": 20, "quarantined": 0, "carried_tables": 0,
             "carried_sections": 20}
    assert run.reconciliation.row_totals == row_totals(now) == Reconciliation.from_dict(now).row_totals == every
    assert run.reconciliation.totals == {"source_rows": 102, "exported": 102, "quarantined": 0}  # the mapped rows'
    # an older bag's reconciliation: no carried sections (and, older still, no cells, tables or inventory)
    older = {k: v for k, v in now.items() if k != "carried_sections"}
    oldest = {"balanced": True, "totals": now["totals"], "entities": [
        {k: e[k] for k in ("entity", "table", "source_rows", "exported", "quarantined")} for e in now["entities"]]}
    for old in (older, oldest):
        loaded = Reconciliation.from_dict(old)
        assert loaded.row_totals == row_totals(old) == {
            **every, "source_rows": 102, "carried": 0, "carried_sections": 0}
        assert loaded.totals == now["totals"] and loaded.balanced
    # `verify` on a bundle whose signed summary predates "carried": the line it always printed
    report = SimpleNamespace(path="b.emrx", bundle_id="x", institution_code="1", institution_name="의원", created="c",
                             recipient_name="r", recipient_key_id="0" * 16, size=1, parts=1, plaintext_size=1,
                             trusted=True, counts={"source_rows": 102, "exported": {"patient": 2, "vital_signs": 100},
                                                   "quarantined": {"patient": 0, "vital_signs": 0}})
    _print_report(report)
    assert "Records:      102 source rows, 102 exported, 0 quarantined\n" in capsys.readouterr().out
    report.counts["carried"] = {"section meas_other": 20}
    _print_report(report)
    printed = capsys.readouterr().out
    assert "Records:      122 source rows: 102 exported, 20 carried whole, 0 quarantined\n" in printed
    assert "  section meas_other: 20 carried whole\n" in printed
