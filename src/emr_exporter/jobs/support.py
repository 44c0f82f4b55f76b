"""The support bundle: a zip a help desk can read to understand a problem, without any patient data.

It holds versions, the OS, the ODBC drivers and data source *names*, the installed connectors, the last runs'
reconciliations (counts only) and error messages, the wizard's saved state, and timings. Everything is built
from an allow-list of fields: nothing is copied wholesale from a run's files, and no clinic database, bundle,
log or row is ever read. As a second guard every text is scrubbed of anything shaped like a resident
registration number or a phone number before it is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import platform
import re
import sys
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from emr_exporter import __version__

#: Runs found in these folders (and the wizard's output folder) are described; newest first, at most this many.
MAX_RUNS = 20
PACKAGES = ("cryptography", "asn1crypto", "click", "pyodbc", "requests", "fpdf2", "pyside6-essentials",
            "fhir.resources")

# Resident registration number (주민등록번호, 6+7 digits) and Korean phone numbers, with or without separators.
_RRN = re.compile(r"(?<!\d)\d{6}[-\s]?[1-8]\d{6}(?!\d)")
_PHONE = re.compile(r"(?<!\d)0\d{1,2}[-\s.)]?\d{3,4}[-\s.]?\d{4}(?!\d)")


def scrub(text: str) -> str:
    return _PHONE.sub("[number removed]", _RRN.sub("[number removed]", text))


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


@dataclass
class SupportBundleOutcome:
    path: Path
    members: list[str]
    runs: int
    seconds: float

    def __str__(self) -> str:
        return f"Support bundle written: {self.path} ({len(self.members)} files, {self.runs} runs described)."


def _versions() -> dict[str, Any]:
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {"emr_exporter": __version__, "python": sys.version.split()[0], "packages": packages,
            "frozen": bool(getattr(sys, "frozen", False))}


def _system() -> dict[str, Any]:
    return {"platform": platform.platform(), "system": platform.system(), "release": platform.release(),
            "machine": platform.machine(), "filesystem_encoding": sys.getfilesystemencoding(),
            "preferred_encoding": _preferred_encoding()}


def _preferred_encoding() -> str:
    import locale

    return locale.getpreferredencoding(False)


def _odbc() -> dict[str, Any]:
    """Driver names and data source names only: never a DSN's settings (they can hold a server, user, path)."""
    try:
        import pyodbc
    except ImportError as exc:
        return {"error": f"pyodbc cannot be loaded ({type(exc).__name__})"}
    result: dict[str, Any] = {}
    try:
        result["drivers"] = sorted(pyodbc.drivers())
    except pyodbc.Error as exc:
        result["drivers_error"] = type(exc).__name__
    try:
        result["data_sources"] = sorted(pyodbc.dataSources())  # the keys: names only
    except pyodbc.Error as exc:
        result["data_sources_error"] = type(exc).__name__
    return result


def _connectors() -> list[dict[str, Any]]:
    from emr_exporter.connectors import list_connectors
    from emr_exporter.errors import ConnectorSpecError

    rows: list[dict[str, Any]] = []
    for item in list_connectors(()):
        if isinstance(item, ConnectorSpecError):
            rows.append({"name": Path(item.path).parent.name, "error": f"{item.field}: {item.problem}"})
        else:
            rows.append({"name": item.name, "version": item.version, "product": item.product,
                         "engines": list(item.engines), "origin": item.origin})
    return rows


def _reconciliation(data: Any) -> dict[str, Any] | None:
    """Counts only: totals, and per entity its table, counts and reason names."""
    if not isinstance(data, dict):
        return None
    entities = []
    for entity in data.get("entities") or []:
        if isinstance(entity, dict):
            entities.append({
                key: entity.get(key) for key in ("entity", "table", "source_rows", "exported", "quarantined",
                                                 "balanced")
            } | {"quarantine_reasons": {str(k): v for k, v in (entity.get("quarantine_reasons") or {}).items()
                                        if isinstance(v, int)}})
    raw_totals = data.get("totals")
    totals: dict[str, Any] = raw_totals if isinstance(raw_totals, dict) else {}
    from emr_exporter.pipeline.export import row_totals

    out: dict[str, Any] = {"balanced": data.get("balanced"),
                           "totals": {k: v for k, v in totals.items() if isinstance(v, int)}, "entities": entities}
    # every row, the ones carried whole (carried tables and sections) too: counts only (a damaged summary: none)
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        out["row_totals"] = row_totals(data)
    return out


def _pick(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: data.get(key) for key in keys if key in data}


def _runs(folders: Iterable[Path]) -> list[dict[str, Any]]:
    """Batch clinic states, export summaries and upload journals in ``folders`` (two levels deep)."""
    from emr_exporter.upload.journal import JOURNAL_SUFFIX, UploadJournal

    found: list[tuple[float, dict[str, Any]]] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        candidates = [*folder.glob("*"), *folder.glob("*/*"), *folder.glob("*/*/*")]
        for path in candidates:
            resolved = path.resolve()
            if resolved in seen or not path.is_file():
                continue
            seen.add(resolved)
            try:
                mtime = path.stat().st_mtime
                if path.name == "batch-clinic.json":
                    data = json.loads(path.read_text(encoding="utf-8"))
                    run = {"kind": "batch clinic", **_pick(data, (
                        "name", "stage", "result", "message", "bundle_id", "bundle_bytes", "upload_state",
                        "receipt_number", "attempts", "started_at", "finished_at", "seconds"))}
                    run["bundle_file"] = Path(data["bundle"]).name if data.get("bundle") else None
                    run["reconciliation"] = _reconciliation(data.get("reconciliation"))
                elif path.name.endswith(".summary.json"):
                    data = json.loads(path.read_text(encoding="utf-8"))
                    run = {"kind": "export", **_pick(data, (
                        "bundle_file", "bundle_id", "bundle_bytes", "created", "institution_code", "receipt_number",
                        "software"))}
                    run["reconciliation"] = _reconciliation(data.get("reconciliation"))
                elif path.name.endswith(JOURNAL_SUFFIX):
                    run = {"kind": "upload", "uploads": [
                        {"bundle_id": e.bundle_id, "store": e.store_url, "state": e.state, "size": e.size,
                         "offset_seen": e.offset_seen, "receipt_number": e.receipt_number, "reason": e.reason,
                         "started": _iso(e.created_at), "updated": _iso(e.updated_at),
                         "seconds": round(e.updated_at - e.created_at, 3)}
                        for e in UploadJournal(path).entries()]}
                else:
                    continue
            except (OSError, ValueError, TypeError, KeyError) as exc:
                run = {"kind": "unreadable", "file": path.name, "error": type(exc).__name__}
                mtime = 0.0
            except Exception as exc:  # a damaged journal: say so, never its content
                run = {"kind": "unreadable", "file": path.name, "error": type(exc).__name__}
                mtime = 0.0
            run["folder"] = str(path.parent)
            found.append((mtime, run))
    found.sort(key=lambda item: item[0], reverse=True)
    return [run for _, run in found[:MAX_RUNS]]


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def _wizard_state() -> dict[str, Any] | None:
    """The wizard's saved state: settings and paths only (its ODBC string is stored redacted)."""
    from emr_exporter.jobs.resume import load_state, state_path

    if not state_path().is_file():
        return None
    state = load_state()
    return state.to_json() if state is not None else {"error": "unreadable"}


def write_support_bundle(out: Path, run_folders: Iterable[Path] = ()) -> SupportBundleOutcome:
    """Write the support zip to ``out``. ``run_folders``: where the last exports/batches/uploads are (the
    wizard's output folder is always looked at)."""
    started = time.monotonic()
    out = Path(out)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        begin = time.monotonic()
        try:
            return fn()
        except Exception as exc:  # one broken part must not cost the help desk the rest
            return {"error": f"{type(exc).__name__} while collecting {name}"}
        finally:
            timings[name] = round(time.monotonic() - begin, 4)

    wizard = timed("wizard_state", _wizard_state)
    folders = [Path(f) for f in run_folders]
    if isinstance(wizard, dict) and wizard.get("out_dir"):
        folders.append(Path(str(wizard["out_dir"])))
    parts = {
        "versions.json": timed("versions", _versions),
        "system.json": timed("system", _system),
        "odbc.json": timed("odbc", _odbc),
        "connectors.json": timed("connectors", _connectors),
        "runs.json": timed("runs", lambda: _runs(folders)),
        "wizard-state.json": wizard,
    }
    parts["timings.json"] = {"collect_seconds": timings, "written_at": _iso(time.time())}
    readme = (
        "emr-exporter support bundle\n"
        "Made by `emr-export support-bundle`. It holds no patient data: versions, OS, ODBC driver and data\n"
        "source names, connectors, the last runs' counts and error messages, the wizard's saved settings,\n"
        "and timings. Each file is JSON.\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        for name, content in parts.items():
            archive.writestr(name, json.dumps(_scrubbed(content), ensure_ascii=False, indent=1, sort_keys=True))
    temporary.replace(out)
    runs = parts["runs.json"]
    return SupportBundleOutcome(out, ["README.txt", *parts], len(runs) if isinstance(runs, list) else 0,
                                time.monotonic() - started)
