"""tus 1.0 client transport on one ``requests.Session``: core + creation + expiration, and only what the store's
OPTIONS answer offers of termination, creation-with-upload and checksum (sha256, else sha1, else md5).

Any tus 1.0 store: 201 or 200 on creation, 204 or 200 on PATCH, and the store's ``Upload-Offset`` (or its HEAD
answer) as the only truth about how many bytes it holds. The receipt and the bundle lookup are this project's
extensions (docs/upload.md); a plain tus server answers them 404, which means "not offered".

Each method is one request. Bodies are streamed from the file in small blocks (memory stays flat whatever the
chunk size), which is also where progress, cancel and the bandwidth cap act. Retrying is the Uploader's job.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO
from urllib.parse import quote, urljoin

import requests

from emr_exporter.errors import ConfigError, RejectedByStore
from emr_exporter.upload.policy import check_store_url, same_origin
from emr_exporter.upload.transport import (
    BundleKnownToStore,
    BundleLookup,
    FirstChunk,
    NeedsAuthentication,
    OffsetConflict,
    ReceiptAnswer,
    RetryLater,
    SendOptions,
    StoreCapabilities,
    UploadGone,
    raise_if_cancelled,
)

TUS_VERSION = "1.0.0"
#: Our header on top of tus: a creation POST refused because the store already holds this bundle id.
BUNDLE_STATE_HEADER = "Upload-Bundle-State"
BUNDLE_STATES = ("receiving", "verifying", "accepted", "rejected")
RETRYABLE_STATUSES = frozenset({408, 423, 425, 429, 500, 502, 503, 504})
#: Retryable answers that mean the store itself is failing (unless it sends Retry-After).
STORE_FAULT_STATUSES = frozenset({500, 502, 504})


def _answered_nothing(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was made and then closed before any answer (a store crashing on the request),
    as opposed to a connection that could not be made at all (network, DNS, store down)."""
    from http.client import RemoteDisconnected

    from urllib3.exceptions import ProtocolError

    reason = exc.args[0] if exc.args else None
    return isinstance(reason, ProtocolError) and any(isinstance(a, RemoteDisconnected) for a in reason.args)


def encode_metadata(metadata: dict[str, str]) -> str:
    """``Upload-Metadata``: ``key base64(value)`` pairs separated by commas."""
    for key in metadata:
        if not key or " " in key or "," in key:
            raise ValueError(f"invalid tus metadata key {key!r}")
    return ",".join(f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}" for k, v in metadata.items())


def decode_metadata(header: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        result[key] = base64.b64decode(value).decode("utf-8") if value else ""
    return result


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _FileSliceBody:
    """A request body that streams ``length`` bytes of a file from ``offset`` in small blocks.

    Having ``__len__`` makes requests send Content-Length instead of chunked encoding (which many tus servers
    refuse). Between blocks it reports progress, honours cancel and paces itself to the bandwidth cap.
    """

    def __init__(self, source: BinaryIO, offset: int, length: int, options: SendOptions) -> None:
        self._source = source
        self._offset = offset
        self._length = length
        self._options = options
        self.sent = 0

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        options = self._options
        rate = options.rate_limit_bytes_per_second
        started = time.monotonic()
        self._source.seek(self._offset)
        while self.sent < self._length:
            raise_if_cancelled(options.cancel)
            block = self._source.read(min(options.block_size, self._length - self.sent))
            if not block:
                raise ConfigError("The bundle file got shorter while it was being uploaded. Do not edit it.")
            yield block
            self.sent += len(block)
            if options.on_progress is not None:
                options.on_progress(self._offset + self.sent)
            if rate:
                ahead = self.sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    options.cancel.wait(ahead)


def _checksum_of(source: BinaryIO, offset: int, length: int, algorithm: str = "sha256",
                 cancel_block: int = 1 << 20) -> str:
    digest = hashlib.new(algorithm)
    source.seek(offset)
    remaining = length
    while remaining:
        block = source.read(min(cancel_block, remaining))
        if not block:
            raise ConfigError("The bundle file got shorter while it was being uploaded. Do not edit it.")
        digest.update(block)
        remaining -= len(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def _short_body(response: requests.Response) -> str:
    """The store's explanation, if any, trimmed for a one-line message."""
    text = ""
    try:
        data = response.json()
        if isinstance(data, dict):
            err = data.get("error")
            text = str(err.get("message") if isinstance(err, dict) else err or data.get("message") or "")
    except ValueError:
        text = response.text or ""
    text = " ".join(text.split())
    return text[:300]


class TusTransport:
    """tus 1.0 requests against one store endpoint (the creation URL, e.g. ``https://store/files/``)."""

    def __init__(
        self,
        endpoint: str,
        *,
        verify: bool | str = True,
        token: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        session: requests.Session | None = None,
    ) -> None:
        self.endpoint = check_store_url(endpoint)
        self.session = session or requests.Session()
        # Passed on every request: a Session-level verify is silently replaced by REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE from the environment, which would undo the pin.
        self.verify = verify
        self.session.headers["Tus-Resumable"] = TUS_VERSION
        self.session.headers["User-Agent"] = "emr-exporter-uploader"
        self.timeout = (connect_timeout, read_timeout)
        self.capabilities = StoreCapabilities()
        self.set_token(token)

    def set_token(self, token: str | None) -> None:
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        else:
            self.session.headers.pop("Authorization", None)

    def close(self) -> None:
        self.session.close()

    # -- one request, classified -------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, verify=self.verify, **kwargs
            )
        except requests.exceptions.SSLError as exc:
            raise RejectedByStore(
                "The store's certificate could not be verified, so nothing was sent. Check the store address "
                "and that the store certificate (--store-cert or resources/store/) is the right one."
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise RetryLater("The store did not answer in time.") from exc
        except requests.exceptions.ConnectionError as exc:
            # A body-less request that the store reads and then hangs up on is a store failing on it; a cut
            # in the middle of a PATCH body looks the same from here but is usually the network.
            if method != "PATCH" and _answered_nothing(exc):
                raise RetryLater(
                    "The store accepted the connection but closed it without answering.", store_fault=True
                ) from exc
            raise RetryLater("The connection to the store failed.") from exc

    def _classify(self, response: requests.Response, what: str) -> None:
        """Raise the right signal for a non-success answer."""
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            detail = _short_body(response)
            raise RetryLater(
                f"The store answered {status} to {what}{': ' + detail if detail else ''}.",
                retry_after,
                # A busy store (429/503, or any Retry-After) asks us to come back; a 500 is a broken store.
                store_fault=retry_after is None and status in STORE_FAULT_STATUSES,
            )
        if status == 401:
            raise NeedsAuthentication()
        if status in (404, 410):
            raise UploadGone()
        if status in (409, 460):
            raise OffsetConflict()
        if status == 413:
            raise RejectedByStore("The store says the bundle is larger than it accepts (413). Contact the store.")
        detail = _short_body(response)
        raise RejectedByStore(
            f"The store refused {what} ({status}{': ' + detail if detail else ''}). "
            "This is not a network problem; contact the store's help desk with this message."
        )

    # -- the protocol ------------------------------------------------------------------------------------

    def discover(self) -> StoreCapabilities:
        response = self._request("OPTIONS", self.endpoint)
        if response.status_code not in (200, 204):
            self._classify(response, "the capability query (OPTIONS)")
        versions = tuple(v.strip() for v in response.headers.get("Tus-Version", TUS_VERSION).split(","))
        if TUS_VERSION not in versions:
            raise RejectedByStore(
                f"The store speaks tus {', '.join(versions)}, this program speaks {TUS_VERSION}. Update emr-exporter."
            )
        extensions = frozenset(e.strip() for e in response.headers.get("Tus-Extension", "").split(",") if e.strip())
        algorithms = tuple(
            a.strip().lower() for a in response.headers.get("Tus-Checksum-Algorithm", "").split(",") if a.strip()
        )
        max_size_header = response.headers.get("Tus-Max-Size")
        self.capabilities = StoreCapabilities(
            versions=versions,
            extensions=extensions,
            max_size=int(max_size_header) if max_size_header and max_size_header.isdigit() else None,
            checksum_algorithms=algorithms,
        )
        if "creation" not in extensions:
            raise RejectedByStore("The store does not accept new uploads (no tus 'creation'). Contact the store.")
        return self.capabilities

    def create(self, size: int, metadata: dict[str, str], first: FirstChunk | None = None) -> tuple[str, int]:
        """POST a new upload; with ``first`` (only if the store offers creation-with-upload) the body already
        carries the first bytes. Success is 201, or 200 from stores that answer a POST which carried bytes
        (or completed the upload) that way (@uploadx/core)."""
        max_size = self.capabilities.max_size
        if max_size is not None and size > max_size:
            raise RejectedByStore(
                f"The bundle ({size} bytes) is larger than the store accepts ({max_size} bytes). Contact the store."
            )
        headers = {"Upload-Length": str(size), "Upload-Metadata": encode_metadata(metadata)}
        body: _FileSliceBody | None = None
        if first is not None and first.length > 0 and self.capabilities.creation_with_upload:
            headers.update(self._chunk_headers(first.source, 0, first.length))
            body = _FileSliceBody(first.source, 0, first.length, first.options)
        response = self._request("POST", self.endpoint, data=body, headers=headers)
        if response.status_code == 409 and response.headers.get(BUNDLE_STATE_HEADER) in BUNDLE_STATES:
            raise BundleKnownToStore(self._parse_lookup(response))
        if response.status_code not in (200, 201):
            self._classify(response, "the start of the upload (POST)")
        location = response.headers.get("Location")
        if not location:
            raise RejectedByStore("The store started an upload but did not say where (no Location). Contact the store.")
        upload_url = urljoin(self.endpoint, location)
        if not same_origin(upload_url, self.endpoint):
            raise RejectedByStore(
                "The store sent the upload to a different server, which this program does not allow. Contact the store."
            )
        offset_header = response.headers.get("Upload-Offset", "")
        if body is None:
            return upload_url, 0
        # The store's offset is the truth; without one, ask it (HEAD) rather than guess.
        return upload_url, int(offset_header) if offset_header.isdigit() else self.offset(upload_url, size)

    def bundle_lookup_url(self, bundle_id: str) -> str:
        return self.endpoint.rstrip("/") + "/bundles/" + quote(bundle_id, safe="")

    def lookup_bundle(self, bundle_id: str) -> BundleLookup:
        """``GET <endpoint>/bundles/<bundle id>`` (our protocol, not tus): 200 with what the store holds, 404
        when it knows nothing. A store without the lookup (404/405/501) is treated as knowing nothing."""
        response = self._request("GET", self.bundle_lookup_url(bundle_id), headers={"Accept": "application/json"})
        if response.status_code in (404, 405, 501):
            return BundleLookup(state="unknown")
        if response.status_code != 200:
            self._classify(response, "the question whether the store already has this bundle")
        lookup = self._parse_lookup(response)
        return lookup

    def _parse_lookup(self, response: requests.Response) -> BundleLookup:
        """The JSON body of a lookup answer (or of a POST refused with Upload-Bundle-State)."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("state") not in BUNDLE_STATES:
            raise RejectedByStore("The store's answer about this bundle is not readable. Contact the store.")
        upload_url = data.get("upload_url")
        if isinstance(upload_url, str) and upload_url:
            upload_url = urljoin(self.endpoint, upload_url)
            if not same_origin(upload_url, self.endpoint):
                raise RejectedByStore(
                    "The store pointed to an upload on a different server, which this program does not allow. "
                    "Contact the store."
                )
        else:
            upload_url = None

        def number(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        document = data.get("receipt")
        return BundleLookup(
            state=str(data["state"]),
            upload_url=upload_url,
            length=number("length"),
            sha256=str(data["sha256"]).lower() if isinstance(data.get("sha256"), str) else None,
            offset=number("offset"),
            document=document if isinstance(document, dict) else None,
            reason=str(data["reason"]) if data.get("reason") else None,
        )

    def offset(self, upload_url: str, expected_size: int | None) -> int:
        response = self._request("HEAD", upload_url, headers={"Cache-Control": "no-store"})
        if response.status_code in (403, 404, 410):
            raise UploadGone()
        if response.status_code not in (200, 204):
            self._classify(response, "the progress query (HEAD)")
        offset_header = response.headers.get("Upload-Offset", "")
        if not offset_header.isdigit():
            raise RetryLater("The store's progress answer had no Upload-Offset.")
        length_header = response.headers.get("Upload-Length", "")
        if expected_size is not None and length_header.isdigit() and int(length_header) != expected_size:
            raise UploadGone()  # not our file any more: start afresh
        return int(offset_header)

    def _chunk_headers(self, source: BinaryIO, offset: int, length: int) -> dict[str, str]:
        headers = {"Content-Type": "application/offset+octet-stream"}
        algorithm = self.capabilities.checksum_algorithm
        if algorithm is not None:
            headers["Upload-Checksum"] = f"{algorithm} " + _checksum_of(source, offset, length, algorithm)
        return headers

    def send(self, upload_url: str, source: BinaryIO, offset: int, length: int, options: SendOptions) -> int:
        headers = {**self._chunk_headers(source, offset, length), "Upload-Offset": str(offset)}
        body = _FileSliceBody(source, offset, length, options)
        response = self._request("PATCH", upload_url, data=body, headers=headers)
        # 204 is the spec's answer; 200 (often with a JSON body) is what some stores give for the last PATCH.
        if response.status_code not in (200, 204):
            self._classify(response, "a piece of the upload (PATCH)")
        new_offset = response.headers.get("Upload-Offset", "")
        if not new_offset.isdigit():
            # A success without the offset: the store's HEAD says how much it really holds.
            return self.offset(upload_url, None)
        return int(new_offset)

    def terminate(self, upload_url: str) -> None:
        if "termination" not in self.capabilities.extensions:
            return
        response = self._request("DELETE", upload_url)
        if response.status_code not in (204, 404, 410):
            self._classify(response, "cancelling the upload (DELETE)")

    def fetch_receipt(self, upload_url: str) -> ReceiptAnswer:
        """The reference store's receipt endpoint, ``<upload-url>/receipt`` (not part of tus)."""
        response = self._request("GET", upload_url.rstrip("/") + "/receipt", headers={"Accept": "application/json"})
        status = response.status_code
        if status == 200:
            try:
                document = response.json()
            except ValueError as exc:
                raise RejectedByStore("The store's receipt is not readable JSON. Contact the store.") from exc
            return ReceiptAnswer(state="accepted", document=document)
        if status == 202:
            return ReceiptAnswer(state="pending", retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status == 422:
            return ReceiptAnswer(state="rejected", reason=_short_body(response) or "no reason given")
        if status in (404, 405, 501):
            return ReceiptAnswer(state="unsupported")
        self._classify(response, "the receipt request")
        raise AssertionError("unreachable")

