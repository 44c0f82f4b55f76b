"""Fixtures for the upload tests: a store key, the reference store on 127.0.0.1, random files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from emr_exporter.upload.store import ReferenceStore, StoreServer


@pytest.fixture(scope="session")
def store_signing_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def store_public_pem(tmp_path_factory: pytest.TempPathFactory, store_signing_key: ed25519.Ed25519PrivateKey) -> Path:
    path = tmp_path_factory.mktemp("storekey") / "store-public.pem"
    path.write_bytes(
        store_signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.fixture
def store(tmp_path: Path, store_signing_key: ed25519.Ed25519PrivateKey) -> ReferenceStore:
    return ReferenceStore(tmp_path / "store", store_signing_key)


@pytest.fixture
def server(store: ReferenceStore) -> Iterator[StoreServer]:
    running = store.serve("127.0.0.1", 0).start()
    yield running
    running.stop()
