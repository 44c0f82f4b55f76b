"""Several connector sections may feed one canonical entity (``entity = "…"``): validation, ordering,
ids per source table, and the coverage guard over sections that share one table."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_spec
from emr_exporter.errors import ConnectorSpecError, ReconciliationError
from emr_exporter.pipeline.export import ExportRun
from emr_exporter.sources.base import SqliteFileSource

SPEC = """\
[connector]
name = "sections"
version = "0.1"

[entities.allergy_note]
entity = "chart_note"
table = "issue"
key = "id"
query = "SELECT * FROM issue WHERE kind = 'note'"

[entities.allergy_note.fields]
patient_id = { column = "pt", type = "ref", ref = "patient", required = true }
recorded = { column = "day", type = "date", required = true }
course = { column = "txt" }

[entities.problem]
entity = "diagnosis"
table = "issue"
key = "id"
query = "SELECT * FROM issue WHERE kind = 'problem'"

[entities.problem.fields]
patient_id = { column = "pt", type = "ref", ref = "patient", required = true }
code = { column = "txt", required = true }

[entities.visit_note]
entity = "chart_note"
table = "memo"
key = "id"

[entities.visit_note.fields]
patient_id = { column = "pt", type = "ref", ref = "patient", required = true }
recorded = { column = "day", type = "date", required = true }
course = { column = "txt" }

[entities.patient]
table = "pt"
key = "id"

[entities.patient.fields]
chart_number = { column = "chart", required = true }
name = { column = "nm", required = true }
"""


def write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "sections"
    folder.mkdir(exist_ok=True)
    (folder / "connector.toml").write_text(text, encoding="utf-8")
    return folder


def test_sections_are_ordered_by_their_canonical_entity_then_file_order(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, SPEC))
    assert [(name, e.canonical) for name, e in spec.entities.items()] == [
        ("patient", "patient"),
        ("problem", "diagnosis"),
        ("allergy_note", "chart_note"),
        ("visit_note", "chart_note"),
    ]
    assert spec.entities["visit_note"].record_type is model.ChartNote
    assert spec.entities["patient"].kind == ""


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (('entity = "diagnosis"', 'entity = "diagnose"'), "unknown entity; known: practitioner"),
        (('[entities.problem]\nentity = "diagnosis"\n', '[entities.problem]\n'),
         "unknown entity; known: practitioner"),
        (('code = { column = "txt", required = true }', 'code = { column = "txt", required = true }\nplan = "x"'),
         "Diagnosis has no field 'plan'"),
    ],
)
def test_section_errors(tmp_path: Path, edit: tuple[str, str], problem: str) -> None:
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(write(tmp_path, SPEC.replace(*edit)))
    assert problem in str(caught.value)


def _database(path: Path, extra_issue_kind: str | None = None) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE pt (id INTEGER PRIMARY KEY, chart TEXT, nm TEXT);
        CREATE TABLE issue (id INTEGER PRIMARY KEY, pt INTEGER, kind TEXT, day TEXT, txt TEXT);
        CREATE TABLE memo (id INTEGER PRIMARY KEY, pt INTEGER, day TEXT, txt TEXT);
        INSERT INTO pt VALUES (1, 'C1', 'Kim');
        INSERT INTO issue VALUES (1, 1, 'note', '2024-01-02', 'penicillin'), (2, 1, 'problem', '2024-01-02', 'J20');
        INSERT INTO memo VALUES (1, 1, '2024-01-03', 'visit');
        """
    )
    if extra_issue_kind:
        conn.execute("INSERT INTO issue VALUES (3, 1, ?, '2024-01-02', 'x')", (extra_issue_kind,))
    conn.commit()
    conn.close()
    return path


def _run(tmp_path: Path, database: Path) -> ExportRun:
    spec = load_spec(write(tmp_path, SPEC))
    source = SqliteFileSource(database)
    run = ExportRun(
        spec, source, institution=model.Institution(code="12345678", name="t"),
        created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    try:
        b"".join(run.stream())
    finally:
        source.close()
    return run


def test_sections_export_to_one_canonical_entity_with_ids_per_source_table(tmp_path: Path) -> None:
    run = _run(tmp_path, _database(tmp_path / "db.sqlite"))
    counts = {e.entity: (e.table, e.source_rows, e.exported) for e in run.reconciliation.entities}
    assert counts == {
        "patient": ("pt", 1, 1),
        "problem": ("issue", 1, 1),
        "allergy_note": ("issue", 1, 1),
        "visit_note": ("memo", 1, 1),
    }
    # Key 1 of `issue` and key 1 of `memo` are different records.
    assert model.record_id("sections", "issue", "1") != model.record_id("sections", "memo", "1")


def test_rows_of_a_shared_table_no_section_reads_stop_the_export(tmp_path: Path) -> None:
    with pytest.raises(ReconciliationError, match="Table issue holds 3 rows but the connector's queries read 2"):
        _run(tmp_path, _database(tmp_path / "db.sqlite", extra_issue_kind="allergy"))
