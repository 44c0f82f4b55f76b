"""A pytest plugin for third-party connector packages: test a connector the way ``connector check`` does.

In the package's ``conftest.py``::

    pytest_plugins = ["emr_exporter.authoring.pytest_plugin"]

    def test_my_connector_is_finished(connector_check, tmp_path):
        database = build_my_test_clinic(tmp_path)          # the package's own synthetic database
        report = connector_check(Path(__file__).parent / "my_emr", database=database,
                                 allowed_reasons={"orphan", "invalid-date"})
        assert report.reconciliation["totals"]["exported"] > 0

``connector_check(folder, *, allowed_reasons=None, database=… | odbc=… | dsn=…, password=…)`` runs the
check and fails the test with the whole report when the connector does not reconcile, leaves a table
unmapped (neither read nor under ``[skip]``), writes invalid FHIR, or quarantines for another reason than
``allowed_reasons``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emr_exporter.authoring.check import CheckReport, assert_connector_finished


@pytest.fixture
def connector_check() -> Callable[..., CheckReport]:
    return assert_connector_finished


__all__ = ["connector_check"]
