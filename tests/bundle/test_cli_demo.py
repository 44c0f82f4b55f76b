"""`emr-export demo` → sealed file → `verify` → `open`: identical bag, no PHI on disk; CLI error paths."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from emr_exporter.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--patients", "20", "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output)


def _phi_needles(database: Path) -> list[bytes]:
    needles: list[bytes] = []
    with sqlite3.connect(database) as conn:
        for name, rrn in conn.execute("SELECT PT_NM, JUMIN_NO FROM PT_MASTER"):
            if isinstance(name, bytes):
                try:
                    text = name.decode("cp949")
                except UnicodeDecodeError:
                    text = ""
                if len(text) >= 2:
                    needles += [text.encode("utf-8"), name]
            if rrn and len(rrn) == 13:
                needles += [rrn.encode(), f"{rrn[:6]}-{rrn[6:]}".encode()]
    return needles


def test_demo_round_trip_is_byte_identical_and_leaves_no_phi(tmp_path: Path, demo) -> None:
    out, outcome = demo
    bundle = Path(outcome["bundle"]["path"])
    keys = out / "demo-keys"
    runner = CliRunner()

    verified = runner.invoke(main, ["verify", str(bundle), "--trust-anchor", str(keys / "demo-ca.pem"), "--json"])
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["ok"] and report["trusted"] and report["bundle_id"] == outcome["bundle"]["bundle_id"]
    assert report["size"] == outcome["bundle"]["bytes"] == bundle.stat().st_size
    assert report["plaintext_size"] == outcome["bag"]["bytes"]
    # emrx/v2 compresses the bag inside the seal: the demo bundle is at most 1/8 of its bag
    assert report["format"] == "emrx/v2" and outcome["bundle"]["bytes"] * 8 <= outcome["bag"]["bytes"]

    opened = runner.invoke(main, ["open", str(bundle), "--key", str(keys / "store-key.pem"),
                                  "--out", str(tmp_path / "opened"), "--json"])
    assert opened.exit_code == 0, opened.output
    result = json.loads(opened.output)
    # The decrypted tar is exactly the bag stream the pipeline produced.
    assert result["plaintext_sha256"] == outcome["bag"]["sha256"]
    assert result["reconciliation"] is not None
    bag_dir = Path(result["bag_dir"])
    assert (bag_dir / "tagmanifest-sha256.txt.p7s").is_file()

    # No plaintext PHI anywhere the export wrote (the source database and its scans excluded).
    needles = _phi_needles(out / "demo-clinic.sqlite")
    assert len(needles) > 20
    written = [p for p in out.rglob("*") if p.is_file()
               and p.name != "demo-clinic.sqlite" and (out / "attachments") not in p.parents]
    assert bundle in written
    for path in written:
        data = path.read_bytes()
        assert not [n for n in needles if n in data], path
    # ...while the opened bag does contain them (the scan would catch a leak).
    ndjson = b"".join(p.read_bytes() for p in bag_dir.rglob("*.ndjson"))
    assert any(n in ndjson for n in needles)


def test_verify_reports_attack_with_exit_code(tmp_path: Path, demo) -> None:
    _, outcome = demo
    data = bytearray(Path(outcome["bundle"]["path"]).read_bytes())
    data[len(data) // 2] ^= 0x10
    damaged = tmp_path / "damaged.emrx"
    damaged.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["verify", str(damaged), "--json"])
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["code"] == "bundle" and "was changed after sealing" in error["message"]


def test_open_with_encrypted_key_from_env(tmp_path: Path, demo, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization

    out, outcome = demo
    key = serialization.load_pem_private_key((out / "demo-keys" / "store-key.pem").read_bytes(), None)
    locked = tmp_path / "store-key-locked.pem"
    locked.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"s3cret")))
    runner = CliRunner()
    monkeypatch.setenv("STORE_PW", "wrong")
    bad = runner.invoke(main, ["open", outcome["bundle"]["path"], "--key", str(locked), "--key-password-env",
                               "STORE_PW", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 1 and "Wrong password for the store key" in bad.output
    assert "wrong" not in bad.output.replace("Wrong", "")  # the password itself is never echoed
    monkeypatch.setenv("STORE_PW", "s3cret")
    good = runner.invoke(main, ["open", outcome["bundle"]["path"], "--key", str(locked), "--key-password-env",
                                "STORE_PW", "--out", str(tmp_path / "o")])
    assert good.exit_code == 0, good.output
    assert "Result:       OK, opened and verified." in good.output
    prompted = runner.invoke(main, ["open", outcome["bundle"]["path"], "--key", str(locked), "--out",
                                    str(tmp_path / "p")], input="s3cret\n")
    assert prompted.exit_code == 0, prompted.output
    assert "s3cret" not in prompted.output


def test_opened_tar_matches_members(tmp_path: Path, demo) -> None:
    """Sanity: tar member bytes equal the extracted files (byte-identical extraction)."""
    out, outcome = demo
    from emr_exporter.bundle.keys import load_store_private_key
    from emr_exporter.bundle.reader import _PlaintextReader, _verify, open_bundle, unwrap_key

    store_key = load_store_private_key(out / "demo-keys" / "store-key.pem")
    report = open_bundle(Path(outcome["bundle"]["path"]), store_key, tmp_path / "x")
    verified = _verify(Path(outcome["bundle"]["path"]), None)
    import base64

    from emr_exporter.bundle import format as fmt

    key = unwrap_key(store_key, verified.report.header["key_wrap"]["alg"],
                     base64.b64decode(verified.report.header["key_wrap"]["wrapped_key"]),
                     info=fmt.hpke_info(report.verify.bundle_id))
    assert key is not None
    plain = _PlaintextReader(Path(outcome["bundle"]["path"]), verified, key).read()
    assert hashlib.sha256(plain).hexdigest() == outcome["bag"]["sha256"]
    root = report.bag_dir.parent
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                assert (root / member.name).read_bytes() == tar.extractfile(member).read()
