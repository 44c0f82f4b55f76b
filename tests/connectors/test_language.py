"""The connector language on a Korean-style clinic unlike the demo, on SQLite, MariaDB and PostgreSQL.

One synthetic "hwanja"-style database (tests/connectors/korean_styles.py) and its finished connector use
every construct: references by a unique column of the parent (visits → patients by chart number), a table
feeding two sections (visits and their chief complaints), composite keys, split values (the RRN over
JUMIN1/JUMIN2), epoch seconds and milliseconds in Asia/Seoul, two-digit years, ``YYYY.MM.DD``, amounts like
``12,000원``, Y/N and 1/0 flags, code look-ups in a code table, ``[skip]``. The reconciliation must equal the
planted dirty rows exactly, and be the same on every engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from korean_styles import HWANJA_CONNECTOR, StyleClinic, copy_to_server, create_hwanja_clinic

from emr_exporter import model
from emr_exporter.connectors import load_connector
from emr_exporter.connectors.spec import load_spec
from emr_exporter.errors import ConnectorSpecError, ReconciliationError
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import open_source

CREATED = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


class Collect:
    def __init__(self) -> None:
        self.records: list[model.Record] = []

    def observe(self, record: model.Record) -> None:
        self.records.append(record)  # test data: a few hundred records

    def report_members(self) -> list[tuple[str, bytes]]:
        return []


@dataclass
class Exported:
    run: ExportRun
    records: list[model.Record]
    sha256: str

    def of(self, kind: type, table: str | None = None) -> list[Any]:
        return [r for r in self.records if isinstance(r, kind) and (table is None or r.provenance.table == table)]


def write_connector(folder: Path, text: str, name: str = "hwanja") -> Path:
    (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / name / "connector.toml").write_text(text, encoding="utf-8")
    return folder


def export(connectors: Path, name: str = "hwanja", page_size: int = 7, **source_args: Any) -> Exported:
    spec = load_connector(name, [connectors])
    source = open_source(snapshot=True, **source_args)
    try:
        institution = read_institution(spec, source)
        collect = Collect()
        run = ExportRun(spec, source, institution=institution, created=CREATED, observers=[collect],
                        page_size=page_size)
        digest = digest_stream(run.stream())
        return Exported(run, collect.records, digest.sha256)
    finally:
        source.close()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> StyleClinic:
    return create_hwanja_clinic(tmp_path_factory.mktemp("hwanja") / "hwanja.sqlite")


@pytest.fixture(scope="module")
def connectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_connector(tmp_path_factory.mktemp("hwanja-connectors"), HWANJA_CONNECTOR)


@pytest.fixture(scope="module")
def file_export(clinic: StyleClinic, connectors: Path) -> Exported:
    return export(connectors, database=clinic.path)


def expected_reconciliation(clinic: StyleClinic) -> dict[str, tuple[int, int, dict[str, int]]]:
    def line(table: str, dirty: dict[str, str]) -> tuple[int, int, dict[str, int]]:
        reasons: dict[str, int] = {}
        for reason in dirty.values():
            reasons[reason] = reasons.get(reason, 0) + 1
        return clinic.rows[table], clinic.rows[table] - len(dirty), reasons

    d = clinic.dirty
    return {
        "practitioner": line("EUISA", {}),
        "patient": line("HWANJA", d["HWANJA"]),
        "encounter": line("JUBSU", d["JUBSU"]),
        # the complaint section refers to its visit: a quarantined visit makes it an orphan, whatever the reason
        "visit_complaint": line("JUBSU", {k: "orphan" for k in d["JUBSU"]}),
        "memo": line("MEMO", d["MEMO"]),
        "diagnosis": line("JINDAN", d["JINDAN"]),
        "order_line": line("CHEOBANG", d["CHEOBANG"]),
        "receipt": line("SUNAP", d["SUNAP"]),
    }


def test_every_row_reconciles_with_exactly_the_planted_dirty_rows(file_export: Exported, clinic: StyleClinic) -> None:
    rec = file_export.run.reconciliation
    assert rec.balanced
    got = {e.entity: (e.source_rows, e.exported, dict(e.reasons)) for e in rec.entities}
    assert got == expected_reconciliation(clinic)
    # "만원" in the optional total: a field defect, the receipt itself exported.
    assert {e.entity: dict(e.field_defects) for e in rec.entities if e.field_defects} == {
        "receipt": {"invalid-number": 1}}
    assert sum(len(v) for v in clinic.dirty.values()) >= 10  # the test would prove little without dirt
    # the complaint section reads the visit rows again: reconciled on its own line, counted once in the totals
    lines = {e.entity: e for e in rec.entities}
    assert lines["visit_complaint"].rereads == "encounter" and lines["encounter"].rereads is None
    read_tables = {"EUISA", "HWANJA", "JUBSU", "MEMO", "JINDAN", "CHEOBANG", "SUNAP"}
    assert rec.totals["source_rows"] == sum(clinic.rows[t] for t in read_tables)
    assert rec.totals["exported"] + rec.totals["quarantined"] == rec.totals["source_rows"]


def test_references_by_chart_number_resolve_to_the_patient_sequence(file_export: Exported) -> None:
    patients = {p.chart_number: p for p in file_export.of(model.Patient)}
    visits = file_export.of(model.Encounter)
    assert visits and all(v.patient_id in {p.id for p in patients.values()} for v in visits)
    # the id is made from the patient's own key (HWANJA_SEQ), not from the chart number
    first = patients["001007"]
    assert first.provenance.key == "1"
    assert first.id == model.record_id("hwanja", "HWANJA", "1")
    assert [v.patient_id for v in visits if v.provenance.key == "1001"] == [first.id]
    # the duplicate chart number: the first (lowest sequence) patient is kept and referred to
    assert sum(1 for p in file_export.of(model.Patient) if p.chart_number == "001021") == 1


def test_split_rrn_two_digit_years_epochs_and_amounts(file_export: Exported, clinic: StyleClinic) -> None:
    import sqlite3

    with sqlite3.connect(clinic.path) as conn:
        rows = {str(r[0]): r[1:] for r in conn.execute("SELECT HWANJA_SEQ, JUMIN1, JUMIN2, REG_TS FROM HWANJA")}
    for patient in file_export.of(model.Patient):
        jumin1, jumin2, reg_ts = rows[patient.provenance.key]
        assert patient.rrn == f"{jumin1}-{jumin2}"
        century = 1900 if jumin2[0] in "12" else 2000
        assert patient.birth_date == dt.date(century + int(jumin1[:2]), int(jumin1[2:4]), int(jumin1[4:]))
        kst = dt.datetime.fromtimestamp(reg_ts, dt.timezone(dt.timedelta(hours=9)))
        assert patient.first_visit == kst.date()
    receipts = {r.provenance.key: r for r in file_export.of(model.Receipt)}
    key, day = clinic.facts["early_payment"]
    # paid at 07:30 KST = 22:30 UTC the day before: dated in Seoul
    assert receipts[key].issued == dt.date.fromisoformat(day)
    assert receipts[key].total == Decimal("4500")
    assert all(r.number == f"S-{r.provenance.key}" for r in receipts.values())  # an expr, per engine
    assert receipts[clinic.facts["bad_total"]].total is None  # "만원": dropped, carried raw
    assert all(r.total == r.covered_patient + r.covered_insurer for r in receipts.values() if r.total is not None)
    memos = file_export.of(model.ChartNote, "MEMO")
    assert memos[0].recorded == dt.datetime(2021, 3, 1, 11, 0)  # epoch seconds → clinic wall-clock time


def test_composite_keys_lookups_flags_and_the_second_section(file_export: Exported) -> None:
    diagnoses = file_export.of(model.Diagnosis)
    assert diagnoses and all("|" in d.provenance.key for d in diagnoses)
    first = next(d for d in diagnoses if d.provenance.key == "1001|1")
    assert first.id == model.record_id("hwanja", "JINDAN", "1001|1") and first.primary is True
    assert first.onset is not None and first.kcd_edition == "kcd-8"
    assert {d.primary for d in diagnoses} == {True, False}
    visits = file_export.of(model.Encounter)
    assert {v.payer_type for v in visits} == {"건강보험", "의료급여", "자보", "일반"}
    assert {v.kind for v in visits} == {"outpatient", "inpatient"} and {v.night_or_holiday for v in visits} == {True, False}
    doctors = {d.provenance.key: d for d in file_export.of(model.Practitioner)}
    assert (doctors["D01"].department, doctors["D02"].department) == ("내과", "가정의학과")
    complaints = file_export.of(model.ChartNote, "JUBSU")
    encounter_ids = {v.id for v in visits}
    assert complaints and all(c.encounter_id in encounter_ids for c in complaints)
    # the complaint and the visit come from the same row: two records (of two FHIR types); a second chart
    # note section over the same table would get ids of its own (TABLE#section, test_skip_and_computed…)
    assert [c.id for c in complaints] == [model.record_id("hwanja", "JUBSU", c.provenance.key) for c in complaints]


@pytest.fixture(scope="module")
def server_copies(clinic: StyleClinic, mariadb_conn_str: str, postgres_conn_str: str) -> dict[str, str]:
    """The same database loaded into its own database on each test server (nothing else in it)."""
    return {"mariadb": copy_to_server(clinic, mariadb_conn_str, "emr_style_hwanja"),
            "postgresql": copy_to_server(clinic, postgres_conn_str, "emr_style_hwanja")}


@pytest.mark.parametrize("engine", ["mariadb", "postgresql"])
def test_every_construct_gives_the_same_bag_on_the_servers(
    engine: str, server_copies: dict[str, str], connectors: Path, file_export: Exported
) -> None:
    served = export(connectors, odbc=server_copies[engine])
    assert served.run.reconciliation.to_dict() == file_export.run.reconciliation.to_dict()
    assert served.sha256 == file_export.sha256
    # connector check over ODBC: the same finished verdict
    from emr_exporter.jobs.authoring import check_connector

    report = check_connector(connectors / "hwanja", SourceAddress(odbc=server_copies[engine]))
    assert report.ok, report.text()
    assert report.reconciliation == file_export.run.reconciliation.to_dict()


def test_coverage_guard_counts_rows_per_table(clinic: StyleClinic, tmp_path: Path) -> None:
    # A complaint section that reads only the visits with a complaint: the visit section reads them all.
    text = HWANJA_CONNECTOR.replace(
        '[entities.visit_complaint]\nentity = "chart_note"\ntable = "JUBSU"\nkey = "JUBSU_NO"\n',
        '[entities.visit_complaint]\nentity = "chart_note"\ntable = "JUBSU"\nkey = "JUBSU_NO"\n'
        'query = "SELECT * FROM JUBSU WHERE CC IS NOT NULL"\n')
    partial = export(write_connector(tmp_path / "a", text), database=clinic.path)
    assert partial.run.reconciliation.balanced
    # ...but no section reading all visits and filters that do not split the table: stopped, named.
    text = text.replace('[entities.encounter]\ntable = "JUBSU"\nkey = "JUBSU_NO"\n',
                        '[entities.encounter]\ntable = "JUBSU"\nkey = "JUBSU_NO"\n'
                        'query = "SELECT * FROM JUBSU WHERE CC IS NULL AND JUBSU_NO > 1010"\n')
    with pytest.raises(ReconciliationError, match=r"Table JUBSU holds \d+ rows but the connector's queries read \d+ "
                       r"\(\[entities.encounter\] \d+, \[entities.visit_complaint\] \d+\)"):
        export(write_connector(tmp_path / "b", text), database=clinic.path)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('ref = "patient.chart_number"', 'ref = "patient.phone"', 1),
         "'patient.phone': list 'phone' in patient's unique = [...] to refer to it"),
        (('ref = "patient.chart_number"', 'ref = "patient.nickname"', 1),
         "'patient.nickname': patient maps no field 'nickname' from a column"),
        (('rrn = { columns = ["JUMIN1", "JUMIN2"], type = "rrn" }', 'rrn = { columns = ["JUMIN1"], type = "rrn" }', 1),
         "'columns' lists two or more columns whose values are joined"),
        (('format = "epoch" }', 'format = "epoch", tz = "Mars/Olympus" }', 1),
         "unknown time zone 'Mars/Olympus' (an IANA name such as Asia/Seoul or UTC)"),
        (('SETTING = "program', 'JUBSU = "oops"\nSETTING = "program', 1),
         "is read by [entities.encounter]; it cannot be skipped"),
        (('HOSP_INFO = "the clinic', 'HOSP_INFO = ""\n#', 1),
         "give the reason as a non-empty string (why this table is not read)"),
        (('key = ["JUBSU_NO", "SEQ"]', 'key = ["JUBSU_NO"]', 1), "a composite key lists at least two columns"),
        (('encounter_id = { column = "JUBSU_NO", type = "ref", ref = "encounter", required = true }',
          'encounter_id = { column = "JUBSU_NO", expr = "1", type = "ref", ref = "encounter" }', 1),
         "give exactly one of 'column', 'columns', 'expr' or 'value'"),
    ],
)
def test_spec_errors_name_the_problem(tmp_path: Path, change: tuple[str, str, int], problem: str) -> None:
    old, new, count = change
    assert old in HWANJA_CONNECTOR
    write_connector(tmp_path, HWANJA_CONNECTOR.replace(old, new, count))
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(tmp_path / "hwanja")
    assert caught.value.problem == problem


def test_skip_and_computed_columns(clinic: StyleClinic, tmp_path: Path) -> None:
    spec = load_spec(write_connector(tmp_path / "s", HWANJA_CONNECTOR) / "hwanja")
    assert dict(spec.skip) == {
        "CODE_MST": "code table: read through the look-ups of JUBSU.BOHUM_CD and EUISA.GWA_CD",
        "SETTING": "program settings (printer, theme); no patient data",
        "HOSP_INFO": "the clinic's own row: read by [institution]",
    }
    # A computed column per engine instead of the split-value form: the same RRNs.
    text = HWANJA_CONNECTOR.replace(
        'rrn = { columns = ["JUMIN1", "JUMIN2"], type = "rrn" }',
        'rrn = { expr = { default = "JUMIN1 || JUMIN2", mariadb = "CONCAT(JUMIN1, JUMIN2)" }, type = "rrn" }')
    computed = export(write_connector(tmp_path / "c", text), database=clinic.path)
    plain = export(write_connector(tmp_path / "p", HWANJA_CONNECTOR), database=clinic.path)
    assert {p.id: p.rrn for p in computed.of(model.Patient) if p.provenance.key != "5"} == {
        p.id: p.rrn for p in plain.of(model.Patient)}
    # one difference: half an RRN is NULL in SQL (JUMIN1 || NULL), so that patient is exported without one
    reasons = next(e for e in computed.run.reconciliation.entities if e.entity == "patient").reasons
    assert dict(reasons) == {"duplicate": 1}
    assert [p.rrn for p in computed.of(model.Patient) if p.provenance.key == "5"] == [None]
