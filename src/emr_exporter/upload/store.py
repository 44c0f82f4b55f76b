"""The reference store: a tus 1.0 server (core, creation, checksum with sha256/sha1, termination, expiration)
that verifies each completed bundle and answers a receipt signed with the store key.

It is for tests, local trials and as a model of what the national side must do; it is not hardened for the
internet. Standard library HTTP server, one thread per connection, state in files under ``DIR``::

    DIR/uploads/<id>.bin     the bytes received so far
    DIR/uploads/<id>.json    length, metadata, state, expiry, receipt or rejection reason
    DIR/opened/<bundle id>/  what open_bundle() decrypted (store side only)

Not part of tus (our protocol on top of it, docs/upload.md):

* ``GET <upload-url>/receipt`` answers 202 (+Retry-After) while the bundle is being checked, 200 with the
  signed receipt when accepted, 422 with ``{"error": {"message": ...}}`` when rejected.
* ``GET <base>/bundles/<bundle id>`` says what the store holds of a bundle id: 200 with
  ``{"bundle_id", "state": receiving|verifying|accepted|rejected, "upload_url", "length", "sha256", "offset",
  "receipt" (accepted), "reason" (rejected)}``, 404 when it knows nothing.
* A creation POST for a bundle id the store has accepted (or is receiving/verifying with the same length and
  SHA-256) is refused with 409 and ``Upload-Bundle-State: <state>``; the body is the lookup answer. The store
  keeps every receipt in ``DIR/receipts/`` so it never accepts one bundle id twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from emr_exporter.errors import EmrExporterError
from emr_exporter.model import KST
from emr_exporter.upload.receipt import PrivateKey, public_key_sha256, sign_receipt
from emr_exporter.upload.tus import BUNDLE_STATE_HEADER, TUS_VERSION, decode_metadata

#: verify(bundle_path, metadata) -> extra receipt fields (institution, counts...); raises to reject.
BundleVerifier = Callable[[Path, dict[str, str]], dict[str, Any]]
#: fault(handler, method, upload_id) -> True if it has answered the request itself (tests only).
FaultHook = Callable[["_TusHandler", str, str | None], bool]

SUPPORTED_CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}
_BLOCK = 64 * 1024
_BODY_BLOCK = 1 << 20  # PATCH bodies are read in 1 MiB blocks: fewer Python round trips per chunk


class StoreRejection(Exception):
    """A completed upload is not acceptable; the message is shown to the sender."""


def _http_date(timestamp: float) -> str:
    # RFC 7231 IMF-fixdate. Not strftime("%a, %d %b"): that follows the process locale (Qt sets it from the
    # desktop), and under ko_KR.UTF-8 it wrote "화, 01 12월 2026", which no HTTP header may carry.
    return formatdate(timestamp, usegmt=True)


class ReferenceStore:
    """State and rules of the store; :meth:`serve` puts it on a socket."""

    def __init__(
        self,
        data_dir: Path,
        signing_key: PrivateKey,
        *,
        verifier: BundleVerifier | None = None,
        checksum_algorithms: tuple[str, ...] = ("sha256", "sha1"),
        expiry_seconds: float = 7 * 24 * 3600.0,
        max_size: int | None = None,
        token: str | None = None,
        base_path: str = "/files/",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.uploads_dir = self.data_dir / "uploads"
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.receipts_dir = self.data_dir / "receipts"
        self.receipts_dir.mkdir(parents=True, exist_ok=True)
        self.signing_key = signing_key
        self.verifier = verifier
        self.checksum_algorithms = tuple(a for a in checksum_algorithms if a in SUPPORTED_CHECKSUMS)
        self.expiry_seconds = expiry_seconds
        self.max_size = max_size
        self.token = token
        self.base_path = base_path if base_path.endswith("/") else base_path + "/"
        self.clock = clock
        self.fault_hook: FaultHook | None = None
        #: Retry-After (whole seconds) of the 202 "still checking" answer to a receipt query.
        self.verifying_retry_after = 1
        #: Every PATCH body byte read off the wire, kept or not (tests measure re-sent bytes with it).
        self.bytes_received = 0
        self.requests: list[tuple[str, str]] = []
        self._state_lock = threading.Lock()
        self._upload_locks: dict[str, threading.Lock] = {}
        #: upload id -> offset before the verified chunk now being appended (HEAD must not see half a chunk).
        self._appending: dict[str, int] = {}
        #: Serialises acceptances, so one bundle id never gets two receipts.
        self._accept_lock = threading.Lock()

    # -- persistence ------------------------------------------------------------------------------------

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        return self.uploads_dir / f"{upload_id}.bin", self.uploads_dir / f"{upload_id}.json"

    def load(self, upload_id: str) -> dict[str, Any] | None:
        if not upload_id.isalnum():
            return None
        _, info_path = self._paths(upload_id)
        try:
            info: dict[str, Any] = json.loads(info_path.read_text("utf-8"))
            return info
        except (OSError, ValueError):
            return None

    def save(self, upload_id: str, info: dict[str, Any]) -> None:
        _, info_path = self._paths(upload_id)
        tmp = info_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, ensure_ascii=False), "utf-8")
        os.replace(tmp, info_path)

    def data_path(self, upload_id: str) -> Path:
        return self._paths(upload_id)[0]

    def lock_for(self, upload_id: str) -> threading.Lock:
        with self._state_lock:
            return self._upload_locks.setdefault(upload_id, threading.Lock())

    def _pending_path(self, upload_id: str) -> Path:
        return self.uploads_dir / f"{upload_id}.pending"

    def begin_chunk(self, upload_id: str, offset: int) -> None:
        """A checksummed chunk is about to be written in place after ``offset``: until it is verified and
        durable, HEAD answers ``offset``; the marker file says where to cut if the store dies meanwhile."""
        self._appending[upload_id] = offset
        self._pending_path(upload_id).write_text(str(offset), "ascii")

    def end_chunk(self, upload_id: str) -> None:
        self._pending_path(upload_id).unlink(missing_ok=True)  # marker first: see offset_of
        del self._appending[upload_id]

    def offset_of(self, upload_id: str) -> int:
        # While a checksummed chunk is being written, the offset stays where it was until it is verified and
        # durable.
        appending = self._appending.get(upload_id)
        if appending is not None:
            return appending
        path = self.data_path(upload_id)
        pending = self._pending_path(upload_id)
        if pending.exists() and upload_id not in self._appending:
            # Left by a store that died mid-chunk: those bytes were never verified, cut them off.
            try:
                with open(path, "r+b") as out:
                    out.truncate(int(pending.read_text("ascii")))
                pending.unlink(missing_ok=True)
            except (OSError, ValueError):
                pass
        return path.stat().st_size if path.exists() else 0

    def expire_if_due(self, upload_id: str, info: dict[str, Any]) -> dict[str, Any]:
        if info["state"] == "receiving" and self.clock() > info["expires_at"]:
            self.data_path(upload_id).unlink(missing_ok=True)
            info["state"] = "expired"
            self.save(upload_id, info)
        return info

    def expire_now(self, upload_id: str) -> None:
        """Test/admin helper: make an unfinished upload expire immediately."""
        info = self.load(upload_id)
        if info is not None:
            info["expires_at"] = 0
            self.expire_if_due(upload_id, info)

    # -- bundles by id -----------------------------------------------------------------------------------

    def _accepted_path(self, bundle_id: str) -> Path:
        # Hashed: a bundle id is sender-chosen text and must not become a path.
        return self.receipts_dir / (hashlib.sha256(bundle_id.encode("utf-8")).hexdigest() + ".json")

    def accepted(self, bundle_id: str) -> dict[str, Any] | None:
        """``{"bundle_id", "upload_id", "receipt"}`` if this bundle id was accepted, else None."""
        try:
            record = json.loads(self._accepted_path(bundle_id).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("bundle_id") == bundle_id else None

    def lookup(self, bundle_id: str) -> dict[str, Any] | None:
        """What the store holds of ``bundle_id`` (the ``/bundles/<id>`` answer), or None.

        Accepted wins; else an upload being verified; else the newest unfinished one; else the newest rejection.
        """
        record = self.accepted(bundle_id)
        if record is not None:
            upload_id = str(record["upload_id"])
            receipt = record["receipt"]["receipt"]
            return {"bundle_id": bundle_id, "state": "accepted", "upload_url": self.base_path + upload_id,
                    "length": receipt.get("size"), "sha256": receipt.get("sha256"), "offset": receipt.get("size"),
                    "receipt": record["receipt"]}
        rank = {"verifying": 3, "receiving": 2, "rejected": 1}
        best: tuple[int, float, str, dict[str, Any]] | None = None
        for info_path in self.uploads_dir.glob("*.json"):
            upload_id = info_path.stem
            info = self.load(upload_id)
            if info is None or info.get("metadata", {}).get("bundle_id") != bundle_id:
                continue
            info = self.expire_if_due(upload_id, info)
            if info["state"] not in rank:
                continue
            key = (rank[info["state"]], float(info.get("created_at", 0)), upload_id, info)
            if best is None or key[:2] > best[:2]:
                best = key
        if best is None:
            return None
        _, _, upload_id, info = best
        answer: dict[str, Any] = {
            "bundle_id": bundle_id, "state": info["state"], "upload_url": self.base_path + upload_id,
            "length": info["length"], "sha256": info["metadata"].get("sha256", "").lower(),
            "offset": self.offset_of(upload_id),
        }
        if info["state"] == "rejected":
            answer["reason"] = info.get("reason", "")
        return answer

    # -- completion ---------------------------------------------------------------------------------------

    def complete(self, upload_id: str) -> None:
        """All bytes are in: check the bundle in the background, then sign a receipt or record why not."""
        info = self.load(upload_id)
        assert info is not None
        info["state"] = "verifying"
        self.save(upload_id, info)
        threading.Thread(target=self._verify, args=(upload_id,), name=f"verify-{upload_id}", daemon=True).start()

    def _verify(self, upload_id: str) -> None:
        info = self.load(upload_id)
        assert info is not None
        path = self.data_path(upload_id)
        metadata: dict[str, str] = info["metadata"]
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            if digest.hexdigest() != metadata.get("sha256", "").lower():
                raise StoreRejection("the file's SHA-256 does not match the one announced when the upload began")
            extra = self.verifier(path, metadata) if self.verifier is not None else {}
        except (StoreRejection, EmrExporterError) as exc:
            info["state"], info["reason"] = "rejected", str(exc)
            self.save(upload_id, info)
            return
        except Exception as exc:  # a store must answer something; keep the reason generic
            info["state"], info["reason"] = "rejected", f"the store could not check the bundle ({type(exc).__name__})"
            self.save(upload_id, info)
            return
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        receipt: dict[str, Any] = {
            "receipt_number": f"R-{now.astimezone(KST):%Y%m%d}-{secrets.token_hex(5).upper()}",  # the day in Korea
            "bundle_id": metadata.get("bundle_id", ""),
            "institution": metadata.get("institution", ""),
            "filename": metadata.get("filename", ""),
            "sha256": digest.hexdigest(),
            "size": path.stat().st_size,
            "received_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "store_key_sha256": public_key_sha256(self.signing_key.public_key()),
        }
        receipt.update({k: v for k, v in extra.items() if k not in receipt})
        bundle_id = receipt["bundle_id"]
        with self._accept_lock:
            earlier = self.accepted(bundle_id)
            if earlier is not None:
                # Two uploads of one bundle finished (e.g. from two PCs): one receipt, never two.
                if earlier["receipt"]["receipt"].get("sha256") == receipt["sha256"]:
                    info["state"], info["receipt"] = "accepted", earlier["receipt"]
                else:
                    info["state"] = "rejected"
                    info["reason"] = "a different file with this bundle id was already accepted"
                self.save(upload_id, info)
                return
            info["state"], info["receipt"] = "accepted", sign_receipt(receipt, self.signing_key)
            record = {"bundle_id": bundle_id, "upload_id": upload_id, "receipt": info["receipt"]}
            target = self._accepted_path(bundle_id)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
            os.replace(tmp, target)
            self.save(upload_id, info)

    # -- serving -----------------------------------------------------------------------------------------

    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, tls_context: ssl.SSLContext | None = None
    ) -> StoreServer:
        server = StoreServer((host, port), _TusHandler, self)
        if tls_context is not None:
            server.socket = tls_context.wrap_socket(server.socket, server_side=True)
        server.scheme = "https" if tls_context is not None else "http"
        return server


class StoreServer(ThreadingHTTPServer):
    daemon_threads = True
    scheme = "http"

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], store: ReferenceStore):
        self.store = store
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}{self.store.base_path}"

    def start(self) -> StoreServer:
        threading.Thread(target=self.serve_forever, name="reference-store", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _TusHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StoreServer
    #: Seconds a connection may sit idle or stalled mid-body before the store drops it.
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and trials read the results
        pass

    @property
    def store(self) -> ReferenceStore:
        return self.server.store

    # -- small helpers -----------------------------------------------------------------------------------

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Tus-Resumable", TUS_VERSION)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def answer_json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self.answer(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)

    def answer_error(self, status: int, message: str) -> None:
        self.answer_json(status, {"error": {"message": message}})

    def _upload_id(self) -> tuple[str | None, str]:
        """(upload id, rest) for a path under the base path."""
        path = urlsplit(self.path).path
        if not path.startswith(self.store.base_path):
            return None, ""
        upload_id, _, rest = path[len(self.store.base_path) :].partition("/")
        return (upload_id or None), rest

    def _preamble(self, method: str) -> tuple[str | None, str] | None:
        """Common checks; returns (upload id, rest) or None if an answer was already sent."""
        upload_id, rest = self._upload_id()
        self.store.requests.append((method, upload_id or ""))
        hook = self.store.fault_hook
        if hook is not None and hook(self, method, upload_id):
            return None
        if method != "OPTIONS" and self.store.token is not None:
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.store.token}".encode()):
                self.answer_error(401, "a valid bearer token is required")
                return None
        if method not in ("OPTIONS", "GET") and self.headers.get("Tus-Resumable") != TUS_VERSION:
            self.answer(412, {"Tus-Version": TUS_VERSION})
            return None
        return upload_id, rest

    def _known(self, upload_id: str | None) -> dict[str, Any] | None:
        info = self.store.load(upload_id) if upload_id else None
        if info is None:
            self.answer(404)
            return None
        assert upload_id is not None
        info = self.store.expire_if_due(upload_id, info)
        if info["state"] in ("expired", "terminated"):
            self.answer(410)
            return None
        return info

    def _existing_upload(self, method: str) -> tuple[str, dict[str, Any]] | None:
        """The preamble plus the lookup of an existing, live upload; None if an answer was already sent."""
        context = self._preamble(method)
        if context is None:
            return None
        upload_id = context[0]
        info = self._known(upload_id)
        if info is None or upload_id is None:
            return None
        return upload_id, info

    def _discard_body(self) -> None:
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            block = self.rfile.read(min(_BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)

    # -- tus ----------------------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        if self._preamble("OPTIONS") is None:
            return
        extensions = "creation,expiration,termination" + (",checksum" if self.store.checksum_algorithms else "")
        headers = {"Tus-Version": TUS_VERSION, "Tus-Extension": extensions}
        if self.store.checksum_algorithms:
            headers["Tus-Checksum-Algorithm"] = ",".join(self.store.checksum_algorithms)
        if self.store.max_size is not None:
            headers["Tus-Max-Size"] = str(self.store.max_size)
        self.answer(204, headers)

    def do_POST(self) -> None:
        context = self._preamble("POST")
        if context is None:
            return
        self._discard_body()  # no creation-with-upload
        if context[0] is not None:
            self.answer(405)
            return
        length_header = self.headers.get("Upload-Length", "")
        if not length_header.isdigit():
            self.answer_error(400, "Upload-Length is required")
            return
        length = int(length_header)
        if self.store.max_size is not None and length > self.store.max_size:
            self.answer(413)
            return
        try:
            metadata = decode_metadata(self.headers.get("Upload-Metadata", ""))
        except ValueError:
            self.answer_error(400, "Upload-Metadata is not valid")
            return
        if not metadata.get("bundle_id") or len(metadata.get("sha256", "")) != 64:
            self.answer_error(400, "Upload-Metadata must carry bundle_id and sha256")
            return
        known = self.store.lookup(metadata["bundle_id"])
        if known is not None and (
            known["state"] == "accepted"
            or (known["state"] in ("receiving", "verifying") and known["length"] == length
                and known["sha256"] == metadata["sha256"].lower())
        ):
            # Never a second upload of a bundle the store holds: say where it is (our protocol, not tus).
            self.answer_json(409, known, {BUNDLE_STATE_HEADER: known["state"]})
            return
        upload_id = secrets.token_hex(16)
        now = self.store.clock()
        expires_at = now + self.store.expiry_seconds
        info = {"length": length, "metadata": metadata, "state": "receiving", "created_at": now,
                "expires_at": expires_at}
        self.store.data_path(upload_id).touch()
        self.store.save(upload_id, info)
        if length == 0:
            self.store.complete(upload_id)
        self.answer(201, {"Location": self.store.base_path + upload_id,
                          "Upload-Expires": _http_date(expires_at)})

    def do_HEAD(self) -> None:
        found = self._existing_upload("HEAD")
        if found is None:
            return
        upload_id, info = found
        headers = {"Upload-Offset": str(self.store.offset_of(upload_id)), "Upload-Length": str(info["length"]),
                   "Cache-Control": "no-store"}
        if info["state"] == "receiving":
            headers["Upload-Expires"] = _http_date(info["expires_at"])
        self.answer(200, headers)

    def do_PATCH(self) -> None:
        found = self._existing_upload("PATCH")
        if found is None:
            return
        upload_id, info = found
        if self.headers.get("Content-Type") != "application/offset+octet-stream":
            self.answer(415)
            return
        length_header = self.headers.get("Content-Length", "")
        offset_header = self.headers.get("Upload-Offset", "")
        if not length_header.isdigit() or not offset_header.isdigit():
            self.answer_error(400, "Content-Length and Upload-Offset are required")
            return
        lock = self.store.lock_for(upload_id)
        # A resumed client often arrives while the handler of its broken connection is still letting go: wait a
        # moment rather than refuse. If it stays busy, answer 423 at once and close, instead of reading a body
        # that will be thrown away.
        if not lock.acquire(timeout=2):
            self.close_connection = True
            self.answer(423, {"Retry-After": "1", "Connection": "close"})
            return
        try:
            self._patch(upload_id, info, int(offset_header), int(length_header))
        finally:
            lock.release()

    def _patch(self, upload_id: str, info: dict[str, Any], offset: int, body_length: int) -> None:
        store = self.store
        current = store.offset_of(upload_id)
        if info["state"] != "receiving" or offset != current:
            self._discard_body()
            self.answer(409, {"Upload-Offset": str(current)})
            return
        if offset + body_length > info["length"]:
            self._discard_body()
            self.answer_error(400, "the body goes past Upload-Length")
            return
        checksum_header = self.headers.get("Upload-Checksum")
        hasher = None
        expected = b""
        if checksum_header:
            algorithm, _, encoded = checksum_header.partition(" ")
            if algorithm.lower() not in store.checksum_algorithms:
                self._discard_body()
                self.answer_error(400, f"checksum algorithm {algorithm!r} is not supported")
                return
            hasher = SUPPORTED_CHECKSUMS[algorithm.lower()]()
            try:
                expected = base64.b64decode(encoded, validate=True)
            except ValueError:
                expected = b""
        data_path = store.data_path(upload_id)
        # With a checksum, a chunk only counts once it is verified. It is written in place, after the bytes
        # already there, while HEAD keeps answering the old offset (``_appending``) and a marker file
        # remembers that offset in case the store dies mid-chunk; a bad or broken-off chunk is cut off again.
        # (It used to go to a side file, fsynced, then copied over and fsynced again: every byte written twice.)
        # Without a checksum, a broken-off PATCH keeps what arrived (tus SHOULD).
        complete_body = True
        if hasher is not None:
            store.begin_chunk(upload_id, current)
        try:
            with open(data_path, "r+b") as out:
                out.seek(current)
                remaining = body_length
                while remaining > 0:
                    try:
                        block = self.rfile.read(min(_BODY_BLOCK, remaining))
                    except OSError:
                        block = b""
                    if not block:
                        complete_body = False
                        break
                    store.bytes_received += len(block)
                    out.write(block)
                    if hasher is not None:
                        hasher.update(block)
                    remaining -= len(block)
                verified = hasher is None or (complete_body and hmac.compare_digest(hasher.digest(), expected))
                if not verified:
                    out.truncate(current)  # an unverified chunk never counts, not even in part
                out.flush()
                os.fsync(out.fileno())
        finally:
            if hasher is not None:
                store.end_chunk(upload_id)
        if not complete_body:
            self.close_connection = True
            return
        if not verified:
            self.answer(460, {"Upload-Offset": str(current)})
            return
        new_offset = store.offset_of(upload_id)
        headers = {"Upload-Offset": str(new_offset)}
        if new_offset == info["length"]:
            store.complete(upload_id)
        else:
            headers["Upload-Expires"] = _http_date(info["expires_at"])
        self.answer(204, headers)

    def do_DELETE(self) -> None:
        found = self._existing_upload("DELETE")
        if found is None:
            return
        upload_id, info = found
        if info["state"] != "receiving":
            self.answer_error(403, "a completed upload cannot be deleted")
            return
        with self.store.lock_for(upload_id):
            self.store.data_path(upload_id).unlink(missing_ok=True)
            info["state"] = "terminated"
            self.store.save(upload_id, info)
        self.answer(204)

    def do_GET(self) -> None:
        context = self._preamble("GET")
        if context is None:
            return
        upload_id, rest = context
        if upload_id == "bundles" and rest:
            known = self.store.lookup(unquote(rest))
            if known is None:
                self.answer_error(404, "the store holds no upload of this bundle")
            else:
                self.answer_json(200, known)
            return
        if rest != "receipt":
            self.answer(405)
            return
        info = self._known(upload_id)
        if info is None:
            return
        state = info["state"]
        if state == "receiving":
            self.answer_error(409, "the upload is not complete yet")
        elif state == "verifying":
            self.answer_json(202, {"state": "verifying"}, {"Retry-After": str(self.store.verifying_retry_after)})
        elif state == "rejected":
            self.answer_json(422, {"error": {"code": "rejected", "message": info.get("reason", "")}})
        else:
            self.answer_json(200, info["receipt"])


def tls_context_for(cert_path: Path, key_path: Path, password: bytes | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_path), str(key_path), password=password)
    return context


def bundle_reader_verifier(store_key: Any, opened_dir: Path, trust_anchors: Any = None) -> BundleVerifier:
    """Verify with the bundle package (signatures, parts, trailer), then open it with the store key, which
    fails for a bundle addressed to another store; also checks the announced bundle id."""

    def verify(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
        from emr_exporter.bundle.reader import open_bundle, verify_bundle

        report = verify_bundle(path, trust_anchors=trust_anchors)
        if str(report.bundle_id) != metadata.get("bundle_id"):
            raise StoreRejection("the bundle id inside the file is not the one announced when the upload began")
        opened_dir.mkdir(parents=True, exist_ok=True)
        open_bundle(path, store_key, opened_dir, trust_anchors=trust_anchors)
        extra: dict[str, Any] = {"institution": report.institution_code, "institution_name": report.institution_name}
        if report.counts:
            extra["counts"] = report.counts
        return extra

    return verify
