"""Where each mapped source cell lives in the FHIR output, and whether it can be rebuilt from there exactly.

Issue 13's promise is that every source row can be rebuilt byte for byte from the bag. A mapped cell is
only as good as the way back: trailing blanks trimmed, NFD text normalised to NFC, ``'19850101'`` turned
into ``1985-01-01``, ``12.50`` written as ``12.5``, a code looked up — the FHIR value alone does not give
the source value back. So, per exported row and per mapped column, the export *does the rebuild* the way a
reader of the bag will (the FHIR leaf at the column's location → canonical value → source value) and,
when the result is not the very value (and type) the database gave, carries the exact value in the column
sidecar with the reason ``transformed``. The check is therefore exact by construction: whatever is not
carried is what the reader gets back.

Locations are learnt once per entity and per *shape* (the resource types and id suffixes a record gives,
e.g. an order line giving a MedicationRequest or a ServiceRequest): the record is rebuilt in FHIR with the
field set to a probe value and the leaves that changed are the field's location, written as a path whose
list steps select by ``url`` / ``system`` / attachment title rather than by position — but by position where
the value itself picks that system (a diagnosis code goes under the KCD system when it is KCD-shaped, under
the recorded-code one otherwise: the probe's system is not the record's; see :func:`_location`). A text field
is also set to a plain number: where the builder writes that elsewhere, as a JSON number (a lab value in
``valueQuantity.value`` rather than ``valueString``), the location names both places (:func:`alternatives`,
:func:`_number_location`), the number read back as its JSON text. Codes and yes/no
values learn the FHIR leaf of every canonical value the same way (a yes/no written only when true: no leaf is
false, :data:`ABSENT_LEAF`). The map (per entity: column → field,
source type, path per shape, code table) goes into the bag once, as ``data/report/cells.json``; it is all a
reader needs (:func:`rebuild_cell`). A location that cannot be learnt just means that column's non-empty
cells are carried raw: never wrong, at worst carried twice.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from emr_exporter import codepage, model
from emr_exporter.connectors.spec import NUMBER_FORMATS, ConnectorSpec, EntitySpec, FieldSpec

#: The rebuild could not produce a value (never equal to a source value).
MISSING: Any = object()

#: Source value types a cell's rebuild can produce (the type of the column's first non-empty value).
_TYPES: dict[str, type] = {
    "str": str, "bytes": bytes, "int": int, "float": float, "decimal": Decimal, "date": dt.date,
    "datetime": dt.datetime, "bool": bool,
}
_TYPE_NAMES = {v: k for k, v in _TYPES.items()}
#: A further source type of amounts (a ``decimal`` field): text written as whole won with thousands commas and
#: 원, the way Korean EMRs keep amounts ('12,300원', '-4,500원', '0원'), learnt from the first non-empty value.
WON_TEXT = "won"
_WON_WRITTEN = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})*원")

#: Field types whose FHIR value stands for itself (text, numbers, dates); codes and yes/no values go
#: through a learnt table; references through the parent's key.
_TABLED = frozenset({"code", "bool", "status"})
_PROBED = frozenset({"text", "int", "decimal", "date", "datetime", "rrn", "code", "bool", "status", "ref"})

Path = tuple[Any, ...]


def same(a: Any, b: Any) -> bool:
    """Equal value *and* type, and for numbers the same written form (``12.50`` is not ``12.5``)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return a == b or (a != a and b != b)
    if type(a) is Decimal:
        return str(a) == str(b)
    if type(a) is dt.datetime:
        return bool(a == b and a.tzinfo == b.tzinfo)
    return bool(a == b)


# --- from canonical values back to source values --------------------------------------------------


#: strftime directives whose output depends on the process locale (오후 or PM, 금요일 or Friday): a text
#: date in such a format is not rebuilt (its non-empty cells are carried raw), so what the bag holds never
#: depends on the locale the export ran under.
_LOCALE_WORDS = re.compile(r"%[pAaBbcxX]")


def _date_text(value: dt.date, fmt: str) -> str:
    if fmt == "%Y%m%d" and value.year >= 1000:  # the common legacy form, without strftime
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return value.strftime(fmt)


def to_source(value: Any, source_type: str | None, kind: str, fmt: str | None, encoding: str) -> Any:
    """The source value of type ``source_type`` a canonical ``value`` stands for (:data:`MISSING` if none)."""
    if value is None:
        return None
    if source_type == WON_TEXT:
        if type(value) is not Decimal or not value.is_finite() or value != value.to_integral_value():
            return MISSING
        text = f"{int(value):,}원"
        return text if _WON_WRITTEN.fullmatch(text) else MISSING
    target = _TYPES.get(source_type or "")
    if target is None:
        return MISSING
    if type(value) is target:
        return value
    try:
        if isinstance(value, dt.datetime):
            if target is dt.datetime:
                return value
            text = value.strftime(fmt) if fmt and not _LOCALE_WORDS.search(fmt) else MISSING
        elif isinstance(value, dt.date):
            if target is dt.datetime:
                return dt.datetime(value.year, value.month, value.day)
            text = _date_text(value, fmt) if fmt and not _LOCALE_WORDS.search(fmt) else MISSING
        elif isinstance(value, bool):
            text = "Y" if value else "N"
            if target is int:
                return int(value)
        else:
            text = str(value)
        if text is MISSING:
            return MISSING
        if target is str:
            return text
        if target is bytes:
            return codepage.encode(text, encoding)
        if target is int:
            number = int(text)
            return number if str(number) == text else MISSING
        if target is Decimal:
            return Decimal(text)
        if target is float:
            return float(text)
    except (ValueError, InvalidOperation, UnicodeEncodeError, OverflowError):
        return MISSING
    return MISSING


# --- FHIR leaves ------------------------------------------------------------------------------------


def _selector(element: Any) -> tuple[str, Any] | None:
    """How a list element is picked by content rather than position (url, system, attachment title)."""
    if isinstance(element, dict):
        for name in ("url", "system"):
            if isinstance(element.get(name), str):
                return (name, element[name])
        attachment = element.get("attachment")
        if isinstance(attachment, dict) and isinstance(attachment.get("title"), str):
            return ("attachment.title", attachment["title"])
    return None


def _matches(element: Any, selector: tuple[str, Any]) -> bool:
    if not isinstance(element, dict):
        return False
    name, wanted = selector
    if name == "attachment.title":
        attachment = element.get("attachment")
        return isinstance(attachment, dict) and attachment.get("title") == wanted
    return bool(element.get(name) == wanted)


def _flatten(value: Any, path: Path, out: dict[Path, Any]) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _flatten(item, (*path, name), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, (*path, index), out)
    else:
        out[path] = value


def _by_suffix(resources: Sequence[Mapping[str, Any]], record_id: str) -> dict[str, Mapping[str, Any]]:
    """A record's resources by id suffix ("" for the record's own id, "bp" for ``<id>-bp``)."""
    found: dict[str, Mapping[str, Any]] = {}
    for resource in resources:
        rid = str(resource.get("id", ""))
        found[rid[len(record_id) + 1:] if rid != record_id else ""] = resource
    return found


#: Written after the id suffix of a resource that says its value is absent (a vital sign recorded as no number:
#: ``dataAbsentReason``): such a resource is a shape of its own, its locations learnt apart from those of the
#: resources with a value (else a section whose first row was one would carry every later row's unit as
#: transformed: the unit is nowhere in a resource with no quantity).
ABSENT_MARK = "!absent"


def _absent_mark(resource: Mapping[str, Any]) -> str:
    if "dataAbsentReason" in resource:
        return ABSENT_MARK
    components = resource.get("component")
    if components and any("dataAbsentReason" in c for c in components):
        return ABSENT_MARK
    return ""


def shape_of(resources: Sequence[Mapping[str, Any]], record_id: str) -> str:
    """The resource types and id suffixes a record gave, e.g. ``"Observation:bp,Observation:weight"`` (a suffix
    followed by :data:`ABSENT_MARK` for a resource whose value is absent)."""
    return ",".join(sorted(f"{r.get('resourceType')}:{s}{_absent_mark(r)}"
                           for s, r in _by_suffix(resources, record_id).items()))


def _generalise(resource: Mapping[str, Any], path: Path) -> list[Any]:
    """``path`` with each list index replaced by a selector where the element has one."""
    steps: list[Any] = []
    node: Any = resource
    for step in path:
        if isinstance(step, int):
            selector = _selector(node[step])
            steps.append(list(selector) if selector else step)
        else:
            steps.append(step)
        node = node[step]
    return steps


def alternatives(location: Sequence[Any]) -> bool:
    """Whether ``location`` names alternatives (``[[suffix, step...], [suffix, step...]]``: the first that holds
    a leaf is the field's; see :func:`learn`) rather than one place (``[suffix, step...]``)."""
    return len(location) > 0 and type(location[0]) is list


def read_leaf(resources: Mapping[str, Mapping[str, Any]], location: Sequence[Any]) -> Any:
    """The leaf at ``location`` (``[suffix, step...]``), a text attachment's data decoded; None if absent.
    For alternatives, the leaf of the first one that holds one (None if none does)."""
    if alternatives(location):
        for one in location:
            leaf = read_leaf(resources, one)
            if leaf is not None:
                return leaf
        return None
    node: Any = resources.get(location[0])
    parent: Any = None
    for step in location[1:]:
        if node is None:
            return None
        parent = node
        if type(step) is str:
            node = node.get(step) if isinstance(node, dict) else None
        elif type(step) is int:
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:  # a selector [name, value]
            if not isinstance(node, list):
                return None
            selector = (step[0], step[1])
            node = next((e for e in node if _matches(e, selector)), None)
    if (location[-1] == "data" and isinstance(parent, dict) and isinstance(node, str)
            and str(parent.get("contentType", "")).startswith("text/")):
        try:
            return base64.b64decode(node).decode("utf-8")
        except ValueError:
            return None
    return node


def parse_leaf(leaf: Any, kind: str, table: Mapping[str, Any] | None) -> Any:
    """A FHIR leaf as the canonical value of a field of type ``kind`` (MISSING when it cannot be one)."""
    if leaf is None:
        return None
    if kind in _TABLED:
        if table is None or not isinstance(leaf, str | bool | int):
            return MISSING
        return table.get(_table_key(leaf), MISSING)
    if kind == "ref":
        return leaf.rpartition("/")[2] if isinstance(leaf, str) else MISSING
    if kind == "int":
        return leaf if type(leaf) is int else MISSING
    if kind == "decimal":
        if type(leaf) is int or type(leaf) is float:
            return Decimal(repr(leaf))
        return MISSING
    if not isinstance(leaf, str):
        return MISSING
    if kind == "date":
        try:
            return dt.date.fromisoformat(leaf) if len(leaf) == 10 else _partial_date(leaf)
        except ValueError:
            return MISSING
    if kind == "datetime":
        try:
            if len(leaf) == 10:
                return dt.date.fromisoformat(leaf)
            if len(leaf) in (4, 7):
                return _partial_date(leaf)
            moment = dt.datetime.fromisoformat(leaf)
        except ValueError:
            return MISSING
        if moment.utcoffset() == dt.timedelta(hours=9):
            return moment.replace(tzinfo=None)  # clinic time stays naive, as in the pipeline
        return moment
    return leaf


def _partial_date(leaf: str) -> Any:
    """A FHIR partial date ("2019", "2019-03") as the :class:`model.PartialDate` it was written from."""
    if len(leaf) == 4 and leaf.isascii() and leaf.isdigit():
        return model.PartialDate(int(leaf))
    if len(leaf) == 7 and leaf[4] == "-" and leaf[:4].isascii() and leaf[:4].isdigit() and leaf[5:].isdigit():
        return model.PartialDate(int(leaf[:4]), int(leaf[5:]), "month")
    return MISSING


def _table_key(leaf: Any) -> str:
    return f"{type(leaf).__name__}:{leaf}"


#: The table key of an absent leaf: in a shape where the builder writes one yes/no value as nothing (an
#: extension only when true), that value (see :func:`learn`).
ABSENT_LEAF = _table_key(None)


# --- the map written into the bag ---------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class ColumnPlan:
    """One mapped column: its field, how to turn a canonical value back into the source value."""

    column: str
    field: str | None  # None: the entity's key
    kind: str  # the field type ("key" for the key)
    fmt: str | None  # the date/date-time format the source writes (for text dates)
    reverse: dict[str, str] | None  # canonical code -> the one source code that maps to it
    ref: str | None  # the referenced entity (a reference: the parent's key)
    source_type: str | None = None  # learnt from the first non-empty value
    #: FHIR location per shape; None: cannot be learnt (non-empty cells carried); absent: not learnt yet.
    locations: dict[str, list[Any] | None] = dataclasses.field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # per shape: leaf -> canonical

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field, "kind": self.kind, "format": self.fmt, "reverse": self.reverse, "ref": self.ref,
            "source_type": self.source_type, "locations": self.locations, "tables": self.tables,
        }

    @classmethod
    def from_dict(cls, column: str, data: Mapping[str, Any]) -> ColumnPlan:
        return cls(column=column, field=data["field"], kind=data["kind"], fmt=data["format"],
                   reverse=data["reverse"], ref=data["ref"], source_type=data["source_type"],
                   locations=dict(data["locations"]), tables=dict(data["tables"]))


def _reverse(field: FieldSpec) -> dict[str, str] | None:
    """Canonical value -> the single source code mapping to it (codes several map to are left out)."""
    if not field.map:
        return None
    seen: dict[str, list[str]] = {}
    for code, value in field.map.items():
        seen.setdefault(_table_key(value) if not isinstance(value, str) else value, []).append(code)
    return {value: codes[0] for value, codes in seen.items() if len(codes) == 1}


def _format(field: FieldSpec, spec: ConnectorSpec) -> str | None:
    if field.type not in ("date", "datetime"):
        return None
    # a number's format (epoch, julian) is no text pattern: its cells are rebuilt as text dates would be, which
    # never gives the stored number back, so they are carried raw
    formats = [f for f in (field.format or ()) if f not in NUMBER_FORMATS] or list(
        spec.date_formats if field.type == "date" else spec.datetime_formats)
    return formats[0] if formats else None


def plan_columns(spec: ConnectorSpec, entity: EntitySpec, joined_refs: frozenset[str]) -> dict[str, ColumnPlan]:
    """Mapped column -> how it is rebuilt. Columns a field reads through a look-up, a split value, a list of
    references or a file path get no plan here: their cells are carried raw (the exporter calls them
    ``transformed`` when not empty)."""
    plans: dict[str, ColumnPlan] = {}
    if not entity.composite:
        key = entity.key.lower()
        plans[key] = ColumnPlan(key, None, "key", None, None, None)
    for name, field in entity.fields.items():
        column = field.column.lower() if field.column else None
        if column is None or column in plans or field.lookup is not None or field.expr:
            continue
        if field.type == "ref" and (field.ref is None or name in joined_refs):
            continue
        if field.type not in _PROBED and field.type != "blob":
            continue
        if field.type == "text" and column in plans:
            continue
        plans[column] = ColumnPlan(column, name, field.type, _format(field, spec), _reverse(field),
                                   field.ref if field.type == "ref" else None)
    return plans


# --- learning a location by probing the FHIR builder ---------------------------------------------------


def _probe_values(field: FieldSpec, kind: str, current: Any) -> list[Any]:
    """Values unlike ``current`` to set the field to (every canonical value for codes and yes/no)."""
    if kind == "bool":
        return [True, False]
    if kind in ("code", "status"):
        values = list(dict.fromkeys(v for v in (field.map or {}).values()))
        if field.default is not None and field.default not in values:
            values.append(field.default)
        return values
    if kind == "ref":
        return [model.record_id("probe", "probe", "\ue000")]
    if kind in ("text", "rrn"):
        return [(current or "") + "\ue000probe"]
    if kind == "int":
        return [(current or 0) + 7919]
    if kind == "decimal":
        return [(current or Decimal(0)) + Decimal("79.19")]
    if kind == "date":
        return [_moved(current or dt.date(2001, 2, 3), dt.timedelta(days=1))]
    if kind == "datetime":
        base = current if isinstance(current, dt.datetime) else dt.datetime(2001, 2, 3, 4, 5, 6)
        return [_moved(base, dt.timedelta(days=1, seconds=61))]
    return []


def _moved(value: Any, delta: dt.timedelta) -> Any:
    """``value`` moved by ``delta``, or back by it where that would pass the calendar's end (9999-12-31, the
    open end date Korean EMRs write as 99991231)."""
    try:
        return value + delta
    except OverflowError:
        return value - delta


def flat_resources(resources: Sequence[Mapping[str, Any]], record_id: str) -> dict[Path, Any]:
    """Every leaf of a record's resources by path (``(suffix, step...)``)."""
    flat: dict[Path, Any] = {}
    for suffix, resource in _by_suffix(resources, record_id).items():
        _flatten(resource, (suffix,), flat)
    return flat


def learn(
    plan: ColumnPlan, shape: str, record: model.Record, resources: Sequence[Mapping[str, Any]],
    build: Callable[[model.Record], list[dict[str, Any]]], field: FieldSpec | None,
    original: Mapping[Path, Any] | None = None, cell: Any = None,
) -> None:
    """Learn where ``plan``'s field lives in this shape's resources (once per shape). ``original``:
    :func:`flat_resources` of ``resources`` when the caller has it (the same for every column of a row);
    ``cell``: the row's own value of the column (a yes/no whose one value has no leaf: see below)."""
    if plan.kind == "blob" and isinstance(record, model.Attachment):
        plan.locations[shape] = ["", "content", 0, "attachment", "url"]  # the bytes are the bag member it names
        return
    if plan.kind in ("key", "blob") or field is None or plan.field is None:
        plan.locations[shape] = None
        return
    plan.locations[shape] = None  # unless found below
    current = getattr(record, plan.field, None)
    if original is None:
        original = flat_resources(resources, record.id)
    probes: list[tuple[Any, dict[str, Mapping[str, Any]]]] = []
    other_shapes = 0
    for value in _probe_values(field, plan.kind, current):
        try:
            probed = build(dataclasses.replace(record, **{plan.field: value}))
        except Exception:  # a value the builder refuses: this location cannot be learnt
            continue
        if shape_of(probed, record.id) != shape:
            other_shapes += 1
            continue
        probes.append((value, _by_suffix(probed, record.id)))
    if plan.kind in _TABLED and current is not None and other_shapes and all(v == current for v, _ in probes):
        # Every other value gives other resources (a drug order is a MedicationRequest, a procedure a
        # ServiceRequest): in this shape the field has this one value, so the shape itself says it.
        plan.locations[shape] = []
        plan.tables[shape] = {"": current}
        return
    if not probes:
        return
    changed: list[Path] = []
    for _, probed_by_suffix in probes:
        flat: dict[Path, Any] = {}
        for suffix, resource in probed_by_suffix.items():
            _flatten(resource, (suffix,), flat)
        for path, leaf in flat.items():
            if (path not in original or original[path] != leaf) and path not in changed:
                changed.append(path)
    if plan.kind in ("text", "rrn") and changed:
        # Prefer the leaf that holds the value as is (a name is also split into family/given).
        value, probed_by_suffix = probes[0]
        exact = [p for p in changed if read_leaf(probed_by_suffix, _location(probed_by_suffix, p)) == value]
        changed = exact or changed
    # The record's own resources, where they hold the field's own value at the same place as the probe: their
    # list elements there tell which selectors the value itself decides (see _location).
    alike = _by_suffix(resources, record.id) if plan.kind not in _TABLED and current is not None else None
    for path in changed:
        location = _location(probes[0][1], path, alike if alike is not None and original.get(path) is not None
                             and same(parse_leaf(original[path], plan.kind, None), current) else None)
        if plan.kind in _TABLED:
            table: dict[str, Any] = {}
            clashes: set[str] = set()
            for value, probed_by_suffix in probes:
                leaf = read_leaf(probed_by_suffix, location)
                if leaf is None:
                    continue
                key = _table_key(leaf)
                if key in table and table[key] != value:
                    clashes.add(key)
                table[key] = value
            for key in clashes:
                del table[key]
            if not table:
                continue
            # A yes/no written only for one value (an extension when true): no leaf is the other value, unless
            # the shape's first row is empty (then no leaf stays empty: an empty cell is rebuilt as such).
            nothing = [value for value, probed_by_suffix in probes if read_leaf(probed_by_suffix, location) is None]
            if plan.kind == "bool" and cell is not None and len(nothing) == 1 and nothing[0] not in table.values():
                table[ABSENT_LEAF] = nothing[0]
            plan.tables[shape] = table
        elif plan.kind == "text":
            number = _number_location(plan, shape, record, build, original, location)
            if number is not None:
                location = [location, number]
        plan.locations[shape] = location
        return


#: The text a text field is set to once more when learning its location: a plain number, which a builder may
#: write elsewhere than other text (a lab result's value: ``valueQuantity.value`` rather than ``valueString``).
NUMBER_PROBE = "7919.19"


def _number_location(
    plan: ColumnPlan, shape: str, record: model.Record, build: Callable[[model.Record], list[dict[str, Any]]],
    original: Mapping[Path, Any], location: list[Any],
) -> list[Any] | None:
    """Where the builder writes a text field's value when it is a plain number, if that is a JSON number at
    another place than ``location`` (learnt from the other probe) in the same shape; else None. Its leaf is
    read back as the number's JSON text (``repr``: 5.1 -> '5.1'), so a cell is given back from there only when
    it is that very text ('5.10', '+5', ' 5.1' are not)."""
    assert plan.field is not None
    if getattr(record, plan.field, None) == NUMBER_PROBE:
        return None
    try:
        probed = build(dataclasses.replace(record, **{plan.field: cast(Any, NUMBER_PROBE)}))
    except Exception:  # a value the builder refuses: no alternative
        return None
    if shape_of(probed, record.id) != shape:
        return None
    by_suffix = _by_suffix(probed, record.id)
    flat: dict[Path, Any] = {}
    for suffix, resource in by_suffix.items():
        _flatten(resource, (suffix,), flat)
    for path, leaf in flat.items():
        if (type(leaf) is int or type(leaf) is float) and repr(leaf) == NUMBER_PROBE and original.get(path) != leaf:
            number = _location(by_suffix, path)
            return number if number != location else None
    return None


def _location(
    by_suffix: Mapping[str, Mapping[str, Any]], path: Path, alike: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Any]:
    """``path`` in ``by_suffix`` (a probe's resources) as a location. ``alike``: the record's own resources, which
    hold the field's own value at the same ``path``. Where a list element on the way is selected by ``system``
    (url, title) and the two elements there name different ones, the builder chose that system by the value
    (a KCD-shaped diagnosis code under its edition's KCD system, any other code under the recorded-code one):
    the selector would find only values shaped like the probe's, so that step keeps the element's position."""
    steps = _generalise(by_suffix[path[0]], path[1:])
    if alike is None:
        return [path[0], *steps]
    node: Any = alike.get(path[0])
    for n, step in enumerate(path[1:]):
        if type(step) is int:
            if type(node) is not list or step >= len(node):
                break
            if type(steps[n]) is list and _selector(node[step]) != tuple(steps[n]):
                steps[n] = step
            node = node[step]
        else:
            if type(node) is not dict:
                break
            node = node.get(step)
    return [path[0], *steps]


# --- the rebuild (the same code at export time and for a reader of the bag) -----------------------------


def rebuild_cell(
    plan: ColumnPlan, shape: str, resources: Mapping[str, Mapping[str, Any]], key: str,
    parent_key: Callable[[str, str], str | None], attachment: Callable[[str], Any], encoding: str,
) -> Any:
    """The source value of ``plan``'s column rebuilt from a record's FHIR resources (by id suffix).

    ``key`` is the record's source key (text); ``parent_key(entity, record_id)`` gives a referenced
    record's source key; ``attachment(url)`` the bytes of the bag member a DocumentReference names.
    """
    if plan.kind == "key":
        return to_source(key, plan.source_type, "key", None, encoding)
    location = plan.locations.get(shape)
    if location is None:
        return None
    if not location:  # the shape itself gives the value (see learn)
        value = plan.tables[shape][""]
        if plan.reverse is None:
            return MISSING
        value = plan.reverse.get(value if isinstance(value, str) else _table_key(value), MISSING)
        return MISSING if value is MISSING else to_source(value, plan.source_type, plan.kind, plan.fmt, encoding)
    leaf = read_leaf(resources, location)
    if plan.kind == "text" and (type(leaf) is int or type(leaf) is float) and alternatives(location):
        leaf = repr(leaf)  # a plain number written as a JSON number (see _number_location): its JSON text
    if plan.kind == "blob":
        return attachment(leaf) if isinstance(leaf, str) else None
    table = plan.tables.get(shape)
    if leaf is None and table is not None and ABSENT_LEAF in table:
        value = table[ABSENT_LEAF]  # the yes/no value written as nothing (see learn)
    else:
        value = parse_leaf(leaf, plan.kind, table)
    if value is MISSING or value is None:
        return value
    if plan.kind == "ref":
        assert plan.ref is not None
        value = parent_key(plan.ref, value)
        if value is None:
            return MISSING
    elif plan.kind in ("code", "status"):
        if plan.reverse is None:
            return MISSING
        value = plan.reverse.get(value if isinstance(value, str) else _table_key(value), MISSING)
        if value is MISSING:
            return MISSING
    return to_source(value, plan.source_type, plan.kind, plan.fmt, encoding)


def source_type_name(value: Any, kind: str = "") -> str | None:
    """The source type a column's first non-empty ``value`` teaches (for a ``kind`` field)."""
    if kind == "decimal" and type(value) is str and _WON_WRITTEN.fullmatch(value):
        return WON_TEXT
    return _TYPE_NAMES.get(type(value))


def _getter(location: Sequence[Any]) -> Callable[[Mapping[str, Mapping[str, Any]]], Any]:
    """:func:`read_leaf` for one location, compiled once: the same result without its per-step tests."""
    suffix, steps = location[0], tuple(location[1:])
    if alternatives(location) or not steps or steps[-1] == "data" or any(
            type(s) is not str and type(s) is not list for s in steps):
        return lambda resources: read_leaf(resources, location)
    plain = tuple((s, None) if type(s) is str else (s[0], s[1]) for s in steps)

    def get(resources: Mapping[str, Mapping[str, Any]]) -> Any:
        node: Any = resources.get(suffix)
        for name, wanted in plain:
            if wanted is None:
                if type(node) is not dict:
                    return None
                node = node.get(name)
            else:  # a selector: the first element whose `name` is `wanted`
                if type(node) is not list:
                    return None
                for element in node:
                    if type(element) is dict and (element.get(name) == wanted if name != "attachment.title" else (
                            type(element.get("attachment")) is dict and element["attachment"].get("title") == wanted)):
                        node = element
                        break
                else:
                    return None
        return MISSING if type(node) is dict or type(node) is list else node  # never a source value
    return get


def _lean_location(location: Sequence[Any] | None, readable: frozenset[tuple[Any, ...]]) -> bool:
    """A location (or none) ``CellCheck.transformed_lean`` may read from a skeleton: nothing, the shape
    itself, or one of ``readable`` (list positions as numbers; no selector, no data)."""
    if location is None or len(location) == 0:
        return True
    if alternatives(location):
        return False
    return all(type(step) is str or type(step) is int for step in location[1:]) and tuple(location[1:]) in readable


def _plain(location: Sequence[Any]) -> bool:
    """A location of plain steps only (names, positions, selectors by a name): read by inlined steps."""
    return not alternatives(location) and all(type(s) is str or (type(s) is int and s >= 0)
               or (type(s) is list and len(s) == 2 and type(s[0]) is str and type(s[1]) is str)
               for s in location[1:])


def _step_key(step: Any) -> Any:
    return tuple(step) if type(step) is list else step


class _Leaves:
    """The statements reading every column's leaf of one shape, each path prefix read once per row (several
    columns under one ``extension`` or ``coding`` share the walk) and the elements several selectors pick
    from one list found in one pass. What each leaf variable holds is what :func:`read_leaf` gives (a dict
    or list where it gives one: never a source value, as :func:`_getter`'s MISSING)."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.children: dict[tuple[Any, ...], dict[Any, None]] = {}  # prefix -> its next steps, in order
        self.names: dict[tuple[Any, ...], str] = {}  # prefix -> variable
        self.data: dict[int, tuple[Any, ...]] = {}  # column index -> the parent prefix of its text data
        self.other: dict[int, Sequence[Any]] = {}  # column index -> a location read_leaf reads itself

    def add(self, i: int, location: Sequence[Any]) -> str:
        """The variable that will hold the leaf at ``location`` (column number ``i``)."""
        if not _plain(location):
            self.other[i] = location
            self.env[f"LOC{i}"] = location
            return f"x{i}"
        steps = [_step_key(s) for s in location[1:]]
        if steps and steps[-1] == "data":  # a text attachment: its data decoded, as read_leaf does
            prefix = self._path((location[0], *steps[:-1]))
            self.data[i] = prefix
            return f"x{i}"
        return self.names[self._path((location[0], *steps))]

    def _path(self, prefix: tuple[Any, ...]) -> tuple[Any, ...]:
        for end in range(1, len(prefix) + 1):
            head = prefix[:end]
            if head not in self.names:
                self.names[head] = f"n{len(self.names)}"
                if end > 1:
                    self.children.setdefault(prefix[:end - 1], {})[prefix[end - 1]] = None
        return prefix

    def lines(self) -> list[str]:
        out: list[str] = []
        for root in [p for p in self.names if len(p) == 1]:
            out.append(f"    {self.names[root]} = by_suffix.get({root[0]!r})")
            self._emit(root, out)
        for i, parent in self.data.items():
            node = self.names[parent]
            out += [f"    x{i} = {node}.get('data') if type({node}) is dict else None",
                    f"    if type(x{i}) is str and str({node}.get('contentType', '')).startswith('text/'):",
                    "        try:",
                    f"            x{i} = a2b_base64(x{i}).decode('utf-8')",  # base64.b64decode's own work
                    "        except ValueError:",
                    f"            x{i} = None"]
        for i in self.other:
            out.append(f"    x{i} = read_leaf(by_suffix, LOC{i})")
        return out

    def _emit(self, prefix: tuple[Any, ...], out: list[str]) -> None:
        node = self.names[prefix]
        steps = list(self.children.get(prefix, ()))
        selectors: dict[str, list[tuple[str, str]]] = {}  # selector name -> (wanted, variable)
        names = [(step, self.names[(*prefix, step)]) for step in steps if type(step) is str]
        if len(names) == 1:
            out.append(f"    {names[0][1]} = {node}.get({names[0][0]!r}) if type({node}) is dict else None")
        elif names:  # one test of the parent for all its named children
            out += [f"    if type({node}) is dict:", *[f"        {var} = {node}.get({step!r})" for step, var in names],
                    "    else:", f"        {' = '.join(var for _, var in names)} = None"]
        for step in steps:
            var = self.names[(*prefix, step)]
            if type(step) is str:
                continue
            elif type(step) is int:
                out.append(f"    {var} = {node}[{step}] if type({node}) is list and len({node}) > {step} else None")
            else:
                selectors.setdefault(step[0], []).append((step[1], var))
        for name, wanted in selectors.items():
            # The first element whose `name` is each wanted value, all in one pass over the list.
            out.append(f"    {' = '.join(v for _, v in wanted)} = None")
            if name == "attachment.title":
                pick = ["            e_ = e.get('attachment')",
                        "            e_ = e_.get('title') if type(e_) is dict else None"]
            else:
                pick = [f"            e_ = e.get({name!r})"]
            out += [f"    if type({node}) is list:", f"        for e in {node}:", "            if type(e) is not dict:",
                    "                continue", *pick]
            for n, (value, var) in enumerate(wanted):
                out += [f"            {'if' if n == 0 else 'elif'} e_ == {value!r}:",
                        f"                if {var} is None:", f"                    {var} = e"]
        for step in steps:
            self._emit((*prefix, step), out)


#: Entries of a column's memo of record ids or date digits before it is cleared (memory stays flat).
_MEMO_SIZE = 256


def _id_cache(
    record_id: Callable[[str, str, str], str], connector: str, table: str,
) -> tuple[dict[Any, str], Callable[[Any], str]]:
    """A referenced key's record id, remembered (consecutive rows mostly name the same parent: a few hundred
    entries, then cleared; the mapper's record-id cache answers the rest)."""
    ids: dict[Any, str] = {}

    def miss(value: Any) -> str:
        if len(ids) >= _MEMO_SIZE:
            ids.clear()
        rid = ids[value] = record_id(connector, table, str(value))
        return rid
    return ids, miss


def _date_digits_cache() -> tuple[dict[str, str | bool], Callable[[str], str | bool]]:
    """Per FHIR date: the 8 digits ``%Y%m%d`` rebuilds it to (a real date, 4-digit year, YYYY-MM-DD), else
    False (then the generic rebuild decides). Dates repeat: remembered, bounded."""
    memo: dict[str, str | bool] = {}

    def miss(leaf: str) -> str | bool:
        digits: str | bool = False
        if len(leaf) == 10 and leaf[4] == leaf[7] == "-":
            try:
                if dt.date.fromisoformat(leaf).year >= 1000:
                    digits = leaf[:4] + leaf[5:7] + leaf[8:]
            except ValueError:
                pass
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[leaf] = digits
        return digits
    return memo, miss


def _clinic_time_digits(leaf: str) -> str | bool:
    """The 14 digits ``%Y%m%d%H%M%S`` rebuilds a 25-character clinic-time leaf ``YYYY-MM-DDTHH:MM:SS+09:00``
    to (a real date and time, 4-digit year), else False (then the generic rebuild decides)."""
    if (leaf[19:] != "+09:00" or leaf[4] != "-" or leaf[7] != "-" or leaf[10] != "T" or leaf[13] != ":"
            or leaf[16] != ":" or leaf[0] == "0"):
        return False
    digits = leaf[:4] + leaf[5:7] + leaf[8:10] + leaf[11:13] + leaf[14:16] + leaf[17:19]
    if not (digits.isascii() and digits.isdigit()):
        return False
    try:
        dt.datetime.fromisoformat(leaf)
    except ValueError:
        return False
    return digits


def _compile_check(
    check: CellCheck, shape: str, entries: list[tuple[str, ColumnPlan | None, Any, str]],
) -> Callable[..., list[str] | None]:
    """One Python function per entity and shape doing :meth:`CellCheck.transformed_reference`'s work for
    exactly its columns: each column's fast path chosen here from its kind, source type and format (no
    dispatch per row), its location read by inlined dict/list steps, and the generic rebuild
    (:meth:`CellCheck._rebuild`, :func:`rebuild_cell`) exactly where the reference falls back to it.

    Returns None for a row holding the first value of a column whose source type is not learnt yet (the
    caller lets the reference learn it and compiles again). Only ``repr`` of connector-given names and
    learnt locations enters the source; plans and memos are bound as its globals.
    """
    rebuild = check._rebuild

    def differs(plan: ColumnPlan, by_suffix: Mapping[str, Mapping[str, Any]], record: model.Record,
                value: Any) -> bool:
        """The reference's last step: the generic rebuild is not the very value (exact by construction)."""
        return not same(rebuild(plan, shape, by_suffix, record, value), value)

    env: dict[str, Any] = {
        "MISSING": MISSING, "same": same, "RB": rebuild, "SHAPE": shape, "SHAPE_LEAF": "\x00shape", "D": differs,
        "Decimal": Decimal,
        "ENC": check.encoding, "ENCODE": codepage.encode, "a2b_base64": binascii.a2b_base64, "read_leaf": read_leaf,
    }
    guard: list[str] = []
    body: list[str] = []
    leaves = _Leaves(env)
    for i, (column, plan, get, kind) in enumerate(entries):
        c = repr(column)
        body.append(f"    value = row[{c}]")
        if plan is None:  # consumed by a field with no way back (a look-up, a split value): carried
            body.append(f"    if value is not None and {c} not in carried: out.append({c})")
            continue
        env[f"P{i}"] = plan
        st = plan.source_type
        if st is None:
            guard.append(f"row[{c}] is not None")
        tail = f"{c} not in carried and D(P{i}, by_suffix, record, value)"  # -> out.append
        if kind == "key":
            if st == "int":
                body.append(f"    if type(value) is not int and {tail}: out.append({c})")
            elif st == "str":
                body.append(f"    if (type(value) is not str or value != value.strip()) and {tail}: out.append({c})")
            else:
                body.append(f"    if {tail}: out.append({c})")
            continue
        if kind == "blob":
            body.append(f"    if {tail}: out.append({c})")
            continue
        if get is None:  # no location: a non-empty cell is carried
            body.append(f"    if value is not None and {c} not in carried: out.append({c})")
            continue
        # The leaf (read before the checks: the reference reads it in every branch but a few rare ones, and
        # reading is pure); a dict or list there compares as the reference's MISSING: unequal to any value.
        location = plan.locations[shape]
        assert location is not None  # a getter means a location
        x = "SHAPE_LEAF" if location == [] else leaves.add(i, location)  # the shape gives it: one "leaf"
        # A yes/no written as nothing for one value: no leaf is that value (rebuild_cell), not an empty cell.
        absent = kind in _TABLED and ABSENT_LEAF in plan.tables.get(shape, ())
        empty = tail if absent else f"{x} is not None and {tail}"
        body += ["    if value is None:", f"        if {empty}: out.append({c})"]
        if st is None:  # never reached: the guard sends a non-empty value to the reference
            body.append(f"    elif {tail}: out.append({c})")
        elif kind in ("text", "rrn") and st == "str":
            # A text's rebuild is its leaf as is (rebuild_cell: parse_leaf and to_source give a str leaf back,
            # an absent leaf gives None): two plain strings are the same cell exactly when equal, and an
            # absent leaf never gives a value back. (The reference rebuilds RRNs generically: the same answer.)
            body += [f"    elif type(value) is str and type({x}) is str:",
                     f"        if {x} != value and {c} not in carried: out.append({c})",
                     f"    elif {x} is None:",
                     f"        if {c} not in carried: out.append({c})",
                     f"    elif {tail}: out.append({c})"]
        elif kind == "text" and st == "bytes":
            body += ["    else:", "        ok = False", f"        if type(value) is bytes and type({x}) is str:",
                     "            try:", f"                ok = ENCODE({x}, ENC) == value",
                     "            except UnicodeEncodeError:", "                pass",
                     f"        if not ok and {tail}: out.append({c})"]
        elif kind == "ref" and st in ("int", "str"):
            assert plan.ref is not None
            env[f"RC{i}"], env[f"RI{i}"] = check._memos.setdefault(
                ("id", column), _id_cache(check.record_id, check.spec.name, check._parent_tables[column]))
            plain = "type(value) is int" if st == "int" else "type(value) is str and value == value.strip()"
            body += [f"    elif {plain} and type({x}) is str "
                     f"and {x}.rpartition('/')[2] == (RC{i}.get(value) or RI{i}(value)):",
                     "        pass",
                     f"    elif {tail}: out.append({c})"]
        elif kind == "decimal":
            if st == "decimal":
                test = (f"type(value) is Decimal and (type({x}) is int or type({x}) is float) "
                        f"and str(value) == repr({x})")
            elif st == "str":  # (a plain repr — digits, sign, point — is its own Decimal's str: no Decimal made)
                test = (f"type(value) is str and (type({x}) is int or type({x}) is float) "
                        f"and ((value == repr({x}) and 'e' not in value and 'n' not in value) "
                        f"or str(Decimal(repr({x}))) == value)")
            elif st in _TYPES:  # the number itself: int -> int, float -> float
                env[f"T{i}"] = _TYPES[st]
                test = f"type(value) is T{i} and type({x}) is T{i} and {x} == value"
            else:  # amounts written '12,300원' (WON_TEXT): the generic rebuild, as the reference does
                test = "False"
            body += [f"    elif {test}:", "        pass", f"    elif {tail}: out.append({c})"]
        elif kind == "date" and plan.fmt == "%Y%m%d" and st == "str":
            # Per leaf (dates repeat: a bounded memo): its 8 digits when it is a real date with a 4-digit
            # year in the form YYYY-MM-DD, else False; the cell is given back when it is those digits.
            env[f"DM{i}"], env[f"DD{i}"] = check._memos.setdefault(("date", column), _date_digits_cache())
            body += [f"    elif type(value) is str and type({x}) is str "
                     f"and value == (d if (d := DM{i}.get({x})) is not None else DD{i}({x})):",
                     "        pass",
                     f"    elif {tail}: out.append({c})"]
        elif kind == "datetime" and plan.fmt == "%Y%m%d%H%M%S" and st == "str":
            # Not in the reference's fast paths (there: the generic rebuild, leaf -> date-time -> strftime):
            # the clinic-time leaf "YYYY-MM-DDTHH:MM:SS+09:00" rebuilds to its own 14 digits when Python
            # parses it (a real date and time) and the year has four digits; anything else: the rebuild.
            env["clinic_time_digits"] = _clinic_time_digits
            body += [f"    elif type(value) is str and type({x}) is str and len({x}) == 25 "
                     f"and value == clinic_time_digits({x}):",
                     "        pass",
                     f"    elif {tail}: out.append({c})"]
        elif kind in _TABLED:
            # The rebuild of a code is its leaf's: worked out once per leaf (the reference's memo, keyed by
            # the leaf itself here: one dict per leaf type, as True == 1); not the same: not given back.
            env[f"MS{i}"], env[f"MB{i}"], env[f"MI{i}"] = {}, {}, {}
            body += [f"    elif type({x}) is str or type({x}) is bool or type({x}) is int:",
                     f"        memo = MS{i} if type({x}) is str else MB{i} if type({x}) is bool else MI{i}",
                     f"        rebuilt = memo.get({x}, memo)",
                     "        if rebuilt is memo:  # not worked out yet",
                     f"            rebuilt = memo[{x}] = RB(P{i}, SHAPE, by_suffix, record, value)",
                     "        if not (type(value) is str and type(rebuilt) is str and rebuilt == value) "
                     f"and not same(rebuilt, value) and {c} not in carried: out.append({c})",
                     f"    elif {x} is None:  # nothing there: rebuilt as empty (or the value written as nothing)",
                     f"        if {tail if absent else f'{c} not in carried'}: out.append({c})",
                     f"    elif {tail}: out.append({c})"]
        elif kind == "int" and st == "int":
            body += [f"    elif {x} == value and type({x}) is type(value):", "        pass",
                     f"    elif {tail}: out.append({c})"]
        else:  # no fast path in the reference either (date-times in other formats, other source types)
            body.append(f"    elif {tail}: out.append({c})")
    lines = ["def _check(row, by_suffix, record, carried):"]
    if guard:
        lines += [f"    if {' or '.join(guard)}:", "        return None"]
    lines += [*leaves.lines(), "    out = []", *body, "    return out"]
    name = f"<cells of {check.entity.name} {shape}>"
    exec(compile("\n".join(lines) + "\n", name, "exec"), env)
    function: Callable[..., list[str] | None] = env["_check"]
    return function


class CellCheck:
    """The export's per-row check for one entity: which mapped cells the bag cannot give back exactly.

    One place for the per-cell work (called once per exported row): rebuild each mapped column from the
    row's FHIR resources as a reader of the bag would (:func:`rebuild_cell`, with fast paths for the
    common kinds that give the very same result), and name the columns whose rebuild differs.
    """

    def __init__(
        self, spec: ConnectorSpec, entity: EntitySpec, consumed: frozenset[str], joined_refs: frozenset[str],
        build: Callable[[model.Record], list[dict[str, Any]]], record_id: Callable[[str, str, str], str],
        key_text: Callable[[Any], str],
    ) -> None:
        self.spec = spec
        self.entity = entity
        self.consumed = consumed
        self.plans = plan_columns(spec, entity, joined_refs)
        self.build = build
        self.record_id = record_id
        self.key_text = key_text
        self.encoding = spec.encoding
        self.columns: tuple[str, ...] | None = None
        self._parent_tables = {c: spec.entities[p.ref].record_table for c, p in self.plans.items() if p.ref}
        #: (shape, column) -> FHIR leaf -> the source value a code / yes-no / status rebuilds to.
        self._memo: dict[tuple[str, str], dict[str, Any]] = {}
        #: Per shape: (column, plan or None, getter or None, fast kind) for every mapped column.
        self._compiled: dict[str, list[tuple[str, ColumnPlan | None, Any, str]]] = {}
        #: The generated checks (:func:`_compile_check`): per resource type for a record giving one resource
        #: with its own id, per (type, id suffix) list for the others.
        self._fast_one: dict[Any, Callable[..., list[str] | None]] = {}
        self._fast_many: dict[tuple[tuple[Any, str], ...], Callable[..., list[str] | None]] = {}
        #: The generated checks' memos per column, shared by every shape (bounded: see _MEMO_SIZE).
        self._memos: dict[tuple[str, str], Any] = {}
        #: Rows answered by the reference (the only place anything is learnt): a worker process sees from it
        #: that a row taught its check something, and lets the parent check that row (pipeline/parallel.py).
        self.reference_rows = 0
        #: transformed_lean's verdicts: shape key -> (the check it was given for, every location readable).
        self._lean: dict[tuple[tuple[Any, str], ...], tuple[Any, bool]] = {}

    def to_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "key": self.entity.key.lower(),
                "columns": {c: p.to_dict() for c, p in sorted(self.plans.items())}}

    def learnt(self) -> dict[str, tuple[str | None, dict[str, Any], dict[str, Any]]]:
        """What this check has learnt so far, per column: (source type, locations, tables) by shape."""
        return {c: (p.source_type, dict(p.locations), dict(p.tables)) for c, p in self.plans.items()}

    def adopt(self, learnt: Mapping[str, tuple[str | None, Mapping[str, Any], Mapping[str, Any]]]) -> None:
        """Know exactly what ``learnt`` (another check's :meth:`learnt`) knows; what was made from this
        check's own learning (generated checks, memos) is made again from it."""
        for column, (source_type, locations, tables) in learnt.items():
            plan = self.plans[column]
            plan.source_type = source_type
            plan.locations = dict(locations)
            plan.tables = dict(tables)
        self._memo.clear()
        self._compiled.clear()
        self._fast_one.clear()
        self._fast_many.clear()
        self._memos.clear()

    def agrees(self, other: Mapping[str, tuple[str | None, Mapping[str, Any], Mapping[str, Any]]]) -> bool:
        """Whether everything ``other`` (another check's :meth:`learnt`) has learnt, this one has learnt
        the same (a worker's check decides its rows as this one does as long as this holds)."""
        for column, (source_type, locations, tables) in other.items():
            plan = self.plans[column]
            if source_type is not None and plan.source_type != source_type:
                return False
            for shape, location in locations.items():
                if shape not in plan.locations or plan.locations[shape] != location:
                    return False
                if plan.tables.get(shape) != tables.get(shape):
                    return False
        return True

    def _compile(
        self, shape: str, row: Mapping[str, Any], record: model.Record, resources: Sequence[Mapping[str, Any]],
    ) -> list[tuple[str, ColumnPlan | None, Any, str]]:
        if self.columns is None:
            self.columns = tuple(c for c in row if c in self.consumed)
        fields = self.entity.fields
        original: dict[Path, Any] | None = None  # flattened once for all the columns learnt on this row
        entries: list[tuple[str, ColumnPlan | None, Any, str]] = []
        for column in self.columns:
            plan = self.plans.get(column)
            if plan is None:
                entries.append((column, None, None, "none"))
                continue
            if shape not in plan.locations:
                if original is None:
                    original = flat_resources(resources, record.id)
                learn(plan, shape, record, resources, self.build, fields.get(plan.field) if plan.field else None,
                      original, row[column])
            location = plan.locations[shape]
            if location == []:  # the shape gives the value: one constant "leaf" (see the memo in transformed)
                get: Any = lambda resources: "\x00shape"  # noqa: E731
            else:
                get = _getter(location) if location is not None and plan.kind != "blob" else None
            entries.append((column, plan, get, plan.kind))
        self._compiled[shape] = entries
        return entries

    def transformed(
        self, row: Mapping[str, Any], record: model.Record, resources: Sequence[Mapping[str, Any]],
        carried: Sequence[str],
    ) -> list[str]:
        """Mapped columns of ``row`` (not already in ``carried``) whose value the bag would not give back.

        The generated check of the row's shape (:func:`_compile_check`); exactly
        :meth:`transformed_reference`'s answer, in the same order (tests/test_cells_compiled.py).
        """
        record_id = record.id
        if len(resources) == 1:
            only = resources[0]
            if only.get("id") == record_id:  # one resource: the common case, its shape is its type
                by_suffix: Mapping[str, Mapping[str, Any]] = {"": only}
                check = self._fast_one.get(only.get("resourceType"))
                if check is None:
                    return self._first(self._fast_one, only.get("resourceType"), f"{only.get('resourceType')}:",
                                       row, record, resources, carried)
                out = check(row, by_suffix, record, carried)
                return self._learnt(row, record, resources, carried) if out is None else out
        # Several resources: the shape from their types and id suffixes (shape_of's answer, remembered).
        by_suffix = {}
        start = len(record_id) + 1
        names = []
        for resource in resources:
            rid = str(resource.get("id", ""))
            suffix = rid[start:] if rid != record_id else ""
            by_suffix[suffix] = resource
            names.append((resource.get("resourceType"), suffix + _absent_mark(resource)))
        shape_key = tuple(names)
        check = self._fast_many.get(shape_key)
        if check is None:
            return self._first(self._fast_many, shape_key, shape_of(resources, record_id), row, record, resources,
                               carried)
        out = check(row, by_suffix, record, carried)
        return self._learnt(row, record, resources, carried) if out is None else out

    def transformed_lean(
        self, row: Mapping[str, Any], record: model.Record, shape_key: tuple[tuple[str, str], ...],
        by_suffix: Mapping[str, Mapping[str, Any]], readable: frozenset[tuple[Any, ...]], carried: Sequence[str],
    ) -> list[str] | None:
        """:meth:`transformed` for a record given as ``shape_key`` (its resources' types and id suffixes, in
        order) and skeletons of its resources by id suffix (``pipeline/fastlines.py``): exactly its answer,
        or None where it cannot be given without the whole resources (the shape's check is not generated
        yet, the row would teach the check something, or a column of the shape is read at a location
        outside ``readable``: each location's steps after the id suffix). The skeletons must hold every
        ``readable`` location the whole resources hold, with the same value (the generated check and the
        rebuild read nothing else: every read goes through the shape's learnt locations)."""
        check = self._fast_many.get(shape_key)
        if check is None:
            return None
        known = self._lean.get(shape_key)
        if known is None or known[0] is not check:
            shape = ",".join(sorted(f"{kind}:{suffix}" for kind, suffix in shape_key))
            entries = self._compiled.get(shape)
            fits = entries is not None and all(
                plan is None or plan.kind == "key" or _lean_location(plan.locations.get(shape), readable)
                for _, plan, _, _ in entries)
            known = self._lean[shape_key] = (check, fits)
        if not known[1]:
            return None
        return check(row, by_suffix, record, carried)

    def _first(
        self, cache: dict[Any, Callable[..., list[str] | None]], key: Any, shape: str, row: Mapping[str, Any],
        record: model.Record, resources: Sequence[Mapping[str, Any]], carried: Sequence[str],
    ) -> list[str]:
        """A shape's first row: the reference answers (learning the shape's locations and source types from
        it); its check is generated when the shape comes again (a shape seen once costs no compile)."""
        out = self.transformed_reference(row, record, resources, carried)

        def compile_then_check(
            row: Mapping[str, Any], by_suffix: Mapping[str, Mapping[str, Any]], record: model.Record,
            carried: Sequence[str],
        ) -> list[str] | None:
            check = cache[key] = _compile_check(self, shape, self._compiled[shape])
            return check(row, by_suffix, record, carried)

        cache[key] = compile_then_check
        return out

    def _learnt(
        self, row: Mapping[str, Any], record: model.Record, resources: Sequence[Mapping[str, Any]],
        carried: Sequence[str],
    ) -> list[str]:
        """A row with a value in a column whose source type is not known yet: the reference answers for it
        (learning the type from it); the checks generated without the type are made again. (A value of a
        type no source type names teaches nothing: such rows stay with the reference.)"""
        before = [p.source_type for p in self.plans.values()]
        out = self.transformed_reference(row, record, resources, carried)
        if before != [p.source_type for p in self.plans.values()]:
            self._fast_one.clear()
            self._fast_many.clear()
        return out

    def transformed_reference(
        self, row: Mapping[str, Any], record: model.Record, resources: Sequence[Mapping[str, Any]],
        carried: Sequence[str],
    ) -> list[str]:
        """The reference form of :meth:`transformed`: a loop over the mapped columns, per-column dispatch on
        the kind, the location read by a getter. Kept as the definition the generated checks are held to."""
        self.reference_rows += 1
        record_id = record.id
        if len(resources) == 1 and resources[0].get("id") == record_id:  # one resource: the common case
            only = resources[0]
            shape = f"{only.get('resourceType')}:"
            by_suffix: Mapping[str, Mapping[str, Any]] = {"": only}
        else:
            shape = shape_of(resources, record_id)
            by_suffix = _by_suffix(resources, record_id)
        entries = self._compiled.get(shape)
        if entries is None:
            entries = self._compile(shape, row, record, resources)
        spec_name = self.spec.name
        plan_tables = self._parent_tables
        out: list[str] = []
        for column, plan, get, kind in entries:
            value = row[column]
            if plan is None:
                if value is not None and column not in carried:
                    out.append(column)
                continue
            if plan.source_type is None and value is not None:
                plan.source_type = source_type_name(value, kind)
            # Fast paths: each gives exactly what rebuild_cell would (and falls through when unsure).
            if value is None and get is not None and kind != "key":
                if get(by_suffix) is None and ABSENT_LEAF not in plan.tables.get(shape, ()):
                    continue  # nothing there: rebuilt as empty
            elif kind == "text" and get is not None and plan.source_type == "str":
                if get(by_suffix) == value and type(value) is str:
                    continue
            elif kind == "text" and get is not None and plan.source_type == "bytes" and type(value) is bytes:
                leaf = get(by_suffix)
                if type(leaf) is str:
                    try:
                        if codepage.encode(leaf, self.encoding) == value:
                            continue
                    except UnicodeEncodeError:
                        pass
            elif kind == "key":
                if (type(value) is int and plan.source_type == "int") or (
                        type(value) is str and plan.source_type == "str" and value == value.strip()):
                    continue
            elif kind == "ref" and get is not None:
                if value is None:
                    if get(by_suffix) is None:
                        continue
                elif ((type(value) is int and plan.source_type == "int")
                      or (type(value) is str and plan.source_type == "str" and value == value.strip())):
                    leaf = get(by_suffix)
                    if type(leaf) is str and leaf.rpartition("/")[2] == self.record_id(
                            spec_name, plan_tables[column], str(value)):
                        continue
            elif kind == "decimal" and get is not None and value is not None:
                leaf = get(by_suffix)
                if type(value) is Decimal:
                    if (type(leaf) is int or type(leaf) is float) and str(value) == repr(leaf) \
                            and plan.source_type == "decimal":
                        continue
                elif type(value) is str:
                    if (type(leaf) is int or type(leaf) is float) and plan.source_type == "str" \
                            and str(Decimal(repr(leaf))) == value:
                        continue
                elif type(value) is type(leaf) and leaf == value and plan.source_type == source_type_name(value):
                    continue  # int -> int, float -> float: the number itself
            elif kind == "date" and get is not None and type(value) is str and plan.fmt == "%Y%m%d" \
                    and plan.source_type == "str":
                leaf = get(by_suffix)
                if type(leaf) is str and len(leaf) == 10 and leaf[4] == leaf[7] == "-":
                    try:
                        day = dt.date.fromisoformat(leaf)
                    except ValueError:
                        day = None
                    if day is not None and day.year >= 1000 and value == leaf[:4] + leaf[5:7] + leaf[8:]:
                        continue
            elif kind in _TABLED and get is not None and plan.source_type is not None:
                leaf = get(by_suffix)
                if leaf is None:
                    if value is None and ABSENT_LEAF not in plan.tables.get(shape, ()):
                        continue
                elif type(leaf) is str or type(leaf) is bool or type(leaf) is int:
                    memo = self._memo.setdefault((shape, column), {})
                    leaf_key = _table_key(leaf)
                    rebuilt = memo.get(leaf_key, memo)
                    if rebuilt is memo:  # not worked out yet
                        rebuilt = memo[leaf_key] = self._rebuild(plan, shape, by_suffix, record, value)
                    if same(rebuilt, value):
                        continue
            elif kind == "int" and get is not None and plan.source_type == "int":
                leaf = get(by_suffix)
                if leaf == value and type(leaf) is type(value):
                    continue
            elif get is None and kind != "blob" and kind != "key":
                if value is None:
                    continue
                if column not in carried:
                    out.append(column)
                continue
            if column in carried:
                continue
            if not same(self._rebuild(plan, shape, by_suffix, record, value), value):
                out.append(column)
        return out

    def _rebuild(
        self, plan: ColumnPlan, shape: str, by_suffix: Mapping[str, Mapping[str, Any]], record: model.Record,
        value: Any,
    ) -> Any:
        spec = self.spec

        def parent_key(entity: str, rid: str) -> str | None:
            if value is None:
                return None
            text = self.key_text(value)
            return text if self.record_id(spec.name, spec.entities[entity].record_table, text) == rid else None

        def attachment(url: str) -> Any:
            blob = getattr(getattr(record, "content", None), "blob", None)
            return blob if blob is not None else MISSING

        return rebuild_cell(plan, shape, by_suffix, record.provenance.key, parent_key, attachment, self.encoding)
