"""Turning one source row into one canonical record, or into a quarantined row with its reason."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from emr_exporter import model
from emr_exporter.connectors.spec import ConnectorSpec, EntitySpec, FieldSpec
from emr_exporter.connectors.transforms import TRANSFORMS, RowRejected, TransformContext
from emr_exporter.errors import ConnectorSpecError

#: Prefix of the extra columns the pipeline's LEFT JOINs add to tell whether a referenced row exists.
REF_COLUMN_PREFIX = "_ref_"

Hook = Callable[[str, Mapping[str, Any], dict[str, Any]], dict[str, Any]]


def key_text(value: Any) -> str:
    """The stable text form of a source key, the same on every engine."""
    if type(value) is int:  # the common case first (called for every key and reference)
        return str(value)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value).strip() if isinstance(value, str) else str(value)


def load_hooks(spec: ConnectorSpec) -> Hook | None:
    path = spec.path / "hooks.py"
    if not path.is_file():
        return None
    module_spec = importlib.util.spec_from_file_location(f"emr_exporter_hooks_{spec.name}", path)
    if module_spec is None or module_spec.loader is None:
        raise ConnectorSpecError(str(path), "hooks.py", "cannot be loaded")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the connector author's code: say where, never a traceback
        raise ConnectorSpecError(
            str(path), "hooks.py", f"cannot be loaded: {type(exc).__name__}: {exc}", _hook_line(exc, path)
        ) from None
    hook = getattr(module, "map_row", None)
    if hook is not None and not callable(hook):
        raise ConnectorSpecError(str(path), "map_row", "must be a function")
    return hook


def _hook_line(exc: BaseException, path: Path) -> int | None:
    """The line of hooks.py where ``exc`` was raised (the innermost frame in that file)."""
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == str(path):
            line = lineno
    return line


#: Record ids of referenced rows: consecutive rows mostly point at the same patient / encounter /
#: doctor, so a small bounded cache saves most of the hashing (memory stays flat: 4096 entries).
_referenced_record_id = functools.lru_cache(maxsize=4096)(model.record_id)


@functools.cache
def _required_fields(record_type: type) -> tuple[str, ...]:
    """Fields of a record class without a default (other than the ones the framework fills in)."""
    return tuple(
        f.name
        for f in dataclasses.fields(record_type)
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.name not in ("id", "provenance")
    )


class EntityMapper:
    """Maps the rows of one entity.

    Row dicts have lowercase column names, as every source yields them. Holds only small per-export
    state (the keys of quarantined parent rows, the values of duplicated unique fields).
    """

    def __init__(
        self,
        spec: ConnectorSpec,
        entity: EntitySpec,
        *,
        attachments_root: Path | None,
        quarantined_keys: Mapping[str, set[str]],
        duplicate_values: Mapping[str, set[Any]] | None = None,
        hook: Hook | None = None,
    ) -> None:
        self.spec = spec
        self.entity = entity
        self.ctx = TransformContext(spec=spec, attachments_root=attachments_root)
        self.quarantined_keys = quarantined_keys
        self.duplicate_values = duplicate_values or {}
        self._seen_duplicates: dict[str, dict[Any, str]] = {name: {} for name in self.duplicate_values}
        self.hook = hook
        # Per-field work decided once per entity rather than once per row (the mapper runs for every
        # source row): (field name, field, lower-case column or None, transform or None).
        self._plan = [
            (name, field, field.column.lower() if field.column is not None else None, TRANSFORMS.get(field.type))
            for name, field in entity.fields.items()
        ]

    def ref_table(self, entity_name: str) -> str:
        return self.spec.entities[entity_name].table

    def _provenance(self, row: Mapping[str, Any]) -> model.Provenance:
        return model.Provenance(self.spec.name, self.entity.table, key_text(row[self.entity.key.lower()]))

    def map_row(self, row: Mapping[str, Any]) -> model.Record | model.QuarantinedRow:
        provenance = self._provenance(row)
        try:
            values = self._values(row)
            self._check_unique(row, provenance.key)
            if self.hook is not None:
                values = self._run_hook(row, values, provenance.key)
            return self._build(values, provenance)
        except RowRejected as rejected:
            raw = {k: v for k, v in row.items() if not k.startswith(REF_COLUMN_PREFIX)}
            return model.QuarantinedRow(
                entity=self.entity.name,
                provenance=provenance,
                reason_code=rejected.reason_code,
                reason=rejected.reason,
                raw=raw,
            )

    def _run_hook(self, row: Mapping[str, Any], values: dict[str, Any], key: str) -> dict[str, Any]:
        assert self.hook is not None
        try:
            return self.hook(self.entity.name, row, values)
        except RowRejected:
            raise
        except Exception as exc:
            # The exception's text may quote the row's values (a name, an RRN): only its type is shown.
            path = self.spec.path / "hooks.py"
            raise ConnectorSpecError(
                str(path), "map_row",
                f"failed on {self.entity.name} row {model.display_key(key)} with {type(exc).__name__} "
                "(its message is not shown "
                "because it may contain patient data); fix the hook and export again",
                _hook_line(exc, path),
            ) from None

    def _values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        # Per field: a constant, or the column's value (empty -> default / required / None), then its
        # transform; unrolled over the precomputed plan (hot loop).
        values: dict[str, Any] = {}
        ctx = self.ctx
        for name, field, column, transform in self._plan:
            if column is None:
                values[name] = field.value
                continue
            raw = row.get(column)
            if raw is None or (isinstance(raw, str | bytes) and not raw.strip()):  # is_empty, inlined
                if field.default is not None:
                    values[name] = field.default
                    continue
                if field.required:
                    raise RowRejected("required-missing", f"required field '{field.name}' is empty")
                values[name] = None
            elif field.type == "ref":
                values[name] = self._ref(row, field, raw)
            else:
                values[name] = (transform or TRANSFORMS[field.type])(raw, field, ctx)
        return values

    def _ref(self, row: Mapping[str, Any], field: FieldSpec, raw: Any) -> str:
        assert field.ref is not None
        key = key_text(raw)
        exists_column = REF_COLUMN_PREFIX + field.name
        if exists_column in row and row[exists_column] is None:
            raise RowRejected("orphan", f"field '{field.name}' refers to a {field.ref} that does not exist")
        if key in self.quarantined_keys.get(field.ref, ()):
            raise RowRejected(
                "orphan", f"field '{field.name}' refers to a {field.ref} that was quarantined"
            )
        return _referenced_record_id(self.spec.name, self.ref_table(field.ref), key)

    def _check_unique(self, row: Mapping[str, Any], key: str) -> None:
        for name, duplicated in self.duplicate_values.items():
            column = self.entity.fields[name].column
            value = row.get(column.lower()) if column else None
            if value is None or value not in duplicated:
                continue
            first = self._seen_duplicates[name].setdefault(value, key)
            if first != key:
                raise RowRejected(
                    "duplicate", f"field '{name}' repeats the value of {self.entity.name} row {first}"
                )

    def _build(self, values: dict[str, Any], provenance: model.Provenance) -> model.Record:
        record_type = self.entity.record_type
        if self.entity.canonical == "attachment":
            blob = values.pop("content_blob", None)
            path = values.pop("content_path", None)
            if blob is None and path is None:
                raise RowRejected("required-missing", "attachment has neither stored bytes nor a file path")
            values["content"] = model.AttachmentContent(blob=blob, path=path)
        values = {k: v for k, v in values.items() if v is not None}
        for name in _required_fields(record_type):
            if name not in values:
                raise RowRejected("required-missing", f"required field '{name}' is empty")
        record_id = model.record_id(provenance.connector, provenance.table, provenance.key)
        try:
            return record_type(id=record_id, provenance=provenance, **values)
        except TypeError as exc:  # a hook returned a field the record does not have
            raise ConnectorSpecError(
                str(self.spec.spec_file), f"entities.{self.entity.name}", f"cannot build record: {exc}"
            ) from None
