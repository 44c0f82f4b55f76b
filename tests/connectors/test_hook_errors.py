"""A connector's hooks.py that fails: a ConnectorSpecError naming the file and line, never a traceback
and never the exception's text when it ran on a row (it may quote patient data)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.connectors.mapper import load_hooks
from emr_exporter.errors import ConnectorSpecError
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import SqliteFileSource

DEMO = Path(__file__).resolve().parents[2] / "connectors" / "demo" / "connector.toml"


def connector_with_hooks(tmp_path: Path, hooks: str) -> Path:
    folder = tmp_path / "hooked"
    folder.mkdir()
    (folder / "connector.toml").write_text(
        DEMO.read_text(encoding="utf-8").replace('name = "demo"', 'name = "hooked"', 1), encoding="utf-8"
    )
    (folder / "hooks.py").write_text(hooks, encoding="utf-8")
    return tmp_path


def test_hooks_that_fail_to_import_name_file_and_line(tmp_path: Path) -> None:
    dirs = connector_with_hooks(tmp_path, "import os\nraise RuntimeError('boom')\n")
    with pytest.raises(ConnectorSpecError) as caught:
        load_hooks(load_connector("hooked", extra_dirs=[dirs]))
    assert str(caught.value) == f"{tmp_path / 'hooked' / 'hooks.py'}:2: hooks.py: cannot be loaded: RuntimeError: boom"


def test_hook_failing_on_a_row_hides_the_values(demo_clinic, tmp_path: Path) -> None:
    hooks = (
        "def map_row(entity, row, values):\n"
        "    if entity == 'patient':\n"
        "        raise ValueError(f\"bad value {row['jumin_no']!r} for {row['pt_nm']!r}\")\n"
        "    return values\n"
    )
    dirs = connector_with_hooks(tmp_path, hooks)
    spec = load_connector("hooked", extra_dirs=[dirs])
    database = tmp_path / "clinic.sqlite"
    shutil.copy(demo_clinic.path, database)
    source = SqliteFileSource(database)
    run = ExportRun(
        spec, source, institution=read_institution(spec, source),
        created=dt.datetime(2026, 11, 25, tzinfo=dt.UTC), attachments_root=demo_clinic.attachments_root,
    )
    with pytest.raises(ConnectorSpecError) as caught:
        digest_stream(run.stream())
    source.close()
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'hooked' / 'hooks.py'}:3: map_row: failed on patient row ")
    assert "with ValueError (its message is not shown" in message
    assert "bad value" not in message and caught.value.__cause__ is None and caught.value.__suppress_context__
