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


def _demo_digest(spec_dirs: list[Path] | None, name: str, demo_clinic, tmp_path: Path) -> tuple[str, list[str]]:
    """The dry-run bag digest of the demo clinic exported by connector ``name``, and the entities whose rows
    reached the hook (its module records them in ``SEEN``)."""
    spec = load_connector(name, extra_dirs=spec_dirs or [])
    source = SqliteFileSource(demo_clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source),
                        created=dt.datetime(2026, 11, 25, tzinfo=dt.UTC), attachments_root=demo_clinic.attachments_root)
        digest = digest_stream(run.stream()).sha256
        seen = sorted(run.hook.__globals__["SEEN"]) if run.hook is not None and "SEEN" in run.hook.__globals__ else []
        return digest, seen
    finally:
        source.close()


def test_a_hook_naming_its_entities_sees_only_their_rows_and_the_bag_is_the_same(demo_clinic, tmp_path: Path) -> None:
    """The demo's hook (MAP_ROW_ENTITIES = ("chart_note",)) against the same hook without the declaration,
    called for every row: the same bag, byte for byte; the declared hook saw chart notes only."""
    demo_hooks = (DEMO.parent / "hooks.py").read_text(encoding="utf-8")
    assert 'MAP_ROW_ENTITIES = ("chart_note",)' in demo_hooks
    counting = demo_hooks.replace("def map_row(entity", "SEEN = set()\n\n\ndef map_row(entity").replace(
        '    if entity == "chart_note":', '    SEEN.add(entity)\n    if entity == "chart_note":')
    (tmp_path / "declared").mkdir()
    (tmp_path / "undeclared").mkdir()
    declared = connector_with_hooks(tmp_path / "declared", counting)
    undeclared = connector_with_hooks(tmp_path / "undeclared",
                                      counting.replace('MAP_ROW_ENTITIES = ("chart_note",)', ""))
    digest, seen = _demo_digest([declared], "hooked", demo_clinic, tmp_path)
    every_digest, every_seen = _demo_digest([undeclared], "hooked", demo_clinic, tmp_path)
    assert seen == ["chart_note"]
    assert len(every_seen) > 10 and "patient" in every_seen and "fee_line" in every_seen
    assert digest == every_digest


@pytest.mark.parametrize(("declaration", "problem"), [
    ('MAP_ROW_ENTITIES = ("chart_note", "chart_notes", "vitals")', "names no entity of the connector: chart_notes, vitals"),
    ('MAP_ROW_ENTITIES = "chart_note"', "must be a tuple of entity (section) names"),
])
def test_a_hook_naming_unknown_entities_is_an_error(tmp_path: Path, declaration: str, problem: str) -> None:
    from emr_exporter.connectors.mapper import EntityMapper

    dirs = connector_with_hooks(tmp_path, f"{declaration}\n\n\ndef map_row(entity, row, values):\n    return values\n")
    spec = load_connector("hooked", extra_dirs=[dirs])
    with pytest.raises(ConnectorSpecError) as caught:
        EntityMapper(spec, spec.entities["patient"], attachments_root=None, quarantined_keys={},
                     hook=load_hooks(spec))
    assert str(caught.value) == f"{tmp_path / 'hooked' / 'hooks.py'}: MAP_ROW_ENTITIES: {problem}"
