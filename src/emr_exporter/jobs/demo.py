"""The demo jobs: ``emr-export demo`` (the whole pipeline on the synthetic clinic), the wizard's demo clinic
(database and demo keys made once in the app folder) and its practice store on this PC."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from emr_exporter.demo import (
    APP_DEMO_FOLDER,
    DEMO_ATTACHMENTS,
    DEMO_DB_NAME,
    DEMO_P12_PASSWORD,
    INSTITUTION_P12,
    KEYS_FOLDER,
    STORE_CERT,
    STORE_KEY,
)
from emr_exporter.demo.material import DemoMaterial, prepare_demo_material
from emr_exporter.jobs.service import DemoRequest, prepare_demo, run_demo

if TYPE_CHECKING:
    from emr_exporter.upload.store import StoreServer


def demo_store_certificate(folder: Path) -> Path | None:
    """The demo store's encryption certificate in a demo folder, if the demo keys were made there."""
    cert = Path(folder) / KEYS_FOLDER / STORE_CERT
    return cert if cert.is_file() else None


def start_demo_store(folder: Path) -> StoreServer:
    """A reference store on 127.0.0.1 holding the demo store key of ``folder`` (already serving).

    So that a new user can walk the demo through the upload and get a real signed receipt. It verifies and
    opens what it receives, like the national store; the caller stops it (``stop()``).
    """
    from emr_exporter.bundle.keys import load_store_private_key
    from emr_exporter.upload.store import ReferenceStore, bundle_reader_verifier

    folder = Path(folder)
    key = load_store_private_key(folder / KEYS_FOLDER / STORE_KEY)
    verifier = bundle_reader_verifier(key, folder / "demo-store-opened")
    store = ReferenceStore(folder / "demo-store", key, verifier=verifier)
    return store.serve("127.0.0.1", 0).start()


__all__ = [
    "APP_DEMO_FOLDER",
    "DEMO_ATTACHMENTS",
    "DEMO_DB_NAME",
    "DEMO_P12_PASSWORD",
    "INSTITUTION_P12",
    "KEYS_FOLDER",
    "DemoMaterial",
    "DemoRequest",
    "demo_store_certificate",
    "prepare_demo",
    "prepare_demo_material",
    "run_demo",
    "start_demo_store",
]
