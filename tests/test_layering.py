"""The core never imports Qt; the CLI answers --help without loading heavy modules."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import emr_exporter


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(emr_exporter.__path__, "emr_exporter."):
        if info.name.startswith("emr_exporter.gui"):
            continue
        names.append(info.name)
    return sorted(names)


def test_no_core_module_imports_qt() -> None:
    modules = _core_modules()
    assert "emr_exporter.pipeline.export" in modules and "emr_exporter.cli" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(done.stdout) == []


def test_help_does_not_load_heavy_modules() -> None:
    code = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from emr_exporter.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ('cryptography', 'pyodbc', 'requests', 'fpdf', 'PySide6', 'fhir')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(done.stdout) == []
