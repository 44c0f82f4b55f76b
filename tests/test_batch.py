"""emr-export batch: five demo-style clinics (one broken), two at a time, into the reference store on 127.0.0.1;
the whole batch killed with SIGKILL mid-way, then run again: finished clinics are not redone, the others
continue, each clinic is reported correctly (text, --json, CSV), and the exit code says not all succeeded."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from emr_exporter.demo.clinic import create_demo_clinic
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.jobs.batch import STATE_FILE, load_plan
from emr_exporter.upload.store import ReferenceStore, StoreServer

CLI = [str(Path(sys.executable).with_name("emr-export"))]
PASSWORD_ENV = "BATCH_TEST_CERT_PASSWORD"


@pytest.fixture
def receipt_store(tmp_path: Path) -> Iterator[tuple[StoreServer, ReferenceStore, Path]]:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "receipt-cert.pem"
    pem.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    store = ReferenceStore(tmp_path / "store", key)
    server = store.serve("127.0.0.1", 0).start()
    yield server, store, pem
    server.stop()


def _plan(tmp_path: Path, server: StoreServer, receipt_pem: Path) -> Path:
    keys = make_demo_keys(tmp_path / "keys")
    lines = [
        "concurrency = 2",
        "[defaults]",
        'connector = "demo"',
        f'certificate = "{keys.institution_p12}"',
        f'certificate_password_env = "{PASSWORD_ENV}"',
        f'store_cert = "{keys.store_cert}"',
        f'store = "{server.url}"',
        f'receipt_cert = "{receipt_pem}"',
    ]
    for number in range(1, 6):
        folder = tmp_path / f"clinic-{number}"
        folder.mkdir()
        database = folder / "emr.sqlite"
        if number == 3:
            database.write_bytes(b"this is not a database\n" * 100)  # the broken clinic
        else:
            create_demo_clinic(database, patients=30 + 10 * number, seed=number, attachments_dir=folder / "att")
        lines += ["[[clinic]]", f'name = "clinic-{number}"', f'source = "clinic-{number}/emr.sqlite"',
                  f'attachments = "clinic-{number}/att"', f'out = "out/clinic-{number}"']
    plan = tmp_path / "plan.toml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def _env() -> dict[str, str]:
    env = {**os.environ, PASSWORD_ENV: "demo", "PYTHONUNBUFFERED": "1"}
    env.pop("EMR_EXPORTER_CERT_PASSWORD", None)
    return env


def _running_at_once(stderr: str) -> int:
    """The most clinics the live table ever showed in export/upload at the same time."""
    stage: dict[str, str] = {}
    most = 0
    for line in stderr.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("clinic-"):
            stage[parts[0]] = parts[1]
            most = max(most, sum(s in ("export", "upload") for s in stage.values()))
    return most


@pytest.mark.slow
def test_batch_of_five_survives_kill_9_and_rerun(
    tmp_path: Path, receipt_store: tuple[StoreServer, ReferenceStore, Path]
) -> None:
    server, store, receipt_pem = receipt_store
    plan_path = _plan(tmp_path, server, receipt_pem)
    plan = load_plan(plan_path)
    states = {c.name: c.out / STATE_FILE for c in plan.clinics}

    # First run, in its own process group, killed (all of it: the batch and its workers) with SIGKILL as soon
    # as one clinic is finished and others are not.
    first = subprocess.Popen([*CLI, "batch", str(plan_path)], cwd=tmp_path, env=_env(), start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    finished: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline and first.poll() is None:
        finished = {}
        for name, path in states.items():
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                if data["result"] == "uploaded":
                    finished[name] = data
        if finished:
            break
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    assert first.returncode == -signal.SIGKILL
    assert 1 <= len(finished) < 4, "the kill should land mid-batch"
    first_stderr = first.stderr.read() if first.stderr else ""
    assert _running_at_once(first_stderr) <= 2
    receipts_before = {name: Path(str(data["receipt"])).read_bytes() for name, data in finished.items()}
    bundles_before = {name: Path(str(data["bundle"])).stat().st_mtime_ns for name, data in finished.items()}

    # Second run: finishes the rest; the broken clinic fails on its own; the exit code says not all succeeded.
    second = subprocess.run([*CLI, "batch", str(plan_path), "--jobs", "2", "--json"], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=600)
    assert second.returncode == 1, second.stderr
    assert second.stderr == ""  # --json: no live table
    summary = json.loads(second.stdout)
    clinics = {c["name"]: c for c in summary["clinics"]}
    assert summary["all_succeeded"] is False and summary["exit_code"] == 1
    assert [c["name"] for c in summary["clinics"]] == [f"clinic-{n}" for n in range(1, 6)]

    broken = clinics.pop("clinic-3")
    assert broken["result"] == "failed" and broken["bundle"] is None and broken["receipt_number"] is None
    assert broken["message"] and "emr.sqlite" in broken["message"]

    for name, clinic in clinics.items():
        number = int(name.split("-")[1])
        assert clinic["result"] == "uploaded" and clinic["upload_state"] == "accepted"
        assert clinic["receipt_number"] and Path(clinic["receipt"]).is_file()
        totals = clinic["reconciliation"]["totals"]
        assert clinic["reconciliation"]["balanced"] is True
        assert totals["source_rows"] == totals["exported"] + totals["quarantined"] > 0
        # Each bundle arrived byte-identical in the store.
        bundle = Path(clinic["bundle"])
        stored = [p for p in store.uploads_dir.rglob("*") if p.is_file() and p.stat().st_size == bundle.stat().st_size
                  and p.read_bytes() == bundle.read_bytes()]
        assert stored, name
        assert bundle.parent == tmp_path / "out" / f"clinic-{number}"
        if name in finished:
            # Not redone: same bundle file, same receipt, one attempt only.
            assert clinic["from_earlier_run"] is True and clinic["attempts"] == 1
            assert bundle.stat().st_mtime_ns == bundles_before[name]
            assert Path(clinic["receipt"]).read_bytes() == receipts_before[name]
        else:
            assert clinic["from_earlier_run"] is False
    # Different clinics, different bundles.
    assert len({c["bundle_id"] for c in clinics.values()}) == 4

    # The CSV says the same, one row per clinic.
    with open(summary["csv"], encoding="utf-8-sig", newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == [f"clinic-{n}" for n in range(1, 6)]
    assert rows["clinic-3"]["result"] == "failed"
    for name, clinic in clinics.items():
        assert rows[name]["result"] == "uploaded" and rows[name]["receipt_number"] == clinic["receipt_number"]
        # every row of the clinic: the mapped ones and the carried tables' (the demo's logs and settings)
        carried = sum(t["carried"] for t in clinic["reconciliation"]["tables"])
        assert carried > 0 and int(rows[name]["carried_whole"]) == carried
        assert int(rows[name]["source_rows"]) == clinic["reconciliation"]["totals"]["source_rows"] + carried == (
            int(rows[name]["exported"]) + carried + int(rows[name]["quarantined"]))

    # A third run redoes nothing and prints the text summary.
    third = subprocess.run([*CLI, "batch", str(plan_path)], cwd=tmp_path, env=_env(), capture_output=True,
                           text=True, timeout=300)
    assert third.returncode == 1
    lines = third.stdout.strip().splitlines()
    assert lines[-1] == f"4 of 5 clinics done. Summary: {plan_path.with_name('plan-summary.csv')}"
    assert sum("(finished in an earlier run, not redone)" in line for line in lines) == 4
    assert any(line.startswith("clinic-3: failed - no export") for line in lines)


def test_plan_never_holds_passwords(tmp_path: Path) -> None:
    from emr_exporter.errors import ConfigError

    plan = tmp_path / "plan.csv"
    plan.write_text("name,connector,source,out,certificate,store_cert,certificate_password\n"
                    "a,demo,a.sqlite,out/a,c.p12,s.pem,secret\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_plan(plan)
    assert "a plan never holds passwords" in str(caught.value) and "secret" not in str(caught.value)


def test_csv_plan_resolves_paths_beside_the_plan(tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text("name,connector,source,attachments,out,certificate,store_cert,store,institution_code\n"
                    "a,demo,db/a.sqlite,db/att,out/a,keys/c.p12,keys/s.pem,https://store.example.kr/files/,"
                    "12345678\n", encoding="utf-8")
    (clinic,) = load_plan(plan).clinics
    assert (clinic.name, clinic.source, clinic.out, clinic.store, clinic.institution_code) == (
        "a", tmp_path / "db/a.sqlite", tmp_path / "out/a", "https://store.example.kr/files/", "12345678")


def test_a_clinic_that_failed_in_its_export_is_not_shown_as_still_exporting(tmp_path: Path) -> None:
    """The live table once counted a failed clinic as exporting for the rest of the batch (its saved stage
    is where it stopped), so three clinics looked busy with two workers."""
    from emr_exporter.jobs.batch import ClinicProgress, run_batch

    keys = make_demo_keys(tmp_path / "keys")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "emr.sqlite").write_bytes(b"this is not a database\n" * 100)
    plan_path = tmp_path / "plan.toml"
    plan_path.write_text("\n".join([
        "concurrency = 1", "[defaults]", 'connector = "demo"', f'certificate = "{keys.institution_p12}"',
        f'certificate_password_env = "{PASSWORD_ENV}"', f'store_cert = "{keys.store_cert}"',
        'store = "https://127.0.0.1:9/"',
        "[[clinic]]", 'name = "broken"', 'source = "broken/emr.sqlite"', 'out = "out/broken"',
    ]) + "\n", encoding="utf-8")
    tables: list[dict[str, tuple[str, str | None]]] = []

    def seen(table: dict[str, ClinicProgress]) -> None:
        tables.append({name: (row.stage, row.result) for name, row in table.items()})

    outcome = run_batch(load_plan(plan_path), {PASSWORD_ENV: "demo"}, on_update=seen)
    [clinic] = outcome.clinics
    assert clinic.result == "failed" and clinic.stage == "export"  # the saved state says where it stopped
    assert tables[-1] == {"broken": ("done", "failed")}  # the live table: finished, not exporting
