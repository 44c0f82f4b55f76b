"""The contractor's batch: many clinics from one plan, N at a time, each resumable, unattended.

A plan (TOML or CSV) lists clinics: connector, source (a SQLite file, an ODBC string without password, or a
DSN), attachments folder, institution code/name, certificate, output folder, store. Each clinic runs in its own
worker process: export (sealed bundle; the bundle writer's journal resumes an interrupted export), then
upload (the upload journal resumes). A clinic's progress and result are kept in ``<out>/batch-clinic.json``
(written atomically), so after the whole batch is killed a rerun skips the clinics that finished and continues
the others. A failed clinic does not stop the others.

Passwords never come from the plan: a certificate's password comes from the environment variable the plan
names (``certificate_password_env``, a *name*), else ``EMR_EXPORTER_CERT_PASSWORD``, else the caller's prompt
(one per certificate file); a database password likewise (``password_env`` / ``EMR_EXPORTER_DB_PASSWORD``).
A plan that holds a password is refused.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import multiprocessing
import os
import queue
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter.errors import ConfigError, EmrExporterError, unexpected_error_text
from emr_exporter.sources.address import SourceAddress

CERT_PASSWORD_ENV = "EMR_EXPORTER_CERT_PASSWORD"
DB_PASSWORD_ENV = "EMR_EXPORTER_DB_PASSWORD"
STATE_FILE = "batch-clinic.json"

#: Plan fields (TOML keys / CSV columns). Paths are relative to the plan file's folder.
FIELDS = (
    "name", "connector", "source", "odbc", "dsn", "attachments", "institution_code", "institution_name",
    "certificate", "certificate_password_env", "password_env", "store_cert", "out", "store", "store_tls_cert",
    "receipt_cert", "connectors_dir",
)
PATH_FIELDS = ("source", "attachments", "certificate", "store_cert", "out", "store_tls_cert", "receipt_cert",
               "connectors_dir")

#: Results, worst first (the batch's exit code follows the worst).
FAILED, NOT_RECONCILED, UNCONFIRMED, EXPORTED, UPLOADED = (
    "failed", "not reconciled", "stored, unconfirmed", "exported", "uploaded")


@dataclass(frozen=True)
class ClinicPlan:
    name: str
    connector: str
    out: Path
    certificate: Path
    store_cert: Path  # the store's encryption certificate: the bundle is sealed for it
    source: Path | None = None
    odbc: str | None = None
    dsn: str | None = None
    attachments: Path | None = None
    institution_code: str | None = None
    institution_name: str | None = None
    certificate_password_env: str | None = None
    password_env: str | None = None
    store: str | None = None  # None: export only
    store_tls_cert: Path | None = None
    receipt_cert: Path | None = None
    connectors_dir: Path | None = None


@dataclass
class ClinicState:
    """What ``<out>/batch-clinic.json`` holds (no patient data: counts, paths, ids, messages)."""

    name: str
    stage: str = "waiting"  # waiting | export | upload | done
    result: str | None = None  # one of the results above, None while unfinished
    message: str | None = None
    reconciliation: dict[str, Any] | None = None
    bundle: str | None = None
    bundle_id: str | None = None
    bundle_bytes: int | None = None
    upload_state: str | None = None  # accepted | stored-unconfirmed | None (not uploaded)
    receipt_number: str | None = None
    receipt: str | None = None  # path of the saved signed receipt
    attempts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    from_earlier_run: bool = False  # finished by an earlier run of the batch: not redone

    @property
    def finished_ok(self) -> bool:
        return self.result in (UPLOADED, UNCONFIRMED, EXPORTED)


@dataclass
class Plan:
    path: Path
    clinics: list[ClinicPlan]
    concurrency: int | None = None


@dataclass
class ClinicProgress:
    """One line of the live table."""

    name: str
    stage: str = "waiting"
    rows: int = 0
    rows_total: int = 0
    bytes_sent: int = 0
    bytes_total: int = 0
    rate: float = 0.0  # rows/s in export, bytes/s in upload
    result: str | None = None
    started: float = field(default_factory=time.monotonic)


# ---------------------------------------------------------------------------------------------- the plan


def load_plan(path: Path) -> Plan:
    """Read a TOML (``[defaults]`` + ``[[clinic]]`` tables) or CSV (one row per clinic) plan."""
    path = Path(path).absolute()  # the summary names absolute paths, whatever the working folder
    if not path.is_file():
        raise ConfigError(f"The batch plan {path} does not exist.")
    defaults: dict[str, Any] = {}
    concurrency = None
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [dict(row) for row in csv.DictReader(handle)]
    else:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
        defaults = dict(data.get("defaults", {}))
        concurrency = data.get("concurrency", defaults.pop("concurrency", None))
        rows = list(data.get("clinic", []))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ConfigError(f"{path}: clinics are [[clinic]] tables.")
    if not rows:
        raise ConfigError(f"{path}: the plan lists no clinics.")
    clinics = [_clinic(path, number, {**defaults, **{k: v for k, v in row.items() if v not in (None, "")}})
               for number, row in enumerate(rows, start=1)]
    names = [c.name for c in clinics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: clinic names must be unique ({', '.join(duplicates)} appears twice).")
    outs = [c.out.resolve() for c in clinics]
    if len(set(outs)) != len(outs):
        raise ConfigError(f"{path}: every clinic needs its own output folder (out).")
    if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):
        raise ConfigError(f"{path}: concurrency must be a whole number of at least 1.")
    return Plan(path, clinics, concurrency)


def _clinic(plan_path: Path, number: int, row: dict[str, Any]) -> ClinicPlan:
    where = f"{plan_path}, clinic {number}"
    for key in row:
        if "password" in key.lower() and not key.lower().endswith("_env"):
            raise ConfigError(
                f"{where}: '{key}' - a plan never holds passwords (anyone who sees the file would have them). "
                f"Put the password in an environment variable and name it with certificate_password_env / "
                f"password_env, or let the batch ask for it."
            )
        if key not in FIELDS:
            raise ConfigError(f"{where}: unknown field '{key}'. Known fields: {', '.join(FIELDS)}.")
    if isinstance(row.get("odbc"), str) and "pwd=" in row["odbc"].lower().replace(" ", ""):
        raise ConfigError(f"{where}: the odbc string holds a password (PWD=). Leave it out; use password_env.")
    base = plan_path.parent
    values: dict[str, Any] = {}
    for key, value in row.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' should be text.")
        value = value.strip()
        values[key] = (base / value) if key in PATH_FIELDS else value
    for required in ("connector", "out", "certificate", "store_cert"):
        if not values.get(required):
            raise ConfigError(f"{where}: '{required}' is missing.")
    if sum(bool(values.get(k)) for k in ("source", "odbc", "dsn")) != 1:
        raise ConfigError(f"{where}: give exactly one of source (a SQLite file), odbc or dsn.")
    values.setdefault("name", Path(values["out"]).name)
    return ClinicPlan(**values)


def password_sources(plan: Plan) -> list[tuple[str, str, str]]:
    """(kind, label, environment variable) for every distinct password the plan needs: one per certificate
    file, one per database login. The label names a file or a clinic, never a secret."""
    needed: dict[tuple[str, str], str] = {}
    for clinic in plan.clinics:
        needed.setdefault(("certificate", str(clinic.certificate)),
                          clinic.certificate_password_env or CERT_PASSWORD_ENV)
        if clinic.odbc or clinic.dsn:
            needed.setdefault(("database", clinic.name), clinic.password_env or DB_PASSWORD_ENV)
    return [(kind, label, env) for (kind, label), env in needed.items()]


def collect_passwords(plan: Plan, prompt: Callable[[str, str], str | None] | None) -> dict[str, str]:
    """Passwords by "kind:label", from the environment, else ``prompt(kind, label)`` (None: not asked)."""
    found: dict[str, str] = {}
    for kind, label, env in password_sources(plan):
        value = os.environ.get(env)
        if value is None and prompt is not None:
            value = prompt(kind, label)
        if value is not None:
            found[f"{kind}:{label}"] = value
    return found


# ---------------------------------------------------------------------------------------------- state


def state_path(clinic: ClinicPlan) -> Path:
    return clinic.out / STATE_FILE


def read_state(clinic: ClinicPlan) -> ClinicState:
    path = state_path(clinic)
    if path.is_file():
        with contextlib.suppress(ValueError, TypeError):
            data = json.loads(path.read_text(encoding="utf-8"))
            known = set(ClinicState.__dataclass_fields__)
            return ClinicState(**{k: v for k, v in data.items() if k in known})
    return ClinicState(name=clinic.name)


def write_state(clinic: ClinicPlan, state: ClinicState) -> None:
    """Atomic: a kill -9 mid-write leaves the previous state."""
    path = state_path(clinic)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------- one clinic

_events: Any = None  # the worker's queue to the parent (set by _init_worker)


def _init_worker(events: Any) -> None:
    global _events
    _events = events


def _emit(event: str, **values: Any) -> None:
    if _events is not None:
        with contextlib.suppress(Exception):  # a full or closed queue must never fail a clinic
            _events.put((event, values))


def run_clinic(clinic: ClinicPlan, passwords: dict[str, str]) -> ClinicState:
    """Export then upload one clinic, continuing where an earlier run stopped. Never raises for the clinic's
    own failures: they are its result."""
    state = read_state(clinic)
    if state.finished_ok:
        state.from_earlier_run = True
        _emit("result", name=clinic.name, result=state.result)
        return state
    state.attempts += 1
    state.started_at, state.result, state.message, state.from_earlier_run = _now(), None, None, False
    started = time.monotonic()
    try:
        _run_stages(clinic, passwords, state)
    except EmrExporterError as exc:  # written for people, without patient data (errors.py)
        state.result, state.message = FAILED, str(exc)
    except Exception as exc:  # a bug: its text may quote patient data, so only its type and place
        state.result, state.message = FAILED, unexpected_error_text(exc)
    state.finished_at = _now()
    state.seconds = round(time.monotonic() - started, 3)
    write_state(clinic, state)
    _emit("result", name=clinic.name, result=state.result)
    return state


def _run_stages(clinic: ClinicPlan, passwords: dict[str, str], state: ClinicState) -> None:
    from emr_exporter.jobs.service import ExportRequest, run_export
    from emr_exporter.jobs.upload import UploadRequest, run_upload

    if state.bundle is None or not Path(state.bundle).is_file():
        state.stage = "export"
        write_state(clinic, state)
        _emit("stage", name=clinic.name, stage="export")
        cert_password = passwords.get(f"certificate:{clinic.certificate}")
        if cert_password is None:
            env = clinic.certificate_password_env or CERT_PASSWORD_ENV
            raise ConfigError(f"No password for the certificate {clinic.certificate.name}: set {env} or run the "
                              "batch in a window so it can ask.")
        request = ExportRequest(
            connector=clinic.connector, attachments_root=clinic.attachments,
            source=SourceAddress(database=clinic.source, odbc=clinic.odbc, dsn=clinic.dsn,
                                 password=passwords.get(f"database:{clinic.name}")),
            institution_code=clinic.institution_code, institution_name=clinic.institution_name,
            out_dir=clinic.out, signer_path=clinic.certificate, signer_password=cert_password,
            recipient_cert=clinic.store_cert,
            connectors_dirs=(clinic.connectors_dir,) if clinic.connectors_dir else (),
            workers=1,  # the batch already runs clinics side by side, a process each: no workers on top
        )
        totals: dict[str, int] = {}
        done: dict[str, int] = {}

        def export_progress(event: Any) -> None:
            if event.entity and event.stage in ("count", "export"):
                totals[event.entity] = max(totals.get(event.entity, 0), event.total)
                done[event.entity] = event.done
                _emit("rows", name=clinic.name, done=sum(done.values()), total=sum(totals.values()))

        outcome = run_export(request, progress=export_progress)
        state.reconciliation = outcome.reconciliation.to_dict()
        state.bundle = str(outcome.bundle_path)
        state.bundle_id = outcome.bundle_id
        state.bundle_bytes = outcome.bundle_bytes
        if not outcome.reconciliation.balanced:
            state.result, state.message = NOT_RECONCILED, "Source rows and exported + quarantined rows differ."
            return
        write_state(clinic, state)  # the bundle is sealed: a rerun goes straight to the upload
    if state.reconciliation is not None and not state.reconciliation.get("balanced", False):
        state.result = NOT_RECONCILED
        return
    if not clinic.store:
        state.stage, state.result = "done", EXPORTED
        return
    state.stage = "upload"
    write_state(clinic, state)
    _emit("stage", name=clinic.name, stage="upload")
    result = run_upload(
        UploadRequest(bundle=Path(state.bundle), store_url=clinic.store, store_cert=clinic.store_tls_cert,
                      receipt_cert=clinic.receipt_cert),
        on_progress=lambda p: _emit("bytes", name=clinic.name, done=p.position, total=p.size),
    )
    state.stage = "done"
    state.upload_state = result.state
    state.receipt_number = result.receipt_number
    state.receipt = str(result.receipt_path) if result.receipt_path else None
    state.result = UNCONFIRMED if result.unconfirmed else UPLOADED


# ---------------------------------------------------------------------------------------------- the batch


@dataclass
class BatchOutcome:
    plan: Path
    clinics: list[ClinicState]
    seconds: float

    @property
    def all_succeeded(self) -> bool:
        return all(c.finished_ok for c in self.clinics)

    def exit_code(self) -> int:
        """0: every clinic done (receipt, or exported when no store); 4: done, but some only "stored,
        unconfirmed"; 1: at least one clinic failed or did not reconcile."""
        from emr_exporter.jobs.upload import STORED_UNCONFIRMED_EXIT

        if not self.all_succeeded:
            return 1
        return STORED_UNCONFIRMED_EXIT if any(c.result == UNCONFIRMED for c in self.clinics) else 0

    def to_dict(self) -> dict[str, Any]:
        return {"plan": str(self.plan), "all_succeeded": self.all_succeeded, "exit_code": self.exit_code(),
                "seconds": round(self.seconds, 3), "clinics": [asdict(c) for c in self.clinics]}

    def write_csv(self, path: Path) -> Path:
        from emr_exporter.pipeline.export import row_totals

        # source_rows = exported + carried_whole + quarantined: every row of the clinic's database, the carried
        # tables' and sections' too (the reconciliation's own totals leave those out)
        columns = ["name", "result", "stage", "source_rows", "exported", "carried_whole", "quarantined", "balanced",
                   "bundle",
                   "bundle_id", "bundle_bytes", "upload_state", "receipt_number", "receipt", "attempts",
                   "from_earlier_run", "seconds", "message"]
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel reads Korean right
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for c in self.clinics:
                totals = row_totals(c.reconciliation) if c.reconciliation and c.reconciliation.get("totals") else {}
                writer.writerow({
                    "name": c.name, "result": c.result, "stage": c.stage,
                    "source_rows": totals.get("source_rows"), "exported": totals.get("exported"),
                    "carried_whole": totals.get("carried"), "quarantined": totals.get("quarantined"),
                    "balanced": (c.reconciliation or {}).get("balanced"), "bundle": c.bundle,
                    "bundle_id": c.bundle_id, "bundle_bytes": c.bundle_bytes, "upload_state": c.upload_state,
                    "receipt_number": c.receipt_number, "receipt": c.receipt, "attempts": c.attempts,
                    "from_earlier_run": c.from_earlier_run, "seconds": c.seconds, "message": c.message,
                })
        return path


def default_concurrency() -> int:
    return max(1, os.cpu_count() or 1)


def run_batch(
    plan: Plan,
    passwords: dict[str, str],
    *,
    concurrency: int | None = None,
    on_update: Callable[[dict[str, ClinicProgress]], None] | None = None,
    cancel: threading.Event | None = None,
) -> BatchOutcome:
    """Run every clinic of ``plan``, ``concurrency`` at a time (default: the plan's, else the number of cores),
    each in its own process. ``on_update`` gets the live table (one ClinicProgress per clinic) as it changes."""
    started = time.monotonic()
    workers = concurrency or plan.concurrency or default_concurrency()
    table = {c.name: ClinicProgress(c.name) for c in plan.clinics}
    for clinic in plan.clinics:
        earlier = read_state(clinic)
        if earlier.finished_ok:
            table[clinic.name].stage, table[clinic.name].result = "done", earlier.result
    # spawn: the same on Windows, macOS and Linux, and no forked copy of the parent's threads or sockets.
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    results: dict[str, ClinicState] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(plan.clinics)), mp_context=context,
                             initializer=_init_worker, initargs=(events,)) as pool:
        futures: dict[Future[ClinicState], ClinicPlan] = {
            pool.submit(run_clinic, clinic, passwords): clinic for clinic in plan.clinics
        }
        pending = set(futures)
        while pending:
            _drain(events, table, on_update, timeout=0.2)
            for future in [f for f in pending if f.done()]:
                pending.discard(future)
                clinic = futures[future]
                try:
                    results[clinic.name] = future.result()
                except Exception as exc:  # the worker process died (killed, out of memory)
                    state = read_state(clinic)
                    state.result, state.message = FAILED, unexpected_error_text(exc)
                    results[clinic.name] = state
                table[clinic.name].result = results[clinic.name].result
                # Its process is done with it, whatever stage it stopped at (a clinic that failed in its export
                # must not show as exporting while the next ones run).
                table[clinic.name].stage = "done"
                if on_update is not None:
                    on_update(table)
            if cancel is not None and cancel.is_set():
                for future in pending:
                    future.cancel()
        _drain(events, table, on_update, timeout=0)
    return BatchOutcome(plan.path, [results[c.name] for c in plan.clinics], time.monotonic() - started)


def _drain(events: Any, table: dict[str, ClinicProgress], on_update: Callable[..., None] | None,
           timeout: float) -> None:
    changed = False
    deadline = time.monotonic() + timeout
    while True:
        try:
            event, values = events.get(timeout=max(0.0, deadline - time.monotonic())) if timeout else \
                events.get_nowait()
        except (queue.Empty, OSError, EOFError):
            break
        row = table.get(values.get("name", ""))
        if row is None:
            continue
        changed = True
        now = time.monotonic()
        if event == "stage":
            row.stage, row.started, row.rate = values["stage"], now, 0.0
        elif event == "rows":
            row.rows, row.rows_total = values["done"], values["total"]
            row.rate = row.rows / max(now - row.started, 1e-6)
        elif event == "bytes":
            if row.stage != "upload":
                row.stage, row.started = "upload", now
            row.bytes_sent, row.bytes_total = values["done"], values["total"]
            row.rate = row.bytes_sent / max(now - row.started, 1e-6)
        elif event == "result":
            row.result = values["result"]
            row.stage = "done"
    if changed and on_update is not None:
        on_update(table)


def summary_lines(outcome: BatchOutcome) -> Iterable[str]:
    """The end-of-batch summary, one line per clinic, for a person."""
    from emr_exporter.pipeline.export import row_totals

    for c in outcome.clinics:
        totals = row_totals(c.reconciliation) if c.reconciliation and c.reconciliation.get("totals") else {}
        counts = (f"{totals['source_rows']:,} rows = {totals['exported']:,} exported + {totals['carried']:,} "
                  f"carried whole + {totals['quarantined']:,} quarantined") if totals else "no export"
        line = f"{c.name}: {c.result or 'unfinished'} - {counts}"
        if c.bundle:
            line += f"; bundle {Path(c.bundle).name}"
        if c.receipt_number:
            line += f"; receipt {c.receipt_number}"
        if c.from_earlier_run:
            line += " (finished in an earlier run, not redone)"
        if c.message and not c.finished_ok:
            line += f"\n    {c.message}"
        yield line
