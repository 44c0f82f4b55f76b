"""The upload jobs: send a sealed bundle to the store (the CLI's ``upload`` and the wizard's Send page alike),
list what was sent (``status``), run the reference store (``store serve``) and make its demo certificates.

There is one upload path, so the founder's wizard and the contractor's command line get the same protections:

* **TLS pinned** to the store's certificate (the request's, else the one shipped in ``resources/store/``);
* the **bearer token** from ``EMR_EXPORTER_STORE_TOKEN`` (or the caller's prompt when the store asks);
* the **bundle identity** from the signed header, and the store asked what it already holds of this bundle
  before a new upload starts (the uploader's lookup): a bundle the store accepted is never sent twice;
* the **whole bundle verified** once, right before a brand-new upload: a damaged file is never sent;
* the store's **receipt verified** against its receipt certificate and saved beside the bundle;
* **any tus 1.0 store**: where the store has no receipt (any plain tus server), the job ends "stored,
  unconfirmed": every byte is on the store by the store's own word (HEAD after the last byte: offset = size),
  each piece checksummed where the store offered it, but nobody signed for it. That outcome has its own exit
  code (:data:`STORED_UNCONFIRMED_EXIT`) and ``status`` line.

Heavy modules (requests, cryptography) load only when a job runs: ``emr-export --help`` stays light.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emr_exporter.errors import ConfigError
from emr_exporter.upload.policy import TOKEN_ENV_VAR

if TYPE_CHECKING:
    from emr_exporter.demo.store_keys import DemoStoreServiceKeys
    from emr_exporter.upload.store import StoreServer
    from emr_exporter.upload.uploader import UploadProgress as UploadProgress
    from emr_exporter.upload.uploader import UploadResult as UploadResult

#: Environment variables the store settings may come from (never the token on a command line: argv is public).
TOKEN_ENV = TOKEN_ENV_VAR
STORE_URL_ENV = "EMR_EXPORTER_STORE_URL"
STORE_CERT_ENV = "EMR_EXPORTER_STORE_CERT"
RECEIPT_CERT_ENV = "EMR_EXPORTER_STORE_RECEIPT_CERT"
STORE_KEY_PASSWORD_ENV = "EMR_EXPORTER_STORE_KEY_PASSWORD"
STORE_SERVE_TOKEN_ENV = "EMR_EXPORTER_STORE_SERVE_TOKEN"

#: None: each request is sized to the measured link (a few seconds, 256 KiB to 32 MiB; uploader.ChunkSizer).
DEFAULT_CHUNK_SIZE: int | None = None
#: Exit code of ``upload`` (and of ``batch`` for such a clinic) for "stored, unconfirmed".
STORED_UNCONFIRMED_EXIT = 4


@dataclass(frozen=True)
class UploadRequest:
    """One bundle to one store. ``None`` certificates fall back to the store certificate shipped in resources."""

    bundle: Path
    store_url: str
    #: The store's TLS certificate (PEM): the only trust anchor of the HTTPS connection (the pin).
    store_cert: Path | None = None
    #: The store's receipt-signing certificate; default: ``store_cert`` (or the shipped one).
    receipt_cert: Path | None = None
    #: The bearer token; ``None``: ``EMR_EXPORTER_STORE_TOKEN`` from the environment.
    token: str | None = None
    chunk_size: int | None = DEFAULT_CHUNK_SIZE
    rate_limit: float | None = None  # bytes per second
    #: The file's SHA-256 and size as the export sealed it (ExportOutcome.bundle_sha256/bundle_bytes): a fresh
    #: upload then announces it without reading the whole file once more (used only if the size matches).
    known_sha256: str | None = None
    known_size: int | None = None


def shipped_store_certificate() -> Path | None:
    """The national store's certificate shipped in ``resources/store/`` (None until one ships)."""
    from emr_exporter.upload.policy import default_store_certificate

    return default_store_certificate()


def store_settings_from_environment() -> tuple[str, Path | None, Path | None]:
    """(store address, TLS certificate, receipt certificate) an IT contractor set for the wizard, if any."""
    cert = os.environ.get(STORE_CERT_ENV, "").strip()
    receipt = os.environ.get(RECEIPT_CERT_ENV, "").strip()
    return (os.environ.get(STORE_URL_ENV, "").strip(), Path(cert) if cert else None,
            Path(receipt) if receipt else None)


def run_upload(
    request: UploadRequest,
    *,
    on_progress: Callable[[UploadProgress], None] | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
    token_prompt: Callable[[], str | None] | None = None,
) -> UploadResult:
    """Send (or continue sending) ``request.bundle``; return the verified receipt. Run again after any failure."""
    from emr_exporter.upload.bundle_identity import read_bundle_identity
    from emr_exporter.upload.policy import check_store_url, resolve_store_certificate, token_from_environment
    from emr_exporter.upload.receipt import load_store_public_keys
    from emr_exporter.upload.tus import TusTransport
    from emr_exporter.upload.uploader import Uploader

    check_store_url(request.store_url)
    bundle = Path(request.bundle)
    if not bundle.is_file():
        raise ConfigError(f"The bundle file {bundle} does not exist.")
    pin = resolve_store_certificate(request.store_cert)
    receipt_source = resolve_store_certificate(request.receipt_cert) if request.receipt_cert is not None else pin
    keys = load_store_public_keys(receipt_source) if receipt_source is not None else None
    identity = read_bundle_identity(bundle)  # the signed header only: a resume needs no full read
    token = request.token or token_from_environment()
    transport = TusTransport(request.store_url, verify=str(pin) if pin is not None else True, token=token)
    # Without a store certificate a receipt cannot be checked: the upload still runs (any tus store), and a
    # store that then offers a receipt stops the job asking for --store-cert (nothing is sent again).
    uploader = Uploader(
        transport, store_url=request.store_url, store_public_keys=keys, require_receipt=keys is not None,
        chunk_size=request.chunk_size,
        rate_limit_bytes_per_second=request.rate_limit, cancel=cancel, on_progress=on_progress,
        on_event=on_event, token_provider=token_prompt,
        check_before_new_upload=lambda: _verify_whole_bundle(bundle, identity.bundle_id),
    )
    try:
        return uploader.upload(
            bundle, bundle_id=identity.bundle_id, institution=identity.institution_code,
            known_sha256=request.known_sha256, known_size=request.known_size,
        )
    finally:
        transport.close()


def _verify_whole_bundle(path: Path, bundle_id: str) -> None:
    """Before the store is asked to start a brand-new upload: a damaged file is never sent."""
    from emr_exporter.bundle.reader import verify_bundle
    from emr_exporter.errors import BundleError

    if verify_bundle(path).bundle_id != bundle_id:
        raise BundleError(f"'{path.name}' changed while it was being prepared for upload. Copy it again.")


def describe_result(name: str, result: UploadResult) -> list[str]:
    """The outcome as sentences for a person (CLI text output, batch summary)."""
    if result.unconfirmed:
        proof = f"the store's own answer after the last byte says it holds all {result.size:,} bytes"
        proof += (f"; every piece went with a {result.checksum} checksum the store verified" if result.checksum
                  else "; the store offers no checksum, so pieces were not checked one by one")
        return [
            f"Stored, unconfirmed: {name} is on the store, but the store gives no receipt.",
            f"What was checked: {proof}. The bundle's SHA-256 ({result.sha256}) was sent with it.",
            "Keep the bundle until the store's operator confirms in writing that they have it.",
        ]
    if result.already_uploaded:
        return [f"{name} was already uploaded. Receipt number: {result.receipt_number}"]
    return [
        f"Uploaded {name}. Receipt number: {result.receipt_number}",
        f"The signed receipt is saved in {result.receipt_path}. Keep it with your records.",
    ]


# --------------------------------------------------------------------------------------------- status

#: Which journal row tells the most about a bundle: a store's final word, then how far bytes got.
_STATE_RANK = {"accepted": 6, "rejected": 5, "stored": 4, "complete": 3, "sending": 2, "new": 1}


def bundle_status_rows(directory: Path) -> list[dict[str, Any]]:
    """One row per bundle in ``directory``: its best-known upload state (over every store its journal names)."""
    from emr_exporter.upload.journal import JOURNAL_SUFFIX, UploadJournal, find_journals

    rows: list[dict[str, Any]] = []
    journaled: set[str] = set()
    for journal_path in find_journals(directory):
        bundle_name = journal_path.name[: -len(JOURNAL_SUFFIX)]
        entries = UploadJournal(journal_path).entries()
        if not entries:
            continue
        journaled.add(bundle_name)
        by_bundle: dict[str, list[Any]] = {}
        for entry in entries:
            by_bundle.setdefault(entry.bundle_id, []).append(entry)
        for bundle_id, attempts in by_bundle.items():
            best = max(attempts, key=lambda e: (_STATE_RANK.get(e.state, 0), e.offset_seen, e.updated_at))
            rows.append({"bundle": bundle_name, "bundle_id": bundle_id, "store": best.store_url,
                         "state": best.state, "bytes_confirmed": best.offset_seen, "size": best.size,
                         "receipt_number": best.receipt_number, "reason": best.reason,
                         "other_stores": sorted({e.store_url for e in attempts} - {best.store_url})})
    for bundle in sorted(directory.glob("*.emrx")):
        if bundle.name not in journaled:
            rows.append({"bundle": bundle.name, "bundle_id": None, "store": None, "state": "not uploaded",
                         "bytes_confirmed": 0, "size": bundle.stat().st_size, "receipt_number": None,
                         "reason": None, "other_stores": []})
    return sorted(rows, key=lambda row: row["bundle"])


# --------------------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class StoreServeRequest:
    """The reference store (tests and local trials): tus uploads, bundle verification, signed receipts."""

    data_dir: Path
    key_path: Path  # the store's encryption private key (opens bundles)
    receipt_key_path: Path | None = None  # default: key_path (trials only)
    host: str = "127.0.0.1"
    port: int = 1080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    expiry_hours: float = 168.0
    key_password: str | None = None  # default: EMR_EXPORTER_STORE_KEY_PASSWORD
    token: str | None = None  # default: EMR_EXPORTER_STORE_SERVE_TOKEN


def open_reference_store(request: StoreServeRequest) -> StoreServer:
    """Bind the reference store (not yet serving: call ``serve_forever()`` or ``start()`` on the result)."""
    from emr_exporter.bundle.keys import load_store_private_key
    from emr_exporter.upload.policy import LOOPBACK_HOSTS
    from emr_exporter.upload.receipt import load_receipt_signing_key
    from emr_exporter.upload.store import ReferenceStore, bundle_reader_verifier, tls_context_for

    if (request.tls_cert is None) != (request.tls_key is None):
        raise ConfigError("Give both --tls-cert and --tls-key to serve HTTPS (or neither for plain HTTP).")
    if request.tls_cert is None and request.host not in LOOPBACK_HOSTS:
        raise ConfigError("Without --tls-cert the store speaks plain HTTP, so it only listens on 127.0.0.1.")
    password = request.key_password or os.environ.get(STORE_KEY_PASSWORD_ENV) or None
    key = load_store_private_key(request.key_path, password)
    receipt_key = load_receipt_signing_key(request.receipt_key_path, password) if request.receipt_key_path else key
    tls = None
    if request.tls_cert is not None and request.tls_key is not None:
        try:
            tls = tls_context_for(request.tls_cert, request.tls_key, password.encode() if password else None)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise ConfigError(
                f"The TLS certificate {request.tls_cert} and key {request.tls_key} cannot be used together "
                f"({exc.__class__.__name__}). Check that the key belongs to the certificate."
            ) from exc
    store = ReferenceStore(
        request.data_dir, receipt_key, verifier=bundle_reader_verifier(key, request.data_dir / "opened"),
        expiry_seconds=request.expiry_hours * 3600,
        token=request.token or os.environ.get(STORE_SERVE_TOKEN_ENV) or None,
    )
    return store.serve(request.host, request.port, tls_context=tls)


def make_demo_store_certificates(out_dir: Path) -> DemoStoreServiceKeys:
    """DEMO-ONLY store certificates: a TLS server pair for 127.0.0.1/localhost and a receipt-signing pair."""
    from emr_exporter.demo.store_keys import make_demo_store_service_keys

    return make_demo_store_service_keys(out_dir)
