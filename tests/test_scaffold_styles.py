"""From `scaffold` to a finished connector on two Korean EMR styles nobody has a connector for.

For each generated clinic (tests/connectors/korean_styles.py: "hwanja" romanised names, references by
chart number, split RRN, epochs; "recept" English abbreviations, integer references, SOAP notes in CP949):

1. the scaffold's first connector loads, reconciles, and quarantines only planted dirty rows (no wrong
   orphans); its guesses say why with numbers (value overlaps, shares of fit), never with a stored value;
2. replacing only ``connector.toml`` in that folder with the finished one gives a connector that
   ``connector check`` calls finished, and whose reconciliation is exactly the planted dirty rows.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import sys
import tomllib
from pathlib import Path

import pytest

from emr_exporter.connectors.spec import load_spec
from emr_exporter.jobs.authoring import assert_connector_finished, check_connector, write_scaffold
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import open_source

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from korean_styles import (
    HWANJA_CONNECTOR,
    RECEPT_CONNECTOR,
    StyleClinic,
    copy_to_server,
    create_hwanja_clinic,
    create_recept_clinic,
)

STYLES = {
    "hwanja": (create_hwanja_clinic, HWANJA_CONNECTOR),
    "recept": (create_recept_clinic, RECEPT_CONNECTOR),
}
ALLOWED = {"orphan", "duplicate", "incomplete-value", "invalid-date", "invalid-number", "unmapped-code"}


@pytest.fixture(scope="module", params=sorted(STYLES))
def style(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, StyleClinic, Path]:
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    clinic = STYLES[name][0](folder / f"{name}.sqlite")
    outcome = write_scaffold(name, folder / "connectors", SourceAddress(database=clinic.path))
    return name, clinic, outcome.folder


def quarantined_rows(folder: Path, clinic: StyleClinic) -> tuple[ExportRun, dict[str, set[str]]]:
    spec = load_spec(folder)
    source = open_source(database=clinic.path, snapshot=True)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source),
                        created=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
        digest_stream(run.stream())
    finally:
        source.close()
    per_table: dict[str, set[str]] = {}
    for entity, keys in run._quarantined_keys.items():
        per_table.setdefault(spec.entities[entity].table, set()).update(keys)
    return run, per_table


def test_the_first_scaffold_reconciles_and_orphans_nothing_wrongly(style: tuple[str, StyleClinic, Path]) -> None:
    name, clinic, folder = style
    run, quarantined = quarantined_rows(folder, clinic)
    assert run.reconciliation.balanced
    for table, keys in quarantined.items():
        assert keys <= set(clinic.dirty.get(table, {})), (table, keys - set(clinic.dirty.get(table, {})))
    # every table the schema means as clinical data is read already; the rest is skipped or listed
    read = {e.table for e in run.reconciliation.entities}
    assert {"HWANJA", "JUBSU", "JINDAN", "CHEOBANG", "SUNAP", "MEMO", "EUISA"} <= read if name == "hwanja" else \
        {"PATIENT", "RECEPT", "DIAG", "PRESC", "PAY", "SOAP", "DOCTOR"} <= read
    report = check_connector(folder, SourceAddress(database=clinic.path))
    assert report.unmapped_tables == []  # settings, code table, log, clinic row: under [skip] with a reason
    exported = {e.entity: e.exported for e in run.reconciliation.entities}
    assert all(n > 0 for n in exported.values())


def test_hwanja_guesses_say_why_with_numbers(tmp_path: Path) -> None:
    clinic = create_hwanja_clinic(tmp_path / "h.sqlite")
    text = write_scaffold("hwanja", tmp_path / "c", SourceAddress(database=clinic.path)).connector_toml.read_text(encoding="utf-8")
    # visits point at patients by chart number, found by value overlap (not by the name of the key)
    assert re.search(r"# GUESS \(column name matches CHART_NO; 6\d of 6\d sampled values \(9\d %\) are found in "
                     r"HWANJA.CHART_NO; rows whose patient is missing are quarantined as orphans\)\n"
                     r'patient_id = \{ column = "CHART_NO", type = "ref", ref = "patient.chart_number", '
                     r"required = true \}", text)
    sections = dict(re.findall(r'\[entities\.(\w+)\]\n# GUESS \([^)]*\)\ntable = "(\w+)"', text))
    assert sections == {"practitioner": "EUISA", "patient": "HWANJA", "encounter": "JUBSU", "diagnosis": "JINDAN",
                        "chart_note": "MEMO", "order_line": "CHEOBANG", "receipt": "SUNAP"}
    assert 'key = ["JUBSU_NO", "SEQ"]' in text
    assert 'rrn = { columns = ["JUMIN1", "JUMIN2"], type = "rrn" }' in text
    assert 'birth_date = { column = "BIRTH_YMD", type = "date", format = "%y%m%d" }' in text
    assert 'issued = { column = "SUNAP_MS", type = "datetime", format = "epoch_ms", required = true }' in text
    # one payment's time is 0 (a dirty row): 61 of 62 values fit
    assert "; 98 % of 62 sampled values are Unix time in milliseconds (2000-2040))" in text
    assert 'sex = { column = "SEX_CD", type = "code", map = {' in text
    # The settings, the code table and the clinic's own row are carried as they are, each with its reason.
    assert set(tomllib.loads(text)["carry"]) == {"SETTING", "CODE_MST", "HOSP_INFO"}
    assert re.search(r'\nSETTING = "program settings; no patient records"\n', text)
    assert 'CODE_MST = "a code table' in text and "HOSP_INFO = \"the clinic's own row" in text
    profile = (tmp_path / "c" / "hwanja" / "PROFILE.md").read_text(encoding="utf-8")
    flags = {row.split("|")[1].strip(): row.split("|")[7].strip()
             for row in profile.splitlines() if row.startswith("| ") and row.count("|") == 8}
    assert "kcd" not in flags["EUISA_ID"]  # D01 is a doctor, not a KCD code
    assert "edi" not in flags["YAK_CD"]  # M0000001 is a local code, not an EDI code
    assert "yyyymmdd" not in flags["YKIHO"]  # the 요양기관기호 is not a date
    assert "epoch_ms" in flags["SUNAP_MS"] and "amount" not in flags["SUNAP_MS"]
    assert "amount_text" in flags["CHONG_AMT"]
    # numbers, never values: no chart number, name, RRN part or phone number in either file
    with sqlite3.connect(clinic.path) as conn:
        needles = [v for row in conn.execute("SELECT CHART_NO, JUMIN1, JUMIN2, HP_NO FROM HWANJA") for v in row if v]
        needles += [n.decode("cp949") for (n,) in conn.execute("SELECT HWANJA_NM FROM HWANJA")]
    for needle in needles:
        assert needle not in text and needle not in profile, "a stored value leaked"


def test_replacing_connector_toml_alone_finishes_each_style(style: tuple[str, StyleClinic, Path]) -> None:
    name, clinic, folder = style
    assert sorted(p.name for p in folder.iterdir()) == ["PROFILE.md", "connector.toml"]
    (folder / "connector.toml").write_text(STYLES[name][1], encoding="utf-8")
    report = assert_connector_finished(folder, database=clinic.path, allowed_reasons=ALLOWED)
    assert report.unmapped_tables == [] and report.lint == []
    by_table: dict[str, int] = {}
    for e in report.reconciliation["entities"]:
        if e["entity"] != "visit_complaint":  # reads the visit rows again
            by_table[e["table"]] = by_table.get(e["table"], 0) + e["quarantined"]
    assert by_table == {table: len(clinic.dirty.get(table, {})) for table in by_table}
    assert sum(by_table.values()) == sum(len(d) for d in clinic.dirty.values())


@pytest.mark.parametrize("server", ["mariadb", "postgresql"])
def test_the_scaffold_over_odbc_guesses_the_same_and_reconciles(
    server: str, tmp_path: Path, mariadb_conn_str: str, postgres_conn_str: str
) -> None:
    clinic = create_hwanja_clinic(tmp_path / "h.sqlite", patients=15)
    target = copy_to_server(clinic, mariadb_conn_str if server == "mariadb" else postgres_conn_str,
                            "emr_style_scaffold")
    on_file = write_scaffold("hwanja", tmp_path / "file", SourceAddress(database=clinic.path))
    served = write_scaffold("hwanja", tmp_path / "odbc", SourceAddress(odbc=target))
    assert {e: (g.table and g.table.upper(), g.usable) for e, g in served.guesses.items()} == {
        e: (g.table and g.table.upper(), g.usable) for e, g in on_file.guesses.items()}
    text = served.connector_toml.read_text(encoding="utf-8")
    assert 'ref = "patient.chart_number"' in text
    report = check_connector(served.folder, SourceAddress(odbc=target))
    assert report.reconciliation["balanced"] and report.unmapped_tables == []
    assert {o.ref for o in report.orphans} <= {"patient.chart_number", "encounter"}
