"""The frozen app (PyInstaller, installer/emr-exporter.spec) and the Windows installer script.

Builds the onedir app once per session (about a minute on 2 shared cores), then runs the FROZEN
launchers: the contractor's ``emr-export`` end to end on the demo clinic, and the founder's wizard
offscreen. Finally compiles installer/emr-exporter.nsi with makensis on that (Linux) payload, which
checks the script itself; the Windows payload is built on Windows (docs/installer.md).

Set EMR_EXPORTER_FROZEN_APP=<dist/emr-exporter> to test an existing build instead of building.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "installer" / "emr-exporter.spec"
NSIS_SCRIPT = ROOT / "installer" / "emr-exporter.nsi"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    existing = os.environ.get("EMR_EXPORTER_FROZEN_APP")
    if existing:
        return Path(existing)
    out = tmp_path_factory.mktemp("pyinstaller")
    subprocess.run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR",
            "--distpath", str(out / "dist"), "--workpath", str(out / "build"), str(SPEC),
        ],
        cwd=ROOT, check=True, capture_output=True, timeout=900,
    )
    return out / "dist" / "emr-exporter"


@pytest.fixture
def clean_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The frozen app must not see the developer's home, journals or connector search path."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("EMR_EXPORTER_", "PYTHON", "XDG_")) and key not in ("VIRTUAL_ENV", "QT_PLUGIN_PATH")
    }
    env.update(HOME=str(home), EMR_EXPORTER_HOME=str(home / "state"), QT_QPA_PLATFORM="offscreen")
    yield env


def run_frozen(app: Path, launcher: str, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(app / f"{launcher}{EXE_SUFFIX}"), *args],
        env=env, cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=300,
    )


def test_folder_holds_two_launchers_connectors_resources_and_korean_qt(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    assert (frozen_app / f"emr-exporter{EXE_SUFFIX}").is_file()
    assert (frozen_app / f"emr-export{EXE_SUFFIX}").is_file()
    for source in [*(ROOT / "connectors").rglob("*"), *(ROOT / "src" / "emr_exporter" / "resources").rglob("*")]:
        if source.is_file() and "__pycache__" not in source.parts:
            relative = source.relative_to(ROOT)
            if relative.parts[0] == "src":  # packaged resources keep their package path
                relative = relative.relative_to("src")
            shipped = internal / relative
            assert shipped.read_bytes() == source.read_bytes(), shipped
    assert (internal / "connectors" / "demo" / "hooks.py").is_file()
    # The IANA zones for a connector's non-Seoul timezone (Windows has no system tz database).
    assert (internal / "tzdata" / "zoneinfo" / "America" / "New_York").read_bytes().startswith(b"TZif")
    qt = internal / "PySide6" / "Qt"
    assert (qt / "translations" / "qtbase_ko.qm").is_file()
    assert sorted(p.name for p in (qt / "translations").iterdir()) == ["qt_ko.qm", "qtbase_ko.qm"]
    # Unused Qt parts stay out: no TLS/network/Wayland/EGL plugins, no QtNetwork/QtQml bindings (the wizard's
    # one-window lock uses plain sockets, gui/app.py).
    assert {p.name for p in (qt / "plugins").iterdir()} <= {
        "imageformats", "platforminputcontexts", "platforms", "styles", "xcbglintegrations",
    }
    assert not list(internal.rglob("*QtNetwork*")) and not list(internal.rglob("*Qt6Qml*"))
    assert not [p for p in internal.rglob("*") if "tls" in p.name.lower() and "plugin" in str(p).lower()]
    assert not list(frozen_app.rglob("*pydantic*")), "fhir.resources/pydantic are test-only"
    dangling = [p for p in frozen_app.rglob("*") if p.is_symlink() and not p.exists()]
    assert dangling == []


def test_frozen_cli_help(frozen_app: Path, clean_env: dict[str, str], tmp_path: Path) -> None:
    result = run_frozen(frozen_app, "emr-export", "--help", env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: emr-export [OPTIONS] COMMAND [ARGS]...")
    for command in ("demo", "verify", "export", "upload", "connectors"):
        assert f"\n  {command} " in result.stdout


def test_frozen_cli_finds_builtin_connectors_without_entry_points(
    frozen_app: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_frozen(frozen_app, "emr-export", "connectors", "--json", env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = {c["name"]: c["origin"] for c in json.loads(result.stdout)}
    builtin = sorted(p.parent.name for p in (ROOT / "connectors").glob("*/connector.toml"))
    assert sorted(listed) == builtin
    for name, origin in listed.items():
        assert origin.startswith("folder ") and origin.endswith(str(Path("_internal") / "connectors" / name))


def test_frozen_demo_export_verify_open_report(frozen_app: Path, clean_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "demo"
    demo = run_frozen(frozen_app, "emr-export", "demo", "--out", str(out), "--patients", "20", "--json",
                      env=clean_env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    outcome = json.loads(demo.stdout)
    assert outcome["reconciliation"]["balanced"] is True
    bundle = Path(outcome["bundle"]["path"])
    assert bundle.parent == out and bundle.stat().st_size == outcome["bundle"]["bytes"]

    verify = run_frozen(frozen_app, "emr-export", "verify", "--json", str(bundle), env=clean_env, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    report = json.loads(verify.stdout)
    assert report["ok"] is True and report["bundle_id"] == outcome["bundle"]["bundle_id"]

    # The frozen build's bundle is a real bundle: the source tree's reader accepts it too.
    from emr_exporter.bundle.reader import verify_bundle

    assert verify_bundle(bundle).bundle_id == outcome["bundle"]["bundle_id"]

    # ... and the frozen verifier really checks: one flipped byte in the encrypted part is refused.
    tampered = tmp_path / bundle.name.replace(".emrx", "-tampered.emrx")
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    refused = run_frozen(frozen_app, "emr-export", "verify", str(tampered), env=clean_env, cwd=tmp_path)
    assert refused.returncode != 0
    # Not a terminal: plain progress lines may come first; the error is the last line, a line of its own.
    *progress_lines, error_line = refused.stderr.splitlines()
    assert error_line.startswith("Error: ")
    assert all(line.startswith(f"{tampered.name} verify: ") for line in progress_lines)

    opened = run_frozen(
        frozen_app, "emr-export", "open", "--key", str(out / "demo-keys" / "store-key.pem"),
        "--out", str(tmp_path / "opened"), "--json", str(bundle), env=clean_env, cwd=tmp_path,
    )
    assert opened.returncode == 0, opened.stderr
    bag = tmp_path / "opened" / outcome["bundle"]["bundle_id"] / "bag"
    assert (bag / "bagit.txt").read_text(encoding="utf-8").startswith("BagIt-Version: ")
    exported_patients = next(e["exported"] for e in outcome["reconciliation"]["entities"] if e["entity"] == "patient")
    patients = [line for f in sorted((bag / "data" / "fhir").glob("Patient.*.ndjson")) for line in f.read_text(encoding="utf-8").splitlines()]
    assert len(patients) == exported_patients > 0

    # The transfer report PDF needs fpdf2, Pillow and the Nanum font from resources/.
    pdf = run_frozen(frozen_app, "emr-export", "report", "--json", "--out", str(tmp_path / "report.pdf"),
                     str(bundle), env=clean_env, cwd=tmp_path)
    assert pdf.returncode == 0, pdf.stderr
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")


def smoke_test_report(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, object]:
    result = subprocess.run([*command, "--smoke-test", "--lang", "ko"], env=env, cwd=cwd,
                            capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_frozen_wizard_shows_its_first_page_in_korean(
    frozen_app: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    frozen = smoke_test_report([str(frozen_app / f"emr-exporter{EXE_SUFFIX}")], clean_env, tmp_path)
    source = smoke_test_report([sys.executable, str(ROOT / "installer" / "entry_gui.py")], clean_env, tmp_path)
    assert frozen["frozen"] is True and source["frozen"] is False
    assert frozen["platform"] == "offscreen"
    # Same first page as the source tree shows, and Qt's own Korean buttons from the frozen folder.
    assert frozen["first_page_title"] and frozen["first_page_title"] == source["first_page_title"]
    assert frozen["window_title"] == source["window_title"]
    assert frozen["next_button"] == "다음 (&N) >"
    assert frozen["cancel_button"] == "취소"
    assert Path(str(frozen["qt_translations"])).resolve() == (frozen_app / "_internal" / "PySide6" / "Qt" / "translations").resolve()


def test_nsis_script_compiles_on_the_linux_payload(frozen_app: Path, tmp_path: Path) -> None:
    assert shutil.which("makensis"), "makensis (Debian package nsis) is missing: .ci/install-system.sh installs it"
    installer = tmp_path / "emr-exporter-0.0.0-setup.exe"
    result = subprocess.run(
        [
            "makensis", "-V2", "-WX", "-INPUTCHARSET", "UTF8", "-DVERSION=0.0.0", f"-DDIST={frozen_app}",
            f"-DOUTFILE={installer}", "-DCOMPRESSOR=off", str(NSIS_SCRIPT),
        ],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with installer.open("rb") as f:
        head = f.read(4096)
        assert head[:2] == b"MZ"
        pe = int.from_bytes(head[0x3C:0x40], "little")
        assert head[pe:pe + 4] == b"PE\0\0"
        assert int.from_bytes(head[pe + 4:pe + 6], "little") == 0x8664  # x86-64 (Target amd64-unicode)
        seen = found_markers(f, [b"NullsoftInst", b'level="asInvoker"'])
    # NullsoftInst: the NSIS payload header; asInvoker: RequestExecutionLevel user (no UAC prompt).
    assert seen == {b"NullsoftInst", b'level="asInvoker"'}
    payload = sum(p.stat().st_size for p in frozen_app.rglob("*") if p.is_file() and not p.is_symlink())
    assert installer.stat().st_size > payload  # uncompressed: every file of the app is inside


def found_markers(f: BinaryIO, markers: list[bytes]) -> set[bytes]:
    """Which markers occur in the rest of an open binary file, read in chunks (the file is ~150 MB)."""
    f.seek(0)
    seen: set[bytes] = set()
    overlap = max(len(m) for m in markers)
    tail = b""
    while chunk := f.read(1 << 20):
        window = tail + chunk
        seen.update(m for m in markers if m in window)
        tail = window[-overlap:]
    return seen
