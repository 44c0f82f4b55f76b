"""What the founder is told after a cancel or a stall is what is on disk and what the next run does.

A sealed export keeps its unfinished bundle (``.emrx.partial`` + journal) and the same export run again continues
it; a dry run writes nothing. Done for real here: a sealed export of the demo clinic is cancelled mid-way, run
again, and must resume (the finished parts reused) into a bundle whose data is that of an uninterrupted run.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from emr_exporter.bundle.journal import Journal
from emr_exporter.bundle.keys import load_store_private_key
from emr_exporter.bundle.reader import open_bundle, verify_bundle
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.errors import EXPORT_CANCELLED_MESSAGE, ExportCancelled, SourceStalled
from emr_exporter.jobs.service import ExportRequest, ProgressEvent, after_interruption, run_export
from emr_exporter.sources.address import SourceAddress

PART = 64 * 1024


def _request(demo_clinic, keys, out: Path | None) -> ExportRequest:
    return ExportRequest(
        connector="demo", source=SourceAddress(database=demo_clinic.path),
        attachments_root=demo_clinic.attachments_root, out_dir=out,
        signer_path=keys.institution_p12 if out else None,
        signer_password=keys.institution_password if out else None,
        recipient_cert=keys.store_cert if out else None, part_size=PART if out else None, workers=1,
    )


def _cancel_at_third_table(cancel: threading.Event):
    seen: list[str] = []

    def progress(event: ProgressEvent) -> None:
        if event.stage == "export" and event.entity and event.entity not in seen:
            seen.append(event.entity)
            if len(seen) == 3:
                cancel.set()

    return progress


TIMED = ("data/fhir/manifest.json", "data/report/reconciliation.json")  # they hold the export's time


def _manifest(opened_bag: Path) -> list[str]:
    """The payload manifest (SHA-256 of every data file) but the files that hold the export's time."""
    lines = (opened_bag / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.split("  ", 1)[1] not in TIMED]


def _untimed(opened_bag: Path, name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((opened_bag / name).read_text(encoding="utf-8"))
    for key in ("created", "transactionTime"):
        data.pop(key, None)
    return data


def test_a_cancelled_sealed_export_says_it_continues_and_the_next_run_does(demo_clinic, tmp_path: Path) -> None:
    keys = make_demo_keys(tmp_path / "keys")
    out = tmp_path / "out"
    cancel = threading.Event()
    with pytest.raises(ExportCancelled) as cancelled:
        run_export(_request(demo_clinic, keys, out), _cancel_at_third_table(cancel), cancel)
    [journal] = Journal.unfinished(out)
    parts = len(journal.parts)
    assert parts >= 1
    partial = journal.state.file_name + ".partial"
    assert (out / partial).is_file()
    assert str(cancelled.value) == (
        f"The export was cancelled. Nothing is lost: the unfinished bundle stays in '{out}' ('{partial}', {parts} "
        f"finished part{'' if parts == 1 else 's'}, and its hidden journal). Run the same export again into the same "
        "folder and it continues that bundle: the finished parts are checked and kept, only the rest is written. "
        "Do not delete those files.")
    assert cancelled.value.kept_partial == partial

    resumed = run_export(_request(demo_clinic, keys, out))
    assert resumed.resumed is True
    assert resumed.bundle_id == journal.state.bundle_id
    assert Journal.unfinished(out) == []
    report = verify_bundle(resumed.bundle_path, [keys.signer.chain[0]])
    # The finished parts were reused as they were, not written again.
    assert [p["sha256"] for p in report.trailer["parts"][:parts]] == [p.ciphertext_sha256 for p in journal.parts]
    store_key = load_store_private_key(keys.store_key)
    opened = open_bundle(resumed.bundle_path, store_key, tmp_path / "opened")
    assert opened.plaintext_sha256 == resumed.bag_sha256

    # An uninterrupted run (its own bundle id and time) holds the very same data, file for file, and its bag
    # reconciles the same.
    whole = run_export(_request(demo_clinic, keys, tmp_path / "whole"))
    assert whole.resumed is False
    opened_whole = open_bundle(whole.bundle_path, store_key, tmp_path / "opened-whole")
    assert len(_manifest(opened.bag_dir)) > 20
    assert _manifest(opened.bag_dir) == _manifest(opened_whole.bag_dir)
    for name in TIMED:
        assert _untimed(opened.bag_dir, name) == _untimed(opened_whole.bag_dir, name)
    assert resumed.reconciliation.totals == whole.reconciliation.totals


def test_a_cancelled_dry_run_says_nothing_was_written(demo_clinic, tmp_path: Path) -> None:
    cancel = threading.Event()
    with pytest.raises(ExportCancelled) as cancelled:
        run_export(_request(demo_clinic, None, None), _cancel_at_third_table(cancel), cancel)
    assert str(cancelled.value) == (
        "The export was cancelled. It was a dry run: nothing was written; the next run starts over.")
    assert cancelled.value.kept_partial == ""


def test_cancelled_before_the_bundle_was_started_says_the_next_run_starts_over(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    told = after_interruption(ExportCancelled(EXPORT_CANCELLED_MESSAGE), tmp_path / "out")
    assert str(told) == (
        "The export was cancelled. The bundle was not started yet: nothing was written; the next run starts over.")
    assert told.kept_partial == ""


def test_a_stall_says_what_is_kept(tmp_path: Path) -> None:
    stalled = SourceStalled("The clinic database server stopped answering. Nothing was lost.", reason="no-answer")
    told = after_interruption(stalled, None)
    assert isinstance(told, SourceStalled) and told.reason == "no-answer"
    assert str(told) == ("The clinic database server stopped answering. It was a dry run: nothing was written; the "
                         "next run starts over.")
