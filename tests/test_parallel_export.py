"""The export's worker processes (pipeline/parallel.py) give the very bag of the one-core export.

Real spawned processes (the start method Windows has), the demo clinic, batches made small and every
entity sent to the workers so that many batches cross, answers come back out of step and the parent
interleaves them with the rows it maps itself. Compared: the bag's SHA-256 and size, the reconciliation,
and what an observer saw (the readiness report built from the records the workers sent back).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.errors import ExportCancelled
from emr_exporter.pipeline import export as export_module
from emr_exporter.pipeline import parallel
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.reports.readiness import ReadinessObserver
from emr_exporter.sources.base import SqliteFileSource

CREATED = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 50)  # every entity but the tiny ones
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 97)  # many batches, not aligned with the 5000-row pages


def _export(database: Path, attachments: Path, workers: int, *, observe: bool = True,
            cancel: threading.Event | None = None) -> dict[str, Any]:
    spec = load_connector("demo")
    source = SqliteFileSource(database)
    try:
        institution = read_institution(spec, source)
        readiness = ReadinessObserver(institution)
        run = ExportRun(spec, source, institution=institution, created=CREATED, attachments_root=attachments,
                        observers=[readiness] if observe else [], workers=workers, page_size=1000, cancel=cancel)
        digest = digest_stream(run.stream())
        return {
            "sha256": digest.sha256, "size": digest.size, "reconciliation": run.reconciliation.to_dict(),
            "readiness": readiness.result().to_dict() if observe else None,
            "quarantined": {e.entity: run.quarantined_keys(e.entity) for e in run.reconciliation.entities},
            "pool_started": run._pool_tried,
        }
    finally:
        source.close()


def test_bag_is_byte_identical_on_one_core_and_on_worker_processes(demo_clinic, small_batches) -> None:
    one = _export(demo_clinic.path, demo_clinic.attachments_root, 1)
    assert not one["pool_started"]
    for workers in (2, 3):
        many = _export(demo_clinic.path, demo_clinic.attachments_root, workers)
        assert many["pool_started"]
        assert many == {**one, "pool_started": True}, f"{workers} workers"
    # Without observers (no readiness report in the bag) the workers send no records back: same bag again.
    lean_one = _export(demo_clinic.path, demo_clinic.attachments_root, 1, observe=False)
    lean = _export(demo_clinic.path, demo_clinic.attachments_root, 2, observe=False)
    assert lean == {**lean_one, "pool_started": True}
    assert lean["sha256"] != one["sha256"]  # (the readiness report is a member of the bag)
    assert one["reconciliation"]["totals"]["quarantined"] > 0  # quarantined rows crossed too
    assert multiprocessing.active_children() == []  # every worker gone at the end


def test_workers_start_from_a_thread_as_the_wizard_runs_its_jobs(demo_clinic, small_batches) -> None:
    """Spawned, not forked: starting them from a non-main thread (the wizard's QThread) is safe."""
    from emr_exporter.gui.qt import QThread

    expected = _export(demo_clinic.path, demo_clinic.attachments_root, 1, observe=False)["sha256"]
    seen: dict[str, Any] = {}

    class Job(QThread):
        def run(self) -> None:
            seen.update(_export(demo_clinic.path, demo_clinic.attachments_root, 2, observe=False))

    job = Job()
    job.start()
    assert job.wait(300_000)
    assert seen["pool_started"] and seen["sha256"] == expected


def test_one_core_when_workers_cannot_start(demo_clinic, small_batches, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    expected = _export(demo_clinic.path, demo_clinic.attachments_root, 1)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(parallel, "WorkerPool", refuse)
    got = _export(demo_clinic.path, demo_clinic.attachments_root, 2)
    assert got == {**expected, "pool_started": True}
    assert "worker processes could not start (OSError); mapping on one core" in caplog.text


def test_cancel_stops_the_workers(demo_clinic, small_batches) -> None:
    cancel = threading.Event()
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                        attachments_root=demo_clinic.attachments_root, workers=2, page_size=1000, cancel=cancel)
        stream = run.stream()
        with pytest.raises(ExportCancelled):
            for _ in stream:
                if run._pool is not None and parallel.multiprocessing.active_children():
                    cancel.set()
        assert run._pool is None
        assert multiprocessing.active_children() == []
    finally:
        source.close()


def test_a_small_entity_still_makes_batches_for_every_worker() -> None:
    assert parallel.entity_batch_rows(10**6, 2) == parallel.BATCH_ROWS
    assert parallel.entity_batch_rows(parallel.MIN_PARALLEL_ROWS, 2) == parallel.MIN_BATCH_ROWS
    assert parallel.entity_batch_rows(2000, 2) == 250  # four a worker
    assert parallel.MIN_BATCH_ROWS <= parallel.MIN_PARALLEL_ROWS


def test_default_workers_is_every_usable_core_at_most_eight() -> None:
    cores = parallel.available_cores()
    assert parallel.default_workers() == (1 if cores < 2 else min(cores, 8))


# --- the row's pure part in the workers: cells, raw/columns lines, observers' summaries ---------------------


class _RecordLog:
    """An observer without a summary: it gets every exported record itself (from the workers too)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def observe(self, record: Any) -> None:
        self.seen.append((type(record).__name__, record.id, record.provenance.key))

    def report_members(self) -> list[tuple[str, bytes]]:
        return [("report/record-log.txt", "".join(f"{t} {i}\n" for t, i, _ in self.seen).encode())]


def _export_all(database: Path, attachments: Path, workers: int, spy: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    spec = load_connector("demo")
    source = SqliteFileSource(database)
    try:
        institution = read_institution(spec, source)
        readiness, log = ReadinessObserver(institution), _RecordLog()
        run = ExportRun(spec, source, institution=institution, created=CREATED, attachments_root=attachments,
                        observers=[readiness, log], workers=workers, page_size=1000)
        digest = digest_stream(run.stream())
        return {
            "sha256": digest.sha256, "size": digest.size, "reconciliation": run.reconciliation.to_dict(),
            "readiness.json": readiness.report_members(), "records": log.seen,
            "cells.json": run._cell_maps,
            "quarantined": {e.entity: run.quarantined_keys(e.entity) for e in run.reconciliation.entities},
        }
    finally:
        source.close()


def test_every_entity_through_the_workers_gives_the_one_core_bag_and_readiness(
        demo_clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    """MIN lowered so that every entity the workers may map crosses, with the demo's planted rows:
    quarantines of every kind, transformed cells, field defects, keys with spaces. Most rows are mapped
    in the workers (the parent maps only the rows that teach a worker's cell check, and those around a
    resync), and the bag, data/report/readiness.json, the cell map and what an observer without a
    summary saw are the one-core ones."""
    one = _export_all(demo_clinic.path, demo_clinic.attachments_root, 1)
    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 1)
    monkeypatch.setattr(export_module, "MIN_POOL_ROWS", 0)
    monkeypatch.setattr(parallel, "BATCH_ROWS", 61)
    in_parent: dict[str, int] = {}
    entities_crossed: list[str] = []
    resyncs: list[str] = []
    map_one = export_module.RowMapping.map_one
    begin_entity = parallel.WorkerPool.begin_entity
    resync = parallel.WorkerPool.resync

    def count_map_one(self: Any, row: Any) -> Any:
        in_parent[self.entity.name] = in_parent.get(self.entity.name, 0) + 1
        return map_one(self, row)

    def count_begin(self: Any, name: str, keys: Any) -> None:
        entities_crossed.append(name)
        begin_entity(self, name, keys)

    def count_resync(self: Any, state: Any) -> int:
        resyncs.append(entities_crossed[-1])
        return resync(self, state)

    monkeypatch.setattr(export_module.RowMapping, "map_one", count_map_one)
    monkeypatch.setattr(parallel.WorkerPool, "begin_entity", count_begin)
    monkeypatch.setattr(parallel.WorkerPool, "resync", count_resync)
    two = _export_all(demo_clinic.path, demo_clinic.attachments_root, 2)
    assert two == one
    assert multiprocessing.active_children() == []

    # What crossed: every entity without BLOBs, a unique field's repeated value (the patients' duplicated
    # chart number) or a reference to itself.
    entities = {e["entity"]: e for e in one["reconciliation"]["entities"]}
    assert {"practitioner", "encounter", "diagnosis", "fee_line", "vital_signs", "receipt",
            "lab_result", "immunization", "allergy", "order_line"} <= set(entities_crossed)
    crossed = [entities[name] for name in entities_crossed]
    reasons = {code for e in crossed for code in e["quarantine_reasons"]}
    assert {"ambiguous-key", "orphan", "invalid-date", "required-missing"} <= reasons
    assert sum(e["cells"]["transformed"] for e in crossed) > 1000
    assert {code for e in crossed for code in e["field_defects"]} == {  # status-unread: the demo's unread statuses
        "bad-encoding", "control-characters", "invalid-date", "lossy-text", "status-unread"}
    # The workers mapped most rows: the parent maps a worker's teaching rows, keys with spaces, and the
    # batches sent before a resync.
    rows_crossed = sum(entities[name]["source_rows"] for name in entities_crossed)
    mapped_here = sum(in_parent.get(name, 0) for name in entities_crossed)
    assert mapped_here < rows_crossed // 4, (mapped_here, rows_crossed)
    assert resyncs  # a worker's check learnt a shape from another row than the parent's: the parent's wins


def test_an_observer_without_a_summary_sees_every_record_from_the_workers(demo_clinic, small_batches) -> None:
    spec = load_connector("demo")
    seen = {}
    for workers in (1, 2):
        source = SqliteFileSource(demo_clinic.path)
        try:
            log = _RecordLog()
            run = ExportRun(spec, source, institution=read_institution(spec, source), created=CREATED,
                            attachments_root=demo_clinic.attachments_root, observers=[log], workers=workers,
                            page_size=1000)
            digest_stream(run.stream())
            assert run._pool_tried == (workers == 2)
            seen[workers] = log.seen
            exported = sum(e.exported for e in run.reconciliation.entities)
        finally:
            source.close()
    assert seen[2] == seen[1]
    assert len(seen[1]) == exported > 26000  # every exported record, in the bag's order


def test_with_the_products_observers_a_worker_sends_back_no_records(demo_clinic) -> None:
    """The export job's observers (readiness and the signer check) take summaries: a worker's answer
    carries the lines, the summaries and no record; an observer without one makes it carry the record."""
    import pickle

    from emr_exporter.bundle.signer_check import SignerCheckReport
    from emr_exporter.sources.base import iter_keyset

    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    try:
        institution = read_institution(spec, source)
        run = ExportRun(spec, source, institution=institution, created=CREATED,
                        attachments_root=demo_clinic.attachments_root)
        entity = spec.entities["fee_line"]
        pages = iter_keyset(source, run._joined_sql(entity), entity.key, 300)
        rows = [row for page in pages for row in page][:300]
    finally:
        source.close()
    product = (ReadinessObserver.summarise, SignerCheckReport.summarise)
    lean = export_module.worker_row_mapping(spec, institution, demo_clinic.attachments_root, product, "fee_line", {})
    full = export_module.worker_row_mapping(spec, institution, demo_clinic.attachments_root, (*product, None),
                                            "fee_line", {})
    lean_answers = pickle.loads(pickle.dumps([lean(row) for row in rows]))
    full_answers = pickle.loads(pickle.dumps([full(row) for row in rows]))
    mapped = [(a, b) for a, b in zip(lean_answers, full_answers, strict=True)
              if type(a) is export_module.MappedRow]
    assert len(mapped) > 250  # all but the rows that taught the cell check (the parent maps those)
    for a, b in mapped:
        assert a.result is None and b.result is not None and b.result.id == a.record_id
        assert a.summaries[0][0] == "fee_line" and a.summaries[1] is None and b.summaries[:2] == a.summaries
        assert [line[2] for line in a.lines] == [line[2] for line in b.lines]
        assert all(len(line) == 4 for line in a.lines)  # type, id, NDJSON line, status: no resource dicts


# --- what crosses the pipes ----------------------------------------------------------------------------------


def test_answers_read_in_place_are_what_connection_recv_reads() -> None:
    """The parent's in-place reader (POSIX pipes) against ``Connection.send`` on the worker's side: answers
    smaller and larger than its buffer and than a pipe's 64 KB, one after another; the 8-byte length form;
    a pipe closed between answers (EOFError) and inside one (OSError), as ``Connection.recv`` raises them."""
    import struct

    if parallel.sys.platform == "win32":
        pytest.skip("Windows' named pipes are read with Connection.recv")
    answers = parallel._AnswerBuffer()
    messages: list[Any] = [[], ["x" * 70_000, b"\x00" * 5], list(range(300_000)), {"small": 1}, b"y" * (1 << 21)]
    reader, writer = multiprocessing.Pipe(duplex=False)
    receive = answers.reader(reader)
    sender = threading.Thread(target=lambda: [writer.send(m) for m in messages])
    sender.start()
    got = [receive() for _ in messages]
    sender.join()
    assert got == messages
    writer.close()
    with pytest.raises(EOFError):
        receive()
    reader.close()

    payload = parallel.pickle.dumps(("long", "form"))
    reader, writer = multiprocessing.Pipe(duplex=False)
    receive = answers.reader(reader)
    with open(writer.fileno(), "wb", closefd=False) as raw:  # send_bytes' form beyond 2 GB, then half a message
        raw.write(struct.pack("!i", -1) + struct.pack("!Q", len(payload)) + payload)
        raw.write(struct.pack("!i", 100) + b"only part")
    writer.close()
    assert receive() == ("long", "form")
    with pytest.raises(OSError, match="end of file during message"):
        receive()
    reader.close()


def test_the_workers_leave_a_visits_read_again_cells_to_its_diagnosis_sections(
        tmp_path: Path, small_batches, monkeypatch: pytest.MonkeyPatch) -> None:
    """The visit rows' diagnosis codes (export.READ_AGAIN_PREFIX: each row says whether a diagnosis section reads
    it) left out of the Encounter's raw columns by the workers as on one core: the same bag, the same counts."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from emr_exporter.authoring.scaffold import write_scaffold
    from emr_exporter.connectors import load_spec
    from emr_exporter.model import Institution
    from emr_exporter.sources.address import SourceAddress
    from test_scaffold_visit_dx import _clinic

    monkeypatch.setattr(export_module, "MIN_PARALLEL_ROWS", 1)
    path = tmp_path / "visitdx.sqlite"
    _clinic(path)
    spec = load_spec(write_scaffold("visitdx", tmp_path / "out", SourceAddress(database=path)).folder)

    def export(workers: int) -> tuple[str, dict[str, Any], bool]:
        source = SqliteFileSource(path)
        try:
            run = ExportRun(spec, source, institution=Institution(code="12345678", name="가상의원"), created=CREATED,
                            workers=workers, page_size=7)
            return digest_stream(run.stream()).sha256, run.reconciliation.to_dict(), run._pool_tried
        finally:
            source.close()

    one, many = export(1), export(2)
    assert (one[2], many[2]) == (False, True)
    assert many[:2] == one[:2]
    cells = {e["entity"]: e["cells"]["source"] for e in one[1]["entities"]}
    # 40 visits of 12 columns less MAIN_DX_CD and MAIN_DX_NM of the 40 the main section reads (visit 7's by its name
    # alone, its code blank: a Condition of the text since the wide-row rules), SUB_DX_CD1 of 13
    assert cells["encounter"] == 40 * 12 - 2 * 40 - 13
