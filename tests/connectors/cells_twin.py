"""Hold the generated cell checks (pipeline/cells.py ``_compile_check``) to the reference, row by row.

:func:`compared_export` runs a real export in which every ``CellCheck`` has a twin built with the very same
arguments but its own state (its own learnt source types, locations and memos), and every row's answer of
the generated check (``transformed``) is compared with the twin's reference loop (``transformed_reference``):
the same columns, in the same order. The planted cells of :func:`plant_transformed_cells` are what real
EMRs have and the demo lacks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.connectors.spec import ConnectorSpec
from emr_exporter.pipeline import cells
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.sources.base import Source


@dataclasses.dataclass
class Compared:
    rows: int = 0  # rows whose two answers were compared
    generated: int = 0  # of them, answered by a generated check (not by the reference on a shape's first row)
    named: Counter[tuple[str, str]] = dataclasses.field(default_factory=Counter)  # (entity, column) -> rows
    compiled: set[str] = dataclasses.field(default_factory=set)  # the generated functions' file names
    #: One row per entity and shape answered by a generated check: (check, row, record, resources, carried).
    samples: dict[tuple[str, str], tuple[Any, ...]] = dataclasses.field(default_factory=dict)


@contextmanager
def twin_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Compared]:
    """While active, every CellCheck's answer is compared with its twin's reference answer."""
    compared = Compared()
    twins: dict[int, cells.CellCheck] = {}
    init, transformed, reference = cells.CellCheck.__init__, cells.CellCheck.transformed, \
        cells.CellCheck.transformed_reference
    compile_check = cells._compile_check
    in_reference: list[bool] = []

    def new_init(self: cells.CellCheck, *args: Any) -> None:
        init(self, *args)
        twin = object.__new__(cells.CellCheck)
        init(twin, *args)
        twins[id(self)] = twin

    def counted_reference(self: cells.CellCheck, *args: Any) -> list[str]:
        in_reference.append(True)
        return reference(self, *args)

    def new_compile(check: cells.CellCheck, shape: str, entries: Any) -> Callable[..., list[str] | None]:
        function = compile_check(check, shape, entries)
        compared.compiled.add(function.__code__.co_filename)
        return function

    def both(self: cells.CellCheck, row: Any, record: Any, resources: Any, carried: Any) -> list[str]:
        in_reference.clear()
        fast = transformed(self, row, record, resources, carried)
        generated = not in_reference
        expected = reference(twins[id(self)], row, record, resources, carried)
        assert fast == expected, (self.entity.name, record.provenance.key, fast, expected)
        compared.rows += 1
        compared.generated += generated
        if generated:
            compared.samples.setdefault((self.entity.name, cells.shape_of(resources, record.id)),
                                        (self, row, record, resources, carried))
        for column in fast:
            compared.named[(self.entity.name, column)] += 1
        return fast

    monkeypatch.setattr(cells.CellCheck, "__init__", new_init)
    monkeypatch.setattr(cells.CellCheck, "transformed_reference", counted_reference)
    monkeypatch.setattr(cells.CellCheck, "transformed", both)
    monkeypatch.setattr(cells, "_compile_check", new_compile)
    try:
        yield compared
    finally:
        monkeypatch.undo()


def compared_export(
    monkeypatch: pytest.MonkeyPatch, spec: ConnectorSpec, source: Source, attachments: Path | None,
    then: Callable[[Compared], None] | None = None,
) -> Compared:
    """A whole export of ``source`` (bag bytes discarded) with every row's cell check compared; ``then``
    runs after it, while the comparison is still on (more rows of the learnt shapes: see set_leaf)."""
    with twin_checks(monkeypatch) as compared:
        run = ExportRun(spec, source, institution=read_institution(spec, source, {"code": "12345678", "name": "x"}),
                        created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), attachments_root=attachments)
        digest_stream(run.stream())
        if then is not None:
            then(compared)
    return compared


def set_leaf(resources: list[dict[str, Any]], record_id: str, location: list[Any], leaf: Any) -> bool:
    """Put ``leaf`` at a learnt location (``[suffix, step...]``, list steps by position or selector) of a
    record's resources, changed in place; False when the location is not there."""
    node: Any = cells._by_suffix(resources, record_id).get(location[0])
    steps = location[1:]
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        if type(step) is str:
            if type(node) is not dict or (not last and step not in node):
                return False
            if last:
                node[step] = leaf
                return True
            node = node[step]
        elif type(step) is int:
            if type(node) is not list or step >= len(node):
                return False
            if last:
                node[step] = leaf
                return True
            node = node[step]
        else:
            if type(node) is not list:
                return False
            found = [i for i, e in enumerate(node) if cells._matches(e, (step[0], step[1]))]
            if not found:
                return False
            if last:
                node[found[0]] = leaf
                return True
            node = node[found[0]]
    return False
