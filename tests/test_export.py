"""The export pipeline on the demo clinic: nothing lost, every defect named, deterministic output."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_connector
from emr_exporter.errors import ExportCancelled, ExportError, ReconciliationError
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import SqliteFileSource

CREATED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def run_export(demo_clinic, **kwargs) -> tuple[ExportRun, bytes]:
    spec = kwargs.pop("spec", None) or load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    institution = read_institution(spec, source)
    run = ExportRun(
        spec, source, institution=institution, created=CREATED,
        attachments_root=demo_clinic.attachments_root, **kwargs,
    )
    data = b"".join(run.stream())
    source.close()
    return run, data


def members(data: bytes) -> dict[str, bytes]:
    """The bag's members (the test holds a small bag in memory; the product never does)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def ndjson(files: dict[str, bytes], prefix: str) -> list[dict]:
    lines = []
    for name in sorted(files):
        # data/raw/<entity> holds quarantined rows; data/raw/tables/ and data/raw/columns/ are carried raw.
        if name.startswith(prefix) and name.endswith(".ndjson") and "/" not in name[len(prefix):]:
            lines.extend(json.loads(line) for line in files[name].decode("utf-8").splitlines())
    return lines


@pytest.fixture(scope="module")
def exported(demo_clinic):
    run, data = run_export(demo_clinic)
    return run, data, members(data)


def test_every_planted_defect_is_quarantined_with_its_reason(demo_clinic, exported) -> None:
    _, _, files = exported
    quarantined = {(q["entity"], q["table"], q["key"]): q["reason_code"] for q in ndjson(files, "bag/data/raw/")}
    planted = {(d.entity, d.table, d.key): d.reason_code for d in demo_clinic.planted_defects}
    assert planted, "the demo clinic must plant dirty rows"
    assert quarantined == planted


def test_reconciliation_balances_for_every_entity(demo_clinic, exported) -> None:
    run, _, files = exported
    rec = run.reconciliation
    assert rec.balanced
    by_entity = {e.entity: e for e in rec.entities}
    spec = load_connector("demo")  # several sections may feed one entity (nursing notes are chart notes)
    # every entity but payment and appointment: the demo clinic keeps no payments table (수납결제;
    # tests/test_billing_clinic.py has one) and no bookings (예약; tests/test_appointments_clinic.py has them)
    assert {spec.entities[name].canonical for name in by_entity} == set(model.ENTITY_TYPES) - {"payment", "appointment"}
    with sqlite3.connect(demo_clinic.path) as conn:
        for e in rec.entities:
            table_rows = conn.execute(f"SELECT COUNT(*) FROM {e.table}").fetchone()[0]
            assert e.source_rows == table_rows == e.exported + e.quarantined
    planted = Counter((d.entity, d.reason_code) for d in demo_clinic.planted_defects)
    for (entity, reason), n in planted.items():
        assert by_entity[entity].reasons[reason] == n
    report = json.loads(files["bag/data/report/reconciliation.json"])
    assert report["reconciliation"] == rec.to_dict()
    # Raw rows are carried verbatim: count them per entity.
    raw = Counter(q["entity"] for q in ndjson(files, "bag/data/raw/"))
    assert raw == Counter({e.entity: e.quarantined for e in rec.entities if e.quarantined})


def test_two_runs_give_byte_identical_bag_streams(demo_clinic, exported) -> None:
    _, first, _ = exported
    _, second = run_export(demo_clinic)
    assert first == second


def test_korean_text_from_cp949_columns_round_trips(demo_clinic, exported) -> None:
    _, _, files = exported
    patients = {p["id"]: p for p in ndjson(files, "bag/data/fhir/Patient.")}
    with sqlite3.connect(demo_clinic.path) as conn:
        rows = conn.execute("SELECT PT_NO, PT_NM FROM PT_MASTER ORDER BY PT_NO").fetchall()
    checked = cp949_only = 0
    for key, raw_name in rows:
        resource = patients.get(model.record_id("demo", "PT_MASTER", str(key)))
        if resource is None:
            continue  # quarantined (checked elsewhere)
        expected = bytes(raw_name).decode("cp949")
        assert json.dumps(resource, ensure_ascii=False).count(expected) >= 1
        checked += 1
        try:
            bytes(raw_name).decode("euc_kr")
        except UnicodeDecodeError:
            cp949_only += 1
    assert checked > 100
    assert cp949_only > 0, "some names must use syllables only CP949 has"


def test_every_fhir_resource_validates(exported) -> None:
    _, _, files = exported
    resources = ndjson(files, "bag/data/fhir/")
    assert len(resources) > 1000
    types = Counter(r["resourceType"] for r in resources)
    for resource in resources:
        fhir.validate_resource(resource)
    manifest = json.loads(files["bag/data/fhir/manifest.json"])
    assert sum(o["count"] for o in manifest["output"]) == len(resources)
    assert types["Organization"] == 1


def test_attachments_are_in_the_bag_byte_for_byte(demo_clinic, exported) -> None:
    _, _, files = exported
    with sqlite3.connect(demo_clinic.path) as conn:
        blobs = conn.execute("SELECT ATT_NO, FILE_DATA FROM ATTACH_FILE WHERE FILE_DATA IS NOT NULL").fetchall()
    quarantined = {q["key"] for q in ndjson(files, "bag/data/raw/attachment")}
    attachment_members = {n: d for n, d in files.items() if n.startswith("bag/data/attachments/")}
    found = 0
    for key, blob in blobs:
        if str(key) in quarantined:
            continue
        rid = model.record_id("demo", "ATTACH_FILE", str(key))
        matches = [d for n, d in attachment_members.items() if Path(n).stem == rid]
        assert matches == [bytes(blob)]
        found += 1
    assert found > 0
    assert any(Path(n).suffix == ".pdf" for n in attachment_members)


def test_roster_has_every_exported_patient_with_masked_rrn(exported) -> None:
    run, _, files = exported
    roster = ndjson(files, "bag/data/report/roster")
    patients = next(e for e in run.reconciliation.entities if e.entity == "patient")
    assert len(roster) == patients.exported
    for line in roster:
        assert line["rrn_masked"] == "" or line["rrn_masked"].endswith("******")


def test_cancel_stops_the_export(demo_clinic) -> None:
    import threading

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ExportCancelled, match="cancelled"):
        run_export(demo_clinic, cancel=cancel)


def _spec_copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    spec_dir = load_connector("demo").path
    text = (spec_dir / "connector.toml").read_text(encoding="utf-8")
    (folder / "connector.toml").write_text(edit(text), encoding="utf-8")
    (folder / "hooks.py").write_text((spec_dir / "hooks.py").read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_query_that_drops_rows_stops_the_export(demo_clinic, tmp_path) -> None:
    def drop_rows(text: str) -> str:
        return text.replace(
            '[entities.practitioner]\ntable = "DOCTOR"\nkey = "DR_ID"',
            '[entities.practitioner]\ntable = "DOCTOR"\nkey = "DR_ID"\n'
            'query = "SELECT * FROM DOCTOR WHERE DR_ID > \'D1\'"',
        )

    spec = load_connector("demo", [_spec_copy(tmp_path, drop_rows)])
    assert spec.entities["practitioner"].query
    with pytest.raises(ReconciliationError, match=r"Table DOCTOR holds 8 rows but the connector's queries read \d"):
        run_export(demo_clinic, spec=spec)


def test_a_key_that_is_not_unique_is_refused(demo_clinic, tmp_path) -> None:
    def bad_key(text: str) -> str:
        return text.replace('table = "VISIT"\nkey = "VISIT_NO"', 'table = "VISIT"\nkey = "PT_NO"')

    spec = load_connector("demo", [_spec_copy(tmp_path, bad_key)])
    with pytest.raises(ExportError, match=r"The key column PT_NO of table VISIT is not unique \(\d+ repeated keys\)"):
        digest_stream(iter(run_export(demo_clinic, spec=spec)[1:]))


@pytest.mark.parametrize("key", ['"DIAG_NO"', '["DIAG_NO", "COPY"]'])
def test_a_query_that_gives_rows_twice_is_named_as_such(demo_clinic, tmp_path, key: str) -> None:
    # Before: a JOIN that gives each diagnosis twice was "The key column DIAG_NO of table DIAG is not unique …
    # Declare a unique key" (the table's key is unique) and, once the contractor declared one, "… rows would be
    # left behind … use LEFT JOIN", though none were: the query gave rows more than once.
    def twice(text: str) -> str:
        return text.replace(
            'query = "SELECT D.*, V.VISIT_YMD AS SVC_YMD FROM DIAG D LEFT JOIN VISIT V ON V.VISIT_NO = D.VISIT_NO"',
            'query = "SELECT D.*, V.VISIT_YMD AS SVC_YMD, C.COPY FROM DIAG D LEFT JOIN VISIT V ON V.VISIT_NO = '
            'D.VISIT_NO CROSS JOIN (SELECT 1 AS COPY UNION ALL SELECT 2) C"',
        ).replace('table = "DIAG"\nkey = "DIAG_NO"', f'table = "DIAG"\nkey = {key}')

    spec = load_connector("demo", [_spec_copy(tmp_path, twice)])
    rows = demo_clinic.source_rows["DIAG"]
    said = (f"Table DIAG holds {rows} rows but the query of [entities.diagnosis] gives {2 * rows}: "
            if key.startswith("[") else
            f"The query of [entities.diagnosis] gives {2 * rows} rows but table DIAG holds {rows}: ")
    with pytest.raises((ExportError, ReconciliationError)) as raised:
        digest_stream(iter(run_export(demo_clinic, spec=spec)[1:]))
    message = str(raised.value)
    assert said in message and "a JOIN (or unnest) gives some of its rows more than once" in message, message
    assert ("Make the query give each row of the table once: join one row per row (a sub-query with LIMIT 1, or an "
            "aggregate such as string_agg or array_agg), or map the repeated values in a section that reads their "
            "own table, in ") in message


def test_dry_run_digest_matches_stream(demo_clinic, exported) -> None:
    _, data, _ = exported
    import hashlib

    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                    attachments_root=demo_clinic.attachments_root)
    digest = digest_stream(run.stream())
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.size == len(data)


def test_native_json_lines_give_the_same_bag_as_the_stdlib_encoder(demo_clinic, exported, monkeypatch) -> None:
    """orjson writes the NDJSON lines (pipeline/bag.py); the whole demo bag is byte-identical to the one
    the stdlib canonical encoder writes."""
    from emr_exporter.pipeline import bag

    _, data, _ = exported
    stdlib_lines: list[int] = []

    def stdlib_only(obj):
        stdlib_lines.append(1)
        return (bag._CANONICAL_ENCODER.encode(obj) + "\n").encode("utf-8")

    from emr_exporter.pipeline import export

    monkeypatch.setattr(bag, "canonical_json_line", stdlib_only)
    monkeypatch.setattr(export, "canonical_json_line", stdlib_only)
    _, slow = run_export(demo_clinic)
    assert len(stdlib_lines) > 10_000  # every line went the slow way
    assert slow == data
