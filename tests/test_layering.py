"""The core never imports Qt; the CLI answers --help without loading heavy modules."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

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


# ------------------------------------------------------------------------------ the one door (ast)

SRC = Path(emr_exporter.__file__).resolve().parent
#: What cli/ and gui/ may import from the core: the jobs (the one door), the error tree, the model and the
#: resources accessor; plus ``__version__`` and their own package.
DOOR = ("emr_exporter.jobs", "emr_exporter.errors", "emr_exporter.model", "emr_exporter.resources")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every ``emr_exporter`` import in ``source`` as (line, dotted target), at any depth (function bodies,
    ``if TYPE_CHECKING``), relative imports resolved. ``from pkg import name`` yields ``pkg.name``."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return [(line, name) for line, name in found if name == "emr_exporter" or name.startswith("emr_exporter.")]


def _door_violations(source: str, module: str, is_package: bool = False) -> list[str]:
    front = ".".join(module.split(".")[:2])  # emr_exporter.cli or emr_exporter.gui
    allowed = (*DOOR, front)
    bad = []
    for line, name in _imports(source, module, is_package):
        if name == "emr_exporter.__version__" or any(name == a or name.startswith(a + ".") for a in allowed):
            continue
        bad.append(f"{module}:{line} imports {name}")
    return bad


def test_cli_and_gui_import_only_the_door() -> None:
    files = [p for front in ("cli", "gui") for p in sorted((SRC / front).rglob("*.py"))]
    assert len(files) > 15
    violations = [
        v for path in files for v in _door_violations(path.read_text("utf-8"), _module_name(path),
                                                      path.name == "__init__.py")
    ]
    assert violations == []


def test_the_door_check_catches_every_kind_of_forbidden_import() -> None:
    # A forbidden import at module level, inside a function, as ``import x.y``, relative, and from the other front.
    source = (
        "from emr_exporter.jobs.upload import run_upload\n"
        "from emr_exporter import errors, __version__\n"
        "from . import texts\n"
        "def later():\n"
        "    from emr_exporter.bundle.keys import load_signer\n"
        "    import emr_exporter.upload.tus as tus\n"
        "    from ..sources import connect\n"
        "    from emr_exporter import pipeline\n"
        "    from emr_exporter.cli import main\n"
    )
    # ``from . import texts`` resolves inside gui (allowed); everything else is caught, with its line.
    assert [v.split(" imports ")[1] for v in _door_violations(source, "emr_exporter.gui.pages.upload")] == [
        "emr_exporter.bundle.keys.load_signer",
        "emr_exporter.upload.tus",
        "emr_exporter.pipeline",
        "emr_exporter.cli.main",
    ]
    assert _door_violations("from ...sources import connect\n", "emr_exporter.gui.pages.emr") == [
        "emr_exporter.gui.pages.emr:1 imports emr_exporter.sources.connect"
    ]


# ------------------------------------------------------------------------------------ no import cycle


def _core_graph() -> dict[str, set[str]]:
    """Core module -> the core modules it imports (any depth, function-level imports too)."""
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        if module.startswith(("emr_exporter.cli", "emr_exporter.gui")):
            continue
        targets = set()
        for _, name in _imports(path.read_text("utf-8"), module, path.name == "__init__.py"):
            while name and name not in paths:  # ``pkg.module.function`` -> ``pkg.module``
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_core_has_no_import_cycle() -> None:
    graph = _core_graph()
    assert "emr_exporter.jobs.service" in graph and "emr_exporter.pipeline.export" in graph["emr_exporter.jobs.service"]
    assert _cycles(graph) == []
    # The check itself finds a cycle, however long, and through a function-level import.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_door_reaches_the_jobs() -> None:
    # The jobs sit on top of the core: a core module importing them would turn the door into a cycle.
    graph = _core_graph()
    upward = sorted(
        f"{module} -> {target}" for module, targets in graph.items() if not module.startswith("emr_exporter.jobs")
        for target in targets if target.startswith("emr_exporter.jobs")
    )
    assert upward == []


def test_connector_hooks_import_only_the_connector_api() -> None:
    root = SRC.parents[1] / "connectors"
    hooks = sorted(root.glob("*/hooks.py"))
    assert {p.parent.name for p in hooks} >= {"demo", "openemr"}
    bad = [
        f"{path.relative_to(root)}:{line} imports {name}"
        for path in hooks
        for line, name in _imports(path.read_text("utf-8"), f"emr_exporter_connectors.{path.parent.name}.hooks")
        if not name.startswith("emr_exporter.connectors.api.")
    ]
    assert bad == []
    from emr_exporter.connectors import api

    assert sorted(api.__all__) == ["ENTITY_TYPES", "RowRejected", "key_text", "mask_rrn", "record_id"]
