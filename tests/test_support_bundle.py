"""emr-export support-bundle: what a help desk needs, and provably no patient data.

A demo clinic gets planted patient names, resident registration numbers and phone numbers (some in rows that
are quarantined, so they travel the error paths too). The clinic is exported, run through a batch next to a
broken clinic, uploaded to the reference store, and the wizard's state is saved; then the support zip is made
and every member is searched for every planted value as UTF-8, CP949 and JSON \\u escapes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from emr_exporter.demo.clinic import create_demo_clinic
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.jobs.resume import WizardState, save_state
from emr_exporter.upload.store import ReferenceStore

CLI = [str(Path(sys.executable).with_name("emr-export"))]
NAMES = ["김플랜트", "박누설금지", "쀍똠방"]  # the last one only exists in CP949 (UHC), not in EUC-KR
RRNS = ["900101-1234567", "851231-2345678", "020202-4123456"]
PHONES = ["010-9876-5432", "02-3456-7890", "031-765-4321"]


def _plant(database: Path) -> None:
    with sqlite3.connect(database) as db:
        ids = [row[0] for row in db.execute("SELECT PT_NO FROM PT_MASTER ORDER BY PT_NO LIMIT 4")]
        for pt_no, name, rrn, phone in zip(ids, NAMES, RRNS, PHONES, strict=False):
            db.execute("UPDATE PT_MASTER SET PT_NM = ?, JUMIN_NO = ?, TEL = ? WHERE PT_NO = ?",
                       (name.encode("cp949"), rrn, phone, pt_no))
        # A patient that will be quarantined (no name is required-missing) still carries an RRN and a phone.
        db.execute("UPDATE PT_MASTER SET PT_NM = NULL, JUMIN_NO = ?, TEL = ? WHERE PT_NO = ?",
                   (RRNS[0].replace("-", ""), PHONES[0].replace("-", ""), ids[3]))
        # And in free text of a chart note and an address.
        db.execute("UPDATE CHART_REC SET CC = ? WHERE REC_NO = (SELECT MIN(REC_NO) FROM CHART_REC)",
                   (f"{NAMES[1]} {RRNS[1]} {PHONES[1]}".encode("cp949"),))
        db.execute("UPDATE PT_MASTER SET ADDR = ? WHERE PT_NO = ?", (f"{NAMES[2]} 집 {PHONES[2]}", ids[0]))


def _forms(value: str) -> list[bytes]:
    forms = {value.encode("utf-8"), value.encode("cp949"), json.dumps(value).strip('"').encode("ascii")}
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits and len(digits) >= 9:
        forms.add(digits.encode("ascii"))  # the same number without separators
    return sorted(forms)


def test_support_bundle_has_what_the_help_desk_needs_and_no_planted_patient_data(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    database = clinic / "emr.sqlite"
    create_demo_clinic(database, patients=25, seed=7, attachments_dir=clinic / "att")
    _plant(database)
    keys = make_demo_keys(tmp_path / "keys")
    home = tmp_path / "home"
    env = {**os.environ, "EMR_EXPORTER_CERT_PASSWORD": "demo", "EMR_EXPORTER_HOME": str(home)}

    # 1. An export (its summary beside the bundle), then an upload to the reference store (its journal).
    out = tmp_path / "runs" / "export"
    done = subprocess.run([*CLI, "export", "--connector", "demo", "--source", str(database), "--attachments-root",
                           str(clinic / "att"), "--out", str(out), "--cert", str(keys.institution_p12),
                           "--store-cert", str(keys.store_cert), "--json"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert exported["reconciliation"]["totals"]["quarantined"] >= 1
    receipt_key = ed25519.Ed25519PrivateKey.generate()
    receipt_pem = tmp_path / "receipt.pem"
    receipt_pem.write_bytes(receipt_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    server = ReferenceStore(tmp_path / "store", receipt_key).serve("127.0.0.1", 0).start()
    try:
        uploaded = subprocess.run([*CLI, "upload", exported["bundle"]["path"], "--store", server.url,
                                   "--receipt-cert", str(receipt_pem), "--json"], env=env, capture_output=True,
                                  text=True, timeout=300)
    finally:
        server.stop()
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr

    # 2. A batch: the same clinic, and a broken one whose error message is kept.
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database" * 50)
    plan = tmp_path / "runs" / "plan.csv"
    plan.write_text(
        "name,connector,source,attachments,out,certificate,store_cert\n"
        f"good,demo,{database},{clinic / 'att'},batch/good,{keys.institution_p12},{keys.store_cert}\n"
        f"broken,demo,{broken},,batch/broken,{keys.institution_p12},{keys.store_cert}\n", encoding="utf-8")
    batch = subprocess.run([*CLI, "batch", str(plan), "--jobs", "2", "--json"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert batch.returncode == 1, batch.stderr

    # 3. The wizard's state, as the wizard saves it (an ODBC string with a password is stored redacted).
    os.environ["EMR_EXPORTER_HOME"] = str(home)
    try:
        save_state(WizardState(step="upload", institution_code="99350017", institution_name="햇살가정의원(가상)",
                               connector="demo", database=str(database), odbc="DRIVER=MariaDB;UID=u;PWD=s3cr3t",
                               out_dir=str(out), bundle_id=exported["bundle"]["bundle_id"]))
    finally:
        del os.environ["EMR_EXPORTER_HOME"]

    zip_path = tmp_path / "support.zip"
    made = subprocess.run([*CLI, "support-bundle", str(zip_path), "--runs", str(tmp_path / "runs"), "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(zip_path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(members) == ["README.txt", "connectors.json", "odbc.json", "runs.json", "system.json",
                               "timings.json", "versions.json", "wizard-state.json"]

    # What the help desk needs is there.
    versions = json.loads(members["versions.json"])
    assert versions["emr_exporter"] and versions["python"] == sys.version.split()[0]
    assert "SQLite3" in json.loads(members["odbc.json"])["drivers"]
    assert {c["name"] for c in json.loads(members["connectors.json"])} >= {"demo", "openemr"}
    runs = json.loads(members["runs.json"])
    kinds = sorted(run["kind"] for run in runs)
    assert kinds.count("batch clinic") == 2 and "export" in kinds and "upload" in kinds
    by_name = {run.get("name"): run for run in runs if run["kind"] == "batch clinic"}
    assert by_name["broken"]["result"] == "failed"
    assert by_name["broken"]["message"] == "broken.sqlite is not a readable SQLite database (file is not a database)."
    assert by_name["good"]["reconciliation"]["totals"] == exported["reconciliation"]["totals"]
    # every row, the ones carried whole too (the demo's other tables), counts only
    carried = sum(t["carried"] for t in exported["reconciliation"]["tables"])
    assert by_name["good"]["reconciliation"]["row_totals"] == {
        **{k: exported["reconciliation"]["totals"][k] for k in ("exported", "quarantined")},
        "source_rows": exported["reconciliation"]["totals"]["source_rows"] + carried, "carried": carried,
        "carried_tables": carried, "carried_sections": 0}
    (upload_run,) = [run for run in runs if run["kind"] == "upload"]
    assert upload_run["uploads"][0]["state"] == "accepted" and upload_run["uploads"][0]["receipt_number"]
    wizard = json.loads(members["wizard-state.json"])
    assert wizard["step"] == "upload" and "s3cr3t" not in json.dumps(wizard)
    assert json.loads(members["timings.json"])["collect_seconds"].keys() >= {"versions", "odbc", "runs"}

    # No planted value, in any encoding, anywhere (nor the password).
    planted = [*NAMES, *RRNS, *PHONES, "s3cr3t"]
    leaks = [(value, name) for value in planted for form in _forms(value) for name, data in members.items()
             if form in data]
    assert leaks == []
    # The same search over the raw zip (names of members, comments), for completeness.
    raw = zip_path.read_bytes()
    assert [value for value in planted for form in _forms(value) if form in raw] == []
