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


@pytest.fixture(params=["python", "by-hand"])
def tar_extraction(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bag extracted by tarfile's filters (Python ≥ 3.11.4) and by the reader's own checks, as on a Python
    without them (Debian 12's 3.11.2): the second forced here, the only way to run it on a newer Python."""
    from emr_exporter.bundle import reader

    if request.param == "by-hand":
        monkeypatch.setattr(reader, "_TAR_FILTERS", False)
        monkeypatch.setattr(reader, "_TAR_FILTER_ERROR", ())
    return str(request.param)
