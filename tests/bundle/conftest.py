"""Fixtures for the sealed-bundle tests: a test CA, institution signers and store keys (made here)."""

from __future__ import annotations

import pytest
from bundle_testkit import CA, make_ca, make_signer, make_store

from emr_exporter.bundle.keys import Recipient, Signer


@pytest.fixture(scope="session")
def ca() -> CA:
    return make_ca()


@pytest.fixture(scope="session")
def signer(ca: CA) -> Signer:
    return make_signer(ca, "rsa")


@pytest.fixture(scope="session")
def store(ca: CA) -> tuple[Recipient, object]:
    """(recipient, private key) of an RSA store."""
    return make_store(ca, "rsa")
