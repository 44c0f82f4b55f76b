"""Turning one source row into one canonical record, or into a quarantined row with its reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.util
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from emr_exporter import model
from emr_exporter.connectors.spec import INTERNAL_PREFIX, ConnectorSpec, EntitySpec, FieldSpec
from emr_exporter.connectors.transforms import (
    FIELD_LEVEL_REASONS,
    TRANSFORMS,
    FieldRepaired,
    RowRejected,
    TransformContext,
    is_empty,
    settle_birth_date,
    to_eye,
    to_measurement,
    to_surfaces,
    to_teeth,
    to_text,
    to_universal_teeth,
)
from emr_exporter.errors import ConnectorSpecError

#: Prefix of the extra columns the pipeline adds: whether a referenced row exists (and its key),
#: computed values, code look-ups, composite keys. Never part of a raw row.
REF_COLUMN_PREFIX = INTERNAL_PREFIX

Hook = Callable[[str, Mapping[str, Any], dict[str, Any]], dict[str, Any]]
#: The vital-sign fields that are measurements of the body, where 0 means "not measured" (to_measurement).
VITAL_MEASUREMENTS = frozenset({"systolic", "diastolic", *model.VITAL_KINDS})
#: Fields holding tooth numbers as written (a procedure's, a diagnosis's): read by to_teeth.
TOOTH_FIELDS = frozenset({"teeth"})
#: Fields holding tooth surfaces as written (a procedure's, a diagnosis's, a dental fee's): read by to_surfaces.
SURFACE_FIELDS = frozenset({"surfaces"})
#: Fields holding the eye a record concerns as written (a diagnosis's, an eye reading's): read by to_eye.
EYE_SIDE_FIELDS = frozenset({"eye"})


def _a(entity: str) -> str:
    """The entity's name with its article, for messages: "an encounter", "a patient"."""
    return ("an " if entity[:1] in "aeiou" else "a ") + entity


def ref_count_column(name: str) -> str:
    """The computed column holding how many parent rows a reference resolved by the database (by a unique field,
    a composite key) names: ExportRun._joined_sql. A plain reference's own computed column is that count."""
    return f"{REF_COLUMN_PREFIX}{name}_n"


def ambiguous_reference(field: FieldSpec) -> str:
    """Why a reference that names more than one parent row, as the database compares keys, links to none."""
    return (f"field '{field.name}' names more than one {field.ref} row (keys the database holds as equal): "
            "which one is meant is not known")


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


class KeyForm:
    """The one form every key of a table is written in, when a reference may write it otherwise (the scaffold's
    ``key_form``, the export's merged charts): ``("pad", W)``, digits zero-padded to W ('0000123'); ``("number",
    0)``, integers; ``("upper", 0)`` / ``("lower", 0)``, text all in one case. Fed the keys as read (``add``); no
    form where they are mixed, so that a value rewritten into it can name only the key it means."""

    __slots__ = ("_cased_lower", "_cased_upper", "_digits", "_ints", "_lower", "_seen", "_upper", "_widths", "_zero")

    def __init__(self) -> None:
        self._digits = self._ints = self._lower = self._upper = True
        self._widths: set[int] = set()
        self._zero = self._cased_lower = self._cased_upper = self._seen = False

    @classmethod
    def of(cls, keys: Iterable[Any]) -> tuple[str, int] | None:
        found = cls()
        for key in keys:
            found.add(key)
        return found.form

    def add(self, key: Any) -> None:
        if key is None:
            return
        self._seen = True
        text = type(key) is str
        self._ints = self._ints and type(key) is int
        self._digits = self._digits and text and key.isdigit()
        if self._digits:
            self._widths.add(len(key))
            self._zero = self._zero or key.startswith("0")
        self._lower = self._lower and text and key == key.lower()
        self._upper = self._upper and text and key == key.upper()
        if text:
            self._cased_lower = self._cased_lower or key != key.upper()
            self._cased_upper = self._cased_upper or key != key.lower()

    @property
    def form(self) -> tuple[str, int] | None:
        if not self._seen:
            return None
        if self._digits and len(self._widths) == 1 and self._zero:
            return "pad", next(iter(self._widths))
        if self._ints:
            return "number", 0
        if self._lower and self._cased_lower:
            return "lower", 0
        if self._upper and self._cased_upper:
            return "upper", 0
        return None


def in_key_form(text: str, form: tuple[str, int]) -> str | None:
    """``text`` (a reference's :func:`key_text`) rewritten into ``form`` (:class:`KeyForm`) as the scaffold's SQL
    rewrites it (141 → '0000141', '0000141' → 141, 'c0031' → 'C0031'); None where it cannot be written so."""
    kind, width = form
    if kind == "upper":
        return text.upper()
    if kind == "lower":
        return text.lower()
    if not (text.isascii() and text.isdigit()):
        return None
    number = str(int(text))
    if kind == "number":
        return number
    return number.zfill(width) if len(number) <= width else None


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


#: Optional in hooks.py: the entities (section names) its ``map_row`` is for; it is not called for the others,
#: whose rows then take the mapper's one-step path (_compile_record). Without it, every row goes to the hook.
HOOK_ENTITIES = "MAP_ROW_ENTITIES"


def _hook_applies(hook: Hook | None, spec: ConnectorSpec, entity: EntitySpec) -> bool:
    """Whether ``hook`` is called for ``entity``'s rows (False without a hook). A name in the hook module's
    MAP_ROW_ENTITIES that is no entity of the connector is an error: a typo would skip the hook unseen."""
    if hook is None:
        return False
    names = getattr(hook, "__globals__", {}).get(HOOK_ENTITIES)
    if names is None:
        return True
    path = str(spec.path / "hooks.py")
    if isinstance(names, str | bytes) or not isinstance(names, tuple | list | set | frozenset):
        raise ConnectorSpecError(path, HOOK_ENTITIES, "must be a tuple of entity (section) names")
    unknown = sorted(str(name) for name in names if name not in spec.entities)
    if unknown:
        raise ConnectorSpecError(path, HOOK_ENTITIES, f"names no entity of the connector: {', '.join(unknown)}")
    return entity.name in names

def _hook_line(exc: BaseException, path: Path) -> int | None:
    """The line of hooks.py where ``exc`` was raised (the innermost frame in that file)."""
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == str(path):
            line = lineno
    return line


#: Record ids of referenced rows: rows point at a few thousand patients, encounters and doctors, so a
#: bounded cache saves most of the hashing (memory stays flat: at most 4096 entries, about 1 MB). The
#: hits come from children following their parent: at 10^5 rows 4096 entries miss 84 k of 350 k look-ups,
#: 16384 (~4 MB, all of that clinic's patients and visits) 35 k, ~0.05 CPU-s less; a larger clinic has
#: more parents than either holds (flatmem, docs/performance.md).
_referenced_record_id = functools.lru_cache(maxsize=4096)(model.record_id)

#: Entries of a field's cache of transform answers (_compile_values) before it is emptied: memory stays
#: flat whatever the clinic's size, and a field with few distinct values (codes, dates) never refills it.
_CACHE_SIZE = 4096

#: Answers a cache may hand out to many records: values nobody can change in place.
_IMMUTABLE = frozenset({str, int, bool, float, Decimal, dt.date, dt.datetime, bytes, model.PartialDate})

_MISS = object()


def _cacheable_types(mapper: EntityMapper, field: FieldSpec) -> tuple[str, ...]:
    """The raw value types whose transform answer depends on the value, field and spec alone (so the same
    value always gets the same answer and it may be cached): none for files (the disk), RRNs (never
    repeated), statuses and key lists; dates unless a two-digit year is read by today's century."""
    kind = field.type
    if kind in ("date", "datetime", "kcd_edition"):
        spec = mapper.spec
        formats = (*(field.format or ()), *spec.date_formats, *spec.datetime_formats)
        if spec.two_digit_year_pivot is None and any("%y" in f for f in formats):
            return ()
        return ("str",)
    if kind in ("code", "decimal"):
        return ("str", "int")
    if kind in ("bool", "int"):
        return ("str",)
    if kind == "text":
        return ("bytes",)  # decoding repeats (diagnosis names); plain str text has its own fast path
    return ()


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


def _one_of_message(names: tuple[str, ...]) -> str:
    return "required field " + " or ".join(f"'{name}'" for name in names) + " is empty"


def _compile_values(mapper: EntityMapper) -> Callable[[Mapping[str, Any], TransformContext], dict[str, Any]]:
    """One Python function per entity doing :meth:`EntityMapper._values_loop`'s work for exactly its fields.

    Unrolled (issue 17: "transforms compiled once per entity"): no per-row loop over the plan, no per-field
    attribute look-ups or type tests, references resolved inline. Only ``repr`` of connector-given names
    enters the generated source; fields, transforms, defaults and messages are bound as its globals.
    tests/connectors/test_compiled_values.py holds it to the loop on every demo and OpenEMR row.
    """
    env = _value_env(mapper)
    lines = ["def _values(row, ctx):", "    values = {}", "    defects = m.defects"]
    lines += _field_lines(mapper, env, lambda i, name: f"values[{name!r}]", "values['recorded_status']")
    if mapper._settle_birth:
        env["_settle_birth"], env["BY_TODAY"] = settle_birth_date, mapper._settle_birth == "by-today"
        lines.append(f"    values['birth_date'] = _settle_birth(values['birth_date'], "
                     f"row.get({mapper._birth_column!r}), values.get('rrn'), values.get('first_visit'), BY_TODAY)")
    lines.append("    return values")
    exec(compile("\n".join(lines) + "\n", f"<values of {mapper.entity.name}>", "exec"), env)
    return env["_values"]  # type: ignore[no-any-return]



def _compile_record(mapper: EntityMapper) -> Callable[..., Any] | None:
    """:meth:`EntityMapper._build` over :func:`_compile_values`' values in one generated function per entity:
    each field's value kept in a local instead of a dict entry, the required fields tested and the record's
    slots set straight from those locals (what :func:`model.record_maker` does from the dict: a field the
    entity does not map gets its default, a None value too). One dict and ~2 look-ups per field less a row.

    None (the two-step path then) where the steps cannot be fused as they are: a hook (it reads and may
    change the values dict), an attachment (its content is made from two values), a value the record has no
    field for (the record constructor's own error), a required field no column maps (every row is rejected
    by ``_build``). tests/connectors/test_compiled_values.py holds it to ``_build(_values(row))``.
    """
    if mapper.hook is not None or mapper._is_attachment:
        return None
    record_type = mapper.entity.record_type
    fields = dataclasses.fields(record_type)
    names = {f.name for f in fields}
    mapped = [name for name, *_ in mapper._plan]
    statuses = any(f.type == "status" for f in mapper.entity.fields.values())
    given = set(mapped) | ({"recorded_status"} if statuses else set())
    if not given <= names - {"id", "provenance"} or (statuses and "recorded_status" in mapped):
        return None
    if any(name not in mapped and name != "recorded_status" for name in mapper._required):
        return None
    one_of = [name for name in mapper._one_of if name in mapped]
    if mapper._one_of and not one_of:  # none of them mapped: every row is rejected by _build
        return None
    local = {name: f"a{i}" for i, name in enumerate(mapped)}
    if statuses:
        local["recorded_status"] = "a_rs"
    env = _value_env(mapper)
    env.update({"_new": object.__new__, "cls": record_type, "_after": model.record_id_after,
                "PREFIX": mapper._id_prefix})
    lines = ["def _record(row, ctx, provenance):", "    defects = m.defects"]
    if statuses:
        lines.append("    a_rs = None")  # a status field's recorded text, set only when it is not blank
    lines += _field_lines(mapper, env, lambda i, name: local[name], "a_rs")
    if mapper._settle_birth:
        env["_settle_birth"], env["BY_TODAY"] = settle_birth_date, mapper._settle_birth == "by-today"
        lines.append(f"    {local['birth_date']} = _settle_birth({local['birth_date']}, "
                     f"row.get({mapper._birth_column!r}), {local.get('rrn', 'None')}, "
                     f"{local.get('first_visit', 'None')}, BY_TODAY)")
    for n, name in enumerate(mapper._required):  # _build's test, in its order
        env[f"MR{n}"] = f"required field '{name}' is empty"
        lines += [f"    if {local[name]} is None:", f"        raise RowRejected('required-missing', MR{n})"]
    if one_of:  # _build's test of model.REQUIRED_ONE_OF (the unmapped ones are None)
        env["MONE"] = _one_of_message(mapper._one_of)
        lines += [f"    if {' and '.join(f'{local[name]} is None' for name in one_of)}:",
                  "        raise RowRejected('required-missing', MONE)"]
    lines += ["    self = _new(cls)"]
    for i, f in enumerate(fields):  # model.record_maker's setters, the dict's look-ups replaced by the locals
        env[f"S{i}"] = record_type.__dict__[f.name].__set__
        if f.name == "id":
            lines.append(f"    S{i}(self, _after(PREFIX, provenance.key))")
        elif f.name == "provenance":
            lines.append(f"    S{i}(self, provenance)")
        elif f.default is not dataclasses.MISSING:
            env[f"D{i}"] = f.default
            value = local.get(f.name)
            lines.append(f"    S{i}(self, D{i})" if value is None
                         else f"    S{i}(self, D{i} if {value} is None else {value})")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"D{i}"] = f.default_factory
            value = local.get(f.name)
            lines.append(f"    S{i}(self, D{i}())" if value is None
                         else f"    S{i}(self, D{i}() if {value} is None else {value})")
        else:  # required: not None here (tested above)
            lines.append(f"    S{i}(self, {local[f.name]})")
    if hasattr(record_type, "__post_init__"):
        env["_cannot_build"] = mapper._cannot_build
        lines += ["    try:", "        self.__post_init__()", "    except TypeError as exc:",
                  "        raise _cannot_build(exc) from None"]
    lines.append("    return self")
    exec(compile("\n".join(lines) + "\n", f"<record of {mapper.entity.name}>", "exec"), env)
    return env["_record"]  # type: ignore[no-any-return]

def _value_env(mapper: EntityMapper) -> dict[str, Any]:
    """The globals of a generated function over the mapper's fields (:func:`_field_lines`)."""
    return {
        "RowRejected": RowRejected, "FieldRepaired": FieldRepaired, "FIELD_LEVEL_REASONS": FIELD_LEVEL_REASONS,
        "_STR_BYTES": str | bytes, "m": mapper, "key_text": key_text, "_record_id": _referenced_record_id,
        "connector": mapper.spec.name, "_is_nfc": unicodedata.is_normalized, "_MISS": _MISS,
        "_IMMUTABLE": _IMMUTABLE, "_CACHE_SIZE": _CACHE_SIZE,
    }


def _field_lines(
    mapper: EntityMapper, env: dict[str, Any], target_of: Callable[[int, str], str], recorded_target: str,
) -> list[str]:
    """The unrolled per-field work of :meth:`EntityMapper._values_loop`, each field's value assigned to
    ``target_of(i, name)`` (an entry of the values dict, or a local of the generated record builder) and a
    status field's recorded text to ``recorded_target``. ``defects`` must be the mapper's list."""
    lines: list[str] = []
    for i, (name, field, column, transform, required) in enumerate(mapper._plan):
        env[f"F{i}"] = field
        key = repr(name)
        target = target_of(i, name)
        if column is None:
            if field.columns:
                lines.append(f"    {target} = m._split_value(row, F{i})")
            else:
                env[f"V{i}"] = field.value
                lines.append(f"    {target} = V{i}")
            continue
        lines.append(f"    raw = row.get({column!r})")
        if field.lookup is not None:
            lines.append(f"    raw = m._looked_up(row, F{i}, raw)")
        plain = field.type not in ("ref", "status", "ref_list") and transform is not None
        cached = _cacheable_types(mapper, field) if plain else ()
        test = " or ".join(f"type(raw) is {t}" for t in cached)
        if cached:
            # Asked first: an answer in the cache is of a non-blank value (blanks never reach a transform).
            env[f"K{i}"] = mapper._caches.setdefault(name, {})
            lines += [
                f"    v = K{i}.get(raw, _MISS) if {test} else _MISS",
                "    if v is not _MISS:",
                f"        {target} = v",
                "    elif raw is None or (isinstance(raw, _STR_BYTES) and not raw.strip()):",
            ]
        else:
            lines.append("    if raw is None or (isinstance(raw, _STR_BYTES) and not raw.strip()):")
        if field.default is not None:
            env[f"D{i}"] = field.default
            lines.append(f"        {target} = D{i}")
        elif field.required:
            env[f"M{i}"] = f"required field '{field.name}' is empty"
            lines.append(f"        raise RowRejected('required-missing', M{i})")
        else:
            lines.append(f"        {target} = None")
        lines.append("    else:")
        if field.type == "ref":
            assert field.ref is not None
            exists = REF_COLUMN_PREFIX + field.name
            env[f"R{i}"] = field.ref
            env[f"RT{i}"] = mapper.ref_table(field.ref)
            env[f"O{i}"] = f"field '{field.name}' refers to {_a(field.ref)} that does not exist"
            env[f"Q{i}"] = f"field '{field.name}' refers to {_a(field.ref)} that was quarantined"
            lines.append("        key = str(raw) if type(raw) is int else key_text(raw)")
            lines.append(f"        if {exists!r} in row and row[{exists!r}] is None:")
            lines.append(f"            raise RowRejected('orphan', O{i})")
            joined = field.name in mapper._joined_refs
            count = ref_count_column(field.name) if joined else exists  # (ExportRun._joined_sql)
            env[f"A{i}"] = ambiguous_reference(field)
            env[f"C{i}"] = mapper._defect_column(field, column)
            lines.append(f"        if {count!r} in row and int(row[{count!r}] or 0) > 1:")
            lines += ([f"            raise RowRejected('ambiguous-ref', A{i})"] if required else [
                f"            {target} = None", f"            defects.append(({key}, C{i}, 'ambiguous-ref'))"])
            lines.append("        else:")
            pad = "            "
            if joined:
                lines.append(f"{pad}key = key_text(row[{exists!r}])")
            lines.append(f"{pad}if key in m.quarantined_keys.get(R{i}, ()):")
            lines.append(f"{pad}    raise RowRejected('orphan', Q{i})")
            lines.append(f"{pad}{target} = _record_id(connector, RT{i}, key)")
        elif field.type == "status":
            env[f"T{i}"] = TRANSFORMS["status"]
            lines.append(f"        recorded = T{i}(raw, F{i}, ctx)")
            lines.append(f"        {recorded_target} = recorded")
            lines.append(f"        {target} = m._status(F{i}, recorded)")
            env[f"C{i}"] = mapper._defect_column(field, column)
            lines.append(f"        if {target} is None:")  # not read: kept as recorded, carried with why
            lines.append(f"            defects.append(({key}, C{i}, 'status-unread'))")
        elif field.type == "ref_list":
            env[f"T{i}"] = TRANSFORMS["ref_list"]
            lines.append(f"        {target} = m._ref_list(F{i}, T{i}(raw, F{i}, ctx))")
        else:
            env[f"T{i}"] = transform or TRANSFORMS[field.type]
            env[f"C{i}"] = mapper._defect_column(field, column)
            pad = "        "
            if transform is to_text:
                # Text that to_text would return unchanged (printable, so no control character and no
                # padding but a space; no '?', so not lost; already NFC): taken as it is.
                lines += [
                    "        if type(raw) is str and raw.isprintable() and raw[-1] != ' ' and '?' not in raw"
                    " and _is_nfc('NFC', raw):",
                    f"            {target} = raw",
                    "        else:",
                ]
                pad += "    "
            lines += [
                f"{pad}try:",
                f"{pad}    v = T{i}(raw, F{i}, ctx)",
                f"{pad}except FieldRepaired as repaired:",
                f"{pad}    {target} = repaired.value",
                f"{pad}    defects.append(({key}, C{i}, repaired.reason_code))",
                f"{pad}except RowRejected as rejected:",
            ]
            if required:  # a required field's broken value rejects the row
                lines.append(f"{pad}    raise")
            else:
                lines += [
                    f"{pad}    if rejected.reason_code not in FIELD_LEVEL_REASONS:",
                    f"{pad}        raise",
                    f"{pad}    {target} = None",
                    f"{pad}    defects.append(({key}, C{i}, rejected.reason_code))",
                ]
            lines += [f"{pad}else:", f"{pad}    {target} = v"]
            if cached:
                # Same value, same answer: a transform that only reads (value, field, spec) is asked once
                # per distinct value (dates, codes, amounts repeat); only answers, never failures, kept.
                lines += [
                    f"{pad}    if ({test}) and type(v) in _IMMUTABLE:",
                    f"{pad}        if len(K{i}) >= _CACHE_SIZE:",
                    f"{pad}            K{i}.clear()",
                    f"{pad}        K{i}[raw] = v",
                ]
    return lines


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
        # A hook that names the entities it is for (MAP_ROW_ENTITIES in hooks.py) is not called for others.
        self.hook = hook if _hook_applies(hook, spec, entity) else None
        # Per-field work decided once per entity rather than once per row (the mapper runs for every
        # source row): (field name, field, lower-case column or None, transform or None, required).
        # A field the record cannot be built without counts as required even if the connector says not.
        record_required = set(_required_fields(entity.record_type))
        # A vital sign of 0 is "not measured" (to_measurement); an oxygen flow of 0 L/min (room air) is not.
        measured = VITAL_MEASUREMENTS if entity.canonical == "vital_signs" else frozenset()
        # Tooth numbers in the Universal (US) numbering where the connector says so, a constant (model.TOOTH_NUMBERINGS)
        numbering = entity.fields.get("teeth_numbering")
        universal = numbering is not None and numbering.source_column is None and numbering.value == "universal"
        self._plan = [
            (name, field, field.source_column.lower() if field.source_column is not None else None,
             to_measurement if field.type == "decimal" and name in measured
             else (to_universal_teeth if universal else to_teeth) if field.type == "text" and name in TOOTH_FIELDS
             else to_surfaces if field.type == "text" and name in SURFACE_FIELDS
             else to_eye if field.type == "text" and name in EYE_SIDE_FIELDS else TRANSFORMS.get(field.type),
             field.required or name in record_required)
            for name, field in entity.fields.items()
        ]
        self._key_column = entity.key.lower()
        #: A patient's birth date read with a two-digit year takes its century from the patient's RRN, or
        #: without a configured pivot from the first visit too (transforms.settle_birth_date): "by-rrn",
        #: "by-today" (both), or "" (a four-digit year is left as written).
        birth = entity.fields.get("birth_date")
        two_digit = (
            entity.canonical == "patient" and birth is not None and birth.type in ("date", "datetime")
            and birth.lookup is None and birth.source_column is not None
            and any("%y" in f for f in (*(birth.format or ()), *spec.date_formats, *spec.datetime_formats))
        )
        #: The birth date's column: its stored text tells a two-digit year from a four-digit one.
        self._birth_column = birth.source_column.lower() if two_digit and birth and birth.source_column else ""
        by_today = spec.two_digit_year_pivot is None and "first_visit" in entity.fields
        self._settle_birth = "" if not two_digit else "by-today" if by_today else (
            "by-rrn" if "rrn" in entity.fields else "")
        # References the database resolves to the parent's key (by a unique field, or a composite key).
        self._joined_refs = frozenset(
            name for name, f in entity.fields.items()
            if f.type == "ref" and f.ref is not None
            and (f.ref_field is not None or spec.entities[f.ref].composite)
        )
        #: Columns the mapping reads (lower case): every other column of a row is carried raw. A computed
        #: field's own columns are not known here, so they are carried too (never lost, at worst twice).
        self.consumed_columns = frozenset(
            [entity.key.lower(), *(c.lower() for c in entity.key_columns)]
            + [f.column.lower() for f in entity.fields.values() if f.column is not None]
            + [c.lower() for f in entity.fields.values() for c in f.columns]
        )
        #: Field defects of the last mapped row: (field, lower-case column, reason code). The field was
        #: dropped (or visibly repaired) and the row kept; the exact value is carried raw.
        self.defects: list[tuple[str, str, str]] = []
        #: Per field, transform answers by raw value (bounded: _CACHE_SIZE); see _cacheable_types.
        self._caches: dict[str, dict[Any, Any]] = {}
        #: The generated _values, compiled when first asked for (a fused entity without duplicates never is).
        self._compiled_values: Callable[[Mapping[str, Any], TransformContext], dict[str, Any]] = self._first_values
        self._is_attachment = entity.canonical == "attachment"
        self._required = _required_fields(entity.record_type)
        #: model.REQUIRED_ONE_OF: fields of which a row needs at least one (a diagnosis's code or its text)
        self._one_of = model.REQUIRED_ONE_OF.get(entity.record_type, ())
        self._make = model.record_maker(entity.record_type)
        self._id_prefix = model.record_id_prefix(spec.name, entity.record_table)
        #: _build(_values(row)) in one step where they can be fused (_compile_record), else None.
        self._compiled_record = _compile_record(self)

    def ref_table(self, entity_name: str) -> str:
        return self.spec.entities[entity_name].record_table

    def _provenance(self, row: Mapping[str, Any]) -> model.Provenance:
        key = row[self._key_column]
        return model.new_provenance(self.spec.name, self.entity.table, str(key) if type(key) is int else key_text(key))

    def map_row(self, row: Mapping[str, Any]) -> model.Record | model.QuarantinedRow:
        if self.defects:
            self.defects = []
        provenance = self._provenance(row)
        try:
            # Without duplicated unique values to test (between the values and the build), in one step.
            if self._compiled_record is not None and not self.duplicate_values:
                return cast(model.Record, self._compiled_record(row, self.ctx, provenance))
            values = self._compiled_values(row, self.ctx)  # self._values, without the extra call
            if self.duplicate_values:
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
        return self._compiled_values(row, self.ctx)

    def _first_values(self, row: Mapping[str, Any], ctx: TransformContext) -> dict[str, Any]:
        self._compiled_values = _compile_values(self)
        return self._compiled_values(row, ctx)

    def _values_loop(self, row: Mapping[str, Any]) -> dict[str, Any]:
        # The reference form of the generated _values (_compile_values; a test holds them to each other).
        # Per field: a constant, or the column's value (empty -> default / required / None), then its
        # transform; unrolled over the precomputed plan (hot loop).
        values: dict[str, Any] = {}
        ctx = self.ctx
        for name, field, column, transform, required in self._plan:
            if column is None:
                if field.columns:
                    values[name] = self._split_value(row, field)
                    continue
                values[name] = field.value
                continue
            raw = row.get(column)
            if field.lookup is not None:
                raw = self._looked_up(row, field, raw)
            if raw is None or (isinstance(raw, str | bytes) and not raw.strip()):  # is_empty, inlined
                if field.default is not None:
                    values[name] = field.default
                    continue
                if field.required:
                    raise RowRejected("required-missing", f"required field '{field.name}' is empty")
                values[name] = None
            elif field.type == "ref":
                try:
                    values[name] = self._ref(row, field, raw)
                except RowRejected as rejected:  # an ambiguous reference: a field defect, as the compiled form
                    if required or rejected.reason_code != "ambiguous-ref":
                        raise
                    values[name] = None
                    self.defects.append((name, self._defect_column(field, column), rejected.reason_code))
            elif field.type == "status":
                recorded = TRANSFORMS["status"](raw, field, ctx)
                values["recorded_status"] = recorded
                values[name] = status = self._status(field, recorded)
                if status is None:  # not read: kept as recorded (the resource's unknown), carried with why
                    self.defects.append((name, self._defect_column(field, column), "status-unread"))
            elif field.type == "ref_list":
                values[name] = self._ref_list(field, TRANSFORMS["ref_list"](raw, field, ctx))
            else:
                try:
                    values[name] = (transform or TRANSFORMS[field.type])(raw, field, ctx)
                except FieldRepaired as repaired:
                    values[name] = repaired.value
                    self.defects.append((name, self._defect_column(field, column), repaired.reason_code))
                except RowRejected as rejected:
                    # Field-level quarantine: a broken optional field drops only itself, not the row
                    # (and with it the patient's whole chart); its raw value is carried with the reason.
                    if required or rejected.reason_code not in FIELD_LEVEL_REASONS:
                        raise
                    values[name] = None
                    self.defects.append((name, self._defect_column(field, column), rejected.reason_code))
        if self._settle_birth:
            values["birth_date"] = settle_birth_date(values["birth_date"], row.get(self._birth_column),
                                                     values.get("rrn"), values.get("first_visit"),
                                                     self._settle_birth == "by-today")
        return values

    @staticmethod
    def _defect_column(field: FieldSpec, column: str) -> str:
        """The source column whose raw value a field defect carries (a look-up's code column, not the
        pipeline's computed column; a computed field's own columns are carried as unmapped anyway)."""
        if column.startswith(REF_COLUMN_PREFIX) and field.column is not None:
            return field.column.lower()
        return column

    def _looked_up(self, row: Mapping[str, Any], field: FieldSpec, found: Any) -> Any:
        """The code table's value; a code the table does not hold quarantines the row (never guessed)."""
        assert field.column is not None
        code = row.get(field.column.lower())
        if not is_empty(code) and found is None:
            raise RowRejected(
                "unmapped-code", f"field '{field.name}' has a code the code table {field.lookup.table} does not hold"  # type: ignore[union-attr]
            )
        return found

    def _split_value(self, row: Mapping[str, Any], field: FieldSpec) -> Any:
        """Split values (``columns = ["JUMIN1", "JUMIN2"]``): the parts' texts joined, then the transform."""
        parts = [row.get(column.lower()) for column in field.columns]
        # a date-time kept as a date and its time of day (내원일자 + 내원시간): without the date there is no
        # date-time (the time is carried raw, as every cell of a split value is)
        if all(is_empty(part) for part in parts) or (field.type == "datetime" and is_empty(parts[0])):
            if field.default is not None:
                return field.default
            if field.required:
                raise RowRejected("required-missing", f"required field '{field.name}' is empty")
            return None
        if field.type == "datetime" and not is_empty(parts[0]) and all(is_empty(part) for part in parts[1:]):
            parts = parts[:1]  # a date whose time of day is not kept (내원일자 without 내원시간): the day alone
        elif any(is_empty(part) for part in parts):
            raise RowRejected("incomplete-value", f"field '{field.name}': some of its columns are empty")
        text = field.join.join(to_text(part, field, self.ctx).strip() for part in parts)
        try:
            return TRANSFORMS[field.type](text, field, self.ctx)
        except RowRejected as rejected:
            # Field-level quarantine, as for a field of one column: a broken optional field (a birth date
            # kept as year, month and day whose day is 30 February) drops only itself, not the row; its
            # columns are carried raw, as every cell of a split value is
            if field.required or rejected.reason_code not in FIELD_LEVEL_REASONS:
                raise
            self.defects.append((field.name, field.columns[0].lower(), rejected.reason_code))
            return None

    def _ref(self, row: Mapping[str, Any], field: FieldSpec, raw: Any) -> str:
        assert field.ref is not None
        key = key_text(raw)
        exists_column = REF_COLUMN_PREFIX + field.name
        if exists_column in row and row[exists_column] is None:
            raise RowRejected("orphan", f"field '{field.name}' refers to {_a(field.ref)} that does not exist")
        joined = field.name in self._joined_refs
        count = ref_count_column(field.name) if joined else exists_column
        if count in row and int(row[count] or 0) > 1:
            raise RowRejected("ambiguous-ref", ambiguous_reference(field))
        if joined:
            # Resolved by the database: the parent's key of the row whose unique field holds this value.
            key = key_text(row[exists_column])
        if key in self.quarantined_keys.get(field.ref, ()):
            raise RowRejected(
                "orphan", f"field '{field.name}' refers to {_a(field.ref)} that was quarantined"
            )
        return _referenced_record_id(self.spec.name, self.ref_table(field.ref), key)

    def _status(self, field: FieldSpec, recorded: str) -> str | None:
        """The record status for a source status: mapped, or a value set code as is; else None (kept as
        recorded in ``recorded_status``, never guessed: the FHIR mapper writes it as unknown, or the usual
        status where the value set has no unknown, and counts it; the cell a ``status-unread`` field defect)."""
        if field.map and recorded in field.map:
            return str(field.map[recorded])
        allowed = model.STATUS_VALUES.get(self.entity.canonical, frozenset())
        return recorded if recorded in allowed else None

    def _ref_list(self, field: FieldSpec, keys: tuple[str, ...]) -> tuple[str, ...]:
        # A referenced row that was quarantined has no resource to point at: it is left out of the list
        # (it is counted, with its raw values, in its own entity's quarantine).
        assert field.ref is not None
        quarantined = self.quarantined_keys.get(field.ref, ())
        table = self.ref_table(field.ref)
        return tuple(
            _referenced_record_id(self.spec.name, table, key) for key in keys if key not in quarantined
        )

    def _check_unique(self, row: Mapping[str, Any], key: str) -> None:
        for name, duplicated in self.duplicate_values.items():
            column = self.entity.fields[name].source_column
            value = row.get(column.lower()) if column else None
            if value is None or value not in duplicated:
                continue
            first = self._seen_duplicates[name].setdefault(value, key)
            if first != key:
                raise RowRejected(
                    "duplicate", f"field '{name}' repeats the value of {self.entity.name} row {first}"
                )

    def _build_reference(self, values: dict[str, Any], provenance: model.Provenance) -> model.Record:
        # The reference form of _build (plain dataclass constructor; a test holds them to each other).
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
        one_of = model.REQUIRED_ONE_OF.get(record_type, ())
        if one_of and not any(name in values for name in one_of):
            raise RowRejected("required-missing", _one_of_message(one_of))
        record_id = model.record_id(provenance.connector, self.entity.record_table, provenance.key)
        try:
            return cast(model.Record, record_type(id=record_id, provenance=provenance, **values))
        except TypeError as exc:  # a hook returned a field the record does not have
            raise ConnectorSpecError(
                str(self.spec.spec_file), f"entities.{self.entity.name}", f"cannot build record: {exc}"
            ) from None

    def _build(self, values: dict[str, Any], provenance: model.Provenance) -> model.Record:
        if self._is_attachment:
            blob = values.pop("content_blob", None)
            path = values.pop("content_path", None)
            if blob is None and path is None:
                raise RowRejected("required-missing", "attachment has neither stored bytes nor a file path")
            values["content"] = model.AttachmentContent(blob=blob, path=path)
        # A None value is an absent one (the record's default): model.record_maker leaves it out.
        for name in self._required:
            if values.get(name) is None:
                raise RowRejected("required-missing", f"required field '{name}' is empty")
        if self._one_of and all(values.get(name) is None for name in self._one_of):
            raise RowRejected("required-missing", _one_of_message(self._one_of))
        # model.record_id, with its constant prefix encoded once per entity.
        record_id = model.record_id_after(self._id_prefix, provenance.key)
        try:
            return cast(model.Record, self._make(record_id, provenance, values))
        except TypeError as exc:  # a hook returned a field the record does not have
            raise self._cannot_build(exc) from None

    def _cannot_build(self, exc: TypeError) -> ConnectorSpecError:
        return ConnectorSpecError(
            str(self.spec.spec_file), f"entities.{self.entity.name}", f"cannot build record: {exc}"
        )
