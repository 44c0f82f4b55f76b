"""Document readiness on the demo clinic: every figure is recomputed independently with SQL on the source."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from emr_exporter import model
from emr_exporter.cli import main
from emr_exporter.connectors import load_connector
from emr_exporter.demo.clinic import DemoClinic
from emr_exporter.errors import ConfigError
from emr_exporter.pipeline.export import ExportRun, read_institution
from emr_exporter.reports.readiness import (
    READINESS_MEMBER,
    IdIndex,
    Readiness,
    ReadinessObserver,
    default_catalogue_path,
    load_catalogue,
    readiness_for,
)
from emr_exporter.sources.base import open_source


def sql(clinic: DemoClinic, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(clinic.path) as conn:
        return conn.execute(query).fetchall()


def quarantined(clinic: DemoClinic, table: str) -> str:
    keys = [d.key for d in clinic.planted_defects if d.table == table]
    return "(" + ",".join(keys or ["-1"]) + ")"


def scalar(clinic: DemoClinic, query: str) -> int:
    return int(sql(clinic, query)[0][0])


@pytest.fixture(scope="module")
def exported(demo_clinic: DemoClinic) -> tuple[Readiness, dict[str, Any]]:
    """Readiness from a real export stream, plus the readiness.json the observer adds to the bag."""
    spec = load_connector("demo")
    source = open_source(database=demo_clinic.path)
    try:
        institution = read_institution(spec, source)
        observer = ReadinessObserver(institution)
        run = ExportRun(
            spec, source, institution=institution, created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
            attachments_root=demo_clinic.attachments_root, observers=[observer],
        )
        members: dict[str, bytes] = {}
        for _ in run.stream():
            pass
        for path, data in observer.report_members():
            members[path] = data
    finally:
        source.close()
    return observer.result(), json.loads(members[READINESS_MEMBER])


def test_catalogue_has_the_12_named_types_and_5_unconfirmed() -> None:
    catalogue = load_catalogue()
    assert len(catalogue.documents) == 17
    confirmed = [d.ko for d in catalogue.documents if d.status == "confirmed"]
    assert len(confirmed) == 12
    assert "진료비 계산서·영수증" in confirmed and "처방전" in confirmed and "통원확인서" in confirmed
    assert sum(d.status == "unconfirmed" for d in catalogue.documents) == 5
    assert catalogue.version == "2026.1"
    assert len(catalogue.sha256) == 64


def test_catalogue_mistakes_name_the_document_and_field(tmp_path: Path) -> None:
    text = default_catalogue_path().read_text("utf-8")
    bad = tmp_path / "catalogue.toml"
    bad.write_text(text.replace('"receipt.covered_insurer", "receipt.total"', '"receipt.insurer", "receipt.total"', 1))
    with pytest.raises(ConfigError) as err:
        load_catalogue(bad)
    assert str(err.value) == (
        f"The document catalogue {bad}: document 7 (receipt): requirement 'receipt.insurer' has no entry in "
        "[requirements]."
    )
    bad.write_text(text.replace('unit = "receipt"\n', 'unit = "receipt"\nvisits = "billed"\n', 1))
    with pytest.raises(ConfigError, match=r"document 7 \(receipt\): a visit document needs visits"):
        load_catalogue(bad)
    bad.write_text(text.replace('"patient.name", "receipt.number"', '"diagnosis.onset", "receipt.number"', 1))
    with pytest.raises(ConfigError, match=r"requirement 'diagnosis\.onset' cannot be checked for unit 'receipt'"):
        load_catalogue(bad)


def test_receipts_without_the_insurer_split_are_counted_exactly(
    demo_clinic: DemoClinic, exported: tuple[Readiness, dict[str, Any]]
) -> None:
    readiness, report = exported
    bad = quarantined(demo_clinic, "RCPT")
    receipts = scalar(demo_clinic, f"SELECT COUNT(*) FROM RCPT WHERE RCPT_SEQ NOT IN {bad}")
    no_split = scalar(demo_clinic, f"SELECT COUNT(*) FROM RCPT WHERE INS_CORP_AMT IS NULL AND RCPT_SEQ NOT IN {bad}")
    assert no_split > 0  # planted by construction: the receipts from before 2016
    entry = readiness.document("receipt")
    assert (entry.candidates, entry.issuable) == (receipts, receipts - no_split)
    [gap] = entry.gaps
    assert gap.requirement == "receipt.covered_insurer"
    assert gap.message_en == f"{no_split} receipts lack the 공단부담금 split (insurer share)"
    assert gap.message_ko == f"영수증 {no_split}건: 공단부담금 없음"
    charts = sql(demo_clinic, "SELECT DISTINCT P.CHART_NO FROM RCPT R JOIN PT_MASTER P ON P.PT_NO = R.PT_NO"
                              f" WHERE R.INS_CORP_AMT IS NULL AND R.RCPT_SEQ NOT IN {bad} ORDER BY 1")
    in_bag = next(d for d in report["documents"] if d["id"] == "receipt")["gaps"][0]["chart_numbers"]
    assert in_bag == [c for (c,) in charts]


def test_prescriptions_without_the_prescriber_licence_are_counted_exactly(
    demo_clinic: DemoClinic, exported: tuple[Readiness, dict[str, Any]]
) -> None:
    readiness, report = exported
    rx = "FROM ORD_DTL O WHERE O.OUT_RX_YN = 'Y' AND O.CD_GB = '1'"
    no_licence = "O.DR_ID IN (SELECT DR_ID FROM DOCTOR WHERE LIC_NO IS NULL)"
    prescriptions = scalar(demo_clinic, f"SELECT COUNT(DISTINCT O.VISIT_NO) {rx}")
    lacking = scalar(demo_clinic, f"SELECT COUNT(DISTINCT O.VISIT_NO) {rx} AND {no_licence}")
    assert 0 < lacking < prescriptions
    entry = readiness.document("prescription")
    assert (entry.candidates, entry.issuable) == (prescriptions, prescriptions - lacking)
    [gap] = entry.gaps
    assert gap.requirement == "practitioner.licence_number"
    assert gap.message_en == f"{lacking} prescriptions lack the doctor's licence number"
    charts = sql(demo_clinic, f"SELECT DISTINCT P.CHART_NO {rx} AND {no_licence}".replace(
        "FROM ORD_DTL O", "FROM ORD_DTL O JOIN PT_MASTER P ON P.PT_NO = O.PT_NO") + " ORDER BY 1")
    in_bag = next(d for d in report["documents"] if d["id"] == "prescription")["gaps"][0]["chart_numbers"]
    assert in_bag == [c for (c,) in charts]


def test_visit_and_patient_documents_are_counted_exactly(
    demo_clinic: DemoClinic, exported: tuple[Readiness, dict[str, Any]]
) -> None:
    readiness, _ = exported
    bad_diag, bad_visit = quarantined(demo_clinic, "DIAG"), quarantined(demo_clinic, "VISIT")
    bad_note, bad_patient = quarantined(demo_clinic, "CHART_REC"), quarantined(demo_clinic, "PT_MASTER")
    diagnosed = scalar(demo_clinic, f"SELECT COUNT(DISTINCT VISIT_NO) FROM DIAG WHERE DIAG_NO NOT IN {bad_diag}")
    diagnosed_no_licence = scalar(
        demo_clinic,
        "SELECT COUNT(DISTINCT D.VISIT_NO) FROM DIAG D JOIN VISIT V ON V.VISIT_NO = D.VISIT_NO"
        f" JOIN DOCTOR R ON R.DR_ID = V.DR_ID WHERE R.LIC_NO IS NULL AND D.DIAG_NO NOT IN {bad_diag}",
    )
    certificate = readiness.document("diagnosis-certificate")
    assert (certificate.candidates, certificate.issuable) == (diagnosed, diagnosed - diagnosed_no_licence)
    assert [g.requirement for g in certificate.gaps] == ["practitioner.licence_number"]

    inpatient = scalar(demo_clinic, f"SELECT COUNT(*) FROM VISIT WHERE IO_GB = 'I' AND VISIT_NO NOT IN {bad_visit}")
    stays = readiness.document("admission-confirmation")
    assert (stays.candidates, stays.issuable, stays.gaps) == (inpatient, inpatient, [])

    patients = scalar(demo_clinic, f"SELECT COUNT(*) FROM PT_MASTER WHERE PT_NO NOT IN {bad_patient}")
    # A note kept without its (broken, optional) chief complaint: its patient lacks one for a chart copy.
    no_cc = "(" + ",".join(d.key for d in demo_clinic.planted_field_defects if d.column == "CC") + ")"
    authored_by_unlicensed = scalar(
        demo_clinic,
        f"SELECT COUNT(*) FROM PT_MASTER WHERE PT_NO NOT IN {bad_patient} AND ("
        f"PT_NO IN (SELECT PT_NO FROM CHART_REC WHERE REC_NO IN {no_cc}) "
        # a patient row kept without its broken birth date that has no chart at all (the planted one)
        "OR PT_NO NOT IN (SELECT PT_NO FROM VISIT WHERE PT_NO IS NOT NULL) "
        "OR PT_NO IN (SELECT C.PT_NO FROM CHART_REC C JOIN DOCTOR R ON R.DR_ID = C.DR_ID"
        f" WHERE R.LIC_NO IS NULL AND C.REC_NO NOT IN {bad_note}))",
    )
    chart_copy = readiness.document("medical-record-copy")
    assert (chart_copy.candidates, chart_copy.issuable) == (patients, patients - authored_by_unlicensed)
    visits = readiness.document("outpatient-confirmation")
    births = sum(1 for d in demo_clinic.planted_field_defects if d.column == "BIRTH_YMD")
    assert (visits.candidates, visits.issuable) == (patients, patients - births)

    opinions = scalar(demo_clinic, "SELECT COUNT(*) FROM CERT_ISSUE WHERE CERT_KIND = '소견서'")
    assert readiness.document("opinion").candidates == opinions
    deaths = scalar(demo_clinic, "SELECT COUNT(*) FROM CERT_ISSUE WHERE CERT_KIND = '사망진단서'")
    assert deaths == 1  # demo/clinical.py keeps one copy, so that it can be previewed
    assert readiness.document("death-certificate").candidates == deaths


def test_summary_for_terminals_and_logs_carries_no_chart_numbers(
    exported: tuple[Readiness, dict[str, Any]],
) -> None:
    readiness, report = exported
    affected = {c for d in report["documents"] for g in d["gaps"] for c in g["chart_numbers"]}
    assert affected
    summary = json.dumps(readiness.to_dict(), ensure_ascii=False) + readiness.table()
    assert not [c for c in affected if c in summary]
    assert readiness.to_dict()["documents"] == [
        {**d, "gaps": [{k: v for k, v in g.items() if k != "chart_numbers"} | {"patients": len(g["chart_numbers"])}
                       for g in d["gaps"]]}
        for d in report["documents"]
    ]


def test_readiness_for_a_source_equals_the_in_bag_report(
    demo_clinic: DemoClinic, exported: tuple[Readiness, dict[str, Any]]
) -> None:
    spec = load_connector("demo")
    source = open_source(database=demo_clinic.path)
    try:
        direct = readiness_for(spec, source, attachments_root=demo_clinic.attachments_root)
    finally:
        source.close()
    assert direct.to_dict(with_chart_numbers=True) == exported[1]


def test_cli_readiness_json_and_table(demo_clinic: DemoClinic, exported: tuple[Readiness, dict[str, Any]]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["readiness", "--connector", "demo", "--source", str(demo_clinic.path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == exported[0].to_dict()
    result = runner.invoke(main, ["readiness", "--connector", "demo", "--source", str(demo_clinic.path)])
    assert result.exit_code == 0, result.output
    receipt_gap = exported[0].document("receipt").gaps[0]
    assert f"    - {receipt_gap.message_en}\n" in result.output
    affected = {c for d in exported[1]["documents"] for g in d["gaps"] for c in g["chart_numbers"]}
    assert not [c for c in affected if c in result.output]


def test_missing_source_is_a_readable_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["readiness", "--connector", "demo", "--source", str(tmp_path / "none.sqlite")])
    assert result.exit_code != 0
    assert "Error:" in result.output and "Traceback" not in result.output


def test_visit_state_stays_compact() -> None:
    """50 000 visits cost flat arrays, not Python objects: under 48 bytes per visit (arrays at most half full)."""
    institution = model.Institution(code="99350017", name="가상의원", address="서울", phone="02")
    observer = ReadinessObserver(institution)
    provenance = model.Provenance("demo", "VISIT", "0")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(50_000):
        observer.observe(model.Encounter(
            id=model.record_id("demo", "VISIT", str(n)), provenance=provenance, patient_id="p", start=dt.date(2020, 1, 1),
        ))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert observer.visits.size == 50_000
    assert used < 50_000 * 48, used


def test_id_index_finds_what_it_stored() -> None:
    index = IdIndex()
    ids = [model.record_id("c", "T", str(n)) for n in range(5000)]
    assert [index.add(i) for i in ids] == list(range(5000))
    assert [index.get(i) for i in ids] == list(range(5000))
    assert index.add(ids[17]) == 17
    assert index.get(model.record_id("c", "T", "absent")) is None
    assert index.get("not-hex-at-all") is None
    assert index.add("not-hex-at-all") == 5000


def test_a_records_summary_is_what_the_observer_reads_of_it_and_crosses_processes(demo_clinic) -> None:
    """The export's worker processes send ReadinessObserver a summary of each record (its ids, dates and
    flags), not the record: fed the summaries, it reports byte for byte what it reports fed the records."""
    import pickle

    from emr_exporter.reports.readiness import readiness_summary

    assert pickle.loads(pickle.dumps(ReadinessObserver.summarise)) is readiness_summary  # by name

    class Records:
        def __init__(self) -> None:
            self.records: list[model.Record] = []

        def observe(self, record: model.Record) -> None:
            self.records.append(record)

        def report_members(self) -> list[tuple[str, bytes]]:
            return []

    spec = load_connector("demo")
    source = open_source(database=demo_clinic.path)
    try:
        institution = read_institution(spec, source)
        records = Records()
        run = ExportRun(spec, source, institution=institution, created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                        attachments_root=demo_clinic.attachments_root, observers=[records])
        for _ in run.stream():
            pass
    finally:
        source.close()
    by_records, by_summaries = ReadinessObserver(institution), ReadinessObserver(institution)
    kinds = set()
    for record in records.records:
        by_records.observe(record)
        summary = pickle.loads(pickle.dumps(readiness_summary(record)))
        if summary is not None:
            kinds.add(summary[0])
            by_summaries.observe_summary(summary)
    assert by_summaries.report_members() == by_records.report_members()
    assert kinds == {"practitioner", "patient", "encounter", "diagnosis", "chart_note", "order_line", "procedure",
                     "lab_result", "certificate", "receipt", "fee_line", "immunization"}
    assert b'"issuable"' in by_records.report_members()[0][1]


def _two_visits() -> tuple[ReadinessObserver, model.Provenance, dt.date]:
    """An observer that has seen a doctor, a patient and two outpatient visits (v1, v2) on one day."""
    institution = model.Institution(code="12345678", name="가상의원", address="서울", phone="02-000-0000")
    prov = model.Provenance("t", "T", "0")
    day = dt.date(2024, 3, 4)
    observer = ReadinessObserver(institution)
    observer.observe(model.Practitioner(id="dr", provenance=prov, name="김의사", licence_kind="의사",
                                        licence_number="12345"))
    observer.observe(model.Patient(id="p", provenance=prov, chart_number="C0001", name="환자", rrn="900101-1234567",
                                   address="서울", birth_date=dt.date(1990, 1, 1), sex="male"))
    for visit in ("v1", "v2"):
        observer.observe(model.Encounter(id=visit, provenance=prov, patient_id="p", start=day, kind="outpatient",
                                         practitioner_id="dr", department="내과", payer_type="건강보험"))
    return observer, prov, day


def test_a_diagnosis_written_only_as_text_is_not_enough_for_a_certificate_that_needs_its_kcd_code() -> None:
    # A Condition of its text alone (model.Diagnosis.code None): the visit is diagnosed, but a 진단서, 상해진단서,
    # 처방전 or 입퇴원확인서 prints the KCD code, which it has not: a gap of its own, never counted as issuable.
    observer, prov, day = _two_visits()
    observer.observe(model.Diagnosis(id="d1", provenance=prov, patient_id="p", encounter_id="v1", code="J00",
                                     text="급성 비인두염", kcd_edition="kcd-8", onset=day))
    observer.observe(model.Diagnosis(id="d2", provenance=prov, patient_id="p", encounter_id="v2",
                                     text="원인 미상의 어지럼증", kcd_edition="kcd-8", onset=day))
    result = observer.result()
    certificate = result.document("diagnosis-certificate")
    assert (certificate.candidates, certificate.issuable, [(g.requirement, g.count) for g in certificate.gaps]) == (
        2, 1, [("diagnosis.code", 1)])


def test_a_problem_list_entry_makes_no_visit_diagnosed_nor_counts_unlinked() -> None:
    # A problem-list entry (model.Diagnosis.problem_list: 문제목록, a health issue) is the patient's, not a visit's:
    # the documents skip it (reports/preview.py), so readiness must not count the visit it names as diagnosed, nor
    # one naming no visit as a diagnosis without its visit. Before: v1 a 진단서 candidate (issuable) from it alone.
    observer, prov, day = _two_visits()
    observer.observe(model.Diagnosis(id="d1", provenance=prov, patient_id="p", encounter_id="v2", code="J00",
                                     text="급성 비인두염", kcd_edition="kcd-8", onset=day))
    for n, visit_id in enumerate(("v1", None)):
        observer.observe(model.Diagnosis(id=f"pl{n}", provenance=prov, patient_id="p", encounter_id=visit_id,
                                         code="I10", text="본태성 고혈압", kcd_edition="kcd-8", onset=day,
                                         problem_list=True))
    assert observer.unlinked == {}
    certificate = observer.result().document("diagnosis-certificate")
    assert (certificate.candidates, certificate.issuable) == (1, 1)
