"""The demo connector passes the shared connector conformance checks (tests/connectors/conformance.py);
tests/connectors/test_openemr.py runs the same checks on the OpenEMR connector."""

from __future__ import annotations

from conformance import check_conformance

from emr_exporter.sources.base import SqliteFileSource


def test_demo_connector_conforms(demo_clinic) -> None:
    export = check_conformance(
        "demo", lambda: SqliteFileSource(demo_clinic.path), demo_clinic.attachments_root, page_size=97
    )
    assert export.reconciliation.totals["exported"] > 0
    assert export.reconciliation.totals["quarantined"] > 0  # the demo clinic plants dirty rows
