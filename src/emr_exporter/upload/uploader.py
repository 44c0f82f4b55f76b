"""The resilient upload loop: journal, retries with backoff, resync, new upload when the old one is gone,
then the store's signed receipt. Protocol-neutral: it drives any :class:`UploadTransport`.

What survives what:
* a dropped connection, a 5xx/429, a stalled store: back off (exponential, jittered, ``Retry-After`` wins),
  ask the store where it is (HEAD), continue from there;
* the program being killed or the PC rebooting: the journal beside the bundle holds the upload URL, so the
  next run asks the store for its offset and continues; at most the chunk in flight is re-sent;
* the upload expiring or being deleted on the store (404/410): a new upload is started;
* a finished bundle: the journal says "accepted" and nothing is sent again;
* only the bundle file carried to another PC (no journal): before starting a new upload the store is asked
  what it holds of this bundle id (``lookup_bundle``); an accepted bundle is not sent again (its signed receipt
  is verified and saved), an unfinished upload of the same file continues at the store's offset.
"""

from __future__ import annotations

import functools
import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from emr_exporter.errors import (
    ConfigError,
    RejectedByStore,
    RetryableTransportError,
    StoreFailing,
    StoreStillChecking,
)
from emr_exporter.upload.journal import JournalEntry, UploadJournal
from emr_exporter.upload.receipt import PublicKey, save_receipt, verify_receipt
from emr_exporter.upload.transport import (
    BundleKnownToStore,
    BundleLookup,
    FirstChunk,
    NeedsAuthentication,
    OffsetConflict,
    RetryLater,
    SendOptions,
    UploadGone,
    UploadTransport,
    raise_if_cancelled,
)

T = TypeVar("T")

#: An event for logs / progress displays: (name, details). Never carries patient data.
EventCallback = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, and bounded both in time and in attempts without progress."""

    base_delay: float = 1.0
    max_delay: float = 300.0
    #: Give up after this many seconds without any byte of progress (the run can simply be started again).
    stall_budget: float = 2 * 3600.0
    #: ... or after this many failed attempts in a row without progress.
    max_attempts_without_progress: int = 30
    #: The store's Retry-After is obeyed up to this many seconds (a bogus huge value must not park us for days).
    max_retry_after: float = 3600.0
    #: How many times one run may start a new upload because the store forgot the old one.
    max_new_uploads: int = 3
    #: A store that is reached but fails (500 without Retry-After, connection closed without an answer) is
    #: given up on after this many such failures in a row, or this many seconds, without progress: retrying
    #: for hours cannot repair a broken store, and the founder must see why it stopped.
    max_store_faults_without_progress: int = 8
    store_fault_budget: float = 300.0
    #: After the last byte the store checks the whole bundle before it signs a receipt: minutes for a large
    #: clinic's bundle. Its "still checking" answers are not failures; they are waited for this long, asking
    #: at most every ``max_verification_poll`` seconds where the store suggests no interval.
    verification_budget: float = 6 * 3600.0
    max_verification_poll: float = 30.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter": never 0, never in lock-step


MIN_CHUNK = 256 * 1024
MAX_CHUNK = 32 * 1024 * 1024
#: One request should take about this long on the measured link: short enough that a connection which drops
#: every 20 s still delivers most chunks whole (a checksummed chunk cut midway is discarded by the store),
#: long enough that per-request overhead stays small.
CHUNK_SECONDS = 4.0


class ChunkSizer:
    """Sizes each request to the link: a few seconds of transfer at the rate measured on the last requests,
    bounded to MIN_CHUNK..MAX_CHUNK. A fixed size (``--chunk-size``) switches the measuring off."""

    def __init__(self, fixed: int | None = None, seconds: float = CHUNK_SECONDS) -> None:
        self.fixed = fixed
        self.seconds = seconds
        self.rate: float | None = None  # bytes per second the store confirmed, smoothed
        self.current = fixed or MIN_CHUNK  # start small: the first request is also the first measurement

    def measured(self, confirmed_bytes: int, elapsed: float) -> None:
        """A request that ended: ``confirmed_bytes`` is how far the store's offset moved in ``elapsed`` s."""
        if confirmed_bytes <= 0 or elapsed <= 0:
            return
        rate = confirmed_bytes / elapsed
        # Smoothed, but a slower link wins at once: a chunk too big for the link is the costly mistake.
        self.rate = rate if self.rate is None or rate < self.rate else 0.5 * self.rate + 0.5 * rate
        if self.fixed is None:
            self.current = int(min(MAX_CHUNK, max(MIN_CHUNK, self.rate * self.seconds)))

    def cut(self) -> None:
        """A request broke off: the next one is half as long (a link that drops often needs shorter pieces)."""
        if self.fixed is None:
            self.current = max(MIN_CHUNK, self.current // 2)


@dataclass
class UploadProgress:
    position: int
    size: int


@dataclass
class UploadResult:
    bundle_id: str
    size: int
    sha256: str
    upload_url: str | None
    already_uploaded: bool = False
    receipt_number: str | None = None
    receipt: dict[str, Any] | None = None
    receipt_path: Path | None = None
    resumed_from: int = 0
    bytes_sent: int = 0
    retries: int = 0
    new_uploads: int = 0
    #: "accepted" (a verified signed receipt) or "stored-unconfirmed" (the store holds every byte, by its own
    #: HEAD answer, but offers no receipt: a plain tus server).
    state: str = "accepted"
    #: The per-request checksum the store verified ("sha256", "sha1", "md5"), or None if it offers none.
    checksum: str | None = None
    #: The store's offset in a HEAD after the last byte (proof of storage where there is no receipt).
    confirmed_offset: int | None = None
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def unconfirmed(self) -> bool:
        return self.state == "stored-unconfirmed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle_id,
            "size": self.size,
            "sha256": self.sha256,
            "upload_url": self.upload_url,
            "already_uploaded": self.already_uploaded,
            "receipt_number": self.receipt_number,
            "receipt_path": str(self.receipt_path) if self.receipt_path else None,
            "resumed_from": self.resumed_from,
            "bytes_sent": self.bytes_sent,
            "retries": self.retries,
            "new_uploads": self.new_uploads,
            "state": self.state,
            "checksum": self.checksum,
            "confirmed_offset": self.confirmed_offset,
        }


def sha256_of_file(path: Path, cancel: threading.Event | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            if cancel is not None:
                raise_if_cancelled(cancel)
            digest.update(block)
    return digest.hexdigest()


_FIRST_RECEIPT_POLL = 0.02  # seconds: first receipt query after the last byte (see _collect_receipt)


class _AcceptedByStore(Exception):
    """Internal: the store already accepted this bundle; ``lookup.document`` is its signed receipt."""

    def __init__(self, lookup: BundleLookup) -> None:
        super().__init__("accepted")
        self.lookup = lookup


class _Attempts:
    """Counts failures since the last progress and decides how long to wait, or to give up."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0
        self.total_retries = 0
        self.last_progress = time.monotonic()
        self.store_faults = 0
        self.store_fault_seconds = 0.0

    def progressed(self) -> None:
        self.failures = 0
        self.store_faults = 0
        self.store_fault_seconds = 0.0
        self.last_progress = time.monotonic()

    def next_delay(self, error: RetryableTransportError) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            delay = min(float(retry_after), self.policy.max_retry_after)
        else:
            delay = self.policy.backoff(self.failures)
        self.failures += 1
        self.total_retries += 1
        if getattr(error, "store_fault", False):
            self.store_faults += 1
            if (
                self.store_faults > self.policy.max_store_faults_without_progress
                or self.store_fault_seconds + delay > self.policy.store_fault_budget
            ):
                raise StoreFailing(
                    f"The store keeps failing ({str(error).rstrip('.')}; {self.store_faults} times in a row), so "
                    "the upload stopped: trying again cannot fix this. Nothing is lost. Contact the store's "
                    "help desk with this message, or try again later."
                ) from error
            self.store_fault_seconds += delay
        stalled_for = time.monotonic() - self.last_progress + delay
        if self.failures > self.policy.max_attempts_without_progress or stalled_for > self.policy.stall_budget:
            raise RetryableTransportError(
                f"The store could not be reached for {int(stalled_for // 60)} minutes ({error}). Nothing is "
                "lost: check the internet connection and run the same command again to continue."
            ) from error
        return delay


class Uploader:
    """Uploads one bundle file to one store, resumably. See the module docstring."""

    def __init__(
        self,
        transport: UploadTransport,
        *,
        store_url: str,
        store_public_keys: list[PublicKey] | None = None,
        require_receipt: bool = True,
        chunk_size: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit_bytes_per_second: float | None = None,
        cancel: threading.Event | None = None,
        on_progress: Callable[[UploadProgress], None] | None = None,
        on_event: EventCallback | None = None,
        token_provider: Callable[[], str | None] | None = None,
        check_before_new_upload: Callable[[], None] | None = None,
    ) -> None:
        if require_receipt and not store_public_keys:
            raise ConfigError(
                "No store certificate to check the store's receipt with. Give it with --store-cert "
                "(the PEM file the store publishes)."
            )
        if chunk_size is not None and chunk_size <= 0:
            raise ConfigError("The chunk size must be a positive number of bytes.")
        self.transport = transport
        self.store_url = store_url
        self.store_public_keys = store_public_keys or []
        self.require_receipt = require_receipt
        #: None: sized to the link (ChunkSizer); a number: every request carries that many bytes.
        self.chunk_size = chunk_size
        self.sizer = ChunkSizer(chunk_size)
        self.retry = retry or RetryPolicy()
        self.rate_limit = rate_limit_bytes_per_second
        self.cancel = cancel or threading.Event()
        self.on_progress = on_progress
        self.on_event = on_event
        self.token_provider = token_provider
        #: Runs once, right before the store is asked to start a brand-new upload (the CLI verifies the whole
        #: bundle there: a resume needs only the signed header, a first send must not carry a damaged file).
        self.check_before_new_upload = check_before_new_upload
        self._checked_before_new_upload = False
        self._asked_for_token = False
        self._source: BinaryIO | None = None  # the open bundle while bytes are being sent

    # -- helpers -----------------------------------------------------------------------------------------

    def _event(self, name: str, **details: Any) -> None:
        if self.on_event is not None:
            self.on_event(name, details)

    def _wait(self, delay: float, reason: str) -> None:
        self._event("wait", seconds=delay, reason=reason)
        if self.cancel.wait(delay):
            raise_if_cancelled(self.cancel)

    def _authenticate(self) -> None:
        token = self.token_provider() if (self.token_provider and not self._asked_for_token) else None
        self._asked_for_token = True
        if not token:
            raise RejectedByStore(
                "The store asks for a login token. Set the environment variable EMR_EXPORTER_STORE_TOKEN to "
                "the token the store gave you (or run the command in a window so it can ask), then run it again."
            )
        setter = getattr(self.transport, "set_token", None)
        if setter is None:
            raise RejectedByStore("The store asks for a login token, which this kind of store cannot take.")
        setter(token)

    def _call(self, attempts: _Attempts, what: str, fn: Callable[[], T]) -> T:
        """Run one request, retrying temporary failures. UploadGone/OffsetConflict pass through."""
        while True:
            raise_if_cancelled(self.cancel)
            try:
                return fn()
            except RetryLater as error:
                delay = attempts.next_delay(error)
                self._event("retry", what=what, error=str(error), seconds=delay)
                self._wait(delay, what)
            except NeedsAuthentication:
                self._authenticate()

    # -- the upload --------------------------------------------------------------------------------------

    def upload(
        self, bundle_path: Path, *, bundle_id: str, institution: str = "", known_sha256: str | None = None,
        known_size: int | None = None,
    ) -> UploadResult:
        """Send ``bundle_path`` and collect the store's receipt.

        ``known_sha256``/``known_size``: the file's digest and size as the writer sealed it, so a fresh
        upload need not read the whole file once more first; used only when the size still matches (a file
        changed since is then refused by the store at the end, by the same SHA-256 check).
        """
        bundle_path = Path(bundle_path)
        if not bundle_path.is_file():
            raise ConfigError(f"The bundle file {bundle_path} does not exist.")
        journal = UploadJournal.beside(bundle_path)
        entry = journal.get(bundle_id, self.store_url)
        size = bundle_path.stat().st_size

        if entry is not None and entry.state == "accepted":
            self._event("already-uploaded", receipt_number=entry.receipt_number)
            from emr_exporter.upload.receipt import load_saved_receipt, receipt_path_for

            saved = load_saved_receipt(bundle_path)
            return UploadResult(
                bundle_id=bundle_id, size=entry.size, sha256=entry.sha256, upload_url=entry.upload_url,
                already_uploaded=True, receipt_number=entry.receipt_number,
                receipt=saved.get("receipt") if saved else None,
                receipt_path=receipt_path_for(bundle_path) if saved else None, resumed_from=entry.size,
            )
        if entry is not None and entry.size != size:
            raise ConfigError(
                f"{bundle_path.name} is not the same size as when its upload began ({entry.size} bytes, now "
                f"{size}). The file was changed or damaged; copy it again from the original."
            )
        if entry is not None:
            sha256 = entry.sha256
        elif known_sha256 and known_size == size:
            sha256 = known_sha256
        else:
            sha256 = sha256_of_file(bundle_path, self.cancel)
        entry = journal.start(bundle_id, self.store_url, bundle_path.name, size, sha256)

        attempts = _Attempts(self.retry)
        result = UploadResult(bundle_id=bundle_id, size=size, sha256=sha256, upload_url=entry.upload_url)
        capabilities = self._call(attempts, "capability query", self.transport.discover)
        result.checksum = getattr(capabilities, "checksum_algorithm", None)
        metadata = {"filename": bundle_path.name, "bundle_id": bundle_id, "sha256": sha256}
        if institution:
            metadata["institution"] = institution

        try:
            upload_url = self._send_all(attempts, journal, entry, bundle_path, size, metadata, result)
        except _AcceptedByStore as known:
            return self._adopt_receipt(journal, bundle_path, known.lookup, result)
        journal.update(bundle_id, self.store_url, state="complete", offset_seen=size)
        result.upload_url = upload_url
        result.retries = attempts.total_retries
        self._event("sent", size=size)
        self._collect_receipt(attempts, journal, bundle_path, upload_url, result)
        return result

    def _send_all(
        self,
        attempts: _Attempts,
        journal: UploadJournal,
        entry: JournalEntry,
        bundle_path: Path,
        size: int,
        metadata: dict[str, str],
        result: UploadResult,
    ) -> str:
        """Send every byte the store does not have yet; return the upload URL that holds them all."""
        bundle_id = result.bundle_id
        with open(bundle_path, "rb") as source:
            self._source = source
            upload_url, offset = self._resume_or_create(attempts, journal, entry, size, metadata, result)
            result.resumed_from = offset if result.new_uploads == 0 else 0
            self._event("start", offset=offset, size=size)
            while offset < size:
                raise_if_cancelled(self.cancel)
                length = min(self.sizer.current, size - offset)
                chunk_start = offset
                options, sent = self._send_options(chunk_start, size)
                started = time.monotonic()
                try:
                    new_offset = self.transport.send(upload_url, source, offset, length, options)
                except UploadGone:
                    result.bytes_sent += sent[0]
                    upload_url, offset = self._new_upload(attempts, journal, size, metadata, result)
                    continue
                except OffsetConflict:
                    result.bytes_sent += sent[0]
                    self._event("resync", offset=offset)
                except RetryLater as error:
                    result.bytes_sent += sent[0]
                    if sent[0] > 0:
                        self.sizer.cut()  # the link dropped mid-request: shorter pieces from now on
                    delay = attempts.next_delay(error)
                    self._event("retry", what="send", error=str(error), seconds=delay)
                    self._wait(delay, "send")
                except NeedsAuthentication:
                    result.bytes_sent += sent[0]
                    self._authenticate()
                else:
                    result.bytes_sent += sent[0]
                    if new_offset > offset:
                        attempts.progressed()
                        self.sizer.measured(new_offset - offset, time.monotonic() - started)
                    offset = new_offset
                    journal.update(bundle_id, self.store_url, offset_seen=offset)
                    continue
                # After any failure: the store's offset is the truth. A store that keeps the bytes of a broken
                # request (tus says it SHOULD) reports more than chunk_start here, so nothing is sent twice.
                try:
                    offset = self._call(
                        attempts, "progress query", functools.partial(self.transport.offset, upload_url, size)
                    )
                except UploadGone:
                    upload_url, offset = self._new_upload(attempts, journal, size, metadata, result)
                if offset > chunk_start:
                    attempts.progressed()
                    self._event("kept-partial", offset=offset, kept=offset - chunk_start)
                journal.update(bundle_id, self.store_url, offset_seen=offset)
            self._source = None
        return upload_url

    def _send_options(self, chunk_start: int, size: int) -> tuple[SendOptions, list[int]]:
        """Options for one request body from ``chunk_start``, and a cell with the bytes it has sent so far."""
        sent = [0]

        def progress(position: int) -> None:
            sent[0] = position - chunk_start
            if self.on_progress is not None:
                self.on_progress(UploadProgress(position=position, size=size))

        return SendOptions(rate_limit_bytes_per_second=self.rate_limit, cancel=self.cancel,
                           on_progress=progress), sent

    def _adopt_receipt(
        self, journal: UploadJournal, bundle_path: Path, lookup: BundleLookup, result: UploadResult
    ) -> UploadResult:
        """The store accepted this bundle before (from another PC, or a journal that was lost): verify and
        keep its receipt; nothing is sent."""
        document = lookup.document
        stored = document.get("receipt") if isinstance(document, dict) else None
        if isinstance(stored, dict) and (stored.get("sha256") != result.sha256 or stored.get("size") != result.size):
            raise RejectedByStore(
                "The store already accepted a bundle with this id, but not this exact file (its size or SHA-256 "
                "differs). Do not delete anything; contact the store's help desk with this message."
            )
        if not self.store_public_keys and self.require_receipt:
            raise ConfigError("No store certificate to check the store's receipt with.")
        receipt = verify_receipt(
            document, self.store_public_keys, bundle_id=result.bundle_id, sha256=result.sha256, size=result.size
        ) if self.store_public_keys else (stored or {})
        result.already_uploaded = True
        result.upload_url = lookup.upload_url
        result.receipt = receipt
        result.receipt_number = str(receipt.get("receipt_number")) if receipt.get("receipt_number") else None
        if document is not None:
            result.receipt_path = save_receipt(bundle_path, document)
        result.resumed_from = result.size
        journal.update(result.bundle_id, self.store_url, state="accepted", receipt_number=result.receipt_number,
                       upload_url=lookup.upload_url, offset_seen=result.size)
        self._event("already-uploaded", receipt_number=result.receipt_number)
        return result

    def _resume_or_create(
        self,
        attempts: _Attempts,
        journal: UploadJournal,
        entry: JournalEntry,
        size: int,
        metadata: dict[str, str],
        result: UploadResult,
    ) -> tuple[str, int]:
        if entry.upload_url:
            upload_url = entry.upload_url
            try:
                offset = self._call(attempts, "progress query", lambda: self.transport.offset(upload_url, size))
                return upload_url, offset
            except UploadGone:
                self._event("upload-gone", upload_url=upload_url)
        return self._new_upload(attempts, journal, size, metadata, result)

    def _lookup(self, attempts: _Attempts, bundle_id: str) -> BundleLookup:
        lookup_bundle = getattr(self.transport, "lookup_bundle", None)
        if lookup_bundle is None:
            return BundleLookup(state="unknown")
        return self._call(attempts, "bundle lookup", lambda: lookup_bundle(bundle_id))  # type: ignore[no-any-return]

    def _adopt_upload(
        self,
        attempts: _Attempts,
        journal: UploadJournal,
        lookup: BundleLookup,
        size: int,
        metadata: dict[str, str],
        result: UploadResult,
    ) -> tuple[str, int] | None:
        """Continue the store's own upload of this very file (same length and SHA-256), if it still has one."""
        if lookup.state == "accepted":
            raise _AcceptedByStore(lookup)
        if (
            lookup.state not in ("receiving", "verifying")
            or not lookup.upload_url
            or lookup.length != size
            or lookup.sha256 != metadata["sha256"]
        ):
            return None
        upload_url = lookup.upload_url
        try:
            offset = self._call(attempts, "progress query", lambda: self.transport.offset(upload_url, size))
        except UploadGone:
            return None
        journal.update(metadata["bundle_id"], self.store_url, upload_url=upload_url, state="sending",
                       offset_seen=offset)
        result.upload_url = upload_url
        self._event("found-on-store", upload_url=upload_url, offset=offset)
        return upload_url, offset

    def _new_upload(
        self, attempts: _Attempts, journal: UploadJournal, size: int, metadata: dict[str, str], result: UploadResult
    ) -> tuple[str, int]:
        # Ask the store first: it may hold this bundle already (accepted, or unfinished from another PC).
        adopted = self._adopt_upload(attempts, journal, self._lookup(attempts, metadata["bundle_id"]), size,
                                     metadata, result)
        if adopted is not None:
            return adopted
        if self.check_before_new_upload is not None and not self._checked_before_new_upload:
            self.check_before_new_upload()
            self._checked_before_new_upload = True
        result.new_uploads += 1
        if result.new_uploads > self.retry.max_new_uploads:
            raise RejectedByStore(
                "The store keeps forgetting this upload. Wait a while and run the command again, or contact the "
                "store's help desk."
            )
        capabilities = getattr(self.transport, "capabilities", None)
        with_first = self._source is not None and bool(getattr(capabilities, "creation_with_upload", False))
        started = time.monotonic()

        def create() -> tuple[str, int]:
            first = None
            if with_first and self._source is not None:
                # The first (small) chunk rides on the POST: one round trip less, and at most this many bytes
                # are orphaned on the store if the program dies before it learns the upload's address.
                options, _ = self._send_options(0, size)
                first = FirstChunk(self._source, min(MIN_CHUNK, self.sizer.current, size), options)
            return self.transport.create(size, metadata, first)

        try:
            upload_url, offset = self._call(attempts, "upload start", create)
        except BundleKnownToStore as known:
            # Someone started or finished this bundle between our question and the POST.
            result.new_uploads -= 1
            adopted = self._adopt_upload(attempts, journal, known.lookup, size, metadata, result)
            if adopted is None:
                raise RejectedByStore(
                    "The store already holds another upload of this bundle and refuses a second one. Wait a "
                    "while and run the command again, or contact the store's help desk."
                ) from None
            return adopted
        # Durable before the (next) byte goes out, so a crash right after still resumes this upload.
        journal.update(metadata["bundle_id"], self.store_url, upload_url=upload_url, state="sending",
                       offset_seen=offset)
        result.upload_url = upload_url
        if offset:
            result.bytes_sent += offset
            attempts.progressed()
            self.sizer.measured(offset, time.monotonic() - started)
        self._event("created", upload_url=upload_url, offset=offset)
        return upload_url, offset

    def _confirm_without_receipt(
        self, attempts: _Attempts, journal: UploadJournal, upload_url: str, result: UploadResult
    ) -> None:
        """A store without our receipt (any plain tus server): prove what the client can. The store's own HEAD
        must say it holds exactly the bundle's size; each piece went with a checksum if the store offered one;
        the bundle's SHA-256 went in Upload-Metadata for the store to check. Then "stored, unconfirmed"."""
        try:
            held = self._call(attempts, "progress query", lambda: self.transport.offset(upload_url, result.size))
        except UploadGone:
            raise RejectedByStore(
                "The store took every byte, but then no longer knew the upload (404) and gives no receipt, so "
                "nothing confirms that it holds the bundle. Do not delete the bundle; contact the store's help "
                "desk with this message."
            ) from None
        if held != result.size:
            raise RejectedByStore(
                f"The store says it holds {held:,} of the bundle's {result.size:,} bytes after the last piece. "
                "Run the same command again; if this repeats, contact the store's help desk with this message."
            )
        result.state = "stored-unconfirmed"
        result.confirmed_offset = held
        result.already_uploaded = result.resumed_from == result.size and result.bytes_sent == 0
        journal.update(result.bundle_id, self.store_url, state="stored", offset_seen=held)
        self._event("stored-unconfirmed", size=result.size, checksum=result.checksum)

    def _collect_receipt(
        self, attempts: _Attempts, journal: UploadJournal, bundle_path: Path, upload_url: str, result: UploadResult
    ) -> None:
        bundle_id = result.bundle_id
        # Right after the last byte the store is usually about to finish: ask again after 20 ms, doubling
        # up to what the store suggested (Retry-After, often a whole second, which used to dominate an upload
        # on a fast line); from then on its hint and the usual retry accounting apply. At most ~6 extra
        # small GETs per upload.
        # "Still checking" is the store at work, not a failure: it does not count against the retries (a large
        # bundle takes minutes to check, and 30 such answers used to end the upload as "could not be reached").
        quick_poll = _FIRST_RECEIPT_POLL
        checking_since = time.monotonic()
        while True:
            answer = self._call(attempts, "receipt", lambda: self.transport.fetch_receipt(upload_url))
            if answer.state != "pending":
                break
            hint = answer.retry_after
            if quick_poll < (hint if hint is not None else self.retry.max_verification_poll):
                delay, quick_poll = quick_poll, quick_poll * 2
            else:
                delay = self.retry.max_verification_poll if hint is None else hint
            delay = min(max(delay, _FIRST_RECEIPT_POLL), self.retry.max_retry_after)
            checking = time.monotonic() - checking_since
            if checking + delay > self.retry.verification_budget:
                raise StoreStillChecking(
                    f"The store has every byte of the bundle and has been checking it for {int(checking // 60)} "
                    "minutes without an answer yet. Nothing needs to be sent again: run the same command later "
                    "(or press Resume) to collect the store's receipt."
                )
            self._event("verifying", seconds=delay)
            self._wait(delay, "store verification")
        if answer.state == "rejected":
            journal.update(bundle_id, self.store_url, state="rejected", reason=answer.reason)
            raise RejectedByStore(
                f"The store received the whole bundle but rejected it: {(answer.reason or '').rstrip('.')}. "
                "Do not delete the bundle; contact the store's help desk with this message."
            )
        if answer.state == "unsupported":
            self._confirm_without_receipt(attempts, journal, upload_url, result)
            return
        if not self.store_public_keys:
            raise ConfigError(
                "The store received every byte and gives a signed receipt, but there is no store certificate to "
                "check it with. Nothing needs to be sent again: run the same command with --store-cert."
            )
        receipt = verify_receipt(
            answer.document, self.store_public_keys, bundle_id=bundle_id, sha256=result.sha256, size=result.size
        )
        assert answer.document is not None
        result.receipt = receipt
        result.receipt_number = str(receipt.get("receipt_number"))
        result.receipt_path = save_receipt(bundle_path, answer.document)
        journal.update(bundle_id, self.store_url, state="accepted", receipt_number=result.receipt_number)
        self._event("accepted", receipt_number=result.receipt_number)
