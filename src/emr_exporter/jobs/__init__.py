"""The one door: every job a user can run, with typed requests and results (the CLI and the wizard call only
this package, plus ``errors``, ``model`` and ``resources``; tests/test_layering.py enforces it).

One module per job family, so a new job has an obvious room:

=================  ============================================================================
``service``        export (dry run or sealed bundle), demo
``upload``         upload (TLS pin, token, bundle lookup), status, reference store, demo store certificates
``bundles``        verify, open
``report``         the transfer report (이관 보고서)
``documents``      readiness (the 17 portal documents), document preview
``authoring``      detect, search this PC, test connection, scan, scaffold, connector check, installed connectors
``sources``        doctor, data sources, database password, demo --load-into
``demo``           the wizard's demo clinic and its practice store
``signer``         does this certificate belong to this institution?
``certificates``   the 공동인증서 and .p12 files found on this PC
``resume``         what the wizard remembers between runs (no patient data, no passwords)
``batch``          a contractor's plan of clinics, N at a time, each resumable
``support``        the support bundle for a help desk (no patient data)
=================  ============================================================================

The main names are also importable from here directly (``from emr_exporter.jobs import run_export``); they
load their module on first use, so ``emr-export --help`` loads no heavy module. Front ends that want precise
types import from the family module (``emr_exporter.jobs.upload``).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "service": ("DemoRequest", "ExportOutcome", "ExportRequest", "outcome_from_summary", "prepare_demo",
                "run_demo", "run_export"),
    "upload": ("StoreServeRequest", "UploadRequest", "bundle_status_rows", "make_demo_store_certificates",
               "open_reference_store", "run_upload"),
    "bundles": ("OpenReport", "VerifyReport", "load_signer", "load_store_private_key", "load_trust_anchors",
                "open_bundle", "verify_bundle"),
    "report": ("default_report_path", "write_report_for_bundle", "write_report_for_outcome"),
    "documents": ("collect_patient_from_bundle", "render_preview", "run_readiness"),
    "authoring": ("check_connector", "detect_connectors", "list_connectors", "load_connector", "scan_database",
                  "search_this_pc", "test_connection", "write_scaffold"),
    "sources": ("SourceAddress", "list_dsns", "load_demo_into", "resolve_password", "run_doctor"),
    "demo": ("DemoMaterial", "prepare_demo_material", "start_demo_store"),
    "signer": ("check_certificate",),
    "certificates": ("find_certificates",),
    "batch": ("BatchOutcome", "load_plan", "run_batch"),
    "carry": ("bundles_on_removable_drives", "carried_bundle"),
    "support": ("write_support_bundle",),
}
_WHERE = {name: module for module, names in _HOME.items() for name in names}

def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = sorted(_WHERE)  # built from _HOME: the lazy table and the list cannot drift
