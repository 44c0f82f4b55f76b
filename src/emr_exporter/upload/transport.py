"""The small interface every upload protocol implements (tus 1.0 today; S3 multipart or the national Open
API could be added beside it).

A transport does single requests and classifies their outcome. It does not retry, sleep or keep state
between runs: :class:`~emr_exporter.upload.uploader.Uploader` does that, the same way for every transport.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from emr_exporter.errors import RetryableTransportError, UploadCancelled

#: Called with the store's offset plus the bytes sent so far in the current request.
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class StoreCapabilities:
    """What the store said about itself (tus: the OPTIONS answer)."""

    versions: tuple[str, ...] = ("1.0.0",)
    extensions: frozenset[str] = frozenset()
    max_size: int | None = None
    checksum_algorithms: tuple[str, ...] = ()

    @property
    def sha256_checksums(self) -> bool:
        return self.checksum_algorithm == "sha256"

    @property
    def checksum_algorithm(self) -> str | None:
        """The strongest per-request checksum the store verifies (tus ``checksum``), or None if it offers none.
        sha1 is the one the tus spec makes mandatory; md5 is the last resort (still catches a damaged chunk)."""
        if "checksum" not in self.extensions:
            return None
        return next((a for a in ("sha256", "sha1", "md5") if a in self.checksum_algorithms), None)

    @property
    def creation_with_upload(self) -> bool:
        return "creation-with-upload" in self.extensions


@dataclass(frozen=True)
class ReceiptAnswer:
    """The store's answer to "what became of my bundle?" after the last byte."""

    state: str  # "accepted" (document is set) | "pending" | "rejected" (reason is set) | "unsupported"
    document: dict[str, Any] | None = None
    reason: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class BundleLookup:
    """What the store knows about a bundle id (our protocol on top of tus, docs/upload.md).

    ``state`` is "unknown" (never seen, or the store has no lookup), "receiving" (an unfinished upload at
    ``upload_url``), "verifying" (all bytes in, being checked), "accepted" (``document`` is the signed receipt)
    or "rejected" (``reason``).
    """

    state: str
    upload_url: str | None = None
    length: int | None = None
    sha256: str | None = None
    offset: int | None = None
    document: dict[str, Any] | None = None
    reason: str | None = None


@dataclass
class SendOptions:
    """Knobs for streaming one request body."""

    block_size: int = 64 * 1024
    rate_limit_bytes_per_second: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    on_progress: ProgressCallback | None = None


@dataclass
class FirstChunk:
    """The first bytes to send with the creation request itself (tus ``creation-with-upload``)."""

    source: BinaryIO
    length: int
    options: SendOptions


class UploadGone(Exception):
    """The store no longer knows this upload (404/410/403, expired or terminated): start a new one."""


class OffsetConflict(Exception):
    """The store's offset is not ours (409) or it discarded the chunk (460): ask it where it is."""


class BundleKnownToStore(Exception):
    """The store refused to start a second upload of a bundle it already holds; ``lookup`` says what it has."""

    def __init__(self, lookup: BundleLookup) -> None:
        super().__init__(lookup.state)
        self.lookup = lookup


class NeedsAuthentication(Exception):
    """The store answered 401: a (new) bearer token is needed."""


class RetryLater(RetryableTransportError):
    """A temporary failure; ``retry_after`` is the store's Retry-After in seconds, if it gave one.

    ``store_fault``: the store was reached but failed (a 500/502/504 without Retry-After, or it closed the
    connection without answering). A network outage can last hours and is worth waiting for; a store that
    fails on every request is broken, and the uploader gives up on it within minutes (RetryPolicy).
    """

    def __init__(self, message: str, retry_after: float | None = None, *, store_fault: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.store_fault = store_fault


class UploadTransport(Protocol):
    """One protocol's requests. Every method raises UploadGone, OffsetConflict, NeedsAuthentication,
    RetryLater, RejectedByStore or UploadCancelled; anything else is a bug."""

    def discover(self) -> StoreCapabilities: ...

    def create(
        self, size: int, metadata: dict[str, str], first: FirstChunk | None = None
    ) -> tuple[str, int]:
        """Start a new upload of ``size`` bytes; return its URL and the store's offset (0, or what ``first``
        carried when the store offers creation-with-upload). Raises BundleKnownToStore when the store already
        holds (or is receiving) this bundle id and refuses a second upload."""
        ...

    def lookup_bundle(self, bundle_id: str) -> BundleLookup:
        """What the store knows of ``bundle_id``; state "unknown" when it knows nothing or cannot say."""
        ...

    def offset(self, upload_url: str, expected_size: int | None) -> int:
        """How many bytes of the upload the store holds (UploadGone if its length is not ``expected_size``)."""
        ...

    def send(self, upload_url: str, source: BinaryIO, offset: int, length: int, options: SendOptions) -> int:
        """Send ``length`` bytes of ``source`` starting at ``offset``; return the store's new offset."""
        ...

    def terminate(self, upload_url: str) -> None: ...

    def fetch_receipt(self, upload_url: str) -> ReceiptAnswer: ...

    def close(self) -> None: ...


def raise_if_cancelled(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise UploadCancelled(
            "Upload paused. Nothing is lost: run the same command again (on this or another PC with the "
            "bundle and its .upload-journal file) to continue."
        )
