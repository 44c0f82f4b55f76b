"""Protocol text never follows the desktop's locale, and a store that cannot be fixed by retrying is given up
on within minutes with its reason (issue 16: under ko_KR.UTF-8 the store's Upload-Expires header read
"화, 01 12월 2026", every request failed and the wizard waited at 0 % for two hours)."""

from __future__ import annotations

import locale
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from upload_testkit import FAST_RETRY, make_uploader, random_file

from emr_exporter.errors import StoreFailing
from emr_exporter.upload.store import ReferenceStore, StoreServer
from emr_exporter.upload.transport import RetryLater
from emr_exporter.upload.tus import encode_metadata
from emr_exporter.upload.uploader import RetryPolicy, _Attempts


def test_upload_to_the_reference_store_under_the_korean_locale(
    korean_locale: str, tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    assert locale.setlocale(locale.LC_TIME) == korean_locale  # strftime("%a %b") would now write Korean
    bundle = random_file(tmp_path / "b.emrx", 600_000)
    events: list[tuple[str, dict[str, Any]]] = []
    result = make_uploader(server.url, store_public_pem, on_event=lambda n, d: events.append((n, d))).upload(
        bundle, bundle_id="KO-LOCALE"
    )
    assert result.receipt_number and result.retries == 0
    assert [n for n, _ in events if n == "retry"] == []
    # The header that broke: plain ASCII, RFC 7231 IMF-fixdate, readable by any HTTP client.
    metadata = encode_metadata({"bundle_id": "KO-LOCALE-2", "sha256": "0" * 64})
    answer = requests.post(server.url, timeout=5, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": metadata})
    assert answer.status_code == 201
    expires = answer.headers["Upload-Expires"]
    assert expires.isascii() and expires.endswith(" GMT"), expires
    upload_id = answer.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    assert parsedate_to_datetime(expires).timestamp() == pytest.approx(store.load(upload_id)["expires_at"], abs=1)


def test_store_answering_500_to_everything_is_given_up_with_its_reason(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 300_000)

    def always_500(handler: Any, method: str, upload_id: str | None) -> bool:
        handler._discard_body()
        handler.answer_error(500, "disk full on store")
        return True

    store.fault_hook = always_500
    events: list[tuple[str, dict[str, Any]]] = []
    with pytest.raises(StoreFailing) as caught:
        make_uploader(server.url, store_public_pem, on_event=lambda n, d: events.append((n, d))).upload(
            bundle, bundle_id="BROKEN-500"
        )
    message = str(caught.value)
    assert "500" in message and "disk full on store" in message and "trying again cannot fix" in message
    retries = [d for n, d in events if n == "retry"]
    assert len(retries) == FAST_RETRY.max_store_faults_without_progress
    assert all("disk full on store" in d["error"] for d in retries)  # the reason is on every retry event


def test_store_closing_every_connection_unanswered_is_given_up(
    tmp_path: Path, server: StoreServer, store: ReferenceStore, store_public_pem: Path
) -> None:
    bundle = random_file(tmp_path / "b.emrx", 300_000)

    def hang_up(handler: Any, method: str, upload_id: str | None) -> bool:
        handler.close_connection = True  # what the store did when a header could not be encoded
        return True

    store.fault_hook = hang_up
    with pytest.raises(StoreFailing, match="closed it without answering"):
        make_uploader(server.url, store_public_pem).upload(bundle, bundle_id="BROKEN-HANGUP")
    assert len(store.requests) == FAST_RETRY.max_store_faults_without_progress + 1


def test_default_policy_gives_up_on_a_broken_store_within_five_minutes() -> None:
    attempts = _Attempts(RetryPolicy())
    waited = 0.0
    with pytest.raises(StoreFailing):
        for _ in range(100):
            waited += attempts.next_delay(RetryLater("The store answered 500 to x.", store_fault=True))
    assert waited <= RetryPolicy().store_fault_budget == 300.0
    assert attempts.store_faults <= RetryPolicy().max_store_faults_without_progress + 1


def test_network_outage_and_busy_store_keep_the_long_budget() -> None:
    attempts = _Attempts(RetryPolicy())
    for _ in range(20):  # more than a broken store gets: an outage is worth waiting for
        attempts.next_delay(RetryLater("The connection to the store failed."))
    busy = _Attempts(RetryPolicy())
    for _ in range(20):
        busy.next_delay(RetryLater("The store answered 503.", 30.0))
    assert attempts.store_faults == busy.store_faults == 0


def test_store_failures_reset_after_progress() -> None:
    attempts = _Attempts(RetryPolicy(max_store_faults_without_progress=2))
    for _ in range(5):
        attempts.next_delay(RetryLater("500", store_fault=True))
        attempts.next_delay(RetryLater("500", store_fault=True))
        attempts.progressed()
