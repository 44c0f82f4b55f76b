"""Issue 17 ("faster from clinic to store"), before and after in one run, interleaved.

    .venv/bin/python benchmarks/bench_speed.py --before /work/wt-speed-before [--sizes 4,5,6] [--repeat 2]
        [--e2e 5,6] [--upload-mb 100] [--rss 4,5,6,7] [--odbc DSN ...] [--only export,e2e,upload,seal]

``--before`` is a checkout of the code before the change (``git worktree add DIR <commit>``); its ``src``
is put first on PYTHONPATH for the "before" children, so both versions run with the same interpreter and
packages. Every figure comes from its own child process (peak RSS = its own, workers included), and the
before/after children alternate, repeated ``--repeat`` times: on a shared machine the spread is reported.

Measured:

* export: raw ``fetchmany(5000)`` of the demo tables vs the dry-run export (count, read, map, FHIR,
  NDJSON, tar, SHA-256), before and after, after on one core (workers=1) and on every core; wall and
  CPU time (parent + workers);
* e2e: ``run_demo`` on a cached clinic (export + seal) then upload to a reference store in its own process,
  client limited to 2 MB/s, until the verified receipt; bundle ÷ bag bytes;
* upload: our client vs ``curl`` (one PATCH) on loopback to a store in its own process, 100 MB random;
* seal: ``BundleWriter.write`` over the 10^5 demo bag (one core), before (v1) and after (v2).

Results: a JSON file in benchmarks/results/ and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FETCH = 5000


def _rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker
    return (own + kids) / 1024


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ------------------------------------------------------------------------------------------ children


def child_raw(database: str, odbc: str | None) -> dict[str, Any]:
    from emr_exporter.connectors import load_connector

    spec = load_connector("demo")
    tables = sorted({e.table for e in spec.entities.values()})
    if odbc:
        from emr_exporter.sources.odbc import OdbcSource

        source: Any = OdbcSource(odbc)
    else:
        from emr_exporter.sources.base import SqliteFileSource

        source = SqliteFileSource(Path(database))
    rows = 0
    start, cpu = time.perf_counter(), _cpu()
    for table in tables:
        cursor = source.conn.cursor()
        cursor.execute(f"SELECT * FROM {table}")
        while batch := cursor.fetchmany(FETCH):
            rows += len(batch)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"rows": rows, "seconds": wall, "cpu": cpu, "rss_mb": _rss_mb()}


def child_export(database: str, odbc: str | None, workers: int) -> dict[str, Any]:
    from emr_exporter.connectors import load_connector
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.reports.readiness import ReadinessObserver

    spec = load_connector("demo")
    if odbc:
        from emr_exporter.sources.odbc import OdbcSource

        source: Any = OdbcSource(odbc)
    else:
        from emr_exporter.sources.base import SqliteFileSource

        source = SqliteFileSource(Path(database))
    extra = {"workers": workers} if "workers" in inspect.signature(ExportRun.__init__).parameters else {}
    start, cpu = time.perf_counter(), _cpu()
    own = resource.getrusage(resource.RUSAGE_SELF)
    institution = read_institution(spec, source)
    # As the product exports (jobs/service.py): the readiness observer sees every record (so worker
    # processes send every record back, the costly case for them).
    run = ExportRun(spec, source, institution=institution, created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                    attachments_root=Path(database).parent / "demo-attachments",
                    observers=[ReadinessObserver(institution)], **extra)
    digest = digest_stream(run.stream())
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu_parent = end.ru_utime + end.ru_stime - own.ru_utime - own.ru_stime  # the export's own process alone
    return {"rows": run.reconciliation.totals["source_rows"], "seconds": wall, "cpu": cpu, "rss_mb": _rss_mb(),
            "cpu_parent": cpu_parent, "load_before": os.getloadavg()[0],
            "rss_parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_largest_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "bag_sha256": digest.sha256, "bag_bytes": digest.size, "workers": extra.get("workers", 1)}


STORE_SCRIPT = """
import sys, time
from pathlib import Path
from emr_exporter.bundle.keys import load_store_private_key
from emr_exporter.upload.store import ReferenceStore, bundle_reader_verifier
folder, key = Path(sys.argv[1]), sys.argv[2]
if key.endswith(".ed25519"):  # the plain upload measurement: receipts signed, bundles not opened
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    store = ReferenceStore(folder, load_pem_private_key(Path(key).read_bytes(), None))
else:
    private = load_store_private_key(Path(key))
    store = ReferenceStore(folder, private, verifier=bundle_reader_verifier(private, folder / "opened"))
server = store.serve().start()
print(server.url, flush=True)
while True:
    time.sleep(3600)
"""


def _start_store(folder: Path, key: str) -> tuple[subprocess.Popen[str], str]:
    script = folder.parent / "store.py"
    script.write_text(STORE_SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), str(folder), key], stdout=subprocess.PIPE, text=True,
                               env=os.environ.copy())
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def child_e2e(database: str, rate: float) -> dict[str, Any]:
    from emr_exporter.jobs.service import DemoRequest, run_demo
    from emr_exporter.upload.receipt import load_store_public_keys
    from emr_exporter.upload.tus import TusTransport
    from emr_exporter.upload.uploader import Uploader

    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        out = work / "out"
        out.mkdir()
        os.symlink(database, out / "demo-clinic.sqlite")  # jobs.service.DEMO_DB_NAME
        os.symlink(Path(database).parent / "demo-attachments", out / "attachments")
        try:
            from emr_exporter.demo.keys import make_demo_keys
        except ImportError:  # older checkouts
            from emr_exporter.bundle.keys import make_demo_keys  # type: ignore[attr-defined,no-redef]

        make_demo_keys(out / "demo-keys")  # outside the timing: the store needs the key before it starts
        store, url = _start_store(work / "store", str(out / "demo-keys" / "store-key.pem"))
        try:
            start, cpu = time.perf_counter(), _cpu()
            outcome = run_demo(DemoRequest(out_dir=out))
            sealed_at = time.perf_counter()
            from emr_exporter.upload.uploader import RetryPolicy

            # the store may check a big bag for minutes: wait for it (both versions alike)
            uploader = Uploader(TusTransport(url), store_url=url, rate_limit_bytes_per_second=rate,
                                retry=RetryPolicy(max_attempts_without_progress=10_000),
                                store_public_keys=load_store_public_keys(out / "demo-keys" / "store-cert.pem"))
            known = {}
            if "known_sha256" in inspect.signature(uploader.upload).parameters:
                known = {"known_sha256": getattr(outcome, "bundle_sha256", None),
                         "known_size": outcome.bundle_bytes}
            result = uploader.upload(Path(outcome.bundle_path), bundle_id=str(outcome.bundle_id), **known)
            end = time.perf_counter()
        finally:
            store.send_signal(signal.SIGTERM)
            store.wait()
        assert result.receipt_number
        return {"rows": outcome.reconciliation.totals["source_rows"], "export_seal_s": sealed_at - start,
                "upload_s": end - sealed_at, "total_s": end - start, "cpu": _cpu() - cpu,
                "bag_bytes": outcome.bag_bytes, "bundle_bytes": outcome.bundle_bytes, "rss_mb": _rss_mb()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def child_upload(size_mb: int) -> dict[str, Any]:
    """Our client (32 MiB chunks, sha256 per chunk as the store offers it) and curl (one PATCH, no checksum),
    alternating 3 times, to one store process; both until the signed receipt is there."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from emr_exporter.upload.tus import TusTransport, encode_metadata
    from emr_exporter.upload.uploader import Uploader

    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    try:
        bundle = work / "b.emrx"
        with open(bundle, "wb") as handle:
            for _ in range(size_mb):
                handle.write(os.urandom(1 << 20))
        size = bundle.stat().st_size
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        key = ed25519.Ed25519PrivateKey.generate()
        key_path = work / "receipt.ed25519"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        store, url = _start_store(work / "store", str(key_path))
        out: dict[str, list[float]] = {"client": [], "curl": []}
        try:
            for attempt in range(3):
                for journal in work.glob("*.upload-journal"):
                    journal.unlink()
                start = time.perf_counter()
                known = {}
                uploader = Uploader(TusTransport(url), store_url=url, store_public_keys=[key.public_key()],
                                    chunk_size=32 << 20)
                if "known_sha256" in inspect.signature(uploader.upload).parameters:
                    known = {"known_sha256": digest, "known_size": size}
                uploader.upload(bundle, bundle_id=f"c-{attempt}-{time.time()}", **known)
                out["client"].append(size / (time.perf_counter() - start) / 1e6)
                meta = encode_metadata({"filename": "b.emrx", "bundle_id": f"k-{attempt}-{time.time()}",
                                        "sha256": digest})
                start = time.perf_counter()
                created = subprocess.run(
                    ["curl", "-s", "-i", "-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", f"Upload-Length: {size}",
                     "-H", f"Upload-Metadata: {meta}", url], capture_output=True, text=True, check=True).stdout
                location = next(line.split(":", 1)[1].strip() for line in created.splitlines()
                                if line.lower().startswith("location:"))
                target = url.split("/files/")[0] + location
                subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", "-X", "PATCH", "-H", "Tus-Resumable: 1.0.0",
                     "-H", "Upload-Offset: 0", "-H", "Content-Type: application/offset+octet-stream",
                     "--data-binary", f"@{bundle}", target], check=True)
                # curl is done when the store has the bytes; the same receipt wait counts for both
                while subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", target + "/receipt"],
                                     capture_output=True, text=True).stdout == "202":
                    time.sleep(0.02)
                out["curl"].append(size / (time.perf_counter() - start) / 1e6)
        finally:
            store.send_signal(signal.SIGTERM)
            store.wait()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def child_seal(tar_path: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent / "tests" / "bundle"))
    from bundle_testkit import make_ca, make_signer, make_store

    from emr_exporter.bundle.writer import BundleWriter

    data = Path(tar_path).read_bytes()
    ca = make_ca("CN=bench")
    signer = make_signer(ca, "ec")
    recipient, _ = make_store(ca, "rsa")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        writer = BundleWriter.open(Path(folder), signer=signer, recipient=recipient, institution_code="1",
                                   export_key="bench")
        start, cpu = time.perf_counter(), _cpu()
        sealed = writer.write(data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20))
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"bag_bytes": len(data), "bundle_bytes": sealed.size, "mb_s": len(data) / wall / 1e6,
            "mb_per_cpu_s": len(data) / cpu / 1e6}


# -------------------------------------------------------------------------------------------- parent


AFTER: Path | None = None  # --after: a frozen checkout of the new code (else this checkout)


def run_child(version: str, before: Path | None, *args: str, pin: str | None = None) -> dict[str, Any]:
    env = os.environ.copy()
    if version == "after" and AFTER is not None:
        before, version = AFTER, "before"  # same mechanism: that checkout's src and connectors first
    if version == "before":
        assert before is not None
        # its own package and built-in connectors (installed as emr_exporter_connectors: a symlink folder)
        links = Path(tempfile.gettempdir()) / "bench-speed-before-path"
        links.mkdir(exist_ok=True)
        links = links / hashlib.sha256(str(before).encode()).hexdigest()[:8]
        links.mkdir(exist_ok=True)
        link = links / "emr_exporter_connectors"
        if not link.exists():
            link.symlink_to(before / "connectors")
        env["PYTHONPATH"] = f"{before / 'src'}{os.pathsep}{links}"
    command = [sys.executable, __file__, "--child", *args]
    if pin:
        command = ["taskset", "-c", pin, *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"child {version} {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:,.0f}"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path)
    parser.add_argument("--also", action="append", default=[], metavar="NAME=DIR",
                        help="another older checkout measured beside --before (export only), e.g. main=/work/x")
    parser.add_argument("--workers", default="", help="after-all: this many workers (default: os.cpu_count())")
    parser.add_argument("--after", type=Path, help="a frozen checkout of the new code (default: this one)")
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/emr-bench-speed"))
    parser.add_argument("--sizes", default="4,5,6")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--e2e", default="5,6")
    parser.add_argument("--rss", default="")
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument("--odbc", action="append", default=[])
    parser.add_argument("--only", default="export,e2e,upload,seal")
    parser.add_argument("--name", default="", help="results file name part (default: the --only list)")
    parser.add_argument("--skip", default="", help="export runs to leave out, e.g. raw,before")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result: Any
        if kind == "raw":
            result = child_raw(rest[0], rest[1] if len(rest) > 1 and rest[1] != "-" else None)
        elif kind == "export":
            result = child_export(rest[0], rest[1] if rest[1] != "-" else None, int(rest[2]))
        elif kind == "e2e":
            result = child_e2e(rest[0], float(rest[1]))
        elif kind == "upload":
            result = child_upload(int(rest[0]))
        elif kind == "seal":
            result = child_seal(rest[0])
        print(json.dumps(result))
        return

    global AFTER
    AFTER = args.after
    sys.path.insert(0, str(HERE))
    from bench_export import clinic_for

    only = set(args.only.split(","))
    report: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "cores": os.cpu_count(), "load_start": _load(), "export": [], "e2e": [],
                              "upload": {}, "seal": [], "rss": []}
    if "export" in only:
        sizes = [e for e in args.sizes.split(",") if e]
        targets = [(f"1e{e}", str(clinic_for(args.work, int(e))), "-", "sqlite file") for e in sizes]
        for dsn in args.odbc:  # the 1e5 clinic loaded into that database
            from emr_exporter.demo.load import load_demo_into

            database = clinic_for(args.work, 5)
            load_demo_into(database, dsn, replace=True)
            label = dsn.split("DRIVER=")[1].split(";")[0].strip("{}") if "DRIVER=" in dsn else "odbc"
            targets.append(("1e5", str(database), dsn, label))
        also = dict(item.split("=", 1) for item in args.also)
        all_workers = args.workers or str(os.cpu_count())
        skip = set(args.skip.split(",")) if args.skip else set()
        for size, database, dsn, label in targets:
            names = ["raw", "before", *also, "after-1", "after-all"]
            runs: dict[str, list[dict[str, Any]]] = {k: [] for k in names if k not in skip}
            for _ in range(args.repeat):  # interleaved
                for name in runs:
                    if name == "raw":
                        runs[name].append(run_child("after", None, "raw", database, dsn))
                    elif name == "before":
                        runs[name].append(run_child("before", args.before, "export", database, dsn, "1"))
                    elif name in also:
                        runs[name].append(run_child("before", Path(also[name]), "export", database, dsn, "1"))
                    else:
                        workers = "1" if name == "after-1" else all_workers
                        runs[name].append(run_child("after", None, "export", database, dsn, workers))
                    print(f"  {size} {label} {name}: {runs[name][-1]['seconds']:.1f} s, load {_load()}", flush=True)
            exports = [k for k in runs if k != "raw"]
            shas = {k: sorted({r["bag_sha256"] for r in runs[k]}) for k in exports}
            row = {"size": size, "driver": label, "rows": runs["raw"][0]["rows"] if "raw" in runs else None,
                   "runs": runs, "bag_sha256": shas,
                   "bag_identical_one_core_all_cores": shas.get("after-1") == shas.get("after-all"),
                   "load": _load()}
            report["export"].append(row)
            rate = {k: [r["rows"] / r["seconds"] for r in v] for k, v in runs.items()}
            cpu_rate = {k: [r["rows"] / r["cpu"] for r in v] for k, v in runs.items()}
            parent_us = {k: [r["cpu_parent"] / r["rows"] * 1e6 for r in v if "cpu_parent" in r]
                         for k, v in runs.items()}
            print(f"{size} {label}: " + "; ".join(
                f"{k} {spread(rate[k])} rows/s, {spread(cpu_rate[k])} rows/CPU-s"
                + (f", parent {spread(parent_us[k])} CPU-µs a row" if parent_us[k] else "") for k in runs)
                + f"; one core = all cores bag {row['bag_identical_one_core_all_cores']}; load {row['load']}",
                flush=True)
    for e in [x for x in args.rss.split(",") if x]:
        database = str(clinic_for(args.work, int(e)))
        for workers in (1, os.cpu_count() or 1):
            result = run_child("after", None, "export", database, "-", str(workers))
            result["size"] = f"1e{e}"
            report["rss"].append(result)
            print(f"rss 1e{e} workers={workers}: parent {result['rss_parent_mb']:.0f} MB, largest worker "
                  f"{result['rss_largest_worker_mb']:.0f} MB ({result['rows']:,} rows, {result['seconds']:.0f} s)",
                  flush=True)
    if "seal" in only:
        tar = args.work / "bag-1e5.tar"
        if not tar.exists():
            from emr_exporter.connectors import load_connector
            from emr_exporter.pipeline.export import ExportRun, read_institution
            from emr_exporter.sources.base import SqliteFileSource

            database = clinic_for(args.work, 5)
            spec = load_connector("demo")
            source = SqliteFileSource(database)
            run = ExportRun(spec, source, institution=read_institution(spec, source),
                            created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                            attachments_root=database.parent / "demo-attachments")
            with open(tar, "wb") as out:
                for chunk in run.stream():
                    out.write(chunk)
        for _ in range(args.repeat):
            for version in ("before", "after"):
                result = run_child(version, args.before, "seal", str(tar), pin="1")
                result["version"] = version
                report["seal"].append(result)
                print(f"seal {version}: {result['mb_s']:.0f} MB/s wall, {result['mb_per_cpu_s']:.0f} MB/CPU-s, "
                      f"bag {result['bag_bytes']:,} -> bundle {result['bundle_bytes']:,}", flush=True)
    if "upload" in only:
        for version in ("before", "after"):
            result = run_child(version, args.before, "upload", str(args.upload_mb))
            report["upload"][version] = result
            print(f"upload {version}: client {result['client']} MB/s, curl {result['curl']} MB/s", flush=True)
    if "e2e" in only:
        for e in [x for x in args.e2e.split(",") if x]:
            database = str(clinic_for(args.work, int(e)))
            for version in ("before", "after"):
                result = run_child(version, args.before, "e2e", database, str(2e6))
                result.update(version=version, size=f"1e{e}", load=_load())
                report["e2e"].append(result)
                print(f"e2e 1e{e} {version}: export+seal {result['export_seal_s']:.1f} s, upload "
                      f"{result['upload_s']:.1f} s, total {result['total_s']:.1f} s; bag {result['bag_bytes']:,} "
                      f"bundle {result['bundle_bytes']:,}; load {result['load']}", flush=True)
    report["load_end"] = _load()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"speed-{dt.date.today().isoformat()}-{args.name or '-'.join(sorted(only))}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written {path}")


if __name__ == "__main__":
    main()
